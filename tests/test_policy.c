/*
 * test_policy.c — cmocka tests for the magazine-resize policies (policy.h,
 * rules in magslab/slab.h) and the clock override (clock.h).
 *
 * Each test drives one policy on a depot built here (zeroed; the fields a
 * policy reads are set by hand) with explicit `now` values, so nothing
 * sleeps and no lock is taken.  An "acquisition" is what magazine.c does
 * after taking the depot lock: contended() if the trylock failed, then
 * acquired().  Every test also pins magsize_up / magsize_down.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <string.h>

#include <magslab/slab.h>

#include "clock.h"
#include "policy.h"

#define T 1000u         /* timeout_ns used by most tests */

/* A zeroed depot under policy `name`, at magsize `magsize`, time 0. */
static void depot_make(struct depot *d, const char *name, uint64_t threshold,
		       uint64_t timeout_ns, unsigned int magsize,
		       size_t nr_not_empty)
{
	const struct resize_policy *p = policy_by_name(name);

	assert_non_null(p);
	memset(d, 0, sizeof(*d));
	d->nr_not_empty = nr_not_empty;
	depot_policy_init(d, p, threshold, timeout_ns, magsize, 0);
	assert_ptr_equal(d->policy, p);
	assert_int_equal(d->magsize, magsize);
}

/* A contended acquisition at now; returns whether the policy counted it. */
static bool contend(struct depot *d, uint64_t now)
{
	bool counted = d->policy->contended(d, now);

	d->policy->acquired(d, now);
	return counted;
}

/* An uncontended acquisition at now. */
static void acquire(struct depot *d, uint64_t now)
{
	d->policy->acquired(d, now);
}

static void reap(struct depot *d, uint64_t now, size_t *full, size_t *empty)
{
	*full = 12345;
	*empty = 12345;
	d->policy->reap(d, now, full, empty);
}

static void assert_sizes(const struct depot *d, unsigned int magsize,
			 uint64_t up, uint64_t down)
{
	assert_int_equal(d->magsize, magsize);
	assert_int_equal(d->magsize_up, up);
	assert_int_equal(d->magsize_down, down);
}

/* ---- akaros ------------------------------------------------------------ */

/* A counted contention more than timeout_ns after the window began starts
 * a new window at its own time, and the old count is forgotten. */
static void test_akaros_window_restart(void **state)
{
	struct depot d;

	(void)state;
	depot_make(&d, "akaros", 1, T, 8, 4);  /* window starts at 0 */
	assert_true(contend(&d, 10));
	assert_int_equal(d.busy_start, 0);
	assert_int_equal(d.busy_count, 1);
	assert_sizes(&d, 8, 0, 0);

	/* T + 1 - 0 > T: restart at T + 1, count 1, no grow. */
	assert_true(contend(&d, T + 1));
	assert_int_equal(d.busy_start, T + 1);
	assert_int_equal(d.busy_count, 1);
	assert_sizes(&d, 8, 0, 0);

	/* The new window counts from there. */
	assert_true(contend(&d, T + 2));
	assert_int_equal(d.busy_count, 0);
	assert_sizes(&d, 9, 1, 0);
}

/* Exactly timeout_ns later is still inside the window. */
static void test_akaros_window_boundary(void **state)
{
	struct depot d;

	(void)state;
	depot_make(&d, "akaros", 1, T, 8, 4);
	/* init started the window at 0 */
	assert_true(contend(&d, 0));
	assert_int_equal(d.busy_count, 1);
	assert_true(contend(&d, T));            /* T - 0 == T: same window */
	assert_int_equal(d.busy_count, 0);
	assert_int_equal(d.busy_start, 0);
	assert_sizes(&d, 9, 1, 0);

	assert_true(contend(&d, T + 1));        /* T + 1 - 0 > T: restart */
	assert_int_equal(d.busy_start, T + 1);
	assert_int_equal(d.busy_count, 1);
	assert_sizes(&d, 9, 1, 0);
}

/* Threshold 1 (the default): two counted contentions in a window grow by
 * one, and the count starts again from zero. */
static void test_akaros_threshold_one(void **state)
{
	struct depot d;

	(void)state;
	depot_make(&d, "akaros", 1, T, 8, 4);
	assert_true(contend(&d, 10));
	assert_sizes(&d, 8, 0, 0);
	assert_true(contend(&d, 20));
	assert_sizes(&d, 9, 1, 0);
	assert_int_equal(d.busy_count, 0);
	assert_true(contend(&d, 30));
	assert_sizes(&d, 9, 1, 0);
	assert_true(contend(&d, 40));
	assert_sizes(&d, 10, 2, 0);
}

/* Threshold 3: it takes four. */
static void test_akaros_threshold_three(void **state)
{
	struct depot d;
	int i;

	(void)state;
	depot_make(&d, "akaros", 3, T, 8, 4);
	for (i = 1; i <= 3; i++) {
		assert_true(contend(&d, (uint64_t)i));
		assert_int_equal(d.busy_count, i);
		assert_sizes(&d, 8, 0, 0);
	}
	assert_true(contend(&d, 4));
	assert_int_equal(d.busy_count, 0);
	assert_sizes(&d, 9, 1, 0);
}

/* With no not-empty magazine in the depot, contention is not counted and
 * leaves the window alone. */
static void test_akaros_empty_depot_not_counted(void **state)
{
	struct depot d;
	int i;

	(void)state;
	depot_make(&d, "akaros", 1, T, 8, 4);
	assert_true(contend(&d, 5));
	assert_int_equal(d.busy_count, 1);

	d.nr_not_empty = 0;
	d.nr_empty = 7;
	for (i = 0; i < 10; i++)
		assert_false(contend(&d, 6 + (uint64_t)i));
	assert_int_equal(d.busy_count, 1);
	assert_int_equal(d.busy_start, 0);
	assert_sizes(&d, 8, 0, 0);

	/* Even after the window has run out, an uncounted one restarts
	 * nothing. */
	assert_false(contend(&d, 10 * T));
	assert_int_equal(d.busy_start, 0);
	assert_int_equal(d.busy_count, 1);

	/* The first counted one then restarts it; the next grows. */
	d.nr_not_empty = 1;
	assert_true(contend(&d, 10 * T + 1));
	assert_int_equal(d.busy_start, 10 * T + 1);
	assert_int_equal(d.busy_count, 1);
	assert_sizes(&d, 8, 0, 0);
	assert_true(contend(&d, 10 * T + 2));
	assert_sizes(&d, 9, 1, 0);
}

/* Growth stops at MAG_MAX_ROUNDS; contention there is still counted. */
static void test_akaros_cap(void **state)
{
	struct depot d;

	(void)state;
	depot_make(&d, "akaros", 0, T, MAG_MAX_ROUNDS - 1, 4);
	assert_true(contend(&d, 1));            /* 1 > 0: grow */
	assert_sizes(&d, MAG_MAX_ROUNDS, 1, 0);
	assert_true(contend(&d, 2));
	assert_int_equal(d.busy_count, 0);
	assert_sizes(&d, MAG_MAX_ROUNDS, 1, 0);
}

/* Contentions further apart than timeout_ns never grow anything, however
 * many there are. */
static void test_akaros_spread_never_grows(void **state)
{
	struct depot d;
	uint64_t now = 0;
	int i;

	(void)state;
	depot_make(&d, "akaros", 1, T, 8, 4);
	for (i = 0; i < 1000; i++) {
		now += T + 1;
		assert_true(contend(&d, now));
		assert_int_equal(d.busy_count, 1);
		assert_int_equal(d.busy_start, now);
	}
	assert_sizes(&d, 8, 0, 0);
	/* Nor do the uncontended acquisitions in between. */
	acquire(&d, now + 1);
	assert_sizes(&d, 8, 0, 0);
}

/* The tunables are read on every call: changing them mid-stream takes
 * effect at the next contention. */
static void test_akaros_tunables_mid_stream(void **state)
{
	struct depot d;

	(void)state;
	depot_make(&d, "akaros", 3, T, 8, 4);
	assert_true(contend(&d, 1));
	assert_true(contend(&d, 2));
	assert_sizes(&d, 8, 0, 0);
	d.threshold = 1;                        /* busy_count 3 > 1 */
	assert_true(contend(&d, 3));
	assert_sizes(&d, 9, 1, 0);

	/* A longer timeout keeps a window open that the old one closed. */
	assert_true(contend(&d, 10));           /* busy 1, start 0 */
	d.timeout_ns = 100 * T;
	assert_true(contend(&d, 50 * T));       /* same window: grow */
	assert_sizes(&d, 10, 2, 0);

	/* A shorter one closes a window the old one kept open. */
	assert_true(contend(&d, 50 * T + 10));  /* busy 1, start 0 */
	d.timeout_ns = 5;
	assert_true(contend(&d, 50 * T + 20));  /* 50T + 20 > 5: restart */
	assert_int_equal(d.busy_count, 1);
	assert_int_equal(d.busy_start, 50 * T + 20);
	assert_sizes(&d, 10, 2, 0);
}

/* akaros never shrinks; its reap frees only empty magazines. */
static void test_akaros_reap(void **state)
{
	struct depot d;
	size_t full, empty;
	int i;

	(void)state;
	depot_make(&d, "akaros", 1, T, 20, 9);
	d.nr_empty = 3;
	for (i = 0; i < 5; i++) {
		acquire(&d, (uint64_t)i * 10 * T);
		reap(&d, (uint64_t)i * 10 * T, &full, &empty);
		assert_int_equal(full, 0);
		assert_int_equal(empty, 3);
	}
	assert_sizes(&d, 20, 0, 0);
}

/* ---- illumos ----------------------------------------------------------- */

/* More than threshold failed trylocks in one interval grow by one and ask
 * for a purge, but only when the interval closes. */
static void test_illumos_grows_at_interval_close(void **state)
{
	struct depot d;

	(void)state;
	depot_make(&d, "illumos", 2, T, 8, 4);
	assert_true(contend(&d, 10));
	assert_true(contend(&d, 20));
	assert_true(contend(&d, 30));           /* 3 > 2, but mid-interval */
	assert_int_equal(d.interval_contended, 3);
	acquire(&d, T - 1);
	assert_sizes(&d, 8, 0, 0);
	assert_false(d.purge_pending);

	acquire(&d, T);                         /* the interval closes */
	assert_sizes(&d, 9, 1, 0);
	assert_true(d.purge_pending);
	assert_int_equal(d.interval_contended, 0);
	assert_int_equal(d.interval_start, T);

	/* magazine.c purges and clears the flag; a quiet interval follows. */
	d.purge_pending = false;
	acquire(&d, 2 * T);
	assert_sizes(&d, 9, 1, 0);
	assert_false(d.purge_pending);
}

/* The interval after a resize is not judged (illumos's contention_prev +
 * INT_MAX): the refill storm a purge causes must not grow again at once. */
static void test_illumos_skips_interval_after_resize(void **state)
{
	struct depot d;

	(void)state;
	depot_make(&d, "illumos", 1, T, 8, 4);
	assert_true(contend(&d, 10));
	assert_true(contend(&d, 20));
	acquire(&d, T);                         /* 2 > 1: grow + purge */
	assert_sizes(&d, 9, 1, 0);
	d.purge_pending = false;
	for (int i = 0; i < 5; i++)             /* the storm after it */
		assert_true(contend(&d, T + 10 + (uint64_t)i));
	acquire(&d, 2 * T);                     /* skipped */
	assert_sizes(&d, 9, 1, 0);
	assert_false(d.purge_pending);
	assert_true(contend(&d, 2 * T + 10));
	assert_true(contend(&d, 2 * T + 20));
	acquire(&d, 3 * T);                     /* judged again: grows */
	assert_sizes(&d, 10, 2, 0);
	assert_true(d.purge_pending);
}

/* Exactly threshold is not enough; counts do not carry between intervals;
 * a contention after the interval ran out belongs to the next one; and
 * illumos counts even with an empty depot. */
static void test_illumos_threshold_exact(void **state)
{
	struct depot d;

	(void)state;
	depot_make(&d, "illumos", 2, T, 8, 0);
	assert_true(contend(&d, 10));           /* counted though empty */
	assert_true(contend(&d, 20));
	acquire(&d, T);                         /* 2, not > 2 */
	assert_sizes(&d, 8, 0, 0);
	assert_false(d.purge_pending);

	/* 2 in [T, 2T), then one at 2T that closes it: still 2 in it. */
	assert_true(contend(&d, T + 10));
	assert_true(contend(&d, T + 20));
	assert_true(contend(&d, 2 * T));
	assert_sizes(&d, 8, 0, 0);
	assert_int_equal(d.interval_start, 2 * T);
	assert_int_equal(d.interval_contended, 1);

	/* Two more make 3 in [2T, 3T): grows at 3T. */
	assert_true(contend(&d, 2 * T + 1));
	assert_true(contend(&d, 2 * T + 2));
	acquire(&d, 3 * T);
	assert_sizes(&d, 9, 1, 0);
	assert_true(d.purge_pending);
}

/* illumos never shrinks, and at MAG_MAX_ROUNDS neither grows nor purges. */
static void test_illumos_never_shrinks(void **state)
{
	struct depot d;
	size_t full, empty;
	uint64_t now;

	(void)state;
	depot_make(&d, "illumos", 0, T, 30, 5);
	for (now = T; now <= 20 * T; now += T) {
		acquire(&d, now);               /* quiet intervals */
		reap(&d, now, &full, &empty);
	}
	assert_sizes(&d, 30, 0, 0);

	depot_make(&d, "illumos", 0, T, MAG_MAX_ROUNDS, 5);
	assert_true(contend(&d, 1));
	assert_true(contend(&d, 2));
	acquire(&d, T);
	assert_sizes(&d, MAG_MAX_ROUNDS, 0, 0);
	assert_false(d.purge_pending);
}

/* Reap frees min(idle through the last interval, idle so far in this one)
 * not-empty magazines and every empty one, and not the same ones twice. */
static void test_illumos_reap_working_set(void **state)
{
	struct depot d;
	size_t full, empty;

	(void)state;
	depot_make(&d, "illumos", 100, T, 8, 5);
	d.nr_empty = 2;
	/* The first interval has not closed: nothing is known idle. */
	reap(&d, 1, &full, &empty);
	assert_int_equal(full, 0);
	assert_int_equal(empty, 2);

	/* [0, T): the depot dips to 3 not-empty magazines. */
	acquire(&d, 10);
	d.nr_not_empty = 3;
	acquire(&d, 20);
	d.nr_not_empty = 6;
	acquire(&d, T);                         /* close: idle_last = 3 */
	assert_int_equal(d.ws_idle_last, 3);
	assert_int_equal(d.ws_min_not_empty, 6);

	/* [T, 2T): dips to 4; min(3, 4) = 3 were idle through both. */
	d.nr_not_empty = 4;
	acquire(&d, T + 10);
	d.nr_not_empty = 7;
	acquire(&d, T + 20);
	reap(&d, T + 30, &full, &empty);
	assert_int_equal(full, 3);
	assert_int_equal(empty, 2);

	/* The caller freed them; a second reap finds nothing more idle. */
	d.nr_not_empty = 4;
	d.nr_empty = 0;
	reap(&d, T + 40, &full, &empty);
	assert_int_equal(full, 0);
	assert_int_equal(empty, 0);
	assert_sizes(&d, 8, 0, 0);
}

/* ---- uma --------------------------------------------------------------- */

static void test_uma_grow_and_reap(void **state)
{
	struct depot d;
	size_t full, empty;
	int i;

	(void)state;
	depot_make(&d, "uma", 1, T, 8, 4);
	d.nr_empty = 5;
	/* +1 per counted contention, no window. */
	assert_true(contend(&d, 10));
	assert_sizes(&d, 9, 1, 0);
	assert_true(contend(&d, 10 * T));
	assert_sizes(&d, 10, 2, 0);

	/* Not counted with an empty depot. */
	d.nr_not_empty = 0;
	assert_false(contend(&d, 10 * T + 1));
	assert_sizes(&d, 10, 2, 0);

	/* -1 per reap, down to the floor; empties freed, no full ones. */
	for (i = 0; i < 5; i++) {
		reap(&d, 11 * T, &full, &empty);
		assert_int_equal(full, 0);
		assert_int_equal(empty, 5);
	}
	assert_sizes(&d, MAG_MIN_ROUNDS, 2, 2);

	/* Cap: from 60, five counted contentions reach 62 and stop. */
	d.nr_not_empty = 1;
	depot_set_magsize(&d, 60, RESIZE_USER);
	assert_sizes(&d, 60, 3, 2);
	for (i = 0; i < 5; i++)
		assert_true(contend(&d, 12 * T + (uint64_t)i));
	assert_sizes(&d, MAG_MAX_ROUNDS, 5, 2);
}

/* ---- adaptive ---------------------------------------------------------- */

/* Grows as akaros does, and remembers it grew this interval. */
static void test_adaptive_grows_like_akaros(void **state)
{
	struct depot d;

	(void)state;
	depot_make(&d, "adaptive", 1, T, 8, 4);
	assert_true(contend(&d, 10));
	assert_false(d.grew_this_interval);
	assert_true(contend(&d, 20));
	assert_sizes(&d, 9, 1, 0);
	assert_true(d.grew_this_interval);
	assert_int_equal(d.interval_contended, 2);

	/* Not counted with an empty depot: no window, no interval count. */
	d.nr_not_empty = 0;
	assert_false(contend(&d, 30));
	assert_int_equal(d.interval_contended, 2);
	assert_int_equal(d.busy_count, 0);

	/* Window spread wider than the timeout: no growth. */
	d.nr_not_empty = 4;
	assert_true(contend(&d, 40));
	assert_true(contend(&d, 40 + 2 * T));
	assert_sizes(&d, 9, 1, 0);
}

/* Two quiet intervals with >= 2 magazines idle throughout shrink by one;
 * the count then starts over; never below the floor. */
static void test_adaptive_shrinks_when_quiet(void **state)
{
	struct depot d;
	uint64_t now;

	(void)state;
	depot_make(&d, "adaptive", 1, T, 10, 3);
	acquire(&d, 10);
	acquire(&d, T);                         /* [0,T) quiet: 1 */
	assert_int_equal(d.quiet_intervals, 1);
	assert_sizes(&d, 10, 0, 0);
	acquire(&d, 2 * T);                     /* quiet: 2 -> shrink */
	assert_int_equal(d.quiet_intervals, 0);
	assert_sizes(&d, 9, 0, 1);
	acquire(&d, 3 * T);
	assert_sizes(&d, 9, 0, 1);
	acquire(&d, 4 * T);
	assert_sizes(&d, 8, 0, 2);
	for (now = 5 * T; now <= 20 * T; now += T)
		acquire(&d, now);
	assert_sizes(&d, MAG_MIN_ROUNDS, 0, 2);
}

/* Fewer than two idle magazines, or any counted contention, is not quiet. */
static void test_adaptive_not_quiet(void **state)
{
	struct depot d;
	uint64_t now;

	(void)state;
	depot_make(&d, "adaptive", 100, T, 20, 3);
	for (now = T; now <= 10 * T; now += T) {
		d.nr_not_empty = 1;             /* dips to 1 every interval */
		acquire(&d, now - 10);
		d.nr_not_empty = 3;
		acquire(&d, now);
		assert_int_equal(d.quiet_intervals, 0);
	}
	assert_sizes(&d, 20, 0, 0);

	/* One counted contention per interval: never quiet either
	 * (threshold 100, so no growth). */
	for (now = 11 * T; now <= 20 * T; now += T) {
		assert_true(contend(&d, now - 10));
		acquire(&d, now);
		assert_int_equal(d.quiet_intervals, 0);
	}
	assert_sizes(&d, 20, 0, 0);

	/* An uncounted contention (empty depot) does not spoil quiet, but an
	 * empty depot has no idle magazines: still not quiet. */
	d.nr_not_empty = 0;
	assert_false(contend(&d, 21 * T));
	assert_int_equal(d.quiet_intervals, 0);
	assert_sizes(&d, 20, 0, 0);
}

/* No shrink in the interval after a grow: the grow's interval resets the
 * quiet count, so two more quiet intervals are needed. */
static void test_adaptive_no_shrink_after_grow(void **state)
{
	struct depot d;

	(void)state;
	depot_make(&d, "adaptive", 1, T, 12, 4);
	acquire(&d, T);                         /* quiet 1 */
	assert_int_equal(d.quiet_intervals, 1);
	assert_true(contend(&d, T + 10));
	assert_true(contend(&d, T + 20));       /* grow to 13 */
	assert_sizes(&d, 13, 1, 0);
	acquire(&d, 2 * T);                     /* not quiet: 0 */
	assert_int_equal(d.quiet_intervals, 0);
	assert_false(d.grew_this_interval);
	acquire(&d, 3 * T);                     /* after the grow: 1 */
	assert_int_equal(d.quiet_intervals, 1);
	assert_sizes(&d, 13, 1, 0);
	acquire(&d, 4 * T);                     /* 2: now it may shrink */
	assert_sizes(&d, 12, 1, 1);

	/* The flag alone also blocks a shrink.  Set by hand here: a real grow
	 * comes with a counted contention, which resets the quiet count. */
	acquire(&d, 5 * T);
	assert_int_equal(d.quiet_intervals, 1);
	d.grew_this_interval = true;
	acquire(&d, 6 * T);
	assert_int_equal(d.quiet_intervals, 2);
	assert_sizes(&d, 12, 1, 1);
	acquire(&d, 7 * T);                     /* 3, no grow: shrink */
	assert_int_equal(d.quiet_intervals, 0);
	assert_sizes(&d, 11, 1, 2);
}

/* A contention that comes after an interval ran out belongs to the next
 * interval: it neither spoils the closed one's quiet nor escapes the new
 * one's count. */
static void test_adaptive_late_contention(void **state)
{
	struct depot d;

	(void)state;
	depot_make(&d, "adaptive", 1, T, 12, 4);
	acquire(&d, T);                         /* [0, T) quiet: 1 */
	assert_true(contend(&d, 2 * T));        /* [T, 2T) quiet: 2 */
	assert_sizes(&d, 11, 0, 1);
	assert_int_equal(d.interval_start, 2 * T);
	assert_int_equal(d.interval_contended, 1);
	acquire(&d, 3 * T);                     /* [2T, 3T) not quiet */
	assert_int_equal(d.quiet_intervals, 0);
	assert_sizes(&d, 11, 0, 1);
}

/* Adaptive's reap frees the working set's idle magazines, as illumos. */
static void test_adaptive_reap(void **state)
{
	struct depot d;
	size_t full, empty;

	(void)state;
	depot_make(&d, "adaptive", 1, T, 16, 6);
	d.nr_empty = 4;
	reap(&d, 5, &full, &empty);
	assert_int_equal(full, 0);              /* no interval closed yet */
	assert_int_equal(empty, 4);

	d.nr_not_empty = 2;
	acquire(&d, 10);
	d.nr_not_empty = 6;
	acquire(&d, T);                         /* idle_last = 2 */
	reap(&d, T + 1, &full, &empty);
	assert_int_equal(full, 2);
	assert_int_equal(empty, 4);
	assert_int_equal(d.ws_idle_last, 0);
	assert_int_equal(d.ws_min_not_empty, 4);
	assert_sizes(&d, 16, 0, 0);
}

/* ---- table, switching, magsize, clock ---------------------------------- */

static void test_policy_by_name(void **state)
{
	static const char *const names[] = {
		"akaros", "illumos", "uma", "adaptive",
	};
	size_t i, j;

	(void)state;
	for (i = 0; i < 4; i++) {
		const struct resize_policy *p = policy_by_name(names[i]);

		assert_non_null(p);
		assert_string_equal(p->name, names[i]);
		assert_non_null(p->contended);
		assert_non_null(p->acquired);
		assert_non_null(p->reap);
		assert_non_null(strstr(policy_names(), names[i]));
		for (j = 0; j < i; j++)
			assert_ptr_not_equal(p, policy_by_name(names[j]));
	}
	assert_null(policy_by_name("bogus"));
	assert_null(policy_by_name(""));
	assert_null(policy_by_name("Akaros"));
	assert_null(policy_by_name(NULL));
	assert_ptr_equal(policy_default(), policy_by_name("akaros"));
	assert_string_equal(policy_names(), "akaros, illumos, uma, adaptive");
}

/* Switching restarts the window and interval state; the size stays. */
static void test_policy_switch_resets(void **state)
{
	struct depot d;

	(void)state;
	depot_make(&d, "akaros", 1, T, 8, 4);
	assert_true(contend(&d, 10));
	assert_int_equal(d.busy_count, 1);

	depot_policy_switch(&d, policy_by_name("adaptive"), 50);
	assert_int_equal(d.busy_count, 0);
	assert_int_equal(d.busy_start, 50);
	assert_int_equal(d.interval_start, 50);
	assert_int_equal(d.interval_contended, 0);
	assert_int_equal(d.quiet_intervals, 0);
	assert_int_equal(d.ws_idle_last, 0);
	assert_int_equal(d.ws_min_not_empty, 4);
	assert_false(d.grew_this_interval);

	/* The old count is gone: one contention does not grow. */
	depot_policy_switch(&d, policy_by_name("akaros"), 60);
	assert_true(contend(&d, 70));
	assert_sizes(&d, 8, 0, 0);
	assert_true(contend(&d, 80));
	assert_sizes(&d, 9, 1, 0);

	/* The working-set estimate starts over too: after a switch no
	 * magazine counts as idle until an interval has closed. */
	depot_policy_switch(&d, policy_by_name("illumos"), 100);
	acquire(&d, 100 + T);
	assert_int_equal(d.ws_idle_last, 4);
	depot_policy_switch(&d, policy_by_name("adaptive"), 100 + T);
	assert_int_equal(d.ws_idle_last, 0);
	{
		size_t full, empty;

		reap(&d, 100 + T, &full, &empty);
		assert_int_equal(full, 0);
	}

	/* NULL selects the default. */
	depot_policy_switch(&d, NULL, 200 + T);
	assert_ptr_equal(d.policy, policy_default());
	assert_sizes(&d, 9, 1, 0);

	/* init clamps the starting size and does not count it. */
	memset(&d, 0, sizeof(d));
	depot_policy_init(&d, NULL, 1, T, 3, 0);
	assert_sizes(&d, MAG_MIN_ROUNDS, 0, 0);
	depot_policy_init(&d, NULL, 1, T, 500, 0);
	assert_sizes(&d, MAG_MAX_ROUNDS, 0, 0);
}

/* One count per call that changes the size; clamped both ways. */
static void test_set_magsize(void **state)
{
	struct depot d;

	(void)state;
	memset(&d, 0, sizeof(d));
	d.magsize = 8;
	assert_int_equal(depot_set_magsize(&d, 20, RESIZE_USER), 20);
	assert_sizes(&d, 20, 1, 0);
	assert_int_equal(depot_set_magsize(&d, 20, RESIZE_USER), 20);
	assert_sizes(&d, 20, 1, 0);
	assert_int_equal(depot_set_magsize(&d, 3, RESIZE_USER), 8);
	assert_sizes(&d, 8, 1, 1);
	assert_int_equal(depot_set_magsize(&d, 0, RESIZE_SHRINK), 8);
	assert_sizes(&d, 8, 1, 1);
	assert_int_equal(depot_set_magsize(&d, 1000, RESIZE_USER), 62);
	assert_sizes(&d, 62, 2, 1);
	assert_int_equal(depot_set_magsize(&d, 63, RESIZE_THRESHOLD), 62);
	assert_sizes(&d, 62, 2, 1);
	assert_int_equal(depot_set_magsize(&d, 61, RESIZE_REAP), 61);
	assert_sizes(&d, 61, 2, 2);

	assert_string_equal(resize_reason_name(RESIZE_THRESHOLD), "threshold");
	assert_string_equal(resize_reason_name(RESIZE_INTERVAL), "interval");
	assert_string_equal(resize_reason_name(RESIZE_CONTENDED), "contended");
	assert_string_equal(resize_reason_name(RESIZE_SHRINK), "shrink");
	assert_string_equal(resize_reason_name(RESIZE_REAP), "reap");
	assert_string_equal(resize_reason_name(RESIZE_USER), "user");
	assert_string_equal(resize_reason_name((enum resize_reason)99),
			    "unknown");
}

static uint64_t fake_now;

static uint64_t fake_clock(void)
{
	return fake_now;
}

static void test_clock_override(void **state)
{
	uint64_t a, b;

	(void)state;
	magslab_set_clock(fake_clock);
	fake_now = 42;
	assert_int_equal(magslab_now_ns(), 42);
	fake_now = 7;
	assert_int_equal(magslab_now_ns(), 7);
	magslab_set_clock(NULL);
	a = magslab_now_ns();
	b = magslab_now_ns();
	assert_true(a > 1000);
	assert_true(b >= a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_akaros_window_restart),
		cmocka_unit_test(test_akaros_window_boundary),
		cmocka_unit_test(test_akaros_threshold_one),
		cmocka_unit_test(test_akaros_threshold_three),
		cmocka_unit_test(test_akaros_empty_depot_not_counted),
		cmocka_unit_test(test_akaros_cap),
		cmocka_unit_test(test_akaros_spread_never_grows),
		cmocka_unit_test(test_akaros_tunables_mid_stream),
		cmocka_unit_test(test_akaros_reap),
		cmocka_unit_test(test_illumos_grows_at_interval_close),
		cmocka_unit_test(test_illumos_skips_interval_after_resize),
		cmocka_unit_test(test_illumos_threshold_exact),
		cmocka_unit_test(test_illumos_never_shrinks),
		cmocka_unit_test(test_illumos_reap_working_set),
		cmocka_unit_test(test_uma_grow_and_reap),
		cmocka_unit_test(test_adaptive_grows_like_akaros),
		cmocka_unit_test(test_adaptive_shrinks_when_quiet),
		cmocka_unit_test(test_adaptive_not_quiet),
		cmocka_unit_test(test_adaptive_no_shrink_after_grow),
		cmocka_unit_test(test_adaptive_late_contention),
		cmocka_unit_test(test_adaptive_reap),
		cmocka_unit_test(test_policy_by_name),
		cmocka_unit_test(test_policy_switch_resets),
		cmocka_unit_test(test_set_magsize),
		cmocka_unit_test(test_clock_override),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
