# modelgate check-config (and gate --dry-run, the same): validates
# modelgate.json, resolves the model, baseline and dataset it names (files
# and store references), checks them against each other, starts each target
# a selected gate measures on, and prints what would run with every limit,
# without running a model or writing a report. Exit 0, 2 for bad config or
# input, 3 when a target does not answer; --json prints the same.
. "$(dirname "$0")/lib.sh"

in_example_copy

shows_each_gate_its_models_dataset_target_and_limits() {
	expect_exit 0 mg check-config
	expect_stdout_contains "config    modelgate.json: valid"
	expect_stdout_matches "^model +model_int8.onnx \(sha256:$(sha256_of model_int8.onnx | cut -c1-12)\)$"
	expect_stdout_matches "^baseline +model.onnx \(sha256:$(sha256_of model.onnx | cut -c1-12)\)$"
	expect_stdout_matches "^dataset +dataset/x.npy, 360 rows \(sha256:"
	expect_stdout_matches "^target +host: local, answers \(x86_64, onnxruntime\)$"
	expect_stdout_matches "^run +accuracy +accuracy +metric=top1 .*min=0.95 max_drop=0.01$"
	expect_stdout_matches "^run +fidelity +fidelity +max_abs=0.5 min_cosine=0.999 min_top1_agreement=0.99$"
	expect_stdout_matches "^run +latency +latency +target=host metric=p95 max_ms=5 max_ratio=3 .*max_time=10"
	expect_stdout_matches "^run +size +size +max_bytes=65536 max_growth=0.1$"
	expect_stdout_matches "^run +memory +memory +target=host max_rss_mb=512$"
	expect_stdout_contains "5 of 5 gate(s) would run"
	# nothing ran and nothing was written
	expect_stderr_contains "starting target 'host' (local)"
	expect_stderr_not_contains "measuring"
	expect_stderr_not_contains "running the dataset"
	expect_no_file report.json
}

gate_dry_run_is_check_config() {
	expect_exit 0 mg check-config --only size
	cp "$OUT" "$IO/check.out"
	expect_exit 0 mg gate --dry-run --only size
	cmp -s "$IO/check.out" "$OUT" || fail "gate --dry-run printed other than check-config"
	expect_stdout_matches "^skip +accuracy +accuracy .*; not selected \(--only\)$"
	expect_stdout_contains "host: local, not used by the gates that would run"
	expect_stderr_not_contains "starting target"
	# a dry run writes no report, and says so when asked for one
	expect_exit 2 mg gate --dry-run --report r.json
	expect_error "--report writes a report, and a dry run writes none"
	expect_exit 2 mg gate --dry-run --junit j.xml
	expect_error "--junit"
	expect_no_file r.json
	expect_no_file j.xml
}

json_says_the_same() {
	expect_exit 0 mg check-config --json
	json_ok "j['ok'] and j['config'] == 'modelgate.json' and j['dataset']['rows'] == 360"
	json_ok "j['model'] == {'ref': 'model_int8.onnx', 'path': 'model_int8.onnx', 'digest': 'sha256:$(sha256_of model_int8.onnx)'}"
	json_ok "j['targets'] == [{'name': 'host', 'spec': 'local', 'used': True, 'emulated': False, 'reachable': True, 'arch': 'x86_64', 'engine': 'onnxruntime'}]"
	json_ok "[g['name'] for g in j['gates'] if g['runs']] == ['accuracy', 'fidelity', 'latency', 'size', 'memory']"
	json_ok "j['gates'][0]['settings'] == {'metric': 'top1', 'k': 5, 'min': 0.95, 'max_drop': 0.01}"
	json_ok "j['gates'][4]['settings'] == {'target': 'host', 'max_rss_mb': 512}"
}

store_references_resolve_without_running() {
	must mg push digits:int8 model_int8.onnx
	local digest
	digest=$(tr -d '\n' <"$OUT")
	expect_exit 0 mg check-config --model digits:int8 --json
	json_ok "j['model']['ref'] == 'digits:int8' and j['model']['digest'] == '$digest'"
	expect_exit 2 mg check-config -q --model digits:nope
	expect_error "digits:nope"
	expect_exit 2 mg check-config -q --baseline nothing.onnx
	expect_error "nothing.onnx"
	# a dataset the model cannot take: bad input before any target starts
	"$PY" -c 'import numpy; numpy.save("wide.npy", numpy.zeros((4, 65), numpy.float32))' || fail "numpy"
	"$PY" -c 'import json; c = json.load(open("modelgate.json")); c["dataset"] = {"inputs": "wide.npy"}; c["gates"] = c["gates"][1:]; json.dump(c, open("wide.json", "w"))' ||
		fail "cannot write wide.json"
	expect_exit 2 mg check-config -q -c wide.json
	expect_error "wide.npy" "shape"
	expect_exit 2 mg check-config -c wide.json
	expect_stderr_not_contains "starting target"
	# and a config with an error stops there
	expect_exit 2 mg check-config -c nope.json
	expect_error "nope.json"
}

a_target_that_does_not_answer_is_exit_3() {
	expect_exit 3 mg check-config --target 'host=exec:false'
	expect_stdout_matches "^target +host: exec:false, unreachable: "
	expect_stdout_contains "a target does not answer (exit 3)"
	expect_exit 3 mg check-config --target 'host=exec:false' --json
	json_ok "not j['ok'] and not j['targets'][0]['reachable'] and j['targets'][0]['error']"
	# a gate that needs no target does not start it
	expect_exit 0 mg check-config --target 'host=exec:false' --only accuracy
}

check shows_each_gate_its_models_dataset_target_and_limits shows_each_gate_its_models_dataset_target_and_limits
check gate_dry_run_is_check_config gate_dry_run_is_check_config
check json_says_the_same json_says_the_same
check store_references_resolve_without_running store_references_resolve_without_running
check a_target_that_does_not_answer_is_exit_3 a_target_that_does_not_answer_is_exit_3
finish
