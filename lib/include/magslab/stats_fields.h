/*
 * magslab/stats_fields.h — the fields of struct kmem_cache_stats and struct arena_stats as
 * data: each member's name, offset, size and kind, in the order magslab_stats_json() writes
 * them.
 *
 * For tools that print, store or compare stats (magslab-workload's JSON, for one) without
 * naming every member by hand: a member added to either struct is in these tables (and so
 * in every such tool) as soon as it is in the library's own lists (lib/src/stats.c, the
 * X-macro lists that magslab_stats_json() is written from), and tests/test_stats_fields.c
 * fails if a member of either struct is in neither.
 *
 * The tables are constant and live for the whole program: no locking, nothing to free.
 */
#ifndef MAGSLAB_STATS_FIELDS_H
#define MAGSLAB_STATS_FIELDS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum magslab_field_kind {
	MAGSLAB_FIELD_UINT,   /* an integer member of 4 or 8 bytes, read as unsigned (as
			       * magslab_stats_json() writes it; uses_bufctl is an int 0/1) */
	MAGSLAB_FIELD_PAIR,   /* uint64_t[2]: [alloc side, free side] */
	MAGSLAB_FIELD_STRING  /* char[size], NUL-terminated */
};

struct magslab_stats_field {
	const char *name;            /* the member's name, e.g. "depot_gets" */
	size_t offset;               /* offsetof() the member */
	size_t size;                 /* sizeof() the member */
	enum magslab_field_kind kind;
};

/* Every member of struct kmem_cache_stats; *n gets the count. */
const struct magslab_stats_field *magslab_cache_stats_fields(size_t *n);

/* Every member of struct arena_stats; *n gets the count. */
const struct magslab_stats_field *magslab_arena_stats_fields(size_t *n);

/*
 * The value of field f in the stats struct at st (a struct kmem_cache_stats or struct
 * arena_stats, as f's table): a UINT member's value, or element i (0 or 1) of a PAIR;
 * 0 for a STRING.
 */
uint64_t magslab_stats_field_u64(const struct magslab_stats_field *f, const void *st,
				 unsigned int i);

/* A STRING member's text (NULL for the other kinds). */
const char *magslab_stats_field_str(const struct magslab_stats_field *f, const void *st);

#ifdef __cplusplus
}
#endif
#endif /* MAGSLAB_STATS_FIELDS_H */
