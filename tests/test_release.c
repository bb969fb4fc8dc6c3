/*
 * test_release.c — memory goes back to the OS (issue 12, item 2).
 *
 * The base arena unmaps chunks that become entirely free and releases the
 * pages of free ranges inside chunks still in use (madvise), after every
 * reap and whenever more than 64 MiB of its free ranges may be resident;
 * arena_reap() also purges quantum caches and packs boundary tags so that
 * their pages go back too.  These tests measure the process's RSS
 * (/proc/self/statm), so each measuring test runs in a child process of its
 * own: nothing another test left behind can blur the figures, and the
 * child starts with a fresh library.
 *
 * The figures (RSS before the spike, at its peak and after free + reap +
 * destroy, per resize policy) are printed for the record.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "slab_test_util.h"

#include <sys/wait.h>

#define MIB ((size_t)1 << 20)

/* Smaller under the sanitizers: they run every access through a check. */
#define SPIKE_MB (ST_SANITIZED ? 64 : 200)

/* ---- running a measurement in a child ----------------------------------------- */

struct figures {
	size_t before, spike, after;
	uint64_t unmapped, released;    /* base: bytes unmapped / madvised */
	int failed_line;                /* the child's first failed check */
	char why[160];
};

#define CHILD_CHECK(f, cond) do {                                              \
	if (!(cond) && !(f)->failed_line) {                                    \
		(f)->failed_line = __LINE__;                                   \
		snprintf((f)->why, sizeof((f)->why), "%s", #cond);             \
	}                                                                      \
} while (0)

/* Runs fn in a child and returns the figures it filled in; fails the test
 * if the child died or a check in it failed. */
static struct figures in_child(void (*fn)(struct figures *f, const void *arg),
			       const void *arg)
{
	struct figures *shared = mmap(NULL, sizeof(*shared),
				      PROT_READ | PROT_WRITE,
				      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct figures out;
	int status = 0;
	pid_t pid;

	assert_true(shared != MAP_FAILED);
	memset(shared, 0, sizeof(*shared));
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		fn(shared, arg);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	out = *shared;
	munmap(shared, sizeof(*shared));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		fail_msg("the child died (status %#x)", status);
	if (out.failed_line)
		fail_msg("child, line %d: %s", out.failed_line, out.why);
	return out;
}

static void base_to_os(uint64_t *unmapped, uint64_t *released)
{
	struct arena_stats st;

	if (arena_stats(arena_base(), &st) != 0)
		abort();
	*unmapped = st.bytes_released;
	*released = st.page_bytes_released;
}

/* ---- the spike ----------------------------------------------------------------- */

/* Small objects (one-page slabs from kpages' quantum caches), a bufctl
 * size whose slabs come from a quantum cache too, and one whose slabs come
 * from kpages itself: every way memory reaches a cache. */
static const size_t spike_sizes[] = { 64, 256, 2048, 65536 };
#define NR_SPIKE (sizeof(spike_sizes) / sizeof(spike_sizes[0]))

struct spike {
	struct kmem_cache *kc[NR_SPIKE];
	void **objs[NR_SPIKE];
	size_t n[NR_SPIKE];
	size_t array_bytes[NR_SPIKE];
};

/* The pointer arrays are mapped and touched before the first measurement,
 * so that they count the same in every figure. */
static void spike_arrays(struct spike *s, size_t mb)
{
	for (size_t c = 0; c < NR_SPIKE; c++) {
		s->n[c] = mb * MIB / NR_SPIKE / spike_sizes[c];
		s->array_bytes[c] = s->n[c] * sizeof(void *);
		s->objs[c] = mmap(NULL, s->array_bytes[c],
				  PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (s->objs[c] == MAP_FAILED)
			abort();
		memset(s->objs[c], 0, s->array_bytes[c]);
	}
}

static bool spike_alloc(struct spike *s)
{
	for (size_t c = 0; c < NR_SPIKE; c++) {
		char name[32];

		snprintf(name, sizeof(name), "spike_%zu", spike_sizes[c]);
		s->kc[c] = kmem_cache_create(name, spike_sizes[c], 0, 0, NULL,
					     NULL, NULL, NULL);
		if (!s->kc[c])
			return false;
		for (size_t i = 0; i < s->n[c]; i++) {
			s->objs[c][i] = kmem_cache_alloc(s->kc[c], MEM_ATOMIC);
			if (!s->objs[c][i])
				return false;
			memset(s->objs[c][i], 0x5a, spike_sizes[c]);
		}
	}
	return true;
}

static void reap_one(struct kmem_cache *kc, void *arg)
{
	(void)arg;
	kmem_cache_reap(kc);
}

/* Free everything, reap every cache, destroy the spike's caches. */
static bool spike_release(struct spike *s)
{
	for (size_t c = 0; c < NR_SPIKE; c++)
		for (size_t i = 0; i < s->n[c]; i++)
			kmem_cache_free(s->kc[c], s->objs[c][i]);
	kmem_cache_for_each(reap_one, NULL);
	for (size_t c = 0; c < NR_SPIKE; c++)
		if (kmem_cache_destroy(s->kc[c]) != 0)
			return false;
	return true;
}

static void spike_unmap(struct spike *s)
{
	for (size_t c = 0; c < NR_SPIKE; c++)
		munmap(s->objs[c], s->array_bytes[c]);
}

static void spike_child(struct figures *f, const void *arg)
{
	struct spike s;

	magslab_set_error_handler(NULL, NULL);
	CHILD_CHECK(f, magslab_set_policy(arg) == 0);
	arena_base();
	if (ST_SANITIZED) {
		/* A small round first: the sanitizers' own bookkeeping grows
		 * with the code paths used (ASan's fake stacks for
		 * detect_stack_use_after_return: some 4 MiB here), and would
		 * count as our residue. */
		spike_arrays(&s, 16);
		CHILD_CHECK(f, spike_alloc(&s) && spike_release(&s));
		spike_unmap(&s);
	}
	spike_arrays(&s, SPIKE_MB);
	f->before = st_rss_bytes();
	CHILD_CHECK(f, spike_alloc(&s));
	f->spike = st_rss_bytes();
	CHILD_CHECK(f, spike_release(&s));
	f->after = st_rss_bytes();
	base_to_os(&f->unmapped, &f->released);
	CHILD_CHECK(f, arena_check(arena_base()) == 0);
	CHILD_CHECK(f, arena_check(arena_kpages()) == 0);
}

/* The sequence: a spike, free, reap, destroy.  RSS must come back
 * within 10 % of what it was before the spike, under every policy (the
 * test's state names it). */
static void test_spike(void **state)
{
	const char *policy = *state;
	struct figures f = in_child(spike_child, policy);

	print_message("%-8s RSS before %zu KiB, spike %zu KiB, after free+reap+destroy %zu KiB (%+.1f %%); base unmapped %llu MiB, madvised %llu MiB\n",
		      policy, f.before >> 10, f.spike >> 10, f.after >> 10,
		      100.0 * ((double)f.after - (double)f.before) /
		      (double)f.before,
		      (unsigned long long)(f.unmapped >> 20),
		      (unsigned long long)(f.released >> 20));
	/* The spike was real... */
	assert_true(f.spike >= f.before + SPIKE_MB * MIB * 3 / 4);
	/* ...and it is gone. */
	assert_true(f.after * 10 <= f.before * 11);
	assert_true(f.unmapped + f.released >= SPIKE_MB * MIB / 2);
}

/* ---- without any reap: the 64 MiB bound ------------------------------------- */

#define PIECES 320
#define PIECE  (512 * 1024)

/* 160 MiB of base in 512 KiB pieces; every other one is freed, so no two
 * freed pieces coalesce and no chunk ever becomes entirely free: only the
 * madvise path can give their pages back. */
static void dirty_bound_child(struct figures *f, const void *arg)
{
	struct arena *base = arena_base();
	static void *piece[PIECES];
	struct arena_stats st;

	(void)arg;
	for (int i = 0; i < PIECES; i++) {
		piece[i] = arena_alloc(base, PIECE, MEM_ATOMIC);
		CHILD_CHECK(f, piece[i] != NULL);
		if (!piece[i])
			return;
		memset(piece[i], 1, PIECE);
	}
	f->before = st_rss_bytes();
	for (int i = 0; i < PIECES; i += 2)
		CHILD_CHECK(f, arena_free(base, piece[i], PIECE) == 0);
	f->after = st_rss_bytes();
	CHILD_CHECK(f, arena_stats(base, &st) == 0);
	/* 80 MiB freed: past 64 MiB everything dirty went back. */
	CHILD_CHECK(f, st.nr_releases == 0);
	CHILD_CHECK(f, st.nr_page_releases > 0);
	CHILD_CHECK(f, st.free_dirty <= 64 * MIB);
	CHILD_CHECK(f, st.page_bytes_released >= 64 * MIB);
	CHILD_CHECK(f, arena_check(base) == 0);
	for (int i = 1; i < PIECES; i += 2)
		CHILD_CHECK(f, arena_free(base, piece[i], PIECE) == 0);
}

static void test_dirty_bound(void **state)
{
	struct figures f;

	(void)state;
	f = in_child(dirty_bound_child, NULL);
	print_message("base: %d x 512 KiB freed, no reap: RSS %zu -> %zu KiB\n",
		      PIECES / 2, f.before >> 10, f.after >> 10);
	assert_true(f.after + 60 * MIB <= f.before);
}

/* ---- arena_reap: counted, traced, and what it leaves ------------------------- */

/* A user arena importing from kpages with quantum caches: after a burst,
 * arena_reap gives the quantum caches' memory, kpages' spans and the
 * spare tag pages back; every arena stays consistent. */
static void test_arena_reap_counts(void **state)
{
	enum { N = 4000 };
	struct arena *a = arena_create("reap_imp", NULL, 0, 64, NULL, NULL,
				       arena_kpages(), 1024, 0);
	struct arena_stats before, st;
	static void *p[N];

	(void)state;
	assert_non_null(a);
	for (int i = 0; i < N; i++)
		assert_non_null(p[i] = arena_alloc(a, 64 * (1 + i % 32),
						   MEM_ATOMIC));
	for (int i = 0; i < N; i++)
		assert_int_equal(arena_free(a, p[i], 64 * (1 + i % 32)), 0);
	/* Big segments of a too: many tags, spread over many pages. */
	for (int i = 0; i < N; i++)
		assert_non_null(p[i] = arena_alloc(a, 4096 + 64 * (i % 7),
						   MEM_ATOMIC));
	for (int i = 0; i < N; i++)
		assert_int_equal(arena_free(a, p[i], 4096 + 64 * (i % 7)), 0);
	assert_true(st_arena_stats(a).nr_tags > 500);
	before = st_arena_stats(arena_base());
	st_reset_errors();
	arena_reap(a);
	assert_no_error();
	st = st_arena_stats(a);
	/* The quantum caches hold nothing: every span went back. */
	assert_int_equal(st.allocated, 0);
	assert_int_equal(st.nr_spans, 0);
	assert_true(st.nr_tags < 128);     /* two pages of tags at most */
	st = st_arena_stats(arena_base());
	assert_int_equal(st.free_dirty, 0);
	assert_true(st.nr_page_releases + st.nr_releases >
		    before.nr_page_releases + before.nr_releases);
	assert_true(st.page_bytes_released + st.bytes_released >
		    before.page_bytes_released + before.bytes_released);
	assert_arena_check(a);
	assert_arena_check(arena_kpages());
	assert_arena_check(arena_base());
	assert_int_equal(arena_destroy(a), 0);
}

/* Tag compaction after a fragmenting burst: the tags still in use are
 * packed into as few pages as they need, every arena stays consistent, and
 * the arena still works afterwards. */
static void test_tag_compaction(void **state)
{
	enum { N = 20000 };
	struct st_region r;
	struct arena *a = st_region_arena(&r, "compact", N * 2 * 4096,
					  PROT_NONE, 4096, 0);
	static void *p[N];
	struct arena_stats st;

	(void)state;
	for (int i = 0; i < N; i++)
		assert_non_null(p[i] = arena_alloc(a, 4096, MEM_ATOMIC));
	/* Free all but every 100th: the survivors' tags are scattered. */
	for (int i = 0; i < N; i++)
		if (i % 100)
			assert_int_equal(arena_free(a, p[i], 4096), 0);
	st = st_arena_stats(a);
	assert_true(st.nr_tags > N / 2);
	arena_reap(a);
	assert_arena_check(a);
	st = st_arena_stats(a);
	/* 200 allocated + 201 free segments + 1 span: a few pages' worth,
	 * where the scattered survivors pinned some 200 pages of tags. */
	assert_true(st.nr_tags < 1000);
	for (int i = 0; i < N; i += 100)
		assert_int_equal(arena_free(a, p[i], 4096), 0);
	for (int i = 0; i < N; i++)
		assert_non_null(p[i] = arena_alloc(a, 4096, MEM_ATOMIC));
	assert_arena_check(a);
	for (int i = 0; i < N; i++)
		assert_int_equal(arena_free(a, p[i], 4096), 0);
	arena_reap(a);
	assert_arena_check(a);
	assert_arena_check(arena_base());
	st_region_destroy(&r);
}

static void test_arena_reap_bad(void **state)
{
	(void)state;
	st_reset_errors();
	assert_int_equal(arena_reap(NULL), 0);
	assert_one_error(EINVAL, "arena_reap");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_prestate(test_spike, "akaros"),
		cmocka_unit_test_prestate(test_spike, "illumos"),
		cmocka_unit_test_prestate(test_spike, "uma"),
		cmocka_unit_test_prestate(test_spike, "adaptive"),
		cmocka_unit_test(test_dirty_bound),
		cmocka_unit_test(test_arena_reap_counts),
		cmocka_unit_test(test_tag_compaction),
		cmocka_unit_test(test_arena_reap_bad),
	};

	st_install_handler();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
