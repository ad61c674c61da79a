# make image: built twice from the same tree, the OCI image has the same
# manifest digest; its configuration is as documented (no entrypoint,
# WORKDIR /work, modelgate on PATH, the version labelled). It goes to the
# loopback docker-registry with skopeo, comes back into a fresh store with
# modelgate copy, unchanged, and is unpacked with umoci as an OCI runtime
# bundle. Run with runc (or crun) where the machine allows containers, else
# through mk/chroot.sh into the bundle's rootfs (the output says which):
# modelgate answers, the digits gate passes with the same accuracy,
# fidelity and size figures as this build's, and the GitLab template's gate
# job runs there without building anything. Needs root, as CI has.
. "$MG_SRCDIR/tests/cli/lib.sh"
. "$MG_SRCDIR/tests/cli/lib_registry.sh"

[ "$(id -u)" = 0 ] || fail "building and running the image needs root (mmdebstrap, runc, chroot)"
need mmdebstrap mmdebstrap
need umoci umoci
need skopeo skopeo
need docker-registry docker-registry
need runc runc
need_py yaml python3-yaml
export HOME=$TEST_TMP/home # skopeo and umoci read nothing of the caller's
mkdir -p "$HOME"
VERSION=$(sed -n 's/^VERSION *:= *//p' "$MG_SRCDIR/Makefile")
TEMPLATE=$MG_SRCDIR/gitlab/modelgate.gitlab-ci.yml

# build_image N: make image into $TEST_TMP/imageN, the tarball into
# $TEST_TMP/dist; sets BUILT to the manifest digest.
build_image() {
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$MG_SRCDIR" --no-print-directory image \
		DIST_DIR="$TEST_TMP/dist" IMAGE_BUILD="$TEST_TMP/build-image" IMAGE_DIR="$TEST_TMP/image$1" \
		>"$TEST_TMP/make-image$1.log" 2>&1 ||
		fail "make image failed: $(tail -n 30 "$TEST_TMP/make-image$1.log")"
	BUILT=$(sed -n 's/.*"digest":"\(sha256:[0-9a-f]*\)".*/\1/p' "$TEST_TMP/image$1/index.json")
}
build_image 1
D1=$BUILT
build_image 2
D2=$BUILT
L=$TEST_TMP/image1
echo "image: $D1 and $D2"

registry_start
IMG=$REG/acme/modelgate:$VERSION
must skopeo copy --quiet --dest-tls-verify=false "oci:$L:$VERSION" "docker://$IMG"
must mg copy --insecure "$IMG" "modelgate:$VERSION"
PULLED=$(cat "$OUT")
B=$TEST_TMP/bundle
must umoci unpack --image "$MODELGATE_HOME:modelgate:$VERSION" "$B"

# in_image CMD...: CMD in the unpacked image, in /work (WK outside), with
# RUNTIME: runc or crun run the bundle, its config.json given CMD, no
# terminal and WK bound on /work; chroot runs CMD through mk/chroot.sh in
# the rootfs, where WK is rootfs/work itself.
in_image() {
	case $RUNTIME in
	chroot)
		sh "$MG_SRCDIR/mk/chroot.sh" "$B/rootfs" /bin/sh -c 'cd /work && exec "$@"' sh "$@"
		;;
	*)
		"$PY" - "$B/config.json" "$WK" "$@" <<'PY' || fail "cannot adjust the bundle's config.json"
import json, sys
path, work, args = sys.argv[1], sys.argv[2], sys.argv[3:]
c = json.load(open(path))
c["process"]["terminal"] = False
c["process"]["args"] = args
c["mounts"] = [m for m in c["mounts"] if m["destination"] != "/work"]
c["mounts"].append({"destination": "/work", "type": "bind", "source": work, "options": ["rbind", "rw"]})
json.dump(c, open(path, "w"), indent=1)
PY
		"$RUNTIME" --root "$TEST_TMP/$RUNTIME-state" run --bundle "$B" "modelgate-test-$BASHPID-$RANDOM" </dev/null
		;;
	esac
}

# The first runtime that runs `true` in the image is the one used.
WK=$TEST_TMP/work
mkdir -p "$WK"
RUNTIME=
for r in runc crun; do
	command -v $r >/dev/null || continue
	RUNTIME=$r
	in_image true >"$IO/probe" 2>&1 && break
	echo "image: $r cannot run containers here: $(head -c 300 "$IO/probe")"
	RUNTIME=
done
if [ -z "$RUNTIME" ]; then
	RUNTIME=chroot
	WK=$B/rootfs/work
fi
echo "image: running it with $RUNTIME"
cp -r "$EXAMPLES" "$WK/digits"
rm -f "$WK/digits/report.json"

make_image_is_reproducible() {
	[[ $D1 =~ $DIGEST_RE ]] || fail "no manifest digest in image1: '$D1'"
	[ "$D1" = "$D2" ] || fail "two builds gave $D1 and $D2"
	[ "$(blob_names "$L")" = "$(blob_names "$TEST_TMP/image2")" ] || fail "the two layouts hold other blobs"
	expect_exit 0 umoci ls --layout "$L"
	[ "$(cat "$OUT")" = "$VERSION" ] || fail "the layout's tags are not just '$VERSION'"
}

image_config_is_as_documented() {
	expect_exit 0 skopeo inspect --config --raw "oci:$L:$VERSION"
	json_ok '(j["os"], j["architecture"]) == ("linux", "amd64")'
	json_ok 'not j["config"].get("Entrypoint") and j["config"]["Cmd"] == ["bash"]'
	json_ok 'j["config"]["WorkingDir"] == "/work"'
	json_ok '"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" in j["config"]["Env"]'
	json_ok "j['config']['Labels']['org.opencontainers.image.version'] == '$VERSION'"
	# every time is SOURCE_DATE_EPOCH, the tree's last commit time
	local created
	created=$(date -u -d "@$(git -C "$MG_SRCDIR" log -1 --format=%ct)" +%Y-%m-%dT%H:%M:%SZ)
	json_ok "j['created'] == '$created' and {h['created'] for h in j['history']} == {'$created'}"
	json_ok 'len(j["rootfs"]["diff_ids"]) == 2 and len(j["history"]) == 2'
}

image_goes_through_a_registry_unchanged() {
	expect_exit 0 skopeo inspect --raw --tls-verify=false "docker://$IMG"
	[ "sha256:$(sha256_of "$OUT")" = "$D1" ] || fail "the registry's manifest is not $D1"
	[ "$PULLED" = "$D1" ] || fail "modelgate copy pulled $PULLED, not $D1"
	expect_exit 0 mg fsck
	expect_stdout_contains " 0 problem(s)"
}

modelgate_runs_in_the_image() {
	expect_exit 0 in_image modelgate --version
	expect_stdout_contains "modelgate $VERSION"
	expect_exit 0 in_image /bin/sh -c 'command -v modelgate; readlink -f "$(command -v modelgate)"'
	[ "$(cat "$OUT")" = "$(printf '/usr/local/bin/modelgate\n/opt/modelgate/bin/modelgate')" ] ||
		fail "modelgate on PATH is not /usr/local/bin/modelgate -> /opt/modelgate/bin/modelgate"
	expect_exit 0 in_image test -s /etc/ssl/certs/ca-certificates.crt
}

digits_gate_passes_in_the_image_as_on_the_source_build() {
	expect_exit 0 in_image /bin/sh -c 'cd digits && modelgate gate --report /work/image.json'
	expect_stdout_contains "PASSED: 5 passed"
	cp -r "$EXAMPLES" "$TEST_TMP/host-digits"
	cd "$TEST_TMP/host-digits" || fail "cannot enter '$TEST_TMP/host-digits'"
	expect_exit 0 mg gate --report "$TEST_TMP/host.json"
	"$PY" - "$WK/image.json" "$TEST_TMP/host.json" <<'PY' >"$IO/py.out" 2>&1 || fail "$(cat "$IO/py.out")"
import json, sys
img, host = (json.load(open(p)) for p in sys.argv[1:3])
for k in ("model", "baseline", "dataset"):
    assert img[k]["digest"] == host[k]["digest"], (k, img[k], host[k])
assert img["tool_version"] == host["tool_version"], (img["tool_version"], host["tool_version"])
assert img["targets"][0]["fingerprint"]["engine"] == host["targets"][0]["fingerprint"]["engine"]
gates = lambda r: {g["name"]: g for g in r["gates"]}
for name in ("accuracy", "fidelity", "size"):
    a, b = gates(img)[name], gates(host)[name]
    assert a["status"] == b["status"] == "pass", (name, a["status"], b["status"])
    fa = [(f["name"], f["value"]) for f in a["figures"]]
    fb = [(f["name"], f["value"]) for f in b["figures"]]
    assert fa == fb, (name, fa, fb)
assert gates(img)["accuracy"]["confusion"] == gates(host)["accuracy"]["confusion"]
assert all(g["status"] == "pass" for g in img["gates"]), [g["status"] for g in img["gates"]]
PY
}

# The template's .modelgate:gate job as a runner would run it in the image
# (its variables in the environment, before_script then script in one bash
# with -e and pipefail, in the project): it finds modelgate on PATH.
gitlab_gate_job_runs_in_the_image_without_building() {
	mkdir -p "$WK/project"
	cp -r "$EXAMPLES" "$WK/project/digits"
	rm -f "$WK/project/digits/report.json"
	"$PY" - "$TEMPLATE" <<'PY' >"$WK/job.sh" 2>"$IO/py.out" || fail "$(cat "$IO/py.out")"
import shlex, sys, yaml
t = yaml.safe_load(open(sys.argv[1]))
base, job = t[".modelgate"], t[".modelgate:gate"]
assert job["extends"] == ".modelgate"
env = dict(base["variables"], **job.get("variables", {}), MODELGATE_DIR="digits", CI="true")
print("set -eo pipefail")
for k, v in env.items():
    print("export %s=%s" % (k, shlex.quote(str(v))))
print("cd /work/project")
for line in job.get("before_script", base["before_script"]) + job["script"]:
    print(line)
PY
	expect_exit 0 in_image bash /work/job.sh
	expect_stdout_contains "modelgate $VERSION"
	expect_stdout_not_contains "building"
	expect_stdout_contains "PASSED: 5 passed"
	local r=$WK/project/modelgate-reports
	for f in report.json junit.xml metrics.txt report.html summary.md; do expect_file "$r/$f"; done
	json_ok 'j["passed"]' "$r/report.json"
}

check make_image_is_reproducible make_image_is_reproducible
check image_config_is_as_documented image_config_is_as_documented
check image_goes_through_a_registry_unchanged image_goes_through_a_registry_unchanged
check modelgate_runs_in_the_image modelgate_runs_in_the_image
check digits_gate_passes_in_the_image_as_on_the_source_build digits_gate_passes_in_the_image_as_on_the_source_build
check gitlab_gate_job_runs_in_the_image_without_building gitlab_gate_job_runs_in_the_image_without_building
finish
