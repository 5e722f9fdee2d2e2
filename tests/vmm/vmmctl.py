#!/usr/bin/python3
"""Talks to phyllome-vmm's control socket (peer-to-peer D-Bus, no bus daemon,
which gdbus and busctl do not speak).

usage: vmmctl.py SOCKET call METHOD
       vmmctl.py SOCKET get PROPERTY
       vmmctl.py SOCKET watch SIGNAL SECONDS
       vmmctl.py SOCKET screenshot FILE
get prints a property's value (lists one item per line). watch prints
"watching" once it listens, then the signal's name and arguments when it
arrives, and exits 1 if it does not arrive in time. On a D-Bus error prints
its name and message to stderr and exits 1."""
import sys

import dbus
import dbus.connection

PATH, IFACE = "/org/phyllome/VMM1", "org.phyllome.VMM1"


def show(value):
    if isinstance(value, dbus.Boolean):
        return "true" if value else "false"
    return str(value)


def watch(sock, signal, seconds):
    from dbus.mainloop.glib import DBusGMainLoop
    from gi.repository import GLib

    loop = GLib.MainLoop()
    conn = dbus.connection.Connection(f"unix:path={sock}", mainloop=DBusGMainLoop())
    got = []

    def received(*args):
        got.append(args)
        loop.quit()

    conn.add_signal_receiver(received, signal_name=signal, dbus_interface=IFACE, path=PATH)
    # A round trip first: once it returns, the monitor knows us and sends us its signals.
    conn.call_blocking(None, PATH, "org.freedesktop.DBus.Peer", "Ping", "", (), timeout=30)
    print("watching", flush=True)
    GLib.timeout_add_seconds(seconds, loop.quit)
    loop.run()
    if not got:
        print(f"no {signal} within {seconds} s", file=sys.stderr)
        return 1
    print(" ".join([signal] + [show(a) for a in got[0]]), flush=True)
    return 0


def main():
    sock, verb, name = sys.argv[1:4]
    try:
        if verb == "watch":
            return watch(sock, name, int(sys.argv[4]))
        conn = dbus.connection.Connection(f"unix:path={sock}")
        if verb == "screenshot":
            # libdbus knows whether a descriptor may be sent only once it has authenticated.
            conn.call_blocking(None, PATH, "org.freedesktop.DBus.Peer", "Ping", "", (), timeout=30)
            with open(name, "wb") as f:
                conn.call_blocking(None, PATH, IFACE, "Screenshot", "ha{sv}", (dbus.types.UnixFd(f), {}),
                                   timeout=60)
        elif verb == "call":
            conn.call_blocking(None, PATH, IFACE, name, "", (), timeout=30)
        else:
            value = conn.call_blocking(None, PATH, "org.freedesktop.DBus.Properties", "Get", "ss",
                                       (IFACE, name), timeout=30)
            print("\n".join(show(v) for v in value) if isinstance(value, list) else show(value))
    except dbus.exceptions.DBusException as e:
        print(f"{e.get_dbus_name()}: {e.get_dbus_message()}", file=sys.stderr)
        return 1
    return 0


sys.exit(main())
