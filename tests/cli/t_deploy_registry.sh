# deploy, rollback, history and the signed gate result on a real registry
# (Debian's docker-registry 2.8, which has no Referrers API): tags moved in
# the registry, the history kept there as an artifact, the referrer listed
# under the fallback tag sha256-<hex>, and deploy --require-signed-report
# with a good, a tampered (re-signed payload swapped) and a missing one.
. "$MG_SRCDIR/tests/cli/lib.sh"
. "$MG_SRCDIR/tests/cli/lib_registry.sh"
. "$MG_SRCDIR/tests/cli/lib_deploy.sh"

fixtures
export USER=tester
unset GITHUB_ACTOR GITLAB_USER_LOGIN
registry_start
export MODELGATE_INSECURE_REGISTRIES=$REG
R=$REG/team/kws
must mg push "$R:v1" "$FX/model.onnx"
D1=$(cat "$OUT")
must mg push "$R:v2" "$FX/model_v2.onnx"
D2=$(cat "$OUT")
make_report "$D1" pass r1.json
make_report "$D2" pass r2.json
make_report "$D2" fail r2-fail.json
must mg keygen -o key

manifest() { # TAG-or-DIGEST -> $OUT
	curl -s -H 'Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json' \
		"http://$REG/v2/team/kws/manifests/$1" >"$OUT"
}

t_deploy_in_registry() {
	expect_exit 1 mg deploy "$R:v2" --env prod --report r2-fail.json
	expect_error "refusing to deploy"
	must mg deploy "$R:v1" --env prod --report r1.json
	must mg deploy "$R:v2" --env prod --report r2.json
	expect_stdout_contains "deployed to prod: $D2 (previous $D1)"
	[ "$(curl -sI -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$REG/v2/team/kws/manifests/prod" |
		tr -d '\r' | sed -n 's/^Docker-Content-Digest: //Ip')" = "$D2" ] || fail "prod is not $D2"
	manifest prod-previous
	[ "$(sha256_of "$OUT")" = "${D1#sha256:}" ] || fail "prod-previous is not $D1"
	manifest prod-history
	json_ok "j['artifactType'] == 'application/vnd.modelgate.deploy-history.v1'"
	json_ok "j['layers'][0]['mediaType'] == 'application/vnd.modelgate.deploy-history.v1+jsonl'"
	must mg history "$R" --env prod --json
	json_ok "[(e['seq'], e['digest']) for e in j] == [(1, '$D1'), (2, '$D2')]"
}

t_rollback_in_registry() {
	GITLAB_USER_LOGIN=gl-user expect_exit 0 mg rollback "$R" --env prod
	expect_stdout_contains "rolled back prod: $D1 (previous $D2)"
	manifest prod
	[ "$(sha256_of "$OUT")" = "${D1#sha256:}" ] || fail "prod is not $D1 after the rollback"
	manifest prod-previous
	[ "$(sha256_of "$OUT")" = "${D2#sha256:}" ] || fail "prod-previous is not $D2"
	must mg history "$R" --env prod
	expect_stdout_matches "^#3  .* rollback +$D1  by gl-user"
}

t_signed_result_in_registry() {
	expect_exit 1 mg deploy "$R:v2" --env signed --report r2.json --require-signed-report --key key.pub
	expect_error "has no signed gate result"
	must mg attest "$R:v2" --report r2.json --sign key --json
	json_ok "j['fallback_tag'] == 'sha256-${D2#sha256:}'"
	# no Referrers API here: the fallback index lists the referrer
	[ "$(curl -s -o /dev/null -w '%{http_code}' "http://$REG/v2/team/kws/referrers/$D2")" = 404 ] ||
		fail "this registry was expected to have no Referrers API"
	cp "$OUT" attest.json
	manifest "sha256-${D2#sha256:}"
	json_ok "j['mediaType'] == 'application/vnd.oci.image.index.v1+json'"
	json_ok "[m['digest'] for m in j['manifests']] == [json.load(open('attest.json'))['referrer']]"
	json_ok "j['manifests'][0]['artifactType'] == 'application/vnd.modelgate.gate-result.v1+json'"
	need skopeo skopeo
	must skopeo inspect --tls-verify=false --raw "docker://$R:sha256-${D2#sha256:}"
	json_ok "len(j['manifests']) == 1"
	manifest "$(json_get "j['referrer']" attest.json)"
	json_ok "j['subject']['digest'] == '$D2' and j['artifactType'] == 'application/vnd.modelgate.gate-result.v1+json'"
	must mg deploy "$R:v2" --env signed --report r2.json --require-signed-report --key key.pub
	expect_stdout_contains "deployed to signed: $D2"
}

# Pushes, with curl, a second gate result for v1 whose statement was changed
# after signing (its fallback index listing it), then expects deploy to
# refuse v1.
t_tampered_result_refused() {
	must mg attest "$R:v1" --report r1.json --sign key
	local good=$(cat "$OUT")
	"$PY" - "$REG" "$good" "$D1" <<'PYEOF' >"$IO/tamper.out" 2>&1 || fail "tampering failed: $(cat "$IO/tamper.out")"
import base64, hashlib, json, sys, urllib.request
reg, good, subject = sys.argv[1:4]
base = "http://%s/v2/team/kws" % reg
MT = "application/vnd.oci.image.manifest.v1+json"
IX = "application/vnd.oci.image.index.v1+json"
def get(path, accept):
    return urllib.request.urlopen(urllib.request.Request(base + path, headers={"Accept": accept})).read()
def put_blob(data):
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    loc = urllib.request.urlopen(urllib.request.Request(base + "/blobs/uploads/", method="POST")).headers["Location"]
    if loc.startswith("/"):
        loc = "http://" + reg + loc
    urllib.request.urlopen(urllib.request.Request(loc + ("&" if "?" in loc else "?") + "digest=" + d, data=data, method="PUT",
        headers={"Content-Type": "application/octet-stream"}))
    return d
def put_manifest(ref, data, mt):
    urllib.request.urlopen(urllib.request.Request(base + "/manifests/" + ref, data=data, method="PUT", headers={"Content-Type": mt}))
    return "sha256:" + hashlib.sha256(data).hexdigest()
m = json.loads(get("/manifests/" + good, MT))
env = json.loads(get("/blobs/" + m["layers"][0]["digest"], "*/*"))
st = json.loads(base64.b64decode(env["payload"]))
st["predicate"]["gates"][0]["value"] = 0.999   # a better figure than measured
env["payload"] = base64.b64encode(json.dumps(st, sort_keys=True, separators=(",", ":")).encode()).decode()
data = json.dumps(env, sort_keys=True, separators=(",", ":")).encode()
m["layers"][0]["digest"] = put_blob(data)
m["layers"][0]["size"] = len(data)
mb = json.dumps(m, sort_keys=True, separators=(",", ":")).encode()
bad = put_manifest("sha256:" + hashlib.sha256(mb).hexdigest(), mb, MT)
tag = "sha256-" + subject.split(":")[1]
ix = {"schemaVersion": 2, "mediaType": IX, "manifests": [
    {"mediaType": MT, "digest": bad, "size": len(mb), "artifactType": m["artifactType"]}]}
put_manifest(tag, json.dumps(ix).encode(), IX)   # only the tampered one listed
print(bad)
PYEOF
	expect_exit 1 mg deploy "$R:v1" --env tampered --report r1.json --require-signed-report --key key.pub
	expect_error "refusing to deploy" "does not match the key"
	expect_exit 2 mg inspect "$R:tampered"
}

check "deploy moves tags and keeps the history in the registry" t_deploy_in_registry
check "rollback swaps the registry tags" t_rollback_in_registry
check "the signed gate result is a referrer under the fallback tag" t_signed_result_in_registry
check "a tampered signed gate result is refused" t_tampered_result_refused
finish
