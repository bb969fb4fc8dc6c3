/*
 * analysis/diff.c — `magslab diff A B [-o OUTDIR]` (diff.h): the options, the two inputs
 * (report directories, or traces reported here first), the caches in common, the figures
 * side by side, summary.txt and diff.json.  diff_out.c draws the overlaid plots and writes
 * index.html.
 *
 * Why by cache name: cache ids are per process and per run (two runs of one program can
 * number their caches differently); the name is what the program chose.  A name present
 * several times in one report (several processes) is compared by its first occurrence,
 * and summary.txt says so.
 *
 * Why the verdict compares sums over the common caches: "contended less" is about the
 * depot locks the two runs share (contended acquisitions), "grew less" about the magazine
 * growth (magsize bumps up); caches only one run has cannot be compared.
 *
 * No locks, no threads; every file through stdio, JSON through jansson.
 */
#include "diff.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report.h"
#include "util.h"

#define PROG "magslab diff"
#define DEFAULT_OUTDIR "magslab-diff"

const char *const diff_fig_names[DIFF_NFIG] = {
	"magsize final (rounds)", "magsize max (rounds)", "magsize bumps up",
	"magsize bumps down", "contended acquisitions", "contention wait p50 (ns)",
	"contention wait p99 (ns)", "depot gets", "depot puts", "depot misses",
	"depot magazines at the end", "depot magazines at the peak",
};

/* diff.json's keys of the figures, in the same order. */
static const char *const fig_keys[DIFF_NFIG] = {
	"magsize_final", "magsize_max", "bumps_up", "bumps_down", "contended",
	"wait_p50_ns", "wait_p99_ns", "depot_gets", "depot_puts", "depot_misses",
	"depot_magazines_end", "depot_magazines_peak",
};

void diff_usage(FILE *f)
{
	fputs("usage: magslab diff A B [-o OUTDIR] [-q]\n"
	      "\n"
	      "Two runs side by side.  A and B are report directories (written by magslab report\n"
	      "or magslab run: they hold summary.json) or traces (reported first, without plots,\n"
	      "into OUTDIR/a and OUTDIR/b).  For every cache present in both (by name): magsize\n"
	      "final and max, bumps, contended acquisitions and wait p50/p99, depot gets, puts,\n"
	      "misses and magazines, with the change from A to B; the workload's throughput when\n"
	      "both directories have workload.json (magslab run); the magsize and contention of A\n"
	      "and B overlaid on one time axis.  The first line says which run contended less and\n"
	      "grew less.\n"
	      "\n"
	      "  -o, --output OUTDIR  where the comparison goes (default ./" DEFAULT_OUTDIR "):\n"
	      "                       summary.txt, diff.json, index.html, diff-magsize.png/.svg,\n"
	      "                       diff-contention.png/.svg and the scripts that draw them\n"
	      "  -q, --quiet          only the first line on stdout\n"
	      "  -h, --help           this text\n"
	      "\n"
	      "Exit status: 0 done; 1 failure (the cause on one line of stderr); 2 bad usage, or A\n"
	      "and B have no cache in common (unrelated runs); 130 interrupted.\n",
	      f);
}

static int usage_error(const char *what, const char *arg)
{
	fprintf(stderr, PROG ": %s%s (see magslab diff --help)\n", what, arg);
	return 2;
}

/* ---- figures ---------------------------------------------------------------------------- */

/* The number at a dotted path of o; an array's elements summed; NaN if missing or null. */
static double jnum(const json_t *o, const char *path)
{
	char key[64];
	const char *dot;
	size_t i;
	double sum = 0;

	while (o && (dot = strchr(path, '.'))) {
		snprintf(key, sizeof(key), "%.*s", (int)(dot - path), path);
		o = json_object_get(o, key);
		path = dot + 1;
	}
	o = o ? json_object_get(o, path) : NULL;
	if (json_is_number(o))
		return json_number_value(o);
	if (!json_is_array(o) || json_array_size(o) == 0)
		return NAN;
	for (i = 0; i < json_array_size(o); i++)
		sum += json_number_value(json_array_get(o, i));
	return sum;
}

double diff_fig(const json_t *c, int k)
{
	static const char *const paths[DIFF_NFIG] = {
		"magsize.final", "magsize.max", "bumps.up", "bumps.down", "contention.count",
		"contention.wait_ns.p50", "contention.wait_ns.p99", "depot.gets", "depot.puts",
		"depot.misses", NULL, NULL,
	};

	if (k == 10)
		return jnum(c, "depot.final_full") + jnum(c, "depot.final_empty");
	if (k == 11)
		return jnum(c, "depot.peak_full") + jnum(c, "depot.peak_empty");
	return jnum(c, paths[k]);
}

static void num(double v, char *buf, size_t len)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else if (v == floor(v) && fabs(v) < 1e15)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.3g", v);
}

void diff_change(double a, double b, char *buf, size_t len)
{
	char d[32];

	if (isnan(a) && isnan(b))
		snprintf(buf, len, "no change");
	else if (isnan(a) || isnan(b))
		snprintf(buf, len, "%s", isnan(a) ? "none in A" : "none in B");
	else if (a == b)
		snprintf(buf, len, "no change");
	else {
		num(b - a, d, sizeof(d));
		if (a != 0)
			snprintf(buf, len, "%s%s (%+.1f%%)", b > a ? "+" : "", d, (b - a) / fabs(a) * 100);
		else
			snprintf(buf, len, "%s%s", b > a ? "+" : "", d);
	}
}

/* Bytes of the slabs of the magazine caches (kmem_magazine*) at the end: grown - released. */
static double magazine_bytes(const json_t *summary)
{
	const json_t *caches = json_object_get(summary, "caches"), *c;
	double sum = NAN;
	size_t i;

	json_array_foreach(caches, i, c) {
		const char *n = json_string_value(json_object_get(c, "name"));

		if (!n || strncmp(n, "kmem_magazine", 13) != 0)
			continue;
		if (isnan(sum))
			sum = 0;
		sum += jnum(c, "slab.bytes_grown") - jnum(c, "slab.bytes_released");
	}
	return sum;
}

/* ---- inputs ----------------------------------------------------------------------------- */

static bool is_report_dir(const char *path)
{
	char p[PATH_MAX];
	struct stat sb;

	snprintf(p, sizeof(p), "%s/summary.json", path);
	return stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* workload.json's "mops" beside the report, or -1. */
static double workload_mops(const char *dir)
{
	char p[PATH_MAX];
	json_t *j;
	double v = -1;

	snprintf(p, sizeof(p), "%s/workload.json", dir);
	j = json_load_file(p, 0, NULL);
	if (j && json_is_number(json_object_get(j, "mops")))
		v = json_number_value(json_object_get(j, "mops"));
	json_decref(j);
	return v;
}

/* report_run with its stdout (the report's summary) out of the way: diff prints its own. */
static int quiet_report(const struct report_opts *o, char *const traces[])
{
	int saved, null, r;

	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	null = open("/dev/null", O_WRONLY);
	if (saved >= 0 && null >= 0)
		dup2(null, STDOUT_FILENO);
	r = report_run(o, traces, 1);
	fflush(stdout);
	if (saved >= 0) {
		dup2(saved, STDOUT_FILENO);
		close(saved);
	}
	if (null >= 0)
		close(null);
	return r;
}

/* Side k: its report directory (a trace is reported into OUTDIR/a or /b), its summary. */
static int load_side(struct diff *d, int k)
{
	struct diff_side *s = &d->side[k];
	json_error_t je;
	struct stat sb;

	if (stat(s->input, &sb) != 0 && strncmp(s->input, "net://", 6) != 0) {
		fprintf(stderr, PROG ": %s: %s\n", s->input, strerror(errno));
		return 1;
	}
	if (is_report_dir(s->input)) {
		snprintf(s->dir, sizeof(s->dir), "%s", s->input);
	} else {
		struct report_opts o = { .plots = false, .quiet = true };
		char *const traces[] = { (char *)s->input };
		int r;

		snprintf(s->dir, sizeof(s->dir), "%s/%s", d->outdir, k ? "b" : "a");
		o.outdir = s->dir;
		if (!d->quiet)
			fprintf(stderr, PROG ": reporting %s (%s) into %s\n", s->input, k ? "B" : "A",
				s->dir);
		r = quiet_report(&o, traces);
		if (r != 0 && r != REPORT_EXIT_DAMAGED)
			return r;
		s->was_trace = true;
	}
	{
		char p[PATH_MAX + 16];

		snprintf(p, sizeof(p), "%s/summary.json", s->dir);
		s->summary = json_load_file(p, 0, &je);
		if (!s->summary || !json_is_array(json_object_get(s->summary, "caches"))) {
			fprintf(stderr, PROG ": %s: not a magslab report summary (%s)\n", p,
				s->summary ? "no caches" : je.text);
			return 1;
		}
	}
	s->mops = workload_mops(s->dir);
	return 0;
}

static bool is_internal(const json_t *c)
{
	const char *k = json_string_value(json_object_get(c, "kind"));

	return k && strcmp(k, "internal") == 0;
}

/* The first cache of summary named name (not one of the library's internal caches: every
 * run has those), or NULL. */
static json_t *cache_named(const json_t *summary, const char *name)
{
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(summary, "caches"), i, c) {
		const char *n = json_string_value(json_object_get(c, "name"));

		if (n && strcmp(n, name) == 0 && !is_internal(c))
			return c;
	}
	return NULL;
}

/* The caches in both (A's order: its most active first), and how many only one has. */
static void match_caches(struct diff *d)
{
	const json_t *ca = json_object_get(d->side[0].summary, "caches");
	json_t *c;
	size_t i, n = json_array_size(ca);

	d->common = calloc(n ? n : 1, sizeof(*d->common));
	if (!d->common)
		abort();
	json_array_foreach(ca, i, c) {
		const char *name = json_string_value(json_object_get(c, "name"));
		json_t *b = name ? cache_named(d->side[1].summary, name) : NULL;

		if (!name || cache_named(d->side[0].summary, name) != c)
			continue;	/* a second cache of that name: compared by the first */
		if (b)
			d->common[d->ncommon++] = (struct diff_cache){ name, c, b };
		else
			d->only[0]++;
	}
	json_array_foreach(json_object_get(d->side[1].summary, "caches"), i, c) {
		const char *name = json_string_value(json_object_get(c, "name"));

		if (name && cache_named(d->side[1].summary, name) == c &&
		    !cache_named(d->side[0].summary, name))
			d->only[1]++;
	}
}

/* ---- the verdict, summary.txt, diff.json ------------------------------------------------- */

static double sum_fig(const struct diff *d, int side, int k)
{
	double s = 0;

	for (size_t i = 0; i < d->ncommon; i++) {
		double v = diff_fig(side ? d->common[i].b : d->common[i].a, k);

		if (!isnan(v))
			s += v;
	}
	return s;
}

/* "B contended less (x vs y ...)" or "A and B contended equally (x ...)". */
static void compare_line(char *buf, size_t len, const char *verb, const char *what, double a,
			 double b)
{
	if (a == b)
		snprintf(buf, len, "A and B %s equally (%.0f %s)", verb, a, what);
	else
		snprintf(buf, len, "%s %s less (%.0f vs %.0f %s)", a < b ? "A" : "B", verb,
			 a < b ? a : b, a < b ? b : a, what);
}

static void make_verdict(struct diff *d)
{
	char c[200], g[200];
	double ca = sum_fig(d, 0, 4), cb = sum_fig(d, 1, 4);
	double ga = sum_fig(d, 0, 2), gb = sum_fig(d, 1, 2);

	compare_line(c, sizeof(c), "contended", "contended depot acquisitions", ca, cb);
	compare_line(g, sizeof(g), "grew", "magsize bumps up", ga, gb);
	snprintf(d->verdict, sizeof(d->verdict), "%s%s; %s (%zu caches in both)",
		 d->any_change ? "" : "no change: ", c, g, d->ncommon);
}

static void any_change(struct diff *d)
{
	d->any_change = false;
	for (size_t i = 0; i < d->ncommon; i++)
		for (int k = 0; k < DIFF_NFIG; k++) {
			double a = diff_fig(d->common[i].a, k), b = diff_fig(d->common[i].b, k);

			if (!(isnan(a) && isnan(b)) && a != b)
				d->any_change = true;
		}
	if (d->side[0].mops >= 0 && d->side[1].mops >= 0 && d->side[0].mops != d->side[1].mops)
		d->any_change = true;
	if (magazine_bytes(d->side[0].summary) != magazine_bytes(d->side[1].summary) &&
	    !(isnan(magazine_bytes(d->side[0].summary)) && isnan(magazine_bytes(d->side[1].summary))))
		d->any_change = true;
}

static void txt_row(FILE *f, const char *what, double a, double b)
{
	char sa[32], sb[32], ch[64];

	num(a, sa, sizeof(sa));
	num(b, sb, sizeof(sb));
	diff_change(a, b, ch, sizeof(ch));
	fprintf(f, "  %-30s %14s %14s  %s\n", what, sa, sb, ch);
}

static int write_summary_txt(const struct diff *d, FILE *out)
{
	char p[PATH_MAX];
	FILE *f;

	snprintf(p, sizeof(p), "%s/summary.txt", d->outdir);
	f = fopen(p, "w");
	if (!f) {
		fprintf(stderr, PROG ": cannot write %s: %s\n", p, strerror(errno));
		return 1;
	}
	fprintf(f, "%s\n\nA: %s (%s)\nB: %s (%s)\n", d->verdict, d->side[0].input,
		d->side[0].was_trace ? "trace" : "report", d->side[1].input,
		d->side[1].was_trace ? "trace" : "report");
	fprintf(f, "caches in both: %zu; only in A: %zu; only in B: %zu\n\n", d->ncommon,
		d->only[0], d->only[1]);
	fprintf(f, "run\n  %-30s %14s %14s  %s\n", "figure", "A", "B", "change");
	txt_row(f, "workload throughput (Mops/s)", d->side[0].mops < 0 ? NAN : d->side[0].mops,
		d->side[1].mops < 0 ? NAN : d->side[1].mops);
	txt_row(f, "bytes in magazine slabs (end)", magazine_bytes(d->side[0].summary),
		magazine_bytes(d->side[1].summary));
	for (size_t i = 0; i < d->ncommon; i++) {
		fprintf(f, "\ncache %s (%s)\n  %-30s %14s %14s  %s\n", d->common[i].name,
			json_string_value(json_object_get(d->common[i].a, "kind")) ?: "?", "figure",
			"A", "B", "change");
		for (int k = 0; k < DIFF_NFIG; k++)
			txt_row(f, diff_fig_names[k], diff_fig(d->common[i].a, k),
				diff_fig(d->common[i].b, k));
	}
	if (fclose(f)) {
		fprintf(stderr, PROG ": cannot write %s: %s\n", p, strerror(errno));
		return 1;
	}
	if (out)
		fprintf(out, "summary: %s\n", p);
	return 0;
}

/* {"a": A, "b": B, "change": "..."} (numbers or null). */
static json_t *jpair(double a, double b)
{
	char ch[64];

	diff_change(a, b, ch, sizeof(ch));
	return json_pack("{s:o, s:o, s:s}", "a", isnan(a) ? json_null() : json_real(a), "b",
			 isnan(b) ? json_null() : json_real(b), "change", ch);
}

static json_t *side_json(const struct diff_side *s)
{
	return json_pack("{s:s, s:s, s:s}", "input", s->input, "kind",
			 s->was_trace ? "trace" : "report", "report_dir", s->dir);
}

static int write_diff_json(const struct diff *d)
{
	json_t *root, *caches = json_array(), *run;
	char p[PATH_MAX];
	int rc;

	for (size_t i = 0; i < d->ncommon; i++) {
		json_t *figs = json_object();

		for (int k = 0; k < DIFF_NFIG; k++)
			json_object_set_new(figs, fig_keys[k], jpair(diff_fig(d->common[i].a, k),
								    diff_fig(d->common[i].b, k)));
		json_array_append_new(caches, json_pack("{s:s, s:o}", "name", d->common[i].name,
							"figures", figs));
	}
	run = json_pack("{s:o, s:o}", "mops",
			jpair(d->side[0].mops < 0 ? NAN : d->side[0].mops,
			      d->side[1].mops < 0 ? NAN : d->side[1].mops),
			"magazine_slab_bytes", jpair(magazine_bytes(d->side[0].summary),
						     magazine_bytes(d->side[1].summary)));
	root = json_pack("{s:s, s:s, s:b, s:o, s:o, s:I, s:I, s:o, s:o}", "format",
			 "magslab-diff/1", "verdict", d->verdict, "changed", d->any_change, "a",
			 side_json(&d->side[0]), "b", side_json(&d->side[1]), "only_in_a",
			 (json_int_t)d->only[0], "only_in_b", (json_int_t)d->only[1], "run", run,
			 "caches", caches);
	if (!root)
		abort();
	snprintf(p, sizeof(p), "%s/diff.json", d->outdir);
	rc = json_dump_file(root, p, JSON_INDENT(1) | JSON_REAL_PRECISION(15));
	json_decref(root);
	if (rc) {
		fprintf(stderr, PROG ": cannot write %s\n", p);
		return 1;
	}
	return 0;
}

/* ---- the command ------------------------------------------------------------------------ */

static int parse_options(int argc, char **argv, struct diff *d, int *first)
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char why[256];
	int c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":o:qh", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			if (!*optarg)
				return usage_error("-o: empty directory name", "");
			d->outdir = optarg;
			break;
		case 'q':
			d->quiet = true;
			break;
		case 'h':
			diff_usage(stdout);
			return 0;
		default:
			fe_option_error(c, argv, why, sizeof(why));
			return usage_error(why, "");
		}
	}
	if (argc - optind != 2)
		return usage_error(argc - optind < 2 ? "two inputs needed, A and B; got "
				   : "two inputs only, A and B; got more: ",
				   argc - optind < 2 ? (argc - optind ? "one" : "none")
						     : argv[optind + 2]);
	*first = optind;
	return -1;
}

static void diff_free(struct diff *d)
{
	json_decref(d->side[0].summary);
	json_decref(d->side[1].summary);
	free(d->common);
}

/* After the inputs are loaded: the comparison and every file. */
static int compare_and_write(struct diff *d)
{
	char err[1024] = "";

	size_t user = 0;

	match_caches(d);
	for (size_t i = 0; i < d->ncommon; i++)
		user += !strcmp(json_string_value(json_object_get(d->common[i].a, "kind")) ?: "", "user");
	if (user == 0) {
		/* the library's quantum caches are in every run: they do not relate two runs */
		fprintf(stderr, PROG ": A and B have no cache in common (%zu caches only in A, %zu "
			"only in B, not counting the library's own): not two runs of one program?\n",
			d->only[0], d->only[1]);
		return 2;
	}
	any_change(d);
	make_verdict(d);
	if (write_summary_txt(d, NULL) || write_diff_json(d))
		return 1;
	if (diff_write_plots(d, err, sizeof(err)) || diff_write_html(d, err, sizeof(err))) {
		fprintf(stderr, PROG ": %s\n", err);
		return 1;
	}
	printf("%s\n", d->verdict);
	if (!d->quiet)
		printf("summary: %s/summary.txt\nreport:  %s/index.html\n", d->outdir, d->outdir);
	return 0;
}

int cmd_diff(int argc, char **argv)
{
	struct diff d = { .outdir = DEFAULT_OUTDIR };
	int ret, first;

	ret = parse_options(argc, argv, &d, &first);
	if (ret >= 0)
		return ret;
	d.side[0].input = argv[first];
	d.side[1].input = argv[first + 1];
	if (fe_mkdir_p(d.outdir) != 0) {
		fprintf(stderr, PROG ": cannot create %s: %s\n", d.outdir, strerror(errno));
		return 1;
	}
	ret = load_side(&d, 0);
	if (ret == 0)
		ret = load_side(&d, 1);
	if (ret == 0)
		ret = compare_and_write(&d);
	diff_free(&d);
	return ret;
}
