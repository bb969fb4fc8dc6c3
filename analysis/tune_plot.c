/*
 * analysis/tune_plot.c — the heatmaps of `magslab tune` (see tune_impl.h; docs/tune.md
 * "Heatmaps"): one per figure of the mode, heat_NAME.gp written here and rendered by
 * gnuplot.c into heat_NAME.png and .svg.  x is the timeout and y the threshold, one cell
 * per setting at index positions labelled with the values; each cell prints its median
 * and 95 % interval (and the round it was eliminated after); settings tied with the best
 * on the objective are framed in blue, the recommended one in magenta; `*` marks the
 * Pareto front.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "gnuplot.h"
#include "tune_impl.h"

#define PAL_GOOD "(0 \"#f7fcf5\", 1 \"#74c476\", 2 \"#00441b\")"
#define PAL_BAD "(0 \"#fff5eb\", 1 \"#fd8d3c\", 2 \"#7f2704\")"
#define PAL_NEUTRAL "(0 \"#f7fbff\", 1 \"#6baed6\", 2 \"#08306b\")"

/* s as the inside of a gnuplot double-quoted string. */
static void gp_str(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
}

/* The axes: index positions, labelled with the values. */
static void gp_axes(const struct tune *t, FILE *f)
{
	char to[32];
	size_t k;

	fprintf(f, "set xrange [-0.5:%zu.5]\nset yrange [-0.5:%zu.5]\nset xtics (", t->ntimeouts - 1,
		t->nthresholds - 1);
	for (k = 0; k < t->ntimeouts; k++) {
		tune_fmt_ns(t->timeouts[k], to, sizeof(to));
		fprintf(f, "%s\"%s\" %zu", k ? ", " : "", to, k);
	}
	fputs(") scale 0\nset ytics (", f);
	for (k = 0; k < t->nthresholds; k++)
		fprintf(f, "%s\"%llu\" %zu", k ? ", " : "", (unsigned long long)t->thresholds[k], k);
	fputs(") scale 0\n"
	      "set xlabel \"resize timeout (--timeout)\"\n"
	      "set ylabel \"resize threshold (--threshold)\"\n",
	      f);
}

/* The cells as a datablock: x y value "median\n[lo..hi][\nout after R] [*]". */
static void gp_cells(const struct tune *t, enum metric m, FILE *f)
{
	char label[160];
	size_t i;

	fputs("$cells << EOD\n", f);
	for (i = 0; i < t->ncells; i++) {
		const struct cell *c = &t->cells[i];
		double v = c->med[m].median;
		char *br;

		tune_fmt_median(m, &c->med[m], label, sizeof(label));
		fprintf(f, "%zu %zu ", i % t->ntimeouts, i / t->ntimeouts);
		if (isnan(v))
			fputs("NaN", f);
		else
			fprintf(f, "%.9g", v);
		fputs(" \"", f);
		if ((br = strstr(label, " ["))) {
			*br = '\0';
			gp_str(f, label);
			fputs("\\n", f);
			gp_str(f, br + 1);
		} else {
			gp_str(f, label);
		}
		if (c->out_after)
			fprintf(f, "\\nout after round %u", c->out_after);
		fprintf(f, "%s\"\n", c->pareto ? " *" : "");
	}
	fputs("EOD\n", f);
}

/* A frame around cell i (object number id). */
static void gp_frame(const struct tune *t, FILE *f, int id, size_t i, const char *colour,
		     int lw)
{
	size_t x = i % t->ntimeouts, y = i / t->ntimeouts;

	fprintf(f, "set object %d rect from %zu-0.5,%zu-0.5 to %zu+0.5,%zu+0.5 front "
		   "fillstyle empty border lc rgb \"%s\" lw %d\n",
		id, x, y, x, y, colour, lw);
}

/* The title: the figure, which way is better, the runs, the command. */
static void gp_title(const struct tune *t, enum metric m, FILE *f)
{
	char cmd[1024];
	int b = tune_better(t, m);

	tune_fmt_command(t, cmd, sizeof(cmd));
	fputs("set title \"", f);
	gp_str(f, tune_fig[m].title);
	fprintf(f, " (%s; median [95 %% interval] of each setting's runs)\\n",
		b > 0 ? "higher is better" : b < 0 ? "lower is better" : "for reference");
	gp_str(f, cmd);
	fputs("\"\n", f);
}

static int write_heatmap(struct tune *t, enum metric m)
{
	char name[64];
	int w = 240 + 150 * (int)t->ntimeouts, hgt = 200 + 80 * (int)t->nthresholds, id = 2;
	int b = tune_better(t, m);
	size_t i;
	FILE *f;

	snprintf(name, sizeof(name), "heat_%s.gp", tune_fig[m].heat);
	if (!(f = tune_open_out(t, name)))
		return 1;
	w = w < 640 ? 640 : w;
	hgt = hgt < 480 ? 480 : hgt;
	fprintf(f, "# %s — magslab tune: %s over the threshold x timeout grid (tune.csv)\n",
		name, tune_fig[m].title);
	fprintf(f, "set terminal pngcairo size %d,%d font \"sans,10\" noenhanced\n"
		   "set output \"heat_%s.png\"\n",
		w, hgt, tune_fig[m].heat);
	gp_title(t, m, f);
	gp_axes(t, f);
	fprintf(f, "set palette defined %s\nset style textbox opaque noborder\nunset key\n"
		   "set bmargin 5\n",
		b > 0 ? PAL_GOOD : b < 0 ? PAL_BAD : PAL_NEUTRAL);
	gp_frame(t, f, 1, t->rec, "#d000d0", 5);
	for (i = 0; i < t->ncells; i++)
		if (t->cells[i].tied && i != t->rec)
			gp_frame(t, f, id++, i, "#1f4fd0", 3);
	fprintf(f, "set label 1 \"framed: magenta recommended, blue tied with the best on %s; "
		   "*: Pareto front\" at screen 0.01,0.02 "
		   "font \",8\"\n",
		tune_obj_word(t));
	gp_cells(t, m, f);
	fprintf(f, "plot $cells using 1:2:(0.5):(0.5):3 with boxxyerror fillstyle solid 1.0 "
		   "noborder linecolor palette, \\\n"
		   "     $cells using 1:2:4 with labels boxed\n"
		   "set terminal svg size %d,%d dynamic font \"sans,10\" noenhanced\n"
		   "set output \"heat_%s.svg\"\nreplot\n",
		w, hgt, tune_fig[m].heat);
	return tune_close_out(t, f, name);
}

int tune_write_plots(struct tune *t)
{
	struct gp_plot plots[NMETRICS];
	char names[NMETRICS][3][64];
	size_t n = 0;
	int m;

	for (m = 0; m < NMETRICS; m++)
		if (tune_has(t, (enum metric)m) && write_heatmap(t, (enum metric)m) != 0)
			return 1;
	if (!t->plots)
		return 0;
	for (m = 0; m < NMETRICS; m++) {
		if (!tune_has(t, (enum metric)m))
			continue;
		snprintf(names[n][0], sizeof(names[n][0]), "heat_%s.gp", tune_fig[m].heat);
		snprintf(names[n][1], sizeof(names[n][1]), "heat_%s.png", tune_fig[m].heat);
		snprintf(names[n][2], sizeof(names[n][2]), "heat_%s.svg", tune_fig[m].heat);
		plots[n] = (struct gp_plot){ names[n][0], { names[n][1], names[n][2] }, 2 };
		n++;
	}
	if (!t->quiet) {
		fprintf(stderr, "%s" PROG ": rendering %zu heatmaps with gnuplot%s",
			t->tty ? "\r" : "", n, t->tty ? "\033[K" : "\n");
		t->drawn = true;
	}
	t->nplots = gp_render(t->gnuplot, t->outdir, plots, n, t->err, sizeof(t->err));
	return t->nplots < 0;
}
