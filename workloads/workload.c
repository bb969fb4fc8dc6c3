/*
 * workloads/workload.c — the shared framework of magslab-workload (see
 * workload.h): options, library settings, timing, RNG seeding, pinning, the
 * thread runner and the JSON result.
 */
#include "workload.h"

#include <errno.h>
#include <limits.h>
#include <inttypes.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- messages ---------------------------------------------------------- */

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

/* ---- options ----------------------------------------------------------- */

void wl_opts_init(struct wl_opts *o, const char *name)
{
	static char cmd[64];

	memset(o, 0, sizeof(*o));
	snprintf(cmd, sizeof(cmd), "magslab-workload %s", name);
	o->cmd = cmd;
	o->threads = 2;
	o->duration_s = 1.0;
	o->objsize = 64;
	o->seed = 1;
	o->warmup_s = 0.25;
}

int wl_parse_u64(const struct wl_opts *o, const char *opt, const char *s,
		 uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return wl_error(o, "%s: '%s' is not a non-negative integer",
				opt, s ? s : "");
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno == ERANGE)
		return wl_error(o, "%s: %s is too large (at most %llu)", opt, s,
				ULLONG_MAX);
	if (errno || *end || end == s)
		return wl_error(o, "%s: '%s' is not a non-negative integer",
				opt, s);
	*out = v;
	return 0;
}

int wl_parse_uint(const struct wl_opts *o, const char *opt, const char *s,
		  unsigned int *out)
{
	uint64_t v;

	if (wl_parse_u64(o, opt, s, &v))
		return -1;
	if (v > 1000000)
		return wl_error(o, "%s: %s is too large", opt, s);
	*out = (unsigned int)v;
	return 0;
}

int wl_parse_size(const struct wl_opts *o, const char *opt, const char *s,
		  size_t *out)
{
	char *end;
	unsigned long long v;
	unsigned int shift = 0;

	if (!s || !*s || *s == '-' || *s == '+')
		return wl_error(o, "%s: '%s' is not a size", opt, s ? s : "");
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return wl_error(o, "%s: '%s' is not a size", opt, s);
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	default: break;
	}
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end)
		return wl_error(o, "%s: '%s' is not a size", opt, s);
	if (shift && v > (~0ULL >> shift))
		return wl_error(o, "%s: %s is too large", opt, s);
	*out = (size_t)(v << shift);
	return 0;
}

int wl_parse_double(const struct wl_opts *o, const char *opt, const char *s,
		    double *out)
{
	char *end;
	double v;

	if (!s || !*s)
		return wl_error(o, "%s: '' is not a number", opt);
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < 0)
		return wl_error(o, "%s: '%s' is not a non-negative number",
				opt, s);
	*out = v;
	return 0;
}

int wl_parse_seconds(const struct wl_opts *o, const char *opt, const char *s,
		     double *out)
{
	static const struct { const char *sfx; double mul; } units[] = {
		{ "ns", 1e-9 }, { "us", 1e-6 }, { "ms", 1e-3 },
		{ "s", 1.0 }, { "m", 60.0 }, { "", 1.0 },
	};
	char *end;
	double v;

	if (!s || !*s)
		return wl_error(o, "%s: '' is not a duration", opt);
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0)
		return wl_error(o, "%s: '%s' is not a duration (e.g. 2, 1.5s, "
				"250ms)", opt, s);
	for (size_t k = 0; k < sizeof(units) / sizeof(units[0]); k++) {
		if (strcmp(end, units[k].sfx) == 0) {
			/* Deadlines are uint64_t ns of CLOCK_MONOTONIC: bounded. */
			if (v * units[k].mul > WL_SECONDS_MAX)
				return wl_error(o, "%s: '%s' is too long (at most "
						"%.0e s, about 31 years)", opt,
						s, WL_SECONDS_MAX);
			*out = v * units[k].mul;
			return 0;
		}
	}
	return wl_error(o, "%s: '%s' is not a duration (e.g. 2, 1.5s, 250ms)",
			opt, s);
}

int wl_opt_value(const struct wl_opts *o, int argc, char **argv, int *i,
		 const char *name, const char **val)
{
	const char *a = argv[*i];
	size_t n = strlen(name);

	if (strncmp(a, name, n) != 0)
		return 0;
	if (a[n] == '=') {
		*val = a + n + 1;
		*i += 1;
		return 1;
	}
	if (a[n] != '\0')
		return 0;
	if (*i + 1 >= argc)
		return wl_error(o, "%s needs a value (try --help)", name);
	*val = argv[*i + 1];
	*i += 2;
	return 1;
}

int wl_opt_flag(int argc, char **argv, int *i, const char *name)
{
	if (*i >= argc || strcmp(argv[*i], name) != 0)
		return 0;
	*i += 1;
	return 1;
}

int wl_parse_common(int argc, char **argv, int *i, struct wl_opts *o)
{
	const char *v;
	int r;

	if (wl_opt_flag(argc, argv, i, "--pin")) {
		o->pin = true;
		return 1;
	}
	if (wl_opt_flag(argc, argv, i, "--quiet") ||
	    wl_opt_flag(argc, argv, i, "-q")) {
		o->quiet = true;
		return 1;
	}
	if (wl_opt_flag(argc, argv, i, "--check-options")) {
		o->check_only = true;
		return 1;
	}
#define WL_VALUE(name) ((r = wl_opt_value(o, argc, argv, i, name, &v)) != 0)
	if (WL_VALUE("--threads")) {
		if (r < 0 || wl_parse_uint(o, "--threads", v, &o->threads))
			return -1;
		if (o->threads < 1 || o->threads > 4096)
			return wl_error(o, "--threads: %s is not in 1..4096", v);
		return 1;
	}
	if (WL_VALUE("--duration")) {
		if (r < 0 || wl_parse_seconds(o, "--duration", v, &o->duration_s))
			return -1;
		if (o->duration_s <= 0)
			return wl_error(o, "--duration: must be more than 0");
		o->ops = 0;
		o->duration_set = true;
		return 1;
	}
	if (WL_VALUE("--ops")) {
		if (r < 0 || wl_parse_u64(o, "--ops", v, &o->ops))
			return -1;
		if (o->ops == 0)
			return wl_error(o, "--ops: must be more than 0");
		o->duration_s = 0;
		o->duration_set = false;
		return 1;
	}
	if (WL_VALUE("--objsize")) {
		if (r < 0 || wl_parse_size(o, "--objsize", v, &o->objsize))
			return -1;
		if (o->objsize == 0)
			return wl_error(o, "--objsize: must be more than 0");
		o->objsize_set = true;
		return 1;
	}
	if (WL_VALUE("--seed"))
		return r < 0 || wl_parse_u64(o, "--seed", v, &o->seed) ? -1 : 1;
	if (WL_VALUE("--ncpus")) {
		if (r < 0 || wl_parse_uint(o, "--ncpus", v, &o->ncpus))
			return -1;
		if (o->ncpus == 0)
			return wl_error(o, "--ncpus: must be more than 0");
		return 1;
	}
	if (WL_VALUE("--pcc-map")) {
		if (r < 0)
			return -1;
		if (strcmp(v, "cpu") != 0 && strcmp(v, "thread") != 0)
			return wl_error(o, "--pcc-map: '%s' is not cpu or thread",
					v);
		o->pcc_map = v;
		return 1;
	}
	if (WL_VALUE("--policy")) {
		if (r < 0)
			return -1;
		if (strcmp(v, "akaros") != 0 && strcmp(v, "illumos") != 0 &&
		    strcmp(v, "uma") != 0 && strcmp(v, "adaptive") != 0)
			return wl_error(o, "--policy: '%s' is not akaros, illumos,"
					" uma or adaptive", v);
		o->policy = v;
		return 1;
	}
	if (WL_VALUE("--threshold")) {
		if (r < 0 || wl_parse_u64(o, "--threshold", v, &o->threshold))
			return -1;
		o->threshold_set = true;
		return 1;
	}
	if (WL_VALUE("--timeout-ns")) {
		if (r < 0 || wl_parse_u64(o, "--timeout-ns", v, &o->timeout_ns))
			return -1;
		if (o->timeout_ns == 0)
			return wl_error(o, "--timeout-ns: must be more than 0");
		o->timeout_set = true;
		return 1;
	}
	if (WL_VALUE("--json")) {
		if (r < 0)
			return -1;
		if (!*v)
			return wl_error(o, "--json: empty file name");
		o->json_path = v;
		return 1;
	}
	if (WL_VALUE("--warmup")) {
		if (r < 0 || wl_parse_seconds(o, "--warmup", v, &o->warmup_s))
			return -1;
		return 1;
	}
#undef WL_VALUE
	return 0;
}

int wl_parse_args(int argc, char **argv, struct wl_opts *o,
		  wl_own_opt_fn own, void *ctx, void (*help)(FILE *f))
{
	for (int i = 1; i < argc;) {
		int r;

		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			help(stdout);
			return 1;
		}
		r = wl_parse_common(argc, argv, &i, o);
		if (r < 0)
			return -1;
		if (r > 0)
			continue;
		r = own ? own(o, argc, argv, &i, ctx) : 0;
		if (r < 0)
			return -1;
		if (r == 0)
			return wl_bad_arg(o, argv[i]);
	}
	return 0;
}

void wl_usage_common(FILE *f)
{
	fputs(
"Common options:\n"
"  --threads N        worker threads (default 2)\n"
"  --duration S       run for S seconds (units ns us ms s m; default 1)\n"
"  --ops N            instead: every thread does N operations (an allocation\n"
"                     or a free is one operation), rounded up to whole rounds\n"
"  --objsize BYTES    object size (k, m suffixes; default 64)\n"
"  --seed N           RNG seed (default 1); thread i's generator is seeded\n"
"                     from (seed, i)\n"
"  --ncpus N          pcc slots of the caches (default: MAGSLAB_NCPUS or the\n"
"                     online CPUs)\n"
"  --pcc-map cpu|thread  slot by current CPU or by thread (default cpu)\n"
"  --policy NAME      resize policy: akaros illumos uma adaptive\n"
"  --threshold N      resize_threshold (default: MAGSLAB_RESIZE_THRESHOLD, 1)\n"
"  --timeout-ns NS    resize_timeout_ns (default 1000000000)\n"
"  --pin              pin thread i to the (i mod n)-th allowed CPU\n"
"  --warmup S         take the after_warmup stats snapshot at S (default\n"
"                     0.25s, at most a quarter of --duration)\n"
"  --json FILE        write the JSON result to FILE instead of stdout\n"
"  --quiet, -q        no progress lines on stderr\n"
"  --check-options    check every option, run nothing, exit 0 (or 2)\n"
"  --help, -h         this help\n"
"Output: one summary line on stderr, one JSON object on stdout (or FILE).\n"
"Exit status: 0 ok, 1 the run failed, 2 bad usage.\n", f);
}

/* ---- applying options ------------------------------------------------- */

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

static int wl_apply_settings(const struct wl_opts *o);

void wl_fail(struct wl_thread *t, const char *what)
{
	int e = errno, expect = 0;
	const char *lib = magslab_last_error();

	t->failed = 1;
	if (atomic_compare_exchange_strong(&t->run->why_set, &expect, 1))
		snprintf(t->run->why, sizeof(t->run->why), "thread %u: %s: %s%s%s",
			 t->index, what, e ? strerror(e) : "no errno",
			 lib && *lib ? "; " : "", lib && *lib ? lib : "");
	atomic_store_explicit(&t->run->stop, true, memory_order_relaxed);
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

/* ---- timing ------------------------------------------------------------ */

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

/* ---- RNG --------------------------------------------------------------- */

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

/* ---- running threads ----------------------------------------------------- */

void wl_run_init(struct wl_run *run, const struct wl_opts *o)
{
	memset(run, 0, sizeof(*run));
	run->opts = o;
	run->duration_s = o->ops ? 0 : o->duration_s;
	atomic_init(&run->stop, false);
}

void wl_run_add_cache(struct wl_run *run, struct kmem_cache *kc)
{
	if (kc && run->ncaches < WL_MAX_CACHES)
		run->caches[run->ncaches++] = kc;
}

void wl_run_snapshot(struct wl_run *run, double at_s)
{
	uint64_t t = wl_now_ns();

	for (unsigned int k = 0; k < run->ncaches; k++)
		kmem_cache_stats(run->caches[k], &run->warm[k]);
	run->warm_took_s = (double)(wl_now_ns() - t) * 1e-9;
	run->have_warm = true;
	run->warm_at_s = at_s;
}

/* The monitor's look at the magsizes: a cache whose resize count moved
 * since the last look changed its magsize now (give or take a look). */
static void wl_watch_magsizes(struct wl_run *run, double at_s)
{
	struct kmem_cache_stats st;

	for (unsigned int k = 0; k < run->ncaches; k++) {
		uint64_t resizes;

		if (kmem_cache_stats(run->caches[k], &st) != 0)
			continue;
		resizes = st.magsize_up + st.magsize_down;
		if (resizes != run->watch_resizes[k]) {
			run->watch_resizes[k] = resizes;
			run->watch_changed_s[k] = at_s;
		}
	}
}

/* When cache k's magsize last changed, for the report: a change after the
 * monitor's last look (the run's last moments, an idle phase) counts as
 * at the end of the run. */
static double wl_settled_s(const struct wl_run *run, unsigned int k,
			   const struct kmem_cache_stats *st)
{
	if (st->magsize_up + st->magsize_down != run->watch_resizes[k])
		return run->seconds;
	return run->watch_changed_s[k];
}

struct wl_start {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned int ready;        /* threads waiting to start */
	unsigned int done;         /* threads that returned */
	bool go;
	uint64_t t0_ns;            /* set when go */
	uint64_t t_end_ns;         /* the last thread's end */
	wl_thread_fn fn;
};

struct wl_thread_box {
	struct wl_thread t;
	struct wl_start *start;
};

static void *wl_thread_main(void *p)
{
	struct wl_thread_box *b = p;
	struct wl_start *s = b->start;
	uint64_t end;

	if (b->t.opts->pin)
		b->t.cpu = wl_pin_thread(b->t.index);
	pthread_mutex_lock(&s->lock);
	s->ready++;
	pthread_cond_broadcast(&s->cond);
	while (!s->go)
		pthread_cond_wait(&s->cond, &s->lock);
	pthread_mutex_unlock(&s->lock);

	s->fn(&b->t);

	end = wl_now_ns();
	pthread_mutex_lock(&s->lock);
	if (end > s->t_end_ns)
		s->t_end_ns = end;
	s->done++;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* The monitor: the warm-up snapshot and the samples, off the timing
 * thread.  Sleeps in slices of at most 10 ms so that it notices the end. */
struct wl_monitor {
	struct wl_run *run;
	uint64_t t0_ns;
	uint64_t warm_ns;          /* 0: no snapshot to take */
	_Atomic bool quit;
	pthread_t tid;
};

static void *wl_monitor_main(void *p)
{
	struct wl_monitor *m = p;
	struct wl_run *run = m->run;
	uint64_t every = run->sample && run->sample_every_s > 0 ?
			 (uint64_t)(run->sample_every_s * 1e9) : 0;
	uint64_t next_sample = every ? m->t0_ns + every : 0;
	uint64_t next_watch = m->t0_ns + WL_WATCH_EVERY_NS;
	double base_s = run->seconds;

	while (!atomic_load(&m->quit)) {
		uint64_t now = wl_now_ns(), until = now + 10000000u;

		if (now >= next_watch) {
			wl_watch_magsizes(run, base_s +
					  (double)(now - m->t0_ns) * 1e-9);
			next_watch = now + WL_WATCH_EVERY_NS;
			continue;
		}

		if (m->warm_ns && now >= m->warm_ns) {
			wl_run_snapshot(run, base_s +
					(double)(now - m->t0_ns) * 1e-9);
			m->warm_ns = 0;
			continue;
		}
		if (next_sample && now >= next_sample) {
			run->sample(run, run->sample_arg);
			next_sample += every;
			if (next_sample < wl_now_ns())
				next_sample = wl_now_ns() + every;
			continue;
		}
		if (m->warm_ns && m->warm_ns < until)
			until = m->warm_ns;
		if (next_sample && next_sample < until)
			until = next_sample;
		if (next_watch < until)
			until = next_watch;
		wl_sleep_ns(until - now);
	}
	return NULL;
}

static uint64_t wl_sum_ops(struct wl_thread_box *boxes, unsigned int n)
{
	uint64_t sum = 0;

	for (unsigned int k = 0; k < n; k++)
		sum += atomic_load_explicit(&boxes[k].t.ops,
					    memory_order_relaxed);
	return sum;
}

/* Waits on the start struct's condition until `deadline_ns` or all done. */
static void wl_wait_until(struct wl_start *s, unsigned int n,
			  uint64_t deadline_ns)
{
	struct timespec ts;
	uint64_t now_rt, left;

	pthread_mutex_lock(&s->lock);
	while (s->done < n) {
		uint64_t now = wl_now_ns();

		if (now >= deadline_ns)
			break;
		left = deadline_ns - now;
		/* The condvar uses CLOCK_REALTIME; wait at most the time left. */
		clock_gettime(CLOCK_REALTIME, &ts);
		now_rt = (uint64_t)ts.tv_sec * 1000000000u +
			 (uint64_t)ts.tv_nsec + left;
		ts.tv_sec = (time_t)(now_rt / 1000000000u);
		ts.tv_nsec = (long)(now_rt % 1000000000u);
		pthread_cond_timedwait(&s->cond, &s->lock, &ts);
	}
	pthread_mutex_unlock(&s->lock);
}

int wl_run_threads(struct wl_run *run, unsigned int n, wl_thread_fn fn,
		   void *arg)
{
	const struct wl_opts *o = run->opts;
	const char *label = run->label ? run->label : "running";
	struct wl_start s = { .fn = fn };
	struct wl_thread_box *boxes;
	struct wl_monitor mon;
	bool have_mon;
	unsigned int created = 0;
	uint64_t t0, deadline = 0, next_progress, warm_ns = 0, ops;
	double warm_s;
	bool want_warm;
	int ret = 0;

	if (n == 0)
		return 0;
	boxes = calloc(n, sizeof(*boxes));
	if (!boxes) {
		wl_error(o, "out of memory");
		return -1;
	}
	pthread_mutex_init(&s.lock, NULL);
	pthread_cond_init(&s.cond, NULL);
	atomic_store(&run->stop, false);

	for (unsigned int k = 0; k < n; k++) {
		struct wl_thread *t = &boxes[k].t;
		int err;

		boxes[k].start = &s;
		t->index = k;
		t->run = run;
		t->opts = o;
		t->arg = arg;
		t->op_limit = o->ops;
		t->cpu = -1;
		atomic_init(&t->ops, 0);
		wl_rng_seed(&t->rng, o->seed, k);
		err = pthread_create(&t->tid, NULL, wl_thread_main, &boxes[k]);
		if (err) {
			wl_error(o, "pthread_create: %s", strerror(err));
			ret = -1;
			break;
		}
		created++;
	}

	/* Everyone ready (or fewer if a create failed), then go. */
	pthread_mutex_lock(&s.lock);
	while (s.ready < created)
		pthread_cond_wait(&s.cond, &s.lock);
	if (ret)
		atomic_store(&run->stop, true);
	t0 = wl_now_ns();
	s.t0_ns = t0;
	s.go = true;
	pthread_cond_broadcast(&s.cond);
	pthread_mutex_unlock(&s.lock);

	/* The warm-up snapshot: at --warmup, at most a quarter of the run; in
	 * ops mode at --warmup if the threads are still running then.  Only
	 * the first wl_run_threads() of a run takes one. */
	warm_s = o->warmup_s;
	if (run->duration_s > 0 && warm_s > run->duration_s / 4)
		warm_s = run->duration_s / 4;
	want_warm = !run->have_warm && run->ncaches > 0;
	if (want_warm)
		warm_ns = t0 + (uint64_t)(warm_s * 1e9);
	mon.run = run;
	mon.t0_ns = t0;
	mon.warm_ns = warm_ns;
	atomic_init(&mon.quit, false);
	have_mon = (want_warm || run->sample || run->ncaches > 0) &&
		   pthread_create(&mon.tid, NULL, wl_monitor_main, &mon) == 0;
	if (run->duration_s > 0)
		deadline = t0 + (uint64_t)(run->duration_s * 1e9);
	next_progress = t0 + 1000000000u;

	for (;;) {
		uint64_t until = next_progress, now;

		if (deadline && deadline < until)
			until = deadline;
		wl_wait_until(&s, created, until);
		now = wl_now_ns();
		pthread_mutex_lock(&s.lock);
		bool all_done = s.done >= created;
		pthread_mutex_unlock(&s.lock);
		if (all_done)
			break;
		if (deadline && now >= deadline) {
			atomic_store(&run->stop, true);
			deadline = 0;
		}
		if (now >= next_progress) {
			double el = (double)(now - t0) * 1e-9;

			ops = wl_sum_ops(boxes, created);
			wl_progress(o, "%s: %.1f s, %" PRIu64 " ops, %.2f Mops/s",
				    label, el, ops, (double)ops / el / 1e6);
			next_progress += 1000000000u;
		}
	}
	atomic_store(&run->stop, true);

	for (unsigned int k = 0; k < created; k++) {
		pthread_join(boxes[k].t.tid, NULL);
		if (boxes[k].t.failed)
			ret = -1;
	}
	if (have_mon) {
		atomic_store(&mon.quit, true);
		pthread_join(mon.tid, NULL);
	}
	ops = wl_sum_ops(boxes, created);
	run->ops += ops;
	if (s.t_end_ns > t0)
		run->seconds += (double)(s.t_end_ns - t0) * 1e-9;
	if (n > run->max_threads)
		run->max_threads = n;
	if (ret)
		run->failed = 1;
	pthread_cond_destroy(&s.cond);
	pthread_mutex_destroy(&s.lock);
	free(boxes);
	return ret;
}

/* ---- JSON ---------------------------------------------------------------- */

void wl_json_init(struct wl_json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
	j->first[0] = true;
}

/* Before any value or key: the comma and the indentation. */
static void wl_json_sep(struct wl_json *j)
{
	if (j->after_key) {
		j->after_key = false;
		return;
	}
	if (!j->first[j->depth])
		fputc(',', j->f);
	j->first[j->depth] = false;
	if (j->depth > 0) {
		fputc('\n', j->f);
		for (int k = 0; k < j->depth; k++)
			fputs("  ", j->f);
	}
}

static void wl_json_string_raw(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\r': fputs("\\r", f); break;
		case '\t': fputs("\\t", f); break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

void wl_json_key(struct wl_json *j, const char *key)
{
	wl_json_sep(j);
	wl_json_string_raw(j->f, key);
	fputs(": ", j->f);
	j->after_key = true;
}

static void wl_json_open(struct wl_json *j, char c)
{
	wl_json_sep(j);
	fputc(c, j->f);
	if (j->depth < 31)
		j->depth++;
	j->first[j->depth] = true;
}

static void wl_json_close(struct wl_json *j, char c)
{
	bool empty = j->first[j->depth];

	if (j->depth > 0)
		j->depth--;
	if (!empty) {
		fputc('\n', j->f);
		for (int k = 0; k < j->depth; k++)
			fputs("  ", j->f);
	}
	fputc(c, j->f);
}

void wl_json_obj_begin(struct wl_json *j) { wl_json_open(j, '{'); }
void wl_json_obj_end(struct wl_json *j) { wl_json_close(j, '}'); }
void wl_json_arr_begin(struct wl_json *j) { wl_json_open(j, '['); }
void wl_json_arr_end(struct wl_json *j) { wl_json_close(j, ']'); }

void wl_json_str(struct wl_json *j, const char *s)
{
	wl_json_sep(j);
	if (s)
		wl_json_string_raw(j->f, s);
	else
		fputs("null", j->f);
}

void wl_json_u64(struct wl_json *j, uint64_t v)
{
	wl_json_sep(j);
	fprintf(j->f, "%" PRIu64, v);
}

void wl_json_i64(struct wl_json *j, int64_t v)
{
	wl_json_sep(j);
	fprintf(j->f, "%" PRId64, v);
}

void wl_json_double(struct wl_json *j, double v)
{
	wl_json_sep(j);
	if (isfinite(v))
		fprintf(j->f, "%.6g", v);
	else
		fputs("null", j->f);
}

void wl_json_bool(struct wl_json *j, bool v)
{
	wl_json_sep(j);
	fputs(v ? "true" : "false", j->f);
}

void wl_json_null(struct wl_json *j)
{
	wl_json_sep(j);
	fputs("null", j->f);
}

void wl_json_kstr(struct wl_json *j, const char *key, const char *s)
{
	wl_json_key(j, key);
	wl_json_str(j, s);
}

void wl_json_ku64(struct wl_json *j, const char *key, uint64_t v)
{
	wl_json_key(j, key);
	wl_json_u64(j, v);
}

void wl_json_ki64(struct wl_json *j, const char *key, int64_t v)
{
	wl_json_key(j, key);
	wl_json_i64(j, v);
}

void wl_json_kdouble(struct wl_json *j, const char *key, double v)
{
	wl_json_key(j, key);
	wl_json_double(j, v);
}

void wl_json_kbool(struct wl_json *j, const char *key, bool v)
{
	wl_json_key(j, key);
	wl_json_bool(j, v);
}

/* A pair on one line: "key": [a, f]. */
void wl_json_kpair(struct wl_json *j, const char *key, const uint64_t v[2])
{
	wl_json_key(j, key);
	wl_json_sep(j);
	fprintf(j->f, "[%" PRIu64 ", %" PRIu64 "]", v[0], v[1]);
}

void wl_json_common_params(struct wl_json *j, const struct wl_opts *o)
{
	wl_json_ku64(j, "threads", o->threads);
	wl_json_key(j, "duration_s");
	if (o->ops)
		wl_json_null(j);
	else
		wl_json_double(j, o->duration_s);
	wl_json_key(j, "ops_per_thread");
	if (o->ops)
		wl_json_u64(j, o->ops);
	else
		wl_json_null(j);
	wl_json_ku64(j, "objsize", o->objsize);
	wl_json_ku64(j, "seed", o->seed);
	wl_json_key(j, "ncpus");
	if (o->ncpus)
		wl_json_u64(j, o->ncpus);
	else
		wl_json_null(j);
	wl_json_kstr(j, "pcc_map", o->pcc_map);
	wl_json_kstr(j, "policy", o->policy);
	wl_json_key(j, "threshold");
	if (o->threshold_set)
		wl_json_u64(j, o->threshold);
	else
		wl_json_null(j);
	wl_json_key(j, "timeout_ns");
	if (o->timeout_set)
		wl_json_u64(j, o->timeout_ns);
	else
		wl_json_null(j);
	wl_json_kbool(j, "pin", o->pin);
	wl_json_kdouble(j, "warmup_s", o->warmup_s);
}

static void wl_pair_sub(uint64_t out[2], const uint64_t a[2],
			const uint64_t b[2])
{
	out[0] = a[0] - b[0];
	out[1] = a[1] - b[1];
}

void wl_json_cache(struct wl_json *j, struct kmem_cache *kc,
		   const struct kmem_cache_stats *warm, double warm_at_s,
		   double warm_took_s, double end_s, double settled_s)
{
	struct kmem_cache_stats st;
	uint64_t d[2];

	memset(&st, 0, sizeof(st));
	kmem_cache_stats(kc, &st);
	wl_json_obj_begin(j);
	wl_json_kstr(j, "name", kmem_cache_name(kc));
	wl_json_ku64(j, "id", kmem_cache_id(kc));
	wl_json_ku64(j, "obj_size", st.obj_size);
	wl_json_kstr(j, "policy", st.policy);
	wl_json_kstr(j, "pcc_mode", st.pcc_mode);
	wl_json_ku64(j, "resize_threshold", st.resize_threshold);
	wl_json_ku64(j, "resize_timeout_ns", st.resize_timeout_ns);
	wl_json_ku64(j, "nr_pcc", st.nr_pcc);
	wl_json_ku64(j, "magsize", st.magsize);
	wl_json_ku64(j, "magsize_up", st.magsize_up);
	wl_json_ku64(j, "magsize_down", st.magsize_down);
	if (settled_s >= 0)
		wl_json_kdouble(j, "magsize_settled_s", settled_s);
	wl_json_ku64(j, "pcc_magsize_min", st.pcc_magsize_min);
	wl_json_ku64(j, "pcc_magsize_max", st.pcc_magsize_max);
	wl_json_ku64(j, "depot_contended", st.depot_contended);
	wl_json_ku64(j, "depot_contended_counted", st.depot_contended_counted);
	wl_json_ku64(j, "contention_wait_ns", st.contention_wait_ns);
	wl_json_ku64(j, "contention_wait_max_ns", st.contention_wait_max_ns);
	wl_json_kpair(j, "depot_gets", st.depot_gets);
	wl_json_kpair(j, "depot_puts", st.depot_puts);
	wl_json_kpair(j, "depot_misses", st.depot_misses);
	wl_json_kpair(j, "mag_swaps", st.mag_swaps);
	wl_json_ku64(j, "pcc_hits", st.pcc_hits);
	wl_json_ku64(j, "allocs", st.allocs);
	wl_json_ku64(j, "frees", st.frees);
	wl_json_ku64(j, "live_objs", st.live_objs);
	wl_json_ku64(j, "bytes_in_mags", st.bytes_in_mags);
	wl_json_ku64(j, "objs_in_mags", st.objs_in_mags);
	wl_json_ku64(j, "mags_allocated", st.mags_allocated);
	wl_json_ku64(j, "depot_full", st.depot_full);
	wl_json_ku64(j, "depot_empty", st.depot_empty);
	wl_json_ku64(j, "hash_lists", st.hash_lists);
	wl_json_ku64(j, "hash_items", st.hash_items);
	wl_json_ku64(j, "hash_resizes", st.hash_resizes);
	wl_json_kbool(j, "uses_bufctl", st.uses_bufctl != 0);
	wl_json_ku64(j, "slabs", st.slabs);
	wl_json_ku64(j, "slab_size", st.slab_size);
	wl_json_ku64(j, "objs_per_slab", st.objs_per_slab);
	wl_json_ku64(j, "slab_grows", st.slab_grows);
	wl_json_ku64(j, "slab_releases", st.slab_releases);
	wl_json_ku64(j, "pcc_contended", st.pcc_contended);
	wl_json_ku64(j, "pcc_aborts", st.pcc_aborts);
	wl_json_ku64(j, "reaps", st.reaps);
	wl_json_ku64(j, "debug_errors", st.debug_errors);
	if (warm) {
		wl_json_key(j, "after_warmup");
		wl_json_obj_begin(j);
		wl_json_kdouble(j, "from_s", warm_at_s);
		wl_json_kdouble(j, "snapshot_s", warm_took_s);
		wl_json_kdouble(j, "seconds", end_s - warm_at_s);
		wl_json_ku64(j, "allocs", st.allocs - warm->allocs);
		wl_json_ku64(j, "frees", st.frees - warm->frees);
		wl_json_ku64(j, "pcc_hits", st.pcc_hits - warm->pcc_hits);
		wl_pair_sub(d, st.depot_gets, warm->depot_gets);
		wl_json_kpair(j, "depot_gets", d);
		wl_pair_sub(d, st.depot_puts, warm->depot_puts);
		wl_json_kpair(j, "depot_puts", d);
		wl_pair_sub(d, st.depot_misses, warm->depot_misses);
		wl_json_kpair(j, "depot_misses", d);
		wl_pair_sub(d, st.mag_swaps, warm->mag_swaps);
		wl_json_kpair(j, "mag_swaps", d);
		wl_json_ku64(j, "depot_contended",
			     st.depot_contended - warm->depot_contended);
		wl_json_ku64(j, "magsize_up", st.magsize_up - warm->magsize_up);
		wl_json_ku64(j, "magsize_down",
			     st.magsize_down - warm->magsize_down);
		wl_json_ku64(j, "magsize_at_warmup", warm->magsize);
		wl_json_obj_end(j);
	}
	wl_json_obj_end(j);
}

void wl_json_arena(struct wl_json *j, struct arena *a)
{
	struct arena_stats st;

	memset(&st, 0, sizeof(st));
	arena_stats(a, &st);
	wl_json_obj_begin(j);
	wl_json_kstr(j, "name", arena_name(a));
	wl_json_ku64(j, "id", arena_id(a));
	wl_json_ku64(j, "quantum", st.quantum);
	wl_json_ku64(j, "total", st.total);
	wl_json_ku64(j, "allocated", st.allocated);
	wl_json_ku64(j, "free", st.free);
	wl_json_ku64(j, "imported", st.imported);
	wl_json_ku64(j, "nr_spans", st.nr_spans);
	wl_json_ku64(j, "nr_segments", st.nr_segments);
	wl_json_ku64(j, "nr_alloc_segments", st.nr_alloc_segments);
	wl_json_ku64(j, "nr_free_segments", st.nr_free_segments);
	wl_json_ku64(j, "hash_lists", st.hash_lists);
	wl_json_ku64(j, "hash_items", st.hash_items);
	wl_json_ku64(j, "hash_resizes", st.hash_resizes);
	wl_json_ku64(j, "nr_allocs_ever", st.nr_allocs_ever);
	wl_json_ku64(j, "nr_frees_ever", st.nr_frees_ever);
	wl_json_ku64(j, "nr_imports", st.nr_imports);
	wl_json_ku64(j, "nr_releases", st.nr_releases);
	wl_json_ku64(j, "nr_failures", st.nr_failures);
	wl_json_ku64(j, "nr_tags", st.nr_tags);
	wl_json_obj_end(j);
}

int wl_report(struct wl_run *run, const char *workload,
	      wl_json_fn extra_params, wl_json_fn extra, void *arg)
{
	const struct wl_opts *o = run->opts;
	struct wl_json j;
	char *buf = NULL;
	size_t len = 0;
	FILE *mem, *out;
	double mops = run->seconds > 0 ? (double)run->ops / run->seconds / 1e6
				       : 0.0;
	unsigned int magsize = 0;
	uint64_t dgets = 0, dcont = 0;
	int ret = 0;

	/* Built in memory first: whatever goes wrong, no half object. */
	mem = open_memstream(&buf, &len);
	if (!mem)
		return wl_error(o, "open_memstream: %s", strerror(errno));
	wl_json_init(&j, mem);
	wl_json_obj_begin(&j);
	wl_json_kstr(&j, "workload", workload);
	wl_json_key(&j, "params");
	wl_json_obj_begin(&j);
	wl_json_common_params(&j, o);
	if (extra_params)
		extra_params(&j, arg);
	wl_json_obj_end(&j);
	wl_json_ku64(&j, "ops", run->ops);
	wl_json_kdouble(&j, "seconds", run->seconds);
	wl_json_kdouble(&j, "mops", mops);
	wl_json_ku64(&j, "threads_max", run->max_threads);
	wl_json_kbool(&j, "failed", run->failed != 0);
	wl_json_kstr(&j, "failure", !run->failed ? NULL : run->why[0] ? run->why
				      : "a thread could not be created");
	wl_json_key(&j, "caches");
	wl_json_arr_begin(&j);
	for (unsigned int k = 0; k < run->ncaches; k++) {
		struct kmem_cache_stats st;
		double settled = -1;

		if (kmem_cache_stats(run->caches[k], &st) == 0)
			settled = wl_settled_s(run, k, &st);
		wl_json_cache(&j, run->caches[k],
			      run->have_warm ? &run->warm[k] : NULL,
			      run->warm_at_s, run->warm_took_s, run->seconds,
			      settled);
		if (kmem_cache_stats(run->caches[k], &st) == 0) {
			if (st.magsize > magsize)
				magsize = st.magsize;
			dgets += st.depot_gets[0] + st.depot_gets[1];
			dcont += st.depot_contended;
		}
	}
	wl_json_arr_end(&j);
	if (extra)
		extra(&j, arg);
	wl_json_obj_end(&j);
	fputc('\n', mem);
	if (fclose(mem) != 0 || !buf) {
		free(buf);
		return wl_error(o, "cannot build the JSON result");
	}

	if (o->json_path && strcmp(o->json_path, "-") != 0) {
		out = fopen(o->json_path, "w");
		if (!out) {
			ret = wl_error(o, "--json %s: %s", o->json_path,
				       strerror(errno));
			out = NULL;
		}
	} else {
		out = stdout;
	}
	if (out) {
		if (fwrite(buf, 1, len, out) != len || fflush(out) != 0)
			ret = wl_error(o, "writing the JSON result: %s",
				       strerror(errno));
		if (out != stdout && fclose(out) != 0)
			ret = wl_error(o, "--json %s: %s", o->json_path,
				       strerror(errno));
	}
	free(buf);

	fprintf(stderr, "%s: %" PRIu64 " ops in %.3f s = %.2f Mops/s, %u "
		"thread(s) max, %u cache(s), max magsize %u, depot gets %"
		PRIu64 ", depot contended %" PRIu64 "%s\n",
		o->cmd, run->ops, run->seconds, mops, run->max_threads,
		run->ncaches, magsize, dgets, dcont,
		run->failed ? " (FAILED)" : "");
	if (run->failed)
		fprintf(stderr, "%s: FAILED: %s\n", o->cmd,
			run->why[0] ? run->why : "a thread could not be created");
	return ret;
}
