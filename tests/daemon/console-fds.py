#!/usr/bin/python3
"""Reads a machine's console with room for passed descriptors, until the line
the monitor's console-pass-fd test hook sends with one, and prints how many
descriptors came with what was read:

    console-fds.py MACHINE        through phyllomed's OpenConsole
    console-fds.py --direct PATH  connected to the monitor's socket itself

Prints "marker=yes|no fds=N"."""
import array
import socket
import sys
import time

MARKER = b"PHYLLOME-TEST passed an fd"


def open_console(machine):
    from gi.repository import Gio, GLib

    bus = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
    reply, fds = bus.call_with_unix_fd_list_sync(
        "org.phyllome.VM1", "/org/phyllome/VM1/machine/" + machine, "org.phyllome.VM1.Machine",
        "OpenConsole", GLib.Variant("(a{sv})", ({},)), GLib.VariantType("(h)"),
        Gio.DBusCallFlags.NONE, 10000, None, None)
    return socket.socket(fileno=fds.get(reply.unpack()[0]))


def main():
    if sys.argv[1] == "--direct":
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.connect(sys.argv[2])
    else:
        sock = open_console(sys.argv[1])
    sock.settimeout(1)
    seen, fds = b"", 0
    deadline = time.monotonic() + 15
    while MARKER not in seen and time.monotonic() < deadline:
        try:
            data, ancdata, _, _ = sock.recvmsg(4096, socket.CMSG_SPACE(16 * 4))
        except socket.timeout:
            continue
        if not data:
            break
        seen += data
        for level, kind, payload in ancdata:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds += len(array.array("i", payload[:len(payload) - len(payload) % 4]))
    print(f"marker={'yes' if MARKER in seen else 'no'} fds={fds}")


main()
