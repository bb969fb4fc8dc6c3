/*
 * analysis/util.h — small helpers shared by the front end's modules: directories, finding
 * programs (and the magslab-workload program beside this one), one-line errors, the
 * --bucket option, signal names and exit statuses, counts for progress lines, the
 * monotonic clock and short sleeps, HTML escaping (tune's page).
 *
 * No state, no locks.  Functions that can fail return -1 with errno set (or a message in
 * err where they have one).
 */
#ifndef MAGSLAB_ANALYSIS_UTIL_H
#define MAGSLAB_ANALYSIS_UTIL_H

#include <stdbool.h>
#include "tl_util.h"   /* tl_seterr, tl_format_count: shared with tracelib */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* mkdir -p PATH (mode 0755); 0, or -1 with errno. */
int fe_mkdir_p(const char *path);

/* Whether PATH is a directory with nothing in it (false if it does not exist). */
bool fe_dir_is_empty(const char *path);

/* cp FROM TO (a regular file, overwritten); 0, or -1 with errno. */
int fe_copy_file(const char *from, const char *to);

/* rm -rf PATH (no symlink followed); 0, or -1 with errno. */
int fe_remove_tree(const char *path);

/*
 * Finds PROG as execvp would (PATH search unless it has a '/'), writing the path into
 * out.  0 if found and executable, -1 otherwise.
 */
int fe_find_program(const char *prog, char *out, size_t len);

/*
 * The magslab-workload program: $MAGSLAB_WORKLOAD if set; else magslab-workload beside
 * this executable (build/bin/ or the install's bin/); else from PATH.  0, or -1 with
 * the places looked at in err.
 */
int fe_find_workload(char *out, size_t len, char *err, size_t errlen);


/*
 * A report's --bucket MS (report, run, live): a whole number of milliseconds from 1 to
 * 3600000.  0, or -1 (the caller says why, as a usage error).
 */
int fe_parse_bucket(const char *arg, unsigned long long *out);

/* A report's --max-caches N (report, run, live): how many caches the plots draw, the
 * busiest first; 1 to FE_MAX_CACHES (the sink's limit).  0, or -1 (a usage error). */
#define FE_MAX_CACHES 32
#define FE_STR_(x) #x
#define FE_STR(x) FE_STR_(x)
/* The one usage message for a bad --max-caches (its %s: the value given). */
#define FE_MAX_CACHES_USAGE \
	"--max-caches: '%s' is not a whole number from 1 to " FE_STR(FE_MAX_CACHES)
int fe_parse_max_caches(const char *arg, unsigned *out);

/*
 * The exit status of a subcommand that a signal interrupted (it stopped its command and
 * finished its job first): 128 + sig, as a shell gives it; and the signal's name ("SIGINT").
 */
int fe_interrupted_status(int sig);
const char *fe_signal_name(int sig);


/* s with <, >, & and " escaped for HTML text and attribute values. */
void fe_html_escape(FILE *f, const char *s);

/* Writes all of buf to fd (a pipe: again after EINTR or a short write): 0, or -1 (errno). */
int fe_write_all(int fd, const char *buf, size_t n);

/* realloc, or "magslab: out of memory" on stderr and exit status 1. */
void *fe_xrealloc(void *p, size_t size);

/*
 * The words of a usage error for what getopt_long returned (c: ':' an option without its
 * argument, else an unknown option), as "-o needs an argument", "unknown option '-x'",
 * "unknown option '--bogus'", into buf.  For parsers with opterr 0 and a leading ':'.
 */
void fe_option_error(int c, char **argv, char *buf, size_t len);

/* The first lines of path on stdout; with more, then "... (N more lines in PATH)". */
void fe_print_head(const char *path, int lines, bool more);

/* Seconds on the monotonic clock. */
double fe_now_s(void);

/* Sleeps ms milliseconds (a signal cuts it short: the caller's loop looks at it). */
void fe_sleep_ms(long ms);

#endif /* MAGSLAB_ANALYSIS_UTIL_H */
