/*
 * analysis/tune_out.c — the words of `magslab tune` (see tune_impl.h; docs/tune.md): the
 * table of figures (names, units, which way is better), figures and settings in words,
 * and the lines every output repeats: whether the parameters matter here (the first line
 * of tune.txt), the recommendation and why, the check and its verdict.
 *
 * Owns the lines of struct tune (matter_line ... memory_line); the files that carry them
 * are tune_files.c's and tune_plot.c's.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tune_impl.h"

/* ---- figures and numbers ----------------------------------------------------------- */

static void fmt_mops(double v, char *out, size_t len)
{
	snprintf(out, len, isnan(v) ? "n/a" : "%.2f", v);
}

static void fmt_one(double v, char *out, size_t len)
{
	snprintf(out, len, isnan(v) ? "n/a" : "%.1f", v);
}

static void fmt_rate(double v, char *out, size_t len)
{
	snprintf(out, len, isnan(v) ? "n/a" : "%.0f", v);
}

static void fmt_count(double v, char *out, size_t len)
{
	snprintf(out, len, isnan(v) ? "n/a" : "%.4g", v);
}

static void fmt_secs(double v, char *out, size_t len)
{
	snprintf(out, len, isnan(v) ? "n/a" : v < 10 ? "%.3f" : "%.2f", v);
}

/* Bytes in a unit that suits: 512 B, 12.1 KiB, 3.2 MiB. */
static void fmt_bytes(double v, char *out, size_t len)
{
	if (isnan(v))
		snprintf(out, len, "n/a");
	else if (v < 1024)
		snprintf(out, len, "%.0f B", v);
	else if (v < 1024 * 1024)
		snprintf(out, len, "%.1f KiB", v / 1024);
	else
		snprintf(out, len, "%.1f MiB", v / (1024 * 1024));
}

const struct figure tune_fig[NMETRICS] = {
	[M_MOPS] = { "throughput_mops", "throughput", "throughput, Mops/s", "throughput",
		     "Mops/s", "throughput", 1, FOR_WORKLOAD, fmt_mops },
	[M_CPU_OP] = { "cpu_ns_per_op", "cpu", "CPU time per operation, ns",
		       "CPU time per operation", "ns", "cpu-per-op", -1, FOR_WORKLOAD, fmt_one },
	[M_STEADY] = { "steady_mops", "steady", "throughput after the warm-up, Mops/s",
		       "steady-state throughput", "Mops/s", "steady", 1, FOR_WORKLOAD,
		       fmt_mops },
	[M_WALL] = { "wall_s", "wall", "wall time, s", "wall time", "s", "wall", -1,
		     FOR_PROGRAM, fmt_secs },
	[M_CPU_S] = { "cpu_s", "cpu", "CPU time (user + system), s", "CPU time", "s", "cpu",
		      -1, FOR_PROGRAM, fmt_secs },
	[M_METRIC] = { "metric", "metric", "the --metric number", "the --metric number", "",
		       "metric", 1, FOR_PROGRAM, fmt_count },
	[M_CONTENTION] = { "contentions_per_s", "contention",
			   "depot lock contention, contended acquisitions/s", "contention",
			   "/s", NULL, -1, FOR_WORKLOAD | FOR_PROGRAM, fmt_rate },
	[M_MAGSIZE] = { "final_magsize", "magsize", "final depot magsize, rounds (largest)",
			"final magsize", "rounds", NULL, 0, FOR_WORKLOAD | FOR_PROGRAM,
			fmt_count },
	[M_BYTES] = { "bytes_in_mags", "bytes", "memory held in magazines at the end, bytes",
		      "memory in magazines", "", NULL, -1, FOR_WORKLOAD | FOR_PROGRAM,
		      fmt_bytes },
	[M_SETTLE] = { "settle_s", "settle", "time to reach the final magsize, s",
		       "time to settle", "s", NULL, -1, FOR_WORKLOAD, fmt_secs },
};

bool tune_has(const struct tune *t, enum metric m)
{
	return (tune_fig[m].modes & (t->preload ? FOR_PROGRAM : FOR_WORKLOAD)) &&
	       (m != M_METRIC || t->metric_re);
}

int tune_better(const struct tune *t, enum metric m)
{
	if (m == M_METRIC)
		return t->metric_better ? t->metric_better : 1;
	return tune_fig[m].better;
}

const char *tune_obj_title(const struct tune *t)
{
	return tune_fig[t->objective].title;
}

/* The objective's name in a sentence: "throughput", "wall time". */
const char *tune_obj_word(const struct tune *t)
{
	return tune_fig[t->objective].word;
}

/* A timeout for people: 1s, 10ms, 500us, 1.5ms, 250ns. */
void tune_fmt_ns(uint64_t ns, char *out, size_t len)
{
	static const struct {
		uint64_t div;
		const char *unit;
	} units[] = { { 1000000000u, "s" }, { 1000000u, "ms" }, { 1000u, "us" } };
	size_t k;

	for (k = 0; k < sizeof(units) / sizeof(units[0]); k++) {
		if (ns < units[k].div)
			continue;
		if (ns % units[k].div == 0)
			snprintf(out, len, "%" PRIu64 "%s", ns / units[k].div, units[k].unit);
		else
			snprintf(out, len, "%g%s", (double)ns / (double)units[k].div,
				 units[k].unit);
		return;
	}
	snprintf(out, len, "%" PRIu64 "ns", ns);
}

/* Elapsed or remaining time: 42.0 s, 3m07s. */
void tune_fmt_elapsed(double s, char *out, size_t len)
{
	if (s < 60)
		snprintf(out, len, "%.1f s", s);
	else
		snprintf(out, len, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
}

/* "threshold 1, timeout 1ms" */
void tune_fmt_setting(uint64_t threshold, uint64_t timeout_ns, char *out, size_t len)
{
	char to[32];

	tune_fmt_ns(timeout_ns, to, sizeof(to));
	snprintf(out, len, "threshold %" PRIu64 ", timeout %s", threshold, to);
}

/* A ratio as a change in percent with its interval: "-8.1 % [-12.0..-3.2]". */
void tune_fmt_ratio(const struct rs_paired *p, char *out, size_t len)
{
	if (isinf(p->hi) || p->lo <= 0)
		snprintf(out, len, "%+.1f %% [no interval]", (p->ratio - 1) * 100);
	else if (p->conf < LEVEL - 1e-9)	/* too few unequal pairs for 95 %: say so */
		snprintf(out, len, "%+.1f %% [%+.1f..%+.1f, only %.0f %% sure with %zu unequal "
			 "pairs]", (p->ratio - 1) * 100, (p->lo - 1) * 100, (p->hi - 1) * 100,
			 p->conf * 100, p->n);
	else
		snprintf(out, len, "%+.1f %% [%+.1f..%+.1f]", (p->ratio - 1) * 100,
			 (p->lo - 1) * 100, (p->hi - 1) * 100);
}

/* The command the runs repeat (without tune's settings), for titles and reports. */
void tune_fmt_command(const struct tune *t, char *out, size_t len)
{
	int k;

	if (t->preload)
		snprintf(out, len, "LD_PRELOAD=%s", SHIM_NAME);
	else
		snprintf(out, len, "%s %s", WORKLOAD_PROG, t->workload);
	for (k = 0; k < t->nargs; k++)
		snprintf(out + strlen(out), len - strlen(out), " %s", t->args[k]);
}

/* A median and its interval: "12.34 [11.90..12.80]" (bytes: "12.1 KiB [11.9..12.8]"). */
void tune_fmt_median(enum metric m, const struct rs_median *md, char *out, size_t len)
{
	char a[32], b[32], c[32];
	double scale = md->median < 1024 ? 1 : md->median < 1048576 ? 1024 : 1048576;

	if (isnan(md->median)) {
		snprintf(out, len, "n/a");
	} else if (m == M_BYTES) {
		fmt_bytes(md->median, a, sizeof(a));
		snprintf(out, len, scale == 1 ? "%s [%.0f..%.0f]" : "%s [%.1f..%.1f]", a,
			 md->lo / scale, md->hi / scale);
	} else {
		tune_fig[m].fmt(md->median, a, sizeof(a));
		tune_fig[m].fmt(md->lo, b, sizeof(b));
		tune_fig[m].fmt(md->hi, c, sizeof(c));
		snprintf(out, len, "%s [%s..%s]", a, b, c);
	}
}

/* The same with the figure's unit after it, for sentences: "0.25 [0.23..0.29] Mops/s". */
static void fmt_unit(enum metric m, const struct rs_median *md, char *out, size_t len)
{
	tune_fmt_median(m, md, out, len);
	if (m != M_BYTES && tune_fig[m].unit[0] && !isnan(md->median))
		snprintf(out + strlen(out), len - strlen(out), " %s", tune_fig[m].unit);
}

/* ---- the recommendation in words --------------------------------------------------- */

/* The first line when some settings are worse than the best (by wlo .. whi %). */
static void explain_matters(struct tune *t, const char *who, size_t worse, double wlo,
			    double whi)
{
	size_t tied = t->ncells - worse - 1;
	char by[64], rest[64];

	if (fabs(whi - wlo) < 0.5)
		snprintf(by, sizeof(by), "%+.0f %%", wlo);
	else
		snprintf(by, sizeof(by), "%+.0f %% to %+.0f %%", wlo, whi);
	if (tied)
		snprintf(rest, sizeof(rest), "%zu other%s tied with it", tied,
			 tied == 1 ? "" : "s");
	else
		snprintf(rest, sizeof(rest), "none tied with it");
	snprintf(t->matter_line, sizeof(t->matter_line),
		 "the resize parameters matter for %s here: %zu of the %zu settings %s worse "
		 "than the best on %s (%s), %s", who, worse, t->ncells,
		 worse == 1 ? "is" : "are", tune_obj_word(t), by, rest);
}

/* The first line: do the parameters matter here? */
static void explain_matter(struct tune *t)
{
	const char *who = t->preload ? "this program" : "this workload";
	size_t worse = 0, i;
	double lo = INFINITY, hi = -INFINITY, wlo = INFINITY, whi = -INFINITY;
	unsigned int need = tune_rounds_to_reject(t->ncells - 1);

	for (i = 0; i < t->ncells; i++) {
		const struct cell *c = &t->cells[i];
		double r = (c->vs.ratio - 1) * 100;

		if (!c->tied) {
			worse++;
			wlo = fmin(wlo, r);
			whi = fmax(whi, r);
		} else if (!c->best) {
			lo = fmin(lo, (c->vs.lo - 1) * 100);
			hi = fmax(hi, (c->vs.hi - 1) * 100);
		}
	}
	if (t->ncells == 1)
		snprintf(t->matter_line, sizeof(t->matter_line),
			 "one setting only: nothing to compare it with");
	else if (worse == 0 && t->rounds < need)
		snprintf(t->matter_line, sizeof(t->matter_line),
			 "too few runs to tell whether the resize parameters matter here: %u per "
			 "setting, and the test can tell %zu settings apart from %u on (--budget, "
			 "or --repeat %u)", t->rounds, t->ncells, need, need);
	else if (worse == 0)
		snprintf(t->matter_line, sizeof(t->matter_line),
			 "magazine size does not limit %s here: all %zu settings are tied with "
			 "the best on %s after %u rounds; at this noise level differences within "
			 "%+.1f %% .. %+.1f %% (their 95 %% intervals against it) are not ruled out", who, t->ncells, tune_obj_word(t), t->rounds,
			 lo, hi);
	else
		explain_matters(t, who, worse, wlo, whi);
}

/* rec_line: the setting, how to apply it, its figures. */
static void explain_rec(struct tune *t, const struct cell *c)
{
	char set[96], obj[96], b[96], how[128];

	tune_fmt_setting(c->threshold, c->timeout_ns, set, sizeof(set));
	fmt_unit(t->objective, &c->med[t->objective], obj, sizeof(obj));
	tune_fmt_median(M_BYTES, &c->med[M_BYTES], b, sizeof(b));
	if (t->preload)
		snprintf(how, sizeof(how), "MAGSLAB_RESIZE_THRESHOLD=%" PRIu64
			 " MAGSLAB_RESIZE_TIMEOUT_NS=%" PRIu64, c->threshold, c->timeout_ns);
	else
		snprintf(how, sizeof(how), "--threshold %" PRIu64 " --timeout-ns %" PRIu64,
			 c->threshold, c->timeout_ns);
	snprintf(t->rec_line, sizeof(t->rec_line),
		 "recommended: %s (%s): %s %s, %s in magazines, final magsize %g", set, how,
		 tune_obj_word(t), obj, b, c->med[M_MAGSIZE].median);
}

/* rec_line, why_line and the first line. */
void tune_explain(struct tune *t)
{
	const struct cell *c = &t->cells[t->rec], *f = &t->cells[t->best];
	char fset[96], fb[32], b[32], vs[64];
	size_t i, ntied = 0;

	for (i = 0; i < t->ncells; i++)
		ntied += t->cells[i].tied;
	explain_matter(t);
	explain_rec(t, c);
	tune_fmt_setting(f->threshold, f->timeout_ns, fset, sizeof(fset));
	fmt_bytes(f->med[M_BYTES].median, fb, sizeof(fb));
	fmt_bytes(c->med[M_BYTES].median, b, sizeof(b));
	tune_fmt_ratio(&c->vs, vs, sizeof(vs));
	if (c == f && ntied == 1)
		snprintf(t->why_line, sizeof(t->why_line),
			 "why: it has the best %s, and every other setting is worse (Wilcoxon "
			 "signed-rank over the rounds, Holm-corrected, 95 %%)", tune_obj_word(t));
	else if (c == f)
		snprintf(t->why_line, sizeof(t->why_line),
			 "why: it has the best %s, and %s not distinguishable from it "
			 "hold%s less memory in magazines", tune_obj_word(t),
			 ntied == 2 ? "the other setting" : "none of the other settings",
			 ntied == 2 ? "s no" : "s");
	else
		snprintf(t->why_line, sizeof(t->why_line),
			 "why: of the %zu settings not distinguishable from the best on %s (%s, "
			 "holding %s), it holds the least memory in magazines (%s); its %s against "
			 "the best: %s (95 %%)",
			 ntied, tune_obj_word(t), fset, fb, b, tune_obj_word(t), vs);
}

/* "+24.8 % [+21.0..+28.9]: better", from a check comparison (ratio recommended/default). */
static int check_dir(const struct tune *t, const struct rs_paired *p, enum metric m)
{
	return (int)p->verdict * tune_better(t, m);   /* 1 better, -1 worse, 0 tied */
}

/* memory_line. */
static void judge_memory(struct tune *t)
{
	const struct check *k = &t->check;
	char r[64];
	int d;

	if (!k->have_bytes) {
		snprintf(t->memory_line, sizeof(t->memory_line),
			 "memory: not compared (a run held no bytes in magazines)");
		return;
	}
	d = check_dir(t, &k->bytes, M_BYTES);
	tune_fmt_ratio(&k->bytes, r, sizeof(r));
	snprintf(t->memory_line, sizeof(t->memory_line),
		 "memory: the recommended setting holds %s bytes in magazines against the "
		 "default (95 %%): %s",
		 r, d > 0 ? "less" : d < 0 ? "more" : "no difference detectable");
}

/* rerun_line, verdict_line and memory_line. */
void tune_judge(struct tune *t)
{
	const struct check *k = &t->check;
	const struct cell *c = &t->cells[t->rec];
	char rm[96], dm[96], dset[96], r[64];
	bool same = c->threshold == t->dflt.threshold && c->timeout_ns == t->dflt.timeout_ns;
	int d = check_dir(t, &k->obj, t->objective);

	fmt_unit(t->objective, &k->med[0][t->objective], rm, sizeof(rm));
	fmt_unit(t->objective, &k->med[1][t->objective], dm, sizeof(dm));
	tune_fmt_setting(t->dflt.threshold, t->dflt.timeout_ns, dset, sizeof(dset));
	tune_fmt_ratio(&k->obj, r, sizeof(r));
	snprintf(t->rerun_line, sizeof(t->rerun_line),
		 "re-run (%u pairs interleaved, seeds %" PRIu64 " to %" PRIu64 "): %s: "
		 "recommended %s; default (%s) %s",
		 k->n, k->seed0, k->seed0 + k->n - 1, tune_obj_word(t), rm, dset, dm);
	if (same)
		snprintf(t->verdict_line, sizeof(t->verdict_line),
			 "verdict: the recommended setting is the default: keep it (two re-runs "
			 "of one setting differ by %s in %s: the noise at this level)", r,
			 tune_obj_word(t));
	else if (d > 0)
		snprintf(t->verdict_line, sizeof(t->verdict_line),
			 "verdict: better: the recommended setting's %s is %s against the "
			 "default's (95 %%, %u pairs, p = %.2g): use it", tune_obj_word(t), r, k->n,
			 k->obj.p);
	else
		snprintf(t->verdict_line, sizeof(t->verdict_line),
			 "verdict: %s: the recommended setting's %s is %s against the default's "
			 "(95 %%, %u pairs, p = %.2g): keep the default",
			 d < 0 ? "worse" : "no difference detectable at this noise level",
			 tune_obj_word(t), r, k->n, k->obj.p);
	judge_memory(t);
}
