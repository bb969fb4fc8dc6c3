/*
 * pcc.h — the per-CPU cache (pcc): its structure and how a thread gets
 * exclusive use of one, in either of the two modes.
 *
 * Owns: the layout of struct pcc and the rules for touching it.  What a pcc
 * *does* with its magazines (hits, swaps, depot visits) is magazine.c's; how
 * the exclusion works is pcc.c's (the locked mode's lock, the rseq mode's
 * ownership and membarrier fence, and the choice between the two).
 *
 * Two modes, fixed per cache at creation (kc->pcc_mode):
 *
 *   locked  `lock` is a spinning-then-yielding lock (mslock.h) taken around
 *           every operation.  Used where rseq cannot serve: slots per
 *           thread, fewer slots than CPUs, rseq or membarrier unavailable,
 *           non-x86-64, ThreadSanitizer builds, or MAGSLAB_PCC_MODE=locked.
 *   rseq    a hit (alloc from a loaded magazine with rounds, free into one
 *           with room) runs in a restartable sequence on the current CPU's
 *           pcc and commits with one plain store of `hot`; nothing is locked.
 *           Everything else first makes itself the pcc's owner (its token
 *           in `hot`: a restartable sequence on the pcc's own CPU, or from
 *           elsewhere a compare-and-swap plus a membarrier fence on that
 *           CPU); fast paths see the owner and step aside.  The argument: pcc.c's FAQ.
 *
 * Held or not, in both modes: while a thread holds a pcc (pcc_enter /
 * pcc_hold), the pcc looks the same in both modes — loaded->nr_rounds is the
 * loaded magazine's round count and allocs/frees/hits are exact — so that
 * magazine.c's slow paths, stats and drain are written once.
 *
 * Lock order: pcc -> depot -> slab -> arena.  A held pcc is a lock in that
 * order, whatever the mode.
 */
#ifndef MAGSLAB_PCC_H
#define MAGSLAB_PCC_H

#include <magslab/slab.h>

#include "cpu.h"
#include "mslock.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct kmem_cache;
struct magazine;

/* Can this build run the rseq mode at all?  x86-64 assembly, glibc's rseq
 * area, and not ThreadSanitizer (it cannot see a restartable sequence: every
 * committed store would look like a data race, every abort like a lost one). */
#if defined(__SANITIZE_THREAD__)
# define PCC_TSAN 1
#elif defined(__has_feature)
# if __has_feature(thread_sanitizer)
#  define PCC_TSAN 1
# endif
#endif
#ifndef PCC_TSAN
# define PCC_TSAN 0
#endif
#if defined(__x86_64__) && MAGSLAB_HAVE_RSEQ && !PCC_TSAN
# define PCC_RSEQ_CAPABLE 1
#else
# define PCC_RSEQ_CAPABLE 0
#endif

enum pcc_mode {
	PCC_MODE_LOCKED = 0,
	PCC_MODE_RSEQ = 1,
	PCC_MODE_NONE = 2,              /* no magazine layer (KMC_NOMAG) */
};

/*
 * `hot` in rseq mode is the pcc's fast-path word and its ownership word.
 * Unowned: the loaded magazine's round count in the low byte (0..62), the
 * number of fast-path hits since the last fold above it.  A hit adds
 * HOT_ALLOC (one round less, one hit more) or HOT_FREE (one more, one
 * more); rounds never pass MAG_MAX_ROUNDS, so the low byte never carries,
 * and a hit count about to overflow its 56 bits sets the carry flag, on
 * which the fast path steps aside so the slow path folds it (pcc.c).
 * Owned: HOT_OWNED(token): 0xff in the low byte, which no round count can
 * be and which makes both fast paths step aside (an alloc takes only 1..62
 * rounds, a free only below magsize), and the owner's token above it; what
 * hot held before is in hot_saved.
 */
#define HOT_ROUNDS_MASK 0xffull
#define HOT_OPS_SHIFT   8
#define HOT_ALLOC       0xffull         /* (1 << 8) - 1 */
#define HOT_FREE        0x101ull        /* (1 << 8) + 1 */
#define HOT_OWNED_MARK  0xffull
#define HOT_OWNED(token) (((uint64_t)(token) << HOT_OPS_SHIFT) | HOT_OWNED_MARK)

static inline bool hot_is_owned(uint64_t hot)
{
	return (hot & HOT_ROUNDS_MASK) == HOT_OWNED_MARK;
}

/*
 * A per-CPU cache.  The first 40 bytes are what the rseq fast paths read,
 * at the offsets pcc_rseq.h takes from here; the counters after them are
 * touched only by a holder.  128 bytes, so that pccs[cpu] is one shift.
 */
struct pcc {
	union {
		struct ms_lock lock;    /* locked mode (mslock.h) */
		uint64_t hot_saved;     /* rseq mode: hot when it was taken */
	};
	_Atomic uint64_t hot;           /* rseq mode: see above */
	struct magazine *loaded;
	unsigned int fill;              /* rseq: what loaded takes, at most */
	uint16_t magsize;               /* fill magazines up to this */
	uint16_t hot_base;              /* rseq: loaded's rounds at last leave */

	struct magazine *prev;
	uint32_t cache_id;              /* for trace events */
	uint32_t slot;                  /* this pcc's index (= CPU in rseq) */
	uint64_t purge_gen;             /* == depot.purge_gen unless purged */
	/* Counters, exact whenever the pcc is held. */
	uint64_t allocs;
	uint64_t frees;
	uint64_t hits;
	uint64_t swaps[2];
	uint64_t contended;             /* found held by another thread */
	uint64_t wait_ns;
	uint64_t aborts;                /* rseq: fast paths the kernel restarted */
} __attribute__((aligned(64)));

#define PCC_SHIFT 7
_Static_assert(sizeof(struct pcc) == 1u << PCC_SHIFT,
	       "pccs[cpu] is found with one shift");
_Static_assert(offsetof(struct pcc, fill) < 64,
	       "what a fast path reads is in the pcc's first cache line");

/* ---- mode choice (pcc.c) ---------------------------------------------- */

/* The mode a new cache with these settings gets.  *why says why it is not
 * rseq (a constant string), or is NULL. */
enum pcc_mode pcc_mode_choose(enum magslab_pcc_mode requested,
			      unsigned int nr_slots, enum magslab_pcc_map map,
			      const char **why);
const char *pcc_mode_name(enum pcc_mode mode);

/* ---- locked mode -------------------------------------------------------- */

/* Waits for p's lock after a failed try, counting the contention. */
void pcc_lock_slow(struct pcc *p);

static inline void pcc_lock(struct pcc *p)
{
	if (__builtin_expect(!atomic_load_explicit(&p->lock.want,
						   memory_order_relaxed) &&
			     !atomic_exchange_explicit(&p->lock.word, 1,
						       memory_order_acquire), 1))
		return;
	pcc_lock_slow(p);
}

static inline void pcc_unlock(struct pcc *p)
{
	ms_unlock(&p->lock);
}

/* ---- rseq mode ------------------------------------------------------------ */

/* The calling thread's CPU's pcc of pccs[0..nr), owned and folded (see
 * "Counters" in pcc.c); aborts: restarted fast paths to count on it. */
struct pcc *pcc_rseq_enter(struct pcc *pccs, unsigned int nr,
			   unsigned int aborts);
/* pccs[slot] owned and folded, from any thread and any CPU. */
void pcc_rseq_hold(struct pcc *p);

/* Gives an owned pcc back: how many rounds the loaded magazine takes at
 * most (fill: its capacity or the magsize, the smaller), its count and a
 * zero hit count into `hot`, which also ends the ownership.  (The release
 * store orders every store of the holder before it; fast paths read
 * nothing of the pcc before hot, and x86 does not reorder loads.) */
static inline void pcc_rseq_leave(struct pcc *p, unsigned int loaded_rounds,
				  unsigned int fill)
{
	p->fill = fill;
	p->hot_base = (uint16_t)loaded_rounds;
	atomic_store_explicit(&p->hot, loaded_rounds, memory_order_release);
}

/* A new pcc's rseq fields: no owner, nothing counted, loaded empty. */
static inline void pcc_init_hot(struct pcc *p, unsigned int fill)
{
	atomic_init(&p->hot, 0);
	p->fill = fill;
	p->hot_base = 0;
}

#endif /* MAGSLAB_PCC_H */
