# Helpers for the deploy tests (tests/cli/t_deploy_*.sh), sourced after
# lib.sh (and lib_registry.sh for registry tests).
#
#   make_report DIGEST pass|fail OUT   a report.json for DIGEST, from the
#                                      fixture report, every gate passing or
#                                      one failing
#   recorder_start                     the recording server (recorder.py):
#                                      sets REC (http://127.0.0.1:PORT) and
#                                      REC_LOG (JSON lines, one per request)
#   recorder_control JSON              e.g. '{"fail_first": 1}'
#   rec_count                          requests recorded so far
#   rec_check N EXPR                   EXPR (Python, r = the N-th request,
#                                      1-based) is true

make_report() {
	"$PY" - "$MG_SRCDIR/tests/fixtures/report_full.json" "$1" "$2" "$3" <<'PYEOF' ||
import json, sys
src, digest, status, out = sys.argv[1:5]
j = json.load(open(src))
j["model"]["digest"] = digest
for i, g in enumerate(j["gates"]):
    if g["status"] != "skip":
        g["status"] = "pass"
if status == "fail":
    j["gates"][0]["status"] = "fail"
j["status"] = status
j["passed"] = status == "pass"
j["exit_code"] = 0 if status == "pass" else 1
json.dump(j, open(out, "w"), indent=1)
PYEOF
		fail "cannot make a report"
}

_rec_pid=
recorder_start() {
	REC_LOG=$TEST_TMP/recorder.log
	: >"$REC_LOG"
	rm -f "$TEST_TMP/recorder.port"
	"$PY" "$MG_SRCDIR/tests/cli/recorder.py" "$REC_LOG" "$TEST_TMP/recorder.port" \
		2>"$TEST_TMP/recorder.err" &
	_rec_pid=$!
	_pids="${_pids:-} $_rec_pid"
	local i
	for i in $(seq 200); do
		[ -s "$TEST_TMP/recorder.port" ] && break
		sleep 0.05
	done
	[ -s "$TEST_TMP/recorder.port" ] || fail "the recorder did not start: $(cat "$TEST_TMP/recorder.err")"
	REC=http://127.0.0.1:$(cat "$TEST_TMP/recorder.port")
}

recorder_control() {
	curl -s -o /dev/null -X POST --data "$1" "$REC/__control" || fail "cannot reach the recorder"
}

rec_count() { grep -c . "$REC_LOG" || true; }

# rec_check N EXPR: with r the N-th recorded request (dict) and hmac/hashlib/json
# imported, EXPR is true.
rec_check() {
	"$PY" - "$REC_LOG" "$1" "$2" <<'PYEOF' >"$IO/rec.out" 2>&1 ||
import hashlib, hmac, json, sys, urllib.parse
lines = open(sys.argv[1]).read().splitlines()
r = json.loads(lines[int(sys.argv[2]) - 1])
try:
    b = json.loads(r["body"])
except ValueError:
    b = None
form = urllib.parse.parse_qs(r["body"])
sys.exit(0 if eval(sys.argv[3]) else 1)
PYEOF
		fail "request $1 fails: $2 $(head -c 600 "$IO/rec.out") $(sed -n "$1p" "$REC_LOG" | head -c 1500)"
}
