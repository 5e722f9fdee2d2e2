#!/usr/bin/env python3
"""Counts real test results from meson's testlog.json: each TAP test point
(ok / not ok / # SKIP) counts once, other tests by their result. Prints
"N passed, N failed, N skipped" and the names of what failed or skipped.

usage: summarize.py TESTLOG.json [--fail-on-skip SUITE]...
Exits 1 when anything failed, or was skipped in a suite named by --fail-on-skip.
"""
import json
import re
import sys

log_path = sys.argv[1]
strict_suites = {sys.argv[i + 1] for i, a in enumerate(sys.argv) if a == "--fail-on-skip"}
passed = failed = skipped = 0
problems = []

with open(log_path) as f:
    for line in f:
        test = json.loads(line)
        name, result = test["name"], test["result"]
        suites = {s.split(":")[-1] for s in test.get("suite", [])}
        strict = bool(suites & strict_suites)
        out = test.get("stdout", test.get("stdo", "")) or ""
        points = [l for l in out.splitlines() if re.match(r"^(not )?ok\b", l)]
        plan_skip = re.search(r"^1\.\.0\s*#\s*skip\s*(.*)$", out, re.I | re.M)
        if plan_skip or result == "SKIP":
            skipped += 1
            problems.append(f"SKIPPED {name}: {plan_skip.group(1) if plan_skip else 'skipped'}")
            if strict:
                failed += 1
                problems.append(f"FAILED {name}: suite {sorted(suites & strict_suites)} may not be skipped here")
            continue
        if not points:
            if result == "OK":
                passed += 1
            else:
                failed += 1
                problems.append(f"FAILED {name}: {result}")
            continue
        for p in points:
            if p.startswith("not ok"):
                failed += 1
                problems.append(f"FAILED {name}: {p}")
            elif re.search(r"#\s*skip", p, re.I):
                skipped += 1
                problems.append(f"SKIPPED {name}: {p}")
                if strict:
                    failed += 1
            else:
                passed += 1
        # A TAP test that crashed or timed out after its last point still failed.
        if result not in ("OK", "SKIP") and not any(p.startswith("not ok") for p in points):
            failed += 1
            problems.append(f"FAILED {name}: {result} after {len(points)} test points")

for p in problems:
    print(p)
print(f"{passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
