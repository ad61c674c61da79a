# Faults between modelgate and a registry, injected by tests/cli/faultproxy.py
# in front of a real docker-registry: a connection dropped half-way through a
# blob (resumed with Range), 503 with Retry-After (retried; a permanent one
# fails with exit 3 after bounded retries), a flipped byte (exit 3 naming both
# digests, nothing kept), and a pull killed mid-transfer: the local store is
# as it was (fsck clean, no tag moved).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_registry.sh"

fixtures
export SOURCE_DATE_EPOCH=1700000000
registry_start
make_blob "$FX/weights.bin" 4
WSHA=sha256:$(sha256_of "$FX/weights.bin")
must mg push --insecure "$REG/team/f:v1" "$FX/weights.bin" "$FX/model.onnx"
DR=$(cat "$OUT")
# the local store has another version under the same tag
must mg push f:v1 "$FX/model_v2.onnx"
DL=$(cat "$OUT")

via() { # MODE: a proxy with MODE in front of the registry
	proxy_start "$1"
	export MODELGATE_INSECURE_REGISTRIES="$REG,$PROXY"
}

local_tag_unchanged() {
	expect_exit 0 mg ls --json f
	json_ok "[e['digest'] for e in j if e['tag'] == 'v1'] == ['$DL']"
	expect_exit 0 mg fsck
	[ ! -e "$(blob_path "$WSHA")" ] || fail "the blob was stored"
}

t_dropped_download_resumes_with_range() {
	via drop
	expect_exit 0 mg pull "$PROXY/team/f:v1" -o out
	expect_same_file "$FX/weights.bin" out/weights.bin
	grep -q "^GET .*/blobs/$WSHA 0 206 bytes=[1-9][0-9]*-\$" "$PROXY_LOG" ||
		fail "no resumed GET with Range in the proxy log: $(grep blobs "$PROXY_LOG")"
	proxy_stop
}

t_dropped_copy_into_store_resumes() {
	export MODELGATE_HOME=$TEST_TMP/store-drop # the other checks need the blob absent
	via drop
	expect_exit 0 mg copy "$PROXY/team/f:v1" g:v1
	[ "$(cat "$OUT")" = "$DR" ] || fail "copy printed $(cat "$OUT"), expected $DR"
	expect_exit 0 mg fsck
	expect_file "$(blob_path "$WSHA")"
	grep -q ' 206 bytes=' "$PROXY_LOG" || fail "the download was not resumed"
	proxy_stop
}

t_503_retried_then_ok() {
	via 503:3
	expect_exit 0 mg inspect "$PROXY/team/f:v1"
	expect_stdout_matches "^Digest: +$DR\$"
	[ "$(grep -c ' 503 ' "$PROXY_LOG")" -eq 3 ] || fail "expected 3 answers of 503"
	proxy_stop
}

t_permanent_503_fails_exit_3() {
	via 503:100000
	expect_exit 3 mg pull "$PROXY/team/f:v1" -o never
	expect_error "registry '$PROXY' answered 503" "attempt"
	local n
	n=$(grep -c ' 503 ' "$PROXY_LOG")
	[ "$n" -ge 2 ] && [ "$n" -le 10 ] || fail "$n attempts: retries are not bounded as expected"
	expect_no_file never/weights.bin
	proxy_stop
}

t_corrupt_byte_exit_3_nothing_kept() {
	via corrupt
	expect_exit 3 mg copy "$PROXY/team/f:v1" f:v1
	expect_error "blob $WSHA was corrupted in transfer: its bytes hash to sha256:" "nothing was kept"
	local_tag_unchanged
	[ -z "$(temp_files)" ] || fail "temporary files left: $(temp_files)"
	expect_exit 3 mg pull "$PROXY/team/f:v1" -o bad
	expect_error "$WSHA" "corrupted"
	expect_no_file bad/weights.bin
	expect_no_file bad/model.onnx
	[ -z "$(ls -A bad 2>/dev/null)" ] || fail "files left in bad/: $(ls -A bad)"
	proxy_stop
}

t_killed_pull_leaves_store_as_it_was() {
	via stall
	"$MODELGATE" copy "$PROXY/team/f:v1" f:v1 >"$OUT" 2>"$ERR" &
	local pid=$! i
	for i in $(seq 400); do
		grep -q '^stalled$' "$PROXY_LOG" && break
		sleep 0.05
	done
	grep -q '^stalled$' "$PROXY_LOG" || fail "the transfer never reached the middle of the blob"
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	local_tag_unchanged
	expect_exit 0 mg gc
	[ -z "$(temp_files)" ] || fail "gc left temporary files"
	proxy_stop
}

check dropped_download_resumes_with_range t_dropped_download_resumes_with_range
check dropped_copy_into_store_resumes t_dropped_copy_into_store_resumes
check 503_retried_then_ok t_503_retried_then_ok
check permanent_503_fails_exit_3 t_permanent_503_fails_exit_3
check corrupt_byte_exit_3_nothing_kept t_corrupt_byte_exit_3_nothing_kept
check killed_pull_leaves_store_as_it_was t_killed_pull_leaves_store_as_it_was
finish
