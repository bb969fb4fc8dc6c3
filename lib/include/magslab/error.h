/*
 * magslab/error.h — how the library reports bad input.
 *
 * Every refused call (bad argument, double free, destroy with live objects...)
 * sets errno and passes one line, without a trailing newline, to the error
 * handler.  The default handler writes "magslab: <line>\n" to stderr.  The
 * handler is called with no magslab lock held, so it may call back into the
 * library.
 */
#ifndef MAGSLAB_ERROR_H
#define MAGSLAB_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*magslab_error_fn)(const char *msg, void *arg);

/* Sets the handler (NULL restores the default).  Process-wide. */
void magslab_set_error_handler(magslab_error_fn fn, void *arg);

/* The last message reported by this thread ("" if none): handy in tests. */
const char *magslab_last_error(void);

#ifdef __cplusplus
}
#endif
#endif /* MAGSLAB_ERROR_H */
