# modelgate run on the local target with the digits example: outputs,
# --expect, --json, bad input, store references, and exec: targets that die
# or hang (exit 3 naming the target, never a hang).
. "$(dirname "$0")/lib.sh"
need_py numpy python3-numpy
need_py onnx python3-onnx

export MODELGATE_AGENT_CACHE=$TEST_TMP/agent-cache
export MODELGATE_REMOTE_CACHE=$TEST_TMP/remote-cache # where exec: targets get the agent
DS=$EXAMPLES/dataset
FAST="--iterations 5 --warmup 1 --min-time 0"
mkdir -p npyin
cp "$DS/x.npy" npyin/input.npy

t_outputs_match_reference() {
	expect_exit 0 mg run "$EXAMPLES/model.onnx" --inputs "$DS" --expect "$DS" --outputs pbout $FAST
	expect_stdout_contains "target    local (x86_64, onnxruntime 1.30.0)"
	expect_stdout_contains "logits: ok"
	expect_file pbout/output_0.pb
	# .npy in, .npy out, and the 8 rows match the pb reference
	expect_exit 0 mg run "$EXAMPLES/model.onnx" --inputs npyin --outputs npyout $FAST
	expect_file npyout/logits.npy
	"$PY" - "$DS/output_0.pb" npyout/logits.npy <<'PY' || fail "outputs differ from output_0.pb"
import sys, numpy as np, onnx, onnx.numpy_helper as nh
t = onnx.TensorProto(); t.ParseFromString(open(sys.argv[1], "rb").read())
ref = nh.to_array(t); got = np.load(sys.argv[2])
assert got.shape == (360, 10) and got.dtype == np.float32
np.testing.assert_allclose(got[:8], ref, rtol=1e-4, atol=1e-5)
y = np.load(sys.argv[1].replace("output_0.pb", "y.npy"))
assert (got.argmax(1) == y).mean() == 0.975
PY
}

t_json_has_every_field() {
	expect_exit 0 mg run "$EXAMPLES/model.onnx" --inputs "$DS" --expect "$DS" --json \
		--iterations 30 --warmup 2 --min-time 0.05 --threads 1
	json_ok "all(k in j for k in ('target', 'model', 'options', 'load_ns', 'first_inference_ns', 'peak_rss_bytes', 'startup_ns', 'latency', 'agent', 'outputs', 'expect'))"
	json_ok "all(k in j['latency'] for k in ('min', 'mean', 'stddev', 'p50', 'p90', 'p95', 'p99', 'max', 'samples', 'n'))"
	json_ok "len(j['latency']['samples']) == j['latency']['n'] >= 30"
	json_ok "j['latency']['min'] == min(j['latency']['samples']) and j['latency']['max'] == max(j['latency']['samples'])"
	json_ok "j['latency']['min'] <= j['latency']['p50'] <= j['latency']['p90'] <= j['latency']['p99'] <= j['latency']['max']"
	json_ok "j['load_ns'] > 0 and j['first_inference_ns'] > 0 and j['peak_rss_bytes'] > 10e6"
	json_ok "j['target']['emulated'] is False and 'label' not in j and j['options']['threads'] == 1"
	json_ok "j['outputs'] == [{'name': 'logits', 'dtype': 'float32', 'shape': [8, 10]}]"
	json_ok "j['expect']['ok'] and j['expect']['outputs'][0]['max_abs_diff'] < 1e-5"
}

t_mismatch_is_exit_1() {
	expect_exit 1 mg run "$EXAMPLES/model_bad.onnx" --inputs "$DS" --expect "$DS" $FAST
	expect_stdout_contains "logits: MISMATCH (80 of 80 out of tolerance; worst at ["
	expect_stderr_contains "do not match"
	expect_exit 1 mg run "$EXAMPLES/model_bad.onnx" --inputs "$DS" --expect "$DS" $FAST --json
	json_ok "not j['expect']['ok'] and j['expect']['outputs'][0]['mismatches'] == 80"
	json_ok "len(j['expect']['outputs'][0]['worst']['index']) == 2"
	# a loose enough tolerance passes, for every output or for one by name
	expect_exit 0 mg run "$EXAMPLES/model_bad.onnx" --inputs "$DS" --expect "$DS" $FAST --atol 100
	expect_exit 0 mg run "$EXAMPLES/model_bad.onnx" --inputs "$DS" --expect "$DS" $FAST --atol logits=100
	expect_exit 1 mg run "$EXAMPLES/model_bad.onnx" --inputs "$DS" --expect "$DS" $FAST --atol logits=100 \
		--atol logits=1e-7
	expect_exit 2 mg run "$EXAMPLES/model_bad.onnx" --inputs "$DS" --expect "$DS" $FAST --atol scores=1
	expect_error "a tolerance is given for 'scores', which is no output"
	expect_exit 2 mg run "$EXAMPLES/model_bad.onnx" --inputs "$DS" --expect "$DS" $FAST --atol =1
}

t_bad_input_is_exit_2() {
	mkdir -p empty wrongtype fortran
	expect_exit 2 mg run "$EXAMPLES/model.onnx" --inputs empty $FAST
	expect_error "input.npy" "empty" "input"
	# int64 that float32 holds exactly is converted (then its shape is wrong);
	# one float32 rounds is refused, saying how to convert it
	cp "$DS/y.npy" wrongtype/input.npy
	expect_exit 2 mg run "$EXAMPLES/model.onnx" --inputs wrongtype $FAST
	expect_error "input 'input' has shape (360,), the model takes (batch, 64)"
	"$PY" -c 'import numpy as np; np.save("wrongtype/input.npy", np.full((1, 64), 2 ** 24 + 1, np.int64))'
	expect_exit 2 mg run "$EXAMPLES/model.onnx" --inputs wrongtype $FAST
	expect_error "input 'input'" "int64" "float32" "16777217" "x.astype(np.float32)" "--cast"
	"$PY" -c 'import numpy as np; np.save("fortran/input.npy", np.asfortranarray(np.zeros((4, 64), np.float32)))'
	expect_exit 2 mg run "$EXAMPLES/model.onnx" --inputs fortran $FAST
	expect_error "fortran/input.npy" "Fortran order"
	head -c 100 "$DS/x.npy" >fortran/input.npy
	expect_exit 2 mg run "$EXAMPLES/model.onnx" --inputs fortran $FAST
	expect_error "fortran/input.npy"
	expect_exit 2 mg run "$EXAMPLES/model.onnx" --inputs "$DS" --shape input=oops $FAST
	expect_exit 2 mg run nosuch.onnx $FAST
	expect_error "nosuch.onnx"
	expect_exit 2 mg run "$EXAMPLES/model.onnx" --target nowhere $FAST
	expect_error "unknown target 'nowhere'"
	printf 'not a model' >junk.onnx
	expect_exit 2 mg run junk.onnx --inputs "$DS" $FAST
	expect_error "junk.onnx"
}

# the agent chooses an engine by the model's first bytes: a file no engine
# reads (bytes of no format at all) is exit 2 naming the file and the
# formats the agent knows, never a parse error from ONNX Runtime; a TFLite
# identifier over a truncated flatbuffer is refused naming the file
t_unknown_model_format_is_exit_2() {
	# a TFLite identifier over a truncated flatbuffer: refused, not run
	printf '\034\000\000\000TFL3\000\000\000\000\000\000\000\000' >model.tflite
	expect_exit 2 mg run model.tflite $FAST
	expect_error "'model.tflite'" "TFLite"
	printf '\001\002\003\004\005\006\007\010' >noise.bin
	expect_exit 2 mg run noise.bin $FAST
	expect_error "'noise.bin'" \
		"not a model format this agent knows; it knows ONNX (onnxruntime), TFLite (tflite)"
}

# more threads than the target has CPUs is refused at once, before anything
# loads (the agent used to try, allocating per thread, until the timeout)
t_threads_beyond_the_cpus_are_exit_2() {
	local n
	n=$(getconf _NPROCESSORS_ONLN)
	expect_exit 2 timeout 20 "$MODELGATE" run "$EXAMPLES/model.onnx" --threads 100000000 $FAST
	expect_error "threads 100000000 is more than the $n CPUs of target 'local'"
	expect_exit 2 mg run "$EXAMPLES/model.onnx" --threads $((n + 1)) $FAST
	expect_error "threads $((n + 1))" "$n CPUs"
	expect_exit 0 mg run "$EXAMPLES/model.onnx" --threads "$n" $FAST
}

t_random_inputs_and_shapes() {
	expect_exit 0 mg run "$EXAMPLES/model.onnx" --shape input=3x64 --outputs rnd --json $FAST
	json_ok "j['outputs'][0]['shape'] == [3, 10]"
	expect_file rnd/logits.npy
	expect_exit 0 mg run "$EXAMPLES/model_int8.onnx" --outputs rnd8 --json $FAST
	json_ok "j['outputs'][0]['shape'] == [1, 10]"
}

t_store_reference() {
	expect_exit 0 mg push digits:v1 "$EXAMPLES/model.onnx" --no-git
	expect_exit 0 mg run digits:v1 --inputs "$DS" --expect "$DS" --json $FAST
	json_ok "j['model']['path'] == 'digits:v1' and j['expect']['ok']"
	expect_exit 2 mg run nosuch:v1 $FAST
	expect_error "nosuch"
}

t_model_is_cached_by_digest() {
	rm -rf "$MODELGATE_AGENT_CACHE"
	expect_exit 0 mg run "$EXAMPLES/model.onnx" --json $FAST
	json_ok "j['model']['bytes_sent'] == 10340 and j['agent']['bytes_put'] == 10340"
	expect_exit 0 mg run "$EXAMPLES/model.onnx" --json $FAST
	json_ok "j['model']['bytes_sent'] == 0 and j['agent']['bytes_put'] == 0"
	# a damaged cached blob is noticed and sent again
	printf 'x' >>"$MODELGATE_AGENT_CACHE"/blobs/*
	expect_exit 0 mg run "$EXAMPLES/model.onnx" --json $FAST
	json_ok "j['model']['bytes_sent'] == 10340"
}

t_exec_target_runs_through_a_prefix() {
	expect_exit 0 mg run "$EXAMPLES/model.onnx" --target "exec:env MG_VIA=exec" --json $FAST
	json_ok "j['target']['kind'] == 'exec' and j['target']['arch'] == 'x86_64'"
	expect_file "$(echo "$MODELGATE_REMOTE_CACHE"/bin/*/modelgate-agent)"
}

# the checks that time an exec: target start from one that has the agent
# (copying it takes its own time)
exec_target_has_the_agent() {
	expect_exit 0 mg run "$EXAMPLES/model.onnx" --target "exec:env" $FAST
}

t_killed_agent_is_exit_3() {
	exec_target_has_the_agent
	local t0=$SECONDS
	expect_exit 3 mg run "$EXAMPLES/model.onnx" --target "exec:timeout -s KILL 1" --min-time 30
	expect_error "target 'exec:timeout -s KILL 1'" "connection closed" "exited with status 137"
	[ $((SECONDS - t0)) -lt 10 ] || fail "took $((SECONDS - t0)) s"
}

t_agent_that_dies_at_start_is_exit_3() {
	expect_exit 3 mg run "$EXAMPLES/model.onnx" --target "exec:false" $FAST
	expect_error "target 'exec:false'" "exited with status 1"
}

t_hung_agent_times_out() {
	exec_target_has_the_agent
	local t0=$SECONDS
	# the agent is stopped before it says hello (the command that asks
	# whether the target has it is not): only the timeout ends the wait
	expect_exit 3 mg run "$EXAMPLES/model.onnx" \
		--target 'exec:sh -c '\''case $2 in *"exec "*) kill -STOP $$;; esac; exec "$0" "$@"'\''' \
		--timeout 1 $FAST
	expect_error "no answer within 1 s" "killed by signal 9"
	# a prefix that hangs at once
	expect_exit 3 mg run "$EXAMPLES/model.onnx" --target 'exec:sh -c '\''kill -STOP $$'\''' \
		--timeout 1 $FAST
	expect_error "target 'exec:sh -c 'kill -STOP \$\$'': no answer within 1 s"
	[ $((SECONDS - t0)) -lt 10 ] || fail "took $((SECONDS - t0)) s"
}

t_missing_engine_is_exit_3() {
	MODELGATE_ORT_LIB=/nonexistent/libonnxruntime.so.1 expect_exit 3 mg run "$EXAMPLES/model.onnx" $FAST
	expect_error "target 'local'" "no ONNX Runtime library" "/nonexistent/libonnxruntime.so.1"
	# the agent itself, told to use a library that is not there
	expect_exit 3 mg run "$EXAMPLES/model.onnx" --target "exec:env MODELGATE_ORT_LIB=/nonexistent/lib.so" $FAST
	expect_error "cannot load ONNX Runtime '/nonexistent/lib.so'"
}

t_qemu_without_qemu_is_exit_3() {
	PATH=/nonexistent expect_exit 3 "$MODELGATE" run "$EXAMPLES/model.onnx" --target qemu-aarch64 $FAST
	expect_error "target 'qemu-aarch64'" "qemu-aarch64 is not installed"
}

# the agent's cache is kept within MODELGATE_AGENT_CACHE_MAX: the least
# recently used model goes first, and comes back when it is needed again
t_agent_cache_is_kept_within_its_limit() {
	export MODELGATE_AGENT_CACHE=$TEST_TMP/small-cache MODELGATE_AGENT_CACHE_MAX=15000
	local v1 v2 one="--inputs $DS --iterations 1 --warmup 0 --min-time 0 --json"
	v1=$(sha256_of "$EXAMPLES/model.onnx")
	v2=$(sha256_of "$EXAMPLES/model_v2.onnx")
	expect_exit 0 mg run "$EXAMPLES/model.onnx" $one
	expect_file "$MODELGATE_AGENT_CACHE/blobs/$v1"
	expect_exit 0 mg run "$EXAMPLES/model_v2.onnx" $one # 10 KiB each: only one fits
	expect_file "$MODELGATE_AGENT_CACHE/blobs/$v2"
	expect_no_file "$MODELGATE_AGENT_CACHE/blobs/$v1"
	expect_no_file "$MODELGATE_AGENT_CACHE/blobs/$v1.ok"
	expect_exit 0 mg run "$EXAMPLES/model.onnx" $one
	json_ok "j['model']['bytes_sent'] == $(stat -c %s "$EXAMPLES/model.onnx")"
	# without a limit both stay, and a second run sends nothing
	MODELGATE_AGENT_CACHE_MAX=0 expect_exit 0 mg run "$EXAMPLES/model_v2.onnx" $one
	MODELGATE_AGENT_CACHE_MAX=0 expect_exit 0 mg run "$EXAMPLES/model.onnx" $one
	json_ok "j['model']['bytes_sent'] == 0"
	expect_file "$MODELGATE_AGENT_CACHE/blobs/$v1"
	expect_file "$MODELGATE_AGENT_CACHE/blobs/$v2"
	# a third model under 1M: 31 KB in all fit, nothing goes
	MODELGATE_AGENT_CACHE_MAX=1M expect_exit 0 mg run "$EXAMPLES/model_pruned.onnx" $one
	expect_file "$MODELGATE_AGENT_CACHE/blobs/$v1"
	expect_file "$MODELGATE_AGENT_CACHE/blobs/$v2"
	MODELGATE_AGENT_CACHE_MAX=lots expect_exit 3 mg run "$EXAMPLES/model.onnx" $one
	expect_error "MODELGATE_AGENT_CACHE_MAX='lots' is not a size"
}

# a cancelled job (SIGTERM, SIGINT, SIGHUP, SIGKILL of modelgate) leaves no
# agent running, on the local target and through an exec: prefix
t_killed_run_leaves_no_agent() {
	local s
	for s in TERM INT HUP KILL; do
		killed_run_leaves_no_agent "$(dirname "$MODELGATE")/modelgate-agent" $s run "$EXAMPLES/model.onnx" --min-time 60 --iterations 100000000
	done
	killed_run_leaves_no_agent "$MODELGATE_REMOTE_CACHE/bin/" TERM run "$EXAMPLES/model.onnx" --min-time 60 --iterations 100000000 --target "exec:env"
}

check outputs_match_reference t_outputs_match_reference
check json_has_every_field_and_raw_samples t_json_has_every_field
check expect_mismatch_is_exit_1 t_mismatch_is_exit_1
check bad_input_is_exit_2_naming_it t_bad_input_is_exit_2
check unknown_model_format_is_exit_2 t_unknown_model_format_is_exit_2
check threads_beyond_the_cpus_are_exit_2 t_threads_beyond_the_cpus_are_exit_2
check random_inputs_and_shapes t_random_inputs_and_shapes
check store_reference t_store_reference
check model_is_cached_by_digest t_model_is_cached_by_digest
check exec_target_runs_through_a_prefix t_exec_target_runs_through_a_prefix
check killed_agent_is_exit_3_naming_target t_killed_agent_is_exit_3
check agent_that_dies_at_start_is_exit_3 t_agent_that_dies_at_start_is_exit_3
check hung_agent_times_out t_hung_agent_times_out
check missing_engine_is_exit_3 t_missing_engine_is_exit_3
check qemu_without_qemu_is_exit_3 t_qemu_without_qemu_is_exit_3
check agent_cache_is_kept_within_its_limit t_agent_cache_is_kept_within_its_limit
check killed_run_leaves_no_agent t_killed_run_leaves_no_agent
finish
