# Sourced by every bench/bench_*.sh (run by bench/run.sh): strict mode, die()
# naming the benchmark, and the settings run.sh passes in the environment.
set -euo pipefail

bench=$(basename "$0" .sh)
die() {
	echo "$bench: $*" >&2
	exit 1
}

: "${MODELGATE:?set MODELGATE to the modelgate binary}"
out=${BENCH_OUT:-/dev/stdout}
raw=${BENCH_RAW:-}
runs=${BENCH_RUNS:-5}
warmup=${BENCH_WARMUP:-1}
size_mib=${BENCH_SIZE_MIB:-1024}
tmpbase=${BENCH_TMPDIR:-${TMPDIR:-/tmp}}
