# The cost gate counts instructions per inference instead of timing them.
# On these machines perf_event_open has no hardware counter (ENOENT), so
# the agent runs under valgrind's callgrind with collection switched on
# around the counted runs only: the digits model gated against itself
# gets the same count run after run (within 0.1%) and passes; the same
# model with one extra MatMul fails max_ratio 1.01; on qemu-aarch64 the
# gate is an error saying the count is not available on emulated targets.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_sshd.sh"

need valgrind valgrind
# valgrind cannot run an agent built with AddressSanitizer: under make
# sanitize (which names a plain build in MG_PLAIN_AGENT) the agents here are
# that one; modelgate itself stays sanitized.
[ -z "${MG_PLAIN_AGENT:-}" ] || export MODELGATE_AGENT=$MG_PLAIN_AGENT
need_py onnx python3-onnx
export MODELGATE_AGENT_CACHE=$TEST_TMP/agent-cache
BUILT=$(dirname "$MODELGATE")
cp "$EXAMPLES/model.onnx" . || fail "cannot copy the digits model"

# model.onnx whose logits go through one more MatMul, with the 10x10
# identity: the same outputs, a little more compute.
"$PY" - <<'EOF' || fail "cannot make the model"
import onnx
from onnx import TensorProto, helper
m = onnx.load("model.onnx")
g = m.graph
g.node[-1].output[0] = "pre"
eye = [1.0 if r == c else 0.0 for r in range(10) for c in range(10)]
g.initializer.append(helper.make_tensor("eye", TensorProto.FLOAT, [10, 10], eye))
g.node.append(helper.make_node("MatMul", ["pre", "eye"], ["logits"]))
onnx.checker.check_model(m)
onnx.save(m, "extra_matmul.onnx")
EOF

config() { # FILE MODEL TARGET GATE_SETTINGS
	printf '{"model": "%s", "baseline": "model.onnx", "targets": {"t": "%s"}, "shapes": {"input": [1, 64]},\n "gates": [{"name": "cost", "kind": "cost", %s}]}\n' \
		"$2" "$3" "$4" >"$1"
}

gate_json() { # EXPR on the cost gate of r.json
	json_get "[g for g in j['gates'] if g['name'] == 'cost'][0]$1" r.json
}

t_same_model_passes_with_the_same_count() {
	config aa.json model.onnx local '"max_ratio": 1.001, "max_instructions": 1e7'
	local i counts=""
	for i in 1 2 3; do
		expect_exit 0 mg gate -c aa.json --report r.json
		json_ok "[g['status'] for g in j['gates']] == ['pass']" r.json
		json_ok "j['gates'][0]['counter'].startswith('callgrind (valgrind-3.')" r.json
		json_ok "j['gates'][0]['unit'] == 'instructions' and j['gates'][0]['value'] > 1000" r.json
		json_ok "abs(j['gates'][0]['value'] / j['gates'][0]['baseline'] - 1) < 0.001" r.json
		gate_json "['reason']" | grep -qF "counted by callgrind (valgrind-3." ||
			fail "the reason does not say what counted: $(gate_json "['reason']")"
		expect_stderr_contains "counted by callgrind (valgrind-3."
		counts="$counts $(gate_json "['value']")"
	done
	"$PY" -c 'import sys; v = [float(x) for x in sys.argv[1:]]; sys.exit(0 if max(v) / min(v) - 1 < 0.001 else 1)' \
		$counts || fail "the counts of three runs differ by 0.1% or more:$counts"
	ls /tmp "${TMPDIR:-/tmp}" | grep -q '^modelgate-callgrind-' && fail "callgrind's dumps were left behind"
	return 0
}

t_one_extra_matmul_fails_the_ratio() {
	config ab.json extra_matmul.onnx local '"max_ratio": 1.01'
	expect_exit 1 mg gate -c ab.json --report r.json --html r.html
	json_ok "j['gates'][0]['status'] == 'fail' and j['gates'][0]['value'] > j['gates'][0]['baseline'] * 1.01" r.json
	gate_json "['reason']" | grep -qE "^1\.[0-9]{4}x the baseline's [0-9]+ instructions \(allowed 1\.01x\); counted by callgrind" ||
		fail "unexpected reason: $(gate_json "['reason']")"
	expect_stdout_contains "cost@t"
	grep -q 'instructions per inference' r.html || fail "the HTML report has no instruction bars"
}

t_emulated_target_is_not_counted() {
	need qemu-aarch64 qemu-user
	[ -x "$BUILT/aarch64/modelgate-agent" ] || fail "no aarch64 agent next to modelgate (make agents)"
	config emu.json model.onnx qemu-aarch64 '"max_ratio": 1.01'
	expect_exit 3 mg gate -c emu.json --report r.json
	json_ok "j['gates'][0]['status'] == 'error' and j['gates'][0].get('counter') is None" r.json
	gate_json "['reason']" | grep -qF "not available on emulated targets" ||
		fail "unexpected reason: $(gate_json "['reason']")"
}

t_bad_settings_exit_2_naming_them() {
	config bad.json model.onnx local '"max_ratio": -1'
	expect_exit 2 mg gate -c bad.json
	expect_error "gates[0].max_ratio: expected a non-negative number"
	config bad.json model.onnx local '"runs": 3'
	expect_exit 2 mg gate -c bad.json
	expect_error "gates[0]: a cost gate needs 'max_ratio' or 'max_instructions'"
}

check "the digits model against itself passes with the same count, run after run" \
	t_same_model_passes_with_the_same_count
check "one extra MatMul fails max_ratio 1.01" t_one_extra_matmul_fails_the_ratio
check "on qemu-aarch64 the gate is an error: not available on emulated targets" t_emulated_target_is_not_counted
t_dynamic_dimensions_without_shapes_are_refused() {
	printf '{"model": "model.onnx", "baseline": "model.onnx", "targets": {"t": "local"},\n "gates": [{"name": "cost", "kind": "cost", "max_ratio": 1.01}]}\n' >dyn.json
	expect_exit 2 mg gate -c dyn.json
	expect_stderr_contains "have dynamic dimensions"
	expect_stderr_contains "latency, memory and cost are measured on real inputs"
}

# A device without a hardware counter counts under its own valgrind: the
# loopback sshd's "device" is this machine, so its count is the local one's
# (within 2%: the environment an agent starts in moves its heap's layout).
t_ssh_device_counts_under_its_valgrind() {
	start_sshd
	export MODELGATE_SSH_OPTS="-F $SSH_CONFIG" MODELGATE_REMOTE_CACHE=$TEST_TMP/remote
	config ssh.json model.onnx ssh://mgtest '"max_ratio": 1.001'
	expect_exit 0 mg gate -c ssh.json --report r.json
	json_ok "j['gates'][0]['status'] == 'pass' and j['gates'][0]['counter'].startswith('callgrind (valgrind-3.')" r.json
	local remote local
	remote=$(gate_json "['value']")
	config aa.json model.onnx local '"max_ratio": 1.001'
	expect_exit 0 mg gate -c aa.json --report r.json
	local=$(gate_json "['value']")
	"$PY" -c 'import sys; a, b = map(float, sys.argv[1:]); sys.exit(0 if abs(a / b - 1) < 0.02 else 1)' "$remote" "$local" ||
		fail "over ssh $remote instructions, here $local"
	[ -z "$(ls -A "$MODELGATE_REMOTE_CACHE/tmp")" ] || fail "callgrind's dumps were left on the device: $(ls "$MODELGATE_REMOTE_CACHE/tmp")"
}

# Secondary figures from callgrind's cache simulation: reported for both
# models, equal for the same model, not judged.
t_memory_accesses_and_cache_misses_are_reported() {
	config ab.json extra_matmul.onnx local '"max_ratio": 1.5'
	expect_exit 0 mg gate -c ab.json --report r.json --markdown r.md
	json_ok "[f['name'] for f in j['gates'][0]['figures']][:2] == ['instructions', 'memory accesses']" r.json
	json_ok "all(f['value'] > 0 and f['baseline'] > 0 for f in j['gates'][0]['figures'] if f['name'] in ('memory accesses', 'cache misses'))" r.json
	json_ok "[f for f in j['gates'][0]['figures'] if f['name'] == 'memory accesses'][0]['value'] > [f for f in j['gates'][0]['figures'] if f['name'] == 'memory accesses'][0]['baseline']" r.json
	grep -q "memory accesses" r.md || fail "the Markdown report has no memory accesses"
}

check "a device over ssh counts under its own valgrind, as here" t_ssh_device_counts_under_its_valgrind
check "memory accesses and cache misses are reported beside the instructions" \
	t_memory_accesses_and_cache_misses_are_reported
check "bad cost settings exit 2 naming the JSON path" t_bad_settings_exit_2_naming_them
check "a model with dynamic dimensions and no dataset or shapes is refused" \
	t_dynamic_dimensions_without_shapes_are_refused
finish
