#!/bin/bash
# Installs Phyllome from a build tree into the running systemd box (run inside
# it: sdbox.sh exec tests/daemon/box-install.sh BUILDDIR). Everything it writes
# lands in the box's overlays and tmpfs, never on the host.
#   box-install.sh BUILDDIR [EXTRA phyllomed OPTIONS...]
set -euo pipefail
build=$(cd "$1" && pwd)
shift
src=$(cd "$(dirname "$0")/../.." && pwd)

install -D -m 644 "$src/units/org.phyllome.VM1.conf" /usr/share/dbus-1/system.d/org.phyllome.VM1.conf
install -D -m 644 "$build/units/org.phyllome.VM1.service" /usr/share/dbus-1/system-services/org.phyllome.VM1.service
install -D -m 644 "$src/units/org.phyllome.vm1.policy" /usr/share/polkit-1/actions/org.phyllome.vm1.policy
install -D -m 644 "$src/units/phyllome.slice" /run/systemd/system/phyllome.slice
# The installed unit, with the programs of the build tree.
sed -e "s|^ExecStart=.*|ExecStart=$build/daemon/phyllomed --vmm=$build/vmm/phyllome-vmm $*|" \
	"$build/units/phyllomed.service" > /run/systemd/system/phyllomed.service
systemd-sysusers "$src/units/phyllome.sysusers"
systemd-tmpfiles --create "$src/units/phyllome.tmpfiles"
systemctl daemon-reload
busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus ReloadConfig
systemctl restart polkit.service
