#!/usr/bin/env bash
# bench/run-alloc.sh — the allocator comparison: build bench-alloc, run the
# whole grid, print the table and write bench/results/alloc.md.
#
#   bench/run-alloc.sh                 the full grid (about 5 minutes)
#   bench/run-alloc.sh --quick         64 bytes only, short runs: a smoke test
#   bench/run-alloc.sh --out FILE      write the report elsewhere (- : stdout only)
#   bench/run-alloc.sh --wait-idle 600 first wait (at most 600 s) for the CPUs
#                                      to be idle: CPU pressure avg10 < 5%
#   bench/run-alloc.sh --sizes 64,256 --patterns pair --threads 1,2 \
#                      --allocs magslab,glibc --reps 3 --target-ms 300
#
# Grid: sizes x patterns x thread counts (xfer only at even counts: producer/
# consumer pairs) x allocators.  The allocators are magslab
# (kmem_cache_alloc/free in the pcc mode the cache gets by default: rseq where
# it can serve; the report says which), magslab-locked (the same with
# MAGSLAB_PCC_MODE=locked), floor (a thread-local free list) and malloc four
# times: glibc's, and libjemalloc2, libtcmalloc-minimal4 and libmimalloc2.0
# through LD_PRELOAD (the program checks which library malloc resolved to,
# and this script fails if it is not the one preloaded).  The peer packages
# are installed with apt-get when missing and we are root.
#
# Repetitions are interleaved: repetition 1 of every cell, then repetition 2,
# ...; every process measures once, after a calibration that warms the
# allocator up and sizes the measurement to about --target-ms, and the table
# gives the median of the repetitions.  Every process runs under a timeout; a
# failed cell shows as "fail".
#
# Environment: BUILD (default build), MAKE (default make), TIMEOUT (seconds
# per process, default 120), BENCH_ALLOC_BIN (a bench-alloc binary to run
# instead of building $BUILD/bin/bench-alloc, e.g. one built with other flags).
#
# Every bench-alloc run also measures how long one cache line takes to move
# between two CPUs, just before and just after its measurement
# (bench/handoff.h): on a shared VM that cost jumps between levels, and the
# multi-thread cells move lines; the report puts it beside each repetition
# of the 2-thread targets.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
BUILD=${BUILD:-build}
MAKE=${MAKE:-make}
TIMEOUT=${TIMEOUT:-120}
BIN=${BENCH_ALLOC_BIN:-$BUILD/bin/bench-alloc}
ORIG_CMD="bench/run-alloc.sh${*:+ $*}"

sizes=64,256,4096
patterns=pair,batch,xfer
threads=1,2,8
allocs=magslab,magslab-locked,glibc,jemalloc,tcmalloc,mimalloc,floor
reps=3
target_ms=300
out=bench/results/alloc.md
wait_idle=0

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}

while (($#)); do
	case $1 in
	--quick) sizes=64; target_ms=100; out=-; shift ;;
	--sizes|--patterns|--threads|--allocs|--reps|--target-ms|--out|--wait-idle)
		(($# >= 2)) || { echo "run-alloc: $1 needs a value" >&2; exit 2; }
		v=$2
		case $1 in
		--sizes) sizes=$v ;;
		--patterns) patterns=$v ;;
		--threads) threads=$v ;;
		--allocs) allocs=$v ;;
		--reps) reps=$v ;;
		--target-ms) target_ms=$v ;;
		--out) out=$v ;;
		--wait-idle) wait_idle=$v ;;
		esac
		shift 2 ;;
	-h|--help) usage; exit 0 ;;
	*) echo "run-alloc: unknown argument '$1' (try --help)" >&2; exit 2 ;;
	esac
done

IFS=, read -r -a SIZES <<<"$sizes"
IFS=, read -r -a PATTERNS <<<"$patterns"
IFS=, read -r -a THREADS <<<"$threads"
IFS=, read -r -a ALLOCS <<<"$allocs"
[[ $reps =~ ^[1-9][0-9]*$ ]] || { echo "run-alloc: bad --reps '$reps'" >&2; exit 2; }

# ---------------------------------------------------------------------------
# The peer allocators: package, and the shared object to preload.

declare -A PKG=([jemalloc]=libjemalloc2 [tcmalloc]=libtcmalloc-minimal4
		[mimalloc]=libmimalloc2.0)
declare -A SO_RE=([jemalloc]='/libjemalloc\.so\.[0-9]+$'
		  [tcmalloc]='/libtcmalloc_minimal\.so\.[0-9]+$'
		  [mimalloc]='/libmimalloc\.so\.[0-9]+(\.[0-9]+)?$')
declare -A PRELOAD=()

for a in "${ALLOCS[@]}"; do
	case $a in
	magslab|magslab-locked|glibc|floor|jemalloc|tcmalloc|mimalloc) ;;
	*) echo "run-alloc: unknown allocator '$a'" >&2; exit 2 ;;
	esac
done

missing=()
for a in "${ALLOCS[@]}"; do
	p=${PKG[$a]:-}
	[[ -n $p ]] || continue
	dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null | grep -q '^ii' ||
		missing+=("$p")
done
if ((${#missing[@]})); then
	if [[ $(id -u) != 0 ]]; then
		echo "run-alloc: missing packages: ${missing[*]}; as root run:" >&2
		echo "  apt-get install -y --no-install-recommends ${missing[*]}" >&2
		exit 1
	fi
	echo "run-alloc: installing ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
		"${missing[@]}" >/dev/null ||
		{ apt-get update >/dev/null &&
		  DEBIAN_FRONTEND=noninteractive apt-get install -y \
			--no-install-recommends "${missing[@]}" >/dev/null; }
fi
for a in "${ALLOCS[@]}"; do
	p=${PKG[$a]:-}
	[[ -n $p ]] || continue
	so=$(dpkg -L "$p" | grep -E "${SO_RE[$a]}" | head -n 1 || true)
	[[ -n $so && -e $so ]] ||
		{ echo "run-alloc: no shared library for $a in package $p" >&2; exit 1; }
	PRELOAD[$a]=$so
done

# ---------------------------------------------------------------------------
# Build.  bench/bench.mk holds the rule; use it directly if the top-level
# Makefile does not include it.

if grep -Eq '^[[:space:]]*-?include[[:space:]].*bench/bench\.mk' Makefile; then
	mkcmd=("$MAKE" --no-print-directory BUILD="$BUILD")
else
	mkcmd=("$MAKE" --no-print-directory -f Makefile -f bench/bench.mk
	       BUILD="$BUILD")
fi
if [[ -z ${BENCH_ALLOC_BIN:-} ]]; then
	"${mkcmd[@]}" lib "$BIN" >&2
fi
[[ -x $BIN ]] || { echo "run-alloc: no $BIN" >&2; exit 1; }

# ---------------------------------------------------------------------------
# Run.

LOGDIR=$BUILD/bench-alloc
mkdir -p "$LOGDIR"
LOG=$LOGDIR/log.txt
RAW=$LOGDIR/results.txt
: >"$LOG"
: >"$RAW"
magslab_mode=unknown
cells=()
for pat in "${PATTERNS[@]}"; do
	for size in "${SIZES[@]}"; do
		for t in "${THREADS[@]}"; do
			[[ $pat == xfer ]] && (( t % 2 )) && continue
			cells+=("$pat $size $t")
		done
	done
done
total=$(( ${#cells[@]} * ${#ALLOCS[@]} * reps ))

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

# Share of the last 10 s in which some runnable task waited for a CPU (PSI),
# as an integer percentage; the 1-minute load average x 100 without PSI.
cpu_pressure() {
	if [[ -r /proc/pressure/cpu ]]; then
		sed -nE '1s/.*avg10=([0-9]+).*/\1/p' /proc/pressure/cpu
	else
		awk '{printf "%d", $1 * 100}' /proc/loadavg
	fi
}

if [[ $wait_idle =~ ^[1-9][0-9]*$ ]]; then
	deadline=$((SECONDS + wait_idle))
	while (( $(cpu_pressure) >= 5 && SECONDS < deadline )); do
		printf '\r  waiting for idle CPUs: pressure %s%%, load %s   ' \
			"$(cpu_pressure)" "$(loadavg)" >&2
		sleep 5
	done
	echo >&2
fi
# What was measured: the tree's commit, and whether it had local changes.
rev=$(git rev-parse --short HEAD 2>/dev/null || echo "unknown commit")
if [[ -n $(git status --porcelain -- lib 2>/dev/null) ]]; then
	rev="$rev + uncommitted changes in lib/"
fi
rev="$rev; $BIN built $(date -r "$BIN" '+%Y-%m-%d %H:%M:%S %z')"
load_before=$(loadavg)
pressure_before=$(cpu_pressure)
date_start=$(date '+%Y-%m-%d %H:%M:%S %z')
t_start=$SECONDS
n=0
echo "run-alloc: ${#cells[@]} cells x ${#ALLOCS[@]} allocators x $reps reps = $total runs" >&2
for ((rep = 1; rep <= reps; rep++)); do
	for cell in "${cells[@]}"; do
		read -r pat size t <<<"$cell"
		for a in "${ALLOCS[@]}"; do
			args=(--pattern "$pat" --size "$size" --threads "$t" --reps 1
			      --target-ms "$target_ms")
			env=()
			case $a in
			magslab) args+=(--alloc magslab --stats) ;;
			magslab-locked) args+=(--alloc magslab --stats)
				env=(MAGSLAB_PCC_MODE=locked) ;;
			floor) args+=(--alloc floor) ;;
			glibc) args+=(--alloc malloc) ;;
			*) args+=(--alloc malloc); env=(LD_PRELOAD="${PRELOAD[$a]}") ;;
			esac
			n=$((n + 1))
			printf '\r  [%d/%d] rep %d %-8s %-5s %4s B %d thr   ' \
				"$n" "$total" "$rep" "$a" "$pat" "$size" "$t" >&2
			{
				echo "=== rep $rep: ${env[*]} $BIN ${args[*]}"
			} >>"$LOG"
			set +e
			res=$(env "${env[@]}" timeout "$TIMEOUT" "$BIN" "${args[@]}" 2>&1)
			rc=$?
			set -e
			printf '%s\n' "$res" >>"$LOG"
			line=$(grep '^result ' <<<"$res" || true)
			if ((rc != 0)) || [[ -z $line ]]; then
				echo "rc=$rc" >>"$LOG"
				echo "run-alloc: FAILED (rc $rc): ${env[*]} $BIN ${args[*]}" >&2
				printf '%s\n' "$res" | tail -n 3 >&2
				echo "$rep $a $pat $size $t fail" >>"$RAW"
				continue
			fi
			label=$(sed -E 's/.* label=([^ ]+).*/\1/' <<<"$line")
			# magslab's label is its pcc mode: note the one the
			# default got; the locked column must be locked.
			if [[ $a == magslab && $label == magslab-* ]]; then
				magslab_mode=${label#magslab-}
				label=magslab
			fi
			if [[ $label != "$a" ]]; then
				echo "run-alloc: $a run reports malloc from '$label'" \
				     "(LD_PRELOAD did not take?)" >&2
				exit 1
			fi
			ns=$(sed -E 's/.* median_ns=([^ ]+).*/\1/' <<<"$line")
			ops=$(sed -E 's/.* ops=([^ ]+).*/\1/' <<<"$line")
			# Cross-core handoff before,after (ns; -1: one core).
			h=$(sed -nE 's/.* handoff_ns=([-0-9]+,[-0-9]+).*/\1/p' <<<"$line")
			echo "$rep $a $pat $size $t $ns $ops ${h:--1,-1}" >>"$RAW"
		done
	done
done
echo >&2
elapsed=$((SECONDS - t_start))
load_after=$(loadavg)

# ---------------------------------------------------------------------------
# Report: medians, the table, the targets.

report() {
	awk -v allocs="$allocs" -v cells="$(printf '%s;' "${cells[@]}")" '
	function median(key,    n, i, j, v, t) {
		n = cnt[key]
		if (!n) return -1
		for (i = 1; i <= n; i++) v[i] = val[key, i]
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && v[j - 1] > v[j]; j--) {
				t = v[j]; v[j] = v[j - 1]; v[j - 1] = t
			}
		return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
	}
	function fmt(x) {
		if (x < 0) return "fail"
		return x < 10 ? sprintf("%.2f", x) : x < 100 ? sprintf("%.1f", x) : sprintf("%.0f", x)
	}
	function m(a, p, s, t) { return med[a " " p " " s " " t] }
	function ratio(x, y) { return (x > 0 && y > 0) ? x / y : -1 }
	function rfmt(r) { return r < 0 ? "n/a" : sprintf("%.2f", r) }
	# Both ways need the ratio of the medians and at least 4 repetitions in 5
	# on the same side of the limit: one lucky or unlucky repetition must not
	# decide a verdict (over: repetitions above the limit, of n).
	function verdict(r, lim, over, n) {
		if (r < 0) return "NO DATA"
		if (r <= lim && 5 * over <= n) return "MET"
		if (r > lim && 5 * over >= 4 * n) return "NOT MET"
		return "not distinguishable"
	}
	# One target row: magslab against a limit, with the same ratio for
	# every other allocator as context.
	function target(what, p, s, num_t, den_a, den_t, lim,    r, a, ctx, rr, i, per, x, y, over, n, v) {
		if (!have[p " " s " " num_t] || !have[p " " s " " den_t]) return
		r = ratio(m("magslab", p, s, num_t), m(den_a, p, s, den_t))
		# The same ratio within each repetition (measured minutes apart
		# at most): how much of the verdict is noise.
		per = ""
		for (i = 1; i <= maxrep; i++) {
			x = byrep["magslab " p " " s " " num_t, i]
			y = byrep[den_a " " p " " s " " den_t, i]
			per = per (i > 1 ? " / " : "") rfmt(ratio(x + 0, y + 0))
			if (num_t > 1 && hand["magslab " p " " s " " num_t, i] != "") {
				per = per " [" hand["magslab " p " " s " " num_t, i] "]"
				nhand++
			}
			if (ratio(x + 0, y + 0) >= 0) { n++; if (ratio(x + 0, y + 0) > lim + 0) over++ }
		}
		ctx = ""
		for (a = 1; a <= na; a++) {
			if (A[a] == "magslab" || (den_a != "magslab" && A[a] == den_a)) continue
			if (den_a == "magslab")
				rr = ratio(m(A[a], p, s, num_t), m(A[a], p, s, den_t))
			else
				rr = ratio(m(A[a], p, s, num_t), m(den_a, p, s, den_t))
			ctx = ctx (ctx == "" ? "" : ", ") A[a] " " rfmt(rr)
		}
		v = verdict(r, lim + 0, over, n)
		printf "| %s | %d B | %s | %s | <= %s | %s | %s |\n", what, s, rfmt(r), per, lim, v, ctx
		ntarget++
		if (v == "MET") nmet++
	}
	$1 > maxrep { maxrep = $1 }
	$6 != "fail" {
		k = $2 " " $3 " " $4 " " $5
		cnt[k]++
		val[k, cnt[k]] = $6
		byrep[k, $1] = $6
		if (NF >= 8 && $8 != "-1,-1") hand[k, $1] = $8
	}
	$6 == "fail" { k = $2 " " $3 " " $4 " " $5; failed[k] = 1 }
	END {
		na = split(allocs, A, ",")
		nc = split(cells, C, ";")
		for (c = 1; c <= nc; c++) if (C[c] != "") have[C[c]] = 1
		for (k in cnt) med[k] = median(k)
		for (k in failed) if (!(k in cnt)) med[k] = -1

		printf "ns per operation (one alloc or one free), median of the repetitions:\n\n"
		printf "| pattern | size | threads |"
		for (a = 1; a <= na; a++) printf " %s |", A[a]
		printf " magslab / glibc |\n|---|--:|--:|"
		for (a = 1; a <= na; a++) printf "--:|"
		printf "--:|\n"
		for (c = 1; c <= nc; c++) {
			if (C[c] == "") continue
			split(C[c], f, " ")
			printf "| %s | %d | %d |", f[1], f[2], f[3]
			for (a = 1; a <= na; a++) {
				k = A[a] " " C[c]
				printf " %s |", (k in med) ? fmt(med[k]) : ""
			}
			printf " %s |\n", rfmt(ratio(m("magslab", f[1], f[2], f[3]), m("glibc", f[1], f[2], f[3])))
		}

		printf "\nTargets: ratios of the medians above, the same ratio within each repetition\n"
		printf "(n/a: a failed run), and the median ratio for the other allocators, for\n"
		printf "context.  Verdict: MET if the ratio of the medians and at least 4 of 5\n"
		printf "repetitions are within the limit, NOT MET if they miss it likewise, otherwise\n"
		printf "not distinguishable (the noise is larger than the gap).\n\n"
		printf "| target | size | magslab ratio | per repetition | limit | verdict | others |\n"
		printf "|---|--:|--:|--:|--:|---|---|\n"
		nsz = 0
		for (c = 1; c <= nc; c++) {
			if (C[c] == "") continue
			split(C[c], f, " ")
			if (!(f[2] in seen)) { seen[f[2]] = 1; S[++nsz] = f[2] }
		}
		# The targets of the rseq fast path (issue "A real per-CPU fast
		# path"): against tcmalloc and jemalloc, and against itself.
		for (i = 1; i <= nsz; i++)
			if (S[i] == 64 || S[i] == 256)
				target("pair, 1 thread: magslab / tcmalloc", "pair", S[i], 1, "tcmalloc", 1, "1.00")
		target("batch, 1 thread: magslab / tcmalloc", "batch", 64, 1, "tcmalloc", 1, "1.50")
		target("batch: 2 threads / 1 thread", "batch", 64, 2, "magslab", 1, "1.50")
		for (i = 1; i <= nsz; i++)
			target("pair: 2 threads / 1 thread", "pair", S[i], 2, "magslab", 1, "1.15")
		for (i = 1; i <= nsz; i++)
			target("pair: 8 threads / 1 thread", "pair", S[i], 8, "magslab", 1, "1.15")
		target("xfer, 2 threads: magslab / jemalloc", "xfer", 64, 2, "jemalloc", 2, "0.50")
		printf "\n%d of %d targets met.\n", nmet, ntarget
		if (nhand) {
			printf "\nIn brackets after a multi-thread repetition: the cross-core handoff in ns\n"
			printf "(bench/handoff.h: one cache line passed between two CPUs) measured by that\n"
			printf "run just before and just after its measurement.  On a shared VM it jumps\n"
			printf "between levels within seconds, and every line a multi-thread cell moves\n"
			printf "between the CPUs pays it: read those ratios against it.\n"
		}
		r = ratio(m("floor", "pair", S[1], 2), m("floor", "pair", S[1], 1))
		if (r > 0) {
			printf "\nNoise check: the floor'"'"'s own pair %d B, 2 threads / 1 thread = %.2f.\n", S[1], r
			printf "The floor shares nothing, so on idle CPUs this is about 1.00; well above\n"
			printf "that, other processes took CPU time from the multi-thread cells and the\n"
			printf "scaling targets measure the machine'"'"'s load as much as the allocator.\n"
		}
		rb = ratio(m("floor", "batch", 64, 2), m("floor", "batch", 64, 1))
		if (rb > 0) {
			printf "\nNoise check, batch: the floor'"'"'s own batch 64 B, 2 threads / 1 thread = %.2f.\n", rb
			printf "It shares nothing either, but each thread writes a 64 KB working set: on a\n"
			printf "VM whose vCPUs slow each other when both are busy with memory, this is the\n"
			printf "part of the batch scaling target that no allocator can avoid.\n"
		}
	}' "$RAW"
}

# Every repetition's value, in run order, per cell and allocator.
reps_table() {
	awk -v allocs="$allocs" -v cells="$(printf '%s;' "${cells[@]}")" '
	{
		k = $2 " " $3 " " $4 " " $5
		if (k in v) v[k] = v[k] " / " $6
		else v[k] = $6
	}
	END {
		na = split(allocs, A, ",")
		nc = split(cells, C, ";")
		printf "| pattern | size | threads |"
		for (a = 1; a <= na; a++) printf " %s |", A[a]
		printf "\n|---|--:|--:|"
		for (a = 1; a <= na; a++) printf "--:|"
		printf "\n"
		for (c = 1; c <= nc; c++) {
			if (C[c] == "") continue
			split(C[c], f, " ")
			printf "| %s | %d | %d |", f[1], f[2], f[3]
			for (a = 1; a <= na; a++) printf " %s |", v[A[a] " " C[c]]
			printf "\n"
		}
	}' "$RAW"
}

machine() {
	local model
	model=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
	echo "- CPUs: $(nproc) online ($model); $(lscpu 2>/dev/null |
		awk -F: '/^Thread\(s\) per core/ {gsub(/ /, "", $2); t=$2}
			 /^Hypervisor vendor/ {gsub(/^ +/, "", $2); h=$2}
			 END {printf "%s thread(s) per core%s", t, h ? ", hypervisor " h : ""}')"
	echo "- kernel: $(uname -srm); $(. /etc/os-release && echo "$PRETTY_NAME")"
	echo "- compiler: $(${CC:-gcc} --version | head -n 1); glibc $(ldd --version | head -n 1 | awk '{print $NF}')"
	echo "- magslab: $rev"
	local a
	for a in "${ALLOCS[@]}"; do
		[[ -n ${PKG[$a]:-} ]] || continue
		echo "- $a: ${PKG[$a]} $(dpkg-query -W -f='${Version}' "${PKG[$a]}"), LD_PRELOAD=${PRELOAD[$a]}"
	done
	echo "- load average (1, 5, 15 min): $load_before before, $load_after after;" \
	     "CPU pressure avg10 before: ${pressure_before}%"
}

table=$(report)
echo "$table"

[[ $out == - ]] && exit 0
{
	echo "# bench-alloc: magslab against malloc and a free-list floor"
	echo
	echo "Command (from the top of the tree):"
	echo
	echo "    $ORIG_CMD"
	echo
	echo "Run $date_start, took ${elapsed} s."
	echo
	machine
	echo
	cat <<EOF
Each cell runs \`$BIN --alloc A --pattern P --size S --threads T --reps 1\`
(malloc cells: \`--alloc malloc\`, with LD_PRELOAD for the peers) as its own
process, $reps times, interleaved (repetition 1 of every cell, then 2, ...);
the table gives the median.  Each process warms up and calibrates its
operation count to about $target_ms ms, then measures once.

- **pair**: allocate, write one word, free; **batch**: $((1000)) allocations
  (one word written to each), then the $((1000)) frees in allocation order;
  **xfer**: threads 2k and 2k+1 are producer and consumer joined by an SPSC
  ring of 512 slots whose indices are published every 32 objects: the
  producer allocates and writes a word, the consumer reads it and frees.
  In xfer the floor is the ring alone (objects cycle through a private pool;
  no allocator): the cost of moving an object's cache line and the ring's
  between the CPUs, which every allocator pays on top of its own.
- An operation is one allocation or one free.  ns/op = wall x min(threads,
  cores) / operations; thread i is pinned to CPU i mod cores.  Equal ns/op at
  1 and N threads is perfect scaling (at 8 threads, 4 threads share a core).
- magslab: one \`kmem_cache\` of S-byte objects made before timing, default
  flags, policy and tunables; its pcc mode in this run: **$magslab_mode**
  (the mode the default gives here).  magslab-locked: the same with
  \`MAGSLAB_PCC_MODE=locked\` (every operation takes the pcc's lock).  floor: a thread-local free list (pop, push;
  inlined, no atomics), the least an allocator can cost.

EOF
	echo "$table"
	echo
	echo "Every repetition (ns/op, in run order):"
	echo
	reps_table
	echo
	echo "Each process's output, including magslab's cache statistics, was in"
	echo "\`$LOG\` (build output, not kept in the tree)."
} >"$out.tmp"
mv -f "$out.tmp" "$out"
echo "run-alloc: wrote $out" >&2
