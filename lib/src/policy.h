/*
 * policy.h — the depot's magazine-resize policies (see magslab/slab.h for
 * each rule in words).
 *
 * Owns: the policy table and the policy state inside struct depot (the
 * contention window, interval counters, working-set estimate).  The
 * magazine lists of the depot belong to depot.c; a policy only reads their
 * counts, changes d->magsize through depot_set_magsize(), and asks for a
 * purge by setting d->purge_pending (depot.c does the purge, since only it
 * can free rounds).  struct depot is declared here, laid out below.
 *
 * Locking: every function here is called with d->lock held and takes no
 * lock itself.
 */
#ifndef MAGSLAB_POLICY_H
#define MAGSLAB_POLICY_H

#include "mslock.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct magazine;

enum resize_reason {
	RESIZE_THRESHOLD = 0,   /* akaros/adaptive: busy_count > threshold */
	RESIZE_INTERVAL,        /* illumos: failed trylocks per interval */
	RESIZE_CONTENDED,       /* uma: one contended acquire */
	RESIZE_SHRINK,          /* adaptive: idle working set */
	RESIZE_REAP,            /* uma: reclaim */
	RESIZE_USER,            /* kmem_cache_set_magsize() */
};

/*
 * The depot, laid out by who writes what: at two or more CPUs a visit costs
 * the cache lines it moves between them more than its instructions.  (On
 * the 2-CPU VM of bench/results/alloc.md the batch pattern at 2 threads did
 * not measurably change with this layout: see "batch at 2 threads" there.)
 *   line 1  what every exchange writes: the lock, the lists, their counts
 *           and the exchange counter — one line moves per uncontended visit;
 *   line 2  what every visit reads and almost none writes (magsize, the
 *           policy, the purge flag): it stays shared in every CPU's cache;
 *   after   what contended visits, interval policies and misses write.
 * Aligned so that line 1 is one line (caches are page-aligned: cache.c).
 */
struct depot {
	/* Line 1: written by every exchange. */
	struct ms_lock lock;            /* spin, then yield: mslock.h */
	/* Magazine lists (depot.c).  not_empty: magazines with rounds. */
	struct magazine *not_empty;
	struct magazine *empty;
	size_t nr_not_empty;
	size_t nr_empty;
	/* Exchanges by side (0 alloc, 1 free).  Each is one get and one put
	 * (the magazine taken off one list is replaced by the visitor's prev
	 * on the other), so depot_gets[side] == depot_puts[side] ==
	 * exchanges[side] in kmem_cache_stats(): one counter, not two. */
	uint64_t exchanges[2];

	/* Line 2: read by every visit, written by resizes, purges and setters. */
	_Alignas(64) unsigned int magsize; /* MAG_MIN_ROUNDS..MAG_MAX_ROUNDS */
	uint32_t cache_id;              /* for trace events */
	/* Policy and tunables (changeable while in use, under lock). */
	const struct resize_policy *policy;
	bool uses_intervals;            /* policy->uses_intervals, one load less */
	/* illumos purge: depot.c empties the depot and bumps purge_gen;
	 * a pcc whose gen differs drops its magazines. */
	bool purge_pending;
	uint64_t purge_gen;
	uint64_t threshold;
	uint64_t timeout_ns;
	uint64_t magsize_up;
	uint64_t magsize_down;

	/* After: written by contended visits, interval policies, misses. */
	_Alignas(64) uint64_t busy_count;       /* akaros / adaptive window */
	uint64_t busy_start;
	/* illumos / adaptive intervals. */
	uint64_t interval_start;
	uint64_t interval_contended;    /* counted (adaptive) or all (illumos) */
	size_t ws_min_not_empty;        /* fewest not-empty mags this interval */
	size_t ws_idle_last;            /* ... in the last closed interval */
	unsigned int quiet_intervals;   /* adaptive hysteresis */
	unsigned int skip_intervals;    /* illumos: not judged after a resize */
	bool grew_this_interval;

	/* Counters (under lock). */
	uint64_t contended;             /* failed trylocks */
	uint64_t contended_counted;     /* ... the policy counted */
	uint64_t wait_ns;
	uint64_t wait_max_ns;
	uint64_t misses[2];
};
_Static_assert(offsetof(struct depot, magsize) == 64,
	       "what every exchange writes is one cache line");

struct resize_policy {
	const char *name;
	unsigned int id;        /* the trace enum: akaros 0, illumos 1, uma 2, adaptive 3 */
	/* acquired() does work (intervals): callers must then read the clock
	 * on every acquisition; otherwise only contention reads it. */
	bool uses_intervals;
	/* After a failed trylock and the blocking acquire.  now: after the
	 * acquire.  Returns true if the policy counted it. */
	bool (*contended)(struct depot *d, uint64_t now);
	/* After every acquisition (contended or not), after contended(). */
	void (*acquired)(struct depot *d, uint64_t now);
	/* From kmem_cache_reap(): how many idle not-empty and empty magazines
	 * the caller should free; may also change magsize. */
	void (*reap)(struct depot *d, uint64_t now, size_t *free_full,
		     size_t *free_empty);
};

/* NULL if no policy has that name. */
const struct resize_policy *policy_by_name(const char *name);
const struct resize_policy *policy_default(void);
/* "akaros, illumos, uma, adaptive" — for messages and --help. */
const char *policy_names(void);

/* Sets up d's policy state (d->lock and the lists are magazine.c's). */
void depot_policy_init(struct depot *d, const struct resize_policy *p,
		       uint64_t threshold, uint64_t timeout_ns,
		       unsigned int magsize, uint64_t now);
/* Switches policy, restarting its window/interval state. */
void depot_policy_switch(struct depot *d, const struct resize_policy *p,
			 uint64_t now);

/* Sets the depot magsize (clamped to [MAG_MIN_ROUNDS, MAG_MAX_ROUNDS]),
 * counting up/down changes; returns the new value. */
unsigned int depot_set_magsize(struct depot *d, unsigned int magsize,
			       enum resize_reason why);

const char *resize_reason_name(enum resize_reason why);

#endif /* MAGSLAB_POLICY_H */
