#!/usr/bin/env bash
# bench/run-arena.sh — builds bench-arena and runs the two configurations
# recorded in bench/results/arena.md, machine description first.
#
#   bench/run-arena.sh                  both runs (3 to 5 minutes on 2 cores)
#   bench/run-arena.sh --quick          a 10-second smoke run instead
#   bench/run-arena.sh --wait-idle 300  first wait (at most 300 s) until the
#                                       CPU pressure avg10 is below 10%
#
# The tables go to stdout, progress to stderr.  The CPU pressure (PSI,
# /proc/pressure/cpu "some avg10": the share of time something was waiting
# for a CPU) is printed before and after each run: on a shared machine it
# says how much the absolute numbers can be trusted; the ratios inside one
# run are the robust part.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

BUILD=${BUILD:-build}
BIN=$BUILD/bin/bench-arena
quick=0
wait_idle=0

while [ $# -gt 0 ]; do
	case "$1" in
	--quick) quick=1 ;;
	--wait-idle)
		if [ $# -lt 2 ] || ! [[ "$2" =~ ^[0-9]+$ ]]; then
			echo "run-arena.sh: --wait-idle wants a number of seconds" >&2
			exit 2
		fi
		wait_idle=$2
		shift
		;;
	*)
		echo "run-arena.sh: unknown argument '$1' (try --quick, --wait-idle SECONDS)" >&2
		exit 2
		;;
	esac
	shift
done

pressure() {
	if [ -r /proc/pressure/cpu ]; then
		sed -n 's/^some avg10=\([0-9.]*\).*/\1%/p' /proc/pressure/cpu
	else
		echo "n/a"
	fi
}

load() {
	echo "loadavg $(cut -d' ' -f1-3 /proc/loadavg), cpu pressure avg10 $(pressure)"
}

# The top-level Makefile may or may not include bench/bench.mk yet.
if grep -q '^-\?include bench/bench\.mk' Makefile; then
	make --no-print-directory BUILD="$BUILD" "$BIN" >&2
else
	make --no-print-directory BUILD="$BUILD" -f Makefile -f bench/bench.mk "$BIN" >&2
fi

if [ "$wait_idle" -gt 0 ] && [ -r /proc/pressure/cpu ]; then
	end=$((SECONDS + wait_idle))
	while p=$(pressure) && [ "${p%%.*}" -ge 10 ] && [ $SECONDS -lt $end ]; do
		echo "run-arena.sh: waiting for idle CPUs ($(load))" >&2
		sleep 10
	done
fi

echo "nproc: $(nproc)"
echo "cpu: $(grep -m1 '^model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //')"
echo "kernel: $(uname -r)"
echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "git HEAD: $(git rev-parse --short HEAD 2>/dev/null || echo none)," \
     "lib/src/arena.c sha256 $(sha256sum lib/src/arena.c | cut -c1-12)" \
     "$(git diff --quiet HEAD -- lib/src/arena.c 2>/dev/null || echo '(modified)')"
echo

run() {
	echo "before: $(load)"
	echo "\$ $BIN $*"
	"$BIN" "$@"
	echo "after: $(load)"
	echo
}

if [ $quick = 1 ]; then
	run --live 10000 --ops 50000 --reps 1 --floor 100000
	exit 0
fi
# 1. The issue's configuration: 1,000,000 live segments, every mode.
run --live 1000000 --ops 2000000 --reps 3 --max-seconds 8
# 2. Small enough that the xalloc fills finish: the alignment cost itself.
run --live 20000 --ops 400000 --reps 3 --max-seconds 8
