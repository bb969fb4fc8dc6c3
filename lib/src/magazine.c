/*
 * magazine.c — the magazine layer: per-CPU caches (pcc), magazines, the
 * depot, and the kmem_cache_alloc/free entry points.
 *
 * Lock order: pcc -> depot -> slab -> arena.  A pcc lock is held across a
 * depot visit; neither is held while a new magazine is allocated (the free
 * path drops both first), nor while an object goes to the slab layer from
 * the alloc path.  Rounds freed to slabs under the depot lock (purge) take
 * kc->lock inside it, which the order allows.
 *
 * Big picture (Bonwick & Adams 2001, section 3; Akaros slab.c):
 *
 *   pcc[slot]: loaded, prev — the slot is picked by the CPU the thread runs
 *       on (or per thread), and a thread may be preempted or migrate while
 *       holding it, so each pcc has a real (spinning, then yielding) lock;
 *       it counts, and times, every time it is found held.
 *   depot: not_empty and empty magazine lists, the magsize pccs adopt, and
 *       the resize policy's state (policy.c).  Every acquisition tries the
 *       lock first; a failed trylock is the contention signal the policy
 *       feeds on, timed from before blocking.
 *
 * Invariants: a pcc's loaded and prev are never NULL (magazine caches
 * excepted: no_mags caches have no pccs at all); a magazine is in exactly one
 * place (a pcc, a depot list, or being freed); depot.nr_not_empty and
 * nr_empty are the list lengths; every depot magazine on not_empty has at
 * least one round, every one on empty has none.
 *
 * FAQ:
 * - Why is a new magazine put on the depot's empty list instead of straight
 *   into the pcc?  The pcc lock was dropped to allocate it; the thread may
 *   now be on another slot, whose state we no longer know.  Going through
 *   the depot keeps the one exchange path (and its counters) exact.
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
#include "trace.h"

#include <errno.h>
#include <sched.h>
#include <string.h>

#define PCC_SPINS_BEFORE_YIELD 64

/* ---------------------------------------------------------------------- */
/* The pcc lock                                                            */

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* Spins, then yields.  A waiter that has had to yield raises `want`, and
 * while it is up, a newcomer yields once before trying: without that, a
 * thread in a tight alloc/free loop re-takes the lock within nanoseconds of
 * dropping it, and a waiter on the other CPU (the stats reader, a migrated
 * thread) can starve for hundreds of milliseconds.  Only a lock actually
 * found held counts as contention. */
static void pcc_lock_slow(struct pcc *p)
{
	uint64_t t0 = magslab_now_ns();
	bool held = false, wanting = false;

	if (atomic_load_explicit(&p->want, memory_order_relaxed))
		sched_yield();
	for (unsigned int spins = 0;; spins++) {
		if (!atomic_load_explicit(&p->lock, memory_order_relaxed) &&
		    !atomic_exchange_explicit(&p->lock, 1,
					      memory_order_acquire))
			break;
		held = true;
		if (spins < PCC_SPINS_BEFORE_YIELD) {
			cpu_relax();
			continue;
		}
		if (!wanting) {
			atomic_fetch_add_explicit(&p->want, 1,
						  memory_order_relaxed);
			wanting = true;
		}
		sched_yield();
	}
	if (wanting)
		atomic_fetch_sub_explicit(&p->want, 1, memory_order_relaxed);
	if (!held)
		return;
	t0 = magslab_now_ns() - t0;
	p->contended++;
	p->wait_ns += t0;
	ms_trace(pcc_contention, p->cache_id, p->slot, t0);
}

static inline void pcc_lock(struct pcc *p)
{
	if (__builtin_expect(!atomic_load_explicit(&p->want,
						   memory_order_relaxed) &&
			     !atomic_exchange_explicit(&p->lock, 1,
						       memory_order_acquire), 1))
		return;
	pcc_lock_slow(p);
}

static inline void pcc_unlock(struct pcc *p)
{
	atomic_store_explicit(&p->lock, 0, memory_order_release);
}

static inline struct pcc *my_pcc(struct kmem_cache *kc)
{
	return &kc->pccs[pcc_slot(kc->nr_pcc, kc->pcc_map)];
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
	uint32_t slot;
	uint64_t now;                   /* acquisition time (0: not read) */
	bool contended, counted;
	uint64_t wait_ns, busy_count, window_ns;
	int side;
	bool exchanged, missed;
	uint32_t rounds_got, rounds_put;
	uint64_t nr_not_empty, nr_empty;
	bool adopted;
	unsigned int old_magsize, new_magsize;
};

/* Trylock, then lock; on contention, time the wait and tell the policy. */
static void depot_lock(struct depot *d, struct depot_visit *v)
{
	uint64_t t0;

	if (pthread_mutex_trylock(&d->lock) == 0) {
		/* A clock read is not free: only interval policies need it. */
		v->now = d->policy->uses_intervals ? magslab_now_ns() : 0;
		return;
	}
	t0 = magslab_now_ns();
	pthread_mutex_lock(&d->lock);
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
	pthread_mutex_unlock(&d->lock);
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
	struct depot_visit v = { .slot = p->slot, .side = KMEM_ALLOC_SIDE };
	struct depot *d = &kc->depot;
	bool got;

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
	struct depot_visit v = { .slot = p->slot, .side = KMEM_FREE_SIDE };
	struct depot *d = &kc->depot;
	enum free_exchange r = FREE_RETRY;

	depot_lock(d, &v);
	pcc_catch_up_purge(kc, p, d);
	if (p->magsize != d->magsize) {
		v.adopted = true;
		v.old_magsize = p->magsize;
		v.new_magsize = d->magsize;
		p->magsize = d->magsize;
	}
	if (p->loaded->nr_rounds < p->magsize || p->prev->nr_rounds == 0) {
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
	struct depot_visit v = { .slot = slot, .side = KMEM_FREE_SIDE };
	struct depot *d = &kc->depot;

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

void *kmem_cache_alloc(struct kmem_cache *kc, int flags)
{
	struct pcc *p;

	if (__builtin_expect(!kc, 0)) {
		ms_error(EINVAL, "kmem_cache_alloc: NULL cache");
		return NULL;
	}
	if (kc->no_mags) {
		atomic_fetch_add_explicit(&kc->direct_allocs, 1,
					  memory_order_relaxed);
		return alloc_from_slab(kc, flags, 0);
	}
	int layer = MS_LAYER_PCC;       /* for the TRACE=full alloc event */

	p = my_pcc(kc);
	pcc_lock(p);
	p->allocs++;
	for (;;) {
		if (p->loaded->nr_rounds) {
			void *obj = p->loaded->rounds[--p->loaded->nr_rounds];

			p->hits++;
			pcc_unlock(p);
			if (kc->debug)
				debug_on_alloc(kc, obj, true);
			ms_trace_full(alloc, kc->id, p->slot,
				      (uint64_t)(uintptr_t)obj, layer);
			(void)layer;
			return obj;
		}
		if (p->prev->nr_rounds) {
			swap_mags(p, KMEM_ALLOC_SIDE);
			continue;
		}
		if (!depot_get_full(kc, p))
			break;
		layer = MS_LAYER_DEPOT;
	}
	pcc_unlock(p);
	return alloc_from_slab(kc, flags, p->slot);
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

void kmem_cache_free(struct kmem_cache *kc, void *obj)
{
	struct pcc *p;

	if (__builtin_expect(!kc, 0)) {
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
	int layer = MS_LAYER_PCC;       /* for the TRACE=full free event */

	p = my_pcc(kc);
	pcc_lock(p);
	p->frees++;
	for (;;) {
		uint32_t slot;

		if (p->loaded->nr_rounds < p->magsize) {
			p->loaded->rounds[p->loaded->nr_rounds++] = obj;
			p->hits++;
			pcc_unlock(p);
			ms_trace_full(free, kc->id, p->slot,
				      (uint64_t)(uintptr_t)obj, layer);
			(void)layer;
			return;
		}
		if (p->prev->nr_rounds == 0) {
			swap_mags(p, KMEM_FREE_SIDE);
			continue;
		}
		layer = MS_LAYER_DEPOT;
		if (depot_get_empty(kc, p) == FREE_RETRY)
			continue;
		slot = p->slot;
		pcc_unlock(p);
		if (!free_needs_magazine(kc, obj, slot))
			return;
		p = my_pcc(kc);         /* we may be on another CPU now */
		pcc_lock(p);
	}
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

static void depot_init(struct kmem_cache *kc)
{
	struct magslab_config cfg;
	const struct resize_policy *pol;

	magslab_config_get(&cfg);
	pol = policy_by_name(cfg.policy);
	pthread_mutex_init(&kc->depot.lock, NULL);
	kc->depot.cache_id = kc->id;
	depot_policy_init(&kc->depot, pol ? pol : policy_default(),
			  cfg.resize_threshold, cfg.resize_timeout_ns,
			  MAG_MIN_ROUNDS, magslab_now_ns());
}

int magazine_layer_init(struct kmem_cache *kc, unsigned int nr_pcc)
{
	depot_init(kc);
	if (kc->no_mags)
		return 0;
	kc->pccs = arena_alloc(arena_base(), pcc_array_size(nr_pcc),
			       MEM_ATOMIC);
	if (!kc->pccs)
		return -1;
	memset(kc->pccs, 0, (size_t)nr_pcc * sizeof(struct pcc));
	kc->nr_pcc = nr_pcc;
	for (unsigned int i = 0; i < nr_pcc; i++) {
		struct pcc *p = &kc->pccs[i];

		p->cache_id = kc->id;
		p->slot = i;
		p->magsize = kc->depot.magsize;
		p->loaded = magazine_alloc();
		p->prev = magazine_alloc();
		if (!p->loaded || !p->prev) {
			pccs_free(kc);
			return -1;
		}
		atomic_fetch_add(&kc->mags_allocated, 2);
	}
	return 0;
}

void magazine_layer_drain(struct kmem_cache *kc)
{
	struct depot *d = &kc->depot;

	for (unsigned int i = 0; i < kc->nr_pcc; i++) {
		struct pcc *p = &kc->pccs[i];

		pcc_lock(p);
		magazine_empty_rounds(kc, p->loaded);
		magazine_empty_rounds(kc, p->prev);
		pcc_unlock(p);
	}
	pthread_mutex_lock(&d->lock);
	magazine_free_list(kc, d->not_empty);
	magazine_free_list(kc, d->empty);
	d->not_empty = d->empty = NULL;
	d->nr_not_empty = d->nr_empty = 0;
	pthread_mutex_unlock(&d->lock);
}

void magazine_layer_fini(struct kmem_cache *kc)
{
	if (kc->pccs)
		pccs_free(kc);
	pthread_mutex_destroy(&kc->depot.lock);
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
	pthread_mutex_lock(&d->lock);
	d->policy->reap(d, magslab_now_ns(), &full, &empty);
	d->nr_not_empty -= take_mags(&d->not_empty, full, &doomed);
	d->nr_empty -= take_mags(&d->empty, empty, &doomed);
	pthread_mutex_unlock(&d->lock);
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

		pcc_lock(p);
		st->allocs += p->allocs;
		st->frees += p->frees;
		st->pcc_hits += p->hits;
		st->mag_swaps[0] += p->swaps[0];
		st->mag_swaps[1] += p->swaps[1];
		st->pcc_contended += p->contended;
		st->pcc_wait_ns += p->wait_ns;
		st->objs_in_mags += p->loaded->nr_rounds + p->prev->nr_rounds;
		if (p->magsize < st->pcc_magsize_min)
			st->pcc_magsize_min = p->magsize;
		if (p->magsize > st->pcc_magsize_max)
			st->pcc_magsize_max = p->magsize;
		pcc_unlock(p);
	}
	if (!kc->nr_pcc)
		st->pcc_magsize_min = 0;
}

static void depot_stats(struct kmem_cache *kc, struct kmem_cache_stats *st)
{
	struct depot *d = &kc->depot;

	pthread_mutex_lock(&d->lock);
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
	pthread_mutex_unlock(&d->lock);
}

void magazine_layer_stats(struct kmem_cache *kc, struct kmem_cache_stats *st)
{
	pcc_stats(kc, st);
	depot_stats(kc, st);
	st->nr_pcc = kc->nr_pcc;
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
		pcc_lock(&kc->pccs[i]);
		out[i] = kc->pccs[i].magsize;
		pcc_unlock(&kc->pccs[i]);
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
	pthread_mutex_lock(&kc->depot.lock);
	set(&kc->depot, arg);
	pthread_mutex_unlock(&kc->depot.lock);
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
	pthread_mutex_lock(&kc->depot.lock);
	depot_policy_switch(&kc->depot, p, magslab_now_ns());
	pthread_mutex_unlock(&kc->depot.lock);
	return 0;
}
