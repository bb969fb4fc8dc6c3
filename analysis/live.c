/*
 * analysis/live.c — `magslab live` (see live.h and docs/live.md): a live session, its
 * reading, and the live view.
 *
 * What it owns: the work directory ($TMPDIR/magslab-live.XXXXXX: daemon logs, the dumb
 * view's frame file; removed at the end when all went well), the daemons it starts (a
 * session daemon only if none runs; always its own relay daemon, on 127.0.0.1 only), the
 * live session, the babeltrace2 graph that reads it (source.ctf.lttng-live -> muxer ->
 * progress -> sink.magslab.report), CMD (our child), and one gnuplot process (the view).
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
 *   7. view closed, daemons stopped, plots rendered (report_render_plots), summary.
 * Every failure after step 2 goes through the same teardown (live_teardown), so no daemon,
 * session, child or gnuplot is left behind.
 *
 * The view is synchronous: after sending a frame's commands, gnuplot is asked to `print` a
 * marker line (on its stderr, a pipe to us) and we wait for it, so the graph (and the sink
 * writing the next snapshot) never runs while gnuplot reads the files.  gnuplot keeps
 * running after an error in a loaded script; its last message is kept for -v and for the
 * reason when it dies.
 *
 * Single-threaded; no locks.  Signals: SIGINT/SIGTERM are noted (SA_RESTART, so that the
 * live source's socket calls are not cut short) and acted on in the loop; SIGWINCH
 * redraws the dumb view at the new size; SIGPIPE is ignored (gnuplot may die) and
 * restored in the children.
 */
#include "live.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "graph.h"
#include "lttng.h"
#include "report.h"
#include "util.h"

#define PROG "magslab live"
#define DEFAULT_OUTDIR "magslab-live"
#define SINK_CLASS "magslab.report"
/* How often the loop looks at CMD, signals and the snapshot stamp (s). */
#define POLL_S 0.05
/* Sleep after a step that had nothing to do (ms). */
#define AGAIN_SLEEP_MS 10
/* The live timer: how often the tracer sends the relay daemon what it has (us). */
#define LIVE_TIMER_US 100000
/* Longest wait for gnuplot to draw a frame (s). */
#define VIEW_TIMEOUT_S 30
/* After the session's end, give up if the stream neither ends nor moves for this long (s). */
#define END_STALL_S 30
/* CMD's grace after SIGINT, then after SIGTERM (s). */
#define CMD_GRACE_S 3
#define SUMMARY_HEAD 30

enum term { TERM_AUTO, TERM_DUMB, TERM_X11, TERM_QT, TERM_PNG };
static const char *const term_names[] = { "auto", "dumb", "x11", "qt", "png" };

struct live_opts {
	enum term term;
	double interval_s;
	const char *outdir;
	unsigned long long bucket_ms; /* 0: the sink's default */
	bool verbose;
	char *const *cmd;
};

/* The gnuplot process drawing the frames. */
struct view {
	enum term term;
	pid_t pid;           /* 0: none */
	int cmd_fd, msg_fd;  /* its stdin (commands), its stderr (markers and messages) */
	char rbuf[4096];     /* a line being read from msg_fd */
	size_t rlen;
	char last_msg[512];  /* the last thing gnuplot said that was not a marker */
	unsigned marker;     /* the last marker asked for */
	unsigned frames;     /* frames drawn */
	bool broken;         /* gnuplot failed: no more frames */
	bool tty, alt_screen; /* dumb: stdout is a terminal; we switched to its alternate screen */
	bool verbose;
	char frame_file[PATH_MAX]; /* dumb: where gnuplot writes a frame */
};

struct live {
	struct live_opts o;
	char outdir[PATH_MAX];  /* absolute */
	char workdir[PATH_MAX]; /* "" until made */
	char gnuplot[PATH_MAX];
	char cmdline[1024];     /* CMD ARGS, for messages */
	time_t since;           /* files written from then on are this run's */
	bool failed;            /* keep the work directory (logs) */

	struct ml_daemon sessiond;
	bool started_sessiond;
	struct ml_relayd relayd;
	struct ml_session session;
	struct ml_losses lost;

	struct mg_plugins plugins;
	bool have_plugins;
	struct mg_inputs inputs;
	bool have_inputs;
	const bt_plugin *sink_holder;
	bt_value *params;
	struct mg_graph *graph;
	uint64_t events;        /* events read, kept when the graph is gone */
	bool stream_ended;      /* the graph reached its end: the sink wrote the report */
	char report_err[MG_ERRLEN]; /* why the sink wrote no report, if so */

	pid_t child;
	int child_status;
	bool child_done;
	double t_start;         /* when CMD started (monotonic s) */

	struct view view;
	char seq_seen[64];      /* the content of snapshot.seq last drawn */
	bool have_snapshot;
};

/* ==========================================================================================
 * Small helpers
 */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL); /* a signal cuts it short: the loop looks at it */
}

/* Writes all of buf to fd; 0 or -1 (errno). */
static int write_all(int fd, const char *buf, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, buf, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		n -= (size_t)w;
	}
	return 0;
}

/* A string for gnuplot, in single quotes (a quote is doubled). */
static void gp_quote(char *buf, size_t len, const char *s)
{
	size_t o = 0;

	if (len < 3)
		return;
	buf[o++] = '\'';
	for (; *s && o + 3 < len; s++) {
		if (*s == '\'')
			buf[o++] = '\'';
		buf[o++] = *s;
	}
	buf[o++] = '\'';
	buf[o] = '\0';
}

/* In a child: default signal dispositions, nothing blocked, no fd above 2 left open. */
static void child_reset(void)
{
	sigset_t none;

	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGWINCH, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	close_range(3, ~0U, 0);
}

/* Waits up to timeout_s for pid; true if it was reaped (*status). */
static bool wait_for(pid_t pid, int *status, double timeout_s)
{
	double end = now_s() + timeout_s;

	for (;;) {
		pid_t w = waitpid(pid, status, WNOHANG);

		if (w == pid)
			return true;
		if (w < 0 && errno != EINTR)
			return false;
		if (now_s() >= end)
			return false;
		sleep_ms(20);
	}
}

/* ==========================================================================================
 * Usage and options
 */

void live_usage(FILE *f)
{
	fputs("usage: magslab live [--term dumb|x11|qt|png] [--interval S] [-o OUTDIR]\n"
	      "                    [--bucket MS] [-v] -- CMD [ARGS...]\n"
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
	      "  -v, --verbose        babeltrace2 warnings, gnuplot's messages, error causes\n"
	      "  -h, --help           this help\n"
	      "\n"
	      "Example:\n"
	      "  magslab live --term dumb -o /tmp/live -- \\\n"
	      "      build/bin/magslab-workload phases --schedule idle:1s,burst:3s,steady:3s\n"
	      "  xdg-open /tmp/live/index.html   # afterwards: the full report\n"
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

	for (i = 1; i < sizeof(term_names) / sizeof(term_names[0]); i++) {
		if (strcmp(arg, term_names[i]) == 0) {
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

enum { OPT_TERM = 256, OPT_INTERVAL, OPT_BUCKET };

/* Parses the options into o; returns -1 to go on, else the exit status. */
static int parse_options(int argc, char **argv, struct live_opts *o)
{
	static const struct option longopts[] = {
		{ "term", required_argument, NULL, OPT_TERM },
		{ "interval", required_argument, NULL, OPT_INTERVAL },
		{ "output", required_argument, NULL, 'o' },
		{ "bucket", required_argument, NULL, OPT_BUCKET },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
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
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			live_usage(stdout);
			return 0;
		case ':':
			return usage_error("%s needs an argument", argv[optind - 1]);
		default:
			if (optopt) {
				char opt[3] = { '-', (char)optopt, 0 };

				return usage_error("unknown option '%s'", opt);
			}
			return usage_error("unknown option '%s'", argv[optind - 1]);
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

static volatile sig_atomic_t got_signal; /* SIGINT or SIGTERM, the last one */
static volatile sig_atomic_t nsignals;   /* how many */
static volatile sig_atomic_t got_winch;

static void on_signal(int sig)
{
	if (sig == SIGWINCH) {
		got_winch = 1;
		return;
	}
	got_signal = sig;
	nsignals++;
}

static void set_handlers(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGWINCH, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static void restore_handlers(void)
{
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGWINCH, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
}

/* ==========================================================================================
 * The view: one gnuplot, fed over a pipe
 */

static void view_say(struct view *v, const char *line)
{
	const char *p = line;

	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p)
		return;
	snprintf(v->last_msg, sizeof(v->last_msg), "%s", p);
	if (v->verbose)
		fprintf(stderr, PROG ": gnuplot: %s\n", p);
}

/* Marks the view broken, with why (once, on stderr). */
static void view_break(struct view *v, const char *why)
{
	if (v->broken)
		return;
	v->broken = true;
	fprintf(stderr, PROG ": the live view stopped: %s%s%s\n", why,
		v->last_msg[0] ? "; gnuplot said: " : "", v->last_msg);
}

/* Sends a frame's commands. */
static int view_send(struct view *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int view_send(struct view *v, const char *fmt, ...)
{
	char buf[8192];
	va_list ap;
	int n;

	if (v->broken || v->pid <= 0)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		view_break(v, "a gnuplot command was too long");
		return -1;
	}
	if (write_all(v->cmd_fd, buf, (size_t)n) != 0) {
		view_break(v, "gnuplot is gone");
		return -1;
	}
	return 0;
}

/*
 * Reads gnuplot's stderr until the line "@@magslab-live N" (N: v->marker).  0 when seen;
 * -1 (view broken) if gnuplot exited or took more than VIEW_TIMEOUT_S.
 */
static int view_wait_marker(struct view *v)
{
	char want[64];
	double end = now_s() + VIEW_TIMEOUT_S;

	snprintf(want, sizeof(want), "@@magslab-live %u", v->marker);
	for (;;) {
		char *nl;
		struct pollfd pfd = { v->msg_fd, POLLIN, 0 };
		double left = end - now_s();
		ssize_t r;
		int pr;

		while ((nl = memchr(v->rbuf, '\n', v->rlen))) {
			*nl = '\0';
			if (strcmp(v->rbuf, want) == 0) {
				v->rlen -= (size_t)(nl + 1 - v->rbuf);
				memmove(v->rbuf, nl + 1, v->rlen);
				return 0;
			}
			view_say(v, v->rbuf);
			v->rlen -= (size_t)(nl + 1 - v->rbuf);
			memmove(v->rbuf, nl + 1, v->rlen);
		}
		if (v->rlen == sizeof(v->rbuf) - 1) /* a very long line: keep its end */
			v->rlen = 0;
		if (left <= 0) {
			view_break(v, "gnuplot did not finish a frame in time");
			return -1;
		}
		pr = poll(&pfd, 1, (int)(left * 1000) + 1);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0)
			continue;
		r = read(v->msg_fd, v->rbuf + v->rlen, sizeof(v->rbuf) - 1 - v->rlen);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			view_break(v, "gnuplot exited");
			return -1;
		}
		v->rlen += (size_t)r;
	}
}

/* Ends a frame: asks for a marker and waits for it. */
static int view_sync(struct view *v)
{
	v->marker++;
	if (view_send(v, "print \"@@magslab-live %u\"\n", v->marker))
		return -1;
	return view_wait_marker(v);
}

static int view_spawn(struct view *v, const char *gnuplot, const char *dir, char *err,
		      size_t errlen)
{
	int in[2], out[2];

	if (pipe2(in, O_CLOEXEC) != 0)
		goto fail;
	if (pipe2(out, O_CLOEXEC) != 0) {
		close(in[0]);
		close(in[1]);
		goto fail;
	}
	fflush(NULL);
	v->pid = fork();
	if (v->pid < 0) {
		v->pid = 0;
		close(in[0]);
		close(in[1]);
		close(out[0]);
		close(out[1]);
		goto fail;
	}
	if (v->pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		setpgid(0, 0); /* a Ctrl-C at the terminal is ours to handle, not gnuplot's */
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDERR_FILENO);
		if (null >= 0)
			dup2(null, STDOUT_FILENO);
		child_reset();
		if (chdir(dir) != 0) {
			fprintf(stderr, "cannot enter %s: %s\n", dir, strerror(errno));
			_exit(127);
		}
		execlp(gnuplot, gnuplot, (char *)NULL);
		fprintf(stderr, "cannot run %s: %s\n", gnuplot, strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	v->cmd_fd = in[1];
	v->msg_fd = out[0];
	return 0;
fail:
	fe_seterr(err, errlen, "cannot start gnuplot: %s", strerror(errno));
	return -1;
}

/* The terminal command of window n (x11, qt): one above the other, never raised. */
static void window_term(const struct view *v, int n, const char *what, char *buf, size_t len)
{
	snprintf(buf, len, "set terminal %s %d title \"magslab live: %s\" size 1000,560 "
		 "position 0,%d noraise noenhanced\n", v->term == TERM_QT ? "qt" : "x11", n, what,
		 n * 600);
}

/* The first frame: proves that gnuplot runs and that the terminal works, before CMD. */
static int view_first(struct view *v)
{
	char term[256];

	switch (v->term) {
	case TERM_X11:
	case TERM_QT:
		window_term(v, 0, "magsize", term, sizeof(term));
		if (view_send(v, "%sset label 1 \"waiting for the first events...\" at graph 0.5, "
			      "graph 0.5 center\nunset border\nunset tics\nunset key\n"
			      "set xrange [0:1]\nset yrange [0:1]\nplot NaN notitle\nreset\n",
			      term))
			return -1;
		break;
	case TERM_PNG:
		if (view_send(v, "set terminal pngcairo size 1200,700 noenhanced font "
			      "\"sans,10\"\n"))
			return -1;
		break;
	default:
		if (view_send(v, "set terminal dumb nofeed size 80,24\n"))
			return -1;
		break;
	}
	return view_sync(v);
}

static int view_start(struct view *v, const char *gnuplot, const char *outdir,
		      const char *workdir, char *err, size_t errlen)
{
	v->tty = isatty(STDOUT_FILENO);
	snprintf(v->frame_file, sizeof(v->frame_file), "%s/frame.txt", workdir);
	if (view_spawn(v, gnuplot, outdir, err, errlen))
		return -1;
	if (view_first(v)) {
		fe_seterr(err, errlen, "gnuplot cannot draw the %s view%s%s", term_names[v->term],
		       v->last_msg[0] ? ": " : "", v->last_msg);
		return -1;
	}
	return 0;
}

/* Leaves the terminal as it was (dumb view). */
static void view_restore_terminal(struct view *v)
{
	if (!v->alt_screen)
		return;
	fputs("\033[?1049l\033[?25h", stdout);
	fflush(stdout);
	v->alt_screen = false;
}

static void view_stop(struct view *v)
{
	int status;

	view_restore_terminal(v);
	if (v->pid <= 0)
		return;
	if (!v->broken)
		write_all(v->cmd_fd, "quit\n", 5);
	close(v->cmd_fd);
	if (!wait_for(v->pid, &status, 3)) {
		kill(v->pid, SIGTERM);
		if (!wait_for(v->pid, &status, 2)) {
			kill(v->pid, SIGKILL);
			waitpid(v->pid, &status, 0);
		}
	}
	close(v->msg_fd);
	v->pid = 0;
}

/* The terminal's size (stdout's), or $COLUMNS x $LINES, or 80 x 24. */
static void term_size(int *cols, int *rows)
{
	struct winsize ws;
	const char *c = getenv("COLUMNS"), *l = getenv("LINES");

	*cols = 80;
	*rows = 24;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0 && ws.ws_row > 0) {
		*cols = ws.ws_col;
		*rows = ws.ws_row;
		return;
	}
	if (c && atoi(c) > 0)
		*cols = atoi(c);
	if (l && atoi(l) > 0)
		*rows = atoi(l);
}

/*
 * Paints a dumb frame (the file gnuplot wrote: each plot starts with a form feed and ends
 * without a newline) and the status line on stdout: on a terminal in place, on its
 * alternate screen; else (or for the final frame) one after the other.
 */
static void paint_dumb(struct view *v, const char *status, bool final)
{
	FILE *f = fopen(v->frame_file, "r");
	bool in_place = v->tty && !final, bol = true;
	int c;

	if (!f)
		return;
	if (in_place) {
		if (!v->alt_screen) {
			fputs("\033[?1049h\033[?25l", stdout); /* alternate screen, no cursor */
			v->alt_screen = true;
		}
		fputs("\033[H", stdout);
	} else if (!final) {
		printf("---- %s\n", status);
	}
	while ((c = getc(f)) != EOF) {
		if (c == '\f') {
			if (bol)
				continue;
			c = '\n';
		}
		if (c == '\n' && in_place)
			fputs("\033[K", stdout);
		putchar(c);
		bol = c == '\n';
	}
	fclose(f);
	if (in_place)
		printf("\033[K\n%s\033[K\033[J", status);
	else if (final)
		printf("\n%s\n", status);
	else
		putchar('\n');
	fflush(stdout);
}

/* Draws the dumb frame from the live scripts in the report directory. */
static int draw_dumb(struct view *v, const char *status, bool final)
{
	char file[PATH_MAX + 8];
	int cols, rows, h1, h2;
	const char *colour = v->tty ? "ansi" : "mono";

	term_size(&cols, &rows);
	if (cols < 40)
		cols = 40;
	rows -= 1; /* the status line */
	if (rows < 12)
		rows = 12;
	h1 = rows >= 24 ? rows / 2 : rows;
	h2 = rows - h1;
	gp_quote(file, sizeof(file), v->frame_file);
	if (view_send(v, "set output %s\nset terminal dumb nofeed %s size %d,%d\n"
		      "live_setup = \"unset grid\"\nload \"live-magsize.gpi\"\n",
		      file, colour, cols, h1))
		return -1;
	if (h2 > 0 && view_send(v, "set terminal dumb nofeed %s size %d,%d\n"
				"load \"live-contention.gpi\"\n", colour, cols, h2))
		return -1;
	if (view_send(v, "set output\n") || view_sync(v))
		return -1;
	paint_dumb(v, status, final);
	return 0;
}

static int draw_windows(struct view *v)
{
	char t0[256], t1[256];

	window_term(v, 0, "magsize", t0, sizeof(t0));
	window_term(v, 1, "contention", t1, sizeof(t1));
	if (view_send(v, "%sload \"live-magsize.gpi\"\n%sload \"live-contention.gpi\"\n", t0,
		      t1))
		return -1;
	return view_sync(v);
}

/* The PNGs, each written under a hidden name and renamed once complete. */
static int draw_png(struct view *v, const char *outdir)
{
	static const char *const names[] = { "magsize", "contention" };
	size_t i;

	if (view_send(v, "set terminal pngcairo size 1200,700 noenhanced font \"sans,10\"\n"
		      "set output \".live-magsize.png\"\nload \"live-magsize.gpi\"\n"
		      "set output \".live-contention.png\"\nload \"live-contention.gpi\"\n"
		      "set output\n") ||
	    view_sync(v))
		return -1;
	for (i = 0; i < 2; i++) {
		char tmp[PATH_MAX + 64], dst[PATH_MAX + 64];
		struct stat sb;

		snprintf(tmp, sizeof(tmp), "%s/.live-%s.png", outdir, names[i]);
		snprintf(dst, sizeof(dst), "%s/%s.png", outdir, names[i]);
		if (stat(tmp, &sb) == 0 && sb.st_size > 0)
			rename(tmp, dst);
		else
			unlink(tmp);
	}
	return 0;
}

/* ==========================================================================================
 * The png view's index.html
 */

/*
 * OUTDIR/index.html while CMD runs: reloads itself every interval and shows the two PNGs
 * (with the frame number in their URLs, so that no browser shows a cached one).  The sink
 * writes the final report's index.html over it at the end.
 */
static void write_live_page(const struct live *l, const char *status)
{
	char tmp[PATH_MAX + 32], dst[PATH_MAX + 32];
	unsigned refresh = (unsigned)(l->o.interval_s + 0.999);
	FILE *f;
	int i;

	snprintf(tmp, sizeof(tmp), "%s/.live-index.html", l->outdir);
	snprintf(dst, sizeof(dst), "%s/index.html", l->outdir);
	f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		"<meta http-equiv=\"refresh\" content=\"%u\">\n<title>magslab live: ",
		refresh ? refresh : 1);
	fe_html_escape(f, l->cmdline);
	fprintf(f, "</title>\n<style>\nbody { font-family: sans-serif; margin: 1.5em; }\n"
		"img { max-width: 100%%; border: 1px solid #eee; }\n</style>\n</head>\n<body>\n"
		"<h1>magslab live: <code>");
	fe_html_escape(f, l->cmdline);
	fprintf(f, "</code></h1>\n<p>");
	fe_html_escape(f, status);
	fprintf(f, "<br>\nThis page reloads itself every %u s; when the command ends it is "
		"replaced by the full report.</p>\n", refresh ? refresh : 1);
	for (i = 0; i < 2 && l->have_snapshot; i++) {
		const char *n = i ? "contention" : "magsize";

		fprintf(f, "<h2>%s</h2>\n<p><img src=\"%s.png?frame=%u\" width=\"1200\" "
			"height=\"700\" alt=\"%s plot\"></p>\n", n, n, l->view.frames, n);
	}
	if (!l->have_snapshot)
		fprintf(f, "<p>Waiting for the first magslab events...</p>\n");
	fprintf(f, "</body>\n</html>\n");
	if (fclose(f) == 0)
		rename(tmp, dst);
	else
		unlink(tmp);
}

/* ==========================================================================================
 * Frames
 */

static void status_line(const struct live *l, char *buf, size_t len)
{
	char ev[32];
	double t = l->t_start > 0 ? now_s() - l->t_start : 0;

	fe_format_count(ev, sizeof(ev), l->graph ? mg_graph_events(l->graph) : l->events);
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
	int rc;

	if (v->broken)
		return;
	v->frames++;
	status_line(l, status, sizeof(status));
	switch (v->term) {
	case TERM_X11:
	case TERM_QT:
		rc = draw_windows(v);
		break;
	case TERM_PNG:
		rc = draw_png(v, l->outdir);
		if (rc == 0)
			write_live_page(l, status);
		break;
	default:
		rc = draw_dumb(v, status, final);
		break;
	}
	if (rc != 0)
		v->frames--;
}

/* A progress line on stderr (views other than dumb, which has it in the frame). */
static void show_progress(struct live *l, double *next)
{
	char status[256];
	bool tty = isatty(STDERR_FILENO);
	double t = now_s();

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
	l->have_snapshot = true;
	draw(l, false);
}

/* ==========================================================================================
 * Daemons, session, graph
 */

static int make_workdir(struct live *l, char *err, size_t errlen)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(l->workdir, sizeof(l->workdir), "%s/magslab-live.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(l->workdir)) {
		fe_seterr(err, errlen, "cannot create a work directory %s: %s", l->workdir,
		       strerror(errno));
		l->workdir[0] = '\0';
		return -1;
	}
	return 0;
}

static int start_session(struct live *l, char *err, size_t errlen)
{
	struct ml_session_opts so;
	char trace[PATH_MAX + 16], relayd[64];

	if (ml_sessiond_ensure(&l->sessiond, l->workdir, &l->started_sessiond, err, errlen))
		return -1;
	snprintf(trace, sizeof(trace), "%s/trace", l->outdir);
	if (ml_relayd_start(&l->relayd, trace, l->workdir, err, errlen))
		return -1;
	snprintf(relayd, sizeof(relayd), "127.0.0.1:%d", l->relayd.control_port);
	memset(&so, 0, sizeof(so));
	so.relayd = relayd;
	so.relayd_data_port = l->relayd.data_port;
	so.live_timer_us = LIVE_TIMER_US;
	if (ml_session_create(&so, &l->session, err, errlen))
		return -1;
	return ml_session_start(&l->session, err, errlen);
}

static bt_value *sink_params(const struct live *l)
{
	bt_value *p = bt_value_map_create();
	uint64_t snap_ms = (uint64_t)(l->o.interval_s * 1000 + 0.5);

	if (!p)
		return NULL;
	if (bt_value_map_insert_string_entry(p, "output-dir", l->outdir) !=
		    BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK ||
	    bt_value_map_insert_unsigned_integer_entry(p, "snapshot-ms", snap_ms) !=
		    BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK ||
	    (l->o.bucket_ms && bt_value_map_insert_unsigned_integer_entry(p, "bucket-ms",
									  l->o.bucket_ms) !=
				       BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK)) {
		bt_value_put_ref(p);
		return NULL;
	}
	return p;
}

/* Builds the graph on the session's URL and steps it once: the viewer attaches then. */
static int attach_graph(struct live *l, char *err, size_t errlen)
{
	bt_logging_level ll = l->o.verbose ? BT_LOGGING_LEVEL_WARNING : BT_LOGGING_LEVEL_NONE;
	const bt_component_class_sink *sink;
	char host[256], url[512];
	char *args[1] = { url };

	if (gethostname(host, sizeof(host)) != 0) {
		fe_seterr(err, errlen, "gethostname: %s", strerror(errno));
		return -1;
	}
	host[sizeof(host) - 1] = '\0';
	if (snprintf(url, sizeof(url), "net://127.0.0.1:%d/host/%s/%s", l->relayd.live_port,
		     host, l->session.name) >= (int)sizeof(url)) {
		fe_seterr(err, errlen, "the live URL is too long (host name %s)", host);
		return -1;
	}
	if (mg_plugins_load(&l->plugins, true, err, errlen))
		return -1;
	l->have_plugins = true;
	if (mg_discover(&l->plugins, args, 1, ll, &l->inputs, err, errlen))
		return -1;
	l->have_inputs = true;
	sink = mg_find_sink_class(&l->plugins, SINK_CLASS, &l->sink_holder, err, errlen);
	if (!sink)
		return -1;
	l->params = sink_params(l);
	if (!l->params) {
		fe_seterr(err, errlen, "out of memory");
		return -1;
	}
	if (mg_graph_build(&l->plugins, &l->inputs, sink, "report", l->params, ll, &l->graph,
			   err, errlen))
		return -1;
	switch (mg_graph_step(l->graph, l->o.verbose, err, errlen)) {
	case MG_STEP_ERROR:
		return -1;
	case MG_STEP_END:
		fe_seterr(err, errlen, "the live session %s ended before it began", url);
		return -1;
	default:
		return 0;
	}
}

/* ==========================================================================================
 * CMD
 */

/* In the child: the dumb view owns the terminal, so CMD's output goes to OUTDIR/cmd.log. */
static void exec_cmd(const struct live *l)
{
	if (l->o.term == TERM_DUMB) {
		char log[PATH_MAX + 16];
		int fd;

		snprintf(log, sizeof(log), "%s/cmd.log", l->outdir);
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
			close(fd);
		}
	}
	child_reset();
	ml_child_env(false);
	execvp(l->o.cmd[0], l->o.cmd);
	fprintf(stderr, PROG ": cannot run %s: %s\n", l->o.cmd[0], strerror(errno));
	_exit(127);
}

static int start_cmd(struct live *l, char *err, size_t errlen)
{
	fflush(NULL);
	l->child = fork();
	if (l->child < 0) {
		l->child = 0;
		fe_seterr(err, errlen, "cannot start %s: fork: %s", l->o.cmd[0], strerror(errno));
		return -1;
	}
	if (l->child == 0)
		exec_cmd(l);
	l->t_start = now_s();
	return 0;
}

/* Whether CMD has ended (reaps it). */
static bool cmd_ended(struct live *l)
{
	if (l->child_done || l->child <= 0)
		return true;
	if (waitpid(l->child, &l->child_status, WNOHANG) == l->child)
		l->child_done = true;
	return l->child_done;
}

/* Stops CMD: SIGINT (a Ctrl-C at a terminal reached it already), then SIGTERM, SIGKILL. */
static void stop_cmd(struct live *l)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGKILL };
	size_t i;

	for (i = 0; i < 3 && !cmd_ended(l); i++) {
		kill(l->child, sigs[i]);
		if (wait_for(l->child, &l->child_status, i < 2 ? CMD_GRACE_S : 10))
			l->child_done = true;
	}
}

static int cmd_exit_code(const struct live *l)
{
	int s = l->child_status;

	return WIFEXITED(s) ? WEXITSTATUS(s) : WIFSIGNALED(s) ? 128 + WTERMSIG(s) : 1;
}

/* ==========================================================================================
 * The run
 */

/* While CMD runs: step the graph, draw the snapshots.  0, or -1 (err) if reading failed. */
static int watch(struct live *l, char *err, size_t errlen)
{
	double next_poll = 0, next_progress = now_s() + 1;

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
			sleep_ms(AGAIN_SLEEP_MS);
		t = now_s();
		if (t < next_poll)
			continue;
		next_poll = t + POLL_S;
		if (cmd_ended(l))
			return 0;
		if (got_signal) {
			stop_cmd(l);
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
	double next_poll = 0, next_progress = now_s() + 1, moved = now_s();
	uint64_t events = mg_graph_events(l->graph);
	int signals = nsignals;

	while (!l->stream_ended) {
		enum mg_step_status st = mg_graph_step(l->graph, l->o.verbose, l->report_err,
						       sizeof(l->report_err));
		double t = now_s();

		if (st == MG_STEP_ERROR)
			return 0; /* report_err says why */
		if (st == MG_STEP_END) {
			l->stream_ended = true;
			break;
		}
		if (st == MG_STEP_AGAIN)
			sleep_ms(AGAIN_SLEEP_MS);
		/* not "any message": the live source sends inactivity messages when idle */
		if (mg_graph_events(l->graph) != events) {
			events = mg_graph_events(l->graph);
			moved = t;
		}
		if (t - moved > END_STALL_S) {
			fe_seterr(err, errlen, "the live stream did not end within %d s of the "
			       "session's end", END_STALL_S);
			return -1;
		}
		if (nsignals != signals) {
			fe_seterr(err, errlen, "interrupted again while reading the rest of the "
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

/* Stops and destroys the session (its end ends the live stream). */
static int end_session(struct live *l, char *err, size_t errlen)
{
	char ignored[ML_ERRLEN];

	if (!l->session.created)
		return 0;
	if (ml_session_stop(&l->session, &l->lost, err, errlen)) {
		ml_session_destroy(&l->session, ignored, sizeof(ignored));
		return -1;
	}
	return ml_session_destroy(&l->session, err, errlen);
}

/* Everything undone, in order; safe at any stage. */
static void live_teardown(struct live *l)
{
	char ignored[ML_ERRLEN];

	if (l->child > 0 && !l->child_done)
		stop_cmd(l);
	view_stop(&l->view);
	if (l->session.created) {
		ml_session_stop(&l->session, NULL, ignored, sizeof(ignored));
		ml_session_destroy(&l->session, ignored, sizeof(ignored));
	}
	mg_graph_destroy(l->graph);
	l->graph = NULL;
	bt_current_thread_clear_error();
	bt_value_put_ref(l->params);
	l->params = NULL;
	bt_plugin_put_ref(l->sink_holder);
	l->sink_holder = NULL;
	if (l->have_inputs)
		mg_inputs_free(&l->inputs);
	l->have_inputs = false;
	if (l->have_plugins)
		mg_plugins_put(&l->plugins);
	l->have_plugins = false;
	ml_daemon_stop(&l->relayd.d);
	ml_daemon_stop(&l->sessiond);
	if (l->workdir[0] && !l->failed)
		fe_remove_tree(l->workdir);
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

static void print_head(const char *path, int lines)
{
	FILE *f = fopen(path, "r");
	char buf[4096];
	int n = 0;

	if (!f)
		return;
	while (n < lines && fgets(buf, sizeof(buf), f)) {
		fputs(buf, stdout);
		n += strchr(buf, '\n') != NULL;
	}
	fclose(f);
}

/* The final report is there (written at the stream's end, this run). */
static bool report_written(const struct live *l)
{
	char path[PATH_MAX + 32];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/summary.json", l->outdir);
	return l->stream_ended && !l->report_err[0] && stat(path, &sb) == 0 &&
	       sb.st_mtime >= l->since;
}

/* Why there is no report, said in the terms of this command. */
static void explain_no_report(const struct live *l)
{
	if (strstr(l->report_err, "no magslab events"))
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
	       cmd_exit_code(l), got_signal ? " (interrupted by " : "",
	       got_signal ? fe_signal_name(got_signal) : "", got_signal ? ")" : "",
	       (unsigned long long)l->events);
	if (got_signal)
		printf(PROG ": interrupted by %s: exit status %d\n", fe_signal_name(got_signal),
		       fe_interrupted_status(got_signal));
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
	print_head(path, SUMMARY_HEAD);
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

	if (v->term != TERM_DUMB || v->broken || v->pid <= 0)
		return;
	view_restore_terminal(v);
	draw(l, true);
}

/* Renders the plots; returns the exit status of the whole run. */
static int finish(struct live *l)
{
	char err[MG_ERRLEN];
	int code = cmd_exit_code(l), nplots = -1;

	if (!report_written(l)) {
		explain_no_report(l);
		if (l->o.term == TERM_PNG) { /* our page would wait for a report forever */
			char page[PATH_MAX + 16];

			snprintf(page, sizeof(page), "%s/index.html", l->outdir);
			unlink(page);
		}
		return code ? code : 1;
	}
	nplots = report_render_plots(l->gnuplot, l->outdir, l->since, err, sizeof(err));
	if (nplots < 0) {
		fprintf(stderr, PROG ": %s\n", err);
		return code ? code : 1;
	}
	print_results(l, nplots);
	return got_signal ? fe_interrupted_status(got_signal) : code;
}

/* ==========================================================================================
 * The subcommand
 */

/* x11 or qt by what gnuplot has (qt preferred), for the default view with a display. */
static enum term window_term_available(const char *gnuplot)
{
	char cmd[PATH_MAX + 64], q[PATH_MAX + 8];
	size_t o = 0, i;

	/* the program's path in single quotes for sh */
	q[o++] = '\'';
	for (i = 0; gnuplot[i] && o + 5 < sizeof(q); i++) {
		if (gnuplot[i] == '\'') {
			memcpy(q + o, "'\\''", 4);
			o += 4;
		} else {
			q[o++] = gnuplot[i];
		}
	}
	q[o++] = '\'';
	q[o] = '\0';
	snprintf(cmd, sizeof(cmd), "%s -e 'set terminal qt' </dev/null >/dev/null 2>&1", q);
	return system(cmd) == 0 ? TERM_QT : TERM_X11;
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
	if (report_find_gnuplot(l->gnuplot, sizeof(l->gnuplot)) != 0) {
		fprintf(stderr, PROG ": %s not found: install gnuplot (gnuplot-qt)\n", l->gnuplot);
		return 1;
	}
	if (l->o.term == TERM_AUTO)
		l->o.term = display && *display ? window_term_available(l->gnuplot) : TERM_DUMB;
	if ((l->o.term == TERM_X11 || l->o.term == TERM_QT) && !(display && *display)) {
		fprintf(stderr, PROG ": --term %s needs a display, and $DISPLAY is not set (use "
			"--term dumb or png)\n", term_names[l->o.term]);
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
	if (make_workdir(l, err, errlen) || start_session(l, err, errlen) ||
	    attach_graph(l, err, errlen))
		return -1;
	l->view.term = l->o.term;
	l->view.verbose = l->o.verbose;
	if (view_start(&l->view, l->gnuplot, l->outdir, l->workdir, err, errlen))
		return -1;
	if (l->o.term == TERM_PNG)
		write_live_page(l, "starting the command");
	if (got_signal) {
		fe_seterr(err, errlen, "interrupted before the command started");
		return -1;
	}
	return start_cmd(l, err, errlen);
}

static int run(struct live *l)
{
	char err[MG_ERRLEN] = "";
	int code;

	fprintf(stderr, PROG ": %s view, a frame every %g s; report in %s\n",
		term_names[l->o.term], l->o.interval_s, l->outdir);
	if (setup(l, err, sizeof(err)))
		goto fail;
	fprintf(stderr, PROG ": session %s live on 127.0.0.1:%d; running %s\n",
		l->session.name, l->relayd.live_port, l->cmdline);
	if (watch(l, err, sizeof(err)))
		goto fail;
	clear_progress(l);
	if (!cmd_ended(l))
		stop_cmd(l); /* the stream ended under it */
	fprintf(stderr, PROG ": %s %s (status %d): reading the rest of the trace\n",
		l->o.cmd[0], got_signal ? "stopped" : "exited", cmd_exit_code(l));
	if (end_session(l, err, sizeof(err)) || drain(l, err, sizeof(err)))
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
	return got_signal ? fe_interrupted_status(got_signal) : 1;
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
	got_signal = 0;
	nsignals = 0;
	set_handlers();
	l.since = time(NULL) - 1;
	rc = run(&l);
	live_teardown(&l);
	restore_handlers();
	return rc;
}
