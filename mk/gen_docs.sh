#!/bin/sh
# The man pages and shell completions of a modelgate binary, made from its
# command tables: OUT/man/modelgate.1 and modelgate-COMMAND.1 for each
# command 'modelgate help' lists, OUT/completions/modelgate.bash and
# OUT/completions/_modelgate (zsh). Run by make; tests run it on their copy.
#
#   mk/gen_docs.sh MODELGATE OUT
set -eu
[ $# -eq 2 ] || { echo "usage: mk/gen_docs.sh MODELGATE OUT" >&2; exit 2; }
mg=$1 out=$2
rm -rf "$out/man" && mkdir -p "$out/man" "$out/completions"
for c in $("$mg" help | sed -n 's/^  \([a-z][a-z-]*\)  .*/\1/p'); do
	"$mg" help --man "$c" >"$out/man/modelgate-$c.1"
done
"$mg" help --man >"$out/man/modelgate.1"
"$mg" completion bash >"$out/completions/modelgate.bash"
"$mg" completion zsh >"$out/completions/_modelgate"
