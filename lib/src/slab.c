/*
 * slab.c — object caches: the slab layer, cache life cycle, quantum caches,
 * debug checks and the cache half of the stats.
 *
 * Lock order: pcc -> depot -> slab (kc->lock) -> arena.  This file takes
 * kc->lock and, with it held, only arena locks (never another user cache's
 * lock).  Slabs are grown and released with kc->lock dropped, because the
 * source arena may sleep (MEM_WAIT on a bounded arena) and a sleeper must not
 * hold the lock that the frees it waits for need.  cache_list_lock comes
 * first of all: kmem_cache_for_each's callbacks (the stats printers) take
 * pcc, depot and slab locks under it, so nothing may take cache_list_lock
 * while holding any of those.  debug_pages_lock (debug small slabs: owner
 * and live bits) and cache_handles' lock (handle.c) are leaves.  Reap and
 * destroy end with arena_reap_chain() on the source, called with no lock
 * held; it purges quantum caches (pcc -> depot -> slab -> arena again).
 *
 * Big picture (after Bonwick 1994 and Akaros's slab.c):
 *
 *   small-object slab (obj <= 512 bytes, page-quantum source, not NOTOUCH):
 *       one page; struct kmem_slab at the end of the page; free objects are
 *       linked through their first word; an object's slab is found by
 *       rounding its address down to the page.
 *   bufctl slab (bigger objects, NOTOUCH caches, other sources): memory of
 *       round_up(8 * stride, page) bytes (quantum caches:
 *       round_up_pow2(3 * qcache_max)) from the source; the header and one
 *       bufctl per object come from internal caches; kc->hash maps each
 *       object handed out of the slab to its bufctl.
 *   debug small slab: as small, with a trailer before the header: the
 *       page's entry in debug_pages and one live bit per object.
 *
 * Handles: every cache, internal ones included, is registered in
 * cache_handles (handle.h).  The entry points off the fast path check the
 * pointer there (kmem_cache_check); destroy claims it (so one of two racing
 * destroys wins), and bury() keeps the struct dead in quarantine, with
 * no_mags set and ctor/dtor cleared, so that alloc/free through it fall
 * into slab_alloc_obj/slab_free_obj/debug_on_free, which refuse it.
 *
 * Invariants (kc->lock): a slab is on exactly one of slabs[EMPTY/PARTIAL/
 * FULL] according to nr_busy (0, between, nr_total); objs_out is the sum of
 * nr_busy; for bufctl caches, hash.nr_items == objs_out (inserted when an
 * object leaves a slab, removed when it returns: Akaros never decremented).
 *
 * Objects that leave the slab layer are constructed at once; they stay
 * constructed in magazines; the dtor runs only when one goes back to a slab.
 *
 * FAQ:
 * - Why do the internal caches (slab headers, bufctls, magazines) have no
 *   magazines?  They are on slow paths (slab growth, magazine allocation on
 *   a free), and without a magazine layer they cannot recurse into one.  They
 *   take their pages from the base arena, which has no quantum caches, so a
 *   bufctl allocation can never need a bufctl.
 * - Why is debug mode's double-free check a record of what the user holds
 *   rather than a poison pattern?  A poison pattern cannot tell a double
 *   free in a cache with a ctor (whose free objects keep constructed state)
 *   or a NOTOUCH cache (whose objects may not even be memory); the record
 *   can, for every cache.  Poison is still used, where the memory is ours
 *   to write, to catch writes after free.
 * - Why is that record a bit in the slab or the bufctl, not a set of its
 *   own?  A set needs memory per object; when that ran out, the object went
 *   unrecorded and its correct free was refused as a double free (638 of
 *   1000 under RLIMIT_AS).  Bits that come with the slab cannot run out.
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
#include "trace.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define SMALL_OBJ_MAX     512
#define BUFCTL_SLAB_OBJS  8
#define DEBUG_POISON      0x6b
#define CACHE_QUARANTINE  16    /* destroyed caches kept dead (handle.h) */

static pthread_once_t slab_once = PTHREAD_ONCE_INIT;
static size_t page_size;
static atomic_uint next_cache_id = 1;

static struct kmem_cache slab_header_cache_store, bufctl_cache_store,
			 magazine_cache_store;
static struct kmem_cache *kmem_slab_header_cache, *kmem_bufctl_cache;
struct kmem_cache *kmem_magazine_cache;

static pthread_mutex_t cache_list_lock = PTHREAD_MUTEX_INITIALIZER;
static struct kmem_cache *cache_list_head, *cache_list_tail;

/* Live and destroyed caches (handle.h), internal ones included. */
static struct handle_set cache_handles =
	HANDLE_SET_INIT(cache_handles, CACHE_QUARANTINE);

/* Debug caches' small-slab pages (page -> the debug trailer in that page),
 * so that a free can be traced to the cache that owns it without reading
 * memory that may not be ours.  debug_pages_lock is a leaf; it also covers
 * the live bits of every trailer. */
static pthread_mutex_t debug_pages_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hash_table debug_pages = {
	.lists = debug_pages.embedded,
	.bits = HASH_INIT_BITS,
	.nr_lists = HASH_INIT_LISTS,
};

/* ---------------------------------------------------------------------- */
/* Helpers                                                                 */

static size_t round_up_sz(size_t x, size_t m)
{
	return (x + m - 1) / m * m;
}

static size_t round_up_pow2(size_t x)
{
	size_t p = 1;

	while (p < x)
		p <<= 1;
	return p;
}

static bool is_pow2(size_t x)
{
	return x && !(x & (x - 1));
}

static void *page_of(const void *obj)
{
	return (void *)((uintptr_t)obj & ~(uintptr_t)(page_size - 1));
}

static struct kmem_slab *small_slab_of(const void *obj)
{
	return (struct kmem_slab *)((char *)page_of(obj) + page_size -
				    sizeof(struct kmem_slab));
}

/* ---------------------------------------------------------------------- */
/* Poison (debug caches whose memory is ours to write, and have no ctor)   */

static bool poisons(const struct kmem_cache *kc)
{
	return kc->debug && !kc->ctor && !(kc->flags & KMC_NOTOUCH);
}

/* Bytes at the start of a free object the slab layer writes (its link). */
static size_t slab_link_bytes(const struct kmem_cache *kc)
{
	return kc->uses_bufctl ? 0 : sizeof(void *);
}

/* Bytes poisoned at the start of each free object: all of it, up to a
 * page.  Writing poison makes memory resident; a cache of big objects
 * whose users touch a few fields would otherwise get its whole slab paged
 * in at every grow and every free (a 1 GiB object: 1 GiB per free).  A
 * stray write after free lands most often in the first fields, which stay
 * covered. */
static size_t poison_len(const struct kmem_cache *kc)
{
	return kc->obj_size < page_size ? kc->obj_size : page_size;
}

static void poison(const struct kmem_cache *kc, void *obj)
{
	memset(obj, DEBUG_POISON, poison_len(kc));
}

/* Offset of the first byte that lost its poison, or -1. */
static long poison_broken_at(const struct kmem_cache *kc, const void *obj,
			     size_t skip)
{
	const unsigned char *p = obj;

	for (size_t i = skip; i < poison_len(kc); i++)
		if (p[i] != DEBUG_POISON)
			return (long)i;
	return -1;
}

static void report_use_after_free(struct kmem_cache *kc, void *obj, long at)
{
	pthread_mutex_lock(&kc->lock);
	kc->debug_errors++;
	pthread_mutex_unlock(&kc->lock);
	ms_error(EINVAL, "cache '%s': object %p modified after free (use after free) at offset %ld",
		 kc->name, obj, at);
}

/* ---------------------------------------------------------------------- */
/* Slab lists                                                              */

static int list_for(const struct kmem_slab *s)
{
	if (s->nr_busy == 0)
		return SLAB_EMPTY;
	return s->nr_busy == s->nr_total ? SLAB_FULL : SLAB_PARTIAL;
}

static void slab_list_add(struct kmem_cache *kc, struct kmem_slab *s, int l)
{
	s->list = l;
	s->prev = NULL;
	s->next = kc->slabs[l];
	if (s->next)
		s->next->prev = s;
	kc->slabs[l] = s;
	kc->nr_slabs[l]++;
}

static void slab_list_del(struct kmem_cache *kc, struct kmem_slab *s)
{
	if (s->prev)
		s->prev->next = s->next;
	else
		kc->slabs[s->list] = s->next;
	if (s->next)
		s->next->prev = s->prev;
	kc->nr_slabs[s->list]--;
}

/* Moves s to the list its busy count calls for. */
static void slab_relist(struct kmem_cache *kc, struct kmem_slab *s)
{
	int l = list_for(s);

	if (l != s->list) {
		slab_list_del(kc, s);
		slab_list_add(kc, s, l);
	}
}

/* ---------------------------------------------------------------------- */
/* Growing and releasing slabs (kc->lock not held)                         */

static void *slab_mem_alloc(struct kmem_cache *kc, int flags)
{
	if (kc->slab_xalloc)
		return arena_xalloc(kc->source, kc->slab_size, kc->align, 0, 0,
				    NULL, NULL, flags);
	return arena_alloc(kc->source, kc->slab_size, flags);
}

static void slab_mem_free(struct kmem_cache *kc, void *mem)
{
	if (kc->slab_xalloc)
		arena_xfree(kc->source, mem, kc->slab_size);
	else
		arena_free(kc->source, mem, kc->slab_size);
}

/* A debug cache's small slab keeps, between its objects and its header,
 * its entry in debug_pages and one live bit per object.  Nothing is
 * allocated to track objects, so tracking cannot fail for lack of memory
 * (it used to: an object that went untracked had its correct free refused
 * as a double free). */
struct debug_trailer {
	struct hash_link page_link;     /* debug_pages: page -> this trailer */
	uint64_t live[];                /* bit i: object i is held by the user */
};

/* Room for one bit per object of a page of pointer-sized objects. */
static size_t trailer_size(void)
{
	return sizeof(struct debug_trailer) + page_size / sizeof(void *) / 8;
}

static struct debug_trailer *trailer_of(void *page)
{
	return (struct debug_trailer *)((char *)page + page_size -
					sizeof(struct kmem_slab) -
					trailer_size());
}

static void debug_page_add(void *page)
{
	struct debug_trailer *t = trailer_of(page);

	memset(t, 0, trailer_size());
	pthread_mutex_lock(&debug_pages_lock);
	hash_insert(&debug_pages, &t->page_link, (uintptr_t)page);
	/* A table that cannot grow is still correct, only slower. */
	if (hash_needs_grow(&debug_pages))
		(void)hash_grow(&debug_pages);
	pthread_mutex_unlock(&debug_pages_lock);
}

static void debug_page_del(void *page)
{
	pthread_mutex_lock(&debug_pages_lock);
	hash_remove(&debug_pages, (uintptr_t)page);
	pthread_mutex_unlock(&debug_pages_lock);
}

static struct kmem_slab *small_slab_grow(struct kmem_cache *kc, int flags)
{
	char *mem = slab_mem_alloc(kc, flags);
	struct kmem_slab *s;

	if (!mem)
		return NULL;
	s = small_slab_of(mem);
	memset(s, 0, sizeof(*s));
	s->cache = kc;
	s->nr_total = kc->objs_per_slab;
	/* Link back to front so that objects leave in address order. */
	for (size_t i = kc->objs_per_slab; i-- > 0;) {
		void **obj = (void **)(mem + i * kc->stride);

		if (poisons(kc))
			poison(kc, obj);
		*obj = s->free_small;
		s->free_small = obj;
	}
	if (kc->debug)
		debug_page_add(mem);
	return s;
}

static void free_bufctl_list(struct kmem_bufctl *bc)
{
	while (bc) {
		struct kmem_bufctl *next = bc->next_free;

		kmem_cache_free(kmem_bufctl_cache, bc);
		bc = next;
	}
}

static struct kmem_slab *bufctl_slab_grow(struct kmem_cache *kc, int flags)
{
	struct kmem_slab *s = kmem_cache_alloc(kmem_slab_header_cache, flags);
	char *mem;

	if (!s)
		return NULL;
	memset(s, 0, sizeof(*s));
	mem = slab_mem_alloc(kc, flags);
	if (!mem) {
		kmem_cache_free(kmem_slab_header_cache, s);
		return NULL;
	}
	s->cache = kc;
	s->mem = mem;
	s->nr_total = kc->objs_per_slab;
	for (size_t i = kc->objs_per_slab; i-- > 0;) {
		struct kmem_bufctl *bc = kmem_cache_alloc(kmem_bufctl_cache,
							  flags);

		if (!bc) {
			free_bufctl_list(s->free_bufctl);
			slab_mem_free(kc, mem);
			kmem_cache_free(kmem_slab_header_cache, s);
			return NULL;
		}
		bc->hl.key = (uintptr_t)(mem + i * kc->stride);
		if (poisons(kc))
			poison(kc, (void *)bc->hl.key);
		bc->slab = s;
		bc->next_free = s->free_bufctl;
		s->free_bufctl = bc;
	}
	return s;
}

static struct kmem_slab *slab_grow(struct kmem_cache *kc, int flags)
{
	return kc->uses_bufctl ? bufctl_slab_grow(kc, flags)
			       : small_slab_grow(kc, flags);
}

/* Gives an empty slab (off every list) back to the source. */
static void slab_release(struct kmem_cache *kc, struct kmem_slab *s)
{
	if (kc->uses_bufctl) {
		void *mem = s->mem;

		free_bufctl_list(s->free_bufctl);
		kmem_cache_free(kmem_slab_header_cache, s);
		slab_mem_free(kc, mem);
	} else {
		if (kc->debug)
			debug_page_del(page_of(s));
		slab_mem_free(kc, page_of(s));
	}
}

/* ---------------------------------------------------------------------- */
/* Objects in and out of slabs                                             */

/* Doubles the bufctl hash (kc->lock held); a failure only costs speed. */
static void grow_bufctl_hash(struct kmem_cache *kc)
{
	size_t old = kc->hash.nr_lists;
	int rc = hash_grow(&kc->hash);

	ms_trace(hash_resize, kc->id, MS_HASH_CACHE, (uint64_t)old,
		 (uint64_t)kc->hash.nr_lists, (uint64_t)kc->hash.nr_items,
		 rc ? 0 : kc->hash.last_resize_ns, (uint8_t)(rc == 0));
}

/* Takes one object from slab s (kc->lock held). */
static void *slab_take(struct kmem_cache *kc, struct kmem_slab *s)
{
	void *obj;

	if (kc->uses_bufctl) {
		struct kmem_bufctl *bc = s->free_bufctl;

		s->free_bufctl = bc->next_free;
		bc->held = false;
		obj = (void *)bc->hl.key;
		hash_insert(&kc->hash, &bc->hl, bc->hl.key);
		if (hash_needs_grow(&kc->hash))
			grow_bufctl_hash(kc);
	} else {
		obj = s->free_small;
		s->free_small = *(void **)obj;
	}
	s->nr_busy++;
	kc->objs_out++;
	slab_relist(kc, s);
	return obj;
}

/* Finds obj's slab and links obj back in; NULL if obj is not out of one of
 * this cache's slabs (kc->lock held). */
static struct kmem_slab *slab_put(struct kmem_cache *kc, void *obj)
{
	struct kmem_slab *s;

	if (kc->uses_bufctl) {
		struct hash_link *hl = hash_remove(&kc->hash, (uintptr_t)obj);
		struct kmem_bufctl *bc;

		if (!hl)
			return NULL;
		bc = (struct kmem_bufctl *)hl;
		s = bc->slab;
		bc->next_free = s->free_bufctl;
		s->free_bufctl = bc;
	} else {
		s = small_slab_of(obj);
		if (poisons(kc))
			poison(kc, obj);
		*(void **)obj = s->free_small;
		s->free_small = obj;
	}
	if (kc->uses_bufctl && poisons(kc))
		poison(kc, obj);
	s->nr_busy--;
	kc->objs_out--;
	slab_relist(kc, s);
	return s;
}

/* A destroyed cache in quarantine has no_mags set, so kmem_cache_alloc and
 * kmem_cache_free through it come here (or to debug_on_free) and are
 * refused: the check costs the fast path nothing. */
static void report_dead(const struct kmem_cache *kc, const char *fn)
{
	ms_error(EINVAL, "cache '%s': %s: use of a destroyed cache", kc->name,
		 fn);
}

void *slab_alloc_obj(struct kmem_cache *kc, int flags)
{
	struct kmem_slab *s;
	void *obj;

	if (kc->dead) {
		report_dead(kc, "kmem_cache_alloc");
		return NULL;
	}
	pthread_mutex_lock(&kc->lock);
	while (!(s = kc->slabs[SLAB_PARTIAL] ? kc->slabs[SLAB_PARTIAL]
					     : kc->slabs[SLAB_EMPTY])) {
		pthread_mutex_unlock(&kc->lock);
		s = slab_grow(kc, flags);
		pthread_mutex_lock(&kc->lock);
		if (!s) {
			pthread_mutex_unlock(&kc->lock);
			errno = ENOMEM;
			return NULL;
		}
		slab_list_add(kc, s, SLAB_EMPTY);
		kc->slab_grows++;
		ms_trace(slab_grow, kc->id, (uint64_t)kc->slab_size,
			 (uint32_t)kc->objs_per_slab);
	}
	obj = slab_take(kc, s);
	pthread_mutex_unlock(&kc->lock);
	if (poisons(kc)) {
		long at = poison_broken_at(kc, obj, slab_link_bytes(kc));

		if (at >= 0)
			report_use_after_free(kc, obj, at);
	}
	if (kc->ctor && kc->ctor(obj, kc->priv, flags)) {
		slab_free_obj(kc, obj);
		pthread_mutex_lock(&kc->lock);
		kc->ctor_failures++;
		pthread_mutex_unlock(&kc->lock);
		errno = ENOMEM;
		return NULL;
	}
	return obj;
}

void slab_free_obj(struct kmem_cache *kc, void *obj)
{
	struct kmem_slab *s;

	if (kc->dead) {
		report_dead(kc, "kmem_cache_free");
		return;
	}
	pthread_mutex_lock(&kc->lock);
	s = slab_put(kc, obj);
	if (!s)
		kc->debug_errors++;
	pthread_mutex_unlock(&kc->lock);
	if (!s)
		ms_error(EINVAL, "cache '%s': free of %p, which did not come from this cache",
			 kc->name, obj);
}

void slab_destruct_and_free(struct kmem_cache *kc, void *obj)
{
	if (kc->dtor)
		kc->dtor(obj, kc->priv);
	slab_free_obj(kc, obj);
}

/* ---------------------------------------------------------------------- */
/* Debug checks                                                            */

/* Where the user's free of obj stands (a debug check's verdict). */
enum debug_verdict {
	DEBUG_OK,               /* obj was held: now it is not */
	DEBUG_DOUBLE,           /* one of ours, not held: double free */
	DEBUG_FOREIGN,          /* not an object of this cache */
	DEBUG_WRONG,            /* an object of another debug cache */
};

/* The live bit of obj, if obj starts an object of a debug small slab
 * (debug_pages_lock held).  *owner: the cache of the slab holding obj. */
static uint64_t *small_live_word(void *obj, struct kmem_cache **owner,
				 uint64_t *bit)
{
	void *page = page_of(obj);
	struct kmem_cache *kc;
	size_t off = (size_t)((char *)obj - (char *)page), i;

	*owner = NULL;
	if (!hash_find(&debug_pages, (uintptr_t)page))
		return NULL;    /* never read a page that is not ours */
	kc = small_slab_of(obj)->cache;
	*owner = kc;
	if (off % kc->stride || off / kc->stride >= kc->objs_per_slab)
		return NULL;
	i = off / kc->stride;
	*bit = 1ull << (i % 64);
	return &trailer_of(page)->live[i / 64];
}

/* Clears obj's live bit; owner_name gets the owning cache's name for
 * DEBUG_WRONG. */
static enum debug_verdict small_untrack(struct kmem_cache *kc, void *obj,
					char *owner_name)
{
	enum debug_verdict v = DEBUG_FOREIGN;
	struct kmem_cache *owner;
	uint64_t bit = 0, *w;

	pthread_mutex_lock(&debug_pages_lock);
	w = small_live_word(obj, &owner, &bit);
	if (owner && owner != kc) {
		v = DEBUG_WRONG;
		snprintf(owner_name, KMC_NAME_LEN, "%s", owner->name);
	} else if (w) {
		v = (*w & bit) ? DEBUG_OK : DEBUG_DOUBLE;
		*w &= ~bit;
	}
	pthread_mutex_unlock(&debug_pages_lock);
	return v;
}

static enum debug_verdict bufctl_untrack(struct kmem_cache *kc, void *obj)
{
	enum debug_verdict v = DEBUG_FOREIGN;
	struct kmem_bufctl *bc;

	pthread_mutex_lock(&kc->lock);
	bc = (struct kmem_bufctl *)hash_find(&kc->hash, (uintptr_t)obj);
	if (bc) {
		v = bc->live ? DEBUG_OK : DEBUG_DOUBLE;
		bc->live = false;
	}
	pthread_mutex_unlock(&kc->lock);
	return v;
}

static void debug_report(struct kmem_cache *kc, void *obj,
			 enum debug_verdict v, const char *owner_name)
{
	pthread_mutex_lock(&kc->lock);
	kc->debug_errors++;
	pthread_mutex_unlock(&kc->lock);
	if (v == DEBUG_WRONG)
		ms_error(EINVAL, "cache '%s': free of %p: wrong cache: it belongs to cache '%s'",
			 kc->name, obj, owner_name);
	else
		ms_error(EINVAL, "cache '%s': free of %p: %s", kc->name, obj,
			 v == DEBUG_DOUBLE ? "double free"
					   : "foreign pointer (not from this cache)");
}

/* Marks obj no longer held; false (reported) if it was not held. */
bool debug_on_free(struct kmem_cache *kc, void *obj)
{
	char owner_name[KMC_NAME_LEN] = "";
	enum debug_verdict v;

	if (kc->dead) {
		report_dead(kc, "kmem_cache_free");
		return false;
	}
	v = kc->uses_bufctl ? bufctl_untrack(kc, obj)
			    : small_untrack(kc, obj, owner_name);
	if (v != DEBUG_OK) {
		debug_report(kc, obj, v, owner_name);
		return false;
	}
	if (poisons(kc))
		poison(kc, obj);
	return true;
}

/* Marks obj held; checks the poison of one leaving a magazine. */
void debug_on_alloc(struct kmem_cache *kc, void *obj, bool from_mag)
{
	struct kmem_cache *owner;
	uint64_t bit = 0, *w;

	if (from_mag && poisons(kc)) {
		long at = poison_broken_at(kc, obj, 0);

		if (at >= 0)
			report_use_after_free(kc, obj, at);
	}
	if (kc->uses_bufctl) {
		struct kmem_bufctl *bc;

		pthread_mutex_lock(&kc->lock);
		bc = (struct kmem_bufctl *)hash_find(&kc->hash, (uintptr_t)obj);
		if (bc)
			bc->live = true;
		pthread_mutex_unlock(&kc->lock);
		return;
	}
	pthread_mutex_lock(&debug_pages_lock);
	w = small_live_word(obj, &owner, &bit);
	if (w)
		*w |= bit;
	pthread_mutex_unlock(&debug_pages_lock);
}

/* ---------------------------------------------------------------------- */
/* Cache life cycle                                                        */

/* Picks small or bufctl slabs and their geometry. */
static void cache_geometry(struct kmem_cache *kc, size_t qcache_max)
{
	size_t src_q = arena_quantum(kc->source);

	kc->stride = round_up_sz(kc->obj_size, kc->align);
	kc->uses_bufctl = (kc->flags & (KMC_NOTOUCH | KMC_QCACHE)) ||
			  kc->obj_size > SMALL_OBJ_MAX ||
			  kc->obj_size < sizeof(void *) ||
			  kc->align > page_size || src_q % page_size != 0;
	kc->slab_xalloc = kc->align > 1 && src_q % kc->align != 0;
	if (!kc->uses_bufctl) {
		size_t room = page_size - sizeof(struct kmem_slab) -
			      (kc->debug ? trailer_size() : 0);

		kc->stride = round_up_sz(kc->stride, sizeof(void *));
		kc->slab_size = page_size;
		kc->objs_per_slab = room / kc->stride;
		return;
	}
	if (kc->flags & KMC_QCACHE)
		kc->slab_size = round_up_pow2(3 * qcache_max);
	else
		kc->slab_size = round_up_sz(BUFCTL_SLAB_OBJS * kc->stride,
					    page_size);
	kc->slab_size = round_up_sz(kc->slab_size, src_q);
	kc->objs_per_slab = kc->slab_size / kc->stride;
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
	pthread_mutex_init(&kc->lock, NULL);
	hash_init(&kc->hash);
	cache_geometry(kc, qcache_max);
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

static void slab_global_init(void)
{
	struct arena *base = arena_base();

	page_size = (size_t)sysconf(_SC_PAGESIZE);
	kmem_slab_header_cache = &slab_header_cache_store;
	kmem_bufctl_cache = &bufctl_cache_store;
	kmem_magazine_cache = &magazine_cache_store;
	cache_init_internal(kmem_slab_header_cache, "kmem_slab",
			    sizeof(struct kmem_slab), base);
	cache_init_internal(kmem_bufctl_cache, "kmem_bufctl",
			    sizeof(struct kmem_bufctl), base);
	cache_init_internal(kmem_magazine_cache, "kmem_magazine",
			    sizeof(struct magazine), base);
}

static void slab_init_once(void)
{
	pthread_once(&slab_once, slab_global_init);
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
	return round_up_sz(sizeof(struct kmem_cache), page_size);
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
static struct kmem_cache *cache_create(const char *name, size_t obj_size,
				       size_t align, int flags,
				       struct arena *source, size_t qcache_max,
				       kmem_ctor_t ctor, kmem_dtor_t dtor,
				       void *priv)
{
	struct magslab_config cfg;
	struct kmem_cache *kc;

	slab_init_once();
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

uint64_t kmem_cache_objs_out(struct kmem_cache *kc)
{
	uint64_t n;

	pthread_mutex_lock(&kc->lock);
	n = kc->objs_out;
	pthread_mutex_unlock(&kc->lock);
	return n;
}

/* Takes every empty slab beyond keep off its list; returns them linked. */
static struct kmem_slab *take_empty_slabs(struct kmem_cache *kc, size_t keep)
{
	struct kmem_slab *out = NULL, *s;

	pthread_mutex_lock(&kc->lock);
	while (kc->nr_slabs[SLAB_EMPTY] > keep) {
		s = kc->slabs[SLAB_EMPTY];
		slab_list_del(kc, s);
		s->next = out;
		out = s;
		kc->slab_releases++;
	}
	pthread_mutex_unlock(&kc->lock);
	return out;
}

static size_t release_slabs(struct kmem_cache *kc, struct kmem_slab *s)
{
	size_t bytes = 0;

	while (s) {
		struct kmem_slab *next = s->next;

		slab_release(kc, s);
		ms_trace(slab_release, kc->id, (uint64_t)kc->slab_size,
			 (uint32_t)kc->objs_per_slab);
		bytes += kc->slab_size;
		s = next;
	}
	return bytes;
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
	release_slabs(kc, take_empty_slabs(kc, 0));
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
	size_t mag_bytes, slab_bytes;

	mag_bytes = magazine_layer_reap(kc);
	pthread_mutex_lock(&kc->lock);
	kc->reaps++;
	pthread_mutex_unlock(&kc->lock);
	slab_bytes = release_slabs(kc, take_empty_slabs(kc, keep));
	ms_trace(reap, kc->id, (uint64_t)(slab_bytes / kc->slab_size),
		 (uint64_t)(mag_bytes / sizeof(struct magazine)),
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

void kmem_qcache_purge(struct kmem_cache *kc)
{
	uint64_t mags = atomic_load(&kc->mags_allocated);
	size_t slab_bytes;

	/* Every round back to its slab, every depot magazine freed (the pcc
	 * magazines stay, empty). */
	magazine_layer_drain(kc);
	mags -= atomic_load(&kc->mags_allocated);
	pthread_mutex_lock(&kc->lock);
	kc->reaps++;
	pthread_mutex_unlock(&kc->lock);
	slab_bytes = release_slabs(kc, take_empty_slabs(kc, 0));
	pthread_mutex_lock(&kc->lock);
	(void)hash_shrink(&kc->hash);
	pthread_mutex_unlock(&kc->lock);
	ms_trace(reap, kc->id, (uint64_t)(slab_bytes / kc->slab_size), mags,
		 (uint64_t)(slab_bytes + mags * sizeof(struct magazine)));
}

void kmem_internal_reap(void)
{
	struct kmem_cache *internal[] = {
		kmem_magazine_cache, kmem_slab_header_cache, kmem_bufctl_cache,
	};

	/* All three have small slabs: releasing one frees nothing into
	 * another, so the order does not matter. */
	slab_init_once();
	for (size_t i = 0; i < sizeof(internal) / sizeof(internal[0]); i++)
		release_slabs(internal[i], take_empty_slabs(internal[i], 0));
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

static struct kmem_cache *const *internal_caches(void)
{
	static struct kmem_cache *const all[] = {
		&slab_header_cache_store, &bufctl_cache_store,
		&magazine_cache_store,
	};

	return all;
}
#define NR_INTERNAL_CACHES 3

void slab_fork_lock(void)
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

void slab_fork_lock_leaves(void)
{
	pthread_mutex_lock(&debug_pages_lock);
	handle_fork_lock(&cache_handles);
}

void slab_fork_unlock(bool child)
{
	struct kmem_cache *c;

	handle_fork_unlock(&cache_handles);
	pthread_mutex_unlock(&debug_pages_lock);
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

static void slab_layer_stats(struct kmem_cache *kc, struct kmem_cache_stats *st)
{
	pthread_mutex_lock(&kc->lock);
	st->slabs_empty = kc->nr_slabs[SLAB_EMPTY];
	st->slabs_partial = kc->nr_slabs[SLAB_PARTIAL];
	st->slabs_full = kc->nr_slabs[SLAB_FULL];
	st->slabs = st->slabs_empty + st->slabs_partial + st->slabs_full;
	st->slab_grows = kc->slab_grows;
	st->slab_releases = kc->slab_releases;
	st->objs_in_slabs = kc->objs_out;
	st->objs_free_in_slabs = st->slabs * kc->objs_per_slab - kc->objs_out;
	st->hash_lists = kc->uses_bufctl ? kc->hash.nr_lists : 0;
	st->hash_items = kc->uses_bufctl ? kc->hash.nr_items : 0;
	st->hash_resizes = kc->hash.nr_resizes;
	st->ctor_failures = kc->ctor_failures;
	st->reaps = kc->reaps;
	st->debug_errors = kc->debug_errors;
	pthread_mutex_unlock(&kc->lock);
	st->obj_size = kc->obj_size;
	st->align = kc->align;
	st->slab_size = kc->slab_size;
	st->objs_per_slab = kc->objs_per_slab;
	st->uses_bufctl = kc->uses_bufctl;
}

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
