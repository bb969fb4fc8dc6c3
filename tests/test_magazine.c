/*
 * test_magazine.c — the magazine layer, single-threaded, counted exactly.
 *
 * Every test runs twice: with one pcc slot (magslab_set_ncpus(1): the locked
 * mode, several CPUs share the slot), and with a slot per CPU and the thread
 * pinned to one CPU (the rseq mode where it can serve: pcc.h).  Either way
 * the calling thread always uses one slot (g_pin) and the counters follow
 * the rules of slab.h and the spec (allocator.md, "Magazines and the
 * depot") step by step:
 *
 *   a new slot holds two empty magazines, loaded and prev, at magsize 8;
 *   free:  loaded has room -> put; else prev has room -> swap (mag_swaps[FREE];
 *          Akaros's rule: room below magsize, not emptiness — after a grow
 *          a full-at-the-old-size prev takes more without a depot visit);
 *          else depot: adopt its magsize; an empty magazine -> take it
 *          (depot_gets[FREE]), prev goes to the not-empty list
 *          (depot_puts[FREE]), loaded -> prev, new -> loaded; none ->
 *          depot_misses[FREE], allocate a magazine onto the empty list, retry;
 *   alloc: loaded has rounds -> take; else prev has rounds -> swap
 *          (mag_swaps[ALLOC]); else depot: a not-empty magazine -> take it
 *          (depot_gets[ALLOC]), prev goes to the empty list
 *          (depot_puts[ALLOC]), loaded -> prev; none -> depot_misses[ALLOC]
 *          and the object comes from a slab (the ctor runs there).
 *
 * pcc_hits ("served by loaded or prev"): we read it as every operation that
 * ends in a pcc magazine, including one that first swapped or exchanged with
 * the depot.  A failure message says which reading the library matches.
 *
 * A small model (struct model) runs the same rules on counts and is compared
 * with kmem_cache_stats() after every step of a random sequence.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "slab_test_util.h"

#include "clock.h"

#define MS 8   /* the default magsize, MAG_MIN_ROUNDS */

/* ---- the model ----------------------------------------------------------- */

#define MODEL_MAX_MAGS 4096

struct model {
	unsigned int magsize;
	unsigned int loaded, prev;            /* rounds */
	unsigned int full[MODEL_MAX_MAGS];    /* depot not-empty: rounds */
	size_t nr_full;
	size_t nr_empty;
	uint64_t allocs, frees;
	uint64_t hits;          /* ended in a pcc magazine */
	uint64_t hits_nodepot;  /* ... without visiting the depot */
	uint64_t swaps[2], gets[2], puts[2], misses[2];
	uint64_t mags;
	uint64_t in_mags, live, out_of_slabs;
};

static void model_init(struct model *m, unsigned int nr_pcc)
{
	memset(m, 0, sizeof(*m));
	m->magsize = MS;
	m->mags = 2 * nr_pcc;
}

static void model_alloc(struct model *m)
{
	bool depot = false;

	m->allocs++;
	m->live++;
	for (;;) {
		if (m->loaded) {
			m->loaded--;
			m->in_mags--;
			m->hits++;
			if (!depot)
				m->hits_nodepot++;
			return;
		}
		if (m->prev) {
			unsigned int t = m->loaded;

			m->loaded = m->prev;
			m->prev = t;
			m->swaps[KMEM_ALLOC_SIDE]++;
			continue;
		}
		depot = true;
		if (m->nr_full) {
			unsigned int got = m->full[--m->nr_full];

			m->gets[KMEM_ALLOC_SIDE]++;
			m->nr_empty++;              /* prev (empty) */
			m->puts[KMEM_ALLOC_SIDE]++;
			m->prev = m->loaded;
			m->loaded = got;
			continue;
		}
		m->misses[KMEM_ALLOC_SIDE]++;
		m->out_of_slabs++;
		return;
	}
}

static void model_free(struct model *m)
{
	bool depot = false;

	m->frees++;
	m->live--;
	for (;;) {
		if (m->loaded < m->magsize) {
			m->loaded++;
			m->in_mags++;
			m->hits++;
			if (!depot)
				m->hits_nodepot++;
			return;
		}
		if (m->prev < m->magsize) {         /* room: the swap rule */
			unsigned int t = m->loaded;

			m->loaded = m->prev;
			m->prev = t;
			m->swaps[KMEM_FREE_SIDE]++;
			continue;
		}
		depot = true;
		if (m->nr_empty) {
			m->nr_empty--;
			m->gets[KMEM_FREE_SIDE]++;
			assert_true(m->nr_full < MODEL_MAX_MAGS);
			m->full[m->nr_full++] = m->prev;
			m->puts[KMEM_FREE_SIDE]++;
			m->prev = m->loaded;
			m->loaded = 0;
			continue;
		}
		m->misses[KMEM_FREE_SIDE]++;
		m->mags++;
		m->nr_empty++;
	}
}

/* Compares every counter the model knows with the cache's. */
static void model_compare(const struct model *m, struct kmem_cache *kc,
			  const struct st_counts *c, const char *where)
{
	struct kmem_cache_stats st = st_stats(kc);

	if (st.pcc_hits != m->hits)
		print_error("%s: pcc_hits %llu; model: %llu counting every op "
			    "served by a pcc magazine, %llu counting only ops "
			    "that did not visit the depot\n", where,
			    (unsigned long long)st.pcc_hits,
			    (unsigned long long)m->hits,
			    (unsigned long long)m->hits_nodepot);
	else if (st.allocs != m->allocs || st.frees != m->frees ||
		 st.depot_full != m->nr_full ||
		 st.depot_empty != m->nr_empty ||
		 st.mags_allocated != m->mags)
		print_error("%s: allocs %llu/%llu frees %llu/%llu depot_full "
			    "%llu/%zu depot_empty %llu/%zu mags %llu/%llu "
			    "(got/model)\n", where,
			    (unsigned long long)st.allocs,
			    (unsigned long long)m->allocs,
			    (unsigned long long)st.frees,
			    (unsigned long long)m->frees,
			    (unsigned long long)st.depot_full, m->nr_full,
			    (unsigned long long)st.depot_empty, m->nr_empty,
			    (unsigned long long)st.mags_allocated,
			    (unsigned long long)m->mags);
	assert_stat(st, allocs, m->allocs);
	assert_stat(st, frees, m->frees);
	assert_stat(st, mag_swaps[KMEM_ALLOC_SIDE], m->swaps[KMEM_ALLOC_SIDE]);
	assert_stat(st, mag_swaps[KMEM_FREE_SIDE], m->swaps[KMEM_FREE_SIDE]);
	assert_stat(st, depot_gets[KMEM_ALLOC_SIDE], m->gets[KMEM_ALLOC_SIDE]);
	assert_stat(st, depot_gets[KMEM_FREE_SIDE], m->gets[KMEM_FREE_SIDE]);
	assert_stat(st, depot_puts[KMEM_ALLOC_SIDE], m->puts[KMEM_ALLOC_SIDE]);
	assert_stat(st, depot_puts[KMEM_FREE_SIDE], m->puts[KMEM_FREE_SIDE]);
	assert_stat(st, depot_misses[KMEM_ALLOC_SIDE],
		    m->misses[KMEM_ALLOC_SIDE]);
	assert_stat(st, depot_misses[KMEM_FREE_SIDE],
		    m->misses[KMEM_FREE_SIDE]);
	assert_stat(st, depot_full, m->nr_full);
	assert_stat(st, depot_empty, m->nr_empty);
	assert_stat(st, mags_allocated, m->mags);
	assert_stat(st, objs_in_mags, m->in_mags);
	assert_stat(st, live_objs, m->live);
	assert_stat(st, objs_in_slabs, m->out_of_slabs);
	assert_stat(st, pcc_hits, m->hits);
	assert_stat(st, depot_contended, 0);
	assert_stat(st, magsize, m->magsize);
	if (c) {
		assert_int_equal(atomic_load(&c->ctor), m->out_of_slabs);
		assert_int_equal(atomic_load(&c->dtor), 0);
	}
	assert_cache_consistent(st);
}

/* ---- a fake clock (clock.h) ---------------------------------------------------- */

static _Atomic uint64_t fake_now;

static uint64_t fake_clock(void)
{
	return atomic_load(&fake_now);
}

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

#define MAX_SLOTS 64

static unsigned int g_slots = 1;        /* pcc slots of the caches made */
static unsigned int g_pin;              /* the slot the thread uses */
static const char *g_mode = "locked";   /* the pcc mode they must get */
static cpu_set_t g_affinity;            /* restored by reset() */

static int one_slot(void **state)
{
	(void)state;
	assert_int_equal(magslab_set_ncpus(1), 0);
	assert_int_equal(magslab_set_pcc_map(MAGSLAB_PCC_BY_CPU), 0);
	assert_int_equal(magslab_set_debug(0), 0);
	assert_int_equal(sched_getaffinity(0, sizeof(g_affinity), &g_affinity),
			 0);
	g_slots = 1;
	g_pin = 0;
	g_mode = st_expected_pcc_mode(1, MAGSLAB_PCC_BY_CPU);
	st_reset_errors();
	return 0;
}

/* A slot per CPU, the thread pinned to the first CPU it may use. */
static int slot_per_cpu(void **state)
{
	cpu_set_t one;

	(void)state;
	g_slots = st_possible_cpus();
	assert_true(g_slots <= MAX_SLOTS);
	assert_int_equal(magslab_set_ncpus(g_slots), 0);
	assert_int_equal(magslab_set_pcc_map(MAGSLAB_PCC_BY_CPU), 0);
	assert_int_equal(magslab_set_debug(0), 0);
	assert_int_equal(sched_getaffinity(0, sizeof(g_affinity), &g_affinity),
			 0);
	for (g_pin = 0; !CPU_ISSET(g_pin, &g_affinity); g_pin++)
		;
	CPU_ZERO(&one);
	CPU_SET(g_pin, &one);
	assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
	g_mode = st_expected_pcc_mode(g_slots, MAGSLAB_PCC_BY_CPU);
	st_reset_errors();
	return 0;
}

static int reset(void **state)
{
	(void)state;
	magslab_set_clock(NULL);
	st_reset_settings();
	sched_setaffinity(0, sizeof(g_affinity), &g_affinity);
	return 0;
}

static struct kmem_cache *mk(const char *name, size_t size,
			     struct st_counts *c)
{
	struct kmem_cache *kc;

	if (c) {
		memset(c, 0, sizeof(*c));
		c->obj_size = size;
	}
	kc = kmem_cache_create(name, size, 0, 0, NULL, c ? st_ctor : NULL,
			       c ? st_dtor : NULL, c);
	if (!kc)
		print_error("kmem_cache_create(%s) failed: %s\n", name,
			    magslab_last_error());
	assert_non_null(kc);
	return kc;
}

/* ---- tests ------------------------------------------------------------------ */

/* A new cache: one slot with two empty magazines at the depot's magsize. */
static void test_new_cache_state(void **state)
{
	struct kmem_cache *kc = mk("mag_new", 64, NULL);
	struct kmem_cache_stats st = st_stats(kc);
	unsigned int ms[MAX_SLOTS + 1] = { 0 };

	(void)state;
	assert_stat(st, nr_pcc, g_slots);
	assert_string_equal(st.pcc_mode, g_mode);
	assert_stat(st, magsize, MAG_MIN_ROUNDS);
	assert_stat(st, pcc_magsize_min, MAG_MIN_ROUNDS);
	assert_stat(st, pcc_magsize_max, MAG_MIN_ROUNDS);
	assert_stat(st, mags_allocated, 2 * g_slots);
	assert_stat(st, depot_full, 0);
	assert_stat(st, depot_empty, 0);
	assert_stat(st, objs_in_mags, 0);
	assert_stat(st, live_objs, 0);
	assert_stat(st, allocs, 0);
	assert_stat(st, frees, 0);
	assert_stat(st, pcc_hits, 0);
	assert_stat(st, slabs, 0);
	assert_int_equal(kmem_cache_pcc_magsizes(kc, ms, MAX_SLOTS + 1), g_slots);
	for (unsigned int i = 0; i < g_slots; i++)
		assert_int_equal(ms[i], MAG_MIN_ROUNDS);
	assert_int_equal(ms[g_slots], 0);
	st_destroy(kc);
}

/* 17 allocations with empty magazines and an empty depot: every one misses
 * the depot and comes from a slab (ctor runs 17 times). */
static void test_alloc_empty_misses(void **state)
{
	struct st_counts c;
	struct kmem_cache *kc = mk("mag_miss", 64, &c);
	struct kmem_cache_stats st;
	void *p[17];
	int i;

	(void)state;
	for (i = 0; i < 17; i++) {
		p[i] = kmem_cache_alloc(kc, MEM_ATOMIC);
		assert_non_null(p[i]);
	}
	st = st_stats(kc);
	assert_stat(st, allocs, 17);
	assert_stat(st, depot_misses[KMEM_ALLOC_SIDE], 17);
	assert_stat(st, pcc_hits, 0);
	assert_stat(st, mag_swaps[KMEM_ALLOC_SIDE], 0);
	assert_stat(st, depot_gets[KMEM_ALLOC_SIDE], 0);
	assert_stat(st, live_objs, 17);
	assert_stat(st, objs_in_slabs, 17);
	assert_stat(st, objs_in_mags, 0);
	assert_int_equal(atomic_load(&c.ctor), 17);
	for (i = 0; i < 17; i++)
		kmem_cache_free(kc, p[i]);
	st_destroy(kc);
	assert_int_equal(atomic_load(&c.dtor), 17);
}

/* Frees 1-8 fill loaded, the 9th swaps, 9-16 fill prev's magazine, the 17th
 * makes the first depot exchange (with a miss: a new magazine). */
static void test_free_fill_swap_exchange(void **state)
{
	struct st_counts c;
	struct kmem_cache *kc = mk("mag_free", 64, &c);
	struct kmem_cache_stats st;
	void *p[17];
	int i;

	(void)state;
	for (i = 0; i < 17; i++)
		assert_non_null(p[i] = kmem_cache_alloc(kc, MEM_ATOMIC));

	for (i = 0; i < 8; i++)
		kmem_cache_free(kc, p[i]);
	st = st_stats(kc);
	assert_stat(st, frees, 8);
	assert_stat(st, pcc_hits, 8);
	assert_stat(st, objs_in_mags, 8);
	assert_stat(st, mag_swaps[KMEM_FREE_SIDE], 0);
	assert_stat(st, depot_misses[KMEM_FREE_SIDE], 0);

	kmem_cache_free(kc, p[8]);
	st = st_stats(kc);
	assert_stat(st, mag_swaps[KMEM_FREE_SIDE], 1);
	assert_stat(st, pcc_hits, 9);
	assert_stat(st, depot_gets[KMEM_FREE_SIDE], 0);
	assert_stat(st, mags_allocated, 2 * g_slots);

	for (i = 9; i < 16; i++)
		kmem_cache_free(kc, p[i]);
	st = st_stats(kc);
	assert_stat(st, mag_swaps[KMEM_FREE_SIDE], 1);
	assert_stat(st, objs_in_mags, 16);
	assert_stat(st, depot_misses[KMEM_FREE_SIDE], 0);
	assert_stat(st, depot_gets[KMEM_FREE_SIDE], 0);
	assert_stat(st, depot_puts[KMEM_FREE_SIDE], 0);
	assert_stat(st, mags_allocated, 2 * g_slots);
	assert_stat(st, pcc_hits, 16);

	kmem_cache_free(kc, p[16]);
	st = st_stats(kc);
	assert_stat(st, frees, 17);
	assert_stat(st, mag_swaps[KMEM_FREE_SIDE], 1);
	assert_stat(st, depot_misses[KMEM_FREE_SIDE], 1);
	assert_stat(st, depot_gets[KMEM_FREE_SIDE], 1);
	assert_stat(st, depot_puts[KMEM_FREE_SIDE], 1);
	assert_stat(st, depot_full, 1);
	assert_stat(st, depot_empty, 0);
	assert_stat(st, mags_allocated, 2 * g_slots + 1);
	assert_stat(st, objs_in_mags, 17);
	assert_stat(st, live_objs, 0);
	assert_stat(st, objs_in_slabs, 17);
	if (st.pcc_hits != 17)
		print_error("pcc_hits %llu after the 17th free: 17 if an op "
			    "served after a depot exchange is a hit, 16 if "
			    "not\n", (unsigned long long)st.pcc_hits);
	assert_stat(st, pcc_hits, 17);
	assert_stat(st, depot_contended, 0);
	/* Magazines hold constructed objects: no dtor yet. */
	assert_int_equal(atomic_load(&c.dtor), 0);
	assert_int_equal(atomic_load(&c.ctor), 17);
	assert_cache_consistent(st);
	st_destroy(kc);
	assert_int_equal(atomic_load(&c.dtor), 17);
}

/* After the 17 frees above (loaded 1, prev 8, depot one full magazine):
 * alloc 1 takes loaded's round, alloc 2 swaps, 2-9 empty it, alloc 10
 * exchanges with the depot (prev goes back empty), 10-17 empty that one, and
 * alloc 18 misses the depot and comes from a slab. */
static void test_alloc_swap_exchange_miss(void **state)
{
	struct st_counts c;
	struct kmem_cache *kc = mk("mag_alloc", 64, &c);
	struct kmem_cache_stats st;
	void *p[18];
	int i;

	(void)state;
	for (i = 0; i < 17; i++)
		assert_non_null(p[i] = kmem_cache_alloc(kc, MEM_ATOMIC));
	for (i = 0; i < 17; i++)
		kmem_cache_free(kc, p[i]);

	assert_non_null(p[0] = kmem_cache_alloc(kc, MEM_ATOMIC));
	st = st_stats(kc);
	assert_stat(st, mag_swaps[KMEM_ALLOC_SIDE], 0);
	assert_stat(st, objs_in_mags, 16);
	/* LIFO: the last object freed is the first handed out. */
	assert_ptr_equal(p[0], p[16]);

	assert_non_null(p[1] = kmem_cache_alloc(kc, MEM_ATOMIC));
	st = st_stats(kc);
	assert_stat(st, mag_swaps[KMEM_ALLOC_SIDE], 1);
	assert_stat(st, depot_gets[KMEM_ALLOC_SIDE], 0);
	assert_ptr_equal(p[1], p[15]);

	for (i = 2; i < 9; i++)
		assert_non_null(p[i] = kmem_cache_alloc(kc, MEM_ATOMIC));
	st = st_stats(kc);
	assert_stat(st, objs_in_mags, 8);
	assert_stat(st, depot_gets[KMEM_ALLOC_SIDE], 0);
	assert_stat(st, depot_full, 1);

	assert_non_null(p[9] = kmem_cache_alloc(kc, MEM_ATOMIC));
	st = st_stats(kc);
	assert_stat(st, depot_gets[KMEM_ALLOC_SIDE], 1);
	assert_stat(st, depot_puts[KMEM_ALLOC_SIDE], 1);
	assert_stat(st, depot_full, 0);
	assert_stat(st, depot_empty, 1);
	assert_stat(st, mag_swaps[KMEM_ALLOC_SIDE], 1);
	assert_stat(st, objs_in_mags, 7);

	for (i = 10; i < 17; i++)
		assert_non_null(p[i] = kmem_cache_alloc(kc, MEM_ATOMIC));
	st = st_stats(kc);
	assert_stat(st, objs_in_mags, 0);
	assert_stat(st, depot_misses[KMEM_ALLOC_SIDE], 17);
	assert_stat(st, pcc_hits, 17 + 17);
	assert_int_equal(atomic_load(&c.ctor), 17);

	assert_non_null(p[17] = kmem_cache_alloc(kc, MEM_ATOMIC));
	st = st_stats(kc);
	assert_stat(st, allocs, 35);
	assert_stat(st, frees, 17);
	assert_stat(st, pcc_hits, 34);
	assert_stat(st, mag_swaps[KMEM_ALLOC_SIDE], 1);
	assert_stat(st, mag_swaps[KMEM_FREE_SIDE], 1);
	assert_stat(st, depot_gets[KMEM_ALLOC_SIDE], 1);
	assert_stat(st, depot_gets[KMEM_FREE_SIDE], 1);
	assert_stat(st, depot_puts[KMEM_ALLOC_SIDE], 1);
	assert_stat(st, depot_puts[KMEM_FREE_SIDE], 1);
	assert_stat(st, depot_misses[KMEM_ALLOC_SIDE], 18);
	assert_stat(st, depot_misses[KMEM_FREE_SIDE], 1);
	assert_stat(st, depot_full, 0);
	assert_stat(st, depot_empty, 1);
	assert_stat(st, mags_allocated, 2 * g_slots + 1);
	assert_stat(st, objs_in_mags, 0);
	assert_stat(st, live_objs, 18);
	assert_stat(st, objs_in_slabs, 18);
	assert_int_equal(atomic_load(&c.ctor), 18);
	assert_int_equal(atomic_load(&c.dtor), 0);
	assert_cache_consistent(st);

	for (i = 0; i < 18; i++)
		kmem_cache_free(kc, p[i]);
	st_destroy(kc);
	assert_int_equal(atomic_load(&c.dtor), 18);
}

/* The model and the cache agree after every step of a random sequence that
 * swings between growing and shrinking the live set. */
static void test_model_random_sequence(void **state)
{
	enum { OPS = 4000, MAXLIVE = 300 };
	struct st_counts c;
	struct kmem_cache *kc = mk("mag_model", 48, &c);
	struct model *m = calloc(1, sizeof(*m));
	void **live = calloc(MAXLIVE, sizeof(void *));
	size_t nr = 0;
	struct st_rng r;
	char where[64];
	int op;

	(void)state;
	assert_non_null(m);
	assert_non_null(live);
	model_init(m, g_slots);
	model_compare(m, kc, &c, "start");
	st_rng_init(&r, st_seed(0x6d61676d6f64656cull));
	for (op = 0; op < OPS; op++) {
		/* Phases of 250 ops: mostly alloc, then mostly free. */
		bool grow = (op / 250) % 2 == 0;
		bool do_alloc = nr == 0 ||
			(nr < MAXLIVE && st_below(&r, 10) < (grow ? 7u : 3u));

		if (do_alloc) {
			void *p = kmem_cache_alloc(kc, MEM_ATOMIC);

			assert_non_null(p);
			live[nr++] = p;
			model_alloc(m);
		} else {
			/* Mostly LIFO, sometimes a random victim. */
			size_t i = st_below(&r, 4) ? nr - 1 : st_below(&r, nr);

			kmem_cache_free(kc, live[i]);
			live[i] = live[--nr];
			model_free(m);
		}
		snprintf(where, sizeof(where), "op %d (%s)", op,
			 do_alloc ? "alloc" : "free");
		model_compare(m, kc, &c, where);
	}
	while (nr) {
		kmem_cache_free(kc, live[--nr]);
		model_free(m);
	}
	model_compare(m, kc, &c, "end");
	st_destroy(kc);
	assert_int_equal(atomic_load(&c.dtor), atomic_load(&c.ctor));
	free(live);
	free(m);
}

/* LIFO order through the magazines: the most recently freed object is the
 * next one handed out. */
static void test_lifo(void **state)
{
	struct kmem_cache *kc = mk("mag_lifo", 32, NULL);
	void *a, *b, *c2;

	(void)state;
	assert_non_null(a = kmem_cache_alloc(kc, 0));
	assert_non_null(b = kmem_cache_alloc(kc, 0));
	assert_non_null(c2 = kmem_cache_alloc(kc, 0));
	assert_true(a != b && b != c2 && a != c2);
	kmem_cache_free(kc, a);
	kmem_cache_free(kc, b);
	kmem_cache_free(kc, c2);
	assert_ptr_equal(kmem_cache_alloc(kc, 0), c2);
	assert_ptr_equal(kmem_cache_alloc(kc, 0), b);
	assert_ptr_equal(kmem_cache_alloc(kc, 0), a);
	kmem_cache_free(kc, a);
	kmem_cache_free(kc, b);
	kmem_cache_free(kc, c2);
	st_destroy(kc);
}

/* Objects in magazines stay constructed: the magazine layer neither writes
 * them nor runs the ctor again; the dtor runs only when they go back to a
 * slab. */
static void test_constructed_state_kept(void **state)
{
	struct st_counts c;
	struct kmem_cache *kc = mk("mag_ctor", 64, &c);
	uint32_t *p, *q;

	(void)state;
	assert_non_null(p = kmem_cache_alloc(kc, MEM_ATOMIC));
	assert_int_equal(atomic_load(&c.ctor), 1);
	assert_int_equal(p[1], ST_CTOR_MAGIC);
	assert_int_equal(c.last_flags & MEM_ATOMIC, MEM_ATOMIC);
	p[0] = 0x11111111;      /* the first word too: it is not a free link */
	p[5] = 0x55555555;
	kmem_cache_free(kc, p);
	assert_int_equal(atomic_load(&c.dtor), 0);
	assert_non_null(q = kmem_cache_alloc(kc, MEM_ATOMIC));
	assert_ptr_equal(q, p);
	assert_int_equal(atomic_load(&c.ctor), 1);
	assert_int_equal(q[0], 0x11111111);
	assert_int_equal(q[1], ST_CTOR_MAGIC);
	assert_int_equal(q[5], 0x55555555);
	kmem_cache_free(kc, q);
	st_destroy(kc);
	assert_int_equal(atomic_load(&c.dtor), 1);
}

/* Destroy drains pcc and depot magazines: every round is destructed once. */
static void test_destroy_drains_magazines(void **state)
{
	enum { N = 100 };
	struct st_counts c;
	struct kmem_cache *kc = mk("mag_drain", 128, &c);
	struct kmem_cache_stats st;
	void *p[N];
	int i;

	(void)state;
	for (i = 0; i < N; i++)
		assert_non_null(p[i] = kmem_cache_alloc(kc, MEM_ATOMIC));
	for (i = 0; i < N; i++)
		kmem_cache_free(kc, p[i]);
	st = st_stats(kc);
	assert_stat(st, objs_in_mags, N);
	assert_stat(st, live_objs, 0);
	assert_true(st.depot_full > 0);
	assert_cache_consistent(st);
	assert_int_equal(atomic_load(&c.dtor), 0);
	st_destroy(kc);
	assert_int_equal(atomic_load(&c.ctor), N);
	assert_int_equal(atomic_load(&c.dtor), N);
}

/* KMC_NOMAG: every operation goes to the slab layer; ctor on every alloc,
 * dtor on every free; no magazine is ever made. */
static void test_nomag(void **state)
{
	struct st_counts c;
	struct kmem_cache *kc;
	struct kmem_cache_stats st;
	void *p[20];
	int i;

	(void)state;
	memset(&c, 0, sizeof(c));
	c.obj_size = 64;
	kc = kmem_cache_create("mag_nomag", 64, 0, KMC_NOMAG, NULL, st_ctor,
			       st_dtor, &c);
	assert_non_null(kc);
	for (i = 0; i < 20; i++)
		assert_non_null(p[i] = kmem_cache_alloc(kc, MEM_ATOMIC));
	assert_int_equal(atomic_load(&c.ctor), 20);
	for (i = 0; i < 10; i++)
		kmem_cache_free(kc, p[i]);
	assert_int_equal(atomic_load(&c.dtor), 10);
	st = st_stats(kc);
	assert_stat(st, allocs, 20);
	assert_stat(st, frees, 10);
	assert_stat(st, pcc_hits, 0);
	assert_stat(st, objs_in_mags, 0);
	assert_stat(st, mags_allocated, 0);
	assert_stat(st, depot_full, 0);
	assert_stat(st, live_objs, 10);
	assert_stat(st, objs_in_slabs, 10);
	assert_cache_consistent(st);
	for (i = 10; i < 20; i++)
		kmem_cache_free(kc, p[i]);
	assert_int_equal(atomic_load(&c.dtor), 20);
	st = st_stats(kc);
	assert_stat(st, objs_in_slabs, 0);
	st_destroy(kc);
	assert_int_equal(atomic_load(&c.dtor), 20);
}

/* kmem_cache_set_magsize changes the depot at once; a slot adopts it only
 * when it visits the depot on a free (not on an alloc's depot visit). */
static void test_magsize_adopted_on_free(void **state)
{
	struct kmem_cache *kc = mk("mag_adopt", 64, NULL);
	struct kmem_cache_stats st;
	unsigned int ms[MAX_SLOTS];
	void *p[40];
	int i;

	(void)state;
	for (i = 0; i < 40; i++)
		assert_non_null(p[i] = kmem_cache_alloc(kc, MEM_ATOMIC));
	assert_int_equal(kmem_cache_set_magsize(kc, 20), 0);
	st = st_stats(kc);
	assert_stat(st, magsize, 20);
	assert_stat(st, pcc_magsize_max, 8);
	assert_int_equal(kmem_cache_pcc_magsizes(kc, ms, MAX_SLOTS), g_slots);
	assert_int_equal(ms[g_pin], 8);

	/* An alloc that visits the depot (a miss) does not adopt. */
	assert_non_null(p[39] = (kmem_cache_free(kc, p[39]),
				 kmem_cache_alloc(kc, MEM_ATOMIC)));
	{
		void *extra = kmem_cache_alloc(kc, MEM_ATOMIC);

		assert_non_null(extra);
		st = st_stats(kc);
		assert_true(st.depot_misses[KMEM_ALLOC_SIDE] >= 41);
		kmem_cache_pcc_magsizes(kc, ms, MAX_SLOTS);
		assert_int_equal(ms[g_pin], 8);
		kmem_cache_free(kc, extra);
	}
	/* The free above went into loaded; 15 more fill loaded and prev at
	 * magsize 8 with no depot visit. */
	for (i = 0; i < 15; i++)
		kmem_cache_free(kc, p[i]);
	st = st_stats(kc);
	assert_stat(st, depot_gets[KMEM_FREE_SIDE], 0);
	assert_stat(st, depot_misses[KMEM_FREE_SIDE], 0);
	kmem_cache_pcc_magsizes(kc, ms, MAX_SLOTS);
	assert_int_equal(ms[g_pin], 8);
	assert_stat(st, pcc_magsize_min, 8);

	/* The 17th object freed needs the depot: the slot adopts 20. */
	kmem_cache_free(kc, p[15]);
	kmem_cache_pcc_magsizes(kc, ms, MAX_SLOTS);
	assert_int_equal(ms[g_pin], 20);
	st = st_stats(kc);
	assert_stat(st, pcc_magsize_min, g_slots == 1 ? 20 : 8);
	assert_stat(st, pcc_magsize_max, 20);
	assert_stat(st, objs_in_mags, 17);

	for (i = 16; i < 40; i++)
		kmem_cache_free(kc, p[i]);
	st = st_stats(kc);
	assert_stat(st, objs_in_mags, 41);   /* p[0..39] and extra */
	assert_stat(st, live_objs, 0);
	assert_cache_consistent(st);
	st_destroy(kc);
}

/* The free path's swap rule, Akaros's: a free swaps to prev when prev has
 * room below magsize, not only when it is empty (the paper's rule).  The
 * magazines are made for magsize 10 (16 rounds of capacity: depot.c), both
 * end up with 10 rounds; after a grow to 12, prev (10 of 12) still has
 * room, and the free that finds loaded full swaps into it instead of
 * exchanging with the depot. */
static void test_free_swaps_into_prev_with_room(void **state)
{
	struct kmem_cache *kc = mk("mag_swaprule", 64, NULL);
	struct kmem_cache_stats st, before;
	void *p[48];
	int i;

	(void)state;
	for (i = 0; i < 48; i++)
		assert_non_null(p[i] = kmem_cache_alloc(kc, MEM_ATOMIC));
	assert_int_equal(kmem_cache_set_magsize(kc, 10), 0);
	/* 16 fill the first (8-round) magazines; the 17th and the 27th get
	 * new ones of 16 rounds from the depot; 36 frees leave loaded and
	 * prev at 10 rounds each, both 16-round magazines. */
	for (i = 0; i < 36; i++)
		kmem_cache_free(kc, p[i]);
	st = st_stats(kc);
	assert_stat(st, depot_gets[KMEM_FREE_SIDE], 2);
	assert_stat(st, pcc_magsize_max, 10);
	assert_int_equal(kmem_cache_set_magsize(kc, 12), 0);
	kmem_cache_free(kc, p[36]);         /* depot visit: adopts 12, room */
	kmem_cache_free(kc, p[37]);         /* loaded 12 */
	before = st_stats(kc);
	assert_stat(before, depot_gets[KMEM_FREE_SIDE], 2);
	assert_stat(before, pcc_magsize_max, 12);

	kmem_cache_free(kc, p[38]);         /* prev (10 of 12) has room: swap */
	st = st_stats(kc);
	assert_stat(st, mag_swaps[KMEM_FREE_SIDE],
		    before.mag_swaps[KMEM_FREE_SIDE] + 1);
	assert_stat(st, depot_gets[KMEM_FREE_SIDE], 2);
	assert_stat(st, depot_misses[KMEM_FREE_SIDE],
		    before.depot_misses[KMEM_FREE_SIDE]);

	kmem_cache_free(kc, p[39]);         /* now both hold 12 */
	kmem_cache_free(kc, p[40]);         /* so this one needs the depot */
	st = st_stats(kc);
	assert_stat(st, depot_gets[KMEM_FREE_SIDE], 3);
	assert_stat(st, objs_in_mags, 41);
	for (i = 41; i < 48; i++)
		kmem_cache_free(kc, p[i]);
	assert_cache_consistent(st_stats(kc));
	st_destroy(kc);
}

/* Magazines are made in four sizes, 8, 16, 30 and 62 rounds (16 + 8 x
 * rounds bytes), the smallest that holds the magsize; a grow replaces an
 * empty magazine too small for the new magsize when a free takes it from
 * the depot.  bytes_in_mags counts each magazine at its own size. */
static void test_magazine_sizes(void **state)
{
	struct kmem_cache *kc = mk("mag_sizes", 64, NULL);
	struct kmem_cache_stats st;
	void *p[40];
	int i;

	(void)state;
	st = st_stats(kc);
	assert_stat(st, mags_allocated, 2 * g_slots);
	assert_stat(st, bytes_in_mags, 2 * g_slots * (16 + 8 * 8));
	for (i = 0; i < 40; i++)
		assert_non_null(p[i] = kmem_cache_alloc(kc, MEM_ATOMIC));
	for (i = 0; i < 16; i++)            /* loaded and prev full at 8 */
		kmem_cache_free(kc, p[i]);
	assert_int_equal(kmem_cache_set_magsize(kc, 40), 0);
	kmem_cache_free(kc, p[16]);         /* a new 62-round magazine */
	st = st_stats(kc);
	assert_stat(st, mags_allocated, 2 * g_slots + 1);
	assert_stat(st, bytes_in_mags, 17 * st.obj_size +
		    2 * g_slots * (16 + 8 * 8) + (16 + 8 * 62));
	/* It takes 40 rounds now: no depot visit for the next 39. */
	for (i = 17; i < 40; i++)
		kmem_cache_free(kc, p[i]);
	st = st_stats(kc);
	assert_stat(st, depot_gets[KMEM_FREE_SIDE], 1);
	assert_stat(st, objs_in_mags, 40);
	assert_cache_consistent(st);

	st_destroy(kc);
}

/* Magazine bytes of a cache's stats: what is not objects. */
static uint64_t mag_bytes_of(const struct kmem_cache_stats *st)
{
	return st->bytes_in_mags - st->objs_in_mags * st->obj_size;
}

/* After a grow, an empty magazine in the depot too small for the new
 * magsize is replaced by one that fits when a free takes it (the count of
 * magazines stays, their bytes grow by 512 - 80). */
static void test_magazine_refit(void **state)
{
	struct kmem_cache *kc = mk("mag_refit", 64, NULL);
	struct kmem_cache_stats st, before;
	void *p[24];
	int i;

	(void)state;
	for (i = 0; i < 24; i++)
		assert_non_null(p[i] = kmem_cache_alloc(kc, MEM_ATOMIC));
	for (i = 0; i < 24; i++)            /* a third 8-round magazine */
		kmem_cache_free(kc, p[i]);
	for (i = 0; i < 24; i++)            /* an empty one goes to the depot */
		assert_non_null(p[i] = kmem_cache_alloc(kc, MEM_ATOMIC));
	st = st_stats(kc);
	assert_stat(st, depot_empty, 1);
	assert_int_equal(kmem_cache_set_magsize(kc, 40), 0);
	for (i = 0; i < 16; i++)
		kmem_cache_free(kc, p[i]);
	before = st_stats(kc);
	kmem_cache_free(kc, p[16]);         /* takes the small empty: refit */
	st = st_stats(kc);
	assert_stat(st, mags_allocated, before.mags_allocated);
	assert_stat(st, depot_gets[KMEM_FREE_SIDE],
		    before.depot_gets[KMEM_FREE_SIDE] + 1);
	assert_int_equal(mag_bytes_of(&st),
			 mag_bytes_of(&before) + 8 * (62 - 8));
	for (i = 17; i < 24; i++)
		kmem_cache_free(kc, p[i]);
	assert_cache_consistent(st_stats(kc));
	st_destroy(kc);
}

/* With magsize 20 adopted, a slot's magazines take 20 rounds each: 40 frees
 * after adoption fill loaded and prev with no further depot visit. */
static void test_magsize_fills_to_new_size(void **state)
{
	struct kmem_cache *kc = mk("mag_fill20", 64, NULL);
	struct kmem_cache_stats st, before;
	void *p[80];
	int i;

	(void)state;
	for (i = 0; i < 80; i++)
		assert_non_null(p[i] = kmem_cache_alloc(kc, MEM_ATOMIC));
	assert_int_equal(kmem_cache_set_magsize(kc, 20), 0);
	/* 17 frees: the 17th visits the depot and adopts 20. */
	for (i = 0; i < 17; i++)
		kmem_cache_free(kc, p[i]);
	/* Fill up whatever the 17th left until the next depot visit, then
	 * count: from an exchange on, loaded starts empty and both magazines
	 * take 20 before the next exchange. */
	before = st_stats(kc);
	for (i = 17; i < 80; i++) {
		kmem_cache_free(kc, p[i]);
		st = st_stats(kc);
		if (st.depot_gets[KMEM_FREE_SIDE] >
		    before.depot_gets[KMEM_FREE_SIDE])
			break;
	}
	assert_true(i < 80);
	before = st_stats(kc);
	/* Now loaded has 1 round, prev is full: 19 more go into loaded. */
	{
		int j, n = 0;

		for (j = i + 1; j < 80 && n < 19; j++, n++)
			kmem_cache_free(kc, p[j]);
		assert_int_equal(n, 19);
		st = st_stats(kc);
		assert_stat(st, depot_gets[KMEM_FREE_SIDE],
			    before.depot_gets[KMEM_FREE_SIDE]);
		assert_stat(st, mag_swaps[KMEM_FREE_SIDE],
			    before.mag_swaps[KMEM_FREE_SIDE]);
		/* The next one needs the depot again (prev is full). */
		if (j < 80) {
			kmem_cache_free(kc, p[j]);
			st = st_stats(kc);
			assert_stat(st, depot_gets[KMEM_FREE_SIDE],
				    before.depot_gets[KMEM_FREE_SIDE] + 1);
			j++;
		}
		for (; j < 80; j++)
			kmem_cache_free(kc, p[j]);
	}
	st = st_stats(kc);
	assert_stat(st, objs_in_mags, 80);
	assert_stat(st, live_objs, 0);
	assert_cache_consistent(st);
	/* All 80 come back out. */
	for (i = 0; i < 80; i++)
		assert_non_null(p[i] = kmem_cache_alloc(kc, MEM_ATOMIC));
	st = st_stats(kc);
	assert_stat(st, objs_in_mags, 0);
	assert_stat(st, objs_in_slabs, 80);
	for (i = 0; i < 80; i++)
		kmem_cache_free(kc, p[i]);
	st_destroy(kc);
}

/* Shrinking the magsize: magazines holding more rounds than the new size are
 * treated as full and still give every round back. */
static void test_magsize_shrink_keeps_rounds(void **state)
{
	struct st_counts c;
	struct kmem_cache *kc = mk("mag_shrink", 64, &c);
	struct kmem_cache_stats st;
	void *p[200];
	int i, round;

	(void)state;
	for (round = 0; round < 3; round++) {
		unsigned int sz = round == 0 ? 40 : round == 1 ? 8 : 62;

		assert_int_equal(kmem_cache_set_magsize(kc, sz), 0);
		for (i = 0; i < 200; i++)
			assert_non_null(p[i] = kmem_cache_alloc(kc, 0));
		for (i = 0; i < 200; i++)
			kmem_cache_free(kc, p[i]);
		st = st_stats(kc);
		assert_stat(st, magsize, sz);
		assert_stat(st, objs_in_mags, st.objs_in_slabs);
		assert_stat(st, live_objs, 0);
		assert_cache_consistent(st);
		assert_true(st.pcc_magsize_max <= MAG_MAX_ROUNDS);
	}
	/* Every allocation after all that is served without new ctors beyond
	 * what left the slabs. */
	for (i = 0; i < 200; i++)
		assert_non_null(p[i] = kmem_cache_alloc(kc, 0));
	st = st_stats(kc);
	assert_int_equal(atomic_load(&c.ctor), st.objs_in_slabs);
	for (i = 0; i < 200; i++)
		kmem_cache_free(kc, p[i]);
	st_destroy(kc);
	assert_int_equal(atomic_load(&c.dtor), atomic_load(&c.ctor));
}

/* Magsize bounds: [8, 62]; outside is refused with EINVAL, reported, and
 * the magsize does not change. */
static void test_set_magsize_bounds(void **state)
{
	struct kmem_cache *kc = mk("mag_bounds", 64, NULL);
	unsigned int bad[] = { 0, 1, 7, 63, 64, 1000, UINT32_MAX };
	size_t i;

	(void)state;
	assert_int_equal(kmem_cache_set_magsize(kc, 8), 0);
	assert_stat(st_stats(kc), magsize, 8);
	assert_int_equal(kmem_cache_set_magsize(kc, 62), 0);
	assert_stat(st_stats(kc), magsize, 62);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		st_reset_errors();
		assert_int_equal(kmem_cache_set_magsize(kc, bad[i]), -1);
		assert_one_error(EINVAL, "mag_bounds");
		assert_stat(st_stats(kc), magsize, 62);
	}
	st_reset_errors();
	assert_int_equal(kmem_cache_set_magsize(NULL, 10), -1);
	assert_int_equal(errno, EINVAL);
	st_destroy(kc);
}

/* The uma policy shrinks the magsize by one on every reap, not below 8;
 * akaros never does. */
static void test_uma_reap_shrinks(void **state)
{
	struct kmem_cache *kc = mk("mag_uma", 64, NULL);
	struct kmem_cache_stats st;
	uint64_t down0;

	(void)state;
	assert_int_equal(kmem_cache_set_magsize(kc, 10), 0);
	/* akaros (the default): reap leaves the magsize alone. */
	assert_string_equal(st_stats(kc).policy, "akaros");
	kmem_cache_reap(kc);
	st = st_stats(kc);
	assert_stat(st, magsize, 10);
	down0 = st.magsize_down;

	assert_int_equal(kmem_cache_set_policy(kc, "uma"), 0);
	assert_string_equal(st_stats(kc).policy, "uma");
	kmem_cache_reap(kc);
	st = st_stats(kc);
	assert_stat(st, magsize, 9);
	assert_stat(st, magsize_down, down0 + 1);
	kmem_cache_reap(kc);
	assert_stat(st_stats(kc), magsize, 8);
	kmem_cache_reap(kc);
	st = st_stats(kc);
	assert_stat(st, magsize, 8);
	assert_stat(st, magsize_down, down0 + 2);
	st_destroy(kc);
}

/* Reaping a magazine cache never loses objects: whatever it takes out of
 * magazines is destructed and goes back to slabs. */
static void test_reap_magazine_cache(void **state)
{
	enum { N = 300 };
	struct st_counts c;
	struct kmem_cache *kc = mk("mag_reap", 64, &c);
	struct kmem_cache_stats st;
	const char *pol[] = { "akaros", "illumos", "uma", "adaptive" };
	void *p[N];
	size_t k;
	int i;

	(void)state;
	for (k = 0; k < 4; k++) {
		assert_int_equal(kmem_cache_set_policy(kc, pol[k]), 0);
		for (i = 0; i < N; i++)
			assert_non_null(p[i] = kmem_cache_alloc(kc, 0));
		for (i = 0; i < N; i++)
			kmem_cache_free(kc, p[i]);
		kmem_cache_reap(kc);
		st = st_stats(kc);
		assert_stat(st, live_objs, 0);
		assert_cache_consistent(st);
		assert_int_equal(atomic_load(&c.ctor) - atomic_load(&c.dtor),
				 st.objs_in_slabs);
		assert_true(st.reaps >= k + 1);
	}
	st_destroy(kc);
	assert_int_equal(atomic_load(&c.dtor), atomic_load(&c.ctor));
}

/* zalloc zeroes an object even when it comes back dirty from a magazine. */
static void test_zalloc(void **state)
{
	struct kmem_cache *kc = mk("mag_zalloc", 100, NULL);
	unsigned char *p, *q;
	size_t i;

	(void)state;
	assert_non_null(p = kmem_cache_alloc(kc, 0));
	memset(p, 0xff, 100);
	kmem_cache_free(kc, p);
	assert_non_null(q = kmem_cache_zalloc(kc, 0));
	assert_ptr_equal(q, p);
	for (i = 0; i < 100; i++)
		assert_int_equal(q[i], 0);
	kmem_cache_free(kc, q);
	st_destroy(kc);
}

/* The number of pcc slots is a process setting taken at create; the per-slot
 * magsize query writes at most n entries and returns the slot count. */
static void test_nr_pcc_slots(void **state)
{
	struct kmem_cache *kc;
	unsigned int ms[8];
	int i;

	(void)state;
	assert_int_equal(magslab_set_ncpus(4), 0);
	kc = mk("mag_slots4", 64, NULL);
	assert_stat(st_stats(kc), nr_pcc, 4);
	assert_stat(st_stats(kc), mags_allocated, 8);
	for (i = 0; i < 8; i++)
		ms[i] = 12345;
	assert_int_equal(kmem_cache_pcc_magsizes(kc, ms, 8), 4);
	for (i = 0; i < 4; i++)
		assert_int_equal(ms[i], 8);
	assert_int_equal(ms[4], 12345);
	for (i = 0; i < 8; i++)
		ms[i] = 12345;
	assert_int_equal(kmem_cache_pcc_magsizes(kc, ms, 2), 4);
	assert_int_equal(ms[0], 8);
	assert_int_equal(ms[1], 8);
	assert_int_equal(ms[2], 12345);

	/* Caches made earlier keep their slot count. */
	assert_int_equal(magslab_set_ncpus(64), 0);
	assert_stat(st_stats(kc), nr_pcc, 4);
	st_destroy(kc);
	kc = mk("mag_slots64", 64, NULL);
	assert_stat(st_stats(kc), nr_pcc, 64);
	assert_stat(st_stats(kc), mags_allocated, 128);
	st_destroy(kc);

	st_reset_errors();
	assert_int_equal(magslab_set_ncpus(0), -1);
	assert_one_error(EINVAL, NULL);
}

/* Defaults in the stats (unless the environment changed them). */
static void test_stats_defaults(void **state)
{
	struct kmem_cache *kc = mk("mag_defaults", 72, NULL);
	struct kmem_cache_stats st = st_stats(kc);

	(void)state;
	assert_string_equal(kmem_cache_name(kc), "mag_defaults");
	assert_true(kmem_cache_obj_size(kc) >= 72);
	assert_true(st.obj_size >= 72);
	if (!getenv("MAGSLAB_POLICY"))
		assert_string_equal(st.policy, "akaros");
	if (!getenv("MAGSLAB_RESIZE_THRESHOLD"))
		assert_stat(st, resize_threshold, 1);
	if (!getenv("MAGSLAB_RESIZE_TIMEOUT_NS"))
		assert_stat(st, resize_timeout_ns, 1000000000ull);
	assert_stat(st, magsize_up, 0);
	assert_stat(st, magsize_down, 0);
	assert_stat(st, depot_contended, 0);
	assert_stat(st, depot_contended_counted, 0);
	assert_stat(st, contention_wait_ns, 0);
	assert_stat(st, ctor_failures, 0);
	assert_stat(st, debug_errors, 0);

	assert_int_equal(kmem_cache_set_resize_threshold(kc, 5), 0);
	assert_int_equal(kmem_cache_set_resize_timeout_ns(kc, 12345678), 0);
	st = st_stats(kc);
	assert_stat(st, resize_threshold, 5);
	assert_stat(st, resize_timeout_ns, 12345678);
	st_destroy(kc);
}

/* A longer single-thread sequence: allocs and frees balance, and every
 * operation is either served by a pcc magazine or (allocs only) misses to a
 * slab. */
static void test_single_thread_counts_balance(void **state)
{
	enum { N = 1000 };
	struct kmem_cache *kc = mk("mag_balance", 24, NULL);
	struct kmem_cache_stats st;
	void **p = calloc(N, sizeof(void *));
	int i, k;

	(void)state;
	assert_non_null(p);
	for (k = 0; k < 5; k++) {
		for (i = 0; i < N; i++)
			assert_non_null(p[i] = kmem_cache_alloc(kc, 0));
		for (i = 0; i < N; i += 2)
			kmem_cache_free(kc, p[i]);
		for (i = 0; i < N; i += 2)
			assert_non_null(p[i] = kmem_cache_alloc(kc, 0));
		for (i = N - 1; i >= 0; i--)
			kmem_cache_free(kc, p[i]);
	}
	st = st_stats(kc);
	assert_stat(st, allocs, 5ull * (N + N / 2));
	assert_stat(st, frees, 5ull * (N + N / 2));
	assert_stat(st, live_objs, 0);
	/* Every alloc is served by a magazine or misses to a slab. */
	assert_stat(st, pcc_hits + st.depot_misses[KMEM_ALLOC_SIDE],
		    st.allocs + st.frees);
	assert_cache_consistent(st);
	free(p);
	st_destroy(kc);
}

/* At least one depot acquisition, leaving the live set as it was: more
 * allocations than loaded and prev can hold, then all freed. */
static void depot_visit(struct kmem_cache *kc)
{
	void *p[2 * MAG_MAX_ROUNDS + 1];
	unsigned int n = 2 * st_stats(kc).pcc_magsize_max + 1, i;

	for (i = 0; i < n; i++)
		assert_non_null(p[i] = kmem_cache_alloc(kc, 0));
	for (i = 0; i < n; i++)
		kmem_cache_free(kc, p[n - 1 - i]);
}

/* Fills the depot with full magazines: n objects out and back. */
static void fill_depot(struct kmem_cache *kc, unsigned int n)
{
	void **p = calloc(n, sizeof(void *));
	unsigned int i;

	assert_non_null(p);
	for (i = 0; i < n; i++)
		assert_non_null(p[i] = kmem_cache_alloc(kc, 0));
	for (i = 0; i < n; i++)
		kmem_cache_free(kc, p[i]);
	free(p);
}

/* adaptive, driven by a fake clock with no contention at all: the interval
 * that saw the depot fill from empty is not quiet; after the next two quiet
 * intervals (many magazines idle, no counted contention) the magsize
 * shrinks by one, and again after every two more, down to 8. */
static void test_adaptive_shrinks_when_idle(void **state)
{
	struct kmem_cache *kc;
	struct kmem_cache_stats st;
	int tick;

	(void)state;
	atomic_store(&fake_now, 1000000);
	magslab_set_clock(fake_clock);
	kc = mk("mag_adaptive", 64, NULL);
	assert_int_equal(kmem_cache_set_policy(kc, "adaptive"), 0);
	assert_int_equal(kmem_cache_set_resize_timeout_ns(kc, 1000), 0);
	assert_int_equal(kmem_cache_set_magsize(kc, 12), 0);
	fill_depot(kc, 400);
	st = st_stats(kc);
	assert_true(st.depot_full >= 10);
	assert_stat(st, magsize, 12);
	for (tick = 1; tick <= 12; tick++) {
		atomic_fetch_add(&fake_now, 1000);
		depot_visit(kc);
		st = st_stats(kc);
		print_message("    tick %d: magsize %u, down %llu, depot full "
			      "%llu\n", tick, st.magsize,
			      (unsigned long long)st.magsize_down,
			      (unsigned long long)st.depot_full);
		if (tick <= 2)
			assert_stat(st, magsize, 12);
		if (tick == 3)
			assert_stat(st, magsize, 11);
		assert_stat(st, depot_contended, 0);
		assert_true(st.magsize >= MAG_MIN_ROUNDS);
		assert_cache_consistent(st);
	}
	st = st_stats(kc);
	assert_true(st.magsize < 12);
	assert_true(st.magsize_down >= 2);
	assert_stat(st, magsize, 8);
	/* Without time passing nothing more happens. */
	depot_visit(kc);
	depot_visit(kc);
	assert_stat(st_stats(kc), magsize_down, st.magsize_down);
	st_destroy(kc);
}

/* adaptive and illumos reap the magazines that sat idle in the depot for
 * the last full interval: fewer full magazines, their rounds destructed
 * and back in slabs, nothing lost. */
static void test_reap_idle_magazines(void **state)
{
	const char *pol[2] = { "adaptive", "illumos" };
	int k;

	(void)state;
	for (k = 0; k < 2; k++) {
		struct st_counts c;
		struct kmem_cache *kc;
		struct kmem_cache_stats before, after;

		atomic_store(&fake_now, 5000000);
		magslab_set_clock(fake_clock);
		kc = mk("mag_idle_reap", 64, &c);
		assert_int_equal(kmem_cache_set_policy(kc, pol[k]), 0);
		assert_int_equal(kmem_cache_set_resize_timeout_ns(kc, 1000),
				 0);
		fill_depot(kc, 400);
		/* Two intervals with the depot untouched but for one visit. */
		atomic_fetch_add(&fake_now, 1000);
		depot_visit(kc);
		atomic_fetch_add(&fake_now, 1000);
		depot_visit(kc);
		before = st_stats(kc);
		assert_true(before.depot_full >= 10);
		assert_int_equal(atomic_load(&c.dtor), 0);
		kmem_cache_reap(kc);
		after = st_stats(kc);
		print_message("    %s: depot full %llu -> %llu, objs in mags "
			      "%llu -> %llu\n", pol[k],
			      (unsigned long long)before.depot_full,
			      (unsigned long long)after.depot_full,
			      (unsigned long long)before.objs_in_mags,
			      (unsigned long long)after.objs_in_mags);
		assert_true(after.depot_full < before.depot_full);
		assert_true(after.objs_in_mags < before.objs_in_mags);
		assert_int_equal(atomic_load(&c.dtor),
				 before.objs_in_mags - after.objs_in_mags);
		assert_true(after.mags_allocated < before.mags_allocated);
		assert_cache_consistent(after);
		st_destroy(kc);
		assert_int_equal(atomic_load(&c.dtor), atomic_load(&c.ctor));
		magslab_set_clock(NULL);
	}
}

/* Every test but the slot-count one, in both fixtures. */
#define BOTH(fn) cmocka_unit_test_setup_teardown(fn, one_slot, reset), \
		 cmocka_unit_test_setup_teardown(fn, slot_per_cpu, reset)

int main(void)
{
	const struct CMUnitTest tests[] = {
		BOTH(test_new_cache_state),
		BOTH(test_alloc_empty_misses),
		BOTH(test_free_fill_swap_exchange),
		BOTH(test_alloc_swap_exchange_miss),
		BOTH(test_model_random_sequence),
		BOTH(test_lifo),
		BOTH(test_constructed_state_kept),
		BOTH(test_destroy_drains_magazines),
		BOTH(test_nomag),
		BOTH(test_magsize_adopted_on_free),
		BOTH(test_free_swaps_into_prev_with_room),
		BOTH(test_magazine_sizes),
		BOTH(test_magazine_refit),
		BOTH(test_magsize_fills_to_new_size),
		BOTH(test_magsize_shrink_keeps_rounds),
		BOTH(test_set_magsize_bounds),
		BOTH(test_uma_reap_shrinks),
		BOTH(test_reap_magazine_cache),
		BOTH(test_zalloc),
		cmocka_unit_test_setup_teardown(test_nr_pcc_slots, one_slot, reset),
		BOTH(test_stats_defaults),
		BOTH(test_single_thread_counts_balance),
		BOTH(test_adaptive_shrinks_when_idle),
		BOTH(test_reap_idle_magazines),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
