/*
 * workloads/large.c — "large": a ramp of live large objects, then a release.
 *
 * Objects above 512 bytes live in bufctl slabs: the cache keeps a hash from
 * each object handed out of a slab to its bufctl, and doubles the hash when
 * it gets crowded.  Every thread allocates --live objects one by one
 * (holding them all: the ramp), then frees them all (the release: random
 * order by default), and starts again.  The hash grows during the first
 * ramp; the later ramps show whether it is sized for the peak (no more
 * resizes) and what the magazines keep of a release.
 *
 * Owns the large subcommand: its options (--live, --ramps, --release) and
 * "ramp_peak" in the JSON, whose peaks only the monitor thread writes (its
 * samples); the ramp count is atomic.
 */
#include "workload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum release_order { REL_RANDOM, REL_LIFO, REL_FIFO };
static const char *const release_names[] = { "random", "lifo", "fifo" };

struct large_cfg {
	struct kmem_cache *kc;
	unsigned int live;           /* objects per thread at the top of a ramp */
	enum release_order order;
	unsigned int ramps;          /* 0: until --duration/--ops */
	_Atomic uint64_t nr_ramps;   /* ramps completed, all threads */
	/* The peaks of the samples the monitor thread takes every 20 ms. */
	uint64_t nr_samples;
	uint64_t peak_hash_lists, peak_hash_items, peak_live, peak_slabs;
	uint64_t peak_hash_resizes;
};

static void large_help(FILE *f)
{
	fputs(
"usage: magslab-workload large [options]\n"
"\n"
"One cache of --objsize objects (default 1024 here: above 512 bytes, so\n"
"bufctl slabs with an object -> bufctl hash).  Every thread, in ramps:\n"
"allocate --live objects one by one, keeping them all, then free them all\n"
"(the release), and start again.  The hash grows during the first ramp\n"
"(hash_resizes, hash_lists in the JSON; \"ramp_peak\" holds the number\n"
"of complete ramps and the peaks of stats samples taken every 20 ms); the\n"
"magazines absorb the start of every release and the depot the rest.  In\n"
"ops mode (--ops) the last ramp may be cut short; the release at the end is\n"
"counted too.\n"
"The operation sequence of a thread depends only on --seed and its index.\n"
"\n"
"Options:\n"
"  --live N           live objects per thread at the top of a ramp\n"
"                     (default 8192)\n"
"  --release random|lifo|fifo   release order (default random)\n"
"  --ramps R          stop after R ramps per thread (default: run for\n"
"                     --duration or --ops)\n"
"\n", f);
	wl_usage_common(f);
}

static const struct wl_opt large_opts[] = {
	{ "--live", true }, { "--ramps", true }, { "--release", true }, { NULL, false },
};

static int large_opt(struct wl_opts *o, const char *opt, const char *v, void *ctx)
{
	struct large_cfg *c = ctx;
	unsigned int k;

	if (strcmp(opt, "--live") == 0)
		return wl_parse_count(o, opt, v, &c->live);
	if (strcmp(opt, "--ramps") == 0)
		return wl_parse_count(o, opt, v, &c->ramps);
	if (wl_parse_choice(o, opt, v, release_names, 3, &k))
		return -1;
	c->order = (enum release_order)k;
	return 0;
}

/* The monitor thread's sampler (never a worker: a stats call may wait). */
static void large_sample(struct wl_run *run, void *arg)
{
	struct large_cfg *c = arg;
	struct kmem_cache_stats st;

	(void)run;
	if (kmem_cache_stats(c->kc, &st) != 0)
		return;
	c->nr_samples++;
	if (st.hash_lists > c->peak_hash_lists)
		c->peak_hash_lists = st.hash_lists;
	if (st.hash_items > c->peak_hash_items)
		c->peak_hash_items = st.hash_items;
	if (st.live_objs > c->peak_live)
		c->peak_live = st.live_objs;
	if (st.slabs > c->peak_slabs)
		c->peak_slabs = st.slabs;
	c->peak_hash_resizes = st.hash_resizes;
}

static void large_release(const struct large_cfg *c, struct wl_thread *t,
			  void **objs, unsigned int n)
{
	if (c->order == REL_RANDOM)
		wl_shuffle(&t->rng, objs, n);
	for (unsigned int a = 0; a < n; a++)
		kmem_cache_free(c->kc, objs[c->order == REL_LIFO ? n - 1 - a : a]);
	wl_count(t, n);
}

static void large_thread(struct wl_thread *t)
{
	struct large_cfg *c = t->arg;
	void **objs = malloc(c->live * sizeof(*objs));
	unsigned int ramps = 0;

	if (!objs) {
		wl_fail(t, "malloc of the object array failed");
		return;
	}
	while (!wl_stopping(t) && (!c->ramps || ramps < c->ramps)) {
		unsigned int n = 0;

		while (n < c->live && !wl_stopping(t)) {
			objs[n] = kmem_cache_alloc(c->kc, MEM_WAIT);
			if (!objs[n]) {
				wl_fail(t, "kmem_cache_alloc returned NULL");
				break;
			}
			*(volatile unsigned char *)objs[n] = (unsigned char)n;
			n++;
			wl_count(t, 1);
		}
		large_release(c, t, objs, n);
		ramps++;
		if (n == c->live)
			atomic_fetch_add(&c->nr_ramps, 1);
		if (t->failed)
			break;
	}
	free(objs);
}

static void large_params(json_t *p, void *arg)
{
	const struct large_cfg *c = arg;

	wl_jset_u64(p, "live", c->live);
	wl_jset_str(p, "release", release_names[c->order]);
	wl_jset_u64(p, "ramps", c->ramps);
}

static void large_extra(json_t *root, void *arg)
{
	const struct large_cfg *c = arg;
	json_t *peak = wl_jobject();

	wl_jset_u64(peak, "ramps", atomic_load(&c->nr_ramps));
	wl_jset_u64(peak, "samples", c->nr_samples);
	wl_jset_u64(peak, "hash_lists", c->peak_hash_lists);
	wl_jset_u64(peak, "hash_items", c->peak_hash_items);
	wl_jset_u64(peak, "hash_resizes", c->peak_hash_resizes);
	wl_jset_u64(peak, "live_objs", c->peak_live);
	wl_jset_u64(peak, "slabs", c->peak_slabs);
	wl_jset(root, "ramp_peak", peak);
}

int wl_large_main(int argc, char **argv)
{
	struct large_cfg c = { .live = 8192, .order = REL_RANDOM };
	struct wl_opts o;
	struct wl_run run;
	int r;

	const struct wl_cmdline cl = { large_opts, large_opt, NULL, &c, large_help };

	wl_opts_init(&o, "large");
	o.objsize = 1024;
	r = wl_parse_args(argc, argv, &o, &cl);
	if (r)
		return r > 0 ? 0 : 2;
	if (wl_apply_opts(&o))
		return 2;
	c.kc = wl_cache_create(&o, "wl-large", o.objsize, 0);
	if (!c.kc)
		return 1;
	wl_run_init(&run, &o);
	wl_run_add_cache(&run, c.kc);
	run.sample = large_sample;
	run.sample_arg = &c;
	run.sample_every_s = 0.02;
	wl_run_threads(&run, o.threads, large_thread, &c);
	r = wl_report(&run, "large", large_params, large_extra, &c);
	if (kmem_cache_destroy(c.kc) != 0)
		r = -1;
	return run.failed || r ? 1 : 0;
}
