/*
 * bench/alloc.c — ns per allocator operation: magslab's object cache against
 * malloc (whichever one is linked or LD_PRELOADed) and a trivial free list.
 *
 * One run measures one allocator, one pattern, one object size and one
 * thread count:
 *
 *   pair    every thread, n times: allocate an object, write one word to it,
 *           free it;
 *   batch   every thread, n times: allocate --batch objects (writing one word
 *           to each), then free them in the order they were allocated;
 *   xfer    threads 2k and 2k+1 are a producer and a consumer joined by a
 *           single-producer single-consumer ring of --ring slots: the
 *           producer allocates an object, writes one word and pushes it; the
 *           consumer pops it, reads the word and frees it (so every free is
 *           of an object another thread allocated).  The ring publishes its
 *           indices every --publish objects, so that its own cache-line
 *           traffic stays small next to the allocator's.
 *
 * The allocators:
 *
 *   magslab kmem_cache_alloc/kmem_cache_free on one cache of --size-byte
 *           objects, created before any timing (default flags and policy;
 *           the MAGSLAB_* environment variables apply);
 *   malloc  malloc/free — glibc's, or the one LD_PRELOAD puts first: the
 *           label printed says which library malloc resolved to;
 *   floor   a trivial thread-local free list (pop, push; new objects are
 *           carved from thread-private chunks): the floor of what an
 *           allocator can cost.  In xfer a free on the consumer would only
 *           grow the consumer's list while the producer carves forever, so
 *           there the floor is the ring alone: the producer takes objects
 *           round-robin from a private pool of 2 * --ring objects (the
 *           consumer is done with an object long before it comes round
 *           again) and the consumer's free does nothing.
 *
 * An operation is one allocation or one free: a pair is two operations, a
 * batch round 2 * --batch, an object sent through a ring two.  With wall the
 * time from the first thread starting to the last one finishing,
 *
 *     ns per operation = wall * min(threads, cores) / operations
 *
 * where cores is the number of CPUs the process may run on; thread i is
 * pinned to the (i mod cores)-th of them.  Equal ns/op at 1 and N threads is
 * perfect scaling; with more threads than cores they time-share the cores.
 *
 * The threads are created once and kept for every measurement of the run, so
 * thread caches stay warm.  Unless --ops is given, a calibration (which also
 * warms the allocator up) picks the operation count that makes one
 * measurement last about --target-ms; with --ops, one measurement of that
 * size warms up.  Then --reps measurements; the median
 * is the result, on one line starting with "result " for scripts.  With two
 * or more cores that line also gives the cross-core cache-line handoff
 * (bench/handoff.h) measured just before and just after the measurements,
 * handoff_ns=BEFORE,AFTER (-1,-1 with one core): on a shared VM it jumps
 * between levels, and the multi-thread figures move lines between the CPUs.
 */
#include <magslab/magslab.h>
#include <magslab/slab.h>

#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "alloc_opts.h"
#include "handoff.h"
#include "median.h"

#define CACHE_LINE      64
#define CAL_MIN_NS      50000000ull     /* calibrate until a run lasts this */
#define SPINS_PER_YIELD 64              /* ring waits: pause this often, then yield */
#define FLOOR_CHUNK     (1u << 20)      /* floor carves from chunks this big */

/* A single-producer single-consumer ring with batched index updates (as
 * in MCRingBuffer): each side publishes its index every --publish objects
 * (and at the end of a measurement), and keeps a cached copy of the other
 * side's published index next to its own, so the index cache lines move
 * once per batch instead of once per object.  Deadlock-free as long as the
 * ring holds more than 2 * (publish - 1) objects: a starving consumer means
 * a producer with free slots. */
struct ring {
	_Alignas(CACHE_LINE) _Atomic size_t head;       /* published by the producer */
	size_t tail_cache;
	_Alignas(CACHE_LINE) _Atomic size_t tail;       /* published by the consumer */
	size_t head_cache;
	_Alignas(CACHE_LINE) void **slot;
	size_t mask;
	size_t publish;
	void **pool;                    /* floor: the producer's objects */
};

/* The trivial allocator: a free list and a bump pointer, per thread. */
struct floor_tl {
	void *head;
	char *bump, *end;
	size_t osize;
};

struct bench;

struct worker {
	_Alignas(CACHE_LINE) struct bench *b;
	unsigned int idx;
	int cpu;
	pthread_t tid;
	uint64_t n;                     /* this measurement: pairs, rounds, objects */
	uint64_t start_ns, end_ns;
	uintptr_t sink;
	struct floor_tl fl;
	void **batch;
	struct ring *ring;
	bool producer;
};

struct bench {
	struct opts o;
	struct kmem_cache *kc;
	unsigned int cores;
	int cpus[CPU_SETSIZE];
	struct worker *w;
	struct ring *rings;
	pthread_barrier_t go, done;
	bool quit;
};

/* ---------------------------------------------------------------------- */
/* Helpers                                                                 */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void die(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", prog);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(1);
}

/* Keeps p (and whatever was written through it) alive: the compiler can
 * neither drop the store before it nor pair a malloc with a free away. */
static inline void escape(void *p)
{
	__asm__ volatile("" : : "r"(p) : "memory");
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	__asm__ volatile("" ::: "memory");
#endif
}

static void *map_or_die(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	return p;
}

/* ---------------------------------------------------------------------- */
/* The allocators.  The pattern functions are always inlined with a constant
 * kind, so each allocator gets its own loop with direct calls.           */

static __attribute__((noinline)) void *floor_carve(struct floor_tl *f)
{
	void *p;

	if ((size_t)(f->end - f->bump) < f->osize) {
		size_t len = f->osize * 64 > FLOOR_CHUNK ? f->osize * 64
							 : FLOOR_CHUNK;

		f->bump = map_or_die(len);
		f->end = f->bump + len;
	}
	p = f->bump;
	f->bump += f->osize;
	return p;
}

static inline __attribute__((always_inline)) void *
floor_alloc(struct floor_tl *f)
{
	void *p = f->head;

	if (__builtin_expect(p != NULL, 1)) {
		f->head = *(void **)p;
		return p;
	}
	return floor_carve(f);
}

static inline __attribute__((always_inline)) void
floor_free(struct floor_tl *f, void *p)
{
	*(void **)p = f->head;
	f->head = p;
}

static __attribute__((noinline, noreturn)) void alloc_failed(struct worker *w)
{
	fprintf(stderr, "%s: thread %u: %s allocation of %zu bytes failed: %s\n",
		prog, w->idx, kind_names[w->b->o.kind], w->b->o.size,
		w->b->o.kind == K_MAGSLAB && *magslab_last_error() ?
		magslab_last_error() : strerror(errno));
	exit(1);
}

static inline __attribute__((always_inline)) void *
obj_alloc(enum kind k, struct worker *w)
{
	void *p;

	switch (k) {
	case K_MAGSLAB:
		p = kmem_cache_alloc(w->b->kc, MEM_ATOMIC);
		break;
	case K_MALLOC:
		p = malloc(w->b->o.size);
		break;
	default:
		p = floor_alloc(&w->fl);
		break;
	}
	if (__builtin_expect(p == NULL, 0))
		alloc_failed(w);
	return p;
}

static inline __attribute__((always_inline)) void
obj_free(enum kind k, struct worker *w, void *p)
{
	switch (k) {
	case K_MAGSLAB:
		kmem_cache_free(w->b->kc, p);
		break;
	case K_MALLOC:
		free(p);
		break;
	default:
		floor_free(&w->fl, p);
		break;
	}
}

/* ---------------------------------------------------------------------- */
/* The patterns                                                            */

static inline __attribute__((always_inline)) void
run_pair(enum kind k, struct worker *w)
{
	for (uint64_t i = 0; i < w->n; i++) {
		uintptr_t *p = obj_alloc(k, w);

		*p = (uintptr_t)i;
		escape(p);
		obj_free(k, w, p);
	}
}

static inline __attribute__((always_inline)) void
run_batch(enum kind k, struct worker *w)
{
	size_t nb = w->b->o.batch;
	void **a = w->batch;

	for (uint64_t r = 0; r < w->n; r++) {
		for (size_t j = 0; j < nb; j++) {
			uintptr_t *p = obj_alloc(k, w);

			*p = (uintptr_t)j;
			escape(p);
			a[j] = p;
		}
		for (size_t j = 0; j < nb; j++)
			obj_free(k, w, a[j]);
	}
}

static inline void ring_wait(unsigned int *spins)
{
	if (++*spins % SPINS_PER_YIELD)
		cpu_relax();
	else
		sched_yield();
}

static inline __attribute__((always_inline)) void
run_producer(enum kind k, struct worker *w)
{
	struct ring *r = w->ring;
	size_t cap = r->mask + 1;
	size_t h = atomic_load_explicit(&r->head, memory_order_relaxed);
	size_t pub = r->publish;

	for (uint64_t i = 0; i < w->n; i++) {
		uintptr_t *p;

		if (k == K_FLOOR)       /* the ring alone: see the top */
			p = r->pool[h & (2 * cap - 1)];
		else
			p = obj_alloc(k, w);
		*p = (uintptr_t)i;
		if (h - r->tail_cache == cap) {
			unsigned int spins = 0;

			while ((r->tail_cache = atomic_load_explicit(
					&r->tail, memory_order_acquire)) + cap == h)
				ring_wait(&spins);
		}
		r->slot[h & r->mask] = p;
		if (++h % pub == 0)
			atomic_store_explicit(&r->head, h, memory_order_release);
	}
	atomic_store_explicit(&r->head, h, memory_order_release);
}

static inline __attribute__((always_inline)) void
run_consumer(enum kind k, struct worker *w)
{
	struct ring *r = w->ring;
	size_t t = atomic_load_explicit(&r->tail, memory_order_relaxed);
	size_t pub = r->publish;
	uintptr_t sum = 0;

	for (uint64_t i = 0; i < w->n; i++) {
		uintptr_t *p;

		if (t == r->head_cache) {
			unsigned int spins = 0;

			while ((r->head_cache = atomic_load_explicit(
					&r->head, memory_order_acquire)) == t)
				ring_wait(&spins);
		}
		p = r->slot[t & r->mask];
		if (++t % pub == 0)
			atomic_store_explicit(&r->tail, t, memory_order_release);
		sum += *p;
		if (k != K_FLOOR)
			obj_free(k, w, p);
	}
	atomic_store_explicit(&r->tail, t, memory_order_release);
	w->sink += sum;
}

#define DISPATCH(k, w) do {                                             \
	switch ((w)->b->o.pattern) {                                    \
	case P_PAIR:                                                    \
		run_pair(k, w);                                         \
		break;                                                  \
	case P_BATCH:                                                   \
		run_batch(k, w);                                        \
		break;                                                  \
	case P_XFER:                                                    \
		if ((w)->producer)                                      \
			run_producer(k, w);                             \
		else                                                    \
			run_consumer(k, w);                             \
		break;                                                  \
	}                                                               \
} while (0)

static void run_magslab(struct worker *w) { DISPATCH(K_MAGSLAB, w); }
static void run_malloc(struct worker *w)  { DISPATCH(K_MALLOC, w); }
static void run_floor(struct worker *w)   { DISPATCH(K_FLOOR, w); }

/* ---------------------------------------------------------------------- */
/* Threads and measurements                                                */

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct bench *b = w->b;
	void (*run)(struct worker *) = b->o.kind == K_MAGSLAB ? run_magslab :
				       b->o.kind == K_MALLOC ? run_malloc :
				       run_floor;

	for (;;) {
		pthread_barrier_wait(&b->go);
		if (b->quit)
			break;
		w->start_ns = now_ns();
		run(w);
		w->end_ns = now_ns();
		pthread_barrier_wait(&b->done);
	}
	return NULL;
}

/* Operations in a measurement of n per worker (pairs, rounds or objects). */
static uint64_t ops_of(const struct bench *b, uint64_t n)
{
	switch (b->o.pattern) {
	case P_PAIR:
		return 2 * n * b->o.threads;
	case P_BATCH:
		return 2 * n * b->o.batch * b->o.threads;
	default:
		return 2 * n * (b->o.threads / 2);
	}
}

/* The largest per-worker n whose operations do not exceed ops (at least 1). */
static uint64_t n_for_ops(const struct bench *b, uint64_t ops)
{
	uint64_t n = ops / ops_of(b, 1);

	return n ? n : 1;
}

/* One measurement; returns the wall time in ns. */
static uint64_t measure(struct bench *b, uint64_t n)
{
	uint64_t first = UINT64_MAX, last = 0;

	for (unsigned int i = 0; i < b->o.threads; i++)
		b->w[i].n = n;
	pthread_barrier_wait(&b->go);
	pthread_barrier_wait(&b->done);
	for (unsigned int i = 0; i < b->o.threads; i++) {
		if (b->w[i].start_ns < first)
			first = b->w[i].start_ns;
		if (b->w[i].end_ns > last)
			last = b->w[i].end_ns;
	}
	return last - first;
}

static double ns_per_op(const struct bench *b, uint64_t wall, uint64_t n)
{
	unsigned int par = b->o.threads < b->cores ? b->o.threads : b->cores;

	return (double)wall * par / (double)ops_of(b, n);
}

static void setup(struct bench *b)
{
	const struct opts *o = &b->o;
	size_t fl_size = (o->size + 15) & ~(size_t)15;
	pthread_attr_t attr;
	cpu_set_t set;
	int err;

	CPU_ZERO(&set);
	if (sched_getaffinity(0, sizeof(set), &set))
		die("sched_getaffinity: %s", strerror(errno));
	b->cores = 0;
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set))
			b->cpus[b->cores++] = c;

	if (o->kind == K_MAGSLAB) {
		char name[KMC_NAME_LEN];

		snprintf(name, sizeof(name), "bench-%zu", o->size);
		b->kc = kmem_cache_create(name, o->size, 0, 0, NULL, NULL, NULL,
					  NULL);
		if (!b->kc)
			die("kmem_cache_create: %s", magslab_last_error());
	}

	b->w = map_or_die(o->threads * sizeof(*b->w));
	if (o->pattern == P_XFER) {
		unsigned int pairs = o->threads / 2;

		b->rings = map_or_die(pairs * sizeof(*b->rings));
		for (unsigned int k = 0; k < pairs; k++) {
			struct ring *r = &b->rings[k];

			r->slot = map_or_die(o->ring * sizeof(void *));
			r->mask = o->ring - 1;
			r->publish = o->publish;
			if (o->kind == K_FLOOR) {
				struct floor_tl fl = { .osize = fl_size };

				r->pool = map_or_die(2 * o->ring * sizeof(void *));
				/* Touched now: no page faults while timing. */
				for (size_t i = 0; i < 2 * o->ring; i++) {
					r->pool[i] = floor_carve(&fl);
					*(uintptr_t *)r->pool[i] = 0;
				}
			}
		}
	}

	if (pthread_barrier_init(&b->go, NULL, o->threads + 1) ||
	    pthread_barrier_init(&b->done, NULL, o->threads + 1))
		die("pthread_barrier_init: %s", "failed");
	for (unsigned int i = 0; i < o->threads; i++) {
		struct worker *w = &b->w[i];

		w->b = b;
		w->idx = i;
		w->cpu = b->cpus[i % b->cores];
		w->fl.osize = fl_size;
		if (o->pattern == P_BATCH)
			w->batch = map_or_die(o->batch * sizeof(void *));
		if (o->pattern == P_XFER) {
			w->ring = &b->rings[i / 2];
			w->producer = i % 2 == 0;
		}
		CPU_ZERO(&set);
		CPU_SET(w->cpu, &set);
		pthread_attr_init(&attr);
		pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
		err = pthread_create(&w->tid, &attr, worker_main, w);
		pthread_attr_destroy(&attr);
		if (err)
			die("pthread_create: %s", strerror(err));
	}
}

static void teardown(struct bench *b)
{
	b->quit = true;
	pthread_barrier_wait(&b->go);
	for (unsigned int i = 0; i < b->o.threads; i++)
		pthread_join(b->w[i].tid, NULL);
}

/* ---------------------------------------------------------------------- */
/* Output                                                                  */

/* Which library malloc resolved to: glibc, or the LD_PRELOADed one. */
static const char *malloc_label(char *buf, size_t len)
{
	void *(*fn)(size_t) = malloc;
	const char *base;
	Dl_info info;

	if (!dladdr((void *)fn, &info) || !info.dli_fname)
		return "malloc";
	base = strrchr(info.dli_fname, '/');
	base = base ? base + 1 : info.dli_fname;
	if (!strncmp(base, "libc.so", 7) || !strncmp(base, "libc-", 5))
		return "glibc";
	if (!strncmp(base, "libjemalloc", 11))
		return "jemalloc";
	if (!strncmp(base, "libtcmalloc", 11))
		return "tcmalloc";
	if (!strncmp(base, "libmimalloc", 11))
		return "mimalloc";
	snprintf(buf, len, "%s", base);
	return buf;
}

/* "magslab-rseq" or "magslab-locked": the pcc mode the cache got. */
static const char *magslab_label(struct bench *b, char *buf, size_t len)
{
	struct kmem_cache_stats st;

	if (kmem_cache_stats(b->kc, &st))
		return "magslab";
	snprintf(buf, len, "magslab-%s", st.pcc_mode);
	return buf;
}

static void print_stats(struct bench *b)
{
	struct kmem_cache_stats st;

	if (b->o.kind != K_MAGSLAB)
		return;
	if (kmem_cache_stats(b->kc, &st)) {
		fprintf(stderr, "%s: kmem_cache_stats: %s\n", prog,
			magslab_last_error());
		return;
	}
	printf("stats: allocs %" PRIu64 " frees %" PRIu64 " pcc_hits %" PRIu64
	       " (%.4f%%), pcc mode %s%s%s, pcc aborts %" PRIu64 "\n",
	       st.allocs, st.frees, st.pcc_hits,
	       st.allocs + st.frees ?
	       100.0 * (double)st.pcc_hits / (double)(st.allocs + st.frees) : 0,
	       st.pcc_mode, st.pcc_mode_why[0] ? ": " : "", st.pcc_mode_why,
	       st.pcc_aborts);
	printf("stats: mag_swaps alloc %" PRIu64 " free %" PRIu64
	       "; depot gets %" PRIu64 "/%" PRIu64 " puts %" PRIu64 "/%" PRIu64
	       " misses %" PRIu64 "/%" PRIu64 " (alloc/free side)\n",
	       st.mag_swaps[0], st.mag_swaps[1], st.depot_gets[0],
	       st.depot_gets[1], st.depot_puts[0], st.depot_puts[1],
	       st.depot_misses[0], st.depot_misses[1]);
	printf("stats: depot contended %" PRIu64 " (counted %" PRIu64
	       ", wait %" PRIu64 " ns, max %" PRIu64 " ns); pcc contended %"
	       PRIu64 " (wait %" PRIu64 " ns)\n", st.depot_contended,
	       st.depot_contended_counted, st.contention_wait_ns,
	       st.contention_wait_max_ns, st.pcc_contended, st.pcc_wait_ns);
	printf("stats: magsize %u (pcc %u..%u, %u slots, up %" PRIu64 " down %"
	       PRIu64 "), policy %s; mags %" PRIu64 ", slabs %" PRIu64
	       " (grows %" PRIu64 "), slab %zu B x %zu objs, bufctl %d\n",
	       st.magsize, st.pcc_magsize_min, st.pcc_magsize_max, st.nr_pcc,
	       st.magsize_up, st.magsize_down, st.policy, st.mags_allocated,
	       st.slabs, st.slab_grows, st.slab_size, st.objs_per_slab,
	       st.uses_bufctl);
}

/* ---------------------------------------------------------------------- */

int main(int argc, char **argv)
{
	static struct bench bench;
	struct bench *b = &bench;
	char buf[64];
	const char *label;
	uint64_t n, wall;
	double ns[99], med, handoff[2];

	parse_opts(argc, argv, &b->o);
	setup(b);
	label = b->o.label ? b->o.label :
		b->o.kind == K_MALLOC ? malloc_label(buf, sizeof(buf)) :
		b->o.kind == K_MAGSLAB ? magslab_label(b, buf, sizeof(buf)) :
		kind_names[b->o.kind];

	if (b->o.ops) {
		n = n_for_ops(b, b->o.ops);
		measure(b, n);          /* warm-up, not counted */
	} else {
		/*
		 * Grow until a run lasts CAL_MIN_NS.  The first runs touch
		 * fresh memory (page faults, which are slow in a VM) and pay
		 * thread wake-ups: too long for their size.  So run the last
		 * size once more, warm, and scale that to the target, never
		 * below the calibration size.
		 */
		uint64_t cal;

		n = 1;
		while ((wall = measure(b, n)) < CAL_MIN_NS && n < (1ull << 40))
			n = wall < CAL_MIN_NS / 64 ? n * 16 : n * 2;
		cal = n;
		wall = measure(b, cal);
		n = (uint64_t)((double)cal * b->o.target_ms * 1e6 /
			       (double)(wall ? wall : 1));
		if (n < cal)
			n = cal;
	}

	printf("# %s: label=%s alloc=%s pattern=%s size=%zu threads=%u "
	       "cores=%u ops=%" PRIu64 " reps=%u", prog, label,
	       kind_names[b->o.kind], pattern_names[b->o.pattern], b->o.size,
	       b->o.threads, b->cores, ops_of(b, n), b->o.reps);
	if (b->o.pattern == P_BATCH)
		printf(" batch=%zu", b->o.batch);
	if (b->o.pattern == P_XFER)
		printf(" ring=%zu publish=%zu", b->o.ring, b->o.publish);
	printf("\n");
	handoff[0] = bench_handoff_quick(b->cpus, b->cores);
	for (unsigned int r = 0; r < b->o.reps; r++) {
		wall = measure(b, n);
		ns[r] = ns_per_op(b, wall, n);
		printf("rep %u: %.3f ns/op (wall %.3f s)\n", r + 1, ns[r],
		       (double)wall / 1e9);
		fflush(stdout);
	}
	handoff[1] = bench_handoff_quick(b->cpus, b->cores);
	teardown(b);
	if (b->o.stats)
		print_stats(b);

	med = bench_median(ns, b->o.reps);
	printf("result label=%s alloc=%s pattern=%s size=%zu threads=%u "
	       "cores=%u ops=%" PRIu64 " reps=%u median_ns=%.3f min_ns=%.3f "
	       "max_ns=%.3f handoff_ns=%.0f,%.0f\n", label, kind_names[b->o.kind],
	       pattern_names[b->o.pattern], b->o.size, b->o.threads, b->cores,
	       ops_of(b, n), b->o.reps, med, ns[0], ns[b->o.reps - 1],
	       handoff[0], handoff[1]);
	return 0;
}
