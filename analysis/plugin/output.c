/*
 * output.c — the report directory (docs/report.md is the contract):
 *
 *   summary.json summary.txt index.html buckets.csv
 *   magsize.dat pcc_magsize.dat contention.dat bumps.dat depot.dat hash.dat
 *   layers.dat phases.dat discarded.dat
 *   common.gpi magsize.gp contention.gp hash.gp depot.gp layers.gp
 *
 * Everything except the rendered images: `gnuplot magsize.gp ...` run in the
 * report directory writes NAME.png (pngcairo 1200x700) and NAME.svg.
 *
 * With snapshot-ms (live snapshots, see report.h): output_snapshot() writes the
 * same files but index.html from the state so far, each into a hidden
 * temporary file renamed into place when complete, plus live-magsize.gpi and
 * live-contention.gpi (the bodies of magsize.gp and contention.gp, without
 * terminal or output: the viewer chooses them), then snapshot.seq (the
 * counter, "N") last.  The final report then also writes the two live
 * scripts and "N end" into snapshot.seq.
 *
 * The per-bucket rows and per-event records are read back from the
 * temporary files, once per output file and plotted cache: memory stays
 * bounded by the number of caches.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "report.h"

const char *const ms_output_files[] = {
	"summary.json", "summary.txt", "index.html", "buckets.csv",
	"magsize.dat", "pcc_magsize.dat", "contention.dat", "bumps.dat", "depot.dat",
	"hash.dat", "layers.dat", "phases.dat", "discarded.dat",
	"common.gpi", "magsize.gp", "contention.gp", "hash.gp", "depot.gp", "layers.gp",
	"magsize.png", "magsize.svg", "contention.png", "contention.svg", "hash.png",
	"hash.svg", "depot.png", "depot.svg", "layers.png", "layers.svg",
	"live-magsize.gpi", "live-contention.gpi", "snapshot.seq",
	NULL,
};

static const char *const plot_names[] = { "magsize", "contention", "hash", "depot", "layers" };
#define NR_PLOTS 5

/* Line colours of the plotted caches (slot 0..), repeated past the end. */
static const char *const colours[] = {
	"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b",
	"#e377c2", "#7f7f7f", "#bcbd22",
};
#define NR_COLOURS 10

#define MAX_PHASE_LINES 64
#define MAX_PHASE_LABELS 24
#define MAX_RECTS 300

/* Everything output_write works out before writing. */
struct out {
	struct report *r;
	double dur;			/* s, the time axis is [0, dur] */
	double bucket_s;
	struct cache **plot;		/* plotted caches, most active first */
	uint32_t nr_plot;
	/* hash series plotted: caches or arenas with hash_resize events */
	struct hash_series {
		int kind;
		uint32_t idx;
		const char *name;
		uint64_t events;
	} *hs;
	uint32_t nr_hs;
	/* block numbers of each plotted cache in each .dat (-1: none) */
	int *blk_magsize, *blk_pcc, *blk_cont, *blk_bumps, *blk_depot, *blk_hash;
	bool exact_layers;
	bool layers_any;		/* layers.dat has something to draw */
	char *title1, *title2, *title3;	/* lines of every plot title */
	const char *workload, *workload_from;
	int thr_state;			/* 0 none, 1 uniform, 2 per cache */
	uint64_t thr, tmo;
	uint32_t policy;
	int mode_state;			/* as thr_state, for the caches' pcc modes */
	uint32_t pcc_mode;
	char *err_path;
	bool snapshot;			/* a live snapshot: each file via a temporary name */
};

/* ---- helpers --------------------------------------------------------------------- */

static char *path_of(struct report *r, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", r->out_dir, name) < 0)
		abort();
	return p;
}

/* Where a snapshot writes NAME before renaming it: ".NAME.tmp" (a reader never sees a
 * part of a file). */
static char *tmp_path_of(struct report *r, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/.%s.tmp", r->out_dir, name) < 0)
		abort();
	return p;
}

static FILE *open_out(struct out *o, const char *name)
{
	char *p = o->snapshot ? tmp_path_of(o->r, name) : path_of(o->r, name);
	FILE *f = fopen(p, "w");

	if (!f)
		report_error(o->r, "cannot write %s: %s", p, strerror(errno));
	free(p);
	return f;
}

/* A snapshot's file is complete: give it its name. */
static int rename_out(struct out *o, const char *name)
{
	char *tmp = tmp_path_of(o->r, name), *p = path_of(o->r, name);
	int rc = rename(tmp, p);

	if (rc != 0) {
		report_error(o->r, "cannot rename %s to %s: %s", tmp, p, strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	free(p);
	return rc ? -1 : 0;
}

static int close_out(struct out *o, FILE *f, const char *name)
{
	int bad = ferror(f);

	if (fclose(f) != 0 || bad) {
		report_error(o->r, "cannot write %s/%s: %s", o->r->out_dir, name,
			     strerror(errno ? errno : EIO));
		if (o->snapshot) {
			char *tmp = tmp_path_of(o->r, name);

			unlink(tmp);
			free(tmp);
		}
		return -1;
	}
	return o->snapshot ? rename_out(o, name) : 0;
}

static double secs(uint64_t ns)
{
	return (double)ns / 1e9;
}

/* A string for a gnuplot double-quoted string literal. */
static void gp_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", f);
		else if (c >= 0x20 && c != 0x7f)
			fputc(c, f);
	}
	fputc('"', f);
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\t': fputs("\\t", f); break;
		case '\r': fputs("\\r", f); break;
		default:
			if (c < 0x20 || c == 0x7f)
				fprintf(f, "\\u%04x", c);
			else
				fputc(c, f);
		}
	}
	fputc('"', f);
}

static void html_str(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default:
			if ((unsigned char)*s >= 0x20 || *s == '\t')
				fputc(*s, f);
		}
	}
}

/* A name safe for a .dat comment or a CSV field: no control characters;
 * CSV fields are quoted by csv_str. */
static void csv_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			fputs("\"\"", f);
		else if ((unsigned char)*s >= 0x20)
			fputc(*s, f);
	}
	fputc('"', f);
}

static void plain_str(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc((unsigned char)*s >= 0x20 ? *s : '?', f);
}

/* The pcc mode of the run's caches: one name, or "per cache". */
static const char *run_pcc_mode(const struct out *o)
{
	if (o->mode_state == 2)
		return "per cache";
	return ms_pcc_mode_names[o->pcc_mode <= PCC_MODE_UNKNOWN ? o->pcc_mode
								   : PCC_MODE_UNKNOWN];
}

static const char *policy_name(uint32_t p)
{
	return p < NR_POLICIES ? ms_policy_names[p] : "unknown";
}

/* user, internal (no magazine layer: kmem_slab, kmem_bufctl, kmem_magazine) or
 * quantum (a quantum cache of an arena: NAME_SIZE where NAME is its source arena). */
static const char *cache_kind(const struct report *r, const struct cache *c)
{
	uint32_t i;

	if (!c->created)
		return "unknown";
	if (c->nr_pcc == 0)
		return "internal";
	for (i = 0; i < r->nr_arenas; i++) {
		const struct arena *a = r->arenas[i];
		size_t n = strlen(a->name);

		if (a->proc == c->proc && a->id == c->source && a->created &&
		    strncmp(c->name, a->name, n) == 0 && c->name[n] == '_' &&
		    c->name[n + 1] && strspn(c->name + n + 1, "0123456789") == strlen(c->name + n + 1))
			return "quantum";
	}
	return "user";
}

static uint64_t cache_activity(const struct cache *c)
{
	return c->gets[0] + c->gets[1] + c->puts[0] + c->puts[1] + c->misses[0] + c->misses[1] +
	       c->bumps_up + c->bumps_down + c->contended;
}

static int cmp_activity(const void *a, const void *b)
{
	const struct cache *x = *(struct cache *const *)a, *y = *(struct cache *const *)b;
	uint64_t ax = cache_activity(x), ay = cache_activity(y);

	if (ax != ay)
		return ax > ay ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static int cmp_hs(const void *a, const void *b)
{
	const struct hash_series *x = a, *y = b;

	if (x->events != y->events)
		return x->events > y->events ? -1 : 1;
	if (x->kind != y->kind)
		return x->kind - y->kind;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static uint64_t hist_pct(const uint64_t *hist, uint64_t total, uint64_t max, unsigned int pct)
{
	uint64_t want = (total * pct + 99) / 100, seen = 0;
	unsigned int i;

	if (!total)
		return 0;
	if (!want)
		want = 1;
	for (i = 0; i < MS_HIST_N; i++) {
		seen += hist[i];
		if (seen >= want) {
			uint64_t u = ms_hist_upper(i);

			return u < max ? u : max;
		}
	}
	return max;
}

/* "1 s", "250 ms", "1500 us", "12 ns" */
static void fmt_ns(char *buf, size_t n, uint64_t ns)
{
	if (ns && ns % 1000000000u == 0)
		snprintf(buf, n, "%" PRIu64 " s", ns / 1000000000u);
	else if (ns && ns % 1000000u == 0)
		snprintf(buf, n, "%" PRIu64 " ms", ns / 1000000u);
	else if (ns && ns % 1000u == 0)
		snprintf(buf, n, "%" PRIu64 " us", ns / 1000u);
	else
		snprintf(buf, n, "%" PRIu64 " ns", ns);
}

static bool is_internal(const struct cache *c)
{
	return c->created && c->nr_pcc == 0;
}

/* The workload, guessed from its cache names: magslab-workload names its
 * caches wl-WORKLOAD (wl-size-N for sizes, wl-arena_N for arena's quantum
 * caches) and replay's replay-N. */
static void guess_workload(struct out *o)
{
	static const char *const known[] = {
		"pair", "batch", "prodcons", "phases", "sizes", "large", "arena", "replay",
	};
	struct report *r = o->r;
	uint32_t i, k;

	for (i = 0; i < r->nr_caches; i++) {
		const char *n = r->caches[i]->name;
		size_t len;

		if (strncmp(n, "replay-", 7) == 0) {
			o->workload = "replay";
			o->workload_from = n;
			return;
		}
		if (strncmp(n, "wl-", 3) != 0)
			continue;
		len = strcspn(n + 3, "-_");
		for (k = 0; k < sizeof(known) / sizeof(known[0]); k++) {
			size_t kl = strlen(known[k]);

			if ((len == kl && strncmp(n + 3, known[k], kl) == 0) ||
			    (len + 1 == kl && strncmp(n + 3, known[k], len) == 0 && known[k][len] == 's')) {
				o->workload = known[k];
				o->workload_from = n;
				return;
			}
		}
	}
}

/* ---- preparation -------------------------------------------------------------------- */

static int prepare(struct out *o)
{
	struct report *r = o->r;
	struct cache **cand;
	uint32_t i, n = 0;
	char tmo[32], bucket[32], *line;
	bool first = true;

	o->dur = secs(r->t_last - r->t0);
	if (o->dur <= 0)
		o->dur = secs(r->bucket_ns);
	o->bucket_s = secs(r->bucket_ns);
	o->exact_layers = r->any_alloc_events;

	/* Plotted caches: magazine activity, most active first (chosen again each time: a
	 * live snapshot chose from fewer caches). */
	for (i = 0; i < r->nr_caches; i++) {
		r->caches[i]->plotted = false;
		r->caches[i]->plot_slot = -1;
	}
	cand = ms_xrealloc(NULL, (r->nr_caches + 1) * sizeof(*cand));
	for (i = 0; i < r->nr_caches; i++)
		if (cache_activity(r->caches[i]) > 0)
			cand[n++] = r->caches[i];
	qsort(cand, n, sizeof(*cand), cmp_activity);
	o->nr_plot = n < r->max_caches ? n : r->max_caches;
	o->plot = cand;
	for (i = 0; i < o->nr_plot; i++) {
		cand[i]->plotted = true;
		cand[i]->plot_slot = (int)i;
	}

	/* Hash series. */
	o->hs = ms_xrealloc(NULL, (r->nr_caches + r->nr_arenas + 1) * sizeof(*o->hs));
	for (i = 0; i < r->nr_caches; i++) {
		struct cache *c = r->caches[i];

		if (c->hash.resizes + c->hash.failed)
			o->hs[o->nr_hs++] = (struct hash_series){ HASH_KIND_CACHE, i, c->name,
								  c->hash.resizes + c->hash.failed };
	}
	for (i = 0; i < r->nr_arenas; i++) {
		struct arena *a = r->arenas[i];

		if (a->hash.resizes + a->hash.failed)
			o->hs[o->nr_hs++] = (struct hash_series){ HASH_KIND_ARENA, i, a->name,
								  a->hash.resizes + a->hash.failed };
	}
	qsort(o->hs, o->nr_hs, sizeof(*o->hs), cmp_hs);
	if (o->nr_hs > r->max_caches)
		o->nr_hs = r->max_caches;

	o->blk_magsize = calloc(r->max_caches, sizeof(int));
	o->blk_pcc = calloc(r->max_caches, sizeof(int));
	o->blk_cont = calloc(r->max_caches, sizeof(int));
	o->blk_bumps = calloc(r->max_caches, sizeof(int));
	o->blk_depot = calloc(r->max_caches, sizeof(int));
	o->blk_hash = calloc(r->max_caches, sizeof(int));
	if (!o->blk_magsize || !o->blk_pcc || !o->blk_cont || !o->blk_bumps || !o->blk_depot ||
	    !o->blk_hash)
		abort();

	/* Run metadata: the tunables of the caches with a magazine layer. */
	for (i = 0; i < r->nr_caches; i++) {
		struct cache *c = r->caches[i];

		if (!c->created || is_internal(c))
			continue;
		if (first) {
			o->thr = c->threshold;
			o->tmo = c->timeout_ns;
			o->policy = c->policy;
			o->thr_state = 1;
			o->pcc_mode = c->pcc_mode;
			o->mode_state = 1;
			first = false;
		} else {
			if (c->threshold != o->thr || c->timeout_ns != o->tmo ||
			    c->policy != o->policy)
				o->thr_state = 2;
			if (c->pcc_mode != o->pcc_mode)
				o->mode_state = 2;
		}
	}
	guess_workload(o);

	/* Plot titles. */
	if (r->title)
		o->title1 = ms_strdup(r->title);
	else if (o->workload) {
		if (asprintf(&o->title1, "magslab-workload %s", o->workload) < 0)
			abort();
	} else if (r->nr_traces && r->traces[0].name) {
		if (asprintf(&o->title1, "trace %s", r->traces[0].name) < 0)
			abort();
	} else {
		o->title1 = ms_strdup("magslab trace");
	}
	fmt_ns(bucket, sizeof(bucket), r->bucket_ns);
	fmt_ns(tmo, sizeof(tmo), o->tmo);
	if (o->thr_state == 1)
		n = (uint32_t)asprintf(&line, "policy %s, threshold %" PRIu64 ", timeout %s; "
				       "pcc mode %s; bucket %s", policy_name(o->policy), o->thr,
				       tmo, run_pcc_mode(o), bucket);
	else if (o->thr_state == 2)
		n = (uint32_t)asprintf(&line, "threshold and timeout per cache, see summary.txt; "
				       "pcc mode %s; bucket %s", run_pcc_mode(o), bucket);
	else
		n = (uint32_t)asprintf(&line, "no cache_create event: tunables unknown; bucket %s",
				       bucket);
	if ((int)n < 0)
		abort();
	o->title2 = line;
	if (r->disc_event_msgs || r->disc_packet_msgs) {
		char packets[64] = "";

		if (r->disc_packet_msgs)
			snprintf(packets, sizeof(packets), " and %" PRIu64 " packets", r->disc_packets);
		if (asprintf(&o->title3, "WARNING: %" PRIu64 " events%s%s discarded by the tracer "
			     "(shaded): counts are lower bounds", r->disc_events,
			     r->disc_unknown_count ? " (or more)" : "", packets) < 0)
			abort();
	}
	return 0;
}

static void out_free(struct out *o)
{
	free(o->plot);
	free(o->hs);
	free(o->blk_magsize);
	free(o->blk_pcc);
	free(o->blk_cont);
	free(o->blk_bumps);
	free(o->blk_depot);
	free(o->blk_hash);
	free(o->title1);
	free(o->title2);
	free(o->title3);
}

/* ---- reading the temporary files ------------------------------------------------------- */

static int rewind_tmp(struct report *r, FILE *f)
{
	if (fseek(f, 0, SEEK_SET) != 0) {
		report_error(r, "cannot read back a temporary file: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- data files --------------------------------------------------------------------------- */

static void dat_header(FILE *f, const char *name, const char *what, const char *columns)
{
	fprintf(f, "# %s — %s\n# written by sink.magslab.report; see docs/report.md\n", name, what);
	fprintf(f, "# columns: %s\n", columns);
	fprintf(f, "# one block per series (gnuplot 'index N'), blocks separated by two blank lines\n");
}

static void block_header(FILE *f, int blk, const struct cache *c)
{
	fprintf(f, "%s# block %d: cache ", blk ? "\n\n" : "", blk);
	plain_str(f, c->name);
	fprintf(f, " (id %" PRIu32 ")\n", c->id);
}

/* buckets.csv: every row of every cache. */
static int write_buckets_csv(struct out *o)
{
	struct report *r = o->r;
	struct bucket_row row;
	FILE *f = open_out(o, "buckets.csv");

	if (!f)
		return -1;
	fprintf(f, "time_s,bucket,cache_id,cache,vpid,contended,counted,wait_sum_ns,wait_max_ns,"
		"wait_p50_ns,wait_p99_ns,pcc_contended,depot_gets_alloc,depot_gets_free,"
		"depot_puts_alloc,depot_puts_free,depot_misses_alloc,depot_misses_free,"
		"rounds_got_alloc,rounds_got_free,mag_swaps_alloc,mag_swaps_free,depot_full,"
		"depot_empty,depot_full_max,depot_empty_max,allocs_pcc,allocs_depot,allocs_slab,"
		"frees_pcc,frees_depot,frees_slab,magsize_bumps,magsize\n");
	if (rewind_tmp(r, r->rows_f))
		goto error;
	while (fread(&row, sizeof(row), 1, r->rows_f) == 1) {
		const struct cache *c = r->caches[row.cache];

		fprintf(f, "%.6f,%" PRIu64 ",%" PRIu32 ",", secs(row.bucket * r->bucket_ns),
			row.bucket, c->id);
		csv_str(f, c->name);
		if (r->procs[c->proc].vpid >= 0)
			fprintf(f, ",%" PRId64, r->procs[c->proc].vpid);
		else
			fputc(',', f);
		fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
			",%" PRIu64, row.contended, row.counted, row.wait_sum, row.wait_max,
			row.wait_p50, row.wait_p99, row.pcc_contended);
		fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
			",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64, row.gets[0], row.gets[1],
			row.puts[0], row.puts[1], row.misses[0], row.misses[1], row.rounds_got[0],
			row.rounds_got[1], row.swaps[0], row.swaps[1]);
		if (row.depot_seen)
			fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64, row.nne_last,
				row.ne_last, row.nne_max, row.ne_max);
		else
			fputs(",,,,", f);
		fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64
			",%" PRIu64 ",%" PRIu64 "\n", row.allocs[0], row.allocs[1], row.allocs[2],
			row.frees[0], row.frees[1], row.frees[2], row.bumps, row.magsize);
	}
	if (ferror(r->rows_f)) {
		report_error(r, "cannot read back a temporary file");
		goto error;
	}
	return close_out(o, f, "buckets.csv");
error:
	fclose(f);
	return -1;
}

/* contention.dat and depot.dat: one block per plotted cache. */
static int write_cont_depot(struct out *o)
{
	struct report *r = o->r;
	FILE *fc = open_out(o, "contention.dat"), *fd = open_out(o, "depot.dat");
	int nc = 0, nd = 0;
	uint32_t k;

	if (!fc || !fd)
		goto error;
	dat_header(fc, "contention.dat", "contended depot acquisitions per bucket",
		   "1 time_s (bucket start)  2 contended  3 counted  4 wait_mean_ns  5 wait_p50_ns  "
		   "6 wait_p99_ns  7 wait_max_ns  8 pcc_contended (wait columns NaN: no contention)");
	dat_header(fd, "depot.dat", "depot magazines at the end of each bucket with depot traffic",
		   "1 time_s (bucket start)  2 full (nr_not_empty)  3 empty (nr_empty)  4 full_max  "
		   "5 empty_max  6 gets  7 puts  (last row: the trace end, values held)");
	for (k = 0; k < o->nr_plot; k++) {
		const struct cache *c = o->plot[k];
		struct bucket_row row, last = { 0 };
		bool any_c = false, any_d = false, have_last = false;
		uint64_t next = 0;

		o->blk_cont[k] = o->blk_depot[k] = -1;
		if (rewind_tmp(r, r->rows_f))
			goto error;
		while (fread(&row, sizeof(row), 1, r->rows_f) == 1) {
			double t = secs(row.bucket * r->bucket_ns);

			if (row.cache != c->index)
				continue;
			if (!any_c) {
				block_header(fc, nc, c);
				o->blk_cont[k] = nc++;
				any_c = true;
			} else if (row.bucket > next) {
				/* buckets without events: no contention */
				fprintf(fc, "%.6f 0 0 NaN NaN NaN NaN 0\n", secs(next * r->bucket_ns));
			}
			if (row.contended)
				fprintf(fc, "%.6f %" PRIu64 " %" PRIu64 " %.1f %" PRIu64 " %" PRIu64 " %"
					PRIu64 " %" PRIu64 "\n", t, row.contended, row.counted,
					(double)row.wait_sum / (double)row.contended, row.wait_p50,
					row.wait_p99, row.wait_max, row.pcc_contended);
			else
				fprintf(fc, "%.6f 0 0 NaN NaN NaN NaN %" PRIu64 "\n", t,
					row.pcc_contended);
			next = row.bucket + 1;
			if (row.depot_seen) {
				if (!any_d) {
					block_header(fd, nd, c);
					o->blk_depot[k] = nd++;
					any_d = true;
				}
				fprintf(fd, "%.6f %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
					" %" PRIu64 "\n", t, row.nne_last, row.ne_last, row.nne_max,
					row.ne_max, row.gets[0] + row.gets[1], row.puts[0] + row.puts[1]);
				last = row;
				have_last = true;
			}
		}
		if (any_c)
			fprintf(fc, "%.6f 0 0 NaN NaN NaN NaN 0\n", secs(next * r->bucket_ns));
		if (have_last)
			fprintf(fd, "%.6f %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " 0 0\n", o->dur,
				last.nne_last, last.ne_last, last.nne_last, last.ne_last);
	}
	if (close_out(o, fc, "contention.dat") | close_out(o, fd, "depot.dat"))
		return -1;
	return 0;
error:
	if (fc)
		fclose(fc);
	if (fd)
		fclose(fd);
	return -1;
}

/* layers.dat: one row per bucket, summed over the caches with a magazine layer. */
struct layer_row {
	uint64_t a[NR_LAYERS], gets, rounds, misses;
};

static void layer_print(struct out *o, FILE *f, double t, const struct layer_row *l)
{
	uint64_t tot = l->a[0] + l->a[1] + l->a[2];
	int k;

	fprintf(f, "%.6f %" PRIu64, t, tot);
	for (k = 0; k < NR_LAYERS; k++)
		fprintf(f, " %" PRIu64, l->a[k]);
	for (k = 0; k < NR_LAYERS; k++) {
		if (tot)
			fprintf(f, " %.3f", 100.0 * (double)l->a[k] / (double)tot);
		else
			fputs(" NaN", f);
	}
	fprintf(f, " %" PRIu64 " %" PRIu64 " %" PRIu64 " %.1f %.1f %.1f\n", l->gets, l->rounds,
		l->misses, (double)l->gets / o->bucket_s, (double)l->rounds / o->bucket_s,
		(double)l->misses / o->bucket_s);
}

static int write_layers(struct out *o)
{
	struct report *r = o->r;
	FILE *f = open_out(o, "layers.dat");
	struct bucket_row row;
	struct layer_row cur = { 0 }, zero = { 0 };
	uint64_t b = 0, cur_b = 0, last_bucket = (r->t_last - r->t0) / r->bucket_ns;
	bool have = false, more;

	if (!f)
		return -1;
	dat_header(f, "layers.dat",
		   o->exact_layers ? "allocations by the layer that served them (alloc events)"
				   : "allocation-side depot traffic (no alloc events in this trace)",
		   "1 time_s (bucket start)  2 allocs (alloc events; 0 without)  3 pcc  4 depot  "
		   "5 slab  6 pcc_pct  7 depot_pct  8 slab_pct  9 depot_gets_alloc  "
		   "10 rounds_got_alloc  11 depot_misses_alloc  12 depot_gets_alloc_per_s  "
		   "13 rounds_got_alloc_per_s  14 depot_misses_alloc_per_s");
	fprintf(f, "# summed over the caches with a magazine layer (not kmem_slab, kmem_bufctl, "
		"kmem_magazine); every bucket has a row (pct columns NaN: no alloc event in it); "
		"the last row, at the trace end, repeats the last bucket\n");
	if (rewind_tmp(r, r->rows_f))
		goto error;
	do {
		more = fread(&row, sizeof(row), 1, r->rows_f) == 1;
		if (!more || !have || row.bucket != cur_b) {
			uint64_t until = more ? row.bucket : last_bucket + 1;

			/* the finished bucket, then the empty ones up to the next */
			for (; b < until; b++)
				layer_print(o, f, secs(b * r->bucket_ns),
					    have && b == cur_b ? &cur : &zero);
			if (more) {
				memset(&cur, 0, sizeof(cur));
				cur_b = row.bucket;
				have = true;
			}
		}
		if (more && !is_internal(r->caches[row.cache])) {
			int k;

			for (k = 0; k < NR_LAYERS; k++)
				cur.a[k] += row.allocs[k];
			cur.gets += row.gets[SIDE_ALLOC];
			cur.rounds += row.rounds_got[SIDE_ALLOC];
			cur.misses += row.misses[SIDE_ALLOC];
			if (o->exact_layers ? row.allocs[0] + row.allocs[1] + row.allocs[2] != 0 :
			    row.gets[SIDE_ALLOC] + row.misses[SIDE_ALLOC] != 0)
				o->layers_any = true;
		}
	} while (more);
	layer_print(o, f, o->dur, have && cur_b == last_bucket ? &cur : &zero);
	if (ferror(r->rows_f)) {
		report_error(r, "cannot read back a temporary file");
		goto error;
	}
	return close_out(o, f, "layers.dat");
error:
	fclose(f);
	return -1;
}

/* magsize.dat, pcc_magsize.dat, bumps.dat and hash.dat, from the event records. */
static int write_event_series(struct out *o)
{
	struct report *r = o->r;
	FILE *fm = open_out(o, "magsize.dat"), *fp = open_out(o, "pcc_magsize.dat");
	FILE *fb = open_out(o, "bumps.dat"), *fh = open_out(o, "hash.dat");
	int nm = 0, np = 0, nb = 0, nh = 0;
	struct event_rec e;
	uint32_t k;

	if (!fm || !fp || !fb || !fh)
		goto error;
	dat_header(fm, "magsize.dat", "depot magazine size per cache (steps)",
		   "1 time_s  2 magsize (rounds): the first row is the cache's creation (or first "
		   "event), then one row per magsize_bump, the last the trace end");
	dat_header(fp, "pcc_magsize.dat", "per-CPU adoptions of the depot magsize (pcc_magsize)",
		   "1 time_s  2 new (rounds)  3 old  4 cpu");
	dat_header(fb, "bumps.dat", "magsize_bump events",
		   "1 time_s  2 old  3 new (rounds)  4 reason (0 threshold 1 interval 2 contended "
		   "3 shrink 4 reap 5 user)  5 busy_count");
	dat_header(fh, "hash.dat", "hash_resize events (bufctl hash of a cache, segment hash of "
		   "an arena)", "1 time_s  2 old_lists  3 new_lists  4 items  5 duration_ns  6 ok "
		   "(the last row of a block: the trace end, lists held, items NaN)");
	for (k = 0; k < o->nr_plot; k++) {
		const struct cache *c = o->plot[k];
		bool any_p = false, any_b = false;

		o->blk_pcc[k] = o->blk_bumps[k] = -1;
		block_header(fm, nm, c);
		o->blk_magsize[k] = nm++;
		fprintf(fm, "%.6f %" PRIu32 "\n", secs(c->created ? c->t_create : c->t_first),
			c->magsize0);
		if (rewind_tmp(r, r->ev_f))
			goto error;
		while (fread(&e, sizeof(e), 1, r->ev_f) == 1) {
			if (e.idx != c->index || e.type == ER_HASH)
				continue;
			if (e.type == ER_BUMP) {
				fprintf(fm, "%.6f %" PRIu64 "\n", secs(e.t), e.v[1]);
				if (!any_b) {
					block_header(fb, nb, c);
					o->blk_bumps[k] = nb++;
					any_b = true;
				}
				fprintf(fb, "%.6f %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
					secs(e.t), e.v[0], e.v[1], e.v[2], e.v[3]);
			} else if (e.type == ER_PCC_MAGSIZE) {
				if (!any_p) {
					block_header(fp, np, c);
					o->blk_pcc[k] = np++;
					any_p = true;
				}
				fprintf(fp, "%.6f %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", secs(e.t),
					e.v[2], e.v[1], e.v[0]);
			}
		}
		fprintf(fm, "%.6f %" PRIu32 "\n", o->dur, c->magsize);
	}
	for (k = 0; k < o->nr_hs; k++) {
		const struct hash_series *h = &o->hs[k];
		uint64_t last_old = 0, last_new = 0;
		bool any = false;

		if (rewind_tmp(r, r->ev_f))
			goto error;
		while (fread(&e, sizeof(e), 1, r->ev_f) == 1) {
			if (e.type != ER_HASH || e.idx != h->idx || (int)e.v[5] != h->kind)
				continue;
			if (!any) {
				fprintf(fh, "%s# block %d: %s ", nh ? "\n\n" : "", nh,
					h->kind == HASH_KIND_CACHE ? "cache" : "arena");
				plain_str(fh, h->name);
				fputc('\n', fh);
				o->blk_hash[k] = nh++;
				any = true;
			}
			fprintf(fh, "%.6f %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
				secs(e.t), e.v[0], e.v[1], e.v[2], e.v[3], e.v[4]);
			last_old = e.v[0];
			last_new = e.v[4] ? e.v[1] : e.v[0];
		}
		if (any)
			fprintf(fh, "%.6f %" PRIu64 " %" PRIu64 " NaN NaN NaN\n", o->dur, last_old,
				last_new);
		else
			o->blk_hash[k] = -1;
	}
	if (ferror(r->ev_f)) {
		report_error(r, "cannot read back a temporary file");
		goto error;
	}
	if (close_out(o, fm, "magsize.dat") | close_out(o, fp, "pcc_magsize.dat") |
	    close_out(o, fb, "bumps.dat") | close_out(o, fh, "hash.dat"))
		return -1;
	return 0;
error:
	if (fm)
		fclose(fm);
	if (fp)
		fclose(fp);
	if (fb)
		fclose(fb);
	if (fh)
		fclose(fh);
	return -1;
}

static int write_phases(struct out *o)
{
	struct report *r = o->r;
	FILE *f = open_out(o, "phases.dat");
	char name[256];
	uint64_t t;
	uint32_t index, len;

	if (!f)
		return -1;
	dat_header(f, "phases.dat", "magslab:workload_phase markers",
		   "1 time_s  2 index  3 name (quoted)");
	if (rewind_tmp(r, r->phase_f))
		goto error;
	while (fread(&t, sizeof(t), 1, r->phase_f) == 1 &&
	       fread(&index, sizeof(index), 1, r->phase_f) == 1 &&
	       fread(&len, sizeof(len), 1, r->phase_f) == 1) {
		if (len >= sizeof(name) || (len && fread(name, len, 1, r->phase_f) != 1))
			break;
		name[len] = '\0';
		fprintf(f, "%.6f %" PRIu32 " ", secs(t), index);
		gp_str(f, name);
		fputc('\n', f);
	}
	return close_out(o, f, "phases.dat");
error:
	fclose(f);
	return -1;
}

static double rel_s(const struct report *r, uint64_t abs_ns)
{
	return (double)((int64_t)(abs_ns - r->t0)) / 1e9;
}

/* discarded.dat, and the shaded rectangles of common.gpi (at most MAX_RECTS:
 * windows closer than 1/MAX_RECTS of the axis are merged, and each is drawn
 * at least 1/400 of the axis wide so that it can be seen). */
static int write_discarded(struct out *o, FILE *gpi)
{
	struct report *r = o->r;
	FILE *f = open_out(o, "discarded.dat");
	uint64_t w[2];
	double gap = o->dur / MAX_RECTS, minw = o->dur / 400, rb = 0, re = 0;
	bool open = false;
	int tag = 2000;

	if (!f)
		return -1;
	dat_header(f, "discarded.dat", "windows in which the tracer discarded events or packets "
		   "(overlapping windows merged)", "1 begin_s  2 end_s (since the trace start)");
	if (rewind_tmp(r, r->win_f))
		goto error;
	fprintf(gpi, "# discarded-event windows (discarded.dat), shaded\n");
	while (fread(w, sizeof(w), 1, r->win_f) == 1) {
		double b = rel_s(r, w[0]), e = rel_s(r, w[1]);

		fprintf(f, "%.9f %.9f\n", b, e);
		if (open && b - re < gap) {
			if (e > re)
				re = e;
			continue;
		}
		if (open) {
			double m = (rb + re) / 2, h = (re - rb < minw ? minw : re - rb) / 2;

			fprintf(gpi, "set object %d rect from %.6f, graph 0 to %.6f, graph 1 behind "
				"fc rgb \"#f2a0a0\" fs solid 0.45 noborder\n", tag++, m - h, m + h);
		}
		open = true;
		rb = b;
		re = e;
	}
	if (open) {
		double m = (rb + re) / 2, h = (re - rb < minw ? minw : re - rb) / 2;

		fprintf(gpi, "set object %d rect from %.6f, graph 0 to %.6f, graph 1 behind "
			"fc rgb \"#f2a0a0\" fs solid 0.45 noborder\n", tag++, m - h, m + h);
	}
	return close_out(o, f, "discarded.dat");
error:
	fclose(f);
	return -1;
}

/* ---- gnuplot scripts ----------------------------------------------------------------------- */

static int write_common(struct out *o)
{
	struct report *r = o->r;
	FILE *f = open_out(o, "common.gpi");
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
	fprintf(f, "# phase markers (phases.dat): %" PRIu64 " workload_phase event(s)\n",
		r->nr_phases);
	if (r->nr_phases <= MAX_PHASE_LINES) {
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
	} else {
		fprintf(f, "# (more than %d: not drawn)\n", MAX_PHASE_LINES);
	}
	if (write_discarded(o, f)) {
		fclose(f);
		return -1;
	}
	return close_out(o, f, "common.gpi");
}

/* The part every plot script shares: header comment, title, the two terminals. */
static void gp_begin(FILE *f, const char *name, const char *what, const char *data)
{
	fprintf(f, "# %s.gp — %s\n", name, what);
	fprintf(f, "# Written by sink.magslab.report (see docs/report.md).  Run it with the report\n"
		"# directory as the current directory (data files are named relatively):\n"
		"#     gnuplot %s.gp      ->  %s.png (pngcairo, 1200x700) and %s.svg\n"
		"# Data: %s; common.gpi: shared settings, phase markers, discarded windows.\n",
		name, name, name, data);
	fprintf(f, "do for [fmt in \"png svg\"] {\n");
	fprintf(f, "load \"common.gpi\"\n");
	fprintf(f, "if (fmt eq \"png\") {\n"
		"    set terminal pngcairo size 1200,700 noenhanced font \"sans,10\"\n"
		"    set output \"%s.png\"\n"
		"} else {\n"
		"    set terminal svg size 1200,700 noenhanced font \"sans,10\" background rgb \"white\"\n"
		"    set output \"%s.svg\"\n"
		"}\n", name, name);
}

static void gp_title(struct out *o, FILE *f, const char *what, const char *extra)
{
	char *t;

	if (asprintf(&t, "%s — %s\n%s%s%s%s%s", what, o->title1, o->title2,
		     extra ? "\n" : "", extra ? extra : "", o->title3 ? "\n" : "",
		     o->title3 ? o->title3 : "") < 0)
		abort();
	fputs("set title ", f);
	gp_str(f, t);
	fputc('\n', f);
	free(t);
}

static void gp_cache_title(FILE *f, const struct cache *c, const char *suffix)
{
	char *t;

	if (asprintf(&t, "%s%s", c->name, suffix) < 0)
		abort();
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
	FILE *f = open_out(o, "magsize.gp");

	if (!f)
		return -1;
	gp_begin(f, "magsize", "depot magazine size per cache, with per-CPU adoptions",
		 "magsize.dat, pcc_magsize.dat");
	magsize_body(o, f);
	gp_end(f);
	return close_out(o, f, "magsize.gp");
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
	FILE *f = open_out(o, "contention.gp");

	if (!f)
		return -1;
	gp_begin(f, "contention", "contended depot acquisitions and wait per bucket (top), "
		 "magsize_bump events (bottom)", "contention.dat, bumps.dat");
	contention_body(o, f);
	gp_end(f);
	return close_out(o, f, "contention.gp");
}

/* live-NAME.gpi: the body of NAME.gp for a terminal the viewer has set (snapshot-ms). */
static int write_live_script(struct out *o, const char *name, const char *what,
			     void (*body)(struct out *, FILE *))
{
	char file[64];
	FILE *f;

	snprintf(file, sizeof(file), "live-%s.gpi", name);
	f = open_out(o, file);
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
	return close_out(o, f, file);
}

static int write_live_scripts(struct out *o)
{
	return write_live_script(o, "magsize", "depot magazine size per cache", magsize_body) ||
	       write_live_script(o, "contention", "depot contention and magazine resizes",
				 contention_body);
}

/* snapshot.seq: "N" (or "N end" for the final report), written last. */
static int write_stamp(struct out *o, bool end)
{
	FILE *f = open_out(o, "snapshot.seq");

	if (!f)
		return -1;
	fprintf(f, "%" PRIu64 "%s\n", o->r->snapshots, end ? " end" : "");
	return close_out(o, f, "snapshot.seq");
}

static int write_hash_gp(struct out *o)
{
	FILE *f = open_out(o, "hash.gp");
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
		if (asprintf(&t, "%s %s: lists", h->kind == HASH_KIND_CACHE ? "cache" : "arena",
			     h->name) < 0)
			abort();
		fprintf(f, "\"hash.dat\" index %d using 1:3 with steps ls %u title ", o->blk_hash[k],
			k % NR_COLOURS + 1);
		gp_str(f, t);
		free(t);
		gp_sep(f, &first);
		fprintf(f, "\"hash.dat\" index %d using 1:($6 == 1 ? $3 : NaN) with points ls %u "
			"pt 5 ps 0.9 notitle", o->blk_hash[k], k % NR_COLOURS + 1);
		gp_sep(f, &first);
		if (asprintf(&t, "%s %s: items at the resize",
			     h->kind == HASH_KIND_CACHE ? "cache" : "arena", h->name) < 0)
			abort();
		fprintf(f, "\"hash.dat\" index %d using 1:4 with points ls %u pt 6 ps 0.9 title ",
			o->blk_hash[k], k % NR_COLOURS + 1);
		gp_str(f, t);
		free(t);
	}
	if (first) {
		fputs("unset logscale y\nset ylabel \"hash lists, items\"\n", f);
		gp_empty(f, "no hash_resize events in this trace");
	} else {
		gp_discarded_key(o, f, &first);
		fputc('\n', f);
	}
	gp_end(f);
	return close_out(o, f, "hash.gp");
}

static int write_depot_gp(struct out *o)
{
	FILE *f = open_out(o, "depot.gp");
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
	if (first) {
		gp_empty(f, "no depot_get / depot_put events in this trace");
	} else {
		gp_discarded_key(o, f, &first);
		fputc('\n', f);
	}
	gp_end(f);
	return close_out(o, f, "depot.gp");
}

static int write_layers_gp(struct out *o)
{
	FILE *f = open_out(o, "layers.gp");
	bool first = true;

	if (!f)
		return -1;
	gp_begin(f, "layers", o->exact_layers ?
		 "share of allocations served by pcc / depot / slab per bucket (alloc events)" :
		 "allocation-side depot traffic per second (estimate: no alloc events)", "layers.dat");
	if (!o->layers_any) {
		gp_title(o, f, "Allocation layers", NULL);
		gp_empty(f, o->exact_layers ? "no alloc events of a cache with magazines" :
			 "no allocation-side depot traffic in this trace");
		gp_end(f);
		return close_out(o, f, "layers.gp");
	}
	if (o->exact_layers) {
		gp_title(o, f, "Allocations by layer (exact, from magslab:alloc events)",
			 "share of each bucket's allocations (caches with magazines): pcc = from a loaded "
			 "or previous magazine,\ndepot = after a depot exchange, slab = fell through to "
			 "the slab layer");
		fprintf(f, "set ylabel \"share of allocations (%%)\"\nset yrange [0:100]\n"
			"set boxwidth bucket_s absolute\nset style fill solid 0.85 noborder\n");
		fprintf(f, "plot \"layers.dat\" using (mid($1)):($6 + $7 + $8) with boxes "
			"lc rgb \"#d62728\" title \"slab\", \\\n"
			"     \"layers.dat\" using (mid($1)):($6 + $7) with boxes "
			"lc rgb \"#ff7f0e\" title \"depot\", \\\n"
			"     \"layers.dat\" using (mid($1)):6 with boxes "
			"lc rgb \"#2ca02c\" title \"pcc\"");
		first = false;
	} else {
		gp_title(o, f, "Allocation layers: ESTIMATE (no magslab:alloc events in this trace)",
			 "pcc hits are not traced, so no shares: depot = allocations after an alloc-side "
			 "depot_get, slab = alloc-side depot_miss\n(exact counts, caches with magazines); "
			 "record a TRACE=full build with alloc events for exact shares");
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
		first = false;
	}
	gp_discarded_key(o, f, &first);
	fputc('\n', f);
	gp_end(f);
	return close_out(o, f, "layers.gp");
}

/* ---- summary.json ---------------------------------------------------------------------------- */

struct json {
	FILE *f;
	int depth;
	bool first[16];
	bool inline_[16];	/* print the container on one line */
};

static void j_sep(struct json *j, const char *key)
{
	if (j->depth > 0) {
		bool first = j->first[j->depth];

		if (!first)
			fputc(',', j->f);
		j->first[j->depth] = false;
		if (!j->inline_[j->depth])
			fprintf(j->f, "\n%*s", 2 * j->depth, "");
		else if (!first)
			fputc(' ', j->f);
	}
	if (key) {
		json_str(j->f, key);
		fputs(": ", j->f);
	}
}

static void j_open(struct json *j, const char *key, char c, bool one_line)
{
	j_sep(j, key);
	fputc(c, j->f);
	j->depth++;
	j->first[j->depth] = true;
	j->inline_[j->depth] = one_line || j->inline_[j->depth - 1];
}

static void j_close(struct json *j, char c)
{
	bool empty = j->first[j->depth], one_line = j->inline_[j->depth];

	j->depth--;
	if (!empty && !one_line)
		fprintf(j->f, "\n%*s", 2 * j->depth, "");
	fputc(c, j->f);
}

static void j_u64(struct json *j, const char *key, uint64_t v)
{
	j_sep(j, key);
	fprintf(j->f, "%" PRIu64, v);
}

static void j_i64(struct json *j, const char *key, int64_t v)
{
	j_sep(j, key);
	fprintf(j->f, "%" PRId64, v);
}

static void j_dbl(struct json *j, const char *key, double v, int prec)
{
	j_sep(j, key);
	if (isfinite(v))
		fprintf(j->f, "%.*f", prec, v);
	else
		fputs("null", j->f);
}

static void j_str(struct json *j, const char *key, const char *s)
{
	j_sep(j, key);
	if (s)
		json_str(j->f, s);
	else
		fputs("null", j->f);
}

static void j_null(struct json *j, const char *key)
{
	j_sep(j, key);
	fputs("null", j->f);
}

static void j_bool(struct json *j, const char *key, bool b)
{
	j_sep(j, key);
	fputs(b ? "true" : "false", j->f);
}

static void j_pair(struct json *j, const char *key, const uint64_t v[2])
{
	j_open(j, key, '[', true);
	j_u64(j, NULL, v[0]);
	j_u64(j, NULL, v[1]);
	j_close(j, ']');
}

static void iso_time(char *buf, size_t n, uint64_t ns)
{
	time_t s = (time_t)(ns / 1000000000u);
	struct tm tm;

	gmtime_r(&s, &tm);
	snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%09" PRIu64 "Z", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ns % 1000000000u);
}

static void j_hash(struct json *j, const char *key, const struct hash_stats *h)
{
	j_open(j, key, '{', true);
	j_u64(j, "resizes", h->resizes);
	j_u64(j, "failed", h->failed);
	if (h->resizes + h->failed) {
		j_u64(j, "first_lists", h->first_lists);
		j_u64(j, "lists", h->lists ? h->lists : h->first_lists);
		j_u64(j, "items_max", h->items_max);
		j_u64(j, "duration_ns_total", h->dur_sum);
		j_u64(j, "duration_ns_max", h->dur_max);
	} else {
		j_null(j, "lists");
	}
	j_close(j, '}');
}

/* A cache in summary.json: identity and tunables. */
static void j_cache_identity(struct json *j, const struct report *r, const struct cache *c)
{
	int64_t vpid = r->procs[c->proc].vpid;

	j_u64(j, "id", c->id);
	j_str(j, "name", c->name);
	if (vpid >= 0)
		j_i64(j, "vpid", vpid);
	else
		j_null(j, "vpid");
	j_u64(j, "trace_domain", r->procs[c->proc].domain);
	j_str(j, "kind", cache_kind(r, c));
	j_bool(j, "created", c->created);
	j_bool(j, "destroyed", c->destroyed);
	if (c->superseded)
		j_bool(j, "superseded", true);
	if (c->created) {
		j_u64(j, "obj_size", c->obj_size);
		j_bool(j, "uses_bufctl", c->uses_bufctl);
		j_u64(j, "nr_pcc", c->nr_pcc);
		j_str(j, "policy", policy_name(c->policy));
		j_u64(j, "threshold", c->threshold);
		j_u64(j, "timeout_ns", c->timeout_ns);
		j_u64(j, "source_arena", c->source);
		j_str(j, "pcc_mode", ms_pcc_mode_names[c->pcc_mode]);
		j_dbl(j, "created_s", secs(c->t_create), 9);
	} else {
		j_null(j, "obj_size");
		j_null(j, "policy");
		j_null(j, "threshold");
		j_null(j, "timeout_ns");
		j_null(j, "pcc_mode");
	}
	j_dbl(j, "first_s", secs(c->t_first), 9);
	j_dbl(j, "last_s", secs(c->t_last), 9);
}

/* "allocs"/"frees" and their split by layer: only when the trace has those events. */
static void j_cache_side(struct json *j, const char *key, bool known, const uint64_t *by_layer)
{
	char split[32];
	uint64_t total = 0;
	int k;

	snprintf(split, sizeof(split), "%s_by_layer", key);
	if (!known) {
		j_null(j, key);
		j_null(j, split);
		return;
	}
	for (k = 0; k < NR_LAYERS; k++)
		total += by_layer[k];
	j_u64(j, key, total);
	j_open(j, split, '{', true);
	for (k = 0; k < NR_LAYERS; k++)
		j_u64(j, ms_layer_names[k], by_layer[k]);
	j_close(j, '}');
}

static void j_cache_magsize(struct json *j, const struct cache *c)
{
	int k;

	j_open(j, "magsize", '{', true);
	if (c->magsize_known) {
		j_u64(j, "start", c->magsize0);
		j_u64(j, "final", c->magsize);
		j_u64(j, "max", c->magsize_max);
		j_u64(j, "min", c->magsize_min);
	} else {
		j_null(j, "start");
		j_null(j, "final");
		j_null(j, "max");
		j_null(j, "min");
	}
	j_close(j, '}');
	j_open(j, "bumps", '{', true);
	j_u64(j, "up", c->bumps_up);
	j_u64(j, "down", c->bumps_down);
	j_open(j, "by_reason", '{', true);
	for (k = 0; k <= NR_REASONS; k++)
		if (c->bump_reason[k])
			j_u64(j, k < NR_REASONS ? ms_reason_names[k] : "unknown", c->bump_reason[k]);
	j_close(j, '}');
	j_close(j, '}');
	j_open(j, "pcc_magsize", '{', true);
	j_u64(j, "adoptions", c->n[K_PCC_MAGSIZE]);
	if (c->n[K_PCC_MAGSIZE]) {
		j_u64(j, "min", c->pcc_magsize_min);
		j_u64(j, "max", c->pcc_magsize_max);
	}
	j_close(j, '}');
}

static void j_cache_contention(struct json *j, const struct cache *c)
{
	j_open(j, "contention", '{', true);
	j_u64(j, "count", c->contended);
	j_u64(j, "counted", c->counted);
	j_open(j, "wait_ns", '{', true);
	if (c->contended) {
		j_u64(j, "p50", hist_pct(c->hist, c->contended, c->wait_max, 50));
		j_u64(j, "p99", hist_pct(c->hist, c->contended, c->wait_max, 99));
		j_u64(j, "max", c->wait_max);
		j_dbl(j, "mean", (double)c->wait_sum / (double)c->contended, 1);
		j_u64(j, "total", c->wait_sum);
	} else {
		j_null(j, "p50");
		j_null(j, "p99");
		j_null(j, "max");
		j_null(j, "mean");
		j_u64(j, "total", 0);
	}
	j_close(j, '}');
	j_close(j, '}');
	j_open(j, "pcc_contention", '{', true);
	j_u64(j, "count", c->pcc_contended);
	j_u64(j, "wait_ns_total", c->pcc_wait_sum);
	j_u64(j, "wait_ns_max", c->pcc_wait_max);
	j_close(j, '}');
}

static void j_cache_depot(struct json *j, const struct cache *c)
{
	int k;

	j_open(j, "depot", '{', false);
	j_pair(j, "gets", c->gets);
	j_pair(j, "puts", c->puts);
	j_pair(j, "misses", c->misses);
	j_open(j, "misses_by_outcome", '{', true);
	for (k = 0; k < NR_OUTCOMES; k++)
		j_u64(j, ms_outcome_names[k], c->miss_outcome[k]);
	j_close(j, '}');
	j_pair(j, "rounds_got", c->rounds_got);
	if (c->depot_known) {
		j_u64(j, "peak_full", c->nne_max);
		j_u64(j, "peak_empty", c->ne_max);
		j_u64(j, "final_full", c->nne);
		j_u64(j, "final_empty", c->ne);
	} else {
		j_null(j, "peak_full");
		j_null(j, "peak_empty");
		j_null(j, "final_full");
		j_null(j, "final_empty");
	}
	j_close(j, '}');
}

static void j_cache_slab(struct json *j, const struct cache *c)
{
	j_open(j, "slab", '{', true);
	j_u64(j, "grows", c->slab_grows);
	j_u64(j, "releases", c->slab_releases);
	j_u64(j, "bytes_grown", c->bytes_grown);
	j_u64(j, "bytes_released", c->bytes_released);
	j_close(j, '}');
	j_open(j, "reaps", '{', true);
	j_u64(j, "count", c->reaps);
	j_u64(j, "slabs", c->reap_slabs);
	j_u64(j, "magazines", c->reap_mags);
	j_u64(j, "bytes", c->reap_bytes);
	j_close(j, '}');
}

static void j_cache(struct json *j, struct out *o, const struct cache *c)
{
	const struct report *r = o->r;
	int k;

	j_open(j, NULL, '{', false);
	j_cache_identity(j, r, c);
	j_open(j, "events", '{', true);
	for (k = 0; k < K_NKNOWN; k++)
		if (c->n[k])
			j_u64(j, ms_kind_names[k], c->n[k]);
	j_close(j, '}');
	j_cache_side(j, "allocs", r->kind_events[K_ALLOC] != 0, c->allocs);
	j_cache_side(j, "frees", r->kind_events[K_FREE] != 0, c->frees);
	j_cache_magsize(j, c);
	j_cache_contention(j, c);
	j_cache_depot(j, c);
	j_pair(j, "mag_swaps", c->swaps);
	j_hash(j, "hash", &c->hash);
	j_cache_slab(j, c);
	j_u64(j, "activity", cache_activity(c));
	j_bool(j, "plotted", c->plotted);
	j_close(j, '}');
}

/* summary.json, section by section (docs/report.md "summary.json"). */

static void json_params(struct json *j, const struct report *r)
{
	j_open(j, "params", '{', true);
	j_u64(j, "bucket_ms", r->bucket_ns / 1000000u);
	j_u64(j, "max_caches", r->max_caches);
	j_str(j, "title", r->title);
	j_close(j, '}');
}

/* Events by name, summed over the classes of that name (one per trace with per-PID buffers). */
static void json_events_by_name(struct json *j, const struct report *r)
{
	uint32_t i, m;

	j_open(j, "events_by_name", '{', false);
	for (i = 0; i < r->nr_ecs; i++) {
		uint64_t sum = 0;
		bool seen = false;

		for (m = 0; m < i; m++)
			if (strcmp(r->ecs[m]->name, r->ecs[i]->name) == 0)
				seen = true;
		if (seen)
			continue;
		for (m = i; m < r->nr_ecs; m++)
			if (strcmp(r->ecs[m]->name, r->ecs[i]->name) == 0)
				sum += r->ecs[m]->count;
		j_u64(j, r->ecs[i]->name, sum);
	}
	j_close(j, '}');
}

static void json_trace_list(struct json *j, const struct report *r)
{
	uint32_t i;

	j_open(j, "traces", '[', false);
	for (i = 0; i < r->nr_traces; i++) {
		const struct trace_info *t = &r->traces[i];

		j_open(j, NULL, '{', true);
		j_str(j, "name", t->name);
		j_u64(j, "domain", t->domain);
		j_str(j, "hostname", t->hostname);
		j_str(j, "tracer", t->tracer);
		j_str(j, "tracer_domain", t->domain_name);
		j_str(j, "procname", t->procname);
		if (t->vpid >= 0)
			j_i64(j, "vpid", t->vpid);
		else
			j_null(j, "vpid");
		j_close(j, '}');
	}
	j_close(j, ']');
}

static void json_trace(struct json *j, const struct report *r)
{
	char iso[64];

	j_open(j, "trace", '{', false);
	j_u64(j, "first_ns", r->t0);
	j_u64(j, "last_ns", r->t_last);
	if (r->clock_unix_epoch) {
		iso_time(iso, sizeof(iso), r->t0);
		j_str(j, "first_utc", iso);
		iso_time(iso, sizeof(iso), r->t_last);
		j_str(j, "last_utc", iso);
	} else {
		j_null(j, "first_utc");
		j_null(j, "last_utc");
	}
	j_dbl(j, "duration_s", secs(r->t_last - r->t0), 9);
	j_u64(j, "events", r->events);
	j_u64(j, "magslab_events", r->magslab_events);
	j_u64(j, "unusable_events", r->kind_events[K_UNUSABLE]);
	json_events_by_name(j, r);
	json_trace_list(j, r);
	j_close(j, '}');
}

static int json_discarded(struct json *j, struct report *r)
{
	uint64_t w[2], n = 0;

	j_open(j, "discarded", '{', false);
	j_u64(j, "events", r->disc_events);
	j_u64(j, "packets", r->disc_packets);
	j_u64(j, "event_messages", r->disc_event_msgs);
	j_u64(j, "packet_messages", r->disc_packet_msgs);
	j_u64(j, "messages_without_count", r->disc_unknown_count);
	j_u64(j, "messages_without_window", r->disc_no_window);
	j_u64(j, "windows_total", r->nr_windows);
	j_bool(j, "windows_truncated", r->nr_windows > MS_WINDOWS_JSON);
	j_open(j, "windows", '[', false);
	if (rewind_tmp(r, r->win_f))
		return -1;
	while (n < MS_WINDOWS_JSON && fread(w, sizeof(w), 1, r->win_f) == 1) {
		j_open(j, NULL, '[', true);
		j_dbl(j, NULL, rel_s(r, w[0]), 9);
		j_dbl(j, NULL, rel_s(r, w[1]), 9);
		j_close(j, ']');
		n++;
	}
	j_close(j, ']');
	j_close(j, '}');
	return 0;
}

/* summary.json `damage`: whether the trace is damaged, and why (sanity.c). */
static void json_damage(struct json *j, const struct report *r)
{
	uint32_t i;

	j_open(j, "damage", '{', false);
	j_bool(j, "damaged", r->damage_total > 0);
	j_u64(j, "findings_total", r->damage_total);
	j_open(j, "findings", '[', false);
	for (i = 0; i < r->nr_damage; i++)
		j_str(j, NULL, r->damage[i]);
	j_close(j, ']');
	j_close(j, '}');
}

static void json_phases(struct json *j, const struct report *r)
{
	uint32_t i;

	j_u64(j, "phases_total", r->nr_phases);
	j_open(j, "phases", '[', false);
	for (i = 0; i < r->nr_phases_kept; i++) {
		j_open(j, NULL, '{', true);
		j_u64(j, "index", r->phases[i].index);
		j_str(j, "name", r->phases[i].name);
		j_dbl(j, "t_s", secs(r->phases[i].t), 9);
		j_close(j, '}');
	}
	j_close(j, ']');
}

static void json_run(struct json *j, const struct out *o)
{
	j_open(j, "run", '{', false);
	j_str(j, "workload", o->workload);
	j_str(j, "workload_from", o->workload_from ? "cache name" : NULL);
	j_str(j, "workload_cache", o->workload_from);
	if (o->thr_state == 1) {
		j_str(j, "policy", policy_name(o->policy));
		j_u64(j, "threshold", o->thr);
		j_u64(j, "timeout_ns", o->tmo);
	} else {
		j_str(j, "policy", o->thr_state == 2 ? "per-cache" : NULL);
		j_str(j, "threshold", o->thr_state == 2 ? "per-cache" : NULL);
		j_str(j, "timeout_ns", o->thr_state == 2 ? "per-cache" : NULL);
	}
	j_str(j, "pcc_mode", o->mode_state == 0 ? NULL :
	      o->mode_state == 2 ? "per-cache" : ms_pcc_mode_names[o->pcc_mode]);
	j_close(j, '}');
}

static void json_layers(struct json *j, const struct out *o)
{
	j_open(j, "layers", '{', false);
	j_str(j, "mode", o->exact_layers ? "exact" : "estimated");
	j_str(j, "what", o->exact_layers ?
	      "share of alloc events by layer (pcc, depot, slab), caches with magazines" :
	      "no alloc events: allocations served after a depot exchange (alloc-side depot_get) "
	      "and fallen to the slab layer (alloc-side depot_miss) per second; pcc hits unknown");
	j_close(j, '}');
}

static void json_plots(struct json *j, const struct out *o)
{
	uint32_t i;
	int p;

	j_open(j, "plots", '{', false);
	j_open(j, "caches", '[', true);
	for (i = 0; i < o->nr_plot; i++)
		j_str(j, NULL, o->plot[i]->name);
	j_close(j, ']');
	j_open(j, "hash_series", '[', true);
	for (i = 0; i < o->nr_hs; i++)
		j_str(j, NULL, o->hs[i].name);
	j_close(j, ']');
	j_open(j, "scripts", '[', true);
	for (p = 0; p < NR_PLOTS; p++) {
		char s[32];

		snprintf(s, sizeof(s), "%s.gp", plot_names[p]);
		j_str(j, NULL, s);
	}
	j_close(j, ']');
	j_str(j, "render", "cd OUTPUT_DIR && gnuplot magsize.gp contention.gp hash.gp depot.gp layers.gp");
	j_close(j, '}');
}

/* Plotted caches first (most active first), then the others by id. */
static void json_caches(struct json *j, struct out *o)
{
	const struct report *r = o->r;
	uint32_t i;
	int k;

	j_open(j, "caches", '[', false);
	for (k = 0; k < 2; k++)
		for (i = 0; i < r->nr_caches; i++) {
			const struct cache *c = k ? r->caches[i] : (i < o->nr_plot ? o->plot[i] : NULL);

			if (!c || (k && c->plotted))
				continue;
			j_cache(j, o, c);
		}
	j_close(j, ']');
}

static void json_arena(struct json *j, const struct report *r, const struct arena *a)
{
	j_open(j, NULL, '{', false);
	j_u64(j, "id", a->id);
	j_str(j, "name", a->name);
	if (r->procs[a->proc].vpid >= 0)
		j_i64(j, "vpid", r->procs[a->proc].vpid);
	else
		j_null(j, "vpid");
	j_bool(j, "created", a->created);
	j_bool(j, "destroyed", a->destroyed);
	j_u64(j, "quantum", a->quantum);
	j_u64(j, "qcache_max", a->qcache_max);
	j_u64(j, "source", a->source);
	j_u64(j, "imports", a->imports);
	j_u64(j, "releases", a->releases);
	j_u64(j, "bytes_imported", a->bytes_imported);
	j_u64(j, "bytes_released", a->bytes_released);
	j_u64(j, "fails", a->fails);
	j_hash(j, "hash", &a->hash);
	j_close(j, '}');
}

static void json_arenas_warnings(struct json *j, const struct report *r)
{
	uint32_t i;

	j_open(j, "arenas", '[', false);
	for (i = 0; i < r->nr_arenas; i++)
		json_arena(j, r, r->arenas[i]);
	j_close(j, ']');
	j_open(j, "warnings", '[', false);
	for (i = 0; i < r->nr_warnings; i++)
		j_str(j, NULL, r->warnings[i]);
	j_close(j, ']');
}

static int write_json(struct out *o)
{
	struct report *r = o->r;
	FILE *f = open_out(o, "summary.json");
	struct json jj = { .f = f }, *j = &jj;

	if (!f)
		return -1;
	j_open(j, NULL, '{', false);
	j_str(j, "format", "magslab-report/1");
	j_str(j, "generator", "sink.magslab.report");
	json_params(j, r);
	json_trace(j, r);
	if (json_discarded(j, r)) {
		fclose(f);
		return -1;
	}
	json_damage(j, r);
	json_phases(j, r);
	json_run(j, o);
	json_layers(j, o);
	json_plots(j, o);
	json_caches(j, o);
	json_arenas_warnings(j, r);
	j_close(j, '}');
	fputc('\n', f);
	return close_out(o, f, "summary.json");
}

/* ---- summary.txt and index.html ---------------------------------------------------------------- */

/*
 * The first line of summary.txt (and of index.html) when the trace is damaged (then the
 * discarded-events line is the second).  False when it is not.
 */
static bool damage_line(const struct report *r, char *buf, size_t n)
{
	if (!r->damage_total)
		return false;
	snprintf(buf, n, "DAMAGED TRACE: %s%s; the figures below are not reliable",
		 r->damage[0], r->damage_total > 1 ? " (and more: summary.json \"damage\")" : "");
	return true;
}

/* The first line of summary.txt (and of index.html) of a trace that is not damaged. */
static void discarded_line(struct out *o, char *buf, size_t n)
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

#define NCOLS 16
static const char *const col_names[NCOLS] = {
	"cache", "id", "kind", "obj_B", "policy", "thr", "timeout", "magsize s/f/max", "up",
	"down", "contended(counted)", "wait p50/p99/max us", "hash_res", "depot peak full/empty",
	"gets/puts/misses", "pcc_mode",
};
static const bool col_left[NCOLS] = { true, false, true, false, true, false, false, false,
				      false, false, false, false, false, false, false, true };

static void cache_cells(struct out *o, const struct cache *c, char cells[NCOLS][96])
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
			 hist_pct(c->hist, c->contended, c->wait_max, 50) / 1e3,
			 hist_pct(c->hist, c->contended, c->wait_max, 99) / 1e3, c->wait_max / 1e3);
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
static const struct cache *table_cache(struct out *o, uint32_t i)
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

static void phases_line(struct out *o, FILE *f, bool html)
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

static void run_line(struct out *o, char *buf, size_t n)
{
	struct report *r = o->r;
	char tmo[32], bucket[32];
	size_t l;

	fmt_ns(tmo, sizeof(tmo), o->tmo);
	fmt_ns(bucket, sizeof(bucket), r->bucket_ns);
	if (o->workload)
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

static void trace_line(struct out *o, char *buf, size_t n)
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

static int write_txt(struct out *o)
{
	struct report *r = o->r;
	FILE *f = open_out(o, "summary.txt");
	char line[512], cells[NCOLS][96];
	size_t width[NCOLS];
	uint32_t i;
	int k;

	if (!f)
		return -1;
	if (damage_line(r, line, sizeof(line)))
		fprintf(f, "%s\n", line);
	discarded_line(o, line, sizeof(line));
	fprintf(f, "%s\n", line);
	trace_line(o, line, sizeof(line));
	fprintf(f, "%s\n", line);
	run_line(o, line, sizeof(line));
	plain_str(f, line);
	fputc('\n', f);
	phases_line(o, f, false);
	fprintf(f, "layers: %s\n\n", o->exact_layers ? "exact (alloc events)" :
		"estimated (no alloc events: pcc hits unknown)");
	for (k = 0; k < NCOLS; k++)
		width[k] = strlen(col_names[k]);
	for (i = 0; i < r->nr_caches; i++) {
		cache_cells(o, table_cache(o, i), cells);
		for (k = 0; k < NCOLS; k++)
			if (strlen(cells[k]) > width[k])
				width[k] = strlen(cells[k]);
	}
	for (k = 0; k < NCOLS; k++)
		fprintf(f, "%s%-*s", k ? "  " : "", k == NCOLS - 1 ? 0 : (int)width[k], col_names[k]);
	fputc('\n', f);
	for (i = 0; i < r->nr_caches; i++) {
		cache_cells(o, table_cache(o, i), cells);
		for (k = 0; k < NCOLS; k++) {
			int pad = (int)(width[k] - strlen(cells[k]));

			fputs(k ? "  " : "", f);
			if (!col_left[k])
				fprintf(f, "%*s", pad, "");
			plain_str(f, cells[k]);
			if (col_left[k] && k < NCOLS - 1)
				fprintf(f, "%*s", pad, "");
		}
		fputc('\n', f);
	}
	if (r->nr_caches > o->nr_plot)
		fprintf(f, "(plotted: the first %" PRIu32 " rows, the caches with the most magazine "
			"activity; max-caches = %" PRIu32 ")\n", o->nr_plot, r->max_caches);
	if (r->nr_arenas) {
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
	for (i = 0; i < r->nr_warnings; i++)
		fprintf(f, "%swarning: %s\n", i ? "" : "\n", r->warnings[i]);
	return close_out(o, f, "summary.txt");
}

static int write_html(struct out *o)
{
	struct report *r = o->r;
	FILE *f = open_out(o, "index.html");
	char line[512], cells[NCOLS][96];
	uint32_t i;
	int k, p;
	bool warn = r->disc_event_msgs || r->disc_packet_msgs;

	if (!f)
		return -1;
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>");
	html_str(f, o->title1);
	fprintf(f, " — magslab report</title>\n<style>\n"
		"body { font-family: sans-serif; margin: 1.5em; }\n"
		".warn { color: #a00000; font-weight: bold; }\n"
		"table { border-collapse: collapse; font-size: 0.9em; }\n"
		"th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; }\n"
		"td.n { text-align: right; font-family: monospace; }\n"
		"img { max-width: 100%%; border: 1px solid #eee; }\n"
		"</style>\n</head>\n<body>\n<h1>");
	html_str(f, o->title1);
	fprintf(f, "</h1>\n");
	if (damage_line(o->r, line, sizeof(line))) {
		fprintf(f, "<p class=\"warn\">");
		html_str(f, line);
		fprintf(f, "</p>\n");
	}
	fprintf(f, "<p class=\"%s\">", warn ? "warn" : "ok");
	discarded_line(o, line, sizeof(line));
	html_str(f, line);
	fprintf(f, "</p>\n<p>");
	trace_line(o, line, sizeof(line));
	html_str(f, line);
	fprintf(f, "<br>\n");
	run_line(o, line, sizeof(line));
	html_str(f, line);
	fprintf(f, "<br>\n");
	phases_line(o, f, true);
	fprintf(f, "<br>\nlayers: %s</p>\n", o->exact_layers ? "exact (alloc events)" :
		"estimated (no alloc events: pcc hits unknown)");
	fprintf(f, "<p>Files: <a href=\"summary.json\">summary.json</a>, "
		"<a href=\"summary.txt\">summary.txt</a>, <a href=\"buckets.csv\">buckets.csv</a>; "
		"the plots' data (*.dat) and gnuplot scripts (*.gp) are in this directory.</p>\n");
	for (p = 0; p < NR_PLOTS; p++)
		fprintf(f, "<h2>%s</h2>\n<p><a href=\"%s.svg\"><img src=\"%s.png\" width=\"1200\" "
			"height=\"700\" alt=\"%s plot\"></a><br><a href=\"%s.svg\">SVG</a> · "
			"<a href=\"%s.gp\">%s.gp</a></p>\n", plot_names[p], plot_names[p],
			plot_names[p], plot_names[p], plot_names[p], plot_names[p], plot_names[p]);
	fprintf(f, "<h2>Caches</h2>\n<table>\n<tr>");
	for (k = 0; k < NCOLS; k++) {
		fprintf(f, "<th>");
		html_str(f, col_names[k]);
		fprintf(f, "</th>");
	}
	fprintf(f, "</tr>\n");
	for (i = 0; i < r->nr_caches; i++) {
		cache_cells(o, table_cache(o, i), cells);
		fprintf(f, "<tr>");
		for (k = 0; k < NCOLS; k++) {
			fprintf(f, "<td%s>", col_left[k] ? "" : " class=\"n\"");
			html_str(f, cells[k]);
			fprintf(f, "</td>");
		}
		fprintf(f, "</tr>\n");
	}
	fprintf(f, "</table>\n</body>\n</html>\n");
	return close_out(o, f, "index.html");
}

/* ---- entry points ------------------------------------------------------------------------------ */

void output_remove(struct report *r)
{
	int i;

	for (i = 0; ms_output_files[i]; i++) {
		char *p = path_of(r, ms_output_files[i]);

		unlink(p);
		free(p);
	}
}

/* Every file but index.html. */
static int write_files(struct out *o)
{
	return write_buckets_csv(o) || write_cont_depot(o) || write_layers(o) ||
	       write_event_series(o) || write_phases(o) || write_common(o) ||
	       write_magsize_gp(o) || write_contention_gp(o) || write_hash_gp(o) ||
	       write_depot_gp(o) || write_layers_gp(o) || write_json(o) || write_txt(o);
}

/* After a snapshot read them: the temporary files are appended to again. */
static int seek_tmp_ends(struct report *r)
{
	if (fseek(r->rows_f, 0, SEEK_END) || fseek(r->ev_f, 0, SEEK_END) ||
	    fseek(r->phase_f, 0, SEEK_END) || fseek(r->win_f, 0, SEEK_END)) {
		report_error(r, "cannot seek in a temporary file: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int output_snapshot(struct report *r)
{
	struct out o = { .r = r, .snapshot = true };
	int rc = -1;

	/* what was written so far must be readable through the same FILEs */
	if (fflush(r->rows_f) || fflush(r->ev_f) || fflush(r->phase_f) || fflush(r->win_f)) {
		report_error(r, "cannot write a temporary file (disk full?)");
		return -1;
	}
	if (prepare(&o) == 0 && write_files(&o) == 0 && write_live_scripts(&o) == 0) {
		r->snapshots++;
		rc = write_stamp(&o, false);
	}
	if (seek_tmp_ends(r))
		rc = -1;
	out_free(&o);
	return rc;
}

int output_write(struct report *r)
{
	struct out o = { .r = r };
	int rc = -1;

	if (prepare(&o))
		goto out;
	output_remove(r);	/* no stale file of an earlier report (old PNGs) */
	if (write_files(&o) || write_html(&o))
		goto out;
	if (r->snapshot_ns && (write_live_scripts(&o) || write_stamp(&o, true)))
		goto out;
	if (r->disc_event_msgs || r->disc_packet_msgs || r->damage_total) {
		char line[1024];

		if (damage_line(r, line, sizeof(line)))
			fprintf(stderr, "sink.magslab.report: %s\n", line);
		discarded_line(&o, line, sizeof(line));
		fprintf(stderr, "sink.magslab.report: %s\n", line);
	}
	rc = 0;
out:
	out_free(&o);
	return rc;
}
