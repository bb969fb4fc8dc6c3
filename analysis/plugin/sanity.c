/*
 * sanity.c — sink.magslab.report: values that cannot be, and what makes a trace damaged.
 *
 * A byte flipped in a stream file decodes as a different value, silently: babeltrace2 has
 * no checksum to catch it.  What the sink can catch is a value that no run of the library
 * can produce (docs/events.md, docs/report.md "Damaged traces"):
 *
 * per event (always):
 *   - an enumeration out of its range (side, outcome, reason, policy, hash kind, layer) or
 *     a bool that is neither 0 nor 1;
 *   - an empty magazine with rounds (what a depot_exchange takes on the free side and
 *     gives on the alloc side; an older trace's depot_get on the free side, depot_put on
 *     the alloc side) or a full one without (the other two);
 *   - a magazine event of a cache created without a magazine layer (nr_pcc 0), or on a
 *     CPU slot at or above the cache's nr_pcc;
 *   - a magsize of 0 or above MS_ROUNDS_ABSURD, depot occupancy above MS_MAGS_ABSURD;
 *   - a depot wait longer than the cache has existed (wait_ns > now - cache_create);
 *   - an arena whose quantum is 0 or above MS_QUANTUM_ABSURD, whose qcache_max is not a
 *     multiple of it or fronts more than MS_QCACHES_MAX sizes; a cache with obj_size 0.
 * at the end, only when nothing was discarded (a lost event could explain them):
 *   - a full magazine whose rounds are none of the magsizes the cache had (cache_create,
 *     magsize_bump old/new, pcc_magsize old/new) nor a magazine capacity (8, 16, 30, 62);
 *   - more magazines in a cache's depot at once than the process's magazine caches
 *     (kmem_magazine, or kmem_magazine_8 ... _62) ever had objects (their slab_grow
 *     events), when their creation is traced;
 *   - events of a cache id never created, in a process whose kmem_slab creation (the
 *     library's first cache) is in the trace: every later cache_create is then too.
 *
 * Each finding is one line in the damage list (report_damage), together with those the
 * front end passes in (parameter `damage`: streams shorter than their index...).  A
 * damaged report says so on the first line of summary.txt and in summary.json `damage`.
 *
 * Owns the sanity fields of struct cache (magsizes, full_rounds, mags_peak, mag_objects...);
 * allocates nothing.  Called by events.c only.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

#define MS_ROUNDS_ABSURD 65536u
#define MS_MAGS_ABSURD (1ull << 32)
#define MS_QUANTUM_ABSURD (1ull << 40)
#define MS_QCACHES_MAX 1024u /* lib/src/arena.c MAX_QCACHES */
/* Clock slack between a wait's measurement and its event's timestamp. */
#define MS_WAIT_SLACK_NS 1000000ull

/* A damage finding: "impossible value: " and the rest (printf-style). */
static void damagef(struct report *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void damagef(struct report *r, const char *fmt, ...)
{
	char buf[512] = "impossible value: ";
	size_t l = strlen(buf);
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf + l, sizeof(buf) - l, fmt, ap);
	va_end(ap);
	report_damage(r, "%s", buf);
}

/* EV of cache c: what (an "impossible value: EV of cache NAME (id ID): WHAT" finding). */
#define impossible(r, c, ev, fmt, ...)                                                     \
	damagef(r, "%s of cache %s (id %" PRIu32 "): " fmt, ev, (c)->name, (c)->id,         \
		__VA_ARGS__)

/* Sets of small values (rounds, magsizes): a bitmap below MS_SET_BITS. */
static void set_add(uint64_t *set, uint64_t v)
{
	if (v < MS_SET_BITS)
		set[v / 64] |= 1ull << (v % 64);
}

/* A magsize the cache had (and the largest, for values beyond the bitmap). */
static void add_magsize(struct cache *c, uint64_t v)
{
	set_add(c->magsizes, v);
	if (v > c->magsize_seen_max)
		c->magsize_seen_max = v;
}

/* A magazine that crossed between a pcc and the depot: an empty one has 0 rounds, a full
 * one not. */
static void check_mag(struct report *r, struct cache *c, const char *ev, bool empty,
		      uint64_t rounds)
{
	if (empty && rounds)
		impossible(r, c, ev, "an empty magazine with %" PRIu64 " rounds", rounds);
	else if (!empty && (rounds == 0 || rounds > MS_ROUNDS_ABSURD))
		impossible(r, c, ev, "a full magazine with %" PRIu64 " rounds", rounds);
	else if (!empty)
		set_add(c->full_rounds, rounds);
	if (!empty && rounds > c->full_rounds_max)
		c->full_rounds_max = rounds;
}

/* The side, magazines and occupancy of a depot_exchange (v: fields 0..7), or of an older
 * trace's depot_get or depot_put. */
static void check_depot(struct report *r, struct cache *c, int kind, const uint64_t *v)
{
	const char *ev = ms_kind_names[kind];
	uint64_t side = v[2], mags;

	if (side > SIDE_FREE) {
		impossible(r, c, ev, "side %" PRIu64, side);
		return;
	}
	if (kind == K_DEPOT_EXCHANGE) {
		check_mag(r, c, ev, side == SIDE_FREE, v[3]);	/* taken */
		check_mag(r, c, ev, side == SIDE_ALLOC, v[4]);	/* given */
		mags = v[5] + v[6];
	} else {
		check_mag(r, c, ev, (kind == K_DEPOT_GET) == (side == SIDE_FREE), v[3]);
		mags = v[4] + v[5];
	}
	if (mags > MS_MAGS_ABSURD)
		impossible(r, c, ev, "%" PRIu64 " magazines in the depot", mags);
	if (mags > c->mags_peak)
		c->mags_peak = mags;
}

/* Which kinds are of the magazine layer, and which carry a cpu slot (field 1). */
static bool magazine_kind(int kind)
{
	return kind == K_MAG_SWAP || kind == K_DEPOT_GET || kind == K_DEPOT_PUT ||
	       kind == K_DEPOT_EXCHANGE || kind == K_DEPOT_MISS || kind == K_DEPOT_CONTENTION ||
	       kind == K_MAGSIZE_BUMP || kind == K_PCC_MAGSIZE || kind == K_PCC_CONTENTION ||
	       kind == K_PCC_COUNTERS;
}

static bool has_cpu(int kind)
{
	return magazine_kind(kind) && kind != K_MAGSIZE_BUMP;
}

/* An enumeration field f of the event (index in fields[]) and its range. */
static void check_enum(struct report *r, const struct cache *c, int kind, const char *what,
		       uint64_t v, uint64_t n)
{
	if (v >= n)
		impossible(r, c, ms_kind_names[kind], "%s %" PRIu64, what, v);
}

static void check_magsize(struct report *r, struct cache *c, int kind, uint64_t v)
{
	if (v == 0 || v > MS_ROUNDS_ABSURD)
		impossible(r, c, ms_kind_names[kind], "magsize %" PRIu64, v);
	add_magsize(c, v);
}

void sanity_cache_event(struct report *r, struct cache *c, int kind, const uint64_t *v,
			uint64_t t)
{
	const char *ev = ms_kind_names[kind];

	if (c->created && magazine_kind(kind) && c->nr_pcc == 0)
		impossible(r, c, ev, "%s", "a magazine event of a cache without magazines");
	else if (c->created && has_cpu(kind) && v[1] >= c->nr_pcc)
		impossible(r, c, ev, "cpu slot %" PRIu64 " of %" PRIu32, v[1], c->nr_pcc);
	switch (kind) {
	case K_MAG_SWAP:
	case K_DEPOT_MISS:
		check_enum(r, c, kind, "side", v[2], 2);
		if (kind == K_DEPOT_MISS)
			check_enum(r, c, kind, "outcome", v[3], NR_OUTCOMES);
		break;
	case K_DEPOT_GET:
	case K_DEPOT_PUT:
	case K_DEPOT_EXCHANGE:
		check_depot(r, c, kind, v);
		break;
	case K_DEPOT_CONTENTION:
		check_enum(r, c, kind, "counted", v[4], 2);
		if (c->created && v[2] > t - c->t_create + MS_WAIT_SLACK_NS)
			impossible(r, c, ev, "a wait of %" PRIu64 " ns, %" PRIu64 " ns after the "
				   "cache was created", v[2], t - c->t_create);
		break;
	case K_MAGSIZE_BUMP:
		check_enum(r, c, kind, "reason", v[3], NR_REASONS);
		check_magsize(r, c, kind, v[1]);
		check_magsize(r, c, kind, v[2]);
		break;
	case K_PCC_MAGSIZE:
		check_magsize(r, c, kind, v[2]);
		check_magsize(r, c, kind, v[3]);
		break;
	case K_ALLOC:
	case K_FREE:
		check_enum(r, c, kind, "layer", v[3], NR_LAYERS);
		break;
	default:
		break;
	}
}

void sanity_cache_create(struct report *r, struct cache *c)
{
	if (c->policy >= NR_POLICIES)
		impossible(r, c, "cache_create", "policy %" PRIu32, c->policy);
	if (c->obj_size == 0 || c->obj_size > MS_QUANTUM_ABSURD)
		impossible(r, c, "cache_create", "obj_size %" PRIu64, c->obj_size);
	if (c->nr_pcc && (c->magsize0 == 0 || c->magsize0 > MS_ROUNDS_ABSURD))
		impossible(r, c, "cache_create", "magsize %" PRIu32, c->magsize0);
	add_magsize(c, c->magsize0);
}

void sanity_arena_create(struct report *r, const struct arena *a)
{
	const char *why = NULL;

	if (a->quantum == 0 || a->quantum > MS_QUANTUM_ABSURD)
		why = "quantum";
	else if (a->qcache_max % a->quantum)
		why = "qcache_max (not a multiple of the quantum)";
	else if (a->qcache_max / a->quantum > MS_QCACHES_MAX)
		why = "qcache_max (too many quantum caches)";
	if (why)
		damagef(r, "arena_create of arena %s (id %" PRIu32 "): %s: quantum %" PRIu64
			", qcache_max %" PRIu64, a->name, a->id, why, a->quantum, a->qcache_max);
}

void sanity_hash(struct report *r, uint64_t kind, uint64_t ok, uint32_t id)
{
	if (kind > HASH_KIND_ARENA || ok > 1)
		damagef(r, "hash_resize of id %" PRIu32 ": kind %" PRIu64 ", ok %" PRIu64, id, kind,
			ok);
}

/* ---- at the end ------------------------------------------------------------------------ */

/* The cache named name in process proc (created in the trace), or NULL. */
static const struct cache *find_created(const struct report *r, uint32_t proc, const char *name)
{
	for (uint32_t i = 0; i < r->nr_caches; i++) {
		const struct cache *c = r->caches[i];

		if (c->proc == proc && c->created && strcmp(c->name, name) == 0)
			return c;
	}
	return NULL;
}

/* The event a depot finding is about: depot_exchange, or an older trace's pair. */
static const char *depot_event(const struct cache *c)
{
	return c->n[K_DEPOT_EXCHANGE] ? "depot_exchange" : "depot_get/depot_put";
}

static void check_rounds_set(struct report *r, const struct cache *c)
{
	if (c->full_rounds_max > c->magsize_seen_max) {
		impossible(r, c, depot_event(c), "a full magazine of %" PRIu64 " rounds, "
			   "above every magsize the cache had (at most %" PRIu64 ")",
			   c->full_rounds_max, c->magsize_seen_max);
		return;
	}
	for (uint64_t v = 1; v < MS_SET_BITS; v++) {
		uint64_t bit = 1ull << (v % 64);

		/* A magazine is full at its magsize or at its capacity (8, 16,
		 * 30 or 62 rounds: lib/src/depot.c), whichever is smaller. */
		if (v == 8 || v == 16 || v == 30 || v == 62)
			continue;
		if ((c->full_rounds[v / 64] & bit) && !(c->magsizes[v / 64] & bit)) {
			impossible(r, c, depot_event(c), "a full magazine of %" PRIu64
				   " rounds, and the cache never had that magsize", v);
			return;
		}
	}
}

/* Objects the process's magazine caches ever had: "kmem_magazine" in
 * older traces, one cache per magazine size ("kmem_magazine_8" ...) now.
 * false if the trace shows none of them. */
static bool magazine_objects(const struct report *r, uint32_t proc, uint64_t *n)
{
	bool any = false;

	*n = 0;
	for (uint32_t i = 0; i < r->nr_caches; i++) {
		const struct cache *c = r->caches[i];

		if (c->proc == proc && c->created &&
		    strncmp(c->name, "kmem_magazine", 13) == 0) {
			*n += c->mag_objects;
			any = true;
		}
	}
	return any;
}

static void check_occupancy(struct report *r, const struct cache *c)
{
	uint64_t objs;

	if (magazine_objects(r, c->proc, &objs) && c->mags_peak > objs)
		impossible(r, c, depot_event(c), "%" PRIu64 " magazines in the depot at "
			   "once, and the magazine caches only ever had %" PRIu64, c->mags_peak,
			   objs);
}

void sanity_end(struct report *r)
{
	if (r->disc_event_msgs || r->disc_packet_msgs)
		return; /* a lost event can explain any of the below */
	for (uint32_t i = 0; i < r->nr_caches; i++) {
		const struct cache *c = r->caches[i];

		if (!c->created && find_created(r, c->proc, "kmem_slab"))
			damagef(r, "events of cache id %" PRIu32 ", never created, although the "
				"process's first cache_create is in the trace", c->id);
		if (c->created && c->nr_pcc) {
			check_rounds_set(r, c);
			check_occupancy(r, c);
		}
	}
}
