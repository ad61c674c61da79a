#!/bin/sh
# Runs the CLI test scripts tests/cli/t_*.sh (all of them, or those named on
# the command line, e.g. `run.sh t_store_basic`), each with bash in a fresh
# temporary folder that is its working directory and is removed afterwards,
# with MODELGATE_HOME pointing at a store path inside it that does not exist
# yet. Prints each test's name and ok or FAIL (with the test's output on
# failure; all output with -v), then "N passed, N failed". Exits 1 when any
# test failed.
#
#   MODELGATE=/path/to/modelgate tests/cli/run.sh [-v] [t_name...]
set -u

here=$(cd "$(dirname "$0")" && pwd)
verbose=0
if [ "${1:-}" = "-v" ]; then
	verbose=1
	shift
fi
if [ -z "${MODELGATE:-}" ]; then
	echo "run.sh: set MODELGATE to the modelgate binary" >&2
	exit 2
fi
case $MODELGATE in
/*) ;;
*) MODELGATE=$(pwd)/$MODELGATE ;;
esac
if [ ! -x "$MODELGATE" ]; then
	echo "run.sh: '$MODELGATE' is not an executable file" >&2
	exit 2
fi
MG_SRCDIR=$(cd "$here/../.." && pwd)
# A private copy of the binary: a rebuild while the tests run does not swap
# it under them.
tmp=
log=
bindir=$(mktemp -d "${TMPDIR:-/tmp}/modelgate-cli-bin.XXXXXX") || exit 3
trap 'rm -rf "$bindir" ${tmp:+"$tmp"} ${log:+"$log"}' EXIT
trap 'exit 130' INT TERM
cp "$MODELGATE" "$bindir/modelgate" || exit 3
# the agents next to it go with it (modelgate looks for them there), and
# the aarch64 agent's cpuinfo library next to that
srcbin=$(dirname "$MODELGATE")
[ -x "$srcbin/modelgate-agent" ] && { cp "$srcbin/modelgate-agent" "$bindir/" || exit 3; }
# and the fleet updater (MODELGATE_DEVICE for the t_device_* tests)
[ -x "$srcbin/modelgate-device" ] && { cp "$srcbin/modelgate-device" "$bindir/" || exit 3; }
[ -x "$srcbin/aarch64/modelgate-agent" ] &&
	{ mkdir -p "$bindir/aarch64" && cp "$srcbin/aarch64/modelgate-agent" "$bindir/aarch64/" || exit 3; }
# (and the aarch64 fleet updater, t_device_aarch64)
[ -x "$srcbin/aarch64/modelgate-device" ] &&
	{ mkdir -p "$bindir/aarch64" && cp "$srcbin/aarch64/modelgate-device" "$bindir/aarch64/" || exit 3; }
[ -f "$srcbin/aarch64/libmodelgate-cpuinfo.so" ] &&
	{ cp "$srcbin/aarch64/libmodelgate-cpuinfo.so" "$bindir/aarch64/" || exit 3; }
# and each agent's TFLite engine with Arm NN's libraries in armnn/
for d in "" aarch64/; do
	[ -f "$srcbin/${d}libmodelgate-tflite.so" ] && [ -d "$bindir/$d" ] &&
		{ cp -a "$srcbin/${d}libmodelgate-tflite.so" "$srcbin/${d}armnn" "$bindir/$d" || exit 3; }
done
# and the man pages and completions make writes beside them (install.sh)
for d in man completions; do
	[ -d "$srcbin/$d" ] && { cp -a "$srcbin/$d" "$bindir/" || exit 3; }
done
MODELGATE=$bindir/modelgate
export MODELGATE MG_SRCDIR
export NO_COLOR=1 LC_ALL=C
# Nothing from the caller's environment may steer the store, git or the
# timestamps under test.
unset XDG_DATA_HOME SOURCE_DATE_EPOCH GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE \
	GIT_CEILING_DIRECTORIES CLICOLOR_FORCE

if [ $# -gt 0 ]; then
	tests=""
	for n in "$@"; do
		n=${n%.sh}
		n=${n##*/}
		if [ ! -f "$here/$n.sh" ]; then
			echo "run.sh: no test '$here/$n.sh'" >&2
			exit 2
		fi
		tests="$tests $here/$n.sh"
	done
else
	tests=$(ls "$here"/t_*.sh 2>/dev/null | LC_ALL=C sort)
fi

passed=0
failed=0
failed_names=""
for t in $tests; do
	name=$(basename "$t" .sh)
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/modelgate-cli.XXXXXX") || exit 3
	log=$(mktemp "${TMPDIR:-/tmp}/modelgate-cli-log.XXXXXX") || exit 3
	(
		cd "$tmp" &&
			MODELGATE_HOME=$tmp/store MODELGATE_DIGEST_CACHE=$tmp/digests TEST_TMP=$tmp \
				exec bash "$t"
	) >"$log" 2>&1 </dev/null
	rc=$?
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1))
		printf '%-28s ok\n' "$name"
		[ $verbose -eq 1 ] && sed 's/^/    /' "$log"
	else
		failed=$((failed + 1))
		failed_names="$failed_names $name"
		printf '%-28s FAIL (exit %d)\n' "$name" "$rc"
		sed 's/^/    /' "$log"
	fi
	chmod -R u+rwX "$tmp" 2>/dev/null
	rm -rf "$tmp" "$log"
	tmp=
	log=
done

[ $failed -gt 0 ] && echo "failed:$failed_names"
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
