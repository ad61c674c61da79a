# modelgate against a real registry (Debian's docker-registry, plain HTTP on
# loopback): push, ls, inspect, pull, tag, rm and copy in every direction,
# with skopeo as the independent client both ways, and a second push that
# sends no blob bytes. Plain HTTP needs no --insecure on loopback names only.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_registry.sh"

fixtures
export SOURCE_DATE_EPOCH=1700000000
registry_start
export MODELGATE_INSECURE_REGISTRIES=$REG
MODEL_SHA=sha256:$(sha256_of "$FX/model.onnx")
must mg push "$REG/team/digits:v1" "$FX/model.onnx"
D1=$(cat "$OUT")
must mg push "$REG/team/digits:v2" "$FX/model_v2.onnx" "$FX/x.npy" "$FX/y.npy"
D2=$(cat "$OUT")

t_push_prints_digest_skopeo_reads_it() {
	[[ $D1 =~ $DIGEST_RE ]] || fail "push printed '$D1', not a digest"
	expect_exit 0 skopeo inspect --raw --tls-verify=false "docker://$REG/team/digits:v1"
	[ "sha256:$(sha256sum <"$OUT" | cut -d' ' -f1)" = "$D1" ] || fail "skopeo's manifest does not hash to $D1"
	json_ok 'j["artifactType"] == "application/vnd.modelgate.model.v1"'
	json_ok 'j["layers"][0]["annotations"]["org.opencontainers.image.title"] == "model.onnx"'
	json_ok "j['layers'][0]['digest'] == '$MODEL_SHA'"
	# skopeo copies it into an OCI layout; the layer is the file
	expect_exit 0 skopeo copy --src-tls-verify=false "docker://$REG/team/digits:v2" "oci:$TEST_TMP/sk:v2"
	expect_file "$TEST_TMP/sk/blobs/sha256/$(sha256_of "$FX/model_v2.onnx")"
}

t_ls_and_inspect_remote() {
	expect_exit 0 mg ls "$REG/team/digits"
	expect_stdout_matches "^$REG/team/digits +v1 +${D1:0:19} +model "
	expect_stdout_matches "^$REG/team/digits +v2 +${D2:0:19} +model "
	expect_exit 0 mg ls --json "$REG/team/digits"
	json_ok "sorted(e['tag'] for e in j) == ['v1', 'v2'] and j[0]['digest'] == '$D1'"
	expect_exit 0 mg inspect "$REG/team/digits:v1"
	expect_stdout_matches "^Digest: +$D1\$"
	expect_stdout_matches '^Format: +onnx$'
	expect_stdout_matches "^ +model\\.onnx .* $MODEL_SHA\$"
	expect_exit 0 mg inspect --raw "$REG/team/digits:v1"
	[ "sha256:$(head -c -1 "$OUT" | sha256sum | cut -d' ' -f1)" = "$D1" ] || fail "--raw is not the manifest"
	expect_exit 0 mg inspect --json "$REG/team/digits@$D2"
	json_ok "j['digest'] == '$D2' and len(j['manifest']['layers']) == 3"
}

t_pull_restores_files() {
	expect_exit 0 mg pull "$REG/team/digits:v2" -o out
	expect_same_file "$FX/model_v2.onnx" out/model_v2.onnx
	expect_same_file "$FX/x.npy" out/x.npy
	expect_same_file "$FX/y.npy" out/y.npy
	expect_stdout_contains "out/x.npy"
	[ -z "$(ls -A out | grep '^\.tmp-')" ] || fail "temporary files left in out/"
}

t_copy_remote_to_store_and_back() {
	expect_exit 0 mg copy "$REG/team/digits:v2" digits:v2
	[ "$(cat "$OUT")" = "$D2" ] || fail "copy printed $(cat "$OUT"), expected $D2"
	expect_exit 0 mg fsck
	expect_exit 0 mg pull digits:v2 -o local
	expect_same_file "$FX/x.npy" local/x.npy
	expect_exit 0 mg copy --json digits:v2 "$REG/other/digits:v2"
	json_ok "j['digest'] == '$D2' and j['blobs_copied'] == 4"
	# the same again: nothing to send
	expect_exit 0 mg copy --json digits:v2 "$REG/other/digits:v2"
	json_ok "j['blobs_copied'] == 0 and j['blobs_skipped'] == 4"
	# registry to registry, same registry: blobs are mounted
	expect_exit 0 mg copy --json "$REG/team/digits:v1" "$REG/mounted/digits:v1"
	json_ok "j['blobs_mounted'] == 2 and j['blobs_copied'] == 0"
	expect_exit 0 skopeo inspect --raw --tls-verify=false "docker://$REG/mounted/digits:v1"
}

t_skopeo_push_modelgate_pull() {
	must mg push digits:v1 "$FX/model.onnx"
	expect_exit 0 skopeo copy --dest-tls-verify=false "oci:$MODELGATE_HOME:digits:v1" \
		"docker://$REG/fromskopeo/digits:v1"
	expect_exit 0 mg pull "$REG/fromskopeo/digits:v1" -o fromsk
	expect_same_file "$FX/model.onnx" fromsk/model.onnx
}

t_tag_and_rm_remote() {
	expect_exit 0 mg tag "$REG/team/digits:v1" prod
	expect_exit 0 mg ls "$REG/team/digits"
	expect_stdout_matches "^$REG/team/digits +prod +${D1:0:19} "
	# distribution cannot delete a tag alone, and prod shares its manifest with v1
	expect_exit 2 mg rm "$REG/team/digits:prod"
	expect_error "cannot delete the tag 'prod' alone" "'v1'"
	expect_exit 0 mg tag "$REG/team/digits:v2" "$REG/scratch/digits:only"
	expect_exit 0 mg rm "$REG/scratch/digits:only"
	expect_exit 2 mg pull "$REG/scratch/digits:only" -o gone
	expect_error "tag 'only' not found" "'scratch/digits'" "'$REG'"
}

t_unknown_tag_is_exit_2_naming_everything() {
	expect_exit 2 mg pull "$REG/team/digits:v9" -o nowhere
	expect_error "tag 'v9' not found in repository 'team/digits' on registry '$REG'"
	expect_no_file nowhere/model.onnx
	expect_exit 2 mg copy "$REG/team/digits:v9" digits:v9
	expect_error "tag 'v9'"
}

t_second_push_sends_no_blob_bytes() {
	proxy_start pass
	local via=$PROXY
	export MODELGATE_INSECURE_REGISTRIES="$REG,$via"
	make_blob "$TEST_TMP/fx/weights.bin" 3
	expect_exit 0 mg push "$via/team/big:v1" "$TEST_TMP/fx/weights.bin"
	local first
	first=$(upload_bytes "$PROXY_LOG")
	[ "$first" -ge $((3 * 1048576)) ] || fail "the first push sent $first blob bytes"
	: >"$PROXY_LOG"
	expect_exit 0 mg push "$via/team/big:v1" "$TEST_TMP/fx/weights.bin"
	[ "$(upload_bytes "$PROXY_LOG")" -eq 0 ] || fail "the second push sent $(upload_bytes "$PROXY_LOG") blob bytes"
	! grep -q '^\(POST\|PATCH\) ' "$PROXY_LOG" || fail "the second push started an upload"
	grep -q '^HEAD .*/blobs/sha256:' "$PROXY_LOG" || fail "the second push did not ask with HEAD"
	proxy_stop
}

# a large file the digest cache does not know goes while it is hashed, and
# the upload stops once the registry is found to have it; unless the tag
# pushed to holds a layer of its size (then it is hashed first)
t_large_push_hashes_while_sending() {
	proxy_start pass
	export MODELGATE_INSECURE_REGISTRIES="$REG,$PROXY"
	make_blob "$TEST_TMP/fx/large.bin" 65
	local sha n
	sha=sha256:$(sha256_of "$TEST_TMP/fx/large.bin")
	expect_exit 0 mg push "$PROXY/team/large:v1" "$TEST_TMP/fx/large.bin"
	n=$(upload_bytes "$PROXY_LOG")
	[ "$n" -ge $((65 * 1048576)) ] || fail "the first push sent $n blob bytes"
	expect_exit 0 mg inspect --json "$REG/team/large:v1"
	json_ok "j['manifest']['layers'][0]['digest'] == '$sha'"
	expect_exit 0 mg pull "$REG/team/large:v1" -o "$TEST_TMP/large-out"
	expect_same_file "$TEST_TMP/fx/large.bin" "$TEST_TMP/large-out/large.bin"
	# a copy the digest cache does not know, of a blob the registry has:
	# the upload stops once the digest is known, and is cancelled
	cp "$TEST_TMP/fx/large.bin" "$TEST_TMP/fx/copy.bin"
	: >"$PROXY_LOG"
	expect_exit 0 mg push "$PROXY/team/large:v2" "$TEST_TMP/fx/copy.bin"
	n=$(upload_bytes "$PROXY_LOG")
	[ "$n" -lt $((65 * 1048576)) ] || fail "the push of a blob the registry has sent all $n bytes"
	grep -q '^DELETE .*/blobs/uploads/' "$PROXY_LOG" || fail "the needless upload was not cancelled"
	expect_exit 0 mg inspect --json "$REG/team/large:v2"
	json_ok "j['manifest']['layers'][0]['digest'] == '$sha'"
	# a fresh machine (no digest cache) pushing again to a tag that holds a
	# layer of the file's size: hashed first, asked for, nothing sent
	: >"$PROXY_LOG"
	MODELGATE_DIGEST_CACHE=off expect_exit 0 mg push "$PROXY/team/large:v1" "$TEST_TMP/fx/copy.bin"
	[ "$(upload_bytes "$PROXY_LOG")" -eq 0 ] || fail "the repeated push sent $(upload_bytes "$PROXY_LOG") blob bytes"
	! grep -q '^\(POST\|PATCH\) ' "$PROXY_LOG" || fail "the repeated push started an upload"
	grep -q "^HEAD .*/blobs/$sha " "$PROXY_LOG" || fail "the repeated push did not ask with HEAD"
	proxy_stop
}

t_digest_cache_knows_files_and_sees_changes() {
	local f=$TEST_TMP/fx/cached.bin d1 d2
	make_blob "$f" 2
	touch -d '1 minute ago' "$f"
	sleep 2.1 # its ctime is now; a file changed in the last 2 s is not remembered
	d1=sha256:$(sha256_of "$f")
	expect_exit 0 mg push "$REG/team/cached:v1" "$f"
	grep -q " $d1\$" "$MODELGATE_DIGEST_CACHE" || fail "the digest cache does not know '$f'"
	# same size, same mtime, other bytes: the ctime tells
	make_blob "$f" 2
	touch -d '1 minute ago' "$f"
	d2=sha256:$(sha256_of "$f")
	expect_exit 0 mg push "$REG/team/cached:v2" "$f"
	expect_exit 0 mg inspect --json "$REG/team/cached:v2"
	json_ok "j['manifest']['layers'][0]['digest'] == '$d2'"
	# a file changed just now is not remembered (it may change again within the clock tick)
	make_blob "$f" 2
	expect_exit 0 mg push "$REG/team/cached:v3" "$f"
	! grep -q " sha256:$(sha256_of "$f")\$" "$MODELGATE_DIGEST_CACHE" || fail "a racy file was remembered"
}

# a registry named by a loopback name (localhost, 127.0.0.0/8) may answer in
# plain HTTP without --insecure, as with docker
t_loopback_plain_http_without_insecure() {
	local port=${REG#localhost:} r
	unset MODELGATE_INSECURE_REGISTRIES
	for r in "$REG" "127.0.0.1:$port"; do
		expect_exit 0 mg push "$r/team/loop:v1" "$FX/model.onnx"
		rm -rf loop
		expect_exit 0 mg pull "$r/team/loop:v1" -o loop
		expect_same_file "$FX/model.onnx" loop/model.onnx
	done
	expect_exit 0 mg copy "127.0.0.1:$port/team/loop:v1" loop:v1
	expect_exit 0 mg copy loop:v1 "$REG/team/loop:v2"
}

# any other name needs --insecure for plain HTTP: 0.0.0.0 is not a loopback
# name, though Linux connects it to 127.0.0.1 (the same registry)
t_not_insecure_refuses_plain_http() {
	local other=0.0.0.0:${REG#localhost:}
	MODELGATE_INSECURE_REGISTRIES= expect_exit 3 mg ls "$other/team/digits"
	expect_error "TLS" "'$other'" "--insecure"
	MODELGATE_INSECURE_REGISTRIES=$other expect_exit 0 mg ls "$other/team/digits"
	MODELGATE_INSECURE_REGISTRIES= expect_exit 0 mg --insecure ls "$other/team/digits"
	MODELGATE_INSECURE_REGISTRIES= expect_exit 0 mg ls --insecure "$other/team/digits"
}

t_progress_lines_unless_quiet() {
	make_blob "$TEST_TMP/fx/p1.bin" 2
	MODELGATE_PROGRESS_INTERVAL=0 expect_exit 0 mg push "$REG/team/progress:v1" "$TEST_TMP/fx/p1.bin"
	grep -qE '^uploading p1\.bin: [0-9.]+ [KM]iB / 2\.0 MiB  [0-9.]+ [A-Za-z]+/s' "$ERR" || fail "no progress line on stderr"
	[ "$(grep -cE '^uploaded p1\.bin: 2\.0 MiB in [0-9.]+s \([0-9.]+ [A-Za-z]+/s\)$' "$ERR")" -eq 1 ] ||
		fail "not one closing line for p1.bin"
	expect_stdout_matches "$DIGEST_RE"
	# a pull says it downloads, and closes the file with one line
	MODELGATE_PROGRESS_INTERVAL=0 expect_exit 0 mg pull "$REG/team/progress:v1" -o prog-seen
	grep -qE '^downloading p1\.bin: [0-9.]+ ([KM]i)?B / 2\.0 MiB' "$ERR" || fail "no downloading line"
	[ "$(grep -cE '^downloaded p1\.bin: 2\.0 MiB in ' "$ERR")" -eq 1 ] || fail "not one closing line for p1.bin"
	MODELGATE_PROGRESS_INTERVAL=0 expect_exit 0 mg pull -q "$REG/team/progress:v1" -o prog
	expect_stderr_empty
	expect_stdout_empty
	expect_same_file "$TEST_TMP/fx/p1.bin" prog/p1.bin
}

# A damaged blob in the store: a copy fetches again one of another size;
# one of the same size (which a copy does not hash) fsck --repair removes
# with its tag, and the copy then restores both.
t_copy_restores_a_damaged_store() {
	export MODELGATE_HOME=$TEST_TMP/damaged
	must mg copy "$REG/team/digits:v2" digits:v2
	local blob
	blob=$(blob_path "sha256:$(sha256_of "$FX/x.npy")")
	printf 'junk' >>"$blob"
	expect_exit 0 mg copy "$REG/team/digits:v2" digits:v2
	expect_same_file "$FX/x.npy" "$blob"
	expect_exit 0 mg fsck
	"$PY" -c 'import sys
with open(sys.argv[1], "r+b") as f:
    f.seek(100); b = f.read(1); f.seek(100); f.write(bytes([b[0] ^ 1]))' "$blob"
	expect_exit 1 mg fsck --repair
	expect_stdout_contains "removed tag 'digits:v2'"
	expect_exit 0 mg copy "$REG/team/digits:v2" digits:v2
	expect_exit 0 mg fsck
	expect_exit 0 mg pull digits:v2 -o restored
	expect_same_file "$FX/x.npy" restored/x.npy
}

# a registry's text (artifact type, file titles, annotations) reaches the
# terminal with its control characters as \xHH: no escape byte on stdout
# or stderr of ls, inspect or pull
t_registry_text_escaped_on_the_terminal() {
	curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
		"http://$REG/v2/team/digits/manifests/v1" >v1.json || fail "cannot read team/digits:v1"
	"$PY" -c 'import json, sys
m = json.load(sys.stdin)
m["artifactType"] = "application/x\x1b[2Jevil"
m["layers"][0]["annotations"]["org.opencontainers.image.title"] = "evil\x1b]0;pwned\x07.onnx"
m["annotations"] = {"note": "red\x1b[31mtext\nnext line"}
json.dump(m, sys.stdout)' <v1.json >evil.json
	curl -sf -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
		--data-binary @evil.json "http://$REG/v2/team/digits/manifests/evil" -o /dev/null ||
		fail "cannot put the manifest"
	local esc
	esc=$(printf '\033')
	expect_exit 0 mg inspect "$REG/team/digits:evil"
	expect_stdout_contains 'Type:       application/x\x1b[2Jevil'
	expect_stdout_contains 'evil\x1b]0;pwned\x07.onnx'
	expect_stdout_contains 'note: red\x1b[31mtext\x0anext line'
	! grep -q "$esc" "$OUT" || fail "an escape byte reached stdout of inspect"
	expect_exit 0 mg ls "$REG/team/digits"
	expect_stdout_matches "^$REG/team/digits +evil "
	! grep -q "$esc" "$OUT" || fail "an escape byte reached stdout of ls"
	mg pull "$REG/team/digits:evil" -o pulled >"$OUT" 2>"$ERR"
	! grep -q "$esc" "$OUT" "$ERR" || fail "an escape byte reached the terminal from pull"
	curl -sf -X DELETE "http://$REG/v2/team/digits/manifests/sha256:$(sha256_of evil.json)" \
		-o /dev/null || true
}

check progress_lines_unless_quiet t_progress_lines_unless_quiet
check push_prints_digest_skopeo_reads_it t_push_prints_digest_skopeo_reads_it
check ls_and_inspect_remote t_ls_and_inspect_remote
check pull_restores_files t_pull_restores_files
check copy_remote_to_store_and_back t_copy_remote_to_store_and_back
check copy_restores_a_damaged_store t_copy_restores_a_damaged_store
check skopeo_push_modelgate_pull t_skopeo_push_modelgate_pull
check tag_and_rm_remote t_tag_and_rm_remote
check unknown_tag_is_exit_2_naming_everything t_unknown_tag_is_exit_2_naming_everything
check second_push_sends_no_blob_bytes t_second_push_sends_no_blob_bytes
check large_push_hashes_while_sending t_large_push_hashes_while_sending
check digest_cache_knows_files_and_sees_changes t_digest_cache_knows_files_and_sees_changes
check loopback_plain_http_without_insecure t_loopback_plain_http_without_insecure
check not_insecure_refuses_plain_http t_not_insecure_refuses_plain_http
check registry_text_escaped_on_the_terminal t_registry_text_escaped_on_the_terminal
finish
