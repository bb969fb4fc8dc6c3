/*
 * slab_impl.h — the object cache's internal structures and the calls
 * between its files: cache.c (life cycle, list, handles, stats) calls down
 * into magazine.c (per-CPU caches, magazines, depot, the alloc/free entry
 * points), which calls down into slab.c (the slab layer); qcache.c (an
 * arena's quantum caches) uses all three.  struct pcc and how it is held
 * are pcc.h's.
 *
 * Lock order: pcc -> depot -> slab (kc->lock) -> arena.  The internal
 * caches (slab headers, bufctls, magazines) have slab locks too; they are
 * taken only with no other slab lock held, except that a slab lock may be
 * held while freeing a bufctl or slab header (internal caches never call
 * back into a user cache, so this cannot cycle).
 */
#ifndef MAGSLAB_SLAB_IMPL_H
#define MAGSLAB_SLAB_IMPL_H

#include <magslab/slab.h>

#include "handle.h"
#include "hash.h"
#include "pcc.h"
#include "policy.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

/* A magazine: rounds[0..nr_rounds) are constructed objects; it has room
 * for `capacity` of them, one of mag_capacities[] (8, 16, 30 or 62: the
 * magazine sizes, depot.c's FAQ).  16 + 8 * capacity bytes: 80, 144, 256
 * and 512, so every magazine cache stays a small-object cache. */
struct magazine {
	struct magazine *next;          /* depot list link */
	unsigned int nr_rounds;
	unsigned int capacity;
	void *rounds[];
};

#define MAG_NR_SIZES 4
extern const unsigned int mag_capacities[MAG_NR_SIZES];
/* The internal cache of each magazine size (cache.c makes them). */
extern struct kmem_cache *kmem_magazine_caches[MAG_NR_SIZES];

/* The smallest magazine size that holds magsize rounds. */
static inline unsigned int mag_size_index(unsigned int magsize)
{
	unsigned int i = 0;

	while (i + 1 < MAG_NR_SIZES && mag_capacities[i] < magsize)
		i++;
	return i;
}

static inline size_t magazine_bytes(unsigned int capacity)
{
	return sizeof(struct magazine) + (size_t)capacity * sizeof(void *);
}

/* How many rounds m takes at magsize: its capacity bounds the magsize. */
static inline unsigned int mag_limit(const struct magazine *m,
				     unsigned int magsize)
{
	return m->capacity < magsize ? m->capacity : magsize;
}

enum slab_list { SLAB_EMPTY = 0, SLAB_PARTIAL, SLAB_FULL, NR_SLAB_LISTS };

/* A slab.  Small-object slabs keep this at the end of their page; bufctl
 * slabs get it from the internal slab-header cache. */
struct kmem_slab {
	struct kmem_slab *next;
	struct kmem_slab *prev;
	struct kmem_cache *cache;       /* owner: debug checks, wrong-cache */
	size_t nr_busy;                 /* objects out of this slab */
	size_t nr_total;
	void *free_small;               /* small: free list through objects */
	struct kmem_bufctl *free_bufctl;/* bufctl: free bufctls */
	void *mem;                      /* bufctl: the memory from source */
	int list;                       /* enum slab_list */
};

/* One object of a bufctl slab. */
struct kmem_bufctl {
	struct hash_link hl;            /* key: the object's address */
	struct kmem_bufctl *next_free;
	struct kmem_slab *slab;
	bool held;                      /* qcaches: out to an arena caller */
	bool live;                      /* debug: held by the user */
};

struct kmem_cache {
	/* What kmem_cache_alloc/free read before anything else: one line. */
	struct pcc *pccs;
	unsigned int nr_pcc;
	enum pcc_mode pcc_mode;         /* fixed at creation (pcc.h) */
	enum magslab_pcc_map pcc_map;
	bool rseq_fast;                 /* rseq mode, no debug, magazines;
					 * false on a destroyed cache */
	bool debug;
	bool no_mags;                   /* also set on a destroyed cache: see slab.c */
	bool dead;                      /* destroyed, kept in quarantine */

	struct handle handle;           /* cache_handles: live or quarantined */
	char name[KMC_NAME_LEN];
	uint32_t id;
	size_t obj_size;
	size_t align;
	size_t stride;                  /* distance between objects */
	int flags;
	struct arena *source;
	kmem_ctor_t ctor;
	kmem_dtor_t dtor;
	void *priv;
	bool uses_bufctl;
	bool slab_xalloc;               /* slabs need arena_xalloc (alignment) */
	size_t slab_size;               /* bytes imported per slab */
	size_t objs_per_slab;

	/* Slab layer, under lock. */
	pthread_mutex_t lock;
	struct kmem_slab *slabs[NR_SLAB_LISTS];
	size_t nr_slabs[NR_SLAB_LISTS];
	struct hash_table hash;         /* bufctl caches: object -> bufctl */
	size_t reap_keep;
	uint64_t objs_out;              /* allocated out of slabs */
	uint64_t slab_grows;
	uint64_t slab_releases;
	uint64_t ctor_failures;
	uint64_t reaps;
	uint64_t debug_errors;

	/* Magazine layer. */
	struct depot depot;
	const char *pcc_mode_why;       /* why not rseq; NULL if rseq */
	atomic_uint_fast64_t mags_allocated;
	atomic_uint_fast64_t mag_bytes;         /* their sizes, summed */
	atomic_uint_fast64_t direct_allocs;     /* no_mags caches */
	atomic_uint_fast64_t direct_frees;

	struct kmem_cache *list_next;   /* all caches, under cache_list_lock */
	struct kmem_cache *list_prev;
};

/* cache.c: creates and registers a cache (public and quantum caches). */
struct kmem_cache *cache_create(const char *name, size_t obj_size,
				size_t align, int flags, struct arena *source,
				size_t qcache_max, kmem_ctor_t ctor,
				kmem_dtor_t dtor, void *priv);
/* The entry points off the fast path (cache.c): true if kc is a live
 * cache; otherwise reports "fn: NULL cache", or names the destroyed cache,
 * and returns false. */
bool kmem_cache_check(const struct kmem_cache *kc, const char *fn);
/* The internal caches the slab and magazine layers take their metadata
 * from (cache.c makes them; no magazine layer). */
extern struct kmem_cache *kmem_slab_header_cache, *kmem_bufctl_cache;

/* magazine.c */
int magazine_layer_init(struct kmem_cache *kc, unsigned int nr_pcc);
/* Moves every pcc magazine to the depot and frees all depot magazines
 * (rounds: dtor + slab).  For destroy and purge. */
void magazine_layer_drain(struct kmem_cache *kc);
void magazine_layer_fini(struct kmem_cache *kc);
/* Frees the idle depot magazines the policy picks; returns bytes freed,
 * and how many magazines in *nr. */
size_t magazine_layer_reap(struct kmem_cache *kc, size_t *nr);
/* fork safety (fork.c): hold every pcc of kc; lock its depot; give both
 * back (child: also forget the waiters that do not exist there). */
void magazine_layer_fork_hold_pccs(struct kmem_cache *kc);
void magazine_layer_fork_lock_depot(struct kmem_cache *kc);
void magazine_layer_fork_release(struct kmem_cache *kc, bool child);
/* Magazine-layer counters into st (takes pcc and depot locks in order). */
void magazine_layer_stats(struct kmem_cache *kc, struct kmem_cache_stats *st);
/* A magazine big enough for magsize rounds, empty; NULL if memory is
 * short.  Both count in kc's mags_allocated and mag_bytes. */
struct magazine *magazine_alloc(struct kmem_cache *kc, unsigned int magsize);
void magazine_free(struct kmem_cache *kc, struct magazine *m);

/* slab.c: the slab layer.  slab_layer_init picks kc's slab geometry and
 * sets up its lock and lists (kc's obj_size, align, flags, source, debug
 * are set).  slab_alloc_obj returns a constructed object (ctor ran) or
 * NULL; slab_free_obj takes a destructed one. */
void slab_layer_init(struct kmem_cache *kc, size_t qcache_max);
void *slab_alloc_obj(struct kmem_cache *kc, int flags);
void slab_free_obj(struct kmem_cache *kc, void *obj);
/* dtor, then slab_free_obj. */
void slab_destruct_and_free(struct kmem_cache *kc, void *obj);
/* Gives kc's empty slabs beyond keep back to its source; returns bytes. */
size_t slab_release_empty(struct kmem_cache *kc, size_t keep);
/* Slab-layer counters and geometry into st (takes kc->lock). */
void slab_layer_stats(struct kmem_cache *kc, struct kmem_cache_stats *st);
/* Objects out of kc's slabs (held by users or in magazines). */
uint64_t kmem_cache_objs_out(struct kmem_cache *kc);

/* debug checks (slab.c), under no lock. */
bool debug_on_free(struct kmem_cache *kc, void *obj);
void debug_on_alloc(struct kmem_cache *kc, void *obj, bool from_mag);

#endif /* MAGSLAB_SLAB_IMPL_H */
