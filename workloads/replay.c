/*
 * workloads/replay.c — `magslab-workload replay FILE`: replays an allocation trace through
 * magslab caches chosen by size class.  This file is the subcommand: its options, the
 * steps in order (read the trace: replay_csv.c or replay_ctf.c; split it over the replay
 * threads and run them: replay_run.c), the JSON result and the summary lines.  The design
 * of the whole is in replay.h.
 *
 * Input.  Either
 *   - a CSV file: a header line `t_ns,thread,op,size,id`, then one operation
 *     a line; op is alloc (or malloc), calloc (a zeroed alloc), free or
 *     realloc (the object `id` gets a new size: alloc new, free old); `id`
 *     names an object and pairs its free with its alloc (an id may be used
 *     again after its free).  Lines are replayed in t_ns order (ties: file
 *     order); blank lines and lines starting with '#' are skipped.
 *   - a CTF trace (a directory) recorded with LTTng's libc wrapper
 *     (LD_PRELOAD=liblttng-ust-libc-wrapper.so, events lttng_ust_libc:malloc,
 *     calloc, realloc, free, memalign, posix_memalign), read through the
 *     trace-reading library (tracelib/graph.h: the trace directories under
 *     FILE, filter.utils.muxer for time order, a sink of ours).  Threads are the
 *     `vtid` context field (one thread without it); frees are paired with
 *     allocations by pointer value, per process when the `vpid` context is there.
 *
 * Size classes: caches "replay-8" ... "replay-65536" (powers of two; above
 * 512 bytes magslab uses bufctl slabs), created only for the classes the
 * trace uses; a request above 64 KiB goes to arena_kpages() directly (the
 * "large" class).  A size of 0 is the 8-byte class.
 */
#include "replay.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- options ----------------------------------------------------------------- */

static void rp_usage(FILE *f)
{
	fputs(
"usage: magslab-workload replay [options] FILE\n"
"\n"
"Replays an allocation trace through magslab caches chosen by size class:\n"
"replay-8, replay-16 ... replay-65536 (powers of two; above 512 bytes they\n"
"use bufctl slabs); a request above 64 KiB goes to the kpages arena (the\n"
"\"large\" class).  FILE is\n"
"  - a CSV file, header t_ns,thread,op,size,id; op is alloc, calloc, free or\n"
"    realloc; id names an object and pairs its free with its alloc; lines\n"
"    are replayed in t_ns order (\"-\": read it from stdin), or\n"
"  - a CTF trace directory recorded with LD_PRELOAD=liblttng-ust-libc-\n"
"    wrapper.so and `lttng enable-event -u 'lttng_ust_libc:*'`; add the\n"
"    contexts `lttng add-context -u -t vtid -t vpid` (without vtid the trace\n"
"    is one thread; without vpid pointers of different processes are not\n"
"    told apart).  A free of a pointer allocated before the trace started is\n"
"    skipped and counted; discarded events are counted and reported.\n"
"One replay thread per trace thread, each in its trace order; a free waits\n"
"until its alloc, in whatever thread, has happened.  The whole trace is\n"
"replayed: --duration, --ops and --objsize do not apply.  Objects the trace\n"
"never frees are freed after the report.\n"
"\n"
"Replay options:\n"
"  --format auto|csv|ctf  auto (default): a directory is CTF, a file CSV\n"
"  --ignore-unpaired      skip (and count) a free of an object that was never\n"
"                         allocated (CSV) or was already freed, instead of\n"
"                         failing\n"
"  --repeat N             replay the trace N times (default 1)\n"
"  --touch                write every allocated byte (calloc always zeroes)\n"
"  --threads N            fold trace thread k onto replay thread k mod N\n"
"\n"
"Exit status: 0 done, 1 the replay failed (allocation failure, library\n"
"error), 2 bad usage or bad input (unreadable or malformed trace, a free\n"
"without its alloc in a CSV, a double free).\n"
"\n", f);
	wl_usage_common(f);
}

/* The subcommand's own settings. */
struct rp_cfg {
	const char *file;
	const char *format;     /* "auto", "csv" or "ctf" */
	unsigned int repeat;
	bool touch, ignore_unpaired;
};

static const char *const formats[] = { "auto", "csv", "ctf" };

static const struct wl_opt rp_opts[] = {
	{ "--format", true }, { "--repeat", true }, { "--touch", false },
	{ "--ignore-unpaired", false }, { NULL, false },
};

static int rp_opt(struct wl_opts *o, const char *opt, const char *v, void *ctx)
{
	struct rp_cfg *cfg = ctx;
	unsigned int k;

	if (strcmp(opt, "--touch") == 0) {
		cfg->touch = true;
		return 0;
	}
	if (strcmp(opt, "--ignore-unpaired") == 0) {
		cfg->ignore_unpaired = true;
		return 0;
	}
	if (strcmp(opt, "--repeat") == 0) {
		if (wl_parse_uint(o, opt, v, &cfg->repeat))
			return -1;
		return cfg->repeat ? 0 : wl_error(o, "--repeat: must be at least 1");
	}
	if (wl_parse_choice(o, opt, v, formats, 3, &k))
		return -1;
	cfg->format = formats[k];
	return 0;
}

static int rp_arg(struct wl_opts *o, const char *arg, void *ctx)
{
	struct rp_cfg *cfg = ctx;

	if (cfg->file)
		return wl_error(o, "one trace FILE only ('%s' and '%s')", cfg->file, arg);
	cfg->file = arg;
	return 0;
}

/* rp_parse's "nothing to run": --help, or --check-options with good options (exit 0). */
#define RP_DONE (-1)

/* The command line into o and cfg: 0 go on, RP_DONE, or an exit status (error printed). */
static int rp_parse(int argc, char **argv, struct wl_opts *o, struct rp_cfg *cfg)
{
	const struct wl_cmdline cl = { rp_opts, rp_opt, rp_arg, cfg, rp_usage };
	int r;

	wl_opts_init(o, "replay");
	o->threads = 0;             /* 0: --threads not given */
	r = wl_parse_args(argc, argv, o, &cl);
	if (r)
		return r > 0 ? RP_DONE : RP_EXIT_USAGE;
	if (!cfg->file)
		r = wl_error(o, "no trace FILE (try --help)");
	else if (o->duration_set || o->ops)
		r = wl_error(o, "--duration and --ops do not apply: replay runs "
			     "the whole trace (use --repeat N)");
	else if (o->objsize_set)
		r = wl_error(o, "--objsize does not apply: the sizes come from "
			     "the trace");
	if (r)
		return RP_EXIT_USAGE;
	if (o->check_only)
		return RP_DONE;     /* --check-options: the options are valid */
	o->duration_s = 0;          /* no deadline: wl_run_threads runs to the end */
	return 0;
}

/* ---- reading the trace ---------------------------------------------------------- */

/* Reads cfg->file (in its format) into r.  0, or an exit status after a one-line error. */
static int rp_read(struct rp *r, const struct rp_cfg *cfg)
{
	bool is_stdin = strcmp(cfg->file, "-") == 0;
	struct stat sb;
	FILE *f;
	int ret;

	if (!is_stdin && stat(cfg->file, &sb) != 0) {
		wl_error(r->o, "%s: %s", cfg->file, strerror(errno));
		return RP_EXIT_USAGE;
	}
	r->format = cfg->format;
	if (strcmp(r->format, "auto") == 0)
		r->format = !is_stdin && S_ISDIR(sb.st_mode) ? "ctf" : "csv";
	if (strcmp(r->format, "ctf") == 0 && !is_stdin)
		return rp_read_ctf(r);
	if (strcmp(r->format, "ctf") == 0)
		ret = wl_error(r->o, "a CTF trace cannot be read from stdin");
	else if (!is_stdin && S_ISDIR(sb.st_mode))
		ret = wl_error(r->o, "%s: is a directory, not a CSV file", cfg->file);
	else if (!(f = is_stdin ? stdin : fopen(cfg->file, "r")))
		ret = wl_error(r->o, "%s: %s", cfg->file, strerror(errno));
	else
		ret = 0;
	if (ret)
		return RP_EXIT_USAGE;
	ret = rp_read_csv(r, f);
	if (!is_stdin)
		fclose(f);
	return ret;
}

/* ---- the JSON result ---------------------------------------------------------- */

struct rp_report {
	struct rp *r;
	struct rp_replay *rp;
	const struct rp_cfg *cfg;
};

static void rp_json_params(json_t *p, void *arg)
{
	const struct rp_report *rr = arg;

	wl_jset_str(p, "file", rr->r->file);
	wl_jset_str(p, "format", rr->r->format);
	wl_jset_u64(p, "repeat", rr->cfg->repeat);
	wl_jset_bool(p, "ignore_unpaired", rr->r->ignore_unpaired);
	wl_jset_bool(p, "touch", rr->cfg->touch);
	wl_jset_u64(p, "trace_threads", rr->r->nthr);
	wl_jset_u64(p, "min_class", (uint64_t)1 << RP_MIN_SHIFT);
	wl_jset_u64(p, "max_class", (uint64_t)1 << RP_MAX_SHIFT);
}

/* "input": what the file held. */
static json_t *input_json(const struct rp *r)
{
	json_t *in = wl_jobject();

	wl_jset_str(in, "format", r->format);
	if (!strcmp(r->format, "csv")) {
		wl_jset_u64(in, "lines", r->records);
		return in;
	}
	wl_jset_u64(in, "trace_dirs", r->trace_dirs);
	wl_jset_u64(in, "events", r->records);
	wl_jset_u64(in, "libc_events", r->libc_events);
	wl_jset_u64(in, "other_events", r->other_events);
	wl_jset_u64(in, "discarded_events", r->discarded_events);
	wl_jset_u64(in, "discarded_events_unknown_count", r->discarded_unknown);
	wl_jset_u64(in, "discarded_packets", r->discarded_packets);
	wl_jset_bool(in, "has_vtid", r->has_vtid);
	wl_jset_bool(in, "has_vpid", r->has_vpid);
	wl_jset_u64(in, "failed_allocs", r->failed);
	wl_jset_u64(in, "free_null", r->free_null);
	wl_jset_u64(in, "ignored_huge", r->ignored);
	return in;
}

/* "trace": the operations it made. */
static json_t *trace_json(const struct rp *r)
{
	json_t *t = wl_jobject();

	wl_jset_u64(t, "threads", r->nthr);
	wl_jset_u64(t, "ops", r->ngops);
	wl_jset_u64(t, "allocs", r->allocs);
	wl_jset_u64(t, "zeroed_allocs", r->zallocs);
	wl_jset_u64(t, "frees", r->frees);
	wl_jset_u64(t, "reallocs", r->reallocs);
	wl_jset_u64(t, "unpaired_frees", r->unpaired);
	wl_jset_u64(t, "double_frees", r->double_frees);
	wl_jset_u64(t, "orphaned", r->orphaned);
	wl_jset_u64(t, "cross_thread_frees", r->xthread_frees);
	wl_jset_u64(t, "live_at_end", r->live);
	wl_jset_u64(t, "max_live", r->max_live);
	wl_jset_u64(t, "max_live_bytes", r->max_live_bytes);
	return t;
}

/* "replay": the replay threads. */
static json_t *replay_json(const struct rp_report *rr)
{
	const struct rp *r = rr->r;
	struct rp_replay *rp = rr->rp;
	json_t *o = wl_jobject(), *per = wl_jarray();

	wl_jset_u64(o, "threads", rp->nthr);
	wl_jset_u64(o, "repeat", rr->cfg->repeat);
	wl_jset_u64(o, "cross_thread_waits", atomic_load(&rp->waits));
	for (unsigned int t = 0; t < rp->nthr; t++) {
		const struct rp_rthr *th = &rp->thr[t];
		json_t *j = wl_jobject();

		wl_jset_u64(j, "index", t);
		/* The trace thread it replays, or null when folded. */
		wl_jset_str(j, "trace_thread", rp->nthr == r->nthr ? r->thr_names[t] : NULL);
		wl_jset_u64(j, "ops", th->n);
		wl_jset_u64(j, "allocs", th->allocs);
		wl_jset_u64(j, "frees", th->frees);
		wl_jset_u64(j, "waits", th->waits);
		wl_jappend(per, j);
	}
	wl_jset(o, "per_thread", per);
	return o;
}

/* One size class of "classes" (c: its index, k: its counts). */
static json_t *class_json(unsigned int c, const struct rp_cls *k)
{
	json_t *j = wl_jobject();
	char name[KMC_NAME_LEN];

	if (c == RP_LARGE) {
		wl_jset_str(j, "class", "large");
		wl_jset_null(j, "size");
		wl_jset_str(j, "cache", NULL);
		wl_jset_str(j, "path", "kpages");
	} else {
		snprintf(name, sizeof(name), "replay-%zu", rp_class_size(c));
		wl_jset_str(j, "class", name + 7);
		wl_jset_u64(j, "size", rp_class_size(c));
		wl_jset_str(j, "cache", name);
		wl_jset_str(j, "path", rp_class_size(c) > 512 ? "bufctl" : "slab");
	}
	wl_jset_u64(j, "allocs", k->allocs);
	wl_jset_u64(j, "zeroed_allocs", k->zallocs);
	wl_jset_u64(j, "frees", k->frees);
	wl_jset_u64(j, "live_at_end", k->allocs - k->frees);
	return j;
}

static void rp_json_extra(json_t *root, void *arg)
{
	const struct rp_report *rr = arg;
	json_t *classes = wl_jarray();

	wl_jset(root, "input", input_json(rr->r));
	wl_jset(root, "trace", trace_json(rr->r));
	wl_jset(root, "replay", replay_json(rr));
	for (unsigned int c = 0; c < RP_NCLS; c++)
		if (rr->r->cls[c].allocs || rr->r->cls[c].frees)
			wl_jappend(classes, class_json(c, &rr->r->cls[c]));
	wl_jset(root, "classes", classes);
	if (rr->rp->large)
		wl_jset(root, "large_arena", wl_json_arena(rr->rp->large));
}

/* ---- the summary on stderr ------------------------------------------------------ */

static void rp_summary(const struct rp *r, const struct rp_replay *rp)
{
	const char *cmd = r->o->cmd;
	bool ctf = strcmp(r->format, "ctf") == 0;

	if (!ctf)
		fprintf(stderr, "%s: %s: csv, %" PRIu64 " lines, ", cmd, r->file, r->records);
	else
		fprintf(stderr, "%s: %s: ctf (%" PRIu64 " trace dirs), %" PRIu64 " events (%"
			PRIu64 " libc), %" PRIu64 " discarded events%s, %" PRIu64
			" discarded packets, ", cmd, r->file, r->trace_dirs, r->records,
			r->libc_events, r->discarded_events,
			r->discarded_unknown ? " (and some of unknown count)" : "",
			r->discarded_packets);
	fprintf(stderr, "%u threads, %" PRIu64 " allocs, %" PRIu64 " frees (%" PRIu64
		" cross-thread, %" PRIu64 " waited), %" PRIu64 " reallocs, %" PRIu64
		" unpaired frees skipped, %" PRIu64 " double frees skipped, %" PRIu64
		" orphaned, %" PRIu64 " live at end\n", r->nthr, r->allocs, r->frees,
		r->xthread_frees, (uint64_t)atomic_load(&rp->waits), r->reallocs, r->unpaired,
		r->double_frees, r->orphaned, r->live);
	if (r->discarded_events || r->discarded_unknown || r->discarded_packets)
		fprintf(stderr, "%s: warning: the trace lost %" PRIu64 " events%s and %" PRIu64
			" packets: what was replayed is not the program's whole allocation "
			"sequence\n", cmd, r->discarded_events,
			r->discarded_unknown ? " (and more, of unknown count)" : "",
			r->discarded_packets);
	if (ctf && !r->has_vtid)
		fprintf(stderr, "%s: note: the trace has no vtid context: replayed as one "
			"thread\n", cmd);
	if (ctf && !r->has_vpid)
		fprintf(stderr, "%s: note: the trace has no vpid context: pointers of different "
			"processes are not told apart\n", cmd);
}

/* ---- the subcommand --------------------------------------------------------------- */

/* The replay threads: one per trace thread, or --threads N.  0, or an exit status. */
static int rp_threads(struct rp *r, struct wl_opts *o, unsigned int *nthr)
{
	if (r->nthr == 0 || r->ngops == 0) {
		wl_error(o, "%s: no allocations to replay (%" PRIu64 " %s)", r->file,
			 r->records, !strcmp(r->format, "csv") ? "lines" : "events");
		return RP_EXIT_USAGE;
	}
	*nthr = o->threads && o->threads < r->nthr ? o->threads : r->nthr;
	if (*nthr > RP_MAX_THREADS) {
		wl_error(o, "%s: %u threads, more than %d: fold them with --threads N",
			 r->file, r->nthr, RP_MAX_THREADS);
		return RP_EXIT_USAGE;
	}
	o->threads = *nthr;
	return 0;
}

/*
 * The per-thread lists, the library's settings, and a cache per size class the trace uses
 * (and the kpages arena for the large class).  0, or an exit status.
 */
static int rp_prepare(struct rp *r, struct rp_replay *rp, struct wl_run *run,
		      unsigned int nthr)
{
	const struct wl_opts *o = r->o;

	if (rp_split(r, rp, nthr) != 0) {
		wl_error(o, "out of memory");
		return RP_EXIT_FAIL;
	}
	free(r->gops);              /* the replay lists hold it all now */
	r->gops = NULL;
	if (wl_apply_opts(o) != 0)
		return RP_EXIT_USAGE;   /* a value the library refused */
	wl_run_init(run, o);
	for (unsigned int c = 0; c < RP_NCACHES; c++) {
		char name[KMC_NAME_LEN];

		if (!r->cls[c].allocs)
			continue;
		snprintf(name, sizeof(name), "replay-%zu", rp_class_size(c));
		rp->kc[c] = wl_cache_create(o, name, rp_class_size(c), 0);
		if (!rp->kc[c])
			return RP_EXIT_FAIL;
		wl_run_add_cache(run, rp->kc[c]);
	}
	if (r->cls[RP_LARGE].allocs)
		rp->large = arena_kpages();
	return 0;
}

/* Replays --repeat times, then the result (even after a failure, as the other
 * subcommands do: "failed": true).  0, or an exit status. */
static int rp_replay_all(struct rp *r, struct rp_replay *rp, struct wl_run *run,
			 const struct rp_cfg *cfg)
{
	struct rp_report rr = { r, rp, cfg };

	for (unsigned int k = 0; k < cfg->repeat && !run->failed; k++) {
		if (k > 0)
			rp_cleanup(rp);
		wl_run_threads(run, rp->nthr, rp_worker, rp);
	}
	if (run->failed) {
		int e = atomic_load(&rp->errnum);

		wl_error(r->o, "replay failed: %s", e ? strerror(e) : "a thread could not run");
	}
	if (wl_report(run, "replay", rp_json_params, rp_json_extra, &rr) != 0 || run->failed)
		return RP_EXIT_FAIL;
	rp_summary(r, rp);
	return 0;
}

int wl_replay_main(int argc, char **argv)
{
	struct rp_cfg cfg = { .format = "auto", .repeat = 1 };
	struct rp r = { 0 };
	struct rp_replay rp = { 0 };
	struct wl_opts o;
	struct wl_run run;
	unsigned int nthr = 0;
	double t_read;
	int ret = rp_parse(argc, argv, &o, &cfg);

	if (ret)
		return ret == RP_DONE ? 0 : ret;
	r.o = &o;
	r.file = cfg.file;
	r.ignore_unpaired = cfg.ignore_unpaired;
	t_read = wl_now();
	ret = rp_read(&r, &cfg);
	t_read = wl_now() - t_read;
	if (!ret)
		ret = rp_threads(&r, &o, &nthr);
	rp.r = &r;
	rp.touch = cfg.touch;
	atomic_init(&rp.waits, 0);
	atomic_init(&rp.errnum, 0);
	if (!ret)
		ret = rp_prepare(&r, &rp, &run, nthr);
	if (!ret) {
		wl_progress(&o, "%s (%s): %" PRIu64 " operations in %u threads, read in %.2f s",
			    r.file, r.format, r.nslots + r.frees, nthr, t_read);
		ret = rp_replay_all(&r, &rp, &run, &cfg);
		rp_cleanup(&rp);
	}
	for (unsigned int c = 0; c < RP_NCACHES; c++)
		if (rp.kc[c] && kmem_cache_destroy(rp.kc[c]) != 0 && !ret)
			ret = RP_EXIT_FAIL;
	for (unsigned int t = 0; rp.thr && t < rp.nthr; t++)
		free(rp.thr[t].ops);
	free(rp.thr);
	rp_free_all(&r);
	return ret;
}
