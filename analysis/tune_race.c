/*
 * analysis/tune_race.c — the design of `magslab tune` (tune_impl.h; docs/tune.md "The
 * race"): rounds, comparisons, the recommendation and the held-out check.
 *
 *   rounds       every setting still in the race runs once per round, in an order
 *                shuffled every round (racestat.h's rs_shuffle, seeded by --seed), with
 *                the round's seed (--seed + r), so that drift hits all settings alike and
 *                every two settings can be compared round by round
 *   comparisons  after every round, the best setting (the best median of the objective
 *                among those still in) against each of the others: Wilcoxon's exact
 *                signed-rank test on the per-round log ratios (rs_paired_compare), with
 *                Holm's step-down correction over those comparisons (family-wise error
 *                5 % per round); a setting the test finds worse than the best is
 *                eliminated (a race, from round MIN_ROUNDS on) or only marked (a fixed
 *                design, --repeat)
 *   stopping     one setting left; the ones left equivalent (each one's 95 % interval
 *                against the best within +-margin: an intersection-union test, so no
 *                correction); MAX_ROUNDS; or the next round (and the check) would not fit
 *                the budget
 *   summary      every figure's median and 95 % interval (rs_median_ci), the Pareto front
 *                of the objective against bytes in magazines, and the recommended
 *                setting: the least memory among the settings tied with the best
 *   check        the recommended setting and the default, --check pairs, each pair with
 *                a new seed (--seed + rounds + k) in a random order, compared with the
 *                same paired test on the objective and on bytes in magazines
 *
 * Owns the race's state in struct tune (rounds, nalive, stop_why, the cells' runs and
 * verdicts) and struct check.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tune_impl.h"
#include "util.h"

/* ---- small helpers ----------------------------------------------------------------- */

unsigned int tune_rounds_to_reject(size_t m)
{
	unsigned int n = MIN_ROUNDS;

	/* The smallest two-sided p of n rounds is 2^(1-n) (all of one sign); Holm's first
	 * threshold with m comparisons is ALPHA / m. */
	while (ldexp(1.0, 1 - (int)n) > ALPHA / (double)(m ? m : 1))
		n++;
	return n;
}

bool tune_worse(const struct tune *t, const struct rs_paired *p)
{
	return tune_better(t, t->objective) > 0 ? p->ratio < 1 : p->ratio > 1;
}

/* a's objective value better than b's. */
static bool obj_better(const struct tune *t, double a, double b)
{
	return tune_better(t, t->objective) > 0 ? a > b : a < b;
}

static int add_run(struct tune *t, struct cell *c, const struct metrics *m)
{
	if (c->nruns == c->cap) {
		unsigned int cap = c->cap ? 2 * c->cap : 8;
		struct metrics *r = realloc(c->runs, cap * sizeof(*r));

		if (!r)
			return tune_err(t, "out of memory");
		c->runs = r;
		c->cap = cap;
	}
	c->runs[c->nruns++] = *m;
	return 0;
}

/* Every figure's median and 95 % interval over runs[0..n) (NAN where none). */
static void medians_of(const struct metrics *runs, unsigned int n, struct rs_median *out)
{
	double v[MAX_ROUNDS];
	unsigned int r, k;
	int f;

	for (f = 0; f < NMETRICS; f++) {
		for (r = k = 0; r < n; r++)
			if (!isnan(runs[r].v[f]))
				v[k++] = runs[r].v[f];
		if (k == 0 || rs_median_ci(v, k, LEVEL, &out[f]) != 0)
			out[f] = (struct rs_median){ NAN, NAN, NAN, 0 };
	}
}

/* One figure of runs[0..n) into v. */
static void column(const struct metrics *runs, unsigned int n, enum metric f, double *v)
{
	unsigned int r;

	for (r = 0; r < n; r++)
		v[r] = runs[r].v[f];
}

/* a against b on figure f over their first n runs: ratio a / b.  0, or -1. */
static int compare_runs(const struct metrics *a, const struct metrics *b, unsigned int n,
			enum metric f, struct rs_paired *out)
{
	double x[MAX_ROUNDS], y[MAX_ROUNDS];

	column(a, n, f, x);
	column(b, n, f, y);
	return rs_paired_compare(x, y, n, LEVEL, out);
}

/* ---- the rounds -------------------------------------------------------------------- */

/* The best setting still in the race: the best median of the objective over the rounds. */
static size_t pick_best(struct tune *t)
{
	size_t i, best = SIZE_MAX;

	for (i = 0; i < t->ncells; i++) {
		struct cell *c = &t->cells[i];

		c->best = false;
		if (!c->alive)
			continue;
		medians_of(c->runs, c->nruns, c->med);
		if (best == SIZE_MAX ||
		    obj_better(t, c->med[t->objective].median,
			       t->cells[best].med[t->objective].median))
			best = i;
	}
	return best;
}

/* Holm's step-down over the comparisons idx[0..m) (p ascending): reject while p <= ALPHA
 * / (m - k); a rejected setting is worse than the best (eliminated if eliminate). */
static void holm(struct tune *t, size_t *idx, size_t m, bool eliminate)
{
	bool rejecting = true;
	size_t k, j;

	for (k = 1; k < m; k++)
		for (j = k; j > 0 && t->cells[idx[j]].vs.p < t->cells[idx[j - 1]].vs.p; j--) {
			size_t x = idx[j];

			idx[j] = idx[j - 1];
			idx[j - 1] = x;
		}
	for (k = 0; k < m; k++) {
		struct cell *c = &t->cells[idx[k]];

		c->holm = ALPHA / (double)(m - k);
		rejecting = rejecting && c->vs.p <= c->holm && tune_worse(t, &c->vs);
		c->tied = !rejecting;
		if (rejecting && eliminate && t->rounds >= MIN_ROUNDS) {
			c->alive = false;
			c->out_after = t->rounds;
			t->nalive--;
		}
	}
}

/* After a round: the best, and every other setting still in against it. */
static int compare_alive(struct tune *t, bool eliminate)
{
	size_t idx[MAX_LIST * MAX_LIST], m = 0, i;
	struct cell *best;

	t->best = pick_best(t);
	best = &t->cells[t->best];
	best->best = best->tied = true;
	best->holm = 0;
	best->vs = (struct rs_paired){ .ratio = 1, .lo = 1, .hi = 1, .p = 1, .conf = 1 };
	for (i = 0; i < t->ncells; i++) {
		struct cell *c = &t->cells[i];

		if (!c->alive || c == best)
			continue;
		if (compare_runs(c->runs, best->runs, t->rounds, t->objective, &c->vs) != 0)
			return tune_err(t, "comparing two settings failed (out of memory)");
		idx[m++] = i;
	}
	holm(t, idx, m, eliminate);
	return 0;
}

/* The settings left are equivalent: each one's interval against the best lies within
 * +-margin (all must: an intersection-union test needs no correction). */
static bool equivalent(const struct tune *t)
{
	size_t i;

	if (t->nalive < 2 || t->rounds < MIN_ROUNDS)
		return false;
	for (i = 0; i < t->ncells; i++) {
		const struct rs_paired *p = &t->cells[i].vs;

		if (!t->cells[i].alive || t->cells[i].best)
			continue;
		if (p->conf < LEVEL || p->lo < 1 / (1 + t->margin) || p->hi > 1 + t->margin)
			return false;
	}
	return true;
}

/* Whether another round and the check fit the budget. */
static bool next_round_fits(const struct tune *t)
{
	double runs = (double)(t->nalive + 2 * t->ncheck), per;

	if (t->budget_is_runs)
		return t->runs_done + runs <= t->budget;
	per = (fe_now_s() - t->t0) / t->runs_done;
	return fe_now_s() - t->t0 + runs * per <= t->budget;
}

/* Whether the rounds are over (t->stop_why says why, for a race). */
static bool race_over(struct tune *t)
{
	char *w = t->stop_why;
	size_t len = sizeof(t->stop_why);

	if (!t->race)
		return t->rounds >= t->repeat;
	if (t->nalive == 1)
		snprintf(w, len, "one setting left after %u rounds", t->rounds);
	else if (equivalent(t))
		snprintf(w, len, "the %u settings left are equivalent (each within +-%g %% of the "
			 "best, 95 %%) after %u rounds", t->nalive, t->margin * 100, t->rounds);
	else if (t->rounds >= MAX_ROUNDS)
		snprintf(w, len, "%u rounds, the most there can be; %u settings left", t->rounds,
			 t->nalive);
	else if (!next_round_fits(t))
		snprintf(w, len, "the budget is spent after %u rounds; %u settings left, not told "
			 "apart", t->rounds, t->nalive);
	else
		return false;
	return true;
}

/* One round: every setting still in, in a shuffled order. */
static int run_round(struct tune *t)
{
	unsigned int order[MAX_LIST * MAX_LIST], n = 0, k;
	struct applied ap;
	size_t i;
	int rc;

	for (i = 0; i < t->ncells; i++)
		if (t->cells[i].alive)
			order[n++] = (unsigned int)i;
	rs_shuffle(&t->rng, order, n);
	t->round_len = n;
	for (k = 0; k < n; k++) {
		struct cell *c = &t->cells[order[k]];
		struct setting s = { false, c->threshold, c->timeout_ns };
		struct metrics m;

		t->round_at = k;
		if ((rc = tune_run_once(t, &s, NULL, t->seed + t->rounds, &m, &ap)) != 0)
			return rc;
		if (add_run(t, c, &m) != 0)
			return 1;
	}
	return 0;
}

int tune_run_rounds(struct tune *t)
{
	size_t i;
	int rc;

	for (i = 0; i < t->ncells; i++) {
		t->cells[i].threshold = t->thresholds[i / t->ntimeouts];
		t->cells[i].timeout_ns = t->timeouts[i % t->ntimeouts];
		t->cells[i].alive = true;
	}
	t->nalive = (unsigned int)t->ncells;
	rs_rng_seed(&t->rng, t->seed);
	for (;;) {
		if ((rc = run_round(t)) != 0)
			return rc;
		t->rounds++;
		if (compare_alive(t, t->race) != 0)
			return 1;
		if (race_over(t))
			return 0;
	}
}

/* Runs still to come, the one going on included; *at_most when it is the budget's
 * bound rather than a count. */
double tune_runs_left(const struct tune *t, bool *at_most)
{
	double check = 2.0 * t->ncheck, in_round = t->round_len - t->round_at, per;

	*at_most = false;
	if (t->in_check)
		return check - t->round_at;
	if (!t->race)
		return (double)t->ncells * t->repeat - t->runs_done + check;
	*at_most = true;
	if (t->budget_is_runs)
		return fmax(t->budget - t->runs_done, in_round + check);
	per = (t->run_t0 - t->t0) / (t->runs_done ? t->runs_done : 1);
	return fmax((t->t0 + t->budget - t->run_t0) / per, in_round + check);
}

/* ---- the summary and the recommendation ------------------------------------------- */

/* a dominates b: at least as good on the objective and as small, better in one. */
static bool dominates(const struct tune *t, const struct cell *a, const struct cell *b)
{
	double oa = a->med[t->objective].median, ob = b->med[t->objective].median;
	double ba = a->med[M_BYTES].median, bb = b->med[M_BYTES].median;
	bool ge = oa == ob || obj_better(t, oa, ob);

	return ge && ba <= bb && (oa != ob || ba < bb);
}

static void mark_pareto(struct tune *t)
{
	size_t i, j;

	for (i = 0; i < t->ncells; i++) {
		t->cells[i].pareto = true;
		for (j = 0; j < t->ncells; j++)
			if (j != i && dominates(t, &t->cells[j], &t->cells[i]))
				t->cells[i].pareto = false;
	}
}

/* NAN sorts after every number. */
static int cmp_nan_last(double a, double b)
{
	if (isnan(a) || isnan(b))
		return isnan(a) - isnan(b);
	return a < b ? -1 : a > b;
}

bool tune_preferred(const struct tune *t, const struct cell *a, const struct cell *b)
{
	static const enum metric order[] = { M_BYTES, M_CONTENTION, M_SETTLE };
	double oa = a->med[t->objective].median, ob = b->med[t->objective].median;
	size_t k;

	for (k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		int c = cmp_nan_last(a->med[order[k]].median, b->med[order[k]].median);

		if (c)
			return c < 0;
	}
	return obj_better(t, oa, ob);
}

void tune_summarize(struct tune *t)
{
	size_t i, rec = t->best;

	for (i = 0; i < t->ncells; i++)
		medians_of(t->cells[i].runs, t->cells[i].nruns, t->cells[i].med);
	mark_pareto(t);
	for (i = 0; i < t->ncells; i++)
		if (t->cells[i].tied && tune_preferred(t, &t->cells[i], &t->cells[rec]))
			rec = i;
	t->rec = rec;
	t->cells[rec].recommended = true;
}

/* ---- the held-out check ------------------------------------------------------------ */

/* The two settings' medians, and their comparisons (objective; bytes if all above 0). */
static void check_stats(struct tune *t)
{
	struct check *k = &t->check;
	unsigned int r;

	medians_of(k->runs[0], k->n, k->med[0]);
	medians_of(k->runs[1], k->n, k->med[1]);
	k->have_obj = compare_runs(k->runs[0], k->runs[1], k->n, t->objective, &k->obj) == 0;
	k->have_bytes = true;
	for (r = 0; r < k->n; r++)
		k->have_bytes &= k->runs[0][r].v[M_BYTES] > 0 && k->runs[1][r].v[M_BYTES] > 0;
	if (k->have_bytes)
		k->have_bytes = compare_runs(k->runs[0], k->runs[1], k->n, M_BYTES, &k->bytes) == 0;
}

int tune_run_check(struct tune *t)
{
	const struct cell *c = &t->cells[t->rec];
	const struct setting set[2] = { { false, c->threshold, c->timeout_ns }, { true, 0, 0 } };
	static const char *const what[2] = { "recommended", "default" };
	struct check *k = &t->check;
	struct applied ap[2];
	unsigned int i, j;
	int rc;

	t->in_check = true;
	k->seed0 = t->seed + t->rounds;
	for (i = 0; i < t->ncheck; i++) {
		unsigned int first = (unsigned int)(rs_rand(&t->rng) & 1);

		for (j = 0; j < 2; j++) {
			unsigned int w = j ^ first;

			t->round_at = 2 * i + j;
			rc = tune_run_once(t, &set[w], what[w], k->seed0 + i, &k->runs[w][i], &ap[w]);
			if (rc)
				return rc;
		}
		k->n = i + 1;
	}
	t->dflt = ap[1];
	t->in_check = false;
	check_stats(t);
	return 0;
}
