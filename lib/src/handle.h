/*
 * handle.h — which arena and cache pointers are live, and what became of
 * the ones that are not.
 *
 * Users hold plain pointers (struct arena *, struct kmem_cache *).  A
 * pointer kept after destroy is a stale handle: the memory behind it may
 * hold another arena or cache by now, or nothing.  A handle set answers
 * "is this pointer a live object?" without reading the memory it points at
 * (lookup by address in a hash of registered objects), and keeps destroyed
 * objects in quarantine so that their addresses are not handed out again at
 * once: a second destroy, or any use of the old pointer, then finds a dead
 * object and can name it instead of silently acting on a new one.
 *
 * Quarantine: a destroyed object's memory stays allocated, marked dead, in
 * a FIFO of at most max_dead objects; the oldest is handed back to its
 * owner (to free) when a newer one arrives.  An object killed with
 * `forever` (debug mode) never leaves the quarantine.
 *
 * Owns: the two tables (live, dead) and the FIFO; not the objects, which
 * embed a struct handle.
 *
 * Invariants: a registered handle is in exactly one of live (state LIVE or
 * DYING) or dead (DEAD); dead handles not kept forever are on the FIFO,
 * oldest first, and there are at most max_dead of them.  Only the set's
 * lock changes a state, so exactly one of two racing destroys claims.
 *
 * Locking: each set has one mutex, a leaf: no other lock is taken under
 * it, and nothing is reported while it is held.  Callers may hold any
 * magslab lock when calling in (the tables grow with mmap, never through an
 * arena).
 */
#ifndef MAGSLAB_HANDLE_H
#define MAGSLAB_HANDLE_H

#include "hash.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

enum handle_state {
	HANDLE_UNKNOWN = 0,     /* never registered, or evicted from quarantine */
	HANDLE_LIVE,
	HANDLE_DYING,           /* claimed by a destroy in progress */
	HANDLE_DEAD,            /* destroyed, still in quarantine */
};

/* Embedded in every arena and cache. */
struct handle {
	struct hash_link hl;            /* key: the object's address */
	struct handle *fifo_next;       /* quarantine: the next younger */
	enum handle_state state;
};

struct handle_set {
	pthread_mutex_t lock;
	struct hash_table live;
	struct hash_table dead;
	struct handle *fifo_head;       /* oldest */
	struct handle *fifo_tail;
	size_t nr_fifo;
	size_t max_dead;
};

#define HANDLE_SET_INIT(name, max) {                                      \
	.lock = PTHREAD_MUTEX_INITIALIZER,                                \
	.live = { .lists = (name).live.embedded, .bits = HASH_INIT_BITS,  \
		  .nr_lists = HASH_INIT_LISTS },                          \
	.dead = { .lists = (name).dead.embedded, .bits = HASH_INIT_BITS,  \
		  .nr_lists = HASH_INIT_LISTS },                          \
	.max_dead = (max),                                                \
}

/* The object whose struct handle (member) is at h. */
#define handle_owner(h, type, member) \
	((type *)(void *)((char *)(h) - offsetof(type, member)))

/* fork.c: the set's lock, taken and given back around fork(). */
void handle_fork_lock(struct handle_set *s);
void handle_fork_unlock(struct handle_set *s);

/* Registers obj (whose struct handle is h) as live. */
void handle_register(struct handle_set *s, struct handle *h, const void *obj);

/* What obj is: live, being destroyed, dead (in quarantine), or unknown.
 * Reads *obj only if it is registered. */
enum handle_state handle_lookup(struct handle_set *s, const void *obj);

/* For destroy: LIVE -> DYING.  Returns the state obj had; the claim
 * happened if and only if that is HANDLE_LIVE. */
enum handle_state handle_claim(struct handle_set *s, const void *obj);
/* A destroy that gave up: DYING -> LIVE. */
void handle_unclaim(struct handle_set *s, struct handle *h);

/* Moves a claimed object to the quarantine.  If that pushes an older
 * object out, *evicted is its handle (the caller frees the object), else
 * NULL. */
void handle_kill(struct handle_set *s, struct handle *h, bool forever,
		 struct handle **evicted);

#endif /* MAGSLAB_HANDLE_H */
