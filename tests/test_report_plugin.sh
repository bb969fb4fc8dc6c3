#!/usr/bin/env bash
# tests/test_report_plugin.sh — checks of the babeltrace2 plugin sink.magslab.report
# (analysis/plugin/, docs/report.md) on the traces committed under tests/data/report-*.
#
#   tests/test_report_plugin.sh [TEST...]      run every test (or the ones named)
#   tests/test_report_plugin.sh --list         the test names, one a line
#   tests/test_report_plugin.sh report TRACE OUTDIR [PARAMS]
#   tests/test_report_plugin.sh compare OUTDIR WORKLOAD.json
#   tests/test_report_plugin.sh plots OUTDIR
#   tests/test_report_plugin.sh discarded OUTDIR TRACE
#       helpers, also used by the report_* tests of tests/lttng-session.sh on traces it
#       records itself: run the sink; compare summary.json with the workload's own JSON;
#       render every plot script and check the images; check the discarded-events report
#       against what babeltrace2's text sink says.  Exit 0, or 1 with "FAIL: reason".
#
# Prints "report-test: PASS NAME" or "report-test: FAIL NAME: REASON" per test and exits
# 0 if every one passed, 1 otherwise.  tests/run-tests.sh (configuration "other") runs
# each test as one check, "plugin-NAME".
#
# The committed traces (tests/data/report-traces.md says how they were recorded):
#   report-phases     phases (idle, burst, steady, idle): magsize 8 -> 62 in the burst
#   report-prodcons   a short prodcons run                  report-large  hash resizes
#   report-perpid     two processes, per-PID buffers, vpid context (pair, then batch)
#   report-discarded  4 KiB x 2 sub-buffers: events lost    report-foreign  no magslab event
#   report-phasesonly 200 workload_phase markers and no cache
# each with the workload's --json output beside it (report-NAME.json).
# `snapshots` checks the live snapshots (parameter snapshot-ms, used by magslab live).
#
# Images: a PNG must be 1200x700 with more than 16 distinct colours (ImageMagick's
# identify), an SVG well-formed XML (xmllint) with more than 10 <path> elements.
#
# Environment: BUILD (default build), MAKE, REPORT_PLUGDIR (the plugin directory; default
# $BUILD/lib/babeltrace2/plugins).  Work files: $BUILD/test-report/.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 2
ROOT=$(pwd)

BUILD=${BUILD:-build}
MAKE=${MAKE:-make}
PLUGDIR=${REPORT_PLUGDIR:-$ROOT/$BUILD/lib/babeltrace2/plugins}
FRONTEND=$ROOT/$BUILD/bin/magslab
WORK=$ROOT/$BUILD/test-report
DATA=$ROOT/tests/data
PLOTS=(magsize contention hash depot layers slots)

ALL_TESTS=(build stats-phases stats-prodcons stats-large stats-perpid plots phases-story
	discarded clean-first-line truncated corrupt no-magslab no-caches params buckets html
	same-as-frontend snapshots)

say() { printf '%s\n' "$*"; }

# fail MESSAGE: the test (a subshell) or the helper subcommand fails, saying why.
fail() {
	echo "FAIL: $*" >&2
	exit 1
}

# ---- helpers (also subcommands) ----------------------------------------------------------------

build_plugin() {
	"$MAKE" --no-print-directory analysis-plugin BUILD="$BUILD" >"$WORK/build.log" 2>&1 ||
		{ cat "$WORK/build.log"; fail "make analysis-plugin failed"; }
}

# report TRACE OUTDIR [PARAMS]: the sink through the babeltrace2 CLI; stderr in OUTDIR.err.
report() {
	local trace=$1 out=$2 params=${3:-}
	rm -rf "$out"
	mkdir -p "$(dirname "$out")"
	babeltrace2 --plugin-path="$PLUGDIR" "$trace" -c sink.magslab.report \
		-p "output-dir=\"$out\"${params:+,$params}" >"$out.out" 2>"$out.err"
}

# jget FILE FILTER: one jq value (raw).
jget() {
	jq -r "$2" "$1"
}

# compare OUTDIR WORKLOAD.json: every cache of the workload's JSON against summary.json.
compare() {
	local out=$1 wl=$2 n i name id sel key want got vpid ok=0
	local -a pairs=(
		'.magsize|.magsize.final'
		'.magsize_up|.bumps.up'
		'.magsize_down|.bumps.down'
		'.depot_contended|.contention.count'
		'.depot_contended_counted|.contention.counted'
		'.contention_wait_ns|.contention.wait_ns.total'
		'.contention_wait_max_ns|.contention.wait_ns.max // 0'
		'.hash_resizes|.hash.resizes'
		'.depot_gets|.depot.gets'
		'.depot_puts|.depot.puts'
		'.depot_misses|.depot.misses'
		'.mag_swaps|.mag_swaps'
		'.pcc_contended|.pcc_contention.count'
		'.obj_size|.obj_size'
		'.resize_threshold|.threshold'
		'.resize_timeout_ns|.timeout_ns'
		'.policy|.policy'
	)
	[[ -f $out/summary.json ]] || fail "no $out/summary.json"
	[[ $(jget "$out/summary.json" '.discarded.events') == 0 ]] ||
		fail "events were discarded: counts cannot be compared"
	n=$(jget "$wl" '.caches | length')
	((n > 0)) || fail "$wl has no caches"
	for ((i = 0; i < n; i++)); do
		name=$(jget "$wl" ".caches[$i].name")
		id=$(jget "$wl" ".caches[$i].id")
		sel=".caches[] | select(.name == \"$name\" and .id == $id)"
		vpid=$(jq -r "[$sel] | length" "$out/summary.json")
		[[ $vpid == 1 ]] || fail "summary.json has $vpid caches named $name with id $id (want 1)"
		for key in "${pairs[@]}"; do
			want=$(jq -c ".caches[$i] | ${key%%|*}" "$wl")
			[[ $want == null ]] && continue
			got=$(jq -c "$sel | ${key#*|}" "$out/summary.json")
			if [[ $want != "$got" ]]; then
				echo "  $name: workload ${key%%|*} = $want, summary.json ${key#*|} = $got"
				ok=1
			fi
		done
		echo "  $name (id $id): magsize $(jq -c "$sel | .magsize" "$out/summary.json"), bumps" \
			"$(jq -c "$sel | .bumps.up" "$out/summary.json") up, contended" \
			"$(jq -c "$sel | .contention.count" "$out/summary.json"), hash resizes" \
			"$(jq -c "$sel | .hash.resizes" "$out/summary.json"), depot gets" \
			"$(jq -c "$sel | .depot.gets" "$out/summary.json"): as the workload's JSON says"
	done
	((ok == 0)) || fail "summary.json and the workload's JSON ($wl) disagree"
}

# check_png FILE, check_svg FILE
check_png() {
	local f=$1 info
	[[ -s $f ]] || fail "$f: missing or empty"
	[[ $(head -c 8 "$f" | od -An -tx1 | tr -d ' \n') == 89504e470d0a1a0a ]] ||
		fail "$f: not a PNG (magic bytes)"
	info=$(identify -format '%m %w %h %k' "$f" 2>&1) || fail "$f: identify: $info"
	read -r fmt w h colours <<<"$info"
	[[ $fmt == PNG && $w == 1200 && $h == 700 ]] || fail "$f: $info (want PNG 1200x700)"
	((colours > 16)) || fail "$f: only $colours colours: blank?"
	echo "  $f: PNG ${w}x$h, $colours colours"
}

check_svg() {
	local f=$1 paths err
	[[ -s $f ]] || fail "$f: missing or empty"
	err=$(xmllint --noout "$f" 2>&1) || fail "$f: not well-formed XML: $(head -n 2 <<<"$err")"
	paths=$(grep -o '<path' "$f" | wc -l)
	((paths > 10)) || fail "$f: only $paths <path> elements"
	echo "  $f: well-formed SVG, $paths paths"
}

# plots OUTDIR: every script renders (cwd = OUTDIR) to a good PNG and SVG.
plots() {
	local out=$1 p log
	for p in "${PLOTS[@]}"; do
		[[ -f $out/$p.gp ]] || fail "no $p.gp in $out"
		rm -f "$out/$p.png" "$out/$p.svg"
		log=$( (cd "$out" && gnuplot "$p.gp") 2>&1) || fail "gnuplot $p.gp failed: $log"
		if grep -qiE 'warning|error' <<<"$log"; then
			fail "gnuplot $p.gp printed: $(head -n 3 <<<"$log")"
		fi
		check_png "$out/$p.png"
		check_svg "$out/$p.svg"
	done
}

# discarded OUTDIR TRACE: the report says what babeltrace2's text sink says was lost.
discarded() {
	local out=$1 trace=$2 want got line windows
	want=$(babeltrace2 "$trace" 2>&1 >/dev/null |
		awk '/WARNING: Tracer discarded/ { n += $4 } END { print n + 0 }')
	((want > 0)) || fail "babeltrace2 reports no discarded events in $trace"
	line=$(head -n 1 "$out/summary.txt")
	[[ $line =~ ^WARNING:\ ([0-9]+)\ events\ were\ discarded\ by\ the\ tracer\ between\ [0-9.-]+\ s\ and\ [0-9.-]+\ s ]] ||
		fail "summary.txt first line: '$line'"
	got=${BASH_REMATCH[1]}
	((got == want)) || fail "summary.txt says $got events discarded, babeltrace2 says $want"
	[[ $(jget "$out/summary.json" '.discarded.events') == "$want" ]] ||
		fail "summary.json .discarded.events = $(jget "$out/summary.json" '.discarded.events'), want $want"
	windows=$(jget "$out/summary.json" '.discarded.windows | length')
	((windows > 0)) || fail "summary.json has no discarded windows"
	jq -e --argjson d "$(jget "$out/summary.json" '.trace.duration_s')" \
		'[.discarded.windows[] | select(.[0] > .[1] or .[1] > $d + 1)] | length == 0' \
		"$out/summary.json" >/dev/null || fail "a discarded window is out of the trace"
	grep -q '^set object [0-9]* rect' "$out/common.gpi" || fail "common.gpi shades no window"
	grep -q 'events discarded by the tracer' "$out/magsize.gp" || fail "magsize.gp: no key for the shaded windows"
	grep -q "^sink.magslab.report: WARNING: $want events were discarded" "$out.err" ||
		fail "the sink did not warn on stderr"
	echo "  $want events discarded, $windows window(s): in summary.txt (first line), summary.json, common.gpi"
}

# ---- the tests -------------------------------------------------------------------------------

t_build() {
	local out
	build_plugin || return 1
	out=$(babeltrace2 --plugin-path="$PLUGDIR" help sink.magslab.report 2>&1) ||
		fail "babeltrace2 help sink.magslab.report: $out"
	grep -q 'output-dir' <<<"$out" || fail "the component's help does not mention output-dir"
	readelf -d "$PLUGDIR/babeltrace-plugin-magslab.so" | grep NEEDED
	if readelf -d "$PLUGDIR/babeltrace-plugin-magslab.so" | grep NEEDED | grep -q magslab; then
		fail "the plugin links libmagslab"
	fi
}

stats_of() {
	local name=$1 params=${2:-}
	build_plugin || return 1
	report "$DATA/report-$name" "$WORK/$name" "$params" ||
		fail "the sink failed on report-$name: $(tail -n 3 "$WORK/$name.err")"
	compare "$WORK/$name" "$DATA/report-$name.json"
}

t_stats-phases() { stats_of phases; }
t_stats-prodcons() { stats_of prodcons; }
t_stats-large() {
	stats_of large || return 1
	(($(jget "$WORK/large/summary.json" '.caches[] | select(.name == "wl-large") | .hash.resizes') > 0)) ||
		fail "no hash resize in report-large"
}
t_stats-perpid() {
	local n
	build_plugin || return 1
	report "$DATA/report-perpid" "$WORK/perpid" || fail "the sink failed: $(tail -n 3 "$WORK/perpid.err")"
	compare "$WORK/perpid" "$DATA/report-perpid-1.json" &&
		compare "$WORK/perpid" "$DATA/report-perpid-2.json" || return 1
	n=$(jget "$WORK/perpid/summary.json" '.trace.traces | length')
	((n == 2)) || fail "$n traces, want 2 (per-PID buffers, two processes)"
	n=$(jget "$WORK/perpid/summary.json" '[.caches[] | select(.name == "kmem_slab")] | map(.vpid) | unique | length')
	((n == 2)) || fail "kmem_slab of both processes: $n distinct vpids, want 2"
	n=$(jget "$WORK/perpid/summary.json" '.trace.events_by_name["magslab:cache_create"]')
	((n == 24)) || fail "events_by_name[magslab:cache_create] = $n, want 24 (12 per process, aggregated by name)"
	echo "  2 traces, caches keyed by (process, id), events counted by name over both"
}

t_plots() {
	local name
	build_plugin || return 1
	for name in phases prodcons large perpid discarded; do
		report "$DATA/report-$name" "$WORK/plots-$name" 'bucket-ms=5' ||
			fail "the sink failed on report-$name: $(tail -n 3 "$WORK/plots-$name.err")"
		plots "$WORK/plots-$name" || return 1
	done
}

# The burst is where the magsize grows and where the contention is.
t_phases-story() {
	local out=$WORK/story burst steady first_bump peak start max
	build_plugin || return 1
	report "$DATA/report-phases" "$out" 'bucket-ms=5' || fail "the sink failed: $(tail -n 3 "$out.err")"
	burst=$(awk '$3 == "\"burst\"" { print $1 }' "$out/phases.dat")
	steady=$(awk '$3 == "\"steady\"" { print $1 }' "$out/phases.dat")
	[[ -n $burst && -n $steady ]] || fail "phases.dat has no burst/steady marker"
	grep -q "set arrow [0-9]* from $burst, graph 0" "$out/common.gpi" || fail "no marker line at the burst"
	grep -q '"1 burst"' "$out/common.gpi" || fail "no burst label"
	read -r start max first_bump < <(awk '/^# block 0:/ { b = 1; next } /^$/ { if (b) exit }
		b && !/^#/ { n++; if (n == 1) s = $2; if ($2 > m) m = $2; if (n == 2) fb = $1 }
		END { print s, m, fb }' "$out/magsize.dat")
	((max > start)) || fail "magsize.dat: the magsize does not grow ($start -> $max)"
	awk -v t="$first_bump" -v b="$burst" -v s="$steady" 'BEGIN { exit !(t >= b && t <= s) }' ||
		fail "the first magsize bump ($first_bump s) is not in the burst [$burst, $steady]"
	peak=$(awk '/^# block 0:/ { b = 1; next } /^$/ { if (b) exit }
		b && !/^#/ && $2 > m { m = $2; t = $1 } END { print t }' "$out/contention.dat")
	awk -v t="$peak" -v b="$burst" -v s="$steady" -v w=0.005 'BEGIN { exit !(t + w >= b && t <= s) }' ||
		fail "the contention peak ($peak s) is not in the burst [$burst, $steady]"
	echo "  burst at $burst s, steady at $steady s: magsize $start -> $max, first bump at" \
		"$first_bump s, contention peak in the bucket at $peak s"
}

t_discarded() {
	build_plugin || return 1
	report "$DATA/report-discarded" "$WORK/discarded" ||
		fail "the sink failed: $(tail -n 3 "$WORK/discarded.err")"
	discarded "$WORK/discarded" "$DATA/report-discarded"
}

t_clean-first-line() {
	build_plugin || return 1
	report "$DATA/report-prodcons" "$WORK/clean" || fail "the sink failed"
	[[ $(head -n 1 "$WORK/clean/summary.txt") == "No events were discarded." ]] ||
		fail "summary.txt first line: $(head -n 1 "$WORK/clean/summary.txt")"
	[[ $(jget "$WORK/clean/summary.json" '.discarded | "\(.events) \(.packets) \(.windows | length)"') == "0 0 0" ]] ||
		fail "summary.json .discarded is not all zero"
	! grep -q '^set object' "$WORK/clean/common.gpi" || fail "common.gpi shades a window"
}

# No output files of ours in DIR (it may exist).
no_outputs() {
	local f
	for f in summary.json summary.txt index.html magsize.gp magsize.dat; do
		[[ ! -e $1/$f ]] || fail "$1/$f was written"
	done
}

t_truncated() {
	local t=$WORK/truncated-trace f size out=$WORK/truncated rc=0 msg
	build_plugin || return 1
	rm -rf "$t"
	cp -r "$DATA/report-prodcons" "$t"
	f=$(find "$t" -name 'ch_*' -type f -printf '%s %p\n' | sort -n | tail -n 1 | cut -d' ' -f2)
	size=$(stat -c %s "$f")
	truncate -s $((size / 2 + 123)) "$f"
	report "$t" "$out" || rc=$?
	((rc != 0)) || fail "babeltrace2 exited 0 on a truncated trace"
	grep -q '^ERROR:' "$out.err" || fail "no error message: $(tail -n 2 "$out.err")"
	no_outputs "$out" || return 1
	echo "  babeltrace2 exit status $rc: $(grep -A1 'CAUSED BY' "$out.err" | tail -n 1 | sed 's/^ *//')"
	if [[ -x $FRONTEND ]]; then
		rc=0
		msg=$("$FRONTEND" report "$t" -o "$WORK/truncated-fe" --no-plots 2>&1 >/dev/null) || rc=$?
		((rc != 0)) || fail "magslab report exited 0 on a truncated trace"
		[[ $(wc -l <<<"$msg") == 1 ]] || fail "magslab report: not a one-line error: $msg"
		echo "  magslab report: exit status $rc: $msg"
	fi
}

t_corrupt() {
	local t=$WORK/corrupt-trace f size out=$WORK/corrupt rc=0
	build_plugin || return 1
	rm -rf "$t"
	cp -r "$DATA/report-prodcons" "$t"
	f=$(find "$t" -name 'ch_*' -type f -printf '%s %p\n' | sort -n | tail -n 1 | cut -d' ' -f2)
	size=$(stat -c %s "$f")
	# Garbage in the middle of a packet: the decoder fails after some events.
	head -c 4000 /dev/zero | tr '\0' '\377' |
		dd of="$f" bs=1 seek=$((size / 2)) conv=notrunc status=none
	report "$t" "$out" || rc=$?
	((rc != 0)) || fail "babeltrace2 exited 0 on a corrupt trace"
	grep -qE 'cannot read the trace|CAUSED BY' "$out.err" || fail "no error cause"
	no_outputs "$out" || return 1
	echo "  exit status $rc; $(grep -o 'cannot read the trace (after [0-9]* events)' "$out.err" || echo 'decoder error before any event')"
}

t_no-magslab() {
	local out=$WORK/foreign rc=0
	build_plugin || return 1
	report "$DATA/report-foreign" "$out" || rc=$?
	((rc != 0)) || fail "babeltrace2 exited 0 on a trace without magslab events"
	grep -q 'no magslab events in this trace (was magslab:\* enabled?)' "$out.err" ||
		fail "no clear error: $(tail -n 3 "$out.err")"
	no_outputs "$out" || return 1
	echo "  $(grep -A1 'no magslab events' "$out.err" | tr -s ' \n' ' ')"
}

# Magslab events but no cache: every plot still renders, saying there is nothing to draw;
# too many phase markers to draw are left out (and listed in phases.dat).
t_no-caches() {
	local out=$WORK/phasesonly
	build_plugin || return 1
	report "$DATA/report-phasesonly" "$out" || fail "the sink failed: $(tail -n 3 "$out.err")"
	[[ $(jget "$out/summary.json" '"\(.caches | length) \(.phases_total) \(.phases | length)"') == "0 200 200" ]] ||
		fail "summary.json: $(jq -c '[(.caches | length), .phases_total, (.phases | length)]' "$out/summary.json")"
	[[ $(grep -vc '^#' "$out/phases.dat") == 200 ]] || fail "phases.dat does not have the 200 markers"
	! grep -q '^set arrow' "$out/common.gpi" || fail "more than 64 markers were drawn"
	grep -q 'no cache had magazine activity' "$out/magsize.gp" || fail "magsize.gp does not say it is empty"
	plots "$out"
}

t_params() {
	local rc
	build_plugin || return 1
	expect_param_error() {
		local what=$1 params=$2 pattern=$3 rc=0
		babeltrace2 --plugin-path="$PLUGDIR" "$DATA/report-prodcons" -c sink.magslab.report \
			${params:+-p "$params"} >"$WORK/params.out" 2>&1 || rc=$?
		((rc != 0)) || fail "$what: exit status 0"
		grep -q "$pattern" "$WORK/params.out" || fail "$what: no '$pattern' in: $(tail -n 3 "$WORK/params.out")"
		echo "  $what: exit status $rc, '$pattern'"
	}
	expect_param_error "no output-dir" "" "missing parameter: output-dir" &&
		expect_param_error "unknown parameter" "output-dir=\"$WORK/p\",bucket=5" "unknown parameter 'bucket'" &&
		expect_param_error "bucket-ms 0" "output-dir=\"$WORK/p\",bucket-ms=0" "parameter 'bucket-ms' must be in" &&
		expect_param_error "bucket-ms a string" "output-dir=\"$WORK/p\",bucket-ms=\"x\"" "parameter 'bucket-ms' must be an integer" &&
		expect_param_error "output-dir is a file" "output-dir=\"$DATA/report-prodcons.json\"" "cannot create the output directory" ||
		return 1
	rc=0
	report "$DATA/report-prodcons" "$WORK/p/new/dir" 'bucket-ms=7,max-caches=1,title="a \"title\""' || rc=$?
	((rc == 0)) || fail "with bucket-ms, max-caches and title: exit status $rc"
	[[ $(jget "$WORK/p/new/dir/summary.json" '.params | "\(.bucket_ms) \(.max_caches) \(.title)"') == '7 1 a "title"' ]] ||
		fail "summary.json .params: $(jq -c .params "$WORK/p/new/dir/summary.json")"
	[[ $(jget "$WORK/p/new/dir/summary.json" '.plots.caches | length') == 1 ]] || fail "max-caches=1 not honoured"
	grep -q 'a \\"title\\"' "$WORK/p/new/dir/magsize.gp" || fail "the title is not in magsize.gp"
	echo "  output-dir created (mkdir -p), bucket-ms, max-caches and title honoured"
}

# The per-bucket rows add up to the totals, whatever the bucket width.
t_buckets() {
	local b sums tot
	build_plugin || return 1
	tot=$(jget "$DATA/report-phases.json" '.caches[0] | "\(.depot_contended) \(.depot_gets[0] + .depot_gets[1]) \(.magsize_up)"')
	for b in 1 10 100 1000; do
		report "$DATA/report-phases" "$WORK/buckets-$b" "bucket-ms=$b" || fail "bucket-ms=$b: the sink failed"
		sums=$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
			$4 == "\"wl-phases\"" { c += $col["contended"]; g += $col["depot_gets_alloc"] + $col["depot_gets_free"]
				m += $col["magsize_bumps"] }
			END { print c, g, m }' "$WORK/buckets-$b/buckets.csv")
		[[ $sums == "$tot" ]] || fail "bucket-ms=$b: buckets.csv sums (contended gets bumps) = $sums, the workload says $tot"
		echo "  bucket-ms=$b: $(($(wc -l <"$WORK/buckets-$b/buckets.csv") - 1)) rows; sums $sums"
	done
}

t_html() {
	local out=$WORK/html p
	build_plugin || return 1
	report "$DATA/report-phases" "$out" || fail "the sink failed"
	xmllint --html --noout "$out/index.html" 2>"$WORK/html.err" || fail "index.html: $(head -n 3 "$WORK/html.err")"
	for p in "${PLOTS[@]}"; do
		grep -q "<img id=\"${p}_png\" src=\"$p.png\"" "$out/index.html" || fail "index.html does not show $p.png"
		grep -q "<canvas id=\"$p\"" "$out/index.html" || fail "index.html has no canvas for $p"
		grep -q "<script src=\"$p.js\"" "$out/index.html" || fail "index.html does not load $p.js"
		grep -q "href=\"$p.svg\"" "$out/index.html" || fail "index.html does not link $p.svg"
	done
	grep -q '<td>wl-phases</td>' "$out/index.html" || fail "index.html has no wl-phases row"
	jq -e . "$out/summary.json" >/dev/null || fail "summary.json does not parse"
	echo "  index.html: ${#PLOTS[@]} plots (canvas drawing NAME.js; PNG, linking the SVG) and the cache table"
}

t_same-as-frontend() {
	local rc=0 msg
	build_plugin || return 1
	"$MAKE" --no-print-directory frontend BUILD="$BUILD" >"$WORK/frontend.log" 2>&1 ||
		fail "make frontend failed: $(tail -n 3 "$WORK/frontend.log")"
	report "$DATA/report-phases" "$WORK/cli" || fail "the sink failed"
	rm -rf "$WORK/fe"
	msg=$("$FRONTEND" report "$DATA/report-phases" -o "$WORK/fe" -q 2>&1 >/dev/null) || rc=$?
	((rc == 0)) || fail "magslab report: exit status $rc: $msg"
	cmp "$WORK/cli/summary.json" "$WORK/fe/summary.json" ||
		fail "babeltrace2 -c sink.magslab.report and magslab report give different summary.json"
	cmp "$WORK/cli/summary.txt" "$WORK/fe/summary.txt" || fail "different summary.txt"
	echo "  same summary.json and summary.txt from babeltrace2 -c sink.magslab.report and magslab report"
}

# snapshot-ms (the live snapshots of magslab live): with a snapshot due at every consume,
# the stamp counts many, the live scripts render, no temporary file is left, and the final
# report is byte for byte the one written without the parameter.
t_snapshots() {
	local name out plain n f
	build_plugin || return 1
	for name in phases large discarded; do
		plain=$WORK/snap-$name-plain
		out=$WORK/snap-$name
		report "$DATA/report-$name" "$plain" || fail "the sink failed: $(tail -n 3 "$plain.err")"
		report "$DATA/report-$name" "$out" 'snapshot-ms=1' ||
			fail "with snapshot-ms=1 the sink failed: $(tail -n 3 "$out.err")"
		[[ $(cat "$out/snapshot.seq") =~ ^([0-9]+)\ end$ ]] ||
			fail "report-$name: snapshot.seq is '$(cat "$out/snapshot.seq")', want 'N end'"
		n=${BASH_REMATCH[1]}
		((n >= 2)) || fail "report-$name: $n snapshot(s) with snapshot-ms=1, want several"
		for f in "$plain"/*; do
			[[ ${f##*/} == manifest.json ]] && continue # names the live files too
			cmp -s "$f" "$out/${f##*/}" ||
				fail "report-$name: ${f##*/} differs with snapshot-ms=1"
		done
		[[ $(jq -c '.files' "$plain/manifest.json" | sed 's/]$/,"live-magsize.gpi","live-contention.gpi","snapshot.seq"]/') == \
			"$(jq -c '.files' "$out/manifest.json")" ]] ||
			fail "report-$name: manifest.json with snapshot-ms=1 does not add the live files"
		jq -e --slurpfile p "$plain/manifest.json" '.plots == $p[0].plots' "$out/manifest.json" \
			>/dev/null || fail "report-$name: manifest.json plots differ with snapshot-ms=1"
		[[ -z $(find "$out" -name '.*.tmp') ]] || fail "temporary files left: $(find "$out" -name '.*.tmp')"
		for f in live-magsize.gpi live-contention.gpi; do
			[[ -s $out/$f ]] || fail "report-$name: no $f"
			(cd "$out" && gnuplot -e "set terminal dumb size 100,30; load '$f'") \
				>"$out/$f.txt" 2>"$out/$f.err" || fail "gnuplot $f: $(tail -n 2 "$out/$f.err")"
			! grep -qi 'error\|line [0-9]*:' "$out/$f.err" ||
				fail "gnuplot $f: $(head -n 2 "$out/$f.err")"
		done
		grep -q 'Depot magazine size' "$out/live-magsize.gpi.txt" || fail "live-magsize.gpi drew nothing"
		echo "  report-$name: $n snapshots; the final report is the same as without snapshot-ms;" \
			"live-magsize.gpi and live-contention.gpi render"
	done
	report "$DATA/report-prodcons" "$WORK/snap-bad" 'snapshot-ms="1"' &&
		fail "snapshot-ms as a string was accepted"
	grep -q "parameter 'snapshot-ms' must be an integer" "$WORK/snap-bad.err" ||
		fail "no clear error for a bad snapshot-ms: $(tail -n 2 "$WORK/snap-bad.err")"
	# without snapshot-ms, files of an earlier live run are removed
	report "$DATA/report-prodcons" "$out" || fail "the sink failed"
	[[ ! -e $out/snapshot.seq && ! -e $out/live-magsize.gpi ]] ||
		fail "a report without snapshot-ms left the snapshot files of an earlier one"
}

# ---- main ---------------------------------------------------------------------------------------

mkdir -p "$WORK"
case ${1:-} in
--list) printf '%s\n' "${ALL_TESTS[@]}"; exit 0 ;;
report) shift; report "$@"; exit ;;
# The helper modes take arguments; a bare `plots` or `discarded` is the test
# of that name (run below), not the helper.
compare | plots | discarded)
	if (($# > 1)); then
		cmd=$1
		shift
		"$cmd" "$@" || exit 1
		exit 0
	fi
	;;
-h | --help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac

for t in jq gnuplot identify xmllint babeltrace2; do
	command -v "$t" >/dev/null || { say "report-test: FAIL setup: '$t' is not installed (make deps)"; exit 1; }
done

tests=("$@")
((${#tests[@]})) || tests=("${ALL_TESTS[@]}")
failed=0
for t in "${tests[@]}"; do
	if ! declare -F "t_$t" >/dev/null; then
		say "report-test: FAIL $t: no such test (have: ${ALL_TESTS[*]})"
		failed=1
		continue
	fi
	log=$WORK/$t.log
	("t_$t") >"$log" 2>&1
	rc=$?
	if ((rc == 0)); then
		say "report-test: PASS $t"
		sed 's/^/    /' "$log" | grep -v '^    *$' | head -n 12
	else
		failed=1
		reason=$(grep -m 1 '^FAIL: ' "$log" | sed 's/^FAIL: //' | cut -c1-240)
		say "report-test: FAIL $t: ${reason:-exit status $rc} (see $log)"
		tail -n 20 "$log" | sed 's/^/    | /'
	fi
done
exit $failed
