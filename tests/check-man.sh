#!/bin/bash
# The manual pages render without warnings and name everything they document:
# every phyllomectl command and option, every phyllome-vmm and phyllomed
# option, every key of a machine definition. Prints TAP.
#   check-man.sh BUILDDIR SOURCEDIR
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/vmm/tap.sh"
build=$1 src=$2

if ! command -v scdoc > /dev/null || [ ! -f "$build/man/phyllomectl.1" ]; then
	echo "1..0 # SKIP scdoc is not installed, so the manual pages were not built"
	exit 0
fi
render() { # PAGE: its text as man shows it; warnings in $scratch/PAGE.warnings
	LC_ALL=C.UTF-8 MANWIDTH=100 man --warnings -l "$build/man/$1" 2> "$scratch/$1.warnings" | col -b
}
for page in phyllomectl.1 phyllomed.8 phyllome-vmm.1 phyllome.conf.5 phyllome-viewer.1; do
	render "$page" > "$scratch/$page.txt"
	check "$page renders, without warnings" eval '[ -s "$scratch/$page.txt" ] && [ ! -s "$scratch/$page.warnings" ]'
	[ -s "$scratch/$page.warnings" ] && tap_diag < "$scratch/$page.warnings"
done

documents() { # PAGE WHAT ITEM...: each ITEM appears in PAGE
	local page=$1 what=$2 missing=()
	shift 2
	for item in "$@"; do
		grep -qF -- "$item" "$scratch/$page.txt" || missing+=("$item")
	done
	check "$page names every $what ($# of them)" [ ${#missing[@]} = 0 ] && [ $# -gt 0 ]
	[ ${#missing[@]} = 0 ] || echo "missing: ${missing[*]}" | tap_diag
}

# phyllomectl: the command table, its global options, and each command's own
# (GOptionEntry tables and the options a command matches by hand).
mapfile -t verbs < <(sed -n 's/^\t{ "\([a-z]*\)",.*/\1/p' "$src/cli/phyllomectl.c")
mapfile -t ctl_options < <({
	"$build/cli/phyllomectl" --help | grep -o -- '--[a-z][a-z-]*'
	grep -ho '{ "[a-z][a-z-]*", 0, 0, G_OPTION_ARG' "$src"/cli/*.c | sed 's/{ "\([^"]*\)".*/--\1/'
	grep -hoE '(g_str_equal\(argv\[i\], |device_verb\(.*)"--[a-z-]+"' "$src"/cli/*.c | grep -o -- '--[a-z-]*'
} | sort -u)
documents phyllomectl.1 command "${verbs[@]}"
completion_knows() { # the bash completion offers every command
	local missing=() words
	words=$(sed -n 's/^\tlocal verbs="\(.*\)"/\1/p' "$src/cli/phyllomectl.bash-completion")
	for verb in "${verbs[@]}"; do
		[[ " $words " == *" $verb "* ]] || missing+=("$verb")
	done
	[ ${#missing[@]} = 0 ] && return 0
	echo "not completed: ${missing[*]}" | tap_diag
	return 1
}
check "the bash completion offers every command" completion_knows
documents phyllomectl.1 option "${ctl_options[@]}"

mapfile -t vmm_options < <("$build/vmm/phyllome-vmm" --help | grep -o -- '--[a-z][a-z-]*' | sort -u)
documents phyllome-vmm.1 option "${vmm_options[@]}"
if [ -x "$build/viewer/phyllome-viewer" ]; then
	mapfile -t viewer_options < <("$build/viewer/phyllome-viewer" --help | grep -o -- '--[a-z][a-z-]*' | grep -v -- '--help' | sort -u)
	documents phyllome-viewer.1 option "${viewer_options[@]}"
fi
mapfile -t daemon_options < <("$build/daemon/phyllomed" --help | grep -o -- '--[a-z][a-z-]*' | grep -v -- '--help' | sort -u)
documents phyllomed.8 option "${daemon_options[@]}"

# Every key the definition parser reads, as KEY=.
mapfile -t keys < <(grep -hoE '(GROUP_[A-Z]+|kf), "[A-Z][A-Za-z]+"' "$src/daemon/config.c" |
	sed 's/.*"\(.*\)"/\1=/' | sort -u)
documents phyllome.conf.5 key "${keys[@]}"
tap_done
