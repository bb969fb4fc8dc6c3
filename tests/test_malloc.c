/*
 * test_malloc.c — the malloc shim's entry points and their edge cases
 * (lib/malloc/, called as msm_malloc, msm_free, ...: malloc_test_util.h).
 *
 * Size classes (every size maps to the smallest class that holds it, waste
 * within the stated bound, one cache per class named by its size), malloc(0)
 * and impossible sizes, calloc overflow and zeroing, realloc across classes
 * and into the large range and back, the alignment family from 8 B to
 * 1 MiB and its bad alignments, malloc_usable_size, errno kept by free,
 * large blocks going back to the page arena, malloc_trim, and bad pointers
 * (each in a child: one line naming the address, then SIGABRT).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "malloc_test_util.h"

/* The classes as the head comment of lib/malloc/classes.c states them. */
static size_t expected_class(unsigned int i)
{
	size_t base;

	if (i < 16)
		return 16 * (i + 1);
	base = (size_t)256 << ((i - 16) / 8);
	return base + base / 8 * ((i - 16) % 8 + 1);
}

static void test_class_table(void **state)
{
	(void)state;
	msm_free(msm_malloc(1));        /* start the shim */
	assert_int_equal(expected_class(MSM_NR_CLASSES - 1), MSM_CLASS_MAX);
	for (unsigned int i = 0; i < MSM_NR_CLASSES; i++) {
		char name[KMC_NAME_LEN];

		snprintf(name, sizeof(name), "malloc-%zu", expected_class(i));
		assert_int_equal(msm_classes[i].size, expected_class(i));
		assert_string_equal(kmem_cache_name(msm_classes[i].cache), name);
		assert_int_equal(kmem_cache_obj_size(msm_classes[i].cache),
				 expected_class(i));
	}
}

/* Every size up to the largest class gets the smallest class that holds
 * it: waste under 1/8 of the request above 128 B, at most 15 B below. */
static void test_every_size_rounds_to_its_class(void **state)
{
	unsigned int c = 0;

	(void)state;
	for (size_t s = 0; s <= MSM_CLASS_MAX; s++) {
		void *p = msm_malloc(s);
		size_t got = msm_malloc_usable_size(p);

		while (expected_class(c) < s)
			c++;
		assert_non_null(p);
		assert_int_equal(got, expected_class(c));
		assert_int_equal((uintptr_t)p % MSM_ALIGN, 0);
		if (s > 128)
			assert_true((got - s) * 8 < s);
		else
			assert_true(got - s <= 15 || s == 0);
		msm_free(p);
	}
}

static void test_zero_and_impossible_sizes(void **state)
{
	void *a = msm_malloc(0), *b = msm_malloc(0), *p;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_ptr_not_equal(a, b);
	msm_free(a);
	msm_free(b);
	msm_free(NULL);
	size_t huge[] = { SIZE_MAX, SIZE_MAX / 2, (size_t)1 << 47,
			  SIZE_MAX - 4096 };
	for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) {
		errno = 0;
		assert_null(msm_malloc(huge[i]));
		assert_int_equal(errno, ENOMEM);
	}
	errno = 0;
	assert_null(msm_calloc(SIZE_MAX / 2 + 1, 2));
	assert_int_equal(errno, ENOMEM);
	errno = 0;
	assert_null(msm_calloc((size_t)1 << 33, (size_t)1 << 33));
	assert_int_equal(errno, ENOMEM);
	p = msm_malloc(10);
	mt_fill(p, 10, 5);
	errno = 0;
	assert_null(msm_reallocarray(p, SIZE_MAX / 4, 8));
	assert_int_equal(errno, ENOMEM);
	assert_true(mt_check(p, 10, 5));       /* untouched */
	errno = 0;
	assert_null(msm_realloc(p, SIZE_MAX));
	assert_int_equal(errno, ENOMEM);
	assert_true(mt_check(p, 10, 5));
	p = msm_reallocarray(p, 100, 8);
	assert_non_null(p);
	assert_true(msm_malloc_usable_size(p) >= 800);
	assert_true(mt_check(p, 10, 5));
	msm_free(p);
}

static void test_calloc_zeroes_reused_memory(void **state)
{
	size_t sizes[] = { 1, 24, 100, 512, 600, 4096, 30000, 40000, 300000 };

	(void)state;
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		for (int round = 0; round < 20; round++) {
			unsigned char *p = msm_malloc(sizes[i]);

			memset(p, 0xa5, sizes[i]);
			msm_free(p);
			p = msm_calloc(1, sizes[i]);
			assert_non_null(p);
			for (size_t j = 0; j < sizes[i]; j++)
				assert_int_equal(p[j], 0);
			msm_free(p);
		}
	}
}

/* Up through every range (classes, bufctl classes, large) and down again;
 * the common prefix survives every move. */
static void test_realloc_across_classes(void **state)
{
	size_t steps[] = { 1, 17, 100, 300, 513, 1000, 5000, 32768, 33000,
			   100000, (size_t)2 << 20 };
	size_t n = sizeof(steps) / sizeof(steps[0]), have = steps[0];
	unsigned char *p = msm_realloc(NULL, have);

	(void)state;
	mt_fill(p, have, 9);
	for (size_t i = 1; i < 2 * n - 1; i++) {
		size_t want = steps[i < n ? i : 2 * n - 2 - i];

		p = msm_realloc(p, want);
		assert_non_null(p);
		assert_true(msm_malloc_usable_size(p) >= want);
		assert_true(mt_check(p, have < want ? have : want, 9));
		mt_fill(p, want, 9);
		have = want;
	}
	/* Same class: stays; realloc(p, 0) frees and returns NULL. */
	p = msm_realloc(p, 100);
	assert_ptr_equal(msm_realloc(p, 110), p);
	assert_null(msm_realloc(p, 0));
	/* A large block shrinks in place down to half its size. */
	p = msm_malloc(1 << 20);
	assert_ptr_equal(msm_realloc(p, (1 << 19) + 1), p);
	p = msm_realloc(p, 1 << 18);
	assert_int_equal(msm_malloc_usable_size(p), 1 << 18);
	msm_free(p);
}

static void check_aligned(void *p, size_t align, size_t size)
{
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % align, 0);
	assert_true(msm_malloc_usable_size(p) >= size);
	memset(p, 0x5a, size);
	msm_free(p);
}

static void test_alignments_8_to_1MiB(void **state)
{
	size_t sizes[] = { 1, 100, 4097, 40000 };

	(void)state;
	for (size_t align = 8; align <= ((size_t)1 << 20); align *= 2) {
		for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
			void *p = NULL;

			assert_int_equal(msm_posix_memalign(&p, align, sizes[i]), 0);
			check_aligned(p, align, sizes[i]);
			check_aligned(msm_aligned_alloc(align, sizes[i]), align,
				      sizes[i]);
			check_aligned(msm_memalign(align, sizes[i]), align,
				      sizes[i]);
		}
	}
	check_aligned(msm_valloc(10), 4096, 10);
	check_aligned(msm_pvalloc(10), 4096, 4096);
	check_aligned(msm_pvalloc(0), 4096, 4096);
	check_aligned(msm_pvalloc(4097), 4096, 8192);
}

static void test_bad_alignments(void **state)
{
	size_t bad[] = { 0, 3, 24, 48, 100, 4095, ((size_t)1 << 20) + 8 };
	void *p = (void *)&p;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(msm_posix_memalign(&p, bad[i], 10), EINVAL);
		errno = 0;
		assert_null(msm_aligned_alloc(bad[i], 10));
		assert_int_equal(errno, EINVAL);
		errno = 0;
		assert_null(msm_memalign(bad[i], 10));
		assert_int_equal(errno, EINVAL);
	}
	assert_ptr_equal(p, (void *)&p);        /* never written */
	/* A power of two below sizeof(void *): POSIX wants EINVAL only from
	 * posix_memalign. */
	assert_int_equal(msm_posix_memalign(&p, 4, 10), EINVAL);
	check_aligned(msm_aligned_alloc(4, 10), 4, 10);
	assert_int_equal(msm_posix_memalign(&p, 64, SIZE_MAX), ENOMEM);
	errno = 0;
	assert_null(msm_pvalloc(SIZE_MAX));
	assert_int_equal(errno, ENOMEM);
}

static void test_free_keeps_errno(void **state)
{
	void *small = msm_malloc(50), *big = msm_malloc(1 << 20);

	(void)state;
	errno = 1234;
	msm_free(small);
	msm_free(big);
	msm_free(NULL);
	assert_int_equal(errno, 1234);
	assert_int_equal(msm_malloc_usable_size(NULL), 0);
}

static size_t kpages_allocated(void)
{
	struct arena_stats st;

	assert_int_equal(arena_stats(arena_kpages(), &st), 0);
	return st.allocated;
}

/* A freed large block is no longer the page arena's: nothing waits for a
 * reap to give it back. */
static void test_large_blocks_go_back(void **state)
{
	size_t before = kpages_allocated();
	unsigned char *p = msm_malloc(64 << 20);

	(void)state;
	assert_non_null(p);
	memset(p, 1, 64 << 20);
	assert_true(kpages_allocated() >= before + (64 << 20));
	msm_free(p);
	assert_int_equal(kpages_allocated(), before);
}

/* malloc_trim reaps every class once. */
static void test_trim_reaps_every_class(void **state)
{
	uint64_t reaps[MSM_NR_CLASSES];
	struct kmem_cache_stats st;

	(void)state;
	for (int i = 0; i < 20000; i++)
		msm_free(msm_malloc((size_t)(i % 600) + 1));
	for (unsigned int i = 0; i < MSM_NR_CLASSES; i++) {
		assert_int_equal(kmem_cache_stats(msm_classes[i].cache, &st), 0);
		reaps[i] = st.reaps;
	}
	msm_malloc_trim(0);
	for (unsigned int i = 0; i < MSM_NR_CLASSES; i++) {
		assert_int_equal(kmem_cache_stats(msm_classes[i].cache, &st), 0);
		assert_int_equal(st.reaps, reaps[i] + 1);
	}
}

/* ---- bad pointers: each in a child, which must abort with one line ---- */

static char global_byte;

static void free_stack(void *arg)
{
	char local;

	(void)arg;
	msm_free(&local);
}

static void free_global(void *arg)
{
	(void)arg;
	msm_free(&global_byte);
}

static void free_interior(void *arg)
{
	char *p = msm_malloc((size_t)(uintptr_t)arg);

	msm_free(p + 16);
}

static void free_large_interior(void *arg)
{
	char *p = msm_malloc(100000);

	(void)arg;
	msm_free(p + 4096);
}

static void free_large_twice(void *arg)
{
	void *p = msm_malloc(100000);

	(void)arg;
	msm_free(p);
	msm_free(p);
}

static void realloc_stack(void *arg)
{
	char local;

	(void)arg;
	(void)!msm_realloc(&local, 10);
}

static void usable_size_stack(void *arg)
{
	char local;

	(void)arg;
	(void)msm_malloc_usable_size(&local);
}

static void expect_abort(void (*fn)(void *), void *arg, const char *want)
{
	char out[1024];
	int status = mt_run_child(fn, arg, out, sizeof(out));

	assert_true(mt_aborted_with(status, out, want));
}

static void test_bad_pointers_abort(void **state)
{
	char want[64];

	(void)state;
	expect_abort(free_stack, NULL, "free(): invalid pointer 0x");
	expect_abort(free_global, NULL, "(not returned by malloc)");
	expect_abort(free_interior, (void *)(uintptr_t)96,
		     "inside a block of malloc-96, not its start");
	expect_abort(free_interior, (void *)(uintptr_t)3000,
		     "inside a block of malloc-3072, not its start");
	expect_abort(free_large_interior, NULL, "(not returned by malloc)");
	expect_abort(free_large_twice, NULL, "free(): double free of 0x");
	expect_abort(realloc_stack, NULL, "realloc(): invalid pointer");
	expect_abort(usable_size_stack, NULL,
		     "malloc_usable_size(): invalid pointer");
	snprintf(want, sizeof(want), "invalid pointer %p", (void *)&global_byte);
	expect_abort(free_global, NULL, want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_class_table),
		cmocka_unit_test(test_every_size_rounds_to_its_class),
		cmocka_unit_test(test_zero_and_impossible_sizes),
		cmocka_unit_test(test_calloc_zeroes_reused_memory),
		cmocka_unit_test(test_realloc_across_classes),
		cmocka_unit_test(test_alignments_8_to_1MiB),
		cmocka_unit_test(test_bad_alignments),
		cmocka_unit_test(test_free_keeps_errno),
		cmocka_unit_test(test_large_blocks_go_back),
		cmocka_unit_test(test_trim_reaps_every_class),
		cmocka_unit_test(test_bad_pointers_abort),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
