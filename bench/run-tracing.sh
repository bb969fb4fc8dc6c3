#!/usr/bin/env bash
# bench/run-tracing.sh — what tracing costs: bench-tracing built against a
# TRACE=0 library and a TRACE=1 one, run interleaved in three configurations,
# and bench/results/tracing.md written from the run.
#
#   bench/run-tracing.sh                  the recorded run (about 5 minutes)
#   bench/run-tracing.sh --quick          3 reps of short runs, report to stdout
#   bench/run-tracing.sh --reps 31        more repetitions (the default is 21)
#   bench/run-tracing.sh --out FILE       write the report elsewhere (-: stdout only)
#   bench/run-tracing.sh --wait-idle 300  first wait (at most 300 s) for idle CPUs
#
# Other options: --workloads pair,batch  --pair-threads 1  --batch-threads 8
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
# event fires) and batch (--batch allocations then their frees, on
# --batch-threads threads, magsize --magsize fixed by an akaros policy whose
# threshold is never reached: the depot-heavy case).
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
# Needs lttng, lttng-sessiond, babeltrace2, python3 (the summary) and, as
# root, unshare.  Environment: BUILD (default build), MAKE (default make),
# TIMEOUT (seconds per process, default 120).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
BUILD=${BUILD:-build}
MAKE=${MAKE:-make}
TIMEOUT=${TIMEOUT:-120}
DIR=$BUILD/bench-tracing
BIN0=$DIR/trace0/bin/bench-tracing
BIN1=$DIR/trace1/bin/bench-tracing

# Defaults (the inner half inherits the outer half's settings instead).
if [[ -z ${RT_INNER:-} ]]; then
	reps=21
	inner_reps=3
	target_ms=300
	workloads=pair,batch
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
		[[ $w == pair || $w == batch ]] ||
			{ echo "run-tracing: unknown workload '$w' (pair, batch)" >&2; exit 2; }
	done
fi

# ---------------------------------------------------------------------------
# Outer half: check tools, build, then run the inner half in a namespace.

daemon_pids_file() { echo "$PRIV/daemons.pids"; }

# Kills the pids listed in $1 that are still LTTng daemons (a pid that was
# recycled for something else is left alone).
kill_listed() {
	local f=$1 pid comm i
	[[ -s $f ]] || return 0
	for pid in $(sort -u "$f"); do
		comm=$(cat "/proc/$pid/comm" 2>/dev/null) || continue
		[[ $comm == lttng-* ]] || continue
		kill -TERM "$pid" 2>/dev/null || true
	done
	for ((i = 0; i < 40; i++)); do
		local alive=0
		for pid in $(sort -u "$f"); do
			comm=$(cat "/proc/$pid/comm" 2>/dev/null) || continue
			[[ $comm == lttng-* ]] && alive=1
		done
		((alive)) || return 0
		sleep 0.25
	done
	for pid in $(sort -u "$f"); do
		comm=$(cat "/proc/$pid/comm" 2>/dev/null) || continue
		[[ $comm == lttng-* ]] && kill -KILL "$pid" 2>/dev/null || true
	done
}

if [[ -z ${RT_INNER:-} ]]; then
	for t in lttng lttng-sessiond babeltrace2 python3; do
		command -v "$t" >/dev/null ||
			die "$t not found (apt-get install lttng-tools babeltrace2 python3)"
	done
	if [[ $(id -u) == 0 ]]; then
		command -v unshare >/dev/null || die "unshare not found (util-linux)"
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
	if ldd "$BIN0" | grep -q liblttng-ust; then
		die "$BIN0 links liblttng-ust: is TRACE=0 a mode of this Makefile yet?"
	fi
	ldd "$BIN1" | grep -q liblttng-ust ||
		die "$BIN1 does not link liblttng-ust: the library has no tracepoints yet"

	mkdir -p "$DIR"
	PRIV=$(mktemp -d "${TMPDIR:-/tmp}/run-tracing.XXXXXX")
	outer_cleanup() {
		kill_listed "$(daemon_pids_file)"
		rm -rf "$PRIV"
	}
	trap outer_cleanup EXIT
	trap 'exit 130' INT TERM

	export RT_INNER=1 PRIV ORIG_CMD reps inner_reps target_ms workloads \
	       pair_threads batch_threads batch magsize subbuf nsubbuf out \
	       wait_idle BUILD TIMEOUT DIR BIN0 BIN1
	if [[ $(id -u) == 0 ]]; then
		unshare -m --propagation private -- bash "${BASH_SOURCE[0]}"
	else
		bash "${BASH_SOURCE[0]}"
	fi
	exit $?
fi

# ---------------------------------------------------------------------------
# Inner half: a session daemon of our own.

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
record_daemons() {
	[[ -n $SESSIOND ]] || return 0
	{ echo "$SESSIOND"; descendants "$SESSIOND"; } >>"$(daemon_pids_file)"
}

inner_cleanup() {
	record_daemons
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

SESS_N=0
# Runs one process under a recording session; prints its result line plus
# " recorded=N discarded=N".
run_recording() {
	local bin=$1 s line recorded discarded
	shift
	SESS_N=$((SESS_N + 1))
	s=rt$SESS_N
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

load_before=$(loadavg)
pressure_before=$(cpu_pressure)
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
				echo "$rep $w $c fail" >>"$RAW"
				continue
			fi
			echo "$rep $w $c $(field median_ns "$line") $(field min_ns "$line")" \
			     "$(field max_ns "$line") $(field ops "$line")" \
			     "$(field events_timed "$line") $(field events_per_s "$line")" \
			     "$(field events_run "$line") $(field recorded "$line" || true)" \
			     "$(field discarded "$line" || true)" >>"$RAW"
		done
	done
done
echo >&2
elapsed=$((SECONDS - t_start))
load_after=$(loadavg)
pressure_after=$(cpu_pressure)

# Stop our daemon now (the trap does it again if this fails).
inner_cleanup
SESSIOND=

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
	echo "- LTTng: $(lttng --version | head -n 1); lttng-ust $(dpkg-query -W -f='${Version}' liblttng-ust1 2>/dev/null || echo '?');" \
	     "$(babeltrace2 --version | head -n 1)"
	echo "- load average (1, 5, 15 min): $load_before before, $load_after after;" \
	     "CPU pressure avg10: ${pressure_before}% before, ${pressure_after}% after"
}

summary() {
	python3 - "$RAW" "$workloads" "$inner_reps" <<'PY'
import random
import statistics as st
import sys

raw, wls, inner = sys.argv[1], sys.argv[2].split(","), int(sys.argv[3])
CONF = ["trace0", "nosession", "recording"]
NAME = {"trace0": "TRACE=0", "nosession": "TRACE=1, no session",
        "recording": "TRACE=1, recording"}
TARGET = {("nosession", "pair"): 1.01, ("nosession", "batch"): 1.01,
          ("recording", "batch"): 1.15}

runs = {}       # (workload, conf) -> {rep: row}
fails = {}
for line in open(raw):
    f = line.split()
    if len(f) < 4:
        continue
    rep, w, c = int(f[0]), f[1], f[2]
    if f[3] == "fail":
        fails[(w, c)] = fails.get((w, c), 0) + 1
        continue
    row = {"ns": float(f[3]), "min": float(f[4]), "max": float(f[5]),
           "ops": int(f[6]), "ev_timed": int(f[7]), "ev_s": float(f[8]),
           "ev_run": int(f[9])}
    if len(f) >= 12:
        row["rec"], row["disc"] = int(f[10]), int(f[11])
    runs.setdefault((w, c), {})[rep] = row


def quart(v):
    v = sorted(v)
    if len(v) < 2:
        return v[0], v[0]
    q = st.quantiles(v, n=4, method="inclusive")
    return q[0], q[2]


def fmt(x):
    return "%.2f" % x if x < 10 else "%.1f" % x if x < 1000 else "%.0f" % x


def si(x):
    for div, suf in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if x >= div:
            return "%.2f %s" % (x / div, suf)
    return "%.0f" % x


def boot_ci(a, b, n=4000):
    """95% bootstrap interval of median(b)/median(a) over paired reps."""
    reps = sorted(set(a) & set(b))
    if len(reps) < 3:
        return None
    rnd = random.Random(12345)
    out = []
    for _ in range(n):
        s = [rnd.choice(reps) for _ in reps]
        out.append(st.median(b[r]["ns"] for r in s) /
                   st.median(a[r]["ns"] for r in s))
    out.sort()
    return out[int(0.025 * n)], out[int(0.975 * n) - 1]


verdicts = []
notes = []
for w in wls:
    base = runs.get((w, "trace0"), {})
    print("**%s** (%s):\n" % (w, {
        "pair": "allocate, write a word, free; no event fires",
        "batch": "batch of allocations then their frees at a fixed small "
                 "magsize; depot-heavy"}[w]))
    print("| configuration | runs | median ns/op | min | max | IQR "
          "| ratio to TRACE=0 (medians) | per-rep ratio: median [IQR] "
          "| 95% CI of the ratio | cache events/s | recorded | discarded |")
    print("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for c in CONF:
        d = runs.get((w, c), {})
        if not d:
            print("| %s | 0%s | | | | | | | | | | |" % (
                NAME[c], " (%d failed)" % fails[(w, c)] if (w, c) in fails
                else ""))
            continue
        v = [r["ns"] for r in d.values()]
        med = st.median(v)
        q1, q3 = quart(v)
        ratio = pr = ci = ""
        if c != "trace0" and base:
            rmed = med / st.median(r["ns"] for r in base.values())
            ratio = "%.4f" % rmed
            paired = [d[r]["ns"] / base[r]["ns"] for r in d if r in base]
            if paired:
                p1, p3 = quart(paired)
                pr = "%.4f [%.4f, %.4f]" % (st.median(paired), p1, p3)
            b = boot_ci(base, d)
            if b:
                ci = "%.4f .. %.4f" % b
            if (c, w) in TARGET:
                lim = TARGET[(c, w)]
                ok = rmed <= lim
                if b and b[0] <= lim < b[1]:
                    res = "the 95% interval straddles the limit: not resolved from noise"
                elif b:
                    res = "resolved: the whole 95%% interval is %s the limit" % (
                        "below" if ok else "above")
                else:
                    res = "too few runs for an interval"
                verdicts.append((w, NAME[c], rmed, lim, ok, b, res))
        evs = st.median(r["ev_s"] for r in d.values())
        rec = disc = ""
        if c == "recording":
            recs = [r["rec"] for r in d.values() if "rec" in r]
            discs = [r["disc"] for r in d.values() if "disc" in r]
            runs_ev = [r["ev_run"] for r in d.values() if "rec" in r]
            if recs:
                rec = "%s (median per run)" % si(st.median(recs))
                disc = "%d in %d of %d runs" % (
                    sum(discs), sum(1 for x in discs if x), len(discs))
                lost = [r["disc"] / (r["rec"] + r["disc"])
                        for r in d.values() if "rec" in r and r["rec"] + r["disc"]]
                notes.append((w, st.median(recs), sum(discs), max(lost),
                              st.median(runs_ev), evs,
                              st.median(r["ev_timed"] for r in d.values())))
        print("| %s | %d | %s | %s | %s | %s .. %s | %s | %s | %s | %s | %s | %s |" % (
            NAME[c], len(v), fmt(med), fmt(min(v)), fmt(max(v)), fmt(q1),
            fmt(q3), ratio or "1", pr, ci, si(evs) if evs else "0", rec,
            disc))
    print()

print("Targets (ratio of the medians of this run; the interval is a paired "
      "bootstrap over the repetitions):\n")
print("| workload | configuration | ratio | limit | verdict | 95% CI | resolution |")
print("|---|---|--:|--:|---|---|---|")
for w, c, r, lim, ok, b, res in verdicts:
    print("| %s | %s | %.4f | <= %.2f | %s | %s | %s |" % (
        w, c, r, lim, "MET" if ok else "NOT MET",
        "%.4f .. %.4f" % b if b else "n/a", res))
print()
print("%d of %d targets met.\n" % (sum(1 for v in verdicts if v[4]), len(verdicts)))

# What the numbers say about one event.
for w, rec, disc, lost, ev_run, evs, ev_timed in notes:
    a = runs.get((w, "nosession"), {})
    b = runs.get((w, "recording"), {})
    line = ("- %s, recording: %s events recorded per run (median; the cache's "
            "counters say it emitted %s, the rest are other caches', arenas' "
            "and phase markers), %d discarded in total (worst run: %.3f%% "
            "lost); %s cache events/s during the timed part."
            % (w, si(rec), si(ev_run), disc, 100 * lost, si(evs)))
    if a and b and evs > 0:
        ops = st.median(r["ops"] for r in b.values())
        extra = st.median(r["ns"] for r in b.values()) - \
            st.median(r["ns"] for r in a.values())
        # ev_timed covers `inner` measurements of `ops` operations each.
        ev_per_op = ev_timed / (ops * inner)
        print(line)
        print("  That is %.3f events per operation; the recording run is "
              "%.2f ns/op slower than no session, about %.0f ns of CPU time "
              "per recorded event (ns/op counts min(threads, cores) "
              "CPUs: this is per CPU, including what the consumer daemon "
              "took from the workload's cores)." % (
                  ev_per_op, extra, extra / ev_per_op if ev_per_op else 0))
    else:
        print(line)
PY
}

table=$(summary)
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
rotated by r.  $reps repetitions; every process does a warm-up and
$inner_reps timed measurements of ${OPS[pair]:-?} (pair) /
${OPS[batch]:-?} (batch) operations (calibrated to about $target_ms ms each)
and reports their median; the table gives the median, spread and
interquartile range of those per-process medians.  The per-rep ratio
divides each run by the TRACE=0 run of the same repetition.

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
- ns/op = wall x min(threads, cores) / operations.  "cache events/s" is
  what the cache's counters (which count exactly what its events count)
  say fired during the timed measurements, per second of wall time.
- All runs happen in a private mount namespace under a session daemon of
  the script's own (killed at the end, consumer daemons included).

EOF
		echo "$table"
		echo
		echo "Every repetition (ns/op, per-process medians, in run order):"
		echo
		echo "| workload | configuration | ns/op |"
		echo "|---|---|---|"
		for w in "${WL[@]}"; do
			for c in "${CONFIGS[@]}"; do
				vals=$(awk -v w="$w" -v c="$c" '$2 == w && $3 == c {
					printf "%s%s", sep, $4; sep = " / " }' "$RAW")
				echo "| $w | $c | $vals |"
			done
		done
		echo
		echo "Each process's output was in \`$LOG\` (build output, not kept in the tree)."
	} >"$out.tmp"
	mv -f "$out.tmp" "$out"
	echo "run-tracing: wrote $out" >&2
fi
