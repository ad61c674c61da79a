# modelgate gate --changed [--since REV | --pre-push]: only the gates whose
# model, dataset or config changed (libgit2 diff) run; with nothing changed it
# exits 0 at once, loading nothing; gates marked ci_only do not block a
# laptop, and run when CI=true.
. "$MG_SRCDIR/tests/cli/lib.sh"
. "$MG_SRCDIR/tests/cli/lib_git.sh"

R=$TEST_TMP/repo
git_repo "$R"
echo "notes" >>"$R/README"
gcommit "$R" "docs"
BASE=$(git -C "$R" rev-parse HEAD)
cd "$R/models"

nothing_changed_is_fast_and_quiet() {
	local t0 ms
	t0=$(date +%s%N)
	must mg gate --changed --since HEAD
	ms=$(ms_since "$t0")
	expect_stderr_contains "no gate inputs changed since ${BASE:0:12}"
	expect_stderr_not_contains "resolving"
	expect_stdout_empty
	expect_no_file report.json
	[ "$ms" -lt 500 ] || fail "took ${ms} ms"
	# the default base: HEAD~1 without an upstream (a README commit)
	must mg gate --changed
	expect_stderr_contains "no gate inputs changed"
}

work_tree_changes_count() {
	cp model_bad.onnx model_int8.onnx
	expect_exit 1 mg gate --changed --since HEAD
	expect_stderr_contains "5 of 5 gate(s) have inputs changed"
	git checkout -q -- model_int8.onnx
	must mg gate --changed --since HEAD
	expect_stderr_contains "no gate inputs changed"
}

config_change_selects_every_gate() {
	sed -i 's/"min": 0.95/"min": 0.9/' modelgate.json
	must mg gate --changed --since "$BASE" --report "$TEST_TMP/cfg.json"
	expect_stderr_contains "5 of 5 gate(s)"
	json_ok 'all(g["status"] == "pass" for g in j["gates"])' "$TEST_TMP/cfg.json"
	git checkout -q -- modelgate.json
}

dataset_change_selects_accuracy_and_fidelity() {
	cp dataset/y.npy "$TEST_TMP/y.npy"
	"$PY" -c 'import sys
p = sys.argv[1]; d = bytearray(open(p, "rb").read()); d[-8] = (d[-8] + 1) % 10; open(p, "wb").write(d)' dataset/y.npy
	mg gate --changed --since HEAD --report "$TEST_TMP/data.json" >/dev/null 2>"$TEST_TMP/data.err"
	cp "$TEST_TMP/y.npy" dataset/y.npy
	grep -q "2 of 5 gate(s)" "$TEST_TMP/data.err" || fail "$(cat "$TEST_TMP/data.err")"
	json_ok '[g["name"] for g in j["gates"] if g["status"] != "skip"] == ["accuracy", "fidelity"]' "$TEST_TMP/data.json"
}

ci_only_gates_do_not_block_a_laptop() {
	"$PY" -c 'import json, sys
c = json.load(open("modelgate.json"))
for g in c["gates"]:
    g["ci_only"] = g["kind"] in ("accuracy", "fidelity")
json.dump(c, open("ci.json", "w"), indent=1)'
	git add ci.json && git commit -q -m "ci config" || fail "commit failed"
	cp dataset/y.npy "$TEST_TMP/y2.npy"
	printf 'x' >>dataset/y.npy
	CI= expect_exit 0 mg gate -c ci.json --changed --since HEAD
	cp "$TEST_TMP/y2.npy" dataset/y.npy
	expect_stderr_contains "only CI-only gates have inputs changed (2)"
	expect_stderr_not_contains "resolving"
}

more_than_64_gates_all_run() {
	"$PY" -c 'import json
gates = [{"name": "size%02d" % i, "kind": "size", "max_bytes": 1000000} for i in range(70)]
json.dump({"model": "model_int8.onnx", "gates": gates}, open("many.json", "w"), indent=1)'
	git add many.json && git commit -q -m "70 gates" || fail "commit failed"
	cp model_bad.onnx model_int8.onnx
	mg gate -c many.json --changed --since HEAD --report "$TEST_TMP/many.json" >/dev/null 2>"$TEST_TMP/many.err"
	git checkout -q -- model_int8.onnx
	grep -q "70 of 70 gate(s) have inputs changed" "$TEST_TMP/many.err" || fail "$(cat "$TEST_TMP/many.err")"
	json_ok 'len([g for g in j["gates"] if g["status"] == "pass"]) == 70' "$TEST_TMP/many.json"
}

bad_input() {
	expect_exit 2 mg gate --changed --since no-such-rev
	expect_error "--since 'no-such-rev'"
	expect_exit 2 mg gate --pre-push <<<"garbage"
	expect_error "pre-push input 'garbage'"
	expect_exit 2 mg gate --since HEAD --pre-push
	expect_stderr_contains "exclude each other"
	mkdir -p "$TEST_TMP/nogit"
	cp "$EXAMPLES/modelgate.json" "$TEST_TMP/nogit/"
	(cd "$TEST_TMP/nogit" && expect_exit 2 mg gate --changed)
	expect_error "not in a git repository"
}

pre_push_lines_from_stdin() {
	local z=0000000000000000000000000000000000000000 head
	head=$(git rev-parse HEAD)
	expect_exit 0 mg gate --pre-push <<<"refs/heads/main $head refs/heads/main $head"
	expect_stderr_contains "no gate inputs changed"
	expect_exit 0 mg gate --pre-push </dev/null
	expect_stderr_contains "nothing pushed"
	expect_exit 0 mg gate --pre-push <<<"(delete) $z refs/heads/old $head"
	expect_stderr_contains "nothing pushed"
	# a new branch and no remote-tracking branches: everything is new
	expect_exit 0 mg gate --pre-push --report "$TEST_TMP/new.json" <<<"refs/heads/main $head refs/heads/main $z"
	expect_stderr_contains "5 of 5 gate(s) have inputs changed since the empty tree"
}

check nothing_changed_is_fast_and_quiet nothing_changed_is_fast_and_quiet
check work_tree_changes_count work_tree_changes_count
check config_change_selects_every_gate config_change_selects_every_gate
check dataset_change_selects_accuracy_and_fidelity dataset_change_selects_accuracy_and_fidelity
check ci_only_gates_do_not_block_a_laptop ci_only_gates_do_not_block_a_laptop
check more_than_64_gates_all_run more_than_64_gates_all_run
check bad_input bad_input
check pre_push_lines_from_stdin pre_push_lines_from_stdin
finish
