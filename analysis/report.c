/*
 * analysis/report.c — `magslab report` (see report.h).
 */
#include "report.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "graph.h"

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
	      "index.html is and shows the head of summary.txt.\n"
	      "\n"
	      "Environment: MAGSLAB_PLUGIN_PATH  directories holding the magslab plugin\n"
	      "             (default: ../lib/babeltrace2/plugins beside this program, then the\n"
	      "             installed location); MAGSLAB_GNUPLOT  the gnuplot program.\n"
	      "\n"
	      "Exit status: 0 success, 1 failure (the cause on one line of stderr), 2 bad\n"
	      "usage, 130 interrupted.\n",
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

/* mkdir -p; 0 or -1 with errno. */
static int mkdir_p(const char *path)
{
	char buf[PATH_MAX];
	size_t len = strlen(path), i;
	struct stat sb;

	if (len == 0 || len >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, len + 1);
	for (i = 1; i <= len; i++) {
		if (buf[i] != '/' && buf[i] != '\0')
			continue;
		buf[i] = '\0';
		if (mkdir(buf, 0777) != 0 && errno != EEXIST)
			return -1;
		if (stat(buf, &sb) != 0)
			return -1;
		if (!S_ISDIR(sb.st_mode)) {
			errno = ENOTDIR;
			return -1;
		}
		buf[i] = path[i];
	}
	return 0;
}

/* The gnuplot program to run: $MAGSLAB_GNUPLOT or `gnuplot`, found in PATH. */
static int find_gnuplot(char *out, size_t len)
{
	const char *prog = getenv("MAGSLAB_GNUPLOT");
	const char *path = getenv("PATH");
	char *copy, *save = NULL, *d;

	if (!prog || !*prog)
		prog = "gnuplot";
	if (strchr(prog, '/')) {
		snprintf(out, len, "%s", prog);
		return access(prog, X_OK) == 0 ? 0 : -1;
	}
	if (!path)
		path = "/usr/bin:/bin";
	copy = strdup(path);
	if (!copy)
		return -1;
	for (d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		snprintf(out, len, "%s/%s", *d ? d : ".", prog);
		if (access(out, X_OK) == 0) {
			free(copy);
			return 0;
		}
	}
	free(copy);
	snprintf(out, len, "%s", prog);
	return -1;
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
static int render_plots(const char *gnuplot, const char *dir, time_t since, char *err,
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

/* ---- the subcommand ------------------------------------------------------------------ */

enum { OPT_BUCKET = 256, OPT_NO_PLOTS };

int cmd_report(int argc, char **argv)
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
	const char *outdir = DEFAULT_OUTDIR, *sink_spec = getenv("MAGSLAB_REPORT_SINK");
	unsigned long long bucket = 0;
	bool plots = true, quiet = false, verbose = false, custom_sink;
	char err[MG_ERRLEN], gnuplot[PATH_MAX], absout[PATH_MAX], path[PATH_MAX + 64];
	struct mg_plugins plugins;
	struct mg_inputs inputs;
	struct mg_graph *graph = NULL;
	const bt_component_class_sink *sink;
	const bt_plugin *sink_holder = NULL;
	bt_value *params = NULL;
	struct mg_run_opts ro;
	enum mg_run_status rs;
	struct timespec t0, t1;
	time_t since;
	uint64_t events;
	int c, i, ret = 1, nplots = 0;
	bool created = false; /* OUTDIR did not exist: removed again if the run fails, if empty */

	custom_sink = sink_spec && *sink_spec;
	if (!custom_sink)
		sink_spec = SINK_CLASS;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":o:qvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (!*optarg)
				return usage_error("-o: empty directory name%s", "");
			outdir = optarg;
			break;
		case OPT_BUCKET: {
			char *end;

			errno = 0;
			bucket = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end || bucket == 0 || optarg[0] == '-' ||
			    bucket > 3600000ULL)
				return usage_error("--bucket: '%s' is not a whole number of "
						   "milliseconds from 1 to 3600000",
						   optarg);
			break;
		}
		case OPT_NO_PLOTS:
			plots = false;
			break;
		case 'q':
			quiet = true;
			break;
		case 'v':
			verbose = true;
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

	/* Cheap checks first: the trace paths, gnuplot, the output directory. */
	for (i = optind; i < argc; i++) {
		struct stat sb;

		if (mg_is_live_url(argv[i]))
			continue;
		if (stat(argv[i], &sb) != 0) {
			snprintf(err, sizeof(err), "%s: %s", argv[i], strerror(errno));
			return fail(err);
		}
	}
	if (custom_sink)
		plots = false;
	if (plots && find_gnuplot(gnuplot, sizeof(gnuplot)) != 0) {
		snprintf(err, sizeof(err),
			 "%.1024s not found: install gnuplot (gnuplot-nox), or use --no-plots",
			 gnuplot);
		return fail(err);
	}
	if (!custom_sink) {
		struct stat sb;

		created = stat(outdir, &sb) != 0;
		if (mkdir_p(outdir) != 0) {
			snprintf(err, sizeof(err), "cannot create the output directory %s: %s",
				 outdir, strerror(errno));
			return fail(err);
		}
		if (!realpath(outdir, absout))
			snprintf(absout, sizeof(absout), "%s", outdir);
	}

	/* Files written from here on are this run's (1 s of slack for coarse timestamps). */
	since = time(NULL) - 1;
	if (mg_plugins_load(&plugins, !custom_sink, err, sizeof(err)) != 0)
		goto early;
	if (mg_discover(&plugins, argv + optind, (size_t)(argc - optind),
			verbose ? BT_LOGGING_LEVEL_WARNING : BT_LOGGING_LEVEL_NONE, &inputs, err,
			sizeof(err)) != 0) {
		mg_plugins_put(&plugins);
		goto early;
	}
	sink = mg_find_sink_class(&plugins, sink_spec, &sink_holder, err, sizeof(err));
	if (!sink)
		goto out;

	if (!custom_sink) {
		params = bt_value_map_create();
		if (!params ||
		    bt_value_map_insert_string_entry(params, "output-dir", outdir) !=
			    BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK ||
		    (bucket && bt_value_map_insert_unsigned_integer_entry(params, "bucket-ms",
									   bucket) !=
				       BT_VALUE_MAP_INSERT_ENTRY_STATUS_OK)) {
			snprintf(err, sizeof(err), "out of memory");
			goto out;
		}
	}
	if (mg_graph_build(&plugins, &inputs, sink, custom_sink ? "sink" : "report", params,
			   verbose ? BT_LOGGING_LEVEL_WARNING : BT_LOGGING_LEVEL_NONE, &graph, err,
			   sizeof(err)) != 0)
		goto out;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	ro.prog = PROG;
	ro.quiet = quiet;
	ro.verbose = verbose;
	rs = mg_graph_run(graph, &ro, err, sizeof(err));
	events = mg_graph_events(graph);
	/* The sink finishes its files when it is finalized, with the graph. */
	mg_graph_destroy(graph);
	graph = NULL;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (rs == MG_RUN_INTERRUPTED) {
		ret = 130;
		goto out;
	}
	if (rs != MG_RUN_OK) {
		/* A failure in the sink's finalization comes after the run's own error. */
		bt_current_thread_clear_error();
		goto out;
	}
	/* Finalization cannot fail; drop anything it may have left. */
	bt_current_thread_clear_error();
	if (custom_sink) {
		ret = 0;
		goto out;
	}

	{
		static const char *const needed[] = { "summary.json", "summary.txt", "index.html" };
		size_t k;

		for (k = 0; k < sizeof(needed) / sizeof(needed[0]); k++) {
			struct stat sb;

			snprintf(path, sizeof(path), "%s/%s", outdir, needed[k]);
			if (stat(path, &sb) != 0 || sb.st_mtime < since) {
				snprintf(err, sizeof(err), "the report sink wrote no %.1024s", path);
				goto out;
			}
		}
	}
	if (plots) {
		nplots = render_plots(gnuplot, outdir, since, err, sizeof(err));
		if (nplots < 0)
			goto out;
	}

	printf("magslab report: %llu events from %zu trace%s%s in %.1f s\n",
	       (unsigned long long)events, inputs.n, inputs.n == 1 ? "" : "s",
	       inputs.nlive ? " (live)" : "",
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9);
	printf("report:  %s/index.html\n", absout);
	if (plots)
		printf("plots:   %d gnuplot script%s rendered (PNG and SVG)\n", nplots,
		       nplots == 1 ? "" : "s");
	else
		printf("plots:   not rendered (--no-plots): run gnuplot on the *.gp scripts in "
		       "%s\n",
		       absout);
	printf("summary: %s/summary.txt\n\n", absout);
	snprintf(path, sizeof(path), "%s/summary.txt", absout);
	print_head(path, SUMMARY_HEAD);
	fflush(stdout);
	ret = 0;
out:
	if (ret == 1 || ret == 130)
		fail(err);
	if (ret != 0 && created)
		rmdir(outdir);
	mg_graph_destroy(graph);
	bt_value_put_ref(params);
	bt_plugin_put_ref(sink_holder);
	mg_inputs_free(&inputs);
	mg_plugins_put(&plugins);
	return ret;
early:
	/* Before the graph: nothing to release. */
	fail(err);
	if (created)
		rmdir(outdir);
	return 1;
}
