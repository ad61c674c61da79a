#!/bin/bash
# TFLite inference time, for scale: MediaPipe's face_detection_short_range
# (1x128x128x3 float32, fp16 weights) through LiteRT.js, Google's runtime
# compiled to WebAssembly (tests/cli/litert_run.mjs: Node.js, the wasm CPU
# path with XNNPACK, 1 thread), the same runtime the TFLite tests take their
# reference outputs from. BENCH_ROUNDS rounds (default 3) of BENCH_ITERS
# timed runs each (default 50) after one warm-up run; the median of the
# per-round p50s. Beside it, `modelgate run` on Arm NN (local CpuRef, qemu
# CpuAcc), the same way.
# Run by bench/run.sh with MODELGATE and BENCH_OUT set.
. "$(dirname "$0")/lib.sh"

rounds=${BENCH_ROUNDS:-3}
iters=${BENCH_ITERS:-50}
repo=$(cd "$(dirname "$0")/.." && pwd)
py=/usr/bin/python3
model=$repo/.deps/npm/node_modules/@mediapipe/face_detection/face_detection_short_range.tflite
[ -f "$model" ] || die "no '$model' (make deps-test)"
command -v node >/dev/null || die "no node (make deps installs Debian's nodejs)"
tmp=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/bench_tflite.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

mkdir -p "$tmp/in"
"$py" -c 'import numpy as np, sys
np.save(sys.argv[1], np.random.default_rng(1).random((1, 128, 128, 3), dtype=np.float32))' \
	"$tmp/in/input.npy" || die "cannot write the input"

: >"$tmp/litert"
for r in $(seq "$rounds"); do
	node "$repo/tests/cli/litert_run.mjs" --time "$iters" "$model" "$tmp/out" "$tmp/in/input.npy" \
		>"$tmp/litert.json" || die "litert_run.mjs failed"
	"$py" -c 'import json, sys; j = json.load(open(sys.argv[1])); print(j["p50_ms"], j["load_ms"])' \
		"$tmp/litert.json" >>"$tmp/litert"
	[ -n "$raw" ] && cp "$tmp/litert.json" "$raw/litert_round$r.json"
done
read -r litert_p50 litert_load <<<"$("$py" - "$tmp/litert" <<'PY'
import statistics, sys
rows = [[float(v) for v in l.split()] for l in open(sys.argv[1])]
print(*(statistics.median(r[i] for r in rows) for i in range(2)))
PY
)"
versions=$("$py" -c 'import json, sys; j = json.load(open(sys.argv[1])); print("LiteRT.js %s, Node.js %s" % (j["litert"], j["node"]))' \
	"$tmp/litert.json")

# modelgate run on Arm NN: the local target (CpuRef) and qemu-aarch64 (the
# aarch64 agent on CpuAcc, emulated: for scale only), BENCH_ROUNDS rounds
# each of BENCH_ITERS runs after one warm-up; latency p50 and the engine's
# load (parse, optimise, load the network; the fp16 fold included).
# Still to add: a bare C++ loop around EnqueueWorkload (as bench/ort_loop.c
# is for ONNX Runtime), for modelgate's own overhead.
for t in local qemu-aarch64; do
	: >"$tmp/mg-$t"
	for r in $(seq "$rounds"); do
		"$MODELGATE" run "$model" --target "$t" --inputs "$tmp/in" --warmup 1 --iterations "$iters" \
			--min-time 0 --json >"$tmp/mg.json" || die "modelgate run on $t failed"
		"$py" -c 'import json, sys; j = json.load(open(sys.argv[1]))
print(j["latency"]["p50"] / 1e6, j["load_ns"] / 1e6, j["target"]["engine_version"])' \
			"$tmp/mg.json" >>"$tmp/mg-$t" || die "cannot read the run's JSON"
		[ -n "$raw" ] && cp "$tmp/mg.json" "$raw/modelgate_${t}_round$r.json"
	done
done
# "p50 load backend" of a target: the medians over the rounds
mg_row() {
	"$py" - "$tmp/mg-$1" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
print(statistics.median(float(r[0]) for r in rows), statistics.median(float(r[1]) for r in rows),
      " ".join(rows[0][2:]))
PY
}
read -r local_p50 local_load local_engine <<<"$(mg_row local)"
read -r qemu_p50 qemu_load qemu_engine <<<"$(mg_row qemu-aarch64)"

{
	echo "### TFLite: face_detection_short_range for scale (bench_tflite.sh)"
	echo
	echo "MediaPipe face_detection_short_range.tflite (@mediapipe/face_detection 0.4.1657300184),"
	echo "input float32 [1, 128, 128, 3] (random, seed 1); $versions;"
	echo "median of $rounds rounds of $iters timed runs after 1 warm-up run, p50 of each round."
	echo
	echo "| runtime | backend | p50 | load + compile |"
	echo "|---|---|---|---|"
	printf '| LiteRT.js (Node.js, WebAssembly) | CPU (XNNPACK), 1 thread | %.2f ms | %.0f ms |\n' \
		"$litert_p50" "$litert_load"
	printf '| modelgate run, local (%s) | Arm NN reference kernels | %.2f ms | %.0f ms |\n' \
		"$local_engine" "$local_p50" "$local_load"
	printf '| modelgate run, qemu-aarch64 (%s), emulated | Arm NN NEON kernels | %.2f ms | %.0f ms |\n' \
		"$qemu_engine" "$qemu_p50" "$qemu_load"
	echo
	echo "Per-round p50s (ms): $(awk '{ printf "%s%.2f", (NR > 1 ? " " : ""), $1 }' "$tmp/litert")"
	echo
} >>"$out"
