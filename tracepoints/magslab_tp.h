/*
 * magslab_tp.h — the LTTng-UST (2.13 API) tracepoint provider `magslab`.
 *
 * docs/events.md is the contract: every event there is defined here with the
 * same fields, in the same order, with the same types and enum values.  The
 * arguments of each tracepoint are its fields in that order (lib/src/trace.h:
 * ms_trace(event, fields...)).  Argument C types: u32 -> uint32_t,
 * u64 -> uint64_t, u8 (bool) -> uint8_t, enum -> int, string -> const char *.
 *
 * How the provider is linked
 * --------------------------
 * The provider (tracepoints/magslab_tp.c: LTTNG_UST_TRACEPOINT_CREATE_PROBES +
 * LTTNG_UST_TRACEPOINT_DEFINE) is compiled into libmagslab itself, both
 * libmagslab.so and libmagslab.a, and libmagslab.so is linked with
 * -llttng-ust -ldl (NEEDED liblttng-ust.so.1).  Why:
 *   - users link one library (-lmagslab) and get traceable code, nothing else
 *     to build, install or name on a command line;
 *   - the provider's constructor registers the probes and the event
 *     descriptions with liblttng-ust when libmagslab is loaded, so every
 *     program using it can be traced with `lttng enable-event -u 'magslab:*'`
 *     without LD_PRELOAD or any change to the program;
 *   - the cost when no session records an event is one load and one
 *     predicted-not-taken branch per tracepoint (measured ~0.3 ns, the same
 *     as compiled out), so the slow-path events stay compiled in by default.
 *     The per-object events alloc/free are only in a `make TRACE=full` build,
 *     since even that load and branch is too much on the fastest path.
 * A static user (pkg-config --static --libs magslab) gets -llttng-ust -ldl
 * from Libs.private of magslab.pc; a `make TRACE=0` build has no provider and
 * no LTTng dependency at all.
 *
 * Rejected alternative: the provider in its own libmagslab-tp.so, with the
 * library built with LTTNG_UST_TRACEPOINT_PROBE_DYNAMIC_LINKAGE and the
 * provider dlopen'ed at start-up (or LD_PRELOAD'ed by the user).  It would
 * let libmagslab run without liblttng-ust installed, but: a second library to
 * build, install and find at run time; a dlopen whose failure is silent (the
 * events simply never show up, the worst failure mode for a research tool);
 * load-order and dlclose pitfalls of providers loaded after their call sites;
 * and it does not remove the dependency from anything that wants to trace.
 * Who needs a library without LTTng builds with TRACE=0 instead.
 *
 * Log levels: every event is LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO except alloc
 * and free (LTTNG_UST_TRACEPOINT_LOGLEVEL_DEBUG_LINE, MAGSLAB_TRACE_FULL only).
 * With no --loglevel, `lttng enable-event -u 'magslab:*'` records every level,
 * alloc and free included (in a TRACE=full build); --loglevel=TRACE_INFO
 * leaves them out.
 */
/*
 * Every call site, the tracepoint definitions and the provider are in the
 * same module (libmagslab.so, or the program libmagslab.a is linked into),
 * so none of the lttng_ust_tracepoint_magslab___* / provider symbols need to
 * be exported: keep them out of libmagslab.so's dynamic symbol table (its
 * ABI) and from interposing with another copy of the library.  Must come
 * before the first include of <lttng/tracepoint.h> in a translation unit,
 * which is why this header is the only way library code reaches it.
 */
#ifndef LTTNG_UST_TRACEPOINT_HIDDEN_DEFINITION
#define LTTNG_UST_TRACEPOINT_HIDDEN_DEFINITION
#endif
#ifndef LTTNG_UST_TRACEPOINT_PROVIDER_HIDDEN_DEFINITION
#define LTTNG_UST_TRACEPOINT_PROVIDER_HIDDEN_DEFINITION
#endif

#undef LTTNG_UST_TRACEPOINT_PROVIDER
#define LTTNG_UST_TRACEPOINT_PROVIDER magslab

#undef LTTNG_UST_TRACEPOINT_INCLUDE
#define LTTNG_UST_TRACEPOINT_INCLUDE "magslab_tp.h"

#if !defined(MAGSLAB_TP_H) || defined(LTTNG_UST_TRACEPOINT_HEADER_MULTI_READ)
#define MAGSLAB_TP_H

#include <stdint.h>
#include <lttng/tracepoint.h>

#ifndef MAGSLAB_TRACE_FULL
#define MAGSLAB_TRACE_FULL 0
#endif

/* The arguments of cache_create, in field order (see the shim below). */
#ifndef MAGSLAB_TP_CACHE_CREATE_STRUCT
#define MAGSLAB_TP_CACHE_CREATE_STRUCT
struct magslab_tp_cache_create {
	uint32_t cache;
	const char *name;
	uint64_t obj_size;
	uint64_t align;
	uint32_t flags;
	uint8_t uses_bufctl;
	uint32_t nr_pcc;
	uint32_t magsize;
	int policy;
	uint64_t threshold;
	uint64_t timeout_ns;
	uint32_t source;
	int pcc_mode;
};
#endif

/* ---- enumerations (docs/events.md "Enumerations") ---- */

LTTNG_UST_TRACEPOINT_ENUM(magslab, side,
	LTTNG_UST_TP_ENUM_VALUES(
		lttng_ust_field_enum_value("alloc", 0)
		lttng_ust_field_enum_value("free", 1)
	)
)

LTTNG_UST_TRACEPOINT_ENUM(magslab, outcome,
	LTTNG_UST_TP_ENUM_VALUES(
		lttng_ust_field_enum_value("to_slab", 0)
		lttng_ust_field_enum_value("new_magazine", 1)
		lttng_ust_field_enum_value("no_magazine", 2)
	)
)

LTTNG_UST_TRACEPOINT_ENUM(magslab, reason,
	LTTNG_UST_TP_ENUM_VALUES(
		lttng_ust_field_enum_value("threshold", 0)
		lttng_ust_field_enum_value("interval", 1)
		lttng_ust_field_enum_value("contended", 2)
		lttng_ust_field_enum_value("shrink", 3)
		lttng_ust_field_enum_value("reap", 4)
		lttng_ust_field_enum_value("user", 5)
	)
)

LTTNG_UST_TRACEPOINT_ENUM(magslab, policy,
	LTTNG_UST_TP_ENUM_VALUES(
		lttng_ust_field_enum_value("akaros", 0)
		lttng_ust_field_enum_value("illumos", 1)
		lttng_ust_field_enum_value("uma", 2)
		lttng_ust_field_enum_value("adaptive", 3)
	)
)

LTTNG_UST_TRACEPOINT_ENUM(magslab, hash_kind,
	LTTNG_UST_TP_ENUM_VALUES(
		lttng_ust_field_enum_value("cache", 0)
		lttng_ust_field_enum_value("arena", 1)
	)
)

LTTNG_UST_TRACEPOINT_ENUM(magslab, pcc_mode,
	LTTNG_UST_TP_ENUM_VALUES(
		lttng_ust_field_enum_value("locked", 0)
		lttng_ust_field_enum_value("rseq", 1)
		lttng_ust_field_enum_value("none", 2)
	)
)

LTTNG_UST_TRACEPOINT_ENUM(magslab, layer,
	LTTNG_UST_TP_ENUM_VALUES(
		lttng_ust_field_enum_value("pcc", 0)
		lttng_ust_field_enum_value("depot", 1)
		lttng_ust_field_enum_value("slab", 2)
	)
)

LTTNG_UST_TRACEPOINT_ENUM(magslab, release_how,
	LTTNG_UST_TP_ENUM_VALUES(
		lttng_ust_field_enum_value("span", 0)
		lttng_ust_field_enum_value("pages", 1)
	)
)

/* ---- caches ---- */

/*
 * cache_create has 13 fields, and an LTTng-UST tracepoint takes at most 10
 * arguments (LTTNG_UST_TP_ARGS: "up to 10 tuples").  So the tracepoint itself
 * takes one pointer to a struct holding the 13 values, and the shim after it
 * keeps the call as docs/events.md and lib/src/trace.h have it,
 *     ms_trace(cache_create, cache, name, obj_size, ..., source);
 * by packing the 13 arguments into a compound literal (converted as function
 * arguments would be) only once the tracepoint is known to be enabled.
 */
LTTNG_UST_TRACEPOINT_EVENT(magslab, cache_create,
	LTTNG_UST_TP_ARGS(
		const struct magslab_tp_cache_create *, a
	),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint32_t, cache, a->cache)
		lttng_ust_field_string(name, a->name)
		lttng_ust_field_integer(uint64_t, obj_size, a->obj_size)
		lttng_ust_field_integer(uint64_t, align, a->align)
		lttng_ust_field_integer_hex(uint32_t, flags, a->flags)
		lttng_ust_field_integer(uint8_t, uses_bufctl, a->uses_bufctl)
		lttng_ust_field_integer(uint32_t, nr_pcc, a->nr_pcc)
		lttng_ust_field_integer(uint32_t, magsize, a->magsize)
		lttng_ust_field_enum(magslab, policy, int, policy, a->policy)
		lttng_ust_field_integer(uint64_t, threshold, a->threshold)
		lttng_ust_field_integer(uint64_t, timeout_ns, a->timeout_ns)
		lttng_ust_field_integer(uint32_t, source, a->source)
		lttng_ust_field_enum(magslab, pcc_mode, int, pcc_mode, a->pcc_mode)
	)
)
LTTNG_UST_TRACEPOINT_LOGLEVEL(magslab, cache_create, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)

/*
 * The shim: lttng_ust_tracepoint(magslab, cache_create, ...) calls
 * lttng_ust_tracepoint_cb_magslab___cache_create(...) (the 2.13 API's
 * lttng_ust_do_tracepoint()); this function-like macro, defined after that
 * function, takes the 13 arguments in field order.  Not needed (and not
 * defined) in the probe translation unit, which calls no tracepoint.
 */
#if !defined(MAGSLAB_TP_CACHE_CREATE_SHIM) && !defined(LTTNG_UST_TRACEPOINT_CREATE_PROBES)
#define MAGSLAB_TP_CACHE_CREATE_SHIM
#define lttng_ust_tracepoint_cb_magslab___cache_create(cache_, name_, obj_size_, \
		align_, flags_, uses_bufctl_, nr_pcc_, magsize_, policy_,        \
		threshold_, timeout_ns_, source_, pcc_mode_)                     \
	lttng_ust_tracepoint_cb_magslab___cache_create(                          \
		&(const struct magslab_tp_cache_create){                         \
			.cache = (cache_), .name = (name_),                      \
			.obj_size = (obj_size_), .align = (align_),              \
			.flags = (flags_), .uses_bufctl = (uses_bufctl_),        \
			.nr_pcc = (nr_pcc_), .magsize = (magsize_),              \
			.policy = (policy_), .threshold = (threshold_),          \
			.timeout_ns = (timeout_ns_), .source = (source_),        \
			.pcc_mode = (pcc_mode_) })
#endif

LTTNG_UST_TRACEPOINT_EVENT(magslab, cache_destroy,
	LTTNG_UST_TP_ARGS(
		uint32_t, cache,
		const char *, name
	),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint32_t, cache, cache)
		lttng_ust_field_string(name, name)
	)
)
LTTNG_UST_TRACEPOINT_LOGLEVEL(magslab, cache_destroy, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)

/* ---- magazine layer ---- */

LTTNG_UST_TRACEPOINT_EVENT(magslab, mag_swap,
	LTTNG_UST_TP_ARGS(
		uint32_t, cache,
		uint32_t, cpu,
		int, side,
		uint32_t, loaded_rounds,
		uint32_t, prev_rounds
	),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint32_t, cache, cache)
		lttng_ust_field_integer(uint32_t, cpu, cpu)
		lttng_ust_field_enum(magslab, side, int, side, side)
		lttng_ust_field_integer(uint32_t, loaded_rounds, loaded_rounds)
		lttng_ust_field_integer(uint32_t, prev_rounds, prev_rounds)
	)
)
LTTNG_UST_TRACEPOINT_LOGLEVEL(magslab, mag_swap, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)

/*
 * depot_exchange: a pcc traded a magazine with the depot (what depot_get + depot_put said
 * before, in one event): the magazine it took (rounds_got) and the one it gave
 * (rounds_put), the depot's lists after, and the pcc's cumulative counters at the
 * exchange (exact: the pcc is held), from which the report computes exact layer shares.
 * Ten arguments, LTTNG_UST_TP_ARGS's limit.
 */
LTTNG_UST_TRACEPOINT_EVENT(magslab, depot_exchange,
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
		lttng_ust_field_enum(magslab, side, int, side, side)
		lttng_ust_field_integer(uint32_t, rounds_got, rounds_got)
		lttng_ust_field_integer(uint32_t, rounds_put, rounds_put)
		lttng_ust_field_integer(uint64_t, nr_not_empty, nr_not_empty)
		lttng_ust_field_integer(uint64_t, nr_empty, nr_empty)
		lttng_ust_field_integer(uint64_t, allocs, allocs)
		lttng_ust_field_integer(uint64_t, frees, frees)
		lttng_ust_field_integer(uint64_t, hits, hits)
	)
)
LTTNG_UST_TRACEPOINT_LOGLEVEL(magslab, depot_exchange, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)

/* depot_miss: the pcc's cumulative counters too, as depot_exchange. */
LTTNG_UST_TRACEPOINT_EVENT(magslab, depot_miss,
	LTTNG_UST_TP_ARGS(
		uint32_t, cache,
		uint32_t, cpu,
		int, side,
		int, outcome,
		uint64_t, allocs,
		uint64_t, frees,
		uint64_t, hits
	),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint32_t, cache, cache)
		lttng_ust_field_integer(uint32_t, cpu, cpu)
		lttng_ust_field_enum(magslab, side, int, side, side)
		lttng_ust_field_enum(magslab, outcome, int, outcome, outcome)
		lttng_ust_field_integer(uint64_t, allocs, allocs)
		lttng_ust_field_integer(uint64_t, frees, frees)
		lttng_ust_field_integer(uint64_t, hits, hits)
	)
)
LTTNG_UST_TRACEPOINT_LOGLEVEL(magslab, depot_miss, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)

LTTNG_UST_TRACEPOINT_EVENT(magslab, depot_contention,
	LTTNG_UST_TP_ARGS(
		uint32_t, cache,
		uint32_t, cpu,
		uint64_t, wait_ns,
		uint64_t, busy_count,
		uint8_t, counted,
		uint64_t, window_ns
	),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint32_t, cache, cache)
		lttng_ust_field_integer(uint32_t, cpu, cpu)
		lttng_ust_field_integer(uint64_t, wait_ns, wait_ns)
		lttng_ust_field_integer(uint64_t, busy_count, busy_count)
		lttng_ust_field_integer(uint8_t, counted, counted)
		lttng_ust_field_integer(uint64_t, window_ns, window_ns)
	)
)
LTTNG_UST_TRACEPOINT_LOGLEVEL(magslab, depot_contention, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)

LTTNG_UST_TRACEPOINT_EVENT(magslab, magsize_bump,
	LTTNG_UST_TP_ARGS(
		uint32_t, cache,
		uint32_t, old_size,
		uint32_t, new_size,
		int, reason,
		uint64_t, busy_count,
		uint64_t, window_ns
	),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint32_t, cache, cache)
		lttng_ust_field_integer(uint32_t, old, old_size)
		lttng_ust_field_integer(uint32_t, new, new_size)
		lttng_ust_field_enum(magslab, reason, int, reason, reason)
		lttng_ust_field_integer(uint64_t, busy_count, busy_count)
		lttng_ust_field_integer(uint64_t, window_ns, window_ns)
	)
)
LTTNG_UST_TRACEPOINT_LOGLEVEL(magslab, magsize_bump, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)

LTTNG_UST_TRACEPOINT_EVENT(magslab, pcc_magsize,
	LTTNG_UST_TP_ARGS(
		uint32_t, cache,
		uint32_t, cpu,
		uint32_t, old_size,
		uint32_t, new_size
	),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint32_t, cache, cache)
		lttng_ust_field_integer(uint32_t, cpu, cpu)
		lttng_ust_field_integer(uint32_t, old, old_size)
		lttng_ust_field_integer(uint32_t, new, new_size)
	)
)
LTTNG_UST_TRACEPOINT_LOGLEVEL(magslab, pcc_magsize, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)

LTTNG_UST_TRACEPOINT_EVENT(magslab, hash_resize,
	LTTNG_UST_TP_ARGS(
		uint32_t, id,
		int, kind,
		uint64_t, old_lists,
		uint64_t, new_lists,
		uint64_t, items,
		uint64_t, duration_ns,
		uint8_t, ok
	),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint32_t, id, id)
		lttng_ust_field_enum(magslab, hash_kind, int, kind, kind)
		lttng_ust_field_integer(uint64_t, old_lists, old_lists)
		lttng_ust_field_integer(uint64_t, new_lists, new_lists)
		lttng_ust_field_integer(uint64_t, items, items)
		lttng_ust_field_integer(uint64_t, duration_ns, duration_ns)
		lttng_ust_field_integer(uint8_t, ok, ok)
	)
)
LTTNG_UST_TRACEPOINT_LOGLEVEL(magslab, hash_resize, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)

/* ---- slab layer ---- */

/* slab_grow and slab_release: a slab made or given back to its source. */
LTTNG_UST_TRACEPOINT_EVENT_CLASS(magslab, slab_span_class,
	LTTNG_UST_TP_ARGS(
		uint32_t, cache,
		uint64_t, bytes,
		uint32_t, objects
	),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint32_t, cache, cache)
		lttng_ust_field_integer(uint64_t, bytes, bytes)
		lttng_ust_field_integer(uint32_t, objects, objects)
	)
)

LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(magslab, slab_span_class, magslab, slab_grow,
	LTTNG_UST_TP_ARGS(
		uint32_t, cache,
		uint64_t, bytes,
		uint32_t, objects
	)
)
LTTNG_UST_TRACEPOINT_LOGLEVEL(magslab, slab_grow, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)

LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(magslab, slab_span_class, magslab, slab_release,
	LTTNG_UST_TP_ARGS(
		uint32_t, cache,
		uint64_t, bytes,
		uint32_t, objects
	)
)
LTTNG_UST_TRACEPOINT_LOGLEVEL(magslab, slab_release, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)

LTTNG_UST_TRACEPOINT_EVENT(magslab, reap,
	LTTNG_UST_TP_ARGS(
		uint32_t, cache,
		uint64_t, slabs,
		uint64_t, magazines,
		uint64_t, bytes
	),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint32_t, cache, cache)
		lttng_ust_field_integer(uint64_t, slabs, slabs)
		lttng_ust_field_integer(uint64_t, magazines, magazines)
		lttng_ust_field_integer(uint64_t, bytes, bytes)
	)
)
LTTNG_UST_TRACEPOINT_LOGLEVEL(magslab, reap, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)

/* pcc_counters: a pcc's cumulative counters when its cache drains it (kmem_cache_destroy):
 * the hits after its last depot_exchange or depot_miss. */
LTTNG_UST_TRACEPOINT_EVENT(magslab, pcc_counters,
	LTTNG_UST_TP_ARGS(
		uint32_t, cache,
		uint32_t, cpu,
		uint64_t, allocs,
		uint64_t, frees,
		uint64_t, hits
	),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint32_t, cache, cache)
		lttng_ust_field_integer(uint32_t, cpu, cpu)
		lttng_ust_field_integer(uint64_t, allocs, allocs)
		lttng_ust_field_integer(uint64_t, frees, frees)
		lttng_ust_field_integer(uint64_t, hits, hits)
	)
)
LTTNG_UST_TRACEPOINT_LOGLEVEL(magslab, pcc_counters, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)

LTTNG_UST_TRACEPOINT_EVENT(magslab, pcc_contention,
	LTTNG_UST_TP_ARGS(
		uint32_t, cache,
		uint32_t, cpu,
		uint64_t, wait_ns
	),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint32_t, cache, cache)
		lttng_ust_field_integer(uint32_t, cpu, cpu)
		lttng_ust_field_integer(uint64_t, wait_ns, wait_ns)
	)
)
LTTNG_UST_TRACEPOINT_LOGLEVEL(magslab, pcc_contention, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)

/* ---- arenas ---- */

LTTNG_UST_TRACEPOINT_EVENT(magslab, arena_create,
	LTTNG_UST_TP_ARGS(
		uint32_t, arena,
		const char *, name,
		uint64_t, quantum,
		uint64_t, qcache_max,
		uint32_t, source
	),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint32_t, arena, arena)
		lttng_ust_field_string(name, name)
		lttng_ust_field_integer(uint64_t, quantum, quantum)
		lttng_ust_field_integer(uint64_t, qcache_max, qcache_max)
		lttng_ust_field_integer(uint32_t, source, source)
	)
)
LTTNG_UST_TRACEPOINT_LOGLEVEL(magslab, arena_create, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)

LTTNG_UST_TRACEPOINT_EVENT(magslab, arena_destroy,
	LTTNG_UST_TP_ARGS(
		uint32_t, arena,
		const char *, name
	),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint32_t, arena, arena)
		lttng_ust_field_string(name, name)
	)
)
LTTNG_UST_TRACEPOINT_LOGLEVEL(magslab, arena_destroy, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)

/* arena_import: a span from an arena's source (base: mapped from the OS).
 * (A class of one: arena_release, which once shared it, has a field more.) */
LTTNG_UST_TRACEPOINT_EVENT_CLASS(magslab, arena_span_class,
	LTTNG_UST_TP_ARGS(
		uint32_t, arena,
		uint32_t, source,
		uint64_t, addr,
		uint64_t, size
	),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint32_t, arena, arena)
		lttng_ust_field_integer(uint32_t, source, source)
		lttng_ust_field_integer_hex(uint64_t, addr, addr)
		lttng_ust_field_integer(uint64_t, size, size)
	)
)

LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(magslab, arena_span_class, magslab, arena_import,
	LTTNG_UST_TP_ARGS(
		uint32_t, arena,
		uint32_t, source,
		uint64_t, addr,
		uint64_t, size
	)
)
LTTNG_UST_TRACEPOINT_LOGLEVEL(magslab, arena_import, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)

/* arena_release: memory given back -- a whole span to the source (base:
 * unmapped), or the pages of a free range inside a mapped base chunk. */
LTTNG_UST_TRACEPOINT_EVENT(magslab, arena_release,
	LTTNG_UST_TP_ARGS(
		uint32_t, arena,
		uint32_t, source,
		uint64_t, addr,
		uint64_t, size,
		int, how
	),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint32_t, arena, arena)
		lttng_ust_field_integer(uint32_t, source, source)
		lttng_ust_field_integer_hex(uint64_t, addr, addr)
		lttng_ust_field_integer(uint64_t, size, size)
		lttng_ust_field_enum(magslab, release_how, int, how, how)
	)
)
LTTNG_UST_TRACEPOINT_LOGLEVEL(magslab, arena_release, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)

LTTNG_UST_TRACEPOINT_EVENT(magslab, arena_fail,
	LTTNG_UST_TP_ARGS(
		uint32_t, arena,
		uint64_t, size,
		uint32_t, flags
	),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint32_t, arena, arena)
		lttng_ust_field_integer(uint64_t, size, size)
		lttng_ust_field_integer_hex(uint32_t, flags, flags)
	)
)
LTTNG_UST_TRACEPOINT_LOGLEVEL(magslab, arena_fail, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)

/* ---- workloads ---- */

LTTNG_UST_TRACEPOINT_EVENT(magslab, workload_phase,
	LTTNG_UST_TP_ARGS(
		const char *, name,
		uint32_t, phase_index
	),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_string(name, name)
		lttng_ust_field_integer(uint32_t, index, phase_index)
	)
)
LTTNG_UST_TRACEPOINT_LOGLEVEL(magslab, workload_phase, LTTNG_UST_TRACEPOINT_LOGLEVEL_INFO)

/* ---- per-object events: make TRACE=full only ---- */

#if MAGSLAB_TRACE_FULL
/* alloc and free: one object operation and the layer that served it. */
LTTNG_UST_TRACEPOINT_EVENT_CLASS(magslab, object_op_class,
	LTTNG_UST_TP_ARGS(
		uint32_t, cache,
		uint32_t, cpu,
		uint64_t, ptr,
		int, layer
	),
	LTTNG_UST_TP_FIELDS(
		lttng_ust_field_integer(uint32_t, cache, cache)
		lttng_ust_field_integer(uint32_t, cpu, cpu)
		lttng_ust_field_integer_hex(uint64_t, ptr, ptr)
		lttng_ust_field_enum(magslab, layer, int, layer, layer)
	)
)

LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(magslab, object_op_class, magslab, alloc,
	LTTNG_UST_TP_ARGS(
		uint32_t, cache,
		uint32_t, cpu,
		uint64_t, ptr,
		int, layer
	)
)
LTTNG_UST_TRACEPOINT_LOGLEVEL(magslab, alloc, LTTNG_UST_TRACEPOINT_LOGLEVEL_DEBUG_LINE)

LTTNG_UST_TRACEPOINT_EVENT_INSTANCE(magslab, object_op_class, magslab, free,
	LTTNG_UST_TP_ARGS(
		uint32_t, cache,
		uint32_t, cpu,
		uint64_t, ptr,
		int, layer
	)
)
LTTNG_UST_TRACEPOINT_LOGLEVEL(magslab, free, LTTNG_UST_TRACEPOINT_LOGLEVEL_DEBUG_LINE)
#endif /* MAGSLAB_TRACE_FULL */

#endif /* MAGSLAB_TP_H */

#include <lttng/tracepoint-event.h>
