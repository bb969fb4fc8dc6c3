/*
 * magslab_tp.c — the tracepoint provider object: the probes and event
 * descriptions of tracepoints/magslab_tp.h, and (LTTNG_UST_TRACEPOINT_DEFINE)
 * the tracepoint definitions and the constructors that register them with
 * liblttng-ust.  Compiled into libmagslab when make's TRACE is 1 or full;
 * see the comment at the top of magslab_tp.h for why it lives there.
 *
 * Exactly one translation unit of the library defines these two macros;
 * every other one only includes the header (through lib/src/trace.h).
 */
#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#define LTTNG_UST_TRACEPOINT_DEFINE
#include "magslab_tp.h"
