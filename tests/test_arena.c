/*
 * test_arena.c — unit tests of the vmem arena (lib/src/arena.c) against the
 * contract of magslab/arena.h, after the Akaros kernel's arena tests.
 *
 * Most arenas here manage fake integer ranges ((void *)1000 and so on): an
 * arena only does arithmetic on them, the memory is never touched.  Only the
 * base and kpages arenas hand out real memory.
 *
 * Every refused call must return NULL / -1, set errno, report exactly one
 * message naming the arena through the error handler, and leave the arena
 * unchanged and consistent (arena_check() == 0).
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

#define ATOMIC_FIT(f) (MEM_ATOMIC | (f))

/* ---- helpers ---------------------------------------------------------- */

static struct arena *mk(const char *name, size_t quantum)
{
	struct arena *a = arena_create(name, NULL, 0, quantum, NULL, NULL,
				       NULL, 0, 0);

	assert_non_null(a);
	assert_check(a);
	return a;
}

static struct arena *mk_span(const char *name, uintptr_t base, size_t size,
			     size_t quantum)
{
	struct arena *a = arena_create(name, PTR(base), size, quantum, NULL,
				       NULL, NULL, 0, 0);

	assert_non_null(a);
	assert_check(a);
	return a;
}

static void add(struct arena *a, uintptr_t base, size_t size)
{
	at_reset_errors();
	assert_non_null(arena_add(a, PTR(base), size, 0));
	assert_no_error();
	assert_check(a);
}

static void destroy(struct arena *a)
{
	at_reset_errors();
	assert_int_equal(arena_destroy(a), 0);
	assert_no_error();
}

static void do_free(struct arena *a, void *p, size_t size)
{
	at_reset_errors();
	assert_int_equal(arena_free(a, p, size), 0);
	assert_no_error();
	assert_check(a);
}

static void do_xfree(struct arena *a, void *p, size_t size)
{
	at_reset_errors();
	assert_int_equal(arena_xfree(a, p, size), 0);
	assert_no_error();
	assert_check(a);
}

/* The parts of the stats a refused call must not change. */
static void assert_same_layout(const struct arena_stats *x,
			       const struct arena_stats *y)
{
	assert_int_equal(x->total, y->total);
	assert_int_equal(x->allocated, y->allocated);
	assert_int_equal(x->free, y->free);
	assert_int_equal(x->imported, y->imported);
	assert_int_equal(x->nr_spans, y->nr_spans);
	assert_int_equal(x->nr_segments, y->nr_segments);
	assert_int_equal(x->nr_alloc_segments, y->nr_alloc_segments);
	assert_int_equal(x->nr_free_segments, y->nr_free_segments);
	assert_int_equal(x->hash_items, y->hash_items);
	assert_int_equal(x->nr_allocs_ever, y->nr_allocs_ever);
	assert_int_equal(x->nr_frees_ever, y->nr_frees_ever);
}

/* A source whose afunc/ffunc move addresses up by 15 bits, as Akaros's
 * import test does: the importer's addresses are not the source's. */
static void *shift_alloc(struct arena *source, size_t size, int flags)
{
	void *r = arena_alloc(source, size, flags);

	return PTR(U(r) << 15);
}

static void shift_free(struct arena *source, void *addr, size_t size)
{
	assert_int_equal(arena_free(source, PTR(U(addr) >> 15), size), 0);
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

/* ---- fit policies ----------------------------------------------------- */

static void test_nextfit(void **state)
{
	struct arena *a;
	void *o1, *o2, *o3;

	(void)state;
	a = arena_create("t", PTR(1), 30, 1, NULL, NULL, NULL, 0, 0);
	assert_non_null(a);
	assert_check(a);
	o1 = arena_alloc(a, 1, ATOMIC_FIT(ARENA_NEXTFIT));
	assert_non_null(o1);
	assert_int_equal(U(o1), 1);
	o2 = arena_alloc(a, 1, ATOMIC_FIT(ARENA_NEXTFIT));
	assert_int_equal(U(o2), U(o1) + 1);
	assert_check(a);
	do_free(a, o1, 1);
	o3 = arena_alloc(a, 1, ATOMIC_FIT(ARENA_NEXTFIT));
	/* The rotor moved past o2: o1's place is not reused yet. */
	assert_int_equal(U(o3), U(o2) + 1);
	assert_check(a);
	do_free(a, o2, 1);
	do_free(a, o3, 1);
	destroy(a);
}

static void test_nextfit_wraps(void **state)
{
	struct arena *a = mk_span("nfwrap", 1, 10, 1);
	void *p[10];
	int i;

	(void)state;
	for (i = 0; i < 10; i++) {
		p[i] = arena_alloc(a, 1, ATOMIC_FIT(ARENA_NEXTFIT));
		assert_int_equal(U(p[i]), 1 + i);
	}
	assert_check(a);
	do_free(a, p[2], 1);
	do_free(a, p[6], 1);
	/* Rotor is at the end: wraps around to the first free one. */
	p[2] = arena_alloc(a, 1, ATOMIC_FIT(ARENA_NEXTFIT));
	assert_int_equal(U(p[2]), 3);
	p[6] = arena_alloc(a, 1, ATOMIC_FIT(ARENA_NEXTFIT));
	assert_int_equal(U(p[6]), 7);
	at_reset_errors();
	assert_null(arena_alloc(a, 1, ATOMIC_FIT(ARENA_NEXTFIT)));
	assert_int_equal(errno, ENOMEM);
	assert_check(a);
	for (i = 0; i < 10; i++)
		do_free(a, p[i], 1);
	destroy(a);
}

static void test_bestfit(void **state)
{
	struct arena *a = mk("bestfit", 1);
	void *r;

	(void)state;
	add(a, 1000, 64);
	add(a, 3000, 127);
	add(a, 2000, 67);
	add(a, 4000, 127);
	add(a, 5000, 128);
	r = arena_alloc(a, 65, ATOMIC_FIT(ARENA_BESTFIT));
	assert_int_equal(U(r), 2000);
	assert_check(a);
	do_free(a, r, 65);
	destroy(a);
}

static void test_instantfit(void **state)
{
	struct arena *a = mk("instfit", 1);
	void *r;

	(void)state;
	add(a, 1000, 64);
	add(a, 2000, 67);
	add(a, 3000, 64);
	add(a, 4000, 128);
	r = arena_alloc(a, 65, ATOMIC_FIT(ARENA_INSTANTFIT));
	assert_int_equal(U(r), 4000);
	assert_check(a);
	do_free(a, r, 65);
	destroy(a);
}

/* Instant fit finds nothing in the lists at or above 16, and falls back to
 * a best-fit search of 15's own list (Akaros did not). */
static void test_instantfit_fallback(void **state)
{
	struct arena *a = mk("instfb", 1);
	void *r;

	(void)state;
	add(a, 1, 15);
	r = arena_alloc(a, 15, ATOMIC_FIT(ARENA_INSTANTFIT));
	assert_int_equal(U(r), 1);
	assert_check(a);
	do_free(a, r, 15);
	r = arena_xalloc(a, 15, 1, 0, 0, NULL, NULL,
			 ATOMIC_FIT(ARENA_INSTANTFIT));
	assert_int_equal(U(r), 1);
	assert_check(a);
	do_xfree(a, r, 15);
	destroy(a);
}

/* With neither MEM_ATOMIC nor MEM_WAIT and no fit flag: atomic, the
 * arena's default policy. */
static void test_default_flags(void **state)
{
	struct arena *a = mk_span("defl", 64, 64, 8);
	void *r;

	(void)state;
	r = arena_alloc(a, 64, 0);
	assert_int_equal(U(r), 64);
	at_watchdog(10);
	at_reset_errors();
	assert_null(arena_alloc(a, 8, 0));
	assert_int_equal(errno, ENOMEM);
	at_watchdog_off();
	assert_check(a);
	do_free(a, r, 64);
	destroy(a);
}

/* ---- quantum ---------------------------------------------------------- */

static void test_quantum_alignment(void **state)
{
	struct arena *a = mk("qalign", 32);
	struct arena_stats st;
	void *r;

	(void)state;
	at_reset_errors();
	assert_non_null(arena_add(a, PTR(4097), 64, 0));
	assert_no_error();
	assert_check(a);
	st = at_stats(a);
	/* [4097, 4161) trimmed inward to [4128, 4160). */
	assert_int_equal(st.total, 32);
	assert_int_equal(st.free, 32);
	assert_int_equal(st.quantum, 32);
	r = arena_alloc(a, 1, 0);
	assert_int_equal(U(r), 4128);
	assert_check(a);
	at_reset_errors();
	assert_null(arena_alloc(a, 1, MEM_ATOMIC));
	assert_int_equal(errno, ENOMEM);
	assert_check(a);
	st = at_stats(a);
	assert_int_equal(st.total, 32);
	assert_int_equal(st.allocated, 32);
	assert_int_equal(st.free, 0);
	do_free(a, r, 1);
	destroy(a);
}

static void test_odd_quantum(void **state)
{
	struct arena *a = mk("odd7", 7);
	void *o1, *o2;

	(void)state;
	add(a, 7, 49);
	o1 = arena_alloc(a, 7, 0);
	assert_int_equal(U(o1), 7);
	o2 = arena_alloc(a, 7, 0);
	assert_int_equal(U(o2), 14);
	assert_check(a);
	do_free(a, o1, 7);
	do_free(a, o2, 7);
	o1 = arena_xalloc(a, 7, 4, 0, 0, NULL, NULL, 0);
	assert_non_null(o1);
	o2 = arena_alloc(a, 7, 0);
	assert_non_null(o2);
	assert_int_equal(U(o2) % 7, 0);
	assert_int_equal(U(o1) % 4, 0);
	assert_int_equal(U(o1) % 7, 0);
	assert_true(U(o1) != U(o2));
	assert_check(a);
	do_xfree(a, o1, 7);
	do_free(a, o2, 7);
	destroy(a);
}

/* Sizes round up to the quantum; the stats count rounded bytes. */
static void test_size_rounding(void **state)
{
	struct arena *a = mk_span("round", 8 * 1024, 8 * 1024, 8);
	struct arena_stats st;
	void *p, *q;

	(void)state;
	p = arena_alloc(a, 20, 0);
	q = arena_alloc(a, 1, 0);
	assert_non_null(p);
	assert_non_null(q);
	assert_int_equal(U(p) % 8, 0);
	assert_int_equal(U(q) % 8, 0);
	/* p covers 24 bytes: q does not overlap it. */
	assert_true(U(q) >= U(p) + 24 || U(q) + 8 <= U(p));
	st = at_stats(a);
	assert_int_equal(st.allocated, 32);
	assert_check(a);
	/* Any size rounding to the same number of quanta is accepted. */
	do_free(a, p, 17);
	do_free(a, q, 8);
	destroy(a);
}

/* ---- xalloc ----------------------------------------------------------- */

static void test_nocross_fallback(void **state)
{
	struct arena *a = mk("nocrossfb", 3);
	void *r;

	(void)state;
	add(a, 3, 20);
	r = arena_xalloc(a, 3, 1, 0, 4, NULL, NULL, 0);
	assert_int_equal(U(r), 9);
	assert_check(a);
	do_xfree(a, r, 3);
	destroy(a);
}

static void test_xalloc_from_freelist(void **state)
{
	struct arena *a = mk("xfl", 1);
	void *r;

	(void)state;
	add(a, 15, 15);
	r = arena_xalloc(a, 15, 8, 7, 0, NULL, NULL,
			 ATOMIC_FIT(ARENA_BESTFIT));
	assert_int_equal(U(r), 15);
	assert_check(a);
	do_xfree(a, r, 15);
	destroy(a);
}

static void test_xalloc_align_phase(void **state)
{
	struct arena *a = mk("xalign", 3);
	void *r;

	(void)state;
	add(a, 3, 4096);
	r = arena_xalloc(a, 3, 16, 6, 0, NULL, NULL, 0);
	assert_non_null(r);
	assert_int_equal((U(r) - 6) % 16, 0);
	assert_int_equal(U(r) % 3, 0);
	assert_check(a);
	do_xfree(a, r, 3);
	/* A bigger one, every fit policy. */
	r = arena_xalloc(a, 30, 64, 48, 0, NULL, NULL,
			 ATOMIC_FIT(ARENA_BESTFIT));
	assert_non_null(r);
	assert_int_equal(U(r) % 64, 48);
	assert_int_equal(U(r) % 3, 0);
	do_xfree(a, r, 30);
	r = arena_xalloc(a, 30, 64, 48, 0, NULL, NULL,
			 ATOMIC_FIT(ARENA_NEXTFIT));
	assert_non_null(r);
	assert_int_equal(U(r) % 64, 48);
	assert_int_equal(U(r) % 3, 0);
	do_xfree(a, r, 30);
	destroy(a);
}

static void test_xalloc_nocross(void **state)
{
	struct arena *a = mk("xnocross", 3);
	void *r[8];
	int i;

	(void)state;
	add(a, 3, 4096);
	for (i = 0; i < 8; i++) {
		r[i] = arena_xalloc(a, 15, 0, 0, 16, NULL, NULL, 0);
		assert_non_null(r[i]);
		assert_int_equal(U(r[i]) % 3, 0);
		assert_int_equal(U(r[i]) / 16, (U(r[i]) + 15 - 1) / 16);
	}
	assert_check(a);
	for (i = 0; i < 8; i++)
		do_xfree(a, r[i], 15);
	destroy(a);
}

static void test_xalloc_minmax_q3(void **state)
{
	struct arena *a = mk("xminmax", 3);
	void *r1, *r2;

	(void)state;
	add(a, 3, 4096);
	r1 = arena_xalloc(a, 30, 0, 0, 0, PTR(81), PTR(252), 0);
	r2 = arena_xalloc(a, 30, 0, 0, 0, PTR(81), PTR(252), 0);
	assert_non_null(r1);
	assert_non_null(r2);
	assert_true(U(r1) != U(r2));
	assert_true(U(r1) >= 81 && U(r1) + 30 <= 252);
	assert_true(U(r2) >= 81 && U(r2) + 30 <= 252);
	assert_int_equal(U(r1) % 3, 0);
	assert_int_equal(U(r2) % 3, 0);
	/* no overlap */
	assert_true(U(r1) + 30 <= U(r2) || U(r2) + 30 <= U(r1));
	assert_check(a);
	do_xfree(a, r1, 30);
	do_xfree(a, r2, 30);
	destroy(a);
}

static void test_xalloc_minmax_exact(void **state)
{
	struct arena *a = mk("minmax", 1);
	void *r1, *r2;

	(void)state;
	add(a, 1, 100);
	r1 = arena_xalloc(a, 20, 0, 0, 0, PTR(10), PTR(30), 0);
	assert_int_equal(U(r1), 10);
	r2 = arena_xalloc(a, 20, 0, 0, 0, PTR(30), PTR(50), 0);
	assert_int_equal(U(r2), 30);
	assert_check(a);
	/* [10, 50) is taken: nothing of 20 fits inside [20, 60). */
	at_reset_errors();
	assert_null(arena_xalloc(a, 20, 0, 0, 0, PTR(20), PTR(60), 0));
	assert_int_equal(errno, ENOMEM);
	assert_check(a);
	do_xfree(a, r1, 20);
	do_xfree(a, r2, 20);
	destroy(a);
}

/* Alignment, phase, nocross and bounds together. */
static void test_xalloc_all_constraints(void **state)
{
	struct arena *a = mk_span("xall", 8 * 1024, 64 * 1024, 8);
	void *r[16];
	int i;

	(void)state;
	for (i = 0; i < 16; i++) {
		r[i] = arena_xalloc(a, 40, 64, 16, 64, PTR(20 * 1024),
				    PTR(40 * 1024), 0);
		assert_non_null(r[i]);
		assert_int_equal(U(r[i]) % 64, 16);
		assert_int_equal(U(r[i]) / 64, (U(r[i]) + 39) / 64);
		assert_true(U(r[i]) >= 20 * 1024);
		assert_true(U(r[i]) + 40 <= 40 * 1024);
	}
	assert_check(a);
	for (i = 0; i < 16; i++)
		do_xfree(a, r[i], 40);
	destroy(a);
}

/* ---- accounting and stats --------------------------------------------- */

static void test_accounting(void **state)
{
	struct arena *a = mk("acct", 1);
	struct arena_stats st;
	void *r1, *r2;

	(void)state;
	add(a, 1, 100);
	st = at_stats(a);
	assert_int_equal(st.free, 100);
	assert_int_equal(st.total, 100);
	assert_int_equal(st.allocated, 0);
	assert_accounting(a);
	r1 = arena_xalloc(a, 15, 0, 0, 0, NULL, NULL, 0);
	assert_non_null(r1);
	assert_accounting(a);
	r2 = arena_xalloc(a, 15, 0, 0, 0, NULL, NULL, 0);
	assert_non_null(r2);
	assert_accounting(a);
	st = at_stats(a);
	assert_int_equal(st.free, 70);
	assert_int_equal(st.allocated, 30);
	assert_int_equal(st.total, 100);
	assert_check(a);
	do_xfree(a, r1, 15);
	assert_accounting(a);
	do_xfree(a, r2, 15);
	assert_accounting(a);
	st = at_stats(a);
	assert_int_equal(st.free, 100);
	assert_int_equal(st.allocated, 0);
	destroy(a);
}

static void test_stats_fields(void **state)
{
	struct arena *a = mk_span("stats", 800, 800, 8);
	struct arena_stats st;
	void *p1, *p2, *p3;

	(void)state;
	st = at_stats(a);
	assert_int_equal(st.quantum, 8);
	assert_int_equal(st.total, 800);
	assert_int_equal(st.nr_spans, 1);
	assert_int_equal(st.nr_segments, 1);
	assert_int_equal(st.nr_free_segments, 1);
	assert_int_equal(st.nr_alloc_segments, 0);
	assert_int_equal(st.imported, 0);
	assert_int_equal(st.nr_importers, 0);
	assert_int_equal(st.nr_allocs_ever, 0);
	assert_int_equal(st.nr_frees_ever, 0);
	assert_int_equal(st.nr_imports, 0);
	assert_int_equal(st.nr_releases, 0);
	assert_int_equal(st.nr_failures, 0);
	assert_int_equal(st.hash_items, 0);
	assert_true(st.hash_lists >= 64);
	assert_true(at_is_pow2(st.hash_lists));
	assert_true(st.nr_tags >= st.nr_segments + st.nr_spans);

	p1 = arena_alloc(a, 8, 0);
	p2 = arena_alloc(a, 16, 0);
	p3 = arena_xalloc(a, 8, 64, 0, 0, NULL, NULL, 0);
	assert_non_null(p1);
	assert_non_null(p2);
	assert_non_null(p3);
	do_free(a, p2, 16);
	st = at_stats(a);
	assert_int_equal(st.nr_allocs_ever, 3);
	assert_int_equal(st.nr_frees_ever, 1);
	assert_int_equal(st.nr_alloc_segments, 2);
	assert_int_equal(st.hash_items, 2);
	assert_int_equal(st.allocated, 16);
	assert_int_equal(st.nr_segments,
			 st.nr_alloc_segments + st.nr_free_segments);
	assert_int_equal(st.nr_spans, 1);
	assert_true(st.nr_tags >= st.nr_segments + st.nr_spans);

	at_reset_errors();
	assert_null(arena_alloc(a, 8000, MEM_ATOMIC));
	assert_int_equal(errno, ENOMEM);
	st = at_stats(a);
	assert_int_equal(st.nr_failures, 1);
	assert_int_equal(st.nr_allocs_ever, 3);

	do_free(a, p1, 8);
	do_xfree(a, p3, 8);
	st = at_stats(a);
	assert_int_equal(st.nr_frees_ever, 3);
	assert_int_equal(st.nr_segments, 1);
	assert_int_equal(st.nr_free_segments, 1);
	assert_int_equal(st.free, 800);
	destroy(a);
}

/* Adjacent frees coalesce within a span. */
static void test_coalesce_neighbours(void **state)
{
	struct arena *a = mk_span("coal", 1, 30, 1);
	struct arena_stats st;
	void *x, *y, *z;

	(void)state;
	x = arena_alloc(a, 10, 0);
	y = arena_alloc(a, 10, 0);
	z = arena_alloc(a, 10, 0);
	assert_non_null(x);
	assert_non_null(y);
	assert_non_null(z);
	st = at_stats(a);
	assert_int_equal(st.nr_free_segments, 0);
	assert_int_equal(st.nr_alloc_segments, 3);
	do_free(a, y, 10);
	assert_int_equal(at_stats(a).nr_free_segments, 1);
	do_free(a, x, 10);
	assert_int_equal(at_stats(a).nr_free_segments, 1);
	do_free(a, z, 10);
	st = at_stats(a);
	assert_int_equal(st.nr_free_segments, 1);
	assert_int_equal(st.nr_segments, 1);
	x = arena_alloc(a, 30, 0);
	assert_int_equal(U(x), 1);
	do_free(a, x, 30);
	destroy(a);
}

/* Fill every span with 1-quantum pieces, free them in random order: each
 * span ends as exactly one free segment (no coalescing across spans). */
static void test_coalesce_random_order(void **state)
{
	struct arena *a = mk("coalrand", 4);
	struct arena_stats st;
	struct at_rng rng;
	static void *p[512];    /* static: nothing leaks if an assert fails */
	size_t n = 0, cap, i;

	(void)state;
	add(a, 4096, 400);
	add(a, 8192, 256);
	add(a, 8192 + 256, 128);       /* adjacent to the previous span */
	add(a, 20000, 1000);
	st = at_stats(a);
	assert_int_equal(st.nr_spans, 4);
	assert_int_equal(st.nr_free_segments, 4);
	cap = st.total / 4;
	assert_true(cap < 512);
	for (;;) {
		void *r = arena_alloc(a, 4, MEM_ATOMIC);

		if (!r)
			break;
		assert_true(n < cap);
		p[n++] = r;
	}
	assert_int_equal(errno, ENOMEM);
	assert_int_equal(n, cap);
	st = at_stats(a);
	assert_int_equal(st.free, 0);
	assert_int_equal(st.nr_free_segments, 0);
	assert_int_equal(st.nr_alloc_segments, cap);
	assert_check(a);
	at_rng_init(&rng, at_seed(42));
	for (i = n; i > 1; i--) {
		size_t j = at_below(&rng, i);
		void *t = p[i - 1];

		p[i - 1] = p[j];
		p[j] = t;
	}
	for (i = 0; i < n; i++) {
		at_reset_errors();
		assert_int_equal(arena_free(a, p[i], 4), 0);
		if (i % 64 == 0)
			assert_check(a);
	}
	assert_check(a);
	st = at_stats(a);
	assert_int_equal(st.nr_alloc_segments, 0);
	assert_int_equal(st.nr_free_segments, st.nr_spans);
	assert_int_equal(st.nr_free_segments, 4);
	assert_int_equal(st.free, st.total);
	destroy(a);
}

static void test_hash_growth(void **state)
{
	enum { N = 10000 };
	struct arena *a = mk_span("hashgrow", 1, 1 << 20, 1);
	struct arena_stats st;
	static void *p[N];
	int i;

	(void)state;
	for (i = 0; i < N; i++) {
		p[i] = arena_alloc(a, 1, 0);
		assert_non_null(p[i]);
	}
	assert_check(a);
	st = at_stats(a);
	assert_int_equal(st.hash_items, N);
	assert_int_equal(st.nr_alloc_segments, N);
	assert_true(st.hash_lists > 64);
	assert_true(at_is_pow2(st.hash_lists));
	if (!((uint64_t)st.hash_items * 20 <= (uint64_t)st.hash_lists * 13))
		print_error("hash_items %zu hash_lists %zu: load above 13/20\n",
			    st.hash_items, st.hash_lists);
	assert_true((uint64_t)st.hash_items * 20 <=
		    (uint64_t)st.hash_lists * 13);
	assert_true(st.hash_resizes > 0);
	for (i = 0; i < N; i++) {
		assert_int_equal(arena_free(a, p[i], 1), 0);
	}
	assert_check(a);
	st = at_stats(a);
	assert_int_equal(st.hash_items, 0);
	assert_int_equal(st.nr_alloc_segments, 0);
	assert_int_equal(st.nr_free_segments, 1);
	destroy(a);
}

/* ---- arena_add -------------------------------------------------------- */

static void test_add_overlap(void **state)
{
	struct arena *a = mk("addovl", 1);
	struct arena_stats before, after;

	(void)state;
	add(a, 1000, 100);
	before = at_stats(a);

	at_reset_errors();
	assert_null(arena_add(a, PTR(1050), 100, 0));
	assert_one_error(EINVAL, "addovl");
	assert_check(a);

	at_reset_errors();
	assert_null(arena_add(a, PTR(900), 101, 0));
	assert_one_error(EINVAL, "addovl");
	assert_check(a);

	at_reset_errors();
	assert_null(arena_add(a, PTR(1000), 100, 0));
	assert_one_error(EINVAL, "addovl");
	assert_check(a);

	at_reset_errors();
	assert_null(arena_add(a, PTR(1010), 10, 0));     /* inside */
	assert_one_error(EINVAL, "addovl");
	assert_check(a);

	at_reset_errors();
	assert_null(arena_add(a, PTR(500), 1000, 0));    /* around */
	assert_one_error(EINVAL, "addovl");
	assert_check(a);

	after = at_stats(a);
	assert_same_layout(&before, &after);

	/* Adjacent on both sides is fine. */
	add(a, 1100, 50);
	add(a, 950, 50);
	assert_int_equal(at_stats(a).nr_spans, 3);
	assert_int_equal(at_stats(a).total, 200);
	destroy(a);
}

static void test_add_with_source(void **state)
{
	struct arena *s = mk_span("addsrc_s", 4096, 4 * 4096, 4096);
	struct arena *a = arena_create("addsrc_i", NULL, 0, 4096, NULL, NULL,
				       s, 0, 0);

	(void)state;
	assert_non_null(a);
	at_reset_errors();
	assert_null(arena_add(a, PTR(1 << 20), 4096, 0));
	assert_one_error(EINVAL, "addsrc_i");
	assert_check(a);
	assert_int_equal(at_stats(a).total, 0);
	destroy(a);
	destroy(s);
}

static void test_add_bad_span(void **state)
{
	struct arena *a = mk("addbad", 32);

	(void)state;
	/* [4097, 4137) has no whole quantum once trimmed. */
	at_reset_errors();
	assert_null(arena_add(a, PTR(4097), 40, 0));
	assert_one_error(EINVAL, "addbad");
	assert_check(a);
	/* address 0 */
	at_reset_errors();
	assert_null(arena_add(a, NULL, 4096, 0));
	assert_one_error(EINVAL, "addbad");
	assert_check(a);
	/* size 0 */
	at_reset_errors();
	assert_null(arena_add(a, PTR(4096), 0, 0));
	assert_one_error(EINVAL, "addbad");
	assert_check(a);
	assert_int_equal(at_stats(a).total, 0);
	assert_int_equal(at_stats(a).nr_spans, 0);
	destroy(a);
}

/* Creating with base NULL and a size, or a span with a source: refused. */
static void test_create_span_with_source(void **state)
{
	struct arena *s = mk_span("cs_src", 4096, 4 * 4096, 4096);
	struct arena *a;

	(void)state;
	at_reset_errors();
	a = arena_create("cs_imp", PTR(1 << 20), 4096, 4096, NULL, NULL, s,
			 0, 0);
	assert_null(a);
	assert_one_error(EINVAL, "cs_imp");
	assert_int_equal(at_stats(s).nr_importers, 0);
	assert_check(s);
	destroy(s);
}

/* ---- importing -------------------------------------------------------- */

static void test_import_source(void **state)
{
	struct arena *s = mk_span("imp_src", 4096, 4 * 4096, 4096);
	struct arena *a;
	struct arena_stats st, ss;
	void *p[4];
	size_t sz[4] = { 1, 100, 4000, 4096 };
	int i;

	(void)state;
	a = arena_create("imp", NULL, 0, 1, shift_alloc, shift_free, s, 0, 0);
	assert_non_null(a);
	assert_ptr_equal(arena_source(a), s);
	assert_int_equal(at_stats(s).nr_importers, 1);
	for (i = 0; i < 4; i++) {
		p[i] = arena_alloc(a, sz[i], MEM_ATOMIC);
		assert_non_null(p[i]);
		assert_true(U(p[i]) >= (1u << 15));
		assert_check(a);
		assert_check(s);
	}
	st = at_stats(a);
	ss = at_stats(s);
	assert_true(st.nr_imports >= 1);
	assert_int_equal(st.nr_spans, st.nr_imports - st.nr_releases);
	assert_int_equal(st.imported, st.total);
	assert_true(ss.allocated >= st.total);
	assert_int_equal(st.allocated, 1 + 100 + 4000 + 4096);
	for (i = 0; i < 4; i++)
		do_free(a, p[i], sz[i]);
	assert_check(s);
	st = at_stats(a);
	ss = at_stats(s);
	assert_int_equal(st.total, 0);
	assert_int_equal(st.nr_spans, 0);
	assert_int_equal(st.imported, 0);
	assert_int_equal(st.nr_imports, st.nr_releases);
	assert_true(st.nr_imports >= 1);
	assert_int_equal(ss.allocated, 0);
	assert_int_equal(ss.free, 4 * 4096);
	destroy(a);
	assert_int_equal(at_stats(s).nr_importers, 0);
	destroy(s);
}

static void test_import_alignment(void **state)
{
	struct arena *s = mk_span("ialign_s", 1, 1000, 1);
	struct arena *a;
	void *r;

	(void)state;
	a = arena_create("ialign", NULL, 0, 16, NULL, NULL, s, 0, 0);
	assert_non_null(a);
	r = arena_alloc(a, 16, 0);
	assert_non_null(r);
	assert_int_equal(U(r) % 16, 0);
	assert_true(U(r) >= 1 && U(r) + 16 <= 1001);
	assert_check(a);
	assert_check(s);
	do_free(a, r, 16);
	assert_check(s);
	assert_int_equal(at_stats(s).allocated, 0);
	destroy(a);
	destroy(s);
}

static void test_import_xalloc(void **state)
{
	struct arena *s = mk_span("ix_src", 1, 10000, 1);
	struct arena *a;
	void *r, *q;

	(void)state;
	a = arena_create("ix", NULL, 0, 1, NULL, NULL, s, 0, 0);
	assert_non_null(a);
	r = arena_xalloc(a, 100, 256, 0, 0, NULL, NULL, 0);
	assert_non_null(r);
	assert_int_equal(U(r) % 256, 0);
	q = arena_xalloc(a, 100, 128, 32, 256, NULL, NULL, 0);
	assert_non_null(q);
	assert_int_equal(U(q) % 128, 32);
	assert_int_equal(U(q) / 256, (U(q) + 99) / 256);
	assert_check(a);
	assert_check(s);
	do_xfree(a, r, 100);
	do_xfree(a, q, 100);
	assert_int_equal(at_stats(a).total, 0);
	assert_int_equal(at_stats(s).allocated, 0);
	destroy(a);
	destroy(s);
}

static void test_span_release(void **state)
{
	struct arena *s = mk_span("rel_src", 4096, 16 * 4096, 4096);
	struct arena *a;
	struct arena_stats st;
	size_t src_alloc;
	void *o1, *o2;

	(void)state;
	a = arena_create("rel", NULL, 0, 8, NULL, NULL, s, 0, 0);
	assert_non_null(a);
	o1 = arena_alloc(a, 64, 0);
	o2 = arena_alloc(a, 64, 0);
	assert_non_null(o1);
	assert_non_null(o2);
	st = at_stats(a);
	assert_int_equal(st.nr_spans, 1);
	assert_int_equal(st.nr_imports, 1);
	src_alloc = at_stats(s).allocated;
	assert_true(src_alloc > 0);
	assert_int_equal(src_alloc, st.imported);
	do_free(a, o1, 64);
	st = at_stats(a);
	assert_int_equal(st.nr_spans, 1);
	assert_int_equal(st.nr_releases, 0);
	assert_int_equal(at_stats(s).allocated, src_alloc);
	do_free(a, o2, 64);
	st = at_stats(a);
	assert_int_equal(st.nr_spans, 0);
	assert_int_equal(st.nr_releases, 1);
	assert_int_equal(st.total, 0);
	assert_int_equal(at_stats(s).allocated, 0);
	assert_check(s);
	destroy(a);
	destroy(s);
}

/* The source runs dry: the importer fails cleanly (ENOMEM), unchanged. */
static void test_import_source_exhausted(void **state)
{
	struct arena *s = mk_span("dry_src", 4096, 2 * 4096, 4096);
	struct arena *a;
	struct arena_stats before, after;
	void *p;

	(void)state;
	a = arena_create("dry", NULL, 0, 8, NULL, NULL, s, 0, 0);
	assert_non_null(a);
	p = arena_alloc(a, 4096, 0);
	assert_non_null(p);
	before = at_stats(a);
	at_reset_errors();
	assert_null(arena_alloc(a, 3 * 4096, MEM_ATOMIC));
	assert_int_equal(errno, ENOMEM);
	after = at_stats(a);
	assert_same_layout(&before, &after);
	assert_int_equal(after.nr_failures, before.nr_failures + 1);
	assert_check(a);
	assert_check(s);
	do_free(a, p, 4096);
	assert_int_equal(at_stats(s).allocated, 0);
	destroy(a);
	destroy(s);
}

/* ---- base and kpages -------------------------------------------------- */

static void test_base_kpages(void **state)
{
	struct arena *b = arena_base(), *k = arena_kpages();
	size_t ps = (size_t)sysconf(_SC_PAGESIZE);
	unsigned char *p, *q;
	size_t i;

	(void)state;
	assert_non_null(b);
	assert_non_null(k);
	assert_ptr_equal(arena_base(), b);
	assert_ptr_equal(arena_kpages(), k);
	assert_int_equal(arena_quantum(k), ps);
	assert_ptr_equal(arena_source(k), b);
	assert_null(arena_source(b));
	assert_check(b);
	assert_check(k);

	p = arena_alloc(k, ps, MEM_WAIT);
	assert_non_null(p);
	assert_int_equal(U(p) % ps, 0);
	memset(p, 0x5a, ps);
	q = arena_alloc(k, 100 * ps, MEM_WAIT);
	assert_non_null(q);
	assert_int_equal(U(q) % ps, 0);
	assert_true(U(q) + 100 * ps <= U(p) || U(p) + ps <= U(q));
	for (i = 0; i < 100 * ps; i++)
		q[i] = (unsigned char)i;
	for (i = 0; i < ps; i++)
		assert_int_equal(p[i], 0x5a);
	for (i = 0; i < 100 * ps; i += 97)
		assert_int_equal(q[i], (unsigned char)i);
	assert_check(k);
	assert_check(b);
	do_free(k, p, ps);
	do_free(k, q, 100 * ps);
	assert_check(b);
}

static void test_base_big_alloc(void **state)
{
	struct arena *b = arena_base();
	size_t big = (size_t)80 << 20;     /* more than 64 MiB */
	unsigned char *p;

	(void)state;
	p = arena_alloc(b, big, MEM_WAIT);
	assert_non_null(p);
	memset(p, 0xc3, big);
	assert_int_equal(p[0], 0xc3);
	assert_int_equal(p[big / 2], 0xc3);
	assert_int_equal(p[big - 1], 0xc3);
	assert_check(b);
	do_free(b, p, big);
	assert_check(b);
}

static void test_base_destroy_refused(void **state)
{
	struct arena *b = arena_base(), *k = arena_kpages();
	void *p;

	(void)state;
	at_reset_errors();
	assert_int_equal(arena_destroy(b), -1);
	assert_int_equal(at_errors(), 1);
	assert_true(errno == EBUSY || errno == EINVAL);
	at_reset_errors();
	assert_int_equal(arena_destroy(k), -1);
	assert_int_equal(at_errors(), 1);
	assert_true(errno == EBUSY || errno == EINVAL);
	/* Both still work. */
	p = arena_alloc(k, arena_quantum(k), MEM_WAIT);
	assert_non_null(p);
	do_free(k, p, arena_quantum(k));
	assert_check(b);
	assert_check(k);
}

/* ---- MEM_WAIT that can never be satisfied ----------------------------- */

static void test_memwait_too_big(void **state)
{
	struct arena *a = mk_span("waitbig", 1, 100, 1);
	struct arena_stats before, after;
	void *p;

	(void)state;
	before = at_stats(a);
	at_watchdog(10);
	at_reset_errors();
	assert_null(arena_alloc(a, 200, MEM_WAIT));
	assert_int_equal(errno, ENOMEM);
	at_reset_errors();
	assert_null(arena_xalloc(a, 101, 0, 0, 0, NULL, NULL, MEM_WAIT));
	assert_int_equal(errno, ENOMEM);
	at_watchdog_off();
	after = at_stats(a);
	assert_same_layout(&before, &after);
	assert_check(a);
	/* Exactly the total does fit. */
	p = arena_alloc(a, 100, MEM_WAIT);
	assert_int_equal(U(p), 1);
	do_free(a, p, 100);
	destroy(a);
}

/* ---- bad input -------------------------------------------------------- */

/* Runs a refused allocation on a and checks the full contract. */
#define expect_refused_alloc(a, name, err, call) do {                          \
	struct arena_stats b_ = at_stats(a), a_;                               \
	at_reset_errors();                                                     \
	assert_null(call);                                                     \
	assert_one_error(err, name);                                           \
	assert_check(a);                                                       \
	a_ = at_stats(a);                                                      \
	assert_same_layout(&b_, &a_);                                          \
} while (0)

#define expect_refused_int(a, name, err, call) do {                            \
	struct arena_stats b_ = at_stats(a), a_;                               \
	at_reset_errors();                                                     \
	assert_int_equal(call, -1);                                            \
	assert_one_error(err, name);                                           \
	assert_check(a);                                                       \
	a_ = at_stats(a);                                                      \
	assert_same_layout(&b_, &a_);                                          \
} while (0)

static void test_bad_alloc_size0(void **state)
{
	struct arena *a = mk_span("bad_sz0", 1, 100, 1);

	(void)state;
	expect_refused_alloc(a, "bad_sz0", EINVAL, arena_alloc(a, 0, 0));
	expect_refused_alloc(a, "bad_sz0", EINVAL,
			     arena_alloc(a, 0, MEM_WAIT));
	destroy(a);
}

static void test_bad_xalloc_size0(void **state)
{
	struct arena *a = mk_span("bad_xsz0", 1, 100, 1);

	(void)state;
	expect_refused_alloc(a, "bad_xsz0", EINVAL,
			     arena_xalloc(a, 0, 0, 0, 0, NULL, NULL, 0));
	expect_refused_alloc(a, "bad_xsz0", EINVAL,
			     arena_xalloc(a, 0, 16, 0, 0, NULL, NULL, 0));
	destroy(a);
}

static void test_bad_align(void **state)
{
	struct arena *a = mk_span("bad_align", 1024, 4096, 8);

	(void)state;
	expect_refused_alloc(a, "bad_align", EINVAL,
			     arena_xalloc(a, 8, 24, 0, 0, NULL, NULL, 0));
	expect_refused_alloc(a, "bad_align", EINVAL,
			     arena_xalloc(a, 8, 3, 0, 0, NULL, NULL, 0));
	destroy(a);
}

static void test_bad_phase(void **state)
{
	struct arena *a = mk_span("bad_phase", 1024, 4096, 8);

	(void)state;
	expect_refused_alloc(a, "bad_phase", EINVAL,
			     arena_xalloc(a, 8, 16, 16, 0, NULL, NULL, 0));
	expect_refused_alloc(a, "bad_phase", EINVAL,
			     arena_xalloc(a, 8, 16, 24, 0, NULL, NULL, 0));
	expect_refused_alloc(a, "bad_phase", EINVAL,
			     arena_xalloc(a, 8, 64, 1000, 0, NULL, NULL, 0));
	destroy(a);
}

static void test_bad_nocross_small(void **state)
{
	struct arena *a = mk_span("bad_ncs", 1024, 4096, 8);

	(void)state;
	expect_refused_alloc(a, "bad_ncs", EINVAL,
			     arena_xalloc(a, 32, 0, 0, 16, NULL, NULL, 0));
	/* size + phase = 24 > 16 */
	expect_refused_alloc(a, "bad_ncs", EINVAL,
			     arena_xalloc(a, 16, 16, 8, 16, NULL, NULL, 0));
	destroy(a);
}

static void test_bad_nocross_pow2(void **state)
{
	struct arena *a = mk_span("bad_ncp", 1024, 4096, 8);

	(void)state;
	expect_refused_alloc(a, "bad_ncp", EINVAL,
			     arena_xalloc(a, 8, 0, 0, 24, NULL, NULL, 0));
	expect_refused_alloc(a, "bad_ncp", EINVAL,
			     arena_xalloc(a, 8, 0, 0, 100, NULL, NULL, 0));
	destroy(a);
}

static void test_bad_minmax_with_source(void **state)
{
	struct arena *s = mk_span("mm_src", 4096, 8 * 4096, 4096);
	struct arena *a = arena_create("mm_imp", NULL, 0, 8, NULL, NULL, s,
				       0, 0);

	(void)state;
	assert_non_null(a);
	expect_refused_alloc(a, "mm_imp", EINVAL,
			     arena_xalloc(a, 8, 0, 0, 0, PTR(4096), NULL, 0));
	expect_refused_alloc(a, "mm_imp", EINVAL,
			     arena_xalloc(a, 8, 0, 0, 0, NULL, PTR(1 << 20),
					  0));
	expect_refused_alloc(a, "mm_imp", EINVAL,
			     arena_xalloc(a, 8, 0, 0, 0, PTR(4096),
					  PTR(1 << 20), 0));
	assert_int_equal(at_stats(s).allocated, 0);
	assert_check(s);
	destroy(a);
	destroy(s);
}

static void test_bad_min_ge_max(void **state)
{
	struct arena *a = mk_span("bad_mm", 1, 100, 1);

	(void)state;
	expect_refused_alloc(a, "bad_mm", EINVAL,
			     arena_xalloc(a, 1, 0, 0, 0, PTR(50), PTR(50), 0));
	expect_refused_alloc(a, "bad_mm", EINVAL,
			     arena_xalloc(a, 1, 0, 0, 0, PTR(60), PTR(50), 0));
	destroy(a);
}

static void test_bad_free_unknown(void **state)
{
	struct arena *a = mk_span("bad_fu", 1, 100, 1);
	void *p;

	(void)state;
	/* nothing allocated at all */
	expect_refused_int(a, "bad_fu", EINVAL, arena_free(a, PTR(55), 1));
	p = arena_alloc(a, 10, 0);
	assert_int_equal(U(p), 1);
	/* inside an allocated segment, but not its start */
	expect_refused_int(a, "bad_fu", EINVAL, arena_free(a, PTR(5), 1));
	/* a free address inside the span */
	expect_refused_int(a, "bad_fu", EINVAL, arena_free(a, PTR(50), 10));
	/* outside every span */
	expect_refused_int(a, "bad_fu", EINVAL,
			   arena_free(a, PTR(5000), 10));
	expect_refused_int(a, "bad_fu", EINVAL, arena_xfree(a, PTR(55), 1));
	do_free(a, p, 10);
	destroy(a);
}

static void test_bad_free_wrong_size(void **state)
{
	struct arena *a = mk_span("bad_fws", 1024, 4096, 8);
	struct arena_stats st;
	void *p;

	(void)state;
	p = arena_alloc(a, 64, 0);
	assert_non_null(p);
	expect_refused_int(a, "bad_fws", EINVAL, arena_free(a, p, 32));
	expect_refused_int(a, "bad_fws", EINVAL, arena_free(a, p, 128));
	expect_refused_int(a, "bad_fws", EINVAL, arena_free(a, p, 72));
	expect_refused_int(a, "bad_fws", EINVAL, arena_free(a, p, 0));
	st = at_stats(a);
	assert_int_equal(st.allocated, 64);
	assert_int_equal(st.nr_alloc_segments, 1);
	/* the segment is still allocated: a correct free works */
	do_free(a, p, 64);
	assert_int_equal(at_stats(a).allocated, 0);

	p = arena_xalloc(a, 64, 64, 0, 0, NULL, NULL, 0);
	assert_non_null(p);
	expect_refused_int(a, "bad_fws", EINVAL, arena_xfree(a, p, 8));
	do_xfree(a, p, 64);
	destroy(a);
}

static void test_bad_double_free(void **state)
{
	struct arena *a = mk_span("bad_df", 1024, 4096, 8);
	void *p, *q;

	(void)state;
	p = arena_alloc(a, 64, 0);
	q = arena_alloc(a, 64, 0);   /* keeps p's segment from coalescing */
	assert_non_null(p);
	assert_non_null(q);
	do_free(a, p, 64);
	expect_refused_int(a, "bad_df", EINVAL, arena_free(a, p, 64));
	p = arena_xalloc(a, 32, 0, 0, 0, NULL, NULL, 0);
	assert_non_null(p);
	do_xfree(a, p, 32);
	expect_refused_int(a, "bad_df", EINVAL, arena_xfree(a, p, 32));
	do_free(a, q, 64);
	expect_refused_int(a, "bad_df", EINVAL, arena_free(a, q, 64));
	destroy(a);
}

static void test_bad_destroy_busy(void **state)
{
	struct arena *a = mk_span("bad_busy", 1024, 4096, 8);
	void *p, *q;

	(void)state;
	p = arena_alloc(a, 64, 0);
	assert_non_null(p);
	expect_refused_int(a, "bad_busy", EBUSY, arena_destroy(a));
	/* still usable */
	q = arena_alloc(a, 128, 0);
	assert_non_null(q);
	assert_check(a);
	do_free(a, q, 128);
	expect_refused_int(a, "bad_busy", EBUSY, arena_destroy(a));
	do_free(a, p, 64);
	destroy(a);
}

static void test_bad_destroy_source_busy(void **state)
{
	struct arena *s = mk_span("bad_srcbusy", 4096, 8 * 4096, 4096);
	struct arena *a = arena_create("bsb_imp", NULL, 0, 8, NULL, NULL, s,
				       0, 0);
	void *p;

	(void)state;
	assert_non_null(a);
	/* an importer, nothing imported */
	expect_refused_int(s, "bad_srcbusy", EBUSY, arena_destroy(s));
	p = arena_alloc(a, 64, 0);
	assert_non_null(p);
	/* an importer holding a span */
	expect_refused_int(s, "bad_srcbusy", EBUSY, arena_destroy(s));
	assert_check(a);
	do_free(a, p, 64);
	destroy(a);
	assert_int_equal(at_stats(s).nr_importers, 0);
	destroy(s);
}

static void test_bad_quantum0(void **state)
{
	struct arena *a;

	(void)state;
	at_reset_errors();
	a = arena_create("bad_q0", PTR(4096), 4096, 0, NULL, NULL, NULL, 0, 0);
	assert_null(a);
	assert_one_error(EINVAL, "bad_q0");
	at_reset_errors();
	a = arena_create("bad_q0b", NULL, 0, 0, NULL, NULL, NULL, 0, 0);
	assert_null(a);
	assert_one_error(EINVAL, "bad_q0b");
}

static void test_bad_qcache_max(void **state)
{
	struct arena *a;

	(void)state;
	at_reset_errors();
	a = arena_create("bad_qc", PTR(4096), 4096, 16, NULL, NULL, NULL, 24,
			 0);
	assert_null(a);
	assert_one_error(EINVAL, "bad_qc");
	at_reset_errors();
	a = arena_create("bad_qc7", PTR(7), 700, 7, NULL, NULL, NULL, 8, 0);
	assert_null(a);
	assert_one_error(EINVAL, "bad_qc7");
}

static void test_bad_fit_flags(void **state)
{
	struct arena *a = mk_span("bad_fit", 1024, 4096, 8);

	(void)state;
	expect_refused_alloc(a, "bad_fit", EINVAL,
			     arena_alloc(a, 8, MEM_ATOMIC | ARENA_INSTANTFIT |
						ARENA_BESTFIT));
	expect_refused_alloc(a, "bad_fit", EINVAL,
			     arena_xalloc(a, 8, 0, 0, 0, NULL, NULL,
					  ARENA_BESTFIT | ARENA_NEXTFIT));
	destroy(a);
	at_reset_errors();
	assert_null(arena_create("bad_fit2", PTR(4096), 4096, 8, NULL, NULL,
				 NULL, 0, ARENA_INSTANTFIT | ARENA_NEXTFIT));
	assert_one_error(EINVAL, "bad_fit2");
}

/* r % 16 == 4 and r % 8 == 0 cannot both hold: refused, not searched. */
static void test_bad_phase_quantum(void **state)
{
	struct arena *a = mk_span("bad_phq", 1024, 4096, 8);

	(void)state;
	expect_refused_alloc(a, "bad_phq", EINVAL,
			     arena_xalloc(a, 8, 16, 4, 0, NULL, NULL, 0));
	destroy(a);
}

/* Quantum caches: sizes up to qcache_max come from per-size caches whose
 * slabs are segments of the arena itself.  Whatever path they take, the
 * results must be quantum-aligned, inside the arena's span, and disjoint;
 * after everything is freed the arena can be destroyed. */
struct qc_obj {
	uintptr_t addr;
	size_t size, rsize;
};

static int qc_cmp(const void *x, const void *y)
{
	const struct qc_obj *a = x, *b = y;

	return a->addr < b->addr ? -1 : a->addr > b->addr;
}

static void qcache_case(const char *name, uintptr_t base, size_t size,
			size_t quantum, size_t qcache_max)
{
	static struct qc_obj o[1024];
	struct arena *a;
	size_t n = 0, k, j, i;
	uintptr_t lo = (base + quantum - 1) / quantum * quantum;
	uintptr_t hi = (base + size) / quantum * quantum;

	a = arena_create(name, PTR(base), size, quantum, NULL, NULL, NULL,
			 qcache_max, 0);
	assert_non_null(a);
	assert_check(a);
	/* every cached size (also one byte short of it), and two above */
	for (k = 1; k <= qcache_max / quantum + 2; k++) {
		for (j = 0; j < 6; j++) {
			size_t sz = k * quantum - (j % 2 && quantum > 1);
			void *p = arena_alloc(a, sz, MEM_ATOMIC);

			assert_true(n < 1024);
			if (!p)
				print_error("%s: alloc(%zu) failed: %s\n", name,
					    sz, strerror(errno));
			assert_non_null(p);
			o[n].addr = U(p);
			o[n].size = sz;
			o[n].rsize = k * quantum;
			n++;
		}
	}
	assert_check(a);
	assert_accounting(a);
	qsort(o, n, sizeof(o[0]), qc_cmp);
	for (i = 0; i < n; i++) {
		if (o[i].addr % quantum || o[i].addr < lo ||
		    o[i].addr + o[i].rsize > hi)
			print_error("%s: object %#lx (%zu bytes) misaligned or "
				    "outside [%#lx, %#lx)\n", name,
				    (unsigned long)o[i].addr, o[i].rsize,
				    (unsigned long)lo, (unsigned long)hi);
		assert_int_equal(o[i].addr % quantum, 0);
		assert_true(o[i].addr >= lo && o[i].addr + o[i].rsize <= hi);
		if (i && o[i - 1].addr + o[i - 1].rsize > o[i].addr)
			print_error("%s: objects %#lx (%zu) and %#lx overlap\n",
				    name, (unsigned long)o[i - 1].addr,
				    o[i - 1].rsize, (unsigned long)o[i].addr);
		assert_true(i == 0 ||
			    o[i - 1].addr + o[i - 1].rsize <= o[i].addr);
	}
	for (i = 0; i < n; i++) {
		at_reset_errors();
		assert_int_equal(arena_free(a, PTR(o[i].addr), o[i].size), 0);
		assert_no_error();
	}
	assert_check(a);
	assert_accounting(a);
	destroy(a);
}

static void test_qcache_basic(void **state)
{
	(void)state;
	qcache_case("qc16", 4096, 64 * 1024, 16, 64);
}

static void test_qcache_odd_quantum(void **state)
{
	(void)state;
	qcache_case("qc7", 7 * 1000, 7 * 4000, 7, 7 * 4);
}

static void test_qcache_large_quantum(void **state)
{
	(void)state;
	qcache_case("qc4k", (uintptr_t)1 << 30, (size_t)4096 * 2048, 4096,
		    8 * 4096);
}

/* Destroy refuses while a quantum cache still has an object out. */
static void test_qcache_destroy_busy(void **state)
{
	struct arena *a = arena_create("qc_busy", PTR(4096), 64 * 1024, 16,
				       NULL, NULL, NULL, 64, 0);
	void *p;

	(void)state;
	assert_non_null(a);
	p = arena_alloc(a, 32, 0);
	assert_non_null(p);
	at_reset_errors();
	assert_int_equal(arena_destroy(a), -1);
	assert_one_error(EBUSY, "qc_busy");
	assert_check(a);
	do_free(a, p, 32);
	destroy(a);
}

/* The free contract holds with quantum caches too: an address that is not
 * allocated, a wrong size or a double free gives -1 / EINVAL. */
static void test_qcache_bad_free(void **state)
{
	struct arena *a = arena_create("qc_bad", PTR(4096), 64 * 1024, 16,
				       NULL, NULL, NULL, 64, 0);
	void *p, *q;

	(void)state;
	assert_non_null(a);
	p = arena_alloc(a, 16, 0);
	q = arena_alloc(a, 16, 0);
	assert_non_null(p);
	assert_non_null(q);
	at_reset_errors();
	assert_int_equal(arena_free(a, PTR(1 << 30), 16), -1);  /* foreign */
	assert_one_error(EINVAL, "qc_bad");
	at_reset_errors();
	assert_int_equal(arena_free(a, p, 48), -1);             /* wrong size */
	assert_one_error(EINVAL, "qc_bad");
	do_free(a, p, 16);
	at_reset_errors();
	assert_int_equal(arena_free(a, p, 16), -1);             /* double */
	assert_one_error(EINVAL, "qc_bad");
	assert_check(a);
	do_free(a, q, 16);
	destroy(a);
}

/* Absurd sizes fail at once (ENOMEM or EINVAL), never hang or wrap. */
static void test_huge_sizes(void **state)
{
	struct arena *a = mk_span("huge", 4096, 4096, 8);
	struct arena *b = mk_span("huge1", 1, 100, 1);
	struct arena_stats before, after;

	(void)state;
	before = at_stats(a);
	at_watchdog(10);
	at_reset_errors();
	assert_null(arena_alloc(a, SIZE_MAX, MEM_ATOMIC));
	assert_true(errno == ENOMEM || errno == EINVAL);
	at_reset_errors();
	assert_null(arena_alloc(a, SIZE_MAX - 7, MEM_WAIT));
	assert_true(errno == ENOMEM || errno == EINVAL);
	at_reset_errors();
	assert_null(arena_xalloc(a, SIZE_MAX / 2 + 1, 64, 0, 0, NULL, NULL,
				 MEM_WAIT));
	assert_true(errno == ENOMEM || errno == EINVAL);
	at_reset_errors();
	assert_null(arena_alloc(b, SIZE_MAX, MEM_WAIT));
	assert_true(errno == ENOMEM || errno == EINVAL);
	at_watchdog_off();
	after = at_stats(a);
	assert_same_layout(&before, &after);
	assert_check(a);
	assert_check(b);
	destroy(a);
	destroy(b);
}

/* A request no mapping can hold fails quickly and leaves base as it was
 * (no wrapped size arithmetic mapping chunk after chunk).  Runs in a thread
 * so that a runaway call fails this case instead of hanging the suite;
 * keep it last: a runaway thread keeps going until the program exits. */
static void *huge_base_alloc(void *arg)
{
	struct arena *ar = arg;
	size_t ps = (size_t)sysconf(_SC_PAGESIZE);
	void *p;

	p = arena_alloc(ar, SIZE_MAX & ~(ps - 1), MEM_ATOMIC);
	return p ? PTR(1) : (errno == ENOMEM || errno == EINVAL) ? PTR(2)
								   : PTR(3);
}

static void test_base_huge_alloc_last(void **state)
{
	struct arena *ars[2] = { arena_base(), arena_kpages() };
	int i;

	(void)state;
	for (i = 0; i < 2; i++) {
		struct arena_stats before = at_stats(arena_base()), after;
		struct timespec deadline;
		pthread_t t;
		void *res = NULL;
		int rc;

		assert_int_equal(pthread_create(&t, NULL, huge_base_alloc,
						ars[i]), 0);
		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_sec += 5;
		rc = pthread_timedjoin_np(t, &res, &deadline);
		if (rc != 0) {
			print_error("arena_alloc(%s, SIZE_MAX & ~(page - 1)) "
				    "still running after 5 s; base total now "
				    "%zu in %zu spans\n", arena_name(ars[i]),
				    at_stats(arena_base()).total,
				    at_stats(arena_base()).nr_spans);
			fail();
		}
		assert_ptr_equal(res, PTR(2));
		after = at_stats(arena_base());
		if (after.total != before.total)
			print_error("base grew from %zu to %zu bytes (%zu -> "
				    "%zu spans) for a request that cannot "
				    "fit\n", before.total, after.total,
				    before.nr_spans, after.nr_spans);
		assert_int_equal(after.total, before.total);
		assert_check(arena_base());
		assert_check(arena_kpages());
	}
}

/* ---- names, accessors, arena_for_each --------------------------------- */

struct seen {
	struct arena *want[2];
	int pos[2];
	int n;
};

static void seen_fn(struct arena *arena, void *arg)
{
	struct seen *s = arg;
	int i;

	for (i = 0; i < 2; i++)
		if (arena == s->want[i])
			s->pos[i] = s->n;
	s->n++;
}

static void test_accessors_and_for_each(void **state)
{
	const char *longname = "a_very_long_arena_name_that_goes_on_and_on";
	struct arena *a = mk_span(longname, 4096, 4096, 16);
	struct arena *b = mk("second", 4);
	struct seen s = { { a, b }, { -1, -1 }, 0 };

	(void)state;
	assert_int_equal(strlen(arena_name(a)), ARENA_NAME_LEN - 1);
	assert_memory_equal(arena_name(a), longname, ARENA_NAME_LEN - 1);
	assert_string_equal(arena_name(b), "second");
	assert_int_equal(arena_quantum(a), 16);
	assert_int_equal(arena_quantum(b), 4);
	assert_null(arena_source(a));
	arena_for_each(seen_fn, &s);
	assert_true(s.pos[0] >= 0);
	assert_true(s.pos[1] >= 0);
	assert_true(s.pos[0] < s.pos[1]);      /* creation order */
	destroy(a);
	destroy(b);
	s.pos[0] = s.pos[1] = -1;
	s.n = 0;
	arena_for_each(seen_fn, &s);
	assert_int_equal(s.pos[0], -1);
	assert_int_equal(s.pos[1], -1);
}

/* ---- the error handler ------------------------------------------------ */

static void *read_last_error(void *arg)
{
	const char **out = arg;

	*out = magslab_last_error();
	return (void *)(uintptr_t)(*out && (*out)[0] == '\0');
}

static void test_error_handler(void **state)
{
	struct arena *a = mk_span("ehandler", 1, 100, 1);
	char saved[AT_MSG_LEN];
	const char *other = NULL;
	pthread_t t;
	void *res;

	(void)state;
	at_reset_errors();
	assert_int_equal(arena_free(a, PTR(42), 1), -1);
	assert_one_error(EINVAL, "ehandler");
	assert_non_null(strstr(magslab_last_error(), "ehandler"));
	snprintf(saved, sizeof(saved), "%s", magslab_last_error());

	/* The last message is per thread: a new thread has none. */
	assert_int_equal(pthread_create(&t, NULL, read_last_error, &other), 0);
	assert_int_equal(pthread_join(t, &res), 0);
	assert_true(res != NULL);
	assert_string_equal(magslab_last_error(), saved);

	/* NULL restores the default handler (prints to stderr). */
	print_message("  (expected: the default handler prints one "
		      "\"magslab: arena 'ehandler': ...\" line)\n");
	magslab_set_error_handler(NULL, NULL);
	at_reset_errors();
	assert_null(arena_alloc(a, 0, 0));
	assert_int_equal(errno, EINVAL);
	assert_int_equal(at_errors(), 0);
	assert_non_null(strstr(magslab_last_error(), "ehandler"));
	at_install_handler();
	at_reset_errors();
	assert_null(arena_alloc(a, 0, 0));
	assert_one_error(EINVAL, "ehandler");
	assert_check(a);
	destroy(a);
}

/* The handler runs with no magslab lock held: it can call back into the
 * arena that refused the call (a held lock would deadlock here). */
static struct arena *reentrant_arena;
static int reentrant_calls, reentrant_ok;

static void reentrant_handler(const char *msg, void *arg)
{
	struct arena_stats st;
	void *p;

	(void)msg;
	(void)arg;
	reentrant_calls++;
	if (arena_stats(reentrant_arena, &st) != 0)
		return;
	p = arena_alloc(reentrant_arena, 1, MEM_ATOMIC);
	if (!p || arena_free(reentrant_arena, p, 1) != 0)
		return;
	reentrant_ok++;
}

static void test_error_handler_reentrant(void **state)
{
	struct arena *a = mk_span("reent", 1, 100, 1);
	void *p;

	(void)state;
	reentrant_arena = a;
	reentrant_calls = reentrant_ok = 0;
	p = arena_alloc(a, 10, 0);
	assert_non_null(p);
	magslab_set_error_handler(reentrant_handler, NULL);
	at_watchdog(10);
	assert_null(arena_alloc(a, 0, 0));
	assert_int_equal(arena_free(a, PTR(77), 1), -1);
	assert_int_equal(arena_free(a, p, 3), -1);
	assert_null(arena_xalloc(a, 1, 24, 0, 0, NULL, NULL, 0));
	assert_int_equal(arena_destroy(a), -1);
	at_watchdog_off();
	at_install_handler();
	assert_int_equal(reentrant_calls, 5);
	assert_int_equal(reentrant_ok, 5);
	assert_check(a);
	do_free(a, p, 10);
	destroy(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nextfit),
		cmocka_unit_test(test_nextfit_wraps),
		cmocka_unit_test(test_bestfit),
		cmocka_unit_test(test_instantfit),
		cmocka_unit_test(test_instantfit_fallback),
		cmocka_unit_test(test_default_flags),
		cmocka_unit_test(test_quantum_alignment),
		cmocka_unit_test(test_odd_quantum),
		cmocka_unit_test(test_size_rounding),
		cmocka_unit_test(test_nocross_fallback),
		cmocka_unit_test(test_xalloc_from_freelist),
		cmocka_unit_test(test_xalloc_align_phase),
		cmocka_unit_test(test_xalloc_nocross),
		cmocka_unit_test(test_xalloc_minmax_q3),
		cmocka_unit_test(test_xalloc_minmax_exact),
		cmocka_unit_test(test_xalloc_all_constraints),
		cmocka_unit_test(test_accounting),
		cmocka_unit_test(test_stats_fields),
		cmocka_unit_test(test_coalesce_neighbours),
		cmocka_unit_test(test_coalesce_random_order),
		cmocka_unit_test(test_hash_growth),
		cmocka_unit_test(test_add_overlap),
		cmocka_unit_test(test_add_with_source),
		cmocka_unit_test(test_add_bad_span),
		cmocka_unit_test(test_create_span_with_source),
		cmocka_unit_test(test_import_source),
		cmocka_unit_test(test_import_alignment),
		cmocka_unit_test(test_import_xalloc),
		cmocka_unit_test(test_span_release),
		cmocka_unit_test(test_import_source_exhausted),
		cmocka_unit_test(test_base_kpages),
		cmocka_unit_test(test_base_big_alloc),
		cmocka_unit_test(test_base_destroy_refused),
		cmocka_unit_test(test_memwait_too_big),
		cmocka_unit_test(test_bad_alloc_size0),
		cmocka_unit_test(test_bad_xalloc_size0),
		cmocka_unit_test(test_bad_align),
		cmocka_unit_test(test_bad_phase),
		cmocka_unit_test(test_bad_nocross_small),
		cmocka_unit_test(test_bad_nocross_pow2),
		cmocka_unit_test(test_bad_minmax_with_source),
		cmocka_unit_test(test_bad_min_ge_max),
		cmocka_unit_test(test_bad_free_unknown),
		cmocka_unit_test(test_bad_free_wrong_size),
		cmocka_unit_test(test_bad_double_free),
		cmocka_unit_test(test_bad_destroy_busy),
		cmocka_unit_test(test_bad_destroy_source_busy),
		cmocka_unit_test(test_bad_quantum0),
		cmocka_unit_test(test_bad_qcache_max),
		cmocka_unit_test(test_accessors_and_for_each),
		cmocka_unit_test(test_error_handler),
		cmocka_unit_test(test_error_handler_reentrant),
		cmocka_unit_test(test_bad_fit_flags),
		cmocka_unit_test(test_bad_phase_quantum),
		cmocka_unit_test(test_qcache_basic),
		cmocka_unit_test(test_qcache_odd_quantum),
		cmocka_unit_test(test_qcache_large_quantum),
		cmocka_unit_test(test_qcache_destroy_busy),
		cmocka_unit_test(test_qcache_bad_free),
		cmocka_unit_test(test_huge_sizes),
		/* must stay last (see the comment at the function) */
		cmocka_unit_test(test_base_huge_alloc_last),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
