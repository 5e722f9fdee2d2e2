#!/usr/bin/python3
"""Measures phyllomed inside a systemd box where it is installed (bench/daemon
arranges that): the time from a Start call to the guest's first console line,
against the bare monitor booting the same guest, and the latency of
GetMachine and ListMachines with 50 machines defined (the one measured
above among them) and 10 running.

usage: daemon-measure.py VMM TINYGUEST ROUNDS CALLS
"""
import os
import re
import socket
import statistics
import subprocess
import sys
import time

import dbus

vmm, tiny, rounds, calls = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
marker = b"TINY power button armed"
bus = dbus.SystemBus()
manager = dbus.Interface(bus.get_object("org.phyllome.VM1", "/org/phyllome/VM1"), "org.phyllome.VM1.Manager")


def machine(name):
    return dbus.Interface(bus.get_object("org.phyllome.VM1", manager.GetMachine(name)), "org.phyllome.VM1.Machine")


def create(name):
    manager.CreateMachine(name, {"kernel": tiny, "cmdline": "test=powerbutton", "memory": dbus.UInt64(64 << 20)})


def read_until_marker(fd_or_pipe):
    buf = b""
    while marker not in buf:
        chunk = fd_or_pipe(4096)
        if not chunk:
            raise RuntimeError("console closed before the marker: %r" % buf[-200:])
        buf += chunk


def daemon_start_to_marker():
    """The whole, and when Start and OpenConsole answered, from the Start call."""
    m = machine("bench")
    t0 = time.monotonic()
    m.Start({})
    started = time.monotonic() - t0
    fd = m.OpenConsole({}).take()
    opened = time.monotonic() - t0
    with socket.socket(fileno=fd) as s:
        read_until_marker(s.recv)
    elapsed = time.monotonic() - t0
    m.Kill({})
    return elapsed, started, opened


def bare_start_to_marker():
    t0 = time.monotonic()
    p = subprocess.Popen([vmm, "--kernel", tiny, "--memory", "64M", "--cmdline", "test=powerbutton"],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
    read_until_marker(p.stdout.read1)
    elapsed = time.monotonic() - t0
    p.kill()
    p.wait()
    return elapsed


create("bench")
daemon, started, opened, bare = [], [], [], []
for r in range(rounds):
    whole, start_reply, console_reply = daemon_start_to_marker()
    daemon.append(whole)
    started.append(start_reply)
    opened.append(console_reply)
    bare.append(bare_start_to_marker())
    print(f"# round {r + 1}: via phyllomed {whole * 1000:.1f} ms (Start answered at {start_reply * 1000:.1f}, "
          f"OpenConsole at {console_reply * 1000:.1f}), bare {bare[-1] * 1000:.1f} ms", flush=True)
d, b = statistics.median(daemon), statistics.median(bare)
print(f"start to the guest's first console line, tiny guest, {rounds} rounds, medians:")
print(f"  phyllomectl-equivalent Start + OpenConsole via phyllomed: {d * 1000:8.1f} ms")
print(f"    of which Start answered after                         {statistics.median(started) * 1000:8.1f} ms")
print(f"    and OpenConsole after                                 {statistics.median(opened) * 1000:8.1f} ms")
print(f"  bare phyllome-vmm:                                      {b * 1000:8.1f} ms")
print(f"  added by phyllomed (scope, machined, polkit, fork/exec): {(d - b) * 1000:8.1f} ms (ratio {d / b:.2f})")

# phyllomed's own account of each start (its "Running:" line): the steps before the monitor
# runs are its overhead, free of the monitor's own start, which varies more than they do.
PHASES = ("authorization", "preparation", "scope", "exec", "monitor", "machined")
log = subprocess.run(["journalctl", "-o", "cat", "SYSLOG_IDENTIFIER=phyllomed", "PHYLLOME_MACHINE=bench"],
                     capture_output=True, text=True, check=True).stdout
runs = [[float(v) for v in m.groups()] for m in re.finditer(
    r"Running: .* after the call \(" + r", ".join(p + r" ([0-9.]+)" for p in PHASES[:5])
    + r"; machined ([0-9.]+) beside them\)", log)][1:]  # the first start warms caches up
if len(runs) < rounds - 1:
    sys.exit(f"daemon-measure: {len(runs)} Running lines in phyllomed's journal, expected {rounds - 1}")
medians = {p: statistics.median(r[i] for r in runs) for i, p in enumerate(PHASES)}
print(f"  phyllomed's steps, from its log ({len(runs)} starts after the first, medians, ms):")
print("    " + "  ".join(f"{p} {medians[p]:.1f}" for p in PHASES))
print(f"    before the monitor runs (authorization + preparation + scope + exec): "
      f"{sum(medians[p] for p in PHASES[:4]):.1f} ms, of which systemd's scope {medians['scope']:.1f}")

defined, running = 49, 10
for i in range(defined):
    create(f"api{i:02d}")
for i in range(running):
    machine(f"api{i:02d}").Start({})


def latency(fn):
    samples = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    return samples[len(samples) // 2], samples[int(len(samples) * 0.99) - 1], samples[-1]


print(f"\nAPI latency, {defined + 1} machines defined, {running} running, {calls} calls each (ms):")
print(f"  {'call':<14} {'p50':>7} {'p99':>7} {'max':>7}")
bus_daemon = dbus.Interface(bus.get_object("org.freedesktop.DBus", "/org/freedesktop/DBus"), "org.freedesktop.DBus")
peer = dbus.Interface(bus.get_object("org.phyllome.VM1", "/org/phyllome/VM1"), "org.freedesktop.DBus.Peer")
api07 = dbus.Interface(bus.get_object("org.phyllome.VM1", manager.GetMachine("api07")), "org.freedesktop.DBus.Properties")
# The first two are the floor: the bus alone, and phyllomed's D-Bus library answering for it.
for name, fn in (("bus GetId", bus_daemon.GetId), ("Peer.Ping", peer.Ping),
                 ("GetMachine", lambda: manager.GetMachine("api07")), ("ListMachines", manager.ListMachines),
                 ("Get State", lambda: api07.Get("org.phyllome.VM1.Machine", "State")),
                 ("GetAll", lambda: api07.GetAll("org.phyllome.VM1.Machine"))):
    p50, p99, worst = latency(fn)
    print(f"  {name:<14} {p50:7.3f} {p99:7.3f} {worst:7.3f}")
for i in range(running):
    machine(f"api{i:02d}").Kill({})
