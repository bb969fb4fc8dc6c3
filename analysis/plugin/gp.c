/*
 * gp.c — sink.magslab.report: the gnuplot scripts of the report directory (docs/report.md,
 * "The plots"): common.gpi (the settings every plot shares: grid, key, x axis, colours, the
 * phase markers and the shaded discarded windows), magsize.gp, contention.gp, hash.gp,
 * depot.gp, layers.gp and slots.gp (each draws NAME.png, NAME.svg and NAME.js — gnuplot's
 * canvas terminal, the zoomable plot of index.html — from the .dat files of dat.c, named
 * relatively: run them in the report directory), and with snapshot-ms the
 * live-magsize.gpi and live-contention.gpi scripts (the same plots, terminal and output
 * left to the viewer).
 *
 * Reads the block numbers dat.c noted in struct out (a series without a block is not
 * plotted), so it runs after dat.c.  A plot with nothing to draw says so in its middle.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"

/* Line colours of the plotted caches (slot 0..), repeated past the end. */
static const char *const colours[NR_COLOURS] = {
	"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b",
	"#e377c2", "#7f7f7f", "#bcbd22",
};

#define MAX_PHASE_LINES 64
#define MAX_PHASE_LABELS 24
#define MAX_RECTS 300

/* One shaded window [rb, re], at least minw wide; the next object tag. */
static int rect(FILE *gpi, int tag, double rb, double re, double minw)
{
	double m = (rb + re) / 2, h = (re - rb < minw ? minw : re - rb) / 2;

	fprintf(gpi, "set object %d rect from %.6f, graph 0 to %.6f, graph 1 behind "
		"fc rgb \"#f2a0a0\" fs solid 0.45 noborder\n", tag, m - h, m + h);
	return tag + 1;
}

/* The shaded rectangles of the discarded windows (at most MAX_RECTS: windows closer than
 * 1/MAX_RECTS of the axis are merged, and each is drawn at least 1/400 of the axis wide so
 * that it can be seen). */
static int discarded_rects(struct out *o, FILE *gpi)
{
	struct report *r = o->r;
	uint64_t w[2];
	double gap = o->dur / MAX_RECTS, minw = o->dur / 400, rb = 0, re = 0;
	bool open = false;
	int tag = 2000;

	if (out_rewind(r, r->win_f))
		return -1;
	fprintf(gpi, "# discarded-event windows (discarded.dat), shaded\n");
	while (fread(w, sizeof(w), 1, r->win_f) == 1) {
		double b = rel_s(r, w[0]), e = rel_s(r, w[1]);

		if (open && b - re < gap) {
			if (e > re)
				re = e;
			continue;
		}
		if (open)
			tag = rect(gpi, tag, rb, re, minw);
		open = true;
		rb = b;
		re = e;
	}
	if (open)
		rect(gpi, tag, rb, re, minw);
	return 0;
}

/* The phase markers: a dashed line per workload_phase (and a label while they are few). */
static void phase_markers(const struct report *r, FILE *f)
{
	uint32_t i;

	fprintf(f, "# phase markers (phases.dat): %" PRIu64 " workload_phase event(s)\n",
		r->nr_phases);
	if (r->nr_phases > MAX_PHASE_LINES) {
		fprintf(f, "# (more than %d: not drawn)\n", MAX_PHASE_LINES);
		return;
	}
	for (i = 0; i < r->nr_phases_kept; i++) {
		const struct phase *p = &r->phases[i];
		char label[160];

		fprintf(f, "set arrow %u from %.6f, graph 0 to %.6f, graph 1 nohead "
			"lc rgb \"#444444\" dt 2 lw 1 front\n", 1000 + i, secs(p->t), secs(p->t));
		if (r->nr_phases > MAX_PHASE_LABELS)
			continue;
		if (strcmp(p->name, "end") == 0)
			snprintf(label, sizeof(label), "end");
		else
			snprintf(label, sizeof(label), "%" PRIu32 " %.100s", p->index, p->name);
		fprintf(f, "set label %u ", 1000 + i);
		gp_str(f, label);
		fprintf(f, " at %.6f, graph 1 offset char 0.4,-0.8 left font \",9\" "
			"tc rgb \"#333333\" front\n", secs(p->t));
	}
}

static int write_common(struct out *o)
{
	FILE *f = out_open(o, "common.gpi");
	uint32_t i;

	if (!f)
		return -1;
	fprintf(f, "# common.gpi — settings shared by magsize.gp, contention.gp, hash.gp, depot.gp\n"
		"# and layers.gp (written by sink.magslab.report; see docs/report.md).  Those\n"
		"# scripts load it by its relative name: run them with the report directory as\n"
		"# the current directory.  Phase markers come from phases.dat (workload_phase\n"
		"# events), shaded windows from discarded.dat.\n");
	fprintf(f, "reset\nset encoding utf8\n");
	fprintf(f, "set grid lc rgb \"#dddddd\"\nset border 3\nset tics nomirror\n");
	fprintf(f, "set key below horizontal Left reverse noenhanced samplen 2 font \",9\"\n");
	fprintf(f, "set xlabel \"time since trace start (s)\"\n");
	fprintf(f, "duration = %.6f\nbucket_s = %.6f\n", o->dur, o->bucket_s);
	/* A bucket's point: the middle of its part inside the trace (a trace shorter than a
	 * bucket would otherwise put every point right of the x range). */
	fputs("mid(t) = t + bucket_s / 2 < duration ? t + bucket_s / 2 : (t + duration) / 2\n", f);
	fprintf(f, "set xrange [0:duration]\n");
	for (i = 0; i < NR_COLOURS; i++)
		fprintf(f, "set style line %u lc rgb \"%s\" lw 2\n", i + 1, colours[i]);
	phase_markers(o->r, f);
	if (discarded_rects(o, f)) {
		fclose(f);
		return -1;
	}
	return out_close(o, f, "common.gpi");
}

/* The part every plot script shares: header comment, title, the two terminals. */
static void gp_begin(FILE *f, const char *name, const char *what, const char *data)
{
	fprintf(f, "# %s.gp — %s\n", name, what);
	fprintf(f, "# Written by sink.magslab.report (see docs/report.md).  Run it with the report\n"
		"# directory as the current directory (data files are named relatively):\n"
		"#     gnuplot %s.gp      ->  %s.png (pngcairo, 1200x700), %s.svg and %s.js\n"
		"# (%s.js: the canvas terminal's drawing function %s(), index.html's zoomable plot;\n"
		"# it needs gnuplot's canvas scripts in js/, which magslab report copies there)\n"
		"# Data: %s; common.gpi: shared settings, phase markers, discarded windows.\n",
		name, name, name, name, name, name, data);
	fprintf(f, "do for [fmt in \"png svg js\"] {\n");
	fprintf(f, "load \"common.gpi\"\n");
	fprintf(f, "if (fmt eq \"png\") {\n"
		"    set terminal pngcairo size 1200,700 noenhanced font \"sans,10\"\n"
		"    set output \"%s.png\"\n"
		"} else { if (fmt eq \"svg\") {\n"
		"    set terminal svg size 1200,700 noenhanced font \"sans,10\" background rgb \"white\"\n"
		"    set output \"%s.svg\"\n"
		"} else {\n"
		"    set terminal canvas size 1200,700 noenhanced font \"sans,10\" name \"%s\" jsdir \"js\"\n"
		"    set output \"%s.js\"\n"
		"} }\n", name, name, name, name);
}

static void gp_title(struct out *o, FILE *f, const char *what, const char *extra)
{
	char *t = ms_asprintf("%s: %s\n%s%s%s%s%s", what, o->title1, o->title2,
			      extra ? "\n" : "", extra ? extra : "", o->title3 ? "\n" : "",
			      o->title3 ? o->title3 : "");

	fputs("set title ", f);
	gp_str(f, t);
	fputc('\n', f);
	free(t);
}

static void gp_cache_title(FILE *f, const struct cache *c, const char *suffix)
{
	char *t = ms_asprintf("%s%s", c->name, suffix);

	fputs(" title ", f);
	gp_str(f, t);
	free(t);
}

/* The key entry of the shaded windows, when there are any. */
static void gp_discarded_key(struct out *o, FILE *f, bool *first)
{
	if (!o->r->nr_windows)
		return;
	fprintf(f, "%s    NaN with boxes fs solid 0.45 noborder fc rgb \"#f2a0a0\" "
		"title \"events discarded by the tracer\"", *first ? "plot " : ", \\\n");
	*first = false;
}

static void gp_sep(FILE *f, bool *first)
{
	fputs(*first ? "plot " : ", \\\n     ", f);
	*first = false;
}

/* A plot with nothing to draw still says so. */
static void gp_empty(FILE *f, const char *msg)
{
	fputs("set label 999 ", f);
	gp_str(f, msg);
	fputs(" at graph 0.5, graph 0.5 center font \",14\"\nset yrange [0:1]\n"
	      "plot NaN notitle\n", f);
}

static void gp_end(FILE *f)
{
	fprintf(f, "set output\n}\n");
}

/* The end of a plot script: its plot line ended (with the discarded windows' key), or
 * when it drew nothing (first still true), the message empty instead. */
static int gp_finish(struct out *o, FILE *f, bool first, const char *empty, const char *name)
{
	if (first) {
		gp_empty(f, empty);
	} else {
		gp_discarded_key(o, f, &first);
		fputc('\n', f);
	}
	gp_end(f);
	return out_close(o, f, name);
}

/* The plot of magsize.gp (and live-magsize.gpi), after the terminal is set. */
static void magsize_body(struct out *o, FILE *f)
{
	bool first = true;
	uint32_t k;

	gp_title(o, f, "Depot magazine size", NULL);
	fprintf(f, "set ylabel \"magazine size (rounds)\"\nset yrange [0:*]\n"
		"set offsets 0, 0, graph 0.08, 0\n");
	if (!o->nr_plot) {
		gp_empty(f, "no cache had magazine activity in this trace");
	} else {
		for (k = 0; k < o->nr_plot; k++) {
			gp_sep(f, &first);
			fprintf(f, "\"magsize.dat\" index %d using 1:2 with steps ls %u",
				o->blk_magsize[k], k % NR_COLOURS + 1);
			gp_cache_title(f, o->plot[k], ": depot magsize");
			if (o->blk_pcc[k] >= 0) {
				gp_sep(f, &first);
				fprintf(f, "\"pcc_magsize.dat\" index %d using 1:2 with points ls %u "
					"pt 7 ps 0.6", o->blk_pcc[k], k % NR_COLOURS + 1);
				gp_cache_title(f, o->plot[k], ": a CPU adopts it (pcc_magsize)");
			}
		}
		gp_discarded_key(o, f, &first);
		fputc('\n', f);
	}
}

static int write_magsize_gp(struct out *o)
{
	FILE *f = out_open(o, "magsize.gp");

	if (!f)
		return -1;
	gp_begin(f, "magsize", "depot magazine size per cache, with per-CPU adoptions",
		 "magsize.dat, pcc_magsize.dat");
	magsize_body(o, f);
	gp_end(f);
	return out_close(o, f, "magsize.gp");
}

/* The plots of contention.gp (and live-contention.gpi), after the terminal is set. */
static void contention_body(struct out *o, FILE *f)
{
	bool first = true, any_bumps = false;
	uint32_t k;
	char ylabel[96];

	snprintf(ylabel, sizeof(ylabel), "contended depot acquisitions per %g ms bucket",
		 o->bucket_s * 1e3);
	fprintf(f, "set multiplot\n");
	fprintf(f, "set key outside right top vertical Left reverse noenhanced samplen 2 "
		"font \",9\"\n");
	fprintf(f, "set lmargin at screen 0.07\nset rmargin at screen 0.70\n");
	fprintf(f, "set origin 0, 0.32\nset size 1, 0.68\nset bmargin 1\n");
	gp_title(o, f, "Depot contention and magazine resizes", NULL);
	fprintf(f, "set ylabel \"%s\"\nset yrange [0:*]\nset offsets 0, 0, graph 0.08, 0\n", ylabel);
	fprintf(f, "set y2label \"wait for the depot lock, p99 per bucket (us)\"\n"
		"set y2tics\nset y2range [0:*]\nset format x \"\"\nunset xlabel\n");
	for (k = 0; k < o->nr_plot; k++) {
		/* only the caches that were contended or resized */
		if (o->blk_cont[k] < 0 || (!o->plot[k]->contended && o->blk_bumps[k] < 0))
			continue;
		gp_sep(f, &first);
		fprintf(f, "\"contention.dat\" index %d using 1:2 with steps ls %u", o->blk_cont[k],
			k % NR_COLOURS + 1);
		gp_cache_title(f, o->plot[k], ": contended");
		gp_sep(f, &first);
		fprintf(f, "\"contention.dat\" index %d using (mid($1)):($6 / 1000.0) axes "
			"x1y2 with points ls %u pt 6 ps 0.8", o->blk_cont[k], k % NR_COLOURS + 1);
		gp_cache_title(f, o->plot[k], ": wait p99 (right axis)");
	}
	if (first) {
		fputs("set label 999 \"no depot contention in this trace\" at graph 0.5, graph 0.5 "
		      "center font \",14\"\nset yrange [0:1]\nunset y2tics\nplot NaN notitle\n", f);
	} else {
		gp_discarded_key(o, f, &first);
		fputc('\n', f);
	}
	/* bottom panel: the resize events */
	fprintf(f, "unset title\nunset y2label\nunset y2tics\nset format x \"%%g\"\n"
		"set xlabel \"time since trace start (s)\"\nunset label\n"
		"set origin 0, 0\nset size 1, 0.32\nset tmargin 0.5\nset bmargin 3.5\n"
		"set ylabel \"new magsize\\n(magsize_bump)\"\nset yrange [0:*]\n");
	first = true;
	for (k = 0; k < o->nr_plot; k++) {
		if (o->blk_bumps[k] < 0)
			continue;
		any_bumps = true;
		gp_sep(f, &first);
		fprintf(f, "\"bumps.dat\" index %d using 1:3 with impulses ls %u notitle",
			o->blk_bumps[k], k % NR_COLOURS + 1);
		gp_sep(f, &first);
		fprintf(f, "\"bumps.dat\" index %d using 1:3 with points ls %u pt 9 ps 1.2",
			o->blk_bumps[k], k % NR_COLOURS + 1);
		gp_cache_title(f, o->plot[k], ": magsize_bump");
	}
	if (!any_bumps)
		fputs("set label 998 \"no magsize_bump events\" at graph 0.5, graph 0.5 center\n"
		      "set yrange [0:1]\nplot NaN notitle\n", f);
	else
		fputc('\n', f);
	fprintf(f, "unset multiplot\n");
}

static int write_contention_gp(struct out *o)
{
	FILE *f = out_open(o, "contention.gp");

	if (!f)
		return -1;
	gp_begin(f, "contention", "contended depot acquisitions and wait per bucket (top), "
		 "magsize_bump events (bottom)", "contention.dat, bumps.dat");
	contention_body(o, f);
	gp_end(f);
	return out_close(o, f, "contention.gp");
}

/* live-NAME.gpi: the body of NAME.gp for a terminal the viewer has set (snapshot-ms). */
static int write_live_script(struct out *o, const char *name, const char *what,
			     void (*body)(struct out *, FILE *))
{
	char file[64];
	FILE *f;

	snprintf(file, sizeof(file), "live-%s.gpi", name);
	f = out_open(o, file);
	if (!f)
		return -1;
	fprintf(f, "# %s — %s, for a terminal of the viewer's choice\n", file, what);
	fprintf(f, "# Written by sink.magslab.report with snapshot-ms (see docs/report.md), at every\n"
		"# snapshot: %s.gp without terminal or output.  With the report directory as the\n"
		"# current directory:\n"
		"#     set terminal dumb size 120,30; load \"%s\"\n"
		"# The string variable live_setup, if defined, is run after common.gpi (e.g.\n"
		"# live_setup = \"unset grid\").\n", name, file);
	fprintf(f, "load \"common.gpi\"\nif (exists(\"live_setup\")) {\n    eval live_setup\n}\n");
	body(o, f);
	return out_close(o, f, file);
}

int gp_write_live(struct out *o)
{
	return write_live_script(o, "magsize", "depot magazine size per cache", magsize_body) ||
	       write_live_script(o, "contention", "depot contention and magazine resizes",
				 contention_body);
}

static int write_hash_gp(struct out *o)
{
	FILE *f = out_open(o, "hash.gp");
	bool first = true;
	uint32_t k;

	if (!f)
		return -1;
	gp_begin(f, "hash", "hash table lists and items at each hash_resize", "hash.dat");
	gp_title(o, f, "Hash tables (bufctl hashes of caches, segment hashes of arenas)",
		 "lines: hash lists after each hash_resize (filled squares: the resizes); "
		 "circles: items in the table at the resize");
	fprintf(f, "set ylabel \"hash lists, items (log scale)\"\nset logscale y 2\n");
	for (k = 0; k < o->nr_hs; k++) {
		const struct hash_series *h = &o->hs[k];
		char *t;

		if (o->blk_hash[k] < 0)
			continue;
		gp_sep(f, &first);
		t = ms_asprintf("%s %s: lists", h->kind == HASH_KIND_CACHE ? "cache" : "arena",
				h->name);
		fprintf(f, "\"hash.dat\" index %d using 1:3 with steps ls %u title ", o->blk_hash[k],
			k % NR_COLOURS + 1);
		gp_str(f, t);
		free(t);
		gp_sep(f, &first);
		fprintf(f, "\"hash.dat\" index %d using 1:($6 == 1 ? $3 : NaN) with points ls %u "
			"pt 5 ps 0.9 notitle", o->blk_hash[k], k % NR_COLOURS + 1);
		gp_sep(f, &first);
		t = ms_asprintf("%s %s: items at the resize",
				h->kind == HASH_KIND_CACHE ? "cache" : "arena", h->name);
		fprintf(f, "\"hash.dat\" index %d using 1:4 with points ls %u pt 6 ps 0.9 title ",
			o->blk_hash[k], k % NR_COLOURS + 1);
		gp_str(f, t);
		free(t);
	}
	if (first)
		fputs("unset logscale y\nset ylabel \"hash lists, items\"\n", f);
	return gp_finish(o, f, first, "no hash_resize events in this trace", "hash.gp");
}

static int write_depot_gp(struct out *o)
{
	FILE *f = out_open(o, "depot.gp");
	bool first = true;
	uint32_t k;

	if (!f)
		return -1;
	gp_begin(f, "depot", "full and empty magazines in the depot", "depot.dat");
	gp_title(o, f, "Depot occupancy (at the end of each bucket with depot traffic)", NULL);
	fprintf(f, "set ylabel \"magazines in the depot\"\nset yrange [0:*]\n"
		"set offsets 0, 0, graph 0.08, 0\n");
	for (k = 0; k < o->nr_plot; k++) {
		if (o->blk_depot[k] < 0)
			continue;
		gp_sep(f, &first);
		fprintf(f, "\"depot.dat\" index %d using 1:2 with steps ls %u", o->blk_depot[k],
			k % NR_COLOURS + 1);
		gp_cache_title(f, o->plot[k], ": full (nr_not_empty)");
		gp_sep(f, &first);
		fprintf(f, "\"depot.dat\" index %d using 1:3 with steps ls %u dt 2 lw 1.5",
			o->blk_depot[k], k % NR_COLOURS + 1);
		gp_cache_title(f, o->plot[k], ": empty (nr_empty)");
	}
	return gp_finish(o, f, first, "no depot exchanges in this trace", "depot.gp");
}

/* The title of layers.gp when the shares are exact: from alloc events or pcc counters. */
static void layers_exact_title(struct out *o, FILE *f)
{
	if (o->layers_counters)
		gp_title(o, f, "Allocations by layer (exact, from the pcc counters of depot_exchange "
			 "and depot_miss)", "share of each bucket's allocations (caches with "
			 "magazines): pcc = from a loaded or previous magazine (a slot's hits are "
			 "counted\nat its next depot visit), depot = after a depot exchange, slab = "
			 "fell through to the slab layer");
	else
		gp_title(o, f, "Allocations by layer (exact, from magslab:alloc events)",
			 "share of each bucket's allocations (caches with magazines): pcc = from a loaded "
			 "or previous magazine,\ndepot = after a depot exchange, slab = fell through to "
			 "the slab layer");
}

static int write_layers_gp(struct out *o)
{
	FILE *f = out_open(o, "layers.gp");

	if (!f)
		return -1;
	gp_begin(f, "layers", !o->exact_layers ?
		 "allocation-side depot traffic per second (estimate: no alloc events or counters)" :
		 o->layers_counters ?
		 "share of allocations served by pcc / depot / slab per bucket (pcc counters)" :
		 "share of allocations served by pcc / depot / slab per bucket (alloc events)",
		 "layers.dat");
	if (!o->layers_any) {
		gp_title(o, f, "Allocation layers", NULL);
		return gp_finish(o, f, true, !o->exact_layers ?
				 "no allocation-side depot traffic in this trace" : o->layers_counters ?
				 "no allocations of a cache with magazines" :
				 "no alloc events of a cache with magazines", "layers.gp");
	}
	if (o->exact_layers) {
		layers_exact_title(o, f);
		fprintf(f, "set ylabel \"share of allocations (%%)\"\nset yrange [0:100]\n"
			"set boxwidth bucket_s absolute\nset style fill solid 0.85 noborder\n");
		fprintf(f, "plot \"layers.dat\" using (mid($1)):($6 + $7 + $8) with boxes "
			"lc rgb \"#d62728\" title \"slab\", \\\n"
			"     \"layers.dat\" using (mid($1)):($6 + $7) with boxes "
			"lc rgb \"#ff7f0e\" title \"depot\", \\\n"
			"     \"layers.dat\" using (mid($1)):6 with boxes "
			"lc rgb \"#2ca02c\" title \"pcc\"");
	} else {
		gp_title(o, f, "Allocation layers: ESTIMATE (a trace without the pcc counters, "
			 "recorded before depot_exchange)",
			 "pcc hits are not in this trace, so no shares: depot = allocations after an "
			 "alloc-side depot_get, slab = alloc-side depot_miss\n(exact counts, caches with "
			 "magazines); a trace of this version's library has exact shares");
		fprintf(f, "set ylabel \"per second (log scale; empty buckets not drawn)\"\n"
			"set logscale y 10\nset format y \"%%.0s%%c\"\n"
			"set offsets 0, 0, graph 0.08, 0\n");
		fprintf(f, "plot \"layers.dat\" using 1:($12 > 0 ? $12 : NaN) with steps lc rgb "
			"\"#ff7f0e\" lw 2 title \"allocations served after a depot exchange "
			"(alloc-side depot_get)\", \\\n"
			"     \"layers.dat\" using (mid($1)):($12 > 0 ? $12 : NaN) with points "
			"lc rgb \"#ff7f0e\" pt 7 ps 0.5 notitle, \\\n"
			"     \"layers.dat\" using 1:($14 > 0 ? $14 : NaN) with steps lc rgb \"#d62728\" "
			"lw 2 title \"allocations that fell to the slab layer (alloc-side depot_miss)\", "
			"\\\n"
			"     \"layers.dat\" using (mid($1)):($14 > 0 ? $14 : NaN) with points "
			"lc rgb \"#d62728\" pt 7 ps 0.5 notitle, \\\n"
			"     \"layers.dat\" using 1:($13 > 0 ? $13 : NaN) with steps lc rgb \"#7f7f7f\" "
			"lw 1 dt 2 title \"objects delivered in full magazines by the depot (rounds)\"");
	}
	return gp_finish(o, f, false, NULL, "layers.gp");
}

/* slots.gp: a heat map of the depot exchanges per (bucket, slot), slots.dat. */
static int write_slots_gp(struct out *o)
{
	FILE *f = out_open(o, "slots.gp");

	if (!f)
		return -1;
	gp_begin(f, "slots", "depot exchanges per pcc slot and bucket (which CPUs are hungry)",
		 "slots.dat");
	gp_title(o, f, "Depot exchanges per pcc slot (which CPUs are hungry)",
		 "caches with magazines; a slot is a CPU in rseq mode (or with --pcc-map cpu), a "
		 "thread with --pcc-map thread");
	if (!o->slots_any)
		return gp_finish(o, f, true, "no depot exchanges in this trace", "slots.gp");
	fprintf(f, "set ylabel \"pcc slot\"\nset yrange [-0.5:%u.5]\nset ytics 1\n"
		"set cblabel \"depot exchanges per %g ms bucket\"\nset cbrange [0:*]\n"
		"set palette defined (0 \"#fff5eb\", 1 \"#fd8d3c\", 2 \"#7f2704\")\n",
		o->max_slot, o->bucket_s * 1e3);
	if (o->max_slot > 32)
		fprintf(f, "set ytics autofreq\n");
	fprintf(f, "plot \"slots.dat\" using (mid($1)):2:(bucket_s / 2):(0.5):5 with boxxyerror "
		"fs solid 1.0 noborder lc palette notitle");
	return gp_finish(o, f, false, NULL, "slots.gp");
}

int gp_write(struct out *o)
{
	return write_common(o) || write_magsize_gp(o) || write_contention_gp(o) ||
	       write_hash_gp(o) || write_depot_gp(o) || write_layers_gp(o) || write_slots_gp(o);
}
