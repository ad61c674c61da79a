# Shapes are real or refused: a model of dynamic dimensions (an image model
# taking Nx3xHxW) gated without a dataset is refused by its latency and
# memory gates, exit 2, naming the input and the dimensions, until
# modelgate.json gives "shapes"; then the report records the input names,
# dtypes and shapes measured. `run` says which dimensions it set to 1, and
# a shape for no input of the model is refused.
. "$(dirname "$0")/lib.sh"

need_py onnx python3-onnx
"$PY" - <<'EOF' || fail "cannot make the model"
import onnx
from onnx import TensorProto, helper
g = helper.make_graph(
    [helper.make_node("ReduceMean", ["image"], ["mean"], axes=[2, 3], keepdims=0)], "detector",
    [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["n", 3, "height", "width"])],
    [helper.make_tensor_value_info("mean", TensorProto.FLOAT, ["n", 3])])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
m.ir_version = 8
onnx.checker.check_model(m)
onnx.save(m, "detector.onnx")
EOF

config() { # [SHAPES_JSON]
	printf '{"model": "detector.onnx", %s\n "gates": [{"name": "latency", "kind": "latency", "max_ms": 1000, "max_time": 1},\n  {"name": "memory", "kind": "memory", "max_rss_mb": 4096},\n  {"name": "size", "kind": "size", "max_bytes": 100000}]}\n' \
		"${1:+\"shapes\": $1,}" >modelgate.json
}

t_dynamic_dimensions_without_shapes_refused() {
	config
	expect_exit 2 mg gate -q
	expect_error "modelgate.json" "'image' (n=1, height=1, width=1)" '"shapes"' "no dataset"
	expect_no_file report.json
	# a gate that does not run the model needs no shapes
	expect_exit 0 mg gate --only size
}

t_given_shapes_are_measured_and_recorded() {
	config '{"image": [1, 3, 96, 128]}'
	expect_exit 0 mg gate -q --report report.json
	json_ok "j['inputs'] == [{'name': 'image', 'dtype': 'float32', 'shape': [1, 3, 96, 128]}]" report.json
	expect_exit 0 mg report report.json --format markdown
	expect_stdout_contains 'image float32 \[1, 3, 96, 128\]'
}

t_shape_for_no_input_refused() {
	config '{"picture": [1, 3, 96, 128]}'
	expect_exit 2 mg gate -q
	expect_error "a shape is given for 'picture', which is no input of 'detector.onnx'"
	config '{"image": [1, 3, "tall"]}'
	expect_exit 2 mg gate -q
	expect_error "shapes.image"
}

t_run_says_what_it_set_to_one() {
	expect_exit 0 mg run detector.onnx --iterations 3 --warmup 1 --min-time 0
	expect_stdout_matches "^inputs +image float32 \\[1,3,1,1\\]"
	expect_stdout_contains "dynamic dimensions set to 1: 'image' (n=1, height=1, width=1)"
	expect_exit 0 mg run detector.onnx --iterations 3 --warmup 1 --min-time 0 --shape image=1x3x32x32 --json
	json_ok "j['inputs'][0]['shape'] == [1, 3, 32, 32] and j['dynamic_set_to_1'] is None"
	expect_exit 2 mg run detector.onnx --shape picture=1x3x32x32
	expect_error "a shape is given for 'picture'"
}

check dynamic_dimensions_without_shapes_refused t_dynamic_dimensions_without_shapes_refused
check given_shapes_are_measured_and_recorded t_given_shapes_are_measured_and_recorded
check shape_for_no_input_refused t_shape_for_no_input_refused
check run_says_what_it_set_to_one t_run_says_what_it_set_to_one
finish
