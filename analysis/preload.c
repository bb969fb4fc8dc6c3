/*
 * analysis/preload.c — the malloc shim under a command (see preload.h): finding
 * libmagslab-malloc.so, the command's LD_PRELOAD, the program's name.
 *
 * The front end never loads the shim itself (its constructor would put magslab under the
 * front end and, through the environment, under the LTTng daemons it starts): only the
 * command's environment gets it, in the child, just before exec.
 *
 * No state, no locks.
 */
#include "preload.h"

#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#ifndef MAGSLAB_LIBDIR
#define MAGSLAB_LIBDIR "/usr/local/lib"
#endif

/* A readable regular file, its absolute path into out. */
static bool lib_at(const char *path, char *out, size_t len)
{
	char real[PATH_MAX];
	struct stat sb;

	if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode) || access(path, R_OK) != 0 ||
	    !realpath(path, real))
		return false;
	return snprintf(out, len, "%s", real) < (int)len;
}

/* ../lib beside this executable into dir ("" if unknown). */
static void lib_dir_beside_exe(char *dir, size_t len)
{
	char exe_dir[PATH_MAX];
	char *slash;

	dir[0] = '\0';
	if (tl_exe_dir(exe_dir, sizeof(exe_dir)) != 0)
		return;
	slash = strrchr(exe_dir, '/'); /* .../bin -> ... */
	if (slash)
		*slash = '\0';
	if (snprintf(dir, len, "%.*s/lib", PATH_MAX - 8, exe_dir) >= (int)len)
		dir[0] = '\0';
}

int preload_find_lib(char *out, size_t len, char *err, size_t errlen)
{
	const char *env = getenv(PRELOAD_LIB_ENV);
	char dir[PATH_MAX], path[PATH_MAX + 64];

	if (env && *env) {
		if (lib_at(env, out, len))
			return 0;
		tl_seterr(err, errlen, "--preload: %s=%s is not a readable file", PRELOAD_LIB_ENV,
			  env);
		return -1;
	}
	lib_dir_beside_exe(dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/" PRELOAD_LIB_NAME, dir);
	if (dir[0] && lib_at(path, out, len))
		return 0;
	if (lib_at(MAGSLAB_LIBDIR "/" PRELOAD_LIB_NAME, out, len))
		return 0;
	tl_seterr(err, errlen, "--preload: " PRELOAD_LIB_NAME " not found (looked in %s%s"
		  MAGSLAB_LIBDIR "): build it with make, install it with make install, or set "
		  PRELOAD_LIB_ENV, dir, dir[0] ? " and " : "");
	return -1;
}

/* Whether the LD_PRELOAD list cur (space or colon separated) has lib already. */
static bool preload_has(const char *cur, const char *lib)
{
	size_t n = strlen(lib);
	const char *p = cur;

	while ((p = strstr(p, lib))) {
		bool start = p == cur || p[-1] == ':' || p[-1] == ' ';
		bool end = p[n] == '\0' || p[n] == ':' || p[n] == ' ';

		if (start && end)
			return true;
		p += n;
	}
	return false;
}

void preload_child_env(const char *lib, const char *stats_json)
{
	const char *cur = getenv("LD_PRELOAD");

	if (stats_json && !getenv(PRELOAD_STATS_ENV))
		setenv(PRELOAD_STATS_ENV, stats_json, 1);
	if (!cur || !*cur) {
		setenv("LD_PRELOAD", lib, 1);
	} else if (!preload_has(cur, lib)) {
		size_t n = strlen(cur) + strlen(lib) + 2;
		char *v = malloc(n);

		if (!v)
			return; /* (the child then runs without the shim: its report says so) */
		snprintf(v, n, "%s:%s", cur, lib);
		setenv("LD_PRELOAD", v, 1);
		free(v);
	}
}

/* The base name of a path. */
static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s && s[1] ? s + 1 : path;
}

void preload_program(char *const cmd[], char *out, size_t len)
{
	size_t i = 0;

	if (strcmp(base_name(cmd[0]), "env") == 0) {
		for (i = 1; cmd[i]; i++) {
			if (strcmp(cmd[i], "-u") == 0 && cmd[i + 1])
				i++;
			else if (strcmp(cmd[i], "--") == 0)
				continue;
			else if (cmd[i][0] != '-' && !strchr(cmd[i], '='))
				break;
		}
		if (!cmd[i])
			i = 0;
	}
	snprintf(out, len, "%.200s (malloc shim)", base_name(cmd[i]));
}

/* TRACE/PRELOAD_PROGRAM_FILE, opened with mode: the one place that names it. */
static FILE *open_program_file(const char *trace, const char *mode)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/" PRELOAD_PROGRAM_FILE, trace);
	return fopen(path, mode);
}

int preload_note_program(const char *trace, const char *program)
{
	FILE *f = open_program_file(trace, "w");
	int rc;

	if (!f)
		return -1;
	fprintf(f, "%s\n", program);
	rc = ferror(f) ? -1 : 0;
	return fclose(f) || rc ? -1 : 0;
}

bool preload_noted_program(const char *trace, char *out, size_t len)
{
	FILE *f = open_program_file(trace, "r");
	bool ok;

	if (!f)
		return false;
	ok = fgets(out, (int)len, f) != NULL;
	fclose(f);
	if (ok)
		out[strcspn(out, "\n")] = '\0';
	return ok && out[0];
}
