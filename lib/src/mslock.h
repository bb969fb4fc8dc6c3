/*
 * mslock.h — the magazine layer's lock: spin, then yield.  It guards a pcc in
 * the locked mode and every depot.
 *
 * Owns nothing but the lock word and its fairness hint; the code that waits
 * is in mslock.c.
 *
 * Why not a pthread mutex?  A contended pthread mutex puts the waiter to
 * sleep in the kernel (futex) and its unlock is one more atomic
 * instruction, to see whether anyone must be woken.  The depot lock is held
 * for a few pointer moves, so a waiter's futex round trip (microseconds) would
 * dwarf the critical section and become the thing a researcher measures as
 * "depot contention".  The kernels magslab models never sleep there: Akaros
 * takes the depot with a spinlock, illumos with an adaptive mutex that spins
 * while the owner runs.  This lock spins while that is likely to help and
 * yields the CPU after that (the holder may be preempted: in user space
 * nothing prevents it), and its unlock is a plain store.
 *
 * Invariants: word == 0 free, != 0 held (1 for a depot or a locked-mode pcc;
 * the rseq mode stores its owner's token in a pcc's word, pcc.c).  want
 * counts waiters that have started yielding; while it is non-zero a newcomer
 * defers to them: without that, a thread in a tight loop re-takes the lock
 * within nanoseconds of dropping it and a waiter on the other CPU (the stats
 * reader, a migrated thread) can starve for hundreds of milliseconds.
 *
 * Locking: this is the lock.  Acquire on taking, release on giving back.
 */
#ifndef MAGSLAB_MSLOCK_H
#define MAGSLAB_MSLOCK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct ms_lock {
	_Atomic uintptr_t word;
	atomic_int want;
};

static inline void ms_lock_init(struct ms_lock *l)
{
	atomic_init(&l->word, 0);
	atomic_init(&l->want, 0);
}

/* Takes the lock if it is free and nobody is queued for it. */
static inline bool ms_trylock(struct ms_lock *l)
{
	return !atomic_load_explicit(&l->want, memory_order_relaxed) &&
	       !atomic_load_explicit(&l->word, memory_order_relaxed) &&
	       !atomic_exchange_explicit(&l->word, 1, memory_order_acquire);
}

static inline void ms_unlock(struct ms_lock *l)
{
	atomic_store_explicit(&l->word, 0, memory_order_release);
}

/* Takes the lock after a failed ms_trylock: waits (spin, then yield) for
 * as long as it takes.  Returns true if it was found held at least once. */
bool ms_lock_wait(struct ms_lock *l);

/* One step of waiting for something another thread holds: the first
 * MS_LOCK_SPINS steps pause, later ones yield the CPU.  *steps counts. */
void ms_wait_step(unsigned int *steps);

/* Spins before a waiter starts yielding.  A holder that is running keeps the
 * lock for tens to a few hundred nanoseconds; 64 pause instructions (1-3 us
 * on current x86) cover that.  A holder that is not running (preempted, or
 * on our own CPU) will not let go while we spin, so past that we yield. */
#define MS_LOCK_SPINS 64

#endif /* MAGSLAB_MSLOCK_H */
