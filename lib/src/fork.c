/*
 * fork.c — fork() in a process whose threads use magslab: the child gets an
 * allocator in a consistent state that it can use (a malloc replacement
 * cannot do without this).
 *
 * Owns: the pthread_atfork registration and the order of the steps.  The
 * locks themselves belong to the modules (fork.h).
 *
 * The problem: fork() copies the memory of the whole process but only the
 * calling thread.  A lock held by another thread at that moment stays held
 * in the child, and nobody there will ever release it; the data it guards
 * may be half updated.  So before fork (prepare) the forking thread takes
 * every magslab lock, which waits for every other thread to leave every
 * critical section; after fork, parent and child both give them back.
 *
 * The order is the lock order of the whole library, outermost first, so
 * that prepare can never deadlock with a thread that is still working:
 *
 *   1. cache_list_lock                (cache.c: taken with nothing held)
 *   2. every pcc of every cache       (a held pcc is a lock: pcc.h; taken
 *                                      with nothing held but the list)
 *   3. every depot lock               (taken under a pcc)
 *   4. every user cache's slab lock, then the internal caches' (slab header,
 *      bufctl, magazine: taken under a user cache's slab or depot lock)
 *   5. arena_list_lock, every arena but base, then base (an arena takes
 *      base's lock under its own, for tags)
 *   6. the leaves, taken under anything, nothing under them:
 *      debug_pages_lock, the two handle sets, config_lock, the error
 *      handler's lock.
 *
 * Invariants: between prepare and the parent/child handlers the forking
 * thread holds all of the above; no other thread holds any.
 *
 * FAQ:
 * - Why hold the pccs too, not only the locks?  In the rseq mode a pcc is
 *   "held" by writing its owner into `hot`; a thread that was inside a slow
 *   path owning one would leave it owned forever in the child.  Holding all
 *   of them also means no pcc is in the middle of a swap or exchange.
 * - Why reset anything in the child?  A waiter of the parent may have
 *   raised a lock's `want` hint (mslock.h); in the child that waiter does
 *   not exist, and every later trylock would defer to it.  MEM_WAIT
 *   sleepers' condition variables are re-made for the same reason.
 * - What does prepare cost?  Every pcc is held from outside its CPU: in
 *   the rseq mode one membarrier fence per pcc (pcc.c FAQ), so a few
 *   microseconds per cache per CPU.
 * - pthread_once: a once that another thread was running at the moment of
 *   fork cannot be finished in the child.  The onces run at first use (the
 *   library's set-up, the rseq probe); a process that forks while another
 *   thread makes its very first cache could still hang.  Not handled.
 */
#include "fork.h"

#include <pthread.h>

static void fork_prepare(void)
{
	cache_fork_lock();
	arena_fork_lock();
	slab_fork_lock_leaves();
	cache_fork_lock_leaves();
	arena_fork_lock_leaves();
	config_fork_lock();
	error_fork_lock();
}

static void fork_release(bool child)
{
	error_fork_unlock();
	config_fork_unlock();
	arena_fork_unlock(child);
	slab_fork_unlock_leaves();
	cache_fork_unlock(child);
}

static void fork_parent(void)
{
	fork_release(false);
}

static void fork_child(void)
{
	fork_release(true);
}

static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

static void fork_register_once(void)
{
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

void magslab_fork_register(void)
{
	pthread_once(&fork_once, fork_register_once);
}
