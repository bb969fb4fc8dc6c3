/*
 * counters.c — sink.magslab.report: the pcc counters of the slow-path events, and the
 * per-slot view.
 *
 * The pcc counters.  depot_exchange and depot_miss carry the visiting pcc's cumulative
 * allocs, frees and hits, and pcc_counters gives them once more when a cache drains its
 * pccs (docs/events.md).  Per slot, the growth since the slot's previous event is what it
 * did in between; of those allocations, the alloc-side exchanges went through the depot
 * and the alloc-side misses to the slab layer (each such event carries a count that
 * includes its own allocation), and the rest were pcc hits.  The same on the free side,
 * where a miss with outcome no_magazine sent the object to its slab.  So the shares of
 * each layer are exact without per-object events; what is not exact is *when* a hit
 * happened: it is counted in the bucket of the slot's next event.  A slot starts at 0
 * when its cache is created; for a cache created before the trace began (a live session
 * attached late) a slot's first event only sets its baseline.
 *
 * The per-slot view (slots.dat): depot exchanges per (bucket, slot), summed over the
 * caches with magazines, from depot_exchange (or an older trace's depot_get) events.
 *
 * Owns each cache's slots array and r->slot_acc; writes struct slot_row records to
 * r->slots_f.  Called by events.c only.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdlib.h>
#include <string.h>

#include "report.h"

/* Slot s of cache c, the array grown as needed; NULL for a slot at or above
 * MS_MAX_SLOTS (sanity.c flags a slot at or above the cache's nr_pcc). */
static struct slot_state *slot_of(struct cache *c, uint64_t s)
{
	uint32_t n;

	if (s >= MS_MAX_SLOTS)
		return NULL;
	if (s >= c->nr_slots) {
		for (n = c->nr_slots ? c->nr_slots : 8; n <= s; n *= 2)
			;
		c->slots = ms_xrealloc(c->slots, n * sizeof(*c->slots));
		memset(c->slots + c->nr_slots, 0, (n - c->nr_slots) * sizeof(*c->slots));
		c->nr_slots = n;
	}
	return &c->slots[s];
}

void counters_event(struct report *r, struct cache *c, uint64_t slot, const uint64_t v[3],
		    bool final)
{
	struct slot_state *s = slot_of(c, slot);
	struct counter_acc *a = &c->acc.cnt;

	r->any_counters = c->has_counters = true;
	if (!s)
		return;
	if (!s->seen && !c->created) {
		/* no baseline: the slot's counts before the trace are unknown */
	} else if (v[0] < s->allocs || v[1] < s->frees || v[2] < s->hits) {
		c->counters_back = true;	/* another process with this id: a new baseline */
	} else {
		a->delta[0] += v[0] - s->allocs;
		a->delta[1] += v[1] - s->frees;
		a->hits += v[2] - s->hits;
	}
	s->allocs = v[0];
	s->frees = v[1];
	s->hits = v[2];
	s->seen = true;
	s->final = final;
}

void counters_layer(struct cache *c, int side, bool slab)
{
	if (slab)
		c->acc.cnt.slab[side]++;
	else
		c->acc.cnt.depot[side]++;
}

/* a - b, or 0 (a bucket's hits are the reported growth minus what the depot and the slab
 * layer served; a slot whose count is reported in a later bucket can make it negative) */
static uint64_t sat_sub(uint64_t a, uint64_t b)
{
	return a > b ? a - b : 0;
}

void counters_layers(const struct counter_acc *a, uint64_t allocs[NR_LAYERS],
		     uint64_t frees[NR_LAYERS])
{
	allocs[0] = sat_sub(a->delta[0], a->depot[0] + a->slab[0]);
	allocs[1] = a->depot[0];
	allocs[2] = a->slab[0];
	frees[0] = sat_sub(a->delta[1], a->depot[1] + a->slab[1]);
	frees[1] = a->depot[1];
	frees[2] = a->slab[1];
}

void counters_merge(struct counter_acc *total, const struct counter_acc *a)
{
	for (int k = 0; k < 2; k++) {
		total->delta[k] += a->delta[k];
		total->depot[k] += a->depot[k];
		total->slab[k] += a->slab[k];
	}
	total->hits += a->hits;
}

bool counters_complete(const struct cache *c)
{
	uint32_t i;
	bool any = false;

	for (i = 0; i < c->nr_slots; i++) {
		if (c->slots[i].seen && !c->slots[i].final)
			return false;
		any |= c->slots[i].seen;
	}
	return any;
}

uint32_t counters_slots(const struct cache *c)
{
	uint32_t i, n = 0;

	for (i = 0; i < c->nr_slots; i++)
		n += c->slots[i].seen;
	return n;
}

/* ---- the per-slot view --------------------------------------------------------------- */

void slots_exchange(struct report *r, const struct cache *c, uint64_t slot, int side)
{
	uint32_t n;

	if (!c->nr_pcc && c->created)
		return;		/* an internal cache: sanity.c says so */
	if (slot >= MS_MAX_SLOTS) {
		r->slots_over++;
		return;
	}
	if (slot >= r->nr_slot_acc) {
		for (n = r->nr_slot_acc ? r->nr_slot_acc : 8; n <= slot; n *= 2)
			;
		r->slot_acc = ms_xrealloc(r->slot_acc, n * sizeof(*r->slot_acc));
		memset(r->slot_acc + r->nr_slot_acc, 0, (n - r->nr_slot_acc) * sizeof(*r->slot_acc));
		r->nr_slot_acc = n;
	}
	if (slot + 1 > r->max_slot_seen)
		r->max_slot_seen = (uint32_t)slot + 1;
	r->slot_acc[slot][side]++;
	r->slot_dirty = true;
}

int slots_flush(struct report *r)
{
	uint32_t s;

	if (!r->slot_dirty)
		return 0;
	for (s = 0; s < r->max_slot_seen; s++) {
		struct slot_row row = { r->cur_bucket, s, 0, { r->slot_acc[s][0], r->slot_acc[s][1] } };

		if (!row.exchanges[0] && !row.exchanges[1])
			continue;
		if (fwrite(&row, sizeof(row), 1, r->slots_f) != 1) {
			report_error(r, "cannot write a temporary file (disk full?)");
			return -1;
		}
		r->slot_acc[s][0] = r->slot_acc[s][1] = 0;
	}
	r->slot_dirty = false;
	return 0;
}
