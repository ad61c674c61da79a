# A damaged store: corrupt, missing and misnamed blobs, and a broken
# index.json. fsck finds each (exit 1), reading refuses bad bytes (exit 3)
# and never leaves them, or a partial file, at the destination. Pushing the
# same bytes again replaces a damaged blob; fsck --repair removes what
# cannot be read, so that a push restores it.
. "$(dirname "$0")/lib.sh"

fixtures
MODEL_SHA=sha256:$(sha256_of "$FX/model.onnx")
X_SHA=sha256:$(sha256_of "$FX/x.npy")
must mg push digits:v1 "$FX/model.onnx"
D1=$(cat "$OUT")
must mg push digits:v2 "$FX/model_v2.onnx" "$FX/x.npy"
D2=$(cat "$OUT")
must mg inspect --json digits:v1
CFG1=$(json_get 'j["manifest"]["config"]["digest"]')
cp -a "$MODELGATE_HOME" "$TEST_TMP/pristine"

# use_copy NAME: MODELGATE_HOME becomes a fresh copy of the set-up store.
use_copy() {
	rm -rf "$TEST_TMP/$1"
	cp -a "$TEST_TMP/pristine" "$TEST_TMP/$1"
	export MODELGATE_HOME=$TEST_TMP/$1
}

# flip_byte FILE OFFSET: inverts the lowest bit of one byte in place.
flip_byte() {
	"$PY" -c 'import sys
p, o = sys.argv[1], int(sys.argv[2])
with open(p, "r+b") as f:
    f.seek(o); b = f.read(1); f.seek(o); f.write(bytes([b[0] ^ 1]))' "$1" "$2" || fail "cannot flip a byte of $1"
}

t_fsck_finds_corrupt_blob() {
	use_copy corrupt1
	local blob
	blob=$(blob_path "$MODEL_SHA")
	flip_byte "$blob" 1000
	local actual=sha256:$(sha256_of "$blob")
	[ "$actual" != "$MODEL_SHA" ] || fail "the flip did not change the digest"
	expect_exit 1 mg fsck
	expect_stdout_contains "corrupt"
	expect_stdout_contains "$MODEL_SHA"
	expect_stdout_contains "$actual"
	expect_stdout_matches '1 problem'
	expect_exit 1 mg fsck --json
	json_ok "j['problems'] == 1 and j['blobs_checked'] == $(count_blobs)"
	json_ok "[(p['kind'], p['digest'], p['actual']) for p in j['details']] == [('corrupt', '$MODEL_SHA', '$actual')]"
	# putting the byte back makes the store whole again
	flip_byte "$blob" 1000
	expect_exit 0 mg fsck
	expect_exit 0 mg pull digits:v1 -o restored
	expect_same_file "$FX/model.onnx" restored/model.onnx
}

t_pull_refuses_corrupt_blob() {
	use_copy corrupt2
	local blob
	blob=$(blob_path "$MODEL_SHA")
	flip_byte "$blob" 5000
	local actual=sha256:$(sha256_of "$blob")
	# into an empty folder: nothing is left there, not even a temporary file
	mkdir empty
	expect_exit 3 mg pull digits:v1 -o empty
	expect_error "$MODEL_SHA" "$actual"
	[ -z "$(ls -A empty)" ] || fail "pull left '$(ls -A empty | tr '\n' ' ')' in the destination"
	# into a new folder
	expect_exit 3 mg pull digits:v1 -o newdir
	expect_error "$MODEL_SHA" "$actual"
	[ ! -e newdir ] || [ -z "$(ls -A newdir)" ] || fail "pull left '$(ls -A newdir | tr '\n' ' ')' in newdir"
	# over an older copy: the older copy stays as it was
	mkdir older && echo "older version" >older/model.onnx
	expect_exit 3 mg pull digits:v1 -o older --force
	[ "$(cat older/model.onnx)" = "older version" ] || fail "pull replaced the older file with bad bytes"
	[ "$(ls -A older)" = "model.onnx" ] || fail "pull left '$(ls -A older | tr '\n' ' ')' in the destination"
	# the working directory as destination
	mkdir cwd
	(cd cwd && expect_exit 3 mg pull digits:v1) || exit 1
	[ -z "$(ls -A cwd)" ] || fail "pull left '$(ls -A cwd | tr '\n' ' ')' in the working directory"
	# the other version, which does not share the blob, still pulls
	expect_exit 0 mg pull digits:v2 -o v2
	expect_same_file "$FX/x.npy" v2/x.npy
}

t_corrupt_manifest_and_config() {
	use_copy corrupt3
	flip_byte "$(blob_path "$D1")" 10
	expect_exit 3 mg pull digits:v1 -o out
	expect_error "$D1"
	expect_no_file out/model.onnx
	expect_exit 3 mg inspect digits:v1
	expect_error "$D1"
	expect_exit 1 mg fsck
	expect_stdout_contains "$D1"
	# gc cannot tell what a corrupt manifest references: it must keep it all
	local n
	n=$(count_blobs)
	expect_exit 3 mg gc
	expect_error "$D1"
	[ "$(count_blobs)" -eq "$n" ] || fail "gc removed blobs while a manifest was unreadable"

	use_copy corrupt4
	flip_byte "$(blob_path "$CFG1")" 5
	expect_exit 3 mg inspect digits:v1
	expect_error "$CFG1"
	expect_exit 1 mg fsck --json
	json_ok "[(p['kind'], p['digest']) for p in j['details']] == [('corrupt', '$CFG1')]"
}

t_truncated_and_misnamed_blobs() {
	use_copy damaged
	: >"$(blob_path "$X_SHA")"
	echo junk >"$(blobdir)/not-a-digest"
	expect_exit 1 mg fsck
	expect_stdout_contains "$X_SHA"
	expect_stdout_contains "not-a-digest"
	expect_exit 1 mg fsck --json
	json_ok "sorted(p['kind'] for p in j['details']) == ['bad-name', 'corrupt']"
	expect_exit 3 mg pull digits:v2 -o out
	expect_error "$X_SHA"
	expect_no_file out/x.npy
}

t_fsck_finds_missing_blob() {
	use_copy missing1
	rm "$(blob_path "$X_SHA")"
	expect_exit 1 mg fsck
	expect_stdout_contains "missing"
	expect_stdout_contains "$X_SHA"
	expect_stdout_contains "'digits:v2'"
	expect_exit 1 mg fsck --json
	json_ok "[(p['kind'], p['digest'], p['where']) for p in j['details']] == [('missing', '$X_SHA', 'digits:v2')]"
	# a missing manifest: reported with the tag that names it
	rm "$(blob_path "$D1")"
	expect_exit 1 mg fsck --json
	json_ok "('missing', '$D1', 'digits:v1') in [(p['kind'], p['digest'], p['where']) for p in j['details']]"
	json_ok 'j["problems"] == 2'
}

# A tag whose blob is gone is a damaged store, not a bad reference: the user
# typed a tag that exists, so this is exit 3 like a corrupt blob.
t_pull_of_missing_blob() {
	use_copy missing2
	rm "$(blob_path "$X_SHA")"
	expect_exit 3 mg pull digits:v2 -o out
	expect_error "$X_SHA"
	expect_no_file out/x.npy
}

t_corrupt_index() {
	use_copy badindex
	local idx=$MODELGATE_HOME/index.json
	head -c 100 "$TEST_TMP/pristine/index.json" >"$idx"
	cp "$idx" "$IO/index.bad"
	local n cmd
	for cmd in "ls" "pull digits:v1 -o out" "inspect digits:v1" "push new:v1 $FX/model_int8.onnx" \
		"tag digits:v1 t2" "rm digits:v1" "gc" "fsck"; do
		# shellcheck disable=SC2086
		expect_exit 3 mg $cmd
		expect_error "$idx" "not valid JSON" "line "
		cmp -s "$idx" "$IO/index.bad" || fail "'$cmd' rewrote the broken index.json"
	done
	for b in "$D1" "$D2" "$MODEL_SHA" "$X_SHA"; do
		expect_file "$(blob_path "$b")"
	done
	expect_no_file out/model.onnx
	# valid JSON, but not an index
	echo '{"schemaVersion": 2}' >"$idx"
	expect_exit 3 mg ls
	expect_error "$idx" "manifests"
	echo '{"schemaVersion": 2, "manifests": [{"digest": "md5:abc"}]}' >"$idx"
	expect_exit 3 mg pull digits:v1 -o out
	expect_error "$idx"
	n=$(count_blobs)
	expect_exit 3 mg gc
	[ "$(count_blobs)" -eq "$n" ] || fail "gc removed blobs although it could not read the index"
}

# append_bytes FILE TEXT: the blob grows (a damage of another size).
append_bytes() { printf '%s' "$2" >>"$1" || fail "cannot append to $1"; }

t_repush_replaces_corrupt_blob() {
	use_copy repush1
	local blob
	blob=$(blob_path "$MODEL_SHA")
	flip_byte "$blob" 1000 # same size
	expect_exit 1 mg fsck
	expect_exit 0 mg push digits:v3 "$FX/model.onnx"
	expect_same_file "$FX/model.onnx" "$blob"
	expect_exit 0 mg fsck
	expect_stdout_contains "0 problem"
	append_bytes "$blob" "trailing junk" # another size
	expect_exit 0 mg push --json digits:v3 "$FX/model.onnx"
	json_ok "j['files_new'] == 1 and j['files_existed'] == 0"
	expect_same_file "$FX/model.onnx" "$blob"
	expect_exit 0 mg fsck
	expect_exit 0 mg pull digits:v1 -o out
	expect_same_file "$FX/model.onnx" out/model.onnx
	# an intact blob is kept as it is
	expect_exit 0 mg push --json digits:v4 "$FX/model.onnx"
	json_ok "j['files_new'] == 0 and j['files_existed'] == 1"
	[ -z "$(temp_files)" ] || fail "push left '$(temp_files)'"
}

t_repush_replaces_corrupt_manifest() {
	use_copy repush2
	export SOURCE_DATE_EPOCH=1700000000
	must mg push --no-git same:v1 "$FX/model_int8.onnx"
	local d
	d=$(cat "$OUT")
	flip_byte "$(blob_path "$d")" 10
	expect_exit 3 mg pull same:v1 -o out
	expect_error "$d"
	# the same push to the same tag gives the same manifest, which replaces it
	expect_exit 0 mg push --no-git same:v1 "$FX/model_int8.onnx"
	[ "$(cat "$OUT")" = "$d" ] || fail "the push gave $(cat "$OUT"), expected $d"
	expect_exit 0 mg fsck
	expect_exit 0 mg gc
	expect_exit 0 mg pull same:v1 -o out
	expect_same_file "$FX/model_int8.onnx" out/model_int8.onnx
	# a corrupt config blob (small, written whole) is replaced too
	must mg inspect --json same:v1
	local cfg
	cfg=$(json_get 'j["manifest"]["config"]["digest"]')
	append_bytes "$(blob_path "$cfg")" " "
	expect_exit 0 mg push --no-git same:v1 "$FX/model_int8.onnx"
	expect_exit 0 mg fsck
	unset SOURCE_DATE_EPOCH
}

# fsck --repair: exit 1 (problems were found), each removal named; then the
# store is whole, what is left reads, and a push restores what was removed.
t_fsck_repair_removes_what_cannot_be_read() {
	use_copy repair1
	expect_exit 0 mg fsck --repair
	expect_stdout_contains "0 problem(s); removed 0 blob(s) and 0 tag(s)"
	flip_byte "$(blob_path "$MODEL_SHA")" 1000 # the layer of digits:v1
	must mg tag digits:v1 other:v1
	local n
	n=$(count_blobs)
	expect_exit 1 mg fsck --repair
	expect_stdout_contains "corrupt"
	expect_stdout_contains "removed corrupt blob $MODEL_SHA"
	expect_stdout_contains "removed tag 'digits:v1'"
	expect_stdout_contains "removed tag 'other:v1'"
	expect_stdout_contains "1 problem(s); removed 1 blob(s) and 2 tag(s)"
	expect_stdout_not_contains "digits:v2"
	[ "$(count_blobs)" -eq $((n - 1)) ] || fail "repair removed $((n - $(count_blobs))) blob(s), expected 1"
	expect_exit 0 mg fsck
	expect_exit 0 mg ls
	expect_stdout_not_contains "digits:v1"
	expect_exit 0 mg pull digits:v2 -o v2
	expect_same_file "$FX/x.npy" v2/x.npy
	expect_exit 0 mg push digits:v1 "$FX/model.onnx"
	expect_exit 0 mg pull digits:v1 -o v1
	expect_same_file "$FX/model.onnx" v1/model.onnx
	expect_exit 0 mg fsck

	# a corrupt manifest, and a missing blob, in --json
	use_copy repair2
	flip_byte "$(blob_path "$D1")" 10
	rm "$(blob_path "$X_SHA")"
	expect_exit 1 mg fsck --repair --json
	json_ok "j['problems'] == 2"
	json_ok "sorted((r['kind'], r['digest'], r.get('name')) for r in j['removed']) == sorted([('blob', '$D1', None), ('tag', '$D1', 'digits:v1'), ('tag', '$D2', 'digits:v2')])"
	expect_exit 0 mg fsck
	expect_exit 0 mg gc
	expect_exit 0 mg push digits:v2 "$FX/model_v2.onnx" "$FX/x.npy"
	expect_exit 0 mg pull digits:v2 -o v2
	expect_same_file "$FX/x.npy" v2/x.npy
	expect_exit 0 mg fsck
}

check fsck_finds_corrupt_blob t_fsck_finds_corrupt_blob
check pull_refuses_corrupt_blob_and_leaves_nothing t_pull_refuses_corrupt_blob
check corrupt_manifest_and_config t_corrupt_manifest_and_config
check truncated_and_misnamed_blobs t_truncated_and_misnamed_blobs
check fsck_finds_missing_blob_with_tag t_fsck_finds_missing_blob
check pull_of_missing_blob_exits_3 t_pull_of_missing_blob
check corrupt_index_is_a_clear_error t_corrupt_index
check repush_replaces_corrupt_blob_of_same_or_other_size t_repush_replaces_corrupt_blob
check repush_replaces_corrupt_manifest_then_gc_works t_repush_replaces_corrupt_manifest
check fsck_repair_removes_what_cannot_be_read t_fsck_repair_removes_what_cannot_be_read
finish
