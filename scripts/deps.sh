#!/usr/bin/env bash
# scripts/deps.sh — make sure the Debian packages magslab needs are installed.
#
# All present: prints one line and exits 0 (a single dpkg-query call, well under a
# second).  Some missing: as root, runs apt-get update + apt-get install for exactly
# the missing ones; otherwise prints the command to run and exits 1.
#
# Needs only bash, dpkg and apt, so .ci/run can call it before make exists.
set -euo pipefail

# The one list of packages the project uses.  Add new ones here.
PACKAGES=(
	make gcc libc6-dev           # build
	clang libclang-rt-dev        # clang builds; sanitizer runtimes (only a Recommends of clang)
	pkg-config                   # install check / README example
	libcmocka-dev                # unit tests
	liblttng-ust-dev             # tracepoints
	lttng-tools liblttng-ctl-dev # trace sessions
	babeltrace2 libbabeltrace2-dev # trace reading
	gnuplot-qt                   # plots: pngcairo, svg, dumb, and the x11/qt windows of magslab live
	gnuplot-data                 # the canvas terminal's scripts (js/), copied into every report for index.html's zoomable plots
	chromium                     # make check: index.html loads with no JavaScript error, its plots are drawn (headless)
	xvfb xauth                   # magslab live --term x11 tested under xvfb-run
	libjansson-dev               # magslab tune reads magslab-workload's JSON
	jq                           # JSON checks in the workload/replay tests
	imagemagick libxml2-utils time # report plugin tests: PNG colours, SVG/HTML validity; bench: peak RSS
	sqlite3 redis-server redis-tools python3 # real programs under the malloc shim: tests and bench/run-programs.sh
)

if [[ "${1:-}" == "--list" ]]; then
	printf '%s\n' "${PACKAGES[@]}"
	exit 0
fi

# dpkg-query prints a line for every package it knows ("ii " = installed) and
# complains on stderr about the ones it has never heard of.
declare -A installed=()
while read -r name status; do
	[[ "$status" == ii* ]] && installed[$name]=1
done < <(dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' "${PACKAGES[@]}" 2>/dev/null || true)

missing=()
for p in "${PACKAGES[@]}"; do
	[[ -n "${installed[$p]:-}" ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
	echo "deps: all ${#PACKAGES[@]} packages present"
	exit 0
fi

cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
if [[ "$(id -u)" != 0 ]]; then
	echo "deps: missing packages: ${missing[*]}" >&2
	echo "deps: install them as root with:" >&2
	echo "  $cmd" >&2
	exit 1
fi

echo "deps: installing missing packages: ${missing[*]}"
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"

# Check again: apt can "succeed" without installing what we asked for.
still=()
for p in "${missing[@]}"; do
	dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || still+=("$p")
done
if ((${#still[@]})); then
	echo "deps: still missing after apt-get install: ${still[*]}" >&2
	exit 1
fi
echo "deps: all ${#PACKAGES[@]} packages present"
