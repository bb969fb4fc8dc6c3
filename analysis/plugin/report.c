/*
 * report.c — the sink.magslab.report component: parameters, the message
 * loop, errors.  Event handling is in events.c, the outputs in output.c.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "report.h"

bt_component_class_initialize_method_status report_init(
	bt_self_component_sink *self, bt_self_component_sink_configuration *config,
	const bt_value *params, void *init_data);
bt_component_class_sink_graph_is_configured_method_status report_graph_is_configured(
	bt_self_component_sink *self);
bt_component_class_sink_consume_method_status report_consume(bt_self_component_sink *self);
void report_finalize(bt_self_component_sink *self);

static const char in_port_name[] = "in";

char *ms_strdup(const char *s)
{
	char *d = strdup(s ? s : "");

	if (!d)
		abort();
	return d;
}

void *ms_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		abort();
	return q;
}

/* An error cause, as the babeltrace2 CLI (or the magslab front end) prints it. */
void report_error(struct report *r, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(r->self_comp, "%s", buf);
}

/* msg kept in list (the first 32 of *n) for summary.json, and logged as "LABEL: msg". */
static void keep(const struct report *r, char **list, uint32_t *n, const char *label,
		 const char *msg)
{
	if (*n < 32)
		list[(*n)++] = ms_strdup(msg);
	if (r->log_level <= BT_LOGGING_LEVEL_WARNING)
		fprintf(stderr, "sink.magslab.report: %s: %s\n", label, msg);
}

/* A warning kept for summary.json (the first 32) and logged. */
void report_warn(struct report *r, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	keep(r, r->warnings, &r->nr_warnings, "warning", buf);
}

/* A reason why the trace is damaged (sanity.c, parameter damage): kept, counted, logged. */
void report_damage(struct report *r, const char *msg)
{
	r->damage_total++;
	keep(r, r->damage, &r->nr_damage, "damaged trace", msg);
}

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

/* ---- parameters ---------------------------------------------------------- */

struct param_check {
	char bad[128];		/* the first unknown key */
};

/* No error may be appended here: an interrupted iteration must leave none. */
static bt_value_map_foreach_entry_const_func_status check_param(const char *key,
	const bt_value *value, void *data)
{
	struct param_check *pc = data;

	(void)value;
	if (strcmp(key, "output-dir") != 0 && strcmp(key, "bucket-ms") != 0 &&
	    strcmp(key, "title") != 0 && strcmp(key, "max-caches") != 0 &&
	    strcmp(key, "snapshot-ms") != 0 && strcmp(key, "damage") != 0) {
		snprintf(pc->bad, sizeof(pc->bad), "%s", key);
		return BT_VALUE_MAP_FOREACH_ENTRY_CONST_FUNC_STATUS_INTERRUPT;
	}
	return BT_VALUE_MAP_FOREACH_ENTRY_CONST_FUNC_STATUS_OK;
}

/* An integer parameter (signed or unsigned) in [lo, hi]; absent: *out unchanged. */
static int int_param(struct report *r, const bt_value *params, const char *key,
		     uint64_t lo, uint64_t hi, uint64_t *out)
{
	const bt_value *v = bt_value_map_borrow_entry_value_const(params, key);
	uint64_t x;

	if (!v)
		return 0;
	if (bt_value_is_unsigned_integer(v)) {
		x = bt_value_integer_unsigned_get(v);
	} else if (bt_value_is_signed_integer(v)) {
		int64_t s = bt_value_integer_signed_get(v);

		if (s < 0) {
			report_error(r, "parameter '%s' must be at least %" PRIu64 " (got %" PRId64 ")",
				     key, lo, s);
			return -1;
		}
		x = (uint64_t)s;
	} else {
		report_error(r, "parameter '%s' must be an integer", key);
		return -1;
	}
	if (x < lo || x > hi) {
		report_error(r, "parameter '%s' must be in [%" PRIu64 ", %" PRIu64 "] (got %" PRIu64 ")",
			     key, lo, hi, x);
		return -1;
	}
	*out = x;
	return 0;
}

/*
 * `damage`: an array of strings, what the front end found wrong with the trace's files
 * (streams shorter than their index...): each is a damage finding of the report.
 */
static int damage_param(struct report *r, const bt_value *params)
{
	const bt_value *v = bt_value_map_borrow_entry_value_const(params, "damage");
	uint64_t i, n;

	if (!v)
		return 0;
	if (!bt_value_is_array(v)) {
		report_error(r, "parameter 'damage' must be an array of strings");
		return -1;
	}
	n = bt_value_array_get_length(v);
	for (i = 0; i < n; i++) {
		const bt_value *e = bt_value_array_borrow_element_by_index_const(v, i);

		if (!bt_value_is_string(e)) {
			report_error(r, "parameter 'damage' must be an array of strings");
			return -1;
		}
		report_damage(r, bt_value_string_get(e));
	}
	return 0;
}

static int parse_params(struct report *r, const bt_value *params)
{
	struct param_check pc = { "" };
	const bt_value *v;
	uint64_t bucket_ms = 100, max_caches = 8, snapshot_ms = 0;

	if (params && bt_value_is_map(params)) {
		bt_value_map_foreach_entry_const(params, check_param, &pc);
		if (pc.bad[0]) {
			report_error(r, "unknown parameter '%s' (have: output-dir, bucket-ms, "
				     "max-caches, title, snapshot-ms, damage)", pc.bad);
			return -1;
		}
	}
	v = params ? bt_value_map_borrow_entry_value_const(params, "output-dir") : NULL;
	if (!v || !bt_value_is_string(v) || !*bt_value_string_get(v)) {
		report_error(r, "missing parameter: output-dir (a string: the report directory)");
		return -1;
	}
	r->out_dir = ms_strdup(bt_value_string_get(v));
	v = bt_value_map_borrow_entry_value_const(params, "title");
	if (v) {
		if (!bt_value_is_string(v)) {
			report_error(r, "parameter 'title' must be a string");
			return -1;
		}
		r->title = ms_strdup(bt_value_string_get(v));
	}
	if (int_param(r, params, "bucket-ms", 1, 3600000, &bucket_ms) ||
	    int_param(r, params, "max-caches", 1, 32, &max_caches) ||
	    int_param(r, params, "snapshot-ms", 0, 3600000, &snapshot_ms) ||
	    damage_param(r, params))
		return -1;
	r->bucket_ns = bucket_ms * 1000000u;
	r->max_caches = (uint32_t)max_caches;
	r->snapshot_ns = snapshot_ms * 1000000u;
	return 0;
}

/* ---- live snapshots ------------------------------------------------------ */

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
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
	now = monotonic_ns();
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
	bt_message_iterator_put_ref(r->iter);
	events_free(r);
	sanity_free(r);
	free(r->out_dir);
	free(r->title);
	free(r);
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
	if (parse_params(r, params))
		goto error;
	if (make_dirs(r->out_dir) != 0) {
		report_error(r, "cannot create the output directory %s: %s", r->out_dir,
			     strerror(errno));
		goto error;
	}
	if (access(r->out_dir, W_OK | X_OK) != 0) {
		report_error(r, "cannot write in the output directory %s: %s", r->out_dir,
			     strerror(errno));
		goto error;
	}
	r->rows_f = tmpfile();
	r->ev_f = tmpfile();
	r->phase_f = tmpfile();
	r->win_f = tmpfile();
	if (!r->rows_f || !r->ev_f || !r->phase_f || !r->win_f) {
		report_error(r, "cannot create a temporary file: %s", strerror(errno));
		goto error;
	}
	r->next_snapshot = monotonic_ns() + r->snapshot_ns;
	bt_self_component_set_data(r->self_comp, r);
	return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_OK;

error:
	report_destroy(r);
	return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_ERROR;
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

bt_component_class_sink_consume_method_status report_consume(bt_self_component_sink *self)
{
	struct report *r = bt_self_component_get_data(bt_self_component_sink_as_self_component(self));
	bt_message_array_const msgs;
	uint64_t count, i;
	bt_message_iterator_next_status st;
	int rc = 0;

	if (r->failed)
		return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_ERROR;
	st = bt_message_iterator_next(r->iter, &msgs, &count);
	switch (st) {
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_OK:
		break;
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_AGAIN:
		/* a live source with nothing new: time still passes */
		if (maybe_snapshot(r)) {
			r->failed = true;
			return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_ERROR;
		}
		return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_AGAIN;
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_END:
		return at_end(r);
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_MEMORY_ERROR:
		r->failed = true;
		return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_MEMORY_ERROR;
	default:
		r->failed = true;
		report_error(r, "cannot read the trace (after %" PRIu64 " events): "
			     "the upstream component failed", r->events);
		return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_ERROR;
	}
	for (i = 0; i < count; i++) {
		const bt_message *m = msgs[i];

		if (rc == 0) {
			switch (bt_message_get_type(m)) {
			case BT_MESSAGE_TYPE_EVENT:
				rc = events_handle(r, m);
				break;
			case BT_MESSAGE_TYPE_STREAM_BEGINNING:
				rc = events_stream_beginning(r, m);
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
	if (rc == 0)
		rc = maybe_snapshot(r);
	if (rc) {
		r->failed = true;
		return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_ERROR;
	}
	return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_OK;
}

void report_finalize(bt_self_component_sink *self)
{
	report_destroy(bt_self_component_get_data(bt_self_component_sink_as_self_component(self)));
}
