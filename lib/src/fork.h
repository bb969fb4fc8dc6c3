/*
 * fork.h — what each module does for fork(); fork.c runs the steps in the
 * one order that cannot deadlock (its head comment).
 *
 * Every *_fork_lock takes the module's locks and returns holding them; the
 * matching *_fork_unlock gives them back in the parent and in the child
 * (child: true), where it also resets what only the parent's other threads
 * could have been in the middle of.
 */
#ifndef MAGSLAB_FORK_H
#define MAGSLAB_FORK_H

#include <stdbool.h>

/* cache.c: cache_list_lock, then every cache's pccs, then every depot,
 * then every slab lock (user caches, then the internal ones); its leaf,
 * cache_handles. */
void cache_fork_lock(void);
void cache_fork_lock_leaves(void);
void cache_fork_unlock(bool child);

/* slab.c's leaf: debug_pages_lock. */
void slab_fork_lock_leaves(void);
void slab_fork_unlock_leaves(void);

/* arena.c: arena_list_lock, every arena but base, base; then its leaf,
 * arena_handles. */
void arena_fork_lock(void);
void arena_fork_lock_leaves(void);
void arena_fork_unlock(bool child);

/* config.c and error.c: one leaf each. */
void config_fork_lock(void);
void config_fork_unlock(void);
void error_fork_lock(void);
void error_fork_unlock(void);

/* Registers the pthread_atfork handlers, once per process. */
void magslab_fork_register(void);

#endif /* MAGSLAB_FORK_H */
