/*
 * hosts.c — sink.magslab.report: the host table of a merged report of several hosts
 * (docs/report.md, "Several hosts"), from the parameters `magslab report` passes: `hosts`
 * (one row per host: its name, directory, traces and counts, read from that host's own
 * report, or why it has none) and `host` (a report of one host's traces).
 *
 *   hosts.txt    the table, aligned for a terminal: a row per host, then "(all hosts)"
 *   hosts.json   the same, with each host's trace directories ("magslab-hosts/1")
 *   index.html   the Hosts section (html.c calls hosts_html_section) under the files line,
 *                each host's name linking its report hosts/DIR/index.html; in a host's own
 *                report, the line naming the host and linking ../../index.html
 *
 * The merged row is this report's own counts (trace.events, trace.magslab_events, the
 * caches, the arenas, discarded.events and .packets of summary.json), so that the rows of
 * the hosts add up to it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "output.h"

/* host, traces, the counts, report */
#define NR_CELLS (3 + MS_HOST_COUNTS)

/* This report's own counts, as its summary.json has them. */
static void own_counts(const struct report *r, int64_t c[MS_HOST_COUNTS])
{
	c[0] = (int64_t)r->events;
	c[1] = (int64_t)r->magslab_events;
	c[2] = r->nr_caches;
	c[3] = r->nr_arenas;
	c[4] = (int64_t)r->disc_events;
	c[5] = (int64_t)r->disc_packets;
}

/* The cells of row i of the table (i == nr_hosts: the merged row); free with cells_free. */
static void row_cells(const struct report *r, uint32_t i, char *cells[NR_CELLS])
{
	const struct host_row *h = i < r->nr_hosts ? &r->hosts[i] : NULL;
	int64_t own[MS_HOST_COUNTS];
	int k;

	own_counts(r, own);
	cells[0] = ms_strdup(h ? h->host : "(all hosts)");
	cells[1] = ms_asprintf("%" PRIu64, h ? h->traces : r->hosts_traces);
	for (k = 0; k < MS_HOST_COUNTS; k++) {
		int64_t v = h ? h->counts[k] : own[k];

		cells[2 + k] = v < 0 ? ms_strdup("-") : ms_asprintf("%" PRId64, v);
	}
	if (!h)
		cells[NR_CELLS - 1] = ms_strdup("index.html");
	else if (!h->error)
		cells[NR_CELLS - 1] = ms_asprintf("hosts/%s/index.html", h->dir);
	else
		cells[NR_CELLS - 1] = ms_asprintf("none: %s", h->error);
}

static void cells_free(char *cells[NR_CELLS])
{
	for (int k = 0; k < NR_CELLS; k++)
		free(cells[k]);
}

/* Every column but the last as wide as its widest cell (or its heading). */
static void widths(const struct report *r, size_t width[NR_CELLS])
{
	char *cells[NR_CELLS];
	uint32_t i;
	int k;

	width[0] = strlen("host");
	width[1] = strlen("traces");
	for (k = 0; k < MS_HOST_COUNTS; k++)
		width[2 + k] = strlen(ms_host_count_names[k]);
	for (i = 0; i <= r->nr_hosts; i++) {
		row_cells(r, i, cells);
		for (k = 0; k + 1 < NR_CELLS; k++)
			if (strlen(cells[k]) > width[k])
				width[k] = strlen(cells[k]);
		cells_free(cells);
	}
}

static int write_txt(struct out *o)
{
	const struct report *r = o->r;
	FILE *f = out_open(o, "hosts.txt");
	size_t width[NR_CELLS];
	char *cells[NR_CELLS];
	uint32_t i;
	int k;

	if (!f)
		return -1;
	widths(r, width);
	fprintf(f, "# magslab report: traces of %" PRIu32 " hosts. index.html is the merged report "
		"(every trace);\n# hosts/HOST/index.html the report of one host's traces. "
		"Counts from each summary.json.\n", r->nr_hosts);
	fprintf(f, "%-*s  %*s", (int)width[0], "host", (int)width[1], "traces");
	for (k = 0; k < MS_HOST_COUNTS; k++)
		fprintf(f, "  %*s", (int)width[2 + k], ms_host_count_names[k]);
	fprintf(f, "  report\n");
	for (i = 0; i <= r->nr_hosts; i++) {
		row_cells(r, i, cells);
		fprintf(f, "%-*s", (int)width[0], cells[0]);
		for (k = 1; k + 1 < NR_CELLS; k++)
			fprintf(f, "  %*s", (int)width[k], cells[k]);
		fprintf(f, "  %s\n", cells[NR_CELLS - 1]);
		cells_free(cells);
	}
	return out_close(o, f, "hosts.txt");
}

static json_t *jstr(const char *s)
{
	return s ? json_text(s) : json_null();
}

/* One row of hosts.json (h NULL: the merged one). */
static json_t *row_json(const struct report *r, const struct host_row *h)
{
	const struct host_list *in = h ? &h->inputs : &r->hosts_inputs;
	json_t *o = json_object(), *dirs = json_array();
	int64_t own[MS_HOST_COUNTS];
	uint32_t i;
	int k;

	own_counts(r, own);
	if (h) {
		json_object_set_new(o, "host", jstr(h->host));
		json_object_set_new(o, "hostname", jstr(h->hostname));
		json_object_set_new(o, "dir", json_sprintf("hosts/%s", h->dir));
	}
	json_object_set_new(o, "traces", json_integer((json_int_t)(h ? h->traces
									: r->hosts_traces)));
	for (i = 0; i < in->n; i++)
		json_array_append_new(dirs, jstr(in->v[i]));
	json_object_set_new(o, "inputs", dirs);
	for (k = 0; k < MS_HOST_COUNTS; k++) {
		int64_t v = h ? h->counts[k] : own[k];

		json_object_set_new(o, ms_host_count_names[k], v < 0 ? json_null() : json_integer(v));
	}
	if (!h) {
		json_object_set_new(o, "report", json_string("index.html"));
		return o;
	}
	json_object_set_new(o, "report", h->error ? json_null()
				: json_sprintf("hosts/%s/index.html", h->dir));
	json_object_set_new(o, "error", jstr(h->error));
	return o;
}

static int write_json(struct out *o)
{
	const struct report *r = o->r;
	json_t *root = json_object(), *arr = json_array();
	FILE *f = out_open(o, "hosts.json");
	char *text;
	uint32_t i;

	json_object_set_new(root, "format", json_string("magslab-hosts/1"));
	json_object_set_new(root, "hosts", arr);
	for (i = 0; i < r->nr_hosts; i++)
		json_array_append_new(arr, row_json(r, &r->hosts[i]));
	json_object_set_new(root, "merged", row_json(r, NULL));
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!text)
		abort();
	if (!f) {
		free(text);
		return -1;
	}
	fprintf(f, "%s\n", text);
	free(text);
	return out_close(o, f, "hosts.json");
}

int hosts_write(struct out *o)
{
	if (!o->r->hosts)
		return 0;
	return write_txt(o) || write_json(o);
}

/* A count cell of the Hosts table. */
static void td(FILE *f, const char *cell)
{
	fprintf(f, "<td class=\"n\">%s</td>", cell);
}

/* One row of the Hosts section: the host (a link to its report), counts, report. */
static void html_row(const struct report *r, uint32_t i, FILE *f)
{
	const struct host_row *h = i < r->nr_hosts ? &r->hosts[i] : NULL;
	char *cells[NR_CELLS];
	int k;

	row_cells(r, i, cells);
	fprintf(f, "<tr><td>");
	if (h && !h->error)
		fprintf(f, "<a href=\"hosts/%s/index.html\">", h->dir);
	html_str(f, cells[0]);
	fprintf(f, "%s</td>", h && !h->error ? "</a>" : "");
	for (k = 1; k + 1 < NR_CELLS; k++)
		td(f, cells[k]);
	if (!h) {
		fprintf(f, "<td>this page</td>");
	} else if (!h->error) {
		fprintf(f, "<td><a href=\"hosts/%s/index.html\">hosts/%s/index.html</a></td>",
			h->dir, h->dir);
	} else {
		fprintf(f, "<td>none: ");
		html_str(f, h->error);
		fprintf(f, "</td>");
	}
	fprintf(f, "</tr>\n");
	cells_free(cells);
}

void hosts_html_section(const struct report *r, FILE *f)
{
	uint32_t i;
	int k;

	fprintf(f, "<h2 id=\"hosts\">Hosts</h2>\n<p>This report merges the traces of %" PRIu32
		" hosts; each host also has a report of its own traces (<a href=\"hosts.txt\">"
		"hosts.txt</a>, <a href=\"hosts.json\">hosts.json</a>).</p>\n<table>\n"
		"<tr><th>host</th><th>traces</th>", r->nr_hosts);
	for (k = 0; k < MS_HOST_COUNTS; k++)
		fprintf(f, "<th>%s</th>", ms_host_count_names[k]);
	fprintf(f, "<th>report</th></tr>\n");
	for (i = 0; i <= r->nr_hosts; i++)
		html_row(r, i, f);
	fprintf(f, "</table>\n");
}

void hosts_html_line(const struct report *r, FILE *f)
{
	fprintf(f, "<p id=\"host\">Host <b>");
	html_str(f, r->host_name);
	fprintf(f, "</b>: the report of this host's %" PRIu64 " trace%s only, one of %" PRIu64
		" hosts; <a href=\"../../index.html\">the merged report of every host</a>.</p>\n",
		r->host_traces, r->host_traces == 1 ? "" : "s", r->host_of);
}
