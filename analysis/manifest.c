/*
 * analysis/manifest.c — reading a report directory's manifest.json (see manifest.h).
 *
 * Owns nothing on disk: it only reads.  A manifest that is missing, older than the run, or
 * names a file that is not there (or is older) means the sink did not write this report.
 */
#include "manifest.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* dir/name exists and was written at or after since; else err says so. */
static int written(const char *dir, const char *name, time_t since, char *err, size_t errlen)
{
	char path[PATH_MAX + 64];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (stat(path, &sb) != 0 || sb.st_mtime < since) {
		snprintf(err, errlen, "the report sink wrote no %.1024s", path);
		return -1;
	}
	return 0;
}

/* One entry of "plots": {script, outputs: [...]}. */
static int read_plot(const json_t *e, struct gp_plot *p)
{
	const json_t *outs = json_object_get(e, "outputs"), *o;
	size_t k;

	p->script = json_string_value(json_object_get(e, "script"));
	if (!p->script || strchr(p->script, '/') || !json_is_array(outs) ||
	    json_array_size(outs) > GP_MAX_OUTPUTS)
		return -1;
	json_array_foreach(outs, k, o) {
		p->outputs[k] = json_string_value(o);
		if (!p->outputs[k] || strchr(p->outputs[k], '/'))
			return -1;
	}
	p->noutputs = json_array_size(outs);
	return 0;
}

/* The files it names were all written in this run, and the plots are well formed. */
static int read_doc(const char *dir, time_t since, struct manifest *m, char *err,
		    size_t errlen)
{
	const json_t *files = json_object_get(m->doc, "files");
	const json_t *plots = json_object_get(m->doc, "plots"), *e;
	size_t i;

	if (!json_is_array(files) || !json_is_array(plots)) {
		snprintf(err, errlen, "%.1024s/manifest.json: no files or plots in it", dir);
		return -1;
	}
	json_array_foreach(files, i, e) {
		if (!json_is_string(e)) {
			snprintf(err, errlen, "%.1024s/manifest.json: a file that is not a string",
				 dir);
			return -1;
		}
		if (written(dir, json_string_value(e), since, err, errlen))
			return -1;
	}
	m->plots = calloc(json_array_size(plots) + 1, sizeof(*m->plots));
	if (!m->plots) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	json_array_foreach(plots, i, e) {
		if (read_plot(e, &m->plots[i])) {
			snprintf(err, errlen, "%.1024s/manifest.json: plot %zu is not {script, "
				 "outputs} of file names", dir, i);
			return -1;
		}
		m->nplots++;
	}
	return 0;
}

int manifest_load(const char *dir, time_t since, struct manifest *m, char *err, size_t errlen)
{
	char path[PATH_MAX + 64];
	json_error_t je;

	memset(m, 0, sizeof(*m));
	if (written(dir, "manifest.json", since, err, errlen))
		return -1;
	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	m->doc = json_load_file(path, 0, &je);
	if (!m->doc) {
		snprintf(err, errlen, "cannot read %.1024s: %.200s", path, je.text);
		return -1;
	}
	if (read_doc(dir, since, m, err, errlen)) {
		manifest_free(m);
		return -1;
	}
	return 0;
}

void manifest_free(struct manifest *m)
{
	json_decref(m->doc);
	free(m->plots);
	memset(m, 0, sizeof(*m));
}
