/*
 * json.c — sink.magslab.report: summary.json (docs/report.md, "summary.json") and
 * manifest.json, with jansson.
 *
 * summary.json is built as a jansson tree, member by member in the order of the contract,
 * then printed in its own layout, which one jansson dump cannot give: two-space
 * indentation, but some containers on one line (the params, each cache's small objects
 * and pairs, each trace, window and phase: those made with one_line), and numbers as the
 * contract has them: every integer of the file is a count, size, id or time in ns, printed
 * as an unsigned 64-bit number (jansson's json_int_t is signed: a value above INT64_MAX is
 * stored as its two's complement), every real in fixed point with 9 decimals (seconds: ns
 * resolution) or, where the builder says so, another number of decimals (the mean wait:
 * 1).  Strings and keys are encoded by jansson: a string that is not valid UTF-8 (a name
 * from a damaged trace) has each bad byte replaced by '?' first, since jansson takes UTF-8
 * only.  The layout and number formats are those of the hand-written writer this file
 * replaced, byte for byte (tests/test_report_identical.sh); the one difference is in
 * strings with control characters other than \n, \t and \r (jansson writes \b, \f and
 * \u001F where the old writer wrote \u0008, \u000c and \u001f) and the DEL character
 * (jansson leaves it as is): no trace of the tests has one.
 *
 * Which containers are one-line, and which reals have other decimals, is kept beside the
 * tree (struct jdoc: two maps by the jansson value's address), since a json_t has no room
 * for it.
 *
 * manifest.json is plain jansson output (JSON_INDENT(2)): the list of the report's files
 * and what each plot script draws, written last, for the front end (docs/report.md,
 * "manifest.json").
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "output.h"

#define DEFAULT_DECIMALS 9	/* reals, unless a builder says otherwise */

/* What the tree does not say: which containers go on one line, which reals have other
 * than 9 decimals (value: decimals + 1).  Keys: the values' addresses. */
struct jdoc {
	struct idmap one_line;
	struct idmap decimals;
};

/* ---- strings jansson takes ------------------------------------------------------------ */

/* The length of the UTF-8 sequence at p (left bytes there), 0 if it is not valid. */
static size_t utf8_len(const unsigned char *p, size_t left)
{
	unsigned char b = p[0], lo = 0x80, hi = 0xBF;
	size_t len, k;

	if (b < 0x80)
		return 1;
	if (b >= 0xC2 && b <= 0xDF)
		len = 2;
	else if (b >= 0xE0 && b <= 0xEF)
		len = 3;
	else if (b >= 0xF0 && b <= 0xF4)
		len = 4;
	else
		return 0;
	if (len > left)
		return 0;
	if (b == 0xE0)
		lo = 0xA0;
	else if (b == 0xED)
		hi = 0x9F;
	else if (b == 0xF0)
		lo = 0x90;
	else if (b == 0xF4)
		hi = 0x8F;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (k = 2; k < len; k++)
		if (p[k] < 0x80 || p[k] > 0xBF)
			return 0;
	return len;
}

static bool utf8_valid(const char *s)
{
	size_t i = 0, n = strlen(s), len;

	for (; i < n; i += len)
		if ((len = utf8_len((const unsigned char *)s + i, n - i)) == 0)
			return false;
	return true;
}

/* A copy of s with every byte that is not part of valid UTF-8 replaced by '?'. */
static char *utf8_clean(const char *s)
{
	char *c = ms_strdup(s);
	size_t i = 0, n = strlen(c), len;

	while (i < n) {
		len = utf8_len((const unsigned char *)c + i, n - i);
		if (len == 0)
			c[i++] = '?';
		else
			i += len;
	}
	return c;
}

json_t *json_text(const char *s)
{
	char *c = utf8_valid(s) ? NULL : utf8_clean(s);
	json_t *v = json_string(c ? c : s);

	free(c);
	if (!v)
		abort();
	return v;
}

/* ---- building ------------------------------------------------------------------------- */

/* v into parent: as member key of an object, or appended to an array (key NULL). */
static json_t *put(json_t *parent, const char *key, json_t *v)
{
	char *c = NULL;
	int rc;

	if (!v)
		abort();
	if (json_is_object(parent)) {
		if (!utf8_valid(key))
			key = c = utf8_clean(key);
		rc = json_object_set_new(parent, key, v);
		free(c);
	} else {
		rc = json_array_append_new(parent, v);
	}
	if (rc)
		abort();
	return v;
}

static void mark(struct idmap *m, const json_t *v, uint32_t val)
{
	if (idmap_put(m, (uint64_t)(uintptr_t)v, val))
		abort();
}

/* A new container in parent (NULL: the root), on one line or not. */
static json_t *j_open(struct jdoc *d, json_t *parent, const char *key, bool array,
		      bool one_line)
{
	json_t *c = array ? json_array() : json_object();

	if (parent)
		put(parent, key, c);
	else if (!c)
		abort();
	if (one_line)
		mark(&d->one_line, c, 1);
	return c;
}

static void j_u64(json_t *o, const char *key, uint64_t v)
{
	put(o, key, json_integer((json_int_t)v));
}

static void j_str(json_t *o, const char *key, const char *s)
{
	put(o, key, s ? json_text(s) : json_null());
}

static void j_null(json_t *o, const char *key)
{
	put(o, key, json_null());
}

static void j_bool(json_t *o, const char *key, bool b)
{
	put(o, key, json_boolean(b));
}

/* A real with prec decimals; null when not finite. */
static void j_dbl(struct jdoc *d, json_t *o, const char *key, double v, int prec)
{
	json_t *x = isfinite(v) ? json_real(v) : json_null();

	put(o, key, x);
	if (prec != DEFAULT_DECIMALS && json_is_real(x))
		mark(&d->decimals, x, (uint32_t)prec + 1);
}

/* Members keys[0..n) with the values v, or all null when not known. */
static void j_u64s(json_t *o, bool known, const char *const *keys, const uint64_t *v, int n)
{
	int k;

	for (k = 0; k < n; k++)
		if (known)
			j_u64(o, keys[k], v[k]);
		else
			j_null(o, keys[k]);
}

static void j_pair(struct jdoc *d, json_t *o, const char *key, const uint64_t v[2])
{
	json_t *a = j_open(d, o, key, true, true);

	j_u64(a, NULL, v[0]);
	j_u64(a, NULL, v[1]);
}

/* ---- printing ------------------------------------------------------------------------- */

static void print_value(FILE *f, const struct jdoc *d, const json_t *v, int depth,
			bool one_line);

/* Before a member of a container at depth: the comma, and a new line or a space. */
static void print_sep(FILE *f, int depth, bool one_line, bool first)
{
	if (!first)
		fputc(',', f);
	if (!one_line)
		fprintf(f, "\n%*s", 2 * (depth + 1), "");
	else if (!first)
		fputc(' ', f);
}

static void print_string(FILE *f, const char *s)
{
	json_t *v = json_text(s);

	json_dumpf(v, f, JSON_ENCODE_ANY);
	json_decref(v);
}

static void print_container(FILE *f, const struct jdoc *d, const json_t *v, int depth,
			    bool one_line)
{
	bool obj = json_is_object(v), first = true;
	size_t i, n = obj ? 0 : json_array_size(v);
	const char *key;
	json_t *m;
	void *it;

	one_line = one_line || idmap_get(&d->one_line, (uint64_t)(uintptr_t)v);
	fputc(obj ? '{' : '[', f);
	for (it = obj ? json_object_iter((json_t *)v) : NULL; it;
	     it = json_object_iter_next((json_t *)v, it), first = false) {
		key = json_object_iter_key(it);
		print_sep(f, depth, one_line, first);
		print_string(f, key);
		fputs(": ", f);
		print_value(f, d, json_object_iter_value(it), depth + 1, one_line);
	}
	for (i = 0; i < n; i++, first = false) {
		m = json_array_get(v, i);
		print_sep(f, depth, one_line, first);
		print_value(f, d, m, depth + 1, one_line);
	}
	if (!first && !one_line)
		fprintf(f, "\n%*s", 2 * depth, "");
	fputc(obj ? '}' : ']', f);
}

static void print_value(FILE *f, const struct jdoc *d, const json_t *v, int depth,
			bool one_line)
{
	uint32_t prec;

	switch (json_typeof(v)) {
	case JSON_OBJECT:
	case JSON_ARRAY:
		print_container(f, d, v, depth, one_line);
		break;
	case JSON_STRING:
		json_dumpf(v, f, JSON_ENCODE_ANY);
		break;
	case JSON_INTEGER:
		fprintf(f, "%" PRIu64, (uint64_t)json_integer_value(v));
		break;
	case JSON_REAL:
		prec = idmap_get(&d->decimals, (uint64_t)(uintptr_t)v);
		fprintf(f, "%.*f", prec ? (int)prec - 1 : DEFAULT_DECIMALS, json_real_value(v));
		break;
	case JSON_TRUE:
		fputs("true", f);
		break;
	case JSON_FALSE:
		fputs("false", f);
		break;
	default:
		fputs("null", f);
	}
}

/* ---- a cache -------------------------------------------------------------------------- */

static void j_hash(struct jdoc *d, json_t *o, const char *key, const struct hash_stats *h)
{
	json_t *x = j_open(d, o, key, false, true);

	j_u64(x, "resizes", h->resizes);
	j_u64(x, "failed", h->failed);
	if (h->resizes + h->failed) {
		j_u64(x, "first_lists", h->first_lists);
		j_u64(x, "lists", h->lists ? h->lists : h->first_lists);
		j_u64(x, "items_max", h->items_max);
		j_u64(x, "duration_ns_total", h->dur_sum);
		j_u64(x, "duration_ns_max", h->dur_max);
	} else {
		j_null(x, "lists");
	}
}

static void j_vpid(json_t *o, int64_t vpid)
{
	if (vpid >= 0)
		j_u64(o, "vpid", (uint64_t)vpid);
	else
		j_null(o, "vpid");
}

/* A cache in summary.json: identity and tunables. */
static void j_cache_identity(struct jdoc *d, json_t *o, const struct report *r,
			     const struct cache *c)
{
	j_u64(o, "id", c->id);
	j_str(o, "name", c->name);
	j_vpid(o, r->procs[c->proc].vpid);
	j_u64(o, "trace_domain", r->procs[c->proc].domain);
	j_str(o, "kind", cache_kind(r, c));
	j_bool(o, "created", c->created);
	j_bool(o, "destroyed", c->destroyed);
	if (c->superseded)
		j_bool(o, "superseded", true);
	if (c->created) {
		j_u64(o, "obj_size", c->obj_size);
		j_bool(o, "uses_bufctl", c->uses_bufctl);
		j_u64(o, "nr_pcc", c->nr_pcc);
		j_str(o, "policy", policy_name(c->policy));
		j_u64(o, "threshold", c->threshold);
		j_u64(o, "timeout_ns", c->timeout_ns);
		j_u64(o, "source_arena", c->source);
		j_str(o, "pcc_mode", ms_pcc_mode_names[c->pcc_mode]);
		j_dbl(d, o, "created_s", secs(c->t_create), 9);
	} else {
		j_null(o, "obj_size");
		j_null(o, "policy");
		j_null(o, "threshold");
		j_null(o, "timeout_ns");
		j_null(o, "pcc_mode");
	}
	j_dbl(d, o, "first_s", secs(c->t_first), 9);
	j_dbl(d, o, "last_s", secs(c->t_last), 9);
}

/* "allocs"/"frees" and their split by layer: only when the trace has those events. */
static void j_cache_side(struct jdoc *d, json_t *o, const char *key, bool known,
			 const uint64_t *by_layer)
{
	char split[32];
	uint64_t total = 0;
	json_t *x;
	int k;

	snprintf(split, sizeof(split), "%s_by_layer", key);
	if (!known) {
		j_null(o, key);
		j_null(o, split);
		return;
	}
	for (k = 0; k < NR_LAYERS; k++)
		total += by_layer[k];
	j_u64(o, key, total);
	x = j_open(d, o, split, false, true);
	for (k = 0; k < NR_LAYERS; k++)
		j_u64(x, ms_layer_names[k], by_layer[k]);
}

/* "pcc_counters": what the pcc counters of the slow-path events say (counters.c), or null
 * when the cache had none (an older trace). */
static void j_cache_counters(struct jdoc *d, json_t *o, const struct cache *c)
{
	uint64_t allocs[NR_LAYERS], frees[NR_LAYERS];
	json_t *x, *y;
	int k;

	if (!c->has_counters) {
		j_null(o, "pcc_counters");
		return;
	}
	counters_layers(&c->cnt, allocs, frees);
	x = j_open(d, o, "pcc_counters", false, true);
	j_u64(x, "allocs", c->cnt.delta[0]);
	j_u64(x, "frees", c->cnt.delta[1]);
	j_u64(x, "hits", c->cnt.hits);
	j_u64(x, "slots", counters_slots(c));
	j_bool(x, "complete", counters_complete(c) && !c->counters_back && c->created);
	y = j_open(d, x, "allocs_by_layer", false, true);
	for (k = 0; k < NR_LAYERS; k++)
		j_u64(y, ms_layer_names[k], allocs[k]);
	y = j_open(d, x, "frees_by_layer", false, true);
	for (k = 0; k < NR_LAYERS; k++)
		j_u64(y, ms_layer_names[k], frees[k]);
}

/* "allocs", "frees" and their split by layer: from the alloc/free events when the trace
 * has them, else from the pcc counters, else null. */
static void j_cache_layers(struct jdoc *d, json_t *o, const struct report *r,
			   const struct cache *c)
{
	uint64_t allocs[NR_LAYERS], frees[NR_LAYERS];

	if (r->kind_events[K_ALLOC] || r->kind_events[K_FREE] || !c->has_counters) {
		j_cache_side(d, o, "allocs", r->kind_events[K_ALLOC] != 0, c->allocs);
		j_cache_side(d, o, "frees", r->kind_events[K_FREE] != 0, c->frees);
		return;
	}
	counters_layers(&c->cnt, allocs, frees);
	j_cache_side(d, o, "allocs", true, allocs);
	j_cache_side(d, o, "frees", true, frees);
}

static void j_cache_magsize(struct jdoc *d, json_t *o, const struct cache *c)
{
	static const char *const keys[] = { "start", "final", "max", "min" };
	const uint64_t v[] = { c->magsize0, c->magsize, c->magsize_max, c->magsize_min };
	json_t *x = j_open(d, o, "magsize", false, true), *y;
	int k;

	j_u64s(x, c->magsize_known, keys, v, 4);
	x = j_open(d, o, "bumps", false, true);
	j_u64(x, "up", c->bumps_up);
	j_u64(x, "down", c->bumps_down);
	y = j_open(d, x, "by_reason", false, true);
	for (k = 0; k <= NR_REASONS; k++)
		if (c->bump_reason[k])
			j_u64(y, k < NR_REASONS ? ms_reason_names[k] : "unknown", c->bump_reason[k]);
	x = j_open(d, o, "pcc_magsize", false, true);
	j_u64(x, "adoptions", c->n[K_PCC_MAGSIZE]);
	if (c->n[K_PCC_MAGSIZE]) {
		j_u64(x, "min", c->pcc_magsize_min);
		j_u64(x, "max", c->pcc_magsize_max);
	}
}

static void j_cache_contention(struct jdoc *d, json_t *o, const struct cache *c)
{
	json_t *x = j_open(d, o, "contention", false, true), *w;

	j_u64(x, "count", c->contended);
	j_u64(x, "counted", c->counted);
	w = j_open(d, x, "wait_ns", false, true);
	if (c->contended) {
		j_u64(w, "p50", ms_hist_percentile(c->hist, c->contended, c->wait_max, 50));
		j_u64(w, "p99", ms_hist_percentile(c->hist, c->contended, c->wait_max, 99));
		j_u64(w, "max", c->wait_max);
		j_dbl(d, w, "mean", (double)c->wait_sum / (double)c->contended, 1);
		j_u64(w, "total", c->wait_sum);
	} else {
		j_null(w, "p50");
		j_null(w, "p99");
		j_null(w, "max");
		j_null(w, "mean");
		j_u64(w, "total", 0);
	}
	x = j_open(d, o, "pcc_contention", false, true);
	j_u64(x, "count", c->pcc_contended);
	j_u64(x, "wait_ns_total", c->pcc_wait_sum);
	j_u64(x, "wait_ns_max", c->pcc_wait_max);
}

static void j_cache_depot(struct jdoc *d, json_t *o, const struct cache *c)
{
	static const char *const keys[] = { "peak_full", "peak_empty", "final_full",
					     "final_empty" };
	const uint64_t v[] = { c->nne_max, c->ne_max, c->nne, c->ne };
	json_t *x = j_open(d, o, "depot", false, false), *y;
	int k;

	j_pair(d, x, "gets", c->gets);
	j_pair(d, x, "puts", c->puts);
	j_pair(d, x, "misses", c->misses);
	y = j_open(d, x, "misses_by_outcome", false, true);
	for (k = 0; k < NR_OUTCOMES; k++)
		j_u64(y, ms_outcome_names[k], c->miss_outcome[k]);
	j_pair(d, x, "rounds_got", c->rounds_got);
	j_u64s(x, c->depot_known, keys, v, 4);
}

static void j_cache_slab(struct jdoc *d, json_t *o, const struct cache *c)
{
	json_t *x = j_open(d, o, "slab", false, true);

	j_u64(x, "grows", c->slab_grows);
	j_u64(x, "releases", c->slab_releases);
	j_u64(x, "bytes_grown", c->bytes_grown);
	j_u64(x, "bytes_released", c->bytes_released);
	x = j_open(d, o, "reaps", false, true);
	j_u64(x, "count", c->reaps);
	j_u64(x, "slabs", c->reap_slabs);
	j_u64(x, "magazines", c->reap_mags);
	j_u64(x, "bytes", c->reap_bytes);
}

static void j_cache(struct jdoc *d, json_t *caches, const struct report *r,
		    const struct cache *c)
{
	json_t *o = j_open(d, caches, NULL, false, false), *x;
	int k;

	j_cache_identity(d, o, r, c);
	x = j_open(d, o, "events", false, true);
	for (k = 0; k < K_NKNOWN; k++)
		if (c->n[k])
			j_u64(x, ms_kind_names[k], c->n[k]);
	j_cache_layers(d, o, r, c);
	j_cache_counters(d, o, c);
	j_cache_magsize(d, o, c);
	j_cache_contention(d, o, c);
	j_cache_depot(d, o, c);
	j_pair(d, o, "mag_swaps", c->swaps);
	j_hash(d, o, "hash", &c->hash);
	j_cache_slab(d, o, c);
	j_u64(o, "activity", cache_activity(c));
	j_bool(o, "plotted", c->plotted);
}

/* ---- summary.json, section by section (docs/report.md "summary.json") ----------------- */

static void json_params(struct jdoc *d, json_t *root, const struct report *r)
{
	json_t *x = j_open(d, root, "params", false, true);

	j_u64(x, "bucket_ms", r->bucket_ns / 1000000u);
	j_u64(x, "max_caches", r->max_caches);
	j_str(x, "title", r->title);
	if (r->program) /* (absent without it: reports stay byte for byte what they were) */
		j_str(x, "program", r->program);
}

/* Events by name, summed over the classes of that name (one per trace with per-PID buffers). */
static void json_events_by_name(struct jdoc *d, json_t *o, const struct report *r)
{
	json_t *x = j_open(d, o, "events_by_name", false, false);
	uint32_t i, m;

	for (i = 0; i < r->nr_ecs; i++) {
		uint64_t sum = 0;
		bool seen = false;

		for (m = 0; m < i; m++)
			if (strcmp(r->ecs[m]->name, r->ecs[i]->name) == 0)
				seen = true;
		if (seen)
			continue;
		for (m = i; m < r->nr_ecs; m++)
			if (strcmp(r->ecs[m]->name, r->ecs[i]->name) == 0)
				sum += r->ecs[m]->count;
		j_u64(x, r->ecs[i]->name, sum);
	}
}

static void json_trace_list(struct jdoc *d, json_t *o, const struct report *r)
{
	json_t *list = j_open(d, o, "traces", true, false);
	uint32_t i;

	for (i = 0; i < r->nr_traces; i++) {
		const struct trace_info *t = &r->traces[i];
		json_t *x = j_open(d, list, NULL, false, true);

		j_str(x, "name", t->name);
		j_u64(x, "domain", t->domain);
		j_str(x, "hostname", t->hostname);
		j_str(x, "tracer", t->tracer);
		j_str(x, "tracer_domain", t->domain_name);
		j_str(x, "procname", t->procname);
		j_vpid(x, t->vpid);
	}
}

static void json_trace(struct jdoc *d, json_t *root, const struct report *r)
{
	json_t *x = j_open(d, root, "trace", false, false);
	char iso[64];

	j_u64(x, "first_ns", r->t0);
	j_u64(x, "last_ns", r->t_last);
	if (r->clock_unix_epoch) {
		iso_time(iso, sizeof(iso), r->t0);
		j_str(x, "first_utc", iso);
		iso_time(iso, sizeof(iso), r->t_last);
		j_str(x, "last_utc", iso);
	} else {
		j_null(x, "first_utc");
		j_null(x, "last_utc");
	}
	j_dbl(d, x, "duration_s", secs(r->t_last - r->t0), 9);
	j_u64(x, "events", r->events);
	j_u64(x, "magslab_events", r->magslab_events);
	j_u64(x, "unusable_events", r->kind_events[K_UNUSABLE]);
	json_events_by_name(d, x, r);
	json_trace_list(d, x, r);
}

static int json_discarded(struct jdoc *d, json_t *root, struct report *r)
{
	json_t *x = j_open(d, root, "discarded", false, false), *list;
	uint64_t w[2], n = 0;

	j_u64(x, "events", r->disc_events);
	j_u64(x, "packets", r->disc_packets);
	j_u64(x, "event_messages", r->disc_event_msgs);
	j_u64(x, "packet_messages", r->disc_packet_msgs);
	j_u64(x, "messages_without_count", r->disc_unknown_count);
	j_u64(x, "messages_without_window", r->disc_no_window);
	j_u64(x, "windows_total", r->nr_windows);
	j_bool(x, "windows_truncated", r->nr_windows > MS_WINDOWS_JSON);
	list = j_open(d, x, "windows", true, false);
	if (out_rewind(r, r->win_f))
		return -1;
	while (n < MS_WINDOWS_JSON && fread(w, sizeof(w), 1, r->win_f) == 1) {
		json_t *pair = j_open(d, list, NULL, true, true);

		j_dbl(d, pair, NULL, rel_s(r, w[0]), 9);
		j_dbl(d, pair, NULL, rel_s(r, w[1]), 9);
		n++;
	}
	return 0;
}

/* summary.json `damage`: whether the trace is damaged, and why (sanity.c). */
static void json_damage(struct jdoc *d, json_t *root, const struct report *r)
{
	json_t *x = j_open(d, root, "damage", false, false), *list;
	uint32_t i;

	j_bool(x, "damaged", r->damage_total > 0);
	j_u64(x, "findings_total", r->damage_total);
	list = j_open(d, x, "findings", true, false);
	for (i = 0; i < r->nr_damage; i++)
		j_str(list, NULL, r->damage[i]);
}

static void json_phases(struct jdoc *d, json_t *root, const struct report *r)
{
	json_t *list;
	uint32_t i;

	j_u64(root, "phases_total", r->nr_phases);
	list = j_open(d, root, "phases", true, false);
	for (i = 0; i < r->nr_phases_kept; i++) {
		json_t *x = j_open(d, list, NULL, false, true);

		j_u64(x, "index", r->phases[i].index);
		j_str(x, "name", r->phases[i].name);
		j_dbl(d, x, "t_s", secs(r->phases[i].t), 9);
	}
}

static void json_run(struct jdoc *d, json_t *root, const struct out *o)
{
	json_t *x = j_open(d, root, "run", false, false);

	if (o->r->program)
		j_str(x, "program", o->r->program);
	j_str(x, "workload", o->workload);
	j_str(x, "workload_from", o->workload_from ? "cache name" : NULL);
	j_str(x, "workload_cache", o->workload_from);
	if (o->thr_state == 1) {
		j_str(x, "policy", policy_name(o->policy));
		j_u64(x, "threshold", o->thr);
		j_u64(x, "timeout_ns", o->tmo);
	} else {
		j_str(x, "policy", o->thr_state == 2 ? "per-cache" : NULL);
		j_str(x, "threshold", o->thr_state == 2 ? "per-cache" : NULL);
		j_str(x, "timeout_ns", o->thr_state == 2 ? "per-cache" : NULL);
	}
	j_str(x, "pcc_mode", o->mode_state == 0 ? NULL :
	      o->mode_state == 2 ? "per-cache" : ms_pcc_mode_names[o->pcc_mode]);
}

static void json_layers(struct jdoc *d, json_t *root, const struct out *o)
{
	json_t *x = j_open(d, root, "layers", false, false);

	j_str(x, "mode", o->exact_layers ? "exact" : "estimated");
	j_str(x, "source", !o->exact_layers ? NULL : o->layers_counters ? "pcc counters" :
	      "alloc events");
	j_str(x, "what", !o->exact_layers ?
	      "no alloc events or pcc counters: allocations served after a depot exchange "
	      "(alloc-side depot_get) and fallen to the slab layer (alloc-side depot_miss) per "
	      "second; pcc hits unknown" : o->layers_counters ?
	      "share of allocations by layer (pcc, depot, slab), caches with magazines, from the "
	      "pcc counters of depot_exchange, depot_miss and pcc_counters (a slot's hits are "
	      "counted at its next such event)" :
	      "share of alloc events by layer (pcc, depot, slab), caches with magazines");
}

static void json_plots(struct jdoc *d, json_t *root, const struct out *o)
{
	json_t *x = j_open(d, root, "plots", false, false), *list;
	uint32_t i;
	int p;

	list = j_open(d, x, "caches", true, true);
	for (i = 0; i < o->nr_plot; i++)
		j_str(list, NULL, o->plot[i]->name);
	list = j_open(d, x, "hash_series", true, true);
	for (i = 0; i < o->nr_hs; i++)
		j_str(list, NULL, o->hs[i].name);
	list = j_open(d, x, "scripts", true, true);
	for (p = 0; p < NR_PLOTS; p++) {
		char s[32];

		snprintf(s, sizeof(s), "%s.gp", ms_plot_names[p]);
		j_str(list, NULL, s);
	}
	j_str(x, "render", "cd OUTPUT_DIR && gnuplot magsize.gp contention.gp hash.gp depot.gp "
	      "layers.gp slots.gp");
}

/* Plotted caches first (most active first), then the others by id. */
static void json_caches(struct jdoc *d, json_t *root, const struct out *o)
{
	const struct report *r = o->r;
	json_t *list = j_open(d, root, "caches", true, false);
	uint32_t i;
	int k;

	for (k = 0; k < 2; k++)
		for (i = 0; i < r->nr_caches; i++) {
			const struct cache *c = k ? r->caches[i] : (i < o->nr_plot ? o->plot[i] : NULL);

			if (!c || (k && c->plotted))
				continue;
			j_cache(d, list, r, c);
		}
}

static void json_arena(struct jdoc *d, json_t *list, const struct report *r,
		       const struct arena *a)
{
	json_t *x = j_open(d, list, NULL, false, false);

	j_u64(x, "id", a->id);
	j_str(x, "name", a->name);
	j_vpid(x, r->procs[a->proc].vpid);
	j_bool(x, "created", a->created);
	j_bool(x, "destroyed", a->destroyed);
	j_u64(x, "quantum", a->quantum);
	j_u64(x, "qcache_max", a->qcache_max);
	j_u64(x, "source", a->source);
	j_u64(x, "imports", a->imports);
	j_u64(x, "releases", a->releases);
	j_u64(x, "bytes_imported", a->bytes_imported);
	j_u64(x, "bytes_released", a->bytes_released);
	j_u64(x, "fails", a->fails);
	j_hash(d, x, "hash", &a->hash);
}

static void json_arenas_warnings(struct jdoc *d, json_t *root, const struct report *r)
{
	json_t *list = j_open(d, root, "arenas", true, false);
	uint32_t i;

	for (i = 0; i < r->nr_arenas; i++)
		json_arena(d, list, r, r->arenas[i]);
	list = j_open(d, root, "warnings", true, false);
	for (i = 0; i < r->nr_warnings; i++)
		j_str(list, NULL, r->warnings[i]);
}

/* The whole of summary.json as a tree (NULL: a temporary file could not be read). */
static json_t *summary_tree(struct jdoc *d, struct out *o)
{
	struct report *r = o->r;
	json_t *root = j_open(d, NULL, NULL, false, false);

	j_str(root, "format", "magslab-report/1");
	j_str(root, "generator", "sink.magslab.report");
	json_params(d, root, r);
	json_trace(d, root, r);
	if (json_discarded(d, root, r)) {
		json_decref(root);
		return NULL;
	}
	json_damage(d, root, r);
	json_phases(d, root, r);
	json_run(d, root, o);
	json_layers(d, root, o);
	json_plots(d, root, o);
	json_caches(d, root, o);
	json_arenas_warnings(d, root, r);
	return root;
}

int json_write_summary(struct out *o)
{
	struct jdoc d = { { 0 }, { 0 } };
	json_t *root = summary_tree(&d, o);
	FILE *f = root ? out_open(o, "summary.json") : NULL;
	int rc = -1;

	if (f) {
		print_value(f, &d, root, 0, false);
		fputc('\n', f);
		rc = out_close(o, f, "summary.json");
	}
	json_decref(root);
	idmap_free(&d.one_line);
	idmap_free(&d.decimals);
	return rc;
}

/* ---- manifest.json -------------------------------------------------------------------- */

/* {"script": NAME.gp, "outputs": [NAME.png, NAME.svg, NAME.js]} per plot. */
static json_t *manifest_plots(void)
{
	json_t *list = json_array();
	int p;

	for (p = 0; p < NR_PLOTS && list; p++) {
		const char *n = ms_plot_names[p];
		char gp[32], png[32], svg[32], js[32];

		snprintf(gp, sizeof(gp), "%s.gp", n);
		snprintf(png, sizeof(png), "%s.png", n);
		snprintf(svg, sizeof(svg), "%s.svg", n);
		snprintf(js, sizeof(js), "%s.js", n);
		put(list, NULL, json_pack("{s:s, s:[s, s, s]}", "script", gp, "outputs", png, svg,
					  js));
	}
	return list;
}

int json_write_manifest(struct out *o)
{
	json_t *root = json_object(), *files = json_array();
	char *text;
	FILE *f;
	uint32_t i;
	int rc = -1;

	if (!root || !files)
		abort();
	put(root, "format", json_string("magslab-report-manifest/1"));
	put(root, "generator", json_string("sink.magslab.report"));
	put(root, "index", json_string("index.html"));
	for (i = 0; i < o->nr_written; i++)
		put(files, NULL, json_text(o->written[i]));
	put(root, "files", files);
	put(root, "plots", manifest_plots());
	text = json_dumps(root, JSON_INDENT(2));
	json_decref(root);
	if (!text)
		abort();
	f = out_open(o, "manifest.json");
	if (f) {
		fprintf(f, "%s\n", text);
		rc = out_close(o, f, "manifest.json");
	}
	free(text);
	return rc;
}
