#!/usr/bin/env bash
# tests/test_tune.sh — checks of `magslab tune` (analysis/tune*.c; contract: docs/tune.md).
#
#   tests/test_tune.sh [TEST...]    run every test (or the ones named)
#   tests/test_tune.sh --list       the test names, one a line
#
# Prints "tune-test: PASS NAME (N s)" or "tune-test: FAIL NAME: REASON (see LOG)" per test
# and exits 0 if every one passed, 1 otherwise.  tests/run-tests.sh (configuration
# "other") runs each test as one check, "tune-NAME".  Every test builds what it needs
# first (`make frontend workloads malloc-shim`, quick when up to date).
#
# The race, tied and repeat tests run `magslab-workload synthetic`, whose throughput is
# known in advance: --rate times --gain (1.25) at --best-threshold 10, times a factor
# drawn from the seed alone (the round's drift, which pairing cancels) and a factor drawn
# from the seed and the setting (--jitter: each run's own noise).  The draws depend on the
# seeds only, so these tests are repeatable: the race must drop thresholds 1 and 100 and
# keep 10, and the held-out check must find +25 % inside its interval and say "better";
# with --gain 1 every setting is tied, the first line must say so, and the verdict must be
# "no difference detectable ... keep the default".  The grid test runs prodcons with 8
# threads on this 2-core machine, where the depot lock is contended: with threshold 1 and
# a 1 ms window the magsize grows past the default 8 within 0.5 s, with threshold 1000
# less.  The preload test races sqlite3 under the malloc replacement on its own timer
# (--metric).  The trace test records, and so runs in a private mount namespace with no
# LTTng daemon (tests/lttng-ns.sh).  The whole script takes about a minute.
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

ALL_TESTS=(help usage grid repeat race tied preload run-fails interrupt trace clang-build)
HEATMAPS=(throughput cpu steady contention magsize bytes settle)
SYN=(--threads 1 --duration 100ms --rate 200000)

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

# rec CSV: the recommended row's "THRESHOLD TIMEOUT_NS".
rec() {
	awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
		$h["recommended"] == 1 { print $h["threshold"], $h["timeout_ns"] }' "$1"
}

# plots_ok DIR: the heatmaps of the contract, PNG and SVG, and their scripts.
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
	local o=$WORK/u g=(--threshold 1 --timeout 1ms)
	rm -rf "$o"
	expect 2 'no WORKLOAD given' "${g[@]}" || return 1
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
	expect 2 'listed twice' prodcons --threshold 1 --timeout 1ms,1000us -o "$o" || return 1
	expect 2 "--repeat: '0' is not" prodcons "${g[@]}" --repeat 0 -o "$o" || return 1
	expect 2 "--repeat and --budget" prodcons "${g[@]}" --repeat 2 --budget 9 -o "$o" ||
		return 1
	expect 2 "--budget: 'lots' is neither" prodcons --threshold 1,2 --timeout 1ms \
		--budget lots -o "$o" || return 1
	expect 2 "--budget 5: too small" prodcons --threshold 1,2 --timeout 1ms --budget 5 \
		-o "$o" || return 1
	expect 2 "--objective: 'speed' is not one of throughput, cpu-per-op, steady" prodcons \
		"${g[@]}" --objective speed -o "$o" || return 1
	expect 2 "--check: '3' is not a number from 6" prodcons "${g[@]}" --check 3 -o "$o" ||
		return 1
	expect 2 "unknown workload 'nosuch' (magslab-workload knows: pair, batch, prodcons" \
		nosuch "${g[@]}" -o "$o" || return 1
	# An option tune does not know is the workload's: --check-options judges it before
	# any run (a typo: exit 2 with the workload's reason); before WORKLOAD, an error.
	expect 2 "refused the options: magslab-workload prodcons: unknown option '--thresold'" \
		prodcons "${g[@]}" --thresold 5 -o "$o" || return 1
	expect 2 "refused the options: magslab-workload prodcons: unknown option '--thraeds'" \
		prodcons "${g[@]}" --thraeds 2 -o "$o" || return 1
	expect 2 "unknown option '--threads' (WORKLOAD comes first)" --threads 2 prodcons \
		"${g[@]}" || return 1
	expect 2 "refused the options: magslab-workload prodcons: unexpected argument" \
		prodcons extra "${g[@]}" -o "$o" || return 1
	expect 2 "'--trace=1': that option takes no value" prodcons "${g[@]}" --trace=1 ||
		return 1
	expect 2 '--timeout-ns is what tune varies' prodcons "${g[@]}" -o "$o" -- \
		--timeout-ns 5 || return 1
	expect 2 'tune writes each run' prodcons "${g[@]}" -o "$o" -- --json x.json || return 1
	expect 2 '--threshold needs a value' prodcons --timeout 1ms --threshold || return 1
	expect 2 '--policy is for a --preload command' prodcons "${g[@]}" --policy uma ||
		return 1
	expect 2 '--metric and --better apply to a program' prodcons "${g[@]}" --metric x ||
		return 1
	expect 2 '--preload: no command given' --preload "${g[@]}" || return 1
	expect 2 "unexpected argument 'sort' (with --preload the command goes after --)" \
		--preload "${g[@]}" sort || return 1
	expect 2 "--metric: 'a(' is not a regular expression" --preload "${g[@]}" \
		--metric 'a(' -- true || return 1
	[[ ! -e $o ]] || fail "an output directory was made before the grid could run" ||
		return 1
	# Options magslab-workload refuses: exit 2, with the workload's own message.
	local rc
	"$BIN" tune prodcons "${g[@]}" -o "$o" -q -- --bogus 3 >/dev/null 2>"$WORK/w.err" &&
		rc=0 || rc=$?
	((rc == 2)) || fail "a refused workload option gave exit $rc" || return 1
	grep -q "refused the options" "$WORK/w.err" && grep -q "unknown option '--bogus'" \
		"$WORK/w.err" || fail "no clear message: $(cat "$WORK/w.err")"
}

# The 2 x 2 grid of prodcons runs, one round: tune.csv with intervals, the heatmaps,
# tune.txt, index.html, stdout, the held-out check's files and lines.
t_grid() {
	local o=$WORK/grid csv n rt rs
	rm -rf "$o"
	"$BIN" tune prodcons --threshold 1000,1 --timeout 1s,1ms --check 6 -o "$o" -- \
		--threads 8 --duration 500ms >"$WORK/grid.out" 2>"$WORK/grid.err" ||
		fail "tune exit $?: $(tail -n 4 "$WORK/grid.err")" || return 1
	cat "$WORK/grid.out" "$o/tune.csv"
	csv=$o/tune.csv
	head -n 1 "$csv" | grep -q '^threshold,timeout_ns,runs,throughput_mops,throughput_mops_lo,throughput_mops_hi,cpu_ns_per_op,' ||
		fail "tune.csv header: $(head -n 1 "$csv")" || return 1
	(($(wc -l <"$csv") == 5)) || fail "tune.csv has $(wc -l <"$csv") lines, want 5" ||
		return 1
	[[ $(col "$csv" threshold | tr '\n' ' ') == "1 1 1000 1000 " ]] ||
		fail "threshold column: $(col "$csv" threshold | tr '\n' ' ')" || return 1
	[[ $(col "$csv" timeout_ns | tr '\n' ' ') == "1000000 1000000000 1000000 1000000000 " ]] ||
		fail "timeout_ns column: $(col "$csv" timeout_ns | tr '\n' ' ')" || return 1
	awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
		!($h["runs"] == 1 && $h["throughput_mops"] > 0 && $h["cpu_ns_per_op"] > 0 &&
		  $h["final_magsize"] >= 8 && $h["final_magsize"] <= 62 && $h["bytes_in_mags"] > 0 &&
		  $h["throughput_mops_lo"] <= $h["throughput_mops"] &&
		  $h["throughput_mops"] <= $h["throughput_mops_hi"]) {
			bad = 1; print "implausible row: " $0 } END { exit bad }' "$csv" ||
		fail "implausible numbers in tune.csv" || return 1
	# Each cell's median of one run is that run's figure (runs.csv: every run).
	awk -F, 'FNR == 1 { for (i = 1; i <= NF; i++) h[FILENAME, $i] = i; next }
		FILENAME ~ /runs.csv$/ && $1 == "fixed" { m[$2, $3] = $h[FILENAME, "final_magsize"] }
		FILENAME ~ /tune.csv$/ && m[$1, $2] != $h[FILENAME, "final_magsize"] { bad = 1 }
		END { exit bad }' "$o/runs.csv" "$csv" ||
		fail "tune.csv's magsizes are not the runs'" || return 1
	plots_ok "$o" || return 1
	n=$(col "$csv" recommended | grep -c '^1$')
	((n == 1)) || fail "$n recommended rows" || return 1
	read -r rt rs <<<"$(rec "$csv")"
	# One round cannot tell the settings apart: the first line says so.
	head -n 1 "$o/tune.txt" | grep -q '^too few runs to tell whether the resize parameters matter here' ||
		fail "tune.txt's first line: $(head -n 1 "$o/tune.txt")" || return 1
	grep -q "^recommended: threshold $rt, timeout .* (--threshold $rt --timeout-ns $rs)" \
		"$o/tune.txt" || fail "tune.txt does not recommend $rt/$rs" || return 1
	grep -q '^rule: ' "$o/tune.txt" && grep -q '^why: ' "$o/tune.txt" &&
		grep -q '^contention: ' "$o/tune.txt" && grep -q '^settling: ' "$o/tune.txt" ||
		fail "tune.txt lacks a section" || return 1
	grep -Eq '^re-run \(6 pairs interleaved, seeds 2 to 7\): throughput: recommended [0-9.]+ \[[0-9.]+\.\.[0-9.]+\] Mops/s; default \(threshold 1, timeout 1s\) ' \
		"$o/tune.txt" || fail "no re-run line" || return 1
	grep -Eq '^verdict: (better|worse|no difference detectable at this noise level|the recommended setting is the default)' \
		"$o/tune.txt" || fail "no verdict: $(grep '^verdict' "$o/tune.txt")" || return 1
	ls "$o"/runs/rerun-recommended-s{2..7}.json "$o"/runs/rerun-default-s{2..7}.json \
		>/dev/null || fail "no re-run JSON with seeds 2 to 7" || return 1
	for n in throughput cpu contention; do
		grep -q "src=\"heat_$n.png\"" "$o/index.html" || fail "index.html lacks heat_$n" ||
			return 1
	done
	grep -q '<table>' "$o/index.html" || fail "index.html lacks the table" || return 1
	for n in tune.csv tune.txt index.html; do
		grep -q " $o/$n" "$WORK/grid.out" || fail "stdout does not say where $n is" ||
			return 1
	done
	grep -q '^recommended: ' "$WORK/grid.out" && grep -q '^verdict: ' "$WORK/grid.out" ||
		fail "stdout lacks the recommendation lines" || return 1
	grep -q '^magslab tune: check, run 12/12: re-run, the default setting, seed 7; elapsed' \
		"$WORK/grid.err" || fail "no progress lines on stderr: $(tail -n 2 "$WORK/grid.err")"
}

# --repeat 2 on a 1 x 2 grid: seeds 1 and 2 per cell, 3 to 8 for the check, 2 runs in
# the CSV, the median inside its interval; -q: nothing on stderr.
t_repeat() {
	local o=$WORK/repeat f
	rm -rf "$o"
	"$BIN" tune synthetic --threshold 4 --timeout 10ms,100ms --repeat 2 --check 6 --seed 1 \
		-q --no-plots -o "$o" -- "${SYN[@]}" >"$WORK/repeat.out" 2>"$WORK/repeat.err" ||
		fail "tune exit $?: $(tail -n 4 "$WORK/repeat.err")" || return 1
	[[ ! -s $WORK/repeat.err ]] || fail "-q, yet stderr: $(head -n 2 "$WORK/repeat.err")" ||
		return 1
	cat "$o/tune.csv"
	for f in 4_10000000-s1 4_10000000-s2 4_100000000-s1 4_100000000-s2 \
		rerun-recommended-s3 rerun-recommended-s8 rerun-default-s3 rerun-default-s8; do
		[[ -s $o/runs/$f.json ]] || fail "no runs/$f.json" || return 1
	done
	[[ $(col "$o/tune.csv" runs | sort -u) == 2 ]] || fail "runs column is not 2" ||
		return 1
	awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
		!($h["throughput_mops_lo"] <= $h["throughput_mops"] &&
		  $h["throughput_mops"] <= $h["throughput_mops_hi"]) { bad = 1 } END { exit bad }' \
		"$o/tune.csv" || fail "a median outside its interval" || return 1
	grep -q 'seeds 3 to 8' "$o/tune.txt" || fail "tune.txt does not give the check's seeds" ||
		return 1
	grep -q '^design: a fixed design' "$o/tune.txt" || fail "no design line" || return 1
	(($(wc -l <"$o/runs.csv") == 1 + 4 + 12)) || fail "runs.csv: $(wc -l <"$o/runs.csv") lines"
}

# The race on the synthetic knob: thresholds 1 and 100 are 20 % slower than 10 (the
# gain), so after the rounds the test needs (7 for two comparisons, Holm) both are out,
# 10 is left and recommended, and the check finds it better than the default (threshold
# 1) by an interval holding the true +25 %.
t_race() {
	local o=$WORK/race csv lo hi
	rm -rf "$o"
	"$BIN" tune synthetic --threshold 1,10,100 --timeout 1ms --budget 40 --check 6 \
		-o "$o" --no-plots -- "${SYN[@]}" --noise 0.2 --jitter 0.03 \
		>"$WORK/race.out" 2>"$WORK/race.err" ||
		fail "tune exit $?: $(tail -n 4 "$WORK/race.err")" || return 1
	cat "$WORK/race.out" "$o/tune.csv"
	csv=$o/tune.csv
	for t in 1 100; do
		[[ $(cell "$csv" $t 1000000 eliminated_after) == 7 ]] ||
			fail "threshold $t: eliminated after '$(cell "$csv" $t 1000000 eliminated_after)', want 7" ||
			return 1
		[[ $(cell "$csv" $t 1000000 tied) == 0 ]] || fail "threshold $t tied" || return 1
	done
	[[ $(cell "$csv" 10 1000000 best) == 1 && -z $(cell "$csv" 10 1000000 eliminated_after) ]] ||
		fail "threshold 10 is not the best left in the race" || return 1
	[[ $(rec "$csv") == "10 1000000" ]] || fail "recommended: $(rec "$csv")" || return 1
	grep -q '^stopped: one setting left after 7 rounds' "$WORK/race.out" ||
		fail "stop reason: $(grep '^stopped' "$WORK/race.out")" || return 1
	head -n 1 "$o/tune.txt" | grep -q '^the resize parameters matter for this workload here: 2 of the 3 settings are worse than the best on throughput' ||
		fail "first line: $(head -n 1 "$o/tune.txt")" || return 1
	# The true ratio against the default (threshold 1, timeout 1 s) is 1.25.
	read -r lo hi <<<"$(sed -nE 's/^verdict: better: .* is \+[0-9.]+ % \[\+([0-9.]+)\.\.\+([0-9.]+)\] against the default.*: use it$/\1 \2/p' "$o/tune.txt")"
	[[ -n $lo ]] || fail "verdict: $(grep '^verdict' "$o/tune.txt")" || return 1
	awk -v lo="$lo" -v hi="$hi" 'BEGIN { exit !(lo > 0 && lo <= 25 && 25 <= hi) }' ||
		fail "the interval [+$lo..+$hi] % misses the true +25 %" || return 1
	(($(grep -c '#1f4fd0' "$o/heat_throughput.gp") == 0)) ||
		fail "a setting is framed as tied, none is" || return 1
	grep -q 'round 7, run [0-9]/3: .* 3 of 3 settings in the race; elapsed [0-9.]* s, ETA' \
		"$WORK/race.err" || fail "no race progress on stderr" || return 1
	# Intervals of +-10 % and more (--noise 0.2): the hint names the threads' placement.
	grep -q '^hint: that is noisy, .* the workload.s --pin' "$o/tune.txt" ||
		fail "no noise hint: $(grep '^noise' "$o/tune.txt")" || return 1
}

# No difference to find (--gain 1): the first line says the magazine size does not limit
# the workload, the setting with the least memory is recommended, the other is framed as
# tied in the heatmaps, and the verdict keeps the default.
t_tied() {
	local o=$WORK/tied csv
	rm -rf "$o"
	"$BIN" tune synthetic --threshold 1,100 --timeout 1ms --budget 30 --check 6 -q \
		--no-plots -o "$o" -- "${SYN[@]}" --gain 1 --noise 0.2 --jitter 0.05 \
		>"$WORK/tied.out" 2>"$WORK/tied.err" ||
		fail "tune exit $?: $(tail -n 4 "$WORK/tied.err")" || return 1
	cat "$WORK/tied.out" "$o/tune.csv"
	csv=$o/tune.csv
	head -n 1 "$o/tune.txt" | grep -q '^magazine size does not limit this workload here: all 2 settings are tied with the best on throughput' ||
		fail "first line: $(head -n 1 "$o/tune.txt")" || return 1
	[[ $(rec "$csv") == "100 1000000" ]] || fail "recommended: $(rec "$csv"), want the one with less memory" || return 1
	[[ $(col "$csv" tied | tr '\n' ' ') == "1 1 " ]] || fail "tied column" || return 1
	(($(grep -c '#1f4fd0' "$o/heat_throughput.gp") == 1)) ||
		fail "the tied setting is not framed" || return 1
	grep -q '^verdict: no difference detectable at this noise level: .*: keep the default$' \
		"$o/tune.txt" || fail "verdict: $(grep '^verdict' "$o/tune.txt")"
}

# --preload: sqlite3 under the malloc replacement, its own timer as the figure; a REGEX
# that never matches is a clear failure; a command that does not exist too.
t_preload() {
	local o=$WORK/preload rc sql='WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000) SELECT count(*), group_concat(x) IS NOT NULL FROM c;' q=$WORK/q.sql
	command -v sqlite3 >/dev/null || fail "sqlite3 is not installed (make deps)" || return 1
	rm -rf "$o"
	echo "$sql" >"$q"
	"$BIN" tune --preload --threshold 1,100 --timeout 1ms --repeat 2 --check 6 -q \
		--no-plots -o "$o" --metric 'Run Time: real ([0-9.]+)' --better lower -- \
		sqlite3 :memory: '.timer on' ".read $q" >"$WORK/preload.out" 2>"$WORK/preload.err" ||
		fail "tune exit $?: $(tail -n 4 "$WORK/preload.err")" || return 1
	cat "$WORK/preload.out" "$o/tune.csv"
	awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; if (!h["metric"]) bad = 1; next }
		!($h["metric"] > 0 && $h["wall_s"] > 0 && $h["bytes_in_mags"] > 0) { bad = 1 }
		END { exit bad }' "$o/tune.csv" ||
		fail "tune.csv lacks the metric, wall time or the shim's bytes" || return 1
	grep -q '^100000|1$' "$o"/runs/1_1000000-s1.log || fail "sqlite3's output is not kept" ||
		return 1
	grep -q "^recommended: threshold .* (MAGSLAB_RESIZE_THRESHOLD=" "$o/tune.txt" ||
		fail "no recommendation as environment variables" || return 1
	"$BIN" tune --preload --threshold 1 --timeout 1ms -q --no-plots -o "$o" \
		--metric 'requests per second: ([0-9.]+)' -- sqlite3 :memory: "$sql" \
		>/dev/null 2>"$WORK/nomatch.err" && rc=0 || rc=$?
	((rc == 1)) && grep -q "matches nothing in the output of sqlite3" "$WORK/nomatch.err" &&
		(($(wc -l <"$WORK/nomatch.err") == 1)) ||
		fail "a REGEX that never matches: exit $rc, $(cat "$WORK/nomatch.err")" || return 1
	expect 2 "cannot run 'no-such-program-here'" --preload --threshold 1 --timeout 1ms -q -o "$o" -- \
		no-such-program-here
}

# A run that fails in the first round: exit 1, its setting, exit status and the end of
# its output.  The workload is a wrapper (found through MAGSLAB_WORKLOAD by a copy of
# magslab with no magslab-workload beside it) that fails for threshold 1000.
t_run_fails() {
	local d=$WORK/fails rc
	rm -rf "$d" && mkdir -p "$d/bin"
	cp "$BIN" "$d/bin/magslab"
	cat >"$d/wl" <<EOT
#!/bin/sh
case " \$* " in
*" --threshold 1000 "*)
	echo "magslab-workload prodcons: kmem_cache_alloc returned NULL (simulated)" >&2
	exit 1 ;;
esac
exec "$WL" "\$@"
EOT
	chmod +x "$d/wl"
	MAGSLAB_WORKLOAD=$d/wl "$d/bin/magslab" tune prodcons --threshold 1,1000 --timeout 1ms \
		-o "$d/out" --no-plots -- --duration 200ms >"$d/out.txt" 2>"$d/err.txt" && rc=0 ||
		rc=$?
	cat "$d/err.txt"
	((rc == 1)) || fail "exit $rc, want 1" || return 1
	grep -Eq 'run [12] \(.*threshold 1000, timeout 1ms, seed 1\) failed: exit status 1' \
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
	"$BIN" tune prodcons --threshold 1,2 --timeout 1ms -q -o "$o" -- --duration 5s \
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
	"$BIN" tune pair --threshold 1 --timeout 1ms,1s --trace --check 6 --no-plots -o "$o" -- \
		--threads 2 --duration 100ms >"$WORK/trace.out" 2>"$WORK/trace.err" ||
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
FT_SETUP=setup ft_main tune frontend workloads malloc-shim -- "$@"
