/*
 * policy.c — the depot's magazine-resize policies: akaros, illumos, uma and
 * adaptive (magslab/slab.h states each rule in words; policy.h is the
 * interface).
 *
 * Owns: the policy table and the policy fields of struct depot (threshold,
 * timeout_ns, the akaros window busy_count/busy_start, the interval fields
 * interval_start/interval_contended/quiet_intervals/grew_this_interval, the
 * working-set estimate ws_min_not_empty/ws_idle_last), plus d->magsize and
 * the magsize_up/magsize_down counters, which change only through
 * depot_set_magsize().  It reads nr_not_empty and nr_empty and never touches
 * the lists; it sets purge_pending and leaves clearing it (and purge_gen) to
 * magazine.c.  The contended/contended_counted counters are the caller's:
 * it bumps them from contended()'s return value.
 *
 * Invariants (after every call here):
 * - MAG_MIN_ROUNDS <= d->magsize <= MAG_MAX_ROUNDS (once initialised);
 * - magsize_up and magsize_down count calls that changed magsize, one per
 *   call whatever the step;
 * - busy_count <= threshold, since it is reset the moment it passes it;
 * - ws_min_not_empty is the fewest not-empty magazines the depot was seen
 *   holding since interval_start; ws_idle_last is that figure for the
 *   interval before (less whatever a reap has since freed).
 *
 * Time: `now` is nanoseconds from magslab_now_ns(), read after the depot
 * lock is taken, so it does not decrease from one call to the next.  All
 * "has the window passed" tests use unsigned `now - start`: a clock that
 * did go backwards (a test resetting its fake clock) wraps to a huge
 * difference and simply restarts the window or interval at `now`.
 *
 * Intervals (illumos, adaptive) are closed lazily, by the first depot call
 * at or after interval_start + timeout_ns, and the next one starts at that
 * call's `now`.  A depot nobody touches therefore closes one long interval,
 * not many: it was quiet all along, and nothing here needs to run while
 * nobody uses the cache.
 *
 * Locking: every function is called with d->lock held (or, in tests, on a
 * depot no other thread can see) and takes no lock.
 *
 * FAQ:
 * - Why do akaros, uma and adaptive ignore contention while the depot has no
 *   not-empty magazine?  Then the threads queue for magazines that do not
 *   exist: they will all go on to the slab layer, and the depot has nothing
 *   bigger magazines would let it hand out less often.  It is Akaros's rule
 *   ("for lack of magazines, not for their size").  UMA itself counts every
 *   contended lock, but applying the same filter keeps the uma policy
 *   comparable with akaros: the two then differ only in the window and
 *   threshold (uma grows on every counted event) and in shrinking on reap.
 * - Why does illumos count every failed trylock?  kmem_depot_alloc() does:
 *   it bumps cache_depot_contention whenever mutex_tryenter() fails, with no
 *   look at the lists.  Its per-interval threshold is the only filter.
 * - Why does illumos ask for a purge?  In illumos a magazine's size is its
 *   kmem cache (one cache per magazine type), so a resize must destroy every
 *   CPU's and the depot's magazines and start again.  magslab magazines all
 *   have room for MAG_MAX_ROUNDS and would not need it; the policy asks for
 *   the purge anyway so that measurements include the cost illumos pays.
 * - Why does illumos grow only at interval close, not the moment the count
 *   passes the threshold?  kmem_cache_update() runs on a timer and compares
 *   the count with the previous interval's; nothing reacts in between.
 * - Why does a contention that arrives after the interval ended count in the
 *   next interval?  It happened in the next interval.  Both the contended
 *   and the acquired hook first close an interval that has run out, then
 *   count, so "more than threshold in one interval" means exactly that.
 * - Why does reap lower the working-set figures?  The caller frees the
 *   magazines reap names; without the subtraction a second reap before the
 *   next acquisition would free as many again, though those were not idle.
 * - Why do akaros and uma let reap free every empty magazine?  An empty
 *   magazine holds no object, so freeing it loses nothing but the cost of
 *   allocating another on some later free.  They free no full magazines:
 *   the akaros rule keeps no working-set estimate to say which are idle,
 *   and UMA's counterpart (trimming to its WSS estimate) is not part of the
 *   uma rule here; uma's reap is the bucket-size decrement of
 *   bucket_cache_reclaim().
 */
#include "policy.h"
#include "clock.h"
#include "trace.h"

#include <magslab/slab.h>

#include <string.h>

/* ---- magsize ---------------------------------------------------------- */

unsigned int depot_set_magsize(struct depot *d, unsigned int magsize,
			       enum resize_reason why)
{
	if (magsize < MAG_MIN_ROUNDS)
		magsize = MAG_MIN_ROUNDS;
	if (magsize > MAG_MAX_ROUNDS)
		magsize = MAG_MAX_ROUNDS;
	if (magsize == d->magsize)
		return magsize;
	if (magsize > d->magsize)
		d->magsize_up++;
	else
		d->magsize_down++;
	/* The window's age costs a clock read: only when it is recorded.
	 * The reason goes only to the event; the counters do not split. */
	if (ms_trace_enabled(magsize_bump))
		ms_trace(magsize_bump, d->cache_id, d->magsize, magsize,
			 (int)why, d->busy_count,
			 magslab_now_ns() - d->busy_start);
	d->magsize = magsize;
	return magsize;
}

/* One round up or down; true if magsize changed.  The bound checks keep
 * magsize - 1 from wrapping and make "at the limit" a visible no-op. */
static bool grow_one(struct depot *d, enum resize_reason why)
{
	if (d->magsize >= MAG_MAX_ROUNDS)
		return false;
	depot_set_magsize(d, d->magsize + 1, why);
	return true;
}

static bool shrink_one(struct depot *d, enum resize_reason why)
{
	if (d->magsize <= MAG_MIN_ROUNDS)
		return false;
	depot_set_magsize(d, d->magsize - 1, why);
	return true;
}

const char *resize_reason_name(enum resize_reason why)
{
	switch (why) {
	case RESIZE_THRESHOLD:
		return "threshold";
	case RESIZE_INTERVAL:
		return "interval";
	case RESIZE_CONTENDED:
		return "contended";
	case RESIZE_SHRINK:
		return "shrink";
	case RESIZE_REAP:
		return "reap";
	case RESIZE_USER:
		return "user";
	}
	return "unknown";
}

/* ---- building blocks shared by several policies ------------------------ */

/* Akaros's window (akaros and adaptive): restart it if more than timeout_ns
 * passed since it began, count this contention, and grow one round once the
 * count passes the threshold.  True if magsize grew. */
static bool window_count(struct depot *d, uint64_t now)
{
	if (now - d->busy_start > d->timeout_ns) {
		d->busy_count = 0;
		d->busy_start = now;
	}
	d->busy_count++;
	if (d->busy_count <= d->threshold)
		return false;
	d->busy_count = 0;
	return grow_one(d, RESIZE_THRESHOLD);
}

/* The working set, as illumos's ml_min: the fewest not-empty magazines the
 * depot has been seen holding this interval. */
static void ws_observe(struct depot *d)
{
	if (d->nr_not_empty < d->ws_min_not_empty)
		d->ws_min_not_empty = d->nr_not_empty;
}

/* Closes the interval if it has run out: observe the depot (its count now
 * is its count when the interval ended, since nothing changes the lists
 * without taking the lock), let the policy judge the closed interval, then
 * start the next one, as kmem_depot_ws_update() does: the closed interval's
 * minimum becomes the reap limit and the new minimum starts at the count. */
static void interval_tick(struct depot *d, uint64_t now,
			  void (*judge)(struct depot *d))
{
	ws_observe(d);
	if (now - d->interval_start < d->timeout_ns)
		return;
	judge(d);
	d->ws_idle_last = d->ws_min_not_empty;
	d->ws_min_not_empty = d->nr_not_empty;
	d->interval_contended = 0;
	d->grew_this_interval = false;
	d->interval_start = now;
}

/* illumos kmem_depot_ws_reap(): the not-empty magazines unused through the
 * last closed interval and the current one.  They leave both figures, as
 * the caller is about to free them. */
static size_t ws_reap(struct depot *d)
{
	size_t n;

	ws_observe(d);
	n = d->ws_idle_last < d->ws_min_not_empty ? d->ws_idle_last
						  : d->ws_min_not_empty;
	d->ws_idle_last -= n;
	d->ws_min_not_empty -= n;
	return n;
}

static void no_acquired(struct depot *d, uint64_t now)
{
	(void)d;
	(void)now;
}

/* ---- akaros: window and threshold, never shrinks ----------------------- */

static bool akaros_contended(struct depot *d, uint64_t now)
{
	if (d->nr_not_empty == 0)
		return false;           /* for lack of magazines: not counted */
	window_count(d, now);
	return true;
}

static void akaros_reap(struct depot *d, uint64_t now, size_t *free_full,
			size_t *free_empty)
{
	(void)now;
	*free_full = 0;
	*free_empty = d->nr_empty;
}

static const struct resize_policy policy_akaros = {
	.name = "akaros",
	.id = 0,
	.contended = akaros_contended,
	.acquired = no_acquired,
	.reap = akaros_reap,
};

/* ---- illumos: failed trylocks per interval, grow + purge --------------- */

static void illumos_judge(struct depot *d)
{
	/* After a resize, illumos sets cache_depot_contention_prev to
	 * contention + INT_MAX so the next delta is negative: the interval
	 * right after a purge, when every pcc refills from an empty depot,
	 * is never judged.  Without it a purge would feed the next grow. */
	if (d->skip_intervals) {
		d->skip_intervals--;
		return;
	}
	/* kmem_cache_update(): delta > kmem_depot_contention -> resize. */
	if (d->interval_contended > d->threshold &&
	    grow_one(d, RESIZE_INTERVAL)) {
		d->purge_pending = true;
		d->skip_intervals = 1;
	}
}

static bool illumos_contended(struct depot *d, uint64_t now)
{
	interval_tick(d, now, illumos_judge);
	d->interval_contended++;
	return true;
}

static void illumos_acquired(struct depot *d, uint64_t now)
{
	interval_tick(d, now, illumos_judge);
}

static void illumos_reap(struct depot *d, uint64_t now, size_t *free_full,
			 size_t *free_empty)
{
	(void)now;
	*free_full = ws_reap(d);
	*free_empty = d->nr_empty;
}

static const struct resize_policy policy_illumos = {
	.name = "illumos",
	.id = 1,
	.uses_intervals = true,
	.contended = illumos_contended,
	.acquired = illumos_acquired,
	.reap = illumos_reap,
};

/* ---- uma: +1 per counted contention, -1 per reap ----------------------- */

static bool uma_contended(struct depot *d, uint64_t now)
{
	(void)now;
	if (d->nr_not_empty == 0)
		return false;           /* see the FAQ */
	grow_one(d, RESIZE_CONTENDED);  /* zone_domain_lock(): uz_bucket_size++ */
	return true;
}

static void uma_reap(struct depot *d, uint64_t now, size_t *free_full,
		     size_t *free_empty)
{
	(void)now;
	shrink_one(d, RESIZE_REAP);     /* bucket_cache_reclaim(): size-- */
	*free_full = 0;
	*free_empty = d->nr_empty;
}

static const struct resize_policy policy_uma = {
	.name = "uma",
	.id = 2,
	.contended = uma_contended,
	.acquired = no_acquired,
	.reap = uma_reap,
};

/* ---- adaptive: akaros growth, shrink on an idle working set ------------ */

static void adaptive_judge(struct depot *d)
{
	bool quiet = d->interval_contended == 0 && d->ws_min_not_empty >= 2;

	d->quiet_intervals = quiet ? d->quiet_intervals + 1 : 0;
	/* Two quiet intervals in a row, and none right after a grow. */
	if (d->quiet_intervals >= 2 && !d->grew_this_interval) {
		shrink_one(d, RESIZE_SHRINK);
		d->quiet_intervals = 0;
	}
}

static bool adaptive_contended(struct depot *d, uint64_t now)
{
	interval_tick(d, now, adaptive_judge);
	if (d->nr_not_empty == 0)
		return false;           /* as akaros */
	d->interval_contended++;
	if (window_count(d, now))
		d->grew_this_interval = true;
	return true;
}

static void adaptive_acquired(struct depot *d, uint64_t now)
{
	interval_tick(d, now, adaptive_judge);
}

static const struct resize_policy policy_adaptive = {
	.name = "adaptive",
	.id = 3,
	.uses_intervals = true,
	.contended = adaptive_contended,
	.acquired = adaptive_acquired,
	.reap = illumos_reap,           /* the same working-set reap */
};

/* ---- the table --------------------------------------------------------- */

static const struct resize_policy *const policies[] = {
	&policy_akaros,
	&policy_illumos,
	&policy_uma,
	&policy_adaptive,
};

const struct resize_policy *policy_by_name(const char *name)
{
	size_t i;

	if (!name)
		return NULL;
	for (i = 0; i < sizeof(policies) / sizeof(policies[0]); i++)
		if (strcmp(policies[i]->name, name) == 0)
			return policies[i];
	return NULL;
}

const struct resize_policy *policy_default(void)
{
	return &policy_akaros;
}

const char *policy_names(void)
{
	return "akaros, illumos, uma, adaptive";
}

/* ---- per-depot set-up -------------------------------------------------- */

void depot_policy_switch(struct depot *d, const struct resize_policy *p,
			 uint64_t now)
{
	d->policy = p ? p : policy_default();
	d->uses_intervals = d->policy->uses_intervals;
	d->busy_count = 0;
	d->busy_start = now;
	d->interval_start = now;
	d->interval_contended = 0;
	/* No interval has closed under this policy: nothing counts as idle
	 * yet, so a reap frees no full magazine until one has. */
	d->ws_min_not_empty = d->nr_not_empty;
	d->ws_idle_last = 0;
	d->quiet_intervals = 0;
	d->skip_intervals = 0;
	d->grew_this_interval = false;
}

void depot_policy_init(struct depot *d, const struct resize_policy *p,
		       uint64_t threshold, uint64_t timeout_ns,
		       unsigned int magsize, uint64_t now)
{
	d->threshold = threshold;
	d->timeout_ns = timeout_ns;
	/* The starting size is not a resize: set it without counting. */
	if (magsize < MAG_MIN_ROUNDS)
		magsize = MAG_MIN_ROUNDS;
	if (magsize > MAG_MAX_ROUNDS)
		magsize = MAG_MAX_ROUNDS;
	d->magsize = magsize;
	d->purge_pending = false;
	depot_policy_switch(d, p, now);
}
