/*
 * trace_scenarios.c — workloads that make every magslab trace event appear,
 * for tests/lttng-session.sh, which runs each one under a private LTTng
 * session and checks the recorded trace.
 *
 *   trace_scenarios SCENARIO [ARG]
 *
 * Not a cmocka program (it is not tests/test_*.c): it only drives the
 * library and prints what the checker needs to know on stdout, one record a
 * line, as space-separated key=value words:
 *
 *   cache name=N id=I          a cache the scenario made (before any event
 *   arena name=N id=I          of it is checked) / an arena
 *   stats cache=I name=N K=V...  kmem_cache_stats() of every listed cache,
 *                                named as the trace checker names its counts
 *   expect K=V                 something the scenario itself knows
 *   note ...                   free text for the log
 *
 * The stats keys are event names with a qualifier: mag_swap.alloc is
 * mag_swaps[KMEM_ALLOC_SIDE], depot_exchange.alloc is depot_gets (and
 * depot_puts: the program checks they are equal) of that side,
 * depot_contention.counted is
 * depot_contended_counted, magsize_bump.up is magsize_up, hash_resize.ok is
 * hash_resizes (kind cache, ok = 1), and so on (see print_stats()).
 *
 * Exit status 0 when the scenario did what it needs to (the trace is then
 * the checker's business), 1 with a message on stderr otherwise.
 */
#include <magslab/arena.h>
#include <magslab/error.h>
#include <magslab/slab.h>

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define PTR(x) ((void *)(uintptr_t)(x))

static const char *prog = "trace_scenarios";

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

/* Library reports: print them (a scenario that expects none fails on the
 * checker's side when stderr is not empty). */
static void report_handler(const char *msg, void *arg)
{
	(void)arg;
	fprintf(stderr, "magslab: %s\n", msg);
}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static struct kmem_cache *make_cache(const char *name, size_t size, int flags)
{
	struct kmem_cache *kc = kmem_cache_create(name, size, 0, flags, NULL,
						  NULL, NULL, NULL);

	if (!kc)
		die("kmem_cache_create(%s): %s", name, strerror(errno));
	printf("cache name=%s id=%" PRIu32 "\n", name, kmem_cache_id(kc));
	return kc;
}

static struct arena *make_arena(const char *name, void *base, size_t size,
				size_t quantum, struct arena *source,
				size_t qcache_max)
{
	struct arena *a = arena_create(name, base, size, quantum, NULL, NULL,
				       source, qcache_max, 0);

	if (!a)
		die("arena_create(%s): %s", name, strerror(errno));
	printf("arena name=%s id=%" PRIu32 "\n", name, arena_id(a));
	return a;
}

static void *alloc_or_die(struct kmem_cache *kc)
{
	void *p = kmem_cache_alloc(kc, MEM_ATOMIC);

	if (!p)
		die("kmem_cache_alloc(%s): %s", kmem_cache_name(kc),
		    strerror(errno));
	return p;
}

static void **alloc_array(size_t n)
{
	void **v = calloc(n, sizeof(*v));

	if (!v)
		die("calloc: out of memory");
	return v;
}

static void alloc_n(struct kmem_cache *kc, void **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		v[i] = alloc_or_die(kc);
}

static void free_n(struct kmem_cache *kc, void **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		kmem_cache_free(kc, v[i]);
}

/* ---- stats ------------------------------------------------------------- */

static void print_stats(struct kmem_cache *kc, void *arg)
{
	struct kmem_cache_stats st;

	(void)arg;
	if (kmem_cache_stats(kc, &st))
		die("kmem_cache_stats(%s) failed", kmem_cache_name(kc));
	printf("stats cache=%" PRIu32 " name=%s"
	       " mag_swap.alloc=%" PRIu64 " mag_swap.free=%" PRIu64
	       " depot_exchange.alloc=%" PRIu64 " depot_exchange.free=%" PRIu64
	       " depot_miss.alloc=%" PRIu64 " depot_miss.free=%" PRIu64
	       " depot_contention=%" PRIu64
	       " depot_contention.counted=%" PRIu64
	       " magsize_bump.up=%" PRIu64 " magsize_bump.down=%" PRIu64
	       " hash_resize.ok=%" PRIu64 " pcc_contention=%" PRIu64
	       " slab_grow=%" PRIu64 " slab_release=%" PRIu64
	       " reap=%" PRIu64 "\n",
	       kmem_cache_id(kc), kmem_cache_name(kc),
	       st.mag_swaps[0], st.mag_swaps[1],
	       st.depot_gets[0], st.depot_gets[1],
	       st.depot_misses[0], st.depot_misses[1],
	       st.depot_contended, st.depot_contended_counted,
	       st.magsize_up, st.magsize_down,
	       st.hash_resizes, st.pcc_contended,
	       st.slab_grows, st.slab_releases, st.reaps);
	/* One depot_exchange event per exchange stands for a get and a put. */
	if (st.depot_gets[0] != st.depot_puts[0] || st.depot_gets[1] != st.depot_puts[1])
		die("cache %s: depot gets %" PRIu64 "/%" PRIu64 " != puts %" PRIu64 "/%" PRIu64,
		    kmem_cache_name(kc), st.depot_gets[0], st.depot_gets[1], st.depot_puts[0],
		    st.depot_puts[1]);
	printf("note cache=%" PRIu32 " name=%s magsize=%u allocs=%" PRIu64
	       " frees=%" PRIu64 " hits=%" PRIu64 " live=%" PRIu64 " hash_lists=%" PRIu64 "\n",
	       kmem_cache_id(kc), kmem_cache_name(kc), st.magsize, st.allocs,
	       st.frees, st.pcc_hits, st.live_objs, st.hash_lists);
}

static void print_all_stats(void)
{
	kmem_cache_for_each(print_stats, NULL);
	fflush(stdout);
}

static void one_slot(void)
{
	if (magslab_set_ncpus(1) || magslab_set_pcc_map(MAGSLAB_PCC_BY_CPU))
		die("cannot set one pcc slot");
}

/* ---- scenarios --------------------------------------------------------- */

/* cache_create/destroy, arena_create/import/release/fail/destroy,
 * workload_phase. */
static int sc_lifecycle(void)
{
	struct kmem_cache *kc = make_cache("tr_life", 100, 0);
	/* Integer ranges only: arenas never touch the memory they manage. */
	struct arena *src = make_arena("tr_src", PTR(0x10000000), 1 << 24,
				       4096, NULL, 0);
	struct arena *imp = make_arena("tr_imp", NULL, 0, 4096, src, 0);
	void *p, *q;

	printf("expect src_base=%u src_size=%u\n", 0x10000000u, 1u << 24);
	magslab_trace_phase("tr_phase", 7);
	q = alloc_or_die(kc);
	kmem_cache_free(kc, q);
	p = arena_alloc(imp, 8192, MEM_ATOMIC);
	if (!p)
		die("arena_alloc(tr_imp) failed");
	if (arena_free(imp, p, 8192))
		die("arena_free(tr_imp) failed");
	/* A bounded arena: 1 GiB does not fit in 16 MiB. */
	if (arena_alloc(src, (size_t)1 << 30, MEM_ATOMIC))
		die("arena_alloc(tr_src, 1 GiB) succeeded");
	printf("expect fail_size=%zu fail_flags=%d\n", (size_t)1 << 30,
	       MEM_ATOMIC);
	magslab_trace_phase("tr_phase_end", 8);
	if (arena_destroy(imp) || arena_destroy(src))
		die("arena_destroy failed");
	if (kmem_cache_destroy(kc))
		die("kmem_cache_destroy(tr_life) failed");
	return 0;
}

/*
 * mag_swap and depot_exchange on both sides, depot_miss to_slab and
 * new_magazine: one slot, 200 objects out (every alloc misses the empty
 * depot), back (the frees fill magazines and need new ones), out again
 * (full magazines come back from the depot).
 */
static int sc_magazines(void)
{
	enum { N = 200 };
	void **v = alloc_array(N);
	struct kmem_cache *kc;

	one_slot();
	kc = make_cache("tr_mag", 64, 0);
	alloc_n(kc, v, N);
	free_n(kc, v, N);
	alloc_n(kc, v, N);
	free_n(kc, v, N);
	print_all_stats();
	free(v);
	return 0;
}

/*
 * depot_miss outcome no_magazine: the free path cannot get a magazine.
 * Magazines come from the internal magazine cache, whose slabs are pages of
 * the base arena, which maps from the OS in chunks of 16 MiB.  With
 * RLIMIT_AS just above the current size the base arena cannot map another
 * chunk; taking every page it has left (64 KiB pieces, then pages) leaves
 * the magazine cache nothing to grow with.  Frees of objects allocated
 * before then fill the magazines there are, then miss with no_magazine
 * (the first misses may still find a magazine: new_magazine).
 */
static size_t vm_size_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	unsigned long pages = 0;

	if (!f || fscanf(f, "%lu", &pages) != 1)
		die("cannot read /proc/self/statm");
	fclose(f);
	return pages * (size_t)sysconf(_SC_PAGESIZE);
}

static int sc_no_magazine(void)
{
	enum { N = 3000, MAX_HOG = 8192 };
	static void *hog[MAX_HOG];
	static size_t hog_size[MAX_HOG];
	size_t nhog = 0, sizes[] = { 1 << 16, 1 << 12 };
	void **v = alloc_array(N);
	struct kmem_cache *kc;
	struct rlimit old, lim;
	struct arena *base = arena_base();

	one_slot();
	kc = make_cache("tr_nomagazine", 64, 0);
	alloc_n(kc, v, N);
	if (getrlimit(RLIMIT_AS, &old))
		die("getrlimit: %s", strerror(errno));
	fflush(stdout);
	lim = old;
	lim.rlim_cur = vm_size_bytes() + (1 << 20);
	if (setrlimit(RLIMIT_AS, &lim))
		die("setrlimit: %s", strerror(errno));
	for (size_t i = 0; i < 2; i++)
		while (nhog < MAX_HOG &&
		       (hog[nhog] = arena_alloc(base, sizes[i], MEM_ATOMIC)))
			hog_size[nhog++] = sizes[i];
	free_n(kc, v, N);
	for (size_t i = 0; i < nhog; i++)
		if (arena_free(base, hog[i], hog_size[i]))
			die("arena_free(base) failed");
	if (setrlimit(RLIMIT_AS, &old))
		die("setrlimit (restore): %s", strerror(errno));
	printf("note base arena pieces taken: %zu\n", nhog);
	if (nhog == MAX_HOG)
		die("the base arena did not run out");
	print_all_stats();
	free(v);
	return 0;
}

/* magsize_bump reason user (up and down) and pcc_magsize. */
static int sc_magsize_user(void)
{
	enum { N = 300 };
	void **v = alloc_array(N);
	struct kmem_cache *kc;

	one_slot();
	kc = make_cache("tr_user", 64, 0);
	alloc_n(kc, v, N);
	free_n(kc, v, N);          /* the pcc visits the depot on frees */
	if (kmem_cache_set_magsize(kc, 30))
		die("kmem_cache_set_magsize(30) failed");
	alloc_n(kc, v, N);
	free_n(kc, v, N);          /* adopts 30: pcc_magsize 8 -> 30 */
	if (kmem_cache_set_magsize(kc, 12))
		die("kmem_cache_set_magsize(12) failed");
	alloc_n(kc, v, N);
	free_n(kc, v, N);          /* adopts 12 */
	print_all_stats();
	free(v);
	return 0;
}

/* hash_resize kind cache (a bufctl cache) and kind arena. */
static int sc_hash(void)
{
	enum { NOBJ = 6000, NSEG = 6000 };
	void **v = alloc_array(NOBJ > NSEG ? NOBJ : NSEG);
	struct kmem_cache *kc;
	struct arena *a;

	one_slot();
	kc = make_cache("tr_hash", 1024, 0);
	alloc_n(kc, v, NOBJ);
	free_n(kc, v, NOBJ);
	a = make_arena("tr_hash_arena", PTR(0x100000000ULL), (size_t)1 << 32,
		       4096, NULL, 0);
	for (size_t i = 0; i < NSEG; i++)
		if (!(v[i] = arena_alloc(a, 4096, MEM_ATOMIC)))
			die("arena_alloc(tr_hash_arena) failed");
	for (size_t i = 0; i < NSEG; i++)
		if (arena_free(a, v[i], 4096))
			die("arena_free(tr_hash_arena) failed");
	print_all_stats();
	if (arena_destroy(a))
		die("arena_destroy(tr_hash_arena) failed");
	free(v);
	return 0;
}

/*
 * slab_grow, slab_release, reap.  A no-magazine cache gives frees straight
 * back to its slabs, so the reap with reap_keep 0 releases them all; a
 * magazine cache's reap frees the depot's empty magazines.
 */
static int sc_reap(void)
{
	enum { N = 2000 };
	void **v = alloc_array(N);
	struct kmem_cache *nm, *mc;
	size_t got;

	one_slot();
	nm = make_cache("tr_reap_nomag", 128, KMC_NOMAG);
	mc = make_cache("tr_reap_mag", 128, 0);
	if (kmem_cache_set_reap_keep(nm, 0) || kmem_cache_set_reap_keep(mc, 0))
		die("kmem_cache_set_reap_keep failed");
	alloc_n(nm, v, N);
	free_n(nm, v, N);
	got = kmem_cache_reap(nm);
	printf("expect reap_nomag_bytes=%zu\n", got);
	if (!got)
		die("reap of tr_reap_nomag gave nothing back");
	alloc_n(mc, v, N);
	free_n(mc, v, N);
	alloc_n(mc, v, N);         /* full magazines back out: empty ones stay */
	got = kmem_cache_reap(mc);
	printf("expect reap_mag_bytes=%zu\n", got);
	free_n(mc, v, N);
	print_all_stats();
	free(v);
	return 0;
}

/* ---- threads ------------------------------------------------------------ */

struct hammer {
	pthread_t thread;
	struct kmem_cache *kc;
	size_t batch;
	unsigned int rounds;
	atomic_bool *go;
	const char *err;
};

static void *hammer_main(void *arg)
{
	struct hammer *h = arg;
	void **v = calloc(h->batch, sizeof(*v));

	if (!v) {
		h->err = "calloc failed";
		return NULL;
	}
	while (!atomic_load(h->go))
		;
	for (unsigned int r = 0; r < h->rounds; r++) {
		for (size_t i = 0; i < h->batch; i++) {
			v[i] = kmem_cache_alloc(h->kc, MEM_ATOMIC);
			if (!v[i]) {
				h->err = "kmem_cache_alloc failed";
				h->batch = i;
				break;
			}
		}
		for (size_t i = 0; i < h->batch; i++)
			kmem_cache_free(h->kc, v[i]);
		if (h->err)
			break;
	}
	free(v);
	return NULL;
}

/* nthreads threads run batch alloc/free rounds on kc. */
static void hammer(struct kmem_cache *kc, unsigned int nthreads, size_t batch,
		   unsigned int rounds)
{
	struct hammer h[64];
	atomic_bool go = false;

	if (nthreads > 64)
		nthreads = 64;
	for (unsigned int i = 0; i < nthreads; i++) {
		h[i] = (struct hammer){ .kc = kc, .batch = batch,
					.rounds = rounds, .go = &go };
		if (pthread_create(&h[i].thread, NULL, hammer_main, &h[i]))
			die("pthread_create failed");
	}
	atomic_store(&go, true);
	for (unsigned int i = 0; i < nthreads; i++) {
		pthread_join(h[i].thread, NULL);
		if (h[i].err)
			die("thread %u: %s", i, h[i].err);
	}
}

/* Contention needs the threads to meet at the right moment: repeat the
 * hammering until done(kc) says it happened, for at most 20 s. */
static void hammer_until(struct kmem_cache *kc, unsigned int nthreads,
			 size_t batch, unsigned int rounds,
			 bool (*done)(const struct kmem_cache_stats *st),
			 const char *what)
{
	struct timespec t0, t;
	struct kmem_cache_stats st;
	unsigned int passes = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		hammer(kc, nthreads, batch, rounds);
		passes++;
		if (kmem_cache_stats(kc, &st))
			die("kmem_cache_stats failed");
		if (done(&st))
			break;
		clock_gettime(CLOCK_MONOTONIC, &t);
		if (t.tv_sec - t0.tv_sec > 20)
			die("%s: no %s after %u passes of %u threads", kmem_cache_name(kc),
			    what, passes, nthreads);
	}
	printf("note %s: %s after %u pass(es)\n", kmem_cache_name(kc), what,
	       passes);
}

static bool grew_by_threshold(const struct kmem_cache_stats *st)
{
	return st->magsize_up >= 1 && st->depot_contended_counted >= 2;
}

static bool pcc_contended(const struct kmem_cache_stats *st)
{
	return st->pcc_contended >= 1;
}

static bool both_contended(const struct kmem_cache_stats *st)
{
	return st->pcc_contended >= 1 && st->depot_contended >= 1;
}

/*
 * depot_contention and magsize_bump reason threshold: 8 threads, one pcc
 * slot each (by thread), so they meet only at the depot; batches larger
 * than a magazine make every round trip through it.  Akaros policy,
 * threshold 1, 1 s window: two counted contentions in a second grow it.
 */
static int sc_contention(void)
{
	struct kmem_cache *kc;

	if (magslab_set_ncpus(8) || magslab_set_pcc_map(MAGSLAB_PCC_BY_THREAD))
		die("cannot set 8 slots by thread");
	kc = make_cache("tr_contention", 64, 0);
	if (kmem_cache_set_resize_threshold(kc, 1))
		die("kmem_cache_set_resize_threshold failed");
	hammer_until(kc, 8, 400, 100, grew_by_threshold,
		     "counted depot contention and a threshold grow");
	print_all_stats();
	return 0;
}

/* pcc_contention: one pcc slot shared by 4 threads. */
static int sc_pcc_contention(void)
{
	struct kmem_cache *kc;

	one_slot();
	kc = make_cache("tr_pcc", 64, 0);
	hammer_until(kc, 4, 100, 300, pcc_contended, "pcc contention");
	print_all_stats();
	return 0;
}

/*
 * The counters-equal-events workload: one thread, one slot, a fixed
 * pseudo-random sequence of batch allocs and frees over five caches (small,
 * bufctl with its hash, no magazines, uma policy, a page-sized one), with
 * magsize changes by the user and reaps (uma shrinks on reap) along the way.
 * Everything it does is the same from run to run.
 */
#define DET_CACHES 5
#define DET_CAP    12000

static int sc_deterministic(void)
{
	static void *held[DET_CACHES][DET_CAP];
	size_t nheld[DET_CACHES] = { 0 };
	struct kmem_cache *kc[DET_CACHES];

	one_slot();
	kc[0] = make_cache("det_small", 48, 0);
	kc[1] = make_cache("det_bufctl", 1024, 0);
	kc[2] = make_cache("det_nomag", 128, KMC_NOMAG);
	kc[3] = make_cache("det_uma", 200, 0);
	kc[4] = make_cache("det_page", 4096, 0);
	if (kmem_cache_set_policy(kc[3], "uma"))
		die("kmem_cache_set_policy(uma) failed");
	for (int i = 0; i < DET_CACHES; i++)
		if (kmem_cache_set_reap_keep(kc[i], i % 2))
			die("kmem_cache_set_reap_keep failed");
	for (unsigned int step = 0; step < 6000; step++) {
		int c = (int)(rng() % DET_CACHES);
		size_t n = 1 + rng() % 300;
		bool do_alloc = rng() % 2 == 0 || nheld[c] == 0;

		if (step % 1000 == 0)
			magslab_trace_phase("det_step", step);
		if (do_alloc) {
			for (size_t i = 0; i < n && nheld[c] < DET_CAP; i++)
				held[c][nheld[c]++] = alloc_or_die(kc[c]);
		} else {
			for (size_t i = 0; i < n && nheld[c] > 0; i++) {
				/* Not LIFO: free a random held object. */
				size_t j = rng() % nheld[c];

				kmem_cache_free(kc[c], held[c][j]);
				held[c][j] = held[c][--nheld[c]];
			}
		}
		if (step % 577 == 0) {
			int t = (int)(rng() % DET_CACHES);

			if (t != 2 && kmem_cache_set_magsize(kc[t],
							8 + rng() % 55))
				die("kmem_cache_set_magsize failed");
		}
		if (step % 401 == 0)
			kmem_cache_reap(kc[rng() % DET_CACHES]);
	}
	/* Give half back and reap everything once more. */
	for (int c = 0; c < DET_CACHES; c++) {
		while (nheld[c] > DET_CAP / 4)
			kmem_cache_free(kc[c], held[c][--nheld[c]]);
		kmem_cache_reap(kc[c]);
	}
	print_all_stats();
	return 0;
}

/*
 * The same equality with threads and contention: 4 slots by thread shared
 * by 8 threads (pcc and depot contention both), threshold 1, on three
 * caches at once, then reaps.  Counters and events are emitted at the same
 * points under the same locks, so they agree exactly anyway.
 */
static int sc_threaded(void)
{
	struct kmem_cache *kc[3];

	if (magslab_set_ncpus(4) || magslab_set_pcc_map(MAGSLAB_PCC_BY_THREAD))
		die("cannot set 4 slots by thread");
	kc[0] = make_cache("mt_small", 32, 0);
	kc[1] = make_cache("mt_bufctl", 2048, 0);
	kc[2] = make_cache("mt_uma", 96, 0);
	if (kmem_cache_set_policy(kc[2], "uma"))
		die("kmem_cache_set_policy(uma) failed");
	for (int i = 0; i < 3; i++) {
		if (kmem_cache_set_reap_keep(kc[i], 0))
			die("kmem_cache_set_reap_keep failed");
		if (i == 0)
			hammer_until(kc[i], 8, 300, 100, both_contended,
				     "pcc and depot contention");
		else
			hammer(kc[i], 8, 300, i == 1 ? 30 : 100);
		kmem_cache_reap(kc[i]);
	}
	print_all_stats();
	return 0;
}

/*
 * The pcc counters of the slow-path events: 4 slots by thread shared by 6
 * threads, batches above two magazines (exchanges and misses on both
 * sides), then pcc hits only; the stats are printed, then the cache is
 * destroyed, which emits every slot's final counters (pcc_counters).  The
 * checker sums each slot's last allocs, frees and hits.
 */
static int sc_counters(void)
{
	struct kmem_cache *kc;

	if (magslab_set_ncpus(4) || magslab_set_pcc_map(MAGSLAB_PCC_BY_THREAD))
		die("cannot set 4 slots by thread");
	kc = make_cache("tr_counters", 64, 0);
	hammer(kc, 6, 100, 50);
	hammer(kc, 6, 3, 500);
	print_all_stats();
	if (kmem_cache_destroy(kc))
		die("kmem_cache_destroy(tr_counters) failed");
	return 0;
}

/*
 * A hot emitter for the loss tests: workload_phase N times (default 200000)
 * as fast as it goes.  The checker knows how many were emitted.
 */
static int sc_phase_storm(const char *arg)
{
	unsigned long n = arg ? strtoul(arg, NULL, 10) : 200000;

	for (unsigned long i = 0; i < n; i++)
		magslab_trace_phase("storm", (unsigned int)i);
	printf("expect storm=%lu\n", n);
	return 0;
}

/* Every event of the default build once, for the format checks. */
static int sc_all(void)
{
	sc_lifecycle();
	sc_magazines();
	sc_magsize_user();
	sc_reap();
	return 0;
}

/*
 * TRACE=full: alloc and free events.  One slot; objects come from each
 * layer: the slab (first allocs), the pcc (loaded), the depot (after full
 * magazines went to it).
 */
static int sc_objects(void)
{
	enum { N = 100 };
	void **v = alloc_array(N);
	struct kmem_cache *kc;

	one_slot();
	kc = make_cache("tr_objects", 64, 0);
	alloc_n(kc, v, N);
	free_n(kc, v, N);
	alloc_n(kc, v, N);
	free_n(kc, v, N);
	print_all_stats();
	printf("expect objects_allocs=%d objects_frees=%d\n", 2 * N, 2 * N);
	free(v);
	return 0;
}

struct scenario {
	const char *name;
	int (*fn)(void);
};

static const struct scenario scenarios[] = {
	{ "lifecycle", sc_lifecycle },
	{ "magazines", sc_magazines },
	{ "no_magazine", sc_no_magazine },
	{ "magsize_user", sc_magsize_user },
	{ "hash", sc_hash },
	{ "reap", sc_reap },
	{ "contention", sc_contention },
	{ "pcc_contention", sc_pcc_contention },
	{ "deterministic", sc_deterministic },
	{ "threaded", sc_threaded },
	{ "all", sc_all },
	{ "objects", sc_objects },
	{ "counters", sc_counters },
};

int main(int argc, char **argv)
{
	size_t i;

	if (argc < 2) {
		fprintf(stderr, "usage: %s SCENARIO [ARG]\nscenarios: phase_storm",
			prog);
		for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
			fprintf(stderr, " %s", scenarios[i].name);
		fputc('\n', stderr);
		return 2;
	}
	magslab_set_error_handler(report_handler, NULL);
	if (strcmp(argv[1], "phase_storm") == 0)
		return sc_phase_storm(argc > 2 ? argv[2] : NULL);
	for (i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		if (strcmp(argv[1], scenarios[i].name) == 0)
			return scenarios[i].fn();
	fprintf(stderr, "%s: unknown scenario '%s'\n", prog, argv[1]);
	return 2;
}
