# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=bash
# Debian 13 (trixie) packages through an apt configuration of our own, for
# scripts that fetch Xen 4.20 and its userspace. Sourced, not run; the caller
# is at the repository's top and defines say().
#
#   trixie_update               fetch Debian 13's package lists once
#   trixie_apt ARGS...          apt-get on that configuration (download, ...)
#   trixie_apt_cache ARGS...    apt-cache on it (show, depends, ...)
#
# Everything lives under build/apt-trixie: its own sources list (the trixie
# suite only), package lists and cache, and an empty dpkg status, so that
# the packages installed on the host (Debian 12's) do not show up as
# candidates. The system's apt sources are never read or changed, and
# nothing is installed from it: `apt-get download` fetches a .deb, which the
# caller unpacks with dpkg -x into the build tree.

TRIXIE=$PWD/build/apt-trixie

trixie_opts() {
    local d=$TRIXIE
    [ -f "$d/state/status" ] || { mkdir -p "$d/state"; : > "$d/state/status"; }
    printf '%s\n' -o "Dir::Etc=$d/etc" -o "Dir::Etc::sourcelist=$d/etc/sources.list" \
        -o "Dir::Etc::sourceparts=$d/etc/sources.list.d" \
        -o "Dir::Etc::preferencesparts=$d/etc/preferences.d" \
        -o "Dir::State=$d/state" -o "Dir::State::status=$d/state/status" \
        -o "Dir::Cache=$d/cache" -o Debug::NoLocking=1
}
trixie_apt() {
    local opts; mapfile -t opts < <(trixie_opts)
    apt-get -q "${opts[@]}" "$@"
}
trixie_apt_cache() {
    local opts; mapfile -t opts < <(trixie_opts)
    apt-cache "${opts[@]}" "$@"
}
trixie_update() {
    [ -f "$TRIXIE/updated" ] && return 0
    mkdir -p "$TRIXIE"/etc/sources.list.d "$TRIXIE"/etc/preferences.d \
        "$TRIXIE"/state/lists/partial "$TRIXIE"/cache/archives/partial
    echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main" \
        > "$TRIXIE/etc/sources.list"
    say "apt-get update of Debian 13 (trixie) into $TRIXIE (a private apt configuration; the system's sources are untouched)"
    trixie_apt update >&2 && touch "$TRIXIE/updated"
}
