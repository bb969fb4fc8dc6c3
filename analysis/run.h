/*
 * analysis/run.h — `magslab run`: record a magslab-workload run and report it, in one step.
 *
 *   magslab run WORKLOAD [workload options] [-o OUTDIR] [--bucket MS] [--max-caches N]
 *               [--blocking] [--subbuf SIZE] [--no-plots] [-q]
 *   magslab run --preload [run options] -- CMD [ARGS...]
 *
 * OUTDIR (default ./magslab-run) gets trace/ (the CTF trace), workload.json (the
 * workload's own counters) or with --preload malloc-stats/PID.json (each process's size
 * classes' counters, written by the malloc shim at exit), and the report (summary.json,
 * summary.txt, plots, index.html).
 */
#ifndef MAGSLAB_ANALYSIS_RUN_H
#define MAGSLAB_ANALYSIS_RUN_H

#include <stdio.h>

/* argv[0] is "run". */
int cmd_run(int argc, char **argv);
void run_usage(FILE *f);

#endif /* MAGSLAB_ANALYSIS_RUN_H */
