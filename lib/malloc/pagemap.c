/*
 * pagemap.c — the shim's page map: for every 4 KiB unit of address space,
 * which size class owns it, or whether a large allocation starts there.
 * free() and realloc() find a pointer's owner here in O(1), without a
 * header in the object and without reading memory that may not be ours.
 *
 * Owns: the root table (static, 1 GiB of address space per entry) and the
 * leaves (one 64-bit entry per unit, 2 MiB of address space reserved per
 * GiB covered, mapped straight from the OS on first use, never freed).
 *
 * Layout: user addresses below 2^47 (x86-64 without 5-level hints); the
 * root has 2^17 slots, a leaf 2^18 entries.  Only the leaf pages that are
 * touched become resident: 8 bytes per 4 KiB of heap (0.2 %).
 *
 * Why a page map, not slab alignment (mimalloc's way)?  magslab's slabs are
 * one page for classes up to 512 B and several pages above, carved by the
 * library from the page arena: the shim does not choose their alignment.
 * What it does see is every span a class's arena imports and gives back
 * (classes.c), so it can keep an exact map; and the map also answers "is
 * this pointer ours at all?", which free() must know before it touches
 * anything.
 *
 * Invariants: an entry is non-zero exactly while its unit belongs to a
 * class's slab span (set on import before the slab layer sees the memory,
 * cleared on release before the memory goes back) or is the head of a live
 * large allocation (set before malloc returns it, cleared before it is
 * freed); MSM_PM_FREED marks a large head that was freed (so a second free
 * can say so) until the unit is used again.
 *
 * Locking: none.  Entries are atomics read and written relaxed: an entry
 * changes only while its memory is in no user's hands, and the user's own
 * hand-off of a pointer orders it.  A leaf is published by one
 * compare-and-swap; a thread that loses the race unmaps its own.
 */
#include "shim.h"

#include <stdatomic.h>
#include <sys/mman.h>

#define LEAF_UNITS  MSM_PM_LEAF_UNITS

typedef msm_pm_entry pm_entry;

_Atomic(msm_pm_entry *) msm_pm_root[MSM_PM_ROOT_SLOTS];

static pm_entry *leaf_new(void)
{
	void *m = mmap(NULL, LEAF_UNITS * sizeof(pm_entry),
		       PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return m == MAP_FAILED ? NULL : m;
}

/* The leaf covering address a; with create, mapped if missing. */
static pm_entry *leaf_of(uintptr_t a, bool create)
{
	_Atomic(pm_entry *) *slot = &msm_pm_root[a >> MSM_PM_LEAF_SHIFT];
	pm_entry *leaf = atomic_load_explicit(slot, memory_order_acquire);
	pm_entry *fresh;

	if (leaf || !create)
		return leaf;
	fresh = leaf_new();
	if (!fresh)
		return NULL;
	if (atomic_compare_exchange_strong_explicit(slot, &leaf, fresh,
						    memory_order_acq_rel,
						    memory_order_acquire))
		return fresh;
	munmap(fresh, LEAF_UNITS * sizeof(pm_entry));
	return leaf;            /* the winner's */
}

static pm_entry *entry_of(uintptr_t a, bool create)
{
	pm_entry *leaf;

	if (a >> MSM_PM_ADDR_BITS)
		return NULL;
	leaf = leaf_of(a, create);
	return leaf ? &leaf[(a >> MSM_PM_SHIFT) & (LEAF_UNITS - 1)] : NULL;
}

/* Stores value << 8 | kind into the entry of unit i of [p, ...): value
 * counts up from first_value unit by unit when step is 1. */
static int set_units(void *p, size_t units, unsigned int kind,
		     uint64_t first_value, uint64_t step)
{
	uintptr_t a = (uintptr_t)p;

	for (size_t i = 0; i < units; i++) {
		pm_entry *e = entry_of(a + i * MSM_PM_UNIT, true);

		if (!e)
			return -1;
		atomic_store_explicit(e, (first_value + i * step) << 8 | kind,
				      memory_order_relaxed);
	}
	return 0;
}

int msm_pm_set_class(void *p, size_t len, unsigned int c)
{
	size_t units = len >> MSM_PM_SHIFT;

	if (set_units(p, units, c + 1, 0, 1) == 0)
		return 0;
	msm_pm_clear(p, len);
	return -1;
}

void msm_pm_clear(void *p, size_t len)
{
	uintptr_t a = (uintptr_t)p;

	for (size_t i = 0; i < len >> MSM_PM_SHIFT; i++) {
		pm_entry *e = entry_of(a + i * MSM_PM_UNIT, false);

		if (e)
			atomic_store_explicit(e, 0, memory_order_relaxed);
	}
}

int msm_pm_set_large(void *p, size_t len)
{
	return set_units(p, 1, MSM_PM_LARGE, len >> MSM_PM_SHIFT, 0);
}

void msm_pm_mark_freed(void *p)
{
	(void)set_units(p, 1, MSM_PM_FREED, 0, 0);
}
