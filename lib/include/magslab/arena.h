/*
 * magslab/arena.h — vmem arenas: a resource allocator over ranges of integers.
 *
 * An arena hands out segments of an integer range (usually addresses) in
 * multiples of its quantum, after Bonwick & Adams's vmem (USENIX 2001) and the
 * Akaros kernel's arena.c.  It keeps boundary tags in an address-ordered tree,
 * free segments in 64 power-of-two free lists and allocated segments in a
 * hash keyed by start address.  An arena either owns spans given to it with
 * arena_add(), or imports spans on demand from a source arena through
 * afunc/ffunc and gives a span back as soon as it is entirely free.
 *
 * Two arenas exist for every process: arena_base() gets big mappings from the
 * OS with mmap and supplies its own boundary tags; arena_kpages() has
 * quantum = page size and imports from base.  Everything else is created by
 * the user.
 *
 * Address 0 is never handed out: NULL means failure.  Every segment start and
 * size is a multiple of the quantum (spans given to arena_add() are trimmed
 * inward to quantum boundaries).
 *
 * Errors: a failing call returns NULL (allocations) or -1 (everything else),
 * sets errno (EINVAL for bad arguments, ENOMEM when nothing fits, EBUSY for a
 * destroy that would lose allocations or importers), reports one line through
 * the error handler of magslab/error.h, and leaves the arena unchanged.
 * Running out (ENOMEM) is not bad input: it sets errno but reports nothing.
 * A phase that no quantum-aligned address can satisfy (phase % gcd(align,
 * quantum) != 0) is bad input (EINVAL).
 *
 * Memory back to the OS.  Only the base arena holds memory from the OS, in
 * chunks of at least 16 MiB.  Its policy:
 *   - a chunk that becomes entirely free is unmapped at once;
 *   - the pages of free ranges inside chunks still in use are released with
 *     madvise(MADV_DONTNEED) (the range stays in the arena, its pages read
 *     back as zeros), (1) by every arena_reap(), hence by every
 *     kmem_cache_reap() and kmem_cache_destroy(), and (2) as soon as more
 *     than 64 MiB of base's free ranges may still be resident (free_dirty);
 *   - boundary tags live in pages of base (base's own are carved from its
 *     chunks), which are allocated segments: a chunk holding live tags is
 *     never entirely free, so it is never unmapped under them.  At
 *     arena_reap() each reaped arena packs its tags into as few pages as
 *     they need and gives the rest back.
 * Both kinds of release are counted in arena_stats() and traced as
 * magslab:arena_release (how = span or pages).
 *
 * Handles.  A destroyed arena's pointer is recognised as long as the
 * destroyed struct is in quarantine (never reused): the 16 most recently
 * destroyed arenas, or all of them with MAGSLAB_DEBUG=1 (the setting when
 * it is destroyed).  Meanwhile arena_destroy() again, and every other call
 * through it, allocations included, fail with EINVAL and a message naming
 * the arena.  Past the quarantine the memory may be reused, by a new arena
 * too: every call but alloc/xalloc/free/xfree refuses a pointer that is no
 * arena; those four may crash (a check there would cost every call a
 * global lock).
 *
 * Thread safety: every call may be made from any thread.  Each arena has one
 * mutex; an arena never holds its own lock while calling into its source.
 */
#ifndef MAGSLAB_ARENA_H
#define MAGSLAB_ARENA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct arena;

/* Memory flags (shared with the slab layer).  MEM_ATOMIC: fail with NULL when
 * nothing fits.  MEM_WAIT: on an arena with no source (a bounded arena), wait
 * until enough is freed; on an arena with a source, passed down to the source.
 * Neither bit set means MEM_ATOMIC. */
#define MEM_ATOMIC         (1 << 0)
#define MEM_WAIT           (1 << 1)

/* Fit policies, given per call in flags (or as the arena default at create).
 * Instant fit: the first segment of the first non-empty free list at or above
 * the list of size rounded up to a power of two (constant time; for an
 * xalloc with only an alignment, of size + align - quantum), falling back to
 * a search of the lists below before failing.  Best fit: the smallest
 * fitting segment of the size's own list (an exact fit ends the search),
 * else the first fitting segment of the lists above.  Next fit: the first free segment at or after the
 * end of the previous next-fit allocation, wrapping around (a rotor, for IDs
 * that should not be reused soon). */
#define ARENA_INSTANTFIT   (1 << 8)
#define ARENA_BESTFIT      (1 << 9)
#define ARENA_NEXTFIT      (1 << 10)
#define ARENA_FIT_MASK     (ARENA_INSTANTFIT | ARENA_BESTFIT | ARENA_NEXTFIT)

typedef void *(*arena_afunc_t)(struct arena *source, size_t size, int flags);
typedef void (*arena_ffunc_t)(struct arena *source, void *addr, size_t size);

/* Creates an arena.  base/size: an initial span (may be NULL/0; not allowed
 * together with a source).  quantum: any positive integer (powers of two are
 * fastest).  source with afunc/ffunc: where to import spans from (afunc and
 * ffunc default to arena_alloc/arena_free when NULL).  qcache_max: sizes up
 * to this (a multiple of quantum) are served by quantum caches once the slab
 * layer provides them; 0 for none.  flags: default fit policy.  The name is
 * copied (truncated to ARENA_NAME_LEN - 1 bytes). */
#define ARENA_NAME_LEN 32
struct arena *arena_create(const char *name, void *base, size_t size,
			   size_t quantum, arena_afunc_t afunc,
			   arena_ffunc_t ffunc, struct arena *source,
			   size_t qcache_max, int flags);

/* Destroys an arena.  Refuses (-1, EBUSY, reported, nothing changed) while
 * it has allocated segments, objects held from its quantum caches, or
 * importing arenas, and always for the base and kpages arenas.  Added spans
 * are simply forgotten. */
int arena_destroy(struct arena *arena);

/* Adds the span [base, base + size) (trimmed inward to the quantum).  Only for
 * arenas without a source.  Returns base, or NULL on error (overlap with an
 * existing span, nothing left after trimming, a source, address 0). */
void *arena_add(struct arena *arena, void *base, size_t size, int flags);

/* Allocates size bytes (rounded up to the quantum). */
void *arena_alloc(struct arena *arena, size_t size, int flags);

/* Frees a segment from arena_alloc().  size must be the size that was asked
 * for (any size rounding to the same number of quanta is accepted).  Returns
 * 0, or -1 for an address that is not allocated or a size that does not
 * match (the segment then stays allocated). */
int arena_free(struct arena *arena, void *addr, size_t size);

/* Constrained allocation: the result r satisfies r % align == phase,
 * r % quantum == 0, [r, r + size) does not cross a multiple of nocross
 * (if nocross != 0), r >= minaddr and r + size <= maxaddr (NULL: no bound).
 * align: 0 or a power of two (0 and 1 mean none); phase < align; nocross: 0 or
 * a power of two >= size + phase; minaddr/maxaddr only on arenas without a
 * source.  Memory from xalloc must be freed with xfree. */
void *arena_xalloc(struct arena *arena, size_t size, size_t align,
		   size_t phase, size_t nocross, void *minaddr, void *maxaddr,
		   int flags);
int arena_xfree(struct arena *arena, void *addr, size_t size);

/* Snapshot of an arena's accounting (taken under its lock). */
struct arena_stats {
	size_t quantum;
	size_t total;              /* bytes in all spans */
	size_t allocated;          /* bytes in allocated segments */
	size_t free;               /* bytes in free segments */
	size_t imported;           /* bytes in spans imported from the source */
	size_t nr_spans;
	size_t nr_segments;        /* allocated + free segments */
	size_t nr_alloc_segments;
	size_t nr_free_segments;
	size_t hash_lists;         /* allocated-segment hash: lists */
	size_t hash_items;         /*   and items (== nr_alloc_segments) */
	uint64_t hash_resizes;
	uint64_t nr_allocs_ever;
	uint64_t nr_frees_ever;
	uint64_t nr_imports;       /* spans imported from the source */
	uint64_t nr_releases;      /* spans given back to the source (base:
				      chunks unmapped) */
	uint64_t bytes_released;   /*   and their bytes */
	uint64_t nr_page_releases; /* base: free ranges whose pages went back
				      to the OS (madvise) */
	uint64_t page_bytes_released; /* and their bytes (address space: pages
				      that were not resident count too) */
	size_t free_dirty;         /* base: free bytes whose pages may still be
				      resident (not released since last used) */
	uint64_t nr_failures;      /* allocations that returned NULL */
	size_t nr_importers;       /* arenas importing from this one */
	size_t nr_tags;            /* boundary tags owned (in use + spare) */
};
int arena_stats(struct arena *arena, struct arena_stats *st);

/* Verifies every invariant: tree order and non-overlap, segments inside
 * their spans and quantum-aligned, no two adjacent free segments, free lists
 * hold exactly the free tags in the right list, the hash holds exactly the
 * allocated tags, total = free + allocated, counters match the tags.
 * Returns 0, or -1 with a description of the first violation through the
 * error handler. */
int arena_check(struct arena *arena);

/* Gives back what the arena holds without using it: every object in its
 * quantum caches' magazines and every empty quantum-cache slab go back to
 * it (and spans that become entirely free to its source), then the same for
 * its source, and so on; finally the base arena releases its spare tag
 * pages and the pages of its free ranges to the OS (see "Memory back to the
 * OS" above).  Returns the bytes the base arena gave back to the OS during
 * the call.  kmem_cache_reap() and kmem_cache_destroy() call it on the
 * cache's source. */
size_t arena_reap(struct arena *arena);

/* Accessors; NULL gives "(null)", 0 and NULL (no error); a destroyed arena
 * is reported and gives "(destroyed)", 0 and NULL.  arena_id() is the id
 * trace events carry (1, 2, ... in creation order; 0 for NULL). */
uint32_t arena_id(const struct arena *arena);
const char *arena_name(const struct arena *arena);
size_t arena_quantum(const struct arena *arena);
struct arena *arena_source(const struct arena *arena);

/* The process-wide arenas, created on first use (thread-safe). */
struct arena *arena_base(void);
struct arena *arena_kpages(void);

/* Calls fn for every live arena, in creation order, under the global arena
 * list lock (fn must not create or destroy arenas). */
void arena_for_each(void (*fn)(struct arena *arena, void *arg), void *arg);

#ifdef __cplusplus
}
#endif
#endif /* MAGSLAB_ARENA_H */
