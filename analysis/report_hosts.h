/*
 * analysis/report_hosts.h — `magslab report` of traces of several hosts (docs/report.md,
 * "Several hosts"): the traces grouped by the host that recorded them, each host's report
 * directory name, and what the sink is told about them.
 *
 * report.c drives: it groups the hosts (hosts_group), runs one graph per host into
 * OUTDIR/hosts/DIR with the sink parameter `host` (host_param), reads each host's
 * summary.json, then runs the merged graph with the parameter `hosts` (hosts_param): the
 * sink writes the Hosts section of index.html, hosts.txt and hosts.json from it.  Nothing
 * here writes a file.
 */
#ifndef MAGSLAB_ANALYSIS_REPORT_HOSTS_H
#define MAGSLAB_ANALYSIS_REPORT_HOSTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <babeltrace2/babeltrace.h>
#include <jansson.h>

#include "graph.h"

/* Directory names under OUTDIR/hosts are at most this long (with a "-N" suffix). */
#define HOST_DIR_MAX 80

struct host {
	char *name;           /* the traces' `hostname`; NULL: none (shown as "unknown") */
	char dir[HOST_DIR_MAX + 16]; /* its directory name under OUTDIR/hosts */
	struct mg_inputs in;  /* its sources: copies of the merged inputs' (not owned) */
	bool done;            /* its report was written */
	char why[MG_ERRLEN];  /* else why not (empty: not attempted) */
	uint64_t events;      /* events its graph saw */
	int nplots;           /* plots rendered */
	json_t *summary;      /* its summary.json, when done */
};

struct hosts {
	struct host *h;
	size_t n;
};

/* The host's name, "unknown" when its traces have none. */
const char *host_label(const struct host *h);

/*
 * Groups the sources of in by host (mg_source_hostname): hosts sorted by name, the one
 * without a hostname last; each gets a distinct directory name (letters, digits, '.', '-'
 * and '_', anything else as '_'; "-2", "-3"... when two names map to one).  0, or -1 (err).
 */
int hosts_group(const struct mg_plugins *p, const struct mg_inputs *in,
		bt_logging_level log_level, struct hosts *hs, char *err, size_t errlen);
void hosts_free(struct hosts *hs);

/* The sink parameter `hosts` of the merged report (all: every input), into params. */
int hosts_param(bt_value *params, const struct hosts *hs, const struct mg_inputs *all);

/* The sink parameter `host` of host h's own report, into params. */
int host_param(bt_value *params, const struct hosts *hs, const struct host *h);

/* The "hosts:" lines of stdout: a line per host, where its report is (or why none). */
void hosts_print(const struct hosts *hs, const char *absout);

#endif /* MAGSLAB_ANALYSIS_REPORT_HOSTS_H */
