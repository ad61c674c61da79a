#!/bin/bash
# modelgate run's measurement overhead and start-up, on the digits model
# (examples/digits/model.onnx, input x.npy: float32 [360, 64], about 15 us
# per inference), in one run:
#   overhead  p50 of `modelgate run --target local` against a bare C loop
#             around ONNX Runtime's Run (bench/ort_loop.c, built here) on the
#             same model, input, thread count (1) and optimisation level,
#             interleaved A B A B for BENCH_ROUNDS rounds of BENCH_ITERS
#             iterations each; the ratio of the medians of the per-round p50s
#             must be within 2% of 1.
#   startup   startup_ns of `modelgate run --json` (command start to the RUN
#             request, minus the engine's model load), median of BENCH_RUNS*4
#             runs, and the whole command's wall time; must be under 50 ms.
# Run by bench/run.sh with MODELGATE and BENCH_OUT set.
. "$(dirname "$0")/lib.sh"

rounds=${BENCH_ROUNDS:-7}
iters=${BENCH_ITERS:-5000}
runs=$(( ${BENCH_RUNS:-5} * 4 ))
repo=$(cd "$(dirname "$0")/.." && pwd)
lib=$repo/.deps/ort/lib/x64/libonnxruntime.so.1
[ -f "$lib" ] || die "no '$lib' (make deps)"
py=/usr/bin/python3
tmp=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/bench_run.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
export MODELGATE_AGENT_CACHE=$tmp/cache ORT_DISABLE_TELEMETRY=1

cc -std=c11 -D_GNU_SOURCE -O2 -I"$repo" -I"$repo/.deps/ort/include" "$repo/bench/ort_loop.c" \
	"$repo/formats/tensor.c" "$repo/formats/tensor_npy.c" "$repo/util/error.c" "$repo/util/fs.c" \
	-ldl -o "$tmp/ort_loop" || die "cannot build ort_loop"
model=$repo/examples/digits/model.onnx
mkdir -p "$tmp/in"
cp "$repo/examples/digits/dataset/x.npy" "$tmp/in/input.npy"

p50_of() { "$py" -c 'import json, sys; print(json.load(sys.stdin)["latency"]["p50"])'; }

: >"$tmp/bare"
: >"$tmp/mg"
for r in $(seq "$rounds"); do
	"$tmp/ort_loop" "$lib" "$model" "$tmp/in/input.npy" input logits 1 50 "$iters" >>"$tmp/bare"
	"$MODELGATE" run "$model" --target local --inputs "$tmp/in" --threads 1 --warmup 50 \
		--iterations "$iters" --min-time 0 --json | p50_of >>"$tmp/mg"
done
read -r bare mg ratio <<<"$("$py" - "$tmp/bare" "$tmp/mg" <<'PY'
import statistics, sys
b = [float(x) for x in open(sys.argv[1])]
m = [float(x) for x in open(sys.argv[2])]
print(statistics.median(b), statistics.median(m), statistics.median(m) / statistics.median(b))
PY
)"

: >"$tmp/start"
for r in $(seq "$runs"); do
	t0=$(date +%s%N)
	"$MODELGATE" run "$model" --target local --inputs "$tmp/in" --iterations 1 --warmup 0 \
		--min-time 0 --json >"$tmp/one.json"
	t1=$(date +%s%N)
	"$py" -c 'import json, sys; j = json.load(open(sys.argv[1])); print(j["startup_ns"], j["load_ns"], sys.argv[2])' \
		"$tmp/one.json" $((t1 - t0)) >>"$tmp/start"
done
read -r startup load wall <<<"$("$py" - "$tmp/start" <<'PY'
import statistics, sys
rows = [[float(v) for v in l.split()] for l in open(sys.argv[1])]
print(*(statistics.median(r[i] for r in rows) / 1e6 for i in range(3)))
PY
)"

verdict() { "$py" -c "import sys; print('yes' if $1 else '**no**')"; }
{
	echo "### modelgate run: overhead and start-up (bench_run.sh)"
	echo
	echo "digits model.onnx, x.npy [360, 64] float32, 1 intra-op thread, optimisation 'all'."
	echo "Overhead: $rounds interleaved rounds of $iters iterations (after 50 warm-up runs);"
	echo "the medians of the per-round p50s. Start-up: median of $runs runs of"
	echo "\`modelgate run --iterations 1 --warmup 0 --min-time 0 --json\`."
	echo
	echo "| measure | value | target | met |"
	echo "|---|---|---|---|"
	printf '| p50, bare C loop around ORT Run | %.0f ns | | |\n' "$bare"
	printf '| p50, modelgate run --target local | %.0f ns | | |\n' "$mg"
	printf '| ratio modelgate / bare | %.4f | within 1 +- 0.02 | %s |\n' "$ratio" \
		"$(verdict "abs($ratio - 1) <= 0.02")"
	printf '| start-up (startup_ns, excluding model load) | %.1f ms | < 50 ms | %s |\n' "$startup" \
		"$(verdict "$startup < 50")"
	printf '| engine model load (load_ns) | %.1f ms | | |\n' "$load"
	printf '| whole command, wall | %.1f ms | | |\n' "$wall"
	echo
	echo "Per-round p50s (ns), bare: $(paste -sd' ' "$tmp/bare"); modelgate: $(paste -sd' ' "$tmp/mg")"
	echo
} >>"$out"
