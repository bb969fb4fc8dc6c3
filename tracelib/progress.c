/*
 * tracelib/progress.c — the progress filter of every graph (graph.h): passes every message
 * through unchanged, counts the events and notes the time of the latest one, for the
 * progress line; and ticks the stall watchdog.  A component class of this library, not of
 * a plugin.  State: the struct mg_progress given at initialization (the graph's), written
 * only from the graph's thread.
 */
#include "graph_impl.h"
#include "tl_util.h"
#include "watchdog.h"

#include <stdlib.h>

struct progress_iter {
	bt_message_iterator *up;
	struct mg_progress *st;
	/* messages received from upstream and not passed on yet (more than our capacity) */
	bt_message_array_const pend;
	uint64_t npend, ipend;
};

static bt_component_class_initialize_method_status
progress_init(bt_self_component_filter *self, bt_self_component_filter_configuration *config,
	      const bt_value *params, void *data)
{
	(void)config;
	(void)params;
	bt_self_component_set_data(bt_self_component_filter_as_self_component(self), data);
	if (bt_self_component_filter_add_input_port(self, "in", NULL, NULL) !=
		    BT_SELF_COMPONENT_ADD_PORT_STATUS_OK ||
	    bt_self_component_filter_add_output_port(self, "out", NULL, NULL) !=
		    BT_SELF_COMPONENT_ADD_PORT_STATUS_OK)
		return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_MEMORY_ERROR;
	return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_OK;
}

static bt_message_iterator_class_initialize_method_status
progress_iter_init(bt_self_message_iterator *self, bt_self_message_iterator_configuration *config,
		   bt_self_component_port_output *port)
{
	bt_self_component *comp = bt_self_message_iterator_borrow_component(self);
	bt_self_component_filter *filt = (bt_self_component_filter *)comp;
	struct progress_iter *it = calloc(1, sizeof(*it));
	bt_message_iterator_create_from_message_iterator_status st;

	(void)config;
	(void)port;
	if (!it)
		return BT_MESSAGE_ITERATOR_CLASS_INITIALIZE_METHOD_STATUS_MEMORY_ERROR;
	it->st = bt_self_component_get_data(comp);
	st = bt_message_iterator_create_from_message_iterator(
		self, bt_self_component_filter_borrow_input_port_by_name(filt, "in"), &it->up);
	if (st != BT_MESSAGE_ITERATOR_CREATE_FROM_MESSAGE_ITERATOR_STATUS_OK) {
		free(it);
		return (bt_message_iterator_class_initialize_method_status)st;
	}
	bt_self_message_iterator_set_data(self, it);
	return BT_MESSAGE_ITERATOR_CLASS_INITIALIZE_METHOD_STATUS_OK;
}

static void progress_iter_fini(bt_self_message_iterator *self)
{
	struct progress_iter *it = bt_self_message_iterator_get_data(self);

	if (!it)
		return;
	for (; it->ipend < it->npend; it->ipend++)
		bt_message_put_ref(it->pend[it->ipend]);
	free(it->pend);
	bt_message_iterator_put_ref(it->up);
	free(it);
}

static void progress_note(struct mg_progress *st, const bt_message *m)
{
	const bt_clock_snapshot *cs;
	int64_t ns;

	if (bt_message_get_type(m) != BT_MESSAGE_TYPE_EVENT)
		return;
	st->events++;
	if (!bt_message_event_borrow_stream_class_default_clock_class_const(m))
		return;
	cs = bt_message_event_borrow_default_clock_snapshot_const(m);
	if (bt_clock_snapshot_get_ns_from_origin(cs, &ns) ==
	    BT_CLOCK_SNAPSHOT_GET_NS_FROM_ORIGIN_STATUS_OK) {
		st->last_ns = ns;
		st->have_ns = true;
	}
}

static bt_message_iterator_class_next_method_status
progress_iter_next(bt_self_message_iterator *self, bt_message_array_const msgs, uint64_t capacity,
		   uint64_t *count)
{
	struct progress_iter *it = bt_self_message_iterator_get_data(self);
	bt_message_array_const up;
	uint64_t n = 0, i;
	bt_message_iterator_next_status st;

	wd_tick();
	if (it->ipend == it->npend) {
		st = bt_message_iterator_next(it->up, &up, &n);
		if (st != BT_MESSAGE_ITERATOR_NEXT_STATUS_OK)
			return (bt_message_iterator_class_next_method_status)st;
		if (n > capacity) {
			/* Keep what does not fit (does not happen with babeltrace2 2.0). */
			it->pend = tl_xrealloc(it->pend, (n - capacity) * sizeof(*it->pend));
			for (i = capacity; i < n; i++)
				it->pend[i - capacity] = up[i];
			it->npend = n - capacity;
			it->ipend = 0;
			n = capacity;
		}
		for (i = 0; i < n; i++) {
			progress_note(it->st, up[i]);
			msgs[i] = up[i];
		}
		*count = n;
		return BT_MESSAGE_ITERATOR_CLASS_NEXT_METHOD_STATUS_OK;
	}
	for (n = 0; n < capacity && it->ipend < it->npend; n++) {
		msgs[n] = it->pend[it->ipend++];
		progress_note(it->st, msgs[n]);
	}
	*count = n;
	return BT_MESSAGE_ITERATOR_CLASS_NEXT_METHOD_STATUS_OK;
}

/* The class, made once (NULL on memory error). */
bt_component_class_filter *mg_progress_class(void)
{
	static bt_component_class_filter *cls;
	bt_message_iterator_class *ic;

	if (cls)
		return cls;
	ic = bt_message_iterator_class_create(progress_iter_next);
	if (!ic)
		return NULL;
	if (bt_message_iterator_class_set_initialize_method(ic, progress_iter_init) !=
		    BT_MESSAGE_ITERATOR_CLASS_SET_METHOD_STATUS_OK ||
	    bt_message_iterator_class_set_finalize_method(ic, progress_iter_fini) !=
		    BT_MESSAGE_ITERATOR_CLASS_SET_METHOD_STATUS_OK) {
		bt_message_iterator_class_put_ref(ic);
		return NULL;
	}
	cls = bt_component_class_filter_create("progress", ic);
	bt_message_iterator_class_put_ref(ic);
	if (cls && bt_component_class_filter_set_initialize_method(cls, progress_init) !=
			   BT_COMPONENT_CLASS_SET_METHOD_STATUS_OK) {
		bt_component_class_filter_put_ref(cls);
		cls = NULL;
	}
	return cls;
}

