/*
 * workloads/run.c — the thread runner of magslab-workload (workload.h, "running threads"):
 * n worker threads started together, a monitor thread beside them (the warm-up snapshot,
 * the magsize watch, the subcommand's samples), the calling thread keeping time (the
 * deadline and the progress line a second), failures and their cause.
 *
 * Invariants: a stats call (kmem_cache_stats() takes every pcc of the cache) is never made
 * from a worker, and never from the timing thread, so a slow one cannot delay the end of a
 * run; the run's stop flag is the only thing workers read that others write while they
 * run.  Locking: struct wl_start's mutex and condition variable order the start (every
 * worker ready, then go) and the end (done count, last end time); the rest is atomics.
 */
#include "workload.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
double wl_run_settled_s(const struct wl_run *run, unsigned int k,
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

/* Creates the n workers of boxes (they wait for s->go); returns how many were created. */
static unsigned int start_threads(struct wl_run *run, struct wl_start *s,
				  struct wl_thread_box *boxes, unsigned int n, void *arg)
{
	const struct wl_opts *o = run->opts;
	unsigned int created = 0;

	for (unsigned int k = 0; k < n; k++) {
		struct wl_thread *t = &boxes[k].t;
		int err;

		boxes[k].start = s;
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
			break;
		}
		created++;
	}
	return created;
}

/* Waits for the created workers to be ready, then lets them go; the start time. */
static uint64_t go(struct wl_run *run, struct wl_start *s, unsigned int created, bool failed)
{
	pthread_mutex_lock(&s->lock);
	while (s->ready < created)
		pthread_cond_wait(&s->cond, &s->lock);
	if (failed)
		atomic_store(&run->stop, true);
	s->t0_ns = wl_now_ns();
	s->go = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	return s->t0_ns;
}

/*
 * Starts the monitor for a run that started at t0: the warm-up snapshot at --warmup (at
 * most a quarter of the run; in ops mode at --warmup if the threads are still running
 * then; only the first wl_run_threads() of a run takes one), the watch, the samples.
 * Returns whether it runs.
 */
static bool start_monitor(struct wl_run *run, struct wl_monitor *mon, uint64_t t0)
{
	double warm_s = run->opts->warmup_s;
	bool want_warm = !run->have_warm && run->ncaches > 0;

	if (run->duration_s > 0 && warm_s > run->duration_s / 4)
		warm_s = run->duration_s / 4;
	mon->run = run;
	mon->t0_ns = t0;
	mon->warm_ns = want_warm ? t0 + (uint64_t)(warm_s * 1e9) : 0;
	atomic_init(&mon->quit, false);
	return (want_warm || run->sample || run->ncaches > 0) &&
	       pthread_create(&mon->tid, NULL, wl_monitor_main, mon) == 0;
}

/* The timing thread's part: the deadline and a progress line a second, until all done. */
static void keep_time(struct wl_run *run, struct wl_start *s, struct wl_thread_box *boxes,
		      unsigned int created, uint64_t t0)
{
	const char *label = run->label ? run->label : "running";
	uint64_t deadline = run->duration_s > 0 ? t0 + (uint64_t)(run->duration_s * 1e9) : 0;
	uint64_t next_progress = t0 + 1000000000u;

	for (;;) {
		uint64_t until = next_progress, now, ops;
		bool all_done;

		if (deadline && deadline < until)
			until = deadline;
		wl_wait_until(s, created, until);
		now = wl_now_ns();
		pthread_mutex_lock(&s->lock);
		all_done = s->done >= created;
		pthread_mutex_unlock(&s->lock);
		if (all_done)
			return;
		if (deadline && now >= deadline) {
			atomic_store(&run->stop, true);
			deadline = 0;
		}
		if (now >= next_progress) {
			double el = (double)(now - t0) * 1e-9;

			ops = wl_sum_ops(boxes, created);
			wl_progress(run->opts, "%s: %.1f s, %" PRIu64 " ops, %.2f Mops/s",
				    label, el, ops, (double)ops / el / 1e6);
			next_progress += 1000000000u;
		}
	}
}

/* Joins the workers; -1 if one failed. */
static int join_threads(struct wl_thread_box *boxes, unsigned int created)
{
	int ret = 0;

	for (unsigned int k = 0; k < created; k++) {
		pthread_join(boxes[k].t.tid, NULL);
		if (boxes[k].t.failed)
			ret = -1;
	}
	return ret;
}

int wl_run_threads(struct wl_run *run, unsigned int n, wl_thread_fn fn, void *arg)
{
	struct wl_start s = { .fn = fn };
	struct wl_thread_box *boxes;
	struct wl_monitor mon;
	unsigned int created;
	bool have_mon;
	uint64_t t0;
	int ret;

	if (n == 0)
		return 0;
	boxes = calloc(n, sizeof(*boxes));
	if (!boxes)
		return wl_error(run->opts, "out of memory");
	pthread_mutex_init(&s.lock, NULL);
	pthread_cond_init(&s.cond, NULL);
	atomic_store(&run->stop, false);

	created = start_threads(run, &s, boxes, n, arg);
	ret = created < n ? -1 : 0;
	t0 = go(run, &s, created, ret != 0);
	have_mon = start_monitor(run, &mon, t0);
	keep_time(run, &s, boxes, created, t0);
	atomic_store(&run->stop, true);
	if (join_threads(boxes, created) != 0)
		ret = -1;
	if (have_mon) {
		atomic_store(&mon.quit, true);
		pthread_join(mon.tid, NULL);
	}

	run->ops += wl_sum_ops(boxes, created);
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
