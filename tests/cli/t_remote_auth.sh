# A registry with htpasswd basic auth behind TLS with a self-signed
# certificate: TLS is verified by default (--ca-file trusts the test's CA,
# --insecure skips verification), credentials come from the environment, the
# CI's variables or docker's config.json (written by `modelgate login`), and
# a wrong or missing password is a clear exit 2 that never shows the
# password.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_registry.sh"

fixtures
export SOURCE_DATE_EPOCH=1700000000
registry_start auth
export DOCKER_CONFIG=$TEST_TMP/docker
unset MODELGATE_REGISTRY_USER MODELGATE_REGISTRY_PASSWORD CI_REGISTRY CI_REGISTRY_USER \
	CI_REGISTRY_PASSWORD GITHUB_TOKEN MODELGATE_INSECURE_REGISTRIES
WRONG=not-the-Pa55word-$$

# no output of any command may contain a password
no_secret_in_output() {
	! grep -qF -- "$REG_PASS" "$OUT" "$ERR" || fail "the password appears in the output"
	! grep -qF -- "$WRONG" "$OUT" "$ERR" || fail "the wrong password appears in the output"
}

t_tls_verified_by_default() {
	MODELGATE_REGISTRY_USER=$REG_USER MODELGATE_REGISTRY_PASSWORD=$REG_PASS \
		expect_exit 3 mg ls "$REG/team/digits"
	expect_error "TLS with registry '$REG' failed" "--ca-file"
	no_secret_in_output
}

t_env_credentials_with_ca_file() {
	MODELGATE_REGISTRY_USER=$REG_USER MODELGATE_REGISTRY_PASSWORD=$REG_PASS \
		expect_exit 0 mg push --ca-file "$REG_CA" "$REG/team/digits:v1" "$FX/model.onnx"
	no_secret_in_output
	MODELGATE_REGISTRY_USER=$REG_USER MODELGATE_REGISTRY_PASSWORD=$REG_PASS \
		expect_exit 0 mg pull --insecure "$REG/team/digits:v1" -o out
	expect_same_file "$FX/model.onnx" out/model.onnx
}

t_missing_credentials_exit_2() {
	expect_exit 2 mg pull --ca-file "$REG_CA" "$REG/team/digits:v1" -o nope
	expect_error "registry '$REG' wants credentials for repository 'team/digits' (401)" \
		"modelgate login $REG"
}

t_wrong_password_exit_2_never_shown() {
	MODELGATE_REGISTRY_USER=$REG_USER MODELGATE_REGISTRY_PASSWORD=$WRONG \
		expect_exit 2 mg push --ca-file "$REG_CA" "$REG/team/digits:v2" "$FX/model.onnx"
	expect_error "registry '$REG' refused the credentials from MODELGATE_REGISTRY_USER/MODELGATE_REGISTRY_PASSWORD for repository 'team/digits' (401" \
		"MODELGATE_REGISTRY_USER"
	no_secret_in_output
	printf '%s\n' "$WRONG" >"$TEST_TMP/wrong.txt"
	expect_exit 2 mg login --ca-file "$REG_CA" -u "$REG_USER" --password-stdin "$REG" <"$TEST_TMP/wrong.txt"
	expect_error "refused the credentials"
	no_secret_in_output
	expect_no_file "$DOCKER_CONFIG/config.json"
}

t_gitlab_ci_variables() {
	CI_REGISTRY=$REG CI_REGISTRY_USER=$REG_USER CI_REGISTRY_PASSWORD=$REG_PASS \
		expect_exit 0 mg ls --ca-file "$REG_CA" "$REG/team/digits"
	expect_stdout_matches "^$REG/team/digits +v1 "
	# only for the CI's own registry
	CI_REGISTRY=registry.example.com CI_REGISTRY_USER=$REG_USER CI_REGISTRY_PASSWORD=$REG_PASS \
		expect_exit 2 mg ls --ca-file "$REG_CA" "$REG/team/digits"
}

t_login_stores_docker_auth() {
	printf '%s\n' "$REG_PASS" >"$TEST_TMP/pw.txt"
	expect_exit 0 mg login --ca-file "$REG_CA" -u "$REG_USER" --password-stdin "$REG" <"$TEST_TMP/pw.txt"
	expect_stdout_contains "login succeeded"
	no_secret_in_output
	[ "$(stat -c %a "$DOCKER_CONFIG/config.json")" = 600 ] || fail "config.json is not mode 0600"
	local want
	want=$(printf '%s:%s' "$REG_USER" "$REG_PASS" | base64 -w0)
	json_ok "j['auths']['$REG']['auth'] == '$want'" "$DOCKER_CONFIG/config.json"
	# and push/pull find it
	expect_exit 0 mg copy --ca-file "$REG_CA" "$REG/team/digits:v1" digits:v1
	expect_exit 0 mg inspect --ca-file "$REG_CA" "$REG/team/digits:v1"
	# login keeps other entries
	"$PY" -c 'import json,sys; p=sys.argv[1]; j=json.load(open(p)); j["auths"]["other.example:5000"]={"auth":"eDp5"}; j["credsStore"]="x"; json.dump(j, open(p,"w"))' \
		"$DOCKER_CONFIG/config.json"
	expect_exit 0 mg login --ca-file "$REG_CA" -u "$REG_USER" --password-stdin "$REG" <"$TEST_TMP/pw.txt"
	json_ok "j['auths']['other.example:5000']['auth'] == 'eDp5' and j['credsStore'] == 'x'" \
		"$DOCKER_CONFIG/config.json"
	# a stale password in config.json: the error says where it came from
	local stale
	stale=$(printf '%s:%s' "$REG_USER" "$WRONG" | base64 -w0)
	"$PY" -c 'import json,sys; p=sys.argv[1]; j=json.load(open(p)); j["auths"][sys.argv[2]]={"auth":sys.argv[3]}; json.dump(j, open(p,"w"))' \
		"$DOCKER_CONFIG/config.json" "$REG" "$stale"
	expect_exit 2 mg inspect --ca-file "$REG_CA" "$REG/team/digits:v1"
	expect_error "refused the credentials from '$DOCKER_CONFIG/config.json' for repository 'team/digits'" \
		"modelgate login $REG"
	no_secret_in_output
}

# a config.json that is a link (to a dotfiles checkout) is written through,
# as docker does: the target is replaced atomically in its own folder, and
# the link stays a link; also a link to a file not there yet, and a chain
t_login_writes_through_a_linked_config() {
	local d=$TEST_TMP/linked dots=$TEST_TMP/dotfiles
	mkdir -p "$d" "$dots/docker"
	printf '{"auths": {"other.example:5000": {"auth": "eDp5"}}}' >"$dots/docker/config.json"
	ln -s ../dotfiles/docker/config.json "$d/config.json"
	printf '%s\n' "$REG_PASS" >"$TEST_TMP/pw.txt"
	DOCKER_CONFIG=$d expect_exit 0 mg login --ca-file "$REG_CA" -u "$REG_USER" --password-stdin "$REG" <"$TEST_TMP/pw.txt"
	[ -L "$d/config.json" ] || fail "config.json is no longer a link"
	[ "$(readlink "$d/config.json")" = ../dotfiles/docker/config.json ] || fail "the link was changed"
	json_ok "j['auths']['other.example:5000']['auth'] == 'eDp5' and '$REG' in j['auths']" "$dots/docker/config.json"
	[ "$(stat -c %a "$dots/docker/config.json")" = 600 ] || fail "the link's target is not mode 0600"
	[ -z "$(ls -A "$d" | grep -v '^config.json$')" ] || fail "files were left beside the link: $(ls -A "$d")"
	# a link to a file that is not there yet, through another link
	rm -f "$d/config.json"
	ln -s "$dots/next.json" "$d/config.json"
	ln -s docker/new.json "$dots/next.json"
	DOCKER_CONFIG=$d expect_exit 0 mg login --ca-file "$REG_CA" -u "$REG_USER" --password-stdin "$REG" <"$TEST_TMP/pw.txt"
	[ -L "$d/config.json" ] && [ -L "$dots/next.json" ] || fail "a link of the chain was replaced"
	json_ok "'$REG' in j['auths']" "$dots/docker/new.json"
	DOCKER_CONFIG=$d expect_exit 0 mg ls --ca-file "$REG_CA" "$REG/team/digits"
}

t_skopeo_reads_through_auth() {
	MODELGATE_REGISTRY_USER=$REG_USER MODELGATE_REGISTRY_PASSWORD=$REG_PASS \
		expect_exit 0 mg push --ca-file "$REG_CA" "$REG/team/digits:v3" "$FX/model_v2.onnx"
	local d
	d=$(cat "$OUT")
	expect_exit 0 skopeo inspect --raw --tls-verify=false --creds "$REG_USER:$REG_PASS" "docker://$REG/team/digits:v3"
	[ "sha256:$(sha256sum <"$OUT" | cut -d' ' -f1)" = "$d" ] || fail "skopeo sees another manifest"
}

check tls_verified_by_default t_tls_verified_by_default
check env_credentials_with_ca_file t_env_credentials_with_ca_file
check missing_credentials_exit_2 t_missing_credentials_exit_2
check wrong_password_exit_2_never_shown t_wrong_password_exit_2_never_shown
check gitlab_ci_variables t_gitlab_ci_variables
check login_stores_docker_auth t_login_stores_docker_auth
check login_writes_through_a_linked_config t_login_writes_through_a_linked_config
check skopeo_reads_through_auth t_skopeo_reads_through_auth
finish
