# The GitHub action (.github/actions/modelgate) run the way GitHub runs a
# composite action (tests/cli/ghactions.py: each step's ${{ }} replaced,
# fresh GITHUB_OUTPUT/GITHUB_STEP_SUMMARY/GITHUB_ENV/GITHUB_PATH files, env
# and PATH carried from step to step, outputs from action.yml's outputs:),
# as the unprivileged user nobody, with the release served over HTTP on
# 127.0.0.1 (release-url): it installs the release into the tool cache,
# checked against SHA256SUMS, and passes the digits gate; a second run uses
# the cache without downloading; a corrupted tarball is refused and leaves
# nothing in the cache; without a release (404) it builds its checkout.
# The rollout command, against a real docker-registry and a real mosquitto
# (with a password) on loopback and no devices: start (the fleet key's PEM
# in the sign-key input, as a secret would be), advance (wait, exit 0), the
# job summary with the Markdown status, abort, and advance again refused
# (exit 1, the step fails); the key and the broker's password appear in no
# log, summary or report. The example scheduled workflow
# (examples/.github/workflows/modelgate-rollout.yml) advances that fleet.
. "$MG_SRCDIR/tests/cli/lib.sh"
. "$MG_SRCDIR/tests/cli/lib_registry.sh"
. "$MG_SRCDIR/tests/cli/lib_deploy.sh"
. "$MG_SRCDIR/tests/cli/lib_fleet.sh"
. "$MG_SRCDIR/tests/cli/lib_ci.sh"

gh_nobody_setup
ACTION=$NB_SRC/.github/actions/modelgate
gh_release "$TEST_TMP/www/good"
mkdir -p "$TEST_TMP/www/bad/v$MG_VERSION"
cp "$TEST_TMP/www/good/v$MG_VERSION/"* "$TEST_TMP/www/bad/v$MG_VERSION/"
# one byte changed in the middle of the tarball; SHA256SUMS as released
printf 'X' | dd of="$TEST_TMP/www/bad/v$MG_VERSION/$TARBALL" bs=1 conv=notrunc \
	seek=$(($(stat -c %s "$TEST_TMP/www/bad/v$MG_VERSION/$TARBALL") / 2)) 2>/dev/null
gh_serve "$TEST_TMP/www"
WS=$NB/ws
as_nobody mkdir -p "$WS"
as_nobody cp -r "$EXAMPLES" "$WS/digits"
as_nobody rm -f "$WS/digits/report.json"
CACHE=$NB/tool-cache
GOOD=/good/v$MG_VERSION

# action NAME [ARGS...]: the action on the workspace, with the tool cache
# CACHE; the results in $NB/NAME.json
action() {
	local name=$1
	shift
	expect_exit "${EXPECT:-0}" ghactions action "$ACTION" --work "$NB/work-$name" --workspace "$WS" \
		--tool-cache "$CACHE" --result "$NB/$name.json" --input working-directory=digits \
		--input report-dir="$NB/reports-$name" "$@"
}

installs_the_release_as_nobody_and_gates() {
	action first --input release-url="$SERVE_URL/good"
	expect_stdout_contains "modelgate $MG_VERSION: installed from $SERVE_URL$GOOD/$TARBALL"
	expect_stdout_contains "as in SHA256SUMS) into $CACHE/modelgate/$MG_VERSION/x64"
	expect_stdout_contains "modelgate $MG_VERSION"
	expect_stdout_not_contains "::error"
	[ "$(gh_gets "$GOOD/$TARBALL")" = 1 ] || fail "tarball GETs: $(cat "$SERVE_LOG")"
	[ "$(gh_gets "$GOOD/SHA256SUMS")" = 1 ] || fail "SHA256SUMS GETs: $(cat "$SERVE_LOG")"
	local x64=$CACHE/modelgate/$MG_VERSION/x64
	expect_file "$x64.complete"
	[ -x "$x64/bin/modelgate" ] || fail "no $x64/bin/modelgate"
	[ "$(stat -c %u "$x64/bin/modelgate")" = "$(as_nobody id -u)" ] || fail "the cache is not the user's"
	# the run step used the release (MODELGATE_BIN through GITHUB_ENV)
	local o='j["jobs"]["action"]["steps"][0]'
	json_ok "$o['outcome'] == 'success' and [s['outcome'] for s in $o['steps']] == ['success', 'success']" "$NB/first.json"
	json_ok "$o['outputs']['passed'] == 'true' and $o['outputs']['status'] == 'pass'" "$NB/first.json"
	json_ok "$o['outputs']['exit-code'] == '0' and $o['outputs']['failed'] == '0'" "$NB/first.json"
	json_ok "$o['outputs']['digest'] == 'sha256:$(sha256_of "$EXAMPLES/model_int8.onnx")'" "$NB/first.json"
	json_ok "$o['outputs']['report-dir'] == '$NB/reports-first'" "$NB/first.json"
	json_ok "json.loads($o['outputs']['figures'])['accuracy'] >= 0.95" "$NB/first.json"
	json_ok "all(g['status'] == 'pass' for g in j['gates'])" "$NB/reports-first/report.json"
	grep -q '^| Gate |' "$NB/work-first/action/summary.md" || fail "no gate table in the job summary"
}

a_second_run_uses_the_tool_cache() {
	action second --input release-url="$SERVE_URL/good"
	expect_stdout_contains "modelgate $MG_VERSION: from the tool cache ($CACHE/modelgate/$MG_VERSION/x64)"
	[ "$(gh_gets "$GOOD/$TARBALL")" = 1 ] || fail "the second run downloaded again: $(cat "$SERVE_LOG")"
	[ "$(gh_gets "$GOOD/SHA256SUMS")" = 1 ] || fail "the second run asked for SHA256SUMS"
	json_ok "j['jobs']['action']['steps'][0]['outputs']['passed'] == 'true'" "$NB/second.json"
}

the_installed_modelgate_is_on_path_for_later_steps() {
	cat >"$TEST_TMP/path.yml" <<EOF
name: path
on: push
jobs:
  gate:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - id: gate
        uses: acme/modelgate/.github/actions/modelgate@v$MG_VERSION
        with:
          working-directory: digits
          release-url: $SERVE_URL/good
      - run: |
          echo "on PATH: \$(command -v modelgate)"
          echo "MODELGATE_BIN=\$MODELGATE_BIN"
          echo "passed: \${{ steps.gate.outputs.passed }}"
EOF
	expect_exit 0 ghactions workflow "$TEST_TMP/path.yml" --work "$NB/work-path" --tool-cache "$CACHE" \
		--checkout "$WS" --action "acme/modelgate@v$MG_VERSION=$NB_SRC" --result "$NB/path.json"
	expect_stdout_contains "on PATH: $CACHE/modelgate/$MG_VERSION/x64/bin/modelgate"
	expect_stdout_contains "MODELGATE_BIN=$CACHE/modelgate/$MG_VERSION/x64/bin/modelgate"
	expect_stdout_contains "passed: true"
}

a_corrupted_tarball_is_refused() {
	CACHE=$NB/tool-cache-bad EXPECT=1 action bad --input release-url="$SERVE_URL/bad"
	expect_stdout_matches "^::error title=modelgate::$SERVE_URL/bad/v$MG_VERSION/$TARBALL does not match SHA256SUMS \(sha256 [0-9a-f]{64}, expected $(cut -d' ' -f1 "$TEST_TMP/www/bad/v$MG_VERSION/SHA256SUMS")\): refusing to install it$"
	expect_stdout_contains "Process completed with exit code 3."
	local o='j["jobs"]["action"]["steps"][0]'
	json_ok "[s['outcome'] for s in $o['steps']] == ['failure', 'skipped'] and $o['outcome'] == 'failure'" "$NB/bad.json"
	[ -z "$(ls -A "$NB/tool-cache-bad/modelgate/$MG_VERSION" 2>/dev/null)" ] ||
		fail "the refused tarball left something in the cache: $(ls -A "$NB/tool-cache-bad/modelgate/$MG_VERSION")"
}

# A checkout whose make deps and make all stand in for the real ones (they
# log what ran; all writes a modelgate script), with the action's files.
without_a_release_it_builds_its_checkout() {
	local co=$NB/checkout
	as_nobody mkdir -p "$co/.github/actions"
	as_nobody cp -r "$ACTION" "$co/.github/actions/"
	as_nobody sh -c "cat >'$co/Makefile'" <<'EOF'
VERSION := 9.9.9
deps:
	echo "deps as $$(id -un)" >>make.log
all:
	echo all >>make.log
	mkdir -p build
	printf '#!/bin/sh\n[ "$$1" = --version ] && echo "modelgate 9.9.9 (built)"; exit 0\n' >build/modelgate
	chmod +x build/modelgate
EOF
	expect_exit 0 ghactions action "$co/.github/actions/modelgate" --work "$NB/work-build" --workspace "$WS" \
		--tool-cache "$NB/tool-cache-build" --input release-url="$SERVE_URL/good" --result "$NB/build.json"
	expect_stdout_contains "no release v9.9.9 at $SERVE_URL/good/v9.9.9 (404 for SHA256SUMS)"
	expect_stdout_contains "modelgate 9.9.9: building it from $co"
	expect_stdout_contains "modelgate 9.9.9 (built)"
	[ "$(cat "$co/make.log")" = "$(printf 'deps as %s\nall' "$(as_nobody id -un)")" ] || fail "make ran: $(cat "$co/make.log")"
}

# A fleet release to roll out, as t_rollout_fleet.sh makes one: release 1
# of the example model, a bundle signed by the fleet key.
registry_start
MQ_PASS=mqtt-Pa55-$$-secret
mqtt_start rollout-ci "$MQ_PASS"
R=$REG/acme/kws
must mg keygen -o "$TEST_TMP/fleet-key"
fleet_release "$R" 1 "$EXAMPLES/model.onnx" "$TEST_TMP/fleet-key"
REL1=$REL
KEY_PEM=$(cat "$TEST_TMP/fleet-key")
KEY_LINE=$(sed -n 2p "$TEST_TMP/fleet-key") # the key's base64: no log may hold it

# rollout NAME ACTION [ARGS...]: the action's rollout command on fleet prod
# with the key and the broker's password as secrets would be given
rollout() {
	local name=$1 act=$2
	shift 2
	action "$name" --input release-url="$SERVE_URL/good" --input command=rollout \
		--input rollout-action="$act" --input fleet=prod --input sign-key="$KEY_PEM" \
		--input broker="127.0.0.1:$MQ_PORT" --input mqtt-username=rollout-ci \
		--input mqtt-password="$MQ_PASS" "$@"
	no_secrets "$NB/work-$name" "$NB/reports-$name"
}

# no_secrets PATH...: the key and the password are in no stdout, stderr or file there
no_secrets() {
	local s
	for s in "$KEY_LINE" "$MQ_PASS"; do
		! grep -rqF -- "$s" "$OUT" "$ERR" "$@" || fail "a secret is in the logs: $(grep -rlF -- "$s" "$OUT" "$ERR" "$@")"
	done
}

ro_out() { json_get "j['jobs']['action']['steps'][0]['outputs']['$1']" "$NB/$2.json"; }

rollout_starts_waits_and_stops_through_the_action() {
	rollout ro-start start --input ref="$R:rel1" --input stages=5%,25%,100% --input max-failures=2% \
		--input min-healthy-time=10m
	[ "$(ro_out step ro-start)/$(ro_out stage ro-start)/$(ro_out state ro-start)" = start/1/running ] ||
		fail "start's outputs: $(ro_out step ro-start)/$(ro_out stage ro-start)/$(ro_out state ro-start)"
	MODELGATE_MQTT_PASSWORD=$MQ_PASS must mg rollout status "$R" --fleet prod --key "$TEST_TMP/fleet-key.pub" --broker "127.0.0.1:$MQ_PORT" \
		--mqtt-user rollout-ci --json </dev/null
	json_ok "j['target'] == '$REL1' and j['state'] == 'running' and j['stage'] == 1"
	# no device reports: the first stage is not healthy, it waits
	rollout ro-advance advance --input ref="$R"
	json_ok "j['jobs']['action']['steps'][0]['outcome'] == 'success'" "$NB/ro-advance.json"
	[ "$(ro_out step ro-advance)/$(ro_out stage ro-advance)/$(ro_out state ro-advance)" = wait/1/running ] ||
		fail "advance's outputs: $(ro_out step ro-advance)/$(ro_out stage ro-advance)/$(ro_out state ro-advance)"
	[ "$(ro_out exit-code ro-advance)" = 0 ] || fail "advance: exit $(ro_out exit-code ro-advance)"
	local sum=$NB/work-ro-advance/action/summary.md
	grep -q '^### modelgate rollout: done' "$sum" || fail "no rollout line in the summary: $(cat "$sum")"
	grep -q '^## modelgate rollout' "$sum" || fail "no Markdown status in the summary: $(cat "$sum")"
	grep -q '^| ' "$sum" || fail "no stage table in the summary: $(cat "$sum")"
	# stopped by hand; advance then refuses, and the step fails
	rollout ro-abort abort --input ref="$R" --input args="--reason dashboard-red"
	[ "$(ro_out step ro-abort)/$(ro_out state ro-abort)" = abort/aborted ] ||
		fail "abort's outputs: $(ro_out step ro-abort)/$(ro_out state ro-abort)"
	EXPECT=1 rollout ro-refused advance --input ref="$R"
	expect_stdout_contains "::error title=modelgate rollout::the rollout halted, or was already halted or aborted (exit 1)"
	json_ok "j['jobs']['action']['steps'][0]['outcome'] == 'failure'" "$NB/ro-refused.json"
	[ "$(ro_out step ro-refused)/$(ro_out state ro-refused)/$(ro_out exit-code ro-refused)" = stopped/aborted/1 ] ||
		fail "refused advance's outputs: $(ro_out step ro-refused)/$(ro_out state ro-refused)/$(ro_out exit-code ro-refused)"
	grep -q 'aborted' "$NB/work-ro-refused/action/summary.md" || fail "the summary does not say aborted"
}

rollout_needs_its_inputs() {
	EXPECT=1 action ro-bad --input release-url="$SERVE_URL/good" --input command=rollout \
		--input rollout-action=advance --input ref="$R" --input fleet=prod --input sign-key="$KEY_PEM"
	expect_stdout_contains "::error title=modelgate::rollout advance reads the devices' status: it needs the broker input (HOST[:PORT])"
	expect_stdout_contains "Process completed with exit code 2."
	EXPECT=1 action ro-bad2 --input release-url="$SERVE_URL/good" --input command=rollout \
		--input rollout-action=resume --input ref="$R" --input fleet=prod
	expect_stdout_contains "needs the rollout-action input: start, status, advance or abort (not 'resume')"
	expect_stdout_contains "Process completed with exit code 2."
	no_secrets "$NB/work-ro-bad"
}

# The example workflow, with the registry and the broker of this test in
# place of ghcr.io and mqtt.example.com (TLS, so its CA file line goes too).
the_example_schedule_advances_the_rollout() {
	local wf=$NB_SRC/examples/.github/workflows/modelgate-rollout.yml
	grep -q '^    - cron: "\*/15 \* \* \* \*"$' "$wf" || fail "the example does not run every 15 minutes"
	grep -q '^  workflow_dispatch:$' "$wf" || fail "the example cannot be run by hand"
	grep -q '^  group: rollout-prod$' "$wf" || fail "the example has no concurrency group rollout-prod"
	validate_github "$wf"
	must mg rollout start "$R:rel1" --fleet prod --sign "$TEST_TMP/fleet-key" --stages 50%,100%
	sed "s|ghcr.io/acme/models/kws|$R|; s|mqtt.example.com:8883|127.0.0.1:$MQ_PORT|; /mqtt-ca-file:/d" "$wf" >"$TEST_TMP/rollout.yml"
	chmod 644 "$TEST_TMP/rollout.yml"
	expect_exit 0 ghactions workflow "$TEST_TMP/rollout.yml" --work "$NB/work-wf" --checkout "$WS" \
		--action "acme/modelgate@v$MG_VERSION=$NB_SRC" --tool-cache "$CACHE" \
		--secret FLEET_KEY="$KEY_PEM" --secret MQTT_PASSWORD="$MQ_PASS" \
		--result "$NB/wf.json"
	expect_stdout_contains "rollout of prod, stage 1 (running): wait"
	no_secrets "$NB/work-wf"
}

check installs_the_release_as_nobody_and_gates installs_the_release_as_nobody_and_gates
check a_second_run_uses_the_tool_cache a_second_run_uses_the_tool_cache
check the_installed_modelgate_is_on_path_for_later_steps the_installed_modelgate_is_on_path_for_later_steps
check a_corrupted_tarball_is_refused a_corrupted_tarball_is_refused
check without_a_release_it_builds_its_checkout without_a_release_it_builds_its_checkout
check rollout_starts_waits_and_stops_through_the_action rollout_starts_waits_and_stops_through_the_action
check rollout_needs_its_inputs rollout_needs_its_inputs
check the_example_schedule_advances_the_rollout the_example_schedule_advances_the_rollout
finish
