/*
 * slab.c — the slab layer: objects in and out of slabs, slabs grown from
 * and released to their source arena, and the debug checks that live in
 * the slabs (poison, the record of what the user holds).
 *
 * Owns: each cache's slab lists, bufctl hash and slab counters (under
 * kc->lock), and debug_pages (the debug caches' small-slab pages, under
 * debug_pages_lock).  The cache structure itself, its life cycle and the
 * list of caches are cache.c's; the magazines above are magazine.c's.
 *
 * Lock order: pcc -> depot -> slab (kc->lock) -> arena.  This file takes
 * kc->lock and, with it held, only arena locks and debug_pages_lock (a
 * leaf).  Slabs are grown and released with kc->lock dropped, because the
 * source arena may sleep (MEM_WAIT on a bounded arena) and a sleeper must not
 * hold the lock that the frees it waits for need.
 *
 * Calls go down only: to the arenas, and — for its own metadata (slab
 * headers and bufctls) — to two internal caches through kmem_cache_alloc/
 * free.  Those caches have no magazine layer (KMC_NOMAG), so that call
 * comes straight back to slab_alloc_obj for another cache: it never reaches
 * a magazine, and they take their pages from the base arena, which has no
 * quantum caches, so a bufctl allocation can never need a bufctl.
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
 * Invariants (kc->lock): a slab is on exactly one of slabs[EMPTY/PARTIAL/
 * FULL] according to nr_busy (0, between, nr_total); objs_out is the sum of
 * nr_busy; for bufctl caches, hash.nr_items == objs_out (inserted when an
 * object leaves a slab, removed when it returns: Akaros never decremented).
 *
 * Objects that leave the slab layer are constructed at once; they stay
 * constructed in magazines; the dtor runs only when one goes back to a slab.
 * A destroyed cache in quarantine (cache.c) reaches slab_alloc_obj,
 * slab_free_obj and debug_on_free with `dead` set, and is refused there.
 *
 * FAQ:
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
 */
#include "slab_impl.h"

#include "error.h"
#include "fork.h"
#include "trace.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define SMALL_OBJ_MAX     512
#define BUFCTL_SLAB_OBJS  8
#define DEBUG_POISON      0x6b

static size_t page_size;

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
/* Geometry, release, counters (for cache.c)                               */

/* Picks small or bufctl slabs and their geometry. */
void slab_layer_init(struct kmem_cache *kc, size_t qcache_max)
{
	size_t src_q = arena_quantum(kc->source);

	if (!page_size)
		page_size = (size_t)sysconf(_SC_PAGESIZE);
	pthread_mutex_init(&kc->lock, NULL);
	hash_init(&kc->hash);

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

size_t slab_release_empty(struct kmem_cache *kc, size_t keep)
{
	return release_slabs(kc, take_empty_slabs(kc, keep));
}

void slab_layer_stats(struct kmem_cache *kc, struct kmem_cache_stats *st)
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

/* ---- fork (fork.c): debug_pages_lock is a leaf ---- */

void slab_fork_lock_leaves(void)
{
	pthread_mutex_lock(&debug_pages_lock);
}

void slab_fork_unlock_leaves(void)
{
	pthread_mutex_unlock(&debug_pages_lock);
}
