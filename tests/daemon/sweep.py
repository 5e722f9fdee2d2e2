#!/usr/bin/python3
"""Malformed calls to every method of every phyllomed object (the Manager, each
machine, each grant): the wrong signature, and the right one with poisoned
values. Each must get a named error back, none may act, and phyllomed must
answer them all. Prints one line per call that went wrong, and a summary."""
import sys

from gi.repository import Gio, GLib

BUS = "org.phyllome.VM1"
NAMED = ("org.phyllome.VM1.Error.", "org.freedesktop.DBus.Error.InvalidArgs",
         "org.freedesktop.DBus.Error.AccessDenied", "org.freedesktop.DBus.Error.UnknownMethod")


def poisoned(signature):
    """A value of the type that no method takes as valid."""
    if signature == "s":
        return GLib.Variant("s", "../\u00e9\x01" + "x" * 300)
    if signature == "o":
        return GLib.Variant("o", "/nowhere")
    if signature == "u":
        return GLib.Variant("u", 0xFFFFFFFF)
    if signature == "b":
        return GLib.Variant("b", True)
    if signature == "h":
        # A handle into a list of descriptors that the call does not carry.
        return GLib.Variant("h", 7)
    if signature == "a{sv}":
        # An unknown option: every method checks its options before anything else.
        return GLib.Variant("a{sv}", {"bogus": GLib.Variant("t", 2**64 - 1)})
    raise ValueError(signature)


def call(bus, path, interface, method, params):
    try:
        bus.call_sync(BUS, path, interface, method, params, None, Gio.DBusCallFlags.NONE, 20000, None)
        return None
    except GLib.Error as e:
        return Gio.dbus_error_get_remote_error(e) or e.message


def main():
    bus = Gio.bus_get_sync(Gio.BusType.SYSTEM, None)
    objects = bus.call_sync(BUS, "/org/phyllome/VM1", "org.freedesktop.DBus.ObjectManager",
                            "GetManagedObjects", None, None, Gio.DBusCallFlags.NONE, 20000, None).unpack()[0]
    targets = [("/org/phyllome/VM1", "org.phyllome.VM1.Manager")]
    targets += [(path, iface) for path, ifaces in objects.items() for iface in ifaces if iface.startswith(BUS)]
    calls = bad = 0
    for path, interface in targets:
        xml = bus.call_sync(BUS, path, "org.freedesktop.DBus.Introspectable", "Introspect", None, None,
                            Gio.DBusCallFlags.NONE, 20000, None).unpack()[0]
        info = Gio.DBusNodeInfo.new_for_xml(xml).lookup_interface(interface)
        for m in info.methods:
            sig = [a.signature for a in m.in_args]
            wrong = GLib.Variant("(i)", (7,)) if sig else GLib.Variant("(s)", ("extra",))
            attempts = [("wrong signature", wrong)]
            if sig:
                attempts.append(("poisoned values", GLib.Variant.new_tuple(*[poisoned(s) for s in sig])))
            for what, params in attempts:
                calls += 1
                err = call(bus, path, interface, m.name, params)
                if err is None or not err.startswith(NAMED):
                    bad += 1
                    print(f"{path} {interface}.{m.name} ({what}): {err or 'accepted'}")
    print(f"{calls} malformed calls, {bad} without a named error")
    return 1 if bad or calls == 0 else 0


sys.exit(main())
