# Helpers for the registry tests (tests/cli/t_remote_*.sh), sourced after
# lib.sh. They start Debian's docker-registry (distribution 2.8) on a free
# loopback port with a throwaway config.yml (filesystem storage, deletes on),
# optionally with htpasswd basic auth behind TLS with a self-signed
# certificate made here, and the fault proxy (faultproxy.py) in front of it.
# Everything started is stopped by an EXIT trap.
#
#   registry_start [auth]   sets REG (localhost:PORT), REG_DIR, REG_LOG; with
#                           auth also REG_USER, REG_PASS, REG_CA (the cert)
#   proxy_start MODE        a fault proxy in front of REG: sets PROXY
#                           (localhost:PORT) and PROXY_LOG; FAULTPROXY_TLS and
#                           FAULTPROXY_AUTH reach it from the environment, and
#                           a mode with another host writes that host's port
#                           to $TEST_TMP/proxy.port.other
#   proxy_stop              stops the proxy
#   wait_stalled            until the proxy (mode stall) has sent half a blob
#   upload_bytes FILE       request body bytes sent to /blobs/uploads in a
#                           proxy log

_pids=""
_stop() {
	local p
	for p in "$@"; do kill "$p" 2>/dev/null; done
	for p in "$@"; do wait "$p" 2>/dev/null; done
}
_cleanup() { _stop $_pids; }
trap _cleanup EXIT

# _started PID: a service to stop when the file ends or, inside a check (a
# subshell, whose EXIT trap is its own), when the check ends: only what the
# check started, not the file's (which later checks use)
_started() {
	if [ "$BASH_SUBSHELL" -gt 0 ]; then
		_check_pids="${_check_pids:-} $1"
		trap '_stop ${_check_pids:-}' EXIT
	else
		_pids="$_pids $1"
	fi
}

free_port() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_http URL [CURL_OPTS...]: until URL answers at all (any status), for at
# most about 20 s.
wait_http() {
	local url=$1 i
	shift
	for i in $(seq 200); do
		curl -s -o /dev/null "$@" "$url" && return 0
		sleep 0.1
	done
	fail "'$url' did not answer"
}

# _registry_config PORT: the config.yml every test registry starts from
# (filesystem storage in REG_DIR, deletes on, plain HTTP on PORT).
_registry_config() {
	{
		echo "version: 0.1"
		echo "log: {level: info}"
		echo "storage: {filesystem: {rootdirectory: $REG_DIR/data}, delete: {enabled: true}}"
		echo "http:"
		echo "  addr: 127.0.0.1:$1"
	} >"$REG_DIR/config.yml"
}

# _registry_serve PORT: starts docker-registry with REG_DIR's config; sets REG.
_registry_serve() {
	docker-registry serve "$REG_DIR/config.yml" >"$REG_LOG" 2>&1 &
	_started $!
	REG=localhost:$1
}

registry_start() {
	local auth=${1:-} port
	need docker-registry docker-registry
	REG_DIR=$TEST_TMP/registry
	REG_LOG=$REG_DIR/registry.log
	mkdir -p "$REG_DIR/data"
	port=$(free_port)
	_registry_config "$port"
	if [ "$auth" = auth ]; then
		REG_USER=ci-bot
		REG_PASS=s3cret-Pa55word-$$
		htpasswd -Bbn "$REG_USER" "$REG_PASS" >"$REG_DIR/htpasswd" 2>/dev/null ||
			fail "htpasswd failed"
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=localhost \
			-addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
			-keyout "$REG_DIR/key.pem" -out "$REG_DIR/cert.pem" >/dev/null 2>&1 ||
			fail "openssl could not make a certificate"
		REG_CA=$REG_DIR/cert.pem
		{
			echo "  tls: {certificate: $REG_DIR/cert.pem, key: $REG_DIR/key.pem}"
			echo "auth: {htpasswd: {realm: modelgate-test, path: $REG_DIR/htpasswd}}"
		} >>"$REG_DIR/config.yml"
	fi
	_registry_serve "$port"
	if [ "$auth" = auth ]; then
		wait_http "https://127.0.0.1:$port/v2/" --cacert "$REG_CA"
	else
		wait_http "http://127.0.0.1:$port/v2/"
	fi
}

proxy_start() {
	local mode=$1 upstream=${REG#localhost:}
	PROXY_LOG=$TEST_TMP/proxy-$mode.log
	: >"$PROXY_LOG"
	rm -f "$TEST_TMP/proxy.port" "$TEST_TMP/proxy.port.other"
	"$PY" "$MG_SRCDIR/tests/cli/faultproxy.py" "$upstream" "$mode" "$PROXY_LOG" \
		"$TEST_TMP/proxy.port" 2>"$TEST_TMP/proxy.err" &
	_proxy_pid=$!
	if [ "$BASH_SUBSHELL" -gt 0 ]; then # inside a check: traps are not inherited
		# and a registry this check started had its own trap: stop it too
		# (not the file's, which later checks use)
		trap 'proxy_stop; for p in ${_check_pids:-}; do kill "$p" 2>/dev/null; done' EXIT
	else
		_pids="$_pids $_proxy_pid"
	fi
	local i
	for i in $(seq 200); do
		[ -s "$TEST_TMP/proxy.port" ] && break
		sleep 0.05
	done
	[ -s "$TEST_TMP/proxy.port" ] || fail "the fault proxy did not start: $(cat "$TEST_TMP/proxy.err")"
	PROXY=localhost:$(cat "$TEST_TMP/proxy.port")
}

proxy_stop() {
	kill "$_proxy_pid" 2>/dev/null
	wait "$_proxy_pid" 2>/dev/null
	return 0
}

wait_stalled() {
	local i
	for i in $(seq 400); do
		grep -q '^stalled$' "$PROXY_LOG" && return 0
		sleep 0.05
	done
	fail "the transfer never reached the middle of the blob"
}

upload_bytes() {
	awk '$2 ~ /\/blobs\/uploads/ { n += $3 } END { print n + 0 }' "$1"
}

# make_blob FILE MB: a file of MB MiB of pseudo-random bytes.
make_blob() {
	head -c "$(($2 * 1048576))" /dev/urandom >"$1"
}

# registry_start_token: a docker-registry in `auth: token:` mode (plain HTTP
# on loopback) and its token service, tokenserver.py, with a key and a
# self-signed certificate made here: the service signs its tokens with the
# key, the registry trusts the certificate (rootcertbundle). REG_USER with
# REG_PASS gets pull, push and delete, anyone without credentials pull only.
# Sets REG (localhost:PORT), REG_DIR, REG_LOG, REG_USER, REG_PASS,
# TOKEN_URL (the realm), TOKEN_LOG (one line per token request) and
# TOKEN_PID (the token service's process).
registry_start_token() {
	local port i
	need docker-registry docker-registry
	REG_DIR=$TEST_TMP/registry-token
	REG_LOG=$REG_DIR/registry.log
	TOKEN_LOG=$REG_DIR/tokens.log
	REG_USER=ci-bot
	REG_PASS=t0ken-Pa55word-$$
	mkdir -p "$REG_DIR/data"
	: >"$TOKEN_LOG"
	openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=modelgate-test-tokens \
		-keyout "$REG_DIR/token-key.pem" -out "$REG_DIR/token-cert.pem" >/dev/null 2>&1 ||
		fail "openssl could not make the token signing certificate"
	rm -f "$REG_DIR/token.port"
	"$PY" "$MG_SRCDIR/tests/cli/tokenserver.py" "$REG_DIR/token-key.pem" "$REG_DIR/token-cert.pem" \
		modelgate-test-issuer modelgate-test-registry "$REG_USER" "$REG_PASS" "$TOKEN_LOG" \
		"$REG_DIR/token.port" 2>"$REG_DIR/tokenserver.err" &
	TOKEN_PID=$!
	_started "$TOKEN_PID"
	for i in $(seq 200); do
		[ -s "$REG_DIR/token.port" ] && break
		sleep 0.05
	done
	[ -s "$REG_DIR/token.port" ] ||
		fail "the token service did not start: $(cat "$REG_DIR/tokenserver.err")"
	TOKEN_URL=http://127.0.0.1:$(cat "$REG_DIR/token.port")/token
	port=$(free_port)
	_registry_config "$port"
	{
		echo "auth:"
		echo "  token:"
		echo "    realm: $TOKEN_URL"
		echo "    service: modelgate-test-registry"
		echo "    issuer: modelgate-test-issuer"
		echo "    rootcertbundle: $REG_DIR/token-cert.pem"
	} >>"$REG_DIR/config.yml"
	_registry_serve "$port"
	wait_http "http://127.0.0.1:$port/v2/"
}
