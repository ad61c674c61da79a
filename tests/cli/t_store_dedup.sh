# Content addressing: the same bytes are stored once, whatever their tag,
# repository or file name; gc frees exactly what no tag reaches.
. "$(dirname "$0")/lib.sh"

fixtures
MODEL_SHA=sha256:$(sha256_of "$FX/model.onnx")
X_SHA=sha256:$(sha256_of "$FX/x.npy")
must mg push digits:v1 "$FX/model.onnx"
MODEL_BLOB=$(blob_path "$MODEL_SHA")
MODEL_STAT=$(stat -c '%i %y %s' "$MODEL_BLOB")

# blobs_identical_to FILE: how many blob files hold exactly FILE's bytes.
blobs_identical_to() {
	local n=0 b
	for b in "$(blobdir)"/*; do
		cmp -s "$b" "$1" && n=$((n + 1))
	done
	echo "$n"
}

# expect_only_small_json_blobs_added BEFORE: every blob not listed in the
# file BEFORE is a manifest or config (JSON, small), never a file blob.
expect_only_small_json_blobs_added() {
	local b
	for b in $(blob_names | LC_ALL=C comm -13 "$1" -); do
		[ "$(stat -c %s "$(blobdir)/$b")" -lt 65536 ] || fail "new blob $b is large: a file was stored again"
		json_ok 'isinstance(j, dict) and ("format" in j or j.get("mediaType") == "application/vnd.oci.image.manifest.v1+json")' \
			"$(blobdir)/$b"
	done
	temp_files | grep -q . && fail "temporary files left in the store: $(temp_files)"
	return 0
}

expect_model_blob_untouched() {
	[ "$(stat -c '%i %y %s' "$MODEL_BLOB")" = "$MODEL_STAT" ] ||
		fail "the model blob was rewritten (inode/mtime/size changed)"
}

t_same_file_other_tag() {
	blob_names >"$IO/before"
	expect_exit 0 mg push --json digits:v1-again "$FX/model.onnx"
	json_ok 'j["files_new"] == 0 and j["files_existed"] == 1'
	expect_only_small_json_blobs_added "$IO/before"
	expect_model_blob_untouched
	[ "$(blobs_identical_to "$FX/model.onnx")" -eq 1 ] || fail "the model's bytes are stored more than once"
}

t_same_file_other_repo() {
	blob_names >"$IO/before"
	expect_exit 0 mg push --json team/other:v1 "$FX/model.onnx"
	json_ok 'j["files_new"] == 0 and j["files_existed"] == 1'
	expect_only_small_json_blobs_added "$IO/before"
	expect_model_blob_untouched
	expect_exit 0 mg inspect --json team/other:v1
	json_ok "j['manifest']['layers'][0]['digest'] == '$MODEL_SHA'"
}

t_same_bytes_other_name() {
	mkdir -p renamed && cp "$FX/model.onnx" renamed/classifier.onnx
	blob_names >"$IO/before"
	expect_exit 0 mg push --json third:v1 renamed/classifier.onnx
	json_ok 'j["files_new"] == 0 and j["files_existed"] == 1'
	expect_only_small_json_blobs_added "$IO/before"
	expect_model_blob_untouched
	[ "$(blobs_identical_to "$FX/model.onnx")" -eq 1 ] || fail "the model's bytes are stored more than once"
	expect_exit 0 mg pull third:v1 -o third
	expect_same_file "$FX/model.onnx" third/classifier.onnx
	expect_no_file third/model.onnx
}

t_json_counts_new_and_existing() {
	expect_exit 0 mg push --json pair:v1 "$FX/model.onnx" "$FX/x.npy"
	json_ok 'j["files_new"] == 1 and j["files_existed"] == 1'
	expect_exit 0 mg push --json pair:v2 "$FX/x.npy" "$FX/model.onnx"
	json_ok 'j["files_new"] == 0 and j["files_existed"] == 2'
	expect_model_blob_untouched
	[ "$(blobs_identical_to "$FX/x.npy")" -eq 1 ] || fail "x.npy is stored more than once"
	expect_exit 0 mg push --json fresh:v1 "$FX/y.npy"
	json_ok 'j["files_new"] == 1 and j["files_existed"] == 0'
}

# Every tag in ls pulls byte-identical to the source it was pushed from.
expect_tags_pull() { # name:file...
	local spec ref file dir
	for spec in "$@"; do
		ref=${spec%%=*}
		file=${spec#*=}
		dir=pulled-$(echo "$ref" | tr '/:' '__')
		rm -rf "$dir"
		expect_exit 0 mg pull -q "$ref" -o "$dir"
		expect_same_file "$file" "$dir/$(basename "$file")"
	done
}

t_gc_frees_only_unreferenced() {
	blob_names >"$IO/before"
	local sizes_before=$IO/sizes
	(cd "$(blobdir)" && stat -c '%n %s' -- *) >"$sizes_before"
	# pair:v1 and pair:v2 are the only tags reaching x.npy
	expect_exit 0 mg rm pair:v1 pair:v2 fresh:v1
	expect_exit 0 mg gc --json
	blob_names >"$IO/after"
	LC_ALL=C comm -23 "$IO/before" "$IO/after" >"$IO/removed"
	json_ok "j['blobs_removed'] == $(wc -l <"$IO/removed") and j['blobs_kept'] == $(count_blobs)"
	local bytes
	bytes=$(grep -Ff "$IO/removed" "$sizes_before" | awk '{s += $2} END {print s + 0}')
	json_ok "j['bytes_removed'] == $bytes"
	expect_no_file "$(blob_path "$X_SHA")"
	expect_no_file "$(blob_path "sha256:$(sha256_of "$FX/y.npy")")"
	expect_model_blob_untouched
	LC_ALL=C comm -13 "$IO/before" "$IO/after" | grep -q . && fail "gc added blobs"
	expect_tags_pull "digits:v1=$FX/model.onnx" "digits:v1-again=$FX/model.onnx" \
		"team/other:v1=$FX/model.onnx" "third:v1=renamed/classifier.onnx"
	expect_exit 0 mg fsck
	expect_stdout_contains " 0 problem(s)"
	# a second gc has nothing left to do
	expect_exit 0 mg gc --json
	json_ok 'j["blobs_removed"] == 0 and j["bytes_removed"] == 0'
}

t_gc_keeps_shared_until_last_tag() {
	expect_exit 0 mg rm digits:v1 digits:v1-again team/other:v1
	expect_exit 0 mg gc
	expect_model_blob_untouched
	expect_tags_pull "third:v1=renamed/classifier.onnx"
	expect_exit 0 mg fsck
	expect_exit 0 mg rm third:v1
	expect_exit 0 mg gc --json
	json_ok 'j["blobs_kept"] == 0 and j["blobs_removed"] > 0'
	expect_no_file "$MODEL_BLOB"
	[ -z "$(blob_names)" ] || fail "blobs left after every tag was removed: $(blob_names | tr '\n' ' ')"
	expect_exit 0 mg ls --json
	json_ok 'j == []'
	expect_exit 0 mg fsck --json
	json_ok 'j["blobs_checked"] == 0 and j["problems"] == 0'
	# and the emptied store takes the file again
	expect_exit 0 mg push --json back:v1 "$FX/model.onnx"
	json_ok 'j["files_new"] == 1'
	expect_tags_pull "back:v1=$FX/model.onnx"
}

check same_file_other_tag_adds_no_file_blob t_same_file_other_tag
check same_file_other_repo_adds_no_file_blob t_same_file_other_repo
check same_bytes_other_name_stored_once t_same_bytes_other_name
check push_json_counts_new_and_existing_files t_json_counts_new_and_existing
check gc_frees_only_unreferenced_blobs t_gc_frees_only_unreferenced
check gc_keeps_shared_blob_until_last_tag t_gc_keeps_shared_until_last_tag
finish
