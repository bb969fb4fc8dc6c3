/*
 * bench/event/bare_tp.c — the probes and callsites of bench/event/bare_tp.h (msbench:exchange), for
 * bench/event/event_cost.c.
 */
#define LTTNG_UST_TRACEPOINT_CREATE_PROBES
#define LTTNG_UST_TRACEPOINT_DEFINE
#include "bare_tp.h"
