#!/usr/bin/env bash
# bench/run-tracing.sh — what tracing costs: bench-tracing built against a
# TRACE=0 library and a TRACE=1 one, run interleaved in three configurations,
# and bench/results/tracing.md written from the run.
#
#   bench/run-tracing.sh                  the recorded run (~10 min; more when busy)
#   bench/run-tracing.sh --quick          3 reps of short runs, report to stdout
#   bench/run-tracing.sh --reps 31        more repetitions (the default is 25)
#   bench/run-tracing.sh --out FILE       write the report elsewhere (-: stdout only)
#   bench/run-tracing.sh --wait-idle 300  first wait (at most 300 s) for idle CPUs
#
# Other options: --workloads pair,batch,batch1  --pair-threads 1  --batch-threads 8
#   --batch 1000  --magsize 8  --inner-reps 3  --target-ms 300
#   --subbuf-size 4M  --num-subbuf 8
#
# Configurations (one process each; every process runs --inner-reps timed
# measurements after a warm-up and reports their median):
#
#   trace0     the binary linked against a `make TRACE=0` library;
#   nosession  the binary linked against the default TRACE=1 library, with
#              a session daemon running but no recording session;
#   recording  the TRACE=1 binary while a session records every non-debug
#              magslab event: `lttng enable-event -u 'magslab:*'
#              --loglevel=TRACE_INFO` on a discard-mode channel of
#              --num-subbuf x --subbuf-size sub-buffers (per-user buffers).
#
# Workloads: pair (alloc/free of one object, --pair-threads threads: no
# event fires), batch (--batch allocations then their frees, on
# --batch-threads threads, magsize --magsize fixed by an akaros policy whose
# threshold is never reached: the depot-heavy case of the targets) and
# batch1 (the same on one thread: no lock contention and no time-sharing, so
# it shows the tracepoints' own cost on the depot path without the large
# run-to-run swings of 8 threads on 2 cores; supplementary, no target).
#
# Repetition r runs, for each workload, the three configurations in an order
# that rotates with r (A B C, B C A, C A B, ...), so none is always first or
# always follows the recording run.  The first repetition of the trace0
# binary is preceded by a calibration that sets the operation count every
# process then uses (about --target-ms per measurement).
#
# As root, all of it runs in a private mount namespace (unshare -m) with a
# private directory over /run/lttng, a private /dev/shm and a tmpfs for the
# traces, under a session daemon of its own (started here, killed on every
# way out, consumer daemons included); as another user, under a session
# daemon of its own with LTTNG_HOME in a temporary directory.  After each
# recording run: events in the trace (babeltrace2, sink.utils.counter),
# events the tracer discarded (`lttng list`, before destroy), and the trace
# is deleted.
#
# One run at a time: a second invocation waits for the first (flock on
# $BUILD/bench-tracing/.lock).  Needs lttng, lttng-sessiond, babeltrace2,
# flock and, as root, unshare; the tables come from
# $BUILD/bin/bench-tracing_summary (bench/tracing_summary.c, built here).
# Environment: BUILD (default build), MAKE (default make),
# TIMEOUT (seconds per process, default 120).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD=${BUILD:-build}
MAKE=${MAKE:-make}
TIMEOUT=${TIMEOUT:-120}
DIR=$BUILD/bench-tracing
BIN0=$DIR/trace0/bin/bench-tracing
BIN1=$DIR/trace1/bin/bench-tracing
SUMMARY=$BUILD/bin/bench-tracing_summary

# Defaults (the inner half inherits the outer half's settings instead).
if [[ -z ${RT_INNER:-} ]]; then
	reps=25
	inner_reps=3
	target_ms=300
	workloads=pair,batch,batch1
	pair_threads=1
	batch_threads=8
	batch=1000
	magsize=8
	subbuf=4M
	nsubbuf=8
	out=bench/results/tracing.md
	wait_idle=0
fi

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

die() {
	echo "run-tracing: $*" >&2
	exit 1
}

# The inner half (in the namespace) gets the parsed settings through the
# environment; the outer half parses the command line.
if [[ -z ${RT_INNER:-} ]]; then
	ORIG_CMD="bench/run-tracing.sh${*:+ $*}"
	while (($#)); do
		case $1 in
		--quick) reps=3; target_ms=100; out=-; shift ;;
		--reps|--inner-reps|--target-ms|--workloads|--pair-threads|\
		--batch-threads|--batch|--magsize|--subbuf-size|--num-subbuf|\
		--out|--wait-idle)
			(($# >= 2)) || die "$1 needs a value"
			case $1 in
			--reps) reps=$2 ;;
			--inner-reps) inner_reps=$2 ;;
			--target-ms) target_ms=$2 ;;
			--workloads) workloads=$2 ;;
			--pair-threads) pair_threads=$2 ;;
			--batch-threads) batch_threads=$2 ;;
			--batch) batch=$2 ;;
			--magsize) magsize=$2 ;;
			--subbuf-size) subbuf=$2 ;;
			--num-subbuf) nsubbuf=$2 ;;
			--out) out=$2 ;;
			--wait-idle) wait_idle=$2 ;;
			esac
			shift 2 ;;
		-h|--help) usage; exit 0 ;;
		*) echo "run-tracing: unknown argument '$1' (try --help)" >&2; exit 2 ;;
		esac
	done
	for v in reps inner_reps target_ms pair_threads batch_threads batch \
		 magsize nsubbuf wait_idle; do
		[[ ${!v} =~ ^[0-9]+$ ]] ||
			{ echo "run-tracing: bad --${v//_/-} '${!v}'" >&2; exit 2; }
	done
	((reps >= 1 && inner_reps >= 1)) ||
		{ echo "run-tracing: --reps and --inner-reps must be at least 1" >&2; exit 2; }
	[[ $subbuf =~ ^[0-9]+[kKmMgG]?$ ]] ||
		{ echo "run-tracing: bad --subbuf-size '$subbuf'" >&2; exit 2; }
	IFS=, read -r -a WL <<<"$workloads"
	for w in "${WL[@]}"; do
		[[ $w == pair || $w == batch || $w == batch1 ]] ||
			{ echo "run-tracing: unknown workload '$w' (pair, batch, batch1)" >&2; exit 2; }
	done
fi

# ---------------------------------------------------------------------------
# Outer half: check tools, build, then run the inner half in a namespace.

daemon_pids_file() { echo "$PRIV/daemons.pids"; }

# True if the process recorded as "PID STARTTIME" still runs.
still_there() {
	local start
	start=$(awk '{sub(/.*\) /, ""); print $20}' "/proc/$1/stat" 2>/dev/null) || return 1
	[[ $start == "$2" ]]
}

# Kills the processes listed in $1 ("PID STARTTIME" lines: the session
# daemon we started and its descendants) that still run, TERM first, then
# KILL; then empties the list.  Nothing else is ever signalled.
kill_listed() {
	local f=$1 pid start i alive
	[[ -s $f ]] || return 0
	while read -r pid start; do
		still_there "$pid" "$start" && kill -TERM "$pid" 2>/dev/null || true
	done < <(sort -u "$f")
	for ((i = 0; i < 40; i++)); do
		alive=0
		while read -r pid start; do
			still_there "$pid" "$start" && alive=1
		done < <(sort -u "$f")
		((alive)) || break
		sleep 0.25
	done
	while read -r pid start; do
		still_there "$pid" "$start" && kill -KILL "$pid" 2>/dev/null || true
	done < <(sort -u "$f")
	: >"$f"
}

if [[ -z ${RT_INNER:-} ]]; then
	for t in lttng lttng-sessiond babeltrace2 flock; do
		command -v "$t" >/dev/null ||
			die "$t not found (apt-get install lttng-tools babeltrace2)"
	done
	if [[ $(id -u) == 0 ]]; then
		command -v unshare >/dev/null || die "unshare not found (util-linux)"
	fi

	# One run at a time: two would share the build directories, the logs
	# and, worst, the CPUs each is measuring.  The lock is held on fd 9 for
	# as long as this (outer) shell lives.
	mkdir -p "$DIR"
	exec 9>"$DIR/.lock"
	if ! flock -n 9; then
		echo "run-tracing: another run-tracing.sh holds $DIR/.lock; waiting for it" >&2
		flock 9
	fi

	# Build: bench/tracing.mk holds the rule; name it on the command line
	# unless the top-level Makefile includes it already.
	mkfiles=()
	if ! grep -Eq '^[[:space:]]*-?include[[:space:]].*bench/tracing\.mk' Makefile; then
		mkfiles=(-f Makefile)
		grep -Eq '^[[:space:]]*-?include[[:space:]].*bench/bench\.mk' Makefile ||
			mkfiles+=(-f bench/bench.mk)
		mkfiles+=(-f bench/tracing.mk)
	fi
	"$MAKE" --no-print-directory "${mkfiles[@]}" TRACE=0 BUILD="$DIR/trace0" "$BIN0" >&2 ||
		die "building the TRACE=0 benchmark failed"
	"$MAKE" --no-print-directory "${mkfiles[@]}" TRACE=1 BUILD="$DIR/trace1" "$BIN1" >&2 ||
		die "building the TRACE=1 benchmark failed"
	# The tables (summary() below): a C program, in this build directory.
	"$MAKE" --no-print-directory "${mkfiles[@]}" BUILD="$BUILD" "$SUMMARY" >&2 ||
		die "building $SUMMARY failed"
	# Not `ldd | grep -q`: under pipefail, grep leaving early can kill ldd with SIGPIPE
	# (4 of 10 tries here failed that way).
	if grep -q liblttng-ust <<<"$(ldd "$BIN0")"; then
		die "$BIN0 links liblttng-ust: is TRACE=0 a mode of this Makefile yet?"
	fi
	grep -q liblttng-ust <<<"$(ldd "$BIN1")" ||
		die "$BIN1 does not link liblttng-ust: the library has no tracepoints yet"
	# Which library was measured: the commit, and a digest of the library
	# and provider sources as just built (the tree may hold uncommitted
	# changes).
	SOURCES="git $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(
		git diff --quiet HEAD -- lib tracepoints 2>/dev/null ||
			echo ' with uncommitted changes'
	); sha256 of lib/ and tracepoints/ sources $(
		cat lib/include/magslab/*.h lib/src/*.[ch] tracepoints/*.[ch] 2>/dev/null |
		sha256sum | cut -c1-12)"

	PRIV=$(mktemp -d "${TMPDIR:-/tmp}/run-tracing.XXXXXX")
	outer_cleanup() {
		kill_listed "$(daemon_pids_file)"
		rm -rf "$PRIV"
	}
	trap outer_cleanup EXIT
	trap 'exit 130' INT TERM

	export RT_INNER=1 PRIV ORIG_CMD reps inner_reps target_ms workloads \
	       pair_threads batch_threads batch magsize subbuf nsubbuf out \
	       wait_idle BUILD TIMEOUT DIR BIN0 BIN1 SOURCES
	if [[ $(id -u) == 0 ]]; then
		unshare -m --propagation private -- bash "${BASH_SOURCE[0]}"
	else
		bash "${BASH_SOURCE[0]}"
	fi
	exit $?
fi

# ---------------------------------------------------------------------------
# Inner half: a session daemon of our own.

# The outer shell holds the lock; nothing started from here needs the fd.
exec 9>&-
IFS=, read -r -a WL <<<"$workloads"
TR=$PRIV/traces
mkdir -p "$PRIV/run" "$PRIV/home" "$TR"
export LTTNG_HOME=$PRIV/home
if [[ $(id -u) == 0 ]]; then
	mkdir -p /run/lttng
	mount --bind "$PRIV/run" /run/lttng
	mount -t tmpfs -o mode=1777 tmpfs /dev/shm
	mount -t tmpfs tmpfs "$TR"
	PIDFILE=$PRIV/run/lttng-sessiond.pid
else
	PIDFILE=$LTTNG_HOME/.lttng/lttng-sessiond.pid
fi

# The daemon and everything it started (consumer daemons, run-as helpers).
descendants() {
	local p
	for p in $(pgrep -P "$1" 2>/dev/null || true); do
		echo "$p"
		descendants "$p"
	done
}

SESSIOND=
# Adds the daemon and its descendants, as "PID STARTTIME", to the list the
# cleanups kill from.
record_daemons() {
	local p start
	[[ -n $SESSIOND ]] || return 0
	for p in "$SESSIOND" $(descendants "$SESSIOND"); do
		start=$(awk '{sub(/.*\) /, ""); print $20}' "/proc/$p/stat" 2>/dev/null) || continue
		[[ -n $start ]] && echo "$p $start"
	done >>"$(daemon_pids_file)"
}

inner_cleanup() {
	record_daemons
	SESSIOND=
	kill_listed "$(daemon_pids_file)"
}
trap inner_cleanup EXIT
trap 'exit 130' INT TERM

lttng-sessiond --daemonize --no-kernel >/dev/null 2>&1 ||
	die "lttng-sessiond would not start"
[[ -s $PIDFILE ]] || die "lttng-sessiond wrote no pid file ($PIDFILE)"
SESSIOND=$(cat "$PIDFILE")
record_daemons

LOG=$DIR/log.txt
RAW=$DIR/results.txt
: >"$LOG"
: >"$RAW"

# Runs one process; prints its result line (and logs everything).
run_bench() {
	local bin=$1 res rc
	shift
	echo "=== $bin $*" >>"$LOG"
	set +e
	res=$(timeout "$TIMEOUT" "$bin" "$@" 2>&1)
	rc=$?
	set -e
	printf '%s\n' "$res" >>"$LOG"
	if ((rc != 0)) || ! grep -q '^result ' <<<"$res"; then
		echo "run-tracing: FAILED (rc $rc): $bin $*" >&2
		printf '%s\n' "$res" | tail -n 3 >&2
		return 1
	fi
	grep '^result ' <<<"$res"
}

field() { sed -nE "s/.* $1=([^ ]+).*/\1/p" <<<"$2"; }

# Runs one process under a recording session; prints its result line plus
# " recorded=N discarded=N".
run_recording() {
	local bin=$1 s=rt$BASHPID line recorded discarded
	shift
	{
		lttng create "$s" --output="$TR/$s"
		lttng enable-channel -u -s "$s" --subbuf-size="$subbuf" \
			--num-subbuf="$nsubbuf" magslab
		lttng enable-event -u -s "$s" -c magslab 'magslab:*' \
			--loglevel=TRACE_INFO
		lttng start "$s"
	} >>"$LOG" 2>&1 || { echo "run-tracing: setting up session $s failed" >&2; return 1; }
	if ! line=$(run_bench "$bin" "$@"); then
		lttng destroy "$s" >>"$LOG" 2>&1 || true
		return 1
	fi
	lttng stop "$s" >>"$LOG" 2>&1
	discarded=$(lttng --mi xml list "$s" |
		grep -o '<discarded_events>[0-9]*' | grep -o '[0-9]*$' |
		awk '{n += $1} END {print n + 0}')
	lttng destroy "$s" >>"$LOG" 2>&1
	recorded=$(babeltrace2 "$TR/$s" -c sink.utils.counter -p step=+0 2>>"$LOG" |
		awk '$2 == "Event" && $3 == "messages" {print $1}')
	rm -rf "${TR:?}/$s"
	[[ -n $recorded ]] || { echo "run-tracing: could not read the trace of $s" >&2; return 1; }
	echo "$line recorded=$recorded discarded=$discarded"
}

# The workload's options, into the array WARGS.
wl_args() {
	case $1 in
	pair) WARGS=(--workload pair --threads "$pair_threads") ;;
	batch) WARGS=(--workload batch --threads "$batch_threads" --batch "$batch") ;;
	batch1) WARGS=(--workload batch --threads 1 --batch "$batch") ;;
	esac
	WARGS+=(--magsize "$magsize")
}

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
cpu_pressure() {
	if [[ -r /proc/pressure/cpu ]]; then
		sed -nE '1s/.*avg10=([0-9.]+).*/\1/p' /proc/pressure/cpu
	else
		echo "n/a"
	fi
}

# Preflight: the TRACE=1 library must record events at all.
wl_args batch
pre=$(run_recording "$BIN1" "${WARGS[@]}" --ops 200000 --reps 1 --warmup 0) || die "the preflight recording run failed (see $LOG)"
if [[ $(field recorded "$pre") -lt 100 ]]; then
	die "the TRACE=1 library recorded $(field recorded "$pre") events in a depot-heavy run: are its tracepoints wired in?"
fi
echo "run-tracing: preflight recorded $(field recorded "$pre") events" >&2

if [[ $wait_idle =~ ^[1-9][0-9]*$ ]]; then
	deadline=$((SECONDS + wait_idle))
	while [[ $(cpu_pressure | cut -d. -f1) -ge 5 ]] && ((SECONDS < deadline)); do
		printf '\r  waiting for idle CPUs: pressure %s%%, load %s   ' \
			"$(cpu_pressure)" "$(loadavg)" >&2
		sleep 5
	done
	echo >&2
fi

# Calibration: the operation count per measurement, from the trace0 binary.
declare -A OPS=()
for w in "${WL[@]}"; do
	wl_args "$w"
	line=$(run_bench "$BIN0" "${WARGS[@]}" --target-ms "$target_ms" --reps 1) || die "calibrating $w failed"
	OPS[$w]=$(field ops "$line")
done

# Share of the run's time in which some task waited for a CPU (PSI total).
psi_total() { sed -nE '1s/.*total=([0-9]+).*/\1/p' /proc/pressure/cpu 2>/dev/null; }
load_before=$(loadavg)
pressure_before=$(cpu_pressure)
psi_before=$(psi_total)
t_ns_before=$(date +%s%N)
date_start=$(date '+%Y-%m-%d %H:%M:%S %z')
t_start=$SECONDS
CONFIGS=(trace0 nosession recording)
total=$((reps * ${#WL[@]} * 3))
n=0
echo "run-tracing: $reps reps x ${#WL[@]} workloads x 3 configurations = $total runs" >&2
for ((rep = 1; rep <= reps; rep++)); do
	for w in "${WL[@]}"; do
		for ((k = 0; k < 3; k++)); do
			c=${CONFIGS[$(((rep - 1 + k) % 3))]}
			n=$((n + 1))
			printf '\r  [%d/%d] rep %d %-5s %-9s ' "$n" "$total" "$rep" "$w" "$c" >&2
			wl_args "$w"
			args=("${WARGS[@]}" --ops "${OPS[$w]}"
			      --reps "$inner_reps" --warmup 1)
			case $c in
			trace0) line=$(run_bench "$BIN0" "${args[@]}") || line= ;;
			nosession) line=$(run_bench "$BIN1" "${args[@]}") || line= ;;
			recording) line=$(run_recording "$BIN1" "${args[@]}") || line= ;;
			esac
			if [[ -z $line ]]; then
				echo "rep=$rep wl=$w conf=$c fail=1" >>"$RAW"
				continue
			fi
			echo "rep=$rep wl=$w conf=$c ${line#result }" >>"$RAW"
		done
	done
done
echo >&2
elapsed=$((SECONDS - t_start))
load_after=$(loadavg)
pressure_after=$(cpu_pressure)
psi_after=$(psi_total)
t_ns_after=$(date +%s%N)
if [[ -n $psi_before && -n $psi_after ]]; then
	psi_run=$(awk -v a="$psi_before" -v b="$psi_after" -v t0="$t_ns_before" -v t1="$t_ns_after" \
		'BEGIN {printf "%.0f%%", 100 * (b - a) * 1000 / (t1 - t0)}')
else
	psi_run="n/a"
fi

# Stop our daemon now (the traps try again if this fails).
inner_cleanup

# ---------------------------------------------------------------------------
# Report.

machine() {
	local model
	model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
	echo "- CPUs: $(nproc) online ($model); $(lscpu 2>/dev/null |
		awk -F: '/^Thread\(s\) per core/ {gsub(/ /, "", $2); t=$2}
			 /^Hypervisor vendor/ {gsub(/^ +/, "", $2); h=$2}
			 END {printf "%s thread(s) per core%s", t, h ? ", hypervisor " h : ""}')"
	echo "- kernel: $(uname -srm); $(. /etc/os-release && echo "$PRETTY_NAME")"
	echo "- compiler: $(${CC:-gcc} --version | head -n 1)"
	echo "- sources: $SOURCES"
	echo "- LTTng: $(lttng --version | head -n 1); lttng-ust $(dpkg-query -W -f='${Version}' liblttng-ust1 2>/dev/null || echo '?');" \
	     "$(babeltrace2 --version | head -n 1)"
	echo "- the run's niceness: $(nice) (processes started by others kept running)"
	echo "- load average (1, 5, 15 min): $load_before before, $load_after after;" \
	     "CPU pressure avg10: ${pressure_before}% before, ${pressure_after}% after;" \
	     "some task was waiting for a CPU during $psi_run of the run (PSI)"
}

# The tables (tables) or every repetition's figures (reps), from $RAW
# (bench/tracing_summary.c says how).
summary() {
	"$SUMMARY" "$1" "$RAW" "$workloads" "$inner_reps"
}

table=$(summary tables)
echo "$table"

if [[ $out != - ]]; then
	{
		echo "# bench-tracing: what the magslab tracepoints cost"
		echo
		echo "Command (from the top of the tree, as root):"
		echo
		echo "    $ORIG_CMD"
		echo
		echo "Run $date_start, took ${elapsed} s."
		echo
		machine
		echo
		cat <<EOF
Three configurations of \`bench/tracing.c\`, each its own process, run
interleaved: repetition r runs, for each workload, the three in an order
rotated by r.  $reps repetitions.  Every process does a warm-up and
$inner_reps timed measurements (operations per measurement: pair
${OPS[pair]:-n/a}, batch ${OPS[batch]:-n/a}; calibrated to about
$target_ms ms each) and reports their median; the tables give the median,
extremes and interquartile range of those per-process medians.  The
per-rep ratio divides each run by the TRACE=0 run of the same repetition;
the 95% interval is a bootstrap of the ratio of medians over repetitions
(resampled in pairs); the best-run ratio compares the fastest single
measurement of each configuration (other processes only ever add time, so
it is the least disturbed figure).

- **TRACE=0**: \`$BIN0\`, linked against a \`make TRACE=0\` library (no
  tracepoint code, no LTTng at run time).
- **TRACE=1, no session**: \`$BIN1\`, the default tracing build; a session
  daemon is running but no session exists, so every tracepoint is a load and
  a branch not taken.
- **TRACE=1, recording**: the same binary while a session records every
  non-debug event: \`lttng enable-event -u 'magslab:*' --loglevel=TRACE_INFO\`
  on a discard-mode channel of $nsubbuf x $subbuf sub-buffers (per-user
  buffers, so per CPU), trace written to a tmpfs.  Recorded events are
  counted with \`babeltrace2 -c sink.utils.counter\`, discarded ones are the
  channel's count from \`lttng list\` after \`lttng stop\`.
- **pair**: $pair_threads thread(s): allocate, write a word, free.  Served
  by the per-CPU cache: no event fires at all.
- **batch**: $batch_threads threads pinned round-robin to the CPUs, each
  allocating $batch objects (64 bytes) then freeing them in order, magsize
  $magsize (akaros policy, resize threshold UINT64_MAX: it never grows), so
  about every ${magsize}th operation swaps magazines or visits the depot.
- **batch1** (supplementary, no target): the same on one thread.  At 8
  threads on 2 cores the depot mutex and the pcc locks are fought over by
  threads that time-share a core, and how often a lock holder is preempted
  changes from run to run: ns/op swings by 3-4x between runs of the same
  binary.  One thread has none of that, so it shows what the tracepoints
  themselves cost on the depot path.
- ns/op = wall x min(threads, cores) / operations; CPU ns/op = CPU time
  of the benchmark's threads (CLOCK_THREAD_CPUTIME_ID, summed) /
  operations.  CPU time leaves out the time other processes had the CPUs,
  so on this shared machine it is far steadier than wall time; it also
  leaves out the consumer daemon, so for the recording runs wall time is
  the honest measure.  "cache events/s" is what the cache's counters (which
  count exactly what its events count) say fired during the timed
  measurements, per second of wall time.
- All runs happen in a private mount namespace under a session daemon of
  the script's own (killed at the end, consumer daemons included).

EOF
		echo "$table"
		echo
		summary reps
		echo
		echo "Each process's output was in \`$LOG\` (build output, not kept in the tree)."
	} >"$out.tmp"
	mv -f "$out.tmp" "$out"
	echo "run-tracing: wrote $out" >&2
fi
