/*
 * analysis/report.h — `magslab report`: read one or more CTF traces (or an LTTng live
 * session) with sink.magslab.report and render its gnuplot scripts.
 *
 *   magslab report TRACE [TRACE...] [-o OUTDIR] [--bucket MS] [--no-plots] [-q] [-v]
 *
 * TRACE is a directory (searched for trace directories: see graph.h) or an LTTng live URL
 * net://HOST[:PORT]/host/HOSTNAME/SESSION.  Several TRACEs are merged into one report.
 * OUTDIR defaults to ./magslab-report (created if needed; files of an earlier report there
 * are overwritten).  The graph is built and run here (analysis/graph.c); the sink writes
 * summary.json, summary.txt, the time series, the gnuplot scripts and index.html
 * (docs/report.md); then every *.gp script this run wrote is run with gnuplot in OUTDIR
 * (unless --no-plots) and must produce the PNG and SVG files it names.  On success stdout
 * has where index.html is and the head of summary.txt.
 *
 * Exit status: 0 success, 1 failure (one line on stderr: "magslab report: ..."), 2 bad
 * usage, 130 interrupted.
 *
 * Environment: MAGSLAB_PLUGIN_PATH (where the magslab babeltrace2 plugin is, see graph.h);
 * MAGSLAB_GNUPLOT (the gnuplot program, default `gnuplot` from PATH).  For tests of the
 * graph itself: MAGSLAB_REPORT_SINK=PLUGIN.CLASS (e.g. text.details, utils.counter) puts
 * that sink, without parameters, in place of sink.magslab.report; the run then only runs
 * the graph (no OUTDIR, no plots, nothing else on stdout), so that its output can be
 * compared with `babeltrace2 TRACE -c sink.PLUGIN.CLASS`.
 */
#ifndef MAGSLAB_ANALYSIS_REPORT_H
#define MAGSLAB_ANALYSIS_REPORT_H

#include <stdio.h>

/* argv[0] is "report". */
int cmd_report(int argc, char **argv);

/* The --help text. */
void report_usage(FILE *f);

#endif /* MAGSLAB_ANALYSIS_REPORT_H */
