#!/usr/bin/env python3
"""Boots the distribution guest (tests/guest/build-distro.sh) to systemd's
`running` and power-off in phyllome-vmm and in QEMU -M microvm, alternating,
and prints each phase's median per monitor with the ratio. Run where KVM runs
Linux (bench/distro arranges that).

usage: distro-measure.py VMM DISTRO_DIR ROUNDS CPUS MEM_MIB [--only NAME] [--cmdline-extra S]
                         [--keep-logs DIR] [--vmm-arg ARG]... [--compare NAME=VMM]...

Each boot gets a fresh copy of root.img, so every round is a first boot of the
same image. Phases: exec -> the kernel's first console line ("Linux version",
after its decompression); kernel -> /init
(initramfs-tools' first line), both timed here; systemd start -> sysinit.target
and -> `running`, from systemd's own timestamps (the guest's report line);
exec -> `running`, the report line's arrival here.
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
ap.add_argument("distro_dir")
ap.add_argument("rounds", type=int)
ap.add_argument("cpus")
ap.add_argument("mem")
ap.add_argument("--only", action="append")
ap.add_argument("--cmdline-extra", default="")
ap.add_argument("--keep-logs")
ap.add_argument("--vmm-arg", action="append", default=[])
# Another phyllome-vmm build beside these two (before/after a change): NAME=PATH.
ap.add_argument("--compare", action="append", default=[])
ap.add_argument("--timeout", type=float, default=900)
args = ap.parse_args()

kernel = os.path.join(args.distro_dir, "vmlinuz")
initrd = os.path.join(args.distro_dir, "initrd.img")
image = os.path.join(args.distro_dir, "root.img")
cmdline = "console=ttyS0 root=/dev/vda rw panic=-1 phyllome.report=poweroff " + args.cmdline_extra
work = tempfile.mkdtemp(prefix="phyllome-distro-bench.")
disk = os.path.join(work, "root.img")


def phyllome(path):
    return [path, "--kernel", kernel, "--initrd", initrd, "--cpus", args.cpus, "--memory", args.mem + "M",
            "--cmdline", cmdline, "--serial", "stdio", "--disk", disk] + args.vmm_arg


def monitors():
    return {
        **{c.split("=", 1)[0]: phyllome(c.split("=", 1)[1]) for c in args.compare},
        "phyllome-vmm": phyllome(args.vmm),
        # The lightest QEMU Debian ships, with what this guest needs: virtio-blk
        # on PCIe, ACPI (power-off), the RTC; the host's page cache like ours.
        "qemu-microvm": ["qemu-system-x86_64", "-M", "microvm,pcie=on,acpi=on,rtc=on", "-enable-kvm",
                         "-cpu", "host", "-smp", args.cpus, "-m", args.mem, "-nodefaults", "-no-user-config",
                         "-display", "none", "-serial", "stdio", "-no-reboot", "-kernel", kernel,
                         "-initrd", initrd, "-append", cmdline,
                         "-drive", f"id=root,file={disk},format=raw,if=none,cache=writeback,aio=io_uring",
                         "-device", "virtio-blk-pci,drive=root"],
    }


def boot_once(name, argv, log_path):
    subprocess.run(["cp", "--sparse=always", image, disk], check=True)  # what the guest writes to
    # The kernel's own first line: QEMU starts a bzImage at its 16-bit setup code,
    # which prints before the kernel is even decompressed; we start it at its 64-bit entry.
    seen, report = guestboot.boot(argv, log_path, {"kernel": b"Linux version", "init": b"Loading, please wait"},
                                  args.timeout)
    if seen is None:
        return None, report
    return {
        "exec->kernel": seen["kernel"],
        "kernel->/init": seen["init"] - seen["kernel"],
        "systemd->sysinit": (report["sysinit_us"] - report["userspace_us"]) / 1e6,
        "systemd->running": (report["finish_us"] - report["userspace_us"]) / 1e6,
        "exec->running": report["report_s"],
    }, None


logs = args.keep_logs or work
os.makedirs(logs, exist_ok=True)
argvs = {n: a for n, a in monitors().items() if not args.only or n in args.only}
try:
    results = guestboot.rounds(argvs, args.rounds, boot_once, lambda name, r: os.path.join(logs, f"{name}-{r}.log"))
finally:
    if os.path.exists(disk):
        os.unlink(disk)
status = guestboot.table(f"Debian 12 guest ({args.cpus} vCPU, {args.mem} MiB, root on virtio-blk) to systemd "
                         f"`running`, {args.rounds} rounds, medians in seconds:", results,
                         ["exec->kernel", "kernel->/init", "systemd->sysinit", "systemd->running", "exec->running"],
                         "qemu-microvm")
if not args.keep_logs:
    shutil.rmtree(work, ignore_errors=True)
sys.exit(status)
