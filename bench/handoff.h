/*
 * bench/handoff.h — one cross-core cache-line handoff, in ns: the yardstick
 * for every multi-thread figure (bench-handoff prints it alone; bench-alloc
 * measures it around its repetitions).
 *
 * Owns: bench_handoff_ns().  Two threads, pinned to two CPUs, pass a counter
 * back and forth: each waits until the counter has its parity, then
 * increments it.  Every increment needs the line the other CPU just wrote,
 * so the time per increment is one handoff: the cross-core cache-line
 * latency plus a load and a store.  Header-only: every bench/NAME.c is its
 * own program (bench/bench.mk).  Not reentrant: one measurement at a time
 * per process (the counter is a file-scope variable, alone in its line).
 *
 * Why a benchmark needs it: on a shared virtual machine this latency is not
 * a constant.  On the 2-CPU VM of bench/results/alloc.md it sits at one of
 * two levels (about 60 and about 250 ns) and switches between them within
 * seconds, and a depot visit at 2 threads, which moves a few lines, costs
 * 3-4x more at the high level.
 */
#ifndef MAGSLAB_BENCH_HANDOFF_H
#define MAGSLAB_BENCH_HANDOFF_H

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

/* The line that moves; alone in its line, so nothing else moves with it. */
static _Alignas(64) _Atomic unsigned long bench_handoff_counter;
/* Set by a thread that could not be pinned, so that the other stops. */
static _Alignas(64) _Atomic int bench_handoff_gave_up;

struct bench_handoff_side {
	int cpu;
	unsigned long first, end;       /* the values this side waits for */
	int err;                        /* pthread_setaffinity_np's, or 0 */
};

static void *bench_handoff_pass(void *arg)
{
	struct bench_handoff_side *s = arg;
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(s->cpu, &set);
	s->err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (s->err) {
		atomic_store(&bench_handoff_gave_up, 1);
		return NULL;
	}
	for (unsigned long i = s->first; i < s->end; i += 2) {
		unsigned long spins = 0;

		while (atomic_load_explicit(&bench_handoff_counter,
					    memory_order_acquire) != i) {
			if (atomic_load_explicit(&bench_handoff_gave_up,
						 memory_order_relaxed))
				return NULL;
			/* The other side is not running (a tool that runs
			 * one thread at a time, or a hypervisor that took
			 * its CPU): let it, instead of spinning for ever.
			 * A handoff takes well under 1024 spins. */
			if (++spins % 1024 == 0)
				sched_yield();
		}
		atomic_store_explicit(&bench_handoff_counter, i + 1,
				      memory_order_release);
	}
	return NULL;
}

/*
 * ns per handoff over n handoffs between CPUs a and b (a != b).  Returns a
 * negative value with errno-style *err (the pinning's error, or the
 * thread creation's) if it could not measure.
 */
static inline double bench_handoff_ns(int cpu_a, int cpu_b, unsigned long n,
				      int *err)
{
	struct bench_handoff_side s[2] = {
		{ cpu_a, 0, 2 * n, 0 }, { cpu_b, 1, 2 * n, 0 },
	};
	struct timespec t0, t1;
	pthread_t t[2];
	int started = 0;

	*err = 0;
	atomic_store(&bench_handoff_counter, 0);
	atomic_store(&bench_handoff_gave_up, 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (; started < 2; started++) {
		*err = pthread_create(&t[started], NULL, bench_handoff_pass,
				      &s[started]);
		if (*err) {
			atomic_store(&bench_handoff_gave_up, 1);
			break;
		}
	}
	for (int i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	for (int i = 0; i < 2 && !*err; i++)
		*err = s[i].err;
	if (*err)
		return -1;
	return ((double)(t1.tv_sec - t0.tv_sec) * 1e9 +
		(double)(t1.tv_nsec - t0.tv_nsec)) / (double)(2 * n);
}

/* A quick reading between the first two of cpus[0..n) (20000 passes: a
 * few ms), for a program that measures something else; -1 with fewer than
 * two CPUs or if it could not run. */
static inline double bench_handoff_quick(const int *cpus, unsigned int n)
{
	int err;

	return n < 2 ? -1 : bench_handoff_ns(cpus[0], cpus[1], 20000, &err);
}

#endif
