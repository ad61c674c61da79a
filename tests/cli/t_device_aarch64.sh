# The aarch64 modelgate-device (make agents: build/aarch64/modelgate-device,
# linked against the arm64 sysroot that make deps lays in
# .deps/sysroot-arm64) under qemu-aarch64 -L that sysroot, against a real
# docker-registry on loopback and the same fleet as t_device_sync
# (lib_device.sh): it converges on the fleet tag's signed, gated release
# (the health check runs, the release is proven), switches to the next one
# keeping the previous slot, refuses a bundle signed by another key with
# nothing on the device changed, publishes its status to a real mosquitto,
# and says so of a bad config (exit 2).
# (The smoke check is not run here: it starts the agent, and this machine
# runs no aarch64 program that an emulated one executes.)
. "$MG_SRCDIR/tests/cli/lib.sh"
. "$MG_SRCDIR/tests/cli/lib_registry.sh"
. "$MG_SRCDIR/tests/cli/lib_deploy.sh"
. "$MG_SRCDIR/tests/cli/lib_fleet.sh"
. "$MG_SRCDIR/tests/cli/lib_device.sh"

SYSROOT=$MG_SRCDIR/.deps/sysroot-arm64
BIN=$(dirname "$MODELGATE")/aarch64/modelgate-device
need qemu-aarch64 qemu-user
need readelf binutils
[ -x "$BIN" ] || fail "no aarch64/modelgate-device next to '$MODELGATE' (make agents builds it)"
[ -f "$SYSROOT/lib/ld-linux-aarch64.so.1" ] || fail "no arm64 sysroot in '$SYSROOT' (make deps lays it)"
readelf -h "$BIN" | grep -q 'Machine: *AArch64' || fail "'$BIN' is not an aarch64 program"
DEVICE=$TEST_TMP/modelgate-device-a64
printf '#!/bin/sh\nexec qemu-aarch64 -L "%s" "%s" "$@"\n' "$SYSROOT" "$BIN" >"$DEVICE"
chmod +x "$DEVICE"

fleet_start
model_version 1 "$FX/model.onnx"
model_version 2 "$FX/model_v2.onnx"
must mg attest "$R:v1" --report r1.json --sign fleet-key
must mg attest "$R:v2" --report r2.json --sign fleet-key
release rel1 1 1 fleet-key
release rel2 2 2 fleet-key
release badsig 2 3 other-key
config dev

t_converges_emulated() {
	publish rel1
	dsync 0 dev
	[ "$(current dev)" = slots/a ] || fail "current is '$(current dev)', not slots/a"
	cmp "$TEST_TMP/dev/current/files/model.onnx" "$FX/model.onnx" || fail "slot a does not hold v1"
	status_ok "j['release'] == 1 and j['health'] == 'pass' and j['slot'] == 'a' and j['artifact'] == '$D1'" dev
	json_ok "j['proven'] and j['release'] == 1" "$TEST_TMP/dev/slots/a.json"
	switches_to_rel2 dev
	dsync 0 dev
	expect_stdout_contains "up to date:"
}

t_refuses_another_key_emulated() {
	local snap
	snap=$(snapshot dev)
	publish badsig
	dsync 1 dev
	expect_stderr_contains "does not verify: signature: manifest.json was signed by key"
	[ "$(snapshot dev)" = "$snap" ] || fail "the device changed after refusing badsig"
	status_ok "j['release'] == 2 and j['rejected'] is not None" dev
}

# libmosquitto for arm64: the status reaches a real broker as its retained
# message, and a wrong password is the broker's refusal (exit 3)
t_status_over_mqtt_emulated() {
	broker_start
	publish rel2
	config mq ", \"mqtt\": {\"host\": \"127.0.0.1\", \"port\": $MQ_PORT, \"username\": \"devices\", \"password_env\": \"MQ_PASS\"}"
	MQ_PASS=$MQ_SECRET dsync 0 mq
	expect_retained_status mq
	json_ok "j['release'] == 2 and j['health'] == 'pass' and j['device'] == 'dev-mq'" "$TEST_TMP/mq-msg.json"
	MQ_PASS=wrong dsync 3 mq
	expect_stderr_contains "refused the connection: Connection Refused: not authorised."
}

t_bad_config_emulated() {
	config bad ', "poll_intervall": 5'
	dsync 2 bad
	expect_stderr_contains "bad.json': unknown key 'poll_intervall'"
	expect_exit 2 "$DEVICE" --config nothere.json sync --once
	expect_stderr_contains "cannot read 'nothere.json'"
}

check converges-emulated t_converges_emulated
check refuses-another-key-emulated t_refuses_another_key_emulated
check status-over-mqtt-emulated t_status_over_mqtt_emulated
check bad-config-emulated t_bad_config_emulated
finish
