# Sourced by every bench/bench_*.sh (run by bench/run.sh): strict mode, die()
# naming the benchmark, and the settings run.sh passes in the environment.
set -euo pipefail

bench=$(basename "$0" .sh)
die() {
	echo "$bench: $*" >&2
	exit 1
}

: "${MODELGATE:?set MODELGATE to the modelgate binary}"
out=${BENCH_OUT:-/dev/stdout}
raw=${BENCH_RAW:-}
runs=${BENCH_RUNS:-5}
warmup=${BENCH_WARMUP:-1}
size_mib=${BENCH_SIZE_MIB:-1024}
tmpbase=${BENCH_TMPDIR:-${TMPDIR:-/tmp}}

# free_port: a free TCP port on loopback.
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_registry DIR: Debian's docker-registry on a free loopback port, its
# storage in DIR/reg and its log (every request, "response completed") in
# DIR/registry.log; sets REG (localhost:PORT) and REG_PID, and returns once
# it answers. The caller stops it.
start_registry() {
	local port
	port=$(free_port)
	REG=localhost:$port
	cat >"$1/registry.yml" <<YML
version: 0.1
log: {level: info}
storage: {filesystem: {rootdirectory: $1/reg}, delete: {enabled: true}}
http: {addr: 127.0.0.1:$port}
YML
	docker-registry serve "$1/registry.yml" >"$1/registry.log" 2>&1 &
	REG_PID=$!
	for _ in $(seq 100); do curl -s -o /dev/null "http://$REG/v2/" && return 0; sleep 0.1; done
	die "docker-registry did not start: $(tail -3 "$1/registry.log")"
}
