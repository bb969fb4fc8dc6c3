/*
 * qcache.c — an arena's quantum caches: the object caches that front every
 * size up to the arena's qcache_max (vmem's quantum caching), and what the
 * arena needs of them (qcache.h).
 *
 * Owns: nothing but the "held" bit of each quantum-cache bufctl, which says
 * that an arena caller holds the object (so that arena_free can refuse a
 * wrong size, a foreign address or a double free: a quantum cache would
 * otherwise take any pointer into its magazines).
 *
 * The arena <-> cache dependency: an arena allocates from its quantum
 * caches, and their slabs come from the arena (above qcache_max, so a
 * quantum cache never recurses into one).  illumos vmem and Akaros have
 * the same loop; it is the one place where the layers meet both ways, and
 * qcache.h is all that arena.c sees of the cache side.
 *
 * Lock order: pcc -> depot -> slab -> arena.  Takes kc->lock for the held
 * bits; purge runs the magazine and slab layers' own drains with no lock
 * held.
 */
#include "qcache.h"

#include "slab_impl.h"
#include "trace.h"

#include <stdio.h>

struct kmem_cache *kmem_qcache_create(struct arena *a, size_t obj_size,
				      size_t qcache_max)
{
	char name[KMC_NAME_LEN];

	snprintf(name, sizeof(name), "%s_%zu", arena_name(a), obj_size);
	return cache_create(name, obj_size, 1, KMC_NOTOUCH | KMC_QCACHE, a,
			    qcache_max, NULL, NULL, NULL);
}

static struct kmem_bufctl *bufctl_of(struct kmem_cache *kc, void *obj)
{
	return (struct kmem_bufctl *)hash_find(&kc->hash, (uintptr_t)obj);
}

void kmem_qcache_claim(struct kmem_cache *kc, void *obj)
{
	struct kmem_bufctl *bc;

	pthread_mutex_lock(&kc->lock);
	bc = bufctl_of(kc, obj);
	if (bc)
		bc->held = true;
	pthread_mutex_unlock(&kc->lock);
}

bool kmem_qcache_release(struct kmem_cache *kc, void *obj)
{
	struct kmem_bufctl *bc;
	bool held;

	pthread_mutex_lock(&kc->lock);
	bc = bufctl_of(kc, obj);
	held = bc && bc->held;
	if (held)
		bc->held = false;
	pthread_mutex_unlock(&kc->lock);
	return held;
}

void kmem_qcache_purge(struct kmem_cache *kc)
{
	uint64_t mags = atomic_load(&kc->mags_allocated);
	uint64_t mag_bytes = atomic_load(&kc->mag_bytes);
	size_t slab_bytes;

	/* Every round back to its slab, every depot magazine freed (the pcc
	 * magazines stay, empty). */
	magazine_layer_drain(kc);
	mags -= atomic_load(&kc->mags_allocated);
	mag_bytes -= atomic_load(&kc->mag_bytes);
	pthread_mutex_lock(&kc->lock);
	kc->reaps++;
	pthread_mutex_unlock(&kc->lock);
	slab_bytes = slab_release_empty(kc, 0);
	pthread_mutex_lock(&kc->lock);
	(void)hash_shrink(&kc->hash);
	pthread_mutex_unlock(&kc->lock);
	ms_trace(reap, kc->id, (uint64_t)(slab_bytes / kc->slab_size), mags,
		 (uint64_t)slab_bytes + mag_bytes);
}
