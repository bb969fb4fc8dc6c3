/*
 * analysis/live.c — `magslab live` (see live.h and docs/live.md): the options, the run
 * from start to end, and what it says.
 *
 * What it owns: the run's order and its loop (stepping the graph, drawing each new
 * snapshot, watching CMD and the signals), the status and progress lines, and the end
 * (the plots rendered from the sink's manifest, stdout).  What runs under the view (the
 * daemons, the session, the graph, CMD, the work directory) is live_session.c's, the view
 * (one gnuplot process) live_view.c's, the png view's page the sink's (live-page).
 *
 * The sequence, and why in this order:
 *   1. options, CMD, gnuplot and OUTDIR checked before anything is started;
 *   2. session daemon, relay daemon, live session created and started;
 *   3. the graph built and stepped once: its first step makes the message iterators, and
 *      source.ctf.lttng-live attaches to the session then.  Only one viewer may attach,
 *      and events recorded before it attached are never delivered: so this comes before
 *      CMD starts;
 *   4. the view started and one round trip made with gnuplot (a terminal that cannot be
 *      used fails here, before CMD runs);
 *   5. CMD forked; then the loop: step the graph (the sink writes a snapshot every
 *      interval), and every POLL_S: is CMD still running, was there a signal, is there a
 *      new snapshot (snapshot.seq changed) to draw;
 *   6. CMD ended (or SIGINT/SIGTERM: CMD is stopped first): the session is stopped (every
 *      sub-buffer at the relay daemon) and destroyed, which ends the live stream; the
 *      graph is stepped to its end and the sink writes the final report;
 *   7. view closed, daemons stopped, plots rendered (the sink's manifest.json, gnuplot.c),
 *      summary.
 * Every failure after step 2 goes through the same teardown (live_teardown), so no daemon,
 * session, child or gnuplot is left behind.
 *
 * The view draws synchronously (live_view.c): the graph (and the sink writing the next
 * snapshot) never runs while gnuplot reads the files.
 *
 * Single-threaded; no locks.  Signals: SIGINT/SIGTERM are noted (proc.h, SA_RESTART, so
 * that the live source's socket calls are not cut short) and acted on in the loop;
 * SIGWINCH redraws the dumb view at the new size; SIGPIPE is ignored (gnuplot may die) and
 * restored in the children.
 */
#include "live.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gnuplot.h"
#include "live_impl.h"
#include "manifest.h"
#include "preload.h"
#include "proc.h"
#include "util.h"

#define DEFAULT_OUTDIR "magslab-live"
/* How often the loop looks at CMD, signals and the snapshot stamp (s). */
#define POLL_S 0.05
/* Sleep after a step that had nothing to do (ms). */
#define AGAIN_SLEEP_MS 10
/* After the session's end, give up if the stream neither ends nor moves for this long (s). */
#define END_STALL_S 30
#define SUMMARY_HEAD 30

/* ==========================================================================================
 * Usage and options
 */

void live_usage(FILE *f)
{
	fputs("usage: magslab live [--term dumb|x11|qt|png] [--interval S] [-o OUTDIR]\n"
	      "                    [--bucket MS] [--max-caches N] [--preload] [-v]\n"
	      "                    -- CMD [ARGS...]\n"
	      "\n"
	      "Runs CMD under an LTTng live session (magslab:* events) and shows the magazine\n"
	      "layer as it happens: gnuplot redraws the depot magazine size and the depot\n"
	      "contention of every cache each interval while CMD runs.  When CMD exits (or on\n"
	      "Ctrl-C) the full report is written into OUTDIR, plots rendered, as `magslab\n"
	      "report` does.  The session goes through an lttng-relayd started for the run on\n"
	      "127.0.0.1 (free ports); a session daemon is started too if none runs.\n"
	      "\n"
	      "Views (--term):\n"
	      "  dumb   in this terminal (ssh, tmux): cleared and redrawn each frame, sized to\n"
	      "         the terminal; CMD's output goes to OUTDIR/cmd.log meanwhile\n"
	      "  x11    two windows (magsize, contention) redrawn in place\n"
	      "  qt     the same with gnuplot's qt terminal\n"
	      "  png    OUTDIR/magsize.png and contention.png rewritten each frame under an\n"
	      "         OUTDIR/index.html that reloads itself; it becomes the final report\n"
	      "  default: a window (qt, else x11) if $DISPLAY is set, else dumb\n"
	      "\n"
	      "Options:\n"
	      "  --term VIEW          the view, above\n"
	      "  --interval S         seconds between frames, 0.1 to 3600 (default 1)\n"
	      "  -o, --output OUTDIR  where the report goes (default ./" DEFAULT_OUTDIR ");\n"
	      "                       the trace the relay daemon received is kept in\n"
	      "                       OUTDIR/trace\n"
	      "  --bucket MS          time-series interval in milliseconds, 1 to 3600000\n"
	      "                       (default 100)\n"
	      "  --max-caches N       how many caches the plots draw, the busiest first,\n"
	      "                       1 to 32 (default 8)\n"
	      "  --preload            run CMD (and its children) on magslab's malloc:\n"
	      "                       " PRELOAD_LIB_NAME " appended to its LD_PRELOAD;\n"
	      "                       its size classes are caches malloc-16 ... malloc-32768\n"
	      "  -v, --verbose        babeltrace2 warnings, gnuplot's messages, error causes\n"
	      "  -h, --help           this help\n"
	      "\n"
	      "Example:\n"
	      "  magslab live --term dumb -o /tmp/live -- \\\n"
	      "      build/bin/magslab-workload phases --schedule idle:1s,burst:3s,steady:3s\n"
	      "  xdg-open /tmp/live/index.html   # afterwards: the full report\n"
	      "  magslab live --preload --term png -o /tmp/py -- \\\n"
	      "      env PYTHONMALLOC=malloc /usr/bin/python3 prog.py   # any program's malloc\n"
	      "\n"
	      "Events recorded before the viewer attaches are not delivered, so CMD starts\n"
	      "only once it has.  Progress and messages go to stderr.\n"
	      "\n"
	      "Exit status: CMD's own (128+N if signal N killed it); 1 failure (the cause on\n"
	      "one line of stderr; also when CMD succeeded but no report could be made); 2 bad\n"
	      "usage; 127 CMD not found; 128+N interrupted by signal N (130 Ctrl-C, 143\n"
	      "SIGTERM; CMD stopped, report written).\n",
	      f);
}

static int usage_error(const char *fmt, const char *arg)
{
	fputs(PROG ": ", stderr);
	fprintf(stderr, fmt, arg);
	fputs(" (see magslab live --help)\n", stderr);
	return 2;
}

static int parse_term(const char *arg, enum term *t)
{
	size_t i;

	for (i = TERM_DUMB; i <= TERM_PNG; i++) {
		if (strcmp(arg, live_term_names[i]) == 0) {
			*t = (enum term)i;
			return 0;
		}
	}
	return usage_error("--term: '%s' is not dumb, x11, qt or png", arg);
}

/* "1", "0.5", "2s", "500ms": seconds in [0.1, 3600]. */
static int parse_interval(const char *arg, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (end != arg && strcmp(end, "ms") == 0)
		v /= 1000;
	else if (end != arg && *end && strcmp(end, "s") != 0)
		end = (char *)arg;
	if (errno || end == arg || !(v >= 0.1 && v <= 3600))
		return usage_error("--interval: '%s' is not a number of seconds from 0.1 to 3600",
				   arg);
	*out = v;
	return 0;
}

static int parse_bucket(const char *arg, unsigned long long *out)
{
	if (fe_parse_bucket(arg, out))
		return usage_error("--bucket: '%s' is not a whole number of milliseconds from 1 "
				   "to 3600000",
				   arg);
	return 0;
}

enum { OPT_TERM = 256, OPT_INTERVAL, OPT_BUCKET, OPT_MAX_CACHES, OPT_PRELOAD };

/* Parses the options into o; returns -1 to go on, else the exit status. */
static int parse_options(int argc, char **argv, struct live_opts *o)
{
	static const struct option longopts[] = {
		{ "term", required_argument, NULL, OPT_TERM },
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		{ "output", required_argument, NULL, 'o' },
		{ "bucket", required_argument, NULL, OPT_BUCKET },
		{ "max-caches", required_argument, NULL, OPT_MAX_CACHES },
		{ "preload", no_argument, NULL, OPT_PRELOAD },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char why[256];
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+:o:vh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_TERM:
			if (parse_term(optarg, &o->term))
				return 2;
			break;
		case OPT_INTERVAL:
			if (parse_interval(optarg, &o->interval_s))
				return 2;
			break;
		case 'o':
			if (!*optarg)
				return usage_error("-o: empty directory name%s", "");
			o->outdir = optarg;
			break;
		case OPT_BUCKET:
			if (parse_bucket(optarg, &o->bucket_ms))
				return 2;
			break;
		case OPT_MAX_CACHES:
			if (fe_parse_max_caches(optarg, &o->max_caches))
				return usage_error(FE_MAX_CACHES_USAGE, optarg);
			break;
		case OPT_PRELOAD:
			o->preload = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			live_usage(stdout);
			return 0;
		default:
			fe_option_error(c, argv, why, sizeof(why));
			return usage_error("%s", why);
		}
	}
	if (optind >= argc)
		return usage_error("no command given (magslab live [options] -- CMD ARGS...)%s",
				   "");
	o->cmd = argv + optind;
	return -1;
}

/* ==========================================================================================
 * Signals
 */

static volatile sig_atomic_t got_winch; /* the terminal was resized */

static void on_winch(int sig)
{
	(void)sig;
	got_winch = 1;
}

/* SIGINT, SIGTERM noted (proc.h), SIGWINCH, SIGPIPE ignored (gnuplot may die). */
static void set_handlers(void)
{
	struct sigaction sa;

	proc_catch_signals(true);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_winch;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGWINCH, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void restore_handlers(void)
{
	proc_restore_signals();
	signal(SIGWINCH, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
}

/* ==========================================================================================
 * Frames
 */

static void status_line(const struct live *l, char *buf, size_t len)
{
	char ev[32];
	double t = l->t_start > 0 ? fe_now_s() - l->t_start : 0;

	tl_format_count(ev, sizeof(ev), l->graph ? mg_graph_events(l->graph) : l->events);
	snprintf(buf, len, "magslab live: %.0f s, %s events read, frame %u | %s", t, ev,
		 l->view.frames, l->stream_ended ? "command ended: the full report is written"
		 : l->child_done ? "command ended: reading the rest of the trace"
		 : l->child > 0 ? "command running (Ctrl-C stops it)" : "starting");
}

/*
 * The content of snapshot.seq into buf ("" if none): the sink writes it last, so when it
 * changed the other files of a new snapshot are all there.
 */
static void read_stamp(const struct live *l, char *buf, size_t len)
{
	char path[PATH_MAX + 32];
	FILE *f;

	buf[0] = '\0';
	snprintf(path, sizeof(path), "%s/snapshot.seq", l->outdir);
	f = fopen(path, "r");
	if (!f)
		return;
	if (!fgets(buf, (int)len, f))
		buf[0] = '\0';
	fclose(f);
}

/* Draws the current snapshot with the view (final: the dumb view's last frame). */
static void draw(struct live *l, bool final)
{
	struct view *v = &l->view;
	char status[256];

	if (v->broken)
		return;
	v->frames++;
	status_line(l, status, sizeof(status));
	if (view_draw(v, l->outdir, status, final) != 0)
		v->frames--;
}

/* A progress line on stderr (views other than dumb, which has it in the frame). */
static void show_progress(struct live *l, double *next)
{
	char status[256];
	bool tty = isatty(STDERR_FILENO);
	double t = fe_now_s();

	if (l->view.term == TERM_DUMB || t < *next)
		return;
	*next = t + (tty ? 1.0 : 10.0);
	status_line(l, status, sizeof(status));
	fprintf(stderr, tty ? "\r%s\033[K" : "%s\n", status);
	fflush(stderr);
}

static void clear_progress(const struct live *l)
{
	if (l->view.term != TERM_DUMB && isatty(STDERR_FILENO)) {
		fputs("\r\033[K", stderr);
		fflush(stderr);
	}
}

/*
 * Draws a frame if the sink wrote a new snapshot (not the final report's stamp: the png
 * view must not write its page over the final index.html), or the terminal was resized.
 */
static void maybe_draw(struct live *l)
{
	char seq[64];
	bool winch = got_winch;

	got_winch = 0;
	read_stamp(l, seq, sizeof(seq));
	if (!seq[0] || strstr(seq, "end"))
		return;
	if (strcmp(seq, l->seq_seen) == 0 && !(winch && l->view.term == TERM_DUMB))
		return;
	snprintf(l->seq_seen, sizeof(l->seq_seen), "%s", seq);
	draw(l, false);
}

/* ==========================================================================================
 * The run
 */

/* While CMD runs: step the graph, draw the snapshots.  0, or -1 (err) if reading failed. */
static int watch(struct live *l, char *err, size_t errlen)
{
	double next_poll = 0, next_progress = fe_now_s() + 1;

	for (;;) {
		enum mg_step_status st = mg_graph_step(l->graph, l->o.verbose, err, errlen);
		double t;

		if (st == MG_STEP_ERROR)
			return -1;
		if (st == MG_STEP_END) {
			l->stream_ended = true; /* the session went away under us */
			return 0;
		}
		if (st == MG_STEP_AGAIN)
			fe_sleep_ms(AGAIN_SLEEP_MS);
		t = fe_now_s();
		if (t < next_poll)
			continue;
		next_poll = t + POLL_S;
		if (live_cmd_ended(l))
			return 0;
		if (proc_interrupted()) {
			live_stop_cmd(l);
			return 0;
		}
		maybe_draw(l);
		show_progress(l, &next_progress);
	}
}

/*
 * After the session's end: steps the graph until the stream ends (the sink then writes
 * the final report).  0 at the end; -1 (err) if reading failed, stalled, or a second
 * signal came.  A failure of the sink at the end goes to l->report_err instead.
 */
static int drain(struct live *l, char *err, size_t errlen)
{
	double next_poll = 0, next_progress = fe_now_s() + 1, moved = fe_now_s();
	uint64_t events = mg_graph_events(l->graph);
	unsigned signals = proc_interruptions();

	while (!l->stream_ended) {
		enum mg_step_status st = mg_graph_step(l->graph, l->o.verbose, l->report_err,
						       sizeof(l->report_err));
		double t = fe_now_s();

		if (st == MG_STEP_ERROR)
			return 0; /* report_err says why */
		if (st == MG_STEP_END) {
			l->stream_ended = true;
			break;
		}
		if (st == MG_STEP_AGAIN)
			fe_sleep_ms(AGAIN_SLEEP_MS);
		/* not "any message": the live source sends inactivity messages when idle */
		if (mg_graph_events(l->graph) != events) {
			events = mg_graph_events(l->graph);
			moved = t;
		}
		if (t - moved > END_STALL_S) {
			tl_seterr(err, errlen, "the live stream did not end within %d s of the "
			       "session's end", END_STALL_S);
			return -1;
		}
		if (proc_interruptions() != signals) {
			tl_seterr(err, errlen, "interrupted again while reading the rest of the "
			       "trace: no final report");
			return -1;
		}
		if (t < next_poll)
			continue;
		next_poll = t + POLL_S;
		maybe_draw(l);
		show_progress(l, &next_progress);
	}
	return 0;
}

/* ==========================================================================================
 * The end: report, plots, what to say
 */

/* The session's trace directory under OUTDIR/trace (relayd: HOST/SESSION-DATE), or "". */
static void trace_dir(const struct live *l, char *buf, size_t len)
{
	char host[256], path[PATH_MAX];
	size_t n = strlen(l->session.name);
	struct dirent *de;
	DIR *d;

	buf[0] = '\0';
	if (gethostname(host, sizeof(host)) != 0)
		return;
	host[sizeof(host) - 1] = '\0';
	if (snprintf(path, sizeof(path), "%s/trace/%s", l->outdir, host) >= (int)sizeof(path))
		return;
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, l->session.name, n) == 0 && de->d_name[n] == '-') {
			if (snprintf(buf, len, "%s/%s", path, de->d_name) >= (int)len)
				buf[0] = '\0';
			break;
		}
	}
	closedir(d);
}

/* The final report is there (written at the stream's end, this run). */
static bool report_written(const struct live *l)
{
	char path[PATH_MAX + 32];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/manifest.json", l->outdir);
	return l->stream_ended && !l->report_err[0] && stat(path, &sb) == 0 &&
	       sb.st_mtime >= l->since;
}

/* Why there is no report, said in the terms of this command. */
static void explain_no_report(const struct live *l)
{
	if (strstr(l->report_err, "no magslab events") && l->o.preload)
		fprintf(stderr, PROG ": no magslab events were recorded: %s emitted none "
			"(LD_PRELOAD reaches only dynamically linked programs that are not "
			"set-user-ID; a TRACE=0 shim emits none); no report written\n", l->o.cmd[0]);
	else if (strstr(l->report_err, "no magslab events"))
		fprintf(stderr, PROG ": no magslab events were recorded: %s emitted none (is it "
			"linked with a tracing build of libmagslab, make TRACE=1?); no report "
			"written\n", l->o.cmd[0]);
	else
		fprintf(stderr, PROG ": no report: %s\n",
			l->report_err[0] ? l->report_err : "the live stream did not end");
}

static void print_results(const struct live *l, int nplots)
{
	char trace[PATH_MAX], path[PATH_MAX + 32];

	printf(PROG ": %s exited with status %d%s%s%s; %llu events read\n", l->o.cmd[0],
	       live_cmd_exit_code(l), proc_interrupted() ? " (interrupted by " : "",
	       proc_interrupted() ? fe_signal_name(proc_interrupted()) : "", proc_interrupted() ? ")" : "",
	       (unsigned long long)l->events);
	if (proc_interrupted())
		printf(PROG ": interrupted by %s: exit status %d\n", fe_signal_name(proc_interrupted()),
		       fe_interrupted_status(proc_interrupted()));
	printf("report:  %s/index.html\n", l->outdir);
	if (nplots >= 0)
		printf("plots:   %d gnuplot script%s rendered (PNG and SVG)\n", nplots,
		       nplots == 1 ? "" : "s");
	trace_dir(l, trace, sizeof(trace));
	if (trace[0])
		printf("trace:   %s\n", trace);
	if (l->o.term == TERM_DUMB)
		printf("output:  %s/cmd.log (the command's stdout and stderr)\n", l->outdir);
	printf("summary: %s/summary.txt\n\n", l->outdir);
	snprintf(path, sizeof(path), "%s/summary.txt", l->outdir);
	fe_print_head(path, SUMMARY_HEAD, false);
	fflush(stdout);
	if (l->lost.discarded_events || l->lost.lost_packets)
		fprintf(stderr, PROG ": WARNING: the tracer discarded %llu events and lost %llu "
			"packets (buffers full): the report's counts are lower bounds\n",
			(unsigned long long)l->lost.discarded_events,
			(unsigned long long)l->lost.lost_packets);
}

/* The last frame of the dumb view, on the normal screen, from the final report. */
static void final_dumb_frame(struct live *l)
{
	struct view *v = &l->view;

	if (v->term != TERM_DUMB || v->broken || v->gp.pid <= 0)
		return;
	view_restore_terminal(v);
	draw(l, true);
}

/* Renders the plots; returns the exit status of the whole run. */
static int finish(struct live *l)
{
	char err[MG_ERRLEN];
	int code = live_cmd_exit_code(l), nplots = -1;

	struct manifest m;

	if (!report_written(l)) {
		explain_no_report(l); /* (the sink removed its live page: no report will come) */
		return code ? code : 1;
	}
	nplots = -1;
	if (manifest_load(l->outdir, l->since, &m, err, sizeof(err)) == 0) {
		nplots = gp_render(l->gnuplot, l->outdir, m.plots, m.nplots, err, sizeof(err));
		manifest_free(&m);
		/* the final index.html's zoomable plots need gnuplot's canvas scripts */
		if (nplots >= 0 && gp_copy_canvas_js(l->outdir, err, sizeof(err)) != 0)
			nplots = -1;
	}
	if (nplots < 0) {
		fprintf(stderr, PROG ": %s\n", err);
		return code ? code : 1;
	}
	print_results(l, nplots);
	return proc_interrupted() ? fe_interrupted_status(proc_interrupted()) : code;
}

/* ==========================================================================================
 * The subcommand
 */

/* x11 or qt by what gnuplot has (qt preferred), for the default view with a display. */
static enum term window_term_available(const char *gnuplot)
{
	return gp_has_terminal(gnuplot, "qt") ? TERM_QT : TERM_X11;
}

/* The checks that cost nothing: CMD, gnuplot, display, OUTDIR.  Exit status or -1. */
static int check_inputs(struct live *l)
{
	char path[PATH_MAX];
	const char *display = getenv("DISPLAY");
	size_t i, o = 0;

	if (fe_find_program(l->o.cmd[0], path, sizeof(path)) != 0) {
		fprintf(stderr, PROG ": %s: command not found (or not executable)\n",
			l->o.cmd[0]);
		return 127;
	}
	if (l->o.preload && preload_find_lib(l->preload_lib, sizeof(l->preload_lib), path,
					     sizeof(path))) {
		fprintf(stderr, PROG ": %s\n", path);
		return 1;
	}
	if (l->o.preload)
		preload_program(l->o.cmd, l->program, sizeof(l->program));
	if (gp_find(l->gnuplot, sizeof(l->gnuplot)) != 0) {
		fprintf(stderr, PROG ": %s not found: install gnuplot (gnuplot-qt)\n", l->gnuplot);
		return 1;
	}
	if (l->o.term == TERM_AUTO)
		l->o.term = display && *display ? window_term_available(l->gnuplot) : TERM_DUMB;
	if ((l->o.term == TERM_X11 || l->o.term == TERM_QT) && !(display && *display)) {
		fprintf(stderr, PROG ": --term %s needs a display, and $DISPLAY is not set (use "
			"--term dumb or png)\n", live_term_names[l->o.term]);
		return 1;
	}
	if (fe_mkdir_p(l->o.outdir) != 0 || !realpath(l->o.outdir, l->outdir)) {
		fprintf(stderr, PROG ": cannot create the output directory %s: %s\n", l->o.outdir,
			strerror(errno));
		return 1;
	}
	for (i = 0; l->o.cmd[i] && o + 2 < sizeof(l->cmdline); i++)
		o += (size_t)snprintf(l->cmdline + o, sizeof(l->cmdline) - o, "%s%s", i ? " " : "",
				      l->o.cmd[i]);
	return -1;
}

/* Steps 2-4 of the header: everything up to CMD's start. */
static int setup(struct live *l, char *err, size_t errlen)
{
	char path[PATH_MAX + 32];

	/* a stamp of an earlier run here must not pass for this run's first snapshot */
	snprintf(path, sizeof(path), "%s/snapshot.seq", l->outdir);
	unlink(path);
	if (live_make_workdir(l, err, errlen) || live_start_session(l, err, errlen) ||
	    live_attach_graph(l, err, errlen))
		return -1;
	l->view.term = l->o.term;
	l->view.verbose = l->o.verbose;
	if (view_start(&l->view, l->gnuplot, l->outdir, l->workdir, err, errlen))
		return -1;
	if (proc_interrupted()) {
		tl_seterr(err, errlen, "interrupted before the command started");
		return -1;
	}
	return live_start_cmd(l, err, errlen);
}

static int run(struct live *l)
{
	char err[MG_ERRLEN] = "";
	int code;

	fprintf(stderr, PROG ": %s view, a frame every %g s; report in %s\n",
		live_term_names[l->o.term], l->o.interval_s, l->outdir);
	if (setup(l, err, sizeof(err)))
		goto fail;
	fprintf(stderr, PROG ": session %s live on 127.0.0.1:%d; running %s\n",
		l->session.name, l->relayd.live_port, l->cmdline);
	if (watch(l, err, sizeof(err)))
		goto fail;
	clear_progress(l);
	if (!live_cmd_ended(l))
		live_stop_cmd(l); /* the stream ended under it */
	fprintf(stderr, PROG ": %s %s (status %d): reading the rest of the trace\n",
		l->o.cmd[0], proc_interrupted() ? "stopped" : "exited", live_cmd_exit_code(l));
	if (live_end_session(l, err, sizeof(err)) || drain(l, err, sizeof(err)))
		goto fail;
	clear_progress(l);
	/* the sink writes the report when the graph ends; it is finalized with the graph */
	l->events = mg_graph_events(l->graph);
	mg_graph_destroy(l->graph);
	l->graph = NULL;
	bt_current_thread_clear_error();
	if (report_written(l))
		final_dumb_frame(l);
	view_stop(&l->view);
	ml_daemon_stop(&l->relayd.d);
	ml_daemon_stop(&l->sessiond);
	code = finish(l);
	return code;
fail:
	clear_progress(l);
	view_restore_terminal(&l->view);
	l->failed = true;
	if (l->workdir[0])
		fprintf(stderr, PROG ": %s (daemon logs kept in %s)\n", err, l->workdir);
	else
		fprintf(stderr, PROG ": %s\n", err);
	return proc_interrupted() ? fe_interrupted_status(proc_interrupted()) : 1;
}

int cmd_live(int argc, char **argv)
{
	static struct live l; /* zeroed; one run per process */
	int rc;

	memset(&l, 0, sizeof(l));
	l.o.interval_s = 1;
	l.o.outdir = DEFAULT_OUTDIR;
	rc = parse_options(argc, argv, &l.o);
	if (rc >= 0)
		return rc;
	rc = check_inputs(&l);
	if (rc >= 0)
		return rc;
	set_handlers();
	l.since = time(NULL) - 1;
	rc = run(&l);
	live_teardown(&l);
	restore_handlers();
	return rc;
}
