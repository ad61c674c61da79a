# pull never silently replaces a file: a file under a title that holds other
# bytes is refused (exit 2, naming it) before anything is written, unless
# --force; one with the same bytes is fine and said to be unchanged. The
# same from the store and from a registry.
. "$(dirname "$0")/lib.sh"
. "$MG_SRCDIR/tests/cli/lib_registry.sh"

fixtures
must mg push digits:v1 "$FX/model.onnx" "$FX/x.npy"
registry_start
must mg push --insecure "$REG/acme/digits:v1" "$FX/model.onnx" "$FX/x.npy"

# pull_refuses_then_forces REF: in a fresh folder, the checks for REF
pull_refuses_then_forces() {
	local d=$TEST_TMP/w-${1//[^a-z0-9]/_}
	mkdir -p "$d" && cd "$d" || fail "cannot make '$d'"
	# into an empty folder: both written
	expect_exit 0 mg pull --insecure "$1"
	[ "$(cat "$OUT")" = "./model.onnx
./x.npy" ] || fail "printed: $(cat "$OUT")"
	# again: the same bytes, unchanged
	expect_exit 0 mg pull --insecure "$1"
	[ "$(cat "$OUT")" = "./model.onnx (unchanged)
./x.npy (unchanged)" ] || fail "printed: $(cat "$OUT")"
	expect_exit 0 mg pull --insecure "$1" --json
	json_ok "[f['unchanged'] for f in j['files']] == [True, True]"
	# a file of other bytes: refused, nothing written (not even the other file)
	echo "my own notes" >model.onnx
	rm x.npy
	expect_exit 2 mg pull --insecure "$1"
	expect_error "'./model.onnx' exists with other content; use --force to replace it"
	[ "$(cat model.onnx)" = "my own notes" ] || fail "model.onnx was replaced"
	expect_no_file x.npy
	# -q silences the list, never the refusal
	expect_exit 2 mg pull -q --insecure "$1"
	expect_error "'./model.onnx' exists with other content"
	# --force replaces it
	expect_exit 0 mg pull --insecure "$1" --force
	expect_same_file "$FX/model.onnx" model.onnx
	expect_same_file "$FX/x.npy" x.npy
	# a folder where a file would go is refused even with --force
	rm model.onnx && mkdir model.onnx
	expect_exit 2 mg pull --insecure "$1" --force
	expect_error "'./model.onnx' is a folder"
	# and -o DIR is checked the same way
	mkdir -p out && echo other >out/x.npy
	expect_exit 2 mg pull --insecure "$1" -o out
	expect_error "'out/x.npy' exists with other content"
}

from_the_store() { pull_refuses_then_forces digits:v1; }
from_a_registry() { pull_refuses_then_forces "$REG/acme/digits:v1"; }

check from_the_store from_the_store
check from_a_registry from_a_registry
finish
