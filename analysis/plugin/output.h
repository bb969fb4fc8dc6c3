/*
 * output.h — sink.magslab.report: what the writers of the report directory share (the
 * internal header of output.c, dat.c, gp.c, json.c, summary.c, html.c and hosts.c).
 *
 * output.c works out, once per report or snapshot, everything the files have in common
 * (struct out: the plotted caches and hash series, the time axis, the run's tunables, the
 * plot titles), then calls the writers in a fixed order: the data files first (dat.c
 * fills in the block numbers of each plotted cache), then the scripts that draw them
 * (gp.c), summary.json (json.c), summary.txt (summary.c), index.html (html.c), with
 * several hosts hosts.txt and hosts.json (hosts.c), trace.json (chrome.c), and last
 * manifest.json (json.c).  A writer opens its files with out_open and ends each with
 * out_close: in a snapshot the file is written under a hidden temporary name and renamed
 * into place, so that no reader ever sees half a file.
 *
 * Every writer reads the report (struct report) and the temporary files, and writes only
 * its own files; none calls another writer.  Errors: report_error and -1.
 */
#ifndef MAGSLAB_OUTPUT_H
#define MAGSLAB_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "report.h"

/* The plots, in the order of index.html and summary.json: NAME.gp writes NAME.png and
 * NAME.svg. */
#define NR_PLOTS 6
extern const char *const ms_plot_names[NR_PLOTS];

/* Line colours of the plotted caches (slot 0..), repeated past the end. */
#define NR_COLOURS 10

/* A hash table drawn in hash.gp: a cache's bufctl hash or an arena's segment hash. */
struct hash_series {
	int kind;		/* HASH_KIND_CACHE, HASH_KIND_ARENA */
	uint32_t idx;		/* in r->caches or r->arenas */
	const char *name;
	uint64_t events;	/* hash_resize events (ok or failed) */
};

/* Everything the writers share, worked out by output.c before any file is written. */
struct out {
	struct report *r;
	double dur;			/* s, the time axis is [0, dur] */
	double bucket_s;
	struct cache **plot;		/* plotted caches, most active first */
	uint32_t nr_plot;
	struct hash_series *hs;		/* hash series plotted, most resized first */
	uint32_t nr_hs;
	/* block numbers of each plotted cache in each .dat (-1: none; set by dat.c) */
	int *blk_magsize, *blk_pcc, *blk_cont, *blk_bumps, *blk_depot, *blk_hash;
	bool exact_layers;		/* from alloc events, or from the pcc counters */
	bool layers_counters;		/* exact from the pcc counters (no alloc events) */
	bool layers_any;		/* layers.dat has something to draw (set by dat.c) */
	bool slots_any;			/* slots.dat has something to draw (set by dat.c) */
	uint32_t max_slot;		/* the highest slot in slots.dat (set by dat.c) */
	char *title1, *title2, *title3;	/* lines of every plot title */
	const char *workload, *workload_from;
	int thr_state;			/* 0 none, 1 uniform, 2 per cache */
	uint64_t thr, tmo;
	uint32_t policy;
	int mode_state;			/* as thr_state, for the caches' pcc modes */
	uint32_t pcc_mode;
	bool snapshot;			/* a live snapshot: each file via a temporary name */
	const char *written[64];	/* the files written so far (for manifest.json) */
	uint32_t nr_written;
};

/* output.c: files */
FILE *out_open(struct out *o, const char *name);
int out_close(struct out *o, FILE *f, const char *name);
int out_rewind(struct report *r, FILE *f);	/* a temporary file, read from its start */

/* output.c: the facts several files state */
double secs(uint64_t ns);
double rel_s(const struct report *r, uint64_t abs_ns);
void fmt_ns(char *buf, size_t n, uint64_t ns);
void iso_time(char *buf, size_t n, uint64_t ns);
const char *policy_name(uint32_t p);
const char *run_pcc_mode(const struct out *o);
const char *cache_kind(const struct report *r, const struct cache *c);
uint64_t cache_activity(const struct cache *c);
bool is_internal(const struct cache *c);

/* output.c: strings written into the files, each for its syntax */
void gp_str(FILE *f, const char *s);		/* a gnuplot "..." literal */
void csv_str(FILE *f, const char *s);		/* a quoted CSV field */
void plain_str(FILE *f, const char *s);		/* text: control characters as '?' */
void html_str(FILE *f, const char *s);		/* HTML text and attribute values */

/* dat.c: buckets.csv and the *.dat files (fills in the block numbers and layers_any) */
int dat_write(struct out *o);

/* gp.c: common.gpi and the plot scripts; the live-*.gpi scripts */
int gp_write(struct out *o);
int gp_write_live(struct out *o);

/* json.c */
int json_write_summary(struct out *o);
json_t *json_text(const char *s);	/* a JSON string; bytes that are not UTF-8 as '?' */
int json_write_manifest(struct out *o);

/* chrome.c: trace.json (final report only) */
int chrome_write(struct out *o);

/* summary.c: summary.txt, and what index.html shows the same way */
int summary_write(struct out *o);
bool summary_damage_line(const struct report *r, char *buf, size_t n);
void summary_discarded_line(const struct out *o, char *buf, size_t n);
void summary_trace_line(const struct out *o, char *buf, size_t n);
void summary_run_line(const struct out *o, char *buf, size_t n);
void summary_phases_line(const struct out *o, FILE *f, bool html);
const char *summary_layers_mode(const struct out *o);
#define NCOLS 16
extern const char *const summary_col_names[NCOLS];
extern const bool summary_col_left[NCOLS];
void summary_cache_cells(const struct out *o, const struct cache *c, char cells[NCOLS][96]);
const struct cache *summary_table_cache(const struct out *o, uint32_t i);

/* hosts.c: parameters `hosts` and `host` */
int hosts_write(struct out *o);				/* hosts.txt, hosts.json */
void hosts_html_section(const struct report *r, FILE *f);	/* index.html: Hosts */
void hosts_html_line(const struct report *r, FILE *f);	/* index.html: which host */

/* html.c */
int html_write(struct out *o);
int html_write_live(struct out *o);

#endif
