#!/usr/bin/env bash
#
# Regenerated for issue 15 (exact layers, canvas plots, trace.json, slots view): the
# reports of these traces (all recorded with the old depot_get + depot_put pair, no pcc
# counters) keep every figure; what changed, checked with a diff -r against main's build:
# new files trace.json, slots.dat, slots.gp; each NAME.gp also writes NAME.js (the canvas
# terminal) and its title says "WHAT: RUN" where it said "WHAT — RUN" (the canvas
# terminal's text is ASCII); index.html loads the canvas scripts and draws each plot on a
# canvas, links trace.json; summary.json has "pcc_counters": null per cache, "source" under
# "layers", slots.gp in "plots"; the layers line (summary.txt, index.html, stdout) and
# layers.dat/layers.gp name what is missing as "alloc events or pcc counters".
# tests/test_report_identical.sh — the reports stay byte for byte what they were.
#
#   tests/test_report_identical.sh [CASE...]        check every case (or the ones named)
#   tests/test_report_identical.sh --list           the case names, one a line
#   tests/test_report_identical.sh --generate FILE  write the expected hashes of every case,
#                                                   as this build makes them, into FILE
#   tests/test_report_identical.sh --against REV [TRACE...]
#                                                   build REV (git archive) beside this
#                                                   build, make every case and a report of
#                                                   each TRACE with both, `diff -r` them
#                                                   (plots rendered: PNG and SVG too)
#
# Why: issue 13 restructured analysis/ (the sink split into files, summary.json through
# jansson, the report directory's manifest, the host section passed in as a parameter)
# under one rule: every report file stays exactly as it was.  The expected hashes in
# tests/data/report-identical.sha256 were made with --generate by the build of commit
# 1d793ed (the last one before the restructure); a case passes when every file it makes
# has the hash of that build's file, and it makes no other file (but those listed in
# NEW_FILES below, which the restructure added).
#
# A case is one command on the committed traces of tests/data (report-traces.md), run in
# $WORK/in with relative paths, so that nothing in the output depends on where the tree
# is: `magslab report -q --no-plots` (the front end: the sink's files, the host tables,
# its stdout and stderr) or the babeltrace2 CLI with sink.magslab.report (the plugin as
# the stock CLI loads it).  What is compared: every file of the output directory, at any
# depth, but the rendered plots (*.png, *.svg: gnuplot's, from the scripts compared here;
# --against compares them too); the exit status; stdout and stderr, with the output
# directory's absolute path written OUT and the reading time ("in 0.3 s") written T.
#
# The cases: each stored trace reported alone (phases prodcons large perpid discarded
# phasesonly); phases with --bucket 1 and 7; phases through the CLI with max-caches=2 and a
# title that needs escaping, and with snapshot-ms=1 (the final report; snapshot.seq counts
# snapshots, which depends on timing, so it is left out); perpid through the CLI; phases
# and prodcons merged (one host); three hosts (phases, a copy of prodcons whose metadata
# names host hostB, a copy of foreign naming hostC, which has no magslab event): the merged
# report, one per host, hosts.txt, hosts.json; a damaged trace (a stream file emptied: the
# front end's finding) and one with an impossible value (a byte flipped: the sink's own).
#
# Prints "identical-test: PASS CASE" or "identical-test: FAIL CASE: REASON" per case, exit
# status 0 if every one passed.  tests/run-tests.sh (configuration "other") runs each case
# as one check, "identical-CASE".  Environment: BUILD (default build), MAKE.  Work files:
# $BUILD/test-identical/.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
BUILD=${BUILD:-build}
MAKE=${MAKE:-make}
mkdir -p "$BUILD" && BUILD=$(cd "$BUILD" && pwd)
WORK=$BUILD/test-identical
EXPECTED=$ROOT/tests/data/report-identical.sha256
DATA=$ROOT/tests/data
# Files the restructure added to a report directory (they have no expected hash).
NEW_FILES=(manifest.json)

ALL_CASES=(phases prodcons large perpid discarded phasesonly bucket-1 bucket-7 cli-params
	cli-snapshot cli-perpid merged hosts damaged flipped)

say() { printf '%s\n' "$*"; }

fail() {
	echo "FAIL: $*" >&2
	return 1
}

# ---- inputs -------------------------------------------------------------------------------

# rehost DIR HOST: the trace in DIR now says it was recorded on HOST (its metadata as
# babeltrace2 decodes it, as plain text, with another hostname line).
rehost() {
	local m
	m=$(find "$1" -name metadata) || return 1
	babeltrace2 -o ctf-metadata "$(dirname "$m")" |
		sed "s/^\([[:space:]]*hostname = \)\"[^\"]*\";/\1\"$2\";/" >"$m.new" &&
		mv "$m.new" "$m"
}

# flip FILE OFFSET XOR: one byte of FILE changed.
flip() {
	local b
	b=$(od -An -tu1 -j "$2" -N 1 "$1" | tr -d ' ')
	printf "$(printf '\\%03o' $((b ^ $3)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# The traces, copied under short names into $WORK/in (once per run of this script).
make_inputs() {
	local in=$WORK/in t
	rm -rf "$in"
	mkdir -p "$in"
	for t in phases prodcons large perpid discarded phasesonly foreign; do
		cp -r "$DATA/report-$t" "$in/$t"
	done
	cp -r "$DATA/report-prodcons" "$in/prodcons-b"
	rehost "$in/prodcons-b" hostB || fail "cannot rewrite the metadata of prodcons-b"
	cp -r "$DATA/report-foreign" "$in/foreign-c"
	rehost "$in/foreign-c" hostC || fail "cannot rewrite the metadata of foreign-c"
	cp -r "$DATA/report-prodcons" "$in/zero"
	: >"$in/zero/ust/uid/0/64-bit/ch_0"
	cp -r "$DATA/report-prodcons" "$in/flip"
	flip "$in/flip/ust/uid/0/64-bit/ch_1" 31187 97
}

# ---- the cases ----------------------------------------------------------------------------

# fe OUT ARGS...: magslab report -q --no-plots ARGS -o OUT, in $WORK/in.
fe() {
	local out=$1
	shift
	(cd "$WORK/in" && "$MAGSLAB" report -q --no-plots "$@" -o "$out") >"$out.stdout" \
		2>"$out.stderr"
	echo "$?" >"$out.rc"
}

# cli OUT TRACE... -- PARAMS: the babeltrace2 CLI with the sink, in $WORK/in.
cli() {
	local out=$1 t=()
	shift
	while [[ $1 != -- ]]; do t+=("$1"); shift; done
	shift
	(cd "$WORK/in" && babeltrace2 --plugin-path="$PLUGDIR" "${t[@]}" -c sink.magslab.report \
		-p "output-dir=\"$out\"${1:+,$1}") >"$out.stdout" 2>"$out.stderr"
	echo "$?" >"$out.rc"
}

# run_case NAME OUT: makes the case's output directory OUT (and OUT.rc, .stdout, .stderr).
run_case() {
	local out=$2
	rm -rf "$out" "$out".*
	mkdir -p "$(dirname "$out")"
	case $1 in
	phases | prodcons | large | perpid | discarded | phasesonly) fe "$out" "$1" ;;
	bucket-1) fe "$out" --bucket 1 phases ;;
	bucket-7) fe "$out" --bucket 7 phases ;;
	cli-params) cli "$out" phases -- 'max-caches=2,title="A \"quoted\" <title> & more"' ;;
	cli-snapshot) cli "$out" phases -- 'snapshot-ms=1'; rm -f "$out/snapshot.seq" ;;
	cli-perpid) cli "$out" perpid -- '' ;;
	merged) fe "$out" phases prodcons ;;
	hosts) fe "$out" phases prodcons-b foreign-c ;;
	damaged) fe "$out" zero ;;
	flipped) fe "$out" flip ;;
	*) fail "no case $1"; return 1 ;;
	esac
}

# hashes NAME OUT: "NAME PATH SHA256" for every compared file of the case, sorted.
hashes() {
	local name=$1 out=$2 f
	{
		(cd "$out" && find . -type f ! -name '*.png' ! -name '*.svg' | sed 's|^\./||' |
			LC_ALL=C sort | while IFS= read -r f; do
				echo "$name $f $(sha256sum <"$f" | cut -d' ' -f1)"
			done)
		echo "$name :rc $(sha256sum <"$out.rc" | cut -d' ' -f1)"
		for f in stdout stderr; do
			echo "$name :$f $(sed -e "s|$out|OUT|g" -e 's/ in [0-9.]* s$/ in T s/' \
				"$out.$f" | sha256sum | cut -d' ' -f1)"
		done
	}
}

# check NAME: the case against the expected hashes.
check() {
	local name=$1 out=$WORK/out/$1 want got line path bad=0 n=0
	run_case "$name" "$out" || return 1
	want=$(grep "^$name " "$EXPECTED") || fail "no expected hashes for $name in $EXPECTED" ||
		return 1
	got=$(hashes "$name" "$out")
	while IFS= read -r line; do
		path=${line#"$name "}
		path=${path% *}
		if ! grep -qxF "$line" <<<"$got"; then
			if grep -q "^$name $path " <<<"$got"; then
				echo "differs: $path"
			else
				echo "missing: $path"
			fi
			bad=$((bad + 1))
		fi
		n=$((n + 1))
	done <<<"$want"
	while IFS= read -r line; do
		path=${line#"$name "}
		path=${path% *}
		grep -q "^$name $path " <<<"$want" && continue
		[[ " ${NEW_FILES[*]} " == *" ${path##*/} "* ]] && continue
		echo "new file: $path"
		bad=$((bad + 1))
	done <<<"$got"
	for path in rc stdout stderr; do
		echo "--- $path:"
		sed 's/^/  | /' "$out.$path" | head -n 20
	done
	((bad == 0)) || fail "$bad of $n files differ from the expected hashes (see $out)" || return 1
	echo "$n files, exit status, stdout and stderr identical"
}

# ---- --against REV ------------------------------------------------------------------------

# against REV TRACE...: both builds, every case plus a report of each TRACE, diff -r.
against() {
	local rev=$1 ref=$WORK/ref name bad=0 t k=0
	shift
	rm -rf "$ref"
	mkdir -p "$ref/src"
	git -C "$ROOT" archive "$rev" | tar -x -C "$ref/src" || fail "git archive $rev failed" ||
		return 1
	say "building $rev in $ref/src (log: $ref/build.log)"
	"$MAKE" -C "$ref/src" --no-print-directory all >"$ref/build.log" 2>&1 ||
		fail "the build of $rev failed (see $ref/build.log)" || return 1
	make_inputs || return 1
	for name in "${ALL_CASES[@]}"; do
		MAGSLAB=$ref/src/build/bin/magslab PLUGDIR=$ref/src/build/lib/babeltrace2/plugins \
			run_case "$name" "$WORK/a/$name"
		MAGSLAB=$BUILD/bin/magslab PLUGDIR=$BUILD/lib/babeltrace2/plugins \
			run_case "$name" "$WORK/b/$name"
		compare_dirs "$name" "$WORK/a/$name" "$WORK/b/$name" || bad=$((bad + 1))
	done
	for t in "$@"; do
		k=$((k + 1))
		for name in a b; do
			local bin=$BUILD/bin/magslab out=$WORK/$name/trace$k
			[[ $name == a ]] && bin=$ref/src/build/bin/magslab
			rm -rf "$out"
			"$bin" report -q "$t" -o "$out" >"$out.stdout" 2>"$out.stderr"
			echo "$?" >"$out.rc"
		done
		compare_dirs "trace $t" "$WORK/a/trace$k" "$WORK/b/trace$k" || bad=$((bad + 1))
	done
	((bad == 0)) || fail "$bad of $((${#ALL_CASES[@]} + $#)) reports differ"
}

# compare_dirs WHAT A B: diff -r of two outputs (NEW_FILES only in B allowed), rc, stdout
# and stderr normalized.
compare_dirs() {
	local what=$1 a=$2 b=$3 d x
	d=$(diff -r "$a" "$b" 2>&1 | grep -v -E "^Only in $b[^:]*: ($(IFS='|'; echo "${NEW_FILES[*]}"))\$")
	for x in rc stdout stderr; do
		diff <(sed -e "s|$a|OUT|g" -e 's/ in [0-9.]* s$/ in T s/' "$a.$x") \
			<(sed -e "s|$b|OUT|g" -e 's/ in [0-9.]* s$/ in T s/' "$b.$x") >/dev/null ||
			d+=$'\n'"$x differs"
	done
	if [[ -n ${d//[$'\n']/} ]]; then
		say "DIFFERS $what:"
		sed 's/^/  /' <<<"$d" | head -n 40
		return 1
	fi
	say "identical $what ($(find "$b" -type f | wc -l) files)"
}

# ---- main ---------------------------------------------------------------------------------

MAGSLAB=$BUILD/bin/magslab
PLUGDIR=$BUILD/lib/babeltrace2/plugins

case ${1:-} in
--list)
	printf '%s\n' "${ALL_CASES[@]}"
	exit 0
	;;
--against)
	shift
	[[ -n ${1:-} ]] || { say "usage: $0 --against REV [TRACE...]" >&2; exit 2; }
	mkdir -p "$WORK"
	against "$@"
	exit
	;;
esac
mkdir -p "$WORK"
"$MAKE" --no-print-directory -s frontend analysis-plugin BUILD="$BUILD" >"$WORK/build.log" 2>&1 ||
	{ say "identical-test: FAIL build: see $WORK/build.log"; exit 1; }
if ! make_inputs >"$WORK/inputs.log" 2>&1; then
	say "identical-test: FAIL inputs: $(grep -m1 '^FAIL' "$WORK/inputs.log") (see $WORK/inputs.log)"
	exit 1
fi
if [[ ${1:-} == --generate ]]; then
	[[ -n ${2:-} ]] || { say "usage: $0 --generate FILE" >&2; exit 2; }
	: >"$2"
	for name in "${ALL_CASES[@]}"; do
		run_case "$name" "$WORK/out/$name" && hashes "$name" "$WORK/out/$name" >>"$2"
	done
	say "wrote $(wc -l <"$2") hashes of ${#ALL_CASES[@]} cases into $2"
	exit 0
fi
cases=("$@")
((${#cases[@]})) || cases=("${ALL_CASES[@]}")
failed=0
for name in "${cases[@]}"; do
	[[ " ${ALL_CASES[*]} " == *" $name "* ]] ||
		{ say "identical-test: FAIL $name: no such case (have: ${ALL_CASES[*]})"; failed=1; continue; }
	log=$WORK/$name.log
	if (set -e; check "$name") >"$log" 2>&1; then
		say "identical-test: PASS $name"
	else
		failed=1
		say "identical-test: FAIL $name: $(grep -m1 '^FAIL: ' "$log" | cut -c7-200) (see $log)"
	fi
done
exit $failed
