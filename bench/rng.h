/*
 * bench/rng.h — the benchmarks' random generator: splitmix64 (Steele, Lea and
 * Flood), small, fast and the same on every machine, so a seed names one
 * request script or one bootstrap wherever it runs.  Header-only (every
 * bench/NAME.c is its own program); the state is the caller's; no locks.
 */
#ifndef MAGSLAB_BENCH_RNG_H
#define MAGSLAB_BENCH_RNG_H

#include <stdint.h>

static inline uint64_t bench_rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15u);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

#endif
