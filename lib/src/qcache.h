/*
 * qcache.h — what arena.c needs of the object caches: its quantum caches
 * (qcache.c) and the internal caches' reap (cache.c).  arena.c includes
 * this and nothing else of the cache side.
 *
 * Locking: call with no arena or slab lock held (they take pcc -> depot ->
 * slab -> arena locks in the usual order).
 */
#ifndef MAGSLAB_QCACHE_H
#define MAGSLAB_QCACHE_H

#include <magslab/slab.h>

#include <stdbool.h>
#include <stdint.h>

/* A quantum cache of a's objects of obj_size bytes (a multiple of the
 * quantum, at most qcache_max): NOTOUCH, bufctl slabs of
 * round_up_pow2(3 * qcache_max) bytes from a itself. */
struct kmem_cache *kmem_qcache_create(struct arena *a, size_t obj_size,
				      size_t qcache_max);
/* Quantum caches track which of their objects arena callers hold, so that
 * arena_free() can refuse a wrong size, a foreign address or a double free
 * (a qcache would otherwise take any pointer into its magazines).
 * claim: obj was just handed out.  release: false if obj is not held. */
void kmem_qcache_claim(struct kmem_cache *kc, void *obj);
bool kmem_qcache_release(struct kmem_cache *kc, void *obj);
/* Gives every object in kc's magazines and every empty slab back to kc's
 * arena (arena_reap: a quantum cache keeps nothing after a reap). */
void kmem_qcache_purge(struct kmem_cache *kc);
/* Gives every empty slab of the internal caches back to base (cache.c). */
void kmem_internal_reap(void);

#endif /* MAGSLAB_QCACHE_H */
