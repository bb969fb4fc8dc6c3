/*
 * test_handles.c — stale and NULL handles (issue 12, item 3).
 *
 * A destroyed cache or arena is recognised: a second destroy and every use
 * of the old pointer give one clear error (EINVAL, naming it) and change
 * nothing, in every build; kmem_cache_alloc/free and arena_alloc/free
 * through it are refused too while it is in quarantine (the last 16
 * destroyed; debug objects for good).  Every accessor takes NULL.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "slab_test_util.h"

static int setup(void **state)
{
	(void)state;
	st_reset_settings();
	st_reset_errors();
	return 0;
}

/* The last message says the object was destroyed and names it. */
#define assert_destroyed_error(name) do {                                      \
	assert_one_error(EINVAL, name);                                        \
	assert_non_null(strstr(st_err_msg, "destroyed"));                      \
} while (0)

/* call returns want and reports that name was destroyed. */
#define assert_refused(call, want, name) do {                                  \
	st_reset_errors();                                                     \
	assert_true((call) == (want));                                         \
	assert_destroyed_error(name);                                          \
} while (0)

/* ---- caches --------------------------------------------------------------------- */

static void test_cache_destroy_twice(void **state)
{
	struct kmem_cache *kc = st_create("h_twice", 64, 0, 0, NULL);

	(void)state;
	st_destroy(kc);
	st_reset_errors();
	assert_int_equal(kmem_cache_destroy(kc), -1);
	assert_destroyed_error("h_twice");
}

/* The case: a new cache is made between the two destroys.  It
 * must not get the old address, and the stale destroy must not touch it. */
static void test_cache_stale_destroy_spares_new(void **state)
{
	struct kmem_cache *old = st_create("h_old", 64, 0, 0, NULL);
	struct kmem_cache *new;
	void *p;

	(void)state;
	st_destroy(old);
	new = st_create("h_new", 64, 0, 0, NULL);
	assert_ptr_not_equal(new, old);
	st_reset_errors();
	assert_int_equal(kmem_cache_destroy(old), -1);
	assert_destroyed_error("h_old");
	assert_non_null(p = kmem_cache_alloc(new, 0));
	kmem_cache_free(new, p);
	assert_string_equal(kmem_cache_name(new), "h_new");
	st_destroy(new);
}

/* Every call off the fast path refuses a destroyed cache. */
static void test_cache_use_after_destroy(void **state)
{
	struct kmem_cache *kc = st_create("h_use", 64, 0, 0, NULL);
	struct kmem_cache_stats st;
	unsigned int ms[4];

	(void)state;
	st_destroy(kc);
#define REFUSED(call, want) assert_refused(call, want, "h_use")
	REFUSED(kmem_cache_stats(kc, &st), -1);
	REFUSED(kmem_cache_reap(kc), 0);
	REFUSED(kmem_cache_set_reap_keep(kc, 1), -1);
	REFUSED(kmem_cache_set_resize_threshold(kc, 3), -1);
	REFUSED(kmem_cache_set_resize_timeout_ns(kc, 3), -1);
	REFUSED(kmem_cache_set_magsize(kc, 9), -1);
	REFUSED(kmem_cache_set_policy(kc, "uma"), -1);
	REFUSED(kmem_cache_pcc_magsizes(kc, ms, 4), 0);
	REFUSED(kmem_cache_id(kc), 0);
	REFUSED(kmem_cache_obj_size(kc), 0);
	REFUSED(strcmp(kmem_cache_name(kc), "(destroyed)"), 0);
#undef REFUSED
}

/* alloc and free through a destroyed cache: refused with a message, no
 * crash (the dead struct sends them off the fast path).  For each kind of
 * cache: magazines, no magazines, bufctl, debug. */
static void test_cache_alloc_free_after_destroy(void **state)
{
	static const int flags[] = { 0, KMC_NOMAG, KMC_NOTOUCH, KMC_DEBUG };

	(void)state;
	for (size_t k = 0; k < sizeof(flags) / sizeof(flags[0]); k++) {
		struct kmem_cache *kc = st_create("h_dead_ops", 64, 0,
						  flags[k], NULL);
		void *p;

		assert_non_null(p = kmem_cache_alloc(kc, 0));
		kmem_cache_free(kc, p);
		st_destroy(kc);
		st_reset_errors();
		assert_null(kmem_cache_alloc(kc, 0));
		assert_destroyed_error("h_dead_ops");
		assert_non_null(strstr(st_err_msg, "kmem_cache_alloc"));
		st_reset_errors();
		kmem_cache_free(kc, p);
		assert_destroyed_error("h_dead_ops");
		st_reset_errors();
		assert_null(kmem_cache_zalloc(kc, 0));
		assert_int_equal(st_errors(), 1);
	}
}

/* A debug cache stays in quarantine for good: after many more destroys,
 * alloc through its old pointer is still refused with a message. */
static void test_debug_cache_quarantined_forever(void **state)
{
	struct kmem_cache *dbg = st_create("h_dbg_forever", 64, 0, KMC_DEBUG,
					   NULL);

	(void)state;
	st_destroy(dbg);
	for (int i = 0; i < 40; i++)
		st_destroy(st_create("h_churn", 64, 0, 0, NULL));
	st_reset_errors();
	assert_null(kmem_cache_alloc(dbg, 0));
	assert_destroyed_error("h_dbg_forever");
	st_reset_errors();
	assert_int_equal(kmem_cache_destroy(dbg), -1);
	assert_destroyed_error("h_dbg_forever");
}

/* A pointer that never was a cache: refused, and never read. */
static void test_cache_not_a_cache(void **state)
{
	struct st_region r;
	struct kmem_cache_stats st;

	(void)state;
	st_region_map(&r, st_page(), PROT_NONE);    /* any read would crash */
	st_reset_errors();
	assert_int_equal(kmem_cache_destroy(r.base), -1);
	assert_one_error(EINVAL, "not a cache");
	st_reset_errors();
	assert_int_equal(kmem_cache_stats(r.base, &st), -1);
	assert_one_error(EINVAL, "not a cache");
	munmap(r.base, r.size);
}

/* ---- arenas --------------------------------------------------------------------- */

static struct arena *mk_arena(const char *name)
{
	struct arena *a = arena_create(name, PTR(0x100000), 1 << 20, 64, NULL,
				       NULL, NULL, 0, 0);

	assert_non_null(a);
	return a;
}

static void test_arena_destroy_twice(void **state)
{
	struct arena *a = mk_arena("h_a_twice");

	(void)state;
	assert_int_equal(arena_destroy(a), 0);
	st_reset_errors();
	assert_int_equal(arena_destroy(a), -1);
	assert_destroyed_error("h_a_twice");
}

static void test_arena_stale_destroy_spares_new(void **state)
{
	struct arena *old = mk_arena("h_a_old"), *new;
	void *p;

	(void)state;
	assert_int_equal(arena_destroy(old), 0);
	new = mk_arena("h_a_new");
	assert_ptr_not_equal(new, old);
	st_reset_errors();
	assert_int_equal(arena_destroy(old), -1);
	assert_destroyed_error("h_a_old");
	assert_non_null(p = arena_alloc(new, 64, MEM_ATOMIC));
	assert_int_equal(arena_free(new, p, 64), 0);
	assert_int_equal(arena_destroy(new), 0);
}

static void test_arena_use_after_destroy(void **state)
{
	struct arena *a = mk_arena("h_a_use");
	struct arena_stats st;
	void *p;

	(void)state;
	assert_non_null(p = arena_alloc(a, 64, MEM_ATOMIC));
	assert_int_equal(arena_free(a, p, 64), 0);
	assert_int_equal(arena_destroy(a), 0);
#define REFUSED(call, want) assert_refused(call, want, "h_a_use")
	REFUSED(arena_alloc(a, 64, MEM_ATOMIC), NULL);
	REFUSED(arena_xalloc(a, 64, 128, 0, 0, NULL, NULL, MEM_ATOMIC), NULL);
	REFUSED(arena_free(a, p, 64), -1);
	REFUSED(arena_xfree(a, p, 64), -1);
	REFUSED(arena_add(a, PTR(0x900000), 4096, 0), NULL);
	REFUSED(arena_stats(a, &st), -1);
	REFUSED(arena_check(a), -1);
	REFUSED(arena_reap(a), 0);
	REFUSED(arena_id(a), 0);
	REFUSED(arena_quantum(a), 0);
	REFUSED(arena_source(a), NULL);
	REFUSED(strcmp(arena_name(a), "(destroyed)"), 0);
	REFUSED(arena_create("h_a_child", NULL, 0, 64, NULL, NULL, a, 0, 0),
		NULL);
	REFUSED(kmem_cache_create("h_a_cache", 64, 0, 0, a, NULL, NULL, NULL),
		NULL);
#undef REFUSED
}

/* With MAGSLAB_DEBUG=1 (here: magslab_set_debug) a destroyed arena stays
 * in quarantine for good. */
static void test_arena_debug_quarantine(void **state)
{
	struct arena *a = mk_arena("h_a_forever");

	(void)state;
	assert_int_equal(magslab_set_debug(1), 0);
	assert_int_equal(arena_destroy(a), 0);
	assert_int_equal(magslab_set_debug(0), 0);
	for (int i = 0; i < 40; i++)
		assert_int_equal(arena_destroy(mk_arena("h_a_churn")), 0);
	st_reset_errors();
	assert_null(arena_alloc(a, 64, MEM_ATOMIC));
	assert_destroyed_error("h_a_forever");
}

/* Every accessor takes NULL, silently. */
static void test_null_accessors(void **state)
{
	(void)state;
	st_reset_errors();
	assert_int_equal(kmem_cache_id(NULL), 0);
	assert_string_equal(kmem_cache_name(NULL), "(null)");
	assert_int_equal(kmem_cache_obj_size(NULL), 0);
	assert_int_equal(arena_id(NULL), 0);
	assert_string_equal(arena_name(NULL), "(null)");
	assert_int_equal(arena_quantum(NULL), 0);
	assert_null(arena_source(NULL));
	assert_no_error();
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, NULL)
	const struct CMUnitTest tests[] = {
		T(test_cache_destroy_twice),
		T(test_cache_stale_destroy_spares_new),
		T(test_cache_use_after_destroy),
		T(test_cache_alloc_free_after_destroy),
		T(test_debug_cache_quarantined_forever),
		T(test_cache_not_a_cache),
		T(test_arena_destroy_twice),
		T(test_arena_stale_destroy_spares_new),
		T(test_arena_use_after_destroy),
		T(test_arena_debug_quarantine),
		T(test_null_accessors),
	};
#undef T

	st_install_handler();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
