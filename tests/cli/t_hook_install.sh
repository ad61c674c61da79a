# modelgate hook install/uninstall: libgit2 finds the repository from any
# folder of it, a linked worktree (hooks are shared with the main
# repository) or core.hooksPath; the hook marks itself, so reinstalling is
# idempotent, and someone else's hook is refused without --force (kept as a
# backup with it, and put back by uninstall).
. "$MG_SRCDIR/tests/cli/lib.sh"
. "$MG_SRCDIR/tests/cli/lib_git.sh"

git_repo "$TEST_TMP/plain"
git_repo "$TEST_TMP/main"
git -C "$TEST_TMP/main" worktree add -q "$TEST_TMP/wt" -b feature 2>/dev/null || fail "git worktree add failed"
git_repo "$TEST_TMP/hp"
git -C "$TEST_TMP/hp" config core.hooksPath .githooks

installs_into_git_hooks() {
	cd "$TEST_TMP/plain"
	must mg hook install -c models/modelgate.json
	local h=$TEST_TMP/plain/.git/hooks/pre-push
	expect_file "$h"
	expect_stdout_contains "installed pre-push hook $h"
	[ "$(stat -c %a "$h")" = 755 ] || fail "mode $(stat -c %a "$h"), expected 755"
	grep -qx '# installed by modelgate hook install' "$h" || fail "no marker line in the hook"
	grep -q "gate --changed --pre-push" "$h" || fail "the hook does not run gate --changed"
	grep -q "cd 'models'" "$h" || fail "the hook does not go to the config's folder"
}

reinstall_is_idempotent() {
	cd "$TEST_TMP/plain/models"
	local before
	before=$(sha256_of "$TEST_TMP/plain/.git/hooks/pre-push")
	must mg hook install
	expect_stdout_contains "already installed"
	[ "$(sha256_of "$TEST_TMP/plain/.git/hooks/pre-push")" = "$before" ] || fail "the hook changed"
}

refuses_a_foreign_hook() {
	cd "$TEST_TMP/plain"
	local h=.git/hooks/pre-push
	printf '#!/bin/sh\necho mine\n' >"$h"
	expect_exit 2 mg hook install -c models/modelgate.json
	expect_error "did not install" "pre-push" "--force"
	grep -q 'echo mine' "$h" || fail "the foreign hook was changed"
	expect_exit 2 mg hook uninstall
	expect_error "did not install"
	grep -q 'echo mine' "$h" || fail "uninstall touched the foreign hook"
}

force_keeps_a_backup_and_uninstall_restores_it() {
	cd "$TEST_TMP/plain"
	local h=.git/hooks/pre-push
	must mg hook install -c models/modelgate.json --force
	expect_stdout_contains "replaced"
	expect_stderr_contains "pre-push.before-modelgate"
	grep -q 'echo mine' "$h.before-modelgate" || fail "no backup of the foreign hook"
	grep -q 'modelgate hook install' "$h" || fail "the hook is not ours"
	must mg hook uninstall
	expect_stdout_contains "removed pre-push hook"
	grep -q 'echo mine' "$h" || fail "uninstall did not put the previous hook back"
	expect_no_file "$h.before-modelgate"
}

uninstall_without_a_hook() {
	cd "$TEST_TMP/main"
	expect_exit 2 mg hook uninstall
	expect_error "no pre-push hook"
}

worktree_shares_the_main_repository_hooks() {
	cd "$TEST_TMP/wt/models"
	must mg hook install
	expect_file "$TEST_TMP/main/.git/hooks/pre-push"
	expect_stdout_contains "$TEST_TMP/main/.git/hooks/pre-push"
	[ -e "$TEST_TMP/wt/.git/hooks" ] && fail "a hooks folder inside the worktree's .git file"
	# git itself runs it from the worktree: a push from there reaches the hook
	git -C "$TEST_TMP/wt" rev-parse --git-path hooks/pre-push | grep -q "main/.git/hooks/pre-push" ||
		fail "git looks for the worktree's hook elsewhere: $(git -C "$TEST_TMP/wt" rev-parse --git-path hooks/pre-push)"
	return 0
}

honours_core_hooks_path() {
	cd "$TEST_TMP/hp/models"
	must mg hook install
	expect_file "$TEST_TMP/hp/.githooks/pre-push"
	expect_no_file "$TEST_TMP/hp/.git/hooks/pre-push"
	[ "$(git -C "$TEST_TMP/hp" rev-parse --git-path hooks/pre-push)" = .githooks/pre-push ] ||
		fail "git expects the hook elsewhere"
}

outside_a_repository() {
	mkdir -p "$TEST_TMP/nogit"
	cd "$TEST_TMP/nogit"
	cp "$EXAMPLES/modelgate.json" .
	GIT_CEILING_DIRECTORIES=$TEST_TMP expect_exit 2 mg hook install
	expect_error "not in a git repository"
}

bad_usage() {
	cd "$TEST_TMP/plain"
	expect_exit 2 mg hook
	expect_stderr_contains "usage:"
	expect_exit 2 mg hook reinstall
	expect_stderr_contains "unknown action 'reinstall'"
	expect_exit 2 mg hook install -c missing.json
	expect_error "missing.json"
}

check installs_into_git_hooks installs_into_git_hooks
check reinstall_is_idempotent reinstall_is_idempotent
check refuses_a_foreign_hook refuses_a_foreign_hook
check force_keeps_a_backup_and_uninstall_restores_it force_keeps_a_backup_and_uninstall_restores_it
check uninstall_without_a_hook uninstall_without_a_hook
check worktree_shares_the_main_repository_hooks worktree_shares_the_main_repository_hooks
check honours_core_hooks_path honours_core_hooks_path
check outside_a_repository outside_a_repository
check bad_usage bad_usage
finish
