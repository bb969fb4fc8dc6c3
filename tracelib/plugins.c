/*
 * tracelib/plugins.c — loading the babeltrace2 plugins the graph needs (mg_plugins_load,
 * graph.h: ctf and utils from babeltrace2's own directories, the magslab plugin from the
 * places graph.h lists) and finding a sink component class by PLUGIN.NAME.  The loaded
 * plugins are the caller's (struct mg_plugins), released with mg_plugins_put().
 */
#include "graph.h"
#include "tl_util.h"

#include <dlfcn.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MAGSLAB_PLUGINDIR
#define MAGSLAB_PLUGINDIR "/usr/local/lib/babeltrace2/plugins"
#endif

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
		tl_seterr(err, errlen, "%s is not a babeltrace2 plugin named '%s'", path, name);
	} else {
		tl_seterr(err, errlen, "cannot load the babeltrace2 plugin %s: %s", path, dlerror());
	}
	return 1;
}

/* The plugin named name in directory dir: 1 found (*out), 0 not there, -1 error (err). */
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

	buf[0] = '\0';
	if (tl_exe_dir(exe, sizeof(exe)) != 0)
		return;
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
		char *copy = tl_xstrdup(env), *save = NULL, *d;

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
	tl_seterr(err, errlen,
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
		tl_seterr(err, errlen,
		       "the babeltrace2 plugin 'ctf' was not found (install babeltrace2)");
	if (r <= 0)
		goto fail;
	r = plugin_find_std("utils", &p->utils, err, errlen);
	if (r == 0)
		tl_seterr(err, errlen,
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
		tl_seterr(err, errlen, "bad sink component class '%s' (want PLUGIN.CLASS)", spec);
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
			tl_seterr(err, errlen, "the babeltrace2 plugin '%s' was not found", name);
			return NULL;
		}
		pl = *holder;
	}
	cls = bt_plugin_borrow_sink_component_class_by_name_const(pl, dot + 1);
	if (!cls) {
		tl_seterr(err, errlen, "the babeltrace2 plugin '%s' (%s) has no sink class '%s'", name,
		       bt_plugin_get_path(pl) ? bt_plugin_get_path(pl) : "?", dot + 1);
		bt_plugin_put_ref(*holder);
		*holder = NULL;
	}
	return cls;
}

