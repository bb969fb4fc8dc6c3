/*
 * analysis/util.c — helpers shared by the front end's modules (see util.h).  No state.
 */
#include "util.h"

#include <dirent.h>
#include <getopt.h>
#include <errno.h>
#include <signal.h>
#include <ftw.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int fe_mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	size_t len = strlen(path), i;
	struct stat sb;

	if (len == 0 || len >= sizeof(buf)) {
		errno = len ? ENAMETOOLONG : ENOENT;
		return -1;
	}
	for (i = 0; i <= len; i++) {
		buf[i] = path[i];
		if ((path[i] != '/' && path[i] != '\0') || i == 0)
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0755) != 0 && errno != EEXIST)
			return -1;
		if (stat(buf, &sb) != 0)
			return -1;
		if (!S_ISDIR(sb.st_mode)) {
			errno = ENOTDIR;
			return -1;
		}
		buf[i] = path[i];
	}
	return 0;
}

bool fe_dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	bool empty = true;

	if (!d)
		return false;
	while (empty && (de = readdir(d)))
		empty = strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0;
	closedir(d);
	return empty;
}

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return (flag == FTW_DP ? rmdir(path) : unlink(path)) == 0 || errno == ENOENT ? 0 : -1;
}

int fe_remove_tree(const char *path)
{
	struct stat sb;

	if (lstat(path, &sb) != 0)
		return errno == ENOENT ? 0 : -1;
	return nftw(path, remove_one, 32, FTW_DEPTH | FTW_PHYS);
}

int fe_find_program(const char *prog, char *out, size_t len)
{
	const char *path = getenv("PATH");
	char *copy, *save = NULL, *d;

	if (strchr(prog, '/')) {
		snprintf(out, len, "%s", prog);
		return access(prog, X_OK) == 0 ? 0 : -1;
	}
	copy = strdup(path && *path ? path : "/usr/local/bin:/usr/bin:/bin");
	if (!copy)
		return -1;
	for (d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		struct stat sb;

		snprintf(out, len, "%s/%s", *d ? d : ".", prog);
		if (stat(out, &sb) == 0 && S_ISREG(sb.st_mode) && access(out, X_OK) == 0) {
			free(copy);
			return 0;
		}
	}
	free(copy);
	snprintf(out, len, "%s", prog);
	return -1;
}

int fe_find_workload(char *out, size_t len, char *err, size_t errlen)
{
	const char *env = getenv("MAGSLAB_WORKLOAD");
	char self[PATH_MAX];
	ssize_t n;

	if (env && *env) {
		if (fe_find_program(env, out, len) == 0)
			return 0;
		snprintf(err, errlen, "MAGSLAB_WORKLOAD=%s is not an executable program", env);
		return -1;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		char *slash;

		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash) {
			*slash = '\0';
			snprintf(out, len, "%s/magslab-workload", self);
			if (access(out, X_OK) == 0)
				return 0;
		}
	}
	if (fe_find_program("magslab-workload", out, len) == 0)
		return 0;
	snprintf(err, errlen, "magslab-workload not found beside %s nor in PATH (build it with "
		 "`make`, or set MAGSLAB_WORKLOAD)", n > 0 ? self : "this program");
	return -1;
}

void fe_html_escape(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
	}
}

int fe_parse_bucket(const char *arg, unsigned long long *out)
{
	char *end;

	errno = 0;
	*out = strtoull(arg, &end, 10);
	if (errno || end == arg || *end || *out == 0 || arg[0] == '-' || *out > 3600000ULL)
		return -1;
	return 0;
}

int fe_parse_max_caches(const char *arg, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 10);
	if (errno || end == arg || *end || arg[0] == '-' || v < 1 || v > FE_MAX_CACHES)
		return -1;
	*out = (unsigned)v;
	return 0;
}

int fe_interrupted_status(int sig)
{
	return 128 + sig;
}

const char *fe_signal_name(int sig)
{
	switch (sig) {
	case SIGINT:
		return "SIGINT";
	case SIGTERM:
		return "SIGTERM";
	case SIGHUP:
		return "SIGHUP";
	default:
		return "a signal";
	}
}

double fe_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void fe_sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

int fe_write_all(int fd, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

void *fe_xrealloc(void *p, size_t size)
{
	p = realloc(p, size ? size : 1);
	if (!p) {
		fputs("magslab: out of memory\n", stderr);
		exit(1);
	}
	return p;
}

void fe_option_error(int c, char **argv, char *buf, size_t len)
{
	if (c == ':')
		snprintf(buf, len, "%s needs an argument", argv[optind - 1]);
	else if (optopt)
		snprintf(buf, len, "unknown option '-%c'", optopt);
	else
		snprintf(buf, len, "unknown option '%s'", argv[optind - 1]);
}

void fe_print_head(const char *path, int lines, bool more)
{
	FILE *f = fopen(path, "r");
	char buf[4096];
	int n = 0, left = 0;

	if (!f)
		return;
	while (fgets(buf, sizeof(buf), f) && (more || n < lines)) {
		bool whole = strchr(buf, '\n') != NULL;

		if (n < lines)
			fputs(buf, stdout);
		else if (whole)
			left++;
		if (whole)
			n++;
	}
	if (more && n < lines && n > 0 && !feof(f))
		putchar('\n');
	fclose(f);
	if (left)
		printf("... (%d more lines in %s)\n", left, path);
}

int fe_copy_file(const char *from, const char *to)
{
	char buf[65536];
	FILE *in = fopen(from, "rb"), *out;
	size_t n;
	int rc = 0;

	if (!in)
		return -1;
	out = fopen(to, "wb");
	if (!out) {
		fclose(in);
		return -1;
	}
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			rc = -1;
	if (ferror(in))
		rc = -1;
	fclose(in);
	if (fclose(out))
		rc = -1;
	return rc;
}
