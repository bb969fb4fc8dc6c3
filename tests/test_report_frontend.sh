#!/usr/bin/env bash
# tests/test_report_frontend.sh — checks of the front end's `magslab report`
# (build/bin/magslab: analysis/magslab.c, report.c, graph.c) on recorded traces.
#
#   tests/test_report_frontend.sh [TEST...]    run every test (or the ones named)
#   tests/test_report_frontend.sh --list       the test names, one a line
#
# Prints "report-test: PASS NAME (N s)" or "report-test: FAIL NAME: REASON (see LOG)" per
# test and exits 0 if every one passed, 1 otherwise.  tests/run-tests.sh (the "other"
# configuration) runs each test as one check, "report-NAME".
#
# Traces.  Recorded once (again whenever magslab-workload is rebuilt) into
# $WORK/traces/: uid (magslab-workload phases, per-UID buffers: one trace directory),
# pid (two magslab-workload processes, per-PID buffers: two traces, one directory each),
# rot (a session rotated once: one trace, the same UUID, in two chunk directories) and
# libc (ls under liblttng-ust-libc-wrapper: a trace with no magslab event).  Recording, and the
# live test, run in a private mount namespace (unshare -m) with a tmpfs over /run/lttng
# and /dev/shm and a session daemon of their own, as tests/lttng-session.sh does: root's
# daemon lives in /run/lttng whatever LTTNG_HOME says, and a test must not use or disturb
# one that someone else runs.  Every LTTng daemon of that namespace (sessiond, consumerd,
# relayd) is stopped when the namespace's shell exits; their pids and start times are also
# noted in $WORK/daemons, so that a run killed before it could clean up has them stopped
# by the next run (only processes whose pid and start time match are signalled).
#
# The live test starts lttng-relayd bound to 127.0.0.1 only (random ports, retried if
# taken), a live session (--live=100000 µs) streaming to it, and `magslab report
# net://127.0.0.1:PORT/host/HOSTNAME/SESSION` before the traced program starts (a viewer
# gets no event from before it attached); the session is destroyed when the program ends,
# which ends the report.  The report must see exactly the events of the relay daemon's
# copy of the trace on disk.
#
# The hosts test records two "machines": two UTS namespaces (tests/lttng-ns.sh, ns_run
# --uts) named hostA and hostB, each with its own session daemon, recording the same
# workload run both to a local trace and to one lttng-relayd (127.0.0.1 only, in a third
# namespace), whose output tree then holds RELAY/hostA/... and RELAY/hostB/...  Each
# workload runs as PID 1 of a PID namespace of its own: the processes of both hosts have
# the same vpid (1), and the merged report must still keep them apart.  These namespaces
# note their daemons in $WORK/daemons.hostA and .hostB, stopped when they exit (and by the
# next run if this one was killed).
#
# Environment: BUILD (default build), MAKE, CC.  Work files: $BUILD/test-report/.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
# ns_run (the hosts test): re-executes this script with --ns-run (see ns_dispatch below).
source "$ROOT/tests/lttng-ns.sh"
NS_SELF=$ROOT/tests/test_report_frontend.sh

BUILD=${BUILD:-build}
MAKE=${MAKE:-make}
CC=${CC:-gcc}
mkdir -p "$BUILD" && BUILD=$(cd "$BUILD" && pwd)
BIN=$BUILD/bin/magslab
WL=$BUILD/bin/magslab-workload
if [[ ${TRACE:-1} == 0 ]]; then
	# A TRACE=0 build's programs emit no events: the test traces are recorded
	# with a TRACE=1 build of the workload program (as tests/lttng-session.sh
	# does); magslab report itself is this build's.
	"$MAKE" --no-print-directory workloads BUILD="$BUILD/report-trace1" TRACE=1 \
		>"$BUILD/report-trace1.log" 2>&1 ||
		{ echo "FAIL: the TRACE=1 workload build failed (see $BUILD/report-trace1.log)"; exit 1; }
	WL=$BUILD/report-trace1/bin/magslab-workload
fi
PLUGDIR=$BUILD/lib/babeltrace2/plugins
WORK=$BUILD/test-report
TRACES=$WORK/traces
STATE=$WORK/daemons
# The daemons of an ns_run namespace (tests/lttng-ns.sh): the same file as in_ns's, unless
# the caller gives another (a namespace started inside another one: its own daemons only).
NS_STATE=${REPORT_NS_STATE:-$STATE}

ALL_TESTS=(build help usage report outdir cli-same graph-same bucket truncated corrupt
	no-trace no-magslab gnuplot plugin-path live interrupt hosts clang-build)

say() { printf '%s\n' "$*"; }

fail() {
	echo "FAIL: $*" >&2
	return 1
}

# ---- daemons ------------------------------------------------------------------------------

# The bookkeeping is tests/lttng-ns.sh's; in_ns's namespace keeps its list in $STATE.
note_daemons() { NS_STATE=$STATE ns_note_daemons; }
# stop_noted: SIGTERM the noted daemons still running (same pid and start time), SIGKILL
# what is left after 5 s, empty the list.
stop_noted() { NS_STATE=$STATE ns_stop_state; }

# ---- the private namespace ------------------------------------------------------------------

# in_ns FUNCTION ARGS...: runs FUNCTION in a private mount namespace with its own session
# daemon (see the header), and stops every daemon there afterwards.
in_ns() {
	unshare -m -- "$ROOT/tests/test_report_frontend.sh" --ns "$@"
}

ns_main() {
	local fn=$1 d rc
	shift
	trap 'note_daemons; stop_noted' EXIT
	mount --make-rprivate / || fail "mount --make-rprivate / failed" || return 1
	mkdir -p /run/lttng
	mount -t tmpfs -o mode=0755 magslab-report-lttng /run/lttng ||
		fail "cannot mount a tmpfs on /run/lttng" || return 1
	d=$(readlink -f /var/run 2>/dev/null)
	if [[ $d != /run && -d /var/run ]]; then
		mkdir -p /var/run/lttng
		mount -t tmpfs -o mode=0755 magslab-report-lttng /var/run/lttng || return 1
	fi
	mount -t tmpfs -o mode=1777 magslab-report-shm /dev/shm ||
		fail "cannot mount a tmpfs on /dev/shm" || return 1
	export LTTNG_HOME=$WORK/lttng-home
	mkdir -p "$LTTNG_HOME"
	lttng-sessiond -d --no-kernel >"$WORK/sessiond.log" 2>&1
	rc=$?
	note_daemons
	((rc == 0)) || fail "lttng-sessiond failed: $(head -n 2 "$WORK/sessiond.log")" || return 1
	(
		set -e
		"$fn" "$@"
	)
}

# lt ARGS...: lttng ARGS (output in $WORK/lttng.log); a failure fails the test.
lt() {
	echo "+ lttng $*" >>"$WORK/lttng.log"
	lttng "$@" >>"$WORK/lttng.log" 2>&1 ||
		fail "lttng $1 failed: $(tail -n 2 "$WORK/lttng.log" | tr '\n' ' ')"
}

# session NAME DIR [--buffers-pid] -- EVENT...: a session writing to DIR.
session() {
	local name=$1 dir=$2 buf=--buffers-uid
	shift 2
	[[ ${1:-} == --buffers-pid ]] && { buf=--buffers-pid; shift; }
	[[ ${1:-} == -- ]] && shift
	lt create "$name" --output="$dir"
	lt enable-channel -u -s "$name" ch "$buf" --subbuf-size=2M --num-subbuf=4
	for ev in "$@"; do
		lt enable-event -u -s "$name" -c ch "$ev"
	done
	lt start "$name"
	note_daemons
}

end_session() {
	lt stop "$1"
	lt destroy "$1"
}

ns_record() {
	local out=$1
	session ms-uid "$out/uid" -- 'magslab:*'
	"$WL" phases --quiet --threads 2 --schedule idle:20ms,burst:150ms,steady:150ms \
		>/dev/null || fail "magslab-workload phases failed" || return 1
	end_session ms-uid
	session ms-pid "$out/pid" --buffers-pid -- 'magslab:*'
	"$WL" pair --quiet --threads 2 --ops 20000 >/dev/null &&
		"$WL" batch --quiet --threads 2 --ops 20000 >/dev/null ||
		fail "magslab-workload pair/batch failed" || return 1
	end_session ms-pid
	# One trace (one UUID) in two directories: a rotation makes two trace chunks.
	session ms-rot "$out/rot" -- 'magslab:*'
	"$WL" phases --quiet --threads 2 --schedule burst:50ms >/dev/null &&
		lt rotate ms-rot &&
		"$WL" phases --quiet --threads 2 --schedule burst:50ms >/dev/null ||
		fail "the rotated session failed" || return 1
	end_session ms-rot
	session ms-libc "$out/libc" -- 'lttng_ust_libc:*'
	LD_PRELOAD=liblttng-ust-libc-wrapper.so.1 ls / >/dev/null ||
		fail "ls under the libc wrapper failed" || return 1
	end_session ms-libc
}

# ensure_traces: the traces of the header, recorded if missing or older than the workload
# program.
ensure_traces() {
	local tmp
	if [[ -e $TRACES/.done && $TRACES/.done -nt $WL ]]; then
		return 0
	fi
	echo "recording the test traces into $TRACES"
	tmp=$WORK/traces.new
	rm -rf "$tmp" "$TRACES"
	mkdir -p "$tmp"
	in_ns ns_record "$tmp" || fail "recording the test traces failed (see $WORK/lttng.log)" ||
		return 1
	for t in uid pid rot libc; do
		[[ -n $(find "$tmp/$t" -name metadata 2>/dev/null) ]] ||
			fail "no trace recorded in $tmp/$t" || return 1
	done
	[[ $(find "$tmp/pid" -name metadata | wc -l) -ge 2 ]] ||
		fail "the per-PID session did not give two trace directories" || return 1
	[[ $(find "$tmp/rot" -name metadata | wc -l) -ge 2 ]] ||
		fail "the rotated session did not give two trace chunks" || return 1
	touch "$tmp/.done"
	mv "$tmp" "$TRACES"
}

# ---- helpers --------------------------------------------------------------------------------

ensure_built() {
	mkdir -p "$WORK"
	"$MAKE" --no-print-directory all BUILD="$BUILD" >"$WORK/build.log" 2>&1 || {
		tail -n 30 "$WORK/build.log"
		fail "make all failed (see $WORK/build.log)"
	}
	[[ -x $BIN ]] || fail "no $BIN after make all"
	[[ -x $WL ]] || fail "no $WL after make all"
	[[ -n $(find "$PLUGDIR" -name '*.so' 2>/dev/null) ]] ||
		fail "no babeltrace2 plugin in $PLUGDIR after make all"
}

# rep NAME ARGS...: runs magslab ARGS; sets RC, OUT, ERR.
rep() {
	local name=$1
	shift
	OUT=$WORK/$name.out ERR=$WORK/$name.err
	echo "+ magslab $*"
	RC=0
	timeout -k 5 120 "$BIN" "$@" >"$OUT" 2>"$ERR" </dev/null || RC=$?
	sed 's/^/  stderr| /' "$ERR"
	return 0
}

# one_line_error NAME RC ARGS...: magslab ARGS must exit RC with exactly one line on
# stderr, "magslab report: ..." (or "magslab: ..."), and nothing on stdout.  Sets LINE.
one_line_error() {
	local name=$1 want=$2
	shift 2
	rep "$name" "$@"
	((RC == want)) || fail "magslab $*: exit status $RC, expected $want"
	[[ ! -s $OUT ]] || fail "magslab $*: wrote to stdout: $(head -n 1 "$OUT")"
	[[ $(wc -l <"$ERR") == 1 ]] ||
		fail "magslab $*: $(wc -l <"$ERR") lines on stderr, expected 1"
	LINE=$(cat "$ERR")
	[[ $LINE == "magslab report: "* || $LINE == "magslab: "* ]] ||
		fail "magslab $*: the error does not start with 'magslab report: ': $LINE"
	echo "  ok: exit $RC: $LINE"
}

# cli_report TRACE... -- OUTDIR [PARAMS]: the babeltrace2 command line with the sink.
cli_report() {
	local -a traces=()
	while [[ $1 != -- ]]; do traces+=("$1"); shift; done
	shift
	local out=$1 params="output-dir=\"$1\"${2:+,$2}"
	rm -rf "$out"
	echo "+ babeltrace2 --plugin-path=$PLUGDIR ${traces[*]} -c sink.magslab.report -p '$params'"
	babeltrace2 --plugin-path="$PLUGDIR" "${traces[@]}" -c sink.magslab.report \
		-p "$params" >"$WORK/cli.out" 2>"$WORK/cli.err" ||
		fail "babeltrace2 with sink.magslab.report failed: $(tail -n 1 "$WORK/cli.err")"
}

# check_report DIR: the files of a report, every plot rendered.
check_report() {
	local dir=$1 f gp base n=0
	for f in summary.json summary.txt index.html; do
		[[ -s $dir/$f ]] || fail "no $dir/$f"
	done
	[[ $(head -c 1 "$dir/summary.json") == "{" ]] || fail "$dir/summary.json is not a JSON object"
	for gp in "$dir"/*.gp; do
		[[ -e $gp ]] || fail "no gnuplot script in $dir"
		base=${gp%.gp}
		[[ -s $base.png ]] || fail "no $(basename "$base").png"
		[[ -s $base.svg ]] || fail "no $(basename "$base").svg"
		[[ $(head -c 8 "$base.png" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]] ||
			fail "$base.png is not a PNG file"
		grep -q '<svg' "$base.svg" || fail "$base.svg is not an SVG file"
		n=$((n + 1))
	done
	for f in magsize contention hash depot layers; do
		[[ -s $dir/$f.png && -s $dir/$f.svg ]] || fail "no $f.png/$f.svg in $dir"
	done
	echo "  ok: $dir: summary.json, summary.txt, index.html, $n plots as PNG and SVG"
}

# events_in TRACE...: events babeltrace2 reads in the traces.
events_in() {
	babeltrace2 "$@" -c sink.utils.counter -p step=+0 2>/dev/null |
		awk '$2 == "Event" { print $1 }'
}

# ---- the tests ------------------------------------------------------------------------------

t_build() {
	echo "built: $(ls -l "$BIN")"
	echo "plugins: $(ls "$PLUGDIR")"
}

t_help() {
	rep help --help
	((RC == 0)) || fail "magslab --help: exit status $RC"
	grep -q '^usage: magslab SUBCOMMAND' "$OUT" || fail "magslab --help: no usage line"
	grep -qE '^  report ' "$OUT" || fail "magslab --help does not list report"
	rep help-report report --help
	((RC == 0)) || fail "magslab report --help: exit status $RC"
	head -n 1 "$OUT" | grep -q '^usage: magslab report TRACE' ||
		fail "magslab report --help does not start with its usage line"
	for o in -o --bucket --no-plots --help net:// magslab-report MAGSLAB_PLUGIN_PATH \
		'^Examples:' 'magslab report /tmp/t -o /tmp/r'; do
		grep -q -- "$o" "$OUT" || fail "magslab report --help does not mention $o"
	done
	# Every subcommand's help says what it does and shows an example.
	local c
	for c in record report run live tune; do
		grep -qE "^  $c " "$WORK/help.out" || fail "magslab --help does not list $c"
		"$BIN" "$c" --help >"$WORK/help-$c.txt" || fail "magslab $c --help: exit $?"
		grep -qE '^Examples?:' "$WORK/help-$c.txt" || fail "magslab $c --help has no example"
	done
	grep -qE '^Example:' "$WORK/help.out" || fail "magslab --help has no example"
	rep help-help help report
	((RC == 0)) && cmp -s "$OUT" "$WORK/help-report.out" ||
		fail "magslab help report differs from magslab report --help"
	echo "  ok: magslab --help, magslab report --help, magslab help report"
}

t_usage() {
	local t=$TRACES/uid
	one_line_error u1 2
	one_line_error u2 2 bogus
	one_line_error u3 2 --bogus
	one_line_error u4 2 report
	one_line_error u5 2 report --bogus "$t"
	one_line_error u6 2 report -x "$t"
	one_line_error u7 2 report "$t" -o
	one_line_error u8 2 report --bucket 0 "$t"
	one_line_error u9 2 report --bucket 12x "$t"
	one_line_error u10 2 report --bucket -5 "$t"
	one_line_error u11 2 report --bucket 3600001 "$t"
	one_line_error u12 2 report -o '' "$t"
}

t_report() {
	local out=$WORK/r-report
	rm -rf "$out"
	rep report report "$TRACES/uid" -o "$out"
	((RC == 0)) || fail "magslab report: exit status $RC: $(head -n 1 "$ERR")"
	check_report "$out"
	# stderr: nothing but progress lines.
	if grep -v '^magslab report: reading the trace\.\.\. ' "$ERR"; then
		fail "magslab report wrote something else than progress lines on stderr"
	fi
	grep -qxF "report:  $out/index.html" "$OUT" || fail "stdout does not say where index.html is"
	head -n 5 "$out/summary.txt" >"$WORK/summary-head"
	grep -qF -f "$WORK/summary-head" "$OUT" || fail "stdout does not show the head of summary.txt"
	grep -qE '^magslab report: [0-9]+ events from 1 trace in ' "$OUT" ||
		fail "stdout has no event count line"
	echo "  ok: stdout:"
	sed 's/^/  | /' "$OUT"
	# Again into the same directory: every plot is rendered anew.
	rep report-again report -q "$TRACES/uid" -o "$out"
	((RC == 0)) || fail "a second report into the same directory: exit status $RC"
	[[ ! -s $ERR ]] || fail "-q: stderr is not empty"
	check_report "$out"
	# Two traces merged (three trace directories, two of them per-PID), plots too.
	rm -rf "$WORK/r-merged"
	rep report-merged report -q "$TRACES/uid" "$TRACES/pid" -o "$WORK/r-merged"
	((RC == 0)) || fail "magslab report uid pid: exit status $RC: $(head -n 1 "$ERR")"
	check_report "$WORK/r-merged"
	grep -qE "^magslab report: [0-9]+ events from 3 traces in " "$OUT" ||
		fail "uid pid: stdout does not say 3 traces"
	# A trace with no depot contention and no magsize change (pair and batch): every plot
	# still renders.
	rm -rf "$WORK/r-pid"
	rep report-pid report -q "$TRACES/pid" -o "$WORK/r-pid"
	((RC == 0)) || fail "magslab report pid: exit status $RC: $(head -n 1 "$ERR")"
	check_report "$WORK/r-pid"
}

t_outdir() {
	local d=$WORK/outdir
	rm -rf "$d"
	mkdir -p "$d/cwd"
	echo "+ (cd $d/cwd && magslab report --no-plots TRACE)"
	(cd "$d/cwd" && "$BIN" report -q --no-plots "$TRACES/uid" >"$d/out" 2>"$d/err") ||
		fail "magslab report with the default OUTDIR: $(head -n 1 "$d/err")"
	[[ -s $d/cwd/magslab-report/summary.json ]] ||
		fail "the default OUTDIR is not ./magslab-report"
	[[ -z $(find "$d/cwd/magslab-report" -name '*.png') ]] || fail "--no-plots rendered plots"
	grep -q -- '--no-plots' "$d/out" || fail "--no-plots: stdout does not say the plots are not rendered"
	echo "  ok: default OUTDIR ./magslab-report, --no-plots"
	rep nested report -q --no-plots "$TRACES/uid" -o "$d/a/b/c"
	((RC == 0)) && [[ -s $d/a/b/c/summary.json ]] || fail "-o a/b/c was not created"
	echo "  ok: -o creates missing parent directories"
	# A gnuplot script left by something else, older than this run: not run.
	printf 'this is not gnuplot\n' >"$d/a/b/c/stale.gp"
	touch -d '2 hours ago' "$d/a/b/c/stale.gp"
	rep stale report -q "$TRACES/uid" -o "$d/a/b/c"
	((RC == 0)) || fail "an old stale.gp in OUTDIR was run: $(head -n 1 "$ERR")"
	echo "  ok: an older *.gp in OUTDIR is left alone"
	: >"$d/file"
	one_line_error od1 1 report -q --no-plots "$TRACES/uid" -o "$d/file"
	one_line_error od2 1 report -q --no-plots "$TRACES/uid" -o "$d/file/sub"
}

# The front end and the babeltrace2 command line with the same sink: same summary.json.
t_cli-same() {
	local a=$WORK/cli-a b=$WORK/cli-b set
	for set in uid pid rot "uid pid rot"; do
		local -a tr=()
		for t in $set; do tr+=("$TRACES/$t"); done
		cli_report "${tr[@]}" -- "$a"
		rm -rf "$b"
		rep cli-same report -q --no-plots "${tr[@]}" -o "$b"
		((RC == 0)) || fail "magslab report $set: exit status $RC: $(head -n 1 "$ERR")"
		cmp "$a/summary.json" "$b/summary.json" ||
			fail "traces $set: summary.json differs between babeltrace2 and magslab report"
		echo "  ok: traces $set: summary.json byte-identical ($(wc -c <"$b/summary.json") bytes)"
	done
	# From inside the trace directory's parent, with relative paths.
	(cd "$TRACES" && babeltrace2 --plugin-path="$PLUGDIR" pid -c sink.magslab.report \
		-p "output-dir=\"$a\"" >/dev/null 2>&1) || fail "babeltrace2 on a relative path failed"
	(cd "$TRACES" && "$BIN" report -q --no-plots pid -o "$b" >/dev/null 2>&1) ||
		fail "magslab report on a relative path failed"
	cmp "$a/summary.json" "$b/summary.json" || fail "relative path: summary.json differs"
	echo "  ok: relative trace path: summary.json byte-identical"
}

# The graph itself: with sink.text.details in place of the report sink (the test hook
# MAGSLAB_REPORT_SINK), magslab prints exactly what `babeltrace2 TRACES -c
# sink.text.details` prints: same sources (one per trace, same trace names), same order.
t_graph-same() {
	local set
	for set in pid rot "uid pid"; do
		local -a tr=()
		for t in $set; do tr+=("$TRACES/$t"); done
		babeltrace2 "${tr[@]}" -c sink.text.details >"$WORK/details-cli" 2>"$WORK/details-cli.err" ||
			fail "babeltrace2 -c sink.text.details failed"
		MAGSLAB_REPORT_SINK=text.details "$BIN" report -q "${tr[@]}" >"$WORK/details-fe" \
			2>"$WORK/details-fe.err" || fail "magslab report with sink.text.details failed: $(head -n 1 "$WORK/details-fe.err")"
		cmp "$WORK/details-cli" "$WORK/details-fe" ||
			fail "traces $set: the graph's messages differ from babeltrace2's"
		echo "  ok: traces $set: $(wc -l <"$WORK/details-fe") lines of sink.text.details identical"
	done
	grep -c '^  Trace `' "$WORK/details-fe" | sed 's/^/  trace names printed: /'
}

t_bucket() {
	local a=$WORK/bucket-a b=$WORK/bucket-b
	cli_report "$TRACES/uid" -- "$a" bucket-ms=7
	rm -rf "$b"
	rep bucket report -q --no-plots --bucket 7 "$TRACES/uid" -o "$b"
	((RC == 0)) || fail "--bucket 7: exit status $RC"
	cmp "$a/summary.json" "$b/summary.json" || fail "--bucket 7: summary.json differs from babeltrace2's"
	for f in "$a"/*.dat; do
		[[ -e $f ]] || continue
		cmp "$f" "$b/$(basename "$f")" || fail "--bucket 7: $(basename "$f") differs"
	done
	echo "  ok: --bucket 7 = -p bucket-ms=7: summary.json and the .dat files identical"
}

# A copy of the trace with a stream file cut in the middle of a packet.
t_truncated() {
	local d=$WORK/truncated f size
	rm -rf "$d"
	cp -r "$TRACES/uid" "$d"
	f=$(find "$d" -type f -name 'ch_*' ! -path '*/index/*' -printf '%s %p\n' | sort -n | tail -n 1 | cut -d' ' -f2)
	size=$(stat -c %s "$f")
	truncate -s $((size / 2 + 1234)) "$f"
	echo "  cut $f from $size to $((size / 2 + 1234)) bytes"
	one_line_error trunc 1 report "$d" -o "$WORK/truncated-out"
	[[ $LINE == *"$(basename "$f")"* ]] || fail "the error does not name the stream file"
}

t_corrupt() {
	local d=$WORK/corrupt f
	rm -rf "$d"
	cp -r "$TRACES/uid" "$d"
	f=$(find "$d" -name metadata | head -n 1)
	echo 'this is not CTF metadata' >"$f"
	one_line_error badmeta 1 report "$d" -o "$WORK/corrupt-out"
	[[ $LINE == *metadata* ]] || fail "the error does not say the metadata is bad"
	# A stream whose first packet header is overwritten: found while reading.
	rm -rf "$d"
	cp -r "$TRACES/uid" "$d"
	f=$(find "$d" -type f -name 'ch_*' ! -path '*/index/*' -size +0 | sort | head -n 1)
	printf 'XXXXXXXXXXXXXXXX' | dd of="$f" bs=1 seek=0 conv=notrunc status=none
	one_line_error badpacket 1 report "$d" -o "$WORK/corrupt-out"
}

t_no-trace() {
	mkdir -p "$WORK/empty/a/b"
	: >"$WORK/plainfile"
	one_line_error nt1 1 report "$WORK/no/such/dir"
	[[ $LINE == *"No such file or directory"* ]] || fail "not 'No such file or directory'"
	one_line_error nt2 1 report "$WORK/empty"
	[[ $LINE == *"no trace"* ]] || fail "not 'no trace'"
	one_line_error nt3 1 report "$WORK/plainfile"
	one_line_error nt4 1 report "$TRACES/uid" "$WORK/empty"
	one_line_error nt5 1 report net://127.0.0.1/not-a-session-url
}

# A trace without magslab events: the sink's own message, passed through.
t_no-magslab() {
	local msg
	babeltrace2 --plugin-path="$PLUGDIR" "$TRACES/libc" -c sink.magslab.report \
		-p "output-dir=\"$WORK/nomagslab-cli\"" >/dev/null 2>"$WORK/nomagslab-cli.err" &&
		fail "babeltrace2 with sink.magslab.report accepted a trace without magslab events"
	# The sink's cause: the last CAUSED BY block of the command line's error.
	msg=$(awk '/^CAUSED BY / { m = ""; grab = 1; next } grab { sub(/^ +/, ""); m = m (m ? " " : "") $0 } END { print m }' \
		"$WORK/nomagslab-cli.err")
	echo "  the sink says: $msg"
	one_line_error nomagslab 1 report "$TRACES/libc" -o "$WORK/nomagslab-out"
	[[ -n $msg && $LINE == *"${msg:0:40}"* ]] ||
		fail "the error is not the sink's message ($msg)"
}

t_gnuplot() {
	local fake=$WORK/fakegp
	mkdir -p "$fake"
	MAGSLAB_GNUPLOT=$fake/none one_line_error gp-missing 1 report "$TRACES/uid" -o "$WORK/gp-out"
	[[ $LINE == *"not found"* ]] || fail "a missing gnuplot is not said so"
	# No gnuplot in PATH (the program itself by its full path).
	RC=0
	PATH=$fake "$BIN" report "$TRACES/uid" -o "$WORK/gp-out" >"$WORK/gp-nopath.out" \
		2>"$WORK/gp-nopath.err" || RC=$?
	((RC == 1)) && [[ $(wc -l <"$WORK/gp-nopath.err") == 1 && ! -s $WORK/gp-nopath.out ]] ||
		fail "no gnuplot in PATH: exit status $RC, stderr: $(head -n 2 "$WORK/gp-nopath.err")"
	echo "  ok: no gnuplot in PATH: $(cat "$WORK/gp-nopath.err")"
	printf '#!/bin/sh\necho "line 1: this gnuplot always fails" >&2\nexit 1\n' >"$fake/failing"
	chmod +x "$fake/failing"
	MAGSLAB_GNUPLOT=$fake/failing one_line_error gp-fails 1 report -q "$TRACES/uid" -o "$WORK/gp-out"
	[[ $LINE == *"always fails"* && $LINE == *.gp* ]] ||
		fail "a failing gnuplot: the error does not name the script and say why"
	printf '#!/bin/sh\nexit 0\n' >"$fake/lazy"
	chmod +x "$fake/lazy"
	MAGSLAB_GNUPLOT=$fake/lazy one_line_error gp-lazy 1 report -q "$TRACES/uid" -o "$WORK/gp-out"
	[[ $LINE == *"did not write"* ]] || fail "a gnuplot that writes nothing is not caught"
	MAGSLAB_GNUPLOT=$fake/none rep gp-noplots report -q --no-plots "$TRACES/uid" -o "$WORK/gp-out"
	((RC == 0)) || fail "--no-plots needs gnuplot"
	echo "  ok: --no-plots works without gnuplot"
}

t_plugin-path() {
	local d=$WORK/elsewhere
	rm -rf "$d"
	mkdir -p "$d/bin" "$d/empty"
	cp "$BIN" "$d/bin/magslab"
	MAGSLAB_PLUGIN_PATH=$d/empty:$PLUGDIR "$d/bin/magslab" report -q --no-plots \
		"$TRACES/uid" -o "$d/out" >"$d/pp1.out" 2>"$d/pp1.err" ||
		fail "a copy of magslab with MAGSLAB_PLUGIN_PATH: $(head -n 1 "$d/pp1.err")"
	echo "  ok: MAGSLAB_PLUGIN_PATH=$d/empty:$PLUGDIR"
	MAGSLAB_PLUGIN_PATH=$d/empty rep pp2 report -q --no-plots "$TRACES/uid" -o "$d/out2"
	((RC == 0)) || fail "build/bin/magslab does not find ../lib/babeltrace2/plugins"
	echo "  ok: build/bin/magslab finds $PLUGDIR by itself"
}

# ---- live -----------------------------------------------------------------------------------

# start_relayd DIR: lttng-relayd on 127.0.0.1 only, random ports (retried if taken); sets
# P_CTRL P_DATA P_LIVE.
start_relayd() {
	local dir=$1 try i base pid
	for ((try = 0; try < 8; try++)); do
		base=$((20000 + (RANDOM * 7 + $$) % 40000))
		P_CTRL=$base P_DATA=$((base + 1)) P_LIVE=$((base + 2))
		lttng-relayd -C "tcp://127.0.0.1:$P_CTRL" -D "tcp://127.0.0.1:$P_DATA" \
			-L "tcp://127.0.0.1:$P_LIVE" -o "$dir" >"$WORK/relayd.log" 2>&1 &
		pid=$!
		note_daemons
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			if grep -q ":$(printf %04X "$P_LIVE") 00000000:0000 0A" /proc/net/tcp; then
				echo "  lttng-relayd $pid on 127.0.0.1:$P_CTRL/$P_DATA/$P_LIVE"
				return 0
			fi
			sleep 0.1
		done
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		echo "  lttng-relayd on ports $base-$((base + 2)) failed: $(tail -n 1 "$WORK/relayd.log")"
	done
	fail "lttng-relayd would not start"
}

ns_live() {
	local out=$WORK/live-out relay=$WORK/live-relay url rep i n_live n_disk
	rm -rf "$out" "$relay"
	start_relayd "$relay" || return 1
	lt create ms-live --live=100000 --set-url="net://127.0.0.1:$P_CTRL:$P_DATA"
	lt enable-channel -u -s ms-live ch --subbuf-size=1M --num-subbuf=4
	lt enable-event -u -s ms-live -c ch 'magslab:*'
	lt start ms-live
	note_daemons
	url="net://127.0.0.1:$P_LIVE/host/$(hostname)/ms-live"
	echo "+ magslab report $url -o $out (in the background)"
	"$BIN" report "$url" -o "$out" >"$WORK/live.out" 2>"$WORK/live.err" </dev/null &
	rep=$!
	# The viewer must be attached before the program emits anything: wait for its
	# connection to the relay daemon (up to 20 s on a loaded machine), then 1 s more for
	# it to attach the session.
	for ((i = 0; i < 200; i++)); do
		grep -qE ":$(printf %04X "$P_LIVE") [0-9A-F]{8}:[0-9A-F]{4} 01 " /proc/net/tcp && break
		kill -0 "$rep" 2>/dev/null || break
		sleep 0.1
	done
	sleep 1
	kill -0 "$rep" 2>/dev/null || fail "magslab report ended early: $(head -n 1 "$WORK/live.err")" ||
		return 1
	"$WL" phases --quiet --threads 2 --schedule idle:20ms,burst:200ms,steady:200ms >/dev/null ||
		fail "magslab-workload phases failed" || return 1
	lt stop ms-live
	lt destroy ms-live
	for ((i = 0; i < 300; i++)); do
		kill -0 "$rep" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$rep" 2>/dev/null; then
		kill "$rep"
		fail "magslab report did not end 30 s after the session was destroyed"
		return 1
	fi
	RC=0
	wait "$rep" || RC=$?
	sed 's/^/  stderr| /' "$WORK/live.err"
	sed 's/^/  stdout| /' "$WORK/live.out"
	((RC == 0)) || fail "live report: exit status $RC: $(head -n 1 "$WORK/live.err")" || return 1
	check_report "$out" || return 1
	n_live=$(awk '/^magslab report: [0-9]+ events/ { print $3 }' "$WORK/live.out")
	n_disk=$(events_in "$relay")
	echo "  events: $n_live received live, $n_disk in the relay daemon's copy on disk"
	[[ -n $n_live && $n_live == "$n_disk" && $n_disk -gt 0 ]] ||
		fail "the live report saw $n_live events, the trace on disk has $n_disk" || return 1
	echo "  ok: live report on 127.0.0.1:$P_LIVE: every event, every file"
}

t_live() {
	in_ns ns_live
}

# SIGINT stops a report of a live session that does not end: exit status 130.
ns_interrupt() {
	local relay=$WORK/int-relay url rep i
	rm -rf "$relay"
	start_relayd "$relay" || return 1
	lt create ms-int --live=100000 --set-url="net://127.0.0.1:$P_CTRL:$P_DATA"
	lt enable-channel -u -s ms-int ch --subbuf-size=1M --num-subbuf=4
	lt enable-event -u -s ms-int -c ch 'magslab:*'
	lt start ms-int
	url="net://127.0.0.1:$P_LIVE/host/$(hostname)/ms-int"
	"$BIN" report "$url" -o "$WORK/int-out" >"$WORK/int.out" 2>"$WORK/int.err" </dev/null &
	rep=$!
	sleep 1.5
	kill -0 "$rep" 2>/dev/null || fail "magslab report ended early: $(head -n 1 "$WORK/int.err")" ||
		return 1
	kill -INT "$rep"
	for ((i = 0; i < 100; i++)); do
		kill -0 "$rep" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$rep" 2>/dev/null && { kill -KILL "$rep"; fail "SIGINT did not stop magslab report"; return 1; }
	RC=0
	wait "$rep" || RC=$?
	lt destroy ms-int
	sed 's/^/  stderr| /' "$WORK/int.err"
	((RC == 130)) || fail "after SIGINT: exit status $RC, expected 130" || return 1
	grep -q '^magslab report: interrupted$' "$WORK/int.err" || fail "no 'interrupted' line" || return 1
	# And a session that does not exist fails (not the silent end of the default).
	url="net://127.0.0.1:$P_LIVE/host/$(hostname)/no-such-session"
	one_line_error nosession 1 report "$url" -o "$WORK/int-out" || return 1
}

t_interrupt() {
	in_ns ns_interrupt
}

# ---- several hosts --------------------------------------------------------------------------

# ns_hosts_rec OUT URL WORKLOAD ARGS...: on a "host" of its own (ns_run --uts HOSTNAME): a
# session daemon; a session writing OUT/HOSTNAME and one streaming to the relay daemon at
# URL, both with the vpid context; one run of magslab-workload WORKLOAD ARGS, as PID 1 of a
# PID namespace (vpid 1 on every host), recorded by both.
ns_hosts_rec() {
	local out=$1 url=$2 s
	shift 2
	ns_sessiond
	lt create hosts-local --output="$out/$(hostname)"
	lt create hosts-relay --set-url="$url"
	for s in hosts-local hosts-relay; do
		lt enable-channel -u -s "$s" ch --buffers-uid --subbuf-size=2M --num-subbuf=4
		lt add-context -u -s "$s" -c ch -t vpid
		lt enable-event -u -s "$s" -c ch 'magslab:*'
		lt start "$s"
	done
	ns_note_daemons
	unshare -p -f -- "$WL" "$@" >/dev/null 2>"$LTTNG_HOME/workload.err" ||
		fail "$(hostname): magslab-workload $1 failed: $(tail -n 1 "$LTTNG_HOME/workload.err")"
	for s in hosts-local hosts-relay; do
		end_session "$s"
	done
}

# ns_hosts DIR: a relay daemon writing DIR/relay; hostA and hostB record into it and into
# DIR/local/HOSTNAME.
ns_hosts() {
	local dir=$1 url
	start_relayd "$dir/relay" || return 1
	url="net://127.0.0.1:$P_CTRL:$P_DATA"
	REPORT_NS_STATE=$WORK/daemons.hostA ns_run --uts hostA ns_hosts_rec "$dir/local" "$url" \
		phases --quiet --threads 2 --schedule idle:20ms,burst:150ms,steady:100ms
	REPORT_NS_STATE=$WORK/daemons.hostB ns_run --uts hostB ns_hosts_rec "$dir/local" "$url" \
		sizes --quiet --threads 2 --duration 300ms
}

# jqn FILE FILTER: the number jq FILTER gives on FILE (fails unless it is one).
jqn() {
	local v
	v=$(jq -r "$2" "$1") && [[ $v =~ ^[0-9]+$ ]] || fail "jq '$2' $1: not a number: $v" || return 1
	echo "$v"
}

# hosts_check NAME [--no-plots] TRACE...: magslab report TRACE... of hostA and hostB: the
# merged report and one per host (with their plots, unless --no-plots), whose counts add up
# to the merged ones.
hosts_check() {
	local name=$1 out=$WORK/hosts-$1 h key m a b both plots=1 d f
	shift
	[[ $1 == --no-plots ]] && plots=0
	rm -rf "$out"
	rep "hosts-$name" report -q "$@" -o "$out"
	((RC == 0)) || fail "magslab report $*: exit status $RC: $(head -n 1 "$ERR")"
	[[ ! -s $ERR ]] || fail "magslab report -q $*: stderr is not empty"
	head -n 7 "$OUT" | sed 's/^/  | /'
	for d in "$out" "$out/hosts/hostA" "$out/hosts/hostB"; do
		if ((plots)); then
			check_report "$d"
		else
			for f in summary.json summary.txt index.html magsize.gp; do
				[[ -s $d/$f ]] || fail "no $d/$f"
			done
		fi
	done
	grep -qxF "report:  $out/index.html" "$OUT" || fail "stdout does not say where index.html is"
	jq -e '[.trace.traces[].hostname] | sort | unique == ["hostA", "hostB"]' \
		"$out/summary.json" >/dev/null || fail "$name: the merged report is not of hostA and hostB"
	for h in hostA hostB; do
		grep -qE "^  $h .*: $out/hosts/$h/index.html\$" "$OUT" ||
			fail "$name: stdout does not list $out/hosts/$h/index.html"
		grep -qF "<a href=\"hosts/$h/index.html\">" "$out/index.html" ||
			fail "$name: index.html does not link hosts/$h/index.html"
		grep -qF '<a href="../../index.html">' "$out/hosts/$h/index.html" ||
			fail "$name: hosts/$h/index.html does not link the merged report"
		jq -e --arg h "$h" '[.trace.traces[].hostname] | length > 0 and all(. == $h)' \
			"$out/hosts/$h/summary.json" >/dev/null ||
			fail "$name: hosts/$h/summary.json has traces of another host"
		# The caches of the host's report are exactly the merged report's caches of that
		# host's traces.
		jq -c '[.caches[] | [.name, .id, .vpid, .events]] | sort' "$out/hosts/$h/summary.json" \
			>"$WORK/hosts-$h.caches"
		jq -c --arg h "$h" '(.trace.traces | map({key: (.domain | tostring), value: .hostname})
			| from_entries) as $hn | [.caches[] | select($hn[.trace_domain | tostring] == $h)
			| [.name, .id, .vpid, .events]] | sort' "$out/summary.json" >"$WORK/hosts-$h.merged"
		cmp -s "$WORK/hosts-$h.caches" "$WORK/hosts-$h.merged" ||
			fail "$name: the caches of hosts/$h/summary.json are not the merged report's caches of $h"
	done
	jq -e '[.caches[].name] | index("wl-phases") != null and
		all(startswith("wl-size") | not)' "$out/hosts/hostA/summary.json" >/dev/null ||
		fail "$name: hostA's report lacks wl-phases or has hostB's wl-size-* caches"
	jq -e '[.caches[].name] | any(startswith("wl-size")) and index("wl-phases") == null' \
		"$out/hosts/hostB/summary.json" >/dev/null ||
		fail "$name: hostB's report lacks its wl-size-* caches or has hostA's wl-phases"
	for key in .trace.events .trace.magslab_events '.caches | length' '.arenas | length' \
		.discarded.events .discarded.packets; do
		m=$(jqn "$out/summary.json" "$key")
		a=$(jqn "$out/hosts/hostA/summary.json" "$key")
		b=$(jqn "$out/hosts/hostB/summary.json" "$key")
		((a + b == m)) || fail "$name: $key: hostA $a + hostB $b != merged $m"
		echo "  ok: $key: hostA $a + hostB $b = merged $m"
	done
	# Same vpid on both hosts (PID 1 of their PID namespaces), same cache ids: the merged
	# report keeps them apart (the sink keys a process by trace and vpid).
	jq -e '[.caches[].vpid] | unique == [1]' "$out/hosts/hostA/summary.json" >/dev/null &&
		jq -e '[.caches[].vpid] | unique == [1]' "$out/hosts/hostB/summary.json" >/dev/null ||
		fail "$name: the workloads did not both run with vpid 1"
	# Every (cache id, vpid) that both hosts have is two caches of the merged report, one
	# per host's trace, none superseded.
	both=$(jq -n --slurpfile a "$out/hosts/hostA/summary.json" \
		--slurpfile b "$out/hosts/hostB/summary.json" --slurpfile m "$out/summary.json" '
		([$a[0].caches[] | [.id, .vpid]] as $pa | [$b[0].caches[] | [.id, .vpid]] as $pb |
		 $pa - ($pa - $pb) | unique) as $common |
		if [$m[0].caches[] | select(.superseded == true)] | length > 0 then "superseded"
		elif all($common[]; . as $p | [$m[0].caches[] | select([.id, .vpid] == $p)
			| .trace_domain] | unique | length == 2) then ($common | length)
		else "merged" end')
	[[ $both =~ ^[0-9]+$ ]] && ((both > 0)) ||
		fail "$name: same (cache id, vpid) on both hosts: not two caches of two traces in the merged report ($both)"
	echo "  ok: $both (cache id, vpid 1) pairs on both hosts: two caches each in the merged report, one per host"
	# The host table: hosts.txt and hosts.json.
	jq -e '[.hosts[].host] == ["hostA", "hostB"] and ([.hosts[].events] | add) == .merged.events
		and ([.hosts[].caches] | add) == .merged.caches and all(.hosts[]; .error == null)' \
		"$out/hosts.json" >/dev/null || fail "$name: hosts.json is not the table of hostA and hostB"
	for h in hostA hostB '(all hosts)'; do
		grep -qF "$h " "$out/hosts.txt" || fail "$name: hosts.txt has no row for $h"
	done
	sed 's/^/  hosts.txt| /' "$out/hosts.txt"
}

t_hosts() {
	local d=$WORK/hosts h m me
	me=$(hostname)
	rm -rf "$d"
	mkdir -p "$d"
	echo "+ recording hostA and hostB, each to a local trace and to one lttng-relayd"
	(
		unset NS_HOSTNAME # ns_run without --uts must not set this machine's hostname
		ns_run ns_hosts "$d"
	) || fail "recording the two hosts failed (see $WORK/lttng.log)"
	[[ $(hostname) == "$me" ]] || fail "recording changed this machine's hostname to $(hostname)"
	for h in hostA hostB; do
		[[ -n $(find "$d/local/$h" -name metadata) ]] || fail "no local trace of $h"
		[[ -n $(find "$d/relay/$h" -name metadata) ]] ||
			fail "no trace of $h in the relay daemon's output tree $d/relay"
	done
	find "$d" -name metadata | sed "s|^$d/|  trace: |"
	# A relay daemon's output tree (one TRACE), then two trace directories.
	hosts_check relay "$d/relay"
	hosts_check local --no-plots "$d/local/hostA" "$d/local/hostB"
	# No hostname in the trace environment: host "unknown" (a copy of hostB's trace whose
	# metadata, as babeltrace2 decodes it, lost its hostname line).
	cp -r "$d/local/hostB" "$d/nohost"
	m=$(find "$d/nohost" -name metadata)
	babeltrace2 -o ctf-metadata "$(dirname "$m")" | grep -v '^[[:space:]]*hostname = ' >"$m.new" &&
		mv "$m.new" "$m" || fail "cannot rewrite $m"
	rm -rf "$WORK/hosts-unknown"
	rep hosts-unknown report -q --no-plots "$d/local/hostA" "$d/nohost" -o "$WORK/hosts-unknown"
	((RC == 0)) || fail "hostA + a trace without hostname: exit status $RC: $(head -n 1 "$ERR")"
	[[ -s $WORK/hosts-unknown/hosts/hostA/summary.json &&
		-s $WORK/hosts-unknown/hosts/unknown/summary.json ]] ||
		fail "a trace without hostname did not go to hosts/unknown"
	grep -qE "^  unknown .*/hosts/unknown/index.html\$" "$OUT" || fail "stdout does not list host unknown"
	echo "  ok: a trace without hostname: host unknown"
	# A host whose traces have no magslab event: no report of its own, a warning, exit 0.
	rm -rf "$WORK/hosts-nomagslab"
	rep hosts-nomagslab report -q --no-plots "$d/local/hostA" "$TRACES/libc" \
		-o "$WORK/hosts-nomagslab"
	((RC == 0)) || fail "hostA + a trace without magslab events: exit status $RC: $(head -n 1 "$ERR")"
	[[ $(wc -l <"$ERR") == 1 ]] && grep -q '^magslab report: warning: host .*: no report: no magslab events' "$ERR" ||
		fail "a host without magslab events: not one warning line on stderr"
	jq -e '[.hosts[] | select(.report == null and (.error | test("no magslab events")))] | length == 1' \
		"$WORK/hosts-nomagslab/hosts.json" >/dev/null || fail "hosts.json does not say which host has no report"
	echo "  ok: a host without magslab events: $(cat "$ERR")"
	# One host (two traces of hostA): nothing changes.
	rm -rf "$WORK/hosts-one"
	rep hosts-one report -q --no-plots "$d/local/hostA" "$d/relay/hostA" -o "$WORK/hosts-one"
	((RC == 0)) || fail "two traces of hostA: exit status $RC: $(head -n 1 "$ERR")"
	[[ ! -e $WORK/hosts-one/hosts && ! -e $WORK/hosts-one/hosts.txt &&
		! -e $WORK/hosts-one/hosts.json ]] || fail "one host: a hosts/ directory or table was made"
	! grep -q '^hosts:' "$OUT" && ! grep -q 'id="hosts"' "$WORK/hosts-one/index.html" ||
		fail "one host: stdout or index.html has a hosts section"
	grep -qE '^magslab report: [0-9]+ events from 2 traces in ' "$OUT" ||
		fail "one host: the event count line changed"
	echo "  ok: two traces of one host: one report, as before"
}

t_clang-build() {
	local dir=$BUILD/report-clang
	"$MAKE" --no-print-directory frontend CC=clang BUILD="$dir" >"$WORK/clang.log" 2>&1 || {
		tail -n 30 "$WORK/clang.log"
		fail "make frontend CC=clang failed"
	}
	if grep -i 'warning' "$WORK/clang.log"; then
		fail "clang printed warnings"
	fi
	MAGSLAB_PLUGIN_PATH=$PLUGDIR "$dir/bin/magslab" report -q --no-plots "$TRACES/uid" \
		-o "$WORK/clang-out" >/dev/null || fail "the clang build does not run"
	echo "  ok: clang build of magslab runs"
}

# ---- main -----------------------------------------------------------------------------------

ns_dispatch "$@" # --ns-run FUNCTION: ns_run's namespace (tests/lttng-ns.sh)
if [[ ${1:-} == --ns ]]; then
	shift
	ns_main "$@"
	exit
fi
if [[ ${1:-} == --list ]]; then
	printf '%s\n' "${ALL_TESTS[@]}"
	exit 0
fi
tests=("$@")
((${#tests[@]})) || tests=("${ALL_TESTS[@]}")
for t in "${tests[@]}"; do
	declare -F "t_$t" >/dev/null || {
		say "test_report_frontend: unknown test '$t' (have: ${ALL_TESTS[*]})" >&2
		exit 2
	}
done
mkdir -p "$WORK"
# Daemons of a run that was killed before it could stop them.
stop_noted
for f in "$WORK"/daemons.host*; do
	[[ -f $f ]] && STATE=$f stop_noted
done

failed=0
if ! (set -e; ensure_built; ensure_traces) >"$WORK/ensure.log" 2>&1; then
	cat "$WORK/ensure.log"
	reason=$(grep -m1 '^FAIL:' "$WORK/ensure.log" | cut -c7-200)
	for t in "${tests[@]}"; do
		say "report-test: FAIL $t: ${reason:-set-up failed} (see $WORK/ensure.log)"
	done
	exit 1
fi
for t in "${tests[@]}"; do
	log=$WORK/$t.log
	start=$SECONDS
	(
		set -e
		"t_$t"
	) >"$log" 2>&1 </dev/null
	rc=$?
	cat "$log"
	if ((rc == 0)); then
		say "report-test: PASS $t ($((SECONDS - start)) s)"
	else
		failed=1
		say "report-test: FAIL $t: $(grep -m1 '^FAIL:' "$log" | cut -c7-200) (see $log)"
	fi
done
exit $failed
