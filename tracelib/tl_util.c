/*
 * tracelib/tl_util.c — the helpers of tl_util.h.  No state.
 */
#include "tl_util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <time.h>
#include <unistd.h>

static void *checked(void *p)
{
	if (!p) {
		fprintf(stderr, "%s: out of memory\n", program_invocation_short_name);
		exit(1);
	}
	return p;
}

void *tl_xcalloc(size_t n, size_t size)
{
	return checked(calloc(n ? n : 1, size));
}

void *tl_xrealloc(void *p, size_t size)
{
	return checked(realloc(p, size ? size : 1));
}

char *tl_xstrdup(const char *s)
{
	return checked(strdup(s));
}

void tl_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

double tl_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void tl_format_count(char *buf, size_t len, uint64_t n)
{
	if (n >= 10000000)
		snprintf(buf, len, "%.0fM", (double)n / 1e6);
	else if (n >= 1000000)
		snprintf(buf, len, "%.1fM", (double)n / 1e6);
	else if (n >= 10000)
		snprintf(buf, len, "%.0fk", (double)n / 1e3);
	else
		snprintf(buf, len, "%llu", (unsigned long long)n);
}

int tl_exe_dir(char *dir, size_t len)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	char *slash;

	dir[0] = '\0';
	if (n <= 0)
		return -1;
	exe[n] = '\0';
	slash = strrchr(exe, '/');
	if (!slash || (size_t)(slash - exe) >= len)
		return -1;
	*slash = '\0';
	snprintf(dir, len, "%s", exe);
	return 0;
}
