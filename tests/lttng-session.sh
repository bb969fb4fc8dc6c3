#!/usr/bin/env bash
# tests/lttng-session.sh — the magslab tests that need a real LTTng session.
#
#   tests/lttng-session.sh [-B BUILD] [-L LOGDIR] [-k] [TEST...]
#   tests/lttng-session.sh --list
#
# Runs every test (or the TESTs named) under LTTng sessions of a session daemon it starts
# itself, and prints one result line per test, which tests/run-tests.sh (configuration
# "lttng") counts:
#   lttng-test: PASS NAME (N s)
#   lttng-test: FAIL NAME: REASON (see LOG)
#   lttng-test: SKIPPED: REASON          (nothing could run; no PASS/FAIL lines follow)
# Exit status 0 if every test passed, 1 if any failed, 77 if skipped.
#
# Isolation.  Root's session daemon always lives in /var/run/lttng, whatever HOME or
# LTTNG_HOME say, and every traced program registers with it; a test must not use (or
# disturb) a daemon someone else runs on the machine.  So the tests run in a private mount
# namespace (unshare -m, everything made rprivate), with a fresh tmpfs on /run/lttng (and
# on /var/run/lttng when that is not /run/lttng through the /var/run -> /run link) and on
# /dev/shm, where the daemon's sockets, lock, pid file and the shared-memory files of
# traced programs live.  Inside, `lttng-sessiond -d --no-kernel` starts a daemon that
# nobody outside can see, LTTNG_HOME points to a temporary directory (the lttng client's
# .lttngrc goes there, not to root's home), and the traced programs run in the same
# namespace, so they register with that daemon only.  Not root: the same in a user
# namespace (unshare -r -m), where possible.  If no mount namespace can be made (EPERM),
# the whole configuration is SKIPPED, said so, and counted as nothing passed.
#
# Clean-up.  The session daemon and its consumer daemon (and their lttng-runas helpers)
# are daemons: they outlive the namespace's shell.  Every time the tests could have made a
# new one, the daemons in the namespace are noted (pid, start time, name) in
# BUILD/lttng/state/<runner pid>.daemons; the namespace's shell stops them (SIGTERM to the
# session daemon, SIGKILL to whatever is left after 5 s) when it exits, and the outer shell
# does it again from the file, so an interrupted or killed run leaves nothing behind.  A
# state file whose runner is gone (a run that was SIGKILLed) is cleaned up at the start of
# the next run; only processes whose pid and start time match what was noted are
# signalled.  Nothing else is ever killed.
#
# Traces.  Each traced program runs in its own session (per-user buffers, one channel,
# `magslab:*`), sub-buffers of 4 MiB x 4 per CPU unless the test asks otherwise; `lttng
# stop` waits until the consumer has no data pending, then `lttng destroy --no-wait`.  The
# trace is read with `babeltrace2` (text).  Every real run must show no discarded events
# (babeltrace2 prints "WARNING: Tracer discarded N events between ..." for a loss), no
# babeltrace2 warning at all, every enumeration field with its label, and nothing on the
# program's stderr.  Work files are under a temporary directory, removed at the end (-k
# keeps them and says where).
#
# Tests (tests/trace_scenarios.c has the programs; each test is one function t_NAME below):
#   isolation            the daemon is ours: in our namespace, private /run/lttng, /dev/shm
#   events_doc           tests/test_events_doc.sh: docs/events.md against the provider header
#   lifecycle            cache_create/destroy, arena_create/import/release/fail/destroy,
#                        workload_phase, with their fields
#   magazines            mag_swap, depot_exchange (both sides), depot_miss to_slab and
#                        new_magazine; counts = kmem_cache_stats()
#   counters             the pcc counters of depot_exchange, depot_miss and pcc_counters:
#                        each slot's last values add up to the stats' allocs, frees, hits
#   no_magazine          depot_miss outcome no_magazine (RLIMIT_AS starves the base arena)
#   magsize_user         magsize_bump reason user (up and down), pcc_magsize
#   hash                 hash_resize kind cache and arena, new_lists = 2 x old_lists
#   reap                 slab_grow, slab_release, reap (bytes as kmem_cache_reap returned)
#   contention           depot_contention (counted), magsize_bump reason threshold (+1)
#   pcc_contention       pcc_contention: one slot, four threads
#   deterministic        one thread, one slot, five caches: every counter = its events,
#                        twice, and both runs record the same events
#   threaded             the same equality with eight threads and contention
#   format_all           every default-build event in one trace, enums with their labels
#   events_doc_metadata  docs/events.md against the recorded trace's CTF metadata
#   discarded_detected   4 KiB x 2 sub-buffers: babeltrace2 reports the loss, and
#                        recorded + discarded = emitted
#   blocking             the same tiny buffers in blocking mode: nothing lost
#   coverage             every event and forced enum label appeared in this run's traces
#   trace_full           TRACE=full: alloc/free events = stats allocs/frees, ptrs pair up,
#                        log levels, metadata with alloc/free against the doc
#   report_workloads     sink.magslab.report on prodcons, phases and large traces: its
#                        summary.json = each workload's --json stats; every plot renders
#   report_oldnew        tests/data/report-oldpair (depot_get + depot_put, recorded before
#                        depot_exchange) and the same deterministic scenario recorded now:
#                        the same figures
#   report_discarded     tiny sub-buffers: the report's loss = babeltrace2's warnings
#   report_full          TRACE=full: exact layer shares, allocs = alloc events
#
# Builds: the library in TRACE=1 (BUILD itself when TRACE is 1, else BUILD/lttng/trace1)
# and TRACE=full (BUILD/lttng/full unless TRACE is full), and tests/trace_scenarios.c
# linked against each.
#
# Environment: TRACE (the build mode of BUILD, default 1), MAKE, CC,
# LTTNG_TEST_TIMEOUT (seconds per traced program, default 120).
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)

BUILD=${BUILD:-build}
LOGDIR=
KEEP=0
MAKE=${MAKE:-make}
CC=${CC:-gcc}
TRACE=${TRACE:-1}
LTTNG_TEST_TIMEOUT=${LTTNG_TEST_TIMEOUT:-120}

# Every test, in the order they run.
ALL_TESTS=(isolation events_doc lifecycle magazines counters no_magazine magsize_user hash reap
	contention pcc_contention deterministic threaded format_all events_doc_metadata
	discarded_detected blocking coverage trace_full workload_phases
	report_workloads report_oldnew report_discarded report_full)   # report_*: sink.magslab.report

say() { printf '%s\n' "$*"; }

# ===========================================================================================
# Daemon bookkeeping (both sides of the namespace)

# The bookkeeping itself is tests/lttng-ns.sh's (shared by every LTTng test script); these
# are the names this script uses, with the state file as an argument.
# shellcheck source=tests/lttng-ns.sh
source "$ROOT/tests/lttng-ns.sh"
# note_daemons <state file>: notes "pid starttime comm" of every LTTng daemon of this
# mount namespace; stop_daemons <state file>: SIGTERM, 5 s, SIGKILL, noted ones only.
note_daemons() { NS_STATE=$1 ns_note_daemons; }
stop_daemons() { NS_STATE=$1 ns_stop_state; }

# ===========================================================================================
# The inner side: in the private mount namespace.

inner_main() {
	local state=$1 work=$2 logs=$3 bin1=$4 binfull=$5
	shift 5
	local -a tests=("$@")

	STATE=$state WORK=$work LOGS=$logs BIN=$bin1 BINFULL=$binfull
	# shellcheck disable=SC2064 # expand now
	trap "stop_daemons '$state'" EXIT
	trap 'exit 130' INT TERM

	if ! mount --make-rprivate / 2>"$work/mount.err"; then
		say "lttng-test: SKIPPED: mount --make-rprivate / failed: $(head -n 1 "$work/mount.err")"
		exit 77
	fi
	if ! private_run_dirs 2>"$work/mount.err"; then
		say "lttng-test: SKIPPED: cannot mount a private tmpfs for the session daemon: $(head -n 1 "$work/mount.err")"
		exit 77
	fi
	export LTTNG_HOME=$work/home
	mkdir -p "$LTTNG_HOME"
	# In a user namespace only our own uid and gid are mapped: the daemon cannot give its
	# sockets to the "tracing" group, so it gets the (mapped) root group instead.
	local -a sd_opts=(-d --no-kernel)
	[[ ${LTTNG_TEST_USERNS:-0} == 1 ]] && sd_opts+=(--group=root)
	if ! lttng-sessiond "${sd_opts[@]}" >"$work/sessiond.log" 2>&1; then
		note_daemons "$state"
		say "lttng-test: FAIL isolation: lttng-sessiond ${sd_opts[*]} failed: $(head -n 3 "$work/sessiond.log" | tr '\n' ' ')"
		exit 1
	fi
	note_daemons "$state"

	local t rc start failed=0 log reason
	for t in "${tests[@]}"; do
		log=$logs/$t.log
		rm -rf "$logs/$t.files"
		start=$SECONDS
		(
			set -e
			T=$t
			R=
			"t_$t"
		) >"$log" 2>&1 </dev/null
		rc=$?
		note_daemons "$state"
		if ((rc == 0)); then
			say "lttng-test: PASS $t ($((SECONDS - start)) s)"
		else
			failed=1
			reason=$(grep -m 1 '^FAIL: ' "$log" | sed 's/^FAIL: //' | cut -c1-200)
			[[ -n $reason ]] || reason="exit status $rc after: $(tail -n 1 "$log" | cut -c1-160)"
			keep_small_files "$t"
			say "lttng-test: FAIL $t: $reason (see $log)"
		fi
	done
	exit $failed
}

# keep_small_files <test>: a failed test's program outputs, babeltrace2 messages and lttng
# output go next to its log (LOGDIR/<test>.files/), as the work directory is removed.
keep_small_files() {
	local d f
	for d in "$WORK/$1"/*/; do
		[[ -d $d ]] || continue
		for f in out err bterr lttng.log; do
			[[ -f $d$f ]] || continue
			mkdir -p "$LOGS/$1.files"
			cp "$d$f" "$LOGS/$1.files/$(basename "$d").$f"
		done
	done
	[[ -d $LOGS/$1.files ]] && echo "  (outputs kept in $LOGS/$1.files; -k keeps the traces)" >>"$LOGS/$1.log"
	return 0
}

# private_run_dirs: tmpfs over the session daemon's run directory and /dev/shm.
private_run_dirs() {
	local d
	if [[ ! -d /run/lttng ]] && ! mkdir -p /run/lttng 2>/dev/null; then
		# Cannot create it (a user namespace): a private /run altogether.
		mount -t tmpfs -o mode=0755 magslab-run /run || return 1
		mkdir -p /run/lttng || return 1
	fi
	mount -t tmpfs -o mode=0755 magslab-lttng /run/lttng || return 1
	d=$(readlink -f /var/run 2>/dev/null)
	if [[ $d != /run && -d /var/run ]]; then
		mkdir -p /var/run/lttng && mount -t tmpfs -o mode=0755 magslab-lttng /var/run/lttng ||
			return 1
	fi
	mount -t tmpfs -o mode=1777 magslab-shm /dev/shm || return 1
}

# ---- helpers for the tests (run in the test's subshell, set -e) ----

# fail MESSAGE: the test fails (set -e ends it); the first FAIL line is its reason.
fail() {
	echo "FAIL: $*" >&2
	return 1
}

check() {
	echo "check: $*"
}

# record_trace NAME [--subbuf SIZE] [--nsub N] [--blocking] [--loglevel LEVEL]
#              [--bin PATH] [--env VAR=VALUE]... -- ARGS...
# Runs `trace_scenarios ARGS...` (or --bin) in a fresh session; sets R to its directory
# with out (stdout), err (stderr), rc, trace/ (CTF), text (babeltrace2), bterr.
record_trace() {
	local name=$1 subbuf=4M nsub=4 blocking=0 loglevel='' bin=$BIN sess rc t0=$EPOCHREALTIME t1 t2
	local -a envs=() chopts=() evopts=()
	shift
	while (($#)); do
		case $1 in
		--subbuf) subbuf=$2; shift 2 ;;
		--nsub) nsub=$2; shift 2 ;;
		--blocking) blocking=1; shift ;;
		--loglevel) loglevel=$2; shift 2 ;;
		--bin) bin=$2; shift 2 ;;
		--env) envs+=("$2"); shift 2 ;;
		--) shift; break ;;
		*) fail "record_trace: bad option $1" ;;
		esac
	done
	R=$WORK/$T/$name
	rm -rf "$R"
	mkdir -p "$R"
	sess=ms-$T-$name-$$
	chopts=(--subbuf-size="$subbuf" --num-subbuf="$nsub")
	if ((blocking)); then
		chopts+=(--blocking-timeout=inf)
		envs+=(LTTNG_UST_ALLOW_BLOCKING=1)
	fi
	[[ -n $loglevel ]] && evopts=(--loglevel="$loglevel")
	echo "+ session $sess: channel ${chopts[*]}; events magslab:* ${evopts[*]}; run $(basename "$bin") $*${envs:+ with ${envs[*]}}"
	lt create "$sess" --output="$R/trace"
	lt enable-channel -u -s "$sess" ch "${chopts[@]}"
	lt enable-event -u -s "$sess" -c ch 'magslab:*' "${evopts[@]}"
	lt start "$sess"
	note_daemons "$STATE"
	t1=$EPOCHREALTIME
	rc=0
	env "${envs[@]}" timeout -k 5 "$LTTNG_TEST_TIMEOUT" "$bin" "$@" >"$R/out" 2>"$R/err" || rc=$?
	echo "$rc" >"$R/rc"
	t2=$EPOCHREALTIME
	# stop waits until lttng_data_pending() says the consumer has written everything.
	lt stop "$sess"
	# The tracer's own statistics (per channel: "Discarded events: N"), before destroy.
	lttng list "$sess" >"$R/list" 2>&1 || true
	lt destroy --no-wait "$sess"
	babeltrace2 "$R/trace" >"$R/text" 2>"$R/bterr" || {
		cat "$R/bterr"
		fail "babeltrace2 could not read the trace of $name"
	}
	echo "  exit status $rc; $(wc -l <"$R/text") events; babeltrace2 stderr $(wc -l <"$R/bterr") lines;" \
		"set-up $(secs "$t0" "$t1") s, program $(secs "$t1" "$t2") s, stop+read $(secs "$t2" "$EPOCHREALTIME") s"
	grep -E '^note [^ =]+: ' "$R/out" | sed 's/^/  program: /' || true
	if ((rc != 0)); then
		sed 's/^/  | /' "$R/err"
		fail "$(basename "$bin") $* exited with status $rc"
	fi
	return 0
}

# lt ARGS...: lttng ARGS, output to $R/lttng.log; a failure fails the test, saying why.
lt() {
	echo "+ lttng $*" >>"$R/lttng.log"
	lttng "$@" >>"$R/lttng.log" 2>&1 ||
		fail "lttng $1 failed: $(tail -n 2 "$R/lttng.log" | tr '\n' ' ')"
}

# secs <from> <to>: EPOCHREALTIME difference in seconds, 2 decimals.
secs() {
	awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'
}

# The awk that reads one babeltrace2 text line.  parse() sets EV (event name without the
# provider), F[field] (value: enum label, string without quotes, number), FC[field]
# (an enum's container value), FK[field] ("enum", "string", "num") and returns 1, or
# returns 0 for a line that is not a magslab event; BADLINE is set when the payload could
# not be read.
AWK_PARSE='
function parse(line,    s, p, name, tok, j) {
	delete F; delete FC; delete FK
	EV = ""; BADLINE = ""
	if (!match(line, / magslab:[a-z_0-9]+: /)) return 0
	EV = substr(line, RSTART + 9, RLENGTH - 11)
	s = substr(line, RSTART + RLENGTH)
	# The payload is the last { } group (the first is the packet context).
	p = index(s, "}, { ")
	if (p) s = substr(s, p + 5); else s = substr(s, 3)
	sub(/ }$/, "", s)
	while (s != "") {
		if (!match(s, /^[A-Za-z_][A-Za-z0-9_]* = /)) { BADLINE = s; return 1 }
		name = substr(s, 1, RLENGTH - 3)
		s = substr(s, RLENGTH + 1)
		if (substr(s, 1, 2) == "( ") {
			if (!match(s, /^\( [^)]* : container = -?[0-9]+ \)/)) { BADLINE = s; return 1 }
			tok = substr(s, 3, RLENGTH - 4)
			s = substr(s, RLENGTH + 1)
			FC[name] = tok; sub(/.*container = /, "", FC[name])
			sub(/ : container = .*/, "", tok)
			gsub(/"/, "", tok)
			F[name] = tok; FK[name] = "enum"
		} else if (substr(s, 1, 1) == "\"") {
			j = index(substr(s, 2), "\"")
			F[name] = substr(s, 2, j - 1); FK[name] = "string"
			s = substr(s, j + 2)
		} else {
			match(s, /^[^,]*/)
			F[name] = substr(s, 1, RLENGTH); FK[name] = "num"
			s = substr(s, RLENGTH + 1)
		}
		sub(/^, /, "", s)
	}
	return 1
}'

# AWK_FIELD: fld(NAME) returns one payload field of the current line ($0) without parsing
# the others (an enum gives its label); EV is set by evname().  Enough for counting.
AWK_FIELD='
function evname(   m) {
	if (!match($0, / magslab:[a-z_0-9]+: /)) return ""
	return substr($0, RSTART + 9, RLENGTH - 11)
}
function fld(name,   p, s) {
	p = index($0, " " name " = ")
	if (!p) return ""
	s = substr($0, p + length(name) + 4)
	if (substr(s, 1, 3) == "( \"") { s = substr(s, 4); return substr(s, 1, index(s, "\"") - 1) }
	match(s, /^[^, ]*/)
	return substr(s, 1, RLENGTH)
}'

# count_events FILTER...: how many magslab events of $R/text match every FILTER, each
# EVENT (the event name) or FIELD=VALUE, FIELD!=VALUE, FIELD>=N, FIELD<=N, FIELD>N,
# FIELD<N.  Enumerations compare by label.
count_events() {
	# Most filters start with the event name: let grep skip the other events first.
	if [[ ${1:-} =~ ^[a-z_0-9]+$ ]]; then
		LC_ALL=C grep -F -- " magslab:$1: " "$R/text" || true
	else
		cat "$R/text"
	fi | awk -v filters="$*" "$AWK_PARSE"'
	BEGIN { nf = split(filters, flt, " ") }
	{
		if (!parse($0)) next
		for (i = 1; i <= nf; i++) {
			f = flt[i]
			if (!match(f, /(!=|>=|<=|=|>|<)/)) { if (EV != f) next; continue }
			k = substr(f, 1, RSTART - 1); op = substr(f, RSTART, RLENGTH)
			v = substr(f, RSTART + RLENGTH)
			if (!(k in F)) next
			x = F[k]
			if (op == "=" && x != v) next
			if (op == "!=" && x == v) next
			if (op == ">=" && !(x + 0 >= v + 0)) next
			if (op == "<=" && !(x + 0 <= v + 0)) next
			if (op == ">" && !(x + 0 > v + 0)) next
			if (op == "<" && !(x + 0 < v + 0)) next
		}
		n++
	}
	END { print n + 0 }'
}

# expect_events MIN FILTER...: at least MIN matching events.
expect_events() {
	local min=$1 n
	shift
	n=$(count_events "$@")
	((n >= min)) || fail "expected at least $min events '$*' in $R, found $n"
	check "$n events '$*' (at least $min)"
}

# expect_exact N FILTER...: exactly N matching events.
expect_exact() {
	local want=$1 n
	shift
	n=$(count_events "$@")
	((n == want)) || fail "expected exactly $want events '$*' in $R, found $n"
	check "exactly $n events '$*'"
}

# id_of KIND NAME: the id the program printed for its cache/arena NAME.
id_of() {
	local id
	id=$(awk -v k="$1" -v n="name=$2" '$1 == k && $2 == n { sub(/^id=/, "", $3); print $3; exit }' "$R/out")
	[[ -n $id ]] || fail "the program did not print an id for $1 $2"
	echo "$id"
}

# expect_value KEY: a value the program printed as "expect KEY=VALUE".
expect_value() {
	awk -v k="$1" '$1 == "expect" { for (i = 2; i <= NF; i++) if (index($i, k "=") == 1) { print substr($i, length(k) + 2); exit } }' "$R/out"
}

# discarded_in FILE: the sum of N over babeltrace2's "WARNING: Tracer discarded N events
# between [...] and [...] in trace ..." lines ("1 event", singular, when N is 1: missing
# those once made a run look like it lost an event the tracer did count).
discarded_in() {
	awk '/Tracer discarded [0-9]+ events? / { for (i = 1; i <= NF; i++) if ($i == "discarded") s += $(i + 1) }
		END { print s + 0 }' "$1"
}

# tracer_discarded: the events the tracer says it discarded in the run of $R (the sum of
# the channels' "Discarded events" of `lttng list SESSION`, taken between stop and destroy).
tracer_discarded() {
	awk '/Discarded events:/ { s += $NF; n++ } END { if (n) print s + 0 }' "$R/list"
}

# check_clean: the run of $R lost nothing, babeltrace2 said nothing, the program said
# nothing on stderr, and every enumeration field has a label.
check_clean() {
	local d bad
	d=$(discarded_in "$R/bterr")
	((d == 0)) || fail "$d events discarded in $R (babeltrace2: $(head -n 1 "$R/bterr"))"
	if [[ -s $R/bterr ]]; then
		sed 's/^/  bt| /' "$R/bterr" | head -n 20
		fail "babeltrace2 printed warnings or errors for $R"
	fi
	if [[ -s $R/err ]]; then
		sed 's/^/  err| /' "$R/err" | head -n 20
		fail "the program wrote to stderr"
	fi
	# Every enumeration field has its label, ( "label" : container = N ), not a bare number
	# nor ( <unknown> : container = N ).
	bad=$(LC_ALL=C grep -m 1 -E ' (side|outcome|reason|policy|kind|layer) = ([^(]|\( [^"])' "$R/text" || true)
	[[ -z $bad ]] || fail "an enumeration field without its label: $bad"
	bad=$(LC_ALL=C grep -m 1 -v '^\[[0-9:.]*\] ([+0-9.?]*) [^ ]* magslab:[a-z_0-9]*: { cpu_id = [0-9]* }, { .* }$' "$R/text" || true)
	[[ -z $bad ]] || fail "a line that does not read as a magslab event: $bad"
	check "no discarded events, babeltrace2 and the program silent, enum fields labelled ($(wc -l <"$R/text") events)"
}

# check_counts: for every cache the program printed stats for, the trace's event counts
# equal its kmem_cache_stats() counters exactly (keys as trace_scenarios.c prints them).
check_counts() {
	awk "$AWK_FIELD"'
	FILENAME == ARGV[1] {
		if ($1 != "stats") next
		c = $2; sub(/^cache=/, "", c)
		caches[c] = $3
		for (i = 4; i <= NF; i++) {
			k = $i; sub(/=.*/, "", k); v = $i; sub(/^[^=]*=/, "", v)
			st[c, k] = v; keys[k] = 1
		}
		next
	}
	{
		EV = evname()
		if (EV == "") next
		if (EV == "mag_swap" || EV == "depot_exchange" || EV == "depot_miss")
			n[fld("cache"), EV "." fld("side")]++
		else if (EV == "depot_contention") {
			c = fld("cache")
			n[c, EV]++
			if (fld("counted") == 1) n[c, EV ".counted"]++
		} else if (EV == "magsize_bump") {
			c = fld("cache"); d = fld("new") - fld("old")
			if (d > 0) n[c, EV ".up"]++
			else if (d < 0) n[c, EV ".down"]++
			else n[c, EV ".same"]++
		} else if (EV == "hash_resize") {
			if (fld("kind") == "cache" && fld("ok") == 1) n[fld("id"), EV ".ok"]++
		} else if (EV == "pcc_contention" || EV == "slab_grow" || EV == "slab_release" || EV == "reap")
			n[fld("cache"), EV]++
	}
	END {
		ncache = 0
		for (c in caches) {
			ncache++
			line = "  cache " c " " caches[c] ":"
			for (k in keys) {
				t = n[c, k] + 0
				if (t != st[c, k]) {
					print "MISMATCH cache " c " " caches[c] " " k ": stats " st[c, k] ", trace " t
					bad = 1
				}
				if (st[c, k] != 0) line = line " " k "=" st[c, k]
				total += t
			}
			if (n[c, "magsize_bump.same"]) {
				print "MISMATCH cache " c ": " n[c, "magsize_bump.same"] " magsize_bump events with new = old"
				bad = 1
			}
			print line
		}
		if (!ncache) { print "MISMATCH: no stats lines in the program output"; bad = 1 }
		print "  " ncache " caches, " total " counted events"
		exit bad
	}' "$R/out" "$R/text" || fail "trace event counts differ from kmem_cache_stats() (MISMATCH lines above)"
	check "event counts = kmem_cache_stats() counters for every cache"
}

# ---- the tests ----

# The session daemon we talk to is the one we started, in this namespace, not the
# machine's.
t_isolation() {
	local pid myns hostns
	pid=$(cat /run/lttng/lttng-sessiond.pid) || fail "no /run/lttng/lttng-sessiond.pid"
	myns=$(readlink /proc/self/ns/mnt)
	hostns=$(readlink /proc/1/ns/mnt 2>/dev/null || echo unknown)
	[[ $(readlink "/proc/$pid/ns/mnt") == "$myns" ]] || fail "session daemon $pid is not in our mount namespace"
	[[ $myns != "$hostns" ]] || fail "not in a private mount namespace (same as pid 1: $myns)"
	grep -q " /run/lttng .*tmpfs" /proc/self/mountinfo || fail "/run/lttng is not a private tmpfs"
	grep -q " /dev/shm .*tmpfs magslab-shm" /proc/self/mountinfo || fail "/dev/shm is not our tmpfs"
	check "session daemon $pid in mount namespace $myns (host: $hostns); /run/lttng and /dev/shm private"
	lttng list >/dev/null || fail "lttng list: the client cannot talk to the daemon"
	[[ -z $(lttng list 2>/dev/null | grep -E '^ *[0-9]+\) ' || true) ]] ||
		fail "the fresh daemon already has sessions"
	check "the daemon has no sessions but ours"
}

t_events_doc() {
	"$ROOT/tests/test_events_doc.sh"
}

t_lifecycle() {
	local life src imp
	record_trace lifecycle -- lifecycle
	check_clean
	life=$(id_of cache tr_life)
	src=$(id_of arena tr_src)
	imp=$(id_of arena tr_imp)
	expect_exact 1 cache_create cache="$life" name=tr_life obj_size=100 nr_pcc\>=1 magsize=8 policy=akaros
	expect_exact 1 cache_destroy cache="$life" name=tr_life
	expect_exact 1 arena_create arena="$src" name=tr_src quantum=4096 source=0
	expect_exact 1 arena_create arena="$imp" name=tr_imp quantum=4096 source="$src"
	expect_events 1 arena_import arena="$imp" source="$src" size\>=8192
	expect_events 1 arena_release arena="$imp" source="$src" size\>=8192 how=span
	expect_exact 1 arena_fail arena="$src" size="$(expect_value fail_size)"
	expect_exact 1 arena_destroy arena="$imp" name=tr_imp
	expect_exact 1 arena_destroy arena="$src" name=tr_src
	expect_exact 1 workload_phase name=tr_phase index=7
	expect_exact 1 workload_phase name=tr_phase_end index=8
	# The process-wide arenas: base imports from the OS (source 0).
	expect_events 1 arena_create name=base source=0
	expect_events 1 arena_import source=0
	# Destroying tr_life reaps kpages and base: free pages of base go back
	# to the OS (madvise), each traced as a release of pages.
	expect_events 1 arena_release source=0 how=pages
}

t_magazines() {
	local id
	record_trace magazines -- magazines
	check_clean
	id=$(id_of cache tr_mag)
	expect_events 1 mag_swap cache="$id" side=alloc
	expect_events 1 mag_swap cache="$id" side=free
	expect_events 1 depot_exchange cache="$id" side=alloc
	expect_events 1 depot_exchange cache="$id" side=free
	expect_events 200 depot_miss cache="$id" side=alloc outcome=to_slab
	expect_events 1 depot_miss cache="$id" side=free outcome=new_magazine
	# Field sense: an alloc-side exchange takes a full magazine and gives an empty one, a
	# free-side one the other way round.
	expect_exact 0 depot_exchange cache="$id" side=alloc rounds_got=0
	expect_exact 0 depot_exchange cache="$id" side=alloc rounds_put\>0
	expect_exact 0 depot_exchange cache="$id" side=free rounds_got\>0
	expect_exact 0 depot_exchange cache="$id" side=free rounds_put=0
	check_counts
}

# The pcc counters the slow-path events carry: per slot they never go back, and each slot's
# last values (the pcc_counters of the destroy) add up to kmem_cache_stats()'s.
t_counters() {
	local id want got
	record_trace counters -- counters
	check_clean
	# Not check_counts: the destroy after the stats releases slabs and reaps (more events).
	id=$(id_of cache tr_counters)
	expect_events 1 pcc_counters cache="$id"
	want=$(awk -v c="cache=$id" '$1 == "note" && $2 == c { for (i = 3; i <= NF; i++) if ($i ~ /^(allocs|frees|hits)=/) printf "%s ", $i }' "$R/out")
	got=$(awk "$AWK_PARSE"'
		{ if (!parse($0) || F["cache"] != ID) next
		  if (EV != "depot_exchange" && EV != "depot_miss" && EV != "pcc_counters") next
		  s = F["cpu"]; x = F["allocs"] + 0; y = F["frees"] + 0; z = F["hits"] + 0
		  if (x < a[s] + 0 || y < f[s] + 0 || z < h[s] + 0) { print "BACKWARDS " $0; exit }
		  a[s] = x; f[s] = y; h[s] = z }
		END { for (s in a) { ta += a[s]; tf += f[s]; th += h[s] }
		      printf "allocs=%d frees=%d hits=%d ", ta, tf, th }' ID="$id" "$R/text")
	[[ $got == "$want" ]] || fail "tr_counters: the slots' last counters say '$got', kmem_cache_stats() '$want'"
	check "tr_counters: each slot's counters only grow; their last values add up to the stats: $got"
}

t_no_magazine() {
	local id
	record_trace no_magazine -- no_magazine
	check_clean
	id=$(id_of cache tr_nomagazine)
	expect_events 1 depot_miss cache="$id" side=free outcome=new_magazine
	expect_events 1 depot_miss cache="$id" side=free outcome=no_magazine
	# The base arena could not map more: the failure is an event too.
	expect_events 1 arena_fail
	check_counts
}

t_magsize_user() {
	local id
	record_trace magsize_user -- magsize_user
	check_clean
	id=$(id_of cache tr_user)
	expect_exact 1 magsize_bump cache="$id" old=8 new=30 reason=user
	expect_exact 1 magsize_bump cache="$id" old=30 new=12 reason=user
	expect_exact 1 pcc_magsize cache="$id" old=8 new=30
	expect_exact 1 pcc_magsize cache="$id" old=30 new=12
	check_counts
}

# Every hash_resize doubles: new_lists = 2 x old_lists.
check_hash_doubling() {
	local bad
	bad=$(awk "$AWK_PARSE"'
		{ if (!parse($0) || EV != "hash_resize") next
		  if (F["ok"] == 1 && F["new_lists"] != 2 * F["old_lists"]) { print $0; exit } }' \
		<(LC_ALL=C grep -F ' magslab:hash_resize: ' "$R/text" || true))
	[[ -z $bad ]] || fail "hash_resize that does not double: $bad"
	check "every successful hash_resize has new_lists = 2 x old_lists"
}

t_hash() {
	local id aid
	record_trace hash -- hash
	check_clean
	id=$(id_of cache tr_hash)
	aid=$(id_of arena tr_hash_arena)
	expect_events 3 hash_resize id="$id" kind=cache ok=1 old_lists\>=64
	expect_events 3 hash_resize id="$aid" kind=arena ok=1 old_lists\>=64
	expect_exact 0 hash_resize ok=0
	expect_exact 1 cache_create cache="$id" name=tr_hash uses_bufctl=1 obj_size=1024
	check_hash_doubling
	check_counts
}

t_reap() {
	local nm mc b
	record_trace reap -- reap
	check_clean
	nm=$(id_of cache tr_reap_nomag)
	mc=$(id_of cache tr_reap_mag)
	expect_events 1 slab_grow cache="$nm" bytes\>0 objects\>0
	expect_events 1 slab_release cache="$nm" bytes\>0 objects\>0
	b=$(expect_value reap_nomag_bytes)
	expect_exact 1 reap cache="$nm" slabs\>0 magazines=0 bytes="$b"
	b=$(expect_value reap_mag_bytes)
	expect_exact 1 reap cache="$mc" bytes="$b"
	# reap_keep 0: every slab of the no-magazine cache went back.
	[[ $(count_events slab_release cache="$nm") == "$(count_events slab_grow cache="$nm")" ]] ||
		fail "tr_reap_nomag: slab_release events differ from slab_grow events"
	check "tr_reap_nomag: as many slab_release as slab_grow events"
	check_counts
}

# Every policy-driven magsize_bump moves by one round; a user one may jump.  Its cache has
# a cache_create event, under the name the program gave it.
check_bumps() {
	local bad
	bad=$(awk "$AWK_PARSE"'
		FILENAME == ARGV[1] { if ($1 == "cache") { n = $2; sub(/^name=/, "", n); i = $3; sub(/^id=/, "", i); made[i] = n }; next }
		{
			if (!parse($0)) next
			if (EV == "cache_create") created[F["cache"]] = F["name"]
			if (EV != "magsize_bump") next
			d = F["new"] - F["old"]
			if (F["reason"] != "user" && d != 1 && d != -1) { print "not +-1: " $0; exit }
			if (d == 0) { print "no change: " $0; exit }
			if (!(F["cache"] in created)) { print "no cache_create before: " $0; exit }
			if ((F["cache"] in made) && made[F["cache"]] != created[F["cache"]]) {
				print "cache " F["cache"] " is " made[F["cache"]] " but cache_create says " created[F["cache"]]; exit
			}
		}' "$R/out" <(LC_ALL=C grep -E ' magslab:(cache_create|magsize_bump): ' "$R/text" || true))
	[[ -z $bad ]] || fail "magsize_bump: $bad"
	check "magsize_bump: new = old +- 1 (reason user: any change); cache ids and names as in cache_create"
}

t_contention() {
	local id
	record_trace contention -- contention
	check_clean
	id=$(id_of cache tr_contention)
	expect_events 1 depot_contention cache="$id"
	expect_events 1 depot_contention cache="$id" counted=1
	expect_events 1 magsize_bump cache="$id" reason=threshold
	expect_events 1 pcc_magsize cache="$id"
	expect_exact 1 cache_create cache="$id" name=tr_contention nr_pcc=8
	check_bumps
	check_counts
}

t_pcc_contention() {
	local id
	record_trace pcc_contention -- pcc_contention
	check_clean
	id=$(id_of cache tr_pcc)
	expect_events 1 pcc_contention cache="$id" cpu=0
	expect_exact 1 cache_create cache="$id" name=tr_pcc nr_pcc=1
	check_counts
}

t_deterministic() {
	local a
	record_trace det1 -- deterministic
	check_clean
	check_counts
	check_bumps
	check_hash_doubling
	expect_events 1 magsize_bump reason=user
	expect_events 1 magsize_bump reason=reap cache="$(id_of cache det_uma)"
	expect_events 1 hash_resize kind=cache id="$(id_of cache det_bufctl)"
	expect_events 1 slab_release cache="$(id_of cache det_nomag)"
	expect_exact 0 depot_contention
	expect_exact 0 pcc_contention
	a=$R
	# Deterministic: a second run gives the same stats and the same events, field by
	# field (times and addresses aside).
	record_trace det2 -- deterministic
	check_clean
	check_counts
	cmp -s <(grep '^stats ' "$a/out") <(grep '^stats ' "$R/out") ||
		fail "two runs of the deterministic workload printed different stats"
	cmp -s <(events_signature "$a/text") <(events_signature "$R/text") ||
		fail "two runs of the deterministic workload recorded different events"
	check "a second run: the same stats and the same $(wc -l <"$R/text") events"
}

# events_signature FILE: the events without times, the CPU the thread ran on (the packet
# context), addresses and durations.
events_signature() {
	sed -E 's/^\[[^]]*\] \([^)]*\) [^ ]+ //; s/: \{ cpu_id = [0-9]+ \}, \{/: {/; s/(addr|wait_ns|window_ns|duration_ns) = [0-9A-Fx]+/\1 = _/g' "$1"
}

t_threaded() {
	record_trace threaded -- threaded
	check_clean
	expect_events 1 depot_contention
	expect_events 1 pcc_contention
	check_counts
	check_bumps
	check_hash_doubling
}

# Every event the default build can record, in one trace, printed as the catalogue says.
t_format_all() {
	local bad ev
	record_trace all -- all
	check_clean
	# check_clean saw every enumeration field printed as ( "label" : container = N ).
	for ev in cache_create cache_destroy mag_swap depot_exchange depot_miss magsize_bump \
		pcc_magsize pcc_counters slab_grow slab_release reap arena_create arena_destroy arena_import \
		arena_release arena_fail workload_phase; do
		expect_events 1 "$ev"
	done
	cp -r "$R/trace" "$WORK/all-trace"
}

# docs/events.md against the metadata the provider registered (a recorded trace).
t_events_doc_metadata() {
	local dir=$WORK/all-trace
	if [[ ! -d $dir ]]; then
		record_trace all -- all
		check_clean
		dir=$R/trace
	fi
	"$ROOT/tests/test_events_doc.sh" --metadata "$dir"
}

# Tiny sub-buffers and a hot emitter: babeltrace2 must report the loss, and what it reports
# plus what it shows adds up to what was emitted.
t_discarded_detected() {
	local n d e td
	record_trace tiny --subbuf 4096 --nsub 2 -- phase_storm 300000
	n=$(expect_value storm)
	d=$(discarded_in "$R/bterr")
	e=$(count_events workload_phase name=storm)
	echo "  babeltrace2 stderr, first line:"
	head -n 1 "$R/bterr" | sed 's/^/    /'
	((d > 0)) || fail "4 KiB x 2 sub-buffers and $n events: no discarded-events warning from babeltrace2"
	grep -qE '^WARNING: Tracer discarded [0-9]+ events between \[[^]]+\] and \[[^]]+\] in trace "[^"]+" \(UUID: [0-9a-f-]+\) within stream "[^"]+"' "$R/bterr" ||
		fail "the discarded-events warning does not read as expected"
	td=$(tracer_discarded)
	[[ -n $td ]] || fail "no 'Discarded events' in lttng list (see $R/list)"
	check "discarded detected: babeltrace2 reports $d events lost, the tracer $td; $e recorded"
	((td + e == n)) || fail "recorded ($e) + discarded by the tracer ($td) != emitted ($n)"
	((d == td)) || fail "babeltrace2 reports $d discarded events, the tracer $td"
	check "recorded + discarded = emitted = $n, babeltrace2 and the tracer agree"
}

# The same storm in blocking mode loses nothing.
t_blocking() {
	local n e
	record_trace blocking --subbuf 4096 --nsub 2 --blocking -- phase_storm 10000
	check_clean
	n=$(expect_value storm)
	e=$(count_events workload_phase name=storm)
	((e == n)) || fail "blocking mode: $e of $n events recorded"
	check "blocking mode (--blocking-timeout=inf, LTTNG_UST_ALLOW_BLOCKING=1), tiny buffers: all $n events"
}

# Every event of the default build and every enumeration label the scenarios can force
# appeared in some trace of this run (run it after the others: it reads their traces).
t_coverage() {
	local ev label missing='' texts
	texts=$(find "$WORK" -name text -path "$WORK/*" ! -path "$WORK/trace_full/*" | sort)
	[[ -n $texts ]] || fail "no traces recorded by this run yet (run coverage after the other tests)"
	for ev in cache_create cache_destroy mag_swap depot_exchange depot_miss pcc_counters \
		depot_contention magsize_bump pcc_magsize hash_resize slab_grow slab_release reap \
		pcc_contention arena_create arena_destroy arena_import arena_release arena_fail \
		workload_phase; do
		# shellcheck disable=SC2086 # a list of files
		LC_ALL=C grep -qF " magslab:$ev: " $texts || missing+=" event:$ev"
	done
	for label in side:alloc side:free outcome:to_slab outcome:new_magazine \
		outcome:no_magazine reason:threshold reason:reap reason:user policy:akaros \
		kind:cache kind:arena how:span how:pages; do
		# shellcheck disable=SC2086
		LC_ALL=C grep -qF " ${label%%:*} = ( \"${label#*:}\" :" $texts || missing+=" label:$label"
	done
	[[ -z $missing ]] || fail "not seen in any trace of this run:$missing"
	check "every default-build event, and each enumeration label the scenarios force, was recorded" \
		"in the $(wc -w <<<"$texts") traces of this run"
	echo "  (not forced here: reason interval/contended/shrink and policies illumos/uma/adaptive" \
		"in cache_create, which depend on timing or policy choices; the layer enum of the" \
		"TRACE=full events is trace_full's)"
}

# TRACE=full: alloc/free events, one per object operation.
t_trace_full() {
	local id a f nal nfr bad
	[[ -x $BINFULL ]] || fail "no TRACE=full build of trace_scenarios ($BINFULL)"
	record_trace full --bin "$BINFULL" --loglevel TRACE_DEBUG_LINE -- objects
	check_clean
	check_counts
	id=$(id_of cache tr_objects)
	a=$(awk -v c="cache=$id" '$1 == "note" && $2 == c { for (i = 3; i <= NF; i++) if ($i ~ /^allocs=/) { sub(/.*=/, "", $i); print $i } }' "$R/out")
	f=$(awk -v c="cache=$id" '$1 == "note" && $2 == c { for (i = 3; i <= NF; i++) if ($i ~ /^frees=/) { sub(/.*=/, "", $i); print $i } }' "$R/out")
	nal=$(count_events alloc cache="$id")
	nfr=$(count_events free cache="$id")
	[[ $nal == "$a" && $nfr == "$f" ]] || fail "alloc/free events ($nal/$nfr) != stats allocs/frees ($a/$f)"
	check "tr_objects: $nal alloc and $nfr free events = stats allocs/frees"
	expect_events 1 alloc cache="$id" layer=slab
	expect_events 1 alloc cache="$id" layer=pcc
	expect_events 1 free cache="$id" layer=pcc
	expect_exact 0 alloc ptr=0x0
	# Every object freed was handed out before (by an alloc event of the same cache) and
	# not freed since: the ptr fields pair up in time order.
	bad=$(LC_ALL=C grep -E ' magslab:(alloc|free): ' "$R/text" | awk "$AWK_FIELD"'
		{ c = fld("cache"); p = fld("ptr"); ev = evname()
		  if (ev == "alloc") { if (out[c, p]) { print "handed out twice: " $0; exit } out[c, p] = 1 }
		  else { if (!out[c, p]) { print "freed but not out: " $0; exit } out[c, p] = 0 } }')
	[[ -z $bad ]] || fail "alloc/free ptr pairing: $bad"
	check "alloc/free events pair up by ptr (no double hand-out, no free of an object not out)"
	# The TRACE=full provider's metadata against docs/events.md, alloc and free included.
	"$ROOT/tests/test_events_doc.sh" --metadata "$R/trace" --full
	# Log levels: `magslab:*` with --loglevel=TRACE_INFO (INFO or more severe) leaves the
	# debug-level alloc/free out.
	record_trace full_info --bin "$BINFULL" --loglevel TRACE_INFO -- objects
	check_clean
	expect_exact 0 alloc
	expect_exact 0 free
	expect_events 1 depot_miss
	# And `magslab:*` with no --loglevel at all:
	record_trace full_default --bin "$BINFULL" -- objects
	check_clean
	echo "  note: 'enable-event -u magslab:*' with no --loglevel recorded" \
		"$(count_events alloc) alloc and $(count_events free) free events"
}

# ===========================================================================================
# The outer side.

# magslab-workload phases (workloads/phases.c): one magslab:workload_phase marker at every
# phase boundary, in order, and each phase's allocator events between its markers.
# WL_BIN: the magslab-workload binary (TRACE=1), built by the outer side.
t_workload_phases() {
	local seq n_idle n_burst
	[[ -x ${WL_BIN:-} ]] || fail "no magslab-workload binary (WL_BIN=${WL_BIN:-})"
	record_trace workload_phases --bin "$WL_BIN" -- phases --quiet --threads 2 \
		--schedule idle:200ms,burst:200ms,steady:200ms
	# Not check_clean: the program prints its summary line on stderr by design.
	(($(discarded_in "$R/bterr") == 0)) || fail "events discarded: $(head -n 1 "$R/bterr")"
	grep -q '"workload": "phases"' "$R/out" || fail "no JSON result on stdout"
	seq=$(grep -F ' magslab:workload_phase: ' "$R/text" |
		awk "$AWK_PARSE"'{ if (parse($0)) printf "%s/%s ", F["name"], F["index"] }')
	[[ $seq == "idle/0 burst/1 steady/2 end/3 " ]] ||
		fail "workload_phase markers (name/index): '$seq', expected 'idle/0 burst/1 steady/2 end/3 '"
	check "markers in order: $seq"
	read -r n_idle n_burst < <(awk "$AWK_PARSE"'
		{ if (!parse($0)) next
		  if (EV == "workload_phase") { cur = F["name"]; next }
		  if (cur == "idle") idle++
		  if (cur == "burst" && EV ~ /^depot_(exchange|miss)$/) burst++ }
		END { print idle + 0, burst + 0 }' "$R/text")
	((n_idle == 0)) || fail "$n_idle events between the idle and burst markers"
	((n_burst > 0)) || fail "no depot events between the burst and steady markers"
	check "no events during idle; $n_burst depot events during burst"
}

# ---- report plugin tests: begin (sink.magslab.report; helpers in tests/test_report_plugin.sh) --
# REPORT_PLUGDIR: the plugin directory, built by the outer side.

# report_of [PARAMS]: the sink on $R/trace, into $R/report (its stderr in $R/report.err).
report_of() {
	[[ -f ${REPORT_PLUGDIR:-}/babeltrace-plugin-magslab.so ]] ||
		fail "the report plugin was not built (REPORT_PLUGDIR=${REPORT_PLUGDIR:-})"
	"$ROOT/tests/test_report_plugin.sh" report "$R/trace" "$R/report" "${1:-}" ||
		fail "sink.magslab.report failed on the $T trace: $(grep -A1 'CAUSED BY' "$R/report.err" | tail -n 2 | tr -s ' \n' ' ')"
	echo "  report in $R/report: $(head -n 1 "$R/report/summary.txt")"
}

# Workloads recorded here (blocking mode: nothing lost), each against its own --json.
t_report_workloads() {
	local wl json
	[[ -x ${WL_BIN:-} ]] || fail "no magslab-workload binary (WL_BIN=${WL_BIN:-})"
	mkdir -p "$WORK/$T"
	for wl in "prodcons --threads 8 --threshold 1 --duration 200ms" \
		"phases --threads 2 --batch 256 --schedule idle:50ms,burst:100ms,steady:100ms,idle:50ms" \
		"large --threads 2 --live 20000 --duration 200ms"; do
		json=$WORK/$T/${wl%% *}.json
		# shellcheck disable=SC2086 # the workload's arguments
		record_trace "${wl%% *}" --bin "$WL_BIN" --blocking -- $wl --quiet --json "$json"
		(($(discarded_in "$R/bterr") == 0)) || fail "events discarded: $(head -n 1 "$R/bterr")"
		report_of 'bucket-ms=10'
		"$ROOT/tests/test_report_plugin.sh" compare "$R/report" "$json" ||
			fail "${wl%% *}: summary.json does not match the workload's JSON"
		check "${wl%% *}: summary.json = the workload's --json stats"
		"$ROOT/tests/test_report_plugin.sh" plots "$R/report" >/dev/null ||
			fail "${wl%% *}: a plot did not render (rerun tests/test_report_plugin.sh plots $R/report)"
		check "${wl%% *}: 5 plots rendered, PNG and SVG valid and not blank"
	done
	[[ $(jq -r '.caches[] | select(.name == "wl-large") | .hash.resizes' "$WORK/$T/large/report/summary.json") -gt 0 ]] ||
		fail "large: no hash resize in the report"
}


# The old event pair and the new event give the same figures: tests/data/report-oldpair is
# the `magazines` scenario recorded by the build before depot_exchange (commit a5df524: an
# exchange was depot_get + depot_put); the same deterministic scenario (one slot, one
# thread) recorded now has depot_exchange.  The reports of both agree on every figure of
# tr_mag that does not come from the new counters (the layer shares are exact only now).
t_report_oldnew() {
	local old=$WORK/$T/old fig a b
	record_trace oldnew -- magazines
	check_clean
	report_of
	[[ $(grep -c 'depot_exchange' "$R/text") -gt 0 ]] || fail "the new trace has no depot_exchange"
	cp -r "$ROOT/tests/data/report-oldpair" "$WORK/$T/oldtrace"
	"$ROOT/tests/test_report_plugin.sh" report "$WORK/$T/oldtrace" "$old" "" ||
		fail "sink.magslab.report failed on tests/data/report-oldpair"
	fig='[.caches[] | select(.name == "tr_mag")][0] | {depot, mag_swaps, magsize, bumps, slab,
		contention: .contention.count, pairs: ((.events.depot_get // .events.depot_exchange)),
		puts: ((.events.depot_put // .events.depot_exchange)), misses: .events.depot_miss}'
	a=$(jq -cS "$fig" "$old/summary.json")
	b=$(jq -cS "$fig" "$R/report/summary.json")
	[[ $a == "$b" ]] || fail "old pair: $a; new event: $b"
	jq -e '[.caches[] | select(.name == "tr_mag")][0].events.depot_get > 0' "$old/summary.json" \
		>/dev/null || fail "tests/data/report-oldpair has no depot_get"
	check "old pair and new event: the same figures of tr_mag: $b"
}
# Tiny sub-buffers: what the report says was lost = what babeltrace2 says.
t_report_discarded() {
	local d
	[[ -x ${WL_BIN:-} ]] || fail "no magslab-workload binary (WL_BIN=${WL_BIN:-})"
	record_trace tiny --bin "$WL_BIN" --subbuf 4096 --nsub 2 -- phases --quiet --threads 2 \
		--batch 256 --schedule idle:20ms,burst:50ms,steady:50ms,idle:20ms
	d=$(discarded_in "$R/bterr")
	((d > 0)) || fail "4 KiB x 2 sub-buffers: nothing discarded, nothing to check"
	report_of
	"$ROOT/tests/test_report_plugin.sh" discarded "$R/report" "$R/trace" ||
		fail "the report does not show the $d discarded events"
	check "$d events discarded: summary.txt first line, summary.json, shaded windows"
	"$ROOT/tests/test_report_plugin.sh" plots "$R/report" >/dev/null || fail "a plot did not render"
}

# TRACE=full: alloc events give exact layer shares.
t_report_full() {
	local id n l got
	[[ -x $BINFULL ]] || fail "no TRACE=full build of trace_scenarios ($BINFULL)"
	record_trace full --bin "$BINFULL" -- objects
	check_clean
	report_of
	id=$(id_of cache tr_objects)
	[[ $(jq -r .layers.mode "$R/report/summary.json") == exact ]] || fail "layers mode is not exact"
	n=$(count_events alloc cache="$id")
	got=$(jq -r ".caches[] | select(.id == $id) | .allocs" "$R/report/summary.json")
	[[ $got == "$n" ]] || fail "tr_objects: allocs $got in summary.json, $n alloc events"
	for l in pcc depot slab; do
		n=$(count_events alloc cache="$id" layer="$l")
		got=$(jq -r ".caches[] | select(.id == $id) | .allocs_by_layer.$l" "$R/report/summary.json")
		[[ $got == "$n" ]] || fail "tr_objects: allocs_by_layer.$l $got, $n alloc events with layer $l"
	done
	check "tr_objects: $(jq -c ".caches[] | select(.id == $id) | .allocs_by_layer" "$R/report/summary.json") = the alloc events by layer"
	# The default build's exact layers (the pcc counters of depot_exchange, depot_miss and
	# pcc_counters) must say what the alloc and free events say, layer by layer, once every
	# slot's last counters are in (the cache destroyed: "complete"); tr_objects is not
	# destroyed, so there only the depot and slab counts (events) must agree.
	got=$(jq -c ".caches[] | select(.id == $id) | [.pcc_counters.allocs_by_layer.depot,
		.pcc_counters.allocs_by_layer.slab, .pcc_counters.frees_by_layer.depot]" "$R/report/summary.json")
	n=$(jq -c ".caches[] | select(.id == $id) | [.allocs_by_layer.depot, .allocs_by_layer.slab,
		.frees_by_layer.depot]" "$R/report/summary.json")
	[[ $got == "$n" ]] || fail "tr_objects: the pcc counters say $got, the alloc/free events $n"
	record_trace full-counters --bin "$BINFULL" -- counters
	check_clean
	report_of
	id=$(id_of cache tr_counters)
	got=$(jq -c ".caches[] | select(.id == $id) | [.pcc_counters.allocs_by_layer,
		.pcc_counters.frees_by_layer.slab, .pcc_counters.frees, .pcc_counters.complete]" \
		"$R/report/summary.json")
	n=$(jq -c ".caches[] | select(.id == $id) | [.allocs_by_layer, .frees_by_layer.slab,
		.frees, true]" "$R/report/summary.json")
	[[ $got == "$n" ]] || fail "tr_counters: the pcc counters say $got, the alloc/free events $n"
	# Frees: an event's layer depot means "visited the depot" (a magsize adoption or a new
	# empty magazine sends the free back to the pcc without an exchange); the counters' depot
	# is "served by an exchange".  So events' depot - counters' depot is at most those visits.
	local dc de visits
	dc=$(jq ".caches[] | select(.id == $id) | .pcc_counters.frees_by_layer.depot" "$R/report/summary.json")
	de=$(jq ".caches[] | select(.id == $id) | .frees_by_layer.depot" "$R/report/summary.json")
	visits=$(($(count_events pcc_magsize cache="$id") + $(count_events depot_miss cache="$id" side=free)))
	((dc <= de && de - dc <= visits)) ||
		fail "tr_counters: frees by the depot: counters $dc, free events $de ($visits depot visits without an exchange)"
	check "tr_counters (6 threads, 4 slots, destroyed): allocs by layer, frees by the slab and in all = the events: $got; frees by the depot $dc (exchanges) vs $de (events, $visits visits without exchange)"
	grep -q 'exact, from magslab:alloc events' "$R/report/layers.gp" || fail "layers.gp does not say exact"
	"$ROOT/tests/test_report_plugin.sh" plots "$R/report" >/dev/null || fail "a plot did not render"
}
# ---- report plugin tests: end -------------------------------------------------------------------

outer_main() {
	local -a tests=()
	local t ok logdir statedir state work unshare_cmd=() bin1 binfull lib1 libfull rc

	while (($#)); do
		case $1 in
		-B) BUILD=${2:?}; shift 2 ;;
		-L) LOGDIR=${2:?}; shift 2 ;;
		-k) KEEP=1; shift ;;
		--list) printf '%s\n' "${ALL_TESTS[@]}"; exit 0 ;;
		-h | --help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
		-*) say "lttng-session: unknown option $1" >&2; exit 2 ;;
		*) tests+=("$1"); shift ;;
		esac
	done
	((${#tests[@]})) || tests=("${ALL_TESTS[@]}")
	for t in "${tests[@]}"; do
		ok=0
		for u in "${ALL_TESTS[@]}"; do [[ $u == "$t" ]] && ok=1; done
		((ok)) || { say "lttng-session: unknown test '$t' (have: ${ALL_TESTS[*]})" >&2; exit 2; }
	done
	logdir=${LOGDIR:-$BUILD/test-logs/lttng}
	mkdir -p "$logdir" || exit 2
	logdir=$(cd "$logdir" && pwd)
	mkdir -p "$BUILD" && BUILD=$(cd "$BUILD" && pwd)

	for t in lttng lttng-sessiond babeltrace2 unshare mount timeout; do
		if ! command -v "$t" >/dev/null; then
			say "lttng-test: SKIPPED: '$t' is not installed (make deps installs lttng-tools and babeltrace2)"
			exit 77
		fi
	done

	# Daemons left by a run that was killed before it could clean up.
	statedir=$BUILD/lttng/state
	mkdir -p "$statedir"
	for state in "$statedir"/*.daemons; do
		[[ -e $state ]] || continue
		t=$(basename "$state" .daemons)
		if [[ ! -e /proc/$t ]]; then
			say "lttng-session: cleaning up after run $t (pid gone): $(grep -v '^#' "$state" | tr '\n' ' ')" >&2
			stop_daemons "$state"
			work=$(sed -n 's/^# work //p' "$state")
			[[ $work == */magslab-lttng.* && -d $work ]] && rm -rf "$work"
			rm -f "$state"
		fi
	done
	state=$statedir/$$.daemons
	work=$(mktemp -d "${TMPDIR:-/tmp}/magslab-lttng.XXXXXX") || exit 2
	echo "# work $work" >"$state"
	# shellcheck disable=SC2064 # expand now
	trap "stop_daemons '$state'; rm -f '$state'; [[ $KEEP == 1 ]] || rm -rf '$work'" EXIT
	trap 'exit 130' INT TERM

	# Which namespace can we make?
	if unshare -m true 2>"$work/unshare.err"; then
		unshare_cmd=(unshare -m)
	elif unshare -r -m true 2>>"$work/unshare.err"; then
		unshare_cmd=(env LTTNG_TEST_USERNS=1 unshare -r -m)
	else
		say "lttng-test: SKIPPED: cannot create a private mount namespace for a private session daemon: $(tail -n 1 "$work/unshare.err")"
		exit 77
	fi

	# Builds.
	lib1=$BUILD
	[[ $TRACE == 1 ]] || lib1=$BUILD/lttng/trace1
	libfull=$BUILD/lttng/full
	[[ $TRACE == full ]] && libfull=$BUILD
	bin1=$BUILD/lttng/bin/trace_scenarios
	binfull=$BUILD/lttng/bin/trace_scenarios-full
	mkdir -p "$BUILD/lttng/bin"
	if ! build_lib "$lib1" 1 "$logdir/build-trace1.log" ||
		! build_prog "$lib1" "$bin1" "$logdir/build-trace1.log"; then
		say "lttng-test: FAIL build: the TRACE=1 library or tests/trace_scenarios.c did not build (see $logdir/build-trace1.log)"
		tail -n 20 "$logdir/build-trace1.log" | sed 's/^/    | /'
		exit 1
	fi
	# The workload program, for workload_phases (a failed build fails that test).
	"$MAKE" --no-print-directory workloads BUILD="$lib1" TRACE=1 \
		>>"$logdir/build-trace1.log" 2>&1
	export WL_BIN=$lib1/bin/magslab-workload
	# ---- report plugin: begin (the report_* tests; a failed build fails them) ----
	"$MAKE" --no-print-directory analysis-plugin BUILD="$lib1" >>"$logdir/build-trace1.log" 2>&1
	export REPORT_PLUGDIR=$lib1/lib/babeltrace2/plugins
	# ---- report plugin: end ----
	if [[ " ${tests[*]} " == *" trace_full "* || " ${tests[*]} " == *" report_full "* ]]; then
		if ! build_lib "$libfull" full "$logdir/build-full.log" ||
			! build_prog "$libfull" "$binfull" "$logdir/build-full.log"; then
			rm -f "$binfull"
			say "lttng-session: the TRACE=full build failed (see $logdir/build-full.log)" >&2
		fi
	fi

	"${unshare_cmd[@]}" -- "$ROOT/tests/lttng-session.sh" --inner "$state" "$work" "$logdir" \
		"$bin1" "$binfull" "${tests[@]}"
	rc=$?
	((KEEP)) && say "lttng-session: work files (traces, outputs) kept in $work" >&2
	exit $rc
}

# build_lib <build dir> <TRACE> <log>
build_lib() {
	local -a jobs=()
	[[ "${MAKEFLAGS:-}" == *jobserver* ]] || jobs=(-j"$(nproc 2>/dev/null || echo 2)")
	echo "+ $MAKE lib BUILD=$1 TRACE=$2" >"$3"
	"$MAKE" --no-print-directory "${jobs[@]}" lib BUILD="$1" TRACE="$2" >>"$3" 2>&1
}

# build_prog <build dir> <output> <log>: tests/trace_scenarios.c against that build's
# shared library (found at run time through its rpath).
build_prog() {
	local lib=$1/lib
	echo "+ $CC ... tests/trace_scenarios.c -L$lib -lmagslab -o $2" >>"$3"
	"$CC" -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -pthread -Ilib/include \
		tests/trace_scenarios.c -o "$2" -L"$lib" -Wl,-rpath,"$lib" -lmagslab >>"$3" 2>&1
}

if [[ ${1:-} == --inner ]]; then
	shift
	inner_main "$@"
else
	outer_main "$@"
fi
