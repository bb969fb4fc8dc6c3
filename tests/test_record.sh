#!/usr/bin/env bash
# tests/test_record.sh — checks of `magslab record` (analysis/record.c, lttng.c): session
# control through liblttng-ctl, the session daemon it starts (or reuses), losses, exit
# codes, the relay daemon path.
#
#   tests/test_record.sh [TEST...]    run every test (or the ones named)
#   tests/test_record.sh --list       the test names, one a line
#
# Prints "record-test: PASS NAME (N s)" or "record-test: FAIL NAME: REASON" per test and
# exits 0 if every one passed.  tests/run-tests.sh (configuration "other") runs each test
# as one check, "record-NAME".  Every test that touches LTTng runs in a private mount
# namespace with no session daemon (tests/lttng-ns.sh), so `magslab record` has to start
# its own — except `sessiond`, which starts one first to check that it is reused.
#
# Environment: BUILD (default build), MAKE.  Work files: $BUILD/test-record/.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
BUILD=${BUILD:-build}
MAKE=${MAKE:-make}
mkdir -p "$BUILD" && BUILD=$(cd "$BUILD" && pwd)
BIN=$BUILD/bin/magslab
WL=${MAGSLAB_TEST_WL:-$BUILD/bin/magslab-workload}
WORK=$BUILD/test-record
NS_STATE=$WORK/daemons
NS_SELF=$ROOT/tests/test_record.sh
export BUILD BIN WL WORK NS_STATE NS_SELF
# shellcheck source=tests/lttng-ns.sh
source "$ROOT/tests/lttng-ns.sh"
# shellcheck source=tests/frontend-tests.sh
source "$ROOT/tests/frontend-tests.sh"

ALL_TESTS=(help usage not-found workload exit-code sessiond discard blocking relayd
	relayd-hosts interrupt no-lttng preload)


# counters_match CACHE WORKLOAD_JSON SUMMARY_JSON: the trace's report of CACHE says what
# the workload's own counters say, field by field.
counters_match() {
	local c=$1 wj=$2 sj=$3 a b
	a=$(jq -c --arg c "$c" '.caches[] | select(.name == $c) |
		[.mag_swaps, .depot_gets, .depot_puts, .depot_misses, .magsize, .magsize_up,
		 .depot_contended, .depot_contended_counted]' "$wj") || return 1
	b=$(jq -c --arg c "$c" '[.caches[] | select(.name == $c and .kind == "user")][0] |
		[.mag_swaps, .depot.gets, .depot.puts, .depot.misses, .magsize.final, .bumps.up,
		 .contention.count, .contention.counted]' "$sj") || return 1
	echo "workload $c: $a"
	echo "report   $c: $b"
	[[ -n $a && $a == "$b" ]] || fail "the report of $c does not match the workload's counters"
}

# events_line OUT: the N of "events:    N recorded" in record's output.
events_line() { sed -n 's/^events: *\([0-9]*\) recorded$/\1/p' "$1"; }
discarded_line() { sed -n 's/^discarded: *\([0-9]*\) events.*/\1/p' "$1"; }

# ---- tests that need no LTTng ---------------------------------------------------------------

t_help() {
	"$BIN" record --help >"$WORK/help.out" || fail "record --help: exit $?"
	grep -q '^usage: magslab record' "$WORK/help.out" || fail "no usage line"
	grep -q '^Example' "$WORK/help.out" || fail "no example"
	"$BIN" help record | cmp -s - "$WORK/help.out" || fail "magslab help record differs"
	"$BIN" --help | grep -q '^  record ' || fail "magslab --help does not list record"
	grep -q -- '--preload' "$WORK/help.out" || fail "--help does not document --preload"
}

# expect_usage STATUS PATTERN ARGS...: magslab record ARGS exits STATUS with one stderr line
# matching PATTERN and nothing on stdout.
expect_usage() {
	local want=$1 pat=$2 rc
	shift 2
	"$BIN" record "$@" >"$WORK/u.out" 2>"$WORK/u.err" && rc=0 || rc=$?
	((rc == want)) || fail "record $*: exit $rc, want $want" || return 1
	[[ $(wc -l <"$WORK/u.err") == 1 ]] || fail "record $*: stderr not one line: $(cat "$WORK/u.err")" || return 1
	grep -q -- "$pat" "$WORK/u.err" || fail "record $*: '$(cat "$WORK/u.err")' lacks '$pat'" || return 1
	[[ ! -s $WORK/u.out ]] || fail "record $*: wrote on stdout"
}

t_usage() {
	expect_usage 2 'no command given'
	expect_usage 2 'no command given' -o "$WORK/x" --
	expect_usage 2 'no command given' --preload
	expect_usage 2 'no command given' --preload --
	MAGSLAB_MALLOC_LIB=$WORK/no-such.so expect_usage 1 'MAGSLAB_MALLOC_LIB=.* is not a readable file' \
		--preload -o "$WORK/nolib" -- true
	[[ ! -e $WORK/nolib ]] || fail "a trace directory was created without the shim"
	expect_usage 2 "unknown option '--bogus'" --bogus -- true
	expect_usage 2 'needs an argument' -o
	expect_usage 2 'power of two' --subbuf 1000 -- true
	expect_usage 2 'power of two' --subbuf 1k -- true
	expect_usage 2 'power of two' --num-subbuf 3 -- true
	expect_usage 2 'not HOST' --relayd host:99999 -- true
	expect_usage 2 'not HOST' --relayd ::1 -- true
	expect_usage 2 'one place' --relayd 127.0.0.1 -o "$WORK/x" -- true
	# issue 12: refused before anything runs, with a message that says why
	expect_usage 2 "--events: '' is not a comma-separated list" --events '' -- true
	expect_usage 2 "--events: 'a,,b' is not" --events 'a,,b' -- true
	expect_usage 2 "cannot resolve the host 'nosuchhost.invalid'" --relayd nosuchhost.invalid -- true
	expect_usage 2 "is not a size (or too large" --subbuf 17592186044416m -- true
	mkdir -p "$WORK/full" && : >"$WORK/full/file"
	expect_usage 1 'not an empty directory' -o "$WORK/full" -- true
}

t_not-found() {
	expect_usage 127 'command not found' -o "$WORK/nf" -- /nonexistent/prog
	expect_usage 127 'command not found' -o "$WORK/nf" -- no-such-program-here
	[[ ! -e $WORK/nf ]] || fail "a trace directory was created for a command that cannot run"
}

# ---- tests in a private LTTng namespace -------------------------------------------------------

# record_wl DIR ARGS...: magslab record -o DIR ARGS (options, then -- CMD) into DIR.out/.err.
record_wl() {
	local dir=$1
	shift
	rm -rf "$dir"
	"$BIN" record -q -o "$dir" "$@" >"$dir.out" 2>"$dir.err"
}

ns_workload() {
	record_wl "$WORK/wl" -- "$WL" batch --quiet --threads 4 --ops 200000 --json "$WORK/wl.json" ||
		fail "record exit $?: $(tail -n 3 "$WORK/wl.err")"
	cat "$WORK/wl.out"
	grep -q "^trace: *$WORK/wl\$" "$WORK/wl.out" || fail "no trace path line"
	[[ $(discarded_line "$WORK/wl.out") == 0 ]] || fail "events were discarded"
	"$BIN" report -q --no-plots "$WORK/wl" -o "$WORK/wl-report" >/dev/null ||
		fail "report of the recorded trace failed"
	counters_match wl-batch "$WORK/wl.json" "$WORK/wl-report/summary.json"
	local n
	n=$(jq '.trace.events' "$WORK/wl-report/summary.json")
	[[ $(events_line "$WORK/wl.out") == "$n" ]] ||
		fail "record says $(events_line "$WORK/wl.out") events, the report read $n"
	[[ -z $(ns_daemons) ]] || fail "daemons left running: $(ns_daemons)"
}
t_workload() { ns_run ns_workload; }

ns_exit_code() {
	local rc
	record_wl "$WORK/ec" -- sh -c 'exit 3' && rc=0 || rc=$?
	((rc == 3)) || fail "exit 3 came back as $rc"
	grep -q 'no traced program registered' "$WORK/ec.out" || fail "no 'nothing recorded' note"
	record_wl "$WORK/ec2" -- sh -c 'kill -KILL $$' && rc=0 || rc=$?
	((rc == 137)) || fail "a command killed by SIGKILL came back as $rc, want 137"
	record_wl "$WORK/ec3" -- "$WL" batch --threads 0 && rc=0 || rc=$?
	((rc == 2)) || fail "the workload's usage error (2) came back as $rc"
	[[ -z $(ns_daemons) ]] || fail "daemons left running: $(ns_daemons)"
}
t_exit-code() { ns_run ns_exit_code; }

ns_reuse() {
	local before after
	ns_sessiond
	before=$(ns_daemons | grep lttng-sessiond)
	record_wl "$WORK/sd" -- "$WL" pair --quiet --threads 1 --ops 10000 ||
		fail "record exit $?: $(tail -n 3 "$WORK/sd.err")"
	grep -q 'started for this run' "$WORK/sd.out" && fail "it started a daemon although one ran"
	after=$(ns_daemons | grep lttng-sessiond)
	[[ -n $before && $before == "$after" ]] || fail "the running session daemon was disturbed: '$before' -> '$after'"
	lttng list >"$WORK/sd.list" 2>&1
	grep -q 'magslab-' "$WORK/sd.list" && fail "a session was left behind: $(cat "$WORK/sd.list")"
	return 0
}
t_sessiond() { ns_run ns_reuse; }

# Tiny buffers and a hot emitter: discard mode loses events and says so.
ns_discard() {
	record_wl "$WORK/dc" --subbuf 4k --num-subbuf 2 -- "$WL" prodcons --quiet --threads 8 \
		--duration 1 --json "$WORK/dc.json" || fail "record exit $?: $(tail -n 3 "$WORK/dc.err")"
	local d
	d=$(discarded_line "$WORK/dc.out")
	cat "$WORK/dc.out" "$WORK/dc.err"
	[[ -n $d && $d -gt 0 ]] || fail "no discarded events reported with 2 x 4 KiB buffers"
	grep -q 'WARNING: the trace is incomplete' "$WORK/dc.err" || fail "no warning on stderr"
	"$BIN" report -q --no-plots "$WORK/dc" -o "$WORK/dc-report" >/dev/null 2>&1 ||
		fail "report failed"
	local r
	r=$(jq '.discarded.events' "$WORK/dc-report/summary.json")
	echo "tracer: $d discarded; report: $r"
	[[ $r == "$d" ]] || fail "the report counts $r discarded events, the tracer $d"
}
t_discard() { ns_run ns_discard; }

# The same tiny buffers in blocking mode: nothing is lost, the counters match exactly.
ns_blocking() {
	record_wl "$WORK/bl" --blocking --subbuf 4k --num-subbuf 2 -- "$WL" prodcons --quiet \
		--threads 8 --duration 1 --json "$WORK/bl.json" ||
		fail "record exit $?: $(tail -n 3 "$WORK/bl.err")"
	cat "$WORK/bl.out"
	[[ $(discarded_line "$WORK/bl.out") == 0 ]] || fail "blocking mode discarded events"
	"$BIN" report -q --no-plots "$WORK/bl" -o "$WORK/bl-report" >/dev/null ||
		fail "report failed"
	counters_match wl-prodcons "$WORK/bl.json" "$WORK/bl-report/summary.json"
}
t_blocking() { ns_run ns_blocking; }

# relayd_start DIR: an lttng-relayd on 127.0.0.1 (free ports, retried), output DIR; sets
# RELAYD_PORT (control; data = +1, live = +2).
relayd_start() {
	local out=$1 try p
	for try in 1 2 3 4 5; do
		p=$((20000 + RANDOM % 30000))
		lttng-relayd -b -C "tcp://127.0.0.1:$p" -D "tcp://127.0.0.1:$((p + 1))" \
			-L "tcp://127.0.0.1:$((p + 2))" -o "$out" >>"$WORK/relayd.log" 2>&1 &&
			{ RELAYD_PORT=$p; ns_note_daemons; return 0; }
	done
	fail "lttng-relayd did not start: $(tail -n 2 "$WORK/relayd.log")"
}

ns_relayd() {
	rm -rf "$WORK/relay-out"
	relayd_start "$WORK/relay-out"
	"$BIN" record -q --relayd "127.0.0.1:$RELAYD_PORT" --name ms-relay -- "$WL" batch --quiet \
		--threads 2 --ops 100000 --json "$WORK/rl.json" >"$WORK/rl.out" 2>"$WORK/rl.err" ||
		fail "record --relayd exit $?: $(tail -n 3 "$WORK/rl.err")"
	cat "$WORK/rl.out"
	grep -q 'relay daemon 127.0.0.1' "$WORK/rl.out" || fail "no relay daemon in the trace line"
	"$BIN" report -q --no-plots "$WORK/relay-out" -o "$WORK/rl-report" >/dev/null ||
		fail "report of the relay daemon's output failed"
	counters_match wl-batch "$WORK/rl.json" "$WORK/rl-report/summary.json"
	ls -d "$WORK/relay-out/$(hostname)/ms-relay"* >/dev/null ||
		fail "no HOSTNAME/SESSION directory in the relay output"
}
t_relayd() { ns_run ns_relayd; }

# Two "machines" (UTS namespaces with their own hostname and session daemon) stream to one
# relay daemon with record --relayd; the report of its output tree has both hosts, each
# with its own report, and their counts add up to the merged one.
rec_host() {
	local h=$1
	"$BIN" record -q --relayd "127.0.0.1:$RELAYD_PORT" --name "ms-$h" -- "$WL" batch --quiet \
		--threads 2 --ops 50000 --json "$WORK/rh-$h.json" >"$WORK/rh-$h.out" 2>"$WORK/rh-$h.err" ||
		fail "record on $h exit $?: $(tail -n 3 "$WORK/rh-$h.err")"
	grep -q 'started for this run' "$WORK/rh-$h.out" || fail "$h: no private session daemon?"
}

ns_relayd_hosts() {
	local out=$WORK/rh-out rep=$WORK/rh-report h sum merged
	rm -rf "$out" "$rep"
	relayd_start "$out"
	export RELAYD_PORT
	ns_run --uts ms-host-a rec_host ms-host-a
	ns_run --uts ms-host-b rec_host ms-host-b
	ls "$out"
	"$BIN" report -q --no-plots "$out" -o "$rep" >"$WORK/rh-report.out" ||
		fail "report of the relay tree failed"
	cat "$WORK/rh-report.out"
	sum=0
	for h in ms-host-a ms-host-b; do
		[[ -s $rep/hosts/$h/summary.json ]] || fail "no report for host $h" || return 1
		counters_match wl-batch "$WORK/rh-$h.json" "$rep/hosts/$h/summary.json" || return 1
		sum=$((sum + $(jq '.trace.events' "$rep/hosts/$h/summary.json")))
		grep -q "hosts/$h/index.html" "$rep/index.html" || fail "index.html has no link to $h"
	done
	merged=$(jq '.trace.events' "$rep/summary.json")
	echo "events: hosts $sum, merged $merged"
	((sum == merged)) || fail "per-host events $sum != merged $merged"
	[[ $(hostname) != ms-host-* ]] || fail "the machine's hostname was changed"
}
t_relayd-hosts() { ns_run ns_relayd_hosts; }

# interrupt_record SIG WANT DIR: record a long workload into DIR, send SIG to record after
# 1.5 s: the session is still stopped in order, exit WANT (128+N), the status printed and
# the exit status agree (issue 12), the trace is readable, no daemon is left.
interrupt_record() {
	local sig=$1 want=$2 d=$3 pid rc t0
	rm -rf "$d"
	"$BIN" record -q -o "$d" -- "$WL" pair --quiet --threads 2 --duration 30 \
		>"$d.out" 2>"$d.err" &
	pid=$!
	sleep 1.5
	# A background job ignores SIGINT (bash); record gives CMD default handlers back.
	kill -"$sig" "$pid"
	t0=$SECONDS
	wait "$pid" && rc=0 || rc=$?
	cat "$d.out" "$d.err"
	((rc == want)) || fail "exit $rc after SIG$sig, want $want"
	((SECONDS - t0 < 15)) || fail "it took $((SECONDS - t0)) s to stop"
	grep -q "command exited with status $want (interrupted by SIG$sig)" "$d.out" ||
		fail "no 'status $want (interrupted by SIG$sig)' in the summary"
	grep -q "interrupted by SIG$sig: the trace is complete up to then; exit status $want" \
		"$d.err" || fail "no interruption line on stderr"
	"$BIN" report -q --no-plots "$d" -o "$d-report" >/dev/null ||
		fail "the interrupted trace cannot be reported"
	[[ -z $(ns_daemons) ]] || fail "daemons left running: $(ns_daemons)"
}

# Ctrl-C (exit 130) and SIGTERM (exit 143) while the command runs.
ns_interrupt() {
	interrupt_record INT 130 "$WORK/int"
	interrupt_record TERM 143 "$WORK/term"
}
t_interrupt() { ns_run ns_interrupt; }

# No session daemon running and none installed (PATH without lttng-sessiond): one clear
# line, exit 1, and CMD never ran.
ns_no_lttng() {
	local rc
	mkdir -p "$WORK/empty-path"
	rm -rf "$WORK/nl" "$WORK/nl.ran"
	PATH=$WORK/empty-path "$BIN" record -o "$WORK/nl" -- /bin/sh -c ": >'$WORK/nl.ran'" \
		>"$WORK/nl.out" 2>"$WORK/nl.err" && rc=0 || rc=$?
	cat "$WORK/nl.err"
	((rc == 1)) || fail "exit $rc, want 1"
	[[ $(wc -l <"$WORK/nl.err") == 1 ]] || fail "not one line on stderr"
	grep -q 'lttng-sessiond not found.*install lttng-tools' "$WORK/nl.err" || fail "unclear message"
	[[ ! -e $WORK/nl.ran ]] || fail "CMD ran without a session"
}
t_no-lttng() { ns_run ns_no_lttng; }


# ---- --preload: a real program on the malloc shim (issue 14) --------------------------------

ns_preload() {
	local d=$WORK/pl n ev cls
	source "$ROOT/tests/malloc_inputs.sh"
	gen_sql "$WORK/pl.sql" 20000
	rm -f "$WORK/pl.db" "$WORK/pl-stats.json"
	# --blocking: nothing may be lost, or counts cannot be compared.
	MAGSLAB_MALLOC_STATS_JSON=$WORK/pl-stats.json record_wl "$d" --preload --blocking -- \
		sqlite3 "$WORK/pl.db" ".read $WORK/pl.sql" ||
		fail "record --preload exit $?: $(tail -n 3 "$d.err")"
	cat "$d.out"
	grep -q '^program: *sqlite3 (malloc shim), LD_PRELOAD of .*/libmagslab-malloc\.so$' "$d.out" ||
		fail "no program line naming sqlite3 and the shim"
	[[ $(discarded_line "$d.out") == 0 ]] || fail "events were discarded"
	[[ -s $WORK/pl-stats.json ]] || fail "the shim wrote no counters at exit"
	"$BIN" report -q --no-plots "$d" -o "$d-report" >/dev/null || fail "report of the trace failed"
	# The report names the program (record left TRACE/magslab-program for it).
	[[ $(jq -r .run.program "$d-report/summary.json") == "sqlite3 (malloc shim)" ]] ||
		fail "summary.json run.program is not sqlite3: $(jq -c .run "$d-report/summary.json")"
	grep -q '^run: program sqlite3 (malloc shim); ' "$d-report/summary.txt" ||
		fail "summary.txt's run line does not name sqlite3"
	grep -q 'program sqlite3 (malloc shim)' "$d-report/magsize.gp" || fail "the plot titles do not name sqlite3"
	# --max-caches 3: the three busiest of the default eight.
	"$BIN" report -q --no-plots --max-caches 3 "$d" -o "$d-report3" >/dev/null ||
		fail "report --max-caches 3 failed"
	[[ $(jq -c '.plots.caches' "$d-report3/summary.json") == "$(jq -c '.plots.caches[0:3]' "$d-report/summary.json")" ]] ||
		fail "--max-caches 3 did not draw the three busiest caches"
	echo "plotted (--max-caches 3): $(jq -c .plots.caches "$d-report3/summary.json")"
	cls=$(jq '[.caches[] | select(.name | test("^malloc-[0-9]+$")) |
		select((.depot.gets | add) + (.depot.misses | add) > 0)] | length' "$d-report/summary.json")
	echo "size classes with depot traffic in the report: $cls"
	((cls >= 5)) || fail "only $cls malloc-N caches with events in the report"
	n=$(jq '.trace.events' "$d-report/summary.json")
	ev=$(events_line "$d.out")
	[[ $ev == "$n" ]] || fail "record says $ev events, the report read $n"
	ft_preload_counters_match "$WORK/pl-stats.json" "$d-report/summary.json"
	[[ -z $(ns_daemons) ]] || fail "daemons left running: $(ns_daemons)"
}
t_preload() { ns_run ns_preload; }
# ---- main ----------------------------------------------------------------------------------

# The TRACE=1 workload, exported under its own name (the namespace side re-runs the top).
setup() {
	ft_trace1_shim record
	[[ $FT_SHIM == "$BUILD/lib/libmagslab-malloc.so" ]] || export MAGSLAB_MALLOC_LIB=$FT_SHIM
	ft_trace1_workload record
	export MAGSLAB_TEST_WL=$FT_WORKLOAD
	WL=$FT_WORKLOAD
}

ns_dispatch "$@"
FT_SETUP=setup ft_main record frontend workloads analysis-plugin malloc-shim -- "$@"
