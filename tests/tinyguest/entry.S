/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The bzImage setup header (boot protocol 2.15, 64-bit entry) and the guest's entry and interrupt stubs. */

	.section .setup, "a"
	.org 0x1f1
	.byte 1                 /* setup_sects */
	.word 0                 /* root_flags */
	.long _syssize          /* syssize */
	.word 0                 /* ram_size */
	.word 0xffff            /* vid_mode */
	.word 0                 /* root_dev */
	.word 0xaa55            /* boot_flag */
	.byte 0xeb, 0x6a        /* jump: the header ends at 0x202 + 0x6a */
	.ascii "HdrS"
	.word 0x020f            /* version */
	.long 0                 /* realmode_swtch */
	.word 0x1000            /* start_sys_seg */
	.word 0                 /* kernel_version */
	.byte 0                 /* type_of_loader */
	.byte 0x01              /* loadflags: LOADED_HIGH */
	.word 0                 /* setup_move_size */
	.long 0x100000          /* code32_start */
	.long 0, 0              /* ramdisk_image, ramdisk_size */
	.long 0                 /* bootsect_kludge */
	.word 0                 /* heap_end_ptr */
	.byte 0, 0              /* ext_loader_ver, ext_loader_type */
	.long 0                 /* cmd_line_ptr */
	.long 0x7fffffff        /* initrd_addr_max */
	.long 0x200000          /* kernel_alignment */
	.byte 0, 0              /* relocatable_kernel, min_alignment */
	.word 0x0001            /* xloadflags: XLF_KERNEL_64 */
	.long 2047              /* cmdline_size */
	.long 0                 /* hardware_subarch */
	.quad 0                 /* hardware_subarch_data */
	.long 0, 0              /* payload_offset, payload_length */
	.quad 0                 /* setup_data */
	.quad 0x100000          /* pref_address */
	.long _init_size        /* init_size */
	.long 0                 /* handover_offset */
	.long 0                 /* kernel_info_offset */
	.org 0x400

	.section .text.head, "ax"
	.code64
	/* No 32-bit entry: a loader that uses it gets a halt. */
1:	cli
	hlt
	jmp 1b
	.org 0x200
	.globl entry64
entry64:
	cli
	lea stack_top(%rip), %rsp
	mov %rsi, %rdi
	call tiny_main
2:	cli
	hlt
	jmp 2b

/* Interrupt stubs: save what C may clobber, call the handler, return. */
.macro ISR name, handler
	.globl \name
\name:
	push %rax
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %r8
	push %r9
	push %r10
	push %r11
	cld
	call \handler
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rax
	iretq
.endm

	.text
	ISR isr_serial, on_serial_interrupt
	ISR isr_power_button, on_power_button_interrupt
	ISR isr_unexpected, on_unexpected_interrupt

/* Application processors start here in real mode (copied below 1 MiB): count ourselves, halt. */
	.section .rodata
	.globl ap_trampoline, ap_trampoline_end, ap_counter_offset
	.code16
ap_trampoline:
	cli
	lock incw %cs:(ap_counter - ap_trampoline)
3:	hlt
	jmp 3b
	.balign 4
ap_counter:
	.word 0
ap_trampoline_end:
	.code64
	.balign 8
ap_counter_offset:
	.quad ap_counter - ap_trampoline

	.bss
	.balign 16
	.space 16384
stack_top:
