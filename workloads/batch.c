/*
 * workloads/batch.c — "batch": every thread allocates K objects, then frees
 * them.
 *
 * A pcc holds at most two magazines (loaded and prev), 2 * magsize rounds.
 * Allocating K > 2 * magsize objects in a row empties both and goes to the
 * depot for full magazines (and to the slab layer when it has none);
 * freeing them fills both and gives full magazines back to the depot.
 * That is the magazine underflow/overflow path and the depot's traffic.
 *
 * Owns the batch subcommand: its options (--batch, --vary, --order), the
 * threads' rounds, and params.batch/vary/order.  State: struct batch_cfg,
 * read-only while the threads run (each has its own object array).
 */
#include "workload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum batch_order { ORDER_FIFO, ORDER_LIFO, ORDER_RANDOM };

struct batch_cfg {
	struct kmem_cache *kc;
	unsigned int batch;      /* K */
	bool vary;               /* round sizes uniform in 1..K */
	enum batch_order order;
};

static const char *const order_names[] = { "fifo", "lifo", "random" };

static void batch_help(FILE *f)
{
	fputs(
"usage: magslab-workload batch [options]\n"
"\n"
"Every thread, in rounds: allocate K --objsize objects (writing one byte to\n"
"each), then free all K (2K operations).  All threads share one cache.\n"
"With K larger than two magazines, each round empties the pcc's loaded and\n"
"prev magazines (depot gets, misses that go to the slab layer) and fills\n"
"them again (depot puts): the magazine underflow/overflow path.  With more\n"
"threads than CPUs the depot lock is contended and the policy may grow the\n"
"magsize.\n"
"The operation sequence of a thread depends only on --seed and its index.\n"
"\n"
"Options:\n"
"  --batch K          objects per round (default 256)\n"
"  --vary             each round allocates a random 1..K objects\n"
"  --order fifo|lifo|random   order of the frees (default fifo: the order\n"
"                     they were allocated in)\n"
"\n", f);
	wl_usage_common(f);
}

static const struct wl_opt batch_opts[] = {
	{ "--batch", true }, { "--vary", false }, { "--order", true }, { NULL, false },
};

static int batch_opt(struct wl_opts *o, const char *opt, const char *v, void *ctx)
{
	struct batch_cfg *c = ctx;
	unsigned int k;

	if (strcmp(opt, "--vary") == 0) {
		c->vary = true;
		return 0;
	}
	if (strcmp(opt, "--batch") == 0)
		return wl_parse_count(o, opt, v, &c->batch);
	if (wl_parse_choice(o, opt, v, order_names, 3, &k))
		return -1;
	c->order = (enum batch_order)k;
	return 0;
}

static void batch_thread(struct wl_thread *t)
{
	const struct batch_cfg *c = t->arg;
	void **objs = malloc(c->batch * sizeof(*objs));

	if (!objs) {
		wl_fail(t, "malloc of the batch array failed");
		return;
	}
	while (!wl_stopping(t)) {
		unsigned int k = c->vary ? 1 + (unsigned int)wl_rng_below(
					   &t->rng, c->batch) : c->batch;
		unsigned int got;

		for (got = 0; got < k; got++) {
			objs[got] = kmem_cache_alloc(c->kc, MEM_WAIT);
			if (!objs[got])
				break;
			*(volatile unsigned char *)objs[got] = (unsigned char)got;
		}
		if (got < k)
			wl_fail(t, "kmem_cache_alloc returned NULL");
		if (c->order == ORDER_RANDOM)
			wl_shuffle(&t->rng, objs, got);
		for (unsigned int a = 0; a < got; a++)
			kmem_cache_free(c->kc, objs[c->order == ORDER_LIFO ?
						    got - 1 - a : a]);
		wl_count(t, 2 * (uint64_t)got);
		if (got < k)
			break;
	}
	free(objs);
}

static void batch_params(json_t *p, void *arg)
{
	const struct batch_cfg *c = arg;

	wl_jset_u64(p, "batch", c->batch);
	wl_jset_bool(p, "vary", c->vary);
	wl_jset_str(p, "order", order_names[c->order]);
}

int wl_batch_main(int argc, char **argv)
{
	struct batch_cfg c = { .batch = 256, .order = ORDER_FIFO };
	struct wl_opts o;
	struct wl_run run;
	int r;

	const struct wl_cmdline cl = { batch_opts, batch_opt, NULL, &c, batch_help };

	wl_opts_init(&o, "batch");
	r = wl_parse_args(argc, argv, &o, &cl);
	if (r)
		return r > 0 ? 0 : 2;
	if (wl_apply_opts(&o))
		return 2;
	c.kc = wl_cache_create(&o, "wl-batch", o.objsize, 0);
	if (!c.kc)
		return 1;
	wl_run_init(&run, &o);
	wl_run_add_cache(&run, c.kc);
	wl_run_threads(&run, o.threads, batch_thread, &c);
	r = wl_report(&run, "batch", batch_params, NULL, &c);
	if (kmem_cache_destroy(c.kc) != 0)
		r = -1;
	return run.failed || r ? 1 : 0;
}
