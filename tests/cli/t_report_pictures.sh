# Every picture of the HTML report, as a real browser draws it: headless
# Chromium lays out the report of the committed fixture
# (tests/fixtures/report_full.json: a classifier with a baseline, a fidelity
# gate, a latency gate with outliers) and takes a screenshot of the whole
# page; a copy of the page with a probe script tells where each chart lies
# (tests/cli/chart_check.py). Each chart is checked in its region of the
# screenshot: decoded, drawn at a sane size at its own aspect ratio inside
# the page, not blank, and its legend or colour scale present.
. "$(dirname "$0")/lib.sh"

need chromium chromium
need_py PIL python3-pil
cp "$MG_SRCDIR/tests/fixtures/report_full.json" report.json
CHECK_PY=$MG_SRCDIR/tests/cli/chart_check.py

# chromium ARGS...: headless, without a sandbox (tests run as root), a fresh
# profile, scrollbars hidden so that every run lays out the same 1200 px.
chromium_run() {
	mkdir -p "$TEST_TMP/profile" "$TEST_TMP/home"
	HOME=$TEST_TMP/home timeout 120 chromium --headless --no-sandbox --disable-gpu --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync --hide-scrollbars \
		--force-device-scale-factor=1 --user-data-dir="$TEST_TMP/profile" "$@" 2>"$IO/chromium"
}

# shoot HTML PNG: probes HTML (a copy with the probe) for its height, then
# screenshots HTML itself at that height; the probe's record in $PNG.dom.
shoot() {
	"$PY" "$CHECK_PY" probe "$1" "$1.probe.html" || fail "cannot write the probe page"
	chromium_run --window-size=1200,1600 --virtual-time-budget=5000 --dump-dom "file://$PWD/$1.probe.html" \
		>"$2.dom" || fail "chromium --dump-dom: $(tail -3 "$IO/chromium")"
	local h
	h=$("$PY" -c 'import html, json, re, sys
m = re.search(r"data-probe=\"([^\"]*)\"", open(sys.argv[1]).read())
print(json.loads(html.unescape(m.group(1)))["height"] if m else "")' "$2.dom")
	[ -n "$h" ] || fail "the probe did not run: $(head -c 300 "$2.dom")"
	# the same window for the positions and the screenshot
	chromium_run --window-size=1200,"$h" --virtual-time-budget=5000 --dump-dom "file://$PWD/$1.probe.html" \
		>"$2.dom" || fail "chromium --dump-dom: $(tail -3 "$IO/chromium")"
	chromium_run --window-size=1200,"$h" --screenshot="$PWD/$2" "file://$PWD/$1" >/dev/null ||
		fail "chromium --screenshot: $(tail -3 "$IO/chromium")"
	[ -s "$2" ] || fail "chromium wrote no screenshot"
}

# The fixture's six charts, in page order, and the colours each must show:
# the confusion matrices their colour scale's darkest blue, the difference
# its red and green legend swatches and cells (class 5's changes of 2, a
# third of the largest, in a lighter red), the latency charts both legend
# swatches (the histogram's at 70% opacity on white), the fidelity
# histogram its orange swatch and bars.
cat >expect.json <<'JSON'
[
 {"alt": ["confusion matrix of the candidate", "confusion matrix of the baseline"], "min_size": [300, 300],
  "colors": [{"rgb": "#08306b", "box": [0.8, 0, 1, 1], "min_px": 20},
             {"rgb": "#08306b", "box": [0, 0.1, 0.8, 1], "min_px": 200}]},
 {"alt": "difference of the confusion matrices", "min_size": [300, 300],
  "colors": [{"rgb": "#cf222e", "box": [0.75, 0, 1, 0.5], "min_px": 60},
             {"rgb": "#1a7f37", "box": [0.75, 0, 1, 0.5], "min_px": 60},
             {"rgb": "#e37f86", "box": [0, 0.1, 0.75, 1], "min_px": 200},
             {"rgb": "#1a7f37", "box": [0, 0.1, 0.75, 1], "min_px": 200}]},
 {"alt": "histogram of the absolute error", "min_size": [600, 150],
  "colors": [{"rgb": "#f58518", "box": [0, 0, 0.4, 0.1], "min_px": 100},
             {"rgb": "#f58518", "box": [0, 0.1, 1, 0.85], "min_px": 2000}]},
 {"alt": "latency histogram and box plots", "min_size": [600, 200],
  "colors": [{"rgb": "#82a0c2", "box": [0, 0, 0.5, 0.09], "min_px": 100},
             {"rgb": "#f8aa5d", "box": [0, 0, 0.7, 0.09], "min_px": 100}]},
 {"alt": "latency CDF of baseline and candidate on a log axis", "min_size": [600, 150],
  "colors": [{"rgb": "#4c78a8", "box": [0, 0, 0.5, 0.1], "min_px": 100},
             {"rgb": "#f58518", "box": [0, 0, 0.7, 0.1], "min_px": 100},
             {"rgb": "#4c78a8", "box": [0, 0.1, 1, 0.85], "min_px": 100}]}
]
JSON

t_every_chart_of_the_report_is_drawn_with_its_legend() {
	expect_exit 0 mg report report.json --format html -o report.html
	shoot report.html report.png
	"$PY" "$CHECK_PY" check report.png.dom report.png expect.json >"$IO/check" 2>&1 ||
		fail "$(cat "$IO/check")"
	[ "$(grep -c '^ok ' "$IO/check")" = 6 ] || fail "not six charts checked: $(cat "$IO/check")"
	[ -z "${MG_KEEP_SCREENSHOT:-}" ] || cp report.png "$MG_KEEP_SCREENSHOT"
}

# The check itself fails on a broken picture: the candidate's confusion
# matrix replaced by an SVG that does not parse is not decoded.
t_a_broken_chart_fails_the_check() {
	expect_exit 0 mg report report.json --format html -o report.html
	"$PY" - report.html broken.html <<'PYEOF' || fail "cannot break the chart"
import re, sys
page = open(sys.argv[1]).read()
page = re.sub(r'src="data:image/svg\+xml;base64,[^"]*"', 'src="data:image/svg+xml;base64,PHN2Zz4="', page, count=1)
open(sys.argv[2], "w").write(page)
PYEOF
	shoot broken.html broken.png
	! "$PY" "$CHECK_PY" check broken.png.dom broken.png expect.json >"$IO/check" 2>&1 ||
		fail "a chart that is not drawn passed: $(cat "$IO/check")"
	grep -q "confusion matrix of the candidate.*not decoded" "$IO/check" || fail "$(cat "$IO/check")"
}

check every_chart_of_the_report_is_drawn_with_its_legend t_every_chart_of_the_report_is_drawn_with_its_legend
check a_broken_chart_fails_the_check t_a_broken_chart_fails_the_check
finish
