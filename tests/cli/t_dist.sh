# make dist: the release tarball builds to the same bytes from two clean
# builds in two folders, and runs where nothing was built: in a minimal
# Debian 12 root (mk/root.sh, then without git, ca-certificates and
# openssl, so without libcurl, OpenSSL and Kerberos) that has no compiler
# and no -dev package, unpacked into an arbitrary folder, it prints its
# version, pushes and pulls through a store and passes the digits gate on
# the local target and, once qemu-user is installed there, on qemu-aarch64
# (also as nobody), with the same accuracy, fidelity and size figures and
# the same verdicts as the source build; there too, the aarch64
# modelgate-device starts under qemu with the arm64 libraries the tarball
# has beside it. The root is laid once for the
# file. Needs root (chroot), mmdebstrap, qemu-user and the aarch64 cross
# compiler.
. "$(dirname "$0")/lib.sh"

VERSION=$(sed -n 's/^VERSION *:= *//p' "$MG_SRCDIR/Makefile")
NAME=modelgate-$VERSION
TARBALL=$NAME-linux-x86_64.tar.gz
ROOT=$TEST_TMP/root
REL=/srv/any/where/$NAME # the release, as the root sees it
SDE=1700000000           # for pushes: the same files give the same digest
unset MODELGATE_AGENT MODELGATE_AGENT_AARCH64 MODELGATE_ORT_LIB MODELGATE_ORT_LIB_AARCH64 MODELGATE_TFLITE_LIB
export MODELGATE_AGENT_CACHE=$TEST_TMP/agent-cache

[ "$(id -u)" = 0 ] || fail "needs root (it lays a Debian root and chroots into it)"
need mmdebstrap mmdebstrap
need qemu-aarch64 qemu-user
need aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu

# make dist into B/ and D/, from the source tree SRC; no make of ours
# around it may steer it (make sanitize passes BUILD, CFLAGS, LDFLAGS down).
dist_build() { # SRC B D
	env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL nice make -C "$1" dist DIST_BUILD="$2" DIST_DIR="$3" \
		>"$IO/make.log" 2>&1 || { tail -20 "$IO/make.log"; fail "make dist in '$1' failed"; }
}

# in_root CODE SCRIPT: runs the sh SCRIPT in the root (stdout in $OUT,
# stderr in $ERR), and fails unless it exits with CODE.
in_root() {
	expect_exit "$1" "$MG_SRCDIR/mk/chroot.sh" "$ROOT" sh -c "$2"
}

# A gate's results without the figures that vary from run to run: per gate
# its status, and the figures of accuracy, fidelity and size.
gate_results() { # report.json
	"$PY" - "$1" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
for g in j["gates"]:
    print(g["name"], g["status"])
    if g["kind"] in ("accuracy", "fidelity", "size"):
        for f in g["figures"]:
            print("  %s %s %r %r" % (g["name"], f["name"], f["value"], f["baseline"]))
PY
}

# expect_same_gate WHERE SOURCE_REPORT RELEASE_REPORT
expect_same_gate() {
	gate_results "$2" >"$IO/src.txt" || fail "cannot read '$2'"
	gate_results "$3" >"$IO/rel.txt" || fail "cannot read '$3'"
	grep -q " pass$" "$IO/src.txt" || fail "the source build's gate has no passing gate"
	if ! cmp -s "$IO/src.txt" "$IO/rel.txt"; then
		diff "$IO/src.txt" "$IO/rel.txt" | head -20 | sed 's/^/    /'
		fail "the release's $1 gate differs from the source build's"
	fi
}

# ---- set-up: the tarball, then the root with the release unpacked in it --

dist_build "$MG_SRCDIR" "$TEST_TMP/build-1" "$TEST_TMP/dist-1"
[ -f "$TEST_TMP/dist-1/$TARBALL" ] || fail "make dist wrote no '$TARBALL'"

sh "$MG_SRCDIR/mk/root.sh" "$ROOT" >"$IO/root.log" 2>&1 || { cat "$IO/root.log"; fail "mk/root.sh failed"; }
# What a stock image may lack: git (and with it libcurl-gnutls, Kerberos,
# LDAP, SSH) and ca-certificates (and with it openssl, libssl3).
"$MG_SRCDIR/mk/chroot.sh" "$ROOT" sh -c 'export DEBIAN_FRONTEND=noninteractive
	apt-get purge -y -q git ca-certificates openssl && apt-get autoremove --purge -y -q' \
	>"$IO/purge.log" 2>&1 || { tail -20 "$IO/purge.log"; fail "cannot remove git and ca-certificates from the root"; }
mkdir -p "$ROOT${REL%/*}" "$ROOT/work"
tar -xzf "$TEST_TMP/dist-1/$TARBALL" -C "$ROOT${REL%/*}" || fail "cannot unpack '$TARBALL'"
cp -r "$EXAMPLES" "$ROOT/work/digits"
"$PY" "$MG_SRCDIR/tests/cli/make_tflite.py" float "$ROOT/work/float.tflite" || fail "make_tflite.py failed"
rm -f "$ROOT/work/digits/report.json"
# the same gates, on qemu-aarch64 instead of the local target
"$PY" - "$ROOT/work/digits/modelgate.json" <<'PY' || fail "cannot write qemu.json"
import json, sys
c = json.load(open(sys.argv[1]))
c["targets"] = {"host": "qemu-aarch64"}
for g in c["gates"]:  # the same limits: max_ms on emulated time is refused unless allowed
    if g["kind"] == "latency" and "max_ms" in g:
        g["allow_emulated_absolute"] = True
json.dump(c, open(sys.argv[1].replace("modelgate.json", "qemu.json"), "w"), indent=2)
PY
# the source build's side: the same folder, run on this machine
cp -r "$ROOT/work/digits" "$TEST_TMP/digits"

# ---- checks ------------------------------------------------------------------

t_reproducible() {
	# a second clean build, from a copy of the tree in another folder
	local src=$TEST_TMP/elsewhere/modelgate sde
	mkdir -p "$src"
	tar -C "$MG_SRCDIR" --exclude=./.git --exclude=./.deps --exclude='./build*' --exclude=./dist \
		-cf - . | tar -xf - -C "$src" || fail "cannot copy the tree"
	ln -s "$MG_SRCDIR/.deps" "$src/.deps"
	# the default time is the last commit's
	sde=$(git -C "$MG_SRCDIR" log -1 --format=%ct) || fail "no commit in '$MG_SRCDIR'"
	SOURCE_DATE_EPOCH=$sde dist_build "$src" "$TEST_TMP/build-2" "$TEST_TMP/dist-2"
	expect_same_file "$TEST_TMP/dist-1/$TARBALL" "$TEST_TMP/dist-2/$TARBALL"
	expect_same_file "$TEST_TMP/dist-1/SHA256SUMS" "$TEST_TMP/dist-2/SHA256SUMS"
	(cd "$TEST_TMP/dist-1" && sha256sum --quiet -c SHA256SUMS) || fail "SHA256SUMS does not match"
	grep -q "  $TARBALL\$" "$TEST_TMP/dist-1/SHA256SUMS" || fail "SHA256SUMS does not name '$TARBALL'"
	# and no build path is in a binary
	local f
	for f in libexec/modelgate/modelgate libexec/modelgate/modelgate-agent \
		libexec/modelgate/aarch64/modelgate-agent libexec/modelgate/libmodelgate-tflite.so \
		libexec/modelgate/aarch64/libmodelgate-tflite.so libexec/modelgate/aarch64/modelgate-device; do
		! grep -qF -e "$MG_SRCDIR" -e "$TEST_TMP" "$ROOT${REL%/*}/$NAME/$f" ||
			fail "'$f' holds a path of the build"
	done
}

t_tarball_is_normalised() {
	local t=$TEST_TMP/dist-1/$TARBALL sde
	sde=$(git -C "$MG_SRCDIR" log -1 --format=%ct) || fail "no commit in '$MG_SRCDIR'"
	# gzip: no file name, no time (bytes 4-7 of the header are zero)
	[ "$(head -c 8 "$t" | od -An -tx1 | tr -d ' \n')" = 1f8b080000000000 ] ||
		fail "the gzip header holds a name or a time: $(head -c 8 "$t" | od -An -tx1)"
	tar -tzf "$t" >"$IO/names" || fail "cannot list '$t'"
	LC_ALL=C sort -c "$IO/names" || fail "the entries are not sorted by name"
	grep -v "^$NAME/" "$IO/names" && fail "entries outside '$NAME/'"
	tar --numeric-owner --full-time -tvzf "$t" >"$IO/long" || fail "cannot list '$t'"
	awk '$2 != "0/0" { print; bad = 1 } END { exit bad }' "$IO/long" || fail "an entry is not owned by 0/0"
	local when
	when=$(TZ=UTC date -d "@$sde" '+%Y-%m-%d %H:%M:%S')
	TZ=UTC tar --numeric-owner --full-time -tvzf "$t" | awk -v w="$when" '$4 " " $5 != w { print; bad = 1 } END { exit bad }' ||
		fail "an entry's time is not the last commit's ($when)"
	local f
	for f in bin/modelgate libexec/modelgate/modelgate libexec/modelgate/modelgate-agent \
		libexec/modelgate/libonnxruntime.so.1 libexec/modelgate/aarch64/modelgate-agent \
		libexec/modelgate/aarch64/libonnxruntime.so.1 \
		libexec/modelgate/aarch64/sysroot/lib/ld-linux-aarch64.so.1 libexec/modelgate/aarch64/modelgate-device \
		libexec/modelgate/aarch64/sysroot/lib/libcurl.so.4 libexec/modelgate/aarch64/sysroot/lib/libmosquitto.so.1 \
		share/doc/modelgate/copyright/libmosquitto1 \
		libexec/modelgate/libmodelgate-tflite.so libexec/modelgate/armnn/libarmnn.so.22 \
		libexec/modelgate/armnn/backends/Arm_CpuRef_backend.so libexec/modelgate/aarch64/libmodelgate-tflite.so \
		libexec/modelgate/aarch64/armnn/backends/Arm_CpuAcc_backend.so share/doc/modelgate/copyright/libarmnn22 \
		lib/libgit2.so.1.5 lib/libjansson.so.4 lib/libarchive.so.13 lib/libcurl.so.4 lib/libssl.so.3 \
		share/doc/modelgate/BUNDLED share/man/man1/modelgate.1 share/man/man1/modelgate-push.1 \
		share/bash-completion/completions/modelgate share/zsh/site-functions/_modelgate \
		share/modelgate/modelgate.schema.json; do
		grep -qx "$NAME/$f" "$IO/names" || fail "no '$f' in the tarball"
	done
	# glibc and the other base libraries come from the system
	grep -E "^$NAME/lib/(libc|libm|libstdc\+\+|libz)\.so" "$IO/names" && fail "lib/ bundles a base library"
	return 0
}

t_minimal_root() {
	in_root 0 'for c in cc gcc c99 tcc clang; do command -v $c; done; dpkg-query -W -f "\${Package} \${Status}\n" \
		libgit2-dev libcurl4-openssl-dev libjansson-dev libarchive-dev libssl-dev \
		libgit2-1.5 libcurl4 libjansson4 libarchive13 libssl3 libcurl3-gnutls 2>/dev/null | grep "install ok installed"; true'
	expect_stdout_empty
	# and every library modelgate loads is there: bundled or the system's
	in_root 0 "ldd $REL/libexec/modelgate/modelgate"
	expect_stdout_not_contains "not found"
	expect_stdout_contains "libgit2.so.1.5 => $REL/libexec/modelgate/../../lib/libgit2.so.1.5"
}

t_version() {
	in_root 0 "$REL/bin/modelgate --version"
	[ "$(cat "$OUT")" = "modelgate $VERSION" ] || fail "--version printed '$(cat "$OUT")'"
	# from a folder with a blank in its name, and through a symlink on PATH
	in_root 0 "mkdir -p '/opt/my tools' && cp -a $REL '/opt/my tools/' &&
		ln -s '/opt/my tools/$NAME/bin/modelgate' /usr/local/bin/modelgate &&
		'/opt/my tools/$NAME/bin/modelgate' --version && cd / && modelgate --version"
	[ "$(cat "$OUT")" = "modelgate $VERSION
modelgate $VERSION" ] || fail "printed '$(cat "$OUT")'"
}

t_push_pull() {
	in_root 0 "cd /work/digits && export MODELGATE_HOME=/work/store SOURCE_DATE_EPOCH=$SDE &&
		$REL/bin/modelgate push digits:v1 model.onnx --no-git -q &&
		$REL/bin/modelgate pull digits:v1 -o /work/out -q &&
		cmp model.onnx /work/out/model.onnx && $REL/bin/modelgate fsck -q &&
		$REL/bin/modelgate inspect --raw digits:v1 >/work/manifest.json"
	# the same manifest as the source build writes
	cd "$TEST_TMP/digits" || fail "no digits copy"
	MODELGATE_HOME=$TEST_TMP/src-store SOURCE_DATE_EPOCH=$SDE expect_exit 0 mg push digits:v1 model.onnx --no-git -q
	MODELGATE_HOME=$TEST_TMP/src-store expect_exit 0 mg inspect --raw digits:v1
	expect_same_file "$OUT" "$ROOT/work/manifest.json"
}

t_local_gate() {
	cd "$TEST_TMP/digits" || fail "no digits copy"
	expect_exit 0 mg gate --report src-local.json
	in_root 0 "cd /work/digits && $REL/bin/modelgate gate --report rel-local.json"
	expect_stdout_contains "PASSED"
	expect_same_gate local "$TEST_TMP/digits/src-local.json" "$ROOT/work/digits/rel-local.json"
	json_ok "[t['fingerprint']['arch'] for t in j['targets']] == ['x86_64']" "$ROOT/work/digits/rel-local.json"
	# a .tflite through the bundled TFLite engine and Arm NN
	in_root 0 "cd /work && $REL/bin/modelgate run float.tflite --iterations 2 --warmup 0 --min-time 0"
	expect_stdout_contains "(x86_64, tflite armnn 20.08 CpuRef)"
}

t_qemu_gate() {
	# without qemu-user, the message names the package
	in_root 3 "cd /work/digits && $REL/bin/modelgate run model.onnx --target qemu-aarch64 --iterations 1 --min-time 0"
	expect_error "qemu-aarch64 is not installed" "qemu-user"
	"$MG_SRCDIR/mk/chroot.sh" "$ROOT" sh -c 'export DEBIAN_FRONTEND=noninteractive
		apt-get update -q && apt-get install -y -q --no-install-recommends qemu-user' >"$IO/apt.log" 2>&1 ||
		{ tail -20 "$IO/apt.log"; fail "cannot install qemu-user in the root"; }
	# the models' outputs on aarch64 are the expected ones
	in_root 0 "cd /work/digits && $REL/bin/modelgate run model.onnx --target qemu-aarch64 \
		--inputs dataset --expect dataset --iterations 2 --warmup 0 --min-time 0"
	expect_stdout_contains "(aarch64, onnxruntime"
	in_root 0 "cd /work && $REL/bin/modelgate run float.tflite --target qemu-aarch64 --iterations 2 --warmup 0 --min-time 0"
	expect_stdout_contains "(aarch64, tflite armnn 20.08 CpuAcc)"
	# the aarch64 fleet updater starts with the libraries beside it (the
	# root has no arm64 library): it reads its config, and says it is missing
	in_root 2 "qemu-aarch64 -L $REL/libexec/modelgate/aarch64/sysroot $REL/libexec/modelgate/aarch64/modelgate-device \
		--config /nowhere/device.json sync --once"
	expect_error "cannot read '/nowhere/device.json'"
	cd "$TEST_TMP/digits" || fail "no digits copy"
	expect_exit 0 mg gate -c qemu.json --report src-qemu.json
	in_root 0 "cd /work/digits && $REL/bin/modelgate gate -c qemu.json --report rel-qemu.json"
	expect_same_gate qemu-aarch64 "$TEST_TMP/digits/src-qemu.json" "$ROOT/work/digits/rel-qemu.json"
	json_ok "[(t['fingerprint']['arch'], t['fingerprint']['emulated']) for t in j['targets']] == [('aarch64', True)]" \
		"$ROOT/work/digits/rel-qemu.json"
	# and as a user without privileges, as on a CI runner
	in_root 0 "cp -r /work/digits /tmp/digits && chown -R nobody: /tmp/digits && cd /tmp/digits &&
		setpriv --reuid=nobody --regid=nogroup --clear-groups env HOME=/tmp/home \
		$REL/bin/modelgate gate -c qemu.json --only latency --report /tmp/digits/nobody.json -q &&
		cp /tmp/digits/nobody.json /work/nobody-qemu.json"
	json_ok "j['status'] == 'pass' and j['targets'][0]['fingerprint']['arch'] == 'aarch64'" "$ROOT/work/nobody-qemu.json"
}

t_launcher_checks_the_machine() {
	# on this machine, unpacked anywhere; getconf and uname stand in for
	# another machine's
	local rel=$TEST_TMP/unpacked fake=$TEST_TMP/fake
	mkdir -p "$rel" "$fake"
	tar -xzf "$TEST_TMP/dist-1/$TARBALL" -C "$rel" || fail "cannot unpack"
	local want
	want=$(sed -n 's/^glibc_min=//p' "$rel/$NAME/bin/modelgate")
	case $want in [0-9]*.[0-9]*) ;; *) fail "the launcher's glibc_min is '$want'" ;; esac
	printf '#!/bin/sh\necho "glibc 2.17"\n' >"$fake/getconf"
	chmod +x "$fake/getconf"
	PATH=$fake:$PATH expect_exit 3 "$rel/$NAME/bin/modelgate" --version
	expect_error "needs glibc $want or later" "this system has 2.17"
	printf '#!/bin/sh\nexit 1\n' >"$fake/getconf"
	PATH=$fake:$PATH expect_exit 3 "$rel/$NAME/bin/modelgate" --version
	expect_error "needs glibc $want or later" "not glibc"
	rm "$fake/getconf"
	printf '#!/bin/sh\necho aarch64\n' >"$fake/uname"
	chmod +x "$fake/uname"
	PATH=$fake:$PATH expect_exit 3 "$rel/$NAME/bin/modelgate" --version
	expect_error "for x86_64 Linux, not 'aarch64'"
	# arguments reach modelgate exactly: blanks, quotes, globs, $ and empty
	mkdir -p "$TEST_TMP/a b"
	cp "$EXAMPLES/model.onnx" "$TEST_TMP/a b/m 1.onnx"
	local note='  two  spaces, "q" $HOME * '"'"'s'
	expect_exit 0 "$rel/$NAME/bin/modelgate" push argv:t "$TEST_TMP/a b/m 1.onnx" --no-git -q \
		--annotation "org.example.note=$note"
	expect_exit 0 "$rel/$NAME/bin/modelgate" inspect --json argv:t
	NOTE=$note json_ok "j['manifest']['annotations']['org.example.note'] == __import__('os').environ['NOTE'] and j['manifest']['layers'][0]['annotations']['org.opencontainers.image.title'] == 'm 1.onnx'"
	expect_exit 2 "$rel/$NAME/bin/modelgate" inspect ""
	expect_error "empty reference"
}

check make_dist_is_byte_identical_across_clean_builds_and_folders t_reproducible
check tarball_is_sorted_owned_by_root_with_fixed_times_and_bundles_the_libraries t_tarball_is_normalised
check minimal_root_has_no_compiler_no_dev_packages_and_loads_every_library t_minimal_root
check release_prints_its_version_from_any_folder_and_through_a_symlink t_version
check release_pushes_and_pulls_the_same_manifest_as_the_source_build t_push_pull
check release_gate_on_the_local_target_matches_the_source_build t_local_gate
check release_gate_on_qemu_aarch64_matches_the_source_build_and_names_qemu_user_when_missing t_qemu_gate
check launcher_refuses_an_old_glibc_or_another_machine_and_keeps_arguments t_launcher_checks_the_machine
finish
