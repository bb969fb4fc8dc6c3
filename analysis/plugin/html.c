/*
 * html.c — sink.magslab.report: index.html, the report directory's page (docs/report.md,
 * "Files"), and until the report is there, the live page of `magslab live --term png`.
 *
 * The report page: the title, the damage and loss lines, the trace, run, phases and layers
 * lines (summary.c writes them for summary.txt too), the files, the five plots (each PNG
 * linking its SVG and its script) and the cache table.  With the parameter `host` or
 * `hosts` (from `magslab report`, traces of several hosts), the host line or the Hosts
 * section (hosts.c) comes under the files line.
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
		hosts_html_line(o->r, f);
	if (o->r->hosts)
		hosts_html_section(o->r, f);
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
