# A file the README shows is the file: each fenced block right after a line
# `<!-- file: PATH -->` is byte for byte PATH of the repository (the digits
# example's modelgate.json, comments and all), and the README shows the
# example's config that way.
. "$(dirname "$0")/lib.sh"

README=$MG_SRCDIR/README.md
B=$TEST_TMP/files
mkdir -p "$B"
# N PATH per marked block, its text in $B/N
awk -v out="$B" '
	/^<!-- file: [^ ]+ -->$/ { path = $3; want = 1; next }
	want && /^```/ { n++; file = out "/" n; printf "" > file; print n, path; inside = 1; want = 0; next }
	inside && /^```$/ { close(file); inside = 0; next }
	inside { print >> file; next }
	want && NF { printf "README.md:%d: the file marker is not followed by a fenced block\n", NR > "/dev/stderr"; exit 1 }
' "$README" >"$TEST_TMP/files.list" || fail "cannot extract the README's file blocks"

marked_blocks_are_their_files() {
	local n path
	[ -s "$TEST_TMP/files.list" ] || fail "README.md marks no block as a file"
	while read -r n path; do
		[ -f "$MG_SRCDIR/$path" ] || fail "README.md shows '$path', which is not in the repository"
		diff -u "$MG_SRCDIR/$path" "$B/$n" >"$IO/diff" ||
			fail "README.md's '$path' differs from the file: $(head -20 "$IO/diff")"
	done <"$TEST_TMP/files.list"
}

the_gate_example_is_shown_as_a_file() {
	grep -q ' examples/digits/modelgate.json$' "$TEST_TMP/files.list" ||
		fail "README.md does not show examples/digits/modelgate.json as a file block"
	# and no other json block poses as the example
	"$MG_SRCDIR/tests/readme_blocks.sh" "$README" "$TEST_TMP/blocks" >"$TEST_TMP/blocks.list" ||
		fail "README.md breaks the block rule"
	local f n=0
	for f in $(awk '$3 == "json" { print $5 }' "$TEST_TMP/blocks.list"); do
		grep -q '"model": "model_int8.onnx"' "$f" && n=$((n + 1))
	done
	[ "$n" -eq 1 ] || fail "$n json blocks of README.md show the digits config, expected 1"
}

check marked_blocks_are_their_files marked_blocks_are_their_files
check the_gate_example_is_shown_as_a_file the_gate_example_is_shown_as_a_file
finish
