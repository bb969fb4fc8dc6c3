/*
 * error.h — internal side of magslab/error.h: how modules report bad input.
 *
 * A module that refuses a call formats its message while it still holds its
 * lock (the facts are only stable there) into a struct ms_err, drops the
 * lock, then calls ms_err_report(), which sets errno and calls the handler.
 * The handler therefore never runs under a magslab lock.
 */
#ifndef MAGSLAB_ERROR_INTERNAL_H
#define MAGSLAB_ERROR_INTERNAL_H

#include <magslab/error.h>

#define MS_ERR_LEN 256

struct ms_err {
	int err;                 /* errno value; 0: nothing to report */
	char msg[MS_ERR_LEN];
};

/* Formats a message into e (printf-style) and records err. */
void ms_err_set(struct ms_err *e, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* If e holds an error: sets errno, calls the handler.  Returns e->err. */
int ms_err_report(const struct ms_err *e);

/* Formats and reports at once (for callers holding no lock). */
void ms_error(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif /* MAGSLAB_ERROR_INTERNAL_H */
