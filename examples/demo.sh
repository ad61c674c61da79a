#!/bin/sh
# make demo: the main job on the bundled digits example, end to end. The
# local store at work (push model versions and the dataset, list, inspect,
# tag, pull back byte-identical files, verify, collect garbage), then the
# gates: the int8 candidate passes against the fp32 baseline, a worse and a
# slower candidate fail, and the reports CI reads are written.
set -eu
cd "$(dirname "$0")/.."
MG=${MODELGATE:-$(pwd)/build/modelgate}
DEMO=build/demo
export MODELGATE_HOME="${MODELGATE_DEMO_HOME:-$(pwd)/$DEMO/store}"
rm -rf "$DEMO"
mkdir -p "$DEMO"
step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
[ -n "${NO_COLOR:-}" ] && step() { printf '\n==> %s\n' "$*"; }

step "push two versions of the digits classifier and its test set into $MODELGATE_HOME"
"$MG" push digits:v1 examples/digits/model.onnx --annotation org.opencontainers.image.description="digits MLP, baseline"
"$MG" push digits:v2 examples/digits/model_v2.onnx --annotation org.opencontainers.image.description="digits MLP, candidate"
"$MG" push digits-data:test examples/digits/dataset/x.npy examples/digits/dataset/y.npy --artifact-type dataset

step "push v1 again: same bytes, nothing new stored"
"$MG" -v push digits:v1-again examples/digits/model.onnx

step "ls"
"$MG" ls

step "inspect digits:v2"
"$MG" inspect digits:v2

step "tag digits:v2 as candidate, pull it back and compare"
"$MG" tag digits:v2 candidate
"$MG" pull digits:candidate -o "$DEMO/pulled"
cmp "$DEMO/pulled/model_v2.onnx" examples/digits/model_v2.onnx && echo "pulled file is byte-identical"

step "fsck: re-hash every blob"
"$MG" fsck

step "rm digits:v1-again and gc"
"$MG" rm digits:v1-again
"$MG" gc

step "the store is an OCI image layout: skopeo reads it"
if command -v skopeo >/dev/null; then
	skopeo inspect --raw "oci:$MODELGATE_HOME:digits:v2" | head -c 300; echo ...
else
	echo "(skopeo is not installed; make deps-test installs it)"
fi

REPORTS=$(pwd)/$DEMO/reports
mkdir -p "$REPORTS"
"$MG" push digits:int8 examples/digits/model_int8.onnx >/dev/null
"$MG" tag digits:v1 production

step "gate: the int8 candidate (from the store) against the production baseline"
(cd examples/digits && "$MG" gate --model digits:int8 --baseline digits:production \
	--report "$REPORTS/int8.json" --junit "$REPORTS/int8.xml" --html "$REPORTS/int8.html" \
	--markdown "$REPORTS/int8.md" --metrics "$REPORTS/int8.metrics")
echo "exit 0: the int8 candidate may ship"

gate_must_fail() { # name model: a candidate that must not ship
	step "gate: $1 candidate ($2) must fail"
	rc=0
	(cd examples/digits && "$MG" gate --model "$2" --report "$REPORTS/$1.json" --html "$REPORTS/$1.html") || rc=$?
	[ "$rc" = 1 ] || { echo "demo: expected exit 1 (a gate failed) for $2, got $rc" >&2; exit 1; }
	echo "exit 1: the $1 candidate is stopped"
}
gate_must_fail worse model_bad.onnx
gate_must_fail slower model_slow.onnx

echo
echo "demo finished: store at $MODELGATE_HOME, reports in $REPORTS"
