# Artifacts of many layers against a real registry (docker-registry on
# loopback): 1,100 small files pull and copy back under `ulimit -n 256`,
# with a bounded number of threads (a file, a thread and buffers exist only
# for the few downloads in progress); a manifest of more layers than the
# cap (4,096) is refused by pull, copy and inspect, exit 2, naming both
# numbers, and push refuses to make one.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_registry.sh"

CAP=4096
registry_start
export MODELGATE_INSECURE_REGISTRIES=$REG
mkdir many
for i in $(seq -w 0 1099); do echo "file $i" >"many/f$i.txt"; done
must mg push "$REG/team/many:v1" many/*
MANY=$(cat "$OUT")

# A manifest of N layers, all the one blob of team/one:v1 under their own
# titles, PUT straight to the registry as team/huge:N.
must mg push "$REG/team/one:v1" many/f0000.txt
ONE=$(cat "$OUT")
curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
	"http://$REG/v2/team/one/manifests/v1" >one.json || fail "cannot read team/one:v1"
put_layers() {
	"$PY" -c 'import json, sys
m = json.load(sys.stdin)
layer = m["layers"][0]
m["layers"] = [dict(layer, annotations={"org.opencontainers.image.title": "f%05d" % i})
               for i in range(int(sys.argv[1]))]
json.dump(m, sys.stdout)' "$1" <one.json >"huge$1.json"
	# the registry finds the blobs in team/huge
	curl -sf -X POST "http://$REG/v2/team/huge/blobs/uploads/?mount=$(json_get 'j["layers"][0]["digest"]' one.json)&from=team/one" -o /dev/null &&
		curl -sf -X POST "http://$REG/v2/team/huge/blobs/uploads/?mount=$(json_get 'j["config"]["digest"]' one.json)&from=team/one" -o /dev/null &&
		curl -sf -X PUT -H 'Content-Type: application/vnd.oci.image.manifest.v1+json' \
			--data-binary "@huge$1.json" "http://$REG/v2/team/huge/manifests/n$1" -o /dev/null ||
		fail "cannot put a manifest of $1 layers"
}
put_layers $((CAP + 1))
put_layers $CAP

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

t_pull_refuses_too_many_layers() {
	expect_exit 2 mg pull "$REG/team/huge:n$((CAP + 1))" -o huge
	expect_error "lists $((CAP + 1)) layers" "more than the $CAP"
	[ -z "$(ls -A huge 2>/dev/null)" ] || fail "the refused pull left files in huge/"
	MODELGATE_HOME=$TEST_TMP/store2 expect_exit 2 mg copy "$REG/team/huge:n$((CAP + 1))" huge:v1
	expect_error "lists $((CAP + 1)) layers" "more than the $CAP"
	[ ! -d "$TEST_TMP/store2/blobs" ] || [ "$(count_blobs "$TEST_TMP/store2")" -eq 0 ] ||
		fail "the refused copy stored blobs"
	expect_exit 2 mg inspect "$REG/team/huge:n$((CAP + 1))"
	expect_error "lists $((CAP + 1)) layers"
}

t_manifest_at_the_cap_is_read() {
	expect_exit 0 mg inspect --json "$REG/team/huge:n$CAP"
	json_ok "len(j['manifest']['layers']) == $CAP"
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
check pull_refuses_too_many_layers t_pull_refuses_too_many_layers
check manifest_at_the_cap_is_read t_manifest_at_the_cap_is_read
check push_refuses_more_files_than_the_cap t_push_refuses_more_files_than_the_cap
finish
