/*
 * tracelib/discover.c — finding the sources of a graph under the TRACE arguments
 * (mg_discover, mg_discover_with; the rules are in graph.h, "Discovery"): trace directories
 * by their `metadata` file and source.ctf.fs's support-info query, grouped by trace UUID;
 * live URLs as they are.  Every metadata file's framing is checked first and every stream
 * against its index (tracecheck.h); the queries run under the stall watchdog.
 *
 * Owns the struct mg_inputs it fills (the caller frees it with mg_inputs_free()).  No
 * state between calls.
 */
#include "graph.h"
#include "tl_util.h"
#include "watchdog.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Directories deeper than this under a TRACE argument are not searched. */
#define MG_MAX_DEPTH 32

bool mg_is_live_url(const char *arg)
{
	return strncmp(arg, "net://", 6) == 0 || strncmp(arg, "net4://", 7) == 0 ||
	       strncmp(arg, "net6://", 7) == 0;
}

struct walk {
	const bt_component_class *fs;
	struct mg_inputs *out;
	char *err;
	size_t errlen;
	const char *arg; /* the TRACE argument being searched (trailing slashes removed) */
	bt_logging_level log_level; /* of the queries */
	/* the directories being walked (loop protection) */
	dev_t dev[MG_MAX_DEPTH + 1];
	ino_t ino[MG_MAX_DEPTH + 1];
	int depth;
};

/*
 * The babeltrace.support-info query of source.ctf.fs on directory dir: 1 it is a trace
 * (*group: its UUID, malloc'd, or NULL), 0 it is not, -1 error.
 */
static int support_info(struct walk *w, const char *dir, char **group)
{
	bt_value *params = bt_value_map_create();
	bt_query_executor *q = NULL;
	const bt_value *res = NULL, *v;
	bt_query_executor_query_status st;
	double weight = 0;
	int ret = -1;

	*group = NULL;
	if (!params ||
	    bt_value_map_insert_string_entry(params, "input", dir) !=
		    BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK ||
	    bt_value_map_insert_string_entry(params, "type", "directory") !=
		    BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK) {
		tl_seterr(w->err, w->errlen, "out of memory");
		goto out;
	}
	q = bt_query_executor_create(w->fs, "babeltrace.support-info", params);
	if (!q) {
		tl_seterr(w->err, w->errlen, "out of memory");
		goto out;
	}
	bt_query_executor_set_logging_level(q, w->log_level);
	st = bt_query_executor_query(q, &res);
	if (st != BT_QUERY_EXECUTOR_QUERY_STATUS_OK) {
		char ctx[PATH_MAX + 64];

		snprintf(ctx, sizeof(ctx), "%s/metadata is not readable CTF metadata", dir);
		mg_take_error(w->err, w->errlen, ctx, false);
		goto out;
	}
	if (bt_value_is_map(res)) {
		v = bt_value_map_borrow_entry_value_const(res, "weight");
		if (v && bt_value_is_real(v))
			weight = bt_value_real_get(v);
		else if (v && bt_value_is_signed_integer(v))
			weight = (double)bt_value_integer_signed_get(v);
		v = bt_value_map_borrow_entry_value_const(res, "group");
		if (weight > 0 && v && bt_value_is_string(v))
			*group = tl_xstrdup(bt_value_string_get(v));
	} else if (bt_value_is_real(res)) {
		weight = bt_value_real_get(res);
	}
	ret = weight > 0 ? 1 : 0;
out:
	bt_value_put_ref(res);
	bt_query_executor_put_ref(q);
	bt_value_put_ref(params);
	return ret;
}

/*
 * Adds trace directory dir (found under argument arg; sb: its identity) to the source of
 * its trace UUID, or to a new source.  Takes group.
 */
static void add_trace_dir(struct mg_inputs *in, const char *arg, const char *dir,
			  const struct stat *sb, char *group)
{
	struct mg_source *s = NULL;
	const char *rel;
	size_t i, j;

	for (i = 0; i < in->n; i++)
		for (j = 0; j < in->src[i].ndirs; j++)
			if (in->src[i].dev[j] == (unsigned long long)sb->st_dev &&
			    in->src[i].ino[j] == (unsigned long long)sb->st_ino) {
				free(group); /* reached twice: once is enough */
				return;
			}
	if (group)
		for (i = 0; i < in->n && !s; i++)
			if (!in->src[i].live && in->src[i].group &&
			    strcmp(in->src[i].group, group) == 0)
				s = &in->src[i];
	if (s) {
		/* A second directory of the trace: no trace name (as the command line). */
		free(group);
		free(s->trace_name);
		s->trace_name = NULL;
	} else {
		in->src = tl_xrealloc(in->src, (in->n + 1) * sizeof(*in->src));
		s = &in->src[in->n++];
		memset(s, 0, sizeof(*s));
		s->group = group;
		rel = dir + strlen(arg);
		while (*rel == '/')
			rel++;
		if (*rel)
			s->trace_name = tl_xstrdup(rel);
	}
	s->dirs = tl_xrealloc(s->dirs, (s->ndirs + 1) * sizeof(*s->dirs));
	s->dev = tl_xrealloc(s->dev, (s->ndirs + 1) * sizeof(*s->dev));
	s->ino = tl_xrealloc(s->ino, (s->ndirs + 1) * sizeof(*s->ino));
	s->dirs[s->ndirs] = tl_xstrdup(dir);
	s->dev[s->ndirs] = (unsigned long long)sb->st_dev;
	s->ino[s->ndirs] = (unsigned long long)sb->st_ino;
	s->ndirs++;
	in->ndirs++;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * The entries of directory path that may be directories, in name order (*n of them,
 * malloc'd).  0; 1 the directory cannot be read for lack of permission (skipped, as the
 * babeltrace2 command line does); -1 another error (w->err).
 */
static int list_subdirs(struct walk *w, const char *path, char ***names, size_t *n)
{
	DIR *d = opendir(path);
	struct dirent *de;

	*names = NULL;
	*n = 0;
	if (!d) {
		if (errno == EACCES)
			return 1;
		tl_seterr(w->err, w->errlen, "cannot read directory %s: %s", path, strerror(errno));
		return -1;
	}
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (de->d_type != DT_DIR && de->d_type != DT_LNK && de->d_type != DT_UNKNOWN)
			continue;
		*names = tl_xrealloc(*names, (*n + 1) * sizeof(**names));
		(*names)[(*n)++] = tl_xstrdup(de->d_name);
	}
	closedir(d);
	if (*n)
		qsort(*names, *n, sizeof(**names), cmp_str);
	return 0;
}

/*
 * Directory path (sb: its identity) as a trace directory: 1 it is one (added to w->out),
 * 0 it is not (no `metadata` file, or source.ctf.fs does not claim it), -1 error (w->err).
 */
static int try_trace_dir(struct walk *w, const char *path, const struct stat *sb)
{
	char meta[PATH_MAX + 16], *group;
	struct stat mb;
	int r;

	snprintf(meta, sizeof(meta), "%s/metadata", path);
	if (stat(meta, &mb) != 0 || !S_ISREG(mb.st_mode))
		return 0;
	/* babeltrace2 loops forever on a metadata packet cut short: refuse it first. */
	if (tc_check_metadata(meta, w->err, w->errlen) != 0)
		return -1;
	r = support_info(w, path, &group);
	wd_tick();
	if (r > 0)
		add_trace_dir(w->out, w->arg, path, sb, group);
	return r;
}

/*
 * Walks directory path: a directory with a `metadata` file that source.ctf.fs claims is a
 * trace (not searched further); any other directory is searched, its entries in name order.
 * Returns 0 or -1 (w->err).
 */
static int walk_dir(struct walk *w, const char *path)
{
	struct stat sb;
	char **names;
	size_t n, i;
	int k, ret;

	if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return 0;
	for (k = 0; k < w->depth; k++)
		if (w->dev[k] == sb.st_dev && w->ino[k] == sb.st_ino)
			return 0; /* a symbolic link back up: been here */
	if (w->depth >= MG_MAX_DEPTH)
		return 0;
	ret = try_trace_dir(w, path, &sb);
	if (ret != 0)
		return ret < 0 ? -1 : 0;
	ret = list_subdirs(w, path, &names, &n);
	if (ret != 0)
		return ret < 0 ? -1 : 0;
	w->dev[w->depth] = sb.st_dev;
	w->ino[w->depth] = sb.st_ino;
	w->depth++;
	for (i = 0; i < n && ret == 0; i++) {
		size_t len = strlen(path) + strlen(names[i]) + 2;
		char *sub = tl_xcalloc(1, len);

		snprintf(sub, len, "%s%s%s", path, strcmp(path, "/") == 0 ? "" : "/", names[i]);
		ret = walk_dir(w, sub);
		free(sub);
	}
	w->depth--;
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return ret;
}

/* A trace directory of in is dir, or under it. */
static bool have_dir_under(const struct mg_inputs *in, const char *dir)
{
	char real[PATH_MAX], sub[PATH_MAX];
	size_t i, j, rl;

	if (!realpath(dir, real))
		return false;
	rl = strlen(real);
	for (i = 0; i < in->n; i++)
		for (j = 0; j < in->src[i].ndirs; j++)
			if (realpath(in->src[i].dirs[j], sub) && strncmp(sub, real, rl) == 0 &&
			    (sub[rl] == '/' || sub[rl] == '\0' || rl == 1))
				return true;
	return false;
}

/* Every trace directory's stream files against their index (mg_source.damage). */
static void check_streams(struct mg_inputs *in)
{
	size_t i, j;

	for (i = 0; i < in->n; i++)
		for (j = 0; j < in->src[i].ndirs; j++)
			tc_check_streams(in->src[i].dirs[j], NULL, &in->src[i].damage);
}

/* A live URL argument: one lttng-live source (the same URL twice is used once). */
static int add_live(struct mg_inputs *out, const char *arg, char *err, size_t errlen)
{
	size_t i;

	if (!strstr(arg, "/host/")) {
		tl_seterr(err, errlen,
			  "%s: an LTTng live URL is net://HOST[:PORT]/host/HOSTNAME/SESSION", arg);
		return -1;
	}
	for (i = 0; i < out->n; i++)
		if (out->src[i].live && strcmp(out->src[i].url, arg) == 0)
			return 0;
	out->src = tl_xrealloc(out->src, (out->n + 1) * sizeof(*out->src));
	memset(&out->src[out->n], 0, sizeof(out->src[out->n]));
	out->src[out->n].live = true;
	out->src[out->n].url = tl_xstrdup(arg);
	out->n++;
	out->nlive++;
	return 0;
}

/* A directory argument: the trace directories under it.  0, -1 or MG_DISCOVER_NO_TRACE. */
static int add_dir_arg(struct walk *w, const char *arg, char *err, size_t errlen)
{
	size_t len, before = w->out->ndirs;
	char path[PATH_MAX];
	struct stat sb;

	if (stat(arg, &sb) != 0) {
		tl_seterr(err, errlen, "%s: %s", arg, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(sb.st_mode)) {
		tl_seterr(err, errlen, "%s: not a directory (give a trace directory)", arg);
		return -1;
	}
	len = strlen(arg);
	if (len >= sizeof(path)) {
		tl_seterr(err, errlen, "%.64s...: %s", arg, strerror(ENAMETOOLONG));
		return -1;
	}
	memcpy(path, arg, len + 1);
	while (len > 1 && path[len - 1] == '/')
		path[--len] = '\0';
	w->arg = path;
	if (walk_dir(w, path) != 0)
		return -1;
	if (w->out->ndirs == before && !have_dir_under(w->out, path)) {
		tl_seterr(err, errlen,
			  "%s: no trace there (no directory with a CTF metadata file under it)", arg);
		return MG_DISCOVER_NO_TRACE;
	}
	return 0;
}

int mg_discover_with(const struct mg_plugins *p, char *const *args, size_t nargs,
		     const struct mg_discover_opts *o, struct mg_inputs *out, char *err,
		     size_t errlen)
{
	const bt_component_class_source *fs =
		bt_plugin_borrow_source_component_class_by_name_const(p->ctf, "fs");
	struct walk w;
	size_t a;
	int r = 0;

	memset(out, 0, sizeof(*out));
	if (!fs) {
		tl_seterr(err, errlen, "the babeltrace2 plugin 'ctf' has no source.ctf.fs");
		return -1;
	}
	memset(&w, 0, sizeof(w));
	w.fs = bt_component_class_source_as_component_class_const(fs);
	w.out = out;
	w.err = err;
	w.errlen = errlen;
	w.log_level = o->log_level;
	wd_arm(o->prog, o->what);
	for (a = 0; a < nargs && r == 0; a++)
		r = mg_is_live_url(args[a]) ? add_live(out, args[a], err, errlen)
					    : add_dir_arg(&w, args[a], err, errlen);
	wd_disarm();
	if (r != 0) {
		mg_inputs_free(out);
		return r;
	}
	check_streams(out);
	return 0;
}

int mg_discover(const struct mg_plugins *p, char *const *args, size_t nargs,
		bt_logging_level log_level, struct mg_inputs *out, char *err, size_t errlen)
{
	const struct mg_discover_opts o = {
		.prog = "magslab",
		.what = "babeltrace2, reading the trace metadata,",
		.log_level = log_level,
	};

	return mg_discover_with(p, args, nargs, &o, out, err, errlen) == 0 ? 0 : -1;
}

void mg_inputs_free(struct mg_inputs *in)
{
	size_t i, j;

	for (i = 0; i < in->n; i++) {
		for (j = 0; j < in->src[i].ndirs; j++)
			free(in->src[i].dirs[j]);
		free(in->src[i].dirs);
		free(in->src[i].dev);
		free(in->src[i].ino);
		free(in->src[i].url);
		free(in->src[i].group);
		free(in->src[i].trace_name);
		tc_findings_free(&in->src[i].damage);
	}
	free(in->src);
	memset(in, 0, sizeof(*in));
}

