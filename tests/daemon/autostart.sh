# Sourced by daemon.sh (its box, helpers and users): machines that start by
# themselves. Autostart=login follows real logind sessions, opened as a login
# opens them (pam_systemd through PAMName=login); Autostart=boot starts with
# phyllomed's first start in a boot; a logind delay inhibitor is held while
# machines run, and the host's sleep pauses them.

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
