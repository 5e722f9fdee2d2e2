#!/bin/bash
# The GNOME Shell extension in a real, headless GNOME Shell (mutter's headless
# backend with a virtual monitor, software rendering), in a login session of a
# user of the systemd box, against phyllomed in that box. A helper extension
# (screenshot@phyllome.test) clicks through the menu and saves two screenshots:
# OUT.png, the menu with a failed start's notification, and OUT-polkit.png, the
# Shell's own polkit dialog asking for a start the user may not make alone.
# Needs root, gnome-shell and a built tree; no KVM (so no machine can run here).
#   tests/shell-extension/screenshot.sh BUILDDIR OUT.png
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
[ $# = 2 ] || { echo "usage: $0 BUILDDIR OUT.png" >&2; exit 2; }
build=$(cd "$1" && pwd)
out=$(realpath -m "$2")
command -v gnome-shell > /dev/null || { echo "gnome-shell is not installed (apt-get install gnome-shell)" >&2; exit 77; }
sdbox="$src/tests/sdbox/sdbox.sh"
export SDBOX_NAME=phyllome-shell-$$ SDBOX_ROOT=${SDBOX_ROOT:-$HOME/.cache/phyllome-sdbox} SDBOX_TIMEOUT=${SDBOX_TIMEOUT:-300}
stage=$SDBOX_ROOT/shell-stage-$$
X() { "$sdbox" exec "$@"; }
trap '"$sdbox" stop > /dev/null 2>&1; rm -rf "$stage"' EXIT

"$sdbox" start > /dev/null || { echo "the systemd box did not boot" >&2; exit 1; }
"$src/tests/daemon/box-stage.sh" "$build" "$stage" > /dev/null
cp -r "$src/extras/gnome-shell/phyllome@phyllome.org" "$here/screenshot@phyllome.test" "$stage/"
chmod -R a+rX "$stage"
X "$stage/box-install.sh" > /dev/null 2>&1 || { echo "phyllome did not install into the box" >&2; exit 1; }

user=gina home=/var/lib/home-gina
X useradd -m -d "$home" "$user"
ctl() { X phyllomectl --no-ask-password "$@"; }
# Where its owner may read it: an owner's machine gets its files opened as her.
X install -D -m 644 "$stage/tinyguest.bzImage" /var/lib/phyllome/images/tinyguest.bzImage
kernel=/var/lib/phyllome/images/tinyguest.bzImage
ctl create desktop --kernel "$kernel" --memory 4G --cpus 4 --owner "$user" --autostart login
ctl create work --kernel "$kernel" --memory 2G --owner "$user"
ctl create build-server --kernel "$kernel" --memory 8G --cpus 8
# Without /dev/kvm in the box this start fails: the menu shows a failed machine.
ctl start build-server > /dev/null 2>&1

X sh -s "$stage" "$home" "$user" << 'SETUP'
stage=$1 home=$2 user=$3
mkdir -p "$home/.local/share/gnome-shell/extensions" "$home/.config/glib-2.0/settings"
cp -r "$stage/phyllome@phyllome.org" "$stage/screenshot@phyllome.test" "$home/.local/share/gnome-shell/extensions/"
cat > "$home/.config/glib-2.0/settings/keyfile" << KEYFILE
[org/gnome/shell]
enabled-extensions=['phyllome@phyllome.org', 'screenshot@phyllome.test']
welcome-dialog-last-shown-version='999'
KEYFILE
chown -R "$user:" "$home"
# As an administrator could: gina operates "work" without a password (not "build-server").
cat > /etc/polkit-1/rules.d/50-phyllome-shot.rules << 'RULES'
polkit.addRule(function(action, subject) {
	if (action.id == "org.phyllome.vm1.manage-own" && subject.user == "gina" && action.lookup("machine") == "work")
		return polkit.Result.YES;
});
RULES
SETUP

# A login session of gina's (pam_systemd: XDG_RUNTIME_DIR, a seat-less session)
# runs the Shell on its own session bus; the keyfile backend gives it the settings above.
X systemd-run --quiet --uid="$user" -p PAMName=login --unit=gnome-shell-test \
	-E GSETTINGS_BACKEND=keyfile -E PHYLLOME_SHOT="$home/shot.png" -E PHYLLOME_SHOT_MACHINE=desktop -E PHYLLOME_SHOT_START=work \
	-E PHYLLOME_SHOT_ASK=build-server -E PHYLLOME_SHOT_ASK_FILE="$home/shot-polkit.png" \
	-E LIBGL_ALWAYS_SOFTWARE=1 -E HOME="$home" \
	-- sh -c 'exec dbus-run-session -- gnome-shell --headless --wayland --no-x11 --virtual-monitor 1280x800 > "$0" 2>&1' \
	"$home/shell.log"
shell_log() { X cat "$home/shell.log" 2> /dev/null; }
deadline=$((SECONDS + ${SHOT_TIMEOUT:-180}))
status=1
while [ $SECONDS -lt $deadline ]; do
	if shell_log | grep -q "PHYLLOME_SHOT done"; then
		status=0
		break
	fi
	shell_log | grep -q "PHYLLOME_SHOT failed" && break
	X systemctl is-active -q gnome-shell-test || break
	sleep 1
done
shell_log | grep -E "PHYLLOME_SHOT|JS ERROR|JS WARNING|phyllome" >&2
if [ $status = 0 ]; then
	X cat "$home/shot.png" > "$out"
	X cat "$home/shot-polkit.png" > "${out%.png}-polkit.png"
	echo "screenshots: $out ${out%.png}-polkit.png"
else
	echo "no screenshot; the Shell's log ends:" >&2
	shell_log | tail -n 40 >&2
fi
X systemctl stop gnome-shell-test
exit $status
