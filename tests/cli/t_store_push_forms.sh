# push takes files as ORAS does: FILE, or FILE:MEDIATYPE for the layer's
# media type (a path that exists is a file, colons and all); an empty name,
# a folder, or a missing FILE:NOT-A-TYPE is bad usage (exit 2) saying which,
# with nothing stored; a model artifact none of whose files is a model
# format modelgate reads (ONNX, TFLite) is pushed with a warning that -q
# does not silence. The same into the store and into a registry. Hashing
# into the store shows its progress, unless -q.
. "$(dirname "$0")/lib.sh"
. "$MG_SRCDIR/tests/cli/lib_registry.sh"

fixtures
cp "$FX/model.onnx" "$TEST_TMP/with:colon.onnx"
echo "release notes" >"$TEST_TMP/notes.txt"
mkdir -p "$TEST_TMP/folder"
cd "$TEST_TMP" || fail "cannot enter '$TEST_TMP'"
registry_start

# layer_types REF: "title=mediaType" per layer, one a line
layer_types() {
	must mg inspect --raw --insecure "$1"
	"$PY" -c 'import json, sys
for l in json.load(open(sys.argv[1]))["layers"]:
    print("%s=%s" % (l["annotations"]["org.opencontainers.image.title"], l["mediaType"]))' "$OUT"
}

forms_for() { # REPO
	local r=$1
	# FILE:MEDIATYPE names the layer's type; a path with a colon that exists is a file
	expect_exit 0 mg push --insecure "$r:typed" "$FX/model.onnx:application/vnd.acme.model+onnx" \
		with:colon.onnx notes.txt:text/plain
	# (a closing line for each file that went up or was hashed; the store's
	# digest cache or the registry may have one already)
	expect_progress_only notes.txt
	[ "$(layer_types "$r:typed")" = "model.onnx=application/vnd.acme.model+onnx
with:colon.onnx=application/vnd.onnx.model
notes.txt=text/plain" ] || fail "layers: $(layer_types "$r:typed")"
	# and pulled back under their names
	expect_exit 0 mg pull --insecure "$r:typed" -o "pulled-${r//[^a-z]/_}"
	expect_same_file with:colon.onnx "pulled-${r//[^a-z]/_}/with:colon.onnx"
	# bad forms: exit 2, one message naming it, nothing tagged
	expect_exit 2 mg push --insecure "$r:bad" ""
	expect_error "an empty file name"
	expect_exit 2 mg push --insecure "" notes.txt
	expect_error "empty reference: name a version as REPO[:TAG]"
	expect_exit 2 mg push --insecure "$r:bad" ":text/plain"
	expect_error "an empty file name before ':text/plain'"
	expect_exit 2 mg push --insecure "$r:bad" folder
	expect_error "'folder' is a folder"
	expect_exit 2 mg push --insecure "$r:bad" folder/
	expect_error "'folder/' is a folder"
	expect_exit 2 mg push --insecure "$r:bad" "missing.onnx:not a type"
	expect_error "cannot read 'missing.onnx:not a type'" "'not a type' is not a media type"
	expect_exit 2 mg push --insecure "$r:bad" missing.onnx:text/plain
	expect_error "cannot read 'missing.onnx'"
	expect_exit 2 mg inspect --insecure "$r:bad"
}

in_the_store() { forms_for typed; }
in_a_registry() { forms_for "$REG/acme/typed"; }

a_model_of_no_known_format_is_pushed_with_a_warning() {
	expect_exit 0 mg push -q notes:v1 notes.txt
	expect_stdout_matches "$DIGEST_RE"
	[ "$(grep -c . "$ERR")" -eq 1 ] || fail "stderr holds $(grep -c . "$ERR") lines, expected the warning"
	expect_stderr_contains "modelgate: warning: no file of 'notes:v1' is a model"
	expect_stderr_contains "(ONNX, TFLite)"
	# not for a dataset, nor when one file is a model
	expect_exit 0 mg push notes:v2 notes.txt --artifact-type dataset
	expect_progress_only notes.txt
	expect_exit 0 mg push notes:v3 notes.txt "$FX/model.onnx"
	expect_progress_only notes.txt model.onnx
}

# pushing into the store says what it measures: hashing, with sizes, and
# one closing line per file; -q shows none of it
hashing_shows_progress_unless_quiet() {
	head -c $((40 << 20)) /dev/urandom >big.bin || fail "cannot write big.bin"
	MODELGATE_PROGRESS_INTERVAL=0 expect_exit 0 mg push big:v1 big.bin --artifact-type dataset
	grep -qE '^hashing big\.bin: [0-9.]+ [KM]iB / 40\.0 MiB  [0-9.]+ [A-Za-z]+/s' "$ERR" || fail "no hashing line"
	[ "$(grep -cE '^hashed big\.bin: 40\.0 MiB in [0-9.]+s \([0-9.]+ [A-Za-z]+/s\)$' "$ERR")" -eq 1 ] ||
		fail "not one closing line for big.bin"
	MODELGATE_PROGRESS_INTERVAL=0 expect_exit 0 mg push -q big:v2 big.bin --artifact-type dataset
	expect_stderr_empty
}

check in_the_store in_the_store
check hashing_shows_progress_unless_quiet hashing_shows_progress_unless_quiet
check in_a_registry in_a_registry
check a_model_of_no_known_format_is_pushed_with_a_warning a_model_of_no_known_format_is_pushed_with_a_warning
finish
