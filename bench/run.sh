#!/bin/sh
# Runs the benchmarks bench/bench_*.sh (all of them, or those named on the
# command line, e.g. `run.sh store` or `run.sh bench_store`), each with bash,
# and appends one results section to bench/RESULTS.md: the date, the machine
# and the versions, then the Markdown that each benchmark wrote. A benchmark
# that fails is reported on stderr and leaves nothing in RESULTS.md; run.sh
# then exits 1. `make bench` runs it.
#
#   MODELGATE=/path/to/modelgate bench/run.sh [NAME...]
#
# Environment (all optional):
#   BENCH_RESULTS    the file to append to (default bench/RESULTS.md)
#   BENCH_RUNS       timed runs per command (default 5)
#   BENCH_WARMUP     untimed warm-up runs per command (default 1)
#   BENCH_TMPDIR     where benchmarks put their data (default $TMPDIR or /tmp)
#   BENCH_SIZE_MIB   size of bench_store's file (default 1024; for trying
#                    the scripts out quickly, not for recorded results)
#   BENCH_FLEET_N    bench_fleet.sh's simulated devices (default 200)
#
# A benchmark gets MODELGATE (absolute) and BENCH_OUT (a file to write its
# Markdown results to) in its environment, and BENCH_RAW, a folder for raw
# data (hyperfine JSON) that is kept in bench/out/, which git ignores.
set -u

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
if [ -z "${MODELGATE:-}" ]; then
	MODELGATE=$repo/build/modelgate
fi
case $MODELGATE in
/*) ;;
*) MODELGATE=$(pwd)/$MODELGATE ;;
esac
if [ ! -x "$MODELGATE" ]; then
	echo "run.sh: '$MODELGATE' is not an executable file (run make, or set MODELGATE)" >&2
	exit 2
fi
export MODELGATE
results=${BENCH_RESULTS:-$here/RESULTS.md}

# The benchmarks to run become the positional parameters (paths may have spaces).
if [ $# -eq 0 ]; then
	set -- "$here"/bench_*.sh
	[ -f "$1" ] || {
		echo "run.sh: no bench/bench_*.sh to run" >&2
		exit 2
	}
else
	for n in "$@"; do
		n=${n%.sh}
		n=${n#bench_}
		if [ ! -f "$here/bench_$n.sh" ]; then
			echo "run.sh: no benchmark bench/bench_$n.sh" >&2
			exit 2
		fi
		set -- "$@" "$here/bench_$n.sh"
		shift
	done
fi

stamp=$(date -u '+%Y%m%dT%H%M%SZ')
section=$(mktemp) || exit 3
fragment=$(mktemp) || exit 3
trap 'rm -f "$section" "$fragment"' EXIT
trap 'exit 130' INT TERM

# The machine, once per run: shared machines are noisy, so say what ran where.
cpu=$(grep -m1 '^model name' /proc/cpuinfo | sed 's/^[^:]*: *//')
if grep -qw sha_ni /proc/cpuinfo; then shani=yes; else shani=no; fi
if grep -qw hypervisor /proc/cpuinfo; then virt="yes (hypervisor flag set)"; else virt=no; fi
mem=$(awk '/^MemTotal:/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
commit=$(git -C "$repo" describe --always --dirty 2>/dev/null || echo unknown)
binary="tree $commit"
[ "$MODELGATE" = "$repo/build/modelgate" ] || binary="binary $MODELGATE; tree here $commit"
{
	echo
	echo "## Run $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	echo
	echo "- machine: $(nproc) CPUs, $cpu, $mem RAM; SHA-NI: $shani; virtual machine: $virt"
	echo "- kernel: $(uname -r); load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "- modelgate: $("$MODELGATE" --version 2>&1 | head -1) ($binary); $(hyperfine --version 2>/dev/null || echo 'hyperfine: not installed')"
} >"$section"

ok=0
failed=""
for b in "$@"; do
	name=$(basename "$b" .sh)
	raw=$here/out/$stamp/$name
	mkdir -p "$raw"
	: >"$fragment"
	echo "== $name" >&2
	if BENCH_OUT=$fragment BENCH_RAW=$raw bash "$b"; then
		echo >>"$section"
		cat "$fragment" >>"$section"
		ok=$((ok + 1))
		echo "== $name: done (raw data in ${raw#"$repo"/})" >&2
	else
		failed="$failed $name"
		rmdir "$raw" "$here/out/$stamp" 2>/dev/null
		echo "== $name: FAILED, nothing recorded" >&2
	fi
done

if [ "$ok" -gt 0 ]; then
	cat "$section" >>"$results"
	echo "run.sh: appended $ok result(s) to $results" >&2
fi
if [ -n "$failed" ]; then
	echo "run.sh: failed:$failed" >&2
	exit 1
fi
exit 0
