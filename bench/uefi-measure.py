#!/usr/bin/env python3
"""Boots an installed Debian 12 from a GPT disk through Debian's OVMF to
systemd's `running` and power-off, in phyllome-vmm and in Debian's QEMU -M pc,
alternating, and prints each phase's median per monitor with the ratio. Run
where KVM runs Linux (bench/uefi arranges that).

usage: uefi-measure.py VMM DISK ROUNDS CPUS MEM_MIB [--ovmf-dir DIR] [--vars NAME]

Phases, timed here from the serial console: exec -> OVMF starts the boot
loader ("BdsDxe: starting", the firmware's own share); -> the kernel's first
console line; systemd start -> `running` (systemd's own timestamps, from the
guest's report line); exec -> `running`, the report line's arrival here. Each
boot gets a fresh copy of the disk and of the variable template.
"""
import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ap = argparse.ArgumentParser()
ap.add_argument("vmm")
ap.add_argument("disk")
ap.add_argument("rounds", type=int)
ap.add_argument("cpus")
ap.add_argument("mem")
ap.add_argument("--ovmf-dir", default="/usr/share/OVMF")
# The Secure Boot template by default: shim, GRUB and the kernel are verified, as on a user's disk.
ap.add_argument("--vars", default="OVMF_VARS_4M.ms.fd")
ap.add_argument("--timeout", type=float, default=1200)
args = ap.parse_args()

code = os.path.join(args.ovmf_dir, "OVMF_CODE_4M.fd")
work = tempfile.mkdtemp(prefix="phyllome-uefi-bench.")
disk = os.path.join(work, "disk.img")
nvram = os.path.join(work, "vars.fd")


def monitors():
    return {
        "phyllome-vmm": [args.vmm, "--firmware", code, "--nvram", nvram, "--cpus", args.cpus,
                         "--memory", args.mem + "M", "--serial", "stdio", "--disk", disk],
        # Debian's QEMU as a PC with the same firmware, flash layout and disk; no display.
        "qemu-pc": ["qemu-system-x86_64", "-M", "pc", "-enable-kvm", "-cpu", "host", "-smp", args.cpus,
                    "-m", args.mem, "-nodefaults", "-no-user-config", "-display", "none", "-serial", "stdio",
                    "-no-reboot",
                    "-drive", f"if=pflash,format=raw,unit=0,readonly=on,file={code}",
                    "-drive", f"if=pflash,format=raw,unit=1,file={nvram}",
                    "-drive", f"id=root,file={disk},format=raw,if=none,cache=writeback,aio=io_uring",
                    "-device", "virtio-blk-pci,drive=root"],
    }


REPORT = re.compile(rb"phyllome-report: state=(\S+) failed=(\d+) userspace_us=(\d+) sysinit_us=(\d+) finish_us=(\d+)")


def boot_once(argv, log_path):
    subprocess.run(["cp", "--sparse=always", args.disk, disk], check=True)
    shutil.copyfile(os.path.join(args.ovmf_dir, args.vars), nvram)
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    loader = kernel = report = fields = None
    deadline = start + args.timeout
    with open(log_path, "wb") as log:
        for line in proc.stdout:
            now = time.monotonic() - start
            log.write(b"%9.3f " % now + line)
            if loader is None and b"BdsDxe: starting" in line:
                loader = now
            if kernel is None and b"Linux version" in line:
                kernel = now
            m = REPORT.search(line)
            if m and report is None:
                report, fields = now, m.groups()
            if time.monotonic() > deadline:
                proc.kill()
    status = proc.wait()
    if fields is None or loader is None or kernel is None:
        return None, f"no report line (status {status}; see {log_path})"
    state, failed, userspace, _, finish = fields[0].decode(), int(fields[1]), *map(int, fields[2:])
    if state != "running" or failed != 0 or status != 0:
        return None, f"state {state}, {failed} failed units, status {status} (see {log_path})"
    return {
        "exec->loader": loader,
        "loader->kernel": kernel - loader,
        "systemd->running": (finish - userspace) / 1e6,
        "exec->running": report,
    }, None


argvs = monitors()
results = {n: [] for n in argvs}
try:
    for r in range(args.rounds):
        for name, argv in argvs.items():
            row, why = boot_once(argv, os.path.join(work, f"{name}-{r + 1}.log"))
            if row is None:
                print(f"# {name} round {r + 1}: {why}; not counted", flush=True)
                with open(os.path.join(work, f"{name}-{r + 1}.log"), "rb") as f:
                    sys.stdout.write(f.read()[-3000:].decode(errors="replace"))
                continue
            results[name].append(row)
            print(f"# {name} round {r + 1}: " + ", ".join(f"{k} {v:.1f} s" for k, v in row.items()), flush=True)
finally:
    shutil.rmtree(work, ignore_errors=True)

phases = ["exec->loader", "loader->kernel", "systemd->running", "exec->running"]
print(f"\nDebian 12 from a GPT disk through OVMF ({args.vars}; {args.cpus} vCPU, {args.mem} MiB), "
      f"{args.rounds} rounds, medians in seconds:")
medians = {n: {p: statistics.median(r[p] for r in rows) for p in phases} for n, rows in results.items() if rows}
two = len(medians) == 2
print(f"{'phase':<18}" + "".join(f"{n:>14}" for n in argvs) + ("   ratio" if two else ""))
for p in phases:
    cells = "".join(f"{medians[n][p]:>14.2f}" if n in medians else f"{'-':>14}" for n in argvs)
    ratio = f"{medians['phyllome-vmm'][p] / medians['qemu-pc'][p]:>8.2f}" if two else ""
    print(f"{p:<18}{cells}{ratio}")
if two:
    print("ratio: phyllome-vmm / qemu-pc (below 1: phyllome-vmm is faster)")
sys.exit(0 if len(medians) == len(argvs) else 1)
