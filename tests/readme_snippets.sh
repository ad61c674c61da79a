#!/bin/sh
# Extracts the tested snippets of README.md: each fenced block right after a
# line `<!-- snippet: KIND -->` goes to OUTDIR/N-KIND.EXT (EXT yml for yaml
# blocks, sh for shell), and one line "KIND FILE" per snippet is printed.
# tests/cli/t_ci_readme.sh validates them with the same tools as the CI
# files (action-validator, gitlab-ci-local) and runs the shell ones.
#
#   tests/readme_snippets.sh README.md OUTDIR
set -eu
[ $# -eq 2 ] || { echo "usage: readme_snippets.sh README.md OUTDIR" >&2; exit 2; }
mkdir -p "$2"
awk -v out="$2" '
	/^<!-- snippet: [a-z0-9-]+ -->$/ { kind = $3; want = 1; next }
	want && /^```/ {
		ext = ($0 ~ /yaml|yml/) ? "yml" : "sh"
		n++
		file = sprintf("%s/%d-%s.%s", out, n, kind, ext)
		printf "" > file
		inside = 1; want = 0; next
	}
	inside && /^```$/ { close(file); print kind, file; inside = 0; next }
	inside { print >> file; next }
	want && NF { printf "readme_snippets: the snippet marker before line %d is not followed by a fenced block\n", NR > "/dev/stderr"; bad = 1; want = 0 }
	END {
		if (inside) { print "readme_snippets: an unterminated fenced block" > "/dev/stderr"; exit 1 }
		exit bad
	}' "$1"
