# GitLab CI: the example project's .gitlab-ci.yml, including the template
# gitlab/modelgate.gitlab-ci.yml, runs for real under gitlab-ci-local (shell
# executor) against this build and a loopback docker-registry standing in
# for $CI_REGISTRY: the gate job passes on the good candidate and fails on
# the bad one, keeping its JUnit, metrics and report artifacts either way;
# the default branch packages the gated version and deploys it to the
# production environment, moving the registry tag. A scheduled pipeline
# runs only the rollout job (.modelgate:rollout), which advances the fleet
# prod's rollout against a real mosquitto with a password: with no device
# reporting it waits (exit 0) and prints the Markdown status, kept as an
# artifact; once the rollout is aborted the job fails (exit 1). Neither the
# fleet key nor the broker's password reaches the job's log.
. "$MG_SRCDIR/tests/cli/lib.sh"
. "$MG_SRCDIR/tests/cli/lib_registry.sh"
. "$MG_SRCDIR/tests/cli/lib_deploy.sh"
. "$MG_SRCDIR/tests/cli/lib_fleet.sh"
. "$MG_SRCDIR/tests/cli/lib_git.sh"
. "$MG_SRCDIR/tests/cli/lib_ci.sh"

need_tool "$GITLAB_CI_LOCAL"
need rsync rsync
need_py yaml python3-yaml
registry_start
P=$TEST_TMP/project
mkdir -p "$P/ci"
cp "$MG_SRCDIR/examples/.gitlab-ci.yml" "$P/"
cp "$MG_SRCDIR/gitlab/modelgate.gitlab-ci.yml" "$P/ci/"
cp -r "$EXAMPLES" "$P/digits"
rm -f "$P/digits/report.json"
printf '.gitlab-ci-local/\nmodelgate-reports/\n*.tar.gz\n' >"$P/.gitignore"
git init -q -b main "$P" || fail "git init failed"
gcommit "$P" "model project"
IMAGE=$REG/group/digits-project
must mg push --insecure "$IMAGE/digits:production" "$EXAMPLES/model.onnx"
PROD=$(cat "$OUT")

# gcl ARGS...: gitlab-ci-local in the project, on the shell executor, with
# the registry variables of a GitLab job pointing at the loopback registry
gcl() {
	(cd "$P" && NO_COLOR=1 FORCE_COLOR=0 "$GITLAB_CI_LOCAL" --force-shell-executor \
		--variable "CI_REGISTRY=$REG" --variable "CI_REGISTRY_IMAGE=$IMAGE" \
		--variable "MODELGATE_INSECURE_REGISTRIES=$REG" --variable "MODELGATE_BIN=$MODELGATE" \
		--variable "MODELGATE_HOME=$TEST_TMP/job-store" "$@")
}
ART=$P/.gitlab-ci-local/artifacts

the_pipeline_parses() {
	expect_exit 0 gcl --list
	expect_stdout_matches '^gate +test +on_success'
	expect_stdout_matches '^package +deploy +on_success .*\[gate\]'
	expect_stdout_matches '^deploy +deploy +manual .*\[gate,package\]'
}

template_has_the_hidden_jobs() {
	local t=$MG_SRCDIR/gitlab/modelgate.gitlab-ci.yml j
	for j in .modelgate:gate .modelgate:package .modelgate:deploy .modelgate:rollout; do
		grep -q "^$j:" "$t" || fail "no hidden job '$j' in the template"
	done
	"$PY" - "$t" <<'PY' >"$IO/py.out" 2>&1 || fail "template: $(cat "$IO/py.out")"
import sys, yaml
t = yaml.safe_load(open(sys.argv[1]))
g = t[".modelgate:gate"]
assert g["artifacts"]["reports"]["junit"].endswith("junit.xml"), g
assert g["artifacts"]["reports"]["metrics"].endswith("metrics.txt"), g
assert g["artifacts"]["when"] == "always"
assert "name" in t[".modelgate:deploy"]["environment"]
assert t[".modelgate:rollout"]["resource_group"] == "modelgate-rollout-$MODELGATE_FLEET"
PY
}

# The shell executor used here ignores `image:`; what GitLab would pull is
# checked as gitlab-ci-local resolves the pipeline: modelgate's image of
# this version (the Makefile's VERSION, as `make image` tags it; t_image.sh
# runs that image), through MODELGATE_IMAGE.
jobs_run_in_modelgates_image_of_this_version() {
	local v
	v=$(sed -n 's/^VERSION *:= *//p' "$MG_SRCDIR/Makefile")
	expect_exit 0 gcl --preview
	"$PY" - "$OUT" "$v" <<'PY' >"$IO/py.out" 2>&1 || fail "$(cat "$IO/py.out")"
import re, sys, yaml
text, v = open(sys.argv[1]).read(), sys.argv[2]
doc = yaml.safe_load(text[text.index("---\n"):])  # after gitlab-ci-local's warnings
for name in ("gate", "package", "deploy"):
    job = doc[name]
    assert job["image"]["name"] == "$MODELGATE_IMAGE", (name, job["image"])
    ref = job["variables"]["MODELGATE_IMAGE"]
    assert re.fullmatch(r"[a-z0-9.-]+(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)+:" + re.escape(v), ref), (name, ref)
    assert job["variables"]["MODELGATE_VERSION"] == "v" + v, (name, job["variables"]["MODELGATE_VERSION"])
PY
}

gate_passes_on_the_good_candidate() {
	rm -rf "$ART"
	expect_exit 0 gcl gate
	expect_stdout_matches 'PASS +gate'
	expect_stdout_contains "PASSED: 5 passed"
	expect_file "$ART/gate/modelgate-reports/junit.xml"
	expect_file "$ART/gate/modelgate-reports/metrics.txt"
	json_ok "all(g['status'] == 'pass' for g in j['gates']) and j['baseline']['digest'] == '$PROD'" \
		"$ART/gate/modelgate-reports/report.json"
	xmllint --noout "$ART/gate/modelgate-reports/junit.xml" || fail "junit.xml is not XML"
	grep -q '^modelgate_gate_' "$ART/gate/modelgate-reports/metrics.txt" ||
		grep -q '^modelgate' "$ART/gate/modelgate-reports/metrics.txt" || fail "no metrics"
}

gate_fails_on_the_bad_candidate() {
	rm -rf "$ART"
	expect_exit 1 gcl gate --variable CANDIDATE=model_bad.onnx
	expect_stdout_matches 'FAIL +gate'
	expect_stdout_contains "FAILED: 3 passed, 2 failed"
	json_ok '{g["name"]: g["status"] for g in j["gates"]}["accuracy"] == "fail"' \
		"$ART/gate/modelgate-reports/report.json"
	grep -q '<failure' "$ART/gate/modelgate-reports/junit.xml" || fail "junit.xml has no failure"
}

default_branch_packages_and_deploys() {
	rm -rf "$ART"
	expect_exit 0 gcl --needs deploy
	expect_stdout_matches 'PASS +package'
	expect_stdout_matches 'PASS +deploy'
	expect_stdout_contains "environment: { name: production }"
	local sha bundle
	sha=$(git -C "$P" rev-parse HEAD)
	bundle=$(ls "$ART/package/"digits-*.tar.gz 2>/dev/null | head -n 1)
	[ -n "$bundle" ] || fail "no bundle among the package artifacts"
	must mg --insecure inspect --json "$IMAGE/digits:production"
	local now gated
	gated=$(json_get 'j["model"]["digest"]' "$ART/gate/modelgate-reports/report.json")
	must mg --insecure ls --json "$IMAGE/digits"
	json_ok "[t['digest'] for t in j if t['tag'] == 'production'] == ['$gated']"
	json_ok "[t['digest'] for t in j if t['tag'] == 'production-previous'] == ['$PROD']"
	json_ok "any(t['tag'] == '$sha' for t in j)"
}

# The example's rollout job in a scheduled pipeline, with this test's
# registry and broker (plain MQTT: no CA file); the fleet key is a file
# variable (a file alone, no .pub beside it), as GitLab writes one.
the_schedule_advances_the_rollout() {
	local pass=mqtt-Pa55-$$-secret key=$TEST_TMP/filevars/FLEET_KEY line
	mqtt_start rollout-ci "$pass"
	must mg keygen -o "$TEST_TMP/fleet-key"
	mkdir -p "$TEST_TMP/filevars"
	cp "$TEST_TMP/fleet-key" "$key"
	line=$(sed -n 2p "$key")
	fleet_release "$IMAGE/digits" 1 "$EXAMPLES/model.onnx" "$TEST_TMP/fleet-key"
	must mg rollout start "$IMAGE/digits:rel1" --fleet prod --sign "$TEST_TMP/fleet-key" --stages 5%,25%,100%
	# schedule GCL_ARGS...: the scheduled pipeline
	schedule() {
		gcl --variable CI_PIPELINE_SOURCE=schedule --variable "FLEET_KEY=$key" \
			--variable "FLEET_BROKER=127.0.0.1:$MQ_PORT" --variable MODELGATE_MQTT_CA_FILE= \
			--variable "MODELGATE_MQTT_PASSWORD=$pass" "$@"
	}
	expect_exit 0 schedule --list
	expect_stdout_matches '^rollout +deploy +on_success'
	! grep -qE '^(gate|package|deploy) ' "$OUT" || fail "a scheduled pipeline runs more than the rollout: $(cat "$OUT")"
	rm -rf "$ART"
	expect_exit 0 schedule rollout
	expect_stdout_matches 'PASS +rollout'
	expect_stdout_contains '"step": "wait"'
	expect_stdout_contains "## modelgate rollout"
	grep -q '^## modelgate rollout' "$ART/rollout/modelgate-reports/rollout.md" || fail "no rollout.md artifact"
	local s
	for s in "$pass" "$line"; do
		! grep -qF -- "$s" "$OUT" "$ERR" || fail "a secret is in the job's log"
	done
	must mg rollout abort "$IMAGE/digits" --fleet prod --sign "$TEST_TMP/fleet-key"
	expect_exit 1 schedule rollout
	expect_stdout_matches 'FAIL +rollout'
	expect_stdout_contains '"step": "stopped"'
	expect_stderr_contains "refusing to advance rollout"
}

check the_pipeline_parses the_pipeline_parses
check template_has_the_hidden_jobs template_has_the_hidden_jobs
check jobs_run_in_modelgates_image_of_this_version jobs_run_in_modelgates_image_of_this_version
check gate_passes_on_the_good_candidate gate_passes_on_the_good_candidate
check gate_fails_on_the_bad_candidate gate_fails_on_the_bad_candidate
check default_branch_packages_and_deploys default_branch_packages_and_deploys
check the_schedule_advances_the_rollout the_schedule_advances_the_rollout
finish
