#!/bin/bash
# Installs Phyllome into the running systemd box, from a staging directory
# that box-stage.sh filled (run inside the box: sdbox.sh exec STAGE/box-install.sh).
# Everything it writes lands in the box's overlays and tmpfs, never on the host.
#   box-install.sh [EXTRA phyllomed OPTIONS...]
set -euo pipefail
stage=$(cd "$(dirname "$0")" && pwd)

install -D -m 644 "$stage/units/org.phyllome.VM1.conf" /usr/share/dbus-1/system.d/org.phyllome.VM1.conf
install -D -m 644 "$stage/units/org.phyllome.VM1.service" /usr/share/dbus-1/system-services/org.phyllome.VM1.service
install -D -m 644 "$stage/units/org.phyllome.vm1.policy" /usr/share/polkit-1/actions/org.phyllome.vm1.policy
install -D -m 644 "$stage/units/phyllome.slice" /run/systemd/system/phyllome.slice
install -D -m 755 "$stage/bin/phyllomed" /usr/local/libexec/phyllomed
install -D -m 755 "$stage/bin/phyllome-vmm" /usr/local/libexec/phyllome-vmm
install -D -m 755 "$stage/bin/phyllomectl" /usr/local/bin/phyllomectl
# The tests' display client, where the box's unprivileged users reach it (the stage is root's).
[ -f "$stage/display-client" ] && install -D -m 755 "$stage/display-client" /usr/local/libexec/phyllome-test/display-client
sed -e "s|^ExecStart=.*|ExecStart=/usr/local/libexec/phyllomed --vmm=/usr/local/libexec/phyllome-vmm $*|" \
	"$stage/units/phyllomed.service" > /run/systemd/system/phyllomed.service
systemd-tmpfiles --create "$stage/units/phyllome.tmpfiles"
systemctl daemon-reload
busctl --system call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus ReloadConfig
systemctl restart polkit.service
