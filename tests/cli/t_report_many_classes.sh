# A classifier of 1000 classes, gated against its baseline for real (two
# ONNX models of 64 inputs and 1000 outputs, 3000 labelled rows): the
# Markdown summary keeps the gate table first and its details in <details>
# blocks, shows the ten classes whose F1 changed most and says how many
# more it leaves out, links the HTML report of the CI run, and stays under
# GitHub's 1 MiB step summary, GitHub's 65,536-character comment and
# GitLab's 1,000,000-character note; the HTML report lists every class and
# says that a 1000 x 1000 matrix is too many to draw.
. "$(dirname "$0")/lib.sh"

need_py onnx python3-onnx
need_py numpy python3-numpy
need cmark-gfm cmark-gfm

"$PY" - <<'PYEOF' || fail "cannot make the models and the dataset"
import numpy as np, onnx
from onnx import TensorProto, helper, numpy_helper

rng = np.random.default_rng(16)
w = rng.normal(size=(64, 1000)).astype(np.float32)

def model(weights, path):
    g = helper.make_graph(
        [helper.make_node("MatMul", ["input", "w"], ["logits"])], "classes1000",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["n", 64])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["n", 1000])],
        [numpy_helper.from_array(weights, "w")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    onnx.save(m, path)

model(w, "baseline.onnx")
model(w + rng.normal(scale=0.15, size=w.shape).astype(np.float32), "candidate.onnx")
x = rng.normal(size=(3000, 64)).astype(np.float32)
y = (x @ w).argmax(axis=1).astype(np.int64)   # the baseline is right on all
np.save("x.npy", x)
np.save("y.npy", y)
PYEOF
cat >modelgate.json <<'JSON'
{"model": "candidate.onnx", "baseline": "baseline.onnx",
 "dataset": {"inputs": "x.npy", "labels": "y.npy"},
 "gates": [{"name": "accuracy", "kind": "accuracy", "metric": "top1", "min": 0.5, "max_drop": 0.5},
           {"name": "fidelity", "kind": "fidelity", "min_cosine": 0.9}]}
JSON
: >step_summary.md
env GITHUB_ACTIONS=true GITHUB_STEP_SUMMARY=$PWD/step_summary.md GITHUB_SERVER_URL=https://github.example \
	GITHUB_REPOSITORY=acme/models GITHUB_RUN_ID=4242 \
	"$MODELGATE" gate -q --report report.json --markdown summary.md --html report.html >"$IO/gate" 2>&1 ||
	fail "gate failed: $(tail -5 "$IO/gate")"

# under LIMIT bytes and characters, gate table first, details collapsed
summary_fits() { # FILE MAX_BYTES MAX_CHARS
	"$PY" - "$@" <<'PYEOF' || fail "$(cat "$IO/py")"
import sys
text = open(sys.argv[1], encoding="utf-8").read()
n, b = len(text), len(text.encode())
assert b <= int(sys.argv[2]) and n <= int(sys.argv[3]), (b, n)
assert text.index("| Gate |") < text.index("<details"), "the gate table is not first"
assert text.count("<details") == text.count("</details>") == 2, text.count("<details")
print(b, n)
PYEOF
}

t_the_summary_fits_with_ten_classes_and_a_note() {
	summary_fits summary.md 1048576 1000000
	expect_file step_summary.md
	summary_fits step_summary.md 1048576 1000000
	grep -qF '990 more classes not shown here: see the HTML report or report.json.' summary.md ||
		fail "no note on the classes left out"
	[ "$(grep -cE "^\| [0-9]+ \| ([0-9.]+%|-) \| [0-9.]+% \| [0-9.]+% \| [0-9]+ \| " summary.md)" = 10 ] ||
		fail "not ten class rows"
	# the worst first: the first row's change in F1 is the most negative
	"$PY" - summary.md report.json <<'PYEOF' >"$IO/py" 2>&1 || fail "$(cat "$IO/py")"
import json, re, sys
rows = re.findall(r"^\| (\d+) \| (?:[\d.]+%|-) \| [\d.]+% \| [\d.]+% \| (\d+) \| ([-+\d.]+) pp \|$", open(sys.argv[1]).read(), re.M)
d = [float(v) for _, _, v in rows]
assert len(d) == 10 and d == sorted(d), d
g = json.load(open(sys.argv[2]))["gates"][0]
assert g["confusion"]["n"] == 1000 and g["baseline_confusion"]["n"] == 1000
PYEOF
	grep -qF '[The HTML report with its charts](https://github.example/acme/models/actions/runs/4242)' summary.md ||
		fail "no link to the run's artifacts"
	cmark-gfm -e table summary.md >summary.html || fail "cmark-gfm failed"
	[ "$(grep -c '<table>' summary.html)" -ge 2 ] || fail "the gate and class tables do not render"
	# under a smaller limit the details go, the gate table stays, and it says so
	expect_exit 0 mg report report.json --format markdown --max-bytes 1500 -o small.md
	[ "$(wc -c <small.md)" -le 1500 ] || fail "over 1500 bytes"
	grep -q '^| accuracy | ' small.md || fail "the trimmed summary lost the gate table"
	grep -qF 'Details of 2 gates left out to stay under 1500 bytes' small.md || fail "the cut is not said"
}

t_comments_fit_github_and_gitlab() {
	expect_exit 0 env -u GITHUB_ACTIONS -u GITLAB_CI "$MODELGATE" comment --dry-run --report report.json
	summary_fits "$OUT" 65536 65536
	expect_exit 0 env -u GITHUB_ACTIONS GITLAB_CI=true CI_JOB_URL=https://gitlab.example/acme/models/-/jobs/9 \
		"$MODELGATE" comment --dry-run --report report.json --html ./out/report.html
	summary_fits "$OUT" 1000000 1000000
	expect_stdout_contains '(https://gitlab.example/acme/models/-/jobs/9/artifacts/file/out/report.html)'
	# GitLab's artifact paths start at $CI_PROJECT_DIR: a report below the
	# folder the job ran in is named from there, one outside it gets the
	# job's artifact browser
	mkdir -p sub
	gl_link() { # DIR HTML: the link of a dry-run comment run in DIR
		(cd "$1" && env -u GITHUB_ACTIONS GITLAB_CI=true CI_JOB_URL=https://gitlab.example/j/9 \
			CI_PROJECT_DIR=$TEST_TMP/ "$MODELGATE" comment --dry-run --report "$TEST_TMP/report.json" --html "$2" 2>/dev/null) |
			grep -o '\[The HTML report with its charts\]([^)]*)'
	}
	[ "$(gl_link sub ./out/./r.html)" = '[The HTML report with its charts](https://gitlab.example/j/9/artifacts/file/sub/out/r.html)' ] ||
		fail "relative path: $(gl_link sub ./out/./r.html)"
	[ "$(gl_link . "$TEST_TMP/r.html")" = '[The HTML report with its charts](https://gitlab.example/j/9/artifacts/file/r.html)' ] ||
		fail "absolute path in the project: $(gl_link . "$TEST_TMP/r.html")"
	[ "$(gl_link . /elsewhere/r.html)" = '[The HTML report with its charts](https://gitlab.example/j/9/artifacts/browse)' ] ||
		fail "a path outside the project: $(gl_link . /elsewhere/r.html)"
}

t_the_html_lists_every_class_and_says_what_it_cannot_draw() {
	expect_file report.html
	[ "$(grep -o '<tr><td>[0-9]*</td><td class="num">' report.html | wc -l)" = 1000 ] ||
		fail "the per-class table does not have 1000 rows"
	grep -qF '1000 classes: too many to draw; the counts are in report.json.' report.html ||
		fail "the page does not say why there is no matrix"
}

check the_summary_fits_with_ten_classes_and_a_note t_the_summary_fits_with_ten_classes_and_a_note
check comments_fit_github_and_gitlab t_comments_fit_github_and_gitlab
check the_html_lists_every_class_and_says_what_it_cannot_draw t_the_html_lists_every_class_and_says_what_it_cannot_draw
finish
