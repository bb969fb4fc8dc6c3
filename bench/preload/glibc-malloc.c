/*
 * bench/preload/glibc-malloc.c — LD_PRELOAD this to run a program on glibc's
 * malloc when it links another one (Debian's redis-server links
 * libjemalloc.so.2, which would otherwise win the symbol lookup).  Every
 * entry point forwards to glibc's own (__libc_malloc, ...), which glibc
 * exports for exactly this.  bench/run-programs.sh builds it; it is not part
 * of magslab.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>

extern void *__libc_malloc(size_t size);
extern void __libc_free(void *p);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void *__libc_memalign(size_t align, size_t size);

void *malloc(size_t size) { return __libc_malloc(size); }
void free(void *p) { __libc_free(p); }
void *calloc(size_t n, size_t size) { return __libc_calloc(n, size); }
void *realloc(void *p, size_t size) { return __libc_realloc(p, size); }
void *memalign(size_t align, size_t size) { return __libc_memalign(align, size); }
void *aligned_alloc(size_t align, size_t size) { return __libc_memalign(align, size); }

int posix_memalign(void **out, size_t align, size_t size)
{
	void *p;

	if (align % sizeof(void *) || (align & (align - 1)))
		return EINVAL;
	p = __libc_memalign(align, size);
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

/* glibc's, found by name in libc.so.6 (not the first definition). */
size_t malloc_usable_size(void *p)
{
	static size_t (*real)(void *);

	if (!real) {
		void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);

		real = (size_t (*)(void *))dlsym(libc, "malloc_usable_size");
	}
	return real(p);
}
