#!/usr/bin/env bash
# bench/run-analysis.sh — benchmark of the trace analysis (sink.magslab.report), and a
# recorder of magslab traces in a private LTTng session daemon.
#
#   bench/run-analysis.sh [bench] [-B BUILD] [--trace DIR] [--runs N] [--out FILE]
#                         [--callgrind]
#       Records (unless --trace names an existing trace) a trace of at least 5 M events:
#         magslab-workload batch --threads 8 --threshold 1 --duration 5
#       in blocking mode (nothing discarded; prodcons grows its magsize to 62 within a
#       second and then makes too few events), then times, N runs each (default 5; the
#       median is reported; dummy and report alternate):
#         babeltrace2 TRACE -c sink.utils.dummy                         (decode only)
#         babeltrace2 --plugin-path=... TRACE -c sink.magslab.report    (the data pass)
#         gnuplot magsize.gp contention.gp hash.gp depot.gp layers.gp    (in the report dir)
#         build/bin/magslab report TRACE -o DIR [--no-plots]             (when built)
#       with the peak RSS of each (/usr/bin/time -v), and writes bench/results/analysis.md
#       (or --out FILE).  Targets: report data pass <= 1.15 x dummy, peak RSS <= 64 MiB.
#       --callgrind also counts the instructions of both data passes (valgrind
#       --tool=callgrind, about 50 times slower): a measure that other load on the machine
#       does not disturb, and the instructions spent in the sink's own event handling.
#
#   bench/run-analysis.sh record OUTDIR [--subbuf SIZE] [--nsub N] [--blocking]
#                                [--buffers-pid] [--vpid] [--events LIST] -- CMD ARGS...
#       Runs CMD under an LTTng session of a session daemon started for it in a private
#       mount namespace (tmpfs over /run/lttng and /dev/shm, as tests/lttng-session.sh
#       does), writes the CTF trace to OUTDIR, stops the daemon it started (by pid) and
#       prints how many events were discarded.  Defaults: sub-buffers 4M x 4, per-UID
#       buffers, events 'magslab:*'.  --vpid adds the vpid context.  Needs root (or user
#       namespaces).  The committed traces of tests/data/report-* were made with it
#       (tests/data/report-traces.md).
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)

die() {
	echo "run-analysis: $*" >&2
	exit 1
}

# ---- record ----------------------------------------------------------------------------------

# The inner side: in the private mount namespace.
record_inner() {
	local out=$1 subbuf=$2 nsub=$3 blocking=$4 bufpid=$5 vpid=$6 events=$7
	shift 7
	local pidfile rc=0 sd_pid home
	local -a chopts=(--subbuf-size="$subbuf" --num-subbuf="$nsub") envs=()

	mount --make-rprivate / || die "mount --make-rprivate / failed"
	mkdir -p /run/lttng 2>/dev/null
	mount -t tmpfs -o mode=0755 magslab-lttng /run/lttng || die "cannot mount a tmpfs on /run/lttng"
	if [[ $(readlink -f /var/run) != /run && -d /var/run ]]; then
		mkdir -p /var/run/lttng && mount -t tmpfs -o mode=0755 magslab-lttng /var/run/lttng ||
			die "cannot mount a tmpfs on /var/run/lttng"
	fi
	mount -t tmpfs -o mode=1777 magslab-shm /dev/shm || die "cannot mount a tmpfs on /dev/shm"
	home=$(mktemp -d) || exit 1
	export LTTNG_HOME=$home
	pidfile=$home/sessiond.pid
	lttng-sessiond -d --no-kernel >"$home/sessiond.log" 2>&1 ||
		die "lttng-sessiond failed: $(head -n 2 "$home/sessiond.log")"
	# The daemon's pid (in this namespace only): the one whose mount namespace is ours.
	for p in /proc/[0-9]*; do
		[[ $(cat "$p/comm" 2>/dev/null) == lttng-sessiond && $p/ns/mnt -ef /proc/self/ns/mnt ]] &&
			sd_pid=${p#/proc/}
	done
	[[ -n ${sd_pid:-} ]] || die "lttng-sessiond did not start"
	echo "$sd_pid" >"$pidfile"
	# shellcheck disable=SC2064 # expand now
	trap "kill -TERM $sd_pid 2>/dev/null; for i in \$(seq 50); do kill -0 $sd_pid 2>/dev/null || break; sleep 0.1; done; kill -KILL $sd_pid 2>/dev/null; rm -rf '$home'" EXIT
	((bufpid)) && chopts+=(--buffers-pid)
	if ((blocking)); then
		chopts+=(--blocking-timeout=inf)
		envs+=(LTTNG_UST_ALLOW_BLOCKING=1)
	fi
	{
		lttng create rec --output="$out" &&
			lttng enable-channel -u ch "${chopts[@]}" &&
			lttng enable-event -u -c ch "$events" &&
			{ ((!vpid)) || lttng add-context -u -c ch -t vpid; } &&
			lttng start
	} >"$home/lttng.log" 2>&1 || die "lttng session set-up failed: $(tail -n 3 "$home/lttng.log")"
	env "${envs[@]}" "$@" || rc=$?
	lttng stop rec >>"$home/lttng.log" 2>&1
	lttng destroy --no-wait rec >>"$home/lttng.log" 2>&1
	return $rc
}

record_main() {
	local out='' subbuf=4M nsub=4 blocking=0 bufpid=0 vpid=0 events='magslab:*' rc n
	[[ $# -ge 1 && $1 != -* ]] || die "record: usage: record OUTDIR [options] -- CMD ARGS..."
	out=$1
	shift
	while (($#)); do
		case $1 in
		--subbuf) subbuf=$2; shift 2 ;;
		--nsub) nsub=$2; shift 2 ;;
		--blocking) blocking=1; shift ;;
		--buffers-pid) bufpid=1; shift ;;
		--vpid) vpid=1; shift ;;
		--events) events=$2; shift 2 ;;
		--) shift; break ;;
		*) die "record: unknown option $1" ;;
		esac
	done
	(($#)) || die "record: no command"
	[[ -e $out ]] && die "record: $out exists"
	mkdir -p "$(dirname "$out")" || exit 1
	out=$(cd "$(dirname "$out")" && pwd)/$(basename "$out")
	for t in lttng lttng-sessiond babeltrace2 unshare; do
		command -v "$t" >/dev/null || die "record: '$t' is not installed"
	done
	unshare -m -- "$0" --record-inner "$out" "$subbuf" "$nsub" "$blocking" "$bufpid" "$vpid" \
		"$events" "$@"
	rc=$?
	[[ -d $out ]] || die "record: no trace was written to $out"
	n=$(babeltrace2 "$out" 2>&1 >/dev/null | awk '/Tracer discarded/ { n += $4 } END { print n + 0 }')
	echo "record: trace in $out ($(du -sh "$out" | cut -f1)); $n events discarded; command exit status $rc" >&2
	return $rc
}

# ---- bench -------------------------------------------------------------------------------------

# measure <cmd...>: one run under /usr/bin/time -v, pinned to one CPU (PIN); prints
# "wall_s cpu_s maxrss_kib" (cpu = user + system).
PIN=()
measure() {
	local tf
	tf=$(mktemp)
	/usr/bin/time -v -o "$tf" "${PIN[@]}" "$@" >/dev/null 2>"$tf.err" || {
		echo "run-analysis: failed: $* ($(tail -n 2 "$tf.err"))" >&2
		rm -f "$tf" "$tf.err"
		return 1
	}
	awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0
			for (i = 1; i <= n; i++) s = s * 60 + p[i] }
		    /User time \(seconds\)/ { u = $2 }
		    /System time \(seconds\)/ { y = $2 }
		    /Maximum resident set size/ { m = $2 }
		    END { printf "%.3f %.3f %d\n", s, u + y, m }' "$tf"
	rm -f "$tf" "$tf.err"
}

# runs N <cmd...>: N runs; prints "median_wall_s median_cpu_s max_rss_kib".
runs() {
	local n=$1 i
	shift
	for ((i = 0; i < n; i++)); do
		measure "$@" || return 1
	done | awk '{ w[NR] = $1; c[NR] = $2; if ($3 > m) m = $3 }
		function med(a, n,   i, j, t) {
			for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
				t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
			return a[int((n + 1) / 2)] }
		END { printf "%.3f %.3f %d\n", med(w, NR), med(c, NR), m }'
}

# count_events TRACE: the number of event messages (sink.utils.counter).
count_events() {
	babeltrace2 "$1" -c sink.utils.counter -p 'step=+0' 2>/dev/null |
		awk '/Event messages?$/ { print $1 }'
}

# median_of FILE: "median_wall median_cpu max_rss" of measure lines.
median_of() {
	awk '{ w[NR] = $1; c[NR] = $2; if ($3 > m) m = $3 }
		function med(a, n,   i, j, t) {
			for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
				t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
			return a[int((n + 1) / 2)] }
		END { printf "%.3f %.3f %d\n", med(w, NR), med(c, NR), m }' "$1"
}

bench_main() {
	local build=build trace='' nruns=5 out=bench/results/analysis.md work plugdir fe
	local events size dummy rep rep_fe rep_fe_np gp ratio_w ratio_c rss_ok t_ok i load_before
	local callgrind=0 ir_d='' ir_r='' ir_h='' dur
	local trace_what="\`magslab-workload batch --threads 8 --threshold 1 --duration 5\`"
	while (($#)); do
		case $1 in
		-B) build=$2; shift 2 ;;
		--trace) trace=$2; shift 2 ;;
		--runs) nruns=$2; shift 2 ;;
		--out) out=$2; shift 2 ;;
		--callgrind) callgrind=1; shift ;;
		*) die "unknown option $1 (see the header of $0)" ;;
		esac
	done
	make --no-print-directory analysis-plugin workloads BUILD="$build" >/dev/null ||
		die "make analysis-plugin workloads failed"
	make --no-print-directory frontend BUILD="$build" >/dev/null 2>&1
	plugdir=$ROOT/$build/lib/babeltrace2/plugins
	fe=$ROOT/$build/bin/magslab
	work=$(mktemp -d /tmp/magslab-bench-analysis.XXXXXX) || exit 1
	load_before=$(cut -d' ' -f1-3 /proc/loadavg)
	# babeltrace2 runs on one thread: pinning every timed command to the same CPU takes
	# the scheduler's migrations out of the comparison.
	command -v taskset >/dev/null && PIN=(taskset -c "$(($(nproc) - 1))")
	[[ -n $trace ]] && trace_what="$trace (given with --trace)"
	if [[ -z $trace ]]; then
		# How many events 5 s make depends on the machine's load: longer until >= 5 M.
		for dur in 5 8 12; do
			trace=$work/trace
			rm -rf "$trace"
			trace_what="\`magslab-workload batch --threads 8 --threshold 1 --duration $dur\`"
			echo "recording: magslab-workload batch --threads 8 --threshold 1 --duration $dur (blocking)" >&2
			record_main "$trace" --subbuf 8M --nsub 8 --blocking -- \
				"$build/bin/magslab-workload" batch --quiet --threads 8 --threshold 1 \
				--duration "$dur" --json "$work/workload.json" || die "recording failed"
			events=$(count_events "$trace")
			((events >= 5000000)) && break
		done
	fi
	events=$(count_events "$trace")
	size=$(du -sh "$trace" | cut -f1)
	echo "trace: $trace, $size, $events events" >&2
	((events >= 5000000)) || echo "run-analysis: warning: only $events events (< 5 M)" >&2
	# One warm-up run (page cache), then the measured runs, dummy and report alternating
	# so that both see the same machine.
	babeltrace2 "$trace" -c sink.utils.dummy >/dev/null 2>&1
	echo "timing sink.utils.dummy and sink.magslab.report, alternating ($nruns runs each)" >&2
	: >"$work/dummy.runs"
	: >"$work/report.runs"
	for ((i = 0; i < nruns; i++)); do
		measure babeltrace2 "$trace" -c sink.utils.dummy >>"$work/dummy.runs" || exit 1
		measure babeltrace2 --plugin-path="$plugdir" "$trace" -c sink.magslab.report \
			-p "output-dir=\"$work/report\"" >>"$work/report.runs" || exit 1
	done
	dummy=$(median_of "$work/dummy.runs")
	rep=$(median_of "$work/report.runs")
	echo "timing gnuplot" >&2
	gp=$(cd "$work/report" && runs "$nruns" gnuplot magsize.gp contention.gp hash.gp depot.gp layers.gp) || exit 1
	rep_fe=''
	rep_fe_np=''
	if [[ -x $fe ]]; then
		echo "timing magslab report (--no-plots, and with plots)" >&2
		rep_fe_np=$(runs "$nruns" "$fe" report "$trace" -o "$work/fe-np" --no-plots -q) || rep_fe_np=''
		rep_fe=$(runs "$nruns" "$fe" report "$trace" -o "$work/fe" -q) || rep_fe=''
	fi
	if ((callgrind)); then
		echo "counting instructions (valgrind --tool=callgrind; slow)" >&2
		valgrind --tool=callgrind --callgrind-out-file="$work/cg.dummy" \
			babeltrace2 "$trace" -c sink.utils.dummy >/dev/null 2>"$work/cg.dummy.err" ||
			die "callgrind (dummy) failed"
		valgrind --tool=callgrind --callgrind-out-file="$work/cg.report" \
			babeltrace2 --plugin-path="$plugdir" "$trace" -c sink.magslab.report \
			-p "output-dir=\"$work/report-cg\"" >/dev/null 2>"$work/cg.report.err" ||
			die "callgrind (report) failed"
		ir_d=$(awk '/Collected :/ { print $NF }' "$work/cg.dummy.err")
		ir_r=$(awk '/Collected :/ { print $NF }' "$work/cg.report.err")
		ir_h=$(callgrind_annotate --inclusive=yes "$work/cg.report" 2>/dev/null |
			awk '/:events_handle / { gsub(",", "", $1); print $1; exit }')
	fi
	read -r d_w d_c d_m <<<"$dummy"
	read -r r_w r_c r_m <<<"$rep"
	read -r g_w g_c g_m <<<"$gp"
	ratio_w=$(awk -v a="$r_w" -v b="$d_w" 'BEGIN { printf "%.3f", a / b }')
	ratio_c=$(awk -v a="$r_c" -v b="$d_c" 'BEGIN { printf "%.3f", a / b }')
	t_ok=$(awk -v r="$ratio_w" -v c="$ratio_c" 'BEGIN { print (r <= 1.15 && c <= 1.15) ? "MET" : "NOT MET" }')
	rss_ok=$(awk -v m="$r_m" 'BEGIN { print (m <= 65536) ? "MET" : "NOT MET" }')
	mib() { awk -v m="$1" 'BEGIN { printf "%.1f", m / 1024 }'; }
	rate() { awk -v e="$events" -v t="$1" 'BEGIN { printf "%.2f M", e / t / 1e6 }'; }
	{
		echo "# Analysis benchmark: sink.magslab.report against sink.utils.dummy"
		echo
		echo "Written by \`bench/run-analysis.sh\` on $(date -u +%Y-%m-%d): $(nproc) CPUs, Linux $(uname -r),"
		echo "babeltrace2 $(babeltrace2 --version | head -n 1 | awk '{ print $2 }'), $(gnuplot --version);"
		echo "load average before the runs: $load_before (other work shared the machine)."
		echo
		echo "Trace: $trace_what, recorded with \`bench/run-analysis.sh record\` (per-UID buffers,"
		echo "8 MiB x 8 sub-buffers, blocking mode: nothing discarded): **$events events**, $size on disk."
		echo
		echo "Command (the data pass):"
		echo
		echo "    babeltrace2 --plugin-path=build/lib/babeltrace2/plugins TRACE -c sink.magslab.report -p 'output-dir=\"OUT\"'"
		echo
		echo "Each command ran $nruns times after a warm-up run (the trace in the page cache), dummy"
		echo "and report alternating, ${PIN[*]:-unpinned}; the table gives medians (wall clock, and"
		echo "CPU = user + system) and the largest peak RSS (\`/usr/bin/time -v\`)."
		echo
		echo "| command | wall (s) | CPU (s) | events/s (wall) | peak RSS (MiB) |"
		echo "|---|---|---|---|---|"
		echo "| \`babeltrace2 TRACE -c sink.utils.dummy\` | $d_w | $d_c | $(rate "$d_w") | $(mib "$d_m") |"
		echo "| \`babeltrace2 ... -c sink.magslab.report\` (data pass) | $r_w | $r_c | $(rate "$r_w") | $(mib "$r_m") |"
		echo "| \`gnuplot magsize.gp contention.gp hash.gp depot.gp layers.gp\` (in OUT) | $g_w | $g_c | | $(mib "$g_m") |"
		if [[ -n $rep_fe_np ]]; then
			read -r f_w f_c f_m <<<"$rep_fe_np"
			echo "| \`magslab report TRACE -o DIR --no-plots\` | $f_w | $f_c | $(rate "$f_w") | $(mib "$f_m") |"
		fi
		if [[ -n $rep_fe ]]; then
			read -r f_w f_c f_m <<<"$rep_fe"
			echo "| \`magslab report TRACE -o DIR\` (data pass + gnuplot) | $f_w | $f_c | | $(mib "$f_m") |"
		fi
		[[ -x $fe ]] || echo "| \`magslab report\` | (front end not built) | | | |"
		echo
		echo "- Data pass / dummy: **$ratio_w** wall, **$ratio_c** CPU (target <= 1.15): **$t_ok**."
		echo "- Peak RSS of the data pass: **$(mib "$r_m") MiB** (target <= 64 MiB): **$rss_ok**."
		echo "- Data pass + gnuplot: $(awk -v a="$r_w" -v b="$g_w" 'BEGIN { printf "%.2f", a + b }') s wall."
		if [[ -n $ir_d && -n $ir_r ]]; then
			echo
			echo "Instructions (valgrind --tool=callgrind, the whole process; not disturbed by other"
			echo "load): dummy $ir_d, report $ir_r: ratio **$(awk -v a="$ir_r" -v b="$ir_d" 'BEGIN { printf "%.3f", a / b }')**;"
			echo "the sink's event handling (events_handle, inclusive) ${ir_h:-?} instructions,"
			echo "$(awk -v h="${ir_h:-0}" -v e="$events" 'BEGIN { printf "%.0f", h / e }') per event."
		fi
	} >"$out"
	rm -rf "$work"
}

case ${1:-bench} in
--record-inner) shift; record_inner "$@" ;;
record) shift; record_main "$@" ;;
bench) shift; bench_main "$@" ;;
-h | --help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//' ;;
-*) bench_main "$@" ;;
*) die "unknown subcommand $1 (record, bench)" ;;
esac
