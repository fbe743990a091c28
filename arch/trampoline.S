/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The real-mode trampoline of a secondary CPU started with INIT-SIPI-SIPI
 * (bare). The boot CPU copies ap_tramp_start..ap_tramp_end to a page below
 * 1 MiB (reserved in memblock as "ap trampoline"), fills in the parameter
 * block at its end and sends the SIPI with that page's number: the AP
 * starts here in real mode with CS = page << 8, IP = 0. It loads the
 * trampoline's GDT, enters protected mode, loads the boot CPU's CR4, CR3,
 * EFER and CR0 (so paging, long mode, NX and WP are as on the boot CPU),
 * far-jumps to 64-bit code and, if it is the CPU the block was filled in
 * for (its initial APIC id), takes its stack and jumps to ap_entry64 with
 * its CPU number in %rdi. Any other CPU parks itself (a late AP must not
 * run on another one's stack).
 *
 * The code is position-independent: every absolute address it needs is in
 * the block, patched by the boot CPU (common/smp_boot.c). The page is mapped
 * read-only and executable while APs start (the 64-bit part runs with
 * paging on and NX enforced), and writable, not executable, before and
 * after: W^X holds throughout.
 */
#define OFF(x)  ((x) - ap_tramp_start)

    .section .rodata
    .balign 16
    .globl ap_tramp_start, ap_tramp_end
    .globl ap_tramp_gdt_desc, ap_tramp_pm32, ap_tramp_lm64, ap_tramp_params
    .globl ap_tramp_pm32_code, ap_tramp_lm64_code, ap_tramp_gdt
ap_tramp_start:
    .code16
    cli
    cld
    mov     %cs, %ax
    mov     %ax, %ds
    xor     %ebp, %ebp
    mov     %ax, %bp
    shl     $4, %ebp                    /* %ebp: the page's linear address */
    lgdtl   OFF(ap_tramp_gdt_desc)
    mov     %cr0, %eax
    or      $1, %eax                    /* PE */
    mov     %eax, %cr0
    ljmpl   *OFF(ap_tramp_pm32)

    .code32
ap_tramp_pm32_code:
    mov     $0x10, %eax
    mov     %eax, %ds
    mov     %eax, %es
    mov     %eax, %ss
    mov     OFF(ap_tramp_params) + 0(%ebp), %eax     /* cr4 */
    mov     %eax, %cr4
    mov     OFF(ap_tramp_params) + 8(%ebp), %eax     /* cr3 (below 4 GiB) */
    mov     %eax, %cr3
    mov     $0xc0000080, %ecx                        /* EFER */
    mov     OFF(ap_tramp_params) + 16(%ebp), %eax
    mov     OFF(ap_tramp_params) + 20(%ebp), %edx
    wrmsr
    mov     OFF(ap_tramp_params) + 24(%ebp), %eax    /* cr0: PG on, long mode */
    mov     %eax, %cr0
    ljmpl   *OFF(ap_tramp_lm64)(%ebp)

    .code64
ap_tramp_lm64_code:
    mov     %ebp, %ebp                               /* zero-extend */
    /* Initial APIC id: CPUID 0xB EDX (x2APIC id) if the leaf exists, else
     * CPUID 1 EBX[31:24]. */
    xor     %eax, %eax
    cpuid
    cmp     $0xb, %eax
    jb      1f
    mov     $0xb, %eax
    xor     %ecx, %ecx
    cpuid
    mov     %edx, %esi
    jmp     2f
1:  mov     $1, %eax
    cpuid
    shr     $24, %ebx
    mov     %ebx, %esi
2:  cmp     OFF(ap_tramp_params) + 48(%rbp), %esi    /* apic_id expected */
    jne     3f
    mov     OFF(ap_tramp_params) + 32(%rbp), %rsp    /* stack top */
    mov     OFF(ap_tramp_params) + 40(%rbp), %rdi    /* cpu number */
    mov     OFF(ap_tramp_params) + 56(%rbp), %rax    /* ap_entry64 */
    jmp     *%rax
3:  cli
    hlt
    jmp     3b

    .balign 8
ap_tramp_gdt:
    .quad 0
    .quad 0x00cf9b000000ffff            /* 0x08: 32-bit code */
    .quad 0x00cf93000000ffff            /* 0x10: data */
    .quad 0x00af9b000000ffff            /* 0x18: 64-bit code */
ap_tramp_gdt_desc:
    .word 31
    .long 0                             /* linear address of ap_tramp_gdt */
    .balign 8
ap_tramp_pm32:
    .long 0                             /* linear address of ap_tramp_pm32_code */
    .word 0x08
    .balign 8
ap_tramp_lm64:
    .long 0                             /* linear address of ap_tramp_lm64_code */
    .word 0x18
    .balign 8
ap_tramp_params:                        /* struct tramp_params in arch/smp.c */
    .skip 64
ap_tramp_end:
