# The copy-paste snippets of README.md's GitHub Actions, GitLab CI and
# "Before git push" sections (marked `<!-- snippet: KIND -->`, extracted by
# tests/readme_snippets.sh) work as printed: the workflow passes
# action-validator; the GitLab pipeline runs its gate job under
# gitlab-ci-local against a loopback registry (the `include: project:` of
# modelgate is pointed at this checkout's template, the one change made); the
# shell lines run for real in a repository with a remote.
. "$MG_SRCDIR/tests/cli/lib.sh"
. "$MG_SRCDIR/tests/cli/lib_registry.sh"
. "$MG_SRCDIR/tests/cli/lib_git.sh"
. "$MG_SRCDIR/tests/cli/lib_ci.sh"
need_py yaml python3-yaml

S=$TEST_TMP/snippets
"$MG_SRCDIR/tests/readme_snippets.sh" "$MG_SRCDIR/README.md" "$S" >"$TEST_TMP/snippets.list" ||
	fail "cannot extract the README snippets"
snippet() { awk -v k="$1" '$1 == k { print $2 }' "$TEST_TMP/snippets.list"; }
# modelgate on PATH, as a user has it
mkdir -p "$TEST_TMP/bin"
ln -s "$MODELGATE" "$TEST_TMP/bin/modelgate"
export PATH="$TEST_TMP/bin:$PATH"

every_section_has_a_snippet() {
	local k
	for k in github-workflow gitlab-ci shell; do
		[ -n "$(snippet $k)" ] || fail "README.md has no '$k' snippet"
	done
}

github_snippet_validates() {
	local f
	for f in $(snippet github-workflow); do
		validate_github "$f"
		grep -q 'uses: .*/.github/actions/modelgate@' "$f" || fail "the snippet does not use the action"
	done
}

gitlab_snippet_runs() {
	need_tool "$GITLAB_CI_LOCAL"
	registry_start
	local f P=$TEST_TMP/gl
	for f in $(snippet gitlab-ci); do
		rm -rf "$P"
		mkdir -p "$P/gitlab"
		cp "$MG_SRCDIR/gitlab/modelgate.gitlab-ci.yml" "$P/gitlab/"
		cp -r "$EXAMPLES" "$P/digits"
		"$PY" - "$f" "$P/.gitlab-ci.yml" <<'PY' || fail "cannot rewrite the include of $f"
import sys, yaml
doc = yaml.safe_load(open(sys.argv[1]))
inc = doc["include"]
for i in inc:
    if i.get("project", "").endswith("/modelgate"):
        assert i["file"] == "/gitlab/modelgate.gitlab-ci.yml", i
        i.clear(); i["local"] = "/gitlab/modelgate.gitlab-ci.yml"
yaml.safe_dump(doc, open(sys.argv[2], "w"), sort_keys=False)
PY
		git init -q -b main "$P" && gcommit "$P" "snippet project"
		must mg push --insecure "$REG/group/p/digits:production" "$EXAMPLES/model.onnx"
		(cd "$P" && NO_COLOR=1 expect_exit 0 "$GITLAB_CI_LOCAL" --force-shell-executor \
			--variable "CI_REGISTRY=$REG" --variable "CI_REGISTRY_IMAGE=$REG/group/p" \
			--variable "MODELGATE_INSECURE_REGISTRIES=$REG" --variable "MODELGATE_BIN=$MODELGATE" \
			--variable "MODELGATE_HOME=$TEST_TMP/job-store" gate)
		expect_stdout_matches 'PASS +gate'
		expect_stderr_contains "resolving baseline '$REG/group/p/digits:production'"
		expect_file "$P/.gitlab-ci-local/artifacts/gate/modelgate-reports/junit.xml"
	done
}

shell_snippet_runs() {
	local f R=$TEST_TMP/sh/your-model-repo
	for f in $(snippet shell); do
		rm -rf "$TEST_TMP/sh"
		mkdir -p "$R/digits"
		git init -q --bare "$TEST_TMP/sh/remote.git"
		cp -r "$EXAMPLES/dataset" "$EXAMPLES/modelgate.json" "$EXAMPLES/model.onnx" "$R/digits/"
		# committed: the fp32 model as the candidate; the snippet commits the int8 one
		cp "$EXAMPLES/model.onnx" "$R/digits/model_int8.onnx"
		git init -q -b main "$R" && gcommit "$R" "first model"
		git -C "$R" remote add origin "$TEST_TMP/sh/remote.git"
		git -C "$R" push -q -u origin main 2>/dev/null || fail "first push failed"
		cp "$EXAMPLES/model_int8.onnx" "$R/digits/model_int8.onnx"
		(cd "$TEST_TMP/sh" && expect_exit 0 sh -e "$f")
		expect_stdout_contains "installed pre-push hook"
		expect_stderr_contains "5 of 5 gate(s) have inputs changed"
		expect_stderr_contains "no gate inputs changed"
		[ "$(git -C "$TEST_TMP/sh/remote.git" rev-parse main)" = "$(git -C "$R" rev-parse HEAD)" ] ||
			fail "the push did not reach the remote"
	done
}

check every_section_has_a_snippet every_section_has_a_snippet
check github_snippet_validates github_snippet_validates
check gitlab_snippet_runs gitlab_snippet_runs
check shell_snippet_runs shell_snippet_runs
finish
