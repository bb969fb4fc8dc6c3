/*
 * analysis/magslab.c — `magslab`, the front end: one program, one subcommand per job.
 *
 *   magslab SUBCOMMAND [options]        (magslab SUBCOMMAND --help for each)
 *
 * To add a subcommand: write its `int cmd_NAME(int argc, char **argv)` (argv[0] is the
 * subcommand's name, options follow) and its usage function in analysis/NAME.c + NAME.h,
 * and add one line to the table below.  Exit status convention for every subcommand:
 * 0 success, 1 failure (one line on stderr saying why), 2 bad usage, 130 interrupted.
 *
 * The modules, and who calls whom (calls only go down; util.c is used by all):
 *
 *   magslab.c                      the subcommand table
 *   run.c                          record_run, then report_run
 *   tune.c tune_*.c                races magslab-workload (or a --preload command) per setting
 *   diff.c diff_out.c              two report directories (or traces, reported first) compared
 *   live.c live_session.c live_view.c
 *   record.c                       one recording session around one command
 *   preload.c                      the malloc shim under a command (--preload)
 *   report.c report_hosts.c        report_run: graphs, the sink's manifest, plots
 *   lttng.c                        daemons and sessions (liblttng-ctl)
 *   graph.c tracecheck.c watchdog.c  babeltrace2: discovery, the graph, its bounds
 *   manifest.c                     reading a report directory's manifest.json
 *   gnuplot.c                      every gnuplot run (report, live, tune)
 *   proc.c                         every child process, the interrupted flag
 *
 * The report directory itself is the sink's (analysis/plugin/, report.h there): the front
 * end passes it parameters and reads its manifest; no file of the report is written by
 * the front end (the rendered plots are gnuplot's, from the scripts the manifest names).
 */
#include <stdio.h>
#include <string.h>

#include "record.h"
#include "live.h"
#include "report.h"
#include "run.h"
#include "diff.h"
#include "tune.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	void (*usage)(FILE *f);
	const char *summary;
};

/* The subcommands, in the order `magslab --help` lists them. */
static const struct command commands[] = {
	{ "record", cmd_record, record_usage,
	  "run a command under a private LTTng session, write its trace" },
	{ "report", cmd_report, report_usage,
	  "analyse traces: summary, time series, plots and index.html" },
	{ "run", cmd_run, run_usage,
	  "record a workload (or --preload: any program) and report it, in one step" },
	{ "live", cmd_live, live_usage, "watch magsize and contention live while a command runs" },
	{ "tune", cmd_tune, tune_usage,
	  "race a threshold x timeout grid, recommend a setting" },
	{ "diff", cmd_diff, diff_usage,
	  "two runs side by side: figures, changes, overlaid plots" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	size_t i;

	fputs("usage: magslab SUBCOMMAND [options]\n"
	      "       magslab SUBCOMMAND --help\n"
	      "       magslab help [SUBCOMMAND]\n"
	      "\n"
	      "The magslab allocator's tracing and analysis front end (LTTng traces of the\n"
	      "`magslab` provider, read with babeltrace2).\n"
	      "\n"
	      "Subcommands:\n",
	      f);
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fputs("\n"
	      "Example:\n"
	      "  magslab run phases --threads 2 -o out/ph   # record + report a workload\n"
	      "  magslab live --term dumb -- build/bin/magslab-workload prodcons --threads 8\n"
      "  magslab run --preload -o out/sq -- sqlite3 /tmp/db .dump   # any program's malloc\n"
	      "\n"
	      "Exit status: 0 success, 1 failure (the cause on one line of stderr),\n"
	      "2 bad usage, 130 interrupted.\n",
	      f);
}

static const struct command *find(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	const struct command *c;

	if (argc < 2) {
		fputs("magslab: no subcommand given (see magslab --help)\n", stderr);
		return 2;
	}
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "help") == 0) {
		if (argc < 3) {
			usage(stdout);
			return 0;
		}
		c = find(argv[2]);
		if (!c) {
			fprintf(stderr, "magslab: no subcommand '%s' (see magslab --help)\n",
				argv[2]);
			return 2;
		}
		c->usage(stdout);
		return 0;
	}
	if (argv[1][0] == '-') {
		fprintf(stderr, "magslab: unknown option '%s' (see magslab --help)\n", argv[1]);
		return 2;
	}
	c = find(argv[1]);
	if (!c) {
		fprintf(stderr, "magslab: no subcommand '%s' (see magslab --help)\n", argv[1]);
		return 2;
	}
	return c->run(argc - 1, argv + 1);
}
