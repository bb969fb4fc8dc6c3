/*
 * html.c — sink.magslab.report: index.html, the report directory's page (docs/report.md,
 * "Files"), and until the report is there, the live page of `magslab live --term png`.
 *
 * The report page: the title, the damage and loss lines, the trace, run, phases and layers
 * lines (summary.c writes them for summary.txt too), the files, the plots and the cache
 * table.  Each plot is gnuplot's own canvas drawing (NAME.js, the canvas terminal with
 * its mousing: values under the mouse, a right-drag box zooms), drawn on load into a
 * <canvas>; the page needs gnuplot's canvas scripts (gnuplot-data's js/ directory), which
 * `magslab report` copies into js/, so that it works offline from file://.  Where NAME.js
 * or those scripts are missing (the stock CLI, no gnuplot run yet), the plot's PNG shows
 * instead.  The page's own script is the glue gnuplot's README asks for (the
 * gnuplot_canvas() wrapper, one call per plot) and buttons that move or scale the zoomed
 * window through the same gnuplot.zoom_* fields the mouse sets; every link to NAME.png,
 * NAME.svg and NAME.gp stays.  With the parameter `host` or
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
	"img { max-width: 100%; border: 1px solid #eee; }\n"
	"canvas { border: 1px solid #eee; background: white; }\n"
	".mouse { font-family: monospace; font-size: 0.9em; }\n"
	".mouse span { display: inline-block; min-width: 7em; color: #070; }\n";

/* gnuplot's canvas scripts (gnuplot-data), which `magslab report` copies into js/. */
static const char *const canvas_scripts[] = {
	"canvasmath.js", "gnuplot_common.js", "gnuplot_dashedlines.js", "gnuplot_mouse.js",
};

/* The glue around gnuplot's canvas plots (see the head comment). */
static const char glue[] =
	"var canvas, ctx;\n"
	"var magslab_ok = typeof gnuplot !== 'undefined';\n"
	"if (magslab_ok) { gnuplot.active_plot = function () {}; }\n"
	"function gnuplot_canvas() { gnuplot.active_plot(); }\n"
	"function magslab_plot(n) { return magslab_ok && typeof window[n] === 'function'; }\n"
	"/* Each plot drawn into its canvas, which replaces its PNG. */\n"
	"function magslab_draw() {\n"
	"  var drawn = [];\n"
	"  for (var i = 0; i < magslab_plots.length; i++) {\n"
	"    var n = magslab_plots[i];\n"
	"    if (!magslab_plot(n)) continue;\n"
	"    document.getElementById(n + '_png').style.display = 'none';\n"
	"    document.getElementById(n + '_live').style.display = '';\n"
	"    window[n]();\n"
	"    var b = document.getElementById(n).getBoundingClientRect();\n"
	"    drawn.push(n + ':' + Math.round(b.left + window.scrollX) + ',' +\n"
	"               Math.round(b.top + window.scrollY));\n"
	"  }\n"
	"  /* what was drawn where (page pixels), for the headless browser check */\n"
	"  document.documentElement.setAttribute('data-magslab-drawn', drawn.join(' '));\n"
	"}\n"
	"/* The x window of plot n moved by shift widths and scaled by scale, or reset. */\n"
	"function magslab_view(n, shift, scale) {\n"
	"  if (!magslab_plot(n)) return;\n"
	"  window[n]();\n"
	"  var g = gnuplot;\n"
	"  if (scale === 0) { g.unzoom(); return; }\n"
	"  if (!g.zoomed) {\n"
	"    g.zoom_axis_xmin = g.plot_axis_xmin; g.zoom_axis_xmax = g.plot_axis_xmax;\n"
	"    g.zoom_axis_ymin = g.plot_axis_ymin; g.zoom_axis_ymax = g.plot_axis_ymax;\n"
	"    if (g.plot_axis_y2min !== 'none') {\n"
	"      g.zoom_axis_y2min = g.plot_axis_y2min; g.zoom_axis_y2max = g.plot_axis_y2max;\n"
	"    }\n"
	"  }\n"
	"  var w = g.zoom_axis_xmax - g.zoom_axis_xmin;\n"
	"  var c = (g.zoom_axis_xmin + g.zoom_axis_xmax) / 2 + shift * w;\n"
	"  w *= scale;\n"
	"  g.zoom_axis_xmin = c - w / 2; g.zoom_axis_xmax = c + w / 2;\n"
	"  g.zoom_axis_width = w; g.zoom_axis_height = g.zoom_axis_ymax - g.zoom_axis_ymin;\n"
	"  g.rezoom();\n"
	"}\n"
	"window.addEventListener('load', magslab_draw);\n";

/* Before any other script: every error of the page (a script that throws, a script file
 * that does not load) noted on the root element as data-magslab-errors, for the headless
 * browser check of make check (tests/test_report_views.sh). */
static const char error_catcher[] =
	"var magslab_errors = [];\n"
	"window.addEventListener('error', function (e) {\n"
	"  var t = e.target, what = e.message || (t && (t.src || t.href)) || 'error';\n"
	"  magslab_errors.push(String(what));\n"
	"  document.documentElement.setAttribute('data-magslab-errors', magslab_errors.join(' | '));\n"
	"}, true);\n";

/* gnuplot's canvas scripts, the glue, and each plot's drawing function (NAME.js). */
static void page_scripts(FILE *f)
{
	size_t i;
	int p;

	fprintf(f, "<script>\n%s</script>\n", error_catcher);
	fprintf(f, "<link rel=\"stylesheet\" href=\"js/gnuplot_mouse.css\">\n");
	for (i = 0; i < sizeof(canvas_scripts) / sizeof(canvas_scripts[0]); i++)
		fprintf(f, "<script src=\"js/%s\"></script>\n", canvas_scripts[i]);
	fprintf(f, "<script>\nvar magslab_plots = [");
	for (p = 0; p < NR_PLOTS; p++)
		fprintf(f, "%s'%s'", p ? ", " : "", ms_plot_names[p]);
	fprintf(f, "];\n%s</script>\n", glue);
	for (p = 0; p < NR_PLOTS; p++)
		fprintf(f, "<script src=\"%s.js\"></script>\n", ms_plot_names[p]);
}

/* The title, the loss and damage lines, the trace, run, phases and layers lines. */
static void page_head(const struct out *o, FILE *f)
{
	const struct report *r = o->r;
	bool warn = r->disc_event_msgs || r->disc_packet_msgs;
	char line[512];

	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>");
	html_str(f, o->title1);
	fprintf(f, " — magslab report</title>\n<style>\n%s</style>\n", style);
	page_scripts(f);
	fprintf(f, "</head>\n<body oncontextmenu=\"return false;\">\n<h1>");
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
	fprintf(f, "<br>\nlayers: %s</p>\n", summary_layers_mode(o));
}

/* One plot: its canvas (hidden until drawn) with the mouse read-out and the buttons, its
 * PNG in the meantime, the links. */
static void page_plot(FILE *f, const char *n)
{
	fprintf(f, "<h2>%s</h2>\n<div id=\"%s_live\" style=\"display: none\">\n"
		"<canvas id=\"%s\" width=\"1200\" height=\"700\" tabindex=\"0\"></canvas>\n"
		"<p class=\"mouse\">x <span id=\"%s_x\">&nbsp;</span> y <span id=\"%s_y\">"
		"&nbsp;</span> y2 <span id=\"%s_y2\">&nbsp;</span>\n", n, n, n, n, n, n);
	fprintf(f, "<button onclick=\"magslab_view('%s', -0.5, 1)\">&larr; pan</button>\n"
		"<button onclick=\"magslab_view('%s', 0.5, 1)\">pan &rarr;</button>\n"
		"<button onclick=\"magslab_view('%s', 0, 0.5)\">zoom in</button>\n"
		"<button onclick=\"magslab_view('%s', 0, 2)\">zoom out</button>\n"
		"<button onclick=\"magslab_view('%s', 0, 0)\">reset</button>\n"
		"right-drag a box to zoom into it; on the plot: u unzoom, n rezoom, g grid</p>\n"
		"</div>\n", n, n, n, n, n);
	fprintf(f, "<p><a href=\"%s.svg\"><img id=\"%s_png\" src=\"%s.png\" width=\"1200\" "
		"height=\"700\" alt=\"%s plot\"></a><br><a href=\"%s.png\">PNG</a> · "
		"<a href=\"%s.svg\">SVG</a> · <a href=\"%s.gp\">%s.gp</a></p>\n", n, n, n, n, n, n,
		n, n);
}

/* The plots and the cache table. */
static void page_body(const struct out *o, FILE *f)
{
	char cells[NCOLS][96];
	uint32_t i;
	int k, p;

	for (p = 0; p < NR_PLOTS; p++)
		page_plot(f, ms_plot_names[p]);
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
		"<a href=\"summary.txt\">summary.txt</a>, <a href=\"buckets.csv\">buckets.csv</a>, "
		"<a href=\"trace.json\">trace.json</a> (Chrome trace-event format: open it in "
		"Perfetto UI, chrome://tracing or speedscope); the plots' data (*.dat) and gnuplot "
		"scripts (*.gp) are in this directory.</p>\n");
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
