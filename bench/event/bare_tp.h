/*
 * bench/event/bare_tp.h — a bare LTTng-UST provider for bench/event/event_cost.c: msbench:exchange has
 * the payload of magslab:depot_exchange (tracepoints/magslab_tp.h), field for field the
 * same C types and sizes (60 bytes: 5 x 32-bit, 5 x 64-bit), all plain integers (no
 * enumeration), so that the two differ only in being magslab's or not.  Probes and
 * callsites: bench/event/bare_tp.c.
 */
#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER msbench

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "bare_tp.h"

#if !defined(MSBENCH_BARE_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define MSBENCH_BARE_TP_H

#include <stdint.h>
#include <lttng/tracepoint.h>

LTTNG_UST_TRACEPOINT_EVENT(msbench, exchange,
	LTTNG_UST_TP_ARGS(
		uint32_t, cache,
		uint32_t, cpu,
		int, side,
		uint32_t, rounds_got,
		uint32_t, rounds_put,
		uint64_t, nr_not_empty,
		uint64_t, nr_empty,
		uint64_t, allocs,
		uint64_t, frees,
		uint64_t, hits
	),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint32_t, cache, cache)
		lttng_ust_field_integer(uint32_t, cpu, cpu)
		lttng_ust_field_integer(int, side, side)
		lttng_ust_field_integer(uint32_t, rounds_got, rounds_got)
		lttng_ust_field_integer(uint32_t, rounds_put, rounds_put)
		lttng_ust_field_integer(uint64_t, nr_not_empty, nr_not_empty)
		lttng_ust_field_integer(uint64_t, nr_empty, nr_empty)
		lttng_ust_field_integer(uint64_t, allocs, allocs)
		lttng_ust_field_integer(uint64_t, frees, frees)
		lttng_ust_field_integer(uint64_t, hits, hits)
	)
)
LTTNG_UST_TRACEPOINT_LOGLEVEL(msbench, exchange, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)

#endif /* MSBENCH_BARE_TP_H */

#include <lttng/tracepoint-event.h>
