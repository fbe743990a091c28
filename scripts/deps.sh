#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Install what a build or run step needs, saying what it does.
#   deps.sh headers   libxen-dev (Xen public headers)
#   deps.sh qemu      qemu-system-x86
#   deps.sh xen       the Xen hypervisor of XEN_VERSION (4.17, the default, from Debian 12;
#                     4.20 from Debian 13), extracted into build/xen (never installed)
#   deps.sh fuzz      clang + its sanitizer/fuzzer runtime
#   deps.sh bench     valgrind (callgrind counts instructions)
#   deps.sh mutate    python3 (the mutation-testing driver)
# Several words may be given. Nothing is done when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

XEN_VERSION=${XEN_VERSION:-4.17}
XEN_PKG=xen-hypervisor-$XEN_VERSION-amd64
XEN_DIR=build/xen
XEN_IMG=xen-$XEN_VERSION-amd64
updated=0

say() { echo "deps: $*" >&2; }

need_root() {
    if [ "$(id -u)" != 0 ]; then
        if command -v sudo >/dev/null; then echo sudo; return; fi
        say "need root to install packages (run as root or install sudo)"; exit 1
    fi
}

apt_install() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    local SUDO; SUDO=$(need_root)
    if [ $updated = 0 ]; then
        say "apt-get update"
        $SUDO apt-get update -qq >&2
        updated=1
    fi
    say "installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >&2
}

# Debian 13's packages (Xen 4.20) come through a private apt configuration
# under build/apt-trixie (trixie_update, trixie_apt): see scripts/apt-trixie.sh.
. scripts/apt-trixie.sh

get_xen() {
    [ -f "$XEN_DIR/$XEN_IMG" ] && return 0
    case "$XEN_VERSION" in
    4.17|4.20) ;;
    *) say "XEN_VERSION is 4.17 or 4.20, not '$XEN_VERSION'"; exit 2 ;;
    esac
    mkdir -p "$XEN_DIR/deb"
    if ! ls "$XEN_DIR"/deb/${XEN_PKG}_*.deb >/dev/null 2>&1; then
        if [ "$XEN_VERSION" = 4.20 ]; then
            trixie_update || { say "could not read Debian 13's package lists"; exit 1; }
            say "downloading $XEN_PKG from Debian 13 (extracted into $XEN_DIR, not installed)"
            (cd "$XEN_DIR/deb" && trixie_apt download "$XEN_PKG" 2>&1 | grep -v "unsandboxed" >&2 || true)
        else
            if [ $updated = 0 ] && ! apt-cache show "$XEN_PKG" >/dev/null 2>&1; then
                local SUDO; SUDO=$(need_root)
                say "apt-get update"; $SUDO apt-get update -qq >&2; updated=1
            fi
            say "downloading $XEN_PKG (extracted into $XEN_DIR, not installed)"
            (cd "$XEN_DIR/deb" && apt-get download -qq "$XEN_PKG" 2>&1 | grep -v "unsandboxed" >&2 || true)
        fi
    fi
    local deb; deb=$(ls "$XEN_DIR"/deb/${XEN_PKG}_*.deb | head -n1)
    [ -f "$deb" ] || { say "could not download $XEN_PKG"; exit 1; }
    rm -rf "$XEN_DIR/x"; dpkg -x "$deb" "$XEN_DIR/x"
    gunzip -c "$XEN_DIR/x/boot/$XEN_IMG.gz" > "$XEN_DIR/$XEN_IMG.tmp"
    mv "$XEN_DIR/$XEN_IMG.tmp" "$XEN_DIR/$XEN_IMG"
    say "Xen hypervisor ready: $XEN_DIR/$XEN_IMG"
}

for what in "$@"; do
    case "$what" in
        headers) apt_install libxen-dev ;;
        qemu)    apt_install qemu-system-x86 ;;
        xen)     get_xen ;;
        fuzz)    apt_install clang libclang-rt-14-dev ;;
        bench)   apt_install valgrind ;;
        mutate)  apt_install python3 ;;
        *) say "unknown dependency '$what'"; exit 2 ;;
    esac
done
