/*
 * workloads/arena.c — "arena": a mix of arena_alloc, arena_xalloc and frees
 * over an arena with quantum caches.
 *
 * The arena manages a synthetic range (it never touches the addresses, and
 * its quantum caches are NOTOUCH caches), so the range can be large without
 * costing memory.  Sizes up to qcache_max go through the quantum caches:
 * their magazines serve them without taking the arena lock.  Bigger sizes
 * and every constrained allocation (xalloc: alignment, phase, no-cross
 * boundary, address range) go to the arena's segment lists under its lock.
 * Every thread keeps --live slots; each operation picks one at random and
 * frees its segment (arena_free or arena_xfree, as it was allocated) or, if
 * it is empty, allocates one of a kind drawn from --mix.
 *
 * Owns the arena subcommand: its options, the arena and its quantum caches,
 * and "arena", "arena_check_ok", "kinds" and "free_errors" in the JSON.  State:
 * one counts struct per thread (padded apart), summed after the run.
 */
#include "workload.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ARENA_BASE ((uintptr_t)1 << 40)

enum kind { K_SMALL, K_LARGE, K_XALLOC, NR_KINDS };
static const char *const kind_names[] = { "small", "large", "xalloc" };

struct arena_counts {
	uint64_t allocs[NR_KINDS];
	uint64_t failures[NR_KINDS];
	uint64_t free_errors;
	char pad[64];
};

struct arena_cfg {
	struct arena *arena;
	size_t quantum, qcache_max, max_size, span;
	double mix[NR_KINDS];        /* weights */
	const char *mix_spec;
	unsigned int live;
	struct arena_counts *counts; /* [threads] */
	int check;                   /* arena_check() at the end: 0 ok */
};

struct arena_slot {
	void *addr;
	size_t size;
	bool x;                      /* from arena_xalloc */
};

static void arena_help(FILE *f)
{
	fputs(
"usage: magslab-workload arena [options]\n"
"\n"
"One arena (\"wl-arena\") over a synthetic --span of addresses with quantum\n"
"--quantum and quantum caches up to --qcache-max (the caches are named\n"
"wl-arena_SIZE and reported like any cache).  Every thread keeps --live\n"
"slots and, per operation, picks one at random: a full slot is freed\n"
"(arena_free or arena_xfree), an empty one gets a segment of a kind drawn\n"
"from --mix:\n"
"  small   arena_alloc of 1..qcache_max bytes: a quantum cache serves it\n"
"          from its magazines, without the arena lock;\n"
"  large   arena_alloc of qcache_max+1..--max-size bytes: the arena itself;\n"
"  xalloc  arena_xalloc of 1..--max-size bytes with a random alignment\n"
"          (quantum..4096), phase, sometimes a no-cross boundary and\n"
"          sometimes the lower half of the span only.\n"
"What the magazine layer should do: absorb the small allocations (pcc hits\n"
"in the quantum caches), while large and xalloc serialize on the arena.\n"
"A failed allocation (the span is full) is counted, not fatal.  At the end\n"
"each thread frees what it holds (counted), and arena_check() must pass.\n"
"The operation sequence of a thread depends only on --seed and its index.\n"
"--objsize is not used.\n"
"\n"
"Options:\n"
"  --quantum Q        the arena's quantum (default 16)\n"
"  --qcache-max N     quantum caches for sizes up to N, a multiple of Q\n"
"                     (default 8 * quantum; 0: none)\n"
"  --max-size N       largest large/xalloc size (default 64k)\n"
"  --span N           the range's size (default 1g)\n"
"  --mix S:L:X        weights of small, large and xalloc (default 60:30:10)\n"
"  --live N           slots per thread (default 1024)\n"
"\n", f);
	wl_usage_common(f);
}

static int parse_mix(const struct wl_opts *o, struct arena_cfg *c,
		     const char *v)
{
	char *copy = strdup(v), *save = NULL, *it;
	int n = 0, ret = 0;
	double sum = 0;

	if (!copy)
		return wl_error(o, "out of memory");
	for (it = strtok_r(copy, ":", &save); it; it = strtok_r(NULL, ":", &save)) {
		if (n == NR_KINDS || wl_parse_double(o, "--mix", it, &c->mix[n])) {
			ret = -1;
			break;
		}
		sum += c->mix[n++];
	}
	free(copy);
	if (ret || n != NR_KINDS || sum <= 0)
		return wl_error(o, "--mix: '%s' is not SMALL:LARGE:XALLOC weights "
				"(not all 0)", v);
	c->mix_spec = v;
	return 0;
}

static const struct wl_opt arena_opts[] = {
	{ "--quantum", true }, { "--qcache-max", true }, { "--max-size", true },
	{ "--span", true }, { "--mix", true }, { "--live", true }, { NULL, false },
};

static int arena_opt(struct wl_opts *o, const char *opt, const char *v, void *ctx)
{
	struct arena_cfg *c = ctx;

	if (strcmp(opt, "--quantum") == 0)
		return wl_parse_size(o, opt, v, &c->quantum);
	if (strcmp(opt, "--qcache-max") == 0)
		return wl_parse_size(o, opt, v, &c->qcache_max);
	if (strcmp(opt, "--max-size") == 0)
		return wl_parse_size(o, opt, v, &c->max_size);
	if (strcmp(opt, "--span") == 0)
		return wl_parse_size(o, opt, v, &c->span);
	if (strcmp(opt, "--mix") == 0)
		return parse_mix(o, c, v);
	return wl_parse_count(o, opt, v, &c->live);
}

static enum kind pick_kind(const struct arena_cfg *c, struct wl_rng *rng)
{
	double sum = c->mix[0] + c->mix[1] + c->mix[2];
	double u = wl_rng_unit(rng) * sum;

	if (u < c->mix[K_SMALL])
		return K_SMALL;
	if (u < c->mix[K_SMALL] + c->mix[K_LARGE] || c->mix[K_XALLOC] <= 0)
		return c->mix[K_LARGE] > 0 ? K_LARGE : K_SMALL;
	return K_XALLOC;
}

static size_t next_pow2(size_t x)
{
	size_t p = 1;

	while (p < x)
		p <<= 1;
	return p;
}

static void *do_xalloc(const struct arena_cfg *c, struct wl_rng *rng,
		       size_t size)
{
	size_t align = 0, phase = 0, nocross = 0;
	void *minaddr = NULL, *maxaddr = NULL;
	uint64_t r = wl_rng_next(rng);

	/* Alignment: a power of two from the quantum (if it is one) to 4096. */
	if ((c->quantum & (c->quantum - 1)) == 0 && c->quantum <= 4096) {
		size_t lo = c->quantum, n = 1;

		while ((lo << n) <= 4096)
			n++;
		align = lo << wl_rng_below(rng, n);
		/* Phase: a multiple of the quantum below the alignment. */
		if (r & 1)
			phase = (size_t)wl_rng_below(rng, align / c->quantum) *
				c->quantum;
		/* No-cross: a power of two at least the rounded size plus
		 * the phase (twice that, so that it can be met). */
		if (r & 2)
			nocross = 2 * next_pow2((size + c->quantum - 1) /
						c->quantum * c->quantum + phase);
	}
	if ((r & 12) == 12) {
		minaddr = (void *)ARENA_BASE;
		maxaddr = (void *)(ARENA_BASE + c->span / 2);
	}
	return arena_xalloc(c->arena, size, align, phase, nocross, minaddr,
			    maxaddr, MEM_ATOMIC);
}

/* Frees slot s's segment (as it was allocated); a refusal counts in n->free_errors. */
static void empty_slot(const struct arena_cfg *c, struct arena_counts *n,
		       struct arena_slot *s)
{
	int e = s->x ? arena_xfree(c->arena, s->addr, s->size)
		     : arena_free(c->arena, s->addr, s->size);

	if (e)
		n->free_errors++;
	s->addr = NULL;
}

/* Fills slot s with a segment of a kind drawn from --mix (counted by kind in n). */
static void fill_slot(const struct arena_cfg *c, struct arena_counts *n,
		      struct arena_slot *s, struct wl_rng *rng)
{
	enum kind k = pick_kind(c, rng);
	size_t small_max = c->qcache_max ? c->qcache_max : c->quantum;

	switch (k) {
	case K_SMALL:
		s->size = 1 + (size_t)wl_rng_below(rng, small_max);
		s->addr = arena_alloc(c->arena, s->size, MEM_ATOMIC);
		s->x = false;
		break;
	case K_LARGE:
		s->size = small_max + 1 + (size_t)wl_rng_below(rng, c->max_size - small_max);
		s->addr = arena_alloc(c->arena, s->size, MEM_ATOMIC);
		s->x = false;
		break;
	default:
		s->size = 1 + (size_t)wl_rng_below(rng, c->max_size);
		s->addr = do_xalloc(c, rng, s->size);
		s->x = true;
		break;
	}
	if (s->addr)
		n->allocs[k]++;
	else
		n->failures[k]++;
}

static void arena_thread(struct wl_thread *t)
{
	const struct arena_cfg *c = t->arg;
	struct arena_counts *n = &c->counts[t->index];
	struct arena_slot *slots = calloc(c->live, sizeof(*slots));
	uint64_t freed = 0;

	if (!slots) {
		wl_fail(t, "calloc of the slot array failed");
		return;
	}
	while (!wl_stopping(t)) {
		struct arena_slot *s = &slots[wl_rng_below(&t->rng, c->live)];

		if (s->addr)
			empty_slot(c, n, s);
		else
			fill_slot(c, n, s, &t->rng);
		wl_count(t, 1);
	}
	for (unsigned int k = 0; k < c->live; k++) {
		if (slots[k].addr) {
			empty_slot(c, n, &slots[k]);
			freed++;
		}
	}
	wl_count(t, freed);
	if (n->free_errors)
		wl_fail(t, "arena_free reported errors");
	free(slots);
}

static void arena_params(json_t *p, const struct arena_cfg *c)
{
	wl_jset_u64(p, "quantum", c->quantum);
	wl_jset_u64(p, "qcache_max", c->qcache_max);
	wl_jset_u64(p, "max_size", c->max_size);
	wl_jset_u64(p, "span", c->span);
	wl_jset_str(p, "mix", c->mix_spec);
	wl_jset_u64(p, "live", c->live);
}

struct arena_report {
	struct arena_cfg *c;
	unsigned int threads;
};

static void arena_extra(json_t *root, void *arg)
{
	const struct arena_report *ar = arg;
	const struct arena_cfg *c = ar->c;
	json_t *kinds = wl_jobject();
	uint64_t frees_err = 0;

	wl_jset(root, "arena", wl_json_arena(c->arena));
	wl_jset_bool(root, "arena_check_ok", c->check == 0);
	for (int k = 0; k < NR_KINDS; k++) {
		json_t *kind = wl_jobject();
		uint64_t a = 0, f = 0;

		for (unsigned int t = 0; t < ar->threads; t++) {
			a += c->counts[t].allocs[k];
			f += c->counts[t].failures[k];
		}
		wl_jset_u64(kind, "allocs", a);
		wl_jset_u64(kind, "failures", f);
		wl_jset(kinds, kind_names[k], kind);
	}
	wl_jset(root, "kinds", kinds);
	for (unsigned int t = 0; t < ar->threads; t++)
		frees_err += c->counts[t].free_errors;
	wl_jset_u64(root, "free_errors", frees_err);
}

static void arena_params_cb(json_t *p, void *arg)
{
	const struct arena_report *ar = arg;

	arena_params(p, ar->c);
}

struct qcache_find {
	struct wl_run *run;
	char prefix[ARENA_NAME_LEN + 2];
};

static void find_qcaches(struct kmem_cache *kc, void *arg)
{
	struct qcache_find *q = arg;

	if (strncmp(kmem_cache_name(kc), q->prefix, strlen(q->prefix)) == 0)
		wl_run_add_cache(q->run, kc);
}

/* The settings that depend on each other (defaults filled in): 0, or -1 (reported). */
static int check_cfg(const struct wl_opts *o, struct arena_cfg *c)
{
	if (c->quantum == 0)
		return wl_error(o, "--quantum: must be more than 0");
	if (c->qcache_max == (size_t)-1)
		c->qcache_max = 8 * c->quantum;
	if (c->qcache_max % c->quantum)
		return wl_error(o, "--qcache-max: %zu is not a multiple of the quantum "
				"%zu", c->qcache_max, c->quantum);
	if (c->max_size <= (c->qcache_max ? c->qcache_max : c->quantum))
		return wl_error(o, "--max-size: must be more than --qcache-max (and "
				"the quantum)");
	if (c->span < 16 * c->max_size || c->span > ((size_t)1 << 46))
		return wl_error(o, "--span: must be in 16 * --max-size .. 64T");
	return 0;
}

/* The arena's quantum caches into the run, tuned as the options say: 0, or 1. */
static int add_qcaches(const struct wl_opts *o, struct arena_cfg *c, struct wl_run *run)
{
	struct qcache_find q = { .run = run };
	int ret = 0;

	snprintf(q.prefix, sizeof(q.prefix), "%s_", arena_name(c->arena));
	kmem_cache_for_each(find_qcaches, &q);
	for (unsigned int k = 0; k < run->ncaches; k++)
		if (wl_cache_tune(run->caches[k], o))
			ret = 1;
	return ret;
}

int wl_arena_main(int argc, char **argv)
{
	struct arena_cfg c = {
		.quantum = 16, .qcache_max = (size_t)-1, .max_size = 64 << 10,
		.span = (size_t)1 << 30, .mix = { 60, 30, 10 },
		.mix_spec = "60:30:10", .live = 1024,
	};
	const struct wl_cmdline cl = { arena_opts, arena_opt, NULL, &c, arena_help };
	struct arena_report ar = { .c = &c };
	struct wl_opts o;
	struct wl_run run;
	int r, ret;

	wl_opts_init(&o, "arena");
	r = wl_parse_args(argc, argv, &o, &cl);
	if (r)
		return r > 0 ? 0 : 2;
	if (check_cfg(&o, &c) || wl_apply_opts(&o))
		return 2;
	c.counts = calloc(o.threads, sizeof(*c.counts));
	if (!c.counts) {
		wl_error(&o, "out of memory");
		return 1;
	}
	ar.threads = o.threads;
	c.arena = arena_create("wl-arena", (void *)ARENA_BASE, c.span, c.quantum,
			       NULL, NULL, NULL, c.qcache_max, ARENA_INSTANTFIT);
	if (!c.arena) {
		wl_error(&o, "cannot create the arena: %s", strerror(errno));
		free(c.counts);
		return 2;
	}
	wl_run_init(&run, &o);
	ret = add_qcaches(&o, &c, &run);
	if (!ret) {
		wl_run_threads(&run, o.threads, arena_thread, &c);
		c.check = arena_check(c.arena);
		if (wl_report(&run, "arena", arena_params_cb, arena_extra, &ar) ||
		    run.failed || c.check)
			ret = 1;
	}
	if (arena_destroy(c.arena) != 0)
		ret = 1;
	free(c.counts);
	return ret;
}
