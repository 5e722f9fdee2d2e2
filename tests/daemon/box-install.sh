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
# The programs, where every user may run them (the build tree may sit in a
# directory only root can enter, and monitors run as phyllome-vm).
install -D -m 755 "$build/daemon/phyllomed" /usr/local/libexec/phyllomed
install -D -m 755 "$build/vmm/phyllome-vmm" /usr/local/libexec/phyllome-vmm
install -D -m 755 "$build/cli/phyllomectl" /usr/local/bin/phyllomectl
sed -e "s|^ExecStart=.*|ExecStart=/usr/local/libexec/phyllomed --vmm=/usr/local/libexec/phyllome-vmm $*|" \
	"$build/units/phyllomed.service" > /run/systemd/system/phyllomed.service
systemd-sysusers "$src/units/phyllome.sysusers"
systemd-tmpfiles --create "$src/units/phyllome.tmpfiles"
systemctl daemon-reload
busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus ReloadConfig
systemctl restart polkit.service
