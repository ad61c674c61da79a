# Hostile registries: what a registry (or whatever answers in its place)
# may send, and what modelgate does about it. A fault proxy (faultproxy.py)
# in front of Debian's docker-registry on loopback plays the hostile part.
#
# Where credentials go: upload Locations, blob redirects and a bearer realm
# on another host (127.0.0.2, another address of this machine, which logs
# whether an Authorization header arrived) get no credentials (a token
# realm gets them, as it should), over HTTPS (a certificate made here) or
# plain HTTP; a way from HTTPS to plain HTTP is refused (exit 3, naming
# both URLs) unless --insecure allows it.
#
# Endless streams: a manifest, a blob, an error body, a token or a tag
# list that never ends is read up to its bound (4 MiB for a manifest, the
# descriptor's size for a blob, 64 KiB of an error body or of a token
# service's answer, 16 MiB for a page of a list) and no further: exit 3
# naming what was too long (an error answer is what its status says), within
# a time bound (`timeout` turns a hang into a failure), the proxy's log
# shows that the client hung up at the bound, and nothing is kept.
#
# Lying sizes: a blob longer or shorter than its descriptor, a
# Content-Length larger than the body, a manifest whose layer sizes are not
# the blobs': exit 3 naming the blob, nothing kept (no file, no temporary
# file, fsck clean); a HEAD that says a blob is there with another size
# than the one pushed does not stop the upload.
#
# Link loops and endless lists stop (a link back, a page of nothing new,
# a link to another host, more than 10000 pages), exit 3; a manifest of
# more layers than the cap (4,096) is refused, exit 2, and one of 3,000
# layers is pulled with bounded descriptors.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_registry.sh"

fixtures
export SOURCE_DATE_EPOCH=1700000000
unset MODELGATE_REGISTRY_USER MODELGATE_REGISTRY_PASSWORD CI_REGISTRY CI_REGISTRY_USER \
	CI_REGISTRY_PASSWORD GITHUB_TOKEN MODELGATE_INSECURE_REGISTRIES
export DOCKER_CONFIG=$TEST_TMP/docker
CAP=4096
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
# what the endless and lying answers spoil: a blob of 1 MiB and a small one
make_blob "$FX/weights.bin" 1
WSHA=sha256:$(sha256_of "$FX/weights.bin")
WSIZE=$(stat -c %s "$FX/weights.bin")
must mg push --insecure "$REG/team/f:v1" "$FX/weights.bin" "$FX/model.onnx"
# the local store has another version under the same tag
must mg push f:v1 "$FX/model_v2.onnx"
DL=$(cat "$OUT")
# a tag list of 25 tags, for the Link loops
must mg push --insecure "$REG/team/many:t1" "$FX/model.onnx"
for i in $(seq 2 25); do
	must mg tag --insecure "$REG/team/many:t1" "t$i"
done
echo "file 0" >f0000.txt

# A manifest of N layers, all the one blob of team/one:v1 under their own
# titles, PUT straight to the registry as team/huge:N.
must mg push "$REG/team/one:v1" f0000.txt
curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
	"http://$REG/v2/team/one/manifests/v1" >one.json || fail "cannot read team/one:v1"
put_layers() {
	"$PY" -c 'import json, sys
m = json.load(sys.stdin)
layer = m["layers"][0]
m["layers"] = [dict(layer, annotations={"org.opencontainers.image.title": "f%05d" % i})
               for i in range(int(sys.argv[1]))]
json.dump(m, sys.stdout)' "$1" <one.json >"huge$1.json"
	# the registry finds the blobs in team/huge
	curl -sf -X POST "http://$REG/v2/team/huge/blobs/uploads/?mount=$(json_get 'j["layers"][0]["digest"]' one.json)&from=team/one" -o /dev/null &&
		curl -sf -X POST "http://$REG/v2/team/huge/blobs/uploads/?mount=$(json_get 'j["config"]["digest"]' one.json)&from=team/one" -o /dev/null &&
		curl -sf -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
			--data-binary "@huge$1.json" "http://$REG/v2/team/huge/manifests/n$1" -o /dev/null ||
		fail "cannot put a manifest of $1 layers"
}
put_layers $((CAP + 1))
put_layers $CAP
put_layers 3000

# via MODE: a proxy with MODE in front of the registry, plain HTTP, no
# credentials asked
via() {
	proxy_start "$1"
	export MODELGATE_INSECURE_REGISTRIES="$REG,$PROXY"
}

# list_requests: the tag list requests in the proxy log
list_requests() {
	grep '^GET /v2/team/many/tags/list' "$PROXY_LOG" || true
}

# mg_bounded ARGS...: modelgate that may take 60 s at most: a hang is exit
# 124, which no check expects
mg_bounded() { timeout 60 "$MODELGATE" "$@"; }

# client_hung_up_within BYTES: the proxy's endless answer ended because the
# client hung up, after at most BYTES bytes
client_hung_up_within() {
	local line sent
	line=$(grep '^endless ' "$PROXY_LOG" | head -1)
	[ -n "$line" ] || fail "no endless answer was sent: $(cat "$PROXY_LOG")"
	case $line in *" not stopped") fail "the client did not hang up: $line" ;; esac
	sent=${line##* sent }
	[ "$sent" -le "$1" ] || fail "the client read $sent bytes, more than $1: $line"
}

# store_as_it_was: the local tag f:v1 did not move, the spoilt blob was not
# stored, no temporary file is left and fsck finds nothing wrong
store_as_it_was() {
	expect_exit 0 mg ls --json f
	json_ok "[e['digest'] for e in j if e['tag'] == 'v1'] == ['$DL']"
	[ ! -e "$(blob_path "$WSHA")" ] || fail "the blob was stored"
	[ -z "$(temp_files)" ] || fail "temporary files left: $(temp_files)"
	expect_exit 0 mg fsck
}

# pulled_nothing DIR: a refused pull left no file in DIR
pulled_nothing() {
	[ -z "$(ls -A "$1" 2>/dev/null)" ] || fail "files left in $1/: $(ls -A "$1")"
}

# ---- credentials -------------------------------------------------------------

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

# ---- endless streams -----------------------------------------------------------

t_endless_manifest_stops_at_4_mib_exit_3() {
	via endlessmanifest
	expect_exit 3 mg_bounded pull "$PROXY/team/f:v1" -o out-manifest
	expect_error "'$PROXY'" "more than 4194304 bytes" "/team/f/manifests/v1"
	client_hung_up_within $((16 << 20))
	pulled_nothing out-manifest
	expect_exit 3 mg_bounded copy "$PROXY/team/f:v1" f:v1
	expect_error "more than 4194304 bytes"
	store_as_it_was
}

t_endless_blob_stops_at_its_size_exit_3() {
	via endlessblob
	expect_exit 3 mg_bounded pull "$PROXY/team/f:v1" -o out-blob
	expect_error "blob $WSHA is longer than the $WSIZE bytes its descriptor says" "nothing was kept"
	client_hung_up_within $((WSIZE + (16 << 20)))
	pulled_nothing out-blob
	expect_exit 3 mg_bounded copy "$PROXY/team/f:v1" f:v1
	expect_error "blob $WSHA is longer than"
	store_as_it_was
}

# an error answer whose body never ends: what the status says, after at most
# 64 KiB of the body (and not a dropped connection, retried)
t_endless_error_bodies_are_cut_short() {
	via endlesserror:404
	expect_exit 2 mg_bounded pull "$PROXY/team/f:v1" -o out-404
	expect_error "tag 'v1' not found in repository 'team/f'" "404"
	client_hung_up_within $((16 << 20))
	[ "$(grep -c '^endless ' "$PROXY_LOG")" -eq 1 ] || fail "the 404 was asked for again: $(cat "$PROXY_LOG")"
	pulled_nothing out-404
	proxy_stop
	via endlesserror:401
	expect_exit 2 mg_bounded inspect "$PROXY/team/f:v1"
	expect_error "registry '$PROXY' wants credentials for repository 'team/f' (401)"
	client_hung_up_within $((16 << 20))
	proxy_stop
	via endlesserror:500
	expect_exit 3 mg_bounded copy "$PROXY/team/f:v1" f:v1
	expect_error "'$PROXY' answered 500 to GET /v2/team/f/manifests/v1" "after 5 attempt(s)"
	[ "$(grep -c '^endless .* sent ' "$PROXY_LOG")" -eq 5 ] ||
		fail "expected 5 answers, each hung up on: $(cat "$PROXY_LOG")"
	store_as_it_was
}

t_endless_token_stops_at_64_kib_exit_3() {
	fake endlesstoken plain bearer
	expect_exit 3 mg_bounded ls "$PROXY/team/f"
	expect_error "the token service of registry '$PROXY' sent more than 65536 bytes"
	client_hung_up_within $((16 << 20))
	[ "$(grep -c '^endless ' "$PROXY_LOG")" -eq 1 ] || fail "the token was asked for again: $(cat "$PROXY_LOG")"
	no_secret_in_output
}

t_endless_tag_list_stops_at_16_mib_exit_3() {
	via endlesstags
	expect_exit 3 mg_bounded ls "$PROXY/team/f"
	expect_error "'$PROXY'" "more than 16777216 bytes" "/team/f/tags/list"
	client_hung_up_within $((32 << 20))
}

# ---- lying sizes ---------------------------------------------------------------

t_blob_longer_or_shorter_than_its_descriptor_exit_3() {
	via bloblong
	expect_exit 3 mg_bounded pull "$PROXY/team/f:v1" -o out-long
	expect_error "blob $WSHA is longer than the $WSIZE bytes its descriptor says" "nothing was kept"
	pulled_nothing out-long
	proxy_stop
	via blobshort
	expect_exit 3 mg_bounded copy "$PROXY/team/f:v1" f:v1
	expect_error "blob $WSHA ended after $((WSIZE / 2)) of $WSIZE bytes" "nothing was kept"
	store_as_it_was
}

# a Content-Length larger than the body, the connection closed: the rest is
# asked for with Range, and what the registry has is all there is
t_content_length_larger_than_the_blob_exit_3() {
	via bloblies
	expect_exit 3 mg_bounded pull "$PROXY/team/f:v1" -o out-lies
	expect_error "registry '$PROXY' announced more of 'weights.bin' than it has: asked for the" \
		"rest after $WSIZE bytes, it answered 416"
	grep -q "^GET /v2/team/f/blobs/$WSHA 0 416 bytes=$WSIZE-\$" "$PROXY_LOG" ||
		fail "the rest was not asked for: $(cat "$PROXY_LOG")"
	pulled_nothing out-lies
	expect_exit 3 mg_bounded copy "$PROXY/team/f:v1" f:v1
	expect_error "announced more of 'weights.bin'" "it answered 416"
	store_as_it_was
}

# a manifest whose layer sizes are not its blobs' sizes (its digest not sent,
# so nothing else gives it away)
t_layer_sizes_that_lie_exit_3() {
	via layersize:-1
	expect_exit 3 mg_bounded pull "$PROXY/team/f:v1" -o out-sizes
	expect_error "blob sha256:" "is longer than the" "bytes its descriptor says" "nothing was kept"
	pulled_nothing out-sizes
	proxy_stop
	via layersize:1
	expect_exit 3 mg_bounded copy "$PROXY/team/f:v1" f:v1
	expect_error "blob sha256:" "ended after" "nothing was kept"
	# one byte less than the descriptor says
	sed -n 's/.* ended after \([0-9]*\) of \([0-9]*\) bytes.*/\1 \2/p' "$ERR" |
		awk '$2 != $1 + 1 { exit 1 }' || fail "not the size the manifest gave plus 1"
	store_as_it_was
}

# a HEAD that says every blob is there, with a size of 1: blobs of another
# size are sent all the same, and the push is whole
t_head_that_lies_about_a_blob_does_not_stop_its_upload() {
	via headlies
	expect_exit 0 mg_bounded push "$PROXY/team/head:v1" "$FX/weights.bin" "$FX/model_v2.onnx"
	grep -q '^PUT /v2/team/head/blobs/uploads/' "$PROXY_LOG" || fail "no blob was uploaded: $(cat "$PROXY_LOG")"
	expect_exit 0 mg pull "$REG/team/head:v1" -o out
	expect_same_file "$FX/weights.bin" out/weights.bin
	expect_same_file "$FX/model_v2.onnx" out/model_v2.onnx
}

# ---- Link loops and endless lists ---------------------------------------------------

# a Link that leaves the registry is not followed; an endless list stops
t_links_elsewhere_or_forever_exit_3() {
	via pageelsewhere
	MODELGATE_PAGE_SIZE=10 expect_exit 3 mg ls "$PROXY/team/many"
	expect_error "elsewhere.example"
	[ "$(list_requests | wc -l)" -eq 1 ] || fail "the Link to another host was followed: $(list_requests)"
	proxy_stop
	via pageforever
	MODELGATE_PAGE_SIZE=10 expect_exit 3 mg ls "$PROXY/team/many"
	expect_error "more than 10000 pages"
	[ "$(list_requests | wc -l)" -eq 10000 ] || fail "expected 10000 pages, got $(list_requests | wc -l)"
	proxy_stop
}

# a Link back to a page asked for before, or a page of nothing new with a
# Link to yet another, stops at once with an error naming the link (such a
# registry used to be asked again and again, up to the 10000-page bound)
t_link_loops_stop_at_once_exit_3() {
	via pageloop
	MODELGATE_PAGE_SIZE=10 expect_exit 3 mg ls "$PROXY/team/many"
	expect_error "sent a link back to a page of the tag list it sent before" "/team/many/tags/list?n=10'"
	[ "$(list_requests | wc -l)" -eq 3 ] || fail "expected the 3 pages and no more: $(list_requests)"
	proxy_stop
	via pagesame
	MODELGATE_PAGE_SIZE=10 expect_exit 3 mg ls "$PROXY/team/many"
	expect_error "sent a page of the tag list with nothing new on it" "page="
	[ "$(list_requests | wc -l)" -eq 2 ] || fail "expected 2 pages and no more: $(list_requests)"
	proxy_stop
}
t_pull_refuses_too_many_layers() {
	expect_exit 2 mg pull "$REG/team/huge:n$((CAP + 1))" -o huge
	expect_error "lists $((CAP + 1)) layers" "more than the $CAP"
	[ -z "$(ls -A huge 2>/dev/null)" ] || fail "the refused pull left files in huge/"
	MODELGATE_HOME=$TEST_TMP/store2 expect_exit 2 mg copy "$REG/team/huge:n$((CAP + 1))" huge:v1
	expect_error "lists $((CAP + 1)) layers" "more than the $CAP"
	[ ! -d "$TEST_TMP/store2/blobs" ] || [ "$(count_blobs "$TEST_TMP/store2")" -eq 0 ] ||
		fail "the refused copy stored blobs"
	expect_exit 2 mg inspect "$REG/team/huge:n$((CAP + 1))"
	expect_error "lists $((CAP + 1)) layers"
}

t_manifest_at_the_cap_is_read() {
	expect_exit 0 mg inspect --json "$REG/team/huge:n$CAP"
	json_ok "len(j['manifest']['layers']) == $CAP"
}

# 3,000 layers (the size of a manifest that once made 3,001 threads): pulled
# under `ulimit -n 256`
t_pull_of_3000_layers_under_fd_limit() {
	expect_exit 0 bash -c 'ulimit -n 256 && exec "$0" "$@"' "$MODELGATE" pull "$REG/team/huge:n3000" -o out3000
	[ "$(ls out3000 | wc -l)" -eq 3000 ] || fail "$(ls out3000 | wc -l) files pulled, expected 3000"
	expect_same_file f0000.txt out3000/f02999
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
check "an endless manifest stops at 4 MiB, exit 3" t_endless_manifest_stops_at_4_mib_exit_3
check "an endless blob stops at its size, exit 3" t_endless_blob_stops_at_its_size_exit_3
check "endless error bodies are cut short" t_endless_error_bodies_are_cut_short
check "an endless token stops at 64 KiB, exit 3" t_endless_token_stops_at_64_kib_exit_3
check "an endless tag list stops at 16 MiB, exit 3" t_endless_tag_list_stops_at_16_mib_exit_3
check "a blob longer or shorter than its descriptor, exit 3" \
	t_blob_longer_or_shorter_than_its_descriptor_exit_3
check "a Content-Length larger than the blob, exit 3" t_content_length_larger_than_the_blob_exit_3
check "layer sizes that lie, exit 3" t_layer_sizes_that_lie_exit_3
check "a HEAD that lies about a blob does not stop its upload" \
	t_head_that_lies_about_a_blob_does_not_stop_its_upload
check "Links elsewhere or forever, exit 3" t_links_elsewhere_or_forever_exit_3
check "Link loops stop at once, exit 3" t_link_loops_stop_at_once_exit_3
check "a manifest of more layers than the cap is refused, exit 2" t_pull_refuses_too_many_layers
check "a manifest of as many layers as the cap is read" t_manifest_at_the_cap_is_read
check "3000 layers pull under a limit of 256 descriptors" t_pull_of_3000_layers_under_fd_limit
finish
