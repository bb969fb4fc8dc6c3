/*
 * report.c — the sink.magslab.report component: init (parameters, the output directory,
 * the temporary files), the message loop, the timing of live snapshots, the end of the
 * stream.  Events go to events.c (and stream beginnings to classes.c), the files to
 * output.c.
 *
 * Owns the struct report (allocated at init, freed at finalize) and the input port "in".
 * Invariants: once r->failed is set, every consume fails and nothing more is written; the
 * report is written once, at the end of the stream (r->written).  With the parameter
 * live-page, index.html is the live page from init on; if no report replaces it, it is
 * removed at finalize (a page would otherwise wait for a report forever).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report.h"

static const char in_port_name[] = "in";

/* mkdir -p */
static int make_dirs(const char *path)
{
	char *p = ms_strdup(path), *s;
	struct stat st;
	int rc = 0;

	for (s = p + 1; ; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;

			*s = '\0';
			if (mkdir(p, 0777) != 0 && errno != EEXIST) {
				rc = -1;
				break;
			}
			*s = c;
			if (!c)
				break;
		}
	}
	free(p);
	if (rc == 0 && (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))) {
		errno = ENOTDIR;
		rc = -1;
	}
	return rc;
}

/*
 * Called at every consume: writes a snapshot when one is due (snapshot-ms of wall-clock
 * time since the previous check that was due) and events arrived since the last one.
 */
static int maybe_snapshot(struct report *r)
{
	uint64_t now;

	if (!r->snapshot_ns)
		return 0;
	now = ms_monotonic_ns();
	if (now < r->next_snapshot)
		return 0;
	r->next_snapshot = now + r->snapshot_ns;
	if (!r->have_t0 || r->events == r->events_at_snapshot)
		return 0;
	r->events_at_snapshot = r->events;
	return output_snapshot(r);
}

/* ---- component methods --------------------------------------------------- */

static void report_destroy(struct report *r)
{
	if (!r)
		return;
	if (r->live_page && !r->written)
		output_remove_live_page(r);
	bt_message_iterator_put_ref(r->iter);
	events_free(r);
	classes_free(r);
	report_messages_free(r);
	params_free(r);
	free(r);
}

/* The output directory made and writable, the temporary files open. */
static int prepare_files(struct report *r)
{
	if (make_dirs(r->out_dir) != 0) {
		report_error(r, "cannot create the output directory %s: %s", r->out_dir,
			     strerror(errno));
		return -1;
	}
	if (access(r->out_dir, W_OK | X_OK) != 0) {
		report_error(r, "cannot write in the output directory %s: %s", r->out_dir,
			     strerror(errno));
		return -1;
	}
	r->rows_f = tmpfile();
	r->ev_f = tmpfile();
	r->phase_f = tmpfile();
	r->win_f = tmpfile();
	r->slots_f = tmpfile();
	r->cont_f = tmpfile();
	if (!r->rows_f || !r->ev_f || !r->phase_f || !r->win_f || !r->slots_f || !r->cont_f) {
		report_error(r, "cannot create a temporary file: %s", strerror(errno));
		return -1;
	}
	return 0;
}

bt_component_class_initialize_method_status report_init(
	bt_self_component_sink *self, bt_self_component_sink_configuration *config,
	const bt_value *params, void *init_data)
{
	struct report *r = calloc(1, sizeof(*r));
	bt_self_component_add_port_status ps;

	(void)config;
	(void)init_data;
	if (!r)
		return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_MEMORY_ERROR;
	r->self_comp = bt_self_component_sink_as_self_component(self);
	r->log_level = bt_component_get_logging_level(
		bt_self_component_as_component(r->self_comp));
	ps = bt_self_component_sink_add_input_port(self, in_port_name, NULL, NULL);
	if (ps != BT_SELF_COMPONENT_ADD_PORT_STATUS_OK) {
		report_destroy(r);
		return (bt_component_class_initialize_method_status)ps;
	}
	if (params_parse(r, params) || prepare_files(r) ||
	    (r->live_title && output_live_page(r))) {
		report_destroy(r);
		return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_ERROR;
	}
	r->next_snapshot = ms_monotonic_ns() + r->snapshot_ns;
	bt_self_component_set_data(r->self_comp, r);
	return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_OK;
}

bt_component_class_sink_graph_is_configured_method_status report_graph_is_configured(
	bt_self_component_sink *self)
{
	struct report *r = bt_self_component_get_data(bt_self_component_sink_as_self_component(self));
	bt_self_component_port_input *port =
		bt_self_component_sink_borrow_input_port_by_name(self, in_port_name);
	bt_message_iterator_create_from_sink_component_status st;

	if (!bt_port_is_connected(bt_port_input_as_port_const(
		    bt_self_component_port_input_as_port_input(port)))) {
		report_error(r, "the input port is not connected");
		return BT_COMPONENT_CLASS_SINK_GRAPH_IS_CONFIGURED_METHOD_STATUS_ERROR;
	}
	st = bt_message_iterator_create_from_sink_component(self, port, &r->iter);
	if (st != BT_MESSAGE_ITERATOR_CREATE_FROM_SINK_COMPONENT_STATUS_OK)
		return (bt_component_class_sink_graph_is_configured_method_status)st;
	return BT_COMPONENT_CLASS_SINK_GRAPH_IS_CONFIGURED_METHOD_STATUS_OK;
}

/* The stream has ended: finish the aggregation and write the report. */
static bt_component_class_sink_consume_method_status at_end(struct report *r)
{
	if (events_end(r))
		goto error;
	if (r->magslab_events == 0) {
		const char *other = NULL;
		uint32_t i;

		for (i = 0; i < r->nr_ecs && !other; i++)
			other = r->ecs[i]->name;
		report_error(r, "no magslab events in this trace (was magslab:* enabled?): "
			     "%" PRIu64 " other events%s%s", r->events, other ? ", e.g. " : "",
			     other ? other : "");
		goto error;
	}
	if (output_write(r))
		goto error;
	r->written = true;
	return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_END;

error:
	r->failed = true;
	return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_ERROR;
}

/* One message to the part of the sink it is for; every message is released. */
static int dispatch(struct report *r, bt_message_array_const msgs, uint64_t count)
{
	uint64_t i;
	int rc = 0;

	for (i = 0; i < count; i++) {
		const bt_message *m = msgs[i];

		if (rc == 0) {
			switch (bt_message_get_type(m)) {
			case BT_MESSAGE_TYPE_EVENT:
				rc = events_handle(r, m);
				break;
			case BT_MESSAGE_TYPE_STREAM_BEGINNING:
				rc = classes_stream_beginning(r, m);
				break;
			case BT_MESSAGE_TYPE_DISCARDED_EVENTS:
				rc = events_discarded(r, m, false);
				break;
			case BT_MESSAGE_TYPE_DISCARDED_PACKETS:
				rc = events_discarded(r, m, true);
				break;
			default:
				break;
			}
		}
		bt_message_put_ref(m);
	}
	return rc;
}

static bt_component_class_sink_consume_method_status fail_consume(struct report *r)
{
	r->failed = true;
	return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_ERROR;
}

bt_component_class_sink_consume_method_status report_consume(bt_self_component_sink *self)
{
	struct report *r = bt_self_component_get_data(bt_self_component_sink_as_self_component(self));
	bt_message_array_const msgs;
	uint64_t count;
	bt_message_iterator_next_status st;

	if (r->failed)
		return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_ERROR;
	st = bt_message_iterator_next(r->iter, &msgs, &count);
	switch (st) {
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_OK:
		break;
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_AGAIN:
		/* a live source with nothing new: time still passes */
		if (maybe_snapshot(r))
			return fail_consume(r);
		return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_AGAIN;
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_END:
		return at_end(r);
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_MEMORY_ERROR:
		r->failed = true;
		return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_MEMORY_ERROR;
	default:
		report_error(r, "cannot read the trace (after %" PRIu64 " events): "
			     "the upstream component failed", r->events);
		return fail_consume(r);
	}
	if (dispatch(r, msgs, count) || maybe_snapshot(r))
		return fail_consume(r);
	return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_OK;
}

void report_finalize(bt_self_component_sink *self)
{
	report_destroy(bt_self_component_get_data(bt_self_component_sink_as_self_component(self)));
}
