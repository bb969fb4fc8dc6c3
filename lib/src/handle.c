/*
 * handle.c — live and quarantined arena/cache pointers (see handle.h).
 *
 * Owns: each set's live and dead tables and its quarantine FIFO.
 *
 * Locking: s->lock is a leaf (handle.h).
 *
 * FAQ:
 * - Why look pointers up by address instead of checking a magic number in
 *   the object?  A stale pointer may point at memory that is unmapped, or
 *   reused by anything at all; reading it to find the magic is itself the
 *   use after free.  The address lookup never dereferences it.
 * - Why a bounded quarantine by default?  Keeping every destroyed object
 *   forever costs a page per destroy; a program that creates and destroys
 *   caches in a loop would leak without bound.  The FIFO keeps the most
 *   recent ones, which is when a stale pointer is most likely still used.
 */
#include "handle.h"

static void table_insert(struct hash_table *t, struct handle *h,
			 const void *obj)
{
	hash_insert(t, &h->hl, (uintptr_t)obj);
	/* A table that cannot grow is still correct, only slower. */
	if (hash_needs_grow(t))
		(void)hash_grow(t);
}

void handle_fork_lock(struct handle_set *s)
{
	pthread_mutex_lock(&s->lock);
}

void handle_fork_unlock(struct handle_set *s)
{
	pthread_mutex_unlock(&s->lock);
}

void handle_register(struct handle_set *s, struct handle *h, const void *obj)
{
	pthread_mutex_lock(&s->lock);
	h->state = HANDLE_LIVE;
	h->fifo_next = NULL;
	table_insert(&s->live, h, obj);
	pthread_mutex_unlock(&s->lock);
}

/* obj's state (s->lock held). */
static enum handle_state state_locked(struct handle_set *s, const void *obj)
{
	struct hash_link *l = hash_find(&s->live, (uintptr_t)obj);

	if (l)
		return handle_owner(l, struct handle, hl)->state;
	return hash_find(&s->dead, (uintptr_t)obj) ? HANDLE_DEAD
						   : HANDLE_UNKNOWN;
}

enum handle_state handle_lookup(struct handle_set *s, const void *obj)
{
	enum handle_state st;

	pthread_mutex_lock(&s->lock);
	st = state_locked(s, obj);
	pthread_mutex_unlock(&s->lock);
	return st;
}

enum handle_state handle_claim(struct handle_set *s, const void *obj)
{
	enum handle_state st;

	pthread_mutex_lock(&s->lock);
	st = state_locked(s, obj);
	if (st == HANDLE_LIVE)
		handle_owner(hash_find(&s->live, (uintptr_t)obj),
			     struct handle, hl)->state = HANDLE_DYING;
	pthread_mutex_unlock(&s->lock);
	return st;
}

void handle_unclaim(struct handle_set *s, struct handle *h)
{
	pthread_mutex_lock(&s->lock);
	h->state = HANDLE_LIVE;
	pthread_mutex_unlock(&s->lock);
}

/* Takes the oldest handle off the FIFO and out of the dead table. */
static struct handle *fifo_pop(struct handle_set *s)
{
	struct handle *h = s->fifo_head;

	s->fifo_head = h->fifo_next;
	if (!s->fifo_head)
		s->fifo_tail = NULL;
	s->nr_fifo--;
	hash_remove(&s->dead, h->hl.key);
	h->state = HANDLE_UNKNOWN;
	return h;
}

static void fifo_push(struct handle_set *s, struct handle *h)
{
	h->fifo_next = NULL;
	if (s->fifo_tail)
		s->fifo_tail->fifo_next = h;
	else
		s->fifo_head = h;
	s->fifo_tail = h;
	s->nr_fifo++;
}

void handle_kill(struct handle_set *s, struct handle *h, bool forever,
		 struct handle **evicted)
{
	uintptr_t key = h->hl.key;

	*evicted = NULL;
	pthread_mutex_lock(&s->lock);
	hash_remove(&s->live, key);
	h->state = HANDLE_DEAD;
	table_insert(&s->dead, h, (const void *)key);
	if (!forever) {
		fifo_push(s, h);
		if (s->nr_fifo > s->max_dead)
			*evicted = fifo_pop(s);
	}
	pthread_mutex_unlock(&s->lock);
}
