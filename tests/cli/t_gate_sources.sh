# gate reads models and datasets the way every command does
# (registry/source.h): a store reference where its blobs lie, with no copy
# under /tmp; a registry reference fetched into the store once, so that a
# second gate of it transfers no blob (counted at the registry); a registry
# behind a self-signed certificate reached with --ca-file, as with pull; and
# a dataset folder for a model of 70 inputs (more than the 64 names gate
# once had room for).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_registry.sh"

need_py onnx python3-onnx
need strace strace
in_example_copy

gates='[{"name": "fidelity", "kind": "fidelity", "min_cosine": 0.999},
	{"name": "size", "kind": "size", "max_bytes": 65536}]'
config() { # MODEL BASELINE: a config of two gates on the digits dataset
	printf '{"model": "%s", "baseline": "%s",\n "dataset": {"inputs": "dataset/x.npy", "labels": "dataset/y.npy"},\n "gates": %s}\n' \
		"$1" "$2" "$gates" >modelgate.json
}

# what the command wrote under /tmp outside this test's folder: created
# files and folders, links, renames (from strace -f)
writes_to_tmp() { # TRACE
	grep -E '(mkdir|mkdirat|symlink|symlinkat|rename|renameat2?|link|linkat)\(.*"/tmp/|open(at)?\(.*"/tmp/[^"]*", [^)]*O_(CREAT|WRONLY|RDWR)' "$1" |
		grep -v -- "$TEST_TMP" | grep -v '= -1 ' || true
}

t_store_reference_gated_where_it_lies() {
	must mg push digits:cand model_int8.onnx
	local cand
	cand=$(cat "$OUT")
	must mg push digits:base model.onnx
	config digits:cand digits:base
	mkdir -p "$TEST_TMP/tmp"
	# (LeakSanitizer cannot run under ptrace: a sanitizer build leaves it off here)
	TMPDIR=$TEST_TMP/tmp ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
		expect_exit 0 strace -f -qq -o trace.log \
		-e trace=open,openat,mkdir,mkdirat,symlink,symlinkat,rename,renameat,renameat2,link,linkat \
		"$MODELGATE" gate -q --report report.json
	json_ok "j['model']['digest'] == '$cand'" report.json
	json_ok "all(g['status'] == 'pass' for g in j['gates'])" report.json
	local w
	w=$(writes_to_tmp trace.log)
	[ -z "$w" ] || fail "gate wrote under /tmp: $w"
	# the model the agent was given is the store's blob, not a copy
	grep -q "blobs/sha256/$(sha256_of model_int8.onnx)" trace.log ||
		fail "the store's blob of the model was never opened"
}

t_registry_reference_fetched_once() {
	export MODELGATE_HOME=$TEST_TMP/fresh-store # without the blobs pushed above
	registry_start
	must mg push "$REG/team/digits:cand" model_int8.onnx
	must mg push "$REG/team/digits:base" model.onnx
	proxy_start pass
	config "$PROXY/team/digits:cand" "$PROXY/team/digits:base"
	expect_exit 0 mg gate -q --report report.json
	local first second
	first=$(grep -c '^GET /v2/team/digits/blobs/' "$PROXY_LOG")
	grep -q "^GET /v2/team/digits/blobs/sha256:$(sha256_of model_int8.onnx) " "$PROXY_LOG" ||
		fail "the first gate did not fetch the model"
	expect_exit 0 mg gate -q --report report.json
	second=$(grep -c '^GET /v2/team/digits/blobs/' "$PROXY_LOG")
	[ "$second" = "$first" ] || fail "the second gate fetched $((second - first)) blobs again"
	json_ok "all(g['status'] == 'pass' for g in j['gates'])" report.json
	# nothing was tagged in the store: it is a cache, not a pull
	expect_exit 0 mg ls
	expect_stdout_not_contains digits
}

t_registry_over_tls_with_ca_file() {
	registry_start auth
	local reg=localhost:${REG#*:}
	printf '%s' "$REG_PASS" | must mg login "$reg" -u "$REG_USER" --password-stdin --ca-file "$REG_CA"
	must mg push "$reg/team/digits:cand" model_int8.onnx --ca-file "$REG_CA"
	must mg push "$reg/team/digits:base" model.onnx --ca-file "$REG_CA"
	config "$reg/team/digits:cand" "$reg/team/digits:base"
	# the certificate is nobody's: without --ca-file gate refuses it
	expect_exit 3 mg gate -q
	expect_error "$reg" certificate
	expect_exit 0 mg gate -q --ca-file "$REG_CA" --report report.json
	json_ok "all(g['status'] == 'pass' for g in j['gates'])" report.json
}

t_seventy_inputs_from_a_dataset_folder() {
	"$PY" - <<'EOF' || fail "cannot make the model"
import numpy as np
import onnx
from onnx import TensorProto, helper
n = 70
names = ["in_%02d" % i for i in range(n)]
g = helper.make_graph(
    [helper.make_node("Sum", names, ["total"])], "seventy",
    [helper.make_tensor_value_info(x, TensorProto.FLOAT, ["n", 2]) for x in names],
    [helper.make_tensor_value_info("total", TensorProto.FLOAT, ["n", 2])])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
m.ir_version = 8
onnx.checker.check_model(m)
onnx.save(m, "seventy.onnx")
import os
os.makedirs("seventy", exist_ok=True)
for i, x in enumerate(names):
    np.save("seventy/%s.npy" % x, np.full((3, 2), i + 1, dtype=np.float32))
EOF
	gates='[{"name": "fidelity", "kind": "fidelity", "min_cosine": 0.999}]'
	printf '{"model": "seventy.onnx", "baseline": "seventy.onnx", "dataset": {"inputs": "seventy"},\n "gates": %s}\n' \
		"$gates" >modelgate.json
	expect_exit 0 mg gate -q --report report.json
	json_ok "j['gates'][0]['status'] == 'pass'" report.json
	# one file short is named, not read past
	rm seventy/in_69.npy
	expect_exit 2 mg gate -q
	expect_error in_69
}

check store_reference_gated_where_it_lies t_store_reference_gated_where_it_lies
check registry_reference_fetched_once t_registry_reference_fetched_once
check registry_over_tls_with_ca_file t_registry_over_tls_with_ca_file
check seventy_inputs_from_a_dataset_folder t_seventy_inputs_from_a_dataset_folder
finish
