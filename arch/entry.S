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

/*
 * int trap_try(fn, arg, info): see include/pvhk/trap.h. The callee-saved
 * registers and %rsp are parked in trap_catch so trap_dispatch() can resume
 * at trap_try_resume with the stack as it was on entry here.
 */
    .globl trap_try, trap_try_resume
trap_try:
    lea     trap_catch(%rip), %rax
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
    lea     trap_catch(%rip), %rax
    movq    $0, 64(%rax)
    xor     %eax, %eax
    ret
trap_try_resume:
    lea     trap_catch(%rip), %rax
    mov     8(%rax), %rbx
    mov     16(%rax), %rbp
    mov     24(%rax), %r12
    mov     32(%rax), %r13
    mov     40(%rax), %r14
    mov     48(%rax), %r15
    mov     $1, %eax
    ret
