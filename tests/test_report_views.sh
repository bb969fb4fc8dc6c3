#!/usr/bin/env bash
# tests/test_report_views.sh — the views of a report a researcher opens: index.html in a
# browser, trace.json in a trace viewer, two runs side by side (magslab diff).
#
#   tests/test_report_views.sh [TEST...]    run every test (or the ones named)
#   tests/test_report_views.sh --list       the test names, one a line
#
# The tests, on the committed traces of tests/data (report-traces.md):
#   browser         magslab report (plots rendered) of report-phases; headless Chromium
#                   (Debian's chromium) loads index.html from file://: no JavaScript error
#                   (the page notes every error, script or missing file, on its root
#                   element: data-magslab-errors), every plot drawn on its canvas
#                   (data-magslab-drawn: name and page position), and a screenshot of each
#                   plot's area is not blank (ImageMagick counts its colours); every
#                   script the page loads is a file of the report directory (offline).
#   tracejson       trace.json parses (jq); per plotted cache, the contention slices, the
#                   magsize counter events and the workload phase slices equal summary.json's
#                   counts (contention.count, bumps up + down + 2, the phases)
#   diff-self       magslab diff of a report with itself: exit 0, the first line begins
#                   "no change", every figure row of summary.txt says "no change",
#                   diff.json "changed": false
#   diff-two        magslab diff of report-phases and a copy whose summary.json says wl-phases
#                   contended less, grew more and missed more: the
#                   first line names the run that contended less and grew less, with the
#                   numbers of summary.json; diff.json's changes agree; the plots drawn
#   diff-unrelated  magslab diff of report-phases and report-prodcons (no cache of the
#                   program in common): exit 2, one line on stderr that says so; usage
#                   errors (one input, --bogus) exit 2 with one line; --help exits 0
#
# Prints "views-test: PASS NAME" or "views-test: FAIL NAME: REASON (see LOG)" per test, exit
# status 0 if every one passed.  tests/run-tests.sh (configuration "other") runs each test
# as one check, "views-NAME".  Environment: BUILD (default build), MAKE.  Work files:
# $BUILD/test-views/.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)
BUILD=${BUILD:-build}
MAKE=${MAKE:-make}
mkdir -p "$BUILD" && BUILD=$(cd "$BUILD" && pwd)
WORK=$BUILD/test-views
DATA=$ROOT/tests/data
BIN=$BUILD/bin/magslab

ALL_TESTS=(browser tracejson diff-self diff-two diff-unrelated)

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

say() { printf '%s\n' "$*"; }

# report NAME TRACE [ARGS...]: $WORK/NAME, the report of tests/data/report-TRACE (once).
report() {
	local name=$1 trace=$2 out=$WORK/$1
	shift 2
	[[ -f $out/summary.json && $out -nt $BIN ]] && return 0
	rm -rf "$out"
	"$BIN" report -q "$@" "$DATA/report-$trace" -o "$out" >"$out.log" 2>&1 ||
		fail "magslab report $trace failed (see $out.log)"
}

# chrome ARGS... URL: headless Chromium, its own profile, no sandbox (root in CI).
chrome() {
	timeout 120 chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars \
		--user-data-dir="$WORK/chrome-profile" --virtual-time-budget=10000 \
		--window-size=1300,6000 "$@" 2>>"$WORK/chrome.log"
}

t_browser() {
	local out dom errs drawn n x y k shot colours p
	command -v chromium >/dev/null || fail "no chromium (make deps installs Debian's)"
	report browser phases
	out=$WORK/browser
	for p in $(grep -o 'src="[^"]*"' "$out/index.html" | cut -d'"' -f2); do
		[[ $p != *:* && -f $out/$p ]] || fail "index.html loads $p, not a file of the report"
	done
	dom=$(chrome --dump-dom "file://$out/index.html") || fail "chromium --dump-dom failed"
	errs=$(grep -o 'data-magslab-errors="[^"]*"' <<<"$dom" || true)
	[[ -z $errs ]] || fail "JavaScript errors: $errs"
	drawn=$(grep -o 'data-magslab-drawn="[^"]*"' <<<"$dom" | cut -d'"' -f2)
	n=$(wc -w <<<"$drawn")
	((n == 6)) || fail "$n plots drawn, not 6: '$drawn'"
	shot=$WORK/browser.png
	rm -f "$shot"
	chrome --screenshot="$shot" "file://$out/index.html" >/dev/null || fail "no screenshot"
	for k in $drawn; do
		x=${k#*:}; y=${x#*,}; x=${x%,*}
		colours=$(convert "$shot" -crop "1200x700+$x+$y" +repage -format %k info:)
		((colours >= 16)) || fail "plot ${k%%:*}: its area has $colours colours (blank?)"
		say "plot ${k%%:*} at $x,$y: $colours colours"
	done
	say "no JavaScript error; 6 plots drawn and not blank"
}

t_tracejson() {
	local out=$WORK/browser tj want got pid name
	report browser phases
	tj=$out/trace.json
	jq -e '.traceEvents | length > 0' "$tj" >/dev/null || fail "trace.json does not parse"
	want=$(jq '[.phases[] | select(.name != "end")] | length' "$out/summary.json")
	got=$(jq '[.traceEvents[] | select(.ph == "X" and .cat == "phase")] | length' "$tj")
	[[ $want == "$got" ]] || fail "$got phase slices, summary.json has $want phases"
	for pid in $(jq '.otherData.caches[].pid' "$tj"); do
		name=$(jq -r ".otherData.caches[] | select(.pid == $pid) | .name" "$tj")
		want=$(jq --arg n "$name" '[.caches[] | select(.name == $n)][0].contention.count' \
			"$out/summary.json")
		got=$(jq "[.traceEvents[] | select(.pid == $pid and .ph == \"X\")] | length" "$tj")
		[[ $want == "$got" ]] || fail "$name: $got contention slices, summary.json $want"
		want=$(jq --arg n "$name" '[.caches[] | select(.name == $n)][0] |
			.bumps.up + .bumps.down + 2' "$out/summary.json")
		got=$(jq "[.traceEvents[] | select(.pid == $pid and .name == \"magsize\")] | length" "$tj")
		[[ $want == "$got" ]] || fail "$name: $got magsize counter events, want $want"
		say "$name: contention slices, magsize counters as summary.json"
	done
}

# figrows FILE: the figure rows of a diff's summary.txt (lines with A, B and a change).
figrows() { grep -E '^  [a-z].*  (no change|none in [AB]|[-+][0-9].*)$' "$1" | grep -v '^  figure'; }

t_diff-self() {
	local out=$WORK/diff-self first rows bad
	report browser phases
	rm -rf "$out"
	"$BIN" diff -q "$WORK/browser" "$WORK/browser" -o "$out" >"$out.stdout" 2>"$out.stderr" ||
		fail "magslab diff exited $? (see $out.stderr)"
	first=$(head -n 1 "$out/summary.txt")
	[[ $first == "no change: "* ]] || fail "first line: $first"
	rows=$(figrows "$out/summary.txt" | wc -l)
	bad=$(figrows "$out/summary.txt" | grep -vc 'no change$')
	((rows > 12 && bad == 0)) || fail "$bad of $rows figure rows changed"
	jq -e '.changed == false' "$out/diff.json" >/dev/null || fail "diff.json: changed is not false"
	say "$rows rows, every one 'no change'; $first"
}

t_diff-two() {
	local out=$WORK/diff-two a b ca cb ga gb want first
	report browser phases
	# B: the same report with other figures for wl-phases (summary.json edited): what the
	# first line and diff.json say must follow the numbers
	rm -rf "$WORK/edited"
	cp -r "$WORK/browser" "$WORK/edited"
	jq '(.caches[] | select(.name == "wl-phases")) |= (.contention.count = 20 |
		.bumps.up += 3 | .depot.misses[0] += 7)' "$WORK/browser/summary.json" \
		>"$WORK/edited/summary.json" || fail "jq failed"
	rm -rf "$out"
	"$BIN" diff -q "$WORK/browser" "$WORK/edited" -o "$out" >"$out.stdout" 2>"$out.stderr" ||
		fail "magslab diff exited $? (see $out.stderr)"
	a=$WORK/browser/summary.json b=$WORK/edited/summary.json
	ca=$(jq '[.caches[] | select(.name == "wl-phases")][0].contention.count' "$a")
	cb=$(jq '[.caches[] | select(.name == "wl-phases")][0].contention.count' "$b")
	ga=$(jq '[.caches[] | select(.name == "wl-phases")][0].bumps.up' "$a")
	gb=$(jq '[.caches[] | select(.name == "wl-phases")][0].bumps.up' "$b")
	first=$(head -n 1 "$out/summary.txt")
	if ((ca < cb)); then want="A contended less ($ca vs $cb"
	elif ((ca > cb)); then want="B contended less ($cb vs $ca"
	else want="A and B contended equally ($ca"; fi
	[[ $first == *"$want"* ]] || fail "first line '$first' does not say '$want'"
	if ((ga < gb)); then want="A grew less ($ga vs $gb"
	elif ((ga > gb)); then want="B grew less ($gb vs $ga"
	else want="A and B grew equally ($ga"; fi
	[[ $first == *"$want"* ]] || fail "first line '$first' does not say '$want'"
	jq -e --argjson a "$ca" --argjson b "$cb" '.caches[] | select(.name == "wl-phases") |
		.figures.contended | .a == $a and .b == $b' "$out/diff.json" >/dev/null ||
		fail "diff.json: wl-phases contended is not $ca -> $cb"
	[[ -s $out/diff-magsize.png && -s $out/diff-contention.svg ]] || fail "plots not drawn"
	say "$first"
}

t_diff-unrelated() {
	local out=$WORK/diff-unrelated n
	report browser phases
	report prodcons prodcons
	"$BIN" diff "$WORK/browser" "$WORK/prodcons" -o "$out" >"$out.stdout" 2>"$out.stderr"
	n=$?
	((n == 2)) || fail "exit status $n, not 2"
	(($(wc -l <"$out.stderr") == 1)) || fail "stderr is not one line: $(cat "$out.stderr")"
	grep -q "no cache in common" "$out.stderr" || fail "stderr: $(cat "$out.stderr")"
	say "$(cat "$out.stderr")"
	"$BIN" diff "$WORK/browser" >/dev/null 2>"$out.stderr"; n=$?
	((n == 2)) && (($(wc -l <"$out.stderr") == 1)) || fail "one input: exit $n"
	"$BIN" diff --bogus a b >/dev/null 2>"$out.stderr"; n=$?
	((n == 2)) && (($(wc -l <"$out.stderr") == 1)) || fail "--bogus: exit $n"
	"$BIN" diff --help | grep -q '^usage: magslab diff' || fail "--help"
}

case ${1:-} in
--list)
	printf '%s\n' "${ALL_TESTS[@]}"
	exit 0
	;;
esac
mkdir -p "$WORK"
"$MAKE" --no-print-directory -s frontend analysis-plugin BUILD="$BUILD" >"$WORK/build.log" 2>&1 ||
	{ say "views-test: FAIL build: see $WORK/build.log"; exit 1; }
tests=("$@")
((${#tests[@]})) || tests=("${ALL_TESTS[@]}")
failed=0
for name in "${tests[@]}"; do
	[[ " ${ALL_TESTS[*]} " == *" $name "* ]] ||
		{ say "views-test: FAIL $name: no such test"; failed=1; continue; }
	log=$WORK/$name.log
	if ("t_$name") >"$log" 2>&1; then
		say "views-test: PASS $name"
	else
		failed=1
		say "views-test: FAIL $name: $(grep -m1 '^FAIL: ' "$log" | cut -c7-200) (see $log)"
	fi
done
exit $failed
