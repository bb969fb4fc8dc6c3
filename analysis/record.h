/*
 * analysis/record.h — `magslab record`: run a command under a private LTTng recording
 * session (liblttng-ctl, analysis/lttng.h) and say where the trace is and what was lost.
 *
 *   magslab record [-o DIR] [--events LIST] [--blocking] [--subbuf SIZE] [--num-subbuf N]
 *                  [--buffers-pid] [--relayd HOST[:PORT]] [--name NAME] [--preload] [-q]
 *                  -- CMD ARGS...
 *
 * --preload puts the malloc shim under CMD and its children (LD_PRELOAD, preload.h).
 *
 * record_run() is the same job for the other subcommands (run, tune --trace): it never
 * prints the final summary (record_print_result() does) and never exits.
 */
#ifndef MAGSLAB_ANALYSIS_RECORD_H
#define MAGSLAB_ANALYSIS_RECORD_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "lttng.h"

struct record_opts {
	const char *output;     /* local trace directory (created; must be empty or absent) */
	const char *relayd;     /* HOST[:PORT]: stream to that relay daemon instead */
	const char *name;       /* session name (NULL: magslab-PID-TIME) */
	const char *events;     /* NULL: magslab:* */
	uint64_t subbuf_size;   /* 0: ML_SUBBUF_DEFAULT */
	uint64_t num_subbuf;    /* 0: ML_NUM_SUBBUF */
	bool blocking;
	bool buffers_pid;
	bool quiet;             /* no progress line while the trace is counted */
	bool no_count;          /* do not read the trace back (the caller reads it anyway) */
	bool preload;           /* the malloc shim under CMD (LD_PRELOAD, appended) */
	const char *malloc_stats; /* with preload: MAGSLAB_MALLOC_STATS_JSON for CMD unless
				   * its environment has one (NULL: none) */
	const char *logdir;     /* where a daemon we start logs (NULL: the trace dir or /tmp) */
};

struct record_result {
	int exit_code;          /* CMD's, as a shell gives it: 0-255, 128+N if killed by N */
	bool interrupted;       /* SIGINT/SIGTERM reached us while CMD ran */
	int signal;             /* which (the first), when interrupted */
	bool counted;           /* events below were read back from a local trace */
	bool empty;             /* no program emitted an event: no trace was written */
	uint64_t events;
	struct ml_losses lost;  /* the tracer's own counts */
	bool started_sessiond;  /* a session daemon was started (and stopped) for this run */
	char trace[PATH_MAX];   /* absolute trace directory, or the relay daemon's address */
	char session[256];
	char preload_lib[PATH_MAX]; /* with preload: the shim CMD ran on */
	char program[256];      /* with preload: "NAME (malloc shim)", for the report */
};

/*
 * Records CMD: returns 0 when the recording worked (CMD's own status is in res, whatever
 * it was), -1 with err when it did not (nothing to pass through: the caller exits 1),
 * 127 with err if CMD cannot be run (not found / not executable).  With o->preload, a
 * missing shim is -1 (err says where it was looked for), before anything has started.
 */
int record_run(const struct record_opts *o, char *const cmd[], struct record_result *res,
	       char *err, size_t errlen);

/* The summary lines of a recording (stdout) and the loss warning (stderr). */
void record_print_result(const char *prog, const struct record_result *res);

/* SIZE with an optional k/K/m/M suffix (powers of 1024); 0 on success, -1 if malformed. */
int record_parse_size(const char *s, uint64_t *out);

/* argv[0] is "record". */
int cmd_record(int argc, char **argv);
void record_usage(FILE *f);

#endif /* MAGSLAB_ANALYSIS_RECORD_H */
