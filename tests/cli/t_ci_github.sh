# GitHub Actions: every action and workflow file (the project's, the
# reusable action, the example project's) passes @action-validator/cli, and
# an invalid one does not; the action's shell steps (run.sh) run with the
# variables a runner sets (GITHUB_OUTPUT, GITHUB_STEP_SUMMARY, GITHUB_ENV,
# GITHUB_PATH, GITHUB_ACTIONS) and leave the outputs, summary, annotations
# and reports the workflows rely on.
. "$MG_SRCDIR/tests/cli/lib.sh"
. "$MG_SRCDIR/tests/cli/lib_ci.sh"

ACTION=$MG_SRCDIR/.github/actions/modelgate
GH=$TEST_TMP/gh
mkdir -p "$GH"
cp -r "$EXAMPLES" "$TEST_TMP/project"
rm -f "$TEST_TMP/project/report.json"

# gh_env NAME: fresh runner files for one step, exported
gh_env() {
	local d=$GH/$1
	mkdir -p "$d"
	: >"$d/output"; : >"$d/summary"; : >"$d/env"; : >"$d/path"
	export GITHUB_OUTPUT=$d/output GITHUB_STEP_SUMMARY=$d/summary GITHUB_ENV=$d/env \
		GITHUB_PATH=$d/path GITHUB_ACTIONS=true CI=true GITHUB_WORKSPACE=$TEST_TMP
	D=$d
}
# output KEY: the value of a step output
output() { sed -n "s/^$1=//p" "$D/output" | tail -n 1; }

every_file_validates() {
	local f n=0
	for f in "$MG_SRCDIR"/.github/workflows/*.yml "$MG_SRCDIR"/.github/actions/*/action.yml \
		"$MG_SRCDIR"/examples/.github/workflows/*.yml; do
		validate_github "$f"
		n=$((n + 1))
	done
	[ "$n" -ge 5 ] || fail "only $n files validated"
}

an_invalid_workflow_is_rejected() {
	need_tool "$ACTION_VALIDATOR"
	printf 'name: x\non: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz:\n      - run: true\n' >bad.yml
	expect_exit 1 "$ACTION_VALIDATOR" bad.yml
	sed 's/using: composite/using: compost/' "$ACTION/action.yml" >action.yml
	expect_exit 1 "$ACTION_VALIDATOR" action.yml
}

action_exposes_the_step_outputs() {
	local k
	for k in passed status exit-code digest report-path report-dir figures failed bundle; do
		grep -q "steps.run.outputs.$k }}" "$ACTION/action.yml" || fail "action.yml does not expose '$k'"
	done
}

install_uses_the_given_binary() {
	gh_env install
	MG_INPUT_MODELGATE=$MODELGATE expect_exit 0 "$ACTION/run.sh" install
	expect_stdout_contains "modelgate 0."
	grep -qx "MODELGATE_BIN=$MODELGATE" "$D/env" || fail "GITHUB_ENV: $(cat "$D/env")"
	grep -qx "$(dirname "$MODELGATE")" "$D/path" || fail "GITHUB_PATH: $(cat "$D/path")"
	MG_INPUT_MODELGATE=/nonexistent/modelgate expect_exit 2 "$ACTION/run.sh" install
	expect_stdout_contains "::error title=modelgate::'/nonexistent/modelgate' is not an executable file"
	# a name is looked up on PATH
	gh_env install-name
	PATH=$(dirname "$MODELGATE"):$PATH MG_INPUT_MODELGATE=modelgate expect_exit 0 "$ACTION/run.sh" install
	grep -qx "MODELGATE_BIN=$MODELGATE" "$D/env" || fail "GITHUB_ENV: $(cat "$D/env")"
}

gate_passes_with_outputs_summary_and_reports() {
	gh_env pass
	cd "$TEST_TMP/project"
	MODELGATE_BIN=$MODELGATE MG_INPUT_REPORT_DIR=$GH/pass/reports expect_exit 0 "$ACTION/run.sh" run
	[ "$(output passed)" = true ] || fail "passed=$(output passed)"
	[ "$(output status)" = pass ] || fail "status=$(output status)"
	[ "$(output exit-code)" = 0 ] || fail "exit-code=$(output exit-code)"
	[ "$(output digest)" = "sha256:$(sha256_of model_int8.onnx)" ] || fail "digest=$(output digest)"
	[ "$(output report-path)" = "$GH/pass/reports/report.json" ] || fail "report-path=$(output report-path)"
	output figures >"$GH/pass/figures.json"
	json_ok 'set(j) == {"accuracy", "fidelity", "latency", "size", "memory"} and j["accuracy"] >= 0.95' "$GH/pass/figures.json"
	grep -q '^gate_accuracy_value=' "$D/output" || fail "no per-gate outputs"
	grep -q 'modelgate: all 5 gates passed\|passed' "$D/summary" || fail "summary: $(head -3 "$D/summary")"
	grep -q '^| Gate |' "$D/summary" || fail "no gate table in the step summary"
	expect_stdout_not_contains "::error"
	local f
	for f in report.json junit.xml report.html summary.md metrics.txt; do
		expect_file "$GH/pass/reports/$f"
	done
	json_ok 'j["schema_version"] == 1' "$GH/pass/reports/report.json"
}

gate_fails_with_annotations() {
	gh_env fail
	cd "$TEST_TMP/project"
	MODELGATE_BIN=$MODELGATE MG_INPUT_MODEL=model_bad.onnx MG_INPUT_REPORT_DIR=$GH/fail/r \
		expect_exit 1 "$ACTION/run.sh" run
	[ "$(output passed)" = false ] || fail "passed=$(output passed)"
	[ "$(output exit-code)" = 1 ] || fail "exit-code=$(output exit-code)"
	[ "$(output failed)" = 2 ] || fail "failed=$(output failed)"
	expect_stdout_matches "^::error title=modelgate%3A gate 'accuracy' failed::"
	grep -q '❌' "$D/summary" || fail "the summary does not show the failure"
	# fail-on-gate: false keeps the step green, the outputs still say it
	gh_env fail-soft
	MODELGATE_BIN=$MODELGATE MG_INPUT_MODEL=model_bad.onnx MG_INPUT_FAIL_ON_GATE=false \
		MG_INPUT_REPORT_DIR=$GH/fail-soft/r expect_exit 0 "$ACTION/run.sh" run
	[ "$(output passed)" = false ] || fail "passed=$(output passed) with fail-on-gate false"
}

bad_input_is_exit_2_with_an_error_annotation() {
	gh_env bad
	cd "$TEST_TMP/project"
	MODELGATE_BIN=$MODELGATE MG_INPUT_CONFIG=missing.json MG_INPUT_REPORT_DIR=$GH/bad/r \
		expect_exit 2 "$ACTION/run.sh" run
	expect_stdout_contains "::error title=modelgate gate::bad usage or input (exit 2)"
	[ "$(output passed)" = false ] || fail "passed=$(output passed)"
	[ "$(output status)" = error ] || fail "status=$(output status)"
	MODELGATE_BIN=$MODELGATE MG_INPUT_COMMAND=launch expect_exit 2 "$ACTION/run.sh" run
	expect_stdout_contains "unknown command 'launch'"
	MODELGATE_BIN=$MODELGATE MG_INPUT_COMMAND=push MG_INPUT_MODEL=model_int8.onnx expect_exit 2 "$ACTION/run.sh" run
	expect_stdout_contains "::error title=modelgate::the push command needs the ref input (HOST/REPO:TAG)"
}

push_reports_the_digest() {
	gh_env push
	cd "$TEST_TMP/project"
	MODELGATE_BIN=$MODELGATE MG_INPUT_COMMAND=push MG_INPUT_MODEL=model_int8.onnx MG_INPUT_REF=digits:ci \
		MG_INPUT_REPORT_DIR=$GH/push/r expect_exit 0 "$ACTION/run.sh" run
	must mg inspect --json digits:ci
	[ "$(output digest)" = "$(json_get 'j["digest"]')" ] || fail "digest=$(output digest), pushed $(cat "$OUT")"
	[ "$(output passed)" = true ] && [ "$(output exit-code)" = 0 ] || fail "passed=$(output passed)"
	grep -q '### modelgate push: done' "$D/summary" || fail "summary: $(cat "$D/summary")"
}

check every_file_validates every_file_validates
check an_invalid_workflow_is_rejected an_invalid_workflow_is_rejected
check action_exposes_the_step_outputs action_exposes_the_step_outputs
check install_uses_the_given_binary install_uses_the_given_binary
check gate_passes_with_outputs_summary_and_reports gate_passes_with_outputs_summary_and_reports
check gate_fails_with_annotations gate_fails_with_annotations
check bad_input_is_exit_2_with_an_error_annotation bad_input_is_exit_2_with_an_error_annotation
check push_reports_the_digest push_reports_the_digest
finish
