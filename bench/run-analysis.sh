#!/usr/bin/env bash
# bench/run-analysis.sh — benchmark of the trace analysis (sink.magslab.report), and a
# recorder of magslab traces in a private LTTng session daemon.
#
#   bench/run-analysis.sh [bench] [-B BUILD] [--trace DIR] [--runs N] [--out FILE]
#       Records (unless --trace names an existing trace) a trace of at least 5 M events:
#         magslab-workload prodcons --threads 8 --threshold 1 --duration 5
#       in blocking mode (nothing discarded), then times, N runs each (default 5; the
#       median is reported), on an otherwise idle machine:
#         babeltrace2 TRACE -c sink.utils.dummy                         (decode only)
#         babeltrace2 --plugin-path=... TRACE -c sink.magslab.report    (the data pass)
#         gnuplot magsize.gp contention.gp hash.gp depot.gp layers.gp    (in the report dir)
#         build/bin/magslab report TRACE -o DIR [--no-plots]             (when built)
#       with the peak RSS of each (/usr/bin/time -v), and writes bench/results/analysis.md
#       (or --out FILE).  Targets: report data pass <= 1.15 x dummy, peak RSS <= 64 MiB.
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

# measure <label> <cmd...>: one run under /usr/bin/time -v; prints "seconds maxrss_kib".
measure() {
	local tf
	tf=$(mktemp)
	/usr/bin/time -v -o "$tf" "$@" >/dev/null 2>"$tf.err" || {
		echo "run-analysis: failed: $* ($(tail -n 2 "$tf.err"))" >&2
		rm -f "$tf" "$tf.err"
		return 1
	}
	awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, p, ":"); s = 0
			for (i = 1; i <= n; i++) s = s * 60 + p[i] }
		    /Maximum resident set size/ { m = $2 }
		    END { printf "%.3f %d\n", s, m }' "$tf"
	rm -f "$tf" "$tf.err"
}

# median of N runs: prints "median_s max_rss_kib"
runs() {
	local n=$1 i
	shift
	for ((i = 0; i < n; i++)); do
		measure "$@" || return 1
	done | sort -n | awk '{ t[NR] = $1; if ($2 > m) m = $2 } END { printf "%.3f %d\n", t[int((NR + 1) / 2)], m }'
}

bench_main() {
	local build=build trace='' nruns=5 out=bench/results/analysis.md work plugdir fe
	local events size dummy rep rep_fe rep_fe_np gp ratio rss_ok t_ok
	while (($#)); do
		case $1 in
		-B) build=$2; shift 2 ;;
		--trace) trace=$2; shift 2 ;;
		--runs) nruns=$2; shift 2 ;;
		--out) out=$2; shift 2 ;;
		*) die "unknown option $1 (see the header of $0)" ;;
		esac
	done
	make --no-print-directory analysis-plugin workloads BUILD="$build" >/dev/null ||
		die "make analysis-plugin workloads failed"
	make --no-print-directory frontend BUILD="$build" >/dev/null 2>&1
	plugdir=$ROOT/$build/lib/babeltrace2/plugins
	fe=$ROOT/$build/bin/magslab
	work=$(mktemp -d /tmp/magslab-bench-analysis.XXXXXX) || exit 1
	if [[ -z $trace ]]; then
		trace=$work/trace
		echo "recording: magslab-workload prodcons --threads 8 --threshold 1 --duration 5 (blocking)" >&2
		record_main "$trace" --subbuf 8M --nsub 8 --blocking -- \
			"$build/bin/magslab-workload" prodcons --quiet --threads 8 --threshold 1 \
			--duration 5 --json "$work/workload.json" || die "recording failed"
	fi
	events=$(babeltrace2 "$trace" -c sink.utils.counter -p 'step=0' 2>/dev/null |
		awk '/Event messages?$/ { print $1 }')
	size=$(du -sh "$trace" | cut -f1)
	echo "trace: $trace, $size, $events events" >&2
	((events >= 5000000)) || echo "run-analysis: warning: only $events events (< 5 M)" >&2
	# One warm-up run of each (page cache), then the measured runs.
	babeltrace2 "$trace" -c sink.utils.dummy >/dev/null 2>&1
	echo "timing sink.utils.dummy ($nruns runs)" >&2
	dummy=$(runs "$nruns" babeltrace2 "$trace" -c sink.utils.dummy) || exit 1
	echo "timing sink.magslab.report ($nruns runs)" >&2
	rep=$(runs "$nruns" babeltrace2 --plugin-path="$plugdir" "$trace" -c sink.magslab.report \
		-p "output-dir=\"$work/report\"") || exit 1
	echo "timing gnuplot" >&2
	gp=$(cd "$work/report" && runs "$nruns" gnuplot magsize.gp contention.gp hash.gp depot.gp layers.gp) || exit 1
	rep_fe=''
	rep_fe_np=''
	if [[ -x $fe ]]; then
		echo "timing magslab report (--no-plots, and with plots)" >&2
		rep_fe_np=$(runs "$nruns" "$fe" report "$trace" -o "$work/fe-np" --no-plots) || rep_fe_np=''
		rep_fe=$(runs "$nruns" "$fe" report "$trace" -o "$work/fe") || rep_fe=''
	fi
	read -r d_t d_m <<<"$dummy"
	read -r r_t r_m <<<"$rep"
	read -r g_t g_m <<<"$gp"
	ratio=$(awk -v a="$r_t" -v b="$d_t" 'BEGIN { printf "%.3f", a / b }')
	t_ok=$(awk -v r="$ratio" 'BEGIN { print (r <= 1.15) ? "MET" : "NOT MET" }')
	rss_ok=$(awk -v m="$r_m" 'BEGIN { print (m <= 65536) ? "MET" : "NOT MET" }')
	{
		echo "# Analysis benchmark: sink.magslab.report against sink.utils.dummy"
		echo
		echo "Written by \`bench/run-analysis.sh\` on $(date -u +%Y-%m-%d) ($(nproc) CPUs, $(uname -r);"
		echo "babeltrace2 $(babeltrace2 --version | head -n 1 | awk '{ print $2 }'), $(gnuplot --version))."
		echo
		echo "Trace: \`magslab-workload prodcons --threads 8 --threshold 1 --duration 5\`, recorded"
		echo "with \`bench/run-analysis.sh record\` (per-UID buffers, 8 MiB x 8 sub-buffers, blocking"
		echo "mode: nothing discarded): **$events events**, $size on disk."
		echo
		echo "Each command ran $nruns times after one warm-up run (the trace in the page cache);"
		echo "times are the median wall-clock time, RSS the largest peak (\`/usr/bin/time -v\`)."
		echo
		echo "| command | time (s) | events/s | peak RSS (MiB) |"
		echo "|---|---|---|---|"
		printf '| `babeltrace2 TRACE -c sink.utils.dummy` | %s | %s | %s |\n' "$d_t" \
			"$(awk -v e="$events" -v t="$d_t" 'BEGIN { printf "%.2f M", e / t / 1e6 }')" \
			"$(awk -v m="$d_m" 'BEGIN { printf "%.1f", m / 1024 }')"
		printf '| `babeltrace2 --plugin-path=build/lib/babeltrace2/plugins TRACE -c sink.magslab.report -p output-dir=...` (data pass) | %s | %s | %s |\n' \
			"$r_t" "$(awk -v e="$events" -v t="$r_t" 'BEGIN { printf "%.2f M", e / t / 1e6 }')" \
			"$(awk -v m="$r_m" 'BEGIN { printf "%.1f", m / 1024 }')"
		printf '| `gnuplot magsize.gp contention.gp hash.gp depot.gp layers.gp` (in the report dir) | %s | | %s |\n' \
			"$g_t" "$(awk -v m="$g_m" 'BEGIN { printf "%.1f", m / 1024 }')"
		if [[ -n $rep_fe_np ]]; then
			read -r f_t f_m <<<"$rep_fe_np"
			printf '| `magslab report TRACE -o DIR --no-plots` | %s | %s | %s |\n' "$f_t" \
				"$(awk -v e="$events" -v t="$f_t" 'BEGIN { printf "%.2f M", e / t / 1e6 }')" \
				"$(awk -v m="$f_m" 'BEGIN { printf "%.1f", m / 1024 }')"
		fi
		if [[ -n $rep_fe ]]; then
			read -r f_t f_m <<<"$rep_fe"
			printf '| `magslab report TRACE -o DIR` (with the plots) | %s | | %s |\n' "$f_t" \
				"$(awk -v m="$f_m" 'BEGIN { printf "%.1f", m / 1024 }')"
		fi
		[[ -x $fe ]] || echo "| \`magslab report\` | (front end not built) | | |"
		echo
		echo "- Data pass / dummy: **$ratio** (target <= 1.15): **$t_ok**."
		echo "- Peak RSS of the data pass: **$(awk -v m="$r_m" 'BEGIN { printf "%.1f", m / 1024 }') MiB** (target <= 64 MiB): **$rss_ok**."
	} >"$out"
	cat "$out"
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
