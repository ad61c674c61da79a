# modelgate gate on .tflite models: an int8 candidate (make_tflite.py int8:
# per-channel conv weights, float32 in and out through QUANTIZE and
# DEQUANTIZE, so no host dequantization) against its float twin, both with
# a batch of 32 (Arm NN 20.08 cannot resize an input, so the dataset is one
# batch; the batch-1 twins take it a row a run, with the same figures) and a
# hidden layer of 512 so that weights dominate the files. The
# labels are the float twin's argmax as LiteRT.js computes it. Accuracy and
# fidelity pass with sensible limits and fail with each limit tightened
# past the measured figure; size shows the int8 file about 4x smaller;
# latency against the baseline gives a verdict on local (CpuRef) and on
# qemu-aarch64 (CpuAcc, emulated); memory and cost run on the candidate on
# local; every measuring gate names the engine. A candidate with an
# operator Arm NN cannot run is exit 2 before anything runs.
. "$(dirname "$0")/lib.sh"

need_tflite
for k in float int8; do
	"$PY" "$GEN" $k $k.tflite --batch 32 --hidden 512 || fail "make_tflite.py $k failed"
done
"$PY" "$GEN" prelu prelu.tflite && "$PY" "$GEN" float float1.tflite || fail "make_tflite.py failed"
mkdir -p data
"$PY" -c 'import numpy as np
np.save("data/x.npy", np.random.RandomState(8).uniform(-1, 1, (32, 8, 8, 3)).astype(np.float32))' &&
	litert_run float.tflite ref data/x.npy >/dev/null &&
	"$PY" -c 'import numpy as np; np.save("data/y.npy", np.load("ref/output.npy").argmax(1).astype(np.int64))' ||
	fail "cannot make the dataset"

config() { # FILE GATES...: int8.tflite against float.tflite with these gates
	local f=$1 IFS=,
	shift
	printf '{"model": "int8.tflite", "baseline": "float.tflite",
 "dataset": {"inputs": "data/x.npy", "labels": "data/y.npy"},
 "targets": {"host": "local", "arm": "qemu-aarch64"},
 "gates": [%s]}\n' "$*" >"$f"
}

gate() { # NAME EXPR: EXPR on gate NAME of r.json
	json_get "[g for g in j['gates'] if g['name'] == '$1'][0]$2" r.json
}

figure() { # GATE FIGURE: its value in r.json
	json_get "[f['value'] for g in j['gates'] if g['name'] == '$1' for f in g['figures'] if f['name'] == '$2'][0]" r.json
}

ACC='{"name": "accuracy", "kind": "accuracy", "metric": "top1", "min": 0.9, "max_drop": 0.05}'
FID='{"name": "fidelity", "kind": "fidelity", "max_abs": 0.1, "min_cosine": 0.999, "min_top1_agreement": 0.9}'

t_accuracy_fidelity_size_memory_cost_on_local() {
	# valgrind cannot run an agent built with AddressSanitizer: under make
	# sanitize the cost gate counts with the plain agent (as t_gate_cost)
	[ -z "${MG_PLAIN_AGENT:-}" ] || export MODELGATE_AGENT=$MG_PLAIN_AGENT
	config g.json "$ACC" "$FID" \
		'{"name": "size", "kind": "size", "max_growth": 0}' \
		'{"name": "memory", "kind": "memory", "target": "host", "max_rss_mb": 512}' \
		'{"name": "cost", "kind": "cost", "target": "host", "max_ratio": 3}'
	expect_exit 0 mg gate -c g.json --report r.json
	json_ok "[g['status'] for g in j['gates']] == ['pass'] * 5" r.json
	# the int8 model loses a little: 1 of the 32 argmaxes moves
	json_ok "0 < j['gates'][0]['baseline'] - j['gates'][0]['value'] <= 0.05" r.json
	local bytes base
	bytes=$(figure size bytes)
	base=$(gate size "['figures'][0]['baseline']")
	"$PY" -c 'import sys; r = float(sys.argv[2]) / float(sys.argv[1]); sys.exit(0 if 3.4 <= r <= 4.2 else 1)' \
		"$bytes" "$base" || fail "the int8 model is not about 4x smaller: $bytes bytes, the float one $base"
	local g
	for g in memory cost; do
		[ "$(gate $g "['fingerprint']['engine']")" = "tflite armnn 20.08 CpuRef" ] ||
			fail "the $g gate does not name the engine: $(gate $g "['fingerprint']")"
	done
	json_ok "[t['fingerprint']['engine'] for t in j['targets'] if t['name'] == 'host'] == ['tflite armnn 20.08 CpuRef']" r.json
	gate cost "['reason']" | grep -q "counted by callgrind" || fail "cost: $(gate cost "['reason']")"
}

# each limit, tightened just past what was measured, fails its gate alone
t_tightened_limits_fail() {
	config g.json "$ACC" "$FID"
	expect_exit 0 mg gate -c g.json --report r.json
	local top1 drop max_abs cosine agree
	top1=$(figure accuracy top1)
	drop=$("$PY" -c "print($(gate accuracy "['baseline']") - $top1)")
	max_abs=$(figure fidelity max_abs) cosine=$(figure fidelity cosine) agree=$(figure fidelity top1_agreement)
	local tight
	for tight in \
		"accuracy|{\"name\": \"accuracy\", \"kind\": \"accuracy\", \"metric\": \"top1\", \"max_drop\": $("$PY" -c "print($drop * 0.9)")}" \
		"accuracy|{\"name\": \"accuracy\", \"kind\": \"accuracy\", \"metric\": \"top1\", \"min\": $("$PY" -c "print($top1 + 0.001)")}" \
		"fidelity|{\"name\": \"fidelity\", \"kind\": \"fidelity\", \"max_abs\": $("$PY" -c "print($max_abs * 0.9)")}" \
		"fidelity|{\"name\": \"fidelity\", \"kind\": \"fidelity\", \"min_cosine\": $("$PY" -c "print(($cosine + 1) / 2)")}" \
		"fidelity|{\"name\": \"fidelity\", \"kind\": \"fidelity\", \"min_top1_agreement\": $("$PY" -c "print($agree + 0.001)")}"; do
		config t.json "${tight#*|}"
		expect_exit 1 mg gate -c t.json --report r.json
		[ "$(gate "${tight%%|*}" "['status']")" = fail ] || fail "not failed: ${tight#*|}"
	done
}

# latency against the float twin, interleaved: a verdict (pass within 3x)
# on local CpuRef and on qemu-aarch64 CpuAcc, the latter labelled emulated
t_latency_local_and_qemu() {
	need qemu-aarch64 qemu-user
	[ -f "$BUILT/aarch64/libmodelgate-tflite.so" ] || fail "no aarch64 TFLite engine (make agents)"
	config g.json \
		'{"name": "latency", "kind": "latency", "target": "host", "metric": "p50", "max_ratio": 3, "max_time": 10}' \
		'{"name": "latency-arm", "kind": "latency", "target": "arm", "metric": "p50", "max_ratio": 3, "max_time": 10}'
	expect_exit 0 mg gate -c g.json --report r.json --markdown r.md --html r.html --junit r.xml
	expect_stdout_contains "latency@arm (emulated)"
	local f e
	for f in r.md r.html r.xml; do
		for e in CpuRef CpuAcc; do
			grep -q "tflite armnn 20.08 $e" $f || fail "$f does not name tflite armnn 20.08 $e"
		done
	done
	json_ok "[g['status'] for g in j['gates']] == ['pass', 'pass']" r.json
	[ "$(gate latency "['fingerprint']['engine']")" = "tflite armnn 20.08 CpuRef" ] ||
		fail "latency does not name CpuRef: $(gate latency "['fingerprint']")"
	[ "$(gate latency-arm "['fingerprint']['engine']")" = "tflite armnn 20.08 CpuAcc" ] ||
		fail "latency-arm does not name CpuAcc: $(gate latency-arm "['fingerprint']")"
	json_ok "[g['fingerprint']['emulated'] for g in j['gates']] == [False, True]" r.json
}

# PRELU (make_tflite.py prelu) and MediaPipe's selfie_segmentation (custom
# Convolution2DTransposeBias): exit 2 naming the operator and the engine,
# before a target starts; inspect says so before anything runs
t_unsupported_operator() {
	local ss
	ss=$(tflite_model selfie_segmentation) || exit 1
	printf '{"model": "%s", "baseline": "float1.tflite", "targets": {"host": "local"},
 "gates": [{"name": "latency", "kind": "latency", "target": "host", "max_ratio": 3}]}\n' prelu.tflite >p.json
	expect_exit 2 mg gate -c p.json
	expect_stderr_contains "modelgate: model 'prelu.tflite': the TFLite engine (armnn 20.08) cannot run it: PRELU x1"
	expect_stderr_not_contains "starting target"
	printf '{"model": "%s", "targets": {"host": "local"},
 "gates": [{"name": "memory", "kind": "memory", "target": "host", "max_rss_mb": 512}]}\n' "$ss" >s.json
	expect_exit 2 mg gate -c s.json
	expect_stderr_contains "the TFLite engine (armnn 20.08) cannot run it: Convolution2DTransposeBias x1"
	expect_exit 0 mg inspect prelu.tflite
	expect_stdout_contains "Unsupported by Arm NN 20.08: PRELU x1"
	expect_exit 0 mg inspect "$ss"
	expect_stdout_contains "Unsupported by Arm NN 20.08: Convolution2DTransposeBias x1"
}

# The same models with a batch of 1, as most .tflite files are: the 32 rows
# go through them a run at a time and give the batch-32 figures.
t_batch_one_models_take_the_dataset_a_row_at_a_time() {
	local k
	for k in float int8; do
		"$PY" "$GEN" $k ${k}1.tflite --hidden 512 || fail "make_tflite.py $k failed"
	done
	config g.json "$ACC" "$FID"
	expect_exit 0 mg gate -c g.json --report r32.json
	sed 's/int8.tflite/int81.tflite/; s/float.tflite/float1.tflite/' g.json >g1.json
	expect_exit 0 mg gate -c g1.json --report r1.json
	"$PY" -c 'import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:])
v = lambda r: [(g["name"], g["status"], [(f["name"], f["value"]) for f in g["figures"]]) for g in r["gates"]]
assert v(a) == v(b), (v(a), v(b))' r32.json r1.json || fail "batch 1 gives other figures than batch 32"
}

check accuracy_fidelity_size_memory_cost_pass_on_local t_accuracy_fidelity_size_memory_cost_on_local
check each_tightened_limit_fails t_tightened_limits_fail
check latency_gives_a_verdict_on_local_and_qemu t_latency_local_and_qemu
check unsupported_operator_is_exit_2_naming_it t_unsupported_operator
check batch_one_models_take_the_dataset_a_row_at_a_time t_batch_one_models_take_the_dataset_a_row_at_a_time
finish
