/*
 * analysis/tune.c — `magslab tune` (see tune.h; the output contract is docs/tune.md).
 *
 * Owns: the grid and its options (struct tune), the child runs (fork/exec of
 * magslab-workload, or of `magslab record -- magslab-workload ...` with --trace; their
 * progress line; passing SIGINT/SIGTERM on), reading each run's JSON (jansson), the
 * medians, the Pareto front, the recommendation and its re-run check, and the files of
 * OUTDIR: tune.csv, heat_*.gp, tune.txt, index.html and runs/ (gnuplot writes the PNG and
 * SVG files; report_render_plots() runs it).
 *
 * Invariants: thresholds[] and timeouts[] are sorted ascending, without duplicates; cell
 * (i, j) is cells[i * ntimeouts + j] (threshold i, timeout j); a cell's figures are the
 * medians of its `repeat` runs, run r with seed + r; the re-runs (recommended and
 * default, alternating) use seeds seed + repeat + r; once the grid is done exactly one
 * cell is recommended, and it is on the Pareto front.  Signals: SIGINT and SIGTERM set
 * the interrupted flag of proc.h, and passed on to the running child; no run starts after it and the
 * command returns 130.
 */
#include "tune.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gnuplot.h"
#include "proc.h"
#include "util.h"

#define PROG "magslab tune"
#define DEFAULT_OUTDIR "magslab-tune"
#define WORKLOAD_PROG "magslab-workload"
#define MAX_LIST 32          /* values per list */
#define MAX_REPEAT 99
#define NEAR_BEST 0.95       /* the rule: within 5 % of the best throughput */
#define TAIL_LINES 6         /* lines of a failed run's output shown */
#define ERRLEN 4096
#define LINELEN 1024

/* ---- state ------------------------------------------------------------------------- */

/* The figures of a run (or the medians of several). */
enum metric { M_MOPS, M_CONTENTION, M_MAGSIZE, M_BYTES, M_SETTLE, NMETRICS };

struct metrics {
	double v[NMETRICS];   /* NAN: not in the workload's JSON */
};

struct cell {
	uint64_t threshold, timeout_ns;
	struct metrics med;   /* medians over the cell's runs */
	double mops_min, mops_max;
	bool pareto, recommended;
};

/* What to run: a grid setting, or the library's default (no option given). */
struct setting {
	bool dflt;
	uint64_t threshold, timeout_ns;
};

/* What the workload's first cache says was in force. */
struct applied {
	uint64_t threshold, timeout_ns;
};

struct tune {
	/* options */
	const char *workload;
	char **wl_args;                  /* passed to every run, in order */
	int nwl_args;
	uint64_t thresholds[MAX_LIST], timeouts[MAX_LIST];
	size_t nthresholds, ntimeouts;
	unsigned int repeat;
	uint64_t seed;
	const char *outdir;
	bool trace, plots, quiet;
	/* programs and places */
	char self[PATH_MAX], wl_prog[PATH_MAX], gnuplot[PATH_MAX], absout[PATH_MAX];
	/* progress */
	unsigned int runs_done, runs_total;
	double t0, run_t0;
	bool tty, drawn;
	double drawn_at;
	char doing[256];
	/* results */
	struct cell *cells;
	size_t ncells, rec;
	struct metrics rerun[2];         /* the recommended setting's, the default's */
	struct applied dflt;             /* the default run's threshold and timeout */
	int nplots;
	char rec_line[LINELEN], why_line[2 * LINELEN], rerun_line[LINELEN],
		verdict_line[LINELEN];
	char err[ERRLEN];
};


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

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
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
__attribute__((format(printf, 2, 3))) static int set_err(struct tune *t, const char *fmt,
							 ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(t->err, sizeof(t->err), fmt, ap);
	va_end(ap);
	return 1;
}

/* ---- formatting -------------------------------------------------------------------- */

/* A timeout for people: 1s, 10ms, 500us, 1.5ms, 250ns. */
static void fmt_ns(uint64_t ns, char *out, size_t len)
{
	static const struct {
		uint64_t div;
		const char *unit;
	} units[] = { { 1000000000u, "s" }, { 1000000u, "ms" }, { 1000u, "us" } };
	size_t k;

	for (k = 0; k < sizeof(units) / sizeof(units[0]); k++) {
		if (ns < units[k].div)
			continue;
		if (ns % units[k].div == 0)
			snprintf(out, len, "%" PRIu64 "%s", ns / units[k].div, units[k].unit);
		else
			snprintf(out, len, "%g%s", (double)ns / (double)units[k].div,
				 units[k].unit);
		return;
	}
	snprintf(out, len, "%" PRIu64 "ns", ns);
}

static void fmt_mops(double v, char *out, size_t len)
{
	snprintf(out, len, isnan(v) ? "n/a" : "%.2f", v);
}

static void fmt_rate(double v, char *out, size_t len)
{
	snprintf(out, len, isnan(v) ? "n/a" : "%.0f", v);
}

static void fmt_count(double v, char *out, size_t len)
{
	snprintf(out, len, isnan(v) ? "n/a" : "%g", v);
}

static void fmt_bytes(double v, char *out, size_t len)
{
	if (isnan(v))
		snprintf(out, len, "n/a");
	else if (v < 1024)
		snprintf(out, len, "%.0f B", v);
	else if (v < 1024 * 1024)
		snprintf(out, len, "%.1f KiB", v / 1024);
	else
		snprintf(out, len, "%.1f MiB", v / (1024 * 1024));
}

static void fmt_secs(double v, char *out, size_t len)
{
	snprintf(out, len, isnan(v) ? "n/a" : "%.2f s", v);
}

/* Elapsed or remaining time: 42.0 s, 3m07s. */
static void fmt_elapsed(double s, char *out, size_t len)
{
	if (s < 60)
		snprintf(out, len, "%.1f s", s);
	else
		snprintf(out, len, "%dm%02ds", (int)(s / 60), (int)fmod(s, 60));
}

/* "threshold 1, timeout 1ms" */
static void fmt_setting(uint64_t threshold, uint64_t timeout_ns, char *out, size_t len)
{
	char to[32];

	fmt_ns(timeout_ns, to, sizeof(to));
	snprintf(out, len, "threshold %" PRIu64 ", timeout %s", threshold, to);
}

/* Relative difference of a against b in percent, signed. */
static double pct(double a, double b)
{
	return b != 0 ? (a - b) / b * 100 : 0;
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
			return usage_error("%s: %" PRIu64 "%s is listed twice", opt, vals[k],
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
			return usage_error("%s: empty item in '%s'", opt, s);
		if (*n == MAX_LIST)
			return usage_error("%s: more than %d values in '%s'", opt, MAX_LIST, s);
		snprintf(item, sizeof(item), "%.*s", (int)len, p);
		bad = len >= sizeof(item) ||
		      (timeout ? parse_timeout(item, &vals[*n]) : parse_u64(item, &vals[*n]));
		if (bad && timeout)
			return usage_error("--timeout: '%s' is not a timeout (a number and a unit "
					   "ns, us, ms or s; whole ns, at least 1 ns)",
					   item);
		if (bad)
			return usage_error("--threshold: '%s' is not a whole number", item);
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
			return usage_error("--repeat: '%s' is not a number from 1 to %d", val,
					   MAX_REPEAT);
		t->repeat = (unsigned int)v;
		return 0;
	case O_SEED:
		if (parse_u64(val, &v) || v > UINT64_MAX - 2 * MAX_REPEAT)
			return usage_error("--seed: '%s' is not a seed (a whole number)", val);
		t->seed = v;
		return 0;
	case O_OUTPUT:
		if (!*val)
			return usage_error("-o: empty directory name%s", "");
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
		return usage_error("--%s takes no value", o->name);
	if (o->arg && !val) {
		if (*i + 1 >= argc)
			return usage_error("%s needs a value", argv[*i]);
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
		return usage_error("out of memory%s", "");
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *inl, *why;
		const struct opt *o = dashdash ? NULL : match_option(a, &inl);

		if (!dashdash && strcmp(a, "--") == 0) {
			dashdash = true;
		} else if (o) {
			if ((r = take_option(t, o, inl, argc, argv, &i)) != 0)
				return r;
		} else if (!dashdash && (why = refused(a))) {
			return usage_error("%s", why);
		} else if (!t->workload) {
			if (a[0] == '-' && !dashdash)
				return usage_error("unknown option '%s' (workload options go after "
						   "WORKLOAD)",
						   a);
			t->workload = a;
		} else {
			t->wl_args[t->nwl_args++] = argv[i];
		}
	}
	if (!t->workload)
		return usage_error("no WORKLOAD given%s", "");
	if (!t->nthresholds)
		return usage_error("--threshold LIST is missing%s", "");
	if (!t->ntimeouts)
		return usage_error("--timeout LIST is missing%s", "");
	return 0;
}

/* ---- files and programs ------------------------------------------------------------ */

/* magslab-workload: $MAGSLAB_WORKLOAD, else beside this program, else PATH (util.h). */
static int find_workload(struct tune *t)
{
	char err[512];

	if (fe_find_workload(t->wl_prog, sizeof(t->wl_prog), err, sizeof(err)) == 0)
		return 0;
	return set_err(t, "%s", err);
}

/* Starts argv with stdin from /dev/null, stdout and stderr into the file out
 * (/dev/null if NULL).  The pid, or -1 with t->err. */
static pid_t spawn(struct tune *t, char *const argv[], const char *out)
{
	int fd = proc_open_out(out ? out : "/dev/null");
	struct proc_spec s = { argv, PROC_DEVNULL, fd, fd, NULL, 0, NULL, NULL, NULL };
	pid_t pid;

	if (fd < 0) {
		set_err(t, "cannot write %s: %s", out, strerror(errno));
		return -1;
	}
	pid = proc_spawn(&s);
	if (pid < 0)
		set_err(t, "fork: %s", strerror(errno));
	close(fd);
	return pid;
}

/* Runs argv to its end, output into out (NULL: nowhere): its wait status, or -1. */
static int run_quietly(struct tune *t, char *const argv[], const char *out)
{
	pid_t pid = spawn(t, argv, out);
	int status;

	if (pid < 0)
		return -1;
	if (proc_wait(pid, &status, NULL) < 0)
		return set_err(t, "waitpid: %s", strerror(errno)), -1;
	return status;
}

/* The names under "Subcommands:" in `magslab-workload --help`, comma-separated. */
static void workload_names(struct tune *t, char *out, size_t len)
{
	char tmp[] = "/tmp/magslab-tune-XXXXXX", line[256];
	char *argv[] = { t->wl_prog, (char *)"--help", NULL };
	bool in = false;
	int fd = mkstemp(tmp);
	FILE *f;

	snprintf(out, len, "see %.400s --help", t->wl_prog);
	if (fd < 0)
		return;
	close(fd);
	if (run_quietly(t, argv, tmp) >= 0 && (f = fopen(tmp, "r"))) {
		out[0] = '\0';
		while (fgets(line, sizeof(line), f)) {
			char name[64];

			if (strncmp(line, "Subcommands:", 12) == 0)
				in = true;
			else if (in && sscanf(line, "  %63s", name) == 1 && line[0] == ' ')
				snprintf(out + strlen(out), len - strlen(out), "%s%s",
					 out[0] ? ", " : "", name);
			else if (in)
				break;
		}
		fclose(f);
	}
	unlink(tmp);
	if (!out[0])
		snprintf(out, len, "see %.400s --help", t->wl_prog);
}

/* WORKLOAD must be one magslab-workload knows: 0, 1 failure, 2 unknown. */
static int check_workload(struct tune *t)
{
	char *argv[] = { t->wl_prog, (char *)t->workload, (char *)"--help", NULL };
	char names[512];
	int status = run_quietly(t, argv, NULL);

	if (status < 0)
		return 1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 2) {
		workload_names(t, names, sizeof(names));
		return usage_error("unknown workload '%s' (%s knows: %s)", t->workload,
				   WORKLOAD_PROG, names);
	}
	return set_err(t, "%s %s --help failed (wait status %d)", t->wl_prog, t->workload,
		       status);
}

/* --trace needs this program's `record` subcommand: 0, or 1 with t->err. */
static int check_record(struct tune *t)
{
	char *argv[] = { t->self, (char *)"help", (char *)"record", NULL };
	int status = run_quietly(t, argv, NULL);

	if (status < 0)
		return 1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	return set_err(t, "--trace: %s has no `record` subcommand to record the runs with",
		       t->self);
}

/* ---- progress ---------------------------------------------------------------------- */

/* "run i/N: what; elapsed E, ETA R", rewritten in place on a terminal. */
static void progress_draw(struct tune *t)
{
	double now = fe_now_s(), left;
	char el[32], eta[32] = "?";

	if (t->quiet)
		return;
	fmt_elapsed(now - t->t0, el, sizeof(el));
	if (t->runs_done > 0) {
		left = (t->run_t0 - t->t0) / t->runs_done * (t->runs_total - t->runs_done) -
		       (now - t->run_t0);
		fmt_elapsed(left > 0 ? left : 0, eta, sizeof(eta));
	}
	fprintf(stderr, "%s" PROG ": run %u/%u: %s; elapsed %s, ETA %s%s", t->tty ? "\r" : "",
		t->runs_done + 1, t->runs_total, t->doing, el, eta, t->tty ? "\033[K" : "\n");
	t->drawn = true;
}

/* Ends a progress line left on a terminal (before other output). */
static void progress_end(struct tune *t)
{
	if (t->tty && t->drawn)
		fputs("\r\033[K", stderr);
	t->drawn = false;
}

/* ---- one run ----------------------------------------------------------------------- */

/* The progress line redrawn every second on a terminal, while a run goes on. */
static void progress_tick(void *arg)
{
	struct tune *t = arg;

	if (t->tty && fe_now_s() - t->drawn_at >= 1.0) {
		progress_draw(t);
		t->drawn_at = fe_now_s();
	}
}

/* Waits for the child, redrawing the progress line and passing a SIGINT/SIGTERM on.
 * 0 with its wait status, or 1. */
static int wait_child(struct tune *t, pid_t pid, int *status)
{
	struct proc_wait w = { -1, true, progress_tick, t };

	t->drawn_at = fe_now_s();
	if (proc_wait(pid, status, &w) < 0)
		return set_err(t, "waitpid: %s", strerror(errno));
	return 0;
}

/* The run's base name in runs/ (and traces/): T_NS-sSEED or rerun-WHAT-sSEED. */
static void run_name(const struct setting *s, const char *what, uint64_t seed, char *out,
		     size_t len)
{
	if (what)
		snprintf(out, len, "rerun-%s-s%" PRIu64, what, seed);
	else
		snprintf(out, len, "%" PRIu64 "_%" PRIu64 "-s%" PRIu64, s->threshold,
			 s->timeout_ns, seed);
}

/* The trace directory of a run (--trace): traces/T_NS or traces/rerun-WHAT, with
 * /seed-S under it when there are several runs per setting.  Its parent is created and
 * an earlier trace there removed (magslab record wants an absent or empty directory). */
static int trace_dir(struct tune *t, const struct setting *s, const char *what,
		     uint64_t seed, char *out, size_t len)
{
	int n;

	if (what)
		n = snprintf(out, len, "%s/traces/rerun-%s", t->outdir, what);
	else
		n = snprintf(out, len, "%s/traces/%" PRIu64 "_%" PRIu64, t->outdir,
			     s->threshold, s->timeout_ns);
	if (t->repeat > 1) {
		if (fe_mkdir_p(out) != 0)
			return set_err(t, "cannot create %s: %s", out, strerror(errno));
		snprintf(out + n, len - (size_t)n, "/seed-%" PRIu64, seed);
	} else {
		char parent[PATH_MAX];

		snprintf(parent, sizeof(parent), "%s/traces", t->outdir);
		if (fe_mkdir_p(parent) != 0)
			return set_err(t, "cannot create %s: %s", parent, strerror(errno));
	}
	if (fe_remove_tree(out) != 0)
		return set_err(t, "cannot remove the earlier trace %s: %s", out, strerror(errno));
	return 0;
}

/* The run's command: [magslab record -o DIR -q --] magslab-workload WORKLOAD ARGS...
 * [--threshold T --timeout-ns NS] --seed S --json FILE --quiet.  nums holds the
 * numbers' text.  NULL if out of memory. */
static char **run_argv(const struct tune *t, const struct setting *s, uint64_t seed,
		       const char *json, const char *tdir, char nums[3][24])
{
	char **v = calloc((size_t)t->nwl_args + 24, sizeof(*v));
	int n = 0, k;

	if (!v)
		return NULL;
	if (tdir) {
		v[n++] = (char *)t->self;
		v[n++] = (char *)"record";
		v[n++] = (char *)"-o";
		v[n++] = (char *)tdir;
		v[n++] = (char *)"-q";
		v[n++] = (char *)"--";
	}
	v[n++] = (char *)t->wl_prog;
	v[n++] = (char *)t->workload;
	for (k = 0; k < t->nwl_args; k++)
		v[n++] = t->wl_args[k];
	if (!s->dflt) {
		snprintf(nums[0], 24, "%" PRIu64, s->threshold);
		snprintf(nums[1], 24, "%" PRIu64, s->timeout_ns);
		v[n++] = (char *)"--threshold";
		v[n++] = nums[0];
		v[n++] = (char *)"--timeout-ns";
		v[n++] = nums[1];
	}
	snprintf(nums[2], 24, "%" PRIu64, seed);
	v[n++] = (char *)"--seed";
	v[n++] = nums[2];
	v[n++] = (char *)"--json";
	v[n++] = (char *)json;
	v[n++] = (char *)"--quiet";
	return v;
}

/* The last TAIL_LINES non-empty lines of a file, each indented, into out. */
static void log_tail(const char *path, char *out, size_t len)
{
	char lines[TAIL_LINES][512], buf[512];
	size_t n = 0, k, first;
	FILE *f = fopen(path, "r");

	out[0] = '\0';
	if (!f)
		return;
	while (fgets(buf, sizeof(buf), f)) {
		buf[strcspn(buf, "\n")] = '\0';
		if (buf[0])
			snprintf(lines[n++ % TAIL_LINES], sizeof(lines[0]), "%s", buf);
	}
	fclose(f);
	first = n > TAIL_LINES ? n - TAIL_LINES : 0;
	for (k = first; k < n; k++)
		snprintf(out + strlen(out), len - strlen(out), "\n  | %s",
			 lines[k % TAIL_LINES]);
}

/* A run that did not exit 0: 1 with the cause in t->err, or 2 if it was the first run
 * and the workload refused its options (exit status 2: bad usage). */
static int run_failed(struct tune *t, int status, const char *log)
{
	char tail[TAIL_LINES * 520];

	log_tail(log, tail, sizeof(tail));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 2 && t->runs_done == 1) {
		progress_end(t);
		fprintf(stderr, PROG ": %s %s refused the options (exit status 2):%s\n",
			WORKLOAD_PROG, t->workload, tail[0] ? tail : " (no output)");
		return 2;
	}
	if (WIFEXITED(status))
		return set_err(t, "run %u/%u (%s) failed: exit status %d; the end of its output "
			       "(%s):%s",
			       t->runs_done, t->runs_total, t->doing, WEXITSTATUS(status), log,
			       tail[0] ? tail : " (none)");
	return set_err(t, "run %u/%u (%s) was killed by signal %d; the end of its output "
		       "(%s):%s",
		       t->runs_done, t->runs_total, t->doing, WTERMSIG(status), log,
		       tail[0] ? tail : " (none)");
}

/* A number member of a JSON object, NAN if absent. */
static double jnum(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* Adds one cache's figures: magsize and settle time the largest, bytes and contention
 * summed.  0, or 1 if a needed key is missing. */
static int add_cache(struct tune *t, const char *path, const json_t *c, struct metrics *m)
{
	static const char *const needed[] = { "magsize", "bytes_in_mags", "depot_contended" };
	double settle = jnum(c, "magsize_settled_s");
	size_t k;

	for (k = 0; k < sizeof(needed) / sizeof(needed[0]); k++)
		if (isnan(jnum(c, needed[k])))
			return set_err(t, "%s: a cache without \"%s\"", path, needed[k]);
	m->v[M_MAGSIZE] = fmax(m->v[M_MAGSIZE], jnum(c, "magsize"));
	m->v[M_BYTES] += jnum(c, "bytes_in_mags");
	m->v[M_CONTENTION] += jnum(c, "depot_contended");
	if (!isnan(settle))
		m->v[M_SETTLE] = isnan(m->v[M_SETTLE]) ? settle : fmax(m->v[M_SETTLE], settle);
	return 0;
}

/* A run's figures from its JSON, and the threshold and timeout its first cache had. */
static int read_metrics(struct tune *t, const char *path, struct metrics *m,
			struct applied *ap)
{
	json_error_t je;
	json_t *root = json_load_file(path, 0, &je), *caches, *c;
	double seconds;
	size_t k;
	int rc = 0;

	if (!root)
		return set_err(t, "%s: %s (line %d)", path, je.text, je.line);
	caches = json_object_get(root, "caches");
	seconds = jnum(root, "seconds");
	m->v[M_MOPS] = jnum(root, "mops");
	m->v[M_MAGSIZE] = m->v[M_BYTES] = m->v[M_CONTENTION] = 0;
	m->v[M_SETTLE] = NAN;
	if (!json_is_array(caches) || json_array_size(caches) == 0 || !(seconds > 0) ||
	    isnan(m->v[M_MOPS])) {
		rc = set_err(t, "%s: no mops, seconds or caches in it: not a %s result", path,
			     WORKLOAD_PROG);
		goto out;
	}
	json_array_foreach(caches, k, c)
		if ((rc = add_cache(t, path, c, m)) != 0)
			goto out;
	m->v[M_CONTENTION] /= seconds;
	c = json_array_get(caches, 0);
	ap->threshold = (uint64_t)jnum(c, "resize_threshold");
	ap->timeout_ns = (uint64_t)jnum(c, "resize_timeout_ns");
out:
	json_decref(root);
	return rc;
}

/* The setting in words into set, and what the progress line says about the run. */
static void describe_run(struct tune *t, const struct setting *s, const char *what,
			 uint64_t seed, char *set, size_t len)
{
	if (s->dflt)
		snprintf(set, len, "the default setting");
	else
		fmt_setting(s->threshold, s->timeout_ns, set, len);
	snprintf(t->doing, sizeof(t->doing), "%s%s%s, seed %" PRIu64, what ? "re-run, " : "",
		 set, what && !s->dflt ? " (recommended)" : "", seed);
}

/*
 * Runs setting s once with seed (what: NULL for a grid run, else "recommended" or
 * "default"); its figures into m.  0; 1 failure, 2 the workload refused its options,
 * 130 interrupted (t->err set for 1 and 130).
 */
static int run_once(struct tune *t, const struct setting *s, const char *what,
		    uint64_t seed, struct metrics *m, struct applied *ap)
{
	char name[128], json[PATH_MAX], log[PATH_MAX], tdir[PATH_MAX], nums[3][24], set[96];
	char **argv;
	pid_t pid;
	int status = 0, rc;

	if (proc_interrupted())
		return set_err(t, "interrupted"), 130;
	run_name(s, what, seed, name, sizeof(name));
	snprintf(json, sizeof(json), "%s/runs/%s.json", t->outdir, name);
	snprintf(log, sizeof(log), "%s/runs/%s.log", t->outdir, name);
	unlink(json);
	if (t->trace && trace_dir(t, s, what, seed, tdir, sizeof(tdir)) != 0)
		return 1;
	argv = run_argv(t, s, seed, json, t->trace ? tdir : NULL, nums);
	if (!argv)
		return set_err(t, "out of memory");
	describe_run(t, s, what, seed, set, sizeof(set));
	t->run_t0 = fe_now_s();
	progress_draw(t);
	pid = spawn(t, argv, log);
	rc = pid < 0 ? 1 : wait_child(t, pid, &status);
	free(argv);
	t->runs_done++;
	if (rc)
		return rc;
	if (proc_interrupted())
		return set_err(t, "interrupted (run %u/%u, %s)", t->runs_done, t->runs_total,
			       t->doing),
		       130;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return run_failed(t, status, log);
	if (read_metrics(t, json, m, ap) != 0)
		return 1;
	if (!s->dflt && (ap->threshold != s->threshold || ap->timeout_ns != s->timeout_ns))
		return set_err(t, "%s: the cache ran with threshold %" PRIu64 " and timeout %"
			       PRIu64 " ns, not what tune asked for (%s)",
			       json, ap->threshold, ap->timeout_ns, set);
	return 0;
}

/* ---- medians, the front, the recommendation ---------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The median of v[0..n) without its NANs (NAN if nothing is left); v is reordered. */
static double median(double *v, size_t n)
{
	size_t k = 0, i;

	for (i = 0; i < n; i++)
		if (!isnan(v[i]))
			v[k++] = v[i];
	if (k == 0)
		return NAN;
	qsort(v, k, sizeof(*v), cmp_double);
	return k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2;
}

/* Each figure's median over the runs. */
static void medians(const struct metrics *runs, unsigned int n, struct metrics *out)
{
	double v[MAX_REPEAT];
	unsigned int r;
	int f;

	for (f = 0; f < NMETRICS; f++) {
		for (r = 0; r < n; r++)
			v[r] = runs[r].v[f];
		out->v[f] = median(v, n);
	}
}

/* Runs the grid: every cell `repeat` times, seeds seed .. seed + repeat - 1. */
static int run_grid(struct tune *t)
{
	struct metrics runs[MAX_REPEAT];
	struct applied ap;
	size_t i, j;
	unsigned int r;
	int rc;

	for (i = 0; i < t->nthresholds; i++) {
		for (j = 0; j < t->ntimeouts; j++) {
			struct cell *c = &t->cells[i * t->ntimeouts + j];
			struct setting s = { false, t->thresholds[i], t->timeouts[j] };

			c->threshold = s.threshold;
			c->timeout_ns = s.timeout_ns;
			c->mops_min = INFINITY;
			c->mops_max = -INFINITY;
			for (r = 0; r < t->repeat; r++) {
				if ((rc = run_once(t, &s, NULL, t->seed + r, &runs[r], &ap)))
					return rc;
				c->mops_min = fmin(c->mops_min, runs[r].v[M_MOPS]);
				c->mops_max = fmax(c->mops_max, runs[r].v[M_MOPS]);
			}
			medians(runs, t->repeat, &c->med);
		}
	}
	return 0;
}

/* a dominates b: at least as fast and as small, and better in one. */
static bool dominates(const struct metrics *a, const struct metrics *b)
{
	double ta = a->v[M_MOPS], tb = b->v[M_MOPS], ba = a->v[M_BYTES], bb = b->v[M_BYTES];

	return ta >= tb && ba <= bb && (ta > tb || ba < bb);
}

static void mark_pareto(struct tune *t)
{
	size_t i, j;

	for (i = 0; i < t->ncells; i++) {
		t->cells[i].pareto = true;
		for (j = 0; j < t->ncells; j++)
			if (j != i && dominates(&t->cells[j].med, &t->cells[i].med))
				t->cells[i].pareto = false;
	}
}

static double best_mops(const struct tune *t)
{
	double best = 0;
	size_t i;

	for (i = 0; i < t->ncells; i++)
		best = fmax(best, t->cells[i].med.v[M_MOPS]);
	return best;
}

/* NAN sorts after every number. */
static int cmp_nan_last(double a, double b)
{
	if (isnan(a) || isnan(b))
		return isnan(a) - isnan(b);
	return a < b ? -1 : a > b;
}

/* Among the candidates, a before b: fewer bytes, less contention, shorter settle. */
static bool preferred(const struct cell *a, const struct cell *b)
{
	static const enum metric order[] = { M_BYTES, M_CONTENTION, M_SETTLE };
	size_t k;

	for (k = 0; k < sizeof(order) / sizeof(order[0]); k++) {
		int c = cmp_nan_last(a->med.v[order[k]], b->med.v[order[k]]);

		if (c)
			return c < 0;
	}
	return false;
}

/* The rule (docs/tune.md): the Pareto settings within 5 % of the best throughput; of
 * these the one holding the fewest bytes (ties: less contention, shorter settle). */
static void recommend(struct tune *t)
{
	double floor_mops = NEAR_BEST * best_mops(t);
	size_t i, rec = SIZE_MAX;

	mark_pareto(t);
	for (i = 0; i < t->ncells; i++) {
		const struct cell *c = &t->cells[i];

		if (!c->pareto || c->med.v[M_MOPS] < floor_mops)
			continue;
		if (rec == SIZE_MAX || preferred(c, &t->cells[rec]))
			rec = i;
	}
	t->rec = rec == SIZE_MAX ? 0 : rec;
	t->cells[t->rec].recommended = true;
}

/* The re-runs: recommended and default alternately, same seeds, after the grid's. */
static int run_check(struct tune *t)
{
	const struct cell *c = &t->cells[t->rec];
	struct setting rec = { false, c->threshold, c->timeout_ns }, dflt = { true, 0, 0 };
	struct metrics runs[2][MAX_REPEAT];
	struct applied ap;
	unsigned int r;
	int rc;

	for (r = 0; r < t->repeat; r++) {
		uint64_t seed = t->seed + t->repeat + r;

		if ((rc = run_once(t, &rec, "recommended", seed, &runs[0][r], &ap)) ||
		    (rc = run_once(t, &dflt, "default", seed, &runs[1][r], &t->dflt)))
			return rc;
	}
	medians(runs[0], t->repeat, &t->rerun[0]);
	medians(runs[1], t->repeat, &t->rerun[1]);
	return 0;
}

/* ---- the recommendation in words --------------------------------------------------- */

/* The smallest and largest value of a figure over the grid. */
static void grid_range(const struct tune *t, enum metric m, double *lo, double *hi)
{
	size_t i;

	*lo = INFINITY;
	*hi = -INFINITY;
	for (i = 0; i < t->ncells; i++) {
		if (isnan(t->cells[i].med.v[m]))
			continue;
		*lo = fmin(*lo, t->cells[i].med.v[m]);
		*hi = fmax(*hi, t->cells[i].med.v[m]);
	}
}

static size_t fastest(const struct tune *t)
{
	size_t i, best = 0;

	for (i = 1; i < t->ncells; i++)
		if (t->cells[i].med.v[M_MOPS] > t->cells[best].med.v[M_MOPS] ||
		    (t->cells[i].med.v[M_MOPS] == t->cells[best].med.v[M_MOPS] &&
		     preferred(&t->cells[i], &t->cells[best])))
			best = i;
	return best;
}

/* rec_line and why_line. */
static void explain(struct tune *t)
{
	const struct cell *c = &t->cells[t->rec], *f = &t->cells[fastest(t)];
	double best = f->med.v[M_MOPS];
	char set[96], fset[96], b[32], fb[32];
	size_t i, ncand = 0;

	for (i = 0; i < t->ncells; i++)
		ncand += t->cells[i].pareto && t->cells[i].med.v[M_MOPS] >= NEAR_BEST * best;
	fmt_setting(c->threshold, c->timeout_ns, set, sizeof(set));
	fmt_setting(f->threshold, f->timeout_ns, fset, sizeof(fset));
	fmt_bytes(c->med.v[M_BYTES], b, sizeof(b));
	fmt_bytes(f->med.v[M_BYTES], fb, sizeof(fb));
	snprintf(t->rec_line, sizeof(t->rec_line),
		 "recommended: %s (--threshold %" PRIu64 " --timeout-ns %" PRIu64
		 "): %.2f Mops/s, %s in magazines, final magsize %g",
		 set, c->threshold, c->timeout_ns, c->med.v[M_MOPS], b, c->med.v[M_MAGSIZE]);
	if (c == f && ncand == 1)
		snprintf(t->why_line, sizeof(t->why_line),
			 "why: it has the best throughput of the grid, and no other Pareto "
			 "setting comes within 5 %% of it (>= %.2f Mops/s)",
			 NEAR_BEST * best);
	else if (c == f)
		snprintf(t->why_line, sizeof(t->why_line),
			 "why: it has the best throughput of the grid, and none of the other %zu "
			 "Pareto settings within 5 %% of it (>= %.2f Mops/s) holds fewer bytes "
			 "in magazines",
			 ncand - 1, NEAR_BEST * best);
	else
		snprintf(t->why_line, sizeof(t->why_line),
			 "why: of the %zu Pareto settings within 5 %% of the best throughput "
			 "(%.2f Mops/s, %s, holding %s), it holds the fewest bytes in magazines "
			 "(%s, %+.0f %%) for %+.1f %% throughput",
			 ncand, best, fset, fb, b, pct(c->med.v[M_BYTES], f->med.v[M_BYTES]),
			 pct(c->med.v[M_MOPS], best));
}

/* "beats the default on throughput (+3.1 %)" or "does not ...". */
static void compare(const char *what, double rec, double def, bool more_is_better,
		    char *out, size_t len)
{
	bool beats = more_is_better ? rec > def : rec < def;

	snprintf(out, len, "%s the default on %s (%+.1f %%)",
		 beats ? "beats" : rec == def ? "ties with" : "does not beat", what,
		 pct(rec, def));
}

/* rerun_line and verdict_line. */
static void judge(struct tune *t)
{
	const struct metrics *r = &t->rerun[0], *d = &t->rerun[1];
	const struct cell *c = &t->cells[t->rec];
	char rb[32], db[32], dset[96], tp[96], mem[96], seeds[64];
	int better = (r->v[M_MOPS] > d->v[M_MOPS]) + (r->v[M_BYTES] < d->v[M_BYTES]);
	int worse = (r->v[M_MOPS] < d->v[M_MOPS]) + (r->v[M_BYTES] > d->v[M_BYTES]);
	bool same = c->threshold == t->dflt.threshold && c->timeout_ns == t->dflt.timeout_ns;

	fmt_bytes(r->v[M_BYTES], rb, sizeof(rb));
	fmt_bytes(d->v[M_BYTES], db, sizeof(db));
	fmt_setting(t->dflt.threshold, t->dflt.timeout_ns, dset, sizeof(dset));
	if (t->repeat == 1)
		snprintf(seeds, sizeof(seeds), "seed %" PRIu64, t->seed + 1);
	else
		snprintf(seeds, sizeof(seeds), "seeds %" PRIu64 " to %" PRIu64 ", medians",
			 t->seed + t->repeat, t->seed + 2 * t->repeat - 1);
	snprintf(t->rerun_line, sizeof(t->rerun_line),
		 "re-run (%s): recommended %.2f Mops/s, %s; default (%s) %.2f Mops/s, %s",
		 seeds, r->v[M_MOPS], rb, dset, d->v[M_MOPS], db);
	compare("throughput", r->v[M_MOPS], d->v[M_MOPS], true, tp, sizeof(tp));
	compare("memory", r->v[M_BYTES], d->v[M_BYTES], false, mem, sizeof(mem));
	if (same)
		snprintf(t->verdict_line, sizeof(t->verdict_line),
			 "verdict: the recommended setting is the default, so there is nothing "
			 "to beat: the two re-runs differ by %+.1f %% in throughput and %+.1f %% "
			 "in memory, which is run-to-run noise",
			 pct(r->v[M_MOPS], d->v[M_MOPS]), pct(r->v[M_BYTES], d->v[M_BYTES]));
	else
		snprintf(t->verdict_line, sizeof(t->verdict_line),
			 "verdict: the recommended setting %s and %s: %s", tp, mem,
			 worse == 0 ? "the recommendation holds" :
			 better > 0 ? "the recommendation holds in part" :
				      "the recommendation does not hold on this re-run");
}

/* ---- output files ------------------------------------------------------------------ */

static FILE *open_out(struct tune *t, const char *name)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", t->outdir, name);
	f = fopen(path, "w");
	if (!f)
		set_err(t, "cannot write %s: %s", path, strerror(errno));
	return f;
}

static int close_out(struct tune *t, FILE *f, const char *name)
{
	bool bad = ferror(f);

	if (fclose(f) != 0 || bad)
		return set_err(t, "writing %s/%s failed", t->outdir, name);
	return 0;
}

/* A number for the CSV: empty if NAN. */
static void csv_num(FILE *f, const char *fmt, double v)
{
	fputc(',', f);
	if (!isnan(v))
		fprintf(f, fmt, v);
}

static int write_csv(struct tune *t)
{
	FILE *f = open_out(t, "tune.csv");
	size_t i;

	if (!f)
		return 1;
	fputs("threshold,timeout_ns,repeat,throughput_mops,contentions_per_s,final_magsize,"
	      "bytes_in_mags,settle_s,throughput_min_mops,throughput_max_mops,seed,pareto,"
	      "recommended\n",
	      f);
	for (i = 0; i < t->ncells; i++) {
		const struct cell *c = &t->cells[i];

		fprintf(f, "%" PRIu64 ",%" PRIu64 ",%u", c->threshold, c->timeout_ns, t->repeat);
		csv_num(f, "%.4f", c->med.v[M_MOPS]);
		csv_num(f, "%.1f", c->med.v[M_CONTENTION]);
		csv_num(f, "%g", c->med.v[M_MAGSIZE]);
		csv_num(f, "%.0f", c->med.v[M_BYTES]);
		csv_num(f, "%.3f", c->med.v[M_SETTLE]);
		csv_num(f, "%.4f", c->mops_min);
		csv_num(f, "%.4f", c->mops_max);
		fprintf(f, ",%" PRIu64 ",%d,%d\n", t->seed, c->pareto, c->recommended);
	}
	return close_out(t, f, "tune.csv");
}

/* One heatmap: the figure, how to show its values, its colours (light = low). */
struct heatmap {
	const char *name;     /* heat_NAME.gp, .png, .svg */
	enum metric m;
	const char *title;
	const char *better;
	void (*fmt)(double v, char *out, size_t len);
	const char *palette;
};

#define PAL_GOOD "(0 \"#f7fcf5\", 1 \"#74c476\", 2 \"#00441b\")"
#define PAL_BAD "(0 \"#fff5eb\", 1 \"#fd8d3c\", 2 \"#7f2704\")"
#define PAL_NEUTRAL "(0 \"#f7fbff\", 1 \"#6baed6\", 2 \"#08306b\")"

static const struct heatmap heatmaps[] = {
	{ "throughput", M_MOPS, "throughput, Mops/s", "higher is better", fmt_mops, PAL_GOOD },
	{ "contention", M_CONTENTION, "depot lock contention, contended acquisitions/s",
	  "lower is better", fmt_rate, PAL_BAD },
	{ "bytes", M_BYTES, "memory held in magazines at the end, bytes", "lower is better",
	  fmt_bytes, PAL_BAD },
	{ "settle", M_SETTLE, "time to reach the final magsize, s", "lower is better",
	  fmt_secs, PAL_BAD },
	{ "magsize", M_MAGSIZE, "final depot magsize, rounds", "for reference", fmt_count,
	  PAL_NEUTRAL },
};

#define NHEATMAPS (sizeof(heatmaps) / sizeof(heatmaps[0]))

/* s as the inside of a gnuplot double-quoted string. */
static void gp_str(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', f);
		fputc(*s, f);
	}
}

/* The workload command line (without the grid's options), for titles and reports. */
static void fmt_command(const struct tune *t, char *out, size_t len)
{
	int k;

	snprintf(out, len, "%s %s", WORKLOAD_PROG, t->workload);
	for (k = 0; k < t->nwl_args; k++)
		snprintf(out + strlen(out), len - strlen(out), " %s", t->wl_args[k]);
}

/* The axes: index positions, labelled with the values. */
static void gp_axes(const struct tune *t, FILE *f)
{
	char to[32];
	size_t k;

	fprintf(f, "set xrange [-0.5:%zu.5]\nset yrange [-0.5:%zu.5]\nset xtics (", t->ntimeouts - 1,
		t->nthresholds - 1);
	for (k = 0; k < t->ntimeouts; k++) {
		fmt_ns(t->timeouts[k], to, sizeof(to));
		fprintf(f, "%s\"%s\" %zu", k ? ", " : "", to, k);
	}
	fputs(") scale 0\nset ytics (", f);
	for (k = 0; k < t->nthresholds; k++)
		fprintf(f, "%s\"%" PRIu64 "\" %zu", k ? ", " : "", t->thresholds[k], k);
	fputs(") scale 0\n"
	      "set xlabel \"resize timeout (--timeout)\"\n"
	      "set ylabel \"resize threshold (--threshold)\"\n",
	      f);
}

/* The cells as a datablock: x y value "label" (label: * on the Pareto front). */
static void gp_cells(const struct tune *t, const struct heatmap *h, FILE *f)
{
	char label[48];
	size_t i;

	fputs("$cells << EOD\n", f);
	for (i = 0; i < t->ncells; i++) {
		const struct cell *c = &t->cells[i];
		double v = c->med.v[h->m];

		h->fmt(v, label, sizeof(label));
		fprintf(f, "%zu %zu ", i % t->ntimeouts, i / t->ntimeouts);
		if (isnan(v))
			fputs("NaN", f);
		else
			fprintf(f, "%.9g", v);
		fprintf(f, " \"%s%s\"\n", label, c->pareto ? " *" : "");
	}
	fputs("EOD\n", f);
}

static int write_heatmap(struct tune *t, const struct heatmap *h)
{
	char name[64], cmd[1024];
	size_t rec = t->rec;
	int w = 240 + 130 * (int)t->ntimeouts, hgt = 200 + 70 * (int)t->nthresholds;
	FILE *f;

	snprintf(name, sizeof(name), "heat_%s.gp", h->name);
	if (!(f = open_out(t, name)))
		return 1;
	if (w < 640)
		w = 640;
	if (hgt < 480)
		hgt = 480;
	fmt_command(t, cmd, sizeof(cmd));
	fprintf(f, "# %s — magslab tune: %s over the threshold x timeout grid (tune.csv)\n",
		name, h->title);
	fprintf(f, "set terminal pngcairo size %d,%d font \"sans,10\" noenhanced\n"
		   "set output \"heat_%s.png\"\nset title \"",
		w, hgt, h->name);
	gp_str(f, h->title);
	fprintf(f, " (%s; median of %u run%s)\\n", h->better, t->repeat,
		t->repeat == 1 ? "" : "s");
	gp_str(f, cmd);
	fputs("\"\n", f);
	gp_axes(t, f);
	fprintf(f, "set palette defined %s\nset style textbox opaque noborder\nunset key\n"
		   "set bmargin 5\n"
		   "set object 1 rect from %zu-0.5,%zu-0.5 to %zu+0.5,%zu+0.5 front "
		   "fillstyle empty border lc rgb \"#d000d0\" lw 4\n"
		   "set label 1 \"framed (magenta): the recommended setting;  *: on the Pareto "
		   "front (throughput vs bytes in magazines)\" at screen 0.01,0.02 "
		   "font \",8\"\n",
		h->palette, rec % t->ntimeouts, rec / t->ntimeouts, rec % t->ntimeouts,
		rec / t->ntimeouts);
	gp_cells(t, h, f);
	fprintf(f, "plot $cells using 1:2:(0.5):(0.5):3 with boxxyerror fillstyle solid 1.0 "
		   "noborder linecolor palette, \\\n"
		   "     $cells using 1:2:4 with labels boxed\n"
		   "set terminal svg size %d,%d dynamic font \"sans,10\" noenhanced\n"
		   "set output \"heat_%s.svg\"\nreplot\n",
		w, hgt, h->name);
	return close_out(t, f, name);
}

static int write_plots(struct tune *t)
{
	struct gp_plot plots[NHEATMAPS];
	char names[NHEATMAPS][3][64];
	size_t k;

	for (k = 0; k < NHEATMAPS; k++)
		if (write_heatmap(t, &heatmaps[k]) != 0)
			return 1;
	if (!t->plots)
		return 0;
	if (!t->quiet) {
		fprintf(stderr, "%s" PROG ": rendering %zu heatmaps with gnuplot%s",
			t->tty ? "\r" : "", NHEATMAPS, t->tty ? "\033[K" : "\n");
		t->drawn = true;
	}
	for (k = 0; k < NHEATMAPS; k++) {
		snprintf(names[k][0], sizeof(names[k][0]), "heat_%s.gp", heatmaps[k].name);
		snprintf(names[k][1], sizeof(names[k][1]), "heat_%s.png", heatmaps[k].name);
		snprintf(names[k][2], sizeof(names[k][2]), "heat_%s.svg", heatmaps[k].name);
		plots[k] = (struct gp_plot){ names[k][0], { names[k][1], names[k][2] }, 2 };
	}
	t->nplots = gp_render(t->gnuplot, t->outdir, plots, NHEATMAPS, t->err, sizeof(t->err));
	return t->nplots < 0;
}

/* One row of a figures table (tune.txt). */
static void txt_row(FILE *f, const char *label, const struct metrics *m, const char *mark)
{
	char b[32], s[32];

	fmt_bytes(m->v[M_BYTES], b, sizeof(b));
	fmt_secs(m->v[M_SETTLE], s, sizeof(s));
	fprintf(f, "  %-44s %8.2f  %12s  %7g  %12.0f  %8s%s\n", label, m->v[M_MOPS], b,
		m->v[M_MAGSIZE], m->v[M_CONTENTION], s, mark);
}

static void txt_header(FILE *f, const char *first)
{
	fprintf(f, "  %-44s %8s  %12s  %7s  %12s  %8s\n", first, "Mops/s", "in magazines",
		"magsize", "contention/s", "settle");
}

/* The Pareto front, fastest first. */
static void txt_front(const struct tune *t, FILE *f)
{
	size_t order[MAX_LIST * MAX_LIST], n = 0, i, j;
	char set[96];

	for (i = 0; i < t->ncells; i++)
		if (t->cells[i].pareto)
			order[n++] = i;
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && t->cells[order[j]].med.v[M_MOPS] >
					     t->cells[order[j - 1]].med.v[M_MOPS];
		     j--) {
			size_t x = order[j];

			order[j] = order[j - 1];
			order[j - 1] = x;
		}
	fprintf(f, "Pareto front: %zu of the %zu settings (no other setting has both more "
		   "throughput and fewer bytes in magazines), fastest first:\n",
		n, t->ncells);
	txt_header(f, "setting");
	for (i = 0; i < n; i++) {
		const struct cell *c = &t->cells[order[i]];

		fmt_setting(c->threshold, c->timeout_ns, set, sizeof(set));
		txt_row(f, set, &c->med, c->recommended ? "  <- recommended" : "");
	}
}

/* Contention, settle time and noise: what else the choice should be read with. */
static void txt_context(const struct tune *t, FILE *f)
{
	const struct cell *c = &t->cells[t->rec];
	double lo, hi, spread = 0;
	size_t i;

	grid_range(t, M_CONTENTION, &lo, &hi);
	fprintf(f, "contention: %.0f contended depot acquisitions/s (the grid: %.0f to %.0f/s);"
		   " more contention means threads waiting for the depot lock\n",
		c->med.v[M_CONTENTION], lo, hi);
	grid_range(t, M_SETTLE, &lo, &hi);
	if (isnan(c->med.v[M_SETTLE]))
		fputs("settling: the workload does not say when its magsize last changed\n", f);
	else
		fprintf(f, "settling: the magsize reached its final %g at %.2f s (0: it never "
			   "changed; the grid: %.2f to %.2f s); a setting still growing at the "
			   "end of the run may not have settled\n",
			c->med.v[M_MAGSIZE], c->med.v[M_SETTLE], lo, hi);
	for (i = 0; i < t->ncells; i++)
		spread = fmax(spread, pct(t->cells[i].mops_max, t->cells[i].mops_min));
	if (t->repeat > 1)
		fprintf(f, "noise: the throughput of a setting varied by up to %.0f %% between "
			   "its %u runs (throughput_min/max_mops in tune.csv)\n",
			spread, t->repeat);
	else
		fputs("noise: one run per setting; throughput can vary by 10 % or more from run "
		      "to run on a busy or small machine: --repeat 3 takes medians\n",
		      f);
}

/* The re-run table. */
static void txt_check(const struct tune *t, FILE *f)
{
	const struct cell *c = &t->cells[t->rec];
	char label[128], set[96];

	fprintf(f, "\nCheck: the recommended and the default setting run again, %u time%s "
		   "each, seeds %" PRIu64 " to %" PRIu64 " (not the grid's):\n",
		t->repeat, t->repeat == 1 ? "" : "s", t->seed + t->repeat,
		t->seed + 2 * t->repeat - 1);
	txt_header(f, "setting");
	fmt_setting(c->threshold, c->timeout_ns, set, sizeof(set));
	snprintf(label, sizeof(label), "recommended (%s)", set);
	txt_row(f, label, &t->rerun[0], "");
	fmt_setting(t->dflt.threshold, t->dflt.timeout_ns, set, sizeof(set));
	snprintf(label, sizeof(label), "default (%s)", set);
	txt_row(f, label, &t->rerun[1], "");
	fprintf(f, "%s\n%s\n", t->rerun_line, t->verdict_line);
}

/* tune.txt: the grid, the rule, the front, the recommendation, the check. */
static int write_txt(struct tune *t, double took)
{
	FILE *f = open_out(t, "tune.txt");
	char cmd[1024];

	if (!f)
		return 1;
	fmt_command(t, cmd, sizeof(cmd));
	fprintf(f, "magslab tune: %s\n"
		   "grid: %zu threshold%s x %zu timeout%s, %u run%s per setting (seeds %" PRIu64
		   " to %" PRIu64 "), medians; %u runs in %.1f s\n\n",
		cmd, t->nthresholds, t->nthresholds == 1 ? "" : "s", t->ntimeouts,
		t->ntimeouts == 1 ? "" : "s", t->repeat, t->repeat == 1 ? "" : "s", t->seed,
		t->seed + t->repeat - 1, t->runs_done, took);
	fputs("Rule: throughput (Mops/s, more is better) against bytes held in magazines at "
	      "the end of the run (fewer is better).  The Pareto front is the settings that no "
	      "other setting beats on both.  Recommended: of the front's settings within 5 % "
	      "of the best throughput, the one holding the fewest bytes; ties go to less depot "
	      "contention, then to a shorter time to settle.\n\n",
	      f);
	txt_front(t, f);
	fprintf(f, "\n%s\n%s\n", t->rec_line, t->why_line);
	txt_context(t, f);
	fprintf(f, "apply: MAGSLAB_RESIZE_THRESHOLD=%" PRIu64 " MAGSLAB_RESIZE_TIMEOUT_NS=%" PRIu64
		   " in the environment, or kmem_cache_set_resize_threshold() and "
		   "kmem_cache_set_resize_timeout_ns() on the cache\n",
		t->cells[t->rec].threshold, t->cells[t->rec].timeout_ns);
	txt_check(t, f);
	return close_out(t, f, "tune.txt");
}

/* A whole file, HTML-escaped. */
static void html_file(const struct tune *t, FILE *f, const char *name)
{
	char path[PATH_MAX], buf[4096];
	FILE *in;

	snprintf(path, sizeof(path), "%s/%s", t->outdir, name);
	if (!(in = fopen(path, "r")))
		return;
	while (fgets(buf, sizeof(buf), in))
		fe_html_escape(f, buf);
	fclose(in);
}

static void html_table(const struct tune *t, FILE *f)
{
	char to[32], b[32];
	size_t i;

	fputs("<table>\n<tr><th>threshold</th><th>timeout</th><th>timeout_ns</th>"
	      "<th>Mops/s</th><th>min..max</th><th>contention/s</th><th>magsize</th>"
	      "<th>bytes in magazines</th><th>settle (s)</th><th>Pareto</th></tr>\n",
	      f);
	for (i = 0; i < t->ncells; i++) {
		const struct cell *c = &t->cells[i];

		fmt_ns(c->timeout_ns, to, sizeof(to));
		fmt_bytes(c->med.v[M_BYTES], b, sizeof(b));
		fprintf(f, "<tr%s><td>%" PRIu64 "</td><td>%s</td><td>%" PRIu64 "</td>"
			   "<td>%.2f</td><td>%.2f..%.2f</td><td>%.0f</td><td>%g</td><td>%s</td>"
			   "<td>%.3f</td><td>%s</td></tr>\n",
			c->recommended ? " class=\"rec\"" : "", c->threshold, to, c->timeout_ns,
			c->med.v[M_MOPS], c->mops_min, c->mops_max, c->med.v[M_CONTENTION],
			c->med.v[M_MAGSIZE], b, c->med.v[M_SETTLE], c->pareto ? "yes" : "");
	}
	fputs("</table>\n", f);
}

static int write_html(struct tune *t)
{
	FILE *f = open_out(t, "index.html");
	char cmd[1024];
	size_t k;

	if (!f)
		return 1;
	fmt_command(t, cmd, sizeof(cmd));
	fputs("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">\n<title>magslab tune: ", f);
	fe_html_escape(f, cmd);
	fputs("</title>\n<style>body{font-family:sans-serif;margin:1em 2em}"
	      "table{border-collapse:collapse}td,th{border:1px solid #bbb;padding:2px 8px;"
	      "text-align:right}tr.rec{background:#ffe58f;font-weight:bold}"
	      "img{max-width:48%;margin:4px}pre{background:#f6f6f6;padding:8px;"
	      "white-space:pre-wrap}</style>\n</head><body>\n<h1>magslab tune</h1>\n<p><code>",
	      f);
	fe_html_escape(f, cmd);
	fputs("</code> over the resize threshold x timeout grid.</p>\n"
	      "<h2>Recommendation</h2>\n<pre>",
	      f);
	html_file(t, f, "tune.txt");
	fputs("</pre>\n<h2>Heatmaps</h2>\n<p>", f);
	for (k = 0; k < NHEATMAPS; k++)
		fprintf(f, "<a href=\"heat_%s.svg\"><img src=\"heat_%s.png\" alt=\"%s\"></a>\n",
			heatmaps[k].name, heatmaps[k].name, heatmaps[k].title);
	fputs("</p>\n<h2>Results (<a href=\"tune.csv\">tune.csv</a>)</h2>\n", f);
	html_table(t, f);
	fputs("<p>Every run's JSON and output: <a href=\"runs/\">runs/</a>.</p>\n"
	      "</body></html>\n",
	      f);
	return close_out(t, f, "index.html");
}

/* ---- the subcommand ---------------------------------------------------------------- */

/* Programs, the output directory, the grid's cells: 0, 1 failure, 2 bad usage. */
static int prepare(struct tune *t)
{
	char runs[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", t->self, sizeof(t->self) - 1);
	int rc;

	if (n <= 0)
		return set_err(t, "cannot find this program (/proc/self/exe): %s", strerror(errno));
	t->self[n] = '\0';
	if (find_workload(t) != 0)
		return 1;
	if ((rc = check_workload(t)) != 0)
		return rc;
	if (t->trace && check_record(t) != 0)
		return 1;
	if (t->plots && gp_find(t->gnuplot, sizeof(t->gnuplot)) != 0)
		return set_err(t, "%s not found: install gnuplot, or use --no-plots", t->gnuplot);
	snprintf(runs, sizeof(runs), "%s/runs", t->outdir);
	if (fe_mkdir_p(runs) != 0)
		return set_err(t, "cannot create the output directory %s: %s", runs,
			       strerror(errno));
	if (!realpath(t->outdir, t->absout))
		snprintf(t->absout, sizeof(t->absout), "%s", t->outdir);
	t->ncells = t->nthresholds * t->ntimeouts;
	t->cells = calloc(t->ncells, sizeof(*t->cells));
	if (!t->cells)
		return set_err(t, "out of memory");
	t->runs_total = (unsigned int)(t->ncells + 2) * t->repeat;
	return 0;
}

/* The grid, the choice, the plots, the check, the report: 0, 1, 2 or 130. */
static int tune_all(struct tune *t)
{
	int rc;

	t->t0 = fe_now_s();
	proc_catch_signals(false);
	rc = run_grid(t);
	if (!rc) {
		recommend(t);
		explain(t);
		rc = write_csv(t) || write_plots(t);
	}
	if (!rc && !(rc = run_check(t))) {
		judge(t);
		rc = write_txt(t, fe_now_s() - t->t0) || write_html(t);
	}
	progress_end(t);
	proc_restore_signals();
	if (rc && rc != 130 && proc_interrupted()) {
		set_err(t, "interrupted");
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
