/*
 * workloads/phases.c — "phases": a schedule of phases, each with its own
 * thread count and rate, with a magslab:workload_phase marker at every
 * boundary.
 *
 * A schedule is a comma-separated list of NAME:DURATION[:THREADS[:RATE]].
 * Every phase runs its threads (fresh ones, started together) on one shared
 * cache; each thread does rounds of "allocate 1..--batch objects, free them
 * all", paced to RATE operations per second per thread.  Phase names pick
 * the defaults: idle has no threads, burst has 4 x --threads unpaced, steady
 * has --threads at --rate, any other name --threads unpaced.
 *
 * Markers: magslab_trace_phase(NAME, i) when phase i (0-based) starts, and
 * magslab_trace_phase("end", nr_phases) after the last one, so that a trace
 * can be cut into the phases.
 *
 * Owns the phases subcommand: its options, the schedule, the phases' results
 * ("phases" in the JSON).  State: struct phases_cfg; cur_rate is set between
 * phases, while no worker runs.
 */
#include "workload.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PHASES 64
#define PHASE_NAME_LEN 32

struct phase {
	char name[PHASE_NAME_LEN];
	double duration_s;
	unsigned int threads;
	double rate;                 /* ops/s per thread; 0: unpaced */
	/* results */
	uint64_t ops;
	double seconds;
	struct kmem_cache_stats end;
	uint64_t reaps;
};

struct phases_cfg {
	struct kmem_cache *kc;
	const char *schedule;
	unsigned int batch;
	double rate;                 /* --rate: steady's default */
	double reap_every_s;         /* idle phases: reap this often (0: no) */
	struct phase phases[MAX_PHASES];
	unsigned int nr;
	double scale;                /* --duration / the schedule's total */
	double cur_rate;             /* the running phase's rate */
};

static const char default_schedule[] = "idle:2s,burst:5s,steady:5s,idle:3s";

static void phases_help(FILE *f)
{
	fputs(
"usage: magslab-workload phases [options]\n"
"\n"
"Runs a schedule of phases on one shared cache.  In every phase, each of\n"
"its threads does rounds of: allocate 1..--batch objects (a random number\n"
"from its seeded RNG), free them; paced to the phase's rate.  A phase's\n"
"threads are started when it begins and joined when it ends.\n"
"\n"
"Schedule: comma-separated NAME:DURATION[:THREADS[:RATE]] (DURATION like\n"
"2s, 500ms; RATE in operations per second per thread, k/M suffixes, 0 or\n"
"'max' for unpaced).  Defaults by name: idle = no threads; burst =\n"
"4 x --threads threads, unpaced; steady = --threads threads at --rate; any\n"
"other name = --threads threads, unpaced.\n"
"\n"
"Trace markers: at each boundary the program calls magslab_trace_phase(),\n"
"which emits the LTTng-UST event magslab:workload_phase (name, index):\n"
"(NAME, i) when phase i starts (0-based), (\"end\", number of phases) after\n"
"the last one.  Record them with e.g.\n"
"  lttng enable-event -u 'magslab:*'\n"
"What the magazine layer should do: grow the magsize under burst (depot\n"
"contention), hold it under steady, and under the adaptive policy shrink it\n"
"again after idle intervals (with --reap-every).  The JSON has a \"phases\"\n"
"array with each phase's ops and the cache state at its end.\n"
"Timing dependent: the per-thread operation sequence is fixed by --seed,\n"
"but how far each thread gets in a phase depends on scheduling.\n"
"\n"
"Options:\n"
"  --schedule LIST    the phases (default idle:2s,burst:5s,steady:5s,idle:3s)\n"
"  --duration S       scale the schedule's durations to last S in total\n"
"                     (--ops is not accepted: phases are timed)\n"
"  --batch K          at most K objects per round (default 64)\n"
"  --rate R           steady's rate per thread (default 200k ops/s)\n"
"  --reap-every S     during idle phases, kmem_cache_reap() every S\n"
"                     (default 0: never)\n"
"\n", f);
	wl_usage_common(f);
}

/* "200k", "1.5M", "0", "max" -> ops/s (0: unpaced). */
static int parse_rate(const struct wl_opts *o, const char *opt, const char *s,
		      double *out)
{
	char *end;
	double v;

	if (strcmp(s, "max") == 0) {
		*out = 0;
		return 0;
	}
	v = strtod(s, &end);
	if (end == s || !isfinite(v) || v < 0)
		return wl_error(o, "%s: '%s' is not a rate", opt, s);
	if (*end == 'k' || *end == 'K') {
		v *= 1e3;
		end++;
	} else if (*end == 'm' || *end == 'M') {
		v *= 1e6;
		end++;
	}
	if (*end)
		return wl_error(o, "%s: '%s' is not a rate", opt, s);
	*out = v;
	return 0;
}

static const struct wl_opt phases_opts[] = {
	{ "--schedule", true }, { "--batch", true }, { "--rate", true },
	{ "--reap-every", true }, { NULL, false },
};

static int phases_opt(struct wl_opts *o, const char *opt, const char *v, void *ctx)
{
	struct phases_cfg *c = ctx;

	if (strcmp(opt, "--schedule") == 0) {
		c->schedule = v;
		return 0;
	}
	if (strcmp(opt, "--batch") == 0)
		return wl_parse_count(o, opt, v, &c->batch);
	if (strcmp(opt, "--rate") == 0)
		return parse_rate(o, opt, v, &c->rate);
	return wl_parse_seconds(o, opt, v, &c->reap_every_s);
}

/* One NAME:DURATION[:THREADS[:RATE]] item of --schedule as c's next phase. */
static int parse_phase(const struct wl_opts *o, struct phases_cfg *c, char *item)
{
	char *field[5] = { 0 }, *save = NULL;
	struct phase *p = &c->phases[c->nr];
	unsigned int nf = 0;

	if (c->nr == MAX_PHASES)
		return wl_error(o, "--schedule: more than %d phases", MAX_PHASES);
	for (char *f = strtok_r(item, ":", &save); f && nf < 5; f = strtok_r(NULL, ":", &save))
		field[nf++] = f;
	if (nf < 2 || nf > 4)
		return wl_error(o, "--schedule: '%s' is not NAME:DURATION[:THREADS[:RATE]]",
				field[0] ? field[0] : "");
	memset(p, 0, sizeof(*p));
	if (strlen(field[0]) >= PHASE_NAME_LEN || !field[0][0])
		return wl_error(o, "--schedule: phase name '%s' is empty or longer than %d "
				"bytes", field[0], PHASE_NAME_LEN - 1);
	strcpy(p->name, field[0]);
	if (wl_parse_seconds(o, "--schedule", field[1], &p->duration_s))
		return -1;
	/* The defaults by name: idle none, burst 4 x --threads, steady --threads at --rate. */
	p->threads = strcmp(p->name, "idle") == 0 ? 0
		     : strcmp(p->name, "burst") == 0 ? 4 * o->threads : o->threads;
	if (strcmp(p->name, "steady") == 0)
		p->rate = c->rate;
	if (nf >= 3 && wl_parse_uint(o, "--schedule", field[2], &p->threads))
		return -1;
	if (p->threads > 4096)
		return wl_error(o, "--schedule: %u threads is more than 4096", p->threads);
	if (nf == 4 && parse_rate(o, "--schedule", field[3], &p->rate))
		return -1;
	c->nr++;
	return 0;
}

/* Parses the schedule into c->phases (defaults by name from o). */
static int parse_schedule(const struct wl_opts *o, struct phases_cfg *c)
{
	char *copy = strdup(c->schedule), *save = NULL;
	int ret = 0;

	if (!copy)
		return wl_error(o, "out of memory");
	c->nr = 0;
	for (char *item = strtok_r(copy, ",", &save); item && !ret;
	     item = strtok_r(NULL, ",", &save))
		ret = parse_phase(o, c, item);
	if (!ret && c->nr == 0)
		ret = wl_error(o, "--schedule: no phases");
	free(copy);
	return ret;
}

static void phases_thread(struct wl_thread *t)
{
	const struct phases_cfg *c = t->arg;
	void **objs = malloc(c->batch * sizeof(*objs));
	double rate = c->cur_rate;
	uint64_t t0 = wl_now_ns(), done = 0;

	if (!objs) {
		wl_fail(t, "malloc of the batch array failed");
		return;
	}
	while (!wl_stopping(t)) {
		unsigned int k = 1 + (unsigned int)wl_rng_below(&t->rng,
								c->batch);
		unsigned int got;

		for (got = 0; got < k; got++) {
			objs[got] = kmem_cache_alloc(c->kc, MEM_WAIT);
			if (!objs[got])
				break;
			*(volatile unsigned char *)objs[got] = (unsigned char)got;
		}
		for (unsigned int a = 0; a < got; a++)
			kmem_cache_free(c->kc, objs[a]);
		wl_count(t, 2 * (uint64_t)got);
		if (got < k) {
			wl_fail(t, "kmem_cache_alloc returned NULL");
			break;
		}
		done += 2 * (uint64_t)got;
		/* Pacing: sleep until the time these ops were due, in slices
		 * of at most 10 ms so that the end of the phase is noticed. */
		if (rate > 0) {
			for (;;) {
				uint64_t due = t0 + (uint64_t)((double)done /
							       rate * 1e9);
				uint64_t now = wl_now_ns();

				if (now >= due || wl_stopping(t))
					break;
				wl_sleep_ns(due - now < 10000000u ? due - now
								  : 10000000u);
			}
		}
	}
	free(objs);
}

static void phases_params(json_t *p, void *arg)
{
	const struct phases_cfg *c = arg;

	wl_jset_str(p, "schedule", c->schedule);
	wl_jset_double(p, "scale", c->scale);
	wl_jset_u64(p, "batch", c->batch);
	wl_jset_double(p, "rate", c->rate);
	wl_jset_double(p, "reap_every_s", c->reap_every_s);
}

/* The cache's state at the end of phase p. */
static json_t *phase_end(const struct phase *p)
{
	json_t *e = wl_jobject();

	wl_jset_u64(e, "magsize", p->end.magsize);
	wl_jset_u64(e, "magsize_up", p->end.magsize_up);
	wl_jset_u64(e, "magsize_down", p->end.magsize_down);
	wl_jset_u64(e, "depot_contended", p->end.depot_contended);
	wl_jset_pair(e, "depot_gets", p->end.depot_gets);
	wl_jset_pair(e, "depot_puts", p->end.depot_puts);
	wl_jset_u64(e, "depot_full", p->end.depot_full);
	wl_jset_u64(e, "depot_empty", p->end.depot_empty);
	wl_jset_u64(e, "mags_allocated", p->end.mags_allocated);
	wl_jset_u64(e, "bytes_in_mags", p->end.bytes_in_mags);
	wl_jset_u64(e, "slabs", p->end.slabs);
	return e;
}

static void phases_extra(json_t *root, void *arg)
{
	const struct phases_cfg *c = arg;
	json_t *arr = wl_jarray();

	for (unsigned int k = 0; k < c->nr; k++) {
		const struct phase *p = &c->phases[k];
		json_t *j = wl_jobject();

		wl_jset_str(j, "name", p->name);
		wl_jset_u64(j, "index", k);
		wl_jset_u64(j, "threads", p->threads);
		wl_jset_double(j, "rate", p->rate);
		wl_jset_double(j, "duration_s", p->duration_s);
		wl_jset_u64(j, "ops", p->ops);
		wl_jset_double(j, "seconds", p->seconds);
		wl_jset_double(j, "mops", p->seconds > 0 ?
			       (double)p->ops / p->seconds / 1e6 : 0.0);
		wl_jset_u64(j, "reaps", p->reaps);
		wl_jset(j, "at_end", phase_end(p));
		wl_jappend(arr, j);
	}
	wl_jset(root, "phases", arr);
}

/* An idle phase: nobody allocates; the main thread sleeps (and reaps). */
static void run_idle(struct phases_cfg *c, struct phase *p)
{
	uint64_t t0 = wl_now_ns();
	uint64_t end = t0 + (uint64_t)(p->duration_s * 1e9);
	uint64_t step = c->reap_every_s > 0 ?
			(uint64_t)(c->reap_every_s * 1e9) : 0;
	uint64_t next = step ? t0 + step : end;

	for (;;) {
		uint64_t now = wl_now_ns();

		if (now >= end)
			break;
		if (step && now >= next) {
			kmem_cache_reap(c->kc);
			p->reaps++;
			next += step;
			continue;
		}
		wl_sleep_ns((next < end ? next : end) - now);
	}
	p->seconds = (double)(wl_now_ns() - t0) * 1e-9;
}

/* Phase k of c: its threads (or the idle wait), the marker, the progress lines. */
static void run_phase(struct phases_cfg *c, struct wl_run *run, unsigned int k)
{
	const struct wl_opts *o = run->opts;
	struct phase *p = &c->phases[k];
	uint64_t ops0 = run->ops;
	double sec0 = run->seconds;

	if (p->rate > 0)
		wl_progress(o, "phase %u/%u %s: %u thread(s) at %.3g "
			    "ops/s each, %.3g s", k + 1, c->nr, p->name,
			    p->threads, p->rate, p->duration_s);
	else
		wl_progress(o, "phase %u/%u %s: %u thread(s) unpaced, "
			    "%.3g s", k + 1, c->nr, p->name, p->threads,
			    p->duration_s);
	magslab_trace_phase(p->name, k);
	if (p->threads == 0 || p->duration_s <= 0) {
		run_idle(c, p);
		run->seconds += p->seconds;   /* wall time, idle too */
	} else {
		run->duration_s = p->duration_s;
		run->label = p->name;
		c->cur_rate = p->rate;
		wl_run_threads(run, p->threads, phases_thread, c);
		p->ops = run->ops - ops0;
		p->seconds = run->seconds - sec0;
	}
	kmem_cache_stats(c->kc, &p->end);
	wl_progress(o, "phase %u/%u %s done: %" PRIu64 " ops, magsize "
		    "%u, depot contended %" PRIu64, k + 1, c->nr,
		    p->name, p->ops, p->end.magsize,
		    p->end.depot_contended);
}

/*
 * The command line and the schedule into c (--duration scales the schedule to last that
 * long: *total is its length).  0, 1 after --help, or -1 after an error (exit 2).
 */
static int phases_setup(int argc, char **argv, struct wl_opts *o, struct phases_cfg *c,
			double *total)
{
	const struct wl_cmdline cl = { phases_opts, phases_opt, NULL, c, phases_help };
	int r;

	c->schedule = default_schedule;
	c->batch = 64;
	c->rate = 200000;
	wl_opts_init(o, "phases");
	r = wl_parse_args(argc, argv, o, &cl);
	if (r)
		return r;
	if (o->ops)
		return wl_error(o, "--ops: phases are timed; use --schedule or "
				"--duration");
	if (parse_schedule(o, c))
		return -1;
	*total = 0;
	for (unsigned int k = 0; k < c->nr; k++)
		*total += c->phases[k].duration_s;
	c->scale = 1.0;
	if (o->duration_set && *total > 0) {
		c->scale = o->duration_s / *total;
		for (unsigned int k = 0; k < c->nr; k++)
			c->phases[k].duration_s *= c->scale;
		*total = o->duration_s;
	}
	return wl_apply_opts(o);
}

int wl_phases_main(int argc, char **argv)
{
	struct phases_cfg *c = calloc(1, sizeof(*c));
	struct wl_opts o;
	struct wl_run run;
	double total = 0;
	int r;

	if (!c) {
		fputs("magslab-workload phases: out of memory\n", stderr);
		return 1;
	}
	r = phases_setup(argc, argv, &o, c, &total);
	if (r) {
		free(c);
		return r > 0 ? 0 : 2;
	}
	c->kc = wl_cache_create(&o, "wl-phases", o.objsize, 0);
	if (!c->kc) {
		free(c);
		return 1;
	}
	wl_run_init(&run, &o);
	wl_run_add_cache(&run, c->kc);
	wl_progress(&o, "%u phases, %.3g s in all", c->nr, total);
	for (unsigned int k = 0; k < c->nr && !run.failed; k++)
		run_phase(c, &run, k);
	magslab_trace_phase("end", c->nr);

	r = wl_report(&run, "phases", phases_params, phases_extra, c);
	if (kmem_cache_destroy(c->kc) != 0)
		r = -1;
	r = run.failed || r ? 1 : 0;
	free(c);
	return r;
}
