/*
 * analysis/tune_impl.h — what the three files of `magslab tune` share (internal; the
 * subcommand's interface is tune.h, its output contract docs/tune.md):
 *
 *   tune.c      the options, the order of the job (prepare, grid, rule, files, check),
 *               what stdout says
 *   tune_run.c  the child runs (magslab-workload, or `magslab record -- ...` with
 *               --trace; proc.h): the programs checked first, each run and its progress
 *               line, reading its JSON (jansson), the medians of the grid, the Pareto
 *               front and the recommended setting, the re-runs of the check
 *   tune_out.c  the words and files: the recommendation explained and judged, tune.csv,
 *               the heatmaps (gnuplot scripts, rendered by gnuplot.c), tune.txt,
 *               index.html
 *
 * Calls go tune.c -> tune_run.c, tune_out.c; tune_run.c -> tune_out.c (the words of the
 * progress line).  Errors: tune_err() sets t->err and returns 1; a usage error is one line
 * on stderr and 2; an interrupted run 130.
 *
 * Invariants: thresholds[] and timeouts[] are sorted ascending, without duplicates; cell
 * (i, j) is cells[i * ntimeouts + j] (threshold i, timeout j); a cell's figures are the
 * medians of its `repeat` runs, run r with seed + r; the re-runs (recommended and
 * default, alternating) use seeds seed + repeat + r; once the grid is done exactly one
 * cell is recommended, and it is on the Pareto front.  Signals: SIGINT and SIGTERM set the
 * interrupted flag of proc.h, and are passed on to the running child; no run starts after
 * it and the command returns 130.
 */
#ifndef MAGSLAB_ANALYSIS_TUNE_IMPL_H
#define MAGSLAB_ANALYSIS_TUNE_IMPL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define PROG "magslab tune"
#define WORKLOAD_PROG "magslab-workload"
#define MAX_LIST 32          /* values per list */
#define MAX_REPEAT 99
#define NEAR_BEST 0.95       /* the rule: within 5 % of the best throughput */
#define ERRLEN 4096
#define LINELEN 1024

/* The figures of a run (or the medians of several). */
enum metric { M_MOPS, M_CONTENTION, M_MAGSIZE, M_BYTES, M_SETTLE, NMETRICS };

struct metrics {
	double v[NMETRICS];   /* NAN: not in the workload's JSON */
};

struct cell {
	uint64_t threshold, timeout_ns;
	struct metrics med;   /* medians over the cell's runs */
	double mops_min, mops_max;
	bool pareto, recommended;
};

/* What to run: a grid setting, or the library's default (no option given). */
struct setting {
	bool dflt;
	uint64_t threshold, timeout_ns;
};

/* What the workload's first cache says was in force. */
struct applied {
	uint64_t threshold, timeout_ns;
};

struct tune {
	/* options */
	const char *workload;
	char **wl_args;                  /* passed to every run, in order */
	int nwl_args;
	uint64_t thresholds[MAX_LIST], timeouts[MAX_LIST];
	size_t nthresholds, ntimeouts;
	unsigned int repeat;
	uint64_t seed;
	const char *outdir;
	bool trace, plots, quiet;
	/* programs and places */
	char self[PATH_MAX], wl_prog[PATH_MAX], gnuplot[PATH_MAX], absout[PATH_MAX];
	/* progress */
	unsigned int runs_done, runs_total;
	double t0, run_t0;
	bool tty, drawn;
	double drawn_at;
	char doing[256];
	/* results */
	struct cell *cells;
	size_t ncells, rec;
	struct metrics rerun[2];         /* the recommended setting's, the default's */
	struct applied dflt;             /* the default run's threshold and timeout */
	int nplots;
	char rec_line[LINELEN], why_line[2 * LINELEN], rerun_line[LINELEN],
		verdict_line[LINELEN];
	char err[ERRLEN];
};


/* tune.c */
int tune_err(struct tune *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int tune_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* tune_run.c */
int tune_find_workload(struct tune *t);
int tune_check_workload(struct tune *t);	/* 0, 1 failure, 2 unknown workload */
int tune_check_record(struct tune *t);
int tune_run_grid(struct tune *t);		/* 0, 1, 2 or 130 */
void tune_recommend(struct tune *t);
/* Of two settings, a is preferred (the rule's tie-breaks: fewer bytes, less contention,
 * shorter settle). */
bool tune_preferred(const struct cell *a, const struct cell *b);
int tune_run_check(struct tune *t);		/* the re-runs: 0, 1, 2 or 130 */
void tune_progress_end(struct tune *t);

/* tune_out.c */
void tune_fmt_setting(uint64_t threshold, uint64_t timeout_ns, char *out, size_t len);
void tune_fmt_elapsed(double s, char *out, size_t len);
void tune_explain(struct tune *t);
void tune_judge(struct tune *t);
int tune_write_csv(struct tune *t);
int tune_write_plots(struct tune *t);
int tune_write_txt(struct tune *t, double took);
int tune_write_html(struct tune *t);

#endif /* MAGSLAB_ANALYSIS_TUNE_IMPL_H */
