/*
 * analysis/manifest.h — reading the manifest of a report directory: manifest.json, which
 * sink.magslab.report writes last (docs/report.md, "manifest.json"), naming every file of
 * the report and, for each gnuplot script, the files it draws.  The front end (report,
 * live) knows a report only through it: what to check was written, what to render.
 *
 * Read with jansson; the strings of the plots point into the parsed document, which lives
 * until manifest_free.  Errors: one line into err, -1.
 */
#ifndef MAGSLAB_ANALYSIS_MANIFEST_H
#define MAGSLAB_ANALYSIS_MANIFEST_H

#include <stddef.h>
#include <time.h>

#include <jansson.h>

#include "gnuplot.h"

struct manifest {
	json_t *doc;
	struct gp_plot *plots;	/* for gp_render */
	size_t nplots;
};

/*
 * The manifest of the report in dir, which must have been written at or after since (this
 * run's), as every file it names: else "the report sink wrote no PATH".  0 or -1 (err).
 */
int manifest_load(const char *dir, time_t since, struct manifest *m, char *err, size_t errlen);
void manifest_free(struct manifest *m);

#endif /* MAGSLAB_ANALYSIS_MANIFEST_H */
