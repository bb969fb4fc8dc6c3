/*
 * chrome.c — sink.magslab.report: trace.json, the run in the Chrome trace-event format
 * (its JSON object form), for Perfetto UI (ui.perfetto.dev: "Open trace file"),
 * chrome://tracing and speedscope (docs/report.md, "trace.json").
 *
 *   pid 0, "workload": the workload's phases (workload_phase markers) as complete events
 *     ("X", tid 0), each from its marker to the next (a marker named "end" only ends one);
 *   pid k + 1 for the k-th plotted cache, "cache NAME (id ID)":
 *     counter "magsize" (args {rounds}): at the cache's creation (or first event), at each
 *       magsize_bump, and at the trace end;
 *     counter "depot" (args {full, empty}): the depot's magazines after each bucket with
 *       depot traffic (at the bucket's start, as depot.dat), and at the trace end;
 *     complete events "depot wait" (tid: the pcc slot, "slot N"): each depot_contention,
 *       from when the wait began (the event's time minus wait_ns) for wait_ns.
 *   metadata events ("M"): process and thread names, process order.
 *
 * Times (ts, dur) are in microseconds since the trace start, as the format has them, with
 * ns precision; "displayTimeUnit" is "ns".  "otherData" says what is in the file: per
 * plotted cache its contention slices and magsize/depot counter events, and whether the
 * slices were cut at MS_TRACE_SLICES (then only the first ones are in the file).
 *
 * Written with jansson, one event object at a time (json_dumpf), so that memory does not
 * grow with the trace; the events come from the temporary files (rows, event records,
 * contention records, phases), read once per plotted cache.  Final report only (not the
 * live snapshots).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "output.h"

/* At most this many depot-wait slices in the file (the first ones). */
#define MS_TRACE_SLICES 200000u

#define DUMP_FLAGS (JSON_COMPACT | JSON_REAL_PRECISION(15))

/* The writer's state: the file, the events so far, what otherData reports. */
struct tj {
	struct out *o;
	FILE *f;
	uint64_t events;
	uint64_t slices;		/* depot-wait slices written */
	bool truncated;
	json_t *per_cache;		/* otherData.caches */
};

static double us(uint64_t ns)
{
	return (double)ns / 1e3;
}

/* Appends one event (and drops the caller's reference). */
static void emit(struct tj *t, json_t *ev)
{
	if (!ev)
		abort();
	fputs(t->events++ ? ",\n" : "\n", t->f);
	json_dumpf(ev, t->f, DUMP_FLAGS);
	json_decref(ev);
}

static void meta(struct tj *t, const char *what, uint32_t pid, uint32_t tid, json_t *args)
{
	emit(t, json_pack("{s:s, s:s, s:i, s:i, s:o}", "name", what, "ph", "M", "pid", (int)pid,
			  "tid", (int)tid, "args", args));
}

static void counter(struct tj *t, uint32_t pid, const char *name, uint64_t ns, json_t *args)
{
	emit(t, json_pack("{s:s, s:s, s:i, s:i, s:f, s:o}", "name", name, "ph", "C", "pid",
			  (int)pid, "tid", 0, "ts", us(ns), "args", args));
}

static void slice(struct tj *t, uint32_t pid, uint32_t tid, const char *name, const char *cat,
		  uint64_t ns, uint64_t dur_ns)
{
	emit(t, json_pack("{s:s, s:s, s:s, s:i, s:i, s:f, s:f}", "name", name, "cat", cat, "ph",
			  "X", "pid", (int)pid, "tid", (int)tid, "ts", us(ns), "dur", us(dur_ns)));
}

/* The phases, pid 0: each from its marker to the next one. */
static int phase_slices(struct tj *t)
{
	struct report *r = t->o->r;
	char name[256] = "", next[256];
	uint64_t t0 = 0, tn;
	uint32_t index, len;
	bool open = false;

	meta(t, "process_name", 0, 0, json_pack("{s:s}", "name", "workload"));
	meta(t, "thread_name", 0, 0, json_pack("{s:s}", "name", "phases"));
	if (out_rewind(r, r->phase_f))
		return -1;
	while (fread(&tn, sizeof(tn), 1, r->phase_f) == 1 &&
	       fread(&index, sizeof(index), 1, r->phase_f) == 1 &&
	       fread(&len, sizeof(len), 1, r->phase_f) == 1) {
		if (len >= sizeof(next) || (len && fread(next, len, 1, r->phase_f) != 1))
			break;
		next[len] = '\0';
		if (open)
			slice(t, 0, 0, name, "phase", t0, tn - t0);
		open = strcmp(next, "end") != 0;
		snprintf(name, sizeof(name), "%.200s", next);
		t0 = tn;
	}
	if (open && r->t_last - r->t0 >= t0)
		slice(t, 0, 0, name, "phase", t0, r->t_last - r->t0 - t0);
	return ferror(r->phase_f) ? -1 : 0;
}

/* Cache k's magsize counter: its start, its magsize_bump events, the trace end. */
static int magsize_track(struct tj *t, uint32_t k, uint64_t *n)
{
	struct report *r = t->o->r;
	const struct cache *c = t->o->plot[k];
	struct event_rec e;

	counter(t, k + 1, "magsize", c->created ? c->t_create : c->t_first,
		json_pack("{s:I}", "rounds", (json_int_t)c->magsize0));
	*n = 1;
	if (out_rewind(r, r->ev_f))
		return -1;
	while (fread(&e, sizeof(e), 1, r->ev_f) == 1) {
		if (e.type != ER_BUMP || e.idx != c->index)
			continue;
		counter(t, k + 1, "magsize", e.t, json_pack("{s:I}", "rounds", (json_int_t)e.v[1]));
		(*n)++;
	}
	counter(t, k + 1, "magsize", r->t_last - r->t0,
		json_pack("{s:I}", "rounds", (json_int_t)c->magsize));
	(*n)++;
	return ferror(r->ev_f) ? -1 : 0;
}

/* Cache k's depot counter: after each bucket with depot traffic, and at the trace end. */
static int depot_track(struct tj *t, uint32_t k, uint64_t *n)
{
	struct report *r = t->o->r;
	const struct cache *c = t->o->plot[k];
	struct bucket_row row;

	*n = 0;
	if (out_rewind(r, r->rows_f))
		return -1;
	while (fread(&row, sizeof(row), 1, r->rows_f) == 1) {
		if (row.cache != c->index || !row.depot_seen)
			continue;
		counter(t, k + 1, "depot", row.bucket * r->bucket_ns,
			json_pack("{s:I, s:I}", "full", (json_int_t)row.nne_last, "empty",
				  (json_int_t)row.ne_last));
		(*n)++;
	}
	if (*n) {
		counter(t, k + 1, "depot", r->t_last - r->t0,
			json_pack("{s:I, s:I}", "full", (json_int_t)c->nne, "empty",
				  (json_int_t)c->ne));
		(*n)++;
	}
	return ferror(r->rows_f) ? -1 : 0;
}

/* Cache k's depot waits, one slice each on its slot's track (the slots named first). */
static int wait_slices(struct tj *t, uint32_t k, uint64_t *n)
{
	struct report *r = t->o->r;
	const struct cache *c = t->o->plot[k];
	struct cont_rec rec;
	uint32_t s;

	*n = 0;
	for (s = 0; s < c->nr_pcc && s < MS_MAX_SLOTS && c->contended; s++) {
		char name[32];

		snprintf(name, sizeof(name), "slot %" PRIu32, s);
		meta(t, "thread_name", k + 1, s, json_pack("{s:s}", "name", name));
	}
	if (out_rewind(r, r->cont_f))
		return -1;
	while (fread(&rec, sizeof(rec), 1, r->cont_f) == 1) {
		if (rec.cache != c->index)
			continue;
		if (t->slices == MS_TRACE_SLICES) {
			t->truncated = true;
			break;
		}
		slice(t, k + 1, rec.cpu, "depot wait", "contention",
		      rec.t > rec.wait_ns ? rec.t - rec.wait_ns : 0, rec.wait_ns);
		t->slices++;
		(*n)++;
	}
	return ferror(r->cont_f) ? -1 : 0;
}

/* Plotted cache k: its process, tracks and slices, and what otherData says of it. */
static int cache_events(struct tj *t, uint32_t k)
{
	const struct cache *c = t->o->plot[k];
	uint64_t nm = 0, nd = 0, ns = 0;
	char name[256];

	snprintf(name, sizeof(name), "cache %.200s (id %" PRIu32 ")", c->name, c->id);
	meta(t, "process_name", k + 1, 0, json_pack("{s:o}", "name", json_text(name)));
	meta(t, "process_sort_index", k + 1, 0, json_pack("{s:i}", "sort_index", (int)k + 1));
	if (magsize_track(t, k, &nm) || depot_track(t, k, &nd) || wait_slices(t, k, &ns))
		return -1;
	if (json_array_append_new(t->per_cache,
				  json_pack("{s:o, s:I, s:I, s:I, s:I}", "name", json_text(c->name),
					    "pid", (json_int_t)k + 1, "contention_slices",
					    (json_int_t)ns, "magsize_counters", (json_int_t)nm,
					    "depot_counters", (json_int_t)nd)))
		abort();
	return 0;
}

/* The end of the file: displayTimeUnit and otherData. */
static void finish(struct tj *t)
{
	struct report *r = t->o->r;
	json_t *other = json_pack("{s:s, s:s, s:I, s:f, s:I, s:b, s:I, s:o}", "format",
				  "magslab-trace-events/1", "generator", "sink.magslab.report",
				  "trace_first_ns", (json_int_t)r->t0, "duration_s",
				  secs(r->t_last - r->t0), "contention_slices", (json_int_t)t->slices,
				  "contention_slices_truncated", t->truncated, "max_slices",
				  (json_int_t)MS_TRACE_SLICES, "caches", t->per_cache);

	if (!other)
		abort();
	fputs("\n], \"displayTimeUnit\": \"ns\", \"otherData\": ", t->f);
	json_dumpf(other, t->f, JSON_INDENT(1) | JSON_REAL_PRECISION(15));
	json_decref(other);
	fputs("}\n", t->f);
}

int chrome_write(struct out *o)
{
	struct tj t = { o, out_open(o, "trace.json"), 0, 0, false, json_array() };
	uint32_t k;

	if (!t.per_cache)
		abort();
	if (!t.f) {
		json_decref(t.per_cache);
		return -1;
	}
	fputs("{\"traceEvents\": [", t.f);
	if (phase_slices(&t))
		goto error;
	for (k = 0; k < o->nr_plot; k++)
		if (cache_events(&t, k))
			goto error;
	finish(&t);
	return out_close(o, t.f, "trace.json");
error:
	report_error(o->r, "cannot read back a temporary file");
	json_decref(t.per_cache);
	fclose(t.f);
	return -1;
}
