/*
 * bench/alloc_opts.h — bench-alloc's command line: what can be asked
 * (struct opts, the allocators and patterns by name), --help, and the
 * parsing with its one-line errors (exit 2).
 *
 * Owns: struct opts and parse_opts(); nothing else of the program, which is
 * bench/alloc.c.  A header because every bench/NAME.c is its own program
 * (bench/bench.mk); included once, by bench/alloc.c only.  No state but
 * getopt's.
 */
#ifndef MAGSLAB_BENCH_ALLOC_OPTS_H
#define MAGSLAB_BENCH_ALLOC_OPTS_H

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_THREADS     256
#define MAX_SIZE        (1u << 20)

enum kind { K_MAGSLAB, K_MALLOC, K_FLOOR };
enum pattern { P_PAIR, P_BATCH, P_XFER };

static const char *const kind_names[] = { "magslab", "malloc", "floor" };
static const char *const pattern_names[] = { "pair", "batch", "xfer" };

static const char *prog = "bench-alloc";

struct opts {
	enum kind kind;
	enum pattern pattern;
	size_t size;
	unsigned int threads;
	uint64_t ops;                   /* 0: calibrate */
	unsigned int reps;
	unsigned int target_ms;
	size_t batch;
	size_t ring;
	size_t publish;
	const char *label;
	bool stats;
};

static void usage(FILE *f)
{
	fprintf(f,
"usage: %s [options]\n"
"ns per allocation or free for one allocator, pattern, size and thread count\n"
"(see the comment at the top of bench/alloc.c and bench/run-alloc.sh).\n"
"  --alloc A        magslab | malloc | floor (default magslab); malloc is\n"
"                   whatever malloc is linked or LD_PRELOADed\n"
"  --pattern P      pair | batch | xfer (default pair)\n"
"  --size N         object size in bytes, 8..%u (default 64)\n"
"  --threads N      threads, 1..%u (default 1); xfer: an even number\n"
"                   (producer/consumer pairs)\n"
"  --ops N          operations (allocs + frees, all threads) per measurement;\n"
"                   0 (default): calibrate to about --target-ms\n"
"  --target-ms MS   length of one measurement when calibrating (default 300)\n"
"  --reps N         measurements; the median is the result (default 3)\n"
"  --batch N        objects per batch round (default 1000)\n"
"  --ring N         xfer ring slots, a power of two (default 512)\n"
"  --publish N      xfer: each side publishes its ring index every N objects,\n"
"                   at most --ring / 2 (default 32; 1: every object)\n"
"  --label NAME     name in the result line (default: the allocator, for\n"
"                   magslab with its pcc mode, e.g. magslab-rseq; for\n"
"                   malloc, the library malloc resolved to)\n"
"  --stats          magslab: print the cache's statistics after the run\n"
"  --help           this text\n"
"ns/op = wall * min(threads, cores) / ops; thread i is pinned to CPU i mod cores.\n",
		prog, MAX_SIZE, MAX_THREADS);
}

static void bad_option(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", prog);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (try --help)\n");
	exit(2);
}

static uint64_t parse_u64(const char *opt, const char *arg, uint64_t min,
			  uint64_t max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	if (!arg || !*arg || *arg == '-' || *arg == '+')
		goto bad;
	v = strtoull(arg, &end, 0);
	if (errno || *end || v < min || v > max)
		goto bad;
	return v;
bad:
	fprintf(stderr, "%s: bad %s '%s': want an integer in [%" PRIu64
		", %" PRIu64 "] (try --help)\n", prog, opt, arg ? arg : "",
		min, max);
	exit(2);
}

static int lookup(const char *opt, const char *arg,
		  const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(arg, names[i]))
			return i;
	fprintf(stderr, "%s: bad %s '%s': want one of", prog, opt, arg);
	for (int i = 0; i < n; i++)
		fprintf(stderr, " %s", names[i]);
	fprintf(stderr, " (try --help)\n");
	exit(2);
}

enum { O_ALLOC = 256, O_PATTERN, O_SIZE, O_THREADS, O_OPS, O_TARGET,
       O_REPS, O_BATCH, O_RING, O_PUBLISH, O_LABEL, O_STATS, O_HELP };

/* The numeric options: where each goes and its bounds. */
static bool set_number(struct opts *o, int c, const char *v)
{
	switch (c) {
	case O_SIZE:
		/* At least the word every object gets written. */
		o->size = parse_u64("--size", v, sizeof(uintptr_t), MAX_SIZE);
		return true;
	case O_THREADS:
		o->threads = parse_u64("--threads", v, 1, MAX_THREADS);
		return true;
	case O_OPS:
		o->ops = parse_u64("--ops", v, 0, UINT64_C(1) << 40);
		return true;
	case O_TARGET:
		o->target_ms = parse_u64("--target-ms", v, 1, 60000);
		return true;
	case O_REPS:
		o->reps = parse_u64("--reps", v, 1, 99);
		return true;
	case O_BATCH:
		o->batch = parse_u64("--batch", v, 1, 1u << 24);
		return true;
	case O_RING:
		o->ring = parse_u64("--ring", v, 2, 1u << 24);
		if (o->ring & (o->ring - 1))
			bad_option("bad --ring '%s': want a power of two", v);
		return true;
	case O_PUBLISH:
		o->publish = parse_u64("--publish", v, 1, 1u << 23);
		return true;
	}
	return false;
}

/* One option of getopt_long's; exits on a bad one. */
static void set_option(struct opts *o, int c, char **argv)
{
	if (set_number(o, c, optarg))
		return;
	switch (c) {
	case O_ALLOC:
		o->kind = (enum kind)lookup("--alloc", optarg, kind_names, 3);
		break;
	case O_PATTERN:
		o->pattern = (enum pattern)lookup("--pattern", optarg,
						  pattern_names, 3);
		break;
	case O_LABEL:
		o->label = optarg;
		break;
	case O_STATS:
		o->stats = true;
		break;
	case O_HELP:
		usage(stdout);
		exit(0);
	case ':':
		bad_option("option '%s' needs a value", argv[optind - 1]);
		break;
	default:
		bad_option("unknown option '%s'", argv[optind - 1]);
	}
}

/* What no single option can check alone. */
static void check_opts(const struct opts *o)
{
	if (o->publish > o->ring / 2) {
		fprintf(stderr, "%s: --publish %zu: at most --ring / 2 = %zu "
			"(try --help)\n", prog, o->publish, o->ring / 2);
		exit(2);
	}
	if (o->pattern == P_XFER && o->threads % 2)
		bad_option("--pattern xfer needs an even --threads, not %s",
			   o->threads == 1 ? "1" : "an odd number");
}

static void parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option longopts[] = {
		{ "alloc", required_argument, NULL, O_ALLOC },
		{ "pattern", required_argument, NULL, O_PATTERN },
		{ "size", required_argument, NULL, O_SIZE },
		{ "threads", required_argument, NULL, O_THREADS },
		{ "ops", required_argument, NULL, O_OPS },
		{ "target-ms", required_argument, NULL, O_TARGET },
		{ "reps", required_argument, NULL, O_REPS },
		{ "batch", required_argument, NULL, O_BATCH },
		{ "ring", required_argument, NULL, O_RING },
		{ "publish", required_argument, NULL, O_PUBLISH },
		{ "label", required_argument, NULL, O_LABEL },
		{ "stats", no_argument, NULL, O_STATS },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct opts){
		.kind = K_MAGSLAB, .pattern = P_PAIR, .size = 64, .threads = 1,
		.ops = 0, .reps = 3, .target_ms = 300, .batch = 1000,
		.ring = 512, .publish = 32,
	};
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", longopts, NULL)) != -1)
		set_option(o, c, argv);
	if (optind < argc)
		bad_option("unexpected argument '%s'", argv[optind]);
	check_opts(o);
}

#endif
