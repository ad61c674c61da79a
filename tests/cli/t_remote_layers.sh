# Artifacts of many layers against a real registry (docker-registry on
# loopback): 1,100 small files pull and copy back under `ulimit -n 256`,
# with a bounded number of threads (a file, a thread and buffers exist only
# for the few downloads in progress); push refuses to make a manifest of
# more layers than the cap (4,096). A registry that sends one is in
# t_remote_hostile.sh.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_registry.sh"

CAP=4096
registry_start
export MODELGATE_INSECURE_REGISTRIES=$REG
mkdir many
for i in $(seq -w 0 1099); do echo "file $i" >"many/f$i.txt"; done
must mg push "$REG/team/many:v1" many/*
MANY=$(cat "$OUT")

# mg_limited CMD...: modelgate with at most 256 open files
mg_limited() { bash -c 'ulimit -n 256 && exec "$0" "$@"' "$MODELGATE" "$@"; }

t_pull_many_files_under_fd_limit() {
	expect_exit 0 mg_limited pull "$REG/team/many:v1" -o out
	[ "$(ls out | wc -l)" -eq 1100 ] || fail "$(ls out | wc -l) files pulled, expected 1100"
	expect_same_file many/f0000.txt out/f0000.txt
	expect_same_file many/f1099.txt out/f1099.txt
	[ -z "$(ls -A out | grep '^\.tmp-')" ] || fail "temporary files left in out/"
}

t_copy_many_files_under_fd_limit() {
	expect_exit 0 mg_limited copy "$REG/team/many:v1" many:v1
	[ "$(cat "$OUT")" = "$MANY" ] || fail "copy printed $(cat "$OUT"), expected $MANY"
	expect_exit 0 mg fsck
	expect_exit 0 mg pull many:v1 -o local
	expect_same_file many/f0547.txt local/f0547.txt
	[ -z "$(temp_files)" ] || fail "temporary files left in the store"
}

# The most threads a pull of 1,100 layers has at once (sampled): the main
# one, at most 4 writers and what libcurl starts for name lookups.
t_pull_threads_are_bounded() {
	"$MODELGATE" pull "$REG/team/many:v1" -o threads >/dev/null 2>&1 &
	local pid=$! max=0 t
	while t=$(awk '/^Threads:/ {print $2}' "/proc/$pid/status" 2>/dev/null) && [ -n "$t" ]; do
		[ "$t" -gt "$max" ] && max=$t
		sleep 0.01
	done
	wait "$pid" || fail "the pull failed"
	[ "$(ls threads | wc -l)" -eq 1100 ] || fail "$(ls threads | wc -l) files pulled"
	[ "$max" -le 12 ] || fail "the pull ran $max threads at once"
}

t_push_refuses_more_files_than_the_cap() {
	mkdir more
	for i in $(seq 0 "$CAP"); do : >"more/f$i"; done
	expect_exit 2 mg push "$REG/team/more:v1" more/*
	expect_error "cannot push $((CAP + 1)) files" "at most $CAP"
	expect_exit 2 mg push more:v1 more/*
	expect_error "cannot push $((CAP + 1)) files"
}

check pull_many_files_under_fd_limit t_pull_many_files_under_fd_limit
check copy_many_files_under_fd_limit t_copy_many_files_under_fd_limit
check pull_threads_are_bounded t_pull_threads_are_bounded
check push_refuses_more_files_than_the_cap t_push_refuses_more_files_than_the_cap
finish
