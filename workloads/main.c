/*
 * workloads/main.c — magslab-workload: dispatches to the subcommands.
 *
 *   magslab-workload SUBCOMMAND [options]      SUBCOMMAND --help for its own
 *
 * Every subcommand prints progress and a one-line summary on stderr and one
 * JSON object on stdout (or --json FILE); see workloads/README.md.  Owns the
 * table of subcommands; each lives in its own file (pair.c ... replay.c) on the
 * framework of workload.h.
 */
#include "workload.h"

#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *what;
} subcommands[] = {
	{ "pair", wl_pair_main,
	  "every thread allocates and frees one object in a loop" },
	{ "batch", wl_batch_main,
	  "every thread allocates K objects, then frees them" },
	{ "prodcons", wl_prodcons_main,
	  "producers allocate, consumers free, through bounded queues" },
	{ "phases", wl_phases_main,
	  "a schedule of phases (idle, burst, steady...), markers in the trace" },
	{ "sizes", wl_sizes_main,
	  "several caches, sizes from a list or a kmalloc-like set" },
	{ "large", wl_large_main,
	  "a ramp of live large (bufctl) objects, then a release" },
	{ "arena", wl_arena_main,
	  "alloc/xalloc/free mix over an arena with quantum caches" },
	{ "replay", wl_replay_main,
	  "replay an allocation trace FILE" },
	{ "synthetic", wl_synthetic_main,
	  "paced pairs whose rate depends on the threshold (tests magslab tune)" },
};

#define NR_SUBCOMMANDS (sizeof(subcommands) / sizeof(subcommands[0]))

static void usage(FILE *f)
{
	fputs("usage: magslab-workload SUBCOMMAND [options]\n"
	      "       magslab-workload SUBCOMMAND --help\n"
	      "\n"
	      "Drives magslab's object caches and arenas in known, repeatable\n"
	      "patterns and reports what the magazine layer did.\n"
	      "\n"
	      "Subcommands:\n", f);
	for (size_t k = 0; k < NR_SUBCOMMANDS; k++)
		fprintf(f, "  %-10s %s\n", subcommands[k].name,
			subcommands[k].what);
	fputs("\n", f);
	wl_usage_common(f);
}

int main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2) {
		fprintf(stderr, "magslab-workload: no subcommand (try --help)\n");
		return 2;
	}
	cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
	    strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	for (size_t k = 0; k < NR_SUBCOMMANDS; k++) {
		if (strcmp(cmd, subcommands[k].name) == 0)
			return subcommands[k].main(argc - 1, argv + 1);
	}
	fprintf(stderr, "magslab-workload: unknown subcommand '%s' (try --help)\n",
		cmd);
	return 2;
}
