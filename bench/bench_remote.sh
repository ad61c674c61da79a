#!/bin/bash
# modelgate against a registry, on one 1 GiB file of random bytes, with
# Debian's docker-registry (filesystem storage) on loopback, in one run:
#   push    modelgate push (cold: empty registry), against skopeo copy of an
#           OCI layout holding the same blob, and a bare curl monolithic
#           upload (POST + PUT -T) of the blob: the registry's own limit.
#           Twice: with the digest cache knowing the file (pushed from this
#           machine before), and with the cache off (a first push: the file
#           is hashed while it is sent)
#   repush  the same push again (the registry has the blob: no blob bytes
#           are sent, which the registry's log confirms), against skopeo;
#           and with the digest cache off (a fresh CI runner): to the same
#           tag (it holds a layer of the file's size: the file is hashed
#           first, nothing is sent), and to a tag that does not exist (the
#           upload starts and is cancelled once the digest is known; its
#           PATCH requests are counted)
#   pull    modelgate copy REG/... REPO:TAG into an empty store (download,
#           verify, store) and modelgate pull -o DIR, against skopeo copy
#           docker:// -> oci: and a bare curl GET of the blob
#   pull_read  pull -o DIR then one read of the file, against skopeo copy
#           then one read of its blob (large blobs are written around the
#           page cache, so our first read comes from the disk)
# Each group is one hyperfine invocation (--prepare resets the destination);
# the ratios are modelgate's mean over each peer's mean.
# Run by bench/run.sh (MODELGATE, BENCH_OUT, BENCH_RAW, BENCH_RUNS,
# BENCH_WARMUP, BENCH_TMPDIR, BENCH_SIZE_MIB). Needs about 5 GiB free.
. "$(dirname "$0")/lib.sh"

for t in hyperfine skopeo docker-registry curl python3 sha256sum; do
	command -v "$t" >/dev/null || die "'$t' is not installed (make deps)"
done
dir=$(mktemp -d "${BENCH_TMPDIR:-${TMPDIR:-/tmp}}/mg-bench-remote.XXXXXX")
REG_PID=
cleanup() {
	if [ -n "$REG_PID" ]; then
		kill "$REG_PID" 2>/dev/null || true
		wait "$REG_PID" 2>/dev/null || true
	fi
	rm -rf "$dir"
}
trap cleanup EXIT
start_registry "$dir"
export MODELGATE_INSECURE_REGISTRIES=$REG SOURCE_DATE_EPOCH=1700000000
export MODELGATE_DIGEST_CACHE=$dir/digests

mkdir -p "$dir/files"
head -c "$((size_mib << 20))" /dev/urandom >"$dir/files/weights.bin"
blob=sha256:$(sha256sum "$dir/files/weights.bin" | cut -d' ' -f1)
# the same artifact as an OCI layout, for skopeo to push
MODELGATE_HOME=$dir/layout "$MODELGATE" -q push --no-git bench:v1 "$dir/files/weights.bin" >/dev/null
# the digest cache learns the file (it skips files changed in the last 2 s)
sleep 2
"$MODELGATE" -q push --no-git "$REG/bench/prime:v1" "$dir/files/weights.bin" >/dev/null
grep -q "${blob}\$" "$dir/digests" || die "the digest cache did not learn the file"

# curl -T: the registry's own upload limit (POST for a Location, then PUT)
cat >"$dir/curl_put.sh" <<SH
#!/bin/sh
loc=\$(curl -s -D - -o /dev/null -X POST "http://$REG/v2/bench/curl/blobs/uploads/" | tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
case \$loc in /*) loc="http://$REG\$loc" ;; esac
curl -s -f -o /dev/null -T "$dir/files/weights.bin" -H 'Content-Type: application/octet-stream' "\$loc&digest=$blob"
SH
chmod +x "$dir/curl_put.sh"
# sync: this file system discards freed blocks at the journal commit, which
# would otherwise slow down the next run's writes
reset_reg="rm -rf $dir/reg/docker; sync"
hf() { # name, then hyperfine args
	local name=$1
	shift
	hyperfine --style none --warmup "$warmup" --runs "$runs" --export-json "$dir/$name.json" "$@" >&2
	[ -n "$raw" ] && cp "$dir/$name.json" "$raw/"
	return 0
}
hf push --prepare "$reset_reg" \
	-n "modelgate push (empty registry)" "$MODELGATE -q push --no-git $REG/bench/m:v1 $dir/files/weights.bin" \
	-n "modelgate push (empty registry, digest cache off)" "MODELGATE_DIGEST_CACHE=off $MODELGATE -q push --no-git $REG/bench/m:v1 $dir/files/weights.bin" \
	-n "skopeo copy oci: -> docker:// (empty registry)" "skopeo copy -q --dest-tls-verify=false oci:$dir/layout:bench:v1 docker://$REG/bench/s:v1" \
	-n "curl -T monolithic upload (POST + PUT)" "$dir/curl_put.sh"
# the registry now holds the artifact (the last push of the group ran last)
"$MODELGATE" -q push --no-git "$REG/bench/m:v1" "$dir/files/weights.bin" >/dev/null
skopeo copy -q --dest-tls-verify=false "oci:$dir/layout:bench:v1" "docker://$REG/bench/s:v1"
before=$(grep -c 'method=PATCH\|method=PUT.*blobs/uploads' "$dir/registry.log" || true)
hf repush \
	-n "modelgate push (registry has the blob)" "$MODELGATE -q push --no-git $REG/bench/m:v1 $dir/files/weights.bin" \
	-n "skopeo copy oci: -> docker:// (registry has the blob)" "skopeo copy -q --dest-tls-verify=false oci:$dir/layout:bench:v1 docker://$REG/bench/s:v1"
after=$(grep -c 'method=PATCH\|method=PUT.*blobs/uploads' "$dir/registry.log" || true)
# skopeo's own repeated copies do not upload either; any upload is ours or theirs
uploads=$((after - before))
# without the digest cache: how many PATCH requests, to the same tag and
# to a tag removed before each run (bench/race holds the blob all along)
count_patches() { grep -c 'method=PATCH' "$dir/registry.log" || true; }
before=$(count_patches)
hf repush_nc \
	-n "modelgate push (registry has the blob, digest cache off, same tag)" "MODELGATE_DIGEST_CACHE=off $MODELGATE -q push --no-git $REG/bench/m:v1 $dir/files/weights.bin"
nc_patches=$(($(count_patches) - before))
"$MODELGATE" -q push --no-git "$REG/bench/race:v1" "$dir/files/weights.bin" >/dev/null
before=$(count_patches)
hf repush_race --prepare "$MODELGATE -q rm $REG/bench/race:v1" \
	-n "modelgate push (registry has the blob, digest cache off, new tag)" "MODELGATE_DIGEST_CACHE=off $MODELGATE -q push --no-git $REG/bench/race:v1 $dir/files/weights.bin"
race_patches=$(($(count_patches) - before))
hf pull --prepare "rm -rf $dir/store $dir/pulled $dir/sk $dir/curl.out; sync" \
	-n "modelgate copy REG/... into the store (download, verify, store)" "MODELGATE_HOME=$dir/store $MODELGATE -q copy $REG/bench/m:v1 bench:v1" \
	-n "modelgate pull -o DIR" "$MODELGATE -q pull $REG/bench/m:v1 -o $dir/pulled" \
	-n "skopeo copy docker:// -> oci: (empty layout)" "skopeo copy -q --src-tls-verify=false docker://$REG/bench/s:v1 oci:$dir/sk:v1" \
	-n "curl GET of the blob (no verify)" "curl -s -f -o $dir/curl.out http://$REG/v2/bench/m/blobs/$blob"
# large blobs are written around the page cache (O_DIRECT): the pull is
# faster, the first read after it comes from the disk; this group shows both
hf pull_read --prepare "rm -rf $dir/pulled $dir/sk; sync" \
	-n "modelgate pull -o DIR, then read the file once" "$MODELGATE -q pull $REG/bench/m:v1 -o $dir/pulled && cat $dir/pulled/weights.bin >/dev/null" \
	-n "skopeo copy docker:// -> oci:, then read the blob once" "skopeo copy -q --src-tls-verify=false docker://$REG/bench/s:v1 oci:$dir/sk:v1 && cat $dir/sk/blobs/sha256/${blob#sha256:} >/dev/null"

python3 - "$dir" "$size_mib" "$uploads" "$runs" "$warmup" "$nc_patches" "$race_patches" >"$out" <<'PY'
import json, sys
d, mib, uploads, runs, warmup = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
nc_patches, race_patches = int(sys.argv[6]), int(sys.argv[7])
print("### Registry: push, repeated push and pull of a %d MiB file (bench_remote.sh)\n" % mib)
print("- docker-registry (distribution 2.8, filesystem storage) on loopback; skopeo 1.9.3; hyperfine --warmup %s --runs %s" % (warmup, runs))
print("- blob uploads seen by the registry during the repeated pushes: %d (0 means neither tool sent blob bytes)" % uploads)
n = int(runs) + int(warmup)
print("- with the digest cache off, a repeated push to the same tag sent %.1f PATCH requests per run (the tag holds a layer of the file's size: hashed first, then asked for)" % (nc_patches / n))
print("- with the digest cache off, a push to a new tag of a blob the registry has sent %.1f PATCH requests per run (chunks of 8, 16, 32, 64 MiB ...) before it cancelled the upload" % (race_patches / n))
print("- 'digest cache off' rows run with MODELGATE_DIGEST_CACHE=off, as on a fresh machine (a CI runner); the other modelgate rows find the file in the cache (pushed from this machine before)")
print("- --prepare runs `sync` after removing the destinations (the file system discards freed blocks at the journal commit)\n")
print("| group | command | mean ± σ (s) | MiB/s | modelgate ÷ this |")
print("|---|---|---:|---:|---:|")
for g in ("push", "repush", "repush_nc", "repush_race", "pull", "pull_read"):
    res = json.load(open("%s/%s.json" % (d, g)))["results"]
    mine = [r for r in res if r["command"].startswith("modelgate")][0]
    for r in res:
        star = r["command"].startswith("modelgate")
        if g in ("repush_nc", "repush_race"):
            g = "repush"
        ratio = "—" if r is mine else "%.2f" % (mine["mean"] / r["mean"])
        name = "**%s**" % r["command"] if star else r["command"]
        print("| %s | %s | %.3f ± %.3f | %.0f | %s |" % (g, name, r["mean"], r["stddev"] or 0, mib / r["mean"], ratio))
# the targets: cold push within 10% of curl (also a first push, cache off);
# pull (download, verify, store) in at most a quarter of skopeo's time
def mean(g, prefix):
    res = json.load(open("%s/%s.json" % (d, g)))["results"]
    return [r for r in res if r["command"].startswith(prefix)][0]["mean"]
curl = mean("push", "curl")
print()
for label, cmd, peer, pv, target in (
        ("cold push ÷ curl -T", "modelgate push (empty registry)", "push", curl, 1.10),
        ("first push (digest cache off) ÷ curl -T", "modelgate push (empty registry, digest cache off)", "push", curl, 1.10),
        ("copy into the store ÷ skopeo", "modelgate copy", "pull", mean("pull", "skopeo copy docker:// -> oci: (empty"), 0.25),
        ("pull -o ÷ skopeo", "modelgate pull -o DIR", "pull", mean("pull", "skopeo copy docker:// -> oci: (empty"), 0.25)):
    ratio = mean(peer, cmd) / pv
    print("- %s: %.2f (target at most %.2f: %s)" % (label, ratio, target, "met" if ratio <= target else "**not met**"))
print("- pull -o, then one read of the file ÷ the same for skopeo: %.2f (no target: the price of writing around the page cache)"
      % (mean("pull_read", "modelgate") / mean("pull_read", "skopeo")))
PY
