#!/bin/bash
# Every C file of the tree is as .clang-format lays it out; a difference fails
# and is printed as the diff to apply (clang-format -i FILE fixes it).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
command -v clang-format > /dev/null || { echo "clang-format is not installed (tests/install-deps.sh installs it)"; exit 1; }
status=0
mapfile -d '' files < <(find common daemon cli dbus vmm viewer tests bench extras -name '*.[ch]' -print0 2> /dev/null)
# One run over all of them; only where it finds a difference, the diff of each file.
if ! clang-format --dry-run --Werror "${files[@]}" > /dev/null 2>&1; then
	for f in "${files[@]}"; do
		if ! clang-format --dry-run --Werror "$f" > /dev/null 2>&1; then
			echo "$f is not formatted:"
			clang-format "$f" | diff -u "$f" - | head -n 40
			status=1
		fi
	done
fi
[ $status = 0 ] && echo "every C file is formatted ($(clang-format --version))"
exit $status
