# The example matrix workflow (examples/.github/workflows/modelgate-matrix.yml)
# on its emulated leg (matrix name aarch64-emulated, target qemu-aarch64), run
# step by step through tests/cli/ghactions.py as the user nobody: the action
# installs the release (served on 127.0.0.1, standing in for github.com),
# whose aarch64 agent runs the digits gate under qemu-user without root, and
# the leg passes with the report saying where it ran. qemu-user is already
# installed here, so the workflow's install step calls neither apt-get nor
# sudo. actions/checkout copies the project and actions/upload-artifact
# copies into a local folder; the other legs (the local target, which
# t_ci_github_action.sh covers, and an ssh board) are not run. The leg gates
# with the example's modelgate.emulated.json, whose latency gate is a ratio
# against the baseline only: an absolute max_ms on an emulated target is
# refused (exit 2), and its time is no device's anyway.
. "$MG_SRCDIR/tests/cli/lib.sh"
. "$MG_SRCDIR/tests/cli/lib_registry.sh"
. "$MG_SRCDIR/tests/cli/lib_ci.sh"

need qemu-aarch64 qemu-user
gh_nobody_setup
WF=$NB_SRC/examples/.github/workflows/modelgate-matrix.yml
gh_release "$TEST_TMP/www/acme/modelgate/releases/download"
tar -tzf "$TEST_TMP/www/acme/modelgate/releases/download/v$MG_VERSION/$TARBALL" >"$TEST_TMP/tarball.list"
for f in modelgate-agent libmodelgate-cpuinfo.so libonnxruntime.so.1; do
	grep -q "^modelgate-$MG_VERSION/libexec/modelgate/aarch64/$f$" "$TEST_TMP/tarball.list" ||
		fail "the release has no aarch64/$f (make agents)"
done
gh_serve "$TEST_TMP/www"
P=$NB/project
as_nobody mkdir -p "$P"
as_nobody cp -r "$EXAMPLES" "$P/digits"
as_nobody rm -f "$P/digits/report.json"

the_emulated_leg_passes_as_nobody() {
	expect_exit 0 ghactions workflow "$WF" --matrix name=aarch64-emulated --work "$NB/work" --checkout "$P" \
		--action "acme/modelgate@v$MG_VERSION=$NB_SRC" --github server_url="$SERVE_URL" \
		--result "$NB/matrix.json"
	expect_stdout_contains "##[job] gate on aarch64-emulated: success"
	expect_stdout_not_contains "apt-get"
	local r=$NB/matrix.json leg='j["jobs"]["gate"]["legs"][0]'
	json_ok "[s['outcome'] for s in $leg['steps']] == ['success'] * 4" "$r"
	json_ok "$leg['matrix'] == {'name': 'aarch64-emulated', 'target': 'qemu-aarch64', 'config': 'modelgate.emulated.json', 'runner': 'ubuntu-latest'}" "$r"
	json_ok "$leg['steps'][2]['outputs']['passed'] == 'true' and $leg['steps'][2]['outputs']['failed'] == '0'" "$r"
	local rep=$NB/work/_artifacts/modelgate-aarch64-emulated/report.json
	expect_file "$rep"
	json_ok "[(t['name'], t['spec']) for t in j['targets']] == [('host', 'qemu-aarch64')]" "$rep"
	json_ok "j['targets'][0]['fingerprint']['arch'] == 'aarch64' and j['targets'][0]['fingerprint']['emulated']" "$rep"
	json_ok "{g['name']: g['status'] for g in j['gates']} == dict.fromkeys(['accuracy', 'fidelity', 'latency', 'size', 'memory'], 'pass')" "$rep"
	[ "$(stat -c %u "$rep")" = "$(as_nobody id -u)" ] || fail "the gate did not run as the unprivileged user"
}

check the_emulated_leg_passes_as_nobody the_emulated_leg_passes_as_nobody
finish
