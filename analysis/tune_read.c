/*
 * analysis/tune_read.c — the figures of one run of `magslab tune` (tune_impl.h; the
 * figures are docs/tune.md's table):
 *
 *   a workload run   from magslab-workload's JSON (jansson): mops; the caches' bytes in
 *                    magazines and contentions (summed), magsize and settle time (the
 *                    largest); the steady window from each cache's after_warmup
 *                    (allocations and frees over its seconds); CPU time per operation
 *                    from the child's rusage (user + system) over the JSON's ops
 *   a program run    (--preload) its wall time (tune's clock) and CPU time (rusage),
 *                    the --metric number (POSIX extended REGEX, its last match in the
 *                    run's output: the first group, or the whole match), and from the
 *                    shim's stats JSON of every process of it (runs/NAME.stats-PID.json)
 *                    the caches' bytes in magazines and contentions (summed over the
 *                    caches and processes) and the largest magsize
 *
 * Owns nothing beyond the call: the files are tune_run.c's.
 */
#include <errno.h>
#include <glob.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tune_impl.h"

/* A number member of a JSON object, NAN if absent. */
static double jnum(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

static double cpu_seconds(const struct rusage *ru)
{
	return (double)ru->ru_utime.tv_sec + (double)ru->ru_utime.tv_usec / 1e6 +
	       (double)ru->ru_stime.tv_sec + (double)ru->ru_stime.tv_usec / 1e6;
}

static void clear(struct metrics *m)
{
	int k;

	for (k = 0; k < NMETRICS; k++)
		m->v[k] = NAN;
	m->v[M_MAGSIZE] = m->v[M_BYTES] = m->v[M_CONTENTION] = 0;
}

/* Adds one cache's figures: magsize the largest, bytes and contention summed (settle
 * and the steady window only from a workload's caches).  0, or 1 if a key is missing. */
static int add_cache(struct tune *t, const char *path, const json_t *c, struct metrics *m,
		     double steady[2])
{
	static const char *const needed[] = { "magsize", "bytes_in_mags", "depot_contended" };
	const json_t *warm = json_object_get(c, "after_warmup");
	double settle = jnum(c, "magsize_settled_s");
	size_t k;

	for (k = 0; k < sizeof(needed) / sizeof(needed[0]); k++)
		if (isnan(jnum(c, needed[k])))
			return tune_err(t, "%s: a cache without \"%s\"", path, needed[k]);
	m->v[M_MAGSIZE] = fmax(m->v[M_MAGSIZE], jnum(c, "magsize"));
	m->v[M_BYTES] += jnum(c, "bytes_in_mags");
	m->v[M_CONTENTION] += jnum(c, "depot_contended");
	if (!isnan(settle))
		m->v[M_SETTLE] = isnan(m->v[M_SETTLE]) ? settle : fmax(m->v[M_SETTLE], settle);
	if (json_is_object(warm)) {
		steady[0] += jnum(warm, "allocs") + jnum(warm, "frees");
		steady[1] = fmax(steady[1], jnum(warm, "seconds"));
	} else {
		steady[0] = NAN;	/* no steady window unless every cache has one */
	}
	return 0;
}

/* The threshold and timeout of a JSON's first cache. */
static void applied_of(const json_t *caches, struct applied *ap)
{
	const json_t *c = json_array_get(caches, 0);

	ap->threshold = (uint64_t)jnum(c, "resize_threshold");
	ap->timeout_ns = (uint64_t)jnum(c, "resize_timeout_ns");
}

/* The objective must be a number above 0 (the paired test compares log ratios). */
static int objective_ok(struct tune *t, const char *path, const struct metrics *m)
{
	double v = m->v[t->objective];

	if (v > 0 && isfinite(v))
		return 0;
	if (t->objective == M_STEADY && isnan(v))
		return tune_err(t, "%s: no after_warmup in the caches: the run was over before its "
			       "warm-up snapshot (--objective steady needs a longer --duration "
			       "or a shorter --warmup)",
			       path);
	return tune_err(t, "%s: the objective (%s) is %g: it must be a number above 0", path,
		       t->objective_name, v);
}

int tune_read_workload(struct tune *t, const char *path, const struct rusage *ru,
		       struct metrics *m, struct applied *ap)
{
	json_error_t je;
	json_t *root = json_load_file(path, 0, &je), *caches, *c;
	double seconds, ops, steady[2] = { 0, 0 };
	size_t k;
	int rc = 0;

	if (!root)
		return tune_err(t, "%s: %s (line %d)", path, je.text, je.line);
	clear(m);
	caches = json_object_get(root, "caches");
	seconds = jnum(root, "seconds");
	ops = jnum(root, "ops");
	m->v[M_MOPS] = jnum(root, "mops");
	if (!json_is_array(caches) || json_array_size(caches) == 0 || !(seconds > 0) ||
	    isnan(m->v[M_MOPS])) {
		rc = tune_err(t, "%s: no mops, seconds or caches in it: not a %s result", path,
			     WORKLOAD_PROG);
		goto out;
	}
	json_array_foreach(caches, k, c)
		if ((rc = add_cache(t, path, c, m, steady)) != 0)
			goto out;
	m->v[M_CONTENTION] /= seconds;
	m->v[M_CPU_OP] = ops > 0 ? cpu_seconds(ru) * 1e9 / ops : NAN;
	m->v[M_STEADY] = steady[1] > 0 ? steady[0] / steady[1] / 1e6 : NAN;
	applied_of(caches, ap);
	rc = objective_ok(t, path, m);
out:
	json_decref(root);
	return rc;
}

/* Adds one process's stats file (the shim's magslab_stats_json()): 0, or 1. */
static int add_stats(struct tune *t, const char *path, struct metrics *m,
		     struct applied *ap, bool first)
{
	json_error_t je;
	json_t *root = json_load_file(path, 0, &je), *caches, *c;
	double steady[2] = { 0, 0 };
	size_t k;
	int rc = 0;

	if (!root)
		return tune_err(t, "%s: %s (line %d)", path, je.text, je.line);
	caches = json_object_get(root, "caches");
	if (!json_is_array(caches) || json_array_size(caches) == 0) {
		json_decref(root);
		return tune_err(t, "%s: no caches in it: not the stats of " SHIM_NAME, path);
	}
	json_array_foreach(caches, k, c)
		if ((rc = add_cache(t, path, c, m, steady)) != 0)
			break;
	if (first)
		applied_of(caches, ap);
	json_decref(root);
	return rc;
}

/* The number --metric finds in the run's output (its last match), or NAN. */
static double metric_value(struct tune *t, const char *log)
{
	char line[4096];
	double v = NAN;
	FILE *f = fopen(log, "r");

	if (!f)
		return NAN;
	while (fgets(line, sizeof(line), f)) {
		regmatch_t g[2];
		size_t at = 0;

		while (regexec(&t->metric, line + at, 2, g, at ? REG_NOTBOL : 0) == 0) {
			regmatch_t *w = g[1].rm_so >= 0 ? &g[1] : &g[0];
			char num[64];

			snprintf(num, sizeof(num), "%.*s", (int)(w->rm_eo - w->rm_so),
				 line + at + w->rm_so);
			v = strtod(num, NULL);
			if (g[0].rm_eo == 0)
				break;
			at += (size_t)g[0].rm_eo;
		}
	}
	fclose(f);
	return v;
}

int tune_read_program(struct tune *t, const char *name, const char *log, double wall,
		      const struct rusage *ru, struct metrics *m, struct applied *ap)
{
	char pat[PATH_MAX];
	glob_t g;
	size_t k;
	int rc = 0;

	clear(m);
	m->v[M_WALL] = wall;
	m->v[M_CPU_S] = cpu_seconds(ru);
	if (t->metric_re && isnan(m->v[M_METRIC] = metric_value(t, log)))
		return tune_err(t, "--metric '%s' matches nothing in the output of %s (%s)",
			       t->metric_re, t->args[0], log);
	snprintf(pat, sizeof(pat), "%.3800s/runs/%.200s.stats-*.json", t->absout, name);
	if (glob(pat, 0, NULL, &g) != 0)
		return tune_err(t, "%s wrote no stats (%s): is it statically linked, or does it "
			       "clear LD_PRELOAD?",
			       t->args[0], pat);
	for (k = 0; k < g.gl_pathc && !rc; k++)
		rc = add_stats(t, g.gl_pathv[k], m, ap, k == 0);
	globfree(&g);
	if (!rc)
		m->v[M_CONTENTION] /= wall;
	return rc ? rc : objective_ok(t, log, m);
}

int tune_compile_metric(struct tune *t)
{
	char msg[256];
	int rc;

	if (!t->metric_re)
		return 0;
	rc = regcomp(&t->metric, t->metric_re, REG_EXTENDED);
	if (rc != 0) {
		regerror(rc, &t->metric, msg, sizeof(msg));
		return tune_usage_error("--metric: '%s' is not a regular expression: %s",
				   t->metric_re, msg);
	}
	t->metric_compiled = true;
	return 0;
}
