/*
 * dat.c — sink.magslab.report: the data files of the report directory, read back from the
 * temporary files (docs/report.md, "Files"):
 *
 *   buckets.csv      every per-bucket row of every cache
 *   contention.dat   per plotted cache, per bucket: contended acquisitions and waits
 *   depot.dat        per plotted cache: depot occupancy after each bucket with traffic
 *   layers.dat       per bucket, summed over the caches with a magazine layer
 *   slots.dat        per (bucket, slot): depot exchanges, summed over those caches
 *   magsize.dat pcc_magsize.dat bumps.dat   per plotted cache, from the event records
 *   hash.dat         per plotted hash table (hash series), from the event records
 *   phases.dat discarded.dat                the markers and the loss windows
 *
 * `.dat` files are whitespace-separated for gnuplot, with '#' comments naming the columns;
 * a file with several series has one block per series (gnuplot `index N`).  What each
 * plotted cache got is noted in struct out's block numbers (-1: no block), which gp.c's
 * scripts use; layers_any and slots_any say whether layers.dat and slots.dat have anything
 * to draw.  The allocations and frees by layer (buckets.csv, layers.dat) come from the
 * alloc/free events when the trace has them (TRACE=full), else from the pcc counters of
 * the slow-path events (counters.c).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "output.h"

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

/* The temporary file read to its end without error, else a cause. */
static int read_back_ok(struct report *r, FILE *f)
{
	if (ferror(f)) {
		report_error(r, "cannot read back a temporary file");
		return -1;
	}
	return 0;
}

/* name opened for writing and the temporary file tmp rewound, to be read from its start;
 * NULL if either failed. */
static FILE *open_read(struct out *o, const char *name, FILE *tmp)
{
	FILE *f = out_open(o, name);

	if (f && out_rewind(o->r, tmp)) {
		fclose(f);
		return NULL;
	}
	return f;
}

/* f, written from the temporary file tmp, is complete: closed (or both given up). */
static int close_read(struct out *o, FILE *f, FILE *tmp, const char *name)
{
	if (read_back_ok(o->r, tmp)) {
		fclose(f);
		return -1;
	}
	return out_close(o, f, name);
}

/* The allocations and frees by layer of a row: alloc events or pcc counters. */
static const uint64_t *row_allocs(const struct out *o, const struct bucket_row *row)
{
	return o->layers_counters ? row->cnt_allocs : row->allocs;
}

static const uint64_t *row_frees(const struct out *o, const struct bucket_row *row)
{
	return o->layers_counters ? row->cnt_frees : row->frees;
}

static int write_buckets_csv(struct out *o)
{
	struct report *r = o->r;
	struct bucket_row row;
	FILE *f = open_read(o, "buckets.csv", r->rows_f);

	if (!f)
		return -1;
	fprintf(f, "time_s,bucket,cache_id,cache,vpid,contended,counted,wait_sum_ns,wait_max_ns,"
		"wait_p50_ns,wait_p99_ns,pcc_contended,depot_gets_alloc,depot_gets_free,"
		"depot_puts_alloc,depot_puts_free,depot_misses_alloc,depot_misses_free,"
		"rounds_got_alloc,rounds_got_free,mag_swaps_alloc,mag_swaps_free,depot_full,"
		"depot_empty,depot_full_max,depot_empty_max,allocs_pcc,allocs_depot,allocs_slab,"
		"frees_pcc,frees_depot,frees_slab,magsize_bumps,magsize\n");
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
			",%" PRIu64 ",%" PRIu64 "\n", row_allocs(o, &row)[0], row_allocs(o, &row)[1],
			row_allocs(o, &row)[2], row_frees(o, &row)[0], row_frees(o, &row)[1],
			row_frees(o, &row)[2], row.bumps, row.magsize);
	}
	return close_read(o, f, r->rows_f, "buckets.csv");
}

/* One plotted cache's blocks of contention.dat and depot.dat (block numbers: *nc, *nd). */
static int cont_depot_cache(struct out *o, FILE *fc, FILE *fd, int *nc, int *nd, uint32_t k)
{
	struct report *r = o->r;
	const struct cache *c = o->plot[k];
	struct bucket_row row, last = { 0 };
	bool any_c = false, have_last = false;
	uint64_t next = 0;

	o->blk_cont[k] = o->blk_depot[k] = -1;
	if (out_rewind(r, r->rows_f))
		return -1;
	while (fread(&row, sizeof(row), 1, r->rows_f) == 1) {
		double t = secs(row.bucket * r->bucket_ns);

		if (row.cache != c->index)
			continue;
		if (!any_c) {
			block_header(fc, *nc, c);
			o->blk_cont[k] = (*nc)++;
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
			fprintf(fc, "%.6f 0 0 NaN NaN NaN NaN %" PRIu64 "\n", t, row.pcc_contended);
		next = row.bucket + 1;
		if (row.depot_seen) {
			if (!have_last) {
				block_header(fd, *nd, c);
				o->blk_depot[k] = (*nd)++;
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
	return 0;
}

/* contention.dat and depot.dat: one block per plotted cache. */
static int write_cont_depot(struct out *o)
{
	FILE *fc = out_open(o, "contention.dat"), *fd = out_open(o, "depot.dat");
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
	for (k = 0; k < o->nr_plot; k++)
		if (cont_depot_cache(o, fc, fd, &nc, &nd, k))
			goto error;
	if (out_close(o, fc, "contention.dat") | out_close(o, fd, "depot.dat"))
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

/* A cache's row of a bucket, added to the bucket's layers.dat row. */
static void layer_add(struct out *o, struct layer_row *cur, const struct bucket_row *row)
{
	const uint64_t *a = row_allocs(o, row);
	int k;

	for (k = 0; k < NR_LAYERS; k++)
		cur->a[k] += a[k];
	cur->gets += row->gets[SIDE_ALLOC];
	cur->rounds += row->rounds_got[SIDE_ALLOC];
	cur->misses += row->misses[SIDE_ALLOC];
	if (o->exact_layers ? a[0] + a[1] + a[2] != 0 :
	    row->gets[SIDE_ALLOC] + row->misses[SIDE_ALLOC] != 0)
		o->layers_any = true;
}

static int write_layers(struct out *o)
{
	struct report *r = o->r;
	FILE *f = open_read(o, "layers.dat", r->rows_f);
	struct bucket_row row;
	struct layer_row cur = { 0 }, zero = { 0 };
	uint64_t b = 0, cur_b = 0, last_bucket = (r->t_last - r->t0) / r->bucket_ns;
	bool have = false, more;

	if (!f)
		return -1;
	dat_header(f, "layers.dat",
		   !o->exact_layers ? "allocation-side depot traffic (no alloc events or pcc "
				      "counters in this trace)" :
		   o->layers_counters ? "allocations by the layer that served them (pcc counters)"
				      : "allocations by the layer that served them (alloc events)",
		   "1 time_s (bucket start)  2 allocs (0 without alloc events or counters)  3 pcc  4 depot  "
		   "5 slab  6 pcc_pct  7 depot_pct  8 slab_pct  9 depot_gets_alloc  "
		   "10 rounds_got_alloc  11 depot_misses_alloc  12 depot_gets_alloc_per_s  "
		   "13 rounds_got_alloc_per_s  14 depot_misses_alloc_per_s");
	fprintf(f, "# summed over the caches with a magazine layer (not kmem_slab, kmem_bufctl, "
		"kmem_magazine); every bucket has a row (pct columns NaN: no alloc event in it); "
		"the last row, at the trace end, repeats the last bucket\n");
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
		if (more && !is_internal(r->caches[row.cache]))
			layer_add(o, &cur, &row);
	} while (more);
	layer_print(o, f, o->dur, have && cur_b == last_bucket ? &cur : &zero);
	return close_read(o, f, r->rows_f, "layers.dat");
}

/* magsize.dat, pcc_magsize.dat, bumps.dat and hash.dat, and their blocks so far. */
struct series {
	FILE *fm, *fp, *fb, *fh;
	int nm, np, nb, nh;
};

/* The event records of plotted cache k: its magsize steps, adoptions and resizes. */
static int cache_series(struct out *o, struct series *s, uint32_t k)
{
	struct report *r = o->r;
	const struct cache *c = o->plot[k];
	bool any_p = false, any_b = false;
	struct event_rec e;

	o->blk_pcc[k] = o->blk_bumps[k] = -1;
	block_header(s->fm, s->nm, c);
	o->blk_magsize[k] = s->nm++;
	fprintf(s->fm, "%.6f %" PRIu32 "\n", secs(c->created ? c->t_create : c->t_first),
		c->magsize0);
	if (out_rewind(r, r->ev_f))
		return -1;
	while (fread(&e, sizeof(e), 1, r->ev_f) == 1) {
		if (e.idx != c->index || e.type == ER_HASH)
			continue;
		if (e.type == ER_BUMP) {
			fprintf(s->fm, "%.6f %" PRIu64 "\n", secs(e.t), e.v[1]);
			if (!any_b) {
				block_header(s->fb, s->nb, c);
				o->blk_bumps[k] = s->nb++;
				any_b = true;
			}
			fprintf(s->fb, "%.6f %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
				secs(e.t), e.v[0], e.v[1], e.v[2], e.v[3]);
		} else if (e.type == ER_PCC_MAGSIZE) {
			if (!any_p) {
				block_header(s->fp, s->np, c);
				o->blk_pcc[k] = s->np++;
				any_p = true;
			}
			fprintf(s->fp, "%.6f %" PRIu64 " %" PRIu64 " %" PRIu64 "\n", secs(e.t),
				e.v[2], e.v[1], e.v[0]);
		}
	}
	fprintf(s->fm, "%.6f %" PRIu32 "\n", o->dur, c->magsize);
	return 0;
}

/* The hash_resize records of hash series k. */
static int hash_series(struct out *o, struct series *s, uint32_t k)
{
	struct report *r = o->r;
	const struct hash_series *h = &o->hs[k];
	uint64_t last_old = 0, last_new = 0;
	struct event_rec e;
	bool any = false;

	if (out_rewind(r, r->ev_f))
		return -1;
	while (fread(&e, sizeof(e), 1, r->ev_f) == 1) {
		if (e.type != ER_HASH || e.idx != h->idx || (int)e.v[5] != h->kind)
			continue;
		if (!any) {
			fprintf(s->fh, "%s# block %d: %s ", s->nh ? "\n\n" : "", s->nh,
				h->kind == HASH_KIND_CACHE ? "cache" : "arena");
			plain_str(s->fh, h->name);
			fputc('\n', s->fh);
			o->blk_hash[k] = s->nh++;
			any = true;
		}
		fprintf(s->fh, "%.6f %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
			secs(e.t), e.v[0], e.v[1], e.v[2], e.v[3], e.v[4]);
		last_old = e.v[0];
		last_new = e.v[4] ? e.v[1] : e.v[0];
	}
	if (any)
		fprintf(s->fh, "%.6f %" PRIu64 " %" PRIu64 " NaN NaN NaN\n", o->dur, last_old,
			last_new);
	else
		o->blk_hash[k] = -1;
	return 0;
}

static void series_headers(const struct series *s)
{
	dat_header(s->fm, "magsize.dat", "depot magazine size per cache (steps)",
		   "1 time_s  2 magsize (rounds): the first row is the cache's creation (or first "
		   "event), then one row per magsize_bump, the last the trace end");
	dat_header(s->fp, "pcc_magsize.dat", "per-CPU adoptions of the depot magsize (pcc_magsize)",
		   "1 time_s  2 new (rounds)  3 old  4 cpu");
	dat_header(s->fb, "bumps.dat", "magsize_bump events",
		   "1 time_s  2 old  3 new (rounds)  4 reason (0 threshold 1 interval 2 contended "
		   "3 shrink 4 reap 5 user)  5 busy_count");
	dat_header(s->fh, "hash.dat", "hash_resize events (bufctl hash of a cache, segment hash of "
		   "an arena)", "1 time_s  2 old_lists  3 new_lists  4 items  5 duration_ns  6 ok "
		   "(the last row of a block: the trace end, lists held, items NaN)");
}

/* magsize.dat, pcc_magsize.dat, bumps.dat and hash.dat, from the event records. */
static int write_event_series(struct out *o)
{
	struct series s = { out_open(o, "magsize.dat"), out_open(o, "pcc_magsize.dat"),
			    out_open(o, "bumps.dat"), out_open(o, "hash.dat"), 0, 0, 0, 0 };
	uint32_t k;

	if (!s.fm || !s.fp || !s.fb || !s.fh)
		goto error;
	series_headers(&s);
	for (k = 0; k < o->nr_plot; k++)
		if (cache_series(o, &s, k))
			goto error;
	for (k = 0; k < o->nr_hs; k++)
		if (hash_series(o, &s, k))
			goto error;
	if (read_back_ok(o->r, o->r->ev_f))
		goto error;
	if (out_close(o, s.fm, "magsize.dat") | out_close(o, s.fp, "pcc_magsize.dat") |
	    out_close(o, s.fb, "bumps.dat") | out_close(o, s.fh, "hash.dat"))
		return -1;
	return 0;
error:
	if (s.fm)
		fclose(s.fm);
	if (s.fp)
		fclose(s.fp);
	if (s.fb)
		fclose(s.fb);
	if (s.fh)
		fclose(s.fh);
	return -1;
}

static int write_phases(struct out *o)
{
	struct report *r = o->r;
	FILE *f = open_read(o, "phases.dat", r->phase_f);
	char name[256];
	uint64_t t;
	uint32_t index, len;

	if (!f)
		return -1;
	dat_header(f, "phases.dat", "magslab:workload_phase markers",
		   "1 time_s  2 index  3 name (quoted)");
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
	return out_close(o, f, "phases.dat");
}

/* discarded.dat: every (merged) window of discarded events or packets. */
static int write_discarded(struct out *o)
{
	struct report *r = o->r;
	FILE *f = open_read(o, "discarded.dat", r->win_f);
	uint64_t w[2];

	if (!f)
		return -1;
	dat_header(f, "discarded.dat", "windows in which the tracer discarded events or packets "
		   "(overlapping windows merged)", "1 begin_s  2 end_s (since the trace start)");
	while (fread(w, sizeof(w), 1, r->win_f) == 1)
		fprintf(f, "%.9f %.9f\n", rel_s(r, w[0]), rel_s(r, w[1]));
	return out_close(o, f, "discarded.dat");
}

/* slots.dat: the per-slot view, every (bucket, slot) with depot exchanges. */
static int write_slots(struct out *o)
{
	struct report *r = o->r;
	FILE *f = open_read(o, "slots.dat", r->slots_f);
	struct slot_row row;

	if (!f)
		return -1;
	dat_header(f, "slots.dat", "depot exchanges per pcc slot and bucket, summed over the "
		   "caches with magazines", "1 time_s (bucket start)  2 slot  3 exchanges_alloc  "
		   "4 exchanges_free  5 exchanges (one block; only the cells with exchanges)");
	if (r->slots_over)
		fprintf(f, "# %" PRIu64 " exchanges of slots at or above %u are not here\n",
			r->slots_over, MS_MAX_SLOTS);
	o->slots_any = false;
	o->max_slot = 0;
	while (fread(&row, sizeof(row), 1, r->slots_f) == 1) {
		fprintf(f, "%.6f %" PRIu32 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
			secs(row.bucket * r->bucket_ns), row.slot, row.exchanges[0], row.exchanges[1],
			row.exchanges[0] + row.exchanges[1]);
		o->slots_any = true;
		if (row.slot > o->max_slot)
			o->max_slot = row.slot;
	}
	return close_read(o, f, r->slots_f, "slots.dat");
}

int dat_write(struct out *o)
{
	return write_buckets_csv(o) || write_cont_depot(o) || write_layers(o) ||
	       write_event_series(o) || write_phases(o) || write_discarded(o) || write_slots(o);
}
