/*
 * clock.h — the one clock the allocator reads (contention windows, wait
 * times, resize intervals).
 *
 * Owns: a process-wide override pointer, so tests can drive the resize
 * policies with a fake clock instead of sleeping.  NULL means
 * CLOCK_MONOTONIC.  Set it before the threads that read it start.
 */
#ifndef MAGSLAB_CLOCK_H
#define MAGSLAB_CLOCK_H

#include <stdint.h>
#include <time.h>

typedef uint64_t (*magslab_clock_fn)(void);

extern magslab_clock_fn magslab_clock_override;

static inline uint64_t magslab_now_ns(void)
{
	struct timespec ts;

	if (magslab_clock_override)
		return magslab_clock_override();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Tests only: NULL restores the real clock. */
void magslab_set_clock(magslab_clock_fn fn);

#endif /* MAGSLAB_CLOCK_H */
