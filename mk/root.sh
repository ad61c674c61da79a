#!/bin/sh
# Lays a bare Debian 12 root into DIR, as a stock image has it: mmdebstrap's
# apt variant plus ca-certificates, git and make. The root itself is cached
# as a tarball under .deps/roots/, one per day, so repeated runs start from
# it; nothing installed later into a root is ever cached. The host's extra
# CA certificates and npm's cafile setting go in so that the root reaches
# the same package registries as the host; nothing else of the host does.
# Used by check-fresh (mk/check_fresh.sh), the dist and image tests.
#
#   mk/root.sh DIR
set -eu
[ $# -eq 1 ] || { echo "usage: mk/root.sh DIR" >&2; exit 2; }
dir=$1
top=$(cd "$(dirname "$0")/.." && pwd)
[ "$(id -u)" = 0 ] || { echo "root.sh: building a root needs root" >&2; exit 2; }
command -v mmdebstrap >/dev/null || { echo "root.sh: mmdebstrap is missing (make deps-test installs it)" >&2; exit 2; }

cache=$top/.deps/roots
tarball=$cache/bookworm-$(date -u +%Y%m%d).tar
if [ ! -f "$tarball" ]; then
	mkdir -p "$cache"
	rm -f "$cache"/bookworm-*.tar "$cache"/*.tmp
	echo "root: building a Debian 12 root with mmdebstrap (cached as $tarball)"
	mmdebstrap --quiet --variant=apt --include=ca-certificates,git,make \
		--format=tar bookworm "$tarball.tmp"
	mv "$tarball.tmp" "$tarball"
fi
mkdir -p "$dir"
tar --numeric-owner -xpf "$tarball" -C "$dir"

# What the root needs to reach the registries the host reaches.
cp /etc/resolv.conf "$dir/etc/resolv.conf" 2>/dev/null || true
if [ -d /usr/local/share/ca-certificates ]; then
	cp -r /usr/local/share/ca-certificates/. "$dir/usr/local/share/ca-certificates/"
	chroot "$dir" update-ca-certificates >/dev/null 2>&1
fi
cafile=$(npm config get cafile 2>/dev/null || true)
case $cafile in
""|null|undefined) ;;
*) echo "cafile=$cafile" >"$dir/root/.npmrc" ;;
esac
