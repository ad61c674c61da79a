# Helpers for the tests of the local workflow (tests/cli/t_hook_*.sh), sourced
# after lib.sh: throwaway git repositories holding a copy of the digits
# example, with a fixed identity and no global or system git config.
#
#   git_repo DIR         a repository at DIR (branch main) with the example
#                        under models/ and a README, committed
#   gcommit DIR MSG      commits everything in DIR
#   ms_since START_NS    milliseconds since START_NS (date +%s%N)

export GIT_CONFIG_NOSYSTEM=1 HOME=$TEST_TMP/home XDG_CONFIG_HOME=$TEST_TMP/home/.config
mkdir -p "$HOME"
export GIT_AUTHOR_NAME=tester GIT_AUTHOR_EMAIL=tester@example.com
export GIT_COMMITTER_NAME=tester GIT_COMMITTER_EMAIL=tester@example.com
export GIT_TERMINAL_PROMPT=0

git_repo() {
	local d=$1
	mkdir -p "$d/models"
	git init -q -b main "$d" || fail "git init '$d' failed"
	cp "$EXAMPLES"/model.onnx "$EXAMPLES"/model_int8.onnx "$EXAMPLES"/model_bad.onnx \
		"$EXAMPLES"/modelgate.json "$d/models/"
	cp -r "$EXAMPLES/dataset" "$d/models/"
	echo "a model repository" >"$d/README"
	gcommit "$d" "the digits example"
}

gcommit() {
	git -C "$1" add -A && git -C "$1" commit -q -m "$2" || fail "git commit in '$1' failed"
}

ms_since() {
	echo $((($(date +%s%N) - $1) / 1000000))
}
