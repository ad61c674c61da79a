# A staged rollout to 200 simulated devices (each a modelgate-device
# process with its own state directory and labels) through a real
# docker-registry and a real mosquitto broker on loopback, driven by
# `modelgate rollout`: the fleet converges on a new release through stages
# 5%, 25%, 100%, each stage going out only once the one before is healthy,
# and a device that was offline catches up when it returns; a candidate
# whose health check fails on the devices labelled hw=old halts the
# rollout at its canary stage, the failing devices roll back by
# themselves, `rollout status` groups the cause by label, `rollout
# advance` refuses to go on and the whole fleet ends on the old release; a
# plan signed by another key is refused by the device.
. "$MG_SRCDIR/tests/cli/lib.sh"
. "$MG_SRCDIR/tests/cli/lib_registry.sh"
. "$MG_SRCDIR/tests/cli/lib_deploy.sh"
. "$MG_SRCDIR/tests/cli/lib_fleet.sh"
. "$MG_SRCDIR/tests/cli/lib_device.sh"

N=200
DEVICE=$(dirname "$MODELGATE")/modelgate-device
[ -x "$DEVICE" ] || fail "no modelgate-device next to '$MODELGATE' (make builds it)"
fleet_start
mqtt_start
for v in 1 2; do
	f=$FX/model.onnx
	[ "$v" = 1 ] || f=$FX/model_v2.onnx
	model_version "$v" "$f"
	must mg attest "$R:v$v" --report "r$v.json" --sign fleet-key
done
# releases 1, 2 and 3 (3: model v1 again, a new release counter)
for r in 1 2 3; do
	release "rel$r" $(( r == 2 ? 2 : 1 )) "$r" fleet-key
	eval "REL$r=\$(cat \"\$OUT\")"
done

# The application's own health check: on the old hardware it cannot keep
# up with release 3.
cat >health.sh <<'SH'
if [ "$HW" = old ] && [ "$MODELGATE_DEVICE_RELEASE" -ge 3 ]; then
	echo "camera pipeline dropped 12 of 30 frames" >&2
	exit 1
fi
SH
# every 4th device is hw=old
mkdir -p devices
for i in $(seq -w 1 $N); do
	hw=new
	[ $((10#$i % 4)) = 0 ] && hw=old
	cat >"devices/$i.json" <<JSON
{"fleet": "kws", "tag": "$R:fleet-kws", "public_key": "$TEST_TMP/fleet-key.pub",
 "state_dir": "$TEST_TMP/devices/$i", "device_id": "dev-$i", "labels": {"hw": "$hw", "site": "lab"},
 "health_cmd": "HW=$hw sh $TEST_TMP/health.sh", "mqtt": {"host": "127.0.0.1", "port": $MQ_PORT}}
JSON
done
# fleet_sync [SKIP]: every device syncs once (but device SKIP, offline);
# a device's exit code is 0 or 1 (a refusal), never 2 or 3
fleet_sync() {
	seq -w 1 $N | grep -vx "${1:-none}" | xargs -P 4 -I{} sh -c \
		'"$0" --config devices/{}.json sync --once >devices/{}.out 2>devices/{}.err; echo "{} $?"' \
		"$DEVICE" >sync.log
	! grep -v ' [01]$' sync.log || fail "a device failed: $(grep -v ' [01]$' sync.log | head -3;
		i=$(grep -v ' [01]$' sync.log | head -1 | cut -d' ' -f1); cat "devices/$i.err")"
}
# on DIGEST: how many devices run it (their status.json says so)
on() { cat devices/*/status.json | grep -c "\"digest\": \"$1\"" || true; }
ro() { mg rollout "$@" --fleet kws; }
RO="--sign fleet-key --broker 127.0.0.1:$MQ_PORT"
status_json() { must mg rollout status "$R" --fleet kws --broker "127.0.0.1:$MQ_PORT" --json; cp "$OUT" st.json; }

# the fleet on release 1, from a tag pointing at the release itself
must mg tag "$R:rel1" fleet-kws
fleet_sync
[ "$(on "$REL1")" = $N ] || fail "$(on "$REL1") of $N devices run release 1"

t_converges_stage_by_stage() {
	must mg rollout start "$R:rel2" --fleet kws --sign fleet-key --stages 5%,25%,100% \
		--max-failures 2% --min-healthy-time 0s
	expect_stdout_contains "stage 1 of 3 (5%) gets $REL2"
	# no device has it yet: the first stage is not healthy, nothing moves
	must mg rollout advance "$R" --fleet kws $RO
	expect_stdout_contains ": wait: stage 1 (5%): 0 of"
	local n1 n2 off=none
	for stage in 1 2 3; do
		# one device of the last stage (its cohort comes from the plan's
		# random salt, so: one still on release 1) is offline for it
		if [ $stage = 3 ]; then
			off=$(grep -l "\"digest\": \"$REL1\"" devices/*/status.json | head -1 | xargs dirname | xargs basename)
			[ -n "$off" ] || fail "no device left on release 1 for the last stage"
		fi
		fleet_sync "$off"
		status_json
		json_ok "j['stage'] == $stage and j['failed'] == 0" st.json
		n1=$(json_get "sum(s['devices'] for s in j['stages'][:$stage])" st.json)
		n2=$(json_get "j['healthy']" st.json)
		[ "$(on "$REL2")" = "$n2" ] || fail "stage $stage: $(on "$REL2") devices run release 2, status says $n2"
		if [ $stage != 3 ]; then
			[ "$n1" = "$n2" ] || fail "stage $stage: $n2 healthy of $n1 targeted"
			# the devices of later stages still run release 1
			[ "$(on "$REL1")" = $((N - n2)) ] || fail "stage $stage: $(on "$REL1") devices on release 1"
			must mg rollout advance "$R" --fleet kws $RO
			expect_stdout_contains ": advance: stage $stage ("
		fi
	done
	# the last stage waits for the offline device, and names it
	[ "$(on "$REL2")" = $((N - 1)) ] || fail "$(on "$REL2") devices on release 2, not $((N - 1))"
	must mg rollout advance "$R" --fleet kws $RO
	expect_stdout_contains "waiting for dev-$off"
	json_ok "j['stages'][2]['not_seen'] + j['stages'][1]['not_seen'] + j['stages'][0]['not_seen'] == 1" st.json
	# back online, it catches up; then the rollout is done
	must "$DEVICE" --config "devices/$off.json" sync --once
	expect_stdout_contains "switched to $REL2"
	must mg rollout advance "$R" --fleet kws $RO
	expect_stdout_contains ": finish: the last stage (100%) is healthy: $N devices"
	[ "$(on "$REL2")" = $N ] || fail "$(on "$REL2") of $N devices run release 2"
	must mg rollout advance "$R" --fleet kws $RO
	expect_stdout_contains "stopped: the rollout is done"
}

t_failing_canaries_halt_and_the_fleet_goes_back() {
	must mg rollout start "$R:rel3" --fleet kws --sign fleet-key --stages 20%,50%,100% \
		--max-failures 2% --min-healthy-time 0s
	fleet_sync
	status_json
	local canaries old
	canaries=$(json_get "j['stages'][0]['devices']" st.json)
	old=$(json_get "[l['devices'] for l in j['failures_by_label'] if l['label'] == 'hw=old'][0]" st.json)
	# every hw=old canary failed and went back by itself; the others run release 3
	json_ok "j['failed'] == $old > 0 and j['healthy'] == $canaries - $old" st.json
	json_ok "[l['failed'] for l in j['failures_by_label'] if l['label'] == 'hw=new'] == [0]" st.json
	json_ok "len(j['failures_by_reason']) == 1 and 'camera pipeline dropped # of # frames' in j['failures_by_reason'][0]['reason']" st.json
	[ "$(on "$REL3")" = $((canaries - old)) ] || fail "$(on "$REL3") devices run release 3"
	must mg rollout status "$R" --fleet kws --broker "127.0.0.1:$MQ_PORT"
	expect_stdout_contains "hw=old"
	expect_stdout_contains "camera pipeline dropped # of # frames"
	# advance halts it (exit 1) ...
	expect_exit 1 mg rollout advance "$R" --fleet kws $RO
	expect_stdout_contains ": halt: $old of $canaries devices failed at stage 1"
	# ... and refuses to go on
	expect_exit 1 mg rollout advance "$R" --fleet kws $RO
	expect_stderr_contains "refusing to advance rollout"
	# the canaries that took release 3 go back to release 2
	fleet_sync
	[ "$(on "$REL2")" = $N ] || fail "$(on "$REL2") of $N devices run release 2 after the halt"
	# all but the failed are counted back on it, none still updating
	status_json
	json_ok "sum(s['back'] for s in j['stages']) == $N - $old and sum(s['updating'] for s in j['stages']) == 0 and j['failed'] == $old" st.json
	must mg rollout status "$R" --fleet kws --broker "127.0.0.1:$MQ_PORT" --format markdown
	expect_stdout_contains "## modelgate rollout"
	expect_stdout_contains "| hw=old | $old | $old |"
}

t_a_plan_signed_by_another_key_is_refused() {
	must mg rollout start "$R:rel3" --fleet kws --sign other-key --stages 100% --tag fleet-other
	cp devices/001.json other.json
	sed -i "s/fleet-kws/fleet-other/; s#devices/001#other#" other.json
	mkdir -p other
	expect_exit 1 "$DEVICE" --config other.json sync --once
	expect_stderr_contains "rollout plan"
	expect_stderr_contains "is refused"
	[ ! -e other/current ] || fail "the device installed something"
}

# (in order: the second starts from the fleet the first left on release 2)
check converges-stage-by-stage t_converges_stage_by_stage
check failing-canaries-halt-and-the-fleet-goes-back t_failing_canaries_halt_and_the_fleet_goes_back
check a-plan-signed-by-another-key-is-refused t_a_plan_signed_by_another_key_is_refused
finish
