#!/usr/bin/env bash
# tests/test_tune.sh — checks of `magslab tune` (analysis/tune.c; contract: docs/tune.md).
#
#   tests/test_tune.sh [TEST...]    run every test (or the ones named)
#   tests/test_tune.sh --list       the test names, one a line
#
# Prints "tune-test: PASS NAME (N s)" or "tune-test: FAIL NAME: REASON (see LOG)" per test
# and exits 0 if every one passed, 1 otherwise.  tests/run-tests.sh (configuration
# "other") runs each test as one check, "tune-NAME".  Every test builds what it needs
# first (`make frontend workloads`, quick when up to date).
#
# The grid test runs prodcons with 8 threads on this 2-core machine, where the depot lock
# is contended: with threshold 1 the magsize grows past the default 8 (to 62 in 1 s, in
# every trial), with threshold 1000 and a 1 ms window it barely grows (it takes 1001
# counted contentions within 1 ms: measured 8 or 9), so the grid must show the
# difference.  The trace test records, and so runs in a private mount namespace with no LTTng
# daemon (tests/lttng-ns.sh): `magslab record` starts its own there.  The whole script
# takes about 40 s.
#
# Environment: BUILD (default build), MAKE, CC.  Work files: $BUILD/test-tune/.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
BUILD=${BUILD:-build}
MAKE=${MAKE:-make}
CC=${CC:-gcc}
mkdir -p "$BUILD" && BUILD=$(cd "$BUILD" && pwd)
BIN=$BUILD/bin/magslab
WL=$BUILD/bin/magslab-workload
WORK=$BUILD/test-tune
NS_STATE=$WORK/daemons
NS_SELF=$ROOT/tests/test_tune.sh
export BUILD BIN WL WORK NS_STATE NS_SELF MAKE CC
# shellcheck source=tests/lttng-ns.sh
source "$ROOT/tests/lttng-ns.sh"
# shellcheck source=tests/frontend-tests.sh
source "$ROOT/tests/frontend-tests.sh"

ALL_TESTS=(help usage grid repeat run-fails interrupt trace clang-build)
HEATMAPS=(throughput contention bytes settle)


# expect STATUS PATTERN ARGS...: magslab tune ARGS exits STATUS with one line on stderr
# matching PATTERN.
expect() {
	local want=$1 pat=$2 rc
	shift 2
	"$BIN" tune "$@" >"$WORK/e.out" 2>"$WORK/e.err" && rc=0 || rc=$?
	((rc == want)) || fail "tune $*: exit $rc, want $want: $(tail -n 2 "$WORK/e.err")" ||
		return 1
	grep -q -- "$pat" "$WORK/e.err" || fail "tune $*: '$(cat "$WORK/e.err")' lacks '$pat'" ||
		return 1
	(($(wc -l <"$WORK/e.err") == 1)) || fail "tune $*: not one line: $(cat "$WORK/e.err")"
}


svg_ok() {
	[[ -s $1 ]] && grep -q '<svg' "$1" || fail "$1 is not an SVG"
}

# col CSV NAME: the column's values, one a line (the header names the columns).
col() {
	awk -F, -v name="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i; next }
		c { print $c }' "$1"
}

# cell CSV THRESHOLD TIMEOUT_NS NAME: one cell's value.
cell() {
	awk -F, -v t="$2" -v ns="$3" -v name="$4" '
		NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
		$h["threshold"] == t && $h["timeout_ns"] == ns { print $h[name] }' "$1"
}

# plots_ok DIR: the four heatmaps of the contract, PNG and SVG, and their scripts.
plots_ok() {
	local m
	for m in "${HEATMAPS[@]}"; do
		[[ -s $1/heat_$m.gp ]] || fail "no $1/heat_$m.gp" || return 1
		png_ok "$1/heat_$m.png" || return 1
		svg_ok "$1/heat_$m.svg" || return 1
	done
}

t_help() {
	"$BIN" tune --help >"$WORK/help.out" || fail "tune --help: exit $?" || return 1
	grep -q '^usage: magslab tune WORKLOAD --threshold LIST --timeout LIST' "$WORK/help.out" ||
		fail "no usage line" || return 1
	grep -q '^Example' "$WORK/help.out" || fail "no example" || return 1
	grep -q '^  magslab tune prodcons --threshold' "$WORK/help.out" ||
		fail "the example is not a tune command" || return 1
	"$BIN" help tune | cmp -s - "$WORK/help.out" || fail "magslab help tune differs" ||
		return 1
	"$BIN" --help | grep -q '^  tune ' || fail "magslab --help does not list tune"
}

t_usage() {
	local o=$WORK/u
	rm -rf "$o"
	expect 2 'no WORKLOAD given' --threshold 1 --timeout 1ms || return 1
	expect 2 '--threshold LIST is missing' prodcons --timeout 1ms -o "$o" || return 1
	expect 2 '--timeout LIST is missing' prodcons --threshold 1 -o "$o" || return 1
	expect 2 "--threshold: 'x' is not a whole number" prodcons --threshold 1,x \
		--timeout 1ms -o "$o" || return 1
	expect 2 "--threshold: '-1' is not a whole number" prodcons --threshold=-1 \
		--timeout 1ms -o "$o" || return 1
	expect 2 'empty item' prodcons --threshold 1,,2 --timeout 1ms -o "$o" || return 1
	expect 2 'listed twice' prodcons --threshold 4,1,4 --timeout 1ms -o "$o" || return 1
	expect 2 "--timeout: '5parsecs' is not a timeout" prodcons --threshold 1 \
		--timeout 1ms,5parsecs -o "$o" || return 1
	expect 2 "--timeout: '0' is not a timeout" prodcons --threshold 1 --timeout 0 \
		-o "$o" || return 1
	expect 2 "--timeout: '0.5ns' is not a timeout" prodcons --threshold 1 --timeout 0.5ns \
		-o "$o" || return 1
	expect 2 'listed twice' prodcons --threshold 1 --timeout 1ms,1000us -o "$o" || return 1
	expect 2 "--repeat: '0' is not" prodcons --threshold 1 --timeout 1ms --repeat 0 \
		-o "$o" || return 1
	expect 2 "unknown workload 'nosuch' (magslab-workload knows: pair, batch, prodcons" \
		nosuch --threshold 1 --timeout 1ms -o "$o" || return 1
	expect 2 "unknown option '--threads' (workload options go after WORKLOAD)" \
		--threads 2 prodcons --threshold 1 --timeout 1ms -o "$o" || return 1
	expect 2 '--timeout-ns is what tune varies' prodcons --threshold 1 --timeout 1ms \
		--timeout-ns 5 -o "$o" || return 1
	expect 2 'tune writes each run' prodcons --threshold 1 --timeout 1ms --json x.json \
		-o "$o" || return 1
	expect 2 '--threshold needs a value' prodcons --timeout 1ms --threshold || return 1
	[[ ! -e $o ]] || fail "an output directory was made before the grid could run" ||
		return 1
	# Options magslab-workload refuses: exit 2, with the workload's own message.
	local rc
	"$BIN" tune prodcons --threshold 1 --timeout 1ms -o "$o" -q --bogus 3 \
		>/dev/null 2>"$WORK/w.err" && rc=0 || rc=$?
	((rc == 2)) || fail "a refused workload option gave exit $rc" || return 1
	grep -q "refused the options" "$WORK/w.err" && grep -q "unknown option '--bogus'" \
		"$WORK/w.err" || fail "no clear message: $(cat "$WORK/w.err")"
}

# The 2 x 2 grid of 1 s prodcons runs: tune.csv, heatmaps, tune.txt, index.html, stdout.
t_grid() {
	local o=$WORK/grid csv t n rec rs rt
	rm -rf "$o"
	"$BIN" tune prodcons --threshold 1000,1 --timeout 1s,1ms -o "$o" --threads 8 \
		--duration 1s >"$WORK/grid.out" 2>"$WORK/grid.err" ||
		fail "tune exit $?: $(tail -n 4 "$WORK/grid.err")" || return 1
	cat "$WORK/grid.out" "$o/tune.csv"
	csv=$o/tune.csv
	head -n 1 "$csv" | grep -q '^threshold,timeout_ns,repeat,throughput_mops,contentions_per_s,final_magsize,bytes_in_mags,settle_s' ||
		fail "tune.csv header: $(head -n 1 "$csv")" || return 1
	(($(wc -l <"$csv") == 5)) || fail "tune.csv has $(wc -l <"$csv") lines, want 5" ||
		return 1
	[[ $(col "$csv" threshold | tr '\n' ' ') == "1 1 1000 1000 " ]] ||
		fail "threshold column: $(col "$csv" threshold | tr '\n' ' ')" || return 1
	[[ $(col "$csv" timeout_ns | tr '\n' ' ') == "1000000 1000000000 1000000 1000000000 " ]] ||
		fail "timeout_ns column: $(col "$csv" timeout_ns | tr '\n' ' ')" || return 1
	awk -F, 'NR > 1 && !($3 == 1 && $4 > 0 && $5 >= 0 && $6 >= 8 && $6 <= 62 && $7 > 0 &&
		$8 >= 0 && $8 < 2) { bad = 1; print "implausible row: " $0 } END { exit bad }' \
		"$csv" || fail "implausible numbers in tune.csv" || return 1
	# The threshold matters: 1 grows the magsize past 8, 1000 in a 1 ms window less.
	for t in 1000000 1000000000; do
		(($(cell "$csv" 1 $t final_magsize) > 8)) ||
			fail "threshold 1, timeout $t ns: magsize $(cell "$csv" 1 $t final_magsize)" ||
			return 1
	done
	(($(cell "$csv" 1000 1000000 final_magsize) < $(cell "$csv" 1 1000000 final_magsize))) ||
		fail "threshold 1000, timeout 1ms: magsize $(cell "$csv" 1000 1000000 final_magsize), not below threshold 1's" ||
		return 1
	plots_ok "$o" || return 1
	# One recommended row, on the Pareto front; tune.txt names the same grid setting.
	n=$(awk -F, 'NR > 1 && $NF == 1' "$csv" | wc -l)
	((n == 1)) || fail "$n recommended rows" || return 1
	rec=$(awk -F, 'NR > 1 && $NF == 1 { print $1 " " $2 " " $(NF - 1) }' "$csv")
	read -r rt rs n <<<"$rec"
	((n == 1)) || fail "the recommended row is not on the Pareto front" || return 1
	grep -q "^recommended: threshold $rt, timeout .* (--threshold $rt --timeout-ns $rs)" \
		"$o/tune.txt" || fail "tune.txt does not recommend $rt/$rs" || return 1
	grep -q '^Rule: ' "$o/tune.txt" && grep -q '^Pareto front: ' "$o/tune.txt" &&
		grep -q '^why: ' "$o/tune.txt" && grep -q '^contention: ' "$o/tune.txt" &&
		grep -q '^settling: ' "$o/tune.txt" || fail "tune.txt lacks a section" || return 1
	grep -q "^  recommended (threshold $rt, timeout " "$o/tune.txt" &&
		grep -q '^  default (threshold 1, timeout 1s) ' "$o/tune.txt" ||
		fail "tune.txt lacks the re-run of the recommended and the default setting" ||
		return 1
	grep -Eq '^re-run \(seed 2\): recommended [0-9.]+ Mops/s, .*; default \(threshold 1, timeout 1s\) [0-9.]+ Mops/s' \
		"$o/tune.txt" || fail "no re-run line" || return 1
	# The verdict: beats or not on each, or (recommended = default) run-to-run noise.
	grep -Eq '^verdict: the recommended setting ((beats|does not beat|ties with) the default on throughput .* (beats|does not beat|ties with) the default on memory|is the default, so there is nothing to beat: .* in throughput and .* in memory)' \
		"$o/tune.txt" || fail "no verdict: $(grep '^verdict' "$o/tune.txt")" || return 1
	ls "$o"/runs/rerun-recommended-s2.json "$o"/runs/rerun-default-s2.json >/dev/null ||
		fail "no re-run JSON with seed 2" || return 1
	for t in "${HEATMAPS[@]}"; do
		grep -q "src=\"heat_$t.png\"" "$o/index.html" || fail "index.html lacks heat_$t" ||
			return 1
	done
	grep -q '<table>' "$o/index.html" && grep -q '^recommended: ' "$o/index.html" ||
		fail "index.html lacks the table or the recommendation" || return 1
	for t in tune.csv tune.txt index.html; do
		grep -q " $o/$t\$" "$WORK/grid.out" || fail "stdout does not say where $t is" ||
			return 1
	done
	grep -q '^recommended: ' "$WORK/grid.out" && grep -q '^verdict: ' "$WORK/grid.out" ||
		fail "stdout lacks the recommendation lines" || return 1
	grep -q '^magslab tune: run 6/6: re-run, the default setting, seed 2; elapsed' \
		"$WORK/grid.err" || fail "no progress lines on stderr: $(head -n 2 "$WORK/grid.err")"
}

# --repeat 2 on a 1 x 2 grid: seeds 1 and 2 per cell, 3 and 4 for the re-runs, repeat 2
# in the CSV, the median between min and max; -q: nothing on stderr.
t_repeat() {
	local o=$WORK/repeat f
	rm -rf "$o"
	"$BIN" tune pair --threshold 4 --timeout 10ms,100ms --repeat 2 --seed 1 -q -o "$o" \
		--threads 2 --duration 300ms >"$WORK/repeat.out" 2>"$WORK/repeat.err" ||
		fail "tune exit $?: $(tail -n 4 "$WORK/repeat.err")" || return 1
	[[ ! -s $WORK/repeat.err ]] || fail "-q, yet stderr: $(head -n 2 "$WORK/repeat.err")" ||
		return 1
	cat "$o/tune.csv"
	for f in 4_10000000-s1 4_10000000-s2 4_100000000-s1 4_100000000-s2 \
		rerun-recommended-s3 rerun-recommended-s4 rerun-default-s3 rerun-default-s4; do
		[[ -s $o/runs/$f.json ]] || fail "no runs/$f.json" || return 1
	done
	[[ $(col "$o/tune.csv" repeat | sort -u) == 2 ]] || fail "repeat column is not 2" ||
		return 1
	awk -F, 'NR > 1 && !($9 <= $4 && $4 <= $10) { bad = 1 } END { exit bad }' \
		"$o/tune.csv" || fail "a median outside min..max" || return 1
	grep -q 'seeds 3 to 4' "$o/tune.txt" || fail "tune.txt does not give the re-run seeds" ||
		return 1
	plots_ok "$o"
}

# A run that fails halfway through the grid: exit 1, its setting, exit status and the
# end of its output.  The workload is a wrapper (found through MAGSLAB_WORKLOAD by a copy
# of magslab with no magslab-workload beside it) that fails for threshold 1000.
t_run_fails() {
	local d=$WORK/fails rc
	rm -rf "$d" && mkdir -p "$d/bin"
	cp "$BIN" "$d/bin/magslab"
	cat >"$d/wl" <<EOF
#!/bin/sh
case " \$* " in
*" --threshold 1000 "*)
	echo "magslab-workload prodcons: kmem_cache_alloc returned NULL (simulated)" >&2
	exit 1 ;;
esac
exec "$WL" "\$@"
EOF
	chmod +x "$d/wl"
	MAGSLAB_WORKLOAD=$d/wl "$d/bin/magslab" tune prodcons --threshold 1,1000 --timeout 1ms \
		-o "$d/out" --duration 200ms >"$d/out.txt" 2>"$d/err.txt" && rc=0 || rc=$?
	cat "$d/err.txt"
	((rc == 1)) || fail "exit $rc, want 1" || return 1
	grep -q 'run 2/4 (threshold 1000, timeout 1ms, seed 1) failed: exit status 1' \
		"$d/err.txt" || fail "no failure line" || return 1
	grep -q 'kmem_cache_alloc returned NULL (simulated)' "$d/err.txt" ||
		fail "the run's stderr is not shown" || return 1
	# Without the wrapper nor a workload in PATH: a clear failure.
	env -u MAGSLAB_WORKLOAD PATH=/usr/bin:/bin "$d/bin/magslab" tune prodcons --threshold 1 --timeout 1ms \
		-o "$d/out" >/dev/null 2>"$d/err2.txt" && rc=0 || rc=$?
	((rc == 1)) && grep -q 'magslab-workload not found' "$d/err2.txt" ||
		fail "no workload program: exit $rc, $(cat "$d/err2.txt")"
}

# SIGINT while a run goes: exit 130 soon, and no workload left running.
t_interrupt() {
	local o=$WORK/int pid rc
	rm -rf "$o"
	"$BIN" tune prodcons --threshold 1,2 --timeout 1ms -q -o "$o" --duration 5s \
		>/dev/null 2>"$WORK/int.err" &
	pid=$!
	sleep 1
	kill -INT "$pid"
	wait "$pid" && rc=0 || rc=$?
	cat "$WORK/int.err"
	((rc == 130)) || fail "exit $rc after SIGINT, want 130" || return 1
	grep -q 'interrupted' "$WORK/int.err" || fail "no 'interrupted' message" || return 1
	! pgrep -f "$o/runs/" >/dev/null || fail "a workload run is left: $(pgrep -af "$o/runs/")"
}

# --trace: every run recorded by magslab record into OUTDIR/traces (in a private namespace).
ns_trace() {
	local o=$WORK/trace d
	rm -rf "$o"
	"$BIN" tune pair --threshold 1 --timeout 1ms,1s --trace -o "$o" --threads 2 \
		--duration 200ms >"$WORK/trace.out" 2>"$WORK/trace.err" ||
		fail "tune --trace exit $?: $(tail -n 6 "$WORK/trace.err")" || return 1
	cat "$WORK/trace.out"
	for d in 1_1000000 1_1000000000 rerun-recommended rerun-default; do
		[[ -n $(find "$o/traces/$d" -name metadata 2>/dev/null) ]] ||
			fail "no CTF trace in $o/traces/$d" || return 1
	done
	grep -q "^traces: *$o/traces\$" "$WORK/trace.out" || fail "stdout does not name traces/" ||
		return 1
	[[ $(wc -l <"$o/tune.csv") == 3 ]] || fail "tune.csv of the traced grid"
}
t_trace() { ns_run ns_trace; }

t_clang_build() {
	command -v clang >/dev/null || fail "clang is not installed" || return 1
	"$MAKE" --no-print-directory -C "$ROOT" frontend CC=clang BUILD="$WORK/clang" \
		>"$WORK/clang.log" 2>&1 || fail "clang -Werror build: $(grep -m3 -E 'error|warning' "$WORK/clang.log")"
}

# --trace runs a TRACE=1 workload (tune finds it through MAGSLAB_WORKLOAD, which the
# namespace side inherits).
setup() {
	ft_trace1_workload tune
	[[ $FT_WORKLOAD == "$BUILD/bin/magslab-workload" ]] || export MAGSLAB_WORKLOAD=$FT_WORKLOAD
}

ns_dispatch "$@"
FT_SETUP=setup ft_main tune frontend workloads -- "$@"
