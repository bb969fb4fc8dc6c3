/*
 * bench/tracing.c — what the magslab tracepoints cost: ns per operation of
 * one workload, to be built twice (against a `make TRACE=0` library and a
 * tracing one) and run with and without a recording session.
 * bench/run-tracing.sh does all of that and writes bench/results/tracing.md.
 *
 * Workloads (every thread pinned to CPU i mod cores):
 *
 *   pair    every thread, over and over: allocate an object, write a word
 *           to it, free it.  Served by the per-CPU cache: no event fires.
 *   batch   every thread, over and over: allocate --batch objects (writing
 *           a word to each), then free them in order.  With a small magsize
 *           nearly every --magsize-th operation swaps magazines or visits
 *           the depot, so events fire at a high rate: the depot-heavy case.
 *
 * The one cache (--size-byte objects) gets --policy with a resize threshold
 * of --threshold (default: the largest, so that the akaros policy never
 * grows it) and --magsize, before any allocation: the magsize stays where
 * it was put.
 *
 * An operation is one allocation or one free.  With wall the time from the
 * first thread starting to the last one finishing,
 *
 *     ns per operation = wall * min(threads, cores) / operations
 *
 * (as bench-alloc counts it), and CPU ns per operation = the CPU time the
 * threads used (CLOCK_THREAD_CPUTIME_ID, summed) / operations: time other
 * processes had the CPU is not in it, so on a busy machine it is far
 * steadier than wall time (the two agree when the threads keep every core
 * they may use busy).  The threads are made once; --warmup untimed
 * measurements come first, then --reps timed ones.  Unless --ops is given,
 * the warm-up also calibrates the operation count to about --target-ms.
 *
 * Events: the cache's counters (kmem_cache_stats) count what the trace
 * events count (docs/events.md), so the program prints, for the timed
 * measurements, how many cache events fired and how many per second, with
 * or without a session; compare with what a recorded trace holds to see
 * what was lost.  The figure leaves out events of other caches (the
 * magazine cache) and arenas: a handful.  Each timed measurement is
 * bracketed by magslab:workload_phase events ("measure", rep number; then
 * "idle") so a trace can be cut to the timed part.
 *
 * Output: a '#' header line, one "rep" line per timed measurement, one
 * "events" line, and last one "result" line (key=value) for scripts.
 */
#include <magslab/magslab.h>
#include <magslab/slab.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "median.h"

/* Which library this binary was linked against: bench/tracing.mk says. */
#ifndef BENCH_TRACE_MODE
#define BENCH_TRACE_MODE "unknown"
#endif

#define LINE            64
#define MAX_THREADS     256
#define MAX_REPS        99
#define CAL_MIN_NS      30000000ull     /* calibrate until a run lasts this */

enum workload { W_PAIR, W_BATCH };
static const char *const workload_names[] = { "pair", "batch" };

static const char *prog = "bench-tracing";

struct opts {
	enum workload workload;
	unsigned int threads;
	size_t batch;
	uint64_t ops;           /* per measurement, all threads; 0: calibrate */
	unsigned int magsize;
	const char *policy;
	uint64_t threshold;
	size_t size;
	unsigned int reps;
	unsigned int warmup;
	unsigned int target_ms;
};

struct bench;

struct thr {
	_Alignas(LINE) struct bench *b;
	unsigned int idx;
	int cpu;
	pthread_t tid;
	uint64_t rounds;        /* this measurement: pairs or batch rounds */
	uint64_t t0, t1;        /* CLOCK_MONOTONIC */
	uint64_t c0, c1;        /* this thread's CPU time */
	void **objs;            /* batch: the objects of one round */
};

struct bench {
	struct opts o;
	struct kmem_cache *kc;
	unsigned int cores;
	int cpu_of[CPU_SETSIZE];
	struct thr *thr;
	pthread_barrier_t start, finish;
	volatile bool stop;
};

/* ---------------------------------------------------------------------- */

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void fatal(const char *what, const char *why)
{
	fprintf(stderr, "%s: %s: %s\n", prog, what, why);
	exit(1);
}

/* The compiler must assume *p is read: the store to it stays. */
static inline void use(void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

static void *zmap(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		fatal("mmap", strerror(errno));
	return p;
}

static __attribute__((noinline, noreturn)) void no_object(struct thr *t)
{
	fprintf(stderr, "%s: thread %u: kmem_cache_alloc failed: %s\n", prog,
		t->idx, *magslab_last_error() ? magslab_last_error()
					      : strerror(errno));
	exit(1);
}

/* ---------------------------------------------------------------------- */
/* The workloads                                                           */

static void do_pair(struct thr *t)
{
	struct kmem_cache *kc = t->b->kc;

	for (uint64_t i = 0; i < t->rounds; i++) {
		uintptr_t *p = kmem_cache_alloc(kc, MEM_ATOMIC);

		if (__builtin_expect(!p, 0))
			no_object(t);
		*p = (uintptr_t)i;
		use(p);
		kmem_cache_free(kc, p);
	}
}

static void do_batch(struct thr *t)
{
	struct kmem_cache *kc = t->b->kc;
	size_t n = t->b->o.batch;
	void **v = t->objs;

	for (uint64_t r = 0; r < t->rounds; r++) {
		for (size_t j = 0; j < n; j++) {
			uintptr_t *p = kmem_cache_alloc(kc, MEM_ATOMIC);

			if (__builtin_expect(!p, 0))
				no_object(t);
			*p = (uintptr_t)j;
			use(p);
			v[j] = p;
		}
		for (size_t j = 0; j < n; j++)
			kmem_cache_free(kc, v[j]);
	}
}

static void *thr_main(void *arg)
{
	struct thr *t = arg;
	struct bench *b = t->b;

	for (;;) {
		pthread_barrier_wait(&b->start);
		if (b->stop)
			return NULL;
		t->t0 = clock_ns(CLOCK_MONOTONIC);
		t->c0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
		if (b->o.workload == W_PAIR)
			do_pair(t);
		else
			do_batch(t);
		t->c1 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
		t->t1 = clock_ns(CLOCK_MONOTONIC);
		pthread_barrier_wait(&b->finish);
	}
}

/* Operations one measurement does when every thread does `rounds`. */
static uint64_t ops_for(const struct bench *b, uint64_t rounds)
{
	uint64_t per_round = b->o.workload == W_PAIR ? 2 : 2 * b->o.batch;

	return rounds * per_round * b->o.threads;
}

static uint64_t rounds_for(const struct bench *b, uint64_t ops)
{
	uint64_t r = ops / ops_for(b, 1);

	return r ? r : 1;
}

/* One measurement of `rounds` per thread; returns its wall time (ns) and,
 * if cpu is not NULL, sets *cpu to the CPU time its threads used (summed). */
static uint64_t run_once(struct bench *b, uint64_t rounds, uint64_t *cpu)
{
	uint64_t first = UINT64_MAX, last = 0;

	for (unsigned int i = 0; i < b->o.threads; i++)
		b->thr[i].rounds = rounds;
	pthread_barrier_wait(&b->start);
	pthread_barrier_wait(&b->finish);
	for (unsigned int i = 0; i < b->o.threads; i++) {
		if (b->thr[i].t0 < first)
			first = b->thr[i].t0;
		if (b->thr[i].t1 > last)
			last = b->thr[i].t1;
	}
	if (cpu) {
		*cpu = 0;
		for (unsigned int i = 0; i < b->o.threads; i++)
			*cpu += b->thr[i].c1 - b->thr[i].c0;
	}
	return last - first;
}

static double per_op(const struct bench *b, uint64_t wall, uint64_t rounds)
{
	unsigned int par = b->o.threads < b->cores ? b->o.threads : b->cores;

	return (double)wall * par / (double)ops_for(b, rounds);
}

/* Events the cache's counters say fired so far (see docs/events.md). */
struct evcount {
	uint64_t swaps, exchanges, misses, depot_cont, pcc_cont, bumps, slabs,
		 total;
};

static void count_events(struct bench *b, struct evcount *e)
{
	struct kmem_cache_stats st;

	if (kmem_cache_stats(b->kc, &st))
		fatal("kmem_cache_stats", magslab_last_error());
	e->swaps = st.mag_swaps[0] + st.mag_swaps[1];
	/* An exchange bumps depot_gets and depot_puts of its side both and is one
	 * depot_exchange event (docs/events.md): count it once. */
	e->exchanges = st.depot_gets[0] + st.depot_gets[1];
	e->misses = st.depot_misses[0] + st.depot_misses[1];
	e->depot_cont = st.depot_contended;
	e->pcc_cont = st.pcc_contended;
	e->bumps = st.magsize_up + st.magsize_down;
	e->slabs = st.slab_grows + st.slab_releases;
	e->total = e->swaps + e->exchanges + e->misses + e->depot_cont +
		   e->pcc_cont + e->bumps + e->slabs;
}

static void setup(struct bench *b)
{
	const struct opts *o = &b->o;
	cpu_set_t set;

	CPU_ZERO(&set);
	if (sched_getaffinity(0, sizeof(set), &set))
		fatal("sched_getaffinity", strerror(errno));
	b->cores = 0;
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set))
			b->cpu_of[b->cores++] = c;

	b->kc = kmem_cache_create("bench-tracing", o->size, 0, 0, NULL, NULL,
				  NULL, NULL);
	if (!b->kc)
		fatal("kmem_cache_create", magslab_last_error());
	if (kmem_cache_set_policy(b->kc, o->policy) ||
	    kmem_cache_set_resize_threshold(b->kc, o->threshold) ||
	    kmem_cache_set_magsize(b->kc, o->magsize))
		fatal("configuring the cache", magslab_last_error());

	if (pthread_barrier_init(&b->start, NULL, o->threads + 1) ||
	    pthread_barrier_init(&b->finish, NULL, o->threads + 1))
		fatal("pthread_barrier_init", "failed");
	b->thr = zmap(o->threads * sizeof(*b->thr));
	for (unsigned int i = 0; i < o->threads; i++) {
		struct thr *t = &b->thr[i];
		pthread_attr_t attr;
		int err;

		t->b = b;
		t->idx = i;
		t->cpu = b->cpu_of[i % b->cores];
		if (o->workload == W_BATCH)
			t->objs = zmap(o->batch * sizeof(void *));
		CPU_ZERO(&set);
		CPU_SET(t->cpu, &set);
		pthread_attr_init(&attr);
		pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
		err = pthread_create(&t->tid, &attr, thr_main, t);
		pthread_attr_destroy(&attr);
		if (err)
			fatal("pthread_create", strerror(err));
	}
}

static void teardown(struct bench *b)
{
	b->stop = true;
	pthread_barrier_wait(&b->start);
	for (unsigned int i = 0; i < b->o.threads; i++)
		pthread_join(b->thr[i].tid, NULL);
}

/* ---------------------------------------------------------------------- */
/* Options                                                                 */

static void help(void)
{
	printf(
"usage: %s [options]\n"
"ns per kmem_cache_alloc/free for the tracing-overhead benchmark (see the\n"
"comment at the top of bench/tracing.c and bench/run-tracing.sh).\n"
"  --workload W     pair | batch (default pair)\n"
"  --threads N      threads, 1..%u (default 1), thread i on CPU i mod cores\n"
"  --batch N        objects per batch round (default 1000)\n"
"  --ops N          operations (allocs + frees, all threads) per measurement;\n"
"                   0 (default): calibrate to about --target-ms\n"
"  --target-ms MS   calibration target (default 300)\n"
"  --magsize N      the cache's magsize, %u..%u (default 8)\n"
"  --policy NAME    resize policy (default akaros)\n"
"  --threshold N    resize threshold, or max (default max: never grows)\n"
"  --size N         object size in bytes (default 64)\n"
"  --reps N         timed measurements, 1..%u; the median is the result\n"
"                   (default 3)\n"
"  --warmup N       untimed measurements first (default 1)\n"
"  --help           this text\n"
"Library: tracing %s.  Last line: result key=value ... median_ns=...\n",
	       prog, MAX_THREADS, MAG_MIN_ROUNDS, MAG_MAX_ROUNDS, MAX_REPS,
	       BENCH_TRACE_MODE);
}

static __attribute__((noreturn)) void usage_error(const char *msg,
						  const char *arg)
{
	fprintf(stderr, "%s: %s '%s' (try --help)\n", prog, msg, arg);
	exit(2);
}

static uint64_t num(const char *opt, const char *arg, uint64_t lo,
		    uint64_t hi)
{
	unsigned long long v;
	char *end;
	char msg[128];

	errno = 0;
	if (arg[0] >= '0' && arg[0] <= '9') {
		v = strtoull(arg, &end, 10);
		if (!errno && !*end && v >= lo && v <= hi)
			return v;
	}
	snprintf(msg, sizeof(msg), "%s wants an integer in [%" PRIu64 ", %"
		 PRIu64 "], not", opt, lo, hi);
	usage_error(msg, arg);
}

enum { WORKLOAD = 256, THREADS, BATCH, OPS, TARGET, MAGSIZE, POLICY,
       THRESHOLD, SIZE, REPS, WARMUP, HELP };

/* The integer options: where each goes and its bounds. */
static bool set_number(struct opts *o, int c, const char *v)
{
	switch (c) {
	case THREADS:
		o->threads = num("--threads", v, 1, MAX_THREADS);
		return true;
	case BATCH:
		o->batch = num("--batch", v, 1, 1u << 24);
		return true;
	case OPS:
		o->ops = num("--ops", v, 0, UINT64_C(1) << 40);
		return true;
	case TARGET:
		o->target_ms = num("--target-ms", v, 1, 60000);
		return true;
	case MAGSIZE:
		o->magsize = num("--magsize", v, MAG_MIN_ROUNDS, MAG_MAX_ROUNDS);
		return true;
	case SIZE:
		o->size = num("--size", v, sizeof(uintptr_t), 1u << 20);
		return true;
	case REPS:
		o->reps = num("--reps", v, 1, MAX_REPS);
		return true;
	case WARMUP:
		o->warmup = num("--warmup", v, 0, MAX_REPS);
		return true;
	}
	return false;
}

/* One option of getopt_long's; exits on a bad one. */
static void set_option(struct opts *o, int c, char **argv)
{
	if (set_number(o, c, optarg))
		return;
	switch (c) {
	case WORKLOAD:
		if (!strcmp(optarg, "pair"))
			o->workload = W_PAIR;
		else if (!strcmp(optarg, "batch"))
			o->workload = W_BATCH;
		else
			usage_error("--workload wants pair or batch, not", optarg);
		break;
	case POLICY:
		o->policy = optarg;
		break;
	case THRESHOLD:
		o->threshold = !strcmp(optarg, "max") ? UINT64_MAX :
			num("--threshold", optarg, 0, UINT64_MAX);
		break;
	case HELP:
		help();
		exit(0);
	case ':':
		usage_error("option needs a value:", argv[optind - 1]);
	default:
		usage_error("unknown option", argv[optind - 1]);
	}
}

static void parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "workload", required_argument, NULL, WORKLOAD },
		{ "threads", required_argument, NULL, THREADS },
		{ "batch", required_argument, NULL, BATCH },
		{ "ops", required_argument, NULL, OPS },
		{ "target-ms", required_argument, NULL, TARGET },
		{ "magsize", required_argument, NULL, MAGSIZE },
		{ "policy", required_argument, NULL, POLICY },
		{ "threshold", required_argument, NULL, THRESHOLD },
		{ "size", required_argument, NULL, SIZE },
		{ "reps", required_argument, NULL, REPS },
		{ "warmup", required_argument, NULL, WARMUP },
		{ "help", no_argument, NULL, HELP },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct opts){
		.workload = W_PAIR, .threads = 1, .batch = 1000, .ops = 0,
		.magsize = 8, .policy = "akaros", .threshold = UINT64_MAX,
		.size = 64, .reps = 3, .warmup = 1, .target_ms = 300,
	};
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", lo, NULL)) != -1)
		set_option(o, c, argv);
	if (optind < argc)
		usage_error("unexpected argument", argv[optind]);
	if (o->ops == 0 && o->warmup == 0)
		o->warmup = 1;          /* calibration is the warm-up */
}

/* ---------------------------------------------------------------------- */

/* Median, min and max of v[0..n) (v is sorted in place). */
static void summarize(double *v, unsigned int n, double out[3])
{
	out[0] = bench_median(v, n);
	out[1] = v[0];
	out[2] = v[n - 1];
}

/* Warms up and returns the rounds each measurement makes: --ops, or
 * calibrated to about --target-ms (the calibration is the first warm-up). */
static uint64_t warm_up(struct bench *b)
{
	uint64_t rounds, wall;
	unsigned int i;

	magslab_trace_phase("warmup", 0);
	if (b->o.ops) {
		rounds = rounds_for(b, b->o.ops);
		for (i = 0; i < b->o.warmup; i++)
			run_once(b, rounds, NULL);
		return rounds;
	}
	/* Grow until a run is long enough to scale from. */
	rounds = 1;
	while ((wall = run_once(b, rounds, NULL)) < CAL_MIN_NS &&
	       rounds < (UINT64_C(1) << 40))
		rounds *= wall < CAL_MIN_NS / 32 ? 8 : 2;
	rounds = (uint64_t)((double)rounds * b->o.target_ms * 1e6 /
			    (double)(wall ? wall : 1));
	if (!rounds)
		rounds = 1;
	for (i = 1; i < b->o.warmup; i++)
		run_once(b, rounds, NULL);
	return rounds;
}

static void print_header(const struct bench *b, uint64_t rounds)
{
	printf("# %s: trace=%s workload=%s threads=%u cores=%u ops=%" PRIu64
	       " magsize=%u policy=%s size=%zu reps=%u",
	       prog, BENCH_TRACE_MODE, workload_names[b->o.workload],
	       b->o.threads, b->cores, ops_for(b, rounds), b->o.magsize,
	       b->o.policy, b->o.size, b->o.reps);
	if (b->o.workload == W_BATCH)
		printf(" batch=%zu", b->o.batch);
	printf("\n");
	fflush(stdout);
}

/* The timed measurements: ns[] and cpu_ns[] per operation; returns the
 * wall time they took together. */
static uint64_t measure(struct bench *b, uint64_t rounds, double *ns,
			double *cpu_ns)
{
	uint64_t wall, cpu, timed = 0;

	for (unsigned int i = 0; i < b->o.reps; i++) {
		magslab_trace_phase("measure", i + 1);
		wall = run_once(b, rounds, &cpu);
		magslab_trace_phase("idle", i + 1);
		timed += wall;
		ns[i] = per_op(b, wall, rounds);
		cpu_ns[i] = (double)cpu / (double)ops_for(b, rounds);
		printf("rep %u: %.3f ns/op, %.3f CPU ns/op (wall %.3f s)\n",
		       i + 1, ns[i], cpu_ns[i], (double)wall / 1e9);
		fflush(stdout);
	}
	return timed;
}

static void print_events(const struct evcount *e0, const struct evcount *e1)
{
	printf("events (timed part, from the cache's counters): mag_swap %"
	       PRIu64 " depot_exchange %" PRIu64
	       " depot_miss %" PRIu64 " depot_contention %" PRIu64
	       " pcc_contention %" PRIu64 " magsize_bump %" PRIu64
	       " slab_grow/release %" PRIu64 "; whole run %" PRIu64 "\n",
	       e1->swaps - e0->swaps, e1->exchanges - e0->exchanges,
	       e1->misses - e0->misses, e1->depot_cont - e0->depot_cont,
	       e1->pcc_cont - e0->pcc_cont, e1->bumps - e0->bumps,
	       e1->slabs - e0->slabs, e1->total);
}

static void print_result(const struct bench *b, uint64_t rounds,
			 double *ns, double *cpu_ns, uint64_t timed,
			 uint64_t events, uint64_t events_run)
{
	double w[3], c[3];

	summarize(ns, b->o.reps, w);
	summarize(cpu_ns, b->o.reps, c);
	printf("result trace=%s workload=%s threads=%u cores=%u ops=%" PRIu64
	       " magsize=%u reps=%u median_ns=%.3f min_ns=%.3f max_ns=%.3f"
	       " cpu_median_ns=%.3f cpu_min_ns=%.3f cpu_max_ns=%.3f"
	       " timed_s=%.4f events_timed=%" PRIu64 " events_per_s=%.0f"
	       " events_run=%" PRIu64 "\n",
	       BENCH_TRACE_MODE, workload_names[b->o.workload], b->o.threads,
	       b->cores, ops_for(b, rounds), b->o.magsize, b->o.reps, w[0],
	       w[1], w[2], c[0], c[1], c[2], (double)timed / 1e9, events,
	       timed ? (double)events * 1e9 / (double)timed : 0, events_run);
}

int main(int argc, char **argv)
{
	static struct bench bench;
	struct bench *b = &bench;
	struct evcount e0, e1;
	double ns[MAX_REPS], cpu_ns[MAX_REPS];
	uint64_t rounds, timed;

	parse(argc, argv, &b->o);
	setup(b);
	rounds = warm_up(b);
	print_header(b, rounds);
	count_events(b, &e0);
	timed = measure(b, rounds, ns, cpu_ns);
	count_events(b, &e1);
	teardown(b);
	print_events(&e0, &e1);
	print_result(b, rounds, ns, cpu_ns, timed, e1.total - e0.total,
		     e1.total);
	return 0;
}
