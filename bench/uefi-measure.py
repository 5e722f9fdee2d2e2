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
import shutil
import subprocess
import sys
import tempfile

import guestboot

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


def boot_once(name, argv, log_path):
    subprocess.run(["cp", "--sparse=always", args.disk, disk], check=True)
    shutil.copyfile(os.path.join(args.ovmf_dir, args.vars), nvram)
    seen, report = guestboot.boot(argv, log_path, {"loader": b"BdsDxe: starting", "kernel": b"Linux version"},
                                  args.timeout)
    if seen is None:
        return None, report
    return {
        "exec->loader": seen["loader"],
        "loader->kernel": seen["kernel"] - seen["loader"],
        "systemd->running": (report["finish_us"] - report["userspace_us"]) / 1e6,
        "exec->running": report["report_s"],
    }, None


try:
    results = guestboot.rounds(monitors(), args.rounds, boot_once,
                               lambda name, r: os.path.join(work, f"{name}-{r}.log"))
finally:
    shutil.rmtree(work, ignore_errors=True)
sys.exit(guestboot.table(f"Debian 12 from a GPT disk through OVMF ({args.vars}; {args.cpus} vCPU, {args.mem} MiB), "
                         f"{args.rounds} rounds, medians in seconds:", results,
                         ["exec->loader", "loader->kernel", "systemd->running", "exec->running"], "qemu-pc"))
