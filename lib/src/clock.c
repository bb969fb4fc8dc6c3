/*
 * clock.c — storage for the clock override that clock.h's magslab_now_ns()
 * reads (see clock.h for the contract).
 *
 * Owns: magslab_clock_override, the one process-wide pointer.  NULL (the
 * initial value) means CLOCK_MONOTONIC.
 *
 * Locking: none, on purpose.  The pointer is a plain global, written only
 * by magslab_set_clock() and read by magslab_now_ns() on every depot
 * acquisition.  The rule is that a test sets it before it starts the
 * threads that read it (and restores it after joining them); thread
 * creation and joining order those accesses, so the plain accesses are not
 * a data race and TSan agrees.  An _Atomic pointer would make a change
 * while threads run well-defined, but such a change would still be
 * meaningless (two clocks mixed inside one contention window), and it would
 * put an atomic load on the hot path for the benefit of tests only.
 */
#include "clock.h"

magslab_clock_fn magslab_clock_override;

void magslab_set_clock(magslab_clock_fn fn)
{
	magslab_clock_override = fn;
}
