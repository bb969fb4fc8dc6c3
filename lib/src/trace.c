/*
 * trace.c — the public side of tracing: magslab_trace_phase().
 *
 * Owns nothing; no locks.  The tracepoint provider itself is compiled from
 * tracepoints/ (see trace.h for the build modes).
 */
#include <magslab/slab.h>

#include "trace.h"

void magslab_trace_phase(const char *name, unsigned int index)
{
	ms_trace(workload_phase, name ? name : "", index);
}
