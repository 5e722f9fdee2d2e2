#!/bin/bash
# The Linux test guest's virtio-console and virtio-vsock under real KVM:
# hvc0's output reaches the --console socket and a line typed there reaches
# the guest; over AF_VSOCK (vhost-vsock) the guest connects to the host and
# the host to the guest, both ways an exchange of lines. Prints TAP.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
: "${PHYLLOME_VMM:?}" "${PHYLLOME_GUEST_DIR:?}"
VMM_DEADLINE=${VMM_DEADLINE:-600}
guest="--kernel $PHYLLOME_GUEST_DIR/vmlinuz --initrd $PHYLLOME_GUEST_DIR/initrd.img"
cmdline="console=ttyS0 quiet panic=-1 phyllome.action=script"
cid=$((100 + $$ % 1000))

vsock=yes
[ -c /dev/vhost-vsock ] || vsock="no /dev/vhost-vsock on this host"
[ "$vsock" = yes ] && ! python3 -c 'import socket; socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)' 2> /dev/null &&
	vsock="the host cannot open AF_VSOCK sockets"

{
	cat << 'EOF'
echo "PHYLLOME hvc=$([ -c /dev/hvc0 ] && echo present)"
# One open file for both: the last close of a tty flushes input that came meanwhile.
exec 3<> /dev/hvc0
echo "PHYLLOME-HVC hello from hvc0" >&3
read -t 120 -r line <&3
echo "PHYLLOME hvc-got=$line"
exec 3<&-
EOF
	if [ "$vsock" = yes ]; then
		cat << 'EOF'
guest-tool vsock-connect 2 5000 hello-host
guest-tool vsock-listen 5001
EOF
	fi
	printf '\nexit 0\n'
} > "$scratch/devices.script"
truncate -s %4096 "$scratch/devices.script"

if [ "$vsock" = yes ]; then
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
s.bind((socket.VMADDR_CID_ANY, 5000))
s.listen(1)
s.settimeout(400)
c, (peer, _) = s.accept()
line = c.makefile().readline().strip()
c.sendall(("host got " + line + "\n").encode())
print(peer, line, flush=True)' > "$scratch/vsock-host.out" 2>&1 &
	host_listener=$!
fi

# /dev/vhost-vsock passed open, as phyllomed passes it.
[ "$vsock" = yes ] && exec 9<> /dev/vhost-vsock
# shellcheck disable=SC2086
start_vmm devices $guest -v --memory 256M --cmdline "$cmdline" --console "socket:$scratch/hvc.sock" \
	$([ "$vsock" = yes ] && echo "--vsock cid=$cid,vhost-fd=9") --disk "$scratch/devices.script,readonly,serial=phyllome-script"

[ "$vsock" = yes ] && exec 9<&-

# The host end of hvc0: wait for the guest's line, type one back.
python3 - "$scratch/hvc.sock" > "$scratch/hvc-client.out" 2>&1 << 'EOF'
import socket, sys, time
deadline = time.monotonic() + 400
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
while True:
    try:
        sock.connect(sys.argv[1])
        break
    except OSError:
        if time.monotonic() > deadline:
            sys.exit("no console socket")
        time.sleep(0.2)
seen = ""
while "hello from hvc0" not in seen:
    sock.settimeout(max(deadline - time.monotonic(), 1))
    chunk = sock.recv(4096)
    if not chunk:
        sys.exit("console closed; got %r" % seen)
    seen += chunk.decode(errors="replace")
print("saw:", seen.strip(), flush=True)
sock.sendall(b"ping-from-host\n")
time.sleep(1)
EOF
client=$?

if [ "$vsock" = yes ] && wait_output devices "^PHYLLOME vsock-listening=5001" 300; then
	python3 -c '
import socket, sys
s = socket.socket(socket.AF_VSOCK, socket.SOCK_STREAM)
s.settimeout(60)
s.connect((int(sys.argv[1]), 5001))
s.sendall(b"hello-guest\n")
print(s.makefile().readline().strip(), flush=True)' "$cid" > "$scratch/vsock-connect.out" 2>&1
fi
wait_vmm
guest_value() { sed -n "s/^PHYLLOME $1=//p" "$scratch/devices.out" | tr -d '\r' | head -n 1; }

check "the guest runs its script and powers off (status 0)" expect_exit devices 0 "^PHYLLOME script status=0"
check "hvc0: the guest has /dev/hvc0" [ "$(guest_value hvc)" = present ]
check "hvc0: its output reaches the --console socket" [ "$client" = 0 ]
[ "$client" = 0 ] || tap_diag < "$scratch/hvc-client.out"
check "hvc0: a line typed into the socket reaches the guest" [ "$(guest_value hvc-got)" = ping-from-host ]
if [ "$vsock" = yes ]; then
	# The guest connected long before it powered off, or never will.
	kill "$host_listener" 2> /dev/null
	wait "$host_listener" 2> /dev/null
	check "vsock: the guest connects to the host (CID 2) and gets its answer" \
		[ "$(guest_value vsock-reply)" = "host got hello-host" ]
	check "vsock: the host saw the guest's context ID ($cid) and line" \
		[ "$(cat "$scratch/vsock-host.out")" = "$cid hello-host" ]
	check "vsock: the host connects to the guest's listening port and gets its answer" \
		[ "$(cat "$scratch/vsock-connect.out" 2> /dev/null)" = "guest got hello-guest" ]
	check "vsock: the guest got the host's line" [ "$(guest_value vsock-received)" = hello-guest ]
else
	for t in "guest to host" "host saw the guest" "host to guest" "guest got the line"; do
		tap_skip "vsock: $t" "$vsock"
	done
fi

tap_done
