/*
 * trace.h — how library code emits the magslab tracepoints.
 *
 * ms_trace(event, fields...) emits magslab:event with its fields in the
 * order docs/events.md lists them; ms_trace_enabled(event) says whether
 * anyone records it, for payloads that cost something to compute.
 *
 * Builds: MAGSLAB_TRACE=1 (make's default) compiles the provider into the
 * library (tracepoints/magslab_tp.h); MAGSLAB_TRACE=0 (make TRACE=0)
 * compiles every call away and the library does not need liblttng-ust;
 * MAGSLAB_TRACE_FULL=1 (make TRACE=full) adds the per-object alloc/free
 * events, kept out of the default build because even a disabled tracepoint
 * is a load and a branch on the fastest path there is.
 *
 * Owns nothing; no locks.  A tracepoint may be hit with any magslab lock
 * held: recording takes no lock of ours.
 */
#ifndef MAGSLAB_TRACE_H
#define MAGSLAB_TRACE_H

/* The Makefile always says which; compiled by hand, a file gets none. */
#ifndef MAGSLAB_TRACE
#define MAGSLAB_TRACE 0
#endif
#ifndef MAGSLAB_TRACE_FULL
#define MAGSLAB_TRACE_FULL 0
#endif

/* Values of the enums of docs/events.md. */
enum ms_trace_outcome { MS_OUTCOME_TO_SLAB = 0, MS_OUTCOME_NEW_MAGAZINE = 1,
			MS_OUTCOME_NO_MAGAZINE = 2 };
enum ms_trace_hash_kind { MS_HASH_CACHE = 0, MS_HASH_ARENA = 1 };
enum ms_trace_layer { MS_LAYER_PCC = 0, MS_LAYER_DEPOT = 1, MS_LAYER_SLAB = 2 };
enum ms_trace_release_how { MS_RELEASE_SPAN = 0, MS_RELEASE_PAGES = 1 };

#if MAGSLAB_TRACE
#include "magslab_tp.h"
#define ms_trace(event, ...) lttng_ust_tracepoint(magslab, event, __VA_ARGS__)
#define ms_trace_enabled(event) \
	__builtin_expect(lttng_ust_tracepoint_enabled(magslab, event), 0)
#else
/* Arguments are still evaluated as a call would, so a variable computed
 * only for an event is not "unused" in a TRACE=0 build. */
static inline void ms_trace_nop(int unused, ...)
{
	(void)unused;
}
#define ms_trace(event, ...) ms_trace_nop(0, __VA_ARGS__)
#define ms_trace_enabled(event) 0
#endif

#if MAGSLAB_TRACE && MAGSLAB_TRACE_FULL
#define ms_trace_full(event, ...) ms_trace(event, __VA_ARGS__)
#else
#define ms_trace_full(event, ...) do { } while (0)
#endif

#endif /* MAGSLAB_TRACE_H */
