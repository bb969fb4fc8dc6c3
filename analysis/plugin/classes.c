/*
 * classes.c — sink.magslab.report: what the sink knows of the trace's structure: event
 * classes (resolved once each), trace classes ("domains"), traces (from stream-beginning
 * messages), processes, and the small id maps the per-event path looks things up in.
 *
 * Each event class is resolved once (its first event): its kind (by name,
 * "magslab:<event>"; per-PID buffers give several classes with the same name, each
 * resolved on its own), its domain, its clock, the common-context member holding the
 * vpid, and the index of every payload member the handler of its kind reads (the table
 * below).  A class that lacks a member it needs (an older provider) is K_UNUSABLE: its
 * events are counted, not analysed, and a warning says so.
 *
 * A process is (domain, vpid): the vpid from the event common context when the session
 * added it, else from the trace environment (per-PID buffers), else unknown (-1).
 *
 * Owns r->ecs, r->ec_map, r->ec_cache, r->domains, r->traces, r->procs (freed by
 * classes_free); holds a reference on every event class, trace class and trace it keeps by
 * address.  idmap: open addressing, keys 64-bit, values index + 1 (0: empty), capacity a
 * power of two kept at least twice the entries.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

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
	[K_DEPOT_EXCHANGE] = { "cache", "cpu", "side", "rounds_got", "rounds_put", "nr_not_empty",
			       "nr_empty", "allocs", "frees", "hits" },
	[K_DEPOT_MISS] = { "cache", "cpu", "side", "outcome", "?allocs", "?frees", "?hits" },
	[K_DEPOT_CONTENTION] = { "cache", "cpu", "wait_ns", "busy_count", "counted" },
	[K_MAGSIZE_BUMP] = { "cache", "old", "new", "reason", "busy_count" },
	[K_PCC_MAGSIZE] = { "cache", "cpu", "old", "new" },
	[K_HASH_RESIZE] = { "id", "kind", "old_lists", "new_lists", "items", "duration_ns", "ok" },
	[K_SLAB_GROW] = { "cache", "bytes", "objects" },
	[K_SLAB_RELEASE] = { "cache", "bytes", "objects" },
	[K_REAP] = { "cache", "slabs", "magazines", "bytes" },
	[K_PCC_CONTENTION] = { "cache", "cpu", "wait_ns" },
	[K_PCC_COUNTERS] = { "cache", "cpu", "allocs", "frees", "hits" },
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

/* Twice the capacity, every entry moved over.  -1 if out of memory (m unchanged). */
static int idmap_grow(struct idmap *m)
{
	struct idmap n = { 0 };
	uint32_t i, j;

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
	return 0;
}

/* val: index + 1.  Replaces the value of an existing key. */
int idmap_put(struct idmap *m, uint64_t key, uint32_t val)
{
	uint32_t i;

	if ((m->used + 1) * 2 > m->cap && idmap_grow(m))
		return -1;
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

void idmap_free(struct idmap *m)
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

int classes_stream_beginning(struct report *r, const bt_message *msg)
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

uint32_t classes_proc(struct report *r, uint32_t domain, int64_t vpid)
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

/* The class's clock: LTTng's count ns from an offset, which skips the general conversion. */
static void resolve_clock(struct report *r, struct evclass *ec, const bt_stream_class *sc)
{
	const bt_clock_class *cc = bt_stream_class_borrow_default_clock_class_const(sc);
	int64_t off_s;
	uint64_t off_c;

	ec->has_clock = cc != NULL;
	if (!cc)
		return;
	if (r->nr_ecs == 0)
		r->clock_unix_epoch = bt_clock_class_origin_is_unix_epoch(cc);
	bt_clock_class_get_offset(cc, &off_s, &off_c);
	if (bt_clock_class_get_frequency(cc) == 1000000000u && off_s >= 0 &&
	    off_s < INT64_MAX / 2000000000 && off_c < 1000000000u) {
		ec->clock_ns = true;
		ec->clock_base = off_s * 1000000000 + (int64_t)off_c;
	}
}

/* The vpid member of the event common context (an integer), or -1. */
static void resolve_vpid(struct evclass *ec, const bt_stream_class *sc)
{
	const bt_field_class *ctx = bt_stream_class_borrow_event_common_context_field_class_const(sc);
	const bt_field_class *fc;

	ec->vpid_idx = member_index(ctx, "vpid", &fc);
	if (ec->vpid_idx < 0)
		return;
	if (bt_field_class_type_is(bt_field_class_get_type(fc), BT_FIELD_CLASS_TYPE_SIGNED_INTEGER))
		ec->vpid_signed = true;
	else if (!bt_field_class_type_is(bt_field_class_get_type(fc),
					 BT_FIELD_CLASS_TYPE_UNSIGNED_INTEGER))
		ec->vpid_idx = -1;
}

/* Field f's type into ec's bit masks; false if it is not the type the kind reads. */
static bool field_type(struct evclass *ec, int f, bool want_string, const bt_field_class *fc)
{
	bt_field_class_type ty = bt_field_class_get_type(fc);

	if (want_string && ty == BT_FIELD_CLASS_TYPE_STRING) {
		ec->is_string |= 1u << f;
	} else if (!want_string && bt_field_class_type_is(ty, BT_FIELD_CLASS_TYPE_SIGNED_INTEGER)) {
		ec->is_signed |= 1u << f;
	} else if (want_string || (!bt_field_class_type_is(ty, BT_FIELD_CLASS_TYPE_UNSIGNED_INTEGER) &&
				   ty != BT_FIELD_CLASS_TYPE_BOOL)) {
		return false;
	} else if (ty == BT_FIELD_CLASS_TYPE_BOOL) {
		ec->is_bool |= 1u << f;
	}
	return true;
}

/* The payload members the kind reads (the table above): indices and types. */
static void resolve_fields(struct report *r, struct evclass *ec, const bt_field_class *payload)
{
	const bt_field_class *fc;
	int f;

	for (f = 0; f < MS_MAX_FIELDS && fields[ec->kind][f]; f++)
		ec->nfields = (uint8_t)(f + 1);
	for (f = 0; f < ec->nfields; f++) {
		const char *fname = fields[ec->kind][f];
		bool want_string = fname[0] == '$';
		bool optional = fname[0] == '?';

		if (want_string || optional)
			fname++;
		ec->idx[f] = member_index(payload, fname, &fc);
		if (ec->idx[f] < 0 && optional)
			continue;
		if (ec->idx[f] < 0) {
			report_warn(r, "event class %s has no payload field '%s': "
				    "its events are counted but not analysed", ec->name, fname);
			ec->kind = K_UNUSABLE;
			return;
		}
		if (!field_type(ec, f, want_string, fc)) {
			report_warn(r, "event class %s: field '%s' is not %s: its events "
				    "are counted but not analysed", ec->name, fname,
				    want_string ? "a string" : "an integer");
			ec->kind = K_UNUSABLE;
			return;
		}
	}
}

static struct evclass *ec_resolve(struct report *r, const bt_event_class *cls)
{
	const bt_stream_class *sc = bt_event_class_borrow_stream_class_const(cls);
	struct evclass *ec = calloc(1, sizeof(*ec));
	const char *name = bt_event_class_get_name(cls);

	if (!ec)
		return NULL;
	ec->cls = cls;
	bt_event_class_get_ref(cls);	/* the map is keyed by its address */
	ec->name = ms_strdup(name ? name : "(unnamed)");
	ec->kind = kind_of(name);
	ec->domain = domain_of(r, bt_stream_class_borrow_trace_class_const(sc));
	resolve_clock(r, ec, sc);
	resolve_vpid(ec, sc);
	ec->env_vpid = domain_env_vpid(r, ec->domain);
	ec->proc = classes_proc(r, ec->domain, ec->env_vpid);
	if (ec->kind < K_NKNOWN)
		resolve_fields(r, ec, bt_event_class_borrow_payload_field_class_const(cls));
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

/* The class of an event: a direct-mapped cache, then the map, then resolved.  NULL: no memory. */
struct evclass *classes_lookup(struct report *r, const bt_event_class *cls)
{
	unsigned int slot = (unsigned int)((uintptr_t)cls >> 4) & 15u;
	struct evclass *ec;
	uint32_t i;

	if (r->ec_cache[slot].cls == cls)
		return r->ec_cache[slot].ec;
	i = idmap_get(&r->ec_map, (uint64_t)(uintptr_t)cls);
	ec = i ? r->ecs[i - 1] : ec_resolve(r, cls);
	if (!ec)
		return NULL;
	r->ec_cache[slot].cls = cls;
	r->ec_cache[slot].ec = ec;
	return ec;
}

void classes_free(struct report *r)
{
	uint32_t i;

	for (i = 0; i < r->nr_ecs; i++) {
		bt_event_class_put_ref(r->ecs[i]->cls);
		free(r->ecs[i]->name);
		free(r->ecs[i]);
	}
	free(r->ecs);
	idmap_free(&r->ec_map);
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
}
