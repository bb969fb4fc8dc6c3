/*
 * test_fork_mt.c — fork() while other threads allocate (also run under
 * TSan).
 *
 * 4 threads allocate and free in a loop on two caches (one small-object,
 * one bufctl) and the page arena while the main thread forks 1000 times
 * (fewer under sanitizers).  Every child allocates and frees on the same
 * caches, reads their stats, makes and destroys a cache of its own, and
 * _exit(0)s.  A child that has not exited within CHILD_TIMEOUT_S is a hang:
 * it is killed and the test fails (after MAX_HANGS of them it stops).  Both pcc maps: by CPU (the rseq mode
 * where it can serve) and by thread (locked).
 *
 * Worker threads never call cmocka asserts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "slab_test_util.h"

#include <sys/wait.h>

#define NR_THREADS      4
#define CHILD_TIMEOUT_S 5
#define MAX_HANGS       3     /* then stop: the verdict is in */

struct fork_ctx {
	struct kmem_cache *small, *big;
	atomic_bool stop;
	atomic_ulong ops;
};

static void *worker_main(void *arg)
{
	struct fork_ctx *fc = arg;
	void *held[32];

	while (!atomic_load_explicit(&fc->stop, memory_order_relaxed)) {
		for (int i = 0; i < 32; i++)
			held[i] = kmem_cache_alloc(i & 1 ? fc->big : fc->small,
						   MEM_ATOMIC);
		for (int i = 0; i < 32; i++)
			if (held[i])
				kmem_cache_free(i & 1 ? fc->big : fc->small,
						held[i]);
		void *p = arena_alloc(arena_kpages(), 3 * st_page(),
				      MEM_ATOMIC);
		if (p)
			arena_free(arena_kpages(), p, 3 * st_page());
		atomic_fetch_add_explicit(&fc->ops, 1, memory_order_relaxed);
	}
	return NULL;
}

/* The child: use everything once; exit status says what failed. */
static int child_main(struct fork_ctx *fc)
{
	struct kmem_cache_stats st;
	struct kmem_cache *own;
	void *a, *b;

	a = kmem_cache_alloc(fc->small, MEM_ATOMIC);
	b = kmem_cache_alloc(fc->big, MEM_ATOMIC);
	if (!a || !b)
		return 2;
	kmem_cache_free(fc->small, a);
	kmem_cache_free(fc->big, b);
	if (kmem_cache_stats(fc->small, &st) != 0)
		return 3;
	own = kmem_cache_create("fork_child", 48, 0, 0, NULL, NULL, NULL,
				NULL);
	if (!own)
		return 4;
	a = kmem_cache_alloc(own, MEM_ATOMIC);
	if (!a)
		return 5;
	kmem_cache_free(own, a);
	return kmem_cache_destroy(own) == 0 ? 0 : 6;
}

/* Waits for pid at most CHILD_TIMEOUT_S; kills it then.  Returns its exit
 * status, or -1 for a hang. */
static int wait_bounded(pid_t pid)
{
	uint64_t deadline = st_now_ns() + CHILD_TIMEOUT_S * 1000000000ull;
	int status;

	for (;;) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status)
						 : 128 + WTERMSIG(status);
		if (r < 0 && errno != EINTR)
			return -2;
		if (st_now_ns() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			return -1;
		}
		st_sleep_ms(1);
	}
}

static void fork_storm(enum magslab_pcc_map map)
{
	unsigned int forks = ST_TSAN || !ST_SANITIZED ? 1000 : 300;
	unsigned int hangs = 0, failed = 0, first_bad = 0;
	struct fork_ctx fc = { 0 };
	pthread_t t[NR_THREADS];
	uint64_t t0 = st_now_ns();

	assert_int_equal(magslab_set_pcc_map(map), 0);
	fc.small = st_create("fork_small", 64, 0, 0, NULL);
	fc.big = st_create("fork_big", 1024, 0, 0, NULL);
	for (int i = 0; i < NR_THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, worker_main, &fc),
				 0);
	for (unsigned int i = 0; i < forks; i++) {
		pid_t pid = fork();
		int rc;

		assert_true(pid >= 0);
		if (pid == 0)
			_exit(child_main(&fc));
		rc = wait_bounded(pid);
		if (rc == -1) {
			if (++hangs < MAX_HANGS)
				continue;
			forks = i + 1;
			break;
		}
		if (rc != 0 && !failed++)
			first_bad = (unsigned int)rc;
	}
	atomic_store(&fc.stop, true);
	for (int i = 0; i < NR_THREADS; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	print_message("    map %s, mode %s: %u forks in %.1f s, %u hung, %u "
		      "failed (first status %u); workers did %lu rounds\n",
		      map == MAGSLAB_PCC_BY_CPU ? "cpu" : "thread",
		      st_stats(fc.small).pcc_mode, forks,
		      (double)(st_now_ns() - t0) / 1e9, hangs, failed,
		      first_bad, atomic_load(&fc.ops));
	assert_int_equal(hangs, 0);
	assert_int_equal(failed, 0);
	assert_true(atomic_load(&fc.ops) > 0);
	assert_cache_consistent(st_stats(fc.small));
	st_destroy(fc.small);
	st_destroy(fc.big);
}

static void test_fork_map_cpu(void **state)
{
	(void)state;
	fork_storm(MAGSLAB_PCC_BY_CPU);
}

static void test_fork_map_thread(void **state)
{
	(void)state;
	fork_storm(MAGSLAB_PCC_BY_THREAD);
}

static int setup(void **state)
{
	(void)state;
	st_install_handler();
	st_reset_settings();
	st_watchdog(ST_TSAN ? 280 : 120);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	st_watchdog_off();
	st_reset_settings();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fork_map_cpu, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_fork_map_thread, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
