# The TFLite reference itself (tests/cli/litert_run.mjs: LiteRT.js under
# Node.js, and tests/cli/npy_compare.py), checked against things that do not
# depend on it, so that the engine tests comparing `modelgate run` with it
# stand on solid ground: a one-operator FULLY_CONNECTED model built here
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

# make_fc.py DTYPE OUT.tflite X.npy WANT.npy: the smallest .tflite that
# computes something (one FULLY_CONNECTED: x [2, 4], weights [3, 4], bias
# [3]), an input, and what numpy computes for it. int8 and uint8 use scale 1
# and zero points 0 and 128, so their arithmetic is exact integers and
# LiteRT must match bit for bit, saturation included.
cat >"$TEST_TMP/make_fc.py" <<'PY'
import sys
import flatbuffers
import numpy as np

dtype, out, xpath, wantpath = sys.argv[1:]
rng = np.random.default_rng(7)
TFL = {"float32": 0, "int32": 2, "uint8": 3, "int8": 9}  # TensorType
b = flatbuffers.Builder(1024)


def vec(a):
    return b.CreateNumpyVector(np.ascontiguousarray(a).reshape(-1))


def table(slots):  # [(slot, kind, value)], kind: "off", "i32", "u32", "i8"
    b.StartObject(max((s for s, _, _ in slots), default=-1) + 1)
    for s, k, v in slots:
        if k == "off":
            b.PrependUOffsetTRelativeSlot(s, v, 0)
        elif k == "i32":
            b.PrependInt32Slot(s, v, -1)
        elif k == "u32":
            b.PrependUint32Slot(s, v, 0xFFFFFFFF)
        else:
            b.PrependInt8Slot(s, v, -1)
    return b.EndObject()


def tables(offs):
    b.StartVector(4, len(offs), 4)
    for o in reversed(offs):
        b.PrependUOffsetTRelative(o)
    return b.EndVector()


if dtype == "float32":
    x = rng.standard_normal((2, 4)).astype(np.float32)
    w = rng.standard_normal((3, 4)).astype(np.float32)
    bias = rng.standard_normal(3).astype(np.float32)
    want = (x.astype(np.float64) @ w.T.astype(np.float64) + bias).astype(np.float32)
    zx = zw = zy = 0
    btype = "float32"
else:  # scale 1 everywhere: y = clamp(sum((x - zx) * (w - zw)) + bias + zy)
    lo, hi = (-128, 127) if dtype == "int8" else (0, 255)
    zx = zw = zy = 0 if dtype == "int8" else 128
    x = rng.integers(-12, 13, (2, 4)) + zx
    w = rng.integers(-10, 11, (3, 4)) + zw
    bias = rng.integers(-20, 21, 3).astype(np.int32)
    want = np.clip((x - zx) @ (w - zw).T + bias + zy, lo, hi).astype(dtype)
    x, w = x.astype(dtype), w.astype(dtype)
    btype = "int32"

bufs = [table([])]  # buffer 0: the empty one
tensors = []
for i, (name, shape, ty, data, zp) in enumerate([
        ("x", (2, 4), dtype, None, zx), ("w", (3, 4), dtype, w, zw),
        ("bias", (3,), btype, bias, 0), ("y", (2, 3), dtype, None, zy)]):
    bufs.append(table([] if data is None else [(0, "off", vec(data.reshape(-1).view(np.uint8)))]))
    slots = [(0, "off", vec(np.array(shape, np.int32))), (1, "i8", TFL[ty]), (2, "u32", i + 1),
             (3, "off", b.CreateString(name))]
    if dtype != "float32":
        slots.append((4, "off", table([(2, "off", vec(np.array([1.0], np.float32))),
                                       (3, "off", vec(np.array([zp], np.int64)))])))
    tensors.append(table(slots))
fc_opts = table([(0, "i8", 0)])  # FullyConnectedOptions: no fused activation
op = table([(0, "u32", 0), (1, "off", vec(np.array([0, 1, 2], np.int32))),
            (2, "off", vec(np.array([3], np.int32))), (3, "i8", 8), (4, "off", fc_opts)])
sg = table([(0, "off", tables(tensors)), (1, "off", vec(np.array([0], np.int32))),
            (2, "off", vec(np.array([3], np.int32))), (3, "off", tables([op]))])
code = table([(0, "i8", 9), (2, "i32", 1 if dtype == "float32" else 4), (3, "i32", 9)])
model = table([(0, "u32", 3), (1, "off", tables([code])), (2, "off", tables([sg])),
               (4, "off", tables(bufs))])
b.Finish(model, file_identifier=b"TFL3")
open(out, "wb").write(b.Output())
np.save(xpath, x)
np.save(wantpath, want)
PY
for d in float32 int8 uint8; do
	must "$PY" "$TEST_TMP/make_fc.py" "$d" "fc_$d.tflite" "x_$d.npy" "want_$d.npy"
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
