/*
 * analysis/report.c — `magslab report` (see report.h): the options, the checks before any
 * trace is read, the graph runs (the merged report, and with several hosts one per host
 * first), checking from the sink's manifest that each report was written, rendering its
 * plots, and what stdout and stderr say.
 *
 * The sequence, and why in this order:
 *   1. options, the trace paths, gnuplot and OUTDIR checked: nothing read yet (the
 *      program a trace of record --preload names, unless --program says);
 *   2. plugins loaded, the traces discovered (graph.c: metadata and stream files checked);
 *   3. with traces of several hosts, the hosts found (one small graph per trace reads its
 *      hostname), then each host's report run into OUTDIR/hosts/DIR and its summary.json
 *      read: the merged report's sink is given their counts (it writes the host table),
 *      so they come first;
 *   4. the merged report: its graph, the manifest it wrote last, its plots;
 *   5. stdout; stderr's warnings (a host without a report, a damaged trace).
 * A failure of step 3's hostname probe is told only once the merged graph ran, so that a
 * trace that cannot be read at all fails with the reason of the merged graph, as when
 * there is one host.
 *
 * Single-threaded; SIGINT/SIGTERM interrupt a graph (graph.c).
 */
#include "report.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "gnuplot.h"
#include "graph.h"
#include "manifest.h"
#include "preload.h"
#include "report_hosts.h"
#include "util.h"

#define PROG "magslab report"
#define DEFAULT_OUTDIR "magslab-report"
#define SINK_CLASS "magslab.report"
/* Lines of summary.txt printed at the end. */
#define SUMMARY_HEAD 30

void report_usage(FILE *f)
{
	fputs("usage: magslab report TRACE [TRACE...] [-o OUTDIR] [--bucket MS]\n"
	      "                      [--max-caches N] [--program TEXT] [--no-plots] [-q] [-v]\n"
	      "\n"
	      "Reads the magslab events of the traces with babeltrace2 (the sink.magslab.report\n"
	      "plugin), writes the report into OUTDIR and renders its plots with gnuplot.\n"
	      "\n"
	      "TRACE    a directory: every trace directory under it (one holding a CTF\n"
	      "         `metadata` file) is read, as `babeltrace2 TRACE` would; or an LTTng\n"
	      "         live session, net://HOST[:PORT]/host/HOSTNAME/SESSION (read until the\n"
	      "         session is destroyed).  Several TRACEs make one merged report.\n"
	      "\n"
	      "Several hosts: the traces are grouped by the host that recorded them (the\n"
	      "`hostname` of each trace's environment; \"unknown\" without one), e.g. an\n"
	      "lttng-relayd output tree OUTPUT/HOSTNAME/SESSION-DATE/... given as one TRACE.\n"
	      "With more than one host, OUTDIR holds the merged report of every trace as\n"
	      "usual, plus one full report per host in OUTDIR/hosts/HOST/, a table of the\n"
	      "hosts (events, caches, discarded events) in OUTDIR/hosts.txt and hosts.json,\n"
	      "and index.html links to each host's report.  (Not for live sessions: a live\n"
	      "session cannot be read twice, so they get the merged report only.)\n"
	      "\n"
	      "Options:\n"
	      "  -o, --output OUTDIR  where the report goes (default ./" DEFAULT_OUTDIR ",\n"
	      "                       created if needed; an earlier report there is\n"
	      "                       overwritten)\n"
	      "  --bucket MS          time-series interval in milliseconds, 1 to 3600000\n"
	      "                       (default: sink.magslab.report's, 100)\n"
	      "  --max-caches N       how many caches the plots draw, the busiest first,\n"
	      "                       1 to 32 (default 8)\n"
	      "  --program TEXT       what ran, for the titles and the run line (default: what\n"
	      "                       TRACE/magslab-program of record --preload says)\n"
	      "  --no-plots           do not run gnuplot (the *.gp scripts are still written)\n"
	      "  -q, --quiet          no progress line on stderr\n"
	      "  -v, --verbose        babeltrace2 warnings, and every cause of an error\n"
	      "  -h, --help           this help\n"
	      "\n"
	      "OUTDIR gets summary.json, summary.txt, time series (*.dat), gnuplot scripts\n"
	      "(*.gp), their plots (*.png and *.svg) and index.html; stdout says where\n"
	      "index.html is (and each host's), and shows the head of summary.txt.\n"
	      "\n"
	      "Examples:\n"
	      "  magslab record -o /tmp/t -- build/bin/magslab-workload prodcons --threads 8\n"
	      "  magslab report /tmp/t -o /tmp/r        # then open /tmp/r/index.html\n"
	      "  magslab report /srv/relayd-output -o /tmp/all   # many hosts: per host + merged\n"
	      "\n"
	      "Environment: MAGSLAB_PLUGIN_PATH  directories holding the magslab plugin\n"
	      "             (default: ../lib/babeltrace2/plugins beside this program, then the\n"
	      "             installed location); MAGSLAB_GNUPLOT  the gnuplot program.\n"
	      "\n"
	      "Exit status: 0 success, 1 failure (the cause on one line of stderr), 2 bad\n"
	      "usage, 3 the report is written but the trace is damaged (streams shorter\n"
	      "than their index, impossible values: the first line of summary.txt says\n"
	      "why), 130 interrupted.  A decoder that makes no progress for\n"
	      "$MAGSLAB_STALL_TIMEOUT seconds (default 60) is stopped: exit status 1.\n",
	      f);
}

static int usage_error(const char *fmt, const char *arg)
{
	fputs(PROG ": ", stderr);
	fprintf(stderr, fmt, arg);
	fputs(" (see magslab report --help)\n", stderr);
	return 2;
}

static int fail(const char *msg)
{
	fprintf(stderr, PROG ": %s\n", msg);
	return 1;
}

/* ---- one graph --------------------------------------------------------------------------- */

/* What every graph run of one `magslab report` shares. */
struct run_cfg {
	const struct mg_plugins *plugins;
	const bt_component_class_sink *sink;
	bool custom_sink, quiet, verbose, plots;
	unsigned long long bucket; /* 0: the sink's default */
	unsigned max_caches;       /* 0: the sink's default */
	const char *program;       /* NULL: none */
	const char *gnuplot;
	time_t since;              /* files written from then on are this run's */
	double read_s;             /* time spent running graphs so far */
};

/* The sink's `damage` parameter: every finding of tc_check_streams() for the sources of in. */
static int damage_param(bt_value *params, const struct mg_inputs *in)
{
	bt_value *arr = NULL;
	size_t i, k;

	for (i = 0; i < in->n; i++)
		for (k = 0; k < in->src[i].damage.n; k++) {
			if (!arr && bt_value_map_insert_empty_array_entry(params, "damage", &arr) !=
					    BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK)
				return -1;
			if (bt_value_array_append_string_element(arr, in->src[i].damage.msg[k]) !=
			    BT_VALUE_ARRAY_APPEND_ELEMENT_STATUS_OK)
				return -1;
		}
	return 0;
}

/* The first damage finding of in's sources, or NULL. */
static const char *first_damage(const struct mg_inputs *in)
{
	size_t i;

	for (i = 0; i < in->n; i++)
		if (in->src[i].damage.n)
			return in->src[i].damage.msg[0];
	return NULL;
}

/* A trace that cannot be read and whose files are damaged: the damage first, in err. */
static void prefix_damage(const struct mg_inputs *in, char *err, size_t errlen)
{
	char why[MG_ERRLEN];

	if (!first_damage(in))
		return;
	snprintf(why, sizeof(why), "%s", err);
	snprintf(err, errlen, "damaged trace (%.900s): %.1000s", first_damage(in), why);
}

/* The sink's parameters for a report of in into outdir (NULL: out of memory). */
static bt_value *sink_params(const struct run_cfg *rc, const struct mg_inputs *in,
			     const char *outdir)
{
	bt_value *params = bt_value_map_create();

	if (!params ||
	    bt_value_map_insert_string_entry(params, "output-dir", outdir) !=
		    BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK ||
	    (rc->bucket &&
	     bt_value_map_insert_unsigned_integer_entry(params, "bucket-ms", rc->bucket) !=
		     BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK) ||
	    (rc->max_caches &&
	     bt_value_map_insert_unsigned_integer_entry(params, "max-caches", rc->max_caches) !=
		     BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK) ||
	    (rc->program &&
	     bt_value_map_insert_string_entry(params, "program", rc->program) !=
		     BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK) ||
	    damage_param(params, in) != 0) {
		bt_value_put_ref(params);
		return NULL;
	}
	return params;
}

/*
 * Builds and runs the graph of in with the sink (params: NULL for a custom sink), destroys
 * it (the sink writes its files then).  events: what went through it.  A run that fails on
 * a trace whose files are damaged says so first.
 */
static enum mg_run_status run_graph(struct run_cfg *rc, const struct mg_inputs *in,
				    const bt_value *params, const char *prog, uint64_t *events,
				    char *err, size_t errlen)
{
	struct mg_graph *graph = NULL;
	struct mg_run_opts ro = { prog, rc->quiet, rc->verbose };
	enum mg_run_status rs;
	double t0;

	*events = 0;
	if (mg_graph_build(rc->plugins, in, rc->sink, rc->custom_sink ? "sink" : "report", params,
			   rc->verbose ? BT_LOGGING_LEVEL_WARNING : BT_LOGGING_LEVEL_NONE, &graph,
			   err, errlen) != 0) {
		prefix_damage(in, err, errlen);
		return MG_RUN_ERROR;
	}
	t0 = fe_now_s();
	rs = mg_graph_run(graph, &ro, err, errlen);
	*events = mg_graph_events(graph);
	/* The sink finishes its files when it is finalized, with the graph. */
	mg_graph_destroy(graph);
	rc->read_s += fe_now_s() - t0;
	if (rs == MG_RUN_ERROR)
		prefix_damage(in, err, errlen);
	/*
	 * After a failed run, a failure in the sink's finalization comes after the run's own
	 * error; after a good one, finalization cannot fail: drop anything either left.
	 */
	bt_current_thread_clear_error();
	return rs;
}

/* The plots of the report m describes, unless --no-plots: *nplots of them.  0, or -1 (err). */
static int render(const struct run_cfg *rc, const char *dir, const struct manifest *m,
		  int *nplots, char *err, size_t errlen)
{
	if (!rc->plots)
		return 0;
	*nplots = gp_render(rc->gnuplot, dir, m->plots, m->nplots, err, errlen);
	if (*nplots < 0)
		return -1;
	/* the zoomable plots of index.html (NAME.js) need gnuplot's canvas scripts */
	return gp_copy_canvas_js(dir, err, errlen);
}

/* ---- several hosts ---------------------------------------------------------------------- */

/*
 * The report of host h into OUTDIR/hosts/DIR.  0: done, or the host has no report (its
 * graph failed: h->why says why; report.c warns once the merged report is written); 130
 * interrupted; -1 failure (err).
 */
static int host_report(struct run_cfg *rc, const struct hosts *hs, struct host *h,
		       const char *outdir, char *err, size_t errlen)
{
	char dir[PATH_MAX], path[PATH_MAX + 64], prog[HOST_DIR_MAX + 64];
	struct manifest m;
	bt_value *params;
	json_error_t je;
	enum mg_run_status rs;
	struct stat sb;
	bool created;
	int r;

	snprintf(dir, sizeof(dir), "%s/hosts/%s", outdir, h->dir);
	created = stat(dir, &sb) != 0;
	if (fe_mkdir_p(dir) != 0) {
		snprintf(err, errlen, "cannot create the output directory %.1024s: %s", dir,
			 strerror(errno));
		return -1;
	}
	snprintf(prog, sizeof(prog), PROG " (host %s)", h->dir);
	params = sink_params(rc, &h->in, dir);
	if (!params || host_param(params, hs, h)) {
		bt_value_put_ref(params);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	rs = run_graph(rc, &h->in, params, prog, &h->events, h->why, sizeof(h->why));
	bt_value_put_ref(params);
	if (rs == MG_RUN_INTERRUPTED) {
		snprintf(err, errlen, "%s", h->why);
		return 130;
	}
	if (rs != MG_RUN_OK) {
		/* The merged report reads these traces: the sink refused them (no magslab event). */
		if (created)
			rmdir(dir);
		return 0;
	}
	if (manifest_load(dir, rc->since, &m, err, errlen) != 0)
		return -1;
	r = render(rc, dir, &m, &h->nplots, err, errlen);
	manifest_free(&m);
	if (r != 0)
		return -1;
	snprintf(path, sizeof(path), "%s/summary.json", dir);
	h->summary = json_load_file(path, 0, &je);
	if (!h->summary) {
		snprintf(err, errlen, "cannot read %.1024s: %.200s", path, je.text);
		return -1;
	}
	h->done = true;
	return 0;
}

/* Every host's report (plots included).  0, 130 interrupted, or 1 with err. */
static int report_hosts(struct run_cfg *rc, struct hosts *hs, const char *outdir,
			int *host_plots, char *err, size_t errlen)
{
	size_t k;
	int r;

	for (k = 0; k < hs->n; k++) {
		r = host_report(rc, hs, &hs->h[k], outdir, err, errlen);
		if (r != 0)
			return r == 130 ? 130 : 1;
		*host_plots += hs->h[k].nplots;
	}
	return 0;
}

/* The hosts without a report of their own, on stderr (the merged report is complete). */
static void warn_hostless(const struct hosts *hs)
{
	size_t k;

	for (k = 0; k < hs->n; k++)
		if (!hs->h[k].done)
			fprintf(stderr, PROG ": warning: host %s: no report: %s\n",
				host_label(&hs->h[k]), hs->h[k].why);
}

/*
 * Several hosts: the traces grouped by host, for a report per host.  One trace is one
 * host: nothing to ask.  A live session cannot be read a second time (and has one viewer
 * at a time): merged report only (*live_note: say so once the merged report is written).
 * hosts->n stays 0 when there is one host.
 */
static int find_hosts(const struct mg_plugins *plugins, const struct mg_inputs *inputs,
		      bt_logging_level log_level, struct hosts *hosts, size_t *live_note,
		      char *err, size_t errlen)
{
	*live_note = 0;
	if (inputs->n < 2)
		return 0;
	if (hosts_group(plugins, inputs, log_level, hosts, err, errlen) != 0)
		return -1;
	if (hosts->n > 1 && inputs->nlive)
		*live_note = hosts->n;
	if (hosts->n < 2 || inputs->nlive)
		hosts_free(hosts);
	return 0;
}

/* ---- the merged report -------------------------------------------------------------------- */

/* What was read and written, then the head of summary.txt (stdout). */
static void print_result(const struct report_opts *o, const struct mg_inputs *in,
			 const struct hosts *hosts, const struct run_cfg *rc, uint64_t events,
			 const char *absout, int nplots, int host_plots)
{
	char path[PATH_MAX + 64];

	printf("magslab report: %llu events from %zu trace%s%s", (unsigned long long)events,
	       in->n, in->n == 1 ? "" : "s", in->nlive ? " (live)" : "");
	if (hosts->n)
		printf(" of %zu hosts", hosts->n);
	printf(" in %.1f s\n", rc->read_s);
	printf("report:  %s/index.html\n", absout);
	if (hosts->n)
		hosts_print(hosts, absout);
	if (o->plots)
		printf("plots:   %d gnuplot script%s rendered (PNG and SVG)%s", nplots,
		       nplots == 1 ? "" : "s", hosts->n ? "" : "\n");
	else
		printf("plots:   not rendered (--no-plots): run gnuplot on the *.gp scripts in "
		       "%s%s\n",
		       absout, hosts->n ? " and in each hosts/HOST/" : "");
	if (o->plots && hosts->n)
		printf(", and %d in the host reports\n", host_plots);
	printf("summary: %s/summary.txt\n\n", absout);
	snprintf(path, sizeof(path), "%s/summary.txt", absout);
	fe_print_head(path, SUMMARY_HEAD, true);
	fflush(stdout);
}

/*
 * Whether the report in dir is of a damaged trace (summary.json `damage.damaged`): then a
 * warning line on stderr and REPORT_EXIT_DAMAGED, else 0.
 */
static int damaged_status(const char *dir)
{
	char path[PATH_MAX + 64];
	json_error_t je;
	json_t *sum, *d;
	int ret = 0;

	snprintf(path, sizeof(path), "%s/summary.json", dir);
	sum = json_load_file(path, 0, &je);
	d = sum ? json_object_get(sum, "damage") : NULL;
	if (json_is_true(json_object_get(d, "damaged"))) {
		json_t *first = json_array_get(json_object_get(d, "findings"), 0);

		fprintf(stderr, PROG ": WARNING: damaged trace: %s (%" JSON_INTEGER_FORMAT
			" finding%s: summary.json \"damage\"); the report's figures are not "
			"reliable\n", json_is_string(first) ? json_string_value(first) : "?",
			json_integer_value(json_object_get(d, "findings_total")),
			json_integer_value(json_object_get(d, "findings_total")) == 1 ? "" : "s");
		ret = REPORT_EXIT_DAMAGED;
	}
	json_decref(sum);
	return ret;
}

/* The merged report's graph: 0, 130 interrupted, 1 (err). */
static int run_merged(struct run_cfg *rc, const struct mg_inputs *in, const struct hosts *hs,
		      const char *outdir, uint64_t *events, char *err, size_t errlen)
{
	bt_value *params = NULL;
	enum mg_run_status rs;

	if (!rc->custom_sink) {
		params = sink_params(rc, in, outdir);
		if (!params || (hs->n && hosts_param(params, hs, in))) {
			bt_value_put_ref(params);
			snprintf(err, errlen, "out of memory");
			return 1;
		}
	}
	rs = run_graph(rc, in, params, PROG, events, err, errlen);
	bt_value_put_ref(params);
	return rs == MG_RUN_OK ? 0 : rs == MG_RUN_INTERRUPTED ? 130 : 1;
}

/* The reports once the traces are found: steps 3 to 5 of the header.  The exit status. */
static int report_inputs(struct run_cfg *rc, const struct report_opts *o,
			 const struct mg_inputs *in, const char *absout, char *err,
			 size_t errlen)
{
	bt_logging_level ll = o->verbose ? BT_LOGGING_LEVEL_WARNING : BT_LOGGING_LEVEL_NONE;
	struct hosts hosts = { NULL, 0 };
	char probe_err[MG_ERRLEN] = "";
	size_t live_note = 0;
	uint64_t events;
	struct manifest m;
	int ret = 0, nplots = 0, host_plots = 0;
	bool probed = true;

	if (!rc->custom_sink)
		probed = find_hosts(rc->plugins, in, ll, &hosts, &live_note, probe_err,
				    sizeof(probe_err)) == 0;
	if (hosts.n)
		ret = report_hosts(rc, &hosts, o->outdir, &host_plots, err, errlen);
	if (ret == 0)
		ret = run_merged(rc, in, &hosts, o->outdir, &events, err, errlen);
	if (ret != 0 || rc->custom_sink)
		goto out;
	ret = 1;
	if (!probed) {
		snprintf(err, errlen, "%s", probe_err);
		goto out;
	}
	if (manifest_load(o->outdir, rc->since, &m, err, errlen) != 0)
		goto out;
	if (live_note)
		fprintf(stderr,
			PROG ": note: the traces are of %zu hosts, but a live session cannot be "
			     "read twice: no per-host reports, only the merged one\n",
			live_note);
	ret = render(rc, o->outdir, &m, &nplots, err, errlen) ? 1 : 0;
	manifest_free(&m);
	if (ret)
		goto out;
	warn_hostless(&hosts);
	print_result(o, in, &hosts, rc, events, absout, nplots, host_plots);
	ret = damaged_status(o->outdir);
out:
	hosts_free(&hosts);
	return ret;
}

/*
 * What the traces say ran (TRACE/magslab-program, written by record --preload; preload.h):
 * the names, each once, joined with " + " into out; NULL if no trace has one.
 */
static const char *noted_program(char *const *traces, size_t ntraces, char *out, size_t len)
{
	char one[256];

	out[0] = '\0';
	for (size_t i = 0; i < ntraces; i++) {
		if (!preload_noted_program(traces[i], one, sizeof(one)) || strstr(out, one))
			continue;
		snprintf(out + strlen(out), len - strlen(out), "%s%s", out[0] ? " + " : "", one);
	}
	return out[0] ? out : NULL;
}

/* The graph run(s) and the outputs, once the options are checked.  Returns the status. */
static int report_traces(char *const *traces, size_t ntraces, const struct report_opts *o,
			 const char *sink_spec, const char *gnuplot, const char *absout,
			 char *err, size_t errlen)
{
	bt_logging_level ll = o->verbose ? BT_LOGGING_LEVEL_WARNING : BT_LOGGING_LEVEL_NONE;
	struct run_cfg rc = { 0 };
	struct mg_plugins plugins;
	struct mg_inputs inputs;
	const bt_plugin *sink_holder = NULL;
	char noted[512];
	int ret = 1;

	rc.custom_sink = strcmp(sink_spec, SINK_CLASS) != 0;
	if (mg_plugins_load(&plugins, !rc.custom_sink, err, errlen) != 0)
		return 1;
	if (mg_discover(&plugins, traces, ntraces, ll, &inputs, err, errlen) != 0) {
		mg_plugins_put(&plugins);
		return 1;
	}
	rc.plugins = &plugins;
	rc.sink = mg_find_sink_class(&plugins, sink_spec, &sink_holder, err, errlen);
	rc.quiet = o->quiet;
	rc.verbose = o->verbose;
	rc.plots = o->plots && !rc.custom_sink;
	rc.bucket = o->bucket;
	rc.max_caches = o->max_caches;
	rc.program = o->program ? o->program
				 : noted_program(traces, ntraces, noted, sizeof(noted));
	rc.gnuplot = gnuplot;
	/* Files written from here on are this run's (1 s of slack for coarse timestamps). */
	rc.since = time(NULL) - 1;
	if (rc.sink)
		ret = report_inputs(&rc, o, &inputs, absout, err, errlen);
	bt_plugin_put_ref(sink_holder);
	mg_inputs_free(&inputs);
	mg_plugins_put(&plugins);
	return ret;
}

/* ---- the subcommand ---------------------------------------------------------------------- */

/*
 * The cheap checks, before any trace is read: the trace paths exist, gnuplot is there,
 * OUTDIR can be made (*created: it did not exist).  0, or 1 with the message printed.
 */
static int check_before_reading(char *const *traces, size_t ntraces,
				const struct report_opts *o, bool custom, char *gnuplot,
				char *absout, bool *created)
{
	char err[MG_ERRLEN];
	struct stat sb;
	size_t i;

	for (i = 0; i < ntraces; i++) {
		if (mg_is_live_url(traces[i]))
			continue;
		if (stat(traces[i], &sb) != 0) {
			snprintf(err, sizeof(err), "%s: %s", traces[i], strerror(errno));
			return fail(err);
		}
	}
	if (o->plots && !custom && gp_find(gnuplot, PATH_MAX) != 0) {
		snprintf(err, sizeof(err),
			 "%.1024s not found: install gnuplot (gnuplot-qt), or use --no-plots",
			 gnuplot);
		return fail(err);
	}
	if (custom)
		return 0;
	*created = stat(o->outdir, &sb) != 0;
	if (fe_mkdir_p(o->outdir) != 0) {
		snprintf(err, sizeof(err), "cannot create the output directory %s: %s", o->outdir,
			 strerror(errno));
		return fail(err);
	}
	if (!realpath(o->outdir, absout))
		snprintf(absout, PATH_MAX, "%s", o->outdir);
	return 0;
}

/* OUTDIR/hosts, if this run made it and left it empty (a failed run leaves no trace). */
static void remove_empty_hosts_dir(const char *outdir, bool existed)
{
	char dir[PATH_MAX + 16];

	if (existed)
		return;
	snprintf(dir, sizeof(dir), "%s/hosts", outdir);
	rmdir(dir);
}

int report_run(const struct report_opts *o, char *const traces[], size_t ntraces)
{
	const char *sink_spec = getenv("MAGSLAB_REPORT_SINK");
	char err[MG_ERRLEN] = "", gnuplot[PATH_MAX] = "", absout[PATH_MAX], hosts[PATH_MAX + 16];
	bool created = false; /* OUTDIR did not exist: removed again if the run fails, if empty */
	bool custom = sink_spec && *sink_spec, hosts_existed;
	struct stat sb;
	int ret;

	if (!custom)
		sink_spec = SINK_CLASS;
	if (check_before_reading(traces, ntraces, o, custom, gnuplot, absout, &created))
		return 1;
	snprintf(hosts, sizeof(hosts), "%s/hosts", o->outdir);
	hosts_existed = stat(hosts, &sb) == 0;
	ret = report_traces(traces, ntraces, o, sink_spec, gnuplot, absout, err, sizeof(err));
	if (ret == 1 || ret == 130)
		fail(err[0] ? err : "interrupted");
	if (ret != 0) {
		remove_empty_hosts_dir(o->outdir, hosts_existed || custom);
		if (created)
			rmdir(o->outdir);
	}
	return ret;
}

enum { OPT_BUCKET = 256, OPT_NO_PLOTS, OPT_MAX_CACHES, OPT_PROGRAM };

/* Parses argv into o (*first: the first TRACE); -1 to go on, else the exit status. */
static int parse_options(int argc, char **argv, struct report_opts *o, int *first)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "bucket", required_argument, NULL, OPT_BUCKET },
		{ "no-plots", no_argument, NULL, OPT_NO_PLOTS },
		{ "max-caches", required_argument, NULL, OPT_MAX_CACHES },
		{ "program", required_argument, NULL, OPT_PROGRAM },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char why[256];
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":o:qvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (!*optarg)
				return usage_error("-o: empty directory name%s", "");
			o->outdir = optarg;
			break;
		case OPT_BUCKET:
			if (fe_parse_bucket(optarg, &o->bucket))
				return usage_error("--bucket: '%s' is not a whole number of "
						   "milliseconds from 1 to 3600000",
						   optarg);
			break;
		case OPT_NO_PLOTS:
			o->plots = false;
			break;
		case OPT_MAX_CACHES:
			if (fe_parse_max_caches(optarg, &o->max_caches))
				return usage_error(FE_MAX_CACHES_USAGE, optarg);
			break;
		case OPT_PROGRAM:
			o->program = optarg;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			report_usage(stdout);
			return 0;
		default:
			fe_option_error(c, argv, why, sizeof(why));
			return usage_error("%s", why);
		}
	}
	if (optind >= argc)
		return usage_error("no TRACE given%s", "");
	*first = optind;
	return -1;
}

int cmd_report(int argc, char **argv)
{
	struct report_opts o = { .outdir = DEFAULT_OUTDIR, .plots = true };
	int ret, first;

	ret = parse_options(argc, argv, &o, &first);
	if (ret >= 0)
		return ret;
	return report_run(&o, argv + first, (size_t)(argc - first));
}
