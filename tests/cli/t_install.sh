# make install's layout (mk/install.sh): modelgate and modelgate-device in bin/, the agents with
# their ONNX Runtime library and TFLite engine (with Arm NN in armnn/) in
# libexec/modelgate/; the installed modelgate
# finds its agent and library there, with nothing next to it.
. "$(dirname "$0")/lib.sh"

fixtures
BUILT=$(dirname "$MODELGATE") # run.sh's copy of the build: modelgate and agents
ROOT=$TEST_TMP/root
LIBEXEC=$ROOT/usr/libexec/modelgate
DS=$EXAMPLES/dataset
FAST="--iterations 2 --warmup 0 --min-time 0"
unset MODELGATE_AGENT MODELGATE_ORT_LIB MODELGATE_TFLITE_LIB
export MODELGATE_AGENT_CACHE=$TEST_TMP/agent-cache

install_all() {
	expect_exit 0 sh "$MG_SRCDIR/mk/install.sh" "$BUILT" "$ROOT/usr/bin" "$ROOT/usr/libexec" \
		"$MG_SRCDIR/.deps/ort" "$ROOT/usr/share"
}

t_layout() {
	install_all
	expect_same_file "$BUILT/modelgate" "$ROOT/usr/bin/modelgate"
	expect_same_file "$BUILT/modelgate-device" "$ROOT/usr/bin/modelgate-device"
	expect_same_file "$BUILT/modelgate-agent" "$LIBEXEC/modelgate-agent"
	expect_same_file "$MG_SRCDIR/.deps/ort/lib/x64/libonnxruntime.so.1" "$LIBEXEC/libonnxruntime.so.1"
	expect_same_file "$BUILT/libmodelgate-tflite.so" "$LIBEXEC/libmodelgate-tflite.so"
	expect_same_file "$BUILT/armnn/libarmnn.so.22" "$LIBEXEC/armnn/libarmnn.so.22"
	expect_same_file "$BUILT/armnn/backends/Arm_CpuRef_backend.so" "$LIBEXEC/armnn/backends/Arm_CpuRef_backend.so"
	[ -x "$ROOT/usr/bin/modelgate" ] && [ -x "$LIBEXEC/modelgate-agent" ] || fail "not executable"
	[ "$(ls "$ROOT/usr/bin" | tr '\n' ' ')" = "modelgate modelgate-device " ] ||
		fail "bin/ holds more than modelgate and modelgate-device: $(ls "$ROOT/usr/bin")"
	expect_same_file "$MG_SRCDIR/docs/modelgate.schema.json" "$ROOT/usr/share/modelgate/modelgate.schema.json"
	if [ -x "$BUILT/aarch64/modelgate-agent" ]; then
		expect_same_file "$BUILT/aarch64/modelgate-agent" "$LIBEXEC/aarch64/modelgate-agent"
		expect_same_file "$MG_SRCDIR/.deps/ort/lib/arm64/libonnxruntime.so.1" \
			"$LIBEXEC/aarch64/libonnxruntime.so.1"
		expect_same_file "$BUILT/aarch64/libmodelgate-cpuinfo.so" "$LIBEXEC/aarch64/libmodelgate-cpuinfo.so"
		[ ! -x "$BUILT/aarch64/modelgate-device" ] ||
			expect_same_file "$BUILT/aarch64/modelgate-device" "$LIBEXEC/aarch64/modelgate-device"
		expect_same_file "$BUILT/aarch64/libmodelgate-tflite.so" "$LIBEXEC/aarch64/libmodelgate-tflite.so"
		expect_same_file "$BUILT/aarch64/armnn/backends/Arm_CpuAcc_backend.so" \
			"$LIBEXEC/aarch64/armnn/backends/Arm_CpuAcc_backend.so"
	fi
}

t_installed_modelgate_runs_a_model() {
	install_all
	expect_exit 0 "$ROOT/usr/bin/modelgate" run "$EXAMPLES/model.onnx" --inputs "$DS" --expect "$DS" $FAST
	# and a .tflite with the installed TFLite engine
	"$PY" "$MG_SRCDIR/tests/cli/make_tflite.py" float float.tflite || fail "make_tflite.py failed"
	expect_exit 0 "$ROOT/usr/bin/modelgate" run float.tflite $FAST
	expect_stdout_contains "tflite armnn 20.08 CpuRef"
	# the library it loads is the installed one: spoil it and the error names it
	: >"$LIBEXEC/libonnxruntime.so.1"
	expect_exit 3 "$ROOT/usr/bin/modelgate" run "$EXAMPLES/model.onnx" --inputs "$DS" $FAST
	expect_stderr_contains "$ROOT/usr/bin/../libexec/modelgate/libonnxruntime.so.1"
	# and without an agent anywhere, the error says where it looked
	rm -rf "$ROOT/usr/libexec"
	expect_exit 3 "$ROOT/usr/bin/modelgate" run "$EXAMPLES/model.onnx" --inputs "$DS" $FAST
	expect_stderr_contains "no x86_64 agent next to modelgate or at '$ROOT/usr/bin/../libexec/modelgate/modelgate-agent'"
}

# init points "$schema" at the installed schema (its absolute path), which
# editors validate with; a modelgate run from elsewhere writes none.
t_installed_init_names_the_installed_schema() {
	need_py jsonschema python3-jsonschema
	install_all
	expect_exit 0 "$ROOT/usr/bin/modelgate" init "$EXAMPLES/model.onnx" -o installed.json
	json_ok "j['\$schema'] == '$ROOT/usr/share/modelgate/modelgate.schema.json'" installed.json
	"$PY" -c 'import json, sys, jsonschema
c = json.load(open(sys.argv[1]))
jsonschema.Draft202012Validator(json.load(open(c["$schema"]))).validate(c)' installed.json ||
		fail "the config init wrote does not validate against its \$schema"
	expect_exit 0 "$MODELGATE" init "$EXAMPLES/model.onnx" -o built.json
	json_ok "'\$schema' not in j" built.json
}

t_missing_build_is_exit_2() {
	expect_exit 2 sh "$MG_SRCDIR/mk/install.sh" "$TEST_TMP/nothing" "$ROOT/x/bin" "$ROOT/x/libexec" \
		"$MG_SRCDIR/.deps/ort"
	expect_stderr_contains "'$TEST_TMP/nothing/modelgate' is missing"
	expect_no_file "$ROOT/x/bin/modelgate"
}

check layout t_layout
check installed_modelgate_runs_a_model t_installed_modelgate_runs_a_model
check installed_init_names_the_installed_schema t_installed_init_names_the_installed_schema
check missing_build_is_exit_2 t_missing_build_is_exit_2
finish
