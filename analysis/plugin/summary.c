/*
 * summary.c — sink.magslab.report: summary.txt (docs/report.md, "Files"), the report for a
 * terminal: the loss line (first; a damaged trace's line before it), the trace, run, phases
 * and layers lines, an aligned table of the caches (plotted first) and one of the arenas,
 * the warnings.
 *
 * Owns those lines and the cache table's columns and cells, which index.html shows the
 * same way (html.c) and the sink prints on stderr (the loss lines, output.c).  Text only:
 * control characters of names are written as '?'.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "output.h"


/*
 * The first line of summary.txt (and of index.html) when the trace is damaged (then the
 * discarded-events line is the second).  False when it is not.
 */
bool summary_damage_line(const struct report *r, char *buf, size_t n)
{
	if (!r->damage_total)
		return false;
	snprintf(buf, n, "DAMAGED TRACE: %s%s; the figures below are not reliable",
		 r->damage[0], r->damage_total > 1 ? " (and more: summary.json \"damage\")" : "");
	return true;
}

/* The first line of summary.txt (and of index.html) of a trace that is not damaged. */
void summary_discarded_line(const struct out *o, char *buf, size_t n)
{
	struct report *r = o->r;

	if (!r->disc_event_msgs && !r->disc_packet_msgs) {
		snprintf(buf, n, "No events were discarded.");
		return;
	}
	if (r->nr_windows)
		snprintf(buf, n, "WARNING: %" PRIu64 " events%s%s were discarded by the tracer between "
			 "%.3f s and %.3f s (%" PRIu64 " window%s, shaded in the plots); counts below "
			 "are lower bounds", r->disc_events,
			 r->disc_unknown_count ? " (or more: some losses have no count)" : "",
			 r->disc_packets ? " and packets" : "", rel_s(r, r->disc_first),
			 rel_s(r, r->disc_last), r->nr_windows, r->nr_windows == 1 ? "" : "s");
	else
		snprintf(buf, n, "WARNING: %" PRIu64 " events%s were discarded by the tracer (no time "
			 "window known); counts below are lower bounds", r->disc_events,
			 r->disc_packets ? " and packets" : "");
	if (r->disc_packets) {
		size_t l = strlen(buf);

		snprintf(buf + l, n - l, "; %" PRIu64 " packets were lost", r->disc_packets);
	}
}

const char *const summary_col_names[NCOLS] = {
	"cache", "id", "kind", "obj_B", "policy", "thr", "timeout", "magsize s/f/max", "up",
	"down", "contended(counted)", "wait p50/p99/max us", "hash_res", "depot peak full/empty",
	"gets/puts/misses", "pcc_mode",
};
const bool summary_col_left[NCOLS] = { true, false, true, false, true, false, false, false,
				      false, false, false, false, false, false, false, true };

void summary_cache_cells(const struct out *o, const struct cache *c, char cells[NCOLS][96])
{
	char tmo[32];

	snprintf(cells[0], 96, "%.60s", c->name);
	snprintf(cells[1], 96, "%" PRIu32, c->id);
	snprintf(cells[2], 96, "%s", cache_kind(o->r, c));
	if (is_internal(c)) {
		snprintf(cells[3], 96, "%" PRIu64, c->obj_size);
		strcpy(cells[4], "-");
		strcpy(cells[5], "-");
		strcpy(cells[6], "-");
	} else if (c->created) {
		fmt_ns(tmo, sizeof(tmo), c->timeout_ns);
		snprintf(cells[3], 96, "%" PRIu64, c->obj_size);
		snprintf(cells[4], 96, "%s", policy_name(c->policy));
		snprintf(cells[5], 96, "%" PRIu64, c->threshold);
		snprintf(cells[6], 96, "%s", tmo);
	} else {
		strcpy(cells[3], "?");
		strcpy(cells[4], "?");
		strcpy(cells[5], "?");
		strcpy(cells[6], "?");
	}
	if (c->magsize_known && !is_internal(c))
		snprintf(cells[7], 96, "%" PRIu32 "/%" PRIu32 "/%" PRIu32, c->magsize0, c->magsize,
			 c->magsize_max);
	else
		strcpy(cells[7], "-");
	snprintf(cells[8], 96, "%" PRIu64, c->bumps_up);
	snprintf(cells[9], 96, "%" PRIu64, c->bumps_down);
	snprintf(cells[10], 96, "%" PRIu64 " (%" PRIu64 ")", c->contended, c->counted);
	if (c->contended)
		snprintf(cells[11], 96, "%.1f/%.1f/%.1f",
			 ms_hist_percentile(c->hist, c->contended, c->wait_max, 50) / 1e3,
			 ms_hist_percentile(c->hist, c->contended, c->wait_max, 99) / 1e3, c->wait_max / 1e3);
	else
		strcpy(cells[11], "-");
	snprintf(cells[12], 96, "%" PRIu64, c->hash.resizes);
	if (c->depot_known)
		snprintf(cells[13], 96, "%" PRIu64 "/%" PRIu64, c->nne_max, c->ne_max);
	else
		strcpy(cells[13], "-");
	snprintf(cells[14], 96, "%" PRIu64 "/%" PRIu64 "/%" PRIu64, c->gets[0] + c->gets[1],
		 c->puts[0] + c->puts[1], c->misses[0] + c->misses[1]);
	snprintf(cells[15], 96, "%s", c->created ? ms_pcc_mode_names[c->pcc_mode] : "?");
}

/* The caches in table order: plotted (most active first), then the others. */
const struct cache *summary_table_cache(const struct out *o, uint32_t i)
{
	struct report *r = o->r;
	uint32_t k, n = o->nr_plot;

	if (i < o->nr_plot)
		return o->plot[i];
	for (k = 0; k < r->nr_caches; k++) {
		if (r->caches[k]->plotted)
			continue;
		if (n++ == i)
			return r->caches[k];
	}
	return NULL;
}

void summary_phases_line(const struct out *o, FILE *f, bool html)
{
	struct report *r = o->r;
	uint32_t i;

	fprintf(f, "phases: ");
	if (!r->nr_phases)
		fprintf(f, "none (no workload_phase events)");
	for (i = 0; i < r->nr_phases_kept && i < 24; i++) {
		char buf[160];

		snprintf(buf, sizeof(buf), "%s%" PRIu32 " %.100s @%.3f s", i ? ", " : "",
			 r->phases[i].index, r->phases[i].name, secs(r->phases[i].t));
		if (html)
			html_str(f, buf);
		else
			plain_str(f, buf);
	}
	if (r->nr_phases > 24)
		fprintf(f, ", ... (%" PRIu64 " in all, see phases.dat)", r->nr_phases);
	fputc('\n', f);
}

void summary_run_line(const struct out *o, char *buf, size_t n)
{
	struct report *r = o->r;
	char tmo[32], bucket[32];
	size_t l;

	fmt_ns(tmo, sizeof(tmo), o->tmo);
	fmt_ns(bucket, sizeof(bucket), r->bucket_ns);
	if (r->program)
		snprintf(buf, n, "run: program %.200s; ", r->program);
	else if (o->workload)
		snprintf(buf, n, "run: workload %s (from cache %.60s); ", o->workload, o->workload_from);
	else
		snprintf(buf, n, "run: workload unknown; ");
	l = strlen(buf);
	if (o->thr_state == 1)
		snprintf(buf + l, n - l, "policy %s, threshold %" PRIu64 ", timeout %s; "
			 "pcc mode %s; bucket %s", policy_name(o->policy), o->thr, tmo,
			 run_pcc_mode(o), bucket);
	else if (o->thr_state == 2)
		snprintf(buf + l, n - l, "threshold and timeout per cache (below); pcc mode %s; "
			 "bucket %s", run_pcc_mode(o), bucket);
	else
		snprintf(buf + l, n - l, "threshold and timeout unknown; bucket %s", bucket);
}

void summary_trace_line(const struct out *o, char *buf, size_t n)
{
	struct report *r = o->r;
	char iso[64] = "";

	if (r->clock_unix_epoch)
		iso_time(iso, sizeof(iso), r->t0);
	snprintf(buf, n, "trace: %" PRIu32 " trace%s, %.3f s%s%s, %" PRIu64 " events (%" PRIu64
		 " magslab), %" PRIu32 " caches, %" PRIu32 " arenas",
		 r->nr_traces, r->nr_traces == 1 ? "" : "s", secs(r->t_last - r->t0),
		 *iso ? " from " : "", iso, r->events, r->magslab_events, r->nr_caches, r->nr_arenas);
}

/* The lines above the tables. */
static void txt_heading(const struct out *o, FILE *f)
{
	char line[512];

	if (summary_damage_line(o->r, line, sizeof(line)))
		fprintf(f, "%s\n", line);
	summary_discarded_line(o, line, sizeof(line));
	fprintf(f, "%s\n", line);
	summary_trace_line(o, line, sizeof(line));
	fprintf(f, "%s\n", line);
	summary_run_line(o, line, sizeof(line));
	plain_str(f, line);
	fputc('\n', f);
	summary_phases_line(o, f, false);
	fprintf(f, "layers: %s\n\n", summary_layers_mode(o));
}

/* What the layers line says: exact, from what; or estimated. */
const char *summary_layers_mode(const struct out *o)
{
	if (!o->exact_layers)
		return "estimated (a trace without alloc events or pcc counters: pcc hits unknown)";
	return o->layers_counters ? "exact (pcc counters of the slow-path events)"
				  : "exact (alloc events)";
}

/* The caches, one row each, every column as wide as its widest cell. */
static void txt_caches(const struct out *o, FILE *f)
{
	const struct report *r = o->r;
	char cells[NCOLS][96];
	size_t width[NCOLS];
	uint32_t i;
	int k;

	for (k = 0; k < NCOLS; k++)
		width[k] = strlen(summary_col_names[k]);
	for (i = 0; i < r->nr_caches; i++) {
		summary_cache_cells(o, summary_table_cache(o, i), cells);
		for (k = 0; k < NCOLS; k++)
			if (strlen(cells[k]) > width[k])
				width[k] = strlen(cells[k]);
	}
	for (k = 0; k < NCOLS; k++)
		fprintf(f, "%s%-*s", k ? "  " : "", k == NCOLS - 1 ? 0 : (int)width[k],
			summary_col_names[k]);
	fputc('\n', f);
	for (i = 0; i < r->nr_caches; i++) {
		summary_cache_cells(o, summary_table_cache(o, i), cells);
		for (k = 0; k < NCOLS; k++) {
			int pad = (int)(width[k] - strlen(cells[k]));

			fputs(k ? "  " : "", f);
			if (!summary_col_left[k])
				fprintf(f, "%*s", pad, "");
			plain_str(f, cells[k]);
			if (summary_col_left[k] && k < NCOLS - 1)
				fprintf(f, "%*s", pad, "");
		}
		fputc('\n', f);
	}
	if (r->nr_caches > o->nr_plot)
		fprintf(f, "(plotted: the first %" PRIu32 " rows, the caches with the most magazine "
			"activity; max-caches = %" PRIu32 ")\n", o->nr_plot, r->max_caches);
}

static void txt_arenas(const struct report *r, FILE *f)
{
	char line[512];
	uint32_t i;

	if (!r->nr_arenas)
		return;
	fprintf(f, "\narena            id  quantum  imports  releases  fails  hash_resizes\n");
	for (i = 0; i < r->nr_arenas; i++) {
		const struct arena *a = r->arenas[i];

		snprintf(line, sizeof(line), "%-15.40s", a->name);
		plain_str(f, line);
		fprintf(f, "  %2" PRIu32 "  %7" PRIu64 "  %7" PRIu64 "  %8" PRIu64 "  %5" PRIu64
			"  %12" PRIu64 "\n", a->id, a->quantum, a->imports, a->releases, a->fails,
			a->hash.resizes);
	}
}

int summary_write(struct out *o)
{
	struct report *r = o->r;
	FILE *f = out_open(o, "summary.txt");
	uint32_t i;

	if (!f)
		return -1;
	txt_heading(o, f);
	txt_caches(o, f);
	txt_arenas(r, f);
	for (i = 0; i < r->nr_warnings; i++)
		fprintf(f, "%swarning: %s\n", i ? "" : "\n", r->warnings[i]);
	return out_close(o, f, "summary.txt");
}
