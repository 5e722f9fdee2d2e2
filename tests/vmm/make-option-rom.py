#!/usr/bin/env python3
# A 4 KiB PCI expansion ROM image for QEMU's edu device (romfile=), valid as
# Linux reads ROMs: the 0x55AA header, a "PCIR" data structure saying one
# last image of 8 x 512 bytes, then a pattern the guest's copy is checked by.
import struct
import sys

size = 4096
rom = bytearray((i * 13 + 7) & 0xFF for i in range(size))
rom[0:3] = b"\x55\xaa" + bytes([size // 512])
pcir = 0x1C
rom[0x18:0x1A] = struct.pack("<H", pcir)
rom[pcir:pcir + 0x18] = (b"PCIR" + struct.pack("<HHHHB", 0x1234, 0x11E8, 0, 0x18, 0)
                         + bytes([0x00, 0xFF, 0x00])  # class code
                         + struct.pack("<HHBBH", size // 512, 0, 0, 0x80, 0))
with open(sys.argv[1], "wb") as f:
    f.write(rom)
