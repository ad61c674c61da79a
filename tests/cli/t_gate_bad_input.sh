# A dataset that cannot serve the model is bad input, exit 2 naming the
# file, not an infrastructure error (exit 3, which CI retries): labels that
# are not one per row, labels outside the model's classes, a float64 .npy
# of values float32 cannot hold for a float32 model (without --cast), rows
# of the wrong width, a fidelity gate's reference outputs missing or of
# another shape; the same for a config that
# asks for what the model or target cannot have (topk with k not below its
# classes, more threads than the target's CPUs).
# No report is written: no gate was evaluated on inputs that could serve.
. "$(dirname "$0")/lib.sh"

in_example_copy

# The digits dataset (x: 360x64 float32, y: 360 int64) rewritten wrong, with
# a .npy reader and writer of its own (numpy is not needed).
"$PY" - <<'EOF' || fail "cannot make the datasets"
import ast, struct

def load(path):
    b = open(path, "rb").read()
    n = struct.unpack("<H", b[8:10])[0]
    return ast.literal_eval(b[10:10 + n].decode("latin1")), b[10 + n:]

def save(path, descr, shape, data):
    h = "{'descr': '%s', 'fortran_order': False, 'shape': %r, }" % (descr, tuple(shape))
    h += " " * (63 - (len(h) + 10) % 64) + "\n"
    open(path, "wb").write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(h)) + h.encode() + data)

h, d = load("dataset/x.npy")
rows, cols = h["shape"]
x = struct.unpack("<%df" % (rows * cols), d)
# float64 of values float32 cannot hold (an exact float64 copy is converted)
save("x64.npy", "<f8", (rows, cols), struct.pack("<%dd" % len(x), *(v + 0.1 for v in x)))
save("x63.npy", "<f4", (rows, cols - 1), d[:rows * (cols - 1) * 4])
h, d = load("dataset/y.npy")
y = list(struct.unpack("<%dq" % rows, d))
save("y_short.npy", "<i8", (rows - 5,), struct.pack("<%dq" % (rows - 5), *y[:-5]))
save("y_long.npy", "<i8", (rows + 1,), struct.pack("<%dq" % (rows + 1), *y, 0))
for name, v in (("y_ten.npy", 10), ("y_neg.npy", -1)):
    z = list(y)
    z[3] = v
    save(name, "<i8", (rows,), struct.pack("<%dq" % rows, *z))
EOF

# config INPUTS LABELS [GATE-JSON]: c.json, the example with that dataset and
# its accuracy and fidelity gates (or the one given)
config() {
	"$PY" - "$@" <<'EOF' || fail "cannot write c.json"
import json, sys
c = json.load(open("modelgate.json"))
c["dataset"] = {"inputs": sys.argv[1], "labels": sys.argv[2]}
c["gates"] = [json.loads(sys.argv[3])] if len(sys.argv) > 3 else \
    [g for g in c["gates"] if g["kind"] in ("accuracy", "fidelity")]
json.dump(c, open("c.json", "w"))
EOF
}

# refused CONFIG-ARGS... -- TEXT...: gate is exit 2, its last line names TEXT
refused() {
	local a=()
	while [ "$1" != -- ]; do a+=("$1"); shift; done
	shift
	config "${a[@]}"
	rm -f r.json
	expect_exit 2 mg gate -c c.json --report r.json
	local t last
	last=$(tail -n 1 "$ERR")
	for t in "$@"; do
		case $last in *"$t"*) ;; *) fail "the last line of stderr does not contain '$t': $last" ;; esac
	done
	expect_no_file r.json
}

labels_not_one_per_row_are_bad_input() {
	refused dataset/x.npy y_short.npy -- "dataset labels 'y_short.npy'" "355 labels for 360 rows"
	refused dataset/x.npy y_long.npy -- "'y_long.npy'" "361 labels for 360 rows"
}

labels_outside_the_classes_are_bad_input() {
	refused dataset/x.npy y_ten.npy -- "gate 'accuracy'" "label 10 of sample 3 is outside 0..9" "'y_ten.npy'"
	refused dataset/x.npy y_neg.npy -- "label -1 of sample 3 is outside 0..9" "'y_neg.npy'"
}

inputs_of_another_type_or_shape_are_bad_input() {
	refused x64.npy dataset/y.npy -- "dataset 'x64.npy'" "input 'input' is float64, the model takes float32" \
		"x.astype(np.float32)" "--cast"
	refused x63.npy dataset/y.npy -- "dataset 'x63.npy'" "has shape (360, 63), the model takes (" ", 64)"
}

# a fidelity gate's own reference outputs are input too
reference_outputs_that_cannot_serve_are_bad_input() {
	local gate='{"name": "fid", "kind": "fidelity", "reference": "REF", "min_cosine": 0.99}'
	# dataset/output_0.pb holds the outputs of dataset/input_0.pb's 8 rows, not x.npy's 360
	refused dataset/x.npy dataset/y.npy "${gate/REF/dataset}" -- \
		"gate 'fid'" "the reference outputs in 'dataset' are 8x10, the model's on the dataset 360x10"
	refused dataset/x.npy dataset/y.npy "${gate/REF/nowhere}" -- "gate 'fid'" "nowhere"
	# the inputs they are the outputs of: a pass
	config dataset dataset/y.npy "${gate/REF/dataset}"
	"$PY" -c 'import json; c = json.load(open("c.json")); del c["dataset"]["labels"]; json.dump(c, open("c.json", "w"))'
	expect_exit 0 mg gate -c c.json --report r.json
}

topk_of_every_class_is_refused() {
	refused dataset/x.npy dataset/y.npy \
		'{"name": "top", "kind": "accuracy", "metric": "topk", "k": 10, "min": 0.5}' -- \
		"gate 'top'" "topk with k 10" "the model has 10"
	refused dataset/x.npy dataset/y.npy \
		'{"name": "top", "kind": "accuracy", "metric": "topk", "k": 11, "min": 0.5}' -- "topk with k 11"
	# below the class count it is a figure like any other
	config dataset/x.npy dataset/y.npy '{"name": "top", "kind": "accuracy", "metric": "topk", "k": 9, "min": 0.5}'
	expect_exit 0 mg gate -c c.json --report r.json
	json_ok "[f['value'] for f in j['gates'][0]['figures'] if f['name'] == 'top9'] == [1.0]" r.json
}

threads_beyond_the_cpus_are_bad_input() {
	local n
	n=$(getconf _NPROCESSORS_ONLN)
	"$PY" - "$((n + 1))" <<'EOF' || fail "cannot write c.json"
import json, sys
c = json.load(open("modelgate.json"))
c["targets"] = {"host": {"spec": "local", "threads": int(sys.argv[1])}}
c["gates"] = [g for g in c["gates"] if g["kind"] in ("size", "memory")]
json.dump(c, open("c.json", "w"))
EOF
	rm -f r.json
	expect_exit 2 mg gate -c c.json --report r.json
	case $(tail -n 1 "$ERR") in
	*"c.json: targets.host.threads: $((n + 1)) is more than the $n CPUs of the target"*) ;;
	*) fail "the last line of stderr does not name the setting and the CPUs: $(tail -n 1 "$ERR")" ;;
	esac
	expect_no_file r.json
	sed -i "s/\"threads\": $((n + 1))/\"threads\": 100000000/" c.json
	expect_exit 2 mg gate -c c.json --report r.json
	expect_stderr_contains "threads: expected an integer from 0 to 4096"
}

the_good_dataset_still_passes() {
	config dataset/x.npy dataset/y.npy
	expect_exit 0 mg gate -c c.json --report r.json
}

check labels_not_one_per_row_are_bad_input labels_not_one_per_row_are_bad_input
check labels_outside_the_classes_are_bad_input labels_outside_the_classes_are_bad_input
check inputs_of_another_type_or_shape_are_bad_input inputs_of_another_type_or_shape_are_bad_input
check reference_outputs_that_cannot_serve_are_bad_input reference_outputs_that_cannot_serve_are_bad_input
check topk_of_every_class_is_refused topk_of_every_class_is_refused
check threads_beyond_the_cpus_are_bad_input threads_beyond_the_cpus_are_bad_input
check the_good_dataset_still_passes the_good_dataset_still_passes
finish
