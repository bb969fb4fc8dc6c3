/*
 * test_arena_random.c — randomized test of the vmem arena against a model.
 *
 * The model is a bitmap with one bit per quantum of the managed range.  Every
 * allocation the arena returns must lie in range, meet its constraints and
 * cover only quanta the model has free; frees clear them again.  A plain
 * arena_alloc() that fails must fail only when the model has no free run
 * long enough (every fit policy finds any fitting segment: instant fit
 * falls back to a best-fit search, next fit wraps around).  Every 1000
 * operations arena_check() runs and the stats are compared with the model.
 *
 * The seed is fixed (reproducible) unless MAGSLAB_SEED is set; it is printed
 * with every failure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>

#include "arena_test_util.h"

#define DEFAULT_SEED 0x5eed0f0a7e4aULL

struct seg {
	uintptr_t addr;
	size_t asked;          /* size passed to alloc */
	size_t rsize;          /* rounded to the quantum */
	bool x;                /* from xalloc: free with xfree */
};

struct model {
	uintptr_t base;        /* first address of the modelled range */
	size_t quantum;
	size_t nq;             /* quanta in the range */
	uint64_t *bits;        /* 1 = allocated */
	size_t alloc_bytes;
	struct seg *live;
	size_t nr_live, cap_live;
	uint64_t seed;
	unsigned long op;
	bool qcache;           /* the arena has quantum caches: their slabs
				  count as allocated, and free objects sit in
				  them, so only placement is checked exactly */
};

#define RCHECK(m, cond, ...) do {                                              \
	if (!(cond)) {                                                         \
		print_error("arena_random: seed=%llu (MAGSLAB_SEED to "        \
			    "reproduce) op=%lu: ",                             \
			    (unsigned long long)(m)->seed, (m)->op);           \
		print_error(__VA_ARGS__);                                      \
		print_error("\n  check: %s\n", #cond);                         \
		fail();                                                        \
	}                                                                      \
} while (0)

/* Static, so that a failing test (cmocka longjmps out) leaks nothing. */
#define MODEL_MAX_QUANTA (128 * 1024)
#define MODEL_MAX_LIVE 16384
static uint64_t model_bits[MODEL_MAX_QUANTA / 64];
static struct seg model_live[MODEL_MAX_LIVE];

static void model_init(struct model *m, uintptr_t base, size_t quantum,
		       size_t nq, size_t cap_live, uint64_t seed)
{
	assert_true(nq <= MODEL_MAX_QUANTA);
	assert_true(cap_live <= MODEL_MAX_LIVE);
	memset(m, 0, sizeof(*m));
	memset(model_bits, 0, sizeof(model_bits));
	m->base = base;
	m->quantum = quantum;
	m->nq = nq;
	m->bits = model_bits;
	m->live = model_live;
	m->cap_live = cap_live;
	m->seed = seed;
}

static void model_fini(struct model *m)
{
	m->bits = NULL;
	m->live = NULL;
}

static bool bit_get(const struct model *m, size_t q)
{
	return (m->bits[q / 64] >> (q % 64)) & 1;
}

/* Marks [addr, addr + rsize): every quantum must be in range and free. */
static void model_mark(struct model *m, uintptr_t addr, size_t rsize)
{
	size_t q0, n, q;

	RCHECK(m, addr % m->quantum == 0, "address %#lx not quantum-aligned",
	       (unsigned long)addr);
	RCHECK(m, addr >= m->base &&
		  addr + rsize <= m->base + m->nq * m->quantum,
	       "segment [%#lx, %#lx) outside [%#lx, %#lx)",
	       (unsigned long)addr, (unsigned long)(addr + rsize),
	       (unsigned long)m->base,
	       (unsigned long)(m->base + m->nq * m->quantum));
	q0 = (addr - m->base) / m->quantum;
	n = rsize / m->quantum;
	for (q = q0; q < q0 + n; q++) {
		RCHECK(m, !bit_get(m, q),
		       "segment [%#lx, %#lx) overlaps a live segment at %#lx",
		       (unsigned long)addr, (unsigned long)(addr + rsize),
		       (unsigned long)(m->base + q * m->quantum));
		m->bits[q / 64] |= 1ull << (q % 64);
	}
	m->alloc_bytes += rsize;
}

static void model_clear(struct model *m, uintptr_t addr, size_t rsize)
{
	size_t q0 = (addr - m->base) / m->quantum, n = rsize / m->quantum, q;

	for (q = q0; q < q0 + n; q++) {
		RCHECK(m, bit_get(m, q), "model corrupt at %#lx",
		       (unsigned long)(m->base + q * m->quantum));
		m->bits[q / 64] &= ~(1ull << (q % 64));
	}
	m->alloc_bytes -= rsize;
}

/* Is there a run of at least need free quanta? */
static bool model_has_run(const struct model *m, size_t need)
{
	size_t run = 0, w, nw = (m->nq + 63) / 64;

	for (w = 0; w < nw; w++) {
		uint64_t x = m->bits[w];
		unsigned int pos = 0;

		if (x == 0) {
			run += 64;
			if (run >= need)
				return true;
			continue;
		}
		if (x == ~0ull) {
			run = 0;
			continue;
		}
		while (pos < 64) {
			uint64_t rest = x >> pos;
			uint64_t inv;
			unsigned int z, o;

			if (rest == 0) {
				run += 64 - pos;
				break;
			}
			z = (unsigned int)__builtin_ctzll(rest);
			run += z;
			if (run >= need)
				return true;
			pos += z;
			inv = (~x) >> pos;
			o = inv == 0 ? 64 - pos
				     : (unsigned int)__builtin_ctzll(inv);
			pos += o;
			run = 0;
		}
		if (run >= need)
			return true;
	}
	return run >= need;
}

static size_t round_q(size_t size, size_t q)
{
	return (size + q - 1) / q * q;
}

static size_t next_pow2(size_t x)
{
	size_t p = 1;

	while (p < x)
		p <<= 1;
	return p;
}

/* A size in bytes: mostly small, sometimes large. */
static size_t rand_size(struct at_rng *r, size_t q)
{
	uint64_t k = at_below(r, 100);
	size_t nq;

	if (k < 55)
		nq = 1 + at_below(r, 4);
	else if (k < 88)
		nq = 1 + at_below(r, 64);
	else if (k < 99)
		nq = 1 + at_below(r, 512);
	else
		nq = 1 + at_below(r, 4096);
	/* sometimes not a multiple of the quantum */
	return nq * q - (size_t)at_below(r, q);
}

static const int fits[3] = { ARENA_INSTANTFIT, ARENA_BESTFIT, ARENA_NEXTFIT };
static const size_t aligns[4] = { 0, 16, 64, 256 };

struct counters {
	unsigned long allocs, xallocs, frees, fails, xfails, checks;
};

/* Compares the arena's accounting with the model. */
static void model_compare(struct model *m, struct arena *a, bool bounded)
{
	struct arena_stats st;
	int rc;

	rc = arena_check(a);
	RCHECK(m, rc == 0, "arena_check(%s) failed: %s", arena_name(a),
	       magslab_last_error());
	memset(&st, 0, sizeof(st));
	RCHECK(m, arena_stats(a, &st) == 0, "arena_stats failed");
	if (!m->qcache) {
		RCHECK(m, st.allocated == m->alloc_bytes,
		       "stats allocated %zu, model %zu", st.allocated,
		       m->alloc_bytes);
		RCHECK(m, st.nr_alloc_segments == m->nr_live,
		       "stats nr_alloc_segments %zu, model %zu",
		       st.nr_alloc_segments, m->nr_live);
	} else {
		RCHECK(m, st.allocated >= m->alloc_bytes,
		       "stats allocated %zu < model %zu", st.allocated,
		       m->alloc_bytes);
	}
	RCHECK(m, st.hash_items == st.nr_alloc_segments,
	       "stats hash_items %zu, nr_alloc_segments %zu", st.hash_items,
	       st.nr_alloc_segments);
	RCHECK(m, st.total == st.free + st.allocated,
	       "total %zu != free %zu + allocated %zu", st.total, st.free,
	       st.allocated);
	RCHECK(m, st.nr_segments == st.nr_alloc_segments + st.nr_free_segments,
	       "nr_segments %zu != %zu + %zu", st.nr_segments,
	       st.nr_alloc_segments, st.nr_free_segments);
	if (bounded) {
		RCHECK(m, st.total == m->nq * m->quantum,
		       "total %zu, expected %zu", st.total,
		       m->nq * m->quantum);
	} else {
		RCHECK(m, st.imported == st.total, "imported %zu total %zu",
		       st.imported, st.total);
		RCHECK(m, st.nr_spans == st.nr_imports - st.nr_releases,
		       "nr_spans %zu, imports %llu releases %llu",
		       st.nr_spans, (unsigned long long)st.nr_imports,
		       (unsigned long long)st.nr_releases);
	}
}

static void do_one_alloc(struct model *m, struct arena *a, struct at_rng *r,
			 bool bounded, struct counters *c)
{
	size_t q = m->quantum;
	size_t size = rand_size(r, q), rsize = round_q(size, q);
	struct seg *s;
	void *p;

	if (at_below(r, 2) == 0) {
		int fit = fits[at_below(r, 3)];

		c->allocs++;
		p = arena_alloc(a, size, MEM_ATOMIC | fit);
		if (!p) {
			c->fails++;
			RCHECK(m, errno == ENOMEM,
			       "alloc(%zu) failed with errno %d", size, errno);
			if (bounded && !m->qcache)
				RCHECK(m, !model_has_run(m, rsize / q),
				       "alloc(%zu, fit %#x) failed but the "
				       "model has a free run of %zu quanta",
				       size, fit, rsize / q);
			return;
		}
		model_mark(m, (uintptr_t)p, rsize);
		s = &m->live[m->nr_live++];
		s->addr = (uintptr_t)p;
		s->asked = size;
		s->rsize = rsize;
		s->x = false;
	} else {
		size_t align = aligns[at_below(r, 4)];
		size_t phase = align ? (size_t)at_below(r, align / q) * q : 0;
		size_t nocross = 0;
		uintptr_t lo = 0, hi = 0;
		int fit = fits[at_below(r, 3)];
		uintptr_t x;

		if (at_below(r, 10) < 3)
			nocross = next_pow2(rsize + phase) << at_below(r, 3);
		if (bounded && at_below(r, 10) < 2) {
			uint64_t k = at_below(r, 3);

			if (k != 1)
				lo = m->base + at_below(r, m->nq) * q;
			if (k != 0) {
				uintptr_t from = lo ? lo : m->base;

				hi = from + rsize +
				     at_below(r, m->nq / 4) * q;
			}
		}
		c->xallocs++;
		p = arena_xalloc(a, size, align, phase, nocross, PTR(lo),
				 PTR(hi), MEM_ATOMIC | fit);
		if (!p) {
			c->xfails++;
			RCHECK(m, errno == ENOMEM,
			       "xalloc(%zu, %zu, %zu, %zu, %#lx, %#lx) failed "
			       "with errno %d (%s)", size, align, phase,
			       nocross, (unsigned long)lo, (unsigned long)hi,
			       errno, magslab_last_error());
			return;
		}
		x = (uintptr_t)p;
		if (align > 1)
			RCHECK(m, x % align == phase,
			       "xalloc align %zu phase %zu returned %#lx",
			       align, phase, (unsigned long)x);
		if (nocross)
			RCHECK(m, x / nocross == (x + rsize - 1) / nocross,
			       "xalloc(%zu) nocross %zu returned %#lx",
			       size, nocross, (unsigned long)x);
		if (lo)
			RCHECK(m, x >= lo, "xalloc min %#lx returned %#lx",
			       (unsigned long)lo, (unsigned long)x);
		if (hi)
			RCHECK(m, x + rsize <= hi,
			       "xalloc(%zu) max %#lx returned %#lx", size,
			       (unsigned long)hi, (unsigned long)x);
		model_mark(m, x, rsize);
		s = &m->live[m->nr_live++];
		s->addr = x;
		s->asked = size;
		s->rsize = rsize;
		s->x = true;
	}
}

static void do_one_free(struct model *m, struct arena *a, struct at_rng *r,
			struct counters *c)
{
	size_t i = at_below(r, m->nr_live);
	struct seg s = m->live[i];
	size_t size = s.asked;
	int rc;

	/* Any size rounding to the same number of quanta is accepted. */
	if (at_below(r, 4) == 0)
		size = s.rsize - (size_t)at_below(r, m->quantum);
	c->frees++;
	if (s.x)
		rc = arena_xfree(a, PTR(s.addr), size);
	else
		rc = arena_free(a, PTR(s.addr), size);
	RCHECK(m, rc == 0, "%s(%#lx, %zu) (allocated %zu) failed: errno %d %s",
	       s.x ? "xfree" : "free", (unsigned long)s.addr, size, s.asked,
	       errno, magslab_last_error());
	model_clear(m, s.addr, s.rsize);
	m->live[i] = m->live[--m->nr_live];
}

static void run_ops(struct model *m, struct arena *a, unsigned long ops,
		    bool bounded)
{
	struct at_rng r;
	struct counters c;
	unsigned int p_alloc = 60;

	memset(&c, 0, sizeof(c));
	at_rng_init(&r, m->seed);
	for (m->op = 0; m->op < ops; m->op++) {
		bool alloc;

		/* Alternate phases that fill the arena and drain it. */
		if (m->op % 25000 == 0)
			p_alloc = (m->op / 25000) % 2 ? 35 : 65;
		if (m->nr_live == 0)
			alloc = true;
		else if (m->nr_live == m->cap_live)
			alloc = false;
		else
			alloc = at_below(&r, 100) < p_alloc;
		if (alloc)
			do_one_alloc(m, a, &r, bounded, &c);
		else
			do_one_free(m, a, &r, &c);
		if (m->op % 1000 == 999) {
			model_compare(m, a, bounded);
			c.checks++;
		}
	}
	while (m->nr_live)
		do_one_free(m, a, &r, &c);
	model_compare(m, a, bounded);
	print_message("  seed %llu: %lu allocs (%lu failed), %lu xallocs "
		      "(%lu failed), %lu frees, %lu checks\n",
		      (unsigned long long)m->seed, c.allocs, c.fails,
		      c.xallocs, c.xfails, c.frees, c.checks);
	/* The run must have exercised both success and exhaustion. */
	assert_true(c.allocs > 0 && c.xallocs > 0 && c.frees > 0);
}

static int group_setup(void **state)
{
	(void)state;
	at_install_handler();
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	magslab_set_error_handler(NULL, NULL);
	return 0;
}

enum { QUANTUM = 8, NQ = 64 * 1024, BASE = 8 * 1024 };

static void test_random_bounded(void **state)
{
	struct model m;
	struct arena *a;
	struct arena_stats st;

	(void)state;
	model_init(&m, BASE, QUANTUM, NQ, 16384, at_seed(DEFAULT_SEED));
	a = arena_create("random", PTR(BASE), (size_t)QUANTUM * NQ, QUANTUM,
			 NULL, NULL, NULL, 0, 0);
	assert_non_null(a);
	run_ops(&m, a, 1000000, true);
	assert_int_equal(arena_check(a), 0);
	assert_int_equal(arena_stats(a, &st), 0);
	assert_int_equal(st.allocated, 0);
	assert_int_equal(st.nr_free_segments, 1);
	assert_int_equal(st.nr_segments, 1);
	assert_int_equal(st.hash_items, 0);
	assert_int_equal(arena_destroy(a), 0);
	model_fini(&m);
}

/* The same over an arena with quantum caches up to 64 bytes: small plain
 * allocations go through the slab layer, xalloc and big ones do not. */
static void test_random_qcache(void **state)
{
	struct model m;
	struct arena *a;
	struct arena_stats st;

	(void)state;
	model_init(&m, BASE, QUANTUM, NQ, 16384, at_seed(DEFAULT_SEED) + 2);
	m.qcache = true;
	a = arena_create("random_qc", PTR(BASE), (size_t)QUANTUM * NQ,
			 QUANTUM, NULL, NULL, NULL, 64, 0);
	assert_non_null(a);
	run_ops(&m, a, 200000, true);
	assert_int_equal(arena_check(a), 0);
	assert_int_equal(arena_stats(a, &st), 0);
	assert_int_equal(st.total, (size_t)QUANTUM * NQ);
	assert_int_equal(arena_destroy(a), 0);
	model_fini(&m);
}

enum { SRC_QUANTUM = 4096, SRC_PAGES = 256, SRC_BASE = 1 << 24 };

static void test_random_import(void **state)
{
	struct model m;
	struct arena *s, *a;
	struct arena_stats st, sst;

	(void)state;
	model_init(&m, SRC_BASE, QUANTUM,
		   (size_t)SRC_PAGES * SRC_QUANTUM / QUANTUM, 4096,
		   at_seed(DEFAULT_SEED) + 1);
	s = arena_create("random_src", PTR(SRC_BASE),
			 (size_t)SRC_PAGES * SRC_QUANTUM, SRC_QUANTUM, NULL,
			 NULL, NULL, 0, 0);
	assert_non_null(s);
	a = arena_create("random_imp", NULL, 0, QUANTUM, NULL, NULL, s, 0, 0);
	assert_non_null(a);
	run_ops(&m, a, 200000, false);
	assert_int_equal(arena_check(s), 0);
	assert_int_equal(arena_stats(a, &st), 0);
	assert_int_equal(arena_stats(s, &sst), 0);
	print_message("  importer: %llu imports, %llu releases\n",
		      (unsigned long long)st.nr_imports,
		      (unsigned long long)st.nr_releases);
	assert_true(st.nr_imports > 1);
	assert_int_equal(st.nr_imports, st.nr_releases);
	assert_int_equal(st.total, 0);
	assert_int_equal(st.nr_spans, 0);
	assert_int_equal(sst.allocated, 0);
	assert_int_equal(sst.nr_free_segments, 1);
	assert_int_equal(arena_destroy(a), 0);
	assert_int_equal(arena_destroy(s), 0);
	model_fini(&m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_bounded),
		cmocka_unit_test(test_random_import),
		cmocka_unit_test(test_random_qcache),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
