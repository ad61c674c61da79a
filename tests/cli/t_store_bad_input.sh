# Bad input: each is refused with exit 2, one error line on stderr that names
# the input, and a store that is exactly as it was. A reference whose first
# component is not a host ("..", ".") is invalid, not a registry to look up.
. "$(dirname "$0")/lib.sh"

fixtures
must mg push good:v1 "$FX/model.onnx"
mkdir -p "$FX/sub" && cp "$FX/model_v2.onnx" "$FX/sub/model.onnx"

# refused CODE TEXT CMD...: CMD exits CODE, prints one error naming TEXT, and
# leaves the store (every file, its bytes, size, mode, mtime, inode) alone.
refused() {
	local code=$1 text=$2
	shift 2
	snapshot "$MODELGATE_HOME" >"$IO/snap.before"
	expect_exit "$code" "$@"
	expect_error "$text"
	expect_unchanged "$IO/snap.before" "$MODELGATE_HOME"
}

t_invalid_references() {
	local r
	for r in 'UPPER:tag' 'a:b:c' 'repo@sha256:short' 'repo:' 'repo@sha256:ABCDEF0000000000000000000000000000000000000000000000000000000000' \
		'repo:-tag' 'repo:.tag' 'rep o:v1' 'repo//x:v1' 'repo/:v1' \
		'../x:v1' './x:v1' '../../x' 'a..b/x:v1' 'r-.io/x:v1' 'localhost:0/x' '[::1/x' \
		'localhost:5000:1/x'; do
		refused 2 "'$r'" mg push "$r" "$FX/model.onnx"
		refused 2 "'$r'" mg pull "$r" -o out
		expect_no_file out
		refused 2 "'$r'" mg inspect "$r"
		refused 2 "'$r'" mg rm "$r"
		refused 2 "'$r'" mg tag "$r" newtag
		refused 2 "'$r'" mg tag good:v1 "$r"
	done
	# the empty string cannot be quoted usefully; the message says what is wrong
	refused 2 "empty" mg push "" "$FX/model.onnx"
	refused 2 "empty" mg pull "" -o out
	refused 2 "empty" mg inspect ""
	refused 2 "empty" mg rm ""
}

t_push_to_digest() {
	refused 2 "good@sha256:" mg push "good@sha256:$(sha256_of "$FX/model.onnx")" "$FX/model.onnx"
}

t_missing_file() {
	refused 2 "$FX/missing.onnx" mg push new:v1 "$FX/missing.onnx"
	refused 2 "$FX/missing.bin" mg push new:v1 "$FX/missing.bin"
	refused 2 "no-such-dir/model.onnx" mg push new:v1 no-such-dir/model.onnx
}

t_directory_as_file() {
	refused 2 "$FX/sub" mg push new:v1 "$FX/sub"
	refused 2 "'.'" mg push new:v1 .
}

t_not_an_onnx_model() {
	head -c 100 "$FX/model.onnx" >"$FX/truncated.onnx"
	refused 2 "$FX/truncated.onnx" mg push new:v1 "$FX/truncated.onnx"
}

# A bad file after a good one: the good one must not be left behind as an
# unreferenced blob either.
t_bad_file_after_good_one() {
	refused 2 "$FX/missing.onnx" mg push new:v1 "$FX/model_int8.onnx" "$FX/missing.onnx"
	refused 2 "$FX/sub" mg push new:v1 "$FX/model_int8.onnx" "$FX/sub"
}

t_unknown_tag() {
	refused 2 "good:nope" mg pull good:nope -o out
	expect_no_file out
	refused 2 "good:nope" mg inspect good:nope
	refused 2 "good:nope" mg rm good:nope
	refused 2 "good:nope" mg tag good:nope other
	refused 2 "nope:latest" mg pull nope -o out
	local absent=sha256:1111111111111111111111111111111111111111111111111111111111111111
	refused 2 "$absent" mg pull "good@$absent" -o out
	refused 2 "$absent" mg rm "good@$absent"
	expect_no_file out
}

t_bad_annotation() {
	refused 2 "'foo'" mg push --annotation foo new:v1 "$FX/model.onnx"
	refused 2 "'=v'" mg push --annotation =v new:v1 "$FX/model.onnx"
	refused 2 "'bar'" mg push -a ok=1 -a bar new:v1 "$FX/model.onnx"
}

t_same_base_name_twice() {
	refused 2 "'model.onnx'" mg push new:v1 "$FX/model.onnx" "$FX/sub/model.onnx"
	refused 2 "'model.onnx'" mg push new:v1 "$FX/model.onnx" "$FX/model.onnx"
}

t_bad_usage() {
	refused 2 "reference" mg push
	refused 2 "files" mg push new:v1
	refused 2 "reference" mg pull
	refused 2 "arguments" mg pull good:v1 good:v1
	refused 2 "nonsense" mg push --artifact-type nonsense new:v1 "$FX/model.onnx"
	refused 2 "SOURCE_DATE_EPOCH" env SOURCE_DATE_EPOCH=yesterday "$MODELGATE" push new:v1 "$FX/model.onnx"
	refused 2 "'yesterday'" env SOURCE_DATE_EPOCH=yesterday "$MODELGATE" push new:v1 "$FX/model.onnx"
}

t_home_not_a_layout() {
	local dir=$TEST_TMP/not-a-store
	mkdir -p "$dir/notes" && echo "my notes" >"$dir/README" && echo x >"$dir/notes/a"
	snapshot "$dir" >"$IO/dir.before"
	local cmd
	for cmd in "ls" "push new:v1 $FX/model.onnx" "pull good:v1 -o out" "inspect good:v1" "tag good:v1 x" \
		"rm good:v1" "gc" "fsck"; do
		# shellcheck disable=SC2086
		MODELGATE_HOME=$dir expect_exit 2 mg $cmd
		expect_error "'$dir'"
		expect_unchanged "$IO/dir.before" "$dir"
	done
	expect_no_file out
	# a regular file is no store either
	echo "not a folder" >"$TEST_TMP/plainfile"
	MODELGATE_HOME=$TEST_TMP/plainfile expect_exit 2 mg ls
	expect_error "'$TEST_TMP/plainfile'"
	[ "$(cat "$TEST_TMP/plainfile")" = "not a folder" ] || fail "the file was changed"
}

# a file name holding terminal control sequences reaches the terminal as
# \xHH text: one message line, no escape byte
t_control_characters_in_names_escaped() {
	local name
	name=$(printf 'evil\033[2J\nname.onnx')
	expect_exit 2 mg push tiny:v1 "$name"
	expect_error "cannot read" 'evil\x1b[2J\x0aname.onnx'
	! grep -q "$(printf '\033')" "$ERR" || fail "an escape byte reached stderr"
}

check invalid_references_refused t_invalid_references
check push_to_a_digest_refused t_push_to_digest
check missing_file_refused t_missing_file
check directory_as_file_refused t_directory_as_file
check malformed_onnx_refused t_not_an_onnx_model
check bad_file_after_good_one_leaves_store_unchanged t_bad_file_after_good_one
check unknown_tag_refused t_unknown_tag
check bad_annotation_refused t_bad_annotation
check same_base_name_twice_refused t_same_base_name_twice
check bad_usage_refused t_bad_usage
check home_not_a_layout_refused_and_untouched t_home_not_a_layout
check control_characters_in_names_escaped t_control_characters_in_names_escaped
finish
