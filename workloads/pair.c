/*
 * workloads/pair.c — "pair": every thread allocates one object, writes a
 * word to it and frees it, in a loop.
 *
 * After the first few operations every allocation is served by the slot's
 * loaded magazine and every free goes back to it: pure pcc hits, no depot.
 * With --pcc-map cpu a thread that migrates between an allocation and its
 * free leaves an object in another slot's magazine; that is the only depot
 * traffic there should be (none with --pin or --pcc-map thread).
 *
 * Owns the pair subcommand: no options of its own, no JSON of its own.  State:
 * the one cache, shared by every thread (each its own object at a time).
 */
#include "workload.h"

#include <stdio.h>

static void pair_help(FILE *f)
{
	fputs(
"usage: magslab-workload pair [options]\n"
"\n"
"Every thread, in a loop: kmem_cache_alloc() one --objsize object, write\n"
"one byte to it, kmem_cache_free() it (two operations).  All threads share\n"
"one cache.  What the magazine layer should do: serve everything from the\n"
"per-CPU loaded magazine; after warm-up the depot is not needed (see\n"
"caches[0].after_warmup.depot_gets in the JSON), the magsize does not grow.\n"
"The operation sequence of a thread does not depend on the seed or timing.\n"
"\n", f);
	wl_usage_common(f);
}

static void pair_thread(struct wl_thread *t)
{
	struct kmem_cache *kc = t->arg;
	unsigned char n = 0;

	while (!wl_stopping(t)) {
		void *p = kmem_cache_alloc(kc, MEM_WAIT);

		if (!p) {
			wl_fail(t, "kmem_cache_alloc(wl-pair) returned NULL");
			return;
		}
		*(volatile unsigned char *)p = n++;
		kmem_cache_free(kc, p);
		wl_count(t, 2);
	}
}

int wl_pair_main(int argc, char **argv)
{
	struct wl_opts o;
	struct wl_run run;
	struct kmem_cache *kc;
	int r;

	const struct wl_cmdline cl = { .help = pair_help };

	wl_opts_init(&o, "pair");
	r = wl_parse_args(argc, argv, &o, &cl);
	if (r)
		return r > 0 ? 0 : 2;
	if (wl_apply_opts(&o))
		return 2;
	kc = wl_cache_create(&o, "wl-pair", o.objsize, 0);
	if (!kc)
		return 1;
	wl_run_init(&run, &o);
	wl_run_add_cache(&run, kc);
	wl_run_threads(&run, o.threads, pair_thread, kc);
	r = wl_report(&run, "pair", NULL, NULL, NULL);
	if (kmem_cache_destroy(kc) != 0)
		r = -1;
	return run.failed || r ? 1 : 0;
}
