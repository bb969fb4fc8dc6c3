/*
 * workloads/json.c — the JSON result of magslab-workload (workload.h, "JSON"), built with
 * jansson and written in one piece at the end, and the one-line summary on stderr.
 *
 * Caches and arenas: every member of struct kmem_cache_stats and struct arena_stats is
 * written, driven by the library's field tables (magslab/stats_fields.h).  The keys the
 * result has always had come first, in their old order (the lists cache_keys_* and
 * arena_keys below: consumers such as `magslab tune` and the tests read them; uses_bufctl
 * stays a boolean), then every other field of the table in the library's order.  A field
 * added to the library is so in the result without a change here.
 *
 * Two things jansson does not do, done here: an integer above INT64_MAX (jansson's
 * json_int_t is signed; --seed and --threshold take any uint64_t) is put in as a marked
 * string ("\x01u64:DIGITS") and the marks are replaced by the digits in the dumped text;
 * and a string that is not valid UTF-8 (jansson refuses those: a file or thread name from
 * the user) is written with its bytes above 0x7f as '?'.
 *
 * Out of memory while building: the program ends (exit 1, one line), as a result with
 * keys silently missing would be worse than none.  No state outside a call.
 */
#include "workload.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define BIG_MARK "\x01u64:"        /* a uint64_t above INT64_MAX, as a string */
#define BIG_MARK_DUMPED "\"\\u0001u64:" /* ... as json_dumps writes it */

/* ---- building ------------------------------------------------------------ */

static json_t *checked(json_t *v)
{
	if (!v) {
		fputs("magslab-workload: out of memory building the JSON result\n", stderr);
		exit(1);
	}
	return v;
}

json_t *wl_jobject(void)
{
	return checked(json_object());
}

json_t *wl_jarray(void)
{
	return checked(json_array());
}

void wl_jset(json_t *obj, const char *key, json_t *v)
{
	if (json_object_set_new(obj, key, checked(v)) != 0)
		checked(NULL);
}

void wl_jappend(json_t *arr, json_t *v)
{
	if (json_array_append_new(arr, checked(v)) != 0)
		checked(NULL);
}

static json_t *u64_value(uint64_t v)
{
	char buf[40];

	if (v <= INT64_MAX)
		return json_integer((json_int_t)v);
	snprintf(buf, sizeof(buf), BIG_MARK "%" PRIu64, v);
	return json_string(buf);
}

static json_t *str_value(const char *s)
{
	json_t *v;
	char *copy;

	if (!s)
		return json_null();
	v = json_string(s);
	if (v)
		return v;
	copy = strdup(s); /* not UTF-8: non-ASCII bytes become '?' */
	if (!copy)
		return NULL;
	for (char *p = copy; *p; p++)
		if ((unsigned char)*p > 0x7f)
			*p = '?';
	v = json_string(copy);
	free(copy);
	return v;
}

void wl_jset_u64(json_t *obj, const char *key, uint64_t v)
{
	wl_jset(obj, key, u64_value(v));
}

void wl_jset_double(json_t *obj, const char *key, double v)
{
	json_t *r = json_real(v); /* NULL if not finite */

	wl_jset(obj, key, r ? r : json_null());
}

void wl_jset_str(json_t *obj, const char *key, const char *s)
{
	wl_jset(obj, key, str_value(s));
}

void wl_jset_bool(json_t *obj, const char *key, bool v)
{
	wl_jset(obj, key, json_boolean(v));
}

void wl_jset_null(json_t *obj, const char *key)
{
	wl_jset(obj, key, json_null());
}

void wl_jset_pair(json_t *obj, const char *key, const uint64_t v[2])
{
	json_t *a = wl_jarray();

	wl_jappend(a, u64_value(v[0]));
	wl_jappend(a, u64_value(v[1]));
	wl_jset(obj, key, a);
}

/* ---- stats, from the library's field tables -------------------------------- */

/* Field f of the stats struct st into obj, by its name. */
static void set_field(json_t *obj, const struct magslab_stats_field *f, const void *st)
{
	uint64_t pair[2];

	switch (f->kind) {
	case MAGSLAB_FIELD_PAIR:
		pair[0] = magslab_stats_field_u64(f, st, 0);
		pair[1] = magslab_stats_field_u64(f, st, 1);
		wl_jset_pair(obj, f->name, pair);
		break;
	case MAGSLAB_FIELD_STRING:
		wl_jset_str(obj, f->name, magslab_stats_field_str(f, st));
		break;
	default:
		if (strcmp(f->name, "uses_bufctl") == 0) /* a boolean here, always was */
			wl_jset_bool(obj, f->name, magslab_stats_field_u64(f, st, 0) != 0);
		else
			wl_jset_u64(obj, f->name, magslab_stats_field_u64(f, st, 0));
		break;
	}
}

/* The fields named keys[0..nkeys) of table t (of n), in that order. */
static void set_named(json_t *obj, const struct magslab_stats_field *t, size_t n,
		      const char *const *keys, size_t nkeys, const void *st)
{
	for (size_t k = 0; k < nkeys; k++)
		for (size_t i = 0; i < n; i++)
			if (strcmp(t[i].name, keys[k]) == 0)
				set_field(obj, &t[i], st);
}

/* Every field of table t (of n) that obj does not have yet, in the table's order. */
static void set_rest(json_t *obj, const struct magslab_stats_field *t, size_t n,
		     const void *st)
{
	for (size_t i = 0; i < n; i++)
		if (!json_object_get(obj, t[i].name))
			set_field(obj, &t[i], st);
}

#define NKEYS(a) (sizeof(a) / sizeof((a)[0]))

/* A cache's keys before magsize_settled_s, and after it up to after_warmup. */
static const char *const cache_keys_1[] = {
	"obj_size", "policy", "pcc_mode", "resize_threshold", "resize_timeout_ns", "nr_pcc",
	"magsize", "magsize_up", "magsize_down",
};
static const char *const cache_keys_2[] = {
	"pcc_magsize_min", "pcc_magsize_max", "depot_contended", "depot_contended_counted",
	"contention_wait_ns", "contention_wait_max_ns", "depot_gets", "depot_puts",
	"depot_misses", "mag_swaps", "pcc_hits", "allocs", "frees", "live_objs",
	"bytes_in_mags", "objs_in_mags", "mags_allocated", "depot_full", "depot_empty",
	"hash_lists", "hash_items", "hash_resizes", "uses_bufctl", "slabs", "slab_size",
	"objs_per_slab", "slab_grows", "slab_releases", "pcc_contended", "pcc_aborts", "reaps",
	"debug_errors",
};
static const char *const arena_keys[] = {
	"quantum", "total", "allocated", "free", "imported", "nr_spans", "nr_segments",
	"nr_alloc_segments", "nr_free_segments", "hash_lists", "hash_items", "hash_resizes",
	"nr_allocs_ever", "nr_frees_ever", "nr_imports", "nr_releases", "nr_failures",
	"nr_tags",
};

static void set_pair_diff(json_t *obj, const char *key, const uint64_t a[2],
			  const uint64_t b[2])
{
	const uint64_t d[2] = { a[0] - b[0], a[1] - b[1] };

	wl_jset_pair(obj, key, d);
}

/* What changed since the warm-up snapshot warm (st: the stats now). */
static json_t *after_warmup(const struct kmem_cache_stats *st,
			    const struct kmem_cache_stats *warm, double warm_at_s,
			    double warm_took_s, double end_s)
{
	json_t *a = wl_jobject();

	wl_jset_double(a, "from_s", warm_at_s);
	wl_jset_double(a, "snapshot_s", warm_took_s);
	wl_jset_double(a, "seconds", end_s - warm_at_s);
	wl_jset_u64(a, "allocs", st->allocs - warm->allocs);
	wl_jset_u64(a, "frees", st->frees - warm->frees);
	wl_jset_u64(a, "pcc_hits", st->pcc_hits - warm->pcc_hits);
	set_pair_diff(a, "depot_gets", st->depot_gets, warm->depot_gets);
	set_pair_diff(a, "depot_puts", st->depot_puts, warm->depot_puts);
	set_pair_diff(a, "depot_misses", st->depot_misses, warm->depot_misses);
	set_pair_diff(a, "mag_swaps", st->mag_swaps, warm->mag_swaps);
	wl_jset_u64(a, "depot_contended", st->depot_contended - warm->depot_contended);
	wl_jset_u64(a, "magsize_up", st->magsize_up - warm->magsize_up);
	wl_jset_u64(a, "magsize_down", st->magsize_down - warm->magsize_down);
	wl_jset_u64(a, "magsize_at_warmup", warm->magsize);
	return a;
}

/* A new object {"name": name, "id": id}: a cache's or an arena's head. */
static json_t *named(const char *name, uint64_t id)
{
	json_t *o = wl_jobject();

	wl_jset_str(o, "name", name);
	wl_jset_u64(o, "id", id);
	return o;
}

json_t *wl_json_cache(struct kmem_cache *kc, const struct kmem_cache_stats *warm,
		      double warm_at_s, double warm_took_s, double end_s,
		      double settled_s)
{
	size_t n;
	const struct magslab_stats_field *t = magslab_cache_stats_fields(&n);
	json_t *c = named(kmem_cache_name(kc), kmem_cache_id(kc));
	struct kmem_cache_stats st = { 0 };

	kmem_cache_stats(kc, &st);
	set_named(c, t, n, cache_keys_1, NKEYS(cache_keys_1), &st);
	if (settled_s >= 0)
		wl_jset_double(c, "magsize_settled_s", settled_s);
	set_named(c, t, n, cache_keys_2, NKEYS(cache_keys_2), &st);
	if (warm)
		wl_jset(c, "after_warmup",
			after_warmup(&st, warm, warm_at_s, warm_took_s, end_s));
	set_rest(c, t, n, &st);
	return c;
}

json_t *wl_json_arena(struct arena *a)
{
	size_t n;
	const struct magslab_stats_field *t = magslab_arena_stats_fields(&n);
	json_t *o = named(arena_name(a), arena_id(a));
	struct arena_stats st = { 0 };

	arena_stats(a, &st);
	set_named(o, t, n, arena_keys, NKEYS(arena_keys), &st);
	set_rest(o, t, n, &st);
	return o;
}

/* ---- the result ------------------------------------------------------------ */

/* A member that is a count, or null when not given. */
static void set_u64_or_null(json_t *obj, const char *key, bool given, uint64_t v)
{
	if (given)
		wl_jset_u64(obj, key, v);
	else
		wl_jset_null(obj, key);
}

static json_t *common_params(const struct wl_opts *o)
{
	json_t *p = wl_jobject();

	wl_jset_u64(p, "threads", o->threads);
	if (o->ops)
		wl_jset_null(p, "duration_s");
	else
		wl_jset_double(p, "duration_s", o->duration_s);
	set_u64_or_null(p, "ops_per_thread", o->ops != 0, o->ops);
	wl_jset_u64(p, "objsize", o->objsize);
	wl_jset_u64(p, "seed", o->seed);
	set_u64_or_null(p, "ncpus", o->ncpus != 0, o->ncpus);
	wl_jset_str(p, "pcc_map", o->pcc_map);
	wl_jset_str(p, "policy", o->policy);
	set_u64_or_null(p, "threshold", o->threshold_set, o->threshold);
	set_u64_or_null(p, "timeout_ns", o->timeout_set, o->timeout_ns);
	wl_jset_bool(p, "pin", o->pin);
	wl_jset_double(p, "warmup_s", o->warmup_s);
	return p;
}

/* What the summary line says of the caches. */
struct summary {
	unsigned int magsize;
	uint64_t dgets, dcont;
};

/* Every cache of the run, and the summary's figures. */
static json_t *caches(struct wl_run *run, struct summary *sum)
{
	json_t *arr = wl_jarray();

	for (unsigned int k = 0; k < run->ncaches; k++) {
		struct kmem_cache_stats st;
		double settled = -1;

		if (kmem_cache_stats(run->caches[k], &st) == 0)
			settled = wl_run_settled_s(run, k, &st);
		wl_jappend(arr, wl_json_cache(run->caches[k],
					      run->have_warm ? &run->warm[k] : NULL,
					      run->warm_at_s, run->warm_took_s, run->seconds,
					      settled));
		if (kmem_cache_stats(run->caches[k], &st) == 0) {
			if (st.magsize > sum->magsize)
				sum->magsize = st.magsize;
			sum->dgets += st.depot_gets[0] + st.depot_gets[1];
			sum->dcont += st.depot_contended;
		}
	}
	return arr;
}

static const char *failure(const struct wl_run *run)
{
	if (!run->failed)
		return NULL;
	return run->why[0] ? run->why : "a thread could not be created";
}

static json_t *result(struct wl_run *run, const char *workload, wl_json_fn extra_params,
		      wl_json_fn extra, void *arg, double mops, struct summary *sum)
{
	json_t *root = wl_jobject(), *params = common_params(run->opts);

	wl_jset_str(root, "workload", workload);
	if (extra_params)
		extra_params(params, arg);
	wl_jset(root, "params", params);
	wl_jset_u64(root, "ops", run->ops);
	wl_jset_double(root, "seconds", run->seconds);
	wl_jset_double(root, "mops", mops);
	wl_jset_u64(root, "threads_max", run->max_threads);
	wl_jset_bool(root, "failed", run->failed != 0);
	wl_jset_str(root, "failure", failure(run));
	wl_jset(root, "caches", caches(run, sum));
	if (extra)
		extra(root, arg);
	return root;
}

/* The text of root, with the big-integer marks replaced by their digits; NULL if no memory. */
static char *dump(const json_t *root)
{
	char *text = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(6) |
					      JSON_PRESERVE_ORDER);
	char *r, *w, *mark;
	size_t ml = strlen(BIG_MARK_DUMPED);

	if (!text)
		return NULL;
	for (r = w = text; (mark = strstr(r, BIG_MARK_DUMPED)) != NULL;) {
		memmove(w, r, (size_t)(mark - r));
		w += mark - r;
		r = mark + ml;
		while (*r >= '0' && *r <= '9')
			*w++ = *r++;
		r++; /* the closing quote */
	}
	memmove(w, r, strlen(r) + 1);
	return text;
}

/* text and a newline to --json FILE or stdout.  0, or -1 (reported). */
static int write_result(const struct wl_opts *o, const char *text)
{
	bool to_file = o->json_path && strcmp(o->json_path, "-") != 0;
	FILE *out = to_file ? fopen(o->json_path, "w") : stdout;
	int ret = 0;

	if (!out)
		return wl_error(o, "--json %s: %s", o->json_path, strerror(errno));
	if (fputs(text, out) == EOF || fputc('\n', out) == EOF || fflush(out) != 0)
		ret = wl_error(o, "writing the JSON result: %s", strerror(errno));
	if (to_file && fclose(out) != 0)
		ret = wl_error(o, "--json %s: %s", o->json_path, strerror(errno));
	return ret;
}

int wl_report(struct wl_run *run, const char *workload,
	      wl_json_fn extra_params, wl_json_fn extra, void *arg)
{
	const struct wl_opts *o = run->opts;
	double mops = run->seconds > 0 ? (double)run->ops / run->seconds / 1e6 : 0.0;
	struct summary sum = { 0, 0, 0 };
	json_t *root = result(run, workload, extra_params, extra, arg, mops, &sum);
	char *text = dump(root);
	int ret;

	json_decref(root);
	if (!text)
		return wl_error(o, "cannot build the JSON result");
	ret = write_result(o, text);
	free(text);
	fprintf(stderr, "%s: %" PRIu64 " ops in %.3f s = %.2f Mops/s, %u "
		"thread(s) max, %u cache(s), max magsize %u, depot gets %"
		PRIu64 ", depot contended %" PRIu64 "%s\n",
		o->cmd, run->ops, run->seconds, mops, run->max_threads,
		run->ncaches, sum.magsize, sum.dgets, sum.dcont,
		run->failed ? " (FAILED)" : "");
	if (run->failed)
		fprintf(stderr, "%s: FAILED: %s\n", o->cmd, failure(run));
	return ret;
}
