#!/usr/bin/python3
"""Talks to phyllome-vmm's control socket (peer-to-peer D-Bus, no bus daemon,
which gdbus and busctl do not speak).

usage: vmmctl.py SOCKET call METHOD | get PROPERTY
Prints a property's value (lists one item per line); on a D-Bus error prints
its name and message to stderr and exits 1."""
import sys

import dbus
import dbus.connection

sock, verb, name = sys.argv[1:4]
try:
    conn = dbus.connection.Connection(f"unix:path={sock}")
    if verb == "call":
        conn.call_blocking(None, "/org/phyllome/VMM1", "org.phyllome.VMM1", name, "", (), timeout=30)
    else:
        value = conn.call_blocking(None, "/org/phyllome/VMM1", "org.freedesktop.DBus.Properties", "Get", "ss",
                                   ("org.phyllome.VMM1", name), timeout=30)
        print("\n".join(str(v) for v in value) if isinstance(value, list) else str(value))
except dbus.exceptions.DBusException as e:
    print(f"{e.get_dbus_name()}: {e.get_dbus_message()}", file=sys.stderr)
    sys.exit(1)
