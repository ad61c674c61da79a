# modelgate inspect FILE: what a model file declares, ONNX or TFLite (the
# models of tests/cli/make_tflite.py), in text and JSON; for TFLite what Arm
# NN 20.08 cannot run. A missing, unreadable or unknown file is bad input
# (exit 2) naming it. And push records a .tflite's format in the config.
. "$(dirname "$0")/lib.sh"

need_py flatbuffers python3-flatbuffers
for k in float int8-io fp16 prelu subgraphs; do
	"$PY" "$MG_SRCDIR/tests/cli/make_tflite.py" "$k" "$k.tflite" || fail "cannot make the $k model"
done
cp float.tflite float.bin
printf 'garbage, not a model' >garbage.tflite
printf 'garbage, not a model' >garbage.bin

onnx_text() {
	expect_exit 0 mg inspect "$EXAMPLES/model.onnx"
	expect_stdout_contains "Format:     onnx"
	expect_stdout_contains "Parameters: 2410"
	expect_stdout_contains "input    input float32 [batch,64]"
	expect_stdout_contains "output   logits float32 [batch,10]"
	expect_stdout_not_contains "Arm NN"
}

tflite_text() {
	expect_exit 0 mg inspect ./float.tflite
	expect_stdout_contains "File:       ./float.tflite"
	expect_stdout_contains "Format:     tflite"
	expect_stdout_contains "Parameters: 484"
	expect_stdout_contains "Weights:    1.9 KiB (1936 bytes)"
	expect_stdout_contains "Subgraphs:  1"
	expect_stdout_contains "input    input float32 [1,8,8,3]"
	expect_stdout_contains "output   output float32 [1,10]"
	expect_stdout_matches "^  CONV_2D +1$"
	expect_stdout_matches "^  FULLY_CONNECTED +1$"
	expect_stdout_contains "Unsupported by Arm NN 20.08: none"
}

tflite_quantized() {
	expect_exit 0 mg inspect "$TEST_TMP/int8-io.tflite"
	expect_stdout_contains "input    input int8 [1,8,8,3] scale 0.0078125 zero-point 0"
}

tflite_unsupported() {
	expect_exit 0 mg inspect ./prelu.tflite
	expect_stdout_contains "Unsupported by Arm NN 20.08: PRELU x1"
	expect_exit 0 mg inspect ./subgraphs.tflite
	expect_stdout_contains "Subgraphs:  2"
	expect_stdout_contains "Unsupported by Arm NN 20.08: 2 subgraphs"
}

tflite_by_content() {
	# an existing file is a file even without ./ or /
	expect_exit 0 mg inspect float.bin
	expect_stdout_contains "Format:     tflite"
}

tflite_json() {
	expect_exit 0 mg inspect --json ./fp16.tflite
	json_ok 'j["file"] == "./fp16.tflite" and j["config"]["format"] == "tflite"'
	json_ok 'j["config"]["inputs"] == [{"name": "input", "dtype": "float32", "shape": [1, 8, 8, 3]}]'
	json_ok '{o["name"]: o["count"] for o in j["config"]["ops"]}["DEQUANTIZE"] == 4'
	json_ok 'j["config"]["subgraphs"] == 1 and j["config"]["parameters"] == 484'
	json_ok 'j["unsupported_by_armnn_20_08"] is None'
	expect_exit 0 mg inspect --json ./int8-io.tflite
	json_ok 'j["config"]["inputs"][0]["quantization"] == {"scales": [0.0078125], "zero_points": [0], "dimension": 0}'
	expect_exit 0 mg inspect --json ./prelu.tflite
	json_ok 'j["unsupported_by_armnn_20_08"] == "PRELU x1"'
}

bad_files() {
	expect_exit 2 mg inspect ./missing.tflite
	expect_error "cannot read './missing.tflite'" "No such file"
	expect_exit 2 mg inspect garbage.tflite
	expect_error "'garbage.tflite' is not a valid TFLite model" "TFL3"
	expect_exit 2 mg inspect garbage.bin
	expect_error "'garbage.bin' is not a model modelgate reads"
	expect_exit 2 mg inspect --raw ./float.tflite
	expect_stderr_contains "'./float.tflite' is a file"
}

push_records_tflite() {
	export MODELGATE_HOME
	expect_exit 0 mg push tfl:v1 float.tflite --no-git
	expect_exit 0 mg inspect --json tfl:v1
	json_ok 'j["config"]["format"] == "tflite" and j["config"]["framework"] == "tflite"'
	json_ok 'j["config"]["ops"][0] == {"name": "CONV_2D", "count": 1}'
}

check onnx_text onnx_text
check tflite_text tflite_text
check tflite_quantized tflite_quantized
check tflite_unsupported tflite_unsupported
check tflite_by_content tflite_by_content
check tflite_json tflite_json
check bad_files bad_files
check push_records_tflite push_records_tflite
finish
