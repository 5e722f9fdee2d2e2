#!/usr/bin/env python3
"""Connects to a phyllome-vmm console socket, waits for a line, types a line, waits for an answer.

usage: console-client.py SOCKET WAIT_FOR TYPE EXPECT   (EXPECT may be empty)
Exit 0 when every awaited text arrived within the time limit.
"""
import socket
import sys
import time

path, wait_for, to_type, expect = sys.argv[1:5]
deadline = time.monotonic() + 30


def read_until(sock, text, seen):
    while text not in seen:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"no {text!r} in {seen!r}")
        sock.settimeout(left)
        chunk = sock.recv(4096)
        if not chunk:
            raise EOFError(f"console closed before {text!r}; got {seen!r}")
        seen += chunk.decode(errors="replace")
    return seen


sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
while True:
    try:
        sock.connect(path)
        break
    except (FileNotFoundError, ConnectionRefusedError):
        if time.monotonic() > deadline:
            raise
        time.sleep(0.05)  # the VMM creates the socket while it starts
seen = read_until(sock, wait_for, "")
sock.sendall(to_type.encode() + b"\n")
if expect:
    read_until(sock, expect, seen)
print("ok")
