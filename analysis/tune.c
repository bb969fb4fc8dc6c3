/*
 * analysis/tune.c — `magslab tune` (see tune.h; the output contract is docs/tune.md): the
 * options, and the job in order: the programs and OUTDIR checked (prepare), the grid run,
 * the recommendation, the files, the re-run check, the summary on stdout.  The runs are
 * tune_run.c's, the words and files tune_out.c's (tune_impl.h has the map).
 *
 * The options are matched by hand, not with getopt_long: every option tune does not know
 * goes to the workload unchanged and in order, and an abbreviation (which getopt_long
 * would take for one of tune's) must reach the workload as it was written.
 */
#include "tune.h"

#include <ctype.h>
#include <errno.h>
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

void tune_usage(FILE *f)
{
	fputs("usage: magslab tune WORKLOAD --threshold LIST --timeout LIST [--repeat N]\n"
	      "                    [--seed N] [-o OUTDIR] [--trace] [--no-plots] [-q]\n"
	      "                    [workload options...]\n"
	      "\n"
	      "Runs `magslab-workload WORKLOAD` once per setting of the grid of magazine\n"
	      "resize thresholds x resize timeouts (counters only, no tracing unless --trace),\n"
	      "draws a heatmap per figure, and recommends the setting with the best balance\n"
	      "of throughput and memory held in magazines, with its reasons.\n"
	      "\n"
	      "WORKLOAD  a magslab-workload subcommand (pair, batch, prodcons, phases...);\n"
	      "          the options after it that are not tune's go to every run, e.g.\n"
	      "          --threads 8 --duration 1s (see magslab-workload WORKLOAD --help)\n"
	      "\n"
	      "Options:\n"
	      "  --threshold LIST     resize thresholds: whole numbers, comma-separated\n"
	      "  --timeout LIST       resize timeouts, comma-separated: a number and a unit\n"
	      "                       ns, us, ms or s (no unit: ns), e.g. 100us,1ms,10000000\n"
	      "  --repeat N           runs per setting, seeds SEED .. SEED+N-1; the results\n"
	      "                       are the medians (default 1, at most 99)\n"
	      "  --seed N             the first seed (default 1); the re-runs use the next\n"
	      "  -o, --output OUTDIR  where the results go (default ./" DEFAULT_OUTDIR ",\n"
	      "                       created if needed; an earlier tune there is\n"
	      "                       overwritten)\n"
	      "  --trace              record every run with `magslab record` (LTTng) into\n"
	      "                       OUTDIR/traces/THRESHOLD_TIMEOUTNS\n"
	      "  --no-plots           write the gnuplot scripts, do not run gnuplot\n"
	      "  -q, --quiet          no progress line on stderr\n"
	      "  -h, --help           this help\n"
	      "\n"
	      "OUTDIR gets tune.csv (a row per setting: threshold, timeout_ns, repeat,\n"
	      "throughput_mops, contentions_per_s, final_magsize, bytes_in_mags, settle_s,\n"
	      "...), heat_*.gp/.png/.svg (throughput, contention, bytes in magazines, time to\n"
	      "settle, final magsize), tune.txt, index.html, and runs/ (every run's JSON and\n"
	      "output).  The recommendation: among the settings on the Pareto front of\n"
	      "throughput against bytes held in magazines, the one holding the fewest bytes\n"
	      "within 5 % of the best throughput.  It and the library's default setting are\n"
	      "then run again with other seeds, to see whether it holds.\n"
	      "\n"
	      "Example:\n"
	      "  # a 3 x 3 grid of 2 s runs, 3 runs per setting: about a minute\n"
	      "  magslab tune prodcons --threshold 1,10,100 --timeout 1ms,10ms,1s --repeat 3 \\\n"
	      "      --threads 8 --duration 2s -o /tmp/tune\n"
	      "\n"
	      "magslab-workload is looked for beside this program, then as $MAGSLAB_WORKLOAD,\n"
	      "then in PATH; $MAGSLAB_GNUPLOT names the gnuplot program.\n"
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

enum opt_id { O_THRESHOLD, O_TIMEOUT, O_REPEAT, O_SEED, O_OUTPUT, O_TRACE, O_NO_PLOTS,
	      O_QUIET, O_HELP };

struct opt {
	const char *name;
	char letter;
	bool arg;
	enum opt_id id;
};

static const struct opt options[] = {
	{ "threshold", 0, true, O_THRESHOLD }, { "timeout", 0, true, O_TIMEOUT },
	{ "repeat", 0, true, O_REPEAT },       { "seed", 0, true, O_SEED },
	{ "output", 'o', true, O_OUTPUT },     { "trace", 0, false, O_TRACE },
	{ "no-plots", 0, false, O_NO_PLOTS },  { "quiet", 'q', false, O_QUIET },
	{ "help", 'h', false, O_HELP },
};

#define NOPTIONS (sizeof(options) / sizeof(options[0]))

/* Whether a is --name or --name=...  */
static bool is_long(const char *a, const char *name)
{
	size_t n = strlen(name);

	return strncmp(a, "--", 2) == 0 && strncmp(a + 2, name, n) == 0 &&
	       (a[n + 2] == '\0' || a[n + 2] == '=');
}

/* The tune option a is (--name, --name=VALUE or -L), or NULL; *inl gets VALUE. */
static const struct opt *match_option(const char *a, const char **inl)
{
	size_t k;

	*inl = NULL;
	for (k = 0; k < NOPTIONS; k++) {
		if (options[k].letter && a[0] == '-' && a[1] == options[k].letter && !a[2])
			return &options[k];
		if (is_long(a, options[k].name)) {
			const char *eq = strchr(a, '=');

			*inl = eq ? eq + 1 : NULL;
			return &options[k];
		}
	}
	return NULL;
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

/* A timeout: NUMBER[ns|us|ms|s] (no unit: ns), a whole number of ns from 1 to 2^53. */
static int parse_timeout(const char *s, uint64_t *out)
{
	static const struct {
		const char *unit;
		double ns;
	} units[] = { { "", 1 }, { "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 } };
	size_t digits = strspn(s, "0123456789."), k;
	char *end;
	double v;

	if (digits == 0 || !isdigit((unsigned char)s[strspn(s, ".")]))
		return -1;
	v = strtod(s, &end);
	if ((size_t)(end - s) != digits)
		return -1;
	for (k = 0; k < sizeof(units) / sizeof(units[0]); k++) {
		double ns = v * units[k].ns;

		if (strcmp(s + digits, units[k].unit) != 0)
			continue;
		if (ns < 1 || ns > 9007199254740992.0 || fabs(ns - round(ns)) > 1e-3)
			return -1;
		*out = (uint64_t)llround(ns);
		return 0;
	}
	return -1;
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

/* Sets what option o says: 0, 2 (bad value, said why), or -1 (--help printed). */
static int apply_option(struct tune *t, const struct opt *o, const char *val)
{
	uint64_t v;

	switch (o->id) {
	case O_THRESHOLD:
		return parse_list("--threshold", val, false, t->thresholds, &t->nthresholds);
	case O_TIMEOUT:
		return parse_list("--timeout", val, true, t->timeouts, &t->ntimeouts);
	case O_REPEAT:
		if (parse_u64(val, &v) || v < 1 || v > MAX_REPEAT)
			return tune_usage_error("--repeat: '%s' is not a number from 1 to %d", val,
					   MAX_REPEAT);
		t->repeat = (unsigned int)v;
		return 0;
	case O_SEED:
		if (parse_u64(val, &v) || v > UINT64_MAX - 2 * MAX_REPEAT)
			return tune_usage_error("--seed: '%s' is not a seed (a whole number)", val);
		t->seed = v;
		return 0;
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
	case O_HELP:
		tune_usage(stdout);
		return -1;
	}
	return 0;
}

/* Options tune sets itself, refused among the workload options (NULL: fine). */
static const char *refused(const char *a)
{
	if (is_long(a, "timeout-ns"))
		return "--timeout-ns is what tune varies: give --timeout LIST";
	if (is_long(a, "json"))
		return "--json: tune writes each run's JSON into OUTDIR/runs itself";
	return NULL;
}

/* One tune option at argv[*i] (and its value): 0, 2 bad usage, -1 --help printed. */
static int take_option(struct tune *t, const struct opt *o, const char *inl, int argc,
		       char **argv, int *i)
{
	const char *val = inl;

	if (!o->arg && inl)
		return tune_usage_error("--%s takes no value", o->name);
	if (o->arg && !val) {
		if (*i + 1 >= argc)
			return tune_usage_error("%s needs a value", argv[*i]);
		val = argv[++*i];
	}
	return apply_option(t, o, val);
}

/*
 * tune's options anywhere; the first other argument is WORKLOAD, and every other
 * argument after it goes to the workload (all of them after "--").
 * 0 go on, 2 bad usage (said why), -1 --help was printed.
 */
static int parse_args(struct tune *t, int argc, char **argv)
{
	bool dashdash = false;
	int i, r;

	t->wl_args = calloc((size_t)argc, sizeof(*t->wl_args));
	if (!t->wl_args)
		return tune_usage_error("out of memory%s", "");
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *inl, *why;
		const struct opt *o = dashdash ? NULL : match_option(a, &inl);

		if (!dashdash && strcmp(a, "--") == 0) {
			dashdash = true;
		} else if (o) {
			if ((r = take_option(t, o, inl, argc, argv, &i)) != 0)
				return r;
		} else if (!dashdash && (why = refused(a))) {
			return tune_usage_error("%s", why);
		} else if (!t->workload) {
			if (a[0] == '-' && !dashdash)
				return tune_usage_error("unknown option '%s' (workload options go after "
						   "WORKLOAD)",
						   a);
			t->workload = a;
		} else {
			t->wl_args[t->nwl_args++] = argv[i];
		}
	}
	if (!t->workload)
		return tune_usage_error("no WORKLOAD given%s", "");
	if (!t->nthresholds)
		return tune_usage_error("--threshold LIST is missing%s", "");
	if (!t->ntimeouts)
		return tune_usage_error("--timeout LIST is missing%s", "");
	return 0;
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
	if (tune_find_workload(t) != 0)
		return 1;
	if ((rc = tune_check_workload(t)) != 0)
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
	t->runs_total = (unsigned int)(t->ncells + 2) * t->repeat;
	return 0;
}

/* The grid, the choice, the plots, the check, the report: 0, 1, 2 or 130. */
static int tune_all(struct tune *t)
{
	int rc;

	t->t0 = fe_now_s();
	proc_catch_signals(false);
	rc = tune_run_grid(t);
	if (!rc) {
		tune_recommend(t);
		tune_explain(t);
		rc = tune_write_csv(t) || tune_write_plots(t);
	}
	if (!rc && !(rc = tune_run_check(t))) {
		tune_judge(t);
		rc = tune_write_txt(t, fe_now_s() - t->t0) || tune_write_html(t);
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
	printf(PROG ": %s, %zu setting%s x %u run%s + %u re-runs in %.1f s\n", t->workload,
	       t->ncells, t->ncells == 1 ? "" : "s", t->repeat, t->repeat == 1 ? "" : "s",
	       2 * t->repeat, took);
	printf("csv:     %s/tune.csv\n", t->absout);
	printf("report:  %s/tune.txt\n", t->absout);
	printf("html:    %s/index.html\n", t->absout);
	if (t->plots)
		printf("plots:   %d heatmaps (PNG and SVG)\n", t->nplots);
	else
		printf("plots:   not rendered (--no-plots): run gnuplot on %s/heat_*.gp\n",
		       t->absout);
	if (t->trace)
		printf("traces:  %s/traces\n", t->absout);
	printf("\n%s\n%s\n%s\n%s\n", t->rec_line, t->why_line, t->rerun_line, t->verdict_line);
}

int cmd_tune(int argc, char **argv)
{
	struct tune t;
	int rc;

	memset(&t, 0, sizeof(t));
	t.repeat = 1;
	t.seed = 1;
	t.outdir = DEFAULT_OUTDIR;
	t.plots = true;
	t.tty = isatty(STDERR_FILENO);
	rc = parse_args(&t, argc, argv);
	if (rc == 0)
		rc = prepare(&t);
	if (rc == 0)
		rc = tune_all(&t);
	if (rc == 0)
		print_result(&t, fe_now_s() - t.t0);
	else if (rc == 1 || rc == 130)
		fprintf(stderr, PROG ": %s\n", t.err);
	free(t.wl_args);
	free(t.cells);
	fflush(stdout);
	return rc < 0 ? 0 : rc;
}
