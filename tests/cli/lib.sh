# Helpers for the CLI test scripts (tests/cli/t_*.sh, run by bash through
# tests/cli/run.sh). A test file sources this, does its set-up, then runs
# its checks:
#
#     check NAME FUNC [ARGS...]   runs FUNC in a subshell as the check NAME
#     finish                      ends the file: exit 1 if any check failed
#
# Every assertion either returns 0 or calls `fail`, which ends the current
# check (the subshell) with a message naming the check; the file goes on with
# its next check, and fails at `finish`. Called outside a check, `fail` ends
# the whole file ("set-up"). Checks share the file system, not variables: what
# later checks need is computed in the set-up, outside any check.
#
# run.sh provides: $MODELGATE (the binary), $MODELGATE_HOME (a fresh store
# path that does not exist yet), $TEST_TMP (a fresh folder that is also the
# working directory, removed afterwards), $MG_SRCDIR (the source tree),
# NO_COLOR=1.

set -u

: "${MODELGATE:?run this through tests/cli/run.sh}"
: "${TEST_TMP:?run this through tests/cli/run.sh}"
: "${MG_SRCDIR:?run this through tests/cli/run.sh}"

if [ -x /usr/bin/python3 ]; then PY=${PYTHON:-/usr/bin/python3}; else PY=${PYTHON:-python3}; fi
EXAMPLES=$MG_SRCDIR/examples/digits
IO=$TEST_TMP/.io
mkdir -p "$IO"
OUT=$IO/stdout    # stdout of the last `expect_exit` command
ERR=$IO/stderr    # its stderr
CHECK=set-up
_failed_checks=0
_checks=0

mg() { "$MODELGATE" "$@"; }

# ---- checks ---------------------------------------------------------------

fail() {
	printf 'FAIL [%s]: %s\n' "$CHECK" "$*"
	if [ -s "$IO/last_cmd" ]; then
		printf '  last command: %s\n' "$(cat "$IO/last_cmd")"
		[ -s "$OUT" ] && { echo "  its stdout:"; head -c 2000 "$OUT" | sed 's/^/    | /'; }
		[ -s "$ERR" ] && { echo "  its stderr:"; head -c 2000 "$ERR" | sed 's/^/    | /'; }
	fi
	exit 1
}

check() {
	local name=$1
	shift
	_checks=$((_checks + 1))
	: >"$IO/last_cmd"
	if (CHECK=$name; "$@"); then
		printf 'ok   %s\n' "$name"
	else
		_failed_checks=$((_failed_checks + 1))
		printf 'FAIL %s\n' "$name"
	fi
	: >"$IO/last_cmd"
}

# need CMD PACKAGE / need_py MODULE PACKAGE: a prerequisite the test uses is
# there, or the test fails naming the Debian package that brings it: a
# missing tool never skips a test and never lets it pass.
need() {
	command -v "$1" >/dev/null 2>&1 ||
		fail "'$1' is missing: install Debian's $2 (make deps-test installs it)"
}
need_py() {
	"$PY" -c "import $1" 2>/dev/null ||
		fail "Python module '$1' is missing: install Debian's $2 (make deps-test installs it)"
}

# in_example_copy: a copy of the digits example (without its report) in
# $EX = $TEST_TMP/ex becomes the working directory, and no CI variable
# steers what gate writes. Call it outside any check (it cds).
in_example_copy() {
	EX=$TEST_TMP/ex
	cp -r "$EXAMPLES" "$EX" || fail "cannot copy the example to '$EX'"
	rm -f "$EX/report.json"
	cd "$EX" || fail "cannot enter '$EX'"
	unset CI GITHUB_ACTIONS GITHUB_STEP_SUMMARY GITHUB_OUTPUT
}

# killed_run_leaves_no_agent PATTERN SIGNAL ARGS...: `modelgate ARGS` (a
# run that would measure for a minute) gets SIGNAL once a process whose
# command line matches PATTERN (its agent, or what carries it) runs, and
# within 10 s no such process is left.
killed_run_leaves_no_agent() {
	local pattern=$1 sig=$2 pid i
	shift 2
	"$MODELGATE" "$@" >/dev/null 2>&1 &
	pid=$!
	for i in $(seq 300); do
		pgrep -f "$pattern" >/dev/null && break
		sleep 0.1
	done
	pgrep -f "$pattern" >/dev/null || { kill -KILL "$pid"; fail "no process matching '$pattern' started"; }
	sleep 0.5
	kill "-$sig" "$pid"
	wait "$pid" 2>/dev/null
	for i in $(seq 100); do
		pgrep -f "$pattern" >/dev/null || return 0
		sleep 0.1
	done
	pgrep -af "$pattern"
	pkill -KILL -f "$pattern"
	fail "still running 10 s after modelgate got SIG$sig"
}

finish() {
	printf '%d check(s), %d failed\n' "$_checks" "$_failed_checks"
	[ "$_failed_checks" -eq 0 ]
	exit $?
}

# ---- running commands -------------------------------------------------------

# expect_exit CODE CMD [ARGS...]: runs CMD with stdout in $OUT and stderr in
# $ERR, and fails unless it exits with CODE.
expect_exit() {
	local want=$1 rc=0
	shift
	printf '%q ' "$@" >"$IO/last_cmd"
	"$@" >"$OUT" 2>"$ERR" || rc=$?
	[ "$rc" -eq "$want" ] || fail "exit code $rc, expected $want"
}

# must CMD...: like expect_exit 0, for set-up steps.
must() { expect_exit 0 "$@"; }

_contains() { # file text
	grep -qF -- "$2" "$1"
}

expect_stdout_contains() { _contains "$OUT" "$1" || fail "stdout does not contain '$1'"; }
expect_stderr_contains() { _contains "$ERR" "$1" || fail "stderr does not contain '$1'"; }
expect_stdout_not_contains() { ! _contains "$OUT" "$1" || fail "stdout contains '$1'"; }
expect_stderr_not_contains() { ! _contains "$ERR" "$1" || fail "stderr contains '$1'"; }
# expect_stdout_matches ERE: some line of stdout matches the extended regex.
expect_stdout_matches() { grep -qE -- "$1" "$OUT" || fail "no line of stdout matches /$1/"; }
expect_stdout_empty() { [ ! -s "$OUT" ] || fail "stdout is not empty"; }
expect_stderr_empty() { [ ! -s "$ERR" ] || fail "stderr is not empty"; }

# The progress lines of transfers (cli/cli_remote.c), and of files hashed
# into the store: "uploading NAME: ...", "downloaded NAME: ... in 0.1s".
PROGRESS_LINE='^(hashing|hashed|uploading|uploaded|downloading|downloaded) '

# expect_progress_only NAME...: stderr holds progress lines alone, and one
# closing line ("hashed NAME: ...", "uploaded NAME: ...") for each NAME.
expect_progress_only() {
	! grep -Ev "$PROGRESS_LINE" "$ERR" | grep -q . || fail "stderr holds more than progress lines"
	local n
	for n in "$@"; do
		[ "$(grep -cE "^(hashed|uploaded|downloaded) $(printf '%s' "$n" | sed 's/[.[\*^$]/\\&/g'): " "$ERR")" -eq 1 ] ||
			fail "not one closing line for '$n'"
	done
}

# expect_error TEXT...: stderr holds exactly one message line, starting with
# "modelgate", that contains every TEXT; the only other lines allowed are a
# "usage: ..." line that usage errors add and the progress lines of the
# files that went through before the error. Nothing on stdout.
expect_error() {
	local n u
	n=$(grep -Evc "$PROGRESS_LINE" "$ERR")
	u=$(grep -c '^usage: ' "$ERR")
	[ "$((n - u))" -eq 1 ] || fail "stderr has $((n - u)) message line(s), expected 1"
	grep -Ev "^usage: |$PROGRESS_LINE" "$ERR" | grep -q '^modelgate' || fail "stderr does not start with 'modelgate'"
	local t
	for t in "$@"; do
		grep -v '^usage: ' "$ERR" | grep -qF -- "$t" || fail "the error message does not contain '$t'"
	done
	expect_stdout_empty
}

# ---- JSON -------------------------------------------------------------------

# json_ok EXPR [FILE]: the Python expression EXPR is true, with j the JSON
# parsed from FILE (default $OUT). Also fails when FILE is not JSON.
json_ok() {
	local f=${2:-$OUT}
	"$PY" -c 'import json, sys
try:
    j = json.load(open(sys.argv[2]))
except ValueError as e:
    print("not valid JSON: %s" % e); sys.exit(2)
try:
    ok = eval(sys.argv[1])
except Exception as e:
    print("%s: %s" % (type(e).__name__, e)); sys.exit(1)
sys.exit(0 if ok else 1)' "$1" "$f" >"$IO/py.out" 2>&1 ||
		fail "JSON check failed in ${f##*/}: $1 $(head -c 300 "$IO/py.out")"
}

# json_get EXPR [FILE]: prints the value of EXPR (str() of it).
json_get() {
	"$PY" -c 'import json, sys
j = json.load(open(sys.argv[2]))
print(eval(sys.argv[1]))' "$1" "${2:-$OUT}"
}

# ---- files and the store ------------------------------------------------------

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }
blobdir() { printf '%s/blobs/sha256' "${1:-$MODELGATE_HOME}"; }
blob_path() { printf '%s/%s' "$(blobdir "${2:-$MODELGATE_HOME}")" "${1#sha256:}"; }

# The blob file names (digest hex and temporary files) in a store, sorted.
blob_names() { ls -A "$(blobdir "${1:-$MODELGATE_HOME}")" | LC_ALL=C sort; }
count_blobs() { blob_names "${1:-$MODELGATE_HOME}" | grep -c '^[0-9a-f]\{64\}$'; }
temp_files() { ls -A "${1:-$(blobdir)}" | grep '^\.tmp-' || true; }

# snapshot DIR: every entry under DIR with its type and mode, and for files
# their size, mtime, inode and content hash; equal snapshots mean nothing
# changed. (Folder mtimes are left out: a temporary file created and removed
# again changes nothing that matters.)
snapshot() {
	(cd "$1" && find . -type d -printf '%y %p %m\n' | LC_ALL=C sort &&
		find . ! -type d -printf '%y %p %m %s %T@ %i\n' | LC_ALL=C sort &&
		find . -type f -exec sha256sum {} + | LC_ALL=C sort)
}

# expect_unchanged SNAPFILE DIR: DIR still matches the snapshot in SNAPFILE.
expect_unchanged() {
	snapshot "$2" >"$IO/snap.now"
	if ! cmp -s "$1" "$IO/snap.now"; then
		diff "$1" "$IO/snap.now" | head -20 | sed 's/^/    /'
		fail "'$2' changed"
	fi
}

expect_same_file() { cmp -s "$1" "$2" || fail "'$2' differs from '$1'"; }
expect_no_file() { [ ! -e "$1" ] && [ ! -L "$1" ] || fail "'$1' exists"; }
expect_file() { [ -f "$1" ] || fail "'$1' does not exist"; }

# fixtures: copies the example models and data into $TEST_TMP/fx (outside
# any git work tree, so pushes carry no git annotations).
fixtures() {
	mkdir -p "$TEST_TMP/fx"
	cp "$EXAMPLES"/model.onnx "$EXAMPLES"/model_v2.onnx "$EXAMPLES"/model_int8.onnx \
		"$EXAMPLES"/dataset/x.npy "$EXAMPLES"/dataset/y.npy "$TEST_TMP/fx/"
	FX=$TEST_TMP/fx
}

DIGEST_RE='^sha256:[0-9a-f]{64}$'

# ---- TFLite models and their reference -----------------------------------------

# tflite_model NAME: prints the path of MediaPipe's NAME.tflite (e.g.
# face_detection_short_range, hand_landmark_lite, selfie_segmentation) from
# the npm packages make deps-test installs into .deps/npm, or fails (on
# stderr, since it runs inside $(...)) naming what to run; a missing model
# never skips a test. Use: `m=$(tflite_model NAME) || exit 1` in set-up.
tflite_model() {
	local f
	for f in "$MG_SRCDIR"/.deps/npm/node_modules/@mediapipe/*/"$1".tflite; do
		[ -f "$f" ] && { printf '%s\n' "$f"; return 0; }
	done
	fail "no MediaPipe model '$1.tflite' in '$MG_SRCDIR/.deps/npm' (make deps-test installs it)" >&2
}

# need_tflite: what a test of .tflite models through modelgate needs (the
# generator's python3-flatbuffers, numpy, Node.js for LiteRT.js, the TFLite
# engine next to modelgate), a private agent cache, BUILT (the folder of
# modelgate and its agents) and GEN, the generator of test models
# (tests/cli/make_tflite.py).
need_tflite() {
	export MODELGATE_AGENT_CACHE=$TEST_TMP/agent-cache
	need_py flatbuffers python3-flatbuffers
	need_py numpy python3-numpy
	need node nodejs
	BUILT=$(dirname "$MODELGATE")
	[ -f "$BUILT/libmodelgate-tflite.so" ] || fail "no TFLite engine next to modelgate (make)"
	GEN=$MG_SRCDIR/tests/cli/make_tflite.py
}

# litert_run [--time N] MODEL OUTDIR [NAME=IN.npy | IN.npy]...: runs MODEL
# through LiteRT.js (tests/cli/litert_run.mjs) and writes its outputs as
# OUTDIR/NAME.npy; one JSON line on stdout. npy_compare (--range-tol TOL |
# --exact | --max-steps N [--step S]) REF GOT: compares outputs (tests/cli/npy_compare.py).
litert_run() { node "$MG_SRCDIR/tests/cli/litert_run.mjs" "$@"; }
npy_compare() { "$PY" "$MG_SRCDIR/tests/cli/npy_compare.py" "$@"; }
