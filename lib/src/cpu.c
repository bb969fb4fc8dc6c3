/*
 * cpu.c — the out-of-line half of cpu.h: online CPU count, the sched_getcpu()
 * fallback, and the round-robin thread tickets of the by-thread pcc map.
 *
 * Owns: next_ticket (process-wide, atomic) and each thread's
 * magslab_thread_ticket (thread-local, written only by its own thread).
 *
 * Invariants: a thread's ticket is 0 until its first by-thread pcc_slot()
 * call, then a fixed value >= 1 for the rest of the thread's life.
 *
 * Locking: none (one relaxed atomic add per thread, once).
 *
 * Measured (2-vCPU VM, Debian 12, glibc 2.36, kernel 6.18, -O2 -fPIC,
 * a loop of 100M inlined calls with a compiler barrier each, nr_slots 2
 * and 64 alike):
 *                       rseq on                 rseq off (*)
 *   pcc_slot BY_CPU     0.63 ns (clang 1.2)     22-49 ns (the fallback)
 *   pcc_slot BY_THREAD  0.44 ns (clang 0.85)    0.5-1.0 ns
 *   sched_getcpu()      1.5-2.2 ns              22-42 ns
 * (*) GLIBC_TUNABLES=glibc.pthread.rseq=0.
 * sched_getcpu() is cheap with rseq only because glibc 2.36 itself reads
 * the rseq area then; without it, it is the vDSO getcpu (no system call,
 * checked with strace), which on this CPU (no RDPID) costs 20-45 ns.
 */
#include "cpu.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

_Thread_local unsigned int magslab_thread_ticket
	__attribute__((tls_model("initial-exec"), visibility("hidden")));

static _Atomic unsigned int next_ticket;

unsigned int magslab_online_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	if (n < 1)
		return 1;
	if ((unsigned long)n > (unsigned long)(unsigned int)-1)
		return (unsigned int)-1;
	return (unsigned int)n;
}

static pthread_once_t possible_once = PTHREAD_ONCE_INIT;
static unsigned int possible_cpus;

/* The last number of a cpulist such as "0-3,8-11" (sysfs format). */
static long cpulist_last(const char *s)
{
	long last = -1;
	char *end;

	while (*s >= '0' && *s <= '9') {
		last = strtol(s, &end, 10);
		if (*end != '-' && *end != ',')
			break;
		s = end + 1;
	}
	return last;
}

static void possible_init(void)
{
	char buf[256];
	long last = -1, conf;
	FILE *f = fopen("/sys/devices/system/cpu/possible", "re");

	if (f) {
		if (fgets(buf, sizeof(buf), f))
			last = cpulist_last(buf);
		fclose(f);
	}
	conf = sysconf(_SC_NPROCESSORS_CONF);
	if (last + 1 < conf)
		last = conf - 1;
	possible_cpus = last < 0 ? 1 : (unsigned int)(last + 1);
}

unsigned int magslab_possible_cpus(void)
{
	pthread_once(&possible_once, possible_init);
	return possible_cpus;
}

bool magslab_rseq_active(void)
{
#if MAGSLAB_HAVE_RSEQ
	return __rseq_size != 0;
#else
	return false;
#endif
}

unsigned int magslab_cpu_fallback(void)
{
	int cpu = sched_getcpu();

	return cpu < 0 ? 0 : (unsigned int)cpu;
}

unsigned int magslab_thread_ticket_assign(void)
{
	unsigned int t;

	/* Ticket + 1, so that 0 can mean "none yet"; skip 0 on wrap-around. */
	do
		t = atomic_fetch_add_explicit(&next_ticket, 1,
					      memory_order_relaxed) + 1;
	while (t == 0);
	magslab_thread_ticket = t;
	return t;
}
