/*
 * analysis/tune.h — `magslab tune`: run a magslab-workload over a grid of magazine
 * resize settings (threshold x timeout), and recommend one.
 *
 *   magslab tune WORKLOAD --threshold LIST --timeout LIST [--repeat N] [--seed N]
 *                [-o OUTDIR] [--trace] [--no-plots] [-q] [workload options...]
 *
 * Every cell of the grid is `magslab-workload WORKLOAD [workload options] --threshold T
 * --timeout-ns NS --seed S --json FILE --quiet`, run as a child process, N times (seeds
 * S = --seed .. --seed + N - 1); with --trace each run is recorded by `magslab record
 * -o OUTDIR/traces/T_NS -- magslab-workload ...` instead.  The cell's figures are the
 * medians of its runs.  OUTDIR (default ./magslab-tune) gets tune.csv, one heatmap per
 * figure (gnuplot script, PNG and SVG), tune.txt (the Pareto front of throughput against
 * bytes held in magazines, the recommended setting and why, and a re-run of the
 * recommended and the default setting with other seeds) and index.html; runs/ keeps
 * every run's JSON and log.  The output contract and the rule are in docs/tune.md.
 *
 * Exit status: 0 success, 1 failure (a run failed, gnuplot failed...: the cause on
 * stderr), 2 bad usage (including workload options magslab-workload refuses), 130
 * interrupted.
 *
 * Environment: MAGSLAB_WORKLOAD (the workload program when there is none beside this
 * one), MAGSLAB_GNUPLOT (the gnuplot program).
 */
#ifndef MAGSLAB_ANALYSIS_TUNE_H
#define MAGSLAB_ANALYSIS_TUNE_H

#include <stdio.h>

/* argv[0] is "tune". */
int cmd_tune(int argc, char **argv);

/* The --help text. */
void tune_usage(FILE *f);

#endif /* MAGSLAB_ANALYSIS_TUNE_H */
