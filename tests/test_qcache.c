/*
 * test_qcache.c — quantum caches: an arena with qcache_max > 0 serves sizes
 * up to qcache_max from NOTOUCH, bufctl-based slab caches of each multiple of
 * its quantum; their slabs are imports of round_up_pow2(3 * qcache_max)
 * bytes from the arena itself.  Also kmem caches on odd-quantum arenas (the
 * "quantum-preserving guarantee" and a NOTOUCH cache with align 16 on a
 * quantum-7 arena, after Akaros's arena tests).
 *
 * The ranges handed to these arenas are PROT_NONE mappings of our own: a
 * quantum cache (or NOTOUCH cache) that touched the memory it manages would
 * crash the test instead of passing silently.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "slab_test_util.h"

static int group_setup(void **state)
{
	(void)state;
	st_install_handler();
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	st_reset_settings();
	magslab_set_error_handler(NULL, NULL);
	return 0;
}

static int one_slot(void **state)
{
	(void)state;
	assert_int_equal(magslab_set_ncpus(1), 0);
	assert_int_equal(magslab_set_debug(0), 0);
	st_reset_errors();
	return 0;
}

static int reset(void **state)
{
	(void)state;
	st_reset_settings();
	return 0;
}

static size_t pow2_roundup(size_t x)
{
	size_t p = 1;

	while (p < x)
		p <<= 1;
	return p;
}

/* The slab size of a quantum cache: round_up_pow2(3 * qcache_max), taken
 * from the arena in whole quanta. */
static size_t qslab(size_t quantum, size_t qcache_max)
{
	size_t s = pow2_roundup(3 * qcache_max);

	return (s + quantum - 1) / quantum * quantum;
}

struct seg {
	uintptr_t addr;
	size_t size;   /* rounded to the quantum */
};

static int seg_cmp(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Segments in range, quantum-aligned, never overlapping. */
static void check_segs(struct seg *s, size_t n, const struct st_region *r,
		       size_t quantum)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i].addr % quantum)
			print_error("segment %#lx not a multiple of %zu\n",
				    (unsigned long)s[i].addr, quantum);
		assert_int_equal(s[i].addr % quantum, 0);
		assert_true(s[i].addr >= U(r->base));
		assert_true(s[i].addr + s[i].size <= U(r->base) + r->size);
	}
	qsort(s, n, sizeof(*s), seg_cmp);
	for (i = 1; i < n; i++) {
		if (s[i - 1].addr + s[i - 1].size > s[i].addr)
			print_error("segments [%#lx, +%zu) and [%#lx, +%zu) "
				    "overlap\n", (unsigned long)s[i - 1].addr,
				    s[i - 1].size, (unsigned long)s[i].addr,
				    s[i].size);
		assert_true(s[i - 1].addr + s[i - 1].size <= s[i].addr);
	}
}

/* 1..3 quanta come from the quantum caches: the arena's allocated bytes are
 * slab-sized imports, one per quantum cache used; 4 quanta come from the
 * arena itself.  Frees go back to the caches; destroy drains them. */
static void test_qcache_basic(void **state)
{
	size_t ps = st_page(), qmax = 3 * ps, S = qslab(ps, qmax);
	struct st_region r;
	struct arena *a = st_region_arena(&r, "qc_basic", 64 << 20, PROT_NONE,
					  ps, qmax);
	struct arena_stats as;
	void *p1, *p2, *p3, *p4, *p5;

	(void)state;
	assert_non_null(p1 = arena_alloc(a, 1, MEM_ATOMIC));
	as = st_arena_stats(a);
	assert_int_equal(as.allocated, S);
	assert_int_equal(as.nr_alloc_segments, 1);
	assert_non_null(p2 = arena_alloc(a, ps, MEM_ATOMIC));
	assert_ptr_not_equal(p1, p2);
	assert_int_equal(st_arena_stats(a).allocated, S);
	assert_non_null(p3 = arena_alloc(a, 2 * ps, MEM_ATOMIC));
	assert_int_equal(st_arena_stats(a).allocated, 2 * S);
	assert_non_null(p4 = arena_alloc(a, 3 * ps, MEM_ATOMIC));
	assert_int_equal(st_arena_stats(a).allocated, 3 * S);
	assert_int_equal(st_arena_stats(a).nr_alloc_segments, 3);
	/* Above qcache_max: the arena itself. */
	assert_non_null(p5 = arena_alloc(a, 3 * ps + 1, MEM_ATOMIC));
	assert_int_equal(st_arena_stats(a).allocated, 3 * S + 4 * ps);
	assert_arena_check(a);

	assert_int_equal(U(p1) % ps, 0);
	assert_int_equal(U(p2) % ps, 0);
	assert_int_equal(U(p3) % ps, 0);
	assert_int_equal(U(p4) % ps, 0);

	assert_int_equal(arena_free(a, p1, 1), 0);
	assert_int_equal(arena_free(a, p2, ps), 0);
	assert_int_equal(arena_free(a, p3, 2 * ps), 0);
	assert_int_equal(arena_free(a, p4, 3 * ps), 0);
	assert_int_equal(arena_free(a, p5, 3 * ps + 1), 0);
	/* The quantum caches keep their slabs. */
	assert_int_equal(st_arena_stats(a).allocated, 3 * S);
	assert_arena_check(a);
	st_region_destroy(&r);
}

/* A freed quantum-cache segment is the next one handed out (magazine LIFO). */
static void test_qcache_reuse(void **state)
{
	size_t ps = st_page();
	struct st_region r;
	struct arena *a = st_region_arena(&r, "qc_reuse", 16 << 20, PROT_NONE,
					  ps, 2 * ps);
	void *p, *q;

	(void)state;
	assert_non_null(p = arena_alloc(a, 2 * ps, 0));
	assert_int_equal(arena_free(a, p, 2 * ps), 0);
	assert_non_null(q = arena_alloc(a, 2 * ps - 5, 0));
	assert_ptr_equal(p, q);
	assert_int_equal(arena_free(a, q, 2 * ps - 5), 0);
	st_region_destroy(&r);
}

/* Many segments of every quantum-cache size and beyond: aligned, in range,
 * disjoint; the accounting adds up; everything frees. */
static void test_qcache_many(void **state)
{
	enum { N = 600 };
	size_t ps = st_page(), qmax = 4 * ps;
	struct st_region r;
	struct arena *a = st_region_arena(&r, "qc_many", 128 << 20, PROT_NONE,
					  ps, qmax);
	struct seg *s = calloc(N, sizeof(*s));
	size_t *asked = calloc(N, sizeof(size_t));
	struct st_rng rng;
	size_t i;

	(void)state;
	assert_non_null(s);
	assert_non_null(asked);
	st_rng_init(&rng, st_seed(0x9cace));
	for (i = 0; i < N; i++) {
		size_t size = 1 + st_below(&rng, 6 * ps);
		void *p = arena_alloc(a, size, MEM_ATOMIC);

		assert_non_null(p);
		asked[i] = size;
		s[i].addr = U(p);
		s[i].size = (size + ps - 1) / ps * ps;
	}
	assert_arena_check(a);
	/* Free the odd ones in the original order before sorting. */
	for (i = 1; i < N; i += 2)
		assert_int_equal(arena_free(a, PTR(s[i].addr), asked[i]), 0);
	for (i = 1; i < N; i += 2) {
		void *p = arena_alloc(a, asked[i], MEM_ATOMIC);

		assert_non_null(p);
		s[i].addr = U(p);
	}
	{
		struct seg *c = calloc(N, sizeof(*c));

		assert_non_null(c);
		memcpy(c, s, N * sizeof(*c));
		check_segs(c, N, &r, ps);
		free(c);
	}
	for (i = 0; i < N; i++)
		assert_int_equal(arena_free(a, PTR(s[i].addr), asked[i]), 0);
	assert_arena_check(a);
	{
		struct arena_stats as = st_arena_stats(a);

		assert_int_equal(as.total, as.free + as.allocated);
		/* What is left is quantum-cache slabs only. */
		assert_int_equal(as.allocated % qslab(ps, qmax), 0);
	}
	free(s);
	free(asked);
	st_region_destroy(&r);
}

/* Odd quantum 7, qcache_max 21: every result is a multiple of 7. */
static void test_qcache_odd_quantum(void **state)
{
	enum { N = 400 };
	struct st_region r;
	struct arena *a = st_region_arena(&r, "qc_odd7", 7 << 16, PROT_NONE,
					  7, 21);
	struct seg *s = calloc(N, sizeof(*s));
	size_t *asked = calloc(N, sizeof(size_t));
	struct st_rng rng;
	size_t i;

	(void)state;
	assert_non_null(s);
	assert_non_null(asked);
	st_rng_init(&rng, st_seed(7));
	for (i = 0; i < N; i++) {
		/* Mostly quantum-cache sizes, some above. */
		size_t size = i % 5 == 4 ? 22 + st_below(&rng, 80)
					 : 1 + st_below(&rng, 21);
		void *p = arena_alloc(a, size, MEM_ATOMIC);

		assert_non_null(p);
		if (U(p) % 7)
			print_error("alloc(%zu) returned %p, not a multiple "
				    "of 7\n", size, p);
		assert_int_equal(U(p) % 7, 0);
		asked[i] = size;
		s[i].addr = U(p);
		s[i].size = (size + 6) / 7 * 7;
	}
	assert_arena_check(a);
	for (i = 0; i < N; i++)
		assert_int_equal(arena_free(a, PTR(s[i].addr), asked[i]), 0);
	check_segs(s, N, &r, 7);
	assert_arena_check(a);
	free(s);
	free(asked);
	st_region_destroy(&r);
}

/* Large quantum 8192 with qcache_max 8192: one quantum cache whose slabs
 * are round_up_pow2(3 * 8192) = 32768 bytes, four segments each. */
static void test_qcache_large_quantum(void **state)
{
	enum { Q = 8192 };
	size_t S = qslab(Q, Q);
	struct st_region r;
	struct arena *a = st_region_arena(&r, "qc_8k", 32 << 20, PROT_NONE, Q,
					  Q);
	void *p[9];
	int i;

	(void)state;
	assert_int_equal(S, 32768);
	for (i = 0; i < 9; i++) {
		assert_non_null(p[i] = arena_alloc(a, Q, MEM_ATOMIC));
		assert_int_equal(U(p[i]) % Q, 0);
		if (i == 0 || i == 3)
			assert_int_equal(st_arena_stats(a).allocated, S);
		if (i == 4 || i == 7)
			assert_int_equal(st_arena_stats(a).allocated, 2 * S);
		if (i == 8)
			assert_int_equal(st_arena_stats(a).allocated, 3 * S);
	}
	/* Above qcache_max: the arena. */
	{
		void *big = arena_alloc(a, Q + 1, MEM_ATOMIC);

		assert_non_null(big);
		assert_int_equal(U(big) % Q, 0);
		assert_int_equal(st_arena_stats(a).allocated, 3 * S + 2 * Q);
		assert_int_equal(arena_free(a, big, Q + 1), 0);
	}
	for (i = 0; i < 9; i++)
		assert_int_equal(arena_free(a, p[i], Q), 0);
	assert_arena_check(a);
	st_region_destroy(&r);
}

/* A NOTOUCH kmem cache of 1-byte objects aligned to 16 on a quantum-7
 * arena: every object 16-aligned, distinct. */
static void test_notouch_cache_q7_align16(void **state)
{
	enum { N = 300 };
	struct st_region r;
	struct arena *a = st_region_arena(&r, "q7_src", 7 << 16, PROT_NONE, 7,
					  0);
	struct kmem_cache *kc;
	uintptr_t p[N];
	int i;

	(void)state;
	kc = kmem_cache_create("x", 1, 16, KMC_NOTOUCH, a, NULL, NULL, NULL);
	assert_non_null(kc);
	assert_stat(st_stats(kc), uses_bufctl, 1);
	for (i = 0; i < N; i++) {
		void *o = kmem_cache_alloc(kc, MEM_ATOMIC);

		assert_non_null(o);
		if (U(o) % 16)
			print_error("object %p not 16-aligned\n", o);
		assert_int_equal(U(o) % 16, 0);
		assert_true(U(o) >= U(r.base) && U(o) < U(r.base) + r.size);
		p[i] = U(o);
	}
	qsort(p, N, sizeof(p[0]), st_cmp_uptr);
	for (i = 1; i < N; i++)
		assert_true(p[i] >= p[i - 1] + 16);
	for (i = 0; i < N; i++)
		kmem_cache_free(kc, PTR(p[i]));
	st_destroy(kc);
	assert_int_equal(st_arena_stats(a).allocated, 0);
	st_region_destroy(&r);
}

/* Akaros's quantum-preserving guarantee: a NOTOUCH cache of 14-byte objects
 * on a quantum-7 arena hands out multiples of 7 only (also 21 and 7). */
static void test_quantum_preserving(void **state)
{
	size_t sizes[3] = { 14, 21, 7 };
	int k, i;

	(void)state;
	for (k = 0; k < 3; k++) {
		struct st_region r;
		struct arena *a = st_region_arena(&r, "q7_pres", 7 << 16,
						  PROT_NONE, 7, 0);
		struct kmem_cache *kc = st_create("q7_objs", sizes[k], 0,
						  KMC_NOTOUCH, a);
		void *p[200];

		for (i = 0; i < 200; i++) {
			assert_non_null(p[i] = kmem_cache_alloc(kc, 0));
			if (U(p[i]) % 7)
				print_error("%zu-byte object %p is not a "
					    "multiple of 7\n", sizes[k], p[i]);
			assert_int_equal(U(p[i]) % 7, 0);
		}
		for (i = 0; i < 200; i++)
			kmem_cache_free(kc, p[i]);
		st_destroy(kc);
		st_region_destroy(&r);
	}
}

/* An arena with live quantum-cache segments refuses to be destroyed
 * (EBUSY, one message naming it) and keeps working. */
static void test_qcache_destroy_busy(void **state)
{
	size_t ps = st_page();
	struct st_region r;
	struct arena *a = st_region_arena(&r, "qc_busy", 16 << 20, PROT_NONE,
					  ps, 2 * ps);
	void *p, *q;

	(void)state;
	assert_non_null(p = arena_alloc(a, ps, 0));
	st_reset_errors();
	assert_int_equal(arena_destroy(a), -1);
	assert_one_error(EBUSY, "qc_busy");
	assert_non_null(q = arena_alloc(a, 2 * ps, 0));
	assert_int_equal(arena_free(a, q, 2 * ps), 0);
	assert_arena_check(a);
	st_reset_errors();
	assert_int_equal(arena_destroy(a), -1);
	assert_one_error(EBUSY, "qc_busy");
	assert_int_equal(arena_free(a, p, ps), 0);
	st_region_destroy(&r);
}

/* Freeing a quantum-cache segment with the wrong size or an address never
 * handed out: -1, reported, and the segment stays allocated. */
static void test_qcache_bad_free(void **state)
{
	size_t ps = st_page();
	struct st_region r;
	struct arena *a = st_region_arena(&r, "qc_badfree", 16 << 20,
					  PROT_NONE, ps, 3 * ps);
	void *p, *q;

	(void)state;
	assert_non_null(p = arena_alloc(a, ps, 0));
	st_reset_errors();
	assert_int_equal(arena_free(a, p, 2 * ps), -1);
	assert_one_error(EINVAL, "qc_badfree");
	st_reset_errors();
	assert_int_equal(arena_free(a, (char *)p + ps * 100, ps), -1);
	assert_one_error(EINVAL, "qc_badfree");
	/* Still allocated: a new segment is another one. */
	assert_non_null(q = arena_alloc(a, ps, 0));
	assert_ptr_not_equal(p, q);
	assert_int_equal(arena_free(a, q, ps), 0);
	assert_int_equal(arena_free(a, p, ps), 0);
	st_region_destroy(&r);
}

/* xalloc never goes through the quantum caches. */
static void test_qcache_xalloc_bypasses(void **state)
{
	size_t ps = st_page();
	struct st_region r;
	struct arena *a = st_region_arena(&r, "qc_xalloc", 16 << 20,
					  PROT_NONE, ps, 3 * ps);
	void *x;

	(void)state;
	assert_non_null(x = arena_xalloc(a, ps, 0, 0, 0, NULL, NULL, 0));
	assert_int_equal(st_arena_stats(a).allocated, ps);
	assert_int_equal(arena_xfree(a, x, ps), 0);
	assert_int_equal(st_arena_stats(a).allocated, 0);
	assert_arena_check(a);
	st_region_destroy(&r);
}

/* A quantum-caching arena that imports from a source: slabs are imported
 * through it and go back when the importer is destroyed. */
static void test_qcache_importer(void **state)
{
	size_t ps = st_page(), S = qslab(ps, 2 * ps);
	struct st_region r;
	struct arena *src = st_region_arena(&r, "qc_src", 64 << 20, PROT_NONE,
					    ps, 0);
	struct arena *imp = arena_create("qc_imp", NULL, 0, ps, NULL, NULL,
					 src, 2 * ps, 0);
	void *p[40];
	int i;

	(void)state;
	assert_non_null(imp);
	for (i = 0; i < 40; i++) {
		assert_non_null(p[i] = arena_alloc(imp, (i % 2 + 1) * ps, 0));
		assert_int_equal(U(p[i]) % ps, 0);
	}
	assert_int_equal(st_arena_stats(imp).allocated % S, 0);
	assert_true(st_arena_stats(src).allocated >=
		    st_arena_stats(imp).allocated);
	for (i = 0; i < 40; i++)
		assert_int_equal(arena_free(imp, p[i], (i % 2 + 1) * ps), 0);
	assert_arena_check(imp);
	assert_int_equal(arena_destroy(imp), 0);
	assert_int_equal(st_arena_stats(src).allocated, 0);
	st_region_destroy(&r);
}

/* kpages caches up to 8 pages: real memory, page-aligned, writable. */
static void test_kpages_qcaches(void **state)
{
	size_t ps = st_page();
	struct arena *k = arena_kpages();
	void *p[10];
	int i;

	(void)state;
	assert_non_null(k);
	for (i = 0; i < 10; i++) {
		size_t sz = (size_t)(i + 1) * ps;

		assert_non_null(p[i] = arena_alloc(k, sz, MEM_ATOMIC));
		assert_int_equal(U(p[i]) % ps, 0);
		memset(p[i], i, sz);
	}
	for (i = 0; i < 10; i++) {
		unsigned char *b = p[i];

		assert_int_equal(b[0], i);
		assert_int_equal(b[(size_t)(i + 1) * ps - 1], i);
		assert_int_equal(arena_free(k, p[i], (size_t)(i + 1) * ps), 0);
	}
	assert_arena_check(k);
}

/* A kmem cache over a quantum-caching page arena of real memory. */
static void test_kmem_cache_over_qcache_arena(void **state)
{
	size_t ps = st_page();
	struct st_region r;
	struct arena *a = st_region_arena(&r, "qc_kmem_src", 16 << 20,
					  PROT_READ | PROT_WRITE, ps, 4 * ps);
	struct kmem_cache *small = st_create("qc_small", 128, 0, 0, a);
	struct kmem_cache *big = st_create("qc_big", 1500, 0, 0, a);
	void *p[300], *q[300];
	int i;

	(void)state;
	assert_stat(st_stats(small), uses_bufctl, 0);
	for (i = 0; i < 300; i++) {
		assert_non_null(p[i] = kmem_cache_alloc(small, 0));
		assert_non_null(q[i] = kmem_cache_alloc(big, 0));
		memset(p[i], 1, 128);
		memset(q[i], 2, 1500);
	}
	for (i = 0; i < 300; i++) {
		kmem_cache_free(small, p[i]);
		kmem_cache_free(big, q[i]);
	}
	st_destroy(small);
	st_destroy(big);
	assert_arena_check(a);
	st_region_destroy(&r);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, one_slot, reset)
	const struct CMUnitTest tests[] = {
		T(test_qcache_basic),
		T(test_qcache_reuse),
		T(test_qcache_many),
		T(test_qcache_odd_quantum),
		T(test_qcache_large_quantum),
		T(test_notouch_cache_q7_align16),
		T(test_quantum_preserving),
		T(test_qcache_destroy_busy),
		T(test_qcache_bad_free),
		T(test_qcache_xalloc_bypasses),
		T(test_qcache_importer),
		T(test_kpages_qcaches),
		T(test_kmem_cache_over_qcache_arena),
	};
#undef T

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
