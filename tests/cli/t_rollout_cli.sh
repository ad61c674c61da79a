# modelgate rollout without devices, against a real docker-registry and a
# real mosquitto on loopback: what it refuses (exit 2, naming the input:
# a missing --fleet or --sign, an unknown action with the nearest one, bad
# stages, durations and percents, a reference that is no fleet release, a
# second rollout while one runs, status without a broker), what an
# unreachable broker is (exit 3), a fleet without a rollout (exit 0, said),
# a plan checked with another key (refused), and abort: the plan says
# aborted, advance refuses to go on (exit 1), and a new rollout may start.
. "$MG_SRCDIR/tests/cli/lib.sh"
. "$MG_SRCDIR/tests/cli/lib_registry.sh"
. "$MG_SRCDIR/tests/cli/lib_deploy.sh"
. "$MG_SRCDIR/tests/cli/lib_fleet.sh"
. "$MG_SRCDIR/tests/cli/lib_device.sh"

fleet_start
mqtt_start
B="--broker 127.0.0.1:$MQ_PORT"
model_version 1 "$FX/model.onnx"
for r in 1 2; do
	release "rel$r" 1 "$r" fleet-key
	eval "REL$r=\$(cat \"\$OUT\")"
done
must mg tag "$R:rel1" fleet-kws

t_bad_usage_is_exit_2_naming_it() {
	expect_exit 2 mg rollout start "$R:rel2" --sign fleet-key
	expect_stderr_contains "--fleet NAME is required"
	expect_exit 2 mg rollout start "$R:rel2" --fleet kws
	expect_stderr_contains "--sign KEY (the fleet key) is required"
	expect_exit 2 mg rollout advnace "$R" --fleet kws
	expect_stderr_contains "did you mean 'advance'?"
	expect_exit 2 mg rollout start "$R:rel2" --fleet kws --sign fleet-key --stages 50%,10%,100%
	expect_stderr_contains "larger share of the fleet"
	expect_exit 2 mg rollout start "$R:rel2" --fleet kws --sign fleet-key --stages 5%,50%
	expect_stderr_contains "the last stage is the whole fleet, 100%"
	expect_exit 2 mg rollout start "$R:rel2" --fleet kws --sign fleet-key --min-healthy-time 10min
	expect_stderr_contains "'10min' is not a duration"
	expect_exit 2 mg rollout start "$R:rel2" --fleet kws --sign fleet-key --max-failures 120%
	expect_stderr_contains "--max-failures '120%' is not a percent"
	expect_exit 2 mg rollout start "$R:v1" --fleet kws --sign fleet-key
	expect_stderr_contains "is not a fleet release"
	expect_exit 2 mg rollout start "$R:rel2" --fleet 'k w s' --sign fleet-key
	expect_stderr_contains "is not a name"
	expect_exit 2 mg rollout status "$R" --fleet kws --format pdf
	expect_stderr_contains "--format 'pdf' is not text, markdown or html"
}

t_a_fleet_without_a_rollout_is_said() {
	must mg rollout advance "$R" --fleet kws --sign fleet-key $B
	expect_stdout_contains "fleet kws: no rollout"
	expect_stdout_contains "points at release sha256:"
	must mg rollout status "$R" --fleet kws $B --json
	json_ok "j['step'] == 'stopped' and j['release'].startswith('sha256:')"
}

t_start_abort_and_start_again() {
	must mg rollout start "$R:rel2" --fleet kws --sign fleet-key --stages 10%,100%
	expect_stdout_contains "stage 1 of 2 (10%)"
	expect_exit 2 mg rollout start "$R:rel2" --fleet kws --sign fleet-key
	expect_stderr_contains "is still going out (stage 1 of 2)"
	expect_exit 2 mg rollout status "$R" --fleet kws
	expect_stderr_contains "--broker HOST[:PORT] is required"
	# no device has reported: the stage waits, nothing fails
	must mg rollout status "$R" --fleet kws $B --json
	json_ok "j['state'] == 'running' and j['stage'] == 1 and j['targeted'] == 0 and j['next']['step'] == 'wait'"
	# a plan checked with another key is refused (as a corrupt blob is: exit 3)
	expect_exit 3 mg rollout advance "$R" --fleet kws --sign other-key $B
	expect_stderr_contains "does not match the key 'other-key.pub'"
	must mg rollout abort "$R" --fleet kws --sign fleet-key --reason "wrong labels file"
	expect_stdout_contains ": abort: wrong labels file"
	must mg rollout status "$R" --fleet kws $B --json
	json_ok "j['state'] == 'aborted' and j['reason'] == 'wrong labels file'"
	expect_exit 1 mg rollout advance "$R" --fleet kws --sign fleet-key $B
	expect_stderr_contains "refusing to advance rollout"
	must mg rollout abort "$R" --fleet kws --sign fleet-key
	expect_stdout_contains "already stopped"
	# the fleet went back to release 1: the next rollout goes back to it too
	must mg rollout start "$R:rel2" --fleet kws --sign fleet-key --json
	json_ok "j['previous'] == '$REL1' and j['target'] == '$REL2'"
}

t_an_unreachable_broker_is_exit_3() {
	expect_exit 3 mg rollout status "$R" --fleet kws --broker "127.0.0.1:$(free_port)"
	expect_stderr_contains "MQTT broker 127.0.0.1"
}

check bad-usage-is-exit-2-naming-it t_bad_usage_is_exit_2_naming_it
check a-fleet-without-a-rollout-is-said t_a_fleet_without_a_rollout_is_said
check start-abort-and-start-again t_start_abort_and_start_again
check an-unreachable-broker-is-exit-3 t_an_unreachable_broker_is_exit_3
finish
