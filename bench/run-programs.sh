#!/usr/bin/env bash
# bench/run-programs.sh — real programs on five mallocs: glibc's, jemalloc, tcmalloc,
# mimalloc and magslab's shim (build/lib/libmagslab-malloc.so); writes
# bench/results/programs.md.
#
#   bench/run-programs.sh                  everything, 5 repetitions (about 15 minutes
#                                          on an idle 2-CPU VM)
#   bench/run-programs.sh --quick          1 repetition, small inputs, report to stdout
#   bench/run-programs.sh --reps 7 --programs sqlite,redis --allocs glibc,magslab
#   bench/run-programs.sh --out FILE       report elsewhere (- : stdout only)
#   bench/run-programs.sh --wait-idle 600  first wait (at most 600 s) for CPU pressure
#                                          avg10 < 5%
#   bench/run-programs.sh --report-from RAW   no runs: the report of an earlier run's raw
#                                          results ($BUILD/bench-programs/results.txt)
#
# Programs (inputs from tests/malloc_inputs.sh, larger than the tests'):
#   python  /usr/bin/python3 with PYTHONMALLOC=malloc: a 300,000-entry dict built,
#           through json and back, sorted
#   sqlite  sqlite3: 1,000,000 rows, two indexes, three queries
#   gcc     gcc -O2 -c of a generated 5,000-function C file (cc1 and as are under
#           the allocator too: LD_PRELOAD is inherited)
#   sort    sort of 3,000,000 lines (LC_ALL=C)
#   redis   redis-server (loopback, a free port, no persistence) under the allocator,
#           redis-benchmark -n 100000 -c 50 -d 64 over 8 commands against it; the
#           figure is the mean of the commands' requests per second, the RSS the
#           server's peak (VmHWM).  Debian's redis-server links libjemalloc.so.2, so
#           its "glibc" run preloads bench/preload/glibc-malloc.c (forwards to
#           __libc_malloc & co.) and its "jemalloc" run is the server as shipped.
# Figures: wall time (GNU time, %e) and peak RSS (%M: the largest process of the
# command), median of the repetitions.  Repetitions are interleaved: repetition 1 of
# every program and allocator, then repetition 2, ...  Every output is compared with
# glibc's (byte for byte; redis: every command answered): a difference fails the run.
#
# Tracing compiled in but not recording against `make TRACE=0`: sqlite also runs on a
# shim built with TRACE=0 ($BUILD/bench-trace0), interleaved with the others.
#
# Environment: BUILD (default build), MAKE (default make), TIMEOUT (seconds per run,
# default 600).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
BUILD=${BUILD:-build}
MAKE=${MAKE:-make}
# The revision measured: taken now, before the build (HEAD may move during a run).
REV=$(git rev-parse --short HEAD 2>/dev/null || echo "?")
TIMEOUT=${TIMEOUT:-600}
PY=/usr/bin/python3
ORIG_CMD="bench/run-programs.sh${*:+ $*}"

reps=5
programs=python,sqlite,gcc,sort,redis
allocs=glibc,jemalloc,tcmalloc,mimalloc,magslab
out=bench/results/programs.md
wait_idle=0
scale=full
report_from=

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }

while (($#)); do
	case $1 in
	--quick) reps=1; scale=quick; out=-; shift ;;
	--reps|--programs|--allocs|--out|--wait-idle|--report-from)
		(($# >= 2)) || { echo "run-programs: $1 needs a value" >&2; exit 2; }
		case $1 in
		--reps) reps=$2 ;;
		--programs) programs=$2 ;;
		--allocs) allocs=$2 ;;
		--out) out=$2 ;;
		--wait-idle) wait_idle=$2 ;;
		--report-from) report_from=$2 ;;
		esac
		shift 2 ;;
	-h|--help) usage; exit 0 ;;
	*) echo "run-programs: unknown argument '$1' (try --help)" >&2; exit 2 ;;
	esac
done
[[ $reps =~ ^[1-9][0-9]*$ ]] || { echo "run-programs: bad --reps '$reps'" >&2; exit 2; }
IFS=, read -r -a PROGRAMS <<<"$programs"
IFS=, read -r -a ALLOCS <<<"$allocs"

# ---------------------------------------------------------------------------
# The report.

report() {
	awk -v allocs="$allocs" -v progs="$programs" '
	function median(k,    n, i, j, v, t) {
		n = cnt[k]
		for (i = 1; i <= n; i++) v[i] = val[k, i]
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && v[j - 1] > v[j]; j--) { t = v[j]; v[j] = v[j - 1]; v[j - 1] = t }
		return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
	}
	# (max - min) / median of the repetitions: the noise of one figure.
	function spread(k,    i, lo, hi) {
		lo = hi = val[k, 1]
		for (i = 2; i <= cnt[k]; i++) { if (val[k, i] < lo) lo = val[k, i]; if (val[k, i] > hi) hi = val[k, i] }
		return (hi - lo) / median(k)
	}
	function add(k, x) { cnt[k]++; val[k, cnt[k]] = x }
	/^#/ { next }
	{ add($2 " " $3 " wall", $4); add($2 " " $3 " rss", $5 / 1024); add($2 " " $3 " metric", $6)
	  byrep[$2, $3, $1] = $6; if ($1 > maxrep) maxrep = $1 }
	END {
		na = split(allocs, A, ","); np = split(progs, P, ",")
		print "Medians (noise = (max - min) / median of the repetitions, in %):\n"
		print "| program | allocator | wall s | figure | vs glibc | noise | peak RSS MB | vs glibc | noise |"
		print "|---|---|--:|--:|--:|--:|--:|--:|--:|"
		for (p = 1; p <= np; p++) for (a = 1; a <= na + 1; a++) {
			al = a <= na ? A[a] : "magslab-trace0"
			k = P[p] " " al; g = P[p] " glibc"
			if (!cnt[k " wall"]) continue
			f = median(k " metric"); fg = median(g " metric")
			r = P[p] == "redis" ? fg / f : f / fg       # >1: slower than glibc
			printf "| %s | %s | %.2f | %s | %.3f | %.1f | %.1f | %.3f | %.1f |\n", P[p], al,
				median(k " wall"), P[p] == "redis" ? sprintf("%.0f req/s", f) : sprintf("%.2f s", f),
				r, 100 * spread(k " metric"), median(k " rss"),
				median(k " rss") / median(g " rss"), 100 * spread(k " rss")
		}
		print "\nTargets for magslab.  Time: wall, or glibc req/s / magslab req/s for redis; the"
		print "ratio of the medians, and the ratio within each repetition (the two runs were"
		print "adjacent in time, under the same load).  Verdict: met if the ratio of the medians"
		print "is within the target and so is the ratio in at least 4 of 5 repetitions; NOT MET if"
		print "both miss it likewise; otherwise not distinguishable (the repetitions disagree: the"
		print "noise is larger than the gap).\n"
		print "| program | time vs glibc | per repetition | <= 1.05 | peak RSS vs glibc | <= 1.25 | rank by time (of " na ") | rank by RSS |"
		print "|---|--:|---|---|--:|---|--:|--:|"
		for (p = 1; p <= np; p++) {
			k = P[p] " magslab"; g = P[p] " glibc"
			if (!cnt[k " wall"] || !cnt[g " wall"]) continue
			f = median(k " metric"); fg = median(g " metric")
			r = P[p] == "redis" ? fg / f : f / fg
			per = ""; over = 0; nper = 0
			for (i = 1; i <= maxrep; i++) {
				if (!((P[p], "magslab", i) in byrep) || !((P[p], "glibc", i) in byrep)) continue
				x = byrep[P[p], "magslab", i]; y = byrep[P[p], "glibc", i]
				ri = P[p] == "redis" ? y / x : x / y
				per = per (per == "" ? "" : " ") sprintf("%.2f", ri)
				nper++; if (ri > 1.05) over++
			}
			# Both ways need four repetitions in five on the same side: one
			# lucky or unlucky repetition must not decide a verdict.
			tv = (r <= 1.05 && 5 * over <= nper) ? "met" : ((r > 1.05 && 5 * over >= 4 * nper) ? "NOT MET" : "not distinguishable")
			rr = median(k " rss") / median(g " rss")
			rv = rr <= 1.25 ? "met" : "NOT MET"
			rt = 1; rm = 1
			for (a = 1; a <= na; a++) {
				o = P[p] " " A[a]
				if (A[a] == "magslab" || !cnt[o " wall"]) continue
				fo = median(o " metric")
				if (P[p] == "redis" ? fo > f : fo < f) rt++
				if (median(o " rss") < median(k " rss")) rm++
			}
			printf "| %s | %.3f | %s | %s | %.3f | %s | %d | %d |\n", P[p], r, per, tv, rr, rv, rt, rm
		}
		if (cnt["sqlite magslab-trace0 wall"]) {
			t1 = median("sqlite magslab metric"); t0 = median("sqlite magslab-trace0 metric")
			n1 = spread("sqlite magslab metric"); n0 = spread("sqlite magslab-trace0 metric")
			printf "\nTracing compiled in, not recording (TRACE=1) vs `make TRACE=0`, sqlite: %.2f s vs %.2f s, ratio %.3f (noise %.1f%% / %.1f%%): %s.\n",
				t1, t0, t1 / t0, 100 * n1, 100 * n0,
				(t1 / t0 - 1 < (n1 > n0 ? n1 : n0) && t0 / t1 - 1 < (n1 > n0 ? n1 : n0)) ? "not distinguishable" : "distinguishable"
		}
	}' "$RAW"
}

# What the tables cannot say by themselves (mechanisms, not figures of this run).
notes() {
	cat <<'EOF'

Reading these results:

- The VM is shared (2 CPUs; other jobs ran during the run: see the load averages).  Wall
  times vary by tens of percent between repetitions, so only differences larger than the
  per-repetition ratios' spread mean anything; peak RSS is stable (noise well under 2 %).
- python's peak RSS comes at its exit: Python frees every object and every freed block
  goes into a depot magazine.  Magazines are sized to their magsize (8, 16, 30 or 62 rounds:
  80 to 512 bytes; 8 rounds by default: 10 bytes per block held), so the about 5.3 million
  blocks freed at exit sit in about 660,000 magazines of 80 bytes, some 53 MB.  Before
  magazines had sizes (every magazine 512 bytes, 64 bytes per block held) the same run
  peaked at 823 MB, 1.86x glibc.
- Every process on the TRACE=1 shim loads LTTng-UST (its start-up costs about 10 ms and
  1.7 MB) and creates 72 caches and arenas (about 1.5 MB): about 3 MB of redis's RSS
  gap (the rest, blocks held in magazines and partly used slabs, was not broken down);
  the TRACE=0 row shows the tracing part for sqlite.
- redis-server links libjemalloc.so.2: its "jemalloc" row is the server as Debian ships
  it, its "glibc" row preloads bench/preload/glibc-malloc.c.  redis-benchmark runs on the
  same two CPUs.
EOF
}

# publish: the header (the raw file's "# " lines) and the tables, to stdout and $out.
publish() {
	{
		sed -n 's/^# //p; s/^#$//p' "$RAW"
		echo
		report
		notes
	} >"$WORK/report.md"
	cat "$WORK/report.md"
	if [[ $out != - ]]; then
		mkdir -p "$(dirname "$out")"
		cp "$WORK/report.md" "$out"
		echo "run-programs: wrote $out" >&2
	fi
}

# --report-from: the programs and allocators are the raw file's.
if [[ -n $report_from ]]; then
	RAW=$report_from
	WORK=$BUILD/bench-programs
	mkdir -p "$WORK"
	programs=$(awk '!/^#/ && !seen[$2]++ { print $2 }' "$RAW" | paste -sd,)
	allocs=$(awk '!/^#/ && $3 != "magslab-trace0" && !seen[$3]++ { print $3 }' "$RAW" | paste -sd,)
	publish
	exit 0
fi

# ---------------------------------------------------------------------------
# Allocators: what to preload for each.

declare -A PKG=([jemalloc]=libjemalloc2 [tcmalloc]=libtcmalloc-minimal4
		[mimalloc]=libmimalloc2.0)
declare -A SO_RE=([jemalloc]='/libjemalloc\.so\.[0-9]+$'
		  [tcmalloc]='/libtcmalloc_minimal\.so\.[0-9]+$'
		  [mimalloc]='/libmimalloc\.so\.[0-9]+(\.[0-9]+)?$')
declare -A PRELOAD=([glibc]="")
WORK=$BUILD/bench-programs
mkdir -p "$WORK"

peer_so() {
	local a=$1 p=${PKG[$1]}
	dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' || {
		[[ $(id -u) == 0 ]] || { echo "run-programs: apt-get install $p (as root)" >&2; exit 1; }
		DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$p" >/dev/null
	}
	dpkg -L "$p" | grep -E "${SO_RE[$a]}" | head -n 1
}

for a in "${ALLOCS[@]}"; do
	case $a in
	glibc) ;;
	magslab) "$MAKE" --no-print-directory lib BUILD="$BUILD" >&2
		PRELOAD[magslab]=$ROOT/$BUILD/lib/libmagslab-malloc.so ;;
	jemalloc|tcmalloc|mimalloc) PRELOAD[$a]=$(peer_so "$a")
		[[ -e ${PRELOAD[$a]} ]] || { echo "run-programs: no library for $a" >&2; exit 1; } ;;
	*) echo "run-programs: unknown allocator '$a'" >&2; exit 2 ;;
	esac
done
trace0=0
if [[ " ${ALLOCS[*]} " == *" magslab "* && " ${PROGRAMS[*]} " == *" sqlite "* ]]; then
	trace0=1
	"$MAKE" --no-print-directory lib TRACE=0 BUILD="$BUILD/bench-trace0" >&2
	PRELOAD[magslab-trace0]=$ROOT/$BUILD/bench-trace0/lib/libmagslab-malloc.so
fi
gcc -O2 -shared -fPIC -Wall -Wextra -Werror bench/preload/glibc-malloc.c \
	-o "$WORK/glibc-malloc.so" -ldl

# ---------------------------------------------------------------------------
# Inputs.

# shellcheck source=tests/malloc_inputs.sh
source tests/malloc_inputs.sh
if [[ $scale == quick ]]; then n_py=30000 n_sql=100000 n_c=1000 n_sort=300000
else n_py=300000 n_sql=1000000 n_c=5000 n_sort=3000000; fi
gen_python "$WORK/prog.py" "$n_py"
gen_sql "$WORK/prog.sql" "$n_sql"
gen_c "$WORK/gen.c" "$n_c"
gen_lines "$WORK/lines.txt" "$n_sort"

declare -A CMD=(
	[python]="env PYTHONMALLOC=malloc $PY $WORK/prog.py"
	[sort]="env LC_ALL=C sort $WORK/lines.txt"
)

# ---------------------------------------------------------------------------
# One run: prints "wall_s rss_kb metric" (metric: redis requests/s, else the wall).

run_cmd() {
	local prog=$1 alloc=$2 outf=$3 tf=$WORK/time.txt
	local -a cmd
	case $prog in
	sqlite) cmd=(sqlite3 -batch :memory: -init /dev/null ".read $WORK/prog.sql") ;;
	gcc) cmd=(gcc -O2 -c "$WORK/gen.c" -o "$outf.o") ;;
	*) read -r -a cmd <<<"${CMD[$prog]}" ;;
	esac
	env LD_PRELOAD="${PRELOAD[$alloc]}" timeout "$TIMEOUT" \
		/usr/bin/time -f '%e %M' -o "$tf" "${cmd[@]}" >"$outf"
	[[ $prog != gcc ]] || od -An -tx1 "$outf.o" >"$outf"
	read -r wall rss <"$tf"
	echo "$wall $rss $wall"
}

# start_redis ALLOC: a server on a free port below the ephemeral range (whose ports
# client sockets may hold); prints "pid port" once it answers PING.
start_redis() {
	local pre=${PRELOAD[$1]} port pid try i
	[[ $1 == glibc ]] && pre=$WORK/glibc-malloc.so
	[[ $1 == jemalloc ]] && pre=""
	for try in 1 2 3 4 5; do
		port=$(shuf -i 10000-30000 -n 1)
		env LD_PRELOAD="$pre" redis-server --port "$port" --bind 127.0.0.1 --save '' \
			--appendonly no --protected-mode yes >"$WORK/redis.log" 2>&1 &
		pid=$!
		for ((i = 0; i < 100; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			[[ $(redis-cli -p "$port" ping 2>/dev/null) == PONG ]] &&
				{ echo "$pid $port"; return 0; }
			sleep 0.1
		done
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	echo "run-programs: redis-server on $1 did not start:" >&2
	cat "$WORK/redis.log" >&2
	return 1
}

run_redis() {
	local alloc=$1 outf=$2 port pid rps hwm t0 wall
	read -r pid port < <(start_redis "$alloc") || return 1
	[[ -n $pid ]] || return 1
	t0=$(date +%s%N)
	timeout 300 redis-benchmark -p "$port" -n 100000 -c 50 -d 64 -r 100000 \
		-t set,get,incr,lpush,rpush,lpop,sadd,hset --csv >"$WORK/redis.csv" 2>/dev/null
	wall=$((($(date +%s%N) - t0) / 1000000))
	hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$pid/status")
	redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
	for ((t0 = 0; t0 < 100; t0++)); do       # not our child: poll until it is gone
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	# "test","rps",...: every command answered, the mean of their rates.
	rps=$(awk -F'"' 'NR > 1 && $4 > 0 { s += $4; n++ } END { if (n == 8) printf "%.0f", s / n }' \
		"$WORK/redis.csv")
	[[ -n $rps ]] || { cat "$WORK/redis.csv" "$WORK/redis.log" >&2; return 1; }
	awk -F'"' 'NR > 1 { print $2 }' "$WORK/redis.csv" >"$outf"
	printf '%d.%03d %s %s\n' $((wall / 1000)) $((wall % 1000)) "$hwm" "$rps"
}

# ---------------------------------------------------------------------------
# The runs.

cpu_pressure() { sed -nE '1s/.*avg10=([0-9]+).*/\1/p' /proc/pressure/cpu 2>/dev/null || echo 0; }
if [[ $wait_idle =~ ^[1-9][0-9]*$ ]]; then
	deadline=$((SECONDS + wait_idle))
	while (($(cpu_pressure) >= 5 && SECONDS < deadline)); do sleep 5; done
fi
RAW=$WORK/results.txt
: >"$RAW"
load_before=$(cut -d' ' -f1-3 /proc/loadavg) pressure_before=$(cpu_pressure)
date_start=$(date '+%Y-%m-%d %H:%M:%S %z')
t_start=$SECONDS
for ((rep = 1; rep <= reps; rep++)); do
	for prog in "${PROGRAMS[@]}"; do
		list=("${ALLOCS[@]}")
		[[ $prog == sqlite && $trace0 == 1 ]] && list+=(magslab-trace0)
		for a in "${list[@]}"; do
			printf '\r  rep %d/%d %-7s %-15s' "$rep" "$reps" "$prog" "$a" >&2
			outf=$WORK/out.$prog.$a
			if [[ $prog == redis ]]; then res=$(run_redis "$a" "$outf")
			else res=$(run_cmd "$prog" "$a" "$outf"); fi
			ref=$WORK/out.$prog.${ALLOCS[0]}
			cmp -s "$ref" "$outf" ||
				{ echo "run-programs: $prog on $a: output differs from ${ALLOCS[0]}'s" >&2; exit 1; }
			echo "$rep $prog $a $res" >>"$RAW"
		done
	done
done
echo >&2
elapsed=$((SECONDS - t_start))
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

pkgver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "?"; }
{
	echo "# Real programs on five mallocs"
	echo
	echo "Command (from the top of the tree):"
	echo
	echo "    $ORIG_CMD"
	echo
	echo "Run $date_start, took $elapsed s; $reps repetitions, interleaved."
	echo
	echo "- CPUs: $(nproc) online ($(sed -nE 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1))"
	echo "- kernel: $(uname -srm); glibc $(ldd --version | sed -n '1s/.* //p')"
	echo "- magslab: $REV, LD_PRELOAD=${PRELOAD[magslab]:-}, default settings (TRACE=1, pcc mode rseq where it serves, policy akaros)"
	for a in jemalloc tcmalloc mimalloc; do
		[[ -n ${PRELOAD[$a]:-} ]] && echo "- $a: ${PKG[$a]} $(pkgver "${PKG[$a]}"), LD_PRELOAD=${PRELOAD[$a]}"
	done
	echo "- programs: python3 $(pkgver python3), sqlite3 $(pkgver sqlite3), gcc $(pkgver gcc-12), coreutils $(pkgver coreutils), redis-server $(pkgver redis-server)"
	echo "- load average (1, 5, 15 min): $load_before before, $load_after after; CPU pressure avg10 before: $pressure_before%"
} >"$WORK/header.md"
sed 's/^/# /' "$WORK/header.md" >>"$RAW"
publish
