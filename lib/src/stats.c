/*
 * stats.c — magslab_stats_print() and magslab_stats_json(): every arena and
 * every cache, as a kmemstat-style table or as one JSON object; and the
 * field lists of struct arena_stats and struct kmem_cache_stats, as the
 * X-macro lists below and as the constant tables that
 * magslab_*_stats_fields() hand out (magslab/stats_fields.h).  The JSON
 * writer reads the same tables, so the library's JSON and any tool that
 * uses the tables list the same fields.
 *
 * Owns: nothing that outlives a call.  Uses only the public API
 * (arena_for_each, arena_stats, arena_name, arena_source, kmem_cache_for_each,
 * kmem_cache_stats, kmem_cache_name, kmem_cache_pcc_magsizes), so it sees
 * exactly what a user would.
 *
 * How: a snapshot first, output second.  The for_each callbacks run under
 * the global arena / cache list locks, which is also what keeps each arena
 * and cache alive while we look at it; they copy names and stats (each
 * *_stats call takes only that object's own locks) into arrays malloc'ed
 * here and keep arena pointers only as identities, to build the
 * source -> importer tree afterwards.  Nothing is written to the FILE while
 * a list lock is held, so a slow or blocking stream (a pipe) cannot stall
 * the allocator.  Objects created during the call may or may not appear;
 * objects destroyed during it are never touched after their callback.
 *
 * Invariants of the output: the JSON is always valid (names are escaped, and
 * bytes that are not valid UTF-8, e.g. a multi-byte character cut by name
 * truncation, become U+FFFD); its keys are exactly the field names of
 * struct arena_stats and struct kmem_cache_stats (two-sided counters as
 * [alloc side, free side] arrays), plus "name", "source" (arenas: the
 * source's name or null) and "magsizes" (caches: one entry per pcc slot).
 * If memory for the snapshot runs out, what was collected is still written,
 * with "truncated": true (JSON) or a "(truncated: out of memory)" line.
 *
 * Locking: none of its own; see above for the list locks.
 */
#include <magslab/arena.h>
#include <magslab/slab.h>
#include <magslab/stats_fields.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------------------
 * The snapshot. */

struct arena_snap {
	const struct arena *id;         /* identity only: never dereferenced */
	const struct arena *source;     /* identity only */
	char name[ARENA_NAME_LEN];
	char source_name[ARENA_NAME_LEN];
	struct arena_stats st;
	unsigned int depth;             /* in the source tree (print order) */
	bool placed;
};

struct cache_snap {
	char name[KMC_NAME_LEN];
	struct kmem_cache_stats st;
	unsigned int *magsizes;         /* nr_magsizes entries, may be NULL */
	unsigned int nr_magsizes;
};

struct snapshot {
	struct arena_snap *arenas;
	size_t nr_arenas, cap_arenas;
	struct cache_snap *caches;
	size_t nr_caches, cap_caches;
	bool truncated;                 /* ran out of memory: partial */
};

/* Makes room for one more element of size sz in *arr; false: no memory. */
static bool grow(void **arr, size_t *cap, size_t nr, size_t sz)
{
	size_t ncap;
	void *n;

	if (nr < *cap)
		return true;
	ncap = *cap ? *cap * 2 : 16;
	n = realloc(*arr, ncap * sz);
	if (!n)
		return false;
	*arr = n;
	*cap = ncap;
	return true;
}

static void copy_name(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src ? src : "");
}

/* Under the arena list lock. */
static void snap_arena(struct arena *a, void *arg)
{
	struct snapshot *s = arg;
	struct arena_snap *as;
	struct arena *src;

	if (!grow((void **)&s->arenas, &s->cap_arenas, s->nr_arenas,
		  sizeof(*s->arenas))) {
		s->truncated = true;
		return;
	}
	as = &s->arenas[s->nr_arenas];
	memset(as, 0, sizeof(*as));
	if (arena_stats(a, &as->st) != 0)
		return;
	as->id = a;
	src = arena_source(a);
	as->source = src;
	copy_name(as->name, sizeof(as->name), arena_name(a));
	if (src)
		copy_name(as->source_name, sizeof(as->source_name),
			  arena_name(src));
	s->nr_arenas++;
}

/* Under the cache list lock. */
static void snap_cache(struct kmem_cache *kc, void *arg)
{
	struct snapshot *s = arg;
	struct cache_snap *cs;

	if (!grow((void **)&s->caches, &s->cap_caches, s->nr_caches,
		  sizeof(*s->caches))) {
		s->truncated = true;
		return;
	}
	cs = &s->caches[s->nr_caches];
	memset(cs, 0, sizeof(*cs));
	if (kmem_cache_stats(kc, &cs->st) != 0)
		return;
	copy_name(cs->name, sizeof(cs->name), kmem_cache_name(kc));
	if (cs->st.nr_pcc) {
		unsigned int n = cs->st.nr_pcc, got;

		cs->magsizes = calloc(n, sizeof(*cs->magsizes));
		if (cs->magsizes) {
			got = kmem_cache_pcc_magsizes(kc, cs->magsizes, n);
			cs->nr_magsizes = got < n ? got : n;
		} else {
			s->truncated = true;
		}
	}
	s->nr_caches++;
}

static void snapshot_take(struct snapshot *s)
{
	memset(s, 0, sizeof(*s));
	arena_for_each(snap_arena, s);
	kmem_cache_for_each(snap_cache, s);
}

static void snapshot_free(struct snapshot *s)
{
	for (size_t i = 0; i < s->nr_caches; i++)
		free(s->caches[i].magsizes);
	free(s->caches);
	free(s->arenas);
}

static bool is_in_snapshot(const struct snapshot *s, const struct arena *a)
{
	for (size_t i = 0; i < s->nr_arenas; i++)
		if (s->arenas[i].id == a)
			return true;
	return false;
}

/* Appends a and its importers (depth first, creation order) to order[]. */
static void place_tree(struct snapshot *s, size_t i, unsigned int depth,
		       size_t *order, size_t *nr)
{
	struct arena_snap *as = &s->arenas[i];

	if (as->placed)
		return;
	as->placed = true;
	as->depth = depth;
	order[(*nr)++] = i;
	for (size_t j = 0; j < s->nr_arenas; j++)
		if (s->arenas[j].source == as->id)
			place_tree(s, j, depth + 1, order, nr);
}

/* The arenas in tree order: each source followed by its importers.  Roots
 * are arenas without a source (or whose source was not in the snapshot). */
static size_t *arena_tree_order(struct snapshot *s)
{
	size_t *order = calloc(s->nr_arenas ? s->nr_arenas : 1,
			       sizeof(*order));
	size_t nr = 0;

	if (!order)
		return NULL;
	for (size_t i = 0; i < s->nr_arenas; i++)
		if (!s->arenas[i].source ||
		    !is_in_snapshot(s, s->arenas[i].source))
			place_tree(s, i, 0, order, &nr);
	/* A source cycle cannot happen; place anything left over anyway. */
	for (size_t i = 0; i < s->nr_arenas; i++)
		place_tree(s, i, 0, order, &nr);
	return order;
}

/* ---------------------------------------------------------------------------
 * The table. */

#define CELL        72
#define MAX_COLS    16
#define INDENT_MAX  16      /* levels of importer indentation shown */

struct table {
	size_t ncols, nrows, cap;
	char (*cells)[CELL];            /* nrows * ncols, row 0 the header */
	bool bad;                       /* out of memory */
};

static void table_init(struct table *t, size_t ncols)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols;
}

/* A new row of empty cells; NULL when out of memory. */
static char (*table_row(struct table *t))[CELL]
{
	char (*row)[CELL];

	if (t->bad)
		return NULL;
	if (t->nrows == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 16;
		void *n = realloc(t->cells, ncap * t->ncols * CELL);

		if (!n) {
			t->bad = true;
			return NULL;
		}
		t->cells = n;
		t->cap = ncap;
	}
	row = &t->cells[t->nrows++ * t->ncols];
	memset(row, 0, t->ncols * CELL);
	return row;
}

/* Display width: one column per character (UTF-8 continuation bytes do
 * not count). */
static size_t text_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

/* A name for a table cell: control characters become '?'. */
static void cell_name(char *cell, unsigned int indent, const char *name)
{
	size_t i = 0;

	if (indent > INDENT_MAX)
		indent = INDENT_MAX;
	for (unsigned int k = 0; k < 2 * indent; k++)
		cell[i++] = ' ';
	for (; *name && i < CELL - 1; name++) {
		unsigned char c = (unsigned char)*name;

		cell[i++] = (c < 0x20 || c == 0x7f) ? '?' : (char)c;
	}
	cell[i] = '\0';
}

static void table_print(FILE *f, const struct table *t)
{
	size_t width[MAX_COLS] = { 0 };

	for (size_t r = 0; r < t->nrows; r++)
		for (size_t c = 0; c < t->ncols; c++) {
			size_t w = text_width(t->cells[r * t->ncols + c]);

			if (w > width[c])
				width[c] = w;
		}
	for (size_t r = 0; r < t->nrows; r++) {
		for (size_t c = 0; c < t->ncols; c++) {
			const char *cell = t->cells[r * t->ncols + c];
			size_t pad = width[c] - text_width(cell);

			if (c == 0) {           /* names: left-aligned */
				fputs(cell, f);
				if (t->ncols > 1)
					fprintf(f, "%*s", (int)pad, "");
			} else {                /* numbers: right-aligned */
				fprintf(f, "  %*s%s", (int)pad, "", cell);
			}
		}
		fputc('\n', f);
	}
}

#define CELLF(row, col, ...) snprintf((row)[col], CELL, __VA_ARGS__)

static void print_arenas(FILE *f, struct snapshot *s)
{
	static const char *const head[] = {
		"name", "quantum", "total", "allocated", "free", "imported",
		"segments", "hash lists", "allocs ever",
	};
	const size_t ncols = sizeof(head) / sizeof(head[0]);
	size_t *order = arena_tree_order(s);
	struct table t;
	char (*row)[CELL];

	if (!order) {
		fputs("arenas: (out of memory)\n", f);
		return;
	}
	table_init(&t, ncols);
	if ((row = table_row(&t)))
		for (size_t c = 0; c < ncols; c++)
			CELLF(row, c, "%s", head[c]);
	for (size_t k = 0; k < s->nr_arenas; k++) {
		const struct arena_snap *as = &s->arenas[order[k]];

		if (!(row = table_row(&t)))
			break;
		cell_name(row[0], as->depth, as->name);
		CELLF(row, 1, "%zu", as->st.quantum);
		CELLF(row, 2, "%zu", as->st.total);
		CELLF(row, 3, "%zu", as->st.allocated);
		CELLF(row, 4, "%zu", as->st.free);
		CELLF(row, 5, "%zu", as->st.imported);
		CELLF(row, 6, "%zu", as->st.nr_segments);
		CELLF(row, 7, "%zu", as->st.hash_lists);
		CELLF(row, 8, "%llu",
		      (unsigned long long)as->st.nr_allocs_ever);
	}
	fputs("arenas (importers indented under their source):\n", f);
	table_print(f, &t);
	if (t.bad)
		fputs("(truncated: out of memory)\n", f);
	free(t.cells);
	free(order);
}

static unsigned long long ull(uint64_t v)
{
	return (unsigned long long)v;
}

static void print_caches(FILE *f, const struct snapshot *s)
{
	static const char *const head[] = {
		"name", "obj size", "magsize", "pcc min/max", "allocs",
		"frees", "pcc hit %", "depot gets/puts",
		"contended (counted)", "bumps up/down", "slabs",
		"objs in mags", "bytes in mags", "hash lists/items/resizes",
		"pcc mode",
	};
	const size_t ncols = sizeof(head) / sizeof(head[0]);
	struct table t;
	char (*row)[CELL];

	table_init(&t, ncols);
	if ((row = table_row(&t)))
		for (size_t c = 0; c < ncols; c++)
			CELLF(row, c, "%s", head[c]);
	for (size_t k = 0; k < s->nr_caches; k++) {
		const struct kmem_cache_stats *st = &s->caches[k].st;
		uint64_t ops = st->allocs + st->frees;

		if (!(row = table_row(&t)))
			break;
		cell_name(row[0], 0, s->caches[k].name);
		CELLF(row, 1, "%zu", st->obj_size);
		CELLF(row, 2, "%u", st->magsize);
		CELLF(row, 3, "%u/%u", st->pcc_magsize_min,
		      st->pcc_magsize_max);
		CELLF(row, 4, "%llu", ull(st->allocs));
		CELLF(row, 5, "%llu", ull(st->frees));
		if (ops)
			CELLF(row, 6, "%.1f",
			      100.0 * (double)st->pcc_hits / (double)ops);
		else
			CELLF(row, 6, "-");
		CELLF(row, 7, "%llu/%llu",
		      ull(st->depot_gets[KMEM_ALLOC_SIDE] +
			  st->depot_gets[KMEM_FREE_SIDE]),
		      ull(st->depot_puts[KMEM_ALLOC_SIDE] +
			  st->depot_puts[KMEM_FREE_SIDE]));
		CELLF(row, 8, "%llu (%llu)", ull(st->depot_contended),
		      ull(st->depot_contended_counted));
		CELLF(row, 9, "%llu/%llu", ull(st->magsize_up),
		      ull(st->magsize_down));
		CELLF(row, 10, "%llu", ull(st->slabs));
		CELLF(row, 11, "%llu", ull(st->objs_in_mags));
		CELLF(row, 12, "%llu", ull(st->bytes_in_mags));
		CELLF(row, 13, "%llu/%llu/%llu", ull(st->hash_lists),
		      ull(st->hash_items), ull(st->hash_resizes));
		CELLF(row, 14, "%s", st->pcc_mode);
	}
	fputs("caches (pcc hit % = pcc_hits / (allocs + frees)):\n", f);
	if (s->nr_caches == 0)
		fputs("(none)\n", f);
	else
		table_print(f, &t);
	if (t.bad)
		fputs("(truncated: out of memory)\n", f);
	free(t.cells);
}

void magslab_stats_print(FILE *f)
{
	struct snapshot s;

	if (!f)
		return;
	snapshot_take(&s);
	print_arenas(f, &s);
	fputc('\n', f);
	print_caches(f, &s);
	if (s.truncated)
		fputs("(truncated: out of memory)\n", f);
	snapshot_free(&s);
	fflush(f);
}

/* ---------------------------------------------------------------------------
 * JSON. */

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t len;

	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	/* Second-byte limits rule out overlongs, surrogates, > U+10FFFF. */
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

/* s[0..n) as a JSON string (stops early at a NUL). */
static void json_str(FILE *f, const char *str, size_t n)
{
	const unsigned char *s = (const unsigned char *)str;

	fputc('"', f);
	for (size_t i = 0; i < n && s[i]; i++) {
		unsigned char c = s[i];
		size_t len;

		switch (c) {
		case '"':  fputs("\\\"", f); continue;
		case '\\': fputs("\\\\", f); continue;
		case '\b': fputs("\\b", f); continue;
		case '\f': fputs("\\f", f); continue;
		case '\n': fputs("\\n", f); continue;
		case '\r': fputs("\\r", f); continue;
		case '\t': fputs("\\t", f); continue;
		default:   break;
		}
		if (c < 0x20) {
			fprintf(f, "\\u%04x", c);
		} else if (c < 0x80) {
			fputc(c, f);
		} else if ((len = utf8_seq(s + i, n - i)) != 0) {
			fwrite(s + i, 1, len, f);
			i += len - 1;
		} else {
			fputs("\\ufffd", f);
		}
	}
	fputc('"', f);
}

static void json_key(FILE *f, const char *key)
{
	fprintf(f, ", \"%s\": ", key);
}

static void json_u64(FILE *f, const char *key, uint64_t v)
{
	json_key(f, key);
	fprintf(f, "%llu", ull(v));
}

static void json_pair(FILE *f, const char *key, const uint64_t v[2])
{
	json_key(f, key);
	fprintf(f, "[%llu, %llu]", ull(v[0]), ull(v[1]));
}

/* Every field of struct arena_stats, by its own name. */
#define ARENA_FIELDS(X)                                                       \
	X(quantum) X(total) X(allocated) X(free) X(imported) X(nr_spans)      \
	X(nr_segments) X(nr_alloc_segments) X(nr_free_segments)               \
	X(hash_lists) X(hash_items) X(hash_resizes) X(nr_allocs_ever)         \
	X(nr_frees_ever) X(nr_imports) X(nr_releases) X(bytes_released)       \
	X(nr_page_releases) X(page_bytes_released) X(free_dirty)              \
	X(nr_failures) X(nr_importers) X(nr_tags)

/* Every scalar field of struct kmem_cache_stats; the [2] arrays and the
 * policy string are written separately, in their place. */
#define CACHE_FIELDS_1(X)                                                     \
	X(allocs) X(frees) X(pcc_hits)
#define CACHE_PAIRS(X)                                                        \
	X(mag_swaps) X(depot_gets) X(depot_puts) X(depot_misses)
#define CACHE_FIELDS_2(X)                                                     \
	X(depot_contended) X(depot_contended_counted) X(contention_wait_ns)   \
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

/*
 * The same lists as data, for magslab_*_stats_fields() (magslab/stats_fields.h) and the
 * writers below: one list of fields, whoever reads it.
 */
#define FIELD(type, field, kind)                                              \
	{ #field, offsetof(struct type, field),                               \
	  sizeof(((struct type *)0)->field), kind },
#define ARENA_UINT(field) FIELD(arena_stats, field, MAGSLAB_FIELD_UINT)
#define CACHE_UINT(field) FIELD(kmem_cache_stats, field, MAGSLAB_FIELD_UINT)
#define CACHE_PAIR(field) FIELD(kmem_cache_stats, field, MAGSLAB_FIELD_PAIR)
#define CACHE_STRING(field) FIELD(kmem_cache_stats, field, MAGSLAB_FIELD_STRING)

static const struct magslab_stats_field arena_fields[] = {
	ARENA_FIELDS(ARENA_UINT)
};

static const struct magslab_stats_field cache_fields[] = {
	CACHE_FIELDS_1(CACHE_UINT)
	CACHE_PAIRS(CACHE_PAIR)
	CACHE_FIELDS_2(CACHE_UINT)
	CACHE_STRING(policy)
	CACHE_STRING(pcc_mode)
	CACHE_STRING(pcc_mode_why)
};

#define NR_FIELDS(t) (sizeof(t) / sizeof((t)[0]))

const struct magslab_stats_field *magslab_cache_stats_fields(size_t *n)
{
	if (n)
		*n = NR_FIELDS(cache_fields);
	return cache_fields;
}

const struct magslab_stats_field *magslab_arena_stats_fields(size_t *n)
{
	if (n)
		*n = NR_FIELDS(arena_fields);
	return arena_fields;
}

uint64_t magslab_stats_field_u64(const struct magslab_stats_field *f, const void *st,
				 unsigned int i)
{
	const char *p = (const char *)st + f->offset;
	uint64_t v64;
	uint32_t v32;

	switch (f->kind) {
	case MAGSLAB_FIELD_PAIR:
		memcpy(&v64, p + (i ? sizeof(v64) : 0), sizeof(v64));
		return v64;
	case MAGSLAB_FIELD_UINT:
		if (f->size == sizeof(v32)) {
			memcpy(&v32, p, sizeof(v32));
			return v32;
		}
		memcpy(&v64, p, sizeof(v64));
		return v64;
	default:
		return 0;
	}
}

const char *magslab_stats_field_str(const struct magslab_stats_field *f, const void *st)
{
	return f->kind == MAGSLAB_FIELD_STRING ? (const char *)st + f->offset : NULL;
}

/* Every field of the table at st, as JSON members (", KEY: VALUE" each). */
static void json_fields(FILE *f, const struct magslab_stats_field *t, size_t n,
			const void *st)
{
	for (size_t i = 0; i < n; i++) {
		uint64_t v[2];

		switch (t[i].kind) {
		case MAGSLAB_FIELD_UINT:
			json_u64(f, t[i].name, magslab_stats_field_u64(&t[i], st, 0));
			break;
		case MAGSLAB_FIELD_PAIR:
			v[0] = magslab_stats_field_u64(&t[i], st, 0);
			v[1] = magslab_stats_field_u64(&t[i], st, 1);
			json_pair(f, t[i].name, v);
			break;
		case MAGSLAB_FIELD_STRING:
			json_key(f, t[i].name);
			json_str(f, magslab_stats_field_str(&t[i], st), t[i].size);
			break;
		}
	}
}

static void json_arena(FILE *f, const struct arena_snap *as)
{
	fputs("{\"name\": ", f);
	json_str(f, as->name, sizeof(as->name));
	json_key(f, "source");
	if (as->source)
		json_str(f, as->source_name, sizeof(as->source_name));
	else
		fputs("null", f);
	json_fields(f, arena_fields, NR_FIELDS(arena_fields), &as->st);
	fputc('}', f);
}

static void json_cache(FILE *f, const struct cache_snap *cs)
{
	fputs("{\"name\": ", f);
	json_str(f, cs->name, sizeof(cs->name));
	json_fields(f, cache_fields, NR_FIELDS(cache_fields), &cs->st);
	json_key(f, "magsizes");
	fputc('[', f);
	for (unsigned int i = 0; i < cs->nr_magsizes; i++)
		fprintf(f, "%s%u", i ? ", " : "", cs->magsizes[i]);
	fputs("]}", f);
}

void magslab_stats_json(FILE *f)
{
	struct snapshot s;

	if (!f)
		return;
	snapshot_take(&s);
	fputs("{\"arenas\": [", f);
	for (size_t i = 0; i < s.nr_arenas; i++) {
		fputs(i ? ",\n  " : "\n  ", f);
		json_arena(f, &s.arenas[i]);
	}
	fputs(s.nr_arenas ? "\n ],\n \"caches\": [" : "],\n \"caches\": [",
	      f);
	for (size_t i = 0; i < s.nr_caches; i++) {
		fputs(i ? ",\n  " : "\n  ", f);
		json_cache(f, &s.caches[i]);
	}
	fputs(s.nr_caches ? "\n ]" : "]", f);
	if (s.truncated)
		fputs(",\n \"truncated\": true", f);
	fputs("}\n", f);
	snapshot_free(&s);
	fflush(f);
}
