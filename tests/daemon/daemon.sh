#!/bin/bash
# phyllomed and phyllomectl against the real services: a private systemd (PID 1
# of its own namespaces, tests/sdbox/sdbox.sh) with its system dbus-daemon,
# polkitd and systemd-machined; phyllomed installed in it as its D-Bus-activated,
# hardened unit; VMs running the tiny guest program on real KVM; real users
# created in the box for polkit's answers. Prints TAP. Needs root and /dev/kvm.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../vmm/tap.sh"
: "${PHYLLOME_BUILD_DIR:?}" "${PHYLLOME_TINYGUEST:?}"
build=$(cd "$PHYLLOME_BUILD_DIR" && pwd)
sdbox="$here/../sdbox/sdbox.sh"
# The devices phyllomed opens for machines' disks' neighbours: taps, vhost-net, vhost-vsock.
box_devices=kvm
for d in net/tun vhost-net vhost-vsock; do [ -c "/dev/$d" ] && box_devices="$box_devices $d"; done
export SDBOX_NAME=phyllome-daemon-$$ SDBOX_DEVICES=$box_devices
# Under an emulated test host, systemd boots slowly.
export SDBOX_TIMEOUT=${SDBOX_TIMEOUT:-300}
# Not below /tmp, /run or /var, which the box replaces with its own.
export SDBOX_ROOT=${SDBOX_ROOT:-$HOME/.cache/phyllome-sdbox}
X() { "$sdbox" exec "$@"; }
ctl() { X phyllomectl --no-ask-password "$@"; }
as_user() { # USER CMD...: a command of an unprivileged user in the box
	local user=$1
	shift
	X setpriv --reuid="$user" --regid="$user" --clear-groups "$@"
}
prop() { # MACHINE PROPERTY: a property of a machine, as busctl prints its value
	X busctl --system get-property org.phyllome.VM1 "/org/phyllome/VM1/machine/$1" org.phyllome.VM1.Machine "$2" |
		cut -d' ' -f2- | tr -d '"'
}
wait_state() { # MACHINE STATE SECONDS
	local deadline=$((SECONDS + $3))
	while [ "$(prop "$1" State)" != "$2" ]; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.1
	done
}
daemon_pid() { X systemctl show -P MainPID phyllomed.service; }
shown_failures=0
show_if_failed() { # FILE...: what the checks since the last call looked at, when one of them failed
	[ "$tap_failed" = "$shown_failures" ] || cat "$@" 2>&1 | tap_diag
	shown_failures=$tap_failed
}

stage=$SDBOX_ROOT/stage-$$

if [ ! -c /dev/kvm ]; then
	echo "1..0 # SKIP no /dev/kvm: the VMs of these tests need KVM"
	exit 0
fi
if ! "$sdbox" start > "$scratch/sdbox.log" 2>&1; then
	tap_not_ok "the systemd box boots"
	tap_diag < "$scratch/sdbox.log"
	tap_done
	exit 1
fi
trap '"$sdbox" stop > /dev/null 2>&1; rm -rf "$stage"; cleanup_scratch' EXIT
tap_ok "the systemd box boots (systemd, dbus-daemon, polkitd)"

# The host's PCI devices as phyllomed sees them (--sysfs): a fixture tree laid out
# as sysfs is, with attribute files and driver and IOMMU group links, made inside
# the box where phyllomed may write (its StateDirectory), as it writes to sysfs.
sysfs=/var/lib/phyllome/sysfs
# Firmware=uefi's code and variable store templates (the uefi checks below put them there).
fwdir=/var/lib/phyllome/test-firmware
cat > "$scratch/fixture.sh" << 'FIXTURE'
set -e
root=$1
device() { # ADDRESS VENDOR DEVICE CLASS DRIVER|- GROUP|-
	dir=$root/bus/pci/devices/$1
	mkdir -p "$dir"
	echo "$2" > "$dir/vendor"
	echo "$3" > "$dir/device"
	echo "$4" > "$dir/class"
	: > "$dir/driver_override"
	if [ "$5" != - ]; then
		mkdir -p "$root/bus/pci/drivers/$5"
		: > "$root/bus/pci/drivers/$5/unbind"
		ln -s "$root/bus/pci/drivers/$5" "$dir/driver"
	fi
	if [ "$6" != - ]; then
		mkdir -p "$root/kernel/iommu_groups/$6/devices"
		ln -s "$root/kernel/iommu_groups/$6" "$dir/iommu_group"
		ln -s "$dir" "$root/kernel/iommu_groups/$6/devices/$1"
	fi
}
device 0000:00:00.0 0x1b36 0x0008 0x060000 - 0
device 0000:00:04.0 0x1b36 0x000d 0x0c0330 xhci_hcd 7
device 0000:00:04.1 0x1b36 0x000d 0x0c0330 vfio-pci 7
device 0000:01:00.0 0x1b36 0x0010 0x010802 - -
device 0000:00:05.0 0x1b36 0x0010 0x010802 - 8
device 0000:00:05.1 0x8086 0x293e 0x040300 snd_hda_intel 8
mkdir -p "$root/bus/pci/drivers/vfio-pci"
: > "$root/bus/pci/drivers/vfio-pci/unbind"
: > "$root/bus/pci/drivers_probe"
chmod -R a+rX "$root"
FIXTURE
if "$here/box-stage.sh" "$build" "$stage" > "$scratch/install.log" 2>&1 &&
	cp "$scratch/fixture.sh" "$stage/fixture.sh" && chmod a+r "$stage/fixture.sh" &&
	X sh "$stage/fixture.sh" "$sysfs" >> "$scratch/install.log" 2>&1 &&
	X "$stage/box-install.sh" --stop-timeout=20 "--sysfs=$sysfs" "--firmware-dir=$fwdir" >> "$scratch/install.log" 2>&1; then
	tap_ok "phyllome installs into the box (units, bus policy, polkit actions, tmpfiles)"
else
	tap_not_ok "phyllome installs into the box (units, bus policy, polkit actions, tmpfiles)"
	tap_diag < "$scratch/install.log"
fi
X useradd --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin --user-group alice
X useradd --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin --user-group bob
# Neither user has an active session, so polkit's defaults would challenge both;
# this rule lets alice operate her own VMs (the allow_active case of a desktop user)
# and, as an administrator's rule would, give host devices to machines.
X sh -c 'cat > /etc/polkit-1/rules.d/50-phyllome-test.rules' << 'RULES'
polkit.addRule(function(action, subject) {
	if (action.id == "org.phyllome.vm1.manage-own" && subject.user == "alice")
		return polkit.Result.YES;
	if (action.id == "org.phyllome.vm1.passthrough" && subject.user == "alice" &&
	    action.lookup("device") == "0000:01:00.0" && action.lookup("product") == "QEMU NVM Express Controller")
		return polkit.Result.YES;
});
RULES
X chmod 644 /etc/polkit-1/rules.d/50-phyllome-test.rules

# The guest program where every user may read it: machines with an Owner get
# their files opened as that owner, and the stage below /root is root's alone.
X install -D -m 644 "$stage/tinyguest.bzImage" /var/lib/phyllome/images/tinyguest.bzImage
tiny=/var/lib/phyllome/images/tinyguest.bzImage
ctl create t1 --kernel "$tiny" --cmdline "test=powerbutton" --memory 64M > "$scratch/create.out" 2>&1
check "create: a machine is defined by D-Bus activation of phyllomed" [ $? = 0 ]
check "create: its definition file is written" X grep -q "^Kernel=$tiny" /etc/phyllome/machines/t1.conf
list_has() { ctl --no-legend list | grep -Eq "$1"; }
check "list: shows the machine stopped" list_has '^t1 +stopped +1 +64M +root'
# KVM runs the host's architecture only: the machine says which; another is refused by name.
ctl status t1 > "$scratch/t1-status.out" 2>&1
check "create: the machine's Architecture is the host's; status and its definition say so" \
	eval 'expect_eq "$(prop t1 Architecture)" "$(uname -m)" && grep -q "Arch: $(uname -m)" "$scratch/t1-status.out" &&
		X grep -q "^Architecture=$(uname -m)" /etc/phyllome/machines/t1.conf'
show_if_failed "$scratch/t1-status.out"
other_arch=aarch64
[ "$(uname -m)" = aarch64 ] && other_arch=x86_64
ctl create foreign --kernel "$tiny" --architecture $other_arch > "$scratch/foreign.out" 2>&1
foreign_status=$?
X gdbus call --system --dest org.phyllome.VM1 --object-path /org/phyllome/VM1 \
	--method org.phyllome.VM1.Manager.CreateMachine foreign "{'kernel': <'$tiny'>, 'architecture': <'$other_arch'>}" \
	>> "$scratch/foreign.out" 2>&1
check "create: a machine for another architecture is refused (WrongArchitecture), nothing written" \
	eval '[ $foreign_status != 0 ] && grep -q "is an $other_arch machine; this host runs $(uname -m) machines only" "$scratch/foreign.out" &&
		grep -q "org.phyllome.VM1.Error.WrongArchitecture" "$scratch/foreign.out" && ! X test -e /etc/phyllome/machines/foreign.conf'
show_if_failed "$scratch/foreign.out"


ctl start t1 > "$scratch/start.out" 2>&1
check "start: replies once the machine runs" expect_eq "$(prop t1 State)" running
if [ "$(prop t1 State)" != running ]; then
	{
		cat "$scratch/start.out"
		ctl status t1
		X journalctl --no-pager -n 40
	} 2>&1 | tap_diag
fi
leader=$(prop t1 Leader)
# (phyllomed's default range of monitor ids, daemon/monitor-ids.h.)
first_id=2046820352 last_id=2046885887
monitor_ids() { # PID: "UID GID GROUPS" of a process, as its status says (real ids)
	X awk '$1 == "Uid:" { u = $2 } $1 == "Gid:" { g = $2 } $1 == "Groups:" { n = NF - 1 } END { print u, g, n }' "/proc/$1/status"
}
own_id() { # PID: it runs as an id of its own from the range, the same number as uid and gid, no groups
	local ids
	read -r -a ids <<< "$(monitor_ids "$1")"
	[ "${ids[0]}" -ge $first_id ] && [ "${ids[0]}" -le $last_id ] && [ "${ids[1]}" = "${ids[0]}" ] && [ "${ids[2]}" = 0 ] &&
		return 0
	echo "monitor $1 runs as uid/gid/groups ${ids[*]}" | tap_diag
	return 1
}
check "start: the monitor runs as an unprivileged id of its own (uid = gid, from phyllomed's range, no groups)" \
	own_id "$leader"
confined() { # PID: no capabilities, no_new_privs, every thread under its seccomp allow-list
	local pid=$1 modes
	# (Threads the kernel's KVM adds to the process, kvm-nx-lpage-re, are not the monitor's.)
	modes=$(X sh -c 'for t in /proc/$0/task/*; do grep -qx "kvm-.*" $t/comm || cat $t/status; done' "$pid" |
		awk '$1 == "Seccomp:" { print $2 }' | sort -u | tr '\n' ' ')
	expect_eq "$(X awk '$1 ~ /^(CapEff|CapPrm|NoNewPrivs):$/ { printf "%s ", $2 }' "/proc/$pid/status")$modes" \
		"0000000000000000 0000000000000000 1 2 "
}
check "start: the monitor is confined (no capabilities, no_new_privs, seccomp in every thread)" confined "$leader"
check "start: phyllomed made the console and control sockets, root's alone, and passed them" \
	expect_eq "$(X stat -c '%U %a' /run/phyllome/t1/console /run/phyllome/t1/control | tr '\n' ' ')" \
	"root 600 root 600 "
# The cgroup systemd placed a process in: the unified hierarchy's line (0::PATH) on
# cgroup v2, the name=systemd line on v1 (where there is one line per hierarchy).
systemd_cgroup() {
	X awk -F: '$2 == "name=systemd" { v1 = $3 } $1 == "0" && $2 == "" { v2 = $3 } END { print (v1 != "" ? v1 : v2) }' \
		"/proc/$1/cgroup" | sed -E 's|^.*(/phyllome\.slice/)|\1|'
}
check "start: the monitor is in phyllome-t1.scope in phyllome.slice" \
	expect_eq "$(X systemctl show -P Slice phyllome-t1.scope) $(X systemctl is-active phyllome-t1.scope) $(systemd_cgroup "$leader")" \
	"phyllome.slice active /phyllome.slice/phyllome-t1.scope"
X systemctl status -l --no-pager phyllome-t1.scope > "$scratch/scope.status" 2>&1
# (Its process list needs a cgroup view that a box inside the test-host VM may not have.)
check "start: systemctl status shows the scope running in phyllome.slice" \
	grep -q "CGroup: /phyllome.slice/phyllome-t1.scope" "$scratch/scope.status"
grep -q "CGroup: /phyllome.slice/phyllome-t1.scope" "$scratch/scope.status" || tap_diag < "$scratch/scope.status"
X machinectl list --no-legend > "$scratch/machinectl.out" 2>&1
check "start: machinectl lists the machine as a vm" grep -Eq "^t1 +vm +phyllome" "$scratch/machinectl.out"
second_start() {
	X busctl --system call org.phyllome.VM1 /org/phyllome/VM1/machine/t1 org.phyllome.VM1.Machine Start a{sv} 0 \
		> "$scratch/second.out" 2>&1
	grep -q 'is running already' "$scratch/second.out" && return 0
	tap_diag < "$scratch/second.out"
	return 1
}
check "start: a second start is refused with AlreadyRunning" second_start
timeout 5 "$sdbox" exec phyllomectl console t1 < /dev/null > "$scratch/console.out" 2>&1
check "console: OpenConsole shows the guest's marker" grep -q "TINY power button armed" "$scratch/console.out"
journal_has() { X journalctl --no-pager "$1" | grep -q "$2"; }

# A compromised monitor (what the test hooks named in Cmdline= act out) gains
# nothing over another machine's monitor or over the console's user.
ctl create fdpass --kernel "$tiny" --cmdline "test=powerbutton phyllome.test-hook=console-pass-fd" --memory 64M \
	> /dev/null 2>&1
ctl start fdpass > "$scratch/fdpass.out" 2>&1
fdpass=$(prop fdpass Leader)
check "ids: two running monitors have different ids, each of its own" \
	eval 'own_id "$fdpass" && [ "$(monitor_ids "$fdpass")" != "$(monitor_ids "$leader")" ]'
show_if_failed "$scratch/fdpass.out"
X /usr/bin/python3 "$stage/console-fds.py" --direct /run/phyllome/fdpass/console > "$scratch/fds-direct.out" 2>&1
X /usr/bin/python3 "$stage/console-fds.py" fdpass > "$scratch/fds-relayed.out" 2>&1
# (What makes the next check mean something: the hook does pass a descriptor.)
check "console: a monitor that passes a descriptor with its output passes it on a direct connection" \
	expect_eq "$(cat "$scratch/fds-direct.out")" "marker=yes fds=1"
check "console: through OpenConsole the user gets that output and no descriptor (phyllomed relays bytes)" \
	expect_eq "$(cat "$scratch/fds-relayed.out")" "marker=yes fds=0"
ctl kill fdpass > /dev/null 2>&1
ctl remove fdpass > /dev/null 2>&1
ctl create sig --kernel "$tiny" --cmdline "test=tick phyllome.test-hook=signal:$leader" --memory 64M > /dev/null 2>&1
ctl start sig > "$scratch/sig.out" 2>&1
wait_state sig failed 20
check "ids: a monitor that signals another machine's monitor dies of SIGSYS; the other runs on" \
	eval '[ "$(prop sig State)" = failed ] && [ "$(prop t1 State)/$(prop t1 Leader)" = "running/$leader" ] &&
		journal_has -tphyllome-vmm@sig "sandbox: the main thread made system call"'
{ cat "$scratch/sig.out"; X journalctl --no-pager -n 20 -tphyllome-vmm@sig; } > "$scratch/sig-journal.out" 2>&1
show_if_failed "$scratch/sig-journal.out"
ctl remove sig > /dev/null 2>&1


ctl stop t1 > "$scratch/stop.out" 2>&1
check "stop: the power button shuts the guest down, the reply comes when stopped" \
	expect_eq "$(prop t1 State)/$(prop t1 Result)/$(prop t1 ExitStatus)" "stopped/success/0"
check "stop: the scope is gone" expect_eq "$(X systemctl is-active phyllome-t1.scope)" inactive
check "stop: the monitor's log is in the journal as phyllome-vmm@t1" journal_has -tphyllome-vmm@t1 "guest powered off"
check "stop: the journal has the machine's lines with PHYLLOME_MACHINE" journal_has PHYLLOME_MACHINE=t1 'Stopped (success)' 
ctl logs t1 --lines 200 > "$scratch/logs.out" 2>&1
ctl logs nosuch > /dev/null 2>&1
logs_nosuch=$?
check "logs: the machine's journal, phyllomed's lines and the monitor's; no such machine: exit status 4" \
	eval 'grep -q "t1: Stopped (success)" "$scratch/logs.out" && grep -q "phyllome-vmm@t1.*guest powered off" "$scratch/logs.out" &&
		! grep -q "phyllome-vmm@t2" "$scratch/logs.out" && [ $logs_nosuch = 4 ]'
show_if_failed "$scratch/logs.out"

ctl create t2 --kernel "$tiny" --cmdline "test=ignore" --memory 64M > /dev/null 2>&1
ctl start t2 > /dev/null 2>&1
ctl stop --timeout 1 t2 > "$scratch/stop2.out" 2>&1
check "stop: a guest that ignores the power button is stopped after the timeout (Result timeout)" \
	expect_eq "$(prop t2 State)/$(prop t2 Result)" "stopped/timeout"
ctl start t2 > /dev/null 2>&1
ctl kill t2 > /dev/null 2>&1
check "kill: the monitor is killed at once" expect_eq "$(prop t2 State)/$(prop t2 Leader)" "stopped/0"

ctl start t1 > /dev/null 2>&1
old=$(prop t1 Leader)
ctl restart t1 > "$scratch/restart.out" 2>&1
new=$(prop t1 Leader)
check "restart: running again with a new monitor" expect_eq "$(prop t1 State)/$([ "$new" != "$old" ] && [ "$new" != 0 ] && echo new)" running/new

ctl pause t1 > "$scratch/pause.out" 2>&1
check "pause: the machine is paused (through the monitor's control channel)" expect_eq "$?/$(prop t1 State)" "0/paused"
[ "$(prop t1 State)" = paused ] || tap_diag < "$scratch/pause.out"
check "pause: the monitor says so too" \
	expect_eq "$(X /usr/bin/python3 "$stage/vmmctl.py" /run/phyllome/t1/control get State 2>&1)" paused
[ "$(prop t1 State)" = paused ] || X journalctl --no-pager -n 25 -o short-monotonic 2>&1 | tap_diag
ctl resume t1 > /dev/null 2>&1
check "resume: running again" expect_eq "$?/$(prop t1 State)" "0/running"
ctl pause t1 > /dev/null 2>&1
ctl stop t1 > "$scratch/stop-paused.out" 2>&1
check "stop of a paused machine: it resumes and the guest powers off cleanly" \
	expect_eq "$(prop t1 State)/$(prop t1 Result)/$(prop t1 ExitStatus)" "stopped/success/0"
ctl resume t1 > /dev/null 2>&1
check "resume of a stopped machine: NotRunning (exit status 1)" expect_eq "$?" 1
ctl start t1 > /dev/null 2>&1

leader=$(prop t1 Leader)
crashed() {
	[ "${leader:-0}" -gt 0 ] || { echo "no monitor to kill" | tap_diag; return 1; }
	X kill -KILL "$leader"
	wait_state t1 failed 1
}
check "crash: a monitor that dies unexpectedly makes the machine failed within a second" crashed
check "crash: Result says it was killed by a signal" expect_eq "$(prop t1 Result)" signal
check "crash: the journal says why" journal_has PHYLLOME_MACHINE=t1 'killed by signal' 

# A guest kernel panic, reported through pvpanic: failed, Result panic. The
# guest panics on a key, typed into its console once the machine runs.
ctl create t3 --kernel "$tiny" --cmdline "test=keypanic" --memory 64M > /dev/null 2>&1
ctl start t3 > "$scratch/t3.out" 2>&1
printf 'x' | timeout 10 "$sdbox" exec phyllomectl console t3 > "$scratch/t3-console.out" 2>&1
wait_state t3 failed 20
check "panic: a guest kernel panic makes the machine failed with Result panic" \
	expect_eq "$(prop t3 State)/$(prop t3 Result)/$(prop t3 ExitStatus)" "failed/panic/6"
check "panic: the journal says the guest kernel panicked" journal_has PHYLLOME_MACHINE=t3 'guest kernel panicked'
ctl remove t3 > /dev/null 2>&1

# Devices: phyllomed opens the disk image (root's alone), the tap (made for the
# machine) with /dev/vhost-net and /dev/vhost-vsock, and passes them: the
# unprivileged monitor holds them without ever having opened them.
X sh -c 'mkdir -p /var/lib/phyllome/images && truncate -s 8M /var/lib/phyllome/images/d1.img &&
	chmod 600 /var/lib/phyllome/images/d1.img'
net_args=() vsock_args=()
[ -c /dev/net/tun ] && net_args=(--net tap=ptest0,mac=52:54:00:00:00:42)
[ -c /dev/vhost-vsock ] && vsock_args=(--vsock-cid 4242)
ctl create d1 --kernel "$tiny" --cmdline "test=powerbutton" --memory 64M \
	--disk /var/lib/phyllome/images/d1.img,serial=d1 --disk "$tiny,readonly" "${net_args[@]}" "${vsock_args[@]}" \
	> "$scratch/d1-create.out" 2>&1
check "devices: a machine with disks, a NIC and vsock is defined" \
	expect_eq "$(prop d1 Disks)" "2 /var/lib/phyllome/images/d1.img,serial=d1 $tiny,readonly"
ctl start d1 > "$scratch/d1-start.out" 2>&1
check "devices: it starts" expect_eq "$(prop d1 State)" running
[ "$(prop d1 State)" = running ] || { cat "$scratch/d1-create.out" "$scratch/d1-start.out"; X journalctl --no-pager -n 30; } 2>&1 | tap_diag
d1=$(prop d1 Leader)
argv_has() { # TEXT: the monitor's command line has it (what phyllomed passed, and how)
	X cat "/proc/$d1/cmdline" | tr '\0' ' ' > "$scratch/d1-argv"
	grep -Fq -- "$1" "$scratch/d1-argv" && return 0
	{ echo "no '$1' in the monitor's command line:"; cat "$scratch/d1-argv"; } | tap_diag
	return 1
}
# The monitor runs unprivileged and may open no file at all: it has the image only through phyllomed.
check "devices: the root-only image reaches the monitor as a file descriptor (--disk=fd:N)" \
	eval 'argv_has "--disk=fd:" && argv_has ",serial=d1" && expect_eq "$(X stat -c %U:%a /var/lib/phyllome/images/d1.img)" root:600'
check "devices: the monitor has one virtio-blk per disk" \
	expect_eq "$(X /usr/bin/python3 "$stage/vmmctl.py" /run/phyllome/d1/control get Devices 2>&1 | grep -c virtio-blk)" 2
if [ ${#net_args[@]} -gt 0 ]; then
	check "devices: the tap ptest0 exists while the machine runs, passed with vhost-net as fds" \
		eval 'X ip link show ptest0 > /dev/null && argv_has "--net=fd=" && argv_has "mac=52:54:00:00:00:42" &&
			{ [ ! -c /dev/vhost-net ] || argv_has ",vhost-fd="; }'
	check "devices: the monitor has a virtio-net" \
		X sh -c "/usr/bin/python3 '$stage/vmmctl.py' /run/phyllome/d1/control get Devices | grep virtio-net > /dev/null"
else
	tap_skip "devices: the tap and vhost-net" "no /dev/net/tun here"
	tap_skip "devices: virtio-net" "no /dev/net/tun here"
fi
if [ ${#vsock_args[@]} -gt 0 ]; then
	check "devices: /dev/vhost-vsock is passed and the monitor has a virtio-vsock" \
		eval 'argv_has "--vsock=cid=4242,vhost-fd=" && X /usr/bin/python3 "$stage/vmmctl.py" /run/phyllome/d1/control get Devices | grep virtio-vsock > /dev/null'
else
	tap_skip "devices: vsock" "no /dev/vhost-vsock here"
fi
ctl status d1 > "$scratch/d1-status.out" 2>&1
check "devices: status lists the disks" grep -q "Disk: /var/lib/phyllome/images/d1.img,serial=d1" "$scratch/d1-status.out"
ctl stop d1 > /dev/null 2>&1
check "devices: it stops cleanly" expect_eq "$(prop d1 State)/$(prop d1 Result)" stopped/success
if [ ${#net_args[@]} -gt 0 ]; then
	check "devices: the tap went with the monitor" eval '! X ip link show ptest0 > /dev/null 2>&1'
fi
# Only one machine may have a tap or a vsock CID; a persistent tap made for another
# user is not attached to a machine that is not hers.
if [ ${#net_args[@]} -gt 0 ] && [ ${#vsock_args[@]} -gt 0 ]; then
	ctl create d4 --kernel "$tiny" --memory 64M --net tap=ptest0 > "$scratch/d4.out" 2>&1
	st_tap=$?
	ctl create d5 --kernel "$tiny" --memory 64M --vsock-cid 4242 > "$scratch/d5.out" 2>&1
	st_vsock=$?
	check "devices: a second machine with d1's tap or vsock CID is refused at create" \
		eval '[ $st_tap != 0 ] && [ $st_vsock != 0 ] && grep -q "tap ptest0 is taken by machine .d1." "$scratch/d4.out" &&
			grep -q "VSockCID 4242 is taken by machine .d1." "$scratch/d5.out"'
	show_if_failed "$scratch/d4.out" "$scratch/d5.out"
	foreign_tap() { # TAP user|group MESSAGE: root's machine on a tap made for bob fails to start, saying MESSAGE
		local tap=$1 # (its machine: x$tap; a "-" in a name is escaped in object paths)
		X ip tuntap add dev "$tap" mode tap "$2" bob
		ctl create "x$tap" --kernel "$tiny" --memory 64M --net "tap=$tap" > /dev/null 2>&1
		ctl start "x$tap" > "$scratch/$tap.out" 2>&1
		[ "$(prop "x$tap" State)" = failed ] && grep -q "$3" "$scratch/$tap.out"
		local status=$?
		[ $status = 0 ] || tap_diag < "$scratch/$tap.out"
		X ip link del "$tap"
		ctl remove "x$tap" > /dev/null 2>&1
		return $status
	}
	check "devices: bob's persistent tap is not attached to root's machine: the start fails and says why" \
		foreign_tap pbob user "The tap pbob belongs to uid $(X id -u bob)"
	check "devices: a persistent tap made for bob's group is not attached to a machine whose owner is not in it" \
		foreign_tap pbobs group "The tap pbobs belongs to gid $(X id -g bob), which the machine.s owner (uid 0) is not in"
else
	tap_skip "devices: a second machine with d1's tap or vsock CID is refused at create" "no /dev/net/tun or /dev/vhost-vsock here"
	tap_skip "devices: bob's persistent tap is not attached to root's machine" "no /dev/net/tun here"
	tap_skip "devices: a persistent tap made for bob's group is not attached to another's machine" "no /dev/net/tun here"
fi
ctl create d2 --kernel "$tiny" --memory 64M --disk /var/lib/phyllome/images/missing.img > /dev/null 2>&1
ctl start d2 > "$scratch/d2-start.out" 2>&1
check "devices: a missing disk image fails the start with a clear message, nothing runs" \
	eval 'grep -q "Cannot open disk image /var/lib/phyllome/images/missing.img: No such file" "$scratch/d2-start.out" &&
		expect_eq "$(prop d2 Leader)" 0'
grep -q "Cannot open disk image" "$scratch/d2-start.out" || tap_diag < "$scratch/d2-start.out"
ctl create d3 --kernel "$tiny" --memory 64M --disk relative.img,bogus > "$scratch/d3.out" 2>&1
check "devices: a disk with an unknown option is refused at create" grep -q "unknown option" "$scratch/d3.out"
ctl remove d1 > /dev/null 2>&1
ctl remove d2 > /dev/null 2>&1

# Firmware=uefi: the firmware's code from phyllomed's --firmware-dir (here the tiny
# firmware stands where Debian's OVMF is; the uefi suite boots OVMF itself), and a
# variable store of the machine's own, made at its first start from the template
# its SecureBoot= names. The templates differ at 0x100, so that a check can tell
# which one a store was made from; the 'W' at 0x10 keeps the firmware running
# until the power button, as an OS would.
uefi_checks() {
	local store=/var/lib/phyllome/nvram/uefi1.fd uuid leader
	X install -D -m 644 "$stage/tinyfirmware.bin" "$fwdir/OVMF_CODE_4M.fd"
	X /usr/bin/python3 -c 'import sys
for name, marker in (("OVMF_VARS_4M.fd", b"PLAIN"), ("OVMF_VARS_4M.ms.fd", b"MSKEYS")):
	d = bytearray(65536); d[0x10] = ord("W"); d[0x100:0x100 + len(marker)] = marker
	open(sys.argv[1] + "/" + name, "wb").write(d)' "$fwdir"
	store_is() { # FILE EXPECTED: "OWNER MODE SIZE byte0 MARKER [byte 0x200]" of a store
		expect_eq "$(X /usr/bin/python3 -c '
import os, sys
st = os.stat(sys.argv[1])
d = open(sys.argv[1], "rb").read()
print(st.st_uid, oct(st.st_mode & 0o7777)[2:], st.st_size, "%02x" % d[0], d[0x100:0x108].rstrip(b"\0").decode(),
	chr(d[0x200]) if d[0x200] else "-")' "$1" 2>&1)" "$2"
	}
	ctl create uefi1 --secure-boot --memory 64M --owner alice --disk "$tiny,readonly" > "$scratch/uefi1.out" 2>&1
	uuid=$(prop uefi1 UUID)
	check "uefi: create without --kernel defines a Firmware=uefi machine with Secure Boot and a UUID of its own" \
		eval 'expect_eq "$(prop uefi1 Firmware)/$(prop uefi1 SecureBoot)/$(prop uefi1 Kernel)" "uefi/true/" &&
			[[ $uuid =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]] &&
			X grep -qx "UUID=$uuid" /etc/phyllome/machines/uefi1.conf &&
			X grep -qx "SecureBoot=yes" /etc/phyllome/machines/uefi1.conf &&
			! X grep -q "^Kernel=" /etc/phyllome/machines/uefi1.conf && X test ! -e $store'
	show_if_failed "$scratch/uefi1.out"
	# A UEFI machine's screen is virtio-gpu unless it says otherwise; Resolution= is its first mode.
	ctl set uefi1 Resolution=1920x1080 > "$scratch/uefi1-gpu.out" 2>&1
	ctl start uefi1 >> "$scratch/uefi1-gpu.out" 2>&1
	X cat "/proc/$(prop uefi1 Leader)/cmdline" 2> /dev/null | tr '\0' ' ' > "$scratch/uefi1-gpu-argv"
	ctl stop uefi1 >> "$scratch/uefi1-gpu.out" 2>&1
	check "uefi: Display defaults to virtio-gpu, started with the Resolution= it was set to" \
		eval 'expect_eq "$(prop uefi1 Display) $(prop uefi1 Resolution)" "virtio-gpu 1920x1080" &&
			grep -q -- "--display=virtio-gpu --resolution=1920x1080" "$scratch/uefi1-gpu-argv"'
	show_if_failed "$scratch/uefi1-gpu.out" "$scratch/uefi1-gpu-argv"
	ctl set uefi1 Display=bochs > "$scratch/uefi1-bochs.out" 2>&1
	local bochs_refused=$?
	ctl set uefi1 Resolution= Display=bochs >> "$scratch/uefi1-bochs.out" 2>&1
	check "uefi: Resolution= is virtio-gpu's: Display=bochs beside it is refused, and taken once it goes" \
		eval '[ $bochs_refused = 1 ] && grep -q "Resolution=1920x1080: is virtio-gpu.s first mode: needs Display=virtio-gpu" "$scratch/uefi1-bochs.out" &&
			expect_eq "$(prop uefi1 Display)/$(prop uefi1 Resolution)" "bochs/"'
	show_if_failed "$scratch/uefi1-bochs.out"
	ctl start uefi1 > "$scratch/uefi1-start.out" 2>&1
	leader=$(prop uefi1 Leader)
	X cat "/proc/$leader/cmdline" 2> /dev/null | tr '\0' ' ' > "$scratch/uefi1-argv"
	check "uefi: it starts on the firmware, its store and its UUID, passed as fds, with a display; no kernel, no command line" \
		eval 'expect_eq "$(prop uefi1 State)" running && grep -q -- "--firmware=fd:[0-9]* --nvram=fd:[0-9]* --uuid=$uuid " "$scratch/uefi1-argv" &&
			grep -q -- "--display=bochs" "$scratch/uefi1-argv" && expect_eq "$(prop uefi1 Display)" bochs &&
			! grep -Eq -- "--kernel|--cmdline" "$scratch/uefi1-argv"'
	show_if_failed "$scratch/uefi1-start.out" "$scratch/uefi1-argv"
	timeout 5 "$sdbox" exec phyllomectl console uefi1 < /dev/null > "$scratch/uefi1-console.out" 2>&1
	check "uefi: the firmware found its flash, wrote to it and waits" \
		grep -q "TINYFW waiting for the power button" "$scratch/uefi1-console.out"
	show_if_failed "$scratch/uefi1-console.out"
	check "uefi: the store was made from the Secure Boot template, root's alone (0600, in a 0700 directory), and holds what the firmware wrote" \
		eval 'store_is $store "0 600 65536 5a MSKEYS -" && expect_eq "$(X stat -c "%u %a" /var/lib/phyllome/nvram)" "0 700"'
	check "uefi: machined knows the machine by its UUID" \
		expect_eq "$(X machinectl show -p Id --value uefi1 2>&1)" "${uuid//-/}"
	# The firmware drew a 64x48 orange picture: its owner gets it as a PNG; bob gets nothing.
	png_is() { # FILE EXPECTED: "WxH" and the set of its colours, as the box's python reads the file
		expect_eq "$(X /usr/bin/python3 -c '
import struct, sys, zlib
d = open(sys.argv[1], "rb").read()
w, h = struct.unpack(">II", d[16:24])
at, idat = 8, b""
while at < len(d):
	n, kind = struct.unpack(">I4s", d[at:at + 8])
	idat += d[at + 8:at + 8 + n] if kind == b"IDAT" else b""
	at += 12 + n
raw = zlib.decompress(idat)
rows = [raw[y * (1 + 3 * w) + 1:(y + 1) * (1 + 3 * w)] for y in range(h)]
print(f"{w}x{h}", sorted({r[x:x + 3].hex() for r in rows for x in range(0, 3 * w, 3)}))' "$1" 2>&1)" "$2"
	}
	local orange="64x48 ['ff8000']"
	as_user alice phyllomectl --no-ask-password screenshot uefi1 /tmp/alice.png > "$scratch/shot-alice.out" 2>&1
	local shot_alice=$?
	as_user bob phyllomectl --no-ask-password screenshot uefi1 /tmp/bob.png > "$scratch/shot-bob.out" 2>&1
	local shot_bob=$?
	check "screenshot: the owner gets what the display shows as a PNG (the firmware's 64x48 orange)" \
		eval '[ $shot_alice = 0 ] && png_is /tmp/alice.png "$orange"'
	show_if_failed "$scratch/shot-alice.out"
	check "screenshot: another user is denied (exit status 5) and left no file" \
		eval '[ $shot_bob = 5 ] && X test ! -e /tmp/bob.png'
	show_if_failed "$scratch/shot-bob.out"
	# OpenDisplay: the owner gets a socket on which the monitor serves its display channel
	# alone; the picture comes to a listener as a sealed memfd. bob is denied.
	open_display() { # USER: OpenDisplay as USER, then the display client on the descriptor
		as_user "$1" /usr/bin/python3 -c '
import dbus, os, sys
bus = dbus.SystemBus()
m = bus.get_object("org.phyllome.VM1", "/org/phyllome/VM1/machine/uefi1")
try:
	fd = m.OpenDisplay({}, dbus_interface="org.phyllome.VM1.Machine").take()
except dbus.exceptions.DBusException as e:
	print(e.get_dbus_name(), e.get_dbus_message())
	sys.exit(1)
os.dup2(fd, 3)
os.execv(sys.argv[1], [sys.argv[1], "fd:3"] + sys.argv[2:])' /usr/local/libexec/phyllome-test/display-client "${@:2}"
	}
	open_display alice watch 20 20 ff8000 30 > "$scratch/display-alice.out" 2>&1
	check "OpenDisplay: the owner gets the display channel; a listener on it gets the firmware's picture" \
		grep -q "^pixel 20,20 is ff8000$" "$scratch/display-alice.out"
	show_if_failed "$scratch/display-alice.out"
	open_display alice call VMM1.Quit > "$scratch/display-quit.out" 2>&1
	check "OpenDisplay: the owner's socket reaches the display alone, not the monitor's power" \
		eval 'grep -qE "Unknown(Object|Interface|Method)" "$scratch/display-quit.out" && expect_eq "$(prop uefi1 State)" running'
	show_if_failed "$scratch/display-quit.out"
	open_display bob call KeyPress u 30 > "$scratch/display-bob.out" 2>&1
	check "OpenDisplay: another user is denied" \
		grep -q "^org.phyllome.VM1.Error.NotAuthorized" "$scratch/display-bob.out"
	show_if_failed "$scratch/display-bob.out"
	# phyllomectl view hands the name to the viewer (a stand-in that prints its arguments here).
	X env PHYLLOME_VIEWER=/bin/echo phyllomectl view uefi1 > "$scratch/view.out" 2>&1
	X env PHYLLOME_VIEWER=/bin/echo phyllomectl view nosuch > "$scratch/view-nosuch.out" 2>&1
	local view_nosuch=$?
	check "phyllomectl view starts the viewer on the machine; a machine that does not exist is an error (4)" \
		eval 'expect_eq "$(cat "$scratch/view.out")" "-- uefi1" && [ $view_nosuch = 4 ]'
	show_if_failed "$scratch/view.out" "$scratch/view-nosuch.out"
	# A descriptor the monitor could read from is not passed on to it.
	X /usr/bin/python3 -c '
import dbus, os
bus = dbus.SystemBus()
m = bus.get_object("org.phyllome.VM1", "/org/phyllome/VM1/machine/uefi1")
fd = os.open("/tmp/readable.png", os.O_RDWR | os.O_CREAT, 0o600)
try:
	m.Screenshot(dbus.types.UnixFd(fd), {}, dbus_interface="org.phyllome.VM1.Machine")
	print("accepted")
except dbus.exceptions.DBusException as e:
	print(e.get_dbus_name(), e.get_dbus_message())' > "$scratch/shot-rw.out" 2>&1
	check "screenshot: a descriptor open for reading too is refused before the monitor sees it" \
		eval 'grep -q "org.phyllome.VM1.Error.InvalidArgument Screenshot writes to a regular file open for writing only" "$scratch/shot-rw.out" &&
			expect_eq "$(X stat -c %s /tmp/readable.png)" 0'
	show_if_failed "$scratch/shot-rw.out"
	ctl status uefi1 > "$scratch/uefi1-status.out" 2>&1
	check "uefi: status shows the firmware and the UUID" \
		eval 'grep -q "Firmware: UEFI, Secure Boot on" "$scratch/uefi1-status.out" && grep -q "UUID: $uuid" "$scratch/uefi1-status.out"'
	show_if_failed "$scratch/uefi1-status.out"
	check "uefi: the store is not the owner's to read: only the VM reaches it" \
		eval '! as_user alice cat $store > /dev/null 2>&1'
	ctl stop uefi1 > "$scratch/uefi1-stop.out" 2>&1
	check "uefi: stop: the firmware takes the power button's interrupt and powers off" \
		expect_eq "$(prop uefi1 State)/$(prop uefi1 Result)" "stopped/success"
	show_if_failed "$scratch/uefi1-stop.out"
	# What the guest wrote stays: the next start uses the store as it is.
	X /usr/bin/python3 -c 'import sys
f = open(sys.argv[1], "r+b"); f.seek(0x200); f.write(b"K")' $store
	ctl start uefi1 > /dev/null 2>&1
	ctl stop uefi1 > /dev/null 2>&1
	check "uefi: the next start keeps the store (not made again)" \
		eval 'store_is $store "0 600 65536 5a MSKEYS K" && expect_eq "$(X journalctl --no-pager -o cat PHYLLOME_MACHINE=uefi1 | grep -c "Made its UEFI variable store")" 1'
	ctl set uefi1 SecureBoot=no > "$scratch/uefi1-set.out" 2>&1
	check "uefi: set SecureBoot=no discards the store; the next start makes one from the other template" \
		eval 'X test ! -e $store && ctl start uefi1 > /dev/null 2>&1 && store_is $store "0 600 65536 5a PLAIN -" &&
			ctl stop uefi1 > /dev/null 2>&1'
	show_if_failed "$scratch/uefi1-set.out"
	ctl set uefi1 Display=none > "$scratch/shot-none.out" 2>&1
	ctl start uefi1 >> "$scratch/shot-none.out" 2>&1
	ctl screenshot uefi1 /tmp/none.png >> "$scratch/shot-none.out" 2>&1
	local shot_none=$?
	X journalctl --no-pager -n 40 > "$scratch/shot-none.journal" 2>&1
	ctl stop uefi1 > /dev/null 2>&1
	check "screenshot: a machine with Display=none has none to show (exit status 1, the monitor says why)" \
		eval '[ $shot_none = 1 ] && grep -q "The VM has no display" "$scratch/shot-none.out" && X test ! -e /tmp/none.png'
	show_if_failed "$scratch/shot-none.out" "$scratch/shot-none.journal"

	ctl create uefi2 --firmware uefi --kernel "$tiny" --memory 64M > "$scratch/uefi-bad1.out" 2>&1
	local st1=$?
	ctl create uefi2 --kernel "$tiny" --secure-boot --memory 64M > "$scratch/uefi-bad2.out" 2>&1
	local st2=$?
	ctl create uefi2 --uuid "$uuid" --memory 64M > "$scratch/uefi-bad3.out" 2>&1
	local st3=$?
	ctl create uefi2 --uuid not-a-uuid --memory 64M > "$scratch/uefi-bad4.out" 2>&1
	local st4=$?
	check "uefi: create refuses a kernel with Firmware=uefi, Secure Boot without it, another machine's UUID, a bad UUID" \
		eval '[ "$st1$st2$st3$st4" = 1111 ] &&
			grep -q "Firmware=uefi boots from the disks" "$scratch/uefi-bad1.out" &&
			grep -q "SecureBoot=yes: needs Firmware=uefi" "$scratch/uefi-bad2.out" &&
			grep -q "UUID $uuid is taken by machine .uefi1." "$scratch/uefi-bad3.out" &&
			grep -q "uuid must be a UUID" "$scratch/uefi-bad4.out" && ! list_has "^uefi2 "'
	show_if_failed "$scratch"/uefi-bad*.out
	ctl create uefi3 --secure-boot --memory 64M > /dev/null 2>&1
	X mv "$fwdir/OVMF_VARS_4M.ms.fd" "$fwdir/away.fd"
	ctl start uefi3 > "$scratch/uefi3.out" 2>&1
	X mv "$fwdir/away.fd" "$fwdir/OVMF_VARS_4M.ms.fd"
	check "uefi: a missing template fails the start and says which; no store is left half made" \
		eval 'grep -q "Cannot open the UEFI variable store template $fwdir/OVMF_VARS_4M.ms.fd: No such file" "$scratch/uefi3.out" &&
			expect_eq "$(prop uefi3 Leader)" 0 && [ -z "$(X ls -A /var/lib/phyllome/nvram | grep uefi3)" ]'
	show_if_failed "$scratch/uefi3.out"
	ctl remove uefi3 > /dev/null 2>&1
	ctl remove uefi1 > /dev/null 2>&1
	check "uefi: remove takes the store with the definition" X test ! -e $store
	# A store left behind (its definition deleted by hand) is not a new machine's of that name.
	X sh -c 'head -c 65536 /dev/zero > /var/lib/phyllome/nvram/uefi4.fd'
	ctl create uefi4 --memory 64M > /dev/null 2>&1
	check "uefi: a new machine does not inherit a store an old one of its name left" \
		X test ! -e /var/lib/phyllome/nvram/uefi4.fd
	ctl remove uefi4 > /dev/null 2>&1
}
if [ -d /sys/module/kvm_pvm ]; then
	tap_skip "uefi: Firmware=uefi machines" "this host's KVM is kvm_pvm, which has no real mode for a reset vector"
else
	uefi_checks
fi

# Supervision survives the daemon, and a paused machine is adopted as paused.
ctl start t1 > /dev/null 2>&1
ctl start t2 > /dev/null 2>&1
ctl pause t1 > /dev/null 2>&1
l1=$(prop t1 Leader) l2=$(prop t2 Leader) old_daemon=$(daemon_pid)
X systemctl kill -s KILL phyllomed.service
deadline=$((SECONDS + 20))
while [ "$(daemon_pid)" = "$old_daemon" ] || [ "$(daemon_pid)" = 0 ]; do
	[ $SECONDS -lt $deadline ] || break
	sleep 0.1
done
new_daemon=$(daemon_pid)
check "daemon SIGKILL: systemd restarts phyllomed" expect_eq "$([ "$new_daemon" != "$old_daemon" ] && [ "$new_daemon" != 0 ] && echo restarted)" restarted
wait_state t1 paused 10
check "daemon SIGKILL: both VMs kept running and are adopted, the paused one as paused" \
	expect_eq "$(prop t1 State)/$(prop t1 Leader) $(prop t2 State)/$(prop t2 Leader)" "paused/$l1 running/$l2"
ctl stop t1 > /dev/null 2>&1
st1=$?
ctl kill t2 > /dev/null 2>&1
check "daemon SIGKILL: the new daemon stops the adopted VMs" \
	expect_eq "$st1 $(prop t1 State)/$(prop t1 Result) $(prop t2 State)" "0 stopped/success stopped"

# The runtime directory is root's: a monitor's id (what a compromised monitor
# runs as) cannot plant a state file or swap a socket for a symlink there.
ctl start t1 > /dev/null 2>&1
check "runtime directory: root's alone (0700) while the machine runs" \
	expect_eq "$(X stat -c '%U %a' /run/phyllome/t1)" "root 700"
t1_id=$(monitor_ids "$(prop t1 Leader)" | cut -d' ' -f1)
X setpriv --reuid="$t1_id" --regid="$t1_id" --clear-groups sh -c \
	'echo "[Monitor]" > /run/phyllome/t1/state.new || ln -sf /run/dbus/system_bus_socket /run/phyllome/t1/console' \
	> "$scratch/plant.out" 2>&1
st_plant=$?
check "runtime directory: the monitor's id can neither plant a file nor swap the console socket" \
	eval '[ $st_plant != 0 ] && X test ! -e /run/phyllome/t1/state.new && X test -S /run/phyllome/t1/console'
show_if_failed "$scratch/plant.out"
ctl kill t1 > /dev/null 2>&1
# A state file that names another unit (here dbus-daemon's, as one planted by the
# monitors' user before the directory was root's would) makes phyllomed adopt
# nothing, and a Moved entry that is no device granted to the machine is ignored.
bus_pid=$(X systemctl show -P MainPID dbus.service)
bus_start=$(X awk '{ print $22 }' "/proc/$bus_pid/stat")
# (The first Moved entry leads from $sysfs/bus/pci/devices/ to /var/lib/phyllome/victim,
# whose driver_override an unchecked give-back would truncate.)
X sh -c 'mkdir -p /var/lib/phyllome/victim /run/phyllome/t2 && echo keep > /var/lib/phyllome/victim/driver_override &&
	printf "[Monitor]\nPID=%s\nStartTime=%s\nUnit=dbus.service\n[Devices]\nMoved=../../../../victim=x;0000:00:04.0=xhci_hcd;\n" \
	"$0" "$1" > /run/phyllome/t2/state' "$bus_pid" "$bus_start"
X systemctl restart phyllomed.service
check "planted runtime state: a state file naming another unit adopts nothing" \
	expect_eq "$(prop t2 State)/$(prop t2 Leader)" "stopped/0"
check "planted runtime state: dbus-daemon lives on, the file a Moved entry named is untouched" \
	eval '[ "$(X systemctl show -P MainPID dbus.service)" = "$bus_pid" ] && [ "$(X cat /var/lib/phyllome/victim/driver_override)" = keep ]'
check "planted runtime state: the journal says what was refused" \
	eval 'journal_has PHYLLOME_MACHINE=t2 "names the unit dbus.service, not phyllome-t2.scope" &&
		journal_has PHYLLOME_MACHINE=t2 "Ignoring .0000:00:04.0=xhci_hcd. in its runtime state"'

# A guest that reboots at once, again and again, is started again only so often.
# (test=tickreset: it runs a moment first, so each reboot is of a running machine.)
ctl create rl --kernel "$tiny" --cmdline "test=tickreset" --memory 64M > /dev/null 2>&1
ctl start rl > "$scratch/rl-start.out" 2>&1
wait_state rl failed 300
check "reboot loop: after 5 reboots within 60 s the machine fails with Result start-limit" \
	expect_eq "$(prop rl State)/$(prop rl Result)" "failed/start-limit"
check "reboot loop: StatusText and the journal say why" \
	eval 'grep -q "rebooted 5 times within 60 s" <<< "$(prop rl StatusText)" &&
		[ "$(X journalctl --no-pager PHYLLOME_MACHINE=rl | grep -c "The guest rebooted; starting it again")" = 4 ]'
show_if_failed "$scratch/rl-start.out"
ctl remove rl > /dev/null 2>&1

# polkit: alice may operate her own VM, bob may not.
ctl create alicevm --kernel "$tiny" --cmdline "test=powerbutton" --memory 64M --owner alice > /dev/null 2>&1
as_user alice phyllomectl --no-ask-password start alicevm > "$scratch/alice.out" 2>&1
check "polkit: the owner starts her own VM (manage-own)" expect_eq "$?/$(prop alicevm State)" "0/running"
as_user bob phyllomectl --no-ask-password stop alicevm > "$scratch/bob.out" 2>&1
check "polkit: another user is denied (exit status 5), the VM keeps running" \
	expect_eq "$?/$(prop alicevm State)" "5/running"
as_user bob gdbus call --system --dest org.phyllome.VM1 --object-path /org/phyllome/VM1/machine/alicevm \
	--method org.phyllome.VM1.Machine.Stop "{}" > "$scratch/bob.gdbus" 2>&1
check "polkit: the denial is the named error org.phyllome.VM1.Error.NotAuthorized" \
	grep -q "org.phyllome.VM1.Error.NotAuthorized" "$scratch/bob.gdbus"
grep -q "org.phyllome.VM1.Error.NotAuthorized" "$scratch/bob.gdbus" || tap_diag < "$scratch/bob.gdbus"
as_user bob phyllomectl --no-ask-password create bobvm --kernel "$tiny" > /dev/null 2>&1
check "polkit: an unprivileged user may not define machines" expect_eq "$?" 5

# A machine's owner reaches through it only what she could open herself.
ctl create shadowvm --kernel "$tiny" --initrd /etc/shadow --memory 64M --owner alice > /dev/null 2>&1
as_user alice phyllomectl --no-ask-password start shadowvm > "$scratch/shadow.out" 2>&1
check "files: /etc/shadow as the initrd of alice's machine is opened as alice, and refused" \
	eval '[ "$(prop shadowvm State)" = failed ] && grep -q "Cannot open /etc/shadow as the machine.s owner: Permission denied" "$scratch/shadow.out"'
show_if_failed "$scratch/shadow.out"
X sh -c 'mkdir -p /var/lib/phyllome/images/alice && chown alice:alice /var/lib/phyllome/images/alice &&
	truncate -s 1M /var/lib/phyllome/images/secret.img && chmod 600 /var/lib/phyllome/images/secret.img'
as_user alice ln -sf ../secret.img /var/lib/phyllome/images/alice/desktop.img
ctl create linkvm --kernel "$tiny" --memory 64M --owner alice --disk /var/lib/phyllome/images/alice/desktop.img \
	> /dev/null 2>&1
as_user alice phyllomectl --no-ask-password start linkvm > "$scratch/link.out" 2>&1
check "files: alice's link in her image folder to root's image does not reach it" \
	eval '[ "$(prop linkvm State)" = failed ] && grep -q "Cannot open disk image /var/lib/phyllome/images/alice/desktop.img as the machine.s owner: Permission denied" "$scratch/link.out"'
show_if_failed "$scratch/link.out"
X mkfifo /var/lib/phyllome/images/fifo
ctl create fifovm --kernel /var/lib/phyllome/images/fifo --memory 64M > /dev/null 2>&1
SECONDS_BEFORE=$SECONDS
timeout 30 "$sdbox" exec phyllomectl --no-ask-password start fifovm > "$scratch/fifo.out" 2>&1
check "files: a FIFO as the kernel is refused at once, and says what it is" \
	eval '[ $((SECONDS - SECONDS_BEFORE)) -lt 20 ] && grep -q "it is a FIFO, not a regular file" "$scratch/fifo.out" &&
		{ ctl status t1 > /dev/null 2>&1; [ $? != 1 ]; }'
show_if_failed "$scratch/fifo.out"
ctl remove shadowvm linkvm fifovm > /dev/null 2>&1
X rm -rf /var/lib/phyllome/images/alice /var/lib/phyllome/images/secret.img /var/lib/phyllome/images/fifo
as_user bob phyllomectl list > /dev/null 2>&1
check "polkit: reading needs no authorization" [ $? = 0 ]
as_user alice phyllomectl --no-ask-password stop alicevm > /dev/null 2>&1
check "polkit: the owner stops her own VM" expect_eq "$?/$(prop alicevm State)" "0/stopped"
# Her definition may carry an administrator's grants and Autostart=boot: removing it needs create.
as_user alice phyllomectl --no-ask-password remove alicevm > "$scratch/alice-remove.out" 2>&1
check "polkit: the owner may not remove the definition (create, the administrator's): exit status 5, it stays" \
	expect_eq "$?/$(X test -e /etc/phyllome/machines/alicevm.conf && echo kept)/$(prop alicevm Name)" "5/kept/alicevm"
show_if_failed "$scratch/alice-remove.out"

# set: a stopped machine's definition changed through phyllomed, checked as a whole.
ctl set t2 Memory=96M CPUs=2 "Cmdline=test=ignore quiet" > "$scratch/set.out" 2>&1
check "set: changes a stopped machine's definition, file and properties" \
	eval '[ "$(prop t2 MemoryBytes)/$(prop t2 VCPUs)/$(prop t2 Cmdline)" = "100663296/2/test=ignore quiet" ] &&
		X grep -qx "Memory=100663296" /etc/phyllome/machines/t2.conf'
show_if_failed "$scratch/set.out"
ctl set t2 CPUs=0 > "$scratch/set-bad.out" 2>&1
st_bad=$?
ctl set t2 Color=red > /dev/null 2>&1
st_key=$?
check "set: a value out of range is refused naming it, the definition kept; an unknown key is a usage error" \
	eval '[ $st_bad = 1 ] && grep -q "CPUs=0" "$scratch/set-bad.out" && X grep -qx "CPUs=2" /etc/phyllome/machines/t2.conf &&
		[ $st_key = 2 ]'
show_if_failed "$scratch/set-bad.out"
ctl set t2 "Networks=tap=ptaken" > /dev/null 2>&1
ctl create settap --kernel "$tiny" --memory 64M --net tap=pother > /dev/null 2>&1
ctl set settap "Networks=tap=ptaken" > "$scratch/set-tap.out" 2>&1
check "set: a tap another machine has is refused" grep -q "The tap ptaken is taken by machine .t2." "$scratch/set-tap.out"
show_if_failed "$scratch/set-tap.out"
ctl set t2 "Networks=" > /dev/null 2>&1
ctl remove settap > /dev/null 2>&1
as_user alice phyllomectl --no-ask-password set alicevm Memory=1G > "$scratch/set-alice.out" 2>&1
check "set: the owner may not change what her machine is (create, the administrator's): exit status 5" \
	expect_eq "$?/$(prop alicevm MemoryBytes)" "5/67108864"
ctl start t1 > /dev/null 2>&1
ctl set t1 CPUs=2 > "$scratch/set-running.out" 2>&1
check "set: a running machine's definition is not changed (stop it first)" \
	eval 'grep -q "is running; stop it first" "$scratch/set-running.out" && [ "$(prop t1 VCPUs)" = 1 ]'
ctl kill t1 > /dev/null 2>&1

. "$here/autostart.sh"

# The GNOME Shell extension's D-Bus model (its vmModel.js under gjs) against this phyllomed.
if command -v gjs > /dev/null; then
	X gjs "$stage/model-test.js" "$stage/phyllome@phyllome.org" t1 > "$scratch/model.out" 2>&1
	while read -r verdict what; do
		case $verdict in
		PASS) tap_ok "shell model: $what" ;;
		FAIL) tap_not_ok "shell model: $what" ;;
		esac
	done < "$scratch/model.out"
	check "shell model: the test ran to its end" grep -qx DONE "$scratch/model.out"
	show_if_failed "$scratch/model.out"
else
	tap_skip "shell model: vmModel.js against phyllomed" "gjs is not installed"
fi

# Bad input: named errors, and the daemon stays up.
pid_before=$(daemon_pid)
bad() { # DESCRIPTION ERROR-PATTERN busctl-args...
	local desc=$1 pattern=$2
	shift 2
	X busctl --system call org.phyllome.VM1 "$@" > "$scratch/bad.out" 2>&1
	check "bad input: $desc" grep -Eq "$pattern" "$scratch/bad.out"
	grep -Eq "$pattern" "$scratch/bad.out" || tap_diag < "$scratch/bad.out"
}
M=(/org/phyllome/VM1 org.phyllome.VM1.Manager)
bad "GetMachine of an unknown machine" "No machine named" "${M[@]}" GetMachine s nope
bad "GetMachine with ../ in the name" "No machine named" "${M[@]}" GetMachine s ../../etc/passwd
bad "CreateMachine with / in the name" "Invalid machine name" "${M[@]}" CreateMachine sa{sv} a/b 1 kernel s /k
bad "CreateMachine with .. as the name" "Invalid machine name" "${M[@]}" CreateMachine sa{sv} .. 1 kernel s /k
bad "CreateMachine with a 200-character name" "Invalid machine name" "${M[@]}" CreateMachine sa{sv} "$(head -c 200 /dev/zero | tr '\0' a)" 1 kernel s /k
bad "CreateMachine with cpus of the wrong type" "must be of type u" "${M[@]}" CreateMachine sa{sv} x 2 kernel s /k cpus s 2
bad "CreateMachine with 2^63 bytes of memory" "Memory=.*must be 16M to 1T" "${M[@]}" CreateMachine sa{sv} x 2 kernel s /k memory t 9223372036854775808
bad "CreateMachine with 100000 vCPUs" "CPUs=100000" "${M[@]}" CreateMachine sa{sv} x 2 kernel s /k cpus u 100000
bad "CreateMachine with an unknown key" "Unknown key" "${M[@]}" CreateMachine sa{sv} x 2 kernel s /k color s red
bad "CreateMachine with a relative kernel path" "absolute path" "${M[@]}" CreateMachine sa{sv} x 1 kernel s vmlinuz
bad "CreateMachine of an existing name" "exists already" "${M[@]}" CreateMachine sa{sv} t1 1 kernel s /k
bad "Start with an unknown option" "Unknown option" /org/phyllome/VM1/machine/t1 org.phyllome.VM1.Machine Start a{sv} 1 frob b true
bad "Stop with a huge timeout" "at most 86400" /org/phyllome/VM1/machine/t1 org.phyllome.VM1.Machine Stop a{sv} 1 timeout u 4294967295
bad "Start with the wrong signature" "InvalidArgs|Type of message" /org/phyllome/VM1/machine/t1 org.phyllome.VM1.Machine Start s hello
bad "Stop of a stopped machine" "is not running" /org/phyllome/VM1/machine/t1 org.phyllome.VM1.Machine Stop a{sv} 0
bad "OpenConsole of a stopped machine" "is not running" /org/phyllome/VM1/machine/t1 org.phyllome.VM1.Machine OpenConsole a{sv} 0
bad "GrantDevice of something that is no PCI address" "not a PCI address" /org/phyllome/VM1/machine/t1 org.phyllome.VM1.Machine GrantDevice sa{sv} ../../x 0
bad "GrantDevice with persistent of the wrong type" "must be of type b" /org/phyllome/VM1/machine/t1 org.phyllome.VM1.Machine GrantDevice sa{sv} 0000:01:00.0 1 persistent s yes
bad "RevokeDevice of a device not granted" "is not granted" /org/phyllome/VM1/machine/t1 org.phyllome.VM1.Machine RevokeDevice sa{sv} 0000:01:00.0 0
bad "Configure of Autostart (SetAutostart's)" "SetAutostart's to change" /org/phyllome/VM1/machine/t1 org.phyllome.VM1.Machine Configure a{sv}a{sv} 1 autostart s boot 0
bad "Configure with cpus of the wrong type" "must be of type u" /org/phyllome/VM1/machine/t1 org.phyllome.VM1.Machine Configure a{sv}a{sv} 1 cpus s 2 0
bad "SetAutostart to an unknown time" "must be no, boot or login" /org/phyllome/VM1/machine/t1 org.phyllome.VM1.Machine SetAutostart sa{sv} sometimes 0
bad "SetAutostart with a delay of the wrong type" "must be of type u" /org/phyllome/VM1/machine/t1 org.phyllome.VM1.Machine SetAutostart sa{sv} login 1 stop-on-logout-delay s 10
bad "SetAutostart with a delay of 10^9 s" "at most 86400" /org/phyllome/VM1/machine/t1 org.phyllome.VM1.Machine SetAutostart sa{sv} login 1 stop-on-logout-delay u 1000000000
X /usr/bin/python3 "$stage/sweep.py" > "$scratch/sweep.out" 2>&1
check "bad input: a sweep of malformed calls over every method of every object gets named errors only" \
	eval 'grep -Eq "^[1-9][0-9]* malformed calls, 0 without a named error$" "$scratch/sweep.out"'
show_if_failed "$scratch/sweep.out"
check "bad input: the daemon is still the same process" expect_eq "$(daemon_pid)" "$pid_before"

# A broken definition is reported and hides nothing else.
X sh -c 'printf "[Machine]\nKernel=/k\nCPUs=lots\n" > /etc/phyllome/machines/broken.conf'
X systemctl restart phyllomed.service
ctl --no-legend list > "$scratch/list.out" 2>&1
check "broken definition: listed as failed, the others still listed" \
	grep -Eq '^broken +failed' "$scratch/list.out"
check "broken definition: the good definitions are still listed" grep -Eq '^t1 +stopped' "$scratch/list.out"
check "broken definition: StatusText names the key and value" grep -q "CPUs=lots" <<< "$(prop broken StatusText)"
ctl start broken > "$scratch/broken.out" 2>&1
check "broken definition: Start says why" grep -q 'CPUs=lots' "$scratch/broken.out"

ctl --json list > "$scratch/list.json" 2>&1
check "list --json: valid JSON with every machine" python3 -c '
import json, sys
machines = {m["name"]: m for m in json.load(open(sys.argv[1]))}
assert set(machines) == {"alicevm", "broken", "t1", "t2"}, machines.keys()
assert machines["t1"]["state"] == "stopped" and machines["t1"]["memory_bytes"] == 64 << 20
' "$scratch/list.json"
ctl --json devices > "$scratch/devices.json" 2>&1
check "devices --json: the host's PCI devices, with pci.ids names, IOMMU groups and drivers" python3 -c '
import json, sys
devices = {d["address"]: d for d in json.load(open(sys.argv[1]))}
assert list(devices) == ["0000:00:00.0", "0000:00:04.0", "0000:00:04.1", "0000:00:05.0", "0000:00:05.1",
                         "0000:01:00.0"], list(devices)
usb = devices["0000:00:04.0"]
assert (usb["vendor_id"], usb["device_id"], usb["class"]) == (0x1b36, 0x000d, 0x0c0330), usb
assert (usb["vendor"], usb["product"]) == ("Red Hat, Inc.", "QEMU XHCI Host Controller"), usb
assert usb["iommu_group"] == "7" and usb["group_members"] == ["0000:00:04.0", "0000:00:04.1"], usb
assert usb["driver"] == "xhci_hcd" and devices["0000:00:04.1"]["driver"] == "vfio-pci", devices
assert devices["0000:01:00.0"]["iommu_group"] == "" and devices["0000:01:00.0"]["granted_to"] == ""
' "$scratch/devices.json"
show_if_failed "$scratch/devices.json"
as_user bob phyllomectl --no-ask-password devices > "$scratch/devices-bob.out" 2>&1
check "devices: any user may list them; a group with other members is marked" \
	grep -Eq '^0000:00:04\.0 +1b36:000d +7\+ +xhci_hcd +- +Red Hat, Inc\. QEMU XHCI Host Controller$' \
	"$scratch/devices-bob.out"
show_if_failed "$scratch/devices-bob.out"

# Grants: polkit's passthrough action (with the device's names in its details), a
# D-Bus object per grant, Devices= for persistent ones, one machine per device.
as_user alice phyllomectl --no-ask-password grant alicevm 01:00.0 --persistent > "$scratch/grant.out" 2>&1
check "grant: allowed by an administrator's polkit rule (device and product in the details)" \
	expect_eq "$?/$(prop alicevm Grants)" "0/1 0000:01:00.0"
[ "$(prop alicevm Grants)" = "1 0000:01:00.0" ] || tap_diag < "$scratch/grant.out"
gpath=/org/phyllome/VM1/machine/alicevm/grant/0000_01_00_0
gprop() { X busctl --system get-property org.phyllome.VM1 "$gpath" org.phyllome.VM1.Grant "$1" | cut -d' ' -f2- | tr -d '"'; }
check "grant: its object says device, persistence and the machine" \
	expect_eq "$(gprop Device) $(gprop Persistent) $(gprop Active) $(gprop Machine)" \
	"0000:01:00.0 true false /org/phyllome/VM1/machine/alicevm"
check "grant: a persistent one is in the definition (Devices=)" \
	X grep -qx "Devices=0000:01:00.0;" /etc/phyllome/machines/alicevm.conf
ctl --no-legend devices > "$scratch/grant-devices.out" 2>&1
ctl status alicevm > "$scratch/grant-status.out" 2>&1
check "grant: devices and status show it" eval \
	'grep -Eq "^0000:01:00\.0 .* alicevm " "$scratch/grant-devices.out" && grep -q "Host device: 0000:01:00.0" "$scratch/grant-status.out"'
show_if_failed "$scratch/grant-devices.out" "$scratch/grant-status.out"
as_user bob phyllomectl --no-ask-password grant t1 0000:00:04.0 > "$scratch/grant-bob.out" 2>&1
check "grant: an unprivileged user is denied (exit status 5), nothing granted" \
	expect_eq "$?/$(prop t1 Grants)" "5/0"
ctl grant t1 0000:01:00.0 > "$scratch/grant-busy.out" 2>&1
check "grant: a device granted to another machine is refused, naming it" \
	eval 'grep -q "granted to machine .alicevm." "$scratch/grant-busy.out" && [ "$(prop t1 Grants)" = 0 ]'
ctl grant t1 0000:00:09.0 > "$scratch/grant-none.out" 2>&1
check "grant: a device the host does not have is refused" grep -q "There is no PCI device 0000:00:09.0" "$scratch/grant-none.out"
ctl grant t1 0000:00:04.0 > /dev/null 2>&1
X systemctl restart phyllomed.service
ctl list > /dev/null 2>&1
check "grant: persistent grants outlive a restart of phyllomed, the others do not" \
	expect_eq "$(prop alicevm Grants)|$(prop t1 Grants)" "1 0000:01:00.0|0"
X busctl --system call org.phyllome.VM1 "$gpath" org.phyllome.VM1.Grant Revoke a{sv} 0 > "$scratch/revoke.out" 2>&1
check "revoke: Grant.Revoke takes it back, from the definition too" \
	eval '[ "$(prop alicevm Grants)" = 0 ] && ! X grep -q "^Devices=" /etc/phyllome/machines/alicevm.conf'
ctl revoke alicevm 0000:01:00.0 > "$scratch/revoke-again.out" 2>&1
check "revoke: a device not granted is an error" grep -q "is not granted" "$scratch/revoke-again.out"
# Starting with grants: the whole IOMMU group is checked, the move to vfio-pci is
# undone when it fails (the fixture's drivers_probe binds nothing), nothing runs.
ctl grant t1 0000:00:05.0 > /dev/null 2>&1
ctl start t1 > "$scratch/start-group.out" 2>&1
check "start with a grant: a group mate on a host driver, not granted, refuses the start" \
	eval 'grep -q "shares IOMMU group 8 with 0000:00:05.1 (on snd_hda_intel), which is not granted" "$scratch/start-group.out" && [ "$(prop t1 State)" != running ]'
ctl revoke t1 0000:00:05.0 > /dev/null 2>&1
ctl grant t1 0000:00:04.0 > /dev/null 2>&1
ctl start t1 > "$scratch/start-bind.out" 2>&1
check "start with a grant: a device that does not bind to vfio-pci fails the start, saying so" \
	eval 'grep -q "0000:00:04.0 did not bind to vfio-pci (it is on xhci_hcd)" "$scratch/start-bind.out" && [ "$(prop t1 State)" != running ]'
show_if_failed "$scratch/start-bind.out"
check "start with a grant: the failed move was undone (driver_override cleared, still on xhci_hcd)" \
	eval '[ "$(X cat $sysfs/bus/pci/devices/0000:00:04.0/driver_override)" = "" ] &&
		[ "$(X readlink $sysfs/bus/pci/devices/0000:00:04.0/driver)" = $sysfs/bus/pci/drivers/xhci_hcd ] &&
		X grep -qx 0000:00:04.0 $sysfs/bus/pci/drivers/xhci_hcd/unbind'
X sh -c "cd $sysfs/bus/pci && grep -r . devices/0000:00:04.0/driver_override drivers/*/unbind drivers_probe" > "$scratch/fixture-after.out" 2>&1
show_if_failed "$scratch/fixture-after.out"
ctl revoke t1 0000:00:04.0 > /dev/null 2>&1

ctl remove t2 > /dev/null 2>&1
ctl status t2 > /dev/null 2>&1
status_t2=$?
check "remove: the definition and the object are gone" \
	expect_eq "$(X test -e /etc/phyllome/machines/t2.conf && echo file) $status_t2" " 4"

# In the sanitizer pass phyllomed and the monitors are built with ASan and UBSan;
# their reports (at an error, or of leaks when phyllomed exits on a restart) go
# to the journal with their stderr.
X journalctl --no-pager -o cat | grep -E -A12 "ERROR: (Address|Leak)Sanitizer|runtime error:" > "$scratch/sanitizer.out"
check "sanitizers: no memory error, leak or undefined behaviour reported in the journal" [ ! -s "$scratch/sanitizer.out" ]
show_if_failed "$scratch/sanitizer.out"

# The host shuts down through logind (systemctl poweroff of the box's systemd):
# phyllomed's delay inhibitor holds the shutdown until the running machine is
# stopped cleanly. The box's journal goes with it, so it is followed from outside;
# the box's own way down is then the stop below.
ctl start t1 > "$scratch/shutdown-start.out" 2>&1
wait_inhibitor yes 10
# (What the shutdown checks below need; where it fails, they say nothing more.)
check "host shutdown: first the machine runs and phyllomed holds its delay inhibitor" \
	eval '[ "$(prop t1 State)" = running ] && held_by_phyllome'
show_if_failed "$scratch/shutdown-start.out"
# (The follower ends with the box; timeout bounds it if the box does not go.)
timeout 120 "$sdbox" exec journalctl -f --no-pager -n 0 -o cat > "$scratch/shutdown.journal" 2>&1 &
follower=$!
sleep 1
timeout 30 "$sdbox" exec systemctl poweroff > "$scratch/poweroff.out" 2>&1
echo "systemctl poweroff: status $?" >> "$scratch/poweroff.out"
deadline=$((SECONDS + 60))
until grep -q "the host may shut down" "$scratch/shutdown.journal" || [ $SECONDS -ge $deadline ]; do sleep 0.5; done
# The follower ends with the box (its pid namespace goes with PID 1).
deadline=$((SECONDS + 60))
while kill -0 "$follower" 2> /dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.5; done
echo "the box went down $((60 - deadline + SECONDS)) s after phyllomed let go" | tee -a "$scratch/poweroff.out" | tap_diag
"$sdbox" log 2> /dev/null | tail -n 30 > "$scratch/box-console.out"
shutdown_step() { grep -q "$1" "$scratch/shutdown.journal"; }
check "host shutdown: phyllomed stops the running machine first (delay inhibitor)" \
	eval 'shutdown_step "The host is shutting down: stopping the machines" &&
		shutdown_step "t1: Stopping: the host is shutting down" && shutdown_step "t1: Stopped (success)"'
check "host shutdown: then it lets the shutdown go on" \
	shutdown_step "Released the sleep and shutdown delay inhibitor: the machines are stopped; the host may shut down"
show_if_failed "$scratch/poweroff.out" "$scratch/shutdown.journal" "$scratch/box-console.out"

"$sdbox" stop > "$scratch/sdbox-stop.log" 2>&1
stop_status=$?
check "the box stops and leaves nothing behind" [ $stop_status = 0 ]
show_if_failed "$scratch/sdbox-stop.log" "$scratch/poweroff.out"
rm -rf "$stage"
trap cleanup_scratch EXIT
tap_done
