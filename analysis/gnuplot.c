/*
 * analysis/gnuplot.c — running gnuplot (see gnuplot.h): the scripts of a report or of
 * tune, rendered and checked; the live view's interactive gnuplot.
 *
 * What it owns: the gnuplot processes (each a child through proc.h, never left running:
 * a batch run is waited for, a session is stopped by gp_session_stop) and the output files
 * of the scripts it renders (removed before, so that an old plot cannot pass for a new
 * one).  It knows nothing of what the scripts draw.
 */
#include "gnuplot.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"
#include "util.h"

int gp_find(char *out, size_t len)
{
	const char *prog = getenv("MAGSLAB_GNUPLOT");

	return fe_find_program(prog && *prog ? prog : "gnuplot", out, len);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && strcmp(s + ls - lx, suffix) == 0;
}

/* The last non-empty line of text, on one line, into buf. */
static void last_line(const char *text, char *buf, size_t len)
{
	const char *end = text + strlen(text), *b;

	while (end > text && (end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\r'))
		end--;
	b = end;
	while (b > text && b[-1] != '\n')
		b--;
	snprintf(buf, len, "%.*s", (int)(end - b), b);
}

/* Everything read from fd until its end, keeping the last len - 1 bytes (the end of
 * gnuplot's output holds its error). */
static void read_tail(int fd, char *out, size_t len)
{
	char tmp[4096];
	size_t n = 0;
	ssize_t r;

	for (;;) {
		r = read(fd, tmp, sizeof(tmp));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (n + (size_t)r > len - 1) {
			size_t drop = n + (size_t)r - (len - 1);

			memmove(out, out + drop, n - drop);
			n -= drop;
		}
		memcpy(out + n, tmp, (size_t)r);
		n += (size_t)r;
	}
	out[n] = '\0';
}

/* Runs `gnuplot script` in dir.  0, or -1 with the reason in err. */
static int run_script(const char *gnuplot, const char *dir, const char *script, char *err,
		      size_t errlen)
{
	char *argv[] = { (char *)gnuplot, (char *)script, NULL };
	struct proc_spec s = { argv, PROC_DEVNULL, PROC_DEVNULL, 0, dir, 0, NULL, NULL, NULL };
	char out[16384], line[1024];
	int pfd[2], status;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	s.err = pfd[1];
	pid = proc_spawn(&s);
	close(pfd[1]);
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(pfd[0]);
		return -1;
	}
	read_tail(pfd[0], out, sizeof(out));
	close(pfd[0]);
	if (proc_wait(pid, &status, &(struct proc_wait){ -1, false, NULL, NULL }) < 0) {
		snprintf(err, errlen, "waitpid: %s", strerror(errno));
		return -1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	last_line(out, line, sizeof(line));
	if (WIFEXITED(status))
		snprintf(err, errlen, "gnuplot %s failed (exit status %d)%s%s", script,
			 WEXITSTATUS(status), line[0] ? ": " : "", line);
	else
		snprintf(err, errlen, "gnuplot %s was killed by signal %d%s%s", script,
			 WTERMSIG(status), line[0] ? ": " : "", line);
	return -1;
}

/* What is wrong with the outputs of p in dir after its run ("" if nothing). */
static void check_outputs(const char *dir, const struct gp_plot *p, char *why, size_t len)
{
	bool png = false, svg = false;
	size_t k;

	for (k = 0; k < p->noutputs; k++) {
		char path[PATH_MAX];
		struct stat sb;

		snprintf(path, sizeof(path), "%s/%s", dir, p->outputs[k]);
		if (stat(path, &sb) != 0 || sb.st_size == 0) {
			snprintf(why, len, "gnuplot %s did not write %s", p->script, p->outputs[k]);
			return;
		}
		png |= ends_with(p->outputs[k], ".png");
		svg |= ends_with(p->outputs[k], ".svg");
	}
	if (!png || !svg)
		snprintf(why, len, "gnuplot %s writes no %s plot", p->script, png ? "SVG" : "PNG");
}

/* One plot: old outputs removed, the script run, the new outputs checked. */
static void render_one(const char *gnuplot, const char *dir, const struct gp_plot *p,
		       char *why, size_t len)
{
	size_t k;

	for (k = 0; k < p->noutputs; k++) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/%s", dir, p->outputs[k]);
		unlink(path); /* so that an old plot cannot pass for a new one */
	}
	if (run_script(gnuplot, dir, p->script, why, len) == 0)
		check_outputs(dir, p, why, len);
}

static int cmp_script(const void *a, const void *b)
{
	return strcmp((*(const struct gp_plot *const *)a)->script,
		      (*(const struct gp_plot *const *)b)->script);
}

int gp_render(const char *gnuplot, const char *dir, const struct gp_plot *plots, size_t n,
	      char *err, size_t errlen)
{
	const struct gp_plot **order = calloc(n + 1, sizeof(*order));
	int failed = 0;
	size_t i;

	if (!order) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (i = 0; i < n; i++)
		order[i] = &plots[i];
	qsort(order, n, sizeof(*order), cmp_script);
	/* Every script runs (the plots that can be made are made); the first failure is told. */
	for (i = 0; i < n; i++) {
		char why[2048] = "";

		render_one(gnuplot, dir, order[i], why, sizeof(why));
		if (why[0] && failed++ == 0)
			snprintf(err, errlen, "%s", why);
	}
	free(order);
	if (failed > 1) {
		size_t l = strlen(err);

		snprintf(err + l, errlen - l, " (and %d more of the %zu scripts failed)",
			 failed - 1, n);
	}
	return failed ? -1 : (int)n;
}

/* ---- the interactive gnuplot ----------------------------------------------------------- */

int gp_session_start(struct gp_session *s, const char *gnuplot, const char *dir)
{
	char *argv[] = { (char *)gnuplot, NULL };
	struct proc_spec ps = { argv, 0, PROC_DEVNULL, 0, dir,
				PROC_OWN_GROUP | PROC_DEFAULT_SIGNALS | PROC_CLOSE_FDS, NULL, NULL,
				NULL };
	int in[2], out[2], e;

	if (pipe2(in, O_CLOEXEC) != 0)
		return -1;
	if (pipe2(out, O_CLOEXEC) != 0) {
		e = errno;
		close(in[0]);
		close(in[1]);
		errno = e;
		return -1;
	}
	ps.in = in[0];
	ps.err = out[1];
	s->pid = proc_spawn(&ps);
	e = errno;
	close(in[0]);
	close(out[1]);
	if (s->pid < 0) {
		s->pid = 0;
		close(in[1]);
		close(out[0]);
		errno = e;
		return -1;
	}
	s->cmd_fd = in[1];
	s->msg_fd = out[0];
	return 0;
}

void gp_session_stop(struct gp_session *s, bool broken)
{
	static const int sigs[] = { SIGTERM, SIGKILL };
	static const double grace[] = { 2, -1 };
	struct proc_wait w = { 3, false, NULL, NULL };
	int status;

	if (s->pid <= 0)
		return;
	if (!broken)
		fe_write_all(s->cmd_fd, "quit\n", 5);
	close(s->cmd_fd);
	if (proc_wait(s->pid, &status, &w) != 1)
		proc_stop(s->pid, &status, sigs, grace, 2);
	close(s->msg_fd);
	s->pid = 0;
}

bool gp_has_terminal(const char *gnuplot, const char *term)
{
	char cmd[64];
	char *argv[] = { (char *)gnuplot, "-e", cmd, NULL };
	struct proc_spec s = { argv, PROC_DEVNULL, PROC_DEVNULL, PROC_DEVNULL, NULL, PROC_QUIET,
			       NULL, NULL, NULL };
	int status;

	snprintf(cmd, sizeof(cmd), "set terminal %s", term);
	return proc_run(&s, &status) == 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* ---- gnuplot's canvas scripts --------------------------------------------------------- */

/* Where Debian's gnuplot-data keeps them (/usr/share/gnuplot/gnuplot/5.4/js), or older
 * layouts; $MAGSLAB_GNUPLOT_JS first. */
static int find_js_dir(char *out, size_t len)
{
	static const char *const patterns[] = {
		"/usr/share/gnuplot/*/*/js", "/usr/share/gnuplot/*/js",
	};
	const char *env = getenv("MAGSLAB_GNUPLOT_JS");
	size_t i;

	if (env && *env) {
		snprintf(out, len, "%s", env);
		return 0;
	}
	for (i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		glob_t g;
		int r = glob(patterns[i], GLOB_ONLYDIR, NULL, &g);

		if (r == 0 && g.gl_pathc > 0) {
			/* glob sorts: the last is the newest version */
			snprintf(out, len, "%s", g.gl_pathv[g.gl_pathc - 1]);
			globfree(&g);
			return 0;
		}
		if (r == 0)
			globfree(&g);
	}
	return -1;
}

int gp_copy_canvas_js(const char *dir, char *err, size_t errlen)
{
	char src[PATH_MAX], pat[PATH_MAX + 8], to[PATH_MAX];
	glob_t g;
	size_t i;
	int r;

	if (find_js_dir(src, sizeof(src)) != 0) {
		snprintf(err, errlen, "gnuplot's canvas scripts are not installed (Debian package "
			 "gnuplot-data: /usr/share/gnuplot/*/js; or set MAGSLAB_GNUPLOT_JS)");
		return -1;
	}
	snprintf(to, sizeof(to), "%s/js", dir);
	if (fe_mkdir_p(to) != 0) {
		snprintf(err, errlen, "cannot create %.1024s: %s", to, strerror(errno));
		return -1;
	}
	snprintf(pat, sizeof(pat), "%s/*", src);
	r = glob(pat, 0, NULL, &g);
	if (r != 0) {
		snprintf(err, errlen, "no gnuplot canvas scripts in %.1024s", src);
		return -1;
	}
	for (i = 0; i < g.gl_pathc; i++) {
		const char *base = strrchr(g.gl_pathv[i], '/') + 1;

		snprintf(to, sizeof(to), "%s/js/%s", dir, base);
		if (fe_copy_file(g.gl_pathv[i], to) != 0) {
			snprintf(err, errlen, "cannot copy %.1024s to %.1024s: %s", g.gl_pathv[i], to,
				 strerror(errno));
			globfree(&g);
			return -1;
		}
	}
	globfree(&g);
	return 0;
}
