/*
 * analysis/report.h — `magslab report`: read one or more CTF traces (or an LTTng live
 * session) with sink.magslab.report and render its gnuplot scripts.
 *
 *   magslab report TRACE [TRACE...] [-o OUTDIR] [--bucket MS] [--max-caches N]
 *                  [--program TEXT] [--no-plots] [-q] [-v]
 *
 * TRACE is a directory (searched for trace directories: see graph.h) or an LTTng live URL
 * net://HOST[:PORT]/host/HOSTNAME/SESSION.  Several TRACEs are merged into one report.
 * OUTDIR defaults to ./magslab-report (created if needed; files of an earlier report there
 * are overwritten).  The graph is built and run here (analysis/graph.c); the sink writes
 * every file of the report (docs/report.md), last manifest.json, which names them and what
 * each gnuplot script draws; the front end checks from it that the report was written and
 * renders its scripts (gnuplot.c) unless --no-plots.  On success stdout has where
 * index.html is and the head of summary.txt.
 *
 * Several hosts: with traces of more than one host (the `hostname` of each trace's
 * environment, mg_source_hostname; "unknown" without one), OUTDIR also gets one full report
 * per host in OUTDIR/hosts/HOST/ (the graph run on that host's traces first, the sink told
 * which host it is), and the merged report's sink is given the host table (report_hosts.h):
 * it writes hosts.txt, hosts.json and a Hosts section in index.html linking each host's
 * report; stdout lists each host's index.html.  Not for live sessions (they cannot be read
 * twice).  docs/report.md, "Several hosts".
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

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* The report was written, but the trace is damaged. */
#define REPORT_EXIT_DAMAGED 3

/* What one `magslab report` is asked to do (its options). */
struct report_opts {
	const char *outdir;        /* -o (report_run: never NULL) */
	unsigned long long bucket; /* --bucket; 0: the sink's default */
	bool plots;                /* not --no-plots */
	bool quiet, verbose;       /* -q, -v */
	unsigned max_caches;       /* --max-caches; 0: the sink's default */
	const char *program;       /* --program: what ran (the sink's `program`); NULL: none */
};

/*
 * The job of `magslab report TRACE... -o OUTDIR` for a caller that parsed its own options
 * (cmd_report, and `magslab run`): the checks, the graph(s), the plots, the lines on
 * stdout, the error on stderr ("magslab report: ...").  Returns the exit status above.
 */
int report_run(const struct report_opts *o, char *const traces[], size_t ntraces);

/* argv[0] is "report". */
int cmd_report(int argc, char **argv);

/* The --help text. */
void report_usage(FILE *f);

#endif /* MAGSLAB_ANALYSIS_REPORT_H */
