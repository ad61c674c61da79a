#!/bin/sh
# modelgate (or modelgate-device) from a release tarball: checks what the
# machine must have, then runs the real program of the same name
# (libexec/modelgate/modelgate) with the same arguments. A C library older than the binaries need would otherwise stop
# them in the dynamic loader, before modelgate could say anything.
# mk/dist.sh fills in the minimum glibc from the binaries' symbol versions.
glibc_min=@GLIBC_MIN@
self=$(readlink -f "$0" 2>/dev/null) || self=$0
top=${self%/*}/..
case $(uname -m) in
x86_64) ;;
*) echo "modelgate: this release is for x86_64 Linux, not '$(uname -m)'" >&2; exit 3 ;;
esac
have=$(getconf GNU_LIBC_VERSION 2>/dev/null)
case $have in
"glibc "[0-9]*.[0-9]*) have=${have#glibc } ;;
*)
	echo "modelgate: this release needs glibc $glibc_min or later, and this system's C library is not glibc" >&2
	exit 3
	;;
esac
want_major=${glibc_min%%.*} want_minor=${glibc_min#*.}
have_major=${have%%.*} have_minor=${have#*.}
have_minor=${have_minor%%[!0-9]*}
if [ "$have_major" -lt "$want_major" ] ||
	{ [ "$have_major" -eq "$want_major" ] && [ "$have_minor" -lt "$want_minor" ]; }; then
	echo "modelgate: this release needs glibc $glibc_min or later, and this system has $have" >&2
	exit 3
fi
exec "$top/libexec/modelgate/${self##*/}" "$@"
