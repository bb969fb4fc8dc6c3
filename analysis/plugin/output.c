/*
 * output.c — sink.magslab.report: the report directory (docs/report.md is the contract).
 *
 *   summary.json summary.txt index.html buckets.csv trace.json
 *   magsize.dat pcc_magsize.dat contention.dat bumps.dat depot.dat hash.dat
 *   layers.dat slots.dat phases.dat discarded.dat
 *   common.gpi magsize.gp contention.gp hash.gp depot.gp layers.gp slots.gp
 *   manifest.json (written last: every file above, and what each script draws)
 *
 * Everything except the rendered plots: `gnuplot magsize.gp ...` run in the report
 * directory writes NAME.png (pngcairo 1200x700), NAME.svg and NAME.js (the canvas
 * terminal's drawing function, for index.html; `magslab report` copies gnuplot's canvas
 * scripts into js/).
 *
 * What it owns: which caches are plotted (the most active, max-caches of them, chosen
 * again for every report and snapshot), which hash tables, the time axis, the run's
 * tunables and the plot titles (struct out, output.h); the order in which the writers run;
 * the files' names, opening, closing and renaming; removing an earlier report's files.
 *
 * With snapshot-ms (live snapshots, see report.h): output_snapshot() writes the same files
 * but index.html from the state so far, each into a hidden temporary file renamed into
 * place when complete, plus live-magsize.gpi and live-contention.gpi (the bodies of
 * magsize.gp and contention.gp, without terminal or output: the viewer chooses them), then
 * snapshot.seq (the counter, "N") last.  The final report then also writes the two live
 * scripts and "N end" into snapshot.seq.  With live-page, index.html is the live page
 * (html.c) from init on, rewritten before each snapshot's stamp.
 *
 * The per-bucket rows and per-event records are read back from the temporary files, once
 * per output file and plotted cache: memory stays bounded by the number of caches.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "output.h"

/* Every file a report may hold, removed before a new report is written. */
static const char *const output_files[] = {
	"summary.json", "summary.txt", "index.html", "buckets.csv",
	"magsize.dat", "pcc_magsize.dat", "contention.dat", "bumps.dat", "depot.dat",
	"hash.dat", "layers.dat", "phases.dat", "discarded.dat",
	"slots.dat", "trace.json",
	"common.gpi", "magsize.gp", "contention.gp", "hash.gp", "depot.gp", "layers.gp",
	"slots.gp", "magsize.png", "magsize.svg", "magsize.js", "contention.png",
	"contention.svg", "contention.js", "hash.png", "hash.svg", "hash.js", "depot.png",
	"depot.svg", "depot.js", "layers.png", "layers.svg", "layers.js", "slots.png",
	"slots.svg", "slots.js",
	"live-magsize.gpi", "live-contention.gpi", "snapshot.seq", "hosts.txt", "hosts.json",
	"manifest.json",
	NULL,
};

const char *const ms_plot_names[NR_PLOTS] = { "magsize", "contention", "hash", "depot", "layers",
					       "slots" };

/* ---- files ------------------------------------------------------------------------ */

static char *path_of(struct report *r, const char *name)
{
	return ms_asprintf("%s/%s", r->out_dir, name);
}

/* Where a snapshot writes NAME before renaming it: ".NAME.tmp" (a reader never sees a
 * part of a file). */
static char *tmp_path_of(struct report *r, const char *name)
{
	return ms_asprintf("%s/.%s.tmp", r->out_dir, name);
}

FILE *out_open(struct out *o, const char *name)
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

int out_close(struct out *o, FILE *f, const char *name)
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
	if (o->nr_written < sizeof(o->written) / sizeof(o->written[0]))
		o->written[o->nr_written++] = ms_strdup(name);
	return o->snapshot ? rename_out(o, name) : 0;
}

int out_rewind(struct report *r, FILE *f)
{
	if (fseek(f, 0, SEEK_SET) != 0) {
		report_error(r, "cannot read back a temporary file: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- the facts several files state ------------------------------------------------ */

double secs(uint64_t ns)
{
	return (double)ns / 1e9;
}

double rel_s(const struct report *r, uint64_t abs_ns)
{
	return (double)((int64_t)(abs_ns - r->t0)) / 1e9;
}

/* "1 s", "250 ms", "1500 us", "12 ns" */
void fmt_ns(char *buf, size_t n, uint64_t ns)
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

void iso_time(char *buf, size_t n, uint64_t ns)
{
	time_t s = (time_t)(ns / 1000000000u);
	struct tm tm;

	gmtime_r(&s, &tm);
	snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%09" PRIu64 "Z", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ns % 1000000000u);
}

const char *policy_name(uint32_t p)
{
	return p < NR_POLICIES ? ms_policy_names[p] : "unknown";
}

/* The pcc mode of the run's caches: one name, or "per cache". */
const char *run_pcc_mode(const struct out *o)
{
	if (o->mode_state == 2)
		return "per cache";
	return ms_pcc_mode_names[o->pcc_mode <= PCC_MODE_UNKNOWN ? o->pcc_mode
								   : PCC_MODE_UNKNOWN];
}

bool is_internal(const struct cache *c)
{
	return c->created && c->nr_pcc == 0;
}

/* user, internal (no magazine layer: kmem_slab, kmem_bufctl, kmem_magazine_N) or
 * quantum (a quantum cache of an arena: NAME_SIZE where NAME is its source arena). */
const char *cache_kind(const struct report *r, const struct cache *c)
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

uint64_t cache_activity(const struct cache *c)
{
	return c->gets[0] + c->gets[1] + c->puts[0] + c->puts[1] + c->misses[0] + c->misses[1] +
	       c->bumps_up + c->bumps_down + c->contended;
}

/* ---- strings, each for the syntax of its file --------------------------------------- */

void gp_str(FILE *f, const char *s)
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

void csv_str(FILE *f, const char *s)
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

void plain_str(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc((unsigned char)*s >= 0x20 ? *s : '?', f);
}

void html_str(FILE *f, const char *s)
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

/* ---- what to plot ------------------------------------------------------------------ */

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

/* Plotted caches: magazine activity, most active first (chosen again each time: a live
 * snapshot chose from fewer caches). */
static void choose_caches(struct out *o)
{
	struct report *r = o->r;
	struct cache **cand;
	uint32_t i, n = 0;

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
}

/* Hash series: the caches and arenas with the most hash_resize events. */
static void choose_hash_series(struct out *o)
{
	struct report *r = o->r;
	uint32_t i;

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
}

static int *blocks(uint32_t n)
{
	int *b = calloc(n, sizeof(int));

	if (!b)
		abort();
	return b;
}

/* Run metadata: the tunables of the caches with a magazine layer, when they agree. */
static void run_tunables(struct out *o)
{
	struct report *r = o->r;
	bool first = true;
	uint32_t i;

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

/* The three lines of every plot title: what, the tunables, the loss (if any). */
static void make_titles(struct out *o)
{
	struct report *r = o->r;
	char tmo[32], bucket[32];

	if (r->title)
		o->title1 = ms_strdup(r->title);
	else if (r->program)
		o->title1 = ms_asprintf("program %s", r->program);
	else if (o->workload)
		o->title1 = ms_asprintf("magslab-workload %s", o->workload);
	else if (r->nr_traces && r->traces[0].name)
		o->title1 = ms_asprintf("trace %s", r->traces[0].name);
	else
		o->title1 = ms_strdup("magslab trace");
	fmt_ns(bucket, sizeof(bucket), r->bucket_ns);
	fmt_ns(tmo, sizeof(tmo), o->tmo);
	if (o->thr_state == 1)
		o->title2 = ms_asprintf("policy %s, threshold %" PRIu64 ", timeout %s; pcc mode %s; "
					"bucket %s", policy_name(o->policy), o->thr, tmo,
					run_pcc_mode(o), bucket);
	else if (o->thr_state == 2)
		o->title2 = ms_asprintf("threshold and timeout per cache, see summary.txt; "
					"pcc mode %s; bucket %s", run_pcc_mode(o), bucket);
	else
		o->title2 = ms_asprintf("no cache_create event: tunables unknown; bucket %s",
					bucket);
	if (r->disc_event_msgs || r->disc_packet_msgs) {
		char packets[64] = "";

		if (r->disc_packet_msgs)
			snprintf(packets, sizeof(packets), " and %" PRIu64 " packets", r->disc_packets);
		o->title3 = ms_asprintf("WARNING: %" PRIu64 " events%s%s discarded by the tracer "
					"(shaded): counts are lower bounds", r->disc_events,
					r->disc_unknown_count ? " (or more)" : "", packets);
	}
}

static void prepare(struct out *o)
{
	struct report *r = o->r;

	o->dur = secs(r->t_last - r->t0);
	if (o->dur <= 0)
		o->dur = secs(r->bucket_ns);
	o->bucket_s = secs(r->bucket_ns);
	o->exact_layers = r->any_alloc_events || r->any_counters;
	o->layers_counters = !r->any_alloc_events && r->any_counters;
	choose_caches(o);
	choose_hash_series(o);
	o->blk_magsize = blocks(r->max_caches);
	o->blk_pcc = blocks(r->max_caches);
	o->blk_cont = blocks(r->max_caches);
	o->blk_bumps = blocks(r->max_caches);
	o->blk_depot = blocks(r->max_caches);
	o->blk_hash = blocks(r->max_caches);
	run_tunables(o);
	guess_workload(o);
	make_titles(o);
}

static void out_free(struct out *o)
{
	uint32_t i;

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
	for (i = 0; i < o->nr_written; i++)
		free((char *)o->written[i]);
}

/* ---- entry points ------------------------------------------------------------------ */

void output_remove(struct report *r)
{
	int i;

	for (i = 0; output_files[i]; i++) {
		char *p = path_of(r, output_files[i]);

		unlink(p);
		free(p);
	}
}

void output_remove_live_page(struct report *r)
{
	char *p = path_of(r, "index.html");

	unlink(p);
	free(p);
}

/* snapshot.seq: "N" (or "N end" for the final report), written last. */
static int write_stamp(struct out *o, bool end)
{
	FILE *f = out_open(o, "snapshot.seq");

	if (!f)
		return -1;
	fprintf(f, "%" PRIu64 "%s\n", o->r->snapshots, end ? " end" : "");
	return out_close(o, f, "snapshot.seq");
}

/* Every file but index.html and the manifest. */
static int write_files(struct out *o)
{
	return dat_write(o) || gp_write(o) || json_write_summary(o) || summary_write(o);
}

/* After a snapshot read them: the temporary files are appended to again. */
static int seek_tmp_ends(struct report *r)
{
	if (fseek(r->rows_f, 0, SEEK_END) || fseek(r->ev_f, 0, SEEK_END) ||
	    fseek(r->phase_f, 0, SEEK_END) || fseek(r->win_f, 0, SEEK_END) ||
	    fseek(r->slots_f, 0, SEEK_END)) {
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
	if (fflush(r->rows_f) || fflush(r->ev_f) || fflush(r->phase_f) || fflush(r->win_f) ||
	    fflush(r->slots_f)) {
		report_error(r, "cannot write a temporary file (disk full?)");
		return -1;
	}
	prepare(&o);
	if (write_files(&o) == 0 && gp_write_live(&o) == 0) {
		r->snapshots++;
		if ((!r->live_page || html_write_live(&o) == 0) && write_stamp(&o, false) == 0)
			rc = 0;
	}
	if (seek_tmp_ends(r))
		rc = -1;
	out_free(&o);
	return rc;
}

/* The live page before the first snapshot (parameter live-page). */
int output_live_page(struct report *r)
{
	struct out o = { .r = r, .snapshot = true };
	int rc = html_write_live(&o);

	out_free(&o);
	if (rc == 0)
		r->live_page = true;
	return rc;
}

/* The loss and damage lines on stderr too, once the report is written. */
static void say_loss(struct out *o)
{
	struct report *r = o->r;
	char line[1024];

	if (!r->disc_event_msgs && !r->disc_packet_msgs && !r->damage_total)
		return;
	if (summary_damage_line(r, line, sizeof(line)))
		fprintf(stderr, "sink.magslab.report: %s\n", line);
	summary_discarded_line(o, line, sizeof(line));
	fprintf(stderr, "sink.magslab.report: %s\n", line);
}

int output_write(struct report *r)
{
	struct out o = { .r = r };
	int rc = -1;

	prepare(&o);
	output_remove(r);	/* no stale file of an earlier report (old PNGs) */
	if (write_files(&o) || html_write(&o) || hosts_write(&o) || chrome_write(&o))
		goto out;
	if (r->snapshot_ns && (gp_write_live(&o) || write_stamp(&o, true)))
		goto out;
	if (json_write_manifest(&o))
		goto out;
	say_loss(&o);
	rc = 0;
out:
	out_free(&o);
	return rc;
}
