/*
 * test_slab.c — object caches: create/destroy, the slab layer (small-object
 * and bufctl slabs, the bufctl hash), ctor/dtor, reap, bad input and the
 * debug checks.  Single-threaded; one pcc slot (magslab_set_ncpus(1)) so the
 * counts are exact.
 *
 * The magazine layer's exact counting is test_magazine.c's; threads are
 * test_slab_mt.c's; quantum caches test_qcache.c's.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "slab_test_util.h"

/* ---- fixtures -------------------------------------------------------------- */

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
	assert_int_equal(magslab_set_pcc_map(MAGSLAB_PCC_BY_CPU), 0);
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

static bool same_page(const void *a, const void *b)
{
	return U(a) / st_page() == U(b) / st_page();
}

/* ---- creation and layout ------------------------------------------------------ */

static void test_create_basic(void **state)
{
	struct kmem_cache *kc = st_create("slab_basic", 64, 0, 0, NULL);
	struct kmem_cache_stats st = st_stats(kc);
	void *p;

	(void)state;
	assert_string_equal(kmem_cache_name(kc), "slab_basic");
	assert_int_equal(kmem_cache_obj_size(kc), 64);
	assert_stat(st, obj_size, 64);
	assert_stat(st, uses_bufctl, 0);
	assert_stat(st, slab_size, st_page());
	assert_true(st.objs_per_slab >= 1);
	assert_true(st.objs_per_slab * 64 <= st_page());
	/* The header at the end of the page takes little room. */
	assert_true(st.objs_per_slab >= (st_page() - 512) / 64);
	assert_stat(st, slabs, 0);
	assert_stat(st, hash_items, 0);

	assert_non_null(p = kmem_cache_alloc(kc, MEM_ATOMIC));
	st = st_stats(kc);
	assert_stat(st, slabs, 1);
	assert_stat(st, slab_grows, 1);
	assert_stat(st, slabs_partial, 1);
	assert_stat(st, live_objs, 1);
	assert_cache_consistent(st);
	memset(p, 0x5a, 64);
	kmem_cache_free(kc, p);
	st_destroy(kc);
}

/* Objects are aligned to align, and stats report it. */
static void test_small_alignment(void **state)
{
	static const struct { size_t size, align; } cases[] = {
		{ 24, 64 }, { 100, 128 }, { 200, 256 }, { 8, 8 }, { 16, 512 },
		{ 24, 0 }, { 64, 0 },
	};
	size_t k;
	int i;

	(void)state;
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		size_t want = cases[k].align ? cases[k].align : sizeof(void *);
		char name[32];
		struct kmem_cache *kc;
		struct kmem_cache_stats st;
		void *p[300];

		snprintf(name, sizeof(name), "align_%zu_%zu", cases[k].size,
			 cases[k].align);
		kc = st_create(name, cases[k].size, cases[k].align, 0, NULL);
		st = st_stats(kc);
		assert_stat(st, uses_bufctl, 0);
		if (cases[k].align)
			assert_stat(st, align, cases[k].align);
		for (i = 0; i < 300; i++) {
			p[i] = kmem_cache_alloc(kc, 0);
			assert_non_null(p[i]);
			if (U(p[i]) % want)
				print_error("%s: object %p not %zu-aligned\n",
					    name, p[i], want);
			assert_int_equal(U(p[i]) % want, 0);
			/* No object straddles a page. */
			assert_true(same_page(p[i], (char *)p[i] +
					      cases[k].size - 1));
		}
		for (i = 0; i < 300; i++)
			kmem_cache_free(kc, p[i]);
		st_destroy(kc);
	}
}

/* The objects of one small-object slab lie in one page, the next slab is
 * another page. */
static void test_small_slab_one_page(void **state)
{
	struct kmem_cache *kc = st_create("slab_page", 100, 0, KMC_NOMAG,
					  NULL);
	struct kmem_cache_stats st = st_stats(kc);
	size_t n = st.objs_per_slab, i;
	void **p = calloc(n + 1, sizeof(void *));

	(void)state;
	assert_non_null(p);
	assert_true(n >= 2);
	for (i = 0; i < n; i++) {
		assert_non_null(p[i] = kmem_cache_alloc(kc, 0));
		assert_true(same_page(p[i], p[0]));
		assert_true(same_page((char *)p[i] + 99, p[0]));
	}
	st = st_stats(kc);
	assert_stat(st, slabs, 1);
	assert_stat(st, slabs_full, 1);
	assert_stat(st, objs_free_in_slabs, 0);
	assert_non_null(p[n] = kmem_cache_alloc(kc, 0));
	assert_false(same_page(p[n], p[0]));
	st = st_stats(kc);
	assert_stat(st, slabs, 2);
	assert_stat(st, slab_grows, 2);
	assert_cache_consistent(st);
	for (i = 0; i <= n; i++)
		kmem_cache_free(kc, p[i]);
	free(p);
	st_destroy(kc);
}

/* Which caches use bufctl slabs: > 512 bytes, < pointer size, NOTOUCH; and
 * their slab size round_up(8 * obj_size, page). */
static void test_bufctl_selection(void **state)
{
	static const struct {
		size_t size;
		int flags;
		int bufctl;
	} cases[] = {
		{ 512, 0, 0 }, { 513, 0, 1 }, { 1024, 0, 1 }, { 1000, 0, 1 },
		{ 4096, 0, 1 }, { 8, 0, 0 }, { 4, 0, 1 }, { 1, 0, 1 },
		{ 64, KMC_NOTOUCH, 1 }, { 512, KMC_NOTOUCH, 1 },
	};
	size_t k, ps = st_page();

	(void)state;
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		char name[32];
		struct kmem_cache *kc;
		struct kmem_cache_stats st;
		void *p;

		snprintf(name, sizeof(name), "bufsel_%zu_%d", cases[k].size,
			 cases[k].flags);
		kc = st_create(name, cases[k].size, 0, cases[k].flags, NULL);
		st = st_stats(kc);
		if ((int)st.uses_bufctl != cases[k].bufctl)
			print_error("%s: uses_bufctl %d, expected %d\n", name,
				    st.uses_bufctl, cases[k].bufctl);
		assert_int_equal(st.uses_bufctl, cases[k].bufctl);
		if (cases[k].bufctl) {
			size_t want = (8 * cases[k].size + ps - 1) / ps * ps;

			assert_stat(st, slab_size, want);
			assert_true(st.objs_per_slab >= 8 ||
				    cases[k].size < sizeof(void *));
			assert_true(st.objs_per_slab * cases[k].size <=
				    st.slab_size);
			assert_stat(st, hash_lists, 64);
		} else {
			assert_stat(st, slab_size, ps);
		}
		assert_non_null(p = kmem_cache_alloc(kc, 0));
		st = st_stats(kc);
		if (cases[k].bufctl)
			assert_stat(st, hash_items, 1);
		assert_cache_consistent(st);
		kmem_cache_free(kc, p);
		st_destroy(kc);
	}
}

/* Exact bufctl geometry for 1024 and NOTOUCH 64. */
static void test_bufctl_geometry(void **state)
{
	struct kmem_cache *a = st_create("geo_1024", 1024, 0, 0, NULL);
	struct kmem_cache *b = st_create("geo_nt64", 64, 0, KMC_NOTOUCH, NULL);
	struct kmem_cache_stats sa = st_stats(a), sb = st_stats(b);

	(void)state;
	if (st_page() != 4096)
		skip();
	assert_stat(sa, slab_size, 8192);
	assert_stat(sa, objs_per_slab, 8);
	assert_stat(sb, slab_size, 4096);
	assert_stat(sb, objs_per_slab, 64);
	st_destroy(a);
	st_destroy(b);
}

/* A source that is not page-aligned cannot hold small-object slabs (the
 * header is found by rounding down to the page): bufctl slabs instead. */
static void test_unaligned_source_uses_bufctl(void **state)
{
	struct st_region r;
	struct arena *a = st_region_arena(&r, "q16_src", 1 << 20,
					  PROT_READ | PROT_WRITE, 16, 0);
	struct kmem_cache *kc = st_create("slab_q16", 64, 0, 0, a);
	void *p[100];
	int i;

	(void)state;
	assert_stat(st_stats(kc), uses_bufctl, 1);
	for (i = 0; i < 100; i++) {
		assert_non_null(p[i] = kmem_cache_alloc(kc, 0));
		assert_true(U(p[i]) >= U(r.base) &&
			    U(p[i]) + 64 <= U(r.base) + r.size);
		memset(p[i], i, 64);
	}
	for (i = 0; i < 100; i++)
		kmem_cache_free(kc, p[i]);
	st_destroy(kc);
	assert_int_equal(st_arena_stats(a).allocated, 0);
	st_region_destroy(&r);
}

/* ---- the bufctl hash ------------------------------------------------------------ */

/* 100,000 live objects: the hash grows to the first power of two with
 * items <= 13/20 of the lists (2^18 = 262144: 12 doublings from 64) and
 * counts live objects only: back to 0 once all are freed (NOMAG: freed
 * objects go straight back to their slabs). */
static void test_hash_growth_100k(void **state)
{
	enum { N = 100000 };
	struct kmem_cache *kc = st_create("hash_100k", 64, 0,
					  KMC_NOTOUCH | KMC_NOMAG, NULL);
	struct kmem_cache_stats st;
	void **p = calloc(N, sizeof(void *));
	size_t i;

	(void)state;
	assert_non_null(p);
	st = st_stats(kc);
	assert_stat(st, hash_lists, 64);
	assert_stat(st, hash_resizes, 0);
	for (i = 0; i < N; i++) {
		p[i] = kmem_cache_alloc(kc, MEM_ATOMIC);
		assert_non_null(p[i]);
		if (i == 40 || i == 41) {
			/* 42 items > 13/20 * 64 = 41.6: the first doubling;
			 * 41 items do not exceed it. */
			st = st_stats(kc);
			assert_stat(st, hash_items, i + 1);
			assert_stat(st, hash_lists, i == 40 ? 64 : 128);
		}
	}
	st = st_stats(kc);
	assert_stat(st, hash_items, N);
	assert_true(st_is_pow2(st.hash_lists));
	assert_true(st.hash_lists * 13 >= (uint64_t)N * 20);
	assert_stat(st, hash_lists, 262144);
	assert_stat(st, hash_resizes, 12);
	assert_stat(st, objs_in_slabs, N);
	assert_stat(st, slabs, (N + 63) / 64);
	assert_cache_consistent(st);

	/* Distinct addresses. */
	qsort(p, N, sizeof(void *), st_cmp_uptr);
	for (i = 1; i < N; i++)
		assert_true(U(p[i]) >= U(p[i - 1]) + 64);

	for (i = 0; i < N; i++)
		kmem_cache_free(kc, p[i]);
	st = st_stats(kc);
	assert_stat(st, hash_items, 0);
	assert_stat(st, objs_in_slabs, 0);
	assert_stat(st, live_objs, 0);
	assert_stat(st, frees, N);
	assert_cache_consistent(st);
	free(p);
	st_destroy(kc);
}

/* With magazines, hash_items counts objects out of slabs, including those
 * in magazines. */
static void test_hash_items_with_magazines(void **state)
{
	enum { N = 3000 };
	struct kmem_cache *kc = st_create("hash_mags", 1024, 0, 0, NULL);
	struct kmem_cache_stats st;
	void **p = calloc(N, sizeof(void *));
	int i;

	(void)state;
	assert_non_null(p);
	for (i = 0; i < N; i++)
		assert_non_null(p[i] = kmem_cache_alloc(kc, 0));
	for (i = 0; i < N; i += 2)
		kmem_cache_free(kc, p[i]);
	st = st_stats(kc);
	assert_stat(st, uses_bufctl, 1);
	assert_stat(st, hash_items, N);
	assert_stat(st, live_objs, N / 2);
	assert_stat(st, objs_in_mags, N / 2);
	assert_cache_consistent(st);
	assert_true(st.hash_resizes > 0);
	for (i = 1; i < N; i += 2)
		kmem_cache_free(kc, p[i]);
	st = st_stats(kc);
	assert_cache_consistent(st);
	free(p);
	st_destroy(kc);
}

/* ---- slab lists ------------------------------------------------------------------ */

static void test_slab_list_transitions(void **state)
{
	struct kmem_cache *kc = st_create("slab_lists", 256, 0, KMC_NOMAG,
					  NULL);
	struct kmem_cache_stats st = st_stats(kc);
	size_t n = st.objs_per_slab, i;
	void **p = calloc(n + 1, sizeof(void *));

	(void)state;
	assert_non_null(p);
	assert_true(n >= 2);
	assert_non_null(p[0] = kmem_cache_alloc(kc, 0));
	st = st_stats(kc);
	assert_stat(st, slabs_partial, 1);
	assert_stat(st, slabs_full, 0);
	assert_stat(st, slabs_empty, 0);
	for (i = 1; i < n; i++)
		assert_non_null(p[i] = kmem_cache_alloc(kc, 0));
	st = st_stats(kc);
	assert_stat(st, slabs_full, 1);
	assert_stat(st, slabs_partial, 0);
	assert_non_null(p[n] = kmem_cache_alloc(kc, 0));
	st = st_stats(kc);
	assert_stat(st, slabs_full, 1);
	assert_stat(st, slabs_partial, 1);
	/* The second slab's only object back: that slab is empty. */
	kmem_cache_free(kc, p[n]);
	st = st_stats(kc);
	assert_stat(st, slabs_full, 1);
	assert_stat(st, slabs_partial, 0);
	assert_stat(st, slabs_empty, 1);
	assert_stat(st, slabs, 2);
	/* One from the full slab: partial. */
	kmem_cache_free(kc, p[0]);
	st = st_stats(kc);
	assert_stat(st, slabs_full, 0);
	assert_stat(st, slabs_partial, 1);
	assert_stat(st, slabs_empty, 1);
	/* A new object comes from the partial slab, not the empty one. */
	assert_non_null(p[0] = kmem_cache_alloc(kc, 0));
	assert_true(same_page(p[0], p[1]));
	st = st_stats(kc);
	assert_stat(st, slabs_full, 1);
	assert_stat(st, slabs_empty, 1);
	assert_stat(st, slab_grows, 2);
	assert_cache_consistent(st);
	for (i = 0; i < n; i++)
		kmem_cache_free(kc, p[i]);
	st = st_stats(kc);
	assert_stat(st, slabs_empty, 2);
	assert_stat(st, objs_in_slabs, 0);
	free(p);
	st_destroy(kc);
}

/* ---- reap ----------------------------------------------------------------------- */

/* Fills nslabs slabs of a fresh NOMAG cache, frees everything. */
static void fill_and_free(struct kmem_cache *kc, size_t nslabs)
{
	size_t n = st_stats(kc).objs_per_slab * nslabs, i;
	void **p = calloc(n, sizeof(void *));

	assert_non_null(p);
	for (i = 0; i < n; i++)
		assert_non_null(p[i] = kmem_cache_alloc(kc, 0));
	assert_stat(st_stats(kc), slabs, nslabs);
	for (i = 0; i < n; i++)
		kmem_cache_free(kc, p[i]);
	free(p);
}

/* reap gives back every empty slab but reap_keep (default 1); with 0, all.
 * The source arena sees exactly the slabs the cache holds. */
static void test_reap_keep(void **state)
{
	size_t ps = st_page();
	struct st_region r;
	struct arena *a = st_region_arena(&r, "reap_src", 64 * ps,
					  PROT_READ | PROT_WRITE, ps, 0);
	struct kmem_cache *kc = st_create("slab_reap", 256, 0, KMC_NOMAG, a);
	struct kmem_cache_stats st;
	size_t got;

	(void)state;
	fill_and_free(kc, 5);
	st = st_stats(kc);
	assert_stat(st, slabs, 5);
	assert_stat(st, slabs_empty, 5);
	assert_int_equal(st_arena_stats(a).allocated, 5 * ps);

	got = kmem_cache_reap(kc);
	st = st_stats(kc);
	assert_int_equal(got, 4 * ps);
	assert_stat(st, slabs, 1);
	assert_stat(st, slabs_empty, 1);
	assert_stat(st, slab_releases, 4);
	assert_stat(st, reaps, 1);
	assert_int_equal(st_arena_stats(a).allocated, ps);
	/* Nothing more to give while keeping one. */
	assert_int_equal(kmem_cache_reap(kc), 0);
	assert_stat(st_stats(kc), slabs, 1);

	assert_int_equal(kmem_cache_set_reap_keep(kc, 0), 0);
	got = kmem_cache_reap(kc);
	assert_int_equal(got, ps);
	st = st_stats(kc);
	assert_stat(st, slabs, 0);
	assert_int_equal(st_arena_stats(a).allocated, 0);
	assert_cache_consistent(st);

	/* reap_keep 3 keeps three. */
	assert_int_equal(kmem_cache_set_reap_keep(kc, 3), 0);
	fill_and_free(kc, 6);
	assert_int_equal(kmem_cache_reap(kc), 3 * ps);
	assert_stat(st_stats(kc), slabs, 3);
	assert_int_equal(st_arena_stats(a).allocated, 3 * ps);
	st_destroy(kc);
	assert_int_equal(st_arena_stats(a).allocated, 0);
	assert_arena_check(a);
	st_region_destroy(&r);
}

/* Partial and full slabs are never reaped. */
static void test_reap_keeps_used_slabs(void **state)
{
	size_t ps = st_page();
	struct st_region r;
	struct arena *a = st_region_arena(&r, "reap_src2", 64 * ps,
					  PROT_READ | PROT_WRITE, ps, 0);
	struct kmem_cache *kc = st_create("slab_reap2", 128, 0, KMC_NOMAG, a);
	size_t n = st_stats(kc).objs_per_slab, i;
	void **p = calloc(4 * n + 1, sizeof(void *));
	struct kmem_cache_stats st;

	(void)state;
	assert_non_null(p);
	assert_int_equal(kmem_cache_set_reap_keep(kc, 0), 0);
	/* Slabs 1-4 full, slab 5 with one object. */
	for (i = 0; i < 4 * n + 1; i++)
		assert_non_null(p[i] = kmem_cache_alloc(kc, 0));
	/* Empty slabs 1 and 2; slab 3 loses one object (partial). */
	for (i = 0; i < 2 * n + 1; i++)
		kmem_cache_free(kc, p[i]);
	st = st_stats(kc);
	assert_stat(st, slabs, 5);
	assert_stat(st, slabs_empty, 2);
	assert_stat(st, slabs_partial, 2);
	assert_stat(st, slabs_full, 1);
	assert_int_equal(kmem_cache_reap(kc), 2 * ps);
	st = st_stats(kc);
	assert_stat(st, slabs, 3);
	assert_stat(st, slabs_empty, 0);
	assert_int_equal(st_arena_stats(a).allocated, 3 * ps);
	assert_cache_consistent(st);
	for (i = 2 * n + 1; i < 4 * n + 1; i++)
		kmem_cache_free(kc, p[i]);
	free(p);
	st_destroy(kc);
	st_region_destroy(&r);
}

/* Running out of a bounded source: NULL, ENOMEM, no report; everything
 * that fit is usable and comes back. */
static void test_enomem_silent(void **state)
{
	size_t ps = st_page();
	int flags[2] = { KMC_NOMAG, 0 };
	int k;

	(void)state;
	for (k = 0; k < 2; k++) {
		struct st_region r;
		struct arena *a = st_region_arena(&r, "enomem_src", 4 * ps,
						  PROT_READ | PROT_WRITE, ps,
						  0);
		struct kmem_cache *kc = st_create("slab_enomem", 512, 0,
						  flags[k], a);
		size_t n = 4 * st_stats(kc).objs_per_slab, i;
		void **p = calloc(n + 1, sizeof(void *));
		void *q;

		assert_non_null(p);
		for (i = 0; i < n; i++)
			assert_non_null(p[i] = kmem_cache_alloc(kc,
								MEM_ATOMIC));
		st_reset_errors();
		q = kmem_cache_alloc(kc, MEM_ATOMIC);
		assert_null(q);
		assert_int_equal(errno, ENOMEM);
		assert_no_error();
		/* 0 (neither flag) is MEM_ATOMIC. */
		assert_null(kmem_cache_alloc(kc, 0));
		/* On a bounded arena MEM_WAIT would wait; not here. */
		for (i = 0; i < n; i++)
			kmem_cache_free(kc, p[i]);
		assert_non_null(q = kmem_cache_alloc(kc, MEM_ATOMIC));
		kmem_cache_free(kc, q);
		free(p);
		st_destroy(kc);
		st_region_destroy(&r);
	}
}

/* ---- ctor / dtor ----------------------------------------------------------------- */

static struct kmem_cache *mk_counted(const char *name, size_t size, int flags,
				     struct st_counts *c)
{
	struct kmem_cache *kc;

	memset(c, 0, sizeof(*c));
	c->obj_size = size;
	kc = kmem_cache_create(name, size, 0, flags, NULL, st_ctor, st_dtor,
			       c);
	assert_non_null(kc);
	return kc;
}

/* A failing ctor fails the allocation; the object goes back to its slab
 * unconstructed (no dtor), ctor_failures counts it, nothing leaks. */
static void test_ctor_failure(void **state)
{
	int flags[2] = { 0, KMC_NOMAG };
	int k;

	(void)state;
	for (k = 0; k < 2; k++) {
		struct st_counts c;
		struct kmem_cache *kc = mk_counted("slab_ctorfail", 64,
						   flags[k], &c);
		struct kmem_cache_stats st;
		void *p;

		atomic_store(&c.fail_ctor, 1);
		errno = 0;
		p = kmem_cache_alloc(kc, MEM_ATOMIC);
		assert_null(p);
		if (errno != ENOMEM)
			print_error("note: ctor failure left errno %d (%s)\n",
				    errno, strerror(errno));
		st = st_stats(kc);
		assert_stat(st, ctor_failures, 1);
		assert_stat(st, live_objs, 0);
		assert_stat(st, objs_in_slabs, 0);
		assert_stat(st, objs_in_mags, 0);
		assert_cache_consistent(st);
		assert_int_equal(atomic_load(&c.dtor), 0);

		atomic_store(&c.fail_ctor, 0);
		assert_non_null(p = kmem_cache_alloc(kc, MEM_ATOMIC));
		assert_int_equal(atomic_load(&c.ctor), 1);
		kmem_cache_free(kc, p);
		st_destroy(kc);
		assert_int_equal(atomic_load(&c.dtor), 1);
	}
}

/* Objects in magazines are already constructed: with the ctor failing, an
 * alloc served by a magazine succeeds, the next one (from a slab) fails. */
static void test_ctor_failure_magazine_served(void **state)
{
	struct st_counts c;
	struct kmem_cache *kc = mk_counted("slab_ctorfail2", 64, 0, &c);
	void *p, *q;

	(void)state;
	assert_non_null(p = kmem_cache_alloc(kc, 0));
	kmem_cache_free(kc, p);
	atomic_store(&c.fail_ctor, 1);
	assert_non_null(q = kmem_cache_alloc(kc, 0));
	assert_ptr_equal(q, p);
	assert_null(kmem_cache_alloc(kc, 0));
	assert_stat(st_stats(kc), ctor_failures, 1);
	atomic_store(&c.fail_ctor, 0);
	kmem_cache_free(kc, q);
	st_destroy(kc);
	assert_int_equal(atomic_load(&c.ctor), 1);
	assert_int_equal(atomic_load(&c.dtor), 1);
}

/* ctor and dtor get the cache's priv and the allocation's flags. */
static int priv_ctor(void *obj, void *priv, int flags)
{
	int *seen = priv;

	(void)obj;
	seen[0]++;
	seen[1] = flags;
	return 0;
}

static void priv_dtor(void *obj, void *priv)
{
	int *seen = priv;

	(void)obj;
	seen[2]++;
}

static void test_ctor_priv_and_flags(void **state)
{
	int seen[3] = { 0, -1, 0 };
	struct kmem_cache *kc = kmem_cache_create("slab_priv", 40, 0,
						  KMC_NOMAG, NULL, priv_ctor,
						  priv_dtor, seen);
	void *p;

	(void)state;
	assert_non_null(kc);
	assert_non_null(p = kmem_cache_alloc(kc, MEM_ATOMIC));
	assert_int_equal(seen[0], 1);
	assert_int_equal(seen[1] & (MEM_ATOMIC | MEM_WAIT), MEM_ATOMIC);
	kmem_cache_free(kc, p);
	assert_int_equal(seen[2], 1);
	assert_non_null(p = kmem_cache_alloc(kc, MEM_WAIT));
	assert_int_equal(seen[1] & (MEM_ATOMIC | MEM_WAIT), MEM_WAIT);
	kmem_cache_free(kc, p);
	st_destroy(kc);
	assert_int_equal(seen[0], seen[2]);
}

/* ---- destroy ---------------------------------------------------------------------- */

/* Destroy with live objects: -1, EBUSY, one message naming the cache,
 * nothing freed (no dtor, counts unchanged), the cache keeps working. */
static void test_destroy_busy(void **state)
{
	int flags[3] = { 0, KMC_NOMAG, KMC_NOTOUCH };
	int k;

	(void)state;
	for (k = 0; k < 3; k++) {
		struct st_counts c;
		struct kmem_cache *kc = mk_counted("slab_busy", 64, flags[k],
						   &c);
		struct kmem_cache_stats before, after;
		void *p[3], *q;

		c.obj_size = flags[k] & KMC_NOTOUCH ? 0 : 64;
		assert_non_null(p[0] = kmem_cache_alloc(kc, 0));
		assert_non_null(p[1] = kmem_cache_alloc(kc, 0));
		assert_non_null(p[2] = kmem_cache_alloc(kc, 0));
		kmem_cache_free(kc, p[2]);
		before = st_stats(kc);
		st_reset_errors();
		assert_int_equal(kmem_cache_destroy(kc), -1);
		assert_one_error(EBUSY, "slab_busy");
		after = st_stats(kc);
		assert_stat(after, live_objs, 2);
		assert_stat(after, objs_in_slabs, before.objs_in_slabs);
		assert_stat(after, objs_in_mags, before.objs_in_mags);
		assert_stat(after, slabs, before.slabs);
		assert_int_equal(atomic_load(&c.dtor),
				 (flags[k] & KMC_NOMAG) ? 1 : 0);

		/* Still usable. */
		assert_non_null(q = kmem_cache_alloc(kc, 0));
		kmem_cache_free(kc, q);
		kmem_cache_free(kc, p[0]);
		st_reset_errors();
		assert_int_equal(kmem_cache_destroy(kc), -1);
		assert_one_error(EBUSY, "slab_busy");
		kmem_cache_free(kc, p[1]);
		st_reset_errors();
		st_destroy(kc);
		assert_no_error();
		assert_int_equal(atomic_load(&c.dtor), atomic_load(&c.ctor));
	}
}

/* Destroy gives every slab back to the source. */
static void test_destroy_returns_memory(void **state)
{
	size_t ps = st_page();
	struct st_region r;
	struct arena *a = st_region_arena(&r, "destroy_src", 256 * ps,
					  PROT_READ | PROT_WRITE, ps, 0);
	static const struct { size_t size; int flags; } cases[] = {
		{ 32, 0 }, { 32, KMC_NOMAG }, { 700, 0 }, { 64, KMC_NOTOUCH },
		{ 2048, KMC_NOMAG },
	};
	size_t k;
	int i;

	(void)state;
	for (k = 0; k < sizeof(cases) / sizeof(cases[0]); k++) {
		struct kmem_cache *kc = st_create("slab_destroy_mem",
						  cases[k].size, 0,
						  cases[k].flags, a);
		struct kmem_cache_stats st;
		void *p[200];

		for (i = 0; i < 200; i++) {
			assert_non_null(p[i] = kmem_cache_alloc(kc, 0));
			assert_true(U(p[i]) >= U(r.base) &&
				    U(p[i]) + cases[k].size <=
				    U(r.base) + r.size);
		}
		st = st_stats(kc);
		assert_int_equal(st_arena_stats(a).allocated,
				 st.slabs * st.slab_size);
		for (i = 0; i < 200; i++)
			kmem_cache_free(kc, p[i]);
		st_destroy(kc);
		assert_int_equal(st_arena_stats(a).allocated, 0);
		assert_arena_check(a);
	}
	st_region_destroy(&r);
}

/* Many caches side by side, each with its own objects. */
static void test_many_caches(void **state)
{
	enum { NC = 40, NO = 50 };
	struct kmem_cache *kc[NC];
	static unsigned char *p[NC][NO];
	int i, j;

	(void)state;
	for (i = 0; i < NC; i++) {
		char name[32];

		snprintf(name, sizeof(name), "many_%d", i);
		kc[i] = st_create(name, 8 + (size_t)i * 53, 0,
				  i % 3 == 0 ? KMC_NOMAG : 0, NULL);
	}
	for (j = 0; j < NO; j++)
		for (i = 0; i < NC; i++) {
			assert_non_null(p[i][j] = kmem_cache_alloc(kc[i], 0));
			memset(p[i][j], i, 8 + (size_t)i * 53);
		}
	for (j = 0; j < NO; j++)
		for (i = 0; i < NC; i++) {
			size_t n = 8 + (size_t)i * 53, b;

			for (b = 0; b < n; b++)
				if (p[i][j][b] != (unsigned char)i)
					fail_msg("cache %d object %d byte %zu "
						 "overwritten", i, j, b);
			kmem_cache_free(kc[i], p[i][j]);
		}
	for (i = 0; i < NC; i++)
		st_destroy(kc[i]);
}

struct find_arg {
	const char *want[2];
	int found[2];
	int total;
};

static void find_cb(struct kmem_cache *kc, void *arg)
{
	struct find_arg *f = arg;
	int i;

	f->total++;
	for (i = 0; i < 2; i++)
		if (strcmp(kmem_cache_name(kc), f->want[i]) == 0)
			f->found[i]++;
}

static void test_for_each(void **state)
{
	struct kmem_cache *a = st_create("each_one", 16, 0, 0, NULL);
	struct kmem_cache *b = st_create("each_two", 600, 0, 0, NULL);
	struct find_arg f = { { "each_one", "each_two" }, { 0, 0 }, 0 };

	(void)state;
	kmem_cache_for_each(find_cb, &f);
	assert_int_equal(f.found[0], 1);
	assert_int_equal(f.found[1], 1);
	assert_true(f.total >= 2);
	st_destroy(a);
	memset(&f.found, 0, sizeof(f.found));
	kmem_cache_for_each(find_cb, &f);
	assert_int_equal(f.found[0], 0);
	assert_int_equal(f.found[1], 1);
	st_destroy(b);
}

/* ---- bad input --------------------------------------------------------------------- */

static void test_bad_obj_size(void **state)
{
	(void)state;
	st_reset_errors();
	assert_null(kmem_cache_create("bad_size0", 0, 0, 0, NULL, NULL, NULL,
				      NULL));
	assert_one_error(EINVAL, "bad_size0");
}

static void test_bad_align(void **state)
{
	size_t bad[] = { 3, 6, 24, 100, 65535 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		st_reset_errors();
		assert_null(kmem_cache_create("bad_align", 64, bad[i], 0,
					      NULL, NULL, NULL, NULL));
		assert_one_error(EINVAL, "bad_align");
	}
}

static void test_bad_policy(void **state)
{
	struct kmem_cache *kc = st_create("bad_policy", 64, 0, 0, NULL);
	const char *good[] = { "illumos", "uma", "adaptive", "akaros" };
	size_t i;

	(void)state;
	st_reset_errors();
	assert_int_equal(kmem_cache_set_policy(kc, "nosuchpolicy"), -1);
	assert_one_error(EINVAL, NULL);
	assert_string_equal(st_stats(kc).policy, "akaros");
	st_reset_errors();
	assert_int_equal(kmem_cache_set_policy(kc, ""), -1);
	assert_one_error(EINVAL, NULL);
	st_reset_errors();
	assert_int_equal(kmem_cache_set_policy(kc, NULL), -1);
	assert_one_error(EINVAL, NULL);
	for (i = 0; i < 4; i++) {
		assert_int_equal(kmem_cache_set_policy(kc, good[i]), 0);
		assert_string_equal(st_stats(kc).policy, good[i]);
	}
	st_destroy(kc);
}

/* A NULL cache is refused with EINVAL everywhere, never a crash. */
static void test_null_cache(void **state)
{
	struct kmem_cache_stats st;
	unsigned int ms[2];
	int dummy;

	(void)state;
	st_reset_errors();
	assert_null(kmem_cache_alloc(NULL, 0));
	assert_one_error(EINVAL, NULL);
	st_reset_errors();
	assert_null(kmem_cache_zalloc(NULL, 0));
	assert_one_error(EINVAL, NULL);
	st_reset_errors();
	kmem_cache_free(NULL, &dummy);
	assert_one_error(EINVAL, NULL);
	st_reset_errors();
	assert_int_equal(kmem_cache_destroy(NULL), -1);
	assert_one_error(EINVAL, NULL);
	st_reset_errors();
	assert_int_equal(kmem_cache_stats(NULL, &st), -1);
	assert_int_equal(errno, EINVAL);
	st_reset_errors();
	assert_int_equal(kmem_cache_set_resize_threshold(NULL, 1), -1);
	assert_one_error(EINVAL, NULL);
	st_reset_errors();
	assert_int_equal(kmem_cache_set_resize_timeout_ns(NULL, 1), -1);
	assert_one_error(EINVAL, NULL);
	st_reset_errors();
	assert_int_equal(kmem_cache_set_policy(NULL, "akaros"), -1);
	assert_one_error(EINVAL, NULL);
	st_reset_errors();
	assert_int_equal(kmem_cache_set_reap_keep(NULL, 1), -1);
	assert_one_error(EINVAL, NULL);
	st_reset_errors();
	assert_int_equal(kmem_cache_reap(NULL), 0);
	assert_int_equal(kmem_cache_pcc_magsizes(NULL, ms, 2), 0);
}

/* ---- debug checks ------------------------------------------------------------------ */

struct dbg_case {
	size_t size;
	int flags;
};

static const struct dbg_case dbg_cases[] = {
	{ 64, 0 }, { 64, KMC_NOMAG }, { 1024, 0 }, { 1024, KMC_NOMAG },
};

#define NR_DBG (sizeof(dbg_cases) / sizeof(dbg_cases[0]))

/* Double free: caught (message names the cache and the address), counted,
 * and the object is not handed out twice afterwards. */
static void test_debug_double_free(void **state)
{
	size_t k;
	int i;

	(void)state;
	for (k = 0; k < NR_DBG; k++) {
		struct kmem_cache *kc = st_create("dbg_dfree", dbg_cases[k].size,
						  0, dbg_cases[k].flags |
						  KMC_DEBUG, NULL);
		struct kmem_cache_stats st;
		void *p, *a, *b, *more[30];

		assert_non_null(p = kmem_cache_alloc(kc, 0));
		kmem_cache_free(kc, p);
		st_reset_errors();
		kmem_cache_free(kc, p);
		assert_one_error(EINVAL, "dbg_dfree");
		assert_msg_has_addr(p);
		st = st_stats(kc);
		assert_stat(st, debug_errors, 1);
		assert_stat(st, frees, 1);
		assert_stat(st, live_objs, 0);
		assert_cache_consistent(st);
		/* Not handed out twice. */
		assert_non_null(a = kmem_cache_alloc(kc, 0));
		assert_non_null(b = kmem_cache_alloc(kc, 0));
		assert_ptr_not_equal(a, b);

		/* Caught also once p sits deep in the depot. */
		kmem_cache_free(kc, a);
		for (i = 0; i < 30; i++)
			assert_non_null(more[i] = kmem_cache_alloc(kc, 0));
		for (i = 0; i < 30; i++)
			kmem_cache_free(kc, more[i]);
		st_reset_errors();
		kmem_cache_free(kc, a);
		assert_one_error(EINVAL, "dbg_dfree");
		assert_msg_has_addr(a);
		assert_stat(st_stats(kc), debug_errors, 2);
		kmem_cache_free(kc, b);
		st = st_stats(kc);
		assert_stat(st, live_objs, 0);
		assert_cache_consistent(st);
		st_reset_errors();
		st_destroy(kc);
		assert_no_error();
	}
}

/* magslab_set_debug(1) makes later caches debug caches without the flag. */
static void test_debug_global_setting(void **state)
{
	struct kmem_cache *kc;
	void *p;

	(void)state;
	assert_int_equal(magslab_set_debug(1), 0);
	kc = st_create("dbg_global", 48, 0, 0, NULL);
	assert_int_equal(magslab_set_debug(0), 0);
	assert_non_null(p = kmem_cache_alloc(kc, 0));
	kmem_cache_free(kc, p);
	st_reset_errors();
	kmem_cache_free(kc, p);
	assert_one_error(EINVAL, "dbg_global");
	assert_msg_has_addr(p);
	assert_stat(st_stats(kc), debug_errors, 1);
	st_destroy(kc);
}

/* An object of cache A freed to cache B. */
static void test_debug_wrong_cache(void **state)
{
	size_t k;

	(void)state;
	for (k = 0; k < NR_DBG; k++) {
		struct kmem_cache *a = st_create("dbg_wrong_a",
						 dbg_cases[k].size, 0,
						 dbg_cases[k].flags | KMC_DEBUG,
						 NULL);
		struct kmem_cache *b = st_create("dbg_wrong_b",
						 dbg_cases[k].size, 0,
						 dbg_cases[k].flags | KMC_DEBUG,
						 NULL);
		struct kmem_cache_stats sa, sb;
		void *p, *q;

		assert_non_null(p = kmem_cache_alloc(a, 0));
		assert_non_null(q = kmem_cache_alloc(b, 0));
		st_reset_errors();
		kmem_cache_free(b, p);
		assert_one_error(EINVAL, "dbg_wrong_b");
		assert_msg_has_addr(p);
		/* A small-object slab knows its cache: the message can name
		 * the owner too. */
		if (dbg_cases[k].size <= 512)
			assert_true(st_msg_names("dbg_wrong_a"));
		sa = st_stats(a);
		sb = st_stats(b);
		assert_stat(sb, debug_errors, 1);
		assert_stat(sb, frees, 0);
		assert_stat(sb, live_objs, 1);
		assert_stat(sa, live_objs, 1);
		/* p is still A's; B hands out q's neighbours, never p. */
		kmem_cache_free(b, q);
		assert_non_null(q = kmem_cache_alloc(b, 0));
		assert_ptr_not_equal(q, p);
		kmem_cache_free(b, q);
		kmem_cache_free(a, p);
		st_reset_errors();
		st_destroy(a);
		st_destroy(b);
		assert_no_error();
	}
}

/* Pointers that never came from the cache: malloc'd, on the stack, in a
 * mapping of ours, and an interior pointer of a real object. */
static void test_debug_foreign_pointer(void **state)
{
	size_t k;

	(void)state;
	for (k = 0; k < NR_DBG; k++) {
		struct kmem_cache *kc = st_create("dbg_foreign",
						  dbg_cases[k].size, 0,
						  dbg_cases[k].flags |
						  KMC_DEBUG, NULL);
		char stackbuf[128];
		void *heap = malloc(256);
		struct st_region r;
		void *obj;
		int i;

		assert_non_null(heap);
		st_region_map(&r, 4 * st_page(), PROT_READ | PROT_WRITE);
		assert_non_null(obj = kmem_cache_alloc(kc, 0));
		void *bad[4] = { heap, stackbuf + 64,
				 (char *)r.base + st_page() + 128,
				 (char *)obj + 8 };
		const char *what[4] = { "malloc", "stack", "mapping",
					"interior" };

		for (i = 0; i < 4; i++) {
			st_reset_errors();
			kmem_cache_free(kc, bad[i]);
			if (st_errors() != 1)
				print_error("%zu-byte cache %#x: %s pointer "
					    "%p not caught\n",
					    dbg_cases[k].size,
					    dbg_cases[k].flags, what[i],
					    bad[i]);
			assert_one_error(EINVAL, "dbg_foreign");
			assert_msg_has_addr(bad[i]);
		}
		assert_stat(st_stats(kc), debug_errors, 4);
		assert_stat(st_stats(kc), live_objs, 1);
		kmem_cache_free(kc, obj);
		st_destroy(kc);
		free(heap);
		munmap(r.base, r.size);
	}
}

/* Writing into a freed object is reported when it is handed out again.
 * Every configuration is tried before the test fails, so a failure lists
 * all the configurations that missed the write. */
static void test_debug_use_after_free(void **state)
{
	size_t k;
	int missed = 0;

	(void)state;
	for (k = 0; k < NR_DBG; k++) {
		size_t sz = dbg_cases[k].size;
		struct kmem_cache *kc = st_create("dbg_uaf", sz, 0,
						  dbg_cases[k].flags |
						  KMC_DEBUG, NULL);
		unsigned char *p, *q;
		bool ok;

		assert_non_null(p = kmem_cache_alloc(kc, 0));
		memset(p, 0, sz);
		kmem_cache_free(kc, p);
		p[sz / 2] ^= 0x5a;        /* the write after free */
		st_reset_errors();
		q = kmem_cache_alloc(kc, 0);
		ok = st_errors() >= 1 && st_msg_names("dbg_uaf") &&
		     (strcasestr(st_err_msg, "use after free") ||
		      strcasestr(st_err_msg, "modified after free")) &&
		     st_stats(kc).debug_errors >= 1;
		if (!ok) {
			print_error("%zu-byte cache, flags %#x: write after "
				    "free at %p: %lu report(s), last \"%s\" "
				    "(alloc returned %p)\n", sz,
				    dbg_cases[k].flags, (void *)(p + sz / 2),
				    st_errors(), st_err_msg, (void *)q);
			missed++;
		}
		if (q)
			kmem_cache_free(kc, q);
		assert_stat(st_stats(kc), live_objs, 0);
		st_reset_errors();
		st_destroy(kc);
	}
	assert_int_equal(missed, 0);
}

/* A clean debug cache reports nothing over a long run. */
static void test_debug_clean_run(void **state)
{
	enum { N = 500 };
	struct kmem_cache *kc = st_create("dbg_clean", 96, 0, KMC_DEBUG, NULL);
	void *p[N];
	struct st_rng r;
	int i, round;

	(void)state;
	st_rng_init(&r, st_seed(42));
	st_reset_errors();
	for (round = 0; round < 10; round++) {
		for (i = 0; i < N; i++) {
			assert_non_null(p[i] = kmem_cache_alloc(kc, 0));
			memset(p[i], (int)st_below(&r, 256), 96);
		}
		for (i = 0; i < N; i++)
			kmem_cache_free(kc, p[(i * 7) % N]);
	}
	assert_no_error();
	assert_stat(st_stats(kc), debug_errors, 0);
	st_destroy(kc);
}

/* NOTOUCH: the cache never touches object memory, even over a source whose
 * memory cannot be touched at all (PROT_NONE).  Last: a failure here is a
 * crash. */
static void test_notouch_prot_none(void **state)
{
	size_t ps = st_page();
	int flags[3] = { KMC_NOTOUCH, KMC_NOTOUCH | KMC_NOMAG,
			 KMC_NOTOUCH | KMC_DEBUG };
	int k, i;

	(void)state;
	for (k = 0; k < 3; k++) {
		struct st_region r;
		struct arena *a = st_region_arena(&r, "none_src", 256 * ps,
						  PROT_NONE, ps, 0);
		struct kmem_cache *kc = st_create("notouch_none", 64, 0,
						  flags[k], a);
		void *p[500];

		assert_stat(st_stats(kc), uses_bufctl, 1);
		for (i = 0; i < 500; i++) {
			assert_non_null(p[i] = kmem_cache_alloc(kc, 0));
			assert_true(U(p[i]) >= U(r.base) &&
				    U(p[i]) + 64 <= U(r.base) + r.size);
		}
		for (i = 0; i < 500; i++)
			kmem_cache_free(kc, p[i]);
		for (i = 0; i < 500; i++)
			assert_non_null(p[i] = kmem_cache_alloc(kc, 0));
		for (i = 0; i < 500; i++)
			kmem_cache_free(kc, p[i]);
		kmem_cache_set_reap_keep(kc, 0);
		kmem_cache_reap(kc);
		st_destroy(kc);
		st_region_destroy(&r);
	}
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, one_slot, reset)
	const struct CMUnitTest tests[] = {
		T(test_create_basic),
		T(test_small_alignment),
		T(test_small_slab_one_page),
		T(test_bufctl_selection),
		T(test_bufctl_geometry),
		T(test_unaligned_source_uses_bufctl),
		T(test_hash_growth_100k),
		T(test_hash_items_with_magazines),
		T(test_slab_list_transitions),
		T(test_reap_keep),
		T(test_reap_keeps_used_slabs),
		T(test_enomem_silent),
		T(test_ctor_failure),
		T(test_ctor_failure_magazine_served),
		T(test_ctor_priv_and_flags),
		T(test_destroy_busy),
		T(test_destroy_returns_memory),
		T(test_many_caches),
		T(test_for_each),
		T(test_bad_obj_size),
		T(test_bad_align),
		T(test_bad_policy),
		T(test_null_cache),
		T(test_debug_double_free),
		T(test_debug_global_setting),
		T(test_debug_wrong_cache),
		T(test_debug_foreign_pointer),
		T(test_debug_use_after_free),
		T(test_debug_clean_run),
		T(test_notouch_prot_none),
	};
#undef T

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
