/*
 * hash.h — the dynamic chained hash table used for allocated arena segments
 * and for slab bufctls, and the pointer hash behind it.
 *
 * Owns: the bucket array of one table (the first 64 lists are embedded in the
 * table itself, larger arrays are mapped from the OS) and its item count.
 * Items are intrusive: the caller embeds a struct hash_link whose key is the
 * item's address (or any integer).
 *
 * Invariants: nr_lists == 1 << bits, 64 <= nr_lists <= 2^31; nr_items is the
 * number of linked items (kept on insert *and* remove: Akaros forgot the
 * decrement, so its tables sized themselves by allocations ever made).
 * The table wants to grow when nr_items > 13/20 of nr_lists; it shrinks
 * only when asked (hash_shrink), to a load of at most 13/40.
 *
 * Locking: none; the owner's lock protects the table.  hash_grow() maps
 * memory with mmap, never through an arena, so it is safe to call while
 * holding any arena lock (even the base arena's).
 *
 * Why the golden-ratio multiplier 0x61C8864680B583EB: the bucket is the top
 * bits of key * C.  The old code multiplied by the sparse 32-bit prime
 * 0x9e370001 even on 64-bit, and page-aligned addresses (whose low 12 bits
 * are zero) then cluster in few buckets; test_hash measures both.
 */
#ifndef MAGSLAB_HASH_H
#define MAGSLAB_HASH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HASH_GOLDEN_RATIO_64   0x61C8864680B583EBull
#define HASH_OLD_MULT_32       0x9e370001ull
#define HASH_INIT_BITS         6
#define HASH_INIT_LISTS        (1u << HASH_INIT_BITS)
#define HASH_MAX_BITS          31
#define HASH_LOAD_NUM          13
#define HASH_LOAD_DEN          20

/* Bucket of key in a table of 2^bits lists (bits in 1..63). */
static inline size_t hash_ptr(uintptr_t key, unsigned int bits)
{
	return (size_t)(((uint64_t)key * HASH_GOLDEN_RATIO_64) >> (64 - bits));
}

/* The old multiplier, kept only so the test can show why it was replaced. */
static inline size_t hash_ptr_old(uintptr_t key, unsigned int bits)
{
	return (size_t)(((uint64_t)key * HASH_OLD_MULT_32) >> (64 - bits));
}

struct hash_link {
	struct hash_link *next;
	uintptr_t key;
};

struct hash_table {
	struct hash_link **lists;     /* == embedded until the first grow */
	unsigned int bits;
	size_t nr_lists;
	size_t nr_items;
	uint64_t nr_resizes;          /* successful grows */
	uint64_t last_resize_ns;      /* how long the last grow took */
	struct hash_link *embedded[HASH_INIT_LISTS];
};

void hash_init(struct hash_table *ht);
/* Frees a grown bucket array; the table must be empty or abandoned. */
void hash_fini(struct hash_table *ht);

void hash_insert(struct hash_table *ht, struct hash_link *link, uintptr_t key);
struct hash_link *hash_find(const struct hash_table *ht, uintptr_t key);
/* Unlinks and returns the item with this key, or NULL. */
struct hash_link *hash_remove(struct hash_table *ht, uintptr_t key);

/* Items exceed 13/20 of the lists and the table may still double. */
bool hash_needs_grow(const struct hash_table *ht);
/* Doubles the table and rehashes.  Returns 0, or -1 if memory could not be
 * mapped (the table is unchanged and still correct, only slower). */
int hash_grow(struct hash_table *ht);

/* Halves the table as far as its items allow (down to the embedded 64
 * lists), so that a table grown by a spike gives its memory back.  Returns
 * 0 (also when there was nothing to do), or -1 if the smaller array could
 * not be mapped (the table is unchanged).  Not a resize for nr_resizes. */
int hash_shrink(struct hash_table *ht);

/* Calls fn on every item (fn must not insert or remove). */
void hash_for_each(const struct hash_table *ht,
		   void (*fn)(struct hash_link *link, void *arg), void *arg);

#endif /* MAGSLAB_HASH_H */
