# What `package DIR` takes from a folder: regular files only. A symbolic
# link (here to a docker config.json full of credentials), a FIFO or a
# folder inside it is refused with exit 2, each one named, and no bundle is
# written; a link named on the command line is the file the user chose, and
# is followed.
. "$MG_SRCDIR/tests/cli/lib.sh"
fixtures
cp -r "$EXAMPLES/dataset" "$FX/dataset"
cat >"$FX/modelgate.json" <<'JSON'
{"model": "model_int8.onnx", "dataset": {"inputs": "dataset/x.npy", "labels": "dataset/y.npy"},
 "gates": [{"name": "size", "kind": "size", "max_bytes": 65536}]}
JSON
(cd "$FX" && "$MODELGATE" gate --report "$TEST_TMP/report.json" >/dev/null 2>&1) ||
	fail "gate of model_int8.onnx did not pass"
R=$TEST_TMP/report.json
export SOURCE_DATE_EPOCH=1700000000
SECRET=c2VjcmV0LXRva2VuLTEyMzQ1Njc4
mkdir -p "$TEST_TMP/home/.docker"
printf '{"auths": {"ghcr.io": {"auth": "%s"}}}\n' "$SECRET" >"$TEST_TMP/home/.docker/config.json"
chmod 600 "$TEST_TMP/home/.docker/config.json"

model_dir() { # DIR: a folder with the model in it
	mkdir -p "$1"
	cp "$FX/model_int8.onnx" "$1/"
}

no_bundle() {
	expect_no_file "$1"
	[ -z "$(ls -A "$(dirname "$1")" | grep '\.mg-package-\|^\.tmp' || true)" ] ||
		fail "a temporary file was left behind"
}

t_symlink_to_a_secret_refused() {
	model_dir m1
	ln -s "$TEST_TMP/home/.docker/config.json" m1/config.json
	expect_exit 2 mg package m1 --report "$R" -o b.tar.gz
	expect_error "'m1/config.json' is a symbolic link" "follows no links"
	no_bundle b.tar.gz
	! grep -qF "$SECRET" "$OUT" "$ERR" || fail "the secret appears in the output"
	# a link to a file inside the folder is refused all the same
	rm m1/config.json
	ln -s model_int8.onnx m1/alias.onnx
	expect_exit 2 mg package m1 --report "$R" -o b.tar.gz
	expect_error "'m1/alias.onnx' is a symbolic link"
	no_bundle b.tar.gz
}

t_everything_not_a_file_is_named() {
	model_dir m2
	mkfifo m2/pipe
	mkdir m2/sub
	ln -s /nonexistent m2/dangling
	expect_exit 2 mg package m2 --report "$R" -o b.zip
	expect_error "'m2/pipe' is not a regular file" "'m2/sub' is a folder" \
		"'m2/dangling' is a symbolic link"
	no_bundle b.zip
}

t_regular_files_still_package() {
	model_dir m3
	expect_exit 0 mg package m3 --report "$R" -o ok.tar.gz
	expect_exit 0 mg verify ok.tar.gz
	tar -tzf ok.tar.gz | grep -qx files/model_int8.onnx || fail "the model is not in the bundle"
}

t_named_link_is_followed() {
	ln -s "$FX/model_int8.onnx" chosen.onnx
	expect_exit 0 mg package chosen.onnx --report "$R" -o named.tar.gz
	tar -xOzf named.tar.gz files/chosen.onnx | cmp - "$FX/model_int8.onnx" ||
		fail "the named link's file is not in the bundle"
	# and a folder named through a link is that folder
	model_dir real
	ln -s real linked
	expect_exit 0 mg package linked --report "$R" -o linked.tar.gz
}

check "a link to a secret in the folder is refused, exit 2" t_symlink_to_a_secret_refused
check "fifos, folders and dangling links are named" t_everything_not_a_file_is_named
check "a folder of regular files still packages" t_regular_files_still_package
check "a link named on the command line is followed" t_named_link_is_followed
finish
