/* SPDX-License-Identifier: BSD-2-Clause */
/* Exceptions: the saved frame, the report, and catching a trap in a test. */
#ifndef PVHK_TRAP_H
#define PVHK_TRAP_H

#include <pvhk/types.h>

#define X86_EXC_DE   0
#define X86_EXC_DB   1
#define X86_EXC_NMI  2
#define X86_EXC_BP   3
#define X86_EXC_UD   6
#define X86_EXC_DF   8
#define X86_EXC_GP   13
#define X86_EXC_PF   14

/* #PF error code bits. */
#define PFEC_PRESENT  (1u << 0)
#define PFEC_WRITE    (1u << 1)
#define PFEC_INSN     (1u << 4)

/* Layout must match arch/entry.S. */
struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
    uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error_code;
    uint64_t rip, cs, rflags, rsp, ss;
};

/* What a caught trap looked like. */
struct caught_trap {
    unsigned vector;
    uint64_t error_code, rip, cr2;
};

/*
 * Run fn(arg); if it raises an exception, unwind back here instead of
 * reporting it. Returns 0 if fn returned normally, or 1 with *info filled in.
 * Only for self-tests: the trapping code must not hold locks or state that
 * the unwind would leave inconsistent.
 */
int trap_try(void (*fn)(void *), void *arg, struct caught_trap *info);

/* Irq-vector hooks for later subsystems (event channel upcall). */
typedef void (*irq_handler_t)(struct trap_frame *);
void trap_set_irq_handler(unsigned vector, irq_handler_t fn);
/* An NMI hook: returns true when it handled the NMI (arch/smp.c's stop). */
void trap_set_nmi_handler(bool (*fn)(struct trap_frame *f));

/* The IDT, and the boot CPU's GDT and TSS, loaded. */
void traps_init(void);
/* Another CPU's GDT and TSS, its three IST stacks at ist (3 x IST_STACK_SIZE);
 * desc_load_cpu() runs on that CPU and loads them with the shared IDT. */
#define IST_STACK_SIZE  8192
void desc_setup_cpu(unsigned cpu, uint8_t *ist);
void desc_load_cpu(unsigned cpu);
void backtrace_from(uint64_t rbp, uint64_t rip);
const char *exception_name(unsigned vector);

#endif
