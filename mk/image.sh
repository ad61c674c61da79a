#!/bin/sh
# make image: an OCI image of modelgate, written as an OCI image layout into
# LAYOUT with the tag TAG (no daemon involved), from the release tarball
# that make dist writes. Two layers:
#
#   1. a Debian 12 root from mmdebstrap (variant apt: the essential packages
#      and apt, with merged /usr and without usrmerge's perl) plus
#      ca-certificates; manual pages, documentation other than copyright
#      files, info pages and translations are left out. The release tarball
#      bundles every library modelgate needs beyond glibc, the GCC runtime
#      and the few that apt itself pulls in, so nothing else is needed.
#      qemu-user is left out: it would add 38 MB of the 86 compressed (99 MB
#      unpacked) to every pull, for the jobs that use the qemu-aarch64
#      target; those install it (apt-get update, apt-get install qemu-user:
#      about 10 s).
#   2. the tarball's modelgate-VERSION/ as /opt/modelgate,
#      /usr/local/bin/modelgate pointing at its launcher, and an empty /work.
#
# The configuration has no entrypoint (CI systems run their own shell in
# the image), bash as its command, WORKDIR /work, Debian's PATH and the
# org.opencontainers.image.* labels. umoci writes the layout and the
# gzipped layers; GNU tar (through mmdebstrap, and for layer 2) writes the
# tar streams.
#
# The same inputs give the same manifest digest: every time in the image
# and in its configuration is SOURCE_DATE_EPOCH (default: the last commit's
# time), mmdebstrap removes what would differ from run to run (logs, apt
# lists and caches, machine-id, ldconfig's aux-cache), and /etc/resolv.conf and
# /etc/hostname, which it copies from the host, are taken out again (the
# container runtime provides both). Debian's mirror is the remaining input:
# two builds on the same day give the same digest unless the archive
# changed in between.
#
# Before it replaces LAYOUT, the image is unpacked (umoci unpack) and
# modelgate run in it through mk/chroot.sh: every library of its x86_64
# binaries and bundled libraries resolves (the latter as the binaries'
# RPATH finds them, Arm NN's as the TFLite engine's finds them in armnn/),
# and `modelgate --version` answers. Needs root.
#
#   mk/image.sh TARBALL WORKDIR LAYOUT TAG
set -eu
umask 022
export LC_ALL=C
[ $# -eq 4 ] || { echo "usage: mk/image.sh TARBALL WORKDIR LAYOUT TAG" >&2; exit 2; }
tarball=$1 work=$2 layout=$3 tag=$4
top=$(cd "$(dirname "$0")/.." && pwd)
die() { echo "image: $*" >&2; exit 2; }

[ "$(id -u)" = 0 ] || die "building the image needs root (mmdebstrap, chroot)"
for t in mmdebstrap umoci; do
	command -v $t >/dev/null || die "$t is missing (make deps-test installs it)"
done
tar --version 2>/dev/null | grep -q 'GNU tar' || die "GNU tar is needed"
[ -f "$tarball" ] || die "'$tarball' is missing (make dist)"
sde=${SOURCE_DATE_EPOCH:-$(git -C "$top" log -1 --format=%ct 2>/dev/null || true)}
case $sde in
"" | *[!0-9]*) die "set SOURCE_DATE_EPOCH (no git commit to take the time from)" ;;
esac
export SOURCE_DATE_EPOCH=$sde
created=$(date -u -d "@$sde" +%Y-%m-%dT%H:%M:%SZ)
revision=$(git -C "$top" rev-parse HEAD 2>/dev/null || true)
name=modelgate-$tag

rm -rf "$work"
mkdir -p "$work"
work=$(cd "$work" && pwd)

# Layer 1. The sources are named, so that nothing on standard input (which
# mmdebstrap would read as a sources.list) can change them.
echo "image: Debian 12 root (mmdebstrap, SOURCE_DATE_EPOCH=$sde)"
TMPDIR=$work mmdebstrap --quiet --variant=apt \
	--hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
	--include=ca-certificates \
	--dpkgopt='path-exclude=/usr/share/man/*' \
	--dpkgopt='path-exclude=/usr/share/doc/*' \
	--dpkgopt='path-include=/usr/share/doc/*/copyright' \
	--dpkgopt='path-exclude=/usr/share/info/*' \
	--dpkgopt='path-exclude=/usr/share/locale/*' \
	--dpkgopt='path-exclude=/usr/share/lintian/*' \
	--customize-hook='rm -f "$1/etc/resolv.conf" "$1/etc/hostname"' \
	--format=tar bookworm "$work/base.tar" \
	"deb http://deb.debian.org/debian bookworm main" \
	"deb http://deb.debian.org/debian bookworm-updates main" \
	"deb http://security.debian.org/debian-security bookworm-security main" \
	</dev/null >"$work/mmdebstrap.log" 2>&1 || {
	tail -n 30 "$work/mmdebstrap.log" >&2
	die "mmdebstrap failed (its log: $work/mmdebstrap.log)"
}
# the device nodes mmdebstrap leaves in /dev: runtimes mount their own, and
# an unprivileged unpack could not create them
tar --delete --wildcards -f "$work/base.tar" './dev/?*'

# Layer 2.
stage=$work/stage
mkdir -p "$stage/opt" "$stage/usr/local/bin" "$stage/work"
tar --no-same-owner -xzf "$tarball" -C "$stage/opt"
[ "$(ls "$stage/opt")" = "$name" ] || die "'$tarball' does not hold just $name/"
[ -x "$stage/opt/$name/bin/modelgate" ] || die "'$tarball' has no $name/bin/modelgate"
mv "$stage/opt/$name" "$stage/opt/modelgate"
ln -s /opt/modelgate/bin/modelgate "$stage/usr/local/bin/modelgate"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$sde" --format=gnu \
	-C "$stage" -cf "$work/modelgate.tar" opt usr work

echo "image: layout $layout, tag $tag"
l=$work/layout
umoci init --layout "$l"
umoci new --image "$l:$tag"
umoci config --image "$l:$tag" --no-history --created "$created" --os linux --architecture amd64
umoci raw add-layer --image "$l:$tag" --history.created "$created" \
	--history.created_by "mmdebstrap --variant=apt bookworm, with ca-certificates" "$work/base.tar"
umoci raw add-layer --image "$l:$tag" --history.created "$created" \
	--history.created_by "$name-linux-x86_64.tar.gz as /opt/modelgate" "$work/modelgate.tar"
set -- --config.label org.opencontainers.image.title=modelgate \
	--config.label "org.opencontainers.image.description=CI/CD validation for ML models headed for edge devices" \
	--config.label "org.opencontainers.image.version=$tag" \
	--config.label "org.opencontainers.image.created=$created" \
	--config.label org.opencontainers.image.base.name=debian:bookworm
[ -n "$revision" ] && set -- "$@" --config.label "org.opencontainers.image.revision=$revision"
umoci config --image "$l:$tag" --no-history --created "$created" \
	--clear config.entrypoint --config.cmd bash --config.workingdir /work \
	--config.env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$@"
umoci gc --layout "$l"
chmod -R a+rX "$l"

# Does it run?
umoci unpack --image "$l:$tag" "$work/bundle" >/dev/null
sh "$top/mk/chroot.sh" "$work/bundle/rootfs" /bin/sh -c '
	find /opt/modelgate -path /opt/modelgate/libexec/modelgate/aarch64 -prune -o -type f -print |
	while read -r f; do
		LD_LIBRARY_PATH=/opt/modelgate/lib:/opt/modelgate/libexec/modelgate/armnn ldd "$f" 2>/dev/null | sed -n "s|^[[:space:]]*\([^ ]*\) => not found.*|$f needs \1, which the image lacks|p"
	done' >"$work/missing"
[ ! -s "$work/missing" ] || die "$(cat "$work/missing")"
sh "$top/mk/chroot.sh" "$work/bundle/rootfs" modelgate --version >"$work/version" ||
	die "modelgate --version failed in the image"
version=$(cat "$work/version")
rm -rf "$layout"
mkdir -p "$(dirname "$layout")"
mv "$l" "$layout"
rm -rf "$work"
digest=$(sed -n 's/.*"digest":"\(sha256:[0-9a-f]*\)".*/\1/p' "$layout/index.json")
bytes=$(cat "$layout"/blobs/sha256/* | wc -c)
echo "image: $layout:$tag $digest ($version; $bytes bytes of blobs)"
