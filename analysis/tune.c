/*
 * analysis/tune.c — `magslab tune` (see tune.h; the output contract is docs/tune.md): the
 * options, and the job in order: the programs and OUTDIR checked (prepare), the rounds
 * (a race or a fixed design), the summary and recommendation, the files, the held-out
 * check, the summary on stdout.  The rounds and the check are tune_race.c's, each run
 * tune_run.c's, the words and files tune_out.c's and tune_plot.c's (tune_impl.h has the
 * map).
 *
 * The options are getopt_long's.  Workload mode: WORKLOAD first; then tune's own options
 * and the workload's, in any order (as `magslab run` takes them), and anything after "--"
 * goes to the workload too; an option tune does not know is the workload's, and
 * `magslab-workload WORKLOAD ... --check-options` judges all of them before the first run,
 * so a typo is a usage error with the workload's one-line reason, never a failed run.
 * --preload: tune's options before "--", CMD after it; an unknown option is an error.
 */
#include "tune.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gnuplot.h"
#include "proc.h"
#include "tune_impl.h"
#include "util.h"

#define DEFAULT_OUTDIR "magslab-tune"

/* ---- messages ---------------------------------------------------------------------- */

static void usage_preload(FILE *f);

void tune_usage(FILE *f)
{
	fputs("usage: magslab tune WORKLOAD --threshold LIST --timeout LIST\n"
	      "                    [--budget N|DURATION | --repeat N] [--objective NAME]\n"
	      "                    [--check N] [--margin PCT] [--seed N] [-o OUTDIR] [--trace]\n"
	      "                    [--no-plots] [-q] [-- workload options...]\n"
	      "       magslab tune --preload --threshold LIST --timeout LIST [...]\n"
	      "                    [--metric REGEX [--better higher|lower]] [--policy NAME]\n"
	      "                    -- CMD [ARGS...]\n"
	      "\n"
	      "Runs `magslab-workload WORKLOAD` (or, with --preload, CMD under the malloc\n"
	      "replacement " SHIM_NAME ") at every setting of the grid of magazine\n"
	      "resize thresholds x resize timeouts, in rounds: every setting once per round, in\n"
	      "a shuffled order.  With --budget it races: after each round (from the sixth on)\n"
	      "the settings that a paired Wilcoxon signed-rank test (Holm-corrected, 95 %)\n"
	      "finds worse than the best are dropped, until one setting or a set of\n"
	      "equivalent ones is left or the budget is spent.  It recommends the setting\n"
	      "holding the least memory in magazines among those not distinguishable from the\n"
	      "best, then re-runs it and the library's default interleaved with new seeds and\n"
	      "says whether it is better, worse, or not distinguishable from the default.\n"
	      "\n"
	      "WORKLOAD  a magslab-workload subcommand (pair, batch, prodcons, synthetic...);\n"
	      "          options tune does not know, and all after --, go to every run\n"
	      "          (e.g. --threads 8 --duration 1s; see magslab-workload WORKLOAD\n"
	      "          --help), checked with --check-options before the first run\n"
	      "\n"
	      "Options:\n"
	      "  --threshold LIST     resize thresholds: whole numbers, comma-separated\n"
	      "  --timeout LIST       resize timeouts, comma-separated: a number and a unit\n"
	      "                       ns, us, ms or s (no unit: ns), e.g. 100us,1ms,10000000\n"
	      "  --budget N|DURATION  race: at most N runs in all, or DURATION (90s, 10m, 1h)\n"
	      "                       in all, the check included\n"
	      "  --repeat N           a fixed design instead: N rounds, nothing dropped\n"
	      "                       (default 1, at most 99)\n"
	      "  --objective NAME     what decides: throughput (default), cpu-per-op or\n"
	      "                       steady (throughput after the warm-up); --preload:\n"
	      "                       wall (default) or cpu (CPU time of CMD)\n"
	      "  --check N            pairs of the held-out check (default 10, 6 to 99)\n"
	      "  --margin PCT         survivors whose 95 % interval against the best lies\n"
	      "                       within +-PCT % are equivalent: the race stops\n"
	      "                       (default 2)\n"
	      "  --seed N             round r's seed is N + r (default 1); the check's follow\n"
	      "  -o, --output OUTDIR  where the results go (default ./" DEFAULT_OUTDIR ",\n"
	      "                       created if needed; an earlier tune there is\n"
	      "                       overwritten)\n"
	      "  --trace              record every run with `magslab record` (LTTng) into\n"
	      "                       OUTDIR/traces/THRESHOLD_TIMEOUTNS (not with --preload)\n"
	      "  --no-plots           write the gnuplot scripts, do not run gnuplot\n"
	      "  -q, --quiet          no progress line on stderr\n"
	      "  -h, --help           this help\n",
	      f);
	usage_preload(f);
}

/* The rest of --help: --preload's options, the files, examples, the environment. */
static void usage_preload(FILE *f)
{
	fputs(	      "With --preload (CMD after --, its output in OUTDIR/runs):\n"
	      "  --metric REGEX       the figure: the number REGEX's first group (or match)\n"
	      "                       finds in CMD's output, its last match (default: CMD's\n"
	      "                       wall time, lower is better)\n"
	      "  --better higher|lower  which way the --metric number is better (default\n"
	      "                       higher: a rate)\n"
	      "  --policy NAME        MAGSLAB_POLICY for every run: akaros, illumos, uma or\n"
	      "                       adaptive\n"
	      "\n"
	      "OUTDIR gets tune.csv (a row per setting: medians with their 95 % intervals,\n"
	      "the comparison with the best, tied, Pareto, recommended), runs.csv (every\n"
	      "run), heat_*.gp/.png/.svg (a heatmap per figure; settings tied with the best\n"
	      "framed in blue), tune.txt (first line: whether the parameters matter here),\n"
	      "index.html, and runs/ (every run's JSON and output).\n"
	      "\n"
	      "Examples:\n"
	      "  # race a 3 x 3 grid of 1 s runs for at most 5 minutes\n"
	      "  magslab tune prodcons --threshold 1,10,1000 --timeout 1ms,100ms,1s \\\n"
	      "      --budget 5m -o /tmp/tune -- --threads 8 --duration 1s\n"
	      "  # a program on the malloc replacement: sqlite3's own timer decides\n"
	      "  magslab tune --preload --threshold 1,100 --timeout 1ms,1s --repeat 8 \\\n"
	      "      --metric 'Run Time: real ([0-9.]+)' --better lower -- \\\n"
	      "      sqlite3 :memory: '.timer on' '.read /tmp/script.sql'\n"
	      "\n"
	      "magslab-workload is looked for beside this program, then as $MAGSLAB_WORKLOAD,\n"
	      "then in PATH; " SHIM_NAME " in ../lib beside this program, or as\n"
	      "$MAGSLAB_MALLOC_LIB; $MAGSLAB_GNUPLOT names the gnuplot program.\n"
	      "\n"
	      "Exit status: 0 success, 1 failure (the cause on stderr), 2 bad usage, 130\n"
	      "interrupted.\n",
	      f);
}

int tune_usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see magslab tune --help)\n", stderr);
	return 2;
}

/* Sets t->err; returns 1 (a failure). */
int tune_err(struct tune *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->err, sizeof(t->err), fmt, ap);
	va_end(ap);
	return 1;
}

/* ---- options ----------------------------------------------------------------------- */

/* getopt_long's codes: the short options are their letter, the long-only ones above. */
enum opt_id { O_THRESHOLD = 256, O_TIMEOUT, O_REPEAT, O_BUDGET, O_OBJECTIVE, O_CHECK,
	      O_MARGIN, O_SEED, O_TRACE, O_NO_PLOTS, O_PRELOAD, O_METRIC, O_BETTER, O_POLICY,
	      O_OUTPUT = 'o', O_QUIET = 'q', O_HELP = 'h' };

static const struct option longopts[] = {
	{ "threshold", required_argument, NULL, O_THRESHOLD },
	{ "timeout", required_argument, NULL, O_TIMEOUT },
	{ "repeat", required_argument, NULL, O_REPEAT },
	{ "budget", required_argument, NULL, O_BUDGET },
	{ "objective", required_argument, NULL, O_OBJECTIVE },
	{ "check", required_argument, NULL, O_CHECK },
	{ "margin", required_argument, NULL, O_MARGIN },
	{ "seed", required_argument, NULL, O_SEED },
	{ "output", required_argument, NULL, O_OUTPUT },
	{ "trace", no_argument, NULL, O_TRACE },
	{ "no-plots", no_argument, NULL, O_NO_PLOTS },
	{ "quiet", no_argument, NULL, O_QUIET },
	{ "help", no_argument, NULL, O_HELP },
	{ "preload", no_argument, NULL, O_PRELOAD },
	{ "metric", required_argument, NULL, O_METRIC },
	{ "better", required_argument, NULL, O_BETTER },
	{ "policy", required_argument, NULL, O_POLICY },
	{ NULL, 0, NULL, 0 },
};

/* Whether a is --name or --name=...  */
static bool is_long(const char *a, const char *name)
{
	size_t n = strlen(name);

	return strncmp(a, "--", 2) == 0 && strncmp(a + 2, name, n) == 0 &&
	       (a[n + 2] == '\0' || a[n + 2] == '=');
}

/* A whole number without sign: 0, or -1. */
static int parse_u64(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!isdigit((unsigned char)s[0]))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

/* A number followed by one of the units (its factor into *mult): the product, or -1. */
static double parse_with_unit(const char *s, const char *const *units, const double *mult,
			      size_t nunits)
{
	size_t digits = strspn(s, "0123456789."), k;
	char *end;
	double v;

	if (digits == 0 || !isdigit((unsigned char)s[strspn(s, ".")]))
		return -1;
	v = strtod(s, &end);
	if ((size_t)(end - s) != digits)
		return -1;
	for (k = 0; k < nunits; k++)
		if (strcmp(s + digits, units[k]) == 0)
			return v * mult[k];
	return -1;
}

/* A timeout: NUMBER[ns|us|ms|s] (no unit: ns), a whole number of ns from 1 to 2^53. */
static int parse_timeout(const char *s, uint64_t *out)
{
	static const char *const units[] = { "", "ns", "us", "ms", "s" };
	static const double mult[] = { 1, 1, 1e3, 1e6, 1e9 };
	double ns = parse_with_unit(s, units, mult, 5);

	if (ns < 1 || ns > 9007199254740992.0 || fabs(ns - round(ns)) > 1e-3)
		return -1;
	*out = (uint64_t)llround(ns);
	return 0;
}

/* --budget: a whole number of runs, or a duration (s, m, min, h): 0, or 2 (said why). */
static int parse_budget(struct tune *t, const char *s)
{
	static const char *const units[] = { "s", "m", "min", "h" };
	static const double mult[] = { 1, 60, 60, 3600 };
	uint64_t runs;
	double secs;

	t->race = true;
	if (parse_u64(s, &runs) == 0 && runs >= 1 && runs <= 1000000) {
		t->budget = (double)runs;
		t->budget_is_runs = true;
		return 0;
	}
	secs = parse_with_unit(s, units, mult, 4);
	if (!(secs >= 1) || secs > 1e7)
		return tune_usage_error("--budget: '%s' is neither a number of runs nor a duration "
				   "(90s, 10m, 1.5h; at least 1 s)",
				   s);
	t->budget = secs;
	t->budget_is_runs = false;
	return 0;
}

/* --margin: a percentage (2, 2%, 0.5%) above 0 and below 100: 0, or 2. */
static int parse_margin(struct tune *t, const char *s)
{
	static const char *const units[] = { "", "%" };
	static const double mult[] = { 0.01, 0.01 };
	double v = parse_with_unit(s, units, mult, 2);

	if (!(v > 0) || v >= 1)
		return tune_usage_error("--margin: '%s' is not a percentage above 0 and below 100",
				   s);
	t->margin = v;
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Sorts the list and refuses a value listed twice: 0, or 2 (said why). */
static int sort_list(const char *opt, uint64_t *vals, size_t n)
{
	size_t k;

	qsort(vals, n, sizeof(*vals), cmp_u64);
	for (k = 1; k < n; k++)
		if (vals[k] == vals[k - 1])
			return tune_usage_error("%s: %" PRIu64 "%s is listed twice", opt, vals[k],
					   strcmp(opt, "--timeout") == 0 ? " ns" : "");
	return 0;
}

/* A comma-separated list of thresholds or timeouts: 0, or 2 (said why). */
static int parse_list(const char *opt, const char *s, bool timeout, uint64_t *vals,
		      size_t *n)
{
	const char *p = s;

	*n = 0;
	for (;;) {
		size_t len = strcspn(p, ",");
		char item[64];
		int bad;

		if (len == 0)
			return tune_usage_error("%s: empty item in '%s'", opt, s);
		if (*n == MAX_LIST)
			return tune_usage_error("%s: more than %d values in '%s'", opt, MAX_LIST, s);
		snprintf(item, sizeof(item), "%.*s", (int)len, p);
		bad = len >= sizeof(item) ||
		      (timeout ? parse_timeout(item, &vals[*n]) : parse_u64(item, &vals[*n]));
		if (bad && timeout)
			return tune_usage_error("--timeout: '%s' is not a timeout (a number and a unit "
					   "ns, us, ms or s; whole ns, at least 1 ns)",
					   item);
		if (bad)
			return tune_usage_error("--threshold: '%s' is not a whole number", item);
		(*n)++;
		p += len;
		if (!*p)
			break;
		p++;
	}
	return sort_list(opt, vals, *n);
}

/* A whole number in [lo, hi] for option name: 0, or 2. */
static int parse_count(const char *name, const char *val, unsigned int lo, unsigned int hi,
		       unsigned int *out)
{
	uint64_t v;

	if (parse_u64(val, &v) || v < lo || v > hi)
		return tune_usage_error("%s: '%s' is not a number from %u to %u", name, val, lo, hi);
	*out = (unsigned int)v;
	return 0;
}

/* The options of the design: the rounds, the race, the objective, the check. */
static int apply_design(struct tune *t, int id, const char *val)
{
	uint64_t v;

	switch (id) {
	case O_REPEAT:
		return parse_count("--repeat", val, 1, MAX_REPEAT, &t->repeat);
	case O_BUDGET:
		return parse_budget(t, val);
	case O_OBJECTIVE:
		t->objective_name = val;
		return 0;
	case O_CHECK:
		return parse_count("--check", val, MIN_CHECK, MAX_CHECK, &t->ncheck);
	case O_MARGIN:
		return parse_margin(t, val);
	case O_SEED:
		if (parse_u64(val, &v) || v > UINT64_MAX - MAX_ROUNDS - MAX_CHECK)
			return tune_usage_error("--seed: '%s' is not a seed (a whole number)", val);
		t->seed = v;
		return 0;
	default:
		return 0;
	}
}

/* --preload's own: --metric, --better, --policy. */
static int apply_preload(struct tune *t, int id, const char *val)
{
	static const char *const policies[] = { "akaros", "illumos", "uma", "adaptive" };
	size_t k;

	switch (id) {
	case O_METRIC:
		if (!*val)
			return tune_usage_error("--metric: an empty REGEX%s", "");
		t->metric_re = val;
		return 0;
	case O_BETTER:
		if (strcmp(val, "higher") && strcmp(val, "lower"))
			return tune_usage_error("--better: '%s' is neither higher nor lower", val);
		t->metric_better = strcmp(val, "higher") == 0 ? 1 : -1;
		return 0;
	case O_POLICY:
		/* lib/src/config.h's names; the library would only warn and use akaros. */
		for (k = 0; k < sizeof(policies) / sizeof(policies[0]); k++)
			if (strcmp(val, policies[k]) == 0)
				return t->policy = val, 0;
		return tune_usage_error("--policy: '%s' is not akaros, illumos, uma or adaptive",
				   val);
	default:
		return 0;
	}
}

/* Sets what option o says: 0, 2 (bad value, said why), or -1 (--help printed). */
static int apply_option(struct tune *t, int id, const char *val)
{
	switch (id) {
	case O_THRESHOLD:
		return parse_list("--threshold", val, false, t->thresholds, &t->nthresholds);
	case O_TIMEOUT:
		return parse_list("--timeout", val, true, t->timeouts, &t->ntimeouts);
	case O_OUTPUT:
		if (!*val)
			return tune_usage_error("-o: empty directory name%s", "");
		t->outdir = val;
		return 0;
	case O_TRACE:
		t->trace = true;
		return 0;
	case O_NO_PLOTS:
		t->plots = false;
		return 0;
	case O_QUIET:
		t->quiet = true;
		return 0;
	case O_PRELOAD:
		return 0;	/* set by parse_args */
	case O_HELP:
		tune_usage(stdout);
		return -1;
	case O_METRIC:
	case O_BETTER:
	case O_POLICY:
		return apply_preload(t, id, val);
	default:
		return apply_design(t, id, val);
	}
}

/* Options tune sets itself, refused among the workload options (NULL: fine). */
static const char *refused(const char *a)
{
	if (is_long(a, "timeout-ns"))
		return "--timeout-ns is what tune varies: give --timeout LIST";
	if (is_long(a, "threshold"))
		return "--threshold is what tune varies: give it before --";
	if (is_long(a, "seed"))
		return "--seed: tune gives every run its seed: give tune's --seed before --";
	if (is_long(a, "json"))
		return "--json: tune writes each run's JSON into OUTDIR/runs itself";
	return NULL;
}

/* An argument for the workload before "--" (an option tune does not know, or a value
 * after WORKLOAD): passed on in order; --check-options judges it before any run. */
static int pass_to_workload(struct tune *t, char *a)
{
	const char *why = refused(a);

	if (why)
		return tune_usage_error("%s", why);
	t->args[t->nargs++] = a;
	return 0;
}

/* An argument before "--" that is not an option: WORKLOAD, once; after it, the
 * workload's (pass_to_workload). */
static int take_operand(struct tune *t, char *a)
{
	if (t->preload)
		return tune_usage_error("unexpected argument '%s' (with --preload the command goes "
				   "after --)",
				   a);
	if (t->workload)
		return pass_to_workload(t, a);
	t->workload = a;
	return 0;
}

/* The arguments after "--": the workload's options, or CMD and its arguments. */
static int take_rest(struct tune *t, int argc, char **argv, int first)
{
	const char *why;
	int i;

	for (i = first; i < argc; i++) {
		if (!t->preload && (why = refused(argv[i])))
			return tune_usage_error("%s", why);
		t->args[t->nargs++] = argv[i];
	}
	return 0;
}

/* The objective: --metric, --objective NAME (one of this mode's), or the mode's first. */
static int resolve_objective(struct tune *t)
{
	unsigned int mode = t->preload ? FOR_PROGRAM : FOR_WORKLOAD;
	char names[128] = "";
	int m;

	if (t->metric_re && t->objective_name)
		return tune_usage_error("--objective and --metric: the --metric number is the "
				   "objective%s", "");
	if (t->metric_re)
		t->objective_name = "metric";
	if (!t->objective_name)
		t->objective_name = t->preload ? "wall" : "throughput";
	for (m = 0; m < NMETRICS; m++) {
		const struct figure *f = &tune_fig[m];

		if (!f->objective || !(f->modes & mode))
			continue;
		if (strcmp(f->objective, t->objective_name) == 0) {
			t->objective = (enum metric)m;
			return 0;
		}
		if (m != M_METRIC)
			snprintf(names + strlen(names), sizeof(names) - strlen(names), "%s%s",
				 names[0] ? ", " : "", f->objective);
	}
	return tune_usage_error("--objective: '%s' is not one of %s%s", t->objective_name, names,
			   t->preload ? " (with --preload)" : "");
}

/* A run budget must leave room for the first elimination and the check: 0, or 2. */
static int check_budget(struct tune *t)
{
	size_t n = t->nthresholds * t->ntimeouts;
	unsigned int rounds;
	double need;

	if (!t->race)
		return 0;
	if (n < 2)
		return tune_usage_error("--budget races settings against each other, and the grid "
				   "has one: use --repeat N%s", "");
	rounds = tune_rounds_to_reject(n - 1);
	need = (double)(n * rounds + 2 * t->ncheck);
	if (t->budget_is_runs && t->budget < need)
		return tune_usage_error("--budget %.0f: too small: the race of %zu settings can drop "
				   "one after %u rounds (%zu runs), and the check takes %u: at "
				   "least %.0f runs",
				   t->budget, n, rounds, n * rounds, 2 * t->ncheck, need);
	return 0;
}

/* What the options say together: 0, or 2 (said why). */
static int check_args(struct tune *t, bool repeat_given)
{
	if (!t->preload && !t->workload)
		return tune_usage_error("no WORKLOAD given%s", "");
	if (t->preload && t->workload)
		return tune_usage_error("--preload and WORKLOAD '%s': with --preload the command goes "
				   "after --", t->workload);
	if (!t->preload && t->policy)
		return tune_usage_error("--policy is for a --preload command: give the workload's "
				   "--policy after --%s", "");
	if (t->preload && !t->nargs)
		return tune_usage_error("--preload: no command given (after --)%s", "");
	if (!t->nthresholds)
		return tune_usage_error("--threshold LIST is missing%s", "");
	if (!t->ntimeouts)
		return tune_usage_error("--timeout LIST is missing%s", "");
	if (repeat_given && t->race)
		return tune_usage_error("--repeat and --budget: choose a fixed design or a race%s",
				   "");
	if (!t->preload && (t->metric_re || t->metric_better))
		return tune_usage_error("--metric and --better apply to a program (--preload)%s", "");
	if (t->metric_better && !t->metric_re)
		return tune_usage_error("--better says which way the --metric number is better: "
				   "give --metric REGEX%s", "");
	if (t->preload && t->trace)
		return tune_usage_error("--trace does not record a --preload command yet: run "
				   "`magslab record` on the recommended setting%s", "");
	if (t->race)
		t->repeat = 0;
	return resolve_objective(t) || check_budget(t) ? 2 : 0;
}

/*
 * getopt_long, in order ("-": an operand comes back as code 1, so WORKLOAD is seen where
 * it stands), with no permutation past "--": everything after it goes to the workload or
 * is CMD.  An option tune does not know is an error, never passed on.
 * 0 go on, 2 bad usage (said why), -1 --help was printed.
 */
static int parse_args(struct tune *t, int argc, char **argv)
{
	bool repeat_given = false;
	int c, r;

	t->args = calloc((size_t)argc, sizeof(*t->args));
	if (!t->args)
		return tune_usage_error("out of memory%s", "");
	opterr = 0;
	optind = 0;	/* a fresh scan: the ordering ("-") is read when it starts */
	while ((c = getopt_long(argc, argv, "-:o:qh", longopts, NULL)) != -1) {
		if (c == ':')
			return tune_usage_error("%s needs a value", argv[optind - 1]);
		if (c == '?' && optopt >= 256)
			return tune_usage_error("'%s': that option takes no value", argv[optind - 1]);
		if (c == '?' && optopt && argv[optind - 1][1] != '-')
			return tune_usage_error("unknown option '-%c'%s", optopt,
					   t->preload ? "" : " (workload options go after --)");
		if (c == '?' && !t->preload && t->workload) {
			/* a workload option: --check-options says if it is one */
			if ((r = pass_to_workload(t, argv[optind - 1])) != 0)
				return r;
			continue;
		}
		if (c == '?')
			return tune_usage_error("unknown option '%s'%s", argv[optind - 1],
					   t->preload ? "" : " (WORKLOAD comes first)");
		if (c == O_PRELOAD)
			t->preload = true;
		repeat_given |= c == O_REPEAT;
		r = c == 1 ? take_operand(t, optarg) : apply_option(t, c, optarg);
		if (r)
			return r;
	}
	r = take_rest(t, argc, argv, optind);
	return r ? r : check_args(t, repeat_given);
}

/* ---- the subcommand ---------------------------------------------------------------- */

/* Programs, the output directory, the grid's cells: 0, 1 failure, 2 bad usage. */
static int prepare(struct tune *t)
{
	char runs[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", t->self, sizeof(t->self) - 1);
	int rc;

	if (n <= 0)
		return tune_err(t, "cannot find this program (/proc/self/exe): %s", strerror(errno));
	t->self[n] = '\0';
	if ((rc = tune_find_programs(t)) != 0 || (rc = tune_compile_metric(t)) != 0)
		return rc;
	if (!t->preload && (rc = tune_check_workload(t)) != 0)
		return rc;
	if (t->trace && tune_check_record(t) != 0)
		return 1;
	if (t->plots && gp_find(t->gnuplot, sizeof(t->gnuplot)) != 0)
		return tune_err(t, "%s not found: install gnuplot, or use --no-plots", t->gnuplot);
	snprintf(runs, sizeof(runs), "%s/runs", t->outdir);
	if (fe_mkdir_p(runs) != 0)
		return tune_err(t, "cannot create the output directory %s: %s", runs,
			       strerror(errno));
	if (!realpath(t->outdir, t->absout))
		snprintf(t->absout, sizeof(t->absout), "%s", t->outdir);
	t->ncells = t->nthresholds * t->ntimeouts;
	t->cells = calloc(t->ncells, sizeof(*t->cells));
	if (!t->cells)
		return tune_err(t, "out of memory");
	return 0;
}

/* The rounds, the choice, the plots, the check, the report: 0, 1, 2 or 130. */
static int tune_all(struct tune *t)
{
	int rc;

	t->t0 = fe_now_s();
	proc_catch_signals(false);
	rc = tune_run_rounds(t);
	if (!rc) {
		tune_summarize(t);
		tune_explain(t);
		rc = tune_write_csv(t) || tune_write_plots(t);
	}
	if (!rc && !(rc = tune_run_check(t))) {
		tune_judge(t);
		rc = tune_write_runs(t) || tune_write_txt(t, fe_now_s() - t->t0) ||
		     tune_write_html(t);
	}
	tune_progress_end(t);
	proc_restore_signals();
	if (rc && rc != 130 && proc_interrupted()) {
		tune_err(t, "interrupted");
		rc = 130;
	}
	return rc;
}

static void print_result(const struct tune *t, double took)
{
	char what[LINELEN], el[32];

	if (t->preload)
		snprintf(what, sizeof(what), "%s", t->args[0]);
	else
		snprintf(what, sizeof(what), "%s", t->workload);
	tune_fmt_elapsed(took, el, sizeof(el));
	printf(PROG ": %s, %zu setting%s, %s of %u round%s, %u runs in all (%u of the check) "
	       "in %s\n",
	       what, t->ncells, t->ncells == 1 ? "" : "s", t->race ? "a race" : "a fixed design",
	       t->rounds, t->rounds == 1 ? "" : "s", t->runs_done, 2 * t->check.n, el);
	if (t->race)
		printf("stopped: %s\n", t->stop_why);
	printf("csv:     %s/tune.csv (every run: %s/runs.csv)\n", t->absout, t->absout);
	printf("report:  %s/tune.txt\n", t->absout);
	printf("html:    %s/index.html\n", t->absout);
	if (t->plots)
		printf("plots:   %d heatmaps (PNG and SVG)\n", t->nplots);
	else
		printf("plots:   not rendered (--no-plots): run gnuplot on %s/heat_*.gp\n",
		       t->absout);
	if (t->trace)
		printf("traces:  %s/traces\n", t->absout);
	printf("\n%s\n%s\n%s\n%s\n%s\n%s\n", t->matter_line, t->rec_line, t->why_line,
	       t->rerun_line, t->verdict_line, t->memory_line);
}

static void free_tune(struct tune *t)
{
	size_t i;

	for (i = 0; t->cells && i < t->ncells; i++)
		free(t->cells[i].runs);
	free(t->cells);
	free(t->args);
	if (t->metric_compiled)
		regfree(&t->metric);
}

int cmd_tune(int argc, char **argv)
{
	struct tune *t = calloc(1, sizeof(*t));
	int rc;

	if (!t)
		return tune_usage_error("out of memory%s", "");
	t->repeat = 1;
	t->seed = 1;
	t->ncheck = DEFAULT_CHECK;
	t->margin = DEFAULT_MARGIN;
	t->outdir = DEFAULT_OUTDIR;
	t->plots = true;
	t->tty = isatty(STDERR_FILENO);
	rc = parse_args(t, argc, argv);
	if (rc == 0)
		rc = prepare(t);
	if (rc == 0)
		rc = tune_all(t);
	if (rc == 0)
		print_result(t, fe_now_s() - t->t0);
	else if (rc == 1 || rc == 130)
		fprintf(stderr, PROG ": %s\n", t->err);
	fflush(stdout);
	free_tune(t);
	free(t);
	return rc < 0 ? 0 : rc;
}
