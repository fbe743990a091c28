#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Boot pvhk under QEMU and check its self-tests.
#
#   scripts/run.sh bare|dom0
#
# Environment (all optional; see README):
#   QEMU_MEM      guest RAM (QEMU -m), default 512M
#   QEMU_MACHINE  pc or q35, default q35
#   QEMU_SMP      vCPUs, default 1
#   XEN_ARGS      appended to Xen's command line (dom0 only), e.g. dom0_mem=256M,max:512M
#   XEN_VERSION   4.17 (default, Debian 12's) or 4.20 (Debian 13's): the hypervisor dom0 runs on
#   CMDLINE       pvhk's command line, e.g. "selftest=boot,arch"
#   TIMEOUT       seconds before QEMU is killed, default 120
#   QUIET=1       keep the serial log in the file only (tests use this)
#   LOG           log file, default build/logs/<mode>.log
# Exit status: that of build/tools/ktap-check (0 pass, 1 test failure,
# 2 no verdict, 3 panic/exception), or 124 when the run timed out.
set -uo pipefail
cd "$(dirname "$0")/.."

mode=${1:-dom0}
QEMU_MEM=${QEMU_MEM:-512M}
QEMU_MACHINE=${QEMU_MACHINE:-q35}
QEMU_SMP=${QEMU_SMP:-1}
XEN_ARGS=${XEN_ARGS:-}
XEN_VERSION=${XEN_VERSION:-4.17}
export XEN_VERSION
CMDLINE=${CMDLINE:-}
TIMEOUT=${TIMEOUT:-120}
LOG=${LOG:-build/logs/$mode.log}
KERNEL=${KERNEL:-build/pvhk.elf}

scripts/deps.sh qemu || exit 1
[ -x build/tools/ktap-check ] || make -s build/tools/ktap-check >/dev/null || exit 1
mkdir -p "$(dirname "$LOG")"
: > "$LOG"

qemu=(qemu-system-x86_64 -machine "$QEMU_MACHINE" -cpu max -smp "$QEMU_SMP" -m "$QEMU_MEM"
      -display none -monitor none -no-reboot -net none)

# pvhk's whole command line: the harness's word goes last, so a command line
# too long for pvhk's buffer shows that pvhk still keeps it (README).
cmdline="${CMDLINE:+$CMDLINE }expect.platform=$mode"
case "$mode" in
bare)
    # QEMU's PVH option ROM reads the command line into a 4096-byte buffer
    # without a size check (pc-bios/optionrom/pvh_main.c, CMDLINE_BUFSIZE);
    # a longer one overwrites the start_info behind it.
    if [ ${#cmdline} -gt 4095 ]; then
        echo "run.sh: pvhk's command line is ${#cmdline} bytes; QEMU's PVH loader holds at most 4095 (a longer one corrupts start_info)" >&2
        exit 64
    fi
    qemu+=(-kernel "$KERNEL" -append "$cmdline"
           -device isa-debug-exit,iobase=0xf4,iosize=0x04)
    ;;
dom0)
    scripts/deps.sh xen || exit 1
    # QEMU splits -initrd at commas: a comma inside a module's command line is doubled.
    # Xen hands dom0 at most MAX_GUEST_CMDLINE - 1 = 1023 bytes of it.
    if [ ${#cmdline} -gt 1023 ]; then
        echo "run.sh: WARNING: pvhk's command line is ${#cmdline} bytes; Xen passes dom0 only the first 1023 (expect.platform= is lost)" >&2
    fi
    # Xen holds the module in its own memory while it builds dom0. With
    # dom0_mem= all of the host's memory, a module carrying its debug
    # information (most of the file) leaves Xen short ("Unable to allocate
    # memory with order 0!", then "Could not construct domain 0"). Xen reads
    # only the loadable segments and the notes, so it gets a copy without
    # the debug sections; the backtrace below still reads $KERNEL.
    modfile=build/run-module-$$.elf
    objcopy --strip-debug "$KERNEL" "$modfile" || exit 1
    trap 'rm -f "$modfile"' EXIT
    mod="$modfile ${cmdline//,/,,}"
    xen="console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all console_timestamps=boot"
    xen+=" dom0=pvh dom0-iommu=none $XEN_ARGS"
    qemu+=(-kernel "build/xen/xen-$XEN_VERSION-amd64" -initrd "$mod" -append "$xen")
    ;;
*)
    echo "run.sh: unknown mode '$mode' (bare or dom0)" >&2; exit 64 ;;
esac

echo "run: $mode: QEMU -machine $QEMU_MACHINE -m $QEMU_MEM -smp $QEMU_SMP, timeout ${TIMEOUT}s, log $LOG" >&2
[ "$mode" = dom0 ] && echo "run: Xen $XEN_VERSION command line: $xen" >&2
if [ ${#cmdline} -le 400 ]; then
    echo "run: pvhk command line: $cmdline" >&2
else
    echo "run: pvhk command line: ${#cmdline} bytes: ${cmdline:0:120} ... ${cmdline: -120}" >&2
fi

start=$(date +%s%N)
if [ "${QUIET:-0}" = 1 ]; then
    timeout -k 5 "$TIMEOUT" "${qemu[@]}" -serial "file:$LOG" </dev/null >/dev/null 2>>"$LOG.qemu-stderr"
    qrc=$?
else
    timeout -k 5 "$TIMEOUT" "${qemu[@]}" -chardev "stdio,id=ser0,logfile=$LOG,signal=off" \
        -serial chardev:ser0 </dev/null
    qrc=$?
fi
ms=$(( ($(date +%s%N) - start) / 1000000 ))
secs=$(printf "%d.%d" $((ms / 1000)) $((ms % 1000 / 100)))

build/tools/ktap-check "$LOG"
rc=$?
if [ $qrc = 124 ] || [ $qrc = 137 ]; then
    echo "run: $mode: TIMEOUT: QEMU killed after ${TIMEOUT}s (the kernel hung)" >&2
    rc=124
fi
# Turn backtrace addresses into function names for the reader.
if [ $rc = 3 ] && command -v addr2line >/dev/null; then
    addrs=$(grep -a -o '\[<[0-9a-f]*>\]' "$LOG" | tr -d '[]<>' | sort -u)
    if [ -n "$addrs" ]; then
        echo "run: backtrace symbols:" >&2
        for a in $addrs; do
            echo "    0x$a $(addr2line -f -s -e "$KERNEL" "0x$a" | paste -sd' ')" >&2
        done
    fi
fi
case $rc in
0) echo "run: $mode: PASS (${secs}s)" >&2 ;;
124) ;;
*) echo "run: $mode: FAIL (ktap-check status $rc, ${secs}s; log $LOG)" >&2 ;;
esac
exit $rc
