#!/bin/sh
# Installs what is missing, in two sets:
#
#   mk/deps.sh        (make deps)       what building and running modelgate
#                     needs: the compiler, the -dev packages of libgit2,
#                     libcurl, jansson, libarchive and OpenSSL, valgrind
#                     (its callgrind header lets the agent count a cost
#                     gate's instructions; and it runs them), npm (ONNX
#                     Runtime comes from the npm registry), and ONNX Runtime
#                     itself, pinned by version and sha256; g++ and the
#                     aarch64 g++ and Arm NN 20.08 (x86_64 and arm64 .debs
#                     from Debian's archive, pinned by sha256) for the
#                     TFLite engine's C++ shim; the arm64 sysroot
#                     (Debian 12 arm64 .debs, pinned by version) that the
#                     aarch64 modelgate-device builds against.
#   mk/deps.sh test   (make deps-test)  the above, plus what the tests and
#                     benchmarks use: cmocka, the registry and its clients,
#                     qemu-user and the aarch64 cross compiler, sshd, the
#                     Python modules, chromium, mmdebstrap, and the npm
#                     packages (CI tools, LiteRT.js, MediaPipe's .tflite
#                     models), whose whole tree mk/npm/package-lock.json pins.
#
# Debian packages come through apt-get; each run that installs some says how
# many, how many bytes were fetched and how long it took. Idempotent, and
# fast when everything is there.
set -eu
cd "$(dirname "$0")/.."

RUN_PACKAGES="gcc make pkg-config git ca-certificates
libgit2-dev libcurl4-openssl-dev libjansson-dev libarchive-dev libssl-dev valgrind
g++ g++-aarch64-linux-gnu curl libmosquitto-dev"
# g++ and g++-aarch64-linux-gnu build the TFLite engine's shim
# (runners/agent/engine_tflite_armnn.cpp, over Arm NN's C++-only API) for
# the host and aarch64 agents: building the agent needs them. curl fetches
# Arm NN's .debs from Debian's archive (below). libmosquitto-dev: the
# fleet's status over MQTT (net/mqtt.c: modelgate-device publishes it, the
# CLI reads it back).

# What each is for: the unit tests (cmocka), registries and their peers
# (docker-registry, skopeo, umoci, htpasswd, openssl, curl), the qemu and
# ssh targets and make dist (the aarch64 cross compiler and C++ runtime),
# the Python test helpers and fixture generators (python3-jsonschema: the check of docs/modelgate.schema.json), the report checks
# (xmllint, cmark-gfm, chromium), archives (zstd, unzip), gitlab-ci-local
# (rsync; g++, above, builds its re2 module), sanitizers and fuzzing (clang),
# benchmarks (hyperfine), fresh roots (mmdebstrap), running the container
# image (runc), watching what a command writes (strace), background load
# for the latency bench (stress-ng). (valgrind is a build dependency: above.)
TEST_PACKAGES="libcmocka-dev skopeo docker-registry umoci apache2-utils openssl curl
gcc-aarch64-linux-gnu libc6-dev-arm64-cross libstdc++6-arm64-cross qemu-user openssh-server openssh-client
python3 python3-numpy python3-onnx python3-yaml python3-prometheus-client python3-jsonschema
libonnx-testdata libxml2-utils cmark-gfm chromium zstd unzip rsync
clang libclang-rt-14-dev hyperfine mmdebstrap runc strace stress-ng"

# .tflite test models (issue 15): tests/cli/make_tflite.py writes them through
# python3-flatbuffers' raw Builder; LiteRT.js and the MediaPipe models come
# from npm (mk/npm, below), run by Node.js as npm is.
TEST_PACKAGES="$TEST_PACKAGES python3-flatbuffers"
# the fleet updater's status (issue 17): a real MQTT broker and its clients
TEST_PACKAGES="$TEST_PACKAGES mosquitto mosquitto-clients"
# bench_fleet.sh's peak RSS (/usr/bin/time -v)
TEST_PACKAGES="$TEST_PACKAGES time"

# The man pages render with man -l (man-db, groff-base) and the zsh
# completion loads in zsh (tests/cli/t_cli_help.sh, t_cli_completion.sh).
TEST_PACKAGES="$TEST_PACKAGES man-db groff-base zsh"

# The HTML report's charts as Chromium draws them (issue 16):
# tests/cli/chart_check.py reads the screenshot through python3-pil.
TEST_PACKAGES="$TEST_PACKAGES python3-pil"

test=0
case ${1:-} in
"") ;;
test) test=1 ;;
*) echo "usage: mk/deps.sh [test]" >&2; exit 2 ;;
esac
want=$RUN_PACKAGES
[ "$test" = 1 ] && want="$want $TEST_PACKAGES"

missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
# npm may come from elsewhere than Debian (NodeSource's nodejs carries it)
command -v npm >/dev/null || missing="$missing nodejs npm"
if [ -n "$missing" ]; then
	echo "deps: installing Debian packages:$missing"
	if [ "$(id -u)" != 0 ]; then
		echo "deps: not root; run: sudo apt-get install$missing" >&2
		exit 2
	fi
	export DEBIAN_FRONTEND=noninteractive
	start=$(date +%s)
	log=$(mktemp)
	apt-get update -qq
	if ! apt-get install -y -q -o DPkg::Lock::Timeout=600 --no-install-recommends $missing >"$log" 2>&1; then
		tail -n 20 "$log" >&2
		rm -f "$log"
		echo "deps: apt-get install failed" >&2
		exit 3
	fi
	n=$(sed -n 's/^[0-9]* upgraded, \([0-9]*\) newly installed.*/\1/p' "$log")
	got=$(sed -n 's/^Need to get \([^ ]* [kMG]*B\).*/\1/p' "$log")
	rm -f "$log"
	echo "deps: $n packages installed (${got:-0 B} fetched) in $(($(date +%s) - start)) s"
fi

# ONNX Runtime: the x64 and arm64 libraries from onnxruntime-node, the C API
# header (API version 29) from com.github.asus4.onnxruntime.
ORT=.deps/ort
STAMP=$ORT/.stamp-1.30.0-2
fetch() { # name version sha256
	tgz=.deps/dl/$1-$2.tgz
	if [ ! -f "$tgz" ] || ! echo "$3  $tgz" | sha256sum -c --status; then
		mkdir -p .deps/dl
		echo "deps: fetching $1@$2 from the npm registry"
		(cd .deps/dl && npm pack --silent "$1@$2" >/dev/null)
	fi
	if ! echo "$3  $tgz" | sha256sum -c --status; then
		echo "deps: '$tgz' does not have the pinned sha256 $3" >&2
		rm -f "$tgz"
		exit 3
	fi
}
if [ ! -f "$STAMP" ]; then
	fetch onnxruntime-node 1.30.0 6e3390d6b783e7be946fad629292799da28d0b42f84856e50d2c1b0383291e75
	fetch com.github.asus4.onnxruntime 0.4.9 e59788788818fdde1b2e522e766a21ba0f7d8391de55737abf81e32cc801785d
	rm -rf "$ORT.new"
	mkdir -p "$ORT.new/lib/x64" "$ORT.new/lib/arm64" "$ORT.new/include"
	lib=package/bin/napi-v6/linux
	tar --no-same-owner -xzf .deps/dl/onnxruntime-node-1.30.0.tgz -C "$ORT.new" \
		"$lib/x64/libonnxruntime.so.1" "$lib/arm64/libonnxruntime.so.1"
	mv "$ORT.new/$lib/x64/libonnxruntime.so.1" "$ORT.new/lib/x64/"
	mv "$ORT.new/$lib/arm64/libonnxruntime.so.1" "$ORT.new/lib/arm64/"
	hdr=package/Plugins/iOS~/onnxruntime.xcframework/ios-arm64_x86_64-simulator/onnxruntime.framework/Headers
	# onnxruntime_c_api.h includes the other two
	headers="onnxruntime_c_api.h onnxruntime_error_code.h onnxruntime_ep_c_api.h"
	tar --no-same-owner -xzf .deps/dl/com.github.asus4.onnxruntime-0.4.9.tgz -C "$ORT.new" \
		$(for h in $headers; do echo "$hdr/$h"; done)
	for h in $headers; do mv "$ORT.new/$hdr/$h" "$ORT.new/include/"; done
	rm -rf "$ORT.new/package"
	touch "$ORT.new/.stamp-1.30.0-2"
	rm -rf "$ORT"
	mv "$ORT.new" "$ORT"
	echo "deps: ONNX Runtime 1.30.0 in $ORT"
fi

# ---- Arm NN 20.08 (the TFLite engine) -----------------------------------
# Debian 12's Arm NN 20.08 reads .tflite (TfLiteParser) and runs it on the
# CpuRef backend (x86_64, arm64) or CpuAcc (arm64, NEON kernels of the Arm
# Compute Library). The .debs come from Debian's archive pool by exact
# version and sha256, and are unpacked with dpkg-deb -x (no foreign dpkg
# architecture, nothing installed) into .deps/armnn/{x64,arm64}:
# include/ (the -dev headers) and lib/ with every library the shim needs
# that a plain Debian 12 (or the aarch64 sysroot) lacks: libarmnn,
# libarmnnTfLiteParser, libflatbuffers.so.2, on arm64 libarmnnAclCommon and
# libarm_compute{,_core}, each as one file named by its soname, and the
# dynamic backends in lib/backends/; copyright/ and BUNDLED (each file's
# package and version) for make dist. They need
# glibc >= 2.34 and GLIBCXX_3.4.30 where they run.
ARMNN=.deps/armnn
ARMNN_STAMP=$ARMNN/.stamp-20.08-12-4
ARMNN_POOL=http://deb.debian.org/debian/pool/main
ARMNN_DEBS="x64 a/armnn/libarmnn22_20.08-12_amd64.deb 53570243d45ef266568501f74430117b12fe415a0f7aa5ff50639fc8e28c4b3b
x64 a/armnn/libarmnn-dev_20.08-12_amd64.deb 66355ad24828f0c5eb23090e6f4b385027f4019d9b81d2985233369cf3700634
x64 a/armnn/libarmnntfliteparser22_20.08-12_amd64.deb 1120657c045f36f156477c14e2b9606410b6ff12a83bd2d5bdb74ce191d0bb36
x64 a/armnn/libarmnntfliteparser-dev_20.08-12_amd64.deb 5446b4c2105b6741306d6793c2b178f1f8c94adc8ae4dcd9d7a8c7b986d9dfec
x64 a/armnn/libarmnn-cpuref-backend22_20.08-12_amd64.deb 6b101668a73ad19996b72fbc9087d532ea51a0528965584d39965e22f5ef5334
x64 f/flatbuffers/libflatbuffers2_2.0.8+dfsg1-2_amd64.deb 526151238b8f9f7fd3c333c43f846a4ff3822165fe7a0eed1b51c41922adc871
arm64 a/armnn/libarmnn22_20.08-12_arm64.deb 2ebabc07f0815b8978c7f6ce99cc63e5b4e9cb129f4fe690dff2819c96acbeb6
arm64 a/armnn/libarmnn-dev_20.08-12_arm64.deb 2a7534ab7df5cbbe87df23c60b4984e11fb551070aae7508d702af53e6a0c4dc
arm64 a/armnn/libarmnntfliteparser22_20.08-12_arm64.deb cb49efd8c29d3d3c05b06226917008d93b344a6e12b80c6620aa3c769a48173d
arm64 a/armnn/libarmnntfliteparser-dev_20.08-12_arm64.deb 0eb26e7a5be275aa7e695a152dc6834a2f18e4561406ce175e69341cbbe2bffd
arm64 a/armnn/libarmnn-cpuref-backend22_20.08-12_arm64.deb b6dee6dfd7dee6b69285e2b1a09be49ab60021f9f1b6261d736a50266842f4c4
arm64 a/armnn/libarmnn-cpuacc-backend22_20.08-12_arm64.deb 467e962352e9ed60931dcb2aa934cadf0c38c9c4321bdf352001109ee24dd86b
arm64 a/armnn/libarmnnaclcommon22_20.08-12_arm64.deb d10984866de9abe608378546d095e8024239d2345d6a736c36eb2ce1417465ba
arm64 a/arm-compute-library/libarm-compute20_20.08+dfsg-7_arm64.deb 42465aa95d56c19c62770fcdd145c0c1aee0224281bdc887aa691efd1166e0e8
arm64 f/flatbuffers/libflatbuffers2_2.0.8+dfsg1-2_arm64.deb 72ca73ab727119ccf5a53dc84df989adfba86bc2ea3306e272c3dea40988a59d"
if [ ! -f "$ARMNN_STAMP" ]; then
	rm -rf "$ARMNN.new"
	mkdir -p .deps/dl "$ARMNN.new"
	echo "$ARMNN_DEBS" | while read -r arch path sum; do
		deb=.deps/dl/${path##*/}
		if [ ! -f "$deb" ] || ! echo "$sum  $deb" | sha256sum -c --status; then
			echo "deps: fetching ${path##*/} from Debian's archive"
			curl -fsS --retry 3 -o "$deb" "$ARMNN_POOL/$path" || {
				echo "deps: cannot fetch '$ARMNN_POOL/$path'" >&2; rm -f "$deb"; exit 3; }
		fi
		if ! echo "$sum  $deb" | sha256sum -c --status; then
			echo "deps: '$deb' does not have the pinned sha256 $sum" >&2
			rm -f "$deb"
			exit 3
		fi
		dpkg-deb -x "$deb" "$ARMNN.new/root-$arch"
		# which package each library comes from, for make dist's BUNDLED
		pkg=$(dpkg-deb -f "$deb" Package) ver=$(dpkg-deb -f "$deb" Version)
		dpkg-deb -c "$deb" | sed -n 's|.*/\([^/ ]*\.so[.0-9]*\)\( ->.*\)*$|\1|p' |
			while read -r f; do echo "$f $pkg $ver"; done >>"$ARMNN.new/packages-$arch"
	done
	for arch in x64 arm64; do
		root=$ARMNN.new/root-$arch
		dst=$ARMNN.new/$arch
		mkdir -p "$dst/lib/backends" "$dst/copyright"
		mv "$root/usr/include" "$dst/include"
		for c in "$root"/usr/share/doc/*/copyright; do
			d=${c%/copyright}
			cp "$c" "$dst/copyright/${d##*/}"
		done
		libdir=$(echo "$root"/usr/lib/*-linux-gnu)
		mv "$libdir"/armnn22/*_backend.so "$dst/lib/backends/"
		# each library once, as a file under the name it is loaded by
		# (its soname link, followed); not the serializer nor ACL's graph
		# API, which nothing here uses
		for l in "$libdir"/lib*.so.[0-9]*; do
			case $l in *Serializer* | *compute_graph*) continue ;; esac
			[ -L "$l" ] && cp -L "$l" "$dst/lib/"
		done
		# lib/NAME PACKAGE VERSION, for each file laid in lib/
		(cd "$dst/lib" && find . -type f | sed 's|^\./||' | sort) | while read -r f; do
			grep -m1 "^${f##*/} " "$ARMNN.new/packages-$arch" | sed "s|^[^ ]*|lib/$f|"
		done >"$dst/BUNDLED"
		rm -rf "$root" "$ARMNN.new/packages-$arch"
	done
	touch "$ARMNN.new/${ARMNN_STAMP##*/}"
	rm -rf "$ARMNN"
	mv "$ARMNN.new" "$ARMNN"
	echo "deps: Arm NN 20.08 (x86_64, arm64) in $ARMNN"
fi
# ---- end of Arm NN --------------------------------------------------------

# ---- the arm64 sysroot (modelgate-device for aarch64) ---------------------
# The aarch64 modelgate-device links libcurl, jansson, libarchive, OpenSSL's
# libcrypto and libmosquitto, which the cross toolchain lacks. Their Debian 12
# arm64 -dev packages and every runtime library they need down to libc6
# (apt's closure of libcurl4-openssl-dev libssl-dev libjansson-dev
# libarchive-dev libmosquitto-dev, without recommends), and libgit2-dev for
# its headers only (the device links no libgit2), pinned by version, are
# fetched by apt-get download and unpacked with dpkg-deb -x into
# .deps/sysroot-arm64: the Makefile compiles against its usr/include and links
# against its libraries; qemu-aarch64 -L .deps/sysroot-arm64 runs the result
# (libc6 brings the loader). apt reads arm64 package lists kept in a state of
# its own (.deps/apt-arm64), so the machine's dpkg gets no foreign
# architecture and nothing is installed. Debian drops a superseded version
# (a security update) from its archive: then this stops and names the pins
# to move, with the version the archive has now.
# dpkg-deb -x does not resolve symlinks either way: each library is laid as
# its package has it. PACKAGES lists each library file's package and version
# (make dist's BUNDLED).
SYSROOT=.deps/sysroot-arm64
SYSROOT_DEBS="gcc-12-base=12.2.0-14+deb12u1 libgcc-s1=12.2.0-14+deb12u1 libc6=2.36-9+deb12u14 libacl1=2.3.1-3
libbz2-1.0=1.0.8-5+b1 liblz4-1=1.9.4-1 liblzma5=5.4.1-1+deb12u2 libnettle8=3.8.1-2
libstdc++6=12.2.0-14+deb12u1 libicu72=72.1-3+deb12u1 zlib1g=1:1.2.13.dfsg-1+deb12u1
libxml2=2.9.14+dfsg-1.3~deb12u6 libzstd1=1.5.4+dfsg2-5+deb12u1 libarchive13=3.6.2-1+deb12u5
libarchive-dev=3.6.2-1+deb12u5 libbrotli1=1.0.9-2+deb12u1 libcom-err2=1.47.0-2+b2
libkrb5support0=1.20.1-2+deb12u5 libk5crypto3=1.20.1-2+deb12u5 libkeyutils1=1.6.3-2
libssl3=3.0.22-1~deb12u2 libkrb5-3=1.20.1-2+deb12u5 libgssapi-krb5-2=1.20.1-2+deb12u5
libunistring2=1.0-2 libidn2-0=2.3.3-1+b1 libgmp10=2:6.2.1+dfsg1-1.1 libhogweed6=3.8.1-2
libffi8=3.4.4-1 libp11-kit0=0.24.1-2 libtasn1-6=4.19.0-2+deb12u1 libgnutls30=3.7.9-2+deb12u7
libdb5.3=5.3.28+dfsg2-1 libsasl2-modules-db=2.1.28+dfsg-10+deb12u1
libsasl2-2=2.1.28+dfsg-10+deb12u1 libldap-2.5-0=2.5.13+dfsg-5 libnghttp2-14=1.52.0-1+deb12u3
libpsl5=0.21.2-1 librtmp1=2.4+20151223.gitfa8646d.1-2+b2 libssh2-1=1.10.0-3+deb12u1
libcurl4=7.88.1-10+deb12u15 libcurl4-openssl-dev=7.88.1-10+deb12u15 libjansson4=2.14-2
libjansson-dev=2.14-2 libmosquitto1=2.0.11-1.2+deb12u2 libmosquitto-dev=2.0.11-1.2+deb12u2
libssl-dev=3.0.22-1~deb12u2 libgit2-dev=1.5.1+ds-1+deb12u2"
SYSROOT_STAMP=$SYSROOT/.stamp-$(echo "$SYSROOT_DEBS" | sha256sum | cut -c1-16)
if [ ! -f "$SYSROOT_STAMP" ]; then
	APT_A64=$(pwd)/.deps/apt-arm64
	mkdir -p "$APT_A64/lists/partial" "$APT_A64/cache/archives/partial" "$APT_A64/debs"
	: >"$APT_A64/status"
	apt_a64() { # apt-get or apt-cache over the arm64 lists, quietly
		tool=$1
		shift
		"$tool" -q -o APT::Architecture=arm64 -o APT::Architectures=arm64 \
			-o Dir::State::Lists="$APT_A64/lists" -o Dir::State::status="$APT_A64/status" \
			-o Dir::Cache="$APT_A64/cache" -o APT::Sandbox::User=root "$@"
	}
	echo "deps: fetching the arm64 sysroot's Debian packages into $SYSROOT"
	start=$(date +%s)
	apt_a64 apt-get update >"$APT_A64/update.log" 2>&1 || {
		tail -n 20 "$APT_A64/update.log" >&2
		echo "deps: cannot read Debian's arm64 package lists (log: $APT_A64/update.log)" >&2
		exit 3
	}
	gone=""
	# apt-cache show says nothing of a version it does not have: one record
	# for each pin found; one look-up for all, one for each only when some
	# are missing
	has() { [ "$(apt_a64 apt-cache show "$@" 2>/dev/null | grep -c '^Package: ')" = $# ]; }
	has $SYSROOT_DEBS || for p in $SYSROOT_DEBS; do
		has "$p" ||
			gone="$gone ${p%%=*}=${p#*=}(archive:$(apt_a64 apt-cache policy "${p%%=*}" 2>/dev/null |
				sed -n 's/^ *Candidate: //p'))"
	done
	if [ -n "$gone" ]; then
		echo "deps: these pinned arm64 packages are not in Debian's archive (any more):$gone" >&2
		echo "deps: update SYSROOT_DEBS in mk/deps.sh to the archive's versions" >&2
		exit 3
	fi
	rm -f "$APT_A64"/debs/*.deb
	(cd "$APT_A64/debs" && apt_a64 apt-get download $SYSROOT_DEBS) >"$APT_A64/download.log" 2>&1 || {
		tail -n 20 "$APT_A64/download.log" >&2
		echo "deps: apt-get download of the arm64 packages failed (log: $APT_A64/download.log)" >&2
		exit 3
	}
	rm -rf "$SYSROOT.new"
	mkdir -p "$SYSROOT.new"
	for deb in "$APT_A64"/debs/*.deb; do
		dpkg-deb -x "$deb" "$SYSROOT.new"
		pkg=$(dpkg-deb -f "$deb" Package) ver=$(dpkg-deb -f "$deb" Version)
		dpkg-deb -c "$deb" | sed -n 's|.* \./\(.*/[^/ ]*\.so[.0-9]*\)\( ->.*\)*$|\1|p' |
			while read -r f; do echo "$f $pkg $ver"; done >>"$SYSROOT.new/PACKAGES"
	done
	rm -f "$APT_A64"/debs/*.deb
	touch "$SYSROOT.new/${SYSROOT_STAMP##*/}"
	rm -rf "$SYSROOT"
	mv "$SYSROOT.new" "$SYSROOT"
	echo "deps: arm64 sysroot ($(echo $SYSROOT_DEBS | wc -w) packages) in $SYSROOT in $(($(date +%s) - start)) s"
fi
[ "$test" = 1 ] || exit 0

# What the tests run and read from npm, installed with `npm ci` from the
# committed lockfile into .deps/npm, again whenever the lockfile changes: the
# CI tools (gitlab-ci-local runs .gitlab-ci.yml jobs, action-validator checks
# action and workflow files), LiteRT.js (@litertjs/core, the reference for
# .tflite outputs: tests/cli/litert_run.mjs) and MediaPipe's .tflite models
# (@mediapipe/*, found by tflite_model in tests/cli/lib.sh).
# gitlab-ci-local's re2 module is built from source (node-gyp): with Debian's
# Node.js headers in /usr/include/node, node-gyp uses them instead of
# downloading them.
NPM=.deps/npm
if ! cmp -s mk/npm/package-lock.json "$NPM/package-lock.json" ||
	[ ! -x "$NPM/node_modules/.bin/gitlab-ci-local" ] ||
	[ ! -f "$NPM/node_modules/@litertjs/core/package.json" ]; then
	echo "deps: installing the npm test packages from mk/npm/package-lock.json into $NPM"
	start=$(date +%s)
	rm -rf "$NPM"
	mkdir -p "$NPM"
	cp mk/npm/package.json mk/npm/package-lock.json "$NPM/"
	if [ -z "${npm_config_nodedir:-}" ] && [ -f /usr/include/node/common.gypi ]; then
		npm_config_nodedir=/usr
		export npm_config_nodedir
	fi
	if ! (cd "$NPM" && npm ci --no-audit --no-fund --loglevel=error >npm-ci.log 2>&1); then
		tail -n 20 "$NPM/npm-ci.log" >&2
		rm -f "$NPM/package-lock.json" # not installed: try again next time
		echo "deps: npm ci in $NPM failed (log: $NPM/npm-ci.log)" >&2
		exit 3
	fi
	echo "deps: npm test packages installed in $(($(date +%s) - start)) s"
fi
