/*
 * analysis/live_impl.h — what the files of `magslab live` share (internal; the interface is
 * live.h, the contract docs/live.md):
 *
 *   live.c          the options, the signals, the run loop (stepping the graph, drawing
 *                   each new snapshot), the end (plots rendered from the sink's manifest,
 *                   what stdout says)
 *   live_session.c  what runs under the view: the daemons, the live session, the graph
 *                   attached to it, CMD (proc.h), and the teardown that undoes them all
 *   live_view.c     the view: one gnuplot drawing the sink's live scripts
 *
 * Calls go live.c -> live_session.c, live_view.c.  Errors: one line into err, -1.
 */
#ifndef MAGSLAB_ANALYSIS_LIVE_IMPL_H
#define MAGSLAB_ANALYSIS_LIVE_IMPL_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include "graph.h"
#include "live_view.h"
#include "lttng.h"

#define PROG "magslab live"
/* CMD's grace after SIGINT, then after SIGTERM (s). */
#define CMD_GRACE_S 3

struct live_opts {
	enum term term;
	double interval_s;
	const char *outdir;
	unsigned long long bucket_ms; /* 0: the sink's default */
	unsigned max_caches;    /* 0: the sink's default */
	bool preload;           /* CMD on the malloc shim (preload.h) */
	bool verbose;
	char *const *cmd;
};

struct live {
	struct live_opts o;
	char outdir[PATH_MAX];  /* absolute */
	char workdir[PATH_MAX]; /* "" until made */
	char gnuplot[PATH_MAX];
	char cmdline[1024];     /* CMD ARGS, for messages */
	char preload_lib[PATH_MAX]; /* --preload: the shim */
	char program[256];      /* --preload: the sink's `program` */
	time_t since;           /* files written from then on are this run's */
	bool failed;            /* keep the work directory (logs) */

	struct ml_daemon sessiond;
	bool started_sessiond;
	struct ml_relayd relayd;
	struct ml_session session;
	struct ml_losses lost;

	struct mg_plugins plugins;
	bool have_plugins;
	struct mg_inputs inputs;
	bool have_inputs;
	const bt_plugin *sink_holder;
	bt_value *params;
	struct mg_graph *graph;
	uint64_t events;        /* events read, kept when the graph is gone */
	bool stream_ended;      /* the graph reached its end: the sink wrote the report */
	char report_err[MG_ERRLEN]; /* why the sink wrote no report, if so */

	pid_t child;
	int child_status;
	bool child_done;
	double t_start;         /* when CMD started (monotonic s) */

	struct view view;
	char seq_seen[64];      /* the content of snapshot.seq last drawn */
};

/* live_session.c */
int live_make_workdir(struct live *l, char *err, size_t errlen);   /* $TMPDIR/magslab-live.X */
int live_start_session(struct live *l, char *err, size_t errlen);  /* daemons, live session */
int live_attach_graph(struct live *l, char *err, size_t errlen);   /* the viewer attached */
int live_start_cmd(struct live *l, char *err, size_t errlen);
bool live_cmd_ended(struct live *l);		/* reaps it */
void live_stop_cmd(struct live *l);		/* SIGINT, SIGTERM, SIGKILL */
int live_cmd_exit_code(const struct live *l);
int live_end_session(struct live *l, char *err, size_t errlen); /* stopped, destroyed */
void live_teardown(struct live *l);		/* everything undone; safe at any stage */

#endif /* MAGSLAB_ANALYSIS_LIVE_IMPL_H */
