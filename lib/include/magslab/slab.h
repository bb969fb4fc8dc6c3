/*
 * magslab/slab.h — object caches: slabs, per-CPU magazines and the depot.
 *
 * The object cache of Bonwick & Adams (USENIX 1994 and 2001) as Akaros's
 * slab.c builds it, in user space.  Allocation goes, fastest first:
 *
 *   per-CPU cache (pcc): the slot's `loaded` magazine, then its `prev`
 *   depot: exchange a magazine with the cache-wide lists of full/empty ones
 *   slab layer: take an object from a slab, growing from the source arena
 *
 * Objects in magazines are constructed; objects in slabs are not (the ctor
 * runs when an object leaves the slab layer, the dtor when it goes back).
 *
 * Magazine resize.  Every depot acquisition tries the lock first; a failed
 * trylock is contention.  The cache's policy decides what contention does to
 * the depot's magsize (how many rounds a pcc fills a magazine to):
 *
 *   akaros (default) — Akaros's rule.  A contended acquisition while the
 *       depot has no not-empty magazine is not counted (the contention is for
 *       lack of magazines, not for their size).  Otherwise: if more than
 *       resize_timeout_ns passed since the window started, restart it
 *       (busy_count = 0); busy_count++; if busy_count > resize_threshold,
 *       reset it and grow magsize by one (at most 62).  Never shrinks.
 *   illumos — kmem/libumem: count failed trylocks; at the end of each
 *       interval of resize_timeout_ns, if more than resize_threshold
 *       happened in it, grow one step (+1 round) and purge: the depot is
 *       emptied and every pcc drops its magazines at its next depot visit.
 *       Never shrinks.
 *   uma — FreeBSD UMA: +1 on every counted contended acquisition, -1 on
 *       every reap (kmem_cache_reap), within [8, 62].
 *   adaptive — ours: grows as akaros does; at the end of each interval of
 *       resize_timeout_ns it records the fewest not-empty magazines the depot
 *       held in it (its working set, as illumos and UMA estimate it); after
 *       two intervals in a row with no counted contention and at least two
 *       magazines idle all interval long, it shrinks by one (hysteresis:
 *       never in the interval after a grow), and kmem_cache_reap() frees the
 *       magazines that sat idle for the last full interval.
 *
 * A pcc learns the depot's magsize only when it visits the depot on a free.
 *
 * Errors follow magslab/error.h: bad input is reported and refused; running
 * out of memory returns NULL with errno ENOMEM and reports nothing.
 *
 * Handles.  A destroyed cache's pointer is recognised as long as the
 * destroyed struct is in quarantine (never reused): in a normal build the
 * 16 most recently destroyed caches, a debug cache (KMC_DEBUG or
 * MAGSLAB_DEBUG=1) for good.  Meanwhile a second kmem_cache_destroy() and
 * every other call through it (stats, reap, setters, accessors, and also
 * kmem_cache_alloc/free: the dead struct sends them off the fast path at
 * once, where they are refused) fail with EINVAL and a message naming the
 * cache, in every build.  Past the quarantine the memory may be reused, by
 * a new cache too: the calls off the fast path refuse a pointer that is no
 * cache; alloc/free through it may crash (a check there would cost every
 * allocation).
 *
 * Giving memory back.  kmem_cache_reap() and kmem_cache_destroy() end with
 * arena_reap() of the cache's source: the source's quantum caches give all
 * they hold back, and the base arena returns free pages to the OS (policy:
 * magslab/arena.h, "Memory back to the OS").
 */
#ifndef MAGSLAB_SLAB_H
#define MAGSLAB_SLAB_H

#include <magslab/arena.h>

#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

struct kmem_cache;

/* Cache flags. */
#define KMC_NOTOUCH     (1 << 0)  /* never write object memory: bufctl slabs */
#define KMC_DEBUG       (1 << 1)  /* debug checks (also MAGSLAB_DEBUG=1) */
#define KMC_NOMAG       (1 << 2)  /* no magazine layer: every op hits slabs */
#define KMC_QCACHE      (1 << 3)  /* internal: an arena's quantum cache */

#define KMC_NAME_LEN    32
#define MAG_MIN_ROUNDS  8
#define MAG_MAX_ROUNDS  62        /* 62 rounds + header = 512 bytes */

/* The largest object a cache takes: 16 MiB, the base arena's chunk.  Why
 * not more: a bufctl slab holds 8 objects, so such a cache already takes
 * memory 128 MiB at a time, and one full magazine keeps up to 62 x 16 MiB
 * (almost 1 GiB) that no one uses out of reach of every other user.  An
 * object cache pays off by saving construction and allocator work on
 * objects that come and go often; objects this large are better
 * allocated from an arena (arena_alloc on arena_kpages()) and given back at
 * once.  (Up to 1 TiB used to be accepted; with MAGSLAB_DEBUG=1 a slab of
 * such objects was poisoned in full, gigabytes of RSS per grow.) */
#define KMC_MAX_OBJ_SIZE ((size_t)16 << 20)

/* ctor returns 0, or non-zero to fail the allocation (the object goes back
 * to its slab).  flags are the allocation's MEM_* flags. */
typedef int (*kmem_ctor_t)(void *obj, void *priv, int flags);
typedef void (*kmem_dtor_t)(void *obj, void *priv);

/* Creates a cache of obj_size-byte objects (1..KMC_MAX_OBJ_SIZE) aligned to
 * align (0: the natural alignment, a power of two otherwise).  source: where
 * slabs come from (NULL: the page arena).  Returns NULL on bad input
 * (reported) or no memory.
 *
 * Debug caches (KMC_DEBUG, MAGSLAB_DEBUG=1) refuse double frees, frees of
 * foreign pointers and of another debug cache's objects, and report writes
 * after free.  They track what the user holds without allocating (a bit
 * per object in its slab or bufctl), so tracking never fails for lack of
 * memory; they poison the first min(obj_size, page) bytes of every free
 * object (of caches with no ctor whose memory may be touched), not the
 * whole object. */
struct kmem_cache *kmem_cache_create(const char *name, size_t obj_size,
				     size_t align, int flags,
				     struct arena *source, kmem_ctor_t ctor,
				     kmem_dtor_t dtor, void *priv);

/* Destroys a cache: pcc magazines go to the depot, the depot is drained
 * (dtor per round), slabs go back to the source.  Refuses (-1, EBUSY,
 * reported, nothing freed) while objects are allocated. */
int kmem_cache_destroy(struct kmem_cache *kc);

/* flags: MEM_ATOMIC (NULL on failure) or MEM_WAIT (on a bounded source
 * arena, wait until memory is freed; on the OS-backed arenas it fails as
 * MEM_ATOMIC does). */
void *kmem_cache_alloc(struct kmem_cache *kc, int flags);
void *kmem_cache_zalloc(struct kmem_cache *kc, int flags);
void kmem_cache_free(struct kmem_cache *kc, void *obj);

/* Gives empty slabs back to the source, keeping reap_keep of them (default
 * 1: a cache that is about to grow again should not thrash), and lets the
 * policy shrink or free idle depot magazines; then reaps the source arena
 * (arena_reap).  Returns the bytes this cache gave back (magazines and
 * slabs). */
size_t kmem_cache_reap(struct kmem_cache *kc);

/* Tunables.  Process defaults come from the environment when the first
 * cache is made: MAGSLAB_RESIZE_THRESHOLD (default 1),
 * MAGSLAB_RESIZE_TIMEOUT_NS (default 1000000000), MAGSLAB_POLICY (akaros),
 * MAGSLAB_NCPUS (pcc slots; default: online CPUs), MAGSLAB_PCC_MAP (cpu |
 * thread), MAGSLAB_PCC_MODE (auto | locked | rseq), MAGSLAB_DEBUG (0 | 1).  The setters work while the cache is in
 * use.  They return 0, or -1 with EINVAL (reported) on bad values. */
int kmem_cache_set_resize_threshold(struct kmem_cache *kc, uint64_t t);
int kmem_cache_set_resize_timeout_ns(struct kmem_cache *kc, uint64_t ns);
int kmem_cache_set_policy(struct kmem_cache *kc, const char *name);
int kmem_cache_set_magsize(struct kmem_cache *kc, unsigned int rounds);
int kmem_cache_set_reap_keep(struct kmem_cache *kc, size_t nr_slabs);

/* Process-wide settings for caches created afterwards (0 on success). */
enum magslab_pcc_map { MAGSLAB_PCC_BY_CPU, MAGSLAB_PCC_BY_THREAD };
int magslab_set_ncpus(unsigned int nr_slots);
int magslab_set_pcc_map(enum magslab_pcc_map map);
/* How a pcc is kept consistent (the "pcc mode"; kmem_cache_stats() says
 * which one a cache got, and why not rseq):
 *   rseq    a hit runs in a restartable sequence on the current CPU's pcc
 *           and commits with one store: no lock, no atomic instruction.
 *           Needs x86-64, glibc's rseq registration, membarrier's rseq
 *           commands, slots mapped by CPU and a slot for every CPU.
 *   locked  every operation takes the pcc's lock (one atomic exchange).
 *   auto    rseq where it can serve, else locked (the default). */
enum magslab_pcc_mode { MAGSLAB_PCC_MODE_AUTO, MAGSLAB_PCC_MODE_LOCKED,
			MAGSLAB_PCC_MODE_RSEQ };
int magslab_set_pcc_mode(enum magslab_pcc_mode mode);
int magslab_set_debug(int on);
/* The resize defaults new caches start with (as the MAGSLAB_POLICY,
 * MAGSLAB_RESIZE_THRESHOLD and MAGSLAB_RESIZE_TIMEOUT_NS variables): set them
 * before creating caches and the cache_create trace event records them.  A
 * later kmem_cache_set_* change is not a trace event. */
int magslab_set_policy(const char *name);
int magslab_set_resize_threshold(uint64_t threshold);
int magslab_set_resize_timeout_ns(uint64_t ns);

/* Accessors.  The id trace events carry (1, 2, ... in creation order).
 * NULL gives 0, "(null)" and 0 (no error); a destroyed cache is reported
 * and gives 0, "(destroyed)" and 0. */
uint32_t kmem_cache_id(const struct kmem_cache *kc);
const char *kmem_cache_name(const struct kmem_cache *kc);
size_t kmem_cache_obj_size(const struct kmem_cache *kc);

/* Emits magslab:workload_phase (name, index): a marker workloads and users
 * put in the trace at phase changes.  A no-op without a session. */
void magslab_trace_phase(const char *name, unsigned int index);

enum kmem_side { KMEM_ALLOC_SIDE = 0, KMEM_FREE_SIDE = 1 };

struct kmem_cache_stats {
	uint64_t allocs;
	uint64_t frees;
	uint64_t pcc_hits;               /* served by loaded or prev */
	uint64_t mag_swaps[2];           /* loaded <-> prev, by side */
	uint64_t depot_gets[2];          /* magazines taken from the depot */
	uint64_t depot_puts[2];          /* magazines given to the depot */
	uint64_t depot_misses[2];        /* depot had nothing usable */
	uint64_t depot_contended;        /* failed depot trylocks */
	uint64_t depot_contended_counted;/* ... that the policy counted */
	uint64_t contention_wait_ns;     /* total time blocked after a fail */
	uint64_t contention_wait_max_ns;
	uint64_t magsize_up;
	uint64_t magsize_down;
	unsigned int magsize;            /* the depot's current magsize */
	unsigned int pcc_magsize_min;    /* over the slots */
	unsigned int pcc_magsize_max;
	unsigned int nr_pcc;
	uint64_t depot_full;             /* not-empty magazines in the depot */
	uint64_t depot_empty;
	uint64_t mags_allocated;         /* magazines that exist */
	uint64_t slabs;
	uint64_t slabs_full, slabs_partial, slabs_empty;
	uint64_t slab_grows, slab_releases;
	uint64_t objs_in_slabs;          /* allocated out of slabs (anywhere) */
	uint64_t objs_free_in_slabs;
	uint64_t objs_in_mags;           /* rounds in pcc and depot magazines */
	uint64_t bytes_in_mags;          /* objs_in_mags * obj_size + mags */
	uint64_t live_objs;              /* held by the user */
	uint64_t hash_lists, hash_items, hash_resizes;
	uint64_t pcc_contended;          /* pcc found held by another thread */
	uint64_t pcc_wait_ns;
	uint64_t pcc_aborts;             /* rseq: fast paths the kernel restarted */
	uint64_t ctor_failures;
	uint64_t reaps;
	uint64_t debug_errors;           /* double frees etc. caught */
	size_t obj_size;
	size_t align;
	size_t slab_size;
	size_t objs_per_slab;
	int uses_bufctl;
	uint64_t resize_threshold;
	uint64_t resize_timeout_ns;
	char policy[16];
	char pcc_mode[8];                /* "rseq", "locked" or "none" (NOMAG) */
	char pcc_mode_why[80];           /* why not rseq ("" if rseq) */
};

int kmem_cache_stats(struct kmem_cache *kc, struct kmem_cache_stats *st);

/* Each slot's magsize into out[0..n); returns the number of slots. */
unsigned int kmem_cache_pcc_magsizes(struct kmem_cache *kc, unsigned int *out,
				     unsigned int n);

/* A kmemstat-style table of every arena (importers indented under their
 * source) and every cache; the same as one JSON object. */
void magslab_stats_print(FILE *f);
void magslab_stats_json(FILE *f);

/* Calls fn for every live cache (under the cache list lock). */
void kmem_cache_for_each(void (*fn)(struct kmem_cache *kc, void *arg),
			 void *arg);

#ifdef __cplusplus
}
#endif
#endif /* MAGSLAB_SLAB_H */
