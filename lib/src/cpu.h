/*
 * cpu.h — which per-CPU-cache (pcc) slot the calling thread uses.
 *
 * Owns: nothing shared but the round-robin ticket counter behind the
 * by-thread map (in cpu.c) and each thread's own ticket (thread-local).
 *
 * Invariants: pcc_slot(n, map) < n for every n >= 1 (n == 0 is treated as 1
 * and gives 0).  Under MAGSLAB_PCC_BY_THREAD a thread keeps one ticket for
 * its whole life, so it maps to the same slot of every cache with the same
 * number of slots; tickets are handed out 1, 2, 3... in first-use order, so
 * N threads that start using caches one after another get N consecutive
 * slots (mod n).  Tickets are never given back when a thread exits.
 *
 * Locking: none.  The slot is a hint, not ownership: see the FAQ.
 *
 * FAQ:
 * - Why read the CPU from rseq instead of calling sched_getcpu()?  Since
 *   glibc 2.35 every thread registers a struct rseq with the kernel, which
 *   keeps its cpu_id field current on every return to user space; glibc
 *   exports where it is (__rseq_offset from the thread pointer) and whether
 *   registration worked (__rseq_size != 0).  Reading it is one TLS load.
 *   sched_getcpu() is an out-of-line libc call (it reads the same field when
 *   rseq is registered, else it goes through the vDSO getcpu: a few ns with
 *   RDPID, 20-45 ns on our development VM, a real system call where there
 *   is no vDSO).  pcc_slot() runs on every allocation and every free, so
 *   the difference is paid billions of times.  Measured numbers: cpu.c.
 * - When does the fallback run?  With glibc < 2.35 (no <sys/rseq.h>): always.
 *   With rseq registration off (GLIBC_TUNABLES=glibc.pthread.rseq=0, or a
 *   kernel older than 4.18, or a seccomp filter that refuses rseq):
 *   __rseq_size is 0 and cpu_id holds a negative "not registered" value, so
 *   we call sched_getcpu() (out of line, in cpu.c, so that this header does
 *   not need _GNU_SOURCE).  If even that fails, the CPU is taken to be 0.
 * - The thread can migrate right after reading its CPU (or be preempted
 *   while it uses the slot and another thread scheduled on that CPU picks
 *   the same slot).  In user space nothing pins a thread to a CPU for the
 *   length of an allocation, so the CPU number only chooses a slot that is
 *   *probably* not in use by anyone else: that is why every pcc has a real
 *   lock (uncontended in the common case) and why the slab layer counts pcc
 *   contention.  A stale CPU number costs a little locality, never
 *   correctness.
 * - Why "% nr_slots"?  The slot count is settable (MAGSLAB_NCPUS,
 *   magslab_set_ncpus) to study many-CPU behaviour on a small machine, or
 *   fewer slots than CPUs; CPU numbers may also be sparse (offline CPUs,
 *   cpusets), so a CPU id can exceed the online count.  The modulo folds any
 *   id into range; the common case (id < nr_slots) skips the division.
 * - Why is the thread ticket initial-exec TLS?  In a shared library the
 *   default (global/local-dynamic) model calls __tls_get_addr on each
 *   access; initial-exec is one load from the thread pointer.  The cost is
 *   4 bytes of static TLS, which glibc's surplus reserve covers even when
 *   libmagslab.so is dlopen()ed.
 */
#ifndef MAGSLAB_CPU_H
#define MAGSLAB_CPU_H

#include <magslab/slab.h>       /* enum magslab_pcc_map */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GLIBC__) && defined(__has_include)
# if (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 35)) && \
     __has_include(<sys/rseq.h>)
#  if defined(__has_builtin)
#   if __has_builtin(__builtin_thread_pointer)
#    define MAGSLAB_HAVE_RSEQ 1
#   endif
#  endif
# endif
#endif
#ifndef MAGSLAB_HAVE_RSEQ
# define MAGSLAB_HAVE_RSEQ 0
#endif

#if MAGSLAB_HAVE_RSEQ
# include <sys/rseq.h>
#endif

/* Online CPUs (sysconf(_SC_NPROCESSORS_ONLN)), at least 1.  Not cached:
 * CPUs can come and go; callers read it when they size something. */
unsigned int magslab_online_cpus(void);

/* One more than the highest CPU number the kernel may ever use
 * (/sys/devices/system/cpu/possible; else configured CPUs), at least 1.
 * Read once: it cannot change while the process runs.  The rseq mode needs
 * a slot for every one of them. */
unsigned int magslab_possible_cpus(void);

/* true if this thread's CPU comes from rseq (false: from sched_getcpu()). */
bool magslab_rseq_active(void);

/* The slow paths, out of line (cpu.c). */
unsigned int magslab_cpu_fallback(void);        /* sched_getcpu(), or 0 */
unsigned int magslab_thread_ticket_assign(void);/* sets the ticket, >= 1 */

/* This thread's round-robin ticket plus one; 0: not assigned yet. */
extern _Thread_local unsigned int magslab_thread_ticket
	__attribute__((tls_model("initial-exec"), visibility("hidden")));

/* The CPU this thread is running on right now (it may have moved on by the
 * time the caller looks at the result). */
static inline unsigned int pcc_current_cpu(void)
{
#if MAGSLAB_HAVE_RSEQ
	if (__builtin_expect(__rseq_size != 0, 1)) {
		/* The kernel writes cpu_id; read it once, as READ_ONCE does. */
		const volatile int32_t *cpu_id = (const volatile int32_t *)
			((char *)__builtin_thread_pointer() + __rseq_offset +
			 offsetof(struct rseq, cpu_id));
		int32_t cpu = *cpu_id;

		if (__builtin_expect(cpu >= 0, 1))
			return (unsigned int)cpu;
	}
#endif
	return magslab_cpu_fallback();
}

/* x folded into [0, nr); nr >= 2. */
static inline unsigned int pcc_fold(unsigned int x, unsigned int nr)
{
	return __builtin_expect(x < nr, 1) ? x : x % nr;
}

/* HOT PATH: the pcc slot in [0, nr_slots) the calling thread should use. */
static inline unsigned int pcc_slot(unsigned int nr_slots,
				    enum magslab_pcc_map map)
{
	unsigned int t;

	if (__builtin_expect(nr_slots <= 1, 0))
		return 0;
	if (map != MAGSLAB_PCC_BY_THREAD)
		return pcc_fold(pcc_current_cpu(), nr_slots);
	t = magslab_thread_ticket;
	if (__builtin_expect(t == 0, 0))
		t = magslab_thread_ticket_assign();
	return pcc_fold(t - 1, nr_slots);
}

#endif /* MAGSLAB_CPU_H */
