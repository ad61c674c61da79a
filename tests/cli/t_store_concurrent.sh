# Several modelgate processes on one store at once: pushes of different and
# of identical files, tag and rm edits of index.json, gc during pushes, and
# the first use of a new store. Processes are held at a gate (a flock) and
# released together, so they really do overlap.
. "$(dirname "$0")/lib.sh"

fixtures
for i in 1 2 3 4 5 6 7 8; do
	head -c $(((1 + i % 3) << 20)) /dev/urandom >"$FX/f$i.bin"
done
must mg ls # create the store before the checks (its first use is a check of its own)

GATE=$IO/gate.lock
PIDS=()
NAMES=()

gate_close() {
	PIDS=()
	NAMES=()
	exec 9>"$GATE"
	flock -x 9 || fail "cannot lock the gate"
}

# spawn NAME CMD...: starts CMD in the background, waiting at the gate; its
# output goes to $IO/NAME.out and $IO/NAME.err.
spawn() {
	local name=$1
	shift
	[ "$1" = mg ] && set -- "$MODELGATE" "${@:2}"
	(
		exec 9>&-
		flock -s "$GATE" true && exec "$@"
	) >"$IO/$name.out" 2>"$IO/$name.err" &
	PIDS+=("$!")
	NAMES+=("$name")
}

# gate_open_and_wait: releases every spawned process and waits for all of
# them; fails unless each exited 0.
gate_open_and_wait() {
	flock -u 9
	exec 9>&-
	local i rc bad=""
	for i in "${!PIDS[@]}"; do
		rc=0
		wait "${PIDS[$i]}" || rc=$?
		if [ "$rc" -ne 0 ]; then
			bad="$bad ${NAMES[$i]}(exit $rc: $(head -c 300 "$IO/${NAMES[$i]}.err"))"
		fi
	done
	: >"$IO/last_cmd"
	[ -z "$bad" ] || fail "concurrent commands failed:$bad"
}

expect_clean_store() {
	expect_exit 0 mg fsck --json
	json_ok 'j["problems"] == 0 and j["details"] == []'
	[ -z "$(temp_files)" ] || fail "temporary files left: $(temp_files)"
}

# expect_pulls REF=FILE...: each REF pulls byte-identical to FILE.
expect_pulls() {
	local spec ref file dir
	for spec in "$@"; do
		ref=${spec%%=*}
		file=${spec#*=}
		dir=$IO/pull-$(echo "$ref" | tr '/:' '__')
		rm -rf "$dir"
		expect_exit 0 mg pull -q "$ref" -o "$dir"
		expect_same_file "$file" "$dir/${file##*/}"
		rm -rf "$dir"
	done
}

tags_in_store() {
	mg ls --json | "$PY" -c 'import json, sys
for e in json.load(sys.stdin): print("%s:%s" % (e["repository"], e["tag"]))' | LC_ALL=C sort
}

t_different_files() {
	gate_close
	local i
	for i in 1 2 3 4; do
		spawn push$i mg push "para$i:v1" "$FX/f$i.bin"
	done
	spawn push5 mg push para5:v1 "$FX/model.onnx" "$FX/x.npy"
	gate_open_and_wait
	for i in 1 2 3 4 5; do
		grep -qE "$DIGEST_RE" "$IO/push$i.out" || fail "push$i printed no digest"
	done
	local want
	want=$(printf 'para%s:v1\n' 1 2 3 4 5)
	[ "$(tags_in_store | grep '^para')" = "$want" ] || fail "tags after the pushes: $(tags_in_store | tr '\n' ' ')"
	expect_clean_store
	expect_pulls "para1:v1=$FX/f1.bin" "para2:v1=$FX/f2.bin" "para3:v1=$FX/f3.bin" \
		"para4:v1=$FX/f4.bin" "para5:v1=$FX/model.onnx" "para5:v1=$FX/x.npy"
}

t_same_file() {
	gate_close
	local i
	for i in 1 2 3 4; do
		spawn same$i mg push --json "same:t$i" "$FX/f5.bin"
	done
	gate_open_and_wait
	local sha n=0 b
	sha=sha256:$(sha256_of "$FX/f5.bin")
	for i in 1 2 3 4; do
		json_ok "j['files_new'] + j['files_existed'] == 1" "$IO/same$i.out"
		expect_exit 0 mg inspect --json "same:t$i"
		json_ok "j['manifest']['layers'][0]['digest'] == '$sha'"
	done
	for b in "$(blobdir)"/*; do
		cmp -s "$b" "$FX/f5.bin" && n=$((n + 1))
	done
	[ "$n" -eq 1 ] || fail "the file's bytes are stored $n times"
	expect_clean_store
	expect_pulls "same:t1=$FX/f5.bin" "same:t2=$FX/f5.bin" "same:t3=$FX/f5.bin" "same:t4=$FX/f5.bin"
}

t_index_edits() {
	expect_exit 0 mg push base:v1 "$FX/model.onnx"
	gate_close
	local i
	for i in 1 2 3 4 5 6 7 8; do
		spawn tag$i mg tag base:v1 "t$i"
	done
	gate_open_and_wait
	local want
	want=$(printf 'base:t%s\n' 1 2 3 4 5 6 7 8; echo base:v1)
	[ "$(tags_in_store | grep '^base:')" = "$(echo "$want" | LC_ALL=C sort)" ] ||
		fail "a concurrent tag was lost: $(tags_in_store | grep '^base:' | tr '\n' ' ')"
	gate_close
	for i in 1 2 3 4 5 6; do
		spawn rm$i mg rm "base:t$i"
	done
	spawn tag9 mg tag base:v1 t9
	gate_open_and_wait
	[ "$(tags_in_store | grep '^base:' | tr '\n' ' ')" = "base:t7 base:t8 base:t9 base:v1 " ] ||
		fail "after concurrent rm and tag: $(tags_in_store | grep '^base:' | tr '\n' ' ')"
	expect_clean_store
}

t_gc_during_pushes() {
	local round i live=() gone=()
	for round in 1 2 3; do
		gate_close
		for i in 1 2 3 4; do
			spawn "p$round-$i" mg push "gc$i:r$round" "$FX/f$((i + round)).bin"
			live+=("gc$i:r$round=$FX/f$((i + round)).bin")
		done
		spawn "g$round-1" mg gc
		spawn "g$round-2" mg gc
		if [ "$round" -gt 1 ]; then
			# drop one tag of the previous round, retag another
			spawn "rm$round" mg rm "gc1:r$((round - 1))"
			gone+=("gc1:r$((round - 1))")
			spawn "tag$round" mg tag "gc2:r$((round - 1))" "kept$round"
			live+=("gc2:kept$round=$FX/f$((2 + round - 1)).bin")
		fi
		gate_open_and_wait
	done
	expect_exit 0 mg gc
	expect_clean_store
	local spec keep=()
	for spec in "${live[@]}"; do
		case " ${gone[*]} " in
		*" ${spec%%=*} "*) ;;
		*) keep+=("$spec") ;;
		esac
	done
	expect_pulls "${keep[@]}"
	for spec in "${gone[@]}"; do
		expect_exit 2 mg inspect "$spec"
	done
}

# The first commands on a store that does not exist yet (or is an empty
# folder) all create it, or wait for the one that does; none may fail.
t_first_use_of_new_store() {
	local round i
	for round in 1 2 3 4 5 6; do
		export MODELGATE_HOME=$TEST_TMP/new-store-$round
		[ $((round % 2)) -eq 0 ] && mkdir "$MODELGATE_HOME"
		gate_close
		for i in 1 2 3 4; do
			spawn "new$round-$i" mg push "first$i:v1" "$FX/f$i.bin"
		done
		gate_open_and_wait
		[ "$(tags_in_store | tr '\n' ' ')" = "first1:v1 first2:v1 first3:v1 first4:v1 " ] ||
			fail "round $round: tags are $(tags_in_store | tr '\n' ' ')"
		expect_clean_store
	done
}

check concurrent_pushes_of_different_files t_different_files
check concurrent_pushes_of_the_same_file t_same_file
check concurrent_tag_and_rm_lose_no_edit t_index_edits
check gc_during_pushes_breaks_nothing t_gc_during_pushes
check concurrent_first_use_of_a_new_store t_first_use_of_new_store
finish
