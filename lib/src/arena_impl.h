/*
 * arena_impl.h — what arena.c offers the rest of the library beyond
 * magslab/arena.h.
 *
 * Locking: both functions take no lock of the caller's; call them with no
 * slab or arena lock held (arena_reap_chain takes pcc, depot, slab and arena
 * locks in the usual order).
 */
#ifndef MAGSLAB_ARENA_IMPL_H
#define MAGSLAB_ARENA_IMPL_H

#include <magslab/arena.h>

#include "error.h"

#include <stdbool.h>

/* arena_reap() without the handle check, for callers that hold a handle
 * they know is live (a cache's source).  NULL reaps only base. */
size_t arena_reap_chain(struct arena *a);

/* True if a is a live arena; otherwise sets e to one line that says what
 * a is (NULL, a destroyed arena by name, or no arena) after "fn: ".  Reads
 * *a only if it is an arena, live or in quarantine. */
bool arena_handle_check(const struct arena *a, const char *fn,
			struct ms_err *e);

#endif /* MAGSLAB_ARENA_IMPL_H */
