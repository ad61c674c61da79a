# The ONNX backend conformance cases of Debian's libonnx-testdata, each run
# with `modelgate run CASE/model.onnx --target local --inputs/--expect
# CASE/test_data_set_0`. Cases that fail for a known reason are listed in
# tests/fixtures/ort_unsupported.txt ("NAME EXIT REASON"); the check fails on
# a case that fails but is not listed (or fails with another exit code), and
# on a listed case that now passes, so the list stays honest.
# MG_CONFORMANCE_JOBS sets the parallelism (default: the number of CPUs);
# MG_CONFORMANCE_FILTER an extended regex to select cases (default all).
. "$(dirname "$0")/lib.sh"

NODE=/usr/share/libonnx-testdata/data/node
LIST=$MG_SRCDIR/tests/fixtures/ort_unsupported.txt
[ -d "$NODE" ] || fail "no '$NODE': install Debian's libonnx-testdata (make deps-test)"
export MODELGATE_AGENT_CACHE=$TEST_TMP/agent-cache
JOBS=${MG_CONFORMANCE_JOBS:-$(nproc)}
FILTER=${MG_CONFORMANCE_FILTER:-.}

cat >"$TEST_TMP/one.sh" <<'ONE'
#!/bin/sh
# one.sh CASE_DIR: prints "NAME EXIT FIRST-LINE-OF-STDERR"
c=$1
err=$("$MODELGATE" run "$c/model.onnx" --target local --inputs "$c/test_data_set_0" \
	--expect "$c/test_data_set_0" --iterations 1 --warmup 0 --min-time 0 -q 2>&1 >/dev/null)
rc=$?
printf '%s %s %s\n' "${c##*/}" "$rc" "$(printf '%s' "$err" | head -n 1)"
ONE
chmod +x "$TEST_TMP/one.sh"

start=$(date +%s.%N)
ls -d "$NODE"/*/ | sed 's,/$,,' | grep -E -- "$FILTER" |
	xargs -P "$JOBS" -n 1 "$TEST_TMP/one.sh" | LC_ALL=C sort >"$TEST_TMP/results.txt"
secs=$(echo "$(date +%s.%N) - $start" | bc)
total=$(wc -l <"$TEST_TMP/results.txt")
passed=$(awk '$2 == 0' "$TEST_TMP/results.txt" | wc -l)
echo "  conformance: $passed of $total cases pass on local in ${secs%.*} s ($JOBS jobs)"

t_every_failure_is_listed() {
	local bad=0 name rc msg want
	while read -r name rc msg; do
		[ "$rc" = 0 ] && continue
		want=$(awk -v n="$name" '$1 == n {print $2}' "$LIST")
		if [ -z "$want" ]; then
			echo "  new failure: $name (exit $rc): $msg"
			bad=$((bad + 1))
		elif [ "$want" != "$rc" ]; then
			echo "  $name: exit $rc, the list says $want: $msg"
			bad=$((bad + 1))
		fi
	done <"$TEST_TMP/results.txt"
	[ "$bad" -eq 0 ] || fail "$bad case(s) fail without a listed reason"
}

t_every_listed_case_still_fails() {
	local bad=0 name rc rest got
	while read -r name rc rest; do
		case $name in '#'* | '') continue ;; esac
		got=$(awk -v n="$name" '$1 == n {print $2}' "$TEST_TMP/results.txt")
		[ -z "$got" ] && continue # not selected by the filter
		if [ "$got" = 0 ]; then
			echo "  $name passes now: remove it from ${LIST##*/}"
			bad=$((bad + 1))
		fi
	done <"$LIST"
	[ "$bad" -eq 0 ] || fail "$bad listed case(s) pass"
}

t_most_cases_pass() {
	[ "$total" -ge 1 ] || fail "no cases ran"
	# a broad regression (every case failing) must not hide behind the list
	[ "$FILTER" != . ] || [ "$passed" -ge 800 ] || fail "only $passed cases pass"
}

check every_failure_is_listed_with_its_exit_code t_every_failure_is_listed
check every_listed_case_still_fails t_every_listed_case_still_fails
check most_cases_pass t_most_cases_pass
finish
