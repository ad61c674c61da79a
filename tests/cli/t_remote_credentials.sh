# Where registry credentials go. A fault proxy (faultproxy.py) in front of a
# plain docker-registry asks for credentials itself (Basic, or a bearer token
# from its realm), over HTTPS with a certificate made here or over plain
# HTTP, and sends the client to another host: 127.0.0.2, another address of
# this machine, which logs whether an Authorization header arrived. Upload
# Locations, blob redirects and a bearer realm on the other host: the
# credentials stay with the registry's own scheme, host and port (a token
# realm gets them, as it should), and a way from HTTPS to plain HTTP is
# refused (exit 3, naming both URLs) unless --insecure allows it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_registry.sh"

fixtures
export SOURCE_DATE_EPOCH=1700000000
unset MODELGATE_REGISTRY_USER MODELGATE_REGISTRY_PASSWORD CI_REGISTRY CI_REGISTRY_USER \
	CI_REGISTRY_PASSWORD GITHUB_TOKEN MODELGATE_INSECURE_REGISTRIES
export DOCKER_CONFIG=$TEST_TMP/docker
registry_start
PROXY_USER=ci-bot
PROXY_PASS=s3cret-Pa55word-$$
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
	-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
	-keyout "$TEST_TMP/key.pem" -out "$TEST_TMP/cert.pem" >/dev/null 2>&1 ||
	fail "openssl could not make a certificate"
CA=$TEST_TMP/cert.pem
# what the redirects and pulls fetch
must mg push --insecure "$REG/team/c:v1" "$FX/model.onnx"

# fake MODE tls|plain basic|bearer: a proxy in MODE in front of the registry;
# sets PROXY, PROXY_LOG and OTHER (the other host's port)
fake() {
	local tls=
	[ "$2" = tls ] && tls=$TEST_TMP/cert.pem:$TEST_TMP/key.pem
	FAULTPROXY_TLS=$tls FAULTPROXY_AUTH=$3:$PROXY_USER:$PROXY_PASS proxy_start "$1"
	OTHER=$(cat "$TEST_TMP/proxy.port.other")
	export MODELGATE_REGISTRY_USER=$PROXY_USER MODELGATE_REGISTRY_PASSWORD=$PROXY_PASS
	[ "$2" = plain ] && export MODELGATE_INSECURE_REGISTRIES=$PROXY
	return 0
}

no_secret_in_output() {
	! grep -qF -- "$PROXY_PASS" "$OUT" "$ERR" || fail "the password appears in the output"
}

# the other host got requests (at least one of METHOD), none with credentials
other_host_got_no_credentials() {
	grep -q "^other $1 " "$PROXY_LOG" || fail "no $1 reached the other host: $(cat "$PROXY_LOG")"
	! grep -E '^other .* (Basic|Bearer)$' "$PROXY_LOG" ||
		fail "credentials reached the other host"
}

other_host_got_nothing() {
	! grep '^other ' "$PROXY_LOG" || fail "a request reached the other host"
}

pushed_intact() { # REPO:TAG
	expect_exit 0 mg pull --insecure "$REG/$1" -o "pulled-$1"
	expect_same_file "$FX/model_v2.onnx" "pulled-$1/model_v2.onnx"
}

t_basic_not_sent_to_an_upload_location_elsewhere() {
	fake uploadelsewhere plain basic
	expect_exit 0 mg push -q "$PROXY/team/basic:v1" "$FX/model_v2.onnx"
	other_host_got_no_credentials PUT
	no_secret_in_output
	pushed_intact team/basic:v1
}

t_bearer_not_sent_to_an_upload_location_elsewhere() {
	fake uploadelsewhere plain bearer
	expect_exit 0 mg push -q "$PROXY/team/bearer:v1" "$FX/model_v2.onnx"
	grep -q '^GET /token' "$PROXY_LOG" || fail "no token was asked for"
	other_host_got_no_credentials PUT
	no_secret_in_output
	pushed_intact team/bearer:v1
}

t_chunked_upload_elsewhere_gets_no_credentials() {
	fake uploadelsewhere plain basic
	MODELGATE_CHUNK_SIZE=1000 expect_exit 0 mg push -q "$PROXY/team/chunks:v1" "$FX/model_v2.onnx"
	other_host_got_no_credentials PATCH
	pushed_intact team/chunks:v1
}

t_https_upload_location_to_plain_http_refused() {
	fake uploadelsewhere tls basic
	expect_exit 3 mg push -q --ca-file "$CA" "$PROXY/team/tls:v1" "$FX/model_v2.onnx"
	expect_error "'https://$PROXY'" "'http://127.0.0.2:$OTHER/v2/team/tls/blobs/uploads/" \
		"plain HTTP" "--insecure"
	expect_stderr_not_contains "_state="
	other_host_got_nothing
	no_secret_in_output
}

t_https_upload_location_to_plain_http_with_insecure() {
	fake uploadelsewhere tls basic
	expect_exit 0 mg push -q --insecure "$PROXY/team/insecure:v1" "$FX/model_v2.onnx"
	other_host_got_no_credentials PUT
	pushed_intact team/insecure:v1
}

t_https_blob_redirect_to_plain_http_refused() {
	fake blobelsewhere tls bearer
	expect_exit 3 mg pull --ca-file "$CA" "$PROXY/team/c:v1" -o out
	expect_error "'https://$PROXY/v2/team/c/blobs/sha256:" "'http://127.0.0.2:$OTHER/v2/team/c/blobs/sha256:" \
		"plain HTTP" "--insecure"
	other_host_got_nothing
	no_secret_in_output
	expect_no_file out/model.onnx
}

t_blob_redirect_elsewhere_followed_without_credentials() {
	fake blobelsewhere plain basic
	expect_exit 0 mg pull "$PROXY/team/c:v1" -o out
	expect_same_file "$FX/model.onnx" out/model.onnx
	other_host_got_no_credentials GET
	# and with a bearer token, over HTTPS with --insecure
	proxy_stop
	fake blobelsewhere tls bearer
	expect_exit 0 mg pull --insecure "$PROXY/team/c:v1" -o out2
	expect_same_file "$FX/model.onnx" out2/model.onnx
	other_host_got_no_credentials GET
}

t_bearer_realm_on_plain_http_refused_from_https() {
	fake realmelsewhere tls bearer
	expect_exit 3 mg ls --ca-file "$CA" "$PROXY/team/c"
	expect_error "'https://$PROXY'" "'http://127.0.0.2:$OTHER/token'" "plain HTTP" "--insecure"
	other_host_got_nothing
	no_secret_in_output
	# --insecure allows it: the realm gets the credentials, as realms do
	expect_exit 0 mg ls --insecure "$PROXY/team/c"
	expect_stdout_matches "^$PROXY/team/c +v1 "
	grep -q "^other GET /token.* Basic\$" "$PROXY_LOG" || fail "the realm was not asked"
}

t_bearer_realm_elsewhere_on_plain_http_registry() {
	fake realmelsewhere plain bearer
	expect_exit 0 mg pull "$PROXY/team/c:v1" -o out
	expect_same_file "$FX/model.onnx" out/model.onnx
	! grep -E '^other ' "$PROXY_LOG" | grep -v '^other GET /token' ||
		fail "the realm's host got more than token requests"
}

check "Basic credentials are not sent to an upload Location on another host" \
	t_basic_not_sent_to_an_upload_location_elsewhere
check "a bearer token is not sent to an upload Location on another host" \
	t_bearer_not_sent_to_an_upload_location_elsewhere
check "chunks of an upload to another host go without credentials" \
	t_chunked_upload_elsewhere_gets_no_credentials
check "an upload Location from HTTPS to plain HTTP is refused, exit 3" \
	t_https_upload_location_to_plain_http_refused
check "--insecure allows it, still without credentials there" \
	t_https_upload_location_to_plain_http_with_insecure
check "a blob redirect from HTTPS to plain HTTP is refused, exit 3" \
	t_https_blob_redirect_to_plain_http_refused
check "a blob redirect to another host is followed without credentials" \
	t_blob_redirect_elsewhere_followed_without_credentials
check "a bearer realm on plain HTTP from an HTTPS registry is refused, exit 3" \
	t_bearer_realm_on_plain_http_refused_from_https
check "a bearer realm on another host of a plain-HTTP registry is used" \
	t_bearer_realm_elsewhere_on_plain_http_registry
finish
