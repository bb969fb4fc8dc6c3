/*
 * events.c — from messages to per-cache aggregates.
 *
 * Each event class is resolved once (first event of that class): its kind
 * (by name: "magslab:<event>"; per-PID buffers give several classes with the
 * same name, each resolved on its own), its trace class ("domain"), and the
 * index of every payload member the handler reads.  The per-event path is
 * then: a one-entry memo or an open-addressing lookup by class pointer,
 * one clock snapshot, member fields by index, counters.  No allocation
 * happens per event (only when a new cache, arena or process appears).
 *
 * Caches are keyed by (process, cache id), a process by (domain, vpid):
 * vpid from the event common context when the session added it
 * (`lttng add-context -u -t vpid`), else from the trace environment
 * (per-PID buffers), else unknown (-1).  With per-UID buffers and no vpid
 * context, two processes in one trace share a domain and their cache ids
 * collide: a second cache_create for an id already created starts a new
 * cache entry (the older one is kept in the summary as "superseded").
 *
 * Time: ns from the clock's origin; t0 is the first event's time, and every
 * series is in ns since t0.  The muxer delivers messages in time order, so
 * a time bucket is complete once an event of a later bucket arrives: its
 * rows go to the temporary rows file then (flush_buckets).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

const char *const ms_kind_names[K_NKNOWN] = {
	"cache_create", "cache_destroy", "mag_swap", "depot_get", "depot_put", "depot_miss",
	"depot_contention", "magsize_bump", "pcc_magsize", "hash_resize", "slab_grow",
	"slab_release", "reap", "pcc_contention", "arena_create", "arena_destroy",
	"arena_import", "arena_release", "arena_fail", "workload_phase", "alloc", "free",
};
const char *const ms_reason_names[NR_REASONS] = {
	"threshold", "interval", "contended", "shrink", "reap", "user",
};
const char *const ms_policy_names[NR_POLICIES] = { "akaros", "illumos", "uma", "adaptive" };
const char *const ms_layer_names[NR_LAYERS] = { "pcc", "depot", "slab" };
const char *const ms_pcc_mode_names[NR_PCC_MODES + 1] = { "locked", "rseq", "none", "unknown" };
const char *const ms_outcome_names[NR_OUTCOMES] = { "to_slab", "new_magazine", "no_magazine" };

/* The payload members each kind reads, in the order its handler uses them
 * (F0, F1, ...).  Strings are marked with a leading '$'; a leading '?' marks
 * a member that older traces lack (read with fu_opt). */
static const char *const fields[K_NKNOWN][MS_MAX_FIELDS] = {
	[K_CACHE_CREATE] = { "cache", "$name", "obj_size", "nr_pcc", "magsize", "policy",
			     "threshold", "timeout_ns", "uses_bufctl", "source", "?pcc_mode" },
	[K_CACHE_DESTROY] = { "cache" },
	[K_MAG_SWAP] = { "cache", "cpu", "side" },
	[K_DEPOT_GET] = { "cache", "cpu", "side", "rounds", "nr_not_empty", "nr_empty" },
	[K_DEPOT_PUT] = { "cache", "cpu", "side", "rounds", "nr_not_empty", "nr_empty" },
	[K_DEPOT_MISS] = { "cache", "cpu", "side", "outcome" },
	[K_DEPOT_CONTENTION] = { "cache", "cpu", "wait_ns", "busy_count", "counted" },
	[K_MAGSIZE_BUMP] = { "cache", "old", "new", "reason", "busy_count" },
	[K_PCC_MAGSIZE] = { "cache", "cpu", "old", "new" },
	[K_HASH_RESIZE] = { "id", "kind", "old_lists", "new_lists", "items", "duration_ns", "ok" },
	[K_SLAB_GROW] = { "cache", "bytes", "objects" },
	[K_SLAB_RELEASE] = { "cache", "bytes", "objects" },
	[K_REAP] = { "cache", "slabs", "magazines", "bytes" },
	[K_PCC_CONTENTION] = { "cache", "cpu", "wait_ns" },
	[K_ARENA_CREATE] = { "arena", "$name", "quantum", "qcache_max", "source" },
	[K_ARENA_DESTROY] = { "arena" },
	[K_ARENA_IMPORT] = { "arena", "source", "addr", "size" },
	[K_ARENA_RELEASE] = { "arena", "source", "addr", "size" },
	[K_ARENA_FAIL] = { "arena", "size" },
	[K_WORKLOAD_PHASE] = { "$name", "index" },
	[K_ALLOC] = { "cache", "cpu", "ptr", "layer" },
	[K_FREE] = { "cache", "cpu", "ptr", "layer" },
};

/* ---- a small map from 64-bit keys to indices ----------------------------- */

static inline uint32_t idmap_slot(uint64_t key, uint32_t cap)
{
	return (uint32_t)((key * 0x9E3779B97F4A7C15ull) >> 32) & (cap - 1);
}

uint32_t idmap_get(const struct idmap *m, uint64_t key)
{
	uint32_t i;

	if (!m->cap)
		return 0;
	for (i = idmap_slot(key, m->cap); m->vals[i]; i = (i + 1) & (m->cap - 1))
		if (m->keys[i] == key)
			return m->vals[i];
	return 0;
}

/* val: index + 1.  Replaces the value of an existing key. */
int idmap_put(struct idmap *m, uint64_t key, uint32_t val)
{
	uint32_t i;

	if ((m->used + 1) * 2 > m->cap) {
		struct idmap n = { 0 };
		uint32_t j;

		n.cap = m->cap ? m->cap * 2 : 64;
		n.keys = calloc(n.cap, sizeof(*n.keys));
		n.vals = calloc(n.cap, sizeof(*n.vals));
		if (!n.keys || !n.vals) {
			free(n.keys);
			free(n.vals);
			return -1;
		}
		for (j = 0; j < m->cap; j++) {
			if (!m->vals[j])
				continue;
			for (i = idmap_slot(m->keys[j], n.cap); n.vals[i]; i = (i + 1) & (n.cap - 1))
				;
			n.keys[i] = m->keys[j];
			n.vals[i] = m->vals[j];
			n.used++;
		}
		free(m->keys);
		free(m->vals);
		*m = n;
	}
	for (i = idmap_slot(key, m->cap); m->vals[i]; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == key) {
			m->vals[i] = val;
			return 0;
		}
	}
	m->keys[i] = key;
	m->vals[i] = val;
	m->used++;
	return 0;
}

static void idmap_free(struct idmap *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

/* ---- domains, traces, processes ------------------------------------------ */

static uint32_t domain_of(struct report *r, const bt_trace_class *tc)
{
	uint32_t i;

	for (i = 0; i < r->nr_domains; i++)
		if (r->domains[i] == tc)
			return i;
	r->domains = ms_xrealloc(r->domains, (r->nr_domains + 1) * sizeof(*r->domains));
	r->domains[r->nr_domains] = tc;
	bt_trace_class_get_ref(tc);	/* known by address: it must outlive us */
	return r->nr_domains++;
}

static char *env_string(const bt_trace *t, const char *name)
{
	const bt_value *v = bt_trace_borrow_environment_entry_value_by_name_const(t, name);

	return v && bt_value_is_string(v) ? ms_strdup(bt_value_string_get(v)) : NULL;
}

static int64_t env_int(const bt_trace *t, const char *name)
{
	const bt_value *v = bt_trace_borrow_environment_entry_value_by_name_const(t, name);

	if (v && bt_value_is_signed_integer(v))
		return bt_value_integer_signed_get(v);
	if (v && bt_value_is_unsigned_integer(v))
		return (int64_t)bt_value_integer_unsigned_get(v);
	return -1;
}

int events_stream_beginning(struct report *r, const bt_message *msg)
{
	const bt_stream *s = bt_message_stream_beginning_borrow_stream_const(msg);
	const bt_trace *t = bt_stream_borrow_trace_const(s);
	struct trace_info *ti;
	uint32_t i;

	for (i = 0; i < r->nr_traces; i++)
		if (r->traces[i].trace == t)
			return 0;
	r->traces = ms_xrealloc(r->traces, (r->nr_traces + 1) * sizeof(*r->traces));
	ti = &r->traces[r->nr_traces++];
	memset(ti, 0, sizeof(*ti));
	ti->trace = t;
	bt_trace_get_ref(t);
	ti->domain = domain_of(r, bt_trace_borrow_class_const(t));
	ti->name = bt_trace_get_name(t) ? ms_strdup(bt_trace_get_name(t)) : NULL;
	ti->hostname = env_string(t, "hostname");
	ti->procname = env_string(t, "procname");
	ti->domain_name = env_string(t, "domain");
	ti->tracer = env_string(t, "tracer_name");
	ti->vpid = env_int(t, "vpid");
	return 0;
}

static int64_t domain_env_vpid(const struct report *r, uint32_t domain)
{
	uint32_t i;

	for (i = 0; i < r->nr_traces; i++)
		if (r->traces[i].domain == domain)
			return r->traces[i].vpid;
	return -1;
}

static uint32_t proc_of(struct report *r, uint32_t domain, int64_t vpid)
{
	uint32_t i;

	if (r->nr_procs && r->last_proc_domain == domain && r->last_proc_vpid == vpid)
		return r->last_proc;
	for (i = 0; i < r->nr_procs; i++)
		if (r->procs[i].domain == domain && r->procs[i].vpid == vpid)
			break;
	if (i == r->nr_procs) {
		r->procs = ms_xrealloc(r->procs, (r->nr_procs + 1) * sizeof(*r->procs));
		r->procs[i].domain = domain;
		r->procs[i].vpid = vpid;
		r->nr_procs++;
	}
	r->last_proc_domain = domain;
	r->last_proc_vpid = vpid;
	r->last_proc = i;
	return i;
}

/* ---- event classes -------------------------------------------------------- */

static int member_index(const bt_field_class *st, const char *name, const bt_field_class **fc)
{
	uint64_t i, n;

	if (!st || bt_field_class_get_type(st) != BT_FIELD_CLASS_TYPE_STRUCTURE)
		return -1;
	n = bt_field_class_structure_get_member_count(st);
	for (i = 0; i < n; i++) {
		const bt_field_class_structure_member *m =
			bt_field_class_structure_borrow_member_by_index_const(st, i);

		if (strcmp(bt_field_class_structure_member_get_name(m), name) == 0) {
			*fc = bt_field_class_structure_member_borrow_field_class_const(m);
			return (int)i;
		}
	}
	return -1;
}

static int kind_of(const char *name)
{
	int k;

	if (!name || strncmp(name, "magslab:", 8) != 0)
		return K_FOREIGN;
	for (k = 0; k < K_NKNOWN; k++)
		if (strcmp(name + 8, ms_kind_names[k]) == 0)
			return k;
	return K_OTHER_MAGSLAB;
}

static struct evclass *ec_resolve(struct report *r, const bt_event_class *cls)
{
	const bt_stream_class *sc = bt_event_class_borrow_stream_class_const(cls);
	const bt_field_class *payload = bt_event_class_borrow_payload_field_class_const(cls);
	const bt_field_class *ctx = bt_stream_class_borrow_event_common_context_field_class_const(sc);
	const bt_field_class *fc;
	struct evclass *ec = calloc(1, sizeof(*ec));
	const char *name = bt_event_class_get_name(cls);
	int f;

	if (!ec)
		return NULL;
	ec->cls = cls;
	bt_event_class_get_ref(cls);	/* the map is keyed by its address */
	ec->name = ms_strdup(name ? name : "(unnamed)");
	ec->kind = kind_of(name);
	ec->domain = domain_of(r, bt_stream_class_borrow_trace_class_const(sc));
	ec->has_clock = bt_stream_class_borrow_default_clock_class_const(sc) != NULL;
	if (ec->has_clock) {
		const bt_clock_class *cc = bt_stream_class_borrow_default_clock_class_const(sc);
		int64_t off_s;
		uint64_t off_c;

		if (r->nr_ecs == 0)
			r->clock_unix_epoch = bt_clock_class_origin_is_unix_epoch(cc);
		/* LTTng's clocks count ns: skip the general conversion then. */
		bt_clock_class_get_offset(cc, &off_s, &off_c);
		if (bt_clock_class_get_frequency(cc) == 1000000000u && off_s >= 0 &&
		    off_s < INT64_MAX / 2000000000 && off_c < 1000000000u) {
			ec->clock_ns = true;
			ec->clock_base = off_s * 1000000000 + (int64_t)off_c;
		}
	}
	ec->vpid_idx = member_index(ctx, "vpid", &fc);
	if (ec->vpid_idx >= 0) {
		if (bt_field_class_type_is(bt_field_class_get_type(fc),
					   BT_FIELD_CLASS_TYPE_SIGNED_INTEGER))
			ec->vpid_signed = true;
		else if (!bt_field_class_type_is(bt_field_class_get_type(fc),
						 BT_FIELD_CLASS_TYPE_UNSIGNED_INTEGER))
			ec->vpid_idx = -1;
	}
	ec->env_vpid = domain_env_vpid(r, ec->domain);
	ec->proc = proc_of(r, ec->domain, ec->env_vpid);
	if (ec->kind < K_NKNOWN) {
		for (f = 0; f < MS_MAX_FIELDS && fields[ec->kind][f]; f++) {
			const char *fname = fields[ec->kind][f];
			bool want_string = fname[0] == '$';
			bool optional = fname[0] == '?';
			bt_field_class_type ty;

			if (want_string || optional)
				fname++;
			ec->idx[f] = member_index(payload, fname, &fc);
			if (ec->idx[f] < 0 && optional)
				continue;
			if (ec->idx[f] < 0) {
				report_warn(r, "event class %s has no payload field '%s': "
					    "its events are counted but not analysed", ec->name, fname);
				ec->kind = K_UNUSABLE;
				break;
			}
			ty = bt_field_class_get_type(fc);
			if (want_string && ty == BT_FIELD_CLASS_TYPE_STRING) {
				ec->is_string |= 1u << f;
			} else if (!want_string &&
				   bt_field_class_type_is(ty, BT_FIELD_CLASS_TYPE_SIGNED_INTEGER)) {
				ec->is_signed |= 1u << f;
			} else if (want_string || (!bt_field_class_type_is(ty,
					BT_FIELD_CLASS_TYPE_UNSIGNED_INTEGER) &&
					ty != BT_FIELD_CLASS_TYPE_BOOL)) {
				report_warn(r, "event class %s: field '%s' is not %s: its events "
					    "are counted but not analysed", ec->name, fname,
					    want_string ? "a string" : "an integer");
				ec->kind = K_UNUSABLE;
				break;
			} else if (ty == BT_FIELD_CLASS_TYPE_BOOL) {
				ec->is_bool |= 1u << f;
			}
		}
	}
	if (r->nr_ecs == r->cap_ecs) {
		r->cap_ecs = r->cap_ecs ? r->cap_ecs * 2 : 32;
		r->ecs = ms_xrealloc(r->ecs, r->cap_ecs * sizeof(*r->ecs));
	}
	r->ecs[r->nr_ecs++] = ec;
	if (idmap_put(&r->ec_map, (uint64_t)(uintptr_t)cls, r->nr_ecs)) {
		r->nr_ecs--;
		bt_event_class_put_ref(cls);
		free(ec->name);
		free(ec);
		return NULL;
	}
	return ec;
}

/* ---- field access ---------------------------------------------------------- */

static inline uint64_t fu(const bt_field *payload, const struct evclass *ec, int f)
{
	const bt_field *x = bt_field_structure_borrow_member_field_by_index_const(
		payload, (uint64_t)ec->idx[f]);

	if (ec->is_signed & (1u << f)) {
		int64_t v = bt_field_integer_signed_get_value(x);

		return v < 0 ? 0 : (uint64_t)v;
	}
	if (ec->is_bool & (1u << f))
		return bt_field_bool_get_value(x) ? 1 : 0;
	return bt_field_integer_unsigned_get_value(x);
}

/* A '?' member: dflt where the trace has none. */
static inline uint64_t fu_opt(const bt_field *payload, const struct evclass *ec, int f,
			      uint64_t dflt)
{
	return ec->idx[f] < 0 ? dflt : fu(payload, ec, f);
}

static inline const char *fs(const bt_field *payload, const struct evclass *ec, int f)
{
	return bt_field_string_get_value(bt_field_structure_borrow_member_field_by_index_const(
		payload, (uint64_t)ec->idx[f]));
}

static int64_t vpid_of(const struct evclass *ec, const bt_event *ev)
{
	const bt_field *ctx, *x;

	if (ec->vpid_idx < 0)
		return ec->env_vpid;
	ctx = bt_event_borrow_common_context_field_const(ev);
	if (!ctx)
		return ec->env_vpid;
	x = bt_field_structure_borrow_member_field_by_index_const(ctx, (uint64_t)ec->vpid_idx);
	if (ec->vpid_signed)
		return bt_field_integer_signed_get_value(x);
	return (int64_t)bt_field_integer_unsigned_get_value(x);
}

/* ---- caches and arenas ----------------------------------------------------- */

static struct cache *cache_new(struct report *r, uint32_t proc, uint32_t id, uint64_t t)
{
	struct cache *c = calloc(1, sizeof(*c));
	char name[32];

	if (!c)
		return NULL;
	if (r->nr_caches == r->cap_caches) {
		r->cap_caches = r->cap_caches ? r->cap_caches * 2 : 32;
		r->caches = ms_xrealloc(r->caches, r->cap_caches * sizeof(*r->caches));
	}
	snprintf(name, sizeof(name), "cache#%" PRIu32, id);
	c->index = r->nr_caches;
	c->proc = proc;
	c->id = id;
	c->name = ms_strdup(name);
	c->t_first = t;
	c->pcc_mode = PCC_MODE_UNKNOWN;
	c->magsize_min = UINT32_MAX;
	c->pcc_magsize_min = UINT32_MAX;
	c->plot_slot = -1;
	r->caches[r->nr_caches++] = c;
	if (idmap_put(&r->cache_map, (uint64_t)proc << 32 | id, r->nr_caches)) {
		r->nr_caches--;
		free(c->name);
		free(c);
		return NULL;
	}
	return c;
}

static inline struct cache *cache_of(struct report *r, struct evclass *ec,
				     const bt_event *ev, uint32_t id, uint64_t t)
{
	uint32_t proc = ec->vpid_idx < 0 ? ec->proc : proc_of(r, ec->domain, vpid_of(ec, ev));
	uint64_t key = (uint64_t)proc << 32 | id;
	struct cache *c;

	/* Most events of a class are about the cache its previous event was about. */
	if (ec->memo_cache && ec->memo_key == key && ec->memo_gen == r->cache_gen) {
		c = ec->memo_cache;
	} else {
		uint32_t i = idmap_get(&r->cache_map, key);

		c = i ? r->caches[i - 1] : cache_new(r, proc, id, t);
		if (!c)
			return NULL;
		ec->memo_cache = c;
		ec->memo_key = key;
		ec->memo_gen = r->cache_gen;
	}
	c->t_last = t;
	if (!c->dirty) {
		if (r->nr_dirty == r->cap_dirty) {
			r->cap_dirty = r->cap_dirty ? r->cap_dirty * 2 : 64;
			r->dirty = ms_xrealloc(r->dirty, r->cap_dirty * sizeof(*r->dirty));
		}
		r->dirty[r->nr_dirty++] = c->index;
		c->dirty = true;
	}
	return c;
}

static struct arena *arena_of(struct report *r, const struct evclass *ec, const bt_event *ev,
			      uint32_t id)
{
	uint32_t proc = proc_of(r, ec->domain, vpid_of(ec, ev));
	uint64_t key = (uint64_t)proc << 32 | id;
	uint32_t i = idmap_get(&r->arena_map, key);
	struct arena *a;
	char name[32];

	if (i)
		return r->arenas[i - 1];
	a = calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	if (r->nr_arenas == r->cap_arenas) {
		r->cap_arenas = r->cap_arenas ? r->cap_arenas * 2 : 16;
		r->arenas = ms_xrealloc(r->arenas, r->cap_arenas * sizeof(*r->arenas));
	}
	snprintf(name, sizeof(name), "arena#%" PRIu32, id);
	a->index = r->nr_arenas;
	a->proc = proc;
	a->id = id;
	a->name = ms_strdup(name);
	a->plot_slot = -1;
	r->arenas[r->nr_arenas++] = a;
	if (idmap_put(&r->arena_map, key, r->nr_arenas)) {
		r->nr_arenas--;
		free(a->name);
		free(a);
		return NULL;
	}
	return a;
}

static int put_event_rec(struct report *r, uint32_t type, uint32_t idx, uint64_t t,
			 uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t e, uint64_t f)
{
	struct event_rec rec = { type, idx, t, { a, b, c, d, e, f } };

	if (fwrite(&rec, sizeof(rec), 1, r->ev_f) != 1) {
		report_error(r, "cannot write a temporary file (disk full?)");
		return -1;
	}
	return 0;
}

static void hash_event(struct hash_stats *h, uint64_t old, uint64_t new, uint64_t items,
		       uint64_t dur, bool ok)
{
	if (!h->resizes && !h->failed)
		h->first_lists = old;
	if (ok) {
		h->resizes++;
		h->lists = new;
	} else {
		h->failed++;
	}
	if (items > h->items_max)
		h->items_max = items;
	h->dur_sum += dur;
	if (dur > h->dur_max)
		h->dur_max = dur;
}

/* ---- time buckets ------------------------------------------------------------ */

static uint64_t hist_percentile(const uint32_t *hist, uint64_t total, uint64_t max,
				unsigned int pct)
{
	uint64_t want = (total * pct + 99) / 100, seen = 0;
	unsigned int i;

	if (!total)
		return 0;
	if (want == 0)
		want = 1;
	for (i = 0; i < MS_HIST_N; i++) {
		seen += hist[i];
		if (seen >= want) {
			uint64_t u = ms_hist_upper(i);

			return u < max ? u : max;
		}
	}
	return max;
}

/* The cache's totals: the sums of its buckets (counted once per event, in the bucket). */
static void merge_totals(struct cache *c, const struct bucket_acc *a)
{
	unsigned int i;
	int k;

	for (k = 0; k < 2; k++) {
		c->swaps[k] += a->swaps[k];
		c->gets[k] += a->gets[k];
		c->puts[k] += a->puts[k];
		c->misses[k] += a->misses[k];
		c->rounds_got[k] += a->rounds_got[k];
	}
	for (k = 0; k < NR_LAYERS; k++) {
		c->allocs[k] += a->allocs[k];
		c->frees[k] += a->frees[k];
	}
	if (a->nne_max > c->nne_max)
		c->nne_max = a->nne_max;
	if (a->ne_max > c->ne_max)
		c->ne_max = a->ne_max;
	c->pcc_contended += a->pcc_contended;
	if (a->contended) {
		c->contended += a->contended;
		c->counted += a->counted;
		c->wait_sum += a->wait_sum;
		if (a->wait_max > c->wait_max)
			c->wait_max = a->wait_max;
		for (i = 0; i < MS_HIST_N; i++)
			c->hist[i] += a->hist[i];
	}
}

static int flush_buckets(struct report *r)
{
	uint32_t k;

	for (k = 0; k < r->nr_dirty; k++) {
		struct cache *c = r->caches[r->dirty[k]];
		struct bucket_acc *a = &c->acc;
		struct bucket_row row;

		memset(&row, 0, sizeof(row));
		row.bucket = r->cur_bucket;
		row.cache = r->dirty[k];
		row.depot_seen = a->depot_seen;
		row.contended = a->contended;
		row.counted = a->counted;
		row.wait_sum = a->wait_sum;
		row.wait_max = a->wait_max;
		row.wait_p50 = hist_percentile(a->hist, a->contended, a->wait_max, 50);
		row.wait_p99 = hist_percentile(a->hist, a->contended, a->wait_max, 99);
		row.pcc_contended = a->pcc_contended;
		memcpy(row.gets, a->gets, sizeof(row.gets));
		memcpy(row.puts, a->puts, sizeof(row.puts));
		memcpy(row.misses, a->misses, sizeof(row.misses));
		memcpy(row.rounds_got, a->rounds_got, sizeof(row.rounds_got));
		memcpy(row.swaps, a->swaps, sizeof(row.swaps));
		row.nne_last = c->nne;
		row.ne_last = c->ne;
		row.nne_max = a->nne_max;
		row.ne_max = a->ne_max;
		memcpy(row.allocs, a->allocs, sizeof(row.allocs));
		memcpy(row.frees, a->frees, sizeof(row.frees));
		row.bumps = a->bumps;
		row.magsize = c->magsize;
		if (fwrite(&row, sizeof(row), 1, r->rows_f) != 1) {
			report_error(r, "cannot write a temporary file (disk full?)");
			return -1;
		}
		r->nr_rows++;
		merge_totals(c, a);
		if (a->contended)
			memset(a, 0, sizeof(*a));
		else
			memset(a, 0, offsetof(struct bucket_acc, hist));
		c->dirty = false;
	}
	r->nr_dirty = 0;
	return 0;
}

/* The event's time, in ns since t0; closes the buckets it leaves behind. */
static inline int advance(struct report *r, uint64_t t, uint64_t *rel)
{
	if (!r->have_t0) {
		r->have_t0 = true;
		r->t0 = t;
		r->t_last = t;
		r->cur_bucket = 0;
		r->bucket_end = r->bucket_ns;
	}
	if (t < r->t_last)
		t = r->t_last;		/* only without a clock: time does not go back */
	r->t_last = t;
	*rel = t - r->t0;
	if (*rel >= r->bucket_end) {
		if (flush_buckets(r))
			return -1;
		r->cur_bucket = *rel / r->bucket_ns;
		r->bucket_end = (r->cur_bucket + 1) * r->bucket_ns;
	}
	return 0;
}

/* ---- the handlers ------------------------------------------------------------------ */

#define SIDE(v) ((v) ? SIDE_FREE : SIDE_ALLOC)

static int on_cache_create(struct report *r, struct evclass *ec, const bt_event *ev,
			   const bt_field *p, uint64_t t)
{
	uint32_t id = (uint32_t)fu(p, ec, 0);
	uint32_t proc = proc_of(r, ec->domain, vpid_of(ec, ev));
	uint32_t i = idmap_get(&r->cache_map, (uint64_t)proc << 32 | id);
	struct cache *c = i ? r->caches[i - 1] : NULL;
	const char *name = fs(p, ec, 1);

	if (c && c->created) {
		/* Another process with the same cache id (no vpid to tell them apart). */
		c->superseded = true;
		c = cache_new(r, proc, id, t);
		r->cache_gen++;		/* the memos of cache_of may point to the old one */
	} else if (!c) {
		c = cache_new(r, proc, id, t);
	}
	if (!c)
		return -1;
	c->created = true;
	free(c->name);
	c->name = ms_strdup(name ? name : "");
	c->obj_size = fu(p, ec, 2);
	c->nr_pcc = (uint32_t)fu(p, ec, 3);
	c->magsize0 = (uint32_t)fu(p, ec, 4);
	c->policy = (uint32_t)fu(p, ec, 5);
	c->threshold = fu(p, ec, 6);
	c->timeout_ns = fu(p, ec, 7);
	c->uses_bufctl = fu(p, ec, 8) != 0;
	c->source = (uint32_t)fu(p, ec, 9);
	c->pcc_mode = (uint32_t)fu_opt(p, ec, 10, PCC_MODE_UNKNOWN);
	if (c->pcc_mode > PCC_MODE_UNKNOWN)
		c->pcc_mode = PCC_MODE_UNKNOWN;
	c->t_create = t;
	if (!c->magsize_known) {
		c->magsize_known = true;
		c->magsize = c->magsize_max = c->magsize_min = c->magsize0;
	}
	sanity_cache_create(r, c);
	c = cache_of(r, ec, ev, id, t);
	if (!c)
		return -1;
	c->n[K_CACHE_CREATE]++;
	return 0;
}

/* The numeric payload fields 1..5 of the event (0 where the kind has none), for sanity.c. */
static void read_fields(const bt_field *p, const struct evclass *ec, uint64_t *v)
{
	for (int f = 0; f < 6; f++)
		v[f] = f && fields[ec->kind][f] && !(ec->is_string & (1u << f)) ? fu(p, ec, f) : 0;
}

static int on_cache_event(struct report *r, struct evclass *ec, const bt_event *ev,
			  const bt_field *p, uint64_t t)
{
	struct cache *c = cache_of(r, ec, ev, (uint32_t)fu(p, ec, 0), t);
	struct bucket_acc *a;
	uint64_t x, y, side, v[6];

	if (!c)
		return -1;
	a = &c->acc;
	c->n[ec->kind]++;
	read_fields(p, ec, v);
	sanity_cache_event(r, c, ec->kind, v, t);
	switch (ec->kind) {
	case K_CACHE_DESTROY:
		c->destroyed = true;
		break;
	case K_MAG_SWAP:
		side = SIDE(fu(p, ec, 2));
		a->swaps[side]++;
		break;
	case K_DEPOT_GET:
	case K_DEPOT_PUT:
		side = SIDE(fu(p, ec, 2));
		x = fu(p, ec, 4);
		y = fu(p, ec, 5);
		if (ec->kind == K_DEPOT_GET) {
			uint64_t rounds = fu(p, ec, 3);

			a->gets[side]++;
			a->rounds_got[side] += rounds;
		} else {
			a->puts[side]++;
		}
		c->depot_known = true;
		c->nne = x;
		c->ne = y;
		if (x > a->nne_max)
			a->nne_max = x;
		if (y > a->ne_max)
			a->ne_max = y;
		a->depot_seen = true;
		break;
	case K_DEPOT_MISS:
		side = SIDE(fu(p, ec, 2));
		x = fu(p, ec, 3);
		a->misses[side]++;
		if (x < NR_OUTCOMES)
			c->miss_outcome[x]++;
		break;
	case K_DEPOT_CONTENTION:
		x = fu(p, ec, 2);
		a->contended++;
		if (fu(p, ec, 4))
			a->counted++;
		a->wait_sum += x;
		if (x > a->wait_max)
			a->wait_max = x;
		a->hist[ms_hist_index(x)]++;
		break;
	case K_MAGSIZE_BUMP: {
		uint64_t old = fu(p, ec, 1), new = fu(p, ec, 2), reason = fu(p, ec, 3);

		if (new > old)
			c->bumps_up++;
		else if (new < old)
			c->bumps_down++;
		c->bump_reason[reason < NR_REASONS ? reason : NR_REASONS]++;
		if (!c->magsize_known) {
			c->magsize_known = true;
			c->magsize0 = (uint32_t)old;
			c->magsize_max = c->magsize_min = (uint32_t)old;
		}
		c->magsize = (uint32_t)new;
		if (c->magsize > c->magsize_max)
			c->magsize_max = c->magsize;
		if (c->magsize < c->magsize_min)
			c->magsize_min = c->magsize;
		a->bumps++;
		return put_event_rec(r, ER_BUMP, c->index, t, old, new, reason, fu(p, ec, 4),
				     0, 0);
	}
	case K_PCC_MAGSIZE:
		x = fu(p, ec, 3);
		if (x < c->pcc_magsize_min)
			c->pcc_magsize_min = (uint32_t)x;
		if (x > c->pcc_magsize_max)
			c->pcc_magsize_max = (uint32_t)x;
		return put_event_rec(r, ER_PCC_MAGSIZE, c->index, t, fu(p, ec, 1), fu(p, ec, 2), x,
				     0, 0, 0);
	case K_SLAB_GROW:
		c->slab_grows++;
		c->bytes_grown += fu(p, ec, 1);
		c->mag_objects += fu(p, ec, 2);
		break;
	case K_SLAB_RELEASE:
		c->slab_releases++;
		c->bytes_released += fu(p, ec, 1);
		break;
	case K_REAP:
		c->reaps++;
		c->reap_slabs += fu(p, ec, 1);
		c->reap_mags += fu(p, ec, 2);
		c->reap_bytes += fu(p, ec, 3);
		break;
	case K_PCC_CONTENTION:
		x = fu(p, ec, 2);
		a->pcc_contended++;
		c->pcc_wait_sum += x;
		if (x > c->pcc_wait_max)
			c->pcc_wait_max = x;
		break;
	case K_ALLOC:
	case K_FREE:
		x = fu(p, ec, 3);
		if (x >= NR_LAYERS)
			x = NR_LAYERS - 1;
		if (ec->kind == K_ALLOC)
			a->allocs[x]++;
		else
			a->frees[x]++;
		r->any_alloc_events = true;
		break;
	default:
		break;
	}
	return 0;
}

static int on_hash_resize(struct report *r, struct evclass *ec, const bt_event *ev,
			  const bt_field *p, uint64_t t)
{
	uint32_t id = (uint32_t)fu(p, ec, 0);
	uint64_t kind = fu(p, ec, 1), old = fu(p, ec, 2), new = fu(p, ec, 3);
	uint64_t items = fu(p, ec, 4), dur = fu(p, ec, 5), ok = fu(p, ec, 6) != 0;
	uint32_t idx;

	sanity_hash(r, kind, fu(p, ec, 6), id);
	if (kind == HASH_KIND_CACHE) {
		struct cache *c = cache_of(r, ec, ev, id, t);

		if (!c)
			return -1;
		c->n[K_HASH_RESIZE]++;
		hash_event(&c->hash, old, new, items, dur, ok);
		idx = c->index;
	} else {
		struct arena *a = arena_of(r, ec, ev, id);

		if (!a)
			return -1;
		hash_event(&a->hash, old, new, items, dur, ok);
		idx = a->index;
		kind = HASH_KIND_ARENA;
	}
	return put_event_rec(r, ER_HASH, idx, t, old, new, items, dur, ok, kind);
}

static int on_arena_event(struct report *r, const struct evclass *ec, const bt_event *ev,
			  const bt_field *p, uint64_t t)
{
	struct arena *a = arena_of(r, ec, ev, (uint32_t)fu(p, ec, 0));
	const char *name;

	(void)t;
	if (!a)
		return -1;
	switch (ec->kind) {
	case K_ARENA_CREATE:
		name = fs(p, ec, 1);
		free(a->name);
		a->name = ms_strdup(name ? name : "");
		a->created = true;
		a->quantum = fu(p, ec, 2);
		a->qcache_max = fu(p, ec, 3);
		a->source = (uint32_t)fu(p, ec, 4);
		sanity_arena_create(r, a);
		break;
	case K_ARENA_DESTROY:
		a->destroyed = true;
		break;
	case K_ARENA_IMPORT:
		a->imports++;
		a->bytes_imported += fu(p, ec, 3);
		break;
	case K_ARENA_RELEASE:
		a->releases++;
		a->bytes_released += fu(p, ec, 3);
		break;
	case K_ARENA_FAIL:
		a->fails++;
		break;
	default:
		break;
	}
	return 0;
}

static int on_phase(struct report *r, const struct evclass *ec, const bt_field *p, uint64_t t)
{
	const char *name = fs(p, ec, 0);
	uint32_t index = (uint32_t)fu(p, ec, 1);
	uint32_t len;

	if (!name)
		name = "";
	len = (uint32_t)strnlen(name, 200);
	if (r->nr_phases_kept < MS_PHASES_KEPT) {
		struct phase *ph;

		if (!r->phases)
			r->phases = ms_xrealloc(NULL, MS_PHASES_KEPT * sizeof(*r->phases));
		ph = &r->phases[r->nr_phases_kept++];
		ph->t = t;
		ph->index = index;
		ph->name = strndup(name, len);
		if (!ph->name)
			return -1;
	}
	r->nr_phases++;
	if (fwrite(&t, sizeof(t), 1, r->phase_f) != 1 ||
	    fwrite(&index, sizeof(index), 1, r->phase_f) != 1 ||
	    fwrite(&len, sizeof(len), 1, r->phase_f) != 1 ||
	    (len && fwrite(name, len, 1, r->phase_f) != 1)) {
		report_error(r, "cannot write a temporary file (disk full?)");
		return -1;
	}
	return 0;
}

int events_handle(struct report *r, const bt_message *msg)
{
	const bt_event *ev = bt_message_event_borrow_event_const(msg);
	const bt_event_class *cls = bt_event_borrow_class_const(ev);
	struct evclass *ec;
	const bt_field *p;
	uint64_t t, rel;

	unsigned int slot = (unsigned int)((uintptr_t)cls >> 4) & 15u;

	if (r->ec_cache[slot].cls == cls) {
		ec = r->ec_cache[slot].ec;
	} else {
		uint32_t i = idmap_get(&r->ec_map, (uint64_t)(uintptr_t)cls);

		ec = i ? r->ecs[i - 1] : ec_resolve(r, cls);
		if (!ec) {
			report_error(r, "out of memory");
			return -1;
		}
		r->ec_cache[slot].cls = cls;
		r->ec_cache[slot].ec = ec;
	}
	r->events++;
	ec->count++;
	t = r->t_last;
	if (ec->has_clock) {
		const bt_clock_snapshot *cs = bt_message_event_borrow_default_clock_snapshot_const(msg);
		int64_t ns;

		if (ec->clock_ns) {
			uint64_t v = bt_clock_snapshot_get_value(cs);

			if (v < (uint64_t)INT64_MAX - (uint64_t)ec->clock_base)
				t = (uint64_t)ec->clock_base + v;
		} else if (bt_clock_snapshot_get_ns_from_origin(cs, &ns) ==
			   BT_CLOCK_SNAPSHOT_GET_NS_FROM_ORIGIN_STATUS_OK && ns > 0) {
			t = (uint64_t)ns;
		}
	}
	if (advance(r, t, &rel))
		return -1;
	r->kind_events[ec->kind]++;
	if (ec->kind == K_FOREIGN)
		return 0;
	r->magslab_events++;
	if (ec->kind >= K_NKNOWN)
		return 0;
	p = bt_event_borrow_payload_field_const(ev);
	switch (ec->kind) {
	case K_CACHE_CREATE:
		return on_cache_create(r, ec, ev, p, rel);
	case K_HASH_RESIZE:
		return on_hash_resize(r, ec, ev, p, rel);
	case K_ARENA_CREATE:
	case K_ARENA_DESTROY:
	case K_ARENA_IMPORT:
	case K_ARENA_RELEASE:
	case K_ARENA_FAIL:
		return on_arena_event(r, ec, ev, p, rel);
	case K_WORKLOAD_PHASE:
		return on_phase(r, ec, p, rel);
	default:
		return on_cache_event(r, ec, ev, p, rel);
	}
}

/* ---- discarded events and packets ---------------------------------------------- */

static int close_window(struct report *r)
{
	uint64_t w[2] = { r->win_b, r->win_e };

	if (!r->win_open)
		return 0;
	r->win_open = false;
	r->nr_windows++;
	if (fwrite(w, sizeof(w), 1, r->win_f) != 1) {
		report_error(r, "cannot write a temporary file (disk full?)");
		return -1;
	}
	return 0;
}

int events_discarded(struct report *r, const bt_message *msg, bool packets)
{
	const bt_stream *s;
	const bt_clock_snapshot *cb, *ce;
	bt_property_availability av;
	uint64_t count = 0;
	int64_t b, e;
	bool have_cs;

	if (packets) {
		s = bt_message_discarded_packets_borrow_stream_const(msg);
		have_cs = bt_stream_class_discarded_packets_have_default_clock_snapshots(
			bt_stream_borrow_class_const(s));
		av = bt_message_discarded_packets_get_count(msg, &count);
		r->disc_packet_msgs++;
		if (av == BT_PROPERTY_AVAILABILITY_AVAILABLE)
			r->disc_packets += count;
	} else {
		s = bt_message_discarded_events_borrow_stream_const(msg);
		have_cs = bt_stream_class_discarded_events_have_default_clock_snapshots(
			bt_stream_borrow_class_const(s));
		av = bt_message_discarded_events_get_count(msg, &count);
		r->disc_event_msgs++;
		if (av == BT_PROPERTY_AVAILABILITY_AVAILABLE)
			r->disc_events += count;
	}
	if (av != BT_PROPERTY_AVAILABILITY_AVAILABLE)
		r->disc_unknown_count++;
	if (!have_cs) {
		r->disc_no_window++;
		return 0;
	}
	if (packets) {
		cb = bt_message_discarded_packets_borrow_beginning_default_clock_snapshot_const(msg);
		ce = bt_message_discarded_packets_borrow_end_default_clock_snapshot_const(msg);
	} else {
		cb = bt_message_discarded_events_borrow_beginning_default_clock_snapshot_const(msg);
		ce = bt_message_discarded_events_borrow_end_default_clock_snapshot_const(msg);
	}
	if (bt_clock_snapshot_get_ns_from_origin(cb, &b) != BT_CLOCK_SNAPSHOT_GET_NS_FROM_ORIGIN_STATUS_OK ||
	    bt_clock_snapshot_get_ns_from_origin(ce, &e) != BT_CLOCK_SNAPSHOT_GET_NS_FROM_ORIGIN_STATUS_OK ||
	    b < 0 || e < b) {
		r->disc_no_window++;
		return 0;
	}
	if (!r->disc_first || (uint64_t)b < r->disc_first)
		r->disc_first = (uint64_t)b;
	if ((uint64_t)e > r->disc_last)
		r->disc_last = (uint64_t)e;
	/* Merge overlapping windows (several streams lose events at once). */
	if (r->win_open && (uint64_t)b <= r->win_e) {
		if ((uint64_t)b < r->win_b)
			r->win_b = (uint64_t)b;
		if ((uint64_t)e > r->win_e)
			r->win_e = (uint64_t)e;
		return 0;
	}
	if (close_window(r))
		return -1;
	r->win_open = true;
	r->win_b = (uint64_t)b;
	r->win_e = (uint64_t)e;
	return 0;
}

int events_end(struct report *r)
{
	if (flush_buckets(r) || close_window(r))
		return -1;
	sanity_end(r);
	if (fflush(r->rows_f) || fflush(r->ev_f) || fflush(r->phase_f) || fflush(r->win_f)) {
		report_error(r, "cannot write a temporary file (disk full?)");
		return -1;
	}
	return 0;
}

void events_free(struct report *r)
{
	uint32_t i;

	for (i = 0; i < r->nr_ecs; i++) {
		bt_event_class_put_ref(r->ecs[i]->cls);
		free(r->ecs[i]->name);
		free(r->ecs[i]);
	}
	free(r->ecs);
	idmap_free(&r->ec_map);
	for (i = 0; i < r->nr_caches; i++) {
		free(r->caches[i]->name);
		free(r->caches[i]);
	}
	free(r->caches);
	idmap_free(&r->cache_map);
	for (i = 0; i < r->nr_arenas; i++) {
		free(r->arenas[i]->name);
		free(r->arenas[i]);
	}
	free(r->arenas);
	idmap_free(&r->arena_map);
	for (i = 0; i < r->nr_traces; i++) {
		bt_trace_put_ref(r->traces[i].trace);
		free(r->traces[i].name);
		free(r->traces[i].hostname);
		free(r->traces[i].procname);
		free(r->traces[i].domain_name);
		free(r->traces[i].tracer);
	}
	free(r->traces);
	for (i = 0; i < r->nr_domains; i++)
		bt_trace_class_put_ref(r->domains[i]);
	free(r->domains);
	free(r->procs);
	free(r->dirty);
	for (i = 0; i < r->nr_phases_kept; i++)
		free(r->phases[i].name);
	free(r->phases);
	for (i = 0; i < r->nr_warnings; i++)
		free(r->warnings[i]);
	if (r->rows_f)
		fclose(r->rows_f);
	if (r->ev_f)
		fclose(r->ev_f);
	if (r->phase_f)
		fclose(r->phase_f);
	if (r->win_f)
		fclose(r->win_f);
}
