/*
 * shim.h — what the files of the malloc replacement (lib/malloc/) share.
 *
 * The shim is built twice from the same sources:
 *   build/lib/libmagslab-malloc.so   the entry points are malloc, free, ...
 *                                    (MSM_PREFIX empty), for LD_PRELOAD
 *   the test programs                the same code with MSM_PREFIX=msm_:
 *                                    msm_malloc, msm_free, ... beside the
 *                                    system malloc, so the tests can call
 *                                    it under ASan/TSan, which bring a
 *                                    malloc of their own
 * MSM(name) is the exported name of an entry point in this build.
 *
 * The files:
 *   classes.c  the size classes, one magslab cache and one arena each, and
 *              the arena hooks that keep the page map exact
 *   pagemap.c  the page map: which class (or large allocation) owns a page
 *   malloc.c   the malloc family, bad input, start-up and the exit knobs
 *
 * Lock order: the shim has no lock of its own.  It calls magslab with
 * nothing held; magslab calls back into it (the arena hooks below) with no
 * arena lock held (magslab/arena.h), and the hooks take no lock either.
 */
#ifndef MAGSLAB_MALLOC_SHIM_H
#define MAGSLAB_MALLOC_SHIM_H

#include <magslab/magslab.h>

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifndef MSM_PREFIX
#define MSM_PREFIX
#endif
#define MSM_CAT(a, b) a##b
#define MSM_XCAT(a, b) MSM_CAT(a, b)
#define MSM(name) MSM_XCAT(MSM_PREFIX, name)

/* ---- the entry points (malloc.c) --------------------------------------- */

#define MSM_API __attribute__((visibility("default")))

MSM_API void *MSM(malloc)(size_t size);
MSM_API void MSM(free)(void *p);
MSM_API void *MSM(calloc)(size_t n, size_t size);
MSM_API void *MSM(realloc)(void *p, size_t size);
MSM_API void *MSM(reallocarray)(void *p, size_t n, size_t size);
MSM_API int MSM(posix_memalign)(void **out, size_t align, size_t size);
MSM_API void *MSM(aligned_alloc)(size_t align, size_t size);
MSM_API void *MSM(memalign)(size_t align, size_t size);
MSM_API void *MSM(valloc)(size_t size);
MSM_API void *MSM(pvalloc)(size_t size);
MSM_API size_t MSM(malloc_usable_size)(void *p);
/* Reaps every class (magslab's kmem_cache_reap): 1 if anything went back. */
MSM_API int MSM(malloc_trim)(size_t pad);

/* ---- size classes (classes.c) ---------------------------------------- */

#define MSM_NR_CLASSES   72
#define MSM_CLASS_MAX    ((size_t)32768)  /* larger: the page arena */
#define MSM_SMALL_MAX    ((size_t)1024)   /* first table: 16-byte steps */
#define MSM_ALIGN        16               /* every class is a multiple */

struct msm_class {
	struct kmem_cache *cache;   /* set last (__atomic, release) */
	struct arena *arena;        /* the class's slabs, from kpages */
	uint32_t size;              /* object size = stride */
	uint32_t objs_per_slab;
	uint64_t div_magic;         /* off / size == (off * magic) >> 40 */
	char name[KMC_NAME_LEN];
};

extern struct msm_class msm_classes[MSM_NR_CLASSES];
/* Class index of a size, by (size + 15) / 16 up to MSM_SMALL_MAX and by
 * (size + 127) / 128 up to MSM_CLASS_MAX. */
extern uint8_t msm_class_small[MSM_SMALL_MAX / 16 + 1];
extern uint8_t msm_class_big[MSM_CLASS_MAX / 128 + 1];

static inline unsigned int msm_class_of(size_t size)
{
	if (size <= MSM_SMALL_MAX)
		return msm_class_small[(size + 15) >> 4];
	return msm_class_big[(size + 127) >> 7];
}

/* Fills the lookup tables (no memory, no magslab call). */
void msm_classes_init_tables(void);
/* Creates every class's arena and cache; 0, or -1 with a message in why. */
int msm_classes_create(char *why, size_t why_len);
/* The smallest class of at least size whose objects are all aligned to
 * align (<= page), or -1. */
int msm_class_aligned(size_t size, size_t align);
/* kmem_cache_reap of every class (each reaps its arena chain down to
 * base); the bytes the classes gave back. */
size_t msm_classes_reap(void);

/* ---- the page map (pagemap.c) ----------------------------------------- */

/* One 64-bit entry per 4 KiB of address space that the shim handed out:
 *   kind (bits 0-7)   0: not ours; 1..MSM_NR_CLASSES: class kind - 1;
 *                     MSM_PM_LARGE: the first unit of a large allocation;
 *                     MSM_PM_FREED: one that was freed (until reused)
 *   value (bits 8-63) a class unit: its index in the class's slab span;
 *                     a large head: the allocation's length in units */
#define MSM_PM_SHIFT     12
#define MSM_PM_UNIT      ((size_t)1 << MSM_PM_SHIFT)
#define MSM_PM_LARGE     0xff
#define MSM_PM_FREED     0xfe             /* a large head, freed */

#define MSM_PM_ADDR_BITS   47
#define MSM_PM_LEAF_SHIFT  30
#define MSM_PM_ROOT_SLOTS  ((size_t)1 << (MSM_PM_ADDR_BITS - MSM_PM_LEAF_SHIFT))
#define MSM_PM_LEAF_UNITS  ((size_t)1 << (MSM_PM_LEAF_SHIFT - MSM_PM_SHIFT))

typedef _Atomic uint64_t msm_pm_entry;
extern _Atomic(msm_pm_entry *) msm_pm_root[MSM_PM_ROOT_SLOTS];

/* p's entry (0 for every address the shim never handed out); inline, as
 * every free() starts here. */
static inline uint64_t msm_pm_get(const void *p)
{
	uintptr_t a = (uintptr_t)p;
	msm_pm_entry *leaf;

	if (a >> MSM_PM_ADDR_BITS)
		return 0;
	leaf = atomic_load_explicit(&msm_pm_root[a >> MSM_PM_LEAF_SHIFT],
				    memory_order_acquire);
	if (!leaf)
		return 0;
	return atomic_load_explicit(
		&leaf[(a >> MSM_PM_SHIFT) & (MSM_PM_LEAF_UNITS - 1)],
		memory_order_relaxed);
}
/* Record [p, p + len) as a span of class c's slabs / forget it. */
int msm_pm_set_class(void *p, size_t len, unsigned int c);
void msm_pm_clear(void *p, size_t len);
/* Record a large allocation (its head unit only) / mark it freed. */
int msm_pm_set_large(void *p, size_t len);
void msm_pm_mark_freed(void *p);

static inline unsigned int msm_pm_kind(uint64_t e)
{
	return (unsigned int)(e & 0xff);
}

static inline uint64_t msm_pm_value(uint64_t e)
{
	return e >> 8;
}

#endif /* MAGSLAB_MALLOC_SHIM_H */
