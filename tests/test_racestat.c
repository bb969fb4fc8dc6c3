/*
 * test_racestat.c — the statistics of `magslab tune` (analysis/racestat.c)
 * on synthetic data with known answers.
 *
 *   order-statistic median intervals: exact bounds and coverage for small
 *       n, and >= 95 % coverage of the true median in simulation;
 *   Wilcoxon's signed-rank comparison: an exact p-value by hand; identical
 *       distributions judged "no difference" in >= 95 % of trials (within
 *       the binomial error of the trials run); a 20 % shift under the noise
 *       magslab tune saw on this machine (one setting's throughput spread by
 *       up to 67 % over three runs: lognormal sigma 0.3 per run, plus a
 *       drift common to each round) detected in >= 90 % of trials with 80
 *       rounds (50: 85 %, 40: 74 %), its direction never reversed, and its
 *       95 % interval holding the true ratio in >= 94 % of trials.
 *
 * analysis/ is not part of the library, so the module is compiled into
 * this test directly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>

#include "../analysis/racestat.c"

#define TRIALS  1000
#define SIGMA   0.30    /* per-run noise, lognormal */
#define DRIFT   0.20    /* per-round noise common to every setting */
#ifndef RS_SHIFT_ROUNDS
#define RS_SHIFT_ROUNDS 80
#endif

static void test_median_small_n(void **state)
{
	const double x[5] = { 5, 1, 4, 2, 3 };
	struct rs_median m;

	(void)state;
	assert_int_equal(rs_median_ci(x, 5, 0.95, &m), 0);
	assert_true(m.median == 3);
	/* n = 5 cannot reach 95 %: min..max, 1 - 2/32. */
	assert_true(m.lo == 1 && m.hi == 5);
	assert_true(fabs(m.conf - 0.9375) < 1e-12);
	assert_int_equal(rs_median_ci(x, 0, 0.95, &m), -1);
}

static void test_median_n10(void **state)
{
	double x[10];
	struct rs_median m;

	(void)state;
	for (int i = 0; i < 10; i++)
		x[i] = 10 - i;          /* 10..1 */
	assert_int_equal(rs_median_ci(x, 10, 0.95, &m), 0);
	assert_true(m.median == 5.5);
	/* P(Bin(10,1/2) <= 1) = 11/1024 <= 0.025 < P(<= 2): x_(2)..x_(9). */
	assert_true(m.lo == 2 && m.hi == 9);
	assert_true(fabs(m.conf - (1 - 22.0 / 1024)) < 1e-12);
}

/* The interval covers the true median (1 for lognormal(0, s)). */
static void test_median_coverage(void **state)
{
	struct rs_rng r;
	int covered = 0;

	(void)state;
	rs_rng_seed(&r, 42);
	for (int t = 0; t < TRIALS; t++) {
		double x[9];
		struct rs_median m;

		for (int i = 0; i < 9; i++)
			x[i] = exp(SIGMA * rs_normal(&r));
		assert_int_equal(rs_median_ci(x, 9, 0.95, &m), 0);
		covered += m.lo <= 1 && 1 <= m.hi;
	}
	print_message("    median interval (n 9) covered the median in %d of %d\n",
		      covered, TRIALS);
	assert_true(covered >= TRIALS * 95 / 100);
}

static void test_signed_rank_by_hand(void **state)
{
	const double a[5] = { 2, 3, 4, 5, 6 }, b[5] = { 1, 1, 1, 1, 1 };
	const double c[6] = { 2, 3, 4, 5, 6, 7 }, e[6] = { 1, 1, 1, 1, 1, 1 };
	struct rs_paired p;

	(void)state;
	/* Every difference positive: W+ = 15 of 15, P = 1/32 each side. */
	assert_int_equal(rs_paired_compare(a, b, 5, 0.95, &p), 0);
	assert_int_equal(p.n, 5);
	assert_true(fabs(p.p - 2.0 / 32) < 1e-12);
	/* ... but five rounds cannot make 95 %: tied, and the interval says
	 * how sure it is. */
	assert_int_equal(p.verdict, RS_TIED);
	assert_true(p.conf < 0.95);
	/* Six rounds can (p = 2/64). */
	assert_int_equal(rs_paired_compare(c, e, 6, 0.95, &p), 0);
	assert_true(fabs(p.p - 2.0 / 64) < 1e-12);
	assert_int_equal(p.verdict, RS_A_BETTER);
	assert_true(p.lo > 1 && p.ratio > p.lo && p.hi >= p.ratio);
	assert_int_equal(rs_paired_compare(e, c, 6, 0.95, &p), 0);
	assert_int_equal(p.verdict, RS_B_BETTER);
	assert_true(p.hi < 1);
	/* Equal rounds carry no information. */
	assert_int_equal(rs_paired_compare(e, e, 6, 0.95, &p), 0);
	assert_int_equal(p.n, 0);
	assert_int_equal(p.verdict, RS_TIED);
	/* Bad input. */
	assert_int_equal(rs_paired_compare(a, e, 5, 0.95, &p), 0);
	{
		const double z[2] = { 1, 0 };

		assert_int_equal(rs_paired_compare(z, z, 2, 0.95, &p), -1);
	}
}

/* Rounds of two settings: round drift common to both, per-run noise each,
 * b's median shifted by `shift` (1.0: the same distribution). */
static void draw_rounds(struct rs_rng *r, double *a, double *b, size_t n,
			double shift)
{
	for (size_t i = 0; i < n; i++) {
		double drift = DRIFT * rs_normal(r);

		a[i] = 30 * exp(drift + SIGMA * rs_normal(r));
		b[i] = 30 * shift * exp(drift + SIGMA * rs_normal(r));
	}
}

/* Identical distributions: "no difference" in >= 95 % of trials.  The
 * test is exact, so the rate it promises is at least 95 % (a little more:
 * its p-values are discrete) and what a finite number of trials shows
 * scatters around that by the binomial standard error; the check allows
 * three of those below 95 % (IDENT_TRIALS trials: 1.5 points) and, where
 * it declares a difference, that it did so at >= 95 % confidence. */
#define IDENT_TRIALS 2000

static void test_identical_mostly_tied(void **state)
{
	size_t rounds[] = { 6, 10, 20, 40 };
	double allow = 3 * sqrt(0.05 * 0.95 / IDENT_TRIALS);
	struct rs_rng r;

	(void)state;
	rs_rng_seed(&r, 7);
	for (size_t k = 0; k < sizeof(rounds) / sizeof(rounds[0]); k++) {
		double a[40], b[40];
		int tied = 0;

		for (int t = 0; t < IDENT_TRIALS; t++) {
			struct rs_paired p;

			draw_rounds(&r, a, b, rounds[k], 1.0);
			assert_int_equal(rs_paired_compare(a, b, rounds[k], 0.95,
							   &p), 0);
			tied += p.verdict == RS_TIED;
			if (p.verdict != RS_TIED)
				assert_true(p.conf >= 0.95 && p.p <= 0.05);
		}
		print_message("    identical, %zu rounds: no difference in %d "
			      "of %d (%.1f %%)\n", rounds[k], tied, IDENT_TRIALS,
			      100.0 * tied / IDENT_TRIALS);
		assert_true((double)tied / IDENT_TRIALS >= 0.95 - allow);
	}
}

static void test_shift_detected(void **state)
{
	struct rs_rng r;
	int found = 0, reversed = 0, ci_ok = 0;
	const size_t n = RS_SHIFT_ROUNDS;

	(void)state;
	rs_rng_seed(&r, 11);
	for (int t = 0; t < TRIALS; t++) {
		double a[RS_SHIFT_ROUNDS], b[RS_SHIFT_ROUNDS];
		struct rs_paired p;

		draw_rounds(&r, a, b, n, 1.2);
		assert_int_equal(rs_paired_compare(b, a, n, 0.95, &p), 0);
		found += p.verdict == RS_A_BETTER;
		reversed += p.verdict == RS_B_BETTER;
		ci_ok += p.lo <= 1.2 && 1.2 <= p.hi;
	}
	print_message("    20 %% shift, %zu rounds: detected in %d of %d, "
		      "reversed %d, interval held 1.2 in %d\n", n, found,
		      TRIALS, reversed, ci_ok);
	assert_true(found >= TRIALS * 90 / 100);
	assert_int_equal(reversed, 0);
	assert_true(ci_ok >= TRIALS * 94 / 100);
}

static void test_shuffle_is_permutation(void **state)
{
	unsigned int idx[16], seen[16] = { 0 };
	struct rs_rng r;

	(void)state;
	rs_rng_seed(&r, 3);
	for (unsigned int i = 0; i < 16; i++)
		idx[i] = i;
	rs_shuffle(&r, idx, 16);
	for (unsigned int i = 0; i < 16; i++)
		seen[idx[i]]++;
	for (unsigned int i = 0; i < 16; i++)
		assert_int_equal(seen[i], 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_median_small_n),
		cmocka_unit_test(test_median_n10),
		cmocka_unit_test(test_median_coverage),
		cmocka_unit_test(test_signed_rank_by_hand),
		cmocka_unit_test(test_identical_mostly_tied),
		cmocka_unit_test(test_shift_detected),
		cmocka_unit_test(test_shuffle_is_permutation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
