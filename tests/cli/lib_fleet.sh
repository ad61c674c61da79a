# Fleet tests' helpers (after lib.sh and lib_registry.sh):
#   mqtt_start [USER PASS]   a mosquitto broker on loopback (anonymous, or
#                            with that one user): sets MQ_PORT; stopped with
#                            the registries (_started)
#   mqtt_ready ARGS...       waits until mosquitto_sub ARGS can connect
#                            (MQ_LOG: the broker's log, said if it cannot)
#   fleet_release REPO N MODEL KEY
#                            release N of the fleet in REPO (needs
#                            lib_deploy.sh): MODEL pushed as REPO:vN with a
#                            passing report, bundled with --release N, signed
#                            by KEY, pushed as REPO:relN with --artifact-type
#                            bundle; sets REL to that release's digest

mqtt_ready() {
	local i
	for i in $(seq 100); do
		mosquitto_sub "$@" -t x -W 1 -C 1 2>/dev/null
		[ $? = 27 ] && return 0 # 27: timed out waiting for a message, so it connected
		sleep 0.1
	done
	fail "mosquitto did not start: $(cat "${MQ_LOG:-$TEST_TMP/mq.log}")"
}

mqtt_start() {
	need mosquitto mosquitto
	need mosquitto_sub mosquitto-clients
	MQ_PORT=$(free_port)
	# (as root, mosquitto would become the user mosquitto, who cannot read $TEST_TMP)
	printf 'listener %s 127.0.0.1\npersistence false\nuser %s\n' "$MQ_PORT" "$(id -un)" >"$TEST_TMP/mq.conf"
	if [ $# = 2 ]; then
		mosquitto_passwd -b -c "$TEST_TMP/mq.passwd" "$1" "$2" 2>/dev/null || fail "mosquitto_passwd failed"
		printf 'allow_anonymous false\npassword_file %s\n' "$TEST_TMP/mq.passwd" >>"$TEST_TMP/mq.conf"
	else
		printf 'allow_anonymous true\n' >>"$TEST_TMP/mq.conf"
	fi
	mosquitto -c "$TEST_TMP/mq.conf" >"$TEST_TMP/mq.log" 2>&1 &
	_started $!
	if [ $# = 2 ]; then
		mqtt_ready -h 127.0.0.1 -p "$MQ_PORT" -u "$1" -P "$2"
	else
		mqtt_ready -h 127.0.0.1 -p "$MQ_PORT"
	fi
}

fleet_release() {
	must mg push "$1:v$2" "$3"
	make_report "$(cat "$OUT")" pass "$TEST_TMP/report-v$2.json"
	must mg package "$1:v$2" --report "$TEST_TMP/report-v$2.json" --sign "$4" --release "$2" \
		-o "$TEST_TMP/rel$2.tar.zst" --no-git
	must mg push "$1:rel$2" "$TEST_TMP/rel$2.tar.zst" --artifact-type bundle --no-git
	REL=$(cat "$OUT")
}
