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
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

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


REPORT = re.compile(rb"phyllome-report: state=(\S+) failed=(\d+) userspace_us=(\d+) sysinit_us=(\d+) finish_us=(\d+)")


def boot_once(argv, log_path):
    subprocess.run(["cp", "--sparse=always", image, disk], check=True)  # what the guest writes to
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    first = init = report = None
    fields = None
    deadline = start + args.timeout
    with open(log_path, "wb") as log:
        for line in proc.stdout:
            now = time.monotonic() - start
            log.write(b"%9.3f " % now + line)
            # The kernel's own first line: QEMU starts a bzImage at its 16-bit setup code,
            # which prints before the kernel is even decompressed; we start it at its 64-bit entry.
            if first is None and b"Linux version" in line:
                first = now
            if init is None and b"Loading, please wait" in line:
                init = now
            m = REPORT.search(line)
            if m and report is None:
                report = now
                fields = m.groups()
            if time.monotonic() > deadline:
                proc.kill()
    status = proc.wait()
    if fields is None or first is None or init is None:
        return None, f"no report line (status {status}; see {log_path})"
    state, failed, userspace, sysinit, finish = fields[0].decode(), int(fields[1]), *map(int, fields[2:])
    if state != "running" or failed != 0 or status != 0:
        return None, f"state {state}, {failed} failed units, status {status} (see {log_path})"
    return {
        "exec->kernel": first,
        "kernel->/init": init - first,
        "systemd->sysinit": (sysinit - userspace) / 1e6,
        "systemd->running": (finish - userspace) / 1e6,
        "exec->running": report,
    }, None


logs = args.keep_logs or work
os.makedirs(logs, exist_ok=True)
argvs = monitors()
names = [n for n in argvs if not args.only or n in args.only]
results = {n: [] for n in names}
try:
    for r in range(args.rounds):
        for name in names:
            row, why = boot_once(argvs[name], os.path.join(logs, f"{name}-{r + 1}.log"))
            if row is None:
                print(f"# {name} round {r + 1}: {why}; not counted", flush=True)
                continue
            results[name].append(row)
            print(f"# {name} round {r + 1}: " + ", ".join(f"{k} {v:.1f} s" for k, v in row.items()), flush=True)
finally:
    if os.path.exists(disk):
        os.unlink(disk)

phases = ["exec->kernel", "kernel->/init", "systemd->sysinit", "systemd->running", "exec->running"]
print(f"\nDebian 12 guest ({args.cpus} vCPU, {args.mem} MiB, root on virtio-blk) to systemd `running`, "
      f"{args.rounds} rounds, medians in seconds:")
medians = {n: {p: statistics.median(r[p] for r in rows) for p in phases} for n, rows in results.items() if rows}
two = "phyllome-vmm" in medians and "qemu-microvm" in medians
print(f"{'phase':<18}" + "".join(f"{n:>14}" for n in names) + ("   ratio" if two else ""))
for p in phases:
    cells = "".join(f"{medians[n][p]:>14.2f}" if n in medians else f"{'-':>14}" for n in names)
    ratio = ""
    if two:
        ratio = f"{medians['phyllome-vmm'][p] / medians['qemu-microvm'][p]:>8.2f}"
    print(f"{p:<18}{cells}{ratio}")
if two:
    print("ratio: phyllome-vmm / qemu-microvm (below 1: phyllome-vmm is faster)")
if not args.keep_logs:
    shutil.rmtree(work, ignore_errors=True)
sys.exit(0 if len(medians) == len(names) else 1)
