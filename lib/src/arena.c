/*
 * arena.c — vmem arenas: boundary-tag allocation of integer ranges.
 *
 * Lock order: pcc -> depot -> slab -> arena.  Among arenas: an arena may
 * take the base arena's lock while holding its own (only to get a page of
 * boundary tags); the base arena takes no other arena's lock.  An arena
 * never holds its lock while calling its source's afunc/ffunc, so importing
 * chains (kpages -> base, user -> kpages -> base) nest no locks.
 * arena_list_lock (the list of all arenas) is taken with no arena lock held.
 * arena_handles' lock (handle.c) is a leaf.  arena_reap takes no lock
 * around its calls into the quantum caches, and frees pages of tags to
 * base after dropping the arena's lock.
 *
 * Big picture (after Bonwick & Adams's vmem and Akaros's arena.c):
 *
 *   every boundary tag (span or segment) -- all_tags, a red-black tree in
 *       address order; a span tag comes before the first segment of its span
 *   free segments -- free_lists[i] holds sizes in [2^i, 2^(i+1)); bit i of
 *       free_mask is set iff list i is non-empty
 *   allocated segments -- alloc_hash, keyed by start address
 *
 * The segments of a span tile it exactly, and two free segments are never
 * adjacent (free coalesces with both neighbours).  So when a freed segment
 * coalesces into one that covers its whole span, the span is entirely free
 * and, if it was imported (or mapped, for base), it goes back at once.  A
 * span imported for a request is carved for that request before the lock is
 * dropped again, so an imported span is never entirely free for longer than
 * one locked step (arena_check() verifies this).
 *
 * Boundary tags are memory too.  Every arena but base takes whole pages of
 * tags from the base arena; base carves pages out of its own free segments,
 * and its very first tags from the first page of its first mapping.  Before
 * any operation that can split segments, TAGS_PER_OP tags are made sure of,
 * so an operation never fails half-way for lack of a tag.  A page of tags
 * is an allocated segment of base, so a chunk that holds live tags is never
 * entirely free, and never unmapped under them.  Spare tags are kept; at
 * reap, the tags in use are packed into the fullest pages (compact_tags)
 * and the pages emptied go back to base.
 *
 * Memory back to the OS (base only; the policy is stated in arena.h): an
 * entirely free chunk is unmapped at once; a free segment of base is
 * "dirty" while its pages may be resident (it was allocated since it was
 * last released); dirty segments are released with madvise(MADV_DONTNEED)
 * at every reap and whenever more than BASE_DIRTY_MAX bytes are dirty.
 * dirty_bytes is the sum of the dirty free segments; a merge of a dirty and
 * a clean segment is dirty as a whole (an overestimate: re-releasing pages
 * that are not resident costs a little time, no memory).
 *
 * Handles: every arena is registered in arena_handles (handle.h).  The
 * entry points other than alloc/xalloc/free/xfree check the pointer there;
 * destroy claims it; bury() keeps the struct dead in quarantine with its
 * lock intact, and the allocation entry points refuse it under that lock.
 *
 * Quantum caches: an arena with qcache_max > 0 fronts every size up to it
 * with a NOTOUCH slab cache of that many quanta (arena_alloc/arena_free
 * dispatch before taking the arena lock; xalloc never uses them).  Their
 * slabs (round_up_pow2(3 * qcache_max) bytes) come from the arena itself,
 * above qcache_max, so a qcache never recurses into a qcache.  What they
 * hold counts as allocated here: it is allocated, to them.
 *
 * FAQ:
 * - Why are spans trimmed inward to the quantum?  Then every segment's start
 *   and size are multiples of the quantum and no fit needs to re-align a
 *   plain allocation; an odd-quantum arena can never hand out an unaligned
 *   segment (an old Akaros bug).
 * - Why does instant fit fall back to best fit?  Instant fit only looks at
 *   lists whose every segment fits (sizes >= the next power of two).  A
 *   15-byte request in an arena whose only segment is 15 bytes would fail
 *   although it fits; vmem then searches the size's own list, and so do we.
 * - Why is ENOMEM silent?  Running out is an outcome callers plan for; the
 *   error handler is for bad input.  errno still says ENOMEM.
 * - Why report errors after unlocking?  A handler that logs through another
 *   allocator, or calls back into magslab, must not run under our lock.
 */
#include <magslab/arena.h>

#include "arena_impl.h"
#include "config.h"
#include "error.h"
#include "fork.h"
#include "handle.h"
#include "hash.h"
#include "rbtree.h"
#include "qcache.h"
#include "trace.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define NR_FREE_LISTS   64
/* The most tags one locked step can consume: an import adds a span tag and
 * its free segment (add_span: 2), and carving the request out of that
 * segment can leave a free piece before it (alignment, phase) and one
 * after it (carve_segment: 2).  Frees only merge, which takes no tag. */
#define TAGS_PER_OP     4
#define TAGS_LOW        8       /* refill below this many spare tags */
#define BASE_CHUNK      (16ul << 20)  /* base maps at least this much */
/* Base releases its free pages once more than this may be resident. */
#define BASE_DIRTY_MAX  (4 * BASE_CHUNK)
#define KPAGES_QCACHE_PAGES 8
#define MAX_QCACHES     1024    /* qcache_max / quantum at most */
#define ARENA_QUARANTINE 16     /* destroyed arenas kept dead (handle.h) */

enum btag_status { BTAG_FREE = 1, BTAG_ALLOC, BTAG_SPAN };
enum span_origin { SPAN_ADDED = 1, SPAN_IMPORTED, SPAN_MAPPED };

struct btag {
	struct rb_node all_link;        /* every tag: all_tags */
	union {
		struct {                /* BTAG_FREE: free_lists[] */
			struct btag *next, *prev;
		} fl;
		struct hash_link hl;    /* BTAG_ALLOC: alloc_hash */
		struct {                /* BTAG_SPAN: what the source gave */
			uintptr_t addr;
			size_t size;
		} imp;
		struct btag *spare_next; /* unused: spare_tags */
	} u;
	uintptr_t start;
	size_t size;
	uint8_t status;
	uint8_t origin;                 /* BTAG_SPAN only */
	uint8_t dirty;                  /* BTAG_FREE: pages may be resident */
};

/* The first tag slot of every page of tags links the pages together. */
struct tag_page {
	struct tag_page *next;
	size_t used;                    /* compaction: tags in the tree */
	bool keep;                      /* compaction: stays, takes moved tags */
};
_Static_assert(sizeof(struct tag_page) <= sizeof(struct btag),
	       "a tag page's header must fit in its first tag slot");

struct arena {
	struct handle handle;           /* arena_handles: live or quarantined */
	pthread_mutex_t lock;
	pthread_cond_t freed;           /* MEM_WAIT sleepers on bounded arenas */
	unsigned int nr_waiters;
	char name[ARENA_NAME_LEN];
	uint32_t id;                    /* trace events; 1, 2, ... */
	size_t quantum;
	size_t qcache_max;
	struct kmem_cache **qcaches;    /* [i]: objects of (i + 1) quanta */
	size_t nr_qcaches;
	int default_fit;
	bool is_base;
	bool is_builtin;                /* base and kpages live forever */
	bool dying;                     /* destroy in progress: no new importers */
	bool dead;                      /* destroyed (quarantined): refuse all */
	arena_afunc_t afunc;
	arena_ffunc_t ffunc;
	struct arena *source;

	struct rb_root all_tags;
	struct btag *free_lists[NR_FREE_LISTS];
	uint64_t free_mask;
	struct hash_table alloc_hash;
	uintptr_t nextfit_addr;         /* rotor: end of the last next-fit alloc */

	struct btag *spare_tags;
	size_t nr_spare_tags;
	size_t nr_tags;                 /* owned: in the tree + spare */
	struct tag_page *tag_pages;

	/* Accounting; invariant: total == free_bytes + alloc_bytes. */
	size_t total;
	size_t alloc_bytes;
	size_t free_bytes;
	size_t imported;
	size_t nr_spans;
	size_t max_span;                /* largest span ever added (bounded) */
	size_t nr_alloc_segs;
	size_t nr_free_segs;
	size_t nr_importers;
	uint64_t nr_allocs_ever;
	uint64_t nr_frees_ever;
	uint64_t nr_imports;
	uint64_t nr_releases;
	uint64_t bytes_released;
	uint64_t nr_failures;
	/* Base only: free pages given back to the OS inside mapped chunks.
	 * dirty_bytes is the size of the free segments marked dirty. */
	size_t dirty_bytes;
	uint64_t nr_page_releases;
	uint64_t page_bytes_released;

	struct arena *list_next;        /* all arenas, under arena_list_lock */
	struct arena *list_prev;
};

/* One allocation request, validated once and then matched against segments. */
struct request {
	size_t size;                    /* rounded up to the quantum */
	size_t align;                   /* >= 1 */
	size_t phase;                   /* < align */
	size_t step;                    /* lcm(align, quantum) */
	size_t nocross;                 /* 0 or a power of two */
	uintptr_t minaddr;
	uintptr_t maxaddr;              /* 0: no bound */
	int fit;
	bool constrained;               /* anything beyond size */
};

/* What a free gave back, to hand to the source (or the OS) after unlock. */
struct release {
	int origin;                     /* 0: nothing */
	uintptr_t addr;
	size_t size;
};

static struct arena base_arena_store, kpages_arena_store;
static struct arena *base_arena, *kpages_arena;
static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;
/* Published as soon as base works, before kpages' quantum caches are made:
 * making them needs the base arena from inside builtin_init(). */
static _Atomic(struct arena *) base_ready;
static size_t page_size;

static pthread_mutex_t arena_list_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_uint next_arena_id = 1;
static struct arena *arena_list_head, *arena_list_tail;

/* Live and destroyed arenas (handle.h). */
static struct handle_set arena_handles =
	HANDLE_SET_INIT(arena_handles, ARENA_QUARANTINE);

/* ---------------------------------------------------------------------- */
/* Small arithmetic helpers                                                */

static bool is_pow2(size_t x)
{
	return x && !(x & (x - 1));
}

static unsigned int floor_log2(size_t x)
{
	return 63u - (unsigned int)__builtin_clzll((unsigned long long)x);
}

static size_t gcd(size_t a, size_t b)
{
	while (b) {
		size_t t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/* Smallest multiple of m that is >= x; false on overflow. */
static bool round_up(uintptr_t x, size_t m, uintptr_t *out)
{
	uintptr_t r = x % m;

	if (!r) {
		*out = x;
		return true;
	}
	if (x > UINTPTR_MAX - (m - r))
		return false;
	*out = x + (m - r);
	return true;
}

/* Smallest y >= x with y % m == phase (phase < m); false on overflow. */
static bool round_up_phase(uintptr_t x, size_t m, size_t phase, uintptr_t *out)
{
	uintptr_t base;

	if (x <= phase) {
		*out = phase;
		return true;
	}
	if (!round_up(x - phase, m, &base) || base > UINTPTR_MAX - phase)
		return false;
	*out = base + phase;
	return true;
}

static bool crosses(uintptr_t x, size_t size, size_t nocross)
{
	return ((x ^ (x + size - 1)) & ~(uintptr_t)(nocross - 1)) != 0;
}

static uintptr_t tag_end(const struct btag *bt)
{
	return bt->start + bt->size;
}

static struct btag *tag_of(struct rb_node *n)
{
	return n ? rb_entry(n, struct btag, all_link) : NULL;
}

static struct btag *tag_next(struct btag *bt)
{
	return tag_of(rb_next(&bt->all_link));
}

static struct btag *tag_prev(struct btag *bt)
{
	return tag_of(rb_prev(&bt->all_link));
}

/* ---------------------------------------------------------------------- */
/* The tree of all tags                                                    */

/* Address order; a span tag sorts before the segment starting with it. */
static bool tag_before(const struct btag *a, const struct btag *b)
{
	if (a->start != b->start)
		return a->start < b->start;
	return a->status == BTAG_SPAN && b->status != BTAG_SPAN;
}

static void tree_insert(struct arena *a, struct btag *bt)
{
	struct rb_node **link = &a->all_tags.node, *parent = NULL;

	while (*link) {
		parent = *link;
		if (tag_before(bt, tag_of(parent)))
			link = &parent->left;
		else
			link = &parent->right;
	}
	rb_link(&bt->all_link, parent, link);
	rb_insert_fixup(&a->all_tags, &bt->all_link);
}

/* Links bt right after pos in address order, without a descent from the
 * root: a split piece's place is already known. */
static void tree_insert_after(struct arena *a, struct btag *pos,
			      struct btag *bt)
{
	struct rb_node *n = &pos->all_link;

	if (!n->right) {
		rb_link(&bt->all_link, n, &n->right);
	} else {
		for (n = n->right; n->left; n = n->left)
			;
		rb_link(&bt->all_link, n, &n->left);
	}
	rb_insert_fixup(&a->all_tags, &bt->all_link);
}

/* Links bt right before pos in address order. */
static void tree_insert_before(struct arena *a, struct btag *pos,
			       struct btag *bt)
{
	struct rb_node *n = &pos->all_link;

	if (!n->left) {
		rb_link(&bt->all_link, n, &n->left);
	} else {
		for (n = n->left; n->right; n = n->right)
			;
		rb_link(&bt->all_link, n, &n->right);
	}
	rb_insert_fixup(&a->all_tags, &bt->all_link);
}

static void tree_remove(struct arena *a, struct btag *bt)
{
	rb_erase(&a->all_tags, &bt->all_link);
}

/* The last tag whose start is <= addr (a segment wins over its span). */
static struct btag *tree_floor(struct arena *a, uintptr_t addr)
{
	struct rb_node *n = a->all_tags.node;
	struct btag *best = NULL;

	while (n) {
		struct btag *bt = tag_of(n);

		if (bt->start <= addr) {
			best = bt;
			n = n->right;
		} else {
			n = n->left;
		}
	}
	return best;
}

/* ---------------------------------------------------------------------- */
/* Free lists and the allocated-segment hash (with the accounting)         */

static void free_list_insert(struct arena *a, struct btag *bt)
{
	unsigned int i = floor_log2(bt->size);

	bt->status = BTAG_FREE;
	bt->u.fl.prev = NULL;
	bt->u.fl.next = a->free_lists[i];
	if (bt->u.fl.next)
		bt->u.fl.next->u.fl.prev = bt;
	a->free_lists[i] = bt;
	a->free_mask |= 1ull << i;
	a->nr_free_segs++;
	a->free_bytes += bt->size;
	if (bt->dirty)
		a->dirty_bytes += bt->size;
}

static void free_list_remove(struct arena *a, struct btag *bt)
{
	unsigned int i = floor_log2(bt->size);

	if (bt->u.fl.prev)
		bt->u.fl.prev->u.fl.next = bt->u.fl.next;
	else
		a->free_lists[i] = bt->u.fl.next;
	if (bt->u.fl.next)
		bt->u.fl.next->u.fl.prev = bt->u.fl.prev;
	if (!a->free_lists[i])
		a->free_mask &= ~(1ull << i);
	a->nr_free_segs--;
	a->free_bytes -= bt->size;
	if (bt->dirty)
		a->dirty_bytes -= bt->size;
}

static void track_alloc(struct arena *a, struct btag *bt)
{
	bt->status = BTAG_ALLOC;
	hash_insert(&a->alloc_hash, &bt->u.hl, bt->start);
	a->nr_alloc_segs++;
	a->alloc_bytes += bt->size;
	a->nr_allocs_ever++;
	/* A table that cannot grow is still correct: only slower. */
	if (hash_needs_grow(&a->alloc_hash)) {
		size_t old = a->alloc_hash.nr_lists;
		int rc = hash_grow(&a->alloc_hash);

		ms_trace(hash_resize, a->id, MS_HASH_ARENA, (uint64_t)old,
			 (uint64_t)a->alloc_hash.nr_lists,
			 (uint64_t)a->alloc_hash.nr_items,
			 rc ? 0 : a->alloc_hash.last_resize_ns,
			 (uint8_t)(rc == 0));
	}
}

static struct btag *untrack_alloc(struct arena *a, struct btag *bt)
{
	hash_remove(&a->alloc_hash, bt->start);
	a->nr_alloc_segs--;
	a->alloc_bytes -= bt->size;
	a->nr_frees_ever++;
	return bt;
}

static struct btag *find_alloc(struct arena *a, uintptr_t addr)
{
	struct hash_link *hl = hash_find(&a->alloc_hash, addr);

	return hl ? rb_entry(hl, struct btag, u.hl) : NULL;
}

/* ---------------------------------------------------------------------- */
/* Boundary tag supply                                                     */

static struct btag *get_tag(struct arena *a)
{
	struct btag *bt = a->spare_tags;

	/* ensure_tags() ran before every step that calls this. */
	a->spare_tags = bt->u.spare_next;
	a->nr_spare_tags--;
	memset(bt, 0, sizeof(*bt));
	return bt;
}

static void put_tag(struct arena *a, struct btag *bt)
{
	bt->status = 0;
	bt->u.spare_next = a->spare_tags;
	a->spare_tags = bt;
	a->nr_spare_tags++;
}

/* Turns one page at p into spare tags (its first slot links the pages). */
static void carve_tags(struct arena *a, void *p)
{
	struct tag_page *tp = p;
	struct btag *tags = p;
	size_t n = page_size / sizeof(struct btag);

	tp->next = a->tag_pages;
	a->tag_pages = tp;
	for (size_t i = 1; i < n; i++)
		put_tag(a, &tags[i]);
	a->nr_tags += n - 1;
}

static uintptr_t take_fit(struct arena *a, const struct request *r);
static bool base_grow(struct arena *a, size_t size);

static bool refill_tags_base(struct arena *a)
{
	struct request r = {
		.size = page_size, .align = 1, .step = page_size,
		.fit = ARENA_INSTANTFIT,
	};
	uintptr_t p = take_fit(a, &r);

	if (!p && base_grow(a, page_size))
		p = take_fit(a, &r);
	if (!p)
		return false;
	carve_tags(a, (void *)p);
	return true;
}

static bool refill_tags(struct arena *a)
{
	void *p;

	if (a->is_base)
		return refill_tags_base(a);
	/* Lock order: this arena, then base (base takes no other lock). */
	p = arena_alloc(arena_base(), page_size, MEM_ATOMIC);
	if (!p)
		return false;
	carve_tags(a, p);
	return true;
}

/* Makes sure one locked step can take TAGS_PER_OP tags. */
static bool ensure_tags(struct arena *a)
{
	while (a->nr_spare_tags < TAGS_LOW)
		if (!refill_tags(a))
			break;
	return a->nr_spare_tags >= TAGS_PER_OP;
}

/* ---------------------------------------------------------------------- */
/* Spans                                                                   */

/* Adds a span and its one free segment; returns the segment. */
static struct btag *add_span(struct arena *a, uintptr_t start, size_t size,
			     int origin, uintptr_t iaddr, size_t isize)
{
	struct btag *span = get_tag(a), *seg = get_tag(a);

	span->status = BTAG_SPAN;
	span->origin = (uint8_t)origin;
	span->start = start;
	span->size = size;
	span->u.imp.addr = iaddr;
	span->u.imp.size = isize;
	tree_insert(a, span);
	seg->start = start;
	seg->size = size;
	seg->status = BTAG_FREE;
	tree_insert(a, seg);
	free_list_insert(a, seg);
	a->total += size;
	a->nr_spans++;
	if (size > a->max_span)
		a->max_span = size;
	if (origin != SPAN_ADDED)
		a->imported += size;
	return seg;
}

/* True if [start, start + size) overlaps a span already in the arena. */
static bool overlaps_span(struct arena *a, uintptr_t start, size_t size)
{
	struct btag *bt = tree_floor(a, start + size - 1);

	return bt && tag_end(bt) > start;
}

/* If seg (free, coalesced) covers its whole span and the span came from a
 * source or the OS, unlinks both and says what to give back. */
static void release_if_span_free(struct arena *a, struct btag *seg,
				 struct release *rel)
{
	struct btag *span = tag_prev(seg);

	if (!span || span->status != BTAG_SPAN || span->origin == SPAN_ADDED)
		return;
	if (span->start != seg->start || span->size != seg->size)
		return;
	free_list_remove(a, seg);
	tree_remove(a, seg);
	put_tag(a, seg);
	tree_remove(a, span);
	a->total -= span->size;
	a->imported -= span->size;
	a->nr_spans--;
	a->nr_releases++;
	a->bytes_released += span->u.imp.size;
	rel->origin = span->origin;
	rel->addr = span->u.imp.addr;
	rel->size = span->u.imp.size;
	put_tag(a, span);
}

static void give_back(struct arena *a, const struct release *rel)
{
	if (rel->origin)
		ms_trace(arena_release, a->id, a->source ? a->source->id : 0,
			 (uint64_t)rel->addr, (uint64_t)rel->size,
			 MS_RELEASE_SPAN);
	if (rel->origin == SPAN_MAPPED)
		munmap((void *)rel->addr, rel->size);
	else if (rel->origin == SPAN_IMPORTED)
		a->ffunc(a->source, (void *)rel->addr, rel->size);
}

/* Base only (lock held): gives the pages of every dirty free segment back to
 * the OS.  MADV_DONTNEED rather than MADV_FREE: the pages leave the
 * process's RSS now, not under memory pressure some time later, which is
 * what a caller of reap asks for (and what can be measured).  Done under
 * the lock: a segment released after unlocking could have been handed out
 * again meanwhile, and its new owner's data would be thrown away. */
static void base_release_pages(struct arena *a)
{
	for (unsigned int i = 0; i < NR_FREE_LISTS && a->dirty_bytes; i++) {
		for (struct btag *bt = a->free_lists[i]; bt; bt = bt->u.fl.next) {
			if (!bt->dirty ||
			    madvise((void *)bt->start, bt->size, MADV_DONTNEED))
				continue;
			bt->dirty = 0;
			a->dirty_bytes -= bt->size;
			a->nr_page_releases++;
			a->page_bytes_released += bt->size;
			ms_trace(arena_release, a->id, 0, (uint64_t)bt->start,
				 (uint64_t)bt->size, MS_RELEASE_PAGES);
		}
	}
}

/* Base only: maps a new chunk from the OS big enough for size bytes.  The
 * very first chunk also supplies base's first tags (its first page). */
static bool base_grow(struct arena *a, size_t size)
{
	bool carve = a->nr_spare_tags < 3;
	size_t len;
	void *p;

	if (size > SIZE_MAX - page_size ||
	    !round_up(size + page_size, page_size, &len))
		return false;
	if (len < BASE_CHUNK)
		len = BASE_CHUNK;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return false;
	if (carve)
		carve_tags(a, p);
	add_span(a, (uintptr_t)p, len, SPAN_MAPPED, (uintptr_t)p, len);
	a->nr_imports++;
	ms_trace(arena_import, a->id, 0, (uint64_t)(uintptr_t)p, (uint64_t)len);
	if (carve) {
		struct request r = {
			.size = page_size, .align = 1, .step = page_size,
			.fit = ARENA_INSTANTFIT, .constrained = true,
			.minaddr = (uintptr_t)p,
			.maxaddr = (uintptr_t)p + page_size,
		};

		/* Account for the carved page as base's own allocation. */
		take_fit(a, &r);
	}
	return true;
}

/* ---------------------------------------------------------------------- */
/* Finding a fit                                                           */

/* First address >= lo that is quantum-aligned and at phase of align. */
static bool first_candidate(const struct arena *a, const struct request *r,
			    uintptr_t lo, uintptr_t *out)
{
	uintptr_t x;

	if (r->phase == 0)
		return round_up(lo, r->step, out);
	if (!round_up_phase(lo, r->align, r->phase, &x))
		return false;
	/* Solvable (checked at validation), so a hit comes within quantum
	 * steps of align. */
	for (size_t i = 0; i < a->quantum; i++) {
		if (x % a->quantum == 0) {
			*out = x;
			return true;
		}
		if (x > UINTPTR_MAX - r->align)
			return false;
		x += r->align;
	}
	return false;
}

/* Lowest address inside free segment bt meeting every constraint of r. */
static bool seg_fit(const struct arena *a, const struct btag *bt,
		    const struct request *r, uintptr_t lo, uintptr_t *out)
{
	uintptr_t hi = tag_end(bt), x;

	if (lo < bt->start)
		lo = bt->start;
	if (lo < r->minaddr)
		lo = r->minaddr;
	if (r->maxaddr && hi > r->maxaddr)
		hi = r->maxaddr;
	/* Each hop moves past one nocross boundary; the pattern of quantum
	 * offsets repeats within quantum windows, so this bound suffices. */
	for (size_t hop = 0; hop <= a->quantum + 1; hop++) {
		if (!first_candidate(a, r, lo, &x) || x >= hi ||
		    hi - x < r->size)
			return false;
		if (!r->nocross || !crosses(x, r->size, r->nocross)) {
			*out = x;
			return true;
		}
		lo = (x | (r->nocross - 1)) + 1;
	}
	return false;
}

/* Smallest segment of list i that fits r (best fit inside one list); an
 * exact fit ends the walk, as nothing can beat it (vmem does the same: a
 * list can hold hundreds of thousands of segments). */
static struct btag *best_in_list(struct arena *a, unsigned int i,
				 const struct request *r, uintptr_t *addr)
{
	struct btag *best = NULL;
	uintptr_t x;

	for (struct btag *bt = a->free_lists[i]; bt; bt = bt->u.fl.next) {
		if (bt->size < r->size || (best && bt->size >= best->size))
			continue;
		if (!r->constrained) {
			best = bt;
			*addr = bt->start;
		} else if (seg_fit(a, bt, r, 0, &x)) {
			best = bt;
			*addr = x;
		}
		if (best && best->size == r->size)
			break;
	}
	return best;
}

/* First fitting segment of list i. */
static struct btag *first_in_list(struct arena *a, unsigned int i,
				  const struct request *r, uintptr_t *addr)
{
	for (struct btag *bt = a->free_lists[i]; bt; bt = bt->u.fl.next) {
		if (bt->size < r->size)
			continue;
		if (!r->constrained) {
			*addr = bt->start;
			return bt;
		}
		if (seg_fit(a, bt, r, 0, addr))
			return bt;
	}
	return NULL;
}

/* Non-empty lists at index >= i, as a mask. */
static uint64_t lists_from(const struct arena *a, unsigned int i)
{
	return i >= NR_FREE_LISTS ? 0 : a->free_mask & (~0ull << i);
}

/* The list from which every segment surely fits r: size rounded up to a
 * power of two; with an alignment (and nothing else), size + step -
 * quantum, since a segment that long holds an aligned block wherever it
 * starts.  Other constraints have no such list: NR_FREE_LISTS. */
static unsigned int sure_fit_list(const struct request *r, size_t quantum)
{
	size_t need = r->size;

	if (r->constrained) {
		if (r->phase || r->nocross || r->minaddr || r->maxaddr ||
		    need > SIZE_MAX - r->step)
			return NR_FREE_LISTS;
		need += r->step - quantum;
	}
	return is_pow2(need) ? floor_log2(need) : floor_log2(need) + 1;
}

static struct btag *find_instant(struct arena *a, const struct request *r,
				 uintptr_t *addr)
{
	unsigned int own = floor_log2(r->size);
	unsigned int sure = sure_fit_list(r, a->quantum);
	unsigned int i = is_pow2(r->size) ? own : own + 1;
	uint64_t m = lists_from(a, sure);

	if (m) {
		struct btag *bt = a->free_lists[__builtin_ctzll(m)];

		if (!r->constrained)
			*addr = bt->start;
		else if (!seg_fit(a, bt, r, 0, addr))
			bt = NULL;      /* cannot happen: sure_fit_list */
		if (bt)
			return bt;
	}
	m = lists_from(a, i);
	for (; m; m &= m - 1) {
		struct btag *bt = first_in_list(a, __builtin_ctzll(m), r, addr);

		if (bt)
			return bt;
	}
	return best_in_list(a, own, r, addr);
}

/* Best fit in the size's own list, else the first fit of the lists above
 * (every segment there is at least twice the smallest that would do, so
 * searching them for the smallest buys little and costs a whole walk). */
static struct btag *find_best(struct arena *a, const struct request *r,
			      uintptr_t *addr)
{
	unsigned int own = floor_log2(r->size);
	struct btag *bt = best_in_list(a, own, r, addr);

	for (uint64_t m = lists_from(a, own + 1); !bt && m; m &= m - 1)
		bt = first_in_list(a, __builtin_ctzll(m), r, addr);
	return bt;
}

/* Address-order walk from from (inclusive) to stop (exclusive, NULL: end). */
static struct btag *walk_fit(struct arena *a, struct btag *from,
			     struct btag *stop, const struct request *r,
			     uintptr_t lo, uintptr_t *addr)
{
	for (struct btag *bt = from; bt && bt != stop; bt = tag_next(bt))
		if (bt->status == BTAG_FREE && seg_fit(a, bt, r, lo, addr))
			return bt;
	return NULL;
}

/* Next fit: the first fit at or after the rotor, then from the start. */
static struct btag *find_next(struct arena *a, const struct request *r,
			      uintptr_t *addr)
{
	struct btag *from = tree_floor(a, a->nextfit_addr);
	struct btag *first = tag_of(rb_first(&a->all_tags)), *bt;

	if (!from)
		from = first;
	bt = walk_fit(a, from, NULL, r, a->nextfit_addr, addr);
	if (!bt)
		bt = walk_fit(a, first, NULL, r, 0, addr);
	return bt;
}

/* Carves [addr, addr + size) out of free segment bt, which becomes the
 * allocated segment; the pieces before and after stay free. */
static void carve_segment(struct arena *a, struct btag *bt, uintptr_t addr,
			  size_t size)
{
	free_list_remove(a, bt);
	if (addr > bt->start) {
		struct btag *front = get_tag(a);

		front->start = bt->start;
		front->size = addr - bt->start;
		front->dirty = bt->dirty;
		bt->start = addr;
		bt->size -= front->size;
		tree_insert_before(a, bt, front);
		free_list_insert(a, front);
	}
	if (bt->size > size) {
		struct btag *back = get_tag(a);

		back->start = addr + size;
		back->size = bt->size - size;
		back->dirty = bt->dirty;
		bt->size = size;
		tree_insert_after(a, bt, back);
		free_list_insert(a, back);
	}
	track_alloc(a, bt);
}

/* Finds a fit for r among the free segments and allocates it; 0 if none. */
static uintptr_t take_fit(struct arena *a, const struct request *r)
{
	struct btag *bt;
	uintptr_t addr = 0;

	if (r->fit == ARENA_NEXTFIT)
		bt = find_next(a, r, &addr);
	else if (r->fit == ARENA_BESTFIT)
		bt = find_best(a, r, &addr);
	else
		bt = find_instant(a, r, &addr);
	if (!bt)
		return 0;
	carve_segment(a, bt, addr, r->size);
	if (r->fit == ARENA_NEXTFIT)
		a->nextfit_addr = addr + r->size;
	return addr;
}

/* ---------------------------------------------------------------------- */
/* Importing                                                               */

/* How much to ask the source for so that r surely fits in what comes back
 * (the source's alignment may not be ours). */
static size_t import_size(const struct arena *a, const struct request *r)
{
	size_t src_q = a->source->quantum, sz = r->size, slack = 0;

	if (r->step > 1 && src_q % r->step)
		slack += r->step - 1 + r->phase;
	if (r->nocross)
		slack += r->size + r->phase;
	if (sz > SIZE_MAX - slack)
		return 0;
	sz += slack;
	if (!round_up(sz, src_q, &sz))
		return 0;
	return sz;
}

/* Imports a span for r and returns its one free segment, or NULL.  Called
 * and returns with a->lock held, but drops it around the source call. */
static struct btag *import_span(struct arena *a, const struct request *r,
				int flags)
{
	size_t isz = import_size(a, r);
	uintptr_t p, start, end;
	void *got;

	if (!isz)
		return NULL;
	pthread_mutex_unlock(&a->lock);
	got = a->afunc(a->source, isz, flags & (MEM_WAIT | MEM_ATOMIC));
	pthread_mutex_lock(&a->lock);
	if (!got)
		return NULL;
	p = (uintptr_t)got;
	if (!round_up(p, a->quantum, &start))
		start = p + isz;
	end = p + isz - (p + isz) % a->quantum;
	if (end <= start || !ensure_tags(a)) {
		pthread_mutex_unlock(&a->lock);
		a->ffunc(a->source, got, isz);
		pthread_mutex_lock(&a->lock);
		return NULL;
	}
	a->nr_imports++;
	ms_trace(arena_import, a->id, a->source->id, (uint64_t)p, (uint64_t)isz);
	return add_span(a, start, end - start, SPAN_IMPORTED, p, isz);
}

/* Allocates r from seg, the free segment of a span just imported for it.
 * The import is for this request: taking any other segment (one freed
 * while the lock was dropped) would strand the new span, entirely free and
 * never released.  If r does not fit after all, the span goes straight
 * back.  a->lock is held, and dropped only to give the span back. */
static uintptr_t take_from_import(struct arena *a, struct btag *seg,
				  const struct request *r)
{
	struct release rel = { 0 };
	uintptr_t addr;

	if (seg_fit(a, seg, r, 0, &addr)) {
		carve_segment(a, seg, addr, r->size);
		if (r->fit == ARENA_NEXTFIT)
			a->nextfit_addr = addr + r->size;
		return addr;
	}
	release_if_span_free(a, seg, &rel);
	pthread_mutex_unlock(&a->lock);
	give_back(a, &rel);
	pthread_mutex_lock(&a->lock);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Argument checking                                                       */

static int fit_of(const struct arena *a, int flags)
{
	int fit = flags & ARENA_FIT_MASK;

	return fit ? fit : a->default_fit;
}

static bool check_fit_flags(struct arena *a, int flags, const char *fn,
			    struct ms_err *e)
{
	int fit = flags & ARENA_FIT_MASK;

	if (fit && !is_pow2((size_t)fit)) {
		ms_err_set(e, EINVAL, "arena '%s': %s: more than one fit policy in flags 0x%x",
			   a->name, fn, flags);
		return false;
	}
	return true;
}

static bool check_size(struct arena *a, size_t size, const char *fn,
		       struct request *r, struct ms_err *e)
{
	if (size == 0) {
		ms_err_set(e, EINVAL, "arena '%s': %s: size 0", a->name, fn);
		return false;
	}
	if (!round_up(size, a->quantum, &r->size)) {
		ms_err_set(e, EINVAL, "arena '%s': %s: size %zu too large",
			   a->name, fn, size);
		return false;
	}
	return true;
}

static bool check_xalloc_args(struct arena *a, struct request *r,
			      size_t align, size_t phase, size_t nocross,
			      uintptr_t minaddr, uintptr_t maxaddr,
			      struct ms_err *e)
{
	const char *n = a->name;

	if (align > 1 && !is_pow2(align))
		ms_err_set(e, EINVAL, "arena '%s': arena_xalloc: align %zu is not a power of two", n, align);
	else if (align > 1 ? phase >= align : phase != 0)
		ms_err_set(e, EINVAL, "arena '%s': arena_xalloc: phase %zu >= align %zu", n, phase, align);
	else if (nocross && !is_pow2(nocross))
		ms_err_set(e, EINVAL, "arena '%s': arena_xalloc: nocross %zu is not a power of two", n, nocross);
	else if (nocross && (r->size > nocross || phase > nocross - r->size))
		ms_err_set(e, EINVAL, "arena '%s': arena_xalloc: nocross %zu smaller than size %zu + phase %zu", n, nocross, r->size, phase);
	else if ((minaddr || maxaddr) && (a->source || a->is_base))
		ms_err_set(e, EINVAL, "arena '%s': arena_xalloc: min/max address on an arena that imports", n);
	else if (maxaddr && minaddr >= maxaddr)
		ms_err_set(e, EINVAL, "arena '%s': arena_xalloc: minaddr %#lx >= maxaddr %#lx", n, (unsigned long)minaddr, (unsigned long)maxaddr);
	else if (align > 1 && phase % gcd(align, a->quantum))
		ms_err_set(e, EINVAL, "arena '%s': arena_xalloc: no multiple of quantum %zu is at phase %zu of align %zu", n, a->quantum, phase, align);
	if (e->err)
		return false;
	r->align = align > 1 ? align : 1;
	r->phase = phase;
	r->step = r->align / gcd(r->align, a->quantum) * a->quantum;
	r->nocross = nocross;
	r->minaddr = minaddr;
	r->maxaddr = maxaddr;
	r->constrained = r->align > 1 || nocross || minaddr || maxaddr;
	return true;
}

/* ---------------------------------------------------------------------- */
/* Allocation and free                                                     */

/* What base must map so that r surely fits in the new chunk; 0 if that
 * overflows. */
static size_t base_grow_size(const struct request *r)
{
	size_t extra = r->step + r->phase + r->nocross;

	return r->size > SIZE_MAX - extra ? 0 : r->size + extra;
}

/* Could freeing ever satisfy r on this bounded arena?  Spans are never
 * removed from an arena without a source, so a request larger than every
 * span, or than its address window, would wait forever. */
static bool could_fit_later(const struct arena *a, const struct request *r)
{
	if (r->size > a->max_span)
		return false;
	return !r->maxaddr || r->maxaddr - r->minaddr >= r->size;
}

/* The shared slow-and-fast path of alloc and xalloc; a->lock is held. */
static uintptr_t alloc_locked(struct arena *a, const struct request *r,
			      int flags)
{
	for (;;) {
		struct btag *seg;
		uintptr_t addr;
		size_t grow;

		if (!ensure_tags(a))
			return 0;
		addr = take_fit(a, r);
		if (addr)
			return addr;
		if (a->is_base) {
			/* A fresh chunk is sized to fit: one try only. */
			grow = base_grow_size(r);
			if (!grow || !base_grow(a, grow) || !ensure_tags(a))
				return 0;
			return take_fit(a, r);
		} else if (a->source) {
			seg = import_span(a, r, flags);
			return seg ? take_from_import(a, seg, r) : 0;
		} else if ((flags & MEM_WAIT) && could_fit_later(a, r)) {
			a->nr_waiters++;
			pthread_cond_wait(&a->freed, &a->lock);
			a->nr_waiters--;
		} else {
			return 0;
		}
	}
}

static void *alloc_request(struct arena *a, struct request *r, int flags)
{
	uintptr_t addr;

	r->fit = fit_of(a, flags);
	pthread_mutex_lock(&a->lock);
	if (a->dead) {
		pthread_mutex_unlock(&a->lock);
		ms_error(EINVAL, "arena '%s': arena_alloc: use of a destroyed arena",
			 a->name);
		return NULL;
	}
	addr = alloc_locked(a, r, flags);
	if (!addr)
		a->nr_failures++;
	pthread_mutex_unlock(&a->lock);
	if (!addr) {
		ms_trace(arena_fail, a->id, (uint64_t)r->size, (uint32_t)flags);
		errno = ENOMEM;
	}
	return (void *)addr;
}

/* For the allocation entry points: only NULL is checked here; a destroyed
 * arena still in quarantine is caught under its lock (a->dead), which costs
 * nothing, where a look-up in the handle set would cost a global lock. */
static bool check_arena(struct arena *a, const char *fn, struct ms_err *e)
{
	if (!a)
		ms_err_set(e, EINVAL, "%s: NULL arena", fn);
	return a != NULL;
}

static bool handle_error(const struct arena *a, enum handle_state st,
			 const char *fn, struct ms_err *e);

/* For every other entry point: a must be a live arena.  A destroyed one is
 * named if it is still in quarantine; its memory is not read otherwise. */
static bool check_handle(const struct arena *a, const char *fn,
			 struct ms_err *e)
{
	enum handle_state st;

	if (!a) {
		ms_err_set(e, EINVAL, "%s: NULL arena", fn);
		return false;
	}
	st = handle_lookup(&arena_handles, a);
	/* Being destroyed: still whole until destroy takes it off the arena
	 * list, which is what keeps arena_for_each's callbacks (the stats
	 * printers) safe.  Only a second destroy is refused (the claim). */
	return handle_error(a, st == HANDLE_DYING ? HANDLE_LIVE : st, fn, e);
}

/* Says what a is, unless it is live (then returns true). */
static bool handle_error(const struct arena *a, enum handle_state st,
			 const char *fn, struct ms_err *e)
{
	switch (st) {
	case HANDLE_LIVE:
		return true;
	case HANDLE_DYING:
		ms_err_set(e, EINVAL, "arena '%s': %s: the arena is being destroyed",
			   a->name, fn);
		return false;
	case HANDLE_DEAD:
		ms_err_set(e, EINVAL, "arena '%s': %s: the arena was destroyed",
			   a->name, fn);
		return false;
	default:
		ms_err_set(e, EINVAL, "%s(%p): not an arena (destroyed, or never created)",
			   fn, (const void *)a);
		return false;
	}
}

bool arena_handle_check(const struct arena *a, const char *fn,
			struct ms_err *e)
{
	return check_handle(a, fn, e);
}

void *arena_alloc(struct arena *a, size_t size, int flags)
{
	struct request r = { .align = 1 };
	struct ms_err e = { 0 };

	if (!check_arena(a, "arena_alloc", &e) ||
	    !check_fit_flags(a, flags, "arena_alloc", &e) ||
	    !check_size(a, size, "arena_alloc", &r, &e)) {
		ms_err_report(&e);
		return NULL;
	}
	r.step = a->quantum;
	if (a->qcaches && r.size <= a->qcache_max) {
		struct kmem_cache *qc = a->qcaches[r.size / a->quantum - 1];
		void *obj = kmem_cache_alloc(qc, flags);

		if (obj)
			kmem_qcache_claim(qc, obj);
		return obj;
	}
	return alloc_request(a, &r, flags);
}

void *arena_xalloc(struct arena *a, size_t size, size_t align, size_t phase,
		   size_t nocross, void *minaddr, void *maxaddr, int flags)
{
	struct request r = { .align = 1 };
	struct ms_err e = { 0 };

	if (!check_arena(a, "arena_xalloc", &e) ||
	    !check_fit_flags(a, flags, "arena_xalloc", &e) ||
	    !check_size(a, size, "arena_xalloc", &r, &e) ||
	    !check_xalloc_args(a, &r, align, phase, nocross,
			       (uintptr_t)minaddr, (uintptr_t)maxaddr, &e)) {
		ms_err_report(&e);
		return NULL;
	}
	return alloc_request(a, &r, flags);
}

/* Merges bt, just freed and not yet on a free list, with its free
 * neighbours; returns the merged tag, still off the free lists. */
static struct btag *coalesce(struct arena *a, struct btag *bt)
{
	struct btag *next = tag_next(bt), *prev = tag_prev(bt);

	if (next && next->status == BTAG_FREE) {
		free_list_remove(a, next);
		bt->size += next->size;
		bt->dirty |= next->dirty;
		tree_remove(a, next);
		put_tag(a, next);
	}
	if (prev && prev->status == BTAG_FREE) {
		free_list_remove(a, prev);
		prev->size += bt->size;
		prev->dirty |= bt->dirty;
		tree_remove(a, bt);
		put_tag(a, bt);
		bt = prev;
	}
	return bt;
}

static int free_common(struct arena *a, void *ptr, size_t size,
		       const char *fn)
{
	uintptr_t addr = (uintptr_t)ptr, want;
	struct release rel = { 0 };
	struct ms_err e = { 0 };
	struct btag *bt;

	if (!check_arena(a, fn, &e)) {
		ms_err_report(&e);
		return -1;
	}
	pthread_mutex_lock(&a->lock);
	if (a->dead) {
		ms_err_set(&e, EINVAL, "arena '%s': %s: use of a destroyed arena",
			   a->name, fn);
	} else if (!(bt = find_alloc(a, addr))) {
		ms_err_set(&e, EINVAL, "arena '%s': %s(%#lx, %zu): address not allocated (double free or foreign pointer)",
			   a->name, fn, (unsigned long)addr, size);
	} else if (!size || !round_up(size, a->quantum, &want) ||
		   want != bt->size) {
		ms_err_set(&e, EINVAL, "arena '%s': %s(%#lx, %zu): wrong size, the segment has %zu bytes",
			   a->name, fn, (unsigned long)addr, size, bt->size);
	} else {
		untrack_alloc(a, bt);
		bt->dirty = a->is_base; /* base: its pages may be resident */
		bt = coalesce(a, bt);
		free_list_insert(a, bt);
		release_if_span_free(a, bt, &rel);
		if (a->is_base && a->dirty_bytes > BASE_DIRTY_MAX)
			base_release_pages(a);
		if (a->nr_waiters)
			pthread_cond_broadcast(&a->freed);
	}
	pthread_mutex_unlock(&a->lock);
	if (e.err) {
		ms_err_report(&e);
		return -1;
	}
	give_back(a, &rel);
	return 0;
}

int arena_free(struct arena *a, void *addr, size_t size)
{
	size_t q;

	if (a && a->qcaches && size && size <= a->qcache_max) {
		q = (size + a->quantum - 1) / a->quantum;
		if (!kmem_qcache_release(a->qcaches[q - 1], addr)) {
			ms_error(EINVAL, "arena '%s': arena_free(%p, %zu): not allocated with this size, or already freed (quantum cache '%s')",
				 a->name, addr, size,
				 kmem_cache_name(a->qcaches[q - 1]));
			return -1;
		}
		kmem_cache_free(a->qcaches[q - 1], addr);
		return 0;
	}
	return free_common(a, addr, size, "arena_free");
}

int arena_xfree(struct arena *a, void *addr, size_t size)
{
	return free_common(a, addr, size, "arena_xfree");
}

/* ---------------------------------------------------------------------- */
/* Adding spans                                                            */

void *arena_add(struct arena *a, void *base, size_t size, int flags)
{
	uintptr_t b = (uintptr_t)base, start = 0, end = 0;
	struct ms_err e = { 0 };

	(void)flags;
	if (!check_handle(a, "arena_add", &e))
		goto out;
	if (a->source || a->is_base)
		ms_err_set(&e, EINVAL, "arena '%s': arena_add: the arena imports its memory", a->name);
	else if (!b || !size || b > UINTPTR_MAX - size)
		ms_err_set(&e, EINVAL, "arena '%s': arena_add(%#lx, %zu): bad span", a->name, (unsigned long)b, size);
	else if (!round_up(b, a->quantum, &start) ||
		 (end = (b + size) - (b + size) % a->quantum) <= start)
		ms_err_set(&e, EINVAL, "arena '%s': arena_add(%#lx, %zu): no whole quantum of %zu inside",
			   a->name, (unsigned long)b, size, a->quantum);
	if (e.err)
		goto out;
	pthread_mutex_lock(&a->lock);
	if (overlaps_span(a, start, end - start))
		ms_err_set(&e, EINVAL, "arena '%s': arena_add(%#lx, %zu): overlaps an existing span",
			   a->name, (unsigned long)b, size);
	else if (!ensure_tags(a))
		ms_err_set(&e, ENOMEM, "arena '%s': arena_add: out of boundary tags", a->name);
	else
		add_span(a, start, end - start, SPAN_ADDED, 0, 0);
	if (!e.err && a->nr_waiters)
		pthread_cond_broadcast(&a->freed);
	pthread_mutex_unlock(&a->lock);
out:
	ms_err_report(&e);
	return e.err ? NULL : base;
}

/* ---------------------------------------------------------------------- */
/* Create and destroy                                                      */

static void list_add(struct arena *a)
{
	pthread_mutex_lock(&arena_list_lock);
	a->list_prev = arena_list_tail;
	if (arena_list_tail)
		arena_list_tail->list_next = a;
	else
		arena_list_head = a;
	arena_list_tail = a;
	pthread_mutex_unlock(&arena_list_lock);
}

static void list_del(struct arena *a)
{
	pthread_mutex_lock(&arena_list_lock);
	if (a->list_prev)
		a->list_prev->list_next = a->list_next;
	else
		arena_list_head = a->list_next;
	if (a->list_next)
		a->list_next->list_prev = a->list_prev;
	else
		arena_list_tail = a->list_prev;
	pthread_mutex_unlock(&arena_list_lock);
}

/* The default ffunc: arena_free() returns a status a source call ignores
 * (a failure there was already reported by the source). */
static void free_to_source(struct arena *source, void *addr, size_t size)
{
	(void)arena_free(source, addr, size);
}

static void arena_init(struct arena *a, const char *name, size_t quantum,
		       arena_afunc_t afunc, arena_ffunc_t ffunc,
		       struct arena *source, size_t qcache_max, int flags)
{
	memset(a, 0, sizeof(*a));
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->freed, NULL);
	snprintf(a->name, sizeof(a->name), "%s", name ? name : "(null)");
	a->id = atomic_fetch_add(&next_arena_id, 1);
	a->quantum = quantum;
	a->qcache_max = qcache_max;
	a->default_fit = (flags & ARENA_FIT_MASK) ? (flags & ARENA_FIT_MASK)
						  : ARENA_INSTANTFIT;
	a->source = source;
	a->afunc = source ? (afunc ? afunc : arena_alloc) : NULL;
	a->ffunc = source ? (ffunc ? ffunc : free_to_source) : NULL;
	hash_init(&a->alloc_hash);
}

static bool check_create_args(const char *name, void *base, size_t quantum,
			      struct arena *source, size_t qcache_max,
			      int flags, struct ms_err *e)
{
	const char *n = name ? name : "(null)";
	int fit = flags & ARENA_FIT_MASK;

	if (quantum == 0)
		ms_err_set(e, EINVAL, "arena '%s': arena_create: quantum 0", n);
	else if (qcache_max % quantum)
		ms_err_set(e, EINVAL, "arena '%s': arena_create: qcache_max %zu is not a multiple of quantum %zu",
			   n, qcache_max, quantum);
	else if (qcache_max / quantum > MAX_QCACHES)
		ms_err_set(e, EINVAL, "arena '%s': arena_create: qcache_max %zu is more than %d quanta",
			   n, qcache_max, MAX_QCACHES);
	else if (source && base)
		ms_err_set(e, EINVAL, "arena '%s': arena_create: both a source and an initial span", n);
	else if (fit && !is_pow2((size_t)fit))
		ms_err_set(e, EINVAL, "arena '%s': arena_create: more than one fit policy", n);
	return !e->err;
}

/* Registers a as an importer of source; fails if source is being destroyed. */
static bool attach_to_source(struct arena *a, struct arena *source,
			     struct ms_err *e)
{
	bool ok;

	pthread_mutex_lock(&source->lock);
	ok = !source->dying;
	if (ok)
		source->nr_importers++;
	pthread_mutex_unlock(&source->lock);
	if (!ok)
		ms_err_set(e, EINVAL, "arena '%s': arena_create: source '%s' is being destroyed",
			   a->name, source->name);
	return ok;
}

static void detach_from_source(struct arena *a)
{
	if (!a->source)
		return;
	pthread_mutex_lock(&a->source->lock);
	a->source->nr_importers--;
	pthread_mutex_unlock(&a->source->lock);
}

static size_t qcache_array_size(size_t n)
{
	size_t sz = n * sizeof(struct kmem_cache *);

	return (sz + page_size - 1) / page_size * page_size;
}

/* Destroys a's quantum caches (none may hold objects). */
static void qcaches_destroy(struct arena *a)
{
	struct kmem_cache **qc = a->qcaches;
	size_t n = a->nr_qcaches;

	a->qcaches = NULL;
	a->nr_qcaches = 0;
	for (size_t i = 0; i < n; i++)
		if (qc[i])
			kmem_cache_destroy(qc[i]);
	arena_free(arena_base(), qc, qcache_array_size(n));
}

/* One NOTOUCH cache per multiple of the quantum up to qcache_max. */
static int qcaches_create(struct arena *a)
{
	size_t n = a->qcache_max / a->quantum;
	struct kmem_cache **qc;

	if (!n)
		return 0;
	qc = arena_alloc(arena_base(), qcache_array_size(n), MEM_ATOMIC);
	if (!qc)
		return -1;
	memset(qc, 0, n * sizeof(*qc));
	a->nr_qcaches = n;
	for (size_t i = 0; i < n; i++) {
		qc[i] = kmem_qcache_create(a, (i + 1) * a->quantum,
					   a->qcache_max);
		if (!qc[i]) {
			a->qcaches = qc;
			qcaches_destroy(a);
			return -1;
		}
	}
	a->qcaches = qc;
	return 0;
}

/* Objects held in a's quantum caches (by users or magazines) and the
 * arena segments their slabs use. */
static void qcache_usage(struct arena *a, uint64_t *live, uint64_t *slabs)
{
	struct kmem_cache_stats st;

	*live = *slabs = 0;
	for (size_t i = 0; i < a->nr_qcaches; i++) {
		kmem_cache_stats(a->qcaches[i], &st);
		*live += st.live_objs;
		*slabs += st.slabs;
	}
}

/* Arena structs come from the base arena: no malloc underneath magslab. */
static size_t arena_struct_size(void)
{
	size_t sz = sizeof(struct arena);

	return (sz + page_size - 1) / page_size * page_size;
}

struct arena *arena_create(const char *name, void *base, size_t size,
			   size_t quantum, arena_afunc_t afunc,
			   arena_ffunc_t ffunc, struct arena *source,
			   size_t qcache_max, int flags)
{
	struct arena *base_a = arena_base();    /* also sets page_size */
	struct ms_err e = { 0 };
	struct arena *a;

	if (!check_create_args(name, base, quantum, source, qcache_max, flags,
			       &e) ||
	    (source && !check_handle(source, "arena_create: source", &e))) {
		ms_err_report(&e);
		return NULL;
	}
	a = arena_alloc(base_a, arena_struct_size(), MEM_ATOMIC);
	if (!a)
		return NULL;
	arena_init(a, name, quantum, afunc, ffunc, source, qcache_max, flags);
	if (source && !attach_to_source(a, source, &e)) {
		arena_free(arena_base(), a, arena_struct_size());
		ms_err_report(&e);
		return NULL;
	}
	handle_register(&arena_handles, &a->handle, a);
	list_add(a);
	ms_trace(arena_create, a->id, a->name, (uint64_t)a->quantum,
		 (uint64_t)a->qcache_max, source ? source->id : 0);
	if (qcaches_create(a)) {
		arena_destroy(a);
		errno = ENOMEM;
		return NULL;
	}
	if (base && !arena_add(a, base, size, flags)) {
		int saved = errno;

		arena_destroy(a);
		errno = saved;
		return NULL;
	}
	return a;
}

/* Gives every page of tags back to base; a is unreachable by now. */
static void free_tag_pages(struct arena *a)
{
	struct tag_page *tp = a->tag_pages, *next;

	for (; tp; tp = next) {
		next = tp->next;
		arena_free(arena_base(), tp, page_size);
	}
}

static void free_arena_struct(struct arena *a)
{
	pthread_cond_destroy(&a->freed);
	pthread_mutex_destroy(&a->lock);
	arena_free(arena_base(), a, arena_struct_size());
}

/* a is destroyed: from now on every call through it is refused.  Its struct
 * stays allocated, dead, in quarantine (handle.h), so that a stale pointer
 * finds it dead rather than finding a new arena at the same address; with
 * MAGSLAB_DEBUG=1 it stays there for good.  Its lock stays valid: the
 * allocation calls check `dead` under it. */
static void bury(struct arena *a)
{
	struct magslab_config cfg;
	struct handle *old;

	pthread_mutex_lock(&a->lock);
	a->dead = true;
	a->all_tags.node = NULL;
	memset(a->free_lists, 0, sizeof(a->free_lists));
	a->free_mask = 0;
	a->spare_tags = NULL;
	a->nr_spare_tags = 0;
	a->tag_pages = NULL;
	pthread_mutex_unlock(&a->lock);
	magslab_config_get(&cfg);
	handle_kill(&arena_handles, &a->handle, cfg.debug != 0, &old);
	if (old)
		free_arena_struct(handle_owner(old, struct arena, handle));
}

/* Why destroy must refuse, if it must (a->lock held). */
static void check_destroy_locked(struct arena *a, uint64_t qc_live,
				 uint64_t qc_slabs, struct ms_err *e)
{
	if (a->is_builtin)
		ms_err_set(e, EBUSY, "arena '%s': arena_destroy: the built-in arenas live as long as the process",
			   a->name);
	else if (qc_live)
		ms_err_set(e, EBUSY, "arena '%s': arena_destroy: %llu objects from its quantum caches still allocated",
			   a->name, (unsigned long long)qc_live);
	else if (a->nr_alloc_segs > qc_slabs)
		ms_err_set(e, EBUSY, "arena '%s': arena_destroy: %zu segments still allocated",
			   a->name, a->nr_alloc_segs - (size_t)qc_slabs);
	else if (a->nr_importers)
		ms_err_set(e, EBUSY, "arena '%s': arena_destroy: %zu arenas still import from it",
			   a->name, a->nr_importers);
	else if (a->nr_waiters)
		ms_err_set(e, EBUSY, "arena '%s': arena_destroy: threads are waiting in it",
			   a->name);
}

int arena_destroy(struct arena *a)
{
	struct ms_err e = { 0 };
	uint64_t qc_live = 0, qc_slabs = 0;

	/* The claim makes one of two racing destroys the destroyer. */
	if (!a)
		ms_err_set(&e, EINVAL, "arena_destroy: NULL arena");
	else
		handle_error(a, handle_claim(&arena_handles, a),
			     "arena_destroy", &e);
	if (e.err) {
		ms_err_report(&e);
		return -1;
	}
	if (!a->is_builtin)
		qcache_usage(a, &qc_live, &qc_slabs);
	pthread_mutex_lock(&a->lock);
	check_destroy_locked(a, qc_live, qc_slabs, &e);
	if (!e.err)
		a->dying = true;
	pthread_mutex_unlock(&a->lock);
	if (e.err) {
		handle_unclaim(&arena_handles, &a->handle);
		ms_err_report(&e);
		return -1;
	}
	if (a->qcaches)
		qcaches_destroy(a);     /* their slabs come back to a */
	ms_trace(arena_destroy, a->id, a->name);
	list_del(a);
	detach_from_source(a);
	hash_fini(&a->alloc_hash);
	free_tag_pages(a);
	bury(a);
	return 0;
}

/* ---------------------------------------------------------------------- */
/* Giving memory back                                                      */

/* Tags per page of tags (the first slot is the page's header). */
static size_t tags_per_page(void)
{
	return page_size / sizeof(struct btag) - 1;
}

static struct btag *page_tags(struct tag_page *tp)
{
	return (struct btag *)(void *)tp + 1;
}

static struct tag_page *tag_page_of(struct btag *bt)
{
	return (struct tag_page *)((uintptr_t)bt & ~(uintptr_t)(page_size - 1));
}

/* Counts each page's tags in use (spare tags have status 0); returns the
 * total. */
static size_t count_used_tags(struct arena *a)
{
	size_t n = tags_per_page(), total = 0;

	for (struct tag_page *tp = a->tag_pages; tp; tp = tp->next) {
		struct btag *t = page_tags(tp);

		tp->used = 0;
		for (size_t i = 0; i < n; i++)
			tp->used += t[i].status != 0;
		total += tp->used;
	}
	return total;
}

/* Marks the pages to keep: the fullest, as few as hold every tag in use
 * plus TAGS_LOW spare (base must keep enough to split a segment for its
 * next page of tags).  One pass per fill level: a reap-time cost. */
static void pick_kept_pages(struct arena *a, size_t used)
{
	size_t n = tags_per_page(), slots = 0, need = used + TAGS_LOW;
	size_t level = n + 1;
	struct tag_page *tp;

	for (tp = a->tag_pages; tp; tp = tp->next)
		tp->keep = false;
	while (slots < need && level-- > 0) {
		for (tp = a->tag_pages; tp && slots < need; tp = tp->next) {
			if (tp->used == level) {
				tp->keep = true;
				slots += n;
			}
		}
	}
}

/* Moves tag from into the spare tag to: the tree, its free list or the
 * hash now point at to. */
static void move_tag(struct arena *a, struct btag *from, struct btag *to)
{
	*to = *from;
	rb_replace(&a->all_tags, &from->all_link, &to->all_link);
	if (to->status == BTAG_FREE) {
		if (to->u.fl.prev)
			to->u.fl.prev->u.fl.next = to;
		else
			a->free_lists[floor_log2(to->size)] = to;
		if (to->u.fl.next)
			to->u.fl.next->u.fl.prev = to;
	} else if (to->status == BTAG_ALLOC) {
		hash_remove(&a->alloc_hash, from->start);
		hash_insert(&a->alloc_hash, &to->u.hl, to->start);
	}
	from->status = 0;
}

/* Packs the tags in use into the fullest pages of tags (a->lock held) and
 * unlinks the pages left with none; returns those, linked.  After a spike
 * the tags still in use are spread thinly over every page the spike made,
 * which no page-by-page release could free: moving them is what gives the
 * pages back. */
static struct tag_page *compact_tags(struct arena *a)
{
	size_t n = tags_per_page();
	struct tag_page **pp = &a->tag_pages, *tp, *out = NULL;
	struct btag **bp;

	pick_kept_pages(a, count_used_tags(a));
	for (bp = &a->spare_tags; *bp;) {
		if (tag_page_of(*bp)->keep) {
			bp = &(*bp)->u.spare_next;
		} else {
			*bp = (*bp)->u.spare_next;
			a->nr_spare_tags--;
		}
	}
	while ((tp = *pp)) {
		struct btag *t = page_tags(tp);

		if (tp->keep) {
			pp = &tp->next;
			continue;
		}
		for (size_t i = 0; i < n; i++)
			if (t[i].status)
				move_tag(a, &t[i], get_tag(a));
		*pp = tp->next;
		tp->next = out;
		out = tp;
		a->nr_tags -= n;
	}
	return out;
}

/* Compacts a's tags and gives the pages emptied back to base; returns how
 * many.  They are freed after a->lock is dropped (for base itself: they
 * are allocated segments of base, freed through the ordinary path). */
static size_t release_tag_pages(struct arena *a)
{
	struct tag_page *tp, *next;
	size_t n = 0;

	pthread_mutex_lock(&a->lock);
	tp = compact_tags(a);
	pthread_mutex_unlock(&a->lock);
	for (; tp; tp = next, n++) {
		next = tp->next;
		arena_free(arena_base(), tp, page_size);
	}
	return n;
}

static void shrink_alloc_hash(struct arena *a)
{
	pthread_mutex_lock(&a->lock);
	(void)hash_shrink(&a->alloc_hash);
	pthread_mutex_unlock(&a->lock);
}

/* Base's turn at the end of every reap: the internal caches' empty slabs,
 * base's spare tag pages (freeing one can leave another all spare, since
 * freeing coalesces tags away: repeat while pages go), then the pages of
 * every free segment back to the OS. */
static void reap_base(struct arena *b)
{
	kmem_internal_reap();
	for (int round = 0; round < 8 && release_tag_pages(b); round++)
		;
	shrink_alloc_hash(b);
	pthread_mutex_lock(&b->lock);
	base_release_pages(b);
	pthread_mutex_unlock(&b->lock);
}

static uint64_t base_bytes_to_os(void)
{
	struct arena *b = arena_base();
	uint64_t n;

	pthread_mutex_lock(&b->lock);
	n = b->bytes_released + b->page_bytes_released;
	pthread_mutex_unlock(&b->lock);
	return n;
}

size_t arena_reap_chain(struct arena *a)
{
	uint64_t before = base_bytes_to_os();

	/* Importer before source: what a gives back reaches its source
	 * before the source is reaped. */
	for (; a && !a->is_base; a = a->source) {
		if (a->qcaches)
			for (size_t i = 0; i < a->nr_qcaches; i++)
				kmem_qcache_purge(a->qcaches[i]);
		shrink_alloc_hash(a);
		release_tag_pages(a);
	}
	reap_base(arena_base());
	return (size_t)(base_bytes_to_os() - before);
}

size_t arena_reap(struct arena *a)
{
	struct ms_err e = { 0 };

	if (!check_handle(a, "arena_reap", &e)) {
		ms_err_report(&e);
		return 0;
	}
	return arena_reap_chain(a);
}

/* ---------------------------------------------------------------------- */
/* The built-in arenas                                                     */

static void builtin_init(void)
{
	/* Every use of magslab starts here: from now on fork() is safe. */
	magslab_fork_register();
	page_size = (size_t)sysconf(_SC_PAGESIZE);
	base_arena = &base_arena_store;
	arena_init(base_arena, "base", page_size, NULL, NULL, NULL, 0, 0);
	base_arena->is_base = true;
	base_arena->is_builtin = true;
	handle_register(&arena_handles, &base_arena->handle, base_arena);
	list_add(base_arena);
	atomic_store_explicit(&base_ready, base_arena, memory_order_release);
	kpages_arena = &kpages_arena_store;
	arena_init(kpages_arena, "kpages", page_size, NULL, NULL,
		   base_arena, KPAGES_QCACHE_PAGES * page_size, 0);
	kpages_arena->is_builtin = true;
	base_arena->nr_importers = 1;
	handle_register(&arena_handles, &kpages_arena->handle, kpages_arena);
	list_add(kpages_arena);
	ms_trace(arena_create, base_arena->id, base_arena->name,
		 (uint64_t)page_size, (uint64_t)0, (uint32_t)0);
	ms_trace(arena_create, kpages_arena->id, kpages_arena->name,
		 (uint64_t)page_size, (uint64_t)kpages_arena->qcache_max,
		 base_arena->id);
	/* Without its quantum caches kpages still works, only slower. */
	(void)qcaches_create(kpages_arena);
}

struct arena *arena_base(void)
{
	struct arena *b = atomic_load_explicit(&base_ready,
					       memory_order_acquire);

	if (b)
		return b;
	pthread_once(&builtin_once, builtin_init);
	return base_arena;
}

struct arena *arena_kpages(void)
{
	pthread_once(&builtin_once, builtin_init);
	return kpages_arena;
}

/* ---------------------------------------------------------------------- */
/* Stats, checks, accessors                                                */

int arena_stats(struct arena *a, struct arena_stats *st)
{
	struct ms_err e = { 0 };

	if (!check_handle(a, "arena_stats", &e) || !st) {
		if (!e.err)
			ms_err_set(&e, EINVAL, "arena_stats: NULL stats");
		ms_err_report(&e);
		return -1;
	}
	pthread_mutex_lock(&a->lock);
	*st = (struct arena_stats){
		.quantum = a->quantum,
		.total = a->total,
		.allocated = a->alloc_bytes,
		.free = a->free_bytes,
		.imported = a->imported,
		.nr_spans = a->nr_spans,
		.nr_segments = a->nr_alloc_segs + a->nr_free_segs,
		.nr_alloc_segments = a->nr_alloc_segs,
		.nr_free_segments = a->nr_free_segs,
		.hash_lists = a->alloc_hash.nr_lists,
		.hash_items = a->alloc_hash.nr_items,
		.hash_resizes = a->alloc_hash.nr_resizes,
		.nr_allocs_ever = a->nr_allocs_ever,
		.nr_frees_ever = a->nr_frees_ever,
		.nr_imports = a->nr_imports,
		.nr_releases = a->nr_releases,
		.bytes_released = a->bytes_released,
		.nr_page_releases = a->nr_page_releases,
		.page_bytes_released = a->page_bytes_released,
		.free_dirty = a->dirty_bytes,
		.nr_failures = a->nr_failures,
		.nr_importers = a->nr_importers,
		.nr_tags = a->nr_tags,
	};
	pthread_mutex_unlock(&a->lock);
	return 0;
}

/* Tallies gathered by one walk of the tree, compared with the counters. */
struct tally {
	size_t span_bytes, alloc_bytes, free_bytes;
	size_t spans, allocs, frees, tags;
};

static bool check_segment(struct arena *a, struct btag *bt, struct btag *span,
			  uintptr_t expect, struct btag *prev, struct ms_err *e)
{
	const char *n = a->name;
	unsigned long s = (unsigned long)bt->start;

	if (!span)
		ms_err_set(e, EIO, "arena '%s': check: segment %#lx outside any span", n, s);
	else if (bt->start != expect)
		ms_err_set(e, EIO, "arena '%s': check: segment %#lx leaves a gap or overlaps (expected %#lx)",
			   n, s, (unsigned long)expect);
	else if (!bt->size || tag_end(bt) > tag_end(span))
		ms_err_set(e, EIO, "arena '%s': check: segment %#lx size %zu runs past its span", n, s, bt->size);
	else if (bt->start % a->quantum || bt->size % a->quantum)
		ms_err_set(e, EIO, "arena '%s': check: segment %#lx size %zu not quantum-aligned", n, s, bt->size);
	else if (bt->status == BTAG_FREE && prev && prev->status == BTAG_FREE)
		ms_err_set(e, EIO, "arena '%s': check: adjacent free segments at %#lx", n, s);
	else if (bt->status == BTAG_ALLOC && find_alloc(a, bt->start) != bt)
		ms_err_set(e, EIO, "arena '%s': check: allocated segment %#lx missing from the hash", n, s);
	else if (bt->status != BTAG_ALLOC && bt->status != BTAG_FREE)
		ms_err_set(e, EIO, "arena '%s': check: tag %#lx has bad status %d", n, s, bt->status);
	else if (bt->status == BTAG_FREE && span->origin != SPAN_ADDED &&
		 bt->start == span->start && bt->size == span->size)
		ms_err_set(e, EIO, "arena '%s': check: span %#lx is entirely free but was not given back",
			   n, s);
	return !e->err;
}

/* Walks the tree in order checking spans and segments; fills t. */
static bool check_tree(struct arena *a, struct tally *t, struct ms_err *e)
{
	struct btag *span = NULL, *prev = NULL;
	uintptr_t expect = 0;

	for (struct btag *bt = tag_of(rb_first(&a->all_tags)); bt;
	     prev = bt, bt = tag_next(bt)) {
		t->tags++;
		if (prev && !tag_before(prev, bt)) {
			ms_err_set(e, EIO, "arena '%s': check: tree out of order at %#lx",
				   a->name, (unsigned long)bt->start);
			return false;
		}
		if (bt->status == BTAG_SPAN) {
			if (span && expect != tag_end(span)) {
				ms_err_set(e, EIO, "arena '%s': check: span %#lx not tiled by its segments",
					   a->name, (unsigned long)span->start);
				return false;
			}
			if (span && bt->start < tag_end(span)) {
				ms_err_set(e, EIO, "arena '%s': check: spans overlap at %#lx",
					   a->name, (unsigned long)bt->start);
				return false;
			}
			span = bt;
			expect = bt->start;
			t->spans++;
			t->span_bytes += bt->size;
			continue;
		}
		if (!check_segment(a, bt, span, expect, prev, e))
			return false;
		expect = tag_end(bt);
		if (bt->status == BTAG_ALLOC) {
			t->allocs++;
			t->alloc_bytes += bt->size;
		} else {
			t->frees++;
			t->free_bytes += bt->size;
		}
	}
	if (span && expect != tag_end(span))
		ms_err_set(e, EIO, "arena '%s': check: span %#lx not tiled by its segments",
			   a->name, (unsigned long)span->start);
	return !e->err;
}

static bool check_free_lists(struct arena *a, struct ms_err *e)
{
	size_t n = 0;

	for (unsigned int i = 0; i < NR_FREE_LISTS; i++) {
		bool bit = a->free_mask & (1ull << i);

		if (bit != (a->free_lists[i] != NULL)) {
			ms_err_set(e, EIO, "arena '%s': check: free mask bit %u wrong", a->name, i);
			return false;
		}
		for (struct btag *bt = a->free_lists[i]; bt; bt = bt->u.fl.next) {
			if (bt->status != BTAG_FREE || floor_log2(bt->size) != i ||
			    (bt->u.fl.next && bt->u.fl.next->u.fl.prev != bt)) {
				ms_err_set(e, EIO, "arena '%s': check: free list %u holds a bad tag %#lx",
					   a->name, i, (unsigned long)bt->start);
				return false;
			}
			n++;
		}
	}
	if (n != a->nr_free_segs)
		ms_err_set(e, EIO, "arena '%s': check: free lists hold %zu tags, counter says %zu",
			   a->name, n, a->nr_free_segs);
	return !e->err;
}

static bool check_counters(struct arena *a, const struct tally *t,
			   struct ms_err *e)
{
	const char *n = a->name;

	if (a->total != a->free_bytes + a->alloc_bytes)
		ms_err_set(e, EIO, "arena '%s': check: total %zu != free %zu + allocated %zu",
			   n, a->total, a->free_bytes, a->alloc_bytes);
	else if (t->span_bytes != a->total || t->spans != a->nr_spans)
		ms_err_set(e, EIO, "arena '%s': check: spans hold %zu bytes in %zu, counters say %zu in %zu",
			   n, t->span_bytes, t->spans, a->total, a->nr_spans);
	else if (t->alloc_bytes != a->alloc_bytes || t->allocs != a->nr_alloc_segs)
		ms_err_set(e, EIO, "arena '%s': check: allocated tags %zu (%zu bytes), counters %zu (%zu bytes)",
			   n, t->allocs, t->alloc_bytes, a->nr_alloc_segs, a->alloc_bytes);
	else if (t->free_bytes != a->free_bytes || t->frees != a->nr_free_segs)
		ms_err_set(e, EIO, "arena '%s': check: free tags %zu (%zu bytes), counters %zu (%zu bytes)",
			   n, t->frees, t->free_bytes, a->nr_free_segs, a->free_bytes);
	else if (a->alloc_hash.nr_items != a->nr_alloc_segs)
		ms_err_set(e, EIO, "arena '%s': check: hash holds %zu items, %zu segments allocated",
			   n, a->alloc_hash.nr_items, a->nr_alloc_segs);
	else if (t->tags + a->nr_spare_tags != a->nr_tags)
		ms_err_set(e, EIO, "arena '%s': check: %zu tags in tree + %zu spare != %zu owned (leaked tag)",
			   n, t->tags, a->nr_spare_tags, a->nr_tags);
	return !e->err;
}

int arena_check(struct arena *a)
{
	struct tally t = { 0 };
	struct ms_err e = { 0 };
	const char *why = NULL;

	if (!check_handle(a, "arena_check", &e)) {
		ms_err_report(&e);
		return -1;
	}
	pthread_mutex_lock(&a->lock);
	if (rb_check(&a->all_tags, &why) < 0)
		ms_err_set(&e, EIO, "arena '%s': check: tree: %s", a->name,
			   why ? why : "invalid");
	else if (check_tree(a, &t, &e) && check_free_lists(a, &e))
		check_counters(a, &t, &e);
	pthread_mutex_unlock(&a->lock);
	if (e.err) {
		ms_err_report(&e);
		return -1;
	}
	return 0;
}

/* Accessors: NULL is no error (it reads as "no arena"); a pointer that is
 * not a live arena is reported. */
static bool accessor_ok(const struct arena *a, const char *fn)
{
	struct ms_err e = { 0 };

	if (!a)
		return false;
	if (check_handle(a, fn, &e))
		return true;
	ms_err_report(&e);
	return false;
}

uint32_t arena_id(const struct arena *a)
{
	return accessor_ok(a, "arena_id") ? a->id : 0;
}

const char *arena_name(const struct arena *a)
{
	if (!a)
		return "(null)";
	return accessor_ok(a, "arena_name") ? a->name : "(destroyed)";
}

size_t arena_quantum(const struct arena *a)
{
	return accessor_ok(a, "arena_quantum") ? a->quantum : 0;
}

struct arena *arena_source(const struct arena *a)
{
	return accessor_ok(a, "arena_source") ? a->source : NULL;
}

/* ---- fork (fork.c runs these in its order) ---- */

void arena_fork_lock(void)
{
	pthread_mutex_lock(&arena_list_lock);
	for (struct arena *a = arena_list_head; a; a = a->list_next)
		if (!a->is_base)
			pthread_mutex_lock(&a->lock);
	/* Last: an arena takes base's lock under its own (tags). */
	if (base_arena)
		pthread_mutex_lock(&base_arena->lock);
}

void arena_fork_lock_leaves(void)
{
	handle_fork_lock(&arena_handles);
}

/* The child has no MEM_WAIT sleepers: their condition variables start
 * afresh, as if made now. */
void arena_fork_unlock(bool child)
{
	handle_fork_unlock(&arena_handles);
	if (base_arena)
		pthread_mutex_unlock(&base_arena->lock);
	for (struct arena *a = arena_list_head; a; a = a->list_next) {
		if (child) {
			a->nr_waiters = 0;
			pthread_cond_init(&a->freed, NULL);
		}
		if (!a->is_base)
			pthread_mutex_unlock(&a->lock);
	}
	pthread_mutex_unlock(&arena_list_lock);
}

void arena_for_each(void (*fn)(struct arena *a, void *arg), void *arg)
{
	arena_base();
	pthread_mutex_lock(&arena_list_lock);
	for (struct arena *a = arena_list_head; a; a = a->list_next)
		fn(a, arg);
	pthread_mutex_unlock(&arena_list_lock);
}
