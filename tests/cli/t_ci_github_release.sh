# The example release workflow (examples/.github/workflows/modelgate-release.yml)
# run job by job, step by step, through tests/cli/ghactions.py as the user
# nobody, against a loopback docker-registry standing in for ghcr.io: it
# pushes the candidate under its commit, gates that pushed version against
# production, packages it into a signed bundle and deploys it, moving the
# production tag; a candidate that fails its gate is neither packaged nor
# deployed. The action is reached as acme/modelgate/...@vVERSION (this
# checkout) and installs the release from a local HTTP server standing in
# for github.com (GITHUB_SERVER_URL).
#
# What the test changes or stands in for: the workflow's MODEL_REPO points
# at the loopback registry instead of ghcr.io (the one edit); the
# candidate's file name, for the failing run; actions/checkout copies the
# project, actions/upload-artifact and actions/download-artifact copy into
# and out of a local folder; runs-on, permissions, environment (the
# reviewers' approval) and concurrency are GitHub's and not run here.
. "$MG_SRCDIR/tests/cli/lib.sh"
. "$MG_SRCDIR/tests/cli/lib_registry.sh"
. "$MG_SRCDIR/tests/cli/lib_git.sh"
. "$MG_SRCDIR/tests/cli/lib_ci.sh"

gh_nobody_setup
WF=$NB_SRC/examples/.github/workflows/modelgate-release.yml
registry_start
R=$REG/acme/models/digits
must mg push "$R:production" "$EXAMPLES/model.onnx"
PROD=$(cat "$OUT")
# the release, where github.com would have it for acme/modelgate
gh_release "$TEST_TMP/www/acme/modelgate/releases/download"
gh_serve "$TEST_TMP/www"

P=$NB/project
as_nobody mkdir -p "$P"
as_nobody cp -r "$EXAMPLES" "$P/digits"
as_nobody rm -f "$P/digits/report.json"
as_nobody sh -c "cd '$P' && git init -q -b main && git add -A && git -c user.name=nobody -c user.email=nobody@example.invalid commit -q -m 'digits'" ||
	fail "cannot commit the project"
SHA=$(as_nobody git -C "$P" rev-parse HEAD)
must mg keygen -o "$TEST_TMP/signing"
grep -q "^  MODEL_REPO: ghcr.io/acme/models/digits$" "$WF" || fail "the workflow's MODEL_REPO is not where the test expects it"
sed "s|^  MODEL_REPO: ghcr.io/acme/models/digits$|  MODEL_REPO: $R|" "$WF" >"$TEST_TMP/release.yml"
sed 's|model: model_int8.onnx|model: model_bad.onnx|' "$TEST_TMP/release.yml" >"$TEST_TMP/release-bad.yml"
chmod 644 "$TEST_TMP"/release*.yml

# release WORKFLOW NAME: runs it; the results in $NB/NAME.json
release() {
	expect_exit "${EXPECT:-0}" ghactions workflow "$1" --work "$NB/work-$2" --checkout "$P" \
		--action "acme/modelgate@v$MG_VERSION=$NB_SRC" --tool-cache "$NB/tool-cache" \
		--github server_url="$SERVE_URL" --github sha="$SHA" --github repository=acme/models \
		--secret MODELGATE_SIGNING_KEY="$(cat "$TEST_TMP/signing")" --result "$NB/$2.json"
}

the_workflow_pushes_gates_packages_and_deploys() {
	grep -q "modelgate@v$MG_VERSION\$" "$WF" || fail "the workflow does not use the action at v$MG_VERSION"
	release "$TEST_TMP/release.yml" good
	# each job in order, the action installing the release once
	expect_stdout_matches "^##\[job\] gate: success$"
	expect_stdout_matches "^##\[job\] package: success$"
	expect_stdout_matches "^##\[job\] deploy: success$"
	[ "$(sed -n 's/^##\[job\] \([a-z]*\): .*/\1/p' "$OUT" | tr '\n' ' ')" = "gate package deploy " ] ||
		fail "jobs ran in this order: $(grep '^##\[job\]' "$OUT")"
	[ "$(gh_gets "/acme/modelgate/releases/download/v$MG_VERSION/$TARBALL")" = 1 ] ||
		fail "tarball GETs: $(cat "$SERVE_LOG")"
	local r=$NB/good.json gate='j["jobs"]["gate"]["steps"]' d
	json_ok "[s['outcome'] for s in $gate] == ['success'] * 4" "$r"
	d=$(json_get "$gate[1]['outputs']['digest']" "$r")
	[[ $d =~ $DIGEST_RE ]] || fail "push digest: '$d'"
	json_ok "j['jobs']['gate']['outputs']['digest'] == '$d'" "$r"
	json_ok "$gate[2]['outputs']['passed'] == 'true' and $gate[2]['outputs']['digest'] == '$d'" "$r"
	# the report is for the pushed version, against production
	local rep=$NB/work-good/_artifacts/gate-report/report.json
	json_ok "j['model']['ref'] == '$R:$SHA' and j['model']['digest'] == '$d'" "$rep"
	json_ok "j['baseline']['digest'] == '$PROD'" "$rep"
	# a signed bundle of that version
	local b=$NB/work-good/_artifacts/bundle/digits-$SHA.tar.gz
	expect_file "$b"
	json_ok "j['jobs']['package']['steps'][2]['outputs']['passed'] == 'true'" "$r"
	local pkg=$NB/work-good/package/workspace/modelgate-reports/package.out
	grep -q "artifact $d" "$pkg" || fail "package: $(cat "$pkg")"
	grep -q "unsigned" "$pkg" && fail "the bundle is not signed: $(cat "$pkg")"
	# production moved to it, the previous one kept
	json_ok "j['jobs']['deploy']['steps'][1]['outputs']['digest'] == '$d'" "$r"
	must mg ls --json "$R"
	json_ok "[t['digest'] for t in j if t['tag'] == 'production'] == ['$d']"
	json_ok "[t['digest'] for t in j if t['tag'] == 'production-previous'] == ['$PROD']"
	json_ok "[t['digest'] for t in j if t['tag'] == '$SHA'] == ['$d']"
}

a_failing_candidate_is_neither_packaged_nor_deployed() {
	must mg ls --json "$R"
	cp "$OUT" "$TEST_TMP/tags-before.json"
	EXPECT=1 release "$TEST_TMP/release-bad.yml" bad
	expect_stdout_matches "^##\[job\] gate: failure$"
	expect_stdout_matches "^::error title=modelgate%3A gate 'accuracy' failed::"
	expect_stdout_contains "##[job] package: skipped"
	expect_stdout_contains "##[job] deploy: skipped"
	json_ok "[s['outcome'] for s in j['jobs']['gate']['steps']] == ['success', 'success', 'failure', 'success']" \
		"$NB/bad.json"
	expect_file "$NB/work-bad/_artifacts/gate-report/report.json"
	must mg ls --json "$R"
	json_ok "[t['digest'] for t in j if t['tag'] == 'production'] == \
		[t['digest'] for t in json.load(open('$TEST_TMP/tags-before.json')) if t['tag'] == 'production']"
}

# Why the workflow gates the pushed reference: a report on the file names
# the file's digest, not the pushed manifest's, and deploy refuses it.
a_report_on_the_file_does_not_cover_the_pushed_version() {
	local c=$TEST_TMP/old-order
	cp -r "$EXAMPLES" "$c"
	cd "$c" || fail "no $c"
	expect_exit 0 mg -q gate --baseline "$R:production" --report "$c/r.json"
	must mg push "$R:old-order" model_int8.onnx
	expect_exit 1 mg deploy "$R:old-order" --env old --report "$c/r.json"
	expect_error "refusing to deploy" "the report is for sha256:$(sha256_of model_int8.onnx)"
}

check the_workflow_pushes_gates_packages_and_deploys the_workflow_pushes_gates_packages_and_deploys
check a_failing_candidate_is_neither_packaged_nor_deployed a_failing_candidate_is_neither_packaged_nor_deployed
check a_report_on_the_file_does_not_cover_the_pushed_version a_report_on_the_file_does_not_cover_the_pushed_version
finish
