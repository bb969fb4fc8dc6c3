/*
 * tracelib/graph.c — building and running the graph of graph.h: sources -> muxer ->
 * progress filter -> sink; running it to its end with a progress line and signal handling
 * (mg_graph_run), or one step at a time (mg_graph_step).
 *
 * Owns the struct mg_graph and its bt_graph (destroyed by mg_graph_destroy; the inputs
 * and plugins it was built from stay the caller's and must outlive it).  State: while
 * mg_graph_run runs, the graph's interrupter for the SIGINT/SIGTERM handler (one graph
 * runs at a time).
 */
#include "graph_impl.h"
#include "tl_util.h"
#include "watchdog.h"

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct mg_graph {
	bt_graph *graph;
	struct mg_progress prog;
	const struct mg_inputs *in;
	const struct mg_plugins *plugins;
	/* the traces' time span (for the percentage), found on the first progress line */
	bool span_tried, have_span;
	int64_t span_begin, span_end;
};

/* The interrupter of the graph being run, for the signal handler. */
static bt_interrupter *volatile g_interrupter;
static volatile sig_atomic_t g_interrupted;

static void on_signal(int sig)
{
	(void)sig;
	g_interrupted = 1;
	if (g_interrupter)
		bt_interrupter_set(g_interrupter);
}

static int connect_ports(struct mg_graph *g, const bt_port_output *out, const bt_port_input *in,
			 char *err, size_t errlen)
{
	if (bt_graph_connect_ports(g->graph, out, in, NULL) != BT_GRAPH_CONNECT_PORTS_STATUS_OK) {
		char ctx[512];

		snprintf(ctx, sizeof(ctx), "cannot connect %s to %s",
			 bt_port_get_name(bt_port_output_as_port_const(out)),
			 bt_port_get_name(bt_port_input_as_port_const(in)));
		mg_take_error(err, errlen, ctx, false);
		return -1;
	}
	return 0;
}

/* The muxer's free input port (it adds one each time one is connected). */
static const bt_port_input *muxer_free_port(const bt_component_filter *mux)
{
	uint64_t i, n = bt_component_filter_get_input_port_count(mux);

	for (i = 0; i < n; i++) {
		const bt_port_input *p = bt_component_filter_borrow_input_port_by_index_const(mux, i);

		if (!bt_port_is_connected(bt_port_input_as_port_const(p)))
			return p;
	}
	return NULL;
}

bt_value *mg_source_params(const struct mg_source *s)
{
	bt_value *params = bt_value_map_create(), *inputs = NULL;
	size_t i;

	if (!params)
		return NULL;
	if (bt_value_map_insert_empty_array_entry(params, "inputs", &inputs) !=
	    BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK)
		goto fail;
	if (s->live) {
		if (bt_value_array_append_string_element(inputs, s->url) !=
			    BT_VALUE_ARRAY_APPEND_ELEMENT_STATUS_OK ||
		    bt_value_map_insert_string_entry(params, "session-not-found-action", "fail") !=
			    BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK)
			goto fail;
		return params;
	}
	for (i = 0; i < s->ndirs; i++)
		if (bt_value_array_append_string_element(inputs, s->dirs[i]) !=
		    BT_VALUE_ARRAY_APPEND_ELEMENT_STATUS_OK)
			goto fail;
	if (s->trace_name &&
	    bt_value_map_insert_string_entry(params, "trace-name", s->trace_name) !=
		    BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK)
		goto fail;
	return params;
fail:
	bt_value_put_ref(params);
	return NULL;
}

/* One source component (ctf.fs or lttng-live) for s, every output port to the muxer. */
static int add_source(struct mg_graph *g, const bt_component_class_source *cls,
		      const struct mg_source *s, size_t i, const bt_component_filter *mux,
		      bt_logging_level log_level, char *err, size_t errlen)
{
	const bt_component_source *src = NULL;
	bt_value *params = mg_source_params(s);
	char name[64], ctx[PATH_MAX + 128];
	bt_graph_add_component_status ast;
	uint64_t k, nports;

	if (!params) {
		tl_seterr(err, errlen, "out of memory");
		return -1;
	}
	snprintf(name, sizeof(name), "%s-%zu", s->live ? "lttng-live" : "ctf-fs", i);
	ast = bt_graph_add_source_component(g->graph, cls, name, params, log_level, &src);
	bt_value_put_ref(params);
	if (ast != BT_GRAPH_ADD_COMPONENT_STATUS_OK) {
		if (s->live)
			snprintf(ctx, sizeof(ctx), "cannot open the live session %s", s->url);
		else if (s->ndirs == 1)
			snprintf(ctx, sizeof(ctx), "cannot read the trace %s", s->dirs[0]);
		else
			snprintf(ctx, sizeof(ctx), "cannot read the trace %s (and %zu more "
						   "directories of it)",
				 s->dirs[0], s->ndirs - 1);
		mg_take_error(err, errlen, ctx, false);
		return -1;
	}
	nports = bt_component_source_get_output_port_count(src);
	for (k = 0; k < nports; k++) {
		const bt_port_input *mp = muxer_free_port(mux);

		if (!mp) {
			tl_seterr(err, errlen, "filter.utils.muxer has no free input port");
			return -1;
		}
		if (connect_ports(g, bt_component_source_borrow_output_port_by_index_const(src, k),
				  mp, err, errlen) != 0)
			return -1;
	}
	return 0;
}

/* The sink component of spec: its class's, or a simple sink of the caller's consume function. */
static int create_sink(struct mg_graph *g, const struct mg_sink *spec,
		       bt_logging_level log_level, const bt_component_sink **sink, char *err,
		       size_t errlen)
{
	char ctx[256];

	if (!spec->cls) {
		if (bt_graph_add_simple_sink_component(g->graph, spec->name, NULL, spec->consume,
						       NULL, spec->data, sink) ==
		    BT_GRAPH_ADD_COMPONENT_STATUS_OK)
			return 0;
		mg_take_error(err, errlen, "cannot create the sink", false);
		return -1;
	}
	if (bt_graph_add_sink_component(g->graph, spec->cls, spec->name, spec->params, log_level,
					sink) == BT_GRAPH_ADD_COMPONENT_STATUS_OK)
		return 0;
	snprintf(ctx, sizeof(ctx), "cannot create the sink (class '%s')",
		 bt_component_class_get_name(
			 bt_component_class_sink_as_component_class_const(spec->cls)));
	/* The sink's own reason (bad parameter, output directory) goes alone. */
	mg_take_error(err, errlen, ctx, false);
	return -1;
}

/* The sink, its input port fed by the progress filter. */
static int add_sink(struct mg_graph *g, const struct mg_sink *spec, bt_logging_level log_level,
		    const bt_component_filter *prog, char *err, size_t errlen)
{
	const bt_component_sink *sink = NULL;

	if (create_sink(g, spec, log_level, &sink, err, errlen) != 0)
		return -1;
	if (bt_component_sink_get_input_port_count(sink) < 1) {
		tl_seterr(err, errlen, "the sink has no input port");
		return -1;
	}
	return connect_ports(g, bt_component_filter_borrow_output_port_by_name_const(prog, "out"),
			     bt_component_sink_borrow_input_port_by_index_const(sink, 0), err,
			     errlen);
}

int mg_graph_build_sink(const struct mg_plugins *p, const struct mg_inputs *in,
			const struct mg_sink *sink, bt_logging_level log_level,
			struct mg_graph **out, char *err, size_t errlen)
{
	struct mg_graph *g = tl_xcalloc(1, sizeof(*g));
	const bt_component_class_source *fs_cls, *live_cls;
	const bt_component_class_filter *mux_cls;
	bt_component_class_filter *prog_cls;
	const bt_component_filter *mux = NULL, *prog = NULL;
	size_t i;

	*out = NULL;
	g->in = in;
	g->plugins = p;
	fs_cls = bt_plugin_borrow_source_component_class_by_name_const(p->ctf, "fs");
	live_cls = bt_plugin_borrow_source_component_class_by_name_const(p->ctf, "lttng-live");
	mux_cls = bt_plugin_borrow_filter_component_class_by_name_const(p->utils, "muxer");
	prog_cls = mg_progress_class();
	if (!fs_cls || !live_cls || !mux_cls) {
		tl_seterr(err, errlen, "babeltrace2's ctf or utils plugin lacks source.ctf.fs, "
				    "source.ctf.lttng-live or filter.utils.muxer");
		goto fail;
	}
	if (!prog_cls) {
		tl_seterr(err, errlen, "out of memory");
		goto fail;
	}
	g->graph = bt_graph_create(0);
	if (!g->graph) {
		tl_seterr(err, errlen, "out of memory");
		goto fail;
	}

	if (bt_graph_add_filter_component(g->graph, mux_cls, "muxer", NULL, log_level, &mux) !=
	    BT_GRAPH_ADD_COMPONENT_STATUS_OK) {
		mg_take_error(err, errlen, "cannot create filter.utils.muxer", false);
		goto fail;
	}

	for (i = 0; i < in->n; i++)
		if (add_source(g, in->src[i].live ? live_cls : fs_cls, &in->src[i], i, mux,
			       log_level, err, errlen) != 0)
			goto fail;

	if (bt_graph_add_filter_component_with_initialize_method_data(
		    g->graph, prog_cls, "progress", NULL, &g->prog, log_level, &prog) !=
	    BT_GRAPH_ADD_COMPONENT_STATUS_OK) {
		mg_take_error(err, errlen, "cannot create the progress filter", false);
		goto fail;
	}
	if (connect_ports(g, bt_component_filter_borrow_output_port_by_name_const(mux, "out"),
			  bt_component_filter_borrow_input_port_by_name_const(prog, "in"), err,
			  errlen) != 0)
		goto fail;

	if (add_sink(g, sink, log_level, prog, err, errlen) != 0)
		goto fail;
	*out = g;
	return 0;
fail:
	mg_graph_destroy(g);
	return -1;
}

int mg_graph_build(const struct mg_plugins *p, const struct mg_inputs *in,
		   const bt_component_class_sink *sink_cls, const char *sink_name,
		   const bt_value *sink_params, bt_logging_level log_level,
		   struct mg_graph **out, char *err, size_t errlen)
{
	const struct mg_sink sink = { .cls = sink_cls, .name = sink_name, .params = sink_params };

	return mg_graph_build_sink(p, in, &sink, log_level, out, err, errlen);
}

uint64_t mg_graph_events(const struct mg_graph *g)
{
	return g->prog.events;
}

void mg_graph_destroy(struct mg_graph *g)
{
	if (!g)
		return;
	if (g->graph) {
		if (g_interrupter == bt_graph_borrow_default_interrupter(g->graph))
			g_interrupter = NULL;
		bt_graph_put_ref(g->graph);
	}
	free(g);
}

/* The first and last timestamps of every ctf.fs source (babeltrace.trace-infos query). */
static void find_span(struct mg_graph *g)
{
	const bt_component_class_source *fs =
		bt_plugin_borrow_source_component_class_by_name_const(g->plugins->ctf, "fs");
	size_t i;

	g->span_tried = true;
	for (i = 0; i < g->in->n; i++) {
		const struct mg_source *s = &g->in->src[i];
		bt_value *params;
		bt_query_executor *q;
		const bt_value *res = NULL;
		uint64_t t, nt;

		if (s->live)
			continue;
		params = mg_source_params(s);
		q = params ? bt_query_executor_create(
				     bt_component_class_source_as_component_class_const(fs),
				     "babeltrace.trace-infos", params)
			   : NULL;
		if (!q || bt_query_executor_query(q, &res) != BT_QUERY_EXECUTOR_QUERY_STATUS_OK ||
		    !bt_value_is_array(res)) {
			bt_current_thread_clear_error();
			goto next;
		}
		nt = bt_value_array_get_length(res);
		for (t = 0; t < nt; t++) {
			const bt_value *ti = bt_value_array_borrow_element_by_index_const(res, t);
			const bt_value *sis = bt_value_is_map(ti)
				? bt_value_map_borrow_entry_value_const(ti, "stream-infos")
				: NULL;
			uint64_t k, ns = sis && bt_value_is_array(sis) ? bt_value_array_get_length(sis)
								      : 0;

			for (k = 0; k < ns; k++) {
				const bt_value *si = bt_value_array_borrow_element_by_index_const(sis, k);
				const bt_value *r = bt_value_is_map(si)
					? bt_value_map_borrow_entry_value_const(si, "range-ns")
					: NULL;
				const bt_value *b = r && bt_value_is_map(r)
					? bt_value_map_borrow_entry_value_const(r, "begin")
					: NULL;
				const bt_value *e = r && bt_value_is_map(r)
					? bt_value_map_borrow_entry_value_const(r, "end")
					: NULL;
				int64_t bv, ev;

				if (!b || !e || !bt_value_is_signed_integer(b) ||
				    !bt_value_is_signed_integer(e))
					continue;
				bv = bt_value_integer_signed_get(b);
				ev = bt_value_integer_signed_get(e);
				if (!g->have_span || bv < g->span_begin)
					g->span_begin = bv;
				if (!g->have_span || ev > g->span_end)
					g->span_end = ev;
				g->have_span = true;
			}
		}
next:
		bt_value_put_ref(res);
		bt_query_executor_put_ref(q);
		bt_value_put_ref(params);
	}
}

static void show_progress(struct mg_graph *g, const struct mg_run_opts *o, double elapsed,
			  bool tty)
{
	char ev[32], pct[32] = "";

	if (!g->span_tried && g->in->ndirs > 0)
		find_span(g);
	if (g->have_span && g->prog.have_ns && g->span_end > g->span_begin) {
		double f = (double)(g->prog.last_ns - g->span_begin) /
			   (double)(g->span_end - g->span_begin);

		if (f < 0)
			f = 0;
		if (f > 1)
			f = 1;
		snprintf(pct, sizeof(pct), ", %.0f%% of the trace time", f * 100);
	}
	tl_format_count(ev, sizeof(ev), g->prog.events);
	fprintf(stderr, "%s%s: %s... %.0f s, %s events%s%s", tty ? "\r" : "", o->prog,
		g->in->nlive ? "receiving the live trace" : "reading the trace", elapsed, ev, pct,
		tty ? "\033[K" : "\n");
	fflush(stderr);
}

enum mg_step_status mg_graph_step(struct mg_graph *g, bool verbose, char *err, size_t errlen)
{
	switch (bt_graph_run_once(g->graph)) {
	case BT_GRAPH_RUN_ONCE_STATUS_OK:
		return MG_STEP_OK;
	case BT_GRAPH_RUN_ONCE_STATUS_AGAIN:
		return MG_STEP_AGAIN;
	case BT_GRAPH_RUN_ONCE_STATUS_END:
		return MG_STEP_END;
	default:
		mg_take_error(err, errlen,
			      g->in->nlive ? "cannot read the live trace" : "cannot read the trace",
			      verbose);
		return MG_STEP_ERROR;
	}
}

enum mg_run_status mg_graph_run(struct mg_graph *g, const struct mg_run_opts *o, char *err,
				size_t errlen)
{
	struct sigaction sa, old_int, old_term;
	bool tty = isatty(STDERR_FILENO), shown = false;
	double start = tl_now_s(), next = start + 1.0, t;
	enum mg_run_status ret = MG_RUN_OK;
	bt_graph_run_once_status st;

	g_interrupted = 0;
	g_interrupter = bt_graph_borrow_default_interrupter(g->graph);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	wd_arm(o->prog, "babeltrace2, reading the trace,");

	for (;;) {
		wd_tick();
		if (g_interrupted) {
			ret = MG_RUN_INTERRUPTED;
			break;
		}
		st = bt_graph_run_once(g->graph);
		if (st == BT_GRAPH_RUN_ONCE_STATUS_END)
			break;
		if (st == BT_GRAPH_RUN_ONCE_STATUS_AGAIN) {
			struct timespec ts = { 0, 20 * 1000 * 1000 };

			if (g_interrupted)
				continue;
			nanosleep(&ts, NULL);
		} else if (st != BT_GRAPH_RUN_ONCE_STATUS_OK) {
			if (g_interrupted) {
				bt_current_thread_clear_error();
				ret = MG_RUN_INTERRUPTED;
			} else {
				mg_take_error(err, errlen,
					      g->in->nlive ? "cannot read the live trace"
							   : "cannot read the trace",
					      o->verbose);
				ret = MG_RUN_ERROR;
			}
			break;
		}
		t = tl_now_s();
		if (!o->quiet && t >= next) {
			show_progress(g, o, t - start, tty);
			shown = true;
			next = t + 1.0;
		}
	}

	wd_disarm();
	if (shown && tty) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	g_interrupter = NULL;
	if (ret == MG_RUN_INTERRUPTED)
		tl_seterr(err, errlen, "interrupted");
	return ret;
}

