#!/usr/bin/env bash
# tests/run-tests.sh — build and run the magslab test suites, count the results.
#
# Normally started by `make check` (or check-plain/-asan/-tsan/-other); it can also be
# run by hand from the repository root.  Environment:
#   CONFIGS   which configurations, in order (default "plain norseq locked asan
#             tsan other lttng")
#               plain  tests/test_*.c built with $CC (-O2 -g)
#               norseq the plain programs again with glibc's rseq registration
#                      off (GLIBC_TUNABLES=glibc.pthread.rseq=0): every cache
#                      must fall back to the locked pcc mode and say so
#               locked the plain programs again with MAGSLAB_PCC_MODE=locked
#               asan   same, with $SAN_CC -fsanitize=address,undefined
#               tsan   tests/test_*_mt.c with $SAN_CC -fsanitize=thread
#               other  shell-level checks (README example, clang -Werror build,
#                      TRACE=0 and TRACE=full builds)
#               lttng  tests under a real LTTng session daemon of their own
#                      (tests/lttng-session.sh; one test per scenario)
#   TESTS     test names to run (default: every tests/test_*.c)
#   BUILD     build directory (default build)
#   MAKE      make program (default make)
#   TEST_TIMEOUT        seconds per test program (default 300)
#   CHECK_SHOW_LINES    lines of a failing test's log to show (default 60)
#
# Each cmocka program is one suite; its passed/failed counts come from cmocka's
# summary ("[  PASSED  ] N test(s)." / "[  FAILED  ] N test(s), listed below:"),
# cross-checked against "[==========] Running N test(s).".  A program that dies
# before reporting every test it started, or exits non-zero with nothing counted as
# failed (a sanitizer report at exit, a crash, a timeout), gets the missing tests --
# at least one -- counted as failed.  A test that did not build counts as one failed.
# Every "other" check counts as one test.  The last line printed is always
#   TOTAL: <passed> passed, <failed> failed
# and the exit status is non-zero if anything failed or did not build.
#
# Logs: $BUILD/test-logs/<config>/<suite>.log, build logs $BUILD/test-logs/build-<config>.log.

set -uo pipefail

cd "$(dirname "$0")/.." || exit 2

CONFIGS=${CONFIGS:-plain norseq locked asan tsan other lttng}
BUILD=${BUILD:-build}
MAKE=${MAKE:-make}
CC=${CC:-gcc}
SAN_CC=${SAN_CC:-clang}
TEST_TIMEOUT=${TEST_TIMEOUT:-300}
CHECK_SHOW_LINES=${CHECK_SHOW_LINES:-60}
LOGS="$BUILD/test-logs"

if [[ -z "${TESTS:-}" ]]; then
	TESTS=""
	for f in tests/test_*.c; do
		[[ -e "$f" ]] && TESTS+=" $(basename "$f" .c)"
	done
fi
read -r -a TEST_LIST <<<"$TESTS"

# Build in parallel unless make already gave us a jobserver.
JOBS=()
if [[ "${MAKEFLAGS:-}" != *jobserver* ]]; then
	JOBS=(-j"$(nproc 2>/dev/null || echo 2)")
fi

# Sanitizer settings.  User-supplied options come last so that they win.
# LeakSanitizer is on.  It stops the process's threads with ptrace, so it fails
# when the tests themselves run under a tracer (gdb, strace, some CI sandboxes) or
# ptrace is forbidden (yama ptrace_scope 3, seccomp).  lsan_works() probes for that
# first; only if the probe fails do we run with detect_leaks=0, and say so.  (On
# the Debian 12 development machine it works.)
ASAN_OPTS="halt_on_error=1:abort_on_error=0:detect_stack_use_after_return=1"
ASAN_OPTS+=":check_initialization_order=1:strict_init_order=1:print_summary=1"
UBSAN_OPTS="print_stacktrace=1:halt_on_error=1"
LSAN_OPTS="print_suppressions=0"
TSAN_OPTS="halt_on_error=1:second_deadlock_stack=1"

total_pass=0
total_fail=0
failed_suites=()

mkdir -p "$LOGS"

say() { printf '%s\n' "$*"; }

# show_log <file>: the tail of a failing suite's log, and where the rest is.
show_log() {
	local log=$1
	say "    ---- last $CHECK_SHOW_LINES lines of $log ----"
	tail -n "$CHECK_SHOW_LINES" "$log" | sed 's/^/    | /'
	say "    ---- full log: $log ----"
}

# record <suite> <passed> <failed> [note]
record() {
	local suite=$1 p=$2 f=$3 note=${4:-}
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	say "suite $suite: $p passed, $f failed${note:+ ($note)}"
	((f > 0)) && failed_suites+=("$suite")
	return 0
}

# parse_cmocka <log> <exit status>: prints "<passed> <failed> <skipped> <note>".
parse_cmocka() {
	local log=$1 rc=$2
	awk -v rc="$rc" '
		# The count after "[ tag ] " (and after "Running ").
		function num(line) { sub(/^\[[^]]*\] (Running )?/, "", line); return line + 0 }
		/^\[==========\] Running [0-9]+ test/ { planned += num($0); groups++ }
		/^\[  PASSED  \] [0-9]+ test/          { passed += num($0) }
		/^\[  FAILED  \] [0-9]+ test/          { failed += num($0) }
		/^\[  SKIPPED \] [0-9]+ test/          { skipped += num($0) }
		/^\[       OK \] /                     { ok_lines++ }
		END {
			note = ""
			if (ok_lines > passed) passed = ok_lines  # a group that died after some OKs
			if (groups == 0) {
				note = "no cmocka output"
				failed = failed > 0 ? failed : 1
			} else if (passed + failed + skipped < planned) {
				missing = planned - passed - failed - skipped
				failed += missing
				note = missing " of " planned " tests not reported: crashed or killed"
			}
			if (rc != 0 && failed == 0) {
				failed = 1
				note = "exit status " rc " after all tests passed"
			}
			if (rc == 124) note = note (note == "" ? "" : "; ") "timed out"
			printf "%d %d %d %s\n", passed, failed, skipped, note
		}' "$log"
}

# run_suite <config> <binary> [env...]: run one cmocka program and count it.
run_suite() {
	local cfg=$1 bin=$2; shift 2
	local name log rc res p f s note start
	name=$(basename "$bin")
	log="$LOGS/$cfg/$name.log"
	mkdir -p "$LOGS/$cfg"
	if [[ ! -x "$bin" ]]; then
		record "$cfg/$name" 0 1 "not built, see $LOGS/build-$cfg.log"
		return
	fi
	start=$SECONDS
	env CMOCKA_MESSAGE_OUTPUT=STDOUT "$@" \
		timeout --foreground -k 10 "$TEST_TIMEOUT" stdbuf -oL -eL "$bin" >"$log" 2>&1 </dev/null
	rc=$?
	# TSan needs a memory layout that high-entropy ASLR (vm.mmap_rnd_bits > 28 on
	# newer kernels) can break; retry once with randomisation off.
	if [[ $cfg == tsan ]] && grep -q 'ThreadSanitizer: unexpected memory mapping' "$log"; then
		say "  (tsan: unexpected memory mapping; rerunning $name with setarch -R)"
		env CMOCKA_MESSAGE_OUTPUT=STDOUT "$@" \
			timeout --foreground -k 10 "$TEST_TIMEOUT" setarch "$(uname -m)" -R \
			stdbuf -oL -eL "$bin" >"$log" 2>&1 </dev/null
		rc=$?
	fi
	res=$(parse_cmocka "$log" "$rc")
	echo "# run-tests: $bin exited with status $rc after $((SECONDS - start)) s" >>"$log"
	read -r p f s note <<<"$res"
	((s > 0)) && note="${note:+$note; }$s skipped"
	record "$cfg/$name" "$p" "$f" "$note"
	((f > 0)) && show_log "$log"
	return 0
}

# build_config <config> <make targets...>: build, log, and count a failed build as
# one failed suite "<config>/build" (the test programs that did not build are then
# counted one by one as well).
build_config() {
	local cfg=$1 blog="$LOGS/build-$1.log"
	shift
	say "== $cfg: building $* ($blog)"
	if ! "$MAKE" --no-print-directory -k "${JOBS[@]}" "$@" BUILD="$BUILD" \
		TESTS="${TEST_LIST[*]}" >"$blog" 2>&1; then
		record "$cfg/build" 0 1 "make $* failed"
		grep -E -A2 'error|Error|warning|undefined reference|multiple definition' "$blog" |
			head -n 40 | sed 's/^/    | /'
		say "    ---- full build log: $blog ----"
		return 1
	fi
	return 0
}


# lsan_works: can LeakSanitizer find a deliberate leak here?
lsan_works() {
	local dir="$BUILD/lsan-probe" log="$LOGS/lsan-probe.log"
	mkdir -p "$dir"
	printf '%s\n' '#include <stdlib.h>' \
		'void *volatile keep;' \
		'int main(void) { keep = malloc(33); keep = 0; return 0; }' >"$dir/probe.c"
	{
		"$SAN_CC" -fsanitize=address -g "$dir/probe.c" -o "$dir/probe" &&
			ASAN_OPTIONS=detect_leaks=1 "$dir/probe"
	} >"$log" 2>&1 </dev/null
	grep -q 'ERROR: LeakSanitizer: detected memory leaks' "$log"
}

run_config() {
	local cfg=$1 dir t
	local -a list=()
	case $cfg in
	plain | norseq | locked) dir="$BUILD/tests" ;;
	asan) dir="$BUILD/asan/tests" ;;
	tsan) dir="$BUILD/tsan/tests" ;;
	esac
	for t in "${TEST_LIST[@]}"; do
		[[ $cfg == tsan && $t != *_mt ]] && continue
		list+=("$t")
	done
	if ((${#list[@]} == 0)); then
		say "== $cfg: no tests selected"
		return
	fi
	rm -rf "${LOGS:?}/$cfg"
	# Relink every test binary, so that one left over from an earlier build is
	# never run in place of one that no longer builds (objects are kept).
	for t in "${list[@]}"; do rm -f "$dir/$t"; done
	if [[ $cfg == plain || $cfg == norseq || $cfg == locked ]]; then
		build_config "$cfg" lib tests-plain
	else
		build_config "$cfg" "tests-$cfg"
	fi
	if [[ $cfg == asan ]]; then
		if lsan_works; then
			say "== asan: LeakSanitizer works: detect_leaks=1"
			ASAN_OPTS="detect_leaks=1:$ASAN_OPTS"
		else
			say "== asan: LeakSanitizer does not work here (see $LOGS/lsan-probe.log):" \
				"running with detect_leaks=0"
			ASAN_OPTS="detect_leaks=0:$ASAN_OPTS"
		fi
	fi
	say "== $cfg: running ${#list[@]} suite(s)"
	for t in "${list[@]}"; do
		case $cfg in
		plain) run_suite plain "$dir/$t" ;;
		# The tests compare the pcc mode each cache reports with
		# MAGSLAB_EXPECT_PCC_MODE (slab_test_util.h).
		norseq) run_suite norseq "$dir/$t" GLIBC_TUNABLES=glibc.pthread.rseq=0 \
			MAGSLAB_EXPECT_PCC_MODE=locked ;;
		locked) run_suite locked "$dir/$t" MAGSLAB_PCC_MODE=locked \
			MAGSLAB_EXPECT_PCC_MODE=locked ;;
		asan) run_suite asan "$dir/$t" \
			ASAN_OPTIONS="$ASAN_OPTS${ASAN_OPTIONS:+:$ASAN_OPTIONS}" \
			UBSAN_OPTIONS="$UBSAN_OPTS${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}" \
			LSAN_OPTIONS="$LSAN_OPTS${LSAN_OPTIONS:+:$LSAN_OPTIONS}" ;;
		tsan) run_suite tsan "$dir/$t" \
			TSAN_OPTIONS="$TSAN_OPTS${TSAN_OPTIONS:+:$TSAN_OPTIONS}" ;;
		esac
	done
}

# ---------------------------------------------------------------------------
# "other": shell-level checks, one test each.

# other_check <name> <function>: runs the function with its output in the log.
other_check() {
	local name=$1 fn=$2 log="$LOGS/other/$1.log" rc
	mkdir -p "$LOGS/other"
	# Not inside `if` or `||`: bash ignores `set -e` in a condition, down into
	# subshells, and a check that relies on it would pass on its last command.
	("$fn") >"$log" 2>&1 </dev/null
	rc=$?
	if ((rc == 0)); then
		record "other/$name" 1 0
	else
		record "other/$name" 0 1
		show_log "$log"
	fi
}

# Every ```c block of README.md is a whole program: each is compiled against
# the *installed* library through pkg-config and must run with exit status 0.
check_readme_example() {
	set -e
	local dir="$BUILD/readme-example" prefix n flags
	rm -rf "$dir"
	mkdir -p "$dir"
	prefix=$(cd "$dir" && pwd)/prefix
	awk -v dir="$dir" '
	     /^```c[[:space:]]*$/ { inblock = 1; n++; next }
	     inblock && /^```/ { inblock = 0; next }
	     inblock { print > (dir "/example" n ".c") }
	     END { if (!n) exit 1 }' README.md ||
		{ echo "README.md has no \`\`\`c block"; return 1; }
	n=$(find "$dir" -name 'example*.c' | wc -l)
	echo "extracted $n C examples from README.md"
	"$MAKE" --no-print-directory "${JOBS[@]}" install PREFIX="$prefix" BUILD="$BUILD"
	flags=$(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs magslab)
	echo "pkg-config --cflags --libs magslab: $flags"
	for ((i = 1; i <= n; i++)); do
		echo "+ $CC -std=c11 -Wall -Wextra -Werror $dir/example$i.c $flags -pthread -o $dir/example$i"
		# shellcheck disable=SC2086 # $flags is a list of words
		"$CC" -std=c11 -Wall -Wextra -Werror "$dir/example$i.c" $flags -pthread -o "$dir/example$i"
		echo "+ $dir/example$i"
		LD_LIBRARY_PATH="$prefix/lib" "$dir/example$i"
		echo "example$i: exit status 0"
	done
}

# The library must also build warning-free with clang (-Werror is always on).
check_clang_build() {
	set -e
	local dir="$BUILD/clang-build"
	"$MAKE" --no-print-directory "${JOBS[@]}" lib CC=clang BUILD="$dir"
}

# ---- TRACE checks: begin (the tracing build modes; see TRACE in the Makefile) ----------
# Every step below checks its own status: other_check runs the check inside an `if`,
# where bash ignores `set -e`.

# trace_fail <message>: say why a TRACE check failed, and fail.
trace_fail() {
	echo "FAIL: $*"
	return 1
}

# `make TRACE=0` must give a library with no LTTng in it at all: no liblttng NEEDED,
# no lttng symbol in libmagslab.so's dynamic symbol table nor in libmagslab.a, no
# -llttng-ust in magslab.pc; and every ```c block of README.md must build against
# that install through pkg-config (shared, and static with --static), run, and load
# no liblttng.
check_trace0_build() {
	local dir="$BUILD/trace0" prefix so pc n i bin word out
	local -a flags sflags args
	rm -rf "$dir"
	mkdir -p "$dir" || return 1
	prefix=$(cd "$dir" && pwd)/prefix
	"$MAKE" --no-print-directory "${JOBS[@]}" install TRACE=0 BUILD="$dir" \
		PREFIX="$prefix" || trace_fail "make install TRACE=0 failed" || return 1
	so="$prefix/lib/libmagslab.so"
	pc="$prefix/lib/pkgconfig/magslab.pc"
	echo "+ readelf -d $so | grep NEEDED"
	out=$(readelf -d "$so") || trace_fail "readelf -d $so failed" || return 1
	grep NEEDED <<<"$out"
	if grep NEEDED <<<"$out" | grep -i lttng; then
		trace_fail "TRACE=0 libmagslab.so needs liblttng"
		return 1
	fi
	echo "+ nm -D $so | grep -i lttng"
	out=$(nm -D "$so") || trace_fail "nm -D $so failed" || return 1
	if grep -i lttng <<<"$out"; then
		trace_fail "TRACE=0 libmagslab.so has lttng symbols"
		return 1
	fi
	echo "+ nm $prefix/lib/libmagslab.a | grep -i lttng"
	out=$(nm "$prefix/lib/libmagslab.a") || trace_fail "nm libmagslab.a failed" || return 1
	if grep -i lttng <<<"$out"; then
		trace_fail "TRACE=0 libmagslab.a has lttng symbols"
		return 1
	fi
	echo "+ grep -v '^#' $pc | grep -i lttng"
	if grep -v '^#' "$pc" | grep -i lttng; then
		trace_fail "TRACE=0 magslab.pc names lttng"
		return 1
	fi
	awk -v dir="$dir" '
	     /^```c[[:space:]]*$/ { inblock = 1; n++; next }
	     inblock && /^```/ { inblock = 0; next }
	     inblock { print > (dir "/example" n ".c") }
	     END { if (!n) exit 1 }' README.md ||
		trace_fail "README.md has no \`\`\`c block" || return 1
	n=$(find "$dir" -maxdepth 1 -name 'example*.c' | wc -l)
	out=$(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" pkg-config --cflags --libs magslab) ||
		trace_fail "pkg-config --cflags --libs magslab failed" || return 1
	read -r -a flags <<<"$out"
	# Static: the --static flags, with the archive itself in place of -lmagslab.
	out=$(PKG_CONFIG_PATH="$prefix/lib/pkgconfig" \
		pkg-config --static --cflags --libs magslab) ||
		trace_fail "pkg-config --static --cflags --libs magslab failed" || return 1
	sflags=()
	for word in $out; do
		[[ $word == -lmagslab ]] && word="$prefix/lib/libmagslab.a"
		sflags+=("$word")
	done
	for ((i = 1; i <= n; i++)); do
		for bin in "example$i" "example$i-static"; do
			if [[ $bin == *-static ]]; then
				args=("${sflags[@]}")
			else
				args=("${flags[@]}")
			fi
			echo "+ $CC -std=c11 -Wall -Wextra -Werror $dir/example$i.c ${args[*]} -pthread -o $dir/$bin"
			"$CC" -std=c11 -Wall -Wextra -Werror "$dir/example$i.c" "${args[@]}" \
				-pthread -o "$dir/$bin" || trace_fail "$bin did not build" || return 1
			out=$(LD_LIBRARY_PATH="$prefix/lib" ldd "$dir/$bin") ||
				trace_fail "ldd $bin failed" || return 1
			if grep -i lttng <<<"$out"; then
				trace_fail "$bin loads liblttng"
				return 1
			fi
			LD_LIBRARY_PATH="$prefix/lib" "$dir/$bin" >"$dir/$bin.out" ||
				trace_fail "$bin exited with status $?" || return 1
			echo "$bin: exit status 0, no liblttng loaded"
		done
	done
}

# `make TRACE=full` (the per-object alloc/free events too) must build the library and
# the test programs warning-free (-Werror is always on; the log is also searched for
# linker warnings) with gcc and with clang, and those events must be in the library.
check_trace_full_build() {
	local cc dir log sym out
	for cc in gcc clang; do
		dir="$BUILD/trace-full-$cc"
		log="$dir.log"
		rm -rf "$dir"
		echo "+ $MAKE lib tests-plain TRACE=full CC=$cc BUILD=$dir"
		"$MAKE" --no-print-directory "${JOBS[@]}" lib tests-plain TRACE=full \
			CC="$cc" BUILD="$dir" >"$log" 2>&1
		local rc=$?
		cat "$log"
		((rc == 0)) || trace_fail "make TRACE=full CC=$cc failed" || return 1
		if grep -i 'warning' "$log"; then
			trace_fail "TRACE=full $cc build printed warnings"
			return 1
		fi
		out=$(nm "$dir/lib/libmagslab.a") || trace_fail "nm libmagslab.a failed" || return 1
		for sym in alloc free workload_phase; do
			grep -q " [DdBb] lttng_ust_tracepoint_magslab___$sym\$" <<<"$out" ||
				trace_fail "TRACE=full $cc: no magslab:$sym tracepoint" || return 1
		done
		out=$(readelf -d "$dir/lib/libmagslab.so") || trace_fail "readelf failed" || return 1
		grep NEEDED <<<"$out" | grep -c 'liblttng-ust\.so' >/dev/null ||
			trace_fail "TRACE=full $cc: libmagslab.so does not need liblttng-ust" ||
			return 1
		echo "TRACE=full $cc: built warning-free; alloc, free, workload_phase present"
	done
}
# ---- TRACE checks: end ------------------------------------------------------------

# ---- replay checks: begin (tests/test_replay.sh: magslab-workload replay) ----------------
check_replay_csv() { BUILD="$BUILD" MAKE="$MAKE" tests/test_replay.sh csv; }
check_replay_ctf() { BUILD="$BUILD" MAKE="$MAKE" tests/test_replay.sh ctf; }
check_replay_errors() { BUILD="$BUILD" MAKE="$MAKE" tests/test_replay.sh errors; }
# ---- replay checks: end ------------------------------------------------------------------

# ---- workload checks: begin (tests/test_workloads.sh: magslab-workload) ------------------
# One check per test of tests/test_workloads.sh (--list), named workload-NAME.
check_workload() { BUILD="$BUILD" MAKE="$MAKE" CC="$CC" tests/test_workloads.sh "$WL_TEST"; }
run_workload_checks() {
	local WL_TEST
	for WL_TEST in $(tests/test_workloads.sh --list); do
		other_check "workload-$WL_TEST" check_workload
	done
}
# ---- workload checks: end ----------------------------------------------------------------

# ---- report front end checks: begin (tests/test_report_frontend.sh: magslab report) -------
# One check per test of tests/test_report_frontend.sh (--list), named report-NAME.
check_report_frontend() { BUILD="$BUILD" MAKE="$MAKE" CC="$CC" tests/test_report_frontend.sh "$RF_TEST"; }
run_report_frontend_checks() {
	local RF_TEST
	for RF_TEST in $(tests/test_report_frontend.sh --list); do
		other_check "report-$RF_TEST" check_report_frontend
	done
}
# ---- report front end checks: end ---------------------------------------------------------

# ---- listed checks: begin (a script with --list: one check per test) ------------------------
# run_listed_checks PREFIX SCRIPT: one check per test of SCRIPT (SCRIPT --list), named
# PREFIX-NAME, each `SCRIPT NAME` with BUILD, MAKE and CC.
check_listed() { BUILD="$BUILD" MAKE="$MAKE" CC="$CC" "$LISTED_SCRIPT" "$LISTED_TEST"; }
run_listed_checks() {
	local LISTED_SCRIPT=$2 LISTED_TEST
	for LISTED_TEST in $("$LISTED_SCRIPT" --list); do
		other_check "$1-$LISTED_TEST" check_listed
	done
}
# ---- listed checks: end ----------------------------------------------------------------------

# ---- report plugin checks (tests/test_report_plugin.sh: sink.magslab.report): plugin-NAME ---
run_report_plugin_checks() { run_listed_checks plugin tests/test_report_plugin.sh; }

# ---- damaged trace checks (tests/test_trace_damage.sh: fuzz, watchdog, sanity): damage-NAME -
run_trace_damage_checks() { run_listed_checks damage tests/test_trace_damage.sh; }

# ---- byte-identical reports (tests/test_report_identical.sh): identical-NAME -----------------
run_report_identical_checks() { run_listed_checks identical tests/test_report_identical.sh; }

# ---- malloc shim checks (tests/test_malloc_programs.sh: real programs on it): malloc-NAME --
run_malloc_checks() { run_listed_checks malloc tests/test_malloc_programs.sh; }

# ---- front end subcommand checks: begin (tests/test_{record,run,live,tune}.sh) ---------
# One check per test of each script (--list), named SUBCOMMAND-NAME.  A script that is
# missing is a failure, not a skip.
check_frontend_cmd() { BUILD="$BUILD" MAKE="$MAKE" CC="$CC" "tests/test_$FE_CMD.sh" "$FE_TEST"; }
missing_frontend_script() { echo "tests/test_$FE_CMD.sh is missing"; return 1; }
run_frontend_cmd_checks() {
	local FE_CMD FE_TEST
	for FE_CMD in record run live tune; do
		if [[ ! -x tests/test_$FE_CMD.sh ]]; then
			other_check "$FE_CMD-script" missing_frontend_script
			continue
		fi
		for FE_TEST in $("tests/test_$FE_CMD.sh" --list); do
			other_check "$FE_CMD-$FE_TEST" check_frontend_cmd
		done
	done
}
# ---- front end subcommand checks: end -----------------------------------------------------

run_other() {
	rm -rf "${LOGS:?}/other"
	say "== other: shell-level checks"
	other_check readme-example check_readme_example
	other_check clang-build check_clang_build
	other_check trace0-build check_trace0_build            # TRACE
	other_check trace-full-build check_trace_full_build    # TRACE
	other_check replay-csv check_replay_csv                # replay
	other_check replay-ctf check_replay_ctf                # replay
	other_check replay-errors check_replay_errors          # replay
	run_workload_checks                                    # workloads
	run_report_frontend_checks                             # report front end
	run_report_plugin_checks                               # report plugin
	run_trace_damage_checks                                # damaged traces
	run_report_identical_checks                            # reports byte-identical
	run_listed_checks views tests/test_report_views.sh      # browser, trace.json, magslab diff
	run_malloc_checks                                      # malloc shim
	run_frontend_cmd_checks                                # record, run, live, tune
}

# ---- lttng: begin (tests/lttng-session.sh: tests under a real LTTng session) -------------
# Configuration "lttng": tests/lttng-session.sh starts its own session daemon in a private
# mount namespace (see its header), runs every scenario under its own session, cleans up,
# and prints one line per test:
#   lttng-test: PASS NAME (N s) | lttng-test: FAIL NAME: REASON | lttng-test: SKIPPED: REASON
# Each PASS/FAIL counts as one test (lttng/NAME).  SKIPPED (no mount namespace can be made,
# lttng-tools missing) is printed as such and counts nothing: 0 passed, 0 failed.  Anything
# else (no result lines, an unexpected exit status, a timeout) counts as one failure.
# LTTNG_TESTS picks a subset (tests/lttng-session.sh --list); LTTNG_TIMEOUT bounds the
# whole configuration (default 900 s).
run_lttng() {
	local dir="$LOGS/lttng" log rc line name reason results=0 fails=0
	log=$dir/harness.log
	rm -rf "${LOGS:?}/lttng"
	mkdir -p "$dir"
	say "== lttng: tests under a private LTTng session daemon (tests/lttng-session.sh, $log)"
	# shellcheck disable=SC2086 # LTTNG_TESTS is a list of names
	MAKE="$MAKE" CC="$CC" TRACE="${TRACE:-1}" \
		timeout -k 10 "${LTTNG_TIMEOUT:-900}" tests/lttng-session.sh -B "$BUILD" -L "$dir" \
		${LTTNG_TESTS:-} >"$log" 2>&1 </dev/null
	rc=$?
	while IFS= read -r line; do
		case $line in
		"lttng-test: PASS "*)
			name=${line#lttng-test: PASS }
			reason=${name#* }
			reason=${reason#(}
			record "lttng/${name%% *}" 1 0 "${reason%)}"
			results=$((results + 1))
			;;
		"lttng-test: FAIL "*)
			line=${line#lttng-test: FAIL }
			name=${line%%:*}
			reason=${line#*: }
			record "lttng/$name" 0 1 "$reason"
			[[ -f $dir/$name.log ]] && show_log "$dir/$name.log"
			results=$((results + 1))
			fails=$((fails + 1))
			;;
		"lttng-test: SKIPPED"*)
			say "== lttng: SKIPPED -- ${line#lttng-test: SKIPPED: } (counted: 0 passed, 0 failed)"
			results=$((results + 1))
			;;
		esac
	done <"$log"
	if ((results == 0)) || { ((rc != 0 && rc != 77)) && ((fails == 0)); }; then
		record "lttng/harness" 0 1 "tests/lttng-session.sh exit status $rc$( ((rc == 124)) && echo ': timed out')"
		show_log "$log"
	fi
	return 0
}
# ---- lttng: end ----------------------------------------------------------------------------

for cfg in $CONFIGS; do
	case $cfg in
	plain | norseq | locked | asan | tsan) run_config "$cfg" ;;
	other) run_other ;;
	lttng) run_lttng ;;                                    # lttng
	*)
		say "run-tests: unknown configuration '$cfg'"
		record "config/$cfg" 0 1 "unknown configuration"
		;;
	esac
done

if ((${#failed_suites[@]})); then
	say "FAILED: ${failed_suites[*]}"
fi
say "TOTAL: $total_pass passed, $total_fail failed"
((total_fail == 0))
