#!/usr/bin/env python3
"""Disk benchmark inside the test guest, phyllome-vmm against QEMU -M microvm,
on the same image file, plus the host's own io_uring figure on that file as the
ceiling. Run on a host whose KVM runs Linux (bench/disk arranges that).

usage: disk-measure.py VMM GUEST_DIR BENCH_INITRD IMAGE SECONDS

Jobs (fio in the guest, O_DIRECT on the virtio disk): 4 KiB random read at
queue depth 32 (IOPS), 1 MiB sequential read and write at depth 8 (MB/s).
phyllome-vmm: --disk IMAGE,direct (io_uring, O_DIRECT); QEMU: virtio-blk with
aio=io_uring, cache=none (O_DIRECT too).
"""
import json
import os
import subprocess
import sys
import tempfile

vmm, guest_dir, initrd, image, seconds = sys.argv[1:6]
# O_DIRECT on the host where the image's file system has it (disk-fs.sh says), else both monitors buffered.
direct = os.environ.get("DISK_BENCH_DIRECT", "1") == "1"
kernel = os.path.join(guest_dir, "vmlinuz")
cmdline = "console=ttyS0 quiet panic=-1 phyllome.action=script"
JOBS = [
    ("randread-4k-qd32", "randread", "4k", 32),
    ("read-1m-qd8", "read", "1M", 8),
    ("write-1m-qd8", "write", "1M", 8),
]


def fio_args(target, rw, bs, depth, engine, odirect=True):
    return ["fio", "--name=bench", f"--filename={target}", f"--rw={rw}", f"--bs={bs}", f"--iodepth={depth}",
            f"--ioengine={engine}", f"--direct={1 if odirect else 0}", "--time_based", f"--runtime={seconds}", "--ramp_time=1",
            "--thread", "--output-format=json"]


def figure(result, rw):
    job = result["jobs"][0]["write" if rw == "write" else "read"]
    return job["iops"], job["bw_bytes"] / 1e6


def script_image(directory):
    """A script disk: the guest runs every fio job on the disk with serial 'bench'."""
    lines = ['d=""', 'for b in /sys/block/vd*; do [ "$(cat $b/serial)" = bench ] && d=/dev/${b##*/}; done']
    for name, rw, bs, depth in JOBS:
        args = " ".join(fio_args("$d", rw, bs, depth, "libaio"))
        lines += [f'echo "BENCH-BEGIN {name}"', args, f'echo "BENCH-END {name}"']
    path = os.path.join(directory, "script.img")
    with open(path, "wb") as f:
        text = ("\n".join(lines) + "\nexit 0\n").encode()
        f.write(text + b"\0" * (-len(text) % 4096))
    return path


def parse(output):
    results, current, buf = {}, None, []
    for line in output.splitlines():
        line = line.rstrip("\r")
        if line.startswith("BENCH-BEGIN "):
            current, buf = line.split()[1], []
        elif line.startswith("BENCH-END ") and current:
            text = "\n".join(buf)
            try:
                results[current] = json.loads(text[text.index("{"):])
            except (ValueError, json.JSONDecodeError):
                pass
            current = None
        elif current:
            buf.append(line)
    return results


def run_guest(name, argv):
    print(f"# {name}: running the fio jobs in the guest ({len(JOBS)} x {seconds} s)", flush=True)
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, errors="replace")
    lines = []
    for line in proc.stdout:
        lines.append(line)
        # Progress, for a run that takes minutes under emulation.
        if line.startswith(("BENCH-", "PHYLLOME script", "PHYLLOME-GUEST-READY")):
            print(f"#   {name}: {line.strip()}", flush=True)
    proc.wait()
    output = "".join(lines)
    results = parse(output)
    if len(results) != len(JOBS):
        print(f"# {name}: status {proc.returncode}, {len(results)} of {len(JOBS)} results; output ends:\n"
              + "\n".join("#   " + l for l in output.splitlines()[-30:]), flush=True)
    return results


with tempfile.TemporaryDirectory() as tmp:
    script = script_image(tmp)
    monitors = {
        "phyllome-vmm": [vmm, "--kernel", kernel, "--initrd", initrd, "--cpus", "2", "--memory", "512M",
                         "--cmdline", cmdline, "--serial", "stdio",
                         "--disk", f"{script},readonly,serial=phyllome-script",
                         "--disk", f"{image}{',direct' if direct else ''},serial=bench"],
        "qemu-microvm": ["qemu-system-x86_64", "-M", "microvm", "-enable-kvm", "-cpu", "host", "-smp", "2",
                         "-m", "512", "-nodefaults", "-no-user-config", "-display", "none", "-serial", "stdio",
                         "-no-reboot", "-kernel", kernel, "-initrd", initrd, "-append", cmdline,
                         "-drive", f"id=s,file={script},if=none,format=raw,readonly=on",
                         "-device", "virtio-blk-device,drive=s,serial=phyllome-script",
                         "-drive", f"id=b,file={image},if=none,format=raw,aio=io_uring,"
                                   f"cache={'none' if direct else 'writeback'}",
                         "-device", "virtio-blk-device,drive=b,serial=bench"],
    }
    results = {name: run_guest(name, argv) for name, argv in monitors.items()}

print("# host: fio with io_uring on the image itself (the ceiling)", flush=True)
host = {}
for name, rw, bs, depth in JOBS:
    proc = subprocess.run(fio_args(image, rw, bs, depth, "io_uring", direct), capture_output=True, text=True)
    try:
        host[name] = json.loads(proc.stdout)
    except json.JSONDecodeError:
        print(f"# host {name}: fio failed: {proc.stderr.strip()[:300]}")

print(f"\nvirtio-blk in the guest, fio {seconds} s per job, O_DIRECT in the guest, same image file, host I/O "
      f"{'O_DIRECT (phyllome-vmm ,direct; QEMU cache=none)' if direct else 'buffered (no O_DIRECT on tmpfs; QEMU cache=writeback)'}:")
print(f"{'job':<18} {'unit':<5} {'phyllome-vmm':>13} {'qemu-microvm':>13} {'host':>10} {'vmm/qemu':>9} {'vmm/host':>9}")
ok = True
for name, rw, bs, depth in JOBS:
    unit = "IOPS" if bs == "4k" else "MB/s"
    pick = 0 if unit == "IOPS" else 1
    row = []
    for source in (results["phyllome-vmm"], results["qemu-microvm"], host):
        row.append(figure(source[name], rw)[pick] if name in source else None)
    p, q, h = row
    ok = ok and p is not None and q is not None
    fmt = lambda v: f"{v:>13.0f}" if v is not None else f"{'-':>13}"
    ratio = lambda a, b: f"{a / b:>9.2f}" if a and b else f"{'-':>9}"
    print(f"{name:<18} {unit:<5} {fmt(p)} {fmt(q)} {fmt(h)[3:]} {ratio(p, q)} {ratio(p, h)}")
print("(ratios above 1: phyllome-vmm is faster; vmm/host is the share of the host's own figure)")
sys.exit(0 if ok else 1)
