#!/bin/sh
# make install: modelgate and modelgate-device (the fleet updater) into BINDIR; the agents, each with its ONNX
# Runtime library and its TFLite engine (libmodelgate-tflite.so and Arm NN
# in armnn/) beside it, into LIBEXECDIR/modelgate (aarch64/ for the
# cross-built one, when `make agents` has built it, with the cpuinfo
# library that qemu-user preloads for it, and the aarch64 modelgate-device). modelgate looks for its agent
# next to itself, then in ../libexec/modelgate, and for the libraries next
# to the agent. Into DATADIR (default: share/ beside BINDIR): the JSON
# Schema of modelgate.json (DATADIR/modelgate, where `modelgate init` finds
# it for "$schema"), the man pages (DATADIR/man/man1) and the bash and zsh
# completions (DATADIR/bash-completion/completions/modelgate,
# DATADIR/zsh/site-functions/_modelgate) that make builds from the command
# tables.
#
#   mk/install.sh BUILD BINDIR LIBEXECDIR ORT_DIR [DATADIR]    (paths with DESTDIR)
set -eu
[ $# -eq 4 ] || [ $# -eq 5 ] ||
	{ echo "usage: mk/install.sh BUILD BINDIR LIBEXECDIR ORT_DIR [DATADIR]" >&2; exit 2; }
build=$1 bindir=$2 libexec=$3/modelgate ort=$4 data=${5:-$(dirname "$2")/share}
top=$(cd "$(dirname "$0")/.." && pwd)
for f in "$build/modelgate" "$build/modelgate-device" "$build/modelgate-agent" "$ort/lib/x64/libonnxruntime.so.1"; do
	[ -f "$f" ] || { echo "install: '$f' is missing (run make, and make deps)" >&2; exit 2; }
done
install -d "$bindir" "$libexec" "$data/modelgate"
install -m 0755 "$build/modelgate" "$bindir/modelgate"
install -m 0755 "$build/modelgate-device" "$bindir/modelgate-device"
install -m 0644 "$top/docs/modelgate.schema.json" "$data/modelgate/modelgate.schema.json"
install -m 0755 "$build/modelgate-agent" "$libexec/modelgate-agent"
install -m 0644 "$ort/lib/x64/libonnxruntime.so.1" "$libexec/libonnxruntime.so.1"
# tflite FROM TO: the TFLite engine of the build folder FROM, when built
tflite() {
	[ -f "$1/libmodelgate-tflite.so" ] || return 0
	install -m 0644 "$1/libmodelgate-tflite.so" "$2/libmodelgate-tflite.so"
	install -d "$2/armnn/backends"
	for f in "$1"/armnn/*.so* "$1"/armnn/backends/*.so; do
		install -m 0644 "$f" "$2/${f#"$1"/}"
	done
}
tflite "$build" "$libexec"
if [ -x "$build/aarch64/modelgate-agent" ] && [ -f "$ort/lib/arm64/libonnxruntime.so.1" ]; then
	install -d "$libexec/aarch64"
	install -m 0755 "$build/aarch64/modelgate-agent" "$libexec/aarch64/modelgate-agent"
	install -m 0644 "$ort/lib/arm64/libonnxruntime.so.1" "$libexec/aarch64/libonnxruntime.so.1"
	tflite "$build/aarch64" "$libexec/aarch64"
	# the fleet updater for aarch64 devices (docs/FLEET.md), to copy to them
	if [ -x "$build/aarch64/modelgate-device" ]; then
		install -m 0755 "$build/aarch64/modelgate-device" "$libexec/aarch64/modelgate-device"
	fi
	if [ -f "$build/aarch64/libmodelgate-cpuinfo.so" ]; then
		install -m 0644 "$build/aarch64/libmodelgate-cpuinfo.so" \
			"$libexec/aarch64/libmodelgate-cpuinfo.so"
	fi
fi
for f in "$build/man/modelgate.1" "$build/completions/modelgate.bash" "$build/completions/_modelgate"; do
	[ -f "$f" ] || { echo "install: '$f' is missing (run make)" >&2; exit 2; }
done
install -d "$data/man/man1" "$data/bash-completion/completions" "$data/zsh/site-functions"
install -m 0644 "$build"/man/*.1 "$data/man/man1/"
install -m 0644 "$build/completions/modelgate.bash" "$data/bash-completion/completions/modelgate"
install -m 0644 "$build/completions/_modelgate" "$data/zsh/site-functions/_modelgate"
