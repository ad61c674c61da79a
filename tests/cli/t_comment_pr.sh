# modelgate comment --report: posts the Markdown summary on the pull request
# (GitHub issue comments API) or merge request (GitLab notes API) of the CI
# run, found from the CI variables, against a local fake of both APIs
# (ci_recorder.py): the first run POSTs, later runs update the same comment
# (found by its hidden marker, also past the first page of 100) instead of
# adding one; a run that is not for a request succeeds without a comment.
# The report's charts go with the comment the way CML's do: uploaded to the
# GitLab project and shown in a collapsed block of the note, and on GitHub
# (whose API takes no pictures) listed there with a link to the HTML report.
. "$MG_SRCDIR/tests/cli/lib.sh"
. "$MG_SRCDIR/tests/cli/lib_registry.sh"

LOG=$TEST_TMP/api.log
: >"$LOG"
"$PY" "$MG_SRCDIR/tests/cli/ci_recorder.py" "$LOG" "$TEST_TMP/api.port" 2>"$TEST_TMP/api.err" &
_pids="$_pids $!"
for i in $(seq 100); do [ -s "$TEST_TMP/api.port" ] && break; sleep 0.05; done
[ -s "$TEST_TMP/api.port" ] || fail "the fake API did not start: $(cat "$TEST_TMP/api.err")"
API=http://127.0.0.1:$(cat "$TEST_TMP/api.port")

# reports: one passing, one failing
cp -r "$EXAMPLES" "$TEST_TMP/project"
(cd "$TEST_TMP/project" && "$MODELGATE" gate -q --report "$TEST_TMP/pass.json" &&
	"$MODELGATE" gate -q --model model_bad.onnx --report "$TEST_TMP/fail.json" </dev/null
	[ $? = 1 ]) >/dev/null 2>&1 || fail "cannot make the reports"
printf '{"pull_request": {"number": 7}, "number": 7}\n' >"$TEST_TMP/event.json"
TOKEN=ghs_secret-token-$$

gh() { # runs modelgate comment as a GitHub Actions pull request step
	env -u GITLAB_CI GITHUB_ACTIONS=true GITHUB_API_URL=$API GITHUB_REPOSITORY=acme/models \
		GITHUB_EVENT_PATH=$TEST_TMP/event.json GITHUB_REF=refs/pull/7/merge GITHUB_TOKEN=$TOKEN "$@"
}
gl() { # as a GitLab CI merge request job
	env -u GITHUB_ACTIONS GITLAB_CI=true CI_API_V4_URL=$API/api/v4 CI_PROJECT_ID=42 \
		CI_MERGE_REQUEST_IID=5 MODELGATE_GITLAB_TOKEN=$TOKEN "$@"
}
# requests METHOD PATH_RE: how many logged requests match
requests() {
	"$PY" -c 'import json, re, sys
print(sum(1 for l in open(sys.argv[1]) if (lambda r: r["method"] == sys.argv[2] and re.search(sys.argv[3], r["path"]))(json.loads(l))))' "$LOG" "$1" "$2"
}
last_body() {
	"$PY" -c 'import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["method"] == sys.argv[2]][-1]
print(json.loads(r["body"])["body"])' "$LOG" "$1"
}

github_first_run_posts() {
	expect_exit 0 gh "$MODELGATE" comment --report "$TEST_TMP/pass.json"
	expect_stdout_contains "posted comment 1001 on pull request #7"
	[ "$(requests POST '^/repos/acme/models/issues/7/comments$')" = 1 ] || fail "expected one POST"
	[ "$(requests GET '^/repos/acme/models/issues/7/comments\?per_page=100&page=1$')" = 1 ] || fail "no list request"
	last_body POST >"$TEST_TMP/body.md"
	head -n 1 "$TEST_TMP/body.md" | grep -qx '<!-- modelgate:report -->' || fail "no marker line"
	grep -q '^| Gate |' "$TEST_TMP/body.md" || fail "no gate table in the comment"
	"$PY" -c 'import json, sys
r = [json.loads(l) for l in open(sys.argv[1])][-1]
assert r["headers"]["authorization"] == "Bearer " + sys.argv[2], r["headers"]
assert r["headers"]["accept"] == "application/vnd.github+json"' "$LOG" "$TOKEN" || fail "wrong headers"
}

github_second_run_updates_in_place() {
	expect_exit 0 gh "$MODELGATE" comment --report "$TEST_TMP/fail.json"
	expect_stdout_contains "updated comment 1001 on pull request #7"
	[ "$(requests POST 'issues/7/comments$')" = 1 ] || fail "a second POST"
	[ "$(requests PATCH '^/repos/acme/models/issues/comments/1001$')" = 1 ] || fail "no PATCH of comment 1001"
	last_body PATCH | grep -q '❌' || fail "the update does not show the failure"
	grep -q "$TOKEN" "$ERR" && fail "the token appears in a message"
	return 0
}

github_finds_its_comment_past_the_first_page() {
	# 150 comments by others on #8, ours (with a key) is the 120th
	printf '{"pull_request": {"number": 8}}\n' >"$TEST_TMP/event8.json"
	"$PY" -c 'import json, sys
c = ["hello %d" % i for i in range(119)] + ["<!-- modelgate:report key=kws -->\nold"] + ["bye %d" % i for i in range(30)]
print(json.dumps({"thread": "gh:8", "comments": c}))' >"$TEST_TMP/seed.json"
	curl -s -o /dev/null -X POST --data-binary @"$TEST_TMP/seed.json" "$API/__seed" || fail "seeding failed"
	gh env GITHUB_EVENT_PATH=$TEST_TMP/event8.json GITHUB_REF=refs/pull/8/merge \
		"$MODELGATE" comment --key kws --report "$TEST_TMP/pass.json" >"$OUT" 2>"$ERR" || fail "comment failed: $(cat "$ERR")"
	grep -q "updated comment" "$OUT" || fail "did not update: $(cat "$OUT")"
	[ "$(requests GET 'issues/8/comments\?per_page=100&page=2$')" = 1 ] || fail "did not read page 2"
	# the default marker is another comment
	gh env GITHUB_EVENT_PATH=$TEST_TMP/event8.json "$MODELGATE" comment --report "$TEST_TMP/pass.json" >"$OUT" 2>"$ERR"
	grep -q "posted comment" "$OUT" || fail "the key-less comment should be new: $(cat "$OUT")"
}

gitlab_posts_then_updates_the_note() {
	expect_exit 0 gl "$MODELGATE" comment --report "$TEST_TMP/pass.json"
	expect_stdout_contains "posted comment"
	expect_stdout_contains "on merge request !5"
	expect_exit 0 gl "$MODELGATE" comment --report "$TEST_TMP/fail.json"
	expect_stdout_contains "updated comment"
	[ "$(requests POST '^/api/v4/projects/42/merge_requests/5/notes$')" = 1 ] || fail "expected one POST"
	[ "$(requests PUT '^/api/v4/projects/42/merge_requests/5/notes/[0-9]+$')" = 1 ] || fail "expected one PUT"
	"$PY" -c 'import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if json.loads(l)["method"] == "PUT"][-1]
assert r["headers"]["private-token"] == sys.argv[2]' "$LOG" "$TOKEN" || fail "no PRIVATE-TOKEN header"
}

gitlab_note_shows_the_charts() {
	need xmllint libxml2-utils
	local before
	before=$(requests POST '^/api/v4/projects/42/uploads$')
	expect_exit 0 gl env CI_MERGE_REQUEST_IID=6 "$MODELGATE" comment --report "$TEST_TMP/fail.json"
	# the example's classifier with a baseline (confusion matrix, and its
	# change) and its latency gate
	[ "$(requests POST '^/api/v4/projects/42/uploads$')" = $((before + 3)) ] || fail "expected three uploads"
	"$PY" - "$LOG" "$API" "$TEST_TMP" <<'PYEOF' >"$IO/py" 2>&1 || fail "$(cat "$IO/py")"
import json, re, sys, urllib.request
log, api, tmp = sys.argv[1:]
reqs = [json.loads(l) for l in open(log)]
note = [r for r in reqs if r["method"] == "POST" and r["path"].endswith("/merge_requests/6/notes")][-1]
body = json.loads(note["body"])["body"]
assert body.index("| Gate |") < body.index("Charts (3)</summary>"), "the charts are not after the summary"
block = body[body.index("<details><summary>\U0001F4C8 Charts (3)</summary>"):]
images = re.findall(r"!\[(gate-\d+-[a-z-]+\.svg)\]\((/uploads/[0-9a-f]{32}/[^)]+)\)", block)
assert [n.split("-", 2)[2] for n, _ in images] == ["confusion.svg", "confusion-change.svg", "latency.svg"], images
assert block.index("</details>") > block.index(images[-1][1])
for i, (name, path) in enumerate(images):
    up = [r for r in reqs if r["method"] == "POST" and r["path"].endswith("/uploads")][i - 3]
    assert up["headers"]["private-token"], up["headers"]
    assert up["headers"]["content-type"].startswith("multipart/form-data; boundary="), up["headers"]
    svg = urllib.request.urlopen(api + path).read()
    open("%s/up%d.svg" % (tmp, i), "wb").write(svg)
    assert svg.startswith(b"<svg xmlns=\"http://www.w3.org/2000/svg\""), svg[:80]
print(len(images), "images")
PYEOF
	for i in 0 1 2; do
		xmllint --noout "$TEST_TMP/up$i.svg" 2>"$IO/xmllint" || fail "upload $i is not an SVG document: $(head -3 "$IO/xmllint")"
	done
	grep -q 'predicted class' "$TEST_TMP/up0.svg" || fail "the first chart is not the confusion matrix"
	grep -q '>candidate - baseline</text>' "$TEST_TMP/up1.svg" || fail "the second chart is not the change"
	grep -q 'latency per inference (ms)' "$TEST_TMP/up2.svg" || fail "the third chart is not the latency"
}

github_comment_links_the_charts() {
	local before
	before=$(requests POST 'uploads')
	expect_exit 0 gh env GITHUB_SERVER_URL=https://github.example GITHUB_RUN_ID=77 \
		"$MODELGATE" comment --report "$TEST_TMP/fail.json" --html report.html
	last_body PATCH >"$TEST_TMP/body.md"
	grep -qF 'Charts (3)</summary>' "$TEST_TMP/body.md" || fail "no charts block: $(head -c 600 "$TEST_TMP/body.md")"
	grep -qF 'In [the HTML report](https://github.example/acme/models/actions/runs/77): GitHub takes no pictures' \
		"$TEST_TMP/body.md" || fail "no link to the HTML report"
	grep -q '^- .*: latency distribution$' "$TEST_TMP/body.md" || fail "the charts are not listed"
	[ "$(requests POST 'uploads')" = "$before" ] || fail "GitHub got an upload"
	# without an address for the HTML report, no charts block at all
	expect_exit 0 gh "$MODELGATE" comment --report "$TEST_TMP/fail.json"
	last_body PATCH >"$TEST_TMP/body.md"
	! grep -q 'Charts (' "$TEST_TMP/body.md" || fail "a charts block without a link"
}

a_push_run_has_nothing_to_comment_on() {
	expect_exit 0 env GITHUB_ACTIONS=true GITHUB_API_URL=$API GITHUB_REPOSITORY=acme/models \
		GITHUB_REF=refs/heads/main GITHUB_TOKEN=x GITHUB_EVENT_PATH= "$MODELGATE" comment --report "$TEST_TMP/pass.json"
	expect_stderr_contains "not for a pull request"
	expect_stdout_empty
}

errors_are_named() {
	expect_exit 2 env -u GITHUB_ACTIONS -u GITLAB_CI "$MODELGATE" comment --report "$TEST_TMP/pass.json"
	expect_error "not in GitHub Actions"
	expect_exit 2 gh env GITHUB_TOKEN= "$MODELGATE" comment --report "$TEST_TMP/pass.json"
	expect_error "GITHUB_TOKEN is not set"
	expect_exit 2 mg comment
	expect_stderr_contains "--report"
	expect_exit 2 gh "$MODELGATE" comment --report "$TEST_TMP/missing.json"
	expect_error "missing.json"
	# the API refuses: exit 2 naming the permission, never the token
	expect_exit 2 gh env GITHUB_API_URL=$API/nowhere "$MODELGATE" comment --report "$TEST_TMP/pass.json"
	expect_error "HTTP 404"
	expect_stderr_not_contains "$TOKEN"
	# nothing listens: exit 3
	expect_exit 3 gh env GITHUB_API_URL=http://127.0.0.1:$(free_port) "$MODELGATE" comment --report "$TEST_TMP/pass.json"
}

dry_run_prints_the_body() {
	expect_exit 0 env -u GITHUB_ACTIONS -u GITLAB_CI "$MODELGATE" comment --dry-run --key a-b --report "$TEST_TMP/pass.json"
	head -n 1 "$OUT" | grep -qx '<!-- modelgate:report key=a-b -->' || fail "$(head -n 1 "$OUT")"
	expect_exit 2 mg comment --dry-run --key 'x--y' --report "$TEST_TMP/pass.json"
	expect_error "'--' cannot appear"
}

check github_first_run_posts github_first_run_posts
check github_second_run_updates_in_place github_second_run_updates_in_place
check github_finds_its_comment_past_the_first_page github_finds_its_comment_past_the_first_page
check gitlab_posts_then_updates_the_note gitlab_posts_then_updates_the_note
check gitlab_note_shows_the_charts gitlab_note_shows_the_charts
check github_comment_links_the_charts github_comment_links_the_charts
check a_push_run_has_nothing_to_comment_on a_push_run_has_nothing_to_comment_on
check errors_are_named errors_are_named
check dry_run_prints_the_body dry_run_prints_the_body
finish
