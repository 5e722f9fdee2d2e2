#!/usr/bin/env python3
"""Seed inputs for fuzz-gpu: 2 KiB of guest RAM, then commands (a 16-bit length, then the
command) as Linux's virtio_gpu driver sends them: display info, EDID, a resource created, its
backing attached (two entries), a transfer, the scanout set, a flush, the resource unreferenced."""
import os
import struct
import sys

GET_DISPLAY_INFO, CREATE_2D, UNREF, SET_SCANOUT, FLUSH, TRANSFER, ATTACH, DETACH = range(0x100, 0x108)
GET_EDID = 0x10a
B8G8R8X8 = 2


def cmd(kind, body=b"", fence=0):
    c = struct.pack("<IIQIB3x", kind, 1 if fence else 0, fence, 0, 0) + body
    return struct.pack("<H", len(c)) + c


def rect(x, y, w, h):
    return struct.pack("<IIII", x, y, w, h)


def main(out):
    os.makedirs(out, exist_ok=True)
    ram = bytes(range(256)) * 8
    w, h = 16, 8
    picture = (cmd(CREATE_2D, struct.pack("<IIII", 1, B8G8R8X8, w, h))
               + cmd(ATTACH, struct.pack("<II", 1, 2) + struct.pack("<QII", 0x100, 256, 0)
                     + struct.pack("<QII", 0x400, w * h * 4 - 256, 0))
               + cmd(TRANSFER, rect(0, 0, w, h) + struct.pack("<QII", 0, 1, 0))
               + cmd(SET_SCANOUT, rect(0, 0, w, h) + struct.pack("<II", 0, 1))
               + cmd(FLUSH, rect(0, 0, w, h) + struct.pack("<II", 1, 0), fence=7))
    seeds = {
        "info": cmd(GET_DISPLAY_INFO) + cmd(GET_EDID, struct.pack("<II", 0, 0)),
        "picture": picture,
        "picture-unref": picture + cmd(UNREF, struct.pack("<II", 1, 0)) + cmd(DETACH, struct.pack("<II", 1, 0)),
        "partial": picture + cmd(TRANSFER, rect(4, 2, 8, 4) + struct.pack("<QII", 2 * w * 4 + 4 * 4, 1, 0))
        + cmd(SET_SCANOUT, rect(4, 2, 8, 4) + struct.pack("<II", 0, 1)),
    }
    for name, commands in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(ram + commands)


main(sys.argv[1])
