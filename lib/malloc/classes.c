/*
 * classes.c — the shim's size classes: one magslab cache per class, each
 * with an arena of its own between it and the page arena, whose hooks keep
 * the page map (pagemap.c) exact.
 *
 * Owns: msm_classes[] and the two lookup tables, written once at start-up
 * (a class's cache pointer last, with release order: a reader that sees it
 * sees the rest).
 *
 * The classes: multiples of 16 up to 256 B, then eight per power of two up
 * to 32 KiB (step = a power of two / 8): 16, 32, ..., 256, 288, 320, ...,
 * 512, 576, ..., 1024, 1152, ..., 32768 — 72 classes.  A request above 128 B
 * is rounded up by less than 1/8 of itself (from 2^k + 1 to 2^k + 2^k/8 at
 * worst); below, malloc's 16-byte alignment makes 16 the finest step, so
 * the waste is at most 15 bytes.  Every class is a multiple of 16, so every
 * object is 16-aligned; a class that is a multiple of A holds objects
 * aligned to A (A <= page), which is how memalign() below a page is served.
 *
 * Each class is a cache named by its size ("malloc-96"), so each has its own
 * magazines, depot, resize policy state and trace events.  Classes up to
 * 512 B have one-page slabs with the free list through the objects; larger
 * ones have bufctl slabs of round_up(8 x size, page) (magslab/slab.h).
 *
 * Why an arena per class?  The slab layer asks its source for slabs and
 * tells no one; the page map needs to know which class a page went to.
 * Each class's arena ("malloc-96-slabs", quantum one page) imports exactly
 * one slab per span from kpages through hooks of its own (one pair per
 * class: an arena hook is told its source, not its class), and gives a
 * span back the moment the slab is released; the import hook writes the
 * span's units into the page map before the slab layer sees the memory and
 * the release hook clears them before the memory goes back.  A class's span
 * is therefore exactly one slab, its objects at span start + i x size.
 *
 * Locking: none here.  The hooks run inside magslab's slab growth and
 * release, with no arena lock held (magslab/arena.h), and take none.
 */
#include "shim.h"

#include <errno.h>
#include <stdio.h>

struct msm_class msm_classes[MSM_NR_CLASSES];
uint8_t msm_class_small[MSM_SMALL_MAX / 16 + 1];
uint8_t msm_class_big[MSM_CLASS_MAX / 128 + 1];

/* Class i's object size. */
static uint32_t class_size(unsigned int i)
{
	uint32_t base;

	if (i < 16)
		return 16 * (i + 1);
	base = 256u << ((i - 16) / 8);
	return base + base / 8 * ((i - 16) % 8 + 1);
}

/* The smallest class of at least size (size <= MSM_CLASS_MAX). */
static uint8_t first_class_for(size_t size)
{
	uint8_t i = 0;

	while (class_size(i) < size)
		i++;
	return i;
}

void msm_classes_init_tables(void)
{
	for (size_t i = 0; i < sizeof(msm_class_small); i++)
		msm_class_small[i] = first_class_for(i * 16);
	for (size_t i = 0; i < sizeof(msm_class_big); i++)
		msm_class_big[i] = first_class_for(i * 128);
	for (unsigned int i = 0; i < MSM_NR_CLASSES; i++) {
		struct msm_class *cl = &msm_classes[i];

		cl->size = class_size(i);
		/* ceil(2^40 / size): exact quotients for offsets below 2^24. */
		cl->div_magic = (((uint64_t)1 << 40) + cl->size - 1) / cl->size;
		snprintf(cl->name, sizeof(cl->name), "malloc-%u", cl->size);
	}
}

int msm_class_aligned(size_t size, size_t align)
{
	for (unsigned int i = msm_class_of(size); i < MSM_NR_CLASSES; i++)
		if (msm_classes[i].size % align == 0)
			return (int)i;
	return -1;
}

/* ---------------------------------------------------------------------- */
/* The arena hooks                                                          */

static void *class_import(unsigned int c, struct arena *src, size_t len,
			  int flags)
{
	void *p = arena_alloc(src, len, flags);

	if (p && msm_pm_set_class(p, len, c) != 0) {
		arena_free(src, p, len);
		errno = ENOMEM;
		return NULL;
	}
	return p;
}

static void class_release(struct arena *src, void *p, size_t len)
{
	msm_pm_clear(p, len);
	arena_free(src, p, len);
}

/* One import hook per class (the hook is told its source, not its class). */
#define CLASS_HOOK(i)                                                        \
	static void *import_##i(struct arena *src, size_t len, int flags)   \
	{                                                                    \
		return class_import(i, src, len, flags);                     \
	}
#define CLASS_LIST(X)                                                        \
	X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)        \
	X(12) X(13) X(14) X(15) X(16) X(17) X(18) X(19) X(20) X(21) X(22)    \
	X(23) X(24) X(25) X(26) X(27) X(28) X(29) X(30) X(31) X(32) X(33)    \
	X(34) X(35) X(36) X(37) X(38) X(39) X(40) X(41) X(42) X(43) X(44)    \
	X(45) X(46) X(47) X(48) X(49) X(50) X(51) X(52) X(53) X(54) X(55)    \
	X(56) X(57) X(58) X(59) X(60) X(61) X(62) X(63) X(64) X(65) X(66)    \
	X(67) X(68) X(69) X(70) X(71)
#define CLASS_HOOK_NAME(i) import_##i,

CLASS_LIST(CLASS_HOOK)

static const arena_afunc_t class_imports[] = { CLASS_LIST(CLASS_HOOK_NAME) };

_Static_assert(sizeof(class_imports) / sizeof(class_imports[0]) ==
	       MSM_NR_CLASSES, "one import hook per class");

/* ---------------------------------------------------------------------- */
/* Creating the classes                                                     */

static int class_create(unsigned int i, char *why, size_t why_len)
{
	struct msm_class *cl = &msm_classes[i];
	struct arena *kpages = arena_kpages();
	char aname[ARENA_NAME_LEN];
	struct kmem_cache_stats st;
	struct kmem_cache *kc;

	snprintf(aname, sizeof(aname), "%s-slabs", cl->name);
	cl->arena = arena_create(aname, NULL, 0, arena_quantum(kpages),
				 class_imports[i], class_release, kpages, 0,
				 ARENA_INSTANTFIT);
	kc = cl->arena ? kmem_cache_create(cl->name, cl->size, MSM_ALIGN, 0,
					   cl->arena, NULL, NULL, NULL)
		       : NULL;
	if (!kc || kmem_cache_stats(kc, &st) != 0) {
		snprintf(why, why_len, "cannot create size class %s", cl->name);
		return -1;
	}
	cl->objs_per_slab = (uint32_t)st.objs_per_slab;
	__atomic_store_n(&cl->cache, kc, __ATOMIC_RELEASE);
	return 0;
}

int msm_classes_create(char *why, size_t why_len)
{
	for (unsigned int i = 0; i < MSM_NR_CLASSES; i++)
		if (class_create(i, why, why_len) != 0)
			return -1;
	return 0;
}

size_t msm_classes_reap(void)
{
	size_t bytes = 0;

	for (unsigned int i = 0; i < MSM_NR_CLASSES; i++) {
		struct kmem_cache *kc = __atomic_load_n(&msm_classes[i].cache,
							__ATOMIC_ACQUIRE);

		if (kc)
			bytes += kmem_cache_reap(kc);
	}
	return bytes;
}
