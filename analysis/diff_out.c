/*
 * analysis/diff_out.c — `magslab diff` (diff.h): the magsize and contention of A and B
 * overlaid on one time axis (seconds since each trace's start), and index.html.
 *
 * The data are the two reports' magsize.dat and contention.dat (docs/report.md), copied
 * into OUTDIR as a.magsize.dat, b.magsize.dat, a.contention.dat, b.contention.dat so that
 * the scripts diff-magsize.gp and diff-contention.gp work in OUTDIR alone.  A report's
 * .dat holds one block per plotted cache, named in its "# block N: cache NAME (id I)"
 * comments: a common cache is drawn when both reports plotted it (at most DIFF_MAX_PLOT
 * of them, A's most active first), A solid, B dashed, one colour per cache.
 *
 * Rendered with gnuplot (gnuplot.h) when it is there; without it, the scripts are written
 * and index.html says how to run them.  No locks, no threads.
 */
#include "diff.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gnuplot.h"
#include "util.h"

#define DIFF_MAX_PLOT 4

static const char *const colours[DIFF_MAX_PLOT] = { "#1f77b4", "#d62728", "#2ca02c", "#9467bd" };

/* The block of cache name in the .dat file path, or -1. */
static int block_of(const char *path, const char *name)
{
	char line[1024], want[600];
	FILE *f = fopen(path, "r");
	int blk = -1, n;

	if (!f)
		return -1;
	snprintf(want, sizeof(want), ": cache %s (id ", name);
	while (fgets(line, sizeof(line), f)) {
		if (line[0] != '#')
			continue;
		if (sscanf(line, "# block %d", &n) == 1 && strstr(line, want)) {
			blk = n;
			break;
		}
	}
	fclose(f);
	return blk;
}

static int copy_dat(const struct diff *d, int side, const char *name, char *err, size_t len)
{
	char from[PATH_MAX], to[PATH_MAX];

	snprintf(from, sizeof(from), "%s/%s", d->side[side].dir, name);
	snprintf(to, sizeof(to), "%s/%c.%s", d->outdir, side ? 'b' : 'a', name);
	if (fe_copy_file(from, to) != 0) {
		snprintf(err, len, "cannot copy %.1000s to %.1000s: %s", from, to, strerror(errno));
		return -1;
	}
	return 0;
}

/* The head of a script: PNG then SVG of the same plot. */
static void script_head(FILE *f, const char *name, const char *title, const char *ylabel)
{
	fprintf(f, "# %s.gp — written by magslab diff; run it in this directory:\n"
		"#     gnuplot %s.gp  ->  %s.png and %s.svg\n", name, name, name, name);
	fprintf(f, "do for [fmt in \"png svg\"] {\n"
		"if (fmt eq \"png\") {\n"
		"    set terminal pngcairo size 1200,600 noenhanced font \"sans,10\"\n"
		"    set output \"%s.png\"\n} else {\n"
		"    set terminal svg size 1200,600 noenhanced font \"sans,10\" background rgb \"white\"\n"
		"    set output \"%s.svg\"\n}\n", name, name);
	fprintf(f, "set title \"%s\\nA solid, B dashed; time since each trace's start\"\n"
		"set grid\nset key outside right top\nset xlabel \"time (s)\"\nset ylabel \"%s\"\n"
		"set datafile missing \"NaN\"\n", title, ylabel);
}

/* One script: for each drawn cache, A's block and B's block of DAT, column col. */
static int write_script(const struct diff *d, const char *name, const char *dat, int col,
			const char *style, const char *title, const char *ylabel, char *err,
			size_t len)
{
	char p[PATH_MAX], pa[PATH_MAX], pb[PATH_MAX];
	FILE *f;
	int drawn = 0;

	snprintf(p, sizeof(p), "%s/%s.gp", d->outdir, name);
	snprintf(pa, sizeof(pa), "%s/a.%s", d->outdir, dat);
	snprintf(pb, sizeof(pb), "%s/b.%s", d->outdir, dat);
	f = fopen(p, "w");
	if (!f) {
		snprintf(err, len, "cannot write %.1000s: %s", p, strerror(errno));
		return -1;
	}
	script_head(f, name, title, ylabel);
	for (size_t i = 0; i < d->ncommon && drawn < DIFF_MAX_PLOT; i++) {
		int ba = block_of(pa, d->common[i].name), bb = block_of(pb, d->common[i].name);

		if (ba < 0 || bb < 0)
			continue;
		fprintf(f, "%s \"a.%s\" index %d using 1:%d with %s lw 2 dt 1 lc rgb \"%s\" "
			"title \"A: %s\", \\\n     \"b.%s\" index %d using 1:%d with %s lw 2 dt 2 "
			"lc rgb \"%s\" title \"B: %s\"", drawn ? ", \\\n    " : "plot", dat, ba, col,
			style, colours[drawn], d->common[i].name, dat, bb, col, style, colours[drawn],
			d->common[i].name);
		drawn++;
	}
	if (!drawn)
		fprintf(f, "set label 1 \"no cache plotted in both reports\" at graph 0.5, 0.5 center\n"
			"set xrange [0:1]\nset yrange [0:1]\nplot NaN notitle");
	fprintf(f, "\nunset output\n}\n");
	if (fclose(f)) {
		snprintf(err, len, "cannot write %.1000s: %s", p, strerror(errno));
		return -1;
	}
	return 0;
}

int diff_write_plots(struct diff *d, char *err, size_t errlen)
{
	static const struct gp_plot plots[] = {
		{ "diff-contention.gp", { "diff-contention.png", "diff-contention.svg" }, 2 },
		{ "diff-magsize.gp", { "diff-magsize.png", "diff-magsize.svg" }, 2 },
	};
	char gnuplot[PATH_MAX];

	for (int s = 0; s < 2; s++)
		if (copy_dat(d, s, "magsize.dat", err, errlen) ||
		    copy_dat(d, s, "contention.dat", err, errlen))
			return -1;
	if (write_script(d, "diff-magsize", "magsize.dat", 2, "steps",
			 "Depot magsize, A and B", "magsize (rounds)", err, errlen) ||
	    write_script(d, "diff-contention", "contention.dat", 2, "steps",
			 "Contended depot acquisitions per bucket, A and B",
			 "contended acquisitions per bucket", err, errlen))
		return -1;
	if (gp_find(gnuplot, sizeof(gnuplot)) != 0) {
		if (!d->quiet)
			fprintf(stderr, "magslab diff: no gnuplot (%s): the plots' scripts are written, "
				"not drawn\n", gnuplot);
		return 0;
	}
	return gp_render(gnuplot, d->outdir, plots, 2, err, errlen) < 0 ? -1 : 0;
}

/* ---- index.html --------------------------------------------------------------------------- */

static void html_num(FILE *f, double v)
{
	if (isnan(v))
		fputs("-", f);
	else if (v == floor(v) && fabs(v) < 1e15)
		fprintf(f, "%.0f", v);
	else
		fprintf(f, "%.3g", v);
}

static void html_row(FILE *f, const char *what, double a, double b)
{
	char ch[64];

	diff_change(a, b, ch, sizeof(ch));
	fprintf(f, "<tr><td>");
	fe_html_escape(f, what);
	fprintf(f, "</td><td class=\"n\">");
	html_num(f, a);
	fprintf(f, "</td><td class=\"n\">");
	html_num(f, b);
	fprintf(f, "</td><td>%s</td></tr>\n", ch);
}

static void html_side(FILE *f, const char *label, const struct diff_side *s)
{
	fprintf(f, "%s: ", label);
	fe_html_escape(f, s->input);
	if (s->was_trace)
		fprintf(f, " (a trace, reported into <a href=\"%s/index.html\">%s/</a>)<br>\n",
			label[0] == 'A' ? "a" : "b", label[0] == 'A' ? "a" : "b");
	else
		fprintf(f, " (a report directory)<br>\n");
}

int diff_write_html(const struct diff *d, char *err, size_t errlen)
{
	char p[PATH_MAX];
	FILE *f;

	snprintf(p, sizeof(p), "%s/index.html", d->outdir);
	f = fopen(p, "w");
	if (!f) {
		snprintf(err, errlen, "cannot write %.1000s: %s", p, strerror(errno));
		return -1;
	}
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		"<title>magslab diff</title>\n<style>\nbody { font-family: sans-serif; margin: 1em; }\n"
		"table { border-collapse: collapse; font-size: 0.9em; }\n"
		"th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; }\n"
		"td.n { text-align: right; font-family: monospace; }\n"
		"img { max-width: 100%%; border: 1px solid #eee; }\n</style>\n</head>\n<body>\n"
		"<h1>magslab diff</h1>\n<p><b>");
	fe_html_escape(f, d->verdict);
	fprintf(f, "</b></p>\n<p>");
	html_side(f, "A", &d->side[0]);
	html_side(f, "B", &d->side[1]);
	fprintf(f, "caches in both: %zu; only in A: %zu; only in B: %zu. Files: "
		"<a href=\"summary.txt\">summary.txt</a>, <a href=\"diff.json\">diff.json</a>.</p>\n",
		d->ncommon, d->only[0], d->only[1]);
	fprintf(f, "<h2>magsize</h2>\n<p><a href=\"diff-magsize.svg\"><img src=\"diff-magsize.png\" "
		"alt=\"magsize of A and B\"></a></p>\n<h2>contention</h2>\n<p><a href=\"diff-"
		"contention.svg\"><img src=\"diff-contention.png\" alt=\"contention of A and B\">"
		"</a></p>\n<h2>Figures</h2>\n<table>\n<tr><th>run</th><th>A</th><th>B</th>"
		"<th>change</th></tr>\n");
	html_row(f, "workload throughput (Mops/s)", d->side[0].mops < 0 ? NAN : d->side[0].mops,
		 d->side[1].mops < 0 ? NAN : d->side[1].mops);
	for (size_t i = 0; i < d->ncommon; i++) {
		fprintf(f, "<tr><th colspan=\"4\">cache ");
		fe_html_escape(f, d->common[i].name);
		fprintf(f, "</th></tr>\n");
		for (int k = 0; k < DIFF_NFIG; k++)
			html_row(f, diff_fig_names[k], diff_fig(d->common[i].a, k),
				 diff_fig(d->common[i].b, k));
	}
	fprintf(f, "</table>\n</body>\n</html>\n");
	if (fclose(f)) {
		snprintf(err, errlen, "cannot write %.1000s: %s", p, strerror(errno));
		return -1;
	}
	return 0;
}
