/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * int trap_try(fn, arg, info): see include/pvhk/trap.h. The callee-saved
 * registers and %rsp are parked in this CPU's trap_catch (struct percpu,
 * reached through %gs:0) so trap_dispatch() can resume at trap_try_resume
 * with the stack as it was on entry here. This file depends on nothing:
 * arch/traps.c reads and clears trap_catch, and arch/entry.S only calls
 * trap_dispatch().
 */
#include <pvhk/smp.h>

    .text
    .code64
    .globl trap_try, trap_try_resume
trap_try:
    mov     %gs:PERCPU_SELF, %rax
    add     $PERCPU_TRAP_CATCH, %rax
    mov     %rsp, 0(%rax)
    mov     %rbx, 8(%rax)
    mov     %rbp, 16(%rax)
    mov     %r12, 24(%rax)
    mov     %r13, 32(%rax)
    mov     %r14, 40(%rax)
    mov     %r15, 48(%rax)
    mov     %rdx, 56(%rax)
    movq    $1, 64(%rax)
    sub     $8, %rsp
    mov     %rdi, %rcx
    mov     %rsi, %rdi
    call    *%rcx
    add     $8, %rsp
    mov     %gs:PERCPU_SELF, %rax
    add     $PERCPU_TRAP_CATCH, %rax
    movq    $0, 64(%rax)
    xor     %eax, %eax
    ret
trap_try_resume:
    mov     %gs:PERCPU_SELF, %rax
    add     $PERCPU_TRAP_CATCH, %rax
    mov     8(%rax), %rbx
    mov     16(%rax), %rbp
    mov     24(%rax), %r12
    mov     32(%rax), %r13
    mov     40(%rax), %r14
    mov     48(%rax), %r15
    mov     $1, %eax
    ret
