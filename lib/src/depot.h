/*
 * depot.h — what magazine.c asks of the depot (depot.c): the exchanges a
 * held pcc makes with it, and its part of a cache's life cycle, stats and
 * fork.  The tunables' setters are public (magslab/slab.h).
 *
 * Locking: every call takes and drops d->lock itself; the exchanges are
 * made with the pcc held (pcc -> depot).
 */
#ifndef MAGSLAB_DEPOT_H
#define MAGSLAB_DEPOT_H

#include "config.h"
#include "slab_impl.h"

/* Alloc side: trade prev (empty) for a not-empty depot magazine; both pcc
 * magazines are empty on entry.  true if loaded now has rounds. */
bool depot_get_full(struct kmem_cache *kc, struct pcc *p);

enum free_exchange { FREE_RETRY, FREE_MISS };

/* Free side: adopt the depot's magsize, then trade prev (full) for an
 * empty depot magazine.  FREE_RETRY if loaded may now take the object. */
enum free_exchange depot_get_empty(struct kmem_cache *kc, struct pcc *p);

/* A freshly allocated magazine joins the depot's empty list. */
void depot_add_empty(struct kmem_cache *kc, struct magazine *m,
		     uint32_t slot);

/* Gives every round of m back to the slab layer (dtor first). */
void magazine_empty_rounds(struct kmem_cache *kc, struct magazine *m);

void depot_init(struct kmem_cache *kc, const struct magslab_config *cfg);
/* Frees every depot magazine (rounds to the slabs). */
void depot_drain(struct kmem_cache *kc);
/* Frees the magazines the policy picks; returns bytes freed, and how many
 * in *nr. */
size_t depot_reap(struct kmem_cache *kc, size_t *nr);
/* The depot's counters and tunables into st. */
void depot_stats(struct kmem_cache *kc, struct kmem_cache_stats *st);
/* fork.c's order: every pcc, then every depot (lock), then slabs. */
void depot_fork_lock(struct kmem_cache *kc);
void depot_fork_unlock(struct kmem_cache *kc, bool child);

#endif /* MAGSLAB_DEPOT_H */
