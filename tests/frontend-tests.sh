# tests/frontend-tests.sh — sourced by the test scripts of the front end's subcommands
# (test_record.sh, test_run.sh, test_live.sh, test_tune.sh): what they all do the same way.
#
# Each script defines its tests as functions t_NAME (a '-' in NAME may be '_' in the
# function name), lists them in ALL_TESTS, sets BUILD, MAKE and WORK, and ends with
#     ft_main PREFIX BUILD_TARGETS -- "$@"
# which answers --list, builds the targets, and runs the tests named (all by default):
# each in a subshell with `set -e`, its output in $WORK/NAME.log, one line per test
# ("PREFIX-test: PASS NAME (N s)" or "PREFIX-test: FAIL NAME: REASON (see LOG)"; the
# reason is the test's first "FAIL: " line), exit status 0 only if every one passed.
#
# Helpers for the tests: fail, png_ok, ft_trace1_workload, ft_trace1_shim,
# ft_preload_counters_match.

fail() {
	echo "FAIL: $*" >&2
	return 1
}

# png_ok FILE: a PNG (magic bytes) of more than 2 KiB.
png_ok() {
	[[ -s $1 && $(head -c 8 "$1" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]] ||
		fail "$1 is not a PNG" || return 1
	(($(stat -c %s "$1") > 2048)) || fail "$1 is nearly empty"
}

# ft_trace1_workload PREFIX: a TRACE=0 build's magslab-workload emits no events; then a
# TRACE=1 one is built in $BUILD/PREFIX-trace1 and FT_WORKLOAD names it (else FT_WORKLOAD
# is $BUILD/bin/magslab-workload).  Exits the script if that build fails.  The caller
# exports what its tests read: the namespace side (tests/lttng-ns.sh) re-runs the script's
# top, so a plain variable set here would not reach it.
ft_trace1_workload() {
	FT_WORKLOAD=$BUILD/bin/magslab-workload
	# Not `ldd | grep -q`: under pipefail, grep leaving early can kill ldd with SIGPIPE.
	[[ $(ldd "$FT_WORKLOAD" 2>/dev/null) == *liblttng-ust* ]] && return 0
	"$MAKE" --no-print-directory -s workloads BUILD="$BUILD/$1-trace1" TRACE=1 \
		>"$WORK/build-trace1.log" 2>&1 ||
		{ echo "$1-test: FAIL build: the TRACE=1 workload (see $WORK/build-trace1.log)"; exit 1; }
	FT_WORKLOAD=$BUILD/$1-trace1/bin/magslab-workload
}

# ft_trace1_shim PREFIX: the same for the malloc shim of --preload: a TRACE=0 build's
# libmagslab-malloc.so emits no events, so a TRACE=1 one is built in $BUILD/PREFIX-trace1;
# FT_SHIM names the one to use (the caller exports MAGSLAB_MALLOC_LIB when it is not the
# one beside magslab).
ft_trace1_shim() {
	FT_SHIM=$BUILD/lib/libmagslab-malloc.so
	[[ $(ldd "$FT_SHIM" 2>/dev/null) == *liblttng-ust* ]] && return 0
	"$MAKE" --no-print-directory -s malloc-shim BUILD="$BUILD/$1-trace1" TRACE=1 \
		>"$WORK/build-shim-trace1.log" 2>&1 ||
		{ echo "$1-test: FAIL build: the TRACE=1 malloc shim (see $WORK/build-shim-trace1.log)"; exit 1; }
	FT_SHIM=$BUILD/$1-trace1/lib/libmagslab-malloc.so
}

# ft_preload_counters_match STATS_JSON SUMMARY_JSON: every cache of the shim's own counters
# (MAGSLAB_MALLOC_STATS_JSON, written at exit) against the report of the trace: the
# events counted for it equal its counters, field by field (names are unique in one
# process; the shim's JSON has no ids).
ft_preload_counters_match() {
	local sj=$1 rj=$2 a b c n=0 bad=0
	for c in $(jq -r '.caches[].name' "$sj"); do
		a=$(jq -c --arg c "$c" '.caches[] | select(.name == $c) |
			[.mag_swaps, .depot_gets, .depot_puts, .depot_misses, .magsize, .magsize_up,
			 .magsize_down, .depot_contended, .depot_contended_counted, .hash_resizes]' "$sj")
		b=$(jq -c --arg c "$c" '[.caches[] | select(.name == $c)] |
			if length == 1 then .[0] | [.mag_swaps, .depot.gets, .depot.puts,
			 .depot.misses, .magsize.final, .bumps.up, .bumps.down, .contention.count,
			 .contention.counted, .hash.resizes] else "\(length) caches" end' "$rj")
		n=$((n + 1))
		if [[ -z $a || $a != "$b" ]]; then
			echo "MISMATCH $c: counters $a, report $b"
			bad=1
		fi
	done
	echo "$n caches: counters = the report's events"
	((n > 0 && bad == 0)) || fail "the report of the trace does not match the shim's counters"
}

# ft_run_one PREFIX NAME: one test, its PASS/FAIL line; status 0 if it passed.
ft_run_one() {
	local prefix=$1 t=$2 fn start rc why
	fn=t_$t
	declare -F "$fn" >/dev/null || fn=t_${t//-/_}
	if ! declare -F "$fn" >/dev/null; then
		echo "$prefix-test: FAIL $t: no such test (have: ${ALL_TESTS[*]})"
		return 1
	fi
	start=$SECONDS
	(set -e; "$fn") >"$WORK/$t.log" 2>&1
	rc=$?
	if ((rc == 0)); then
		echo "$prefix-test: PASS $t ($((SECONDS - start)) s)"
		return 0
	fi
	why=$(grep -m1 '^FAIL: ' "$WORK/$t.log")
	[[ -n $why ]] || why="exit status $rc, $(tail -n 1 "$WORK/$t.log")"
	echo "$prefix-test: FAIL $t: ${why#FAIL: } (see $WORK/$t.log)"
	return 1
}

# ft_main PREFIX TARGET... -- ARGS...: --list, or build the make TARGETs and run the tests.
ft_main() {
	local prefix=$1 targets=() t failed=0
	shift
	while (($#)) && [[ $1 != -- ]]; do
		targets+=("$1")
		shift
	done
	shift
	if [[ ${1:-} == --list ]]; then
		printf '%s\n' "${ALL_TESTS[@]}"
		exit 0
	fi
	mkdir -p "$WORK"
	ns_stop_noted
	"$MAKE" --no-print-directory -s "${targets[@]}" BUILD="$BUILD" >"$WORK/build.log" 2>&1 ||
		{ echo "$prefix-test: FAIL build: see $WORK/build.log"; exit 1; }
	"${FT_SETUP:-true}"
	(($#)) || set -- "${ALL_TESTS[@]}"
	for t in "$@"; do
		ft_run_one "$prefix" "$t" || failed=1
	done
	exit "$failed"
}
