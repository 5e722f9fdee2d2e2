#!/bin/bash
# phyllome-vmm's sandbox, seen from outside while a tiny guest runs: no
# capabilities, no_new_privs, seccomp filter mode in every thread, no file
# descriptor it was not told about; and a forbidden system call, made on
# purpose through a test hook, kills it with SIGSYS. --sandbox off shows the
# checks can fail. Needs /dev/kvm (any KVM). Prints TAP.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/tap.sh"
: "${PHYLLOME_VMM:?}" "${PHYLLOME_TINYGUEST:?}"
tiny=(--kernel "$PHYLLOME_TINYGUEST" --memory 64M)

status_field() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

# Our threads by name with their seccomp mode, sorted: "device:2 phyllome-vmm:2 vcpu0:2 vcpu1:2".
# Newer kernels' KVM adds threads of its own to the process (kvm-nx-lpage-recovery,
# named kvm-nx-lpage-re): not ours, so not counted; an unnamed or unconfined thread
# of ours still shows.
our_threads() {
	local t name
	for t in /proc/"$1"/task/*; do
		name=$(cat "$t/comm" 2> /dev/null) || continue
		case $name in kvm-*) continue ;; esac
		echo "$name:$(awk '$1 == "Seccomp:" { print $2 }' "$t/status")"
	done | sort | tr '\n' ' '
}

# fds_expected PID: every fd above 2 is KVM, an event/timer/signal fd, epoll or a socket.
fds_expected() {
	local fd target bad=0
	for fd in /proc/"$1"/fd/*; do
		[ "${fd##*/}" -le 2 ] && continue
		target=$(readlink "$fd")
		case $target in
		/dev/kvm | anon_inode:kvm-vm | anon_inode:kvm-vcpu:* | "anon_inode:[eventfd]" | "anon_inode:[signalfd]" | \
			"anon_inode:[timerfd]" | "anon_inode:[eventpoll]" | socket:*) ;;
		*)
			echo "unexpected fd ${fd##*/} -> $target" | tap_diag
			bad=1
			;;
		esac
	done
	return $bad
}

# A confined VM with two vCPUs, a console socket and a control socket, and two
# descriptors it was not told about (a file and the write end of a pipe).
echo "not for the guest's monitor" > "$scratch/secret"
exec 7< "$scratch/secret" 8> "$scratch/pipe-target"
start_vmm confined "${tiny[@]}" --cpus 2 --cmdline test=tick --serial "socket:$scratch/console.sock" \
	--control "$scratch/control.sock"
exec 7<&- 8>&-
for i in $(seq 300); do
	[ -S "$scratch/control.sock" ] && [[ "$(our_threads "$VMM_PID")" == *vcpu1:* ]] && break
	sleep 0.2
done
sleep 1
pid=$VMM_PID
check "confined: every thread of ours (main, device and 2 vCPUs) runs in seccomp filter mode" \
	expect_eq "$(our_threads "$pid")" "device:2 phyllome-vmm:2 vcpu0:2 vcpu1:2 "
check "confined: no_new_privs is set" expect_eq "$(status_field "$pid" NoNewPrivs)" 1
check "confined: no capabilities, effective, permitted, inheritable or ambient" \
	expect_eq "$(status_field "$pid" CapEff) $(status_field "$pid" CapPrm) $(status_field "$pid" CapInh) $(status_field "$pid" CapAmb)" \
	"0000000000000000 0000000000000000 0000000000000000 0000000000000000"
if [ "$(id -u)" = 0 ]; then
	check "confined: started by root, its bounding set is empty too" \
		expect_eq "$(status_field "$pid" CapBnd)" 0000000000000000
else
	tap_skip "confined: started by root, its bounding set is empty too" "not run as root"
fi
# (Their numbers are reused by what the monitor opens itself: look for the files.)
holds() { # PID FILE: one of the process's fds is FILE
	local fd
	for fd in /proc/"$1"/fd/*; do
		[ "$(readlink "$fd")" = "$2" ] && return 0
	done
	return 1
}
check "confined: the inherited file and pipe it was not told about are closed" \
	eval '! holds "$pid" "$scratch/secret" && ! holds "$pid" "$scratch/pipe-target"'
check "confined: every other fd is KVM, an event fd, epoll or a socket" fds_expected "$pid"
/usr/bin/python3 "$here/vmmctl.py" "$scratch/control.sock" call Pause > "$scratch/pause.out" 2>&1
check "confined: Pause works under the allow-lists" \
	expect_eq "$(/usr/bin/python3 "$here/vmmctl.py" "$scratch/control.sock" get State)" paused
/usr/bin/python3 "$here/vmmctl.py" "$scratch/control.sock" call Resume > /dev/null 2>&1
python3 "$here/console-client.py" "$scratch/console.sock" "TINY tick" "" "" > "$scratch/client.out" 2>&1
check "confined: a console client is served" [ $? = 0 ]
kill -TERM "$pid"
wait_output confined "Pressing the power button" 10
kill -TERM "$pid"
wait_vmm
check "confined: stops on the host's signals and removes its sockets (status 5)" \
	[ "$STATUS" = 5 -a ! -e "$scratch/control.sock" -a ! -e "$scratch/console.sock" ]
check "confined: no system call was refused" sh -c "! grep -q 'sandbox:' '$scratch/confined.out'"
grep 'sandbox:' "$scratch/confined.out" | tap_diag

# The same checks fail without the sandbox: they are not vacuous.
exec 7< "$scratch/secret"
start_vmm open "${tiny[@]}" --cmdline test=tick --sandbox off
exec 7<&-
wait_output open "TINY tick 1" 60
check "--sandbox off: no seccomp filter, and the inherited file stays open" \
	eval '[ "$(status_field "$VMM_PID" Seccomp)" = 0 ] && holds "$VMM_PID" "$scratch/secret"'
kill -KILL "$VMM_PID"
wait_vmm

# A forbidden system call in any thread kind ends the monitor with SIGSYS.
if "$PHYLLOME_VMM" --test-forbidden-syscall=main --help > /dev/null 2>&1; then
	for kind in vcpu main io; do
		run_vmm "forbidden_$kind" "${tiny[@]}" --cmdline test=tick --test-forbidden-syscall="$kind"
		case $kind in vcpu) thread=vCPU ;; io) thread=device ;; *) thread=main ;; esac
		check "a forbidden system call in the $thread thread kills the monitor with SIGSYS" \
			expect_exit "forbidden_$kind" $((128 + 31)) "sandbox: the $thread thread made system call [0-9]+"
	done
	# Another process of the same uid (another VM's monitor, here a sleep) is not
	# the monitor's to signal, even with the signal it kicks its vCPUs with.
	sleep 120 &
	other=$!
	run_vmm signal_other "${tiny[@]}" --cmdline test=tick --test-forbidden-syscall="signal:$other"
	check "a signal to another process (the kick signal, at a process of the same uid) kills the monitor with SIGSYS" \
		eval 'expect_exit signal_other $((128 + 31)) "sandbox: the main thread made system call [0-9]+" &&
			kill -0 "$other"'
	kill "$other" 2> /dev/null
	wait "$other" 2> /dev/null
else
	tap_skip "a forbidden system call in the vCPU thread kills the monitor with SIGSYS" \
		"phyllome-vmm was built without -Dtest_hooks=true"
	tap_skip "a forbidden system call in the main thread kills the monitor with SIGSYS" \
		"phyllome-vmm was built without -Dtest_hooks=true"
	tap_skip "a forbidden system call in the device thread kills the monitor with SIGSYS" \
		"phyllome-vmm was built without -Dtest_hooks=true"
	tap_skip "a signal to another process (the kick signal, at a process of the same uid) kills the monitor with SIGSYS" \
		"phyllome-vmm was built without -Dtest_hooks=true"
fi

tap_done
