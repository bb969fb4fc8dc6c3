/*
 * mslock.c — waiting for an ms_lock (mslock.h): spin, then yield, with the
 * fairness hint.
 *
 * Owns nothing.  Locking: see mslock.h.
 */
#include "mslock.h"

#include <sched.h>

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

void ms_wait_step(unsigned int *steps)
{
	if ((*steps)++ < MS_LOCK_SPINS)
		cpu_relax();
	else
		sched_yield();
}

bool ms_lock_wait(struct ms_lock *l)
{
	unsigned int steps = 0;
	bool wanting = false;

	/* Someone already queued: let them go first. */
	if (atomic_load_explicit(&l->want, memory_order_relaxed))
		sched_yield();
	while (atomic_load_explicit(&l->word, memory_order_relaxed) ||
	       atomic_exchange_explicit(&l->word, 1, memory_order_acquire)) {
		if (steps >= MS_LOCK_SPINS && !wanting) {
			atomic_fetch_add_explicit(&l->want, 1,
						  memory_order_relaxed);
			wanting = true;
		}
		ms_wait_step(&steps);
	}
	if (wanting)
		atomic_fetch_sub_explicit(&l->want, 1, memory_order_relaxed);
	return steps > 0;
}
