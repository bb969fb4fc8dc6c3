/*
 * analysis/live.h — `magslab live`: a live view of the magazine layer while a command runs.
 *
 *   magslab live [--term dumb|x11|qt|png] [--interval S] [-o OUTDIR] [--bucket MS]
 *                [--max-caches N] [--preload] [-v] -- CMD [ARGS...]
 *
 * CMD runs under an LTTng live session streamed to an lttng-relayd that this command
 * starts on 127.0.0.1; sink.magslab.report reads it through source.ctf.lttng-live and
 * writes a snapshot of the report every interval (its snapshot-ms parameter,
 * docs/report.md), and one gnuplot process redraws the magsize and contention plots from
 * each snapshot: in the terminal (dumb), in two windows (x11, qt), or as PNGs under an
 * index.html that reloads itself (png).  When CMD exits (or on Ctrl-C) the session is
 * stopped and destroyed, the rest of the trace is read, and the full report is written
 * into OUTDIR with its plots rendered, as `magslab report` does.  With --preload CMD (and
 * its children) run on the malloc shim (preload.h), and the report names the program.
 * docs/live.md has the details.
 *
 * Exit status: CMD's own (128+N if signal N killed it) when the live session worked;
 * 1 failure (one line on stderr; also when CMD succeeded but no report could be made);
 * 2 bad usage; 127 CMD not found; 130 interrupted (SIGINT, SIGTERM).
 */
#ifndef MAGSLAB_ANALYSIS_LIVE_H
#define MAGSLAB_ANALYSIS_LIVE_H

#include <stdio.h>

/* argv[0] is "live". */
int cmd_live(int argc, char **argv);

/* The --help text. */
void live_usage(FILE *f);

#endif /* MAGSLAB_ANALYSIS_LIVE_H */
