# A push (or pull) killed with SIGKILL in the middle of writing a large blob
# leaves the store consistent: no half blob under a digest name, index.json
# intact, earlier tags fine, only a stray temporary file that gc removes. A
# push of a large blob the store holds already writes nothing at all.
#
# The process is stopped (SIGSTOP) as soon as its temporary file has grown
# past 8 MiB, the state is checked while it cannot move, then it is killed;
# so the kill lands mid-write without relying on timing. MG_KILL_TEST_MB sets
# the size of the large file (default 256).
. "$(dirname "$0")/lib.sh"

BIG_MB=${MG_KILL_TEST_MB:-256}
GROWN=$((8 << 20))
fixtures
head -c "$((BIG_MB << 20))" /dev/urandom >"$FX/big.bin" || fail "cannot make a ${BIG_MB} MiB file"
BIG_SHA=sha256:$(sha256_of "$FX/big.bin")
BIG_BLOB=$(blob_path "$BIG_SHA")
must mg push digits:v1 "$FX/model.onnx"
D1=$(cat "$OUT")

BG_PID=
cleanup() {
	if [ -n "$BG_PID" ]; then
		kill -KILL "$BG_PID" 2>/dev/null
		wait "$BG_PID" 2>/dev/null
	fi
}

proc_state() { # pid: its state letter (R, S, D, T, Z...), or nothing when gone
	sed -n 's/^[0-9]* (.*) \([A-Z]\) .*/\1/p' "/proc/$1/stat" 2>/dev/null
}

# kill_mid_write DIR CMD...: runs CMD in the background until a temporary
# file ".tmp-*" in DIR has grown past $GROWN bytes, stops it, checks that it
# is still writing (the temporary file is there, the process is alive),
# then kills it with SIGKILL. Sets KILLED_TMP to the temporary file's path.
kill_mid_write() {
	local dir=$1 f st size=0
	shift
	[ "$1" = mg ] && set -- "$MODELGATE" "${@:2}" # the process itself, not a subshell
	KILLED_TMP=
	trap cleanup EXIT # checks run in subshells, which do not inherit traps
	printf '%q ' "$@" >"$IO/last_cmd"
	"$@" >"$OUT" 2>"$ERR" &
	BG_PID=$!
	while :; do
		st=$(proc_state "$BG_PID")
		[ -n "$st" ] && [ "$st" != Z ] || break
		for f in "$dir"/.tmp-*; do
			[ -f "$f" ] && KILLED_TMP=$f
		done
		if [ -n "$KILLED_TMP" ]; then
			size=$(stat -c %s "$KILLED_TMP" 2>/dev/null || echo 0)
			[ "$size" -ge "$GROWN" ] && break
		fi
		sleep 0.005
	done
	kill -STOP "$BG_PID" 2>/dev/null
	while st=$(proc_state "$BG_PID") && [ -n "$st" ] && [ "$st" != T ] && [ "$st" != Z ]; do
		sleep 0.005
	done
	[ "$st" = T ] || fail "the command ended before it could be stopped mid-write (state '$st'; use a larger MG_KILL_TEST_MB)"
	[ -n "$KILLED_TMP" ] && [ -f "$KILLED_TMP" ] || fail "no temporary file in '$dir' while writing"
	size=$(stat -c %s "$KILLED_TMP")
	[ "$size" -ge "$GROWN" ] || fail "the temporary file has only $size bytes"
	echo "  (killed with ${KILLED_TMP##*/} at $size of $((BIG_MB << 20)) bytes)"
	kill -KILL "$BG_PID"
	local rc=0
	wait "$BG_PID" 2>/dev/null || rc=$? # (2>: no "Killed" notice)
	BG_PID=
	[ "$rc" -eq 137 ] || fail "the killed command exited $rc, expected 137 (SIGKILL)"
}

# The store after a killed push: consistent, earlier tags intact, and the
# temporary file reported as stray (not as a problem).
expect_store_survived() {
	local tmp=$1
	expect_file "$tmp"
	expect_exit 0 mg fsck
	expect_stdout_contains "${tmp##*/}"
	expect_stdout_contains "stray"
	expect_stdout_contains " 0 problem(s)"
	expect_exit 0 mg fsck --json
	json_ok "j['problems'] == 0 and [(p['kind'], p['where']) for p in j['details']] == [('temporary', '${tmp##*/}')]"
	json_ok "'digits:v1' in [m['annotations']['org.opencontainers.image.ref.name'] for m in j['manifests']]" \
		"$MODELGATE_HOME/index.json"
	rm -rf pulled && expect_exit 0 mg pull digits:v1 -o pulled
	expect_same_file "$FX/model.onnx" pulled/model.onnx
	expect_exit 0 mg inspect --json digits:v1
	json_ok "j['digest'] == '$D1'"
}

t_kill_first_push() {
	kill_mid_write "$(blobdir)" mg push big:v1 "$FX/big.bin"
	local tmp=$KILLED_TMP
	# no blob under the big file's digest, no tag for it
	expect_no_file "$BIG_BLOB"
	expect_store_survived "$tmp"
	json_ok "'big:v1' not in [m['annotations']['org.opencontainers.image.ref.name'] for m in j['manifests']]" \
		"$MODELGATE_HOME/index.json"
	expect_exit 2 mg pull big:v1 -o nothing
	expect_no_file nothing/big.bin
	# gc removes the temporary file and nothing else that is referenced
	expect_exit 0 mg gc --json
	json_ok 'j["temporary_files_removed"] == 1'
	expect_no_file "$tmp"
	[ -z "$(temp_files)" ] || fail "temporary files left after gc: $(temp_files)"
	expect_exit 0 mg fsck
	expect_stdout_not_contains "stray"
	# the push now goes through
	expect_exit 0 mg push big:v1 "$FX/big.bin"
	expect_file "$BIG_BLOB"
	expect_exit 0 mg pull big:v1 -o bigout
	expect_same_file "$FX/big.bin" bigout/big.bin
	rm -rf bigout
}

# kill_mid_read CMD...: runs CMD in the background until it has read past
# $GROWN bytes (/proc/PID/io), stops it, checks it is still alive, and kills
# it with SIGKILL.
kill_mid_read() {
	local st read=0
	[ "$1" = mg ] && set -- "$MODELGATE" "${@:2}"
	trap cleanup EXIT
	printf '%q ' "$@" >"$IO/last_cmd"
	"$@" >"$OUT" 2>"$ERR" &
	BG_PID=$!
	while st=$(proc_state "$BG_PID") && [ -n "$st" ] && [ "$st" != Z ]; do
		read=$(sed -n 's/^rchar: //p' "/proc/$BG_PID/io" 2>/dev/null || echo 0)
		[ "${read:-0}" -ge "$GROWN" ] && break
		sleep 0.005
	done
	kill -STOP "$BG_PID" 2>/dev/null
	while st=$(proc_state "$BG_PID") && [ -n "$st" ] && [ "$st" != T ] && [ "$st" != Z ]; do
		sleep 0.005
	done
	[ "$st" = T ] || fail "the command ended before it could be stopped mid-read (state '$st'; use a larger MG_KILL_TEST_MB)"
	echo "  (killed after reading $read of $((BIG_MB << 20)) bytes)"
}

# Pushing a large file the store holds already hashes it without writing:
# no temporary file appears, and a kill in the middle changes nothing.
t_kill_push_of_stored_blob() {
	expect_file "$BIG_BLOB"
	local before
	before=$(stat -c '%i %y %s' "$BIG_BLOB")
	kill_mid_read mg push big:v2 "$FX/big.bin"
	[ -z "$(temp_files)" ] || fail "a push of a stored blob is writing a temporary file: $(temp_files)"
	kill -KILL "$BG_PID"
	wait "$BG_PID" 2>/dev/null
	BG_PID=
	[ "$(stat -c '%i %y %s' "$BIG_BLOB")" = "$before" ] || fail "the stored blob was changed"
	json_ok "'big:v2' not in [m['annotations']['org.opencontainers.image.ref.name'] for m in j['manifests']]" \
		"$MODELGATE_HOME/index.json"
	expect_exit 0 mg fsck
	expect_stdout_not_contains "stray"
	expect_stdout_contains " 0 problem(s)"
	expect_exit 0 mg push --json big:v2 "$FX/big.bin"
	json_ok 'j["files_existed"] == 1 and j["files_new"] == 0'
	[ "$(stat -c '%i %y %s' "$BIG_BLOB")" = "$before" ] || fail "the repeated push changed the stored blob"
	[ -z "$(temp_files)" ] || fail "temporary files left: $(temp_files)"
}

t_kill_pull() {
	mkdir -p dest && echo "older version" >dest/big.bin
	kill_mid_write dest mg pull big:v1 -o dest --force
	[ "$(cat dest/big.bin)" = "older version" ] || fail "the killed pull replaced dest/big.bin"
	mkdir -p dest2
	kill_mid_write dest2 mg pull big:v1 -o dest2
	expect_no_file dest2/big.bin
	# the store is untouched by a killed pull
	expect_exit 0 mg fsck
	expect_stdout_not_contains "stray"
	expect_stdout_contains " 0 problem(s)"
	expect_exit 0 mg pull big:v1 -o dest2
	expect_same_file "$FX/big.bin" dest2/big.bin
	rm -rf dest dest2
}

check kill_mid_first_push t_kill_first_push
check kill_mid_push_of_already_stored_blob t_kill_push_of_stored_blob
check kill_mid_pull t_kill_pull
finish
