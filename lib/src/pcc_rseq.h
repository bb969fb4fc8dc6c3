/*
 * pcc_rseq.h — the rseq mode's restartable sequences (x86-64 assembly):
 * the alloc hit, the free hit, and taking ownership of the current CPU's pcc.
 *
 * Owns nothing; each function is one critical section on pccs[cpu], where
 * cpu is read from the thread's rseq area *inside* the section.  The kernel
 * restarts a section (jumps to its abort handler) if the thread is
 * preempted, migrated or signalled before the section's last instruction,
 * its single committing store.  Why that makes these safe without a lock or
 * an atomic: pcc.c's FAQ.  Which fields the sections read: struct pcc in
 * pcc.h (offsets checked there by _Static_assert).
 *
 * The ABI (linux/rseq.h, written down here because the assembly hard-codes
 * it): struct rseq has cpu_id at offset 4 and rseq_cs at offset 8, and
 * glibc places it at __rseq_offset from the thread pointer (%fs).  A section
 * is described by a struct rseq_cs { u32 version (0); u32 flags; u64
 * start_ip; u64 post_commit_offset; u64 abort_ip; }, 32-byte aligned; the
 * thread stores its address into rseq_cs before start_ip.  abort_ip must lie
 * outside [start_ip, start_ip + post_commit_offset) and the 4 bytes before
 * it must be RSEQ_SIG (0x53053053 on x86), else the kernel kills the thread.
 * We put the signature in the last 4 bytes of a 7-byte `ud1` (0f b9 3d +
 * imm32) so that a disassembler decodes it as an instruction, never run.
 *
 * Labels: 1 = start, 2 = post-commit, 3 = descriptor, 4 = abort handler.
 * Local numeric labels resolve by position in the assembler's input, so each
 * inlined copy of a function refers to its own descriptor and handler.
 *
 * A section ends early ("bails") with nothing written when it cannot serve:
 * a CPU beyond the slots (or rseq not registered: cpu_id < 0), a pcc with an
 * owner (its hot's low byte is 0xff: pcc.h), no round to take / no room, or
 * a hit count about to overflow.
 */
#ifndef MAGSLAB_PCC_RSEQ_H
#define MAGSLAB_PCC_RSEQ_H

#include "pcc.h"
#include "slab_impl.h"

#if PCC_RSEQ_CAPABLE

#include <sys/rseq.h>

/* __rseq_offset, copied when the mode is first probed: a hidden variable is
 * one load, glibc's (through the GOT) two. */
extern ptrdiff_t pcc_rseq_offset __attribute__((visibility("hidden")));

/* This thread's owner value, HOT_OWNED(serial) (pcc.c), 0 until its first
 * use: a serial handed out once per thread from a process-wide counter and
 * never reused, so no two threads ever own with the same value. */
extern _Thread_local uint64_t pcc_my_owned
	__attribute__((tls_model("initial-exec"), visibility("hidden")));
uint64_t pcc_owned_assign(void);

static inline uint64_t pcc_owned_value(void)
{
	uint64_t v = pcc_my_owned;

	return __builtin_expect(v != 0, 1) ? v : pcc_owned_assign();
}

#define PCC_RSEQ_STR_(x) #x
#define PCC_RSEQ_STR(x) PCC_RSEQ_STR_(x)

/* The descriptor, then its address into rseq->rseq_cs (via scratch `reg`). */
#define PCC_RSEQ_BEGIN(reg)                                                   \
	".pushsection __rseq_cs, \"aw\"\n\t"                                  \
	".balign 32\n"                                                        \
	"3:\n\t"                                                              \
	".long 0, 0\n\t"                                                      \
	".quad 1f, 2f - 1f, 4f\n\t"                                           \
	".popsection\n\t"                                                     \
	"leaq 3b(%%rip), %[" reg "]\n\t"                                      \
	"movq %[" reg "], %%fs:8(%[off])\n"                                   \
	"1:\n\t"

/* The abort handler, out of line, signature first. */
#define PCC_RSEQ_END                                                          \
	"2:\n\t"                                                              \
	".pushsection __rseq_failure, \"ax\"\n\t"                             \
	".byte 0x0f, 0xb9, 0x3d\n\t"                                          \
	".long " PCC_RSEQ_STR(RSEQ_SIG) "\n"                                  \
	"4:\n\t"                                                              \
	"jmp %l[aborted]\n\t"                                                 \
	".popsection\n\t"

/* p = &pccs[cpu] for the CPU we run on; bail if it has no slot. */
#define PCC_RSEQ_FIND_PCC(bail)                                               \
	"movl %%fs:4(%[off]), %k[p]\n\t"                                      \
	"cmpl %[nr], %k[p]\n\t"                                               \
	"jae %l[" bail "]\n\t"                                                \
	"shlq %[shift], %[p]\n\t"                                             \
	"addq %[pccs], %[p]\n\t"

/* The struct pcc offsets the sections read (pcc.h). */
#define PCC_RSEQ_OFFSETS                                                      \
	[shift] "i"(PCC_SHIFT),                                               \
	[o_saved] "i"(offsetof(struct pcc, hot_saved)),                       \
	[o_hot] "i"(offsetof(struct pcc, hot)),                               \
	[o_loaded] "i"(offsetof(struct pcc, loaded)),                         \
	[o_fill] "i"(offsetof(struct pcc, fill))

/* What a section did: PCC_HIT (committed), PCC_BAIL (stepped aside with
 * nothing done), PCC_ABORT (the kernel restarted it; nothing done).  The
 * callers switch on it right away, so that once inlined each outcome is a
 * plain jump. */
enum pcc_rseq_outcome { PCC_HIT, PCC_BAIL, PCC_ABORT };

/*
 * The alloc hit: if pccs[cpu]'s hot says 1..MAG_MAX_ROUNDS rounds (so: not
 * empty, not owned), take the top one; commit: hot += HOT_ALLOC.  On
 * PCC_HIT, *objp is the object and *pp the pcc.
 */
static inline __attribute__((always_inline)) enum pcc_rseq_outcome
pcc_rseq_alloc(struct pcc *pccs, unsigned int nr, void **objp,
	       struct pcc **pp)
{
	uint64_t hot, n;
	struct pcc *p;
	void *obj;

	__asm__ volatile goto(PCC_RSEQ_BEGIN("p")
		 PCC_RSEQ_FIND_PCC("bail")
		 "movq %c[o_hot](%[p]), %[hot]\n\t"
		 "movzbl %b[hot], %k[n]\n\t"
		 "subl $1, %k[n]\n\t"
		 "cmpl %[last], %k[n]\n\t"
		 "ja %l[bail]\n\t"
		 "movq %c[o_loaded](%[p]), %[obj]\n\t"
		 "movq %c[rounds](%[obj], %[n], 8), %[obj]\n\t"
		 "addq %[op], %[hot]\n\t"
		 "jc %l[bail]\n\t"
		 "movq %[hot], %c[o_hot](%[p])\n"
		 PCC_RSEQ_END
		 : [p] "=&r"(p), [hot] "=&r"(hot), [n] "=&r"(n),
		   [obj] "=&r"(obj)
		 : [off] "r"(pcc_rseq_offset), [nr] "r"(nr), [pccs] "r"(pccs),
		   [op] "i"(HOT_ALLOC), [last] "i"(MAG_MAX_ROUNDS - 1),
		   [rounds] "i"(offsetof(struct magazine, rounds)),
		   PCC_RSEQ_OFFSETS
		 : "memory", "cc"
		 : bail, aborted);
	*objp = obj;
	*pp = p;
	return PCC_HIT;
bail:
	return PCC_BAIL;
aborted:
	return PCC_ABORT;
}

/*
 * The free hit: if pccs[cpu]'s hot says fewer rounds than its fill (the
 * loaded magazine's room at the current magsize; so: room, and not owned), write obj into the first free slot (harmless if the
 * section restarts: the slot is above the count) and commit:
 * hot += HOT_FREE.  On PCC_HIT, *pp is the pcc.
 */
static inline __attribute__((always_inline)) enum pcc_rseq_outcome
pcc_rseq_free(struct pcc *pccs, unsigned int nr, void *obj, struct pcc **pp)
{
	uint64_t hot, n, m;
	struct pcc *p;

	__asm__ volatile goto(PCC_RSEQ_BEGIN("p")
		 PCC_RSEQ_FIND_PCC("bail")
		 "movq %c[o_hot](%[p]), %[hot]\n\t"
		 "movzbl %b[hot], %k[n]\n\t"
		 "cmpl %c[o_fill](%[p]), %k[n]\n\t"
		 "jae %l[bail]\n\t"
		 "movq %c[o_loaded](%[p]), %[m]\n\t"
		 "movq %[obj], %c[rounds](%[m], %[n], 8)\n\t"
		 "addq %[op], %[hot]\n\t"
		 "jc %l[bail]\n\t"
		 "movq %[hot], %c[o_hot](%[p])\n"
		 PCC_RSEQ_END
		 : [p] "=&r"(p), [hot] "=&r"(hot), [n] "=&r"(n), [m] "=&r"(m)
		 : [off] "r"(pcc_rseq_offset), [nr] "r"(nr), [pccs] "r"(pccs),
		   [obj] "r"(obj), [op] "i"(HOT_FREE),
		   [rounds] "i"(offsetof(struct magazine, rounds)),
		   PCC_RSEQ_OFFSETS
		 : "memory", "cc"
		 : bail, aborted);
	*pp = p;
	return PCC_HIT;
bail:
	return PCC_BAIL;
aborted:
	return PCC_ABORT;
}

enum pcc_rseq_take { PCC_TAKEN, PCC_HELD, PCC_NO_SLOT, PCC_ABORTED };

/*
 * Ownership of the current CPU's pcc: if hot is not owned, copy it into
 * hot_saved (harmless if the section restarts: nobody reads hot_saved of an
 * unowned pcc) and commit: hot = owned (HOT_OWNED(token)).  On PCC_TAKEN,
 * *pp is the pcc now owned.
 */
static inline enum pcc_rseq_take pcc_rseq_take(struct pcc *pccs,
					       unsigned int nr, uint64_t owned,
					       struct pcc **pp)
{
	struct pcc *p;
	uint64_t hot;

	__asm__ volatile goto(PCC_RSEQ_BEGIN("p")
		 PCC_RSEQ_FIND_PCC("no_slot")
		 "movq %c[o_hot](%[p]), %[hot]\n\t"
		 "cmpb %[mark], %b[hot]\n\t"
		 "je %l[held]\n\t"
		 "movq %[hot], %c[o_saved](%[p])\n\t"
		 "movq %[owned], %c[o_hot](%[p])\n"
		 PCC_RSEQ_END
		 : [p] "=&r"(p), [hot] "=&r"(hot)
		 : [off] "r"(pcc_rseq_offset), [nr] "r"(nr), [pccs] "r"(pccs),
		   [owned] "r"(owned), [mark] "i"(HOT_OWNED_MARK),
		   PCC_RSEQ_OFFSETS
		 : "memory", "cc"
		 : held, no_slot, aborted);
	*pp = p;
	return PCC_TAKEN;
held:
	return PCC_HELD;
no_slot:
	return PCC_NO_SLOT;
aborted:
	return PCC_ABORTED;
}

/* Hits since the last leave into allocs/frees/hits; loaded's true count
 * back into the magazine (pcc.c FAQ: "Counters").  The owner calls it at
 * once, with hot_saved set. */
static inline void pcc_rseq_fold(struct pcc *p)
{
	uint64_t hot = p->hot_saved;
	uint64_t now = hot & HOT_ROUNDS_MASK;
	uint64_t ops = hot >> HOT_OPS_SHIFT;
	uint64_t free_hits = (ops + now - p->hot_base) / 2;

	p->frees += free_hits;
	p->allocs += ops - free_hits;
	p->hits += ops;
	p->loaded->nr_rounds = (unsigned int)now;
}

/* pcc_rseq_enter's common case inline (one take, no restart to count);
 * anything else out of line. */
static inline struct pcc *pcc_rseq_enter_inline(struct pcc *pccs,
						unsigned int nr,
						unsigned int aborts)
{
	struct pcc *p;

	if (__builtin_expect(aborts == 0, 1) &&
	    __builtin_expect(pcc_rseq_take(pccs, nr, pcc_owned_value(), &p) ==
			     PCC_TAKEN, 1)) {
		pcc_rseq_fold(p);
		return p;
	}
	return pcc_rseq_enter(pccs, nr, aborts);
}

#endif /* PCC_RSEQ_CAPABLE */
#endif /* MAGSLAB_PCC_RSEQ_H */
