#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Fetch and unpack everything the xl domU rig runs, from Debian packages.
#
#   [XEN_VERSION=4.17|4.20] scripts/domu/fetch.sh [DIR]
#
# XEN_VERSION picks the release: 4.17 (the default) is Debian 12's Xen,
# taken from the system's apt sources; 4.20 is Debian 13's, taken through
# the private apt configuration of scripts/apt-trixie.sh, with Debian 13's
# kernel, busybox and C libraries to match. DIR defaults to build/domu for
# 4.17 and build/domu-4.20 for 4.20.
#
# Nothing is installed on the host: each package is fetched with
# `apt-get download` into DIR/debs (the cache) and unpacked with `dpkg -x`
# into DIR/root; from the kernel package only vmlinuz and the Xen driver
# modules are taken (decompressed when the package ships them as .ko.xz),
# into DIR/kernel.  When DIR/ready exists, the whole step is skipped without
# touching apt, so a second run needs no network.
#
# The C libraries xl needs are not named here: they are found by running
# the unpacked binaries through ldd, and each library ldd resolves outside
# DIR/root is mapped back to its Debian package with dpkg -S.  libgcc_s.so.1
# is added by hand because glibc dlopen()s it (for pthread_cancel and
# unwinding) at run time, so ldd never lists it; without it xl aborts on
# exit. For Debian 13's binaries the host's (Debian 12's) package names
# are looked up in Debian 13; a library renamed there for the 64-bit time_t
# transition (NAMEt64) is found under that name.
set -euo pipefail
cd "$(dirname "$0")/../.."

say() { echo "domu-fetch: $*" >&2; }

XEN_VERSION=${XEN_VERSION:-4.17}
case "$XEN_VERSION" in
4.17) DIR=${1:-build/domu} ;;
4.20) DIR=${1:-build/domu-4.20}
      . scripts/apt-trixie.sh ;;
*) say "XEN_VERSION is 4.17 or 4.20, not '$XEN_VERSION'"; exit 2 ;;
esac
DEBS=$DIR/debs
ROOT=$DIR/root
KDIR=$DIR/kernel

# The binaries the dom0 initramfs runs; their library closure is what we ship.
XEN_BIN=usr/lib/xen-$XEN_VERSION/bin
BINS="$XEN_BIN/xl $XEN_BIN/xenstored $XEN_BIN/xenconsoled $XEN_BIN/xenconsole
      $XEN_BIN/xen-init-dom0 $XEN_BIN/libxl-save-helper"

# apt-get and apt-cache on the release's package lists.
rel_apt() { if [ "$XEN_VERSION" = 4.20 ]; then trixie_apt "$@"; else apt-get "$@"; fi; }
rel_apt_cache() { if [ "$XEN_VERSION" = 4.20 ]; then trixie_apt_cache "$@"; else apt-cache "$@"; fi; }

updated=0
apt_update_once() {
    [ $updated = 1 ] && return 0
    if [ "$XEN_VERSION" = 4.20 ]; then
        # Called when the lists lack a package or name a version the mirror
        # no longer has: fetch them again.
        rm -f "$TRIXIE/updated"
        trixie_update || { say "apt-get update of Debian 13 failed"; exit 1; }
    else
        say "apt-get update"
        apt-get update -qq >&2 || { say "apt-get update failed"; exit 1; }
    fi
    updated=1
}

# The cached .deb for a package, if any (dpkg names the file NAME_VERSION_ARCH
# with the epoch's ':' escaped as %3a).
cached_deb() { ls "$DEBS/$1"_*.deb 2>/dev/null | head -n1; }

download() {
    local missing=() p
    for p in "$@"; do [ -n "$(cached_deb "$p")" ] || missing+=("$p"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    rel_apt_cache show "${missing[0]}" >/dev/null 2>&1 || apt_update_once
    say "downloading ${missing[*]}"
    # apt warns that _apt cannot write into a root-owned build tree; harmless.
    if ! (cd "$DEBS" && rel_apt download -qq "${missing[@]}" 2>&1 |
            { grep -v "unsandboxed" || true; } >&2; exit "${PIPESTATUS[0]}"); then
        # Stale package lists name versions the mirror no longer has.
        [ $updated = 1 ] || { apt_update_once; download "$@"; return; }
    fi
    for p in "${missing[@]}"; do
        [ -n "$(cached_deb "$p")" ] || { say "could not download $p"; exit 1; }
    done
}

# One cache holds one release: a .deb of the other's would be taken for
# ours (cached_deb goes by package name).
for other in "$DEBS"/xen-utils-4.[0-9]*_*.deb; do
    [ -e "$other" ] || continue
    case "${other##*/}" in xen-utils-"$XEN_VERSION"_*) continue ;; esac
    say "$DIR holds the packages of another Xen version (${other##*/}), not $XEN_VERSION's:"
    say "give Xen $XEN_VERSION a cache of its own (DOMU_CACHE, or leave it unset)"
    exit 1
done

# Fast path: everything already unpacked.
if [ -f "$DIR/ready" ] && [ -f "$KDIR/vmlinuz" ] && [ -x "$ROOT/$XEN_BIN/xl" ]; then
    exit 0
fi

mkdir -p "$DEBS"
command -v apt-get >/dev/null || { say "apt-get not found (a Debian host is needed)"; exit 1; }

# The release's current kernel: whatever its linux-image-amd64 metapackage
# points at today.
rel_apt_cache show linux-image-amd64 >/dev/null 2>&1 || apt_update_once
KPKG=$(rel_apt_cache depends linux-image-amd64 2>/dev/null |
       sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n1)
[ -n "$KPKG" ] || { say "cannot resolve linux-image-amd64"; exit 1; }
KVER=${KPKG#linux-image-}

# Xen's userspace and the libxen* libraries it links against (the closure
# of its dependencies, restricted to libxen*; the rest of that closure is
# python, udev and the like, which the rig does not run).
PKGS="xen-utils-$XEN_VERSION xen-utils-common xenstore-utils busybox-static libyajl2"
LIBXEN=$(rel_apt_cache depends --recurse --no-recommends --no-suggests \
            --no-conflicts --no-breaks --no-replaces --no-enhances \
            "xen-utils-$XEN_VERSION" 2>/dev/null | grep -E '^libxen' | sort -u | tr '\n' ' ')
[ -n "$LIBXEN" ] || { say "cannot resolve the libxen* libraries"; exit 1; }
download "$KPKG" $PKGS $LIBXEN

rm -rf "$ROOT" "$KDIR"; mkdir -p "$ROOT" "$KDIR"
for p in $PKGS $LIBXEN; do dpkg -x "$(cached_deb "$p")" "$ROOT"; done

# Only vmlinuz and drivers/xen from the kernel package (it unpacks to
# ~400 MB otherwise). Debian 12 keeps modules in /lib/modules, Debian 13 in
# /usr/lib/modules and xz-compressed (.ko.xz), which busybox's insmod does
# not take: they are decompressed here, with the unpacked busybox.
kdeb=$(cached_deb "$KPKG")
kmods=lib/modules/$KVER/kernel/drivers/xen
[ "$XEN_VERSION" = 4.20 ] && kmods=usr/$kmods
dpkg-deb --fsys-tarfile "$kdeb" |
    tar -x -C "$KDIR" "./boot/vmlinuz-$KVER" "./$kmods/"
mv "$KDIR/boot/vmlinuz-$KVER" "$KDIR/vmlinuz"
mv "$KDIR/$kmods" "$KDIR/modules"
rm -rf "$KDIR/boot" "$KDIR/lib" "$KDIR/usr"
echo "$KVER" > "$KDIR/version"

if [ "$XEN_VERSION" = 4.20 ]; then
    find "$KDIR/modules" -name '*.ko.xz' -exec "$ROOT/usr/bin/busybox" unxz {} +
fi
[ -f "$KDIR/modules/xen-evtchn.ko" ] || { say "no xen-evtchn.ko in $KPKG"; exit 1; }

# Debian 12's name of a package, as the release calls it: Debian 13 renamed
# many libraries for the 64-bit time_t transition (libfoo1 -> libfoo1t64,
# the old name only a virtual package there, which `apt-cache show` passes
# with no record).
rel_name() {
    local n
    for n in "$1" "$1t64"; do
        [ -n "$(rel_apt_cache show "$n" 2>/dev/null | sed -n 's/^Package: //p')" ] &&
            { echo "$n"; return; }
    done
    say "$1: no such package in the Debian of Xen $XEN_VERSION"; exit 1
}

# C libraries: whatever ldd resolves outside our tree, mapped to packages.
# (ldd is the host's; for Debian 13's binaries it complains about glibc
# symbol versions, but resolves the libraries just the same.)
LIBPATH="$ROOT/usr/lib/x86_64-linux-gnu:$ROOT/usr/lib/xen-$XEN_VERSION/lib/x86_64-linux-gnu"
libpkgs="libgcc-s1"
for b in $BINS; do
    for lib in $(LD_LIBRARY_PATH=$LIBPATH ldd "$ROOT/$b" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
        case $lib in "$ROOT"/*) continue ;; esac
        p=$(dpkg -S "$lib" 2>/dev/null || dpkg -S "$(readlink -f "$lib")" 2>/dev/null ||
            dpkg -S "/usr$lib" 2>/dev/null || true)
        p=${p%%:*}
        [ -n "$p" ] || { say "no package owns $lib (needed by $b)"; exit 1; }
        libpkgs="$libpkgs $p"
    done
done
libpkgs=$(echo $libpkgs | tr ' ' '\n' | sort -u | tr '\n' ' ')
if [ "$XEN_VERSION" != 4.17 ]; then
    libpkgs=$(for p in $libpkgs; do rel_name "$p"; done | tr '\n' ' ')
fi
download $libpkgs
for p in $libpkgs; do dpkg -x "$(cached_deb "$p")" "$ROOT"; done
# Debian 13's packages ship their files under /usr only (merged /usr); the
# unpacked tree gets the links a Debian 13 system has, so that /bin/busybox
# and the dynamic loader the binaries name, /lib64/ld-linux-x86-64.so.2, are
# where Debian 12's packages put them.
if [ "$XEN_VERSION" = 4.20 ]; then
    for d in bin sbin lib lib64; do
        [ -e "$ROOT/$d" ] || [ ! -d "$ROOT/usr/$d" ] || ln -s "usr/$d" "$ROOT/$d"
    done
fi

# Check the closure with the unpacked dynamic loader itself: every library
# of every binary must now resolve inside our tree.
LDSO=$ROOT/lib64/ld-linux-x86-64.so.2
LIBPATH="$ROOT/lib/x86_64-linux-gnu:$ROOT/usr/lib/x86_64-linux-gnu:$ROOT/usr/lib/xen-$XEN_VERSION/lib/x86_64-linux-gnu"
for b in $BINS; do
    out=$("$LDSO" --library-path "$LIBPATH" --list "$ROOT/$b") ||
        { say "$b: library closure incomplete"; echo "$out" >&2; exit 1; }
    if echo "$out" | grep -q "not found"; then
        say "$b: library closure incomplete"; echo "$out" >&2; exit 1
    fi
done
[ -f "$ROOT/lib/x86_64-linux-gnu/libgcc_s.so.1" ] || { say "libgcc_s.so.1 missing"; exit 1; }

echo "$KPKG $PKGS $LIBXEN $libpkgs" > "$DIR/ready"
say "ready: Xen $XEN_VERSION's userspace, kernel $KVER, $(ls "$DEBS" | wc -l) packages cached in $DEBS"
