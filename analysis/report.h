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
 * Several hosts: with traces of more than one host (the `hostname` of each trace's
 * environment, mg_source_hostname; "unknown" without one), OUTDIR also gets one full report
 * per host in OUTDIR/hosts/HOST/ (the graph run again on that host's traces), the table
 * hosts.txt / hosts.json, and a Hosts section in index.html linking each host's report;
 * stdout lists each host's index.html.  Not for live sessions (they cannot be read twice).
 * docs/report.md, "Several hosts".
 *
 * Exit status: 0 success, 1 failure (one line on stderr: "magslab report: ..."), 2 bad
 * usage, 3 (REPORT_EXIT_DAMAGED) the report is written but the trace is damaged (its first
 * line and summary.json `damage` say why; docs/report.md "Damaged traces"), 130
 * interrupted.
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

#include <stddef.h>
#include <stdio.h>
#include <time.h>

/* The report was written, but the trace is damaged. */
#define REPORT_EXIT_DAMAGED 3

/* argv[0] is "report". */
int cmd_report(int argc, char **argv);

/* The --help text. */
void report_usage(FILE *f);

/*
 * The gnuplot program: $MAGSLAB_GNUPLOT or `gnuplot` found in PATH, written into out.
 * 0 if it is there and executable, -1 otherwise (out then holds what was looked for).
 */
int report_find_gnuplot(char *out, size_t len);

/*
 * Runs, in dir, every *.gp script written there since `since` (scripts of an earlier
 * report are not run) and checks that each wrote the PNG and SVG files it names.
 * Returns the number of scripts run, or -1 with the cause on one line in err.
 */
int report_render_plots(const char *gnuplot, const char *dir, time_t since, char *err,
			size_t errlen);

#endif /* MAGSLAB_ANALYSIS_REPORT_H */
