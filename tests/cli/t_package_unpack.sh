# unpack and verify against crafted bundles: path traversal, absolute paths,
# symlink escapes, hard links, device nodes, duplicate names, truncated
# archives, manifests that lie, extra and missing files, tampered
# signatures and wrong keys. Each is refused (exit 1 or 2) with a message
# naming the entry or the signature, and nothing is written: the folder
# that would hold DIR, and the folder the attacks aim at, are unchanged.
. "$MG_SRCDIR/tests/cli/lib.sh"
fixtures
cp -r "$EXAMPLES/dataset" "$FX/dataset"
cat >"$FX/modelgate.json" <<'JSON'
{"model": "model_int8.onnx", "dataset": {"inputs": "dataset/x.npy", "labels": "dataset/y.npy"},
 "targets": {"host": "local"},
 "gates": [{"name": "accuracy", "kind": "accuracy", "metric": "top1", "min": 0.95}]}
JSON
(cd "$FX" && "$MODELGATE" gate --report "$TEST_TMP/report.json" >/dev/null 2>&1) || fail "gate did not pass"
export SOURCE_DATE_EPOCH=1700000000
must mg keygen -o key
must mg keygen -o other
must mg package "$FX/model_int8.onnx" --report report.json -o good.tar.gz --sign key
must mg package "$FX/model_int8.onnx" --report report.json -o good.zip --sign key
mkdir -p outside parent
OUTSIDE=$TEST_TMP/outside

# Crafted bundles, built from the entries of the good one.
"$PY" - good.tar.gz "$OUTSIDE" <<'PY' || fail "cannot craft the bundles"
import hashlib, io, json, sys, tarfile, zipfile
good, outside = sys.argv[1], sys.argv[2]
t = tarfile.open(good)
entries = [(m.name, t.extractfile(m).read()) for m in t]
data = dict(entries)

def info(name, size=0, kind=tarfile.REGTYPE, link=""):
    ti = tarfile.TarInfo(name)
    ti.size, ti.type, ti.linkname, ti.mode, ti.mtime = size, kind, link, 0o644, 1700000000
    return ti

def write(path, items):
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as out:
        for it in items:
            if isinstance(it, tarfile.TarInfo):
                out.addfile(it)
            else:
                name, body = it
                out.addfile(info(name, len(body)), io.BytesIO(body))

def with_manifest(m):
    # a re-written manifest (its signature no longer matches, which is fine:
    # these are verified without --key)
    return [(n, json.dumps(m).encode() if n == "manifest.json" else b)
            for n, b in entries if n != "manifest.json.sig"]

man = json.loads(data["manifest.json"])
write("traversal.tar.gz", entries + [("../evil", b"x")])
write("absolute.tar.gz", entries + [(outside + "/abs", b"x")])
write("symlink.tar.gz", entries + [info("link", kind=tarfile.SYMTYPE, link=outside), ("link/file", b"x")])
write("hardlink.tar.gz", entries + [info("hl", kind=tarfile.LNKTYPE, link=outside + "/target")])
write("device.tar.gz", entries + [info("dev", kind=tarfile.CHRTYPE)])
write("fifo.tar.gz", entries + [info("fifo", kind=tarfile.FIFOTYPE)])
write("duplicate.tar.gz", entries + [("report.json", b"{}")])
write("dotdot-inside.tar.gz", entries + [("files/../../evil2", b"x")])
bad = dict(man); bad["files"] = [dict(f) for f in man["files"]]
bad["files"][0]["sha256"] = "0" * 64
write("wrong-sha.tar.gz", with_manifest(bad))
bad2 = dict(man); bad2["files"] = [dict(f) for f in man["files"]]
bad2["files"][0]["size"] += 1
write("wrong-size.tar.gz", with_manifest(bad2))
write("extra.tar.gz", entries + [("files/extra.bin", b"not listed")])
write("missing.tar.gz", [(n, b) for n, b in entries if not n.startswith("files/")])
write("no-manifest.tar.gz", [(n, b) for n, b in entries if n != "manifest.json"])
# the model swapped for other bytes of the same size: the manifest lies
model = [n for n, _ in entries if n.startswith("files/")][0]
write("swapped.tar.gz", [(n, bytes(len(b)) if n == model else b) for n, b in entries])
sig = json.loads(data["manifest.json.sig"])
s = sig["signature"]; sig["signature"] = ("B" if s[0] != "B" else "C") + s[1:]
write("tampered-sig.tar.gz", [(n, json.dumps(sig).encode() if n == "manifest.json.sig" else b) for n, b in entries])
raw = open(good, "rb").read()
open("truncated.tar.gz", "wb").write(raw[: len(raw) // 2])
open("not-an-archive.tar.gz", "wb").write(b"hello, I am not a bundle\n" * 40)
with zipfile.ZipFile("zip-traversal.zip", "w") as z:
    for n, b in entries:
        z.writestr(n, b)
    z.writestr("../zipevil", b"x")
with zipfile.ZipFile("zip-absolute.zip", "w") as z:
    for n, b in entries:
        z.writestr(n, b)
    z.writestr(outside + "/zipabs", b"x")
PY
snapshot parent >"$IO/parent.snap"
snapshot outside >"$IO/outside.snap"

# refused CODE_RE BUNDLE TEXT [ARGS]: unpack (and verify) refuse BUNDLE
# with exit 1 or 2 and TEXT on stderr; nothing changed.
refused() {
	local b=$1 text=$2 rc=0
	shift 2
	printf '%q ' "$MODELGATE" unpack "$b" -o parent/out "$@" >"$IO/last_cmd"
	"$MODELGATE" unpack "$b" -o parent/out "$@" >"$OUT" 2>"$ERR" || rc=$?
	[ "$rc" -eq 1 ] || [ "$rc" -eq 2 ] || fail "unpack exit code $rc, expected 1 or 2"
	expect_stderr_contains "$text"
	expect_stdout_empty
	expect_no_file parent/out
	expect_unchanged "$IO/parent.snap" parent
	expect_unchanged "$IO/outside.snap" outside
	rc=0
	"$MODELGATE" verify "$b" "$@" >"$OUT" 2>"$ERR" || rc=$?
	[ "$rc" -eq 1 ] || [ "$rc" -eq 2 ] || fail "verify exit code $rc, expected 1 or 2"
	expect_stderr_contains "$text"
	ls -A . parent | grep -q '\.mg-unpack-' && fail "a temporary folder was left behind"
	true
}

t_good_unpacks() {
	expect_exit 0 mg unpack good.tar.gz -o ok1 --key key.pub
	expect_stdout_contains "unpacked into 'ok1'"
	expect_same_file "$FX/model_int8.onnx" ok1/files/model_int8.onnx
	expect_same_file report.json ok1/report.json
	[ "$(stat -c %a ok1)" = 755 ] || fail "the folder has mode $(stat -c %a ok1)"
	mkdir ok2
	expect_exit 0 mg unpack good.zip -o ok2
	expect_same_file "$FX/model_int8.onnx" ok2/files/model_int8.onnx
	expect_exit 2 mg unpack good.zip -o ok2
	expect_error "'ok2' is not empty"
}

check good-unpacks t_good_unpacks
check traversal refused traversal.tar.gz "entry '../evil'"
check absolute refused absolute.tar.gz "entry '$OUTSIDE/abs' has an absolute path"
check symlink refused symlink.tar.gz "entry 'link' is a symbolic link"
check hardlink refused hardlink.tar.gz "entry 'hl' is a hard link"
check device refused device.tar.gz "entry 'dev' is not a regular file"
check fifo refused fifo.tar.gz "entry 'fifo' is not a regular file"
check duplicate refused duplicate.tar.gz "entry 'report.json' appears more than once"
check dotdot-inside refused dotdot-inside.tar.gz "entry 'files/../../evil2'"
check wrong-sha refused wrong-sha.tar.gz "'files/model_int8.onnx' has digest sha256:"
check wrong-size refused wrong-size.tar.gz "'files/model_int8.onnx' has 3720 bytes, manifest.json says 3721"
check extra-file refused extra.tar.gz "'files/extra.bin' is not listed in manifest.json"
check missing-file refused missing.tar.gz "'files/model_int8.onnx' is listed in manifest.json but missing"
check no-manifest refused no-manifest.tar.gz "has no manifest.json"
check swapped-model refused swapped.tar.gz "'files/model_int8.onnx' has digest"
check tampered-signature refused tampered-sig.tar.gz "signature: the signature of 'manifest.json' does not match" --key key.pub
check wrong-key refused good.tar.gz "not by 'other.pub'" --key other.pub
check truncated refused truncated.tar.gz "truncated"
check not-an-archive refused not-an-archive.tar.gz "is not a valid bundle"
check zip-traversal refused zip-traversal.zip "entry '../zipevil'"
check zip-absolute refused zip-absolute.zip "entry '$OUTSIDE/zipabs' has an absolute path"
check missing-bundle refused nosuch.tar.gz "nosuch.tar.gz"
finish
