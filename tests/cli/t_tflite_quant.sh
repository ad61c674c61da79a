# Quantized TFLite models on the host side: make_tflite.py's int8-io model
# (int8 input, scale 1/128, and int8 output) run with a float32 input gives
# the outputs of the same input quantized by numpy by hand (halves away
# from zero, as TFLite's QUANTIZE), on local and on qemu-aarch64;
# --dequantize gives numpy's dequantization of the raw outputs, and
# --expect compares in the space asked for; a fidelity
# gate of the int8 model passes against its float twin (.tflite) and
# against the same float model as an NCHW ONNX model built here, with
# "layout": "nhwc" (refused naming both shapes without it).
. "$(dirname "$0")/lib.sh"

need_py numpy python3-numpy
need_py flatbuffers python3-flatbuffers
need_py onnx python3-onnx

RUN_OPTS="--warmup 0 --iterations 1 --min-time 0"
must "$PY" "$MG_SRCDIR/tests/cli/make_tflite.py" int8-io q.tflite
must "$PY" "$MG_SRCDIR/tests/cli/make_tflite.py" float f.tflite
# the scale and zero points as the model file says (inspect reads them)
must mg inspect q.tflite --json
cp "$OUT" q.json

# x.npy: a float32 image [1,8,8,3] in [-1, 1) with exact ties (k/256:
# x / (1/128) = k/2) and values past the int8 range; in_q/input.npy: it
# quantized by numpy by hand; y.npy: a label for the gate's dataset.
"$PY" - "$MG_SRCDIR/tests/cli" <<'PY' || fail "cannot make the inputs"
import json, os, sys
import numpy as np
q = json.load(open("q.json"))["config"]["inputs"][0]["quantization"]
s, z = np.float32(q["scales"][0]), q["zero_points"][0]
x = (np.random.RandomState(4).randint(-300, 300, (1, 8, 8, 3)) / 256.0).astype(np.float32)
v = x / s  # float32, as the reference kernel divides
r = np.sign(v) * np.floor(np.abs(v) + np.float32(0.5))  # halves away from zero, not np.round
assert (np.round(v) != r).any()  # the inputs hold ties np.round would round to even
xq = np.clip(r + z, -128, 127).astype(np.int8)
for d in ("in_f", "in_q"):
    os.makedirs(d, exist_ok=True)
np.save("in_f/input.npy", x)
np.save("in_q/input.npy", xq)
np.save("x.npy", x)
np.save("xq.npy", xq)
np.save("y.npy", np.array([7], np.int64))  # the float model's class
PY

# b.onnx: f.tflite's network in NCHW (the weights from make_tflite.py):
# Conv (OIHW) + Relu, transposed to NHWC before the reshape so the
# fully-connected layer sees the features in TFLite's order.
"$PY" - "$MG_SRCDIR/tests/cli" <<'PY' || fail "cannot make the ONNX model"
import sys
sys.path.insert(0, sys.argv[1])
import numpy as np, onnx
from onnx import TensorProto, helper as h, numpy_helper as nh
import make_tflite
cw, cb, fw, fb = make_tflite.weights()
inits = [nh.from_array(cw.transpose(0, 3, 1, 2).copy(), "cw"), nh.from_array(cb, "cb"),
         nh.from_array(fw, "fw"), nh.from_array(fb, "fb"),
         nh.from_array(np.array([1, 36], np.int64), "shape")]
nodes = [h.make_node("Conv", ["x", "cw", "cb"], ["c"], kernel_shape=[3, 3], strides=[2, 2]),
         h.make_node("Relu", ["c"], ["r"]),
         h.make_node("Transpose", ["r"], ["t"], perm=[0, 2, 3, 1]),
         h.make_node("Reshape", ["t", "shape"], ["f"]),
         h.make_node("Gemm", ["f", "fw", "fb"], ["y"], transB=1)]
g = h.make_graph(nodes, "float_twin", [h.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])],
                 [h.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])], inits)
m = h.make_model(g, opset_imports=[h.make_opsetid("", 13)])
m.ir_version = 8
onnx.checker.check_model(m)
onnx.save(m, "b.onnx")
PY

gate_config() { # BASELINE [EXTRA [INPUTS]]: a fidelity and an accuracy gate of q.tflite
	printf '{"model": "q.tflite", "baseline": "%s", "dataset": {"inputs": "%s", "labels": "y.npy"},\n "targets": {"host": "local"},\n "gates": [{"name": "fidelity", "kind": "fidelity", "min_cosine": 0.99, "max_abs": 0.25%s},\n  {"name": "accuracy", "kind": "accuracy", "metric": "top1", "max_drop": 1}]}\n' \
		"$1" "${3:-x.npy}" "${2:-}" >modelgate.json
}

t_float_input_is_quantized_as_numpy_by_hand() {
	expect_exit 0 mg run q.tflite --inputs in_f --outputs out_f $RUN_OPTS
	expect_stdout_contains "input 'input' quantized with scale 0.0078125 zero-point 0"
	expect_exit 0 mg run q.tflite --inputs in_q --outputs out_q $RUN_OPTS --json
	json_ok "j['inputs_quantized'] == [] and j['inputs'][0]['dtype'] == 'int8' and not j['outputs_dequantized']"
	expect_exit 0 mg run q.tflite --inputs in_f --outputs out_fd $RUN_OPTS --json --dequantize
	json_ok "j['inputs_quantized'] == [\"input 'input' quantized with scale 0.0078125 zero-point 0\"]"
	json_ok "j['outputs_dequantized'] and j['outputs'][0]['dtype'] == 'float32'"
	"$PY" -c 'import numpy as np
a, b = np.load("out_f/output.npy"), np.load("out_q/output.npy")
assert a.dtype == np.int8 and a.shape == (1, 10), (a.dtype, a.shape)
assert (a == b).all() and len(set(a.ravel())) > 3, (a, b)' || fail "the outputs differ, or are not int8 logits"
}

t_quantized_on_the_host_for_qemu_too() {
	# the host quantizes, so an emulated aarch64 target (Arm NN CpuAcc)
	# gets the same integers and gives the same raw outputs
	expect_exit 0 mg run q.tflite --target qemu-aarch64 --inputs in_f --outputs out_qemu $RUN_OPTS
	expect_stdout_contains "input 'input' quantized with scale 0.0078125 zero-point 0"
	expect_exit 0 mg run q.tflite --inputs in_q --outputs out_local $RUN_OPTS
	cmp -s out_qemu/output.npy out_local/output.npy || fail "qemu-aarch64's outputs differ from local's"
}

t_dequantize_gives_numpy_dequantization() {
	expect_exit 0 mg run q.tflite --inputs in_q --outputs out_raw $RUN_OPTS
	expect_exit 0 mg run q.tflite --inputs in_q --outputs out_d --dequantize $RUN_OPTS
	"$PY" -c 'import json, numpy as np
q = json.load(open("q.json"))["config"]["outputs"][0]["quantization"]
raw, d = np.load("out_raw/output.npy"), np.load("out_d/output.npy")
want = ((raw.astype(np.int32) - q["zero_points"][0]) * np.float32(q["scales"][0])).astype(np.float32)
assert d.dtype == np.float32 and (d == want).all(), (d, want)' || fail "--dequantize is not scale * (q - zero)"
	# --expect compares in the space asked for: reals with --dequantize, else integers
	expect_exit 0 mg run q.tflite --inputs in_q --expect out_d --dequantize --atol 0 --rtol 0 $RUN_OPTS
	expect_exit 0 mg run q.tflite --inputs in_q --expect out_raw --atol 0 --rtol 0 $RUN_OPTS
	expect_exit 1 mg run q.tflite --inputs in_q --expect out_d --atol 0 --rtol 0 $RUN_OPTS
}

t_fidelity_against_the_float_twin() {
	gate_config f.tflite
	expect_exit 0 mg gate --report report.json
	json_ok "[g['status'] for g in j['gates']] == ['pass', 'pass']" report.json
	json_ok "'inputs matched by name, outputs by name' in j['gates'][0]['reason']" report.json
	cp report.json float_dataset.json
	# the dataset as raw int8: the candidate takes it as it is (its figures
	# are those of the float dataset quantized), the float twin gets it
	# dequantized
	gate_config f.tflite "" xq.npy
	expect_exit 0 mg gate --report report.json
	json_ok "[g['status'] for g in j['gates']] == ['pass', 'pass']" report.json
	json_ok "[f['value'] for f in j['gates'][1]['figures']] == [f['value'] for f in json.load(open('float_dataset.json'))['gates'][1]['figures']]" report.json
}

t_fidelity_against_an_nchw_onnx_model_with_a_layout() {
	gate_config b.onnx ', "layout": "nhwc"'
	expect_exit 0 mg gate --report report.json
	json_ok "[g['status'] for g in j['gates']] == ['pass', 'pass']" report.json
	json_ok "'inputs matched by order, outputs by order' in j['gates'][0]['reason']" report.json
	# without the layout the image cannot meet the ONNX model: both shapes said
	gate_config b.onnx
	expect_exit 2 mg gate
	expect_stderr_contains "[1,8,8,3]"
	expect_stderr_contains "[1,3,8,8]"
}

check "a float32 input is quantized as numpy does it by hand" t_float_input_is_quantized_as_numpy_by_hand
check "quantized on the host for qemu-aarch64 too" t_quantized_on_the_host_for_qemu_too
check "--dequantize gives numpy's dequantization of the raw outputs" t_dequantize_gives_numpy_dequantization
check "fidelity of the int8 model against its float twin" t_fidelity_against_the_float_twin
check "fidelity against the NCHW ONNX model with layout nhwc" t_fidelity_against_an_nchw_onnx_model_with_a_layout
finish
