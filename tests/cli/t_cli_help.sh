# The command line from the command tables: every command's help (the same
# for 'help CMD' and 'CMD --help') has a description for each option and
# examples; the man pages render with man -l without warnings and install
# under share/man/man1; a misspelled command or option is one line with
# "did you mean", exit 2; version; -o=DIR.
. "$(dirname "$0")/lib.sh"

fixtures
need man man-db
need groff groff-base
must mg help
COMMANDS=$(sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p' "$OUT")
[ "$(echo "$COMMANDS" | wc -w)" -ge 27 ] || fail "help lists only: $COMMANDS"

# check_help CMD: the help text in $OUT has usage, an Options section where
# every option has a description, the options the completion knows, and at
# least two examples of CMD.
check_help() {
	"$PY" - "$OUT" "$1" "$IO/opts" <<'PY' || fail "help of '$1' is incomplete (above)"
import re, sys
text, cmd = open(sys.argv[1]).read(), sys.argv[2]
known = set(open(sys.argv[3]).read().split())
assert text.startswith("usage: modelgate " + cmd), "no usage line"
opts = text.split("\nOptions:\n")[1].split("\nExamples:\n")[0]
examples = text.split("\nExamples:\n")[1]
seen, shorts, entry = {}, set(), None
for line in opts.splitlines():
    m = re.match(r"  (?:-(\w), |    )--([a-z-]+)(?: (\S+))?(?:  +(.*))?$", line)
    if m:
        entry = m.group(2)
        seen[entry] = (m.group(4) or "").strip()
        if m.group(1):
            shorts.add("-" + m.group(1))
    else:
        assert entry and line.startswith(" " * 30), "stray line %r" % line
        seen[entry] += " " + line.strip()
for name, desc in seen.items():
    assert len(desc.split()) >= 3, "option --%s has no description: %r" % (name, desc)
names = {"--" + n for n in seen} | shorts
assert names == known, "help and completion disagree: %s" % (names ^ known)
lines = [l for l in examples.splitlines() if l.startswith("  modelgate") or "modelgate " + cmd in l and not l.startswith("      ")]
assert len(lines) >= 2, "fewer than two examples"
assert all("modelgate " + cmd in l for l in lines), "an example of another command"
PY
}

t_every_command_has_help_that_teaches() {
	local c
	must mg completion bash
	cp "$OUT" "$IO/bash"
	for c in $COMMANDS; do
		CHECK="help $c"
		sed -n "s/^\t$c) opts=\"\([^\"]*\)\".*/\1/p" "$IO/bash" >"$IO/opts"
		[ -s "$IO/opts" ] || fail "the completion has no options for '$c'"
		must mg "$c" --help
		cp "$OUT" "$IO/dash_help"
		must mg help "$c"
		cmp -s "$OUT" "$IO/dash_help" || fail "'help $c' and '$c --help' differ"
		check_help "$c"
	done
}

t_overview_lists_commands_with_summaries() {
	must mg --help
	expect_stdout_matches "^  push +store files as a model \(or dataset\) version$"
	expect_stdout_matches "^  completion +print the bash or zsh completion script$"
	# options before the command are the command's own
	must mg -q --json version
	json_ok "'version' in j"
	expect_exit 2 mg --jsn gc
	expect_error "modelgate gc: '--jsn' is not an option; did you mean '--json'?"
	expect_exit 2 mg --insecure gc # gc reaches no registry
	expect_error "modelgate gc: '--insecure' is not an option"
}

t_man_pages_render_and_install() {
	local f n w
	must sh "$MG_SRCDIR/mk/gen_docs.sh" "$MODELGATE" "$TEST_TMP/gen"
	n=$(ls "$TEST_TMP/gen/man" | wc -l)
	[ "$n" -eq "$(($(echo "$COMMANDS" | wc -w) + 1))" ] || fail "$n man pages for $(echo "$COMMANDS" | wc -w) commands"
	for f in "$TEST_TMP"/gen/man/*.1; do
		w=$(MANWIDTH=80 man --warnings -l "$f" 2>&1 >"$IO/page") || fail "man -l '$f' failed: $w"
		[ -z "$w" ] || fail "man -l '$f' warns: $w"
		grep -q "^NAME" "$IO/page" && grep -q "^SYNOPSIS" "$IO/page" || fail "'$f' lacks NAME or SYNOPSIS"
	done
	MANWIDTH=80 man -l "$TEST_TMP/gen/man/modelgate-pull.1" >"$IO/page" 2>/dev/null
	grep -q -- "-o, --output DIR" "$IO/page" || fail "pull's man page lacks -o, --output DIR"
	grep -q "modelgate pull kws:v3 -o models/kws" "$IO/page" || fail "pull's man page lacks its example"
	MANWIDTH=80 man -l "$TEST_TMP/gen/man/modelgate.1" >"$IO/page" 2>/dev/null
	grep -q "modelgate-push(1)" "$IO/page" || fail "modelgate(1) does not list modelgate-push(1)"
	# installed by make install's script beside the binary, with the completions
	local b=$TEST_TMP/b root=$TEST_TMP/root
	mkdir -p "$b" && cp -r "$(dirname "$MODELGATE")"/. "$b/" && cp -r "$TEST_TMP/gen"/. "$b/"
	must sh "$MG_SRCDIR/mk/install.sh" "$b" "$root/bin" "$root/libexec" "$MG_SRCDIR/.deps/ort" "$root/share"
	expect_same_file "$TEST_TMP/gen/man/modelgate-push.1" "$root/share/man/man1/modelgate-push.1"
	expect_same_file "$TEST_TMP/gen/completions/modelgate.bash" "$root/share/bash-completion/completions/modelgate"
	expect_same_file "$TEST_TMP/gen/completions/_modelgate" "$root/share/zsh/site-functions/_modelgate"
}

t_did_you_mean() {
	expect_exit 2 mg pussh tiny:v1 "$FX/model.onnx"
	expect_error "'pussh' is not a command; did you mean 'push'?"
	expect_exit 2 mg help pul
	expect_error "'pul' is not a command; did you mean 'pull'?"
	expect_exit 2 mg push --anotation a=b tiny:v1 "$FX/model.onnx"
	expect_error "modelgate push: '--anotation' is not an option; did you mean '--annotation'?"
	expect_exit 2 mg run --iteratoins=3 "$FX/model.onnx"
	expect_error "modelgate run: '--iteratoins' is not an option; did you mean '--iterations'?"
	# nothing near: no suggestion, and never the whole help
	expect_exit 2 mg frobnicate
	expect_error "'frobnicate' is not a command; see 'modelgate help'"
	expect_stderr_not_contains "did you mean"
	expect_exit 2 mg pull --xyzzy tiny:v1
	expect_error "modelgate pull: '--xyzzy' is not an option; see 'modelgate help pull'"
	expect_stderr_not_contains "did you mean"
	expect_exit 2 mg pull -Z tiny:v1
	expect_error "'-Z' is not an option"
	expect_exit 2 mg pull tiny:v1 -o
	expect_error "option '-o' needs a value (DIR)"
	expect_exit 2 mg gc --json=yes
	expect_error "option '--json' takes no value"
	[ ! -e "$MODELGATE_HOME" ] || fail "a refused command made the store"
}

t_version() {
	must mg version
	expect_stdout_matches '^modelgate [0-9]+\.[0-9]+\.[0-9]+$'
	expect_stdout_contains "agent         $(dirname "$MODELGATE")/modelgate-agent"
	expect_stdout_matches '^ONNX Runtime  /.*libonnxruntime\.so\.1$'
	cp "$OUT" "$IO/version"
	must mg --version # one line, as scripts and the CI templates read it
	head -n 1 "$IO/version" | cmp -s - "$OUT" || fail "--version is not version's first line"
	must mg version --json
	json_ok "j['version'] == '$(sed -n '1s/^modelgate //p' "$IO/version")' and j['onnxruntime'].endswith('libonnxruntime.so.1')"
	# without an agent it says so, still exit 0
	MODELGATE_AGENT=$TEST_TMP/none must mg version
	expect_stdout_contains "engines       none found"
	expect_stdout_contains "$TEST_TMP/none"
}

t_short_option_with_equals_takes_the_value() {
	must mg push tiny:v2 "$FX/model.onnx"
	must mg pull tiny:v2 -o="$TEST_TMP/x"
	expect_same_file "$FX/model.onnx" "$TEST_TMP/x/model.onnx"
	[ -z "$(ls -A . | grep '^=')" ] || fail "a folder named '=...' was made"
	must mg pull tiny:v2 --output="$TEST_TMP/y"
	expect_same_file "$FX/model.onnx" "$TEST_TMP/y/model.onnx"
	must mg pull tiny:v2 -o "$TEST_TMP/z"
	expect_same_file "$FX/model.onnx" "$TEST_TMP/z/model.onnx"
	# the same in every command's parsing
	must mg keygen -o="$TEST_TMP/key"
	[ -s "$TEST_TMP/key" ] && [ -s "$TEST_TMP/key.pub" ] || fail "keygen -o=NAME wrote no key"
}

check every_command_has_help_that_teaches t_every_command_has_help_that_teaches
check overview_lists_commands_with_summaries t_overview_lists_commands_with_summaries
check man_pages_render_and_install t_man_pages_render_and_install
check did_you_mean_for_commands_and_options t_did_you_mean
check version_names_the_engines t_version
check short_option_with_equals_takes_the_value t_short_option_with_equals_takes_the_value
finish
