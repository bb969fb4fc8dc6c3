/*
 * magazine.c — the magazine layer: per-CPU caches (pcc), magazines, the
 * depot, and the kmem_cache_alloc/free entry points.
 *
 * Lock order: pcc -> depot -> slab -> arena.  A held pcc (either mode:
 * pcc.h) is held across a depot visit; neither is held while a new magazine
 * is allocated (the free path drops both first), nor while an object goes
 * to the slab layer from the alloc path.  Rounds freed to slabs under the
 * depot lock (purge) take kc->lock inside it, which the order allows.
 *
 * Big picture (Bonwick & Adams 2001, section 3; Akaros slab.c):
 *
 *   pcc[slot]: loaded, prev — the slot is picked by the CPU the thread runs
 *       on (or per thread).  A thread may be preempted or migrate in the
 *       middle of an operation, so a pcc is kept consistent in one of two
 *       modes (pcc.h, fixed per cache): rseq, where a hit is a restartable
 *       sequence on the current CPU's pcc with no lock at all and everything
 *       else owns the pcc first; or locked, where every operation takes the
 *       pcc's spinning-then-yielding lock.  Both count, and time, every time
 *       a pcc is found held.
 *   depot: not_empty and empty magazine lists, the magsize pccs adopt, and
 *       the resize policy's state (policy.c).  Every acquisition tries the
 *       lock first; a failed trylock is the contention signal the policy
 *       feeds on, timed from before blocking.
 *
 * Paths: kmem_cache_alloc/free try the rseq hit first (rseq mode only);
 * anything else — and every operation in locked mode — holds the pcc and
 * runs alloc_held/free_held, which are the whole rule set of the spec
 * (allocator.md "Magazines and the depot"), once for both modes.
 *
 * Invariants: a pcc's loaded and prev are never NULL (magazine caches
 * excepted: no_mags caches have no pccs at all); a magazine is in exactly one
 * place (a pcc, a depot list, or being freed); depot.nr_not_empty and
 * nr_empty are the list lengths; every depot magazine on not_empty has at
 * least one round, every one on empty has none.
 *
 * FAQ:
 * - Where does the loaded magazine's round count live?  In rseq mode, in the
 *   pcc (`hot`'s low byte) while nobody holds the pcc, and in the magazine
 *   (nr_rounds) while someone does; pcc.c moves it between the two on every
 *   hold and release.  The reason is the counters: a hit must commit the new
 *   round count and count itself in one store, and one 64-bit word can hold
 *   both only if it is the pcc's (a magazine word would have to carry a
 *   pcc's hit count with it as it moves between pccs and the depot).  It
 *   also keeps every field a hit reads — owner, hot, loaded, magsize — in
 *   the pcc's first 32 bytes, one cache line that only its CPU writes.  The
 *   magazine's own count stays true whenever the magazine is not loaded on
 *   an unheld pcc, so the depot, stats and drain never see a difference.
 * - The swap rule.  The free path swaps to prev when prev has *room* below
 *   magsize, as Akaros's slab.c does (its comment: the paper checks "is
 *   empty", but what matters is room, which differs after a resize).  With
 *   a fixed magsize prev is always empty or full when loaded is full, and
 *   the two rules agree; after a grow, prev still holds its old number of
 *   rounds, and "empty" would send a free to the depot while a magazine in
 *   hand has room — a depot visit (and on a busy depot, a contention the
 *   resize policy counts) that buys nothing.  test_magazine's
 *   test_free_swaps_into_prev_with_room pins it.
 * - Why is a new magazine put on the depot's empty list instead of straight
 *   into the pcc?  The pcc was released to allocate it; the thread may now
 *   be on another slot, whose state we no longer know.  Going through the
 *   depot keeps the one exchange path (and its counters) exact.
 * - Why can a pcc hold more rounds than its magsize?  After a shrink, full
 *   magazines keep their rounds; a magazine at or above magsize is simply
 *   full.  Nothing is freed to make it fit.
 * - Why does the free path re-check loaded after adopting the depot's
 *   magsize?  A grow may have made room: the free then needs no exchange.
 */
#include "slab_impl.h"

#include "clock.h"
#include "config.h"
#include "cpu.h"
#include "error.h"
#include "pcc.h"
#include "pcc_rseq.h"
#include "trace.h"

#include <errno.h>
#include <sched.h>
#include <string.h>

/* ---------------------------------------------------------------------- */
/* Holding a pcc, in the cache's mode (pcc.h)                              */

/* The calling thread's pcc, held; aborts: restarted rseq fast paths. */
static inline struct pcc *pcc_enter(struct kmem_cache *kc,
				    unsigned int aborts)
{
	struct pcc *p;

#if PCC_RSEQ_CAPABLE
	if (kc->pcc_mode == PCC_MODE_RSEQ)
		return pcc_rseq_enter_inline(kc->pccs, kc->nr_pcc, aborts);
#endif
	(void)aborts;                   /* the locked mode restarts nothing */
	p = &kc->pccs[pcc_slot(kc->nr_pcc, kc->pcc_map)];
	pcc_lock(p);
	return p;
}

/* Any pcc, held, from any thread. */
static void pcc_hold(struct kmem_cache *kc, struct pcc *p)
{
	if (kc->pcc_mode == PCC_MODE_RSEQ)
		pcc_rseq_hold(p);
	else
		pcc_lock(p);
}

static inline void pcc_leave(struct kmem_cache *kc, struct pcc *p)
{
	if (kc->pcc_mode == PCC_MODE_RSEQ)
		pcc_rseq_leave(p, p->loaded->nr_rounds);
	else
		pcc_unlock(p);
}

/* ---------------------------------------------------------------------- */
/* Magazines                                                               */

struct magazine *magazine_alloc(void)
{
	struct magazine *m = kmem_cache_alloc(kmem_magazine_cache, MEM_ATOMIC);

	if (m) {
		m->next = NULL;
		m->nr_rounds = 0;
	}
	return m;
}

void magazine_free(struct magazine *m)
{
	kmem_cache_free(kmem_magazine_cache, m);
}

/* Gives every round back to the slab layer (dtor first). */
static void magazine_empty_rounds(struct kmem_cache *kc, struct magazine *m)
{
	while (m->nr_rounds)
		slab_destruct_and_free(kc, m->rounds[--m->nr_rounds]);
}

/* Empties and frees a list of magazines; returns how many. */
static size_t magazine_free_list(struct kmem_cache *kc, struct magazine *m)
{
	size_t n = 0;

	while (m) {
		struct magazine *next = m->next;

		magazine_empty_rounds(kc, m);
		magazine_free(m);
		atomic_fetch_sub(&kc->mags_allocated, 1);
		n++;
		m = next;
	}
	return n;
}

static struct magazine *mag_pop(struct magazine **list)
{
	struct magazine *m = *list;

	*list = m->next;
	m->next = NULL;
	return m;
}

static void mag_push(struct magazine **list, struct magazine *m)
{
	m->next = *list;
	*list = m;
}

/* ---------------------------------------------------------------------- */
/* The depot                                                               */

/* One depot visit: what happened under the depot lock, kept so that its
 * events are emitted after the lock is dropped.  Recording an event costs
 * far more than the few pointer moves the lock protects; emitting inside
 * would stretch the most contended critical section there is.  Every
 * counter is still bumped under the lock, and every bump gets exactly one
 * event, so counts and events still agree. */
struct depot_visit {
	/* Set by visit_init; the flags say which of the rest are set. */
	uint32_t slot;
	int side;
	uint64_t now;                   /* acquisition time (0: not read) */
	bool contended, counted, exchanged, missed, adopted;
	/* contended */
	uint64_t wait_ns, busy_count, window_ns;
	/* exchanged */
	uint32_t rounds_got, rounds_put;
	uint64_t nr_not_empty, nr_empty;
	/* adopted */
	unsigned int old_magsize, new_magsize;
};

/* Field by field, not `= { ... }`: zeroing the whole struct compiles to a
 * `rep stos` that cost a third of a depot visit (perf, batch pattern). */
static inline void visit_init(struct depot_visit *v, uint32_t slot, int side)
{
	v->slot = slot;
	v->side = side;
	v->now = 0;
	v->contended = v->counted = v->exchanged = v->missed = false;
	v->adopted = false;
}

/* The depot lock without the contention bookkeeping: for readers and
 * setters, whose waits are not what the policy measures. */
static void depot_hold(struct depot *d)
{
	if (!ms_trylock(&d->lock))
		ms_lock_wait(&d->lock);
}

/* Trylock, then lock; on contention, time the wait and tell the policy. */
static void depot_lock(struct depot *d, struct depot_visit *v)
{
	uint64_t t0;

	if (ms_trylock(&d->lock)) {
		/* A clock read is not free: only interval policies need it. */
		v->now = d->policy->uses_intervals ? magslab_now_ns() : 0;
		return;
	}
	t0 = magslab_now_ns();
	ms_lock_wait(&d->lock);
	v->now = magslab_now_ns();
	v->contended = true;
	v->wait_ns = v->now - t0;
	d->contended++;
	d->wait_ns += v->wait_ns;
	if (v->wait_ns > d->wait_max_ns)
		d->wait_max_ns = v->wait_ns;
	v->counted = d->policy->contended(d, v->now);
	if (v->counted)
		d->contended_counted++;
	v->busy_count = d->busy_count;
	v->window_ns = v->now - d->busy_start;
}

static void depot_visit_emit(struct kmem_cache *kc, const struct depot_visit *v)
{
	if (v->contended)
		ms_trace(depot_contention, kc->id, v->slot, v->wait_ns,
			 v->busy_count, (uint8_t)v->counted, v->window_ns);
	if (v->adopted)
		ms_trace(pcc_magsize, kc->id, v->slot, v->old_magsize,
			 v->new_magsize);
	if (v->exchanged) {
		ms_trace(depot_get, kc->id, v->slot, v->side, v->rounds_got,
			 v->nr_not_empty, v->nr_empty);
		ms_trace(depot_put, kc->id, v->slot, v->side, v->rounds_put,
			 v->nr_not_empty, v->nr_empty);
	}
	if (v->missed && v->side == KMEM_ALLOC_SIDE)
		ms_trace(depot_miss, kc->id, v->slot, KMEM_ALLOC_SIDE,
			 MS_OUTCOME_TO_SLAB);
	/* A free-side miss is emitted once its outcome is known. */
}

/* Lets the policy see the depot after this visit's change, unlocks, then
 * emits the visit's events. */
static void depot_unlock(struct kmem_cache *kc, struct depot *d,
			 const struct depot_visit *v)
{
	if (d->policy->uses_intervals)
		d->policy->acquired(d, v->now);
	if (d->purge_pending) {
		/* illumos: empty the depot; pccs notice purge_gen. */
		d->purge_pending = false;
		d->purge_gen++;
		magazine_free_list(kc, d->not_empty);
		magazine_free_list(kc, d->empty);
		d->not_empty = d->empty = NULL;
		d->nr_not_empty = d->nr_empty = 0;
	}
	ms_unlock(&d->lock);
	depot_visit_emit(kc, v);
}

/* A pcc that missed a purge gives its rounds back (depot lock held). */
static void pcc_catch_up_purge(struct kmem_cache *kc, struct pcc *p,
			       struct depot *d)
{
	if (p->purge_gen == d->purge_gen)
		return;
	p->purge_gen = d->purge_gen;
	magazine_empty_rounds(kc, p->loaded);
	magazine_empty_rounds(kc, p->prev);
}

/* Moves mag into the depot list and takes the head of the other one as
 * the pcc's new loaded; prev becomes what loaded was (depot lock held). */
static void depot_exchange(struct depot *d, struct pcc *p,
			   struct depot_visit *v, struct magazine **from,
			   size_t *nr_from, struct magazine **to, size_t *nr_to)
{
	struct magazine *got = mag_pop(from);

	(*nr_from)--;
	mag_push(to, p->prev);
	(*nr_to)++;
	d->gets[v->side]++;
	d->puts[v->side]++;
	v->exchanged = true;
	v->rounds_got = got->nr_rounds;
	v->rounds_put = p->prev->nr_rounds;
	v->nr_not_empty = d->nr_not_empty;
	v->nr_empty = d->nr_empty;
	p->prev = p->loaded;
	p->loaded = got;
}

/* Alloc side: trade prev (empty) for a not-empty depot magazine.  Both
 * pcc magazines are empty on entry.  Returns true if loaded now has rounds. */
static bool depot_get_full(struct kmem_cache *kc, struct pcc *p)
{
	struct depot_visit v;
	struct depot *d = &kc->depot;
	bool got;

	visit_init(&v, p->slot, KMEM_ALLOC_SIDE);
	depot_lock(d, &v);
	pcc_catch_up_purge(kc, p, d);
	got = d->not_empty != NULL;
	if (got) {
		depot_exchange(d, p, &v, &d->not_empty, &d->nr_not_empty,
			       &d->empty, &d->nr_empty);
	} else {
		d->misses[KMEM_ALLOC_SIDE]++;
		v.missed = true;
	}
	depot_unlock(kc, d, &v);
	return got;
}

enum free_exchange { FREE_RETRY, FREE_MISS };

/* Free side: adopt the depot's magsize, then trade prev (full) for an empty
 * depot magazine.  Returns FREE_RETRY if loaded may now take the object. */
static enum free_exchange depot_get_empty(struct kmem_cache *kc, struct pcc *p)
{
	struct depot_visit v;
	struct depot *d = &kc->depot;
	enum free_exchange r = FREE_RETRY;

	visit_init(&v, p->slot, KMEM_FREE_SIDE);
	depot_lock(d, &v);
	pcc_catch_up_purge(kc, p, d);
	if (p->magsize != d->magsize) {
		v.adopted = true;
		v.old_magsize = p->magsize;
		v.new_magsize = d->magsize;
		p->magsize = d->magsize;
	}
	if (p->loaded->nr_rounds < p->magsize ||
	    p->prev->nr_rounds < p->magsize) {
		/* A grow (or a purge) made room: no exchange needed. */
	} else if (d->empty) {
		depot_exchange(d, p, &v, &d->empty, &d->nr_empty,
			       &d->not_empty, &d->nr_not_empty);
	} else {
		d->misses[KMEM_FREE_SIDE]++;
		v.missed = true;
		r = FREE_MISS;
	}
	depot_unlock(kc, d, &v);
	return r;
}

/* A freshly allocated magazine joins the depot's empty list. */
static void depot_add_empty(struct kmem_cache *kc, struct magazine *m,
			    uint32_t slot)
{
	struct depot_visit v;
	struct depot *d = &kc->depot;

	visit_init(&v, slot, KMEM_FREE_SIDE);
	depot_lock(d, &v);
	mag_push(&d->empty, m);
	d->nr_empty++;
	depot_unlock(kc, d, &v);
}

/* ---------------------------------------------------------------------- */
/* Alloc and free                                                          */

static void swap_mags(struct pcc *p, int side)
{
	struct magazine *t = p->loaded;

	p->loaded = p->prev;
	p->prev = t;
	p->swaps[side]++;
	ms_trace(mag_swap, p->cache_id, p->slot, side, p->loaded->nr_rounds,
		 p->prev->nr_rounds);
}

static void *alloc_from_slab(struct kmem_cache *kc, int flags, uint32_t slot)
{
	void *obj = slab_alloc_obj(kc, flags);

	if (obj && kc->debug)
		debug_on_alloc(kc, obj, false);
	ms_trace_full(alloc, kc->id, slot, (uint64_t)(uintptr_t)obj,
		      MS_LAYER_SLAB);
	(void)slot;
	return obj;
}

/* An object leaves the magazine layer (layer: MS_LAYER_PCC or _DEPOT). */
static inline void *alloc_done(struct kmem_cache *kc, void *obj,
			       uint32_t slot, int layer)
{
	if (kc->debug)
		debug_on_alloc(kc, obj, true);
	ms_trace_full(alloc, kc->id, slot, (uint64_t)(uintptr_t)obj, layer);
	(void)slot, (void)layer;
	return obj;
}

/* The alloc path on a held pcc: loaded, prev, then the depot.  NULL: the
 * object must come from a slab.  *layer becomes MS_LAYER_DEPOT if the
 * depot was visited. */
static inline void *alloc_held(struct kmem_cache *kc, struct pcc *p,
			       int *layer)
{
	p->allocs++;
	for (;;) {
		if (p->loaded->nr_rounds) {
			p->hits++;
			return p->loaded->rounds[--p->loaded->nr_rounds];
		}
		if (p->prev->nr_rounds) {
			swap_mags(p, KMEM_ALLOC_SIDE);
			continue;
		}
		if (!depot_get_full(kc, p))
			return NULL;
		*layer = MS_LAYER_DEPOT;
	}
}

/* Everything but an rseq hit: hold the pcc, then alloc_held. */
static __attribute__((noinline)) void *
alloc_slow(struct kmem_cache *kc, int flags, unsigned int aborts)
{
	int layer = MS_LAYER_PCC;       /* for the TRACE=full alloc event */
	struct pcc *p = pcc_enter(kc, aborts);
	uint32_t slot = p->slot;
	void *obj = alloc_held(kc, p, &layer);

	pcc_leave(kc, p);
	if (obj)
		return alloc_done(kc, obj, slot, layer);
	return alloc_from_slab(kc, flags, slot);
}

/* Every cache but an rseq one without debug checks. */
static __attribute__((noinline)) void *alloc_other(struct kmem_cache *kc,
						  int flags)
{
	if (!kc) {
		ms_error(EINVAL, "kmem_cache_alloc: NULL cache");
		return NULL;
	}
	if (kc->no_mags) {
		atomic_fetch_add_explicit(&kc->direct_allocs, 1,
					  memory_order_relaxed);
		return alloc_from_slab(kc, flags, 0);
	}
	return alloc_slow(kc, flags, 0);
}

/* HOT PATH.  The rseq hit inline; anything else out of line, so that the
 * hit needs no stack frame. */
void *kmem_cache_alloc(struct kmem_cache *kc, int flags)
{
#if PCC_RSEQ_CAPABLE
	if (__builtin_expect(kc != NULL && kc->rseq_fast, 1)) {
		struct pcc *p;
		void *obj;

		switch (pcc_rseq_alloc(kc->pccs, kc->nr_pcc, &obj, &p)) {
		case PCC_HIT:
			ms_trace_full(alloc, kc->id, p->slot,
				      (uint64_t)(uintptr_t)obj, MS_LAYER_PCC);
			(void)p;
			return obj;
		case PCC_BAIL:
			return alloc_slow(kc, flags, 0);
		case PCC_ABORT:
			return alloc_slow(kc, flags, 1);
		}
	}
#endif
	return alloc_other(kc, flags);
}

void *kmem_cache_zalloc(struct kmem_cache *kc, int flags)
{
	void *obj;

	if (kc && (kc->flags & KMC_NOTOUCH)) {
		ms_error(EINVAL, "cache '%s': kmem_cache_zalloc on a NOTOUCH cache",
			 kc->name);
		return NULL;
	}
	obj = kmem_cache_alloc(kc, flags);
	if (obj)
		memset(obj, 0, kc->obj_size);
	return obj;
}

/* The free path's slow end: no empty magazine anywhere.  Allocates one
 * with no lock held; without one, the object goes back to its slab. */
static bool free_needs_magazine(struct kmem_cache *kc, void *obj,
				uint32_t slot)
{
	struct magazine *m = magazine_alloc();

	ms_trace(depot_miss, kc->id, slot, KMEM_FREE_SIDE,
		 m ? MS_OUTCOME_NEW_MAGAZINE : MS_OUTCOME_NO_MAGAZINE);
	if (!m) {
		slab_destruct_and_free(kc, obj);
		ms_trace_full(free, kc->id, slot, (uint64_t)(uintptr_t)obj,
			      MS_LAYER_SLAB);
		return false;
	}
	atomic_fetch_add(&kc->mags_allocated, 1);
	depot_add_empty(kc, m, slot);
	return true;
}

/* The free path on a held pcc: loaded, prev, then the depot.  false: no
 * empty magazine anywhere (the pcc is still held). */
static inline bool free_held(struct kmem_cache *kc, struct pcc *p, void *obj,
			     int *layer)
{
	for (;;) {
		if (p->loaded->nr_rounds < p->magsize) {
			p->loaded->rounds[p->loaded->nr_rounds++] = obj;
			p->hits++;
			return true;
		}
		/* Room, not emptiness: FAQ "the swap rule". */
		if (p->prev->nr_rounds < p->magsize) {
			swap_mags(p, KMEM_FREE_SIDE);
			continue;
		}
		*layer = MS_LAYER_DEPOT;
		if (depot_get_empty(kc, p) == FREE_MISS)
			return false;
	}
}

/* Everything but an rseq hit. */
static __attribute__((noinline)) void
free_slow(struct kmem_cache *kc, void *obj, unsigned int aborts)
{
	int layer = MS_LAYER_PCC;       /* for the TRACE=full free event */
	struct pcc *p = pcc_enter(kc, aborts);
	uint32_t slot;

	p->frees++;
	while (!free_held(kc, p, obj, &layer)) {
		slot = p->slot;
		pcc_leave(kc, p);
		if (!free_needs_magazine(kc, obj, slot))
			return;
		p = pcc_enter(kc, 0);   /* we may be on another CPU now */
	}
	slot = p->slot;
	pcc_leave(kc, p);
	ms_trace_full(free, kc->id, slot, (uint64_t)(uintptr_t)obj, layer);
	(void)layer;
}

/* Every cache but an rseq one without debug checks, and NULL objects. */
static __attribute__((noinline)) void free_other(struct kmem_cache *kc,
						void *obj)
{
	if (!kc) {
		ms_error(EINVAL, "kmem_cache_free(%p): NULL cache", obj);
		return;
	}
	if (!obj)
		return;
	if (kc->debug && !debug_on_free(kc, obj))
		return;
	if (kc->no_mags) {
		atomic_fetch_add_explicit(&kc->direct_frees, 1,
					  memory_order_relaxed);
		slab_destruct_and_free(kc, obj);
		ms_trace_full(free, kc->id, 0, (uint64_t)(uintptr_t)obj,
			      MS_LAYER_SLAB);
		return;
	}
	free_slow(kc, obj, 0);
}

/* HOT PATH, as kmem_cache_alloc. */
void kmem_cache_free(struct kmem_cache *kc, void *obj)
{
#if PCC_RSEQ_CAPABLE
	if (__builtin_expect(kc != NULL && kc->rseq_fast && obj != NULL, 1)) {
		struct pcc *p;

		switch (pcc_rseq_free(kc->pccs, kc->nr_pcc, obj, &p)) {
		case PCC_HIT:
			ms_trace_full(free, kc->id, p->slot,
				      (uint64_t)(uintptr_t)obj, MS_LAYER_PCC);
			(void)p;
			return;
		case PCC_BAIL:
			free_slow(kc, obj, 0);
			return;
		case PCC_ABORT:
			free_slow(kc, obj, 1);
			return;
		}
	}
#endif
	free_other(kc, obj);
}

/* ---------------------------------------------------------------------- */
/* Life cycle                                                              */

static size_t pcc_array_size(unsigned int n)
{
	size_t pg = arena_quantum(arena_base());

	return ((size_t)n * sizeof(struct pcc) + pg - 1) / pg * pg;
}

static void pccs_free(struct kmem_cache *kc)
{
	for (unsigned int i = 0; i < kc->nr_pcc; i++) {
		if (kc->pccs[i].loaded)
			magazine_free(kc->pccs[i].loaded);
		if (kc->pccs[i].prev)
			magazine_free(kc->pccs[i].prev);
	}
	arena_free(arena_base(), kc->pccs, pcc_array_size(kc->nr_pcc));
	kc->pccs = NULL;
	kc->nr_pcc = 0;
}

static void depot_init(struct kmem_cache *kc, const struct magslab_config *cfg)
{
	const struct resize_policy *pol = policy_by_name(cfg->policy);

	ms_lock_init(&kc->depot.lock);
	kc->depot.cache_id = kc->id;
	depot_policy_init(&kc->depot, pol ? pol : policy_default(),
			  cfg->resize_threshold, cfg->resize_timeout_ns,
			  MAG_MIN_ROUNDS, magslab_now_ns());
}

static int pcc_init(struct kmem_cache *kc, struct pcc *p, unsigned int slot)
{
	p->cache_id = kc->id;
	p->slot = slot;
	p->magsize = kc->depot.magsize;
	p->loaded = magazine_alloc();
	p->prev = magazine_alloc();
	if (!p->loaded || !p->prev)
		return -1;
	pcc_init_hot(p);
	atomic_fetch_add(&kc->mags_allocated, 2);
	return 0;
}

int magazine_layer_init(struct kmem_cache *kc, unsigned int nr_pcc)
{
	struct magslab_config cfg;

	magslab_config_get(&cfg);
	depot_init(kc, &cfg);
	if (kc->no_mags) {
		kc->pcc_mode = PCC_MODE_NONE;
		kc->pcc_mode_why = "no magazine layer (KMC_NOMAG)";
		return 0;
	}
	kc->pcc_mode = pcc_mode_choose(cfg.pcc_mode, nr_pcc, kc->pcc_map,
				       &kc->pcc_mode_why);
	/* Debug checks run on the slow path (it holds the pcc all the same). */
	kc->rseq_fast = kc->pcc_mode == PCC_MODE_RSEQ && !kc->debug;
	kc->pccs = arena_alloc(arena_base(), pcc_array_size(nr_pcc),
			       MEM_ATOMIC);
	if (!kc->pccs)
		return -1;
	memset(kc->pccs, 0, (size_t)nr_pcc * sizeof(struct pcc));
	kc->nr_pcc = nr_pcc;
	for (unsigned int i = 0; i < nr_pcc; i++) {
		if (pcc_init(kc, &kc->pccs[i], i)) {
			pccs_free(kc);
			return -1;
		}
	}
	return 0;
}

void magazine_layer_drain(struct kmem_cache *kc)
{
	struct depot *d = &kc->depot;

	for (unsigned int i = 0; i < kc->nr_pcc; i++) {
		struct pcc *p = &kc->pccs[i];

		pcc_hold(kc, p);
		magazine_empty_rounds(kc, p->loaded);
		magazine_empty_rounds(kc, p->prev);
		pcc_leave(kc, p);
	}
	depot_hold(d);
	magazine_free_list(kc, d->not_empty);
	magazine_free_list(kc, d->empty);
	d->not_empty = d->empty = NULL;
	d->nr_not_empty = d->nr_empty = 0;
	ms_unlock(&d->lock);
}

/* ---- fork (fork.c holds the order: every pcc, then every depot) ---- */

void magazine_layer_fork_hold_pccs(struct kmem_cache *kc)
{
	for (unsigned int i = 0; i < kc->nr_pcc; i++)
		pcc_hold(kc, &kc->pccs[i]);
}

void magazine_layer_fork_lock_depot(struct kmem_cache *kc)
{
	depot_hold(&kc->depot);
}

/* In the child only the forking thread exists: a `want` raised by a
 * waiter of the parent would make every later trylock defer forever. */
void magazine_layer_fork_release(struct kmem_cache *kc, bool child)
{
	if (child)
		atomic_store(&kc->depot.lock.want, 0);
	ms_unlock(&kc->depot.lock);
	for (unsigned int i = 0; i < kc->nr_pcc; i++) {
		struct pcc *p = &kc->pccs[i];

		if (child && kc->pcc_mode == PCC_MODE_LOCKED)
			atomic_store(&p->lock.want, 0);
		pcc_leave(kc, p);
	}
}

void magazine_layer_fini(struct kmem_cache *kc)
{
	kc->rseq_fast = false;          /* the pccs are about to go */
	if (kc->pccs)
		pccs_free(kc);
}

/* Takes up to n magazines off a depot list into *out. */
static size_t take_mags(struct magazine **list, size_t n,
			struct magazine **out)
{
	size_t taken = 0;

	for (; taken < n && *list; taken++)
		mag_push(out, mag_pop(list));
	return taken;
}

size_t magazine_layer_reap(struct kmem_cache *kc)
{
	struct depot *d = &kc->depot;
	struct magazine *doomed = NULL;
	size_t full = 0, empty = 0, n;

	if (kc->no_mags)
		return 0;
	depot_hold(d);
	d->policy->reap(d, magslab_now_ns(), &full, &empty);
	d->nr_not_empty -= take_mags(&d->not_empty, full, &doomed);
	d->nr_empty -= take_mags(&d->empty, empty, &doomed);
	ms_unlock(&d->lock);
	n = magazine_free_list(kc, doomed);
	return n * sizeof(struct magazine);
}

/* ---------------------------------------------------------------------- */
/* Stats and tunables                                                      */

static void pcc_stats(struct kmem_cache *kc, struct kmem_cache_stats *st)
{
	st->pcc_magsize_min = MAG_MAX_ROUNDS;
	for (unsigned int i = 0; i < kc->nr_pcc; i++) {
		struct pcc *p = &kc->pccs[i];

		pcc_hold(kc, p);
		st->allocs += p->allocs;
		st->frees += p->frees;
		st->pcc_hits += p->hits;
		st->mag_swaps[0] += p->swaps[0];
		st->mag_swaps[1] += p->swaps[1];
		st->pcc_contended += p->contended;
		st->pcc_wait_ns += p->wait_ns;
		st->pcc_aborts += p->aborts;
		st->objs_in_mags += p->loaded->nr_rounds + p->prev->nr_rounds;
		if (p->magsize < st->pcc_magsize_min)
			st->pcc_magsize_min = p->magsize;
		if (p->magsize > st->pcc_magsize_max)
			st->pcc_magsize_max = p->magsize;
		pcc_leave(kc, p);
	}
	if (!kc->nr_pcc)
		st->pcc_magsize_min = 0;
}

static void depot_stats(struct kmem_cache *kc, struct kmem_cache_stats *st)
{
	struct depot *d = &kc->depot;

	depot_hold(d);
	for (int s = 0; s < 2; s++) {
		st->depot_gets[s] = d->gets[s];
		st->depot_puts[s] = d->puts[s];
		st->depot_misses[s] = d->misses[s];
	}
	st->depot_contended = d->contended;
	st->depot_contended_counted = d->contended_counted;
	st->contention_wait_ns = d->wait_ns;
	st->contention_wait_max_ns = d->wait_max_ns;
	st->magsize_up = d->magsize_up;
	st->magsize_down = d->magsize_down;
	st->magsize = d->magsize;
	st->depot_full = d->nr_not_empty;
	st->depot_empty = d->nr_empty;
	for (struct magazine *m = d->not_empty; m; m = m->next)
		st->objs_in_mags += m->nr_rounds;
	st->resize_threshold = d->threshold;
	st->resize_timeout_ns = d->timeout_ns;
	snprintf(st->policy, sizeof(st->policy), "%s", d->policy->name);
	ms_unlock(&d->lock);
}

void magazine_layer_stats(struct kmem_cache *kc, struct kmem_cache_stats *st)
{
	pcc_stats(kc, st);
	depot_stats(kc, st);
	st->nr_pcc = kc->nr_pcc;
	snprintf(st->pcc_mode, sizeof(st->pcc_mode), "%s",
		 pcc_mode_name(kc->pcc_mode));
	snprintf(st->pcc_mode_why, sizeof(st->pcc_mode_why), "%s",
		 kc->pcc_mode_why ? kc->pcc_mode_why : "");
	st->allocs += atomic_load(&kc->direct_allocs);
	st->frees += atomic_load(&kc->direct_frees);
	st->mags_allocated = atomic_load(&kc->mags_allocated);
	st->bytes_in_mags = st->objs_in_mags * kc->stride +
			    st->mags_allocated * sizeof(struct magazine);
}

unsigned int kmem_cache_pcc_magsizes(struct kmem_cache *kc, unsigned int *out,
				     unsigned int n)
{
	if (!kmem_cache_check(kc, "kmem_cache_pcc_magsizes"))
		return 0;
	for (unsigned int i = 0; i < kc->nr_pcc && i < n; i++) {
		pcc_hold(kc, &kc->pccs[i]);
		out[i] = kc->pccs[i].magsize;
		pcc_leave(kc, &kc->pccs[i]);
	}
	return kc->nr_pcc;
}

/* Runs set(d, arg) under the depot lock after the common checks. */
static int depot_setter(struct kmem_cache *kc, const char *fn, bool ok,
			const char *why, void (*set)(struct depot *, uint64_t),
			uint64_t arg)
{
	if (!kmem_cache_check(kc, fn))
		return -1;
	if (!ok) {
		ms_error(EINVAL, "cache '%s': %s: %s", kc->name, fn, why);
		return -1;
	}
	depot_hold(&kc->depot);
	set(&kc->depot, arg);
	ms_unlock(&kc->depot.lock);
	return 0;
}

static void set_threshold(struct depot *d, uint64_t t)
{
	d->threshold = t;
}

static void set_timeout(struct depot *d, uint64_t ns)
{
	d->timeout_ns = ns;
}

static void set_magsize(struct depot *d, uint64_t rounds)
{
	depot_set_magsize(d, (unsigned int)rounds, RESIZE_USER);
}

int kmem_cache_set_resize_threshold(struct kmem_cache *kc, uint64_t t)
{
	return depot_setter(kc, "kmem_cache_set_resize_threshold", true, "",
			    set_threshold, t);
}

int kmem_cache_set_resize_timeout_ns(struct kmem_cache *kc, uint64_t ns)
{
	return depot_setter(kc, "kmem_cache_set_resize_timeout_ns", ns > 0,
			    "timeout 0 ns (use 1 or more)", set_timeout, ns);
}

int kmem_cache_set_magsize(struct kmem_cache *kc, unsigned int rounds)
{
	return depot_setter(kc, "kmem_cache_set_magsize",
			    rounds >= MAG_MIN_ROUNDS && rounds <= MAG_MAX_ROUNDS,
			    "magsize outside [8, 62]", set_magsize, rounds);
}

int kmem_cache_set_policy(struct kmem_cache *kc, const char *name)
{
	const struct resize_policy *p = name ? policy_by_name(name) : NULL;

	if (!kmem_cache_check(kc, "kmem_cache_set_policy"))
		return -1;
	if (!p) {
		ms_error(EINVAL, "cache '%s': kmem_cache_set_policy: unknown policy '%s' (known: %s)",
			 kc->name, name ? name : "(null)", policy_names());
		return -1;
	}
	depot_hold(&kc->depot);
	depot_policy_switch(&kc->depot, p, magslab_now_ns());
	ms_unlock(&kc->depot.lock);
	return 0;
}
