/*
 * test_slab_mt.c — object caches under threads (also run under TSan).
 *
 *   MEM_WAIT on a bounded source arena: the waiter sleeps until memory is
 *       freed, and never while holding a lock another thread's free needs;
 *   contention-driven magazine resize, end to end with the real clock: many
 *       threads batching alloc/free on one cache grow the depot magsize
 *       (akaros, adaptive, illumos, uma), a huge threshold keeps it at 8, uma
 *       shrinks on reap;
 *   stress: 8 threads on 4 caches (small, medium, bufctl, NOTOUCH), every
 *       object stamped with its owner (thread, sequence) and checked on free;
 *       a striped side table of live addresses catches an object handed to
 *       two holders at once (it is the only check for NOTOUCH objects);
 *   tunables changed while the cache is busy;
 *   a quantum-caching arena shared by threads.
 *
 * Worker threads never call cmocka asserts: they record the first problem
 * in their own err[] and the main thread asserts after joining.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "slab_test_util.h"

#define DEFAULT_SEED 0x51ab5eedULL

/* ---- fixtures -------------------------------------------------------------- */

static int group_setup(void **state)
{
	(void)state;
	st_install_handler();
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	st_reset_settings();
	magslab_set_error_handler(NULL, NULL);
	return 0;
}

/* ---- MEM_WAIT ----------------------------------------------------------------- */

struct waker {
	pthread_t thread;
	struct arena *arena;
	void *hog;
	size_t hog_size;
	struct kmem_cache *kc;
	void *obj;               /* freed to kc first, when set */
	atomic_int obj_freed;
	atomic_int hog_freed;
};

static void *waker_main(void *arg)
{
	struct waker *w = arg;

	st_sleep_ms(50);
	if (w->obj) {
		kmem_cache_free(w->kc, w->obj);
		atomic_store(&w->obj_freed, 1);
		st_sleep_ms(50);
	}
	atomic_store(&w->hog_freed, 1);
	arena_free(w->arena, w->hog, w->hog_size);
	return NULL;
}

/* Fills a cache over an 8-page bounded arena (one page held by a hog), then
 * a MEM_WAIT alloc waits until another thread gives memory back: the hog
 * page, after (free_obj) first freeing one of the cache's objects, which
 * must not block on a lock the waiter holds. */
static void memwait_case(int flags, bool free_obj)
{
	size_t ps = st_page();
	struct st_region r;
	struct arena *a = st_region_arena(&r, "mw_src", 8 * ps,
					  PROT_READ | PROT_WRITE, ps, 0);
	struct kmem_cache *kc;
	struct waker w;
	void *p[8 * 64], *q;
	size_t n = 0, i;
	uint64_t t0, dt;

	assert_int_equal(magslab_set_ncpus(1), 0);
	kc = st_create("mw_cache", 256, 0, flags, a);
	memset(&w, 0, sizeof(w));
	w.arena = a;
	w.hog_size = ps;
	assert_non_null(w.hog = arena_alloc(a, ps, MEM_ATOMIC));
	for (;;) {
		assert_true(n < sizeof(p) / sizeof(p[0]));
		errno = 0;
		p[n] = kmem_cache_alloc(kc, MEM_ATOMIC);
		if (!p[n])
			break;
		n++;
	}
	assert_int_equal(errno, ENOMEM);
	assert_true(n >= 7 * (ps / 256) / 2);
	if (free_obj) {
		w.kc = kc;
		w.obj = p[--n];
	}
	assert_int_equal(pthread_create(&w.thread, NULL, waker_main, &w), 0);
	t0 = st_now_ns();
	q = kmem_cache_alloc(kc, MEM_WAIT);
	dt = st_now_ns() - t0;
	assert_int_equal(pthread_join(w.thread, NULL), 0);
	if (!q)
		print_error("MEM_WAIT alloc returned NULL (errno %d) after "
			    "%llu ms\n", errno,
			    (unsigned long long)(dt / 1000000));
	assert_non_null(q);
	assert_true(dt >= 40ull * 1000000);
	if (free_obj)
		assert_int_equal(atomic_load(&w.obj_freed), 1);
	memset(q, 0x77, 256);
	kmem_cache_free(kc, q);
	for (i = 0; i < n; i++)
		kmem_cache_free(kc, p[i]);
	st_destroy(kc);
	assert_int_equal(st_arena_stats(a).allocated, 0);
	st_region_destroy(&r);
}

static void test_memwait_nomag(void **state)
{
	(void)state;
	memwait_case(KMC_NOMAG, false);
}

static void test_memwait_magazines(void **state)
{
	(void)state;
	memwait_case(0, false);
}

static void test_memwait_free_while_waiting_nomag(void **state)
{
	(void)state;
	memwait_case(KMC_NOMAG, true);
}

static void test_memwait_free_while_waiting_magazines(void **state)
{
	(void)state;
	memwait_case(0, true);
}

/* ---- contention-driven resize --------------------------------------------------- */

#define BATCH 100

struct cworker {
	pthread_t thread;
	struct kmem_cache *kc;
	atomic_int *stop;
	unsigned long rounds;
	char err[160];
};

static void *cworker_main(void *arg)
{
	struct cworker *w = arg;
	void *p[BATCH];
	int i;

	while (!atomic_load_explicit(w->stop, memory_order_relaxed)) {
		for (i = 0; i < BATCH; i++) {
			p[i] = kmem_cache_alloc(w->kc, MEM_ATOMIC);
			if (!p[i]) {
				snprintf(w->err, sizeof(w->err),
					 "alloc failed: errno %d", errno);
				while (i--)
					kmem_cache_free(w->kc, p[i]);
				return NULL;
			}
		}
		for (i = 0; i < BATCH; i++)
			kmem_cache_free(w->kc, p[i]);
		w->rounds++;
	}
	return NULL;
}

/* Runs nthreads batching workers on kc until stop_when(stats) or ms
 * milliseconds pass.  Returns the final stats (workers stopped). */
static struct kmem_cache_stats
run_contention(struct kmem_cache *kc, int nthreads, unsigned int ms,
	       bool (*stop_when)(const struct kmem_cache_stats *))
{
	struct cworker w[16];
	atomic_int stop;
	uint64_t end = st_now_ns() + (uint64_t)ms * 1000000;
	struct kmem_cache_stats st;
	int i;

	assert_true(nthreads <= 16);
	atomic_init(&stop, 0);
	memset(w, 0, sizeof(w));
	for (i = 0; i < nthreads; i++) {
		w[i].kc = kc;
		w[i].stop = &stop;
		assert_int_equal(pthread_create(&w[i].thread, NULL,
						cworker_main, &w[i]), 0);
	}
	while (st_now_ns() < end) {
		st_sleep_ms(10);
		st = st_stats(kc);
		if (stop_when && stop_when(&st))
			break;
	}
	atomic_store(&stop, 1);
	for (i = 0; i < nthreads; i++)
		assert_int_equal(pthread_join(w[i].thread, NULL), 0);
	for (i = 0; i < nthreads; i++) {
		if (w[i].err[0])
			print_error("worker %d: %s\n", i, w[i].err);
		assert_string_equal(w[i].err, "");
	}
	st = st_stats(kc);
	print_message("    %s: policy %s, magsize %u (pcc %u..%u), up %llu, "
		      "down %llu, contended %llu, counted %llu, wait %llu ns\n",
		      kmem_cache_name(kc), st.policy, st.magsize,
		      st.pcc_magsize_min, st.pcc_magsize_max,
		      (unsigned long long)st.magsize_up,
		      (unsigned long long)st.magsize_down,
		      (unsigned long long)st.depot_contended,
		      (unsigned long long)st.depot_contended_counted,
		      (unsigned long long)st.contention_wait_ns);
	/* Quiescent: everything is back in magazines or slabs. */
	assert_stat(st, live_objs, 0);
	assert_stat(st, allocs, st.frees);
	assert_cache_consistent(st);
	return st;
}

static bool grew(const struct kmem_cache_stats *st)
{
	return st->magsize > MAG_MIN_ROUNDS &&
	       st->pcc_magsize_max > MAG_MIN_ROUNDS;
}

static struct kmem_cache *mk_resize_cache(const char *name,
					  const char *policy,
					  uint64_t threshold,
					  uint64_t timeout_ns)
{
	struct kmem_cache *kc = st_create(name, 64, 0, 0, NULL);

	assert_int_equal(kmem_cache_set_policy(kc, policy), 0);
	assert_int_equal(kmem_cache_set_resize_threshold(kc, threshold), 0);
	assert_int_equal(kmem_cache_set_resize_timeout_ns(kc, timeout_ns), 0);
	return kc;
}

/* akaros, threshold 1, timeout 1 s: 8 threads on a 2-core machine contend
 * enough to grow the magazines; with one slot per thread and with slots by
 * CPU. */
static void test_resize_akaros_grows(void **state)
{
	int cfg;

	(void)state;
	for (cfg = 0; cfg < 2; cfg++) {
		struct kmem_cache *kc;
		struct kmem_cache_stats st;

		if (cfg == 0) {
			assert_int_equal(magslab_set_ncpus(8), 0);
			assert_int_equal(magslab_set_pcc_map(
					 MAGSLAB_PCC_BY_THREAD), 0);
		} else {
			st_reset_settings();
		}
		kc = mk_resize_cache(cfg ? "rs_akaros_cpu" : "rs_akaros_thr",
				     "akaros", 1, 1000000000ull);
		st = run_contention(kc, 8, ST_TSAN ? 6000 : 3000, grew);
		assert_true(st.depot_contended > 0);
		assert_true(st.depot_contended_counted >= 2);
		assert_true(st.depot_contended_counted <= st.depot_contended);
		assert_true(st.magsize > MAG_MIN_ROUNDS);
		assert_true(st.magsize <= MAG_MAX_ROUNDS);
		assert_true(st.magsize_up > 0);
		assert_stat(st, magsize_down, 0);
		assert_stat(st, magsize, MAG_MIN_ROUNDS + st.magsize_up);
		assert_true(st.pcc_magsize_max > MAG_MIN_ROUNDS);
		assert_true(st.pcc_magsize_max <= st.magsize);
		st_destroy(kc);
	}
}

/* The same load with threshold 1,000,000 never grows (akaros only grows
 * past the threshold within one window). */
static void test_resize_high_threshold_stays(void **state)
{
	struct kmem_cache *kc;
	struct kmem_cache_stats st;

	(void)state;
	assert_int_equal(magslab_set_ncpus(8), 0);
	assert_int_equal(magslab_set_pcc_map(MAGSLAB_PCC_BY_THREAD), 0);
	kc = mk_resize_cache("rs_high", "akaros", 1000000, 1000000000ull);
	st = run_contention(kc, 8, 2000, NULL);
	/* A grow needs more than 1,000,000 counted contentions in one 1 s
	 * window.  On a loaded 2-core VM 8 threads have produced 2 M in a run,
	 * and then growing is the rule working: each step must be paid for. */
	assert_true(st.magsize_up * 1000001 <= st.depot_contended_counted);
	assert_int_equal(st.magsize, MAG_MIN_ROUNDS + st.magsize_up);
	assert_int_equal(st.pcc_magsize_max <= st.magsize, 1);
	st_destroy(kc);
}

/* adaptive grows as akaros does. */
static void test_resize_adaptive_grows(void **state)
{
	struct kmem_cache *kc;
	struct kmem_cache_stats st;

	(void)state;
	assert_int_equal(magslab_set_ncpus(8), 0);
	assert_int_equal(magslab_set_pcc_map(MAGSLAB_PCC_BY_THREAD), 0);
	kc = mk_resize_cache("rs_adaptive", "adaptive", 1, 1000000000ull);
	st = run_contention(kc, 8, ST_TSAN ? 6000 : 3000, grew);
	assert_true(st.magsize > MAG_MIN_ROUNDS);
	assert_true(st.magsize_up > 0);
	st_destroy(kc);
}

/* illumos: more than threshold failed trylocks in an interval grow it. */
static void test_resize_illumos_grows(void **state)
{
	struct kmem_cache *kc;
	struct kmem_cache_stats st;

	(void)state;
	assert_int_equal(magslab_set_ncpus(8), 0);
	assert_int_equal(magslab_set_pcc_map(MAGSLAB_PCC_BY_THREAD), 0);
	kc = mk_resize_cache("rs_illumos", "illumos", 1, 100000000ull);
	st = run_contention(kc, 8, ST_TSAN ? 6000 : 3000, grew);
	assert_true(st.magsize > MAG_MIN_ROUNDS);
	assert_true(st.magsize_up > 0);
	assert_stat(st, magsize_down, 0);
	st_destroy(kc);
}

/* uma: grows on contention, shrinks by exactly one per reap. */
static void test_resize_uma_grows_and_reap_shrinks(void **state)
{
	struct kmem_cache *kc;
	struct kmem_cache_stats st;
	unsigned int m;

	(void)state;
	assert_int_equal(magslab_set_ncpus(8), 0);
	assert_int_equal(magslab_set_pcc_map(MAGSLAB_PCC_BY_THREAD), 0);
	kc = mk_resize_cache("rs_uma", "uma", 1, 1000000000ull);
	st = run_contention(kc, 8, ST_TSAN ? 6000 : 3000, grew);
	assert_true(st.magsize > MAG_MIN_ROUNDS);
	assert_true(st.magsize_up > 0);
	m = st.magsize;
	kmem_cache_reap(kc);
	st = st_stats(kc);
	assert_stat(st, magsize, m - 1);
	assert_true(st.magsize_down >= 1);
	assert_cache_consistent(st);
	st_destroy(kc);
}

/* Tunables, policy, magsize and reap changed while 6 threads hammer the
 * cache: no lost objects, consistent counts, clean destroy. */
static void *tuner_main(void *arg)
{
	struct cworker *w = arg;
	const char *pol[] = { "akaros", "illumos", "uma", "adaptive" };
	unsigned int i = 0;

	while (!atomic_load(w->stop)) {
		struct kmem_cache_stats st;
		unsigned int ms[64];

		if (kmem_cache_set_magsize(w->kc, 8 + (i * 7) % 55) != 0 ||
		    kmem_cache_set_policy(w->kc, pol[i % 4]) != 0 ||
		    kmem_cache_set_resize_threshold(w->kc, 1 + i % 3) != 0 ||
		    kmem_cache_set_resize_timeout_ns(w->kc,
						     1000000ull * (1 + i % 5))
		    != 0 ||
		    kmem_cache_set_reap_keep(w->kc, i % 3) != 0) {
			snprintf(w->err, sizeof(w->err), "setter failed: %s",
				 magslab_last_error());
			return NULL;
		}
		kmem_cache_reap(w->kc);
		if (kmem_cache_stats(w->kc, &st) != 0) {
			snprintf(w->err, sizeof(w->err), "stats failed");
			return NULL;
		}
		if (st.magsize < MAG_MIN_ROUNDS || st.magsize > MAG_MAX_ROUNDS ||
		    st.pcc_magsize_max > MAG_MAX_ROUNDS) {
			snprintf(w->err, sizeof(w->err), "magsize %u, pcc max "
				 "%u out of bounds", st.magsize,
				 st.pcc_magsize_max);
			return NULL;
		}
		kmem_cache_pcc_magsizes(w->kc, ms, 64);
		i++;
		w->rounds++;
		st_sleep_ms(1);
	}
	return NULL;
}

static void test_tunables_while_busy(void **state)
{
	struct kmem_cache *kc;
	struct cworker w[7];
	atomic_int stop;
	struct kmem_cache_stats st;
	int i;

	(void)state;
	assert_int_equal(magslab_set_ncpus(4), 0);
	kc = st_create("mt_tuned", 96, 0, 0, NULL);
	atomic_init(&stop, 0);
	memset(w, 0, sizeof(w));
	for (i = 0; i < 7; i++) {
		w[i].kc = kc;
		w[i].stop = &stop;
		assert_int_equal(pthread_create(&w[i].thread, NULL,
						i == 6 ? tuner_main
						       : cworker_main,
						&w[i]), 0);
	}
	st_sleep_ms(ST_TSAN ? 3000 : 1500);
	atomic_store(&stop, 1);
	for (i = 0; i < 7; i++)
		assert_int_equal(pthread_join(w[i].thread, NULL), 0);
	for (i = 0; i < 7; i++) {
		if (w[i].err[0])
			print_error("thread %d: %s\n", i, w[i].err);
		assert_string_equal(w[i].err, "");
		assert_true(w[i].rounds > 0);
	}
	st = st_stats(kc);
	assert_stat(st, live_objs, 0);
	assert_stat(st, allocs, st.frees);
	assert_cache_consistent(st);
	st_destroy(kc);
}

/* ---- stress ---------------------------------------------------------------------- */

/* Striped side table of live objects: address -> owner. */
#define NSTRIPE 64
#define SLOTS   1024

struct stripe {
	pthread_mutex_t lock;
	uintptr_t key[SLOTS];
	uint32_t owner[SLOTS];
};

static struct stripe side[NSTRIPE];

static void side_init(void)
{
	int i;

	for (i = 0; i < NSTRIPE; i++) {
		pthread_mutex_init(&side[i].lock, NULL);
		memset(side[i].key, 0, sizeof(side[i].key));
	}
}

static uint64_t side_hash(uintptr_t p)
{
	return ((uint64_t)p * 0x9E3779B97F4A7C15ull) >> 20;
}

/* 0, or the owner already holding p. */
static uint32_t side_insert(uintptr_t p, uint32_t owner)
{
	uint64_t h = side_hash(p);
	struct stripe *s = &side[h % NSTRIPE];
	size_t i = (h / NSTRIPE) % SLOTS;
	uint32_t ret = 0;

	pthread_mutex_lock(&s->lock);
	while (s->key[i]) {
		if (s->key[i] == p) {
			ret = s->owner[i];
			break;
		}
		i = (i + 1) % SLOTS;
	}
	if (!ret) {
		s->key[i] = p;
		s->owner[i] = owner;
	}
	pthread_mutex_unlock(&s->lock);
	return ret;
}

/* The owner p had (0 if absent); removes it. */
static uint32_t side_remove(uintptr_t p)
{
	uint64_t h = side_hash(p);
	struct stripe *s = &side[h % NSTRIPE];
	size_t i = (h / NSTRIPE) % SLOTS, j;
	uint32_t owner = 0;

	pthread_mutex_lock(&s->lock);
	while (s->key[i] && s->key[i] != p)
		i = (i + 1) % SLOTS;
	if (s->key[i] == p) {
		owner = s->owner[i];
		s->key[i] = 0;
		/* Backward-shift deletion keeps every probe chain intact. */
		j = i;
		for (;;) {
			size_t k;

			j = (j + 1) % SLOTS;
			if (!s->key[j])
				break;
			k = (side_hash(s->key[j]) / NSTRIPE) % SLOTS;
			if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
				continue;
			s->key[i] = s->key[j];
			s->owner[i] = s->owner[j];
			s->key[j] = 0;
			i = j;
		}
	}
	pthread_mutex_unlock(&s->lock);
	return owner;
}

struct scache {
	struct kmem_cache *kc;
	size_t size;
	size_t align;
	bool notouch;
};

#define NCACHES 4
#define POOL    64

struct stamp {
	uint32_t owner;
	uint32_t seq;
};

struct sobj {
	void *p;
	uint32_t seq;
};

struct sworker {
	pthread_t thread;
	uint32_t id;                 /* 1-based owner id */
	struct scache *caches;
	unsigned long ops;
	uint64_t deadline;
	uint64_t seed;
	unsigned long allocs[NCACHES], frees[NCACHES];
	char err[256];
};

static void stamp_write(const struct scache *c, void *p, uint32_t owner,
			uint32_t seq)
{
	struct stamp s = { owner, seq };

	memcpy(p, &s, sizeof(s));
	memcpy((char *)p + c->size - sizeof(s), &s, sizeof(s));
	if (c->size > 3 * sizeof(s))
		memset((char *)p + sizeof(s), (int)(seq & 0xff),
		       c->size - 2 * sizeof(s));
}

/* false (err set) if the stamp is not ours. */
static bool stamp_check(struct sworker *w, const struct scache *c, void *p,
			uint32_t seq)
{
	struct stamp a, b;
	size_t i;

	memcpy(&a, p, sizeof(a));
	memcpy(&b, (char *)p + c->size - sizeof(b), sizeof(b));
	if (a.owner != w->id || a.seq != seq || b.owner != w->id ||
	    b.seq != seq) {
		snprintf(w->err, sizeof(w->err),
			 "thread %u: %s object %p stamped (%u,%u)/(%u,%u), "
			 "expected (%u,%u)", w->id, kmem_cache_name(c->kc), p,
			 a.owner, a.seq, b.owner, b.seq, w->id, seq);
		return false;
	}
	if (c->size > 3 * sizeof(a)) {
		const unsigned char *m = (const unsigned char *)p + sizeof(a);

		for (i = 0; i < c->size - 2 * sizeof(a); i++)
			if (m[i] != (seq & 0xff)) {
				snprintf(w->err, sizeof(w->err),
					 "thread %u: %s object %p byte %zu "
					 "overwritten", w->id,
					 kmem_cache_name(c->kc), p,
					 i + sizeof(a));
				return false;
			}
	}
	return true;
}

static bool sw_alloc(struct sworker *w, int ci, struct sobj *o,
		     uint32_t seq)
{
	struct scache *c = &w->caches[ci];
	void *p = kmem_cache_alloc(c->kc, MEM_ATOMIC);
	uint32_t other;

	if (!p) {
		snprintf(w->err, sizeof(w->err), "thread %u: %s alloc "
			 "failed: errno %d", w->id, kmem_cache_name(c->kc),
			 errno);
		return false;
	}
	w->allocs[ci]++;
	if (c->align && U(p) % c->align) {
		snprintf(w->err, sizeof(w->err), "thread %u: %s object %p "
			 "not %zu-aligned", w->id, kmem_cache_name(c->kc), p,
			 c->align);
		return false;
	}
	other = side_insert(U(p), w->id);
	if (other) {
		snprintf(w->err, sizeof(w->err), "thread %u: %s object %p is "
			 "also held by thread %u", w->id,
			 kmem_cache_name(c->kc), p, other);
		return false;
	}
	if (!c->notouch)
		stamp_write(c, p, w->id, seq);
	o->p = p;
	o->seq = seq;
	return true;
}

static bool sw_free(struct sworker *w, int ci, struct sobj *o)
{
	struct scache *c = &w->caches[ci];
	uint32_t owner;

	if (!c->notouch && !stamp_check(w, c, o->p, o->seq))
		return false;
	owner = side_remove(U(o->p));
	if (owner != w->id) {
		snprintf(w->err, sizeof(w->err), "thread %u: %s object %p in "
			 "the side table as thread %u's", w->id,
			 kmem_cache_name(c->kc), o->p, owner);
		return false;
	}
	kmem_cache_free(c->kc, o->p);
	w->frees[ci]++;
	o->p = NULL;
	return true;
}

static void *sworker_main(void *arg)
{
	struct sworker *w = arg;
	struct sobj pool[NCACHES][POOL];
	size_t nr[NCACHES] = { 0 };
	struct st_rng r;
	uint32_t seq = 0;
	unsigned long op;
	int ci;

	memset(pool, 0, sizeof(pool));
	st_rng_init(&r, w->seed);
	for (op = 0; op < w->ops && !w->err[0]; op++) {
		size_t n;
		bool alloc;

		if ((op & 1023) == 0 && st_now_ns() > w->deadline)
			break;
		ci = (int)st_below(&r, NCACHES);
		n = nr[ci];
		/* Drift between mostly-alloc and mostly-free phases. */
		alloc = n == 0 || (n < POOL &&
				   st_below(&r, 8) < ((op >> 12) & 1 ? 6u : 3u));
		if (alloc) {
			if (!sw_alloc(w, ci, &pool[ci][n], ++seq))
				break;
			nr[ci]++;
		} else {
			size_t i = st_below(&r, n);

			if (!sw_free(w, ci, &pool[ci][i]))
				break;
			pool[ci][i] = pool[ci][--nr[ci]];
		}
	}
	/* Give everything back, even after an error. */
	for (ci = 0; ci < NCACHES; ci++)
		while (nr[ci]) {
			struct sobj *o = &pool[ci][--nr[ci]];

			if (!w->err[0])
				sw_free(w, ci, o);
			else {
				side_remove(U(o->p));
				kmem_cache_free(w->caches[ci].kc, o->p);
				w->frees[ci]++;
			}
		}
	return NULL;
}

/* 8 threads on the four caches; then every cache is quiescent, its counts
 * match what the threads did, and it destroys cleanly. */
static void stress(int extra_flags, unsigned long ops, unsigned int seconds)
{
	enum { NT = 8 };
	struct scache c[NCACHES] = {
		{ NULL, 32, 0, false },
		{ NULL, 200, 8, false },
		{ NULL, 1000, 8, false },      /* bufctl */
		{ NULL, 64, 0, true },         /* NOTOUCH: side table only */
	};
	const char *names[NCACHES] = { "mt_32", "mt_200", "mt_1000",
				       "mt_nt64" };
	struct sworker *w = calloc(NT, sizeof(*w));
	uint64_t deadline = st_now_ns() + (uint64_t)seconds * 1000000000ull;
	int i, k;

	assert_non_null(w);
	side_init();
	for (k = 0; k < NCACHES; k++)
		c[k].kc = st_create(names[k], c[k].size, c[k].align,
				    extra_flags |
				    (c[k].notouch ? KMC_NOTOUCH : 0), NULL);
	for (i = 0; i < NT; i++) {
		w[i].id = (uint32_t)i + 1;
		w[i].caches = c;
		w[i].ops = ops;
		w[i].deadline = deadline;
		w[i].seed = st_seed(DEFAULT_SEED) + (uint64_t)i * 7919;
		assert_int_equal(pthread_create(&w[i].thread, NULL,
						sworker_main, &w[i]), 0);
	}
	for (i = 0; i < NT; i++)
		assert_int_equal(pthread_join(w[i].thread, NULL), 0);
	for (i = 0; i < NT; i++) {
		if (w[i].err[0])
			print_error("seed %llu: %s\n",
				    (unsigned long long)w[i].seed, w[i].err);
		assert_string_equal(w[i].err, "");
	}
	for (k = 0; k < NCACHES; k++) {
		struct kmem_cache_stats st = st_stats(c[k].kc);
		unsigned long allocs = 0, frees = 0;

		for (i = 0; i < NT; i++) {
			allocs += w[i].allocs[k];
			frees += w[i].frees[k];
		}
		assert_true(allocs > 0);
		assert_stat(st, allocs, allocs);
		assert_stat(st, frees, frees);
		assert_stat(st, live_objs, 0);
		assert_stat(st, debug_errors, 0);
		assert_cache_consistent(st);
		if (k == 2 || k == 3)
			assert_stat(st, uses_bufctl, 1);
		st_destroy(c[k].kc);
	}
	assert_int_equal(st_errors(), 0);
	free(w);
}

static void test_stress_default(void **state)
{
	(void)state;
	stress(0, ST_TSAN ? 40000 : ST_SANITIZED ? 150000 : 400000,
	       ST_TSAN ? 40 : 10);
}

/* 64 slots on this small machine, one per thread, debug caches. */
static void test_stress_64_slots_debug(void **state)
{
	(void)state;
	assert_int_equal(magslab_set_ncpus(64), 0);
	assert_int_equal(magslab_set_pcc_map(MAGSLAB_PCC_BY_THREAD), 0);
	stress(KMC_DEBUG, ST_TSAN ? 20000 : ST_SANITIZED ? 60000 : 150000,
	       ST_TSAN ? 30 : 8);
}

/* One slot shared by all threads, no magazines on the side: the slab layer
 * itself under contention. */
static void test_stress_nomag(void **state)
{
	(void)state;
	assert_int_equal(magslab_set_ncpus(1), 0);
	stress(KMC_NOMAG, ST_TSAN ? 20000 : ST_SANITIZED ? 60000 : 150000,
	       ST_TSAN ? 30 : 8);
}

/* ---- a quantum-caching arena shared by threads ------------------------------------- */

#define QMAP_QUANTA 16384

static _Atomic unsigned char qmap[QMAP_QUANTA];

struct qworker {
	pthread_t thread;
	unsigned char tag;
	struct arena *arena;
	uintptr_t base;
	size_t quantum;
	unsigned long ops;
	uint64_t seed;
	char err[200];
};

static bool q_claim(struct qworker *w, uintptr_t a, size_t nq, bool claim)
{
	size_t q0 = (a - w->base) / w->quantum, q;

	if (a % w->quantum || a < w->base ||
	    q0 + nq > QMAP_QUANTA) {
		snprintf(w->err, sizeof(w->err), "thread %u: segment %#lx "
			 "outside the range or misaligned", w->tag,
			 (unsigned long)a);
		return false;
	}
	for (q = q0; q < q0 + nq; q++) {
		unsigned char want = claim ? 0 : w->tag;
		unsigned char old = atomic_exchange(&qmap[q],
						    claim ? w->tag : 0);

		if (old != want) {
			snprintf(w->err, sizeof(w->err), "thread %u: quantum "
				 "%zu of segment %#lx was tagged %u", w->tag,
				 q - q0, (unsigned long)a, old);
			return false;
		}
	}
	return true;
}

static void *qworker_main(void *arg)
{
	struct qworker *w = arg;
	struct { uintptr_t a; size_t size; } live[128];
	size_t nr = 0;
	struct st_rng r;
	unsigned long op;

	st_rng_init(&r, w->seed);
	for (op = 0; op < w->ops && !w->err[0]; op++) {
		if (nr == 0 || (nr < 128 && st_below(&r, 2))) {
			size_t size = 1 + st_below(&r, 5 * w->quantum);
			void *p = arena_alloc(w->arena, size, MEM_ATOMIC);

			if (!p) {
				snprintf(w->err, sizeof(w->err), "thread %u: "
					 "alloc(%zu) failed: errno %d", w->tag,
					 size, errno);
				break;
			}
			if (!q_claim(w, U(p), (size + w->quantum - 1) /
				     w->quantum, true))
				break;
			live[nr].a = U(p);
			live[nr].size = size;
			nr++;
		} else {
			size_t i = st_below(&r, nr);

			if (!q_claim(w, live[i].a, (live[i].size + w->quantum -
						    1) / w->quantum, false))
				break;
			if (arena_free(w->arena, PTR(live[i].a),
				       live[i].size) != 0) {
				snprintf(w->err, sizeof(w->err), "thread %u: "
					 "free failed: %s", w->tag,
					 magslab_last_error());
				break;
			}
			live[i] = live[--nr];
		}
	}
	while (nr) {
		nr--;
		q_claim(w, live[nr].a, (live[nr].size + w->quantum - 1) /
			w->quantum, false);
		arena_free(w->arena, PTR(live[nr].a), live[nr].size);
	}
	return NULL;
}

static void test_qcache_arena_threads(void **state)
{
	enum { NT = 4 };
	size_t ps = st_page();
	struct st_region r;
	struct arena *a;
	struct qworker w[NT];
	int i;

	(void)state;
	a = st_region_arena(&r, "mt_qcache", QMAP_QUANTA * ps, PROT_NONE, ps,
			    4 * ps);
	for (i = 0; i < QMAP_QUANTA; i++)
		atomic_init(&qmap[i], 0);
	memset(w, 0, sizeof(w));
	for (i = 0; i < NT; i++) {
		w[i].tag = (unsigned char)(i + 1);
		w[i].arena = a;
		w[i].base = U(r.base);
		w[i].quantum = ps;
		w[i].ops = ST_TSAN ? 20000 : 100000;
		w[i].seed = st_seed(DEFAULT_SEED) + (uint64_t)i * 31;
		assert_int_equal(pthread_create(&w[i].thread, NULL,
						qworker_main, &w[i]), 0);
	}
	for (i = 0; i < NT; i++)
		assert_int_equal(pthread_join(w[i].thread, NULL), 0);
	for (i = 0; i < NT; i++) {
		if (w[i].err[0])
			print_error("%s\n", w[i].err);
		assert_string_equal(w[i].err, "");
	}
	assert_arena_check(a);
	st_region_destroy(&r);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, st_mt_setup, st_mt_teardown)
	const struct CMUnitTest tests[] = {
		T(test_memwait_nomag),
		T(test_memwait_magazines),
		T(test_memwait_free_while_waiting_nomag),
		T(test_memwait_free_while_waiting_magazines),
		T(test_resize_akaros_grows),
		T(test_resize_high_threshold_stays),
		T(test_resize_adaptive_grows),
		T(test_resize_illumos_grows),
		T(test_resize_uma_grows_and_reap_shrinks),
		T(test_tunables_while_busy),
		T(test_stress_default),
		T(test_stress_64_slots_debug),
		T(test_stress_nomag),
		T(test_qcache_arena_threads),
	};
#undef T

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
