/*
 * analysis/preload.h — the malloc shim under a command (`--preload` of record, run and live;
 * tune's may use it too): where libmagslab-malloc.so is, the LD_PRELOAD a command gets, and
 * the name of the program the report shows.
 *
 * The shim is found as the plugin and magslab-workload are: $MAGSLAB_MALLOC_LIB if set
 * (it must be there); else libmagslab-malloc.so in ../lib beside this executable (the build
 * tree's build/lib, or an install's PREFIX/lib); else in MAGSLAB_LIBDIR (compiled in: where
 * `make install` puts it).
 *
 * LD_PRELOAD: the shim is appended to what the command's environment already has (never
 * replacing it; the loader then takes malloc from the first library that defines it), and
 * not added twice.  Children inherit it, as they inherit any environment variable.
 *
 * No state, no locks.  Errors: one line into err, -1.
 */
#ifndef MAGSLAB_ANALYSIS_PRELOAD_H
#define MAGSLAB_ANALYSIS_PRELOAD_H

#include <stdbool.h>
#include <stddef.h>

#define PRELOAD_LIB_NAME "libmagslab-malloc.so"
/* The environment variable that names the shim's path (tests, other builds). */
#define PRELOAD_LIB_ENV "MAGSLAB_MALLOC_LIB"
/* What the shim reads for its JSON counters at exit ("%p": the process id). */
#define PRELOAD_STATS_ENV "MAGSLAB_MALLOC_STATS_JSON"

/* The shim's absolute path into out; 0, or -1 with the places looked at in err. */
int preload_find_lib(char *out, size_t len, char *err, size_t errlen);

/*
 * In the command's process, before exec: LD_PRELOAD gets lib appended (set to lib if it
 * was empty); stats_json (NULL: none) becomes MAGSLAB_MALLOC_STATS_JSON unless the
 * environment already has one.  Uses setenv and malloc in the child after fork(), as
 * ml_child_env does: the front end's only other thread (the stall watchdog) never touches
 * the environment, and glibc's malloc is reset in a child.
 */
void preload_child_env(const char *lib, const char *stats_json);

/*
 * What `magslab record --preload` leaves beside the trace it wrote (TRACE/magslab-program,
 * one line: the program's name), so that `magslab report TRACE` names the program without
 * being told (--program overrides it).  babeltrace2 ignores the file: it is not a trace.
 */
#define PRELOAD_PROGRAM_FILE "magslab-program"
/* The name into TRACE/magslab-program; 0, or -1 (errno). */
int preload_note_program(const char *trace, const char *program);
/* The name noted in TRACE/magslab-program into out; false if there is none. */
bool preload_noted_program(const char *trace, char *out, size_t len);

/*
 * The program's name for the report: the base name of cmd[0], or with `env` in front
 * (env [-i] [-u NAME] [NAME=VALUE]... PROG) of PROG; "NAME (malloc shim)" into out.
 */
void preload_program(char *const cmd[], char *out, size_t len);

#endif /* MAGSLAB_ANALYSIS_PRELOAD_H */
