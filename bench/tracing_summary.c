/*
 * bench/tracing_summary.c — the result tables of bench/run-tracing.sh.
 *
 * Owns: turning the raw results of one run-tracing.sh run
 * ($BUILD/bench-tracing/results.txt) into Markdown.  Mode "tables": per workload
 * the wall-clock and the CPU-time table, then the targets with their verdicts
 * and "What the numbers say"; mode "reps": every repetition's per-process
 * medians.  WORKLOADS is the run's comma-separated list (pair, batch, batch1),
 * INNER_REPS its --inner-reps (timed measurements per process).
 *
 * Input: one line per process, whitespace-separated key=value fields (split at
 * the first '='; a later field of the same key wins; other keys and words
 * without '=' are ignored; a line without conf= is skipped):
 *   rep=N wl=pair|batch|batch1 conf=trace0|nosession|recording
 *   median_ns= min_ns= cpu_median_ns= cpu_min_ns= events_per_s=  (decimals)
 *   ops= events_timed= events_run=                               (integers)
 *   recorded= discarded=   optional, both or neither (recording runs)
 *   fail=...               optional: the run failed (counted; wl=, conf= read)
 * (run-tracing.sh's "rep=R wl=W conf=C", bench-tracing's result line and, after a
 * recording, recorded=/discarded=).  A repetition seen twice for one workload and
 * configuration keeps its later line.  A missing or malformed field stops the
 * program (file:line, exit 1): a run is never skipped silently.
 *
 * Statistics: median = the middle value or the mean of the two middle ones;
 * quartiles by Python's statistics.quantiles(n=4, method="inclusive") (linear
 * interpolation, min and max the 0th and 100th percentiles); the 95 % interval
 * of a ratio of medians is a paired bootstrap (4000 resamples of the repetitions
 * both configurations have, drawn together; 2.5th and 97.5th percentiles) from
 * splitmix64 with a fixed seed for every interval: same file, same report.
 *
 * Why C: this was a python3 heredoc, and python3 on the machines that run the
 * benchmark is not Debian's.  Its output is the heredoc's byte for byte but for
 * the bootstrap intervals (another generator) and the words that follow from
 * them; bad input gets one line (a bad field, an unknown workload), not a trace.
 *
 * Single-threaded, no locks.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "median.h"
#include "rng.h"

enum { NWL = 3, NCONF = 3, NBOOT = 4000, NUM = 400, MAXWL = 64 };
enum conf { TRACE0, NOSESSION, RECORDING };
/* The fields a ratio or a table is taken over. */
enum field { F_NS, F_MIN, F_CPU, F_CPU_MIN, F_EV_S, NFIELD };

static const char *const WL_KEY[NWL] = { "pair", "batch", "batch1" };
static const char *const WL_DESC[NWL] = {
	"allocate, write a word, free; no event fires",
	"a batch of allocations then their frees at a fixed small magsize; "
	"depot-heavy",
	"supplementary: the batch workload on one thread; no contention, "
	"no time-sharing",
};
static const char *const CONF_KEY[NCONF] = { "trace0", "nosession", "recording" };
static const char *const CONF_NAME[NCONF] = {
	"TRACE=0", "TRACE=1, no session", "TRACE=1, recording",
};

/* The targets (then the same limits read on the supplementary one-thread
 * batch, which are not targets), in the order the table lists them. */
static const struct target { enum conf c; int wl; double lim; int extra; } TARGETS[] = {
	{ NOSESSION, 0, 1.01, 0 }, { NOSESSION, 1, 1.01, 0 },
	{ RECORDING, 1, 1.15, 0 }, { NOSESSION, 2, 1.01, 1 },
	{ RECORDING, 2, 1.15, 1 },
};

struct run {
	long long rep, ops, ev_timed, ev_run, rec, disc;
	double f[NFIELD];
	int has_rec; /* rec and disc were given */
};

struct runs { struct run *v; size_t n, cap; }; /* one workload and configuration */

struct data {
	struct runs runs[NWL][NCONF];
	long fails[NWL][NCONF];
	int wls[MAXWL]; /* the WORKLOADS argument, as indices into WL_KEY */
	int nwl;
	int listed[NWL]; /* whether WORKLOADS names it */
	long long inner;
};

/* A ratio of configuration c to TRACE=0 on one field (see ratio_of()). */
struct ratio {
	int ok, has_paired;     /* both configurations have runs; some rep has both */
	double ratio;           /* median(c) / median(TRACE=0) */
	double pmed, pq1, pq3;  /* per-repetition ratios: median, quartiles */
	int has_ci;             /* at least 3 repetitions in common */
	double lo, hi;          /* the bootstrap interval of ratio */
	double best;            /* best run of c / best run of TRACE=0 */
};

static const char *prog = "bench-tracing_summary";

/* One line on stderr, exit 1. */
__attribute__((format(printf, 1, 2), noreturn))
static void die(const char *msg, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, msg);
	vfprintf(stderr, msg, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		die("out of memory");
	return p;
}

/* Quartiles, inclusive method: position i * (n - 1) / 4 in the sorted data,
 * interpolated as (d[j] * (4 - delta) + d[j + 1] * delta) / 4. */
static void quartiles(double *v, size_t n, double *q1, double *q3)
{
	double *q[4] = { NULL, q1, NULL, q3 };

	qsort(v, n, sizeof(*v), bench_cmp_double);
	for (size_t i = 1; i <= 3; i += 2) {
		size_t j = i * (n - 1) / 4, delta = i * (n - 1) % 4;

		*q[i] = n < 2 ? v[0] : (v[j] * (double)(4 - delta) +
					v[j + 1] * (double)delta) / 4;
	}
}

/* Field f of every run of d, into a new array. */
static double *values(const struct runs *d, enum field f)
{
	double *v = xrealloc(NULL, d->n * sizeof(*v));

	for (size_t i = 0; i < d->n; i++)
		v[i] = d->v[i].f[f];
	return v;
}

static double median_of(const struct runs *d, enum field f)
{
	double *v = values(d, f), m = bench_median(v, d->n);

	free(v);
	return m;
}

static double min_of(const struct runs *d, enum field f)
{
	double m = d->v[0].f[f];

	for (size_t i = 1; i < d->n; i++)
		m = d->v[i].f[f] < m ? d->v[i].f[f] : m;
	return m;
}

/* The runs of one configuration that carry recorded/discarded counts. */
struct recs {
	long long n, disc, in; /* such runs; events discarded in all; runs that did */
	long long lo, hi;      /* recorded + discarded - emitted (events_run): extremes */
	double lost, median;   /* the worst run's share discarded; median recorded */
};

static struct recs gather_recs(const struct runs *d)
{
	struct recs s = { 0 };
	double *v = xrealloc(NULL, d->n * sizeof(*v));

	for (size_t i = 0; i < d->n; i++) {
		const struct run *x = &d->v[i];
		long long all = x->rec + x->disc, other = all - x->ev_run;

		if (!x->has_rec)
			continue;
		v[s.n] = (double)x->rec;
		s.lo = !s.n || other < s.lo ? other : s.lo;
		s.hi = !s.n || other > s.hi ? other : s.hi;
		s.n++;
		s.disc += x->disc;
		s.in += x->disc != 0;
		if (all && (double)x->disc / (double)all > s.lost)
			s.lost = (double)x->disc / (double)all;
	}
	if (s.n)
		s.median = bench_median(v, (size_t)s.n);
	free(v);
	return s;
}

static const struct run *find_rep(const struct runs *d, long long rep)
{
	for (size_t i = 0; i < d->n; i++)
		if (d->v[i].rep == rep)
			return &d->v[i];
	return NULL;
}

/* Uniform in [0, n): rejection of the few values that would bias the modulo. */
static size_t below(uint64_t *s, size_t n)
{
	uint64_t lim = -(uint64_t)n % n, r;

	do
		r = bench_rng_next(s);
	while (r < lim);
	return (size_t)(r % n);
}

static int cmp_rep(const void *a, const void *b)
{
	long long x = ((const struct run *)a)->rep, y = ((const struct run *)b)->rep;

	return (x > y) - (x < y);
}

/* The repetitions a and b share (in rep order, as read_raw() sorts runs):
 * field f of a's run into av[i] and of b's into bv[i], both new arrays;
 * returns their count. */
static size_t shared_reps(const struct runs *a, const struct runs *b, enum field f,
			  double **av, double **bv)
{
	size_t m = 0;

	*av = xrealloc(NULL, b->n * sizeof(**av));
	*bv = xrealloc(NULL, b->n * sizeof(**bv));
	for (size_t i = 0; i < b->n; i++) {
		const struct run *x = find_rep(a, b->v[i].rep);

		if (x) {
			(*av)[m] = x->f[f];
			(*bv)[m++] = b->v[i].f[f];
		}
	}
	return m;
}

/* 95 % interval of median(b) / median(a) on field f, resampling the
 * repetitions both have (a repetition's two runs together); 0 (no interval)
 * with fewer than 3 such repetitions.  Every interval starts from the same
 * seed: the report does not depend on the order it computes them in. */
static int boot_ci(const struct runs *a, const struct runs *b, enum field f,
		   double *lo, double *hi)
{
	double *av, *bv, *sa, *sb, *out;
	size_t m = shared_reps(a, b, f, &av, &bv), n = NBOOT;
	uint64_t seed = 12345;

	if (m >= 3) {
		out = xrealloc(NULL, (n + 2 * m) * sizeof(*out));
		sa = out + n;
		sb = sa + m;
		for (size_t i = 0; i < n; i++) {
			for (size_t j = 0; j < m; j++) {
				size_t k = below(&seed, m);

				sa[j] = av[k];
				sb[j] = bv[k];
			}
			out[i] = bench_median(sb, m) /
				 bench_median(sa, m);
		}
		qsort(out, n, sizeof(*out), bench_cmp_double);
		*lo = out[(size_t)(0.025 * (double)n)];
		*hi = out[(size_t)(0.975 * (double)n) - 1];
		free(out);
	}
	free(av);
	free(bv);
	return m >= 3;
}

/* The ratio of configuration c to TRACE=0 for workload w on field f (F_NS or
 * F_CPU; the best-run ratio uses F_MIN or F_CPU_MIN with it). */
static struct ratio ratio_of(const struct data *dt, int w, enum conf c, enum field f)
{
	const struct runs *a = &dt->runs[w][TRACE0], *d = &dt->runs[w][c];
	struct ratio r = { 0 };
	double *paired;
	size_t np = 0;
	enum field fmin = f == F_NS ? F_MIN : F_CPU_MIN;

	if (!a->n || !d->n)
		return r;
	r.ok = 1;
	r.ratio = median_of(d, f) / median_of(a, f);
	paired = xrealloc(NULL, d->n * sizeof(*paired));
	for (size_t i = 0; i < d->n; i++) {
		const struct run *x = find_rep(a, d->v[i].rep);

		if (x)
			paired[np++] = d->v[i].f[f] / x->f[f];
	}
	if (np) {
		r.has_paired = 1;
		r.pmed = bench_median(paired, np);
		quartiles(paired, np, &r.pq1, &r.pq3);
	}
	free(paired);
	r.has_ci = boot_ci(a, d, f, &r.lo, &r.hi);
	r.best = min_of(d, fmin) / min_of(a, fmin);
	return r;
}

/* Two decimals under 10, one under 1000, none above. */
static const char *fmt(char *buf, double x)
{
	snprintf(buf, NUM, x < 10 ? "%.2f" : x < 1000 ? "%.1f" : "%.0f", x);
	return buf;
}

/* With a G, M or k suffix (two decimals), or a plain integer. */
static const char *si(char *buf, double x)
{
	if (x >= 1e9)
		snprintf(buf, NUM, "%.2f G", x / 1e9);
	else if (x >= 1e6)
		snprintf(buf, NUM, "%.2f M", x / 1e6);
	else if (x >= 1e3)
		snprintf(buf, NUM, "%.2f k", x / 1e3);
	else
		snprintf(buf, NUM, "%.0f", x);
	return buf;
}

static const char *ci_str(char *buf, const struct ratio *r)
{
	snprintf(buf, NUM, "%.4f .. %.4f", r->lo, r->hi);
	return r->has_ci ? buf : "n/a";
}

static void print_resolution(const struct ratio *r, double lim)
{
	if (!r->has_ci)
		printf("too few runs for an interval");
	else if (r->lo <= lim && lim < r->hi)
		printf("not resolved (the interval straddles %.2f)", lim);
	else
		printf("resolved (the whole interval is %s %.2f)",
		       r->hi <= lim ? "below" : "above", lim);
}

static void print_reps(const struct data *dt)
{
	printf("Every repetition (per-process medians, in run order; wall ns/op, "
	       "then CPU ns/op):\n\n");
	printf("| workload | configuration | wall ns/op | CPU ns/op |\n");
	printf("|---|---|---|---|\n");
	for (int i = 0; i < dt->nwl; i++) {
		for (int c = 0; c < NCONF; c++) {
			const struct runs *d = &dt->runs[dt->wls[i]][c];

			printf("| %s | %s | ", WL_KEY[dt->wls[i]], CONF_NAME[c]);
			for (size_t k = 0; k < d->n; k++)
				printf("%s%.2f", k ? " / " : "", d->v[k].f[F_NS]);
			printf(" | ");
			for (size_t k = 0; k < d->n; k++)
				printf("%s%.2f", k ? " / " : "", d->v[k].f[F_CPU]);
			printf(" |\n");
		}
	}
}

static void print_wall_row(const struct data *dt, int w, enum conf c)
{
	const struct runs *d = &dt->runs[w][c];
	double *v = values(d, F_NS), q1, q3, med;
	char b[8][NUM];
	struct ratio r = { 0 };

	med = bench_median(v, d->n);
	quartiles(v, d->n, &q1, &q3);
	if (c != TRACE0)
		r = ratio_of(dt, w, c, F_NS);
	snprintf(b[0], NUM, " (+%ld failed)", dt->fails[w][c]);
	snprintf(b[1], NUM, "%.4f", r.ratio);
	snprintf(b[2], NUM, "%.4f [%.4f, %.4f]", r.pmed, r.pq1, r.pq3);
	snprintf(b[3], NUM, "%.4f", r.best);
	printf("| %s | %zu%s | %s | ", CONF_NAME[c], d->n,
	       dt->fails[w][c] ? b[0] : "", fmt(b[4], med));
	printf("%s | %s | ", fmt(b[4], v[0]), fmt(b[5], v[d->n - 1]));
	printf("%s .. %s | %s | %s | %s | %s |\n", fmt(b[4], q1), fmt(b[5], q3),
	       r.ok ? b[1] : "1", r.ok && r.has_paired ? b[2] : "",
	       r.ok ? ci_str(b[6], &r) : "", r.ok ? b[3] : "1");
	free(v);
}

static void print_wall_table(const struct data *dt, int w)
{
	char failed[NUM];

	printf("**%s** (%s).  Wall-clock time, what the targets are about:\n\n",
	       WL_KEY[w], WL_DESC[w]);
	printf("| configuration | runs | median ns/op | min | max | IQR "
	       "| ratio to TRACE=0 (medians) | per-rep ratio: median [IQR] "
	       "| 95%% CI of the ratio | best-run ratio |\n");
	printf("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
	for (int c = 0; c < NCONF; c++) {
		if (dt->runs[w][c].n) {
			print_wall_row(dt, w, (enum conf)c);
			continue;
		}
		snprintf(failed, NUM, " (%ld failed)", dt->fails[w][c]);
		printf("| %s | 0%s | | | | | | | | |\n", CONF_NAME[c],
		       dt->fails[w][c] ? failed : "");
	}
	printf("\n");
}

static void print_cpu_row(const struct data *dt, int w, enum conf c)
{
	const struct runs *d = &dt->runs[w][c];
	double *v = values(d, F_CPU), q1, q3, med, evs = median_of(d, F_EV_S);
	struct recs s = gather_recs(d);
	struct ratio r = { 0 };
	char b[8][NUM];

	med = bench_median(v, d->n);
	quartiles(v, d->n, &q1, &q3);
	free(v);
	if (c != TRACE0)
		r = ratio_of(dt, w, c, F_CPU);
	snprintf(b[0], NUM, "%.4f", r.ratio);
	snprintf(b[1], NUM, "%s/s", si(b[7], evs));
	snprintf(b[7], NUM, "%lld (in %lld of %lld runs)", s.disc, s.in, s.n);
	printf("| %s | %s | %s .. %s | %s | %s | %s | %s | %s |\n", CONF_NAME[c],
	       fmt(b[2], med), fmt(b[3], q1), fmt(b[4], q3), r.ok ? b[0] : "1",
	       r.ok ? ci_str(b[5], &r) : "", evs != 0 ? b[1] : "0",
	       s.n ? si(b[6], s.median) : "", s.n ? b[7] : "");
}

static void print_cpu_table(const struct data *dt, int w)
{
	printf("CPU time of the benchmark's threads (time other processes had the "
	       "CPU is not in it; the consumer daemon's work is not either), and "
	       "events:\n\n");
	printf("| configuration | median CPU ns/op | IQR | ratio to TRACE=0 "
	       "| 95%% CI | cache events/s | events recorded (median per run) "
	       "| events discarded |\n");
	printf("|---|--:|--:|--:|--:|--:|--:|--:|\n");
	for (int c = 0; c < NCONF; c++) {
		if (dt->runs[w][c].n)
			print_cpu_row(dt, w, (enum conf)c);
		else
			printf("| %s | | | | | | | |\n", CONF_NAME[c]);
	}
	printf("\n");
}

/* One row of the targets table; adds to *met and *total unless supplementary. */
static void print_target(const struct data *dt, const struct target *t,
			 int *met, int *total)
{
	char label[NUM], b[2][NUM];
	struct ratio r = ratio_of(dt, t->wl, t->c, F_NS), rc;
	int ok;

	snprintf(label, NUM, "%s%s", WL_KEY[t->wl],
		 t->extra ? " (supplementary, not a target)" : "");
	if (!r.ok) {
		printf("| %s | %s | | <= %.2f | NO DATA | | | |\n", label,
		       CONF_NAME[t->c], t->lim);
		*total += !t->extra;
		return;
	}
	rc = ratio_of(dt, t->wl, t->c, F_CPU);
	ok = r.ratio <= t->lim;
	if (!t->extra) {
		*met += ok;
		*total += 1;
	}
	printf("| %s | %s | %.4f | <= %.2f | %s | %s | ", label, CONF_NAME[t->c],
	       r.ratio, t->lim,
	       t->extra ? (ok ? "(would be met)" : "(would not be met)")
			: (ok ? "MET" : "NOT MET"),
	       ci_str(b[0], &r));
	print_resolution(&r, t->lim);
	printf(" | %.4f [%s] |\n", rc.ratio, ci_str(b[1], &rc));
}

static void print_targets(const struct data *dt)
{
	int met = 0, total = 0;

	printf("Targets (verdict on the ratio of wall-clock medians of this run; the "
	       "intervals are 95%% paired bootstraps over the repetitions; the CPU-time "
	       "ratio is the same comparison with other processes' time taken out):\n\n");
	printf("| workload | configuration | wall ratio | limit | verdict | 95%% CI "
	       "| resolution | CPU-time ratio [95%% CI] |\n");
	printf("|---|---|--:|--:|---|---|---|---|\n");
	for (size_t i = 0; i < sizeof(TARGETS) / sizeof(TARGETS[0]); i++)
		if (dt->listed[TARGETS[i].wl])
			print_target(dt, &TARGETS[i], &met, &total);
	printf("\n%d of %d targets met.\n\n", met, total);
}

/* Compiled in without a session, against TRACE=0's own spread. */
static void say_nosession(const struct data *dt, int w)
{
	const struct runs *a = &dt->runs[w][TRACE0];
	struct ratio r = ratio_of(dt, w, NOSESSION, F_NS), rc;
	double *v, *cv, q1, q3, c1, c3, vmed, cmed;
	char b[2][NUM];

	if (!r.ok)
		return;
	rc = ratio_of(dt, w, NOSESSION, F_CPU);
	v = values(a, F_NS);
	cv = values(a, F_CPU);
	quartiles(v, a->n, &q1, &q3);
	quartiles(cv, a->n, &c1, &c3);
	vmed = bench_median(v, a->n);
	cmed = bench_median(cv, a->n);
	printf("- %s, compiled in without a session: wall %+.2f%% (95%% interval "
	       "%s), CPU time %+.2f%% (%s).  TRACE=0's own interquartile range is "
	       "%.1f%% of its median in wall time and %.1f%% in CPU time: %s\n",
	       WL_KEY[w], (r.ratio - 1) * 100, ci_str(b[0], &r),
	       (rc.ratio - 1) * 100, ci_str(b[1], &rc), (q3 - q1) / vmed * 100,
	       (c3 - c1) / cmed * 100,
	       r.has_ci && r.lo <= 1.01 && 1.01 < r.hi
		       ? "the wall-clock interval is too wide to decide a 1% question"
		       : "the wall-clock interval decides it");
	free(v);
	free(cv);
}

/* Events recorded and discarded while recording, and the emitted count
 * they are checked against. */
static void say_recorded(const struct runs *d, int w)
{
	struct recs s = gather_recs(d);
	char b[NUM];

	if (!s.n)
		return;
	printf("- %s, recording: %s events recorded per run, %lld discarded in "
	       "all (in %lld of %lld runs; worst run %.2f%% lost).  Recorded plus "
	       "discarded exceeds what the cache's counters say it emitted by "
	       "%lld .. %lld events per run: the magazine cache's, the arenas' and "
	       "the phase markers%s.\n",
	       WL_KEY[w], si(b, s.median), s.disc, s.in, s.n, 100 * s.lost, s.lo,
	       s.hi, s.lo >= 0 ? "" : " (a negative figure: events lost without "
					     "being counted)");
}

/* The median events per operation in the recording runs' timed part. */
static double events_per_op(const struct runs *d, long long inner)
{
	double *v = xrealloc(NULL, d->n * sizeof(*v)), m;

	for (size_t i = 0; i < d->n; i++)
		v[i] = (double)d->v[i].ev_timed / (double)(d->v[i].ops * inner);
	m = bench_median(v, d->n);
	free(v);
	return m;
}

/* What recording costs per event. */
static void say_recording(const struct data *dt, int w)
{
	const struct runs *n = &dt->runs[w][NOSESSION], *d = &dt->runs[w][RECORDING];
	struct ratio r = ratio_of(dt, w, RECORDING, F_NS);
	double per_op, base, extra, cpu_extra;
	struct recs s = gather_recs(d);
	char b[2][NUM];

	if (!n->n || !d->n || !r.ok)
		return;
	per_op = events_per_op(d, dt->inner);
	if (per_op < 1e-4) {
		printf("- %s, recording: no event fires in the timed part (%s recorded "
		       "per run, all from setup), so recording costs what no session "
		       "does: ratio %.4f (no session: %.4f).\n",
		       WL_KEY[w], s.n ? si(b[0], s.median) : "?", r.ratio,
		       ratio_of(dt, w, NOSESSION, F_NS).ratio);
		return;
	}
	base = median_of(&dt->runs[w][TRACE0], F_NS);
	extra = median_of(d, F_NS) - median_of(n, F_NS);
	cpu_extra = median_of(d, F_CPU) - median_of(n, F_CPU);
	printf("- %s, recording: %.3f events per operation (%s cache events/s "
	       "without a session, %s/s while recording).  Recording adds %.1f "
	       "wall ns/op (%.1f CPU ns/op in the benchmark's own threads): "
	       "about %.0f ns per event in wall time x cores, %.0f ns of the "
	       "emitting thread's CPU.  Staying within +15%% of TRACE=0 at this "
	       "event rate would need at most %.0f ns per event.\n",
	       WL_KEY[w], per_op, si(b[0], median_of(n, F_EV_S)),
	       si(b[1], median_of(d, F_EV_S)), extra, cpu_extra, extra / per_op,
	       cpu_extra / per_op, 0.15 * base / per_op);
	say_recorded(d, w);
}

static void print_tables(const struct data *dt)
{
	for (int i = 0; i < dt->nwl; i++) {
		print_wall_table(dt, dt->wls[i]);
		print_cpu_table(dt, dt->wls[i]);
	}
	print_targets(dt);
	printf("What the numbers say:\n\n");
	for (int i = 0; i < dt->nwl; i++)
		say_nosession(dt, dt->wls[i]);
	for (int i = 0; i < dt->nwl; i++)
		say_recording(dt, dt->wls[i]);
}

/* The keys a line may carry (all others are ignored). */
enum key {
	K_CONF, K_WL, K_REP, K_FAIL, K_NS, K_MIN, K_CPU, K_CPU_MIN, K_OPS,
	K_EV_TIMED, K_EV_S, K_EV_RUN, K_REC, K_DISC, NKEYS
};
static const char *const KEY_NAME[NKEYS] = {
	"conf", "wl", "rep", "fail", "median_ns", "min_ns", "cpu_median_ns",
	"cpu_min_ns", "ops", "events_timed", "events_per_s", "events_run",
	"recorded", "discarded",
};

struct line {
	const char *path;
	long no;
	char *val[NKEYS]; /* into the line buffer; NULL if absent */
};

__attribute__((noreturn))
static void bad_field(const struct line *l, enum key k)
{
	die("%s:%ld: missing or malformed %s=", l->path, l->no, KEY_NAME[k]);
}

/* Field k's text; bad_field() if absent or empty. */
static const char *text(const struct line *l, enum key k)
{
	if (!l->val[k] || !*l->val[k])
		bad_field(l, k);
	errno = 0;
	return l->val[k];
}

/* Field k as a decimal number (all of its text). */
static double num(const struct line *l, enum key k)
{
	char *end;
	double x = strtod(text(l, k), &end);

	if (*end || errno == ERANGE)
		bad_field(l, k);
	return x;
}

/* Field k as a decimal integer (all of its text). */
static long long integer(const struct line *l, enum key k)
{
	char *end;
	long long x = strtoll(text(l, k), &end, 10);

	if (*end || errno == ERANGE)
		bad_field(l, k);
	return x;
}

static int index_of(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (s && !strcmp(names[i], s))
			return i;
	return -1;
}

/* Splits buf into the known keys' values (a later field wins). */
static void split_line(char *buf, struct line *l)
{
	char *save = NULL, *tok, *eq;
	int k;

	memset(l->val, 0, sizeof(l->val));
	for (tok = strtok_r(buf, " \t\n\r\v\f", &save); tok;
	     tok = strtok_r(NULL, " \t\n\r\v\f", &save)) {
		eq = strchr(tok, '=');
		if (!eq)
			continue;
		*eq = 0;
		k = index_of(KEY_NAME, NKEYS, tok);
		if (k >= 0)
			l->val[k] = eq + 1;
	}
}

/* A successful run's figures; the recorded/discarded pair if present. */
static struct run parse_run(const struct line *l)
{
	static const enum key fkey[NFIELD] = {
		[F_NS] = K_NS, [F_MIN] = K_MIN, [F_CPU] = K_CPU,
		[F_CPU_MIN] = K_CPU_MIN, [F_EV_S] = K_EV_S,
	};
	struct run r = { 0 };

	r.rep = integer(l, K_REP);
	for (int i = 0; i < NFIELD; i++)
		r.f[i] = num(l, fkey[i]);
	r.ops = integer(l, K_OPS);
	r.ev_timed = integer(l, K_EV_TIMED);
	r.ev_run = integer(l, K_EV_RUN);
	if (l->val[K_REC]) {
		r.has_rec = 1;
		r.rec = integer(l, K_REC);
		r.disc = integer(l, K_DISC);
	}
	return r;
}

/* Keeps r, replacing an earlier run of the same repetition. */
static void add_run(struct runs *d, const struct run *r)
{
	for (size_t i = 0; i < d->n; i++) {
		if (d->v[i].rep == r->rep) {
			d->v[i] = *r;
			return;
		}
	}
	if (d->n == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 32;
		d->v = xrealloc(d->v, d->cap * sizeof(*d->v));
	}
	d->v[d->n++] = *r;
}

/* One line; runs of other workloads or configurations are checked and
 * dropped (no table shows them). */
static void take_line(struct data *dt, struct line *l, char *buf)
{
	struct run r;
	int w, c;

	split_line(buf, l);
	if (!l->val[K_CONF])
		return;
	if (!l->val[K_WL])
		bad_field(l, K_WL);
	w = index_of(WL_KEY, NWL, l->val[K_WL]);
	c = index_of(CONF_KEY, NCONF, l->val[K_CONF]);
	if (l->val[K_FAIL]) {
		if (w >= 0 && c >= 0)
			dt->fails[w][c]++;
		return;
	}
	r = parse_run(l);
	if (w >= 0 && c >= 0)
		add_run(&dt->runs[w][c], &r);
}

/* Every line of path; then each configuration's runs in rep order, the
 * order "reps" prints them and the bootstrap draws them in. */
static void read_raw(struct data *dt, const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0;
	struct line l = { .path = path };

	if (!f)
		die("cannot read %s: %s", path, strerror(errno));
	while (getline(&buf, &cap, f) >= 0) {
		l.no++;
		take_line(dt, &l, buf);
	}
	if (ferror(f))
		die("reading %s: %s", path, strerror(errno));
	fclose(f);
	free(buf);
	for (int w = 0; w < NWL; w++)
		for (int c = 0; c < NCONF; c++)
			if (dt->runs[w][c].n)
				qsort(dt->runs[w][c].v, dt->runs[w][c].n,
				      sizeof(struct run), cmp_rep);
}

static void usage(FILE *to)
{
	fprintf(to,
		"usage: %s tables|reps RAWFILE WORKLOADS INNER_REPS\n\n"
		"The tables of bench/run-tracing.sh (tables), or every repetition's\n"
		"figures (reps), in Markdown, from RAWFILE ($BUILD/bench-tracing/results.txt;\n"
		"format: the top of bench/tracing_summary.c).  WORKLOADS: the run's list\n"
		"(pair,batch,batch1); INNER_REPS: its --inner-reps.\n", prog);
}

static void usage_error(const char *what, const char *arg)
{
	fprintf(stderr, "%s: %s '%s' (try --help)\n", prog, what, arg);
	exit(2);
}

/* The comma-separated workloads, in order (repeats kept, as given). */
static void parse_workloads(struct data *dt, const char *arg)
{
	const char *p = arg;

	dt->nwl = 0;
	for (;;) {
		size_t len = strcspn(p, ",");
		char name[16];
		int w = -1;

		if (len < sizeof(name)) {
			memcpy(name, p, len);
			name[len] = 0;
			w = index_of(WL_KEY, NWL, name);
		}
		if (w < 0 || dt->nwl == MAXWL)
			usage_error("bad workload list (pair, batch, batch1)", arg);
		dt->wls[dt->nwl++] = w;
		dt->listed[w] = 1;
		if (!p[len])
			break;
		p += len + 1;
	}
}

static long long parse_inner(const char *arg)
{
	char *end;
	long long x;

	errno = 0;
	x = strtoll(arg, &end, 10);
	if (!*arg || *end || errno == ERANGE || x < 1 || x > 1000000)
		usage_error("bad INNER_REPS (a count from 1)", arg);
	return x;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	static struct data dt;
	int o, reps;

	opterr = 0; /* one line of our own instead of getopt's */
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (o != 'h')
			usage_error("bad option", argv[optind - 1]);
		usage(stdout);
		return 0;
	}
	if (argc - optind != 4) {
		fprintf(stderr, "%s: needs 4 arguments: tables|reps RAWFILE WORKLOADS "
			"INNER_REPS (try --help)\n", prog);
		return 2;
	}
	argv += optind;
	if (strcmp(argv[0], "tables") && strcmp(argv[0], "reps"))
		usage_error("bad mode (tables or reps)", argv[0]);
	reps = !strcmp(argv[0], "reps");
	parse_workloads(&dt, argv[2]);
	dt.inner = parse_inner(argv[3]);
	read_raw(&dt, argv[1]);
	if (reps)
		print_reps(&dt);
	else
		print_tables(&dt);
	if (fflush(stdout) || ferror(stdout))
		die("writing the output: %s", strerror(errno));
	return 0;
}
