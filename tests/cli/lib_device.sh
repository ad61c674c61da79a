# Helpers for the modelgate-device tests (t_device_*.sh), sourced after
# lib.sh, lib_registry.sh, lib_deploy.sh and lib_fleet.sh, so that the x86_64 updater and
# the aarch64 one under qemu meet the same fleet built the same way. DEVICE
# is the updater to run (a program, or a script that runs it).
#
#   fleet_start                  fixtures, a registry on loopback with
#                                R=$REG/acme/kws, keys fleet-key and other-key,
#                                health.sh (fails while STATE/unhealthy exists)
#   model_version V FILE...      FILE... pushed as $R:vV, DV its digest, rV.json
#                                a passing gate report for it (not attested)
#   release NAME V RELEASE KEY [PACKAGE OPTIONS]
#                                vV's bundle, release counter RELEASE, signed
#                                by KEY, pushed as $R:NAME
#   publish NAME                 the fleet tag fleet-prod moves to $R:NAME
#   config DIR [EXTRA JSON]      DIR.json: a device with its state in DIR
#   dsync CODE DIR               one sync of DIR.json exits CODE
#   status_ok EXPR DIR           DIR's status.json satisfies EXPR (Python, j)
#   current DIR                  DIR's current link (slots/a or slots/b)
#   snapshot DIR                 every file of DIR but status.json and lock,
#                                with its bytes
#   switches_to_rel2 DIR         (DIR on v1 in slot a) publishing rel2 (v2,
#                                release 2) moves DIR to slot b, slot a kept,
#                                on_switch run once per switch
#   broker_start                 mosquitto on loopback at MQ_PORT (mqtt_start),
#                                user devices with password MQ_SECRET
#   expect_retained_status DIR   the broker's retained status of device
#                                dev-DIR is DIR's status.json (also in
#                                $TEST_TMP/mq-msg.json)

fleet_start() {
	fixtures
	registry_start
	export MODELGATE_INSECURE_REGISTRIES=$REG
	R=$REG/acme/kws
	must mg keygen -o fleet-key
	must mg keygen -o other-key
	cat >health.sh <<'SH'
[ ! -e "$MODELGATE_DEVICE_DIR/../../unhealthy" ] || { echo "self-test: wrong answers" >&2; exit 1; }
test -f "$MODELGATE_DEVICE_DIR/manifest.json"
SH
}

model_version() {
	local v=$1
	shift
	must mg push "$R:v$v" "$@"
	eval "D$v=\$(cat \"\$OUT\")"
	eval make_report "\$D$v" pass "r$v.json"
}

release() {
	must mg package "$R:v$2" --report "r$2.json" --sign "$4" --release "$3" -o "$1.tar.zst" --no-git "${@:5}"
	must mg push "$R:$1" "$1.tar.zst" --artifact-type bundle --no-git
}

publish() { must mg tag "$R:$1" fleet-prod; }

config() {
	cat >"$1.json" <<JSON
{"fleet": "kws-prod", "tag": "$R:fleet-prod", "public_key": "$TEST_TMP/fleet-key.pub",
 "state_dir": "$TEST_TMP/$1", "device_id": "dev-$1", "labels": {"hw": "rpi4"},
 "health_cmd": "sh $TEST_TMP/health.sh", "on_switch": "echo switched >>$TEST_TMP/$1.switches"${2:-}}
JSON
}

dsync() { expect_exit "$1" "$DEVICE" --config "$2.json" sync --once; }
status_ok() { json_ok "$1" "$TEST_TMP/$2/status.json"; }
current() { readlink "$TEST_TMP/$1/current"; }
snapshot() {
	(cd "$TEST_TMP/$1" && find . -path ./status.json -prune -o -path ./lock -prune -o -print |
		LC_ALL=C sort | while read -r f; do
			if [ -L "$f" ]; then echo "$f -> $(readlink "$f")"
			elif [ -f "$f" ]; then echo "$f $(sha256sum <"$f")"
			else echo "$f/"; fi
		done)
}

switches_to_rel2() {
	publish rel2
	dsync 0 "$1"
	expect_stdout_contains "switched to"
	[ "$(current "$1")" = slots/b ] || fail "current is '$(current "$1")', not slots/b"
	cmp "$TEST_TMP/$1/current/files/model_v2.onnx" "$FX/model_v2.onnx" || fail "slot b does not hold v2"
	[ -f "$TEST_TMP/$1/slots/a/files/model.onnx" ] || fail "the previous release was not kept"
	status_ok "j['release'] == 2 and j['slot'] == 'b' and j['last_error'] is None" "$1"
	[ "$(grep -c switched "$TEST_TMP/$1.switches")" = 2 ] || fail "on_switch did not run once per switch"
}

broker_start() {
	MQ_SECRET=s3cret-$$
	mqtt_start devices "$MQ_SECRET"
}

expect_retained_status() {
	mosquitto_sub -h 127.0.0.1 -p "$MQ_PORT" -u devices -P "$MQ_SECRET" -t 'modelgate/kws-prod/+/status' -v -C 1 -W 5 \
		>"$TEST_TMP/mq.msg" || fail "no retained status: $(cat "$TEST_TMP/mq.log")"
	[ "$(head -1 "$TEST_TMP/mq.msg" | cut -d' ' -f1)" = "modelgate/kws-prod/dev-$1/status" ] ||
		fail "topic: $(cat "$TEST_TMP/mq.msg")"
	sed '1s/^[^ ]* //' "$TEST_TMP/mq.msg" >"$TEST_TMP/mq-msg.json"
	json_ok "j == json.load(open('$TEST_TMP/$1/status.json'))" "$TEST_TMP/mq-msg.json"
}
