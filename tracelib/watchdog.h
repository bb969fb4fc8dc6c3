/*
 * tracelib/watchdog.h — a bound on babeltrace2 runs that stop making progress.
 *
 * babeltrace2 2.0.4 can loop forever inside one call on a damaged trace (its metadata
 * decoder on a cut packet: tracecheck.c refuses those first, but other damage may do the
 * same).  No loop of ours can interrupt a call that never returns, so a thread watches a
 * progress counter instead: while armed, if the counter has not moved for the stall
 * limit, it prints one line on stderr ("PROG: WHAT made no progress for N s: the trace is
 * damaged, or the decoder is stuck; giving up") and ends the process with exit status 1
 * (_exit: nothing half-written is finalized; the report sink writes its files only at the
 * end, so an earlier report is left as it was).
 *
 * The stall limit: $MAGSLAB_STALL_TIMEOUT seconds (a number > 0; default 60).  Progress is
 * anything the caller counts with wd_tick(): a batch of messages, a graph step that came
 * back (also "try again" from a live source waiting for data), a query answered.
 *
 * Part of the trace-reading library: discovery (discover.c: the metadata queries), graph
 * runs (graph.c) and the host probe (hostname.c) arm it, for the front end and
 * magslab-workload replay alike (replay also arms it around its own graph steps).  One
 * watchdog per process, armed by one thread at a time.
 */
#ifndef MAGSLAB_TRACELIB_WATCHDOG_H
#define MAGSLAB_TRACELIB_WATCHDOG_H

/* The exit status after a stall. */
#define WD_EXIT_STALL 1

/*
 * Arms the watchdog: prog and what name the stalled job in the message (kept as pointers:
 * they must outlive the arming).  Re-arming replaces them and counts as progress.
 */
void wd_arm(const char *prog, const char *what);

/* Progress was made. */
void wd_tick(void);

/* Disarms (the thread stays, asleep). */
void wd_disarm(void);

/* The stall limit in seconds ($MAGSLAB_STALL_TIMEOUT or the default). */
double wd_limit_s(void);

#endif /* MAGSLAB_TRACELIB_WATCHDOG_H */
