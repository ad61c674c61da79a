#!/bin/bash
# The fleet updater's costs (issue 17), with a real docker-registry and a
# real mosquitto on loopback and N simulated devices (modelgate-device, each
# with its own state directory; BENCH_FLEET_N, default 200), in one run:
#   idle    one `sync --once` of a device that is up to date, with the fleet
#           tag on a release and on a rollout plan: the registry requests and
#           response bytes (from the registry's log), the MQTT messages the
#           broker received (from its log) and the peak RSS; against a
#           script's `skopeo inspect --raw docker://` of the same tag
#   update  N devices on release 1, `rollout start rel2 --stages 100%`, then
#           every device syncs once (xargs -P 2): the wall time until all N
#           run release 2 (their status.json), the messages per device and
#           the peak RSS; against `skopeo copy docker://...:rel2 dir:DEST`
#           into N folders, the bare download a device must do at least
#   size    the stripped size of modelgate-device (x86-64, and aarch64 when
#           build/aarch64/modelgate-device exists), against skopeo's binary
# The counts are exact; the times come from one run each on a shared
# machine, so read the ratio. Run by bench/run.sh (MODELGATE, BENCH_OUT,
# BENCH_RAW, BENCH_TMPDIR); modelgate-device is taken from next to MODELGATE.
. "$(dirname "$0")/lib.sh"

n=${BENCH_FLEET_N:-200}
[[ $n =~ ^[1-9][0-9]*$ ]] || die "BENCH_FLEET_N is '$n', not a number of devices"
device=$(dirname "$MODELGATE")/modelgate-device
[ -x "$device" ] || die "no modelgate-device next to '$MODELGATE' (make builds it)"
for t in skopeo docker-registry mosquitto curl python3 strip; do
	command -v "$t" >/dev/null || die "'$t' is not installed (make deps)"
done
[ -x /usr/bin/time ] || die "'/usr/bin/time' is not installed (package time; make deps)"
repo=$(cd "$(dirname "$0")/.." && pwd)
examples=$repo/examples/digits

dir=$(mktemp -d "$tmpbase/mg-bench-fleet.XXXXXX")
pids="" # (the broker; the registry is REG_PID)
REG_PID=
cleanup() {
	local p
	for p in $pids $REG_PID; do kill "$p" 2>/dev/null || true; done
	for p in $pids $REG_PID; do wait "$p" 2>/dev/null || true; done
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
start_registry "$dir"
# the broker: log_type all logs every PUBLISH it receives
mq_port=$(free_port)
cat >"$dir/mq.conf" <<CONF
listener $mq_port 127.0.0.1
persistence false
allow_anonymous true
user $(id -un)
log_dest file $dir/mq.log
log_type all
CONF
mosquitto -c "$dir/mq.conf" >"$dir/mq.err" 2>&1 &
pids="$pids $!"
for _ in $(seq 100); do grep -q 'Opening ipv4 listen socket' "$dir/mq.log" 2>/dev/null && break; sleep 0.1; done
grep -q 'Opening ipv4 listen socket' "$dir/mq.log" || die "mosquitto did not start: $(cat "$dir/mq.err")"
export MODELGATE_INSECURE_REGISTRIES=$REG SOURCE_DATE_EPOCH=1700000000 MODELGATE_HOME=$dir/home
R=$REG/acme/kws
mg() { "$MODELGATE" -q "$@" >"$dir/mg.out" 2>"$dir/mg.err" || die "modelgate $*: $(cat "$dir/mg.err")"; }

# releases 1 and 2 (models v1 and v2), each with a passing gate report
cd "$dir" || die "cannot enter '$dir'"
mg keygen -o fleet-key
for v in 1 2; do
	f=$examples/model.onnx
	[ "$v" = 1 ] || f=$examples/model_v2.onnx
	"$MODELGATE" push --no-git "$R:v$v" "$f" >digest.out 2>"$dir/mg.err" || die "push: $(cat mg.err)"
	python3 - "$repo/tests/fixtures/report_full.json" "$(tail -1 digest.out)" "r$v.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
j["model"]["digest"] = sys.argv[2]
for g in j["gates"]:
    if g["status"] != "skip":
        g["status"] = "pass"
j.update(status="pass", passed=True, exit_code=0)
json.dump(j, open(sys.argv[3], "w"))
PY
	mg attest "$R:v$v" --report "r$v.json" --sign fleet-key
	mg package "$R:v$v" --report "r$v.json" --sign fleet-key --release "$v" -o "rel$v.tar.zst" --no-git
	"$MODELGATE" push --no-git "$R:rel$v" "rel$v.tar.zst" --artifact-type bundle >digest.out 2>mg.err ||
		die "push of release $v: $(cat mg.err)"
	eval "rel$v=\$(tail -1 digest.out)"
done

mkdir -p devices
for i in $(seq -f %04g 1 "$n"); do
	cat >"devices/$i.json" <<JSON
{"fleet": "kws", "tag": "$R:fleet-kws", "public_key": "$dir/fleet-key.pub",
 "state_dir": "$dir/devices/$i", "device_id": "dev-$i", "labels": {"site": "bench"},
 "health_cmd": "true", "mqtt": {"host": "127.0.0.1", "port": $mq_port}}
JSON
done
# fleet_sync: every device syncs once, 2 at a time, each under /usr/bin/time
# (its peak RSS in devices/I.rss); a device exiting 2 or 3 fails the bench
fleet_sync() {
	seq -f %04g 1 "$n" | xargs -P 2 -I{} sh -c \
		'/usr/bin/time -f %M -o devices/{}.rss "$0" --config devices/{}.json sync --once >devices/{}.out 2>devices/{}.err; echo "{} $?"' \
		"$device" >sync.log
	! grep -v ' [01]$' sync.log || die "a device failed: $(cat "devices/$(grep -v ' [01]$' sync.log | head -1 | cut -d' ' -f1).err")"
}
on() { cat devices/*/status.json | grep -c "\"digest\": \"$1\"" || true; }
mg tag "$R:rel1" fleet-kws
fleet_sync
[ "$(on "$rel1")" = "$n" ] || die "$(on "$rel1") of $n devices run release 1"

# mark: where the logs are now; since MARK: the requests (count, body bytes,
# blob bytes) and the PUBLISH messages the broker received after it
mark() { echo "$(wc -l <registry.log) $(wc -l <mq.log)"; }
since() {
	local reg=${1% *} mq=${1#* }
	tail -n +"$((reg + 1))" registry.log | grep 'response completed' | awk '
		{ w = 0; blob = 0; head = 0
		  for (i = 1; i <= NF; i++) {
			if ($i ~ /^http\.response\.written=/) { sub(/.*=/, "", $i); w = $i + 0 }
			if ($i == "http.request.method=HEAD") head = 1
			if ($i ~ /^http\.request\.uri=.*\/blobs\//) blob = 1 }
		  if (head) w = 0 # (it logs the body a HEAD would have had; none is sent)
		  n++; b += w; if (blob) bb += w }
		END { printf "%d %d %d", n, b, bb }'
	echo " $(tail -n +"$((mq + 1))" mq.log | grep -c 'Received PUBLISH from' || true)"
}
# reqlist MARK [DIV]: the requests since MARK by method and uri (a digest
# shown as DIGEST, the repository as R), each count divided by DIV
reqlist() { tail -n +"$((${1% *} + 1))" registry.log | grep 'response completed' |
	sed -n 's/.*http\.request\.method=\([A-Z]*\).*http\.request\.uri="\{0,1\}\([^" ]*\).*/\1 \2/p' |
	sed -E "s#/acme/kws/#/R/#; s#sha256[:-][0-9a-f]{64}#DIGEST#" | sort | uniq -c |
	awk -v d="${2:-1}" '{ printf "%s%g× %s %s", (NR > 1 ? ", " : ""), $1 / d, $2, $3 }'; }
rss() { awk '/Maximum resident set size/ { print $NF }' "$1"; }

# idle: device 0001 is up to date; the tag points at release 1
idle() { # NAME: one idle poll of device 0001, then skopeo inspect of the tag
	local m
	m=$(mark)
	/usr/bin/time -v -o "time-$1.txt" "$device" --config devices/0001.json sync --once >"idle-$1.out" 2>&1 ||
		die "idle poll ($1): $(cat "idle-$1.out")"
	grep -q 'up to date' "idle-$1.out" || die "idle poll ($1) did something: $(cat "idle-$1.out")"
	echo "$1 modelgate $(since "$m") $(rss "time-$1.txt")" >>idle.txt
	echo "$1 modelgate $(reqlist "$m")" >>idle-req.txt
	m=$(mark)
	/usr/bin/time -v -o "time-$1-skopeo.txt" skopeo inspect --raw --tls-verify=false \
		"docker://$R:fleet-kws" >"skopeo-$1.out" 2>&1 || die "skopeo inspect: $(cat "skopeo-$1.out")"
	echo "$1 skopeo $(since "$m") $(rss "time-$1-skopeo.txt")" >>idle.txt
	echo "$1 skopeo $(reqlist "$m")" >>idle-req.txt
}
: >idle.txt
: >idle-req.txt
idle release

# update: the rollout's one stage, the whole fleet
mg rollout start "$R:rel2" --fleet kws --sign fleet-key --stages 100% --min-healthy-time 0s
m=$(mark)
t0=$(date +%s.%N)
fleet_sync
t1=$(date +%s.%N)
[ "$(on "$rel2")" = "$n" ] || die "$(on "$rel2") of $n devices run release 2 after one sync each"
upd=$(since "$m")
echo "update modelgate $(reqlist "$m" "$n")" >>idle-req.txt
cat devices/*.rss | sort -n >rss-update.txt
# the peer: the same N downloads, nothing else
mkdir -p skopeo
m=$(mark)
t2=$(date +%s.%N)
seq -f %04g 1 "$n" | xargs -P 2 -I{} sh -c \
	'/usr/bin/time -f %M -o skopeo/{}.rss skopeo copy -q --src-tls-verify=false "docker://$0" dir:skopeo/{} >skopeo/{}.err 2>&1 || { cat skopeo/{}.err; exit 255; }' \
	"$R:rel2" || die "skopeo copy failed"
t3=$(date +%s.%N)
sk=$(since "$m")
echo "update skopeo $(reqlist "$m" "$n")" >>idle-req.txt
# (dir: holds manifest.json, version, and the config and the bundle in
# files named by their digest)
blobs=$(find skopeo -mindepth 2 -type f -regextype posix-extended -regex '.*/[0-9a-f]{64}' | wc -l)
[ "$blobs" = $((2 * n)) ] || die "skopeo copied $blobs blobs, not 2 for each of $n devices"
cat skopeo/*.rss | sort -n >rss-skopeo.txt

# idle again, now that the tag points at the rollout plan
idle plan

strip -o stripped "$device" || die "cannot strip '$device'"
size_x64=$(stat -c %s stripped)
a64=$(dirname "$MODELGATE")/aarch64/modelgate-device
size_a64="not built"
if [ -f "$a64" ]; then
	aarch64-linux-gnu-strip -o stripped "$a64" || die "cannot strip '$a64' (aarch64-linux-gnu-strip: make deps)"
	size_a64=$(stat -c %s stripped)
fi
size_skopeo=$(stat -L -c %s "$(command -v skopeo)")
[ -n "$raw" ] && cp idle.txt idle-req.txt rss-update.txt rss-skopeo.txt sync.log mq.log registry.log "$raw/"

python3 - "$n" "$t0" "$t1" "$t2" "$t3" "$upd" "$sk" "$size_x64" "$size_a64" "$size_skopeo" \
	"$(skopeo --version | awk '{ print $3 }')" "$(mosquitto -h 2>&1 | sed -n '1s/.*version //p')" >"$out" <<'PY'
import statistics, sys
n, t0, t1, t2, t3 = int(sys.argv[1]), *map(float, sys.argv[2:6])
upd, sk = [list(map(int, a.split())) for a in sys.argv[6:8]]
size_x64, size_a64, size_skopeo, skv, mqv = sys.argv[8:13]
idle = {}
for line in open("idle.txt"):
    k, tool, *v = line.split()
    idle[k, tool] = list(map(int, v))
req = {}
for line in open("idle-req.txt"):
    k, tool, rest = line.rstrip("\n").split(" ", 2)
    req[k, tool] = rest
rss_u = [int(x) for x in open("rss-update.txt")]
rss_s = [int(x) for x in open("rss-skopeo.txt")]
def ratio(a, b):
    return "—" if b == 0 else "%.2f" % (a / b)
def mib(kib):
    return "%.1f" % (kib / 1024)
print("### Fleet: idle polls, a rollout to %d devices, memory and size (bench_fleet.sh)\n" % n)
print("A docker-registry (distribution 2.8) and mosquitto %s on loopback, %d simulated devices "
      "(`modelgate-device sync --once`, each with its own state directory, `health_cmd` `true`, "
      "status over MQTT). Requests and bytes come from the registry's log (every request's method, "
      "uri and response body bytes; headers not counted, nor the body it logs for a HEAD, which is not sent), messages from the broker's log "
      "(`log_type all`: each PUBLISH it received), peak RSS from `/usr/bin/time`. An *idle poll* is "
      "one sync of a device that is up to date, with the fleet tag on a release and on a rollout "
      "plan; the peer is a script's `skopeo inspect --raw docker://REG/...:TAG` (skopeo %s). The "
      "*update*: all devices on release 1, `rollout start rel2 --stages 100%% --min-healthy-time 0s`, "
      "then every device syncs once, two at a time (`xargs -P 2`), until all run release 2 (their "
      "status.json): download, signature and gate check, unpack, switch, health check, status. "
      "Its peer is `skopeo copy docker://REG/...:rel2 dir:DEST` into as many folders, two at a time: "
      "the bare download. Times are one run each on a shared machine; counts are exact.\n" % (mqv, n, skv))
print("| measure | modelgate-device | skopeo | modelgate ÷ skopeo |")
print("|---|---:|---:|---:|")
for k, what in (("release", "tag on a release"), ("plan", "tag on a rollout plan")):
    m, s = idle[k, "modelgate"], idle[k, "skopeo"]
    print("| idle poll (%s): registry requests | %d | %d | %s |" % (what, m[0], s[0], ratio(m[0], s[0])))
    print("| idle poll (%s): response bytes (of them blob bytes) | %d (%d) | %d (%d) | %s |" % (what, m[1], m[2], s[1], s[2], ratio(m[1], s[1])))
    print("| idle poll (%s): MQTT messages | %d | — | — |" % (what, m[3]))
    print("| idle poll (%s): peak RSS (MiB) | %s | %s | %s |" % (what, mib(m[4]), mib(s[4]), ratio(m[4], s[4])))
tm, ts = t1 - t0, t3 - t2
print("| update of %d devices: wall time (s), `xargs -P 2` | %.2f | %.2f | %.2f |" % (n, tm, ts, tm / ts))
print("| update: per device (ms) | %.0f | %.0f | %.2f |" % (tm / n * 1000, ts / n * 1000, tm / ts))
print("| update: registry requests per device | %.1f | %.1f | %s |" % (upd[0] / n, sk[0] / n, ratio(upd[0], sk[0])))
print("| update: response bytes per device (of them blob bytes) | %.0f (%.0f) | %.0f (%.0f) | %s |" % (upd[1] / n, upd[2] / n, sk[1] / n, sk[2] / n, ratio(upd[1], sk[1])))
print("| update: MQTT messages per device | %.2f | — | — |" % (upd[3] / n))
print("| update: peak RSS, median / max (MiB) | %s / %s | %s / %s | %s |" % (
    mib(statistics.median(rss_u)), mib(max(rss_u)), mib(statistics.median(rss_s)), mib(max(rss_s)),
    ratio(statistics.median(rss_u), statistics.median(rss_s))))
kib = lambda s: "%.0f KiB" % (int(s) / 1024) if s.isdigit() else s
print("| binary size, stripped (x86-64) | %s | %s | %s |" % (kib(size_x64), kib(size_skopeo), ratio(int(size_x64), int(size_skopeo))))
print("| binary size, stripped (aarch64) | %s | — | — |" % kib(size_a64))
print()
for k in ("release", "plan"):
    print("- idle poll, tag on a %s: modelgate-device: %s; skopeo inspect --raw: %s" % (
        "release" if k == "release" else "rollout plan", req[k, "modelgate"] or "none", req[k, "skopeo"] or "none"))
print("- update, per device: modelgate-device: %s; skopeo copy: %s" % (req["update", "modelgate"], req["update", "skopeo"]))
print("- skopeo's size is Debian's binary as installed (already stripped); modelgate-device is `strip`ped here")
PY
