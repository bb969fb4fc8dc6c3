/*
 * analysis/tune_files.c — the text files of `magslab tune` (see tune_impl.h;
 * docs/tune.md "Output"): tune.csv (a row per setting: every figure's median and 95 %
 * interval, the comparison with the best, tied, Pareto, recommended), runs.csv (a row
 * per run, the check's included), tune.txt and index.html.  Files of an earlier tune in
 * OUTDIR are overwritten.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tune_impl.h"
#include "util.h"

FILE *tune_open_out(struct tune *t, const char *name)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", t->outdir, name);
	f = fopen(path, "w");
	if (!f)
		tune_err(t, "cannot write %s: %s", path, strerror(errno));
	return f;
}

int tune_close_out(struct tune *t, FILE *f, const char *name)
{
	bool bad = ferror(f);

	if (fclose(f) != 0 || bad)
		return tune_err(t, "writing %s/%s failed", t->outdir, name);
	return 0;
}

/* A number for the CSV: empty if NAN or infinite. */
static void csv_num(FILE *f, double v)
{
	fputc(',', f);
	if (isfinite(v))
		fprintf(f, "%.6g", v);
}

/* ---- tune.csv, runs.csv ------------------------------------------------------------ */

static void csv_header(const struct tune *t, FILE *f)
{
	int m;

	fputs("threshold,timeout_ns,runs", f);
	for (m = 0; m < NMETRICS; m++)
		if (tune_has(t, (enum metric)m))
			fprintf(f, ",%s,%s_lo,%s_hi", tune_fig[m].csv, tune_fig[m].csv,
				tune_fig[m].csv);
	fputs(",interval_coverage,vs_best,vs_best_lo,vs_best_hi,vs_best_p,holm_level,best,"
	      "tied,eliminated_after,seed,pareto,recommended\n",
	      f);
}

int tune_write_csv(struct tune *t)
{
	FILE *f = tune_open_out(t, "tune.csv");
	size_t i;
	int m;

	if (!f)
		return 1;
	csv_header(t, f);
	for (i = 0; i < t->ncells; i++) {
		const struct cell *c = &t->cells[i];

		fprintf(f, "%" PRIu64 ",%" PRIu64 ",%u", c->threshold, c->timeout_ns, c->nruns);
		for (m = 0; m < NMETRICS; m++) {
			if (!tune_has(t, (enum metric)m))
				continue;
			csv_num(f, c->med[m].median);
			csv_num(f, c->med[m].lo);
			csv_num(f, c->med[m].hi);
		}
		csv_num(f, c->med[t->objective].conf);
		csv_num(f, c->vs.ratio);
		csv_num(f, c->vs.lo);
		csv_num(f, c->vs.hi);
		csv_num(f, c->vs.p);
		csv_num(f, c->best ? NAN : c->holm);
		fprintf(f, ",%d,%d,", c->best, c->tied);
		if (c->out_after)
			fprintf(f, "%u", c->out_after);
		fprintf(f, ",%" PRIu64 ",%d,%d\n", t->seed, c->pareto, c->recommended);
	}
	return tune_close_out(t, f, "tune.csv");
}

/* One run (check: a run of the check, round its pair). */
static void runs_row(const struct tune *t, FILE *f, const char *kind, bool check,
		     uint64_t threshold, uint64_t timeout_ns, unsigned int round,
		     const struct metrics *m)
{
	int k;

	fprintf(f, "%s,%" PRIu64 ",%" PRIu64 ",%u,%" PRIu64, kind, threshold, timeout_ns,
		round, check ? t->check.seed0 + round : t->seed + round);
	for (k = 0; k < NMETRICS; k++)
		if (tune_has(t, (enum metric)k))
			csv_num(f, m->v[k]);
	fputc('\n', f);
}

/* runs.csv: every run, the rounds' (kind "race" or "fixed") and the check's. */
int tune_write_runs(struct tune *t)
{
	FILE *f = tune_open_out(t, "runs.csv");
	const struct cell *rc = &t->cells[t->rec];
	unsigned int r;
	size_t i;
	int k;

	if (!f)
		return 1;
	fputs("kind,threshold,timeout_ns,round,seed", f);
	for (k = 0; k < NMETRICS; k++)
		if (tune_has(t, (enum metric)k))
			fprintf(f, ",%s", tune_fig[k].csv);
	fputc('\n', f);
	for (i = 0; i < t->ncells; i++)
		for (r = 0; r < t->cells[i].nruns; r++)
			runs_row(t, f, t->race ? "race" : "fixed", false, t->cells[i].threshold,
				 t->cells[i].timeout_ns, r, &t->cells[i].runs[r]);
	for (r = 0; r < t->check.n; r++) {
		runs_row(t, f, "recommended", true, rc->threshold, rc->timeout_ns, r,
			 &t->check.runs[0][r]);
		runs_row(t, f, "default", true, t->dflt.threshold, t->dflt.timeout_ns, r,
			 &t->check.runs[1][r]);
	}
	return tune_close_out(t, f, "runs.csv");
}

/* ---- tune.txt ---------------------------------------------------------------------- */

/* The design in words: how the settings ran and were compared. */
static void txt_design(const struct tune *t, FILE *f)
{
	char b[32];

	if (t->race && t->budget_is_runs)
		snprintf(b, sizeof(b), "%.0f runs", t->budget);
	else if (t->race)
		tune_fmt_elapsed(t->budget, b, sizeof(b));
	fprintf(f, "design: %s of %zu settings (%zu thresholds x %zu timeouts), every setting%s "
		   "once per round in a shuffled order, round r with seed %" PRIu64 " + r; "
		   "after every round, each setting against the best (the best median of %s) "
		   "with Wilcoxon's exact signed-rank test on the per-round log ratios, "
		   "Holm-corrected over the comparisons (5 %% family-wise error per round)",
		t->race ? "a race" : "a fixed design", t->ncells, t->nthresholds, t->ntimeouts,
		t->race ? " still in the race" : "", t->seed, tune_obj_word(t));
	if (t->race)
		fprintf(f, "; from round %d on a setting found worse is dropped; budget %s (the "
			   "check included); stopped: %s.\n",
			MIN_ROUNDS, b, t->stop_why);
	else
		fprintf(f, "; nothing is dropped (--repeat %u): the test only marks which "
			   "settings are tied with the best.\n",
			t->repeat);
	fprintf(f, "intervals: 95 %% intervals of the medians from the order statistics "
		   "(distribution-free); with n runs their coverage is at least 95 %% from n = 6 "
		   "on, and with fewer it is min..max, 1 - 2^(1-n) (column "
		   "interval_coverage).\n");
}

static void txt_table_head(const struct tune *t, FILE *f)
{
	fprintf(f, "\nSettings (medians [95 %% intervals]; vs best: the ratio of %s to the "
		   "best's with its 95 %% interval, p and the Holm level it was held to):\n",
		tune_obj_word(t));
	fprintf(f, "  %-28s %4s  %-26s %-26s %-26s %s\n", "setting", "runs", tune_obj_title(t),
		"bytes in magazines", "vs best", "status");
}

/* One setting's row of the table. */
static void txt_row(const struct tune *t, FILE *f, const struct cell *c)
{
	char set[96], obj[96], b[96], vs[64], st[96];

	tune_fmt_setting(c->threshold, c->timeout_ns, set, sizeof(set));
	tune_fmt_median(t->objective, &c->med[t->objective], obj, sizeof(obj));
	tune_fmt_median(M_BYTES, &c->med[M_BYTES], b, sizeof(b));
	if (c->best) {
		snprintf(vs, sizeof(vs), "-");
		snprintf(st, sizeof(st), "best");
	} else {
		tune_fmt_ratio(&c->vs, vs, sizeof(vs));
		if (c->out_after)
			snprintf(st, sizeof(st), "worse, p %.2g <= %.2g: out after round %u",
				 c->vs.p, c->holm, c->out_after);
		else
			snprintf(st, sizeof(st), "%s, p %.2g %s %.2g", c->tied ? "tied" : "worse",
				 c->vs.p, c->tied ? ">" : "<=", c->holm);
	}
	fprintf(f, "  %-28s %4u  %-26s %-26s %-26s %s%s%s\n", set, c->nruns, obj, b, vs, st,
		c->pareto ? "; Pareto" : "", c->recommended ? "  <- recommended" : "");
}

/* Above this average half-width (%) of the medians' intervals, tune.txt says where such
 * noise usually comes from: a difference of a few per cent is then out of reach. */
#define NOISY_HALF_WIDTH 10.0

/* True if the workload's options pin its threads. */
static bool wl_pinned(const struct tune *t)
{
	for (int i = 0; i < t->nargs; i++)
		if (strcmp(t->args[i], "--pin") == 0)
			return true;
	return false;
}

/* Where a noisy figure usually comes from, and what steadies it.  Measured on the 2-CPU
 * VM, prodcons with 8 threads for 500 ms: 11 to 56 Mops/s run to run unpinned (where the
 * scheduler puts 8 yielding threads), 60 to 63 pinned (bench/results/tune-pinned.md). */
static void txt_noise_hint(const struct tune *t, FILE *f)
{
	if (t->preload)
		fputs("hint: that is noisy, so only large differences can show; on a busy or "
		      "oversubscribed machine much of it is where the scheduler runs the "
		      "threads: pinning CMD (taskset) or an idle machine steadies it\n", f);
	else if (!wl_pinned(t))
		fputs("hint: that is noisy, so only large differences can show; with more "
		      "threads than CPUs much of it is where the scheduler runs them: the "
		      "workload's --pin (after the workload's name) steadies it, which "
		      "studies the magazine layer rather than the scheduler\n", f);
	else
		fputs("hint: that is noisy although the threads are pinned: other work on "
		      "the machine is the likely cause\n", f);
}

/* Contention, settle time and noise: what else the choice should be read with. */
static void txt_context(const struct tune *t, FILE *f)
{
	const struct cell *c = &t->cells[t->rec];
	double w, widest = 0, sum = 0;
	size_t i, n = 0;

	fprintf(f, "contention: %.0f contended depot acquisitions/s [%.0f..%.0f]; more "
		   "contention means threads waiting for the depot lock\n",
		c->med[M_CONTENTION].median, c->med[M_CONTENTION].lo, c->med[M_CONTENTION].hi);
	if (tune_has(t, M_SETTLE) && !isnan(c->med[M_SETTLE].median))
		fprintf(f, "settling: the magsize reached its final %g at %.2f s [%.2f..%.2f] "
			   "(0: it never changed); a setting still growing at the end of the run "
			   "may not have settled\n",
			c->med[M_MAGSIZE].median, c->med[M_SETTLE].median, c->med[M_SETTLE].lo,
			c->med[M_SETTLE].hi);
	for (i = 0; i < t->ncells; i++) {
		const struct rs_median *m = &t->cells[i].med[t->objective];

		if (t->cells[i].nruns < 2 || !(m->median > 0))
			continue;
		w = (m->hi - m->lo) / m->median * 50;
		widest = fmax(widest, w);
		sum += w;
		n++;
	}
	if (n)
		fprintf(f, "noise: the 95 %% intervals of the settings' medians of %s are +-%.1f "
			   "%% wide on average (the widest +-%.1f %%); the paired test takes out what "
			   "the runs of a round share\n",
			tune_obj_word(t), sum / (double)n, widest);
	if (n && sum / (double)n > NOISY_HALF_WIDTH)
		txt_noise_hint(t, f);
}

/* The check's table and lines. */
static void txt_check(const struct tune *t, FILE *f)
{
	const struct check *k = &t->check;
	const struct cell *c = &t->cells[t->rec];
	char set[96], a[96], b[96];
	int w;

	fprintf(f, "\nCheck: the recommended setting and the default, %u pairs, each pair with "
		   "a seed the rounds did not use (%" PRIu64 " to %" PRIu64 ") in a random "
		   "order; compared with the same paired test:\n",
		k->n, k->seed0, k->seed0 + k->n - 1);
	for (w = 0; w < 2; w++) {
		if (w == 0)
			tune_fmt_setting(c->threshold, c->timeout_ns, set, sizeof(set));
		else
			tune_fmt_setting(t->dflt.threshold, t->dflt.timeout_ns, set, sizeof(set));
		tune_fmt_median(t->objective, &k->med[w][t->objective], a, sizeof(a));
		tune_fmt_median(M_BYTES, &k->med[w][M_BYTES], b, sizeof(b));
		fprintf(f, "  %-12s %-28s %s: %s; bytes in magazines %s\n",
			w ? "default" : "recommended", set, tune_obj_title(t), a, b);
	}
	fprintf(f, "%s\n%s\n%s\n", t->rerun_line, t->verdict_line, t->memory_line);
}

/* tune.txt: the first line, the design, the settings, the recommendation, the check. */
int tune_write_txt(struct tune *t, double took)
{
	FILE *f = tune_open_out(t, "tune.txt");
	char cmd[1024], el[32];
	size_t i;

	if (!f)
		return 1;
	tune_fmt_command(t, cmd, sizeof(cmd));
	tune_fmt_elapsed(took, el, sizeof(el));
	fprintf(f, "%s\n\nmagslab tune: %s\n%u rounds, %u runs in %s (%u of them the check's)\n",
		t->matter_line, cmd, t->rounds, t->runs_done, el, 2 * t->check.n);
	txt_design(t, f);
	fprintf(f, "rule: the recommended setting holds the least memory in magazines among the "
		   "settings not distinguishable from the best on %s (ties: less contention, "
		   "a shorter time to settle, the better %s).\n",
		tune_obj_word(t), tune_obj_word(t));
	txt_table_head(t, f);
	for (i = 0; i < t->ncells; i++)
		txt_row(t, f, &t->cells[i]);
	fprintf(f, "\n%s\n%s\n", t->rec_line, t->why_line);
	txt_context(t, f);
	fprintf(f, "apply: MAGSLAB_RESIZE_THRESHOLD=%" PRIu64 " MAGSLAB_RESIZE_TIMEOUT_NS=%" PRIu64
		   " in the environment, or kmem_cache_set_resize_threshold() and "
		   "kmem_cache_set_resize_timeout_ns() on the cache\n",
		t->cells[t->rec].threshold, t->cells[t->rec].timeout_ns);
	txt_check(t, f);
	return tune_close_out(t, f, "tune.txt");
}

/* ---- index.html -------------------------------------------------------------------- */

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
	char to[32], obj[96], b[96], vs[64];
	size_t i;

	fputs("<table>\n<tr><th>threshold</th><th>timeout</th><th>runs</th><th>", f);
	fe_html_escape(f, tune_obj_title(t));
	fputs("</th><th>bytes in magazines</th><th>vs best</th><th>p</th><th>status</th>"
	      "<th>Pareto</th></tr>\n",
	      f);
	for (i = 0; i < t->ncells; i++) {
		const struct cell *c = &t->cells[i];

		tune_fmt_ns(c->timeout_ns, to, sizeof(to));
		tune_fmt_median(t->objective, &c->med[t->objective], obj, sizeof(obj));
		tune_fmt_median(M_BYTES, &c->med[M_BYTES], b, sizeof(b));
		tune_fmt_ratio(&c->vs, vs, sizeof(vs));
		fprintf(f, "<tr%s><td>%" PRIu64 "</td><td>%s</td><td>%u</td><td>%s</td>"
			   "<td>%s</td><td>%s</td><td>%.2g</td><td>%s</td><td>%s</td></tr>\n",
			c->recommended ? " class=\"rec\"" : c->tied ? " class=\"tied\"" : "",
			c->threshold, to, c->nruns, obj, b, c->best ? "-" : vs, c->vs.p,
			c->best ? "best" : c->tied ? "tied" : "worse", c->pareto ? "yes" : "");
	}
	fputs("</table>\n", f);
}

int tune_write_html(struct tune *t)
{
	FILE *f = tune_open_out(t, "index.html");
	char cmd[1024];
	int m;

	if (!f)
		return 1;
	tune_fmt_command(t, cmd, sizeof(cmd));
	fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n<title>magslab tune: ", f);
	fe_html_escape(f, cmd);
	fputs("</title>\n<style>body{font-family:sans-serif;margin:1em 2em}"
	      "table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:2px 8px;"
	      "text-align:right}tr.rec{background:#ffe58f;font-weight:bold}"
	      "tr.tied{background:#e6f0ff}"
	      "img{max-width:48%;margin:4px}pre{background:#f6f6f6;padding:8px;"
	      "white-space:pre-wrap}</style>\n</head><body>\n<h1>magslab tune</h1>\n<p><code>",
	      f);
	fe_html_escape(f, cmd);
	fputs("</code> over the resize threshold x timeout grid.</p>\n"
	      "<h2>Recommendation</h2>\n<pre>",
	      f);
	html_file(t, f, "tune.txt");
	fputs("</pre>\n<h2>Heatmaps</h2>\n<p>", f);
	for (m = 0; m < NMETRICS; m++)
		if (tune_has(t, (enum metric)m))
			fprintf(f, "<a href=\"heat_%s.svg\"><img src=\"heat_%s.png\" alt=\"%s\"></a>\n",
				tune_fig[m].heat, tune_fig[m].heat, tune_fig[m].title);
	fputs("</p>\n<h2>Results (<a href=\"tune.csv\">tune.csv</a>, every run: "
	      "<a href=\"runs.csv\">runs.csv</a>)</h2>\n",
	      f);
	html_table(t, f);
	fputs("<p>Every run's JSON and output: <a href=\"runs/\">runs/</a>.</p>\n"
	      "</body></html>\n",
	      f);
	return tune_close_out(t, f, "index.html");
}
