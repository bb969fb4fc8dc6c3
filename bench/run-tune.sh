#!/usr/bin/env bash
# bench/run-tune.sh — does `magslab tune`'s recommendation hold?  The same tune command
# (a race of a prodcons grid) run N times, then every setting of the grid re-run as a
# held-out reference (a fixed design with seeds none of the races used); writes
# bench/results/tune.md.
#
#   bench/run-tune.sh                   5 races of --budget 150s each, then the
#                                       reference (about 15 minutes on the 2-CPU VM)
#   bench/run-tune.sh --quick           2 races of 40 s, a short reference, to stdout
#   bench/run-tune.sh --races N --budget 150s --ref-repeat 12 --out FILE (- : stdout)
#   bench/run-tune.sh --pin             the same with the workload's threads pinned (its
#                                       --pin: producers on one CPU, consumers on the
#                                       other): the steady variant; writes
#                                       bench/results/tune-pinned.md
#   bench/run-tune.sh --report-only        no runs: the report of the last run's files
#                                       ($BUILD/bench-tune)
#
# Figures (issue 16's targets):
#   agreement  how many races recommend the most frequent recommendation, and how many
#              recommend it or have it statistically tied with their best (tune.csv's
#              tied column): target >= 4 of 5
#   held-out   each race's recommended setting's median throughput in the reference, as
#              a fraction of the reference's best median and, from the paired
#              rounds, the Hodges-Lehmann ratio to the best with its 95 % interval:
#              target >= 95 %.  Verdict: met if every race's fraction is >= 95 %, NOT
#              MET if some race's interval lies wholly below 95 %, else not
#              distinguishable (the reference's noise is larger than the gap)
# Race i uses --seed 1 + 1000 i (its rounds use seeds from there up, its check after
# them); the reference uses --seed 900001, so no race saw its seeds.  The reference
# interleaves the settings in a shuffled order every round, as the races do, so a drift
# of the machine hits them alike.
#
# Environment: BUILD (default build), MAKE (default make).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
BUILD=${BUILD:-build}
MAKE=${MAKE:-make}
ORIG_CMD="bench/run-tune.sh${*:+ $*}"
# The library's default is what the check compares with: no setting from the environment.
unset MAGSLAB_RESIZE_THRESHOLD MAGSLAB_RESIZE_TIMEOUT_NS MAGSLAB_POLICY

races=5
budget=150s
ref_repeat=20
out=bench/results/tune.md
out_set=0
pinned=0
report_only=0
WORKLOAD=(prodcons)
GRID=(--threshold 1,10,1000 --timeout 1ms,1s)
WL_OPTS=(--threads 8 --duration 500ms)

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }
die() { echo "run-tune: $*" >&2; exit 2; }

while (($#)); do
	case $1 in
	--quick) races=2 budget=40s ref_repeat=4 out=- out_set=1 ;;
	--pin) pinned=1 ;;
	--races) races=${2:?--races needs a number}; shift ;;
	--budget) budget=${2:?--budget needs a value}; shift ;;
	--ref-repeat) ref_repeat=${2:?--ref-repeat needs a number}; shift ;;
	--out) out=${2:?--out needs a file} out_set=1; shift ;;
	--report-only) report_only=1 ;;
	-h | --help) usage; exit 0 ;;
	*) die "unknown option '$1' (see --help)" ;;
	esac
	shift
done
[[ $races =~ ^[1-9][0-9]*$ ]] || die "--races: '$races' is not a positive number"
if ((pinned)); then
	WL_OPTS+=(--pin)
	((out_set)) || out=bench/results/tune-pinned.md
fi

"$MAKE" --no-print-directory -s frontend workloads BUILD="$BUILD" >/dev/null
BIN=$BUILD/bin/magslab
WORK=$BUILD/bench-tune
((pinned)) && WORK+=-pinned
((report_only)) || { rm -rf "$WORK" && mkdir -p "$WORK"; }

# col CSV NAME [FILTER_NAME FILTER_VALUE]: a column's values, one a line.
col() {
	awk -F, -v name="$2" -v fn="${3:-}" -v fv="${4:-}" '
		NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
		fn == "" || $h[fn] == fv { print $h[name] }' "$1"
}

race_cmd() { # race_cmd I: the tune command of race I
	echo "$BIN" tune "${WORKLOAD[@]}" "${GRID[@]}" --budget "$budget" \
		--seed $((1 + 1000 * $1)) --no-plots -q -o "$WORK/race-$1" -- "${WL_OPTS[@]}"
}
REF_CMD="$BIN tune ${WORKLOAD[*]} ${GRID[*]} --repeat $ref_repeat --seed 900001 --no-plots -q -o $WORK/ref -- ${WL_OPTS[*]}"

t_start=$(date +%s)
for ((i = 1; i <= races && !report_only; i++)); do
	echo "run-tune: race $i/$races: $(race_cmd "$i")" >&2
	# shellcheck disable=SC2046
	$(race_cmd "$i") >"$WORK/race-$i.out" 2>"$WORK/race-$i.err" ||
		die "race $i failed: $(tail -n 3 "$WORK/race-$i.err")"
	grep -E '^(recommended|verdict):' "$WORK/race-$i.out" | cut -c1-150 >&2
done
if ((!report_only)); then
	echo "run-tune: reference: $REF_CMD" >&2
	$REF_CMD >"$WORK/ref.out" 2>"$WORK/ref.err" ||
		die "reference failed: $(tail -n 3 "$WORK/ref.err")"
	echo $(($(date +%s) - t_start)) >"$WORK/took"
fi
took=$(cat "$WORK/took")

# ---- the figures -----------------------------------------------------------------------
declare -A count
recs=()
for ((i = 1; i <= races; i++)); do
	c=$WORK/race-$i/tune.csv
	r="$(col "$c" threshold recommended 1)/$(col "$c" timeout_ns recommended 1)"
	recs+=("$r")
	count[$r]=$((${count[$r]:-0} + 1))
done
mode= ; best_n=0
for r in "${!count[@]}"; do ((count[$r] > best_n)) && mode=$r best_n=${count[$r]}; done
mt=${mode%/*} mns=${mode#*/}
agree_tied=0
for ((i = 1; i <= races; i++)); do
	c=$WORK/race-$i/tune.csv
	t=$(awk -F, -v t="$mt" -v ns="$mns" 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
		$h["threshold"] == t && $h["timeout_ns"] == ns { print ($h["tied"] == 1 || $h["best"] == 1 || $h["recommended"] == 1) }' "$c")
	((t == 1)) && agree_tied=$((agree_tied + 1))
done
ref=$WORK/ref/tune.csv
ref_best=$(col "$ref" throughput_mops | sort -g | tail -n 1)

# The advice a user follows: the recommended setting if the race's check says "better",
# else the library's default (threshold 1, timeout 1 s: the bench leaves
# MAGSLAB_RESIZE_THRESHOLD and MAGSLAB_RESIZE_TIMEOUT_NS unset), which the grid holds.
DEFAULT=1/1000000000
declare -A acount
advs=()
for ((i = 1; i <= races; i++)); do
	a=$DEFAULT
	grep -q '^verdict: better' "$WORK/race-$i.out" && a=${recs[i - 1]}
	advs+=("$a")
	acount[$a]=$((${acount[$a]:-0} + 1))
done
amode= ; abest_n=0
for a in "${!acount[@]}"; do ((acount[$a] > abest_n)) && amode=$a abest_n=${acount[$a]}; done

# ref_frac THRESHOLD/NS: the setting's held-out median as a % of the held-out best.
ref_frac() {
	awk -F, -v t="${1%/*}" -v ns="${1#*/}" -v b="$ref_best" '
		NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
		$h["threshold"] == t && $h["timeout_ns"] == ns { printf "%.1f", 100 * $h["throughput_mops"] / b }' "$ref"
}

# ref_paired THRESHOLD/NS: the paired ratio to the held-out best, % [95 % interval], and
# "point lo hi" appended to the file $2.
ref_paired() {
	awk -F, -v t="${1%/*}" -v ns="${1#*/}" -v out="$2" '
		NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
		$h["threshold"] == t && $h["timeout_ns"] == ns {
			printf "%.1f [%.1f..%.1f]", 100 * $h["vs_best"], 100 * $h["vs_best_lo"], 100 * $h["vs_best_hi"]
			printf "%.1f %.1f %.1f\n", 100 * $h["vs_best"], 100 * $h["vs_best_lo"], 100 * $h["vs_best_hi"] >>out }' "$ref"
}

# verdict FRACTIONS PAIRED: met if every fraction is >= 95 %, NOT MET if some paired
# interval lies wholly below 95 %, else not distinguishable.
verdict() {
	if awk '$1 < 95 { bad = 1 } END { exit bad }' "$1"; then
		echo met
	elif awk '$3 < 95 { below = 1 } END { exit !below }' "$2"; then
		echo "NOT MET"
	else
		echo "not distinguishable"
	fi
}

table() {
	local i c r t ns rm fr tied verdict
	echo "| race | recommended (threshold / timeout) | race's figure [95 %] | its held-out median [95 %] | % of held-out best | paired ratio to it, % [95 %] | tied with the held-out best | the race's own verdict against the default | so the advice is | its % of held-out best | paired, % [95 %] |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|"
	for ((i = 1; i <= races; i++)); do
		c=$WORK/race-$i/tune.csv r=${recs[i - 1]}
		t=${r%/*} ns=${r#*/}
		rm=$(awk -F, -v t="$t" -v ns="$ns" 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
			$h["threshold"] == t && $h["timeout_ns"] == ns { printf "%.3f [%.3f..%.3f]", $h["throughput_mops"], $h["throughput_mops_lo"], $h["throughput_mops_hi"] }' "$ref")
		fr=$(awk -F, -v t="$t" -v ns="$ns" -v b="$ref_best" 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
			$h["threshold"] == t && $h["timeout_ns"] == ns { printf "%.1f", 100 * $h["throughput_mops"] / b }' "$ref")
		tied=$(awk -F, -v t="$t" -v ns="$ns" 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
			$h["threshold"] == t && $h["timeout_ns"] == ns { print ($h["best"] == 1 ? "the best" : $h["tied"] == 1 ? "yes" : "no (worse)") }' "$ref")
		verdict=$(sed -n 's/^verdict: //p' "$WORK/race-$i.out" | cut -d: -f1)
		printf '| %d | %s / %s ns | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$i" "$t" "$ns" \
			"$(awk -F, -v t="$t" -v ns="$ns" 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
				$h["threshold"] == t && $h["timeout_ns"] == ns { printf "%.3f [%.3f..%.3f], %d rounds", $h["throughput_mops"], $h["throughput_mops_lo"], $h["throughput_mops_hi"], $h["runs"] }' "$c")" \
			"$rm" "$fr" "$(ref_paired "$r" "$WORK/paired")" "$tied" "$verdict" \
			"$([[ ${advs[i - 1]} == "$DEFAULT" ]] && echo "the default" || echo "${advs[i - 1]%/*} / ${advs[i - 1]#*/} ns")" \
			"$(ref_frac "${advs[i - 1]}")" "$(ref_paired "${advs[i - 1]}" "$WORK/apaired")"
		echo "$fr" >>"$WORK/fractions"
		ref_frac "${advs[i - 1]}" >>"$WORK/afractions"; echo >>"$WORK/afractions"
	done
}


# noise: per objective, how much the runs of one setting vary (sd of the log: 0.10 is
# about +-10 %), raw and after taking out what the runs of a round share (each run's log
# less its round's mean over the settings run in it: what the race's paired test sees).
noise() {
	cat "$WORK"/race-*/runs.csv | awk -F, '
		$1 == "kind" { for (i = 1; i <= NF; i++) h[$i] = i; next }
		$1 != "race" { next }
		{ race = $h["seed"] - $h["round"]; k = race SUBSEP $2 SUBSEP $3
		  for (m = 1; m <= 3; m++) {
			v = log($h[m == 1 ? "throughput_mops" : m == 2 ? "cpu_ns_per_op" : "steady_mops"])
			x[k, $h["round"], m] = v; rs[race, $h["round"], m] += v
		  }
		  rn[race, $h["round"]]++; seen[k] = 1; rounds[k, $h["round"]] = 1 }
		END {
			for (m = 1; m <= 3; m++) {
				nk = 0
				for (k in seen) {
					split(k, p, SUBSEP); n = s = q = sd = dq = 0
					for (r = 0; r < 400; r++) if ((k, r) in rounds) {
						v = x[k, r, m]; d = v - rs[p[1], r, m] / rn[p[1], r]
						n++; s += v; q += v * v; sd += d; dq += d * d
					}
					if (n < 5) continue
					print m, sqrt((q - s * s / n) / (n - 1)), sqrt((dq - sd * sd / n) / (n - 1))
				}
			}
		}' >"$WORK/noise"
	local m name
	for m in 1 2 3; do
		name=$(echo "throughput (Mops/s)|cpu-per-op (ns)|steady (Mops/s after the warm-up)" | cut -d'|' -f$m)
		printf '| %s | %d | %.3f | %.3f |\n' "$name" "$(awk -v m=$m '$1 == m' "$WORK/noise" | wc -l)" \
			"$(awk -v m=$m '$1 == m { print $2 }' "$WORK/noise" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')" \
			"$(awk -v m=$m '$1 == m { print $3 }' "$WORK/noise" | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')"
	done
}

report() {
	local tab worst met_a met_h
	: >"$WORK/fractions"
	: >"$WORK/afractions"
	: >"$WORK/paired"
	: >"$WORK/apaired"
	tab=$(table)
	worst=$(sort -g "$WORK/fractions" | head -n 1)
	local aworst amet_a amet_h
	aworst=$(grep . "$WORK/afractions" | sort -g | head -n 1)
	amet_a=$([[ $abest_n -ge $(((races * 4 + 4) / 5)) ]] && echo met || echo "NOT MET")
	amet_h=$(verdict <(grep . "$WORK/afractions") "$WORK/apaired")
	met_a=$([[ $agree_tied -ge $(((races * 4 + 4) / 5)) ]] && echo met || echo "NOT MET")
	met_h=$(verdict "$WORK/fractions" "$WORK/paired")
	cat <<EOF
# magslab tune: does the recommendation hold? (\`bench/run-tune.sh\`)

Issue 16's benchmark: the same \`magslab tune\` race run $races times on this machine (2 CPUs,
shared with other work: noisy), then every setting of the grid re-run as a held-out
reference with seeds none of the races used.  $( ((pinned)) && echo "Threads pinned (the workload's
--pin: its producers on CPU 0, its consumers on CPU 1): the steady variant of
[tune.md](tune.md)'s unpinned command." || echo "Threads not pinned, as in the issue; the
pinned variant is in [tune-pinned.md](tune-pinned.md).")

Command: \`$ORIG_CMD\` ($(date -u +%Y-%m-%d), took ${took} s), which ran

    $(race_cmd 0 | sed "s|$ROOT/||g; s|--seed 1 |--seed \$((1 + 1000 * I)) |; s|race-0|race-I|")    (race I = 1..$races)
    $(echo "$REF_CMD" | sed "s|$ROOT/||g")

## Result

- Agreement: **$best_n of $races** races recommend the same setting (threshold $mt, timeout $mns ns);
  **$agree_tied of $races** recommend it or found it statistically tied with their best.
  Target >= 4 of 5: **$met_a** (counting ties, as the issue allows).
- Held-out: the recommended settings reach **$worst %** (the worst of the races) to
  $(sort -g "$WORK/fractions" | tail -n 1) % of the held-out best median. Target >= 95 %: **$met_h**
  (met: every race >= 95 %; NOT MET: some race's paired interval wholly below 95 %;
  otherwise not distinguishable).
- The advice a user follows (the recommended setting when the race's own check says
  "better", else "keep the default"): **$abest_n of $races** races give the same advice
  ($([[ $amode == "$DEFAULT" ]] && echo "keep the default" || echo "threshold ${amode%/*}, timeout ${amode#*/} ns")): **$amet_a**; the advice reaches
  **$aworst %** (the worst) of the held-out best median: **$amet_h**.

Reading it: a fraction is only as good as the reference's own intervals. When the reference
finds the settings tied (its first line, at the end), a recommendation below 100 % is not
distinguishable from the best, and the best's 100 % is partly the luck of the draw.

$tab

Held-out reference ($ref_repeat rounds, every setting once per round in a shuffled order;
medians with 95 % order-statistic intervals; "vs best" the Hodges-Lehmann ratio of the
paired rounds with its 95 % interval):

| threshold | timeout ns | throughput Mops/s [95 %] | vs best [95 %] | tied with best | bytes in magazines |
|---|---|---|---|---|---|
$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) h[$i] = i; next }
	{ printf "| %s | %s | %.3f [%.3f..%.3f] | %+.1f %% [%+.1f..%+.1f] | %s | %d |\n", $h["threshold"], $h["timeout_ns"],
	  $h["throughput_mops"], $h["throughput_mops_lo"], $h["throughput_mops_hi"],
	  100 * ($h["vs_best"] - 1), 100 * ($h["vs_best_lo"] - 1), 100 * ($h["vs_best_hi"] - 1),
	  $h["best"] == 1 ? "best" : ($h["tied"] == 1 ? "yes" : "no"), $h["bytes_in_mags"] }' "$ref")

Which objective is steadier (issue 16 item 4): over the races' runs, per setting of a race,
the standard deviation of the log of each figure (0.10: about +-10 %), raw and after taking
out what the runs of one round share (each run less its round's mean: what the paired test
works on); the median over the settings of all races:

| objective | settings | sd(log), raw | sd(log), round taken out |
|---|---|---|---|
$(noise)

First lines of each race's tune.txt:

$(for ((i = 1; i <= races; i++)); do echo "- race $i: $(head -n 1 "$WORK/race-$i/tune.txt")"; echo "  stopped: $(sed -n 's/^stopped: //p' "$WORK/race-$i.out")"; done)

Reference: $(head -n 1 "$WORK/ref/tune.txt")
EOF
}

if [[ $out == - ]]; then
	report
else
	report >"$out"
	echo "run-tune: wrote $out" >&2
	cat "$out"
fi
