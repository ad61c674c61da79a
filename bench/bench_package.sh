#!/bin/bash
# modelgate package against tar --zstd, on one 1 GiB file of random bytes
# (BENCH_SIZE_MIB), in one hyperfine run:
#   modelgate package DIR --report R -o B.tar.zst   reads, hashes (manifest,
#       provenance) and compresses the file once, zstd level 3, fsync, rename
#   tar --zstd -cf B.tar.zst -C DIR .             the same file, no hashing,
#       no fsync (tar runs the zstd CLI, level 3, in a second process)
#   tar -cf - | zstd -T0                          zstd with a worker per core
# The ratio is modelgate's mean over each peer's mean. Random bytes do not
# compress: this measures the pipeline (read, hash, zstd framing, write),
# not zstd's ratio. Run by bench/run.sh (MODELGATE, BENCH_OUT, BENCH_RAW,
# BENCH_RUNS, BENCH_WARMUP, BENCH_TMPDIR); needs about 4x the file size free.
. "$(dirname "$0")/lib.sh"

for t in hyperfine tar zstd awk df python3; do
	command -v "$t" >/dev/null || die "'$t' is not installed (make deps installs hyperfine and zstd)"
done
need_kib=$((size_mib * 1024 * 4))
avail_kib=$(df -Pk "$tmpbase" | awk 'NR == 2 { print $4 }')
[ "$avail_kib" -ge "$need_kib" ] ||
	die "needs about $((need_kib / 1048576)) GiB free in '$tmpbase'; set BENCH_TMPDIR"

work=$(mktemp -d "$tmpbase/mg-bench-package.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
[ -n "$raw" ] || raw=$work
mkdir -p "$work/model"
file=$work/model/model.bin
echo "bench_package: writing a $size_mib MiB file of random bytes in $work" >&2
head -c $((size_mib * 1048576)) /dev/urandom >"$file"
digest=sha256:$(sha256sum "$file" | cut -c1-64)

# A passing report naming the file: written by hand (schema_version 1), since
# the gates of a random file cannot run.
python3 - "$work/report.json" "$digest" <<'PY'
import json, sys
json.dump({"schema_version": 1, "tool": "modelgate", "tool_version": "bench",
           "created": "2026-01-01T00:00:00Z", "model": {"ref": "model.bin", "digest": sys.argv[2]},
           "targets": [], "gates": [{"name": "size", "kind": "size", "status": "pass",
           "reason": "bench", "metric": "bytes", "value": 1, "limit": 2, "unit": "bytes",
           "figures": []}]}, open(sys.argv[1], "w"))
PY
export SOURCE_DATE_EPOCH=1700000000
"$MODELGATE" package "$work/model" --no-git --report "$work/report.json" -o "$work/check.tar.zst" >&2 ||
	die "modelgate package failed on the benchmark input"
"$MODELGATE" verify "$work/check.tar.zst" >&2 || die "the benchmark bundle does not verify"
rm -f "$work/check.tar.zst"

q() { printf '%q' "$1"; }
mg=$(q "$MODELGATE")
w=$(q "$work")
load=$(cut -d' ' -f1-3 /proc/loadavg)
hyperfine --warmup "$warmup" --runs "$runs" --export-csv "$raw/package.csv" \
	--export-json "$raw/package.json" \
	--prepare "rm -f $w/a.tar.zst $w/b.tar.zst $w/c.tar.zst" \
	-n "modelgate package DIR -o .tar.zst" \
	"SOURCE_DATE_EPOCH=1700000000 $mg package $w/model --no-git --report $w/report.json -o $w/a.tar.zst" \
	-n "tar --zstd -cf" "tar --zstd -cf $w/b.tar.zst -C $w/model ." \
	-n "tar -cf - piped to zstd -T0" "tar -cf - -C $w/model . | zstd -q -T0 -o $w/c.tar.zst" >&2
load_end=$(cut -d' ' -f1-3 /proc/loadavg)

{
	echo "### Packaging a $size_mib MiB model to .tar.zst (bench_package.sh)"
	echo
	echo "- one file of random bytes (incompressible); zstd level 3 everywhere; hyperfine --warmup $warmup --runs $runs"
	echo "- load average before / after: $load / $load_end (other jobs share this machine)"
	echo "- modelgate also hashes the file (manifest, provenance), fsyncs and renames; tar does neither"
	echo
	echo "| command | mean ± σ (s) | MiB/s | user / sys (s) | modelgate ÷ this |"
	echo "|---|---:|---:|---:|---:|"
	awk -F, -v mib="$size_mib" 'NR == 1 { next }
		{ m = $2; s = $3
		  if (NR == 2) { base = m; ratio = "—" } else ratio = sprintf("%.2f", base / m)
		  printf "| %s | %.3f ± %.3f | %.0f | %.2f / %.2f | %s |\n", $1, m, s, mib / m, $5, $6, ratio }' \
		"$raw/package.csv"
} >>"$out"
