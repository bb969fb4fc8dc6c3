/*
 * test_stats_fields.c — cmocka tests for the field tables of magslab/stats_fields.h
 * (magslab_cache_stats_fields(), magslab_arena_stats_fields() and their readers).
 *
 * Coverage: C has no way to list a struct's members, so the tables are checked against the
 * struct's layout instead.  Sorted by offset, the fields must tile the struct: each starts
 * where the one before ends, or after less padding than its own alignment needs; nothing
 * overlaps; and the struct ends less than 8 bytes (the widest alignment there) after the
 * last one.  A member added to struct kmem_cache_stats or struct arena_stats and left out
 * of the lists in lib/src/stats.c leaves a hole of its own size and fails here (a member of
 * 4 bytes or less could hide in padding that was there before; the ones that exist today
 * leave no such padding but one 4-byte hole after uses_bufctl, which the test names).
 *
 * Values: for a cache and an arena that have done some work, every field read through the
 * table equals the member read directly (the ones that matter by name), and every name is a
 * key of the cache's or arena's object in magslab_stats_json().
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <magslab/magslab.h>

/* The field named name in table t of n, or NULL. */
static const struct magslab_stats_field *find(const struct magslab_stats_field *t, size_t n,
					      const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].name, name) == 0)
			return &t[i];
	return NULL;
}

static int by_offset(const void *a, const void *b)
{
	const struct magslab_stats_field *x = a, *y = b;

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/* The alignment a member of this kind and size needs. */
static size_t align_of(const struct magslab_stats_field *f)
{
	if (f->kind == MAGSLAB_FIELD_STRING)
		return 1;
	return f->kind == MAGSLAB_FIELD_PAIR ? sizeof(uint64_t) : f->size;
}

/* The fields tile a struct of struct_size bytes (see the head comment). */
static void check_tiling(const struct magslab_stats_field *t, size_t n, size_t struct_size)
{
	struct magslab_stats_field *s = calloc(n, sizeof(*s));
	size_t end = 0;

	assert_non_null(s);
	memcpy(s, t, n * sizeof(*s));
	qsort(s, n, sizeof(*s), by_offset);
	for (size_t i = 0; i < n; i++) {
		size_t gap = s[i].offset - end;

		if (s[i].offset < end)
			fail_msg("%s overlaps the field before it", s[i].name);
		if (gap >= align_of(&s[i]))
			fail_msg("%zu bytes before %s are in no field: a member missing from "
				 "lib/src/stats.c's lists?", gap, s[i].name);
		if (s[i].kind == MAGSLAB_FIELD_PAIR)
			assert_int_equal(s[i].size, 2 * sizeof(uint64_t));
		if (s[i].kind == MAGSLAB_FIELD_UINT)
			assert_true(s[i].size == 4 || s[i].size == 8);
		end = s[i].offset + s[i].size;
	}
	if (struct_size - end >= sizeof(uint64_t))
		fail_msg("%zu bytes after %s are in no field", struct_size - end, s[n - 1].name);
	free(s);
}

/* Names are unique. */
static void check_unique(const struct magslab_stats_field *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t j = i + 1; j < n; j++)
			if (strcmp(t[i].name, t[j].name) == 0)
				fail_msg("%s is in the table twice", t[i].name);
}

static void test_cache_fields_tile(void **state)
{
	size_t n;
	const struct magslab_stats_field *t = magslab_cache_stats_fields(&n);

	(void)state;
	assert_true(n > 40);
	check_unique(t, n);
	check_tiling(t, n, sizeof(struct kmem_cache_stats));
	/* The fields the issue found missing from magslab-workload's JSON are all here. */
	assert_non_null(find(t, n, "pcc_wait_ns"));
	assert_non_null(find(t, n, "slabs_full"));
	assert_non_null(find(t, n, "slabs_partial"));
	assert_non_null(find(t, n, "slabs_empty"));
	assert_non_null(find(t, n, "objs_in_slabs"));
	assert_non_null(find(t, n, "ctor_failures"));
	assert_non_null(find(t, n, "pcc_mode_why"));
}

static void test_arena_fields_tile(void **state)
{
	size_t n;
	const struct magslab_stats_field *t = magslab_arena_stats_fields(&n);

	(void)state;
	assert_true(n > 20);
	check_unique(t, n);
	check_tiling(t, n, sizeof(struct arena_stats));
	assert_non_null(find(t, n, "bytes_released"));
	assert_non_null(find(t, n, "page_bytes_released"));
	assert_non_null(find(t, n, "free_dirty"));
}

/* The JSON of magslab_stats_json(), in a malloc'd string. */
static char *stats_json(void)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	magslab_stats_json(f);
	assert_int_equal(fclose(f), 0);
	return buf;
}

/* Every name of the table is a key ("NAME": ) in the JSON text after start. */
static void check_keys(const char *json, const char *start,
		       const struct magslab_stats_field *t, size_t n)
{
	const char *obj = strstr(json, start);
	char key[96];

	assert_non_null(obj);
	for (size_t i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "\"%s\": ", t[i].name);
		if (!strstr(obj, key))
			fail_msg("%s is not a key of magslab_stats_json()", t[i].name);
	}
}

static void test_values(void **state)
{
	struct kmem_cache *kc = kmem_cache_create("fields-test", 48, 0, 0, NULL, NULL, NULL,
						  NULL);
	struct kmem_cache_stats st;
	struct arena_stats ast;
	size_t n, na;
	const struct magslab_stats_field *t = magslab_cache_stats_fields(&n);
	const struct magslab_stats_field *ta = magslab_arena_stats_fields(&na);
	void *objs[300];
	char *json;

	(void)state;
	assert_non_null(kc);
	for (int i = 0; i < 300; i++)
		assert_non_null(objs[i] = kmem_cache_alloc(kc, MEM_WAIT));
	for (int i = 0; i < 300; i++)
		kmem_cache_free(kc, objs[i]);
	assert_int_equal(kmem_cache_stats(kc, &st), 0);
	assert_int_equal(magslab_stats_field_u64(find(t, n, "allocs"), &st, 0), st.allocs);
	assert_int_equal(magslab_stats_field_u64(find(t, n, "magsize"), &st, 0), st.magsize);
	assert_int_equal(magslab_stats_field_u64(find(t, n, "obj_size"), &st, 0), st.obj_size);
	assert_int_equal(magslab_stats_field_u64(find(t, n, "uses_bufctl"), &st, 0),
			 (uint64_t)st.uses_bufctl);
	assert_int_equal(magslab_stats_field_u64(find(t, n, "depot_puts"), &st, 1),
			 st.depot_puts[1]);
	assert_int_equal(magslab_stats_field_u64(find(t, n, "depot_misses"), &st, 0),
			 st.depot_misses[0]);
	assert_string_equal(magslab_stats_field_str(find(t, n, "pcc_mode"), &st), st.pcc_mode);
	assert_null(magslab_stats_field_str(find(t, n, "allocs"), &st));
	assert_int_equal(arena_stats(arena_kpages(), &ast), 0);
	assert_int_equal(magslab_stats_field_u64(find(ta, na, "total"), &ast, 0), ast.total);
	assert_int_equal(magslab_stats_field_u64(find(ta, na, "nr_tags"), &ast, 0), ast.nr_tags);

	json = stats_json();
	check_keys(json, "\"name\": \"fields-test\"", t, n);
	check_keys(json, "\"arenas\"", ta, na);
	free(json);
	assert_int_equal(kmem_cache_destroy(kc), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cache_fields_tile),
		cmocka_unit_test(test_arena_fields_tile),
		cmocka_unit_test(test_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
