/*
 * workloads/workload.h — the framework every magslab-workload subcommand is built on, one
 * section per file that implements it:
 *
 *   opts.c      the common options and the command line (getopt_long), number parsers,
 *               the common help block
 *   workload.c  messages, applying the options to the library and to caches, timing, the
 *               per-thread seeded RNG, pinning
 *   run.c       the thread runner: start together, stop rule, warm-up snapshot, a watch on
 *               each cache's magsize, samples, progress lines, failures
 *   json.c      the JSON result (jansson): common parameters, every kmem_cache_stats() and
 *               arena_stats() field (from the library's field tables, magslab/
 *               stats_fields.h), the summary line
 *
 * A subcommand's life, in order:
 *
 *   struct wl_opts o;
 *   wl_opts_init(&o, "pair");        defaults; o.cmd names it in messages
 *   r = wl_parse_args(argc, argv, &o, &cmdline);   own options from a table
 *           r > 0: --help was printed, exit 0; r < 0: error printed, exit 2
 *   wl_apply_opts(&o);                        before any cache exists
 *   kc = wl_cache_create(&o, "wl-pair", o.objsize, 0);   create + wl_cache_tune
 *   struct wl_run run; wl_run_init(&run, &o); wl_run_add_cache(&run, kc);
 *   wl_run_threads(&run, o.threads, fn, shared);   fn(struct wl_thread *)
 *   wl_report(&run, "pair", extra_params, extra, arg);  JSON to stdout/--json
 *   ... free everything, kmem_cache_destroy(kc) ...
 *
 * Operations: one allocation or one free is one operation (a pair is two).
 * --ops N is per thread; a thread stops at the first pattern boundary at or
 * after N.  --duration S is wall time; the default is --duration 1.
 *
 * Exit status of the program: 0 success, 1 the run failed (allocation
 * failure, library error), 2 bad usage.
 *
 * Who calls whom: main.c calls the subcommands (wl_*_main); they call this framework and
 * the library (magslab/magslab.h); replay's CTF reader also calls the trace-reading library
 * (tracelib/graph.h).  The framework calls the library and jansson, never a subcommand.
 */
#ifndef MAGSLAB_WORKLOAD_H
#define MAGSLAB_WORKLOAD_H

#include <magslab/magslab.h>

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- common options (opts.c) -------------------------------------------- */

struct wl_opts {
	const char *cmd;          /* "magslab-workload pair": message prefix */
	unsigned int threads;     /* --threads N (default 2) */
	double duration_s;        /* --duration S (default 1; 0 with --ops) */
	uint64_t ops;             /* --ops N per thread (0: run for duration) */
	size_t objsize;           /* --objsize BYTES (default 64) */
	uint64_t seed;            /* --seed N (default 1) */
	unsigned int ncpus;       /* --ncpus N pcc slots (0: library default) */
	const char *pcc_map;      /* --pcc-map cpu|thread (NULL: default) */
	const char *policy;       /* --policy NAME (NULL: default) */
	uint64_t threshold;       /* --threshold N, when threshold_set */
	bool threshold_set;
	uint64_t timeout_ns;      /* --timeout-ns NS, when timeout_set */
	bool timeout_set;
	bool pin;                 /* --pin: thread i on allowed CPU i mod n */
	const char *json_path;    /* --json FILE (NULL or "-": stdout) */
	bool check_only;          /* --check-options: wl_apply_opts() exits 0 */
	bool quiet;               /* --quiet: no progress lines */
	bool duration_set;        /* --duration was given */
	bool objsize_set;         /* --objsize was given */
	double warmup_s;          /* --warmup S: stats snapshot (default 0.25 s;
	                           * duration mode, capped at duration / 4) */
};

/* Defaults; name is the subcommand ("pair"), used for o->cmd. */
void wl_opts_init(struct wl_opts *o, const char *name);

/* One option of a subcommand's own: "--batch" (the name as the user writes it). */
struct wl_opt {
	const char *name;
	bool has_value;
};

/*
 * Called for each of the subcommand's own options given: opt is its table name ("--batch"),
 * val its value (NULL for a flag).  Returns 0, or -1 after printing a one-line error.
 */
typedef int (*wl_opt_fn)(struct wl_opts *o, const char *opt, const char *val, void *ctx);

/* Called for each argument that is not an option (replay's FILE); 0, or -1 (printed). */
typedef int (*wl_arg_fn)(struct wl_opts *o, const char *arg, void *ctx);

/* A subcommand's command line beyond the common options. */
struct wl_cmdline {
	const struct wl_opt *opts;  /* its own options, ended by { NULL }; NULL: none */
	wl_opt_fn opt;              /* called for each of them */
	wl_arg_fn arg;              /* NULL: no other arguments ("unexpected argument") */
	void *ctx;                  /* for opt and arg */
	void (*help)(FILE *f);      /* --help, -h: its help, then exit 0 */
};

/*
 * The whole command line of a subcommand (argv[0] is its name), with getopt_long, in the
 * order given: --help/-h prints cl->help(stdout) and returns 1 at once; the common options
 * set o; the subcommand's own go to cl->opt; other arguments to cl->arg.  "--opt VALUE" and
 * "--opt=VALUE" both work; options are not abbreviated and short ones (-h, -q) not
 * bundled.  Returns 0 to go on, 1 after --help (exit 0), -1 after a one-line error on
 * stderr (exit 2): "unknown option '--x' (try --help)", "unexpected argument 'x' (try
 * --help)", "--threads needs a value (try --help)", or the value's own.
 */
int wl_parse_args(int argc, char **argv, struct wl_opts *o, const struct wl_cmdline *cl);

/* Number parsers: 0, or -1 after "CMD: OPT: 'S' is not ..." on stderr.
 * Sizes accept a k/K, m/M or g/G suffix (powers of 1024). */
int wl_parse_u64(const struct wl_opts *o, const char *opt, const char *s,
		 uint64_t *out);
int wl_parse_uint(const struct wl_opts *o, const char *opt, const char *s,
		  unsigned int *out);
int wl_parse_size(const struct wl_opts *o, const char *opt, const char *s,
		  size_t *out);
int wl_parse_double(const struct wl_opts *o, const char *opt, const char *s,
		    double *out);
/* Duration: seconds, or with a unit suffix ns, us, ms, s, m ("250ms"); at
 * most WL_SECONDS_MAX (refused beyond: deadlines are uint64_t ns). */
#define WL_SECONDS_MAX 1e9
int wl_parse_seconds(const struct wl_opts *o, const char *opt, const char *s,
		     double *out);
/* A count that must be at least 1: wl_parse_uint, then "OPT: must be more than 0". */
int wl_parse_count(const struct wl_opts *o, const char *opt, const char *s,
		   unsigned int *out);
/* One of names[0..n): its index into *out, or "OPT: 'S' is not A, B or C". */
int wl_parse_choice(const struct wl_opts *o, const char *opt, const char *s,
		    const char *const *names, unsigned int n, unsigned int *out);

/* Prints the common options' help block (for each subcommand's --help). */
void wl_usage_common(FILE *f);

/* ---- messages, the library, timing, RNG, pinning (workload.c) ------------ */

/* One-line error "CMD: message" on stderr (printf-style); returns -1. */
int wl_error(const struct wl_opts *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Unknown option / stray argument: the standard error line, returns -1. */
int wl_bad_arg(const struct wl_opts *o, const char *arg);

/* Progress line "CMD: message" on stderr unless --quiet (printf-style). */
void wl_progress(const struct wl_opts *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Process-wide settings, before any cache is created: ncpus, pcc_map, and
 * the affinity mask that --pin distributes threads over.  Returns 0, or -1
 * (reported) if the library refused a value.  With --check-options it exits 0
 * here instead (every option is valid, nothing runs). */
int wl_apply_opts(const struct wl_opts *o);

/* The cache's policy, threshold and timeout from the options (only those
 * given).  Returns 0, or -1 (reported by the library). */
int wl_cache_tune(struct kmem_cache *kc, const struct wl_opts *o);

/* kmem_cache_create(name, size, 0, flags, NULL...) + wl_cache_tune();
 * NULL after an error line (the library's, or ours). */
struct kmem_cache *wl_cache_create(const struct wl_opts *o, const char *name,
				   size_t size, int flags);

uint64_t wl_now_ns(void);            /* CLOCK_MONOTONIC */
double wl_now(void);                 /* the same, in seconds */
void wl_sleep_ns(uint64_t ns);

/* splitmix64 seeding a xoshiro256** generator: the same (seed, index)
 * always gives the same sequence, whatever the timing. */
struct wl_rng {
	uint64_t s[4];
};

void wl_rng_seed(struct wl_rng *r, uint64_t seed, unsigned int index);

static inline uint64_t wl_rotl64(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t wl_rng_next(struct wl_rng *r)
{
	uint64_t *s = r->s;
	uint64_t result = wl_rotl64(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = wl_rotl64(s[3], 45);
	return result;
}

/* Uniform in [0, n) (n > 0; Lemire's multiply-shift, bias < 2^-32 for the
 * n this program uses). */
static inline uint64_t wl_rng_below(struct wl_rng *r, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)wl_rng_next(r) * n) >> 64);
}

/* Uniform in [0, 1). */
static inline double wl_rng_unit(struct wl_rng *r)
{
	return (double)(wl_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Shuffles objs[0..n) with r (Fisher-Yates). */
void wl_shuffle(struct wl_rng *r, void **objs, unsigned int n);

/* Pins the calling thread to the (index mod n)-th of the n CPUs the process
 * was allowed at wl_apply_opts() time.  Returns the CPU, or -1 (errno). */
int wl_pin_thread(unsigned int index);
/* How many CPUs the process was allowed at wl_apply_opts() time. */
unsigned int wl_allowed_cpus(void);

/* ---- running threads (run.c) ------------------------------------------------ */

#define WL_MAX_CACHES 64

struct wl_run;

struct wl_thread {
	unsigned int index;          /* 0 .. n-1 within this wl_run_threads() */
	struct wl_run *run;
	const struct wl_opts *opts;
	void *arg;                   /* the shared argument */
	struct wl_rng rng;           /* seeded from (opts->seed, index) */
	_Atomic uint64_t ops;        /* updated by the thread (wl_count) */
	uint64_t op_limit;           /* --ops, or 0 */
	int failed;                  /* set non-zero by fn on failure */
	int cpu;                     /* pinned CPU, or -1 */
	pthread_t tid;
};

struct wl_run {
	const struct wl_opts *opts;
	struct kmem_cache *caches[WL_MAX_CACHES];
	unsigned int ncaches;
	struct kmem_cache_stats warm[WL_MAX_CACHES];  /* snapshot at warm-up */
	bool have_warm;
	double warm_at_s;            /* when, from the start of the run */
	double warm_took_s;          /* how long taking it took */
	/* Optional: called every sample_every_s while threads run, from the
	 * monitor thread (never from a worker: kmem_cache_stats() takes every
	 * pcc lock and may wait long for them under load). */
	void (*sample)(struct wl_run *run, void *arg);
	void *sample_arg;
	double sample_every_s;
	double duration_s;           /* this run's duration (0: ops mode) */
	_Atomic bool stop;           /* the duration is over, or a failure */
	uint64_t ops;                /* total, over every wl_run_threads() */
	double seconds;              /* total wall time of them */
	unsigned int max_threads;    /* the most threads of any run */
	int failed;                  /* some thread failed */
	_Atomic int why_set;         /* why[] holds the first failure's cause */
	char why[256];               /* "thread N: WHAT: strerror(errno)" */
	const char *label;           /* progress line label (NULL: "running") */
	/* Each cache's depot magsize as the monitor watches it (every
	 * WL_WATCH_EVERY_NS while threads run): the resize count
	 * (magsize_up + magsize_down) last seen and when it last changed, in
	 * seconds on the run's clock (as warm_at_s); 0: never.  Caches are
	 * fresh when added (no resize yet).  magsize_settled_s in the JSON. */
	uint64_t watch_resizes[WL_MAX_CACHES];
	double watch_changed_s[WL_MAX_CACHES];
};

/* How often the monitor looks at the caches' magsize: the resolution of
 * magsize_settled_s. */
#define WL_WATCH_EVERY_NS 10000000u

void wl_run_init(struct wl_run *run, const struct wl_opts *o);
/* Caches that the report lists (and the warm-up snapshot takes). */
void wl_run_add_cache(struct wl_run *run, struct kmem_cache *kc);

/* Runs fn in n threads (pinned with --pin), started together; returns when
 * every one has returned.  A monitor thread takes the warm-up snapshot,
 * watches the magsizes (watch_*) and calls run->sample; the calling thread only keeps time (so a slow stats
 * call never delays the end of the run).  Threads ask wl_stopping()
 * whether to go on: in duration mode it becomes true after
 * run->duration_s (which wl_run_init sets from --duration and a caller may
 * change between calls, e.g. per phase); in ops mode when the thread has
 * counted op_limit ops.
 * Prints a progress line a second to stderr unless --quiet.  Adds the ops
 * and the wall time (first start to last end) to run->ops/seconds.
 * Returns 0, or -1 if a thread set failed or could not be created. */
typedef void (*wl_thread_fn)(struct wl_thread *t);
int wl_run_threads(struct wl_run *run, unsigned int n, wl_thread_fn fn,
		   void *arg);

static inline void wl_count(struct wl_thread *t, uint64_t n)
{
	atomic_store_explicit(&t->ops,
			      atomic_load_explicit(&t->ops,
						   memory_order_relaxed) + n,
			      memory_order_relaxed);
}

static inline bool wl_stopping(struct wl_thread *t)
{
	if (t->op_limit)
		return atomic_load_explicit(&t->ops, memory_order_relaxed) >=
		       t->op_limit ||
		       atomic_load_explicit(&t->run->stop,
					    memory_order_relaxed);
	return atomic_load_explicit(&t->run->stop, memory_order_relaxed);
}

/* A thread's failure: marks it, notes the cause (the first of the run is kept: what
 * failed, and errno as it is now, e.g. ENOMEM from kmem_cache_alloc), and stops every
 * thread of the run.  The summary line and the JSON ("failure") say the cause. */
void wl_fail(struct wl_thread *t, const char *what);

/* Takes the warm-up snapshot of every cache now (wl_run_threads' monitor
 * does it at opts->warmup_s; a caller that runs without it may call this). */
void wl_run_snapshot(struct wl_run *run, double at_s);

/* When cache k's magsize last changed (magsize_settled_s), given its stats now. */
double wl_run_settled_s(const struct wl_run *run, unsigned int k,
			const struct kmem_cache_stats *st);

/* ---- JSON (json.c) ------------------------------------------------------- */

/*
 * The result is built as a jansson object and written at the end (wl_report), so that
 * nothing is half-written.  Members are added with the helpers below, which end the
 * program (exit 1, "out of memory") if jansson cannot allocate: a result with keys
 * silently missing would be worse.  Integers are uint64_t: above INT64_MAX (jansson's
 * limit) they are still written exactly (json.c says how).  Doubles that are not finite
 * are written as null; every double is written with 6 significant digits.
 */
void wl_jset(json_t *obj, const char *key, json_t *v);  /* takes v */
void wl_jset_u64(json_t *obj, const char *key, uint64_t v);
void wl_jset_double(json_t *obj, const char *key, double v);
void wl_jset_str(json_t *obj, const char *key, const char *s);  /* NULL: null */
void wl_jset_bool(json_t *obj, const char *key, bool v);
void wl_jset_pair(json_t *obj, const char *key, const uint64_t v[2]);  /* [a, f] */
void wl_jset_null(json_t *obj, const char *key);
json_t *wl_jobject(void);
json_t *wl_jarray(void);
void wl_jappend(json_t *arr, json_t *v);                 /* takes v */

/* One cache as a JSON object.  Keys, in order: name, id, obj_size, policy, pcc_mode,
 * resize_threshold, resize_timeout_ns, nr_pcc, magsize, magsize_up, magsize_down,
 * magsize_settled_s (when the magsize last changed, seconds from the start of the run, to
 * WL_WATCH_EVERY_NS; 0: never; negative settled_s: key left out), pcc_magsize_min,
 * pcc_magsize_max, depot_contended, depot_contended_counted, contention_wait_ns,
 * contention_wait_max_ns, depot_gets, depot_puts, depot_misses, mag_swaps ([alloc, free]
 * each), pcc_hits, allocs, frees, live_objs, bytes_in_mags, objs_in_mags,
 * mags_allocated, depot_full, depot_empty, hash_lists, hash_items, hash_resizes,
 * uses_bufctl (a boolean), slabs, slab_size, objs_per_slab, slab_grows, slab_releases,
 * pcc_contended, pcc_aborts, reaps, debug_errors; given a warm-up snapshot,
 * "after_warmup": {from_s, snapshot_s (how long taking it took), seconds, allocs, frees,
 * pcc_hits, depot_gets, depot_puts, depot_misses, mag_swaps, depot_contended,
 * magsize_up, magsize_down, magsize_at_warmup} counted from the snapshot on; then every
 * other field of struct kmem_cache_stats (slabs_full, slabs_partial, slabs_empty,
 * objs_in_slabs, objs_free_in_slabs, pcc_wait_ns, ctor_failures, align, pcc_mode_why...),
 * in the library's order (magslab_cache_stats_fields()). */
json_t *wl_json_cache(struct kmem_cache *kc, const struct kmem_cache_stats *warm,
		      double warm_at_s, double warm_took_s, double end_s,
		      double settled_s);

/* Arena stats as a JSON object: name, id, then every field of struct arena_stats (the
 * ones written before the field tables first, in their old order: quantum ... nr_tags). */
json_t *wl_json_arena(struct arena *a);

/* The whole result object, and the one-line summary on stderr:
 *   {"workload": W, "params": {common..., extra_params()...},
 *    "ops": N, "seconds": S, "mops": M, "threads_max": T, "failed": B, "failure": F,
 *    "caches": [wl_json_cache()...], extra()...}
 * extra_params adds members to "params", extra adds top-level members (either may be
 * NULL).  The object goes to --json FILE if given, else stdout.  Returns 0, or -1 if it
 * could not be written (reported). */
typedef void (*wl_json_fn)(json_t *obj, void *arg);
int wl_report(struct wl_run *run, const char *workload,
	      wl_json_fn extra_params, wl_json_fn extra, void *arg);

/* ---- subcommands ------------------------------------------------------ */

/* Each subcommand: argv[0] is its name; returns the exit status. */
int wl_pair_main(int argc, char **argv);
int wl_batch_main(int argc, char **argv);
int wl_prodcons_main(int argc, char **argv);
int wl_phases_main(int argc, char **argv);
int wl_sizes_main(int argc, char **argv);
int wl_large_main(int argc, char **argv);
int wl_arena_main(int argc, char **argv);
int wl_replay_main(int argc, char **argv);   /* replay.c */
int wl_synthetic_main(int argc, char **argv);        /* synthetic.c */

#endif /* MAGSLAB_WORKLOAD_H */
