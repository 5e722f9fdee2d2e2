#!/usr/bin/env python3
"""Network benchmark: TCP throughput from the test guest to the host over a
tap, phyllome-vmm (vhost-net, and its device thread) against QEMU -M microvm
(virtio-net with vhost=on). Run as root on a host whose KVM runs Linux
(bench/net arranges that); makes its own network namespace and tap.

usage: net-measure.py VMM GUEST_DIR MIB ROUNDS
"""
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

cmdline = "console=ttyS0 quiet panic=-1 phyllome.action=script"
ns = f"phyllome-bench-{os.getpid()}"
HOST, GUEST, PORT = "10.78.0.1", "10.78.0.2", 5000


def sh(*argv):
    subprocess.run(argv, check=True)


def script_image(directory, mib):
    text = f"""ip link set eth0 up
ip addr add {GUEST}/24 dev eth0
ping -c 1 -W 10 {HOST} > /dev/null
echo "BENCH sending {mib} MiB"
dd if=/dev/zero bs=1M count={mib} 2>/dev/null | nc {HOST} {PORT}
echo "BENCH sent: $?"
exit 0
""".encode()
    path = os.path.join(directory, "script.img")
    with open(path, "wb") as f:
        f.write(text + b"\0" * (-len(text) % 4096))
    return path


def receive(mib, result):
    """In the namespace (setns by the caller's thread): MB/s from the first byte to the last."""
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((HOST, PORT))
    srv.listen(1)
    srv.settimeout(300)
    conn, _ = srv.accept()
    conn.settimeout(120)  # a stalled stream ends the round instead of the benchmark
    want, got, start = mib << 20, 0, None
    while got < want:
        try:
            data = conn.recv(1 << 20)
        except socket.timeout:
            break
        if not data:
            break
        if start is None:
            start = time.monotonic()
        got += len(data)
    elapsed = time.monotonic() - start if start else 0
    conn.close()
    srv.close()
    result.append(got / elapsed / 1e6 if got == want and elapsed > 0 else None)


def run_once(argv, mib):
    result = []
    # The receiver lives in the namespace: a child process that enters it and reports back.
    proc = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, __file__, "--receive", str(mib)],
                            stdout=subprocess.PIPE, text=True)
    time.sleep(0.5)
    vm = subprocess.Popen(["ip", "netns", "exec", ns] + argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT)
    lines = []
    for line in vm.stdout:
        lines.append(line)
        if line.startswith((b"PHYLLOME-GUEST-READY", b"PHYLLOME script", b"BENCH")):
            print("#     " + line.decode(errors="replace").strip(), flush=True)
    vm.wait()
    output = b"".join(lines).decode(errors="replace")
    out, _ = proc.communicate(timeout=180)
    try:
        result.append(float(out.strip()))
    except ValueError:
        result.append(None)
    if vm.returncode != 0 or result[0] is None:
        tail = output.splitlines()[-80:]
        print(f"#   status {vm.returncode}, no figure; output ends:\n" + "\n".join("#     " + l for l in tail))
    return result[0]


def main():
    vmm, guest_dir, mib, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    kernel = os.path.join(guest_dir, "vmlinuz")
    initrd = os.path.join(guest_dir, "initrd.img")
    sh("ip", "netns", "add", ns)
    try:
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        sh("ip", "-n", ns, "tuntap", "add", "dev", "btap0", "mode", "tap", "vnet_hdr")
        sh("ip", "-n", ns, "addr", "add", f"{HOST}/24", "dev", "btap0")
        sh("ip", "-n", ns, "link", "set", "btap0", "up")
        with tempfile.TemporaryDirectory() as tmp:
            script = script_image(tmp, mib)
            common = ["--kernel", kernel, "--initrd", initrd, "--cpus", "1", "--memory", "512M",
                      "--cmdline", cmdline, "--serial", "stdio", "--disk", f"{script},readonly,serial=phyllome-script"]
            monitors = {
                "phyllome-vmm vhost": [vmm] + common + ["--net", "tap=btap0,vhost=on"],
                "phyllome-vmm thread": [vmm] + common + ["--net", "tap=btap0,vhost=off"],
                "qemu-microvm vhost": [
                    "qemu-system-x86_64", "-M", "microvm", "-enable-kvm", "-cpu", "host", "-smp", "1", "-m", "512",
                    "-nodefaults", "-no-user-config", "-display", "none", "-serial", "stdio", "-no-reboot",
                    "-kernel", kernel, "-initrd", initrd, "-append", cmdline,
                    "-drive", f"id=s,file={script},if=none,format=raw,readonly=on",
                    "-device", "virtio-blk-device,drive=s,serial=phyllome-script",
                    "-netdev", "tap,id=n,ifname=btap0,script=no,downscript=no,vhost=on",
                    "-device", "virtio-net-device,netdev=n"],
            }
            only = os.environ.get("BENCH_NET_ONLY")  # e.g. "phyllome-vmm vhost", to look at one monitor
            if only:
                monitors = {only: monitors[only]}
            figures = {name: [] for name in monitors}
            for r in range(rounds):
                for name, argv in monitors.items():
                    mbs = run_once(argv, mib)
                    print(f"# {name} round {r + 1}: {f'{mbs:.1f} MB/s' if mbs else 'failed'}", flush=True)
                    if mbs:
                        figures[name].append(mbs)
    finally:
        subprocess.run(["ip", "netns", "delete", ns])
    print(f"\nTCP guest -> host over a tap, {mib} MiB per round, {rounds} rounds, median MB/s:")
    medians = {n: statistics.median(v) for n, v in figures.items() if v}
    for name in monitors:
        print(f"{name:<22} {medians.get(name, float('nan')):>10.1f}")
    q = medians.get("qemu-microvm vhost")
    for name in ("phyllome-vmm vhost", "phyllome-vmm thread"):
        if q and name in medians:
            print(f"ratio {name} / qemu-microvm vhost: {medians[name] / q:.2f}  (above 1: phyllome-vmm is faster)")
    return 0 if len(medians) == len(monitors) else 1


if __name__ == "__main__":
    if sys.argv[1] == "--receive":
        res = []
        receive(int(sys.argv[2]), res)
        print(res[0] if res[0] else "failed", flush=True)
        sys.exit(0)
    sys.exit(main())
