# A registry with bearer tokens: Debian's docker-registry in `auth: token:`
# mode, and our token service (tokenserver.py) signing RS256 JWTs with a
# key made here. The registry really checks the tokens (no token, a garbage
# one and a forged one are refused); push, pull, rm and copy with a
# cross-repository mount fetch tokens for the right scopes and reuse them;
# wrong and missing credentials are a clear exit 2 that shows no password
# and no token; skopeo reads what modelgate pushed; a token service that is
# down is an infrastructure failure (exit 3).
# Credentials also come from docker credential helpers (credsStore,
# credHelpers), here the shell-script helpers docker-credential-mgtest (a
# store holding this registry's credentials) and docker-credential-mgbroken
# (a store that fails), put on PATH.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_registry.sh"

fixtures
export SOURCE_DATE_EPOCH=1700000000
registry_start_token
export MODELGATE_INSECURE_REGISTRIES=$REG
export DOCKER_CONFIG=$TEST_TMP/docker
unset MODELGATE_REGISTRY_USER MODELGATE_REGISTRY_PASSWORD CI_REGISTRY CI_REGISTRY_USER \
	CI_REGISTRY_PASSWORD GITHUB_TOKEN
WRONG=not-the-t0ken-Pa55word-$$
SERVICE=modelgate-test-registry

# the credential helpers: each logs "NAME ARGS <STDIN>" to HELPER_LOG
HELPER_LOG=$TEST_TMP/helper.log
mkdir -p "$TEST_TMP/bin"
cat >"$TEST_TMP/bin/docker-credential-mgtest" <<EOF
#!/bin/sh
host=\$(cat)
echo "mgtest \$* <\$host>" >>'$HELPER_LOG'
[ "\$1" = get ] || { echo "unsupported: \$1"; exit 1; }
if [ "\$host" = '$REG' ]; then
	printf '{"ServerURL":"%s","Username":"%s","Secret":"%s"}\n' "\$host" '$REG_USER' '$REG_PASS'
else
	echo "credentials not found in native keychain"
	exit 1
fi
EOF
cat >"$TEST_TMP/bin/docker-credential-mgbroken" <<EOF
#!/bin/sh
host=\$(cat)
echo "mgbroken \$* <\$host>" >>'$HELPER_LOG'
echo "the keychain is locked" >&2
exit 1
EOF
chmod +x "$TEST_TMP/bin/docker-credential-mgtest" "$TEST_TMP/bin/docker-credential-mgbroken"
export PATH=$TEST_TMP/bin:$PATH

as_user() { MODELGATE_REGISTRY_USER=$REG_USER MODELGATE_REGISTRY_PASSWORD=$REG_PASS "$@"; }

# a token straight from the token service (user:password, scope)
get_token() {
	curl -sf ${1:+-u "$1"} "$TOKEN_URL?service=$SERVICE&scope=$2" |
		"$PY" -c 'import json, sys; print(json.load(sys.stdin)["token"])'
}

# no output of the last command shows a password or a token (a JWT: two
# base64url JSON objects, each starting with the base64 of '{"', "eyJ")
no_secret_in_output() {
	! grep -qF -- "$REG_PASS" "$OUT" "$ERR" || fail "the password appears in the output"
	! grep -qF -- "$WRONG" "$OUT" "$ERR" || fail "the wrong password appears in the output"
	! grep -qE 'eyJ[A-Za-z0-9_-]*\.eyJ' "$OUT" "$ERR" || fail "a token appears in the output"
}

# The token requests of the command run last (lines of TOKEN_LOG after
# the mark set by mark_logs), and the registry requests (modelgate's).
mark_logs() {
	TOKEN_MARK=$(wc -l <"$TOKEN_LOG")
	REG_MARK=$(wc -l <"$REG_LOG")
}
new_tokens() { tail -n +"$((TOKEN_MARK + 1))" "$TOKEN_LOG"; }
new_registry_requests() {
	tail -n +"$((REG_MARK + 1))" "$REG_LOG" | grep -E '"(GET|HEAD|POST|PUT|PATCH|DELETE) /v2/' |
		grep 'modelgate/' || true
}

# the artifact the checks read
mark_logs
as_user must mg push "$REG/team/digits:v1" "$FX/model.onnx" "$FX/x.npy"
D1=$(cat "$OUT")
new_tokens >"$TEST_TMP/push.tokens"
new_registry_requests >"$TEST_TMP/push.requests"

t_registry_checks_tokens() {
	local good forged
	# no token: a challenge that sends clients to the token service
	expect_exit 0 curl -si "http://$REG/v2/team/digits/tags/list"
	grep -q '^HTTP/1.1 401' "$OUT" || fail "no token was not refused"
	grep -qi "^www-authenticate: Bearer realm=\"$TOKEN_URL\",service=\"$SERVICE\"" "$OUT" ||
		fail "no bearer challenge naming the token service"
	# garbage
	expect_exit 0 curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer not.a.token' \
		"http://$REG/v2/team/digits/tags/list"
	[ "$(cat "$OUT")" = 401 ] || fail "a garbage token got $(cat "$OUT")"
	# a real token is accepted ...
	good=$(get_token "$REG_USER:$REG_PASS" repository:team/digits:pull) || fail "no token"
	expect_exit 0 curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $good" \
		"http://$REG/v2/team/digits/tags/list"
	[ "$(cat "$OUT")" = 200 ] || fail "a good token got $(cat "$OUT")"
	# ... only for its repository and actions
	expect_exit 0 curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $good" \
		"http://$REG/v2/team/other/tags/list"
	[ "$(cat "$OUT")" = 401 ] || fail "a token for team/digits opened team/other: $(cat "$OUT")"
	expect_exit 0 curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: Bearer $good" \
		"http://$REG/v2/team/digits/blobs/uploads/"
	[ "$(cat "$OUT")" = 401 ] || fail "a pull token started an upload: $(cat "$OUT")"
	# the same token with its claims changed to another repository: the
	# signature no longer matches
	forged=$("$PY" -c 'import base64, json, sys
h, c, s = sys.argv[1].split(".")
claims = json.loads(base64.urlsafe_b64decode(c + "=" * (-len(c) % 4)))
claims["access"][0]["name"] = "team/other"
c = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
print(".".join((h, c, s)))' "$good")
	expect_exit 0 curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $forged" \
		"http://$REG/v2/team/other/tags/list"
	[ "$(cat "$OUT")" = 401 ] || fail "a forged token got $(cat "$OUT")"
	# the token service refuses a wrong password, and gives anonymous pull only
	expect_exit 0 curl -s -o /dev/null -w '%{http_code}' -u "$REG_USER:$WRONG" \
		"$TOKEN_URL?service=$SERVICE&scope=repository:team/digits:pull"
	[ "$(cat "$OUT")" = 401 ] || fail "the token service accepted a wrong password"
	grep -q ' creds=rejected .*status=401$' "$TOKEN_LOG" || fail "the token log does not show the refusal"
	! grep -qF -- "$REG_PASS" "$TOKEN_LOG" || fail "the token log holds the password"
}

t_push_fetches_push_scope_and_reuses_tokens() {
	[[ $D1 =~ $DIGEST_RE ]] || fail "push printed '$D1', not a digest"
	local n r
	n=$(grep -c . "$TEST_TMP/push.tokens")
	r=$(grep -c . "$TEST_TMP/push.requests")
	grep -q ' creds=ci-bot scope=repository:team/digits:pull,push granted=[^ ]*:pull,push status=200$' \
		"$TEST_TMP/push.tokens" || fail "no token for pull,push: $(cat "$TEST_TMP/push.tokens")"
	! grep -v ' creds=ci-bot ' "$TEST_TMP/push.tokens" | grep -q . ||
		fail "a token request without the credentials"
	# every token is fetched once and reused: the same request never
	# twice, and a handful of tokens for all the registry requests
	[ -z "$(sed 's/ granted=.*//' "$TEST_TMP/push.tokens" | sort | uniq -d)" ] ||
		fail "a token was fetched twice: $(cat "$TEST_TMP/push.tokens")"
	[ "$n" -le 3 ] || fail "$n token requests for one push: $(cat "$TEST_TMP/push.tokens")"
	[ "$r" -ge 10 ] || fail "only $r registry requests seen for a 2-file push"
	# and every registry request but the first of each scope went with a
	# token: at most one 401 per token fetched
	[ "$(grep -c '" 401 ' "$TEST_TMP/push.requests")" -le "$n" ] ||
		fail "more 401 answers than tokens: $(grep '" 401 ' "$TEST_TMP/push.requests")"
}

t_pull_with_credentials_is_byte_identical() {
	mark_logs
	as_user expect_exit 0 mg pull "$REG/team/digits:v1" -o out
	expect_same_file "$FX/model.onnx" out/model.onnx
	expect_same_file "$FX/x.npy" out/x.npy
	no_secret_in_output
	new_tokens >"$TEST_TMP/pull.tokens"
	grep -q ' creds=ci-bot scope=repository:team/digits:pull granted=[^ ]*:pull status=200$' \
		"$TEST_TMP/pull.tokens" || fail "no pull token: $(cat "$TEST_TMP/pull.tokens")"
	! grep -q 'push' "$TEST_TMP/pull.tokens" || fail "a pull asked for push"
	[ -z "$(sed 's/ granted=.*//' "$TEST_TMP/pull.tokens" | sort | uniq -d)" ] ||
		fail "a token was fetched twice: $(cat "$TEST_TMP/pull.tokens")"
}

t_wrong_password_exit_2_shows_no_secret() {
	mark_logs
	MODELGATE_REGISTRY_USER=$REG_USER MODELGATE_REGISTRY_PASSWORD=$WRONG \
		expect_exit 2 mg push "$REG/team/digits:v9" "$FX/model.onnx"
	expect_error "registry '$REG' refused the credentials from MODELGATE_REGISTRY_USER/MODELGATE_REGISTRY_PASSWORD for repository 'team/digits' (401" \
		"MODELGATE_REGISTRY_USER"
	no_secret_in_output
	new_tokens | grep -q ' creds=rejected ' || fail "the token service was not asked"
	! new_tokens | grep -q 'status=200' || fail "a token was issued"
	MODELGATE_REGISTRY_USER=$REG_USER MODELGATE_REGISTRY_PASSWORD=$WRONG \
		expect_exit 2 mg pull "$REG/team/digits:v1" -o nope
	expect_error "registry '$REG' refused the credentials"
	no_secret_in_output
	expect_no_file nope/model.onnx
	printf '%s\n' "$WRONG" >"$TEST_TMP/wrong.txt"
	expect_exit 2 mg login -u "$REG_USER" --password-stdin "$REG" <"$TEST_TMP/wrong.txt"
	expect_error "registry '$REG' refused the credentials"
	no_secret_in_output
	expect_no_file "$DOCKER_CONFIG/config.json"
}

t_anonymous_pulls_but_cannot_push() {
	mark_logs
	expect_exit 2 mg push "$REG/team/digits:anon" "$FX/model_v2.onnx"
	expect_error "registry '$REG' wants credentials for repository 'team/digits' (401)" \
		"modelgate login $REG"
	# the token service granted pull only, and the registry refused the push
	new_tokens | grep -q ' creds=none scope=repository:team/digits:pull,push granted=[^ ]*:pull status=200$' ||
		fail "the push did not ask for push: $(new_tokens)"
	expect_exit 0 mg pull "$REG/team/digits:v1" -o anon
	expect_same_file "$FX/x.npy" anon/x.npy
	expect_exit 0 mg ls "$REG/team/digits"
	expect_stdout_matches "^$REG/team/digits +v1 "
	expect_stdout_not_contains anon
}

t_copy_mounts_across_repositories() {
	mark_logs
	as_user expect_exit 0 mg copy --json "$REG/team/digits:v1" "$REG/team/mirror:v1"
	json_ok "j['digest'] == '$D1' and j['blobs_mounted'] >= 2 and j['blobs_copied'] == 0"
	local both='scope=repository:team/mirror:pull,push scope=repository:team/digits:pull'
	new_tokens | grep -q " $both granted=repository:team/mirror:pull,push;repository:team/digits:pull " ||
		fail "no token for the mount's two scopes: $(new_tokens)"
	new_registry_requests |
		grep -q 'POST /v2/team/mirror/blobs/uploads/?mount=sha256:[0-9a-f]*&from=team/digits HTTP/1.1" 201 ' ||
		fail "no blob was mounted"
	! new_registry_requests | grep -qE '"(PATCH|PUT) /v2/team/mirror/blobs/' || fail "blob bytes were sent"
	as_user expect_exit 0 mg pull "$REG/team/mirror:v1" -o mirror
	expect_same_file "$FX/model.onnx" mirror/model.onnx
}

t_rm_asks_for_delete() {
	as_user must mg push "$REG/team/scratch:old" "$FX/model_int8.onnx"
	mark_logs
	as_user expect_exit 0 mg rm "$REG/team/scratch:old"
	# the registry's challenge names "delete", which modelgate adds to its scope
	local want='scope=repository:team/scratch:pull,push scope=repository:team/scratch:delete'
	new_tokens | grep -q " $want granted=repository:team/scratch:pull,push;repository:team/scratch:delete " ||
		fail "no token with delete: $(new_tokens)"
	as_user expect_exit 0 mg ls "$REG/team/scratch"
	expect_stdout_not_contains old
}

t_skopeo_reads_what_modelgate_pushed() {
	mark_logs
	expect_exit 0 skopeo inspect --raw --tls-verify=false --creds "$REG_USER:$REG_PASS" \
		"docker://$REG/team/digits:v1"
	[ "sha256:$(sha256sum <"$OUT" | cut -d' ' -f1)" = "$D1" ] || fail "skopeo sees another manifest"
	json_ok "j['layers'][1]['annotations']['org.opencontainers.image.title'] == 'x.npy'"
	new_tokens | grep -q ' creds=ci-bot scope=repository:team/digits:pull ' || fail "skopeo fetched no token"
	# (plain `skopeo inspect` refuses artifacts that are not images: --raw)
	# and the blobs, into an OCI layout
	expect_exit 0 skopeo copy --src-tls-verify=false --src-creds "$REG_USER:$REG_PASS" \
		"docker://$REG/team/digits:v1" "oci:$TEST_TMP/sk:v1"
	expect_same_file "$FX/x.npy" "$TEST_TMP/sk/blobs/sha256/$(sha256_of "$FX/x.npy")"
}

# ---- credential helpers ---------------------------------------------------

# use_config NAME JSON: a docker config of its own for the check
use_config() {
	export DOCKER_CONFIG=$TEST_TMP/docker-$1
	mkdir -p "$DOCKER_CONFIG"
	printf '%s\n' "$2" >"$DOCKER_CONFIG/config.json"
	: >"$HELPER_LOG"
}

t_creds_store_helper() {
	use_config store '{"credsStore": "mgtest"}'
	mark_logs
	expect_exit 0 mg push "$REG/team/helper:v1" "$FX/model_v2.onnx"
	no_secret_in_output
	# the protocol: "get", the registry host on stdin
	[ "$(cat "$HELPER_LOG")" = "mgtest get <$REG>" ] || fail "helper calls: $(cat "$HELPER_LOG")"
	new_tokens | grep -q ' creds=ci-bot scope=repository:team/helper:pull,push ' ||
		fail "the helper's credentials were not used: $(new_tokens)"
	expect_exit 0 mg pull "$REG/team/helper:v1" -o helped
	expect_same_file "$FX/model_v2.onnx" helped/model_v2.onnx
}

t_cred_helpers_entry_comes_first() {
	local wrong_auth
	wrong_auth=$(printf '%s:%s' "$REG_USER" "$WRONG" | base64 -w0)
	use_config per-host "{\"credHelpers\": {\"$REG\": \"mgtest\"}, \"credsStore\": \"mgbroken\",
		\"auths\": {\"$REG\": {\"auth\": \"$wrong_auth\"}}}"
	expect_exit 0 mg push "$REG/team/helper:v2" "$FX/model.onnx"
	[ "$(cat "$HELPER_LOG")" = "mgtest get <$REG>" ] || fail "helper calls: $(cat "$HELPER_LOG")"
	no_secret_in_output
}

t_login_auths_come_before_the_store() {
	use_config login '{"credsStore": "mgbroken"}'
	printf '%s\n' "$REG_PASS" >"$TEST_TMP/pw.txt"
	expect_exit 0 mg login -u "$REG_USER" --password-stdin "$REG" <"$TEST_TMP/pw.txt"
	json_ok "j['credsStore'] == 'mgbroken' and j['auths']['$REG']['auth'] != ''" "$DOCKER_CONFIG/config.json"
	expect_exit 0 mg push "$REG/team/helper:v3" "$FX/model.onnx"
	[ ! -s "$HELPER_LOG" ] || fail "a helper was asked: $(cat "$HELPER_LOG")"
}

t_helper_without_credentials_is_anonymous() {
	use_config other '{"credHelpers": {"registry.example.com": "mgbroken"}, "credsStore": "mgtest"}'
	# mgtest has nothing for this host name: anonymous
	local alias=127.0.0.1:${REG#localhost:}
	MODELGATE_INSECURE_REGISTRIES=$alias expect_exit 0 mg pull "$alias/team/digits:v1" -o anon
	expect_same_file "$FX/model.onnx" anon/model.onnx
	[ "$(cat "$HELPER_LOG")" = "mgtest get <$alias>" ] || fail "helper calls: $(cat "$HELPER_LOG")"
	MODELGATE_INSECURE_REGISTRIES=$alias expect_exit 2 mg push "$alias/team/digits:v4" "$FX/model.onnx"
	expect_error "registry '$alias' wants credentials for repository 'team/digits' (401)"
}

t_failing_helper_exit_3() {
	use_config broken '{"credsStore": "mgbroken"}'
	expect_exit 3 mg pull "$REG/team/digits:v1" -o nope
	expect_error "credential helper 'docker-credential-mgbroken' failed to look up '$REG' (exit 1)" \
		"the keychain is locked" "$DOCKER_CONFIG/config.json"
	expect_no_file nope/model.onnx
}

t_missing_helper_exit_2() {
	use_config missing "{\"credHelpers\": {\"$REG\": \"mgabsent\"}}"
	expect_exit 2 mg pull "$REG/team/digits:v1" -o nope
	expect_error "credential helper 'docker-credential-mgabsent' (for '$REG') is not on PATH" \
		"$DOCKER_CONFIG/config.json"
}

t_environment_comes_before_helpers() {
	use_config env '{"credsStore": "mgtest"}'
	MODELGATE_REGISTRY_USER=$REG_USER MODELGATE_REGISTRY_PASSWORD=$WRONG \
		expect_exit 2 mg pull "$REG/team/digits:v1" -o nope
	expect_error "refused the credentials"
	no_secret_in_output
	[ ! -s "$HELPER_LOG" ] || fail "a helper was asked: $(cat "$HELPER_LOG")"
}

# last: it stops the token service
t_token_service_down_exit_3() {
	kill "$TOKEN_PID"
	wait "$TOKEN_PID" 2>/dev/null
	as_user expect_exit 3 mg pull "$REG/team/digits:v1" -o nope
	expect_error "cannot reach the token service of registry '$REG'"
	no_secret_in_output
	expect_no_file nope/model.onnx
}

check registry_checks_tokens t_registry_checks_tokens
check push_fetches_push_scope_and_reuses_tokens t_push_fetches_push_scope_and_reuses_tokens
check pull_with_credentials_is_byte_identical t_pull_with_credentials_is_byte_identical
check wrong_password_exit_2_shows_no_secret t_wrong_password_exit_2_shows_no_secret
check anonymous_pulls_but_cannot_push t_anonymous_pulls_but_cannot_push
check copy_mounts_across_repositories t_copy_mounts_across_repositories
check rm_asks_for_delete t_rm_asks_for_delete
check skopeo_reads_what_modelgate_pushed t_skopeo_reads_what_modelgate_pushed
check creds_store_helper t_creds_store_helper
check cred_helpers_entry_comes_first t_cred_helpers_entry_comes_first
check login_auths_come_before_the_store t_login_auths_come_before_the_store
check helper_without_credentials_is_anonymous t_helper_without_credentials_is_anonymous
check failing_helper_exit_3 t_failing_helper_exit_3
check missing_helper_exit_2 t_missing_helper_exit_2
check environment_comes_before_helpers t_environment_comes_before_helpers
check token_service_down_exit_3 t_token_service_down_exit_3
finish
