/*
 * plugin.c — the babeltrace2 plugin "magslab" and its sink component class
 * "report" (sink.magslab.report): descriptors only.  The component itself is in
 * report.c; report.h has the map of the other files.
 */
#include <babeltrace2/babeltrace.h>

#include "report.h"

BT_PLUGIN_MODULE();

BT_PLUGIN(magslab);
BT_PLUGIN_DESCRIPTION("magslab slab allocator: reports from magslab:* LTTng-UST traces");
BT_PLUGIN_AUTHOR("magslab");
BT_PLUGIN_LICENSE("MIT");
BT_PLUGIN_VERSION(0, 1, 0, "");

BT_PLUGIN_SINK_COMPONENT_CLASS(report, report_consume);
BT_PLUGIN_SINK_COMPONENT_CLASS_DESCRIPTION(report,
	"Aggregate magslab:* events per cache and time bucket; write summary.json, "
	"summary.txt, index.html, time-series data, gnuplot scripts and manifest.json");
BT_PLUGIN_SINK_COMPONENT_CLASS_HELP(report,
	"Parameters:\n"
	"  output-dir (string, required)  report directory, created if missing\n"
	"  bucket-ms  (integer, default 100)  width of a time bucket in milliseconds\n"
	"  max-caches (integer, default 8)  caches drawn in the plots (the most active)\n"
	"  title      (string, optional)  first line of every plot title\n"
	"  snapshot-ms (integer, default 0 = off)  while the stream goes on, write the\n"
	"             report so far (all but index.html) every that many ms of wall-clock\n"
	"             time, plus live-magsize.gpi, live-contention.gpi and, last,\n"
	"             snapshot.seq (a counter)\n"
	"  damage, hosts, host, live-page  what the magslab front end passes in: findings\n"
	"             about the trace's files, the host table, the live page (docs/report.md)\n"
	"The outputs are described in docs/report.md of magslab.  Render the plots\n"
	"with: cd OUTPUT-DIR && gnuplot magsize.gp contention.gp hash.gp depot.gp layers.gp");
BT_PLUGIN_SINK_COMPONENT_CLASS_INITIALIZE_METHOD(report, report_init);
BT_PLUGIN_SINK_COMPONENT_CLASS_GRAPH_IS_CONFIGURED_METHOD(report, report_graph_is_configured);
BT_PLUGIN_SINK_COMPONENT_CLASS_FINALIZE_METHOD(report, report_finalize);
