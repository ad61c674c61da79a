#!/bin/bash
# The shell steps of the modelgate action (action.yml), kept here so they can
# be run and tested outside GitHub: `run.sh install` installs modelgate,
# `run.sh run` runs the chosen command with the MG_INPUT_* variables
# action.yml sets, and turns its result into step outputs ($GITHUB_OUTPUT),
# the step summary ($GITHUB_STEP_SUMMARY) and annotations (::error:: lines on
# stdout).
#
# What install installs, the first that applies:
#   1. the modelgate input: a path, or a name looked up on PATH;
#   2. the release of the action's own version (VERSION in the Makefile of
#      the checkout it lives in), from the tool cache when an earlier run
#      put it there, else RELEASE/vVERSION/modelgate-VERSION-linux-x86_64.tar.gz
#      checked against RELEASE/vVERSION/SHA256SUMS and unpacked into
#      $RUNNER_TOOL_CACHE/modelgate/VERSION/x64. RELEASE is the release-url
#      input, else https://github.com/OWNER/REPO/releases/download of the
#      action's repository: GITHUB_ACTION_REPOSITORY, which GitHub leaves
#      empty in composite steps, else the OWNER/REPO of the folder GitHub
#      downloaded the action to (.../_actions/OWNER/REPO/REF/);
#   3. when there is no such release (404), no repository to ask, or the
#      machine is not x86_64: a build of the action's checkout (make deps,
#      through sudo when not root and sudo needs no password; make all).
# Nothing else is installed (no test tools), and nothing needs root but
# the packages of case 3.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd) # the modelgate checkout this action lives in

out() { # key value: one step output
	[ -n "${GITHUB_OUTPUT:-}" ] && printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
	return 0
}

error() { # code message: an error annotation, then exit
	echo "::error title=modelgate::$2"
	exit "$1"
}

# fetch URL FILE: prints the HTTP status of a GET of URL saved into FILE
# (000 when no answer came); transient failures are retried.
fetch() {
	curl -sSL --retry 3 --connect-timeout 30 -o "$2" -w '%{http_code}' "$1" 2>"$2.err" || true
}

# release_base: where the releases are (the folder holding vVERSION/), or
# nothing when the action's repository is unknown.
release_base() {
	local repo=${GITHUB_ACTION_REPOSITORY:-}
	if [ -n "${MG_INPUT_RELEASE_URL:-}" ]; then
		echo "${MG_INPUT_RELEASE_URL%/}"
		return
	fi
	if [ -z "$repo" ]; then
		case $here in
		*/_actions/*/*/*) repo=$(echo "${here##*/_actions/}" | cut -d/ -f1,2) ;;
		esac
	fi
	[ -z "$repo" ] || echo "${GITHUB_SERVER_URL:-https://github.com}/$repo/releases/download"
}

# install_release VERSION: sets bin to the release's modelgate, from the
# tool cache or downloaded into it; leaves bin empty when there is no
# release to install (the caller builds instead). A download that fails otherwise, or
# does not match SHA256SUMS, is exit 3.
install_release() {
	local v=$1 name base url tmp code want got cache new
	name=modelgate-$v-linux-x86_64.tar.gz
	if [ "$(uname -m)" != x86_64 ]; then
		echo "modelgate: releases are built for x86_64 only, this is $(uname -m)"
		return 0
	fi
	cache=${RUNNER_TOOL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}}/modelgate/$v/x64
	if [ -f "$cache.complete" ] && [ -x "$cache/bin/modelgate" ]; then
		echo "modelgate $v: from the tool cache ($cache)"
		bin=$cache/bin/modelgate
		return 0
	fi
	base=$(release_base)
	if [ -z "$base" ]; then
		echo "modelgate: the action's repository is unknown (a local action) and release-url is empty"
		return 0
	fi
	url=$base/v$v
	tmp=$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/modelgate-release.XXXXXX")
	code=$(fetch "$url/SHA256SUMS" "$tmp/SHA256SUMS")
	case $code in
	200) ;;
	404)
		echo "modelgate: no release v$v at $url (404 for SHA256SUMS)"
		rm -rf "$tmp"
		return 0
		;;
	*) error 3 "cannot download $url/SHA256SUMS (HTTP $code) $(head -c 300 "$tmp/SHA256SUMS.err")" ;;
	esac
	want=$(awk -v n="$name" '$2 == n || $2 == "*" n { print $1 }' "$tmp/SHA256SUMS")
	[ -n "$want" ] || error 3 "$url/SHA256SUMS has no line for $name"
	code=$(fetch "$url/$name" "$tmp/$name")
	case $code in
	200) ;;
	404)
		echo "modelgate: release v$v has no $name (404)"
		rm -rf "$tmp"
		return 0
		;;
	*) error 3 "cannot download $url/$name (HTTP $code) $(head -c 300 "$tmp/$name.err")" ;;
	esac
	got=$(sha256sum "$tmp/$name" | cut -d' ' -f1)
	if [ "$got" != "$want" ]; then
		rm -rf "$tmp"
		error 3 "$url/$name does not match SHA256SUMS (sha256 $got, expected $want): refusing to install it"
	fi
	# Unpacked beside the cache entry, then renamed into place and marked
	# complete: an entry a killed job left half-written is never used.
	mkdir -p "$(dirname "$cache")"
	new=$(mktemp -d "$cache.new.XXXXXX")
	if ! tar -xzf "$tmp/$name" -C "$new" --no-same-owner --strip-components=1 "modelgate-$v/" 2>"$tmp/tar.err"; then
		rm -rf "$new" "$tmp"
		error 3 "$name: cannot unpack it, or it has no modelgate-$v/ folder"
	fi
	[ -x "$new/bin/modelgate" ] || { rm -rf "$new" "$tmp"; error 3 "$name has no modelgate-$v/bin/modelgate"; }
	rm -rf "$cache" "$cache.complete"
	mv -T "$new" "$cache" || { rm -rf "$new"; error 3 "cannot move the release into '$cache'"; }
	touch "$cache.complete"
	echo "modelgate $v: installed from $url/$name ($(du -k "$tmp/$name" | cut -f1) KiB, sha256 $got as in SHA256SUMS) into $cache"
	rm -rf "$tmp"
	bin=$cache/bin/modelgate
}

# build_from_source VERSION: sets bin to a build of the action's checkout.
build_from_source() {
	echo "modelgate $1: building it from $top"
	echo "::group::building modelgate $1 from $top"
	if [ "$(id -u)" = 0 ]; then
		make -C "$top" deps
	elif sudo -n true 2>/dev/null; then
		sudo make -C "$top" deps
	else
		make -C "$top" deps # no sudo: deps.sh says what is missing, if anything
	fi
	make -C "$top" -j"$(nproc)" all
	echo "::endgroup::"
	bin=$top/build/modelgate
}

install() {
	local v
	bin=${MG_INPUT_MODELGATE:-}
	if [ -n "$bin" ]; then
		case $bin in
		*/*) ;;
		*) bin=$(command -v "$bin" || echo "$bin") ;;
		esac
	else
		v=$(sed -n 's/^VERSION *:= *//p' "$top/Makefile" 2>/dev/null)
		[ -n "$v" ] || error 2 "cannot read VERSION from $top/Makefile"
		install_release "$v"
		[ -n "$bin" ] || build_from_source "$v"
	fi
	if [ ! -x "$bin" ] || [ -d "$bin" ]; then
		error 2 "'$bin' is not an executable file"
	fi
	bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
	"$bin" --version || error 2 "'$bin' does not run on this machine (see above)"
	[ -n "${GITHUB_ENV:-}" ] && echo "MODELGATE_BIN=$bin" >>"$GITHUB_ENV"
	[ -n "${GITHUB_PATH:-}" ] && dirname "$bin" >>"$GITHUB_PATH"
	return 0
}

# figures FILE: the gate_<name>_value outputs of modelgate as one JSON object.
figures() {
	awk -F= '/^gate_.*_value=/ {
		k = $1; sub(/^gate_/, "", k); sub(/_value$/, "", k)
		printf "%s\"%s\": %s", (n++ ? ", " : ""), k, $2
	} END { printf "\n" }' "$1" | sed 's/^/{/; s/$/}/'
}

run_gate() {
	local reports=$1 tmp_out=$2
	local -a a=(gate -c "${MG_INPUT_CONFIG:-modelgate.json}" --report "$reports/report.json"
		--junit "$reports/junit.xml" --html "$reports/report.html"
		--markdown "$reports/summary.md" --metrics "$reports/metrics.txt")
	[ -n "${MG_INPUT_MODEL:-}" ] && a+=(--model "$MG_INPUT_MODEL")
	[ -n "${MG_INPUT_BASELINE:-}" ] && a+=(--baseline "$MG_INPUT_BASELINE")
	[ -n "${MG_INPUT_TARGET:-}" ] && a+=(--target "$MG_INPUT_TARGET")
	# shellcheck disable=SC2206 # args are split on white space, as documented
	a+=(${MG_INPUT_ARGS:-})
	local rc=0
	GITHUB_OUTPUT=$tmp_out "$MG" "${a[@]}" || rc=$?
	out report-path "$reports/report.json"
	if [ -s "$tmp_out" ]; then
		cat "$tmp_out" >>"${GITHUB_OUTPUT:-/dev/null}"
		out digest "$(sed -n 's/^model_digest=//p' "$tmp_out")"
		out figures "$(figures "$tmp_out")"
	else
		out passed false
		out status error
		out failed 0
		out figures "{}"
	fi
	return $rc
}

run_push() {
	local reports=$1
	[ -n "${MG_INPUT_REF:-}" ] || error 2 "the push command needs the ref input (HOST/REPO:TAG)"
	[ -n "${MG_INPUT_MODEL:-}" ] || error 2 "the push command needs the model input (the file to push)"
	local -a a=(push "$MG_INPUT_REF" "$MG_INPUT_MODEL")
	# shellcheck disable=SC2206
	a+=(${MG_INPUT_ARGS:-})
	local rc=0
	"$MG" "${a[@]}" | tee "$reports/push.out" || rc=$?
	out digest "$(grep -o 'sha256:[0-9a-f]\{64\}' "$reports/push.out" | tail -n 1)"
	return $rc
}

# sign_key: sets KEY to a file with the sign-key input's private key. The
# input is a file, or the key's PEM itself (a secret handed straight to the
# input): that is written to a 0600 file in a 0700 folder of RUNNER_TEMP
# (KEYDIR), removed when the step ends, and never printed.
sign_key() {
	KEY=${MG_INPUT_SIGN_KEY:-}
	case $KEY in
	"") ;;
	*"-----BEGIN "*)
		KEYDIR=$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/modelgate-key.XXXXXX")
		(umask 077 && printf '%s\n' "$MG_INPUT_SIGN_KEY" >"$KEYDIR/key")
		KEY=$KEYDIR/key
		;;
	*) [ -f "$KEY" ] || error 2 "the sign-key input '$KEY' is neither a file nor a PEM private key" ;;
	esac
}

# public_key: sets PUB to the public half of KEY: the file KEY.pub where
# keygen put it, else one derived with openssl into KEYDIR.
public_key() {
	PUB=$KEY.pub
	[ ! -f "$PUB" ] || return 0
	[ -n "$KEYDIR" ] || KEYDIR=$(mktemp -d "${RUNNER_TEMP:-${TMPDIR:-/tmp}}/modelgate-key.XXXXXX")
	PUB=$KEYDIR/key.pub
	openssl pkey -in "$KEY" -pubout -out "$PUB" 2>/dev/null ||
		error 2 "cannot derive the public half of the sign-key input with openssl (is it an Ed25519 private key in PEM?)"
}

run_package() {
	local reports=$1 report=$2
	local -a a=(package "${MG_INPUT_REF:?the package command needs the ref input}"
		--report "$report" -o "${MG_INPUT_BUNDLE:-model.tar.gz}")
	[ -n "$KEY" ] && a+=(--sign "$KEY")
	# shellcheck disable=SC2206
	a+=(${MG_INPUT_ARGS:-})
	local rc=0
	"$MG" "${a[@]}" | tee "$reports/package.out" || rc=$?
	out report-path "$report"
	out bundle "${MG_INPUT_BUNDLE:-model.tar.gz}"
	out digest "$(grep -o 'sha256:[0-9a-f]\{64\}' "$reports/package.out" | tail -n 1)"
	return $rc
}

run_deploy() {
	local reports=$1 report=$2
	local -a a=(deploy "${MG_INPUT_REF:?the deploy command needs the ref input}"
		--env "${MG_INPUT_ENVIRONMENT:?the deploy command needs the environment input}"
		--report "$report")
	# shellcheck disable=SC2206
	a+=(${MG_INPUT_ARGS:-})
	local rc=0
	"$MG" "${a[@]}" | tee "$reports/deploy.out" || rc=$?
	out report-path "$report"
	out digest "$(grep -o 'sha256:[0-9a-f]\{64\}' "$reports/deploy.out" | head -n 1)"
	return $rc
}

# jfield FILE KEY: the value of KEY (a string or a number) in modelgate's
# indented --json output, at the top level (two spaces in); empty if absent.
jfield() {
	sed -n "s/^  \"$2\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}\$/\1/p" "$1" | head -n 1
}

# run_rollout REPORTS: rollout-action (start, status, advance or abort) of
# the fleet input's rollout of ref (start: the release HOST/REPO:TAG; else
# the repository HOST/REPO). The outputs step, stage and state come from
# its --json answer; with a broker, the job summary gets `rollout status
# --format markdown` after it. The broker's password is the environment's
# MODELGATE_MQTT_PASSWORD (from the mqtt-password input), never an argument.
run_rollout() {
	local reports=$1 act=${MG_INPUT_ROLLOUT_ACTION:-} rc=0
	case $act in
	start | status | advance | abort) ;;
	*) error 2 "the rollout command needs the rollout-action input: start, status, advance or abort (not '$act')" ;;
	esac
	[ -n "${MG_INPUT_REF:-}" ] || error 2 "rollout $act needs the ref input (start: the release HOST/REPO:TAG; else HOST/REPO)"
	[ -n "${MG_INPUT_FLEET:-}" ] || error 2 "rollout $act needs the fleet input"
	local -a a=(rollout "$act" "$MG_INPUT_REF" --fleet "$MG_INPUT_FLEET") more=() broker=()
	if [ -n "$KEY" ]; then
		public_key
		more+=(--key "$PUB")
	fi
	# shellcheck disable=SC2206 # args are split on white space, as documented
	more+=(${MG_INPUT_ARGS:-})
	if [ -n "${MG_INPUT_BROKER:-}" ]; then
		broker=(--broker "$MG_INPUT_BROKER")
		[ -n "${MG_INPUT_MQTT_USERNAME:-}" ] && broker+=(--mqtt-user "$MG_INPUT_MQTT_USERNAME")
		[ -n "${MG_INPUT_MQTT_CA_FILE:-}" ] && broker+=(--mqtt-ca-file "$MG_INPUT_MQTT_CA_FILE")
	fi
	case $act in
	start)
		[ -n "${MG_INPUT_STAGES:-}" ] && a+=(--stages "$MG_INPUT_STAGES")
		[ -n "${MG_INPUT_MAX_FAILURES:-}" ] && a+=(--max-failures "$MG_INPUT_MAX_FAILURES")
		[ -n "${MG_INPUT_MIN_HEALTHY_TIME:-}" ] && a+=(--min-healthy-time "$MG_INPUT_MIN_HEALTHY_TIME")
		;;
	status | advance)
		[ -n "${MG_INPUT_BROKER:-}" ] || error 2 "rollout $act reads the devices' status: it needs the broker input (HOST[:PORT])"
		a+=("${broker[@]}")
		;;
	esac
	if [ "$act" != status ]; then
		[ -n "$KEY" ] || error 2 "rollout $act signs a new plan: it needs the sign-key input (the fleet key)"
		a+=(--sign "$KEY")
	fi
	"$MG" "${a[@]}" "${more[@]}" --json >"$reports/rollout.json" || rc=$?
	cat "$reports/rollout.json"
	local j=$reports/rollout.json st stage state
	st=$(sed -n 's/^ *"step": "\([a-z]*\)",\{0,1\}$/\1/p' "$j" | head -n 1)
	stage=$(jfield "$j" stage)
	state=$(jfield "$j" state)
	if [ "$act" = start ] && [ $rc = 0 ]; then
		st=start state=running
	fi
	out step "$st"
	out stage "$stage"
	out state "$state"
	if [ -n "$st" ]; then
		echo "rollout $act, fleet $MG_INPUT_FLEET: $st, stage $stage, $state" >"$reports/rollout.out"
	else
		echo "rollout $act, fleet $MG_INPUT_FLEET: failed (exit $rc); see the log" >"$reports/rollout.out"
	fi
	if [ -n "${MG_INPUT_BROKER:-}" ] && [ $rc -le 1 ]; then
		"$MG" rollout status "$MG_INPUT_REF" --fleet "$MG_INPUT_FLEET" "${broker[@]}" "${more[@]}" \
			--format markdown >"$reports/rollout.md" ||
			echo "::warning title=modelgate rollout::could not read the rollout's status for the job summary"
	fi
	return $rc
}

run() {
	MG=${MODELGATE_BIN:-$(command -v modelgate || true)}
	[ -n "$MG" ] || { echo "::error title=modelgate::modelgate is not installed (run.sh install)"; exit 2; }
	local cmd=${MG_INPUT_COMMAND:-gate} reports=${MG_INPUT_REPORT_DIR:-modelgate-reports}
	mkdir -p "$reports"
	reports=$(cd "$reports" && pwd)
	out report-dir "$reports"
	local report=${MG_INPUT_REPORT:-$reports/report.json} rc=0
	TMP_OUT=$(mktemp)
	KEYDIR=
	trap 'rm -rf "$TMP_OUT" ${KEYDIR:+"$KEYDIR"}' EXIT
	sign_key
	case $cmd in
	push) run_push "$reports" || rc=$? ;;
	gate) run_gate "$reports" "$TMP_OUT" || rc=$? ;;
	package) run_package "$reports" "$report" || rc=$? ;;
	deploy) run_deploy "$reports" "$report" || rc=$? ;;
	rollout) run_rollout "$reports" || rc=$? ;;
	*)
		echo "::error title=modelgate::unknown command '$cmd' (push, gate, package, deploy or rollout)"
		exit 2
		;;
	esac
	out exit-code "$rc"
	if [ "$cmd" != gate ]; then
		out passed "$([ $rc = 0 ] && echo true || echo false)"
		out status "$([ $rc = 0 ] && echo pass || { [ $rc = 1 ] && echo fail || echo error; })"
		if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
			printf '### modelgate %s: %s\n\n```\n%s\n```\n' "$cmd" \
				"$([ $rc = 0 ] && echo done || echo "failed (exit $rc)")" \
				"$(tail -n 20 "$reports/$cmd.out" 2>/dev/null)" >>"$GITHUB_STEP_SUMMARY"
			[ "$cmd" != rollout ] || [ ! -s "$reports/rollout.md" ] || cat "$reports/rollout.md" >>"$GITHUB_STEP_SUMMARY"
		fi
	fi
	if [ "${MG_INPUT_COMMENT:-false}" = true ] && [ "$cmd" = gate ] && [ -s "$reports/report.json" ]; then
		"$MG" comment --report "$reports/report.json" --html "$reports/report.html" ||
			echo "::warning title=modelgate::could not comment on the pull request"
	fi
	case $rc in
	0) ;;
	1)
		case $cmd in
		gate) ;;
		rollout) echo "::error title=modelgate rollout::the rollout halted, or was already halted or aborted (exit 1)" ;;
		*) echo "::error title=modelgate $cmd::refused (exit 1)" ;;
		esac
		[ "${MG_INPUT_FAIL_ON_GATE:-true}" = true ] || rc=0
		;;
	2) echo "::error title=modelgate $cmd::bad usage or input (exit 2); see the log above" ;;
	*) echo "::error title=modelgate $cmd::infrastructure failure (exit $rc): registry or target unreachable" ;;
	esac
	return $rc
}

case ${1:-} in
install) install ;;
run) run ;;
*)
	echo "usage: run.sh install|run" >&2
	exit 2
	;;
esac
