#!/bin/bash
# The local store against its peers, on one 1 GiB file of random bytes, in
# one run (bench/RESULTS.md explains each row):
#   hash   modelgate push into a store that already holds the blob, against
#          sha256sum FILE and openssl dgst -sha256 FILE
#   push   modelgate push into an empty store, against skopeo copy of an OCI
#          layout holding the same blob into an empty layout, and cp + sync
#   pull   modelgate pull to a new folder, against skopeo copy oci: -> dir:,
#          cp, and cp + sync
#   fsck   modelgate fsck of the store, against sha256sum and openssl dgst
#          of the blob file
# Each group is one hyperfine invocation (--prepare resets the destination
# before every run); the ratios are modelgate's mean over each peer's mean.
#
# Run by bench/run.sh with MODELGATE and BENCH_OUT set (see run.sh for
# BENCH_RUNS, BENCH_WARMUP, BENCH_TMPDIR, BENCH_SIZE_MIB). All data lives in
# one mktemp -d folder, removed at exit; it needs about 6 times the file
# size free (6 GiB).
. "$(dirname "$0")/lib.sh"

for t in hyperfine skopeo sha256sum openssl cp cmp awk df; do
	command -v "$t" >/dev/null ||
		die "'$t' is not installed (make deps installs hyperfine, skopeo and openssl)"
done

# Free space: the file, the source layout, and at most two 1 GiB copies at a
# time (plus a temporary copy), with room to spare.
need_kib=$((size_mib * 1024 * 6))
avail_kib=$(df -Pk "$tmpbase" | awk 'NR == 2 { print $4 }')
if [ "$avail_kib" -lt "$need_kib" ]; then
	die "needs about $((need_kib / 1048576)) GiB free in '$tmpbase', has $((avail_kib / 1048576)) GiB;" \
		"set BENCH_TMPDIR to a folder on a file system with more room"
fi
avail_mem_kib=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo)
cache_note="warm page cache: the file and the stores fit in RAM (MemAvailable $((avail_mem_kib / 1048576)) GiB), so reads come from memory; writes are fsynced (except plain cp)."
if [ "$avail_mem_kib" -lt $((size_mib * 1024 * 4)) ]; then
	cache_note="NOT all warm-cache: MemAvailable is only $((avail_mem_kib / 1024)) MiB for a $size_mib MiB file, so some reads hit the disk."
fi

work=$(mktemp -d "$tmpbase/mg-bench-store.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
csvdir=$work/csv
mkdir "$csvdir"
[ -n "$raw" ] || raw=$csvdir

q() { printf '%q' "$1"; }
mg=$(q "$MODELGATE")
file=$work/model.bin
qf=$(q "$file")
src=$work/src # the OCI layout that skopeo copies from and pull/fsck read
qs=$(q "$src")
# Same input, same manifest: pushing again into $src re-tags the same digest.
export SOURCE_DATE_EPOCH=1700000000

echo "bench_store: writing a $size_mib MiB file of random bytes in $work" >&2
head -c $((size_mib * 1048576)) /dev/urandom >"$file"
hex=$(openssl dgst -sha256 -r "$file" | cut -c1-64)
digest=$(MODELGATE_HOME=$src "$MODELGATE" push --no-git bench:v1 "$file")
blob=$src/blobs/sha256/$hex
[ "$(stat -c %s "$blob" 2>/dev/null)" = $((size_mib * 1048576)) ] ||
	die "modelgate push did not store the blob as $blob"
skopeo --insecure-policy inspect --raw "oci:$src:bench:v1" >/dev/null ||
	die "skopeo cannot read the layout modelgate wrote ($src)"

# has_blob FILE: FILE exists with the size of the test file.
has_blob() {
	[ "$(stat -c %s "$1" 2>/dev/null)" = $((size_mib * 1048576)) ] ||
		die "after the runs, '$1' is missing or has the wrong size"
}

# io_of CMD...: "read R MiB, wrote W MiB, of which C MiB deleted before
# reaching the disk", from /proc/PID/io of a shell that ran and reaped CMD.
io_of() {
	sh -c '"$@" >/dev/null; cat /proc/$$/io' sh "$@" | awk '
		/^rchar:/ { r = $2 } /^wchar:/ { w = $2 } /^cancelled_write_bytes:/ { c = $2 }
		END { printf "read %.0f MiB, wrote %.0f MiB (%.0f MiB of it deleted before reaching the disk)",
			r / 1048576, w / 1048576, c / 1048576 }'
}

# bench GROUP NAME PREPARE CMD [NAME PREPARE CMD]...: one hyperfine run;
# the first command is modelgate's. PREPARE "" means none.
bench() {
	local group=$1
	shift
	local args=(--warmup "$warmup" --runs "$runs" --export-json "$raw/$group.json"
		--export-csv "$csvdir/$group.csv")
	local names=() preps=() cmds=() anyprep=0
	while [ $# -gt 0 ]; do
		case $1 in *,*) die "command name '$1' has a comma (the CSV parsing needs none)" ;; esac
		names+=("$1")
		preps+=("${2:-true}")
		[ -z "$2" ] || anyprep=1
		cmds+=("$3")
		shift 3
	done
	local i
	for i in "${!cmds[@]}"; do
		[ "$anyprep" = 0 ] || args+=(--prepare "${preps[$i]}")
	done
	for i in "${!cmds[@]}"; do
		args+=(--command-name "${names[$i]}" "${cmds[$i]}")
	done
	echo "bench_store: $group" >&2
	hyperfine "${args[@]}" >&2
}

# --- hash: read + SHA-256 ----------------------------------------------------
bench hash \
	"modelgate push (blob already stored)" "" "MODELGATE_HOME=$qs $mg push --no-git bench:v1 $qf" \
	"sha256sum FILE" "" "sha256sum $qf" \
	"openssl dgst -sha256 FILE" "" "openssl dgst -sha256 $qf"
again=$(MODELGATE_HOME=$src "$MODELGATE" push --no-git bench:v1 "$file")
[ "$again" = "$digest" ] || die "pushing the same file again gave $again, not $digest"
io_hash=$(MODELGATE_HOME=$src io_of "$MODELGATE" push --no-git bench:v1 "$file")

# --- push: into an empty store ------------------------------------------------
cold=$work/cold
dst=$work/dst
cpout=$work/cpout
bench push \
	"modelgate push (empty store)" "rm -rf $(q "$cold")" "MODELGATE_HOME=$(q "$cold") $mg push --no-git bench:v1 $qf" \
	"skopeo copy oci: -> oci: (empty layout)" "rm -rf $(q "$dst")" "skopeo --insecure-policy copy -q oci:$qs:bench:v1 oci:$(q "$dst"):bench:v1" \
	"cp FILE + sync (durable copy floor)" "rm -rf $(q "$cpout") && mkdir $(q "$cpout")" "cp $qf $(q "$cpout/m") && sync $(q "$cpout/m")"
has_blob "$cold/blobs/sha256/$hex"
has_blob "$dst/blobs/sha256/$hex"
has_blob "$cpout/m"
rm -rf "$cold" "$dst" "$cpout"
io_cold=$(MODELGATE_HOME=$cold io_of "$MODELGATE" push --no-git bench:v1 "$file")
rm -rf "$cold"

# --- pull: out of the store into plain files ---------------------------------
pout=$work/pull
dirout=$work/dirout
bench pull \
	"modelgate pull -o DIR (new folder)" "rm -rf $(q "$pout")" "MODELGATE_HOME=$qs $mg pull bench:v1 -o $(q "$pout")" \
	"skopeo copy oci: -> dir: (new folder)" "rm -rf $(q "$dirout")" "skopeo --insecure-policy copy -q oci:$qs:bench:v1 dir:$(q "$dirout")" \
	"cp FILE (copy floor; no fsync)" "rm -rf $(q "$cpout") && mkdir $(q "$cpout")" "cp $qf $(q "$cpout/m")" \
	"cp FILE + sync (durable copy floor)" "rm -rf $(q "$cpout") && mkdir $(q "$cpout")" "cp $qf $(q "$cpout/m") && sync $(q "$cpout/m")"
cmp -s "$file" "$pout/model.bin" || die "modelgate pull did not restore model.bin byte for byte"
has_blob "$dirout/$hex"
has_blob "$cpout/m"
rm -rf "$pout" "$dirout" "$cpout"

# --- fsck: re-hash the store -------------------------------------------------
bench fsck \
	"modelgate fsck" "" "MODELGATE_HOME=$qs $mg fsck" \
	"sha256sum BLOB" "" "sha256sum $(q "$blob")" \
	"openssl dgst -sha256 BLOB" "" "openssl dgst -sha256 $(q "$blob")"

# --- the Markdown ----------------------------------------------------------------
# hyperfine's CSV: command,mean,stddev,median,user,system,min,max (seconds).
table() { # GROUP LABEL
	awk -F, -v group="$2" -v mib="$size_mib" '
		NR == 1 { next }
		{
			name = $1; m = $2; s = $3; u = $5; y = $6
			if (NR == 2) { m0 = m; s0 = s; name = "**" name "**" }
			if (NR == 2) ratio = "—"
			else if (m <= 0) ratio = "n/a"
			else {
				r = m0 / m
				e = r * sqrt((s0 / m0) ^ 2 + (s / m) ^ 2)
				ratio = sprintf("%.2f ± %.2f", r, e)
			}
			rate = m > 0 ? sprintf("%.0f", mib / m) : "n/a"
			printf "| %s | %s | %.3f ± %.3f | %s | %.2f / %.2f | %s |\n",
				group, name, m, s, rate, u, y, ratio
		}' "$csvdir/$1.csv"
}

{
	echo "### Local store: push, pull and fsck of a $size_mib MiB file (bench_store.sh)"
	echo
	echo "- peers: $(skopeo --version); $(sha256sum --version | head -1); $(openssl version | cut -d' ' -f1-2)"
	echo "- hyperfine --warmup $warmup --runs $runs; each command's runs back to back, groups in the order below"
	echo "- data: $(df -PT "$work" | awk 'NR == 2 { print $2 " on " $1 }'), random bytes; $cache_note"
	echo "- pull peer: skopeo copy oci:SRC:bench:v1 dir:OUT (writes the blobs as plain files)"
	echo
	echo "| group | command | mean ± σ (s) | MiB/s | user / sys (s) | modelgate ÷ this |"
	echo "|---|---|---:|---:|---:|---:|"
	table hash hash
	table push push
	table pull pull
	table fsck fsck
	echo
	echo "- modelgate push, blob already stored: $io_hash."
	echo "- modelgate push, empty store: $io_cold."
} >"$out"
