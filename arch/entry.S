/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Exception and interrupt entry. Every vector gets a stub that pushes a
 * uniform (error code, vector) pair so trap_dispatch() sees one frame layout
 * (struct trap_frame in include/pvhk/trap.h).
 */
    .text
    .code64

/* Vectors for which the CPU pushes an error code. */
#define HAS_ERR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

    .balign 16
    .globl trap_stubs
trap_stubs:
    vec = 0
    .rept 256
    .balign 16                  /* stub N sits at trap_stubs + 16 N (arch/desc.c) */
    .if HAS_ERR(vec) == 0
    pushq $0                    /* no error code from the CPU: push a dummy */
    .endif
    pushq $vec
    jmp trap_common
    vec = vec + 1
    .endr

trap_common:
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    cld
    mov     %rsp, %rdi
    mov     %rsp, %r12
    and     $-16, %rsp
    call    trap_dispatch
    mov     %r12, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    add     $16, %rsp
    iretq
