# modelgate init: a starting modelgate.json from a model and what the user
# names beside it. A baseline and a dataset bring accuracy and fidelity
# gates; a target names where latency and memory run (an emulated one gets
# no absolute max_ms, which gate refuses there); the limits measured from the
# model are round integers above today's figure plus 10%, never the figure
# itself; what init writes runs, and a bad target writes nothing.
. "$(dirname "$0")/lib.sh"

in_example_copy

gates_of() { json_get "[g['name'] for g in j['gates']]" "$1"; }

baseline_and_dataset_bring_accuracy_and_fidelity() {
	expect_exit 0 mg init model_int8.onnx --baseline model.onnx --dataset dataset -o full.json
	expect_stderr_contains "wrote 'full.json'"
	json_ok "j['baseline'] == 'model.onnx' and j['dataset'] == {'inputs': 'dataset/x.npy', 'labels': 'dataset/y.npy'}" full.json
	[ "$(gates_of full.json)" = "['accuracy', 'fidelity', 'latency', 'size', 'memory']" ] ||
		fail "gates: $(gates_of full.json)"
	json_ok "[g for g in j['gates'] if g['name'] == 'accuracy'][0]['max_drop'] > 0" full.json
	json_ok "'max_ratio' in [g for g in j['gates'] if g['name'] == 'latency'][0]" full.json
	json_ok "'max_growth' in [g for g in j['gates'] if g['name'] == 'size'][0]" full.json
	# what it wrote runs: the int8 candidate meets the accuracy, fidelity and size it proposes
	expect_exit 0 mg gate -c full.json --only accuracy --only fidelity --only size --report r.json
	json_ok "[g['status'] for g in j['gates']] == ['pass', 'pass', 'skip', 'pass', 'skip']" r.json
}

without_baseline_or_dataset_no_accuracy_or_fidelity() {
	expect_exit 0 mg init model.onnx --dataset dataset -o data.json
	[ "$(gates_of data.json)" = "['latency', 'size', 'memory']" ] || fail "gates: $(gates_of data.json)"
	expect_exit 0 mg init model.onnx --baseline model_v2.onnx -o base.json
	[ "$(gates_of base.json)" = "['latency', 'size', 'memory']" ] || fail "gates: $(gates_of base.json)"
	json_ok "'dataset' not in j" base.json
}

a_dataset_that_is_no_path_is_a_reference() {
	expect_exit 0 mg init model_int8.onnx --baseline digits:production --dataset digits-data:test -o ref.json
	json_ok "j['dataset'] == 'digits-data:test' and j['baseline'] == 'digits:production'" ref.json
	[ "$(gates_of ref.json)" = "['accuracy', 'fidelity', 'latency', 'size', 'memory']" ] ||
		fail "gates: $(gates_of ref.json)"
	# a folder of inputs without labels: fidelity only
	mkdir -p inputs-only && cp dataset/x.npy inputs-only/
	expect_exit 0 mg init model_int8.onnx --baseline model.onnx --dataset inputs-only -o inputs.json
	json_ok "j['dataset'] == {'inputs': 'inputs-only/x.npy'}" inputs.json
	[ "$(gates_of inputs.json)" = "['fidelity', 'latency', 'size', 'memory']" ] || fail "gates: $(gates_of inputs.json)"
}

limits_are_round_integers_with_a_margin() {
	expect_exit 0 mg init model.onnx -o round.json
	# model.onnx: 10340 bytes, 2410 parameters; plus 10%: 11374 and 2651
	local bytes params
	bytes=$(json_get "[g for g in j['gates'] if g['name'] == 'size'][0]['max_bytes']" round.json)
	params=$(json_get "[g for g in j['gates'] if g['name'] == 'size'][0]['max_parameters']" round.json)
	[ "$bytes" = 12000 ] || fail "max_bytes $bytes, expected 12000 (10340 + 10%, up to two digits)"
	[ "$params" = 2700 ] || fail "max_parameters $params, expected 2700 (2410 + 10%, up to two digits)"
	# integers as integers, in the file's text too
	grep -q '"max_bytes": 12000,' round.json || fail "max_bytes is not written as an integer: $(grep max_bytes round.json)"
	! grep -qE '[0-9]\.[0-9]{6,}' round.json || fail "a number with a long fraction: $(grep -E '[0-9]\.[0-9]{6,}' round.json)"
	json_ok "all(isinstance(g[k], int) for g in j['gates'] for k in ('max_ms', 'max_rss_mb', 'max_bytes', 'max_parameters') if k in g)" round.json
	# the same rule for the int8 model: 3720 bytes -> 4092 -> 4100
	expect_exit 0 mg init model_int8.onnx -o round8.json
	json_ok "[g for g in j['gates'] if g['name'] == 'size'][0]['max_bytes'] == 4100" round8.json
}

a_target_names_where_latency_and_memory_run() {
	expect_exit 0 mg init model.onnx --target board=ssh://pi@board.local -o ssh.json
	json_ok "j['targets'] == {'board': 'ssh://pi@board.local'}" ssh.json
	json_ok "all(g['target'] == 'board' for g in j['gates'] if g['kind'] in ('latency', 'memory'))" ssh.json
	# an exec prefix with '=' in it is a whole spec, as gate --target reads it
	expect_exit 0 mg init model.onnx --target 'exec:env A=1' -o exec.json
	json_ok "j['targets'] == {'device': 'exec:env A=1'}" exec.json
	# emulated: no max_ms (gate refuses one there); with a baseline, max_ratio
	expect_exit 0 mg init model.onnx --target qemu-aarch64 -o emu.json
	json_ok "j['targets'] == {'emulated': 'qemu-aarch64'} and 'latency' not in [g['kind'] for g in j['gates']]" emu.json
	expect_exit 0 mg init model_int8.onnx --baseline model.onnx --target qemu-aarch64 -o emu2.json
	json_ok "[g for g in j['gates'] if g['kind'] == 'latency'][0].keys() >= {'max_ratio'} and all('max_ms' not in g for g in j['gates'])" emu2.json
	expect_exit 0 mg check-config -c emu2.json --target emulated=local
}

a_bad_target_writes_nothing() {
	expect_exit 2 mg init model.onnx --target qemu-riscv64 -o bad.json
	expect_error "qemu-riscv64"
	expect_no_file bad.json
	expect_exit 2 mg init model.onnx --target 'board=nowhere' -o bad.json
	expect_error "nowhere"
	expect_no_file bad.json
}

check baseline_and_dataset_bring_accuracy_and_fidelity baseline_and_dataset_bring_accuracy_and_fidelity
check without_baseline_or_dataset_no_accuracy_or_fidelity without_baseline_or_dataset_no_accuracy_or_fidelity
check a_dataset_that_is_no_path_is_a_reference a_dataset_that_is_no_path_is_a_reference
check limits_are_round_integers_with_a_margin limits_are_round_integers_with_a_margin
check a_target_names_where_latency_and_memory_run a_target_names_where_latency_and_memory_run
check a_bad_target_writes_nothing a_bad_target_writes_nothing
finish
