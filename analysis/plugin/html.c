/*
 * html.c — sink.magslab.report: index.html, the report directory's page (docs/report.md,
 * "Files"), and until the report is there, the live page of `magslab live --term png`.
 *
 * The report page: the title, the damage and loss lines, the trace, run, phases and layers
 * lines (summary.c writes them for summary.txt too), the files, the five plots (each PNG
 * linking its SVG and its script) and the cache table.  With the parameter `host` (a
 * report of one host's traces, from `magslab report`) a line under the files names the
 * host and links the merged report (../../index.html); with `hosts` (the merged report of
 * several hosts) a Hosts section there has a row per host linking its report
 * (hosts/DIR/index.html), and a last row of this report's own counts.
 *
 * The live page (parameter live-page, written at init and at every snapshot, always under
 * a temporary name renamed into place): it reloads itself every refresh-s seconds and
 * shows magsize.png and contention.png, which the viewer draws from each snapshot, with
 * the snapshot number in their URLs so that no browser shows a cached one.  The report
 * page replaces it at the end.
 *
 * Every name from the trace or the parameters is HTML-escaped (html_str, output.c).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <inttypes.h>
#include <stdio.h>

#include "output.h"

static const char style[] =
	"body { font-family: sans-serif; margin: 1.5em; }\n"
	".warn { color: #a00000; font-weight: bold; }\n"
	"table { border-collapse: collapse; font-size: 0.9em; }\n"
	"th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; }\n"
	"td.n { text-align: right; font-family: monospace; }\n"
	"img { max-width: 100%; border: 1px solid #eee; }\n";

/* The title, the loss and damage lines, the trace, run, phases and layers lines. */
static void page_head(const struct out *o, FILE *f)
{
	const struct report *r = o->r;
	bool warn = r->disc_event_msgs || r->disc_packet_msgs;
	char line[512];

	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>");
	html_str(f, o->title1);
	fprintf(f, " — magslab report</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>", style);
	html_str(f, o->title1);
	fprintf(f, "</h1>\n");
	if (summary_damage_line(r, line, sizeof(line))) {
		fprintf(f, "<p class=\"warn\">");
		html_str(f, line);
		fprintf(f, "</p>\n");
	}
	fprintf(f, "<p class=\"%s\">", warn ? "warn" : "ok");
	summary_discarded_line(o, line, sizeof(line));
	html_str(f, line);
	fprintf(f, "</p>\n<p>");
	summary_trace_line(o, line, sizeof(line));
	html_str(f, line);
	fprintf(f, "<br>\n");
	summary_run_line(o, line, sizeof(line));
	html_str(f, line);
	fprintf(f, "<br>\n");
	summary_phases_line(o, f, true);
	fprintf(f, "<br>\nlayers: %s</p>\n", o->exact_layers ? "exact (alloc events)" :
		"estimated (no alloc events: pcc hits unknown)");
}

/* Parameter `host`: which host, and the way back to the merged report. */
static void host_line(const struct report *r, FILE *f)
{
	fprintf(f, "<p id=\"host\">Host <b>");
	html_str(f, r->host_name);
	fprintf(f, "</b>: the report of this host's %" PRIu64 " trace%s only, one of %" PRIu64
		" hosts; <a href=\"../../index.html\">the merged report of every host</a>.</p>\n",
		r->host_traces, r->host_traces == 1 ? "" : "s", r->host_of);
}

/* A count cell of the Hosts table ("-": unknown). */
static void count_cell(FILE *f, int64_t v)
{
	if (v < 0)
		fprintf(f, "<td class=\"n\">-</td>");
	else
		fprintf(f, "<td class=\"n\">%" PRId64 "</td>", v);
}

/* One row of the Hosts section: the host (a link to its report), counts, report. */
static void host_row(const struct host_row *h, FILE *f)
{
	int k;

	fprintf(f, "<tr><td>");
	if (h->dir)
		fprintf(f, "<a href=\"hosts/%s/index.html\">", h->dir);
	html_str(f, h->host);
	fprintf(f, "%s</td>", h->dir ? "</a>" : "");
	count_cell(f, (int64_t)h->traces);
	for (k = 0; k < MS_HOST_COUNTS; k++)
		count_cell(f, h->counts[k]);
	if (h->dir) {
		fprintf(f, "<td><a href=\"hosts/%s/index.html\">hosts/%s/index.html</a></td>",
			h->dir, h->dir);
	} else {
		fprintf(f, "<td>none: ");
		html_str(f, h->error ? h->error : "");
		fprintf(f, "</td>");
	}
	fprintf(f, "</tr>\n");
}

/* Parameter `hosts`: the table of the hosts, then this report's own row. */
static void hosts_section(const struct report *r, FILE *f)
{
	int64_t own[MS_HOST_COUNTS] = {
		(int64_t)r->events, (int64_t)r->magslab_events, r->nr_caches, r->nr_arenas,
		(int64_t)r->disc_events, (int64_t)r->disc_packets,
	};
	uint32_t i;
	int k;

	fprintf(f, "<h2 id=\"hosts\">Hosts</h2>\n<p>This report merges the traces of %" PRIu32
		" hosts; each host also has a report of its own traces (<a href=\"hosts.txt\">"
		"hosts.txt</a>, <a href=\"hosts.json\">hosts.json</a>).</p>\n<table>\n"
		"<tr><th>host</th><th>traces</th>", r->nr_hosts);
	for (k = 0; k < MS_HOST_COUNTS; k++)
		fprintf(f, "<th>%s</th>", ms_host_count_names[k]);
	fprintf(f, "<th>report</th></tr>\n");
	for (i = 0; i < r->nr_hosts; i++)
		host_row(&r->hosts[i], f);
	fprintf(f, "<tr><td>(all hosts)</td>");
	count_cell(f, (int64_t)r->hosts_traces);
	for (k = 0; k < MS_HOST_COUNTS; k++)
		count_cell(f, own[k]);
	fprintf(f, "<td>this page</td></tr>\n</table>\n");
}

/* The plots and the cache table. */
static void page_body(const struct out *o, FILE *f)
{
	char cells[NCOLS][96];
	uint32_t i;
	int k, p;

	for (p = 0; p < NR_PLOTS; p++)
		fprintf(f, "<h2>%s</h2>\n<p><a href=\"%s.svg\"><img src=\"%s.png\" width=\"1200\" "
			"height=\"700\" alt=\"%s plot\"></a><br><a href=\"%s.svg\">SVG</a> · "
			"<a href=\"%s.gp\">%s.gp</a></p>\n", ms_plot_names[p], ms_plot_names[p],
			ms_plot_names[p], ms_plot_names[p], ms_plot_names[p], ms_plot_names[p],
			ms_plot_names[p]);
	fprintf(f, "<h2>Caches</h2>\n<table>\n<tr>");
	for (k = 0; k < NCOLS; k++) {
		fprintf(f, "<th>");
		html_str(f, summary_col_names[k]);
		fprintf(f, "</th>");
	}
	fprintf(f, "</tr>\n");
	for (i = 0; i < o->r->nr_caches; i++) {
		summary_cache_cells(o, summary_table_cache(o, i), cells);
		fprintf(f, "<tr>");
		for (k = 0; k < NCOLS; k++) {
			fprintf(f, "<td%s>", summary_col_left[k] ? "" : " class=\"n\"");
			html_str(f, cells[k]);
			fprintf(f, "</td>");
		}
		fprintf(f, "</tr>\n");
	}
	fprintf(f, "</table>\n</body>\n</html>\n");
}

int html_write(struct out *o)
{
	FILE *f = out_open(o, "index.html");

	if (!f)
		return -1;
	page_head(o, f);
	fprintf(f, "<p>Files: <a href=\"summary.json\">summary.json</a>, "
		"<a href=\"summary.txt\">summary.txt</a>, <a href=\"buckets.csv\">buckets.csv</a>; "
		"the plots' data (*.dat) and gnuplot scripts (*.gp) are in this directory.</p>\n");
	if (o->r->host_name)
		host_line(o->r, f);
	if (o->r->hosts)
		hosts_section(o->r, f);
	page_body(o, f);
	return out_close(o, f, "index.html");
}

int html_write_live(struct out *o)
{
	const struct report *r = o->r;
	FILE *f = out_open(o, "index.html");
	int i;

	if (!f)
		return -1;
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		"<meta http-equiv=\"refresh\" content=\"%" PRIu64 "\">\n<title>magslab live: ",
		r->live_refresh_s);
	html_str(f, r->live_title);
	fprintf(f, "</title>\n<style>\nbody { font-family: sans-serif; margin: 1.5em; }\n"
		"img { max-width: 100%%; border: 1px solid #eee; }\n</style>\n</head>\n<body>\n"
		"<h1>magslab live: <code>");
	html_str(f, r->live_title);
	if (r->snapshots)
		fprintf(f, "</code></h1>\n<p>magslab live: snapshot %" PRIu64 ", %" PRIu64
			" events read, %.0f s of trace", r->snapshots, r->events,
			secs(r->t_last - r->t0));
	else
		fprintf(f, "</code></h1>\n<p>magslab live: starting");
	fprintf(f, "<br>\nThis page reloads itself every %" PRIu64 " s; when the command ends it "
		"is replaced by the full report.</p>\n", r->live_refresh_s);
	for (i = 0; i < 2 && r->snapshots; i++) {
		const char *n = i ? "contention" : "magsize";

		fprintf(f, "<h2>%s</h2>\n<p><img src=\"%s.png?frame=%" PRIu64 "\" width=\"1200\" "
			"height=\"700\" alt=\"%s plot\"></p>\n", n, n, r->snapshots, n);
	}
	if (!r->snapshots)
		fprintf(f, "<p>Waiting for the first magslab events...</p>\n");
	fprintf(f, "</body>\n</html>\n");
	return out_close(o, f, "index.html");
}
