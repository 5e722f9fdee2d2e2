#!/usr/bin/env python3
"""Boots the Phyllome test guest to power-off ROUNDS times in each monitor,
alternating them so both see the same host, and prints per-monitor medians
and the ratio phyllome-vmm / QEMU. Run on a host whose KVM runs Linux (bench/boot
arranges that).

usage: boot-measure.py VMM GUEST_DIR ROUNDS CPUS MEM_MIB [TINYGUEST]

With TINYGUEST, also the monitor's own overhead: exec to the tiny guest's
first line and peak RSS (phyllome-vmm only: QEMU and kvmtool start a bzImage
at its 16-bit setup code, which the tiny guest does not have).
"""
import os
import statistics
import subprocess
import sys
import tempfile
import time

vmm, guest_dir, rounds, cpus, mem = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
tiny = sys.argv[6] if len(sys.argv) > 6 else None
kernel = os.path.join(guest_dir, "vmlinuz")
initrd = os.path.join(guest_dir, "initrd.img")
cmdline = "console=ttyS0 quiet panic=-1 phyllome.action=poweroff phyllome.marker=BENCH-READY"
marker = b"BENCH-READY"

monitors = {
    "phyllome-vmm": [vmm, "--kernel", kernel, "--initrd", initrd, "--cpus", cpus,
                     "--memory", mem + "M", "--cmdline", cmdline, "--serial", "stdio"],
    # The lightest QEMU Debian ships: microvm, no default devices, no config
    # files, the same in-kernel irqchip, UART on stdio, ACPI for power-off.
    "qemu-microvm": ["qemu-system-x86_64", "-M", "microvm", "-enable-kvm", "-cpu", "host",
                     "-smp", cpus, "-m", mem, "-nodefaults", "-no-user-config", "-display", "none",
                     "-serial", "stdio", "-no-reboot", "-kernel", kernel, "-initrd", initrd,
                     "-append", cmdline],
}


# Peak RSS comes from GNU time, not from our own wait4(): a child's ru_maxrss
# includes what it held before exec, and a child forked from Python holds a copy
# of Python's ~13 MiB until then (a monitor's "peak" of 14.7 MiB was that).
rss_file = tempfile.NamedTemporaryFile(prefix="phyllome-bench-rss.")


def boot_once(argv, marker=marker, measure_rss=True):
    """Returns (seconds to the marker line, seconds to exit, peak RSS in KiB or None, status)."""
    if measure_rss:
        argv = ["/usr/bin/time", "-f", "%M", "-o", rss_file.name] + argv
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    ready = None
    for line in proc.stdout:
        if ready is None and marker in line:
            ready = time.monotonic() - start
    proc.wait()
    rss = None
    if measure_rss:
        with open(rss_file.name) as f:
            last = f.read().split()
        rss = int(last[-1]) if last and last[-1].isdigit() else None
    return ready, time.monotonic() - start, rss, proc.returncode


results = {name: [] for name in monitors}
for r in range(rounds):
    for name, argv in monitors.items():
        ready, total, rss, status = boot_once(argv)
        if ready is None or status != 0:
            print(f"# {name} round {r + 1}: no marker or status {status}; not counted", flush=True)
            continue
        results[name].append((ready, total, rss))
        print(f"# {name} round {r + 1}: ready {ready:.3f} s, exit {total:.3f} s, "
              f"peak RSS {rss} KiB", flush=True)

print(f"\nboot of the test guest ({cpus} vCPU, {mem} MiB) to its marker line and to power-off, "
      f"{rounds} rounds (seconds; RSS in KiB):")
print(f"{'monitor':<14} {'runs':>4} {'ready min':>9} {'median':>8} {'max':>8} {'exit median':>11} {'peak RSS':>9}")
medians = {}
for name, rows in results.items():
    if not rows:
        print(f"{name:<14} {0:>4}   (no successful run)")
        continue
    ready = [r[0] for r in rows]
    medians[name] = tuple(statistics.median(col) for col in zip(*rows))
    print(f"{name:<14} {len(rows):>4} {min(ready):>9.3f} {medians[name][0]:>8.3f} {max(ready):>8.3f} "
          f"{medians[name][1]:>11.3f} {medians[name][2]:>9.0f}")
if len(medians) == 2:
    p, q = medians["phyllome-vmm"], medians["qemu-microvm"]
    print(f"ratio phyllome-vmm / qemu-microvm of medians: ready {p[0] / q[0]:.2f}, exit {p[1] / q[1]:.2f}, "
          f"peak RSS {p[2] / q[2]:.2f}  (below 1: phyllome-vmm is faster / smaller)")

if tiny:
    # Timed without the GNU time wrapper (its own start would count), then measured with it.
    tiny_argv = [vmm, "--kernel", tiny, "--memory", "64M", "--cmdline", "test=poweroff"]
    ready, rss = [], []
    for _ in range(rounds * 3):
        r, _, _, status = boot_once(tiny_argv, marker=b"TINY hello", measure_rss=False)
        if r is not None and status == 0:
            ready.append(r * 1000)
        _, _, peak, status = boot_once(tiny_argv, marker=b"TINY hello")
        if peak is not None and status == 0:
            rss.append(peak)
    if ready and rss:
        ready.sort()
        print(f"\nphyllome-vmm's own overhead, tiny guest (exec to its first line), {len(ready)} runs: "
              f"min {ready[0]:.1f} ms, median {statistics.median(ready):.1f} ms, max {ready[-1]:.1f} ms, "
              f"peak RSS median {statistics.median(rss) / 1024:.1f} MiB")
    # Steady: a tiny guest that idles (test=ignore), its monitor's RSS a second after its line.
    proc = subprocess.Popen(tiny_argv[:-1] + ["test=ignore"], stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    for line in proc.stdout:
        if b"TINY hello" in line:
            break
    time.sleep(1)
    with open(f"/proc/{proc.pid}/status") as f:
        steady = next((int(l.split()[1]) for l in f if l.startswith("VmRSS:")), 0)
    proc.kill()
    proc.wait()
    print(f"phyllome-vmm's steady RSS with the tiny guest running: {steady / 1024:.1f} MiB")
sys.exit(0 if len(medians) == 2 else 1)
