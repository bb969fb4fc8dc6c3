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
 * owner, no round to take / no room, or a hit count about to overflow.
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

/*
 * The alloc hit: if pccs[cpu] has no owner and its loaded magazine has a
 * round, take the top one; commit: hot += HOT_ALLOC.  Returns the object and
 * the pcc in *pp, or NULL (nothing done; *aborts counts a restart).
 */
static inline void *pcc_rseq_alloc(struct pcc *pccs, unsigned int nr,
				   struct pcc **pp, unsigned int *aborts)
{
	uint64_t hot, n;
	struct pcc *p;
	void *obj;

	__asm__ goto(PCC_RSEQ_BEGIN("p")
		 PCC_RSEQ_FIND_PCC("bail")
		 "cmpq $0, (%[p])\n\t"
		 "jne %l[bail]\n\t"
		 "movq 8(%[p]), %[hot]\n\t"
		 "movzbl %b[hot], %k[n]\n\t"
		 "testl %k[n], %k[n]\n\t"
		 "jz %l[bail]\n\t"
		 "movq 16(%[p]), %[obj]\n\t"
		 "movq %c[top](%[obj], %[n], 8), %[obj]\n\t"
		 "addq %[op], %[hot]\n\t"
		 "jc %l[bail]\n\t"
		 "movq %[hot], 8(%[p])\n"
		 PCC_RSEQ_END
		 : [p] "=&r"(p), [hot] "=&r"(hot), [n] "=&r"(n),
		   [obj] "=&r"(obj)
		 : [off] "r"(pcc_rseq_offset), [nr] "r"(nr), [pccs] "r"(pccs),
		   [shift] "i"(PCC_SHIFT), [op] "i"(HOT_ALLOC),
		   [top] "i"(offsetof(struct magazine, rounds) - sizeof(void *))
		 : "memory", "cc"
		 : bail, aborted);
	*pp = p;
	return obj;
aborted:
	(*aborts)++;
bail:
	return NULL;
}

/*
 * The free hit: if pccs[cpu] has no owner and its loaded magazine has room
 * below the pcc's magsize, write obj into the first free slot (harmless if
 * the section restarts: the slot is above the count) and commit:
 * hot += HOT_FREE.  Returns the pcc, or NULL (not stored).
 */
static inline struct pcc *pcc_rseq_free(struct pcc *pccs, unsigned int nr,
					void *obj, unsigned int *aborts)
{
	uint64_t hot, n, m;
	struct pcc *p;

	__asm__ goto(PCC_RSEQ_BEGIN("p")
		 PCC_RSEQ_FIND_PCC("bail")
		 "cmpq $0, (%[p])\n\t"
		 "jne %l[bail]\n\t"
		 "movq 8(%[p]), %[hot]\n\t"
		 "movzbl %b[hot], %k[n]\n\t"
		 "cmpl 24(%[p]), %k[n]\n\t"
		 "jae %l[bail]\n\t"
		 "movq 16(%[p]), %[m]\n\t"
		 "movq %[obj], %c[rounds](%[m], %[n], 8)\n\t"
		 "addq %[op], %[hot]\n\t"
		 "jc %l[bail]\n\t"
		 "movq %[hot], 8(%[p])\n"
		 PCC_RSEQ_END
		 : [p] "=&r"(p), [hot] "=&r"(hot), [n] "=&r"(n), [m] "=&r"(m)
		 : [off] "r"(pcc_rseq_offset), [nr] "r"(nr), [pccs] "r"(pccs),
		   [obj] "r"(obj), [shift] "i"(PCC_SHIFT), [op] "i"(HOT_FREE),
		   [rounds] "i"(offsetof(struct magazine, rounds))
		 : "memory", "cc"
		 : bail, aborted);
	return p;
aborted:
	(*aborts)++;
bail:
	return NULL;
}

enum pcc_rseq_take { PCC_TAKEN, PCC_HELD, PCC_NO_SLOT, PCC_ABORTED };

/*
 * Ownership of the current CPU's pcc: if it has no owner, commit:
 * owner = token.  On PCC_TAKEN, *pp is the pcc now owned.
 */
static inline enum pcc_rseq_take pcc_rseq_take(struct pcc *pccs,
					       unsigned int nr,
					       uintptr_t token,
					       struct pcc **pp)
{
	struct pcc *p;

	__asm__ goto(PCC_RSEQ_BEGIN("p")
		 PCC_RSEQ_FIND_PCC("no_slot")
		 "cmpq $0, (%[p])\n\t"
		 "jne %l[held]\n\t"
		 "movq %[token], (%[p])\n"
		 PCC_RSEQ_END
		 : [p] "=&r"(p)
		 : [off] "r"(pcc_rseq_offset), [nr] "r"(nr), [pccs] "r"(pccs),
		   [token] "r"(token), [shift] "i"(PCC_SHIFT)
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

#endif /* PCC_RSEQ_CAPABLE */
#endif /* MAGSLAB_PCC_RSEQ_H */
