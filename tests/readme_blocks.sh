#!/bin/sh
# Lists the code blocks of README.md for tests/cli/t_ci_readme.sh, which
# runs its shell blocks in order. The rule the README keeps:
#
#   - Every code block is fenced and names its language: ```sh for commands
#     (each is run), ```json, ```yaml or ```text for what is not.
#   - A ```sh block that cannot run here says why on the line before it:
#     <!-- not run: REASON -->
#   - The blocks of the "Set-up" section are not run by this test: they are
#     `make demo` and `make check`, which `make check-fresh` runs.
#   - An indented code block (4 spaces after a blank line, outside a fence)
#     or a fence without a language is refused, so that no command escapes.
#
# Each block goes to OUTDIR/N.LANG; one line per block is printed:
#   N LINE sh run FILE
#   N LINE sh skip FILE REASON
#   N LINE LANG data FILE          (any other language)
# (LINE is the README line of the opening fence). Exit 1, with a message
# per offending line, when the README breaks the rule.
#
#   tests/readme_blocks.sh README.md OUTDIR
set -eu
[ $# -eq 2 ] || { echo "usage: readme_blocks.sh README.md OUTDIR" >&2; exit 2; }
mkdir -p "$2"
awk -v out="$2" '
	function complain(msg) { printf "readme_blocks: README.md:%d: %s\n", NR, msg > "/dev/stderr"; bad = 1 }
	/^#+ / && !inside { section = $0; sub(/^#+ /, "", section) }
	!inside && /^ *```/ {
		lang = $0; sub(/^ *```/, "", lang); sub(/[ \t].*/, "", lang)
		indent = $0; sub(/```.*/, "", indent)
		if (lang == "") complain("a fenced block without a language (```sh, ```json, ```text, ...)")
		n++
		file = sprintf("%s/%d.%s", out, n, lang == "" ? "txt" : lang)
		printf "" > file
		if (section ~ /^Set-up/) why = "the Set-up section (make check-fresh runs it)"
		else why = reason
		line = NR; inside = 1; reason = ""; next
	}
	inside && /^ *```$/ {
		close(file)
		if (lang != "sh") print n, line, lang, "data", file
		else if (why != "") print n, line, lang, "skip", file, why
		else print n, line, lang, "run", file
		inside = 0; prev = ""; next
	}
	inside { l = $0; if (substr(l, 1, length(indent)) == indent) l = substr(l, length(indent) + 1); print l >> file; next }
	/^<!-- not run: .* -->$/ { reason = $0; sub(/^<!-- not run: /, "", reason); sub(/ -->$/, "", reason); prev = $0; next }
	/^    / && prev ~ /^ *$/ && section !~ /^Set-up/ {
		complain("an indented code block: fence it and name its language (```sh runs in tests/cli/t_ci_readme.sh)")
	}
	{ reason = ""; prev = $0 }
	END {
		if (inside) { print "readme_blocks: an unterminated fenced block" > "/dev/stderr"; exit 1 }
		exit bad
	}' "$1"
