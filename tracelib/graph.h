/*
 * tracelib/graph.h — the trace-reading library of the tree: finding the traces under the
 * arguments, building and running the babeltrace2 trace processing graph that reads them,
 * with the libbabeltrace2 C API.  One implementation for both programs that read traces:
 * the front end build/bin/magslab (report, record, live; analysis/) and magslab-workload
 * replay (workloads/replay_ctf.c).  Built as the static archive libmagslab-trace.a
 * (tracelib/tracelib.mk) that both link; it needs libbabeltrace2, never libmagslab.
 *
 * Files: plugins.c (mg_plugins_*, mg_find_sink_class), discover.c (mg_discover*,
 * mg_inputs_free), graph.c (mg_graph_*), progress.c (the progress filter), hostname.c
 * (mg_source_hostname), errors.c (mg_take_error); tracecheck.h (the damaged-trace checks)
 * and watchdog.h (the stall watchdog) are the library's too.  Who calls whom: the programs
 * call this header (and tracecheck.h, watchdog.h); the library calls libbabeltrace2 and
 * nothing of the programs.
 *
 * The graph every subcommand runs:
 *
 *     source.ctf.fs (one per trace, see "Discovery")  ─┐
 *     source.ctf.lttng-live (one per net:// URL)      ─┼─> filter.utils.muxer
 *     ...                                              ─┘        │
 *                                                                v
 *                      progress filter (in this program, counts events) ──> the sink
 *
 * The muxer orders the messages of every stream of every trace by time (as the babeltrace2
 * command line does); the progress filter passes every message through unchanged and only
 * counts events and notes the time of the latest one, for the progress line.  The sink is
 * sink.magslab.report for `magslab report`, the caller's own consume function (a simple
 * sink, struct mg_sink) for replay.
 *
 * Discovery (mg_discover): source.ctf.fs does not search subdirectories, so, as the
 * babeltrace2 command line does, every directory under a TRACE argument that holds a
 * `metadata` file is a trace directory (its own subdirectories are not searched further).
 * Each one is asked the `babeltrace.support-info` query of source.ctf.fs, which reads the
 * metadata and answers with the trace's UUID as its "group": directories of the same trace
 * (same UUID: a trace split over several directories) go into one source.ctf.fs component
 * (its `inputs` parameter lists them all); each other trace gets its own component.  This
 * is what the command line's automatic source discovery does, and like it a trace of one
 * directory found below its TRACE argument gets the `trace-name` parameter PATH (the path
 * from the argument to it; source.ctf.fs names the trace HOSTNAME/PATH): `babeltrace2 TRACE
 * -c SINK` and this program build the same graph (tests/test_report_frontend.sh compares
 * their sink.text.details output).  A TRACE that is a `net://` (`net4://`, `net6://`)
 * URL is an LTTng live session instead: source.ctf.lttng-live with `inputs=[URL]` and
 * `session-not-found-action="fail"` (the default, "end", ends quietly with no trace).
 *
 * Plugins (mg_plugins_load): ctf and utils from babeltrace2's own plugin directories; the
 * magslab plugin from, in order: the directories in $MAGSLAB_PLUGIN_PATH (colon-separated);
 * ../lib/babeltrace2/plugins beside the executable (/proc/self/exe: build/bin/magslab finds
 * build/lib/babeltrace2/plugins); MAGSLAB_PLUGINDIR (compiled in: the installed location);
 * babeltrace2's own search ($BABELTRACE_PLUGIN_PATH, ~/.local/lib/babeltrace2/plugins, the
 * system directory).
 *
 * Errors: every function that can fail writes a one-line message (no trailing newline, no
 * "magslab:" prefix) into the caller's buffer and returns -1.  Messages from babeltrace2
 * come from the current thread's error: mg_take_error() keeps its root cause (the first
 * cause appended by a component, the most specific one), on one line.
 */
#ifndef MAGSLAB_TRACELIB_GRAPH_H
#define MAGSLAB_TRACELIB_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <babeltrace2/babeltrace.h>

#include "tracecheck.h"

/* Size of the error message buffers the functions below write into. */
#define MG_ERRLEN 2048

/* ---- plugins --------------------------------------------------------------------------- */

struct mg_plugins {
	const bt_plugin *ctf;     /* source.ctf.fs, source.ctf.lttng-live */
	const bt_plugin *utils;   /* filter.utils.muxer */
	const bt_plugin *magslab; /* sink.magslab.*, NULL if not asked for */
	char magslab_from[4096];  /* where the magslab plugin was found (for messages) */
};

/*
 * Loads ctf and utils, and the magslab plugin if need_magslab.  Returns 0, or -1 with the
 * reason in err (nothing to release then).
 */
int mg_plugins_load(struct mg_plugins *p, bool need_magslab, char *err, size_t errlen);
void mg_plugins_put(struct mg_plugins *p);

/*
 * The sink component class PLUGIN.NAME ("magslab.report", "utils.counter"): searched in
 * the plugins loaded above, then in babeltrace2's own plugin directories.  The returned
 * class is borrowed from *holder (which the caller releases with bt_plugin_put_ref(); it
 * may stay NULL).  NULL with the reason in err when there is no such class.
 */
const bt_component_class_sink *mg_find_sink_class(const struct mg_plugins *p, const char *spec,
						  const bt_plugin **holder, char *err,
						  size_t errlen);

/* ---- discovery ------------------------------------------------------------------------- */

/* One source component of the graph. */
struct mg_source {
	bool live;      /* source.ctf.lttng-live on url; else source.ctf.fs on dirs */
	char *url;      /* live only */
	char **dirs;    /* ctf.fs only: the trace directories (one trace: same UUID), as
			 * found under the TRACE argument (not made absolute) */
	size_t ndirs;
	char *group;    /* the trace UUID the support-info query gave, or NULL */
	/*
	 * ctf.fs only: the `trace-name` parameter, as the babeltrace2 command line gives it: a
	 * trace of one directory found below its TRACE argument is named after the path from
	 * the argument to it (source.ctf.fs then names the trace HOSTNAME/PATH); NULL otherwise.
	 */
	char *trace_name;
	/* identity of each directory (the same directory reached twice is read once) */
	unsigned long long *dev, *ino;
	/*
	 * ctf.fs only: what tc_check_streams() found in its directories (streams missing or
	 * shorter than their index, damaged index files): the graph still reads the trace,
	 * and the report says that it is damaged (the sink's `damage` parameter).
	 */
	struct tc_findings damage;
};

struct mg_inputs {
	struct mg_source *src;
	size_t n;
	size_t ndirs; /* trace directories over all ctf.fs sources */
	size_t nlive;
};

/* The argument is an LTTng live URL (net://, net4://, net6://). */
bool mg_is_live_url(const char *arg);

/*
 * Finds the sources for the TRACE arguments (directories, or live URLs), as above.  Fails
 * (-1, err) if an argument does not exist, is neither a directory nor a URL, holds no trace,
 * or a trace's metadata cannot be read: a packetized metadata file cut inside a packet
 * (tc_check_metadata) is refused before babeltrace2 sees it.  Each source's stream files
 * are compared with their index (tc_check_streams: mg_source.damage).  The queries run
 * under the stall watchdog (watchdog.h).  The same directory reached twice is used once.
 * log_level: of the babeltrace.support-info queries (their warnings go to stderr).
 */
int mg_discover(const struct mg_plugins *p, char *const *args, size_t nargs,
		bt_logging_level log_level, struct mg_inputs *out, char *err, size_t errlen);

/*
 * mg_discover as another program needs it: the stall watchdog's message names o->prog and
 * o->what ("PROG: WHAT made no progress ..."; mg_discover: "magslab", "babeltrace2, reading
 * the trace metadata,"), and an argument that holds no trace returns MG_DISCOVER_NO_TRACE
 * (err says so too) so that the caller can say it in its own words.  0, -1 (err) or
 * MG_DISCOVER_NO_TRACE.
 */
#define MG_DISCOVER_NO_TRACE (-2)

struct mg_discover_opts {
	const char *prog;           /* e.g. "magslab-workload replay" (kept: must outlive the call) */
	const char *what;           /* e.g. "babeltrace2, reading the trace," */
	bt_logging_level log_level; /* of the babeltrace.support-info queries */
};

int mg_discover_with(const struct mg_plugins *p, char *const *args, size_t nargs,
		     const struct mg_discover_opts *o, struct mg_inputs *out, char *err,
		     size_t errlen);
void mg_inputs_free(struct mg_inputs *in);

/* ---- the graph ------------------------------------------------------------------------- */

struct mg_graph;

/*
 * Builds sources -> muxer -> progress filter -> sink.  sink_params may be NULL (no
 * parameters).  log_level is given to every component (BT_LOGGING_LEVEL_NONE keeps the
 * terminal quiet: failures still come back through the error causes).
 */
int mg_graph_build(const struct mg_plugins *p, const struct mg_inputs *in,
		   const bt_component_class_sink *sink, const char *sink_name,
		   const bt_value *sink_params, bt_logging_level log_level,
		   struct mg_graph **out, char *err, size_t errlen);

/*
 * The sink at the end of the graph: a component class (cls, with name and params, as
 * mg_graph_build takes them), or, with cls NULL, a babeltrace2 simple sink that calls
 * consume(iterator, data) each time the graph runs it (bt_graph_add_simple_sink_component:
 * the caller's code reads the messages; its iterator is made when the graph is configured).
 */
struct mg_sink {
	const bt_component_class_sink *cls;
	const char *name;
	const bt_value *params;                            /* cls only; may be NULL */
	bt_graph_simple_sink_component_consume_func consume; /* cls NULL only */
	void *data;                                        /* consume's */
};

/* mg_graph_build with either kind of sink (mg_graph_build is this with a class). */
int mg_graph_build_sink(const struct mg_plugins *p, const struct mg_inputs *in,
			const struct mg_sink *sink, bt_logging_level log_level,
			struct mg_graph **out, char *err, size_t errlen);

enum mg_run_status {
	MG_RUN_OK = 0,          /* every sink ended */
	MG_RUN_ERROR = -1,      /* err says why */
	MG_RUN_INTERRUPTED = -2 /* SIGINT/SIGTERM */
};

struct mg_run_opts {
	const char *prog;  /* prefix of the progress line, e.g. "magslab report" */
	bool quiet;        /* no progress line */
	bool verbose;      /* on failure, print every error cause on stderr as well */
};

/*
 * Runs the graph to its end (bt_graph_run_once in a loop), with a progress line on stderr
 * once a second after the first second: elapsed time, events seen, and for trace
 * directories how far through the traces' time span the reading is.  On a terminal the
 * line is rewritten in place and erased at the end.  SIGINT and SIGTERM interrupt the graph.
 * The run is under the stall watchdog (watchdog.h): a decoder that makes no progress for
 * $MAGSLAB_STALL_TIMEOUT seconds ends the process (one line on stderr, exit status 1).
 */
enum mg_run_status mg_graph_run(struct mg_graph *g, const struct mg_run_opts *opts, char *err,
				size_t errlen);

/*
 * One step of the graph (one bt_graph_run_once()), for a caller that has other work between
 * steps (magslab live: its child process and the live view).  No progress line and no
 * signal handling: those are the caller's.  The first step configures the graph: the
 * sources' message iterators are made then (source.ctf.lttng-live connects to the relay
 * daemon and attaches to its session), so once it returned anything but MG_STEP_ERROR the
 * live viewer is attached.
 */
enum mg_step_status {
	MG_STEP_OK = 0,     /* messages went through */
	MG_STEP_AGAIN = 1,  /* nothing now (a live source waiting for data): step again later */
	MG_STEP_END = 2,    /* every sink ended */
	MG_STEP_ERROR = -1  /* err says why (verbose: every cause on stderr too) */
};

enum mg_step_status mg_graph_step(struct mg_graph *g, bool verbose, char *err, size_t errlen);

/* Events that went through the graph (so far). */
uint64_t mg_graph_events(const struct mg_graph *g);

/* Destroys the graph (the components are finalized here: a sink may write files then). */
void mg_graph_destroy(struct mg_graph *g);

/*
 * Takes the current thread's error (if any) and writes "<context>: <root cause>" into buf
 * (just the context, or "unknown error", when there is none).  The root cause is the first
 * cause appended by a component, message iterator or component class (the library's own
 * causes only say that a method failed); newlines and runs of blanks become one space and
 * object addresses ("comp-addr=0x...") are left out.  With verbose, every cause is printed on stderr too, most recent first,
 * as the babeltrace2 command line does.  Returns true if the root cause was appended by a
 * sink component (whose message then goes alone, without the context).
 */
bool mg_take_error(char *buf, size_t len, const char *context, bool verbose);

/* ---- the host of a trace ---------------------------------------------------------------- */

/*
 * The host that recorded source s, into *host (malloc'd; NULL when the trace has no
 * `hostname` in its environment): for a trace directory, the `hostname` entry of its trace
 * environment, read by a small graph (source.ctf.fs -> a sink that takes the first stream
 * beginning; see graph.c for why not the metadata-info query); for a live URL, the
 * HOSTNAME of net://RELAY/host/HOSTNAME/SESSION.  Returns 0, or -1 with the reason in err.
 */
int mg_source_hostname(const struct mg_plugins *p, const struct mg_source *s,
		       bt_logging_level log_level, char **host, char *err, size_t errlen);

#endif /* MAGSLAB_TRACELIB_GRAPH_H */
