/*
 * analysis/tune_run.c — the runs of `magslab tune` (see tune_impl.h): each setting of the
 * grid run `repeat` times as a child process (proc.h: its output into runs/NAME.log,
 * SIGINT/SIGTERM passed on), its JSON read, the medians, the Pareto front of throughput
 * against bytes in magazines, the recommended setting, and the re-runs that check it
 * against the library's default.  The progress line on stderr is drawn here.
 *
 * Owns OUTDIR/runs/ (every run's JSON and log) and, with --trace, OUTDIR/traces/ (an
 * earlier trace of a setting is removed before it is recorded again).
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"
#include "tune_impl.h"
#include "util.h"

#define TAIL_LINES 6         /* lines of a failed run's output shown */

/* ---- files and programs ------------------------------------------------------------ */

/* magslab-workload: $MAGSLAB_WORKLOAD, else beside this program, else PATH (util.h). */
int tune_find_workload(struct tune *t)
{
	char err[512];

	if (fe_find_workload(t->wl_prog, sizeof(t->wl_prog), err, sizeof(err)) == 0)
		return 0;
	return tune_err(t, "%s", err);
}

/* Starts argv with stdin from /dev/null, stdout and stderr into the file out
 * (/dev/null if NULL).  The pid, or -1 with t->err. */
static pid_t spawn(struct tune *t, char *const argv[], const char *out)
{
	int fd = proc_open_out(out ? out : "/dev/null");
	struct proc_spec s = { argv, PROC_DEVNULL, fd, fd, NULL, 0, NULL, NULL, NULL };
	pid_t pid;

	if (fd < 0) {
		tune_err(t, "cannot write %s: %s", out, strerror(errno));
		return -1;
	}
	pid = proc_spawn(&s);
	if (pid < 0)
		tune_err(t, "fork: %s", strerror(errno));
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
		return tune_err(t, "waitpid: %s", strerror(errno)), -1;
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
int tune_check_workload(struct tune *t)
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
		return tune_usage_error("unknown workload '%s' (%s knows: %s)", t->workload,
				   WORKLOAD_PROG, names);
	}
	return tune_err(t, "%s %s --help failed (wait status %d)", t->wl_prog, t->workload,
		       status);
}

/* --trace needs this program's `record` subcommand: 0, or 1 with t->err. */
int tune_check_record(struct tune *t)
{
	char *argv[] = { t->self, (char *)"help", (char *)"record", NULL };
	int status = run_quietly(t, argv, NULL);

	if (status < 0)
		return 1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	return tune_err(t, "--trace: %s has no `record` subcommand to record the runs with",
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
	tune_fmt_elapsed(now - t->t0, el, sizeof(el));
	if (t->runs_done > 0) {
		left = (t->run_t0 - t->t0) / t->runs_done * (t->runs_total - t->runs_done) -
		       (now - t->run_t0);
		tune_fmt_elapsed(left > 0 ? left : 0, eta, sizeof(eta));
	}
	fprintf(stderr, "%s" PROG ": run %u/%u: %s; elapsed %s, ETA %s%s", t->tty ? "\r" : "",
		t->runs_done + 1, t->runs_total, t->doing, el, eta, t->tty ? "\033[K" : "\n");
	t->drawn = true;
}

/* Ends a progress line left on a terminal (before other output). */
void tune_progress_end(struct tune *t)
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
		return tune_err(t, "waitpid: %s", strerror(errno));
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
			return tune_err(t, "cannot create %s: %s", out, strerror(errno));
		snprintf(out + n, len - (size_t)n, "/seed-%" PRIu64, seed);
	} else {
		char parent[PATH_MAX];

		snprintf(parent, sizeof(parent), "%s/traces", t->outdir);
		if (fe_mkdir_p(parent) != 0)
			return tune_err(t, "cannot create %s: %s", parent, strerror(errno));
	}
	if (fe_remove_tree(out) != 0)
		return tune_err(t, "cannot remove the earlier trace %s: %s", out, strerror(errno));
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
		tune_progress_end(t);
		fprintf(stderr, PROG ": %s %s refused the options (exit status 2):%s\n",
			WORKLOAD_PROG, t->workload, tail[0] ? tail : " (no output)");
		return 2;
	}
	if (WIFEXITED(status))
		return tune_err(t, "run %u/%u (%s) failed: exit status %d; the end of its output "
			       "(%s):%s",
			       t->runs_done, t->runs_total, t->doing, WEXITSTATUS(status), log,
			       tail[0] ? tail : " (none)");
	return tune_err(t, "run %u/%u (%s) was killed by signal %d; the end of its output "
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
			return tune_err(t, "%s: a cache without \"%s\"", path, needed[k]);
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
		return tune_err(t, "%s: %s (line %d)", path, je.text, je.line);
	caches = json_object_get(root, "caches");
	seconds = jnum(root, "seconds");
	m->v[M_MOPS] = jnum(root, "mops");
	m->v[M_MAGSIZE] = m->v[M_BYTES] = m->v[M_CONTENTION] = 0;
	m->v[M_SETTLE] = NAN;
	if (!json_is_array(caches) || json_array_size(caches) == 0 || !(seconds > 0) ||
	    isnan(m->v[M_MOPS])) {
		rc = tune_err(t, "%s: no mops, seconds or caches in it: not a %s result", path,
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
		tune_fmt_setting(s->threshold, s->timeout_ns, set, len);
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
		return tune_err(t, "interrupted"), 130;
	run_name(s, what, seed, name, sizeof(name));
	snprintf(json, sizeof(json), "%s/runs/%s.json", t->outdir, name);
	snprintf(log, sizeof(log), "%s/runs/%s.log", t->outdir, name);
	unlink(json);
	if (t->trace && trace_dir(t, s, what, seed, tdir, sizeof(tdir)) != 0)
		return 1;
	argv = run_argv(t, s, seed, json, t->trace ? tdir : NULL, nums);
	if (!argv)
		return tune_err(t, "out of memory");
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
		return tune_err(t, "interrupted (run %u/%u, %s)", t->runs_done, t->runs_total,
			       t->doing),
		       130;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return run_failed(t, status, log);
	if (read_metrics(t, json, m, ap) != 0)
		return 1;
	if (!s->dflt && (ap->threshold != s->threshold || ap->timeout_ns != s->timeout_ns))
		return tune_err(t, "%s: the cache ran with threshold %" PRIu64 " and timeout %"
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
int tune_run_grid(struct tune *t)
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
bool tune_preferred(const struct cell *a, const struct cell *b)
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
void tune_recommend(struct tune *t)
{
	double floor_mops = NEAR_BEST * best_mops(t);
	size_t i, rec = SIZE_MAX;

	mark_pareto(t);
	for (i = 0; i < t->ncells; i++) {
		const struct cell *c = &t->cells[i];

		if (!c->pareto || c->med.v[M_MOPS] < floor_mops)
			continue;
		if (rec == SIZE_MAX || tune_preferred(c, &t->cells[rec]))
			rec = i;
	}
	t->rec = rec == SIZE_MAX ? 0 : rec;
	t->cells[t->rec].recommended = true;
}

/* The re-runs: recommended and default alternately, same seeds, after the grid's. */
int tune_run_check(struct tune *t)
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
