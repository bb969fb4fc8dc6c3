/*
 * workloads/replay_run.c — replaying the operation list (replay.h): the global list split
 * into one list per replay thread (trace thread k on replay thread k mod N), the replay
 * threads themselves (wl_run_threads' function), and freeing what a round leaves live.
 *
 * Why the waits cannot deadlock: every thread replays its operations in the global order,
 * and every free comes after its allocation in that order, so the earliest operation not
 * yet done is never waiting.  A free of an object another thread allocates waits (spin,
 * then sched_yield) until that thread has stored the pointer in the slot (release; the
 * waiter loads with acquire); the free empties the slot again.  The wait gives up when the
 * run stops (a failure: some allocations will never happen).
 *
 * Owns the per-thread lists of struct rp_replay (replay.c frees them).
 */
#include "replay.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

/* Distributes the global list over nthr replay threads. */
int rp_split(struct rp *r, struct rp_replay *rp, unsigned int nthr)
{
	rp->nthr = nthr;
	rp->thr = calloc(nthr, sizeof(*rp->thr));
	if (!rp->thr)
		return -1;
	for (uint64_t i = 0; i < r->ngops; i++)
		rp->thr[r->gops[i].thr % nthr].n++;
	for (unsigned int t = 0; t < nthr; t++) {
		rp->thr[t].ops = malloc((rp->thr[t].n ? rp->thr[t].n : 1) *
					sizeof(struct rp_op));
		if (!rp->thr[t].ops)
			return -1;
		rp->thr[t].n = 0;
	}
	for (uint64_t i = 0; i < r->ngops; i++) {
		struct rp_rthr *th = &rp->thr[r->gops[i].thr % nthr];
		th->ops[th->n++] = (struct rp_op){ .slot = r->gops[i].slot,
						   .kind = r->gops[i].kind };
	}
	return 0;
}


static inline void rp_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static void *rp_obj_alloc(struct rp_replay *rp, struct rp_slot *sl,
			  bool zero)
{
	void *p;
	if (sl->cls == RP_LARGE) {
		p = arena_alloc(rp->large, sl->size ? sl->size : 1, MEM_WAIT);
		if (p && zero)
			memset(p, 0, sl->size);
	} else if (zero) {
		p = kmem_cache_zalloc(rp->kc[sl->cls], MEM_WAIT);
	} else {
		p = kmem_cache_alloc(rp->kc[sl->cls], MEM_WAIT);
	}
	if (p && rp->touch && !zero)
		memset(p, 0xa5, sl->size);
	return p;
}

static void rp_obj_free(struct rp_replay *rp, struct rp_slot *sl, void *p)
{
	if (sl->cls == RP_LARGE)
		arena_free(rp->large, p, sl->size ? sl->size : 1);
	else
		kmem_cache_free(rp->kc[sl->cls], p);
}

/* Stop replaying: a thread failed (wl_fail), or not every thread could be
 * created, so some allocations will never happen.  (There is no deadline:
 * run->stop is set for nothing else before every thread has returned.) */
static inline bool rp_aborted(struct wl_thread *t)
{
	return atomic_load_explicit(&t->run->stop, memory_order_relaxed);
}

void rp_worker(struct wl_thread *t)
{
	struct rp_replay *rp = t->arg;
	struct rp_rthr *th = &rp->thr[t->index];
	struct rp_slot *slots = rp->r->slots;
	uint64_t waits = 0, allocs = 0, frees = 0;

	for (size_t i = 0; i < th->n; i++) {
		struct rp_op op = th->ops[i];
		struct rp_slot *sl = &slots[op.slot];

		if ((i & 255) == 0 && rp_aborted(t))
			break;
		if (op.kind == RP_FREE) {
			void *p = atomic_load_explicit(&sl->ptr,
						       memory_order_acquire);
			if (!p) {
				/* Allocated by another thread, not yet. */
				unsigned int spins = 0;
				waits++;
				while (!(p = atomic_load_explicit(
						 &sl->ptr,
						 memory_order_acquire))) {
					if (rp_aborted(t))
						goto done;
					if (++spins < 128)
						rp_cpu_relax();
					else
						sched_yield();
				}
			}
			/* The one free of this slot: the slot is empty again
			 * (what rp_cleanup() finds set is still allocated). */
			atomic_store_explicit(&sl->ptr, NULL,
					      memory_order_relaxed);
			rp_obj_free(rp, sl, p);
			frees++;
		} else {
			void *p = rp_obj_alloc(rp, sl, op.kind == RP_ZALLOC);
			if (!p) {
				int e = errno ? errno : ENOMEM;
				atomic_store(&rp->errnum, e);
				wl_fail(t, "an allocation of the trace returned NULL");     /* stops every thread */
				break;
			}
			atomic_store_explicit(&sl->ptr, p,
					      memory_order_release);
			allocs++;
		}
		wl_count(t, 1);
	}
done:
	th->waits += waits;
	th->allocs += allocs;
	th->frees += frees;
	atomic_fetch_add(&rp->waits, waits);
}

/* Frees what is still allocated (what the trace leaves live, and after a
 * failure what it did not get to free), so that every slot is empty for the
 * next round.  After the threads are joined.  Returns how many. */
uint64_t rp_cleanup(struct rp_replay *rp)
{
	struct rp *r = rp->r;
	uint64_t left = 0;
	for (uint64_t i = 0; i < r->nslots; i++) {
		struct rp_slot *sl = &r->slots[i];
		void *p = atomic_load_explicit(&sl->ptr, memory_order_relaxed);
		if (!p)
			continue;
		atomic_store_explicit(&sl->ptr, NULL, memory_order_relaxed);
		rp_obj_free(rp, sl, p);
		left++;
	}
	return left;
}

