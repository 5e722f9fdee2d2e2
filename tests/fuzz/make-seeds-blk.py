#!/usr/bin/env python3
"""Seed inputs for fuzz-blk: the rings of make-seeds-virtqueue.py carrying virtio-blk requests."""
import importlib.util
import os
import struct
import sys

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("vq", os.path.join(here, "make-seeds-virtqueue.py"))
vq = importlib.util.module_from_spec(spec)
spec.loader.exec_module(vq)
NEXT, WRITE = vq.NEXT, vq.WRITE


def request(rtype, sector, data_len, data_writable, extra=b""):
    """Header at 0x400, data at 0x410, status at 0x7f0; one descriptor each."""
    descs = [(0x400, 16 + len(extra), NEXT, 1)]
    if data_len:
        descs.append((0x440, data_len, NEXT | (WRITE if data_writable else 0), 2))
        descs.append((0x7f0, 1, WRITE, 0))
    else:
        descs[0] = (0x400, 16 + len(extra), NEXT, 2)
        descs.append((0, 0, 0, 0))
        descs.append((0x7f0, 1, WRITE, 0))
    seed = bytearray(vq.ring(descs, [0]))
    struct.pack_into("<IIQ", seed, 10 + 0x400, rtype, 0, sector)
    seed[10 + 0x410:10 + 0x410 + len(extra)] = extra
    return bytes(seed)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    seeds = {
        "read": request(0, 2, 512, True),
        "write": request(1, 4, 1024, False),
        "flush": request(4, 0, 0, False),
        "get-id": request(8, 0, 20, True),
        "discard": request(11, 0, 0, False, struct.pack("<QII", 8, 8, 0)),
        "write-zeroes": request(13, 0, 0, False, struct.pack("<QII", 0, 16, 1)),
    }
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
