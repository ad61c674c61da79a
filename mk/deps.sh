#!/bin/sh
# Installs what modelgate needs and is missing: Debian packages through
# apt-get, ONNX Runtime (library and C API header) from the npm registry,
# pinned by version and sha256. Idempotent; fast when everything is there.
set -eu
cd "$(dirname "$0")/.."

APT_PACKAGES="gcc make pkg-config git ca-certificates
libgit2-dev libcurl4-openssl-dev libjansson-dev libarchive-dev libcmocka-dev libssl-dev
skopeo docker-registry umoci hyperfine apache2-utils openssl curl python3
clang libclang-rt-14-dev libonnx-testdata
gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user openssh-server openssh-client
libxml2-utils python3-prometheus-client cmark-gfm chromium zstd unzip
rsync python3-yaml"

missing=""
for p in $APT_PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
command -v npm >/dev/null || missing="$missing npm"
if [ -n "$missing" ]; then
	echo "deps: installing Debian packages:$missing"
	if [ "$(id -u)" != 0 ]; then
		echo "deps: not root; run: sudo apt-get install$missing" >&2
		exit 2
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

# CI tools the tests run (tests/cli/t_ci_*.sh, tests/readme_snippets.sh),
# pinned: gitlab-ci-local runs .gitlab-ci.yml jobs (4.75 fails on Node 20),
# action-validator checks action and workflow files. Into .deps/npm.
NPM_TOOLS="gitlab-ci-local@4.60.0 @action-validator/cli@0.6.0"
npm_ok=1
for t in $NPM_TOOLS; do
	name=${t%@*}
	grep -qs "\"version\": \"${t##*@}\"" ".deps/npm/node_modules/$name/package.json" || npm_ok=0
done
if [ "$npm_ok" = 0 ]; then
	echo "deps: installing $NPM_TOOLS from the npm registry into .deps/npm"
	mkdir -p .deps/npm
	npm install --silent --no-audit --no-fund --prefix .deps/npm $NPM_TOOLS >/dev/null
fi

# ONNX Runtime: the x64 and arm64 libraries from onnxruntime-node, the C API
# header (API version 29) from com.github.asus4.onnxruntime.
ORT=.deps/ort
STAMP=$ORT/.stamp-1.30.0-2
[ -f "$STAMP" ] && exit 0

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
