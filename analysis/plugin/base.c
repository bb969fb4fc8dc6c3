/*
 * base.c — sink.magslab.report: the leaf every other file of the sink uses, and which uses
 * none of them: the name tables of docs/events.md, checked allocation, the error, warning
 * and damage messages, the wait-time percentile, the monotonic clock.
 *
 * Owns r->warnings and r->damage (the first 32 of each, for summary.json; damage_total
 * counts them all).  Allocation failure aborts: the sink keeps no state that could be
 * rolled back, and babeltrace2 offers nothing better to a component out of memory.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report.h"

const char *const ms_kind_names[K_NKNOWN] = {
	"cache_create", "cache_destroy", "mag_swap", "depot_get", "depot_put", "depot_exchange",
	"depot_miss", "depot_contention", "magsize_bump", "pcc_magsize", "hash_resize", "slab_grow",
	"slab_release", "reap", "pcc_contention", "pcc_counters", "arena_create", "arena_destroy",
	"arena_import", "arena_release", "arena_fail", "workload_phase", "alloc", "free",
};
const char *const ms_reason_names[NR_REASONS] = {
	"threshold", "interval", "contended", "shrink", "reap", "user",
};
const char *const ms_policy_names[NR_POLICIES] = { "akaros", "illumos", "uma", "adaptive" };
const char *const ms_layer_names[NR_LAYERS] = { "pcc", "depot", "slab" };
const char *const ms_pcc_mode_names[NR_PCC_MODES + 1] = { "locked", "rseq", "none", "unknown" };
const char *const ms_outcome_names[NR_OUTCOMES] = { "to_slab", "new_magazine", "no_magazine" };
/* The counts of a host's row (parameter `hosts`; the columns of `magslab report`'s hosts.txt). */
const char *const ms_host_count_names[MS_HOST_COUNTS] = {
	"events", "magslab_events", "caches", "arenas", "discarded_events", "discarded_packets",
};

char *ms_strdup(const char *s)
{
	char *d = strdup(s ? s : "");

	if (!d)
		abort();
	return d;
}

void *ms_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		abort();
	return q;
}

char *ms_asprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		abort();
	return s;
}

/* An error cause, as the babeltrace2 CLI (or the magslab front end) prints it. */
void report_error(struct report *r, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	BT_CURRENT_THREAD_ERROR_APPEND_CAUSE_FROM_COMPONENT(r->self_comp, "%s", buf);
}

/* The message (at most max bytes) kept in list (the first 32 of *n) for summary.json, and
 * logged as "LABEL: message". */
static void keep(const struct report *r, char **list, uint32_t *n, const char *label,
		 size_t max, const char *fmt, va_list ap)
{
	char *msg;

	if (vasprintf(&msg, fmt, ap) < 0)
		abort();
	if (strlen(msg) > max)
		msg[max] = '\0';
	if (r->log_level <= BT_LOGGING_LEVEL_WARNING)
		fprintf(stderr, "sink.magslab.report: %s: %s\n", label, msg);
	if (*n < 32)
		list[(*n)++] = msg;
	else
		free(msg);
}

/* A warning kept for summary.json (the first 32) and logged. */
void report_warn(struct report *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	keep(r, r->warnings, &r->nr_warnings, "warning", 511, fmt, ap);
	va_end(ap);
}

/* A reason why the trace is damaged (sanity.c, parameter damage): kept, counted, logged. */
void report_damage(struct report *r, const char *fmt, ...)
{
	va_list ap;

	r->damage_total++;
	va_start(ap, fmt);
	keep(r, r->damage, &r->nr_damage, "damaged trace", SIZE_MAX, fmt, ap);
	va_end(ap);
}

void report_messages_free(struct report *r)
{
	uint32_t i;

	for (i = 0; i < r->nr_warnings; i++)
		free(r->warnings[i]);
	for (i = 0; i < r->nr_damage; i++)
		free(r->damage[i]);
	r->nr_warnings = r->nr_damage = 0;
}

/*
 * The pct-th percentile of total values in a wait-time histogram (report.h, MS_HIST_N):
 * the upper edge of the bucket it falls in, clamped to max (the largest value seen).
 */
uint64_t ms_hist_percentile(const uint64_t *hist, uint64_t total, uint64_t max,
			    unsigned int pct)
{
	uint64_t want = (total * pct + 99) / 100, seen = 0;
	unsigned int i;

	if (!total)
		return 0;
	if (want == 0)
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

uint64_t ms_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
