#!/usr/bin/env python3
"""Writes seed inputs for fuzz-virtqueue: well-formed rings that the fuzzer then mutates.

Input layout: size, desc, avail, used (u16 each), features (bit 0 indirect, bit 1 EVENT_IDX),
one byte that can push the descriptor table out of RAM, then guest RAM from address 0.
"""
import os
import struct
import sys

NEXT, WRITE, INDIRECT = 1, 2, 4


def ring(descs, heads, features=3, size=8, indirect_table=None):
    ram = bytearray(0x800)
    desc, avail, used = 0x100, 0x200, 0x300
    for i, (addr, length, flags, nxt) in enumerate(descs):
        struct.pack_into("<QIHH", ram, desc + 16 * i, addr, length, flags, nxt)
    struct.pack_into("<HH", ram, avail, 0, len(heads))
    for i, h in enumerate(heads):
        struct.pack_into("<H", ram, avail + 4 + 2 * i, h)
    if indirect_table:
        for i, (addr, length, flags, nxt) in enumerate(indirect_table):
            struct.pack_into("<QIHH", ram, 0x600 + 16 * i, addr, length, flags, nxt)
    return struct.pack("<HHHHBB", size, desc, avail, used, features, 0) + bytes(ram)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    seeds = {
        # A block request: header, data, status.
        "chain": ring([(0x400, 16, NEXT, 1), (0x410, 512, NEXT | WRITE, 2), (0x610, 1, WRITE, 0)], [0]),
        # Two requests, one of them through an indirect table.
        "indirect": ring([(0x400, 16, 0, 0), (0x600, 48, INDIRECT, 0)], [0, 1],
                         indirect_table=[(0x400, 16, NEXT, 1), (0x420, 64, NEXT | WRITE, 2), (0x470, 1, WRITE, 0)]),
        # A loop: the fuzzer starts next to the case the queue must refuse.
        "loop": ring([(0x400, 8, NEXT, 1), (0x408, 8, NEXT, 0)], [0], features=0),
    }
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
