/*
 * tracelib/watchdog.c — the stall watchdog of babeltrace2 runs (watchdog.h): one detached
 * thread, started on the first wd_arm(), that wakes every 100 ms and compares the progress
 * counter with what it saw last.  State: atomics only (the armed job's names are written
 * before `armed` is set, read after it is seen).
 */
#include "watchdog.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#define WD_DEFAULT_S 60.0

static atomic_ulong wd_progress;
static atomic_int wd_armed;
static _Atomic(const char *) wd_prog;
static _Atomic(const char *) wd_what;
static pthread_once_t wd_once = PTHREAD_ONCE_INIT;

double wd_limit_s(void)
{
	const char *s = getenv("MAGSLAB_STALL_TIMEOUT");
	char *end;
	double v;

	if (!s || !*s)
		return WD_DEFAULT_S;
	v = strtod(s, &end);
	return *end || !(v > 0) || v > 1e6 ? WD_DEFAULT_S : v;
}

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *wd_thread(void *arg)
{
	const struct timespec nap = { 0, 100 * 1000 * 1000 };
	double limit = wd_limit_s(), since = mono_s();
	unsigned long seen = atomic_load(&wd_progress);

	(void)arg;
	for (;;) {
		unsigned long now_p;

		nanosleep(&nap, NULL);
		now_p = atomic_load(&wd_progress);
		if (now_p != seen || !atomic_load(&wd_armed)) {
			seen = now_p;
			since = mono_s();
			continue;
		}
		if (mono_s() - since >= limit) {
			fprintf(stderr, "%s: %s made no progress for %g s: the trace is damaged, or the "
				"decoder is stuck; giving up\n", atomic_load(&wd_prog),
				atomic_load(&wd_what), limit);
			_exit(WD_EXIT_STALL);
		}
	}
	return NULL;
}

static void wd_start(void)
{
	pthread_attr_t attr;
	pthread_t t;

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, wd_thread, NULL) != 0)
		fputs("magslab: warning: cannot start the stall watchdog\n", stderr);
	pthread_attr_destroy(&attr);
}

void wd_arm(const char *prog, const char *what)
{
	atomic_store(&wd_prog, prog);
	atomic_store(&wd_what, what);
	atomic_fetch_add(&wd_progress, 1);
	atomic_store(&wd_armed, 1);
	pthread_once(&wd_once, wd_start);
}

void wd_tick(void)
{
	atomic_fetch_add_explicit(&wd_progress, 1, memory_order_relaxed);
}

void wd_disarm(void)
{
	atomic_store(&wd_armed, 0);
}
