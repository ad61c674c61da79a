# The local store, one command at a time: push, ls, inspect, pull, tag, rm,
# pull by digest, --json everywhere, help and version, -q.
. "$(dirname "$0")/lib.sh"

fixtures
MODEL_SHA=sha256:$(sha256_of "$FX/model.onnx")
MODEL_SIZE=$(stat -c %s "$FX/model.onnx")

must mg push digits:v1 "$FX/model.onnx"
D1=$(head -n1 "$OUT")
must mg push digits:v2 "$FX/model_v2.onnx" "$FX/x.npy" "$FX/y.npy"
D2=$(head -n1 "$OUT")

t_push_prints_digest() {
	expect_file "$MODELGATE_HOME/oci-layout"
	json_ok 'j["imageLayoutVersion"] == "1.0.0"' "$MODELGATE_HOME/oci-layout"
	json_ok 'j["schemaVersion"] == 2 and len(j["manifests"]) == 2' "$MODELGATE_HOME/index.json"
	json_ok "sorted((m['annotations']['org.opencontainers.image.ref.name'], m['digest']) for m in j['manifests']) == [('digits:v1', '$D1'), ('digits:v2', '$D2')]" \
		"$MODELGATE_HOME/index.json"
	local d
	for d in "$D1" "$D2"; do
		[[ $d =~ $DIGEST_RE ]] || fail "push printed '$d', not a digest"
		expect_file "$(blob_path "$d")"
		# the digest names the manifest bytes as stored
		[ "sha256:$(sha256_of "$(blob_path "$d")")" = "$d" ] || fail "blob $d does not hash to its name"
	done
	# (another tag: the manifest's "created" may differ by a second)
	expect_exit 0 mg push digits:again "$FX/model.onnx"
	[ "$(wc -l <"$OUT")" -eq 1 ] || fail "stdout is not exactly one line"
	expect_stdout_matches "$DIGEST_RE"
	expect_progress_only model.onnx
	expect_file "$(blob_path "$(cat "$OUT")")"
}

t_ls_shows_tags() {
	expect_exit 0 mg ls
	expect_stdout_matches '^REPOSITORY +TAG +DIGEST'
	expect_stdout_matches "^digits +v1 +${D1:0:19} +model "
	expect_stdout_matches "^digits +v2 +${D2:0:19} +model "
	expect_stdout_matches "^digits +again +sha256:[0-9a-f]{12} +model "
	[ "$(wc -l <"$OUT")" -eq 4 ] || fail "ls printed $(wc -l <"$OUT") lines, expected a header and 3 rows"
	expect_exit 0 mg ls digits
	expect_stdout_matches "^digits +v1 "
	expect_exit 0 mg ls otherrepo
	expect_stdout_not_contains "digits"
}

t_inspect_human() {
	expect_exit 0 mg inspect digits:v1
	expect_stdout_matches "^Digest: +$D1\$"
	expect_stdout_matches '^Type: +application/vnd\.modelgate\.model\.v1$'
	expect_stdout_matches '^Format: +onnx$'
	expect_stdout_matches '^Parameters: +[0-9]+$'
	expect_stdout_matches '^ +input +input float32 \[batch,64\]$'
	expect_stdout_matches '^ +output +logits float32 \[batch,10\]$'
	expect_stdout_matches "^ +model\\.onnx .* $MODEL_SHA\$"
	expect_stdout_matches '^ +org\.opencontainers\.image\.created: [0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$'
	expect_exit 0 mg inspect digits:v2
	expect_stdout_contains "model_v2.onnx"
	expect_stdout_contains "x.npy"
	expect_stdout_contains "y.npy"
}

t_inspect_json() {
	local size
	for args in "inspect --json digits:v1" "--json inspect digits:v1"; do
		# shellcheck disable=SC2086
		expect_exit 0 mg $args
		json_ok "j['digest'] == '$D1' and j['reference'] == 'digits:v1'"
		json_ok 'j["manifest"]["mediaType"] == "application/vnd.oci.image.manifest.v1+json"'
		json_ok 'j["manifest"]["artifactType"] == "application/vnd.modelgate.model.v1"'
		json_ok 'j["manifest"]["config"]["mediaType"] == "application/vnd.modelgate.config.v1+json"'
		json_ok 'len(j["manifest"]["layers"]) == 1'
		json_ok "j['manifest']['layers'][0]['digest'] == '$MODEL_SHA'"
		json_ok "j['manifest']['layers'][0]['size'] == $MODEL_SIZE"
		json_ok 'j["manifest"]["layers"][0]["annotations"]["org.opencontainers.image.title"] == "model.onnx"'
		json_ok 'j["config"]["format"] == "onnx"'
		json_ok 'j["config"]["inputs"] == [{"name": "input", "dtype": "float32", "shape": ["batch", 64]}]'
		json_ok 'j["config"]["outputs"] == [{"name": "logits", "dtype": "float32", "shape": ["batch", 10]}]'
		json_ok 'j["config"]["created"] == j["manifest"]["annotations"]["org.opencontainers.image.created"]'
	done
	# the config blob the manifest names holds that config
	local cfg
	cfg=$(json_get 'j["manifest"]["config"]["digest"]')
	size=$(json_get 'j["manifest"]["config"]["size"]')
	[ "$(stat -c %s "$(blob_path "$cfg")")" = "$size" ] || fail "config blob size differs from the manifest's"
	json_ok 'j["format"] == "onnx" and j["inputs"][0]["name"] == "input"' "$(blob_path "$cfg")"
}

t_inspect_raw() {
	expect_exit 0 mg inspect --raw digits:v1
	# the stored manifest bytes plus a newline
	head -c -1 "$OUT" >"$IO/raw"
	[ "sha256:$(sha256_of "$IO/raw")" = "$D1" ] || fail "inspect --raw does not print the manifest bytes of $D1"
	json_ok 'j["schemaVersion"] == 2'
}

t_pull_restores_files() {
	expect_exit 0 mg pull digits:v1 -o out1
	[ "$(cat "$OUT")" = "out1/model.onnx" ] || fail "pull printed '$(cat "$OUT")', expected 'out1/model.onnx'"
	expect_same_file "$FX/model.onnx" out1/model.onnx
	[ "$(ls -A out1)" = "model.onnx" ] || fail "out1 holds '$(ls -A out1 | tr '\n' ' ')', expected only model.onnx"
	expect_exit 0 mg pull -o deep/er/out2 digits:v2
	for f in model_v2.onnx x.npy y.npy; do
		expect_same_file "$FX/$f" "deep/er/out2/$f"
	done
	[ "$(ls -A deep/er/out2 | wc -l)" -eq 3 ] || fail "out2 holds more than the 3 files"
	# without -o: the working directory; an older file there is replaced
	# when forced (t_store_pull_overwrite: refused without --force)
	mkdir -p here && echo old >here/model.onnx
	(cd here && expect_exit 0 mg pull digits:v1 --force) || exit 1
	expect_same_file "$FX/model.onnx" here/model.onnx
	[ "$(ls -A here)" = "model.onnx" ] || fail "pull left other files in the working directory"
}

t_pull_quiet() {
	expect_exit 0 mg -q pull digits:v1 -o q1
	expect_stdout_empty
	expect_stderr_empty
	expect_same_file "$FX/model.onnx" q1/model.onnx
	expect_exit 0 mg pull -q digits:v1 -o q2
	expect_stdout_empty
	expect_same_file "$FX/model.onnx" q2/model.onnx
	expect_exit 0 mg pull --quiet digits:v1 -o q3
	expect_stdout_empty
}

t_tag() {
	expect_exit 0 mg tag digits:v1 stable
	expect_stdout_empty
	expect_exit 0 mg tag digits:v1 mirror/digits:v1
	expect_exit 0 mg ls
	expect_stdout_matches "^digits +stable +${D1:0:19} "
	expect_stdout_matches "^mirror/digits +v1 +${D1:0:19} "
	expect_exit 0 mg pull mirror/digits:v1 -o tagged
	expect_same_file "$FX/model.onnx" tagged/model.onnx
	# moving a tag replaces it
	expect_exit 0 mg tag digits:v2 stable
	expect_exit 0 mg inspect --json digits:stable
	json_ok "j['digest'] == '$D2'"
	json_ok 'sum(1 for m in j["manifests"] if m["annotations"]["org.opencontainers.image.ref.name"] == "digits:stable") == 1' \
		"$MODELGATE_HOME/index.json"
	expect_exit 0 mg tag --json digits:v1 stable
	json_ok "j == {'name': 'digits:stable', 'digest': '$D1'}"
	expect_exit 0 mg tag "digits@$D2" bydigest
	expect_exit 0 mg inspect --json digits:bydigest
	json_ok "j['digest'] == '$D2'"
	expect_exit 2 mg tag digits:nosuch newtag
	expect_error "digits:nosuch"
	expect_exit 2 mg tag digits:v1 'bad tag'
	expect_error "bad tag"
	expect_exit 2 mg tag digits:v1 "other@$D1"
	expect_exit 2 mg tag digits:v1
}

t_rm() {
	expect_exit 0 mg tag digits:v1 doomed
	expect_exit 0 mg rm digits:doomed
	expect_stdout_contains "digits:doomed"
	expect_exit 0 mg ls
	expect_stdout_not_contains "doomed"
	expect_exit 2 mg pull digits:doomed -o gone
	expect_error "digits:doomed"
	expect_no_file gone/model.onnx
	expect_exit 2 mg rm digits:doomed
	expect_error "digits:doomed"
	# the version itself is still there under its other tag
	expect_exit 0 mg pull digits:v1 -o kept
	expect_same_file "$FX/model.onnx" kept/model.onnx
	# rm by digest removes every tag of that repository pointing at it
	expect_exit 0 mg tag digits:v2 a
	expect_exit 0 mg tag digits:v2 b
	expect_exit 0 mg tag digits:v2 other:c
	expect_exit 0 mg rm "digits@$D2"
	expect_exit 0 mg ls
	grep -qE "^digits +(v2|a|b) " "$OUT" && fail "a tag of digits@$D2 survived rm by digest"
	expect_stdout_matches "^other +c +${D2:0:19} "
	# and -q keeps rm quiet
	expect_exit 0 mg -q rm other:c
	expect_stdout_empty
}

t_pull_by_digest() {
	expect_exit 0 mg pull "digits@$D1" -o bydigest
	expect_same_file "$FX/model.onnx" bydigest/model.onnx
	expect_exit 0 mg inspect --json "digits@$D1"
	json_ok "j['digest'] == '$D1'"
	local absent=sha256:0000000000000000000000000000000000000000000000000000000000000000
	expect_exit 2 mg pull "digits@$absent" -o nothing
	expect_error "$absent"
	expect_no_file nothing/model.onnx
}

t_implicit_latest_tag() {
	expect_exit 0 mg push plain "$FX/model_int8.onnx"
	expect_exit 0 mg ls plain
	expect_stdout_matches '^plain +latest '
	expect_exit 0 mg pull plain -o latest
	expect_same_file "$FX/model_int8.onnx" latest/model_int8.onnx
	expect_exit 0 mg pull plain:latest -o latest2
	expect_same_file "$FX/model_int8.onnx" latest2/model_int8.onnx
}

t_push_options() {
	expect_exit 0 mg push --artifact-type dataset data:v1 "$FX/x.npy" "$FX/y.npy"
	expect_exit 0 mg ls data
	expect_stdout_matches '^data +v1 .* dataset '
	expect_exit 0 mg inspect --json data:v1
	json_ok 'j["manifest"]["artifactType"] == "application/vnd.modelgate.dataset.v1"'
	json_ok 'j["config"]["format"] == "unknown"'
	json_ok '[l["annotations"]["org.opencontainers.image.title"] for l in j["manifest"]["layers"]] == ["x.npy", "y.npy"]'
	expect_exit 0 mg push --annotation io.example.team=vision -a io.example.eq=a=b ann:v1 "$FX/model.onnx"
	expect_exit 0 mg inspect --json ann:v1
	json_ok 'j["manifest"]["annotations"]["io.example.team"] == "vision"'
	json_ok 'j["manifest"]["annotations"]["io.example.eq"] == "a=b"'
	expect_exit 2 mg push --artifact-type nonsense bad:v1 "$FX/model.onnx"
	expect_error "nonsense"
	expect_exit 0 mg -v push verbose:v1 "$FX/model.onnx"
	expect_stdout_matches "$DIGEST_RE"
	expect_stderr_contains "verbose:v1"
}

t_json_outputs() {
	expect_exit 0 mg push --json js:v1 "$FX/model.onnx" "$FX/x.npy"
	json_ok "j['reference'] == 'js:v1' and j['files_new'] + j['files_existed'] == 2"
	json_ok "__import__('re').match('$DIGEST_RE', j['digest']) is not None"
	local d
	d=$(json_get 'j["digest"]')
	json_ok "j['size'] == $(stat -c %s "$(blob_path "$d")")"
	expect_exit 0 mg --json push js:v2 "$FX/model.onnx"
	json_ok "j['files_new'] == 0 and j['files_existed'] == 1"

	expect_exit 0 mg ls --json
	json_ok 'isinstance(j, list) and len(j) >= 3'
	json_ok "{'repository': 'digits', 'tag': 'v1', 'digest': '$D1', 'artifact_type': 'application/vnd.modelgate.model.v1', 'size': $MODEL_SIZE} in [{k: e[k] for k in ('repository', 'tag', 'digest', 'artifact_type', 'size')} for e in j]"
	json_ok "all(__import__('re').match('[0-9]{4}-[0-9]{2}-[0-9]{2}T', e['created']) for e in j)"
	expect_exit 0 mg --json ls js
	json_ok "sorted(e['tag'] for e in j) == ['v1', 'v2'] and all(e['repository'] == 'js' for e in j)"

	expect_exit 0 mg pull --json js:v1 -o jsout
	json_ok "j['reference'] == 'js:v1' and j['digest'] == '$d' and j['directory'] == 'jsout'"
	json_ok "[(f['name'], f['digest'], f['size']) for f in j['files']] == [('model.onnx', '$MODEL_SHA', $MODEL_SIZE), ('x.npy', 'sha256:$(sha256_of "$FX/x.npy")', $(stat -c %s "$FX/x.npy"))]"
	expect_same_file "$FX/x.npy" jsout/x.npy

	expect_exit 0 mg tag js:v1 js:gone1
	expect_exit 0 mg tag js:v1 js:gone2
	expect_exit 0 mg rm --json js:gone1 "js@$d"
	json_ok "j == {'removed': [{'reference': 'js:gone1', 'tags_removed': 1}, {'reference': 'js@$d', 'tags_removed': 2}]}"
	expect_exit 0 mg ls --json js
	json_ok "[e['tag'] for e in j] == ['v2']"

	expect_exit 0 mg gc --json
	json_ok 'all(isinstance(j[k], int) for k in ("blobs_removed", "bytes_removed", "temporary_files_removed", "blobs_kept"))'
	json_ok "j['blobs_kept'] == $(count_blobs)"

	expect_exit 0 mg fsck --json
	json_ok "j['blobs_checked'] == $(count_blobs) and j['problems'] == 0 and j['details'] == []"
	expect_exit 0 mg --json fsck
	json_ok 'j["problems"] == 0'
}

t_fsck_and_gc_human() {
	expect_exit 0 mg fsck
	expect_stdout_matches "^checked $(count_blobs) blob\\(s\\): 0 problem\\(s\\)\$"
	expect_exit 0 mg gc
	expect_stdout_matches '^removed [0-9]+ blob\(s\)'
	expect_exit 0 mg -q gc
	expect_stdout_empty
	expect_exit 2 mg gc extra
	expect_exit 2 mg fsck extra
}

t_readers_leave_no_store_behind() {
	local none="$TEST_TMP/no-store"
	MODELGATE_HOME="$none" expect_exit 0 mg ls
	expect_stdout_matches '^REPOSITORY +TAG +DIGEST'
	[ "$(wc -l <"$OUT")" -eq 1 ] || fail "ls of no store printed rows"
	MODELGATE_HOME="$none" expect_exit 0 mg --json ls
	json_ok 'j == []' "$OUT"
	MODELGATE_HOME="$none" expect_exit 0 mg fsck
	expect_stdout_matches '^checked 0 blob\(s\): 0 problem\(s\)$'
	MODELGATE_HOME="$none" expect_exit 0 mg gc
	[ ! -e "$none" ] || fail "ls, fsck or gc created a store at $none"
	# a folder that is not a store is still refused, and left as it was
	mkdir -p "$TEST_TMP/not-store" && echo keep >"$TEST_TMP/not-store/notes.txt"
	MODELGATE_HOME="$TEST_TMP/not-store" expect_exit 2 mg ls
	expect_stderr_contains "$TEST_TMP/not-store"
	[ ! -e "$TEST_TMP/not-store/oci-layout" ] || fail "ls wrote a layout into a folder that is not a store"
}

t_help_and_version() {
	expect_exit 0 mg help
	expect_stdout_contains "usage: modelgate"
	for c in push pull tag ls inspect rm gc fsck; do
		grep -qE "^  $c " "$OUT" || fail "help does not list '$c'"
	done
	expect_exit 0 mg --help
	expect_stdout_contains "usage: modelgate"
	expect_exit 0 mg help push
	expect_stdout_contains "modelgate push REF FILE[:MEDIATYPE]..."
	expect_exit 0 mg push --help
	expect_stdout_contains "modelgate push REF FILE[:MEDIATYPE]..."
	expect_exit 0 mg pull -h
	expect_stdout_contains "modelgate pull REF"
	expect_exit 0 mg --version
	expect_stdout_matches '^modelgate [0-9]+\.[0-9]+\.[0-9]+'
	expect_exit 2 mg frobnicate
	expect_error "frobnicate"
	expect_exit 2 mg help frobnicate
	expect_error "frobnicate"
	expect_exit 2 mg pus digits:v1 "$FX/model.onnx" # no prefix matching
	expect_error "pus"
	expect_exit 2 mg
	expect_stderr_contains "usage: modelgate"
	expect_exit 2 mg --bogus ls
	expect_stderr_contains "--bogus"
	expect_exit 2 mg ls --bogus
	expect_stderr_contains "bogus"
	expect_exit 2 mg pull
	expect_exit 2 mg pull a:1 b:2
}

check push_prints_manifest_digest t_push_prints_digest
check ls_shows_repo_and_tag t_ls_shows_tags
check inspect_shows_files_format_tensors t_inspect_human
check inspect_json_fields t_inspect_json
check inspect_raw_is_the_manifest t_inspect_raw
check pull_restores_identical_files t_pull_restores_files
check quiet_silences_pull t_pull_quiet
check tag_and_retag t_tag
check rm_removes_tag t_rm
check pull_by_digest t_pull_by_digest
check implicit_latest_tag t_implicit_latest_tag
check push_options t_push_options
check json_outputs t_json_outputs
check fsck_and_gc_human_output t_fsck_and_gc_human
check ls_fsck_gc_leave_no_store_behind t_readers_leave_no_store_behind
check help_version_unknown_command t_help_and_version
finish
