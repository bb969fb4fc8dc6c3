/*
 * malloc.c — the malloc family on magslab: malloc, free, calloc, realloc,
 * reallocarray, posix_memalign, aligned_alloc, memalign, valloc, pvalloc,
 * malloc_usable_size and malloc_trim (C++ new/delete reach them through
 * libstdc++).  LD_PRELOAD=build/lib/libmagslab-malloc.so puts them under
 * any dynamically linked program.
 *
 * Owns: the start-up state, the start-up heap, the knobs read from the
 * environment at start-up, and what happens on bad input.
 *
 * Paths.  A request of up to 32 KiB goes to its size class's cache
 * (classes.c): a table look-up and kmem_cache_alloc, whose hit is a
 * restartable sequence in magslab's default pcc mode.  A larger one, or one
 * whose alignment no class gives, is a large allocation: arena_xalloc on
 * the page arena (kpages), its length in the page map.  free() looks the
 * pointer up in the page map (pagemap.c): a class unit gives the class and
 * where its slab starts, so the pointer is checked to be an object's first
 * byte (a multiply, no division) before kmem_cache_free; a large head gives
 * the length for arena_xfree.  Anything else is not ours: one line naming
 * the address, then abort(), as glibc does.  A freed large block of 1 MiB
 * or more gives its pages back to the OS at once (RELEASE_MIN).
 *
 * Start-up.  The classes are created in this library's constructor, which
 * the loader runs after those of its dependencies (libmagslab, LTTng-UST):
 * the tracer has registered by then, so the classes' cache_create events
 * are in a trace (`magslab record --preload`), and a report can name them.
 * Whatever is allocated before (the loader, libc, LTTng-UST's constructors
 * and the threads they start) comes from a static start-up heap (4 MiB of
 * .bss: pages never touched cost nothing), as do the allocations of
 * magslab's own start-up (fopen, the pthread_atfork registration) on the
 * starting thread, so nothing recurses; free() recognises its blocks and
 * ignores them.  If the start-up heap runs out before the constructor, the
 * classes are created at once (their cache_create events may then be
 * missing from a trace).  Other threads wait for the start to finish.  Not
 * covered: a fork() while another thread is inside the start-up (the child
 * would wait for it forever); the start runs before main(), when a program
 * normally has no threads of its own.
 *
 * Counters at exit.  The stats destructor turns the fast path off and takes
 * its own allocations (stdio's, magslab's snapshot) from the start-up heap,
 * so that writing the counters does not change them: they then equal the
 * events of the process in a trace (tests/test_record.sh preload).
 *
 * Bad input.  magslab's errors about the shim's own caches or arenas
 * ("cache 'malloc-96': free of 0x...: double free", a write after free
 * seen when the object is handed out again: both with MAGSLAB_DEBUG=1) go
 * through the error handler installed at start-up, which prints them as the
 * default handler does and aborts: after such an error the heap cannot be
 * trusted.  Errors about other caches are only printed.
 *
 * fork(): the shim has no lock; magslab's pthread_atfork handlers (fork.c)
 * take every lock the shim's calls can hold, so a child of a multithreaded
 * parent finds every class consistent.  Threads: nothing here is per
 * thread (magslab's caches are per CPU), so an exiting thread strands
 * nothing.
 *
 * Knobs (read at start-up): MAGSLAB_MALLOC_STATS=1|stderr|FILE prints
 * magslab_stats_print() at exit, MAGSLAB_MALLOC_STATS_JSON=FILE the same as
 * JSON ("%p" in FILE becomes the process id); every MAGSLAB_* variable of
 * magslab/slab.h applies to the classes.
 */
#include "shim.h"

#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define likely(x) __builtin_expect(!!(x), 1)

/* Larger requests fail with ENOMEM at once (64 TiB: no mapping that big
 * exists on x86-64's 47-bit user address space). */
#define LARGE_MAX ((size_t)1 << 46)

/* A freed large block of at least this size gives its pages back to the OS
 * at once, as glibc unmaps its mmapped blocks; the base arena would keep up
 * to 64 MiB of freed pages resident until a reap (magslab/arena.h), and a
 * program growing a big buffer by realloc leaves a trail of them. */
#define RELEASE_MIN ((size_t)1 << 20)

static struct arena *kpages;
static const char *stats_table, *stats_json;

/* What malloc's fast path looks a class up in: msm_classes[].cache once the
 * start is done; NULL while the stats are taken at exit, so that every
 * malloc takes the slow path then (the frees use msm_classes[] itself). */
static struct kmem_cache *fast_cache[MSM_NR_CLASSES];
/* This thread is writing the stats: its allocations come from the start-up
 * heap, so that taking the counters does not change them. */
static _Thread_local bool quiet __attribute__((tls_model("initial-exec")));

/* ---------------------------------------------------------------------- */
/* Bad input                                                                */

static _Noreturn void die(const char *fmt, ...)
{
	char line[256];
	int n = snprintf(line, sizeof(line), "magslab-malloc: ");
	va_list ap;

	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, (size_t)n);
	abort();
}

/* p is not something this malloc handed out (e = its page map entry). */
static _Noreturn void die_bad_pointer(const char *fn, const void *p,
				      uint64_t e)
{
	unsigned int k = msm_pm_kind(e);

	if (k == MSM_PM_FREED)
		die("%s(): double free of %p (a large block, freed before)",
		    fn, p);
	if (k >= 1 && k <= MSM_NR_CLASSES)
		die("%s(): invalid pointer %p (inside a block of %s, not its start)",
		    fn, p, msm_classes[k - 1].name);
	die("%s(): invalid pointer %p (not returned by malloc)", fn, p);
}

/* Does msg name one of the shim's caches ('malloc-96') or arenas
 * ('malloc-96-slabs')? */
static bool names_a_class(const char *msg)
{
	const char *q = strchr(msg, '\'');

	if (!q || strncmp(q + 1, "malloc-", 7) != 0)
		return false;
	for (unsigned int i = 0; i < MSM_NR_CLASSES; i++) {
		size_t n = strlen(msm_classes[i].name);

		if (strncmp(q + 1, msm_classes[i].name, n) == 0 &&
		    (q[1 + n] == '\'' || strncmp(q + 1 + n, "-slabs'", 7) == 0))
			return true;
	}
	return false;
}

static void on_magslab_error(const char *msg, void *arg)
{
	char line[600];
	int n = snprintf(line, sizeof(line), "magslab: %s\n", msg);

	(void)arg;
	if (n > (int)sizeof(line) - 1)
		n = (int)sizeof(line) - 1;
	(void)!write(STDERR_FILENO, line, (size_t)n);
	if (names_a_class(msg))
		abort();
}

/* ---------------------------------------------------------------------- */
/* Start-up                                                                 */

enum { START_NONE, START_BUSY, START_DONE };
static _Atomic int start_state;
static _Thread_local bool starting
	__attribute__((tls_model("initial-exec")));
/* Set by the constructor below (or when the start-up heap is full): until
 * then every thread's allocations come from the start-up heap. */
static _Atomic bool may_start;

/* The start-up heap: what is allocated before the shim's constructor runs
 * (the loader, libc, LTTng-UST's constructors and their threads) and what
 * magslab's own start-up allocates.  Never given back; each block has a
 * header with its size.  Untouched pages of it cost nothing. */
#define BOOT_HEAP_SIZE (4 * 1024 * 1024)
struct boot_hdr {
	size_t size;
	size_t pad;                     /* keeps blocks 16-aligned */
};
static _Alignas(4096) unsigned char boot_heap[BOOT_HEAP_SIZE];
static _Atomic size_t boot_used;        /* any thread: compare and swap */

static void *boot_alloc(size_t size, size_t align)
{
	uintptr_t base = (uintptr_t)boot_heap, p;
	size_t used = atomic_load_explicit(&boot_used, memory_order_relaxed);
	struct boot_hdr *h;

	if (align < MSM_ALIGN)
		align = MSM_ALIGN;
	do {
		p = (base + used + sizeof(*h) + align - 1) &
		    ~(uintptr_t)(align - 1);
		if (size > BOOT_HEAP_SIZE || p - base > BOOT_HEAP_SIZE - size) {
			errno = ENOMEM;
			return NULL;
		}
	} while (!atomic_compare_exchange_weak_explicit(
		&boot_used, &used, p + size - base, memory_order_relaxed,
		memory_order_relaxed));
	h = (struct boot_hdr *)p - 1;
	h->size = size;
	return (void *)p;
}

static bool boot_owns(const void *p)
{
	return (const unsigned char *)p >= boot_heap &&
	       (const unsigned char *)p < boot_heap + BOOT_HEAP_SIZE;
}

static size_t boot_size(const void *p)
{
	return ((const struct boot_hdr *)p - 1)->size;
}

static void read_knobs(void)
{
	stats_table = getenv("MAGSLAB_MALLOC_STATS");
	stats_json = getenv("MAGSLAB_MALLOC_STATS_JSON");
}

static void set_fast_path(bool on)
{
	for (unsigned int i = 0; i < MSM_NR_CLASSES; i++)
		__atomic_store_n(&fast_cache[i], on ? msm_classes[i].cache : NULL,
				 __ATOMIC_RELEASE);
}

static void start(void)
{
	char why[128];

	msm_classes_init_tables();
	read_knobs();
	magslab_set_error_handler(on_magslab_error, NULL);
	kpages = arena_kpages();
	if (!kpages || msm_classes_create(why, sizeof(why)) != 0)
		die("cannot start: %s", kpages ? why : "no page arena");
	set_fast_path(true);
}

/* True once the classes exist; false before the constructor, and on the
 * starting thread while it creates them (their allocations then come from
 * the start-up heap). */
static bool started(void)
{
	int st = atomic_load_explicit(&start_state, memory_order_acquire);

	if (likely(st == START_DONE))
		return true;
	if (starting || !atomic_load_explicit(&may_start, memory_order_acquire))
		return false;
	st = START_NONE;
	if (atomic_compare_exchange_strong(&start_state, &st, START_BUSY)) {
		starting = true;
		start();
		starting = false;
		atomic_store_explicit(&start_state, START_DONE,
				      memory_order_release);
		return true;
	}
	while (atomic_load_explicit(&start_state, memory_order_acquire) !=
	       START_DONE)
		sched_yield();
	return true;
}

/* After the constructors of libmagslab and LTTng-UST (the shim's
 * dependencies: the loader runs theirs first), so the tracer has registered
 * and the classes' cache_create events are in the trace. */
__attribute__((constructor)) static void start_at_load(void)
{
	atomic_store_explicit(&may_start, true, memory_order_release);
	(void)started();
}

/* ---------------------------------------------------------------------- */
/* Allocation                                                               */

static inline struct kmem_cache *class_cache(unsigned int c)
{
	return __atomic_load_n(&msm_classes[c].cache, __ATOMIC_ACQUIRE);
}

static void *large_alloc(size_t size, size_t align)
{
	size_t len;
	void *p;

	if (size > LARGE_MAX) {
		errno = ENOMEM;
		return NULL;
	}
	len = (size + MSM_PM_UNIT - 1) & ~(MSM_PM_UNIT - 1);
	p = arena_xalloc(kpages, len, align > MSM_PM_UNIT ? align : 0, 0, 0,
			 NULL, NULL, MEM_ATOMIC);
	if (p && msm_pm_set_large(p, len) != 0) {
		arena_xfree(kpages, p, len);
		p = NULL;
	}
	if (!p)
		errno = ENOMEM;
	return p;
}

static void large_free(void *p, uint64_t e)
{
	size_t len = (size_t)msm_pm_value(e) << MSM_PM_SHIFT;
	int saved = errno;

	msm_pm_mark_freed(p);
	if (len >= RELEASE_MIN)
		madvise(p, len, MADV_DONTNEED);
	arena_xfree(kpages, p, len);
	errno = saved;
}

/* Everything but a class hit: start-up, large sizes, alignment (a power of
 * two; 0 means malloc's). */
static __attribute__((noinline)) void *alloc_slow(size_t size, size_t align)
{
	int c;

	if (!started() || quiet) {
		void *p = boot_alloc(size, align);

		if (p || starting)
			return p;
		/* The start-up heap is full: start now if the constructor has
		 * not run yet; while the stats are taken, use the classes. */
		atomic_store_explicit(&may_start, true, memory_order_release);
		started();
	}
	if (size <= MSM_CLASS_MAX && align <= MSM_PM_UNIT) {
		c = align > MSM_ALIGN ? msm_class_aligned(size, align)
				      : (int)msm_class_of(size);
		if (c >= 0)
			return kmem_cache_alloc(class_cache((unsigned int)c),
						MEM_ATOMIC);
	}
	return large_alloc(size, align);
}

void *MSM(malloc)(size_t size)
{
	if (likely(size <= MSM_CLASS_MAX)) {
		struct kmem_cache *kc = __atomic_load_n(
			&fast_cache[msm_class_of(size)], __ATOMIC_ACQUIRE);

		if (likely(kc != NULL))
			return kmem_cache_alloc(kc, MEM_ATOMIC);
	}
	return alloc_slow(size, 0);
}

void *MSM(calloc)(size_t n, size_t size)
{
	size_t total;
	void *p;

	if (__builtin_mul_overflow(n, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	p = MSM(malloc)(total);
	if (p)
		memset(p, 0, total);
	return p;
}

static bool is_pow2(size_t x)
{
	return x && !(x & (x - 1));
}

/* align: a power of two. */
static void *alloc_aligned(size_t align, size_t size)
{
	if (align <= MSM_ALIGN)
		return MSM(malloc)(size);
	return alloc_slow(size, align);
}

int MSM(posix_memalign)(void **out, size_t align, size_t size)
{
	int saved = errno;
	void *p;

	if (!is_pow2(align) || align % sizeof(void *) != 0)
		return EINVAL;
	p = alloc_aligned(align, size);
	errno = saved;
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

void *MSM(aligned_alloc)(size_t align, size_t size)
{
	if (!is_pow2(align)) {
		errno = EINVAL;
		return NULL;
	}
	return alloc_aligned(align, size);
}

void *MSM(memalign)(size_t align, size_t size)
{
	return MSM(aligned_alloc)(align, size);
}

void *MSM(valloc)(size_t size)
{
	return alloc_aligned((size_t)sysconf(_SC_PAGESIZE), size);
}

void *MSM(pvalloc)(size_t size)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	if (size > SIZE_MAX - page) {
		errno = ENOMEM;
		return NULL;
	}
	return alloc_aligned(page, size ? (size + page - 1) & ~(page - 1)
					: page);
}

/* ---------------------------------------------------------------------- */
/* Free and sizes                                                           */

/* Is p the first byte of an object of class cl (e: p's page map entry)? */
static inline bool object_start(const struct msm_class *cl, const void *p,
				uint64_t e)
{
	uint64_t off = ((uintptr_t)p & (MSM_PM_UNIT - 1)) +
		       (msm_pm_value(e) << MSM_PM_SHIFT);
	uint64_t q = (off * cl->div_magic) >> 40;

	return q * cl->size == off && q < cl->objs_per_slab;
}

/* p's class index if p is a class object, else -1. */
static inline int class_object(const void *p, uint64_t e)
{
	unsigned int k = msm_pm_kind(e) - 1u;

	if (likely(k < MSM_NR_CLASSES) && object_start(&msm_classes[k], p, e))
		return (int)k;
	return -1;
}

static bool large_head(const void *p, uint64_t e)
{
	return msm_pm_kind(e) == MSM_PM_LARGE &&
	       ((uintptr_t)p & (MSM_PM_UNIT - 1)) == 0;
}

static __attribute__((noinline)) void free_slow(void *p, uint64_t e)
{
	if (!p || boot_owns(p))
		return;
	if (!large_head(p, e))
		die_bad_pointer("free", p, e);
	large_free(p, e);
}

void MSM(free)(void *p)
{
	uint64_t e = msm_pm_get(p);
	int c = class_object(p, e);

	if (likely(c >= 0)) {
		kmem_cache_free(msm_classes[c].cache, p);
		return;
	}
	free_slow(p, e);
}

/* The usable size of p (not NULL), or die naming fn. */
static size_t usable_size(void *p, const char *fn)
{
	uint64_t e = msm_pm_get(p);
	int c = class_object(p, e);

	if (c >= 0)
		return msm_classes[c].size;
	if (large_head(p, e))
		return (size_t)msm_pm_value(e) << MSM_PM_SHIFT;
	if (boot_owns(p))
		return boot_size(p);
	die_bad_pointer(fn, p, e);
}

size_t MSM(malloc_usable_size)(void *p)
{
	return p ? usable_size(p, "malloc_usable_size") : 0;
}

/* May a block of old usable bytes at p stay where it is for size bytes? */
static bool fits_in_place(const void *p, size_t old, size_t size)
{
	if (size > old)
		return false;
	if (boot_owns(p))
		return true;
	if (old <= MSM_CLASS_MAX)
		return msm_class_of(size) == msm_class_of(old);
	return size > old / 2;          /* large: shrink in place to half */
}

void *MSM(realloc)(void *p, size_t size)
{
	size_t old;
	void *q;

	if (!p)
		return MSM(malloc)(size);
	old = usable_size(p, "realloc");
	if (size == 0) {                /* as glibc: free, return NULL */
		MSM(free)(p);
		return NULL;
	}
	if (fits_in_place(p, old, size))
		return p;
	q = MSM(malloc)(size);
	if (!q)
		return NULL;
	memcpy(q, p, old < size ? old : size);
	MSM(free)(p);
	return q;
}

void *MSM(reallocarray)(void *p, size_t n, size_t size)
{
	size_t total;

	if (__builtin_mul_overflow(n, size, &total)) {
		errno = ENOMEM;
		return NULL;
	}
	return MSM(realloc)(p, total);
}

int MSM(malloc_trim)(size_t pad)
{
	(void)pad;
	if (atomic_load(&start_state) != START_DONE)
		return 0;
	return msm_classes_reap() > 0;
}

/* ---------------------------------------------------------------------- */
/* At exit                                                                  */

/* dest: "1" or "stderr", or a file name in which "%p" is the pid. */
static void write_stats(const char *dest, void (*print)(FILE *f))
{
	char path[4096];
	size_t n = 0;
	FILE *f;

	if (!dest || !*dest)
		return;
	if (strcmp(dest, "1") == 0 || strcmp(dest, "stderr") == 0) {
		print(stderr);
		return;
	}
	for (const char *s = dest; *s && n < sizeof(path) - 24; s++) {
		if (s[0] == '%' && s[1] == 'p') {
			n += (size_t)snprintf(path + n, sizeof(path) - n, "%ld",
					      (long)getpid());
			s++;
		} else {
			path[n++] = *s;
		}
	}
	path[n] = '\0';
	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "magslab-malloc: cannot write stats to %s: %s\n",
			path, strerror(errno));
		return;
	}
	print(f);
	fclose(f);
}

/*
 * The stats' own allocations (stdio's, the snapshot magslab takes) come
 * from the start-up heap: taking the counters must not change them, so
 * that they equal the trace's events of the process (recorded up to the
 * provider's destructor, libmagslab's, which runs right after this one).
 */
__attribute__((destructor)) static void stats_at_exit(void)
{
	if (atomic_load(&start_state) != START_DONE ||
	    (!stats_table && !stats_json))
		return;
	quiet = true;
	set_fast_path(false);
	write_stats(stats_table, magslab_stats_print);
	write_stats(stats_json, magslab_stats_json);
	set_fast_path(true);
	quiet = false;
}
