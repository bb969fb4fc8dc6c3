/*
 * test_cpu_config.c — cmocka tests for cpu.h (pcc slot choice) and config.h
 * (process-wide defaults from the environment and the setters).
 *
 * pcc_slot: always in range, for both maps, from many threads at once; the
 * by-thread map hands consecutive slots to threads that start one after
 * another; the by-cpu map returns the CPU a pinned thread runs on (checked
 * against sched_getcpu() on every CPU we may run on), both through rseq and,
 * in a re-executed copy of this program with GLIBC_TUNABLES=
 * glibc.pthread.rseq=0, through the sched_getcpu() fallback.
 *
 * config: the environment is read once (checked by the first test that
 * touches the process-wide config, with an error handler that calls back
 * into the config); every variable's good, edge and bad values through
 * magslab_config_parse_env(); the exact message format; the setters'
 * validation; setters racing with readers.
 *
 * pcc mode: what a new cache gets under each setting (auto, locked, rseq;
 * by-thread map; fewer and more slots than CPUs; no magazines) and the
 * reason it reports when it is not rseq.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <magslab/error.h>
#include <magslab/slab.h>

#include "config.h"
#include "cpu.h"
#include "policy.h"

extern char **environ;

#define CHILD_ARG  "--rseq-off-child"
#define EXIT_SKIP  77

/* ---------------------------------------------------------------------------
 * Error capture. */

#define MSG_LEN 512

static atomic_uint err_count;
static char err_last[MSG_LEN];
static atomic_bool handler_calls_config;

static void capture_handler(const char *msg, void *arg)
{
	(void)arg;
	atomic_fetch_add(&err_count, 1);
	snprintf(err_last, sizeof(err_last), "%s", msg);
	if (atomic_load(&handler_calls_config)) {
		struct magslab_config c;

		/* Must not deadlock, even when reporting env errors. */
		magslab_config_get(&c);
	}
}

static void capture_start(void)
{
	magslab_set_error_handler(capture_handler, NULL);
	atomic_store(&err_count, 0);
	err_last[0] = '\0';
	errno = 0;
}

static void capture_stop(void)
{
	magslab_set_error_handler(NULL, NULL);
}

static const char *const env_vars[] = {
	"MAGSLAB_RESIZE_THRESHOLD", "MAGSLAB_RESIZE_TIMEOUT_NS",
	"MAGSLAB_POLICY", "MAGSLAB_NCPUS", "MAGSLAB_PCC_MAP", "MAGSLAB_DEBUG",
	"MAGSLAB_PCC_MODE",
};

static void clear_env(void)
{
	for (size_t i = 0; i < sizeof(env_vars) / sizeof(env_vars[0]); i++)
		unsetenv(env_vars[i]);
}

static unsigned int expected_default_ncpus(void)
{
	unsigned int n = magslab_online_cpus();

	return n > MAGSLAB_MAX_NCPUS ? MAGSLAB_MAX_NCPUS : n;
}

/* ---------------------------------------------------------------------------
 * cpu.h */

static void test_online_cpus(void **state)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	(void)state;
	assert_true(magslab_online_cpus() >= 1);
	if (n >= 1)
		assert_int_equal(magslab_online_cpus(), (unsigned int)n);
}

static const unsigned int slot_counts[] = {
	1, 2, 3, 7, 8, 63, 64, 65, 1000, 4096, UINT_MAX,
};
#define NR_SLOT_COUNTS (sizeof(slot_counts) / sizeof(slot_counts[0]))

static void test_slot_in_range_single_thread(void **state)
{
	(void)state;
	for (size_t i = 0; i < NR_SLOT_COUNTS; i++) {
		unsigned int n = slot_counts[i];

		for (int k = 0; k < 1000; k++) {
			assert_true(pcc_slot(n, MAGSLAB_PCC_BY_CPU) < n);
			assert_true(pcc_slot(n, MAGSLAB_PCC_BY_THREAD) < n);
		}
	}
	/* 0 slots is a caller bug, but must not divide by zero. */
	assert_int_equal(pcc_slot(0, MAGSLAB_PCC_BY_CPU), 0);
	assert_int_equal(pcc_slot(0, MAGSLAB_PCC_BY_THREAD), 0);
	assert_int_equal(pcc_slot(1, MAGSLAB_PCC_BY_CPU), 0);
	assert_int_equal(pcc_slot(1, MAGSLAB_PCC_BY_THREAD), 0);
}

#define RANGE_THREADS 16
#define RANGE_ITERS   20000

static atomic_uint range_failures;

static void *range_worker(void *arg)
{
	(void)arg;
	for (int it = 0; it < RANGE_ITERS; it++) {
		unsigned int n = slot_counts[(size_t)it % NR_SLOT_COUNTS];

		if (pcc_slot(n, MAGSLAB_PCC_BY_CPU) >= n)
			atomic_fetch_add(&range_failures, 1);
		if (pcc_slot(n, MAGSLAB_PCC_BY_THREAD) >= n)
			atomic_fetch_add(&range_failures, 1);
		if (it % 1000 == 0)
			sched_yield();          /* invite migrations */
	}
	return NULL;
}

static void test_slot_in_range_threads(void **state)
{
	pthread_t t[RANGE_THREADS];

	(void)state;
	atomic_store(&range_failures, 0);
	for (int i = 0; i < RANGE_THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, range_worker,
						NULL), 0);
	for (int i = 0; i < RANGE_THREADS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	assert_int_equal(atomic_load(&range_failures), 0);
}

struct slot_probe {
	unsigned int nr_slots;
	unsigned int slot;
	unsigned int slot_again;        /* a second call: must be the same */
	unsigned int slot_64;           /* the same thread, 64 slots */
	unsigned int slot_3;            /* ... 3 slots */
};

static void *probe_thread(void *arg)
{
	struct slot_probe *p = arg;

	p->slot = pcc_slot(p->nr_slots, MAGSLAB_PCC_BY_THREAD);
	p->slot_again = pcc_slot(p->nr_slots, MAGSLAB_PCC_BY_THREAD);
	p->slot_64 = pcc_slot(64, MAGSLAB_PCC_BY_THREAD);
	p->slot_3 = pcc_slot(3, MAGSLAB_PCC_BY_THREAD);
	return NULL;
}

/* Threads started (and done) one after another take consecutive tickets. */
static void run_probes(struct slot_probe *p, unsigned int n,
		       unsigned int nr_slots)
{
	for (unsigned int i = 0; i < n; i++) {
		pthread_t t;

		p[i].nr_slots = nr_slots;
		assert_int_equal(pthread_create(&t, NULL, probe_thread, &p[i]),
				 0);
		assert_int_equal(pthread_join(t, NULL), 0);
	}
}

static void test_by_thread_round_robin(void **state)
{
	enum { N = 12 };
	struct slot_probe p[N];

	(void)state;
	/* 16 slots, 12 threads: all distinct, consecutive mod 16. */
	run_probes(p, N, 16);
	for (unsigned int i = 0; i < N; i++) {
		assert_true(p[i].slot < 16);
		assert_int_equal(p[i].slot, p[i].slot_again);
		assert_int_equal(p[i].slot, (p[0].slot + i) % 16);
		assert_int_equal(p[i].slot_64, (p[0].slot_64 + i) % 64);
		assert_int_equal(p[i].slot_3, (p[0].slot_3 + i) % 3);
		for (unsigned int j = 0; j < i; j++)
			assert_int_not_equal(p[i].slot, p[j].slot);
	}
	/* 4 slots, 12 threads: round robin wraps, each slot used 3 times. */
	run_probes(p, N, 4);
	{
		unsigned int used[4] = { 0 };

		for (unsigned int i = 0; i < N; i++) {
			assert_int_equal(p[i].slot, (p[0].slot + i) % 4);
			used[p[i].slot]++;
		}
		for (unsigned int s = 0; s < 4; s++)
			assert_int_equal(used[s], 3);
	}
	/* The main thread keeps its own slot. */
	assert_int_equal(pcc_slot(1000, MAGSLAB_PCC_BY_THREAD),
			 pcc_slot(1000, MAGSLAB_PCC_BY_THREAD));
}

/* Pins the calling thread to each CPU it may use and checks that the by-cpu
 * map follows.  Returns the number of CPUs checked; failures are counted in
 * *bad with a description in why. */
static unsigned int check_pinned(unsigned int *bad, char *why, size_t len)
{
	cpu_set_t allowed, one;
	unsigned int checked = 0;

	*bad = 0;
	if (pthread_getaffinity_np(pthread_self(), sizeof(allowed), &allowed))
		return 0;
	for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
		unsigned int c = (unsigned int)cpu;
		int seen;

		if (!CPU_ISSET(cpu, &allowed))
			continue;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		if (pthread_setaffinity_np(pthread_self(), sizeof(one), &one))
			continue;       /* offline meanwhile, or not permitted */
		seen = sched_getcpu();
		if (seen != cpu ||
		    pcc_current_cpu() != c ||
		    pcc_slot(4096, MAGSLAB_PCC_BY_CPU) != c % 4096 ||
		    pcc_slot(64, MAGSLAB_PCC_BY_CPU) != c % 64 ||
		    pcc_slot(2, MAGSLAB_PCC_BY_CPU) != c % 2 ||
		    pcc_slot(1, MAGSLAB_PCC_BY_CPU) != 0) {
			if (!*bad)
				snprintf(why, len,
					 "pinned to cpu %d: sched_getcpu %d, "
					 "pcc_current_cpu %u, slot(64) %u",
					 cpu, seen, pcc_current_cpu(),
					 pcc_slot(64, MAGSLAB_PCC_BY_CPU));
			(*bad)++;
		}
		checked++;
	}
	pthread_setaffinity_np(pthread_self(), sizeof(allowed), &allowed);
	return checked;
}

struct pin_result {
	unsigned int checked, bad;
	char why[256];
};

static void *pin_thread(void *arg)
{
	struct pin_result *r = arg;

	r->checked = check_pinned(&r->bad, r->why, sizeof(r->why));
	return NULL;
}

/* In a thread of its own, so the main thread's affinity is never touched. */
static void test_by_cpu_follows_pinning(void **state)
{
	struct pin_result r = { 0 };
	pthread_t t;

	(void)state;
	assert_int_equal(pthread_create(&t, NULL, pin_thread, &r), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	print_message("by-cpu map via %s, checked on %u CPU(s)\n",
		      magslab_rseq_active() ? "rseq" : "sched_getcpu()",
		      r.checked);
	if (r.bad)
		fail_msg("%u CPU(s) wrong; first: %s", r.bad, r.why);
	assert_true(r.checked >= 1);
}

/* 64 slots on a machine with fewer CPUs: the slot is the CPU number, so it
 * stays below the number of CPUs the kernel knows of. */
static void test_by_cpu_many_slots(void **state)
{
	long conf = sysconf(_SC_NPROCESSORS_CONF);

	(void)state;
	for (int i = 0; i < 10000; i++) {
		unsigned int s = pcc_slot(64, MAGSLAB_PCC_BY_CPU);

		assert_true(s < 64);
		if (conf >= 1 && conf <= 64)
			assert_true(s < (unsigned int)conf);
	}
}

/* The child half: run with rseq registration off. */
static int rseq_off_child(void)
{
	unsigned int bad;
	char why[256];

	if (magslab_rseq_active())
		return EXIT_SKIP;       /* the tunable was not honoured */
	if (check_pinned(&bad, why, sizeof(why)) == 0) {
		fprintf(stderr, "child: no CPU could be checked\n");
		return 1;
	}
	if (bad) {
		fprintf(stderr, "child: %s\n", why);
		return 1;
	}
	for (unsigned int n = 1; n < 100; n++)
		if (pcc_slot(n, MAGSLAB_PCC_BY_CPU) >= n)
			return 1;
	return 0;
}

static void test_by_cpu_fallback_without_rseq(void **state)
{
	char tun[1024];
	const char *old = getenv("GLIBC_TUNABLES");
	char *argv[] = { (char *)"/proc/self/exe", (char *)CHILD_ARG, NULL };
	char **envp;
	size_t n = 0, k = 0;
	pid_t pid;
	int st;

	(void)state;
	if (!MAGSLAB_HAVE_RSEQ)
		skip();
	if (old && *old)
		snprintf(tun, sizeof(tun), "GLIBC_TUNABLES=%s:%s", old,
			 "glibc.pthread.rseq=0");
	else
		snprintf(tun, sizeof(tun), "GLIBC_TUNABLES=%s",
			 "glibc.pthread.rseq=0");
	while (environ[n])
		n++;
	envp = calloc(n + 2, sizeof(*envp));
	assert_non_null(envp);
	for (size_t i = 0; i < n; i++)
		if (strncmp(environ[i], "GLIBC_TUNABLES=", 15))
			envp[k++] = environ[i];
	envp[k++] = tun;
	envp[k] = NULL;
	assert_int_equal(posix_spawn(&pid, "/proc/self/exe", NULL, NULL, argv,
				     envp), 0);
	free(envp);
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	if (WEXITSTATUS(st) == EXIT_SKIP)
		skip();
	assert_int_equal(WEXITSTATUS(st), 0);
}

/* ---------------------------------------------------------------------------
 * config.h: the once-read process config.  This must be the first test that
 * touches it (the setters and magslab_config_get read the env once). */

static void test_config_get_reads_env_once(void **state)
{
	struct magslab_config c;

	(void)state;
	clear_env();
	setenv("MAGSLAB_NCPUS", "3", 1);
	setenv("MAGSLAB_PCC_MAP", "thread", 1);
	setenv("MAGSLAB_DEBUG", "yes", 1);              /* bad */
	setenv("MAGSLAB_POLICY", "uma", 1);
	capture_start();
	atomic_store(&handler_calls_config, true);
	magslab_config_get(&c);
	atomic_store(&handler_calls_config, false);
	assert_int_equal(atomic_load(&err_count), 1);
	assert_string_equal(err_last,
			    "MAGSLAB_DEBUG='yes': not 0 or 1; using 0");
	assert_int_equal(c.ncpus, 3);
	assert_int_equal(c.pcc_map, MAGSLAB_PCC_BY_THREAD);
	assert_int_equal(c.debug, 0);
	assert_string_equal(c.policy, "uma");
	assert_int_equal(c.resize_threshold, 1);
	assert_int_equal(c.resize_timeout_ns, 1000000000ull);

	/* Read once: later changes to the environment do not count, and the
	 * bad value is not reported again. */
	setenv("MAGSLAB_NCPUS", "5", 1);
	magslab_config_get(&c);
	assert_int_equal(c.ncpus, 3);
	assert_int_equal(atomic_load(&err_count), 1);
	capture_stop();
	clear_env();
}

static void test_config_setters(void **state)
{
	struct magslab_config before, c;

	(void)state;
	magslab_config_get(&before);
	capture_start();

	assert_int_equal(magslab_set_ncpus(0), -1);
	assert_int_equal(errno, EINVAL);
	assert_string_equal(err_last, "magslab_set_ncpus(0): not in 1..4096");
	assert_int_equal(magslab_set_ncpus(4097), -1);
	assert_int_equal(magslab_set_ncpus(UINT_MAX), -1);
	assert_int_equal(magslab_set_pcc_map((enum magslab_pcc_map)7), -1);
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err_last, "magslab_set_pcc_map(7)"));
	assert_int_equal(magslab_set_pcc_map((enum magslab_pcc_map)-1), -1);
	assert_int_equal(magslab_set_debug(2), -1);
	assert_int_equal(errno, EINVAL);
	assert_string_equal(err_last, "magslab_set_debug(2): not 0 or 1");
	assert_int_equal(magslab_set_debug(-1), -1);
	assert_int_equal(magslab_set_pcc_mode((enum magslab_pcc_mode)3), -1);
	assert_int_equal(errno, EINVAL);
	assert_non_null(strstr(err_last, "magslab_set_pcc_mode(3)"));
	assert_int_equal(atomic_load(&err_count), 8);
	/* Refused calls changed nothing. */
	magslab_config_get(&c);
	assert_memory_equal(&c, &before, sizeof(c));

	assert_int_equal(magslab_set_ncpus(1), 0);
	assert_int_equal(magslab_set_ncpus(4096), 0);
	assert_int_equal(magslab_set_pcc_map(MAGSLAB_PCC_BY_CPU), 0);
	assert_int_equal(magslab_set_debug(1), 0);
	magslab_config_get(&c);
	assert_int_equal(c.ncpus, 4096);
	assert_int_equal(c.pcc_map, MAGSLAB_PCC_BY_CPU);
	assert_int_equal(c.debug, 1);
	assert_string_equal(c.policy, before.policy);
	assert_int_equal(c.resize_threshold, before.resize_threshold);
	assert_int_equal(atomic_load(&err_count), 8);
	assert_int_equal(magslab_set_pcc_mode(MAGSLAB_PCC_MODE_LOCKED), 0);
	magslab_config_get(&c);
	assert_int_equal(c.pcc_mode, MAGSLAB_PCC_MODE_LOCKED);
	assert_int_equal(magslab_set_pcc_mode(before.pcc_mode), 0);

	assert_int_equal(magslab_set_ncpus(before.ncpus), 0);
	assert_int_equal(magslab_set_pcc_map(before.pcc_map), 0);
	assert_int_equal(magslab_set_debug(before.debug), 0);
	magslab_config_get(&c);
	assert_memory_equal(&c, &before, sizeof(c));
	capture_stop();
}

#define RACE_ITERS 20000

static atomic_bool race_stop;
static atomic_uint race_bad;

static void *race_reader(void *arg)
{
	(void)arg;
	while (!atomic_load(&race_stop)) {
		struct magslab_config c;

		magslab_config_get(&c);
		/* Each snapshot is one consistent state of the writer's. */
		if (c.ncpus < 1 || c.ncpus > MAGSLAB_MAX_NCPUS ||
		    (c.pcc_map != MAGSLAB_PCC_BY_CPU &&
		     c.pcc_map != MAGSLAB_PCC_BY_THREAD) ||
		    (c.debug != 0 && c.debug != 1))
			atomic_fetch_add(&race_bad, 1);
	}
	return NULL;
}

static void test_config_setters_race_readers(void **state)
{
	struct magslab_config before;
	pthread_t r[4];

	(void)state;
	magslab_config_get(&before);
	atomic_store(&race_stop, false);
	atomic_store(&race_bad, 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&r[i], NULL, race_reader, NULL),
				 0);
	for (unsigned int i = 0; i < RACE_ITERS; i++) {
		assert_int_equal(magslab_set_ncpus(1 + i % 4096), 0);
		assert_int_equal(magslab_set_pcc_map(i & 1 ?
						     MAGSLAB_PCC_BY_THREAD :
						     MAGSLAB_PCC_BY_CPU), 0);
		assert_int_equal(magslab_set_debug((int)(i >> 1) & 1), 0);
	}
	atomic_store(&race_stop, true);
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_join(r[i], NULL), 0);
	assert_int_equal(atomic_load(&race_bad), 0);
	assert_int_equal(magslab_set_ncpus(before.ncpus), 0);
	assert_int_equal(magslab_set_pcc_map(before.pcc_map), 0);
	assert_int_equal(magslab_set_debug(before.debug), 0);
}

/* ---------------------------------------------------------------------------
 * config.h: magslab_config_parse_env(), any number of times. */

static void test_parse_defaults(void **state)
{
	struct magslab_config c;

	(void)state;
	clear_env();
	capture_start();
	memset(&c, 0xa5, sizeof(c));
	assert_int_equal(magslab_config_parse_env(&c), 0);
	assert_int_equal(atomic_load(&err_count), 0);
	assert_int_equal(c.resize_threshold, 1);
	assert_int_equal(c.resize_timeout_ns, 1000000000ull);
	assert_string_equal(c.policy, "akaros");
	assert_int_equal(c.ncpus, expected_default_ncpus());
	assert_int_equal(c.pcc_map, MAGSLAB_PCC_BY_CPU);
	assert_int_equal(c.pcc_mode, MAGSLAB_PCC_MODE_AUTO);
	assert_int_equal(c.debug, 0);

	/* Empty values count as unset. */
	for (size_t i = 0; i < sizeof(env_vars) / sizeof(env_vars[0]); i++)
		setenv(env_vars[i], "", 1);
	assert_int_equal(magslab_config_parse_env(&c), 0);
	assert_int_equal(c.ncpus, expected_default_ncpus());
	assert_string_equal(c.policy, "akaros");
	assert_int_equal(atomic_load(&err_count), 0);
	capture_stop();
	clear_env();
}

static void test_parse_good_values(void **state)
{
	static const char *const policies[] = {
		"akaros", "illumos", "uma", "adaptive",
	};
	struct magslab_config c;

	(void)state;
	clear_env();
	capture_start();
	setenv("MAGSLAB_RESIZE_THRESHOLD", "0", 1);
	setenv("MAGSLAB_RESIZE_TIMEOUT_NS", "18446744073709551615", 1);
	setenv("MAGSLAB_POLICY", "illumos", 1);
	setenv("MAGSLAB_NCPUS", "64", 1);
	setenv("MAGSLAB_PCC_MAP", "thread", 1);
	setenv("MAGSLAB_DEBUG", "1", 1);
	assert_int_equal(magslab_config_parse_env(&c), 0);
	assert_int_equal(c.resize_threshold, 0);
	assert_int_equal(c.resize_timeout_ns, UINT64_MAX);
	assert_string_equal(c.policy, "illumos");
	assert_int_equal(c.ncpus, 64);
	assert_int_equal(c.pcc_map, MAGSLAB_PCC_BY_THREAD);
	assert_int_equal(c.debug, 1);

	/* Edges and spellings. */
	setenv("MAGSLAB_RESIZE_THRESHOLD", " 42 ", 1);
	setenv("MAGSLAB_RESIZE_TIMEOUT_NS", "0", 1);
	setenv("MAGSLAB_NCPUS", "1", 1);
	setenv("MAGSLAB_PCC_MAP", "CPU", 1);
	setenv("MAGSLAB_DEBUG", "0", 1);
	assert_int_equal(magslab_config_parse_env(&c), 0);
	assert_int_equal(c.resize_threshold, 42);
	assert_int_equal(c.resize_timeout_ns, 0);
	assert_int_equal(c.ncpus, 1);
	assert_int_equal(c.pcc_map, MAGSLAB_PCC_BY_CPU);
	assert_int_equal(c.debug, 0);
	setenv("MAGSLAB_NCPUS", "4096", 1);
	setenv("MAGSLAB_PCC_MAP", "Thread", 1);
	assert_int_equal(magslab_config_parse_env(&c), 0);
	assert_int_equal(c.ncpus, 4096);
	assert_int_equal(c.pcc_map, MAGSLAB_PCC_BY_THREAD);

	setenv("MAGSLAB_PCC_MODE", "locked", 1);
	assert_int_equal(magslab_config_parse_env(&c), 0);
	assert_int_equal(c.pcc_mode, MAGSLAB_PCC_MODE_LOCKED);
	setenv("MAGSLAB_PCC_MODE", "RSEQ", 1);
	assert_int_equal(magslab_config_parse_env(&c), 0);
	assert_int_equal(c.pcc_mode, MAGSLAB_PCC_MODE_RSEQ);
	setenv("MAGSLAB_PCC_MODE", "Auto", 1);
	assert_int_equal(magslab_config_parse_env(&c), 0);
	assert_int_equal(c.pcc_mode, MAGSLAB_PCC_MODE_AUTO);

	for (size_t i = 0; i < 4; i++) {
		setenv("MAGSLAB_POLICY", policies[i], 1);
		assert_int_equal(magslab_config_parse_env(&c), 0);
		assert_string_equal(c.policy, policies[i]);
	}
	assert_int_equal(atomic_load(&err_count), 0);
	capture_stop();
	clear_env();
}

/* One bad value for one variable: reported once, exactly, default kept. */
static void expect_bad(const char *var, const char *val, const char *msg)
{
	struct magslab_config c, d;

	clear_env();
	setenv(var, val, 1);
	capture_start();
	assert_int_equal(magslab_config_parse_env(&c), 1);
	assert_int_equal(atomic_load(&err_count), 1);
	assert_int_equal(errno, EINVAL);
	if (msg)
		assert_string_equal(err_last, msg);
	else
		assert_non_null(strstr(err_last, var));
	assert_string_equal(magslab_last_error(), err_last);
	capture_stop();
	clear_env();
	magslab_config_defaults(&d);
	assert_memory_equal(&c, &d, sizeof(c));
}

static void test_parse_bad_values(void **state)
{
	char msg[256];
	unsigned int n = expected_default_ncpus();

	(void)state;
	snprintf(msg, sizeof(msg),
		 "MAGSLAB_NCPUS='abc': not a number in 1..4096; using %u", n);
	expect_bad("MAGSLAB_NCPUS", "abc", msg);
	expect_bad("MAGSLAB_NCPUS", "0", NULL);
	expect_bad("MAGSLAB_NCPUS", "4097", NULL);
	expect_bad("MAGSLAB_NCPUS", "-1", NULL);
	expect_bad("MAGSLAB_NCPUS", "+2", NULL);
	expect_bad("MAGSLAB_NCPUS", "12abc", NULL);
	expect_bad("MAGSLAB_NCPUS", "0x10", NULL);
	expect_bad("MAGSLAB_NCPUS", "99999999999999999999999", NULL);

	expect_bad("MAGSLAB_RESIZE_THRESHOLD", "-1",
		   "MAGSLAB_RESIZE_THRESHOLD='-1': not a number in "
		   "0..18446744073709551615; using 1");
	expect_bad("MAGSLAB_RESIZE_THRESHOLD", "18446744073709551616", NULL);
	expect_bad("MAGSLAB_RESIZE_THRESHOLD", "1.5", NULL);
	expect_bad("MAGSLAB_RESIZE_TIMEOUT_NS", "1e9",
		   "MAGSLAB_RESIZE_TIMEOUT_NS='1e9': not a number of "
		   "nanoseconds in 0..18446744073709551615; using 1000000000");
	expect_bad("MAGSLAB_RESIZE_TIMEOUT_NS", " ", NULL);

	snprintf(msg, sizeof(msg),
		 "MAGSLAB_POLICY='slub': not one of %s; using akaros",
		 policy_names());
	expect_bad("MAGSLAB_POLICY", "slub", msg);
	expect_bad("MAGSLAB_POLICY", "AKAROS ", NULL);
	expect_bad("MAGSLAB_POLICY", "akarosakarosakarosakaros", NULL);

	expect_bad("MAGSLAB_PCC_MAP", "core",
		   "MAGSLAB_PCC_MAP='core': not cpu or thread; using cpu");
	expect_bad("MAGSLAB_PCC_MAP", "cpus", NULL);
	expect_bad("MAGSLAB_PCC_MODE", "fast",
		   "MAGSLAB_PCC_MODE='fast': not auto, locked or rseq; "
		   "using auto");
	expect_bad("MAGSLAB_PCC_MODE", "rseq ", NULL);
	expect_bad("MAGSLAB_DEBUG", "2",
		   "MAGSLAB_DEBUG='2': not 0 or 1; using 0");
	expect_bad("MAGSLAB_DEBUG", "true", NULL);
}

/* Values are quoted safely: control bytes become '?', long ones are cut. */
static void test_parse_bad_value_quoting(void **state)
{
	char longval[300], shown[45], msg[256];

	(void)state;
	expect_bad("MAGSLAB_PCC_MAP", "a\nb\tc\x01\xff",
		   "MAGSLAB_PCC_MAP='a?b?c?" "?': not cpu or thread; "
		   "using cpu");
	memset(longval, 'x', sizeof(longval) - 1);
	longval[sizeof(longval) - 1] = '\0';
	memset(shown, 'x', sizeof(shown) - 1);      /* 44 bytes are quoted */
	shown[sizeof(shown) - 1] = '\0';
	snprintf(msg, sizeof(msg),
		 "MAGSLAB_DEBUG='%s...': not 0 or 1; using 0", shown);
	expect_bad("MAGSLAB_DEBUG", longval, msg);
}

/* Several bad values: each reported, the good ones still used. */
static void test_parse_mixed(void **state)
{
	struct magslab_config c;

	(void)state;
	clear_env();
	setenv("MAGSLAB_RESIZE_THRESHOLD", "7", 1);
	setenv("MAGSLAB_RESIZE_TIMEOUT_NS", "soon", 1);
	setenv("MAGSLAB_POLICY", "adaptive", 1);
	setenv("MAGSLAB_NCPUS", "100000", 1);
	setenv("MAGSLAB_PCC_MAP", "thread", 1);
	setenv("MAGSLAB_DEBUG", "on", 1);
	capture_start();
	assert_int_equal(magslab_config_parse_env(&c), 3);
	assert_int_equal(atomic_load(&err_count), 3);
	assert_non_null(strstr(err_last, "MAGSLAB_DEBUG='on'"));
	assert_int_equal(c.resize_threshold, 7);
	assert_int_equal(c.resize_timeout_ns, 1000000000ull);
	assert_string_equal(c.policy, "adaptive");
	assert_int_equal(c.ncpus, expected_default_ncpus());
	assert_int_equal(c.pcc_map, MAGSLAB_PCC_BY_THREAD);
	assert_int_equal(c.debug, 0);
	capture_stop();
	clear_env();
}

/* ---------------------------------------------------------------------------
 * pcc.h: which pcc mode a new cache gets, and why (kmem_cache_stats). */

/* What auto must give with a slot per CPU mapped by CPU, on this machine. */
static const char *auto_mode_here(void)
{
	const char *t = getenv("GLIBC_TUNABLES");

	if (t && strstr(t, "glibc.pthread.rseq=0"))
		return "locked";
#if defined(__x86_64__)
	return "rseq";
#else
	return "locked";
#endif
}

/* Creates a cache under the current settings, returns its stats. */
static struct kmem_cache_stats mode_of_new_cache(int flags)
{
	struct kmem_cache_stats st;
	struct kmem_cache *kc = kmem_cache_create("mode", 64, 0, flags, NULL,
						  NULL, NULL, NULL);

	assert_non_null(kc);
	assert_int_equal(kmem_cache_stats(kc, &st), 0);
	assert_int_equal(kmem_cache_destroy(kc), 0);
	return st;
}

static void test_pcc_mode_choice(void **state)
{
	struct magslab_config before;
	struct kmem_cache_stats st;
	unsigned int cpus = magslab_possible_cpus();

	(void)state;
	magslab_config_get(&before);
	capture_start();
	assert_int_equal(magslab_set_pcc_map(MAGSLAB_PCC_BY_CPU), 0);
	assert_int_equal(magslab_set_ncpus(cpus), 0);

	assert_int_equal(magslab_set_pcc_mode(MAGSLAB_PCC_MODE_AUTO), 0);
	st = mode_of_new_cache(0);
	assert_string_equal(st.pcc_mode, auto_mode_here());
	if (!strcmp(st.pcc_mode, "rseq"))
		assert_string_equal(st.pcc_mode_why, "");
	else
		assert_true(st.pcc_mode_why[0] != '\0');
	assert_string_equal(mode_of_new_cache(KMC_NOMAG).pcc_mode, "none");

	assert_int_equal(magslab_set_pcc_mode(MAGSLAB_PCC_MODE_LOCKED), 0);
	st = mode_of_new_cache(0);
	assert_string_equal(st.pcc_mode, "locked");
	assert_non_null(strstr(st.pcc_mode_why, "requested"));

	assert_int_equal(magslab_set_pcc_mode(MAGSLAB_PCC_MODE_AUTO), 0);
	assert_int_equal(magslab_set_pcc_map(MAGSLAB_PCC_BY_THREAD), 0);
	st = mode_of_new_cache(0);
	assert_string_equal(st.pcc_mode, "locked");
	assert_non_null(strstr(st.pcc_mode_why, "per thread"));
	assert_int_equal(magslab_set_pcc_map(MAGSLAB_PCC_BY_CPU), 0);

	if (cpus > 1) {
		assert_int_equal(magslab_set_ncpus(cpus - 1), 0);
		st = mode_of_new_cache(0);
		assert_string_equal(st.pcc_mode, "locked");
		assert_non_null(strstr(st.pcc_mode_why, "fewer pcc slots"));
	}
	/* More slots than CPUs is fine: every CPU still has its own. */
	assert_int_equal(magslab_set_ncpus(cpus + 3), 0);
	assert_string_equal(mode_of_new_cache(0).pcc_mode, auto_mode_here());
	assert_int_equal(atomic_load(&err_count), 0);

	/* rseq asked for by name where it cannot serve: locked, said once. */
	assert_int_equal(magslab_set_pcc_mode(MAGSLAB_PCC_MODE_RSEQ), 0);
	assert_int_equal(magslab_set_pcc_map(MAGSLAB_PCC_BY_THREAD), 0);
	assert_string_equal(mode_of_new_cache(0).pcc_mode, "locked");
	assert_int_equal(atomic_load(&err_count), 1);
	assert_non_null(strstr(err_last, "MAGSLAB_PCC_MODE=rseq: pcc slots "
			       "are chosen per thread"));
	assert_string_equal(mode_of_new_cache(0).pcc_mode, "locked");
	assert_int_equal(atomic_load(&err_count), 1);

	capture_stop();
	assert_int_equal(magslab_set_pcc_mode(before.pcc_mode), 0);
	assert_int_equal(magslab_set_pcc_map(before.pcc_map), 0);
	assert_int_equal(magslab_set_ncpus(before.ncpus), 0);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_online_cpus),
		cmocka_unit_test(test_slot_in_range_single_thread),
		cmocka_unit_test(test_slot_in_range_threads),
		cmocka_unit_test(test_by_thread_round_robin),
		cmocka_unit_test(test_by_cpu_follows_pinning),
		cmocka_unit_test(test_by_cpu_many_slots),
		cmocka_unit_test(test_by_cpu_fallback_without_rseq),
		/* First to touch the process config: keep it before the
		 * setter tests. */
		cmocka_unit_test(test_config_get_reads_env_once),
		cmocka_unit_test(test_config_setters),
		cmocka_unit_test(test_config_setters_race_readers),
		cmocka_unit_test(test_parse_defaults),
		cmocka_unit_test(test_parse_good_values),
		cmocka_unit_test(test_parse_bad_values),
		cmocka_unit_test(test_parse_bad_value_quoting),
		cmocka_unit_test(test_parse_mixed),
		cmocka_unit_test(test_pcc_mode_choice),
	};

	if (argc > 1 && !strcmp(argv[1], CHILD_ARG))
		return rseq_off_child();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
