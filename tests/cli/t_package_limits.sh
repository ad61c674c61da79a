# verify and unpack against bundles built to cost time or memory, or that
# verify would pass and unpack could not extract: sparse entries (1 TiB in
# a few hundred bytes), more entries than the limit, an oversized
# manifest.json, a compression bomb, a file listed inside another file, a folder entry named
# like a file, an empty folder nobody listed, a name too long for a file
# system, and a bundle that grows between verify and extraction. Each is
# refused quickly (exit 1 or 2) naming what is wrong, and nothing is
# extracted.
. "$MG_SRCDIR/tests/cli/lib.sh"
need tar tar
printf 'model bytes, a small stand-in\n' >m.bin
DIGEST=sha256:$(sha256sum m.bin | cut -d' ' -f1)
cat >report.json <<JSON
{"schema_version": 1, "tool": "modelgate", "tool_version": "t", "created": "2026-01-01T00:00:00Z",
 "model": {"ref": "m.bin", "digest": "$DIGEST"}, "targets": [],
 "gates": [{"name": "size", "kind": "size", "status": "pass", "reason": "r", "metric": "bytes",
            "value": 1, "limit": 2, "unit": "bytes", "figures": []}]}
JSON
export SOURCE_DATE_EPOCH=1700000000
must mg package m.bin --report report.json -o good.tar.gz
mkdir -p parent

"$PY" - good.tar.gz <<'PY' || fail "cannot craft the bundles"
import hashlib, io, json, os, sys, tarfile
t = tarfile.open(sys.argv[1])
entries = [(m.name, t.extractfile(m).read()) for m in t]
man = json.loads(dict(entries)["manifest.json"])

def info(name, size=0, kind=tarfile.REGTYPE):
    ti = tarfile.TarInfo(name)
    ti.size, ti.type, ti.mode, ti.mtime = size, kind, 0o644, 1700000000
    return ti

def write(path, items, fmt=tarfile.PAX_FORMAT):
    with tarfile.open(path, "w:gz", format=fmt) as out:
        for it in items:
            if isinstance(it, tarfile.TarInfo):
                out.addfile(it)
            else:
                out.addfile(info(it[0], len(it[1])), io.BytesIO(it[1]))

def listing(name, body):
    return {"path": name, "sha256": hashlib.sha256(body).hexdigest(), "size": len(body)}

def with_files(extra, before=()):
    # the good entries with extra files, listed in a re-written manifest
    m = dict(man)
    m["files"] = [listing(n, b) for n, b in extra] + man["files"]
    return list(before) + list(extra) + [(n, json.dumps(m).encode() if n == "manifest.json" else b)
                                         for n, b in entries]

# the unpacked good bundle, for tar --sparse to add to
os.makedirs("tree", exist_ok=True)
t.extractall("tree")

# as many entries as allowed, every one listed: verified in linear time
write("most.tar.gz", with_files([("files/e/%d" % i, b"%d" % i) for i in range(16384 - len(entries))]),
      tarfile.GNU_FORMAT)
many = [("files/e/%d" % i, b"") for i in range(20000)]
write("many.tar.gz", entries + many, tarfile.GNU_FORMAT)
big = dict(entries)["manifest.json"].rstrip(b"\n") + b" " * (5 << 20) + b"\n"
write("big-manifest.tar.gz", [(n, big if n == "manifest.json" else b) for n, b in entries])
sig = json.dumps({"algorithm": "ed25519", "keyid": "sha256:" + "0" * 64, "signed": "manifest.json",
                  "signature": "AAAA"}).encode() + b" " * (100 << 10)
write("big-sig.tar.gz", entries[:2] + [("manifest.json.sig", sig)] + entries[2:])
long_list = dict(man)
long_list["files"] = man["files"] + [listing("files/l/%d" % i, b"") for i in range(16384)]
write("long-list.tar.gz", [(n, json.dumps(long_list).encode() if n == "manifest.json" else b)
                           for n, b in entries])
write("nested.tar.gz", with_files([("files/a", b"a file"), ("files/a/sub", b"inside a file")]))
write("dir-named-like-file.tar.gz",
      with_files([], before=[info("files/m.bin/", kind=tarfile.DIRTYPE)]))
write("empty-dir.tar.gz", [info("junk/", kind=tarfile.DIRTYPE)] + entries)
write("long-name.tar.gz", with_files([("files/" + "n" * 300, b"long")]))
# a compression bomb: zstd RLE blocks, 4 bytes for each 128 KiB of zeros, so
# a 4 GiB model in 128 KiB of bundle
def zstd_bomb(path, prefix, zeros, suffix):
    def block(kind, data, size, last=False):
        return (int(last) | kind << 1 | size << 3).to_bytes(3, "little") + data
    out = bytearray(b"\x28\xb5\x2f\xfd\x00\x38")  # no checksum, 128 KiB window
    out += block(0, prefix, len(prefix))
    for _ in range(zeros // (128 << 10)):
        out += block(1, b"\0", 128 << 10)
    out += block(0, suffix, len(suffix), last=True)
    open(path, "wb").write(out)

bomb = tarfile.TarInfo("files/zero")
bomb.size, bomb.mtime = 4 << 30, 1700000000
zstd_bomb("bomb.tar.zst", bomb.tobuf(tarfile.USTAR_FORMAT), 4 << 30, bytes(1024))
# grows after verify: the same bundle, its model 32 MiB longer than listed
model = [n for n, _ in entries if n.startswith("files/")][0]
write("grown.tar.gz", [(n, b + bytes(32 << 20) if n == model else b) for n, b in entries])
PY
# 1 TiB of hole with one byte at its end: reading it yields 1 TiB of zeros
truncate -s 1T tree/files/big
printf x | dd of=tree/files/big bs=1 seek=$(((1 << 40) - 1)) conv=notrunc status=none ||
	fail "cannot write tree/files/big"
(cd tree && tar --sparse --format=gnu -czf ../sparse-gnu.tar.gz files manifest.json) ||
	fail "cannot make sparse-gnu.tar.gz"
(cd tree && tar --sparse --format=posix -czf ../sparse-pax.tar.gz files manifest.json) ||
	fail "cannot make sparse-pax.tar.gz"
rm -f tree/files/big
snapshot parent >"$IO/parent.snap"

# BOUND: seconds only a hang, or hashing a TiB, takes (a sanitizer build on
# a loaded machine needs more than 20 for 80,000 entries); not a speed test.
BOUND=120

# refused BUNDLE TEXT: verify and unpack each refuse BUNDLE within BOUND
# seconds, exit 1 or 2, with TEXT on stderr; nothing is extracted.
refused() {
	local b=$1 text=$2 rc=0
	printf '%q ' timeout "$BOUND" "$MODELGATE" verify "$b" >"$IO/last_cmd"
	timeout "$BOUND" "$MODELGATE" verify "$b" >"$OUT" 2>"$ERR" || rc=$?
	[ "$rc" -eq 1 ] || [ "$rc" -eq 2 ] || fail "verify exit code $rc, expected 1 or 2"
	expect_stderr_contains "$text"
	rc=0
	printf '%q ' timeout "$BOUND" "$MODELGATE" unpack "$b" -o parent/out >"$IO/last_cmd"
	timeout "$BOUND" "$MODELGATE" unpack "$b" -o parent/out >"$OUT" 2>"$ERR" || rc=$?
	[ "$rc" -eq 1 ] || [ "$rc" -eq 2 ] || fail "unpack exit code $rc, expected 1 or 2"
	expect_stderr_contains "$text"
	expect_stdout_empty
	expect_no_file parent/out
	expect_unchanged "$IO/parent.snap" parent
	ls -A . parent | grep -q '\.mg-unpack-' && fail "a temporary folder was left behind"
	true
}

t_good_unpacks() {
	expect_exit 0 mg unpack good.tar.gz -o ok
	expect_same_file m.bin ok/files/m.bin
	[ "$(cd ok && find . -type d | LC_ALL=C sort | tr '\n' ' ')" = ". ./files " ] ||
		fail "unexpected folders: $(cd ok && find . -type d)"
}

# A bundle that grows between verify and extraction (a fifo serves the good
# bundle to verify and, once verify has closed it, the grown one to the
# extraction): writing stops at the size the manifest declares, under a
# 16 MiB file size limit that the grown model would exceed.
t_grown_after_verify() {
	mkfifo swap.tar.gz
	printf '%q ' "$MODELGATE" unpack swap.tar.gz -o grown >"$IO/last_cmd"
	(ulimit -f 16384 && exec "$MODELGATE" unpack swap.tar.gz -o grown) >"$OUT" 2>"$ERR" &
	local mgpid=$! rc=0 i
	timeout 20 sh -c 'cat good.tar.gz >swap.tar.gz' || fail "verify did not read the bundle"
	for i in $(seq 400); do
		ls -l "/proc/$mgpid/fd" 2>/dev/null | grep -q swap.tar.gz || break
		sleep 0.05
	done
	timeout 20 sh -c 'cat grown.tar.gz >swap.tar.gz' 2>/dev/null
	wait "$mgpid" || rc=$?
	[ "$rc" -ne 0 ] && [ "$rc" -lt 124 ] || fail "unpack exit code $rc, expected a refusal"
	expect_stderr_contains "'swap.tar.gz' changed since it was verified (entry 'files/m.bin' is longer)"
	expect_no_file grown
	ls -A . | grep -q '\.mg-unpack-' && fail "a temporary folder was left behind"
	true
}

t_most_entries_verify() {
	printf '%q ' timeout "$BOUND" "$MODELGATE" verify most.tar.gz >"$IO/last_cmd"
	timeout "$BOUND" "$MODELGATE" verify most.tar.gz >"$OUT" 2>"$ERR" || fail "verify exit code $?, expected 0"
	expect_stdout_contains "verified 16384 files"
}

check good-unpacks t_good_unpacks
check most-entries t_most_entries_verify
check sparse-gnu refused sparse-gnu.tar.gz "entry 'files/big' is a sparse file"
check sparse-pax refused sparse-pax.tar.gz "entry 'files/big' is a sparse file"
check too-many-entries refused many.tar.gz "has more than 16384 entries"
check big-manifest refused big-manifest.tar.gz "'manifest.json' is larger than 4194304 bytes"
check big-signature refused big-sig.tar.gz "'manifest.json.sig' is larger than 65536 bytes"
check long-file-list refused long-list.tar.gz "manifest.json lists more than 16384 files"
check file-inside-file refused nested.tar.gz "'files/a/sub' is inside 'files/a', which is a file"
check folder-named-like-file refused dir-named-like-file.tar.gz "entry 'files/m.bin/' is a folder named like the file 'files/m.bin'"
check unlisted-folder refused empty-dir.tar.gz "folder 'junk/' holds no file listed in manifest.json"
check long-name refused long-name.tar.gz "has a name longer than 255 bytes"
check compression-bomb refused bomb.tar.zst "expands to more than"
check grown-after-verify t_grown_after_verify
finish
