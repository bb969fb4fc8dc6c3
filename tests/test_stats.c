/*
 * test_stats.c — cmocka tests for magslab_stats_print() and
 * magslab_stats_json().
 *
 * JSON: the whole output is checked by a strict little parser written here
 * (objects, arrays, strings with escapes and valid UTF-8 only, numbers,
 * literals, nothing after the value); then, for a test arena tree and a test
 * cache, every field of struct arena_stats / struct kmem_cache_stats is
 * looked up by its exact name and compared with what arena_stats() /
 * kmem_cache_stats() say, and the cache's "magsizes" array has one entry per
 * pcc slot.  Names with quotes, backslashes, control characters, non-ASCII
 * and a UTF-8 character cut by name truncation stay valid JSON.
 *
 * Table: the arena and cache names appear, importers are indented two
 * columns deeper than their source, directly under it, and every data row
 * has as many columns as the header.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <magslab/arena.h>
#include <magslab/error.h>
#include <magslab/slab.h>

#define NR_ALLOCS 1000
#define NR_FREES  600

/* ---------------------------------------------------------------------------
 * A strict JSON checker. */

struct jp {
	const char *s;
	size_t i, n;
};

static void jp_ws(struct jp *p)
{
	while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' ||
			       p->s[p->i] == '\n' || p->s[p->i] == '\r'))
		p->i++;
}

static bool jp_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

/* One valid UTF-8 sequence at p->i (first byte >= 0x80). */
static bool jp_utf8(struct jp *p)
{
	const unsigned char *u = (const unsigned char *)p->s + p->i;
	size_t left = p->n - p->i, len;
	unsigned char lo = 0x80, hi = 0xbf;

	if (u[0] >= 0xc2 && u[0] <= 0xdf)
		len = 2;
	else if (u[0] >= 0xe0 && u[0] <= 0xef)
		len = 3;
	else if (u[0] >= 0xf0 && u[0] <= 0xf4)
		len = 4;
	else
		return false;
	if (u[0] == 0xe0)
		lo = 0xa0;
	if (u[0] == 0xed)
		hi = 0x9f;
	if (u[0] == 0xf0)
		lo = 0x90;
	if (u[0] == 0xf4)
		hi = 0x8f;
	if (left < len || u[1] < lo || u[1] > hi)
		return false;
	for (size_t k = 2; k < len; k++)
		if ((u[k] & 0xc0) != 0x80)
			return false;
	p->i += len;
	return true;
}

static bool jp_string(struct jp *p)
{
	if (p->i >= p->n || p->s[p->i] != '"')
		return false;
	p->i++;
	while (p->i < p->n) {
		unsigned char c = (unsigned char)p->s[p->i];

		if (c == '"') {
			p->i++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c == '\\') {
			if (++p->i >= p->n)
				return false;
			c = (unsigned char)p->s[p->i];
			if (c == 'u') {
				if (p->i + 4 >= p->n)
					return false;
				for (int k = 1; k <= 4; k++)
					if (!jp_hex(p->s[p->i + k]))
						return false;
				p->i += 5;
			} else if (strchr("\"\\/bfnrt", c)) {
				p->i++;
			} else {
				return false;
			}
		} else if (c >= 0x80) {
			if (!jp_utf8(p))
				return false;
		} else {
			p->i++;
		}
	}
	return false;
}

static bool jp_digits(struct jp *p)
{
	size_t start = p->i;

	while (p->i < p->n && p->s[p->i] >= '0' && p->s[p->i] <= '9')
		p->i++;
	return p->i > start;
}

static bool jp_number(struct jp *p)
{
	if (p->i < p->n && p->s[p->i] == '-')
		p->i++;
	if (p->i < p->n && p->s[p->i] == '0')
		p->i++;
	else if (!jp_digits(p))
		return false;
	if (p->i < p->n && p->s[p->i] == '.') {
		p->i++;
		if (!jp_digits(p))
			return false;
	}
	if (p->i < p->n && (p->s[p->i] == 'e' || p->s[p->i] == 'E')) {
		p->i++;
		if (p->i < p->n && (p->s[p->i] == '+' || p->s[p->i] == '-'))
			p->i++;
		if (!jp_digits(p))
			return false;
	}
	return true;
}

static bool jp_value(struct jp *p, int depth);

static bool jp_object(struct jp *p, int depth)
{
	p->i++;                         /* '{' */
	jp_ws(p);
	if (p->i < p->n && p->s[p->i] == '}') {
		p->i++;
		return true;
	}
	for (;;) {
		jp_ws(p);
		if (!jp_string(p))
			return false;
		jp_ws(p);
		if (p->i >= p->n || p->s[p->i] != ':')
			return false;
		p->i++;
		if (!jp_value(p, depth + 1))
			return false;
		jp_ws(p);
		if (p->i >= p->n)
			return false;
		if (p->s[p->i] == '}') {
			p->i++;
			return true;
		}
		if (p->s[p->i] != ',')
			return false;
		p->i++;
	}
}

static bool jp_array(struct jp *p, int depth)
{
	p->i++;                         /* '[' */
	jp_ws(p);
	if (p->i < p->n && p->s[p->i] == ']') {
		p->i++;
		return true;
	}
	for (;;) {
		if (!jp_value(p, depth + 1))
			return false;
		jp_ws(p);
		if (p->i >= p->n)
			return false;
		if (p->s[p->i] == ']') {
			p->i++;
			return true;
		}
		if (p->s[p->i] != ',')
			return false;
		p->i++;
	}
}

static bool jp_literal(struct jp *p, const char *lit)
{
	size_t len = strlen(lit);

	if (p->n - p->i < len || memcmp(p->s + p->i, lit, len))
		return false;
	p->i += len;
	return true;
}

static bool jp_value(struct jp *p, int depth)
{
	if (depth > 64)
		return false;
	jp_ws(p);
	if (p->i >= p->n)
		return false;
	switch (p->s[p->i]) {
	case '{': return jp_object(p, depth);
	case '[': return jp_array(p, depth);
	case '"': return jp_string(p);
	case 't': return jp_literal(p, "true");
	case 'f': return jp_literal(p, "false");
	case 'n': return jp_literal(p, "null");
	default:  return jp_number(p);
	}
}

/* true if s[0..n) is exactly one JSON value (with surrounding blanks);
 * *where gets the offset of the first error. */
static bool json_valid(const char *s, size_t n, size_t *where)
{
	struct jp p = { s, 0, n };
	bool ok = jp_value(&p, 0);

	jp_ws(&p);
	*where = p.i;
	return ok && p.i == n;
}

/* Length of the JSON value starting at s (0 if none). */
static size_t json_value_len(const char *s, size_t n)
{
	struct jp p = { s, 0, n };

	return jp_value(&p, 0) ? p.i : 0;
}

/* ---------------------------------------------------------------------------
 * Capturing the output. */

struct out {
	char *buf;
	size_t len;
};

static void capture(struct out *o, void (*fn)(FILE *))
{
	FILE *f = open_memstream(&o->buf, &o->len);

	assert_non_null(f);
	fn(f);
	assert_int_equal(fclose(f), 0);
	assert_non_null(o->buf);
}

/* The object in json whose "name" is the JSON string jname (with quotes):
 * [*start, *start + *len).  Fails the test if it is not there. */
static void find_object(const struct out *o, const char *jname,
			const char **start, size_t *len)
{
	char key[256];
	const char *hit;

	snprintf(key, sizeof(key), "{\"name\": %s", jname);
	hit = strstr(o->buf, key);
	if (!hit)
		fail_msg("no object named %s in the JSON", jname);
	*start = hit;
	*len = json_value_len(hit, o->len - (size_t)(hit - o->buf));
	assert_true(*len > 0);
}

/* The text right after "key": inside obj (the key must appear once). */
static const char *key_value(const char *obj, size_t len, const char *key)
{
	char pat[96];
	const char *hit, *again;
	size_t plen;

	snprintf(pat, sizeof(pat), "\"%s\": ", key);
	plen = strlen(pat);
	hit = NULL;
	for (const char *p = obj; p + plen <= obj + len; p++)
		if (!memcmp(p, pat, plen)) {
			hit = p;
			break;
		}
	if (!hit)
		fail_msg("key \"%s\" missing", key);
	for (again = hit + 1; again + plen <= obj + len; again++)
		if (!memcmp(again, pat, plen))
			fail_msg("key \"%s\" appears twice", key);
	return hit + plen;
}

static uint64_t key_u64(const char *obj, size_t len, const char *key)
{
	const char *v = key_value(obj, len, key);
	char *end;
	uint64_t x;

	errno = 0;
	x = strtoull(v, &end, 10);
	if (end == v || errno)
		fail_msg("key \"%s\": not a number", key);
	return x;
}

static void key_pair(const char *obj, size_t len, const char *key,
		     const uint64_t want[2])
{
	const char *v = key_value(obj, len, key);
	unsigned long long a, b;

	if (sscanf(v, "[%llu, %llu]", &a, &b) != 2)
		fail_msg("key \"%s\": not a pair", key);
	assert_int_equal(a, want[0]);
	assert_int_equal(b, want[1]);
}

/* ---------------------------------------------------------------------------
 * Fixture: an arena tree and a cache with some activity. */

struct fixture {
	struct arena *root, *child, *grandchild;
	void *seg;
	struct kmem_cache *kc;
	void *objs[NR_ALLOCS];
};

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx)
		return -1;
	/* A pure integer range: never dereferenced. */
	fx->root = arena_create("st_root", (void *)0x10000000, 1 << 20, 64,
				NULL, NULL, NULL, 0, 0);
	fx->child = arena_create("st_child", NULL, 0, 64, NULL, NULL,
				 fx->root, 0, 0);
	fx->grandchild = arena_create("st_grandchild", NULL, 0, 64, NULL,
				      NULL, fx->child, 0, 0);
	if (!fx->root || !fx->child || !fx->grandchild)
		return -1;
	fx->seg = arena_alloc(fx->grandchild, 1000, MEM_ATOMIC);
	if (!fx->seg)
		return -1;

	fx->kc = kmem_cache_create("st_cache", 48, 0, 0, NULL, NULL, NULL,
				   NULL);
	if (!fx->kc)
		return -1;
	for (int i = 0; i < NR_ALLOCS; i++)
		if (!(fx->objs[i] = kmem_cache_alloc(fx->kc, MEM_ATOMIC)))
			return -1;
	for (int i = 0; i < NR_FREES; i++) {
		kmem_cache_free(fx->kc, fx->objs[i]);
		fx->objs[i] = NULL;
	}
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	int bad = 0;

	for (int i = 0; i < NR_ALLOCS; i++)
		if (fx->objs[i])
			kmem_cache_free(fx->kc, fx->objs[i]);
	bad |= kmem_cache_destroy(fx->kc);
	bad |= arena_free(fx->grandchild, fx->seg, 1000);
	bad |= arena_destroy(fx->grandchild);
	bad |= arena_destroy(fx->child);
	bad |= arena_destroy(fx->root);
	free(fx);
	return bad ? -1 : 0;
}

/* ---------------------------------------------------------------------------
 * JSON tests. */

static void test_json_valid(void **state)
{
	struct out o;
	size_t where;

	(void)state;
	capture(&o, magslab_stats_json);
	if (!json_valid(o.buf, o.len, &where))
		fail_msg("invalid JSON at offset %zu: ...%.40s", where,
			 o.buf + (where > 20 ? where - 20 : 0));
	assert_int_equal(strncmp(o.buf, "{\"arenas\": [", 12), 0);
	assert_non_null(strstr(o.buf, "\"caches\": ["));
	assert_null(strstr(o.buf, "\"truncated\""));
	assert_int_equal(o.buf[o.len - 1], '\n');
	free(o.buf);
}

#define ARENA_FIELDS(X)                                                       \
	X(quantum) X(total) X(allocated) X(free) X(imported) X(nr_spans)      \
	X(nr_segments) X(nr_alloc_segments) X(nr_free_segments)               \
	X(hash_lists) X(hash_items) X(hash_resizes) X(nr_allocs_ever)         \
	X(nr_frees_ever) X(nr_imports) X(nr_releases) X(bytes_released)       \
	X(nr_page_releases) X(page_bytes_released) X(free_dirty)              \
	X(nr_failures) X(nr_importers) X(nr_tags)

static void check_arena_json(const struct out *o, struct arena *a,
			     const char *jname, const char *jsource)
{
	struct arena_stats st;
	const char *obj;
	size_t len;

	assert_int_equal(arena_stats(a, &st), 0);
	find_object(o, jname, &obj, &len);
#define X(field) assert_int_equal(key_u64(obj, len, #field), st.field);
	ARENA_FIELDS(X)
#undef X
	assert_int_equal(strncmp(key_value(obj, len, "source"), jsource,
				 strlen(jsource)), 0);
}

static void test_json_arenas(void **state)
{
	struct fixture *fx = *state;
	struct arena_stats st;
	struct out o;

	capture(&o, magslab_stats_json);
	check_arena_json(&o, fx->root, "\"st_root\"", "null");
	check_arena_json(&o, fx->child, "\"st_child\"", "\"st_root\"");
	check_arena_json(&o, fx->grandchild, "\"st_grandchild\"",
			 "\"st_child\"");
	check_arena_json(&o, arena_base(), "\"base\"", "null");
	/* Sanity of the fixture itself: the grandchild imported. */
	assert_int_equal(arena_stats(fx->grandchild, &st), 0);
	assert_true(st.imported >= 1000);
	assert_int_equal(st.nr_allocs_ever, 1);
	free(o.buf);
}

#define CACHE_SCALARS(X)                                                      \
	X(allocs) X(frees) X(pcc_hits) X(depot_contended)                     \
	X(depot_contended_counted) X(contention_wait_ns)                      \
	X(contention_wait_max_ns) X(magsize_up) X(magsize_down) X(magsize)    \
	X(pcc_magsize_min) X(pcc_magsize_max) X(nr_pcc) X(depot_full)         \
	X(depot_empty) X(mags_allocated) X(slabs) X(slabs_full)               \
	X(slabs_partial) X(slabs_empty) X(slab_grows) X(slab_releases)        \
	X(objs_in_slabs) X(objs_free_in_slabs) X(objs_in_mags)                \
	X(bytes_in_mags) X(live_objs) X(hash_lists) X(hash_items)             \
	X(hash_resizes) X(pcc_contended) X(pcc_wait_ns) X(pcc_aborts)         \
	X(ctor_failures)                                                      \
	X(reaps) X(debug_errors) X(obj_size) X(align) X(slab_size)            \
	X(objs_per_slab) X(uses_bufctl) X(resize_threshold)                   \
	X(resize_timeout_ns)
#define CACHE_PAIRS(X)                                                        \
	X(mag_swaps) X(depot_gets) X(depot_puts) X(depot_misses)

static void test_json_cache(void **state)
{
	struct fixture *fx = *state;
	struct kmem_cache_stats st;
	unsigned int *ms;
	const char *obj, *v;
	char want[64];
	size_t len;
	struct out o;

	assert_int_equal(kmem_cache_stats(fx->kc, &st), 0);
	capture(&o, magslab_stats_json);
	find_object(&o, "\"st_cache\"", &obj, &len);
#define X(field) assert_int_equal(key_u64(obj, len, #field), st.field);
	CACHE_SCALARS(X)
#undef X
#define X(field) key_pair(obj, len, #field, st.field);
	CACHE_PAIRS(X)
#undef X
	snprintf(want, sizeof(want), "\"%s\"", st.policy);
	assert_int_equal(strncmp(key_value(obj, len, "policy"), want,
				 strlen(want)), 0);
	snprintf(want, sizeof(want), "\"%s\"", st.pcc_mode);
	assert_int_equal(strncmp(key_value(obj, len, "pcc_mode"), want,
				 strlen(want)), 0);
	snprintf(want, sizeof(want), "\"%.60s", st.pcc_mode_why);
	assert_int_equal(strncmp(key_value(obj, len, "pcc_mode_why"), want,
				 strlen(want)), 0);

	/* The activity we made, as the user sees it. */
	assert_int_equal(key_u64(obj, len, "allocs"), NR_ALLOCS);
	assert_int_equal(key_u64(obj, len, "frees"), NR_FREES);
	assert_int_equal(key_u64(obj, len, "live_objs"), NR_ALLOCS - NR_FREES);
	assert_int_equal(key_u64(obj, len, "obj_size"), 48);

	/* magsizes: one entry per slot, as kmem_cache_pcc_magsizes says. */
	assert_true(st.nr_pcc >= 1);
	ms = calloc(st.nr_pcc, sizeof(*ms));
	assert_non_null(ms);
	assert_int_equal(kmem_cache_pcc_magsizes(fx->kc, ms, st.nr_pcc),
			 st.nr_pcc);
	v = key_value(obj, len, "magsizes");
	assert_int_equal(*v, '[');
	v++;
	for (unsigned int i = 0; i < st.nr_pcc; i++) {
		char *end;
		unsigned long x = strtoul(v, &end, 10);

		assert_true(end > v);
		assert_int_equal(x, ms[i]);
		v = end;
		if (i + 1 < st.nr_pcc) {
			assert_int_equal(strncmp(v, ", ", 2), 0);
			v += 2;
		}
	}
	assert_int_equal(*v, ']');
	free(ms);
	free(o.buf);
}

/* Names that need escaping, and a 2-byte character cut in half by the
 * 31-byte name limit, give valid JSON with the right escapes. */
static void test_json_escapes_names(void **state)
{
	/* 9 bytes + 21 'z' = 30, then a 2-byte 'é': only its first byte fits */
	const char *name = "esc\"\\\n\x01\xc3\xa9zzzzzzzzzzzzzzzzzzzzz\xc3\xa9";
	const char *expect = "\"esc\\\"\\\\\\n\\u0001\xc3\xa9"
			     "zzzzzzzzzzzzzzzzzzzzz\\ufffd\"";
	struct kmem_cache *kc;
	struct arena *a;
	struct out o;
	size_t where;

	(void)state;
	kc = kmem_cache_create(name, 32, 0, 0, NULL, NULL, NULL, NULL);
	assert_non_null(kc);
	a = arena_create("bad\xff\"}{]", (void *)0x20000000, 1 << 16, 1,
			 NULL, NULL, NULL, 0, 0);
	assert_non_null(a);
	capture(&o, magslab_stats_json);
	if (!json_valid(o.buf, o.len, &where))
		fail_msg("invalid JSON at offset %zu: ...%.40s", where,
			 o.buf + (where > 20 ? where - 20 : 0));
	assert_non_null(strstr(o.buf, expect));
	assert_non_null(strstr(o.buf, "\"bad\\ufffd\\\"}{]\""));
	free(o.buf);

	/* The table shows control characters as '?'. */
	capture(&o, magslab_stats_print);
	assert_non_null(strstr(o.buf, "esc\"\\??\xc3\xa9z"));
	free(o.buf);
	assert_int_equal(kmem_cache_destroy(kc), 0);
	assert_int_equal(arena_destroy(a), 0);
}

/* ---------------------------------------------------------------------------
 * Table tests. */

/* The line whose first non-blank text is name followed by a blank; its
 * indentation in *indent.  NULL if none. */
static const char *find_row(const char *buf, const char *name, size_t *indent)
{
	size_t nlen = strlen(name);

	for (const char *line = buf; line && *line;) {
		const char *p = line;

		while (*p == ' ')
			p++;
		if (!strncmp(p, name, nlen) && p[nlen] == ' ') {
			*indent = (size_t)(p - line);
			return line;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return NULL;
}

static const char *next_line(const char *line)
{
	const char *nl = strchr(line, '\n');

	return nl ? nl + 1 : NULL;
}

/* Number of blank-separated fields on the line, where a field is a run of
 * non-blanks or single blanks (so "hash lists" is one field). */
static unsigned int count_columns(const char *line)
{
	unsigned int n = 0;
	const char *p = line;

	while (*p == ' ')
		p++;
	while (*p && *p != '\n') {
		n++;
		while (*p && *p != '\n' && !(p[0] == ' ' && p[1] == ' ') &&
		       !(p[0] == ' ' && p[1] == '\n'))
			p++;
		while (*p == ' ')
			p++;
	}
	return n;
}

/* Column col (0-based, as count_columns() counts) of the line. */
static void column(const char *line, unsigned int col, char *out, size_t len)
{
	const char *p = line;
	unsigned int n = 0;

	while (*p == ' ')
		p++;
	while (*p && *p != '\n') {
		const char *start = p;

		while (*p && *p != '\n' && !(p[0] == ' ' && p[1] == ' ') &&
		       !(p[0] == ' ' && p[1] == '\n'))
			p++;
		if (n++ == col) {
			snprintf(out, len, "%.*s", (int)(p - start), start);
			return;
		}
		while (*p == ' ')
			p++;
	}
	fail_msg("no column %u in: %.80s", col, line);
}

static void test_print_tree(void **state)
{
	struct fixture *fx = *state;
	const char *root, *child, *grand, *base, *kpages;
	size_t ir, ic, ig, ib, ik;
	struct out o;

	(void)fx;
	capture(&o, magslab_stats_print);
	root = find_row(o.buf, "st_root", &ir);
	child = find_row(o.buf, "st_child", &ic);
	grand = find_row(o.buf, "st_grandchild", &ig);
	base = find_row(o.buf, "base", &ib);
	kpages = find_row(o.buf, "kpages", &ik);
	assert_non_null(root);
	assert_non_null(child);
	assert_non_null(grand);
	assert_non_null(base);
	assert_non_null(kpages);
	/* Each importer directly under its source, two columns deeper. */
	assert_int_equal(ir, 0);
	assert_int_equal(ic, ir + 2);
	assert_int_equal(ig, ic + 2);
	assert_ptr_equal(next_line(root), child);
	assert_ptr_equal(next_line(child), grand);
	assert_int_equal(ib, 0);
	assert_int_equal(ik, 2);
	assert_ptr_equal(next_line(base), kpages);
	free(o.buf);
}

static void test_print_contents(void **state)
{
	struct fixture *fx = *state;
	const char *hdr, *row, *cache_hdr, *cache_row;
	size_t indent;
	char field[64];
	struct out o;

	(void)fx;
	capture(&o, magslab_stats_print);
	hdr = find_row(o.buf, "name", &indent);
	assert_non_null(hdr);
	assert_non_null(strstr(hdr, "quantum"));
	assert_non_null(strstr(hdr, "allocs ever"));
	row = find_row(o.buf, "st_root", &indent);
	assert_int_equal(count_columns(row), count_columns(hdr));

	cache_hdr = strstr(o.buf, "\ncaches");
	assert_non_null(cache_hdr);
	cache_hdr = find_row(cache_hdr + 1, "name", &indent);
	assert_non_null(cache_hdr);
	assert_non_null(strstr(cache_hdr, "pcc hit %"));
	assert_non_null(strstr(cache_hdr, "bytes in mags"));
	cache_row = find_row(o.buf, "st_cache", &indent);
	assert_non_null(cache_row);
	assert_true(cache_row > cache_hdr);
	assert_int_equal(count_columns(cache_row), count_columns(cache_hdr));
	/* The allocs and frees columns. */
	column(cache_hdr, 4, field, sizeof(field));
	assert_string_equal(field, "allocs");
	column(cache_row, 4, field, sizeof(field));
	assert_string_equal(field, "1000");
	column(cache_hdr, 5, field, sizeof(field));
	assert_string_equal(field, "frees");
	column(cache_row, 5, field, sizeof(field));
	assert_string_equal(field, "600");
	column(cache_row, 1, field, sizeof(field));
	assert_string_equal(field, "48");
	free(o.buf);
}

static void test_null_stream(void **state)
{
	(void)state;
	magslab_stats_print(NULL);
	magslab_stats_json(NULL);
}

/* Writing to a real file (tmpfile) works as well as to a memory stream. */
static void test_tmpfile(void **state)
{
	FILE *f = tmpfile();
	char *buf;
	long len;
	size_t where;

	(void)state;
	assert_non_null(f);
	magslab_stats_json(f);
	len = ftell(f);
	assert_true(len > 0);
	buf = malloc((size_t)len);
	assert_non_null(buf);
	rewind(f);
	assert_int_equal(fread(buf, 1, (size_t)len, f), (size_t)len);
	assert_true(json_valid(buf, (size_t)len, &where));
	free(buf);
	fclose(f);
}

/* Stats taken while other threads create, use and destroy arenas and
 * caches: no deadlock (list lock -> pcc -> depot -> slab), no use after
 * free, and every snapshot is valid JSON. */
#define CHURN_THREADS 3
#define CHURN_ROUNDS  40

static atomic_bool churn_stop;
static atomic_uint churn_errors;

static void *churn(void *arg)
{
	unsigned int id = (unsigned int)(uintptr_t)arg;
	void *objs[64];
	char name[32];

	while (!atomic_load(&churn_stop)) {
		struct arena *a;
		struct kmem_cache *kc;

		snprintf(name, sizeof(name), "churn%u", id);
		a = arena_create(name, NULL, 0, 4096, NULL, NULL,
				 arena_kpages(), 0, 0);
		kc = kmem_cache_create(name, 24 + 8 * id, 0, 0, a, NULL, NULL,
				       NULL);
		if (!a || !kc) {
			atomic_fetch_add(&churn_errors, 1);
			break;
		}
		for (int i = 0; i < 64; i++)
			objs[i] = kmem_cache_alloc(kc, MEM_ATOMIC);
		for (int i = 0; i < 64; i++)
			if (objs[i])
				kmem_cache_free(kc, objs[i]);
		if (kmem_cache_destroy(kc) || arena_destroy(a))
			atomic_fetch_add(&churn_errors, 1);
	}
	return NULL;
}

static void test_concurrent_churn(void **state)
{
	pthread_t t[CHURN_THREADS];
	size_t where;

	(void)state;
	atomic_store(&churn_stop, false);
	atomic_store(&churn_errors, 0);
	for (unsigned int i = 0; i < CHURN_THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, churn,
						(void *)(uintptr_t)i), 0);
	for (int r = 0; r < CHURN_ROUNDS; r++) {
		struct out o;

		capture(&o, magslab_stats_json);
		if (!json_valid(o.buf, o.len, &where))
			fail_msg("round %d: invalid JSON at %zu", r, where);
		free(o.buf);
		capture(&o, magslab_stats_print);
		free(o.buf);
	}
	atomic_store(&churn_stop, true);
	for (int i = 0; i < CHURN_THREADS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	assert_int_equal(atomic_load(&churn_errors), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_null_stream),
		cmocka_unit_test_setup_teardown(test_json_valid, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_json_arenas, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_json_cache, setup,
						teardown),
		cmocka_unit_test(test_json_escapes_names),
		cmocka_unit_test_setup_teardown(test_print_tree, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_print_contents, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_tmpfile, setup, teardown),
		cmocka_unit_test(test_concurrent_churn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
