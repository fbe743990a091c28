/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * PVH entry. Xen (dom0 builder, libxenguest) and QEMU jump to the address in
 * the XEN_ELFNOTE_PHYS32_ENTRY note in 32-bit protected mode, paging off,
 * flat segments, with %ebx = physical address of struct hvm_start_info and
 * no usable stack (docs/misc/pvh.pandoc in Xen's tree). We load our own GDT,
 * build identity page tables for the low 4 GiB with 2 MiB pages, enable long
 * mode and call kmain(start_info_paddr, entry_tsc).
 */
#include <xen/elfnote.h>

#define GDT_CS32    0x08
#define GDT_DS      0x10
#define GDT_CS64    0x18

    .section .note.pvh, "a"
    .balign 4
    .long 4                     /* namesz ("Xen\0") */
    .long 4                     /* descsz */
    .long XEN_ELFNOTE_PHYS32_ENTRY
    .asciz "Xen"
    .long pvh_start32
    .balign 4
    .long 4
    .long 5
    .long XEN_ELFNOTE_GUEST_OS
    .asciz "Xen"
    .asciz "pvhk"
    .balign 4

    .section .text.boot, "ax"
    .code32
    .globl pvh_start32
pvh_start32:
    cli
    cld
    /* Keep the start_info pointer and the entry TSC in callee-untouched
     * registers: %ebx stays, rdtsc gives %edx:%eax -> %esi:%edi. */
    rdtsc
    mov     %eax, %edi
    mov     %edx, %esi

    lgdt    (boot_gdt_desc)
    ljmp    $GDT_CS32, $1f
1:  mov     $GDT_DS, %eax
    mov     %eax, %ds
    mov     %eax, %es
    mov     %eax, %ss
    mov     %eax, %fs
    mov     %eax, %gs
    mov     $boot_stack_top, %esp

    /* Identity map 0..4 GiB: PML4[0] -> PDPT, PDPT[0..3] -> 4 PDs of 2 MiB pages. */
    mov     $boot_pdpt, %eax
    or      $0x3, %eax
    mov     %eax, boot_pml4
    xor     %ecx, %ecx
2:  mov     %ecx, %eax
    shl     $12, %eax
    add     $boot_pd, %eax
    or      $0x3, %eax
    mov     %eax, boot_pdpt(, %ecx, 8)
    inc     %ecx
    cmp     $4, %ecx
    jb      2b
    xor     %ecx, %ecx
3:  mov     %ecx, %eax
    shl     $21, %eax
    or      $0x83, %eax                 /* present, writable, 2 MiB */
    mov     %eax, boot_pd(, %ecx, 8)
    mov     %ecx, %eax
    shr     $11, %eax                   /* high dword: (i * 2M) >> 32 */
    mov     %eax, boot_pd+4(, %ecx, 8)
    inc     %ecx
    cmp     $2048, %ecx
    jb      3b

    mov     %cr4, %eax
    or      $(1 << 5), %eax             /* PAE */
    mov     %eax, %cr4
    mov     $boot_pml4, %eax
    mov     %eax, %cr3

    /* EFER.LME, and EFER.NXE when the CPU has NX (CPUID 0x80000001 EDX[20]). */
    push    %ebx
    mov     $0x80000001, %eax
    cpuid
    mov     %edx, %ebp
    pop     %ebx
    mov     $0xc0000080, %ecx
    rdmsr
    or      $(1 << 8), %eax
    bt      $20, %ebp
    jnc     4f
    or      $(1 << 11), %eax
4:  wrmsr

    mov     %cr0, %eax
    or      $0x80010001, %eax           /* PG | WP | PE */
    mov     %eax, %cr0
    ljmp    $GDT_CS64, $start64

    .code64
start64:
    mov     $GDT_DS, %eax
    mov     %eax, %ds
    mov     %eax, %es
    mov     %eax, %ss
    xor     %eax, %eax
    mov     %eax, %fs
    mov     %eax, %gs
    mov     $boot_stack_top, %rsp
    xor     %ebp, %ebp
    /* kmain(start_info_paddr, entry_tsc) */
    mov     %esi, %eax
    shl     $32, %rax
    or      %rdi, %rax
    mov     %rax, %rsi
    mov     %ebx, %edi
    call    kmain
5:  cli
    hlt
    jmp     5b

    .section .rodata
    .balign 8
    .globl boot_gdt
boot_gdt:
    .quad 0
    .quad 0x00cf9b000000ffff            /* 0x08: 32-bit code */
    .quad 0x00cf93000000ffff            /* 0x10: data */
    .quad 0x00af9b000000ffff            /* 0x18: 64-bit code */
boot_gdt_end:
boot_gdt_desc:
    .word boot_gdt_end - boot_gdt - 1
    .long boot_gdt

    .section .bss
    .balign 4096
    .globl boot_pml4
boot_pml4:  .skip 4096
boot_pdpt:  .skip 4096
boot_pd:    .skip 4 * 4096
/* The boot stack (boot_stack_top) and its guard page are laid out by
 * linker.ld. */
