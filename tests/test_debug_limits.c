/*
 * test_debug_limits.c — debug mode under memory pressure, and its bounds
 * (issue 12, item 4).
 *
 * A debug cache tracks the objects the user holds without allocating (a
 * bit per object in its slab or bufctl), so running out of memory can
 * never turn a correct free into a "double free"; it poisons at most a
 * page of each object; and no cache takes objects above KMC_MAX_OBJ_SIZE.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "slab_test_util.h"

#include <sys/resource.h>
#include <sys/wait.h>

#define MIB ((size_t)1 << 20)

static int setup(void **state)
{
	(void)state;
	st_reset_settings();
	assert_int_equal(magslab_set_ncpus(1), 0);
	st_reset_errors();
	return 0;
}

/* ---- tracking under RLIMIT_AS --------------------------------------------------- */

#define NR_OBJS 1000

/* Caps the address space just above what is mapped, takes every piece of
 * the base arena that is left, then every spare bufctl of the library's
 * internal caches (through hog, a NOTOUCH cache over address space that is
 * never touched: each of its slabs takes bufctls): from here on no memory
 * can be had from the OS, from base, or from what earlier frees left. */
static size_t starve(struct kmem_cache *hog)
{
	size_t n = 0, mapped, resident;
	struct rlimit lim;

	if (getrlimit(RLIMIT_AS, &lim) || !st_statm(&mapped, &resident))
		_exit(4);
	lim.rlim_cur = mapped + MIB;
	if (setrlimit(RLIMIT_AS, &lim))
		_exit(5);
	while (arena_alloc(arena_base(), st_page(), MEM_ATOMIC))
		n++;
	while (kmem_cache_alloc(hog, MEM_ATOMIC))
		;
	return n;
}

static struct kmem_cache *make_hog(void)
{
	size_t size = 256 * MIB;
	void *range = mmap(NULL, size, PROT_NONE,
			   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	struct arena *a = range == MAP_FAILED ? NULL :
			  arena_create("hog_src", range, size, st_page(), NULL,
				       NULL, NULL, 0, 0);

	struct kmem_cache *hog = a ? kmem_cache_create("hog", 8, 0,
						       KMC_NOTOUCH | KMC_NOMAG,
						       a, NULL, NULL, NULL)
				   : NULL;

	/* One slab now: its header comes with a page of spare headers, so
	 * that the starved hog runs out of bufctls, not of slab headers. */
	return hog && kmem_cache_alloc(hog, MEM_ATOMIC) ? hog : NULL;
}

static atomic_ulong child_reports;

static void count_report(const char *msg, void *arg)
{
	(void)arg;
	if (atomic_fetch_add(&child_reports, 1) < 3)
		fprintf(stderr, "child: unexpected report: %s\n", msg);
}

static void alloc_all(struct kmem_cache *kc, void **p, size_t *got)
{
	*got = 0;
	for (size_t i = 0; i < NR_OBJS; i++)
		if ((p[i] = kmem_cache_alloc(kc, MEM_ATOMIC)))
			(*got)++;
}

static void free_all(struct kmem_cache *kc, void **p)
{
	for (size_t i = 0; i < NR_OBJS; i++)
		if (p[i])
			kmem_cache_free(kc, p[i]);
}

/* The child: a debug cache over an arena of its own (so that objects need
 * no memory from base), grown first, then starved of every other memory.
 * 1000 objects allocated and freed again must give no report, and the
 * cache must then be destroyable.  Exit status: 0 good, 1 reports, 2
 * destroy refused, 6 fewer objects than expected. */
static void starved_child(size_t obj_size)
{
	static void *p[NR_OBJS];
	struct arena *src;
	struct kmem_cache *kc, *hog;
	void *region;
	size_t got, hogged;

	magslab_set_error_handler(count_report, NULL);
	region = mmap(NULL, 16 * MIB, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	src = arena_create("starved_src", region, 16 * MIB, st_page(), NULL,
			   NULL, NULL, 0, 0);
	kc = kmem_cache_create("starved", obj_size, 0, KMC_DEBUG, src, NULL,
			       NULL, NULL);
	hog = make_hog();
	if (region == MAP_FAILED || !src || !kc || !hog)
		_exit(7);
	alloc_all(kc, p, &got);
	free_all(kc, p);
	hogged = starve(hog);
	alloc_all(kc, p, &got);
	free_all(kc, p);
	fprintf(stderr, "child: %zu-byte objects: %zu of %d allocated while starved (%zu base pages hogged), %lu reports\n",
		obj_size, got, NR_OBJS, hogged, atomic_load(&child_reports));
	if (atomic_load(&child_reports))
		_exit(1);
	if (kmem_cache_destroy(kc))
		_exit(2);
	_exit(got == NR_OBJS ? 0 : 6);
}

static void test_debug_starved(void **state)
{
	static const size_t sizes[] = { 64, 1024 };

	(void)state;
	if (ST_SANITIZED) {
		/* ASan and TSan reserve terabytes of shadow: RLIMIT_AS
		 * cannot be set just above what is mapped. */
		skip();
	}
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		int status = 0;
		pid_t pid;

		fflush(NULL);
		pid = fork();
		assert_true(pid >= 0);
		if (pid == 0)
			starved_child(sizes[k]);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			fail_msg("%zu-byte debug cache under RLIMIT_AS: child status %#x (exit 1: false reports, 2: destroy refused, 6: allocations failed)",
				 sizes[k], status);
	}
}

/* ---- geometry: the live bits never overlap objects ----------------------------- */

/* Every object of a debug small slab written in full, then all freed:
 * an object reaching into the tracking bits would turn frees into false
 * double-free reports (or the other way round). */
static void test_debug_small_slab_full(void **state)
{
	static const size_t sizes[] = { 8, 24, 64, 200, 512 };

	(void)state;
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		struct kmem_cache *kc = st_create("dbg_full", sizes[k], 0,
						  KMC_DEBUG | KMC_NOMAG, NULL);
		struct kmem_cache_stats st = st_stats(kc);
		size_t n = 3 * st.objs_per_slab;
		void **p = calloc(n, sizeof(*p));

		assert_non_null(p);
		assert_false(st.uses_bufctl);
		for (size_t i = 0; i < n; i++) {
			assert_non_null(p[i] = kmem_cache_alloc(kc, 0));
			memset(p[i], 0xff, sizes[k]);
		}
		st_reset_errors();
		for (size_t i = 0; i < n; i++)
			kmem_cache_free(kc, p[i]);
		assert_no_error();
		st = st_stats(kc);
		assert_stat(st, live_objs, 0);
		assert_stat(st, debug_errors, 0);
		assert_cache_consistent(st);
		st_reset_errors();
		kmem_cache_free(kc, p[n / 2]);
		assert_one_error(EINVAL, "dbg_full");
		assert_non_null(strstr(st_err_msg, "double free"));
		free(p);
		st_destroy(kc);
	}
}

/* ---- poisoning bounded ------------------------------------------------------------ */

/* A debug cache of the largest objects: a slab is 8 of them (128 MiB);
 * poisoning must touch a page per object, not the slab. */
static void test_debug_poison_bounded(void **state)
{
	struct kmem_cache *kc = st_create("dbg_huge", KMC_MAX_OBJ_SIZE, 0,
					  KMC_DEBUG, NULL);
	size_t before = st_rss_bytes(), grown;
	unsigned char *p, *q;

	(void)state;
	assert_non_null(p = kmem_cache_alloc(kc, MEM_ATOMIC));
	p[0] = 1;
	kmem_cache_free(kc, p);
	grown = st_rss_bytes() - before;
	print_message("debug cache of %zu MiB objects: RSS +%zu KiB after a slab grow, alloc and free\n",
		      KMC_MAX_OBJ_SIZE >> 20, grown >> 10);
	assert_true(grown < 4 * MIB);
	/* What is poisoned is still checked. */
	p[100] = 0;
	st_reset_errors();
	q = kmem_cache_alloc(kc, MEM_ATOMIC);
	assert_int_equal(st_errors(), 1);
	assert_true(st_msg_names("dbg_huge"));
	assert_non_null(strstr(st_err_msg, "after free"));
	kmem_cache_free(kc, q);
	st_destroy(kc);
}

/* ---- the maximum object size ----------------------------------------------------- */

static void test_max_obj_size(void **state)
{
	static const size_t bad[] = { KMC_MAX_OBJ_SIZE + 1, (size_t)1 << 40,
				      SIZE_MAX };
	struct kmem_cache *kc = st_create("max_ok", KMC_MAX_OBJ_SIZE, 0, 0,
					  NULL);

	(void)state;
	st_destroy(kc);
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
		st_reset_errors();
		assert_null(kmem_cache_create("max_bad", bad[k], 0, 0, NULL,
					      NULL, NULL, NULL));
		assert_one_error(EINVAL, "max_bad");
		assert_non_null(strstr(st_err_msg, "KMC_MAX_OBJ_SIZE"));
	}
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, NULL)
	const struct CMUnitTest tests[] = {
		T(test_debug_starved),
		T(test_debug_small_slab_full),
		T(test_debug_poison_bounded),
		T(test_max_obj_size),
	};
#undef T

	st_install_handler();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
