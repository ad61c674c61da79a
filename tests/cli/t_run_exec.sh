# exec: targets whose prefix enters another root: a bare Debian 12 laid by
# mk/root.sh, entered through mk/chroot.sh (private mount and pid
# namespaces, an empty environment) and through plain `chroot ROOT` (no
# /proc, this process's environment). Nothing of this machine is in the root
# but what the exec transport copies there: the agent, its ONNX Runtime and
# its TFLite engine with Arm NN once into ~/.cache/modelgate-agent/bin/<key>/ (or $MODELGATE_REMOTE_CACHE),
# the model into blobs/. The outputs are the local target's, bit for bit,
# and the digits gate gives the same figures. Needs root and mmdebstrap.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || fail "laying a Debian root (mk/root.sh) and entering it with chroot needs root"
need mmdebstrap mmdebstrap

export MODELGATE_AGENT_CACHE=$TEST_TMP/agent-cache
unset MODELGATE_REMOTE_CACHE
ROOT=$TEST_TMP/root
"$MG_SRCDIR/mk/root.sh" "$ROOT" >"$TEST_TMP/root.log" 2>&1 || fail "mk/root.sh failed: $(tail -3 "$TEST_TMP/root.log")"
# A sanitized agent (make sanitize) also needs the sanitizers' runtime
# libraries, which a Debian root does not have: they go into the root, as
# a device running such a build would need them too.
for lib in $(ldd "$(dirname "$MODELGATE")/modelgate-agent" | awk '/lib(a|ub)san/ { print $3 }'); do
	cp "$lib" "$ROOT/usr/lib/x86_64-linux-gnu/" || fail "cannot copy '$lib' into the root"
done
ENTER="exec:$MG_SRCDIR/mk/chroot.sh $ROOT"
DS=$EXAMPLES/dataset
FAST="--iterations 5 --warmup 1 --min-time 0"
CACHE=$ROOT/root/.cache/modelgate-agent
ORT=$(dirname "$MODELGATE")/libonnxruntime.so.1
[ -f "$ORT" ] || ORT=$MG_SRCDIR/.deps/ort/lib/x64/libonnxruntime.so.1
# the agent, its ONNX Runtime, and its TFLite engine with Arm NN
TFL=$(dirname "$MODELGATE")/libmodelgate-tflite.so
[ -f "$TFL" ] || fail "no TFLite engine next to modelgate (make)"
SIZES=$(($(stat -c %s "$(dirname "$MODELGATE")/modelgate-agent") + $(stat -c %s "$ORT") +
	$(find "$TFL" "$(dirname "$TFL")/armnn" -type f -printf '%s+')0))
"$PY" "$MG_SRCDIR/tests/cli/make_tflite.py" float float.tflite || fail "make_tflite.py failed"

t_first_run_copies_agent_and_library_into_the_root() {
	[ ! -e "$ROOT$(dirname "$MODELGATE")" ] || fail "the build folder is in the root"
	expect_exit 0 mg run "$EXAMPLES/model.onnx" --target "$ENTER" --inputs "$DS" --expect "$DS" \
		--outputs out-root $FAST --json
	json_ok "j['target']['kind'] == 'exec' and j['target']['arch'] == 'x86_64'"
	json_ok "j['target']['bytes_uploaded'] == $SIZES and not j['target']['emulated']"
	json_ok "j['model']['bytes_sent'] == 10340 and j['expect']['ok']"
	local bin
	bin=$(echo "$CACHE"/bin/*)
	[ -x "$bin/modelgate-agent" ] || fail "no agent under $CACHE/bin"
	expect_same_file "$ORT" "$bin/libonnxruntime.so.1"
	expect_same_file "$TFL" "$bin/libmodelgate-tflite.so"
	expect_same_file "$(dirname "$TFL")/armnn/backends/Arm_CpuRef_backend.so" \
		"$bin/armnn/backends/Arm_CpuRef_backend.so"
	expect_file "$CACHE/blobs/$(sha256_of "$EXAMPLES/model.onnx")"
	# the same outputs as on this machine
	expect_exit 0 mg run "$EXAMPLES/model.onnx" --inputs "$DS" --outputs out-local $FAST
	expect_same_file out-local/output_0.pb out-root/output_0.pb
}

# the TFLite engine runs there from what was copied: Arm NN from armnn/
# beside it, nothing of this machine's
t_tflite_model_runs_in_the_root() {
	expect_exit 0 mg run float.tflite --target "$ENTER" --outputs out-tfl-root --seed 3 $FAST --json
	json_ok "j['target']['engine'] == 'tflite' and j['target']['engine_version'] == 'armnn 20.08 CpuRef'"
	json_ok "j['target']['bytes_uploaded'] == 0"
	expect_exit 0 mg run float.tflite --outputs out-tfl-local --seed 3 $FAST
	expect_same_file out-tfl-local/output.npy out-tfl-root/output.npy
}

t_second_run_copies_nothing() {
	expect_exit 0 mg run "$EXAMPLES/model.onnx" --target "$ENTER" --inputs "$DS" --expect "$DS" $FAST --json
	json_ok "j['target']['bytes_uploaded'] == 0"
	json_ok "j['model']['bytes_sent'] == 0 and j['model']['cached'] and j['expect']['ok']"
}

# plain chroot: no /proc in the root, and this environment goes in, with a
# library path that exists only here (the agent there is told its own)
t_plain_chroot_with_this_environment() {
	mkdir -p "$TEST_TMP/here-only"
	cp "$ORT" "$TEST_TMP/here-only/libonnxruntime.so.1"
	MODELGATE_ORT_LIB=$TEST_TMP/here-only/libonnxruntime.so.1 expect_exit 0 mg run "$EXAMPLES/model.onnx" \
		--target "exec:chroot $ROOT" --inputs "$DS" --expect "$DS" $FAST --json
	json_ok "j['target']['bytes_uploaded'] == 0 and j['expect']['ok']"
	MODELGATE_TFLITE_LIB=$TFL expect_exit 0 mg run float.tflite --target "exec:chroot $ROOT" $FAST --json
	json_ok "j['target']['engine_version'] == 'armnn 20.08 CpuRef'"
	[ ! -e "$ROOT$TEST_TMP/here-only" ] || fail "the library path exists in the root"
}

t_remote_cache_moves_the_folder() {
	MODELGATE_REMOTE_CACHE=/var/cache/mg-exec expect_exit 0 mg run "$EXAMPLES/model_v2.onnx" \
		--target "$ENTER" $FAST --json
	json_ok "j['target']['bytes_uploaded'] == $SIZES"
	[ -x "$(echo "$ROOT"/var/cache/mg-exec/bin/*/modelgate-agent)" ] || fail "no agent under /var/cache/mg-exec/bin"
	expect_file "$ROOT/var/cache/mg-exec/blobs/$(sha256_of "$EXAMPLES/model_v2.onnx")"
}

t_gate_in_the_root_matches_local() {
	cp -r "$EXAMPLES" digits
	local g="--only accuracy --only fidelity --only memory"
	(cd digits && expect_exit 0 mg gate $g --target "host=$ENTER" --report root.json)
	(cd digits && expect_exit 0 mg gate $g --report local.json)
	"$PY" - digits/root.json digits/local.json <<'PY' || fail "the gate's figures differ"
import json, sys
root, local = (json.load(open(p)) for p in sys.argv[1:])
def figures(r, name):
    g = next(g for g in r["gates"] if g["name"] == name)
    assert g["status"] == "pass", g
    return g.get("value"), g.get("figures")
for name in ("accuracy", "fidelity"):
    assert figures(root, name) == figures(local, name), name
spec = [t["spec"] for t in root["targets"]]
assert any(s.startswith("exec:") for s in spec), spec
PY
}

# The root has no valgrind and these machines no hardware counter: a cost
# gate there is an error that says what the device lacks.
t_cost_gate_in_a_root_without_valgrind_says_so() {
	printf '{"model": "%s", "baseline": "%s", "targets": {"t": "%s"}, "shapes": {"input": [1, 64]},\n "gates": [{"name": "cost", "kind": "cost", "max_ratio": 1.01}]}\n' \
		"$EXAMPLES/model.onnx" "$EXAMPLES/model.onnx" "$ENTER" >cost.json
	expect_exit 3 mg gate -c cost.json --report r.json
	json_ok "j['gates'][0]['status'] == 'error'" r.json
	json_get "j['gates'][0]['reason']" r.json | grep -qF "valgrind is not installed on the device" ||
		fail "unexpected reason: $(json_get "j['gates'][0]['reason']" r.json)"
}

# A device older than the agent: Debian 11's glibc 2.31, below the 2.34 the
# agent and Arm NN are built for. Its dynamic loader refuses the agent at
# start; the run is exit 3 naming the target and saying what is too old.
t_device_with_an_older_glibc_is_told_so() {
	mmdebstrap --quiet --variant=essential bullseye "$TEST_TMP/bullseye" >"$TEST_TMP/bullseye.log" 2>&1 ||
		fail "mmdebstrap bullseye failed: $(tail -3 "$TEST_TMP/bullseye.log")"
	# the agent as shipped: under make sanitize the ASan agent would miss
	# libasan in the root before it could miss the newer glibc
	[ -z "${MG_PLAIN_AGENT:-}" ] || export MODELGATE_AGENT=$MG_PLAIN_AGENT
	expect_exit 3 mg run "$EXAMPLES/model.onnx" --target "exec:chroot $TEST_TMP/bullseye" $FAST
	expect_error "target 'exec:chroot $TEST_TMP/bullseye'"
	expect_stderr_contains "GLIBC_2.34' not found"
	expect_stderr_contains "the device's C library (glibc) is older than the agent and its engines need"
}

check first_run_copies_agent_and_library_into_the_root t_first_run_copies_agent_and_library_into_the_root
check tflite_model_runs_in_the_root t_tflite_model_runs_in_the_root
check second_run_copies_nothing t_second_run_copies_nothing
check plain_chroot_with_this_environment t_plain_chroot_with_this_environment
check remote_cache_moves_the_folder t_remote_cache_moves_the_folder
check gate_in_the_root_matches_local t_gate_in_the_root_matches_local
check cost_gate_in_a_root_without_valgrind_says_so t_cost_gate_in_a_root_without_valgrind_says_so
check device_with_an_older_glibc_is_told_so t_device_with_an_older_glibc_is_told_so
finish
