/*
 * depot.c — the depot: each cache's lists of full and empty magazines, the
 * exchanges pccs make with it, its lock and the contention the resize
 * policy feeds on; and the magazines themselves.
 *
 * Owns: struct depot (policy.h) of every cache — the not_empty and empty
 * lists and their counts, the magsize pccs adopt, the exchange and miss
 * counters, the contention counters — under d->lock (mslock.h); and the
 * magazines on those lists.  The policy's own state is policy.c's (called
 * with d->lock held); the pccs are magazine.c's.
 *
 * Lock order: pcc -> depot -> slab -> arena.  A visit from a pcc runs with
 * that pcc held; rounds freed to slabs under the depot lock (purge, drain)
 * take kc->lock inside it, which the order allows.
 *
 * Invariants: depot.nr_not_empty and nr_empty are the list lengths; every
 * magazine on not_empty has at least one round, every one on empty has
 * none; a magazine is in exactly one place (a pcc, a depot list, or being
 * freed).
 *
 * FAQ:
 * - Why do magazines come in four sizes (8, 16, 30 and 62 rounds: 80, 144,
 *   256 and 512 bytes)?  Bonwick's kmem has magazine types for the same
 *   reason: a magazine holds pointers to objects that sit idle, and at the
 *   default magsize of 8 a 62-round magazine (Akaros's single size) is 87 %
 *   empty space.  A process that frees millions of objects at once — every
 *   interpreter at exit — then holds 64 bytes of magazine per idle object:
 *   Python under the malloc shim peaked at 1.86x glibc's RSS, 340 MB of it
 *   magazines (bench/results/programs.md).  A new magazine is the smallest
 *   size that holds the magsize; a pcc fills each magazine to the smaller of
 *   the magsize and its capacity (mag_limit), so a grow reaches the pccs as
 *   their magazines are replaced: full ones keep circulating at their size,
 *   and an empty one too small for the depot's magsize is swapped for one
 *   that fits when a free takes it (refit_empty).  The counters do not
 *   change meaning; bytes_in_mags counts each magazine at its own size.
 * - Why is every acquisition a trylock first?  A failed trylock is the
 *   contention signal of every resize policy (Akaros's rule: slab.h); the
 *   wait is timed from before blocking.  Readers and setters (stats,
 *   tunables, reap) take the lock without that bookkeeping: their waits
 *   are not what the policy measures.
 * - Why are a visit's events emitted after the lock is dropped?  Recording
 *   an event costs far more than the pointer moves the lock protects;
 *   emitting inside would stretch the most contended critical section there
 *   is.  Every counter is still bumped under the lock, and every bump gets
 *   exactly one event (an exchange, one get and one put, bumps exchanges[side]:
 *   its one depot_exchange event stands for both).
 * - Why do depot_exchange and depot_miss carry the pcc's allocs, frees and
 *   hits?  Hits are not traced (too hot), but the visiting pcc is held, so
 *   its counters are exact at the visit: the report subtracts a slot's
 *   successive values to get the allocations served between its visits by
 *   each layer, exactly, without per-object events (docs/events.md).
 */
#include "depot.h"

#include "clock.h"
#include "config.h"
#include "error.h"
#include "trace.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* ---------------------------------------------------------------------- */
/* Magazines                                                               */

const unsigned int mag_capacities[MAG_NR_SIZES] = { 8, 16, 30, 62 };

struct magazine *magazine_alloc(struct kmem_cache *kc, unsigned int magsize)
{
	unsigned int i = mag_size_index(magsize);
	struct magazine *m = kmem_cache_alloc(kmem_magazine_caches[i],
					      MEM_ATOMIC);

	if (!m)
		return NULL;
	m->next = NULL;
	m->nr_rounds = 0;
	m->capacity = mag_capacities[i];
	atomic_fetch_add(&kc->mags_allocated, 1);
	atomic_fetch_add(&kc->mag_bytes, magazine_bytes(m->capacity));
	return m;
}

void magazine_free(struct kmem_cache *kc, struct magazine *m)
{
	atomic_fetch_sub(&kc->mags_allocated, 1);
	atomic_fetch_sub(&kc->mag_bytes, magazine_bytes(m->capacity));
	kmem_cache_free(kmem_magazine_caches[mag_size_index(m->capacity)], m);
}

/* Gives every round back to the slab layer (dtor first). */
void magazine_empty_rounds(struct kmem_cache *kc, struct magazine *m)
{
	while (m->nr_rounds)
		slab_destruct_and_free(kc, m->rounds[--m->nr_rounds]);
}

/* Empties and frees a list of magazines; returns how many, and their
 * bytes in *bytes (if not NULL). */
static size_t magazine_free_list(struct kmem_cache *kc, struct magazine *m,
				 size_t *bytes)
{
	size_t n = 0;

	while (m) {
		struct magazine *next = m->next;

		magazine_empty_rounds(kc, m);
		if (bytes)
			*bytes += magazine_bytes(m->capacity);
		magazine_free(kc, m);
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
	/* the visiting pcc, whose counters an exchange or miss event carries
	 * (visit_counters; NULL: no pcc) */
	const struct pcc *pcc;
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
	v->pcc = NULL;
}

/* The visiting pcc, whose cumulative counters the exchange or miss event carries
 * (the report's exact layer shares).  They are read when the event is emitted, after
 * the depot lock is dropped, and only if it is enabled: the visitor holds the pcc
 * until then and a visit does not change them, so they are still exact.  Copied here,
 * they were a 16-byte load of two fields the slow path had just stored (the hits
 * folded in), which the store buffer cannot forward: perf put a fifth of a visit on
 * it.  Reading them late moved that wait to the depot lock's xchg, which drains the
 * same stores: the batch pattern's ns/op did not measurably change (alloc.md). */
static inline void visit_counters(struct depot_visit *v, const struct pcc *p)
{
	v->pcc = p;
}

/* The depot lock without the contention bookkeeping: for readers and
 * setters, whose waits are not what the policy measures. */
static void depot_hold(struct depot *d)
{
	if (!ms_trylock(&d->lock))
		ms_lock_wait(&d->lock);
}

/* The contended half of depot_lock: time the wait, tell the policy. */
static __attribute__((noinline)) void depot_lock_contended(struct depot *d,
							   struct depot_visit *v)
{
	uint64_t t0 = magslab_now_ns();

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

/*
 * Trylock, then lock; on contention, time the wait and tell the policy (out
 * of line: depot_lock_contended).  The visit record is filled after the
 * trylock, and the uncontended path is inline: a locked instruction waits
 * for every older store to leave the store buffer, and the record's stores
 * and a call frame used to be in it (perf: 88 % of the old out-of-line
 * depot_lock's samples sat right after its xchg).  Batch 64 B, 1 thread,
 * interleaved against the previous code: 0.95x ns/op (alloc.md).  Taking
 * the trylock in the caller as well, ahead of the exchange's own frame,
 * changed nothing measurable (1.02x): not done.
 */
static inline __attribute__((always_inline)) void
depot_lock(struct depot *d, struct depot_visit *v, uint32_t slot, int side,
	   const struct pcc *p)
{
	bool got = ms_trylock(&d->lock);

	visit_init(v, slot, side);
	visit_counters(v, p);
	if (__builtin_expect(got, 1)) {
		/* A clock read is not free: only interval policies need it. */
		if (d->uses_intervals)
			v->now = magslab_now_ns();
		return;
	}
	depot_lock_contended(d, v);
}

static void depot_visit_emit(struct kmem_cache *kc, const struct depot_visit *v)
{
	if (v->contended)
		ms_trace(depot_contention, kc->id, v->slot, v->wait_ns,
			 v->busy_count, (uint8_t)v->counted, v->window_ns);
	if (v->adopted)
		ms_trace(pcc_magsize, kc->id, v->slot, v->old_magsize,
			 v->new_magsize);
	/* One event per exchange: one get and one put (exchanges[side]). */
	if (v->exchanged)
		ms_trace(depot_exchange, kc->id, v->slot, v->side, v->rounds_got,
			 v->rounds_put, v->nr_not_empty, v->nr_empty,
			 v->pcc->allocs, v->pcc->frees, v->pcc->hits);
	if (v->missed && v->side == KMEM_ALLOC_SIDE)
		ms_trace(depot_miss, kc->id, v->slot, KMEM_ALLOC_SIDE,
			 MS_OUTCOME_TO_SLAB, v->pcc->allocs, v->pcc->frees,
			 v->pcc->hits);
	/* A free-side miss is emitted once its outcome is known. */
}

/* Lets the policy see the depot after this visit's change, unlocks, then
 * emits the visit's events. */
static void depot_unlock(struct kmem_cache *kc, struct depot *d,
			 const struct depot_visit *v)
{
	if (d->uses_intervals)
		d->policy->acquired(d, v->now);
	if (d->purge_pending) {
		/* illumos: empty the depot; pccs notice purge_gen. */
		d->purge_pending = false;
		d->purge_gen++;
		magazine_free_list(kc, d->not_empty, NULL);
		magazine_free_list(kc, d->empty, NULL);
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
	d->exchanges[v->side]++;
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
bool depot_get_full(struct kmem_cache *kc, struct pcc *p)
{
	struct depot_visit v;
	struct depot *d = &kc->depot;
	bool got;

	depot_lock(d, &v, p->slot, KMEM_ALLOC_SIDE, p);
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

/* The empty magazine a free is about to take, if it is too small for the
 * depot's magsize (made before a grow), is swapped for one that fits: a
 * grow would otherwise never reach the pccs while small empties are left.
 * Without memory for the new one the small one serves (depot lock held;
 * the magazine caches' slab locks come after it in the lock order). */
static void refit_empty(struct kmem_cache *kc, struct depot *d)
{
	struct magazine *m;

	if (d->empty->capacity >= d->magsize ||
	    mag_size_index(d->magsize) == mag_size_index(d->empty->capacity))
		return;
	m = magazine_alloc(kc, d->magsize);
	if (!m)
		return;
	magazine_free(kc, mag_pop(&d->empty));
	mag_push(&d->empty, m);
}

/* Free side: adopt the depot's magsize, then trade prev (full) for an empty
 * depot magazine.  Returns FREE_RETRY if loaded may now take the object. */
enum free_exchange depot_get_empty(struct kmem_cache *kc, struct pcc *p)
{
	struct depot_visit v;
	struct depot *d = &kc->depot;
	enum free_exchange r = FREE_RETRY;

	depot_lock(d, &v, p->slot, KMEM_FREE_SIDE, p);
	pcc_catch_up_purge(kc, p, d);
	if (p->magsize != d->magsize) {
		v.adopted = true;
		v.old_magsize = p->magsize;
		v.new_magsize = d->magsize;
		p->magsize = (uint16_t)d->magsize;
	}
	if (p->loaded->nr_rounds < mag_limit(p->loaded, p->magsize) ||
	    p->prev->nr_rounds < mag_limit(p->prev, p->magsize)) {
		/* A grow (or a purge) made room: no exchange needed. */
	} else if (d->empty) {
		refit_empty(kc, d);
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
void depot_add_empty(struct kmem_cache *kc, struct magazine *m,
			    uint32_t slot)
{
	struct depot_visit v;
	struct depot *d = &kc->depot;

	depot_lock(d, &v, slot, KMEM_FREE_SIDE, NULL);
	mag_push(&d->empty, m);
	d->nr_empty++;
	depot_unlock(kc, d, &v);
}

/* ---------------------------------------------------------------------- */
/* Life cycle, reap, stats and tunables                                    */

void depot_init(struct kmem_cache *kc, const struct magslab_config *cfg)
{
	const struct resize_policy *pol = policy_by_name(cfg->policy);

	ms_lock_init(&kc->depot.lock);
	kc->depot.cache_id = kc->id;
	depot_policy_init(&kc->depot, pol ? pol : policy_default(),
			  cfg->resize_threshold, cfg->resize_timeout_ns,
			  MAG_MIN_ROUNDS, magslab_now_ns());
}


/* ---- fork (fork.c: after every pcc, before every slab lock) ---- */

void depot_fork_lock(struct kmem_cache *kc)
{
	depot_hold(&kc->depot);
}

/* In the child only the forking thread exists: a `want` raised by a
 * waiter of the parent would make every later trylock defer forever. */
void depot_fork_unlock(struct kmem_cache *kc, bool child)
{
	if (child)
		atomic_store(&kc->depot.lock.want, 0);
	ms_unlock(&kc->depot.lock);
}

/* Frees every depot magazine, their rounds back to the slabs first. */
void depot_drain(struct kmem_cache *kc)
{
	struct depot *d = &kc->depot;

	depot_hold(d);
	magazine_free_list(kc, d->not_empty, NULL);
	magazine_free_list(kc, d->empty, NULL);
	d->not_empty = d->empty = NULL;
	d->nr_not_empty = d->nr_empty = 0;
	ms_unlock(&d->lock);
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

size_t depot_reap(struct kmem_cache *kc, size_t *nr)
{
	struct depot *d = &kc->depot;
	struct magazine *doomed = NULL;
	size_t full = 0, empty = 0, bytes = 0;

	depot_hold(d);
	d->policy->reap(d, magslab_now_ns(), &full, &empty);
	d->nr_not_empty -= take_mags(&d->not_empty, full, &doomed);
	d->nr_empty -= take_mags(&d->empty, empty, &doomed);
	ms_unlock(&d->lock);
	*nr = magazine_free_list(kc, doomed, &bytes);
	return bytes;
}

void depot_stats(struct kmem_cache *kc, struct kmem_cache_stats *st)
{
	struct depot *d = &kc->depot;

	depot_hold(d);
	for (int s = 0; s < 2; s++) {
		st->depot_gets[s] = d->exchanges[s];
		st->depot_puts[s] = d->exchanges[s];
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

