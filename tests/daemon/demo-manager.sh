#!/bin/bash
# The manager demo's steps, where KVM can run Linux (this host, or the
# test-host VM): a private systemd with its bus, polkitd and machined
# (tests/sdbox), phyllomed installed in it, and a machine made of the test
# guest, driven with phyllomectl as a person would type it.
#   demo-manager.sh BUILDDIR
# Needs root. Everything it makes lives in the box and goes with it.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "$1" && pwd)
sdbox="$here/../sdbox/sdbox.sh"
box_devices=kvm
for d in net/tun vhost-net vhost-vsock; do [ -c "/dev/$d" ] && box_devices="$box_devices $d"; done
export SDBOX_NAME=phyllome-demo-$$ SDBOX_DEVICES=$box_devices SDBOX_TIMEOUT=${SDBOX_TIMEOUT:-300}
export SDBOX_ROOT=${SDBOX_ROOT:-$HOME/.cache/phyllome-sdbox}
stage=$SDBOX_ROOT/demo-stage-$$
say() { printf '\n\033[1m%s\033[0m\n' "$*"; }
# A step: the command as typed (quoted where it must be), then what it printed.
# (As root no polkit agent is needed: stdin is not the terminal.)
step() {
	local typed="" arg
	for arg in "$@"; do
		case $arg in *' '*) typed+=" \"$arg\"" ;; *) typed+=" $arg" ;; esac
	done
	printf '\n\033[1;32m$%s\033[0m\n' "$typed"
	"$sdbox" exec "$@" < /dev/null
}

cleanup() {
	"$sdbox" stop > /dev/null 2>&1
	rm -rf "$stage"
}
trap cleanup EXIT
say "Starting a private systemd (PID 1 of its own namespaces) with its D-Bus, polkitd and machined"
if ! "$sdbox" start > /tmp/phyllome-demo-sdbox.log 2>&1; then
	tail -n 20 /tmp/phyllome-demo-sdbox.log
	exit 1
fi
say "Installing phyllomed into it (unit, D-Bus activation and policy, polkit actions)"
"$here/box-stage.sh" "$build" "$stage" > /dev/null &&
	cp "$build/tests/guest/vmlinuz" "$build/tests/guest/initrd.img" "$stage/" && chmod a+r "$stage"/* &&
	"$sdbox" exec "$stage/box-install.sh" > /dev/null &&
	"$sdbox" exec sh -c 'install -D -m 644 -t /var/lib/phyllome/images "$0/vmlinuz" "$0/initrd.img"' "$stage" ||
	exit 1

img=/var/lib/phyllome/images
step phyllomectl create demo --kernel $img/vmlinuz --initrd $img/initrd.img \
	--cmdline "console=ttyS0 quiet phyllome.action=wait" --cpus 2 --memory 512M || exit 1
step phyllomectl start demo || exit 1
step phyllomectl list
step phyllomectl status demo
step machinectl list
# The console until the guest has said what it found (it then waits for the power button).
# Its input stays open (an end of input would close the console) until sed has seen that.
printf '\n\033[1;32m$ %s\033[0m\n' "phyllomectl console demo"
"$sdbox" exec timeout 180 bash -c 'phyllomectl console demo < <(sleep 180) | sed "/PHYLLOME power button watched/q"'
step phyllomectl stop demo || exit 1
step phyllomectl status demo
step phyllomectl logs demo --lines 8
say "The machine ran in phyllome-demo.scope under phyllomed and powered off through its ACPI power button."
