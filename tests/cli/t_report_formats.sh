# `modelgate report` converts the committed fixture report
# (tests/fixtures/report_full.json: six gates, escaping-hungry names, raw
# latency samples, a confusion matrix) into every format, and each output is
# checked by the real consumer's rules: xmllint for JUnit and HTML, the
# Prometheus client's OpenMetrics parser, cmark-gfm for the Markdown
# (headless Chromium draws the HTML page's charts in t_report_pictures).
. "$(dirname "$0")/lib.sh"

FX=$TEST_TMP/report.json
cp "$MG_SRCDIR/tests/fixtures/report_full.json" "$FX"
need xmllint libxml2-utils
need cmark-gfm cmark-gfm
need_py prometheus_client.openmetrics.parser python3-prometheus-client

# A copy of the fixture changed by a Python statement on j.
edited() { # out.json statement
	"$PY" -c 'import json, sys
j = json.load(open(sys.argv[1]))
exec(sys.argv[3])
json.dump(j, open(sys.argv[2], "w"))' "$FX" "$1" "$2" || fail "cannot edit the fixture"
}

t_table_is_the_default() {
	expect_exit 0 mg report "$FX"
	expect_stdout_matches '^GATE +KIND +STATUS +VALUE +LIMIT +BASELINE +DELTA$'
	expect_stdout_matches '^latency p95 <local> +latency@local +fail +11\.84 ms +<= 10 ms +9\.62 ms +\+2\.22 ms \(\+23\.1%\)$'
	expect_stdout_contains "ERROR: 3 passed, 1 failed, 1 error, 1 skipped"
	expect_stderr_empty
	! grep -q $'\033' "$OUT" || fail "colour codes although stdout is not a terminal"
}

t_exit_code_is_the_conversion_unless_asked() {
	expect_exit 0 mg report "$FX" --format json
	expect_exit 3 mg report "$FX" --exit-status
	edited fail.json 'j["gates"] = [g for g in j["gates"] if g["status"] != "error"]'
	expect_exit 1 mg report fail.json --exit-status -o /dev/null
	edited pass.json 'j["gates"] = [g for g in j["gates"] if g["status"] in ("pass", "skip")]'
	expect_exit 0 mg report pass.json --exit-status
}

t_json_converts_back_to_the_same_bytes() {
	expect_exit 0 mg report "$FX" --format json -o again.json
	expect_stdout_empty
	expect_same_file "$FX" again.json
	json_ok 'j["schema_version"] == 1 and j["status"] == "error" and j["exit_code"] == 3' again.json
	json_ok 'len(j["gates"][2]["latency"]["samples_ns"]["candidate"]) == 200' again.json
	json_ok 'j["gates"][1]["figures"][1]["baseline"] is None' again.json
}

t_junit_is_valid_and_has_a_testcase_per_gate() {
	expect_exit 0 mg report "$FX" --format junit -o junit.xml
	xmllint --noout junit.xml 2>"$IO/xmllint" || fail "xmllint: $(head -5 "$IO/xmllint")"
	xp() { xmllint --xpath "$1" junit.xml 2>/dev/null; }
	[ "$(xp 'count(/testsuites/testsuite/testcase)')" = 6 ] || fail "not 6 testcases"
	[ "$(xp 'count(//testcase[@classname and @name and @time])')" = 6 ] ||
		fail "a testcase lacks classname, name or time"
	[ "$(xp 'count(//testcase[@name="latency p95 <local>"]/failure[@message])')" = 1 ] ||
		fail "the failing latency gate has no <failure message=...>"
	[ "$(xp 'string(//testcase[@name="latency p95 <local>"]/@classname)')" = modelgate.latency.local ] ||
		fail "wrong classname"
	[ "$(xp 'count(//testcase[@name="peak memory on pi4"]/error[@message])')" = 1 ] || fail "no <error>"
	[ "$(xp 'count(//testcase/skipped)')" = 1 ] || fail "not one <skipped/>"
	[ "$(xp 'count(//failure) + count(//error)')" = 2 ] || fail "passing gates have failures"
	[ "$(xp 'concat(//testsuite/@tests, "/", //testsuite/@failures, "/", //testsuite/@errors, "/", //testsuite/@skipped)')" = 6/1/1/1 ] ||
		fail "wrong counts on <testsuite>"
	# names with <&>"' and unicode come back exactly as they are in the report
	"$PY" - junit.xml "$FX" <<'EOF' || fail "names or messages do not survive XML escaping"
import json, sys, xml.etree.ElementTree as ET
cases = ET.parse(sys.argv[1]).getroot().iter("testcase")
gates = json.load(open(sys.argv[2]))["gates"]
names = [c.get("name") for c in cases]
assert names == [g["name"] for g in gates], names
fail = ET.parse(sys.argv[1]).getroot().find(".//failure")
assert fail.get("message") == gates[2]["reason"], fail.get("message")
EOF
}

t_openmetrics_parses_with_the_prometheus_client() {
	expect_exit 0 mg report "$FX" --format openmetrics -o metrics.txt
	"$PY" - metrics.txt "$FX" <<'EOF' >"$IO/om" 2>&1 || fail "OpenMetrics: $(tail -3 "$IO/om")"
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
text = open(sys.argv[1]).read()
gates = json.load(open(sys.argv[2]))["gates"]
fams = {f.name: f for f in text_string_to_metric_families(text)}  # raises on invalid text
assert text.endswith("# EOF\n")
passed = {s.labels["gate"]: s.value for s in fams["modelgate_gate_passed"].samples}
assert passed[gates[0]["name"]] == 1, passed      # the name with <&>"' and unicode
assert passed["latency p95 <local>"] == 0
assert "latency p99 on pi4 (ci-only)" not in passed  # skipped
assert fams["modelgate_latency_seconds"].type == "summary"
q = [s for s in fams["modelgate_latency_seconds"].samples
     if s.labels.get("quantile") == "0.95" and s.labels["model"] == "candidate"]
assert len(q) == 1 and 0.009 < q[0].value < 0.02, q
assert fams["modelgate_report"].type == "info"
values = {s.labels["gate"]: s.value for s in fams["modelgate_gate_value"].samples}
assert values["latency p95 <local>"] == 11.84
print(len(fams), "families")
EOF
}

t_markdown_renders_as_a_gfm_table() {
	expect_exit 0 mg report "$FX" --format markdown -o summary.md
	cmark-gfm -e table summary.md >summary.html || fail "cmark-gfm failed"
	grep -q '<table>' summary.html || fail "no <table> in the rendered Markdown"
	[ "$(grep -c '<tr>' summary.html)" -ge 7 ] || fail "the gate table does not have a row per gate"
	grep -qF '>latency p95 &lt;local&gt;</td>' summary.html || fail "gate name not escaped in its cell"
	grep -qF 'accuracy &lt;top-1&gt; &amp; &quot;recall&quot;' summary.html || fail "escaping lost"
	# trimmed under a small limit: still the headline and the whole table
	expect_exit 0 mg report "$FX" --format markdown --max-bytes 1600
	[ "$(wc -c <"$OUT")" -le 1600 ] || fail "over 1600 bytes"
	cmark-gfm -e table "$OUT" >small.html
	grep -q '<table>' small.html || fail "no <table> in the trimmed summary"
	for g in 'latency p95 &lt;local&gt;' 'peak memory on pi4' 'latency p99 on pi4 (ci-only)' 'fidelity int8 vs fp32'; do
		grep -qF ">$g</td>" small.html || fail "the trimmed summary lost the row of '$g'"
	done
	expect_stdout_contains "left out to stay under 1600 bytes"
	expect_exit 2 mg report "$FX" --format markdown --max-bytes 100
	expect_error "needs more than 100 bytes"
}

t_annotations_and_outputs() {
	expect_exit 0 mg report "$FX" --format annotations
	head -1 "$OUT" | grep -q "^::error title=modelgate%3A gate 'peak memory on pi4' could not be evaluated::" ||
		fail "the infrastructure error is not first"
	sed -n 2p "$OUT" | grep -q "^::error title=modelgate%3A gate 'latency p95 <local>' failed::" ||
		fail "the failure is not second"
	grep -q '^::warning title=.*noisy measurement::block medians differ by 14%25' "$OUT" || fail "no noisy warning"
	[ "$(wc -l <"$OUT")" = 3 ] || fail "not one line per annotation"
	expect_exit 0 mg report "$FX" --format annotations --max-annotations 1
	[ "$(grep -c '^::error ' "$OUT")" = 1 ] || fail "cap not applied"
	expect_exit 0 mg report "$FX" --format github-outputs
	expect_stdout_contains "passed=false"
	expect_stdout_contains "gate_latency_p95_local_value=11.84"
	! grep -vqE '^[a-z0-9_]+=' "$OUT" || fail "a line is not a safe key=value"
}

t_html_parses_and_renders() {
	expect_exit 0 mg report "$FX" --format html -o report.html
	xmllint --html --noout report.html 2>"$IO/xmllint"
	[ ! -s "$IO/xmllint" ] || fail "xmllint --html: $(head -5 "$IO/xmllint")"
	! grep -qiE '<script|src="https?:|href="https?:|@import|url\(http' report.html || fail "not self-contained"
	# each chart is a standalone SVG document that is well-formed XML
	grep -o 'data:image/svg+xml;base64,[A-Za-z0-9+/=]*' report.html | cut -d, -f2 >charts.b64
	[ "$(wc -l <charts.b64)" = 6 ] ||
		fail "expected 6 charts (confusion matrices of candidate, baseline and their difference, fidelity, latency and its CDF)"
	local i=0 line
	while read -r line; do
		i=$((i + 1))
		printf '%s' "$line" | base64 -d >"chart$i.svg" || fail "chart $i is not base64"
		xmllint --noout "chart$i.svg" 2>"$IO/xmllint" || fail "chart $i: $(head -3 "$IO/xmllint")"
	done <charts.b64
	grep -q 'predicted class' chart1.svg || fail "chart 1 is not the confusion matrix"
	grep -q '>candidate - baseline</text>' chart3.svg || fail "chart 3 is not the difference view"
	grep -q 'absolute error: ' chart4.svg || fail "chart 4 is not the fidelity histogram"
	grep -q '>9 ms</text>' chart5.svg || fail "the latency axis has no ms labels"
	grep -q 'candidate: median' chart5.svg || fail "no legend"
	grep -q 'log scale' chart6.svg || fail "chart 6 is not the latency CDF"
	# how Chromium draws each of them: t_report_pictures
}

# The failing latency gate of the fixture made inconclusive (schema 2):
# its own status in every format, and on_inconclusive decides the exit.
t_inconclusive_is_its_own_status_everywhere() {
	edited incl.json 'j["schema_version"] = 2
g = j["gates"][2]
g["status"], g["on_inconclusive"] = "inconclusive", "warn"
g["reason"] = "inconclusive: 1.031x the baseline, 98% interval [0.982, 1.082] over 12 paired blocks straddles the allowed 1.05x"
j["gates"] = [x for x in j["gates"] if x["status"] != "error"]'
	expect_exit 0 mg report incl.json --exit-status
	expect_stdout_matches '^latency p95 <local> +latency@local +inconclusive '
	expect_stdout_contains "PASSED: 3 passed, 0 failed, 0 errors, 1 skipped, 1 inconclusive"
	expect_exit 0 mg report incl.json --format json -o incl2.json
	json_ok 'j["schema_version"] == 2 and j["gates"][2]["status"] == "inconclusive" and j["gates"][2]["on_inconclusive"] == "warn" and j["exit_code"] == 0' incl2.json
	expect_exit 0 mg report incl.json --format junit -o incl.xml
	xmllint --noout incl.xml 2>"$IO/xmllint" || fail "xmllint: $(head -5 "$IO/xmllint")"
	xp() { xmllint --xpath "$1" incl.xml 2>/dev/null; }
	[ "$(xp 'count(//testcase[@name="latency p95 <local>"]/skipped[starts-with(@message, "inconclusive: ")])')" = 1 ] ||
		fail "the inconclusive gate is not <skipped message=\"inconclusive: ...\">"
	[ "$(xp 'string(//testcase[@name="latency p95 <local>"]/properties/property[@name="modelgate.status"]/@value)')" = inconclusive ] ||
		fail "no modelgate.status property on the inconclusive testcase"
	[ "$(xp 'concat(//testsuite/@failures, "/", //testsuite/@skipped)')" = 0/2 ] || fail "wrong counts on <testsuite>"
	expect_exit 0 mg report incl.json --format markdown -o incl.md
	cmark-gfm -e table incl.md >incl.md.html || fail "cmark-gfm failed"
	grep -qF 'modelgate: no gate failed, 1 inconclusive' incl.md.html || fail "the Markdown heading does not say inconclusive"
	grep -qE '<td[^>]*>[^<]* inconclusive</td>' incl.md.html || fail "no inconclusive cell in the Markdown table"
	expect_exit 0 mg report incl.json --format html -o incl.html
	xmllint --html --noout incl.html 2>"$IO/xmllint"
	[ ! -s "$IO/xmllint" ] || fail "xmllint --html: $(head -5 "$IO/xmllint")"
	grep -qF '<span class="pill inconclusive">inconclusive</span>' incl.html || fail "no inconclusive pill in the HTML"
	expect_exit 0 mg report incl.json --format annotations
	grep -q "^::warning title=modelgate%3A gate 'latency p95 <local>' is inconclusive::inconclusive: 1.031x" "$OUT" ||
		fail "no warning annotation for the inconclusive gate"
	expect_exit 0 mg report incl.json --format openmetrics
	expect_stdout_contains 'modelgate_gate_inconclusive{gate="latency p95 <local>",kind="latency",target="local"} 1'
	# on_inconclusive fail fails the run
	"$PY" -c 'import json; j = json.load(open("incl.json")); j["gates"][2]["on_inconclusive"] = "fail"; json.dump(j, open("inclf.json", "w"))' ||
		fail "cannot edit incl.json"
	expect_exit 1 mg report inclf.json --exit-status -o /dev/null
	expect_exit 0 mg report inclf.json --format junit -o inclf.xml
	[ "$(xmllint --xpath 'count(//failure[@type="inconclusive"])' inclf.xml)" = 1 ] || fail "not a <failure type=\"inconclusive\">"
}

check table_is_the_default t_table_is_the_default
check exit_code_is_the_conversion_unless_asked t_exit_code_is_the_conversion_unless_asked
check json_converts_back_to_the_same_bytes t_json_converts_back_to_the_same_bytes
check junit_is_valid_and_has_a_testcase_per_gate t_junit_is_valid_and_has_a_testcase_per_gate
check openmetrics_parses_with_the_prometheus_client t_openmetrics_parses_with_the_prometheus_client
check markdown_renders_as_a_gfm_table t_markdown_renders_as_a_gfm_table
check annotations_and_outputs t_annotations_and_outputs
check html_parses_and_renders t_html_parses_and_renders
check inconclusive_is_its_own_status_everywhere t_inconclusive_is_its_own_status_everywhere
finish
