/*
 * pcc.c — exclusive use of a per-CPU cache, in the locked and rseq modes, and
 * the choice between them.
 *
 * Owns: the locked mode's slow lock path (the lock is mslock.h's); the rseq
 * mode's ownership (taking the current CPU's pcc, holding any pcc from
 * elsewhere, the membarrier fence), the fold of fast-path hits into the
 * pcc's counters; the probe that decides once per process whether rseq can
 * serve (pcc_rseq_offset, the reason it cannot).
 *
 * Invariants (rseq mode; `hot` is described in pcc.h):
 *   - hot not owned (low byte 0..62): nobody holds the pcc; fast paths on
 *     its CPU may commit; hot's low byte is loaded's true round count and
 *     loaded->nr_rounds is stale.
 *   - hot == HOT_OWNED(serial): the thread with that serial (unique per
 *     thread, never reused) alone reads or writes every field; hot_saved is
 *     what hot was when it took the pcc, loaded->nr_rounds is true.
 *     pcc_rseq_fold / pcc_rseq_leave switch between the two.
 *   - An unowned hot >> 8 counts the hits committed since the last leave;
 *     the pcc's allocs/frees/hits miss exactly those until the next fold.
 *
 * Lock order: pcc -> depot -> slab -> arena.  Taking a pcc (either mode) is
 * the first lock of that order; nothing else is held while waiting for one.
 *
 * FAQ — the rseq mode's correctness argument.
 *
 * - Who can write a pcc?  (1) A section of pcc_rseq.h running on the pcc's
 *   CPU, having read an unowned hot inside the same section: a fast path
 *   only in its committing store (and, for a free, into the dead slot above
 *   the count), a take in hot_saved and then its committing store.  (2) The
 *   owner.  (3) A thread taking it from outside, by one compare-and-swap of
 *   hot.  Nobody else.
 *
 * - How does a thread on CPU c become the owner of pccs[c]?  pcc_rseq_take:
 *   a section that reads hot, finds it unowned, copies it into hot_saved and
 *   commits hot = HOT_OWNED(serial).  Two threads cannot both be inside
 *   sections on CPU c: a thread that is preempted, migrated or signalled
 *   while inside one is sent to its abort handler before it runs another
 *   user instruction, so it never commits after losing the CPU.  The commit
 *   is therefore a compare-and-set as far as CPU c is concerned, without a
 *   locked instruction.  Once hot is owned, every later fast path or take on
 *   CPU c reads it and steps aside, and the owner may migrate freely:
 *   ownership is a lock, not a place.
 *
 * - And from another CPU (stats, drain, a thread whose cpu_id has no slot)?
 *   pcc_rseq_hold: compare-and-swap hot from the unowned value it read to
 *   HOT_OWNED(serial), then membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ,
 *   MEMBARRIER_CMD_FLAG_CPU, c), then re-read hot.  The CAS stops every
 *   section on CPU c that *starts* afterwards (they read an owned hot).  A
 *   section that started before it, having read the old value, is still a
 *   danger until it ends; the fence interrupts CPU c, and the kernel
 *   restarts whatever section of ours is running there (a preempted one
 *   restarts anyway when it resumes).  When membarrier returns, every such
 *   section has either committed (and the fence, a full barrier on both
 *   CPUs, makes its store visible to us) or been aborted.  A commit after
 *   our CAS overwrote it (a hit with its new count, or a take with its
 *   owner): hence the re-read.  If hot still holds our value we own the pcc
 *   and only then write hot_saved; if not, we start again (waiting while
 *   another owner has it).  Owner values are unique, so "still ours" cannot
 *   be a later holder's.  A take's early copy into hot_saved cannot hurt
 *   us either: it happens only while hot is unowned and before the fence,
 *   and the value it copies is the one our CAS replaced.
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
 *   ops = hits since the leave and d = rounds now - rounds at the leave
 *   (both from hot_saved, and hot_base),
 *   free hits = (ops + d) / 2 and alloc hits = (ops - d) / 2.  The hit count
 *   has 56 bits; a hit that would carry out of bit 63 is not committed (the
 *   `jc` after the add), so the next slow path folds it first.  Nothing is
 *   sampled or estimated.
 *
 * - What does a fence cost, and how often?  One system call, plus an IPI
 *   when a thread of ours runs on that CPU (which also restarts its fast
 *   path, counted in pcc_aborts).  On our 2-CPU VM a fence towards a busy
 *   CPU cost 1.0-5.5 us on some days and 19-21 us on others (the
 *   hypervisor's IPI cost); kmem_cache_stats() on a 2-slot cache 2.4-5.6 us
 *   in rseq mode (0.13-0.19 us locked) with the other CPU idle, 8.5-105 us
 *   with it busy (1.3-2.4 us locked, where the reader contends for the lock
 *   instead) — bench/pcc_fence.c, bench/results/alloc.md.  It
 *   runs only when a pcc is taken from outside its CPU: kmem_cache_stats()
 *   and kmem_cache_pcc_magsizes() (one per slot), kmem_cache_destroy() (one
 *   per slot), and a thread whose rseq cpu_id names no slot.  The alloc/free
 *   slow paths of the owning CPU never fence.
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
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static void note_contention(struct pcc *p, uint64_t t0)
{
	uint64_t waited = magslab_now_ns() - t0;

	p->contended++;
	p->wait_ns += waited;
	ms_trace(pcc_contention, p->cache_id, p->slot, waited);
}

/* ---------------------------------------------------------------------- */
/* Locked mode                                                             */

/* Only a lock actually found held counts as contention. */
void pcc_lock_slow(struct pcc *p)
{
	uint64_t t0 = magslab_now_ns();

	if (ms_lock_wait(&p->lock))
		note_contention(p, t0);
}

/* ---------------------------------------------------------------------- */
/* rseq mode                                                               */

#if PCC_RSEQ_CAPABLE

ptrdiff_t pcc_rseq_offset;

/* Waiting for a held pcc in rseq mode: mslock's steps, timed from the
 * first one. */
struct pcc_wait {
	uint64_t t0;
	unsigned int steps;
};

static void pcc_wait_step(struct pcc_wait *w)
{
	if (w->steps == 0)
		w->t0 = magslab_now_ns();
	ms_wait_step(&w->steps);
}


/* A thread's owner value, HOT_OWNED(serial): the serial is handed out
 * once per thread from a process-wide counter and never reused, so no two
 * threads (alive or not) ever own with the same value (FAQ: "unique"). */
_Thread_local uint64_t pcc_my_owned
	__attribute__((tls_model("initial-exec"), visibility("hidden")));
static _Atomic uint64_t next_serial;

uint64_t pcc_owned_assign(void)
{
	pcc_my_owned = HOT_OWNED(atomic_fetch_add_explicit(
			&next_serial, 1, memory_order_relaxed) + 1);
	return pcc_my_owned;
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

/* Owns p from anywhere (FAQ: "from another CPU"); w: waiting so far. */
static void rseq_hold_waited(struct pcc *p, struct pcc_wait *w)
{
	uint64_t me = pcc_owned_value(), was;

	for (;;) {
		was = atomic_load_explicit(&p->hot, memory_order_relaxed);
		if (!hot_is_owned(was) &&
		    atomic_compare_exchange_strong_explicit(
			    &p->hot, &was, me, memory_order_acquire,
			    memory_order_relaxed)) {
			rseq_fence(p->slot);
			if (atomic_load_explicit(&p->hot,
						 memory_order_acquire) == me)
				break;
			/* A section that had read `was` committed over us. */
			continue;
		}
		if (hot_is_owned(was))
			pcc_wait_step(w);
	}
	/* Only now, as the owner, may hot_saved be written from outside. */
	p->hot_saved = was;
	if (w->steps)
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
		switch (pcc_rseq_take(pccs, nr, pcc_owned_value(), &p)) {
		case PCC_TAKEN:
			if (w.steps)
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
