/*
 * events.c — sink.magslab.report: from event messages to per-cache aggregates, time
 * buckets, and the discarded-events windows.
 *
 * The per-event path: the event's class (classes.c: a direct-mapped cache in front of a
 * map, resolved once per class), one clock snapshot, member fields by index, counters.  No
 * allocation happens per event (only when a new cache, arena or process appears).
 *
 * Caches are keyed by (process, cache id), a process by (domain, vpid) (classes.c).  With
 * per-UID buffers and no vpid context, two processes in one trace share a domain and their
 * cache ids collide: a second cache_create for an id already created starts a new cache
 * entry (the older one is kept in the summary as "superseded").
 *
 * Time: ns from the clock's origin; t0 is the first event's time, and every series is in ns
 * since t0.  The muxer delivers messages in time order, so a time bucket is complete once
 * an event of a later bucket arrives: its rows go to the temporary rows file then
 * (flush_buckets), and are added to the caches' totals.
 *
 * Owns r->caches, r->arenas (and their maps), r->dirty, r->phases, the bucket in progress
 * and the temporary files (closed by events_free).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

/* ---- field access ---------------------------------------------------------- */

static inline uint64_t fu(const bt_field *payload, const struct evclass *ec, int f)
{
	const bt_field *x = bt_field_structure_borrow_member_field_by_index_const(
		payload, (uint64_t)ec->idx[f]);

	if (ec->is_signed & (1u << f)) {
		int64_t v = bt_field_integer_signed_get_value(x);

		return v < 0 ? 0 : (uint64_t)v;
	}
	if (ec->is_bool & (1u << f))
		return bt_field_bool_get_value(x) ? 1 : 0;
	return bt_field_integer_unsigned_get_value(x);
}

/* A '?' member: dflt where the trace has none. */
static inline uint64_t fu_opt(const bt_field *payload, const struct evclass *ec, int f,
			      uint64_t dflt)
{
	return ec->idx[f] < 0 ? dflt : fu(payload, ec, f);
}

static inline const char *fs(const bt_field *payload, const struct evclass *ec, int f)
{
	return bt_field_string_get_value(bt_field_structure_borrow_member_field_by_index_const(
		payload, (uint64_t)ec->idx[f]));
}

static int64_t vpid_of(const struct evclass *ec, const bt_event *ev)
{
	const bt_field *ctx, *x;

	if (ec->vpid_idx < 0)
		return ec->env_vpid;
	ctx = bt_event_borrow_common_context_field_const(ev);
	if (!ctx)
		return ec->env_vpid;
	x = bt_field_structure_borrow_member_field_by_index_const(ctx, (uint64_t)ec->vpid_idx);
	if (ec->vpid_signed)
		return bt_field_integer_signed_get_value(x);
	return (int64_t)bt_field_integer_unsigned_get_value(x);
}

/* ---- caches and arenas ----------------------------------------------------- */

static struct cache *cache_new(struct report *r, uint32_t proc, uint32_t id, uint64_t t)
{
	struct cache *c = calloc(1, sizeof(*c));
	char name[32];

	if (!c)
		return NULL;
	if (r->nr_caches == r->cap_caches) {
		r->cap_caches = r->cap_caches ? r->cap_caches * 2 : 32;
		r->caches = ms_xrealloc(r->caches, r->cap_caches * sizeof(*r->caches));
	}
	snprintf(name, sizeof(name), "cache#%" PRIu32, id);
	c->index = r->nr_caches;
	c->proc = proc;
	c->id = id;
	c->name = ms_strdup(name);
	c->t_first = t;
	c->pcc_mode = PCC_MODE_UNKNOWN;
	c->magsize_min = UINT32_MAX;
	c->pcc_magsize_min = UINT32_MAX;
	c->plot_slot = -1;
	r->caches[r->nr_caches++] = c;
	if (idmap_put(&r->cache_map, (uint64_t)proc << 32 | id, r->nr_caches)) {
		r->nr_caches--;
		free(c->name);
		free(c);
		return NULL;
	}
	return c;
}

static inline struct cache *cache_of(struct report *r, struct evclass *ec,
				     const bt_event *ev, uint32_t id, uint64_t t)
{
	uint32_t proc = ec->vpid_idx < 0 ? ec->proc : classes_proc(r, ec->domain, vpid_of(ec, ev));
	uint64_t key = (uint64_t)proc << 32 | id;
	struct cache *c;

	/* Most events of a class are about the cache its previous event was about. */
	if (ec->memo_cache && ec->memo_key == key && ec->memo_gen == r->cache_gen) {
		c = ec->memo_cache;
	} else {
		uint32_t i = idmap_get(&r->cache_map, key);

		c = i ? r->caches[i - 1] : cache_new(r, proc, id, t);
		if (!c)
			return NULL;
		ec->memo_cache = c;
		ec->memo_key = key;
		ec->memo_gen = r->cache_gen;
	}
	c->t_last = t;
	if (!c->dirty) {
		if (r->nr_dirty == r->cap_dirty) {
			r->cap_dirty = r->cap_dirty ? r->cap_dirty * 2 : 64;
			r->dirty = ms_xrealloc(r->dirty, r->cap_dirty * sizeof(*r->dirty));
		}
		r->dirty[r->nr_dirty++] = c->index;
		c->dirty = true;
	}
	return c;
}

static struct arena *arena_of(struct report *r, const struct evclass *ec, const bt_event *ev,
			      uint32_t id)
{
	uint32_t proc = classes_proc(r, ec->domain, vpid_of(ec, ev));
	uint64_t key = (uint64_t)proc << 32 | id;
	uint32_t i = idmap_get(&r->arena_map, key);
	struct arena *a;
	char name[32];

	if (i)
		return r->arenas[i - 1];
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	if (r->nr_arenas == r->cap_arenas) {
		r->cap_arenas = r->cap_arenas ? r->cap_arenas * 2 : 16;
		r->arenas = ms_xrealloc(r->arenas, r->cap_arenas * sizeof(*r->arenas));
	}
	snprintf(name, sizeof(name), "arena#%" PRIu32, id);
	a->index = r->nr_arenas;
	a->proc = proc;
	a->id = id;
	a->name = ms_strdup(name);
	a->plot_slot = -1;
	r->arenas[r->nr_arenas++] = a;
	if (idmap_put(&r->arena_map, key, r->nr_arenas)) {
		r->nr_arenas--;
		free(a->name);
		free(a);
		return NULL;
	}
	return a;
}

static int put_event_rec(struct report *r, uint32_t type, uint32_t idx, uint64_t t,
			 uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e, uint64_t f)
{
	struct event_rec rec = { type, idx, t, { a, b, c, d, e, f } };

	if (fwrite(&rec, sizeof(rec), 1, r->ev_f) != 1) {
		report_error(r, "cannot write a temporary file (disk full?)");
		return -1;
	}
	return 0;
}

static void hash_event(struct hash_stats *h, uint64_t old, uint64_t new, uint64_t items,
		       uint64_t dur, bool ok)
{
	if (!h->resizes && !h->failed)
		h->first_lists = old;
	if (ok) {
		h->resizes++;
		h->lists = new;
	} else {
		h->failed++;
	}
	if (items > h->items_max)
		h->items_max = items;
	h->dur_sum += dur;
	if (dur > h->dur_max)
		h->dur_max = dur;
}

/* ---- time buckets ------------------------------------------------------------ */

/* The cache's totals: the sums of its buckets (counted once per event, in the bucket). */
static void merge_totals(struct cache *c, const struct bucket_acc *a)
{
	unsigned int i;
	int k;

	for (k = 0; k < 2; k++) {
		c->swaps[k] += a->swaps[k];
		c->gets[k] += a->gets[k];
		c->puts[k] += a->puts[k];
		c->misses[k] += a->misses[k];
		c->rounds_got[k] += a->rounds_got[k];
	}
	for (k = 0; k < NR_LAYERS; k++) {
		c->allocs[k] += a->allocs[k];
		c->frees[k] += a->frees[k];
	}
	if (a->nne_max > c->nne_max)
		c->nne_max = a->nne_max;
	if (a->ne_max > c->ne_max)
		c->ne_max = a->ne_max;
	c->pcc_contended += a->pcc_contended;
	counters_merge(&c->cnt, &a->cnt);
	if (a->contended) {
		c->contended += a->contended;
		c->counted += a->counted;
		c->wait_sum += a->wait_sum;
		if (a->wait_max > c->wait_max)
			c->wait_max = a->wait_max;
		for (i = 0; i < MS_HIST_N; i++)
			c->hist[i] += a->hist[i];
	}
}

static int flush_buckets(struct report *r)
{
	uint32_t k;

	for (k = 0; k < r->nr_dirty; k++) {
		struct cache *c = r->caches[r->dirty[k]];
		struct bucket_acc *a = &c->acc;
		struct bucket_row row;

		memset(&row, 0, sizeof(row));
		row.bucket = r->cur_bucket;
		row.cache = r->dirty[k];
		row.depot_seen = a->depot_seen;
		row.contended = a->contended;
		row.counted = a->counted;
		row.wait_sum = a->wait_sum;
		row.wait_max = a->wait_max;
		row.wait_p50 = ms_hist_percentile(a->hist, a->contended, a->wait_max, 50);
		row.wait_p99 = ms_hist_percentile(a->hist, a->contended, a->wait_max, 99);
		row.pcc_contended = a->pcc_contended;
		memcpy(row.gets, a->gets, sizeof(row.gets));
		memcpy(row.puts, a->puts, sizeof(row.puts));
		memcpy(row.misses, a->misses, sizeof(row.misses));
		memcpy(row.rounds_got, a->rounds_got, sizeof(row.rounds_got));
		memcpy(row.swaps, a->swaps, sizeof(row.swaps));
		row.nne_last = c->nne;
		row.ne_last = c->ne;
		row.nne_max = a->nne_max;
		row.ne_max = a->ne_max;
		memcpy(row.allocs, a->allocs, sizeof(row.allocs));
		memcpy(row.frees, a->frees, sizeof(row.frees));
		counters_layers(&a->cnt, row.cnt_allocs, row.cnt_frees);
		row.cnt_hits = a->cnt.hits;
		row.bumps = a->bumps;
		row.magsize = c->magsize;
		if (fwrite(&row, sizeof(row), 1, r->rows_f) != 1) {
			report_error(r, "cannot write a temporary file (disk full?)");
			return -1;
		}
		merge_totals(c, a);
		if (a->contended)
			memset(a, 0, sizeof(*a));
		else
			memset(a, 0, offsetof(struct bucket_acc, hist));
		c->dirty = false;
	}
	r->nr_dirty = 0;
	return slots_flush(r);
}

/* The event's time, in ns since t0; closes the buckets it leaves behind. */
static inline int advance(struct report *r, uint64_t t, uint64_t *rel)
{
	if (!r->have_t0) {
		r->have_t0 = true;
		r->t0 = t;
		r->t_last = t;
		r->cur_bucket = 0;
		r->bucket_end = r->bucket_ns;
	}
	if (t < r->t_last)
		t = r->t_last;		/* only without a clock: time does not go back */
	r->t_last = t;
	*rel = t - r->t0;
	if (*rel >= r->bucket_end) {
		if (flush_buckets(r))
			return -1;
		r->cur_bucket = *rel / r->bucket_ns;
		r->bucket_end = (r->cur_bucket + 1) * r->bucket_ns;
	}
	return 0;
}

/* ---- the handlers ------------------------------------------------------------------ */

#define SIDE(v) ((v) ? SIDE_FREE : SIDE_ALLOC)

static int on_cache_create(struct report *r, struct evclass *ec, const bt_event *ev,
			   const bt_field *p, uint64_t t)
{
	uint32_t id = (uint32_t)fu(p, ec, 0);
	uint32_t proc = classes_proc(r, ec->domain, vpid_of(ec, ev));
	uint32_t i = idmap_get(&r->cache_map, (uint64_t)proc << 32 | id);
	struct cache *c = i ? r->caches[i - 1] : NULL;
	const char *name = fs(p, ec, 1);

	if (c && c->created) {
		/* Another process with the same cache id (no vpid to tell them apart). */
		c->superseded = true;
		c = cache_new(r, proc, id, t);
		r->cache_gen++;		/* the memos of cache_of may point to the old one */
	} else if (!c) {
		c = cache_new(r, proc, id, t);
	}
	if (!c)
		return -1;
	c->created = true;
	free(c->name);
	c->name = ms_strdup(name ? name : "");
	c->obj_size = fu(p, ec, 2);
	c->nr_pcc = (uint32_t)fu(p, ec, 3);
	c->magsize0 = (uint32_t)fu(p, ec, 4);
	c->policy = (uint32_t)fu(p, ec, 5);
	c->threshold = fu(p, ec, 6);
	c->timeout_ns = fu(p, ec, 7);
	c->uses_bufctl = fu(p, ec, 8) != 0;
	c->source = (uint32_t)fu(p, ec, 9);
	c->pcc_mode = (uint32_t)fu_opt(p, ec, 10, PCC_MODE_UNKNOWN);
	if (c->pcc_mode > PCC_MODE_UNKNOWN)
		c->pcc_mode = PCC_MODE_UNKNOWN;
	c->t_create = t;
	if (!c->magsize_known) {
		c->magsize_known = true;
		c->magsize = c->magsize_max = c->magsize_min = c->magsize0;
	}
	sanity_cache_create(r, c);
	c = cache_of(r, ec, ev, id, t);
	if (!c)
		return -1;
	c->n[K_CACHE_CREATE]++;
	return 0;
}

/* The numeric payload fields 1..7 of the event (0 where the kind has none), for sanity.c. */
static void read_fields(const bt_field *p, const struct evclass *ec, uint64_t *v)
{
	for (int f = 0; f < 8; f++)
		v[f] = f && f < ec->nfields && !(ec->is_string & (1u << f)) ? fu_opt(p, ec, f, 0) : 0;
}

/* depot_exchange (an older trace's depot_get + depot_put): the magazines in the depot
 * after it, rounds got; the pcc counters of an exchange. */
static void on_depot(struct report *r, struct cache *c, const struct evclass *ec,
		     const bt_field *p)
{
	struct bucket_acc *a = &c->acc;
	bool exch = ec->kind == K_DEPOT_EXCHANGE;
	uint64_t side = SIDE(fu(p, ec, 2)), x = fu(p, ec, exch ? 5 : 4), y = fu(p, ec, exch ? 6 : 5);

	if (ec->kind != K_DEPOT_PUT) {
		a->gets[side]++;
		a->rounds_got[side] += fu(p, ec, 3);
		slots_exchange(r, c, fu(p, ec, 1), (int)side);
	}
	if (ec->kind != K_DEPOT_GET)
		a->puts[side]++;
	if (exch) {
		uint64_t v[3] = { fu(p, ec, 7), fu(p, ec, 8), fu(p, ec, 9) };

		counters_event(r, c, fu(p, ec, 1), v, false);
		counters_layer(c, (int)side, false);
	}
	c->depot_known = true;
	c->nne = x;
	c->ne = y;
	if (x > a->nne_max)
		a->nne_max = x;
	if (y > a->ne_max)
		a->ne_max = y;
	a->depot_seen = true;
}

/* depot_miss: with the pcc counters (not in older traces), the allocation it sent to the
 * slab layer, or the free (outcome no_magazine). */
static void on_depot_miss(struct report *r, struct cache *c, const struct evclass *ec,
			  const bt_field *p)
{
	uint64_t side = SIDE(fu(p, ec, 2)), x = fu(p, ec, 3);

	c->acc.misses[side]++;
	if (x < NR_OUTCOMES)
		c->miss_outcome[x]++;
	if (ec->idx[4] >= 0 && ec->idx[5] >= 0 && ec->idx[6] >= 0) {
		uint64_t v[3] = { fu(p, ec, 4), fu(p, ec, 5), fu(p, ec, 6) };

		counters_event(r, c, fu(p, ec, 1), v, false);
		if (side == SIDE_ALLOC || x == OUTCOME_NO_MAGAZINE)
			counters_layer(c, (int)side, true);
	}
}

static void on_pcc_counters(struct report *r, struct cache *c, const struct evclass *ec,
			    const bt_field *p)
{
	uint64_t v[3] = { fu(p, ec, 2), fu(p, ec, 3), fu(p, ec, 4) };

	counters_event(r, c, fu(p, ec, 1), v, true);
}

/* depot_contention: the bucket's counts, and a record for trace.json's slices. */
static int on_contention(struct report *r, struct cache *c, const struct evclass *ec,
			 const bt_field *p, uint64_t t)
{
	struct bucket_acc *a = &c->acc;
	uint64_t x = fu(p, ec, 2);
	struct cont_rec rec = { c->index, (uint32_t)fu(p, ec, 1), t, x };

	a->contended++;
	if (fu(p, ec, 4))
		a->counted++;
	a->wait_sum += x;
	if (x > a->wait_max)
		a->wait_max = x;
	a->hist[ms_hist_index(x)]++;
	if (fwrite(&rec, sizeof(rec), 1, r->cont_f) != 1) {
		report_error(r, "cannot write a temporary file (disk full?)");
		return -1;
	}
	return 0;
}

static int on_bump(struct report *r, struct cache *c, const struct evclass *ec,
		   const bt_field *p, uint64_t t)
{
	uint64_t old = fu(p, ec, 1), new = fu(p, ec, 2), reason = fu(p, ec, 3);

	if (new > old)
		c->bumps_up++;
	else if (new < old)
		c->bumps_down++;
	c->bump_reason[reason < NR_REASONS ? reason : NR_REASONS]++;
	if (!c->magsize_known) {
		c->magsize_known = true;
		c->magsize0 = (uint32_t)old;
		c->magsize_max = c->magsize_min = (uint32_t)old;
	}
	c->magsize = (uint32_t)new;
	if (c->magsize > c->magsize_max)
		c->magsize_max = c->magsize;
	if (c->magsize < c->magsize_min)
		c->magsize_min = c->magsize;
	c->acc.bumps++;
	return put_event_rec(r, ER_BUMP, c->index, t, old, new, reason, fu(p, ec, 4), 0, 0);
}

static int on_pcc_magsize(struct report *r, struct cache *c, const struct evclass *ec,
			  const bt_field *p, uint64_t t)
{
	uint64_t x = fu(p, ec, 3);

	if (x < c->pcc_magsize_min)
		c->pcc_magsize_min = (uint32_t)x;
	if (x > c->pcc_magsize_max)
		c->pcc_magsize_max = (uint32_t)x;
	return put_event_rec(r, ER_PCC_MAGSIZE, c->index, t, fu(p, ec, 1), fu(p, ec, 2), x, 0, 0,
			     0);
}

/* slab_grow, slab_release, reap. */
static void on_slab(struct cache *c, const struct evclass *ec, const bt_field *p)
{
	if (ec->kind == K_SLAB_GROW) {
		c->slab_grows++;
		c->bytes_grown += fu(p, ec, 1);
		c->mag_objects += fu(p, ec, 2);
	} else if (ec->kind == K_SLAB_RELEASE) {
		c->slab_releases++;
		c->bytes_released += fu(p, ec, 1);
	} else {
		c->reaps++;
		c->reap_slabs += fu(p, ec, 1);
		c->reap_mags += fu(p, ec, 2);
		c->reap_bytes += fu(p, ec, 3);
	}
}

static void on_pcc_contention(struct cache *c, const struct evclass *ec, const bt_field *p)
{
	uint64_t x = fu(p, ec, 2);

	c->acc.pcc_contended++;
	c->pcc_wait_sum += x;
	if (x > c->pcc_wait_max)
		c->pcc_wait_max = x;
}

/* alloc, free (TRACE=full): the layer that served it. */
static void on_alloc(struct report *r, struct cache *c, const struct evclass *ec,
		     const bt_field *p)
{
	uint64_t x = fu(p, ec, 3);

	if (x >= NR_LAYERS)
		x = NR_LAYERS - 1;
	if (ec->kind == K_ALLOC)
		c->acc.allocs[x]++;
	else
		c->acc.frees[x]++;
	r->any_alloc_events = true;
}

static int on_cache_event(struct report *r, struct evclass *ec, const bt_event *ev,
			  const bt_field *p, uint64_t t)
{
	struct cache *c = cache_of(r, ec, ev, (uint32_t)fu(p, ec, 0), t);
	uint64_t v[8];

	if (!c)
		return -1;
	c->n[ec->kind]++;
	read_fields(p, ec, v);
	sanity_cache_event(r, c, ec->kind, v, t);
	switch (ec->kind) {
	case K_CACHE_DESTROY:
		c->destroyed = true;
		break;
	case K_MAG_SWAP:
		c->acc.swaps[SIDE(fu(p, ec, 2))]++;
		break;
	case K_DEPOT_GET:
	case K_DEPOT_PUT:
	case K_DEPOT_EXCHANGE:
		on_depot(r, c, ec, p);
		break;
	case K_DEPOT_MISS:
		on_depot_miss(r, c, ec, p);
		break;
	case K_PCC_COUNTERS:
		on_pcc_counters(r, c, ec, p);
		break;
	case K_DEPOT_CONTENTION:
		return on_contention(r, c, ec, p, t);
	case K_MAGSIZE_BUMP:
		return on_bump(r, c, ec, p, t);
	case K_PCC_MAGSIZE:
		return on_pcc_magsize(r, c, ec, p, t);
	case K_SLAB_GROW:
	case K_SLAB_RELEASE:
	case K_REAP:
		on_slab(c, ec, p);
		break;
	case K_PCC_CONTENTION:
		on_pcc_contention(c, ec, p);
		break;
	case K_ALLOC:
	case K_FREE:
		on_alloc(r, c, ec, p);
		break;
	default:
		break;
	}
	return 0;
}

static int on_hash_resize(struct report *r, struct evclass *ec, const bt_event *ev,
			  const bt_field *p, uint64_t t)
{
	uint32_t id = (uint32_t)fu(p, ec, 0);
	uint64_t kind = fu(p, ec, 1), old = fu(p, ec, 2), new = fu(p, ec, 3);
	uint64_t items = fu(p, ec, 4), dur = fu(p, ec, 5), ok = fu(p, ec, 6) != 0;
	uint32_t idx;

	sanity_hash(r, kind, fu(p, ec, 6), id);
	if (kind == HASH_KIND_CACHE) {
		struct cache *c = cache_of(r, ec, ev, id, t);

		if (!c)
			return -1;
		c->n[K_HASH_RESIZE]++;
		hash_event(&c->hash, old, new, items, dur, ok);
		idx = c->index;
	} else {
		struct arena *a = arena_of(r, ec, ev, id);

		if (!a)
			return -1;
		hash_event(&a->hash, old, new, items, dur, ok);
		idx = a->index;
		kind = HASH_KIND_ARENA;
	}
	return put_event_rec(r, ER_HASH, idx, t, old, new, items, dur, ok, kind);
}

static int on_arena_event(struct report *r, const struct evclass *ec, const bt_event *ev,
			  const bt_field *p, uint64_t t)
{
	struct arena *a = arena_of(r, ec, ev, (uint32_t)fu(p, ec, 0));
	const char *name;

	(void)t;
	if (!a)
		return -1;
	switch (ec->kind) {
	case K_ARENA_CREATE:
		name = fs(p, ec, 1);
		free(a->name);
		a->name = ms_strdup(name ? name : "");
		a->created = true;
		a->quantum = fu(p, ec, 2);
		a->qcache_max = fu(p, ec, 3);
		a->source = (uint32_t)fu(p, ec, 4);
		sanity_arena_create(r, a);
		break;
	case K_ARENA_DESTROY:
		a->destroyed = true;
		break;
	case K_ARENA_IMPORT:
		a->imports++;
		a->bytes_imported += fu(p, ec, 3);
		break;
	case K_ARENA_RELEASE:
		a->releases++;
		a->bytes_released += fu(p, ec, 3);
		break;
	case K_ARENA_FAIL:
		a->fails++;
		break;
	default:
		break;
	}
	return 0;
}

static int on_phase(struct report *r, const struct evclass *ec, const bt_field *p, uint64_t t)
{
	const char *name = fs(p, ec, 0);
	uint32_t index = (uint32_t)fu(p, ec, 1);
	uint32_t len;

	if (!name)
		name = "";
	len = (uint32_t)strnlen(name, 200);
	if (r->nr_phases_kept < MS_PHASES_KEPT) {
		struct phase *ph;

		if (!r->phases)
			r->phases = ms_xrealloc(NULL, MS_PHASES_KEPT * sizeof(*r->phases));
		ph = &r->phases[r->nr_phases_kept++];
		ph->t = t;
		ph->index = index;
		ph->name = strndup(name, len);
		if (!ph->name)
			return -1;
	}
	r->nr_phases++;
	if (fwrite(&t, sizeof(t), 1, r->phase_f) != 1 ||
	    fwrite(&index, sizeof(index), 1, r->phase_f) != 1 ||
	    fwrite(&len, sizeof(len), 1, r->phase_f) != 1 ||
	    (len && fwrite(name, len, 1, r->phase_f) != 1)) {
		report_error(r, "cannot write a temporary file (disk full?)");
		return -1;
	}
	return 0;
}

/* The event's time (ns from the clock's origin); without a clock, the latest one. */
static inline uint64_t event_time(const struct report *r, const struct evclass *ec,
				  const bt_message *msg)
{
	const bt_clock_snapshot *cs;
	int64_t ns;

	if (!ec->has_clock)
		return r->t_last;
	cs = bt_message_event_borrow_default_clock_snapshot_const(msg);
	if (ec->clock_ns) {
		uint64_t v = bt_clock_snapshot_get_value(cs);

		if (v < (uint64_t)INT64_MAX - (uint64_t)ec->clock_base)
			return (uint64_t)ec->clock_base + v;
	} else if (bt_clock_snapshot_get_ns_from_origin(cs, &ns) ==
		   BT_CLOCK_SNAPSHOT_GET_NS_FROM_ORIGIN_STATUS_OK && ns > 0) {
		return (uint64_t)ns;
	}
	return r->t_last;
}

int events_handle(struct report *r, const bt_message *msg)
{
	const bt_event *ev = bt_message_event_borrow_event_const(msg);
	const bt_event_class *cls = bt_event_borrow_class_const(ev);
	struct evclass *ec;
	const bt_field *p;
	uint64_t rel;

	ec = classes_lookup(r, cls);
	if (!ec) {
		report_error(r, "out of memory");
		return -1;
	}
	r->events++;
	ec->count++;
	if (advance(r, event_time(r, ec, msg), &rel))
		return -1;
	r->kind_events[ec->kind]++;
	if (ec->kind == K_FOREIGN)
		return 0;
	r->magslab_events++;
	if (ec->kind >= K_NKNOWN)
		return 0;
	p = bt_event_borrow_payload_field_const(ev);
	switch (ec->kind) {
	case K_CACHE_CREATE:
		return on_cache_create(r, ec, ev, p, rel);
	case K_HASH_RESIZE:
		return on_hash_resize(r, ec, ev, p, rel);
	case K_ARENA_CREATE:
	case K_ARENA_DESTROY:
	case K_ARENA_IMPORT:
	case K_ARENA_RELEASE:
	case K_ARENA_FAIL:
		return on_arena_event(r, ec, ev, p, rel);
	case K_WORKLOAD_PHASE:
		return on_phase(r, ec, p, rel);
	default:
		return on_cache_event(r, ec, ev, p, rel);
	}
}

/* ---- discarded events and packets ---------------------------------------------- */

static int close_window(struct report *r)
{
	uint64_t w[2] = { r->win_b, r->win_e };

	if (!r->win_open)
		return 0;
	r->win_open = false;
	r->nr_windows++;
	if (fwrite(w, sizeof(w), 1, r->win_f) != 1) {
		report_error(r, "cannot write a temporary file (disk full?)");
		return -1;
	}
	return 0;
}

int events_discarded(struct report *r, const bt_message *msg, bool packets)
{
	const bt_stream *s;
	const bt_clock_snapshot *cb, *ce;
	bt_property_availability av;
	uint64_t count = 0;
	int64_t b, e;
	bool have_cs;

	if (packets) {
		s = bt_message_discarded_packets_borrow_stream_const(msg);
		have_cs = bt_stream_class_discarded_packets_have_default_clock_snapshots(
			bt_stream_borrow_class_const(s));
		av = bt_message_discarded_packets_get_count(msg, &count);
		r->disc_packet_msgs++;
		if (av == BT_PROPERTY_AVAILABILITY_AVAILABLE)
			r->disc_packets += count;
	} else {
		s = bt_message_discarded_events_borrow_stream_const(msg);
		have_cs = bt_stream_class_discarded_events_have_default_clock_snapshots(
			bt_stream_borrow_class_const(s));
		av = bt_message_discarded_events_get_count(msg, &count);
		r->disc_event_msgs++;
		if (av == BT_PROPERTY_AVAILABILITY_AVAILABLE)
			r->disc_events += count;
	}
	if (av != BT_PROPERTY_AVAILABILITY_AVAILABLE)
		r->disc_unknown_count++;
	if (!have_cs) {
		r->disc_no_window++;
		return 0;
	}
	if (packets) {
		cb = bt_message_discarded_packets_borrow_beginning_default_clock_snapshot_const(msg);
		ce = bt_message_discarded_packets_borrow_end_default_clock_snapshot_const(msg);
	} else {
		cb = bt_message_discarded_events_borrow_beginning_default_clock_snapshot_const(msg);
		ce = bt_message_discarded_events_borrow_end_default_clock_snapshot_const(msg);
	}
	if (bt_clock_snapshot_get_ns_from_origin(cb, &b) != BT_CLOCK_SNAPSHOT_GET_NS_FROM_ORIGIN_STATUS_OK ||
	    bt_clock_snapshot_get_ns_from_origin(ce, &e) != BT_CLOCK_SNAPSHOT_GET_NS_FROM_ORIGIN_STATUS_OK ||
	    b < 0 || e < b) {
		r->disc_no_window++;
		return 0;
	}
	if (!r->disc_first || (uint64_t)b < r->disc_first)
		r->disc_first = (uint64_t)b;
	if ((uint64_t)e > r->disc_last)
		r->disc_last = (uint64_t)e;
	/* Merge overlapping windows (several streams lose events at once). */
	if (r->win_open && (uint64_t)b <= r->win_e) {
		if ((uint64_t)b < r->win_b)
			r->win_b = (uint64_t)b;
		if ((uint64_t)e > r->win_e)
			r->win_e = (uint64_t)e;
		return 0;
	}
	if (close_window(r))
		return -1;
	r->win_open = true;
	r->win_b = (uint64_t)b;
	r->win_e = (uint64_t)e;
	return 0;
}

int events_end(struct report *r)
{
	if (flush_buckets(r) || close_window(r))
		return -1;
	sanity_end(r);
	if (fflush(r->rows_f) || fflush(r->ev_f) || fflush(r->phase_f) || fflush(r->win_f) ||
	    fflush(r->slots_f) || fflush(r->cont_f)) {
		report_error(r, "cannot write a temporary file (disk full?)");
		return -1;
	}
	return 0;
}

void events_free(struct report *r)
{
	uint32_t i;

	for (i = 0; i < r->nr_caches; i++) {
		free(r->caches[i]->name);
		free(r->caches[i]->slots);
		free(r->caches[i]);
	}
	free(r->slot_acc);
	free(r->caches);
	idmap_free(&r->cache_map);
	for (i = 0; i < r->nr_arenas; i++) {
		free(r->arenas[i]->name);
		free(r->arenas[i]);
	}
	free(r->arenas);
	idmap_free(&r->arena_map);
	free(r->dirty);
	for (i = 0; i < r->nr_phases_kept; i++)
		free(r->phases[i].name);
	free(r->phases);
	if (r->rows_f)
		fclose(r->rows_f);
	if (r->ev_f)
		fclose(r->ev_f);
	if (r->phase_f)
		fclose(r->phase_f);
	if (r->win_f)
		fclose(r->win_f);
	if (r->slots_f)
		fclose(r->slots_f);
	if (r->cont_f)
		fclose(r->cont_f);
}
