# Provenance from git: a push from a work tree records the commit, the
# remote URL without credentials, the branch and dirtiness; --no-git and
# pushes from outside any repository record none; SOURCE_DATE_EPOCH makes
# pushes reproducible.
. "$(dirname "$0")/lib.sh"

need git git
fixtures
export HOME=$TEST_TMP/home GIT_CONFIG_NOSYSTEM=1 # no user or system git config
mkdir -p "$HOME"
git config --global user.name "CLI Test"
git config --global user.email "cli-test@example.com"
git config --global init.defaultBranch main

REPO=$TEST_TMP/work
mkdir -p "$REPO/models"
(
	cd "$REPO" &&
		git init -q -b main &&
		echo "# models" >README.md &&
		cp "$FX/model.onnx" models/model.onnx &&
		git add README.md models/model.onnx &&
		git commit -q -m "first" &&
		git remote add origin https://user:secret@example.com/team/models.git
) || fail "cannot set up the git repository"
HEAD_SHA=$(git -C "$REPO" rev-parse HEAD)
git -C "$TEST_TMP" rev-parse --git-dir >/dev/null 2>&1 &&
	fail "precondition: the test folder '$TEST_TMP' is inside a git work tree"

GIT_KEYS='["org.opencontainers.image.revision", "org.opencontainers.image.source", "io.modelgate.git.branch", "io.modelgate.git.dirty"]'

t_push_records_provenance() {
	expect_exit 0 mg push g:v1 "$REPO/models/model.onnx"
	expect_exit 0 mg inspect --json g:v1
	json_ok "j['manifest']['annotations']['org.opencontainers.image.revision'] == '$HEAD_SHA'"
	json_ok 'j["manifest"]["annotations"]["org.opencontainers.image.source"] == "https://example.com/team/models.git"'
	json_ok 'j["manifest"]["annotations"]["io.modelgate.git.branch"] == "main"'
	json_ok 'j["manifest"]["annotations"]["io.modelgate.git.dirty"] == "false"'
	# from inside the work tree, with a relative path
	(cd "$REPO/models" && expect_exit 0 mg push g:v1-rel model.onnx) || exit 1
	expect_exit 0 mg inspect --json g:v1-rel
	json_ok "j['manifest']['annotations']['org.opencontainers.image.revision'] == '$HEAD_SHA'"
	expect_exit 0 mg inspect g:v1
	expect_stdout_matches "^ +org\\.opencontainers\\.image\\.revision: $HEAD_SHA\$"
}

t_no_credentials_stored() {
	expect_exit 0 mg push g:v2 "$REPO/models/model.onnx"
	expect_exit 0 mg inspect --json g:v2
	expect_stdout_not_contains "secret"
	expect_stdout_not_contains "user:"
	if grep -rl secret "$MODELGATE_HOME" >"$IO/grep"; then
		fail "'secret' is stored in: $(cat "$IO/grep")"
	fi
	expect_exit 0 mg ls
	expect_stdout_not_contains "secret"
	# a token without a user name, and an ssh-style remote
	git -C "$REPO" remote set-url origin https://ghp_t0ken@example.com/team/models.git
	expect_exit 0 mg push g:v3 "$REPO/models/model.onnx"
	expect_exit 0 mg inspect --json g:v3
	json_ok 'j["manifest"]["annotations"]["org.opencontainers.image.source"] == "https://example.com/team/models.git"'
	grep -rq ghp_t0ken "$MODELGATE_HOME" && fail "the token is stored"
	git -C "$REPO" remote set-url origin git@example.com:team/models.git
	expect_exit 0 mg push g:v4 "$REPO/models/model.onnx"
	expect_exit 0 mg inspect --json g:v4
	json_ok 'j["manifest"]["annotations"]["org.opencontainers.image.source"] == "git@example.com:team/models.git"'
	git -C "$REPO" remote set-url origin https://user:secret@example.com/team/models.git
}

t_dirty_and_branch() {
	git -C "$REPO" checkout -q -b feature/x
	echo "changed" >>"$REPO/README.md"
	expect_exit 0 mg push g:dirty "$REPO/models/model.onnx"
	expect_exit 0 mg inspect --json g:dirty
	json_ok 'j["manifest"]["annotations"]["io.modelgate.git.dirty"] == "true"'
	json_ok 'j["manifest"]["annotations"]["io.modelgate.git.branch"] == "feature/x"'
	git -C "$REPO" checkout -q README.md
	git -C "$REPO" checkout -q main
}

t_no_git_flag() {
	expect_exit 0 mg push --no-git g:nogit "$REPO/models/model.onnx"
	expect_exit 0 mg inspect --json g:nogit
	json_ok "not any(k in j['manifest']['annotations'] for k in $GIT_KEYS)"
	json_ok '"org.opencontainers.image.created" in j["manifest"]["annotations"]'
}

t_outside_git() {
	expect_exit 0 mg push g:outside "$FX/model.onnx"
	expect_exit 0 mg inspect --json g:outside
	json_ok "not any(k in j['manifest']['annotations'] for k in $GIT_KEYS)"
	(cd "$FX" && expect_exit 0 mg push g:outside-rel model.onnx) || exit 1
	expect_exit 0 mg inspect --json g:outside-rel
	json_ok "not any(k in j['manifest']['annotations'] for k in $GIT_KEYS)"
}

t_explicit_annotations_win() {
	expect_exit 0 mg push -a org.opencontainers.image.source=https://example.org/other \
		-a org.opencontainers.image.revision=v1.2.3 g:explicit "$REPO/models/model.onnx"
	expect_exit 0 mg inspect --json g:explicit
	json_ok 'j["manifest"]["annotations"]["org.opencontainers.image.source"] == "https://example.org/other"'
	json_ok 'j["manifest"]["annotations"]["org.opencontainers.image.revision"] == "v1.2.3"'
}

t_source_date_epoch() {
	SOURCE_DATE_EPOCH=1700000000 expect_exit 0 mg push r:a "$REPO/models/model.onnx"
	local d1
	d1=$(cat "$OUT")
	expect_exit 0 mg inspect --json r:a
	json_ok 'j["manifest"]["annotations"]["org.opencontainers.image.created"] == "2023-11-14T22:13:20Z"'
	json_ok 'j["config"]["created"] == "2023-11-14T22:13:20Z"'
	SOURCE_DATE_EPOCH=1700000000 expect_exit 0 mg push r:b "$REPO/models/model.onnx"
	[ "$(cat "$OUT")" = "$d1" ] || fail "the same push gave $(cat "$OUT"), first $d1"
	# the same from another store: the digest depends on the inputs only
	MODELGATE_HOME=$TEST_TMP/store2 SOURCE_DATE_EPOCH=1700000000 expect_exit 0 mg push other:c "$REPO/models/model.onnx"
	[ "$(cat "$OUT")" = "$d1" ] || fail "another store gave $(cat "$OUT"), first $d1"
	expect_exit 0 mg ls r
	expect_stdout_matches '^r +a .*2023-11-14T22:13:20Z$'
	# another time, another digest
	SOURCE_DATE_EPOCH=1700000001 expect_exit 0 mg push r:c "$REPO/models/model.onnx"
	[ "$(cat "$OUT")" != "$d1" ] || fail "a different SOURCE_DATE_EPOCH gave the same digest"
}

check push_records_commit_source_branch t_push_records_provenance
check remote_credentials_never_stored t_no_credentials_stored
check dirty_work_tree_and_branch t_dirty_and_branch
check no_git_omits_provenance t_no_git_flag
check outside_git_no_provenance t_outside_git
check explicit_annotations_win_over_git t_explicit_annotations_win
check source_date_epoch_reproducible t_source_date_epoch
finish
