#!/bin/sh
# meson install step of a sanitizer build: its monitor's allow-lists are looser
# (the sanitizers' runtime needs more system calls), so it is for tests only and
# never installed where phyllomed would run it.
echo "phyllome: this build uses sanitizers (b_sanitize=$1): it is for tests and is not installed." >&2
echo "phyllome: configure without -Db_sanitize to install." >&2
exit 1
