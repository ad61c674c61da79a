#!/bin/bash
# The shell steps of the modelgate action (action.yml), kept here so they can
# be run and tested outside GitHub: `run.sh install` finds or builds
# modelgate, `run.sh run` runs the chosen command with the MG_INPUT_*
# variables action.yml sets, and turns its result into step outputs
# ($GITHUB_OUTPUT), the step summary ($GITHUB_STEP_SUMMARY) and annotations
# (::error:: lines on stdout).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../../.." && pwd) # the modelgate checkout this action lives in

out() { # key value: one step output
	[ -n "${GITHUB_OUTPUT:-}" ] && printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"
	return 0
}

install() {
	local bin=${MG_INPUT_MODELGATE:-}
	if [ -z "$bin" ] && command -v modelgate >/dev/null 2>&1; then
		bin=$(command -v modelgate)
	fi
	if [ -z "$bin" ]; then
		echo "::group::building modelgate from $top"
		if [ "$(id -u)" = 0 ]; then "$top/mk/deps.sh"; else sudo "$top/mk/deps.sh"; fi
		make -C "$top" -j"$(nproc)" all
		echo "::endgroup::"
		bin=$top/build/modelgate
	fi
	if [ ! -x "$bin" ] || [ -d "$bin" ]; then
		echo "::error title=modelgate::'$bin' is not an executable file"
		exit 2
	fi
	bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
	"$bin" --version
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

run_package() {
	local reports=$1 report=$2
	local -a a=(package "${MG_INPUT_REF:?the package command needs the ref input}"
		--report "$report" -o "${MG_INPUT_BUNDLE:-model.tar.gz}")
	[ -n "${MG_INPUT_SIGN_KEY:-}" ] && a+=(--sign "$MG_INPUT_SIGN_KEY")
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

run() {
	MG=${MODELGATE_BIN:-$(command -v modelgate || true)}
	[ -n "$MG" ] || { echo "::error title=modelgate::modelgate is not installed (run.sh install)"; exit 2; }
	local cmd=${MG_INPUT_COMMAND:-gate} reports=${MG_INPUT_REPORT_DIR:-modelgate-reports}
	mkdir -p "$reports"
	reports=$(cd "$reports" && pwd)
	out report-dir "$reports"
	local report=${MG_INPUT_REPORT:-$reports/report.json} rc=0
	TMP_OUT=$(mktemp)
	trap 'rm -f "$TMP_OUT"' EXIT
	case $cmd in
	gate) run_gate "$reports" "$TMP_OUT" || rc=$? ;;
	package) run_package "$reports" "$report" || rc=$? ;;
	deploy) run_deploy "$reports" "$report" || rc=$? ;;
	*)
		echo "::error title=modelgate::unknown command '$cmd' (gate, package or deploy)"
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
		fi
	fi
	if [ "${MG_INPUT_COMMENT:-false}" = true ] && [ "$cmd" = gate ] && [ -s "$reports/report.json" ]; then
		"$MG" comment --report "$reports/report.json" ||
			echo "::warning title=modelgate::could not comment on the pull request"
	fi
	case $rc in
	0) ;;
	1)
		[ "$cmd" = gate ] || echo "::error title=modelgate $cmd::refused (exit 1)"
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
