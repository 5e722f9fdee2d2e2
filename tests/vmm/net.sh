#!/bin/bash
# virtio-net in the Linux test guest under real KVM, in a network namespace
# the test makes: the guest brings up its NIC (with the MAC it was given),
# pings the host end of the tap and sends it 16 MiB over TCP, whose checksum
# the host compares, once through the device thread (vhost=off) and once
# through vhost-net (vhost=on). Prints TAP.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
: "${PHYLLOME_VMM:?}" "${PHYLLOME_GUEST_DIR:?}"
VMM_DEADLINE=${VMM_DEADLINE:-600}
guest="--kernel $PHYLLOME_GUEST_DIR/vmlinuz --initrd $PHYLLOME_GUEST_DIR/initrd.img"
cmdline="console=ttyS0 quiet panic=-1 phyllome.action=script"
blob=16777216

if [ "$(id -u)" != 0 ] || ! command -v ip > /dev/null || [ ! -c /dev/net/tun ]; then
	echo "1..0 # SKIP needs root, iproute2 and /dev/net/tun to make a network namespace with a tap"
	exit 0
fi

ns=phyllome-net-$$
ip netns add "$ns" || { echo "1..0 # SKIP cannot create a network namespace"; exit 0; }
cleanup_ns() { ip netns delete "$ns" 2> /dev/null; }
trap 'cleanup_ns; cleanup_scratch' EXIT
ip -n "$ns" link set lo up
ip -n "$ns" tuntap add dev ptap0 mode tap vnet_hdr
ip -n "$ns" addr add 10.77.0.1/24 dev ptap0
ip -n "$ns" link set ptap0 up

# The monitor runs inside the namespace; exec keeps its PID.
cat > "$scratch/vmm-in-ns" << EOF
#!/bin/sh
exec ip netns exec $ns $PHYLLOME_VMM "\$@"
EOF
chmod +x "$scratch/vmm-in-ns"

cat > "$scratch/net.script" << 'EOF'
ip link set eth0 up
ip addr add 10.77.0.2/24 dev eth0
echo "PHYLLOME mac=$(cat /sys/class/net/eth0/address)"
echo "PHYLLOME driver=$(basename $(readlink /sys/class/net/eth0/device/driver))"
ping -c 3 -W 5 10.77.0.1 > /tmp/ping 2>&1
echo "PHYLLOME ping=$?"
head -c 16777216 /dev/urandom > /tmp/blob
echo "PHYLLOME blob-md5=$(md5sum < /tmp/blob | cut -d' ' -f1)"
nc 10.77.0.1 5000 < /tmp/blob
echo "PHYLLOME nc=$?"
EOF
printf '\nexit 0\n' >> "$scratch/net.script"
truncate -s %4096 "$scratch/net.script"

# receiver: the host end of the tap takes $blob bytes and prints their count and md5.
receiver() {
	ip netns exec "$ns" python3 -c '
import hashlib, socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("10.77.0.1", 5000))
s.listen(1)
s.settimeout(400)
c, _ = s.accept()
c.settimeout(60)
h, n, want = hashlib.md5(), 0, int(sys.argv[1])
while n < want:
    d = c.recv(1 << 16)
    if not d:
        break
    h.update(d)
    n += len(d)
print(n, h.hexdigest(), flush=True)
c.close()' "$blob" > "$scratch/$1.recv" 2>&1 &
	RECEIVER=$!
}

guest_value() { sed -n "s/^PHYLLOME $2=//p" "$scratch/$1.out" | tr -d '\r' | head -n 1; }

run_net() { # NAME VHOST MAC [EXTRA]
	local name=$1 vhost=$2 mac=$3 extra=${4:-}
	receiver "$name"
	sleep 0.5
	# shellcheck disable=SC2086
	PHYLLOME_VMM=$scratch/vmm-in-ns run_vmm "$name" $guest -v --memory 256M --cmdline "$cmdline" \
		--net "tap=ptap0,mac=$mac,vhost=$vhost$extra" --disk "$scratch/net.script,readonly,serial=phyllome-script"
	wait "$RECEIVER" 2> /dev/null
	check "$name: the guest runs its script and powers off (status 0)" \
		expect_exit "$name" 0 "^PHYLLOME script status=0"
	check "$name: the NIC is virtio-net, bound to virtio_net" [ "$(guest_value "$name" driver)" = virtio_net ]
	check "$name: the guest's MAC is the one given ($mac)" [ "$(guest_value "$name" mac)" = "$mac" ]
	check "$name: the guest pings the host end of the tap" [ "$(guest_value "$name" ping)" = 0 ]
	check "$name: 16 MiB over TCP arrive whole, with the guest's md5" \
		[ "$(cat "$scratch/$name.recv")" = "$blob $(guest_value "$name" blob-md5)" ]
	grep -q "^$blob " "$scratch/$name.recv" || tap_diag < "$scratch/$name.recv"
}

run_net userspace off 52:54:00:12:34:56
check "userspace: the monitor moved the packets on its device thread" output_has userspace "tap ptap0, .*device thread"
if [ -c /dev/vhost-net ]; then
	# /dev/vhost-net passed open (as phyllomed passes it): the monitor opens no device itself.
	exec 8<> /dev/vhost-net
	run_net vhost on 52:54:00:ab:cd:ef ,vhost-fd=8
	exec 8<&-
	check "vhost: the monitor handed the rings to vhost-net" output_has vhost "tap ptap0, .*vhost-net"
else
	tap_skip "vhost: vhost-net runs the NIC" "no /dev/vhost-net on this host"
fi

# A tap that cannot be opened: a clear error, status 2.
# shellcheck disable=SC2086
PHYLLOME_VMM=$scratch/vmm-in-ns run_vmm badfd $guest --memory 128M --net fd=0
check "--net fd=0: refused as a usage error" expect_exit badfd 2 "fd=N takes an open file descriptor number above 2"
exec 9< /dev/null
# shellcheck disable=SC2086
run_vmm notap $guest --memory 128M --net fd=9
exec 9<&-
check "--net fd=N that is not a tap: refused" expect_exit notap 2 "File descriptor 9 is not a tap device"

tap_done
