# `modelgate report` on bad input: each is refused with exit 2 and one error
# line naming the file (and where in it), nothing on stdout, and no output
# file left behind; -o replaces a file atomically.
. "$(dirname "$0")/lib.sh"

FX=$TEST_TMP/report.json
cp "$MG_SRCDIR/tests/fixtures/report_full.json" "$FX"

t_missing_file() {
	expect_exit 2 mg report nope.json
	expect_error "'nope.json'" "No such file"
}

t_syntax_error_names_line_and_column() {
	printf '{\n  "schema_version": 1,\n  "gates": [,]\n}\n' >syntax.json
	expect_exit 2 mg report syntax.json -o out.txt
	expect_error "'syntax.json':3:"
	expect_no_file out.txt
}

t_newer_schema_is_refused() {
	"$PY" -c 'import json, sys
j = json.load(open(sys.argv[1])); j["schema_version"] = 7
json.dump(j, open("newer.json", "w"))' "$FX"
	expect_exit 2 mg report newer.json --format junit
	expect_error "'newer.json'" "schema_version 7" "upgrade modelgate"
}

t_bad_value_names_its_path() {
	"$PY" -c 'import json, sys
j = json.load(open(sys.argv[1])); j["gates"][2]["latency"]["samples_ns"]["baseline"][5] = "fast"
json.dump(j, open("badvalue.json", "w"))' "$FX"
	expect_exit 2 mg report badvalue.json
	expect_error "'badvalue.json'" "gates[2].latency.samples_ns.baseline[5]"
}

t_bad_usage() {
	expect_exit 2 mg report "$FX" --format yaml
	expect_error "'yaml' is not a format"
	expect_exit 2 mg report
	expect_error "expected one report file"
	expect_exit 2 mg report "$FX" --max-bytes lots
	expect_error "'lots' is not a byte count"
	expect_exit 0 mg report --help
	expect_stdout_contains "--exit-status"
}

t_output_is_replaced_atomically() {
	echo "old contents" >out.html
	expect_exit 0 mg report "$FX" --format html -o out.html
	expect_stdout_empty
	expect_stderr_empty
	head -c 15 out.html | grep -qx '<!DOCTYPE html>' || fail "out.html was not replaced"
	[ -z "$(ls -A . | grep '^\.tmp-')" ] || fail "a temporary file was left behind"
	expect_exit 2 mg report "$FX" -o no-such-dir/out.txt
	expect_error "no-such-dir"
}

check missing_file t_missing_file
check syntax_error_names_line_and_column t_syntax_error_names_line_and_column
check newer_schema_is_refused t_newer_schema_is_refused
check bad_value_names_its_path t_bad_value_names_its_path
check bad_usage t_bad_usage
check output_is_replaced_atomically t_output_is_replaced_atomically
finish
