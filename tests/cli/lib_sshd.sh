# A throwaway OpenSSH server on a loopback port, for the ssh:// target tests
# (source after lib.sh). start_sshd creates a fresh host key and user key,
# an authorized_keys file and a config in $TEST_TMP/sshd, starts
# /usr/sbin/sshd on a free port, and writes a client config
# $SSH_CONFIG with the host alias "mgtest" (user root, the new key, no
# known_hosts prompts). stop_sshd (an EXIT trap set by start_sshd) ends it.
# Needs root and Debian's openssh-server (and -client): without them the
# test fails at set-up, naming what is missing.

SSHD_DIR=$TEST_TMP/sshd
SSH_CONFIG=$SSHD_DIR/ssh_config
SSHD_PORT=
[ "$(id -u)" = 0 ] || fail "starting the test sshd needs root"
[ -x /usr/sbin/sshd ] || fail "'/usr/sbin/sshd' is missing: install Debian's openssh-server (make deps-test installs it)"
need ssh openssh-client

free_port() {
	"$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

stop_sshd() {
	[ -f "$SSHD_DIR/sshd.pid" ] && kill "$(cat "$SSHD_DIR/sshd.pid")" 2>/dev/null
	rm -f "$SSHD_DIR/sshd.pid"
}

start_sshd() {
	mkdir -p "$SSHD_DIR" /run/sshd
	chmod 700 "$SSHD_DIR"
	ssh-keygen -q -t ed25519 -N '' -f "$SSHD_DIR/host_key" || fail "ssh-keygen (host key)"
	ssh-keygen -q -t ed25519 -N '' -f "$SSHD_DIR/user_key" || fail "ssh-keygen (user key)"
	cp "$SSHD_DIR/user_key.pub" "$SSHD_DIR/authorized_keys"
	SSHD_PORT=$(free_port)
	cat >"$SSHD_DIR/sshd_config" <<CONF
Port $SSHD_PORT
ListenAddress 127.0.0.1
ListenAddress [::1]
HostKey $SSHD_DIR/host_key
AuthorizedKeysFile $SSHD_DIR/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile $SSHD_DIR/sshd.pid
LogLevel ERROR
CONF
	cat >"$SSH_CONFIG" <<CONF
Host mgtest
	HostName 127.0.0.1
	Port $SSHD_PORT
	User root
	IdentityFile $SSHD_DIR/user_key
	IdentitiesOnly yes
	StrictHostKeyChecking no
	UserKnownHostsFile $SSHD_DIR/known_hosts
	LogLevel ERROR
CONF
	# -D: in the foreground (daemon() needs a /dev/null that some sandboxes lack)
	/usr/sbin/sshd -D -f "$SSHD_DIR/sshd_config" -E "$SSHD_DIR/sshd.log" </dev/null >/dev/null 2>&1 &
	echo $! >"$SSHD_DIR/sshd.pid"
	trap stop_sshd EXIT
	local i
	for i in $(seq 100); do
		ssh -F "$SSH_CONFIG" -o BatchMode=yes mgtest true 2>/dev/null && return 0
		sleep 0.05
	done
	fail "cannot log in to the test sshd on port $SSHD_PORT: $(tail -3 "$SSHD_DIR/sshd.log")"
}
