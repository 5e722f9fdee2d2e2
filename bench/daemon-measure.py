#!/usr/bin/python3
"""Measures phyllomed inside a systemd box where it is installed (bench/daemon
arranges that): the time from a Start call to the guest's first console line,
against the bare monitor booting the same guest, and the latency of
GetMachine and ListMachines with 50 machines defined (the one measured
above among them) and 10 running.

usage: daemon-measure.py VMM TINYGUEST ROUNDS CALLS
"""
import os
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
    m = machine("bench")
    t0 = time.monotonic()
    m.Start({})
    fd = m.OpenConsole({}).take()
    with socket.socket(fileno=fd) as s:
        read_until_marker(s.recv)
    elapsed = time.monotonic() - t0
    m.Kill({})
    return elapsed


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
daemon, bare = [], []
for r in range(rounds):
    daemon.append(daemon_start_to_marker())
    bare.append(bare_start_to_marker())
    print(f"# round {r + 1}: via phyllomed {daemon[-1] * 1000:.1f} ms, bare {bare[-1] * 1000:.1f} ms", flush=True)
d, b = statistics.median(daemon), statistics.median(bare)
print(f"start to the guest's first console line, tiny guest, {rounds} rounds, medians:")
print(f"  phyllomectl-equivalent Start + OpenConsole via phyllomed: {d * 1000:8.1f} ms")
print(f"  bare phyllome-vmm:                                      {b * 1000:8.1f} ms")
print(f"  added by phyllomed (scope, machined, polkit, fork/exec): {(d - b) * 1000:8.1f} ms (ratio {d / b:.2f})")

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
for name, fn in (("GetMachine", lambda: manager.GetMachine("api07")), ("ListMachines", manager.ListMachines)):
    p50, p99, worst = latency(fn)
    print(f"  {name:<14} {p50:7.3f} {p99:7.3f} {worst:7.3f}")
for i in range(running):
    machine(f"api{i:02d}").Kill({})
