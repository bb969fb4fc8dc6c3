/*
 * analysis/record.c — `magslab record` (see record.h): one recording session around one
 * command.
 *
 * The sequence, and why in this order:
 *   1. check CMD can be run (and with --preload that the malloc shim is there) and the
 *      trace directory is usable — before any daemon or session exists, so a typo costs
 *      nothing;
 *   2. make sure a session daemon runs (start one only if none does; lttng.h);
 *   3. create, configure and start the session — before CMD starts, so its first events
 *      (cache_create) are in the trace;
 *   4. run CMD as our child and wait for it (proc.h; with --preload its environment gets
 *      the shim in LD_PRELOAD, preload.h); SIGINT/SIGTERM are noted and forwarded, not
 *      fatal: the session must still be stopped in order for the trace to be readable;
 *   5. stop, wait until no data is pending, read the tracer's loss counts, destroy;
 *   6. stop the session daemon if we started it; with --preload, write
 *      TRACE/magslab-program (the program's name, for `magslab report`);
 *   7. read the trace back (babeltrace2: source.ctf.fs -> muxer -> sink.utils.dummy) to
 *      count its events — proof that it is complete and readable.
 * Every step that fails undoes the ones before it (session destroyed, daemon stopped).
 *
 * Exit status of `magslab record`: CMD's own (0-255, 128+N if it was killed by signal N);
 * 1 if the recording failed, 2 bad usage, 127 CMD not found, 128+N interrupted by signal
 * N (130 SIGINT, 143 SIGTERM: the status the message shows).
 *
 * Lock order: none (single-threaded).
 */
#include "record.h"

#include <dirent.h>
#include <netdb.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "graph.h"
#include "preload.h"
#include "proc.h"
#include "util.h"

#define PROG "magslab record"

void record_usage(FILE *f)
{
	fputs("usage: magslab record [-o DIR] [--events LIST] [--blocking] [--subbuf SIZE]\n"
	      "                      [--num-subbuf N] [--buffers-pid] [--relayd HOST[:PORT]]\n"
	      "                      [--name NAME] [--preload] [-q] -- CMD [ARGS...]\n"
	      "\n"
	      "Runs CMD under a private LTTng recording session (user-space events of the\n"
	      "`magslab` provider by default), then says where the trace is, how many events\n"
	      "it holds and how many the tracer discarded.  Uses the running session daemon,\n"
	      "or starts one for the run (and stops only that one).\n"
	      "\n"
	      "Options:\n"
	      "  -o, --output DIR     trace directory (default ./magslab-trace-DATE-TIME);\n"
	      "                       created, must be empty if it exists\n"
	      "  --events LIST        comma-separated event names or patterns\n"
	      "                       (default magslab:*; e.g. magslab:depot_*,magslab:hash_resize)\n"
	      "  --blocking           blocking mode: the traced program waits for room in the\n"
	      "                       buffers instead of discarding events (sets\n"
	      "                       LTTNG_UST_ALLOW_BLOCKING=1 for CMD; slows it down)\n"
	      "  --subbuf SIZE        sub-buffer size, a power of two >= 4k (k, m suffixes;\n"
	      "                       default 1m)\n"
	      "  --num-subbuf N       sub-buffers per CPU, a power of two (default 8)\n"
	      "  --buffers-pid        per-process buffers (default per-user)\n"
	      "  --relayd HOST[:PORT] stream the trace to the lttng-relayd at HOST (control\n"
	      "                       PORT, default 5342; data PORT+1) instead of -o DIR\n"
	      "  --name NAME          session name (default magslab-PID-TIME)\n"
	      "  --preload            run CMD (and its children) on magslab's malloc:\n"
	      "                       " PRELOAD_LIB_NAME " appended to its LD_PRELOAD\n"
	      "                       (the one beside magslab, or $" PRELOAD_LIB_ENV ")\n"
	      "  -q, --quiet          no progress line\n"
	      "  -h, --help           this help\n"
	      "\n"
	      "Example:\n"
	      "  magslab record -o /tmp/t -- build/bin/magslab-workload prodcons --threads 8\n"
	      "  magslab report /tmp/t -o /tmp/r\n"
	      "  # any program's malloc on magslab (its size classes are caches malloc-N):\n"
	      "  magslab record --preload -o /tmp/sq -- sqlite3 /tmp/db 'create index ...'\n"
	      "  magslab report /tmp/sq -o /tmp/sq-report   # names the program: sqlite3\n"
	      "\n"
	      "Exit status: CMD's own (128+N if a signal N killed it); 1 the recording failed\n"
	      "(the cause on one line of stderr); 2 bad usage (options are all checked before\n"
	      "anything runs, the --relayd host resolved too); 127 CMD not found; 128+N\n"
	      "interrupted by signal N (130 Ctrl-C, 143 SIGTERM; CMD stopped, trace complete\n"
	      "up to then).\n",
	      f);
}

static int usage_error(const char *fmt, const char *arg)
{
	fputs(PROG ": ", stderr);
	fprintf(stderr, fmt, arg);
	fputs(" (see magslab record --help)\n", stderr);
	return 2;
}

int record_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!*s || *s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	if ((*end == 'k' || *end == 'K') && end[1] == '\0' && v <= (UINT64_MAX >> 10))
		v <<= 10;
	else if ((*end == 'm' || *end == 'M') && end[1] == '\0' && v <= (UINT64_MAX >> 20))
		v <<= 20;
	else if (*end)
		return -1; /* not a size, or one that overflows */
	*out = v;
	return 0;
}

static bool power_of_two(uint64_t v)
{
	return v && !(v & (v - 1));
}

/* ---- the child ------------------------------------------------------------------------- */

/* What the child's environment gets (child_env). */
struct child_env_arg {
	bool blocking;
	const char *preload;      /* the shim, or NULL */
	const char *malloc_stats;
};

/* In the child, before exec: the traced program's environment (lttng.h, preload.h). */
static void child_env(void *arg)
{
	const struct child_env_arg *a = arg;

	ml_child_env(a->blocking);
	if (a->preload)
		preload_child_env(a->preload, a->malloc_stats);
}

/*
 * Runs CMD and waits for it.  A signal to us is forwarded once to CMD (a Ctrl-C at a
 * terminal reaches both; a `kill` reaches only us) and remembered.  CMD gets the default
 * actions of SIGINT and SIGTERM, not the ones we inherited: a shell starts background jobs
 * with SIGINT ignored, and CMD must still stop when we forward a Ctrl-C.
 */
static int run_cmd(const struct record_opts *o, char *const cmd[], struct record_result *res,
		   char *err, size_t errlen)
{
	struct child_env_arg env = { o->blocking, o->preload ? res->preload_lib : NULL,
				     o->malloc_stats };
	struct proc_spec s = { cmd, PROC_KEEP, PROC_KEEP, PROC_KEEP, NULL, PROC_DEFAULT_SIGNALS,
			       child_env, &env, PROG };
	int status, rc, e;
	pid_t pid;

	proc_catch_signals(false);
	pid = proc_spawn(&s);
	if (pid < 0) {
		snprintf(err, errlen, "cannot start %s: fork: %s", cmd[0], strerror(errno));
		proc_restore_signals();
		return -1;
	}
	rc = proc_wait(pid, &status, NULL);
	e = errno;
	proc_restore_signals();
	res->interrupted = proc_interrupted() != 0;
	res->signal = proc_interrupted();
	if (rc != 1) {
		snprintf(err, errlen, "cannot wait for %s: %s", cmd[0], strerror(e));
		return -1;
	}
	res->exit_code = proc_exit_code(status);
	return 0;
}

/* ---- the trace ------------------------------------------------------------------------- */

/* Creates the trace directory (empty or new) and makes its path absolute into res. */
static int prepare_output(const char *dir, struct record_result *res, char *err,
			  size_t errlen)
{
	struct stat sb;

	if (stat(dir, &sb) == 0 && !(S_ISDIR(sb.st_mode) && fe_dir_is_empty(dir))) {
		snprintf(err, errlen, "%s exists and is not an empty directory (give another -o, "
			 "or remove it)", dir);
		return -1;
	}
	if (fe_mkdir_p(dir) != 0) {
		snprintf(err, errlen, "cannot create %s: %s", dir, strerror(errno));
		return -1;
	}
	if (!realpath(dir, res->trace)) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* Whether a CTF `metadata` file is anywhere under dir (the tracer writes one per trace). */
static bool has_metadata(const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	bool found = false;

	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		char sub[PATH_MAX];
		struct stat sb;

		if (de->d_name[0] == '.')
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", dir, de->d_name);
		if (lstat(sub, &sb) != 0)
			continue;
		if (S_ISREG(sb.st_mode))
			found = strcmp(de->d_name, "metadata") == 0;
		else if (S_ISDIR(sb.st_mode) && depth < 16)
			found = has_metadata(sub, depth + 1);
	}
	closedir(d);
	return found;
}

/* Reads the trace back to count its events (sink.utils.dummy). */
static int count_events(const char *trace, bool quiet, uint64_t *events, char *err,
			size_t errlen)
{
	struct mg_plugins plugins;
	struct mg_inputs inputs;
	struct mg_graph *graph = NULL;
	const bt_component_class_sink *dummy;
	const bt_plugin *holder = NULL;
	struct mg_run_opts ro = { PROG ": reading the trace back", quiet, false };
	char *const args[] = { (char *)trace };
	int rc = -1;

	if (mg_plugins_load(&plugins, false, err, errlen))
		return -1;
	if (mg_discover(&plugins, args, 1, BT_LOGGING_LEVEL_NONE, &inputs, err, errlen)) {
		mg_plugins_put(&plugins);
		return -1;
	}
	dummy = mg_find_sink_class(&plugins, "utils.dummy", &holder, err, errlen);
	if (dummy && mg_graph_build(&plugins, &inputs, dummy, "dummy", NULL,
				    BT_LOGGING_LEVEL_NONE, &graph, err, errlen) == 0 &&
	    mg_graph_run(graph, &ro, err, errlen) == MG_RUN_OK) {
		*events = mg_graph_events(graph);
		rc = 0;
	}
	mg_graph_destroy(graph);
	bt_current_thread_clear_error();
	bt_plugin_put_ref(holder);
	mg_inputs_free(&inputs);
	mg_plugins_put(&plugins);
	return rc;
}

/* ---- the session ----------------------------------------------------------------------- */

static void session_opts(const struct record_opts *o, const struct record_result *res,
			 struct ml_session_opts *so)
{
	memset(so, 0, sizeof(*so));
	so->name = o->name;
	so->output = o->relayd ? NULL : res->trace;
	so->relayd = o->relayd;
	so->subbuf_size = o->subbuf_size;
	so->num_subbuf = o->num_subbuf;
	so->blocking = o->blocking;
	so->buffers_pid = o->buffers_pid;
	so->events = o->events;
}

/* Steps 2-6 of the header. */
static int record_session(const struct record_opts *o, char *const cmd[],
			  struct record_result *res, char *err, size_t errlen)
{
	struct ml_session_opts so;
	struct ml_session s;
	struct ml_daemon sessiond;
	const char *logdir = o->logdir ? o->logdir : o->relayd ? "/tmp" : res->trace;
	char ignored[ML_ERRLEN];
	int rc = -1;

	if (ml_sessiond_ensure(&sessiond, logdir, &res->started_sessiond, err, errlen))
		return -1;
	session_opts(o, res, &so);
	if (ml_session_create(&so, &s, err, errlen))
		goto out;
	snprintf(res->session, sizeof(res->session), "%s", s.name);
	if (ml_session_start(&s, err, errlen) || run_cmd(o, cmd, res, err, errlen)) {
		ml_session_stop(&s, NULL, ignored, sizeof(ignored));
		ml_session_destroy(&s, ignored, sizeof(ignored));
		goto out;
	}
	if (ml_session_stop(&s, &res->lost, err, errlen)) {
		ml_session_destroy(&s, ignored, sizeof(ignored));
		goto out;
	}
	rc = ml_session_destroy(&s, err, errlen);
out:
	ml_daemon_stop(&sessiond);
	/* Our own daemon's log is of no use once it stopped cleanly. */
	if (rc == 0 && res->started_sessiond)
		unlink(sessiond.log);
	return rc;
}

int record_run(const struct record_opts *o, char *const cmd[], struct record_result *res,
	       char *err, size_t errlen)
{
	char path[PATH_MAX];

	memset(res, 0, sizeof(*res));
	err[0] = '\0';
	if (fe_find_program(cmd[0], path, sizeof(path)) != 0) {
		snprintf(err, errlen, "%s: command not found (or not executable)", cmd[0]);
		return 127;
	}
	if (o->preload) {
		if (preload_find_lib(res->preload_lib, sizeof(res->preload_lib), err, errlen))
			return -1;
		preload_program(cmd, res->program, sizeof(res->program));
	}
	if (o->relayd)
		snprintf(res->trace, sizeof(res->trace), "relay daemon %s", o->relayd);
	else if (prepare_output(o->output, res, err, errlen))
		return -1;
	if (record_session(o, cmd, res, err, errlen))
		return -1;
	if (!o->relayd && !has_metadata(res->trace, 0)) {
		/* The tracer writes nothing until a traced program registers. */
		res->empty = true;
		res->counted = true;
		return 0;
	}
	if (o->preload && !o->relayd && preload_note_program(res->trace, res->program)) {
		snprintf(err, errlen, "cannot write %s/" PRELOAD_PROGRAM_FILE ": %s", res->trace,
			 strerror(errno));
		return -1;
	}
	if (!o->relayd && !res->interrupted && !o->no_count) {
		if (count_events(res->trace, o->quiet, &res->events, err, errlen))
			return -1;
		res->counted = true;
	}
	return 0;
}

void record_print_result(const char *prog, const struct record_result *res)
{
	printf("%s: command exited with status %d%s%s%s\n", prog, res->exit_code,
	       res->interrupted ? " (interrupted by " : "",
	       res->interrupted ? fe_signal_name(res->signal) : "", res->interrupted ? ")" : "");
	printf("trace:     %s\n", res->trace);
	if (res->session[0])
		printf("session:   %s%s\n", res->session,
		       res->started_sessiond ? " (on a session daemon started for this run)" : "");
	if (res->program[0])
		printf("program:   %s, LD_PRELOAD of %s\n", res->program, res->preload_lib);
	if (res->empty && res->program[0])
		printf("events:    0: no traced program registered (LD_PRELOAD reaches only\n"
		       "           dynamically linked programs that are not set-user-ID; is the\n"
		       "           shim built with TRACE=1?); no trace written\n");
	else if (res->empty)
		printf("events:    0: no traced program registered (is the command linked with\n"
		       "           libmagslab built with TRACE=1, or with LTTng-UST?); no trace "
		       "written\n");
	else if (res->counted)
		printf("events:    %llu recorded\n", (unsigned long long)res->events);
	else
		printf("events:    not counted (%s)\n",
		       res->interrupted ? "interrupted"
		       : res->trace[0] == '/' ? "read by the report"
					      : "the trace is at the relay daemon");
	printf("discarded: %llu events, %llu packets lost (the tracer's counts)\n",
	       (unsigned long long)res->lost.discarded_events,
	       (unsigned long long)res->lost.lost_packets);
	fflush(stdout);
	if (res->lost.discarded_events || res->lost.lost_packets)
		fprintf(stderr, "%s: WARNING: the trace is incomplete: the tracer discarded "
			"%llu events and lost %llu packets (buffers full); record again with "
			"--blocking or a larger --subbuf/--num-subbuf\n", prog,
			(unsigned long long)res->lost.discarded_events,
			(unsigned long long)res->lost.lost_packets);
}

/* ---- the command ----------------------------------------------------------------------- */

enum { OPT_EVENTS = 256, OPT_BLOCKING, OPT_SUBBUF, OPT_NUM_SUBBUF, OPT_BUFFERS_PID,
       OPT_RELAYD, OPT_NAME, OPT_PRELOAD };

static int parse_subbuf(const char *arg, uint64_t *out, bool count)
{
	if (record_parse_size(arg, out))
		return usage_error(count ? "--num-subbuf: '%s' is not a number (or too large)"
					 : "--subbuf: '%s' is not a size (or too large; k and m "
					   "suffixes)", arg);
	if (!power_of_two(*out) || (!count && *out < ML_SUBBUF_MIN))
		return usage_error(count ? "--num-subbuf: '%s' is not a power of two"
					 : "--subbuf: '%s' is not a power of two of at least 4k",
				   arg);
	return 0;
}

/* --events: names or patterns separated by single commas, none empty. */
static bool valid_event_list(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && s[0] != ',' && s[n - 1] != ',' && !strstr(s, ",,") &&
	       !strpbrk(s, " \t\n");
}

/* The relay daemon's host must resolve (else liblttng-ctl fails later, obscurely). */
static int resolve_host(const char *host, char *err, size_t errlen)
{
	struct addrinfo hints, *res = NULL;
	int r;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	r = getaddrinfo(host, NULL, &hints, &res);
	if (r != 0) {
		tl_seterr(err, errlen, "cannot resolve the host '%s': %s", host, gai_strerror(r));
		return -1;
	}
	freeaddrinfo(res);
	return 0;
}

/* Parses the options into o; returns -1 to go on, else the exit status. */
static int parse_options(int argc, char **argv, struct record_opts *o)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "events", required_argument, NULL, OPT_EVENTS },
		{ "blocking", no_argument, NULL, OPT_BLOCKING },
		{ "subbuf", required_argument, NULL, OPT_SUBBUF },
		{ "num-subbuf", required_argument, NULL, OPT_NUM_SUBBUF },
		{ "buffers-pid", no_argument, NULL, OPT_BUFFERS_PID },
		{ "relayd", required_argument, NULL, OPT_RELAYD },
		{ "name", required_argument, NULL, OPT_NAME },
		{ "preload", no_argument, NULL, OPT_PRELOAD },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char host[256], err[ML_ERRLEN];
	int c, port;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+:o:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (!*optarg)
				return usage_error("-o: empty directory name%s", "");
			o->output = optarg;
			break;
		case OPT_EVENTS:
			if (!valid_event_list(optarg))
				return usage_error("--events: '%s' is not a comma-separated list of "
						   "event names or patterns", optarg);
			o->events = optarg;
			break;
		case OPT_BLOCKING:
			o->blocking = true;
			break;
		case OPT_SUBBUF:
			if (parse_subbuf(optarg, &o->subbuf_size, false))
				return 2;
			break;
		case OPT_NUM_SUBBUF:
			if (parse_subbuf(optarg, &o->num_subbuf, true))
				return 2;
			break;
		case OPT_BUFFERS_PID:
			o->buffers_pid = true;
			break;
		case OPT_RELAYD:
			if (ml_parse_hostport(optarg, host, sizeof(host), &port, err, sizeof(err)) ||
			    resolve_host(host, err, sizeof(err)))
				return usage_error("--relayd: %s", err);
			o->relayd = optarg;
			break;
		case OPT_NAME:
			o->name = optarg;
			break;
		case OPT_PRELOAD:
			o->preload = true;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			record_usage(stdout);
			return 0;
		case ':':
			return usage_error("%s needs an argument", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (o->relayd && o->output)
		return usage_error("-o and --relayd: the trace goes to one place%s", "");
	if (optind >= argc)
		return usage_error("no command given (magslab record [options] -- CMD ARGS...)%s",
				   "");
	return -1;
}

int cmd_record(int argc, char **argv)
{
	struct record_opts o = { 0 };
	struct record_result res;
	char err[ML_ERRLEN], defdir[64];
	int rc;

	rc = parse_options(argc, argv, &o);
	if (rc >= 0)
		return rc;
	if (!o.output && !o.relayd) {
		time_t now = time(NULL);
		struct tm tm;

		localtime_r(&now, &tm);
		strftime(defdir, sizeof(defdir), "magslab-trace-%Y%m%d-%H%M%S", &tm);
		o.output = defdir;
	}
	rc = record_run(&o, argv + optind, &res, err, sizeof(err));
	if (rc) {
		fprintf(stderr, PROG ": %s\n", err);
		return rc == 127 ? 127 : 1;
	}
	record_print_result(PROG, &res);
	if (res.interrupted) {
		fprintf(stderr, PROG ": interrupted by %s: the trace is complete up to then; exit "
			"status %d\n", fe_signal_name(res.signal),
			fe_interrupted_status(res.signal));
		return fe_interrupted_status(res.signal);
	}
	return res.exit_code;
}
