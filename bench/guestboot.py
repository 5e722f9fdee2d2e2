"""What the benchmarks that boot a Debian guest to systemd's `running` share
(bench/distro-measure.py, bench/uefi-measure.py): one boot watched on its
serial console, with the moments given markers first appear; rounds that
alternate the monitors; the medians' table with phyllome-vmm's ratio to the
peer. The guest's report line (tests/guest/build-distro.sh) says its state,
failed units and systemd's own timestamps.
"""
import re
import statistics
import subprocess
import sys
import time

REPORT = re.compile(rb"phyllome-report: state=(\S+) failed=(\d+) userspace_us=(\d+) sysinit_us=(\d+) finish_us=(\d+)")


def boot(argv, log_path, markers, timeout):
    """Runs argv (a monitor, console on stdout) to its end, killed after timeout
    seconds. Returns ({marker name: seconds after exec}, report) with report a
    dict (report_s: its arrival; userspace_us, sysinit_us, finish_us: systemd's
    clocks), or (None, why) when the boot did not reach `running` cleanly."""
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    seen, report = {}, None
    with open(log_path, "wb") as log:
        for line in proc.stdout:
            now = time.monotonic() - start
            log.write(b"%9.3f " % now + line)
            for name, marker in markers.items():
                if name not in seen and marker in line:
                    seen[name] = now
            m = REPORT.search(line)
            if m and report is None:
                report = {"report_s": now, "state": m.group(1).decode(), "failed": int(m.group(2)),
                          "userspace_us": int(m.group(3)), "sysinit_us": int(m.group(4)),
                          "finish_us": int(m.group(5))}
            if now > timeout:
                proc.kill()
    status = proc.wait()
    if report is None or len(seen) < len(markers):
        return None, f"no report line or not every marker (status {status}; see {log_path})"
    if report["state"] != "running" or report["failed"] != 0 or status != 0:
        return None, f"state {report['state']}, {report['failed']} failed units, status {status} (see {log_path})"
    return seen, report


def rounds(argvs, count, boot_once, log_path):
    """count rounds of boot_once(name, argv, log) for each monitor in turn (so
    that a host's drift touches both alike); {name: [row, ...]}, the rows it
    returned, failures reported and left out."""
    results = {name: [] for name in argvs}
    for r in range(count):
        for name, argv in argvs.items():
            log = log_path(name, r + 1)
            row, why = boot_once(name, argv, log)
            if row is None:
                print(f"# {name} round {r + 1}: {why}; not counted", flush=True)
                with open(log, "rb") as f:
                    sys.stdout.write(f.read()[-3000:].decode(errors="replace"))
                continue
            results[name].append(row)
            print(f"# {name} round {r + 1}: " + ", ".join(f"{k} {v:.1f} s" for k, v in row.items()), flush=True)
    return results


def table(title, results, phases, peer):
    """Prints each phase's median per monitor and phyllome-vmm's ratio to peer;
    returns the exit status (1 when a monitor has no counted round)."""
    print("\n" + title)
    names = list(results)
    medians = {n: {p: statistics.median(r[p] for r in rows) for p in phases} for n, rows in results.items() if rows}
    two = "phyllome-vmm" in medians and peer in medians
    print(f"{'phase':<18}" + "".join(f"{n:>14}" for n in names) + ("   ratio" if two else ""))
    for p in phases:
        cells = "".join(f"{medians[n][p]:>14.2f}" if n in medians else f"{'-':>14}" for n in names)
        ratio = f"{medians['phyllome-vmm'][p] / medians[peer][p]:>8.2f}" if two else ""
        print(f"{p:<18}{cells}{ratio}")
    if two:
        print(f"ratio: phyllome-vmm / {peer} (below 1: phyllome-vmm is faster)")
    return 0 if len(medians) == len(names) else 1
