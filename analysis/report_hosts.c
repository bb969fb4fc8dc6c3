/*
 * analysis/report_hosts.c — the hosts of a `magslab report` (see report_hosts.h): grouping
 * the traces by host, naming each host's directory, and the sink parameters that carry the
 * host table (the sink writes it: index.html, hosts.txt, hosts.json).
 *
 * Owns struct hosts: each host's name, directory name and sources (copies of the merged
 * inputs' sources: the sources themselves belong to the merged inputs), and the
 * summary.json of its report once report.c has read it.
 */
#include "report_hosts.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

const char *host_label(const struct host *h)
{
	return h->name ? h->name : "unknown";
}

void hosts_free(struct hosts *hs)
{
	size_t i;

	for (i = 0; i < hs->n; i++) {
		free(hs->h[i].name);
		free(hs->h[i].in.src); /* the sources themselves belong to the merged inputs */
		json_decref(hs->h[i].summary);
	}
	free(hs->h);
	hs->h = NULL;
	hs->n = 0;
}

/* NULL (no hostname) sorts last; otherwise by name. */
static int cmp_host(const void *a, const void *b)
{
	const struct host *x = a, *y = b;

	if (!x->name || !y->name)
		return !x->name - !y->name;
	return strcmp(x->name, y->name);
}

/*
 * A directory name for host name: its letters, digits, '.', '-' and '_', anything else
 * as '_' (no '/', no "." or ".."), at most HOST_DIR_MAX bytes; "unknown" for NULL.
 */
static void host_dirname(const char *name, char *out, size_t len)
{
	size_t o = 0;
	const char *s = name ? name : "unknown";

	for (; *s && o < HOST_DIR_MAX && o + 1 < len; s++) {
		char c = *s;

		out[o++] = ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			    c == '-' || c == '_' || c == '.')
				   ? c
				   : '_';
	}
	out[o] = '\0';
	if (out[0] == '.')
		out[0] = '_';
}

/* The host named name (NULL: none), added if new; name is kept or freed. */
static struct host *host_for(struct hosts *hs, char *name)
{
	struct host *h;
	size_t j;

	if (name && !*name) {
		free(name); /* an empty hostname says nothing either */
		name = NULL;
	}
	for (j = 0; j < hs->n; j++) {
		h = &hs->h[j];
		if ((!name && !h->name) || (name && h->name && strcmp(name, h->name) == 0)) {
			free(name);
			return h;
		}
	}
	hs->h = fe_xrealloc(hs->h, (hs->n + 1) * sizeof(*hs->h));
	h = &hs->h[hs->n++];
	memset(h, 0, sizeof(*h));
	h->name = name;
	return h;
}

/* Distinct directory names, in the hosts' order: "-2", "-3"... after a clash. */
static void name_dirs(struct hosts *hs)
{
	size_t i, j, k;

	for (i = 0; i < hs->n; i++) {
		char base[HOST_DIR_MAX + 1];
		bool clash;

		host_dirname(hs->h[i].name, base, sizeof(base));
		snprintf(hs->h[i].dir, sizeof(hs->h[i].dir), "%s", base);
		for (k = 2;; k++) {
			clash = false;
			for (j = 0; j < i && !clash; j++)
				clash = strcmp(hs->h[j].dir, hs->h[i].dir) == 0;
			if (!clash)
				break;
			snprintf(hs->h[i].dir, sizeof(hs->h[i].dir), "%s-%zu", base, k);
		}
	}
}

int hosts_group(const struct mg_plugins *p, const struct mg_inputs *in,
		bt_logging_level log_level, struct hosts *hs, char *err, size_t errlen)
{
	size_t i;

	memset(hs, 0, sizeof(*hs));
	for (i = 0; i < in->n; i++) {
		const struct mg_source *s = &in->src[i];
		struct host *h;
		char *name;

		if (mg_source_hostname(p, s, log_level, &name, err, errlen) != 0) {
			hosts_free(hs);
			return -1;
		}
		h = host_for(hs, name);
		h->in.src = fe_xrealloc(h->in.src, (h->in.n + 1) * sizeof(*h->in.src));
		h->in.src[h->in.n++] = *s;
		h->in.ndirs += s->ndirs;
		h->in.nlive += s->live;
	}
	qsort(hs->h, hs->n, sizeof(*hs->h), cmp_host);
	name_dirs(hs);
	return 0;
}

/* ---- the sink's parameters -------------------------------------------------------------- */

/* The integer at root.a.b (b may be NULL), or -1. */
static long long jint(const json_t *root, const char *a, const char *b)
{
	const json_t *v = json_object_get(root, a);

	if (b)
		v = json_object_get(v, b);
	return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

/* The length of the array root.a, or -1. */
static long long jlen(const json_t *root, const char *a)
{
	const json_t *v = json_object_get(root, a);

	return json_is_array(v) ? (long long)json_array_size(v) : -1;
}

/* The counts of a host's row, read from its summary.json (named as the sink's). */
static const struct {
	const char *name;  /* the row's member, a column of hosts.txt */
	const char *a, *b; /* where in summary.json (b NULL and `len`: the array's length) */
	bool len;
} host_cols[] = {
	{ "events", "trace", "events", false },
	{ "magslab_events", "trace", "magslab_events", false },
	{ "caches", "caches", NULL, true },
	{ "arenas", "arenas", NULL, true },
	{ "discarded_events", "discarded", "events", false },
	{ "discarded_packets", "discarded", "packets", false },
};
#define NR_HOST_COLS (sizeof(host_cols) / sizeof(host_cols[0]))

static long long host_col(const json_t *summary, size_t c)
{
	if (!summary)
		return -1;
	return host_cols[c].len ? jlen(summary, host_cols[c].a)
				: jint(summary, host_cols[c].a, host_cols[c].b);
}

static bool ok(bt_value_map_insert_entry_status st)
{
	return st == BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK;
}

/* map.key = the trace directories and live URLs of in, in order. */
static int inputs_entry(bt_value *map, const char *key, const struct mg_inputs *in)
{
	bt_value *arr;
	size_t i, j;

	if (!ok(bt_value_map_insert_empty_array_entry(map, key, &arr)))
		return -1;
	for (i = 0; i < in->n; i++) {
		if (in->src[i].live && bt_value_array_append_string_element(arr, in->src[i].url))
			return -1;
		for (j = 0; j < in->src[i].ndirs; j++)
			if (bt_value_array_append_string_element(arr, in->src[i].dirs[j]))
				return -1;
	}
	return 0;
}

/* One row of `hosts`: host, hostname, dir, error (no report), traces, inputs, counts. */
static int host_row(bt_value *rows, const struct host *h)
{
	bt_value *row;
	size_t c;

	if (bt_value_array_append_empty_map_element(rows, &row) ||
	    !ok(bt_value_map_insert_string_entry(row, "host", host_label(h))) ||
	    (h->name && !ok(bt_value_map_insert_string_entry(row, "hostname", h->name))) ||
	    !ok(bt_value_map_insert_string_entry(row, "dir", h->dir)) ||
	    (!h->done && !ok(bt_value_map_insert_string_entry(row, "error", h->why))) ||
	    !ok(bt_value_map_insert_unsigned_integer_entry(row, "traces", h->in.n)) ||
	    inputs_entry(row, "inputs", &h->in))
		return -1;
	for (c = 0; c < NR_HOST_COLS; c++) {
		long long v = host_col(h->done ? h->summary : NULL, c);

		if (v >= 0 && !ok(bt_value_map_insert_unsigned_integer_entry(row, host_cols[c].name,
									     (uint64_t)v)))
			return -1;
	}
	return 0;
}

int hosts_param(bt_value *params, const struct hosts *hs, const struct mg_inputs *all)
{
	bt_value *m, *rows;
	size_t k;

	if (!ok(bt_value_map_insert_empty_map_entry(params, "hosts", &m)) ||
	    !ok(bt_value_map_insert_unsigned_integer_entry(m, "traces", all->n)) ||
	    inputs_entry(m, "inputs", all) ||
	    !ok(bt_value_map_insert_empty_array_entry(m, "rows", &rows)))
		return -1;
	for (k = 0; k < hs->n; k++)
		if (host_row(rows, &hs->h[k]))
			return -1;
	return 0;
}

int host_param(bt_value *params, const struct hosts *hs, const struct host *h)
{
	bt_value *m;

	if (!ok(bt_value_map_insert_empty_map_entry(params, "host", &m)) ||
	    !ok(bt_value_map_insert_string_entry(m, "name", host_label(h))) ||
	    !ok(bt_value_map_insert_unsigned_integer_entry(m, "traces", h->in.n)) ||
	    !ok(bt_value_map_insert_unsigned_integer_entry(m, "hosts", hs->n)))
		return -1;
	return 0;
}

void hosts_print(const struct hosts *hs, const char *absout)
{
	size_t w = 0, k;

	for (k = 0; k < hs->n; k++)
		if (strlen(host_label(&hs->h[k])) > w)
			w = strlen(host_label(&hs->h[k]));
	printf("hosts:   %zu hosts (table: %s/hosts.txt)\n", hs->n, absout);
	for (k = 0; k < hs->n; k++) {
		const struct host *h = &hs->h[k];

		if (h->done)
			printf("  %-*s  %llu events from %zu trace%s: %s/hosts/%s/index.html\n",
			       (int)w, host_label(h), (unsigned long long)h->events, h->in.n,
			       h->in.n == 1 ? "" : "s", absout, h->dir);
		else
			printf("  %-*s  no report: %s\n", (int)w, host_label(h), h->why);
	}
}
