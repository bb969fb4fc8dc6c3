/*
 * cache.c — the object cache's life cycle: create, destroy, reap, the list
 * of caches and their handles, the internal caches, the accessors and
 * kmem_cache_stats().
 *
 * Owns: the list of caches (cache_list_lock), cache_handles (handle.h:
 * live and quarantined caches, internal ones included), the three internal
 * caches (slab headers, bufctls, magazines) and the cache ids.
 *
 * Calls go down only: cache -> magazine layer (magazine.c) -> slab layer
 * (slab.c) -> arena.  Nothing below calls back up into this file.
 *
 * Lock order: pcc -> depot -> slab -> arena.  cache_list_lock comes first
 * of all: kmem_cache_for_each's callbacks (the stats printers) take pcc,
 * depot and slab locks under it, so nothing may take cache_list_lock while
 * holding any of those.  cache_handles' lock (handle.c) is a leaf.  Reap and
 * destroy end with arena_reap_chain() on the source, called with no lock
 * held; it purges quantum caches (pcc -> depot -> slab -> arena again).
 *
 * Handles: every cache is registered in cache_handles.  The entry points
 * off the fast path check the pointer there (kmem_cache_check); destroy
 * claims it (so one of two racing destroys wins), and bury() keeps the
 * struct dead in quarantine, with rseq_fast off, no_mags set and ctor/dtor
 * cleared, so that alloc/free through it fall into slab_alloc_obj/
 * slab_free_obj/debug_on_free, which refuse it.
 *
 * FAQ:
 * - Why do the internal caches (slab headers, bufctls, magazines) have no
 *   magazines?  They are on slow paths (slab growth, magazine allocation on
 *   a free), and without a magazine layer they cannot recurse into one.
 * - Why does reap keep reap_keep empty slabs?  A cache that just shrank is
 *   likely to grow again; giving back every slab makes it thrash against its
 *   source (the paper's section 3.4 argument).
 */
#include "slab_impl.h"

#include "arena_impl.h"
#include "config.h"
#include "error.h"
#include "fork.h"
#include "handle.h"
#include "qcache.h"
#include "trace.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define CACHE_QUARANTINE  16    /* destroyed caches kept dead (handle.h) */

static pthread_once_t cache_once = PTHREAD_ONCE_INIT;
static atomic_uint next_cache_id = 1;

static struct kmem_cache slab_header_cache_store, bufctl_cache_store,
			 magazine_cache_store[MAG_NR_SIZES];
struct kmem_cache *kmem_slab_header_cache, *kmem_bufctl_cache;
struct kmem_cache *kmem_magazine_caches[MAG_NR_SIZES];

static pthread_mutex_t cache_list_lock = PTHREAD_MUTEX_INITIALIZER;
static struct kmem_cache *cache_list_head, *cache_list_tail;

/* Live and destroyed caches (handle.h), internal ones included. */
static struct handle_set cache_handles =
	HANDLE_SET_INIT(cache_handles, CACHE_QUARANTINE);

/* Every internal cache: slab headers, bufctls, the magazine sizes. */
static struct kmem_cache *const *internal_caches(void)
{
	static struct kmem_cache *const all[] = {
		&slab_header_cache_store, &bufctl_cache_store,
		&magazine_cache_store[0], &magazine_cache_store[1],
		&magazine_cache_store[2], &magazine_cache_store[3],
	};

	_Static_assert(MAG_NR_SIZES == 4, "one entry per magazine size");
	return all;
}
#define NR_INTERNAL_CACHES (2 + MAG_NR_SIZES)

static bool is_pow2(size_t x)
{
	return x && !(x & (x - 1));
}

static void cache_init(struct kmem_cache *kc, const char *name,
		       size_t obj_size, size_t align, int flags, bool debug,
		       struct arena *source, size_t qcache_max)
{
	memset(kc, 0, sizeof(*kc));
	kc->debug = debug;
	snprintf(kc->name, sizeof(kc->name), "%s", name ? name : "(null)");
	kc->id = atomic_fetch_add(&next_cache_id, 1);
	kc->obj_size = obj_size;
	kc->align = align ? align : 1;
	kc->flags = flags;
	kc->source = source;
	kc->no_mags = flags & KMC_NOMAG;
	kc->pcc_mode = PCC_MODE_NONE;   /* magazine_layer_init picks one */
	kc->reap_keep = 1;
	slab_layer_init(kc, qcache_max);
}

/* magslab:cache_create for kc (internal caches have no depot policy: they
 * report akaros's id and magsize 0, as they use no magazines). */
static void trace_cache_create(struct kmem_cache *kc)
{
	const struct resize_policy *p = kc->depot.policy;

	ms_trace(cache_create, kc->id, kc->name, (uint64_t)kc->obj_size,
		 (uint64_t)kc->align, (uint32_t)kc->flags,
		 (uint8_t)kc->uses_bufctl, kc->nr_pcc,
		 p ? kc->depot.magsize : 0u, p ? (int)p->id : 0,
		 kc->depot.threshold, kc->depot.timeout_ns,
		 arena_id(kc->source), (int)kc->pcc_mode);
}

/* The internal caches: no magazines, no list entry, pages from base. */
static void cache_init_internal(struct kmem_cache *kc, const char *name,
				size_t obj_size, struct arena *base)
{
	cache_init(kc, name, obj_size, sizeof(void *), KMC_NOMAG, false, base,
		   0);
	handle_register(&cache_handles, &kc->handle, kc);
	trace_cache_create(kc);
}

static void cache_global_init(void)
{
	struct arena *base = arena_base();

	kmem_slab_header_cache = &slab_header_cache_store;
	kmem_bufctl_cache = &bufctl_cache_store;
	cache_init_internal(kmem_slab_header_cache, "kmem_slab",
			    sizeof(struct kmem_slab), base);
	cache_init_internal(kmem_bufctl_cache, "kmem_bufctl",
			    sizeof(struct kmem_bufctl), base);
	for (unsigned int i = 0; i < MAG_NR_SIZES; i++) {
		char name[KMC_NAME_LEN];

		/* "kmem_magazine_8" ... "kmem_magazine_62": the capacity. */
		snprintf(name, sizeof(name), "kmem_magazine_%u",
			 mag_capacities[i]);
		kmem_magazine_caches[i] = &magazine_cache_store[i];
		cache_init_internal(kmem_magazine_caches[i], name,
				    magazine_bytes(mag_capacities[i]), base);
	}
}

static void cache_init_once(void)
{
	pthread_once(&cache_once, cache_global_init);
}

static void cache_list_add(struct kmem_cache *kc)
{
	pthread_mutex_lock(&cache_list_lock);
	kc->list_prev = cache_list_tail;
	if (cache_list_tail)
		cache_list_tail->list_next = kc;
	else
		cache_list_head = kc;
	cache_list_tail = kc;
	pthread_mutex_unlock(&cache_list_lock);
}

static void cache_list_del(struct kmem_cache *kc)
{
	pthread_mutex_lock(&cache_list_lock);
	if (kc->list_prev)
		kc->list_prev->list_next = kc->list_next;
	else
		cache_list_head = kc->list_next;
	if (kc->list_next)
		kc->list_next->list_prev = kc->list_prev;
	else
		cache_list_tail = kc->list_prev;
	pthread_mutex_unlock(&cache_list_lock);
}

static size_t cache_struct_size(void)
{
	size_t pg = arena_quantum(arena_base());

	return (sizeof(struct kmem_cache) + pg - 1) / pg * pg;
}

static bool check_create(const char *name, size_t obj_size, size_t align,
			 int flags, struct arena *source, struct ms_err *e)
{
	const char *n = name ? name : "(null)";

	if (obj_size == 0)
		ms_err_set(e, EINVAL, "cache '%s': kmem_cache_create: object size 0", n);
	else if (align && !is_pow2(align))
		ms_err_set(e, EINVAL, "cache '%s': kmem_cache_create: align %zu is not a power of two", n, align);
	else if (flags & ~(KMC_NOTOUCH | KMC_DEBUG | KMC_NOMAG))
		ms_err_set(e, EINVAL, "cache '%s': kmem_cache_create: unknown flags 0x%x", n, flags);
	else if (obj_size > KMC_MAX_OBJ_SIZE)
		ms_err_set(e, EINVAL, "cache '%s': kmem_cache_create: object size %zu is more than KMC_MAX_OBJ_SIZE (%zu)",
			   n, obj_size, (size_t)KMC_MAX_OBJ_SIZE);
	if (!e->err && source) {
		char fn[KMC_NAME_LEN + 32];

		snprintf(fn, sizeof(fn), "kmem_cache_create(%s): source", n);
		arena_handle_check(source, fn, e);
	}
	return !e->err;
}

/* Creates and registers a cache; the struct comes from the base arena. */
struct kmem_cache *cache_create(const char *name, size_t obj_size,
				       size_t align, int flags,
				       struct arena *source, size_t qcache_max,
				       kmem_ctor_t ctor, kmem_dtor_t dtor,
				       void *priv)
{
	struct magslab_config cfg;
	struct kmem_cache *kc;

	cache_init_once();
	kc = arena_alloc(arena_base(), cache_struct_size(), MEM_ATOMIC);
	if (!kc)
		return NULL;
	magslab_config_get(&cfg);
	cache_init(kc, name, obj_size, align, flags,
		   (flags & KMC_DEBUG) || cfg.debug, source, qcache_max);
	kc->ctor = ctor;
	kc->dtor = dtor;
	kc->priv = priv;
	kc->pcc_map = cfg.pcc_map;
	if (magazine_layer_init(kc, kc->no_mags ? 1 : cfg.ncpus)) {
		arena_free(arena_base(), kc, cache_struct_size());
		return NULL;
	}
	handle_register(&cache_handles, &kc->handle, kc);
	cache_list_add(kc);
	trace_cache_create(kc);
	return kc;
}

struct kmem_cache *kmem_cache_create(const char *name, size_t obj_size,
				     size_t align, int flags,
				     struct arena *source, kmem_ctor_t ctor,
				     kmem_dtor_t dtor, void *priv)
{
	struct ms_err e = { 0 };

	if (!check_create(name, obj_size, align, flags, source, &e)) {
		ms_err_report(&e);
		return NULL;
	}
	return cache_create(name, obj_size, align, flags,
			    source ? source : arena_kpages(), 0, ctor, dtor,
			    priv);
}

/* Says what kc is, unless it is live (then returns true). */
static bool handle_error(const struct kmem_cache *kc, enum handle_state st,
			 const char *fn)
{
	switch (st) {
	case HANDLE_LIVE:
		return true;
	case HANDLE_DYING:
		ms_error(EINVAL, "cache '%s': %s: the cache is being destroyed",
			 kc->name, fn);
		return false;
	case HANDLE_DEAD:       /* in quarantine: its name is still there */
		ms_error(EINVAL, "cache '%s': %s: the cache was destroyed",
			 kc->name, fn);
		return false;
	default:
		ms_error(EINVAL, "%s(%p): not a cache (destroyed, or never created)",
			 fn, (const void *)kc);
		return false;
	}
}

bool kmem_cache_check(const struct kmem_cache *kc, const char *fn)
{
	enum handle_state st;

	if (!kc) {
		ms_error(EINVAL, "%s: NULL cache", fn);
		return false;
	}
	st = handle_lookup(&cache_handles, kc);
	/* Being destroyed: still whole until destroy takes it off the cache
	 * list, which is what keeps kmem_cache_for_each's callbacks (the
	 * stats printers) safe.  Only a second destroy is refused (the
	 * claim). */
	return handle_error(kc, st == HANDLE_DYING ? HANDLE_LIVE : st, fn);
}

static void cache_stats(struct kmem_cache *kc, struct kmem_cache_stats *st);

/* Claims kc for destroy; false (reported) if kc is not a live cache,
 * another destroy got there first, or objects are still allocated.  The
 * claim makes one of two racing destroys the destroyer. */
static bool claim_for_destroy(struct kmem_cache *kc)
{
	struct kmem_cache_stats st;

	if (!kc) {
		ms_error(EINVAL, "kmem_cache_destroy: NULL cache");
		return false;
	}
	if (!handle_error(kc, handle_claim(&cache_handles, kc),
			  "kmem_cache_destroy"))
		return false;
	cache_stats(kc, &st);
	if (!st.live_objs)
		return true;
	handle_unclaim(&cache_handles, &kc->handle);
	ms_error(EBUSY, "cache '%s': kmem_cache_destroy: %llu objects still allocated",
		 kc->name, (unsigned long long)st.live_objs);
	return false;
}

/* kc is destroyed: its struct stays allocated, dead, in quarantine
 * (handle.h), so that a stale pointer finds it dead rather than finding a
 * new cache at the same address; a debug cache's stays for good.  Set up
 * so that kmem_cache_alloc/free through it leave the fast path at once
 * (rseq_fast off, no_mags) for slab_alloc_obj/slab_free_obj/debug_on_free, which refuse
 * it (no dtor runs first). */
static void bury(struct kmem_cache *kc)
{
	struct handle *old;

	kc->rseq_fast = false;          /* magazine_layer_fini cleared it too */
	kc->no_mags = true;
	kc->ctor = NULL;
	kc->dtor = NULL;
	kc->dead = true;
	handle_kill(&cache_handles, &kc->handle, kc->debug, &old);
	if (old)
		arena_free(arena_base(), handle_owner(old, struct kmem_cache,
						      handle),
			   cache_struct_size());
}

int kmem_cache_destroy(struct kmem_cache *kc)
{
	struct arena *source;
	bool qcache;

	if (!claim_for_destroy(kc))
		return -1;
	source = kc->source;
	qcache = kc->flags & KMC_QCACHE;
	cache_list_del(kc);
	ms_trace(cache_destroy, kc->id, kc->name);
	magazine_layer_drain(kc);
	slab_release_empty(kc, 0);
	magazine_layer_fini(kc);
	hash_fini(&kc->hash);
	pthread_mutex_destroy(&kc->lock);
	bury(kc);
	/* A quantum cache goes with its arena, which is being destroyed. */
	if (!qcache)
		arena_reap_chain(source);
	return 0;
}

/* Frees the magazines the policy picks and the empty slabs beyond keep;
 * emits the reap event.  Returns bytes given back. */
static size_t reap_cache(struct kmem_cache *kc, size_t keep)
{
	size_t mag_bytes, slab_bytes, mags;

	mag_bytes = magazine_layer_reap(kc, &mags);
	pthread_mutex_lock(&kc->lock);
	kc->reaps++;
	pthread_mutex_unlock(&kc->lock);
	slab_bytes = slab_release_empty(kc, keep);
	ms_trace(reap, kc->id, (uint64_t)(slab_bytes / kc->slab_size),
		 (uint64_t)mags,
		 (uint64_t)(mag_bytes + slab_bytes));
	return mag_bytes + slab_bytes;
}

size_t kmem_cache_reap(struct kmem_cache *kc)
{
	size_t keep, bytes;

	if (!kmem_cache_check(kc, "kmem_cache_reap"))
		return 0;
	pthread_mutex_lock(&kc->lock);
	keep = kc->reap_keep;
	pthread_mutex_unlock(&kc->lock);
	bytes = reap_cache(kc, keep);
	arena_reap_chain(kc->source);
	return bytes;
}

void kmem_internal_reap(void)
{
	/* All of them have small slabs: releasing one frees nothing into
	 * another, so the order does not matter. */
	cache_init_once();
	for (int i = 0; i < NR_INTERNAL_CACHES; i++)
		slab_release_empty(internal_caches()[i], 0);
}

int kmem_cache_set_reap_keep(struct kmem_cache *kc, size_t nr_slabs)
{
	if (!kmem_cache_check(kc, "kmem_cache_set_reap_keep"))
		return -1;
	pthread_mutex_lock(&kc->lock);
	kc->reap_keep = nr_slabs;
	pthread_mutex_unlock(&kc->lock);
	return 0;
}

/* Accessors: NULL is no error (it reads as "no cache"); a pointer that is
 * not a live cache is reported. */
uint32_t kmem_cache_id(const struct kmem_cache *kc)
{
	return kc && kmem_cache_check(kc, "kmem_cache_id") ? kc->id : 0;
}

const char *kmem_cache_name(const struct kmem_cache *kc)
{
	if (!kc)
		return "(null)";
	return kmem_cache_check(kc, "kmem_cache_name") ? kc->name
						       : "(destroyed)";
}

size_t kmem_cache_obj_size(const struct kmem_cache *kc)
{
	return kc && kmem_cache_check(kc, "kmem_cache_obj_size") ?
	       kc->obj_size : 0;
}

void kmem_cache_for_each(void (*fn)(struct kmem_cache *kc, void *arg),
			 void *arg)
{
	pthread_mutex_lock(&cache_list_lock);
	for (struct kmem_cache *c = cache_list_head; c; c = c->list_next)
		fn(c, arg);
	pthread_mutex_unlock(&cache_list_lock);
}

/* ---------------------------------------------------------------------- */
/* fork (fork.c runs these in its order)                                   */


void cache_fork_lock(void)
{
	struct kmem_cache *c;

	pthread_mutex_lock(&cache_list_lock);
	for (c = cache_list_head; c; c = c->list_next)
		magazine_layer_fork_hold_pccs(c);
	for (c = cache_list_head; c; c = c->list_next)
		magazine_layer_fork_lock_depot(c);
	for (c = cache_list_head; c; c = c->list_next)
		pthread_mutex_lock(&c->lock);
	for (int i = 0; i < NR_INTERNAL_CACHES; i++)
		pthread_mutex_lock(&internal_caches()[i]->lock);
}

void cache_fork_lock_leaves(void)
{
	handle_fork_lock(&cache_handles);
}

void cache_fork_unlock(bool child)
{
	struct kmem_cache *c;

	handle_fork_unlock(&cache_handles);
	for (int i = NR_INTERNAL_CACHES - 1; i >= 0; i--)
		pthread_mutex_unlock(&internal_caches()[i]->lock);
	for (c = cache_list_head; c; c = c->list_next) {
		pthread_mutex_unlock(&c->lock);
		magazine_layer_fork_release(c, child);
	}
	pthread_mutex_unlock(&cache_list_lock);
}

/* ---------------------------------------------------------------------- */
/* Stats                                                                   */

static void cache_stats(struct kmem_cache *kc, struct kmem_cache_stats *st)
{
	memset(st, 0, sizeof(*st));
	/* Magazines first (pcc -> depot), then the slab lock: lock order. */
	magazine_layer_stats(kc, st);
	slab_layer_stats(kc, st);
	st->live_objs = st->objs_in_slabs - st->objs_in_mags;
}

int kmem_cache_stats(struct kmem_cache *kc, struct kmem_cache_stats *st)
{
	if (!kmem_cache_check(kc, "kmem_cache_stats"))
		return -1;
	if (!st) {
		ms_error(EINVAL, "cache '%s': kmem_cache_stats: NULL stats",
			 kc->name);
		return -1;
	}
	cache_stats(kc, st);
	return 0;
}
