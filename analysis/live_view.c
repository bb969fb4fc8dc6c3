/*
 * analysis/live_view.c — the view of `magslab live` (see live_view.h): one interactive
 * gnuplot (gnuplot.h) drawing the sink's live scripts, live-magsize.gpi and
 * live-contention.gpi, into the terminal (dumb), two windows (x11, qt) or two PNGs (png).
 *
 * The view is synchronous: after a frame's commands gnuplot is asked to `print` a marker
 * line (on its stderr, a pipe to us) and we wait for it, so that nothing else (the graph,
 * the sink writing the next snapshot) runs while gnuplot reads the files.  gnuplot keeps
 * running after an error in a loaded script; its last message is kept for -v and for the
 * reason when it dies.  A view that fails is marked broken (said once on stderr) and draws
 * no more frames; the run goes on.
 *
 * Owns the gnuplot session, the dumb view's frame file (in the work directory) and the
 * terminal's alternate screen (left as it was by view_restore_terminal).
 */
#include "live_view.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

#define PROG "magslab live"
/* Longest wait for gnuplot to draw a frame (s). */
#define VIEW_TIMEOUT_S 30

const char *const live_term_names[] = { "auto", "dumb", "x11", "qt", "png" };

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


static void view_say(struct view *v, const char *line)
{
	const char *p = line;

	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p)
		return;
	snprintf(v->last_msg, sizeof(v->last_msg), "%.511s", p);
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

	if (v->broken || v->gp.pid <= 0)
		return -1;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		view_break(v, "a gnuplot command was too long");
		return -1;
	}
	if (fe_write_all(v->gp.cmd_fd, buf, (size_t)n) != 0) {
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
	double end = fe_now_s() + VIEW_TIMEOUT_S;

	snprintf(want, sizeof(want), "@@magslab-live %u", v->marker);
	for (;;) {
		char *nl;
		struct pollfd pfd = { v->gp.msg_fd, POLLIN, 0 };
		double left = end - fe_now_s();
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
		r = read(v->gp.msg_fd, v->rbuf + v->rlen, sizeof(v->rbuf) - 1 - v->rlen);
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

int view_start(struct view *v, const char *gnuplot, const char *outdir, const char *workdir,
	       char *err, size_t errlen)
{
	v->tty = isatty(STDOUT_FILENO);
	snprintf(v->frame_file, sizeof(v->frame_file), "%s/frame.txt", workdir);
	if (gp_session_start(&v->gp, gnuplot, outdir)) {
		tl_seterr(err, errlen, "cannot start gnuplot: %s", strerror(errno));
		return -1;
	}
	if (view_first(v)) {
		tl_seterr(err, errlen, "gnuplot cannot draw the %s view%s%s",
			  live_term_names[v->term], v->last_msg[0] ? ": " : "", v->last_msg);
		return -1;
	}
	return 0;
}

/* Leaves the terminal as it was (dumb view). */
void view_restore_terminal(struct view *v)
{
	if (!v->alt_screen)
		return;
	fputs("\033[?1049l\033[?25h", stdout);
	fflush(stdout);
	v->alt_screen = false;
}

void view_stop(struct view *v)
{
	view_restore_terminal(v);
	gp_session_stop(&v->gp, v->broken);
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

int view_draw(struct view *v, const char *outdir, const char *status, bool final)
{
	switch (v->term) {
	case TERM_X11:
	case TERM_QT:
		return draw_windows(v);
	case TERM_PNG:
		return draw_png(v, outdir);
	default:
		return draw_dumb(v, status, final);
	}
}
