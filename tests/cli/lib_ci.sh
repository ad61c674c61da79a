# Helpers for the CI integration tests (tests/cli/t_ci_*.sh), sourced after
# lib.sh: the pinned npm tools that `make deps-test` installs into .deps/npm
# (@action-validator/cli, gitlab-ci-local).
NPM_BIN=$MG_SRCDIR/.deps/npm/node_modules/.bin
ACTION_VALIDATOR=$NPM_BIN/action-validator
GITLAB_CI_LOCAL=$NPM_BIN/gitlab-ci-local

need_tool() {
	[ -x "$1" ] || fail "'$1' is missing (make deps-test installs it from mk/npm/package-lock.json)"
}

# validate_github FILE: action-validator accepts the action or workflow file.
validate_github() {
	need_tool "$ACTION_VALIDATOR"
	expect_exit 0 "$ACTION_VALIDATOR" "$1"
}

# ---- GitHub Actions steps as a GitHub runner runs them ----------------------
#
#   gh_nobody_setup          a folder $NB owned by the unprivileged user
#                            nobody (65534), with $NB/home as its HOME, and
#                            $NB_SRC, a copy of what nobody reads of the
#                            checkout (which may be where nobody cannot go,
#                            such as under /root): the Makefile, .github/,
#                            examples/ ($EXAMPLES points there) and
#                            ghactions.py
#   as_nobody CMD...         runs CMD as nobody (as is, when not root), with
#                            HOME, the store and the caches in $NB
#   gh_release DIR           a release of this build in DIR/vVERSION/, as
#                            `make dist` lays it out; sets MG_VERSION, TARBALL
#   gh_serve DIR             serves DIR over HTTP on 127.0.0.1; sets SERVE_URL,
#                            SERVE_LOG (one line per request)
#   gh_gets PATH             how many GETs of PATH SERVE_LOG has
#   ghactions ARGS...        tests/cli/ghactions.py as nobody (needs python3-yaml)
GHACTIONS=$MG_SRCDIR/tests/cli/ghactions.py
MG_VERSION=$(sed -n 's/^VERSION *:= *//p' "$MG_SRCDIR/Makefile")

gh_nobody_setup() {
	NB=$TEST_TMP/nobody
	NB_SRC=$NB/src
	mkdir -p "$NB/home" "$NB_SRC/tests/cli"
	cp -r "$MG_SRCDIR/Makefile" "$MG_SRCDIR/.github" "$MG_SRCDIR/examples" "$NB_SRC/" &&
		cp "$GHACTIONS" "$NB_SRC/tests/cli/" || fail "cannot copy the checkout for nobody"
	GHACTIONS=$NB_SRC/tests/cli/ghactions.py
	EXAMPLES=$NB_SRC/examples/digits
	if [ "$(id -u)" = 0 ]; then
		chmod 711 "$TEST_TMP" # mktemp's 0700 would keep nobody out
		chown -R 65534:65534 "$NB"
	fi
	need_py yaml python3-yaml
}

as_nobody() {
	local -a who=()
	[ "$(id -u)" = 0 ] && who=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	"${who[@]}" env HOME="$NB/home" USER=nobody MODELGATE_HOME="$NB/store" \
		MODELGATE_DIGEST_CACHE="$NB/digests" MODELGATE_AGENT_CACHE="$NB/agent-cache" "$@"
}

ghactions() { as_nobody "$PY" "$GHACTIONS" "$@"; }

# The release is laid by mk/install.sh from this build (bin/, libexec/
# with the agents and their ONNX Runtime) under modelgate-VERSION/.
gh_release() {
	local d=$1 stage=$TEST_TMP/release-stage
	rm -rf "$stage"
	mkdir -p "$stage/modelgate-$MG_VERSION" "$d/v$MG_VERSION"
	must sh "$MG_SRCDIR/mk/install.sh" "$(dirname "$MODELGATE")" "$stage/modelgate-$MG_VERSION/bin" \
		"$stage/modelgate-$MG_VERSION/libexec" "$MG_SRCDIR/.deps/ort"
	TARBALL=modelgate-$MG_VERSION-linux-x86_64.tar.gz
	tar --owner=0 --group=0 -czf "$d/v$MG_VERSION/$TARBALL" -C "$stage" "modelgate-$MG_VERSION" ||
		fail "cannot make $TARBALL"
	(cd "$d/v$MG_VERSION" && sha256sum "$TARBALL" >SHA256SUMS) || fail "sha256sum failed"
}

gh_serve() {
	local port
	port=$(free_port)
	SERVE_LOG=$TEST_TMP/http-$port.log
	"$PY" -u -m http.server --bind 127.0.0.1 --directory "$1" "$port" >"$SERVE_LOG" 2>&1 &
	_pids="$_pids $!"
	SERVE_URL=http://127.0.0.1:$port
	wait_http "$SERVE_URL/"
}

gh_gets() {
	grep -c "\"GET $1 HTTP/1\.[01]\" 200" "$SERVE_LOG"
}
