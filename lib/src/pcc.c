/*
 * pcc.c — exclusive use of a per-CPU cache, in the locked and rseq modes, and
 * the choice between them.
 *
 * Owns: the locked mode's slow lock path; the rseq mode's ownership (taking
 * the current CPU's pcc, holding any pcc from elsewhere, the membarrier
 * fence), the fold of fast-path hits into the pcc's counters; the probe that
 * decides once per process whether rseq can serve (pcc_rseq_offset, the
 * reason it cannot).
 *
 * Invariants (rseq mode):
 *   - owner == 0: nobody holds the pcc; fast paths on its CPU may commit.
 *     owner != 0: the holder (token = the address of its thread-local
 *     anchor, unique among live threads) alone reads or writes every field.
 *   - While nobody holds it, hot's low byte is loaded's true round count and
 *     loaded->nr_rounds is stale; while held, loaded->nr_rounds is true and
 *     hot is stale.  pcc_rseq_fold / pcc_rseq_leave switch between the two.
 *   - hot >> 8 counts the hits committed since the last leave; the pcc's
 *     allocs/frees/hits miss exactly those until the next fold.
 *
 * Lock order: pcc -> depot -> slab -> arena.  Taking a pcc (either mode) is
 * the first lock of that order; nothing else is held while waiting for one.
 *
 * FAQ — the rseq mode's correctness argument.
 *
 * - Who can write a pcc?  (1) A fast path (pcc_rseq.h) running on the pcc's
 *   CPU, only in its committing store, and only if it read owner == 0 inside
 *   the same critical section.  (2) The owner.  Nobody else.
 *
 * - How does a thread on CPU c become the owner of pccs[c]?  pcc_rseq_take:
 *   a critical section that reads owner == 0 and commits owner = token.  Two
 *   threads cannot both be inside critical sections on CPU c: a thread that
 *   is preempted, migrated or signalled while inside one is sent to its
 *   abort handler before it runs another user instruction, so it never
 *   commits after losing the CPU.  The commit is therefore a compare-and-set
 *   as far as CPU c is concerned, without a locked instruction.  Once owner
 *   is set, every later fast path or take on CPU c reads it and steps aside,
 *   and the owner may migrate freely: ownership is a lock, not a place.
 *
 * - And from another CPU (stats, drain, a thread whose cpu_id has no slot)?
 *   pcc_rseq_hold: compare-and-swap owner 0 -> token, then
 *   membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ, MEMBARRIER_CMD_FLAG_CPU,
 *   c), then re-read owner.  The CAS stops every critical section on CPU c
 *   that *starts* afterwards (they read owner != 0).  A section that started
 *   before it, having read owner == 0, is still a danger until it ends; the
 *   fence interrupts CPU c, and the kernel restarts whatever section of ours
 *   is running there (a preempted one restarts anyway when it resumes).
 *   When membarrier returns, every such section has either committed (and the
 *   fence, a full barrier on both CPUs, makes its store visible to us) or
 *   been aborted.  One of them may have been a take that committed its own
 *   token over ours: hence the re-read.  If owner is still our token we own
 *   the pcc; if not, the taker owns it and we wait and retry.  Tokens are
 *   unique, so "still ours" cannot be confused with a later holder.
 *
 * - Why can no round be lost or handed out twice?  A round moves only by a
 *   committed store of `hot` (fast path) or under ownership.  An alloc hit
 *   reads rounds[n-1] and commits n-1 in one store: if it is aborted, n is
 *   unchanged and the round is still there for whoever comes next; if it
 *   commits, no other section on that CPU can have read the same n (they
 *   cannot interleave), and no owner exists (it would have been seen, or
 *   its fence would have aborted us).  A free hit writes obj into rounds[n]
 *   first — above the count, so an abort leaves a dead slot that the next
 *   free overwrites — then commits n+1.  An object is never in two places:
 *   the one store decides whether it is in the magazine.
 *
 * - Counters.  A hit cannot bump three counters with one store, so `hot`
 *   carries one hit count next to the round count.  The fold (at every
 *   ownership) recovers allocs and frees exactly: every alloc hit lowers the
 *   round count by one, every free hit raises it by one, and nothing else
 *   changes `hot` between a leave and the next fold, so with
 *   ops = hits since the leave and d = rounds now - rounds at the leave,
 *   free hits = (ops + d) / 2 and alloc hits = (ops - d) / 2.  The hit count
 *   has 56 bits; a hit that would carry out of bit 63 is not committed (the
 *   `jc` after the add), so the next slow path folds it first.  Nothing is
 *   sampled or estimated.
 *
 * - What does a fence cost, and how often?  membarrier with FLAG_CPU sends
 *   one IPI to that CPU if a thread of ours runs there: a system call plus an
 *   interrupt, a few microseconds here (bench/results/alloc.md).  It runs
 *   only when a pcc is taken from outside its CPU: kmem_cache_stats() and
 *   kmem_cache_pcc_magsizes() (one per slot), kmem_cache_destroy() (one per
 *   slot), and a thread whose rseq cpu_id names no slot.  The alloc/free
 *   slow paths of the owning CPU never fence.
 *
 * - pcc_contended in rseq mode counts what it counts in locked mode: taking
 *   a pcc that someone else held (a slow path preempted or migrated while
 *   holding it, a remote reader).  Fast paths the kernel restarted are
 *   counted separately and exactly as pcc aborts: a restart makes the
 *   operation take the slow path, which adds the count under ownership.
 *
 * - What if a signal handler allocates?  A handler interrupting a fast path
 *   runs after the kernel aborted it; one interrupting a slow path that owns
 *   the pcc would wait for itself, as in the locked mode (and as with
 *   malloc): kmem_cache_alloc/free are not async-signal-safe.
 */
#include "pcc.h"

#include "clock.h"
#include "cpu.h"
#include "error.h"
#include "pcc_rseq.h"
#include "trace.h"

#include <errno.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Spins before a waiter starts yielding.  A pcc is held for tens to a few
 * hundred nanoseconds by a running holder; 64 pause instructions (~1-3 us
 * on current x86) cover that.  A holder that is not running (preempted, or
 * on our own CPU) will not finish while we spin, so past that we yield. */
#define PCC_SPINS_BEFORE_YIELD 64

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static void note_contention(struct pcc *p, uint64_t t0)
{
	uint64_t waited = magslab_now_ns() - t0;

	p->contended++;
	p->wait_ns += waited;
	ms_trace(pcc_contention, p->cache_id, p->slot, waited);
}

/* One round of waiting for a held pcc: spin first, then yield. */
struct pcc_wait {
	uint64_t t0;
	unsigned int rounds;
};

static void pcc_wait_step(struct pcc_wait *w)
{
	if (w->rounds++ == 0)
		w->t0 = magslab_now_ns();
	if (w->rounds <= PCC_SPINS_BEFORE_YIELD)
		cpu_relax();
	else
		sched_yield();
}

/* ---------------------------------------------------------------------- */
/* Locked mode                                                             */

/* Spins, then yields.  A waiter that has had to yield raises `want`, and
 * while it is up, a newcomer yields once before trying: without that, a
 * thread in a tight alloc/free loop re-takes the lock within nanoseconds of
 * dropping it, and a waiter on the other CPU (the stats reader, a migrated
 * thread) can starve for hundreds of milliseconds.  Only a lock actually
 * found held counts as contention. */
void pcc_lock_slow(struct pcc *p)
{
	struct pcc_wait w = { 0 };
	bool wanting = false;

	if (atomic_load_explicit(&p->want, memory_order_relaxed))
		sched_yield();
	while (atomic_load_explicit(&p->owner, memory_order_relaxed) ||
	       atomic_exchange_explicit(&p->owner, 1, memory_order_acquire)) {
		if (w.rounds >= PCC_SPINS_BEFORE_YIELD && !wanting) {
			atomic_fetch_add_explicit(&p->want, 1,
						  memory_order_relaxed);
			wanting = true;
		}
		pcc_wait_step(&w);
	}
	if (wanting)
		atomic_fetch_sub_explicit(&p->want, 1, memory_order_relaxed);
	if (w.rounds)
		note_contention(p, w.t0);
}

/* ---------------------------------------------------------------------- */
/* rseq mode                                                               */

#if PCC_RSEQ_CAPABLE

ptrdiff_t pcc_rseq_offset;

/* A thread's token: the address of its own thread-local byte. */
static _Thread_local char token_anchor
	__attribute__((tls_model("initial-exec")));

static inline uintptr_t my_token(void)
{
	return (uintptr_t)&token_anchor;
}

static long sys_membarrier(int cmd, unsigned int flags, int cpu)
{
	return syscall(__NR_membarrier, cmd, flags, cpu);
}

/* Restarts every critical section of ours running on `cpu` (FAQ).  A
 * forked child may have lost the registration: register again once.  If
 * the kernel refuses both ways, nothing can make holding the pcc safe. */
static void rseq_fence(unsigned int cpu)
{
	if (cpu >= magslab_possible_cpus())
		return;         /* no CPU has this id: no fast path runs here */
	if (sys_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ,
			   MEMBARRIER_CMD_FLAG_CPU, (int)cpu) == 0)
		return;
	if (errno == EPERM &&
	    sys_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ, 0,
			   0) == 0 &&
	    sys_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ,
			   MEMBARRIER_CMD_FLAG_CPU, (int)cpu) == 0)
		return;
	if (sys_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ, 0, 0) == 0)
		return;
	fprintf(stderr, "magslab: membarrier(PRIVATE_EXPEDITED_RSEQ) failed "
		"(errno %d): cannot take a per-CPU cache safely\n", errno);
	abort();
}

/* Hits since the last leave into allocs/frees/hits; loaded's true count
 * back into the magazine (FAQ: "Counters"). */
static void pcc_rseq_fold(struct pcc *p)
{
	uint64_t hot = p->hot;
	uint64_t now = hot & HOT_ROUNDS_MASK;
	uint64_t ops = hot >> HOT_OPS_SHIFT;
	uint64_t free_hits = (ops + now - p->hot_base) / 2;

	p->frees += free_hits;
	p->allocs += ops - free_hits;
	p->hits += ops;
	p->loaded->nr_rounds = (unsigned int)now;
}

/* Owns p from anywhere (FAQ: "from another CPU"); w: waiting so far. */
static void rseq_hold_waited(struct pcc *p, struct pcc_wait *w)
{
	uintptr_t me = my_token();

	for (;;) {
		uintptr_t none = 0;

		if (!atomic_load_explicit(&p->owner, memory_order_relaxed) &&
		    atomic_compare_exchange_strong_explicit(
			    &p->owner, &none, me, memory_order_acquire,
			    memory_order_relaxed)) {
			rseq_fence(p->slot);
			if (atomic_load_explicit(&p->owner,
						 memory_order_acquire) == me)
				break;
			/* A take that had read owner == 0 committed over us. */
		}
		pcc_wait_step(w);
	}
	if (w->rounds)
		note_contention(p, w->t0);
	pcc_rseq_fold(p);
}

void pcc_rseq_hold(struct pcc *p)
{
	struct pcc_wait w = { 0 };

	rseq_hold_waited(p, &w);
}

struct pcc *pcc_rseq_enter(struct pcc *pccs, unsigned int nr,
			   unsigned int aborts)
{
	struct pcc_wait w = { 0 };
	struct pcc *p;

	for (;;) {
		switch (pcc_rseq_take(pccs, nr, my_token(), &p)) {
		case PCC_TAKEN:
			if (w.rounds)
				note_contention(p, w.t0);
			pcc_rseq_fold(p);
			p->aborts += aborts;
			return p;
		case PCC_ABORTED:
			aborts++;
			break;
		case PCC_HELD:
			pcc_wait_step(&w);
			break;
		case PCC_NO_SLOT:
			/* cpu_id names no slot (rseq not registered for this
			 * thread, or a CPU beyond the slots): hold from outside. */
			p = &pccs[pcc_fold(magslab_cpu_fallback(), nr)];
			rseq_hold_waited(p, &w);
			p->aborts += aborts;
			return p;
		}
	}
}

/* ---- the probe ---------------------------------------------------------- */

static pthread_once_t probe_once = PTHREAD_ONCE_INIT;
static const char *probe_why;   /* NULL: rseq mode can serve */

static void rseq_probe(void)
{
	long cmds;

	if (__rseq_size < offsetof(struct rseq, rseq_cs) + 8) {
		probe_why = "rseq is not registered (glibc.pthread.rseq=0, or "
			    "the kernel refused it)";
		return;
	}
	pcc_rseq_offset = __rseq_offset;
	if ((int)pcc_current_cpu() < 0) {
		probe_why = "rseq is not registered for this thread";
		return;
	}
	cmds = sys_membarrier(MEMBARRIER_CMD_QUERY, 0, 0);
	if (cmds < 0 || !(cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ)) {
		probe_why = "membarrier has no PRIVATE_EXPEDITED_RSEQ command "
			    "(kernel older than 5.10, or refused)";
		return;
	}
	if (sys_membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_RSEQ, 0,
			   0) != 0) {
		probe_why = "membarrier refused to register for "
			    "PRIVATE_EXPEDITED_RSEQ";
		return;
	}
	if (sys_membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ,
			   MEMBARRIER_CMD_FLAG_CPU, 0) != 0)
		probe_why = "membarrier refused PRIVATE_EXPEDITED_RSEQ with "
			    "MEMBARRIER_CMD_FLAG_CPU";
}

static const char *rseq_unavailable(void)
{
	pthread_once(&probe_once, rseq_probe);
	return probe_why;
}

#else /* !PCC_RSEQ_CAPABLE */

struct pcc *pcc_rseq_enter(struct pcc *pccs, unsigned int nr,
			   unsigned int aborts)
{
	(void)pccs, (void)nr, (void)aborts;
	abort();        /* never chosen: pcc_mode_choose says locked */
}

void pcc_rseq_hold(struct pcc *p)
{
	(void)p;
	abort();
}

static const char *rseq_unavailable(void)
{
	return PCC_TSAN ? "a ThreadSanitizer build (it cannot see rseq)"
			: "this build has no rseq fast path (x86-64 and "
			  "glibc 2.35+ only)";
}

#endif /* PCC_RSEQ_CAPABLE */

/* ---------------------------------------------------------------------- */
/* Mode choice                                                             */

const char *pcc_mode_name(enum pcc_mode mode)
{
	switch (mode) {
	case PCC_MODE_LOCKED:
		return "locked";
	case PCC_MODE_RSEQ:
		return "rseq";
	case PCC_MODE_NONE:
		break;
	}
	return "none";
}

static const char *rseq_refusal(unsigned int nr_slots,
				enum magslab_pcc_map map)
{
	if (map == MAGSLAB_PCC_BY_THREAD)
		return "pcc slots are chosen per thread (MAGSLAB_PCC_MAP=thread)";
	if (nr_slots < magslab_possible_cpus())
		return "fewer pcc slots than CPUs (several CPUs share a slot)";
	return rseq_unavailable();
}

static atomic_bool told_rseq_refused;

enum pcc_mode pcc_mode_choose(enum magslab_pcc_mode requested,
			      unsigned int nr_slots, enum magslab_pcc_map map,
			      const char **why)
{
	if (requested == MAGSLAB_PCC_MODE_LOCKED) {
		*why = "requested (MAGSLAB_PCC_MODE=locked)";
		return PCC_MODE_LOCKED;
	}
	*why = rseq_refusal(nr_slots, map);
	if (!*why)
		return PCC_MODE_RSEQ;
	/* Asked for by name and refused: say so once, not per cache. */
	if (requested == MAGSLAB_PCC_MODE_RSEQ &&
	    !atomic_exchange(&told_rseq_refused, true))
		ms_error(EINVAL, "MAGSLAB_PCC_MODE=rseq: %s; using the locked "
			 "mode", *why);
	return PCC_MODE_LOCKED;
}
