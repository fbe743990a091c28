#!/usr/bin/env bash
# The xl domU rig: pvhk booted as an xl-created PVH domU under real Xen with
# a real Linux dom0 and the real xl toolstack, all inside QEMU (TCG).
#
#   scripts/domu-rig.sh run     the positive scenarios; show the guests' KTAP
#   scripts/domu-rig.sh test    every scenario, negative checks included
#                               (the domU stage of `make test`)
#
# How it works (docs/domu-rig.md has the long version):
#  1. scripts/domu/fetch.sh unpacks Debian's kernel, Xen userspace, busybox
#     and the C libraries into build/domu (downloads cached there);
#  2. a dom0 initramfs is packed with those, pvhk.elf, the configs/*.cfg of
#     the chosen scenarios and scripts/domu/init;
#  3. QEMU boots Xen with that Linux as a PV dom0; its init `xl create`s one
#     guest per scenario, prints "RIG: ..." markers and reboots (QEMU has
#     -no-reboot, so it exits);
#  4. the serial log is cut at the markers and each guest's "(dN)" lines are
#     checked against what the scenario expects.
#
# Environment: B (build dir, default build), DOMU_TIMEOUT (hard limit on the
# whole QEMU run, seconds), DOMU_GUEST_TIMEOUT (per-guest limit inside dom0),
# DOMU_SCENARIOS (space-separated subset of scenario names), DOMU_XEN_ARGS
# (appended to Xen's command line).
set -uo pipefail
cd "$(dirname "$0")/.."

MODE=${1:-run}
case "$MODE" in run|test) ;; *) echo "usage: $0 run|test" >&2; exit 2 ;; esac

B=${B:-build}
ELF=$B/pvhk.elf
CFGDIR=${DOMU_CONFIGS:-configs}
CACHE=build/domu                 # downloads and unpacked packages
WORK=$B/domu-$MODE               # this run's initramfs staging
LOGDIR=$B/logs
LOG=$LOGDIR/domu-$MODE.log
XEN=build/xen/xen-4.17-amd64
GUEST_TIMEOUT=${DOMU_GUEST_TIMEOUT:-60}

say() { echo "domu-rig: $*" >&2; }

# ---- scenarios -----------------------------------------------------------
# name (= configs/NAME.cfg = xl domain name), how xl starts it, per-guest
# limit in seconds, what must be seen, and whether `run` shows it too.
#   pass            KTAP checker passes (verdict PASS, no failing test)
#   fail:TEST       the checker fails the guest and names TEST
#   panic           the guest reports a panic and the checker fails it
#   timeout         the guest never finishes; dom0 destroys it at the limit
SCENARIOS=(
    "pvhk-mem32         plain    $GUEST_TIMEOUT pass                    run"
    "pvhk-mem256        plain    $GUEST_TIMEOUT pass                    run"
    "pvhk-console       console  $GUEST_TIMEOUT pass                    run"
    "pvhk-selftest-fail plain    $GUEST_TIMEOUT fail:deliberate_failure test"
    "pvhk-panic         plain    $GUEST_TIMEOUT panic                   test"
    "pvhk-hang          plain    15             timeout                 test"
)

selected=()
for s in "${SCENARIOS[@]}"; do
    read -r name how limit expect when <<<"$s"
    [ "$MODE" = run ] && [ "$when" != run ] && continue
    if [ -n "${DOMU_SCENARIOS:-}" ]; then
        case " $DOMU_SCENARIOS " in *" $name "*) ;; *) continue ;; esac
    fi
    selected+=("$name $how $limit $expect")
done
[ ${#selected[@]} -gt 0 ] || { say "no scenario selected"; exit 2; }

# ---- prerequisites -------------------------------------------------------
[ -f "$ELF" ] || { say "$ELF missing: run make first"; exit 1; }
scripts/deps.sh qemu xen || exit 1
mkdir -p "$CACHE" "$LOGDIR"
# Two runs sharing build/domu (say `make test` in two build dirs) must not
# unpack into it at the same time.
flock "$CACHE/.lock" scripts/domu/fetch.sh "$CACHE" || exit 1

KTAP_CHECK=$B/tools/ktap-check
if [ ! -x "$KTAP_CHECK" ]; then
    make -s B="$B" "$KTAP_CHECK" >/dev/null 2>&1 || true
fi

# ---- the dom0 initramfs --------------------------------------------------
ROOT=$CACHE/root
STAGE=$WORK/initrd
rm -rf "$STAGE"
mkdir -p "$STAGE"/{bin,proc,sys,dev,etc/xen/pvhk,boot,rig,lib/modules/xen,usr/lib/xen-4.17/bin}

cp "$ROOT/bin/busybox" "$STAGE/bin/busybox"
XBINS="xl xenstored xenconsoled xenconsole xen-init-dom0 libxl-save-helper"
for b in $XBINS; do cp "$ROOT/usr/lib/xen-4.17/bin/$b" "$STAGE/usr/lib/xen-4.17/bin/"; done

# Each library at the path the unpacked loader resolved it to, plus
# libgcc_s.so.1, which glibc dlopen()s at run time (ldd never shows it).
LDSO=$ROOT/lib64/ld-linux-x86-64.so.2
LIBPATH="$ROOT/lib/x86_64-linux-gnu:$ROOT/usr/lib/x86_64-linux-gnu:$ROOT/usr/lib/xen-4.17/lib/x86_64-linux-gnu"
libs=$(for b in $XBINS; do
          "$LDSO" --library-path "$LIBPATH" --list "$ROOT/usr/lib/xen-4.17/bin/$b"
       done | awk '$2 == "=>" {print $3}' | sort -u)
for l in $libs "$ROOT/lib/x86_64-linux-gnu/libgcc_s.so.1" "$LDSO"; do
    rel=${l#"$ROOT"/}
    mkdir -p "$STAGE/$(dirname "$rel")"
    cp -L "$l" "$STAGE/$rel"
done

KDIR=$CACHE/kernel
for m in xen-evtchn xen-gntdev xen-gntalloc xen-privcmd; do
    cp "$KDIR/modules/$m.ko" "$STAGE/lib/modules/xen/"
done
mkdir -p "$STAGE/lib/modules/xen/xenfs"
cp "$KDIR/modules/xenfs/xenfs.ko" "$STAGE/lib/modules/xen/xenfs/"

cp "$ELF" "$STAGE/boot/pvhk.elf"
cp scripts/domu/init "$STAGE/init"
: > "$STAGE/rig/scenarios"
for s in "${selected[@]}"; do
    read -r name how limit expect <<<"$s"
    cfg=$CFGDIR/$name.cfg
    grep -q "^name *= *\"$name\"" "$cfg" ||
        { say "$cfg: its name= must be \"$name\""; exit 1; }
    cp "$cfg" "$STAGE/etc/xen/pvhk/"
    echo "$name /etc/xen/pvhk/$name.cfg $how $limit" >> "$STAGE/rig/scenarios"
done

INITRD=$WORK/dom0.cpio.gz
(cd "$STAGE" && find . | LC_ALL=C sort | "$OLDPWD/$ROOT/bin/busybox" cpio -o -H newc 2>/dev/null) |
    gzip -1 > "$INITRD" || { say "cannot pack $INITRD"; exit 1; }

# ---- boot ----------------------------------------------------------------
# smap=hvm: QEMU 7.2's TCG mishandles IRET with SMAP and kills a 64-bit PV
# dom0 on its first return to user mode; keeping SMAP for HVM guests only
# avoids it.  dom0 is PV: Linux as a PVH dom0 hangs early here.
XEN_CMD="console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all console_timestamps=boot"
XEN_CMD+=" dom0_mem=1024M,max:1024M dom0_max_vcpus=1 smap=hvm ${DOMU_XEN_ARGS:-}"
# A comma inside a -initrd module's command line must be doubled.
DOM0_CMD="console=hvc0 earlyprintk=xen rdinit=/init loglevel=4"

total=60     # QEMU start to dom0 toolstack, plus reboot, with margin
for s in "${selected[@]}"; do read -r _ _ limit _ <<<"$s"; total=$((total + limit + 15)); done
total=${DOMU_TIMEOUT:-$total}

say "booting Xen + Linux dom0 in QEMU: ${#selected[@]} guest(s), limit ${total}s, log $LOG"
t0=$(date +%s.%N)
timeout -k 5 "$total" qemu-system-x86_64 \
    -machine q35 -cpu max -smp 1 -m 2048 -no-reboot -net none \
    -display none -monitor none -serial stdio \
    -kernel "$XEN" -append "$XEN_CMD" \
    -initrd "$KDIR/vmlinuz $DOM0_CMD,$INITRD" </dev/null | tee "$LOG"
qrc=${PIPESTATUS[0]}
t1=$(date +%s.%N)
qsecs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
echo
say "QEMU exited rc=$qrc after ${qsecs}s"

# ---- verdicts ------------------------------------------------------------
CLEAN=$WORK/serial.txt
tr -d '\r' < "$LOG" > "$CLEAN"

# The guest's log lines: "(dN) text", possibly behind "(XEN) " and a
# "[timestamp] " prefix.
guest_lines() { # FILE DOMID
    sed -n "s/^\(([A-Z]*) \)\{0,1\}\(\[[^]]*\] \)\{0,1\}(d$2) //p" "$1"
}

# Check one guest's section; prints the checker's words; returns its status
# (0 = a clean PASS).
check_guest() { # SECTION DOMID
    if [ -x "$KTAP_CHECK" ]; then
        "$KTAP_CHECK" --domain "$2" "$1"
        return
    fi
    # Stand-in until build/tools/ktap-check exists: verdict line and failing
    # test names.
    local lines; lines=$(guest_lines "$1" "$2")
    echo "$lines" | grep -E '^ *not ok ' | sed 's/^/failed: /'
    if echo "$lines" | grep -q 'pvhk: verdict: PASS' &&
       ! echo "$lines" | grep -qE '^ *not ok '; then
        echo "verdict PASS"; return 0
    fi
    echo "$lines" | grep -E 'pvhk: (verdict|PANIC)' || echo "no verdict"
    return 1
}

if grep -q '^RIG: SETUP-FAILED' "$CLEAN"; then
    say "dom0 setup failed: $(grep '^RIG: SETUP-FAILED' "$CLEAN" | head -n1)"
fi

passed=0; failed=0; n=0
echo "KTAP version 1"
echo "1..${#selected[@]}"
for s in "${selected[@]}"; do
    read -r name how limit expect <<<"$s"
    n=$((n + 1))
    section=$LOGDIR/domu-$MODE-$name.log
    awk -v n="$name" '$0 ~ "^RIG: BEGIN " n " " {on = 1}
                      on {print}
                      $0 ~ "^RIG: END " n " " {on = 0}' "$CLEAN" > "$section"
    why=""
    if [ ! -s "$section" ]; then
        why="never started (dom0 or QEMU died first; see $LOG)"
    elif ! grep -q "^RIG: END $name " "$section"; then
        why="never finished (QEMU died or timed out inside it; see $section)"
    fi
    domid=$(sed -n "s/^RIG: DOMID $name \([0-9]*\)$/\1/p" "$section" | head -n1)
    if [ -z "$why" ] && [ -z "$domid" ]; then
        why="xl create failed: $(grep '^RIG: create ' "$section" | tail -n 3 | tr '\n' ' ')"
    fi
    timed_out=0; grep -q "^RIG: TIMEOUT $name " "$section" && timed_out=1
    crashed=0; grep -qE '^RIG: xl-log .*shut down, reason code 3' "$section" && crashed=1

    words=""; crc=1
    if [ -n "$domid" ]; then
        words=$(check_guest "$section" "$domid" 2>&1); crc=$?
    fi
    panicked=0
    [ -n "$domid" ] && guest_lines "$section" "$domid" | grep -q 'pvhk: PANIC' && panicked=1

    if [ -z "$why" ]; then
        case "$expect" in
        pass)
            if [ $timed_out = 1 ]; then why="hung: destroyed after ${limit}s"
            elif [ $panicked = 1 ]; then why="panicked"
            elif [ $crashed = 1 ]; then why="crashed (xl: shutdown reason crash)"
            elif [ $crc != 0 ]; then why="self-tests failed"
            elif [ "$how" = console ] && grep -q "^RIG: CONSOLE-STUCK" "$section"; then
                why="xl create -c stayed attached after the guest died"
            elif [ "$how" = console ] && ! grep -qE "^RIG: END $name rc=0 " "$section"; then
                why="xl create -c failed: $(grep "^RIG: END" "$section")"
            fi ;;
        fail:*)
            t=${expect#fail:}
            if [ $timed_out = 1 ]; then why="hung instead of failing"
            elif [ $crc = 0 ]; then why="checker passed a guest that must fail"
            elif ! echo "$words" | grep -qw -- "$t"; then why="failure not attributed to '$t'"
            fi ;;
        panic)
            if [ $timed_out = 1 ]; then why="hung instead of panicking"
            elif [ $crc = 0 ]; then why="checker passed a guest that panicked"
            elif [ $panicked = 0 ]; then why="no 'pvhk: PANIC' line seen"
            fi ;;
        timeout)
            [ $timed_out = 1 ] || why="was not reported as hung" ;;
        esac
    fi
    if [ -n "$words" ]; then
        echo "$words" | sed "s/^/# $name: /"
    fi
    if [ -z "$why" ]; then
        passed=$((passed + 1))
        echo "ok $n domu:$name (expect $expect)"
    else
        failed=$((failed + 1))
        echo "not ok $n domu:$name (expect $expect): $why"
    fi
done
echo "# domU rig: QEMU ${qsecs}s, log $LOG"
echo "domu: $passed passed, $failed failed"
[ $failed = 0 ] && [ "$qrc" = 0 ]
