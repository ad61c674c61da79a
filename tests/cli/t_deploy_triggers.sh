# Deploy triggers against a local recording server (recorder.py): each
# request checked for method, path, headers and body as GitHub's and
# GitLab's APIs document them, the webhook's HMAC recomputed here; a 503
# retried; a trigger that keeps failing is exit 3 with the tag move
# recorded, and a rerun fires only what is missing; rollback flagged;
# triggers from modelgate.json; secrets never printed.
. "$MG_SRCDIR/tests/cli/lib.sh"
. "$MG_SRCDIR/tests/cli/lib_registry.sh"
. "$MG_SRCDIR/tests/cli/lib_deploy.sh"

fixtures
unset GITHUB_ACTOR GITLAB_USER_LOGIN GITHUB_SERVER_URL GITHUB_RUN_ID CI_JOB_URL GITHUB_REF_NAME \
	CI_DEFAULT_BRANCH MODELGATE_GITLAB_TRIGGER_TOKEN
export USER=tester
recorder_start
export GITHUB_API_URL=$REC CI_API_V4_URL=$REC/api/v4
export GITHUB_TOKEN=ghp-test-token-$$ CI_JOB_TOKEN=glcbt-test-token-$$
export MODELGATE_WEBHOOK_SECRET=whsec-test-$$ FLEET_TOKEN=fleet-token-$$
must mg push kws:v1 "$FX/model.onnx"
D1=$(cat "$OUT")
must mg push kws:v2 "$FX/model_v2.onnx"
D2=$(cat "$OUT")
make_report "$D1" pass r1.json
make_report "$D2" pass r2.json

no_secrets() {
	local s
	for s in "$GITHUB_TOKEN" "$CI_JOB_TOKEN" "$MODELGATE_WEBHOOK_SECRET" "$FLEET_TOKEN"; do
		! grep -qF -- "$s" "$OUT" "$ERR" || fail "a secret appears in the output"
	done
}

GH='r["headers"]["accept"] == "application/vnd.github+json" and r["headers"]["x-github-api-version"] == "2022-11-28" and r["headers"]["content-type"] == "application/json"'

t_all_four_kinds() {
	must mg -v deploy kws:v1 --env prod --report r1.json \
		--trigger github-dispatch:acme/fleet:model-deploy \
		--trigger github-workflow:acme/fleet:deploy.yml:release \
		--trigger gitlab:group/proj \
		--trigger "webhook:$REC/hook?x=1"
	no_secrets
	expect_stdout_contains "trigger github-dispatch:acme/fleet: ok (204)"
	expect_stdout_contains "trigger gitlab:group/proj: ok (201)"
	[ "$(rec_count)" -eq 4 ] || fail "$(rec_count) requests, expected 4"
	# repository_dispatch
	rec_check 1 'r["method"] == "POST" and r["path"] == "/repos/acme/fleet/dispatches"'
	rec_check 1 'r["headers"]["authorization"] == "Bearer '"$GITHUB_TOKEN"'" and '"$GH"
	rec_check 1 'b["event_type"] == "model-deploy" and b["client_payload"]["digest"] == "'"$D1"'"'
	rec_check 1 'b["client_payload"]["environment"] == "prod" and b["client_payload"]["reference"] == "kws:v1" and b["client_payload"]["action"] == "deploy" and b["client_payload"]["rollback"] is False'
	rec_check 1 'b["client_payload"]["report"] == {"status": "pass", "digest": "sha256:'"$(sha256_of r1.json)"'", "gates_passed": 5, "gates_total": 5}'
	rec_check 1 'len(b["client_payload"]) <= 10 and len(r["headers"]["x-modelgate-delivery"]) == 64'
	# workflow_dispatch
	rec_check 2 'r["method"] == "POST" and r["path"] == "/repos/acme/fleet/actions/workflows/deploy.yml/dispatches"'
	rec_check 2 'r["headers"]["authorization"] == "Bearer '"$GITHUB_TOKEN"'" and '"$GH"
	rec_check 2 'b == {"ref": "release", "inputs": {"digest": "'"$D1"'", "environment": "prod", "action": "deploy"}}'
	# GitLab pipeline trigger
	rec_check 3 'r["method"] == "POST" and r["path"] == "/api/v4/projects/group%2Fproj/trigger/pipeline"'
	rec_check 3 'r["headers"]["content-type"] == "application/x-www-form-urlencoded" and "authorization" not in r["headers"]'
	rec_check 3 'form["token"] == ["'"$CI_JOB_TOKEN"'"] and form["ref"] == ["main"]'
	rec_check 3 'form["variables[MODELGATE_DIGEST]"] == ["'"$D1"'"] and form["variables[MODELGATE_ENVIRONMENT]"] == ["prod"] and form["variables[MODELGATE_ACTION]"] == ["deploy"]'
	# webhook: HMAC-SHA256 of the exact body, idempotency key
	rec_check 4 'r["method"] == "POST" and r["path"] == "/hook?x=1" and r["headers"]["content-type"] == "application/json"'
	rec_check 4 'r["headers"]["x-modelgate-signature-256"] == "sha256=" + hmac.new(b"'"$MODELGATE_WEBHOOK_SECRET"'", r["body"].encode(), hashlib.sha256).hexdigest()'
	rec_check 4 'r["headers"]["idempotency-key"] == r["headers"]["x-modelgate-delivery"] == b["delivery"] and r["headers"]["x-modelgate-event"] == "deploy"'
	rec_check 4 'b["digest"] == "'"$D1"'" and b["environment"] == "prod" and b["who"] == "tester" and b["seq"] == 1'
	# every trigger of one tag move carries the same delivery id
	rec_check 4 'r["headers"]["x-modelgate-delivery"] == json.loads(open(sys.argv[1]).readline())["headers"]["x-modelgate-delivery"]'
	must mg history kws --env prod --json
	json_ok "len(j[0]['triggers']) == 4 and all(t['ok'] for t in j[0]['triggers'])"
}

t_retries_503() {
	: >"$REC_LOG"
	recorder_control '{"fail_first": 1}'
	must mg deploy kws:v2 --env prod --report r2.json --trigger "webhook:$REC/hook"
	expect_stdout_contains "ok (200)"
	[ "$(rec_count)" -eq 2 ] || fail "$(rec_count) requests, expected 2"
	rec_check 1 'r["status"] == 503'
	rec_check 2 'r["status"] == 200 and r["body"] == json.loads(open(sys.argv[1]).readline())["body"]'
	rec_check 2 'r["headers"]["x-modelgate-delivery"] == json.loads(open(sys.argv[1]).readline())["headers"]["x-modelgate-delivery"]'
	rec_check 2 'b["previous"] == "'"$D1"'" and b["seq"] == 2'
}

t_failed_trigger_is_exit_3_then_rerun() {
	: >"$REC_LOG"
	recorder_control '{"fail_paths": ["/bad"]}'
	expect_exit 3 mg deploy kws:v1 --env stage --report r1.json \
		--trigger "webhook:$REC/good" --trigger "webhook:$REC/bad"
	no_secrets
	expect_stdout_contains "deployed to stage: $D1"
	expect_stderr_contains "trigger 'webhook:127.0.0.1:"
	expect_stderr_contains "503"
	# the tag moved and the move is recorded, with the failure
	must mg inspect --raw kws:stage
	must mg history kws --env stage --json
	json_ok "j[0]['digest'] == '$D1' and {t['name'].split('/')[-1]: t['ok'] for t in j[0]['triggers']} == {'good': True, 'bad': False}"
	json_ok "[t['status'] for t in j[0]['triggers'] if not t['ok']] == [503]"
	must mg history kws --env stage
	expect_stdout_matches "trigger webhook:.*/bad: FAILED \(503\)"
	local before n
	before=$(rec_count)
	recorder_control '{"fail_paths": []}'
	must mg deploy kws:v1 --env stage --report r1.json \
		--trigger "webhook:$REC/good" --trigger "webhook:$REC/bad"
	expect_stdout_contains "1 trigger(s) fired by an earlier run"
	n=$(rec_count)
	[ "$n" -eq $((before + 1)) ] || fail "the rerun sent $((n - before)) requests, expected 1"
	rec_check "$n" 'r["path"] == "/bad" and r["status"] == 200'
	# the same delivery id as the failed attempts
	rec_check "$n" 'r["headers"]["idempotency-key"] == [json.loads(l) for l in lines if json.loads(l)["path"] == "/bad"][0]["headers"]["idempotency-key"]'
	must mg history kws --env stage --json
	json_ok "len(j) == 1 and all(t['ok'] for t in j[0]['triggers'])"
	# and a third run fires nothing
	must mg deploy kws:v1 --env stage --report r1.json \
		--trigger "webhook:$REC/good" --trigger "webhook:$REC/bad"
	[ "$(rec_count)" -eq "$n" ] || fail "a run with nothing missing fired a trigger"
}

t_rollback_flagged() {
	: >"$REC_LOG"
	must mg rollback kws --env prod --trigger "webhook:$REC/hook" --trigger github-dispatch:acme/fleet
	expect_stdout_contains "rolled back prod: $D1"
	rec_check 1 'r["headers"]["x-modelgate-event"] == "rollback" and b["rollback"] is True and b["action"] == "rollback" and b["digest"] == "'"$D1"'" and b["previous"] == "'"$D2"'"'
	rec_check 2 'b["event_type"] == "modelgate-deploy" and b["client_payload"]["rollback"] is True and b["client_payload"]["previous"] == "'"$D2"'"'
}

t_missing_token_moves_nothing() {
	: >"$REC_LOG"
	env -u GITHUB_TOKEN "$MODELGATE" deploy kws:v2 --env qa --report r2.json \
		--trigger github-dispatch:acme/fleet >"$OUT" 2>"$ERR" && fail "deploy without a token succeeded"
	grep -q "needs the token in the variable 'GITHUB_TOKEN'" "$ERR" || fail "no message naming GITHUB_TOKEN"
	expect_exit 2 mg inspect kws:qa
	[ "$(rec_count)" -eq 0 ] || fail "a request was sent"
}

t_config_triggers() {
	: >"$REC_LOG"
	cat >modelgate.json <<JSON
{"model": "kws:v1", "gates": [],
 "deploy": {"triggers": [
   {"kind": "github-workflow", "name": "fleet", "repository": "acme/fleet", "workflow": "42",
    "ref": "main", "token_env": "FLEET_TOKEN", "inputs": {"channel": "beta"}},
   {"kind": "gitlab", "project": "7", "ref": "prod", "variables": {"CHANNEL": "beta"}},
   {"kind": "webhook", "url": "$REC/cfg-hook", "secret_env": "FLEET_TOKEN"}]}}
JSON
	must mg deploy kws:v2 --env cfg --report r2.json
	no_secrets
	rec_check 1 'r["path"] == "/repos/acme/fleet/actions/workflows/42/dispatches" and r["headers"]["authorization"] == "Bearer '"$FLEET_TOKEN"'"'
	rec_check 1 'b["inputs"]["channel"] == "beta" and b["ref"] == "main"'
	rec_check 2 'r["path"] == "/api/v4/projects/7/trigger/pipeline" and form["ref"] == ["prod"] and form["variables[CHANNEL]"] == ["beta"]'
	rec_check 3 'r["headers"]["x-modelgate-signature-256"] == "sha256=" + hmac.new(b"'"$FLEET_TOKEN"'", r["body"].encode(), hashlib.sha256).hexdigest()'
	must mg history --env cfg --json
	json_ok "[t['name'] for t in j[0]['triggers']] == ['fleet', 'gitlab:7', 'webhook:${REC#http://}/cfg-hook']"
	printf '{"model": "kws:v1", "gates": [], "deploy": {"triggers": [{"kind": "github-dispatch", "repo": "x"}]}}\n' >bad.json
	expect_exit 2 mg deploy kws:v2 --env cfg2 -c bad.json --report r2.json
	expect_error "bad.json: deploy.triggers[0].repo: unknown key"
	rm -f modelgate.json
}

check "each trigger kind sends what its API documents" t_all_four_kinds
check "a 503 is retried with the same delivery" t_retries_503
check "a failing trigger is exit 3; a rerun fires only what is missing" t_failed_trigger_is_exit_3_then_rerun
check "rollback fires the triggers flagged" t_rollback_flagged
check "a missing token stops before anything moves" t_missing_token_moves_nothing
check "triggers from modelgate.json" t_config_triggers
finish
