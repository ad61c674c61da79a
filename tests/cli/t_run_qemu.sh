# modelgate run --target qemu-aarch64: the aarch64 agent and the arm64 ONNX
# Runtime under qemu-user, with no privilege: qemu preloads
# libmodelgate-cpuinfo.so in the guest, which answers /proc/cpuinfo with an
# aarch64 one. Emulation is ~180x slower, so only a small sample runs: the
# digits model, a few conformance cases, and a run and a gate as an
# unprivileged user (nobody when the tests run as root) whose results match
# the local target's.
. "$(dirname "$0")/lib.sh"

export MODELGATE_AGENT_CACHE=$TEST_TMP/agent-cache
DS=$EXAMPLES/dataset
NODE=/usr/share/libonnx-testdata/data/node
BUILT=$(dirname "$MODELGATE") # run.sh's copy: modelgate, agents, the cpuinfo library
SYSROOT=/usr/aarch64-linux-gnu
need qemu-aarch64 qemu-user
need aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu
[ "$(id -u)" != 0 ] || need setpriv util-linux
[ -d "$NODE" ] || fail "'$NODE' is missing: install Debian's libonnx-testdata (make deps-test installs it)"
[ -x "$BUILT/aarch64/modelgate-agent" ] || fail "no aarch64 agent next to modelgate (make agents)"
[ -f "$BUILT/aarch64/libmodelgate-cpuinfo.so" ] || fail "no aarch64 cpuinfo library next to the agent (make agents)"

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

# ---- the cpuinfo library, seen from an aarch64 program ----------------------

LIB=$BUILT/aarch64/libmodelgate-cpuinfo.so
PROBE=$TEST_TMP/cpuinfo_probe
must aarch64-linux-gnu-gcc -std=c11 -D_GNU_SOURCE -Wall -Werror -O1 -o "$PROBE" "$MG_SRCDIR/tests/cli/cpuinfo_probe.c"
probe() { qemu-aarch64 -L "$SYSROOT" "$@"; }
FUNCS="open open64 openat openat64 fopen fopen64"

t_library_answers_cpuinfo_with_an_aarch64_one() {
	local f ncpu
	ncpu=$(getconf _NPROCESSORS_ONLN)
	for f in $FUNCS; do
		# exit 0 also says the descriptor kept close-on-exec
		expect_exit 0 probe -E LD_PRELOAD="$LIB" "$PROBE" read $f /proc/cpuinfo
		[ "$(grep -c '^processor' "$OUT")" = "$ncpu" ] || fail "$f: not $ncpu processor entries"
		grep -qx "CPU implementer	: 0x41" "$OUT" && grep -qx "CPU part	: 0xd0c" "$OUT" ||
			fail "$f: no Neoverse N1 entry"
		expect_stdout_not_contains "vendor_id"
		expect_stdout_not_contains "model name"
	done
	# without it, the same program sees the host's (an x86 one here)
	if [ "$(uname -m)" = x86_64 ]; then
		expect_exit 0 probe "$PROBE" read open /proc/cpuinfo
		expect_stdout_contains "vendor_id"
	fi
}

t_library_passes_other_files_through() {
	local f
	umask 022
	printf 'not cpuinfo\n' >plain.txt
	for f in $FUNCS; do
		expect_exit 0 probe -E LD_PRELOAD="$LIB" "$PROBE" read $f "$TEST_TMP/plain.txt"
		expect_same_file plain.txt "$OUT"
		expect_exit 3 probe -E LD_PRELOAD="$LIB" "$PROBE" read $f "$TEST_TMP/missing.txt"
		expect_stderr_contains "No such file or directory"
	done
	# files created through it get the mode asked for
	for f in open open64 openat openat64; do
		expect_exit 0 probe -E LD_PRELOAD="$LIB" "$PROBE" create $f "$TEST_TMP/new-$f"
		[ "$(stat -c %a "new-$f")" = 640 ] || fail "$f created mode $(stat -c %a "new-$f"), not 640"
		[ "$(cat "new-$f")" = created ] || fail "$f did not write its file"
	done
}

# ---- as an unprivileged user ------------------------------------------------

# as_user CMD...: CMD as nobody when the tests run as root, else as the
# user running them. Its files live under $NB: binaries, a copy of the
# digits example, its store, caches and temporary files.
NB=$TEST_TMP/nobody
mkdir -p "$NB/bin/aarch64" "$NB/home" "$NB/tmp" || fail "cannot create '$NB'"
if [ "$(id -u)" = 0 ]; then
	as_user() { setpriv --reuid=65534 --regid=65534 --clear-groups -- "$@"; }
	chmod 0711 "$TEST_TMP"
	chown 65534:65534 "$NB" "$NB/home" "$NB/tmp"
else
	as_user() { "$@"; }
fi
# (the gate runs its dataset on the local target: that agent goes too)
cp "$BUILT/modelgate" "$BUILT/modelgate-agent" "$MG_SRCDIR/.deps/ort/lib/x64/libonnxruntime.so.1" "$NB/bin/" &&
	cp "$BUILT/aarch64/modelgate-agent" "$LIB" "$MG_SRCDIR/.deps/ort/lib/arm64/libonnxruntime.so.1" \
		"$NB/bin/aarch64/" &&
	cp -r "$EXAMPLES" "$NB/digits" || fail "cannot copy the binaries and the example to '$NB'"
rm -f "$NB/digits/report.json"
[ "$(as_user id -u)" != 0 ] || fail "as_user runs as root"
# the ceilings are not this test's business: emulation is slow and noisy
"$PY" - "$NB/digits/modelgate.json" <<'PY' || fail "cannot write the relaxed config"
import json, sys
c = json.load(open(sys.argv[1]))
for g in c["gates"]:
    if g["kind"] == "latency":  # a ratio: an absolute limit on emulated time is refused
        g.pop("max_ms", None)
        g.update(max_ratio=100)
json.dump(c, open(sys.argv[1], "w"))
PY
chmod -R a+rX "$NB/bin" "$NB/digits"
mg_user() { # modelgate as that user, with its own store, caches and HOME
	as_user env HOME="$NB/home" TMPDIR="$NB/tmp" MODELGATE_HOME="$NB/home/store" \
		MODELGATE_AGENT_CACHE="$NB/home/agent-cache" MODELGATE_DIGEST_CACHE="$NB/home/digests" \
		"${BIN:-$NB/bin}/modelgate" "$@"
}
FAST="--iterations 2 --warmup 0 --min-time 0"

t_run_as_user_matches_local() {
	expect_exit 0 mg run "$NB/digits/model_int8.onnx" --inputs "$DS" --outputs "$NB/out-local" $FAST
	chmod -R a+rX "$NB/out-local"
	expect_exit 0 mg_user run "$NB/digits/model_int8.onnx" --target qemu-aarch64 --inputs "$NB/digits/dataset" \
		--expect "$NB/out-local" $FAST --json
	json_ok "j['target']['arch'] == 'aarch64' and j['target']['emulated'] and j['expect']['ok']"
	[ -z "$(find "$NB/home" -user 0 -print -quit)" ] || fail "root-owned files in the user's folders"
}

# latency on qemu-aarch64; accuracy runs its dataset on the local target
t_gate_as_user_matches_local() {
	cd "$NB/digits" || fail "cannot enter '$NB/digits'"
	expect_exit 0 mg gate --only accuracy --only latency --report "$TEST_TMP/local.json"
	expect_exit 0 mg_user gate --only accuracy --only latency --target host=qemu-aarch64 \
		--report "$NB/home/qemu.json"
	json_ok "(lambda f: f['arch'] == 'aarch64' and f['emulated'] and f['cpu_model'] == 'arm 0xd0c')([g for g in j['gates'] if g['name'] == 'latency'][0]['fingerprint'])" \
		"$NB/home/qemu.json"
	json_ok "[g['status'] for g in j['gates'] if g['name'] in ('accuracy', 'latency')] == ['pass', 'pass']" \
		"$NB/home/qemu.json"
	# the same figures and confusion matrix as root's
	"$PY" - "$TEST_TMP/local.json" "$NB/home/qemu.json" <<'PY' >"$IO/py.out" 2>&1 || fail "accuracy on qemu-aarch64 differs from local: $(tail -c 600 "$IO/py.out")"
import json, sys
a, b = ([g for g in json.load(open(p))["gates"] if g["name"] == "accuracy"][0] for p in sys.argv[1:])
assert a["figures"] == b["figures"], (a["figures"], b["figures"])
assert a["confusion"] == b["confusion"], (a["confusion"], b["confusion"])
PY
}

# what cannot be preloaded is named, exit 3, and nothing crashes
t_unusable_library_is_named() {
	BIN=$NB/bin,2
	cp -r "$NB/bin" "$BIN"
	expect_exit 3 mg_user run "$NB/digits/model.onnx" --target qemu-aarch64 $FAST
	expect_error "target 'qemu-aarch64'" "'$BIN/aarch64/libmodelgate-cpuinfo.so' cannot be preloaded from a path with a comma"
	mv "$BIN" "$NB/bin2"
	BIN=$NB/bin2
	chmod 0600 "$BIN/aarch64/libmodelgate-cpuinfo.so"
	if [ "$(id -u)" = 0 ]; then
		expect_exit 3 mg_user run "$NB/digits/model.onnx" --target qemu-aarch64 $FAST
		expect_error "target 'qemu-aarch64'" "cannot read '$BIN/aarch64/libmodelgate-cpuinfo.so'" \
			"Permission denied"
	fi
	# a library ld.so refuses to preload: the agent refuses to start ONNX
	# Runtime rather than crash in it
	cp "$BUILT/modelgate-agent" "$BIN/aarch64/libmodelgate-cpuinfo.so"
	chmod 0644 "$BIN/aarch64/libmodelgate-cpuinfo.so"
	expect_exit 3 mg_user run "$NB/digits/model.onnx" --target qemu-aarch64 $FAST
	expect_error "target 'qemu-aarch64'" "'/proc/cpuinfo' has no Arm CPU entry" \
		"LD_PRELOAD is '$BIN/aarch64/libmodelgate-cpuinfo.so'"
	rm "$BIN/aarch64/libmodelgate-cpuinfo.so"
	expect_exit 3 mg_user run "$NB/digits/model.onnx" --target qemu-aarch64 $FAST
	expect_error "target 'qemu-aarch64'" \
		"cpuinfo library '$BIN/aarch64/libmodelgate-cpuinfo.so' is missing (run 'make agents')"
}

# a cancelled job leaves no qemu (and so no emulated agent) running
t_killed_run_leaves_no_agent() {
	killed_run_leaves_no_agent "$(dirname "$MODELGATE")/aarch64/modelgate-agent" TERM \
		run "$EXAMPLES/model.onnx" --target qemu-aarch64 --min-time 60 --iterations 100000000
}

check digits_runs_emulated_and_is_labelled t_digits_runs_emulated
check conformance_sample_passes t_conformance_sample
check library_answers_cpuinfo_with_an_aarch64_one t_library_answers_cpuinfo_with_an_aarch64_one
check library_passes_other_files_through t_library_passes_other_files_through
check run_as_user_matches_local t_run_as_user_matches_local
check gate_as_user_matches_local t_gate_as_user_matches_local
check unusable_library_is_named_exit_3 t_unusable_library_is_named
check killed_run_leaves_no_agent t_killed_run_leaves_no_agent
finish
