/*
 * bench/event/event_cost.c — what one recorded magslab event costs against a bare LTTng-UST
 * event of the same payload, in the same process, interleaved (bench/run-event-cost.sh
 * runs it under a recording session and writes bench/results/tracing.md's section).
 *
 *   bench-event_cost [--reps R] [--events N] [--pause-ms P]
 *
 * magslab:depot_exchange is emitted the way the library emits it (lib/src/trace.h:
 * ms_trace is lttng_ust_tracepoint, the provider is libmagslab's, linked in whole);
 * msbench:exchange (bench/event/bare_tp.h) has the same ten fields, C types and sizes,
 * all plain integers.  Repetition r emits N events of one then N of the other (the order
 * alternates with r), each block timed with CLOCK_MONOTONIC, with a pause of P ms before
 * each block so that the consumer daemon has drained the buffers (a full buffer
 * discards, which is cheaper than recording: the runner reports the discarded count).
 * Field values change every event (the counters grow), as in the library.
 *
 * Prints one line per repetition ("rep R magslab_ns=X bare_ns=Y ratio=Z") and a summary
 * line ("result ..."): the median ns/event of each, the median of the per-repetition
 * ratios and their quartiles, and the ratio of the fastest blocks.
 *
 * Single-threaded; no locks.
 */

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "magslab_tp.h"
#include "bare_tp.h"

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void pause_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* N events of one kind; ns per event. */
static double block(int magslab, long n, uint64_t *ctr)
{
	double t0 = now_ns();

	for (long i = 0; i < n; i++) {
		uint64_t c = (*ctr)++;

		if (magslab)
			lttng_ust_tracepoint(magslab, depot_exchange, 7, (uint32_t)(c & 1), (int)(c & 1),
					     8, 0, c & 63, 64 - (c & 63), c * 9, c * 9, c * 17);
		else
			lttng_ust_tracepoint(msbench, exchange, 7, (uint32_t)(c & 1), (int)(c & 1), 8,
					     0, c & 63, 64 - (c & 63), c * 9, c * 9, c * 17);
	}
	return (now_ns() - t0) / (double)n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* The q-quantile of v[0..n) (sorted in place), by nearest rank. */
static double quantile(double *v, int n, double q)
{
	int k = (int)(q * (n - 1) + 0.5);

	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[k];
}

static void usage(FILE *f)
{
	fputs("usage: bench-event_cost [--reps R] [--events N] [--pause-ms P]\n"
	      "One recorded magslab:depot_exchange against a bare LTTng-UST event of the same\n"
	      "payload (msbench:exchange), interleaved; run it under a session recording both\n"
	      "(bench/run-event-cost.sh).  Defaults: 31 repetitions, 20000 events per block,\n"
	      "50 ms pause before each block.\n", f);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "reps", required_argument, NULL, 'r' },
		{ "events", required_argument, NULL, 'n' },
		{ "pause-ms", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int reps = 31, c;
	long n = 20000, pause = 50;
	uint64_t ctr = 0;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': reps = atoi(optarg); break;
		case 'n': n = atol(optarg); break;
		case 'p': pause = atol(optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (reps < 3 || reps > 10000 || n < 100 || pause < 0) {
		fprintf(stderr, "bench-event_cost: --reps 3..10000, --events >= 100, --pause-ms >= 0\n");
		return 2;
	}
	double *m = calloc((size_t)reps, sizeof(double)), *b = calloc((size_t)reps, sizeof(double));
	double *ratio = calloc((size_t)reps, sizeof(double));

	if (!m || !b || !ratio)
		return 1;
	block(1, n, &ctr);	/* warm-up: both callsites, the buffers */
	block(0, n, &ctr);
	for (int r = 0; r < reps; r++) {
		int first = r % 2;	/* 1: magslab first */

		pause_ms(pause);
		double x = block(first, n, &ctr);
		pause_ms(pause);
		double y = block(!first, n, &ctr);

		m[r] = first ? x : y;
		b[r] = first ? y : x;
		ratio[r] = m[r] / b[r];
		printf("rep %d first=%s magslab_ns=%.1f bare_ns=%.1f ratio=%.3f\n", r,
		       first ? "magslab" : "bare", m[r], b[r], ratio[r]);
	}
	double q1 = quantile(ratio, reps, 0.25), q3 = quantile(ratio, reps, 0.75);
	double med = quantile(ratio, reps, 0.5);
	double mmed = quantile(m, reps, 0.5), mmin = m[0];
	double bmed = quantile(b, reps, 0.5), bmin = b[0];

	printf("result events=%ld reps=%d magslab_ns_median=%.1f bare_ns_median=%.1f "
	       "ratio_median=%.3f ratio_q1=%.3f ratio_q3=%.3f fastest_magslab_ns=%.1f "
	       "fastest_bare_ns=%.1f fastest_ratio=%.3f emitted=%llu\n", n, reps, mmed, bmed, med,
	       q1, q3, mmin, bmin, mmin / bmin, (unsigned long long)ctr);
	free(m);
	free(b);
	free(ratio);
	return 0;
}
