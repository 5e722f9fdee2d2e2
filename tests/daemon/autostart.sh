# Sourced by daemon.sh (its box, helpers and users): machines that start by
# themselves. Autostart=login follows real logind sessions, opened as a login
# opens them (pam_systemd through PAMName=login); Autostart=boot starts with
# phyllomed's first start in a boot; a logind delay inhibitor is held while
# machines run, and the host's sleep pauses them.

# Host sleep goes through logind and systemd-suspend.service for real, but the
# kernel's part is a file: /sys/power/state is bind-mounted from a tmpfs file
# of the box, where systemd-sleep writes "mem", so nothing sleeps. (logind offers
# sleep only where that file is writable, hence its restart after the mount.)
# Done while no machine runs, so no inhibitor is held across the restart.
X sh -c 'for u in suspend.target sleep.target systemd-suspend.service; do
		cp "/lib/systemd/system/$u" /run/systemd/system/ || exit 1
	done
	echo "freeze mem disk" > /run/fake-power-state && mount --bind /run/fake-power-state /sys/power/state &&
	systemctl daemon-reload && systemctl restart systemd-logind' > "$scratch/fake-sleep.out" 2>&1

# A login also starts the user's own systemd (user@UID.service), which phyllomed
# has nothing to do with and which costs seconds per login in the emulated test
# host: masked, as logind allows (a masked user@ is skipped, not an error).
X systemctl mask --runtime --quiet user@.service
login() { # USER UNIT: a login session of USER that lasts until logout UNIT
	X systemd-run --quiet --uid="$1" -p PAMName=login --unit="$2" -- sleep infinity
}
logout() { X systemctl stop "$1"; }
inhibitors() { X systemd-inhibit --list --no-pager --no-legend 2>&1; }
# (logind lists the kinds in its own order.)
held_by_phyllome() { inhibitors | grep -Eq "^Phyllome .*(sleep:shutdown|shutdown:sleep) .*delay$"; }
wait_inhibitor() { # yes|no SECONDS: until phyllomed's delay inhibitor is held (yes) or not (no)
	local deadline=$((SECONDS + $2))
	while :; do
		if held_by_phyllome; then
			[ "$1" = yes ] && return 0
		else
			[ "$1" = no ] && return 0
		fi
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.2
	done
}

ctl create lv --kernel "$tiny" --cmdline "test=powerbutton" --memory 64M --owner alice > /dev/null 2>&1
as_user alice phyllomectl --no-ask-password enable lv --logout-delay=1 > "$scratch/enable.out" 2>&1
check "enable: the owner makes her VM start at her login (manage-own)" \
	expect_eq "$?/$(prop lv Autostart)/$(prop lv StopOnLogout)/$(prop lv StopOnLogoutDelay)" "0/login/true/1"
show_if_failed "$scratch/enable.out"
check "enable: the definition records it" \
	X grep -qx "Autostart=login" /etc/phyllome/machines/lv.conf
as_user alice phyllomectl --no-ask-password enable lv --at=boot > "$scratch/enable-boot.out" 2>&1
check "enable --at=boot: not the owner's to decide (manage), denied (exit status 5)" \
	expect_eq "$?/$(prop lv Autostart)" "5/login"
ctl status lv > "$scratch/lv-status.out" 2>&1
ctl --no-legend list > "$scratch/lv-list.out" 2>&1
check "status and list show Autostart" eval 'grep -q "Autostart: login (stopped 1 s after the owner.s last session ends)" "$scratch/lv-status.out" &&
	grep -Eq "^lv +stopped +1 +64M +alice +login$" "$scratch/lv-list.out"'
show_if_failed "$scratch/lv-status.out" "$scratch/lv-list.out"

login bob bob-session
sleep 2
check "login: another user's login starts nothing of alice's" expect_eq "$(prop lv State)" stopped
login alice alice-session
wait_state lv running 60
check "login: alice's first session starts her VM" expect_eq "$(prop lv State)" running
check "login: the journal says why" journal_has PHYLLOME_MACHINE=lv "alice logged in (Autostart=login)"
wait_inhibitor yes 10
check "inhibitor: a sleep and shutdown delay inhibitor is held while a machine runs" held_by_phyllome
inhibitors > "$scratch/inhibitors.out"
show_if_failed "$scratch/inhibitors.out"
logout bob-session
logout alice-session
wait_state lv stopped 60
check "logout: her last session's end stops it cleanly (after StopOnLogoutDelay)" \
	expect_eq "$(prop lv State)/$(prop lv Result)" stopped/success
check "logout: the journal says why" journal_has PHYLLOME_MACHINE=lv "alice's last login session ended 1 s ago"
wait_inhibitor no 10
check "inhibitor: let go once no machine runs" eval '! inhibitors | grep -q "^Phyllome "'

ctl enable lv --stop-on-logout=no > /dev/null 2>&1
login alice alice-session
wait_state lv running 60
logout alice-session
deadline=$((SECONDS + 30))
until journal_has PHYLLOME_MACHINE=lv "keeps running (StopOnLogout=false)" || [ $SECONDS -ge $deadline ]; do sleep 0.5; done
check "StopOnLogout=false: phyllomed saw the logout and says it keeps running" \
	journal_has PHYLLOME_MACHINE=lv "keeps running (StopOnLogout=false)"
sleep 2
check "StopOnLogout=false: the VM outlives the session" expect_eq "$(prop lv State)" running

# lv runs: the host goes to sleep and wakes up (systemctl suspend, see above).
cursor=$(X journalctl --no-pager -n 0 --show-cursor | sed -n 's/^-- cursor: //p')
since_cursor() { X journalctl --no-pager -o cat --after-cursor="$cursor"; }
X systemctl suspend > "$scratch/suspend.out" 2>&1
deadline=$((SECONDS + 60))
until since_cursor | grep -q "Operation 'sleep' finished" || [ $SECONDS -ge $deadline ]; do sleep 0.5; done
wait_state lv running 20
since_cursor > "$scratch/sleep.journal"
in_order() { # PATTERN...: the lines appear in the sleep's journal in this order
	awk -v n=$# 'BEGIN { for (i = 1; i <= n; i++) want[i] = ARGV[i]; ARGC = 1 } k < n && index($0, want[k + 1]) { k++ } END { exit k != n }' \
		"$@" < "$scratch/sleep.journal"
}
check "sleep: phyllomed pauses the running VM before the host sleeps" \
	in_order "The host is going to sleep: pausing" "lv: Pausing: the host is going to sleep" "lv: Paused" \
	"Entering sleep state"
check "sleep: it lets go of its inhibitor as soon as the VM is paused, well before logind's timeout" \
	eval 'in_order "lv: Paused" "Released the sleep and shutdown delay inhibitor: the machines are paused" "Entering sleep state" &&
		! grep -q "inhibitor timeout is reached" "$scratch/sleep.journal"'
check "sleep: when the host wakes up the VM runs again" \
	eval 'in_order "System returned from sleep state" "The host woke up: resuming the machines paused for its sleep (1)" "lv: Resuming: the host woke up" &&
		[ "$(prop lv State)" = running ]'
show_if_failed "$scratch/fake-sleep.out" "$scratch/suspend.out" "$scratch/sleep.journal"

# Only logind speaks for the host: bob's PrepareForShutdown and PrepareForSleep,
# broadcast and sent to phyllomed alone, change nothing.
owner=$(X gdbus call --system --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
	--method org.freedesktop.DBus.GetNameOwner org.phyllome.VM1 | sed -E "s/^\('(.*)',\)$/\1/")
cursor=$(X journalctl --no-pager -n 0 --show-cursor | sed -n 's/^-- cursor: //p')
for dest in "" "--dest=$owner"; do
	for signal in PrepareForShutdown PrepareForSleep; do
		# shellcheck disable=SC2086 # $dest: no option, or one
		as_user bob gdbus emit --system $dest --object-path /org/freedesktop/login1 \
			--signal "org.freedesktop.login1.Manager.$signal" true >> "$scratch/spoof.out" 2>&1
	done
done
sleep 2
since_cursor > "$scratch/spoof.journal"
check "spoofed logind signals: a user's PrepareForShutdown and PrepareForSleep change nothing" \
	eval '[ -n "$owner" ] && [ "$(prop lv State)" = running ] && ! grep -qE "The host is (shutting down|going to sleep)" "$scratch/spoof.journal"'
show_if_failed "$scratch/spoof.out" "$scratch/spoof.journal"

ctl stop lv > /dev/null 2>&1
ctl disable lv > /dev/null 2>&1
check "disable: Autostart is no again" expect_eq "$(prop lv Autostart)" no

# Boot: /run/phyllome is empty after a boot; phyllomed's first start then
# starts the Autostart=boot machines, a later restart does not.
ctl create bv --kernel "$tiny" --cmdline "test=powerbutton" --memory 64M > /dev/null 2>&1
ctl enable bv --at=boot > /dev/null 2>&1
X rm -f /run/phyllome/.booted
X systemctl restart phyllomed.service
wait_state bv running 60
check "boot: an Autostart=boot machine starts with phyllomed's first start in a boot" expect_eq "$(prop bv State)" running
ctl stop bv > /dev/null 2>&1
# (phyllomed starts its autostart machines before it takes its bus name, which ends the restart job.)
X systemctl restart phyllomed.service
check "boot: a later restart of phyllomed does not start it again" expect_eq "$(prop bv State)" stopped
ctl remove lv bv > /dev/null 2>&1
