#!/bin/bash
# Copies what a systemd box needs to run Phyllome from a build tree into STAGE:
# the box replaces /tmp, /run and /var/tmp with its own, so a build tree
# there would be invisible inside it (and one under /root unreadable to the
# VM user). STAGE must lie outside those.
#   box-stage.sh BUILDDIR STAGE
set -euo pipefail
build=$1 stage=$2
src=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$stage/bin" "$stage/units"
chmod 755 "$stage"
cp "$build/daemon/phyllomed" "$build/vmm/phyllome-vmm" "$build/cli/phyllomectl" "$stage/bin/"
cp "$build/units/phyllomed.service" "$build/units/org.phyllome.VM1.service" \
	"$src/units/org.phyllome.VM1.conf" "$src/units/org.phyllome.vm1.policy" "$src/units/phyllome.slice" \
	"$src/units/phyllome.tmpfiles" "$stage/units/"
cp "$build/tests/tinyguest/tinyguest.bzImage" "$build/tests/tinyguest/tinyfirmware.bin" "$stage/"
[ ! -f "$build/tests/display-client" ] || cp "$build/tests/display-client" "$stage/"
cp "$src/tests/daemon/box-install.sh" "$src/tests/vmm/vmmctl.py" "$src/tests/daemon/sweep.py" "$src/tests/daemon/console-fds.py" "$stage/"
# The GNOME Shell extension's model and its test (run with gjs in the box).
cp -r "$src/extras/gnome-shell/phyllome@phyllome.org" "$src/tests/shell-extension/model-test.js" "$stage/"
[ -f "$src/bench/daemon-measure.py" ] && cp "$src/bench/daemon-measure.py" "$stage/"
chmod -R a+rX "$stage"
