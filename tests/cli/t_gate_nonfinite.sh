# Models whose outputs hold NaN or infinite values never pass: the digits
# baseline with one output column made NaN (or -inf), or every output NaN
# (0/0), as the candidate fails every accuracy and fidelity gate, with the
# NaN/Inf values counted in the reason (argmax and comparisons skip NaN, and
# SNR turned a NaN noise into "inf dB": they passed); as the baseline the
# gates that compare with it are errors, not passes.
. "$(dirname "$0")/lib.sh"

need_py onnx python3-onnx
in_example_copy

# model.onnx with its logits passed through Add(logits, C): C is 0 but for
# column 3, which is NaN or -inf; and a model whose logits are all 0/0.
"$PY" - <<'EOF' || fail "cannot make the models"
import onnx
from onnx import TensorProto, helper

def column(value, path):
    m = onnx.load("model.onnx")
    g = m.graph
    g.node[-1].output[0] = "pre"
    c = [0.0] * 10
    c[3] = value
    g.initializer.append(helper.make_tensor("c", TensorProto.FLOAT, [10], c))
    g.node.append(helper.make_node("Add", ["pre", "c"], ["logits"]))
    onnx.checker.check_model(m)
    onnx.save(m, path)

column(float("nan"), "nan_column.onnx")
column(float("-inf"), "neginf_column.onnx")
zeros = helper.make_tensor("w", TensorProto.FLOAT, [64, 10], [0.0] * 640)
g = helper.make_graph(
    [helper.make_node("MatMul", ["input", "w"], ["z"]),
     helper.make_node("Div", ["z", "z"], ["logits"])],
    "all_nan",
    [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["n", 64])],
    [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["n", 10])],
    [zeros])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
m.ir_version = 8
onnx.checker.check_model(m)
onnx.save(m, "all_nan.onnx")
EOF

config() { # FILE MODEL BASELINE GATES_JSON
	printf '{"model": "%s", "baseline": "%s",\n "dataset": {"inputs": "dataset/x.npy", "labels": "dataset/y.npy"},\n "gates": %s}\n' \
		"$2" "$3" "$4" >"$1"
}

gate_status() { # report gate -> its status
	json_get "[g['status'] for g in j['gates'] if g['name'] == '$2'][0]" "$1"
}
gate_reason() {
	json_get "[g['reason'] for g in j['gates'] if g['name'] == '$2'][0]" "$1"
}

expect_gate() { # REPORT GATE STATUS TEXT...
	local r=$1 g=$2 s=$3 t
	shift 3
	[ "$(gate_status "$r" "$g")" = "$s" ] ||
		fail "gate $g is $(gate_status "$r" "$g"), not $s: $(gate_reason "$r" "$g")"
	for t in "$@"; do
		gate_reason "$r" "$g" | grep -qF -- "$t" ||
			fail "the reason of gate $g does not say '$t': $(gate_reason "$r" "$g")"
	done
}

ALL='[{"name": "top1", "kind": "accuracy", "metric": "top1", "min": 0.9},
  {"name": "drop", "kind": "accuracy", "metric": "top1", "max_drop": 0.05},
  {"name": "f1", "kind": "accuracy", "metric": "macro_f1", "min": 0.5},
  {"name": "top3", "kind": "accuracy", "metric": "topk", "k": 3, "min": 0.9},
  {"name": "snr", "kind": "fidelity", "min_snr_db": 10},
  {"name": "agree", "kind": "fidelity", "min_top1_agreement": 0.9},
  {"name": "cos", "kind": "fidelity", "min_cosine": 0.9},
  {"name": "abs", "kind": "fidelity", "max_abs": 100, "max_mean_abs": 100}]'
GATES="top1 drop f1 top3 snr agree cos abs"

t_all_nan_candidate_fails_snr() {
	config snr.json all_nan.onnx model.onnx '[{"name": "snr", "kind": "fidelity", "min_snr_db": 20}]'
	expect_exit 1 mg gate -c snr.json --report r.json
	expect_gate r.json snr fail "the candidate's outputs hold 3600 NaN and 0 infinite values (of 3600)"
	expect_stdout_not_contains "inf dB"
}

t_nan_column_fails_every_gate() {
	config all.json nan_column.onnx model.onnx "$ALL"
	expect_exit 1 mg gate -c all.json --report r.json
	local g
	for g in $GATES; do
		expect_gate r.json "$g" fail "the candidate's outputs hold 360 NaN and 0 infinite values (of 3600)"
	done
	json_ok "all(f['value'] is None for g in j['gates'] for f in g['figures'])" r.json
	json_ok "all(g.get('confusion') is None for g in j['gates'])" r.json
}

t_infinite_column_fails_every_gate() {
	config all.json neginf_column.onnx model.onnx "$ALL"
	expect_exit 1 mg gate -c all.json --report r.json
	local g
	for g in $GATES; do
		expect_gate r.json "$g" fail "the candidate's outputs hold 0 NaN and 360 infinite values (of 3600)"
	done
}

t_nan_baseline_is_an_error() {
	config all.json model.onnx nan_column.onnx "$ALL"
	expect_exit 3 mg gate -c all.json --report r.json
	local g
	for g in drop snr agree cos abs; do
		expect_gate r.json "$g" error "the baseline's outputs hold 360 NaN and 0 infinite values (of 3600)"
	done
	# the gates that do not compare with the baseline are not touched by it
	for g in top1 f1 top3; do
		expect_gate r.json "$g" pass
	done
	json_ok "all(f['baseline'] is None for g in j['gates'] for f in g['figures'])" r.json
}

t_finite_models_still_pass() {
	config all.json model_int8.onnx model.onnx "$ALL"
	expect_exit 0 mg gate -c all.json --report r.json
}

check "an all-NaN candidate fails min_snr_db, counting the NaN values" t_all_nan_candidate_fails_snr
check "a candidate with a NaN column fails every accuracy and fidelity gate" \
	t_nan_column_fails_every_gate
check "a candidate with a -inf column fails every accuracy and fidelity gate" \
	t_infinite_column_fails_every_gate
check "a baseline with NaN outputs makes the gates that use it errors" t_nan_baseline_is_an_error
check "finite candidate and baseline still pass" t_finite_models_still_pass
finish
