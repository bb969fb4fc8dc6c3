/*
 * workloads/sizes.c — "sizes": several caches, object sizes drawn from a
 * distribution.
 *
 * One cache per size.  Every thread keeps --live slots; each operation picks
 * a slot at random: an empty slot gets an object of a size drawn from the
 * distribution (an allocation), a full one has its object freed.  About half
 * the slots are full at any time, so each cache sees a random mix of
 * allocations and frees in proportion to its weight.  The default set is
 * kmalloc-like (8 bytes to 8 KiB in powers of two, small sizes more
 * frequent); the sizes above 512 bytes use bufctl slabs (an external slab
 * header and a hash from object to bufctl), so those caches' hashes grow.
 *
 * Owns the sizes subcommand: its options (--sizes, --live), the size classes
 * and their caches, params.sizes/live/distribution.  State: struct sizes_cfg,
 * read-only while the threads run (each has its own slots).
 */
#include "workload.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SIZES 32

struct size_class {
	size_t size;
	double weight;
	double cum;                  /* cumulative probability, up to 1 */
	struct kmem_cache *kc;
};

struct sizes_cfg {
	const char *spec;
	struct size_class cls[MAX_SIZES];
	unsigned int nr;
	unsigned int live;           /* slots per thread */
};

struct sizes_slot {
	void *obj;
	unsigned int cls;
};

/* kmalloc-like: powers of two, small objects more common. */
static const struct { size_t size; double weight; } kmalloc_set[] = {
	{ 8, 16 }, { 16, 16 }, { 32, 16 }, { 64, 12 }, { 128, 8 }, { 256, 6 },
	{ 512, 4 }, { 1024, 3 }, { 2048, 2 }, { 4096, 1 }, { 8192, 1 },
};

static void sizes_help(FILE *f)
{
	fputs(
"usage: magslab-workload sizes [options]\n"
"\n"
"One cache per object size; all threads share them.  Every thread keeps\n"
"--live slots and, per operation, picks one at random (its seeded RNG):\n"
"an empty slot gets an object whose size is drawn from the distribution, a\n"
"full slot has its object freed.  At the end each thread frees what it\n"
"still holds (counted as operations).  Sizes above 512 bytes use bufctl\n"
"slabs, whose hashes grow with the objects out.  What the magazine layer\n"
"should do: each cache's magazines absorb its share of the traffic; the\n"
"rarely used caches hold few rounds (see bytes_in_mags per cache).\n"
"--objsize is not used: --sizes says the sizes.\n"
"The operation sequence of a thread depends only on --seed and its index.\n"
"\n"
"Options:\n"
"  --sizes LIST       comma-separated SIZE[:WEIGHT] (k suffix allowed,\n"
"                     weight default 1), or 'kmalloc' (the default):\n"
"                     8:16,16:16,32:16,64:12,128:8,256:6,512:4,1k:3,2k:2,\n"
"                     4k:1,8k:1\n"
"  --live N           slots per thread (default 512)\n"
"\n", f);
	wl_usage_common(f);
}

static const struct wl_opt sizes_opts[] = {
	{ "--sizes", true }, { "--live", true }, { NULL, false },
};

static int sizes_opt(struct wl_opts *o, const char *opt, const char *v, void *ctx)
{
	struct sizes_cfg *c = ctx;

	if (strcmp(opt, "--sizes") == 0) {
		c->spec = v;
		return 0;
	}
	return wl_parse_count(o, opt, v, &c->live);
}

/* One SIZE[:WEIGHT] item of --sizes (item is cut at the colon) as c's next class. */
static int parse_size_item(const struct wl_opts *o, struct sizes_cfg *c, char *item)
{
	char *colon = strchr(item, ':');
	struct size_class *cl = &c->cls[c->nr];

	if (c->nr == MAX_SIZES)
		return wl_error(o, "--sizes: more than %d sizes", MAX_SIZES);
	cl->weight = 1;
	if (colon) {
		*colon = '\0';
		if (wl_parse_double(o, "--sizes", colon + 1, &cl->weight))
			return -1;
	}
	if (wl_parse_size(o, "--sizes", item, &cl->size))
		return -1;
	if (cl->size == 0 || cl->size > (64u << 20))
		return wl_error(o, "--sizes: %zu is not in 1..64M", cl->size);
	for (unsigned int k = 0; k < c->nr; k++)
		if (c->cls[k].size == cl->size)
			return wl_error(o, "--sizes: %zu given twice", cl->size);
	c->nr++;
	return 0;
}

/* The classes of --sizes: "kmalloc", or a list of SIZE[:WEIGHT]. */
static int parse_size_list(const struct wl_opts *o, struct sizes_cfg *c)
{
	char *copy, *save = NULL;
	int ret = 0;

	if (strcmp(c->spec, "kmalloc") == 0) {
		for (size_t k = 0; k < sizeof(kmalloc_set) / sizeof(kmalloc_set[0]); k++) {
			c->cls[c->nr].size = kmalloc_set[k].size;
			c->cls[c->nr].weight = kmalloc_set[k].weight;
			c->nr++;
		}
		return 0;
	}
	copy = strdup(c->spec);
	if (!copy)
		return wl_error(o, "out of memory");
	for (char *it = strtok_r(copy, ",", &save); it && !ret; it = strtok_r(NULL, ",", &save))
		ret = parse_size_item(o, c, it);
	free(copy);
	return ret;
}

/* The classes and their cumulative probabilities. */
static int parse_sizes(const struct wl_opts *o, struct sizes_cfg *c)
{
	double sum = 0, cum = 0;

	c->nr = 0;
	if (parse_size_list(o, c))
		return -1;
	for (unsigned int k = 0; k < c->nr; k++)
		sum += c->cls[k].weight;
	if (c->nr == 0 || sum <= 0)
		return wl_error(o, "--sizes: no size with a weight above 0");
	for (unsigned int k = 0; k < c->nr; k++) {
		cum += c->cls[k].weight / sum;
		c->cls[k].cum = cum;
	}
	c->cls[c->nr - 1].cum = 1.0;
	return 0;
}

static unsigned int pick_class(const struct sizes_cfg *c, struct wl_rng *rng)
{
	double u = wl_rng_unit(rng);
	unsigned int k = 0;

	while (k + 1 < c->nr && (u >= c->cls[k].cum || c->cls[k].weight <= 0))
		k++;
	return k;
}

static void sizes_thread(struct wl_thread *t)
{
	const struct sizes_cfg *c = t->arg;
	struct sizes_slot *slots = calloc(c->live, sizeof(*slots));
	uint64_t freed = 0;

	if (!slots) {
		wl_fail(t, "calloc of the slot array failed");
		return;
	}
	while (!wl_stopping(t)) {
		struct sizes_slot *s = &slots[wl_rng_below(&t->rng, c->live)];

		if (s->obj) {
			kmem_cache_free(c->cls[s->cls].kc, s->obj);
			s->obj = NULL;
		} else {
			s->cls = pick_class(c, &t->rng);
			s->obj = kmem_cache_alloc(c->cls[s->cls].kc, MEM_WAIT);
			if (!s->obj) {
				wl_fail(t, "kmem_cache_alloc returned NULL");
				break;
			}
			*(volatile unsigned char *)s->obj = (unsigned char)s->cls;
		}
		wl_count(t, 1);
	}
	for (unsigned int k = 0; k < c->live; k++) {
		if (slots[k].obj) {
			kmem_cache_free(c->cls[slots[k].cls].kc, slots[k].obj);
			freed++;
		}
	}
	wl_count(t, freed);
	free(slots);
}

static void sizes_params(json_t *p, void *arg)
{
	const struct sizes_cfg *c = arg;
	json_t *dist = wl_jarray();

	wl_jset_str(p, "sizes", c->spec);
	wl_jset_u64(p, "live", c->live);
	for (unsigned int k = 0; k < c->nr; k++) {
		json_t *d = wl_jobject();

		wl_jset_u64(d, "size", c->cls[k].size);
		wl_jset_double(d, "weight", c->cls[k].weight);
		wl_jappend(dist, d);
	}
	wl_jset(p, "distribution", dist);
}

int wl_sizes_main(int argc, char **argv)
{
	struct sizes_cfg *c = calloc(1, sizeof(*c));
	struct wl_opts o;
	struct wl_run run;
	int r, ret = 0;

	if (!c) {
		fputs("magslab-workload sizes: out of memory\n", stderr);
		return 1;
	}
	c->spec = "kmalloc";
	c->live = 512;
	const struct wl_cmdline cl = { sizes_opts, sizes_opt, NULL, c, sizes_help };

	wl_opts_init(&o, "sizes");
	r = wl_parse_args(argc, argv, &o, &cl);
	if (!r && parse_sizes(&o, c))
		r = -1;
	if (!r && wl_apply_opts(&o))
		r = -1;
	if (r) {
		free(c);
		return r > 0 ? 0 : 2;
	}
	wl_run_init(&run, &o);
	for (unsigned int k = 0; k < c->nr; k++) {
		char name[KMC_NAME_LEN];

		snprintf(name, sizeof(name), "wl-size-%zu", c->cls[k].size);
		c->cls[k].kc = wl_cache_create(&o, name, c->cls[k].size, 0);
		if (!c->cls[k].kc) {
			ret = 1;
			break;
		}
		wl_run_add_cache(&run, c->cls[k].kc);
	}
	if (!ret) {
		wl_run_threads(&run, o.threads, sizes_thread, c);
		if (wl_report(&run, "sizes", sizes_params, NULL, c) ||
		    run.failed)
			ret = 1;
	}
	for (unsigned int k = 0; k < c->nr; k++)
		if (c->cls[k].kc && kmem_cache_destroy(c->cls[k].kc) != 0)
			ret = 1;
	free(c);
	return ret;
}
