#!/bin/bash
# TFLite inference time, for scale: MediaPipe's face_detection_short_range
# (1x128x128x3 float32, fp16 weights) through LiteRT.js, Google's runtime
# compiled to WebAssembly (tests/cli/litert_run.mjs: Node.js, the wasm CPU
# path with XNNPACK, 1 thread), the same runtime the TFLite tests take their
# reference outputs from. BENCH_ROUNDS rounds (default 3) of BENCH_ITERS
# timed runs each (default 50) after one warm-up run; the median of the
# per-round p50s. Beside it, `modelgate run` on Arm NN (local CpuRef, qemu
# CpuAcc) against a bare Arm NN loop, for modelgate's overhead (within 2%
# is the goal): timed, and counted in instructions (callgrind; the timings
# of a shared machine move by more than 2% from round to round), and the
# TFLite engine's start-up.
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

# modelgate run on Arm NN against a bare C++ loop over Arm NN's own API
# (bench/armnn_loop.cpp, built here for x86_64 and aarch64: the same fp16
# fold, backend preference and timing as the agent and its shim), on the
# local target (CpuRef) and on qemu-aarch64 (the aarch64 agent on CpuAcc,
# emulated; the bare loop started the way the qemu transport starts the
# agent: the cross sysroot, QEMU_CPU, the cpuinfo preload). Per target
# BENCH_ARMNN_ROUNDS rounds (default 7), each the bare loop and modelgate
# (in turn first: a drift of the machine within a round falls on each alike),
# BENCH_ARMNN_ITERS timed runs each (default 11: CpuRef takes about 1 s per
# inference) after one warm-up run, so that drift falls on both; the
# medians of the per-round p50s and their ratio, the median of the
# per-round ratios (each round's pair close in time), and the ratio of the
# medians of the per-round minimums (the machine's other load only adds
# time, so it touches the minimum least). Start-up: modelgate's
# startup_ns (command start to the RUN request less the load: the agent's
# start and the engine's open) and load_ns (fold, parse, optimise, load),
# medians over the same runs, beside the bare loop's runtime creation and
# load.
arounds=${BENCH_ARMNN_ROUNDS:-7}
aiters=${BENCH_ARMNN_ITERS:-11}
armnn=$repo/.deps/armnn
[ -f "$armnn/x64/lib/libarmnn.so.22" ] && [ -f "$armnn/arm64/lib/libarmnn.so.22" ] ||
	die "no Arm NN in '$armnn' (make deps)"
cpuinfo=$(dirname "$MODELGATE")/aarch64/libmodelgate-cpuinfo.so
[ -f "$cpuinfo" ] || die "no '$cpuinfo' (make agents)"
# $1: C compiler, $2: C++ compiler, $3: .deps/armnn/ARCH, $4: the binary
build_loop() {
	local o=$tmp/obj-${4##*/} src
	mkdir -p "$o"
	for src in formats/tflite_fold.c formats/flatbuf.c formats/tensor.c formats/tensor_npy.c \
		util/error.c util/fs.c; do
		"$1" -std=c11 -D_GNU_SOURCE -O2 -I"$repo" -c "$repo/$src" -o "$o/$(basename "$src" .c).o" ||
			return 1
	done
	# valgrind's client-request header serves every architecture (as for
	# the agent's cross build: Makefile)
	mkdir -p "$o/include"
	ln -sfn /usr/include/valgrind "$o/include/valgrind"
	"$2" -std=c++14 -O2 -I"$repo" -I"$3/include" -idirafter "$o/include" "$repo/bench/armnn_loop.cpp" "$o"/*.o \
		"$3/lib/libarmnnTfLiteParser.so.22" "$3/lib/libarmnn.so.22" -Wl,-rpath-link,"$3/lib" \
		-Wl,--disable-new-dtags,-rpath,"$3/lib" -ldl -o "$4"
}
build_loop cc c++ "$armnn/x64" "$tmp/armnn_loop" || die "cannot build armnn_loop for x86_64"
build_loop aarch64-linux-gnu-gcc aarch64-linux-gnu-g++ "$armnn/arm64" "$tmp/armnn_loop_a64" ||
	die "cannot build armnn_loop for aarch64"
bare() {
	case $1 in
	local) "$tmp/armnn_loop" "$armnn/x64/lib" "$model" "$tmp/in/input.npy" 1 "$aiters" ;;
	qemu-aarch64) QEMU_CPU=${QEMU_CPU:-neoverse-n1} qemu-aarch64 -L /usr/aarch64-linux-gnu \
		-E LD_PRELOAD="$cpuinfo" "$tmp/armnn_loop_a64" "$armnn/arm64/lib" "$model" \
		"$tmp/in/input.npy" 1 "$aiters" ;;
	esac
}
for t in local qemu-aarch64; do
	: >"$tmp/bare-$t"
	: >"$tmp/mg-$t"
	for r in $(seq "$arounds"); do
		[ $((r % 2)) = 0 ] || { bare "$t" >>"$tmp/bare-$t" || die "armnn_loop on $t failed"; }
		"$MODELGATE" run "$model" --target "$t" --inputs "$tmp/in" --warmup 1 --iterations "$aiters" \
			--min-time 0 --json >"$tmp/mg.json" || die "modelgate run on $t failed"
		[ $((r % 2)) = 1 ] || { bare "$t" >>"$tmp/bare-$t" || die "armnn_loop on $t failed"; }
		"$py" -c 'import json, sys; j = json.load(open(sys.argv[1]))
l = j["latency"]; print(l["p50"], l["min"], j["startup_ns"], j["load_ns"], j["target"]["engine_version"])' \
			"$tmp/mg.json" >>"$tmp/mg-$t" || die "cannot read the run's JSON"
		[ -n "$raw" ] && cp "$tmp/mg.json" "$raw/modelgate_${t}_round$r.json"
	done
done
# Instructions per inference, counted by callgrind on the local target:
# deterministic where the timings above move by more than the 2% they are
# to resolve on a shared machine. modelgate: a cost gate on the model (2
# uncounted warm-up inferences, BENCH_COUNT_RUNS counted, default 1: about a
# minute each under callgrind); the bare loop under the same callgrind
# options (transport.c's mg_callgrind_opts), counting its timed
# EnqueueWorkload calls the same way (armnn_loop.cpp). Both counts are of
# the whole inference path each measures: the agent's loop, its engine
# interface and the shim around Arm NN, against the bare call.
cruns=${BENCH_COUNT_RUNS:-1}
printf '{"model": "%s", "targets": {"t": "local"}, "gates": [{"name": "cost", "kind": "cost", "target": "t", "max_instructions": 1000000000000000, "runs": %d}]}\n' \
	"$model" "$cruns" >"$tmp/cost.json"
(cd "$tmp" && "$MODELGATE" gate -q -c cost.json --report cost-report.json) || die "the cost gate failed"
mg_count=$("$py" -c 'import json, sys; print(int(json.load(open(sys.argv[1]))["gates"][0]["value"]))' \
	"$tmp/cost-report.json") || die "cannot read the cost gate's report"
valgrind --tool=callgrind --quiet --collect-atstart=no --instr-atstart=no --cache-sim=yes \
	--callgrind-out-file="$tmp/bare.cg" "$tmp/armnn_loop" "$armnn/x64/lib" "$model" "$tmp/in/input.npy" 2 "$cruns" \
	>/dev/null 2>"$tmp/bare.cg.err" || { cat "$tmp/bare.cg.err" >&2; die "armnn_loop under callgrind failed"; }
bare_count=$(awk '/^(summary|totals):/ { print $2; exit }' "$tmp/bare.cg.1")
[ -n "$bare_count" ] || die "callgrind's dump '$tmp/bare.cg.1' has no total"
bare_count=$((bare_count / cruns))
count_ratio=$("$py" -c "print('%.5f' % ($mg_count / $bare_count))")
valgrind_version=$(valgrind --version)

# "bare_p50 mg_p50 ratio paired_ratio min_ratio bare_create bare_load
# mg_startup mg_load" of a target: medians over the rounds, in ms
armnn_row() {
	"$py" - "$tmp/bare-$1" "$tmp/mg-$1" <<'PY'
import statistics as st, sys
b = [l.split() for l in open(sys.argv[1])]
m = [l.split() for l in open(sys.argv[2])]
med = lambda rows, i: st.median(float(r[i]) for r in rows)
paired = st.median(float(y[0]) / float(x[0]) for x, y in zip(b, m))
print(med(b, 0) / 1e6, med(m, 0) / 1e6, med(m, 0) / med(b, 0), paired, med(m, 1) / med(b, 1),
      med(b, 2) / 1e6, med(b, 3) / 1e6, med(m, 2) / 1e6, med(m, 3) / 1e6)
PY
}
read -r local_bare local_p50 local_ratio local_paired local_min local_bcreate local_bload local_start local_load \
	<<<"$(armnn_row local)"
read -r qemu_bare qemu_p50 qemu_ratio qemu_paired qemu_min qemu_bcreate qemu_bload qemu_start qemu_load \
	<<<"$(armnn_row qemu-aarch64)"
engine_of() { awk 'NR == 1 { $1 = $2 = $3 = $4 = ""; sub(/^ +/, ""); print }' "$tmp/mg-$1"; }
local_engine=$(engine_of local)
qemu_engine=$(engine_of qemu-aarch64)
verdict() { "$py" -c "print('yes' if $1 else '**no**')"; }
per_round() { awk '{ printf "%s%.1f", (NR > 1 ? " " : ""), $1 / 1e6 }' "$1"; }
# one start-up row: target, modelgate startup and load, bare creation and load (ms)
startup_row() {
	printf '| %s | %.0f ms | %.0f ms | %.0f ms | %.0f ms | %.0f ms |\n' "$1" "$2" "$3" \
		"$("$py" -c "print($2 + $3)")" "$4" "$5"
}

{
	echo "### TFLite: face_detection_short_range for scale (bench_tflite.sh)"
	echo
	echo "MediaPipe face_detection_short_range.tflite (@mediapipe/face_detection 0.4.1657300184),"
	echo "input float32 [1, 128, 128, 3] (random, seed 1); $versions;"
	echo "LiteRT.js: median of $rounds rounds of $iters timed runs after 1 warm-up run, p50 of each round;"
	echo "modelgate run: from the overhead runs below ($arounds rounds of $aiters)."
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
	echo "Per-round p50s (ms), LiteRT.js: $(awk '{ printf "%s%.2f", (NR > 1 ? " " : ""), $1 }' "$tmp/litert")"
	echo
	echo "#### Arm NN 20.08: modelgate run against a bare Arm NN loop"
	echo
	echo "bench/armnn_loop.cpp: ITfLiteParser, Optimize, LoadNetwork, then EnqueueWorkload timed alone,"
	echo "with the agent's fp16 fold and the shim's backend preference. $arounds rounds per target, each"
	echo "the bare loop and \`modelgate run --warmup 1 --iterations $aiters --min-time 0\`: every p50 is"
	echo "of $aiters samples after 1 warm-up run; the table has the medians of the $arounds per-round p50s."
	echo "qemu-aarch64 is emulated (QEMU_CPU ${QEMU_CPU:-neoverse-n1}): no device's speed."
	echo
	echo "| target | backend | p50, bare loop | p50, modelgate run | modelgate / bare | within 1 +- 0.02 | median of per-round ratios | ratio of minimums |"
	echo "|---|---|---|---|---|---|---|---|"
	printf '| local (x86_64) | %s | %.1f ms | %.1f ms | %.4f | %s | %.4f | %.4f |\n' "$local_engine" \
		"$local_bare" "$local_p50" "$local_ratio" "$(verdict "abs($local_ratio - 1) <= 0.02")" \
		"$local_paired" "$local_min"
	printf '| qemu-aarch64 | %s | %.1f ms | %.1f ms | %.4f | %s | %.4f | %.4f |\n' "$qemu_engine" \
		"$qemu_bare" "$qemu_p50" "$qemu_ratio" "$(verdict "abs($qemu_ratio - 1) <= 0.02")" \
		"$qemu_paired" "$qemu_min"
	echo
	echo "Per-round p50s (ms): local bare $(per_round "$tmp/bare-local"), modelgate $(per_round "$tmp/mg-local");"
	echo "qemu-aarch64 bare $(per_round "$tmp/bare-qemu-aarch64"), modelgate $(per_round "$tmp/mg-qemu-aarch64")."
	echo "Backend the bare loop chose: local $(awk 'NR == 1 { print $5 }' "$tmp/bare-local"),"
	echo "qemu-aarch64 $(awk 'NR == 1 { print $5 }' "$tmp/bare-qemu-aarch64")."
	echo
	echo "Instructions per inference on the local target ($local_engine), counted by callgrind"
	echo "($valgrind_version), $cruns counted after 2 warm-up inferences: modelgate's cost gate against"
	echo "the bare loop under the same callgrind options, collection on around the counted calls only."
	echo
	echo "| target | bare loop | modelgate run | modelgate / bare | within 1 +- 0.02 |"
	echo "|---|---|---|---|---|"
	printf '| local (x86_64) | %d | %d | %s | %s |\n' "$bare_count" "$mg_count" "$count_ratio" \
		"$(verdict "abs($count_ratio - 1) <= 0.02")"
	echo
	echo "Start-up of the TFLite engine, medians over the same runs: modelgate's startup_ns (command"
	echo "start to the RUN request less the load: the agent's start, the engine's open = dlopen of the"
	echo "shim and Arm NN, the runtime with its backends) and load_ns (fold, parse, optimise, load the"
	echo "network); beside them the bare loop's runtime creation and load of the same model."
	echo
	echo "| target | modelgate startup_ns | modelgate load_ns | together | bare: runtime creation | bare: load |"
	echo "|---|---|---|---|---|---|"
	startup_row local "$local_start" "$local_load" "$local_bcreate" "$local_bload"
	startup_row qemu-aarch64 "$qemu_start" "$qemu_load" "$qemu_bcreate" "$qemu_bload"
	echo
} >>"$out"
