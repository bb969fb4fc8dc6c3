#!/usr/bin/env bash
# tests/test_replay.sh — checks of `magslab-workload replay` (workloads/replay.c).
#
#   tests/test_replay.sh [csv|ctf|errors]...     (default: all three, in that order)
#
#   csv     replays tests/data/replay-small.csv and compares the per-cache allocs/frees
#           and the trace counters of the JSON result with tests/data/replay-small.expected
#           (counted independently when the CSV was made); the same counts with the trace
#           threads folded onto one (--threads 1), from stdin, and --repeat 3 replays three
#           times as many operations.
#   ctf     records a trace of real programs (sort --parallel=2 of a generated file, then
#           ls -R /usr/share/doc) with LTTng's libc wrapper, in a private session daemon,
#           and replays it: exit 0, no missing-pair or double-free error, operations > 0,
#           as many libc events as babeltrace2 itself counts, one replay thread per traced
#           thread, every allocation in some cache or the large path, no discarded events
#           (the channel blocks instead of discarding); then a second trace of ls -R whose
#           tiny non-blocking buffers lose events: replayed all the same, with every lost
#           event counted (as babeltrace2 counts them) and a warning.
#   errors  bad input (a missing file, malformed CSV lines, an unpaired free, bad options,
#           a directory without a CTF trace, a damaged CTF trace): exit status 2, one line
#           on stderr naming the problem, nothing on stdout.
#
# Exit status 0 if every selected part passed, 1 otherwise (each part prints PASS/FAIL
# lines; the last line is "test_replay: N passed, N failed").
#
# The ctf part needs root (or user namespaces: unshare -r -m) for a private mount namespace:
# the session daemon it starts there, with /run/lttng and /dev/shm on fresh tmpfs and
# LTTNG_HOME in a temporary directory, is seen by nobody else and sees no other daemon.
# Daemons outlive the namespace's shell, so every lttng-sessiond/-consumerd/-runas
# process of the namespace is noted (pid and start time) and stopped when it exits; the
# outer shell stops whatever noted process is still there afterwards.  Nothing else is
# ever signalled.
#
# Environment: BUILD (default build), MAKE (default make); REPLAY_BIN=path uses that
# binary instead of building $BUILD/bin/magslab-workload; KEEP=1 keeps the work directory.
# Needs jq (to read the JSON), and for ctf lttng-tools, liblttng-ust-dev (the libc
# wrapper) and babeltrace2.
# shellcheck disable=SC2016 # jq programs are in single quotes on purpose
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
BUILD=${BUILD:-build}
MAKE=${MAKE:-make}
WRAPPER=liblttng-ust-libc-wrapper.so

say() { printf '%s\n' "$*"; }

# ==========================================================================================
# Daemon bookkeeping (both sides of the namespace).

# The bookkeeping itself is tests/lttng-ns.sh's (shared by every LTTng test script); these
# are the names this script uses, with the state file as an argument.
# shellcheck source=tests/lttng-ns.sh
source "$ROOT/tests/lttng-ns.sh"
# note_daemons <state file>: notes "pid starttime comm" of every LTTng daemon of this
# mount namespace; stop_daemons <state file>: SIGTERM, 5 s, SIGKILL, noted ones only.
note_daemons() { NS_STATE=$1 ns_note_daemons; }
stop_daemons() { NS_STATE=$1 ns_stop_state; }

# ==========================================================================================
# Inside the namespace: `test_replay.sh __record WORKDIR` records WORKDIR/trace.

record_inner() {
	local work=$1 state=$1/daemons
	set -e
	# shellcheck disable=SC2064 # $state now: it is local
	trap "note_daemons '$state'; stop_daemons '$state'" EXIT
	mount --make-rprivate /
	mkdir -p /run/lttng
	mount -t tmpfs -o mode=0755 tmpfs /run/lttng
	if [[ -d /var/run ]] && ! [[ /var/run/lttng -ef /run/lttng ]]; then
		mkdir -p /var/run/lttng
		mount -t tmpfs -o mode=0755 tmpfs /var/run/lttng
	fi
	mount -t tmpfs -o mode=1777 tmpfs /dev/shm
	export LTTNG_HOME=$work/home
	mkdir -p "$LTTNG_HOME"

	say "+ lttng-sessiond -d --no-kernel"
	timeout 30 lttng-sessiond -d --no-kernel
	note_daemons "$state"
	local l=(timeout 30 lttng --no-sessiond)
	"${l[@]}" create replay-test --output="$work/trace"
	# Blocking: the traced programs wait for the consumer instead of discarding events.
	"${l[@]}" enable-channel -u --subbuf-size=1M --num-subbuf=8 --blocking-timeout=inf c0
	"${l[@]}" enable-event -u -c c0 'lttng_ust_libc:*'
	"${l[@]}" add-context -u -c c0 -t vtid -t vpid
	"${l[@]}" start
	note_daemons "$state"
	say "+ LD_PRELOAD=$WRAPPER sort --parallel=2 -S 4M input > sorted"
	LTTNG_UST_ALLOW_BLOCKING=1 LD_PRELOAD=$WRAPPER \
		timeout 60 sort --parallel=2 -S 4M "$work/input.txt" >"$work/sorted.txt"
	say "+ LD_PRELOAD=$WRAPPER ls -R /usr/share/doc > /dev/null"
	LTTNG_UST_ALLOW_BLOCKING=1 LD_PRELOAD=$WRAPPER \
		timeout 60 ls -R /usr/share/doc >/dev/null
	"${l[@]}" stop
	"${l[@]}" destroy
	# A second session whose tiny non-blocking buffers lose events.
	"${l[@]}" create replay-lossy --output="$work/lossy"
	"${l[@]}" enable-channel -u --subbuf-size=4096 --num-subbuf=2 c0
	"${l[@]}" enable-event -u -c c0 'lttng_ust_libc:*'
	"${l[@]}" add-context -u -c c0 -t vtid -t vpid
	"${l[@]}" start
	say "+ LD_PRELOAD=$WRAPPER ls -R /usr/share/doc > /dev/null (lossy session)"
	LD_PRELOAD=$WRAPPER timeout 60 ls -R /usr/share/doc >/dev/null
	"${l[@]}" stop
	"${l[@]}" destroy
	note_daemons "$state"
}

if [[ "${1:-}" == __record ]]; then
	record_inner "$2"
	exit $?
fi

# ==========================================================================================
# Helpers.

PASS=0
FAIL=0
pass() { say "PASS: $*"; PASS=$((PASS + 1)); }
fail() { say "FAIL: $*"; FAIL=$((FAIL + 1)); }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/test_replay.XXXXXX") || exit 1
cleanup() {
	if [[ -f $WORK/daemons ]]; then
		stop_daemons "$WORK/daemons"
	fi
	if [[ "${KEEP:-0}" == 1 ]]; then
		say "work directory kept: $WORK"
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT

# counts <json>: the lines of replay-small.expected, from a replay's JSON result.
counts() {
	jq -r '(.caches[] | "\(.name) \(.allocs) \(.frees)"),
	       (.classes[] | select(.class == "large") | "large \(.allocs) \(.frees)"),
	       (.trace | "trace.allocs \(.allocs)", "trace.zeroed_allocs \(.zeroed_allocs)",
			 "trace.frees \(.frees)", "trace.reallocs \(.reallocs)",
			 "trace.cross_thread_frees \(.cross_thread_frees)",
			 "trace.live_at_end \(.live_at_end)")' "$1"
}

# jcheck <name> <json> <jq expression>: passes if the expression is true.
jcheck() {
	local name=$1 json=$2 expr=$3 v
	v=$(jq -r "$expr" "$json" 2>&1)
	if [[ $v == true ]]; then
		pass "$name"
	else
		fail "$name: jq '$expr' gave: $v"
	fi
}

# ==========================================================================================
# csv

part_csv() {
	local csv=tests/data/replay-small.csv exp=$WORK/expected out rc
	grep -v '^#' tests/data/replay-small.expected >"$exp"

	"$BIN" replay "$csv" --json "$WORK/small.json" >"$WORK/small.out" 2>"$WORK/small.err"
	rc=$?
	if ((rc != 0)); then
		fail "csv: replay exited $rc: $(head -n 3 "$WORK/small.err")"
		return
	fi
	if out=$(diff <(counts "$WORK/small.json") "$exp"); then
		pass "csv: per-cache allocs/frees and trace counters equal replay-small.expected"
	else
		fail "csv: counts differ from replay-small.expected (< got, > expected):"
		say "$out" | sed 's/^/    /'
	fi
	if [[ ! -s $WORK/small.out ]]; then
		pass "csv: --json FILE: nothing on stdout"
	else
		fail "csv: --json FILE: stdout not empty"
	fi
	jcheck "csv: workload, file and format in the JSON" "$WORK/small.json" \
		'.workload == "replay" and .params.file == "tests/data/replay-small.csv" and
		 .params.format == "csv" and .input.lines == 150'
	jcheck "csv: ops = allocs + frees of the trace, 3 threads, no failure" "$WORK/small.json" \
		'.ops == .trace.ops and .trace.ops == .trace.allocs + .trace.frees and
		 .trace.threads == 3 and .replay.threads == 3 and .failed == false and
		 .seconds > 0'
	jcheck "csv: each cache's library counts equal the trace's counts for its class" \
		"$WORK/small.json" \
		'([.classes[] | select(.cache != null) | {key: .cache, value: [.allocs, .frees]}]
		  | from_entries) as $c
		 | all(.caches[]; $c[.name] == [.allocs, .frees])
		   and (.caches | length) == ($c | length)'
	jcheck "csv: a bufctl cache and the large path are exercised" "$WORK/small.json" \
		'any(.caches[]; .uses_bufctl and .allocs > 0) and
		 any(.classes[]; .class == "large" and .allocs > 0)'
	if grep -q "replay-small.csv: csv, 150 lines, 3 threads" "$WORK/small.err"; then
		pass "csv: summary on stderr"
	else
		fail "csv: no summary line on stderr: $(cat "$WORK/small.err")"
	fi

	# The same trace folded onto one replay thread, and from stdin: the same counts.
	if "$BIN" replay -q --threads 1 "$csv" >"$WORK/fold.json" 2>"$WORK/fold.err" &&
		diff <(counts "$WORK/fold.json") "$exp" >/dev/null &&
		[[ $(jq '.replay.threads' "$WORK/fold.json") == 1 ]]; then
		pass "csv: --threads 1 (folded): same counts, 1 replay thread"
	else
		fail "csv: --threads 1: $(head -n 3 "$WORK/fold.err")"
	fi
	if "$BIN" replay -q - <"$csv" >"$WORK/stdin.json" 2>"$WORK/stdin.err" &&
		diff <(counts "$WORK/stdin.json") "$exp" >/dev/null; then
		pass "csv: from stdin: same counts"
	else
		fail "csv: from stdin: $(head -n 3 "$WORK/stdin.err")"
	fi
	if "$BIN" replay -q --repeat 3 "$csv" >"$WORK/rep.json" 2>"$WORK/rep.err"; then
		jcheck "csv: --repeat 3: three times the operations" "$WORK/rep.json" \
			'.ops == 3 * .trace.ops and .params.repeat == 3'
	else
		fail "csv: --repeat 3: $(head -n 3 "$WORK/rep.err")"
	fi
}

# ==========================================================================================
# ctf

part_ctf() {
	local t json=$WORK/ctf.json err=$WORK/ctf.err rc n_bt n_tid
	for t in lttng lttng-sessiond babeltrace2 unshare; do
		if ! command -v "$t" >/dev/null; then
			fail "ctf: $t not found (make deps)"
			return
		fi
	done
	if [[ $(ldconfig -p) != *"$WRAPPER"* ]]; then
		fail "ctf: $WRAPPER not found (apt-get install liblttng-ust-dev)"
		return
	fi
	# A file of 200000 lines for sort: enough for it to use its second thread.
	awk 'BEGIN { srand(7); for (i = 0; i < 200000; i++)
		printf "%08d %s\n", int(rand() * 1e8), i }' >"$WORK/input.txt"

	local -a ns=(unshare -m)
	[[ $(id -u) == 0 ]] || ns=(unshare -r -m)
	if ! "${ns[@]}" true 2>/dev/null; then
		fail "ctf: cannot make a private mount namespace (${ns[*]}): needs root or user namespaces"
		return
	fi
	: >"$WORK/daemons"
	"${ns[@]}" -- "$ROOT/tests/test_replay.sh" __record "$WORK" >"$WORK/record.log" 2>&1
	rc=$?
	stop_daemons "$WORK/daemons"
	if ((rc != 0)); then
		fail "ctf: recording the trace failed (exit $rc):"
		tail -n 15 "$WORK/record.log" | sed 's/^/    /'
		return
	fi
	pass "ctf: recorded a libc-wrapper trace ($(du -sh "$WORK/trace" | cut -f1))"

	"$BIN" replay "$WORK/trace" >"$json" 2>"$err"
	rc=$?
	if ((rc != 0)); then
		fail "ctf: replay exited $rc: $(head -n 3 "$err")"
		return
	fi
	if grep -qE 'missing pair|double free:' "$err"; then
		fail "ctf: pairing error: $(grep -E 'missing pair|double free:' "$err")"
	else
		pass "ctf: replay exit 0, no missing-pair or double-free error"
	fi
	jcheck "ctf: operations > 0, allocs and frees > 0, format ctf" "$json" \
		'.ops > 0 and .ops == .trace.ops and .trace.allocs > 0 and .trace.frees > 0 and
		 .params.format == "ctf" and .input.format == "ctf"'
	jcheck "ctf: vtid and vpid contexts found" "$json" '.input.has_vtid and .input.has_vpid'
	jcheck "ctf: no discarded events or packets (blocking channel)" "$json" \
		'.input.discarded_events == 0 and .input.discarded_events_unknown_count == 0 and
		 .input.discarded_packets == 0'
	jcheck "ctf: every allocation went to a cache or the large path" "$json" \
		'([.caches[].allocs] | add) + ([.classes[] | select(.class == "large") | .allocs]
		 | add // 0) == .trace.allocs'
	# Independent counts from the babeltrace2 CLI.
	babeltrace2 "$WORK/trace" >"$WORK/trace.txt" 2>"$WORK/bt.err"
	n_bt=$(grep -c 'lttng_ust_libc:' "$WORK/trace.txt")
	n_tid=$(grep -o 'vtid = [0-9]*' "$WORK/trace.txt" | sort -u | wc -l)
	jcheck "ctf: libc events = babeltrace2's count ($n_bt)" "$json" \
		".input.libc_events == $n_bt and .input.events == $n_bt"
	jcheck "ctf: one replay thread per traced thread ($n_tid)" "$json" \
		".trace.threads == $n_tid and .replay.threads == $n_tid"
	if grep -q "ctf (1 trace dirs), $n_bt events" "$err"; then
		pass "ctf: summary on stderr"
	else
		fail "ctf: no summary line on stderr: $(cat "$err")"
	fi
	say "ctf: $(grep -F 'ctf (' "$err")"

	# The lossy trace: replayed all the same; every lost event counted, as babeltrace2
	# counts them ("WARNING: Tracer discarded N events ..."), and a warning said.
	local lj=$WORK/lossy.json le=$WORK/lossy.err n_lost
	n_lost=$(babeltrace2 "$WORK/lossy" 2>&1 >/dev/null |
		sed -n 's/.*Tracer discarded \([0-9]*\) events\{0,1\}[^0-9a-z].*/\1/p' | awk '{ s += $1 } END { print s + 0 }')
	"$BIN" replay "$WORK/lossy" >"$lj" 2>"$le"
	rc=$?
	if ((rc != 0)); then
		fail "ctf: lossy trace: replay exited $rc: $(head -n 3 "$le")"
		return
	fi
	jcheck "ctf: lossy trace: $n_lost discarded events reported, as babeltrace2 counts" \
		"$lj" ".input.discarded_events == $n_lost and .ops > 0"
	if ((n_lost == 0)) || grep -q "warning: the trace lost $n_lost events" "$le"; then
		pass "ctf: lossy trace: warning on stderr"
	else
		fail "ctf: lossy trace: no warning about the $n_lost lost events: $(cat "$le")"
	fi
	say "ctf: lossy: $(grep -F 'ctf (' "$le")"
}

# ==========================================================================================
# errors

# bad <name> <expected stderr regex> <args...>: exit 2, one stderr line matching the
# regex, nothing on stdout.
bad() {
	local name=$1 re=$2 rc lines
	shift 2
	"$BIN" replay "$@" >"$WORK/bad.out" 2>"$WORK/bad.err"
	rc=$?
	lines=$(wc -l <"$WORK/bad.err")
	if ((rc == 2)) && ((lines == 1)) && [[ ! -s $WORK/bad.out ]] &&
		grep -qE "$re" "$WORK/bad.err"; then
		pass "errors: $name: exit 2: $(cat "$WORK/bad.err")"
	else
		fail "errors: $name: exit $rc, $lines stderr line(s), $(wc -c <"$WORK/bad.out") bytes on stdout; stderr: $(head -n 3 "$WORK/bad.err")"
	fi
}

part_errors() {
	local d=$WORK/bad h='t_ns,thread,op,size,id'
	mkdir -p "$d"
	bad "missing file" "^magslab-workload replay: $d/nope.csv: No such file" "$d/nope.csv"
	printf '%s\n1,a,alloc,8,x\n2,a,alloc,eight,y\n' "$h" >"$d/size.csv"
	bad "malformed size" "size.csv:3: size 'eight'" "$d/size.csv"
	printf '%s\n1,a,alloc,8\n' "$h" >"$d/fields.csv"
	bad "too few fields" "fields.csv:2: expected 5 fields" "$d/fields.csv"
	printf '%s\n1,a,grow,8,x\n' "$h" >"$d/op.csv"
	bad "unknown op" "op.csv:2: op 'grow'" "$d/op.csv"
	printf 'time,thread,op,size,id\n1,a,alloc,8,x\n' >"$d/header.csv"
	bad "wrong header" "header.csv:1: expected the CSV header" "$d/header.csv"
	printf '%s\n1,a,alloc,8,x\n2,b,free,,y\n' "$h" >"$d/unpaired.csv"
	bad "free without alloc" "unpaired.csv:3: missing pair: free of id 'y'" "$d/unpaired.csv"
	printf '%s\n1,a,alloc,8,x\n2,a,free,,x\n3,b,free,,x\n' "$h" >"$d/double.csv"
	bad "double free" "double.csv:4: missing pair: free of id 'x', which was already freed" \
		"$d/double.csv"
	printf '%s\n5,a,alloc,8,x\n3,b,free,,x\n' "$h" >"$d/order.csv"
	bad "free before its alloc (t_ns)" "order.csv:3: missing pair" "$d/order.csv"
	bad "unknown option" "unknown option '--bogus'" --bogus "$d/size.csv"
	bad "no FILE" "no trace FILE" -q
	bad "--duration" "do not apply" --duration 2 tests/data/replay-small.csv
	mkdir -p "$d/empty"
	bad "directory without a CTF trace" "no CTF trace here" "$d/empty"
	mkdir -p "$d/ctf"
	printf 'not a CTF metadata file\n' >"$d/ctf/metadata"
	bad "damaged CTF trace" "cannot open CTF trace" "$d/ctf"

	# --ignore-unpaired: the unpaired free is skipped and counted.
	if "$BIN" replay -q --ignore-unpaired "$d/unpaired.csv" >"$WORK/ign.json" 2>/dev/null; then
		jcheck "errors: --ignore-unpaired skips and counts the unpaired free" "$WORK/ign.json" \
			'.trace.unpaired_frees == 1 and .trace.allocs == 1 and .trace.frees == 0'
	else
		fail "errors: --ignore-unpaired: exit status not 0"
	fi
	# A run-time failure (an allocation the address-space limit refuses): exit 1, the JSON
	# says "failed": true, the thread waiting for the failed allocation gives up.  (Not
	# with an ASan-built REPLAY_BIN: ASan cannot start under ulimit -v.)
	printf '%s\n1,a,alloc,1073741824,x\n2,b,alloc,8,y\n3,b,free,,x\n4,a,free,,y\n' "$h" \
		>"$d/oom.csv"
	local rc=0
	(ulimit -v 400000 && exec "$BIN" replay "$d/oom.csv") >"$WORK/oom.json" \
		2>"$WORK/oom.err" || rc=$?
	if ((rc == 1)) && grep -q "replay failed: Cannot allocate memory" "$WORK/oom.err"; then
		jcheck "errors: allocation failure: exit 1, \"failed\": true" "$WORK/oom.json" \
			'.failed == true'
	else
		fail "errors: allocation failure: exit $rc: $(head -n 3 "$WORK/oom.err")"
	fi
	if "$BIN" replay --help >"$WORK/help.out" 2>&1 && grep -q "usage: magslab-workload replay" \
		"$WORK/help.out"; then
		pass "errors: --help exits 0 with the usage"
	else
		fail "errors: --help"
	fi
}

# ==========================================================================================

if ! command -v jq >/dev/null; then
	say "FAIL: jq not found (make deps, or apt-get install jq)"
	exit 1
fi
if [[ -n "${REPLAY_BIN:-}" ]]; then
	BIN=$REPLAY_BIN
else
	BIN=$BUILD/bin/magslab-workload
	if ! "$MAKE" --no-print-directory workloads BUILD="$BUILD" >"$WORK/build.log" 2>&1; then
		say "FAIL: make workloads failed:"
		tail -n 20 "$WORK/build.log" | sed 's/^/    /'
		exit 1
	fi
fi
[[ $BIN == /* ]] || BIN=$ROOT/$BIN

parts=("$@")
((${#parts[@]})) || parts=(csv ctf errors)
for p in "${parts[@]}"; do
	case $p in
	csv | ctf | errors) "part_$p" ;;
	*)
		say "test_replay: unknown part '$p' (csv, ctf, errors)"
		exit 2
		;;
	esac
done
say "test_replay: $PASS passed, $FAIL failed"
((FAIL == 0))
