/*
 * analysis/live_session.c — what runs under the view of `magslab live` (see live_impl.h):
 * a session daemon if none runs, always a relay daemon of our own on 127.0.0.1 (lttng.c),
 * the live session streaming to it, the babeltrace2 graph attached to it
 * (source.ctf.lttng-live -> muxer -> progress -> sink.magslab.report with snapshot-ms, and
 * for the png view the sink's live page), CMD as our child (proc.h), and live_teardown,
 * which undoes all of them in order, whatever stage the run reached.
 *
 * Owns the work directory ($TMPDIR/magslab-live.XXXXXX: daemon logs, the dumb view's frame
 * file; removed by the teardown after a good run), the daemons, the session, the graph and
 * CMD.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "live_impl.h"
#include "preload.h"
#include "proc.h"
#include "util.h"

#define SINK_CLASS "magslab.report"
/* The live timer: how often the tracer sends the relay daemon what it has (us). */
#define LIVE_TIMER_US 100000

/* ---- daemons, session, graph ------------------------------------------------------------ */

int live_make_workdir(struct live *l, char *err, size_t errlen)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(l->workdir, sizeof(l->workdir), "%s/magslab-live.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(l->workdir)) {
		tl_seterr(err, errlen, "cannot create a work directory %s: %s", l->workdir,
		       strerror(errno));
		l->workdir[0] = '\0';
		return -1;
	}
	return 0;
}

int live_start_session(struct live *l, char *err, size_t errlen)
{
	struct ml_session_opts so;
	char trace[PATH_MAX + 16], relayd[64];

	if (ml_sessiond_ensure(&l->sessiond, l->workdir, &l->started_sessiond, err, errlen))
		return -1;
	snprintf(trace, sizeof(trace), "%s/trace", l->outdir);
	if (ml_relayd_start(&l->relayd, trace, l->workdir, err, errlen))
		return -1;
	snprintf(relayd, sizeof(relayd), "127.0.0.1:%d", l->relayd.control_port);
	memset(&so, 0, sizeof(so));
	so.relayd = relayd;
	so.relayd_data_port = l->relayd.data_port;
	so.live_timer_us = LIVE_TIMER_US;
	if (ml_session_create(&so, &l->session, err, errlen))
		return -1;
	return ml_session_start(&l->session, err, errlen);
}

/*
 * png view: the sink's live page (index.html reloading itself every interval, rounded up,
 * until the report replaces it).
 */
static int live_page_param(const struct live *l, bt_value *p)
{
	unsigned refresh = (unsigned)(l->o.interval_s + 0.999);
	bt_value *m;

	if (l->o.term != TERM_PNG)
		return 0;
	if (bt_value_map_insert_empty_map_entry(p, "live-page", &m) !=
		    BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK ||
	    bt_value_map_insert_string_entry(m, "title", l->cmdline) !=
		    BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK ||
	    bt_value_map_insert_unsigned_integer_entry(m, "refresh-s", refresh ? refresh : 1) !=
		    BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK)
		return -1;
	return 0;
}

static bt_value *sink_params(const struct live *l)
{
	bt_value *p = bt_value_map_create();
	uint64_t snap_ms = (uint64_t)(l->o.interval_s * 1000 + 0.5);

	if (!p)
		return NULL;
	if (bt_value_map_insert_string_entry(p, "output-dir", l->outdir) !=
		    BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK ||
	    bt_value_map_insert_unsigned_integer_entry(p, "snapshot-ms", snap_ms) !=
		    BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK ||
	    (l->o.bucket_ms && bt_value_map_insert_unsigned_integer_entry(p, "bucket-ms",
									  l->o.bucket_ms) !=
				       BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK) ||
	    (l->o.max_caches && bt_value_map_insert_unsigned_integer_entry(p, "max-caches",
									   l->o.max_caches) !=
					BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK) ||
	    (l->program[0] && bt_value_map_insert_string_entry(p, "program", l->program) !=
				      BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK) ||
	    live_page_param(l, p)) {
		bt_value_put_ref(p);
		return NULL;
	}
	return p;
}

/* Builds the graph on the session's URL and steps it once: the viewer attaches then. */
int live_attach_graph(struct live *l, char *err, size_t errlen)
{
	bt_logging_level ll = l->o.verbose ? BT_LOGGING_LEVEL_WARNING : BT_LOGGING_LEVEL_NONE;
	const bt_component_class_sink *sink;
	char host[256], url[512];
	char *args[1] = { url };

	if (gethostname(host, sizeof(host)) != 0) {
		tl_seterr(err, errlen, "gethostname: %s", strerror(errno));
		return -1;
	}
	host[sizeof(host) - 1] = '\0';
	if (snprintf(url, sizeof(url), "net://127.0.0.1:%d/host/%s/%s", l->relayd.live_port,
		     host, l->session.name) >= (int)sizeof(url)) {
		tl_seterr(err, errlen, "the live URL is too long (host name %s)", host);
		return -1;
	}
	if (mg_plugins_load(&l->plugins, true, err, errlen))
		return -1;
	l->have_plugins = true;
	if (mg_discover(&l->plugins, args, 1, ll, &l->inputs, err, errlen))
		return -1;
	l->have_inputs = true;
	sink = mg_find_sink_class(&l->plugins, SINK_CLASS, &l->sink_holder, err, errlen);
	if (!sink)
		return -1;
	l->params = sink_params(l);
	if (!l->params) {
		tl_seterr(err, errlen, "out of memory");
		return -1;
	}
	if (mg_graph_build(&l->plugins, &l->inputs, sink, "report", l->params, ll, &l->graph,
			   err, errlen))
		return -1;
	switch (mg_graph_step(l->graph, l->o.verbose, err, errlen)) {
	case MG_STEP_ERROR:
		return -1;
	case MG_STEP_END:
		tl_seterr(err, errlen, "the live session %s ended before it began", url);
		return -1;
	default:
		return 0;
	}
}

/* ---- CMD ------------------------------------------------------------------------------- */

/* In CMD, before exec: the traced program's environment (lttng.h; --preload: preload.h). */
static void cmd_env(void *arg)
{
	const struct live *l = arg;

	ml_child_env(false);
	if (l->o.preload)
		preload_child_env(l->preload_lib, NULL);
}

/* CMD as our child; with the dumb view (which owns the terminal) its output to cmd.log. */
int live_start_cmd(struct live *l, char *err, size_t errlen)
{
	char log[PATH_MAX + 16];
	int fd = -1;
	struct proc_spec s = { l->o.cmd, PROC_KEEP, PROC_KEEP, PROC_KEEP, NULL,
			       PROC_DEFAULT_SIGNALS | PROC_CLOSE_FDS, cmd_env, l, PROG };

	if (l->o.term == TERM_DUMB) {
		snprintf(log, sizeof(log), "%s/cmd.log", l->outdir);
		fd = proc_open_out(log);
		if (fd >= 0)
			s.out = s.err = fd;
	}
	l->child = proc_spawn(&s);
	if (fd >= 0)
		close(fd);
	if (l->child < 0) {
		l->child = 0;
		tl_seterr(err, errlen, "cannot start %s: fork: %s", l->o.cmd[0], strerror(errno));
		return -1;
	}
	l->t_start = fe_now_s();
	return 0;
}

/* Whether CMD has ended (reaps it). */
bool live_cmd_ended(struct live *l)
{
	if (l->child_done || l->child <= 0)
		return true;
	l->child_done = proc_ended(l->child, &l->child_status);
	return l->child_done;
}

/* Stops CMD: SIGINT (a Ctrl-C at a terminal reached it already), then SIGTERM, SIGKILL. */
void live_stop_cmd(struct live *l)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGKILL };
	static const double grace[] = { CMD_GRACE_S, CMD_GRACE_S, 10 };

	if (!live_cmd_ended(l) && proc_stop(l->child, &l->child_status, sigs, grace, 3))
		l->child_done = true;
}

int live_cmd_exit_code(const struct live *l)
{
	return proc_exit_code(l->child_status);
}

/* Stops and destroys the session (its end ends the live stream). */
int live_end_session(struct live *l, char *err, size_t errlen)
{
	char ignored[ML_ERRLEN];

	if (!l->session.created)
		return 0;
	if (ml_session_stop(&l->session, &l->lost, err, errlen)) {
		ml_session_destroy(&l->session, ignored, sizeof(ignored));
		return -1;
	}
	return ml_session_destroy(&l->session, err, errlen);
}

/* Everything undone, in order; safe at any stage. */
void live_teardown(struct live *l)
{
	char ignored[ML_ERRLEN];

	if (l->child > 0 && !l->child_done)
		live_stop_cmd(l);
	view_stop(&l->view);
	if (l->session.created) {
		ml_session_stop(&l->session, NULL, ignored, sizeof(ignored));
		ml_session_destroy(&l->session, ignored, sizeof(ignored));
	}
	mg_graph_destroy(l->graph);
	l->graph = NULL;
	bt_current_thread_clear_error();
	bt_value_put_ref(l->params);
	l->params = NULL;
	bt_plugin_put_ref(l->sink_holder);
	l->sink_holder = NULL;
	if (l->have_inputs)
		mg_inputs_free(&l->inputs);
	l->have_inputs = false;
	if (l->have_plugins)
		mg_plugins_put(&l->plugins);
	l->have_plugins = false;
	ml_daemon_stop(&l->relayd.d);
	ml_daemon_stop(&l->sessiond);
	if (l->workdir[0] && !l->failed)
		fe_remove_tree(l->workdir);
}
