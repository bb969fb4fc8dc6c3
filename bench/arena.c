/*
 * bench/arena.c — arena alloc/free throughput with many live segments.
 *
 * For each mode (fit policy, arena_alloc or arena_xalloc with align 64) one
 * repetition runs in a child process, on a fresh arena over a large range of
 * integers (never touched: an arena only manages numbers):
 *
 *   floor   in the still empty arena, --floor times: allocate one segment
 *           and free it again (the cheapest an alloc+free pair can be);
 *   fill    allocate 2 * --live segments of 1..64 quanta (quantum 16);
 *   halve   free a random half of them: --live stay, and the free lists
 *           hold the holes between them;
 *   steady  --ops times: free a random live segment, allocate a new one of
 *           a random size in its place (--live stay live throughout);
 *   check   arena_stats() and arena_check() (not timed; a failed check
 *           fails the whole run).
 *
 * Every mode sees exactly the same requests: the sizes, the half to free and
 * the steady-state script are drawn once from --seed before any mode runs.
 * The repetitions are interleaved (rep 1 of every mode, then rep 2, ...) so
 * that a noisy neighbour on a shared machine hurts every mode alike, and the
 * report gives the median steady-state time of each mode and its ratio to
 * instant fit measured in the same run.  Each timed phase stops early when it
 * has run --max-seconds (the result then says how many operations it did):
 * some modes are orders of magnitude slower than others with a million live
 * segments, and a run must still end in minutes.
 *
 * Peak RSS is the child's ru_maxrss (from wait4), so it is per mode; it
 * includes the request script the child inherits from the parent.
 */
#include <magslab/magslab.h>

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "median.h"
#include "rng.h"

#define QUANTUM      16ul
#define MAX_QUANTA   64u                /* sizes are 1..MAX_QUANTA quanta */
#define XALIGN       64ul               /* alignment of the xalloc modes */
#define RANGE_BASE   ((uintptr_t)1 << 20)
#define RANGE_SIZE   ((size_t)64 << 30) /* 64 GiB of integers */
#define CHECK_EVERY  16u                /* ops between clock reads (a slow
					 * mode must not overshoot the cap) */
#define PROGRESS_NS  2000000000ull      /* progress line at most this often */

struct mode {
	const char *key;                /* for --modes */
	const char *name;
	int fit;
	bool xalloc;
};

static const struct mode modes[] = {
	{ "instant",  "alloc, instant fit",         ARENA_INSTANTFIT, false },
	{ "best",     "alloc, best fit",            ARENA_BESTFIT,    false },
	{ "next",     "alloc, next fit",            ARENA_NEXTFIT,    false },
	{ "xinstant", "xalloc align 64, instant fit", ARENA_INSTANTFIT, true },
	{ "xbest",    "xalloc align 64, best fit",  ARENA_BESTFIT,    true },
};
#define NR_MODES (sizeof(modes) / sizeof(modes[0]))

struct opts {
	size_t live;
	size_t ops;
	size_t reps;
	size_t floor_ops;
	uint64_t seed;
	double max_seconds;
	unsigned int mode_mask;
};

/* The requests, drawn once from the seed and shared by every mode. */
struct script {
	uint8_t *fill_quanta;           /* 2 * live sizes, in quanta */
	uint32_t *perm;                 /* 2 * live: keep perm[0..live) */
	uint32_t *steady_idx;           /* ops: which live slot to replace */
	uint8_t *steady_quanta;         /* ops: the new size, in quanta */
};

enum status { RES_OK, RES_FILL_CAPPED, RES_ERROR };

/* What a child sends back through its pipe. */
struct result {
	int status;
	double floor_ns;                /* per alloc+free pair */
	double fill_ns;                 /* per alloc */
	double halve_ns;                /* per free */
	double steady_ns;               /* per free+alloc pair */
	double tail_ns;                 /* the same over the last quarter */
	size_t fill_done;
	size_t steady_done;
	double steady_s;
	double check_s;
	struct arena_stats st;
	long maxrss_kib;                /* filled in by the parent */
	char err[200];
};

struct slot {
	void *addr;
	size_t size;
};

static const char *prog = "bench-arena";

/* ---------------------------------------------------------------------- */
/* Helpers                                                                 */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Uniform in [0, n) (n small compared with 2^64: the bias is negligible). */
static uint64_t rng_below(uint64_t *s, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)bench_rng_next(s) * n) >> 64);
}

static void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p) {
		fprintf(stderr, "%s: out of memory (%zu bytes)\n", prog, n);
		exit(1);
	}
	return p;
}

/* ---------------------------------------------------------------------- */
/* The child: one repetition of one mode                                   */

static void *do_alloc(struct arena *a, const struct mode *m, size_t size)
{
	if (m->xalloc)
		return arena_xalloc(a, size, XALIGN, 0, 0, NULL, NULL,
				    MEM_ATOMIC | m->fit);
	return arena_alloc(a, size, MEM_ATOMIC | m->fit);
}

static int do_free(struct arena *a, const struct mode *m, void *p,
		   size_t size)
{
	return m->xalloc ? arena_xfree(a, p, size) : arena_free(a, p, size);
}

/* Deadline and progress for one timed phase. */
struct phase {
	const char *what;
	size_t total;
	uint64_t start, deadline, last_progress;
	uint64_t *stamps;               /* time at op k * CHECK_EVERY */
	size_t nr_stamps;
};

static void phase_start(struct phase *ph, const char *what, size_t total,
			double max_seconds)
{
	ph->what = what;
	ph->total = total;
	ph->start = now_ns();
	ph->deadline = ph->start + (uint64_t)(max_seconds * 1e9);
	ph->last_progress = ph->start;
	ph->stamps = NULL;
	ph->nr_stamps = 0;
}

/* Called every CHECK_EVERY operations; true when time is up. */
static bool phase_over(struct phase *ph, size_t done)
{
	uint64_t t = now_ns();

	if (ph->stamps)
		ph->stamps[ph->nr_stamps++] = t;

	if (t - ph->last_progress >= PROGRESS_NS) {
		fprintf(stderr, "      %s: %zu / %zu after %.1f s\n", ph->what,
			done, ph->total, (double)(t - ph->start) / 1e9);
		ph->last_progress = t;
	}
	return t >= ph->deadline;
}

#define FAIL(res, ...) do {                                                 \
	snprintf((res)->err, sizeof((res)->err), __VA_ARGS__);               \
	(res)->status = RES_ERROR;                                           \
	return;                                                              \
} while (0)

/* Floor: one segment at a time in the empty arena. */
static void phase_floor(struct arena *a, const struct mode *m,
			const struct opts *o, const struct script *sc,
			struct result *res)
{
	size_t nfill = 2 * o->live;
	uint64_t t0 = now_ns();

	for (size_t i = 0; i < o->floor_ops; i++) {
		size_t size = sc->fill_quanta[i % nfill] * QUANTUM;
		void *p = do_alloc(a, m, size);

		if (!p || do_free(a, m, p, size))
			FAIL(res, "floor op %zu: %s", i, p ? magslab_last_error()
							: "allocation failed");
	}
	res->floor_ns = o->floor_ops ?
		(double)(now_ns() - t0) / (double)o->floor_ops : 0;
}

/* Fill: 2 * live segments into all[] (res->fill_done of them). */
static void phase_fill(struct arena *a, const struct mode *m,
		       const struct opts *o, const struct script *sc,
		       struct result *res, struct slot *all)
{
	size_t nfill = 2 * o->live, i;
	struct phase ph;

	phase_start(&ph, "fill", nfill, o->max_seconds);
	for (i = 0; i < nfill; i++) {
		size_t size = sc->fill_quanta[i] * QUANTUM;

		if (i % CHECK_EVERY == 0 && i && phase_over(&ph, i))
			break;
		all[i].size = size;
		all[i].addr = do_alloc(a, m, size);
		if (!all[i].addr)
			FAIL(res, "fill: allocation %zu of %zu bytes failed (range exhausted?)",
			     i, size);
	}
	res->fill_done = i;
	res->fill_ns = (double)(now_ns() - ph.start) / (double)(i ? i : 1);
	if (i < nfill)
		res->status = RES_FILL_CAPPED;
}

/* Halve: free the segments not in perm[0..live); live[] gets the rest. */
static void phase_halve(struct arena *a, const struct mode *m,
			const struct opts *o, const struct script *sc,
			struct result *res, struct slot *all, struct slot *live)
{
	size_t nfill = 2 * o->live;
	uint64_t t0 = now_ns();

	for (size_t i = o->live; i < nfill; i++) {
		struct slot *s = &all[sc->perm[i]];

		if (do_free(a, m, s->addr, s->size))
			FAIL(res, "halve: free: %s", magslab_last_error());
	}
	res->halve_ns = (double)(now_ns() - t0) / (double)o->live;
	for (size_t i = 0; i < o->live; i++)
		live[i] = all[sc->perm[i]];
}

/* The steady phase's timings; stamp k was taken after k * CHECK_EVERY ops. */
static void steady_times(struct result *res, const struct phase *ph,
			 size_t done, uint64_t end)
{
	size_t k = (done * 3 / 4) / CHECK_EVERY;

	res->steady_done = done;
	res->steady_s = (double)(end - ph->start) / 1e9;
	res->steady_ns = res->steady_s * 1e9 / (double)(done ? done : 1);
	res->tail_ns = done > k * CHECK_EVERY ?
		(double)(end - ph->stamps[k]) / (double)(done - k * CHECK_EVERY) :
		res->steady_ns;
}

/* Steady state: replace a random live segment, ops times. */
static void phase_steady(struct arena *a, const struct mode *m,
			 const struct opts *o, const struct script *sc,
			 struct result *res, struct slot *live)
{
	struct phase ph;
	size_t i;

	phase_start(&ph, "steady", o->ops, o->max_seconds);
	ph.stamps = xmalloc((o->ops / CHECK_EVERY + 2) * sizeof(*ph.stamps));
	ph.stamps[ph.nr_stamps++] = ph.start;
	for (i = 0; i < o->ops; i++) {
		struct slot *s = &live[sc->steady_idx[i]];

		if (i % CHECK_EVERY == 0 && i && phase_over(&ph, i))
			break;
		if (do_free(a, m, s->addr, s->size)) {
			free(ph.stamps);
			FAIL(res, "steady op %zu: free: %s", i,
			     magslab_last_error());
		}
		s->size = sc->steady_quanta[i] * QUANTUM;
		s->addr = do_alloc(a, m, s->size);
		if (!s->addr) {
			free(ph.stamps);
			FAIL(res, "steady op %zu: allocation of %zu bytes failed",
			     i, s->size);
		}
	}
	steady_times(res, &ph, i, now_ns());
	free(ph.stamps);
}

/* Not timed.  The process exits right after: no teardown needed. */
static void phase_check(struct arena *a, struct result *res)
{
	uint64_t t0 = now_ns();

	if (arena_stats(a, &res->st))
		FAIL(res, "arena_stats: %s", magslab_last_error());
	if (arena_check(a))
		FAIL(res, "arena_check FAILED: %s", magslab_last_error());
	res->check_s = (double)(now_ns() - t0) / 1e9;
}

static void run_rep(const struct mode *m, const struct opts *o,
		    const struct script *sc, struct result *res)
{
	struct slot *all, *live;
	struct arena *a;

	a = arena_create(m->key, (void *)RANGE_BASE, RANGE_SIZE, QUANTUM,
			 NULL, NULL, NULL, 0, m->fit);
	if (!a)
		FAIL(res, "arena_create: %s", magslab_last_error());
	phase_floor(a, m, o, sc, res);
	if (res->status == RES_ERROR)
		return;
	all = xmalloc(2 * o->live * sizeof(*all));
	phase_fill(a, m, o, sc, res, all);
	if (res->status == RES_ERROR)
		return;
	if (res->status != RES_FILL_CAPPED) {
		live = xmalloc(o->live * sizeof(*live));
		phase_halve(a, m, o, sc, res, all, live);
		if (res->status == RES_ERROR)
			return;
		free(all);
		all = NULL;
		phase_steady(a, m, o, sc, res, live);
		if (res->status == RES_ERROR)
			return;
		free(live);
	}
	free(all);
	phase_check(a, res);
}

/* Runs one repetition in a child; fills res (and its peak RSS). */
static void run_child(const struct mode *m, const struct opts *o,
		      const struct script *sc, struct result *res)
{
	struct rusage ru;
	int fds[2], wst;
	size_t got = 0;
	pid_t pid;

	memset(res, 0, sizeof(*res));
	fflush(NULL);
	if (pipe(fds) || (pid = fork()) < 0) {
		res->status = RES_ERROR;
		snprintf(res->err, sizeof(res->err), "pipe/fork: %s",
			 strerror(errno));
		return;
	}
	if (pid == 0) {
		close(fds[0]);
		run_rep(m, o, sc, res);
		for (size_t off = 0; off < sizeof(*res);) {
			ssize_t n = write(fds[1], (char *)res + off,
					  sizeof(*res) - off);

			if (n <= 0)
				_exit(1);
			off += (size_t)n;
		}
		_exit(0);
	}
	close(fds[1]);
	while (got < sizeof(*res)) {
		ssize_t n = read(fds[0], (char *)res + got, sizeof(*res) - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fds[0]);
	while (wait4(pid, &wst, 0, &ru) < 0 && errno == EINTR)
		;
	if (got < sizeof(*res)) {
		memset(res, 0, sizeof(*res));
		res->status = RES_ERROR;
		snprintf(res->err, sizeof(res->err),
			 "child died without a result (wait status %#x)", wst);
	}
	res->maxrss_kib = ru.ru_maxrss;
}

/* ---------------------------------------------------------------------- */
/* Options                                                                 */

static void usage(FILE *f)
{
	fprintf(f,
"usage: %s [options]\n"
"Arena alloc/free throughput with many live segments (see bench/README.md).\n"
"  --live N         live segments in the steady state (default 1000000);\n"
"                   the fill allocates 2N and frees a random half\n"
"  --ops N          steady-state free+alloc pairs per repetition (default 2000000)\n"
"  --reps N         repetitions of every mode; the median is reported (default 3)\n"
"  --seed S         seed of the request script (default 1)\n"
"  --floor N        alloc+free pairs in the empty arena (default 1000000)\n"
"  --max-seconds T  stop a timed phase after T seconds (default 8)\n"
"  --modes LIST     comma-separated subset of:", prog);
	for (size_t i = 0; i < NR_MODES; i++)
		fprintf(f, "%s%s", i ? "," : " ", modes[i].key);
	fprintf(f, "\n                   (default: all; instant is the baseline of the ratios)\n"
"  --help           this text\n");
}

static void bad_option(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", prog);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (try --help)\n");
	exit(2);
}

static uint64_t parse_u64(const char *opt, const char *arg, uint64_t min,
			  uint64_t max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	if (!arg || !*arg || *arg == '-' || *arg == '+')
		goto bad;
	v = strtoull(arg, &end, 0);
	if (errno || *end || v < min || v > max)
		goto bad;
	return v;
bad:
	fprintf(stderr, "%s: bad %s '%s': want an integer in [%" PRIu64
		", %" PRIu64 "] (try --help)\n", prog, opt, arg ? arg : "",
		min, max);
	exit(2);
}

static unsigned int parse_modes(const char *arg)
{
	unsigned int mask = 0;
	char *copy = strdup(arg), *save = NULL, *tok;

	if (!copy)
		exit(1);
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		size_t i;

		for (i = 0; i < NR_MODES && strcmp(tok, modes[i].key); i++)
			;
		if (i == NR_MODES)
			bad_option("unknown mode '%s' in --modes", tok);
		mask |= 1u << i;
	}
	free(copy);
	if (!mask)
		bad_option("empty --modes '%s'", arg);
	return mask;
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	enum { O_LIVE = 256, O_OPS, O_REPS, O_SEED, O_FLOOR, O_MAXS, O_MODES,
	       O_HELP };
	static const struct option longopts[] = {
		{ "live", required_argument, NULL, O_LIVE },
		{ "ops", required_argument, NULL, O_OPS },
		{ "reps", required_argument, NULL, O_REPS },
		{ "seed", required_argument, NULL, O_SEED },
		{ "floor", required_argument, NULL, O_FLOOR },
		{ "max-seconds", required_argument, NULL, O_MAXS },
		{ "modes", required_argument, NULL, O_MODES },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct opts){
		.live = 1000000, .ops = 2000000, .reps = 3, .seed = 1,
		.floor_ops = 1000000, .max_seconds = 8,
		.mode_mask = (1u << NR_MODES) - 1,
	};
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1) {
		switch (c) {
		case O_LIVE:
			/* perm and steady_idx hold slot numbers in 32 bits. */
			o->live = parse_u64("--live", optarg, 1, UINT32_MAX / 2);
			break;
		case O_OPS:
			o->ops = parse_u64("--ops", optarg, 0, UINT32_MAX);
			break;
		case O_REPS:
			o->reps = parse_u64("--reps", optarg, 1, 99);
			break;
		case O_SEED:
			o->seed = parse_u64("--seed", optarg, 0, UINT64_MAX);
			break;
		case O_FLOOR:
			o->floor_ops = parse_u64("--floor", optarg, 0, UINT32_MAX);
			break;
		case O_MAXS: {
			char *end;

			errno = 0;
			o->max_seconds = strtod(optarg, &end);
			if (errno || end == optarg || *end ||
			    !(o->max_seconds > 0 && o->max_seconds <= 86400))
				bad_option("bad --max-seconds '%s': want seconds in (0, 86400]",
					   optarg);
			break;
		}
		case O_MODES:
			o->mode_mask = parse_modes(optarg);
			break;
		case O_HELP:
			usage(stdout);
			exit(0);
		case ':':
			bad_option("option '%s' needs a value", argv[optind - 1]);
			break;
		default:
			bad_option("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		bad_option("unexpected argument '%s'", argv[optind]);
}

/* ---------------------------------------------------------------------- */
/* The script and the report                                               */

static void make_script(const struct opts *o, struct script *sc)
{
	size_t nfill = 2 * o->live;
	uint64_t s = o->seed;

	sc->fill_quanta = xmalloc(nfill);
	sc->perm = xmalloc(nfill * sizeof(*sc->perm));
	sc->steady_idx = xmalloc(o->ops * sizeof(*sc->steady_idx));
	sc->steady_quanta = xmalloc(o->ops);
	for (size_t i = 0; i < nfill; i++) {
		sc->fill_quanta[i] = (uint8_t)(1 + rng_below(&s, MAX_QUANTA));
		sc->perm[i] = (uint32_t)i;
	}
	for (size_t i = nfill - 1; i > 0; i--) {        /* Fisher-Yates */
		size_t j = rng_below(&s, i + 1);
		uint32_t t = sc->perm[i];

		sc->perm[i] = sc->perm[j];
		sc->perm[j] = t;
	}
	for (size_t i = 0; i < o->ops; i++) {
		sc->steady_idx[i] = (uint32_t)rng_below(&s, o->live);
		sc->steady_quanta[i] = (uint8_t)(1 + rng_below(&s, MAX_QUANTA));
	}
}

static void print_machine(void)
{
	char line[256], model[256] = "unknown";
	FILE *f = fopen("/proc/cpuinfo", "r");

	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (!strncmp(line, "model name", 10) && colon) {
			snprintf(model, sizeof(model), "%s", colon + 2);
			model[strcspn(model, "\n")] = '\0';
			break;
		}
	}
	if (f)
		fclose(f);
	printf("machine: %ld online CPUs, %s\n", sysconf(_SC_NPROCESSORS_ONLN),
	       model);
}

/* One mode's repetitions boiled down. */
struct summary {
	size_t ok;                      /* reps with a steady state */
	size_t ran;                     /* reps that did not fail */
	double floor_ns, fill_ns, halve_ns, steady_ns, tail_ns, lo, hi;
	double rss_mib;                 /* largest peak RSS of its reps */
	double fill_capped_at;          /* median fill_done of capped reps */
	const struct result *mid;       /* the rep closest to the median */
};

static void summarize(const struct result *r, size_t reps, struct summary *s)
{
	double fl[reps], fi[reps], ha[reps], st[reps], ta[reps], fc[reps];
	size_t nfc = 0;

	memset(s, 0, sizeof(*s));
	for (size_t i = 0; i < reps; i++) {
		if (r[i].status == RES_ERROR)
			continue;
		if ((double)r[i].maxrss_kib / 1024 > s->rss_mib)
			s->rss_mib = (double)r[i].maxrss_kib / 1024;
		fl[s->ran] = r[i].floor_ns;
		fi[s->ran++] = r[i].fill_ns;
		if (r[i].status == RES_FILL_CAPPED) {
			fc[nfc++] = (double)r[i].fill_done;
			continue;
		}
		if (!s->ok || r[i].steady_ns < s->lo)
			s->lo = r[i].steady_ns;
		if (!s->ok || r[i].steady_ns > s->hi)
			s->hi = r[i].steady_ns;
		ha[s->ok] = r[i].halve_ns;
		ta[s->ok] = r[i].tail_ns;
		st[s->ok++] = r[i].steady_ns;
	}
	if (s->ran) {
		s->floor_ns = bench_median(fl, s->ran);
		s->fill_ns = bench_median(fi, s->ran);
	}
	if (nfc)
		s->fill_capped_at = bench_median(fc, nfc);
	if (!s->ok)
		return;
	s->halve_ns = bench_median(ha, s->ok);
	s->steady_ns = bench_median(st, s->ok);
	s->tail_ns = bench_median(ta, s->ok);
	for (size_t i = 0; i < reps; i++) {
		double d = r[i].steady_ns - s->steady_ns;

		if (r[i].status != RES_OK)
			continue;
		if (!s->mid || d * d < (s->mid->steady_ns - s->steady_ns) *
				       (s->mid->steady_ns - s->steady_ns))
			s->mid = &r[i];
	}
}

static void print_report(const struct opts *o, const struct result *res,
			 int argc, char **argv)
{
	struct summary sum[NR_MODES];
	time_t now = time(NULL);
	char when[64];
	double base = 0;

	for (size_t m = 0; m < NR_MODES; m++)
		if (o->mode_mask & (1u << m))
			summarize(&res[m * o->reps], o->reps, &sum[m]);
	if (o->mode_mask & 1u)
		base = sum[0].steady_ns;

	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S %z", localtime(&now));
	printf("command:");
	for (int i = 0; i < argc; i++)
		printf(" %s", argv[i]);
	printf("\ndate: %s\n", when);
	print_machine();
	printf("arena: [%#lx, +%zu GiB), quantum %lu, sizes uniform in 1..%u "
	       "quanta, xalloc align %lu\n", (unsigned long)RANGE_BASE,
	       RANGE_SIZE >> 30, QUANTUM, MAX_QUANTA, XALIGN);
	printf("live %zu (fill %zu, then free a random half), ops %zu, reps %zu, "
	       "seed %" PRIu64 ", floor %zu, max-seconds %g\n\n", o->live,
	       2 * o->live, o->ops, o->reps, o->seed, o->floor_ops,
	       o->max_seconds);
	printf("| mode | floor ns/pair | fill ns/alloc | halve ns/free "
	       "| steady ns/pair | min..max | last quarter | pairs/s | vs instant "
	       "| pairs done | segments | free segs | hash lists | tags "
	       "| peak RSS MiB |\n");
	printf("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
	for (size_t m = 0; m < NR_MODES; m++) {
		const struct summary *s = &sum[m];
		const struct arena_stats *st;

		if (!(o->mode_mask & (1u << m)))
			continue;
		if (!s->ran) {
			printf("| %s | FAILED | | | | | | | | | | | | | |\n",
			       modes[m].name);
			continue;
		}
		if (!s->ok) {
			printf("| %s | %.1f | %.0f | fill capped at %.0f of %zu "
			       "| | | | | | | | | | | %.0f |\n", modes[m].name,
			       s->floor_ns, s->fill_ns, s->fill_capped_at,
			       2 * o->live, s->rss_mib);
			continue;
		}
		st = &s->mid->st;
		printf("| %s | %.1f | %.1f | %.1f | %.1f | %.1f..%.1f | %.1f "
		       "| %.3g | ", modes[m].name, s->floor_ns, s->fill_ns,
		       s->halve_ns, s->steady_ns, s->lo, s->hi, s->tail_ns,
		       1e9 / s->steady_ns);
		if (base > 0)
			printf("%.2fx", s->steady_ns / base);
		printf(" | %zu%s | %zu | %zu | %zu | %zu | %.0f |\n",
		       s->mid->steady_done,
		       s->mid->steady_done < o->ops ? " (capped)" : "",
		       st->nr_segments, st->nr_free_segments, st->hash_lists,
		       st->nr_tags, s->rss_mib);
	}
	printf("\nfloor: alloc+free of one segment in the empty arena; fill: "
	       "allocating the %zu segments; halve: freeing a random half; "
	       "steady: free a random live segment + allocate a new one. "
	       "segments..tags: arena_stats() after the steady state of the "
	       "median rep. last quarter: steady ns/pair over the last quarter of "
	       "the pairs done (differs from steady when the cost drifts). "
	       "vs instant: ratio of steady ns/pair to instant fit "
	       "alloc in this run. A phase stops after --max-seconds (capped).\n",
	       2 * o->live);
}

int main(int argc, char **argv)
{
	struct result *res;
	struct script sc;
	struct opts o;
	bool failed = false;

	parse_opts(argc, argv, &o);
	fprintf(stderr, "%s: drawing the request script (seed %" PRIu64 ")\n",
		prog, o.seed);
	make_script(&o, &sc);
	res = calloc(NR_MODES * o.reps, sizeof(*res));
	if (!res)
		return 1;

	for (size_t rep = 0; rep < o.reps; rep++) {
		for (size_t m = 0; m < NR_MODES; m++) {
			struct result *r = &res[m * o.reps + rep];

			if (!(o.mode_mask & (1u << m)))
				continue;
			fprintf(stderr, "[rep %zu/%zu] %s\n", rep + 1, o.reps,
				modes[m].name);
			run_child(&modes[m], &o, &sc, r);
			if (r->status == RES_ERROR) {
				fprintf(stderr, "%s: %s: %s\n", prog,
					modes[m].name, r->err);
				failed = true;
				continue;
			}
			fprintf(stderr, "    floor %.1f ns/pair; fill %zu in "
				"%.2f s; steady %zu pairs in %.2f s = %.1f "
				"ns/pair; peak RSS %ld MiB; check %.2f s%s\n",
				r->floor_ns, r->fill_done,
				r->fill_ns * (double)r->fill_done / 1e9,
				r->steady_done, r->steady_s, r->steady_ns,
				r->maxrss_kib / 1024, r->check_s,
				r->status == RES_FILL_CAPPED ?
				" (FILL CAPPED: no steady state)" : "");
		}
	}
	print_report(&o, res, argc, argv);
	return failed ? 1 : 0;
}
