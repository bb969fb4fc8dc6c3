/*
 * arena_test_util.h — helpers shared by the arena tests (test_arena*.c).
 *
 * Include after the cmocka headers.  Everything is static: each test program
 * gets its own copy.
 *
 * The error handler counts reports (atomically: threaded tests may report
 * from several threads) and keeps the last message in a thread-local buffer,
 * so a test can assert that exactly one message was reported by the call it
 * just made and that the message names the arena.
 */
#ifndef MAGSLAB_ARENA_TEST_UTIL_H
#define MAGSLAB_ARENA_TEST_UTIL_H

#include <errno.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <magslab/arena.h>
#include <magslab/error.h>

#define AT_MSG_LEN 512

static atomic_ulong at_err_count;
static _Thread_local char at_err_msg[AT_MSG_LEN];
static _Thread_local unsigned long at_err_thread_count;

static inline void at_error_handler(const char *msg, void *arg)
{
	(void)arg;
	atomic_fetch_add(&at_err_count, 1);
	at_err_thread_count++;
	snprintf(at_err_msg, sizeof(at_err_msg), "%s", msg ? msg : "(null)");
}

/* Installs the counting handler and zeroes the count. */
static inline void at_install_handler(void)
{
	magslab_set_error_handler(at_error_handler, NULL);
	atomic_store(&at_err_count, 0);
	at_err_thread_count = 0;
	at_err_msg[0] = '\0';
}

/* Zeroes the count and errno before a call that is expected to fail. */
static inline void at_reset_errors(void)
{
	atomic_store(&at_err_count, 0);
	at_err_thread_count = 0;
	at_err_msg[0] = '\0';
	errno = 0;
}

static inline unsigned long at_errors(void)
{
	return atomic_load(&at_err_count);
}

/* Exactly one message was reported since at_reset_errors(), errno is err,
 * and the message contains name (when name is not NULL). */
#define assert_one_error(err, name) do {                                      \
	int at_saved_errno_ = errno;                                           \
	if (at_errors() != 1)                                                  \
		print_error("expected exactly 1 error report, got %lu "        \
			    "(last: \"%s\")\n", at_errors(), at_err_msg);      \
	assert_int_equal(at_errors(), 1);                                      \
	if (at_saved_errno_ != (err))                                          \
		print_error("expected errno %d (%s), got %d (%s); "    \
			    "msg \"%s\"\n",                                 \
			    (err), strerror(err), at_saved_errno_,             \
			    strerror(at_saved_errno_), at_err_msg);            \
	assert_int_equal(at_saved_errno_, (err));                              \
	if ((name) != NULL && strstr(at_err_msg, (name)) == NULL)              \
		print_error("message \"%s\" does not name arena \"%s\"\n",     \
			    at_err_msg, (const char *)(name));                 \
	if ((name) != NULL)                                                    \
		assert_non_null(strstr(at_err_msg, (name)));                   \
	assert_string_equal(magslab_last_error(), at_err_msg);                 \
} while (0)

/* No message was reported since at_reset_errors(). */
#define assert_no_error() do {                                                 \
	if (at_errors() != 0)                                                  \
		print_error("unexpected error report(s): %lu, last \"%s\"\n",  \
			    at_errors(), at_err_msg);                          \
	assert_int_equal(at_errors(), 0);                                      \
} while (0)

/* arena_check() passes; on failure prints what the arena reported. */
#define assert_check(a) do {                                                   \
	int at_rc_ = arena_check(a);                                           \
	if (at_rc_ != 0)                                                       \
		print_error("arena_check(%s) failed: %s\n", arena_name(a),     \
			    magslab_last_error());                             \
	assert_int_equal(at_rc_, 0);                                           \
} while (0)

static inline struct arena_stats at_stats(struct arena *a)
{
	struct arena_stats st;

	memset(&st, 0xa5, sizeof(st));
	assert_int_equal(arena_stats(a, &st), 0);
	return st;
}

/* total == free + allocated and the segment counts add up. */
#define assert_accounting(a) do {                                              \
	struct arena_stats at_st_ = at_stats(a);                               \
	assert_int_equal(at_st_.total, at_st_.free + at_st_.allocated);        \
	assert_int_equal(at_st_.nr_segments,                                   \
			 at_st_.nr_alloc_segments + at_st_.nr_free_segments);  \
	assert_int_equal(at_st_.hash_items, at_st_.nr_alloc_segments);         \
} while (0)

#define PTR(x) ((void *)(uintptr_t)(x))
#define U(p)   ((uintptr_t)(p))

/* Deterministic PRNG (xorshift64*), seeded from MAGSLAB_SEED or a default. */
struct at_rng {
	uint64_t s;
};

static inline uint64_t at_seed(uint64_t dflt)
{
	const char *env = getenv("MAGSLAB_SEED");

	if (env && *env)
		return strtoull(env, NULL, 0);
	return dflt;
}

static inline void at_rng_init(struct at_rng *r, uint64_t seed)
{
	r->s = seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
	if (!r->s)
		r->s = 1;
}

static inline uint64_t at_rand(struct at_rng *r)
{
	uint64_t x = r->s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

/* Uniform in [0, n) (n > 0; the tiny modulo bias does not matter here). */
static inline uint64_t at_below(struct at_rng *r, uint64_t n)
{
	return at_rand(r) % n;
}

static inline int at_is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

/* A watchdog for calls that could hang (MEM_WAIT): the test program dies
 * with a message instead of hanging the suite. */
static inline void at_alarm_handler(int sig)
{
	static const char msg[] =
		"arena test: watchdog expired (a call hung, MEM_WAIT?)\n";

	(void)sig;
	if (write(2, msg, sizeof(msg) - 1) < 0) {
		/* nothing more to do */
	}
	_exit(99);
}

static inline void at_watchdog(unsigned int seconds)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = at_alarm_handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	alarm(seconds);
}

static inline void at_watchdog_off(void)
{
	alarm(0);
}

#endif /* MAGSLAB_ARENA_TEST_UTIL_H */
