#!/bin/sh
# make check-fresh: the README's two commands, `make demo` then `make check`,
# on a fresh clone of HEAD inside a brand-new Debian 12 root (mk/root.sh),
# run through mk/chroot.sh. A machine that already has things installed
# hides a missing install step; this root has only what a stock image has.
# Prints each command's exit code, what `make deps`/`make deps-test`
# installed, and the last lines of each log; exits 1 when either failed.
# The logs stay in build/fresh/.
#
#   mk/check_fresh.sh        (as root; MG_FRESH_KEEP=1 keeps the root)
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
[ "$(id -u)" = 0 ] || { echo "check-fresh: needs root (it builds a Debian root and chroots into it)" >&2; exit 2; }
git diff --quiet HEAD 2>/dev/null ||
	echo "check-fresh: note: it tests HEAD ($(git rev-parse --short HEAD)); uncommitted changes are not in it"

logs=$top/build/fresh
rm -rf "$logs"
mkdir -p "$logs"
root=$(mktemp -d /var/tmp/modelgate-fresh.XXXXXX)
cleanup() { [ "${MG_FRESH_KEEP:-0}" = 1 ] && echo "check-fresh: root kept in $root" || rm -rf "$root"; }
trap cleanup EXIT
trap 'exit 130' INT TERM

mk/root.sh "$root"
# Each command on its own clone, as CI and users run them: one does not
# build what the other then leans on (make check once passed here only
# because make demo had already built the man pages).
for cmd in demo check; do
	git clone -q --no-hardlinks "$top" "$root/root/modelgate-$cmd"
	# the bare root tarball (nothing make deps installs) serves the tests
	# that lay roots of their own inside this one (t_dist, t_run_exec)
	mkdir -p "$root/root/modelgate-$cmd/.deps/roots"
	cp "$top"/.deps/roots/bookworm-*.tar "$root/root/modelgate-$cmd/.deps/roots/"
done

status=0
for cmd in demo check; do
	start=$(date +%s)
	rc=0
	mk/chroot.sh "$root" sh -c "cd /root/modelgate-$cmd && make $cmd" >"$logs/$cmd.log" 2>&1 || rc=$?
	echo "== make $cmd: exit $rc after $(($(date +%s) - start)) s (log: build/fresh/$cmd.log)"
	grep '^deps: [0-9]* packages\|^deps: npm test tools\|^deps: ONNX' "$logs/$cmd.log" | sed 's/^/   /' || true
	tail -n 25 "$logs/$cmd.log" | sed 's/^/   | /'
	[ "$rc" = 0 ] || status=1
done
[ "$status" = 0 ] && echo "check-fresh: make demo and make check pass in a fresh Debian 12 root" ||
	echo "check-fresh: FAILED in a fresh Debian 12 root"
exit "$status"
