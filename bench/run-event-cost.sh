#!/usr/bin/env bash
# bench/run-event-cost.sh — one recorded magslab event against a bare LTTng-UST event of
# the same payload size, measured in the same process, interleaved (bench/event/event_cost.c).
#
#   bench/run-event-cost.sh [--reps R] [--events N] [--pause-ms P] [--subbuf-size S]
#                           [--num-subbuf K] [--out FILE]
#
# Builds build/bin/bench-event_cost (bench/tracing.mk), then, as root, in a private mount
# namespace (unshare -m: a tmpfs over /run/lttng and /dev/shm, the trace on a tmpfs) under
# a session daemon of its own (started here, stopped on every way out): one session, one
# discard-mode channel of K x S sub-buffers (per-user buffers), recording
# magslab:depot_exchange and msbench:exchange; the benchmark runs; the session is stopped,
# the discarded count read (`lttng list`), the recorded events counted (babeltrace2
# sink.utils.counter).  Prints the benchmark's lines and the counts; with --out, also
# writes them to FILE.  Defaults: 31 reps, 20000 events per block, 50 ms pause, 8 x 4M.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD=${BUILD:-build}
MAKE=${MAKE:-make}
reps=31 events=20000 pause=50 subbuf=4M nsubbuf=8 out=

inner() {
	local tr pid s=evcost discarded recorded
	mount --make-rprivate /
	mkdir -p /run/lttng
	mount -t tmpfs -o mode=0755 evcost-lttng /run/lttng
	mount -t tmpfs evcost-shm /dev/shm
	tr=$(mktemp -d)
	mount -t tmpfs evcost-trace "$tr"
	export LTTNG_HOME=$tr/home
	mkdir -p "$LTTNG_HOME"
	lttng-sessiond --quiet &
	pid=$!
	# shellcheck disable=SC2064 # expand now: our daemon only
	trap "kill $pid 2>/dev/null; wait $pid 2>/dev/null; umount '$tr' 2>/dev/null" EXIT
	for _ in $(seq 50); do lttng list >/dev/null 2>&1 && break; sleep 0.1; done
	{
		lttng create "$s" --output="$tr/$s"
		lttng enable-channel -u -s "$s" --subbuf-size="$subbuf" --num-subbuf="$nsubbuf" ch
		lttng enable-event -u -s "$s" -c ch magslab:depot_exchange,msbench:exchange
		lttng start "$s"
	} >"$tr/lttng.log" 2>&1 || { cat "$tr/lttng.log" >&2; exit 1; }
	"$BUILD/bin/bench-event_cost" --reps "$reps" --events "$events" --pause-ms "$pause"
	lttng stop "$s" >/dev/null
	discarded=$(lttng --mi xml list "$s" | grep -o '<discarded_events>[0-9]*' |
		grep -o '[0-9]*$' | awk '{n += $1} END {print n + 0}')
	lttng destroy "$s" >/dev/null
	recorded=$(babeltrace2 "$tr/$s" -c sink.utils.counter -p step=+0 2>/dev/null |
		awk '$2 == "Event" && $3 == "messages" {print $1}')
	echo "session recorded=$recorded discarded=$discarded channel=${nsubbuf}x$subbuf"
}

if [[ ${1:-} == --inner ]]; then
	shift
	reps=$1 events=$2 pause=$3 subbuf=$4 nsubbuf=$5
	inner
	exit
fi
while (($#)); do
	case $1 in
	--reps) reps=$2; shift 2 ;;
	--events) events=$2; shift 2 ;;
	--pause-ms) pause=$2; shift 2 ;;
	--subbuf-size) subbuf=$2; shift 2 ;;
	--num-subbuf) nsubbuf=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	-h | --help) sed -n '2,15p' "$0" | cut -c3-; exit 0 ;;
	*) echo "run-event-cost: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
done
[[ $(id -u) == 0 ]] || { echo "run-event-cost: run it as root (a private mount namespace)" >&2; exit 2; }
"$MAKE" --no-print-directory -s -f Makefile -f bench/tracing.mk "$BUILD/bin/bench-event_cost"
res=$(unshare -m -- "$0" --inner "$reps" "$events" "$pause" "$subbuf" "$nsubbuf")
printf '%s\n' "$res"
[[ -z $out ]] || printf '%s\n' "$res" >"$out"
