/*
 * analysis/run.c — `magslab run` (see run.h): the main job of the front end, a workload
 * (or with --preload any command on the malloc shim) recorded and reported in one command.
 *
 * What it owns: OUTDIR's layout.  OUTDIR/.magslab-run marks a directory this command
 * wrote; only then are an earlier run's OUTDIR/trace, OUTDIR/malloc-stats and
 * OUTDIR/workload.json removed before recording again (a trace directory must start empty,
 * and a user's own files are never deleted).
 *
 * Steps: check the workload name (magslab-workload WORKLOAD --help must succeed: a typo
 * is a usage error before any LTTng daemon is involved), record (record_run; the workload
 * writes its JSON counters to OUTDIR/workload.json), then the report of OUTDIR/trace into
 * OUTDIR (report_run, as `magslab report OUTDIR/trace -o OUTDIR` would).  Options the run
 * does not know are the workload's.
 *
 * Every option is checked before anything runs: run's own here, the workload's by
 * `magslab-workload WORKLOAD ... --check-options`.  Interrupted (Ctrl-C, SIGTERM), the
 * recording stops the workload and the trace is complete up to then: it is reported, as
 * `magslab live` does, and the run says it was interrupted.
 *
 * --preload -- CMD ARGS: CMD instead of a workload, on the malloc shim (preload.h).  CMD
 * and the shim are looked for before anything is created; the shim writes each process's
 * counters at exit into OUTDIR/malloc-stats/PID.json (unless CMD's environment names a
 * file of its own); the report names the program (the sink's `program`) and is written
 * whatever CMD's exit status, which is then run's.
 *
 * Exit status: 0 success; the workload's own status if it failed; with --preload CMD's
 * when it is not 0 (after the report); 1 recording or report failed; 2 bad usage (run's
 * options or the workload's); 3 the report is written but the trace is damaged
 * (report.h); 127 CMD not found (--preload); 128+N interrupted by signal N (130 Ctrl-C,
 * 143 SIGTERM), after the report of what was recorded.
 */
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "preload.h"
#include "proc.h"
#include "record.h"
#include "report.h"
#include "util.h"

#define PROG "magslab run"
#define DEFAULT_OUTDIR "magslab-run"
#define MARKER ".magslab-run"
#define STATS_DIR "malloc-stats"
#define MAX_ARGS 256

void run_usage(FILE *f)
{
	fputs("usage: magslab run WORKLOAD [workload options] [-o OUTDIR] [--bucket MS]\n"
	      "                   [--max-caches N] [--blocking] [--subbuf SIZE] [--num-subbuf N]\n"
	      "                   [--no-plots] [-q]\n"
	      "       magslab run --preload [options] -- CMD [ARGS...]\n"
	      "\n"
	      "Runs `magslab-workload WORKLOAD [workload options]` under a private LTTng\n"
	      "session (as magslab record does), then reports the trace (as magslab report\n"
	      "does): magazine sizes, depot contention, hash resizes and layer shares over\n"
	      "time, as plots, a summary table and index.html.  With --preload it runs CMD\n"
	      "instead, on magslab's malloc (" PRELOAD_LIB_NAME " in its LD_PRELOAD, and\n"
	      "its children's): one cache per size class, malloc-16 ... malloc-32768.\n"
	      "\n"
	      "WORKLOAD  pair batch prodcons phases sizes large arena replay\n"
	      "          (magslab-workload --help; magslab-workload WORKLOAD --help for its\n"
	      "          options: every option below that is not run's goes to the workload)\n"
	      "\n"
	      "Options:\n"
	      "  -o, --output OUTDIR  where everything goes (default ./" DEFAULT_OUTDIR "):\n"
	      "                       OUTDIR/trace (the trace), OUTDIR/workload.json (the\n"
	      "                       workload's counters), the report files and index.html;\n"
	      "                       an earlier run's files there are replaced\n"
	      "  --bucket MS          report time-series interval in ms (default 100)\n"
	      "  --max-caches N       how many caches the plots draw, the busiest first,\n"
	      "                       1 to 32 (default 8)\n"
	      "  --preload            run CMD (after --) on the malloc shim, not a workload;\n"
	      "                       OUTDIR/" STATS_DIR "/PID.json: each process's counters\n"
	      "  --blocking           no event is discarded: the workload waits for the\n"
	      "                       tracer instead (it runs slower)\n"
	      "  --subbuf SIZE        sub-buffer size (default 1m), --num-subbuf N (default 8)\n"
	      "  --no-plots           do not run gnuplot\n"
	      "  -q, --quiet          no progress lines\n"
	      "  -h, --help           this help\n"
	      "\n"
	      "Example:\n"
	      "  # magazines grow under a burst of 8 threads on 2 cores, then hold:\n"
	      "  magslab run phases --threads 2 --schedule idle:1s,burst:4s,steady:3s -o out/ph\n"
	      "  xdg-open out/ph/index.html\n"
	      "  # sqlite3 building an index, its size classes' magazines:\n"
	      "  magslab run --preload -o out/sq -- sqlite3 /tmp/db 'create index i on t(a)'\n"
	      "\n"
	      "Every option (the workload's too) is checked before anything runs.  Ctrl-C\n"
	      "stops the workload; what was recorded is reported.\n"
	      "\n"
	      "Exit status: 0 success; the workload's status if it failed; with --preload\n"
	      "CMD's if not 0 (after the report); 1 recording or report failed (the cause on\n"
	      "one line of stderr); 2 bad usage; 3 the report is written but the trace is\n"
	      "damaged; 127 CMD not found; 128+N interrupted by signal N (130 Ctrl-C, 143\n"
	      "SIGTERM), after the report of what was recorded.\n",
	      f);
}

static int usage_error(const char *fmt, const char *arg)
{
	fputs(PROG ": ", stderr);
	fprintf(stderr, fmt, arg);
	fputs(" (see magslab run --help)\n", stderr);
	return 2;
}

static int fail(const char *fmt, const char *a, const char *b)
{
	fputs(PROG ": ", stderr);
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	return 1;
}

struct run_args {
	const char *workload;   /* NULL with --preload */
	char *const *cmd;       /* --preload: CMD ARGS */
	bool preload;
	const char *outdir;
	const char *bucket;
	unsigned max_caches;    /* 0: the sink's default */
	bool no_plots;
	char program[256];      /* --preload: the report's `program` */
	struct record_opts rec;
	char *wl_args[MAX_ARGS]; /* the workload's own options */
	int n_wl;
};

/* One option of run's own at argv[*i] (advancing *i past its value); -1 if not ours. */
static int own_option(int argc, char **argv, int *i, struct run_args *a)
{
	const char *opt = argv[*i];
	bool takes = strcmp(opt, "-o") == 0 || strcmp(opt, "--output") == 0 ||
		     strcmp(opt, "--bucket") == 0 || strcmp(opt, "--subbuf") == 0 ||
		     strcmp(opt, "--num-subbuf") == 0 || strcmp(opt, "--max-caches") == 0;
	const char *val = NULL;

	if (takes) {
		if (*i + 1 >= argc)
			return usage_error("%s needs an argument", opt);
		val = argv[++*i];
	}
	if (strcmp(opt, "-o") == 0 || strcmp(opt, "--output") == 0)
		a->outdir = val;
	else if (strcmp(opt, "--bucket") == 0) {
		unsigned long long ms;

		if (fe_parse_bucket(val, &ms))
			return usage_error("--bucket: '%s' is not a whole number of milliseconds "
					   "from 1 to 3600000", val);
		a->bucket = val;
	} else if (strcmp(opt, "--max-caches") == 0) {
		if (fe_parse_max_caches(val, &a->max_caches))
			return usage_error(FE_MAX_CACHES_USAGE, val);
	} else if (strcmp(opt, "--subbuf") == 0 || strcmp(opt, "--num-subbuf") == 0) {
		bool count = opt[2] == 'n';
		uint64_t *v = count ? &a->rec.num_subbuf : &a->rec.subbuf_size;

		if (record_parse_size(val, v) || !*v || (*v & (*v - 1)) ||
		    (!count && *v < ML_SUBBUF_MIN))
			return usage_error("%s: not a power of two (sub-buffers: at least 4k)",
					   opt);
	} else if (strcmp(opt, "--blocking") == 0)
		a->rec.blocking = true;
	else if (strcmp(opt, "--no-plots") == 0)
		a->no_plots = true;
	else if (strcmp(opt, "-q") == 0 || strcmp(opt, "--quiet") == 0)
		a->rec.quiet = true;
	else
		return -1;
	return 0;
}

/* --preload before any "--": a command, not a workload. */
static bool preload_mode(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--preload") == 0)
			return true;
	return false;
}

/* run --preload [options] -- CMD ARGS.  Returns -1 to go on, else the exit status. */
static int parse_preload_args(int argc, char **argv, struct run_args *a)
{
	int i, rc;

	a->preload = true;
	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			run_usage(stdout);
			return 0;
		}
		if (strcmp(argv[i], "--preload") == 0)
			continue;
		rc = own_option(argc, argv, &i, a);
		if (rc > 0)
			return rc;
		if (rc < 0)
			return usage_error("'%s' is not an option of magslab run --preload (CMD and "
					   "its arguments go after --)", argv[i]);
	}
	if (i + 1 >= argc)
		return usage_error("--preload: no command given (magslab run --preload [options] "
				   "-- CMD ARGS...)%s", "");
	a->cmd = argv + i + 1;
	return *a->outdir ? -1 : usage_error("-o: empty directory name%s", "");
}

/* Returns -1 to go on, else the exit status. */
static int parse_args(int argc, char **argv, struct run_args *a)
{
	int i, rc;

	a->outdir = DEFAULT_OUTDIR;
	if (argc < 2)
		return usage_error("no WORKLOAD given (or --preload -- CMD)%s", "");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		run_usage(stdout);
		return 0;
	}
	if (preload_mode(argc, argv))
		return parse_preload_args(argc, argv, a);
	if (argv[1][0] == '-')
		return usage_error("the WORKLOAD comes first, before '%s'", argv[1]);
	a->workload = argv[1];
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			run_usage(stdout);
			return 0;
		}
		if (strcmp(argv[i], "--json") == 0 || strncmp(argv[i], "--json=", 7) == 0)
			return usage_error("%s: run writes the workload's JSON to "
					   "OUTDIR/workload.json itself", argv[i]);
		rc = own_option(argc, argv, &i, a);
		if (rc >= 0) {
			if (rc)
				return rc;
			continue;
		}
		if (a->n_wl >= MAX_ARGS - 8)
			return usage_error("too many workload options%s", "");
		a->wl_args[a->n_wl++] = argv[i];
	}
	if (!*a->outdir)
		return usage_error("-o: empty directory name%s", "");
	return -1;
}

/*
 * `magslab-workload WORKLOAD OPTIONS... --check-options`: the workload exists and takes
 * every option (it checks them and runs nothing).  Its exit status: 0 yes, 2 it refused
 * them (its one-line reason on stderr), else something else went wrong.
 */
static int check_workload(const char *prog, const struct run_args *a)
{
	char *argv[MAX_ARGS + 8];
	struct proc_spec s = { argv, PROC_KEEP, PROC_DEVNULL, PROC_KEEP, NULL, PROC_QUIET,
			       NULL, NULL, NULL };
	int status, n = 0, i;

	argv[n++] = (char *)prog;
	argv[n++] = (char *)a->workload;
	for (i = 0; i < a->n_wl; i++)
		argv[n++] = a->wl_args[i];
	argv[n++] = "--check-options";
	argv[n] = NULL;
	if (proc_run(&s, &status) != 0)
		return 0; /* cannot tell: the run itself will say */
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

/* magslab-workload WORKLOAD --help succeeds: the workload exists. */
static bool workload_exists(const char *prog, const char *workload)
{
	char *argv[] = { (char *)prog, (char *)workload, "--help", NULL };
	struct proc_spec s = { argv, PROC_KEEP, PROC_DEVNULL, PROC_DEVNULL, NULL, PROC_QUIET,
			       NULL, NULL, NULL };
	int status;

	if (proc_run(&s, &status) != 0)
		return true; /* cannot tell: the run itself will say */
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* An earlier run's counters in OUTDIR (marked by MARKER): gone, as its trace is. */
static void remove_earlier_counters(const char *outdir)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/" STATS_DIR, outdir);
	fe_remove_tree(path);
	snprintf(path, sizeof(path), "%s/workload.json", outdir);
	unlink(path);
}

/* OUTDIR made ready: created, marked, an earlier run's trace and counters removed. */
static int prepare_outdir(const char *outdir, const char *trace)
{
	char marker[PATH_MAX];
	struct stat sb;
	int fd;

	if (fe_mkdir_p(outdir) != 0)
		return fail("cannot create %s: %s", outdir, strerror(errno));
	snprintf(marker, sizeof(marker), "%s/" MARKER, outdir);
	if (stat(trace, &sb) == 0 && !fe_dir_is_empty(trace)) {
		if (stat(marker, &sb) != 0)
			return fail("%s exists and was not written by magslab run: remove it or "
				    "give another -o%s", trace, "");
		if (fe_remove_tree(trace) != 0)
			return fail("cannot remove the earlier trace %s: %s", trace,
				    strerror(errno));
	}
	if (stat(marker, &sb) == 0)
		remove_earlier_counters(outdir);
	fd = open(marker, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return fail("cannot write %s: %s", marker, strerror(errno));
	close(fd);
	return 0;
}

/* `magslab report TRACE -o OUTDIR` with run's --bucket, --no-plots and -q. */
static int report_trace(const struct run_args *a, char *trace)
{
	struct report_opts o = { a->outdir, 0, !a->no_plots, a->rec.quiet, false, a->max_caches,
				 a->preload ? a->program : NULL };
	char *traces[] = { trace };

	if (a->bucket)
		fe_parse_bucket(a->bucket, &o.bucket); /* checked with the options */
	return report_run(&o, traces, 1);
}

/* The workload's command line: PROG WORKLOAD ARGS... --json OUTDIR/workload.json. */
static void build_cmd(struct run_args *a, char *prog, char *json, char **cmd)
{
	int n = 0, i;

	cmd[n++] = prog;
	cmd[n++] = (char *)a->workload;
	for (i = 0; i < a->n_wl; i++)
		cmd[n++] = a->wl_args[i];
	cmd[n++] = "--json";
	cmd[n++] = json;
	if (a->rec.quiet)
		cmd[n++] = "--quiet";
	cmd[n] = NULL;
}

/*
 * The recording's lines; true if it was interrupted (*sig): as live does, the trace is
 * complete up to the interruption, and it is reported.
 */
static bool recorded(const struct record_result *res, int *sig)
{
	record_print_result(PROG, res);
	if (!res->interrupted)
		return false;
	fprintf(stderr, PROG ": interrupted by %s: reporting what was recorded\n",
		fe_signal_name(res->signal));
	*sig = res->signal;
	return true;
}

/*
 * Records the workload into trace.  0 go on and report (*sig: the signal that interrupted
 * the recording, or 0), else the exit status.
 */
static int record_workload(struct run_args *a, char *trace, char *json, int *sig)
{
	char prog[PATH_MAX], err[ML_ERRLEN];
	char *cmd[MAX_ARGS + 8];
	struct record_result res;
	int rc;

	*sig = 0;
	if (fe_find_workload(prog, sizeof(prog), err, sizeof(err)))
		return fail("%s%s", err, "");
	if (!workload_exists(prog, a->workload))
		return usage_error("unknown workload '%s' (magslab-workload --help lists them)",
				   a->workload);
	/* Its options too, before any daemon or session: it says why on stderr. */
	rc = check_workload(prog, a);
	if (rc == 2)
		return usage_error("magslab-workload %s refused its options (the line above)",
				   a->workload);
	if (rc)
		return fail("magslab-workload %s --check-options failed with status %s", a->workload,
			    rc == 127 ? "127 (cannot run it)" : "non-zero");
	if (prepare_outdir(a->outdir, trace))
		return 1;
	build_cmd(a, prog, json, cmd);
	a->rec.output = trace;
	a->rec.no_count = true;
	rc = record_run(&a->rec, cmd, &res, err, sizeof(err));
	if (rc)
		return fail("%s%s", err, "");
	if (recorded(&res, sig))
		return 0;
	if (res.exit_code == 0 && res.empty) {
		fprintf(stderr, PROG ": magslab-workload emitted no event: was it built with "
			"TRACE=0?  (make TRACE=1)\n");
		return 1;
	}
	if (res.exit_code) {
		fprintf(stderr, PROG ": magslab-workload %s failed with status %d; not reporting\n",
			a->workload, res.exit_code);
		return res.exit_code;
	}
	return 0;
}

/* OUTDIR/malloc-stats made, and the shim's file name in it (absolute: CMD may chdir). */
static int make_stats_dir(const char *outdir, char *pattern, size_t len)
{
	char dir[PATH_MAX + 32], real[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s/" STATS_DIR, outdir);
	if (fe_mkdir_p(dir) != 0 || !realpath(dir, real))
		return fail("cannot create %s: %s", dir, strerror(errno));
	if (snprintf(pattern, len, "%s/%%p.json", real) >= (int)len)
		return fail("%s: %s", dir, strerror(ENAMETOOLONG));
	return 0;
}

/*
 * --preload: CMD and the shim looked for, OUTDIR made ready, CMD recorded on the shim into
 * trace.  0 go on and report (*sig: the signal that interrupted it, or 0; *code: CMD's exit
 * status), else the exit status.
 */
static int record_program(struct run_args *a, char *trace, int *sig, int *code)
{
	char path[PATH_MAX], err[ML_ERRLEN], stats[PATH_MAX + 16];
	struct record_result res;

	*sig = 0;
	*code = 0;
	if (fe_find_program(a->cmd[0], path, sizeof(path)) != 0) {
		fprintf(stderr, PROG ": %s: command not found (or not executable)\n", a->cmd[0]);
		return 127;
	}
	if (preload_find_lib(path, sizeof(path), err, sizeof(err)))
		return fail("%s%s", err, "");
	if (prepare_outdir(a->outdir, trace) || make_stats_dir(a->outdir, stats, sizeof(stats)))
		return 1;
	a->rec.output = trace;
	a->rec.no_count = true;
	a->rec.preload = true;
	a->rec.malloc_stats = stats;
	if (record_run(&a->rec, a->cmd, &res, err, sizeof(err)))
		return fail("%s%s", err, "");
	snprintf(a->program, sizeof(a->program), "%s", res.program);
	*code = res.exit_code;
	if (recorded(&res, sig))
		return 0;
	if (res.empty) {
		fprintf(stderr, PROG ": %s emitted no magslab event (LD_PRELOAD reaches only "
			"dynamically linked programs that are not set-user-ID; a TRACE=0 shim emits "
			"none): no report\n", a->cmd[0]);
		return res.exit_code ? res.exit_code : 1;
	}
	return 0;
}

int cmd_run(int argc, char **argv)
{
	struct run_args a;
	char trace[PATH_MAX], json[PATH_MAX];
	int rc, sig, code = 0;

	memset(&a, 0, sizeof(a));
	rc = parse_args(argc, argv, &a);
	if (rc >= 0)
		return rc;
	snprintf(trace, sizeof(trace), "%s/trace", a.outdir);
	snprintf(json, sizeof(json), "%s/workload.json", a.outdir);
	rc = a.preload ? record_program(&a, trace, &sig, &code)
		       : record_workload(&a, trace, json, &sig);
	if (rc)
		return rc;
	putchar('\n');
	rc = report_trace(&a, trace);
	if (rc && rc != REPORT_EXIT_DAMAGED)
		return rc;
	if (a.preload && getenv(PRELOAD_STATS_ENV))
		printf("\nprogram counters:  %s (" PRELOAD_STATS_ENV ")\ntrace:             %s\n",
		       getenv(PRELOAD_STATS_ENV), trace);
	else if (a.preload)
		printf("\nprogram counters:  %s/" STATS_DIR "/PID.json (each process that exited "
		       "normally)\ntrace:             %s\n", a.outdir, trace);
	else
		printf("\nworkload counters: %s\ntrace:             %s\n", json, trace);
	if (sig) {
		fprintf(stderr, PROG ": interrupted by %s: the report covers the run up to the "
			"interruption; exit status %d\n", fe_signal_name(sig),
			fe_interrupted_status(sig));
		return fe_interrupted_status(sig);
	}
	if (code)
		fprintf(stderr, PROG ": %s exited with status %d (the report is written); exit "
			"status %d\n", a.cmd[0], code, code);
	return code ? code : rc;
}
