#!/usr/bin/env bash
# tests/test_live.sh — checks of `magslab live` (analysis/live.c; the sink's snapshot-ms
# parameter is checked by tests/test_report_plugin.sh): the live session through its own
# relay daemon, the four views, the final report, exit codes, Ctrl-C, and that no daemon
# is left behind.
#
#   tests/test_live.sh [TEST...]    run every test (or the ones named)
#   tests/test_live.sh --list       the test names, one a line
#
# Prints "live-test: PASS NAME (N s)" or "live-test: FAIL NAME: REASON" per test and exits
# 0 if every one passed.  tests/run-tests.sh (configuration "other") runs each test as one
# check, "live-NAME".  Every test that touches LTTng runs in a private mount namespace with
# no session daemon (tests/lttng-ns.sh), so `magslab live` has to start its own session
# daemon (and always starts its own relay daemon).
#
# The traced program is magslab-workload; when $BUILD's was built without tracing
# (TRACE=0: it does not link liblttng-ust), a TRACE=1 one is built in $BUILD/live-trace1.
# The dumb view runs under a pseudo-terminal (util-linux `script`), the x11 view under
# `xvfb-run -a`.
#
# Environment: BUILD (default build), MAKE, CC.  Work files: $BUILD/test-live/.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
BUILD=${BUILD:-build}
MAKE=${MAKE:-make}
mkdir -p "$BUILD" && BUILD=$(cd "$BUILD" && pwd)
BIN=$BUILD/bin/magslab
WL=${LIVE_WL:-$BUILD/bin/magslab-workload}
WORK=$BUILD/test-live
NS_STATE=$WORK/daemons
NS_SELF=$ROOT/tests/test_live.sh
export BUILD BIN WL WORK NS_STATE NS_SELF
# shellcheck source=tests/lttng-ns.sh
source "$ROOT/tests/lttng-ns.sh"
# shellcheck source=tests/frontend-tests.sh
source "$ROOT/tests/frontend-tests.sh"

ALL_TESTS=(help usage dumb png x11 exit-code interrupt preload)

# A short schedule: magsize grows in the burst, holds in steady.
SCHEDULE=idle:1s,burst:2s,steady:2s


# no_daemons: no LTTng daemon left in this namespace.
no_daemons() {
	[[ -z $(ns_daemons) ]] || fail "daemons left running: $(ns_daemons)"
}

# report_ok DIR: the final report of `magslab live` is there, plots rendered.
report_ok() {
	local d=$1 f
	for f in summary.json summary.txt index.html magsize.png contention.png hash.png \
		depot.png layers.png magsize.svg; do
		[[ -s $d/$f ]] || fail "no $d/$f" || return 1
	done
	grep -q 'http-equiv="refresh"' "$d/index.html" && fail "the final index.html still reloads itself"
	grep -q '<img id="layers_png" src="layers.png"' "$d/index.html" || fail "index.html is not the full report"
	[[ -s $d/js/gnuplot_common.js && -s $d/layers.js ]] || fail "no canvas plots (layers.js, js/) in the final report"
	[[ $(jq -r '[.caches[] | select(.name == "wl-phases" or .name == "wl-prodcons")][0].created' \
		"$d/summary.json") == true ]] ||
		fail "the workload's cache_create is not in the report: the viewer attached late"
	echo "report: $(jq -c '{events: .trace.events, discarded: .discarded.events}' "$d/summary.json")"
}

# counters_match CACHE WORKLOAD_JSON SUMMARY_JSON: when nothing was discarded, the live
# report says what the workload's own counters say.
counters_match() {
	local c=$1 wj=$2 sj=$3 a b
	if [[ $(jq '.discarded.events + .discarded.packets' "$sj") != 0 ]]; then
		echo "events were discarded (a busy machine): counters not compared"
		return 0
	fi
	a=$(jq -c --arg c "$c" '.caches[] | select(.name == $c) |
		[.mag_swaps, .depot_gets, .depot_puts, .depot_misses, .magsize, .magsize_up,
		 .depot_contended]' "$wj") || return 1
	b=$(jq -c --arg c "$c" '[.caches[] | select(.name == $c and .kind == "user")][0] |
		[.mag_swaps, .depot.gets, .depot.puts, .depot.misses, .magsize.final, .bumps.up,
		 .contention.count]' "$sj") || return 1
	echo "workload $c: $a"
	echo "live     $c: $b"
	[[ -n $a && $a == "$b" ]] || fail "the live report of $c does not match the workload's counters"
}

# relayd_loopback: the relay daemon of this namespace listens on exactly three TCP
# sockets, all on 127.0.0.1 (from /proc/net/tcp{,6}: state 0A, by socket inode).
relayd_loopback() {
	local pid inodes addrs
	pid=$(ns_daemons | awk '$3 == "lttng-relayd" { print $1; exit }')
	[[ -n $pid ]] || fail "no lttng-relayd running during the session" || return 1
	inodes=$(find "/proc/$pid/fd" -type l -printf '%l\n' 2>/dev/null |
		sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p' | sort -u | tr '\n' ' ')
	addrs=$(awk -v inodes="$inodes" 'BEGIN { n = split(inodes, a, " "); for (i = 1; i <= n; i++) want[a[i]] = 1 }
		FNR > 1 && $4 == "0A" && ($10 in want) { print FILENAME ":" $2 }' /proc/net/tcp /proc/net/tcp6)
	echo "lttng-relayd (pid $pid) listens on: $(tr "\n" " " <<<"$addrs")"
	[[ $(wc -w <<<"$addrs") == 3 ]] || fail "the relay daemon listens on $(wc -w <<<"$addrs") sockets, want 3" || return 1
	! grep -qv '^/proc/net/tcp:0100007F:' <<<"${addrs// /$'\n'}" ||
		fail "the relay daemon listens beyond 127.0.0.1: $addrs"
}

# ---- tests that need no LTTng ---------------------------------------------------------------

t_help() {
	"$BIN" live --help >"$WORK/help.out" || fail "live --help: exit $?"
	grep -q '^usage: magslab live' "$WORK/help.out" || fail "no usage line"
	grep -q '^Example' "$WORK/help.out" || fail "no example"
	grep -q 'magslab live .*-- *\\*$' "$WORK/help.out" || fail "the example has no command line"
	"$BIN" help live | cmp -s - "$WORK/help.out" || fail "magslab help live differs"
	"$BIN" --help | grep -q '^  live ' || fail "magslab --help does not list live"
	grep -q -- '--preload' "$WORK/help.out" || fail "--help does not document --preload"
}

# expect_usage STATUS PATTERN ARGS...: magslab live ARGS exits STATUS with one stderr line
# matching PATTERN and nothing on stdout.
expect_usage() {
	local want=$1 pat=$2 rc
	shift 2
	"$BIN" live "$@" >"$WORK/u.out" 2>"$WORK/u.err" && rc=0 || rc=$?
	((rc == want)) || fail "live $*: exit $rc, want $want ($(head -n 2 "$WORK/u.err"))" || return 1
	[[ $(wc -l <"$WORK/u.err") == 1 ]] || fail "live $*: stderr not one line: $(cat "$WORK/u.err")" || return 1
	grep -q -- "$pat" "$WORK/u.err" || fail "live $*: '$(cat "$WORK/u.err")' lacks '$pat'" || return 1
	[[ ! -s $WORK/u.out ]] || fail "live $*: wrote on stdout"
	echo "live $*: exit $rc: $(cat "$WORK/u.err")"
}

t_usage() {
	rm -rf "$WORK/u-out"
	expect_usage 2 'no command given'
	expect_usage 2 'no command given' -o "$WORK/u-out" --
	expect_usage 2 "unknown option '--bogus'" --bogus -- true
	expect_usage 2 'needs an argument' -o
	expect_usage 2 "--term: 'vt100' is not" --term vt100 -- true
	expect_usage 2 "--interval: '0' is not" --interval 0 -- true
	expect_usage 2 "--interval: 'soon' is not" --interval soon -- true
	expect_usage 2 "--bucket: '0' is not" --bucket 0 -- true
	expect_usage 2 'no command given' --preload
	expect_usage 2 "--max-caches: '0' is not" --max-caches 0 --preload -- true
	MAGSLAB_MALLOC_LIB=$WORK/no-such.so expect_usage 1 'is not a readable file' --preload -o "$WORK/u-out" -- true
	expect_usage 127 'command not found' -o "$WORK/u-out" -- /nonexistent/prog
	DISPLAY='' expect_usage 1 'needs a display' --term x11 -o "$WORK/u-out" -- true
	[[ ! -e $WORK/u-out ]] || fail "an output directory was made for a run that could not start"
}

# ---- tests in a private LTTng namespace -------------------------------------------------------

# The dumb view under a pseudo-terminal of 100 x 40: frames drawn while the workload runs,
# then the final report.
ns_dumb() {
	local out=$WORK/dumb rc frames
	rm -rf "$out" "$out.tty"
	script -qefc "stty cols 100 rows 40; '$BIN' live --term dumb -o '$out' -- '$WL' phases \
		--schedule $SCHEDULE --threads 2 --json '$WORK/dumb.json'" "$out.tty" \
		</dev/null >/dev/null 2>&1 && rc=0 || rc=$?
	sed -e 's/\x1b\[[0-9;?]*[a-zA-Z]//g' "$out.tty" | tail -n 45
	((rc == 0)) || fail "exit $rc"
	frames=$(grep -a -o 'frame [0-9]* | command running' "$out.tty" | sort -u | wc -l)
	echo "frames drawn while the command ran: $frames"
	((frames >= 2)) || fail "$frames frame(s) drawn while the command ran, want at least 2"
	grep -a -q 'Depot magazine size' "$out.tty" || fail "no magsize plot on the terminal"
	grep -a -q 'Depot contention' "$out.tty" || fail "no contention plot on the terminal"
	grep -a -q $'\e\[?1049h' "$out.tty" || fail "the alternate screen was not used"
	grep -a -q $'\e\[?1049l' "$out.tty" || fail "the terminal was not restored"
	grep -a -q "^report: *$out/index.html" "$out.tty" || fail "no report line"
	report_ok "$out"
	counters_match wl-phases "$WORK/dumb.json" "$out/summary.json"
	grep -q 'magslab-workload phases' "$out/cmd.log" || fail "the command's output is not in cmd.log"
	no_daemons
}
t_dumb() { ns_run ns_dumb; }

# The png view: magsize.png rewritten at least twice under an index.html that reloads
# itself; meanwhile the relay daemon listens on 127.0.0.1 only.
ns_png() {
	local out=$WORK/png pid rc pngs=() frames=() seen_refresh=0 checked=0 id n m
	rm -rf "$out"
	"$BIN" live --term png --interval 0.5 -o "$out" -- "$WL" phases --schedule "$SCHEDULE" \
		--threads 2 --quiet >"$out.out" 2>"$out.err" &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		if grep -qs 'http-equiv="refresh"' "$out/index.html"; then
			seen_refresh=1
			id=$(stat -c '%i:%Y:%s' "$out/magsize.png" 2>/dev/null) && pngs+=("$id")
			id=$(grep -o 'magsize.png?frame=[0-9]*' "$out/index.html") && frames+=("$id")
		fi
		if ((!checked)) && grep -qs '; running ' "$out.err"; then
			relayd_loopback || { kill -INT "$pid"; wait "$pid"; return 1; }
			checked=1
		fi
		sleep 0.1
	done
	wait "$pid" && rc=0 || rc=$?
	cat "$out.err"
	((rc == 0)) || fail "exit $rc"
	((checked)) || fail "the run ended before the relay daemon could be checked"
	((seen_refresh)) || fail "index.html never had a meta refresh while the command ran"
	n=$(printf '%s\n' "${pngs[@]}" | sort -u | grep -c .)
	m=$(printf '%s\n' "${frames[@]}" | sort -u | grep -c .)
	echo "while the command ran: $n versions of magsize.png, $m frame numbers in index.html"
	((n >= 2)) || fail "magsize.png was written $n time(s) while the command ran, want 2 or more"
	((m >= 2)) || fail "index.html showed $m frame(s), want 2 or more"
	report_ok "$out"
	no_daemons
}
t_png() { ns_run ns_png; }

# The x11 view under a virtual X server: two windows redrawn, no error.
ns_x11() {
	local out=$WORK/x11 rc
	command -v xvfb-run >/dev/null || fail "xvfb-run is not installed (make deps)"
	rm -rf "$out"
	xvfb-run -a "$BIN" live --term x11 -o "$out" -- "$WL" prodcons --threads 4 --duration 3s \
		--quiet >"$out.out" 2>"$out.err" && rc=0 || rc=$?
	cat "$out.err"
	((rc == 0)) || fail "exit $rc: $(tail -n 1 "$out.err")"
	grep -q 'live view stopped' "$out.err" && fail "the view failed"
	grep -q 'x11 view' "$out.err" || fail "not the x11 view"
	report_ok "$out"
	no_daemons
}
t_x11() { ns_run ns_x11; }

# CMD's exit status comes back; a command without magslab events says so.
ns_exit_code() {
	local out=$WORK/ec rc
	rm -rf "$out"
	"$BIN" live --term png -o "$out" -- sh -c 'exit 3' >"$out.out" 2>"$out.err" && rc=0 || rc=$?
	cat "$out.err"
	((rc == 3)) || fail "exit 3 came back as $rc"
	grep -q 'no magslab events were recorded' "$out.err" || fail "no 'nothing recorded' message"
	[[ ! -e $out/index.html ]] || fail "a live page was left without a report"
	"$BIN" live --term png -o "$out" -- sh -c 'kill -KILL $$' >"$out.out" 2>"$out.err" && rc=0 || rc=$?
	((rc == 137)) || fail "a command killed by SIGKILL came back as $rc, want 137"
	no_daemons
}
t_exit-code() { ns_run ns_exit_code; }

# started_within S FILE: waits up to S seconds for magslab live's "...; running CMD" line.
started_within() {
	local i
	for ((i = 0; i < $1 * 10; i++)); do
		grep -qs '; running ' "$2" && return 0
		sleep 0.1
	done
	fail "the command was not started within $1 s: $(tail -n 2 "$2")"
}

# Ctrl-C while the command runs: the command is stopped, the report of what was read is
# written, exit 130 (128+SIGINT), and the output says so.  The command is 30 idle phases of
# 1 s: a workload_phase event every second whatever the scheduling, so that the trace runs
# up to the interruption (a pair run's only later events, pcc_contention, come from
# preemptions: some runs have none, and their trace ends 3 ms after the start).
ns_interrupt() {
	local out=$WORK/int pid rc t0 dur schedule
	rm -rf "$out"
	schedule=$(printf 'idle:1s,%.0s' {1..29})idle:1s
	"$BIN" live --term png -o "$out" -- "$WL" phases --quiet --threads 2 \
		--schedule "$schedule" >"$out.out" 2>"$out.err" &
	pid=$!
	started_within 30 "$out.err" || { kill -KILL "$pid"; return 1; }
	sleep 2
	kill -INT "$pid"
	t0=$SECONDS
	wait "$pid" && rc=0 || rc=$?
	cat "$out.err" "$out.out"
	((rc == 130)) || fail "exit $rc after SIGINT, want 130"
	((SECONDS - t0 < 15)) || fail "it took $((SECONDS - t0)) s to stop"
	grep -q '(interrupted by SIGINT)' "$out.out" || fail "no '(interrupted by SIGINT)' in the summary"
	grep -q '^magslab live: interrupted by SIGINT: exit status 130$' "$out.out" ||
		fail "no 'interrupted by SIGINT: exit status 130' line"
	[[ -s $out/summary.json && -s $out/magsize.png ]] || fail "no report of what was read"
	dur=$(jq '.trace.duration_s' "$out/summary.json")
	echo "trace duration: $dur s"
	awk -v d="$dur" 'BEGIN { exit !(d > 0.5 && d < 10) }' || fail "a trace of $dur s, want 0.5 to 10"
	no_daemons
}
t_interrupt() { ns_run ns_interrupt; }

# --preload (issue 14): sqlite3 on the malloc shim under the png view; the final report
# names the program and has its size classes, their cache_create events included.
ns_live_preload() {
	local out=$WORK/pl rc f
	source "$ROOT/tests/malloc_inputs.sh"
	gen_sql "$WORK/pl.sql" 50000
	rm -rf "$out" "$WORK/pl.db"
	"$BIN" live --preload --term png --interval 0.5 --max-caches 5 -o "$out" -- \
		sqlite3 "$WORK/pl.db" ".read $WORK/pl.sql" >"$out.out" 2>"$out.err" && rc=0 || rc=$?
	cat "$out.err"
	((rc == 0)) || fail "exit $rc"
	for f in summary.json index.html magsize.png contention.png; do
		[[ -s $out/$f ]] || fail "no $out/$f" || return 1
	done
	grep -q 'http-equiv="refresh"' "$out/index.html" && fail "the final index.html still reloads itself"
	grep -q 'sqlite3 (malloc shim)' "$out/index.html" || fail "index.html does not name sqlite3"
	[[ $(jq -r .run.program "$out/summary.json") == "sqlite3 (malloc shim)" ]] ||
		fail "summary.json run.program: $(jq -c .run "$out/summary.json")"
	[[ $(jq '[.caches[] | select(.name | test("^malloc-[0-9]+$")) | select(.created)] | length' \
		"$out/summary.json") -ge 5 ]] || fail "the size classes' cache_create events are missing"
	[[ $(jq '.plots.caches | length' "$out/summary.json") == 5 ]] ||
		fail "--max-caches 5: plotted $(jq -c .plots.caches "$out/summary.json")"
	echo "plotted: $(jq -c .plots.caches "$out/summary.json")"
	no_daemons
}
t_preload() { ns_run ns_live_preload; }

# ---- main ----------------------------------------------------------------------------------

setup() {
	local t
	for t in jq script gnuplot; do
		command -v "$t" >/dev/null ||
			{ echo "live-test: FAIL setup: '$t' is not installed (make deps)"; exit 1; }
	done
	# (exported as LIVE_WL: the namespace side re-runs this script's top)
	ft_trace1_shim live
	[[ $FT_SHIM == "$BUILD/lib/libmagslab-malloc.so" ]] || export MAGSLAB_MALLOC_LIB=$FT_SHIM
	ft_trace1_workload live
	export LIVE_WL=$FT_WORKLOAD
	WL=$LIVE_WL
}

ns_dispatch "$@"
FT_SETUP=setup ft_main live frontend workloads analysis-plugin malloc-shim -- "$@"
