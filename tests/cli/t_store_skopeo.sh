# The store is a real OCI image layout: skopeo and umoci read what modelgate
# writes, and modelgate reads what skopeo writes.
. "$(dirname "$0")/lib.sh"

need skopeo skopeo
need umoci umoci
fixtures
MODEL_SHA=sha256:$(sha256_of "$FX/model.onnx")
X_SHA=sha256:$(sha256_of "$FX/x.npy")
must mg push digits:v1 "$FX/model.onnx"
D1=$(cat "$OUT")
must mg push digits:v2 "$FX/model_v2.onnx" "$FX/x.npy"
D2=$(cat "$OUT")
must mg inspect --json digits:v1
CFG1=$(json_get 'j["manifest"]["config"]["digest"]')
export HOME=$TEST_TMP/home # skopeo and umoci read nothing of the caller's
mkdir -p "$HOME"

t_skopeo_reads_manifest() {
	expect_exit 0 skopeo inspect --raw "oci:$MODELGATE_HOME:digits:v1"
	[ "sha256:$(sha256_of "$OUT")" = "$D1" ] || fail "skopeo's raw manifest is not the bytes of $D1"
	json_ok 'j["mediaType"] == "application/vnd.oci.image.manifest.v1+json"'
	json_ok 'j["artifactType"] == "application/vnd.modelgate.model.v1"'
	json_ok "j['config'] == {'mediaType': 'application/vnd.modelgate.config.v1+json', 'digest': '$CFG1', 'size': $(stat -c %s "$(blob_path "$CFG1")")}"
	json_ok "[(l['digest'], l['annotations']['org.opencontainers.image.title']) for l in j['layers']] == [('$MODEL_SHA', 'model.onnx')]"
	expect_exit 0 skopeo inspect --raw "oci:$MODELGATE_HOME:digits:v2"
	json_ok "[l['annotations']['org.opencontainers.image.title'] for l in j['layers']] == ['model_v2.onnx', 'x.npy']"
}

t_skopeo_reads_config() {
	expect_exit 0 skopeo inspect --config --raw "oci:$MODELGATE_HOME:digits:v1"
	[ "sha256:$(sha256_of "$OUT")" = "$CFG1" ] || fail "skopeo's raw config is not the bytes of $CFG1"
	json_ok 'j["format"] == "onnx" and j["inputs"][0]["shape"] == ["batch", 64]'
}

t_skopeo_copy_out() {
	local other=$TEST_TMP/other
	expect_exit 0 skopeo copy "oci:$MODELGATE_HOME:digits:v2" "oci:$other:copied"
	for b in "$D2" "$X_SHA"; do
		expect_same_file "$(blob_path "$b")" "$(blob_path "$b" "$other")"
	done
	expect_exit 0 umoci ls --layout "$MODELGATE_HOME"
	expect_stdout_matches '^digits:v1$'
	expect_stdout_matches '^digits:v2$'
	expect_exit 0 umoci ls --layout "$other"
	expect_stdout_matches '^copied$'
	# our store is as it was: skopeo only read it
	expect_exit 0 mg fsck
	expect_stdout_contains " 0 problem(s)"
}

t_modelgate_reads_skopeo_layout() {
	local sk=$TEST_TMP/from-skopeo
	expect_exit 0 skopeo copy "oci:$MODELGATE_HOME:digits:v2" "oci:$sk:team/digits:v9"
	expect_exit 0 skopeo copy "oci:$MODELGATE_HOME:digits:v1" "oci:$sk:bare"
	export MODELGATE_HOME=$sk
	expect_exit 0 mg ls
	expect_stdout_matches "^team/digits +v9 +${D2:0:19} "
	expect_stdout_matches "^bare +"
	expect_exit 0 mg pull team/digits:v9 -o out9
	expect_same_file "$FX/model_v2.onnx" out9/model_v2.onnx
	expect_same_file "$FX/x.npy" out9/x.npy
	# skopeo names an entry "bare" without a tag: the implicit tag finds it
	expect_exit 0 mg pull bare -o outbare
	expect_same_file "$FX/model.onnx" outbare/model.onnx
	expect_exit 0 mg inspect --json team/digits:v9
	json_ok "j['digest'] == '$D2' and j['config']['format'] == 'onnx'"
	expect_exit 0 mg fsck --json
	json_ok 'j["problems"] == 0 and j["details"] == []'
	# modelgate edits the layout skopeo wrote, and skopeo still reads it
	expect_exit 0 mg tag team/digits:v9 v10
	expect_exit 0 mg push added:v1 "$FX/y.npy"
	expect_exit 0 mg gc --json
	json_ok 'j["blobs_removed"] == 0'
	expect_exit 0 skopeo inspect --raw "oci:$sk:team/digits:v10"
	[ "sha256:$(sha256_of "$OUT")" = "$D2" ] || fail "skopeo reads another manifest under the new tag"
	expect_exit 0 skopeo inspect --raw "oci:$sk:bare"
	[ "sha256:$(sha256_of "$OUT")" = "$D1" ] || fail "the 'bare' entry changed"
}

t_skopeo_writes_into_our_store() {
	local sk=$TEST_TMP/side
	expect_exit 0 skopeo copy "oci:$MODELGATE_HOME:digits:v1" "oci:$sk:tmp"
	expect_exit 0 skopeo copy "oci:$sk:tmp" "oci:$MODELGATE_HOME:imported:v1"
	expect_exit 0 mg ls
	expect_stdout_matches "^imported +v1 +${D1:0:19} "
	expect_stdout_matches "^digits +v2 +${D2:0:19} "
	expect_exit 0 mg pull imported:v1 -o imp
	expect_same_file "$FX/model.onnx" imp/model.onnx
	expect_exit 0 mg rm digits:v1
	expect_exit 0 mg gc
	expect_exit 0 mg pull imported:v1 -o imp2
	expect_same_file "$FX/model.onnx" imp2/model.onnx
	expect_exit 0 mg fsck
	expect_stdout_contains " 0 problem(s)"
}

check skopeo_reads_our_manifest t_skopeo_reads_manifest
check skopeo_reads_our_config t_skopeo_reads_config
check skopeo_copy_out_and_umoci_ls t_skopeo_copy_out
check modelgate_reads_a_layout_skopeo_wrote t_modelgate_reads_skopeo_layout
check skopeo_writes_into_our_store t_skopeo_writes_into_our_store
finish
