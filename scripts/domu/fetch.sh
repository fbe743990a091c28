#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Fetch and unpack everything the xl domU rig runs, from Debian packages.
#
#   scripts/domu/fetch.sh [DIR]      (DIR defaults to build/domu)
#
# Nothing is installed on the host: each package is fetched with
# `apt-get download` into DIR/debs (the cache) and unpacked with `dpkg -x`
# into DIR/root; from the kernel package only vmlinuz and the Xen driver
# modules are taken, into DIR/kernel.  When DIR/ready exists and names the
# same packages, the whole step is skipped without touching apt, so a second
# run needs no network.
#
# The C libraries xl needs are not named here: they are found by running
# the unpacked binaries through ldd, and each library ldd resolves outside
# DIR/root is mapped back to its Debian package with dpkg -S.  libgcc_s.so.1
# is added by hand because glibc dlopen()s it (for pthread_cancel and
# unwinding) at run time, so ldd never lists it; without it xl aborts on
# exit.
set -euo pipefail
cd "$(dirname "$0")/../.."

DIR=${1:-build/domu}
DEBS=$DIR/debs
ROOT=$DIR/root
KDIR=$DIR/kernel

# The binaries the dom0 initramfs runs; their library closure is what we ship.
XEN_BIN=usr/lib/xen-4.17/bin
BINS="$XEN_BIN/xl $XEN_BIN/xenstored $XEN_BIN/xenconsoled $XEN_BIN/xenconsole
      $XEN_BIN/xen-init-dom0 $XEN_BIN/libxl-save-helper"

say() { echo "domu-fetch: $*" >&2; }

updated=0
apt_update_once() {
    [ $updated = 1 ] && return 0
    say "apt-get update"
    apt-get update -qq >&2 || { say "apt-get update failed"; exit 1; }
    updated=1
}

# The cached .deb for a package, if any (dpkg names the file NAME_VERSION_ARCH
# with the epoch's ':' escaped as %3a).
cached_deb() { ls "$DEBS/$1"_*.deb 2>/dev/null | head -n1; }

download() {
    local missing=() p
    for p in "$@"; do [ -n "$(cached_deb "$p")" ] || missing+=("$p"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    apt-cache show "${missing[0]}" >/dev/null 2>&1 || apt_update_once
    say "downloading ${missing[*]}"
    # apt warns that _apt cannot write into a root-owned build tree; harmless.
    if ! (cd "$DEBS" && apt-get download -qq "${missing[@]}" 2>&1 |
            { grep -v "unsandboxed" || true; } >&2; exit "${PIPESTATUS[0]}"); then
        # Stale package lists name versions the mirror no longer has.
        [ $updated = 1 ] || { apt_update_once; download "$@"; return; }
    fi
    for p in "${missing[@]}"; do
        [ -n "$(cached_deb "$p")" ] || { say "could not download $p"; exit 1; }
    done
}

# Fast path: everything already unpacked.
if [ -f "$DIR/ready" ] && [ -f "$KDIR/vmlinuz" ] && [ -x "$ROOT/$XEN_BIN/xl" ]; then
    exit 0
fi

mkdir -p "$DEBS"
command -v apt-get >/dev/null || { say "apt-get not found (a Debian host is needed)"; exit 1; }

# The current Debian kernel: whatever the linux-image-amd64 metapackage
# points at today.
apt-cache show linux-image-amd64 >/dev/null 2>&1 || apt_update_once
KPKG=$(apt-cache depends linux-image-amd64 2>/dev/null |
       sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n1)
[ -n "$KPKG" ] || { say "cannot resolve linux-image-amd64"; exit 1; }
KVER=${KPKG#linux-image-}

# Xen's userspace and the libxen* libraries it links against (the closure
# of its dependencies, restricted to libxen*; the rest of that closure is
# python, udev and the like, which the rig does not run).
PKGS="xen-utils-4.17 xen-utils-common xenstore-utils busybox-static libyajl2"
LIBXEN=$(apt-cache depends --recurse --no-recommends --no-suggests \
            --no-conflicts --no-breaks --no-replaces --no-enhances \
            xen-utils-4.17 2>/dev/null | grep -E '^libxen' | sort -u | tr '\n' ' ')
[ -n "$LIBXEN" ] || { say "cannot resolve the libxen* libraries"; exit 1; }
download "$KPKG" $PKGS $LIBXEN

rm -rf "$ROOT" "$KDIR"; mkdir -p "$ROOT" "$KDIR"
for p in $PKGS $LIBXEN; do dpkg -x "$(cached_deb "$p")" "$ROOT"; done

# Only vmlinuz and drivers/xen from the kernel package (it unpacks to
# ~400 MB otherwise).
kdeb=$(cached_deb "$KPKG")
dpkg-deb --fsys-tarfile "$kdeb" |
    tar -x -C "$KDIR" "./boot/vmlinuz-$KVER" "./lib/modules/$KVER/kernel/drivers/xen/"
mv "$KDIR/boot/vmlinuz-$KVER" "$KDIR/vmlinuz"
mv "$KDIR/lib/modules/$KVER/kernel/drivers/xen" "$KDIR/modules"
rm -rf "$KDIR/boot" "$KDIR/lib"
echo "$KVER" > "$KDIR/version"

# C libraries: whatever ldd resolves outside our tree, mapped to packages.
LIBPATH="$ROOT/usr/lib/x86_64-linux-gnu:$ROOT/usr/lib/xen-4.17/lib/x86_64-linux-gnu"
libpkgs="libgcc-s1"
for b in $BINS; do
    for lib in $(LD_LIBRARY_PATH=$LIBPATH ldd "$ROOT/$b" | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// {print $1}'); do
        case $lib in "$ROOT"/*) continue ;; esac
        p=$(dpkg -S "$lib" 2>/dev/null || dpkg -S "$(readlink -f "$lib")" 2>/dev/null ||
            dpkg -S "/usr$lib" 2>/dev/null || true)
        p=${p%%:*}
        [ -n "$p" ] || { say "no package owns $lib (needed by $b)"; exit 1; }
        libpkgs="$libpkgs $p"
    done
done
libpkgs=$(echo $libpkgs | tr ' ' '\n' | sort -u | tr '\n' ' ')
download $libpkgs
for p in $libpkgs; do dpkg -x "$(cached_deb "$p")" "$ROOT"; done

# Check the closure with the unpacked dynamic loader itself: every library
# of every binary must now resolve inside our tree.
LDSO=$ROOT/lib64/ld-linux-x86-64.so.2
LIBPATH="$ROOT/lib/x86_64-linux-gnu:$ROOT/usr/lib/x86_64-linux-gnu:$ROOT/usr/lib/xen-4.17/lib/x86_64-linux-gnu"
for b in $BINS; do
    out=$("$LDSO" --library-path "$LIBPATH" --list "$ROOT/$b") ||
        { say "$b: library closure incomplete"; echo "$out" >&2; exit 1; }
    if echo "$out" | grep -q "not found"; then
        say "$b: library closure incomplete"; echo "$out" >&2; exit 1
    fi
done
[ -f "$ROOT/lib/x86_64-linux-gnu/libgcc_s.so.1" ] || { say "libgcc_s.so.1 missing"; exit 1; }

echo "$KPKG $PKGS $LIBXEN $libpkgs" > "$DIR/ready"
say "ready: kernel $KVER, $(ls "$DEBS" | wc -l) packages cached in $DEBS"
