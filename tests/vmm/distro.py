#!/usr/bin/env python3
"""The distribution guest (tests/guest/build-distro.sh: Debian 12 with systemd,
udev, dbus and logind, Debian's cloud kernel and initramfs-tools initrd, root on
ext4) boots in phyllome-vmm from a virtio-blk root to systemd `running` with no
failed unit; root logs in on the serial console; SIGTERM presses the power
button, logind powers the guest off, the monitor ends with status 0 and the
file system was unmounted cleanly. Prints TAP. The first test of the project on
a guest no one here wrote.

Environment: PHYLLOME_VMM, PHYLLOME_DISTRO_DIR; VMM_DEADLINE (seconds, default 600).
"""
import os
import re
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

vmm = os.environ["PHYLLOME_VMM"]
distro = os.environ["PHYLLOME_DISTRO_DIR"]
deadline_s = float(os.environ.get("VMM_DEADLINE", "600"))
count = failed = 0


def tap(ok, desc, diag=""):
    global count, failed
    count += 1
    failed += not ok
    print(f"{'ok' if ok else 'not ok'} {count} - {desc}", flush=True)
    if not ok and diag:
        for line in diag.rstrip().splitlines()[-25:]:
            print(f"# {line}", flush=True)


class Console:
    """The guest's ttyS0 on the monitor's stdin/stdout, with everything it printed kept."""

    def __init__(self, proc):
        self.proc = proc
        self.seen = b""
        self.pos = 0  # what expect() has consumed

    def expect(self, pattern, timeout):
        """The first match of PATTERN (bytes regex) after the last one, or None at the timeout."""
        rx = re.compile(pattern)
        end = time.monotonic() + timeout
        while True:
            m = rx.search(self.seen, self.pos)
            if m:
                self.pos = m.end()
                return m
            left = end - time.monotonic()
            if left <= 0:
                return None
            ready, _, _ = select.select([self.proc.stdout], [], [], min(left, 1.0))
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    return None
                self.seen += chunk

    def type(self, text):
        # A real serial line at human speed would not overrun the guest's 16-byte FIFO;
        # neither do we.
        for i in range(0, len(text), 8):
            self.proc.stdin.write(text[i:i + 8].encode())
            self.proc.stdin.flush()
            time.sleep(0.02)

    def tail(self):
        return self.seen[-3000:].decode(errors="replace")


work = tempfile.mkdtemp(prefix="phyllome-distro.")
disk = os.path.join(work, "root.img")
print("1..9", flush=True)
subprocess.run(["cp", "--sparse=always", os.path.join(distro, "root.img"), disk], check=True)

argv = [vmm, "--kernel", os.path.join(distro, "vmlinuz"), "--initrd", os.path.join(distro, "initrd.img"),
        "--cpus", "2", "--memory", "1G", "--disk", disk, "--serial", "stdio", "--shutdown-timeout", "300",
        "--cmdline", "console=ttyS0 root=/dev/vda rw panic=-1 phyllome.report"]
start = time.monotonic()
proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
con = Console(proc)
try:
    report = con.expect(rb"phyllome-report: state=(\S+) failed=(\d+) userspace_us=(\d+) sysinit_us=\d+ finish_us=(\d+)",
                        deadline_s)
    booted = report is not None and report.group(1) == b"running" and report.group(2) == b"0"
    tap(booted, "Debian 12 boots from its virtio-blk root to systemd `running` with no failed unit",
        con.tail() if report is None else report.group(0).decode())
    if report:
        print(f"# exec -> running {time.monotonic() - start:.1f} s; {report.group(0).decode()}", flush=True)

    # The prompt may have come before the report line; look from the start.
    con.pos = 0
    prompt = con.expect(rb"phyllome-distro login: ", 120 if booted else 5)
    logged_in = False
    if prompt:
        con.type("root\n")
        logged_in = con.expect(rb"root@phyllome-distro:~# ", 120) is not None
    tap(logged_in, "root logs in on the serial console (getty, login, PAM)", con.tail())

    answers = None
    if logged_in:
        con.type("echo CHECK virt=$(systemd-detect-virt) root=$(findmnt -no FSTYPE,SOURCE /) "
                 "sessions=$(loginctl list-sessions --no-legend | wc -l) cpus=$(nproc) "
                 "mem=$(awk '/MemTotal/ {print $2}' /proc/meminfo) "
                 "tscdl=$(grep -c tsc_deadline_timer /proc/cpuinfo) END\n")
        answers = con.expect(rb"CHECK virt=(\S*) root=(.*?) sessions=(\d+) cpus=(\d+) mem=(\d+) tscdl=(\d+) END", 120)
    vals = answers.groups() if answers else None
    tap(bool(vals) and vals[0] == b"kvm", "systemd-detect-virt in the guest says kvm", con.tail())
    tap(bool(vals) and re.match(rb"ext4\s+/dev/vda$", vals[1]) is not None,
        "the root file system is ext4 on /dev/vda (virtio-blk)", con.tail())
    tap(bool(vals) and int(vals[2]) >= 1, "logind tracks the serial login as a session", con.tail())
    tap(bool(vals) and vals[3] == b"2" and 800 * 1024 <= int(vals[4]) <= 1024 * 1024,
        "the guest sees its 2 vCPUs and 1 GiB", con.tail())
    tap(bool(vals) and vals[5] == b"2", "each vCPU has the TSC-deadline timer", con.tail())

    # The power button: the monitor's SIGTERM presses it, logind starts poweroff.target.
    proc.send_signal(signal.SIGTERM)
    off = con.expect(rb"reboot: Power down", 300)
    try:
        status = proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        status = None
    tap(off is not None and status == 0,
        "SIGTERM: the power button makes logind power the guest off; the monitor ends with status 0",
        con.tail() + f"\n(status {status})")
finally:
    if proc.poll() is None:
        proc.kill()
        proc.wait()

fsck = subprocess.run(["e2fsck", "-fn", disk], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
clean = subprocess.run(["dumpe2fs", "-h", disk], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
state_clean = re.search(rb"Filesystem state:\s+clean\n", clean.stdout) is not None
tap(fsck.returncode == 0 and state_clean, "after the power-off the root file system is clean and consistent (e2fsck)",
    fsck.stdout.decode(errors="replace") + clean.stdout.decode(errors="replace")[:400])
shutil.rmtree(work, ignore_errors=True)
sys.exit(0)
