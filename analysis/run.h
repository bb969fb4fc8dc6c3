/*
 * analysis/run.h — `magslab run`: record a magslab-workload run and report it, in one step.
 *
 *   magslab run WORKLOAD [workload options] [-o OUTDIR] [--bucket MS] [--blocking]
 *               [--subbuf SIZE] [--no-plots] [-q]
 *
 * OUTDIR (default ./magslab-run) gets trace/ (the CTF trace), workload.json (the
 * workload's own counters), and the report (summary.json, summary.txt, plots, index.html).
 */
#ifndef MAGSLAB_ANALYSIS_RUN_H
#define MAGSLAB_ANALYSIS_RUN_H

#include <stdio.h>

/* argv[0] is "run". */
int cmd_run(int argc, char **argv);
void run_usage(FILE *f);

#endif /* MAGSLAB_ANALYSIS_RUN_H */
