/*
 * analysis/proc.h — the child processes of the front end, and its one interrupted flag.
 *
 * Every program the front end runs (the traced command of record and live, magslab-workload
 * for run and tune, the LTTng daemons, gnuplot) is started by proc_spawn and waited for by
 * proc_wait or proc_stop; nothing else in analysis/ forks.  Used by record.c, run.c,
 * live.c, live_view.c, tune.c, lttng.c and gnuplot.c.
 *
 *   spawn:  fork; in the child, the standard streams (an fd of ours, /dev/null, or as
 *           they are), the directory, a process group of its own, default signal
 *           dispositions, no fd above 2 left open, a caller's hook (its environment),
 *           then execvp; a failed exec says why on the child's stderr and exits 127.
 *   wait:   to its end, or for a while; a SIGINT or SIGTERM this process got is passed on
 *           to the child once (forward), as a Ctrl-C at a terminal would reach both;
 *           proc_wait_usage also gives the child's rusage (wait4).
 *   stop:   a signal, a grace period, the next signal..., until it is reaped.
 *   status: proc_exit_code: 0-255, or 128+N when signal N killed it (as a shell says).
 *
 * The interrupted flag: proc_catch_signals() installs a handler for SIGINT and SIGTERM
 * that notes the signal (the last one) and counts them, until proc_restore_signals();
 * proc_interrupted() reads it.  One flag for the whole program (graph.c, which is not a
 * child process, keeps its own for the babeltrace2 graph).
 *
 * Errors: proc_spawn returns -1 with errno when it cannot fork; proc_wait returns -1 with
 * errno when waitpid fails.  No locks: the front end is single-threaded.
 */
#ifndef MAGSLAB_ANALYSIS_PROC_H
#define MAGSLAB_ANALYSIS_PROC_H

#include <stdbool.h>
#include <sys/resource.h>
#include <sys/types.h>

/* A standard stream of the child: as it is in this process (0), or from/to /dev/null. */
#define PROC_KEEP 0
#define PROC_DEVNULL (-1)

/* What the child gets besides its streams (flags of struct proc_spec). */
enum {
	PROC_OWN_GROUP = 1,	    /* setpgid(0, 0): a terminal's Ctrl-C is not its */
	PROC_DEFAULT_SIGNALS = 2,   /* SIGINT, SIGTERM, SIGPIPE, SIGWINCH to their defaults */
	PROC_UNBLOCK = 4,	    /* an empty signal mask */
	PROC_CLOSE_FDS = 8,	    /* no fd above 2 left open */
	PROC_QUIET = 16,	    /* a failed exec exits 127 without a word */
};

struct proc_spec {
	char *const *argv;	/* argv[0]: a path, or a name looked up in PATH */
	int in, out, err;	/* an fd of ours to dup2 there, PROC_KEEP or PROC_DEVNULL */
	const char *dir;	/* chdir there first (NULL: stay) */
	unsigned flags;
	void (*setup)(void *arg); /* in the child, just before exec (NULL: none) */
	void *setup_arg;
	const char *prog;	/* the child's "PROG: cannot run CMD: why" (NULL: no prefix) */
};

/* Starts the child: its pid, or -1 (errno) if it could not be forked. */
pid_t proc_spawn(const struct proc_spec *s);

struct proc_wait {
	double timeout_s;	/* < 0: until it ends */
	bool forward;		/* pass a SIGINT/SIGTERM we got on to it, once */
	void (*tick)(void *arg); /* called about every 20 ms while it runs (NULL: none) */
	void *arg;
};

/* Waits for pid (w NULL: to its end, forwarding): 1 reaped (*status), 0 timed out, -1
 * waitpid failed (errno). */
int proc_wait(pid_t pid, int *status, const struct proc_wait *w);

/* As proc_wait, and once it is reaped the child's resource usage into *ru (wait4: its
 * own and that of the descendants it reaped; tune's CPU time per run). */
int proc_wait_usage(pid_t pid, int *status, const struct proc_wait *w, struct rusage *ru);

/* Runs the child to its end (forwarding): 0 with *status, -1 (errno) if it did not start. */
int proc_run(const struct proc_spec *s, int *status);

/* Has pid ended?  Reaps it (*status) if so; never waits. */
bool proc_ended(pid_t pid, int *status);

/*
 * Stops pid: sigs[0], then waits up to grace_s[0]; if it is still running sigs[1]...; a
 * negative grace waits to the end.  Checked before every signal: a child that already
 * ended is not signalled.  true once it is reaped (*status).
 */
bool proc_stop(pid_t pid, int *status, const int *sigs, const double *grace_s, int n);

/* The exit status a shell gives: its own (0-255), or 128+N if signal N killed it. */
int proc_exit_code(int status);

/* SIGINT and SIGTERM noted from now on (restart: SA_RESTART, for callers inside calls that
 * must not be cut short); the flag and count start at 0. */
void proc_catch_signals(bool restart);
/* The dispositions of before proc_catch_signals. */
void proc_restore_signals(void);
/* The last SIGINT/SIGTERM caught (0: none), and how many. */
int proc_interrupted(void);
unsigned proc_interruptions(void);

/* An fd for a child's output: path created or truncated (0644), close-on-exec; -1 errno. */
int proc_open_out(const char *path);

#endif /* MAGSLAB_ANALYSIS_PROC_H */
