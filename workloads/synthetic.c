/*
 * workloads/synthetic.c — "synthetic": a workload whose throughput depends
 * on the resize threshold in a known way, plus injected noise: the test
 * bench of `magslab tune`'s race, intervals and verdicts (its answers are
 * known in advance, so the tuner can be checked end to end in seconds).
 *
 * Every thread runs the pair pattern (alloc, write, free) on one cache, but
 * paced: it aims at --rate operations per second, times
 *
 *     gain   if the cache's resize threshold is --best-threshold, else 1,
 *     exp(noise * Z), Z standard normal drawn once per run from --seed
 *            alone: what every run with that seed shares, whatever its
 *            setting (in a race, where every setting of a round runs with
 *            the round's seed, the round's drift: pairing cancels it),
 *     and    exp(jitter * J), J standard normal drawn once per run from
 *            --seed, the threshold and the timeout: the run's own luck,
 *            which no pairing cancels (as on a shared machine),
 *
 * and sleeps between bursts of 256 operations to keep that rate.  So the
 * throughput the JSON reports is that product (as long as the machine can
 * go faster than asked; the rate is far below what a pcc hit costs).
 * Memory: the magsize is set from the threshold (1 -> 62 rounds, the best
 * threshold -> 30, anything else -> 8) and 4 x magsize objects are parked
 * in the magazines before the run, so bytes_in_mags is known too: of two
 * settings that tie on throughput, the one with the larger threshold uses
 * less.
 *
 * Owns the synthetic subcommand: its options (--rate, --best-threshold,
 * --gain, --noise, --jitter) and params.synthetic.  State: struct synth_cfg, read-only
 * while the threads run.
 */
#include "workload.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define SYNTH_BURST 256

struct synth_cfg {
	struct kmem_cache *kc;
	double rate;             /* ops/s per thread before gain and noise */
	uint64_t best;           /* the threshold that earns the gain */
	double gain;
	double noise;            /* sigma of the seed's lognormal factor */
	double jitter;           /* sigma of the run's own lognormal factor */
	double factor;           /* gain (or 1) x noise x jitter: the pace */
	uint64_t threshold;      /* the cache's, as set */
};

static void synth_help(FILE *f)
{
	fputs(
"usage: magslab-workload synthetic [options]\n"
"\n"
"A test bench for magslab tune: every thread runs the pair pattern on one\n"
"cache, paced to --rate operations per second, times --gain when the\n"
"cache's --threshold equals --best-threshold, times a lognormal noise\n"
"factor exp(--noise x Z) drawn once per run from --seed (runs with one seed\n"
"share it, whatever their setting), times exp(--jitter x J) drawn from the\n"
"seed, the threshold and the timeout (each run's own).  The magsize is set\n"
"from the threshold (1: 62 rounds; the best: 30; any other: 8) and\n"
"4 x magsize objects are parked in the magazines, so the memory in\n"
"magazines is known too.  The throughput it reports is that\n"
"product; nothing else about it is meant to be realistic.\n"
"\n"
"Options:\n"
"  --rate OPS          operations per second per thread (default 200000)\n"
"  --best-threshold N  the threshold that earns the gain (default 10)\n"
"  --gain G            the best threshold's speed-up factor (default 1.25)\n"
"  --noise S           sigma of the seed's lognormal factor (default 0.1;\n"
"                      0: none)\n"
"  --jitter S          sigma of the run's own lognormal factor (default 0)\n"
"\n", f);
	wl_usage_common(f);
}

static const struct wl_opt synth_opts[] = {
	{ "--rate", true }, { "--best-threshold", true }, { "--gain", true },
	{ "--noise", true }, { "--jitter", true }, { NULL, false },
};

static int positive(const struct wl_opts *o, const char *opt, double v,
		    bool zero_ok)
{
	if (v > 0 || (zero_ok && v == 0))
		return 0;
	return wl_error(o, "%s: must be more than 0%s", opt,
			zero_ok ? " (or 0)" : "");
}

static int synth_opt(struct wl_opts *o, const char *opt, const char *v,
		     void *ctx)
{
	struct synth_cfg *c = ctx;

	bool bad;

	if (strcmp(opt, "--best-threshold") == 0)
		bad = wl_parse_u64(o, opt, v, &c->best);
	else if (strcmp(opt, "--rate") == 0)
		bad = wl_parse_double(o, opt, v, &c->rate) ||
		      positive(o, opt, c->rate, false);
	else if (strcmp(opt, "--gain") == 0)
		bad = wl_parse_double(o, opt, v, &c->gain) ||
		      positive(o, opt, c->gain, false);
	else if (strcmp(opt, "--jitter") == 0)
		bad = wl_parse_double(o, opt, v, &c->jitter) ||
		      positive(o, opt, c->jitter, true);
	else
		bad = wl_parse_double(o, opt, v, &c->noise) ||
		      positive(o, opt, c->noise, true);
	return bad ? -1 : 0;
}

/* Standard normal from the run's generator (Box-Muller). */
static double normal(struct wl_rng *r)
{
	double u = (wl_rng_unit(r) + 0x1.0p-54), v = wl_rng_unit(r);

	return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

/* Parks n objects in the magazines (allocated, then freed): the memory a
 * magazine layer of this magsize holds, so bytes_in_mags follows it. */
static int synth_fill(struct synth_cfg *c, unsigned int n)
{
	void *objs[4 * MAG_MAX_ROUNDS];
	unsigned int got;

	for (got = 0; got < n; got++)
		if (!(objs[got] = kmem_cache_alloc(c->kc, MEM_WAIT)))
			break;
	for (unsigned int i = 0; i < got; i++)
		kmem_cache_free(c->kc, objs[i]);
	return got == n ? 0 : -1;
}

/* The pace and the magsize this run gets, from its threshold and seed. */
static int synth_setup(struct synth_cfg *c, const struct wl_opts *o)
{
	struct kmem_cache_stats st;
	struct wl_rng r;
	unsigned int magsize;

	if (kmem_cache_stats(c->kc, &st))
		return -1;
	c->threshold = st.resize_threshold;
	wl_rng_seed(&r, o->seed, 0xfeed);
	c->factor = (c->threshold == c->best ? c->gain : 1) *
		    exp(c->noise * normal(&r));
	/* The run's own draw: the seed mixed with the setting (splitmix64's
	 * constant keeps nearby thresholds and timeouts apart). */
	wl_rng_seed(&r, o->seed ^ (st.resize_threshold * 0x9E3779B97F4A7C15ull) ^
			(st.resize_timeout_ns * 0xBF58476D1CE4E5B9ull), 0xbeef);
	c->factor *= exp(c->jitter * normal(&r));
	magsize = c->threshold == 1 ? MAG_MAX_ROUNDS :
		  c->threshold == c->best ? 30 : MAG_MIN_ROUNDS;
	if (kmem_cache_set_magsize(c->kc, magsize))
		return -1;
	return synth_fill(c, 4 * magsize);
}

static void synth_thread(struct wl_thread *t)
{
	const struct synth_cfg *c = t->arg;
	double per_op_ns = 1e9 / (c->rate * c->factor);
	uint64_t start = wl_now_ns(), done = 0;

	while (!wl_stopping(t)) {
		for (unsigned int i = 0; i < SYNTH_BURST / 2; i++) {
			void *p = kmem_cache_alloc(c->kc, MEM_WAIT);

			if (!p) {
				wl_fail(t, "kmem_cache_alloc(wl-synthetic) returned NULL");
				return;
			}
			*(volatile unsigned char *)p = (unsigned char)i;
			kmem_cache_free(c->kc, p);
		}
		done += SYNTH_BURST;
		wl_count(t, SYNTH_BURST);
		{
			uint64_t due = start + (uint64_t)(per_op_ns * (double)done);
			uint64_t now = wl_now_ns();

			if (due > now)
				wl_sleep_ns(due - now);
		}
	}
}

static void synth_params(json_t *p, void *arg)
{
	const struct synth_cfg *c = arg;
	json_t *s = json_object();

	if (!s)
		return;
	wl_jset_double(s, "rate", c->rate);
	wl_jset_u64(s, "best_threshold", c->best);
	wl_jset_double(s, "gain", c->gain);
	wl_jset_double(s, "noise", c->noise);
	wl_jset_double(s, "jitter", c->jitter);
	wl_jset_double(s, "factor", c->factor);
	wl_jset(p, "synthetic", s);
}

int wl_synthetic_main(int argc, char **argv)
{
	struct synth_cfg c = { .rate = 200000, .best = 10, .gain = 1.25,
			       .noise = 0.1 };
	struct wl_opts o;
	struct wl_run run;
	int r;

	const struct wl_cmdline cl = { synth_opts, synth_opt, NULL, &c, synth_help };

	wl_opts_init(&o, "synthetic");
	r = wl_parse_args(argc, argv, &o, &cl);
	if (r)
		return r > 0 ? 0 : 2;
	if (wl_apply_opts(&o))
		return 2;
	c.kc = wl_cache_create(&o, "wl-synthetic", o.objsize, 0);
	if (!c.kc)
		return 1;
	if (synth_setup(&c, &o)) {
		kmem_cache_destroy(c.kc);
		return 1;
	}
	wl_run_init(&run, &o);
	wl_run_add_cache(&run, c.kc);
	wl_run_threads(&run, o.threads, synth_thread, &c);
	r = wl_report(&run, "synthetic", synth_params, NULL, &c);
	if (kmem_cache_destroy(c.kc) != 0)
		r = -1;
	return run.failed || r ? 1 : 0;
}
