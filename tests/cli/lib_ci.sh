# Helpers for the CI integration tests (tests/cli/t_ci_*.sh), sourced after
# lib.sh: the pinned npm tools that `make deps-test` installs into .deps/npm
# (@action-validator/cli, gitlab-ci-local).
NPM_BIN=$MG_SRCDIR/.deps/npm/node_modules/.bin
ACTION_VALIDATOR=$NPM_BIN/action-validator
GITLAB_CI_LOCAL=$NPM_BIN/gitlab-ci-local

need_tool() {
	[ -x "$1" ] || fail "'$1' is missing (make deps-test installs it from mk/npm/package-lock.json)"
}

# validate_github FILE: action-validator accepts the action or workflow file.
validate_github() {
	need_tool "$ACTION_VALIDATOR"
	expect_exit 0 "$ACTION_VALIDATOR" "$1"
}
