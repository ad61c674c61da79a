# A full disk: pushing into a store on a nearly full file system, or pulling
# onto one, fails with exit 3 and a message that says so, and nothing that
# was stored before is lost or altered. Uses a small tmpfs (the tests run as
# root, as CI does).
. "$(dirname "$0")/lib.sh"

fixtures
[ "$(id -u)" = 0 ] || fail "this test mounts a tmpfs and needs root"
DISK=$TEST_TMP/disk
mkdir -p "$DISK"
mount -t tmpfs -o size=1m tmpfs "$DISK" || fail "cannot mount a tmpfs on '$DISK'"
trap 'umount "$DISK" 2>/dev/null' EXIT
export MODELGATE_HOME=$DISK/store
must mg push digits:v1 "$FX/model.onnx"
head -c 2M /dev/urandom >"$TEST_TMP/big.bin"
snapshot "$MODELGATE_HOME" >"$TEST_TMP/before"

push_to_a_full_disk_fails_cleanly() {
	expect_exit 3 mg push big:v1 "$TEST_TMP/big.bin"
	expect_stderr_contains "No space left on device"
	expect_stderr_contains "$MODELGATE_HOME"
	expect_unchanged "$TEST_TMP/before" "$MODELGATE_HOME"
	[ -z "$(temp_files)" ] || fail "temporary files left behind: $(temp_files)"
	must mg fsck
	must mg pull digits:v1 -o "$TEST_TMP/out1"
	expect_same_file "$FX/model.onnx" "$TEST_TMP/out1/model.onnx"
}

pull_onto_a_full_disk_leaves_no_partial_file() {
	export MODELGATE_HOME=$TEST_TMP/store2
	must mg push big:v1 "$TEST_TMP/big.bin"
	expect_exit 3 mg pull big:v1 -o "$DISK/out"
	expect_stderr_contains "No space left on device"
	[ -z "$(ls -A "$DISK/out" 2>/dev/null)" ] || fail "pull left files in '$DISK/out': $(ls -A "$DISK/out")"
	must mg fsck
}

check push_to_a_full_disk_fails_cleanly push_to_a_full_disk_fails_cleanly
check pull_onto_a_full_disk_leaves_no_partial_file pull_onto_a_full_disk_leaves_no_partial_file
finish
