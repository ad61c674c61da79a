# modelgate-device sync --once against a real docker-registry: a device
# converges on the fleet tag's signed, gated release into its A/B slots; a
# poll that finds nothing new costs one HEAD and nothing else (no /v2/
# check; behind bearer tokens the HEAD's 401 starts the token dance); a
# bundle signed by another key, a release without a gate result signed by
# the fleet key and an older release are refused with nothing changed on the device; a model
# whose outputs on the bundle's smoke inputs are not the expected ones, and
# a failing health_cmd, switch back by themselves; a kill at each step of an update
# leaves current on a complete release and the next sync finishes it (a
# download killed half-way goes on from its last byte); the
# config is checked (unknown keys named, exit 2); status.json reaches an
# MQTT broker as a retained message, and an HTTP endpoint as a signed POST.
# The smoke check's median latency and peak memory meet the limits of the
# config and of the release's gate report for the device's target class,
# or the device switches back.
. "$MG_SRCDIR/tests/cli/lib.sh"
. "$MG_SRCDIR/tests/cli/lib_registry.sh"
. "$MG_SRCDIR/tests/cli/lib_deploy.sh"
. "$MG_SRCDIR/tests/cli/lib_fleet.sh"
. "$MG_SRCDIR/tests/cli/lib_device.sh"

DEVICE=$(dirname "$MODELGATE")/modelgate-device
[ -x "$DEVICE" ] || fail "no modelgate-device next to '$MODELGATE' (make builds it)"
fleet_start
recorder_start # the status URL's receiver (recorder.py)
cp "$EXAMPLES/model_bad.onnx" "$FX/model_v3.onnx"
# model versions; v1 and v2 get a signed, passing gate result, v3 none
model_version 1 "$FX/model.onnx"
model_version 2 "$FX/model_v2.onnx"
model_version 3 "$FX/model_v3.onnx"
must mg attest "$R:v1" --report r1.json --sign fleet-key
must mg attest "$R:v2" --report r2.json --sign fleet-key
# v4: the model and 1 MiB of incompressible weights, a bundle large enough
# for the fault proxy to cut its download in the middle
make_blob weights.bin 1
model_version 4 "$FX/model.onnx" weights.bin
must mg attest "$R:v4" --report r4.json --sign fleet-key

# smoke inputs with v1's outputs for them: v1 passes its smoke check, v2
# (another model) fails it
export MODELGATE_AGENT_CACHE=$TEST_TMP/agent-cache
mkdir -p smoke1/inputs smoke1/expected
cp "$FX/x.npy" smoke1/inputs/input.npy
must mg run "$FX/model.onnx" --inputs smoke1/inputs --outputs smoke1/expected --iterations 1 --warmup 0 --min-time 0
[ -f smoke1/expected/logits.npy ] || fail "run wrote no smoke1/expected/logits.npy"

# the same with every expected output 0.05 off: beyond run's default
# tolerances (smoke-near), within the atol 0.1 of its tolerances.json
# (smoke-tol)
for d in smoke-near smoke-tol; do
	mkdir -p $d/inputs $d/expected && cp smoke1/inputs/input.npy $d/inputs/ &&
		"$PY" -c 'import sys, numpy as np; np.save(sys.argv[2], np.load(sys.argv[1]) + np.float32(0.05))' \
			smoke1/expected/logits.npy $d/expected/logits.npy || fail "cannot make $d"
done
echo '{"outputs": {"logits": {"atol": 0.1}}}' >smoke-tol/tolerances.json

release rel1 1 1 fleet-key --smoke smoke1
release smokebad 2 3 fleet-key --smoke smoke1
release rel2 2 2 fleet-key
release badsig 2 3 other-key
release nogate 3 3 fleet-key
release rel3 1 3 fleet-key
release rel4 4 4 fleet-key
# v1 with its smoke files at release 3, once with the usual report and once
# with one whose latency and memory gates on the target classes rpi4,
# rpi4-ratio and rpi4-emu have limits no model meets
release rel3s 1 3 fleet-key --smoke smoke1
release rel3near 1 3 fleet-key --smoke smoke-near
release rel3tol 1 3 fleet-key --smoke smoke-tol
"$PY" - r1.json rL.json <<'PYEOF' || fail "cannot make rL.json"
import copy, json, sys
j = json.load(open(sys.argv[1]))
lat = next(g for g in j["gates"] if g["kind"] == "latency" and g["status"] == "pass" and g["latency"])
def gate(name, target, **kw):
    g = copy.deepcopy(lat)
    g.update(name=name, target=target, **kw)
    j["gates"].append(g)
    j["targets"].append({"name": target, "spec": "local", "fingerprint": g["fingerprint"], "error": None})
gate("latency on rpi4", "rpi4", metric="p95_ms", value=0.00005, limit=0.0001)
gate("memory on rpi4", "rpi4", kind="memory", metric="peak_rss_mb", value=0.0005, limit=0.001,
     unit="MiB", figures=[], latency=None)
# no max_ms: the candidate's median there times the allowed ratio; the
# same measured under emulation is never compared with the device's own
p50 = [{"name": "p50_ms", "value": 0.0001, "baseline": 0.0001, "unit": "ms"}]
gate("latency ratio on rpi4-ratio", "rpi4-ratio", limit=None, value=0.0002, figures=p50)
j["gates"][-1]["latency"]["max_ratio"] = 1.1
gate("latency emulated", "rpi4-emu", limit=None, value=0.0002, figures=p50)
j["gates"][-1]["latency"]["max_ratio"] = 1.1
j["gates"][-1]["fingerprint"]["emulated"] = True
json.dump(j, open(sys.argv[2], "w"), indent=1)
PYEOF
must mg tag "$R:v1" vL
release rel3lim L 3 fleet-key --smoke smoke1
config dev

t_converges() {
	publish rel1
	dsync 0 dev
	[ "$(current dev)" = slots/a ] || fail "current is '$(current dev)', not slots/a"
	cmp "$TEST_TMP/dev/current/files/model.onnx" "$FX/model.onnx" || fail "slot a does not hold v1"
	cmp "$TEST_TMP/dev/current/smoke/inputs/input.npy" "$FX/x.npy" || fail "slot a has no smoke inputs"
	status_ok "j['release'] == 1 and j['health'] == 'pass' and j['slot'] == 'a' and j['artifact'] == '$D1'" dev
	status_ok "j['device'] == 'dev-dev' and j['labels'] == {'hw': 'rpi4'} and j['fleet'] == 'kws-prod'" dev
	switches_to_rel2 dev
	[ -z "$(ls -A "$TEST_TMP/dev/download")" ] || fail "the download was not cleared: $(ls -A "$TEST_TMP/dev/download")"
}

t_unchanged_poll_is_one_head() {
	local before
	before=$(wc -l <"$REG_LOG")
	dsync 0 dev
	expect_stdout_contains "up to date:"
	tail -n +"$((before + 1))" "$REG_LOG" | grep 'response completed' >"$TEST_TMP/poll.log" || true
	# no /v2/ check (the remote is opened with no_ping): the HEAD is all
	[ "$(wc -l <"$TEST_TMP/poll.log")" = 1 ] || fail "not exactly one request: $(cat "$TEST_TMP/poll.log")"
	grep 'http.request.method=HEAD' "$TEST_TMP/poll.log" | grep -q 'uri=/v2/acme/kws/manifests/fleet-prod ' ||
		fail "the one request was not a HEAD of the fleet tag: $(cat "$TEST_TMP/poll.log")"
	# 0 blob bytes (the registry counts a HEAD's Content-Length as written)
	[ "$(awk '/uri=\/v2\/[^ ]*\/blobs\// { for (i = 1; i <= NF; i++) if ($i ~ /^http.response.written=/) {
		sub(/.*=/, "", $i); n += $i } } END { print n + 0 }' "$TEST_TMP/poll.log")" = 0 ] ||
		fail "blob bytes moved: $(grep /blobs/ "$TEST_TMP/poll.log")"
}

# A registry behind bearer tokens (tokenserver.py): the poll's HEAD, sent
# without the /v2/ check, meets the 401 challenge itself and fetches a pull
# token for the fleet's repository; the device converges, and the idle
# poll after it is one HEAD that the registry accepts with a token.
t_poll_through_bearer_tokens() {
	local src=$R
	registry_start_token
	local T=$REG/acme/kws
	export MODELGATE_REGISTRY_USER=$REG_USER MODELGATE_REGISTRY_PASSWORD=$REG_PASS
	must mg copy "$src:v1" "$T:v1"
	must mg attest "$T:v1" --report r1.json --sign fleet-key
	must mg copy "$src:rel1" "$T:fleet-prod"
	sed "s|$src:|$T:|; s|$TEST_TMP/dev\"|$TEST_TMP/tok\"|; s|dev-dev|dev-tok|" dev.json >tok.json
	local marks
	marks=$(wc -l <"$TOKEN_LOG")
	dsync 0 tok
	status_ok "j['release'] == 1 and j['health'] == 'pass'" tok
	tail -n +"$((marks + 1))" "$TOKEN_LOG" | grep -q 'repository:acme/kws:pull' ||
		fail "no pull token was asked for: $(tail -n +"$((marks + 1))" "$TOKEN_LOG")"
	local before
	before=$(wc -l <"$REG_LOG")
	marks=$(wc -l <"$TOKEN_LOG")
	dsync 0 tok
	expect_stdout_contains "up to date:"
	tail -n +"$((before + 1))" "$REG_LOG" | grep 'response completed' >"$TEST_TMP/tok-poll.log" || true
	! grep -q 'uri=/v2/ ' "$TEST_TMP/tok-poll.log" || fail "the poll checked /v2/: $(cat "$TEST_TMP/tok-poll.log")"
	grep 'http.request.method=HEAD' "$TEST_TMP/tok-poll.log" | grep 'uri=/v2/acme/kws/manifests/fleet-prod ' |
		grep -q 'http.response.status=200' || fail "no accepted HEAD of the fleet tag: $(cat "$TEST_TMP/tok-poll.log")"
	[ "$(tail -n +"$((marks + 1))" "$TOKEN_LOG" | wc -l)" = 1 ] ||
		fail "not one token for the poll: $(tail -n +"$((marks + 1))" "$TOKEN_LOG")"
}

# refused NAME TEXT: publishing NAME is refused with TEXT, nothing changes
refused() {
	local snap
	snap=$(snapshot dev)
	publish "$1"
	dsync 1 dev
	expect_stderr_contains "$2"
	[ "$(snapshot dev)" = "$snap" ] || fail "the device changed after refusing $1"
	status_ok "j['release'] == 2 and j['slot'] == 'b' and j['rejected'] is not None and '$2' in j['last_error']" dev
}

t_refusals() {
	refused badsig "does not verify: signature: manifest.json was signed by key"
	refused nogate "has no passing gate result signed by the fleet key"
	refused rel1 "release 1 ("
	expect_stderr_contains "is older than release 2, which runs"
	# a refused release is not fetched again at the next poll
	dsync 1 dev
	expect_stderr_contains "was refused before"
}

t_failed_smoke_check_switches_back() {
	publish smokebad
	dsync 1 dev
	expect_stderr_contains "failed its health check: the smoke check failed: output 'logits' differs from the expected one"
	expect_stderr_contains "back on release 2"
	[ "$(current dev)" = slots/b ] || fail "current is '$(current dev)', not back on slots/b"
	[ -f "$TEST_TMP/dev/slots/a/smoke/expected/logits.npy" ] || fail "the smoke files were not unpacked"
	status_ok "j['health'] == 'fail' and j['release'] == 2 and 'smoke check failed' in j['last_error']" dev
}

# The outputs must be as near the expected ones as the release's
# smoke/tolerances.json says, else as run's defaults say
t_smoke_tolerances_come_with_the_release() {
	proven_on_rel2 near ''
	publish rel3near
	dsync 1 near
	expect_stderr_contains "failed its health check: the smoke check failed: output 'logits' differs from the expected one"
	status_ok "j['health'] == 'fail' and j['release'] == 2" near
	proven_on_rel2 tol ''
	publish rel3tol
	dsync 0 tol
	expect_stdout_contains "outputs as expected (within the release's tolerances)"
	status_ok "j['health'] == 'pass' and j['release'] == 3" tol
}

t_failed_health_check_switches_back() {
	publish rel3
	touch "$TEST_TMP/dev/unhealthy"
	dsync 1 dev
	expect_stderr_contains "failed its health check: health_cmd exited with status 1: self-test: wrong answers"
	expect_stderr_contains "back on release 2"
	[ "$(current dev)" = slots/b ] || fail "current is '$(current dev)', not back on slots/b"
	status_ok "j['health'] == 'fail' and j['release'] == 2 and j['rejected'] is not None" dev
	rm "$TEST_TMP/dev/unhealthy"
}

# proven_on_rel2 DIR EXTRA: a device DIR that runs release 2, proven
# without limits, then configured with EXTRA
proven_on_rel2() {
	publish rel2
	config "$1"
	dsync 0 "$1"
	config "$1" "$2"
}

# limit_fails DIR EXTRA RELEASE TEXT: on a device configured with EXTRA,
# RELEASE fails its smoke check with TEXT, and the device goes back to 2
limit_fails() {
	proven_on_rel2 "$1" "$2"
	publish "$3"
	dsync 1 "$1"
	expect_stderr_contains "failed its health check: the smoke check's "
	expect_stderr_contains "$4; back on release 2"
	[ "$(current "$1")" = slots/a ] || fail "current is '$(current "$1")', not back on slots/a"
	status_ok "j['health'] == 'fail' and j['release'] == 2 and j['rejected'] is not None" "$1"
	status_ok "'''$4''' in j['last_error']" "$1"
}

# The smoke check measures: within no limit the release proves and says what
# it measured; a latency or memory limit of the config far below what any
# model takes fails it and the device switches back.
t_smoke_limits_from_config() {
	proven_on_rel2 fine ', "smoke_iterations": 3'
	publish rel3s
	dsync 0 fine
	expect_stdout_contains "smoke check: 3 runs on the release's smoke inputs, outputs as expected, median latency "
	expect_stdout_matches "peak memory [0-9.]+ MiB$"
	status_ok "j['health'] == 'pass' and j['release'] == 3" fine
	limit_fails lat ', "limits": {"latency_ms": 0.0001}' rel3s \
		"is above the limit 0.0001 ms (config limits.latency_ms)"
	status_ok "'the smoke check\\'s median latency ' in j['last_error']" lat
	limit_fails mem ', "limits": {"memory_mb": 0.001}' rel3s \
		"is above the limit 0.001 MiB (config limits.memory_mb)"
	status_ok "'the smoke check\\'s peak memory ' in j['last_error']" mem
	# a release without smoke files is measured on random inputs
	limit_fails noin ', "limits": {"latency_ms": 0.0001}' rel3 \
		"is above the limit 0.0001 ms (config limits.latency_ms)"
	proven_on_rel2 noin2 ', "limits": {"memory_mb": 1000000}'
	publish rel3
	dsync 0 noin2
	expect_stdout_contains "smoke check: 20 runs on random inputs, outputs not compared, median latency "
}

# With a target_class, the latency and memory gates of the release's
# report.json for a target of that name set limits too: max_ms and
# max_rss_mb, else the candidate's median there times max_ratio (not when
# measured under emulation); the config's own limit wins.
t_smoke_limits_from_report() {
	limit_fails rep ', "target_class": "rpi4"' rel3lim \
		"is above the limit 0.0001 ms (gate 'latency on rpi4' of the release's report.json: max_ms, on its p95_ms)"
	limit_fails repm ', "target_class": "rpi4", "limits": {"latency_ms": 1000000}' rel3lim \
		"is above the limit 0.001 MiB (gate 'memory on rpi4' of the release's report.json: max_rss_mb)"
	limit_fails ratio ', "target_class": "rpi4-ratio"' rel3lim \
		"is above the limit 0.00011 ms (gate 'latency ratio on rpi4-ratio' of the release's report.json: the candidate's p50_ms 0.0001 ms on 'rpi4-ratio' x max_ratio 1.10)"
	proven_on_rel2 emu ', "target_class": "rpi4-emu"'
	publish rel3lim
	dsync 0 emu
	expect_stdout_contains "smoke check: 1 run on the release's smoke inputs, outputs as expected, median latency "
	proven_on_rel2 wins ', "target_class": "rpi4", "limits": {"latency_ms": 1000000, "memory_mb": 1000000}'
	publish rel3lim
	dsync 0 wins
	expect_stdout_contains "smoke check: 20 runs on the release's smoke inputs"
	expect_stdout_contains "(limit 1000000.00 ms, config limits.latency_ms)"
	expect_stdout_contains "(limit 1000000.00 MiB, config limits.memory_mb)"
}

t_kill_at_each_step() {
	local step
	for step in download verify unpack switch health; do
		publish rel2
		config "k-$step"
		dsync 0 "k-$step"
		publish rel3
		MODELGATE_DEVICE_KILL_AT=$step dsync 137 "k-$step"
		local slot
		slot=$(current "k-$step")
		case $slot in slots/a | slots/b) ;; *) fail "after a kill at $step current is '$slot'" ;; esac
		[ -f "$TEST_TMP/k-$step/$slot/manifest.json" ] && [ -f "$TEST_TMP/k-$step/$slot.json" ] ||
			fail "after a kill at $step current is not a complete slot"
		dsync 0 "k-$step"
		[ "$(current "k-$step")" = slots/b ] || fail "after a kill at $step the next sync did not finish"
		status_ok "j['release'] == 3 and j['health'] == 'pass'" "k-$step"
		json_ok "j['proven']" "$TEST_TMP/k-$step/slots/b.json"
	done
}

t_config_checked() {
	config bad ', "poll_intervall": 5'
	dsync 2 bad
	expect_stderr_contains "bad.json': unknown key 'poll_intervall'"
	printf '{"fleet": "f"}' >bad2.json
	dsync 2 bad2
	expect_stderr_contains "'tag' is missing"
	config bad3 ', "poll_interval": "5m"'
	dsync 2 bad3
	expect_stderr_contains "'poll_interval' is not a whole number from 0 to 604800"
	local bad
	for bad in '-1' '"fast"' '0'; do
		config bad5 ", \"limits\": {\"latency_ms\": $bad}"
		dsync 2 bad5
		expect_stderr_contains "bad5.json': 'limits.latency_ms' is not a number above 0"
	done
	config bad5 ', "limits": {"memory_mb": -5}'
	dsync 2 bad5
	expect_stderr_contains "'limits.memory_mb' is not a number above 0"
	config bad5 ', "limits": {"latency": 5}'
	dsync 2 bad5
	expect_stderr_contains "unknown key 'limits.latency'"
	config bad5 ', "limits": 5'
	dsync 2 bad5
	expect_stderr_contains "'limits' is not an object"
	config bad5 ', "smoke_iterations": 0'
	dsync 2 bad5
	expect_stderr_contains "'smoke_iterations' is not a whole number from 1 to 604800"
	sed 's/"device_id": "dev-bad4", //' >bad4.json <<JSON
{"fleet": "f", "tag": "$R:fleet-prod", "public_key": "$TEST_TMP/fleet-key.pub", "state_dir": "$TEST_TMP/s4"}
JSON
	printf 'abc123\n' >machine-id
	MODELGATE_DEVICE_MACHINE_ID=$TEST_TMP/machine-id dsync 0 bad4
	json_ok "j['device'] == 'abc123'" "$TEST_TMP/s4/status.json"
	expect_exit 2 "$DEVICE" --config bad4.json frobnicate
}

# A broker with a password on loopback (mosquitto from Debian): the status
# of each sync is its retained message; a wrong password is said (exit 3)
# and the update itself stands.
t_status_over_mqtt() {
	local port
	broker_start
	port=$MQ_PORT
	publish rel2
	config mq ", \"mqtt\": {\"host\": \"127.0.0.1\", \"port\": $port, \"username\": \"devices\", \"password_env\": \"MQ_PASS\"}"
	MQ_PASS=$MQ_SECRET dsync 0 mq
	expect_retained_status mq
	json_ok "j['release'] == 2 and j['health'] == 'pass'" "$TEST_TMP/mq-msg.json"
	MQ_PASS=wrong dsync 3 mq
	expect_stderr_contains "status not published: the MQTT broker 127.0.0.1:$port refused the connection: Connection Refused: not authorised."
	expect_stdout_contains "up to date:"
	config mq2 ', "mqtt": {"host": "127.0.0.1", "qos": 2}'
	dsync 2 mq2
	expect_stderr_contains "unknown key 'mqtt.qos'"
}

# The status as a POST to status_url: the receiver gets status.json's
# bytes signed as the deploy webhooks are (HMAC-SHA256 under the secret of
# status_secret_env); an endpoint that keeps failing is said on stderr and
# is exit 3 with the update standing; no secret variable is exit 2, and a
# status_url without status_secret_env is a config error.
t_status_over_http() {
	publish rel2
	config http ", \"status_url\": \"$REC/fleet/status?token=abc\", \"status_secret_env\": \"ST_SECRET\""
	local n
	n=$(rec_count)
	ST_SECRET=hush-$$ dsync 0 http
	[ "$(rec_count)" = $((n + 1)) ] || fail "not one POST: $(tail -n +$((n + 1)) "$REC_LOG")"
	rec_check $((n + 1)) "r['method'] == 'POST' and r['path'] == '/fleet/status?token=abc' and \
r['body'] == open('$TEST_TMP/http/status.json').read() and b['release'] == 2 and \
r['headers']['content-type'] == 'application/json' and r['headers']['x-modelgate-event'] == 'status' and \
r['headers']['x-modelgate-signature-256'] == 'sha256=' + hmac.new(b'hush-$$', r['body'].encode(), hashlib.sha256).hexdigest()"
	recorder_control '{"fail_paths": ["/fleet/"]}'
	ST_SECRET=hush-$$ dsync 3 http
	expect_stdout_contains "up to date:"
	expect_stderr_contains "status not posted: "
	expect_stderr_contains "127.0.0.1:"
	recorder_control '{"fail_paths": []}'
	dsync 2 http
	expect_stderr_contains "status not posted: status_url: the secret variable 'ST_SECRET' is not set"
	config http2 ", \"status_url\": \"$REC/s\""
	dsync 2 http2
	expect_stderr_contains "'status_url' needs 'status_secret_env' (the status is signed)"
	config http3 ", \"status_url\": \"ftp://x/s\", \"status_secret_env\": \"ST_SECRET\""
	dsync 2 http3
	expect_stderr_contains "'status_url': 'ftp://x/s' is not an http:// or https:// URL"
}

# A download killed half-way goes on from its last byte at the next sync
# (the partial file is kept in the state directory; the registry is asked
# for the rest with Range), and the device runs the old release meanwhile.
t_killed_download_resumes() {
	publish rel2
	config kd
	dsync 0 kd
	proxy_start stall
	sed "s|$REG/|$PROXY/|" kd.json >kd-proxy.json
	publish rel4
	"$DEVICE" --config kd-proxy.json sync --once >kd.out 2>kd.err &
	local pid=$!
	wait_stalled
	sleep 0.5 # what the proxy sent reaches the partial file
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	proxy_stop
	[ "$(current kd)" = slots/a ] && [ -f "$TEST_TMP/kd/slots/a/manifest.json" ] ||
		fail "the device does not run its complete old release"
	local part have size
	part=$(ls "$TEST_TMP"/kd/download/*.part) || fail "no partial download kept: $(ls -R "$TEST_TMP/kd/download")"
	have=$(stat -c %s "$part")
	size=$(stat -c %s rel4.tar.zst)
	[ "$have" -gt 0 ] && [ "$have" -lt "$size" ] || fail "the partial download has $have of $size bytes"
	proxy_start pass
	sed "s|$REG/|$PROXY/|" kd.json >kd-proxy.json
	dsync 0 kd-proxy
	grep -E "^GET /v2/acme/kws/blobs/sha256:[0-9a-f]+ 0 206 bytes=$have-\$" "$PROXY_LOG" >/dev/null ||
		fail "the rest was not asked for from byte $have: $(grep blobs "$PROXY_LOG")"
	proxy_stop
	[ "$(current kd)" = slots/b ] || fail "current is '$(current kd)', not slots/b"
	status_ok "j['release'] == 4 and j['health'] == 'pass'" kd
	cmp "$TEST_TMP/kd/current/files/weights.bin" weights.bin || fail "the weights differ"
	[ -z "$(ls -A "$TEST_TMP/kd/download")" ] || fail "the download was not cleared"
}

# A registry that cannot be reached is exit 3, said in status.json, and the
# device runs on.
t_registry_down_is_recorded() {
	publish rel2
	config down
	dsync 0 down
	local port
	port=$(free_port)
	sed "s|$REG/|localhost:$port/|" down.json >down-gone.json
	dsync 3 down-gone
	expect_stderr_contains "localhost:$port"
	status_ok "j['release'] == 2 and j['health'] == 'pass' and 'localhost:$port' in j['last_error']" down
	[ "$(current down)" = slots/a ] || fail "current moved"
}

# wait_release DIR N: status.json of DIR says release N within 20 s
wait_release() {
	local i
	for i in $(seq 200); do
		"$PY" -c "import json,sys; sys.exit(json.load(open('$TEST_TMP/$1/status.json'))['release'] != $2)" \
			2>/dev/null && return 0
		sleep 0.1
	done
	fail "'$1' did not reach release $2: $(cat "$TEST_TMP/$1/status.json" 2>&1)"
}

# `sync` without --once is the service: it polls on, and follows the tag.
t_service_follows_the_tag() {
	publish rel2
	config svc ', "poll_interval": 1, "poll_jitter": 0'
	"$DEVICE" --config svc.json sync >svc.out 2>svc.err &
	svc_pid=$!
	trap 'kill $svc_pid 2>/dev/null; wait $svc_pid 2>/dev/null' EXIT # the check's own: a subshell
	wait_release svc 2
	publish rel3
	wait_release svc 3
	kill -0 "$svc_pid" 2>/dev/null || fail "the service ended: $(cat svc.err)"
	[ "$(current svc)" = slots/b ] || fail "current is '$(current svc)', not slots/b"
}

# make_cert NAME CN [SAN]: NAME.key and NAME.crt signed by ca (made first)
make_cert() {
	openssl req -newkey rsa:2048 -nodes -subj "/CN=$2" -keyout "$1.key" -out "$1.csr" >/dev/null 2>&1 &&
		openssl x509 -req -in "$1.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 \
			${3:+-extfile <(printf 'subjectAltName=%s\n' "$3")} -out "$1.crt" >/dev/null 2>&1 ||
		fail "openssl could not make $1.crt"
}

# The broker over TLS that wants a client certificate: the device checks
# the broker against ca_file and shows its own certificate; another CA is
# refused (exit 3).
t_status_over_mqtt_tls() {
	need mosquitto mosquitto
	need mosquitto_sub mosquitto-clients
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=fleet-ca -keyout ca.key -out ca.crt \
		>/dev/null 2>&1 || fail "openssl could not make a CA"
	make_cert broker localhost "DNS:localhost,IP:127.0.0.1"
	make_cert device dev-tls
	local port
	port=$(free_port)
	printf 'listener %s 127.0.0.1\ncafile %s\ncertfile %s\nkeyfile %s\nrequire_certificate true\nallow_anonymous true\npersistence false\nuser %s\n' \
		"$port" "$TEST_TMP/ca.crt" "$TEST_TMP/broker.crt" "$TEST_TMP/broker.key" "$(id -un)" >mqt.conf
	mosquitto -c mqt.conf >mqt.log 2>&1 &
	_started $!
	local sub="mosquitto_sub -h localhost -p $port --cafile ca.crt --cert device.crt --key device.key"
	MQ_LOG=mqt.log mqtt_ready -h localhost -p "$port" --cafile ca.crt --cert device.crt --key device.key
	publish rel2
	config tls ", \"mqtt\": {\"host\": \"localhost\", \"port\": $port, \"ca_file\": \"$TEST_TMP/ca.crt\", \"cert_file\": \"$TEST_TMP/device.crt\", \"key_file\": \"$TEST_TMP/device.key\"}"
	dsync 0 tls
	$sub -t 'modelgate/kws-prod/dev-tls/status' -C 1 -W 5 >tls-msg.json || fail "no retained status over TLS: $(cat mqt.log)"
	json_ok "j == json.load(open('$TEST_TMP/tls/status.json'))" tls-msg.json
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other-ca -keyout other.key -out other.crt \
		>/dev/null 2>&1 || fail "openssl could not make another CA"
	sed "s|$TEST_TMP/ca.crt|$TEST_TMP/other.crt|" tls.json >tls-other.json
	dsync 3 tls-other
	expect_stderr_contains "status not published: cannot reach the MQTT broker localhost:$port: A TLS error occurred"
}

check converges t_converges
check unchanged-poll-is-one-head t_unchanged_poll_is_one_head
check poll-through-bearer-tokens t_poll_through_bearer_tokens
check refusals t_refusals
check failed-smoke-check-switches-back t_failed_smoke_check_switches_back
check smoke-tolerances-come-with-the-release t_smoke_tolerances_come_with_the_release
check failed-health-check-switches-back t_failed_health_check_switches_back
check smoke-limits-from-config t_smoke_limits_from_config
check smoke-limits-from-report t_smoke_limits_from_report
check kill-at-each-step t_kill_at_each_step
check killed-download-resumes t_killed_download_resumes
check registry-down-is-recorded t_registry_down_is_recorded
check service-follows-the-tag t_service_follows_the_tag
check config-checked t_config_checked
check status-over-mqtt t_status_over_mqtt
check status-over-mqtt-tls t_status_over_mqtt_tls
check status-over-http t_status_over_http
finish
