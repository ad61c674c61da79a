# Faults between modelgate and a registry, injected by tests/cli/faultproxy.py
# in front of a real docker-registry: a connection dropped half-way through a
# blob (resumed with Range), 503 and 429 with Retry-After (retried after the
# time asked for; a permanent one fails with exit 3 after bounded retries), a
# flipped byte (exit 3 naming both digests, nothing kept), and a pull killed
# mid-transfer: the local store is as it was (fsck clean, no tag moved). A
# monolithic upload whose connection drops is sent again. Uploads in chunks
# (MODELGATE_CHUNK_SIZE makes the 4 MiB blob go in four) whose PATCH stops
# half-way: they go on from where the registry's answer says it stopped; with
# the answer lost, from where it says when asked, or from the start when it no
# longer knows the upload; when it cannot say, exit 3 and nothing is tagged.
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

t_dropped_monolithic_upload_is_sent_again() {
	make_blob small.bin 2
	local sha=sha256:$(sha256_of small.bin)
	via dropput
	expect_exit 0 mg push "$PROXY/team/put:v1" small.bin
	grep -q "^PUT .*/blobs/uploads/.*digest=$sha 2097152 dropped " "$PROXY_LOG" ||
		fail "no upload was dropped"
	grep -q "^PUT .*/blobs/uploads/.*digest=$sha 2097152 201 " "$PROXY_LOG" ||
		fail "the upload was not sent again: $(grep PUT "$PROXY_LOG")"
	proxy_stop
	expect_exit 0 mg pull "$REG/team/put:v1" -o put-out
	expect_same_file small.bin put-out/small.bin
}

t_429_waits_as_told() {
	via 429:2
	local start=$SECONDS
	expect_exit 0 mg inspect "$PROXY/team/f:v1"
	expect_stdout_matches "^Digest: +$DR\$"
	[ "$(grep -c ' 429 ' "$PROXY_LOG")" -eq 2 ] || fail "expected 2 answers of 429"
	# Retry-After: 2, twice: the backoff of its own (0.5 s, 1 s) would be shorter
	[ $((SECONDS - start)) -ge 4 ] || fail "the retries did not wait the 2 s Retry-After asked for"
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

# blobs of 64 MiB and more are written around the page cache (O_DIRECT): the
# same resume and the same refusal of bad bytes
t_large_blob_resumed_or_refused() {
	make_blob big.bin 65
	local sha=sha256:$(sha256_of big.bin)
	expect_exit 0 mg push --insecure "$REG/team/big:v1" big.bin
	via drop
	expect_exit 0 mg pull "$PROXY/team/big:v1" -o out
	expect_same_file big.bin out/big.bin
	grep -q "^GET .*/blobs/$sha 0 206 bytes=[1-9][0-9]*-\$" "$PROXY_LOG" ||
		fail "no resumed GET with Range in the proxy log: $(grep blobs "$PROXY_LOG")"
	proxy_stop
	via corrupt
	expect_exit 3 mg pull "$PROXY/team/big:v1" -o bad
	expect_error "blob $sha was corrupted in transfer" "nothing was kept"
	[ -z "$(ls -A bad 2>/dev/null)" ] || fail "files left in bad/: $(ls -A bad)"
	proxy_stop
}

# a disk that fills up half-way through a large blob: exit 3 naming the
# cause, no partial file, a store on that disk as it was
t_large_blob_onto_a_full_disk() {
	[ "$(id -u)" = 0 ] || fail "this check mounts a tmpfs and needs root"
	make_blob big.bin 65
	expect_exit 0 mg push --insecure "$REG/team/full:v1" big.bin
	local disk=$TEST_TMP/full-disk
	mkdir -p "$disk"
	mount -t tmpfs -o size=32m tmpfs "$disk" || fail "cannot mount a tmpfs on '$disk'"
	# (expanded now: the function's locals are gone when the check's subshell exits)
	trap "umount '$disk' 2>/dev/null" EXIT
	expect_exit 3 mg pull --insecure "$REG/team/full:v1" -o "$disk/out"
	expect_stderr_contains "No space left on device"
	[ -z "$(ls -A "$disk/out" 2>/dev/null)" ] || fail "pull left files: $(ls -A "$disk/out")"
	export MODELGATE_HOME=$disk/store
	expect_exit 0 mg push f:v0 "$FX/model.onnx"
	snapshot "$MODELGATE_HOME" >before
	expect_exit 3 mg copy --insecure "$REG/team/full:v1" f:v1
	expect_stderr_contains "No space left on device"
	expect_unchanged before "$MODELGATE_HOME"
	expect_exit 0 mg fsck
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
	local pid=$!
	wait_stalled
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	local_tag_unchanged
	expect_exit 0 mg gc
	[ -z "$(temp_files)" ] || fail "gc left temporary files"
	proxy_stop
}

# upload_events: the proxy log from the cut PATCH on, one word each: cut,
# status (a GET on an upload URL, with its answer), post, patch (with its
# Content-Range), put
upload_events() {
	awk '/^cut / { on = 1; print "cut"; next }
		on && $1 == "GET" && $2 ~ /\/blobs\/uploads\// { print "status " $4 }
		on && $1 == "POST" { print "post" }
		on && $1 == "PATCH" { print "patch " $5 }
		on && $1 == "PUT" && $2 ~ /\/blobs\/uploads\// { print "put " $4 }' "$PROXY_LOG"
}

# landed_end: the last byte of the cut PATCH that reached the registry
landed_end() {
	sed -n 's/^cut [0-9]*-\([0-9]*\) of [0-9]*$/\1/p' "$PROXY_LOG"
}

# pushed_intact REPO: the registry (asked directly, not through the proxy)
# has REPO:v1 with weights.bin byte for byte, for modelgate and for skopeo
pushed_intact() {
	expect_exit 0 mg pull "$REG/$1:v1" -o "back-$1"
	expect_same_file "$FX/weights.bin" "back-$1/weights.bin"
	expect_exit 0 skopeo copy --src-tls-verify=false "docker://$REG/$1:v1" "oci:$TEST_TMP/sk-${1##*/}:v1"
	expect_same_file "$FX/weights.bin" "$TEST_TMP/sk-${1##*/}/blobs/sha256/${WSHA#sha256:}"
}

t_cut_patch_resumes_mid_chunk() {
	via droppatch
	MODELGATE_CHUNK_SIZE=1048576 expect_exit 0 mg push "$PROXY/team/up:v1" "$FX/weights.bin"
	local end
	end=$(landed_end)
	[ -n "$end" ] || fail "the proxy cut no PATCH: $(grep '^PATCH' "$PROXY_LOG")"
	[ $(((end + 1) % 1048576)) -ne 0 ] || fail "the cut PATCH ended on a chunk boundary"
	# asked where it stopped (204, Range: 0-$end), went on from the next
	# byte, in the same upload, and finished it
	[ "$(upload_events | head -2 | tr '\n' ' ')" = "cut status 204 " ] ||
		fail "no status request answered 204 after the cut: $(upload_events)"
	upload_events | sed -n 3p | grep -q "^patch $((end + 1))-[0-9]*\$" ||
		fail "the upload did not go on from byte $((end + 1)): $(upload_events)"
	upload_events | grep -q '^put 201$' || fail "the upload was not finished: $(upload_events)"
	[ "$(upload_events | sed -n '2,/^put/p' | grep -c '^post')" -eq 0 ] ||
		fail "a new upload was started: $(upload_events)"
	pushed_intact team/up
}

t_short_patch_goes_on_from_its_range() {
	# the registry kept half of a chunk and said so in its answer: the next
	# PATCH starts there, with the answer's upload URL, no status request
	via shortpatch
	MODELGATE_CHUNK_SIZE=1048576 expect_exit 0 mg push "$PROXY/team/up4:v1" "$FX/weights.bin"
	local end
	end=$(landed_end)
	[ -n "$end" ] || fail "the proxy cut no PATCH"
	upload_events | sed -n 2p | grep -q "^patch $((end + 1))-[0-9]*\$" ||
		fail "the upload did not go on from byte $((end + 1)): $(upload_events)"
	! upload_events | sed '/^put/q' | grep -q '^\(status\|post\)' ||
		fail "the upload was not simply continued: $(upload_events)"
	pushed_intact team/up4
}

t_cut_patch_on_distribution_starts_over() {
	# distribution answers 404 to an upload URL older than its last answer,
	# and the answer with the newer one was lost: the upload starts over
	via droppatch-raw
	MODELGATE_CHUNK_SIZE=1048576 expect_exit 0 mg push "$PROXY/team/up2:v1" "$FX/weights.bin"
	[ -n "$(landed_end)" ] || fail "the proxy cut no PATCH"
	[ "$(upload_events | head -4 | tr '\n' ' ')" = "cut status 404 post patch 0-1048575 " ] ||
		fail "the upload did not start over after the 404: $(upload_events)"
	upload_events | grep -q '^put 201$' || fail "the upload was not finished: $(upload_events)"
	pushed_intact team/up2
}

t_cut_patch_without_status_exit_3_nothing_tagged() {
	via droppatch-nostatus
	MODELGATE_CHUNK_SIZE=1048576 expect_exit 3 mg push -q "$PROXY/team/up3:v1" "$FX/weights.bin"
	expect_error "the upload of 'weights.bin' to repository 'team/up3' on registry '$PROXY' was" \
		"cannot say where it stopped" "503"
	[ "$(upload_events | grep -c '^status 503$')" -ge 2 ] || fail "the status request was not retried"
	! grep -q '^PUT .*/manifests/' "$PROXY_LOG" || fail "a manifest was pushed"
	grep -q '^DELETE .*/blobs/uploads/' "$PROXY_LOG" || fail "the upload was not cancelled"
	# the registry itself has neither the tag nor the blob in team/up3
	[ "$(curl -s -o /dev/null -w '%{http_code}' "http://$REG/v2/team/up3/manifests/v1")" = 404 ] ||
		fail "team/up3:v1 exists"
	[ "$(curl -s -o /dev/null -w '%{http_code}' -I "http://$REG/v2/team/up3/blobs/$WSHA")" = 404 ] ||
		fail "the blob is in team/up3"
}

check dropped_download_resumes_with_range t_dropped_download_resumes_with_range
check dropped_copy_into_store_resumes t_dropped_copy_into_store_resumes
check large_blob_resumed_or_refused t_large_blob_resumed_or_refused
check large_blob_onto_a_full_disk t_large_blob_onto_a_full_disk
check 503_retried_then_ok t_503_retried_then_ok
check dropped_monolithic_upload_is_sent_again t_dropped_monolithic_upload_is_sent_again
check 429_waits_as_told t_429_waits_as_told
check permanent_503_fails_exit_3 t_permanent_503_fails_exit_3
check corrupt_byte_exit_3_nothing_kept t_corrupt_byte_exit_3_nothing_kept
check killed_pull_leaves_store_as_it_was t_killed_pull_leaves_store_as_it_was
check cut_patch_resumes_mid_chunk t_cut_patch_resumes_mid_chunk
check short_patch_goes_on_from_its_range t_short_patch_goes_on_from_its_range
check cut_patch_on_distribution_starts_over t_cut_patch_on_distribution_starts_over
check cut_patch_without_status_exit_3_nothing_tagged t_cut_patch_without_status_exit_3_nothing_tagged
finish
