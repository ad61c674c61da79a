# The latency gate's error rates. First the simulation the unit tests run
# (1,000 A/A and 1,000 A/B comparisons with log-normal noise and outliers,
# fixed-count and sequential), then real A/A series: the fp32 digits model
# gated against itself on `local`, RUNS times each (BENCH_GATE_RUNS, default
# 20; max_time BENCH_GATE_MAX_TIME, default 5 s) at max_ratio 1.05 and 1.02,
# quiet and, when stress-ng is installed, beside one CPU-bound stress-ng
# worker. Every fail is a false alarm; inconclusive is counted apart. Then
# the same with a copy that does ~11% more work (one more Relu), where
# every fail is a detection.
# Writes Markdown to $BENCH_OUT.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
runs=${BENCH_GATE_RUNS:-20}
tmp=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/bench-gate.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

make -C "$repo" --no-print-directory build/tests/test_validator >/dev/null
sim=$("$repo/build/tests/test_validator" 2>&1 | grep -E '^(sequential )?A/' || true)
[ -n "$sim" ] || { echo "bench_gate: the simulation printed no rates" >&2; exit 1; }

# One series: RUNS gate runs of a candidate (default: the fp32 digits model
# itself) against the fp32 digits model at max_ratio $2, max_time $3 s; $1
# names the series. Prints a table row.
aa_series() { # label max_ratio max_time [candidate.onnx]
	cat >"$tmp/aa.json" <<JSON
{"model": "${4:-$repo/examples/digits/model.onnx}", "baseline": "$repo/examples/digits/model.onnx",
 "targets": {"host": "local"},
 "gates": [{"name": "latency", "kind": "latency", "target": "host", "metric": "p50",
            "max_ratio": $2, "max_time": $3}]}
JSON
	: >"$tmp/rows"
	local i=0 rc
	while [ "$i" -lt "$runs" ]; do
		i=$((i + 1))
		rc=0
		"$MODELGATE" -q gate -c "$tmp/aa.json" --report "$tmp/r.json" >/dev/null || rc=$?
		[ "$rc" -le 1 ] || { echo "bench_gate: gate run $i ended with exit $rc" >&2; exit 1; }
		/usr/bin/python3 - "$tmp/r.json" "$rc" >>"$tmp/rows" <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))["gates"][0]
l = g["latency"]
n = len(l["samples_ns"]["candidate"])
lo, hi = (x if x is not None else float("nan") for x in l["ratio_ci"])
print("%s %s %.4f %.4f %.4f %d %d %d %d" % (g["status"], sys.argv[2], l["ratio"], lo, hi, n,
      1 if l["stopped_early"] else 0, 1 if l["noisy"] else 0, 1 if l.get("too_few") else 0))
PY
	done
	awk -v label="$1" -v runs="$runs" '
		{ st[$1]++; exit1 += $2 == 1; n += $6; early += $7; noisy += $8; few += $9
		  r[NR] = $3; if (NR == 1 || $3 < rmin) rmin = $3; if (NR == 1 || $3 > rmax) rmax = $3
		  if ($4 == $4 && (lo == "" || $4 < lo)) lo = $4; if ($5 == $5 && (hi == "" || $5 > hi)) hi = $5 }
		END { printf "| %s | %d | %d | %d | %d | %d | %.4f / %.4f | %s / %s | %.0f | %d | %d | %d |\n",
			label, runs, st["pass"] + 0, st["fail"] + 0, st["inconclusive"] + 0, exit1, rmin, rmax,
			lo == "" ? "-" : sprintf("%.4f", lo), hi == "" ? "-" : sprintf("%.4f", hi), n / NR, early, noisy, few }' "$tmp/rows"
}

# A/B: the digits model with one more Relu (idempotent after the first, so
# the same outputs): about 11% slower on an x86 runner, the "real 10%
# slowdown" of the detection series.
/usr/bin/python3 - "$repo/examples/digits/model.onnx" "$tmp/slower.onnx" <<'PY'
import sys, onnx
from onnx import helper
m = onnx.load(sys.argv[1])
nodes = list(m.graph.node)
relu = [n for n in nodes if n.op_type == "Relu"][0]
after = [n for n in nodes if relu.output[0] in n.input][0]
after.input[list(after.input).index(relu.output[0])] = "extra_relu.out"
nodes.insert(nodes.index(relu) + 1, helper.make_node("Relu", [relu.output[0]], ["extra_relu.out"]))
del m.graph.node[:]
m.graph.node.extend(nodes)
onnx.checker.check_model(m)
onnx.save(m, sys.argv[2])
PY

max_time=${BENCH_GATE_MAX_TIME:-5}
rows=$(aa_series "quiet, 1.05" 1.05 "$max_time")
rows="$rows
$(aa_series "quiet, 1.02" 1.02 "$max_time")
$(aa_series "A/B +1 Relu (~11% slower), quiet, 1.05" 1.05 "$max_time" "$tmp/slower.onnx")"
load_note="stress-ng is not installed: no run under injected load."
if command -v stress-ng >/dev/null 2>&1; then
	# one CPU-bound worker on one of the cores, bounded in time
	budget=$(( runs * (max_time + 3) * 3 + 60 ))
	stress-ng --cpu 1 --cpu-method matrixprod --timeout "${budget}s" --quiet &
	stress=$!
	trap 'kill "$stress" 2>/dev/null || true; rm -rf "$tmp"' EXIT
	rows="$rows
$(aa_series "stress-ng --cpu 1, 1.05" 1.05 "$max_time")
$(aa_series "stress-ng --cpu 1, 1.02" 1.02 "$max_time")
$(aa_series "A/B +1 Relu (~11% slower), stress-ng --cpu 1, 1.05" 1.05 "$max_time" "$tmp/slower.onnx")"
	kill "$stress" 2>/dev/null || true
	wait "$stress" 2>/dev/null || true
	load_note="Under load: \`stress-ng --cpu 1 --cpu-method matrixprod\` runs beside the gate for both loaded series."
fi
{
	echo "### Latency gate error rates (bench_gate.sh)"
	echo
	echo "Simulation (tests/unit/test_validator.c; log-normal noise sigma 0.08 with 3% outliers at 2-4x; block ratios of 10 samples, t interval over blocks, max_ratio 1.05):"
	echo
	echo "$sim" | sed 's/^/- /'
	echo
	echo "Real A/A: digits model.onnx gated against itself on \`local\`, p50, max_time $max_time s, $runs runs per series. Any fail is a false alarm; inconclusive is counted apart (exit 0 under the default on_inconclusive warn). The A/B rows gate a copy with one more Relu (same outputs, about 11% slower) against model.onnx: there every fail is a detection. $load_note"
	echo
	echo "| series | runs | pass | fail | inconclusive | exit 1 | ratio min / max | lowest CI low / highest CI high | samples a side (mean) | stopped early | flagged noisy | too few samples |"
	echo "|---|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---:|"
	echo "$rows"
} >"$BENCH_OUT"
