/*
 * bench/pcc_fence.c — what holding a pcc from outside costs: the rseq mode's
 * membarrier fence, against the locked mode, in the same run.
 *
 * In rseq mode a thread that takes a pcc it is not running on (stats,
 * kmem_cache_pcc_magsizes, destroy) pays a compare-and-swap plus
 * membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ, MEMBARRIER_CMD_FLAG_CPU)
 * on the pcc's CPU (lib/src/pcc.c, FAQ).  This program measures, with the
 * main thread pinned to CPU 0:
 *
 *   idle   kmem_cache_stats() with no other thread of ours running;
 *   busy   the same while a thread pinned to CPU 1 allocates and frees in a
 *          loop (the fence then interrupts it: an IPI, and its fast path is
 *          restarted — the cache's pcc_aborts counts those);
 *   fence  the bare membarrier call towards the busy CPU.
 *
 * Both pcc modes, alternating, --reps times; median microseconds per call.
 * The locked mode's numbers are the baseline: no fence, but a lock that the
 * busy thread holds half of the time.
 *
 *   bench-pcc_fence [--calls N] [--reps N]
 */
#include <magslab/magslab.h>

#include <getopt.h>
#include <linux/membarrier.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "median.h"

#define MAX_REPS 99

struct spinner {
	pthread_t thread;
	struct kmem_cache *kc;
	atomic_bool stop;
};

static double now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int pin(pthread_t t, int cpu)
{
	cpu_set_t s;

	CPU_ZERO(&s);
	CPU_SET(cpu, &s);
	return pthread_setaffinity_np(t, sizeof(s), &s);
}

static void *spin_main(void *arg)
{
	struct spinner *s = arg;

	pin(pthread_self(), 1);
	while (!atomic_load_explicit(&s->stop, memory_order_relaxed))
		kmem_cache_free(s->kc, kmem_cache_alloc(s->kc, MEM_ATOMIC));
	return NULL;
}

static double time_stats(struct kmem_cache *kc, int calls)
{
	struct kmem_cache_stats st;
	double t0 = now_us();

	for (int i = 0; i < calls; i++)
		kmem_cache_stats(kc, &st);
	return (now_us() - t0) / calls;
}

static double time_fence(int calls)
{
	double t0 = now_us();

	for (int i = 0; i < calls; i++)
		syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED_RSEQ,
			MEMBARRIER_CMD_FLAG_CPU, 1);
	return (now_us() - t0) / calls;
}

/* One repetition in one mode: idle, busy, fence (us per call). */
static void one_rep(enum magslab_pcc_mode mode, int calls, double out[3],
		    char *mode_name, size_t len, unsigned long long *aborts)
{
	struct spinner s = { 0 };
	struct kmem_cache_stats st;

	magslab_set_pcc_mode(mode);
	s.kc = kmem_cache_create("fence", 64, 0, 0, NULL, NULL, NULL, NULL);
	if (!s.kc) {
		fprintf(stderr, "bench-pcc_fence: kmem_cache_create: %s\n",
			magslab_last_error());
		exit(1);
	}
	out[0] = time_stats(s.kc, calls);
	pthread_create(&s.thread, NULL, spin_main, &s);
	usleep(50000);
	out[1] = time_stats(s.kc, calls);
	out[2] = time_fence(calls);
	atomic_store(&s.stop, true);
	pthread_join(s.thread, NULL);
	kmem_cache_stats(s.kc, &st);
	snprintf(mode_name, len, "%s", st.pcc_mode);
	*aborts += st.pcc_aborts;
	kmem_cache_destroy(s.kc);
}

static void usage(int rc)
{
	fputs("usage: bench-pcc_fence [--calls N] [--reps N]\n"
	      "  --calls N  calls timed per measurement (default 20000)\n"
	      "  --reps N   repetitions of each mode, alternating (default 5)\n",
	      rc ? stderr : stdout);
	exit(rc);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "calls", required_argument, NULL, 'c' },
		{ "reps", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const what[3] = { "stats, idle", "stats, busy CPU",
					     "membarrier to the busy CPU" };
	double v[2][3][MAX_REPS];
	char names[2][16];
	unsigned long long aborts[2] = { 0, 0 };
	int calls = 20000, reps = 5, c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'c')
			calls = atoi(optarg);
		else if (c == 'r')
			reps = atoi(optarg);
		else
			usage(c == 'h' ? 0 : 2);
	}
	if (calls < 1 || reps < 1 || reps > MAX_REPS || optind != argc)
		usage(2);
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
		fputs("bench-pcc_fence: needs 2 CPUs\n", stderr);
		return 1;
	}
	pin(pthread_self(), 0);
	for (int r = 0; r < reps; r++) {
		double out[3];

		for (int m = 0; m < 2; m++) {
			one_rep(m ? MAGSLAB_PCC_MODE_LOCKED : MAGSLAB_PCC_MODE_AUTO,
				calls, out, names[m], sizeof(names[m]), &aborts[m]);
			for (int k = 0; k < 3; k++)
				v[m][k][r] = out[k];
		}
	}
	printf("| us per call (median of %d) | %s | %s |\n|---|--:|--:|\n", reps,
	       names[0], names[1]);
	for (int k = 0; k < 3; k++)
		printf("| %s | %.2f | %.2f |\n", what[k], bench_median(v[0][k], (size_t)reps),
		       bench_median(v[1][k], (size_t)reps));
	printf("\nfast paths restarted by the fences (pcc_aborts): %s %llu, %s %llu\n",
	       names[0], aborts[0], names[1], aborts[1]);
	return 0;
}
