#!/bin/bash
# The aarch64 device tree reads back through dtc (as `dtc -I dtb -O dts` shows it to a person),
# without a warning from dtc's checks. Prints TAP.
set -uo pipefail
dump=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "1..2"
if ! command -v dtc > /dev/null; then
	echo "ok 1 # SKIP dtc is missing (apt-get install device-tree-compiler)"
	echo "ok 2 # SKIP dtc is missing"
	exit 0
fi
"$dump" --dump "$tmp/virt.dtb" || { echo "not ok 1 - the test program wrote no tree"; exit 1; }
if dtc -I dtb -O dts -o "$tmp/virt.dts" "$tmp/virt.dtb" 2> "$tmp/warnings" && [ ! -s "$tmp/warnings" ]; then
	echo "ok 1 - dtc decodes the tree without a warning"
else
	echo "not ok 1 - dtc decodes the tree without a warning"
	sed 's/^/# /' "$tmp/warnings"
fi
if grep -q 'compatible = "pci-host-ecam-generic"' "$tmp/virt.dts" && grep -q 'linux,code = <0x74>' "$tmp/virt.dts"; then
	echo "ok 2 - the source dtc writes names the PCIe host bridge and the power key"
else
	echo "not ok 2 - the source dtc writes names the PCIe host bridge and the power key"
	sed 's/^/# /' "$tmp/virt.dts"
fi
