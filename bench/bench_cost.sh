# The cost gate (instructions per inference): the digits model gated
# against itself on `local`, RUNS times (default 10) as the machine is, and
# RUNS times more under injected load (two busy-looping processes, one per
# CPU, for the series only): how far its count moves between runs and
# between baseline and candidate in one run (the A/A spread), and the time
# per gate; then a variant with one more hidden
# unit (fc1 32 -> 33: +3.1% multiply-adds) gated at max_ratio 1.01,
# DETECT_RUNS times (default 5): how often it fails, and its ratio; then
# the time per gate for a model of about 20 ms (four 3x3 convolutions on a
# 224x224 image), SLOW_RUNS times (default 2) for the cost gate and as many
# for a latency gate at max_ratio 1.05 beside it. The machine's load during
# the runs is recorded (other jobs share it). Writes Markdown to $BENCH_OUT.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
runs=${BENCH_COST_RUNS:-10}
detect_runs=${BENCH_COST_DETECT_RUNS:-5}
slow_runs=${BENCH_COST_SLOW_RUNS:-2}
tmp=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/bench-cost.XXXXXX")
busy=""
trap 'for p in $busy; do kill "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT
command -v valgrind >/dev/null || { echo "bench_cost: valgrind is not installed (Debian package valgrind)" >&2; exit 1; }

cp "$repo/examples/digits/model.onnx" "$tmp/model.onnx"
/usr/bin/python3 - "$tmp" <<'PY' || { echo "bench_cost: cannot make the wider model (python3-onnx)" >&2; exit 1; }
import sys, onnx
from onnx import numpy_helper
d = sys.argv[1]
m = onnx.load(d + "/model.onnx")
init = {t.name: t for t in m.graph.initializer}
import numpy as np
def widen(name, axis):
    a = numpy_helper.to_array(init[name])
    pad = [(0, 0)] * a.ndim
    pad[axis] = (0, 1)
    init[name].CopyFrom(numpy_helper.from_array(np.pad(a, pad), name))
widen("fc1.weight", 1)
widen("fc1.bias", 0)
widen("fc2.weight", 0)
onnx.checker.check_model(m)
onnx.save(m, d + "/wider.onnx")

from onnx import helper, TensorProto
rng = np.random.default_rng(1)
nodes, inits = [], []
def conv(name, x, cin, cout, stride):
    w = (rng.standard_normal((cout, cin, 3, 3)) * 0.1).astype(np.float32)
    inits.append(numpy_helper.from_array(w, name + ".w"))
    nodes.append(helper.make_node("Conv", [x, name + ".w"], [name], kernel_shape=[3, 3], pads=[1, 1, 1, 1],
                                  strides=[stride, stride]))
    nodes.append(helper.make_node("Relu", [name], [name + ".r"]))
    return name + ".r"
x = conv("c0", "image", 3, 32, 2)
for i in range(1, 4):
    x = conv("c%d" % i, x, 32, 32, 1)
nodes.append(helper.make_node("GlobalAveragePool", [x], ["out"]))
g = helper.make_graph(nodes, "conv", [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 224, 224])],
                      [helper.make_tensor_value_info("out", TensorProto.FLOAT, [1, 32, 1, 1])], inits)
c = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
c.ir_version = 8
onnx.checker.check_model(c)
onnx.save(c, d + "/conv.onnx")
PY

config() { # FILE MODEL MAX_RATIO
	printf '{"model": "%s", "baseline": "%s/model.onnx", "targets": {"host": "local"}, "shapes": {"input": [1, 64]},\n "gates": [{"name": "cost", "kind": "cost", "target": "host", "max_ratio": %s}]}\n' \
		"$2" "$tmp" "$3" >"$1"
}
config "$tmp/aa.json" "$tmp/model.onnx" 1.001
config "$tmp/ab.json" "$tmp/wider.onnx" 1.01
printf '{"model": "%s/conv.onnx", "baseline": "%s/conv.onnx", "targets": {"host": "local"},\n "gates": [{"name": "cost", "kind": "cost", "target": "host", "max_ratio": 1.001}]}\n' \
	"$tmp" "$tmp" >"$tmp/conv_cost.json"
printf '{"model": "%s/conv.onnx", "baseline": "%s/conv.onnx", "targets": {"host": "local"},\n "gates": [{"name": "latency", "kind": "latency", "target": "host", "max_ratio": 1.05}]}\n' \
	"$tmp" "$tmp" >"$tmp/conv_latency.json"

# gate CONFIG: one gate run; appends "exit value baseline seconds load1 counter" to
# rows (kept in $BENCH_RAW as aa, aa_load and ab)
gate() {
	local rc=0 t0 t1
	t0=$(date +%s.%N)
	"$MODELGATE" -q gate -c "$1" --report "$tmp/r.json" || rc=$?
	t1=$(date +%s.%N)
	[ "$rc" -le 1 ] || { echo "bench_cost: gate run ended with exit $rc" >&2; exit 1; }
	/usr/bin/python3 - "$tmp/r.json" "$rc" "$t0" "$t1" >>"$tmp/rows" <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))["gates"][0]
load = open("/proc/loadavg").read().split()[0]
print(sys.argv[2], g["value"], g["baseline"], "%.2f" % (float(sys.argv[4]) - float(sys.argv[3])), load,
      g.get("counter", "-").replace(" ", "_"))
PY
}

: >"$tmp/rows"
i=0
while [ "$i" -lt "$runs" ]; do i=$((i + 1)); gate "$tmp/aa.json"; done
mv "$tmp/rows" "$tmp/aa"
for c in 1 2; do
	sh -c 'while :; do :; done' &
	busy="$busy $!"
done
i=0
while [ "$i" -lt "$runs" ]; do i=$((i + 1)); gate "$tmp/aa.json"; done
mv "$tmp/rows" "$tmp/aa_load"
for p in $busy; do kill "$p"; done
busy=""
i=0
while [ "$i" -lt "$detect_runs" ]; do i=$((i + 1)); gate "$tmp/ab.json"; done
mv "$tmp/rows" "$tmp/ab"
conv_p50=$("$MODELGATE" -q run "$tmp/conv.onnx" --threads 1 --iterations 50 --json |
	/usr/bin/python3 -c 'import json, sys; print("%.1f" % (json.load(sys.stdin)["latency"]["p50"] / 1e6))')
i=0
while [ "$i" -lt "$slow_runs" ]; do i=$((i + 1)); gate "$tmp/conv_cost.json"; done
mv "$tmp/rows" "$tmp/conv_cost"
i=0
while [ "$i" -lt "$slow_runs" ]; do i=$((i + 1)); gate "$tmp/conv_latency.json"; done
mv "$tmp/rows" "$tmp/conv_latency"

# aa_stats FILE: failed, count min, max, spread between runs %, largest
# in-run gap %, seconds mean and max, load min and max, counter
aa_stats() {
	awk '{ f += ($1 == 1); v = $2; b = $3; if (NR == 1 || v < lo) lo = v; if (NR == 1 || v > hi) hi = v;
	d = (v > b ? v / b : b / v) - 1; if (d > dd) dd = d; t += $4; if ($4 > tm) tm = $4;
	if (NR == 1 || $5 < l0) l0 = $5; if ($5 > l1) l1 = $5; c = $6 }
	END { printf "%d %.2f %.2f %.4f %.4f %.2f %.2f %s %s %s", f, lo, hi, (hi / lo - 1) * 100, dd * 100, t / NR, tm, l0, l1, c }' "$1"
}
read -r aa_fail vmin vmax spread inrun tmean tmax lmin lmax counter <<EOF2
$(aa_stats "$tmp/aa")
EOF2
read -r la_fail lvmin lvmax lspread linrun ltmean ltmax llmin llmax counter <<EOF2
$(aa_stats "$tmp/aa_load")
EOF2
read -r ab_fail rmin rmax abt <<EOF2
$(awk '{ f += ($1 == 1); r = $2 / $3; if (NR == 1 || r < lo) lo = r; if (r > hi) hi = r; t += $4 }
	END { printf "%d %.4f %.4f %.2f", f, lo, hi, t / NR }' "$tmp/ab")
EOF2
read -r cc_fail ccmin ccmax ccspread ccinrun cctmean cctmax cclmin cclmax conv_counter <<EOF2
$(aa_stats "$tmp/conv_cost")
EOF2
read -r cl_fail clmin clmax clspread clinrun cltmean cltmax cllmin cllmax dash <<EOF2
$(aa_stats "$tmp/conv_latency")
EOF2
{
	echo "### Cost gate: A/A spread, detection and time (bench_cost.sh)"
	echo
	note=""
	case $counter in callgrind*) note=" (perf_event_open has no hardware counter here)" ;; esac
	echo "Counter: ${counter//_/ }$note. Digits model.onnx"
	echo "(64-32-10 MLP) and a model of four 3x3 convolutions on a 224x224 image (p50 $conv_p50 ms on one"
	echo "thread here), one intra-op thread, each model counted in an agent of its own (the gate's defaults:"
	echo "5 counted inferences after 2 uncounted ones under callgrind, 20 after 10 on the hardware counter);"
	echo "Load average (1 min) on 2 CPUs shared with other jobs: $lmin to $lmax as the machine was, $llmin to $llmax"
	echo "with two busy loops added."
	echo
	echo "| what | runs | failed | instructions per inference | spread between runs | largest candidate/baseline gap in a run | seconds per gate (mean / max) |"
	echo "|---|---:|---:|---|---:|---:|---|"
	echo "| A/A, max_ratio 1.001 | $runs | $aa_fail | $vmin to $vmax | $spread% | $inrun% | $tmean / $tmax |"
	echo "| A/A under injected load, max_ratio 1.001 | $runs | $la_fail | $lvmin to $lvmax | $lspread% | $linrun% | $ltmean / $ltmax |"
	echo "| +3.1% multiply-adds (fc1 32 -> 33), max_ratio 1.01 | $detect_runs | $ab_fail | ratio $rmin to $rmax | | | $abt |"
	echo "| convolution model ($conv_p50 ms), A/A, max_ratio 1.001 | $slow_runs | $cc_fail | $ccmin to $ccmax | $ccspread% | $ccinrun% | $cctmean / $cctmax |"
	echo "| the same, latency gate A/A at max_ratio 1.05, for scale | $slow_runs | $cl_fail | (p50 ms) $clmin to $clmax | | | $cltmean / $cltmax |"
} >"$BENCH_OUT"
if [ -n "${BENCH_RAW:-}" ]; then
	mkdir -p "$BENCH_RAW" && cp "$tmp/aa" "$tmp/aa_load" "$tmp/ab" "$tmp/conv_cost" "$tmp/conv_latency" "$BENCH_RAW/"
fi
