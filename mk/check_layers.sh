#!/bin/sh
# make check: the layering of docs/ARCHITECTURE.md. Every `#include "x/..."`
# of a .c or .h file of a module must name a module that the table below
# lets that module include (itself aside); an include without a folder
# ("remote.h") is of the file's own folder. Prints each offending include
# as FILE:LINE: and exits 1 when there is one. The network libraries'
# headers are each included by their one file of net/ (curl/curl.h by
# net/http.c, mosquitto.h by net/mqtt.c), which translates their errors.
#
#   mk/check_layers.sh [ROOT]   (default: the tree this script is in)
set -eu
root=${1:-$(dirname "$0")/..}
cd "$root"

# module: the modules it may include, lowest first (keep in step with
# docs/ARCHITECTURE.md)
allowed() {
	case $1 in
	util) echo "" ;;
	net) echo "util" ;;
	formats) echo "util" ;;
	registry) echo "util net formats" ;;
	runners) echo "util formats" ;;
	runners/agent) echo "util formats runners" ;;
	validator) echo "util net formats registry runners" ;;
	pipelines) echo "util net formats registry runners validator" ;;
	cli) echo "util net formats registry runners validator pipelines" ;;
	device) echo "util net formats registry runners validator pipelines" ;;
	esac
}
MODULES="util net formats registry runners runners/agent validator pipelines cli device"

bad=0
tmp=$(mktemp "${TMPDIR:-/tmp}/check_layers.XXXXXX")
trap 'rm -f "$tmp"' EXIT
for m in $MODULES; do
	ok=$(allowed "$m")
	for f in "$m"/*.c "$m"/*.h; do
		[ -f "$f" ] || continue
		# LINE:PATH of each quoted include that names a folder
		grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"[^"]*/' "$f" |
			sed 's/^\([0-9]*\):[^"]*"\([^"]*\)".*/\1:\2/' >"$tmp" || true
		while IFS=: read -r line inc; do
			[ -n "$inc" ] || continue
			case $inc in
			runners/agent/*) dep=runners/agent ;;
			*) dep=${inc%%/*} ;;
			esac
			[ "$dep" = "$m" ] && continue
			case " $ok " in
			*" $dep "*) continue ;;
			esac
			echo "$f:$line: #include \"$inc\": $m may include ${ok:+only }${ok:-no other module}" >&2
			bad=1
		done <"$tmp"
	done
done
for pair in curl/curl.h:net/http.c mosquitto.h:net/mqtt.c; do
	hdr=${pair%%:*} own=${pair#*:}
	for m in $MODULES; do
		for f in "$m"/*.c "$m"/*.h; do
			[ -f "$f" ] && [ "$f" != "$own" ] || continue
			for line in $(grep -n "^[[:space:]]*#[[:space:]]*include[[:space:]]*<$hdr>" "$f" | cut -d: -f1); do
				echo "$f:$line: #include <$hdr>: only $own may include it" >&2
				bad=1
			done
		done
	done
done
exit $bad
