/*
 * tracelib/graph_impl.h — what the files of the trace-reading library share behind graph.h:
 * the progress filter (progress.c, used by graph.c) and the parameters of a source
 * component (graph.c; hostname.c uses them too).  Internal to
 * tracelib/; nothing here is for the programs that link it.
 */
#ifndef MAGSLAB_TRACELIB_GRAPH_IMPL_H
#define MAGSLAB_TRACELIB_GRAPH_IMPL_H

#include "graph.h"

/* What the progress filter counts, read by the graph's progress line. */
struct mg_progress {
	uint64_t events;
	int64_t last_ns; /* ns from origin of the latest event with a clock snapshot */
	bool have_ns;
};

/*
 * The progress filter's component class (a class of this library, not of a plugin: it is
 * added with bt_graph_add_filter_component_with_initialize_method_data() and a struct
 * mg_progress as the data).  Made once and kept; NULL on memory error.
 */
bt_component_class_filter *mg_progress_class(void);

/*
 * The parameters of s's source component: `inputs` (its directories, or its URL), and
 * `trace-name` or `session-not-found-action` as graph.h says.  A new value, or NULL on
 * memory error.
 */
bt_value *mg_source_params(const struct mg_source *s);

#endif /* MAGSLAB_TRACELIB_GRAPH_IMPL_H */
