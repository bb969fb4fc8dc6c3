/*
 * analysis/tune_out.c — the words and files of `magslab tune` (see tune_impl.h;
 * docs/tune.md): figures and settings in words, the recommendation explained (why:) and
 * the check judged (verdict:), and the files of OUTDIR: tune.csv, one heatmap per figure
 * (heat_NAME.gp, rendered by gnuplot.c into heat_NAME.png and .svg), tune.txt and
 * index.html.  Files of an earlier tune in OUTDIR are overwritten.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gnuplot.h"
#include "tune_impl.h"
#include "util.h"

/* ---- formatting -------------------------------------------------------------------- */

/* A timeout for people: 1s, 10ms, 500us, 1.5ms, 250ns. */
static void fmt_ns(uint64_t ns, char *out, size_t len)
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

static void fmt_mops(double v, char *out, size_t len)
{
	snprintf(out, len, isnan(v) ? "n/a" : "%.2f", v);
}

static void fmt_rate(double v, char *out, size_t len)
{
	snprintf(out, len, isnan(v) ? "n/a" : "%.0f", v);
}

static void fmt_count(double v, char *out, size_t len)
{
	snprintf(out, len, isnan(v) ? "n/a" : "%g", v);
}

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

static void fmt_secs(double v, char *out, size_t len)
{
	snprintf(out, len, isnan(v) ? "n/a" : "%.2f s", v);
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

	fmt_ns(timeout_ns, to, sizeof(to));
	snprintf(out, len, "threshold %" PRIu64 ", timeout %s", threshold, to);
}

/* Relative difference of a against b in percent, signed. */
static double pct(double a, double b)
{
	return b != 0 ? (a - b) / b * 100 : 0;
}

/* ---- the recommendation in words --------------------------------------------------- */

/* The smallest and largest value of a figure over the grid. */
static void grid_range(const struct tune *t, enum metric m, double *lo, double *hi)
{
	size_t i;

	*lo = INFINITY;
	*hi = -INFINITY;
	for (i = 0; i < t->ncells; i++) {
		if (isnan(t->cells[i].med.v[m]))
			continue;
		*lo = fmin(*lo, t->cells[i].med.v[m]);
		*hi = fmax(*hi, t->cells[i].med.v[m]);
	}
}

static size_t fastest(const struct tune *t)
{
	size_t i, best = 0;

	for (i = 1; i < t->ncells; i++)
		if (t->cells[i].med.v[M_MOPS] > t->cells[best].med.v[M_MOPS] ||
		    (t->cells[i].med.v[M_MOPS] == t->cells[best].med.v[M_MOPS] &&
		     tune_preferred(&t->cells[i], &t->cells[best])))
			best = i;
	return best;
}

/* rec_line and why_line. */
void tune_explain(struct tune *t)
{
	const struct cell *c = &t->cells[t->rec], *f = &t->cells[fastest(t)];
	double best = f->med.v[M_MOPS];
	char set[96], fset[96], b[32], fb[32];
	size_t i, ncand = 0;

	for (i = 0; i < t->ncells; i++)
		ncand += t->cells[i].pareto && t->cells[i].med.v[M_MOPS] >= NEAR_BEST * best;
	tune_fmt_setting(c->threshold, c->timeout_ns, set, sizeof(set));
	tune_fmt_setting(f->threshold, f->timeout_ns, fset, sizeof(fset));
	fmt_bytes(c->med.v[M_BYTES], b, sizeof(b));
	fmt_bytes(f->med.v[M_BYTES], fb, sizeof(fb));
	snprintf(t->rec_line, sizeof(t->rec_line),
		 "recommended: %s (--threshold %" PRIu64 " --timeout-ns %" PRIu64
		 "): %.2f Mops/s, %s in magazines, final magsize %g",
		 set, c->threshold, c->timeout_ns, c->med.v[M_MOPS], b, c->med.v[M_MAGSIZE]);
	if (c == f && ncand == 1)
		snprintf(t->why_line, sizeof(t->why_line),
			 "why: it has the best throughput of the grid, and no other Pareto "
			 "setting comes within 5 %% of it (>= %.2f Mops/s)",
			 NEAR_BEST * best);
	else if (c == f)
		snprintf(t->why_line, sizeof(t->why_line),
			 "why: it has the best throughput of the grid, and none of the other %zu "
			 "Pareto settings within 5 %% of it (>= %.2f Mops/s) holds fewer bytes "
			 "in magazines",
			 ncand - 1, NEAR_BEST * best);
	else
		snprintf(t->why_line, sizeof(t->why_line),
			 "why: of the %zu Pareto settings within 5 %% of the best throughput "
			 "(%.2f Mops/s, %s, holding %s), it holds the fewest bytes in magazines "
			 "(%s, %+.0f %%) for %+.1f %% throughput",
			 ncand, best, fset, fb, b, pct(c->med.v[M_BYTES], f->med.v[M_BYTES]),
			 pct(c->med.v[M_MOPS], best));
}

/* "beats the default on throughput (+3.1 %)" or "does not ...". */
static void compare(const char *what, double rec, double def, bool more_is_better,
		    char *out, size_t len)
{
	bool beats = more_is_better ? rec > def : rec < def;

	snprintf(out, len, "%s the default on %s (%+.1f %%)",
		 beats ? "beats" : rec == def ? "ties with" : "does not beat", what,
		 pct(rec, def));
}

/* rerun_line and verdict_line. */
void tune_judge(struct tune *t)
{
	const struct metrics *r = &t->rerun[0], *d = &t->rerun[1];
	const struct cell *c = &t->cells[t->rec];
	char rb[32], db[32], dset[96], tp[96], mem[96], seeds[64];
	int better = (r->v[M_MOPS] > d->v[M_MOPS]) + (r->v[M_BYTES] < d->v[M_BYTES]);
	int worse = (r->v[M_MOPS] < d->v[M_MOPS]) + (r->v[M_BYTES] > d->v[M_BYTES]);
	bool same = c->threshold == t->dflt.threshold && c->timeout_ns == t->dflt.timeout_ns;

	fmt_bytes(r->v[M_BYTES], rb, sizeof(rb));
	fmt_bytes(d->v[M_BYTES], db, sizeof(db));
	tune_fmt_setting(t->dflt.threshold, t->dflt.timeout_ns, dset, sizeof(dset));
	if (t->repeat == 1)
		snprintf(seeds, sizeof(seeds), "seed %" PRIu64, t->seed + 1);
	else
		snprintf(seeds, sizeof(seeds), "seeds %" PRIu64 " to %" PRIu64 ", medians",
			 t->seed + t->repeat, t->seed + 2 * t->repeat - 1);
	snprintf(t->rerun_line, sizeof(t->rerun_line),
		 "re-run (%s): recommended %.2f Mops/s, %s; default (%s) %.2f Mops/s, %s",
		 seeds, r->v[M_MOPS], rb, dset, d->v[M_MOPS], db);
	compare("throughput", r->v[M_MOPS], d->v[M_MOPS], true, tp, sizeof(tp));
	compare("memory", r->v[M_BYTES], d->v[M_BYTES], false, mem, sizeof(mem));
	if (same)
		snprintf(t->verdict_line, sizeof(t->verdict_line),
			 "verdict: the recommended setting is the default, so there is nothing "
			 "to beat: the two re-runs differ by %+.1f %% in throughput and %+.1f %% "
			 "in memory, which is run-to-run noise",
			 pct(r->v[M_MOPS], d->v[M_MOPS]), pct(r->v[M_BYTES], d->v[M_BYTES]));
	else
		snprintf(t->verdict_line, sizeof(t->verdict_line),
			 "verdict: the recommended setting %s and %s: %s", tp, mem,
			 worse == 0 ? "the recommendation holds" :
			 better > 0 ? "the recommendation holds in part" :
				      "the recommendation does not hold on this re-run");
}

/* ---- output files ------------------------------------------------------------------ */

static FILE *open_out(struct tune *t, const char *name)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", t->outdir, name);
	f = fopen(path, "w");
	if (!f)
		tune_err(t, "cannot write %s: %s", path, strerror(errno));
	return f;
}

static int close_out(struct tune *t, FILE *f, const char *name)
{
	bool bad = ferror(f);

	if (fclose(f) != 0 || bad)
		return tune_err(t, "writing %s/%s failed", t->outdir, name);
	return 0;
}

/* A number for the CSV: empty if NAN. */
static void csv_num(FILE *f, const char *fmt, double v)
{
	fputc(',', f);
	if (!isnan(v))
		fprintf(f, fmt, v);
}

int tune_write_csv(struct tune *t)
{
	FILE *f = open_out(t, "tune.csv");
	size_t i;

	if (!f)
		return 1;
	fputs("threshold,timeout_ns,repeat,throughput_mops,contentions_per_s,final_magsize,"
	      "bytes_in_mags,settle_s,throughput_min_mops,throughput_max_mops,seed,pareto,"
	      "recommended\n",
	      f);
	for (i = 0; i < t->ncells; i++) {
		const struct cell *c = &t->cells[i];

		fprintf(f, "%" PRIu64 ",%" PRIu64 ",%u", c->threshold, c->timeout_ns, t->repeat);
		csv_num(f, "%.4f", c->med.v[M_MOPS]);
		csv_num(f, "%.1f", c->med.v[M_CONTENTION]);
		csv_num(f, "%g", c->med.v[M_MAGSIZE]);
		csv_num(f, "%.0f", c->med.v[M_BYTES]);
		csv_num(f, "%.3f", c->med.v[M_SETTLE]);
		csv_num(f, "%.4f", c->mops_min);
		csv_num(f, "%.4f", c->mops_max);
		fprintf(f, ",%" PRIu64 ",%d,%d\n", t->seed, c->pareto, c->recommended);
	}
	return close_out(t, f, "tune.csv");
}

/* One heatmap: the figure, how to show its values, its colours (light = low). */
struct heatmap {
	const char *name;     /* heat_NAME.gp, .png, .svg */
	enum metric m;
	const char *title;
	const char *better;
	void (*fmt)(double v, char *out, size_t len);
	const char *palette;
};

#define PAL_GOOD "(0 \"#f7fcf5\", 1 \"#74c476\", 2 \"#00441b\")"
#define PAL_BAD "(0 \"#fff5eb\", 1 \"#fd8d3c\", 2 \"#7f2704\")"
#define PAL_NEUTRAL "(0 \"#f7fbff\", 1 \"#6baed6\", 2 \"#08306b\")"

static const struct heatmap heatmaps[] = {
	{ "throughput", M_MOPS, "throughput, Mops/s", "higher is better", fmt_mops, PAL_GOOD },
	{ "contention", M_CONTENTION, "depot lock contention, contended acquisitions/s",
	  "lower is better", fmt_rate, PAL_BAD },
	{ "bytes", M_BYTES, "memory held in magazines at the end, bytes", "lower is better",
	  fmt_bytes, PAL_BAD },
	{ "settle", M_SETTLE, "time to reach the final magsize, s", "lower is better",
	  fmt_secs, PAL_BAD },
	{ "magsize", M_MAGSIZE, "final depot magsize, rounds", "for reference", fmt_count,
	  PAL_NEUTRAL },
};

#define NHEATMAPS (sizeof(heatmaps) / sizeof(heatmaps[0]))

/* s as the inside of a gnuplot double-quoted string. */
static void gp_str(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
}

/* The workload command line (without the grid's options), for titles and reports. */
static void fmt_command(const struct tune *t, char *out, size_t len)
{
	int k;

	snprintf(out, len, "%s %s", WORKLOAD_PROG, t->workload);
	for (k = 0; k < t->nwl_args; k++)
		snprintf(out + strlen(out), len - strlen(out), " %s", t->wl_args[k]);
}

/* The axes: index positions, labelled with the values. */
static void gp_axes(const struct tune *t, FILE *f)
{
	char to[32];
	size_t k;

	fprintf(f, "set xrange [-0.5:%zu.5]\nset yrange [-0.5:%zu.5]\nset xtics (", t->ntimeouts - 1,
		t->nthresholds - 1);
	for (k = 0; k < t->ntimeouts; k++) {
		fmt_ns(t->timeouts[k], to, sizeof(to));
		fprintf(f, "%s\"%s\" %zu", k ? ", " : "", to, k);
	}
	fputs(") scale 0\nset ytics (", f);
	for (k = 0; k < t->nthresholds; k++)
		fprintf(f, "%s\"%" PRIu64 "\" %zu", k ? ", " : "", t->thresholds[k], k);
	fputs(") scale 0\n"
	      "set xlabel \"resize timeout (--timeout)\"\n"
	      "set ylabel \"resize threshold (--threshold)\"\n",
	      f);
}

/* The cells as a datablock: x y value "label" (label: * on the Pareto front). */
static void gp_cells(const struct tune *t, const struct heatmap *h, FILE *f)
{
	char label[48];
	size_t i;

	fputs("$cells << EOD\n", f);
	for (i = 0; i < t->ncells; i++) {
		const struct cell *c = &t->cells[i];
		double v = c->med.v[h->m];

		h->fmt(v, label, sizeof(label));
		fprintf(f, "%zu %zu ", i % t->ntimeouts, i / t->ntimeouts);
		if (isnan(v))
			fputs("NaN", f);
		else
			fprintf(f, "%.9g", v);
		fprintf(f, " \"%s%s\"\n", label, c->pareto ? " *" : "");
	}
	fputs("EOD\n", f);
}

static int write_heatmap(struct tune *t, const struct heatmap *h)
{
	char name[64], cmd[1024];
	size_t rec = t->rec;
	int w = 240 + 130 * (int)t->ntimeouts, hgt = 200 + 70 * (int)t->nthresholds;
	FILE *f;

	snprintf(name, sizeof(name), "heat_%s.gp", h->name);
	if (!(f = open_out(t, name)))
		return 1;
	if (w < 640)
		w = 640;
	if (hgt < 480)
		hgt = 480;
	fmt_command(t, cmd, sizeof(cmd));
	fprintf(f, "# %s — magslab tune: %s over the threshold x timeout grid (tune.csv)\n",
		name, h->title);
	fprintf(f, "set terminal pngcairo size %d,%d font \"sans,10\" noenhanced\n"
		   "set output \"heat_%s.png\"\nset title \"",
		w, hgt, h->name);
	gp_str(f, h->title);
	fprintf(f, " (%s; median of %u run%s)\\n", h->better, t->repeat,
		t->repeat == 1 ? "" : "s");
	gp_str(f, cmd);
	fputs("\"\n", f);
	gp_axes(t, f);
	fprintf(f, "set palette defined %s\nset style textbox opaque noborder\nunset key\n"
		   "set bmargin 5\n"
		   "set object 1 rect from %zu-0.5,%zu-0.5 to %zu+0.5,%zu+0.5 front "
		   "fillstyle empty border lc rgb \"#d000d0\" lw 4\n"
		   "set label 1 \"framed (magenta): the recommended setting;  *: on the Pareto "
		   "front (throughput vs bytes in magazines)\" at screen 0.01,0.02 "
		   "font \",8\"\n",
		h->palette, rec % t->ntimeouts, rec / t->ntimeouts, rec % t->ntimeouts,
		rec / t->ntimeouts);
	gp_cells(t, h, f);
	fprintf(f, "plot $cells using 1:2:(0.5):(0.5):3 with boxxyerror fillstyle solid 1.0 "
		   "noborder linecolor palette, \\\n"
		   "     $cells using 1:2:4 with labels boxed\n"
		   "set terminal svg size %d,%d dynamic font \"sans,10\" noenhanced\n"
		   "set output \"heat_%s.svg\"\nreplot\n",
		w, hgt, h->name);
	return close_out(t, f, name);
}

int tune_write_plots(struct tune *t)
{
	struct gp_plot plots[NHEATMAPS];
	char names[NHEATMAPS][3][64];
	size_t k;

	for (k = 0; k < NHEATMAPS; k++)
		if (write_heatmap(t, &heatmaps[k]) != 0)
			return 1;
	if (!t->plots)
		return 0;
	if (!t->quiet) {
		fprintf(stderr, "%s" PROG ": rendering %zu heatmaps with gnuplot%s",
			t->tty ? "\r" : "", NHEATMAPS, t->tty ? "\033[K" : "\n");
		t->drawn = true;
	}
	for (k = 0; k < NHEATMAPS; k++) {
		snprintf(names[k][0], sizeof(names[k][0]), "heat_%s.gp", heatmaps[k].name);
		snprintf(names[k][1], sizeof(names[k][1]), "heat_%s.png", heatmaps[k].name);
		snprintf(names[k][2], sizeof(names[k][2]), "heat_%s.svg", heatmaps[k].name);
		plots[k] = (struct gp_plot){ names[k][0], { names[k][1], names[k][2] }, 2 };
	}
	t->nplots = gp_render(t->gnuplot, t->outdir, plots, NHEATMAPS, t->err, sizeof(t->err));
	return t->nplots < 0;
}

/* One row of a figures table (tune.txt). */
static void txt_row(FILE *f, const char *label, const struct metrics *m, const char *mark)
{
	char b[32], s[32];

	fmt_bytes(m->v[M_BYTES], b, sizeof(b));
	fmt_secs(m->v[M_SETTLE], s, sizeof(s));
	fprintf(f, "  %-44s %8.2f  %12s  %7g  %12.0f  %8s%s\n", label, m->v[M_MOPS], b,
		m->v[M_MAGSIZE], m->v[M_CONTENTION], s, mark);
}

static void txt_header(FILE *f, const char *first)
{
	fprintf(f, "  %-44s %8s  %12s  %7s  %12s  %8s\n", first, "Mops/s", "in magazines",
		"magsize", "contention/s", "settle");
}

/* The Pareto front, fastest first. */
static void txt_front(const struct tune *t, FILE *f)
{
	size_t order[MAX_LIST * MAX_LIST], n = 0, i, j;
	char set[96];

	for (i = 0; i < t->ncells; i++)
		if (t->cells[i].pareto)
			order[n++] = i;
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && t->cells[order[j]].med.v[M_MOPS] >
					     t->cells[order[j - 1]].med.v[M_MOPS];
		     j--) {
			size_t x = order[j];

			order[j] = order[j - 1];
			order[j - 1] = x;
		}
	fprintf(f, "Pareto front: %zu of the %zu settings (no other setting has both more "
		   "throughput and fewer bytes in magazines), fastest first:\n",
		n, t->ncells);
	txt_header(f, "setting");
	for (i = 0; i < n; i++) {
		const struct cell *c = &t->cells[order[i]];

		tune_fmt_setting(c->threshold, c->timeout_ns, set, sizeof(set));
		txt_row(f, set, &c->med, c->recommended ? "  <- recommended" : "");
	}
}

/* Contention, settle time and noise: what else the choice should be read with. */
static void txt_context(const struct tune *t, FILE *f)
{
	const struct cell *c = &t->cells[t->rec];
	double lo, hi, spread = 0;
	size_t i;

	grid_range(t, M_CONTENTION, &lo, &hi);
	fprintf(f, "contention: %.0f contended depot acquisitions/s (the grid: %.0f to %.0f/s);"
		   " more contention means threads waiting for the depot lock\n",
		c->med.v[M_CONTENTION], lo, hi);
	grid_range(t, M_SETTLE, &lo, &hi);
	if (isnan(c->med.v[M_SETTLE]))
		fputs("settling: the workload does not say when its magsize last changed\n", f);
	else
		fprintf(f, "settling: the magsize reached its final %g at %.2f s (0: it never "
			   "changed; the grid: %.2f to %.2f s); a setting still growing at the "
			   "end of the run may not have settled\n",
			c->med.v[M_MAGSIZE], c->med.v[M_SETTLE], lo, hi);
	for (i = 0; i < t->ncells; i++)
		spread = fmax(spread, pct(t->cells[i].mops_max, t->cells[i].mops_min));
	if (t->repeat > 1)
		fprintf(f, "noise: the throughput of a setting varied by up to %.0f %% between "
			   "its %u runs (throughput_min/max_mops in tune.csv)\n",
			spread, t->repeat);
	else
		fputs("noise: one run per setting; throughput can vary by 10 % or more from run "
		      "to run on a busy or small machine: --repeat 3 takes medians\n",
		      f);
}

/* The re-run table. */
static void txt_check(const struct tune *t, FILE *f)
{
	const struct cell *c = &t->cells[t->rec];
	char label[128], set[96];

	fprintf(f, "\nCheck: the recommended and the default setting run again, %u time%s "
		   "each, seeds %" PRIu64 " to %" PRIu64 " (not the grid's):\n",
		t->repeat, t->repeat == 1 ? "" : "s", t->seed + t->repeat,
		t->seed + 2 * t->repeat - 1);
	txt_header(f, "setting");
	tune_fmt_setting(c->threshold, c->timeout_ns, set, sizeof(set));
	snprintf(label, sizeof(label), "recommended (%s)", set);
	txt_row(f, label, &t->rerun[0], "");
	tune_fmt_setting(t->dflt.threshold, t->dflt.timeout_ns, set, sizeof(set));
	snprintf(label, sizeof(label), "default (%s)", set);
	txt_row(f, label, &t->rerun[1], "");
	fprintf(f, "%s\n%s\n", t->rerun_line, t->verdict_line);
}

/* tune.txt: the grid, the rule, the front, the recommendation, the check. */
int tune_write_txt(struct tune *t, double took)
{
	FILE *f = open_out(t, "tune.txt");
	char cmd[1024];

	if (!f)
		return 1;
	fmt_command(t, cmd, sizeof(cmd));
	fprintf(f, "magslab tune: %s\n"
		   "grid: %zu threshold%s x %zu timeout%s, %u run%s per setting (seeds %" PRIu64
		   " to %" PRIu64 "), medians; %u runs in %.1f s\n\n",
		cmd, t->nthresholds, t->nthresholds == 1 ? "" : "s", t->ntimeouts,
		t->ntimeouts == 1 ? "" : "s", t->repeat, t->repeat == 1 ? "" : "s", t->seed,
		t->seed + t->repeat - 1, t->runs_done, took);
	fputs("Rule: throughput (Mops/s, more is better) against bytes held in magazines at "
	      "the end of the run (fewer is better).  The Pareto front is the settings that no "
	      "other setting beats on both.  Recommended: of the front's settings within 5 % "
	      "of the best throughput, the one holding the fewest bytes; ties go to less depot "
	      "contention, then to a shorter time to settle.\n\n",
	      f);
	txt_front(t, f);
	fprintf(f, "\n%s\n%s\n", t->rec_line, t->why_line);
	txt_context(t, f);
	fprintf(f, "apply: MAGSLAB_RESIZE_THRESHOLD=%" PRIu64 " MAGSLAB_RESIZE_TIMEOUT_NS=%" PRIu64
		   " in the environment, or kmem_cache_set_resize_threshold() and "
		   "kmem_cache_set_resize_timeout_ns() on the cache\n",
		t->cells[t->rec].threshold, t->cells[t->rec].timeout_ns);
	txt_check(t, f);
	return close_out(t, f, "tune.txt");
}

/* A whole file, HTML-escaped. */
static void html_file(const struct tune *t, FILE *f, const char *name)
{
	char path[PATH_MAX], buf[4096];
	FILE *in;

	snprintf(path, sizeof(path), "%s/%s", t->outdir, name);
	if (!(in = fopen(path, "r")))
		return;
	while (fgets(buf, sizeof(buf), in))
		fe_html_escape(f, buf);
	fclose(in);
}

static void html_table(const struct tune *t, FILE *f)
{
	char to[32], b[32];
	size_t i;

	fputs("<table>\n<tr><th>threshold</th><th>timeout</th><th>timeout_ns</th>"
	      "<th>Mops/s</th><th>min..max</th><th>contention/s</th><th>magsize</th>"
	      "<th>bytes in magazines</th><th>settle (s)</th><th>Pareto</th></tr>\n",
	      f);
	for (i = 0; i < t->ncells; i++) {
		const struct cell *c = &t->cells[i];

		fmt_ns(c->timeout_ns, to, sizeof(to));
		fmt_bytes(c->med.v[M_BYTES], b, sizeof(b));
		fprintf(f, "<tr%s><td>%" PRIu64 "</td><td>%s</td><td>%" PRIu64 "</td>"
			   "<td>%.2f</td><td>%.2f..%.2f</td><td>%.0f</td><td>%g</td><td>%s</td>"
			   "<td>%.3f</td><td>%s</td></tr>\n",
			c->recommended ? " class=\"rec\"" : "", c->threshold, to, c->timeout_ns,
			c->med.v[M_MOPS], c->mops_min, c->mops_max, c->med.v[M_CONTENTION],
			c->med.v[M_MAGSIZE], b, c->med.v[M_SETTLE], c->pareto ? "yes" : "");
	}
	fputs("</table>\n", f);
}

int tune_write_html(struct tune *t)
{
	FILE *f = open_out(t, "index.html");
	char cmd[1024];
	size_t k;

	if (!f)
		return 1;
	fmt_command(t, cmd, sizeof(cmd));
	fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n<title>magslab tune: ", f);
	fe_html_escape(f, cmd);
	fputs("</title>\n<style>body{font-family:sans-serif;margin:1em 2em}"
	      "table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:2px 8px;"
	      "text-align:right}tr.rec{background:#ffe58f;font-weight:bold}"
	      "img{max-width:48%;margin:4px}pre{background:#f6f6f6;padding:8px;"
	      "white-space:pre-wrap}</style>\n</head><body>\n<h1>magslab tune</h1>\n<p><code>",
	      f);
	fe_html_escape(f, cmd);
	fputs("</code> over the resize threshold x timeout grid.</p>\n"
	      "<h2>Recommendation</h2>\n<pre>",
	      f);
	html_file(t, f, "tune.txt");
	fputs("</pre>\n<h2>Heatmaps</h2>\n<p>", f);
	for (k = 0; k < NHEATMAPS; k++)
		fprintf(f, "<a href=\"heat_%s.svg\"><img src=\"heat_%s.png\" alt=\"%s\"></a>\n",
			heatmaps[k].name, heatmaps[k].name, heatmaps[k].title);
	fputs("</p>\n<h2>Results (<a href=\"tune.csv\">tune.csv</a>)</h2>\n", f);
	html_table(t, f);
	fputs("<p>Every run's JSON and output: <a href=\"runs/\">runs/</a>.</p>\n"
	      "</body></html>\n",
	      f);
	return close_out(t, f, "index.html");
}
