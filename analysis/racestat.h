/*
 * racestat.h — the statistics behind `magslab tune`'s race and verdicts
 * (docs/tune.md "How settings are compared"): medians with distribution-free
 * confidence intervals, and a paired comparison of two settings over the
 * rounds of a race.
 *
 * Owns nothing: pure functions of their arguments (no allocation beyond the
 * call, no global state; a caller-seeded generator where randomness is
 * needed).
 *
 * The comparison is Wilcoxon's signed-rank test on the per-round log
 * ratios, exact (no normal approximation), with the Hodges-Lehmann estimate
 * of the ratio and its exact confidence interval from the Walsh averages.
 * Why: throughput on a shared machine is neither normal nor steady; pairing
 * by round cancels what drifts between rounds (every setting runs once per
 * round, in a shuffled order), log ratios make the noise multiplicative-
 * symmetric, and an exact rank test keeps its stated error rate at any
 * number of rounds (a bootstrap interval undercovers with 5-20 rounds).
 */
#ifndef MAGSLAB_RACESTAT_H
#define MAGSLAB_RACESTAT_H

#include <stddef.h>
#include <stdint.h>

/* A median and its confidence interval [lo, hi]; conf is the coverage the
 * order statistics achieve (>= the level asked for, or the most n allows:
 * 1 - 2^(1-n) with lo = min and hi = max). */
struct rs_median {
	double median, lo, hi, conf;
};

/* Median of x[0..n) (n >= 1) with an interval from the order statistics
 * (binomial with p = 1/2: exact for any continuous distribution).  level:
 * e.g. 0.95.  Returns 0, or -1 if n == 0 or memory is short. */
int rs_median_ci(const double *x, size_t n, double level,
		 struct rs_median *out);

enum rs_verdict {
	RS_TIED = 0,            /* no difference detectable at this level */
	RS_A_BETTER = 1,        /* a's values are higher */
	RS_B_BETTER = -1,
};

/* a against b, paired by round: a[r] and b[r] were measured in round r
 * (all > 0, higher is better: turn a lower-is-better figure into its
 * reciprocal first). */
struct rs_paired {
	size_t n;               /* rounds used (pairs with a[r] != b[r]) */
	double ratio;           /* Hodges-Lehmann estimate of a/b */
	double lo, hi;          /* its confidence interval */
	double conf;            /* the coverage achieved */
	double p;               /* two-sided p-value of "no difference" */
	enum rs_verdict verdict;/* lo > 1: A; hi < 1: B; else tied */
};

/* Compares a and b over n rounds at confidence level (e.g. 0.95).  With
 * fewer than 2 usable rounds the result is tied with lo = 0, hi = +inf.
 * Returns 0, or -1 on bad input (n > RS_MAX_ROUNDS, a value <= 0) or
 * when memory is short. */
int rs_paired_compare(const double *a, const double *b, size_t n,
		      double level, struct rs_paired *out);

#define RS_MAX_ROUNDS 200

/* The deterministic generator of the race's shuffles and the tests. */
struct rs_rng {
	uint64_t s;
};

void rs_rng_seed(struct rs_rng *r, uint64_t seed);
uint64_t rs_rand(struct rs_rng *r);
double rs_uniform(struct rs_rng *r);            /* in (0, 1) */
double rs_normal(struct rs_rng *r);             /* standard normal */
/* Fisher-Yates shuffle of idx[0..n). */
void rs_shuffle(struct rs_rng *r, unsigned int *idx, size_t n);

#endif /* MAGSLAB_RACESTAT_H */
