/*
 * analysis/gnuplot.h — the one module of the front end that runs gnuplot (report, live,
 * tune): finding it, rendering scripts into the files they name, and for the live view an
 * interactive gnuplot fed over a pipe.
 *
 *   gp_find      $MAGSLAB_GNUPLOT, else `gnuplot` from PATH
 *   gp_render    each script run in its directory (`gnuplot SCRIPT`, in the order of the
 *                scripts' names), its outputs removed first and checked after: every one
 *                written and not empty, a PNG and an SVG among them.  The scripts and what
 *                they write come from the caller: the sink's manifest.json (manifest.h) for
 *                a report, tune's own list for its heatmaps.  Every script runs; the first
 *                failure is told, with gnuplot's last line of output.
 *   gp_session   gnuplot reading commands on a pipe, its stderr (messages, `print`) on
 *                another, in a process group of its own (a Ctrl-C is the front end's)
 *   gp_has_terminal  whether this gnuplot has a terminal (qt, x11...)
 *
 * Errors: one line (no trailing newline) into err, -1.  Children go through proc.h.
 */
#ifndef MAGSLAB_ANALYSIS_GNUPLOT_H
#define MAGSLAB_ANALYSIS_GNUPLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* The gnuplot program into out (what was looked for, if it is not there): 0 or -1. */
int gp_find(char *out, size_t len);

/* gnuplot's canvas scripts (gnuplot-data's js/ under /usr/share/gnuplot, or
 * $MAGSLAB_GNUPLOT_JS) copied into DIR/js, so that the canvas plots of index.html work offline
 * from file://: 0, or -1 with err. */
int gp_copy_canvas_js(const char *dir, char *err, size_t errlen);

/* A script and the files it writes. */
#define GP_MAX_OUTPUTS 4
struct gp_plot {
	const char *script;
	const char *outputs[GP_MAX_OUTPUTS];
	size_t noutputs;
};

/* Renders the n plots in dir (see above): n, or -1 with the first failure in err. */
int gp_render(const char *gnuplot, const char *dir, const struct gp_plot *plots, size_t n,
	      char *err, size_t errlen);

/* An interactive gnuplot (pid 0: none). */
struct gp_session {
	pid_t pid;
	int cmd_fd, msg_fd;	/* its stdin (commands), its stderr (answers and messages) */
};

/* Starts gnuplot in dir (stdout to /dev/null): 0, or -1 (errno). */
int gp_session_start(struct gp_session *s, const char *gnuplot, const char *dir);

/* Ends it: `quit` (unless it is broken), 3 s, SIGTERM, 2 s, SIGKILL; no-op if none. */
void gp_session_stop(struct gp_session *s, bool broken);

bool gp_has_terminal(const char *gnuplot, const char *term);

#endif /* MAGSLAB_ANALYSIS_GNUPLOT_H */
