/*
 * test_release_mt.c — giving memory back while other threads allocate (also
 * run under TSan).
 *
 *   reap under load: workers allocate and free through caches of every
 *       kind on kpages, and through an arena with quantum caches, while a
 *       reaper thread keeps calling kmem_cache_reap, arena_reap on that
 *       arena, on kpages and on base (purging quantum caches that are in
 *       use, packing boundary tags that other arenas are taking pages of,
 *       releasing base pages).  Every object is stamped by its owner and
 *       checked before it is freed: a page released under a live object
 *       would lose the stamp.  Afterwards every arena must be consistent.
 *   destroy races: two threads destroy the same cache (and the same
 *       arena) at once: exactly one succeeds, the other gets an error.
 *
 * Worker threads never call cmocka asserts: they record the first problem
 * and the main thread asserts after joining.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "slab_test_util.h"

#define NR_WORKERS 3
#define NR_KINDS 4
#define LIVE 256

/* ---- reap under load ------------------------------------------------------------ */

static const size_t kind_size[NR_KINDS] = { 64, 704, 65536, 0 };

struct load {
	struct kmem_cache *kc[NR_KINDS - 1];
	struct arena *qa;               /* kind 3: arena with quantum caches */
	atomic_int stop;
};

struct worker {
	pthread_t thread;
	struct load *load;
	unsigned int id;
	uint64_t ops;
	char err[160];
};

struct held {
	uint64_t *p;
	size_t size;
	int kind;
};

static void *obtain(struct load *l, int kind, size_t *size, struct st_rng *r)
{
	if (kind < NR_KINDS - 1) {
		*size = kind_size[kind];
		return kmem_cache_alloc(l->kc[kind], MEM_ATOMIC);
	}
	*size = 64 * (1 + st_below(r, 24));     /* some above qcache_max */
	return arena_alloc(l->qa, *size, MEM_ATOMIC);
}

static void give_back(struct load *l, const struct held *h)
{
	if (h->kind < NR_KINDS - 1)
		kmem_cache_free(l->kc[h->kind], h->p);
	else
		arena_free(l->qa, h->p, h->size);
}

/* The stamp: owner and sequence, at both ends of the object. */
static void stamp(struct held *h, uint64_t mark)
{
	h->p[0] = mark;
	h->p[h->size / 8 - 1] = ~mark;
}

static bool stamp_ok(const struct held *h, uint64_t mark)
{
	return h->p[0] == mark && h->p[h->size / 8 - 1] == ~mark;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct held live[LIVE] = { { 0 } };
	uint64_t marks[LIVE] = { 0 };
	struct st_rng r;

	st_rng_init(&r, st_seed(0x7e1ea5e) + w->id);
	while (!atomic_load(&w->load->stop) && !w->err[0]) {
		size_t i = st_below(&r, LIVE);
		struct held *h = &live[i];

		if (h->p) {
			if (!stamp_ok(h, marks[i]))
				snprintf(w->err, sizeof(w->err), "kind %d object %p lost its stamp",
					 h->kind, (void *)h->p);
			give_back(w->load, h);
			h->p = NULL;
			continue;
		}
		h->kind = (int)st_below(&r, NR_KINDS);
		h->p = obtain(w->load, h->kind, &h->size, &r);
		if (!h->p) {
			snprintf(w->err, sizeof(w->err), "kind %d: allocation failed", h->kind);
			break;
		}
		marks[i] = ((uint64_t)w->id << 48) | ++w->ops;
		stamp(h, marks[i]);
	}
	for (size_t i = 0; i < LIVE; i++)
		if (live[i].p)
			give_back(w->load, &live[i]);
	return NULL;
}

static void reap_each(struct kmem_cache *kc, void *arg)
{
	(void)arg;
	kmem_cache_reap(kc);
}

static void test_reap_under_load(void **state)
{
	struct load l = { .stop = 0 };
	struct worker w[NR_WORKERS];
	uint64_t t_end = st_now_ns() + (ST_SANITIZED ? 1500 : 2000) * 1000000ull;
	unsigned int reaps = 0;

	(void)state;
	for (int k = 0; k < NR_KINDS - 1; k++)
		l.kc[k] = st_create("rel_mt", kind_size[k], 0, 0, NULL);
	l.qa = arena_create("rel_mt_qa", NULL, 0, 64, NULL, NULL,
			    arena_kpages(), 1024, 0);
	assert_non_null(l.qa);
	for (unsigned int i = 0; i < NR_WORKERS; i++) {
		w[i] = (struct worker){ .load = &l, .id = i + 1 };
		assert_int_equal(pthread_create(&w[i].thread, NULL,
						worker_main, &w[i]), 0);
	}
	while (st_now_ns() < t_end) {
		switch (reaps++ % 4) {
		case 0: kmem_cache_for_each(reap_each, NULL); break;
		case 1: arena_reap(l.qa); break;
		case 2: arena_reap(arena_kpages()); break;
		default: arena_reap(arena_base()); break;
		}
		st_sleep_ms(2);
	}
	atomic_store(&l.stop, 1);
	for (unsigned int i = 0; i < NR_WORKERS; i++) {
		assert_int_equal(pthread_join(w[i].thread, NULL), 0);
		if (w[i].err[0])
			fail_msg("worker %u: %s", w[i].id, w[i].err);
		assert_true(w[i].ops > 0);
	}
	print_message("%u reaps while %d workers ran\n", reaps, NR_WORKERS);
	assert_no_error();
	for (int k = 0; k < NR_KINDS - 1; k++)
		st_destroy(l.kc[k]);
	assert_int_equal(arena_destroy(l.qa), 0);
	assert_arena_check(arena_kpages());
	assert_arena_check(arena_base());
}

/* ---- destroy races ------------------------------------------------------------- */

struct racer {
	pthread_t thread;
	void *obj;
	int (*destroy)(void *obj);
	atomic_int *go;
	int rc;
};

static int destroy_cache(void *obj)
{
	return kmem_cache_destroy(obj);
}

static int destroy_arena(void *obj)
{
	return arena_destroy(obj);
}

static void *racer_main(void *arg)
{
	struct racer *r = arg;

	while (!atomic_load(r->go))
		;
	r->rc = r->destroy(r->obj);
	return NULL;
}

/* Two destroys at once: one wins, the other is refused (no double
 * teardown, no crash). */
static void race_destroy(void *obj, int (*destroy)(void *obj))
{
	atomic_int go = 0;
	struct racer r[2];

	for (int i = 0; i < 2; i++) {
		r[i] = (struct racer){ .obj = obj, .destroy = destroy, .go = &go };
		assert_int_equal(pthread_create(&r[i].thread, NULL,
						racer_main, &r[i]), 0);
	}
	atomic_store(&go, 1);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(r[i].thread, NULL), 0);
	assert_int_equal(r[0].rc + r[1].rc, -1);
}

static void test_destroy_races(void **state)
{
	(void)state;
	for (int round = 0; round < (ST_SANITIZED ? 20 : 100); round++) {
		st_reset_errors();
		race_destroy(st_create("rel_race", 64, 0, 0, NULL),
			     destroy_cache);
		assert_int_equal(st_errors(), 1);
		st_reset_errors();
		race_destroy(arena_create("rel_race_a", PTR(0x100000), 1 << 20,
					  64, NULL, NULL, NULL, 0, 0),
			     destroy_arena);
		assert_int_equal(st_errors(), 1);
	}
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, st_mt_setup, st_mt_teardown)
	const struct CMUnitTest tests[] = {
		T(test_reap_under_load),
		T(test_destroy_races),
	};
#undef T

	st_install_handler();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
