/*
 * test_malloc_mt.c — the malloc shim with threads (also run under TSan).
 *
 * - fork() 500 times (100 under sanitizers) while 4 threads malloc, realloc
 *   and free every kind of block and hand some to each other; every child
 *   mallocs and frees and exits 0 within CHILD_TIMEOUT_S, or the test fails
 *   (a hung child is killed).
 * - Threads that exit holding blocks: main frees them; later threads reuse
 *   the memory (the classes' slab count stops growing) and nothing stays
 *   counted as held.
 * - Blocks freed by a thread other than the one that allocated them.
 *
 * Worker threads never call cmocka asserts: they count problems.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "malloc_test_util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

/* magslab's fork handler holds every lock of the library at once: with the
 * shim's 72 classes (a slab lock and an arena lock each) that is more than
 * the 64 held locks ThreadSanitizer's deadlock detector can track per
 * thread, which stops the run with "CHECK failed: ... n_all_locks_".  Race
 * detection stays on; lock-order checking is off for this program only. */
#if defined(__SANITIZE_THREAD__)
#define MT_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MT_TSAN 1
#endif
#endif
#ifdef MT_TSAN
const char *__tsan_default_options(void);
const char *__tsan_default_options(void)
{
	return "detect_deadlocks=0";
}
#endif

#define NR_THREADS      4
#define NR_FORKS        (MT_SANITIZED ? 100 : 500)
#define CHILD_TIMEOUT_S 5

/* A block size from a seed: classes, bufctl classes and large blocks. */
static size_t size_of(unsigned int seed)
{
	static const size_t sizes[] = { 1, 16, 40, 96, 200, 512, 700, 3000,
					9000, 32768, 40000, 200000 };

	return sizes[seed % (sizeof(sizes) / sizeof(sizes[0]))];
}

/* ---- fork ------------------------------------------------------------- */

struct fork_ctx {
	atomic_bool stop;
	atomic_ulong ops;
	atomic_ulong bad;               /* blocks found overwritten */
	_Atomic(void *) swap;           /* a block passed between threads */
};

static void churn_once(struct fork_ctx *fc, unsigned int seed)
{
	size_t n = size_of(seed);
	unsigned char *p = seed % 5 == 0 ? msm_memalign(256, n) : msm_malloc(n);
	void *other;

	if (!p)
		return;
	mt_fill(p, n < 64 ? n : 64, seed);
	if (seed % 3 == 0) {
		p = msm_realloc(p, size_of(seed + 1));
		if (!p)
			return;
		n = n < size_of(seed + 1) ? n : size_of(seed + 1);
	}
	if (!mt_check(p, n < 64 ? n : 64, seed))
		atomic_fetch_add(&fc->bad, 1);
	other = atomic_exchange(&fc->swap, p);
	msm_free(other);                /* often another thread's block */
	atomic_fetch_add_explicit(&fc->ops, 1, memory_order_relaxed);
}

static void *fork_worker(void *arg)
{
	struct fork_ctx *fc = arg;
	unsigned int seed = (unsigned int)(uintptr_t)pthread_self();

	while (!atomic_load_explicit(&fc->stop, memory_order_relaxed))
		churn_once(fc, seed++ * 2654435761u);
	return NULL;
}

static int child_main(void)
{
	void *v[64];

	for (unsigned int i = 0; i < 64; i++) {
		v[i] = msm_malloc(size_of(i));
		if (!v[i])
			return 1;
		mt_fill(v[i], size_of(i) < 64 ? size_of(i) : 64, i);
	}
	for (unsigned int i = 0; i < 64; i++) {
		if (!mt_check(v[i], size_of(i) < 64 ? size_of(i) : 64, i))
			return 2;
		msm_free(v[i]);
	}
	return 0;
}

/* Waits for pid; kills it and returns -1 after CHILD_TIMEOUT_S. */
static int wait_bounded(pid_t pid)
{
	struct timespec nap = { 0, 1000000 };
	int status;

	for (int ms = 0; ms < CHILD_TIMEOUT_S * 1000; ms++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return status;
		nanosleep(&nap, NULL);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	return -1;
}

static void test_fork_while_threads_allocate(void **state)
{
	struct fork_ctx fc = { 0 };
	pthread_t t[NR_THREADS];
	int ok = 0, hung = 0;

	(void)state;
	msm_free(msm_malloc(1));
	for (int i = 0; i < NR_THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, fork_worker, &fc), 0);
	for (int i = 0; i < NR_FORKS && hung == 0; i++) {
		pid_t pid = fork();
		int status;

		if (pid == 0)
			_exit(child_main());
		assert_true(pid > 0);
		status = wait_bounded(pid);
		hung += status == -1;
		ok += status != -1 && WIFEXITED(status) &&
		      WEXITSTATUS(status) == 0;
	}
	atomic_store(&fc.stop, true);
	for (int i = 0; i < NR_THREADS; i++)
		pthread_join(t[i], NULL);
	msm_free(atomic_exchange(&fc.swap, NULL));
	print_message("%d forks, %lu ops in the threads meanwhile\n", ok,
		      (unsigned long)atomic_load(&fc.ops));
	assert_int_equal(hung, 0);
	assert_int_equal(ok, NR_FORKS);
	assert_int_equal(atomic_load(&fc.bad), 0);
	assert_true(atomic_load(&fc.ops) > 0);
}

/* ---- threads that exit holding blocks ---------------------------------- */

#define HELD_PER_THREAD 2000
#define EXIT_THREADS    8
#define EXIT_ROUNDS     6

static void *alloc_and_exit(void *arg)
{
	void **v = arg;

	for (unsigned int i = 0; i < HELD_PER_THREAD; i++) {
		v[i] = msm_malloc(size_of(i) % 4096 + 1);
		if (v[i])
			mt_fill(v[i], 8, i);
	}
	return NULL;
}

/* Sum over the classes of one kmem_cache_stats field. */
static uint64_t classes_sum(size_t offset)
{
	uint64_t sum = 0;

	for (unsigned int i = 0; i < MSM_NR_CLASSES; i++) {
		struct kmem_cache_stats st;

		assert_int_equal(kmem_cache_stats(msm_classes[i].cache, &st), 0);
		sum += *(uint64_t *)((char *)&st + offset);
	}
	return sum;
}

static void one_exit_round(void **v)
{
	pthread_t t[EXIT_THREADS];

	for (int i = 0; i < EXIT_THREADS; i++)
		assert_int_equal(pthread_create(&t[i], NULL, alloc_and_exit,
						v + i * HELD_PER_THREAD), 0);
	for (int i = 0; i < EXIT_THREADS; i++)
		pthread_join(t[i], NULL);
	for (unsigned int i = 0; i < EXIT_THREADS * HELD_PER_THREAD; i++) {
		assert_non_null(v[i]);
		assert_true(mt_check(v[i], 8, i % HELD_PER_THREAD));
		msm_free(v[i]);
	}
}

static void test_threads_exit_holding_blocks(void **state)
{
	void **v = calloc(EXIT_THREADS * HELD_PER_THREAD, sizeof(*v));
	uint64_t live0, slabs_after_first;

	(void)state;
	msm_free(msm_malloc(1));
	live0 = classes_sum(offsetof(struct kmem_cache_stats, live_objs));
	one_exit_round(v);
	slabs_after_first = classes_sum(offsetof(struct kmem_cache_stats, slabs));
	for (int r = 1; r < EXIT_ROUNDS; r++)
		one_exit_round(v);
	free(v);
	assert_int_equal(classes_sum(offsetof(struct kmem_cache_stats, live_objs)),
			 live0);
	/* Later rounds reuse the first round's memory. */
	assert_true(classes_sum(offsetof(struct kmem_cache_stats, slabs)) <=
		    slabs_after_first + slabs_after_first / 4);
}

/* ---- blocks freed by another thread ------------------------------------ */

#define QUEUE_LEN 256
#define PASSED    (MT_SANITIZED ? 20000 : 200000)

struct queue {
	_Atomic(void *) slot[QUEUE_LEN];
	atomic_ulong freed;
};

static void *producer(void *arg)
{
	struct queue *q = arg;

	for (unsigned int i = 0; i < PASSED; i++) {
		void *p = msm_malloc(size_of(i));
		void *expected = NULL;

		mt_fill(p, 16, i);
		*(unsigned int *)p = i;
		while (!atomic_compare_exchange_weak(&q->slot[i % QUEUE_LEN],
						     &expected, p))
			expected = NULL;
	}
	return NULL;
}

static void *consumer(void *arg)
{
	struct queue *q = arg;

	for (unsigned int i = 0; i < PASSED; i++) {
		void *p;

		while (!(p = atomic_exchange(&q->slot[i % QUEUE_LEN], NULL)))
			sched_yield();
		if (*(unsigned int *)p == i)
			atomic_fetch_add(&q->freed, 1);
		msm_free(p);
	}
	return NULL;
}

static void test_free_by_another_thread(void **state)
{
	struct queue *q = calloc(1, sizeof(*q));
	pthread_t prod, cons;
	uint64_t live0;

	(void)state;
	msm_free(msm_malloc(1));
	live0 = classes_sum(offsetof(struct kmem_cache_stats, live_objs));
	assert_int_equal(pthread_create(&prod, NULL, producer, q), 0);
	assert_int_equal(pthread_create(&cons, NULL, consumer, q), 0);
	pthread_join(prod, NULL);
	pthread_join(cons, NULL);
	assert_int_equal(atomic_load(&q->freed), PASSED);
	assert_int_equal(classes_sum(offsetof(struct kmem_cache_stats, live_objs)),
			 live0);
	free(q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fork_while_threads_allocate),
		cmocka_unit_test(test_threads_exit_holding_blocks),
		cmocka_unit_test(test_free_by_another_thread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
