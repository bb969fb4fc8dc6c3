/*
 * params.c — sink.magslab.report: the component's parameters (docs/report.md,
 * "Parameters"), checked and copied into struct report once, at init.
 *
 * Owns the parameter fields of struct report (out_dir, title, program, bucket_ns, max_caches,
 * snapshot_ns, hosts, host_*, live_*) and frees them.  `damage` goes straight to the damage
 * findings (base.c).  Every mistake is one error cause naming the parameter; nothing is
 * written before all of them are checked.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"

static const char *const known[] = {
	"output-dir", "bucket-ms", "max-caches", "title", "snapshot-ms", "damage", "hosts", "host",
	"live-page", "program",
};
#define NR_KNOWN (sizeof(known) / sizeof(known[0]))

struct param_check {
	char bad[128];		/* the first unknown key */
};

/* No error may be appended here: an interrupted iteration must leave none. */
static bt_value_map_foreach_entry_const_func_status check_param(const char *key,
	const bt_value *value, void *data)
{
	struct param_check *pc = data;
	size_t i;

	(void)value;
	for (i = 0; i < NR_KNOWN; i++)
		if (strcmp(key, known[i]) == 0)
			return BT_VALUE_MAP_FOREACH_ENTRY_CONST_FUNC_STATUS_OK;
	snprintf(pc->bad, sizeof(pc->bad), "%s", key);
	return BT_VALUE_MAP_FOREACH_ENTRY_CONST_FUNC_STATUS_INTERRUPT;
}

/* An integer value (signed or unsigned) in [lo, hi]; what names it in the error. */
static int int_value(struct report *r, const bt_value *v, const char *what, uint64_t lo,
		     uint64_t hi, uint64_t *out)
{
	uint64_t x;

	if (bt_value_is_unsigned_integer(v)) {
		x = bt_value_integer_unsigned_get(v);
	} else if (bt_value_is_signed_integer(v)) {
		int64_t s = bt_value_integer_signed_get(v);

		if (s < 0) {
			report_error(r, "%s must be at least %" PRIu64 " (got %" PRId64 ")", what,
				     lo, s);
			return -1;
		}
		x = (uint64_t)s;
	} else {
		report_error(r, "%s must be an integer", what);
		return -1;
	}
	if (x < lo || x > hi) {
		report_error(r, "%s must be in [%" PRIu64 ", %" PRIu64 "] (got %" PRIu64 ")", what,
			     lo, hi, x);
		return -1;
	}
	*out = x;
	return 0;
}

/* An integer parameter in [lo, hi]; absent: *out unchanged. */
static int int_param(struct report *r, const bt_value *params, const char *key,
		     uint64_t lo, uint64_t hi, uint64_t *out)
{
	const bt_value *v = bt_value_map_borrow_entry_value_const(params, key);
	char what[64];

	if (!v)
		return 0;
	snprintf(what, sizeof(what), "parameter '%s'", key);
	return int_value(r, v, what, lo, hi, out);
}

/* A string member of map m (NULL if absent); -1 if it is there and not a string. */
static int string_member(struct report *r, const bt_value *m, const char *key,
			 const char *param, char **out)
{
	const bt_value *v = bt_value_map_borrow_entry_value_const(m, key);

	*out = NULL;
	if (!v)
		return 0;
	if (!bt_value_is_string(v)) {
		report_error(r, "parameter '%s': '%s' must be a string", param, key);
		return -1;
	}
	*out = ms_strdup(bt_value_string_get(v));
	return 0;
}

/* A whole number member of map m; absent: -1, or an error if required. */
static int int_member(struct report *r, const bt_value *m, const char *key, const char *param,
		      bool required, int64_t *out)
{
	const bt_value *v = bt_value_map_borrow_entry_value_const(m, key);
	char what[96];
	uint64_t x;

	*out = -1;
	if (!v && !required)
		return 0;
	snprintf(what, sizeof(what), "parameter '%s': '%s'", param, key);
	if (!v) {
		report_error(r, "%s is missing", what);
		return -1;
	}
	if (int_value(r, v, what, 0, INT64_MAX, &x))
		return -1;
	*out = (int64_t)x;
	return 0;
}

/* Parameter key: *out NULL if absent; -1 (an error saying it must be `must`) if it is there
 * and not of type. */
static int typed_param(struct report *r, const bt_value *params, const char *key,
		       bt_value_type type, const char *must, const bt_value **out)
{
	*out = bt_value_map_borrow_entry_value_const(params, key);
	if (*out && bt_value_get_type(*out) != type) {
		report_error(r, "parameter '%s' must be %s", key, must);
		return -1;
	}
	return 0;
}

/*
 * `damage`: an array of strings, what the front end found wrong with the trace's files
 * (streams shorter than their index...): each is a damage finding of the report.
 */
static int damage_param(struct report *r, const bt_value *params)
{
	const bt_value *v;
	uint64_t i, n;

	if (typed_param(r, params, "damage", BT_VALUE_TYPE_ARRAY, "an array of strings", &v))
		return -1;
	n = v ? bt_value_array_get_length(v) : 0;
	for (i = 0; i < n; i++) {
		const bt_value *e = bt_value_array_borrow_element_by_index_const(v, i);

		if (!bt_value_is_string(e)) {
			report_error(r, "parameter 'damage' must be an array of strings");
			return -1;
		}
		report_damage(r, "%s", bt_value_string_get(e));
	}
	return 0;
}

/* An array of strings member of map m (absent: empty). */
static int list_member(struct report *r, const bt_value *m, const char *key, const char *param,
		       struct host_list *out)
{
	const bt_value *v = bt_value_map_borrow_entry_value_const(m, key);
	uint64_t i, n = v && bt_value_is_array(v) ? bt_value_array_get_length(v) : 0;

	if (v && !bt_value_is_array(v)) {
		report_error(r, "parameter '%s': '%s' must be an array of strings", param, key);
		return -1;
	}
	out->v = ms_xrealloc(NULL, (n + 1) * sizeof(*out->v));
	for (i = 0; i < n; i++) {
		const bt_value *e = bt_value_array_borrow_element_by_index_const(v, i);

		if (!bt_value_is_string(e)) {
			report_error(r, "parameter '%s': '%s' must be an array of strings", param,
				     key);
			return -1;
		}
		out->v[out->n++] = ms_strdup(bt_value_string_get(e));
	}
	return 0;
}

/* One row of `hosts`: {host, hostname, dir, error (no report), traces, inputs, the counts
 * (absent: unknown)}. */
static int host_row(struct report *r, const bt_value *m, struct host_row *row)
{
	int64_t traces;
	int k;

	if (!bt_value_is_map(m)) {
		report_error(r, "parameter 'hosts': each row must be a map");
		return -1;
	}
	if (string_member(r, m, "host", "hosts", &row->host) ||
	    string_member(r, m, "hostname", "hosts", &row->hostname) ||
	    string_member(r, m, "dir", "hosts", &row->dir) ||
	    string_member(r, m, "error", "hosts", &row->error) ||
	    int_member(r, m, "traces", "hosts", true, &traces) ||
	    list_member(r, m, "inputs", "hosts", &row->inputs))
		return -1;
	if (!row->host || !row->dir) {
		report_error(r, "parameter 'hosts': a row without 'host' or 'dir'");
		return -1;
	}
	row->traces = (uint64_t)traces;
	for (k = 0; k < MS_HOST_COUNTS; k++)
		if (int_member(r, m, ms_host_count_names[k], "hosts", false, &row->counts[k]))
			return -1;
	return 0;
}

/*
 * `hosts` (the merged report of several hosts, from `magslab report`): a map {traces and
 * inputs: the merged report's, rows: [host rows]}: index.html gets a Hosts section, and
 * hosts.txt and hosts.json are written.
 */
static int hosts_param(struct report *r, const bt_value *params)
{
	const bt_value *v = bt_value_map_borrow_entry_value_const(params, "hosts");
	const bt_value *rows;
	int64_t traces;
	uint64_t i, n;

	if (!v)
		return 0;
	rows = bt_value_is_map(v) ? bt_value_map_borrow_entry_value_const(v, "rows") : NULL;
	if (!rows || !bt_value_is_array(rows)) {
		report_error(r, "parameter 'hosts' must be a map with an array 'rows'");
		return -1;
	}
	if (int_member(r, v, "traces", "hosts", true, &traces) ||
	    list_member(r, v, "inputs", "hosts", &r->hosts_inputs))
		return -1;
	r->hosts_traces = (uint64_t)traces;
	n = bt_value_array_get_length(rows);
	r->hosts = ms_xrealloc(NULL, (n + 1) * sizeof(*r->hosts));
	memset(r->hosts, 0, (n + 1) * sizeof(*r->hosts));
	for (i = 0; i < n; i++) {
		r->nr_hosts++;
		if (host_row(r, bt_value_array_borrow_element_by_index_const(rows, i),
			     &r->hosts[i]))
			return -1;
	}
	return 0;
}

/* `host` (the report of one host's traces): {name, traces, hosts}: index.html says so. */
static int host_param(struct report *r, const bt_value *params)
{
	const bt_value *v;
	int64_t traces, of;

	if (typed_param(r, params, "host", BT_VALUE_TYPE_MAP, "a map", &v))
		return -1;
	if (!v)
		return 0;
	if (string_member(r, v, "name", "host", &r->host_name) ||
	    int_member(r, v, "traces", "host", true, &traces) ||
	    int_member(r, v, "hosts", "host", true, &of))
		return -1;
	if (!r->host_name) {
		report_error(r, "parameter 'host': 'name' is missing");
		return -1;
	}
	r->host_traces = (uint64_t)traces;
	r->host_of = (uint64_t)of;
	return 0;
}

/* `live-page` (`magslab live --term png`): {title, refresh-s}: index.html reloads itself
 * until the report replaces it. */
static int live_page_param(struct report *r, const bt_value *params)
{
	const bt_value *v;
	int64_t refresh;

	if (typed_param(r, params, "live-page", BT_VALUE_TYPE_MAP, "a map", &v))
		return -1;
	if (!v)
		return 0;
	if (string_member(r, v, "title", "live-page", &r->live_title) ||
	    int_member(r, v, "refresh-s", "live-page", false, &refresh))
		return -1;
	if (!r->live_title)
		r->live_title = ms_strdup("");
	r->live_refresh_s = refresh > 0 ? (uint64_t)refresh : 1;
	return 0;
}

/* A string parameter (absent: *out stays NULL). */
static int string_param(struct report *r, const bt_value *params, const char *key, char **out)
{
	const bt_value *v = bt_value_map_borrow_entry_value_const(params, key);

	if (!v)
		return 0;
	if (!bt_value_is_string(v)) {
		report_error(r, "parameter '%s' must be a string", key);
		return -1;
	}
	*out = ms_strdup(bt_value_string_get(v));
	return 0;
}

static int string_params(struct report *r, const bt_value *params)
{
	const bt_value *v;

	v = params ? bt_value_map_borrow_entry_value_const(params, "output-dir") : NULL;
	if (!v || !bt_value_is_string(v) || !*bt_value_string_get(v)) {
		report_error(r, "missing parameter: output-dir (a string: the report directory)");
		return -1;
	}
	r->out_dir = ms_strdup(bt_value_string_get(v));
	return string_param(r, params, "title", &r->title) ||
	       string_param(r, params, "program", &r->program);
}

int params_parse(struct report *r, const bt_value *params)
{
	struct param_check pc = { "" };
	uint64_t bucket_ms = 100, max_caches = 8, snapshot_ms = 0;

	if (params && bt_value_is_map(params)) {
		bt_value_map_foreach_entry_const(params, check_param, &pc);
		if (pc.bad[0]) {
			report_error(r, "unknown parameter '%s' (have: output-dir, bucket-ms, "
				     "max-caches, title, snapshot-ms, damage, hosts, host, "
				     "live-page, program)", pc.bad);
			return -1;
		}
	}
	if (string_params(r, params) ||
	    int_param(r, params, "bucket-ms", 1, 3600000, &bucket_ms) ||
	    int_param(r, params, "max-caches", 1, 32, &max_caches) ||
	    int_param(r, params, "snapshot-ms", 0, 3600000, &snapshot_ms) ||
	    damage_param(r, params) || hosts_param(r, params) || host_param(r, params) ||
	    live_page_param(r, params))
		return -1;
	r->bucket_ns = bucket_ms * 1000000u;
	r->max_caches = (uint32_t)max_caches;
	r->snapshot_ns = snapshot_ms * 1000000u;
	return 0;
}

static void list_free(struct host_list *l)
{
	uint32_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
}

void params_free(struct report *r)
{
	uint32_t i;

	for (i = 0; i < r->nr_hosts; i++) {
		free(r->hosts[i].host);
		free(r->hosts[i].hostname);
		free(r->hosts[i].dir);
		free(r->hosts[i].error);
		list_free(&r->hosts[i].inputs);
	}
	list_free(&r->hosts_inputs);
	free(r->hosts);
	free(r->out_dir);
	free(r->title);
	free(r->program);
	free(r->host_name);
	free(r->live_title);
}
