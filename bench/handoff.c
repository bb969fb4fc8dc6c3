/*
 * bench/handoff.c — what moving one cache line between two CPUs costs right
 * now: the yardstick for every multi-thread figure of bench-alloc.
 *
 * The measurement is bench/handoff.h's (two pinned threads passing a
 * counter; why a benchmark needs it is said there); this program repeats
 * it and prints the median.  bench-alloc measures it around its own
 * repetitions, so run-alloc.sh can put each scaling ratio beside the level
 * it was measured at.
 *
 *   bench-handoff [--handoffs N] [--reps N] [--cpus A,B]
 *
 * Prints one `result handoff_ns=M min_ns=L max_ns=H cpus=A,B reps=N` line
 * (M: the median of the repetitions).  Exits 1 with one line on stderr if
 * fewer than two CPUs are available.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff.h"
#include "median.h"

#define MAX_REPS 99

static const char *prog = "bench-handoff";

static __attribute__((noreturn)) void die(const char *msg)
{
	fprintf(stderr, "%s: %s\n", prog, msg);
	exit(1);
}

/* One measurement: ns per handoff; exits with one line if it cannot. */
static double measure(int cpu_a, int cpu_b, unsigned long handoffs)
{
	int err;
	double ns = bench_handoff_ns(cpu_a, cpu_b, handoffs, &err);

	if (ns < 0) {
		fprintf(stderr, "%s: cannot run a thread on CPU %d and one on %d: %s\n",
			prog, cpu_a, cpu_b, strerror(err));
		exit(1);
	}
	return ns;
}

static unsigned long parse_num(const char *opt, const char *v,
			       unsigned long lo, unsigned long hi)
{
	char *end;
	unsigned long n;

	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno || end == v || *end || n < lo || n > hi) {
		fprintf(stderr, "%s: %s wants a number in %lu..%lu, not '%s'\n",
			prog, opt, lo, hi, v);
		exit(2);
	}
	return n;
}

/* --cpus A,B, or the first two CPUs we may run on. */
static void pick_cpus(const char *spec, int *a, int *b)
{
	cpu_set_t set;
	int n = 0;

	if (sched_getaffinity(0, sizeof(set), &set))
		die("sched_getaffinity failed");
	if (spec) {
		if (sscanf(spec, "%d,%d", a, b) != 2 || *a < 0 || *b < 0 ||
		    *a == *b || *a >= CPU_SETSIZE || *b >= CPU_SETSIZE) {
			fprintf(stderr, "%s: --cpus wants two different CPU numbers A,B, not '%s'\n",
				prog, spec);
			exit(2);
		}
		if (!CPU_ISSET(*a, &set) || !CPU_ISSET(*b, &set)) {
			fprintf(stderr, "%s: --cpus %s: this process may not run on both\n",
				prog, spec);
			exit(2);
		}
		return;
	}
	for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
		if (CPU_ISSET(c, &set))
			*(n++ ? b : a) = c;
	if (n < 2)
		die("needs two CPUs to pass a cache line between; this process may run on one");
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: %s [options]\n"
"ns to move one cache line from one CPU to another (two pinned threads\n"
"incrementing a counter in turn; see the comment at the top of\n"
"bench/handoff.c).\n"
"  --handoffs N   handoffs per measurement (default 200000)\n"
"  --reps N       measurements; the median is the result (default 5)\n"
"  --cpus A,B     the two CPUs (default: the first two we may run on)\n"
"  --help         this text\n", prog);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "handoffs", required_argument, NULL, 'n' },
		{ "reps", required_argument, NULL, 'r' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cpus = NULL;
	unsigned long reps = 5, handoffs = 200000;
	double v[MAX_REPS];
	double med;
	int a, b, opt;

	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 'n': handoffs = parse_num("--handoffs", optarg, 1000, 100000000); break;
		case 'r': reps = parse_num("--reps", optarg, 1, MAX_REPS); break;
		case 'c': cpus = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s' (try --help)\n",
			prog, argv[optind]);
		return 2;
	}
	pick_cpus(cpus, &a, &b);
	for (unsigned long i = 0; i < reps; i++)
		v[i] = measure(a, b, handoffs);
	med = bench_median(v, (size_t)reps);     /* sorts v: min and max at the ends */
	printf("result handoff_ns=%.1f min_ns=%.1f max_ns=%.1f cpus=%d,%d reps=%lu\n",
	       med, v[0], v[reps - 1], a, b, reps);
	return 0;
}
