# modelgate run --target ssh://... against a real OpenSSH server on a
# loopback port (lib_sshd.sh): the agent and ONNX Runtime are copied once,
# by digest; the second run copies nothing and sends no model bytes; a
# dropped connection is exit 3 naming the target; an IPv6 host goes in
# brackets (ssh itself cannot resolve "[::1]", so the brackets must go).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_sshd.sh"

start_sshd
export MODELGATE_SSH_OPTS="-F $SSH_CONFIG"
export MODELGATE_REMOTE_CACHE=$TEST_TMP/remote
export MODELGATE_AGENT_CACHE=$TEST_TMP/local-cache
DS=$EXAMPLES/dataset
RUN="--inputs $DS --expect $DS --iterations 20 --min-time 0 --json"

t_first_run_copies_agent_and_model() {
	expect_exit 0 mg run "$EXAMPLES/model.onnx" --target ssh://mgtest $RUN
	json_ok "j['target']['kind'] == 'ssh' and j['target']['spec'] == 'ssh://mgtest'"
	json_ok "j['target']['bytes_uploaded'] > 10000000 and not j['target']['emulated']"
	json_ok "j['model']['bytes_sent'] == 10340 and j['agent']['bytes_put'] == 10340"
	json_ok "j['expect']['ok'] and j['latency']['n'] >= 20"
	[ -x "$(echo "$MODELGATE_REMOTE_CACHE"/bin/*/modelgate-agent)" ] || fail "no agent under $MODELGATE_REMOTE_CACHE/bin"
	[ -f "$MODELGATE_REMOTE_CACHE/blobs/${DIGEST_MODEL#sha256:}" ] || fail "the model is not in the remote cache"
}

t_second_run_sends_nothing() {
	expect_exit 0 mg run "$EXAMPLES/model.onnx" --target ssh://mgtest $RUN
	json_ok "j['target']['bytes_uploaded'] == 0"
	json_ok "j['model']['bytes_sent'] == 0 and j['model']['cached'] and j['agent']['bytes_put'] == 0"
	# the agent received only the small request frames
	json_ok "j['agent']['bytes_in'] < 4000"
	json_ok "j['expect']['ok']"
}

t_user_host_port_form() {
	local opts="-i $SSHD_DIR/user_key -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=$SSHD_DIR/known_hosts -o LogLevel=ERROR"
	MODELGATE_SSH_OPTS=$opts expect_exit 0 mg run "$EXAMPLES/model.onnx" \
		--target "ssh://root@127.0.0.1:$SSHD_PORT" $RUN
	json_ok "j['target']['bytes_uploaded'] == 0 and j['model']['bytes_sent'] == 0"
}

t_ipv6_host_in_brackets() {
	local opts="-i $SSHD_DIR/user_key -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=$SSHD_DIR/known_hosts -o LogLevel=ERROR"
	MODELGATE_SSH_OPTS=$opts expect_exit 0 mg run "$EXAMPLES/model.onnx" \
		--target "ssh://root@[::1]:$SSHD_PORT" $RUN
	json_ok "j['target']['kind'] == 'ssh' and j['target']['spec'] == 'ssh://root@[::1]:$SSHD_PORT'"
	local bad
	for bad in "ssh://root@::1:$SSHD_PORT" "ssh://[::1" "ssh://[::1]x" "ssh://host:12a" "ssh://-oProxyCommand=x"; do
		expect_exit 2 mg run "$EXAMPLES/model.onnx" --target "$bad" $RUN
		expect_error "target '$bad'"
	done
}

t_cache_limit_holds_on_the_device() {
	local v1 v2 one="--inputs $DS --iterations 1 --min-time 0"
	v1=$(sha256_of "$EXAMPLES/model.onnx")
	v2=$(sha256_of "$EXAMPLES/model_v2.onnx")
	MODELGATE_AGENT_CACHE_MAX=15000 expect_exit 0 mg run "$EXAMPLES/model.onnx" --target ssh://mgtest $one
	expect_file "$MODELGATE_REMOTE_CACHE/blobs/$v1"
	MODELGATE_AGENT_CACHE_MAX=15000 expect_exit 0 mg run "$EXAMPLES/model_v2.onnx" --target ssh://mgtest $one
	expect_file "$MODELGATE_REMOTE_CACHE/blobs/$v2"
	expect_no_file "$MODELGATE_REMOTE_CACHE/blobs/$v1"
}

t_unreachable_host_is_exit_3() {
	local port
	port=$(free_port)
	MODELGATE_SSH_OPTS="-F $SSH_CONFIG -o ConnectTimeout=5" expect_exit 3 mg run "$EXAMPLES/model.onnx" \
		--target "ssh://root@127.0.0.1:$port" --iterations 1 --min-time 0
	expect_error "ssh://root@127.0.0.1:$port"
}

t_dropped_connection_is_exit_3() {
	# sshd ends the connection (and so the agent) while it measures: a
	# second after this run's session appears (sessions of earlier checks
	# may still be closing; a loaded machine may take long to set it up)
	local sshd before
	sshd=$(cat "$SSHD_DIR/sshd.pid")
	before=" $(pgrep -d ' ' -P "$sshd" -f 'sshd: root') "
	(
		for _ in $(seq 300); do
			for p in $(pgrep -P "$sshd" -f 'sshd: root'); do
				case $before in *" $p "*) ;; *) break 2 ;; esac
			done
			sleep 0.1
		done
		sleep 1
		date +%s >"$TEST_TMP/killed_at"
		pkill -KILL -P "$sshd" -f 'sshd: root'
	) &
	expect_exit 3 mg run "$EXAMPLES/model.onnx" --target ssh://mgtest --min-time 30
	expect_error "target 'ssh://mgtest'"
	wait
	local took=$(($(date +%s) - $(cat "$TEST_TMP/killed_at")))
	[ "$took" -lt 15 ] || fail "exit $took s after the connection dropped"
}

# a cancelled job leaves no agent running on the device: the ssh client
# dies with modelgate, and the agent with its closed session
t_killed_run_leaves_no_agent() {
	killed_run_leaves_no_agent "$MODELGATE_REMOTE_CACHE/bin/" TERM \
		run "$EXAMPLES/model.onnx" --target ssh://mgtest --min-time 60 --iterations 100000000
}

DIGEST_MODEL=sha256:$(sha256_of "$EXAMPLES/model.onnx")
check first_run_copies_agent_and_model t_first_run_copies_agent_and_model
check second_run_sends_no_model_bytes t_second_run_sends_nothing
check user_at_host_port_form t_user_host_port_form
check ipv6_host_in_brackets t_ipv6_host_in_brackets
check cache_limit_holds_on_the_device t_cache_limit_holds_on_the_device
check unreachable_host_is_exit_3 t_unreachable_host_is_exit_3
check dropped_connection_is_exit_3_naming_target t_dropped_connection_is_exit_3
check killed_run_leaves_no_agent t_killed_run_leaves_no_agent
finish
