/*
 * error.c — the process-wide error handler and per-thread last message.
 *
 * Owns: the handler pointer and its argument (read and written atomically as
 * a pair under a tiny mutex: a handler change while another thread reports
 * must not pair the new function with the old argument), and a thread-local
 * copy of the last message.
 *
 * Locking: handler_lock is a leaf; it is never held while the handler runs.
 */
#include "error.h"
#include "fork.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t handler_lock = PTHREAD_MUTEX_INITIALIZER;
static magslab_error_fn handler_fn;
static void *handler_arg;
static _Thread_local char last_msg[MS_ERR_LEN];

static void default_handler(const char *msg, void *arg)
{
	(void)arg;
	fprintf(stderr, "magslab: %s\n", msg);
}

void error_fork_lock(void)
{
	pthread_mutex_lock(&handler_lock);
}

void error_fork_unlock(void)
{
	pthread_mutex_unlock(&handler_lock);
}

void magslab_set_error_handler(magslab_error_fn fn, void *arg)
{
	pthread_mutex_lock(&handler_lock);
	handler_fn = fn;
	handler_arg = arg;
	pthread_mutex_unlock(&handler_lock);
}

const char *magslab_last_error(void)
{
	return last_msg;
}

void ms_err_set(struct ms_err *e, int err, const char *fmt, ...)
{
	va_list ap;

	e->err = err;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
}

int ms_err_report(const struct ms_err *e)
{
	magslab_error_fn fn;
	void *arg;

	if (!e->err)
		return 0;
	pthread_mutex_lock(&handler_lock);
	fn = handler_fn ? handler_fn : default_handler;
	arg = handler_fn ? handler_arg : NULL;
	pthread_mutex_unlock(&handler_lock);
	snprintf(last_msg, sizeof(last_msg), "%s", e->msg);
	fn(e->msg, arg);
	/* Last, so that nothing the handler does can clobber it. */
	errno = e->err;
	return e->err;
}

void ms_error(int err, const char *fmt, ...)
{
	struct ms_err e;
	va_list ap;

	e.err = err;
	va_start(ap, fmt);
	vsnprintf(e.msg, sizeof(e.msg), fmt, ap);
	va_end(ap);
	ms_err_report(&e);
}
