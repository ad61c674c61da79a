# modelgate run on .tflite models: the agent's TFLite engine (Arm NN 20.08
# through libmodelgate-tflite.so) on the local target (CpuRef) and under
# qemu-aarch64 (CpuAcc, the NEON kernels of the Arm Compute Library), and
# on an exec: device that gets them copied. The
# float model's output is computed here with numpy from the generator's
# weights (3x3 CONV_2D, stride 2, VALID, fused RELU; RESHAPE;
# FULLY_CONNECTED), also with fp16 weights (folded to fp32 in the agent);
# MediaPipe's face_detection_short_range and hand_landmark_lite are checked
# against LiteRT.js, and so are the generated quantized models (bit for bit
# on CpuRef, within one step on CpuAcc);
# what Arm NN cannot run is refused with exit 2 naming the operator and the
# engine.
. "$(dirname "$0")/lib.sh"

need_tflite
for k in float fp16 prelu subgraphs uint8; do
	"$PY" "$GEN" $k $k.tflite || fail "make_tflite.py $k failed"
done
mkdir -p in expect expect-fp16
"$PY" - "$MG_SRCDIR/tests/cli" <<'PY' || fail "cannot compute the expected output"
import sys
import numpy as np
sys.path.insert(0, sys.argv[1])
import make_tflite


def model(x, cw, cb, fw, fb):
    conv = np.zeros((1, 3, 3, 4), np.float64)
    for i in range(3):
        for j in range(3):
            patch = x[0, 2 * i:2 * i + 3, 2 * j:2 * j + 3, :].astype(np.float64)
            conv[0, i, j, :] = np.tensordot(cw.astype(np.float64), patch, axes=([1, 2, 3], [0, 1, 2])) + cb
    return (np.maximum(conv, 0).reshape(1, 36) @ fw.T.astype(np.float64) + fb).astype(np.float32)


w = make_tflite.weights()  # conv OHWI [4,3,3,3] and bias, fc [10,36] and bias
x = np.random.RandomState(7).uniform(-1, 1, (1, 8, 8, 3)).astype(np.float32)
np.save("in/input.npy", x)
np.save("expect/output.npy", model(x, *w))
# the fp16 kind: the same weights through halves, the first conv bias 2^-20
h = [a.copy() for a in w]
h[1][0] = 2.0 ** -20
np.save("expect-fp16/output.npy", model(x, *[a.astype(np.float16).astype(np.float32) for a in h]))
PY
FD=$(tflite_model face_detection_short_range) || exit 1
mkdir -p in-fd
"$PY" -c 'import numpy as np
np.save("in-fd/input.npy", np.random.RandomState(5).uniform(-1, 1, (1, 128, 128, 3)).astype(np.float32))' &&
	litert_run "$FD" ref-fd input=in-fd/input.npy >/dev/null || fail "LiteRT.js cannot run '$FD'"
HL=$(tflite_model hand_landmark_lite) || exit 1
mkdir -p in-hl
"$PY" -c 'import numpy as np
np.save("in-hl/input_1.npy", np.random.RandomState(6).uniform(0, 1, (1, 224, 224, 3)).astype(np.float32))' &&
	litert_run "$HL" ref-hl input_1=in-hl/input_1.npy >/dev/null || fail "LiteRT.js cannot run '$HL'"
# the quantized kinds, 16 inputs in one batch; q-wide adds a hidden layer
# of 1024 (make_tflite.py --hidden), the one model CpuAcc rounds otherwise
mkdir -p in-qf in-q8 in-qu
"$PY" -c 'import numpy as np
x = np.random.RandomState(3).uniform(-1, 1, (16, 8, 8, 3)).astype(np.float32)
np.save("in-qf/input.npy", x)
np.save("in-q8/input.npy", np.clip(np.round(x * 128), -128, 127).astype(np.int8))
np.save("in-qu/input.npy", np.clip(np.round(x * 128) + 128, 0, 255).astype(np.uint8))' ||
	fail "cannot write the quantized inputs"
for q in int8:qf int8-io:q8 uint8:qu wide:q8; do
	k=${q%%:*}
	if [ "$k" = wide ]; then
		"$PY" "$GEN" int8-io q-wide.tflite --batch 16 --hidden 1024
	else
		"$PY" "$GEN" $k q-$k.tflite --batch 16
	fi || fail "make_tflite.py $k --batch 16 failed"
	litert_run q-$k.tflite ref-q-$k input=in-${q#*:}/input.npy >/dev/null || fail "LiteRT.js cannot run q-$k.tflite"
done
FAST="--iterations 3 --warmup 1 --min-time 0"

t_float_local() {
	expect_exit 0 mg run float.tflite --inputs in --expect expect --atol 1e-5 --rtol 1e-4 $FAST --json
	json_ok "j['target']['engine'] == 'tflite' and j['target']['engine_version'] == 'armnn 20.08 CpuRef'"
	json_ok "j['expect']['ok']"
	expect_exit 0 mg run float.tflite --inputs in --outputs out $FAST
	expect_stdout_contains "target    local ($(uname -m), tflite armnn 20.08 CpuRef)"
	"$PY" -c 'import numpy as np, sys
a, b = np.load("out/output.npy"), np.load("expect/output.npy")
sys.exit(0 if a.dtype == np.float32 and a.shape == (1, 10) and np.allclose(a, b, rtol=1e-4, atol=1e-5) else 1)' ||
		fail "the output differs from numpy's"
	# a wrong output is caught: the comparison is not vacuous
	mkdir -p wrong
	"$PY" -c 'import numpy as np; a = np.load("expect/output.npy"); a[0, 3] += 0.01; np.save("wrong/output.npy", a)'
	expect_exit 1 mg run float.tflite --inputs in --expect wrong --atol 1e-5 --rtol 1e-4 $FAST
}

t_float_qemu() {
	need qemu-aarch64 qemu-user
	[ -f "$BUILT/aarch64/libmodelgate-tflite.so" ] || fail "no aarch64 TFLite engine (make agents)"
	expect_exit 0 mg run float.tflite --target qemu-aarch64 --inputs in --expect expect \
		--atol 1e-5 --rtol 1e-4 $FAST --json
	json_ok "j['target']['arch'] == 'aarch64' and j['target']['emulated']"
	json_ok "j['target']['engine'] == 'tflite' and j['target']['engine_version'] == 'armnn 20.08 CpuAcc'"
	json_ok "j['expect']['ok']"
}

# fp16 weights through DEQUANTIZE (as MediaPipe stores them) are folded
# to fp32 before Arm NN sees them: the result is numpy's with the halves
t_fp16_folded() {
	expect_exit 0 mg run fp16.tflite --inputs in --expect expect-fp16 --atol 1e-5 --rtol 1e-4 $FAST --json
	json_ok "j['expect']['ok']"
}

# like_litert TARGET MODEL INDIR REFDIR NPY_COMPARE_ARGS...: MODEL runs on
# TARGET through modelgate and its outputs match LiteRT.js's in REFDIR
like_litert() {
	local t=$1 m=$2 in=$3 ref=$4 got=$TEST_TMP/got-$(basename "$2" .tflite)-$1
	shift 4
	expect_exit 0 mg run "$m" --target $t --inputs "$in" --outputs "$got" --iterations 1 --warmup 0 --min-time 0
	case $t:${MODELGATE_TFLITE_BACKEND:-} in
	local:* | *:CpuRef) expect_stdout_contains "tflite armnn 20.08 CpuRef" ;;
	*) expect_stdout_contains "tflite armnn 20.08 CpuAcc" ;;
	esac
	npy_compare "$@" "$ref" "$got" >"$IO/cmp" 2>&1 || fail "$m on $t differs from LiteRT: $(tail -3 "$IO/cmp")"
}

# MediaPipe's face_detection_short_range and hand_landmark_lite (fp16
# weights) against LiteRT.js, on CpuRef and on CpuAcc under qemu: each
# output within 1e-4 of its range
t_mediapipe_matches_litert() {
	local t
	for t in local qemu-aarch64; do
		like_litert $t "$FD" in-fd ref-fd --range-tol 1e-4
		like_litert $t "$HL" in-hl ref-hl --range-tol 1e-4
	done
}

# int8 (per-channel conv weights; float io through QUANTIZE/DEQUANTIZE, and
# int8 io) and uint8 (per-tensor), also with a hidden layer of 1024: CpuRef
# gives LiteRT.js's outputs bit for bit. CpuAcc gives a few of the 160
# outputs one step off (e.g. 1 of uint8's, 3 of the wide model's; never
# more) and is held to one step. Why, checked with numpy for uint8: its
# exact integer arithmetic, rounded once, gives LiteRT's 160 outputs, and
# the one CpuAcc differs on is the output whose exact rescaled value lies
# nearest a tie of all 160 (95.50047: LiteRT 96, CpuAcc 95). The Arm
# Compute Library rescales gemmlowp's way, a fixed-point multiply and a
# rounding shift, which can land on the other side of such a near tie (the
# difference TFLite's own TFLITE_SINGLE_ROUNDING switch is about). Neither
# engine is wrong by its own rules, and it is not these models' scales, so
# they are left as they are. With MODELGATE_TFLITE_BACKEND=CpuRef the
# aarch64 agent under qemu takes CpuRef alone, and is bit-exact there too.
t_quantized_match_litert() {
	local q k
	for q in int8:qf int8-io:q8 uint8:qu wide:q8; do
		k=${q%%:*}
		like_litert local q-$k.tflite in-${q#*:} ref-q-$k --exact
		# the int8 kind's float output is dequantized: a step is its scale 8/255
		like_litert qemu-aarch64 q-$k.tflite in-${q#*:} ref-q-$k --max-steps 1 --step 0.03137254902
		MODELGATE_TFLITE_BACKEND=CpuRef like_litert qemu-aarch64 q-$k.tflite in-${q#*:} ref-q-$k --exact
	done
}

# like a missing engine library, the target's set-up: exit 3
t_backend_not_to_be_had_exits_3() {
	MODELGATE_TFLITE_BACKEND=GpuAcc expect_exit 3 mg run float.tflite $FAST
	expect_error "MODELGATE_TFLITE_BACKEND 'GpuAcc' is not CpuRef or CpuAcc"
	# on x86_64 there is no CpuAcc to take
	MODELGATE_TFLITE_BACKEND=CpuAcc expect_exit 3 mg run float.tflite $FAST
	expect_error "MODELGATE_TFLITE_BACKEND asks for CpuAcc, which is not loaded from"
}

# a device (exec:) gets the engine and Arm NN beside the agent, once
t_float_device() {
	export MODELGATE_REMOTE_CACHE=$TEST_TMP/device
	expect_exit 0 mg run float.tflite --target exec:env --inputs in --expect expect \
		--atol 1e-5 --rtol 1e-4 $FAST --json
	json_ok "j['target']['engine_version'] == 'armnn 20.08 CpuRef' and j['expect']['ok']"
	json_ok "j['target']['bytes_uploaded'] > 0"
	local bin
	bin=$(echo "$MODELGATE_REMOTE_CACHE"/bin/*)
	expect_same_file "$BUILT/libmodelgate-tflite.so" "$bin/libmodelgate-tflite.so"
	expect_same_file "$BUILT/armnn/libarmnn.so.22" "$bin/armnn/libarmnn.so.22"
	expect_same_file "$BUILT/armnn/backends/Arm_CpuRef_backend.so" "$bin/armnn/backends/Arm_CpuRef_backend.so"
	expect_exit 0 mg run float.tflite --target exec:env --inputs in $FAST --json
	json_ok "j['target']['bytes_uploaded'] == 0"
}

# quantized inputs and outputs are the raw integers
t_uint8_raw() {
	expect_exit 0 mg run uint8.tflite $FAST --json
	json_ok "[(t['name'], t['dtype'], t['shape']) for t in j['inputs']] == [('input', 'uint8', [1, 8, 8, 3])]"
}

t_unsupported_operator() {
	expect_exit 2 mg run prelu.tflite $FAST
	expect_error "cannot load 'prelu.tflite' on target 'local'" \
		"armnn 20.08 CpuRef cannot run this model: PRELU x1 not supported"
}

t_several_subgraphs() {
	expect_exit 2 mg run subgraphs.tflite $FAST
	expect_error "cannot load 'subgraphs.tflite' on target 'local'" \
		"armnn 20.08 CpuRef cannot run this model: 2 subgraphs not supported"
}

t_missing_engine() {
	MODELGATE_TFLITE_LIB=$TEST_TMP/none.so expect_exit 3 mg run float.tflite $FAST
	expect_error "target 'local'" "cannot load the TFLite engine '$TEST_TMP/none.so' (MODELGATE_TFLITE_LIB)"
}

# The agent opens the engine of the model's format at hello, and only that
# one: a TFLite run needs no ONNX Runtime (nor pays for starting it).
t_tflite_run_starts_no_onnx_runtime() {
	need strace strace
	# LeakSanitizer cannot run under ptrace: under make sanitize the traced
	# run checks for leaks no more (ASan still checks every access)
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 strace -f -e trace=openat -o opened.txt "$MODELGATE" run float.tflite $FAST --json >out.json 2>/dev/null ||
		fail "the run under strace failed"
	json_ok "j['target']['engine'] == 'tflite'" out.json
	grep -q 'libmodelgate-tflite.so' opened.txt || fail "strace saw no TFLite engine opened"
	! grep -q 'libonnxruntime' opened.txt || fail "a TFLite run opened ONNX Runtime: $(grep libonnxruntime opened.txt | head -1)"
}

check float_model_matches_numpy_on_local_cpuref t_float_local
check a_tflite_run_starts_no_onnx_runtime t_tflite_run_starts_no_onnx_runtime
check float_model_matches_numpy_on_qemu_cpuacc t_float_qemu
check fp16_weights_are_folded_and_match_numpy t_fp16_folded
check mediapipe_models_match_litert_on_local_and_qemu t_mediapipe_matches_litert
check quantized_models_match_litert_exactly_on_cpuref_within_a_step_on_cpuacc t_quantized_match_litert
check a_backend_asked_for_that_is_no_backend_or_not_loaded_exits_3 t_backend_not_to_be_had_exits_3
check float_model_runs_on_an_exec_device t_float_device
check quantized_io_is_the_raw_integers t_uint8_raw
check unsupported_operator_exits_2_naming_it t_unsupported_operator
check several_subgraphs_exit_2 t_several_subgraphs
check missing_engine_library_exits_3 t_missing_engine
finish
