#!/usr/bin/env bash
# tests/test_run.sh — checks of `magslab run` (analysis/run.c) and of `make demo`.
#
#   tests/test_run.sh [TEST...]    run every test (or the ones named)
#   tests/test_run.sh --list       the test names, one a line
#
# Prints "run-test: PASS NAME (N s)" or "run-test: FAIL NAME: REASON" per test and exits
# 0 if every one passed.  tests/run-tests.sh (configuration "other") runs each test as one
# check, "run-NAME".  Tests that record run in a private mount namespace with no LTTng
# daemon (tests/lttng-ns.sh): `magslab run` starts its own, as on a fresh machine.
#
# Environment: BUILD (default build), MAKE.  Work files: $BUILD/test-run/.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
BUILD=${BUILD:-build}
MAKE=${MAKE:-make}
mkdir -p "$BUILD" && BUILD=$(cd "$BUILD" && pwd)
BIN=$BUILD/bin/magslab
WORK=$BUILD/test-run
NS_STATE=$WORK/daemons
NS_SELF=$ROOT/tests/test_run.sh
export BUILD BIN WORK NS_STATE NS_SELF MAKE
# shellcheck source=tests/lttng-ns.sh
source "$ROOT/tests/lttng-ns.sh"
# shellcheck source=tests/frontend-tests.sh
source "$ROOT/tests/frontend-tests.sh"

ALL_TESTS=(help usage run rerun foreign interrupted demo preload)


# expect STATUS PATTERN ARGS...: magslab run ARGS exits STATUS, stderr matches PATTERN.
expect() {
	local want=$1 pat=$2 rc
	shift 2
	"$BIN" run "$@" >"$WORK/e.out" 2>"$WORK/e.err" && rc=0 || rc=$?
	((rc == want)) || fail "run $*: exit $rc, want $want: $(tail -n 2 "$WORK/e.err")" || return 1
	grep -q -- "$pat" "$WORK/e.err" || fail "run $*: '$(tail -n 2 "$WORK/e.err")' lacks '$pat'"
}


# report_ok DIR CACHE: the report of a run has every file, plots drawn, and the trace's
# counts for CACHE equal the workload's own counters.
report_ok() {
	local d=$1 c=$2 a b f
	for f in index.html summary.json summary.txt workload.json magsize.png contention.png \
		depot.png layers.png hash.png; do
		[[ -s $d/$f ]] || fail "$d/$f missing or empty" || return 1
	done
	for f in magsize contention depot layers; do
		png_ok "$d/$f.png" || return 1
	done
	[[ -d $d/trace ]] || fail "no $d/trace" || return 1
	a=$(jq -c --arg c "$c" '.caches[] | select(.name == $c) |
		[.mag_swaps, .depot_gets, .depot_puts, .depot_misses, .magsize, .magsize_up]' \
		"$d/workload.json")
	b=$(jq -c --arg c "$c" '[.caches[] | select(.name == $c and .kind == "user")][0] |
		[.mag_swaps, .depot.gets, .depot.puts, .depot.misses, .magsize.final, .bumps.up]' \
		"$d/summary.json")
	echo "workload $c: $a"
	echo "report   $c: $b"
	[[ -n $a && $a == "$b" ]] || fail "the report of $c does not match the workload's counters"
}

t_help() {
	"$BIN" run --help >"$WORK/help.out" || fail "run --help: exit $?"
	grep -q '^usage: magslab run WORKLOAD' "$WORK/help.out" || fail "no usage line"
	grep -q '^Example' "$WORK/help.out" || fail "no example"
	"$BIN" --help | grep -q '^  run ' || fail "magslab --help does not list run"
	grep -q -- '--preload' "$WORK/help.out" || fail "--help does not document --preload"
}

t_usage() {
	expect 2 'no WORKLOAD given'
	expect 2 'WORKLOAD comes first' --threads 2
	expect 2 "unknown workload 'nosuch'" nosuch -o "$WORK/u"
	expect 2 'writes the workload' batch --json x.json
	expect 2 'needs an argument' batch -o
	expect 2 'power of two' batch --subbuf 3k
	expect 2 '--preload: no command given' --preload
	expect 2 '--preload: no command given' --preload -o "$WORK/u" --
	expect 2 "'phases' is not an option of magslab run --preload" phases --preload -- true
	expect 2 "--max-caches: '0' is not" --preload --max-caches 0 -- true
	expect 127 'command not found' --preload -o "$WORK/u" -- /nonexistent/prog
	MAGSLAB_MALLOC_LIB=$WORK/no-such.so expect 1 'is not a readable file' --preload -o "$WORK/u" -- true
	[[ ! -e $WORK/u ]] || fail "an output directory was made for an unknown workload"
	# issue 12: every option is checked before anything runs (no OUTDIR, no daemon)
	expect 2 "--bucket: '0' is not a whole number" batch --bucket 0 -o "$WORK/u"
	expect 2 "--duration: '1e12' is too long" pair --duration 1e12 -o "$WORK/u"
	expect 2 "refused its options" pair --duration 1e12 -o "$WORK/u"
	expect 2 "--threads: needs at least 2" prodcons --threads 1 -o "$WORK/u"
	[[ ! -e $WORK/u ]] || fail "an output directory was made before the options were checked"
}

# Ctrl-C (SIGINT) and SIGTERM during the workload: the trace of what ran is reported (as
# magslab live does), the run says it was interrupted, exit 128+N.
ns_interrupted() {
	local sig want pid rc d
	for sig in INT TERM; do
		[[ $sig == INT ]] && want=130 || want=143
		d=$WORK/int-$sig
		rm -rf "$d"
		"$BIN" run pair --threads 2 --duration 60 -q --no-plots -o "$d" >"$d.out" 2>"$d.err" &
		pid=$!
		sleep 2
		kill -"$sig" "$pid"
		wait "$pid" && rc=0 || rc=$?
		cat "$d.out" "$d.err"
		((rc == want)) || fail "SIG$sig: exit $rc, want $want"
		grep -q "interrupted by SIG$sig: reporting what was recorded" "$d.err" ||
			fail "SIG$sig: no 'reporting what was recorded'"
		grep -q "interrupted by SIG$sig: the report covers the run up to the interruption; exit status $want" \
			"$d.err" || fail "SIG$sig: no final interruption line"
		[[ -s $d/summary.json && -s $d/index.html ]] || fail "SIG$sig: no report"
		(($(jq '[.caches[] | select(.name == "wl-pair")] | length' "$d/summary.json") == 1)) ||
			fail "SIG$sig: the report lacks wl-pair"
		[[ -z $(ns_daemons) ]] || fail "daemons left running: $(ns_daemons)"
	done
}
t_interrupted() { ns_run ns_interrupted; }

ns_run_batch() {
	"$BIN" run batch --threads 2 --ops 100000 -q -o "$WORK/r1" >"$WORK/r1.out" 2>"$WORK/r1.err" ||
		fail "run exit $?: $(tail -n 3 "$WORK/r1.err")"
	cat "$WORK/r1.out"
	grep -q "^report: *$WORK/r1/index.html" "$WORK/r1.out" || fail "index.html path not printed"
	grep -q '^No events were discarded' "$WORK/r1.out" || fail "summary head not printed"
	report_ok "$WORK/r1" wl-batch
	[[ -z $(ns_daemons) ]] || fail "daemons left running: $(ns_daemons)"
}
t_run() { ns_run ns_run_batch; }

# Running again into the same OUTDIR replaces the earlier trace and report; a workload
# that refuses its options makes run exit with the workload's status.
ns_rerun() {
	"$BIN" run pair --threads 1 --ops 50000 -q -o "$WORK/r2" >/dev/null 2>"$WORK/r2.err" ||
		fail "first run: $(tail -n 2 "$WORK/r2.err")"
	"$BIN" run batch --threads 2 --ops 50000 -q -o "$WORK/r2" >/dev/null 2>"$WORK/r2.err" ||
		fail "second run: $(tail -n 2 "$WORK/r2.err")"
	report_ok "$WORK/r2" wl-batch
	jq -e '[.caches[] | select(.name == "wl-pair")] | length == 0' "$WORK/r2/summary.json" \
		>/dev/null || fail "the first run's trace was not replaced"
	local rc
	"$BIN" run batch --threads -3 -q -o "$WORK/r3" >/dev/null 2>"$WORK/r3.err" && rc=0 || rc=$?
	((rc == 2)) || fail "a workload usage error came back as $rc"
	grep -q 'refused its options' "$WORK/r3.err" || fail "no message: $(cat "$WORK/r3.err")"
}
t_rerun() { ns_run ns_rerun; }

t_foreign() {
	mkdir -p "$WORK/f/trace" && : >"$WORK/f/trace/mine"
	expect 1 'not written by magslab run' batch -o "$WORK/f"
	[[ -e $WORK/f/trace/mine ]] || fail "a user's file was deleted"
}

# make demo from this tree into a private BUILD and DEMO_OUT, timed: < 3 minutes once the
# packages are installed, index.html and non-empty plots, the magazines grew; depot
# exchanges, contention and hash resizes in the summary, exact layers, no plot that says
# "no ... in this trace".
ns_demo() {
	local t0=$SECONDS out=$WORK/demo
	rm -rf "$out"
	# TRACE=1 whatever this check's build is: a TRACE=0 demo has nothing to show.
	env -u MAGSLAB_WORKLOAD "$MAKE" --no-print-directory -C "$ROOT" demo TRACE=1 \
		BUILD="$WORK/demo-build" DEMO_OUT="$out" \
		>"$WORK/demo.out" 2>&1 || fail "make demo exit $?: $(tail -n 5 "$WORK/demo.out")"
	echo "make demo: $((SECONDS - t0)) s"
	((SECONDS - t0 < 180)) || fail "make demo took $((SECONDS - t0)) s"
	grep -q "make demo: open $out/index.html" "$WORK/demo.out" || fail "index.html path not printed"
	grep -q '^run: workload phases' "$WORK/demo.out" || fail "summary not printed"
	report_ok "$out" wl-phases
	local m
	m=$(jq '[.caches[] | select(.name == "wl-phases")][0].magsize.final' "$out/summary.json")
	echo "wl-phases final magsize $m"
	((m > 8)) || fail "the demo's magazines did not grow (final magsize $m)"
	# All four things the tool shows (issue 15), and no empty plot.
	local empty
	empty=$(grep -l 'in this trace"' "$out"/*.gp || true)
	[[ -z $empty ]] || fail "empty plots in the demo: $empty"
	jq -e '[.caches[] | select(.name == "wl-phases")][0] | .hash.resizes > 0 and
		.contention.count > 0 and .events.depot_exchange > 0' "$out/summary.json" \
		>/dev/null || fail "the demo's cache lacks hash resizes, contention or depot exchanges"
	jq -e '.layers.mode == "exact"' "$out/summary.json" >/dev/null || fail "layers not exact"
	echo "swaps, contention, bumps, hash resizes; layers exact; no empty plot"
}
t_demo() { ns_run ns_demo; }

# --preload (issue 14): sqlite3 on the malloc shim, recorded and reported; the report names
# the program, draws --max-caches of its size classes, and its counts equal the counters
# the shim wrote at exit into OUTDIR/malloc-stats; CMD's exit status is run's.
ns_run_preload() {
	local d=$WORK/pl f rc
	source "$ROOT/tests/malloc_inputs.sh"
	gen_sql "$WORK/pl.sql" 20000
	rm -f "$WORK/pl.db"
	"$BIN" run --preload --blocking --max-caches 4 -q -o "$d" -- sqlite3 "$WORK/pl.db" \
		".read $WORK/pl.sql" >"$d.out" 2>"$d.err" || fail "run --preload exit $?: $(tail -n 3 "$d.err")"
	cat "$d.out"
	for f in index.html summary.json magsize.png contention.png depot.png layers.png; do
		[[ -s $d/$f ]] || fail "$d/$f missing or empty" || return 1
	done
	png_ok "$d/magsize.png"
	grep -q 'sqlite3 (malloc shim)' "$d/index.html" || fail "index.html does not name sqlite3"
	[[ $(jq -r .run.program "$d/summary.json") == "sqlite3 (malloc shim)" ]] ||
		fail "summary.json run.program: $(jq -c .run "$d/summary.json")"
	[[ $(jq -c '[.plots.caches[] | test("^malloc-[0-9]+$")] | length' "$d/summary.json") == 4 ]] ||
		fail "--max-caches 4: plotted $(jq -c .plots.caches "$d/summary.json")"
	f=$(ls "$d"/malloc-stats/*.json)
	[[ $(wc -w <<<"$f") == 1 ]] || fail "want one counters file in $d/malloc-stats, have: $f"
	ft_preload_counters_match "$f" "$d/summary.json"
	# CMD's exit status comes through, after the report; run again replaces the counters.
	"$BIN" run --preload -q --no-plots -o "$d" -- sqlite3 "$WORK/pl.db" 'select nosuch();' \
		>"$d.out" 2>"$d.err" && rc=0 || rc=$?
	cat "$d.err"
	((rc == 1)) || fail "a failing sqlite3 (exit 1) under run --preload: exit $rc"
	grep -q 'sqlite3 exited with status 1 (the report is written)' "$d.err" || fail "no status line"
	[[ $(jq -r .run.program "$d/summary.json") == "sqlite3 (malloc shim)" ]] || fail "no report"
	[[ $(ls "$d"/malloc-stats | wc -l) == 1 ]] || fail "the earlier run's counters were kept"
	[[ -z $(ns_daemons) ]] || fail "daemons left running: $(ns_daemons)"
}
t_preload() { ns_run ns_run_preload; }

# `magslab run` finds the workload through MAGSLAB_WORKLOAD (a TRACE=1 one, see
# ft_trace1_workload), which the namespace side inherits.
setup() {
	ft_trace1_shim run
	[[ $FT_SHIM == "$BUILD/lib/libmagslab-malloc.so" ]] || export MAGSLAB_MALLOC_LIB=$FT_SHIM
	ft_trace1_workload run
	[[ $FT_WORKLOAD == "$BUILD/bin/magslab-workload" ]] || export MAGSLAB_WORKLOAD=$FT_WORKLOAD
}

ns_dispatch "$@"
FT_SETUP=setup ft_main run frontend workloads analysis-plugin malloc-shim -- "$@"
