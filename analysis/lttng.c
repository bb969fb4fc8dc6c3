/*
 * analysis/lttng.c — LTTng daemons and recording sessions through liblttng-ctl (see
 * lttng.h for what this module owns).
 *
 * Invariants:
 *   - a struct ml_daemon with pid != 0 is a child of this process that has not been
 *     reaped; ml_daemon_stop() is the only place that signals or reaps it.
 *   - a daemon that was running before we looked is never signalled.
 *   - a session is stopped (and its data no longer pending) before it is destroyed, so the
 *     trace on disk is complete when ml_session_destroy() returns.
 *
 * No locks and no threads.  Signals: ml_sessiond_ensure() blocks SIGUSR1 while it waits
 * for the new daemon's readiness signal and restores the mask before returning.  The
 * daemons are children started and stopped through proc.h.
 *
 * FAQ
 *   Why fork/exec the daemons instead of `lttng-sessiond --daemonize`?  A daemonized
 *   process is not our child: we would have to find its pid again (a pid file whose
 *   location depends on the user) to stop only what we started.  As a child started with
 *   --sig-parent it tells us when it is ready, and its pid is known.
 *   Why wait for the destruction?  lttng_destroy_session_no_wait() returns before the
 *   consumer daemon has closed the trace files; with our own session daemon stopped right
 *   after, the last packets could be cut.  The wait costs ~0.5 s per session.
 */
#include "lttng.h"
#include "proc.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lttng/lttng.h>

#define CHANNEL "magslab"
#define START_TIMEOUT_MS 10000
#define STOP_TIMEOUT_MS 5000
#define DESTROY_TIMEOUT_MS 10000
#define RELAYD_TRIES 5

/* First line of a daemon's log, for an error message ("" if none). */
static void log_head(const char *log, char *buf, size_t len)
{
	FILE *f = fopen(log, "r");
	size_t n;

	buf[0] = '\0';
	if (!f)
		return;
	while (fgets(buf, (int)len, f)) {
		n = strlen(buf);
		while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
			buf[--n] = '\0';
		if (n) /* the first non-empty line */
			break;
	}
	fclose(f);
}

/* ---- daemons --------------------------------------------------------------------------- */

/*
 * Starts a daemon (d->pid, or -1 with errno): its own process group (a terminal's Ctrl-C
 * goes to the front end, which stops the session first), nothing blocked, stdin from
 * /dev/null, stdout and stderr to its log.
 */
static pid_t spawn_daemon(struct ml_daemon *d, char *const argv[])
{
	int log = proc_open_out(d->log), e;
	struct proc_spec s = { argv, PROC_DEVNULL, log >= 0 ? log : PROC_KEEP,
			       log >= 0 ? log : PROC_KEEP, NULL, PROC_OWN_GROUP | PROC_UNBLOCK,
			       NULL, NULL, NULL };

	d->pid = proc_spawn(&s);
	e = errno;
	if (log >= 0)
		close(log);
	errno = e;
	return d->pid;
}

/* Why a daemon that exited early did so, into err. */
static void explain_exit(const struct ml_daemon *d, int status, char *err, size_t errlen)
{
	char head[512];

	log_head(d->log, head, sizeof(head));
	if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
		tl_seterr(err, errlen, "%s not found or not executable: install lttng-tools "
		       "(make deps)%s%s", d->name, head[0] ? ": " : "", head);
	else if (WIFEXITED(status))
		tl_seterr(err, errlen, "%s exited with status %d at start%s%s (log: %s)", d->name,
		       WEXITSTATUS(status), head[0] ? ": " : "", head, d->log);
	else
		tl_seterr(err, errlen, "%s was killed by signal %d at start (log: %s)", d->name,
		       WTERMSIG(status), d->log);
}

void ml_daemon_stop(struct ml_daemon *d)
{
	static const int sigs[] = { SIGTERM, SIGKILL };
	static const double grace[] = { STOP_TIMEOUT_MS / 1000.0, -1 };
	int status;

	if (d->pid <= 0)
		return;
	proc_stop(d->pid, &status, sigs, grace, 2);
	d->pid = 0;
}

/* Waits for SIGUSR1 from the new session daemon (or its early exit). */
static int wait_ready(struct ml_daemon *d, char *err, size_t errlen)
{
	sigset_t usr1;
	struct timespec step = { 0, 50 * 1000000L };
	int waited, status;

	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	for (waited = 0; waited < START_TIMEOUT_MS; waited += 50) {
		if (sigtimedwait(&usr1, NULL, &step) == SIGUSR1)
			return 0;
		if (proc_ended(d->pid, &status)) {
			d->pid = 0;
			explain_exit(d, status, err, errlen);
			return -1;
		}
	}
	tl_seterr(err, errlen, "%s did not become ready within %d s (log: %s)", d->name,
	       START_TIMEOUT_MS / 1000, d->log);
	ml_daemon_stop(d);
	return -1;
}

int ml_sessiond_ensure(struct ml_daemon *d, const char *logdir, bool *started, char *err,
		       size_t errlen)
{
	char *argv[] = { "lttng-sessiond", "--sig-parent", "--no-kernel", NULL };
	sigset_t usr1, old;
	int rc;

	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "lttng-sessiond");
	if (started)
		*started = false;
	if (lttng_session_daemon_alive() == 1)
		return 0;
	snprintf(d->log, sizeof(d->log), "%s/ml-sessiond.log", logdir);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, &old);
	if (spawn_daemon(d, argv) < 0) {
		tl_seterr(err, errlen, "cannot start lttng-sessiond: fork: %s", strerror(errno));
		d->pid = 0;
		sigprocmask(SIG_SETMASK, &old, NULL);
		return -1;
	}
	rc = wait_ready(d, err, errlen);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (rc == 0 && started)
		*started = true;
	return rc;
}

/* A free TCP port on 127.0.0.1 (bound and released: another process may take it). */
static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), port = -1;

	if (fd < 0)
		return -1;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	close(fd);
	return port;
}

/* Whether something listens on 127.0.0.1:port (from /proc/net/tcp: state 0A). */
static bool listening(int port)
{
	FILE *f = fopen("/proc/net/tcp", "r");
	char line[512], want[32];
	bool found = false;

	if (!f)
		return false;
	snprintf(want, sizeof(want), "0100007F:%04X", port);
	while (!found && fgets(line, sizeof(line), f)) {
		char local[64], remote[64], state[8];

		if (sscanf(line, " %*d: %63s %63s %7s", local, remote, state) == 3)
			found = strcmp(local, want) == 0 && strcmp(state, "0A") == 0;
	}
	fclose(f);
	return found;
}

/* One attempt: 1 ready, 0 exited (ports taken? try again), -1 failed for good. */
static int relayd_try(struct ml_relayd *r, char *err, size_t errlen)
{
	char c[64], dt[64], lv[64];
	char *argv[] = { "lttng-relayd", "-C", c, "-D", dt, "-L", lv, "-o", r->output, NULL };
	int waited, status;

	r->control_port = free_port();
	r->data_port = free_port();
	r->live_port = free_port();
	if (r->control_port < 0 || r->data_port < 0 || r->live_port < 0) {
		tl_seterr(err, errlen, "cannot find a free port on 127.0.0.1: %s", strerror(errno));
		return -1;
	}
	snprintf(c, sizeof(c), "tcp://127.0.0.1:%d", r->control_port);
	snprintf(dt, sizeof(dt), "tcp://127.0.0.1:%d", r->data_port);
	snprintf(lv, sizeof(lv), "tcp://127.0.0.1:%d", r->live_port);
	if (spawn_daemon(&r->d, argv) < 0) {
		r->d.pid = 0;
		tl_seterr(err, errlen, "cannot start lttng-relayd: fork: %s", strerror(errno));
		return -1;
	}
	for (waited = 0; waited < START_TIMEOUT_MS; waited += 20) {
		if (listening(r->control_port) && listening(r->data_port) &&
		    listening(r->live_port))
			return 1;
		if (proc_ended(r->d.pid, &status)) {
			r->d.pid = 0;
			explain_exit(&r->d, status, err, errlen);
			return WIFEXITED(status) && WEXITSTATUS(status) == 127 ? -1 : 0;
		}
		fe_sleep_ms(20);
	}
	tl_seterr(err, errlen, "lttng-relayd did not listen within %d s (log: %s)",
	       START_TIMEOUT_MS / 1000, r->d.log);
	ml_daemon_stop(&r->d);
	return -1;
}

int ml_relayd_start(struct ml_relayd *r, const char *output, const char *logdir, char *err,
		    size_t errlen)
{
	int i, rc = 0;

	memset(r, 0, sizeof(*r));
	snprintf(r->d.name, sizeof(r->d.name), "lttng-relayd");
	snprintf(r->d.log, sizeof(r->d.log), "%s/ml-relayd.log", logdir);
	snprintf(r->output, sizeof(r->output), "%s", output);
	for (i = 0; i < RELAYD_TRIES && rc == 0; i++)
		rc = relayd_try(r, err, errlen);
	return rc == 1 ? 0 : -1;
}

/* ---- sessions -------------------------------------------------------------------------- */

int ml_parse_hostport(const char *arg, char *host, size_t hostlen, int *port, char *err,
		      size_t errlen)
{
	const char *p = arg, *colon;
	size_t n;

	*port = ML_RELAYD_PORT;
	if (*p == '[') {
		const char *close = strchr(p, ']');

		if (!close)
			goto bad;
		n = (size_t)(close - p - 1);
		p++;
		colon = close[1] == ':' ? close + 1 : NULL;
		if (close[1] && !colon)
			goto bad;
	} else {
		colon = strchr(p, ':');
		if (colon && strchr(colon + 1, ':'))
			goto bad; /* a bare IPv6 address: needs brackets */
		n = colon ? (size_t)(colon - p) : strlen(p);
	}
	if (n == 0 || n >= hostlen)
		goto bad;
	memcpy(host, p, n);
	host[n] = '\0';
	if (colon) {
		char *end;
		long v;

		errno = 0;
		v = strtol(colon + 1, &end, 10);
		if (errno || end == colon + 1 || *end || v < 1 || v > 65534)
			goto bad;
		*port = (int)v;
	}
	return 0;
bad:
	tl_seterr(err, errlen, "'%s' is not HOST[:PORT] (PORT 1 to 65534; an IPv6 address in "
	       "brackets)", arg);
	return -1;
}

static void relayd_urls(const struct ml_session_opts *o, char *ctrl, char *data, size_t len,
			char *err, size_t errlen, int *rc)
{
	char host[256];
	int port;
	bool v6;

	*rc = ml_parse_hostport(o->relayd, host, sizeof(host), &port, err, errlen);
	if (*rc)
		return;
	v6 = strchr(host, ':') != NULL;
	snprintf(ctrl, len, "%s://%s%s%s:%d", v6 ? "tcp6" : "tcp", v6 ? "[" : "", host,
		 v6 ? "]" : "", port);
	snprintf(data, len, "%s://%s%s%s:%d", v6 ? "tcp6" : "tcp", v6 ? "[" : "", host,
		 v6 ? "]" : "", o->relayd_data_port ? o->relayd_data_port : port + 1);
}

static struct lttng_session_descriptor *make_descriptor(const struct ml_session_opts *o,
							 const char *name, char *err,
							 size_t errlen)
{
	char ctrl[300], data[300];
	int rc;

	if (!o->relayd) {
		if (o->live_timer_us) {
			tl_seterr(err, errlen, "a live session needs a relay daemon");
			return NULL;
		}
		return lttng_session_descriptor_local_create(name, o->output);
	}
	relayd_urls(o, ctrl, data, sizeof(ctrl), err, errlen, &rc);
	if (rc)
		return NULL;
	if (o->live_timer_us)
		return lttng_session_descriptor_live_network_create(name, ctrl, data,
								    o->live_timer_us);
	return lttng_session_descriptor_network_create(name, ctrl, data);
}

static void domain_of(const struct ml_session_opts *o, struct lttng_domain *dom)
{
	memset(dom, 0, sizeof(*dom));
	dom->type = LTTNG_DOMAIN_UST;
	dom->buf_type = o->buffers_pid ? LTTNG_BUFFER_PER_PID : LTTNG_BUFFER_PER_UID;
}

static int enable_channel(const struct ml_session_opts *o, struct lttng_handle *h,
			  struct lttng_domain *dom, char *err, size_t errlen)
{
	struct lttng_channel *ch = lttng_channel_create(dom);
	int ret;

	if (!ch) {
		tl_seterr(err, errlen, "cannot create the channel: out of memory");
		return -1;
	}
	snprintf(ch->name, sizeof(ch->name), CHANNEL);
	ch->attr.overwrite = 0;
	ch->attr.subbuf_size = o->subbuf_size ? o->subbuf_size : ML_SUBBUF_DEFAULT;
	ch->attr.num_subbuf = o->num_subbuf ? o->num_subbuf : ML_NUM_SUBBUF;
	ch->attr.output = LTTNG_EVENT_MMAP;
	if (o->blocking)
		lttng_channel_set_blocking_timeout(ch, -1);
	ret = lttng_enable_channel(h, ch);
	lttng_channel_destroy(ch);
	if (ret < 0) {
		tl_seterr(err, errlen, "cannot enable the channel (sub-buffers %llu × %llu B): %s",
		       (unsigned long long)(o->num_subbuf ? o->num_subbuf : ML_NUM_SUBBUF),
		       (unsigned long long)(o->subbuf_size ? o->subbuf_size : ML_SUBBUF_DEFAULT),
		       lttng_strerror(ret));
		return -1;
	}
	return 0;
}

static int enable_one_event(struct lttng_handle *h, const char *name, char *err,
			    size_t errlen)
{
	struct lttng_event *ev = lttng_event_create();
	int ret;

	if (!ev) {
		tl_seterr(err, errlen, "out of memory");
		return -1;
	}
	if (strlen(name) >= sizeof(ev->name)) {
		tl_seterr(err, errlen, "event name too long: '%s'", name);
		lttng_event_destroy(ev);
		return -1;
	}
	ev->type = LTTNG_EVENT_TRACEPOINT;
	ev->loglevel_type = LTTNG_EVENT_LOGLEVEL_ALL;
	snprintf(ev->name, sizeof(ev->name), "%s", name);
	ret = lttng_enable_event_with_exclusions(h, ev, CHANNEL, NULL, 0, NULL);
	lttng_event_destroy(ev);
	if (ret < 0) {
		tl_seterr(err, errlen, "cannot enable event '%s': %s", name, lttng_strerror(ret));
		return -1;
	}
	return 0;
}

static int enable_events(const char *list, struct lttng_handle *h, char *err, size_t errlen)
{
	char *copy = strdup(list), *save = NULL, *name;
	int rc = 0, n = 0;

	if (!copy) {
		tl_seterr(err, errlen, "out of memory");
		return -1;
	}
	for (name = strtok_r(copy, ",", &save); name && rc == 0;
	     name = strtok_r(NULL, ",", &save)) {
		while (*name == ' ')
			name++;
		if (*name) {
			rc = enable_one_event(h, name, err, errlen);
			n++;
		}
	}
	free(copy);
	if (rc == 0 && n == 0) {
		tl_seterr(err, errlen, "--events: no event name in '%s'", list);
		rc = -1;
	}
	return rc;
}

static int add_context(struct lttng_handle *h, enum lttng_event_context_type type,
		       const char *what, char *err, size_t errlen)
{
	struct lttng_event_context ctx;
	int ret;

	memset(&ctx, 0, sizeof(ctx));
	ctx.ctx = type;
	ret = lttng_add_context(h, &ctx, NULL, CHANNEL);
	if (ret < 0) {
		tl_seterr(err, errlen, "cannot add the %s context: %s", what, lttng_strerror(ret));
		return -1;
	}
	return 0;
}

static int configure(const struct ml_session_opts *o, const char *name, char *err,
		     size_t errlen)
{
	struct lttng_domain dom;
	struct lttng_handle *h;
	int rc;

	domain_of(o, &dom);
	h = lttng_create_handle(name, &dom);
	if (!h) {
		tl_seterr(err, errlen, "cannot get a handle on session %s", name);
		return -1;
	}
	rc = enable_channel(o, h, &dom, err, errlen);
	if (rc == 0)
		rc = enable_events(o->events ? o->events : ML_EVENTS_DEFAULT, h, err, errlen);
	/* vpid: the report tells processes apart with it (per-UID buffers). */
	if (rc == 0)
		rc = add_context(h, LTTNG_EVENT_CONTEXT_VPID, "vpid", err, errlen);
	if (rc == 0)
		rc = add_context(h, LTTNG_EVENT_CONTEXT_PROCNAME, "procname", err, errlen);
	lttng_destroy_handle(h);
	return rc;
}

int ml_session_create(const struct ml_session_opts *o, struct ml_session *s, char *err,
		      size_t errlen)
{
	struct lttng_session_descriptor *desc;
	enum lttng_error_code ret;

	memset(s, 0, sizeof(*s));
	if (o->name)
		snprintf(s->name, sizeof(s->name), "%s", o->name);
	else
		snprintf(s->name, sizeof(s->name), "magslab-%ld-%ld", (long)getpid(),
			 (long)time(NULL));
	desc = make_descriptor(o, s->name, err, errlen);
	if (!desc) {
		if (!err[0])
			tl_seterr(err, errlen, "cannot describe session %s", s->name);
		return -1;
	}
	ret = lttng_create_session_ext(desc);
	lttng_session_descriptor_destroy(desc);
	if (ret != LTTNG_OK) {
		tl_seterr(err, errlen, "cannot create session %s: %s", s->name,
		       lttng_strerror(-(int)ret));
		return -1;
	}
	s->created = true;
	if (configure(o, s->name, err, errlen)) {
		char ignored[ML_ERRLEN];

		ml_session_destroy(s, ignored, sizeof(ignored));
		return -1;
	}
	return 0;
}

int ml_session_start(struct ml_session *s, char *err, size_t errlen)
{
	int ret = lttng_start_tracing(s->name);

	if (ret < 0) {
		tl_seterr(err, errlen, "cannot start session %s: %s", s->name, lttng_strerror(ret));
		return -1;
	}
	s->started = true;
	return 0;
}

static int read_losses(struct ml_session *s, struct ml_losses *lost, char *err,
		       size_t errlen)
{
	struct ml_session_opts none = { 0 };
	struct lttng_domain dom;
	struct lttng_handle *h;
	struct lttng_channel *chans = NULL;
	int n, i, rc = -1;

	memset(lost, 0, sizeof(*lost));
	domain_of(&none, &dom);
	h = lttng_create_handle(s->name, &dom);
	if (!h) {
		tl_seterr(err, errlen, "cannot get a handle on session %s", s->name);
		return -1;
	}
	n = lttng_list_channels(h, &chans);
	if (n < 0) {
		tl_seterr(err, errlen, "cannot list the channels of %s: %s", s->name,
		       lttng_strerror(n));
		goto out;
	}
	for (i = 0; i < n; i++) {
		uint64_t d = 0, p = 0;

		if (lttng_channel_get_discarded_event_count(&chans[i], &d) == 0)
			lost->discarded_events += d;
		if (lttng_channel_get_lost_packet_count(&chans[i], &p) == 0)
			lost->lost_packets += p;
	}
	rc = 0;
out:
	free(chans);
	lttng_destroy_handle(h);
	return rc;
}

int ml_session_stop(struct ml_session *s, struct ml_losses *lost, char *err, size_t errlen)
{
	int ret, waited;

	if (s->started) {
		ret = lttng_stop_tracing_no_wait(s->name);
		if (ret < 0 && ret != -LTTNG_ERR_TRACE_ALREADY_STOPPED) {
			tl_seterr(err, errlen, "cannot stop session %s: %s", s->name,
			       lttng_strerror(ret));
			return -1;
		}
		s->started = false;
	}
	for (waited = 0;; waited += 10) {
		ret = lttng_data_pending(s->name);
		if (ret == 0)
			break;
		if (ret < 0) {
			tl_seterr(err, errlen, "cannot wait for the data of session %s: %s", s->name,
			       lttng_strerror(ret));
			return -1;
		}
		if (waited == 2000)
			fprintf(stderr, "magslab: waiting for the tracer to flush session %s...\n",
				s->name);
		fe_sleep_ms(10);
	}
	return lost ? read_losses(s, lost, err, errlen) : 0;
}

int ml_session_destroy(struct ml_session *s, char *err, size_t errlen)
{
	struct lttng_destruction_handle *dh = NULL;
	enum lttng_destruction_handle_status st;
	enum lttng_error_code ret;

	if (!s->created)
		return 0;
	ret = lttng_destroy_session_ext(s->name, &dh);
	s->created = false;
	if (ret != LTTNG_OK) {
		tl_seterr(err, errlen, "cannot destroy session %s: %s", s->name,
		       lttng_strerror(-(int)ret));
		return -1;
	}
	st = lttng_destruction_handle_wait_for_completion(dh, DESTROY_TIMEOUT_MS);
	lttng_destruction_handle_destroy(dh);
	if (st != LTTNG_DESTRUCTION_HANDLE_STATUS_COMPLETED) {
		tl_seterr(err, errlen, "session %s: the tracer did not finish closing the trace "
		       "within %d s", s->name, DESTROY_TIMEOUT_MS / 1000);
		return -1;
	}
	return 0;
}

void ml_child_env(bool blocking)
{
	if (blocking)
		setenv("LTTNG_UST_ALLOW_BLOCKING", "1", 1);
}
