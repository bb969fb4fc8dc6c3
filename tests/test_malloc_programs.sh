#!/usr/bin/env bash
# tests/test_malloc_programs.sh — real programs on the malloc shim
# (LD_PRELOAD=$BUILD/lib/libmagslab-malloc.so), each run as a check of its own.
#
#   tests/test_malloc_programs.sh --list     the test names
#   tests/test_malloc_programs.sh [NAME]...  run them (default: all)
#
# Tests:
#   python   /usr/bin/python3 (PYTHONMALLOC=malloc, so every object comes from malloc)
#            builds a 200,000-entry dict, sorts it, round-trips it through json
#   sqlite   sqlite3 creates 100,000 rows, two indexes, and queries them
#   gcc      gcc -O2 -c of a generated 5,000-function C file (the object file)
#   sort     sort of 1,000,000 generated lines
#            Each: the output with the shim, and again with MAGSLAB_DEBUG=1, is
#            byte-identical to the output without it; exit status 0 every time.
#   bad-input  a program that frees a stack address, a pointer inside a block, a large
#            block twice, reallocs a stack address: each aborts (SIGABRT) with one line
#            naming the address; with MAGSLAB_DEBUG=1 a double free and a write after
#            free abort with magslab's line naming the size class (cache 'malloc-96')
#   fork     a program whose 4 threads malloc/free while the main thread forks 500 times;
#            every child mallocs, frees and exits 0; the whole run within 120 s
#   startup  magslab's environment variables reach the classes although the shim starts
#            before main (MAGSLAB_POLICY=uma shows in the stats of every malloc-* cache);
#            a program whose constructor mallocs before anything else runs
#   stats    MAGSLAB_MALLOC_STATS=FILE and MAGSLAB_MALLOC_STATS_JSON=FILE (with %p):
#            the table and the JSON (valid, jq) name the malloc-* caches with their counts
#   install  make install PREFIX=...: the installed shim runs sort with identical output
#
# Environment: BUILD (default build), MAKE (default make), CC (default gcc), KEEP=1 keeps
# the work directories ($BUILD/malloc-programs/NAME).  The last line is
# "test_malloc_programs: N passed, N failed"; the exit status is 0 only if all passed.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
BUILD=${BUILD:-build}
MAKE=${MAKE:-make}
CC=${CC:-gcc}
PY=/usr/bin/python3                     # Debian's, not whatever is first on PATH
TESTS_ALL=(python sqlite gcc sort bad-input fork startup stats install)
SHIM=$ROOT/$BUILD/lib/libmagslab-malloc.so

say() { printf '%s\n' "$*"; }
fail() { say "FAIL: $*"; return 1; }

# The inputs (shared with bench/run-programs.sh): gen_python, gen_sql, gen_c, gen_lines.
# shellcheck source=tests/malloc_inputs.sh
source "$ROOT/tests/malloc_inputs.sh"

# ---------------------------------------------------------------------------
# Helpers

# workdir NAME: a fresh work directory for the test.
workdir() {
	local d=$ROOT/$BUILD/malloc-programs/$1
	rm -rf "$d"
	mkdir -p "$d"
	echo "$d"
}

# same_output DIR NAME CMD...: CMD's stdout without the shim, with it, and with it under
# MAGSLAB_DEBUG=1 must be identical (exit status 0 each time).
same_output() {
	local dir=$1 name=$2 rc mode
	shift 2
	say "+ $*"
	"$@" >"$dir/$name.glibc" 2>"$dir/$name.glibc.err" || fail "$name exited $? without the shim" || return 1
	for mode in shim debug; do
		if [[ $mode == debug ]]; then
			env LD_PRELOAD="$SHIM" MAGSLAB_DEBUG=1 "$@" >"$dir/$name.$mode" 2>"$dir/$name.$mode.err"
		else
			env LD_PRELOAD="$SHIM" "$@" >"$dir/$name.$mode" 2>"$dir/$name.$mode.err"
		fi
		rc=$?
		((rc == 0)) || { cat "$dir/$name.$mode.err"; fail "$name ($mode) exited $rc"; return 1; }
		cmp "$dir/$name.glibc" "$dir/$name.$mode" ||
			fail "$name ($mode): output differs from the run without the shim" || return 1
		say "$name ($mode): $(wc -c <"$dir/$name.$mode") bytes, identical"
	done
}

# c_program TEST NAME [FLAGS...]: a fresh work directory for TEST with src_NAME's program
# built in it as NAME (default flags: warnings are errors); prints the directory.
c_program() {
	local d name=$2
	d=$(workdir "$1")
	shift 2
	(($#)) || set -- -O1 -Wall -Wextra -Werror
	"src_$name" "$d/$name.c"
	"$CC" -std=gnu11 -g -pthread "$@" "$d/$name.c" -o "$d/$name" >&2 ||
		{ fail "cannot build $d/$name.c" >&2; return 1; }
	echo "$d"
}

# ---------------------------------------------------------------------------
# The tests

t_python() {
	local d; d=$(workdir python)
	gen_python "$d/prog.py" 200000
	same_output "$d" python env PYTHONMALLOC=malloc "$PY" "$d/prog.py"
}

t_sqlite() {
	local d; d=$(workdir sqlite)
	gen_sql "$d/prog.sql" 100000
	same_output "$d" sqlite sqlite3 -batch :memory: -init /dev/null ".read $d/prog.sql"
}

t_gcc() {
	local d; d=$(workdir gcc)
	gen_c "$d/gen.c" 5000 || return 1
	same_output "$d" gcc sh -c "gcc -O2 -c '$d/gen.c' -o - | od -An -tx1"
}

t_sort() {
	local d; d=$(workdir sort)
	gen_lines "$d/lines.txt" 1000000
	same_output "$d" sort env LC_ALL=C sort "$d/lines.txt"
}

src_bad() {
	cat >"$1" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv)
{
	char *p = malloc(90), *q, local;
	if (argc < 2)
		return 2;
	switch (argv[1][0]) {
	case 's': printf("%p\n", (void *)&local); fflush(stdout); free(&local); break;
	case 'i': printf("%p\n", (void *)(p + 16)); fflush(stdout); free(p + 16); break;
	case 'L': q = malloc(100000); printf("%p\n", (void *)q); fflush(stdout);
		free(q); free(q); break;
	case 'r': printf("%p\n", (void *)&local); fflush(stdout);
		q = realloc(&local, 10); break;
	case 'd': printf("%p\n", (void *)p); fflush(stdout); free(p); free(p); break;
	case 'w': printf("%p\n", (void *)p); fflush(stdout); free(p); p[10] = 1;
		for (int i = 0; i < 100; i++)
			q = malloc(90);
		break;
	}
	(void)q;
	puts("survived");
	return 0;
}
EOF
}

# bad_case BIN MODE DEBUG WANT: BIN MODE under the shim must die of SIGABRT after one
# line on stderr that contains WANT and the address BIN printed.
bad_case() {
	local bin=$1 mode=$2 debug=$3 want=$4 out err rc addr
	out=$(mktemp) err=$(mktemp)
	env LD_PRELOAD="$SHIM" MAGSLAB_DEBUG="$debug" "$bin" "$mode" >"$out" 2>"$err"
	rc=$?
	addr=$(head -n 1 "$out")
	say "case $mode (MAGSLAB_DEBUG=$debug): exit $rc, stderr: $(cat "$err")"
	((rc == 134)) || { fail "case $mode: exit status $rc, not 134 (SIGABRT)"; return 1; }
	(($(wc -l <"$err") == 1)) || { fail "case $mode: not exactly one line on stderr"; return 1; }
	grep -qF -- "$want" "$err" || { fail "case $mode: no '$want'"; return 1; }
	grep -qF -- "$addr" "$err" || { fail "case $mode: address $addr not named"; return 1; }
	rm -f "$out" "$err"
}

t_bad_input() {
	local d
	# Its errors are the point: no warnings, no optimiser reasoning about them.
	d=$(c_program bad-input bad -O0 -w -fno-builtin) || return 1
	bad_case "$d/bad" s 0 "free(): invalid pointer" &&
	bad_case "$d/bad" i 0 "inside a block of malloc-96, not its start" &&
	bad_case "$d/bad" L 0 "free(): double free of" &&
	bad_case "$d/bad" r 0 "realloc(): invalid pointer" &&
	bad_case "$d/bad" s 1 "free(): invalid pointer" &&
	bad_case "$d/bad" d 1 "cache 'malloc-96': free of" &&
	bad_case "$d/bad" d 1 "double free" &&
	bad_case "$d/bad" w 1 "cache 'malloc-96': object" &&
	bad_case "$d/bad" w 1 "modified after free"
}

src_fork() {
	cat >"$1" <<'EOF'
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
static atomic_bool stop;
static void *churn(void *arg)
{
	unsigned int seed = (unsigned int)(size_t)arg;
	void *keep[16] = { 0 };
	while (!atomic_load(&stop)) {
		seed = seed * 1103515245u + 12345u;
		size_t n = (seed >> 8) % 5000 + (seed % 7 == 0 ? 100000 : 1);
		free(keep[seed % 16]);
		keep[seed % 16] = malloc(n);
		memset(keep[seed % 16], 1, n < 64 ? n : 64);
	}
	for (int i = 0; i < 16; i++)
		free(keep[i]);
	return NULL;
}
int main(void)
{
	pthread_t t[4];
	for (long i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, churn, (void *)i);
	for (int i = 0; i < 500; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			for (int j = 0; j < 100; j++)
				free(malloc((size_t)j * 97 + 1));
			char *s = strdup("child");
			free(s);
			_exit(0);
		}
		int status;
		if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0) {
			fprintf(stderr, "fork %d: child failed\n", i);
			return 1;
		}
	}
	atomic_store(&stop, 1);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	puts("500 forks");
	return 0;
}
EOF
}

t_fork() {
	local d rc
	d=$(c_program fork fork) || return 1
	say "+ LD_PRELOAD=$SHIM timeout 120 $d/fork"
	env LD_PRELOAD="$SHIM" timeout -k 5 120 "$d/fork"
	rc=$?
	((rc == 0)) || fail "exit status $rc (124: a child or the parent hung)"
}

src_ctor() {
	cat >"$1" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static char *early;
__attribute__((constructor)) static void first(void)
{
	early = strdup("allocated in a constructor");
}
int main(void)
{
	puts(early);
	free(early);
	return 0;
}
EOF
}

t_startup() {
	local d out
	d=$(c_program startup ctor) || return 1
	out=$(env LD_PRELOAD="$SHIM" "$d/ctor") || { fail "ctor exited $?"; return 1; }
	[[ $out == "allocated in a constructor" ]] || { fail "ctor printed '$out'"; return 1; }
	env LD_PRELOAD="$SHIM" MAGSLAB_POLICY=uma MAGSLAB_MALLOC_STATS_JSON="$d/s.json" \
		/bin/true || { fail "true exited $?"; return 1; }
	jq -e '[.caches[] | select(.name | test("^malloc-[0-9]+$"))] |
	       length == 72 and all(.policy == "uma")' "$d/s.json" >/dev/null ||
		{ fail "not 72 malloc-* caches, all with policy uma"; return 1; }
	say "72 malloc-* caches, policy uma from the environment"
}

t_stats() {
	local d pid_json; d=$(workdir stats)
	env LD_PRELOAD="$SHIM" MAGSLAB_MALLOC_STATS="$d/table-%p.txt" \
		MAGSLAB_MALLOC_STATS_JSON="$d/stats-%p.json" \
		sh -c 'echo "$$" > '"$d"'/pid; exec sort /etc/passwd > /dev/null' ||
		{ fail "sort exited $?"; return 1; }
	pid_json=$d/stats-$(cat "$d/pid").json
	[[ -s $pid_json ]] || { ls "$d"; fail "no $pid_json"; return 1; }
	grep -E '^malloc-96 +96 ' "$d"/table-*.txt | head -n 2 ||
		{ fail "no malloc-96 row in the table"; return 1; }
	jq -e '[.caches[] | select(.name == "malloc-16")][0].allocs > 0' "$pid_json" >/dev/null ||
		{ fail "malloc-16 has no allocs in $pid_json"; return 1; }
	jq -e '[.arenas[] | select(.name == "malloc-16-slabs")] | length == 1' "$pid_json" \
		>/dev/null || { fail "no malloc-16-slabs arena"; return 1; }
	say "table and JSON name the classes"
}

t_install() {
	local d prefix; d=$(workdir install)
	prefix=$d/prefix
	"$MAKE" --no-print-directory install PREFIX="$prefix" BUILD="$BUILD" >"$d/make.log" 2>&1 ||
		{ cat "$d/make.log"; fail "make install failed"; return 1; }
	[[ -x $prefix/lib/libmagslab-malloc.so ]] || { fail "not installed"; return 1; }
	ldd "$prefix/lib/libmagslab-malloc.so" | grep -F "$prefix/lib/libmagslab.so.0" ||
		{ fail "the installed shim does not find the installed libmagslab"; return 1; }
	printf 'b\na\nc\n' >"$d/in"
	[[ $(env LD_PRELOAD="$prefix/lib/libmagslab-malloc.so" sort "$d/in" | tr -d '\n') == abc ]] ||
		{ fail "sort under the installed shim"; return 1; }
	"$MAKE" --no-print-directory uninstall PREFIX="$prefix" BUILD="$BUILD" >>"$d/make.log" 2>&1
	[[ ! -e $prefix/lib/libmagslab-malloc.so ]] || { fail "uninstall left the shim"; return 1; }
	say "installed, used, uninstalled"
}

# ---------------------------------------------------------------------------

if [[ ${1:-} == --list ]]; then
	printf '%s\n' "${TESTS_ALL[@]}"
	exit 0
fi
selected=("$@")
((${#selected[@]})) || selected=("${TESTS_ALL[@]}")

"$MAKE" --no-print-directory lib BUILD="$BUILD" >/dev/null || { say "make lib failed"; exit 1; }
pass=0 failed=0
for t in "${selected[@]}"; do
	fn=t_${t//-/_}
	if ! declare -F "$fn" >/dev/null; then
		say "unknown test '$t' (try --list)"
		failed=$((failed + 1))
		continue
	fi
	say "== $t"
	if "$fn"; then
		say "PASS $t"
		pass=$((pass + 1))
	else
		say "FAIL $t"
		failed=$((failed + 1))
	fi
	[[ ${KEEP:-} == 1 ]] || rm -rf "${ROOT:?}/$BUILD/malloc-programs/$t"
done
say "test_malloc_programs: $pass passed, $failed failed"
((failed == 0))
