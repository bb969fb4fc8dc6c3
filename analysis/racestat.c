/*
 * racestat.c — medians with order-statistic intervals, and Wilcoxon's
 * signed-rank comparison of two settings paired by round (racestat.h says
 * what and why).
 *
 * Owns nothing.  Every function works on copies of its input; the only
 * memory it takes is freed before it returns.
 *
 * Numbers: binomial and signed-rank null distributions are computed
 * exactly in doubles (2^n subsets are counted, not sampled; with n at most
 * RS_MAX_ROUNDS = 200 the counts stay below 2^200, well inside a double's
 * range, and only their ratios are used).
 */
#include "racestat.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double *sorted_copy(const double *x, size_t n)
{
	double *c = malloc((n ? n : 1) * sizeof(*c));

	if (!c)
		return NULL;
	memcpy(c, x, n * sizeof(*c));
	qsort(c, n, sizeof(*c), cmp_double);
	return c;
}

static double median_sorted(const double *s, size_t n)
{
	return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

/* ---- the median and its interval -------------------------------------- */

/* P(Bin(n, 1/2) <= k). */
static double binom_half_cdf(size_t n, size_t k)
{
	double term = ldexp(1.0, -(int)n), sum = 0;

	for (size_t i = 0; i <= k && i <= n; i++) {
		sum += term;
		term = term * (double)(n - i) / (double)(i + 1);
	}
	return sum;
}

int rs_median_ci(const double *x, size_t n, double level,
		 struct rs_median *out)
{
	double alpha2 = (1 - level) / 2;
	double *s;
	size_t j = 1;

	if (!n || !(s = sorted_copy(x, n)))
		return -1;
	/* The largest j with P(Bin <= j - 1) <= alpha/2: [x_(j), x_(n-j+1)]. */
	while (j + 1 <= (n + 1) / 2 && binom_half_cdf(n, j) <= alpha2)
		j++;
	out->median = median_sorted(s, n);
	out->lo = s[j - 1];
	out->hi = s[n - j];
	out->conf = 1 - 2 * binom_half_cdf(n, j - 1);
	free(s);
	return 0;
}

/* ---- Wilcoxon's signed-rank test ----------------------------------------- */

/* Doubled midranks of |d[0..n)| (ties share their average rank). */
static void doubled_ranks(const double *d, size_t n, unsigned int *r2)
{
	for (size_t i = 0; i < n; i++) {
		size_t below = 0, same = 0;

		for (size_t j = 0; j < n; j++) {
			if (fabs(d[j]) < fabs(d[i]))
				below++;
			else if (fabs(d[j]) == fabs(d[i]))
				same++;
		}
		/* ranks below+1 .. below+same; doubled midrank: */
		r2[i] = (unsigned int)(2 * below + same + 1);
	}
}

/* The null distribution of the doubled W+ (every sign equally likely):
 * dist[s] = P(doubled W+ = s), s in 0..total.  Caller frees. */
static double *signed_rank_null(const unsigned int *r2, size_t n,
				unsigned int *total)
{
	unsigned int max = 0;
	double *dist;

	for (size_t i = 0; i < n; i++)
		max += r2[i];
	dist = calloc((size_t)max + 1, sizeof(*dist));
	if (!dist)
		return NULL;
	dist[0] = 1;
	for (size_t i = 0, top = 0; i < n; i++) {
		for (size_t s = top + 1; s-- > 0;)
			if (dist[s] != 0)
				dist[s + r2[i]] += dist[s];
		top += r2[i];
	}
	for (unsigned int s = 0; s <= max; s++)
		dist[s] = ldexp(dist[s], -(int)n);
	*total = max;
	return dist;
}

static double two_sided_p(const double *dist, unsigned int total,
			  unsigned int w)
{
	double below = 0, above = 0;

	for (unsigned int s = 0; s <= total; s++) {
		if (s <= w)
			below += dist[s];
		if (s >= w)
			above += dist[s];
	}
	below = below < above ? below : above;
	return below * 2 < 1 ? below * 2 : 1;
}

/* The signed-rank test's p-value for d[0..n). */
static int signed_rank_p(const double *d, size_t n, double *p)
{
	unsigned int *r2 = malloc(n * sizeof(*r2)), total, w = 0;
	double *dist;

	if (!r2)
		return -1;
	doubled_ranks(d, n, r2);
	for (size_t i = 0; i < n; i++)
		if (d[i] > 0)
			w += r2[i];
	dist = signed_rank_null(r2, n, &total);
	free(r2);
	if (!dist)
		return -1;
	*p = two_sided_p(dist, total, w);
	free(dist);
	return 0;
}

/* The Walsh averages (d_i + d_j) / 2, i <= j, sorted.  Caller frees. */
static double *walsh_averages(const double *d, size_t n, size_t *m)
{
	double *w = malloc(n * (n + 1) / 2 * sizeof(*w));
	size_t k = 0;

	if (!w)
		return NULL;
	for (size_t i = 0; i < n; i++)
		for (size_t j = i; j < n; j++)
			w[k++] = (d[i] + d[j]) / 2;
	qsort(w, k, sizeof(*w), cmp_double);
	*m = k;
	return w;
}

/* The null distribution of W+ for untied ranks 1..n, as a running sum:
 * cdf[k] = P(W+ <= k), k in 0..n(n+1)/2.  Caller frees. */
static double *signed_rank_cdf(size_t n, size_t *total)
{
	unsigned int *r2 = malloc(n * sizeof(*r2)), t2;
	double *dist, *cdf;

	if (!r2)
		return NULL;
	for (size_t i = 0; i < n; i++)
		r2[i] = (unsigned int)(i + 1);
	dist = signed_rank_null(r2, n, &t2);
	free(r2);
	if (!dist)
		return NULL;
	cdf = dist;             /* in place */
	for (unsigned int s = 1; s <= t2; s++)
		cdf[s] += cdf[s - 1];
	*total = t2;
	return cdf;
}

/* Hodges-Lehmann estimate and its exact interval from the Walsh averages. */
static int hodges_lehmann(const double *d, size_t n, double level,
			  struct rs_paired *out)
{
	double alpha2 = (1 - level) / 2;
	size_t m, k = 1, total;
	double *w = walsh_averages(d, n, &m), *cdf = signed_rank_cdf(n, &total);

	if (!w || !cdf) {
		free(w);
		free(cdf);
		return -1;
	}
	/* The largest k with P(W+ <= k - 1) <= alpha/2: [W_(k), W_(m-k+1)]. */
	while (k + 1 <= (m + 1) / 2 && cdf[k] <= alpha2)
		k++;
	out->ratio = exp(median_sorted(w, m));
	out->lo = exp(w[k - 1]);
	out->hi = exp(w[m - k]);
	out->conf = 1 - 2 * cdf[k - 1];
	free(w);
	free(cdf);
	return 0;
}

/* Log ratios of the rounds that differ; returns how many. */
static size_t log_ratios(const double *a, const double *b, size_t n,
			 double *d)
{
	size_t k = 0;

	for (size_t r = 0; r < n; r++) {
		double x = log(a[r]) - log(b[r]);

		if (x != 0)
			d[k++] = x;
	}
	return k;
}

int rs_paired_compare(const double *a, const double *b, size_t n,
		      double level, struct rs_paired *out)
{
	double *d;
	size_t k;
	int rc = 0;

	if (n > RS_MAX_ROUNDS)
		return -1;
	for (size_t r = 0; r < n; r++)
		if (!(a[r] > 0) || !(b[r] > 0))
			return -1;
	memset(out, 0, sizeof(*out));
	out->ratio = 1;
	out->hi = INFINITY;
	out->p = 1;
	if (!(d = malloc((n ? n : 1) * sizeof(*d))))
		return -1;
	k = log_ratios(a, b, n, d);
	out->n = k;
	if (k >= 2)
		rc = signed_rank_p(d, k, &out->p) ||
		     hodges_lehmann(d, k, level, out);
	free(d);
	if (rc)
		return -1;
	if (out->conf >= level && out->lo > 1)
		out->verdict = RS_A_BETTER;
	else if (out->conf >= level && out->hi < 1)
		out->verdict = RS_B_BETTER;
	return 0;
}

/* ---- the generator ---------------------------------------------------------- */

void rs_rng_seed(struct rs_rng *r, uint64_t seed)
{
	r->s = seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
	if (!r->s)
		r->s = 1;
}

/* xorshift64* */
uint64_t rs_rand(struct rs_rng *r)
{
	uint64_t x = r->s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

double rs_uniform(struct rs_rng *r)
{
	return ((double)(rs_rand(r) >> 11) + 0.5) / 9007199254740992.0;
}

/* Box-Muller: one of the pair. */
double rs_normal(struct rs_rng *r)
{
	double u = rs_uniform(r), v = rs_uniform(r);

	return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

void rs_shuffle(struct rs_rng *r, unsigned int *idx, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = (size_t)(rs_rand(r) % i);
		unsigned int t = idx[i - 1];

		idx[i - 1] = idx[j];
		idx[j] = t;
	}
}
