# modelgate run --target qemu-aarch64: the aarch64 agent and the arm64 ONNX
# Runtime under qemu-user (root, a private mount namespace with an aarch64
# /proc/cpuinfo). Emulation is ~180x slower, so only a small sample runs:
# the digits model and a few conformance cases. Skipped (with the reason)
# when not root, or qemu-aarch64 or the aarch64 agent is missing.
. "$(dirname "$0")/lib.sh"

export MODELGATE_AGENT_CACHE=$TEST_TMP/agent-cache
DS=$EXAMPLES/dataset
NODE=/usr/share/libonnx-testdata/data/node
skip=
[ "$(id -u)" = 0 ] || skip="not root"
command -v qemu-aarch64 >/dev/null || skip="no qemu-aarch64 (Debian qemu-user)"
[ -x "$(dirname "$MODELGATE")/aarch64/modelgate-agent" ] || skip="no aarch64 agent (make agents)"
if [ -n "$skip" ]; then
	echo "  skipped: $skip"
	finish
fi

t_digits_runs_emulated() {
	expect_exit 0 mg run "$EXAMPLES/model.onnx" --target qemu-aarch64 --inputs "$DS" --expect "$DS" \
		--iterations 5 --warmup 1 --min-time 0 --json
	json_ok "j['target']['arch'] == 'aarch64' and j['target']['emulated'] and j['label'] == 'emulated'"
	json_ok "j['target']['engine_version'] == '1.30.0' and j['expect']['ok']"
	expect_exit 0 mg run "$EXAMPLES/model.onnx" --target qemu-aarch64 --iterations 3 --min-time 0
	expect_stdout_contains "(aarch64, onnxruntime 1.30.0) emulated"
	expect_stdout_matches "^emulated  n=3"
}

# A sample of conformance cases, one per operator family.
SAMPLE="test_add test_conv_with_strides_padding test_matmul_2d test_relu test_softmax_axis_1
test_averagepool_2d_default test_gemm_default_no_bias test_cast_FLOAT_to_DOUBLE
test_reduce_mean_default_axes_keepdims_example test_transpose_default"

t_conformance_sample() {
	local c n=0
	for c in $SAMPLE; do
		[ -d "$NODE/$c" ] || continue
		expect_exit 0 mg run "$NODE/$c/model.onnx" --target qemu-aarch64 --inputs "$NODE/$c/test_data_set_0" \
			--expect "$NODE/$c/test_data_set_0" --iterations 1 --warmup 0 --min-time 0 -q
		n=$((n + 1))
	done
	echo "  conformance sample: $n of $n cases pass on qemu-aarch64"
	[ "$n" -ge 8 ] || fail "only $n sample cases found"
}

check digits_runs_emulated_and_is_labelled t_digits_runs_emulated
check conformance_sample_passes t_conformance_sample
finish
