/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A tiny PC firmware for phyllome-vmm's --firmware: 64 KiB, mapped just below
 * 4 GiB, entered in real mode at the reset vector (CS base 0xffff0000, IP
 * 0xfff0) as after a power-on. It says so on COM1, reads the fw_cfg
 * signature through the data port and the file directory through DMA (from
 * 16-bit code, as OVMF's SEC and PEI reach it), prints what it found, tries
 * the variables' flash below it as OVMF does, and powers off through the ACPI
 * sleep control register. Lines it prints:
 *   TINYFW fw_cfg=QEMU dma=ok files=06 e820=0000000400000000   (64 MiB of RAM below 4 GiB)
 *   TINYFW flash status=00 program=80 byte=5a erased=ff         (or: TINYFW no flash)
 * A variable store whose byte 0x10 is 'W' asks it to run until the power button
 * is pressed instead (a machine that runs until it is stopped, as phyllomed's tests
 * need one): it then draws a 64x48 orange picture on the bochs display when the
 * machine has one (--display bochs), and says
 *   TINYFW waiting for the power button
 * and powers off when the button's interrupt (GSI 16, the ACPI GED's) arrives
 * through the IOAPIC and the local APIC, as a firmware's OS would take it.
 */
	.code16
	.text
start:
	cli
	xorw %ax, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw $0x7000, %sp

	movw $hello, %si
	call puts

	/* The signature, byte by byte through the data port. */
	movw $0x510, %dx
	xorw %ax, %ax		/* FW_CFG_SIGNATURE */
	outw %ax, %dx
	movw $0x511, %dx
	movw $4, %cx
1:	inb %dx, %al
	call putc
	loop 1b

	/* DMA: select FW_CFG_FILE_DIR and read its first 4 + 64 bytes (the count, one entry)
	 * to 0x1100; the request at 0x1000, every field big-endian. */
	movl $0x0a001900, 0x1000	/* control: 0x19 << 16 | SELECT | READ */
	movl $0x44000000, 0x1004	/* length: 68 */
	movl $0, 0x1008			/* address, high half */
	movl $0x00110000, 0x100c	/* address, low half: 0x1100 */
	call dma
	movw $dma_ok, %si
	cmpl $0, 0x1000
	je 2f
	movw $dma_failed, %si
2:	call puts

	movw $files, %si
	call puts
	movb 0x1103, %al	/* the count's low byte */
	call puthex

	/* etc/e820, through the selector the directory gave: the first entry's address and
	 * size (little-endian, as QEMU gives them); printed here is the size's first 8 bytes. */
	movw 0x1108, %ax	/* the entry's select field, big-endian */
	xchgb %al, %ah
	movw %ax, %bx
	shll $16, %ebx
	orl $0x0a, %ebx		/* SELECT | READ */
	bswapl %ebx
	movl %ebx, 0x1000
	movl $0x14000000, 0x1004	/* length: 20, one entry */
	movl $0x00120000, 0x100c	/* to 0x1200 */
	call dma
	movw $e820, %si
	call puts
	movw $0x1208, %bx
	movw $8, %cx
3:	movb (%bx), %al
	call puthex
	incw %bx
	loop 3b

	/* The rest in 32-bit protected mode, as a firmware goes on from here. */
	lgdtl %cs:gdt_descriptor
	movl %cr0, %eax
	orb $1, %al
	movl %eax, %cr0
	ljmpl $0x10, $(0xffff0000 + protected)

/*
 * Flat 32-bit protected mode (this image is at 0xffff0000 + its offsets). The variables'
 * flash (--nvram, 64 KiB, zero-filled by the test) lies just below the image, at 0xfffe0000:
 * what OVMF does with it, probe, program, erase. Then the power-off.
 */
	.code32
protected:
	movw $8, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movl $0x7000, %esp
	movl $0xfffe0000, %ebx
	xorl %edi, %edi		/* 1: there is a flash */
	movl $(0xffff0000 + no_flash), %esi
	/* A flash answers Read Status with its status, nothing there with 0xff; whatever
	 * the store holds (a store this firmware wrote before starts with 0x5a). */
	movb $0x70, (%ebx)
	movb (%ebx), %al
	movb $0xff, (%ebx)	/* Read Array again */
	cmpb $0xff, %al
	je 9f
	incl %edi
	movl $(0xffff0000 + flash_status), %esi
	call puts32
	movb $0x50, (%ebx)	/* Clear Status */
	movb $0x70, (%ebx)	/* Read Status */
	movb (%ebx), %al
	call puthex32
	movl $(0xffff0000 + flash_program), %esi
	call puts32
	movb $0x10, (%ebx)	/* Program */
	movb $0x5a, (%ebx)
	movb $0x70, (%ebx)
	movb (%ebx), %al
	call puthex32
	movb $0xff, (%ebx)	/* Read Array */
	movl $(0xffff0000 + flash_byte), %esi
	call puts32
	movb (%ebx), %al
	call puthex32
	movb $0x20, 0x1000(%ebx)	/* Block Erase, Confirm */
	movb $0xd0, 0x1000(%ebx)
	movb $0xff, 0x1000(%ebx)
	movl $(0xffff0000 + flash_erased), %esi
	call puts32
	movb 0x1001(%ebx), %al
	call puthex32
	movb $0x40, 0x1000(%ebx)
	movb $'P', 0x1000(%ebx)
	movb $0xff, 0x1000(%ebx)
	movl $(0xffff0000 + empty), %esi
9:	call puts32
	testl %edi, %edi
	jz power_off
	cmpb $'W', 0x10(%ebx)
	je wait_for_power_button
power_off:
	movl $(0xffff0000 + done), %esi
	call puts32
	movw $0x600, %dx
	movb $0x34, %al		/* SLP_TYP 5 (S5) << 2 | SLP_EN */
	outb %al, %dx
1:	hlt
	jmp 1b

/* Every vector of an IDT at 0x8000 leads to the power-off; GSI 16 becomes vector 0x30. */
wait_for_power_button:
	call draw_display
	movl $(0xffff0000 + waiting), %esi
	call puts32
	movl $(0xffff0000 + power_off), %eax
	movl %eax, %edx
	andl $0xffff0000, %edx
	orl $0x8e00, %edx	/* offset high, present 32-bit interrupt gate */
	andl $0xffff, %eax
	orl $0x00100000, %eax	/* selector 0x10, offset low */
	movl $0x8000, %edi
	movl $256, %ecx
1:	movl %eax, (%edi)
	movl %edx, 4(%edi)
	addl $8, %edi
	loop 1b
	movw $(256 * 8 - 1), 0x7f00
	movl $0x8000, 0x7f02
	lidtl 0x7f00
	movb $0xff, %al		/* the PICs masked: nothing comes that way */
	outb %al, $0x21
	outb %al, $0xa1
	movl $0x1ff, 0xfee000f0	/* the local APIC on, spurious vector 0xff */
	movl $(0x10 + 2 * 16), 0xfec00000	/* IOAPIC pin 16: vector 0x30, fixed, edge, to APIC 0 */
	movl $0x30, 0xfec00010
	movl $(0x11 + 2 * 16), 0xfec00000
	movl $0, 0xfec00010
	sti
2:	hlt
	jmp 2b

/*
 * The bochs display (PCI 1234:1111), found by its ID through the 0xcf8/0xcfc
 * config ports; its BARs where the monitor put them, memory decoding on, the
 * mode set through the DISPI registers in BAR 2 (0x500 + 2 * index), and the
 * picture written to the framebuffer in BAR 0 as B, G, R, X.
 */
draw_display:
	movl $0x80000000, %ecx	/* bus 0, slot 0, function 0 */
1:	movl %ecx, %eax
	call config_read
	cmpl $0x11111234, %eax
	je 2f
	addl $0x800, %ecx	/* the next slot */
	cmpl $0x80010000, %ecx
	jb 1b
	ret
2:	leal 4(%ecx), %eax	/* command: memory decoding on */
	call config_read
	orl $2, %eax
	movl %eax, %ebx
	leal 4(%ecx), %eax
	movw $0xcf8, %dx
	outl %eax, %dx
	movl %ebx, %eax
	movw $0xcfc, %dx
	outl %eax, %dx
	leal 0x18(%ecx), %eax	/* BAR 2: the registers */
	call config_read
	andl $0xfffffff0, %eax
	movl %eax, %esi
	leal 0x10(%ecx), %eax	/* BAR 0: the framebuffer */
	call config_read
	andl $0xfffffff0, %eax
	movl %eax, %edi
	movw $64, 0x502(%esi)	/* XRES */
	movw $48, 0x504(%esi)	/* YRES */
	movw $32, 0x506(%esi)	/* BPP */
	movw $64, 0x50c(%esi)	/* VIRT_WIDTH */
	movw $48, 0x50e(%esi)	/* VIRT_HEIGHT */
	movw $0x41, 0x508(%esi)	/* ENABLE: enabled, linear framebuffer */
	movl $0x00ff8000, %eax	/* orange: R ff, G 80, B 00 */
	movl $(64 * 48), %ecx
	cld
	rep stosl
	ret

/* The config dword at the address in %eax (0x80000000 | bus, slot, function, register). */
config_read:
	movw $0xcf8, %dx
	outl %eax, %dx
	movw $0xcfc, %dx
	inl %dx, %eax
	ret

puts32:
	movb (%esi), %al
	testb %al, %al
	jz 1f
	movw $0x3f8, %dx
	outb %al, %dx
	incl %esi
	jmp puts32
1:	ret

puthex32:
	movw $0x3f8, %dx
	pushl %eax
	shrb $4, %al
	call 1f
	popl %eax
	andb $0x0f, %al
1:	addb $'0', %al
	cmpb $'9', %al
	jbe 2f
	addb $('a' - '9' - 1), %al
2:	outb %al, %dx
	ret
	.code16

/* The request at 0x1000: its address to the DMA ports, high half then low, big-endian. */
dma:
	pushw %dx
	movw $0x514, %dx
	xorl %eax, %eax
	outl %eax, %dx
	movw $0x518, %dx
	movl $0x00100000, %eax	/* 0x1000, big-endian */
	outl %eax, %dx
	popw %dx
	ret

putc:
	pushw %dx
	movw $0x3f8, %dx
	outb %al, %dx
	popw %dx
	ret

/* The string at %cs:%si, up to its NUL. */
puts:
	movb %cs:(%si), %al
	testb %al, %al
	jz 1f
	call putc
	incw %si
	jmp puts
1:	ret

puthex:
	pushw %ax
	shrb $4, %al
	call nibble
	popw %ax
	andb $0x0f, %al
nibble:
	addb $'0', %al
	cmpb $'9', %al
	jbe 1f
	addb $('a' - '9' - 1), %al
1:	jmp putc

hello:		.asciz "TINYFW reset vector\r\nTINYFW fw_cfg="
dma_ok:		.asciz " dma=ok"
dma_failed:	.asciz " dma=failed"
files:		.asciz " files="
e820:		.asciz " e820="
no_flash:	.asciz "\r\nTINYFW no flash"
flash_status:	.asciz "\r\nTINYFW flash status="
flash_program:	.asciz " program="
flash_byte:	.asciz " byte="
flash_erased:	.asciz " erased="
empty:		.asciz ""
done:		.asciz "\r\nTINYFW powering off\r\n"
waiting:	.asciz "\r\nTINYFW waiting for the power button"

	/* Marked accessed already: the CPU would set the bit when loading a segment, a write to
	 * this read-only image that KVM cannot complete (the vCPU then faults on it for ever). */
	.balign 8
gdt:
	.quad 0
	.quad 0x00cf93000000ffff	/* 0x08: data, base 0, 4 GiB, writable */
	.quad 0x00cf9b000000ffff	/* 0x10: code, base 0, 4 GiB, 32-bit */
gdt_end:
gdt_descriptor:
	.word gdt_end - gdt - 1
	.long 0xffff0000 + gdt

	/* The reset vector, the image's last 16 bytes: a near jump keeps CS's base. */
	.org 0xfff0
	jmp start
	.org 0x10000, 0xf4
