/*
 * hash.c — the dynamic chained hash table (see hash.h for the contract).
 *
 * Owns: grown bucket arrays (mapped with mmap, unmapped on the next grow,
 * shrink or at hash_fini).  The first table, 64 lists, is embedded in struct hash_table
 * so that a new arena or cache needs no allocation for it.
 *
 * Locking: none here; the owner's lock covers every call.
 *
 * FAQ:
 * - Why mmap and not an arena for bigger tables?  The base arena's own
 *   allocated-segment hash must grow while the base arena's lock is held;
 *   allocating the new table from base would recurse into that lock.  The
 *   OS is the one allocator below every arena.
 * - Why does a failed grow not fail the caller?  A table that could not grow
 *   is still correct, only its chains are longer; the next insert retries.
 */
#include "hash.h"

#include <string.h>
#include <sys/mman.h>
#include <time.h>

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void hash_init(struct hash_table *ht)
{
	memset(ht, 0, sizeof(*ht));
	ht->lists = ht->embedded;
	ht->bits = HASH_INIT_BITS;
	ht->nr_lists = HASH_INIT_LISTS;
}

static void free_lists(struct hash_table *ht)
{
	if (ht->lists != ht->embedded)
		munmap(ht->lists, ht->nr_lists * sizeof(*ht->lists));
}

void hash_fini(struct hash_table *ht)
{
	free_lists(ht);
	ht->lists = ht->embedded;
	ht->bits = HASH_INIT_BITS;
	ht->nr_lists = HASH_INIT_LISTS;
	ht->nr_items = 0;
	memset(ht->embedded, 0, sizeof(ht->embedded));
}

void hash_insert(struct hash_table *ht, struct hash_link *link, uintptr_t key)
{
	struct hash_link **head = &ht->lists[hash_ptr(key, ht->bits)];

	link->key = key;
	link->next = *head;
	*head = link;
	ht->nr_items++;
}

struct hash_link *hash_find(const struct hash_table *ht, uintptr_t key)
{
	struct hash_link *l = ht->lists[hash_ptr(key, ht->bits)];

	while (l && l->key != key)
		l = l->next;
	return l;
}

struct hash_link *hash_remove(struct hash_table *ht, uintptr_t key)
{
	struct hash_link **pp = &ht->lists[hash_ptr(key, ht->bits)];
	struct hash_link *l;

	for (; (l = *pp); pp = &l->next) {
		if (l->key == key) {
			*pp = l->next;
			l->next = NULL;
			ht->nr_items--;
			return l;
		}
	}
	return NULL;
}

bool hash_needs_grow(const struct hash_table *ht)
{
	if (ht->bits >= HASH_MAX_BITS)
		return false;
	return ht->nr_items * HASH_LOAD_DEN > ht->nr_lists * HASH_LOAD_NUM;
}

/* Moves every item of the current lists into new_lists (2^new_bits lists). */
static void rehash_into(struct hash_table *ht, struct hash_link **new_lists,
			unsigned int new_bits)
{
	for (size_t i = 0; i < ht->nr_lists; i++) {
		struct hash_link *l = ht->lists[i], *next;

		for (; l; l = next) {
			size_t b = hash_ptr(l->key, new_bits);

			next = l->next;
			l->next = new_lists[b];
			new_lists[b] = l;
		}
	}
}

/* Moves every item into new_lists (2^new_bits lists, all empty), which
 * then replace the current ones. */
static void switch_lists(struct hash_table *ht, struct hash_link **new_lists,
			 unsigned int new_bits)
{
	rehash_into(ht, new_lists, new_bits);
	free_lists(ht);
	ht->lists = new_lists;
	ht->bits = new_bits;
	ht->nr_lists = (size_t)1 << new_bits;
}

int hash_grow(struct hash_table *ht)
{
	unsigned int new_bits = ht->bits + 1;
	size_t new_nr = (size_t)1 << new_bits;
	uint64_t t0 = now_ns();
	struct hash_link **new_lists;

	if (ht->bits >= HASH_MAX_BITS)
		return -1;
	/* Anonymous mappings come zeroed: every list starts empty. */
	new_lists = mmap(NULL, new_nr * sizeof(*new_lists),
			 PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	if (new_lists == MAP_FAILED)
		return -1;
	switch_lists(ht, new_lists, new_bits);
	ht->nr_resizes++;
	ht->last_resize_ns = now_ns() - t0;
	return 0;
}

/* The fewest bits whose table holds nr items at half the grow load, so
 * that a table just shrunk does not grow again at the next insert. */
static unsigned int bits_for(size_t nr)
{
	unsigned int bits = HASH_INIT_BITS;

	while (bits < HASH_MAX_BITS &&
	       nr * HASH_LOAD_DEN * 2 > ((size_t)1 << bits) * HASH_LOAD_NUM)
		bits++;
	return bits;
}

int hash_shrink(struct hash_table *ht)
{
	unsigned int new_bits = bits_for(ht->nr_items);
	size_t new_nr = (size_t)1 << new_bits;
	struct hash_link **new_lists;

	if (new_bits >= ht->bits)
		return 0;
	if (new_bits == HASH_INIT_BITS) {
		new_lists = ht->embedded;
		memset(ht->embedded, 0, sizeof(ht->embedded));
	} else {
		new_lists = mmap(NULL, new_nr * sizeof(*new_lists),
				 PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (new_lists == MAP_FAILED)
			return -1;
	}
	switch_lists(ht, new_lists, new_bits);
	return 0;
}

void hash_for_each(const struct hash_table *ht,
		   void (*fn)(struct hash_link *link, void *arg), void *arg)
{
	for (size_t i = 0; i < ht->nr_lists; i++)
		for (struct hash_link *l = ht->lists[i]; l; l = l->next)
			fn(l, arg);
}
