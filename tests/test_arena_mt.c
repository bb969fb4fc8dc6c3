/*
 * test_arena_mt.c — the arena under concurrent use (also run under TSan).
 *
 * Ownership of every quantum handed out is tracked in a shared map of
 * atomic bytes: a thread that gets a segment swaps its tag into each of the
 * segment's quanta and expects to find 0 there; before freeing it swaps 0
 * back and expects to find its own tag.  Two threads ever holding
 * overlapping segments shows up as a wrong old value.
 *
 * Worker threads never call cmocka asserts (cmocka is not thread-safe): they
 * record the first problem in their own result and the main thread asserts
 * after joining them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

#include "arena_test_util.h"

#define NTHREADS 4
#define DEFAULT_SEED 0x7e57a2e4aULL

struct owner_map {
	uintptr_t base;
	size_t quantum;
	size_t nq;
	_Atomic unsigned char *tag;
};

struct worker {
	pthread_t thread;
	unsigned char tag;
	struct arena *arena;
	struct owner_map *map;
	unsigned long ops;
	size_t max_live;
	size_t max_quanta;       /* largest request, in quanta */
	bool use_xalloc;
	uint64_t seed;
	/* results */
	unsigned long allocs, fails, frees;
	char err[256];
};

/* Static, so that a failing test (cmocka longjmps out) leaks nothing. */
#define MAP_MAX_QUANTA (512 * 4096 / 8)
static _Atomic unsigned char map_storage[MAP_MAX_QUANTA];

static void map_init(struct owner_map *m, uintptr_t base, size_t quantum,
		     size_t nq)
{
	size_t i;

	assert_true(nq <= MAP_MAX_QUANTA);
	m->base = base;
	m->quantum = quantum;
	m->nq = nq;
	m->tag = map_storage;
	for (i = 0; i < nq; i++)
		atomic_init(&m->tag[i], 0);
}

static void map_fini(struct owner_map *m)
{
	m->tag = NULL;
}

/* Claims [addr, addr + rsize) for tag; false (and err set) on overlap. */
static bool map_claim(struct worker *w, uintptr_t addr, size_t rsize)
{
	struct owner_map *m = w->map;
	size_t q0, n, q;

	if (addr % m->quantum || addr < m->base ||
	    addr + rsize > m->base + m->nq * m->quantum) {
		snprintf(w->err, sizeof(w->err),
			 "thread %u: segment [%#lx, %#lx) outside the range or "
			 "misaligned", w->tag, (unsigned long)addr,
			 (unsigned long)(addr + rsize));
		return false;
	}
	q0 = (addr - m->base) / m->quantum;
	n = rsize / m->quantum;
	for (q = q0; q < q0 + n; q++) {
		unsigned char old = atomic_exchange_explicit(
			&m->tag[q], w->tag, memory_order_relaxed);

		if (old != 0) {
			if (w->err[0])
				return false;
			snprintf(w->err, sizeof(w->err),
				 "thread %u: segment [%#lx, %#lx) overlaps "
				 "thread %u's at %#lx", w->tag,
				 (unsigned long)addr,
				 (unsigned long)(addr + rsize), old,
				 (unsigned long)(m->base + q * m->quantum));
			return false;
		}
	}
	return true;
}

static bool map_release(struct worker *w, uintptr_t addr, size_t rsize)
{
	struct owner_map *m = w->map;
	size_t q0 = (addr - m->base) / m->quantum, n = rsize / m->quantum, q;

	for (q = q0; q < q0 + n; q++) {
		unsigned char old = atomic_exchange_explicit(
			&m->tag[q], 0, memory_order_relaxed);

		if (old != w->tag) {
			if (w->err[0])
				return false;
			snprintf(w->err, sizeof(w->err),
				 "thread %u: quantum %#lx of its segment "
				 "[%#lx, %#lx) was tagged %u", w->tag,
				 (unsigned long)(m->base + q * m->quantum),
				 (unsigned long)addr,
				 (unsigned long)(addr + rsize), old);
			return false;
		}
	}
	return true;
}

struct live {
	uintptr_t addr;
	size_t size, rsize;
	bool x;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	size_t q = w->map->quantum;
	struct live *live = calloc(w->max_live, sizeof(*live));
	size_t nr_live = 0;
	struct at_rng r;
	unsigned long op;

	if (!live) {
		snprintf(w->err, sizeof(w->err), "calloc failed");
		return NULL;
	}
	at_rng_init(&r, w->seed);
	for (op = 0; op < w->ops && !w->err[0]; op++) {
		bool alloc = nr_live == 0 ||
			     (nr_live < w->max_live && at_below(&r, 2) == 0);

		if (alloc) {
			size_t size = (1 + at_below(&r, w->max_quanta)) * q -
				      at_below(&r, q);
			size_t rsize = (size + q - 1) / q * q;
			bool x = w->use_xalloc && at_below(&r, 3) == 0;
			size_t align = 0, phase = 0, nocross = 0;
			void *p;

			if (x) {
				align = (size_t)16 << at_below(&r, 3);
				if (align < q)
					align = q;
				phase = at_below(&r, align / q) * q;
				if (at_below(&r, 2)) {
					nocross = 1;
					while (nocross < rsize + phase)
						nocross <<= 1;
				}
				p = arena_xalloc(w->arena, size, align, phase,
						 nocross, NULL, NULL,
						 MEM_ATOMIC);
			} else {
				int fit = (int[]){ ARENA_INSTANTFIT,
						   ARENA_BESTFIT,
						   ARENA_NEXTFIT }
					[at_below(&r, 3)];

				p = arena_alloc(w->arena, size,
						MEM_ATOMIC | fit);
			}
			w->allocs++;
			if (!p) {
				w->fails++;
				if (errno != ENOMEM) {
					snprintf(w->err, sizeof(w->err),
						 "thread %u: alloc(%zu) failed "
						 "with errno %d: %s", w->tag,
						 size, errno,
						 magslab_last_error());
				}
				continue;
			}
			if (x && ((uintptr_t)p % align != phase ||
				  (nocross && (uintptr_t)p / nocross !=
				   ((uintptr_t)p + rsize - 1) / nocross))) {
				snprintf(w->err, sizeof(w->err),
					 "thread %u: xalloc(%zu, align %zu, "
					 "phase %zu, nocross %zu) returned %p",
					 w->tag, size, align, phase, nocross,
					 p);
				break;
			}
			if (!map_claim(w, (uintptr_t)p, rsize))
				break;
			live[nr_live].addr = (uintptr_t)p;
			live[nr_live].size = size;
			live[nr_live].rsize = rsize;
			live[nr_live].x = x;
			nr_live++;
		} else {
			size_t i = at_below(&r, nr_live);
			struct live s = live[i];
			int rc;

			if (!map_release(w, s.addr, s.rsize))
				break;
			rc = s.x ? arena_xfree(w->arena, PTR(s.addr), s.size)
				 : arena_free(w->arena, PTR(s.addr), s.size);
			if (rc != 0) {
				snprintf(w->err, sizeof(w->err),
					 "thread %u: free(%#lx, %zu) failed: "
					 "%s", w->tag, (unsigned long)s.addr,
					 s.size, magslab_last_error());
				break;
			}
			w->frees++;
			live[i] = live[--nr_live];
		}
	}
	/* Give everything back (even after an error, to keep going). */
	while (nr_live) {
		struct live s = live[--nr_live];

		(void)map_release(w, s.addr, s.rsize);
		if (s.x)
			arena_xfree(w->arena, PTR(s.addr), s.size);
		else
			arena_free(w->arena, PTR(s.addr), s.size);
	}
	free(live);
	return NULL;
}

static void run_workers(struct worker *w, int n)
{
	int i;

	for (i = 0; i < n; i++)
		assert_int_equal(pthread_create(&w[i].thread, NULL,
						worker_main, &w[i]), 0);
	for (i = 0; i < n; i++)
		assert_int_equal(pthread_join(w[i].thread, NULL), 0);
	for (i = 0; i < n; i++) {
		if (w[i].err[0])
			print_error("seed %llu: %s\n",
				    (unsigned long long)w[i].seed, w[i].err);
		assert_string_equal(w[i].err, "");
		assert_true(w[i].allocs > 0);
		assert_true(w[i].frees > 0);
	}
}

static void worker_setup(struct worker *w, int i, struct arena *a,
			 struct owner_map *m, unsigned long ops,
			 size_t max_live, size_t max_quanta, bool xalloc)
{
	memset(w, 0, sizeof(*w));
	w->tag = (unsigned char)(i + 1);
	w->arena = a;
	w->map = m;
	w->ops = ops;
	w->max_live = max_live;
	w->max_quanta = max_quanta;
	w->use_xalloc = xalloc;
	w->seed = at_seed(DEFAULT_SEED) + (uint64_t)i * 7919;
}

static int group_setup(void **state)
{
	(void)state;
	at_install_handler();
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	magslab_set_error_handler(NULL, NULL);
	return 0;
}

static struct arena_stats stats_of(struct arena *a)
{
	return at_stats(a);
}

/* 4 threads on one bounded arena. */
static void test_mt_shared_arena(void **state)
{
	enum { Q = 8, NQ = 16384, BASE = 1 << 20 };
	struct owner_map m;
	struct worker w[NTHREADS];
	struct arena *a;
	struct arena_stats st;
	int i;

	(void)state;
	map_init(&m, BASE, Q, NQ);
	a = arena_create("mt_shared", PTR(BASE), (size_t)Q * NQ, Q, NULL,
			 NULL, NULL, 0, 0);
	assert_non_null(a);
	for (i = 0; i < NTHREADS; i++)
		worker_setup(&w[i], i, a, &m, 60000, 512, 32, true);
	run_workers(w, NTHREADS);
	assert_check(a);
	st = stats_of(a);
	assert_int_equal(st.allocated, 0);
	assert_int_equal(st.nr_alloc_segments, 0);
	assert_int_equal(st.nr_free_segments, 1);
	assert_int_equal(st.free, (size_t)Q * NQ);
	assert_int_equal(arena_destroy(a), 0);
	map_fini(&m);
}

/* 4 threads on one bounded arena with quantum caches (sizes up to 64
 * bytes go through the slab layer and its magazines). */
static void test_mt_qcache_arena(void **state)
{
	enum { Q = 8, NQ = 32768, BASE = 1 << 21 };
	struct owner_map m;
	struct worker w[NTHREADS];
	struct arena *a;
	struct arena_stats st;
	int i;

	(void)state;
	map_init(&m, BASE, Q, NQ);
	a = arena_create("mt_qcache", PTR(BASE), (size_t)Q * NQ, Q, NULL,
			 NULL, NULL, 64, 0);
	assert_non_null(a);
	for (i = 0; i < NTHREADS; i++)
		worker_setup(&w[i], i, a, &m, 60000, 256, 12, true);
	run_workers(w, NTHREADS);
	assert_check(a);
	st = stats_of(a);
	assert_int_equal(st.total, st.free + st.allocated);
	assert_int_equal(arena_destroy(a), 0);
	map_fini(&m);
}

/* 4 threads on one importing arena: imports and releases race. */
static void test_mt_importing_arena(void **state)
{
	enum { PG = 4096, PAGES = 256, BASE = 1 << 24, Q = 16 };
	struct owner_map m;
	struct worker w[NTHREADS];
	struct arena *s, *a;
	struct arena_stats st, sst;
	int i;

	(void)state;
	map_init(&m, BASE, Q, (size_t)PAGES * PG / Q);
	s = arena_create("mt_src", PTR(BASE), (size_t)PAGES * PG, PG, NULL,
			 NULL, NULL, 0, 0);
	assert_non_null(s);
	a = arena_create("mt_imp", NULL, 0, Q, NULL, NULL, s, 0, 0);
	assert_non_null(a);
	/* few live segments of up to two pages: spans come and go */
	for (i = 0; i < NTHREADS; i++)
		worker_setup(&w[i], i, a, &m, 20000, 8, 2 * PG / Q, true);
	run_workers(w, NTHREADS);
	assert_check(a);
	assert_check(s);
	st = stats_of(a);
	sst = stats_of(s);
	print_message("  mt_imp: %llu imports, %llu releases\n",
		      (unsigned long long)st.nr_imports,
		      (unsigned long long)st.nr_releases);
	assert_true(st.nr_imports > NTHREADS);
	assert_int_equal(st.nr_imports, st.nr_releases);
	assert_int_equal(st.total, 0);
	assert_int_equal(st.nr_spans, 0);
	assert_int_equal(sst.allocated, 0);
	assert_int_equal(arena_destroy(a), 0);
	assert_int_equal(arena_destroy(s), 0);
	map_fini(&m);
}

/* A chain: src <- mid <- {leaf1, leaf2}, two threads on each leaf. */
static void test_mt_import_chain(void **state)
{
	enum { PG = 4096, PAGES = 512, BASE = 1 << 26, Q = 8 };
	struct owner_map m;
	struct worker w[NTHREADS];
	struct arena *s, *mid, *l1, *l2;
	int i;

	(void)state;
	map_init(&m, BASE, Q, (size_t)PAGES * PG / Q);
	s = arena_create("ch_src", PTR(BASE), (size_t)PAGES * PG, PG, NULL,
			 NULL, NULL, 0, 0);
	assert_non_null(s);
	mid = arena_create("ch_mid", NULL, 0, 64, NULL, NULL, s, 0, 0);
	assert_non_null(mid);
	l1 = arena_create("ch_leaf1", NULL, 0, Q, NULL, NULL, mid, 0, 0);
	l2 = arena_create("ch_leaf2", NULL, 0, Q, NULL, NULL, mid, 0, 0);
	assert_non_null(l1);
	assert_non_null(l2);
	assert_int_equal(stats_of(mid).nr_importers, 2);
	for (i = 0; i < NTHREADS; i++)
		worker_setup(&w[i], i, i % 2 ? l2 : l1, &m, 15000, 16, 600,
			     true);
	run_workers(w, NTHREADS);
	assert_check(l1);
	assert_check(l2);
	assert_check(mid);
	assert_check(s);
	assert_int_equal(stats_of(l1).total, 0);
	assert_int_equal(stats_of(l2).total, 0);
	assert_int_equal(stats_of(mid).total, 0);
	assert_int_equal(stats_of(s).allocated, 0);
	assert_int_equal(arena_destroy(l1), 0);
	assert_int_equal(arena_destroy(l2), 0);
	assert_int_equal(arena_destroy(mid), 0);
	assert_int_equal(arena_destroy(s), 0);
	map_fini(&m);
}

/* ---- real memory from kpages, from several threads --------------------- */

struct kp_worker {
	pthread_t thread;
	unsigned char tag;
	uint64_t seed;
	char err[200];
};

static void *kp_main(void *arg)
{
	struct kp_worker *w = arg;
	struct arena *k = arena_kpages();
	size_t ps = arena_quantum(k);
	struct { unsigned char *p; size_t n; } live[8];
	int nr = 0, op;
	struct at_rng r;

	at_rng_init(&r, w->seed);
	for (op = 0; op < 1500 && !w->err[0]; op++) {
		if (nr < 8 && (nr == 0 || at_below(&r, 2))) {
			size_t n = 1 + at_below(&r, 20);
			unsigned char *p = arena_alloc(k, n * ps, MEM_WAIT);

			if (!p) {
				snprintf(w->err, sizeof(w->err),
					 "kpages alloc %zu pages failed: %s",
					 n, magslab_last_error());
				break;
			}
			memset(p, w->tag, n * ps);
			live[nr].p = p;
			live[nr].n = n;
			nr++;
		} else {
			int i = (int)at_below(&r, (uint64_t)nr);
			size_t j;

			for (j = 0; j < live[i].n * ps; j += 512)
				if (live[i].p[j] != w->tag) {
					snprintf(w->err, sizeof(w->err),
						 "thread %u: page byte %zu is "
						 "%u", w->tag, j,
						 live[i].p[j]);
					break;
				}
			if (arena_free(k, live[i].p, live[i].n * ps) != 0) {
				snprintf(w->err, sizeof(w->err),
					 "kpages free failed: %s",
					 magslab_last_error());
				break;
			}
			live[i] = live[--nr];
		}
	}
	while (nr > 0) {
		nr--;
		arena_free(k, live[nr].p, live[nr].n * ps);
	}
	return NULL;
}

static void test_mt_kpages(void **state)
{
	struct kp_worker w[NTHREADS];
	int i;

	(void)state;
	for (i = 0; i < NTHREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].tag = (unsigned char)(0xa0 + i);
		w[i].seed = at_seed(DEFAULT_SEED) + 31 * (uint64_t)i;
		assert_int_equal(pthread_create(&w[i].thread, NULL, kp_main,
						&w[i]), 0);
	}
	for (i = 0; i < NTHREADS; i++)
		assert_int_equal(pthread_join(w[i].thread, NULL), 0);
	for (i = 0; i < NTHREADS; i++) {
		if (w[i].err[0])
			print_error("%s\n", w[i].err);
		assert_string_equal(w[i].err, "");
	}
	assert_check(arena_kpages());
	assert_check(arena_base());
}

/* ---- MEM_WAIT on a bounded arena ------------------------------------- */

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

struct freer {
	struct arena *a;
	void *p1;
	size_t s1;
	void *p2;
	size_t s2;
	atomic_int stage;     /* 1 after the first free, 2 before the second */
	int rc1, rc2;
};

static void *freer_main(void *arg)
{
	struct freer *f = arg;

	sleep_ms(50);
	f->rc1 = arena_free(f->a, f->p1, f->s1);
	atomic_store(&f->stage, 1);
	if (f->p2) {
		sleep_ms(50);
		atomic_store(&f->stage, 2);
		f->rc2 = arena_free(f->a, f->p2, f->s2);
	}
	return NULL;
}

static void test_mt_memwait(void **state)
{
	struct arena *a;
	struct freer f;
	pthread_t t;
	void *full, *p;

	(void)state;
	a = arena_create("mt_wait", PTR(1), 100, 1, NULL, NULL, NULL, 0, 0);
	assert_non_null(a);
	full = arena_alloc(a, 100, MEM_ATOMIC);
	assert_int_equal(U(full), 1);
	memset(&f, 0, sizeof(f));
	f.a = a;
	f.p1 = full;
	f.s1 = 100;
	atomic_init(&f.stage, 0);
	at_watchdog(20);
	assert_int_equal(pthread_create(&t, NULL, freer_main, &f), 0);
	p = arena_alloc(a, 50, MEM_WAIT);
	assert_int_equal(pthread_join(t, NULL), 0);
	at_watchdog_off();
	assert_non_null(p);
	assert_int_equal(f.rc1, 0);
	assert_true(U(p) >= 1 && U(p) + 50 <= 101);
	assert_check(a);
	assert_int_equal(arena_free(a, p, 50), 0);
	assert_int_equal(arena_destroy(a), 0);
}

/* A first free that is not enough does not satisfy the waiter; the
 * second does. */
static void test_mt_memwait_partial(void **state)
{
	struct arena *a;
	struct freer f;
	pthread_t t;
	void *p10, *p90, *p;

	(void)state;
	a = arena_create("mt_wait2", PTR(1), 100, 1, NULL, NULL, NULL, 0, 0);
	assert_non_null(a);
	p10 = arena_alloc(a, 10, MEM_ATOMIC);
	p90 = arena_alloc(a, 90, MEM_ATOMIC);
	assert_non_null(p10);
	assert_non_null(p90);
	memset(&f, 0, sizeof(f));
	f.a = a;
	f.p1 = p10;
	f.s1 = 10;
	f.p2 = p90;
	f.s2 = 90;
	atomic_init(&f.stage, 0);
	at_watchdog(20);
	assert_int_equal(pthread_create(&t, NULL, freer_main, &f), 0);
	p = arena_xalloc(a, 50, 0, 0, 0, NULL, NULL, MEM_WAIT);
	/* only possible after the 90 went back */
	assert_int_equal(atomic_load(&f.stage), 2);
	assert_int_equal(pthread_join(t, NULL), 0);
	at_watchdog_off();
	assert_non_null(p);
	assert_int_equal(f.rc1, 0);
	assert_int_equal(f.rc2, 0);
	assert_check(a);
	assert_int_equal(arena_xfree(a, p, 50), 0);
	assert_int_equal(arena_destroy(a), 0);
}

/* Several waiters: one free wakes all of them (each fits). */
struct waiter {
	pthread_t thread;
	struct arena *a;
	void *p;
};

static void *waiter_main(void *arg)
{
	struct waiter *w = arg;

	w->p = arena_alloc(w->a, 30, MEM_WAIT);
	return NULL;
}

static void test_mt_memwait_many(void **state)
{
	struct waiter w[3];
	struct arena *a;
	void *full;
	int i;

	(void)state;
	a = arena_create("mt_wait3", PTR(1), 100, 1, NULL, NULL, NULL, 0, 0);
	assert_non_null(a);
	full = arena_alloc(a, 100, MEM_ATOMIC);
	assert_non_null(full);
	at_watchdog(20);
	for (i = 0; i < 3; i++) {
		w[i].a = a;
		w[i].p = NULL;
		assert_int_equal(pthread_create(&w[i].thread, NULL,
						waiter_main, &w[i]), 0);
	}
	sleep_ms(50);
	assert_int_equal(arena_free(a, full, 100), 0);
	for (i = 0; i < 3; i++)
		assert_int_equal(pthread_join(w[i].thread, NULL), 0);
	at_watchdog_off();
	for (i = 0; i < 3; i++)
		assert_non_null(w[i].p);
	assert_int_equal(stats_of(a).allocated, 90);
	assert_check(a);
	for (i = 0; i < 3; i++)
		assert_int_equal(arena_free(a, w[i].p, 30), 0);
	assert_int_equal(arena_destroy(a), 0);
}

/* Runs fn(arg) in a thread and waits at most seconds for it. */
static bool run_within(void *(*fn)(void *), void *arg, int seconds,
		       pthread_t *t)
{
	struct timespec deadline;

	assert_int_equal(pthread_create(t, NULL, fn, arg), 0);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += seconds;
	return pthread_timedjoin_np(*t, NULL, &deadline) == 0;
}

struct wait_req {
	struct arena *a;
	size_t size;
	uintptr_t minaddr, maxaddr;
	void *p;
	int err;
};

static void *wait_req_main(void *arg)
{
	struct wait_req *w = arg;

	errno = 0;
	if (w->minaddr || w->maxaddr)
		w->p = arena_xalloc(w->a, w->size, 0, 0, 0, PTR(w->minaddr),
				    PTR(w->maxaddr), MEM_WAIT);
	else
		w->p = arena_alloc(w->a, w->size, MEM_WAIT);
	w->err = errno;
	return NULL;
}

/* A waiter is also woken by arena_add() of a span where it fits. */
static void test_mt_memwait_add(void **state)
{
	struct wait_req w = { 0 };
	struct arena *a;
	pthread_t t;
	void *full;
	struct timespec deadline;

	(void)state;
	a = arena_create("mt_wadd", PTR(1), 100, 1, NULL, NULL, NULL, 0, 0);
	assert_non_null(a);
	full = arena_alloc(a, 100, MEM_ATOMIC);
	assert_non_null(full);
	w.a = a;
	w.size = 50;
	assert_int_equal(pthread_create(&t, NULL, wait_req_main, &w), 0);
	sleep_ms(50);
	assert_non_null(arena_add(a, PTR(1000), 100, 0));
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 5;
	if (pthread_timedjoin_np(t, NULL, &deadline) != 0) {
		print_error("MEM_WAIT waiter not woken by arena_add within "
			    "5 s\n");
		fail();
	}
	assert_non_null(w.p);
	assert_true(U(w.p) >= 1000 && U(w.p) + 50 <= 1100);
	assert_check(a);
	assert_int_equal(arena_free(a, w.p, 50), 0);
	assert_int_equal(arena_free(a, full, 100), 0);
	assert_int_equal(arena_destroy(a), 0);
}

/* MEM_WAIT requests that no amount of freeing can ever satisfy must fail
 * at once with ENOMEM, like one larger than the arena's total: here one
 * that is smaller than the total but larger than every span, and a
 * constrained one on an arena with nothing allocated.  A waiter that hangs
 * stays blocked until the program exits, so this case is last. */
static void test_mt_memwait_impossible_last(void **state)
{
	struct wait_req w1 = { 0 }, w2 = { 0 };
	struct arena *a1, *a2;
	pthread_t t1, t2;
	bool ok1, ok2;

	(void)state;
	a1 = arena_create("mt_wimp1", NULL, 0, 1, NULL, NULL, NULL, 0, 0);
	assert_non_null(a1);
	assert_non_null(arena_add(a1, PTR(1000), 60, 0));
	assert_non_null(arena_add(a1, PTR(2000), 60, 0));
	w1.a = a1;
	w1.size = 100;                 /* < total 120, > each span */
	ok1 = run_within(wait_req_main, &w1, 3, &t1);

	a2 = arena_create("mt_wimp2", PTR(1), 100, 1, NULL, NULL, NULL, 0, 0);
	assert_non_null(a2);
	w2.a = a2;
	w2.size = 50;
	w2.minaddr = 1;
	w2.maxaddr = 21;               /* a window of 20 */
	ok2 = run_within(wait_req_main, &w2, 3, &t2);

	if (!ok1)
		print_error("alloc(100, MEM_WAIT) on spans of 60 + 60 still "
			    "waiting after 3 s\n");
	if (!ok2)
		print_error("xalloc(50, min 1, max 21, MEM_WAIT) on an empty "
			    "arena still waiting after 3 s\n");
	assert_true(ok1);
	assert_true(ok2);
	assert_null(w1.p);
	assert_int_equal(w1.err, ENOMEM);
	assert_null(w2.p);
	assert_int_equal(w2.err, ENOMEM);
	assert_check(a1);
	assert_check(a2);
	assert_int_equal(arena_destroy(a1), 0);
	assert_int_equal(arena_destroy(a2), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mt_shared_arena),
		cmocka_unit_test(test_mt_qcache_arena),
		cmocka_unit_test(test_mt_importing_arena),
		cmocka_unit_test(test_mt_import_chain),
		cmocka_unit_test(test_mt_kpages),
		cmocka_unit_test(test_mt_memwait),
		cmocka_unit_test(test_mt_memwait_partial),
		cmocka_unit_test(test_mt_memwait_many),
		cmocka_unit_test(test_mt_memwait_add),
		/* must stay last (see the comment at the function) */
		cmocka_unit_test(test_mt_memwait_impossible_last),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
