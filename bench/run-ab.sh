#!/usr/bin/env bash
# bench/run-ab.sh — is one bench-alloc build faster than another?  Interleaved
# rounds, ratios paired within each round.
#
#   bench/run-ab.sh [--rounds N] [--args "BENCH-ALLOC ARGS"] BASE OTHER...
#
# BASE and OTHER are commands that run bench-alloc: a binary (a copy of
# build/bin/bench-alloc from another commit), or a wrapper script, e.g. one
# that sets LD_PRELOAD and passes --alloc malloc to compare against a peer.
# Each round runs every command once, in order, as its own process with
# `--reps 1 --target-ms 150` plus --args (default: --pattern batch); the
# report gives each command's median ns/op and its ratio to BASE within the
# same round: median [first quartile..third quartile] over the rounds.
#
# Why paired rounds: on a shared VM the machine's speed drifts by 1.5x
# within minutes (bench/results/alloc.md); two medians taken minutes apart
# compare the machine, a ratio within one round compares the builds.  A
# ratio whose quartiles straddle 1.0 is "not distinguishable".
#
#   bench/run-ab.sh --rounds 21 /tmp/bench-alloc.old build/bin/bench-alloc
set -euo pipefail

rounds=15
args="--pattern batch"
usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
}
while (($#)); do
	case $1 in
	--rounds)
		[[ ${2:-} =~ ^[1-9][0-9]*$ ]] ||
			{ echo "run-ab: --rounds wants a positive number" >&2; exit 2; }
		rounds=$2; shift 2 ;;
	--args)
		(($# >= 2)) || { echo "run-ab: --args needs a value" >&2; exit 2; }
		args=$2; shift 2 ;;
	-h|--help) usage; exit 0 ;;
	-*) echo "run-ab: unknown option '$1' (try --help)" >&2; exit 2 ;;
	*) break ;;
	esac
done
(($# >= 2)) || { echo "run-ab: needs a BASE and at least one OTHER (try --help)" >&2; exit 2; }
for c in "$@"; do
	[[ -x $c ]] || { echo "run-ab: '$c' is not an executable" >&2; exit 2; }
done

raw=$(mktemp)
trap 'rm -f "$raw"' EXIT
read -r -a extra <<<"$args"
for ((r = 1; r <= rounds; r++)); do
	line=""
	for c in "$@"; do
		printf '\r  round %d/%d: %s   ' "$r" "$rounds" "$c" >&2
		if ! out=$("$c" "${extra[@]}" --reps 1 --target-ms 150 2>&1); then
			echo >&2
			echo "run-ab: '$c ${extra[*]}' failed:" >&2
			tail -n 3 <<<"$out" >&2
			exit 1
		fi
		ns=$(sed -nE 's/^result .* median_ns=([0-9.]+).*/\1/p' <<<"$out")
		[[ -n $ns ]] || { echo >&2; echo "run-ab: no result line from '$c'" >&2; exit 1; }
		line+="${line:+ }$ns"
	done
	echo "$line" >>"$raw"
done
echo >&2

# median [q1..q3] of one column of numbers
quartiles() {
	sort -g | awk '{v[NR] = $1}
		END {q3 = int(3 * NR / 4); if (q3 < 1) q3 = 1
		     printf "%.3f [%.3f..%.3f]", v[int((NR + 1) / 2)],
		     v[int(NR / 4) + 1], v[q3]}'
}
echo "bench-alloc ${args} --reps 1 --target-ms 150; $rounds interleaved rounds"
i=1
for c in "$@"; do
	printf '%s: ns/op %s' "$c" "$(awk -v i="$i" '{print $i}' "$raw" | quartiles)"
	if ((i > 1)); then
		printf ', / %s %s' "$1" "$(awk -v i="$i" '{print $i / $1}' "$raw" | quartiles)"
	fi
	echo
	i=$((i + 1))
done
