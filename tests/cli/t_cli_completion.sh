# The shell completions made from the command tables (modelgate completion
# bash|zsh): each loads in its shell and completes a subcommand (pu -> pull,
# push; also after help), an option, an option's value as a file name, and a
# reference of the local store (from modelgate ls), also after REPO: (bash
# splits words at ':').
. "$(dirname "$0")/lib.sh"

fixtures
need zsh zsh
must mg push tiny:v1 "$FX/model.onnx"
must mg push tiny:v2 "$FX/model_v2.onnx"
must mg push other:v1 "$FX/model.onnx"
must mg completion bash
cp "$OUT" "$TEST_TMP/modelgate.bash"
mkdir -p "$TEST_TMP/zfunc"
must mg completion zsh
cp "$OUT" "$TEST_TMP/zfunc/_modelgate"

# bash_complete WORD...: COMPREPLY of the completion, loaded in a new bash,
# for the command line "modelgate WORD..." (the last word being completed)
# as bash splits it (':' is a word of its own), one a line, into $OUT.
bash_complete() {
	local line="modelgate $*"
	line=${line// : /:}
	expect_exit 0 bash --norc --noprofile -c '
		source "$1" || exit 3
		shift
		COMP_LINE=$1
		shift
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		COMP_POINT=${#COMP_LINE}
		_modelgate
		[ ${#COMPREPLY[@]} -eq 0 ] || printf "%s\n" "${COMPREPLY[@]}" | sort' bash "$TEST_TMP/modelgate.bash" "$line" "$MODELGATE" "$@"
}

expect_lines() { # the lines of $OUT are exactly those given
	printf '%s\n' "$@" | diff - "$OUT" >/dev/null || fail "completed '$(tr '\n' ' ' <"$OUT")', expected '$*'"
}

t_bash() {
	bash_complete pu
	expect_lines pull push
	bash_complete push --anno
	expect_lines --annotation
	bash_complete pull ti
	expect_lines tiny:v1 tiny:v2
	bash_complete pull tiny : v
	expect_lines v1 v2
	bash_complete inspect ot
	expect_lines other:v1
	bash_complete help pu
	expect_lines pull push
	# an option's value is a file name (bash's default), not a reference
	bash_complete pull -o ti
	expect_stdout_empty
	# no store: nothing, silently
	MODELGATE_HOME=$TEST_TMP/none bash_complete pull ti
	expect_stderr_empty
	[ ! -s "$OUT" ] || fail "completed '$(cat "$OUT")' without a store"
}

# zsh_complete LINE: the matches zsh's completion offers for LINE<TAB>
zsh_complete() {
	expect_exit 0 zsh -f "$MG_SRCDIR/tests/cli/zsh_complete.zsh" "$MODELGATE" "$TEST_TMP/zfunc" "$IO/zsh" "$1"
	sort -u "$IO/zsh" >"$OUT"
}

t_zsh() {
	zsh_complete "modelgate pu"
	expect_lines pull push
	zsh_complete "modelgate push --anno"
	expect_lines --annotation
	zsh_complete "modelgate pull tiny"
	expect_lines tiny:v1 tiny:v2
	zsh_complete "modelgate pull tiny:v"
	expect_lines tiny:v1 tiny:v2
	zsh_complete "modelgate help pu"
	expect_lines pull push
	zsh_complete "modelgate push -a"
	expect_lines -a
	zsh_complete "modelgate pull -o zf"
	expect_lines zfunc
}

check bash_completes_commands_options_and_references t_bash
check zsh_completes_commands_options_and_references t_zsh
finish
