/*
 * tracelib/hostname.c — the host that recorded a trace (mg_source_hostname, graph.h; for
 * the per-host reports of `magslab report`).
 *
 * How: a small graph, source.ctf.fs on the trace's directories -> a sink of this library
 * that takes the first stream-beginning message and reads its trace's environment entry
 * `hostname` (bt_stream_borrow_trace_const, bt_trace_borrow_environment_entry_value_by_
 * name_const), then ends.  Not the `metadata-info` query: it gives the metadata's TSDL
 * text, whose `env { ... }` block would have to be parsed here (string escapes, comments;
 * and it is CTF 1.8 text only).  The graph gives the environment as source.ctf.fs decoded
 * it: the very value sink.magslab.report writes as `trace.traces[].hostname`, so the
 * grouping by host cannot disagree with the reports.  Cost: source.ctf.fs indexes the
 * trace's stream files (as the report's own graph does) and one message is decoded.
 *
 * Owns each probe graph for the length of one call; the sink class is made once and kept.
 */
#include "graph_impl.h"
#include "tl_util.h"
#include "watchdog.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct host_probe {
	bt_message_iterator *it;
	bool found;  /* a stream beginning was seen */
	char *host;  /* its trace's `hostname`, NULL if none */
};

static bt_component_class_initialize_method_status
probe_init(bt_self_component_sink *self, bt_self_component_sink_configuration *config,
	   const bt_value *params, void *data)
{
	(void)config;
	(void)params;
	bt_self_component_set_data(bt_self_component_sink_as_self_component(self), data);
	if (bt_self_component_sink_add_input_port(self, "in", NULL, NULL) !=
	    BT_SELF_COMPONENT_ADD_PORT_STATUS_OK)
		return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_MEMORY_ERROR;
	return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_OK;
}

static bt_component_class_sink_graph_is_configured_method_status
probe_configured(bt_self_component_sink *self)
{
	struct host_probe *hp =
		bt_self_component_get_data(bt_self_component_sink_as_self_component(self));

	switch (bt_message_iterator_create_from_sink_component(
		self, bt_self_component_sink_borrow_input_port_by_name(self, "in"), &hp->it)) {
	case BT_MESSAGE_ITERATOR_CREATE_FROM_SINK_COMPONENT_STATUS_OK:
		return BT_COMPONENT_CLASS_SINK_GRAPH_IS_CONFIGURED_METHOD_STATUS_OK;
	case BT_MESSAGE_ITERATOR_CREATE_FROM_SINK_COMPONENT_STATUS_MEMORY_ERROR:
		return BT_COMPONENT_CLASS_SINK_GRAPH_IS_CONFIGURED_METHOD_STATUS_MEMORY_ERROR;
	default:
		return BT_COMPONENT_CLASS_SINK_GRAPH_IS_CONFIGURED_METHOD_STATUS_ERROR;
	}
}

static bt_component_class_sink_consume_method_status probe_consume(bt_self_component_sink *self)
{
	struct host_probe *hp =
		bt_self_component_get_data(bt_self_component_sink_as_self_component(self));
	bt_message_array_const msgs;
	uint64_t n = 0, i;

	switch (bt_message_iterator_next(hp->it, &msgs, &n)) {
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_OK:
		break;
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_END:
		return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_END;
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_AGAIN:
		return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_AGAIN;
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_MEMORY_ERROR:
		return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_MEMORY_ERROR;
	default:
		return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_ERROR;
	}
	for (i = 0; i < n; i++) {
		if (!hp->found && bt_message_get_type(msgs[i]) == BT_MESSAGE_TYPE_STREAM_BEGINNING) {
			const bt_trace *t = bt_stream_borrow_trace_const(
				bt_message_stream_beginning_borrow_stream_const(msgs[i]));
			const bt_value *v =
				bt_trace_borrow_environment_entry_value_by_name_const(t, "hostname");

			hp->found = true;
			if (v && bt_value_is_string(v))
				hp->host = tl_xstrdup(bt_value_string_get(v));
		}
		bt_message_put_ref(msgs[i]);
	}
	return hp->found ? BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_END
			 : BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_OK;
}

static void probe_fini(bt_self_component_sink *self)
{
	struct host_probe *hp =
		bt_self_component_get_data(bt_self_component_sink_as_self_component(self));

	if (hp) {
		bt_message_iterator_put_ref(hp->it);
		hp->it = NULL;
	}
}

/* The class, made once (NULL on memory error). */
static bt_component_class_sink *probe_class(void)
{
	static bt_component_class_sink *cls;

	if (cls)
		return cls;
	cls = bt_component_class_sink_create("hostname", probe_consume);
	if (cls &&
	    (bt_component_class_sink_set_initialize_method(cls, probe_init) !=
		     BT_COMPONENT_CLASS_SET_METHOD_STATUS_OK ||
	     bt_component_class_sink_set_graph_is_configured_method(cls, probe_configured) !=
		     BT_COMPONENT_CLASS_SET_METHOD_STATUS_OK ||
	     bt_component_class_sink_set_finalize_method(cls, probe_fini) !=
		     BT_COMPONENT_CLASS_SET_METHOD_STATUS_OK)) {
		bt_component_class_sink_put_ref(cls);
		cls = NULL;
	}
	return cls;
}

/* net://RELAY[:PORT]/host/HOSTNAME/SESSION: the relay daemon's host grouping (or NULL). */
static char *live_host(const char *url)
{
	const char *h = strstr(url, "/host/"), *e;
	char *host;

	if (!h)
		return NULL;
	h += 6;
	e = strchr(h, '/');
	if (!e)
		return *h ? tl_xstrdup(h) : NULL;
	if (e == h)
		return NULL;
	host = tl_xcalloc((size_t)(e - h) + 1, 1);
	memcpy(host, h, (size_t)(e - h));
	return host;
}

/*
 * source.ctf.fs on s's directories, its first output port to the probe sink of hp.  0;
 * 1 the trace has no stream (nothing to read); -1 error (err, with ctx).
 */
static int probe_wire(bt_graph *graph, const struct mg_plugins *p, const bt_value *params,
		      struct host_probe *hp, bt_logging_level log_level, const char *ctx,
		      char *err, size_t errlen)
{
	const bt_component_class_source *fs_cls =
		bt_plugin_borrow_source_component_class_by_name_const(p->ctf, "fs");
	const bt_component_source *src = NULL;
	const bt_component_sink *sink = NULL;

	if (bt_graph_add_source_component(graph, fs_cls, "ctf-fs", params, log_level, &src) !=
		    BT_GRAPH_ADD_COMPONENT_STATUS_OK ||
	    bt_graph_add_sink_component_with_initialize_method_data(
		    graph, probe_class(), "hostname", NULL, hp, log_level, &sink) !=
		    BT_GRAPH_ADD_COMPONENT_STATUS_OK) {
		mg_take_error(err, errlen, ctx, false);
		return -1;
	}
	if (bt_component_source_get_output_port_count(src) == 0)
		return 1;
	/* The trace's other streams stay unconnected: any stream has the same trace. */
	if (bt_graph_connect_ports(graph,
				   bt_component_source_borrow_output_port_by_index_const(src, 0),
				   bt_component_sink_borrow_input_port_by_name_const(sink, "in"),
				   NULL) != BT_GRAPH_CONNECT_PORTS_STATUS_OK) {
		mg_take_error(err, errlen, ctx, false);
		return -1;
	}
	return 0;
}

/* Runs the probe graph to its end, under the stall watchdog. */
static bt_graph_run_status probe_run(bt_graph *graph)
{
	bt_graph_run_status st;

	wd_arm("magslab", "babeltrace2, reading the trace's hostname,");
	while ((st = bt_graph_run(graph)) == BT_GRAPH_RUN_STATUS_AGAIN) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		wd_tick();
		nanosleep(&ts, NULL);
	}
	wd_disarm();
	return st;
}

int mg_source_hostname(const struct mg_plugins *p, const struct mg_source *s,
		       bt_logging_level log_level, char **host, char *err, size_t errlen)
{
	struct host_probe hp = { NULL, false, NULL };
	bt_graph *graph = NULL;
	bt_value *params = NULL;
	char ctx[PATH_MAX + 64];
	int ret = -1, r;

	*host = NULL;
	if (s->live) {
		*host = live_host(s->url);
		return 0;
	}
	snprintf(ctx, sizeof(ctx), "cannot read the hostname of the trace %s",
		 s->ndirs ? s->dirs[0] : "?");
	if (!bt_plugin_borrow_source_component_class_by_name_const(p->ctf, "fs") ||
	    !probe_class()) {
		tl_seterr(err, errlen, "%s: %s", ctx,
			  probe_class() ? "no source.ctf.fs" : "out of memory");
		return -1;
	}
	params = mg_source_params(s);
	graph = params ? bt_graph_create(0) : NULL;
	if (!graph) {
		tl_seterr(err, errlen, "out of memory");
		goto out;
	}
	r = probe_wire(graph, p, params, &hp, log_level, ctx, err, errlen);
	if (r != 0) {
		ret = r > 0 ? 0 : -1; /* no stream: no environment to read */
		goto out;
	}
	if (probe_run(graph) != BT_GRAPH_RUN_STATUS_OK) {
		mg_take_error(err, errlen, ctx, false);
		goto out;
	}
	*host = hp.host;
	hp.host = NULL;
	ret = 0;
out:
	bt_graph_put_ref(graph); /* finalizes the probe (puts its iterator) */
	bt_value_put_ref(params);
	free(hp.host);
	return ret;
}
