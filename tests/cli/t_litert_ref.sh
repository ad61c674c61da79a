# The TFLite reference itself (tests/cli/litert_run.mjs: LiteRT.js under
# Node.js, and tests/cli/npy_compare.py), checked against things that do not
# depend on it, so that the engine tests comparing `modelgate run` with it
# stand on solid ground: a one-operator FULLY_CONNECTED model built here
# (with make_tflite.py's Model, the one writer of test flatbuffers)
# (float32, int8, uint8) gives numpy's result; MediaPipe's
# face_detection_short_range gives the same bytes twice for one input and
# different outputs for another input; inputs of the wrong shape, type or
# name, and a file that is not a model, are refused; the comparison fails on
# a small perturbation. The MediaPipe models come from make deps-test.
. "$(dirname "$0")/lib.sh"

need node nodejs
need_py numpy python3-numpy
need_py flatbuffers python3-flatbuffers
FD=$(tflite_model face_detection_short_range) || exit 1
HAND=$(tflite_model hand_landmark_lite) || exit 1
SEG=$(tflite_model selfie_segmentation) || exit 1

# make_fc.py DTYPE OUT.tflite X.npy WANT.npy DIR: the smallest .tflite that
# computes something (one FULLY_CONNECTED: x [2, 4], weights [3, 4], bias
# [3]), an input, and what numpy computes for it. int8 and uint8 use scale 1
# and zero points 0 and 128, so their arithmetic is exact integers and
# LiteRT must match bit for bit, saturation included.
cat >"$TEST_TMP/make_fc.py" <<'PY'
import sys
import numpy as np

sys.path.insert(0, sys.argv[5])
import make_tflite as mt  # noqa: E402  (its Model and Graph write the flatbuffer)

dtype, out, xpath, wantpath = sys.argv[1:5]
rng = np.random.default_rng(7)
if dtype == "float32":
    x = rng.standard_normal((2, 4)).astype(np.float32)
    w = rng.standard_normal((3, 4)).astype(np.float32)
    bias = rng.standard_normal(3).astype(np.float32)
    want = (x.astype(np.float64) @ w.T.astype(np.float64) + bias).astype(np.float32)
    ty, bty, q = mt.FLOAT32, mt.FLOAT32, lambda z: None
else:  # scale 1 everywhere: y = clamp(sum((x - zx) * (w - zw)) + bias + zy)
    lo, hi = (-128, 127) if dtype == "int8" else (0, 255)
    z = 0 if dtype == "int8" else 128
    x = rng.integers(-12, 13, (2, 4)) + z
    w = rng.integers(-10, 11, (3, 4)) + z
    bias = rng.integers(-20, 21, 3).astype(np.int32)
    want = np.clip((x - z) @ (w - z).T + bias + z, lo, hi).astype(dtype)
    x, w = x.astype(dtype), w.astype(dtype)
    ty, bty, q = (mt.INT8 if dtype == "int8" else mt.UINT8), mt.INT32, lambda z: ([1.0], [z], 0)
m = mt.Model()
g = m.graph()
zero = 0 if dtype in ("float32", "int8") else 128
tx = g.tensor("x", (2, 4), ty, quant=q(zero))
tw = g.tensor("w", (3, 4), ty, data=w.tobytes(), quant=q(zero))
tb = g.tensor("bias", (3,), bty, data=bias.tobytes(), quant=q(0))
ty_ = g.tensor("y", (2, 3), ty, quant=q(zero))
g.op("FULLY_CONNECTED", [tx, tw, tb], [ty_], mt.fc_options)  # no fused activation
g.inputs, g.outputs = [tx], [ty_]
open(out, "wb").write(m.write())
np.save(xpath, x)
np.save(wantpath, want)
PY
for d in float32 int8 uint8; do
	must "$PY" "$TEST_TMP/make_fc.py" "$d" "fc_$d.tflite" "x_$d.npy" "want_$d.npy" "$MG_SRCDIR/tests/cli"
done
"$PY" -c 'import numpy as np
rng = np.random.default_rng(3)
np.save("face.npy", rng.random((1, 128, 128, 3), dtype=np.float32))
np.save("face2.npy", rng.random((1, 128, 128, 3), dtype=np.float32))
np.save("small.npy", rng.random((1, 64, 64, 3), dtype=np.float32))
np.save("ints.npy", rng.integers(0, 9, (1, 128, 128, 3)).astype(np.int32))
np.save("hand.npy", rng.random((1, 224, 224, 3), dtype=np.float32))
np.save("seg.npy", rng.random((1, 256, 256, 3), dtype=np.float32))' ||
	fail "cannot write the inputs"

t_fc_float_matches_numpy() {
	expect_exit 0 litert_run fc_float32.tflite out_f x_float32.npy
	json_ok 'j["inputs"][0]["name"] == "x" and j["outputs"] == [{"name": "y", "shape": [2, 3], "dtype": "float32", "file": "out_f/y.npy"}]'
	expect_exit 0 npy_compare --range-tol 1e-6 want_float32.npy out_f/y.npy
}

# fc_exact DTYPE: the quantized model's output is numpy's, bit for bit
fc_exact() {
	expect_exit 0 litert_run "fc_$1.tflite" "out_$1" "x=x_$1.npy"
	json_ok "j['inputs'][0]['dtype'] == '$1' and j['outputs'][0]['dtype'] == '$1'"
	expect_exit 0 npy_compare --exact "want_$1.npy" "out_$1/y.npy"
	expect_stdout_contains "bit-exact (6 values)"
}

t_face_detection_is_deterministic() {
	expect_exit 0 litert_run "$FD" run1 face.npy
	json_ok '[(o["name"], o["shape"], o["dtype"]) for o in j["outputs"]] == [("regressors", [1, 896, 16], "float32"), ("classificators", [1, 896, 1], "float32")]'
	json_ok 'j["inputs"][0]["shape"] == [1, 128, 128, 3] and j["litert"] == "2.5.3"'
	expect_exit 0 litert_run "$FD" run2 input=face.npy
	expect_exit 0 npy_compare --exact run1 run2
	# another input gives other outputs: the comparison would see it
	expect_exit 0 litert_run "$FD" run3 face2.npy
	expect_exit 1 npy_compare --range-tol 1e-4 run1 run3
	expect_stdout_contains "MISMATCH"
}

t_compare_catches_a_small_error() {
	expect_exit 0 litert_run "$FD" ref face.npy
	mkdir -p near far
	"$PY" -c 'import numpy as np
a = np.load("ref/regressors.npy")
span = float(a.max() - a.min())
for d, k in (("near", 0.5e-4), ("far", 2e-4)):
    b = a.copy(); b[0, 100, 2] += k * span; np.save(d + "/regressors.npy", b)' ||
		fail "cannot perturb the outputs"
	cp ref/classificators.npy near/
	cp ref/classificators.npy far/
	expect_exit 0 npy_compare --range-tol 1e-4 ref near
	expect_exit 1 npy_compare --exact ref near
	expect_stdout_contains "1 of 14336 values differ, first at (0, 100, 2)"
	expect_exit 1 npy_compare --range-tol 1e-4 ref far
	expect_stdout_matches '^worst: regressors.npy: max abs error .* at \(0, 100, 2\).*MISMATCH$'
	rm far/classificators.npy
	expect_exit 2 npy_compare --range-tol 1e-4 ref far
	expect_stderr_contains "classificators.npy"
}

t_wrong_inputs_are_refused() {
	expect_exit 2 litert_run "$FD" bad1 small.npy
	expect_stderr_contains "'small.npy' is float32 [1,64,64,3], input 'input' needs float32 [1,128,128,3]"
	expect_no_file bad1/regressors.npy
	expect_exit 2 litert_run "$FD" bad2 ints.npy
	expect_stderr_contains "is int32 [1,128,128,3], input 'input' needs float32"
	expect_exit 2 litert_run "$FD" bad3 image=face.npy
	expect_stderr_contains "has no input 'image' (its inputs: input)"
	expect_exit 2 litert_run "$FD" bad4
	expect_stderr_contains "no file for input 'input'"
	expect_exit 2 litert_run "$FD" bad5 face.npy face2.npy
	expect_stderr_contains "has 1 input(s), more files were given"
	expect_exit 2 litert_run face.npy bad6 face.npy
	expect_stderr_contains "LiteRT.js cannot load 'face.npy'"
}

t_other_mediapipe_models_run() {
	expect_exit 0 litert_run "$HAND" hand hand.npy
	json_ok '[o["shape"] for o in j["outputs"]] == [[1, 63], [1, 1], [1, 1], [1, 63]]'
	# selfie_segmentation has the custom operator Convolution2DTransposeBias,
	# which LiteRT runs (Arm NN does not): a sigmoid mask of the input's size
	expect_exit 0 litert_run "$SEG" seg seg.npy
	json_ok 'j["outputs"][0]["shape"] == [1, 256, 256, 1]'
	"$PY" -c 'import numpy as np, sys
m = np.load("seg/activation_10.npy")
sys.exit(0 if m.min() >= 0 and m.max() <= 1 and m.std() > 0 else 1)' || fail "the mask is not in [0, 1] or is constant"
}

t_time_mode_reports_p50() {
	expect_exit 0 litert_run --time 3 "$FD" timed face.npy
	json_ok 'j["runs"] == 3 and len(j["samples_ms"]) == 3 and 0 < j["p50_ms"] == sorted(j["samples_ms"])[1]'
}

check fc_float_matches_numpy t_fc_float_matches_numpy
check fc_int8_is_exact fc_exact int8
check fc_uint8_is_exact fc_exact uint8
check face_detection_is_deterministic t_face_detection_is_deterministic
check compare_catches_a_small_error t_compare_catches_a_small_error
check wrong_inputs_are_refused t_wrong_inputs_are_refused
check other_mediapipe_models_run t_other_mediapipe_models_run
check time_mode_reports_p50 t_time_mode_reports_p50
finish
