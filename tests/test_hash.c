/*
 * test_hash.c — cmocka tests for the dynamic chained hash table (hash.h):
 * counts kept on insert and remove, the 13/20 grow threshold and its
 * boundary, doubling up to the 2^31 cap, iteration, teardown, and the
 * measurement that justifies the golden-ratio multiplier over the old
 * 0x9e370001 for page-aligned keys.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

#define PAGE      4096ull
#define MMAP_BASE 0x7f0000000000ull
#define NBIG      100000

struct obj {
	struct hash_link link;
	unsigned int visits;
};

static struct obj *link_obj(struct hash_link *l)
{
	return (struct obj *)((char *)l - offsetof(struct obj, link));
}

/* Page-aligned, like the segment and slab addresses the table really holds. */
static uintptr_t page_key(size_t i)
{
	return (uintptr_t)(MMAP_BASE + (uint64_t)i * PAGE);
}

/* Inserts and, as every caller does, grows when the table asks to. */
static void insert_growing(struct hash_table *ht, struct obj *o, uintptr_t key)
{
	hash_insert(ht, &o->link, key);
	if (hash_needs_grow(ht))
		assert_int_equal(hash_grow(ht), 0);
}

/* A fresh table grown by n inserts; returns the n items (free them). */
static struct obj *grown_table(struct hash_table *ht, size_t n)
{
	struct obj *objs = calloc(n, sizeof(*objs));

	assert_non_null(objs);
	hash_init(ht);
	for (size_t i = 0; i < n; i++)
		insert_growing(ht, &objs[i], page_key(i));
	return objs;
}

static bool is_pow2(size_t x)
{
	return x != 0 && (x & (x - 1)) == 0;
}

static size_t longest_chain(const struct hash_table *ht)
{
	size_t worst = 0;

	for (size_t i = 0; i < ht->nr_lists; i++) {
		size_t n = 0;

		for (const struct hash_link *l = ht->lists[i]; l; l = l->next)
			n++;
		if (n > worst)
			worst = n;
	}
	return worst;
}

static void test_init(void **state)
{
	struct hash_table ht;

	(void)state;
	memset(&ht, 0xa5, sizeof(ht));      /* hash_init must not rely on 0s */
	hash_init(&ht);
	assert_int_equal(ht.nr_lists, 64);
	assert_int_equal(ht.nr_lists, HASH_INIT_LISTS);
	assert_int_equal(ht.bits, 6);
	assert_int_equal(ht.nr_items, 0);
	assert_ptr_equal(ht.lists, ht.embedded);
	for (size_t i = 0; i < ht.nr_lists; i++)
		assert_null(ht.lists[i]);
	assert_false(hash_needs_grow(&ht));
	assert_null(hash_find(&ht, page_key(0)));
	assert_null(hash_find(&ht, 0));
	hash_fini(&ht);
}

static void test_insert_find_remove(void **state)
{
	enum { N = 40 };    /* stays under the grow threshold */
	struct hash_table ht;
	struct obj objs[N];
	uintptr_t keys[N];

	(void)state;
	hash_init(&ht);
	/* A mix of page-aligned keys, small integers and odd addresses. */
	for (size_t i = 0; i < N; i++) {
		if (i % 3 == 0)
			keys[i] = page_key(i);
		else if (i % 3 == 1)
			keys[i] = i;
		else
			keys[i] = (uintptr_t)&objs[i];
		hash_insert(&ht, &objs[i].link, keys[i]);
		assert_int_equal(ht.nr_items, i + 1);
		assert_int_equal(objs[i].link.key, keys[i]);
	}
	for (size_t i = 0; i < N; i++)
		assert_ptr_equal(hash_find(&ht, keys[i]), &objs[i].link);
	assert_null(hash_find(&ht, page_key(1)));
	assert_null(hash_find(&ht, 1000));

	/* Remove every other item; the rest stay findable. */
	for (size_t i = 0; i < N; i += 2) {
		assert_ptr_equal(hash_remove(&ht, keys[i]), &objs[i].link);
		assert_null(hash_find(&ht, keys[i]));
		assert_int_equal(objs[i].link.key, keys[i]);
	}
	assert_int_equal(ht.nr_items, N / 2);
	for (size_t i = 0; i < N; i++) {
		if (i % 2)
			assert_ptr_equal(hash_find(&ht, keys[i]),
					 &objs[i].link);
		else
			assert_null(hash_find(&ht, keys[i]));
	}
	/* A removed item can go back in. */
	hash_insert(&ht, &objs[0].link, keys[0]);
	assert_ptr_equal(hash_find(&ht, keys[0]), &objs[0].link);
	assert_int_equal(ht.nr_items, N / 2 + 1);
	hash_fini(&ht);
}

/* The Akaros bug: nr_items was never decremented. */
static void test_remove_decrements(void **state)
{
	enum { N = 1000 };
	struct hash_table ht;
	struct obj *objs = calloc(N, sizeof(*objs));

	(void)state;
	assert_non_null(objs);

	/* Without growing: 1000 items in 64 lists. */
	hash_init(&ht);
	for (size_t i = 0; i < N; i++)
		hash_insert(&ht, &objs[i].link, page_key(i));
	assert_int_equal(ht.nr_items, N);
	for (size_t i = 0; i < N; i++) {
		assert_ptr_equal(hash_remove(&ht, page_key(i)), &objs[i].link);
		assert_int_equal(ht.nr_items, N - i - 1);
	}
	assert_int_equal(ht.nr_items, 0);
	assert_false(hash_needs_grow(&ht));
	hash_fini(&ht);

	/* With growing: the same, and a refill to the same size must not
	 * grow again (it would if removals were not counted). */
	hash_init(&ht);
	for (size_t i = 0; i < N; i++)
		insert_growing(&ht, &objs[i], page_key(i));
	size_t lists = ht.nr_lists;
	for (size_t i = N; i-- > 0;)
		assert_ptr_equal(hash_remove(&ht, page_key(i)), &objs[i].link);
	assert_int_equal(ht.nr_items, 0);
	for (size_t i = 0; i < N; i++)
		insert_growing(&ht, &objs[i], page_key(i));
	assert_int_equal(ht.nr_items, N);
	assert_int_equal(ht.nr_lists, lists);
	for (size_t i = 0; i < N; i++)
		assert_non_null(hash_remove(&ht, page_key(i)));
	assert_int_equal(ht.nr_items, 0);
	hash_fini(&ht);
	free(objs);
}

static void test_remove_missing(void **state)
{
	enum { N = 30 };
	struct hash_table ht;
	struct obj objs[N];

	(void)state;
	hash_init(&ht);
	assert_null(hash_remove(&ht, page_key(0)));   /* empty table */
	assert_int_equal(ht.nr_items, 0);
	for (size_t i = 0; i < N; i++)
		hash_insert(&ht, &objs[i].link, page_key(2 * i));
	/* Odd pages were never inserted; some share lists with even ones. */
	for (size_t i = 0; i < N; i++) {
		assert_null(hash_remove(&ht, page_key(2 * i + 1)));
		assert_int_equal(ht.nr_items, N);
	}
	/* Removing twice: the second finds nothing and changes nothing. */
	assert_ptr_equal(hash_remove(&ht, page_key(4)), &objs[2].link);
	assert_int_equal(ht.nr_items, N - 1);
	assert_null(hash_remove(&ht, page_key(4)));
	assert_int_equal(ht.nr_items, N - 1);
	for (size_t i = 0; i < N; i++)
		if (i != 2)
			assert_ptr_equal(hash_find(&ht, page_key(2 * i)),
					 &objs[i].link);
	hash_fini(&ht);
}

static void test_needs_grow_boundary(void **state)
{
	enum { N = 300 };
	struct hash_table ht;
	struct obj objs[N];

	(void)state;
	hash_init(&ht);
	/* 41 * 20 = 820 <= 64 * 13 = 832: no.  42 * 20 = 840 > 832: yes. */
	for (size_t i = 0; i < 41; i++) {
		hash_insert(&ht, &objs[i].link, page_key(i));
		assert_false(hash_needs_grow(&ht));
	}
	hash_insert(&ht, &objs[41].link, page_key(41));
	assert_int_equal(ht.nr_items, 42);
	assert_true(hash_needs_grow(&ht));
	/* Dropping back to 41 clears it again. */
	assert_non_null(hash_remove(&ht, page_key(41)));
	assert_false(hash_needs_grow(&ht));
	hash_insert(&ht, &objs[41].link, page_key(41));
	assert_true(hash_needs_grow(&ht));

	/* After doubling to 128: 83 * 20 = 1660 <= 1664, 84 -> 1680 > 1664.
	 * And in general exactly when nr_items * 20 > nr_lists * 13. */
	assert_int_equal(hash_grow(&ht), 0);
	assert_int_equal(ht.nr_lists, 128);
	for (size_t i = 42; i < N; i++) {
		bool want;

		hash_insert(&ht, &objs[i].link, page_key(i));
		want = ht.nr_items * HASH_LOAD_DEN >
		       ht.nr_lists * HASH_LOAD_NUM;
		assert_int_equal(hash_needs_grow(&ht), want);
		if (ht.nr_items == 83)
			assert_false(hash_needs_grow(&ht));
		if (ht.nr_items == 84)
			assert_true(hash_needs_grow(&ht));
	}
	hash_fini(&ht);
}

static void test_grow_doubles(void **state)
{
	enum { N = 42 };
	struct hash_table ht;
	struct obj objs[N];

	(void)state;
	hash_init(&ht);
	for (size_t i = 0; i < N; i++)
		hash_insert(&ht, &objs[i].link, page_key(i * 7));
	assert_true(hash_needs_grow(&ht));

	assert_int_equal(hash_grow(&ht), 0);
	assert_int_equal(ht.nr_lists, 128);
	assert_int_equal(ht.bits, 7);
	assert_int_equal(ht.nr_items, N);
	assert_int_equal(ht.nr_resizes, 1);
	assert_ptr_not_equal(ht.lists, ht.embedded);
	assert_false(hash_needs_grow(&ht));
	for (size_t i = 0; i < N; i++)
		assert_ptr_equal(hash_find(&ht, page_key(i * 7)),
				 &objs[i].link);

	/* Growing when not asked to is allowed and still correct. */
	for (unsigned int b = 8; b <= 12; b++) {
		assert_int_equal(hash_grow(&ht), 0);
		assert_int_equal(ht.bits, b);
		assert_int_equal(ht.nr_lists, (size_t)1 << b);
		assert_int_equal(ht.nr_items, N);
		for (size_t i = 0; i < N; i++)
			assert_ptr_equal(hash_find(&ht, page_key(i * 7)),
					 &objs[i].link);
	}
	assert_int_equal(ht.nr_resizes, 6);
	for (size_t i = 0; i < N; i++)
		assert_ptr_equal(hash_remove(&ht, page_key(i * 7)),
				 &objs[i].link);
	assert_int_equal(ht.nr_items, 0);
	hash_fini(&ht);
}

/* After a spike, shrink gives the grown array back: down to the smallest
 * table that holds what is left at half the grow load, the embedded one
 * when few items remain; every item is still found, and a table that is
 * small already is left alone. */
static void test_shrink(void **state)
{
	enum { N = 5000, KEEP = 300 };
	struct hash_table ht;
	struct obj *objs = grown_table(&ht, N);

	(void)state;
	assert_int_equal(ht.nr_lists, 8192);
	for (size_t i = KEEP; i < N; i++)
		assert_non_null(hash_remove(&ht, page_key(i)));
	assert_int_equal(hash_shrink(&ht), 0);
	/* 300 items at <= 13/40 load: 1024 lists. */
	assert_int_equal(ht.nr_lists, 1024);
	assert_int_equal(ht.bits, 10);
	assert_false(hash_needs_grow(&ht));
	for (size_t i = 0; i < KEEP; i++)
		assert_ptr_equal(hash_find(&ht, page_key(i)), &objs[i].link);
	for (size_t i = 10; i < KEEP; i++)
		assert_non_null(hash_remove(&ht, page_key(i)));
	assert_int_equal(hash_shrink(&ht), 0);
	assert_ptr_equal(ht.lists, ht.embedded);
	assert_int_equal(ht.nr_lists, HASH_INIT_LISTS);
	assert_int_equal(ht.nr_items, 10);
	for (size_t i = 0; i < 10; i++)
		assert_ptr_equal(hash_find(&ht, page_key(i)), &objs[i].link);
	assert_int_equal(hash_shrink(&ht), 0);
	assert_int_equal(ht.nr_lists, HASH_INIT_LISTS);
	/* It grows again as before. */
	for (size_t i = 10; i < N; i++)
		insert_growing(&ht, &objs[i], page_key(i));
	for (size_t i = 0; i < N; i++)
		assert_ptr_equal(hash_find(&ht, page_key(i)), &objs[i].link);
	hash_fini(&ht);
	free(objs);
}

static void test_grow_100k(void **state)
{
	struct hash_table ht;
	struct obj *objs = calloc(NBIG, sizeof(*objs));
	size_t want_lists = HASH_INIT_LISTS;
	size_t chain;

	(void)state;
	assert_non_null(objs);
	hash_init(&ht);
	for (size_t i = 0; i < NBIG; i++) {
		insert_growing(&ht, &objs[i], page_key(i));
		/* After each insert-then-grow the load is within bounds. */
		assert_true(ht.nr_items * HASH_LOAD_DEN <=
			    ht.nr_lists * HASH_LOAD_NUM);
	}
	assert_int_equal(ht.nr_items, NBIG);
	assert_true(is_pow2(ht.nr_lists));
	assert_int_equal(ht.nr_lists, (size_t)1 << ht.bits);
	assert_true(ht.nr_items * 20 <= ht.nr_lists * 13);
	/* And no bigger than needed: the smallest power of two that fits. */
	while ((size_t)NBIG * HASH_LOAD_DEN > want_lists * HASH_LOAD_NUM)
		want_lists *= 2;
	assert_int_equal(ht.nr_lists, want_lists);
	assert_int_equal(ht.nr_resizes, ht.bits - HASH_INIT_BITS);

	for (size_t i = 0; i < NBIG; i++)
		assert_ptr_equal(hash_find(&ht, page_key(i)), &objs[i].link);
	assert_null(hash_find(&ht, page_key(NBIG)));

	chain = longest_chain(&ht);
	print_message("100,000 page keys in %zu lists: longest chain %zu\n",
		      ht.nr_lists, chain);
	/* Load is ~0.38 per list; a decent hash keeps chains short. */
	assert_true(chain <= 8);

	for (size_t i = 0; i < NBIG; i++)
		assert_ptr_equal(hash_remove(&ht, page_key(i)), &objs[i].link);
	assert_int_equal(ht.nr_items, 0);
	hash_fini(&ht);
	free(objs);
}

/* bits may never pass HASH_MAX_BITS (31).  A real 2^31-list table would map
 * 16 GiB, so the fields are set directly: hash_needs_grow and the refusal in
 * hash_grow look only at them. */
static void test_max_bits(void **state)
{
	struct hash_table ht;

	(void)state;
	hash_init(&ht);

	ht.bits = 30;
	ht.nr_lists = (size_t)1 << 30;
	ht.nr_items = ((size_t)1 << 30);         /* load 1 > 13/20 */
	assert_true(hash_needs_grow(&ht));

	ht.bits = HASH_MAX_BITS;
	ht.nr_lists = (size_t)1 << HASH_MAX_BITS;
	ht.nr_items = (size_t)1 << HASH_MAX_BITS;
	assert_false(hash_needs_grow(&ht));
	ht.nr_items = (size_t)1 << 40;
	assert_false(hash_needs_grow(&ht));

	/* hash_grow refuses too and leaves the table as it was. */
	assert_int_equal(hash_grow(&ht), -1);
	assert_int_equal(ht.bits, HASH_MAX_BITS);
	assert_int_equal(ht.nr_lists, (size_t)1 << HASH_MAX_BITS);
	assert_ptr_equal(ht.lists, ht.embedded);
	assert_int_equal(ht.nr_resizes, 0);

	/* Back to the real embedded table before tearing down. */
	ht.bits = HASH_INIT_BITS;
	ht.nr_lists = HASH_INIT_LISTS;
	ht.nr_items = 0;
	hash_fini(&ht);
}

static void count_visit(struct hash_link *l, void *arg)
{
	size_t *calls = arg;

	link_obj(l)->visits++;
	(*calls)++;
}

static void test_for_each(void **state)
{
	enum { N = 5000 };
	struct hash_table ht;
	struct obj *objs = calloc(N, sizeof(*objs));
	size_t calls = 0;

	(void)state;
	assert_non_null(objs);
	hash_init(&ht);
	hash_for_each(&ht, count_visit, &calls);        /* empty: no calls */
	assert_int_equal(calls, 0);

	for (size_t i = 0; i < N; i++)
		insert_growing(&ht, &objs[i], page_key(i * 3));
	/* Take a few out so removed items must not be visited. */
	for (size_t i = 0; i < N; i += 10)
		assert_non_null(hash_remove(&ht, page_key(i * 3)));

	hash_for_each(&ht, count_visit, &calls);
	assert_int_equal(calls, ht.nr_items);
	for (size_t i = 0; i < N; i++)
		assert_int_equal(objs[i].visits, i % 10 ? 1 : 0);

	for (size_t i = 0; i < N; i++)
		if (i % 10)
			assert_non_null(hash_remove(&ht, page_key(i * 3)));
	assert_int_equal(ht.nr_items, 0);
	hash_fini(&ht);
	free(objs);
}

static void test_fini_after_growth(void **state)
{
	enum { N = 3000 };
	struct hash_table ht;
	struct obj *objs = grown_table(&ht, N);

	(void)state;
	assert_true(ht.nr_lists > HASH_INIT_LISTS);
	for (size_t i = 0; i < N; i++)
		assert_non_null(hash_remove(&ht, page_key(i)));
	hash_fini(&ht);

	/* A finished table is back to its initial shape and usable again
	 * after hash_init. */
	assert_ptr_equal(ht.lists, ht.embedded);
	assert_int_equal(ht.nr_items, 0);
	hash_init(&ht);
	for (size_t i = 0; i < N; i++)
		insert_growing(&ht, &objs[i], page_key(i));
	for (size_t i = 0; i < N; i++)
		assert_ptr_equal(hash_find(&ht, page_key(i)), &objs[i].link);
	/* Abandoning a full table is allowed too. */
	hash_fini(&ht);

	/* fini on a never-grown table. */
	hash_init(&ht);
	hash_insert(&ht, &objs[0].link, page_key(0));
	assert_non_null(hash_remove(&ht, page_key(0)));
	hash_fini(&ht);
	free(objs);
}

/* --- The multiplier test ------------------------------------------------ */

#define MULT_BITS  12
#define MULT_LISTS (1u << MULT_BITS)

struct chain_stats {
	size_t longest;
	size_t used;            /* non-empty lists */
};

static struct chain_stats chains(const uintptr_t *keys, size_t n,
				 size_t (*hash)(uintptr_t, unsigned int))
{
	static size_t count[MULT_LISTS];
	struct chain_stats s = { 0, 0 };

	memset(count, 0, sizeof(count));
	for (size_t i = 0; i < n; i++) {
		size_t b = hash(keys[i], MULT_BITS);

		assert_true(b < MULT_LISTS);
		count[b]++;
	}
	for (size_t b = 0; b < MULT_LISTS; b++) {
		if (count[b] > s.longest)
			s.longest = count[b];
		if (count[b])
			s.used++;
	}
	return s;
}

static size_t golden(uintptr_t key, unsigned int bits)
{
	return hash_ptr(key, bits);
}

static size_t old32(uintptr_t key, unsigned int bits)
{
	return hash_ptr_old(key, bits);
}

static void compare_multipliers(const char *pattern, const uintptr_t *keys,
				size_t n)
{
	struct chain_stats g = chains(keys, n, golden);
	struct chain_stats o = chains(keys, n, old32);

	print_message("%s: longest chain: golden-ratio %zu, old 32-bit %zu, "
		      "ideal mean %.1f\n", pattern, g.longest, o.longest,
		      (double)n / MULT_LISTS);
	print_message("%s: lists used of %u: golden-ratio %zu, old 32-bit "
		      "%zu\n", pattern, MULT_LISTS, g.used, o.used);
	/* golden longest <= 3 * n / lists, in integers. */
	assert_true(g.longest * MULT_LISTS <= 3 * n);
}

static uint64_t rng_state;

static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void test_multiplier(void **state)
{
	uintptr_t *keys = malloc(NBIG * sizeof(*keys));
	uint64_t top;
	size_t i;

	(void)state;
	assert_non_null(keys);

	/* Pattern 1: consecutive pages from one base. */
	for (i = 0; i < NBIG; i++)
		keys[i] = page_key(i);
	compare_multipliers("consecutive pages", keys, NBIG);

	/* Pattern 2: what a process's mmaps look like: mappings of 1..256
	 * pages placed top-down below a randomised base with holes of
	 * 0..1023 pages between them (other mappings, guard gaps, unmaps),
	 * every page of each mapping hashed. */
	rng_state = 0x6d6d6170ull;              /* fixed: "mmap" */
	top = 0x7f0000000000ull + (rng_next() % (1ull << 28)) * PAGE;
	i = 0;
	while (i < NBIG) {
		size_t len = 1 + rng_next() % 256;
		size_t hole = rng_next() % 1024;

		top -= (len + hole) * PAGE;
		for (size_t p = 0; p < len && i < NBIG; p++)
			keys[i++] = (uintptr_t)(top + p * PAGE);
	}
	compare_multipliers("spread mmap pages", keys, NBIG);

	free(keys);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_insert_find_remove),
		cmocka_unit_test(test_remove_decrements),
		cmocka_unit_test(test_remove_missing),
		cmocka_unit_test(test_needs_grow_boundary),
		cmocka_unit_test(test_grow_doubles),
		cmocka_unit_test(test_shrink),
		cmocka_unit_test(test_grow_100k),
		cmocka_unit_test(test_max_bits),
		cmocka_unit_test(test_for_each),
		cmocka_unit_test(test_fini_after_growth),
		cmocka_unit_test(test_multiplier),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
