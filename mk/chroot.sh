#!/bin/sh
# Runs a command inside a root laid by mk/root.sh, as a fresh machine would:
# chroot within a private mount and pid namespace, the root bind-mounted
# onto itself first (a chroot that is not a mount point refuses `unshare
# -m` inside it, as a user's tools may need), then /proc, /sys, /dev and a
# tmpfs /tmp. The mounts go with the namespace when the command ends.
#
#   mk/chroot.sh ROOT COMMAND [ARG...]
set -eu
[ $# -ge 2 ] || { echo "usage: mk/chroot.sh ROOT COMMAND [ARG...]" >&2; exit 2; }
root=$(cd "$1" && pwd)
shift
exec unshare --mount --pid --fork --propagation private sh -eu -c '
root=$1; shift
mount --bind "$root" "$root"
mount -t proc proc "$root/proc"
mount --rbind /sys "$root/sys"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
exec chroot "$root" /usr/bin/env -i HOME=/root TERM=dumb LANG=C.UTF-8 \
	PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"' sh "$root" "$@"
