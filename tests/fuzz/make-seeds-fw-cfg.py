#!/usr/bin/env python3
"""Seed inputs for fuzz-fw-cfg: 1 KiB of guest RAM, then 6-byte port accesses (port, width
code with 0x80 for a read, 32-bit value) as a firmware makes them: select and read through the
data port; a DMA request at 0x100 that reads the directory, one that writes the writable file."""
import os
import struct
import sys

SELECT, READ, SKIP, WRITE_CTL = 0x08, 0x02, 0x04, 0x10


def access(port, width_code, value, read=False):
    return bytes([port, width_code | (0x80 if read else 0)]) + struct.pack("<I", value)


def dma_request(ram, at, control, length, address):
    ram[at:at + 16] = struct.pack(">IIQ", control, length, address)


def dma_go(at):
    # high then low half, big-endian on the wire
    return access(4, 2, struct.unpack("<I", struct.pack(">I", 0))[0]) + \
        access(8, 2, struct.unpack("<I", struct.pack(">I", at))[0])


def main(out):
    os.makedirs(out, exist_ok=True)
    seeds = {}
    ram = bytearray(1024)
    seeds["signature"] = bytes(ram) + access(0, 1, 0) + b"".join(access(1, 0, 0, True) for _ in range(4))
    ram = bytearray(1024)
    dma_request(ram, 0x100, 0x19 << 16 | SELECT | READ, 4 + 64 * 3, 0x200)
    seeds["directory"] = bytes(ram) + dma_go(0x100)
    ram = bytearray(1024)
    dma_request(ram, 0x100, 0x21 << 16 | SELECT | WRITE_CTL, 10, 0x200)
    dma_request(ram, 0x120, 0x20 << 16 | SELECT | SKIP, 5, 0)
    seeds["write"] = bytes(ram) + dma_go(0x100) + dma_go(0x120)
    ram = bytearray(1024)
    dma_request(ram, 0x3f8, 0x20 << 16 | SELECT | READ, 0xffff, 0x300)
    seeds["edges"] = bytes(ram) + dma_go(0x3f8) + access(4, 2, 0xffffffff) + access(8, 2, 0xffffffff)
    for name, seed in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(seed)


main(sys.argv[1])
