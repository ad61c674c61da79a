# deploy, rollback and history on the local store: the report check (a
# failing report, a report for another digest), the tag moves (NAME and
# NAME-previous), the append-only history, rollback swapping the tags, a
# rerun that moves nothing, and the signed gate result (attest, then
# deploy --require-signed-report with a good, a wrong-key, a failing, a
# corrupted and a missing attestation).
. "$MG_SRCDIR/tests/cli/lib.sh"
. "$MG_SRCDIR/tests/cli/lib_registry.sh"
. "$MG_SRCDIR/tests/cli/lib_deploy.sh"

fixtures
unset GITHUB_ACTOR GITLAB_USER_LOGIN GITHUB_TOKEN CI_JOB_TOKEN MODELGATE_WEBHOOK_SECRET
export USER=tester
must mg push kws:v1 "$FX/model.onnx"
D1=$(cat "$OUT")
must mg push kws:v2 "$FX/model_v2.onnx"
D2=$(cat "$OUT")
make_report "$D1" pass r1.json
make_report "$D2" pass r2.json
make_report "$D2" fail r2-fail.json
must mg keygen -o key
must mg keygen -o other

t_refuses_failing_report() {
	expect_exit 1 mg deploy kws:v2 --env prod --report r2-fail.json
	expect_error "refusing to deploy 'kws:v2' to 'prod'" "failed"
	expect_exit 2 mg inspect kws:prod
}

t_refuses_report_for_other_digest() {
	expect_exit 1 mg deploy kws:v1 --env prod --report r2.json
	expect_error "refusing to deploy" "$D2" "$D1"
	expect_exit 2 mg inspect kws:prod
}

t_usage() {
	expect_exit 2 mg deploy kws:v1 --report r1.json
	expect_stderr_contains "--env NAME is required"
	expect_exit 2 mg deploy kws:v1 --env prod
	expect_exit 2 mg deploy kws:v1 --env 'bad/env' --report r1.json
	expect_exit 2 mg deploy kws:v1 --env prod --report r1.json --trigger nope:x
	expect_error "--trigger 'nope:x'"
	expect_exit 2 mg deploy kws:v1 --env prod --report missing.json
	expect_exit 2 mg deploy kws:v1 --env prod --report r1.json --require-signed-report
	expect_exit 2 mg history kws --env 'no/pe'
	expect_exit 2 mg rollback kws --env never
	expect_error "no previous version" "never-previous"
}

t_deploy_moves_tag_and_previous() {
	must mg deploy kws:v1 --env prod --report r1.json
	expect_stdout_contains "deployed to prod: $D1"
	must mg inspect --raw kws:prod
	must mg ls kws --json
	json_ok "[e['digest'] for e in j if e.get('tag') == 'prod'] == ['$D1']"
	json_ok "not [e for e in j if e.get('tag') == 'prod-previous']"
	must mg deploy kws:v2 --env prod --report r2.json
	expect_stdout_contains "(previous $D1)"
	must mg ls kws --json
	json_ok "[e['digest'] for e in j if e.get('tag') == 'prod'] == ['$D2']"
	json_ok "[e['digest'] for e in j if e.get('tag') == 'prod-previous'] == ['$D1']"
	# the same deploy again moves nothing and records nothing new
	must mg deploy kws:v2 --env prod --report r2.json
	expect_stdout_contains "already recorded as #2"
	must mg history kws --env prod --json
	json_ok "len(j) == 2"
	# skopeo reads the layout with the history artifact in it
	need skopeo skopeo
	must skopeo inspect --raw "oci:$MODELGATE_HOME:kws:prod-history"
	json_ok "j['artifactType'] == 'application/vnd.modelgate.deploy-history.v1'"
}

t_history_lists_entries() {
	must mg history kws --env prod
	expect_stdout_matches "^#1  [0-9T:Z-]+  deploy +$D1  by tester"
	expect_stdout_matches "^#2  .* deploy +$D2  by tester  previous ${D1:0:19}"
	must mg history kws --env prod --json
	json_ok "[e['seq'] for e in j] == [1, 2] and j[1]['previous'] == '$D1'"
	json_ok "j[1]['report_status'] == 'pass' and j[1]['report_digest'] == 'sha256:$(sha256_of r2.json)'"
	json_ok "j[0]['reference'] == 'kws:v1' and j[1]['who'] == 'tester'"
	GITHUB_ACTOR=octocat expect_exit 0 mg history kws --env empty
	expect_stderr_contains "no deployments to 'empty'"
}

t_rollback_swaps() {
	GITHUB_ACTOR=octocat expect_exit 0 mg rollback kws --env prod
	expect_stdout_contains "rolled back prod: $D1 (previous $D2)"
	must mg ls kws --json
	json_ok "[e['digest'] for e in j if e.get('tag') == 'prod'] == ['$D1']"
	json_ok "[e['digest'] for e in j if e.get('tag') == 'prod-previous'] == ['$D2']"
	must mg history kws --env prod --json
	json_ok "j[-1]['action'] == 'rollback' and j[-1]['seq'] == 3 and j[-1]['who'] == 'octocat'"
	json_ok "j[-1]['digest'] == '$D1' and j[-1]['previous'] == '$D2'"
	# the history of another environment is separate
	must mg history kws --env staging --json
	json_ok "j == []"
}

t_rollback_from_config_model() {
	printf '{"model": "kws:v1", "gates": []}\n' >cfg.json
	must mg deploy kws:v2 --env cfg --report r2.json
	must mg deploy kws:v1 --env cfg --report r1.json
	must mg rollback --env cfg -c cfg.json
	expect_stdout_contains "rolled back cfg: $D2"
	must mg history --env cfg -c cfg.json --json
	json_ok "len(j) == 3"
}

t_attest_and_require_signed() {
	expect_exit 1 mg deploy kws:v2 --env signed --report r2.json --require-signed-report --key key.pub
	expect_error "has no signed gate result" "$D2"
	must mg attest kws:v2 --report r2.json --sign key
	expect_stdout_matches "$DIGEST_RE"
	REFERRER=$(cat "$OUT")
	echo "$REFERRER" >referrer.txt
	# the fallback tag lists it, with the gate-result artifact type
	must skopeo inspect --raw "oci:$MODELGATE_HOME:kws:sha256-${D2#sha256:}"
	json_ok "[m['digest'] for m in j['manifests']] == ['$REFERRER']"
	json_ok "j['manifests'][0]['artifactType'] == 'application/vnd.modelgate.gate-result.v1+json'"
	cp "$(blob_path "$REFERRER")" referrer.json
	json_ok "j['subject']['digest'] == '$D2' and j['layers'][0]['mediaType'] == 'application/vnd.dsse.envelope.v1+json'" referrer.json
	must mg -v deploy kws:v2 --env signed --report r2.json --require-signed-report --key key.pub
	expect_stdout_contains "deployed to signed: $D2"
	expect_exit 1 mg deploy kws:v2 --env signed2 --report r2.json --require-signed-report --key other.pub
	expect_error "refusing" "does not match the key 'other.pub'"
	expect_exit 2 mg inspect kws:signed2
	# the report is for v2: attesting v1 with it is refused
	expect_exit 2 mg attest kws:v1 --report r2.json --sign key
	expect_error "report 'r2.json' is about $D2"
}

t_refuses_signed_failing_result() {
	make_report "$D1" fail r1-fail.json
	must mg attest kws:v1 --report r1-fail.json --sign key
	expect_exit 1 mg deploy kws:v1 --env s3 --report r1.json --require-signed-report --key key.pub
	expect_error "says 'fail', not 'pass'"
}

t_refuses_corrupted_attestation() {
	# the envelope blob of v2's gate result, changed on disk
	local env REFERRER
	REFERRER=$(cat referrer.txt)
	env=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["layers"][0]["digest"])' \
		"$(blob_path "$REFERRER")")
	chmod u+w "$(blob_path "$env")"
	sed -i 's/"payload":"/"payload":"AAAA/' "$(blob_path "$env")"
	expect_exit 1 mg deploy kws:v2 --env s4 --report r2.json --require-signed-report --key key.pub
	expect_error "refusing" "$env"
}

check "deploy refuses a failing report" t_refuses_failing_report
check "deploy refuses a report for another digest" t_refuses_report_for_other_digest
check "usage and bad input are exit 2" t_usage
check "deploy moves the tag and keeps NAME-previous" t_deploy_moves_tag_and_previous
check "history lists every deployment" t_history_lists_entries
check "rollback swaps the tags and is recorded" t_rollback_swaps
check "rollback and history take the model of modelgate.json" t_rollback_from_config_model
check "attest attaches a referrer; deploy requires a valid one" t_attest_and_require_signed
check "a signed result that failed is refused" t_refuses_signed_failing_result
check "a corrupted attestation is refused" t_refuses_corrupted_attestation
finish
