/*
 * analysis/live_view.h — the view of `magslab live` (docs/live.md, "Views"): the magsize
 * and contention plots of each snapshot the sink writes, drawn by one gnuplot: in this
 * terminal (dumb: in place on the alternate screen when stdout is a terminal, one frame
 * after the other otherwise), in two windows (x11, qt), or as OUTDIR/magsize.png and
 * contention.png (png: each written under a hidden name, then renamed; the page that shows
 * them is the sink's, parameter live-page).
 *
 * Used by live.c only: view_start before the command runs (a view that cannot work fails
 * then), view_draw for each snapshot, view_stop at the end (the terminal restored first).
 */
#ifndef MAGSLAB_ANALYSIS_LIVE_VIEW_H
#define MAGSLAB_ANALYSIS_LIVE_VIEW_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "gnuplot.h"

enum term { TERM_AUTO, TERM_DUMB, TERM_X11, TERM_QT, TERM_PNG };
extern const char *const live_term_names[]; /* "auto", "dumb", "x11", "qt", "png" */

/* The gnuplot process drawing the frames. */
struct view {
	enum term term;
	struct gp_session gp;
	char rbuf[4096];     /* a line being read from gnuplot's stderr */
	size_t rlen;
	char last_msg[512];  /* the last thing gnuplot said that was not a marker */
	unsigned marker;     /* the last marker asked for */
	unsigned frames;     /* frames drawn (live.c counts them) */
	bool broken;         /* gnuplot failed: no more frames */
	bool tty, alt_screen; /* dumb: stdout is a terminal; we switched to its alternate screen */
	bool verbose;
	char frame_file[PATH_MAX]; /* dumb: where gnuplot writes a frame */
};

/* gnuplot started in outdir (workdir: the dumb view's frame file) and the view's first,
 * empty frame drawn: 0, or -1 (err). */
int view_start(struct view *v, const char *gnuplot, const char *outdir, const char *workdir,
	       char *err, size_t errlen);

/* A frame from the live scripts in outdir (status: the dumb view's status line; final:
 * its last frame, on the normal screen).  0, or -1 (the view is broken). */
int view_draw(struct view *v, const char *outdir, const char *status, bool final);

/* The terminal as it was (dumb view). */
void view_restore_terminal(struct view *v);

/* The terminal restored and gnuplot ended. */
void view_stop(struct view *v);

#endif /* MAGSLAB_ANALYSIS_LIVE_VIEW_H */
