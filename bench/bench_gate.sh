# The latency gate's error rates. First the simulation the unit tests run
# (1,000 A/A and 1,000 A/B comparisons with log-normal noise and outliers,
# fixed-count and sequential), then real A/A runs: the fp32 digits model
# gated against itself on `local`, RUNS times (default 20) — every one
# declaring a regression is a false alarm. Writes Markdown to $BENCH_OUT.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
runs=${BENCH_GATE_RUNS:-20}
tmp=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/bench-gate.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

make -C "$repo" --no-print-directory build/tests/test_validator >/dev/null
sim=$("$repo/build/tests/test_validator" 2>&1 | grep -E '^(sequential )?A/' || true)
[ -n "$sim" ] || { echo "bench_gate: the simulation printed no rates" >&2; exit 1; }

cat >"$tmp/aa.json" <<JSON
{"model": "$repo/examples/digits/model.onnx", "baseline": "$repo/examples/digits/model.onnx",
 "targets": {"host": "local"},
 "gates": [{"name": "latency", "kind": "latency", "target": "host", "metric": "p50",
            "max_ratio": 1.05, "max_time": 10}]}
JSON
false_alarms=0
: >"$tmp/rows"
i=0
while [ "$i" -lt "$runs" ]; do
	i=$((i + 1))
	rc=0
	"$MODELGATE" -q gate -c "$tmp/aa.json" --report "$tmp/r.json" || rc=$?
	[ "$rc" -le 1 ] || { echo "bench_gate: gate run $i ended with exit $rc" >&2; exit 1; }
	[ "$rc" -eq 1 ] && false_alarms=$((false_alarms + 1))
	/usr/bin/python3 - "$tmp/r.json" >>"$tmp/rows" <<'PY'
import json, sys
l = json.load(open(sys.argv[1]))["gates"][0]["latency"]
n = len(l["samples_ns"]["candidate"])
print("%.4f %.4f %.4f %.3g %d %d %d" % (l["ratio"], l["ratio_ci"][0], l["ratio_ci"][1], l["p_value"], n,
      1 if l["stopped_early"] else 0, 1 if l["noisy"] else 0))
PY
done
ratios=$(cut -d' ' -f1 "$tmp/rows" | sort -g)
rmin=$(echo "$ratios" | head -n 1)
rmax=$(echo "$ratios" | tail -n 1)
rmed=$(echo "$ratios" | sed -n "$(( (runs + 1) / 2 ))p")
read -r cilo avgn early noisy <<EOF2
$(awk 'NR == 1 || $2 < lo { lo = $2 } { n += $5; early += $6; noisy += $7 }
	END { printf "%.4f %.0f %d %d", lo, n / NR, early, noisy }' "$tmp/rows")
EOF2
{
	echo "### Latency gate error rates (bench_gate.sh)"
	echo
	echo "Simulation (tests/unit/test_validator.c; log-normal noise sigma 0.08 with 3% outliers at 2-4x, 100 samples a side, max_ratio 1.05, alpha 0.01):"
	echo
	echo "$sim" | sed 's/^/- /'
	echo
	echo "Real A/A: digits model.onnx gated against itself on \`local\`, p50, max_ratio 1.05, $runs runs:"
	echo
	echo "| runs | regressions declared (false alarms) | ratio min / median / max | lowest CI bound | samples a side (mean) | stopped early | flagged noisy |"
	echo "|---:|---:|---|---:|---:|---:|---:|"
	echo "| $runs | $false_alarms | $rmin / $rmed / $rmax | $cilo | $avgn | $early | $noisy |"
} >"$BENCH_OUT"
