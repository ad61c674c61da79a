#!/bin/bash
# The GitHub action's time to the first gate result: the action
# (.github/actions/modelgate, run step by step by tests/cli/ghactions.py as
# a runner runs it) on a copy of examples/digits, from start to the gate's
# outputs, installing modelgate three ways, interleaved for BENCH_ROUNDS
# rounds (default 3):
#   release   the `make dist` tarball, served over HTTP on 127.0.0.1
#             (release-url), into an empty tool cache: download, SHA256SUMS
#             check, unpack, then the gate
#   cached    the same with the tool cache the release run left
#   build     the peer: no release there (404), so the action builds its
#             checkout (a `git archive` of HEAD; make deps, make all), as it
#             does where no release matches. Debian packages and ONNX
#             Runtime are already installed (.deps is linked), so this is
#             the compile alone: a lower bound for a fresh runner.
# The ratio is release / build. `make dist` runs first (build-dist/, dist/).
# Run by bench/run.sh with MODELGATE and BENCH_OUT set.
. "$(dirname "$0")/lib.sh"

rounds=${BENCH_ROUNDS:-3}
repo=$(cd "$(dirname "$0")/.." && pwd)
py=/usr/bin/python3
"$py" -c 'import yaml' 2>/dev/null || die "python3-yaml is missing (make deps-test)"
version=$(sed -n 's/^VERSION *:= *//p' "$repo/Makefile")
tarball=modelgate-$version-linux-x86_64.tar.gz
tmp=$(mktemp -d "$tmpbase/bench_action.XXXXXX")
server=
trap '[ -n "$server" ] && kill "$server"; rm -rf "$tmp"' EXIT

echo "bench_action: make dist" >&2
make -C "$repo" --no-print-directory dist >"$tmp/dist.log" 2>&1 || { tail -20 "$tmp/dist.log" >&2; die "make dist failed"; }
mkdir -p "$tmp/www/release" "$tmp/www/none"
ln -s "$repo/dist" "$tmp/www/release/v$version"
port=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$py" -m http.server --bind 127.0.0.1 --directory "$tmp/www" "$port" >"$tmp/http.log" 2>&1 &
server=$!
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done

# the action's checkout for the build peer: HEAD as GitHub downloads it
mkdir -p "$tmp/checkout"
git -C "$repo" archive HEAD | tar -x -C "$tmp/checkout" || die "git archive failed"
ln -s "$repo/.deps" "$tmp/checkout/.deps"

# one NAME RELEASE_URL CACHE: the action once; appends "NAME total install gate" (s)
one() {
	local name=$1 url=$2 cache=$3 action=$repo/.github/actions/modelgate t0 t1
	[ "$name" = build ] && action=$tmp/checkout/.github/actions/modelgate
	rm -rf "$tmp/ws" "$tmp/work"
	mkdir -p "$tmp/ws"
	cp -r "$repo/examples/digits" "$tmp/ws/digits"
	t0=$(date +%s%N)
	HOME=$tmp/home MODELGATE_HOME=$tmp/store MODELGATE_AGENT_CACHE=$tmp/agent-cache \
		"$py" "$repo/tests/cli/ghactions.py" action "$action" --work "$tmp/work" --workspace "$tmp/ws" \
		--tool-cache "$cache" --input working-directory=digits --input release-url="$url" \
		--result "$tmp/r.json" >"$tmp/$name.log" 2>&1 || { tail -20 "$tmp/$name.log" >&2; die "the action failed ($name)"; }
	t1=$(date +%s%N)
	"$py" - "$tmp/r.json" "$name" $((t1 - t0)) >>"$tmp/rows" <<'PY' || die "no gate result ($name)"
import json, sys
s = json.load(open(sys.argv[1]))["jobs"]["action"]["steps"][0]
assert s["outputs"]["passed"] == "true", s["outputs"]
print(sys.argv[2], int(sys.argv[3]) / 1e9, s["steps"][0]["seconds"], s["steps"][1]["seconds"])
PY
}

: >"$tmp/rows"
for r in $(seq "$rounds"); do
	echo "bench_action: round $r of $rounds" >&2
	rm -rf "$tmp/cache" "$tmp/checkout/build"
	one release "http://127.0.0.1:$port/release" "$tmp/cache"
	one cached "http://127.0.0.1:$port/release" "$tmp/cache"
	one build "http://127.0.0.1:$port/none" "$tmp/cache-none"
done
grep -q "GET /release/v$version/$tarball" "$tmp/http.log" || die "the release was not downloaded"
[ -n "$raw" ] && cp "$tmp/rows" "$raw/rows.txt" # NAME total install-step gate-step (s)

size=$(stat -c %s "$repo/dist/$tarball")
"$py" - "$tmp/rows" "$rounds" "$size" "$tarball" >>"$out" <<'PY'
import statistics as st, sys
rows = [l.split() for l in open(sys.argv[1])]
by = {}
for name, total, inst, gate in rows:
    by.setdefault(name, []).append((float(total), float(inst), float(gate)))
def ms(name, i):
    v = [r[i] for r in by[name]]
    return st.mean(v), (st.stdev(v) if len(v) > 1 else 0.0)
print("### GitHub action: time to the first gate result (bench_action.sh)")
print()
print("The action on examples/digits, run step by step by tests/cli/ghactions.py, from start to the")
print("gate's outputs; %s round(s), interleaved." % sys.argv[2])
print("release: `%s` (%.1f MiB) from a local HTTP server into an empty" % (sys.argv[4], int(sys.argv[3]) / 1048576))
print("tool cache; cached: again, from the tool cache; build: the peer, no release (404) so the")
print("action builds its checkout (packages and ONNX Runtime already there: the compile alone).")
print("Mean ± standard deviation in seconds.")
print()
print("| install | total | install step | gate step | target |")
print("|---|---:|---:|---:|---|")
for name in ("release", "cached", "build"):
    (t, ts), (i, is_), (g, gs) = ms(name, 0), ms(name, 1), ms(name, 2)
    target = ("< 30 s: %s" % ("yes" if t < 30 else "**no**")) if name != "build" else ""
    print("| %s | %.1f ± %.1f | %.1f ± %.1f | %.1f ± %.1f | %s |" % (name, t, ts, i, is_, g, gs, target))
(r, rs), (b, bs) = ms("release", 0), ms("build", 0)
ratio = r / b
err = ratio * ((rs / r) ** 2 + (bs / b) ** 2) ** 0.5
print()
print("Ratio release / build (total): %.2f ± %.2f; installing alone: %.2f." % (ratio, err, ms("release", 1)[0] / ms("build", 1)[0]))
print()
PY
