/*
 * bench/median.h — the median every benchmark reports, in one place.
 *
 * Owns: bench_median(), which sorts its array in place (the callers' arrays are
 * theirs to reorder: they also read the minimum and maximum off the sorted ends)
 * and returns the middle value, or the mean of the two middle ones for an even
 * count; bench_cmp_double(), the ascending order it sorts by.  Header-only:
 * every bench/NAME.c is its own program (bench/bench.mk), with no shared object.
 * No state, no locks.
 */
#ifndef MAGSLAB_BENCH_MEDIAN_H
#define MAGSLAB_BENCH_MEDIAN_H

#include <stddef.h>
#include <stdlib.h>

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* v[0..n), n >= 1, sorted in place; its median. */
static inline double bench_median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

#endif
