# modelgate gate on the digits example: the int8 candidate passes against
# the fp32 baseline, the worse and the slower ones fail on the right gates,
# bad configs stop before anything runs, an unreachable target is an error
# (exit 3) while the other gates still run, and the CI outputs appear.
. "$(dirname "$0")/lib.sh"

in_example_copy

# A copy of modelgate.json with gate GATE changed by a Python statement on g.
config_with() { # out.json gate statement
	"$PY" -c 'import json, sys
c = json.load(open("modelgate.json"))
for g in c["gates"]:
    if g["name"] == sys.argv[2]:
        exec(sys.argv[3])
json.dump(c, open(sys.argv[1], "w"))' "$1" "$2" "$3" || fail "cannot write '$1'"
}

gate_status() { # report gate -> its status
	json_get "[g['status'] for g in j['gates'] if g['name'] == '$2'][0]" "$1"
}

int8_passes_with_every_figure() {
	expect_exit 0 mg gate --report r.json --junit r.xml --html r.html --metrics r.prom --markdown r.md
	for g in accuracy fidelity latency size memory; do
		expect_stdout_contains "$g"
		[ "$(gate_status r.json $g)" = pass ] || fail "gate $g did not pass: $(gate_status r.json $g)"
	done
	json_ok "j['schema_version'] == 1 and j['model']['digest'] == 'sha256:$(sha256_of model_int8.onnx)' and j['passed']" r.json
	json_ok "j['baseline']['digest'] == 'sha256:$(sha256_of model.onnx)' and j['dataset']['digest'] == 'sha256:$(sha256_of dataset/x.npy)'" r.json
	json_ok "[t['name'] for t in j['targets']] == ['host'] and j['targets'][0]['fingerprint']['cpu_count'] >= 1" r.json
	json_ok "len([g for g in j['gates'] if g['name'] == 'latency'][0]['latency']['samples_ns']['candidate']) >= 100" r.json
	json_ok "(lambda c: c['n'] == 10 and sum(map(sum, c['counts'])) == 360)([g for g in j['gates'] if g['name'] == 'accuracy'][0]['confusion'])" r.json
	json_ok "len([f for f in [g for g in j['gates'] if g['name'] == 'accuracy'][0]['figures'] if f['name'].startswith('class_')]) == 30" r.json
	# what changed against the baseline: its confusion matrix on the same
	# 360 samples, the fidelity gate's error histogram over every output
	# value, the baseline's peak memory, the size growth as a percentage
	json_ok "(lambda g: g['baseline_confusion']['n'] == 10 and sum(map(sum, g['baseline_confusion']['counts'])) == 360)([g for g in j['gates'] if g['name'] == 'accuracy'][0])" r.json
	json_ok "(lambda f: sum(f['histogram']['counts']) == 3600 and 0 < len(f['worst']) <= 10)([g for g in j['gates'] if g['name'] == 'fidelity'][0]['fidelity'])" r.json
	json_ok "(lambda g: g['baseline'] > 0 and 'baseline' in g['reason'] and g['figures'][0]['baseline'] == g['baseline'])([g for g in j['gates'] if g['name'] == 'memory'][0])" r.json
	json_ok "[f['unit'] for f in [g for g in j['gates'] if g['name'] == 'size'][0]['figures'] if f['name'] == 'growth'] == ['%']" r.json
	grep -q '<h3>Per-class metrics</h3>' r.html || fail "no per-class table in the HTML report"
	grep -q '<details' r.md || fail "no <details> in the Markdown"
	# which way each limit holds: floors for accuracy and cosine, ceilings for the rest
	json_ok "{g['name']: g['limit_is'] for g in j['gates']} == {'accuracy': 'min', 'fidelity': 'min', 'latency': 'max', 'size': 'max', 'memory': 'max'}" r.json
	expect_stdout_matches "accuracy .*>= 0\.95"
	for f in r.xml r.html r.prom r.md; do [ -s "$f" ] || fail "'$f' was not written"; done
	xmllint --noout r.xml || fail "r.xml is not well-formed"
}

worse_model_fails_accuracy_and_fidelity() {
	expect_exit 1 mg gate --model model_bad.onnx --report r.json
	[ "$(gate_status r.json accuracy)" = fail ] || fail "accuracy did not fail"
	[ "$(gate_status r.json fidelity)" = fail ] || fail "fidelity did not fail"
	[ "$(gate_status r.json size)" = pass ] || fail "size did not pass"
	expect_stdout_contains "top1 0.6056 < 0.95"
}

slower_model_fails_latency() {
	expect_exit 1 mg gate --model model_slow.onnx --only latency --report r.json
	[ "$(gate_status r.json latency)" = fail ] || fail "latency did not fail"
	[ "$(gate_status r.json accuracy)" = skip ] || fail "accuracy was not skipped"
	json_ok "(lambda l: l['ratio'] > 3 and l['ratio_ci'][0] > 3 and l['p_value'] < 0.01)([g for g in j['gates'] if g['name'] == 'latency'][0]['latency'])" r.json
}

bad_configs_stop_before_anything_runs() {
	printf '{"model": "model.onnx",\n "gates": [\n' >bad.json
	expect_exit 2 mg gate -c bad.json --report nothing.json
	expect_stderr_contains "bad.json:3:"
	printf '{"model": "model.onnx", "gates": [{"name": "a", "kind": "size", "max_bytes": 1},\n {"name": "b", "kind": "latency", "max_ms": "5"}]}' >bad.json
	expect_exit 2 mg gate -c bad.json --report nothing.json
	expect_stderr_contains "gates[1].max_ms: expected a non-negative number"
	printf '{"model": "missing.onnx", "gates": [{"name": "a", "kind": "size", "max_bytes": 1}]}' >bad.json
	expect_exit 2 mg gate -c bad.json --report nothing.json
	expect_stderr_contains "missing.onnx"
	expect_exit 2 mg gate -c nope.json
	expect_stderr_contains "nope.json"
	expect_exit 2 mg gate --only nosuchgate
	expect_stderr_contains "nosuchgate"
	expect_no_file nothing.json
}

unreachable_target_is_an_error_not_a_failure() {
	expect_exit 3 mg gate --target 'exec:false' --report r.json
	[ "$(gate_status r.json latency)" = error ] || fail "latency is not an error"
	[ "$(gate_status r.json memory)" = error ] || fail "memory is not an error"
	[ "$(gate_status r.json accuracy)" = pass ] || fail "accuracy did not still run and pass"
	[ "$(gate_status r.json size)" = pass ] || fail "size did not still run and pass"
	json_ok "j['targets'][0]['error'] is not None and j['targets'][0]['spec'] == 'exec:false'" r.json
}

emulated_target_reports_its_own_machine() {
	# an absolute limit judged against emulated time is refused before anything runs
	rm -f r.json
	expect_exit 2 mg gate --only latency --target host=qemu-aarch64 --report r.json
	expect_error "gate 'latency': max_ms is an absolute time limit, and target 'host' (qemu-aarch64) is emulated" \
		"use max_ratio against a baseline measured the same way" '"allow_emulated_absolute": true'
	expect_no_file r.json
	config_with emu.json latency 'g["allow_emulated_absolute"] = True'
	# the agent under qemu describes the machine it sees: aarch64, emulated,
	# and the gate row says so
	expect_exit 0 mg gate -c emu.json --only latency --target host=qemu-aarch64 --report r.json
	expect_stdout_contains "latency@host (emulated)"
	json_ok "(lambda f: f['arch'] == 'aarch64' and f['emulated'] and f['cpu_model'].startswith('arm ') and f['cpu_count'] >= 1)(j['targets'][0]['fingerprint'])" r.json
	json_ok "[g for g in j['gates'] if g['name'] == 'latency'][0]['fingerprint']['emulated']" r.json
}

ci_only_gates_run_only_in_ci() {
	config_with ci.json memory 'g["ci_only"] = True'
	expect_exit 0 mg gate -c ci.json --report r.json
	[ "$(gate_status r.json memory)" = skip ] || fail "the ci_only gate ran outside CI"
	CI=true expect_exit 0 mg gate -c ci.json --report r.json
	[ "$(gate_status r.json memory)" = pass ] || fail "the ci_only gate did not run in CI"
}

github_actions_get_summary_outputs_and_annotations() {
	: >summary.md
	: >outputs.txt
	GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY=$PWD/summary.md GITHUB_OUTPUT=$PWD/outputs.txt \
		expect_exit 1 mg gate --model model_bad.onnx --report r.json
	grep -q '^|' summary.md || fail "no Markdown table in the step summary"
	grep -q '^passed=false$' outputs.txt || fail "no passed=false in GITHUB_OUTPUT: $(cat outputs.txt)"
	expect_stdout_matches '^::error title=[^:]*accuracy'
}

store_references_work_as_model_and_baseline() {
	must mg push digits:int8 model_int8.onnx
	cp "$OUT" "$IO/int8.digest.raw" && tr -d '\n' <"$IO/int8.digest.raw" >"$IO/int8.digest"
	must mg push digits:prod model.onnx
	expect_exit 0 mg gate --model digits:int8 --baseline digits:prod --report r.json
	json_ok "j['model']['ref'] == 'digits:int8' and j['model']['digest'] == '$(cat "$IO/int8.digest")' and j['baseline']['ref'] == 'digits:prod'" r.json
	expect_exit 2 mg gate --model digits:nope --report r.json
	expect_stderr_contains "digits:nope"
}

# report.json goes only where --report says: a run without it leaves the
# working folder as it was (an older report there stays as it is).
reports_only_where_told() {
	expect_exit 0 mg gate --only size
	expect_no_file report.json
	echo '{"old": true}' >report.json
	expect_exit 0 mg gate --only size
	json_ok "j == {'old': True}" report.json
	mkdir -p out
	expect_exit 0 mg gate --only size --report out/size.json
	json_ok "[g['status'] for g in j['gates']] == ['skip', 'skip', 'skip', 'pass', 'skip']" out/size.json
	json_ok "j == {'old': True}" report.json
	rm -f report.json
}

# -q silences the table and progress, never why the run failed: a failed
# gate and one that could not be evaluated each get one line on stderr.
quiet_never_hides_a_failure() {
	expect_exit 0 mg gate -q --only size
	expect_stdout_empty
	expect_stderr_empty
	expect_exit 1 mg gate -q --model model_bad.onnx --only accuracy
	expect_error "gate 'accuracy' failed: top1 " "< 0.95"
	expect_exit 3 mg gate -q --target host=exec:false --only latency
	expect_error "gate 'latency' could not be evaluated: target 'host' is unreachable"
	expect_exit 2 mg gate -q -c nothing.json
	expect_error "nothing.json"
	# an inconclusive gate: a warning under the default policy, a failure under "fail"
	config_with short.json latency 'g.update(max_time=0.001, min_iterations=100000)'
	config_with short_fail.json latency 'g.update(max_time=0.001, min_iterations=100000, on_inconclusive="fail")'
	expect_exit 0 mg gate -q -c short.json --only latency
	expect_error "warning: gate 'latency' was inconclusive: "
	expect_exit 1 mg gate -q -c short_fail.json --only latency
	expect_error "gate 'latency' failed as inconclusive: "
}

init_writes_a_config_that_runs() {
	expect_exit 0 mg init model.onnx -o new.json
	json_ok "j['model'] == 'model.onnx' and [g['kind'] for g in j['gates']] == ['latency', 'size', 'memory']" new.json
	expect_exit 0 mg gate -c new.json --report r.json
	expect_exit 2 mg init model.onnx -o new.json
	expect_stderr_contains "--force"
	expect_exit 0 mg init model.onnx -o new.json --force
	expect_exit 2 mg init nothing.onnx -o other.json
	expect_no_file other.json
}

# A model of fixed batch (here the digits model with its first dimension set
# to 1, 8, 7) takes the dataset's 360 rows a run's worth at a time: its
# accuracy and fidelity are the dynamic model's; with 7, which does not
# divide 360, the last run is padded and the padding's outputs dropped.
fixed_batch_models_take_the_dataset_in_runs() {
	"$PY" - <<'PY' || fail "cannot fix the batch"
import onnx
for b in (1, 8, 7):
    m = onnx.load("model.onnx")
    for v in list(m.graph.input) + list(m.graph.output):
        v.type.tensor_type.shape.dim[0].dim_value = b
    onnx.save(m, "batch%d.onnx" % b)
PY
	local b
	expect_exit 0 mg gate --model model.onnx --only accuracy --only fidelity --report dyn.json
	for b in 1 8; do
		expect_exit 0 mg gate --model batch$b.onnx --only accuracy --only fidelity --report b.json
		"$PY" -c 'import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
v = lambda r: [(g["name"], g["value"]) for g in r["gates"]]
assert v(a) == v(b), (v(a), v(b))' dyn.json b.json || fail "batch $b gives other figures than the dynamic model"
	done
	# 7 does not divide 360: the last run is padded, its padding dropped, and said
	expect_exit 0 mg gate --model batch7.onnx --only accuracy --only fidelity --report b.json
	expect_stderr_contains "the last 3 of the dataset's 360 rows ran padded with 4 copies of the last row"
	"$PY" -c 'import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
v = lambda r: [(g["name"], g["value"]) for g in r["gates"]]
assert v(a) == v(b), (v(a), v(b))' dyn.json b.json || fail "batch 7 gives other figures than the dynamic model"
}

check int8_passes_with_every_figure int8_passes_with_every_figure
check fixed_batch_models_take_the_dataset_in_runs fixed_batch_models_take_the_dataset_in_runs
check worse_model_fails_accuracy_and_fidelity worse_model_fails_accuracy_and_fidelity
check slower_model_fails_latency slower_model_fails_latency
check bad_configs_stop_before_anything_runs bad_configs_stop_before_anything_runs
check unreachable_target_is_an_error_not_a_failure unreachable_target_is_an_error_not_a_failure
# Fewer samples than min_iterations within max_time is inconclusive, never
# a verdict: a warning by default, a failure under on_inconclusive fail.
too_few_samples_are_inconclusive() {
	config_with short.json latency 'g.update(max_time=0.001, min_iterations=100000)'
	config_with short_fail.json latency 'g.update(max_time=0.001, min_iterations=100000, on_inconclusive="fail")'
	expect_exit 0 mg gate -c short.json --only latency --report r.json --junit r.xml --markdown r.md --html r.html
	[ "$(gate_status r.json latency)" = inconclusive ] || fail "latency is not inconclusive: $(gate_status r.json latency)"
	json_ok "j['schema_version'] == 2 and j['passed'] and [g for g in j['gates'] if g['name'] == 'latency'][0]['latency']['too_few']" r.json
	expect_stdout_matches '^latency +latency@host +inconclusive '
	expect_stdout_contains "fewer than the minimum of 100000, so no verdict; to resolve it: a max_time of about"
	expect_stdout_contains "(on_inconclusive: warn, a warning, not a failure)"
	grep -q 'modelgate.status" value="inconclusive"' r.xml || fail "JUnit lacks the inconclusive property"
	grep -q 'inconclusive' r.md || fail "Markdown lacks inconclusive"
	grep -q 'pill inconclusive' r.html || fail "HTML lacks the inconclusive pill"
	expect_exit 1 mg gate -c short_fail.json --only latency --report r.json
	[ "$(gate_status r.json latency)" = inconclusive ] || fail "latency is not inconclusive under on_inconclusive fail"
	expect_stdout_contains "(on_inconclusive: fail, failing the build)"
}

check emulated_target_reports_its_own_machine emulated_target_reports_its_own_machine
check too_few_samples_are_inconclusive too_few_samples_are_inconclusive
check ci_only_gates_run_only_in_ci ci_only_gates_run_only_in_ci
check github_actions_get_summary_outputs_and_annotations github_actions_get_summary_outputs_and_annotations
check store_references_work_as_model_and_baseline store_references_work_as_model_and_baseline
check reports_only_where_told reports_only_where_told
check quiet_never_hides_a_failure quiet_never_hides_a_failure
check init_writes_a_config_that_runs init_writes_a_config_that_runs
finish
