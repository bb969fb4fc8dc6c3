/*
 * magazine.c — the magazine layer: the per-CPU caches (pcc) and the
 * kmem_cache_alloc/free entry points; the depot they exchange magazines with
 * is depot.c's, how a pcc is held is pcc.c's.
 *
 * Owns: every cache's array of pccs (their loaded and prev magazines, their
 * magsize and counters: pcc.h), and the paths an object takes through them.
 * Calls go down only: to depot.c, and to the slab layer (slab.c) for what
 * the magazines cannot serve.
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
 * place (a pcc, a depot list, or being freed).
 *
 * FAQ:
 * - Where does the loaded magazine's round count live?  In rseq mode, in the
 *   pcc (`hot`'s low byte) while nobody holds the pcc, and in the magazine
 *   (nr_rounds) while someone does; pcc.c moves it between the two on every
 *   hold and release.  The reason is the counters: a hit must commit the new
 *   round count and count itself in one store, and one 64-bit word can hold
 *   both only if it is the pcc's (a magazine word would have to carry a
 *   pcc's hit count with it as it moves between pccs and the depot).  It
 *   also keeps every field a hit reads — hot, loaded, magsize — in the
 *   pcc's first cache line, which only its CPU writes.  The
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
 *   full.  Nothing is freed to make it fit.  And fewer: a magazine made for
 *   a smaller magsize is full at its capacity (depot.c: "magazine sizes");
 *   the rseq fast path reads that bound from the pcc's `fill`.
 * - Why does the free path re-check loaded after adopting the depot's
 *   magsize (depot_get_empty)?  A grow may have made room: the free then
 *   needs no exchange.
 */
#include "slab_impl.h"

#include "clock.h"
#include "config.h"
#include "cpu.h"
#include "error.h"
#include "pcc.h"
#include "pcc_rseq.h"
#include "depot.h"
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
		pcc_rseq_leave(p, p->loaded->nr_rounds,
			       mag_limit(p->loaded, p->magsize));
	else
		pcc_unlock(p);
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

/* What a free-side depot_miss event says of the pcc it missed on, taken while
 * it was held (trace events: its counters are exact only then). */
struct miss_pcc {
	uint32_t slot;
	unsigned int magsize;	/* the magazine to allocate fits it */
	uint64_t allocs, frees, hits;
};

/* The free path's slow end: no empty magazine anywhere.  Allocates one
 * with no lock held; without one, the object goes back to its slab. */
static bool free_needs_magazine(struct kmem_cache *kc, void *obj,
				const struct miss_pcc *mp)
{
	struct magazine *m = magazine_alloc(kc, mp->magsize);
	uint32_t slot = mp->slot;

	ms_trace(depot_miss, kc->id, slot, KMEM_FREE_SIDE,
		 m ? MS_OUTCOME_NEW_MAGAZINE : MS_OUTCOME_NO_MAGAZINE,
		 mp->allocs, mp->frees, mp->hits);
	if (!m) {
		slab_destruct_and_free(kc, obj);
		ms_trace_full(free, kc->id, slot, (uint64_t)(uintptr_t)obj,
			      MS_LAYER_SLAB);
		return false;
	}
	depot_add_empty(kc, m, slot);
	return true;
}

/* The free path on a held pcc: loaded, prev, then the depot.  false: no
 * empty magazine anywhere (the pcc is still held). */
static inline bool free_held(struct kmem_cache *kc, struct pcc *p, void *obj,
			     int *layer)
{
	for (;;) {
		if (p->loaded->nr_rounds < mag_limit(p->loaded, p->magsize)) {
			p->loaded->rounds[p->loaded->nr_rounds++] = obj;
			p->hits++;
			return true;
		}
		/* Room, not emptiness: FAQ "the swap rule". */
		if (p->prev->nr_rounds < mag_limit(p->prev, p->magsize)) {
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
		struct miss_pcc mp = { p->slot, p->magsize, p->allocs, p->frees, p->hits };

		pcc_leave(kc, p);
		if (!free_needs_magazine(kc, obj, &mp))
			return;
		p = pcc_enter(kc, 0);   /* we may be on another CPU now */
	}
	slot = p->slot;
	pcc_leave(kc, p);
	ms_trace_full(free, kc->id, slot, (uint64_t)(uintptr_t)obj, layer);
	(void)layer, (void)slot;
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
			magazine_free(kc, kc->pccs[i].loaded);
		if (kc->pccs[i].prev)
			magazine_free(kc, kc->pccs[i].prev);
	}
	arena_free(arena_base(), kc->pccs, pcc_array_size(kc->nr_pcc));
	kc->pccs = NULL;
	kc->nr_pcc = 0;
}

static int pcc_init(struct kmem_cache *kc, struct pcc *p, unsigned int slot)
{
	p->cache_id = kc->id;
	p->slot = slot;
	p->magsize = (uint16_t)kc->depot.magsize;
	p->loaded = magazine_alloc(kc, p->magsize);
	p->prev = magazine_alloc(kc, p->magsize);
	if (!p->loaded || !p->prev)
		return -1;
	pcc_init_hot(p, mag_limit(p->loaded, p->magsize));
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
	for (unsigned int i = 0; i < kc->nr_pcc; i++) {
		struct pcc *p = &kc->pccs[i];

		pcc_hold(kc, p);
		/* The hits since the slot's last depot visit (docs/events.md). */
		ms_trace(pcc_counters, kc->id, p->slot, p->allocs, p->frees,
			 p->hits);
		magazine_empty_rounds(kc, p->loaded);
		magazine_empty_rounds(kc, p->prev);
		pcc_leave(kc, p);
	}
	depot_drain(kc);
}

/* ---- fork (fork.c holds the order: every pcc, then every depot) ---- */

void magazine_layer_fork_hold_pccs(struct kmem_cache *kc)
{
	for (unsigned int i = 0; i < kc->nr_pcc; i++)
		pcc_hold(kc, &kc->pccs[i]);
}

void magazine_layer_fork_lock_depot(struct kmem_cache *kc)
{
	depot_fork_lock(kc);
}

/* In the child only the forking thread exists: a `want` raised by a
 * waiter of the parent would make every later trylock defer forever. */
void magazine_layer_fork_release(struct kmem_cache *kc, bool child)
{
	depot_fork_unlock(kc, child);
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

size_t magazine_layer_reap(struct kmem_cache *kc, size_t *nr)
{
	*nr = 0;
	return kc->no_mags ? 0 : depot_reap(kc, nr);
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
			    atomic_load(&kc->mag_bytes);
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

