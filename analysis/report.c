/*
 * analysis/report.c — `magslab report` (see report.h).
 */
#include "report.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "graph.h"
#include "util.h"

#define PROG "magslab report"
#define DEFAULT_OUTDIR "magslab-report"
#define SINK_CLASS "magslab.report"
/* Lines of summary.txt printed at the end. */
#define SUMMARY_HEAD 30

void report_usage(FILE *f)
{
	fputs("usage: magslab report TRACE [TRACE...] [-o OUTDIR] [--bucket MS] [--no-plots]\n"
	      "                      [-q] [-v]\n"
	      "\n"
	      "Reads the magslab events of the traces with babeltrace2 (the sink.magslab.report\n"
	      "plugin), writes the report into OUTDIR and renders its plots with gnuplot.\n"
	      "\n"
	      "TRACE    a directory: every trace directory under it (one holding a CTF\n"
	      "         `metadata` file) is read, as `babeltrace2 TRACE` would; or an LTTng\n"
	      "         live session, net://HOST[:PORT]/host/HOSTNAME/SESSION (read until the\n"
	      "         session is destroyed).  Several TRACEs make one merged report.\n"
	      "\n"
	      "Several hosts: the traces are grouped by the host that recorded them (the\n"
	      "`hostname` of each trace's environment; \"unknown\" without one), e.g. an\n"
	      "lttng-relayd output tree OUTPUT/HOSTNAME/SESSION-DATE/... given as one TRACE.\n"
	      "With more than one host, OUTDIR holds the merged report of every trace as\n"
	      "usual, plus one full report per host in OUTDIR/hosts/HOST/, a table of the\n"
	      "hosts (events, caches, discarded events) in OUTDIR/hosts.txt and hosts.json,\n"
	      "and index.html links to each host's report.  (Not for live sessions: a live\n"
	      "session cannot be read twice, so they get the merged report only.)\n"
	      "\n"
	      "Options:\n"
	      "  -o, --output OUTDIR  where the report goes (default ./" DEFAULT_OUTDIR ",\n"
	      "                       created if needed; an earlier report there is\n"
	      "                       overwritten)\n"
	      "  --bucket MS          time-series interval in milliseconds, 1 to 3600000\n"
	      "                       (default: sink.magslab.report's, 100)\n"
	      "  --no-plots           do not run gnuplot (the *.gp scripts are still written)\n"
	      "  -q, --quiet          no progress line on stderr\n"
	      "  -v, --verbose        babeltrace2 warnings, and every cause of an error\n"
	      "  -h, --help           this help\n"
	      "\n"
	      "OUTDIR gets summary.json, summary.txt, time series (*.dat), gnuplot scripts\n"
	      "(*.gp), their plots (*.png and *.svg) and index.html; stdout says where\n"
	      "index.html is (and each host's), and shows the head of summary.txt.\n"
	      "\n"
	      "Examples:\n"
	      "  magslab record -o /tmp/t -- build/bin/magslab-workload prodcons --threads 8\n"
	      "  magslab report /tmp/t -o /tmp/r        # then open /tmp/r/index.html\n"
	      "  magslab report /srv/relayd-output -o /tmp/all   # many hosts: per host + merged\n"
	      "\n"
	      "Environment: MAGSLAB_PLUGIN_PATH  directories holding the magslab plugin\n"
	      "             (default: ../lib/babeltrace2/plugins beside this program, then the\n"
	      "             installed location); MAGSLAB_GNUPLOT  the gnuplot program.\n"
	      "\n"
	      "Exit status: 0 success, 1 failure (the cause on one line of stderr), 2 bad\n"
	      "usage, 3 the report is written but the trace is damaged (streams shorter\n"
	      "than their index, impossible values: the first line of summary.txt says\n"
	      "why), 130 interrupted.  A decoder that makes no progress for\n"
	      "$MAGSLAB_STALL_TIMEOUT seconds (default 60) is stopped: exit status 1.\n",
	      f);
}

static int usage_error(const char *fmt, const char *arg)
{
	fputs(PROG ": ", stderr);
	fprintf(stderr, fmt, arg);
	fputs(" (see magslab report --help)\n", stderr);
	return 2;
}

static int fail(const char *msg)
{
	fprintf(stderr, PROG ": %s\n", msg);
	return 1;
}

/* The gnuplot program to run: $MAGSLAB_GNUPLOT or `gnuplot`, found in PATH. */
int report_find_gnuplot(char *out, size_t len)
{
	const char *prog = getenv("MAGSLAB_GNUPLOT");

	return fe_find_program(prog && *prog ? prog : "gnuplot", out, len);
}

/* ---- gnuplot ------------------------------------------------------------------------- */

struct outputs {
	char **name;
	size_t n;
};

static void outputs_add(struct outputs *o, const char *s, size_t len)
{
	char **v = realloc(o->name, (o->n + 1) * sizeof(*v));
	char *c = malloc(len + 1);

	if (!v || !c) {
		fputs(PROG ": out of memory\n", stderr);
		exit(1);
	}
	memcpy(c, s, len);
	c[len] = '\0';
	o->name = v;
	o->name[o->n++] = c;
}

static void outputs_free(struct outputs *o)
{
	size_t i;

	for (i = 0; i < o->n; i++)
		free(o->name[i]);
	free(o->name);
	o->name = NULL;
	o->n = 0;
}

/*
 * The files a gnuplot script writes: the quoted names of its `set output` (`set out`,
 * `set outp`...) commands.  None found: NAME.png and NAME.svg.
 */
static int script_outputs(const char *dir, const char *script, struct outputs *o)
{
	char path[PATH_MAX], line[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, script);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *w, *q;
		size_t wl;

		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, "set", 3) != 0 || (p[3] != ' ' && p[3] != '\t'))
			continue;
		p += 3;
		while (*p == ' ' || *p == '\t')
			p++;
		w = p;
		while (*p && *p != ' ' && *p != '\t')
			p++;
		wl = (size_t)(p - w);
		if (wl < 3 || wl > 6 || strncmp(w, "output", wl) != 0)
			continue;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '"' && *p != '\'')
			continue;
		q = strchr(p + 1, *p);
		if (q && q > p + 1)
			outputs_add(o, p + 1, (size_t)(q - p - 1));
	}
	fclose(f);
	if (o->n == 0) {
		size_t base = strlen(script) - 3; /* without .gp */
		char name[PATH_MAX];

		snprintf(name, sizeof(name), "%.*s.png", (int)base, script);
		outputs_add(o, name, strlen(name));
		snprintf(name, sizeof(name), "%.*s.svg", (int)base, script);
		outputs_add(o, name, strlen(name));
	}
	return 0;
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

/* Runs `gnuplot script` in dir.  0, or -1 with the reason in err. */
static int run_gnuplot(const char *gnuplot, const char *dir, const char *script, char *err,
		       size_t errlen)
{
	int pfd[2], status;
	pid_t pid;
	char out[16384];
	size_t n = 0;
	ssize_t r;

	if (pipe(pfd) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		close(pfd[0]);
		if (null >= 0) {
			dup2(null, STDIN_FILENO);
			dup2(null, STDOUT_FILENO);
		}
		dup2(pfd[1], STDERR_FILENO);
		if (chdir(dir) != 0) {
			fprintf(stderr, "cannot enter %s: %s\n", dir, strerror(errno));
			_exit(127);
		}
		execlp(gnuplot, gnuplot, script, (char *)NULL);
		fprintf(stderr, "cannot run %s: %s\n", gnuplot, strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	for (;;) {
		char tmp[4096];

		r = read(pfd[0], tmp, sizeof(tmp));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		/* Keep the last part: gnuplot's error is at the end. */
		if (n + (size_t)r > sizeof(out) - 1) {
			size_t drop = n + (size_t)r - (sizeof(out) - 1);

			memmove(out, out + drop, n - drop);
			n -= drop;
		}
		memcpy(out + n, tmp, (size_t)r);
		n += (size_t)r;
	}
	out[n] = '\0';
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			snprintf(err, errlen, "waitpid: %s", strerror(errno));
			return -1;
		}
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	{
		char line[1024];

		last_line(out, line, sizeof(line));
		if (WIFEXITED(status))
			snprintf(err, errlen, "gnuplot %s failed (exit status %d)%s%s", script,
				 WEXITSTATUS(status), line[0] ? ": " : "", line);
		else
			snprintf(err, errlen, "gnuplot %s was killed by signal %d%s%s", script,
				 WTERMSIG(status), line[0] ? ": " : "", line);
	}
	return -1;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Runs every *.gp of dir written since `since` (scripts of an earlier report left in the
 * directory are not run), checks that each wrote a PNG and an SVG.  Returns the number of
 * scripts run, or -1 with err.
 */
int report_render_plots(const char *gnuplot, const char *dir, time_t since, char *err,
			size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **scripts = NULL;
	size_t n = 0, i, k;
	int failed = 0;

	if (!d) {
		snprintf(err, errlen, "cannot read %s: %s", dir, strerror(errno));
		return -1;
	}
	while ((de = readdir(d))) {
		char path[PATH_MAX];
		struct stat sb;
		char **v;

		if (!ends_with(de->d_name, ".gp") || strlen(de->d_name) <= 3)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode) || sb.st_mtime < since)
			continue;
		v = realloc(scripts, (n + 1) * sizeof(*v));
		if (!v || !(v[n] = strdup(de->d_name))) {
			fputs(PROG ": out of memory\n", stderr);
			exit(1);
		}
		scripts = v;
		n++;
	}
	closedir(d);
	qsort(scripts, n, sizeof(*scripts), cmp_str);

	/* Every script runs (the plots that can be made are made); the first failure is told. */
	for (i = 0; i < n; i++) {
		struct outputs o = { NULL, 0 };
		bool png = false, svg = false;
		char why[MG_ERRLEN] = "";

		if (script_outputs(dir, scripts[i], &o) != 0) {
			snprintf(why, sizeof(why), "cannot read %s/%s: %s", dir, scripts[i],
				 strerror(errno));
		} else {
			for (k = 0; k < o.n; k++) {
				char path[PATH_MAX];

				snprintf(path, sizeof(path), "%s/%s", dir, o.name[k]);
				unlink(path); /* so that an old plot cannot pass for a new one */
			}
			run_gnuplot(gnuplot, dir, scripts[i], why, sizeof(why));
		}
		for (k = 0; k < o.n && !why[0]; k++) {
			char path[PATH_MAX];
			struct stat sb;

			snprintf(path, sizeof(path), "%s/%s", dir, o.name[k]);
			if (stat(path, &sb) != 0 || sb.st_size == 0)
				snprintf(why, sizeof(why), "gnuplot %s did not write %s", scripts[i],
					 o.name[k]);
			png |= ends_with(o.name[k], ".png");
			svg |= ends_with(o.name[k], ".svg");
		}
		if (!why[0] && (!png || !svg))
			snprintf(why, sizeof(why), "gnuplot %s writes no %s plot", scripts[i],
				 png ? "SVG" : "PNG");
		if (why[0] && failed++ == 0)
			snprintf(err, errlen, "%s", why);
		outputs_free(&o);
	}
	if (failed > 1) {
		size_t l = strlen(err);

		snprintf(err + l, errlen - l, " (and %d more of the %zu scripts failed)",
			 failed - 1, n);
	}
	for (i = 0; i < n; i++)
		free(scripts[i]);
	free(scripts);
	return failed ? -1 : (int)n;
}

/* Prints the first lines of path on stdout (and how many more there are). */
static void print_head(const char *path, int lines)
{
	FILE *f = fopen(path, "r");
	char buf[4096];
	int n = 0, more = 0;

	if (!f)
		return;
	while (fgets(buf, sizeof(buf), f)) {
		bool whole = strchr(buf, '\n') != NULL;

		if (n < lines)
			fputs(buf, stdout);
		else if (whole)
			more++;
		if (whole)
			n++;
	}
	if (n < lines && n > 0 && !feof(f))
		putchar('\n');
	fclose(f);
	if (more)
		printf("... (%d more lines in %s)\n", more, path);
}

/* ---- several hosts ------------------------------------------------------------------- */

/*
 * With traces of more than one host, a report per host is made besides the merged one:
 * OUTDIR/hosts/HOST/ (the same files as OUTDIR, plots rendered), by running the graph
 * again on that host's traces only; OUTDIR/hosts.txt and hosts.json tabulate the hosts
 * (from each host's summary.json); index.html of OUTDIR gets a "Hosts" section linking
 * each host's report, and each host's index.html a line linking back.  The merged report
 * keeps the processes of different hosts apart without help: the sink keys a process by
 * (trace, vpid), and two hosts never share a trace.
 */

/* Directory names under OUTDIR/hosts are at most this long (with a "-N" suffix). */
#define HOST_DIR_MAX 80

struct host {
	char *name;           /* the traces' `hostname`; NULL: none (shown as "unknown") */
	char dir[HOST_DIR_MAX + 16]; /* its directory name under OUTDIR/hosts */
	struct mg_inputs in;  /* its sources: copies of the merged inputs' (not owned) */
	bool done;            /* its report was written */
	char why[MG_ERRLEN];  /* else why not (empty: not attempted) */
	uint64_t events;      /* events its graph saw */
	int nplots;           /* plots rendered */
	json_t *summary;      /* its summary.json, when done */
};

struct hosts {
	struct host *h;
	size_t n;
};

static const char *host_label(const struct host *h)
{
	return h->name ? h->name : "unknown";
}

static void hosts_free(struct hosts *hs)
{
	size_t i;

	for (i = 0; i < hs->n; i++) {
		free(hs->h[i].name);
		free(hs->h[i].in.src); /* the sources themselves belong to the merged inputs */
		json_decref(hs->h[i].summary);
	}
	free(hs->h);
	hs->h = NULL;
	hs->n = 0;
}

static void *xrealloc(void *p, size_t size)
{
	p = realloc(p, size ? size : 1);
	if (!p) {
		fputs(PROG ": out of memory\n", stderr);
		exit(1);
	}
	return p;
}

/* NULL (no hostname) sorts last; otherwise by name. */
static int cmp_host(const void *a, const void *b)
{
	const struct host *x = a, *y = b;

	if (!x->name || !y->name)
		return !x->name - !y->name;
	return strcmp(x->name, y->name);
}

/*
 * A directory name for host name: its letters, digits, '.', '-' and '_', anything else
 * as '_' (no '/', no "." or ".."), at most HOST_DIR_MAX bytes; "unknown" for NULL.
 */
static void host_dirname(const char *name, char *out, size_t len)
{
	size_t o = 0;
	const char *s = name ? name : "unknown";

	for (; *s && o < HOST_DIR_MAX && o + 1 < len; s++) {
		char c = *s;

		out[o++] = ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			    c == '-' || c == '_' || c == '.')
				   ? c
				   : '_';
	}
	out[o] = '\0';
	if (out[0] == '.')
		out[0] = '_';
}

/*
 * Groups the sources of in by host (mg_source_hostname): hosts sorted by name, the one
 * without a hostname last; each gets a distinct directory name.  0, or -1 with err.
 */
static int group_hosts(const struct mg_plugins *p, const struct mg_inputs *in,
		       bt_logging_level log_level, struct hosts *hs, char *err, size_t errlen)
{
	size_t i, j, k;

	memset(hs, 0, sizeof(*hs));
	for (i = 0; i < in->n; i++) {
		const struct mg_source *s = &in->src[i];
		struct host *h = NULL;
		char *name;

		if (mg_source_hostname(p, s, log_level, &name, err, errlen) != 0) {
			hosts_free(hs);
			return -1;
		}
		if (name && !*name) {
			free(name); /* an empty hostname says nothing either */
			name = NULL;
		}
		for (j = 0; j < hs->n && !h; j++)
			if ((!name && !hs->h[j].name) ||
			    (name && hs->h[j].name && strcmp(name, hs->h[j].name) == 0))
				h = &hs->h[j];
		if (h) {
			free(name);
		} else {
			hs->h = xrealloc(hs->h, (hs->n + 1) * sizeof(*hs->h));
			h = &hs->h[hs->n++];
			memset(h, 0, sizeof(*h));
			h->name = name;
		}
		h->in.src = xrealloc(h->in.src, (h->in.n + 1) * sizeof(*h->in.src));
		h->in.src[h->in.n++] = *s;
		h->in.ndirs += s->ndirs;
		h->in.nlive += s->live;
	}
	qsort(hs->h, hs->n, sizeof(*hs->h), cmp_host);
	for (i = 0; i < hs->n; i++) {
		char base[HOST_DIR_MAX + 1];
		bool clash;

		host_dirname(hs->h[i].name, base, sizeof(base));
		snprintf(hs->h[i].dir, sizeof(hs->h[i].dir), "%s", base);
		/* Two names that map to one directory name: "-2", "-3"... */
		for (k = 2;; k++) {
			clash = false;
			for (j = 0; j < i && !clash; j++)
				clash = strcmp(hs->h[j].dir, hs->h[i].dir) == 0;
			if (!clash)
				break;
			snprintf(hs->h[i].dir, sizeof(hs->h[i].dir), "%s-%zu", base, k);
		}
	}
	return 0;
}

/* The integer at root.a.b (b may be NULL), or -1. */
static long long jint(const json_t *root, const char *a, const char *b)
{
	const json_t *v = json_object_get(root, a);

	if (b)
		v = json_object_get(v, b);
	return json_is_integer(v) ? (long long)json_integer_value(v) : -1;
}

/* The length of the array root.a, or -1. */
static long long jlen(const json_t *root, const char *a)
{
	const json_t *v = json_object_get(root, a);

	return json_is_array(v) ? (long long)json_array_size(v) : -1;
}

/* The columns of hosts.txt and hosts.json, read from a summary.json. */
static const struct {
	const char *name;  /* column of hosts.txt, key of hosts.json */
	const char *a, *b; /* where in summary.json (b NULL and `len`: the array's length) */
	bool len;
} host_cols[] = {
	{ "events", "trace", "events", false },
	{ "magslab_events", "trace", "magslab_events", false },
	{ "caches", "caches", NULL, true },
	{ "arenas", "arenas", NULL, true },
	{ "discarded_events", "discarded", "events", false },
	{ "discarded_packets", "discarded", "packets", false },
};
#define NR_HOST_COLS (sizeof(host_cols) / sizeof(host_cols[0]))

static long long host_col(const json_t *summary, size_t c)
{
	if (!summary)
		return -1;
	return host_cols[c].len ? jlen(summary, host_cols[c].a)
				: jint(summary, host_cols[c].a, host_cols[c].b);
}

/* Writes text to dir/name through a temporary file renamed in place.  0 or -1 (err). */
static int write_file(const char *dir, const char *name, const char *text, size_t len,
		      char *err, size_t errlen)
{
	char path[PATH_MAX], tmp[PATH_MAX + 16];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f) {
		snprintf(err, errlen, "cannot write %.1024s: %s", tmp, strerror(errno));
		return -1;
	}
	if (fwrite(text, 1, len, f) != len) {
		snprintf(err, errlen, "cannot write %.1024s: %s", tmp, strerror(errno));
		fclose(f);
		unlink(tmp);
		return -1;
	}
	if (fclose(f) != 0 || rename(tmp, path) != 0) {
		snprintf(err, errlen, "cannot write %.1024s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

/* The whole of a file, NUL-terminated (NULL with errno on failure). */
static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t n = 0, cap = 0, r;

	if (!f)
		return NULL;
	for (;;) {
		if (cap - n < 4096) {
			cap = cap ? cap * 2 : 65536;
			buf = xrealloc(buf, cap);
		}
		r = fread(buf + n, 1, cap - n - 1, f);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(f)) {
		int e = errno;

		fclose(f);
		free(buf);
		errno = e;
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/* An in-memory text being built. */
struct text {
	char *s;
	size_t n, cap;
};

static void text_add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void text_add(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int k;

	for (;;) {
		va_start(ap, fmt);
		k = vsnprintf(t->s ? t->s + t->n : NULL, t->s ? t->cap - t->n : 0, fmt, ap);
		va_end(ap);
		if (k < 0)
			return;
		if (t->s && t->n + (size_t)k < t->cap) {
			t->n += (size_t)k;
			return;
		}
		t->cap = (t->cap + (size_t)k + 1) * 2;
		t->s = xrealloc(t->s, t->cap);
		t->s[t->n] = '\0';
	}
}

static void text_html(struct text *t, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<': text_add(t, "&lt;"); break;
		case '>': text_add(t, "&gt;"); break;
		case '&': text_add(t, "&amp;"); break;
		case '"': text_add(t, "&quot;"); break;
		case '\'': text_add(t, "&#39;"); break;
		default: text_add(t, "%c", *s); break;
		}
	}
}

/*
 * Puts html into dir/index.html before its first "<h2>" (the first plot's heading: the
 * section then comes after the loss, trace and file lines), else before "</body>", else at
 * the end.  0 or -1 (err).
 */
static int html_insert(const char *dir, const char *html, char *err, size_t errlen)
{
	char path[PATH_MAX];
	size_t len, at;
	char *doc, *p;
	struct text t = { NULL, 0, 0 };
	int ret;

	snprintf(path, sizeof(path), "%s/index.html", dir);
	doc = read_file(path, &len);
	if (!doc) {
		snprintf(err, errlen, "cannot read %.1024s: %s", path, strerror(errno));
		return -1;
	}
	p = strstr(doc, "<h2>");
	if (!p)
		p = strstr(doc, "</body>");
	at = p ? (size_t)(p - doc) : len;
	text_add(&t, "%.*s%s%s", (int)at, doc, html, doc + at);
	ret = write_file(dir, "index.html", t.s, t.n, err, errlen);
	free(t.s);
	free(doc);
	return ret;
}

/* Number to a table cell: "-" when unknown. */
static void cell_num(char *buf, size_t len, long long v)
{
	if (v < 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%lld", v);
}

/* The per-host table: a row per host, then one for the merged report. */
enum { HOST_NC = 3 + NR_HOST_COLS }; /* host, traces, the counts, report */

struct host_table {
	char *(*cells)[HOST_NC];
	size_t rows;
};

static char *xstrdup_or_die(const char *s)
{
	char *d = strdup(s);

	if (!d) {
		fputs(PROG ": out of memory\n", stderr);
		exit(1);
	}
	return d;
}

/* The counts a row shows: its host's summary.json (none if its report failed). */
static const json_t *row_summary(const struct hosts *hs, size_t r, const json_t *merged)
{
	const struct host *h = r < hs->n ? &hs->h[r] : NULL;

	return h ? (h->done ? h->summary : NULL) : merged;
}

static void table_fill_row(struct host_table *tb, size_t r, const struct hosts *hs,
			   const struct mg_inputs *all, const json_t *merged)
{
	const struct host *h = r < hs->n ? &hs->h[r] : NULL;
	const json_t *sum = row_summary(hs, r, merged);
	char buf[MG_ERRLEN + 64];
	size_t c;

	tb->cells[r][0] = xstrdup_or_die(h ? host_label(h) : "(all hosts)");
	snprintf(buf, sizeof(buf), "%zu", h ? h->in.n : all->n);
	tb->cells[r][1] = xstrdup_or_die(buf);
	for (c = 0; c < NR_HOST_COLS; c++) {
		cell_num(buf, sizeof(buf), host_col(sum, c));
		tb->cells[r][2 + c] = xstrdup_or_die(buf);
	}
	if (!h)
		snprintf(buf, sizeof(buf), "index.html");
	else if (h->done)
		snprintf(buf, sizeof(buf), "hosts/%s/index.html", h->dir);
	else
		snprintf(buf, sizeof(buf), "none: %s", h->why);
	tb->cells[r][HOST_NC - 1] = xstrdup_or_die(buf);
}

static void table_build(struct host_table *tb, const struct hosts *hs,
			const struct mg_inputs *all, const json_t *merged)
{
	size_t r;

	tb->rows = hs->n + 1;
	tb->cells = calloc(tb->rows, sizeof(*tb->cells));
	if (!tb->cells) {
		fputs(PROG ": out of memory\n", stderr);
		exit(1);
	}
	for (r = 0; r < tb->rows; r++)
		table_fill_row(tb, r, hs, all, merged);
}

static void table_free(struct host_table *tb)
{
	size_t r, c;

	for (r = 0; r < tb->rows; r++)
		for (c = 0; c < HOST_NC; c++)
			free(tb->cells[r][c]);
	free(tb->cells);
}

/* hosts.txt: the table, aligned. */
static int write_hosts_txt(const char *outdir, const struct host_table *tb, size_t nhosts,
			   char *err, size_t errlen)
{
	static const char *head0[] = { "host", "traces" };
	size_t width[HOST_NC] = { 0 }, r, c;
	struct text t = { NULL, 0, 0 };
	int ret;

	width[0] = strlen(head0[0]);
	width[1] = strlen(head0[1]);
	for (c = 0; c < NR_HOST_COLS; c++)
		width[2 + c] = strlen(host_cols[c].name);
	for (r = 0; r < tb->rows; r++)
		for (c = 0; c + 1 < HOST_NC; c++)
			if (strlen(tb->cells[r][c]) > width[c])
				width[c] = strlen(tb->cells[r][c]);
	text_add(&t, "# magslab report: traces of %zu hosts. index.html is the merged report "
		     "(every trace);\n# hosts/HOST/index.html the report of one host's traces. "
		     "Counts from each summary.json.\n",
		 nhosts);
	text_add(&t, "%-*s  %*s", (int)width[0], head0[0], (int)width[1], head0[1]);
	for (c = 0; c < NR_HOST_COLS; c++)
		text_add(&t, "  %*s", (int)width[2 + c], host_cols[c].name);
	text_add(&t, "  report\n");
	for (r = 0; r < tb->rows; r++) {
		text_add(&t, "%-*s", (int)width[0], tb->cells[r][0]);
		for (c = 1; c + 1 < HOST_NC; c++)
			text_add(&t, "  %*s", (int)width[c], tb->cells[r][c]);
		text_add(&t, "  %s\n", tb->cells[r][HOST_NC - 1]);
	}
	ret = write_file(outdir, "hosts.txt", t.s, t.n, err, errlen);
	free(t.s);
	return ret;
}

/* One row of hosts.json: counts, inputs, and where its report is. */
static json_t *host_json(const struct host *h, const struct mg_inputs *in, const json_t *sum)
{
	json_t *o = json_object(), *dirs = json_array();
	char buf[HOST_DIR_MAX + 64];
	size_t i, j, c;

	if (h) {
		json_object_set_new(o, "host", json_string(host_label(h)));
		json_object_set_new(o, "hostname", h->name ? json_string(h->name) : json_null());
		snprintf(buf, sizeof(buf), "hosts/%s", h->dir);
		json_object_set_new(o, "dir", json_string(buf));
	}
	json_object_set_new(o, "traces", json_integer((json_int_t)in->n));
	for (i = 0; i < in->n; i++) {
		if (in->src[i].live)
			json_array_append_new(dirs, json_string(in->src[i].url));
		for (j = 0; j < in->src[i].ndirs; j++)
			json_array_append_new(dirs, json_string(in->src[i].dirs[j]));
	}
	json_object_set_new(o, "inputs", dirs);
	for (c = 0; c < NR_HOST_COLS; c++) {
		long long v = host_col(sum, c);

		json_object_set_new(o, host_cols[c].name,
				    v < 0 ? json_null() : json_integer((json_int_t)v));
	}
	if (!h) {
		json_object_set_new(o, "report", json_string("index.html"));
		return o;
	}
	snprintf(buf, sizeof(buf), "hosts/%s/index.html", h->dir);
	json_object_set_new(o, "report", h->done ? json_string(buf) : json_null());
	json_object_set_new(o, "error", h->done ? json_null() : json_string(h->why));
	return o;
}

/* hosts.json: the same table, and each host's trace directories. */
static int write_hosts_json(const char *outdir, const struct hosts *hs,
			    const struct mg_inputs *all, const json_t *merged, char *err,
			    size_t errlen)
{
	json_t *root = json_object(), *arr = json_array();
	size_t r, n;
	char *js;
	int ret;

	json_object_set_new(root, "format", json_string("magslab-hosts/1"));
	json_object_set_new(root, "hosts", arr);
	for (r = 0; r < hs->n; r++)
		json_array_append_new(arr, host_json(&hs->h[r], &hs->h[r].in,
						     row_summary(hs, r, merged)));
	json_object_set_new(root, "merged", host_json(NULL, all, merged));
	js = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!js) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	n = strlen(js);
	js[n] = '\n'; /* the NUL goes: the length is given */
	ret = write_file(outdir, "hosts.json", js, n + 1, err, errlen);
	free(js);
	return ret;
}

/* One row of the Hosts section: the host (a link to its report), counts, report. */
static void html_host_row(struct text *t, const struct host_table *tb, size_t r,
			  const struct hosts *hs)
{
	const struct host *h = r < hs->n ? &hs->h[r] : NULL;
	size_t c;

	text_add(t, "<tr><td>");
	if (h && h->done) {
		text_add(t, "<a href=\"hosts/%s/index.html\">", h->dir);
		text_html(t, host_label(h));
		text_add(t, "</a>");
	} else {
		text_html(t, tb->cells[r][0]);
	}
	text_add(t, "</td>");
	for (c = 1; c + 1 < HOST_NC; c++)
		text_add(t, "<td class=\"n\">%s</td>", tb->cells[r][c]);
	if (h && h->done) {
		text_add(t, "<td><a href=\"hosts/%s/index.html\">hosts/%s/index.html</a></td>",
			 h->dir, h->dir);
	} else if (h) {
		text_add(t, "<td>none: ");
		text_html(t, h->why);
		text_add(t, "</td>");
	} else {
		text_add(t, "<td>this page</td>");
	}
	text_add(t, "</tr>\n");
}

/* The Hosts section of the merged index.html. */
static int write_hosts_html(const char *outdir, const struct host_table *tb,
			    const struct hosts *hs, char *err, size_t errlen)
{
	struct text t = { NULL, 0, 0 };
	size_t r, c;
	int ret;

	text_add(&t, "<h2 id=\"hosts\">Hosts</h2>\n<p>This report merges the traces of %zu hosts; "
		     "each host also has a report of its own traces "
		     "(<a href=\"hosts.txt\">hosts.txt</a>, <a href=\"hosts.json\">hosts.json</a>)."
		     "</p>\n<table>\n<tr><th>host</th><th>traces</th>",
		 hs->n);
	for (c = 0; c < NR_HOST_COLS; c++)
		text_add(&t, "<th>%s</th>", host_cols[c].name);
	text_add(&t, "<th>report</th></tr>\n");
	for (r = 0; r < tb->rows; r++)
		html_host_row(&t, tb, r, hs);
	text_add(&t, "</table>\n");
	ret = html_insert(outdir, t.s, err, errlen);
	free(t.s);
	return ret;
}

/* Each host's index.html: which host, and the way back to the merged report. */
static int write_back_links(const char *outdir, const struct hosts *hs, char *err,
			    size_t errlen)
{
	size_t r;

	for (r = 0; r < hs->n; r++) {
		const struct host *h = &hs->h[r];
		struct text t = { NULL, 0, 0 };
		char dir[PATH_MAX];
		int ret;

		if (!h->done)
			continue;
		text_add(&t, "<p id=\"host\">Host <b>");
		text_html(&t, host_label(h));
		text_add(&t, "</b>: the report of this host's %zu trace%s only, one of %zu hosts; "
			     "<a href=\"../../index.html\">the merged report of every host</a>.</p>\n",
			 h->in.n, h->in.n == 1 ? "" : "s", hs->n);
		snprintf(dir, sizeof(dir), "%s/hosts/%s", outdir, h->dir);
		ret = html_insert(dir, t.s, err, errlen);
		free(t.s);
		if (ret != 0)
			return -1;
	}
	return 0;
}

/*
 * hosts.txt, hosts.json, the Hosts section of OUTDIR/index.html and the back link of each
 * host's index.html.  merged: OUTDIR's summary.json.  0 or -1 (err).
 */
static int write_hosts(const char *outdir, const struct hosts *hs, const struct mg_inputs *all,
		       const json_t *merged, char *err, size_t errlen)
{
	struct host_table tb;
	int ret;

	table_build(&tb, hs, all, merged);
	ret = write_hosts_txt(outdir, &tb, hs->n, err, errlen);
	if (ret == 0)
		ret = write_hosts_json(outdir, hs, all, merged, err, errlen);
	if (ret == 0)
		ret = write_hosts_html(outdir, &tb, hs, err, errlen);
	if (ret == 0)
		ret = write_back_links(outdir, hs, err, errlen);
	table_free(&tb);
	return ret;
}

/* ---- the subcommand ------------------------------------------------------------------ */

/* What every graph run of one `magslab report` shares. */
struct run_cfg {
	const struct mg_plugins *plugins;
	const bt_component_class_sink *sink;
	bool custom_sink, quiet, verbose;
	unsigned long long bucket; /* 0: the sink's default */
	double read_s;             /* time spent running graphs so far */
};

/* The sink's `damage` parameter: every finding of tc_check_streams() for the sources of in. */
static int damage_param(bt_value *params, const struct mg_inputs *in)
{
	bt_value *arr = NULL;
	size_t i, k;

	for (i = 0; i < in->n; i++)
		for (k = 0; k < in->src[i].damage.n; k++) {
			if (!arr && bt_value_map_insert_empty_array_entry(params, "damage", &arr) !=
					    BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK)
				return -1;
			if (bt_value_array_append_string_element(arr, in->src[i].damage.msg[k]) !=
			    BT_VALUE_ARRAY_APPEND_ELEMENT_STATUS_OK)
				return -1;
		}
	return 0;
}

/* The first damage finding of in's sources, or NULL. */
static const char *first_damage(const struct mg_inputs *in)
{
	size_t i;

	for (i = 0; i < in->n; i++)
		if (in->src[i].damage.n)
			return in->src[i].damage.msg[0];
	return NULL;
}

/* A trace that cannot be read and whose files are damaged: the damage first, in err. */
static void prefix_damage(const struct mg_inputs *in, char *err, size_t errlen)
{
	char why[MG_ERRLEN];

	if (!first_damage(in))
		return;
	snprintf(why, sizeof(why), "%s", err);
	snprintf(err, errlen, "damaged trace (%.900s): %.1000s", first_damage(in), why);
}

/*
 * Builds and runs the graph of in with the sink (output-dir outdir, unless a custom sink),
 * destroys it (the sink writes its files then).  events: what went through it.  A run that
 * fails on a trace whose files are damaged says so first.
 */
static enum mg_run_status run_graph(struct run_cfg *rc, const struct mg_inputs *in,
				    const char *outdir, const char *prog, uint64_t *events,
				    char *err, size_t errlen)
{
	bt_value *params = NULL;
	struct mg_graph *graph = NULL;
	struct mg_run_opts ro;
	enum mg_run_status rs;
	struct timespec t0, t1;

	*events = 0;
	if (!rc->custom_sink) {
		params = bt_value_map_create();
		if (!params ||
		    bt_value_map_insert_string_entry(params, "output-dir", outdir) !=
			    BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK ||
		    (rc->bucket &&
		     bt_value_map_insert_unsigned_integer_entry(params, "bucket-ms", rc->bucket) !=
			     BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK) ||
		    damage_param(params, in) != 0) {
			snprintf(err, errlen, "out of memory");
			bt_value_put_ref(params);
			return MG_RUN_ERROR;
		}
	}
	if (mg_graph_build(rc->plugins, in, rc->sink, rc->custom_sink ? "sink" : "report", params,
			   rc->verbose ? BT_LOGGING_LEVEL_WARNING : BT_LOGGING_LEVEL_NONE, &graph,
			   err, errlen) != 0) {
		bt_value_put_ref(params);
		prefix_damage(in, err, errlen);
		return MG_RUN_ERROR;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	ro.prog = prog;
	ro.quiet = rc->quiet;
	ro.verbose = rc->verbose;
	rs = mg_graph_run(graph, &ro, err, errlen);
	*events = mg_graph_events(graph);
	/* The sink finishes its files when it is finalized, with the graph. */
	mg_graph_destroy(graph);
	bt_value_put_ref(params);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	rc->read_s += (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
	if (rs == MG_RUN_ERROR)
		prefix_damage(in, err, errlen);
	/*
	 * After a failed run, a failure in the sink's finalization comes after the run's own
	 * error; after a good one, finalization cannot fail: drop anything either left.
	 */
	bt_current_thread_clear_error();
	return rs;
}

/* The sink wrote summary.json, summary.txt and index.html into dir in this run. */
static int check_written(const char *dir, time_t since, char *err, size_t errlen)
{
	static const char *const needed[] = { "summary.json", "summary.txt", "index.html" };
	char path[PATH_MAX + 64];
	size_t k;

	for (k = 0; k < sizeof(needed) / sizeof(needed[0]); k++) {
		struct stat sb;

		snprintf(path, sizeof(path), "%s/%s", dir, needed[k]);
		if (stat(path, &sb) != 0 || sb.st_mtime < since) {
			snprintf(err, errlen, "the report sink wrote no %.1024s", path);
			return -1;
		}
	}
	return 0;
}

/*
 * The report of host h into OUTDIR/hosts/DIR.  0: done, or the host has no report (its
 * graph failed: h->why says why, a warning on stderr); 130 interrupted; -1 failure (err).
 */
static int host_report(struct run_cfg *rc, struct host *h, const char *outdir, bool plots,
		       const char *gnuplot, time_t since, char *err, size_t errlen)
{
	char dir[PATH_MAX], path[PATH_MAX + 64], prog[HOST_DIR_MAX + 64];
	json_error_t je;
	enum mg_run_status rs;
	struct stat sb;
	bool created;

	snprintf(dir, sizeof(dir), "%s/hosts/%s", outdir, h->dir);
	created = stat(dir, &sb) != 0;
	if (fe_mkdir_p(dir) != 0) {
		snprintf(err, errlen, "cannot create the output directory %.1024s: %s", dir,
			 strerror(errno));
		return -1;
	}
	snprintf(prog, sizeof(prog), PROG " (host %s)", h->dir);
	rs = run_graph(rc, &h->in, dir, prog, &h->events, h->why, sizeof(h->why));
	if (rs == MG_RUN_INTERRUPTED) {
		snprintf(err, errlen, "%s", h->why);
		return 130;
	}
	if (rs != MG_RUN_OK) {
		/* The merged report read these traces: the sink refused them (no magslab event). */
		fprintf(stderr, PROG ": warning: host %s: no report: %s\n", host_label(h), h->why);
		if (created)
			rmdir(dir);
		return 0;
	}
	if (check_written(dir, since, err, errlen) != 0)
		return -1;
	if (plots) {
		h->nplots = report_render_plots(gnuplot, dir, since, err, errlen);
		if (h->nplots < 0)
			return -1;
	}
	snprintf(path, sizeof(path), "%s/summary.json", dir);
	h->summary = json_load_file(path, 0, &je);
	if (!h->summary) {
		snprintf(err, errlen, "cannot read %.1024s: %.200s", path, je.text);
		return -1;
	}
	h->done = true;
	return 0;
}

enum { OPT_BUCKET = 256, OPT_NO_PLOTS };

/* The options of one `magslab report`. */
struct report_opts {
	const char *outdir;
	const char *sink_spec;     /* SINK_CLASS, or $MAGSLAB_REPORT_SINK */
	unsigned long long bucket; /* 0: the sink's default */
	bool plots, quiet, verbose, custom_sink;
	int first_trace;           /* argv index of the first TRACE */
};

/* Parses argv into o; -1 to go on, else the exit status. */
static int parse_report_options(int argc, char **argv, struct report_opts *o)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "bucket", required_argument, NULL, OPT_BUCKET },
		{ "no-plots", no_argument, NULL, OPT_NO_PLOTS },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":o:qvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (!*optarg)
				return usage_error("-o: empty directory name%s", "");
			o->outdir = optarg;
			break;
		case OPT_BUCKET:
			if (fe_parse_bucket(optarg, &o->bucket))
				return usage_error("--bucket: '%s' is not a whole number of "
						   "milliseconds from 1 to 3600000",
						   optarg);
			break;
		case OPT_NO_PLOTS:
			o->plots = false;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			report_usage(stdout);
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
		return usage_error("no TRACE given%s", "");
	o->first_trace = optind;
	if (o->custom_sink)
		o->plots = false;
	return -1;
}

/*
 * The cheap checks, before any trace is read: the trace paths exist, gnuplot is there,
 * OUTDIR can be made (*created: it did not exist).  0, or 1 with the message printed.
 */
static int check_before_reading(int argc, char **argv, const struct report_opts *o,
				char *gnuplot, char *absout, bool *created)
{
	char err[MG_ERRLEN];
	struct stat sb;
	int i;

	for (i = o->first_trace; i < argc; i++) {
		if (mg_is_live_url(argv[i]))
			continue;
		if (stat(argv[i], &sb) != 0) {
			snprintf(err, sizeof(err), "%s: %s", argv[i], strerror(errno));
			return fail(err);
		}
	}
	if (o->plots && report_find_gnuplot(gnuplot, PATH_MAX) != 0) {
		snprintf(err, sizeof(err),
			 "%.1024s not found: install gnuplot (gnuplot-qt), or use --no-plots",
			 gnuplot);
		return fail(err);
	}
	if (o->custom_sink)
		return 0;
	*created = stat(o->outdir, &sb) != 0;
	if (fe_mkdir_p(o->outdir) != 0) {
		snprintf(err, sizeof(err), "cannot create the output directory %s: %s", o->outdir,
			 strerror(errno));
		return fail(err);
	}
	if (!realpath(o->outdir, absout))
		snprintf(absout, PATH_MAX, "%s", o->outdir);
	return 0;
}

/*
 * Several hosts: the traces grouped by host, for a report per host.  One trace is one
 * host: nothing to ask.  A live session cannot be read a second time (and has one viewer
 * at a time): merged report only.  hosts->n stays 0 when there is one host.
 */
static int find_hosts(const struct mg_plugins *plugins, const struct mg_inputs *inputs,
		      bt_logging_level log_level, struct hosts *hosts, char *err, size_t errlen)
{
	if (inputs->n < 2)
		return 0;
	if (group_hosts(plugins, inputs, log_level, hosts, err, errlen) != 0)
		return -1;
	if (hosts->n > 1 && inputs->nlive) {
		fprintf(stderr,
			PROG ": note: the traces are of %zu hosts, but a live session cannot be "
			     "read twice: no per-host reports, only the merged one\n",
			hosts->n);
		hosts_free(hosts);
	} else if (hosts->n < 2) {
		hosts_free(hosts);
	}
	return 0;
}

/*
 * The per-host reports (plots included) and the host table; with one host, the table of
 * an earlier report is removed (it would be stale).  0, 130 interrupted, or 1 with err.
 */
static int report_hosts(struct run_cfg *rc, struct hosts *hosts, const struct mg_inputs *in,
			const struct report_opts *o, const char *gnuplot, time_t since,
			int *host_plots, char *err, size_t errlen)
{
	char path[PATH_MAX + 64];
	json_error_t je;
	json_t *merged;
	size_t k;
	int r;

	if (!hosts->n) {
		snprintf(path, sizeof(path), "%s/hosts.txt", o->outdir);
		unlink(path);
		snprintf(path, sizeof(path), "%s/hosts.json", o->outdir);
		unlink(path);
		return 0;
	}
	for (k = 0; k < hosts->n; k++) {
		r = host_report(rc, &hosts->h[k], o->outdir, o->plots, gnuplot, since, err, errlen);
		if (r != 0)
			return r == 130 ? 130 : 1;
		*host_plots += hosts->h[k].nplots;
	}
	snprintf(path, sizeof(path), "%s/summary.json", o->outdir);
	merged = json_load_file(path, 0, &je);
	if (!merged) {
		snprintf(err, errlen, "cannot read %.1024s: %.200s", path, je.text);
		return 1;
	}
	r = write_hosts(o->outdir, hosts, in, merged, err, errlen);
	json_decref(merged);
	return r ? 1 : 0;
}

static void print_hosts(const struct hosts *hosts, const char *absout)
{
	size_t w = 0, k;

	for (k = 0; k < hosts->n; k++)
		if (strlen(host_label(&hosts->h[k])) > w)
			w = strlen(host_label(&hosts->h[k]));
	printf("hosts:   %zu hosts (table: %s/hosts.txt)\n", hosts->n, absout);
	for (k = 0; k < hosts->n; k++) {
		const struct host *h = &hosts->h[k];

		if (h->done)
			printf("  %-*s  %llu events from %zu trace%s: %s/hosts/%s/index.html\n",
			       (int)w, host_label(h), (unsigned long long)h->events, h->in.n,
			       h->in.n == 1 ? "" : "s", absout, h->dir);
		else
			printf("  %-*s  no report: %s\n", (int)w, host_label(h), h->why);
	}
}

/* What was read and written, then the head of summary.txt (stdout). */
static void print_result(const struct report_opts *o, const struct mg_inputs *in,
			 const struct hosts *hosts, const struct run_cfg *rc, uint64_t events,
			 const char *absout, int nplots, int host_plots)
{
	char path[PATH_MAX + 64];

	printf("magslab report: %llu events from %zu trace%s%s", (unsigned long long)events,
	       in->n, in->n == 1 ? "" : "s", in->nlive ? " (live)" : "");
	if (hosts->n)
		printf(" of %zu hosts", hosts->n);
	printf(" in %.1f s\n", rc->read_s);
	printf("report:  %s/index.html\n", absout);
	if (hosts->n)
		print_hosts(hosts, absout);
	if (o->plots)
		printf("plots:   %d gnuplot script%s rendered (PNG and SVG)%s", nplots,
		       nplots == 1 ? "" : "s", hosts->n ? "" : "\n");
	else
		printf("plots:   not rendered (--no-plots): run gnuplot on the *.gp scripts in "
		       "%s%s\n",
		       absout, hosts->n ? " and in each hosts/HOST/" : "");
	if (o->plots && hosts->n)
		printf(", and %d in the host reports\n", host_plots);
	printf("summary: %s/summary.txt\n\n", absout);
	snprintf(path, sizeof(path), "%s/summary.txt", absout);
	print_head(path, SUMMARY_HEAD);
	fflush(stdout);
}

/*
 * Whether the report in dir is of a damaged trace (summary.json `damage.damaged`): then a
 * warning line on stderr and REPORT_EXIT_DAMAGED, else 0.
 */
static int damaged_status(const char *dir)
{
	char path[PATH_MAX + 64];
	json_error_t je;
	json_t *sum, *d;
	int ret = 0;

	snprintf(path, sizeof(path), "%s/summary.json", dir);
	sum = json_load_file(path, 0, &je);
	d = sum ? json_object_get(sum, "damage") : NULL;
	if (json_is_true(json_object_get(d, "damaged"))) {
		json_t *first = json_array_get(json_object_get(d, "findings"), 0);

		fprintf(stderr, PROG ": WARNING: damaged trace: %s (%" JSON_INTEGER_FORMAT
			" finding%s: summary.json \"damage\"); the report's figures are not "
			"reliable\n", json_is_string(first) ? json_string_value(first) : "?",
			json_integer_value(json_object_get(d, "findings_total")),
			json_integer_value(json_object_get(d, "findings_total")) == 1 ? "" : "s");
		ret = REPORT_EXIT_DAMAGED;
	}
	json_decref(sum);
	return ret;
}

/* The graph run(s) and the outputs, once the options are checked.  Returns the status. */
static int report_traces(char **traces, size_t ntraces, const struct report_opts *o,
			 const char *gnuplot, const char *absout, char *err, size_t errlen)
{
	bt_logging_level log_level = o->verbose ? BT_LOGGING_LEVEL_WARNING : BT_LOGGING_LEVEL_NONE;
	/* Files written from here on are this run's (1 s of slack for coarse timestamps). */
	time_t since = time(NULL) - 1;
	struct mg_plugins plugins;
	struct mg_inputs inputs;
	const bt_plugin *sink_holder = NULL;
	struct hosts hosts = { NULL, 0 };
	struct run_cfg rc = { 0 };
	enum mg_run_status rs;
	uint64_t events;
	int ret = 1, nplots = 0, host_plots = 0;

	if (mg_plugins_load(&plugins, !o->custom_sink, err, errlen) != 0)
		return 1;
	if (mg_discover(&plugins, traces, ntraces, log_level, &inputs, err, errlen) != 0) {
		mg_plugins_put(&plugins);
		return 1;
	}
	rc.plugins = &plugins;
	rc.sink = mg_find_sink_class(&plugins, o->sink_spec, &sink_holder, err, errlen);
	rc.custom_sink = o->custom_sink;
	rc.quiet = o->quiet;
	rc.verbose = o->verbose;
	rc.bucket = o->bucket;
	if (!rc.sink)
		goto out;
	rs = run_graph(&rc, &inputs, o->outdir, PROG, &events, err, errlen);
	if (rs != MG_RUN_OK) {
		ret = rs == MG_RUN_INTERRUPTED ? 130 : 1;
		goto out;
	}
	if (o->custom_sink) {
		ret = 0;
		goto out;
	}
	if (check_written(o->outdir, since, err, errlen) != 0 ||
	    find_hosts(&plugins, &inputs, log_level, &hosts, err, errlen) != 0)
		goto out;
	if (o->plots) {
		nplots = report_render_plots(gnuplot, o->outdir, since, err, errlen);
		if (nplots < 0)
			goto out;
	}
	ret = report_hosts(&rc, &hosts, &inputs, o, gnuplot, since, &host_plots, err, errlen);
	if (ret == 0) {
		print_result(o, &inputs, &hosts, &rc, events, absout, nplots, host_plots);
		ret = damaged_status(o->outdir);
	}
out:
	hosts_free(&hosts);
	bt_plugin_put_ref(sink_holder);
	mg_inputs_free(&inputs);
	mg_plugins_put(&plugins);
	return ret;
}

int cmd_report(int argc, char **argv)
{
	struct report_opts o = { .outdir = DEFAULT_OUTDIR, .plots = true };
	char err[MG_ERRLEN], gnuplot[PATH_MAX], absout[PATH_MAX];
	bool created = false; /* OUTDIR did not exist: removed again if the run fails, if empty */
	int ret;

	o.sink_spec = getenv("MAGSLAB_REPORT_SINK");
	o.custom_sink = o.sink_spec && *o.sink_spec;
	if (!o.custom_sink)
		o.sink_spec = SINK_CLASS;
	ret = parse_report_options(argc, argv, &o);
	if (ret >= 0)
		return ret;
	if (check_before_reading(argc, argv, &o, gnuplot, absout, &created))
		return 1;
	err[0] = '\0';
	ret = report_traces(argv + o.first_trace, (size_t)(argc - o.first_trace), &o, gnuplot,
			    absout, err, sizeof(err));
	if (ret == 1 || ret == 130)
		fail(err[0] ? err : "interrupted");
	if (ret != 0 && created)
		rmdir(o.outdir);
	return ret;
}
