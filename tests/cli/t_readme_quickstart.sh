# The README's quickstart (the block after `<!-- snippet: quickstart -->`)
# takes a user from `init` to a report of their own model in at most 10
# commands, and works as printed: run with `sh -e` from the top of a copy of
# the checkout with modelgate on PATH, it exits 0, and leaves the config it
# wrote (valid against docs/modelgate.schema.json), a report whose gates all
# passed, and the HTML report. (t_ci_readme runs it again among every block.)
. "$(dirname "$0")/lib.sh"
need_py jsonschema python3-jsonschema

S=$TEST_TMP/snippets
"$MG_SRCDIR/tests/readme_snippets.sh" "$MG_SRCDIR/README.md" "$S" >"$TEST_TMP/snippets.list" ||
	fail "cannot extract the README snippets"
QS=$(awk '$1 == "quickstart" { print $2 }' "$TEST_TMP/snippets.list")
mkdir -p "$TEST_TMP/bin" "$TEST_TMP/checkout"
ln -s "$MODELGATE" "$TEST_TMP/bin/modelgate"
cp -r "$MG_SRCDIR/examples" "$TEST_TMP/checkout/"
rm -f "$TEST_TMP/checkout/examples/digits/report.json"

one_quickstart_of_at_most_ten_commands() {
	[ "$(echo "$QS" | wc -w)" -eq 1 ] || fail "README.md has $(echo "$QS" | wc -w) quickstart snippets, expected 1"
	local n
	n=$(grep -cvE '^[[:space:]]*(#|$)' "$QS")
	[ "$n" -le 10 ] || fail "the quickstart has $n commands, more than 10"
	grep -q '^modelgate init ' "$QS" || fail "the quickstart does not start from modelgate init"
	grep -q -- '--report ' "$QS" || fail "the quickstart writes no report"
}

quickstart_runs_as_printed() {
	printf 'sh -e README quickstart\n' >"$IO/last_cmd"
	(cd "$TEST_TMP/checkout" && PATH="$TEST_TMP/bin:$PATH" sh -e "$QS") >"$OUT" 2>"$ERR" ||
		fail "the quickstart failed: $(tail -5 "$ERR")"
	local d=$TEST_TMP/checkout/examples/digits
	json_ok "j['passed'] and [g['name'] for g in j['gates']] == ['accuracy', 'fidelity', 'latency', 'size', 'memory'] and all(g['status'] in ('pass', 'inconclusive') for g in j['gates'])" "$d/first-report.json"
	expect_file "$d/first-report.html"
	expect_stdout_contains "would run"
	expect_stdout_contains "| accuracy"
	"$PY" -c 'import json, sys, jsonschema
jsonschema.Draft202012Validator(json.load(open(sys.argv[1]))).validate(json.load(open(sys.argv[2])))' \
		"$MG_SRCDIR/docs/modelgate.schema.json" "$d/first.json" || fail "first.json does not validate"
	expect_no_file "$d/report.json"
}

check one_quickstart_of_at_most_ten_commands one_quickstart_of_at_most_ten_commands
check quickstart_runs_as_printed quickstart_runs_as_printed
finish
