/*
 * analysis/diff.h — `magslab diff A B [-o OUTDIR]`: two runs side by side (docs/report.md,
 * "Two runs side by side").
 *
 * A and B are report directories (with summary.json) or traces, which are reported first
 * (report_run, without plots) into OUTDIR/a and OUTDIR/b.  For every cache present in
 * both (by name), the summary figures of A and B and their change; the magsize and
 * contention series of A and B overlaid on one time axis (gnuplot); a first line saying
 * which run contended less and grew less.  Writes OUTDIR/summary.txt, diff.json
 * (jansson), index.html, diff-magsize.gp/.png/.svg, diff-contention.gp/.png/.svg and the
 * data they read (a.magsize.dat, b.magsize.dat, a.contention.dat, b.contention.dat).
 *
 * Modules: diff.c (options, inputs, the comparison, summary.txt, diff.json), diff_out.c
 * (the overlaid plots and index.html).  No state shared beyond struct diff; no threads.
 *
 * Exit status: 0 done, 1 failure (one line on stderr), 2 bad usage or no cache in common
 * (unrelated inputs), 130 interrupted.
 */
#ifndef MAGSLAB_ANALYSIS_DIFF_H
#define MAGSLAB_ANALYSIS_DIFF_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

/* One side: where it came from, its report directory, its summary.json. */
struct diff_side {
	const char *input;	/* as given */
	char dir[4096];		/* its report directory */
	bool was_trace;		/* reported by this run into OUTDIR/a or OUTDIR/b */
	json_t *summary;
	double mops;		/* workload.json's throughput; < 0: none */
};

/* A cache present in both: its summary.json objects. */
struct diff_cache {
	const char *name;
	json_t *a, *b;
};

struct diff {
	const char *outdir;
	bool quiet;
	struct diff_side side[2];
	struct diff_cache *common;
	size_t ncommon, only[2];
	char verdict[512];	/* the first line */
	bool any_change;
};

/* diff_out.c: the overlaid plots (rendered if gnuplot is there) and index.html. */
int diff_write_plots(struct diff *d, char *err, size_t errlen);
int diff_write_html(const struct diff *d, char *err, size_t errlen);

/* diff.c: the figure rows of a cache, shared with diff_out.c's table. */
#define DIFF_NFIG 12
extern const char *const diff_fig_names[DIFF_NFIG];
/* Figure k of cache object c (NaN: not in that report). */
double diff_fig(const json_t *c, int k);
/* The change from a to b as text ("no change", "+3 (+5.0%)", "none in A"). */
void diff_change(double a, double b, char *buf, size_t len);

void diff_usage(FILE *f);
int cmd_diff(int argc, char **argv);

#endif
