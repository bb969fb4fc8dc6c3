/*
 * analysis/lttng.h — LTTng daemons and recording sessions for the front end (record, run,
 * live), through liblttng-ctl: no `lttng` command is run and none of its output is parsed.
 *
 * What it owns:
 *   - the daemons this program starts: a session daemon when none is running (and only
 *     then), and a relay daemon bound to 127.0.0.1 for live sessions.  A daemon started
 *     here is our child, in its own process group (a Ctrl-C at the terminal reaches the
 *     front end, which then stops the session in order, not the daemon); ml_daemon_stop()
 *     stops it and nothing else.  A daemon that was already running is used and left alone.
 *   - one recording session: created, configured (one UST channel, its events, the vpid
 *     and procname contexts), started, stopped (waiting until lttng_data_pending() says
 *     every sub-buffer is on disk or at the relay daemon), read for its discarded-event and
 *     lost-packet counts, and destroyed.
 *
 * Why a channel of our own: the default channel has 4 sub-buffers of 512 KiB per CPU on
 * 64-bit and discards when they are full; the default here is 8 × 1 MiB (a hot magazine
 * layer emits millions of events a second: see ../shared/spec/tracing.md), and
 * --blocking sets an infinite blocking timeout — which the tracer honours only for
 * programs started with LTTNG_UST_ALLOW_BLOCKING=1 (ml_child_env() sets it).
 *
 * Errors: every function that can fail writes one line (no trailing newline) into err
 * and returns -1.  No locks: the front end is single-threaded.
 */
#ifndef MAGSLAB_ANALYSIS_LTTNG_H
#define MAGSLAB_ANALYSIS_LTTNG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define ML_ERRLEN 1024

/* Sub-buffer defaults (per CPU, per-UID buffers). */
#define ML_SUBBUF_DEFAULT (1024 * 1024)
#define ML_SUBBUF_MIN     (4 * 1024)
#define ML_NUM_SUBBUF     8
/* The events recorded when the user names none. */
#define ML_EVENTS_DEFAULT "magslab:*"
/* The relay daemon's default control port (data = control + 1), as lttng's. */
#define ML_RELAYD_PORT 5342

/* A daemon started by this program (pid 0: none). */
struct ml_daemon {
	pid_t pid;
	char name[32];       /* "lttng-sessiond", "lttng-relayd" */
	char log[PATH_MAX];  /* its stdout and stderr */
};

/*
 * Makes sure a session daemon is running: if lttng_session_daemon_alive() says one is,
 * d->pid stays 0; else starts `lttng-sessiond --sig-parent` (no kernel tracer unless we
 * are root and it is usable) and waits up to 10 s for its readiness signal.  logdir: where
 * its log goes (ml-sessiond.log).  started (may be NULL) is set to whether one was started.
 */
int ml_sessiond_ensure(struct ml_daemon *d, const char *logdir, bool *started, char *err,
		       size_t errlen);

/* A relay daemon on 127.0.0.1, with three free ports. */
struct ml_relayd {
	struct ml_daemon d;
	int control_port, data_port, live_port;
	char output[PATH_MAX]; /* where it writes the traces it receives */
};

/*
 * Starts `lttng-relayd -C/-D/-L tcp://127.0.0.1:PORT -o OUTPUT` (ports picked free, tried
 * again if taken) and waits until it listens on all three.
 */
int ml_relayd_start(struct ml_relayd *r, const char *output, const char *logdir, char *err,
		    size_t errlen);

/* Stops a daemon started above (SIGTERM, SIGKILL after 5 s) and reaps it; no-op if pid 0. */
void ml_daemon_stop(struct ml_daemon *d);

/* How to record. */
struct ml_session_opts {
	const char *name;      /* session name; NULL: magslab-PID-TIME */
	const char *output;    /* local trace directory (absolute); NULL when relayd is set */
	const char *relayd;    /* "HOST[:PORT]": stream to that relay daemon (data PORT+1) */
	int relayd_data_port;  /* 0: PORT+1 */
	uint64_t live_timer_us; /* > 0: a live session (needs relayd) */
	uint64_t subbuf_size;  /* bytes per sub-buffer; 0: ML_SUBBUF_DEFAULT */
	uint64_t num_subbuf;   /* 0: ML_NUM_SUBBUF */
	bool blocking;         /* blocking mode (infinite timeout) instead of discard */
	bool buffers_pid;      /* per-PID buffers instead of per-UID */
	const char *events;    /* comma-separated event names/patterns; NULL: ML_EVENTS_DEFAULT */
};

struct ml_session {
	char name[256];
	bool created, started;
};

/* Creates the session, its channel, events and contexts; does not start it. */
int ml_session_create(const struct ml_session_opts *o, struct ml_session *s, char *err,
		      size_t errlen);
int ml_session_start(struct ml_session *s, char *err, size_t errlen);

/* What the tracer says it lost. */
struct ml_losses {
	uint64_t discarded_events;
	uint64_t lost_packets;
};

/*
 * Stops tracing, waits until no data is pending (every sub-buffer flushed to its output),
 * and reads the channel's discarded-event and lost-packet counts.
 */
int ml_session_stop(struct ml_session *s, struct ml_losses *lost, char *err, size_t errlen);

/* Destroys the session (no wait: the data is already out after ml_session_stop). */
int ml_session_destroy(struct ml_session *s, char *err, size_t errlen);

/*
 * Environment for the traced program: LTTNG_UST_ALLOW_BLOCKING=1 with blocking (without
 * it the tracer silently ignores the blocking timeout).  Sets it in this process's
 * environment (inherited by the child).  LTTNG_UST_REGISTER_TIMEOUT is left to the user:
 * its default (3 s) already makes the program wait for its registration at start, so
 * its first events are recorded.
 */
void ml_child_env(bool blocking);

/* Parses "HOST[:PORT]" (an IPv6 host in brackets); 0 or -1 with err. */
int ml_parse_hostport(const char *arg, char *host, size_t hostlen, int *port, char *err,
		      size_t errlen);

#endif /* MAGSLAB_ANALYSIS_LTTNG_H */
