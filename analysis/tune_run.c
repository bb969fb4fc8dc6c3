/*
 * analysis/tune_run.c — one run of `magslab tune` (see tune_impl.h): the programs checked
 * first (magslab-workload and its WORKLOAD, or the malloc shim and CMD with --preload;
 * `magslab record` with --trace), a run as a child process (proc.h: its output into
 * runs/NAME.log, SIGINT/SIGTERM passed on, its rusage from wait4), and the progress line
 * on stderr.  A run's figures are read by tune_read.c.
 *
 * With --preload the child is CMD with LD_PRELOAD=the shim (before any LD_PRELOAD of
 * ours), MAGSLAB_RESIZE_THRESHOLD and MAGSLAB_RESIZE_TIMEOUT_NS (a grid setting; the
 * default runs leave the environment as it is), MAGSLAB_POLICY (--policy) and
 * MAGSLAB_MALLOC_STATS_JSON=OUTDIR/runs/NAME.stats-%p.json (each process of it writes its
 * stats there at exit), set in the child between fork and exec.
 *
 * Owns OUTDIR/runs/ (every run's JSON, stats and log) and, with --trace, OUTDIR/traces/
 * (an earlier trace of a setting is removed before it is recorded again).
 */
#include <errno.h>
#include <glob.h>
#include <inttypes.h>
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

/* The shim: $MAGSLAB_MALLOC_LIB, else ../lib/SHIM_NAME beside this program. */
static int find_shim(struct tune *t)
{
	const char *env = getenv("MAGSLAB_MALLOC_LIB");
	char dir[PATH_MAX], *slash;

	if (env && *env) {
		if (access(env, R_OK) != 0)
			return tune_err(t, "MAGSLAB_MALLOC_LIB=%s: %s", env, strerror(errno));
		if (!realpath(env, t->shim))
			snprintf(t->shim, sizeof(t->shim), "%s", env);
		return 0;
	}
	snprintf(dir, sizeof(dir), "%s", t->self);
	if ((slash = strrchr(dir, '/')))
		*slash = '\0';
	snprintf(t->shim, sizeof(t->shim), "%.*s/../lib/" SHIM_NAME, PATH_MAX - 40, dir);
	if (access(t->shim, R_OK) == 0) {
		if (realpath(t->shim, dir))
			snprintf(t->shim, sizeof(t->shim), "%s", dir);
		return 0;
	}
	return tune_err(t, SHIM_NAME " not found (looked for %s): build it with `make`, or set "
		       "MAGSLAB_MALLOC_LIB",
		       t->shim);
}

/* magslab-workload (util.h), or with --preload the shim and CMD. */
int tune_find_programs(struct tune *t)
{
	char err[512];

	if (!t->preload) {
		if (fe_find_workload(t->prog, sizeof(t->prog), err, sizeof(err)) == 0)
			return 0;
		return tune_err(t, "%s", err);
	}
	if (find_shim(t) != 0)
		return 1;
	if (fe_find_program(t->args[0], t->prog, sizeof(t->prog)) != 0)
		return tune_usage_error("--preload: cannot run '%s': not found or not executable",
				   t->args[0]);
	return 0;
}

/* Starts argv with stdin from /dev/null, stdout and stderr into the file out
 * (/dev/null if NULL), setup run in the child before exec.  The pid, or -1 with t->err. */
static pid_t spawn(struct tune *t, char *const argv[], const char *out,
		   void (*setup)(void *), void *arg)
{
	int fd = proc_open_out(out ? out : "/dev/null");
	struct proc_spec s = { argv, PROC_DEVNULL, fd, fd, NULL, 0, setup, arg, NULL };
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
	pid_t pid = spawn(t, argv, out, NULL, NULL);
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
	char *argv[] = { t->prog, (char *)"--help", NULL };
	bool in = false;
	int fd = mkstemp(tmp);
	FILE *f;

	snprintf(out, len, "see %.400s --help", t->prog);
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
		snprintf(out, len, "see %.400s --help", t->prog);
}

/* The first line of a file, without its newline ("" if none). */
static void first_line(const char *path, char *line, size_t len)
{
	FILE *f = fopen(path, "r");

	line[0] = '\0';
	if (!f)
		return;
	if (!fgets(line, (int)len, f))
		line[0] = '\0';
	line[strcspn(line, "\n")] = '\0';
	fclose(f);
}

/*
 * `magslab-workload WORKLOAD OPTIONS... --check-options` (it checks them and runs
 * nothing), before the grid's first run: a mistyped workload option is a usage error
 * now, with the workload's own one-line reason, not a failed run minutes in.
 * 0 taken, 2 refused (said why), 1 the check itself failed.
 */
static int check_workload_options(struct tune *t)
{
	char tmp[] = "/tmp/magslab-tune-XXXXXX", line[512];
	char **argv = calloc((size_t)t->nargs + 4, sizeof(*argv));
	int fd = mkstemp(tmp), status = -1, n = 0, k;

	if (fd < 0 || !argv) {
		if (fd >= 0)
			close(fd), unlink(tmp);
		free(argv);
		return tune_err(t, "cannot check the workload options: %s", strerror(errno));
	}
	close(fd);
	argv[n++] = t->prog;
	argv[n++] = (char *)t->workload;
	for (k = 0; k < t->nargs; k++)
		argv[n++] = t->args[k];
	argv[n++] = (char *)"--check-options";
	status = run_quietly(t, argv, tmp);
	first_line(tmp, line, sizeof(line));
	unlink(tmp);
	free(argv);
	if (status < 0)
		return 1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 2)
		return tune_usage_error("%s %s refused the options: %s", WORKLOAD_PROG, t->workload,
					 line[0] ? line : "(it said nothing)");
	return tune_err(t, "%s %s --check-options failed (wait status %d)", t->prog,
			t->workload, status);
}

/* WORKLOAD must be one magslab-workload knows: 0, 1 failure, 2 unknown. */
int tune_check_workload(struct tune *t)
{
	char *argv[] = { t->prog, (char *)t->workload, (char *)"--help", NULL };
	char names[512];
	int status = run_quietly(t, argv, NULL);

	if (status < 0)
		return 1;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return check_workload_options(t);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 2) {
		workload_names(t, names, sizeof(names));
		return tune_usage_error("unknown workload '%s' (%s knows: %s)", t->workload,
				   WORKLOAD_PROG, names);
	}
	return tune_err(t, "%s %s --help failed (wait status %d)", t->prog, t->workload,
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

/* Where the job is: "run i/N", "round R, run i/K", or "check, run i/N". */
static void progress_where(const struct tune *t, char *out, size_t len)
{
	if (t->in_check)
		snprintf(out, len, "check, run %u/%u", t->round_at + 1, 2 * t->ncheck);
	else if (t->race)
		snprintf(out, len, "round %u, run %u/%u", t->rounds + 1, t->round_at + 1,
			 t->round_len);
	else
		snprintf(out, len, "run %u/%u", t->runs_done + 1,
			 (unsigned int)t->ncells * t->repeat + 2 * t->ncheck);
}

/* "WHERE: what; [K of N settings in the race; ]elapsed E, ETA R", in place on a tty. */
static void progress_draw(struct tune *t)
{
	double now = fe_now_s(), left;
	char el[32], eta[48] = "?", where[64], race[64] = "";
	bool at_most = false;

	if (t->quiet)
		return;
	tune_fmt_elapsed(now - t->t0, el, sizeof(el));
	if (t->runs_done > 0) {
		left = (t->run_t0 - t->t0) / t->runs_done * tune_runs_left(t, &at_most) -
		       (now - t->run_t0);
		tune_fmt_elapsed(left > 0 ? left : 0, eta + 8, sizeof(eta) - 8);
		memcpy(eta, "at most ", 8);
		if (!at_most)
			memmove(eta, eta + 8, strlen(eta + 8) + 1);
	}
	if (t->race && !t->in_check)
		snprintf(race, sizeof(race), "%u of %zu settings in the race; ", t->nalive,
			 t->ncells);
	progress_where(t, where, sizeof(where));
	fprintf(stderr, "%s" PROG ": %s: %s; %selapsed %s, ETA %s%s", t->tty ? "\r" : "", where,
		t->doing, race, el, eta, t->tty ? "\033[K" : "\n");
	t->drawn = true;
}

/* Ends a progress line left on a terminal (before other output). */
void tune_progress_end(struct tune *t)
{
	if (t->tty && t->drawn)
		fputs("\r\033[K", stderr);
	t->drawn = false;
}

/* The progress line redrawn every second on a terminal, while a run goes on. */
static void progress_tick(void *arg)
{
	struct tune *t = arg;

	if (t->tty && fe_now_s() - t->drawn_at >= 1.0) {
		progress_draw(t);
		t->drawn_at = fe_now_s();
	}
}

/* ---- one run ----------------------------------------------------------------------- */

/* Waits for the child, redrawing the progress line and passing a SIGINT/SIGTERM on.
 * 0 with its wait status and rusage, or 1. */
static int wait_child(struct tune *t, pid_t pid, int *status, struct rusage *ru)
{
	struct proc_wait w = { -1, true, progress_tick, t };

	t->drawn_at = fe_now_s();
	if (proc_wait_usage(pid, status, &w, ru) < 0)
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
 * /seed-S under it when a setting runs more than once.  Its parent is created and an
 * earlier trace there removed (magslab record wants an absent or empty directory). */
static int trace_dir(struct tune *t, const struct setting *s, const char *what,
		     uint64_t seed, char *out, size_t len)
{
	int n;

	if (what)
		n = snprintf(out, len, "%s/traces/rerun-%s", t->outdir, what);
	else
		n = snprintf(out, len, "%s/traces/%" PRIu64 "_%" PRIu64, t->outdir,
			     s->threshold, s->timeout_ns);
	if (t->repeat != 1 || what) {
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
 * [--threshold T --timeout-ns NS] --seed S --json FILE --quiet; with --preload CMD as
 * given.  nums holds the numbers' text.  NULL if out of memory. */
static char **run_argv(const struct tune *t, const struct setting *s, uint64_t seed,
		       const char *json, const char *tdir, char nums[3][24])
{
	char **v = calloc((size_t)t->nargs + 24, sizeof(*v));
	int n = 0, k;

	if (!v || t->preload) {
		for (k = 0; v && k < t->nargs; k++)
			v[k] = t->args[k];
		return v;
	}
	if (tdir) {
		const char *rec[] = { t->self, "record", "-o", tdir, "-q", "--" };

		for (k = 0; k < 6; k++)
			v[n++] = (char *)rec[k];
	}
	v[n++] = (char *)t->prog;
	v[n++] = (char *)t->workload;
	for (k = 0; k < t->nargs; k++)
		v[n++] = t->args[k];
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

/* What the child of a --preload run gets in its environment (see the head comment). */
struct child_env {
	const struct tune *t;
	const struct setting *s;
	char stats[PATH_MAX], nums[2][24];
};

static void child_env(void *arg)
{
	const struct child_env *e = arg;
	const char *old = getenv("LD_PRELOAD");
	char pre[2 * PATH_MAX + 2];

	snprintf(pre, sizeof(pre), "%s%s%s", e->t->shim, old && *old ? ":" : "",
		 old ? old : "");
	setenv("LD_PRELOAD", pre, 1);
	setenv("MAGSLAB_MALLOC_STATS_JSON", e->stats, 1);
	if (e->t->policy)
		setenv("MAGSLAB_POLICY", e->t->policy, 1);
	if (!e->s->dflt) {
		setenv("MAGSLAB_RESIZE_THRESHOLD", e->nums[0], 1);
		setenv("MAGSLAB_RESIZE_TIMEOUT_NS", e->nums[1], 1);
	}
}

/* The stats files of a --preload run (OUTDIR/runs/NAME.stats-PID.json) removed. */
static void remove_stats(const struct tune *t, const char *name)
{
	char pat[PATH_MAX];
	glob_t g;
	size_t k;

	snprintf(pat, sizeof(pat), "%.3800s/runs/%.200s.stats-*.json", t->absout, name);
	if (glob(pat, 0, NULL, &g) != 0)
		return;
	for (k = 0; k < g.gl_pathc; k++)
		unlink(g.gl_pathv[k]);
	globfree(&g);
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
	if (!t->preload && WIFEXITED(status) && WEXITSTATUS(status) == 2 && t->runs_done == 1) {
		tune_progress_end(t);
		fprintf(stderr, PROG ": %s %s refused the options (exit status 2):%s\n",
			WORKLOAD_PROG, t->workload, tail[0] ? tail : " (no output)");
		return 2;
	}
	if (WIFEXITED(status))
		return tune_err(t, "run %u (%s) failed: exit status %d; the end of its output "
			       "(%s):%s",
			       t->runs_done, t->doing, WEXITSTATUS(status), log,
			       tail[0] ? tail : " (none)");
	return tune_err(t, "run %u (%s) was killed by signal %d; the end of its output "
		       "(%s):%s",
		       t->runs_done, t->doing, WTERMSIG(status), log, tail[0] ? tail : " (none)");
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

/* Starts the run's child and waits for it: 0 (status, rusage, wall time) or 1. */
static int start_and_wait(struct tune *t, const struct setting *s, const char *name,
			  const char *log, char **argv, int *status, struct rusage *ru,
			  double *wall)
{
	struct child_env env = { t, s, "", { "", "" } };
	pid_t pid;
	int rc;

	memset(ru, 0, sizeof(*ru));
	if (t->preload) {
		snprintf(env.stats, sizeof(env.stats), "%.*s/runs/%s.stats-%%p.json",
			 PATH_MAX - 200, t->absout, name);
		snprintf(env.nums[0], 24, "%" PRIu64, s->threshold);
		snprintf(env.nums[1], 24, "%" PRIu64, s->timeout_ns);
		remove_stats(t, name);
	}
	t->run_t0 = fe_now_s();
	progress_draw(t);
	pid = spawn(t, argv, log, t->preload ? child_env : NULL, &env);
	rc = pid < 0 ? 1 : wait_child(t, pid, status, ru);
	*wall = fe_now_s() - t->run_t0;
	t->runs_done++;
	return rc;
}

/* The run's figures, and the setting it says it ran with checked. */
static int read_run(struct tune *t, const struct setting *s, const char *name,
		    const char *json, const char *log, double wall, const struct rusage *ru,
		    struct metrics *m, struct applied *ap)
{
	char set[96];
	int rc = t->preload ? tune_read_program(t, name, log, wall, ru, m, ap) :
			      tune_read_workload(t, json, ru, m, ap);

	if (rc || s->dflt || (ap->threshold == s->threshold && ap->timeout_ns == s->timeout_ns))
		return rc;
	tune_fmt_setting(s->threshold, s->timeout_ns, set, sizeof(set));
	return tune_err(t, "%s: the caches ran with threshold %" PRIu64 " and timeout %" PRIu64
		       " ns, not what tune asked for (%s)",
		       t->preload ? name : json, ap->threshold, ap->timeout_ns, set);
}

int tune_run_once(struct tune *t, const struct setting *s, const char *what,
		  uint64_t seed, struct metrics *m, struct applied *ap)
{
	char name[128], json[PATH_MAX], log[PATH_MAX], tdir[PATH_MAX], nums[3][24], set[96];
	struct rusage ru;
	double wall;
	char **argv;
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
	rc = start_and_wait(t, s, name, log, argv, &status, &ru, &wall);
	free(argv);
	if (rc)
		return rc;
	if (proc_interrupted())
		return tune_err(t, "interrupted (run %u, %s)", t->runs_done, t->doing), 130;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return run_failed(t, status, log);
	return read_run(t, s, name, json, log, wall, &ru, m, ap);
}
