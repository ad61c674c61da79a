# Before `git push`: the installed pre-push hook runs `modelgate gate
# --changed --pre-push` on what is being pushed to a real (local, bare)
# remote. A push that touches no gate input goes through fast without
# loading anything; a worse model stops the push, and the remote keeps its
# commit; a new branch is compared with what the remote already has.
. "$MG_SRCDIR/tests/cli/lib.sh"
. "$MG_SRCDIR/tests/cli/lib_git.sh"

R=$TEST_TMP/repo
git init -q --bare "$TEST_TMP/remote.git" || fail "git init --bare failed"
git_repo "$R"
git -C "$R" remote add origin "$TEST_TMP/remote.git"
git -C "$R" push -q -u origin main 2>/dev/null || fail "the first push failed"
(cd "$R" && "$MODELGATE" hook install -c models/modelgate.json >/dev/null) || fail "hook install failed"
# the hook must find this modelgate even where the copied binary is not on PATH
export PATH="$(dirname "$MODELGATE"):$PATH"

remote_head() { git -C "$TEST_TMP/remote.git" rev-parse "${1:-main}" 2>/dev/null; }

unrelated_change_pushes_fast() {
	cd "$R"
	git checkout -q main
	echo "more words" >>README
	gcommit "$R" "docs only"
	local t0 ms
	t0=$(date +%s%N)
	must git push origin main
	ms=$(ms_since "$t0")
	expect_stderr_contains "no gate inputs changed"
	expect_stderr_not_contains "resolving model"
	[ "$(remote_head)" = "$(git rev-parse HEAD)" ] || fail "the remote did not get the commit"
	[ "$ms" -lt 1500 ] || fail "the push took ${ms} ms"
	[ ! -e .git/modelgate-report.json ] || fail "a report was written though nothing ran"
}

worse_model_blocks_the_push() {
	cd "$R"
	git checkout -q -b worse main
	local before
	before=$(remote_head)
	cp models/model_bad.onnx models/model_int8.onnx
	gcommit "$R" "a worse candidate"
	expect_exit 1 git push origin worse:main
	expect_stderr_contains "5 of 5 gate(s) have inputs changed"
	expect_stdout_contains "FAILED"
	expect_stderr_contains "failed to push"
	[ "$(remote_head)" = "$before" ] || fail "the remote moved to the failing commit"
	[ -s .git/modelgate-report.json ] || fail "no report in .git/modelgate-report.json"
	json_ok 'any(g["status"] == "fail" for g in j["gates"])' .git/modelgate-report.json
	# git's escape hatch still works
	must git push --no-verify origin worse
	[ "$(remote_head worse)" = "$(git rev-parse HEAD)" ] || fail "--no-verify did not push"
}

good_dataset_change_runs_only_its_gates() {
	cd "$R"
	git checkout -q -b data-fix main
	# the lowest byte of the last value: same results, different bytes
	"$PY" -c 'import sys
p = sys.argv[1]; d = bytearray(open(p, "rb").read()); d[-4] ^= 1; open(p, "wb").write(d)' models/dataset/x.npy
	gcommit "$R" "dataset touched"
	must git push -u origin data-fix
	expect_stderr_contains "2 of 5 gate(s) have inputs changed"
	json_ok '{g["name"]: g["status"] for g in j["gates"]} == {"accuracy": "pass", "fidelity": "pass", "latency": "skip", "size": "skip", "memory": "skip"}' .git/modelgate-report.json
	[ "$(remote_head data-fix)" = "$(git rev-parse HEAD)" ] || fail "the new branch did not reach the remote"
}

deleting_a_branch_runs_nothing() {
	cd "$R"
	must git push origin --delete data-fix
	expect_stderr_contains "nothing pushed"
}

check unrelated_change_pushes_fast unrelated_change_pushes_fast
check worse_model_blocks_the_push worse_model_blocks_the_push
check good_dataset_change_runs_only_its_gates good_dataset_change_runs_only_its_gates
check deleting_a_branch_runs_nothing deleting_a_branch_runs_nothing
finish
