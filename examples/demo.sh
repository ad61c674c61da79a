#!/bin/sh
# make demo: the main job on the bundled digits example. Today it shows the
# local store at work: push model versions and a dataset, list, inspect,
# tag, pull back byte-identical files, verify the whole store, collect
# garbage. The gates extend this to the full pipeline.
set -eu
cd "$(dirname "$0")/.."
MG=${MODELGATE:-build/modelgate}
DEMO=build/demo
export MODELGATE_HOME="${MODELGATE_DEMO_HOME:-$DEMO/store}"
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
skopeo inspect --raw "oci:$MODELGATE_HOME:digits:v2" | head -c 300; echo ...
echo
echo "demo finished: store at $MODELGATE_HOME"
