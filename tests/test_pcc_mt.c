/*
 * test_pcc_mt.c — the per-CPU caches under preemption, migration and
 * signals, in whichever pcc mode the cache gets (rseq where it can serve,
 * else locked; also run under TSan, where it is always locked).
 *
 *   storm: 4 threads per CPU allocate and free on one cache while a mover
 *       thread re-pins a random worker to a random CPU (or lets it run
 *       anywhere) and signals one every 100 us, and an ITIMER_PROF timer
 *       interrupts whoever is running.  Every interruption of a restartable
 *       sequence aborts it, so the rseq mode's aborts and retries are
 *       exercised here, not just its hits.
 *   Each object carries its holder: word 1 is swapped atomically to the
 *   holder's tag on alloc (it must have been 0: the ctor writes 0 and every
 *   free puts 0 back) and back to 0 on free, words 2..7 a stamp (tag,
 *   sequence) checked on free.  So an object handed to two threads at once,
 *   or written by the allocator while held, is caught.  Objects also travel
 *   between threads through a mailbox (freed by another thread than the one
 *   that allocated them).
 *   At the end: the cache's allocs and frees equal the operations the
 *   threads did, live objects equal their difference, every object that left
 *   a slab is held or in a magazine, every free ended in a magazine
 *   (pcc_hits + objs_in_mags == 2 * frees, without reap or purge), and the
 *   cache can be destroyed.
 *   remote: the same storm plus a thread reading kmem_cache_stats() and the
 *       per-slot magsizes in a loop (monotone counters, the mode reported),
 *       and a third switching the policy, changing tunables and reaping.
 *
 * Bounded by the watchdog (10 s of storm at most; 2 s here, less under
 * sanitizers).  Worker threads never call cmocka asserts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "slab_test_util.h"

#include <sys/time.h>

#define OBJ_WORDS   8
#define MAX_HELD    48
#define NR_MAILBOX  64
#define MAILBOX_TAG 0x4d41494cu          /* "MAIL": in a mailbox, not held */

struct obj {
	uintptr_t slab_word;            /* the slab layer's free-list link */
	_Atomic uintptr_t holder;       /* 0, a worker's tag or MAILBOX_TAG */
	uint64_t stamp[OBJ_WORDS - 2];
};

struct storm {
	struct kmem_cache *kc;
	atomic_bool stop;
	_Atomic(struct obj *) mailbox[NR_MAILBOX];
	atomic_ulong migrations, signals, mailed;
};

struct worker {
	pthread_t thread;
	struct storm *s;
	uintptr_t tag;
	uint64_t seed;
	uint64_t allocs, frees, seq;
	struct obj *held[MAX_HELD];
	unsigned int nr_held;
	char err[200];
};

static int obj_ctor(void *p, void *priv, int flags)
{
	(void)priv, (void)flags;
	atomic_store(&((struct obj *)p)->holder, 0);
	return 0;
}

static void on_signal(int sig)
{
	(void)sig;
}

static void stamp(struct obj *o, uintptr_t tag, uint64_t seq)
{
	for (int i = 0; i < OBJ_WORDS - 2; i++)
		o->stamp[i] = ((uint64_t)tag << 32) ^ seq ^ (uint64_t)i;
}

static bool stamp_ok(const struct obj *o, uintptr_t tag)
{
	uint64_t seq = o->stamp[0] ^ ((uint64_t)tag << 32);

	for (int i = 0; i < OBJ_WORDS - 2; i++)
		if (o->stamp[i] != (((uint64_t)tag << 32) ^ seq ^ (uint64_t)i))
			return false;
	return true;
}

/* Takes o as w's (it must have been `from`). */
static bool claim(struct worker *w, struct obj *o, uintptr_t from)
{
	uintptr_t was = from;

	if (!atomic_compare_exchange_strong(&o->holder, &was, w->tag)) {
		snprintf(w->err, sizeof(w->err), "object %p handed to tag %lu "
			 "while held by %lu (expected %lu)", (void *)o,
			 (unsigned long)w->tag, (unsigned long)was,
			 (unsigned long)from);
		return false;
	}
	stamp(o, w->tag, ++w->seq);
	w->held[w->nr_held++] = o;
	return true;
}

static bool do_alloc(struct worker *w)
{
	struct obj *o = kmem_cache_alloc(w->s->kc, MEM_ATOMIC);

	if (!o) {
		snprintf(w->err, sizeof(w->err), "alloc failed: %s",
			 magslab_last_error());
		return false;
	}
	w->allocs++;
	return claim(w, o, 0);
}

/* Checks and gives up held[i]: to the cache, or into a mailbox. */
static bool do_release(struct worker *w, unsigned int i, bool mail)
{
	struct obj *o = w->held[i];
	uintptr_t was;

	if (!stamp_ok(o, w->tag)) {
		snprintf(w->err, sizeof(w->err), "object %p: stamp of tag %lu "
			 "overwritten while held", (void *)o,
			 (unsigned long)w->tag);
		return false;
	}
	w->held[i] = w->held[--w->nr_held];
	was = atomic_exchange(&o->holder, mail ? MAILBOX_TAG : 0);
	if (was != w->tag) {
		snprintf(w->err, sizeof(w->err), "object %p held by %lu, not "
			 "by its holder %lu", (void *)o, (unsigned long)was,
			 (unsigned long)w->tag);
		return false;
	}
	if (mail) {
		struct obj *none = NULL;
		unsigned int slot = (unsigned int)(w->seq % NR_MAILBOX);

		if (atomic_compare_exchange_strong(&w->s->mailbox[slot], &none,
						   o)) {
			atomic_fetch_add(&w->s->mailed, 1);
			return true;
		}
		atomic_store(&o->holder, 0);    /* box taken: free it instead */
	}
	kmem_cache_free(w->s->kc, o);
	w->frees++;
	return true;
}

static bool do_fetch_mail(struct worker *w, unsigned int slot)
{
	struct obj *o = atomic_exchange(&w->s->mailbox[slot], NULL);

	return !o || claim(w, o, MAILBOX_TAG);
}

static bool worker_step(struct worker *w, struct st_rng *r)
{
	unsigned int dice = (unsigned int)st_below(r, 16);

	if (dice == 0 && w->nr_held < MAX_HELD)
		return do_fetch_mail(w, (unsigned int)st_below(r, NR_MAILBOX));
	if (w->nr_held == MAX_HELD || (w->nr_held && dice < 7))
		return do_release(w, (unsigned int)st_below(r, w->nr_held),
				  dice == 1);
	return do_alloc(w);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct st_rng r;

	st_rng_init(&r, w->seed);
	while (!atomic_load_explicit(&w->s->stop, memory_order_relaxed)) {
		for (int i = 0; i < 64; i++)
			if (!worker_step(w, &r))
				return NULL;
	}
	while (w->nr_held)
		if (!do_release(w, w->nr_held - 1, false))
			return NULL;
	return NULL;
}

/* ---- the mover: migrations and signals --------------------------------- */

struct mover {
	pthread_t thread;
	struct storm *s;
	struct worker *w;
	unsigned int nr;
};

static void move_one(struct mover *m, struct st_rng *r)
{
	struct worker *w = &m->w[st_below(r, m->nr)];
	unsigned int cpus = st_online_cpus();
	cpu_set_t set;

	CPU_ZERO(&set);
	if (st_below(r, 4) == 0) {
		for (unsigned int c = 0; c < cpus && c < CPU_SETSIZE; c++)
			CPU_SET(c, &set);
	} else {
		CPU_SET((int)st_below(r, cpus), &set);
	}
	if (pthread_setaffinity_np(w->thread, sizeof(set), &set) == 0)
		atomic_fetch_add(&m->s->migrations, 1);
	if (pthread_kill(m->w[st_below(r, m->nr)].thread, SIGUSR1) == 0)
		atomic_fetch_add(&m->s->signals, 1);
}

static void *mover_main(void *arg)
{
	struct mover *m = arg;
	struct timespec pause = { 0, 100 * 1000 };
	struct st_rng r;

	st_rng_init(&r, st_seed(0x6d6f766572ull));
	while (!atomic_load(&m->s->stop)) {
		move_one(m, &r);
		nanosleep(&pause, NULL);
	}
	return NULL;
}

/* ---- the remote side: a stats reader and a tuner ------------------------ */

struct remote {
	pthread_t reader, tuner;
	struct storm *s;
	const char *mode;
	unsigned long reads, tunes;
	char err[200];
};

static void *reader_main(void *arg)
{
	struct remote *rm = arg;
	struct kmem_cache_stats st;
	unsigned int ms[64];
	uint64_t last_allocs = 0, last_frees = 0;

	while (!atomic_load(&rm->s->stop)) {
		kmem_cache_stats(rm->s->kc, &st);
		if (st.allocs < last_allocs || st.frees < last_frees) {
			snprintf(rm->err, sizeof(rm->err), "stats went back: "
				 "allocs %llu -> %llu, frees %llu -> %llu",
				 (unsigned long long)last_allocs,
				 (unsigned long long)st.allocs,
				 (unsigned long long)last_frees,
				 (unsigned long long)st.frees);
			return NULL;
		}
		if (strcmp(st.pcc_mode, rm->mode)) {
			snprintf(rm->err, sizeof(rm->err), "mode %s, expected "
				 "%s", st.pcc_mode, rm->mode);
			return NULL;
		}
		last_allocs = st.allocs;
		last_frees = st.frees;
		kmem_cache_pcc_magsizes(rm->s->kc, ms, 64);
		rm->reads++;
	}
	return NULL;
}

static void *tuner_main(void *arg)
{
	static const char *const policies[] = { "akaros", "uma", "adaptive",
						"illumos" };
	struct remote *rm = arg;
	struct timespec pause = { 0, 2 * 1000 * 1000 };

	while (!atomic_load(&rm->s->stop)) {
		struct kmem_cache *kc = rm->s->kc;

		kmem_cache_set_policy(kc, policies[rm->tunes % 4]);
		kmem_cache_set_resize_threshold(kc, rm->tunes % 3);
		kmem_cache_set_resize_timeout_ns(kc, 1000000 + rm->tunes);
		if (rm->tunes % 5 == 0)
			kmem_cache_set_magsize(kc, 8 + (unsigned)(rm->tunes % 40));
		kmem_cache_reap(kc);
		rm->tunes++;
		nanosleep(&pause, NULL);
	}
	return NULL;
}

/* ---- the test body --------------------------------------------------------- */

static int group_setup(void **state)
{
	struct sigaction sa;

	(void)state;
	st_install_handler();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGPROF, &sa, NULL);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	st_reset_settings();
	magslab_set_error_handler(NULL, NULL);
	return 0;
}

static int setup(void **state)
{
	(void)state;
	st_reset_settings();
	st_reset_errors();
	st_watchdog(ST_TSAN ? 120 : 60);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	st_watchdog_off();
	st_reset_settings();
	return 0;
}

static void prof_timer(long usec)
{
	struct itimerval it = { { 0, usec }, { 0, usec } };

	assert_int_equal(setitimer(ITIMER_PROF, &it, NULL), 0);
}

static unsigned int storm_ms(void)
{
	return ST_SANITIZED ? 1000 : 2000;
}

/* Runs the storm for storm_ms(); rm (may be NULL) adds the remote side. */
static void run_storm(struct storm *s, struct worker *w, unsigned int nw,
		      struct remote *rm)
{
	struct mover m = { .s = s, .w = w, .nr = nw };
	unsigned int i;

	for (i = 0; i < nw; i++) {
		w[i].s = s;
		w[i].tag = i + 1;
		w[i].seed = st_seed(0x70636373ull) + i * 7919;
		assert_int_equal(pthread_create(&w[i].thread, NULL,
						worker_main, &w[i]), 0);
	}
	assert_int_equal(pthread_create(&m.thread, NULL, mover_main, &m), 0);
	if (rm) {
		assert_int_equal(pthread_create(&rm->reader, NULL, reader_main,
						rm), 0);
		assert_int_equal(pthread_create(&rm->tuner, NULL, tuner_main,
						rm), 0);
	}
	prof_timer(100);
	st_sleep_ms(storm_ms());
	atomic_store(&s->stop, true);
	prof_timer(0);
	assert_int_equal(pthread_join(m.thread, NULL), 0);
	if (rm) {
		assert_int_equal(pthread_join(rm->reader, NULL), 0);
		assert_int_equal(pthread_join(rm->tuner, NULL), 0);
	}
	for (i = 0; i < nw; i++)
		assert_int_equal(pthread_join(w[i].thread, NULL), 0);
	for (i = 0; i < nw; i++) {
		if (w[i].err[0])
			print_error("worker %u: %s\n", i, w[i].err);
		assert_string_equal(w[i].err, "");
	}
}

/* The main thread takes what is left in the mailboxes and frees it. */
static uint64_t drain_mail(struct storm *s)
{
	uint64_t n = 0;

	for (unsigned int i = 0; i < NR_MAILBOX; i++) {
		struct obj *o = atomic_exchange(&s->mailbox[i], NULL);

		if (!o)
			continue;
		assert_int_equal(atomic_exchange(&o->holder, 0), MAILBOX_TAG);
		kmem_cache_free(s->kc, o);
		n++;
	}
	return n;
}

static void check_counts(struct storm *s, struct worker *w, unsigned int nw,
			 bool no_reap)
{
	uint64_t allocs = 0, frees = drain_mail(s);
	struct kmem_cache_stats st = st_stats(s->kc);

	for (unsigned int i = 0; i < nw; i++) {
		allocs += w[i].allocs;
		frees += w[i].frees;
	}
	print_message("    mode %s: %llu allocs, %llu frees, %llu pcc hits, "
		      "%llu aborts, %llu contended; %lu migrations, %lu "
		      "signals, %lu mailed\n", st.pcc_mode,
		      (unsigned long long)st.allocs,
		      (unsigned long long)st.frees,
		      (unsigned long long)st.pcc_hits,
		      (unsigned long long)st.pcc_aborts,
		      (unsigned long long)st.pcc_contended,
		      atomic_load(&s->migrations), atomic_load(&s->signals),
		      atomic_load(&s->mailed));
	assert_stat(st, allocs, allocs);
	assert_stat(st, frees, frees);
	assert_stat(st, live_objs, allocs - frees);
	assert_stat(st, live_objs, 0);
	assert_cache_consistent(st);
	if (no_reap)    /* every free ended in a magazine, none left one */
		assert_stat(st, pcc_hits + st.objs_in_mags, 2 * st.frees);
	/* The storm must have restarted rseq fast paths (or the abort path
	 * went untested); the locked mode has none to restart. */
	if (!strcmp(st.pcc_mode, "rseq"))
		assert_true(st.pcc_aborts > 0);
	else
		assert_stat(st, pcc_aborts, 0);
	assert_true(atomic_load(&s->migrations) > 0);
}

static struct kmem_cache *storm_cache(const char *name)
{
	struct kmem_cache *kc = kmem_cache_create(name, sizeof(struct obj), 0,
						  0, NULL, obj_ctor, NULL,
						  NULL);

	assert_non_null(kc);
	assert_string_equal(st_stats(kc).pcc_mode,
			    st_expected_pcc_mode(st_online_cpus(),
						 MAGSLAB_PCC_BY_CPU));
	return kc;
}

static void test_storm(void **state)
{
	unsigned int nw = 4 * st_online_cpus();
	struct storm *s = calloc(1, sizeof(*s));
	struct worker *w = calloc(nw, sizeof(*w));

	(void)state;
	assert_non_null(s);
	assert_non_null(w);
	s->kc = storm_cache("pcc_storm");
	run_storm(s, w, nw, NULL);
	check_counts(s, w, nw, true);
	st_destroy(s->kc);
	free(w);
	free(s);
}

static void test_storm_remote(void **state)
{
	unsigned int nw = 4 * st_online_cpus();
	struct storm *s = calloc(1, sizeof(*s));
	struct worker *w = calloc(nw, sizeof(*w));
	struct remote rm = { .s = s };

	(void)state;
	assert_non_null(s);
	assert_non_null(w);
	s->kc = storm_cache("pcc_storm_remote");
	rm.mode = st_stats(s->kc).pcc_mode[0] == 'r' ? "rseq" : "locked";
	run_storm(s, w, nw, &rm);
	if (rm.err[0])
		print_error("remote: %s\n", rm.err);
	assert_string_equal(rm.err, "");
	print_message("    %lu stats reads, %lu tuning rounds\n", rm.reads,
		      rm.tunes);
	assert_true(rm.reads > 0);
	assert_true(rm.tunes > 0);
	check_counts(s, w, nw, false);
	st_destroy(s->kc);
	free(w);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_storm, setup, teardown),
		cmocka_unit_test_setup_teardown(test_storm_remote, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
