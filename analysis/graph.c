/*
 * analysis/graph.c — plugins, trace discovery, graph wiring and running for the magslab
 * front end.  See graph.h for the design.
 */
#include "graph.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util.h"
#include "watchdog.h"

#ifndef MAGSLAB_PLUGINDIR
#define MAGSLAB_PLUGINDIR "/usr/local/lib/babeltrace2/plugins"
#endif

/* Directories deeper than this under a TRACE argument are not searched. */
#define MG_MAX_DEPTH 32

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p) {
		fputs("magslab: out of memory\n", stderr);
		exit(1);
	}
	return p;
}

static void *xrealloc(void *p, size_t size)
{
	p = realloc(p, size ? size : 1);
	if (!p) {
		fputs("magslab: out of memory\n", stderr);
		exit(1);
	}
	return p;
}

static char *xstrdup(const char *s)
{
	char *d = strdup(s);

	if (!d) {
		fputs("magslab: out of memory\n", stderr);
		exit(1);
	}
	return d;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ==========================================================================================
 * Errors
 */

/*
 * At s, a babeltrace2 "NAME-addr=0x1234" (plus ", " after it): its length, else 0.  Object
 * addresses mean nothing to a user.
 */
static size_t addr_field(const char *s)
{
	const char *p = s;

	while ((*p >= 'a' && *p <= 'z') || *p == '-')
		p++;
	if (p - s < 5 || strncmp(p - 5, "-addr", 5) != 0 || strncmp(p, "=0x", 3) != 0)
		return 0;
	p += 3;
	while ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'))
		p++;
	if (p[0] == ',' && p[1] == ' ')
		p += 2;
	return (size_t)(p - s);
}

/*
 * Copies s into buf on one line: newlines, tabs and runs of blanks become one space;
 * "NAME-addr=0x..." fields are left out.
 */
static void one_line(char *buf, size_t len, const char *s)
{
	size_t o = 0, skip;
	int blank = 0;

	if (!len)
		return;
	for (; *s && o + 1 < len; s++) {
		if ((s[0] >= 'a' && s[0] <= 'z') && (o == 0 || blank || buf[o - 1] == ' ' ||
						      buf[o - 1] == '(' || buf[o - 1] == ',') &&
		    (skip = addr_field(s)) > 0) {
			s += skip - 1;
			continue;
		}
		if (*s == '\n' || *s == '\r' || *s == '\t' || *s == ' ') {
			blank = 1;
			continue;
		}
		if (blank && o > 0 && o + 2 < len)
			buf[o++] = ' ';
		blank = 0;
		buf[o++] = *s;
	}
	buf[o] = '\0';
}

static void print_cause(const bt_error_cause *c, bool first)
{
	const char *who = bt_error_cause_get_module_name(c);
	char actor[512] = "";

	switch (bt_error_cause_get_actor_type(c)) {
	case BT_ERROR_CAUSE_ACTOR_TYPE_COMPONENT:
		snprintf(actor, sizeof(actor), "%s: %s.%s",
			 bt_error_cause_component_actor_get_component_name(c),
			 bt_error_cause_component_actor_get_plugin_name(c)
				 ? bt_error_cause_component_actor_get_plugin_name(c)
				 : "",
			 bt_error_cause_component_actor_get_component_class_name(c));
		who = actor;
		break;
	default:
		break;
	}
	fprintf(stderr, "  %s [%s] (%s:%llu) %s\n", first ? "ERROR:    " : "CAUSED BY", who,
		bt_error_cause_get_file_name(c),
		(unsigned long long)bt_error_cause_get_line_number(c),
		bt_error_cause_get_message(c));
}

bool mg_take_error(char *buf, size_t len, const char *context, bool verbose)
{
	const bt_error *e = bt_current_thread_take_error();
	const bt_error_cause *root;
	bool from_sink = false;
	char msg[MG_ERRLEN];
	uint64_t n, i;

	if (!e || (n = bt_error_get_cause_count(e)) == 0) {
		if (e)
			bt_error_release(e);
		snprintf(buf, len, "%s", context ? context : "unknown error");
		return false;
	}
	if (verbose) {
		fputs("magslab: babeltrace2 error causes, most recent first:\n", stderr);
		for (i = n; i-- > 0;)
			print_cause(bt_error_borrow_cause_by_index(e, i), i == n - 1);
	}
	/*
	 * The root cause is the first appended (index 0).  Causes appended by the library
	 * itself ("Component class's query method failed: addr=...") only say that a
	 * component failed: the first cause of a component, message iterator or component
	 * class, or else of anything but the library, says why.
	 */
	root = NULL;
	for (i = 0; i < n && !root; i++) {
		const bt_error_cause *c = bt_error_borrow_cause_by_index(e, i);

		if (bt_error_cause_get_actor_type(c) != BT_ERROR_CAUSE_ACTOR_TYPE_UNKNOWN)
			root = c;
	}
	for (i = 0; i < n && !root; i++) {
		const bt_error_cause *c = bt_error_borrow_cause_by_index(e, i);

		if (strcmp(bt_error_cause_get_module_name(c), "libbabeltrace2") != 0)
			root = c;
	}
	if (!root) {
		bt_error_release(e);
		snprintf(buf, len, "%s", context ? context : "unknown error");
		return false;
	}
	one_line(msg, sizeof(msg), bt_error_cause_get_message(root));
	if (bt_error_cause_get_actor_type(root) == BT_ERROR_CAUSE_ACTOR_TYPE_COMPONENT &&
	    bt_error_cause_component_actor_get_component_class_type(root) ==
		    BT_COMPONENT_CLASS_TYPE_SINK)
		from_sink = true;
	if (from_sink || !context)
		snprintf(buf, len, "%s", msg);
	else
		snprintf(buf, len, "%s: %s", context, msg);
	bt_error_release(e);
	return from_sink;
}

/* ==========================================================================================
 * Plugins
 */

/* The plugin named name in directory dir: 1 found (*out), 0 not there, -1 error (err). */
/*
 * babeltrace2 skips a shared object it cannot dlopen() as "not a plugin", silently.  When the
 * plugin is not found in dir but dir holds babeltrace-plugin-NAME.so, say why it did not
 * load.  1 (err set) or 0.
 */
static int explain_unloadable(const char *dir, const char *name, char *err, size_t errlen)
{
	char path[PATH_MAX];
	void *h;

	snprintf(path, sizeof(path), "%s/babeltrace-plugin-%s.so", dir, name);
	if (access(path, F_OK) != 0)
		return 0;
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (h) {
		dlclose(h);
		fe_seterr(err, errlen, "%s is not a babeltrace2 plugin named '%s'", path, name);
	} else {
		fe_seterr(err, errlen, "cannot load the babeltrace2 plugin %s: %s", path, dlerror());
	}
	return 1;
}

static int plugin_from_dir(const char *dir, const char *name, const bt_plugin **out, char *err,
			   size_t errlen)
{
	const bt_plugin_set *set = NULL;
	bt_plugin_find_all_from_dir_status st;
	struct stat sb;
	uint64_t i, n;
	int found = 0;

	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return 0;
	st = bt_plugin_find_all_from_dir(dir, BT_FALSE, BT_TRUE, &set);
	if (st == BT_PLUGIN_FIND_ALL_FROM_DIR_STATUS_NOT_FOUND) {
		bt_current_thread_clear_error();
		return explain_unloadable(dir, name, err, errlen) ? -1 : 0;
	}
	if (st != BT_PLUGIN_FIND_ALL_FROM_DIR_STATUS_OK) {
		char ctx[1024];

		snprintf(ctx, sizeof(ctx), "cannot load the babeltrace2 plugins in %s", dir);
		mg_take_error(err, errlen, ctx, false);
		return -1;
	}
	n = bt_plugin_set_get_plugin_count(set);
	for (i = 0; i < n && !found; i++) {
		const bt_plugin *pl = bt_plugin_set_borrow_plugin_by_index_const(set, i);

		if (strcmp(bt_plugin_get_name(pl), name) == 0) {
			bt_plugin_get_ref(pl);
			*out = pl;
			found = 1;
		}
	}
	bt_plugin_set_put_ref(set);
	if (!found && explain_unloadable(dir, name, err, errlen))
		return -1;
	return found;
}

/* The system plugin name (babeltrace2's own search path). */
static int plugin_find_std(const char *name, const bt_plugin **out, char *err, size_t errlen)
{
	bt_plugin_find_status st = bt_plugin_find(name, BT_TRUE, BT_TRUE, BT_TRUE, BT_TRUE,
						  BT_FALSE, out);

	if (st == BT_PLUGIN_FIND_STATUS_OK)
		return 1;
	if (st == BT_PLUGIN_FIND_STATUS_NOT_FOUND) {
		bt_current_thread_clear_error();
		return 0;
	}
	{
		char ctx[256];

		snprintf(ctx, sizeof(ctx), "cannot load the babeltrace2 plugin '%s'", name);
		mg_take_error(err, errlen, ctx, false);
	}
	return -1;
}

/* dir of the running executable + "/../lib/babeltrace2/plugins", or "" */
static void exe_plugin_dir(char *buf, size_t len)
{
	char exe[PATH_MAX], cand[PATH_MAX + 64], real[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	buf[0] = '\0';
	if (n <= 0)
		return;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash)
		return;
	*slash = '\0';
	snprintf(cand, sizeof(cand), "%s/../lib/babeltrace2/plugins", exe);
	if (realpath(cand, real))
		snprintf(buf, len, "%s", real);
}

static int load_magslab(struct mg_plugins *p, char *err, size_t errlen)
{
	const char *env = getenv("MAGSLAB_PLUGIN_PATH");
	char exedir[PATH_MAX];
	char looked[2048] = "";
	int r;

	if (env && *env) {
		char *copy = xstrdup(env), *save = NULL, *d;

		for (d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
			r = plugin_from_dir(d, "magslab", &p->magslab, err, errlen);
			if (r != 0) {
				if (r > 0)
					snprintf(p->magslab_from, sizeof(p->magslab_from), "%s", d);
				free(copy);
				return r > 0 ? 0 : -1;
			}
		}
		free(copy);
		snprintf(looked, sizeof(looked), "$MAGSLAB_PLUGIN_PATH (%s), ", env);
	}
	exe_plugin_dir(exedir, sizeof(exedir));
	if (exedir[0]) {
		r = plugin_from_dir(exedir, "magslab", &p->magslab, err, errlen);
		if (r < 0)
			return -1;
		if (r > 0) {
			snprintf(p->magslab_from, sizeof(p->magslab_from), "%s", exedir);
			return 0;
		}
		snprintf(looked + strlen(looked), sizeof(looked) - strlen(looked), "%s, ", exedir);
	}
	r = plugin_from_dir(MAGSLAB_PLUGINDIR, "magslab", &p->magslab, err, errlen);
	if (r < 0)
		return -1;
	if (r > 0) {
		snprintf(p->magslab_from, sizeof(p->magslab_from), "%s", MAGSLAB_PLUGINDIR);
		return 0;
	}
	r = plugin_find_std("magslab", &p->magslab, err, errlen);
	if (r < 0)
		return -1;
	if (r > 0) {
		snprintf(p->magslab_from, sizeof(p->magslab_from), "%s",
			 bt_plugin_get_path(p->magslab) ? bt_plugin_get_path(p->magslab)
							: "babeltrace2's plugin path");
		return 0;
	}
	fe_seterr(err, errlen,
	       "the babeltrace2 plugin 'magslab' was not found (looked in %s%s and babeltrace2's "
	       "plugin path): build it with make, or set MAGSLAB_PLUGIN_PATH",
	       looked, MAGSLAB_PLUGINDIR);
	return -1;
}

int mg_plugins_load(struct mg_plugins *p, bool need_magslab, char *err, size_t errlen)
{
	int r;

	memset(p, 0, sizeof(*p));
	r = plugin_find_std("ctf", &p->ctf, err, errlen);
	if (r == 0)
		fe_seterr(err, errlen,
		       "the babeltrace2 plugin 'ctf' was not found (install babeltrace2)");
	if (r <= 0)
		goto fail;
	r = plugin_find_std("utils", &p->utils, err, errlen);
	if (r == 0)
		fe_seterr(err, errlen,
		       "the babeltrace2 plugin 'utils' was not found (install babeltrace2)");
	if (r <= 0)
		goto fail;
	if (need_magslab && load_magslab(p, err, errlen) != 0)
		goto fail;
	return 0;
fail:
	mg_plugins_put(p);
	return -1;
}

void mg_plugins_put(struct mg_plugins *p)
{
	bt_plugin_put_ref(p->ctf);
	bt_plugin_put_ref(p->utils);
	bt_plugin_put_ref(p->magslab);
	p->ctf = p->utils = p->magslab = NULL;
}

const bt_component_class_sink *mg_find_sink_class(const struct mg_plugins *p, const char *spec,
						  const bt_plugin **holder, char *err,
						  size_t errlen)
{
	const char *dot = strchr(spec, '.');
	const bt_plugin *pl = NULL;
	const bt_component_class_sink *cls;
	char name[256];

	*holder = NULL;
	if (!dot || dot == spec || !dot[1] || (size_t)(dot - spec) >= sizeof(name)) {
		fe_seterr(err, errlen, "bad sink component class '%s' (want PLUGIN.CLASS)", spec);
		return NULL;
	}
	memcpy(name, spec, (size_t)(dot - spec));
	name[dot - spec] = '\0';
	if (strcmp(name, "magslab") == 0 && p->magslab)
		pl = p->magslab;
	else if (strcmp(name, "ctf") == 0)
		pl = p->ctf;
	else if (strcmp(name, "utils") == 0)
		pl = p->utils;
	if (!pl) {
		int r = plugin_find_std(name, holder, err, errlen);

		if (r < 0)
			return NULL;
		if (r == 0) {
			fe_seterr(err, errlen, "the babeltrace2 plugin '%s' was not found", name);
			return NULL;
		}
		pl = *holder;
	}
	cls = bt_plugin_borrow_sink_component_class_by_name_const(pl, dot + 1);
	if (!cls) {
		fe_seterr(err, errlen, "the babeltrace2 plugin '%s' (%s) has no sink class '%s'", name,
		       bt_plugin_get_path(pl) ? bt_plugin_get_path(pl) : "?", dot + 1);
		bt_plugin_put_ref(*holder);
		*holder = NULL;
	}
	return cls;
}

/* ==========================================================================================
 * Discovery
 */

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
		fe_seterr(w->err, w->errlen, "out of memory");
		goto out;
	}
	q = bt_query_executor_create(w->fs, "babeltrace.support-info", params);
	if (!q) {
		fe_seterr(w->err, w->errlen, "out of memory");
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
			*group = xstrdup(bt_value_string_get(v));
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
		in->src = xrealloc(in->src, (in->n + 1) * sizeof(*in->src));
		s = &in->src[in->n++];
		memset(s, 0, sizeof(*s));
		s->group = group;
		rel = dir + strlen(arg);
		while (*rel == '/')
			rel++;
		if (*rel)
			s->trace_name = xstrdup(rel);
	}
	s->dirs = xrealloc(s->dirs, (s->ndirs + 1) * sizeof(*s->dirs));
	s->dev = xrealloc(s->dev, (s->ndirs + 1) * sizeof(*s->dev));
	s->ino = xrealloc(s->ino, (s->ndirs + 1) * sizeof(*s->ino));
	s->dirs[s->ndirs] = xstrdup(dir);
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
 * Walks directory path: a directory with a `metadata` file that source.ctf.fs claims is a
 * trace (not searched further); any other directory is searched, its entries in name order.
 * Returns 0 or -1 (w->err).
 */
static int walk_dir(struct walk *w, const char *path)
{
	char meta[PATH_MAX + 16];
	struct stat sb, mb;
	DIR *d;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, i;
	int k, ret = 0;

	if (stat(path, &sb) != 0 || !S_ISDIR(sb.st_mode))
		return 0;
	for (k = 0; k < w->depth; k++)
		if (w->dev[k] == sb.st_dev && w->ino[k] == sb.st_ino)
			return 0; /* a symbolic link back up: been here */
	if (w->depth >= MG_MAX_DEPTH)
		return 0;

	snprintf(meta, sizeof(meta), "%s/metadata", path);
	if (stat(meta, &mb) == 0 && S_ISREG(mb.st_mode)) {
		char *group;
		int r;

		/* babeltrace2 loops forever on a metadata packet cut short: refuse it first. */
		if (tc_check_metadata(meta, w->err, w->errlen) != 0)
			return -1;
		r = support_info(w, path, &group);
		wd_tick();

		if (r < 0)
			return -1;
		if (r > 0) {
			add_trace_dir(w->out, w->arg, path, &sb, group);
			return 0;
		}
	}

	d = opendir(path);
	if (!d) {
		if (errno == EACCES)
			return 0; /* as the babeltrace2 command line: skipped */
		fe_seterr(w->err, w->errlen, "cannot read directory %s: %s", path, strerror(errno));
		return -1;
	}
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (de->d_type != DT_DIR && de->d_type != DT_LNK && de->d_type != DT_UNKNOWN)
			continue;
		names = xrealloc(names, (n + 1) * sizeof(*names));
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof(*names), cmp_str);

	w->dev[w->depth] = sb.st_dev;
	w->ino[w->depth] = sb.st_ino;
	w->depth++;
	for (i = 0; i < n && ret == 0; i++) {
		size_t len = strlen(path) + strlen(names[i]) + 2;
		char *sub = xcalloc(1, len);

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

int mg_discover(const struct mg_plugins *p, char *const *args, size_t nargs,
		bt_logging_level log_level, struct mg_inputs *out, char *err, size_t errlen)
{
	const bt_component_class_source *fs =
		bt_plugin_borrow_source_component_class_by_name_const(p->ctf, "fs");
	struct walk w;
	size_t a;

	memset(out, 0, sizeof(*out));
	if (!fs) {
		fe_seterr(err, errlen, "the babeltrace2 plugin 'ctf' has no source.ctf.fs");
		return -1;
	}
	memset(&w, 0, sizeof(w));
	w.fs = bt_component_class_source_as_component_class_const(fs);
	w.out = out;
	w.err = err;
	w.errlen = errlen;
	w.log_level = log_level;

	wd_arm("magslab", "babeltrace2, reading the trace metadata,");
	for (a = 0; a < nargs; a++) {
		const char *arg = args[a];
		char path[PATH_MAX];
		size_t len, before = out->ndirs;
		struct stat sb;

		if (mg_is_live_url(arg)) {
			size_t i;
			bool dup = false;

			if (!strstr(arg, "/host/")) {
				fe_seterr(err, errlen,
				       "%s: an LTTng live URL is net://HOST[:PORT]/host/HOSTNAME/SESSION",
				       arg);
				goto fail;
			}
			for (i = 0; i < out->n; i++)
				if (out->src[i].live && strcmp(out->src[i].url, arg) == 0)
					dup = true;
			if (dup)
				continue;
			out->src = xrealloc(out->src, (out->n + 1) * sizeof(*out->src));
			memset(&out->src[out->n], 0, sizeof(out->src[out->n]));
			out->src[out->n].live = true;
			out->src[out->n].url = xstrdup(arg);
			out->n++;
			out->nlive++;
			continue;
		}
		if (stat(arg, &sb) != 0) {
			fe_seterr(err, errlen, "%s: %s", arg, strerror(errno));
			goto fail;
		}
		if (!S_ISDIR(sb.st_mode)) {
			fe_seterr(err, errlen, "%s: not a directory (give a trace directory)", arg);
			goto fail;
		}
		len = strlen(arg);
		if (len >= sizeof(path)) {
			fe_seterr(err, errlen, "%.64s...: %s", arg, strerror(ENAMETOOLONG));
			goto fail;
		}
		memcpy(path, arg, len + 1);
		while (len > 1 && path[len - 1] == '/')
			path[--len] = '\0';
		w.arg = path;
		if (walk_dir(&w, path) != 0)
			goto fail;
		if (out->ndirs == before && !have_dir_under(out, path)) {
			fe_seterr(err, errlen,
			       "%s: no trace there (no directory with a CTF metadata file under it)",
			       arg);
			goto fail;
		}
	}
	wd_disarm();
	check_streams(out);
	return 0;
fail:
	wd_disarm();
	mg_inputs_free(out);
	return -1;
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

/* ==========================================================================================
 * The progress filter: passes every message through, counts the events, notes the time of
 * the latest one.  A component class of this program (not of a plugin).
 */

struct progress {
	uint64_t events;
	int64_t last_ns; /* ns from origin of the latest event with a clock snapshot */
	bool have_ns;
};

struct progress_iter {
	bt_message_iterator *up;
	struct progress *st;
	/* messages received from upstream and not passed on yet (more than our capacity) */
	bt_message_array_const pend;
	uint64_t npend, ipend;
};

static bt_component_class_initialize_method_status
progress_init(bt_self_component_filter *self, bt_self_component_filter_configuration *config,
	      const bt_value *params, void *data)
{
	(void)config;
	(void)params;
	bt_self_component_set_data(bt_self_component_filter_as_self_component(self), data);
	if (bt_self_component_filter_add_input_port(self, "in", NULL, NULL) !=
		    BT_SELF_COMPONENT_ADD_PORT_STATUS_OK ||
	    bt_self_component_filter_add_output_port(self, "out", NULL, NULL) !=
		    BT_SELF_COMPONENT_ADD_PORT_STATUS_OK)
		return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_MEMORY_ERROR;
	return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_OK;
}

static bt_message_iterator_class_initialize_method_status
progress_iter_init(bt_self_message_iterator *self, bt_self_message_iterator_configuration *config,
		   bt_self_component_port_output *port)
{
	bt_self_component *comp = bt_self_message_iterator_borrow_component(self);
	bt_self_component_filter *filt = (bt_self_component_filter *)comp;
	struct progress_iter *it = calloc(1, sizeof(*it));
	bt_message_iterator_create_from_message_iterator_status st;

	(void)config;
	(void)port;
	if (!it)
		return BT_MESSAGE_ITERATOR_CLASS_INITIALIZE_METHOD_STATUS_MEMORY_ERROR;
	it->st = bt_self_component_get_data(comp);
	st = bt_message_iterator_create_from_message_iterator(
		self, bt_self_component_filter_borrow_input_port_by_name(filt, "in"), &it->up);
	if (st != BT_MESSAGE_ITERATOR_CREATE_FROM_MESSAGE_ITERATOR_STATUS_OK) {
		free(it);
		return (bt_message_iterator_class_initialize_method_status)st;
	}
	bt_self_message_iterator_set_data(self, it);
	return BT_MESSAGE_ITERATOR_CLASS_INITIALIZE_METHOD_STATUS_OK;
}

static void progress_iter_fini(bt_self_message_iterator *self)
{
	struct progress_iter *it = bt_self_message_iterator_get_data(self);

	if (!it)
		return;
	for (; it->ipend < it->npend; it->ipend++)
		bt_message_put_ref(it->pend[it->ipend]);
	free(it->pend);
	bt_message_iterator_put_ref(it->up);
	free(it);
}

static void progress_note(struct progress *st, const bt_message *m)
{
	const bt_clock_snapshot *cs;
	int64_t ns;

	if (bt_message_get_type(m) != BT_MESSAGE_TYPE_EVENT)
		return;
	st->events++;
	if (!bt_message_event_borrow_stream_class_default_clock_class_const(m))
		return;
	cs = bt_message_event_borrow_default_clock_snapshot_const(m);
	if (bt_clock_snapshot_get_ns_from_origin(cs, &ns) ==
	    BT_CLOCK_SNAPSHOT_GET_NS_FROM_ORIGIN_STATUS_OK) {
		st->last_ns = ns;
		st->have_ns = true;
	}
}

static bt_message_iterator_class_next_method_status
progress_iter_next(bt_self_message_iterator *self, bt_message_array_const msgs, uint64_t capacity,
		   uint64_t *count)
{
	struct progress_iter *it = bt_self_message_iterator_get_data(self);
	bt_message_array_const up;
	uint64_t n = 0, i;
	bt_message_iterator_next_status st;

	wd_tick();
	if (it->ipend == it->npend) {
		st = bt_message_iterator_next(it->up, &up, &n);
		if (st != BT_MESSAGE_ITERATOR_NEXT_STATUS_OK)
			return (bt_message_iterator_class_next_method_status)st;
		if (n > capacity) {
			/* Keep what does not fit (does not happen with babeltrace2 2.0). */
			it->pend = xrealloc(it->pend, (n - capacity) * sizeof(*it->pend));
			for (i = capacity; i < n; i++)
				it->pend[i - capacity] = up[i];
			it->npend = n - capacity;
			it->ipend = 0;
			n = capacity;
		}
		for (i = 0; i < n; i++) {
			progress_note(it->st, up[i]);
			msgs[i] = up[i];
		}
		*count = n;
		return BT_MESSAGE_ITERATOR_CLASS_NEXT_METHOD_STATUS_OK;
	}
	for (n = 0; n < capacity && it->ipend < it->npend; n++) {
		msgs[n] = it->pend[it->ipend++];
		progress_note(it->st, msgs[n]);
	}
	*count = n;
	return BT_MESSAGE_ITERATOR_CLASS_NEXT_METHOD_STATUS_OK;
}

/* The class, made once (NULL on memory error). */
static bt_component_class_filter *progress_class(void)
{
	static bt_component_class_filter *cls;
	bt_message_iterator_class *ic;

	if (cls)
		return cls;
	ic = bt_message_iterator_class_create(progress_iter_next);
	if (!ic)
		return NULL;
	if (bt_message_iterator_class_set_initialize_method(ic, progress_iter_init) !=
		    BT_MESSAGE_ITERATOR_CLASS_SET_METHOD_STATUS_OK ||
	    bt_message_iterator_class_set_finalize_method(ic, progress_iter_fini) !=
		    BT_MESSAGE_ITERATOR_CLASS_SET_METHOD_STATUS_OK) {
		bt_message_iterator_class_put_ref(ic);
		return NULL;
	}
	cls = bt_component_class_filter_create("progress", ic);
	bt_message_iterator_class_put_ref(ic);
	if (cls && bt_component_class_filter_set_initialize_method(cls, progress_init) !=
			   BT_COMPONENT_CLASS_SET_METHOD_STATUS_OK) {
		bt_component_class_filter_put_ref(cls);
		cls = NULL;
	}
	return cls;
}

/* ==========================================================================================
 * The graph
 */

struct mg_graph {
	bt_graph *graph;
	struct progress prog;
	const struct mg_inputs *in;
	const struct mg_plugins *plugins;
	/* the traces' time span (for the percentage), found on the first progress line */
	bool span_tried, have_span;
	int64_t span_begin, span_end;
};

/* The interrupter of the graph being run, for the signal handler. */
static bt_interrupter *volatile g_interrupter;
static volatile sig_atomic_t g_interrupted;

static void on_signal(int sig)
{
	(void)sig;
	g_interrupted = 1;
	if (g_interrupter)
		bt_interrupter_set(g_interrupter);
}

static int connect_ports(struct mg_graph *g, const bt_port_output *out, const bt_port_input *in,
			 char *err, size_t errlen)
{
	if (bt_graph_connect_ports(g->graph, out, in, NULL) != BT_GRAPH_CONNECT_PORTS_STATUS_OK) {
		char ctx[512];

		snprintf(ctx, sizeof(ctx), "cannot connect %s to %s",
			 bt_port_get_name(bt_port_output_as_port_const(out)),
			 bt_port_get_name(bt_port_input_as_port_const(in)));
		mg_take_error(err, errlen, ctx, false);
		return -1;
	}
	return 0;
}

/* The muxer's free input port (it adds one each time one is connected). */
static const bt_port_input *muxer_free_port(const bt_component_filter *mux)
{
	uint64_t i, n = bt_component_filter_get_input_port_count(mux);

	for (i = 0; i < n; i++) {
		const bt_port_input *p = bt_component_filter_borrow_input_port_by_index_const(mux, i);

		if (!bt_port_is_connected(bt_port_input_as_port_const(p)))
			return p;
	}
	return NULL;
}

static bt_value *source_params(const struct mg_source *s)
{
	bt_value *params = bt_value_map_create(), *inputs = NULL;
	size_t i;

	if (!params)
		return NULL;
	if (bt_value_map_insert_empty_array_entry(params, "inputs", &inputs) !=
	    BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK)
		goto fail;
	if (s->live) {
		if (bt_value_array_append_string_element(inputs, s->url) !=
			    BT_VALUE_ARRAY_APPEND_ELEMENT_STATUS_OK ||
		    bt_value_map_insert_string_entry(params, "session-not-found-action", "fail") !=
			    BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK)
			goto fail;
		return params;
	}
	for (i = 0; i < s->ndirs; i++)
		if (bt_value_array_append_string_element(inputs, s->dirs[i]) !=
		    BT_VALUE_ARRAY_APPEND_ELEMENT_STATUS_OK)
			goto fail;
	if (s->trace_name &&
	    bt_value_map_insert_string_entry(params, "trace-name", s->trace_name) !=
		    BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK)
		goto fail;
	return params;
fail:
	bt_value_put_ref(params);
	return NULL;
}

/* One source component (ctf.fs or lttng-live) for s, every output port to the muxer. */
static int add_source(struct mg_graph *g, const bt_component_class_source *cls,
		      const struct mg_source *s, size_t i, const bt_component_filter *mux,
		      bt_logging_level log_level, char *err, size_t errlen)
{
	const bt_component_source *src = NULL;
	bt_value *params = source_params(s);
	char name[64], ctx[PATH_MAX + 128];
	bt_graph_add_component_status ast;
	uint64_t k, nports;

	if (!params) {
		fe_seterr(err, errlen, "out of memory");
		return -1;
	}
	snprintf(name, sizeof(name), "%s-%zu", s->live ? "lttng-live" : "ctf-fs", i);
	ast = bt_graph_add_source_component(g->graph, cls, name, params, log_level, &src);
	bt_value_put_ref(params);
	if (ast != BT_GRAPH_ADD_COMPONENT_STATUS_OK) {
		if (s->live)
			snprintf(ctx, sizeof(ctx), "cannot open the live session %s", s->url);
		else if (s->ndirs == 1)
			snprintf(ctx, sizeof(ctx), "cannot read the trace %s", s->dirs[0]);
		else
			snprintf(ctx, sizeof(ctx), "cannot read the trace %s (and %zu more "
						   "directories of it)",
				 s->dirs[0], s->ndirs - 1);
		mg_take_error(err, errlen, ctx, false);
		return -1;
	}
	nports = bt_component_source_get_output_port_count(src);
	for (k = 0; k < nports; k++) {
		const bt_port_input *mp = muxer_free_port(mux);

		if (!mp) {
			fe_seterr(err, errlen, "filter.utils.muxer has no free input port");
			return -1;
		}
		if (connect_ports(g, bt_component_source_borrow_output_port_by_index_const(src, k),
				  mp, err, errlen) != 0)
			return -1;
	}
	return 0;
}

/* The sink, its input port fed by the progress filter. */
static int add_sink(struct mg_graph *g, const bt_component_class_sink *sink_cls,
		    const char *sink_name, const bt_value *sink_params,
		    bt_logging_level log_level, const bt_component_filter *prog, char *err,
		    size_t errlen)
{
	const bt_component_sink *sink = NULL;

	if (bt_graph_add_sink_component(g->graph, sink_cls, sink_name, sink_params, log_level,
					&sink) != BT_GRAPH_ADD_COMPONENT_STATUS_OK) {
		char ctx[256];

		snprintf(ctx, sizeof(ctx), "cannot create the sink (class '%s')",
			 bt_component_class_get_name(
				 bt_component_class_sink_as_component_class_const(sink_cls)));
		/* The sink's own reason (bad parameter, output directory) goes alone. */
		mg_take_error(err, errlen, ctx, false);
		return -1;
	}
	if (bt_component_sink_get_input_port_count(sink) < 1) {
		fe_seterr(err, errlen, "the sink has no input port");
		return -1;
	}
	return connect_ports(g, bt_component_filter_borrow_output_port_by_name_const(prog, "out"),
			     bt_component_sink_borrow_input_port_by_index_const(sink, 0), err,
			     errlen);
}

int mg_graph_build(const struct mg_plugins *p, const struct mg_inputs *in,
		   const bt_component_class_sink *sink_cls, const char *sink_name,
		   const bt_value *sink_params, bt_logging_level log_level,
		   struct mg_graph **out, char *err, size_t errlen)
{
	struct mg_graph *g = xcalloc(1, sizeof(*g));
	const bt_component_class_source *fs_cls, *live_cls;
	const bt_component_class_filter *mux_cls;
	bt_component_class_filter *prog_cls;
	const bt_component_filter *mux = NULL, *prog = NULL;
	size_t i;

	*out = NULL;
	g->in = in;
	g->plugins = p;
	fs_cls = bt_plugin_borrow_source_component_class_by_name_const(p->ctf, "fs");
	live_cls = bt_plugin_borrow_source_component_class_by_name_const(p->ctf, "lttng-live");
	mux_cls = bt_plugin_borrow_filter_component_class_by_name_const(p->utils, "muxer");
	prog_cls = progress_class();
	if (!fs_cls || !live_cls || !mux_cls) {
		fe_seterr(err, errlen, "babeltrace2's ctf or utils plugin lacks source.ctf.fs, "
				    "source.ctf.lttng-live or filter.utils.muxer");
		goto fail;
	}
	if (!prog_cls) {
		fe_seterr(err, errlen, "out of memory");
		goto fail;
	}
	g->graph = bt_graph_create(0);
	if (!g->graph) {
		fe_seterr(err, errlen, "out of memory");
		goto fail;
	}

	if (bt_graph_add_filter_component(g->graph, mux_cls, "muxer", NULL, log_level, &mux) !=
	    BT_GRAPH_ADD_COMPONENT_STATUS_OK) {
		mg_take_error(err, errlen, "cannot create filter.utils.muxer", false);
		goto fail;
	}

	for (i = 0; i < in->n; i++)
		if (add_source(g, in->src[i].live ? live_cls : fs_cls, &in->src[i], i, mux,
			       log_level, err, errlen) != 0)
			goto fail;

	if (bt_graph_add_filter_component_with_initialize_method_data(
		    g->graph, prog_cls, "progress", NULL, &g->prog, log_level, &prog) !=
	    BT_GRAPH_ADD_COMPONENT_STATUS_OK) {
		mg_take_error(err, errlen, "cannot create the progress filter", false);
		goto fail;
	}
	if (connect_ports(g, bt_component_filter_borrow_output_port_by_name_const(mux, "out"),
			  bt_component_filter_borrow_input_port_by_name_const(prog, "in"), err,
			  errlen) != 0)
		goto fail;

	if (add_sink(g, sink_cls, sink_name, sink_params, log_level, prog, err, errlen) != 0)
		goto fail;
	*out = g;
	return 0;
fail:
	mg_graph_destroy(g);
	return -1;
}

uint64_t mg_graph_events(const struct mg_graph *g)
{
	return g->prog.events;
}

void mg_graph_destroy(struct mg_graph *g)
{
	if (!g)
		return;
	if (g->graph) {
		if (g_interrupter == bt_graph_borrow_default_interrupter(g->graph))
			g_interrupter = NULL;
		bt_graph_put_ref(g->graph);
	}
	free(g);
}

/* The first and last timestamps of every ctf.fs source (babeltrace.trace-infos query). */
static void find_span(struct mg_graph *g)
{
	const bt_component_class_source *fs =
		bt_plugin_borrow_source_component_class_by_name_const(g->plugins->ctf, "fs");
	size_t i;

	g->span_tried = true;
	for (i = 0; i < g->in->n; i++) {
		const struct mg_source *s = &g->in->src[i];
		bt_value *params;
		bt_query_executor *q;
		const bt_value *res = NULL;
		uint64_t t, nt;

		if (s->live)
			continue;
		params = source_params(s);
		q = params ? bt_query_executor_create(
				     bt_component_class_source_as_component_class_const(fs),
				     "babeltrace.trace-infos", params)
			   : NULL;
		if (!q || bt_query_executor_query(q, &res) != BT_QUERY_EXECUTOR_QUERY_STATUS_OK ||
		    !bt_value_is_array(res)) {
			bt_current_thread_clear_error();
			goto next;
		}
		nt = bt_value_array_get_length(res);
		for (t = 0; t < nt; t++) {
			const bt_value *ti = bt_value_array_borrow_element_by_index_const(res, t);
			const bt_value *sis = bt_value_is_map(ti)
				? bt_value_map_borrow_entry_value_const(ti, "stream-infos")
				: NULL;
			uint64_t k, ns = sis && bt_value_is_array(sis) ? bt_value_array_get_length(sis)
								      : 0;

			for (k = 0; k < ns; k++) {
				const bt_value *si = bt_value_array_borrow_element_by_index_const(sis, k);
				const bt_value *r = bt_value_is_map(si)
					? bt_value_map_borrow_entry_value_const(si, "range-ns")
					: NULL;
				const bt_value *b = r && bt_value_is_map(r)
					? bt_value_map_borrow_entry_value_const(r, "begin")
					: NULL;
				const bt_value *e = r && bt_value_is_map(r)
					? bt_value_map_borrow_entry_value_const(r, "end")
					: NULL;
				int64_t bv, ev;

				if (!b || !e || !bt_value_is_signed_integer(b) ||
				    !bt_value_is_signed_integer(e))
					continue;
				bv = bt_value_integer_signed_get(b);
				ev = bt_value_integer_signed_get(e);
				if (!g->have_span || bv < g->span_begin)
					g->span_begin = bv;
				if (!g->have_span || ev > g->span_end)
					g->span_end = ev;
				g->have_span = true;
			}
		}
next:
		bt_value_put_ref(res);
		bt_query_executor_put_ref(q);
		bt_value_put_ref(params);
	}
}

static void show_progress(struct mg_graph *g, const struct mg_run_opts *o, double elapsed,
			  bool tty)
{
	char ev[32], pct[32] = "";

	if (!g->span_tried && g->in->ndirs > 0)
		find_span(g);
	if (g->have_span && g->prog.have_ns && g->span_end > g->span_begin) {
		double f = (double)(g->prog.last_ns - g->span_begin) /
			   (double)(g->span_end - g->span_begin);

		if (f < 0)
			f = 0;
		if (f > 1)
			f = 1;
		snprintf(pct, sizeof(pct), ", %.0f%% of the trace time", f * 100);
	}
	fe_format_count(ev, sizeof(ev), g->prog.events);
	fprintf(stderr, "%s%s: %s... %.0f s, %s events%s%s", tty ? "\r" : "", o->prog,
		g->in->nlive ? "receiving the live trace" : "reading the trace", elapsed, ev, pct,
		tty ? "\033[K" : "\n");
	fflush(stderr);
}

enum mg_step_status mg_graph_step(struct mg_graph *g, bool verbose, char *err, size_t errlen)
{
	switch (bt_graph_run_once(g->graph)) {
	case BT_GRAPH_RUN_ONCE_STATUS_OK:
		return MG_STEP_OK;
	case BT_GRAPH_RUN_ONCE_STATUS_AGAIN:
		return MG_STEP_AGAIN;
	case BT_GRAPH_RUN_ONCE_STATUS_END:
		return MG_STEP_END;
	default:
		mg_take_error(err, errlen,
			      g->in->nlive ? "cannot read the live trace" : "cannot read the trace",
			      verbose);
		return MG_STEP_ERROR;
	}
}

enum mg_run_status mg_graph_run(struct mg_graph *g, const struct mg_run_opts *o, char *err,
				size_t errlen)
{
	struct sigaction sa, old_int, old_term;
	bool tty = isatty(STDERR_FILENO), shown = false;
	double start = now_s(), next = start + 1.0, t;
	enum mg_run_status ret = MG_RUN_OK;
	bt_graph_run_once_status st;

	g_interrupted = 0;
	g_interrupter = bt_graph_borrow_default_interrupter(g->graph);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	wd_arm(o->prog, "babeltrace2, reading the trace,");

	for (;;) {
		wd_tick();
		if (g_interrupted) {
			ret = MG_RUN_INTERRUPTED;
			break;
		}
		st = bt_graph_run_once(g->graph);
		if (st == BT_GRAPH_RUN_ONCE_STATUS_END)
			break;
		if (st == BT_GRAPH_RUN_ONCE_STATUS_AGAIN) {
			struct timespec ts = { 0, 20 * 1000 * 1000 };

			if (g_interrupted)
				continue;
			nanosleep(&ts, NULL);
		} else if (st != BT_GRAPH_RUN_ONCE_STATUS_OK) {
			if (g_interrupted) {
				bt_current_thread_clear_error();
				ret = MG_RUN_INTERRUPTED;
			} else {
				mg_take_error(err, errlen,
					      g->in->nlive ? "cannot read the live trace"
							   : "cannot read the trace",
					      o->verbose);
				ret = MG_RUN_ERROR;
			}
			break;
		}
		t = now_s();
		if (!o->quiet && t >= next) {
			show_progress(g, o, t - start, tty);
			shown = true;
			next = t + 1.0;
		}
	}

	wd_disarm();
	if (shown && tty) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	g_interrupter = NULL;
	if (ret == MG_RUN_INTERRUPTED)
		fe_seterr(err, errlen, "interrupted");
	return ret;
}

/* ==========================================================================================
 * The host of a trace (mg_source_hostname, for the per-host reports of `magslab report`)
 *
 * How: a small graph, source.ctf.fs on the trace's directories -> a sink of this program
 * that takes the first stream-beginning message and reads its trace's environment entry
 * `hostname` (bt_stream_borrow_trace_const, bt_trace_borrow_environment_entry_value_by_
 * name_const), then ends.  Not the `metadata-info` query: it gives the metadata's TSDL
 * text, whose `env { ... }` block would have to be parsed here (string escapes, comments;
 * and it is CTF 1.8 text only).  The graph gives the environment as source.ctf.fs decoded
 * it: the very value sink.magslab.report writes as `trace.traces[].hostname`, so the
 * grouping by host cannot disagree with the reports.  Cost: source.ctf.fs indexes the
 * trace's stream files (as the report's own graph does) and one message is decoded.
 */

struct host_probe {
	bt_message_iterator *it;
	bool found;  /* a stream beginning was seen */
	char *host;  /* its trace's `hostname`, NULL if none */
};

static bt_component_class_initialize_method_status
probe_init(bt_self_component_sink *self, bt_self_component_sink_configuration *config,
	   const bt_value *params, void *data)
{
	(void)config;
	(void)params;
	bt_self_component_set_data(bt_self_component_sink_as_self_component(self), data);
	if (bt_self_component_sink_add_input_port(self, "in", NULL, NULL) !=
	    BT_SELF_COMPONENT_ADD_PORT_STATUS_OK)
		return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_MEMORY_ERROR;
	return BT_COMPONENT_CLASS_INITIALIZE_METHOD_STATUS_OK;
}

static bt_component_class_sink_graph_is_configured_method_status
probe_configured(bt_self_component_sink *self)
{
	struct host_probe *hp =
		bt_self_component_get_data(bt_self_component_sink_as_self_component(self));

	switch (bt_message_iterator_create_from_sink_component(
		self, bt_self_component_sink_borrow_input_port_by_name(self, "in"), &hp->it)) {
	case BT_MESSAGE_ITERATOR_CREATE_FROM_SINK_COMPONENT_STATUS_OK:
		return BT_COMPONENT_CLASS_SINK_GRAPH_IS_CONFIGURED_METHOD_STATUS_OK;
	case BT_MESSAGE_ITERATOR_CREATE_FROM_SINK_COMPONENT_STATUS_MEMORY_ERROR:
		return BT_COMPONENT_CLASS_SINK_GRAPH_IS_CONFIGURED_METHOD_STATUS_MEMORY_ERROR;
	default:
		return BT_COMPONENT_CLASS_SINK_GRAPH_IS_CONFIGURED_METHOD_STATUS_ERROR;
	}
}

static bt_component_class_sink_consume_method_status probe_consume(bt_self_component_sink *self)
{
	struct host_probe *hp =
		bt_self_component_get_data(bt_self_component_sink_as_self_component(self));
	bt_message_array_const msgs;
	uint64_t n = 0, i;

	switch (bt_message_iterator_next(hp->it, &msgs, &n)) {
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_OK:
		break;
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_END:
		return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_END;
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_AGAIN:
		return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_AGAIN;
	case BT_MESSAGE_ITERATOR_NEXT_STATUS_MEMORY_ERROR:
		return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_MEMORY_ERROR;
	default:
		return BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_ERROR;
	}
	for (i = 0; i < n; i++) {
		if (!hp->found && bt_message_get_type(msgs[i]) == BT_MESSAGE_TYPE_STREAM_BEGINNING) {
			const bt_trace *t = bt_stream_borrow_trace_const(
				bt_message_stream_beginning_borrow_stream_const(msgs[i]));
			const bt_value *v =
				bt_trace_borrow_environment_entry_value_by_name_const(t, "hostname");

			hp->found = true;
			if (v && bt_value_is_string(v))
				hp->host = xstrdup(bt_value_string_get(v));
		}
		bt_message_put_ref(msgs[i]);
	}
	return hp->found ? BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_END
			 : BT_COMPONENT_CLASS_SINK_CONSUME_METHOD_STATUS_OK;
}

static void probe_fini(bt_self_component_sink *self)
{
	struct host_probe *hp =
		bt_self_component_get_data(bt_self_component_sink_as_self_component(self));

	if (hp) {
		bt_message_iterator_put_ref(hp->it);
		hp->it = NULL;
	}
}

/* The class, made once (NULL on memory error). */
static bt_component_class_sink *probe_class(void)
{
	static bt_component_class_sink *cls;

	if (cls)
		return cls;
	cls = bt_component_class_sink_create("hostname", probe_consume);
	if (cls &&
	    (bt_component_class_sink_set_initialize_method(cls, probe_init) !=
		     BT_COMPONENT_CLASS_SET_METHOD_STATUS_OK ||
	     bt_component_class_sink_set_graph_is_configured_method(cls, probe_configured) !=
		     BT_COMPONENT_CLASS_SET_METHOD_STATUS_OK ||
	     bt_component_class_sink_set_finalize_method(cls, probe_fini) !=
		     BT_COMPONENT_CLASS_SET_METHOD_STATUS_OK)) {
		bt_component_class_sink_put_ref(cls);
		cls = NULL;
	}
	return cls;
}

int mg_source_hostname(const struct mg_plugins *p, const struct mg_source *s,
		       bt_logging_level log_level, char **host, char *err, size_t errlen)
{
	const bt_component_class_source *fs_cls =
		bt_plugin_borrow_source_component_class_by_name_const(p->ctf, "fs");
	bt_component_class_sink *cls = probe_class();
	struct host_probe hp = { NULL, false, NULL };
	const bt_component_source *src = NULL;
	const bt_component_sink *sink = NULL;
	bt_graph *graph = NULL;
	bt_value *params = NULL;
	bt_graph_run_status st;
	char ctx[PATH_MAX + 64];
	int ret = -1;

	*host = NULL;
	if (s->live) {
		/* net://RELAY[:PORT]/host/HOSTNAME/SESSION: the relay daemon's host grouping. */
		const char *h = strstr(s->url, "/host/"), *e;

		if (h) {
			h += 6;
			e = strchr(h, '/');
			if (e && e > h) {
				*host = xcalloc((size_t)(e - h) + 1, 1);
				memcpy(*host, h, (size_t)(e - h));
			} else if (!e && *h) {
				*host = xstrdup(h);
			}
		}
		return 0;
	}
	snprintf(ctx, sizeof(ctx), "cannot read the hostname of the trace %s",
		 s->ndirs ? s->dirs[0] : "?");
	if (!fs_cls || !cls) {
		fe_seterr(err, errlen, "%s: %s", ctx, cls ? "no source.ctf.fs" : "out of memory");
		return -1;
	}
	params = source_params(s);
	graph = params ? bt_graph_create(0) : NULL;
	if (!graph) {
		fe_seterr(err, errlen, "out of memory");
		goto out;
	}
	if (bt_graph_add_source_component(graph, fs_cls, "ctf-fs", params, log_level, &src) !=
		    BT_GRAPH_ADD_COMPONENT_STATUS_OK ||
	    bt_graph_add_sink_component_with_initialize_method_data(
		    graph, cls, "hostname", NULL, &hp, log_level, &sink) !=
		    BT_GRAPH_ADD_COMPONENT_STATUS_OK) {
		mg_take_error(err, errlen, ctx, false);
		goto out;
	}
	if (bt_component_source_get_output_port_count(src) == 0) {
		ret = 0; /* no stream: no environment to read */
		goto out;
	}
	/* The trace's other streams stay unconnected: any stream has the same trace. */
	if (bt_graph_connect_ports(graph,
				   bt_component_source_borrow_output_port_by_index_const(src, 0),
				   bt_component_sink_borrow_input_port_by_name_const(sink, "in"),
				   NULL) != BT_GRAPH_CONNECT_PORTS_STATUS_OK) {
		mg_take_error(err, errlen, ctx, false);
		goto out;
	}
	wd_arm("magslab", "babeltrace2, reading the trace's hostname,");
	while ((st = bt_graph_run(graph)) == BT_GRAPH_RUN_STATUS_AGAIN) {
		struct timespec ts = { 0, 10 * 1000 * 1000 };

		wd_tick();
		nanosleep(&ts, NULL);
	}
	wd_disarm();
	if (st != BT_GRAPH_RUN_STATUS_OK) {
		mg_take_error(err, errlen, ctx, false);
		goto out;
	}
	*host = hp.host;
	hp.host = NULL;
	ret = 0;
out:
	bt_graph_put_ref(graph); /* finalizes the probe (puts its iterator) */
	bt_value_put_ref(params);
	free(hp.host);
	return ret;
}
