/*
 * tracelib/tl_util.h — small helpers of the trace-reading library (tracelib/): checked
 * allocation, one-line error buffers, the clock, and counts for progress lines.
 *
 * The front end (analysis/util.h) uses tl_seterr and tl_format_count too, rather than
 * copies of its own.  No state, no locks.
 */
#ifndef MAGSLAB_TRACELIB_TL_UTIL_H
#define MAGSLAB_TRACELIB_TL_UTIL_H

#include <stddef.h>
#include <stdint.h>

/*
 * calloc, realloc and strdup that end the process on failure, with "PROG: out of memory"
 * on stderr and exit status 1: the trace-reading code has no way to go on without the
 * memory, and both programs treat running out as fatal.
 */
void *tl_xcalloc(size_t n, size_t size);
void *tl_xrealloc(void *p, size_t size);
char *tl_xstrdup(const char *s);

/* snprintf into a caller's one-line error buffer (the `char *err, size_t errlen` pairs). */
void tl_seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* CLOCK_MONOTONIC in seconds. */
double tl_now_s(void);

/* A count for a progress line: 987, 12k, 1.3M, 12M. */
void tl_format_count(char *buf, size_t len, uint64_t n);

/* The directory of the running executable (from /proc/self/exe) into dir:
 * 0, or -1 and "" if it cannot be told.  Where the front end looks for what
 * was built or installed beside it (the plugin, the malloc shim). */
int tl_exe_dir(char *dir, size_t len);

#endif /* MAGSLAB_TRACELIB_TL_UTIL_H */
