/*
 * analysis/tune_impl.h — what the files of `magslab tune` share (internal; the
 * subcommand's interface is tune.h, its output contract docs/tune.md):
 *
 *   tune.c       the options, the order of the job (prepare, rounds, summary, files,
 *                check), what stdout says
 *   tune_race.c  the design: rounds of every setting still in the race in a shuffled
 *                order, the comparisons with the best after each round (racestat.h's
 *                paired Wilcoxon, Holm-corrected) and the eliminations, when the race
 *                stops, the medians and intervals, the Pareto front, the recommended
 *                setting, the held-out check and its comparisons
 *   tune_run.c   one child run (magslab-workload, `magslab record -- ...` with --trace,
 *                or CMD under the malloc shim with --preload; proc.h), the programs
 *                checked first, the progress line
 *   tune_read.c  a run's figures: magslab-workload's JSON, or a program's wall and CPU
 *                time, its --metric number and the shim's stats JSON (jansson)
 *   tune_out.c   the figures' table, numbers and settings in words, the lines every
 *                output repeats (the first line, the recommendation and why, the verdict)
 *   tune_files.c tune.csv, runs.csv, tune.txt, index.html
 *   tune_plot.c  the heatmaps (gnuplot scripts, rendered by gnuplot.c)
 *
 * Calls go tune.c -> tune_race.c, tune_run.c, tune_out.c, tune_files.c, tune_plot.c;
 * tune_race.c -> tune_run.c -> tune_read.c; every file may use tune_out.c's formatting
 * and figure table, and tune_files.c's tune_open_out/tune_close_out.
 * Errors: tune_err() sets t->err and returns 1; a usage error is one line on stderr and
 * 2; an interrupted run 130.
 *
 * Invariants: thresholds[] and timeouts[] are sorted ascending, without duplicates; cell
 * (i, j) is cells[i * ntimeouts + j] (threshold i, timeout j); round r (0-based) runs
 * every setting still in the race once, with seed + r, and cell->runs[r] is its run of
 * round r, so a cell eliminated after n rounds has runs[0..n) and any two cells share
 * their first min(nruns) rounds; the check's pair k uses seed + rounds + k; once the
 * rounds are done exactly one cell is recommended, and it is tied with the best.
 * Signals: SIGINT and SIGTERM set the interrupted flag of proc.h and are passed on to the
 * running child; no run starts after it and the command returns 130.
 */
#ifndef MAGSLAB_ANALYSIS_TUNE_IMPL_H
#define MAGSLAB_ANALYSIS_TUNE_IMPL_H

#include <limits.h>
#include <regex.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>

#include "racestat.h"

#define PROG "magslab tune"
#define WORKLOAD_PROG "magslab-workload"
#define SHIM_NAME "libmagslab-malloc.so"
#define MAX_LIST 32          /* values per list */
#define MAX_REPEAT 99
#define MAX_CHECK 99         /* pairs of the held-out check */
#define MIN_CHECK 6          /* fewer pairs can never reach 95 % with the exact test */
#define DEFAULT_CHECK 10
#define LEVEL 0.95           /* every interval, every test */
#define ALPHA 0.05           /* 1 - LEVEL: the race's family-wise error per round */
#define MIN_ROUNDS 6         /* no elimination before (the test cannot reject sooner) */
#define MAX_ROUNDS RS_MAX_ROUNDS
#define DEFAULT_MARGIN 0.02  /* survivors within +-2 % of the best are equivalent */
#define ERRLEN 4096
#define LINELEN 1024

/* The figures of a run (or the medians of several).  Which exist depends on the mode
 * (tune_fig[m].modes); the objective is one of those with an --objective name. */
enum metric {
	M_MOPS,       /* workload: throughput, Mops/s */
	M_CPU_OP,     /* workload: CPU time (user + system) per operation, ns */
	M_STEADY,     /* workload: throughput after the warm-up snapshot, Mops/s */
	M_WALL,       /* program: wall time, s */
	M_CPU_S,      /* program: CPU time (user + system), s */
	M_METRIC,     /* program: the --metric number */
	M_CONTENTION, /* contended depot acquisitions per second, summed over the caches */
	M_MAGSIZE,    /* the largest final magsize */
	M_BYTES,      /* bytes held in magazines at the end, summed */
	M_SETTLE,     /* when the magsize last changed, s (workload only) */
	NMETRICS
};

enum { FOR_WORKLOAD = 1, FOR_PROGRAM = 2 };

/* A figure: its names, its unit, which way is better, how it is written. */
struct figure {
	const char *csv;        /* tune.csv column (and NAME_lo, NAME_hi) */
	const char *heat;       /* heat_NAME.gp/.png/.svg */
	const char *title;      /* for people, with the unit */
	const char *word;       /* in a sentence: "throughput" */
	const char *unit;       /* "Mops/s" ("" for the --metric number) */
	const char *objective;  /* its --objective name (NULL: cannot be one) */
	int better;             /* 1 more is better, -1 less, 0 for reference */
	unsigned int modes;
	void (*fmt)(double v, char *out, size_t len);
};

extern const struct figure tune_fig[NMETRICS];   /* tune_out.c */

struct metrics {
	double v[NMETRICS];   /* NAN: not measured (not in this mode or not in the JSON) */
};

struct cell {
	uint64_t threshold, timeout_ns;
	struct metrics *runs;       /* runs[r]: its run of round r */
	unsigned int nruns, cap;
	struct rs_median med[NMETRICS];  /* medians and 95 % intervals (NAN: none) */
	struct rs_paired vs;        /* its objective against the best's: ratio this / best */
	double holm;                /* the level vs.p was held to (0: not compared) */
	unsigned int out_after;     /* eliminated after this many rounds (0: not) */
	bool alive, best, tied, pareto, recommended;
};

/* What to run: a grid setting, or the library's default (no setting given). */
struct setting {
	bool dflt;
	uint64_t threshold, timeout_ns;
};

/* What the first cache of a run says was in force. */
struct applied {
	uint64_t threshold, timeout_ns;
};

/* The held-out check: the recommended setting and the default, interleaved. */
struct check {
	struct metrics runs[2][MAX_CHECK];  /* [0] recommended, [1] default */
	unsigned int n;
	uint64_t seed0;
	struct rs_median med[2][NMETRICS];
	struct rs_paired obj, bytes;        /* ratio recommended / default */
	bool have_obj, have_bytes;
};

struct tune {
	/* options */
	const char *workload;            /* NULL with --preload */
	char **args;                     /* workload options, or CMD and its arguments */
	int nargs;
	bool preload;
	const char *policy;              /* --policy (--preload): MAGSLAB_POLICY */
	const char *metric_re;           /* --metric REGEX */
	regex_t metric;
	bool metric_compiled;
	int metric_better;               /* --better: 1 higher, -1 lower, 0 not given */
	uint64_t thresholds[MAX_LIST], timeouts[MAX_LIST];
	size_t nthresholds, ntimeouts;
	unsigned int repeat;             /* the fixed design's rounds (race: 0) */
	double budget;                   /* the race's: runs, or seconds */
	bool race, budget_is_runs;
	unsigned int ncheck;
	double margin;
	enum metric objective;
	const char *objective_name;
	uint64_t seed;
	const char *outdir;
	bool trace, plots, quiet;
	/* programs and places */
	char self[PATH_MAX], prog[PATH_MAX], gnuplot[PATH_MAX], absout[PATH_MAX],
		shim[PATH_MAX];
	/* progress */
	unsigned int runs_done, round_at, round_len;
	double t0, run_t0;
	bool tty, drawn, in_check;
	double drawn_at;
	char doing[256];
	/* the race */
	struct rs_rng rng;
	unsigned int rounds, nalive;
	char stop_why[LINELEN];
	/* results */
	struct cell *cells;
	size_t ncells, rec, best;
	struct check check;
	struct applied dflt;             /* the default runs' threshold and timeout */
	int nplots;
	char matter_line[LINELEN], rec_line[LINELEN], why_line[2 * LINELEN],
		rerun_line[LINELEN], verdict_line[LINELEN], memory_line[LINELEN];
	char err[ERRLEN];
};

/* tune.c */
int tune_err(struct tune *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int tune_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* tune_race.c */
unsigned int tune_rounds_to_reject(size_t ncompared);  /* the fewest rounds that can */
int tune_run_rounds(struct tune *t);        /* the race or the fixed design: 0, 1, 2, 130 */
void tune_summarize(struct tune *t);        /* medians, front, recommendation */
int tune_run_check(struct tune *t);         /* the held-out check: 0, 1, 2 or 130 */
double tune_runs_left(const struct tune *t, bool *at_most);
/* Of two settings, a is preferred (the rule's tie-breaks: fewer bytes, less contention,
 * shorter settle, a better objective). */
bool tune_preferred(const struct tune *t, const struct cell *a, const struct cell *b);
/* Whether the ratio of p (a / b of the objective) says a is worse than b. */
bool tune_worse(const struct tune *t, const struct rs_paired *p);

/* tune_run.c */
int tune_find_programs(struct tune *t);
int tune_check_workload(struct tune *t);	/* 0, 1 failure, 2 unknown workload */
int tune_check_record(struct tune *t);
/* Runs s once with seed (what: NULL for a round, "recommended" or "default" for the
 * check): its figures.  0; 1 failure, 2 the first run was refused, 130 interrupted. */
int tune_run_once(struct tune *t, const struct setting *s, const char *what,
		  uint64_t seed, struct metrics *m, struct applied *ap);
void tune_progress_end(struct tune *t);

/* tune_read.c */
int tune_read_workload(struct tune *t, const char *json, const struct rusage *ru,
		       struct metrics *m, struct applied *ap);
int tune_read_program(struct tune *t, const char *name, const char *log, double wall,
		      const struct rusage *ru, struct metrics *m, struct applied *ap);
int tune_compile_metric(struct tune *t);

/* tune_out.c */
bool tune_has(const struct tune *t, enum metric m);
int tune_better(const struct tune *t, enum metric m);
const char *tune_obj_title(const struct tune *t);   /* "throughput, Mops/s" */
const char *tune_obj_word(const struct tune *t);    /* "throughput" */
void tune_fmt_ns(uint64_t ns, char *out, size_t len);
void tune_fmt_setting(uint64_t threshold, uint64_t timeout_ns, char *out, size_t len);
void tune_fmt_elapsed(double s, char *out, size_t len);
void tune_fmt_ratio(const struct rs_paired *p, char *out, size_t len);
void tune_fmt_command(const struct tune *t, char *out, size_t len);
void tune_fmt_median(enum metric m, const struct rs_median *md, char *out, size_t len);
void tune_explain(struct tune *t);
void tune_judge(struct tune *t);

/* tune_files.c */
int tune_write_csv(struct tune *t);
int tune_write_runs(struct tune *t);
int tune_write_txt(struct tune *t, double took);
int tune_write_html(struct tune *t);
FILE *tune_open_out(struct tune *t, const char *name);
int tune_close_out(struct tune *t, FILE *f, const char *name);

/* tune_plot.c */
int tune_write_plots(struct tune *t);

#endif /* MAGSLAB_ANALYSIS_TUNE_IMPL_H */
