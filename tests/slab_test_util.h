/*
 * slab_test_util.h — helpers shared by the object-cache tests
 * (test_slab.c, test_magazine.c, test_slab_mt.c, test_qcache.c).
 *
 * Include after the cmocka headers.  Everything is static: each test program
 * gets its own copy.
 *
 * The error handler counts reports atomically (threaded tests report from
 * several threads) and keeps the last message in a thread-local buffer, so a
 * test can assert that exactly one message came from the call it just made,
 * which errno it set, and that the message names the cache or arena.
 *
 * Worker threads must not call cmocka asserts (cmocka is not thread-safe):
 * they record the first problem in their own result and the main thread
 * asserts after joining them.
 */
#ifndef MAGSLAB_SLAB_TEST_UTIL_H
#define MAGSLAB_SLAB_TEST_UTIL_H

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <magslab/arena.h>
#include <magslab/error.h>
#include <magslab/slab.h>

#define ST_MSG_LEN 512

#define PTR(x) ((void *)(uintptr_t)(x))
#define U(p)   ((uintptr_t)(p))

/* Sanitizer builds run fewer iterations. */
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define ST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define ST_SANITIZED 1
#endif
#endif
#ifndef ST_SANITIZED
#define ST_SANITIZED 0
#endif

#if defined(__SANITIZE_THREAD__)
#define ST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define ST_TSAN 1
#endif
#endif
#ifndef ST_TSAN
#define ST_TSAN 0
#endif

/* ---- error capture ------------------------------------------------------ */

static atomic_ulong st_err_count;
static _Thread_local char st_err_msg[ST_MSG_LEN];

static inline void st_error_handler(const char *msg, void *arg)
{
	(void)arg;
	atomic_fetch_add(&st_err_count, 1);
	snprintf(st_err_msg, sizeof(st_err_msg), "%s", msg ? msg : "(null)");
}

static inline void st_install_handler(void)
{
	magslab_set_error_handler(st_error_handler, NULL);
	atomic_store(&st_err_count, 0);
	st_err_msg[0] = '\0';
}

/* Zeroes the count, the last message and errno before a call that is
 * expected to fail (or expected to stay silent). */
static inline void st_reset_errors(void)
{
	atomic_store(&st_err_count, 0);
	st_err_msg[0] = '\0';
	errno = 0;
}

static inline unsigned long st_errors(void)
{
	return atomic_load(&st_err_count);
}

/* NULL names nothing: true.  Else: does the last message contain name? */
static inline bool st_msg_names(const char *name)
{
	return name == NULL || strstr(st_err_msg, name) != NULL;
}

/* Exactly one message since st_reset_errors(), errno is err, and the message
 * contains name (when name is not NULL). */
#define assert_one_error(err, name) do {                                      \
	int st_saved_errno_ = errno;                                           \
	if (st_errors() != 1)                                                  \
		print_error("expected exactly 1 error report, got %lu "        \
			    "(last: \"%s\")\n", st_errors(), st_err_msg);      \
	assert_int_equal(st_errors(), 1);                                      \
	if (st_saved_errno_ != (err))                                          \
		print_error("expected errno %d (%s), got %d (%s); msg \"%s\"\n",\
			    (err), strerror(err), st_saved_errno_,             \
			    strerror(st_saved_errno_), st_err_msg);            \
	assert_int_equal(st_saved_errno_, (err));                              \
	if (!st_msg_names(name))                                               \
		print_error("message \"%s\" does not name \"%s\"\n",           \
			    st_err_msg, (const char *)(name));                 \
	assert_true(st_msg_names(name));                                       \
} while (0)

#define assert_no_error() do {                                                 \
	if (st_errors() != 0)                                                  \
		print_error("unexpected error report(s): %lu, last \"%s\"\n",  \
			    st_errors(), st_err_msg);                          \
	assert_int_equal(st_errors(), 0);                                      \
} while (0)

/* Does msg contain p's address in hex (with or without 0x, any case)? */
static inline bool st_msg_has_addr(const char *msg, const void *p)
{
	char hex[32];

	snprintf(hex, sizeof(hex), "%lx", (unsigned long)U(p));
	return strcasestr(msg, hex) != NULL;
}

#define assert_msg_has_addr(p) do {                                            \
	if (!st_msg_has_addr(st_err_msg, (p)))                                 \
		print_error("message \"%s\" does not contain address %p\n",    \
			    st_err_msg, (const void *)(p));                    \
	assert_true(st_msg_has_addr(st_err_msg, (p)));                         \
} while (0)

/* ---- stats ---------------------------------------------------------------- */

static inline struct kmem_cache_stats st_stats(struct kmem_cache *kc)
{
	struct kmem_cache_stats st;

	memset(&st, 0xa5, sizeof(st));
	assert_int_equal(kmem_cache_stats(kc, &st), 0);
	return st;
}

static inline struct arena_stats st_arena_stats(struct arena *a)
{
	struct arena_stats st;

	memset(&st, 0xa5, sizeof(st));
	assert_int_equal(arena_stats(a, &st), 0);
	return st;
}

#define assert_arena_check(a) do {                                             \
	int st_rc_ = arena_check(a);                                           \
	if (st_rc_ != 0)                                                       \
		print_error("arena_check(%s) failed: %s\n", arena_name(a),     \
			    magslab_last_error());                             \
	assert_int_equal(st_rc_, 0);                                           \
} while (0)

/* Equality of two stats fields, printing the field's name on failure. */
#define assert_stat(st, field, want) do {                                      \
	unsigned long long st_got_ = (unsigned long long)(st).field;           \
	unsigned long long st_want_ = (unsigned long long)(want);              \
	if (st_got_ != st_want_)                                               \
		print_error("stats." #field ": expected %llu, got %llu\n",     \
			    st_want_, st_got_);                                \
	assert_int_equal(st_got_, st_want_);                                   \
} while (0)

/* The counters every quiescent cache must satisfy: every object that left
 * a slab is either held by the user or sitting in a magazine. */
#define assert_cache_consistent(st) do {                                       \
	assert_stat(st, objs_in_slabs, (st).objs_in_mags + (st).live_objs);    \
	assert_stat(st, slabs, (st).slabs_full + (st).slabs_partial +          \
		    (st).slabs_empty);                                         \
	assert_stat(st, objs_free_in_slabs,                                    \
		    (st).slabs * (st).objs_per_slab - (st).objs_in_slabs);     \
	if ((st).uses_bufctl)                                                  \
		assert_stat(st, hash_items, (st).objs_in_slabs);               \
} while (0)

/* ---- memory regions and arenas -------------------------------------------- */

static inline size_t st_page(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

/* A region of our own address space: readable/writable (real memory that
 * slabs may write) or PROT_NONE (any touch kills the test: proves a cache
 * or quantum cache never writes the memory it manages). */
struct st_region {
	void *base;
	size_t size;
	struct arena *arena;
};

static inline void st_region_map(struct st_region *r, size_t size, int prot)
{
	void *p = mmap(NULL, size, prot, MAP_PRIVATE | MAP_ANONYMOUS |
		       MAP_NORESERVE, -1, 0);

	assert_true(p != MAP_FAILED);
	r->base = p;
	r->size = size;
	r->arena = NULL;
}

/* A bounded arena (no source) over a fresh mapping. */
static inline struct arena *st_region_arena(struct st_region *r,
					    const char *name, size_t size,
					    int prot, size_t quantum,
					    size_t qcache_max)
{
	st_region_map(r, size, prot);
	r->arena = arena_create(name, r->base, size, quantum, NULL, NULL, NULL,
				qcache_max, 0);
	if (!r->arena)
		print_error("arena_create(%s) failed: %s\n", name,
			    magslab_last_error());
	assert_non_null(r->arena);
	return r->arena;
}

/* Destroys the arena (must succeed) and unmaps the region. */
static inline void st_region_destroy(struct st_region *r)
{
	if (r->arena) {
		int rc = arena_destroy(r->arena);

		if (rc != 0)
			print_error("arena_destroy(%s) failed: %s\n",
				    arena_name(r->arena),
				    magslab_last_error());
		assert_int_equal(rc, 0);
		r->arena = NULL;
	}
	if (r->base)
		munmap(r->base, r->size);
	r->base = NULL;
}

/* ---- caches -------------------------------------------------------------------- */

#define st_destroy(kc) do {                                                    \
	int st_drc_ = kmem_cache_destroy(kc);                                  \
	if (st_drc_ != 0)                                                      \
		print_error("kmem_cache_destroy(%s) failed: %s\n",             \
			    kmem_cache_name(kc), magslab_last_error());        \
	assert_int_equal(st_drc_, 0);                                          \
} while (0)

static inline struct kmem_cache *st_create(const char *name, size_t size,
					   size_t align, int flags,
					   struct arena *src)
{
	struct kmem_cache *kc = kmem_cache_create(name, size, align, flags,
						  src, NULL, NULL, NULL);

	if (!kc)
		print_error("kmem_cache_create(%s, %zu, %zu, %#x) failed: %s\n",
			    name, size, align, flags, magslab_last_error());
	assert_non_null(kc);
	return kc;
}

/* ctor/dtor that count, with a switch to make the ctor fail. */
struct st_counts {
	atomic_ulong ctor;
	atomic_ulong dtor;
	atomic_int fail_ctor;      /* ctor returns non-zero while set */
	atomic_ulong ctor_bad_priv;
	int last_flags;
	size_t obj_size;           /* ctor writes a pattern into the object */
};

#define ST_CTOR_MAGIC 0xC0DEC0DEu

static inline int st_ctor(void *obj, void *priv, int flags)
{
	struct st_counts *c = priv;

	if (!c) {
		return 0;
	}
	c->last_flags = flags;
	if (atomic_load(&c->fail_ctor))
		return -1;
	atomic_fetch_add(&c->ctor, 1);
	if (c->obj_size >= 2 * sizeof(uint32_t))
		((uint32_t *)obj)[1] = ST_CTOR_MAGIC;
	return 0;
}

static inline void st_dtor(void *obj, void *priv)
{
	struct st_counts *c = priv;

	(void)obj;
	if (c)
		atomic_fetch_add(&c->dtor, 1);
}

/* ---- process-wide settings -------------------------------------------------- */

static inline unsigned int st_online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (unsigned int)n : 1;
}

/* One more than the highest CPU number (the rseq mode needs a slot each). */
static inline unsigned int st_possible_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_CONF);

	return n > 0 ? (unsigned int)n : 1;
}

/* The pcc mode MAGSLAB_PCC_MODE asks for (the runner's "locked" and "norseq"
 * passes set it, or turn rseq off in glibc). */
static inline enum magslab_pcc_mode st_env_pcc_mode(void)
{
	const char *v = getenv("MAGSLAB_PCC_MODE");

	if (v && !strcasecmp(v, "locked"))
		return MAGSLAB_PCC_MODE_LOCKED;
	if (v && !strcasecmp(v, "rseq"))
		return MAGSLAB_PCC_MODE_RSEQ;
	return MAGSLAB_PCC_MODE_AUTO;
}

/* The pcc mode a cache with these settings must report.  The runner says
 * what this machine and pass allow in MAGSLAB_EXPECT_PCC_MODE ("locked"
 * when rseq is off); without it, x86-64 builds other than TSan get rseq. */
static inline const char *st_expected_pcc_mode(unsigned int slots,
					       enum magslab_pcc_map map)
{
	const char *e = getenv("MAGSLAB_EXPECT_PCC_MODE");

	if (map == MAGSLAB_PCC_BY_THREAD || slots < st_possible_cpus() ||
	    st_env_pcc_mode() == MAGSLAB_PCC_MODE_LOCKED)
		return "locked";
	if (e && *e)
		return e;
#if defined(__x86_64__) && !ST_TSAN
	return "rseq";
#else
	return "locked";
#endif
}

/* Back to the defaults a fresh process has (as far as the API lets us). */
static inline void st_reset_settings(void)
{
	magslab_set_ncpus(st_online_cpus());
	magslab_set_pcc_map(MAGSLAB_PCC_BY_CPU);
	magslab_set_pcc_mode(st_env_pcc_mode());
	magslab_set_debug(0);
}

/* ---- time, randomness, watchdog ------------------------------------------------ */

static inline uint64_t st_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void st_sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

struct st_rng {
	uint64_t s;
};

static inline uint64_t st_seed(uint64_t dflt)
{
	const char *env = getenv("MAGSLAB_SEED");

	if (env && *env)
		return strtoull(env, NULL, 0);
	return dflt;
}

static inline void st_rng_init(struct st_rng *r, uint64_t seed)
{
	r->s = seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull;
	if (!r->s)
		r->s = 1;
}

static inline uint64_t st_rand(struct st_rng *r)
{
	uint64_t x = r->s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	r->s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

static inline uint64_t st_below(struct st_rng *r, uint64_t n)
{
	return st_rand(r) % n;
}

static inline int st_is_pow2(uint64_t x)
{
	return x && !(x & (x - 1));
}

static inline void st_alarm_handler(int sig)
{
	static const char msg[] =
		"slab test: watchdog expired (a call hung or deadlocked)\n";

	(void)sig;
	if (write(2, msg, sizeof(msg) - 1) < 0) {
		/* nothing more to do */
	}
	_exit(99);
}

static inline void st_watchdog(unsigned int seconds)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = st_alarm_handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGALRM, &sa, NULL);
	alarm(seconds);
}

static inline void st_watchdog_off(void)
{
	alarm(0);
}

/* The process's mapped size and resident set (RSS), in bytes, from
 * /proc/self/statm; false if it cannot be read. */
static inline bool st_statm(size_t *mapped, size_t *resident)
{
	unsigned long size = 0, res = 0;
	FILE *f = fopen("/proc/self/statm", "r");
	bool ok = f && fscanf(f, "%lu %lu", &size, &res) == 2;

	if (f)
		fclose(f);
	*mapped = size * st_page();
	*resident = res * st_page();
	return ok;
}

static inline size_t st_rss_bytes(void)
{
	size_t mapped, resident;

	if (!st_statm(&mapped, &resident))
		abort();
	return resident;
}

/* Per-test setup and teardown of the threaded suites: default settings, no
 * errors so far, and a watchdog (a hung test fails instead of stalling). */
static inline int st_mt_setup(void **state)
{
	(void)state;
	st_reset_settings();
	st_reset_errors();
	st_watchdog(ST_TSAN ? 240 : 120);
	return 0;
}

static inline int st_mt_teardown(void **state)
{
	(void)state;
	st_watchdog_off();
	st_reset_settings();
	return 0;
}

/* Sorts addresses and checks that no two [a, a + size) overlap. */
static inline int st_cmp_uptr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

#endif /* MAGSLAB_SLAB_TEST_UTIL_H */
