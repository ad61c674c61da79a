# Data as people have it: numpy's float64 and int64 against a float32 or
# int32 model (converted when exact or with --cast / "cast": true, else
# exit 2 with the way to convert), a static-batch export taking a dataset
# of any row count (the last run padded, said), labels as class indices
# or one-hot, a dataset folder or reference with its own file names, the
# output a gate scores, class names from the config or labels.txt in every
# report, and per-class recall and precision limits by class name.
# Figures are checked against numpy's own computation on the same data.
. "$(dirname "$0")/lib.sh"

need_py onnx python3-onnx
need_py numpy python3-numpy

# clf.onnx: x (n, 16) -> features (x itself) and logits (x W + b, 4 classes);
# clf_shift.onnx the same with b + 0.5 (its features alike); clf_b1 and clf_b4 are the same exported with a fixed batch of 1 and 4;
# ids.onnx takes int32, clf_f64.onnx float64. The dataset: 30 rows of float64, labels chosen so
# that top-1 is 0.8 (rows 0-5 labelled one class off).
"$PY" - <<'EOF' || fail "cannot make the models and data"
import json, os
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(16)
W = rng.normal(size=(16, 4)).astype(np.float32)
b = rng.normal(size=4).astype(np.float32)

def model(path, batch, dtype=TensorProto.FLOAT, shift=0):
    nodes = [helper.make_node("Identity", ["x"], ["features"])]
    src = "x"
    if dtype != TensorProto.FLOAT:
        nodes = [helper.make_node("Cast", ["x"], ["xf"], to=TensorProto.FLOAT),
                 helper.make_node("Identity", ["xf"], ["features"])]
        src = "xf"
    nodes += [helper.make_node("MatMul", [src, "W"], ["xw"]), helper.make_node("Add", ["xw", "b"], ["logits"])]
    g = helper.make_graph(nodes, "clf",
        [helper.make_tensor_value_info("x", dtype, [batch, 16])],
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, [batch, 16]),
         helper.make_tensor_value_info("logits", TensorProto.FLOAT, [batch, 4])],
        [numpy_helper.from_array(W, "W"), numpy_helper.from_array(b + np.float32(shift), "b")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, path)

model("clf.onnx", "n")
model("clf_shift.onnx", "n", shift=0.5)
model("clf_b1.onnx", 1)
model("clf_b4.onnx", 4)
model("ids.onnx", "n", TensorProto.INT32)
model("clf_f64.onnx", "n", TensorProto.DOUBLE)

x = rng.normal(size=(30, 16))                   # float64, as numpy makes it
pred = (x.astype(np.float32) @ W + b).argmax(1)
y = pred.copy()
y[:6] = (y[:6] + 1) % 4                         # top-1 0.8
np.save("x64.npy", x)
np.save("x64_exact.npy", x.astype(np.float32).astype(np.float64))
np.save("y.npy", y)                             # int64
onehot = np.eye(4, dtype=np.float32)[y]
np.save("y_onehot.npy", onehot)
two = onehot.copy(); two[5, (y[5] + 1) % 4] = 1
np.save("y_two_ones.npy", two)
half = onehot.copy(); half[7, y[7]] = 0.5
np.save("y_half.npy", half)
np.save("y_five.npy", np.eye(5, dtype=np.int64)[y])
ids = rng.integers(0, 10, size=(30, 16))        # int64
np.save("ids64.npy", ids)
big = ids.copy(); big[12, 3] = 2 ** 40
np.save("ids_big.npy", big)
os.makedirs("data", exist_ok=True)
np.save("data/images.npy", x.astype(np.float32))
np.save("data/targets.npy", y)
np.save("empty.npy", np.zeros((0, 16), np.float32))
os.makedirs("named", exist_ok=True)
np.save("named/x.npy", x.astype(np.float32))
np.save("named/y.npy", y)
open("named/labels.txt", "w").write("cat\ndog\nbird\nfish\n")
os.makedirs("runin", exist_ok=True)
np.save("runin/x.npy", x[:1])

# the figures numpy gives, for the checks below
yi = y
recall = [float(((pred == k) & (yi == k)).sum() / (yi == k).sum()) for k in range(4)]
precision = [float(((pred == k) & (yi == k)).sum() / max((pred == k).sum(), 1)) for k in range(4)]
json.dump({"top1": float((pred == yi).mean()), "recall": recall, "precision": precision,
           "ids_top1": float(((ids.astype(np.float32) @ W + b).argmax(1) == yi).mean())},
          open("expect.json", "w"))
EOF

# config FILE INPUTS-JSON-DATASET [GATE-EXTRA-JSON] [MODEL]: an accuracy
# gate scoring "logits" (unless the extra says otherwise)
config() {
	"$PY" - "$@" <<'EOF' || fail "cannot write $1"
import json, sys
gate = {"name": "accuracy", "kind": "accuracy", "metric": "top1", "min": 0.5, "output": "logits"}
if len(sys.argv) > 3 and sys.argv[3]:
    gate.update(json.loads(sys.argv[3]))
    gate = {k: v for k, v in gate.items() if v is not None}
json.dump({"model": sys.argv[4] if len(sys.argv) > 4 else "clf.onnx", "dataset": json.loads(sys.argv[2]),
           "gates": [gate]}, open(sys.argv[1], "w"))
EOF
}

# top1 FILE: the accuracy gate's value in report FILE
top1() { "$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["gates"][0]["value"])' "$1"; }
expected() { "$PY" -c 'import json, sys; print(json.load(open("expect.json"))[sys.argv[1]])' "$1"; }

float64_inputs_get_a_hint_or_are_converted() {
	config c.json '{"inputs": "x64.npy", "labels": "y.npy"}'
	expect_exit 2 mg -q gate -c c.json --report r.json
	expect_error "dataset 'x64.npy': input 'x' is float64, the model takes float32" "row 0 holds" \
		"x.astype(np.float32)" "--cast" '"cast": true'
	expect_no_file r.json
	# --cast rounds, and says so
	expect_exit 0 mg gate -c c.json --cast --report r.json
	expect_stderr_contains "input 'x' converted from float64 to float32 (--cast: rounded)"
	[ "$(top1 r.json)" = "$(expected top1)" ] || fail "top1 $(top1 r.json), numpy $(expected top1)"
	# so does "cast": true in the dataset
	config c.json '{"inputs": "x64.npy", "labels": "y.npy", "cast": true}'
	expect_exit 0 mg gate -c c.json --report r.json
	# float64 that float32 holds exactly is converted without asking
	config c.json '{"inputs": "x64_exact.npy", "labels": "y.npy"}'
	expect_exit 0 mg gate -c c.json --report r.json
	expect_stderr_contains "input 'x' converted from float64 to float32 (every value exact)"
	config c.json '{"inputs": "x64.npy", "labels": "y.npy", "cast": "yes"}'
	expect_exit 2 mg -q gate -c c.json
	expect_error "dataset.cast: expected true or false"
}

int64_inputs_convert_when_they_fit() {
	config c.json '{"inputs": "ids64.npy", "labels": "y.npy"}' '{"min": 0}' ids.onnx
	expect_exit 0 mg gate -c c.json --report r.json
	expect_stderr_contains "input 'x' converted from int64 to int32 (every value exact)"
	[ "$(top1 r.json)" = "$(expected ids_top1)" ] || fail "top1 $(top1 r.json), numpy $(expected ids_top1)"
	# a value int32 cannot hold is refused even with --cast, naming its row
	config c.json '{"inputs": "ids_big.npy", "labels": "y.npy"}' '{"min": 0}' ids.onnx
	expect_exit 2 mg -q gate -c c.json --cast
	expect_error "input 'x' is int64, the model takes int32, and row 12 holds 1099511627776, which int32 cannot hold"
}

# the dataset made for the candidate (float32) reaches a baseline that
# takes float64 converted, exactly: the two models agree to the last bit
a_baseline_of_another_type_gets_the_dataset_converted() {
	"$PY" -c 'import json
json.dump({"model": "clf.onnx", "baseline": "clf_f64.onnx", "dataset": {"inputs": "data/images.npy"},
           "gates": [{"name": "fid", "kind": "fidelity", "output": "logits", "max_abs": 0}]}, open("c.json", "w"))'
	expect_exit 0 mg gate -c c.json --report r.json
	json_ok "j['gates'][0]['status'] == 'pass' and j['gates'][0]['value'] == 0" r.json
}

run_converts_its_inputs_the_same_way() {
	expect_exit 2 mg run clf.onnx --inputs runin --iterations 1 --warmup 0 --min-time 0
	expect_error "'runin': input 'x' is float64, the model takes float32" "x.astype(np.float32)" "--cast"
	expect_exit 0 mg run clf.onnx --inputs runin --cast --iterations 1 --warmup 0 --min-time 0
	expect_stdout_contains "input 'x' converted from float64 to float32 (--cast: rounded)"
	expect_stdout_matches "^inputs +x float32 \[1,16\]"
	expect_exit 0 mg run clf.onnx --inputs runin --cast --iterations 1 --warmup 0 --min-time 0 --json
	json_ok "j['inputs_converted'] == [\"input 'x' converted from float64 to float32 (--cast: rounded)\"] and j['inputs_quantized'] == []"
}

static_batch_models_take_any_number_of_rows() {
	config c.json '{"inputs": "data/images.npy", "labels": "y.npy"}' '' clf_b1.onnx
	expect_exit 0 mg gate -c c.json --report r.json
	[ "$(top1 r.json)" = "$(expected top1)" ] || fail "batch 1: top1 $(top1 r.json), numpy $(expected top1)"
	json_ok "j['inputs'][0]['shape'] == [1, 16]" r.json
	config c.json '{"inputs": "data/images.npy", "labels": "y.npy"}' '' clf_b4.onnx
	expect_exit 0 mg gate -c c.json --report r.json
	expect_stderr_contains "'clf_b4.onnx' takes 4 rows a run: the last 2 of the dataset's 30 rows ran padded with 2 copies of the last row, whose outputs are dropped"
	# no rows at all is no dataset
	config c.json '{"inputs": "empty.npy"}' '' clf_b4.onnx
	expect_exit 2 mg -q gate -c c.json
	expect_error "dataset 'empty.npy': input 'x' has no rows"
	[ "$(top1 r.json)" = "$(expected top1)" ] || fail "batch 4: top1 $(top1 r.json), numpy $(expected top1)"
}

labels_are_class_indices_or_one_hot() {
	config c.json '{"inputs": "data/images.npy", "labels": "y_onehot.npy"}'
	expect_exit 0 mg gate -c c.json --report r.json
	[ "$(top1 r.json)" = "$(expected top1)" ] || fail "one-hot: top1 $(top1 r.json), numpy $(expected top1)"
	rm -f r.json
	config c.json '{"inputs": "data/images.npy", "labels": "y_two_ones.npy"}'
	expect_exit 2 mg -q gate -c c.json --report r.json
	expect_error "gate 'accuracy'" "one-hot labels: row 5 has 2 ones" "'y_two_ones.npy'"
	config c.json '{"inputs": "data/images.npy", "labels": "y_half.npy"}'
	expect_exit 2 mg -q gate -c c.json --report r.json
	expect_error "one-hot labels: row 7 has 0 ones and 1 values other than 0 and 1"
	config c.json '{"inputs": "data/images.npy", "labels": "y_five.npy"}'
	expect_exit 2 mg -q gate -c c.json --report r.json
	expect_error "one-hot labels of 5 classes, and the output scored has 4"
	expect_no_file r.json
}

dataset_file_names_are_configurable() {
	config c.json '{"ref": "data", "inputs": "images.npy", "labels": "targets.npy"}'
	expect_exit 0 mg gate -c c.json --report r.json
	[ "$(top1 r.json)" = "$(expected top1)" ] || fail "top1 $(top1 r.json), numpy $(expected top1)"
	config c.json '{"ref": "data", "inputs": "imgs.npy", "labels": "targets.npy"}'
	expect_exit 2 mg -q gate -c c.json
	expect_error "dataset 'data' has no 'imgs.npy' (its \"inputs\")"
	# a reference in the store: the error speaks of it, not of the store's folders
	expect_exit 0 mg push --artifact-type dataset mydata:v1 data/images.npy data/targets.npy
	config c.json '{"ref": "mydata:v1", "inputs": "images.npy", "labels": "targets.npy"}'
	expect_exit 0 mg gate -c c.json --report r.json
	config c.json '{"ref": "mydata:v1", "inputs": "images.npy", "labels": "classes.npy"}'
	expect_exit 2 mg -q gate -c c.json
	expect_error "dataset 'mydata:v1' has no 'classes.npy' (its \"labels\")"
	config c.json '"mydata:v1"'
	expect_exit 2 mg -q gate -c c.json
	expect_error "dataset 'mydata:v1' has no 'x.npy'" '"inputs"' "no 'x.npy' in 'mydata:v1' for the input 'x'"
	expect_stderr_not_contains "$MODELGATE_HOME"
	# a folder, named as the store's path would be: the same words
	config c.json '"data"'
	expect_exit 2 mg -q gate -c c.json
	expect_error "dataset 'data' has no 'x.npy'" "no 'x.npy' in 'data' for the input 'x'"
}

the_scored_output_is_chosen() {
	# without "output" the first output (16 features) is scored: labels 0..3 still
	# fit, but it is not the classifier's answer
	config c.json '{"inputs": "data/images.npy", "labels": "y.npy"}' '{"output": null, "min": 0}'
	expect_exit 0 mg gate -c c.json --report r.json
	[ "$(top1 r.json)" != "$(expected top1)" ] || fail "the features scored as the logits"
	config c.json '{"inputs": "data/images.npy", "labels": "y.npy"}' '{"output": 1}'
	expect_exit 0 mg gate -c c.json --report r.json
	[ "$(top1 r.json)" = "$(expected top1)" ] || fail "output 1: top1 $(top1 r.json), numpy $(expected top1)"
	rm -f r.json
	config c.json '{"inputs": "data/images.npy", "labels": "y.npy"}' '{"output": "scores"}'
	expect_exit 2 mg -q gate -c c.json --report r.json
	expect_error "gate 'accuracy': output 'scores' is not an output of 'clf.onnx' (its outputs: 0 'features'; 1 'logits')"
	expect_no_file r.json
	# found before anything runs
	expect_exit 2 mg gate -c c.json --report r.json
	expect_stderr_not_contains "running the dataset"
}

# a model with several outputs takes a fidelity gate for each, each held to
# limits of its own output's scale: the shifted logits fail theirs, the
# features pass theirs
each_output_takes_a_fidelity_gate_of_its_own() {
	"$PY" -c 'import json
json.dump({"model": "clf_shift.onnx", "baseline": "clf.onnx", "dataset": {"inputs": "data/images.npy"},
           "gates": [{"name": "features", "kind": "fidelity", "output": "features", "max_abs": 0},
                     {"name": "logits", "kind": "fidelity", "output": "logits", "max_abs": 0.25}]},
          open("c.json", "w"))'
	expect_exit 1 mg gate -c c.json --report r.json
	json_ok "[g['status'] for g in j['gates']] == ['pass', 'fail']" r.json
	json_ok "j['gates'][0]['value'] == 0 and abs(j['gates'][1]['value'] - 0.5) < 1e-5" r.json
	expect_stdout_contains "fail logits: against the baseline: max_abs 0.5 > 0.25"
}

class_names_reach_every_report() {
	local names='"classes": ["cat", "dog", "bird", "fish"]'
	config c.json "{\"inputs\": \"data/images.npy\", \"labels\": \"y.npy\", $names}"
	expect_exit 0 mg gate -c c.json --report r.json --markdown r.md --html r.html --junit r.xml
	json_ok "j['gates'][0]['classes'] == ['cat', 'dog', 'bird', 'fish']" r.json
	# the per-class table names each class
	grep -qF "| bird |" r.md || fail "the markdown's per-class table does not name class 'bird'"
	"$PY" -c 'import sys, xml.etree.ElementTree as E
t = "".join(E.parse("r.xml").getroot().itertext())
sys.exit("class '"'"'fish'"'"' f1" not in t)' || fail "the JUnit report does not name class 'fish'"
	"$PY" - <<'PY' || fail "the confusion matrix does not label its axes with the class names"
import base64, re, urllib.parse
html = open("r.html").read()
svgs = []
for m in re.finditer(r'src="data:image/svg\+xml(;base64)?,([^"]*)"', html):
    svgs.append(base64.b64decode(m.group(2)).decode() if m.group(1) else urllib.parse.unquote(m.group(2)))
cm = [s for s in svgs if "true class" in s]
assert cm and all(cm[0].count(">%s</text>" % n) == 2 for n in ("cat", "dog", "bird", "fish")), cm
PY
	# report.json read back keeps them
	expect_exit 0 mg report r.json --format markdown
	expect_stdout_contains "| cat |"
	# labels.txt beside the labels names them too
	config c.json '"named"'
	expect_exit 0 mg gate -c c.json --report r.json
	json_ok "j['gates'][0]['classes'] == ['cat', 'dog', 'bird', 'fish']" r.json
	# a count the model does not have is bad input
	config c.json '{"inputs": "data/images.npy", "labels": "y.npy", "classes": ["cat", "dog", "bird"]}'
	expect_exit 2 mg -q gate -c c.json --report r.json
	expect_error "gate 'accuracy': 3 class names (the dataset's \"classes\"), and output 'logits' of 'clf.onnx' has 4 classes"
}

per_class_limits_fail_naming_the_class() {
	local ds='{"inputs": "data/images.npy", "labels": "y.npy", "classes": ["cat", "dog", "bird", "fish"]}' r1 worst
	r1=$("$PY" -c 'import json; print(json.load(open("expect.json"))["recall"][1])')
	config c.json "$ds" "{\"min_recall\": {\"dog\": $r1}, \"min_precision\": {\"0\": 0}}"
	expect_exit 0 mg gate -c c.json --report r.json
	json_ok "[(k['class'], k['metric'], k['pass']) for k in j['gates'][0]['class_limits']] == [('dog', 'recall', True), ('cat', 'precision', True)]" r.json
	"$PY" -c 'import json, sys
j = json.load(open("r.json")); e = json.load(open("expect.json"))
k = j["gates"][0]["class_limits"]
assert abs(k[0]["value"] - e["recall"][1]) < 1e-12 and abs(k[1]["value"] - e["precision"][0]) < 1e-12, (k, e)' ||
		fail "the per-class figures are not numpy's"
	# a limit of 1 on the class of the lowest recall (below 1: rows are
	# mislabelled) fails the gate, naming it
	worst=$("$PY" -c 'import json; r = json.load(open("expect.json"))["recall"]
print(["cat", "dog", "bird", "fish"][r.index(min(r))])')
	config c.json "$ds" "{\"min_recall\": {\"$worst\": 1}}"
	expect_exit 1 mg gate -c c.json --report r.json
	json_ok "j['gates'][0]['status'] == 'fail' and \"recall of class '$worst'\" in j['gates'][0]['reason'] and '< 1' in j['gates'][0]['reason']" r.json
	expect_exit 0 mg report r.json --format json
	json_ok "j['gates'][0]['class_limits'][0]['pass'] is False"
	# a name that is no class is bad input
	config c.json "$ds" '{"min_recall": {"wolf": 0.5}}'
	expect_exit 2 mg -q gate -c c.json --report r.json
	expect_error "gate 'accuracy': min_recall names 'wolf', which is no class (the classes: 'cat'; 'dog'; 'bird'; 'fish')"
	expect_exit 2 mg gate -c c.json --report r.json
	expect_stderr_not_contains "running the dataset"
	# an index beyond the classes, once they are counted
	rm -f r.json
	config c.json '{"inputs": "data/images.npy", "labels": "y.npy"}' '{"min_precision": {"4": 0.5}}'
	expect_exit 2 mg -q gate -c c.json --report r.json
	expect_error "gate 'accuracy': min_precision names '4', which is no class (no class names given, and indices go to 3)"
	expect_no_file r.json
	config c.json "$ds" '{"min_precision": {"dog": 2}}'
	expect_exit 2 mg -q gate -c c.json
	expect_error "gates[0].min_precision.dog: expected a number from 0 to 1"
}

check float64_inputs_get_a_hint_or_are_converted float64_inputs_get_a_hint_or_are_converted
check int64_inputs_convert_when_they_fit int64_inputs_convert_when_they_fit
check a_baseline_of_another_type_gets_the_dataset_converted a_baseline_of_another_type_gets_the_dataset_converted
check run_converts_its_inputs_the_same_way run_converts_its_inputs_the_same_way
check static_batch_models_take_any_number_of_rows static_batch_models_take_any_number_of_rows
check labels_are_class_indices_or_one_hot labels_are_class_indices_or_one_hot
check dataset_file_names_are_configurable dataset_file_names_are_configurable
check the_scored_output_is_chosen the_scored_output_is_chosen
check each_output_takes_a_fidelity_gate_of_its_own each_output_takes_a_fidelity_gate_of_its_own
check class_names_reach_every_report class_names_reach_every_report
check per_class_limits_fail_naming_the_class per_class_limits_fail_naming_the_class
finish
