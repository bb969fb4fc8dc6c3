/*
 * malloc_test_util.h — helpers of the malloc shim's tests (test_malloc.c,
 * test_malloc_mt.c).  They call the shim under its test names (msm_malloc,
 * msm_free, ...: lib/malloc/shim.h), next to the system's malloc.
 *
 * Include after the cmocka headers.  Everything is static inline.
 */
#ifndef MAGSLAB_MALLOC_TEST_UTIL_H
#define MAGSLAB_MALLOC_TEST_UTIL_H

#define MSM_PREFIX msm_
#include "../lib/malloc/shim.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Sanitizer builds run fewer iterations. */
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define MT_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define MT_SANITIZED 1
#endif
#endif
#ifndef MT_SANITIZED
#define MT_SANITIZED 0
#endif

/* Fills n bytes at p with a pattern derived from seed. */
static inline void mt_fill(void *p, size_t n, unsigned int seed)
{
	unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		c[i] = (unsigned char)(seed * 31 + i * 7);
}

/* Does the pattern of mt_fill(p, n, seed) still hold? */
static inline int mt_check(const void *p, size_t n, unsigned int seed)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		if (c[i] != (unsigned char)(seed * 31 + i * 7))
			return 0;
	return 1;
}

/* Runs fn(arg) in a child whose stderr goes to buf (NUL-terminated); returns
 * the child's wait status. */
static inline int mt_run_child(void (*fn)(void *arg), void *arg, char *buf,
			size_t len)
{
	int fds[2], status = 0;
	size_t got = 0;
	ssize_t n;
	pid_t pid;

	if (pipe(fds) != 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(fds[1], STDERR_FILENO);
		close(fds[0]);
		fn(arg);
		_exit(0);
	}
	close(fds[1]);
	while (got + 1 < len && (n = read(fds[0], buf + got, len - 1 - got)) > 0)
		got += (size_t)n;
	buf[got] = '\0';
	close(fds[0]);
	waitpid(pid, &status, 0);
	return status;
}

/* Did the child die of SIGABRT after printing exactly one line that
 * contains want? */
static inline int mt_aborted_with(int status, const char *out, const char *want)
{
	const char *nl = strchr(out, '\n');

	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGABRT) {
		fprintf(stderr, "child status %#x, not SIGABRT; output: %s\n",
			status, out);
		return 0;
	}
	if (!strstr(out, want) || !nl || nl[1] != '\0') {
		fprintf(stderr, "child output %s lacks one line with '%s'\n",
			out, want);
		return 0;
	}
	return 1;
}

#endif /* MAGSLAB_MALLOC_TEST_UTIL_H */
