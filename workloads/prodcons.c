/*
 * workloads/prodcons.c — "prodcons": producer threads allocate, consumer
 * threads free, through bounded queues.
 *
 * Every object is freed by a thread other than the one that allocated it,
 * usually on another CPU: the producers' slots run out of rounds and need
 * full magazines from the depot, the consumers' slots fill up and give full
 * magazines to it.  This is the traffic the depot exists for; with more
 * threads than CPUs its lock is contended and the resize policy grows the
 * magsize.
 *
 * Queues: one bounded MPMC ring (Vyukov's) per consumer.  Producer p pushes
 * its n-th object to queue (p + n) mod C, trying the following queues when
 * that one is full and yielding the CPU when every one is; a consumer pops
 * its own queue and yields when it is empty.  When the producers stop (the
 * duration is over, or each did --ops allocations), the consumers drain their
 * queues and stop.
 *
 * Roles are interleaved so that --pin on two CPUs puts the producers on one
 * and the consumers on the other: threads 0, 2, 4... are producers and 1, 3,
 * 5... consumers, while both kinds last; the rest are of the kind there are
 * more of.
 *
 * Owns the prodcons subcommand: its options (--producers, --depth, --burst),
 * the queues, and params.producers/consumers/depth/burst and "queues" in the
 * JSON.  Locking: the rings are lock-free; the done count and wait counts are
 * atomics.
 */
#include "workload.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHELINE 64

struct pc_cell {
	_Atomic size_t seq;
	void *data;
};

struct pc_queue {
	struct pc_cell *cells;
	size_t mask;
	_Alignas(CACHELINE) _Atomic size_t enq;
	_Alignas(CACHELINE) _Atomic size_t deq;
	_Alignas(CACHELINE) char pad;
};

struct pc_cfg {
	struct kmem_cache *kc;
	unsigned int producers, consumers;
	unsigned int depth;        /* slots per queue (a power of two) */
	unsigned int burst;        /* objects a producer allocates at once */
	struct pc_queue *queues;   /* [consumers] */
	_Atomic unsigned int producers_done;
	_Atomic uint64_t full_waits, empty_waits;
};

static void pc_help(FILE *f)
{
	fputs(
"usage: magslab-workload prodcons [options]\n"
"\n"
"--producers P threads allocate --objsize objects (writing one byte each)\n"
"and push them into bounded queues, one queue per consumer; the other\n"
"threads (consumers) pop their queue and free what they get.  Every free is\n"
"of an object another thread allocated, usually on another CPU: producer\n"
"slots empty magazines and take full ones from the depot, consumer slots\n"
"fill magazines and give them to the depot.  With more threads than CPUs\n"
"the depot lock is contended and, with a low --threshold, the magsize grows.\n"
"Threads 0, 2, 4... are producers and 1, 3, 5... consumers (so --pin on two\n"
"CPUs separates them).  --ops N: each producer allocates N objects; the\n"
"consumers free all of them.\n"
"Timing dependent: which consumer frees which object, and when, depends on\n"
"scheduling; a producer's own allocation sequence does not.\n"
"\n"
"Options:\n"
"  --producers P      producer threads (default threads / 2; the rest are\n"
"                     consumers; --threads must be at least 2)\n"
"  --depth D          slots per queue, rounded up to a power of two\n"
"                     (default 256)\n"
"  --burst B          a producer allocates B objects, then pushes them\n"
"                     (default 1)\n"
"\n", f);
	wl_usage_common(f);
}

static const struct wl_opt pc_opts[] = {
	{ "--producers", true }, { "--depth", true }, { "--burst", true }, { NULL, false },
};

static int pc_opt(struct wl_opts *o, const char *opt, const char *v, void *ctx)
{
	struct pc_cfg *c = ctx;

	if (strcmp(opt, "--producers") == 0)
		return wl_parse_count(o, opt, v, &c->producers);
	if (strcmp(opt, "--depth") == 0) {
		if (wl_parse_uint(o, opt, v, &c->depth))
			return -1;
		if (c->depth < 2 || c->depth > (1u << 20))
			return wl_error(o, "--depth: %s is not in 2..1048576", v);
		return 0;
	}
	if (wl_parse_uint(o, opt, v, &c->burst))
		return -1;
	if (c->burst == 0 || c->burst > 65536)
		return wl_error(o, "--burst: %s is not in 1..65536", v);
	return 0;
}

static int pc_queue_init(struct pc_queue *q, size_t depth)
{
	q->cells = calloc(depth, sizeof(*q->cells));
	if (!q->cells)
		return -1;
	q->mask = depth - 1;
	for (size_t k = 0; k < depth; k++)
		atomic_init(&q->cells[k].seq, k);
	atomic_init(&q->enq, 0);
	atomic_init(&q->deq, 0);
	return 0;
}

static bool pc_push(struct pc_queue *q, void *obj)
{
	size_t pos = atomic_load_explicit(&q->enq, memory_order_relaxed);
	struct pc_cell *cell;

	for (;;) {
		size_t seq;
		intptr_t diff;

		cell = &q->cells[pos & q->mask];
		seq = atomic_load_explicit(&cell->seq, memory_order_acquire);
		diff = (intptr_t)seq - (intptr_t)pos;
		if (diff == 0) {
			if (atomic_compare_exchange_weak_explicit(
				    &q->enq, &pos, pos + 1,
				    memory_order_relaxed, memory_order_relaxed))
				break;
		} else if (diff < 0) {
			return false;           /* full */
		} else {
			pos = atomic_load_explicit(&q->enq,
						   memory_order_relaxed);
		}
	}
	cell->data = obj;
	atomic_store_explicit(&cell->seq, pos + 1, memory_order_release);
	return true;
}

static void *pc_pop(struct pc_queue *q)
{
	size_t pos = atomic_load_explicit(&q->deq, memory_order_relaxed);
	struct pc_cell *cell;
	void *obj;

	for (;;) {
		size_t seq;
		intptr_t diff;

		cell = &q->cells[pos & q->mask];
		seq = atomic_load_explicit(&cell->seq, memory_order_acquire);
		diff = (intptr_t)seq - (intptr_t)(pos + 1);
		if (diff == 0) {
			if (atomic_compare_exchange_weak_explicit(
				    &q->deq, &pos, pos + 1,
				    memory_order_relaxed, memory_order_relaxed))
				break;
		} else if (diff < 0) {
			return NULL;            /* empty */
		} else {
			pos = atomic_load_explicit(&q->deq,
						   memory_order_relaxed);
		}
	}
	obj = cell->data;
	atomic_store_explicit(&cell->seq, pos + q->mask + 1,
			      memory_order_release);
	return obj;
}

/* Thread index -> role and index within the role. */
static bool pc_is_producer(const struct pc_cfg *c, unsigned int i,
			   unsigned int *idx)
{
	unsigned int m = c->producers < c->consumers ? c->producers
						     : c->consumers;

	if (i < 2 * m) {
		*idx = i / 2;
		return i % 2 == 0;
	}
	*idx = m + (i - 2 * m);
	return c->producers > c->consumers;
}

static void pc_producer(struct wl_thread *t, struct pc_cfg *c,
			unsigned int idx)
{
	void **objs = malloc(c->burst * sizeof(*objs));
	uint64_t n = idx;
	uint64_t waits = 0;

	if (!objs) {
		wl_fail(t, "malloc of the burst array failed");
		return;
	}
	while (!wl_stopping(t)) {
		unsigned int got;

		for (got = 0; got < c->burst; got++) {
			objs[got] = kmem_cache_alloc(c->kc, MEM_WAIT);
			if (!objs[got])
				break;
			*(volatile unsigned char *)objs[got] = (unsigned char)n;
		}
		wl_count(t, got);
		for (unsigned int k = 0; k < got; k++, n++) {
			unsigned int tries = 0;

			while (!pc_push(&c->queues[(n + tries) % c->consumers],
					objs[k])) {
				if (++tries % c->consumers == 0) {
					waits++;
					sched_yield();
				}
			}
		}
		if (got < c->burst) {
			wl_fail(t, "kmem_cache_alloc returned NULL");
			break;
		}
	}
	atomic_fetch_add(&c->full_waits, waits);
	atomic_fetch_add_explicit(&c->producers_done, 1, memory_order_release);
	free(objs);
}

static void pc_consumer(struct wl_thread *t, struct pc_cfg *c,
			unsigned int idx)
{
	struct pc_queue *q = &c->queues[idx];
	uint64_t waits = 0;

	for (;;) {
		void *obj = pc_pop(q);

		if (obj) {
			kmem_cache_free(c->kc, obj);
			wl_count(t, 1);
			continue;
		}
		/* Empty: done once every producer is (their pushes came
		 * before their release increment), else yield. */
		if (atomic_load_explicit(&c->producers_done,
					 memory_order_acquire) == c->producers) {
			while ((obj = pc_pop(q)) != NULL) {
				kmem_cache_free(c->kc, obj);
				wl_count(t, 1);
			}
			break;
		}
		waits++;
		sched_yield();
	}
	atomic_fetch_add(&c->empty_waits, waits);
}

static void pc_thread(struct wl_thread *t)
{
	struct pc_cfg *c = t->arg;
	unsigned int idx;

	if (pc_is_producer(c, t->index, &idx))
		pc_producer(t, c, idx);
	else
		pc_consumer(t, c, idx);
}

static void pc_params(json_t *p, void *arg)
{
	const struct pc_cfg *c = arg;

	wl_jset_u64(p, "producers", c->producers);
	wl_jset_u64(p, "consumers", c->consumers);
	wl_jset_u64(p, "depth", c->depth);
	wl_jset_u64(p, "burst", c->burst);
}

static void pc_extra(json_t *root, void *arg)
{
	struct pc_cfg *c = arg;
	json_t *q = wl_jobject();

	wl_jset_u64(q, "producer_full_waits", atomic_load(&c->full_waits));
	wl_jset_u64(q, "consumer_empty_waits", atomic_load(&c->empty_waits));
	wl_jset(root, "queues", q);
}

int wl_prodcons_main(int argc, char **argv)
{
	struct pc_cfg c = { .depth = 256, .burst = 1 };
	struct wl_opts o;
	struct wl_run run;
	size_t depth = 2;
	int r;

	const struct wl_cmdline cl = { pc_opts, pc_opt, NULL, &c, pc_help };

	wl_opts_init(&o, "prodcons");
	r = wl_parse_args(argc, argv, &o, &cl);
	if (r)
		return r > 0 ? 0 : 2;
	if (o.threads < 2) {
		wl_error(&o, "--threads: needs at least 2 (a producer and a "
			 "consumer)");
		return 2;
	}
	if (!c.producers)
		c.producers = o.threads / 2;
	if (c.producers >= o.threads) {
		wl_error(&o, "--producers: %u leaves no consumer of %u threads",
			 c.producers, o.threads);
		return 2;
	}
	c.consumers = o.threads - c.producers;
	while (depth < c.depth)
		depth *= 2;
	c.depth = (unsigned int)depth;
	atomic_init(&c.producers_done, 0);
	atomic_init(&c.full_waits, 0);
	atomic_init(&c.empty_waits, 0);
	if (wl_apply_opts(&o))
		return 2;

	/* The queues' indices sit on their own cache lines. */
	c.queues = aligned_alloc(CACHELINE, c.consumers * sizeof(*c.queues));
	if (!c.queues) {
		wl_error(&o, "out of memory");
		return 1;
	}
	memset(c.queues, 0, c.consumers * sizeof(*c.queues));
	for (unsigned int k = 0; k < c.consumers; k++) {
		if (pc_queue_init(&c.queues[k], c.depth)) {
			wl_error(&o, "out of memory");
			return 1;
		}
	}
	c.kc = wl_cache_create(&o, "wl-prodcons", o.objsize, 0);
	if (!c.kc)
		return 1;
	wl_run_init(&run, &o);
	wl_run_add_cache(&run, c.kc);
	wl_run_threads(&run, o.threads, pc_thread, &c);
	r = wl_report(&run, "prodcons", pc_params, pc_extra, &c);
	if (kmem_cache_destroy(c.kc) != 0)
		r = -1;
	for (unsigned int k = 0; k < c.consumers; k++)
		free(c.queues[k].cells);
	free(c.queues);
	return run.failed || r ? 1 : 0;
}
