#!/bin/sh
# make dist: the release tarball OUTDIR/modelgate-VERSION-linux-x86_64.tar.gz
# and OUTDIR/SHA256SUMS, from a release build in BUILD (make RELEASE=1: an
# RPATH to ../../lib, no path of the checkout in the binaries). It holds,
# under modelgate-VERSION/:
#
#   bin/modelgate               a sh launcher (mk/dist_launcher.sh) that checks
#                               the machine and runs libexec/modelgate/modelgate
#   bin/modelgate-device        the same launcher, for libexec/modelgate/modelgate-device
#                               (the fleet updater)
#   libexec/modelgate/          modelgate, the x86_64 agent, its ONNX Runtime and
#                               its TFLite engine with Arm NN (armnn/), laid by
#                               mk/install.sh as make install does
#   libexec/modelgate/aarch64/  the aarch64 agent, its ONNX Runtime and TFLite
#                               engine, the cpuinfo library qemu preloads into
#                               it, modelgate-device for aarch64 devices, and
#                               sysroot/lib/: the aarch64 C and C++ runtime that
#                               qemu-aarch64 runs them with, and the arm64
#                               libcurl, jansson, libarchive, OpenSSL,
#                               libmosquitto and their own dependencies from
#                               the arm64 sysroot of make deps (SYSROOT)
#   lib/                        the shared libraries modelgate needs that a
#                               minimal Debian 12 or Ubuntu 24.04 lacks
#   share/modelgate/            modelgate.schema.json, the JSON Schema of
#                               modelgate.json (init's "$schema")
#   share/doc/modelgate/        BUNDLED (each bundled library, its Debian package
#                               and version) and the packages' copyright files
#   share/man/man1/, share/bash-completion/completions/modelgate,
#   share/zsh/site-functions/_modelgate
#                               the man pages and completions, as make install
#
# The same inputs give the same bytes: entries sorted by name, owner and
# group 0, every mtime SOURCE_DATE_EPOCH (default: the last commit's time),
# gzip without a name or time.
#
#   mk/dist.sh BUILD VERSION ORT_DIR ARMNN_DIR SYSROOT OUTDIR
set -eu
umask 022
export LC_ALL=C
[ $# -eq 6 ] || { echo "usage: mk/dist.sh BUILD VERSION ORT_DIR ARMNN_DIR SYSROOT OUTDIR" >&2; exit 2; }
build=$1 version=$2 ort=$3 armnn=$4 sysroot=$5 outdir=$6
top=$(cd "$(dirname "$0")/.." && pwd)
die() { echo "dist: $*" >&2; exit 2; }

# Libraries every Debian 12 and Ubuntu 24.04 system has, because the
# essential packages, dpkg or apt need them: glibc (whose version the
# launcher checks), the GCC runtime (apt), the compressors (dpkg,
# libsystemd0), PCRE2 (libselinux1, grep), libacl1 (coreutils), GnuTLS and
# what it uses (apt). They are taken from the system, so they get its
# security updates. Everything else modelgate loads goes into lib/:
# libgit2, libcurl, jansson, libarchive and their own dependencies. That
# includes OpenSSL (libssl3): Debian has it only with the openssl package
# (pulled in by ca-certificates), Ubuntu's minimal images not at all, and a
# system's OpenSSL 3 would serve as well, but a missing one would stop
# modelgate from starting even for a gate that never touches the network.
# libunistring.so.2 goes too: Ubuntu 24.04 has libunistring.so.5 only.
base="linux-vdso.so.1 ld-linux-x86-64.so.2 libc.so.6 libm.so.6 libdl.so.2 libpthread.so.0
librt.so.1 libresolv.so.2 libgcc_s.so.1 libstdc++.so.6 libz.so.1 libzstd.so.1 liblzma.so.5
libbz2.so.1.0 liblz4.so.1 libpcre2-8.so.0 libacl.so.1 libgnutls.so.30 libnettle.so.8
libhogweed.so.6 libgmp.so.10 libp11-kit.so.0 libtasn1.so.6 libidn2.so.0 libffi.so.8"
base=$(echo $base)

sde=${SOURCE_DATE_EPOCH:-$(git -C "$top" log -1 --format=%ct 2>/dev/null || true)}
case $sde in
"" | *[!0-9]*) die "set SOURCE_DATE_EPOCH (no git commit to take the time from)" ;;
esac
for f in "$build/modelgate" "$build/modelgate-device" "$build/modelgate-agent" "$build/aarch64/modelgate-agent" \
	"$build/aarch64/libmodelgate-cpuinfo.so" "$ort/lib/x64/libonnxruntime.so.1" \
	"$ort/lib/arm64/libonnxruntime.so.1" "$build/libmodelgate-tflite.so" \
	"$build/aarch64/libmodelgate-tflite.so" "$armnn/x64/BUNDLED" "$armnn/arm64/BUNDLED" \
	"$build/aarch64/modelgate-device" "$sysroot/PACKAGES"; do
	[ -f "$f" ] || die "'$f' is missing (make dist builds it; make deps fetches ONNX Runtime, Arm NN and the arm64 sysroot)"
done
for t in readelf:binutils ldd:libc-bin gzip:gzip dpkg:dpkg; do
	command -v ${t%:*} >/dev/null || die "${t%:*} is missing (Debian package ${t#*:})"
done
tar --version 2>/dev/null | grep -q 'GNU tar' || die "GNU tar is needed (--sort=name)"

name=modelgate-$version
stage=$build/stage/$name
rm -rf "$build/stage"
mkdir -p "$stage"
sh "$top/mk/install.sh" "$build" "$stage/bin" "$stage/libexec" "$ort" "$stage/share" >/dev/null
libexec=$stage/libexec/modelgate
[ -x "$libexec/aarch64/modelgate-agent" ] || die "mk/install.sh did not lay the aarch64 agent"
mv "$stage/bin/modelgate" "$libexec/modelgate"
mv "$stage/bin/modelgate-device" "$libexec/modelgate-device"
mkdir -p "$stage/lib" "$libexec/aarch64/sysroot/lib" "$stage/share/doc/modelgate/copyright"
doc=$stage/share/doc/modelgate

# pkg_of FILE: "package version" of the Debian package that installed FILE
# (as either of its /lib and /usr/lib names; in the arm64 sysroot, as its
# PACKAGES says), else "unknown".
pkg_of() {
	local real p out
	case $1 in
	"$sysroot"/*)
		out=$(grep -m1 "^${1#"$sysroot"/} " "$sysroot/PACKAGES") && echo "${out#* }" && return
		echo unknown
		return
		;;
	esac
	real=$(readlink -f "$1")
	for p in "$real" "$1" "/usr${1#/usr}" "${real#/usr}"; do
		out=$(dpkg -S "$p" 2>/dev/null | head -1) || continue
		[ -n "$out" ] || continue
		p=${out%%: *}
		echo "$p $(dpkg-query -W -f '${Version}' "$p")"
		return
	done
	echo unknown
}

# bundle FILE DEST: a copy of FILE (symlinks followed) as DEST, with its
# package and copyright file recorded.
bundle() {
	local pkg
	cp -L "$1" "$2"
	chmod 0644 "$2"
	pkg=$(pkg_of "$1")
	echo "${2#"$stage"/} $pkg" >>"$doc/BUNDLED"
	pkg=${pkg%% *}
	pkg=${pkg%%:*}
	local c=/usr/share/doc/$pkg/copyright
	case $1 in "$sysroot"/*) c=$sysroot$c ;; esac
	if [ -f "$c" ]; then
		cp -L "$c" "$doc/copyright/$pkg"
	fi
}

: >"$doc/BUNDLED"
# Arm NN, laid beside each TFLite engine by install.sh: from Debian's .debs
# (make deps), with their packages and copyright files
for a in x64:libexec/modelgate arm64:libexec/modelgate/aarch64; do
	sed "s|^lib/|${a#*:}/armnn/|" "$armnn/${a%%:*}/BUNDLED" >>"$doc/BUNDLED"
	cp "$armnn/${a%%:*}"/copyright/* "$doc/copyright/"
done
# lib/: what the dynamic loader finds outside the base for modelgate, the
# agent, its ONNX Runtime and its TFLite engine (the agent and its engines
# need nothing but the base today, and Arm NN, which lies beside them).
for f in "$libexec/modelgate" "$libexec/modelgate-device" "$libexec/modelgate-agent" "$libexec/libonnxruntime.so.1" \
	"$libexec/libmodelgate-tflite.so" "$libexec"/armnn/*.so* "$libexec"/armnn/backends/*.so; do
	# (Arm NN's libraries find each other through the engine's RPATH)
	LD_LIBRARY_PATH=$libexec/armnn ldd "$f" || die "ldd '$f' failed"
done >"$build/stage/ldd"
if grep 'not found' "$build/stage/ldd" >&2; then
	die "modelgate needs libraries this machine does not have"
fi
awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }' "$build/stage/ldd" | sort -u | while read -r soname path; do
	case " $base " in
	*" $soname "*) ;;
	*) [ -f "$libexec/armnn/$soname" ] || bundle "$path" "$stage/lib/$soname" ;;
	esac
done

# aarch64/sysroot/lib/: the aarch64 loader and every library that what
# install.sh laid in aarch64/ (the agent, its ONNX Runtime and TFLite engine
# with Arm NN, any library preloaded into it) needs, from the cross
# toolchain's runtime; Arm NN's own come from armnn/.
# (the arm64 sysroot's libraries after those: the aarch64 modelgate-device's)
a64=/usr/aarch64-linux-gnu/lib
a64_libs="$a64 $sysroot/lib/aarch64-linux-gnu $sysroot/usr/lib/aarch64-linux-gnu"
needed() {
	readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | while read -r n; do
		[ -f "$libexec/aarch64/armnn/$n" ] || echo "$n"
	done
}
todo=ld-linux-aarch64.so.1
for f in "$libexec"/aarch64/* "$libexec"/aarch64/armnn/* "$libexec"/aarch64/armnn/backends/*; do
	[ -f "$f" ] && todo="$todo $(needed "$f")"
done
while [ -n "$(echo $todo)" ]; do
	set -- $todo
	soname=$1
	shift
	todo=$*
	[ -f "$libexec/aarch64/sysroot/lib/$soname" ] && continue
	from=
	for d in $a64_libs; do
		[ -f "$d/$soname" ] && { from=$d/$soname; break; }
	done
	[ -n "$from" ] || die "'$soname' is in none of $a64_libs (Debian packages libc6-arm64-cross, libstdc++6-arm64-cross; make deps)"
	bundle "$from" "$libexec/aarch64/sysroot/lib/$soname"
	todo="$todo $(needed "$from")"
done
sort -o "$doc/BUNDLED" "$doc/BUNDLED"

# The oldest glibc the x86_64 binaries and libraries run with: the highest
# GLIBC_x.y version they ask for.
glibc=$(for f in "$libexec/modelgate" "$libexec/modelgate-device" "$libexec/modelgate-agent" "$libexec/libonnxruntime.so.1" \
	"$libexec/libmodelgate-tflite.so" "$libexec"/armnn/*.so* "$libexec"/armnn/backends/*.so "$stage"/lib/*; do
	readelf -V -W "$f"
done | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/^GLIBC_//' | sort -t. -k1,1n -k2,2n -k3,3n | tail -1 | cut -d. -f1,2)
case $glibc in
[0-9]*.[0-9]*) ;;
*) die "cannot tell which glibc the binaries need" ;;
esac
for p in modelgate modelgate-device; do
	sed "s/@GLIBC_MIN@/$glibc/" "$top/mk/dist_launcher.sh" >"$stage/bin/$p"
	chmod 0755 "$stage/bin/$p"
done

mkdir -p "$outdir"
tarball=$outdir/$name-linux-x86_64.tar.gz
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$sde" --format=gnu --mode=go-w \
	-C "$build/stage" -cf - "$name" | gzip -9n >"$tarball.tmp"
mv "$tarball.tmp" "$tarball"
(
	cd "$outdir"
	find . -maxdepth 1 -type f ! -name 'SHA256SUMS*' ! -name '*.tmp' | sed 's|^\./||' | sort |
		xargs sha256sum >SHA256SUMS.tmp
	mv SHA256SUMS.tmp SHA256SUMS
)
echo "dist: $tarball ($(wc -c <"$tarball") bytes; glibc $glibc or later), $outdir/SHA256SUMS"
