/*
 * workloads/opts.c — the command line of every magslab-workload subcommand (workload.h,
 * "common options"): the defaults, the common options and each subcommand's own read with
 * getopt_long, the number parsers, and the common help block.
 *
 * How the command line is read (wl_parse_args), and why it is stricter than getopt_long
 * alone: the long option table is the common options followed by the subcommand's own;
 * optstring "-:hq" keeps the arguments in their order (an argument that is not an option
 * comes back as code 1, so errors are reported for the first bad argument, as the user
 * wrote them) and reports a missing value as ':'.  getopt_long would also take an
 * abbreviation ("--thr") and a bundle of short options ("-qh"); neither is part of the
 * command line (an abbreviation of today could become ambiguous tomorrow), so the element
 * an option came from is compared with its full name and refused otherwise.
 *
 * State: getopt's globals, reset at each wl_parse_args(); o->cmd points to a static
 * buffer (one subcommand runs per process).
 */
#include "workload.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- defaults ------------------------------------------------------------ */

void wl_opts_init(struct wl_opts *o, const char *name)
{
	static char cmd[64];

	memset(o, 0, sizeof(*o));
	snprintf(cmd, sizeof(cmd), "magslab-workload %s", name);
	o->cmd = cmd;
	o->threads = 2;
	o->duration_s = 1.0;
	o->objsize = 64;
	o->seed = 1;
	o->warmup_s = 0.25;
}

/* ---- number parsers ------------------------------------------------------ */

int wl_parse_u64(const struct wl_opts *o, const char *opt, const char *s,
		 uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-' || *s == '+')
		return wl_error(o, "%s: '%s' is not a non-negative integer",
				opt, s ? s : "");
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno == ERANGE)
		return wl_error(o, "%s: %s is too large (at most %llu)", opt, s,
				ULLONG_MAX);
	if (errno || *end || end == s)
		return wl_error(o, "%s: '%s' is not a non-negative integer",
				opt, s);
	*out = v;
	return 0;
}

int wl_parse_uint(const struct wl_opts *o, const char *opt, const char *s,
		  unsigned int *out)
{
	uint64_t v;

	if (wl_parse_u64(o, opt, s, &v))
		return -1;
	if (v > 1000000)
		return wl_error(o, "%s: %s is too large", opt, s);
	*out = (unsigned int)v;
	return 0;
}

int wl_parse_count(const struct wl_opts *o, const char *opt, const char *s,
		   unsigned int *out)
{
	if (wl_parse_uint(o, opt, s, out))
		return -1;
	if (*out == 0)
		return wl_error(o, "%s: must be more than 0", opt);
	return 0;
}

int wl_parse_size(const struct wl_opts *o, const char *opt, const char *s,
		  size_t *out)
{
	char *end;
	unsigned long long v;
	unsigned int shift = 0;

	if (!s || !*s || *s == '-' || *s == '+')
		return wl_error(o, "%s: '%s' is not a size", opt, s ? s : "");
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return wl_error(o, "%s: '%s' is not a size", opt, s);
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	default: break;
	}
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end)
		return wl_error(o, "%s: '%s' is not a size", opt, s);
	if (shift && v > (~0ULL >> shift))
		return wl_error(o, "%s: %s is too large", opt, s);
	*out = (size_t)(v << shift);
	return 0;
}

int wl_parse_double(const struct wl_opts *o, const char *opt, const char *s,
		    double *out)
{
	char *end;
	double v;

	if (!s || !*s)
		return wl_error(o, "%s: '' is not a number", opt);
	errno = 0;
	v = strtod(s, &end);
	if (errno || *end || !isfinite(v) || v < 0)
		return wl_error(o, "%s: '%s' is not a non-negative number",
				opt, s);
	*out = v;
	return 0;
}

int wl_parse_seconds(const struct wl_opts *o, const char *opt, const char *s,
		     double *out)
{
	static const struct { const char *sfx; double mul; } units[] = {
		{ "ns", 1e-9 }, { "us", 1e-6 }, { "ms", 1e-3 },
		{ "s", 1.0 }, { "m", 60.0 }, { "", 1.0 },
	};
	char *end;
	double v;

	if (!s || !*s)
		return wl_error(o, "%s: '' is not a duration", opt);
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0)
		return wl_error(o, "%s: '%s' is not a duration (e.g. 2, 1.5s, "
				"250ms)", opt, s);
	for (size_t k = 0; k < sizeof(units) / sizeof(units[0]); k++) {
		if (strcmp(end, units[k].sfx) == 0) {
			/* Deadlines are uint64_t ns of CLOCK_MONOTONIC: bounded. */
			if (v * units[k].mul > WL_SECONDS_MAX)
				return wl_error(o, "%s: '%s' is too long (at most "
						"%.0e s, about 31 years)", opt,
						s, WL_SECONDS_MAX);
			*out = v * units[k].mul;
			return 0;
		}
	}
	return wl_error(o, "%s: '%s' is not a duration (e.g. 2, 1.5s, 250ms)",
			opt, s);
}

int wl_parse_choice(const struct wl_opts *o, const char *opt, const char *s,
		    const char *const *names, unsigned int n, unsigned int *out)
{
	char list[256] = "";
	size_t len = 0;

	for (unsigned int k = 0; k < n; k++) {
		if (strcmp(s, names[k]) == 0) {
			*out = k;
			return 0;
		}
	}
	for (unsigned int k = 0; k < n && len < sizeof(list); k++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
					k == 0 ? "" : k + 1 == n ? " or " : ", ", names[k]);
	return wl_error(o, "%s: '%s' is not %s", opt, s, list);
}

/* ---- the common options ---------------------------------------------------- */

/* Codes of the common options for getopt_long (the own options follow WL_OWN_BASE). */
enum {
	C_THREADS = 256, C_DURATION, C_OPS, C_OBJSIZE, C_SEED, C_NCPUS, C_PCC_MAP,
	C_POLICY, C_THRESHOLD, C_TIMEOUT, C_JSON, C_WARMUP, C_PIN, C_QUIET, C_CHECK,
	C_HELP, WL_OWN_BASE = 512
};

static const struct option common_opts[] = {
	{ "threads", required_argument, NULL, C_THREADS },
	{ "duration", required_argument, NULL, C_DURATION },
	{ "ops", required_argument, NULL, C_OPS },
	{ "objsize", required_argument, NULL, C_OBJSIZE },
	{ "seed", required_argument, NULL, C_SEED },
	{ "ncpus", required_argument, NULL, C_NCPUS },
	{ "pcc-map", required_argument, NULL, C_PCC_MAP },
	{ "policy", required_argument, NULL, C_POLICY },
	{ "threshold", required_argument, NULL, C_THRESHOLD },
	{ "timeout-ns", required_argument, NULL, C_TIMEOUT },
	{ "json", required_argument, NULL, C_JSON },
	{ "warmup", required_argument, NULL, C_WARMUP },
	{ "pin", no_argument, NULL, C_PIN },
	{ "quiet", no_argument, NULL, C_QUIET },
	{ "check-options", no_argument, NULL, C_CHECK },
	{ "help", no_argument, NULL, C_HELP },
};

#define NR_COMMON (sizeof(common_opts) / sizeof(common_opts[0]))

static const char *const pcc_maps[] = { "cpu", "thread" };
static const char *const policies[] = { "akaros", "illumos", "uma", "adaptive" };

/* --threads, --duration, --ops, --objsize, --seed, --warmup: how the run goes. */
static int set_run_opt(struct wl_opts *o, int code, const char *opt, const char *v)
{
	switch (code) {
	case C_THREADS:
		if (wl_parse_uint(o, opt, v, &o->threads))
			return -1;
		if (o->threads < 1 || o->threads > 4096)
			return wl_error(o, "--threads: %s is not in 1..4096", v);
		return 0;
	case C_DURATION:
		if (wl_parse_seconds(o, opt, v, &o->duration_s))
			return -1;
		if (o->duration_s <= 0)
			return wl_error(o, "--duration: must be more than 0");
		o->ops = 0;
		o->duration_set = true;
		return 0;
	case C_OPS:
		if (wl_parse_u64(o, opt, v, &o->ops))
			return -1;
		if (o->ops == 0)
			return wl_error(o, "--ops: must be more than 0");
		o->duration_s = 0;
		o->duration_set = false;
		return 0;
	case C_OBJSIZE:
		if (wl_parse_size(o, opt, v, &o->objsize))
			return -1;
		if (o->objsize == 0)
			return wl_error(o, "--objsize: must be more than 0");
		o->objsize_set = true;
		return 0;
	case C_SEED:
		return wl_parse_u64(o, opt, v, &o->seed);
	default: /* C_WARMUP */
		return wl_parse_seconds(o, opt, v, &o->warmup_s);
	}
}

/* --ncpus, --pcc-map, --policy, --threshold, --timeout-ns, --json: the library, output. */
static int set_lib_opt(struct wl_opts *o, int code, const char *opt, const char *v)
{
	unsigned int k;

	switch (code) {
	case C_NCPUS:
		return wl_parse_count(o, opt, v, &o->ncpus);
	case C_PCC_MAP:
		if (wl_parse_choice(o, opt, v, pcc_maps, 2, &k))
			return -1;
		o->pcc_map = v;
		return 0;
	case C_POLICY:
		if (wl_parse_choice(o, opt, v, policies, 4, &k))
			return -1;
		o->policy = v;
		return 0;
	case C_THRESHOLD:
		if (wl_parse_u64(o, opt, v, &o->threshold))
			return -1;
		o->threshold_set = true;
		return 0;
	case C_TIMEOUT:
		if (wl_parse_u64(o, opt, v, &o->timeout_ns))
			return -1;
		if (o->timeout_ns == 0)
			return wl_error(o, "--timeout-ns: must be more than 0");
		o->timeout_set = true;
		return 0;
	default: /* C_JSON */
		if (!*v)
			return wl_error(o, "--json: empty file name");
		o->json_path = v;
		return 0;
	}
}

/* ---- the command line ------------------------------------------------------ */

/* The long option table: the common options, then the subcommand's own. */
static struct option *long_opts(const struct wl_cmdline *cl)
{
	size_t own = 0, k;
	struct option *t;

	while (cl->opts && cl->opts[own].name)
		own++;
	t = calloc(NR_COMMON + own + 1, sizeof(*t));
	if (!t)
		return NULL;
	memcpy(t, common_opts, sizeof(common_opts));
	for (k = 0; k < own; k++) {
		t[NR_COMMON + k].name = cl->opts[k].name + 2; /* without "--" */
		t[NR_COMMON + k].has_arg = cl->opts[k].has_value ? required_argument
								 : no_argument;
		t[NR_COMMON + k].val = WL_OWN_BASE + (int)k;
	}
	return t;
}

/* The option of code in t (the name as written, "--threads"), into buf. */
static const char *opt_name(const struct option *t, int code, char *buf, size_t len)
{
	for (; t->name; t++)
		if (t->val == code) {
			snprintf(buf, len, "--%s", t->name);
			return buf;
		}
	snprintf(buf, len, "-%c", code);
	return buf;
}

/* Whether arg is the option named (exactly: not an abbreviation, not a bundle). */
static bool spelled_out(const char *arg, const char *name)
{
	size_t n = strlen(name);

	return strncmp(arg, name, n) == 0 && (arg[n] == '\0' || (arg[n] == '=' && n > 2));
}

/* One option (code, from element arg, value v): 0 on, 1 --help given, -1 error. */
static int one_opt(struct wl_opts *o, const struct wl_cmdline *cl, const struct option *t,
		   int code, const char *arg, const char *v)
{
	char name[64];

	if (!spelled_out(arg, opt_name(t, code, name, sizeof(name))))
		return wl_bad_arg(o, arg);
	if (code == C_HELP || code == 'h') {
		cl->help(stdout);
		return 1;
	}
	if (code >= WL_OWN_BASE)
		return cl->opt(o, cl->opts[code - WL_OWN_BASE].name, v, cl->ctx);
	if (code == C_QUIET || code == 'q')
		o->quiet = true;
	else if (code == C_PIN)
		o->pin = true;
	else if (code == C_CHECK)
		o->check_only = true;
	else if (code <= C_OBJSIZE || code == C_SEED || code == C_WARMUP)
		return set_run_opt(o, code, name, v);
	else
		return set_lib_opt(o, code, name, v);
	return 0;
}

/* What getopt_long returned for the element at argv[at]: 0 on, 1 --help, -1 error. */
static int one_arg(struct wl_opts *o, const struct wl_cmdline *cl, const struct option *t,
		   int c, char **argv, int at)
{
	char name[64];

	switch (c) {
	case 1: /* not an option */
		return cl->arg ? cl->arg(o, optarg, cl->ctx) : wl_bad_arg(o, optarg);
	case '?':
		return wl_bad_arg(o, argv[at]);
	case ':':
		if (!spelled_out(argv[at], opt_name(t, optopt, name, sizeof(name))))
			return wl_bad_arg(o, argv[at]);
		return wl_error(o, "%s needs a value (try --help)", name);
	default:
		return one_opt(o, cl, t, c, argv[at], optarg);
	}
}

int wl_parse_args(int argc, char **argv, struct wl_opts *o, const struct wl_cmdline *cl)
{
	struct option *t = long_opts(cl);
	int c, at, r = 0;

	if (!t)
		return wl_error(o, "out of memory");
	optind = 0; /* glibc: start afresh */
	opterr = 0;
	for (;;) {
		at = optind ? optind : 1;
		c = getopt_long(argc, argv, "-:hq", t, NULL);
		if (c == -1)
			break;
		r = one_arg(o, cl, t, c, argv, at);
		if (r != 0)
			break;
	}
	/* getopt_long stops early only at "--", which is no option of ours. */
	if (c == -1 && at < argc)
		r = wl_bad_arg(o, argv[at]);
	free(t);
	return r;
}

/* ---- help ------------------------------------------------------------------- */

void wl_usage_common(FILE *f)
{
	fputs(
"Common options:\n"
"  --threads N        worker threads (default 2)\n"
"  --duration S       run for S seconds (units ns us ms s m; default 1)\n"
"  --ops N            instead: every thread does N operations (an allocation\n"
"                     or a free is one operation), rounded up to whole rounds\n"
"  --objsize BYTES    object size (k, m suffixes; default 64)\n"
"  --seed N           RNG seed (default 1); thread i's generator is seeded\n"
"                     from (seed, i)\n"
"  --ncpus N          pcc slots of the caches (default: MAGSLAB_NCPUS or the\n"
"                     online CPUs)\n"
"  --pcc-map cpu|thread  slot by current CPU or by thread (default cpu)\n"
"  --policy NAME      resize policy: akaros illumos uma adaptive\n"
"  --threshold N      resize_threshold (default: MAGSLAB_RESIZE_THRESHOLD, 1)\n"
"  --timeout-ns NS    resize_timeout_ns (default 1000000000)\n"
"  --pin              pin thread i to the (i mod n)-th allowed CPU\n"
"  --warmup S         take the after_warmup stats snapshot at S (default\n"
"                     0.25s, at most a quarter of --duration)\n"
"  --json FILE        write the JSON result to FILE instead of stdout\n"
"  --quiet, -q        no progress lines on stderr\n"
"  --check-options    check every option, run nothing, exit 0 (or 2)\n"
"  --help, -h         this help\n"
"Output: one summary line on stderr, one JSON object on stdout (or FILE).\n"
"Exit status: 0 ok, 1 the run failed, 2 bad usage.\n", f);
}
