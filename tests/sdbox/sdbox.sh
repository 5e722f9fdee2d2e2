#!/bin/bash
# sdbox.sh - a throw-away "machine" for Phyllome's daemon tests: a private systemd
# (PID 1), a real system D-Bus and polkitd, inside new pid/mount/cgroup/uts/ipc/
# net namespaces.  Everything the box writes stays in the box:
#   /run /tmp /var/tmp /dev/shm  fresh tmpfs
#   /etc /usr /var               overlayfs, lower = host dir, upper = tmpfs
#   /proc/sys /sys               read-only;  /dev  private tmpfs + a few nodes
#   cgroups                      own sub-cgroup per hierarchy + cgroup namespace
#   units                        only a curated set (SYSTEMD_UNIT_PATH), no generators
#
#   sdbox.sh start            boot; returns when the bus answers and boot finished
#   sdbox.sh exec CMD [ARG..] run CMD as root inside the box (exit status passed on)
#   sdbox.sh stop             halt (SIGRTMIN+3), SIGKILL fallback, remove cgroups
#   sdbox.sh status           print state
#   sdbox.sh log              print the box console (PID 1 log)
#
# Env: SDBOX_NAME (default "default": several boxes may run at once),
#      SDBOX_ROOT (state dir parent, default ${XDG_CACHE_HOME:-$HOME/.cache}/sdbox),
#      SDBOX_TIMEOUT (boot timeout, s, default 30), SDBOX_STOP_TIMEOUT (halt timeout
#                before SIGKILL, s, default 10),
#      SDBOX_DEVICES (host /dev nodes to bind into the box, e.g. "kvm net/tun"),
#      SDBOX_UNIT_DIRS (extra unit dirs, colon separated, searched after the box's own),
#      SDBOX_LOG_LEVEL (PID 1 log level, default info),
#      SDBOX_RW (host dirs that stay writable in the box, space separated; the
#                rest of the host root fs is read-only inside),
#      SDBOX_SCOPE=1 (exec: run CMD in a transient scope of the box's systemd).
set -euo pipefail

SELF=$(readlink -f "$0")
SDBOX_ROOT=${SDBOX_ROOT:-${XDG_CACHE_HOME:-$HOME/.cache}/sdbox}
SDBOX_NAME=${SDBOX_NAME:-default}
export SDBOX_ROOT SDBOX_NAME
STATE=$SDBOX_ROOT/run/$SDBOX_NAME
CGLEAF=sdbox-$SDBOX_NAME
CANARY=/tmp/.sdbox-canary-$SDBOX_NAME
# Capabilities nothing in the box may use (module loading, clock, raw I/O ...).
DROP_CAPS=-sys_module,-sys_time,-sys_rawio,-syslog,-wake_alarm,-block_suspend,-sys_pacct,-mac_admin,-mac_override
BOX_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

die() { echo "sdbox: $*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }

# ---------------------------------------------------------------- host side
alive() {   # pid exists and is not a zombie (the launcher's zombie is reaped late by the host's init)
    local s
    read -r s 2>/dev/null < "/proc/$1/stat" || return 1
    s=${s##*) }; [ "${s%% *}" != Z ]
}

# pid + starttime of the box's PID 1 (as seen from the host), verified alive.
box_pid() {
    local pid st stat rest
    [ -s "$STATE/init.pid" ] || return 1
    read -r pid st < "$STATE/init.pid"
    [ -r "/proc/$pid/stat" ] || return 1
    read -r stat 2>/dev/null < "/proc/$pid/stat" || return 1
    rest=${stat##*) }; set -- $rest
    [ "${20}" = "$st" ] || return 1          # pid was reused: not our box
    [ "$1" != Z ] || return 1
    echo "$pid"
}

# nsenter into all box namespaces; $PWD kept if visible in the box, else /.
box_enter() {
    local pid
    pid=$(box_pid) || die "box '$SDBOX_NAME' is not running"
    # never run CMD in the wrong namespaces (e.g. a recycled pid)
    [ -s "$STATE/pidns" ] && [ "$(readlink "/proc/$pid/ns/pid")" = "$(cat "$STATE/pidns")" ] \
        || die "box '$SDBOX_NAME': pid $pid is not the box's PID 1"
    local scope=()
    # SDBOX_SCOPE=1: run CMD in its own transient scope (inside the box's cgroup tree)
    [ "${SDBOX_SCOPE:-0}" = 1 ] && scope=(systemd-run --quiet --scope --collect --)
    # --root: the box PID 1's root, also when the box was started inside a chroot
    # (the test-host VM runs tests chrooted); setns alone would land at the mount
    # namespace's real root.
    exec nsenter --target "$pid" --mount --uts --ipc --net --pid --cgroup --root --wd -- \
        setpriv --bounding-set "$DROP_CAPS" -- \
        env -u DBUS_SESSION_BUS_ADDRESS -u DBUS_SYSTEM_BUS_ADDRESS -u XDG_RUNTIME_DIR \
            -u NOTIFY_SOCKET -u INVOCATION_ID -u JOURNAL_STREAM -u LISTEN_PID -u LISTEN_FDS \
            -u LISTEN_FDNAMES -u SYSTEMD_EXEC_PID -u TMPDIR PATH="$BOX_PATH:$PATH" \
        /bin/sh -c 'cd "$1" 2>/dev/null || cd /; shift; exec "$@"' sdbox-exec "$PWD" "${scope[@]}" "$@"
}

# One sub-cgroup per mounted hierarchy, below our own cgroup in it.  The box's
# PID 1 moves itself there and then unshares its cgroup namespace, so the box
# sees that sub-cgroup as "/" and never touches the host's cgroup tree.
prepare_cgroups() {
    local id par dev root mnt mopts rest fstype src sopts dir opts key line cg path x
    : > "$STATE/cgroup-layout"; : > "$STATE/cgroup-paths"
    while read -r id par dev root mnt mopts rest; do
        rest=${rest#*- }; read -r fstype src sopts <<< "$rest"
        case $fstype in cgroup|cgroup2) ;; *) continue ;; esac
        case $mnt in /sys/fs/cgroup|/sys/fs/cgroup/*) ;; *) continue ;; esac
        [ "$root" = / ] || continue
        dir=${mnt#/sys/fs/cgroup}; dir=${dir#/}; [ -n "$dir" ] || dir=.
        if [ "$fstype" = cgroup2 ]; then
            key=""; opts=cgroup2
        else
            opts=""
            for x in ${sopts//,/ }; do
                case $x in rw|ro|xattr|noprefix|clone_children|cpuset_v2_mode|favordynmods|release_agent=*) ;;
                           *) opts=${opts:+$opts,}$x ;; esac
            done
            key=$opts
            [[ $opts == *name=* && $opts != *none* ]] && opts="none,$opts"
        fi
        cg=""
        while IFS=: read -r x line path; do
            [ "$line" = "$key" ] && { cg=$path; break; }
        done < /proc/self/cgroup
        [ -n "$cg" ] || { echo "sdbox: no cgroup for hierarchy $mnt ($key), skipped" >&2; continue; }
        path=$mnt${cg%/}/$CGLEAF
        remove_cgroup "$path"
        [ -d "$path" ] && die "cgroup $path still in use (stale box?)"
        mkdir "$path"
        if [ -e "$path/cpuset.cpus" ]; then
            cat "$path/../cpuset.cpus" > "$path/cpuset.cpus"
            cat "$path/../cpuset.mems" > "$path/cpuset.mems"
        fi
        echo "$dir $opts" >> "$STATE/cgroup-layout"
        echo "$path" >> "$STATE/cgroup-paths"
    done < /proc/self/mountinfo
    grep -q . "$STATE/cgroup-paths" || die "no cgroup hierarchies found"
}

remove_cgroup() {   # rmdir a cgroup subtree, deepest first; retries while it drains
    local i
    [ -d "$1" ] || return 0
    for i in $(seq 50); do
        find "$1" -depth -type d -exec rmdir {} + 2>/dev/null || true
        [ -d "$1" ] || return 0
        sleep 0.1
    done
    echo "sdbox: could not remove cgroup $1" >&2
    return 1
}

cmd_start() {
    local t0 pid deadline state
    case $STATE/ in   # the state dir must be the same host dir inside the box
        /tmp/*|/run/*|/var/*|/dev/*|/etc/*|/usr/*|/proc/*|/sys/*) die "SDBOX_ROOT ($SDBOX_ROOT) must not be below /tmp /run /var /dev /etc /usr" ;;
    esac
    box_pid >/dev/null 2>&1 && die "box '$SDBOX_NAME' already running"
    [ -s "$STATE/launcher.pid" ] && cmd_stop >/dev/null 2>&1 || true
    mkdir -p "$STATE/scratch"
    rm -f "$STATE"/{init.pid,launcher.pid,console.log,pidns,ready}
    echo "$RANDOM$RANDOM$RANDOM" > "$CANARY"; cp "$CANARY" "$STATE/canary"
    prepare_cgroups
    t0=$(now)
    (   # detach: no inherited fds, own session, console = pty logged by script(1)
        for fd in $(ls /proc/$BASHPID/fd); do [ "$fd" -gt 2 ] && eval "exec $fd>&-"; done
        export SHELL=/bin/bash
        # stdin: a FIFO opened read-write never reaches EOF (on EOF script(1) keeps
        # trying to pass ^D to the pty for up to 2s, which also delays its exit)
        rm -f "$STATE/stdin"; mkfifo -m 600 "$STATE/stdin"
        exec setsid script -qfec "exec unshare --pid --fork --mount --propagation private --uts --ipc --net -- '$SELF' __stage1" \
            "$STATE/console.log" <> "$STATE/stdin" > /dev/null 2>&1
    ) &
    echo "$!" > "$STATE/launcher.pid"
    deadline=$(( $(date +%s) + ${SDBOX_TIMEOUT:-30} ))
    until pid=$(box_pid 2>/dev/null); do
        alive "$(cat "$STATE/launcher.pid")" || boot_failed "box exited during setup"
        [ "$(date +%s)" -lt "$deadline" ] || boot_failed "timeout waiting for PID 1"
        sleep 0.02
    done
    readlink "/proc/$pid/ns/pid" > "$STATE/pidns"
    # 1) the system bus answers
    until "$SELF" exec busctl --system --timeout=1 call org.freedesktop.DBus /org/freedesktop/DBus \
              org.freedesktop.DBus GetId > /dev/null 2>&1; do
        box_pid > /dev/null || boot_failed "box died during boot"
        [ "$(date +%s)" -lt "$deadline" ] || boot_failed "timeout waiting for the system bus"
        sleep 0.05
    done
    echo "sdbox: '$SDBOX_NAME' pid $pid: system bus answers after $(elapsed "$t0")s"
    # 2) the initial transaction (sdbox.target: journald, dbus, polkit) is done
    state=$(timeout $(( deadline - $(date +%s) + 1 )) "$SELF" exec systemctl is-system-running --wait 2>/dev/null || true)
    if [ "$state" != running ]; then
        "$SELF" exec systemctl --no-pager --failed >&2 || true
        boot_failed "system state is '${state:-unknown}', not 'running'"
    fi
    touch "$STATE/ready"
    echo "sdbox: '$SDBOX_NAME' booted (state $state) after $(elapsed "$t0")s"
}

boot_failed() {
    echo "sdbox: boot failed: $1" >&2
    echo "----- console ($STATE/console.log) -----" >&2
    tail -n 40 "$STATE/console.log" 2>/dev/null | tr -d '\r' >&2 || true
    cmd_stop >&2 || true
    exit 1
}

cmd_stop() {
    local pid lpid t0 i left rc=0 ns
    t0=$(now)
    if pid=$(box_pid); then
        kill -s SIGRTMIN+3 "$pid" 2>/dev/null || true     # halt.target
        for i in $(seq $(( ${SDBOX_STOP_TIMEOUT:-10} * 50 ))); do alive "$pid" || break; sleep 0.02; done
        if alive "$pid"; then
            echo "sdbox: PID 1 did not halt in ${SDBOX_STOP_TIMEOUT:-10}s, SIGKILL (kills the whole pid namespace)" >&2
            kill -KILL "$pid" 2>/dev/null || true
            for i in $(seq 250); do alive "$pid" || break; sleep 0.02; done
        fi
    fi
    if [ -s "$STATE/launcher.pid" ]; then       # script(1) + unshare parent exit with PID 1
        lpid=$(cat "$STATE/launcher.pid")
        for i in $(seq 250); do alive "$lpid" || break; sleep 0.02; done
        alive "$lpid" && { echo "sdbox: launcher $lpid still alive, killing it" >&2; kill -KILL "$lpid" || true; }
    fi
    # nothing of the box may survive
    if [ -s "$STATE/pidns" ]; then
        ns=$(cat "$STATE/pidns")
        left=$(for p in /proc/[0-9]*; do [ "$(readlink "$p/ns/pid" 2>/dev/null)" = "$ns" ] && echo "${p#/proc/}"; done || true)
        [ -z "$left" ] || { echo "sdbox: processes left in box pid ns: $left" >&2; rc=1; }
    fi
    if [ -s "$STATE/cgroup-paths" ]; then
        while read -r p; do remove_cgroup "$p" || rc=1; done < "$STATE/cgroup-paths"
    fi
    if [ -s "$STATE/canary" ]; then
        if [ "$(cat "$CANARY" 2>/dev/null)" != "$(cat "$STATE/canary")" ]; then
            echo "sdbox: WARNING: host canary $CANARY is gone or changed!" >&2; rc=1
        else
            rm -f "$CANARY"
        fi
    fi
    rm -f "$STATE"/{init.pid,launcher.pid,pidns,ready,canary,cgroup-paths,cgroup-layout,stdin}
    # A clean stop leaves nothing on disk; after a failed one the console log stays to read.
    [ $rc = 0 ] && rm -rf --one-file-system "$STATE"
    echo "sdbox: '$SDBOX_NAME' stopped in $(elapsed "$t0")s"
    return $rc
}

cmd_status() {
    local pid
    if pid=$(box_pid); then
        echo "running: name=$SDBOX_NAME pid=$pid state=$("$SELF" exec systemctl is-system-running 2>/dev/null || true)"
    else
        echo "stopped: name=$SDBOX_NAME"; return 3
    fi
}

# ---------------------------------------------------------------- box side
# stage1: PID 1 of the new pid/mount/uts/ipc/net namespaces; /proc is still the host's.
stage1() {
    local stat rest p
    read -r stat < /proc/self/stat            # read by this shell => our host pid
    rest=${stat##*) }; set -- $rest
    while read -r p; do echo 0 > "$p/cgroup.procs"; done < "$STATE/cgroup-paths"
    echo "${stat%% *} ${20}" > "$STATE/init.pid.tmp"; mv "$STATE/init.pid.tmp" "$STATE/init.pid"
    exec unshare --cgroup -- "$SELF" __stage2
}

# stage2: also in a new cgroup namespace rooted at the box's cgroups.  Build the
# private file system view, verify it, then exec systemd.  Any failure => exit
# before systemd runs.
stage2() {
    local S=$STATE d x dir opts tty
    say() { echo "sdbox-setup: $*"; }
    mount --make-rprivate /
    # scratch tmpfs (overlay upper dirs, new /dev before it is moved into place)
    mount -t tmpfs -o mode=0700,size=2g sdbox-scratch "$S/scratch"
    # the host's root file system is read-only in the box, except SDBOX_RW paths
    # ("remount,bind,ro" only flips this namespace's per-mount flag, never the fs)
    for x in ${SDBOX_RW:-}; do
        [ -d "$x" ] || { say "SDBOX_RW path $x is not a directory"; exit 1; }
        mount --bind "$x" "$x"
    done
    mount -o remount,bind,ro /
    # Each private mount sits on a read-only under-layer (ro bind of the host dir,
    # or an empty ro tmpfs), so even if something in the box unmounts it the host
    # files below stay unreachable or read-only.
    for d in etc usr var; do
        mount --bind "/$d" "/$d"; mount -o remount,bind,ro "/$d"
        mkdir -p "$S/scratch/ovl/$d/upper" "$S/scratch/ovl/$d/work"
        mount -t overlay "sdbox-$d" -o "lowerdir=/$d,upperdir=$S/scratch/ovl/$d/upper,workdir=$S/scratch/ovl/$d/work" "/$d"
    done
    for d in /run /tmp /var/tmp; do mount -t tmpfs -o ro,mode=0755,size=4k sdbox-underlay "$d"; done
    mount -t tmpfs -o mode=0755,nosuid,nodev,size=512m sdbox-run /run
    mount -t tmpfs -o mode=1777,nosuid,nodev,size=2g sdbox-tmp /tmp
    mount -t tmpfs -o mode=1777,nosuid,nodev,size=1g sdbox-vartmp /var/tmp
    # /dev: private tmpfs with the usual nodes; console = our pty (script(1) logs it)
    tty=$(tty) || { say "stdin is not a tty"; exit 1; }
    d=$S/scratch/dev; mkdir -p "$d"
    mount -t tmpfs -o mode=0755,nosuid,size=8m sdbox-dev "$d"
    mknod -m 666 "$d/null" c 1 3; mknod -m 666 "$d/zero" c 1 5; mknod -m 666 "$d/full" c 1 7
    mknod -m 666 "$d/random" c 1 8; mknod -m 666 "$d/urandom" c 1 9; mknod -m 666 "$d/tty" c 5 0
    mkdir -m 755 "$d/pts" "$d/mqueue"; mkdir -m 1777 "$d/shm"
    ln -s /proc/self/fd "$d/fd"; ln -s /proc/self/fd/0 "$d/stdin"
    ln -s /proc/self/fd/1 "$d/stdout"; ln -s /proc/self/fd/2 "$d/stderr"; ln -s pts/ptmx "$d/ptmx"
    touch "$d/console"; mount --bind "$tty" "$d/console"
    for x in ${SDBOX_DEVICES:-}; do
        [ -e "/dev/$x" ] || { say "no /dev/$x on host"; exit 1; }
        mkdir -p "$(dirname "$d/$x")"; touch "$d/$x"; mount --bind "/dev/$x" "$d/$x"
    done
    mount --move "$d" /dev
    mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5,nosuid,noexec devpts /dev/pts
    mount -t tmpfs -o mode=1777,nosuid,nodev,size=512m sdbox-shm /dev/shm
    mount -t mqueue -o nosuid,nodev,noexec mqueue /dev/mqueue
    # /proc of the new pid ns, kernel tunables read-only
    mount -t proc -o nosuid,nodev,noexec proc /proc
    mount --bind /proc/sys /proc/sys; mount -o remount,bind,ro,nosuid,nodev,noexec /proc/sys
    if [ -e /proc/sysrq-trigger ]; then
        mount --bind /proc/sysrq-trigger /proc/sysrq-trigger; mount -o remount,bind,ro /proc/sysrq-trigger
    fi
    # /sys read-only (new instance: own netns view); cgroup hierarchies rw below it,
    # mounted inside the cgroup namespace, so "/" is the box's own sub-cgroup
    mount -t sysfs -o ro,nosuid,nodev,noexec sysfs /sys
    if grep -q '^\. ' "$S/cgroup-layout"; then
        mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 /sys/fs/cgroup
    else
        mount -t tmpfs -o mode=0755,nosuid,nodev,noexec,size=4m sdbox-cgroup /sys/fs/cgroup
        while read -r dir opts; do
            mkdir -p "/sys/fs/cgroup/$dir"
            if [ "$opts" = cgroup2 ]; then mount -t cgroup2 -o nosuid,nodev,noexec cgroup2 "/sys/fs/cgroup/$dir"
            else mount -t cgroup -o "nosuid,nodev,noexec,$opts" cgroup "/sys/fs/cgroup/$dir"; fi
        done < "$S/cgroup-layout"
    fi

    # ---- safety checks: abort before systemd runs if anything is not private
    for x in /run /tmp /var/tmp /dev /dev/shm; do
        [ "$(findmnt -n -o FSTYPE --mountpoint "$x" | tail -n1)" = tmpfs ] || { say "$x is not a private tmpfs"; exit 1; }
    done
    for x in /etc /usr /var; do
        [ "$(findmnt -n -o FSTYPE --mountpoint "$x" | tail -n1)" = overlay ] || { say "$x is not an overlay"; exit 1; }
    done
    [ ! -e "$CANARY" ] || { say "host /tmp is visible in the box"; exit 1; }
    ! touch /.sdbox-rw-test 2>/dev/null || { rm -f /.sdbox-rw-test; say "/ is writable"; exit 1; }
    [ "$(findmnt -n -o OPTIONS --mountpoint /proc/sys | tail -n1 | cut -d, -f1)" = ro ] || { say "/proc/sys not ro"; exit 1; }
    grep -q ' / / .*shared:' /proc/self/mountinfo && { say "/ is shared with the host"; exit 1; }
    [ "$(cut -d: -f3 /proc/self/cgroup | sort -u)" = / ] || { say "cgroup namespace not rooted"; exit 1; }

    # ---- box configuration (all on private tmpfs/overlays)
    echo "sdbox-$SDBOX_NAME" > /etc/hostname
    od -An -N16 -tx1 /dev/urandom | tr -d ' \n' > /etc/machine-id; echo >> /etc/machine-id
    mkdir -p /run/sdbox/units /run/sdbox/empty /run/systemd/journald.conf.d /run/systemd/system.conf.d /run/systemd/system
    printf '[Journal]\nStorage=volatile\nForwardToSyslog=no\nForwardToConsole=yes\nTTYPath=/dev/console\nMaxLevelConsole=info\nRateLimitIntervalSec=0\n' \
        > /run/systemd/journald.conf.d/sdbox.conf
    printf '[Manager]\nLogColor=no\nShowStatus=no\nDefaultTimeoutStartSec=30s\nDefaultTimeoutStopSec=10s\nDefaultCPUAccounting=yes\nDefaultMemoryAccounting=yes\nDefaultTasksAccounting=yes\n' \
        > /run/systemd/system.conf.d/sdbox.conf
    write_units /run/sdbox/units

    exec setpriv --bounding-set "$DROP_CAPS" -- \
        env -i container=sdbox TERM=linux PATH="$BOX_PATH" LANG=C.UTF-8 \
        SYSTEMD_UNIT_PATH="/etc/systemd/system.control:/run/systemd/system.control:/run/systemd/transient:/run/systemd/system:/run/sdbox/units${SDBOX_UNIT_DIRS:+:$SDBOX_UNIT_DIRS}" \
        SYSTEMD_GENERATOR_PATH=/run/sdbox/empty SYSTEMD_ENVIRONMENT_GENERATOR_PATH=/run/sdbox/empty \
        /lib/systemd/systemd --system --unit=sdbox.target --log-target=journal-or-kmsg \
        --log-level="${SDBOX_LOG_LEVEL:-info}" --show-status=no
}

write_units() {
    local u=$1 f
    cat > "$u/sdbox.target" <<'EOF'
[Unit]
Description=sdbox test system
Requires=dbus.socket
Wants=systemd-journald.service dbus.service polkit.service systemd-logind.service
After=systemd-journald.service dbus.service polkit.service systemd-logind.service
AllowIsolate=yes
EOF
    for f in sysinit basic sockets timers paths slices local-fs network network-online; do
        printf '[Unit]\nDescription=%s.target (sdbox stub)\nDefaultDependencies=no\n' "$f" > "$u/$f.target"
    done
    for f in shutdown.target umount.target final.target halt.target systemd-halt.service \
             poweroff.target systemd-poweroff.service reboot.target systemd-reboot.service \
             exit.target systemd-exit.service machine.slice user.slice \
             dbus.socket dbus.service polkit.service \
             systemd-journald.socket systemd-journald-dev-log.socket; do
        cp "/lib/systemd/system/$f" "$u/$f"
    done
    # the box's private mounts must not be unmounted when the box halts
    for f in tmp:/tmp var-tmp:/var/tmp var:/var; do
        printf '[Unit]\nDescription=sdbox private %s\nDefaultDependencies=no\n[Mount]\nWhat=sdbox\nWhere=%s\n' \
            "${f#*:}" "${f#*:}" > "$u/${f%%:*}.mount"
    done
    # optional units of packages that may be installed (machined: systemd-container; logind)
    for f in systemd-machined.service dbus-org.freedesktop.machine1.service; do
        [ -e "/lib/systemd/system/$f" ] && cp -P "/lib/systemd/system/$f" "$u/$f"
    done
    [ -e "$u/systemd-machined.service" ] && [ ! -e "$u/dbus-org.freedesktop.machine1.service" ] && \
        ln -s systemd-machined.service "$u/dbus-org.freedesktop.machine1.service"
    # logind + per-user service managers (user@UID.service, /run/user/UID)
    for f in systemd-logind.service user-runtime-dir@.service user@.service; do
        cp "/lib/systemd/system/$f" "$u/$f"
    done
    ln -s systemd-logind.service "$u/dbus-org.freedesktop.login1.service"
    mkdir -p "$u/user-.slice.d"
    cp /lib/systemd/system/user-.slice.d/10-defaults.conf "$u/user-.slice.d/"
    # journald without the audit socket (no audit in a non-initial netns)
    sed 's/^Sockets=.*/Sockets=systemd-journald.socket systemd-journald-dev-log.socket/' \
        /lib/systemd/system/systemd-journald.service > "$u/systemd-journald.service"
}

[ "$(id -u)" = 0 ] || die "must run as root"
case "${1:-}" in
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    exec) shift; [ $# -gt 0 ] || die "usage: $0 exec CMD [ARGS...]"; box_enter "$@" ;;
    log) tr -d '\r' < "$STATE/console.log" ;;
    __stage1) stage1 ;;
    __stage2) stage2 ;;
    *) echo "usage: $0 start|exec CMD...|stop|status|log" >&2; exit 2 ;;
esac
