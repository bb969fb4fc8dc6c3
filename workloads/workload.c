/*
 * workloads/workload.c — the framework's small parts (workload.h): one-line messages,
 * applying the options to the library and to caches, the clock, the per-thread RNG's
 * seeding and a shuffle, and pinning threads to the CPUs the process was allowed.
 *
 * State: the allowed-CPU list, captured once by wl_apply_opts() before any thread runs
 * (read-only afterwards).
 */
#include "workload.h"

#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- messages ------------------------------------------------------------- */

int wl_error(const struct wl_opts *o, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", o && o->cmd ? o->cmd : "magslab-workload");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

int wl_bad_arg(const struct wl_opts *o, const char *arg)
{
	if (arg[0] == '-')
		return wl_error(o, "unknown option '%s' (try --help)", arg);
	return wl_error(o, "unexpected argument '%s' (try --help)", arg);
}

void wl_progress(const struct wl_opts *o, const char *fmt, ...)
{
	va_list ap;

	if (o->quiet)
		return;
	fprintf(stderr, "%s: ", o->cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	fflush(stderr);
}

/* ---- the library's settings, pinning ------------------------------------- */

static cpu_set_t wl_allowed;
static unsigned int wl_nallowed;
static int wl_allowed_list[CPU_SETSIZE];

static void wl_capture_affinity(void)
{
	wl_nallowed = 0;
	if (sched_getaffinity(0, sizeof(wl_allowed), &wl_allowed) != 0)
		return;
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &wl_allowed))
			wl_allowed_list[wl_nallowed++] = c;
}

unsigned int wl_allowed_cpus(void)
{
	if (!wl_nallowed)
		wl_capture_affinity();
	return wl_nallowed ? wl_nallowed : 1;
}

int wl_pin_thread(unsigned int index)
{
	cpu_set_t set;
	int cpu, err;

	if (!wl_nallowed)
		wl_capture_affinity();
	if (!wl_nallowed) {
		errno = ENOSYS;
		return -1;
	}
	cpu = wl_allowed_list[index % wl_nallowed];
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (err) {
		errno = err;
		return -1;
	}
	return cpu;
}

/* The process-wide settings of wl_apply_opts (the library checks them). */
static int wl_apply_settings(const struct wl_opts *o)
{
	if (o->ncpus && magslab_set_ncpus(o->ncpus) != 0)
		return -1;
	if (o->pcc_map &&
	    magslab_set_pcc_map(strcmp(o->pcc_map, "thread") == 0 ?
				MAGSLAB_PCC_BY_THREAD : MAGSLAB_PCC_BY_CPU) != 0)
		return -1;
	/* As process defaults too, so that every cache's cache_create event
	 * (and so the trace report) carries the values in force. */
	if (o->policy && magslab_set_policy(o->policy) != 0)
		return -1;
	if (o->threshold_set && magslab_set_resize_threshold(o->threshold) != 0)
		return -1;
	if (o->timeout_set && magslab_set_resize_timeout_ns(o->timeout_ns) != 0)
		return -1;
	return 0;
}

int wl_apply_opts(const struct wl_opts *o)
{
	int r;

	wl_capture_affinity();
	r = wl_apply_settings(o);
	if (r == 0 && o->check_only)
		exit(0); /* --check-options: every option is valid, nothing runs */
	return r;
}

int wl_cache_tune(struct kmem_cache *kc, const struct wl_opts *o)
{
	if (o->policy && kmem_cache_set_policy(kc, o->policy) != 0)
		return -1;
	if (o->threshold_set &&
	    kmem_cache_set_resize_threshold(kc, o->threshold) != 0)
		return -1;
	if (o->timeout_set &&
	    kmem_cache_set_resize_timeout_ns(kc, o->timeout_ns) != 0)
		return -1;
	return 0;
}

struct kmem_cache *wl_cache_create(const struct wl_opts *o, const char *name,
				   size_t size, int flags)
{
	struct kmem_cache *kc;

	kc = kmem_cache_create(name, size, 0, flags, NULL, NULL, NULL, NULL);
	if (!kc) {
		wl_error(o, "cannot create cache %s (%zu bytes): %s", name, size,
			 strerror(errno));
		return NULL;
	}
	if (wl_cache_tune(kc, o) != 0) {
		kmem_cache_destroy(kc);
		return NULL;
	}
	return kc;
}

/* ---- timing -------------------------------------------------------------- */

uint64_t wl_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double wl_now(void)
{
	return (double)wl_now_ns() * 1e-9;
}

void wl_sleep_ns(uint64_t ns)
{
	struct timespec ts = {
		.tv_sec = (time_t)(ns / 1000000000u),
		.tv_nsec = (long)(ns % 1000000000u),
	};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---- RNG ----------------------------------------------------------------- */

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void wl_rng_seed(struct wl_rng *r, uint64_t seed, unsigned int index)
{
	/* Mix the index in through its own splitmix step, so that seeds
	 * (s, i) and (s + 1, i - 1) do not collide. */
	uint64_t x = seed;
	uint64_t y = (uint64_t)index + 0x5851f42d4c957f2dULL;

	x ^= splitmix64(&y);
	for (int k = 0; k < 4; k++)
		r->s[k] = splitmix64(&x);
	if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3]))
		r->s[0] = 1;
}

void wl_shuffle(struct wl_rng *r, void **objs, unsigned int n)
{
	for (unsigned int a = n; a > 1; a--) {
		unsigned int b = (unsigned int)wl_rng_below(r, a);
		void *tmp = objs[a - 1];

		objs[a - 1] = objs[b];
		objs[b] = tmp;
	}
}
