# package, keygen and verify: bundles in the three formats verify; the same
# inputs give byte-identical bundles (zip too, in any time zone);
# SOURCE_DATE_EPOCH (else the commit time) is every entry's mtime, owners are
# 0/0 with no names; a failed report, or one for another model, is refused
# with exit 1; signatures are checked with --key and reported as unchecked
# without it.
. "$MG_SRCDIR/tests/cli/lib.sh"
fixtures
cp -r "$EXAMPLES/dataset" "$FX/dataset"
cp "$EXAMPLES/model_bad.onnx" "$FX/"
cat >"$FX/modelgate.json" <<'JSON'
{"model": "model_int8.onnx", "baseline": "model.onnx",
 "dataset": {"inputs": "dataset/x.npy", "labels": "dataset/y.npy"},
 "targets": {"host": "local"},
 "gates": [{"name": "accuracy", "kind": "accuracy", "metric": "top1", "min": 0.95},
           {"name": "size", "kind": "size", "max_bytes": 65536}]}
JSON
(cd "$FX" && "$MODELGATE" gate --report "$TEST_TMP/report.json" >/dev/null 2>&1) || fail "gate of model_int8.onnx did not pass"
(cd "$FX" && "$MODELGATE" gate --model model_bad.onnx --report "$TEST_TMP/bad.json" >/dev/null 2>&1)
[ -s "$TEST_TMP/bad.json" ] || fail "gate of model_bad.onnx wrote no report"
mkdir -p "$TEST_TMP/m"
cp "$FX/model_int8.onnx" "$TEST_TMP/m/"
M=$TEST_TMP/m
R=$TEST_TMP/report.json
export SOURCE_DATE_EPOCH=1700000000

t_formats_verify() {
	local f
	for f in b.tar.gz b.tar.zst b.zip; do
		expect_exit 0 mg package "$M" --report "$R" -o "$f"
		expect_stdout_contains "$f: 4 entries"
		expect_exit 0 mg verify "$f"
		expect_stdout_contains "verified 4 files"
		expect_stdout_contains "signature: none (unsigned bundle)"
	done
	[ "$(od -A n -t x1 -j 4 -N 4 b.tar.gz | tr -d ' ')" = 00000000 ] || fail "the gzip header has a timestamp"
	unzip -l b.zip | grep -q 'files/model_int8.onnx' || fail "unzip does not list the model"
	tar -xOzf b.tar.gz files/model_int8.onnx | cmp - "$M/model_int8.onnx" || fail "the model in the bundle differs"
	tar --zstd -xOf b.tar.zst report.json | cmp - "$R" || fail "report.json in the bundle differs"
}

t_reproducible() {
	local f
	for f in r1.tar.gz r1.tar.zst r1.zip; do
		expect_exit 0 mg package "$M" --report "$R" -o "$f"
		touch "$M/model_int8.onnx" # a new mtime on disk changes nothing
		expect_exit 0 mg package "$M" --report "$R" -o "2$f"
		expect_same_file "$f" "2$f"
	done
	# zip keeps local times: the machine's time zone must not show in the bytes
	TZ=EST5 expect_exit 0 mg package "$M" --report "$R" -o ny.zip
	TZ=JST-9 expect_exit 0 mg package "$M" --report "$R" -o tokyo.zip
	expect_same_file ny.zip tokyo.zip
	SOURCE_DATE_EPOCH=1800000000 expect_exit 0 mg package "$M" --report "$R" -o other.tar.gz
	! cmp -s r1.tar.gz other.tar.gz || fail "another SOURCE_DATE_EPOCH gave the same bytes"
}

t_owner_and_mtime() {
	expect_exit 0 mg package "$M" --report "$R" -o t.tar.gz
	tar -tvf t.tar.gz >"$IO/list" || fail "tar cannot list the bundle"
	[ "$(wc -l <"$IO/list")" -eq 4 ] || fail "expected 4 entries: $(cat "$IO/list")"
	grep -v '^-rw-r--r-- 0/0 ' "$IO/list" && fail "an entry is not -rw-r--r-- 0/0"
	grep -vF "$(TZ=UTC date -d @1700000000 '+%Y-%m-%d %H:%M')" <(TZ=UTC tar -tvf t.tar.gz) &&
		fail "an entry does not have the SOURCE_DATE_EPOCH mtime"
	tar --numeric-owner -tvvf t.tar.gz >/dev/null || fail "tar cannot read the bundle"
	"$PY" - t.tar.gz <<'PY' || fail "an entry has a user or group name, or a wrong mtime"
import sys, tarfile
for m in tarfile.open(sys.argv[1]):
    assert m.uname == "" and m.gname == "" and m.uid == 0 and m.gid == 0, m.name
    assert m.mtime == 1700000000, (m.name, m.mtime)
PY
	true
}

t_commit_time_without_sde() {
	mkdir -p repo && cd repo || fail "cd"
	git init -q -b main && git remote add origin https://user:secret@example.com/team/m.git
	cp "$M/model_int8.onnx" . && git add . &&
		GIT_COMMITTER_DATE="@1600000000 +0000" git -c user.name=t -c user.email=t@e commit -q -m one
	env -u SOURCE_DATE_EPOCH "$MODELGATE" package model_int8.onnx --report "$R" -o ../c.tar.gz >"$OUT" 2>"$ERR" ||
		fail "package in a git work tree failed: $(cat "$ERR")"
	cd .. || fail "cd"
	"$PY" - c.tar.gz "$(git -C repo rev-parse HEAD)" <<'PY' || fail "mtime is not the commit time, or provenance lacks git"
import json, sys, tarfile
t = tarfile.open(sys.argv[1])
assert all(m.mtime == 1600000000 for m in t), [m.mtime for m in t]
p = json.load(t.extractfile("provenance.intoto.json"))
assert p["_type"] == "https://in-toto.io/Statement/v1"
assert p["predicateType"] == "https://slsa.dev/provenance/v1"
dep = p["predicate"]["buildDefinition"]["resolvedDependencies"][0]
assert dep["digest"]["gitCommit"] == sys.argv[2], dep
assert dep["uri"] == "git+https://example.com/team/m.git@refs/heads/main", dep
assert "secret" not in json.dumps(p)
PY
	true
}

t_ci_run_in_provenance() {
	GITHUB_SERVER_URL=https://github.com GITHUB_REPOSITORY=acme/kws GITHUB_RUN_ID=42 \
		expect_exit 0 mg package "$M" --report "$R" -o gh.tar.gz
	tar -xOzf gh.tar.gz provenance.intoto.json >"$IO/prov.json"
	json_ok 'j["predicate"]["runDetails"]["metadata"]["invocationId"] == "https://github.com/acme/kws/actions/runs/42"' "$IO/prov.json"
	json_ok '[s["digest"]["sha256"] for s in j["subject"]][0] == "'"$(sha256_of "$M/model_int8.onnx")"'"' "$IO/prov.json"
	CI_JOB_URL=https://gitlab.example.com/g/p/-/jobs/7 expect_exit 0 mg package "$M" --report "$R" -o gl.tar.gz
	tar -xOzf gl.tar.gz provenance.intoto.json >"$IO/prov.json"
	json_ok 'j["predicate"]["runDetails"]["metadata"]["invocationId"] == "https://gitlab.example.com/g/p/-/jobs/7"' "$IO/prov.json"
	tar -xOzf gl.tar.gz manifest.json >"$IO/man.json"
	json_ok 'j["gates"]["status"] == "pass" and [g["name"] for g in j["gates"]["gates"]] == ["accuracy", "size"]' "$IO/man.json"
	json_ok 'sorted(f["path"] for f in j["files"]) == ["files/model_int8.onnx", "provenance.intoto.json", "report.json"]' "$IO/man.json"
}

t_store_ref() {
	expect_exit 0 mg push digits:int8 "$M/model_int8.onnx"
	local d
	d=$(cat "$OUT")
	(cd "$FX" && "$MODELGATE" gate --model digits:int8 --report "$TEST_TMP/ref.json" >/dev/null 2>&1) || fail "gate of digits:int8"
	expect_exit 0 mg package digits:int8 --report ref.json -o ref.tar.zst
	expect_stdout_contains "artifact $d"
	expect_exit 0 mg verify ref.tar.zst
	# the file report names the file, not this manifest: refused
	expect_exit 1 mg package digits:int8 --report "$R" -o no.tar.zst
	expect_error "refusing to package 'digits:int8'" "the report is for sha256:"
	expect_no_file no.tar.zst
}

t_failed_report_refused() {
	cp "$FX/model_bad.onnx" "$M/"
	expect_exit 1 mg package "$M/model_bad.onnx" --report bad.json -o bad.tar.gz
	expect_error "refusing to package" "failed"
	expect_no_file bad.tar.gz
	rm "$M/model_bad.onnx"
	expect_exit 2 mg package "$M" --report missing.json -o x.tar.gz
	expect_error "missing.json"
	expect_exit 2 mg package "$M" --report "$R" -o x.tar
	expect_error "x.tar" ".tar.gz, .tar.zst or .zip"
	expect_exit 2 mg package nosuch-dir/ --report "$R" -o x.tar.gz
	expect_exit 2 mg package "$M" -o x.tar.gz
	ls -A | grep -q '^\.tmp-' && fail "a temporary file was left behind"
	true
}

t_keygen_mode() {
	expect_exit 0 mg keygen -o key
	expect_stdout_matches "$DIGEST_RE"
	[ "$(stat -c %a key)" = 600 ] || fail "the private key has mode $(stat -c %a key)"
	grep -q 'BEGIN PRIVATE KEY' key || fail "key is not a PEM private key"
	grep -q 'BEGIN PUBLIC KEY' key.pub || fail "key.pub is not a PEM public key"
	openssl pkey -in key -noout -text 2>/dev/null | grep -q ED25519 || fail "openssl does not see an Ed25519 key"
	expect_exit 2 mg keygen -o key
	expect_error "'key' exists"
	expect_exit 0 mg keygen -o key --force
}

t_signed() {
	expect_exit 0 mg keygen -o sk
	expect_exit 0 mg keygen -o other
	expect_exit 0 mg package "$M" --report "$R" -o s.zip --sign sk
	expect_stdout_contains "signed by sha256:"
	expect_exit 0 mg verify s.zip --key sk.pub
	expect_stdout_contains "signature: valid"
	expect_exit 0 mg verify s.zip
	expect_stdout_contains "signature: present but not checked"
	expect_exit 1 mg verify s.zip --key other.pub
	expect_stderr_contains "signature:"
	expect_stderr_contains "not by 'other.pub'"
	# an unsigned bundle with --key fails
	expect_exit 0 mg package "$M" --report "$R" -o u.zip
	expect_exit 1 mg verify u.zip --key sk.pub
	expect_stderr_contains "the bundle is not signed"
	# a signed bundle is still reproducible (Ed25519 is deterministic)
	expect_exit 0 mg package "$M" --report "$R" -o s2.zip --sign sk
	expect_same_file s.zip s2.zip
	expect_exit 2 mg package "$M" --report "$R" -o s3.zip --sign sk.pub
	expect_error "sk.pub" "private"
	expect_exit 0 mg verify --json s.zip --key sk.pub
	json_ok 'j["ok"] and j["signature"] == "valid" and len(j["files"]) == 5'
}

# --release N goes into the signed manifest.json (a fleet's monotonic release
# counter, docs/FLEET.md); without it the manifest has no "release" at all.
t_release_counter() {
	must mg package "$M" --report "$R" -o rel.tar.gz --release 7
	tar -xOzf rel.tar.gz manifest.json >"$OUT"
	json_ok "j['release'] == 7"
	must mg verify rel.tar.gz --json
	json_ok "j['release'] == 7 and j['ok']"
	must mg package "$M" --report "$R" -o norel.tar.gz
	tar -xOzf norel.tar.gz manifest.json >"$OUT"
	json_ok "'release' not in j"
	local bad
	for bad in 0 -1 x 1x; do
		expect_exit 2 mg package "$M" --report "$R" -o bad.tar.gz --release "$bad"
		expect_error "release '$bad' is not a whole number from 1"
		expect_no_file bad.tar.gz
	done
}

# --smoke DIR: DIR/inputs/* and DIR/expected/* (and DIR/tolerances.json,
# when it holds tolerances) go under smoke/, listed in
# the manifest (verify checks them), sorted, the same bytes twice; a
# missing part or a link in it is refused.
t_smoke_files() {
	mkdir -p sm/inputs sm/expected
	echo in-b >sm/inputs/b.npy
	echo in-a >sm/inputs/a.npy
	echo out >sm/expected/logits.npy
	must mg package "$M" --report "$R" -o sm1.tar.gz --smoke sm
	expect_stdout_contains "sm1.tar.gz: 7 entries"
	[ "$(tar -tzf sm1.tar.gz | tail -3 | tr '\n' ' ')" = "smoke/expected/logits.npy smoke/inputs/a.npy smoke/inputs/b.npy " ] ||
		fail "smoke entries: $(tar -tzf sm1.tar.gz)"
	tar -xOzf sm1.tar.gz smoke/inputs/a.npy | cmp - sm/inputs/a.npy || fail "smoke/inputs/a.npy differs"
	must mg verify sm1.tar.gz --json
	json_ok "j['ok'] and 'smoke/inputs/b.npy' in [f['path'] for f in j['files']]"
	must mg package "$M" --report "$R" -o sm2.tar.gz --smoke sm
	cmp sm1.tar.gz sm2.tar.gz || fail "the same smoke files gave other bytes"
	# DIR/tolerances.json goes as smoke/tolerances.json, checked first
	echo '{"outputs": {"logits": {"atol": 0.01}}}' >sm/tolerances.json
	must mg package "$M" --report "$R" -o sm4.tar.gz --smoke sm
	tar -xOzf sm4.tar.gz smoke/tolerances.json | cmp - sm/tolerances.json || fail "smoke/tolerances.json differs"
	echo '{"outputs": {"logits": {"atol": -1}}}' >sm/tolerances.json
	expect_exit 2 mg package "$M" --report "$R" -o sm5.tar.gz --smoke sm
	expect_error "'sm/tolerances.json': outputs.logits: 'atol' is not a number of 0 or more"
	expect_no_file sm5.tar.gz
	rm sm/tolerances.json
	mkdir -p sm-noexp/inputs
	echo x >sm-noexp/inputs/a.npy
	expect_exit 2 mg package "$M" --report "$R" -o sm3.tar.gz --smoke sm-noexp
	expect_error "cannot read 'sm-noexp/expected'"
	expect_no_file sm3.tar.gz
	ln -s "$R" sm/expected/report.npy
	expect_exit 2 mg package "$M" --report "$R" -o sm3.tar.gz --smoke sm
	expect_error "'sm/expected/report.npy' is a symbolic link"
	expect_no_file sm3.tar.gz
}

check formats-verify t_formats_verify
check reproducible t_reproducible
check owner-and-mtime t_owner_and_mtime
check commit-time-without-sde t_commit_time_without_sde
check ci-run-in-provenance t_ci_run_in_provenance
check store-ref t_store_ref
check failed-report-refused t_failed_report_refused
check keygen-mode t_keygen_mode
check signed t_signed
check release-counter t_release_counter
check smoke-files t_smoke_files
finish
