# README.md works as printed.
#
# Every ```sh block runs, in the README's order (tests/readme_blocks.sh
# lists them and holds the rule: every code block is fenced with its
# language; a block that cannot run here says why in `<!-- not run: ... -->`;
# the Set-up section is make check-fresh's). Each block runs with `sh -e` from
# the top of a world that is what the README assumes, and what one block
# leaves the next finds:
#   - a modelgate checkout (its examples/), with modelgate on PATH; a fresh
#     $HOME holding the store, caches and docker config at their defaults;
#   - your-model-repo: a git repository with the digits example under digits/
#     and an upstream, whose int8 candidate has been retrained (changed);
#   - a registry: the test registry on loopback, plain HTTP, no --insecure
#     and no MODELGATE_INSECURE_REGISTRIES. The one substitution: every
#     registry host the README names (localhost:5000, ghcr.io,
#     registry.example.com) becomes this registry's localhost:PORT. GHCR's
#     token is $GHCR_TOKEN;
#   - a board: ssh://board is the test sshd (MODELGATE_SSH_OPTS names a
#     client config with that host, as ~/.ssh/config would), keeping its
#     agent in $MODELGATE_REMOTE_CACHE; qemu-aarch64 as the qemu tests have it;
#   - GitHub's $GITHUB_STEP_SUMMARY and $GITHUB_OUTPUT files.
# Needs root (the sshd and qemu targets).
#
# The copy-paste snippets of the GitHub Actions and GitLab CI sections
# (marked `<!-- snippet: KIND -->`, extracted by tests/readme_snippets.sh)
# work too: the workflow passes action-validator; the GitLab pipeline runs its
# gate job under gitlab-ci-local against a loopback registry (the `include:
# project:` of modelgate is pointed at this checkout's template, the one
# change made).
. "$MG_SRCDIR/tests/cli/lib.sh"
. "$MG_SRCDIR/tests/cli/lib_registry.sh"
. "$MG_SRCDIR/tests/cli/lib_git.sh"
. "$MG_SRCDIR/tests/cli/lib_ci.sh"
. "$MG_SRCDIR/tests/cli/lib_sshd.sh"
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
	for k in github-workflow gitlab-ci; do
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

# The README's blocks, as tests/readme_blocks.sh lists them.
BLOCKS=$TEST_TMP/blocks
"$MG_SRCDIR/tests/readme_blocks.sh" "$MG_SRCDIR/README.md" "$BLOCKS" >"$TEST_TMP/blocks.list" \
	2>"$TEST_TMP/blocks.err" || fail "README.md breaks the block rule: $(cat "$TEST_TMP/blocks.err")"

readme_links_stay_in_the_repository() {
	local l
	! grep -n '\.\./shared\|\](\.\./' "$MG_SRCDIR/README.md" || fail "README.md points outside the repository"
	for l in $(grep -o '](\([^)#:]*\))' "$MG_SRCDIR/README.md" | sed 's/^](//; s/)$//'); do
		[ -e "$MG_SRCDIR/$l" ] || fail "README.md links to '$l', which is not in the repository"
	done
	[ -s "$MG_SRCDIR/docs/DESIGN.md" ] || fail "no docs/DESIGN.md"
}

# the world the README's blocks run in (see the top of this file)
make_world() {
	W=$TEST_TMP/world
	local R=$W/your-model-repo
	mkdir -p "$W" "$R/digits" "$HOME"
	cp -r "$MG_SRCDIR/examples" "$W/"
	git init -q --bare "$TEST_TMP/remote.git"
	cp -r "$EXAMPLES/dataset" "$EXAMPLES/modelgate.json" "$EXAMPLES/model.onnx" "$R/digits/"
	# committed: the fp32 model as the candidate; the README commits the int8 one
	cp "$EXAMPLES/model.onnx" "$R/digits/model_int8.onnx"
	git init -q -b main "$R" && gcommit "$R" "first model"
	git -C "$R" remote add origin "$TEST_TMP/remote.git"
	git -C "$R" push -q -u origin main 2>/dev/null || fail "the first push failed"
	cp "$EXAMPLES/model_int8.onnx" "$R/digits/model_int8.onnx"
	registry_start
	start_sshd
	trap 'stop_sshd; _cleanup' EXIT # start_sshd's trap replaced the registry's
	sed -i 's/^Host mgtest$/Host mgtest board/' "$SSH_CONFIG"
	unset MODELGATE_HOME MODELGATE_DIGEST_CACHE MODELGATE_AGENT_CACHE MODELGATE_INSECURE_REGISTRIES
	export MODELGATE_SSH_OPTS="-F $SSH_CONFIG" MODELGATE_REMOTE_CACHE=$TEST_TMP/board-cache
	export GHCR_TOKEN=ghcr-token-$$ GITHUB_STEP_SUMMARY=$TEST_TMP/step-summary.md \
		GITHUB_OUTPUT=$TEST_TMP/github-output
	: >"$GITHUB_STEP_SUMMARY"
	: >"$GITHUB_OUTPUT"
}

readme_shell_blocks_run_in_order() {
	need qemu-aarch64 qemu-user
	make_world
	local n line lang what f why ran=0
	while read -r n line lang what f why; do
		[ "$what" = skip ] && echo "  not run: README.md:$line: $why"
		[ "$what" = run ] || continue
		sed -i "s#localhost:5000#$REG#g; s#ghcr\.io#$REG#g; s#registry\.example\.com#$REG#g" "$f"
		printf '%s\n' "sh -e README.md:$line" >"$IO/last_cmd"
		(cd "$W" && sh -e "$f") >"$BLOCKS/$line.out" 2>"$BLOCKS/$line.err" </dev/null ||
			fail "the block at README.md:$line failed (exit $?): $(tail -5 "$BLOCKS/$line.err")"
		ran=$((ran + 1))
	done <"$TEST_TMP/blocks.list"
	[ "$ran" -ge 9 ] || fail "only $ran shell blocks ran"
	# what the blocks claim, seen from outside
	expect_exit 0 mg ls "$REG/acme/digits"
	expect_stdout_matches "^$REG/acme/digits +v1 "
	expect_exit 0 mg history digits --env production --json
	grep -q '"action": *"rollback"' "$OUT" || fail "the README's rollback is not in the history"
	expect_same_file "$EXAMPLES/model_int8.onnx" "$W/examples/digits/models/digits/files/model_int8.onnx"
	grep -q 'modelgate' "$GITHUB_STEP_SUMMARY" || fail "nothing went to \$GITHUB_STEP_SUMMARY"
	# the pre-push hook ran the gates whose inputs changed, and the push went through
	local hook
	hook=$(grep -l 'hook install' "$BLOCKS"/*.sh | head -1)
	hook=$(awk -v f="$hook" '$5 == f { print $2 }' "$TEST_TMP/blocks.list")
	grep -q "installed pre-push hook" "$BLOCKS/$hook.out" || fail "the hook was not installed"
	grep -q "5 of 5 gate(s) have inputs changed" "$BLOCKS/$hook.err" || fail "the hook did not gate the push"
	grep -q "no gate inputs changed" "$BLOCKS/$hook.err" || fail "the gate by hand saw changes"
	[ "$(git -C "$TEST_TMP/remote.git" rev-parse main)" = "$(git -C "$W/your-model-repo" rev-parse HEAD)" ] ||
		fail "the push did not reach the remote"
}

check every_section_has_a_snippet every_section_has_a_snippet
check github_snippet_validates github_snippet_validates
check gitlab_snippet_runs gitlab_snippet_runs
check readme_links_stay_in_the_repository readme_links_stay_in_the_repository
check readme_shell_blocks_run_in_order readme_shell_blocks_run_in_order
finish
