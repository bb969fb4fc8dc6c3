#!/usr/bin/env bash
# tests/test_trace_damage.sh — damaged traces give a clear error in bounded time, never a
# hang and never a silent wrong figure (docs/report.md, "Damaged traces").
#
#   tests/test_trace_damage.sh [TEST...]     run every test (or the ones named)
#   tests/test_trace_damage.sh --list        the test names, one a line
#   tests/test_trace_damage.sh table         the fuzz table alone (same as `fuzz`, verbose)
#
# Tests:
#   fuzz         a fixed set of seeded mutations (metadata and stream truncations, byte
#                flips, deleted files) of the committed trace tests/data/report-prodcons;
#                `magslab report` on each, bounded by `timeout`, must give either exactly
#                the original summary.json and summary.txt (exit 0) or a damaged verdict:
#                a report flagged as damaged (exit 3, "DAMAGED" on the first line of
#                summary.txt, summary.json `damage.damaged` true) or a refusal (exit 1, one
#                line on stderr).  Anything else (a different report with exit 0, a hang,
#                a crash, several lines of error) fails.  Prints the table mutation ->
#                classification.
#   zero-stream  a stream file emptied: its packets are lost data on the first line
#   meta-cut     metadata cut inside a packet: refused at once, not a hang
#   stall        a decoder that makes no progress ends with a clear error (the watchdog,
#                MAGSLAB_STALL_TIMEOUT) for report and replay
#   sanity       impossible decoded values flag the trace (the sink's checks, via the CLI)
#
# Prints "damage-test: PASS NAME" / "damage-test: FAIL NAME: REASON" per test; exit 0 if
# every one passed.  tests/run-tests.sh (configuration "other") runs each as damage-NAME.
# Environment: BUILD (default build), MAKE.  Work files: $BUILD/test-damage/.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
BUILD=${BUILD:-build}
MAKE=${MAKE:-make}
MAGSLAB=$ROOT/$BUILD/bin/magslab
WORKLOAD=$ROOT/$BUILD/bin/magslab-workload
WORK=$ROOT/$BUILD/test-damage
SRC=$ROOT/tests/data/report-prodcons
STREAMDIR=ust/uid/0/64-bit
# Every run is bounded: a hang is a failure, not a stuck test.
LIMIT=${DAMAGE_LIMIT:-60}
# The seed of the mutation set (fixed: the same mutations every run).
SEED=20240612

ALL_TESTS=(fuzz zero-stream meta-cut stall sanity)

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# ---- the seeded generator ------------------------------------------------------------------

# 64-bit LCG (Knuth's MMIX constants) in bash arithmetic: the same numbers on every run.
RNG=$SEED
# rnd N: a number in [0, N) in RND.
rnd() {
	RNG=$((RNG * 6364136223846793005 + 1442695040888963407))
	RND=$((((RNG >> 33) & 0x7fffffff) % $1))
}

# ---- mutations ----------------------------------------------------------------------------

# fresh DIR: a pristine copy of the trace.
fresh() {
	rm -rf "$1"
	mkdir -p "$(dirname "$1")"
	cp -r "$SRC" "$1"
}

# flip FILE OFFSET XOR: one byte of FILE xor-ed with XOR (1..255).
flip() {
	local file=$1 off=$2 x=$3 old
	old=$(od -An -tu1 -j "$off" -N1 "$file" | tr -d ' ')
	printf "$(printf '\\%03o' $((old ^ x)))" |
		dd of="$file" bs=1 seek="$off" count=1 conv=notrunc status=none
}

# The mutation list: "NAME KIND FILE ARG [ARG2]", kinds trunc (to ARG bytes), flip (at ARG,
# xor ARG2), rm.  Drawn from the seed: the same list every run.
MUTATIONS=()
add() { MUTATIONS+=("$*"); }
make_mutations() {
	local meta=$STREAMDIR/metadata ch0=$STREAMDIR/ch_0 ch1=$STREAMDIR/ch_1
	local idx1=$STREAMDIR/index/ch_1.idx size k f
	RNG=$SEED
	MUTATIONS=()
	size=$(stat -c %s "$SRC/$meta")
	add meta-empty trunc "$meta" 0
	add meta-header trunc "$meta" 37
	for k in 1 2 3 4 5 6 7; do
		rnd "$size"
		add "meta-cut-$k" trunc "$meta" $((RND + 1))
	done
	size=$(stat -c %s "$SRC/$ch1")
	add ch1-empty trunc "$ch1" 0
	add ch1-packet1 trunc "$ch1" 65536
	add ch1-packet2 trunc "$ch1" 131072
	for k in 1 2 3; do
		rnd "$size"
		add "ch1-cut-$k" trunc "$ch1" $((RND + 1))
	done
	add ch0-empty trunc "$ch0" 0
	add rm-ch1 rm "$ch1"
	add rm-ch0 rm "$ch0"
	add rm-index rm "$idx1"
	add rm-metadata rm "$meta"
	rnd "$(stat -c %s "$SRC/$idx1")"
	add idx-cut trunc "$idx1" "$RND"
	for k in 1 2 3 4; do
		rnd "$(stat -c %s "$SRC/$meta")"
		f=$RND
		rnd 255
		add "flip-meta-$k" flip "$meta" "$f" $((RND + 1))
	done
	for k in 1 2 3 4 5 6 7 8 9 10; do
		rnd "$(stat -c %s "$SRC/$ch1")"
		f=$RND
		rnd 255
		add "flip-ch1-$k" flip "$ch1" "$f" $((RND + 1))
	done
	for k in 1 2; do
		rnd 128
		f=$RND
		rnd 255
		add "flip-ch0-$k" flip "$ch0" "$f" $((RND + 1))
	done
	for k in 1 2; do
		rnd "$(stat -c %s "$SRC/$idx1")"
		f=$RND
		rnd 255
		add "flip-idx-$k" flip "$idx1" "$f" $((RND + 1))
	done
}

# apply DIR KIND FILE ARG [ARG2]
apply() {
	local dir=$1 kind=$2 file=$1/$3
	case $kind in
	trunc) truncate -s "$4" "$file" ;;
	flip) flip "$file" "$4" "$5" ;;
	rm) rm -f "$file" ;;
	esac
}

# ---- classification -------------------------------------------------------------------------

# report TRACE OUT: magslab report under timeout; RC, and the time in MS.
report() {
	local t0 t1
	rm -rf "$2"
	t0=$(date +%s%N)
	timeout -k 5 "$LIMIT" "$MAGSLAB" report "$1" -o "$2" --no-plots -q >"$2.out" 2>"$2.err" &&
		RC=0 || RC=$?
	t1=$(date +%s%N)
	MS=$(((t1 - t0) / 1000000))
}

# classify REF OUT: CLASS (identical, damaged-flagged, damaged-refused, or a failure:
# HANG, CRASH, WRONG, BAD-ERROR, BAD-FLAG) from RC and the outputs.
classify() {
	local ref=$1 out=$2 lines
	if ((RC == 124 || RC == 137)); then
		CLASS=HANG
	elif ((RC > 128)); then
		CLASS="CRASH(signal $((RC - 128)))"
	elif ((RC == 0)); then
		if cmp -s "$ref/summary.json" "$out/summary.json" &&
			cmp -s "$ref/summary.txt" "$out/summary.txt"; then
			CLASS=identical
		else
			CLASS=WRONG
		fi
	elif ((RC == 3)); then
		if head -n 1 "$out/summary.txt" | grep -q '^DAMAGED TRACE' &&
			[[ $(jq -r '.damage.damaged' "$out/summary.json") == true ]]; then
			CLASS=damaged-flagged
		else
			CLASS=BAD-FLAG
		fi
	elif ((RC == 1)); then
		lines=$(wc -l <"$out.err")
		if ((lines == 1)) && grep -q '^magslab report: ' "$out.err"; then
			CLASS=damaged-refused
		else
			CLASS=BAD-ERROR
		fi
	else
		CLASS="BAD-STATUS($RC)"
	fi
}

# ---- tests ----------------------------------------------------------------------------------

t_fuzz() {
	local ref=$WORK/fuzz/ref m name kind file args bad=0 n=0 c
	local -A count=()
	make_mutations
	((${#MUTATIONS[@]} >= 30)) || fail "only ${#MUTATIONS[@]} mutations"
	fresh "$WORK/fuzz/orig"
	report "$WORK/fuzz/orig" "$ref"
	((RC == 0)) || fail "the original trace: exit status $RC: $(cat "$ref.err")"
	printf '%-14s %-34s %-16s %5s  %s\n' mutation what classification ms "first line / error"
	for m in "${MUTATIONS[@]}"; do
		read -r name kind file args <<<"$m"
		fresh "$WORK/fuzz/mut"
		# shellcheck disable=SC2086 # args: one or two numbers
		apply "$WORK/fuzz/mut" "$kind" "$file" $args
		report "$WORK/fuzz/mut" "$WORK/fuzz/out"
		classify "$ref" "$WORK/fuzz/out"
		n=$((n + 1))
		count[$CLASS]=$((${count[$CLASS]:-0} + 1))
		case $CLASS in
		identical) c="" ;;
		damaged-flagged) c=$(head -n 1 "$WORK/fuzz/out/summary.txt") ;;
		*) c=$(head -n 1 "$WORK/fuzz/out.err") ;;
		esac
		printf '%-14s %-34s %-16s %5d  %.110s\n' "$name" "$kind ${file##*/} $args" "$CLASS" \
			"$MS" "$c"
		case $CLASS in
		identical | damaged-flagged | damaged-refused) ;;
		*) bad=$((bad + 1)) ;;
		esac
	done
	printf 'mutations: %d;' "$n"
	for c in "${!count[@]}"; do printf ' %s %d;' "$c" "${count[$c]}"; done
	printf '\n'
	((bad == 0)) || fail "$bad of $n mutations neither identical nor reported as damaged"
}

# zero-stream: an emptied stream file (the issue's "report of half the events that says No
# events were discarded"): the report is written, flagged on its first line, exit 3.
t_zero_stream() {
	local t=$WORK/zero/trace out=$WORK/zero/out first
	fresh "$t"
	: >"$t/$STREAMDIR/ch_0"
	report "$t" "$out"
	((RC == 3)) || fail "exit status $RC, want 3: $(cat "$out.err")"
	first=$(head -n 1 "$out/summary.txt")
	[[ $first == "DAMAGED TRACE: lost data: stream "*"/ch_0 has 0 of the 4096 bytes its index lists (1 packet)"* ]] ||
		fail "first line of summary.txt: $first"
	[[ $(jq -r '.damage.findings_total' "$out/summary.json") == 1 ]] || fail "summary.json damage"
	grep -q '^magslab report: WARNING: damaged trace: lost data' "$out.err" ||
		fail "no warning on stderr: $(cat "$out.err")"
	# the same trace, intact: not damaged, exit 0
	fresh "$t"
	report "$t" "$out"
	((RC == 0)) || fail "intact trace: exit status $RC"
	[[ $(jq -r '.damage.damaged' "$out/summary.json") == false ]] || fail "intact trace flagged"
	head -n 1 "$out/summary.txt" | grep -qx 'No events were discarded.' ||
		fail "intact trace: first line $(head -n 1 "$out/summary.txt")"
	echo "zero-length ch_0: exit 3, $first"
}

# meta-cut: metadata cut inside its second packet: refused at once with one line (it hung
# forever before), by report and by replay.
t_meta_cut() {
	local t=$WORK/metacut/trace out=$WORK/metacut/out
	fresh "$t"
	truncate -s 5000 "$t/$STREAMDIR/metadata"
	report "$t" "$out"
	((RC == 1)) || fail "report: exit status $RC, want 1"
	((MS < 5000)) || fail "report took $MS ms"
	grep -q "metadata: truncated metadata: the packet at offset 4096 has 904 of its" "$out.err" ||
		fail "report: $(cat "$out.err")"
	timeout -k 5 "$LIMIT" "$WORKLOAD" replay "$t" --quiet >/dev/null 2>"$out.replay" &&
		RC=0 || RC=$?
	((RC == 2)) || fail "replay: exit status $RC, want 2: $(cat "$out.replay")"
	grep -q "truncated metadata" "$out.replay" || fail "replay: $(cat "$out.replay")"
	echo "report: $(cat "$out.err")"
	echo "replay: $(cat "$out.replay")"
}

# stall: with the framing check off (MAGSLAB_SKIP_METADATA_CHECK, a test hook), babeltrace2
# loops on the cut metadata; the watchdog ends report and replay after the stall limit.
t_stall() {
	local t=$WORK/stall/trace out=$WORK/stall/out
	fresh "$t"
	truncate -s 5000 "$t/$STREAMDIR/metadata"
	MAGSLAB_SKIP_METADATA_CHECK=1 MAGSLAB_STALL_TIMEOUT=2 report "$t" "$out"
	((RC == 1)) || fail "report: exit status $RC, want 1 (124: the watchdog did not fire)"
	((MS >= 1900 && MS < 10000)) || fail "report ended after $MS ms"
	grep -qx "magslab: babeltrace2, reading the trace metadata, made no progress for 2 s: the trace is damaged, or the decoder is stuck; giving up" "$out.err" ||
		fail "report: $(cat "$out.err")"
	echo "report: $MS ms: $(cat "$out.err")"
	local t0 t1
	t0=$(date +%s%N)
	MAGSLAB_SKIP_METADATA_CHECK=1 MAGSLAB_STALL_TIMEOUT=2 timeout -k 5 "$LIMIT" \
		"$WORKLOAD" replay "$t" --quiet >/dev/null 2>"$out.replay" && RC=0 || RC=$?
	t1=$(date +%s%N)
	((RC == 1)) || fail "replay: exit status $RC, want 1"
	grep -q "^magslab-workload replay: babeltrace2, reading the trace, made no progress for 2 s" "$out.replay" ||
		fail "replay: $(cat "$out.replay")"
	echo "replay: $(((t1 - t0) / 1000000)) ms: $(cat "$out.replay")"
}

# sanity: impossible values the sink catches on its own (through the babeltrace2 CLI, no
# front end): a full magazine with rounds beyond every magsize (flip-ch1-2 of the fuzz set),
# an empty one with rounds, a depot of 2e17 magazines.
t_sanity() {
	local t=$WORK/sanity/trace out=$WORK/sanity/out spec off x want
	local -a cases=(
		"31187 97 a full magazine of 24840 rounds, above every magsize the cache had (at most 8)"
		"196824 76 an empty magazine with 76 rounds"
		"50947 3 216172782113783870 magazines in the depot"
	)
	for spec in "${cases[@]}"; do
		read -r off x want <<<"$spec"
		fresh "$t"
		flip "$t/$STREAMDIR/ch_1" "$off" "$x"
		rm -rf "$out"
		timeout -k 5 "$LIMIT" babeltrace2 --plugin-path="$ROOT/$BUILD/lib/babeltrace2/plugins" \
			"$t" -c sink.magslab.report -p "output-dir=\"$out\"" >/dev/null 2>"$out.err" ||
			fail "babeltrace2 failed: $(cat "$out.err")"
		head -n 1 "$out/summary.txt" | grep -qF "DAMAGED TRACE: impossible value: " ||
			fail "flip at $off: first line $(head -n 1 "$out/summary.txt")"
		jq -r '.damage.findings[]' "$out/summary.json" | grep -qF "$want" ||
			fail "flip at $off: summary.json damage $(jq -c .damage "$out/summary.json"), want '$want'"
		echo "flip ch_1 at $off xor $x: $(head -n 1 "$out/summary.txt")"
	done
	# the stock CLI accepts the parameter the front end passes
	rm -rf "$out"
	babeltrace2 --plugin-path="$ROOT/$BUILD/lib/babeltrace2/plugins" "$SRC" \
		-c sink.magslab.report -p "output-dir=\"$out\",damage=[\"lost data: test\"]" \
		>/dev/null 2>&1 || fail "damage parameter refused"
	[[ $(head -n 1 "$out/summary.txt") == "DAMAGED TRACE: lost data: test; the figures below are not reliable" ]] ||
		fail "damage parameter: $(head -n 1 "$out/summary.txt")"
}

main() {
	local t failed=0 rc
	if [[ ${1:-} == --list ]]; then
		printf '%s\n' "${ALL_TESTS[@]}"
		exit 0
	fi
	mkdir -p "$WORK"
	if [[ ${1:-} == table ]]; then
		t_fuzz
		exit
	fi
	"$MAKE" --no-print-directory -s all BUILD="$BUILD" >"$WORK/build.log" 2>&1 ||
		{ echo "damage-test: FAIL build: see $WORK/build.log"; exit 1; }
	(($#)) || set -- "${ALL_TESTS[@]}"
	for t in "$@"; do
		(set -e; "t_${t//-/_}") >"$WORK/$t.log" 2>&1
		rc=$?
		if ((rc == 0)); then
			echo "damage-test: PASS $t"
		else
			echo "damage-test: FAIL $t: $(grep -m1 '^FAIL: ' "$WORK/$t.log" | cut -c7-) (see $WORK/$t.log)"
			failed=1
		fi
	done
	exit "$failed"
}

main "$@"
