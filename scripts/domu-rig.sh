#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# The xl domU rig: pvhk booted as an xl-created PVH domU under real Xen with
# a real Linux dom0 and the real xl toolstack, all inside QEMU (TCG).
#
#   scripts/domu-rig.sh run     the positive scenarios; show the guests' KTAP
#   scripts/domu-rig.sh test    every scenario, negative checks included
#                               (the domU stage of `make test`)
#
# How it works (docs/domu-rig.md has the long version):
#  1. scripts/domu/fetch.sh unpacks Debian's kernel, Xen userspace, busybox
#     and the C libraries into build/domu (downloads cached there): Debian
#     12's for Xen 4.17, Debian 13's (into build/domu-4.20) for Xen 4.20;
#  2. a dom0 initramfs is packed with those, pvhk.elf, the configs/*.cfg of
#     the chosen scenarios and scripts/domu/init;
#  3. QEMU boots Xen with that Linux as a PV dom0; its init `xl create`s one
#     guest per scenario, prints "RIG: ..." markers and reboots (QEMU has
#     -no-reboot, so it exits);
#  4. the serial log is cut at the markers and each guest's "(dN)" lines are
#     checked against what the scenario expects.
#
# Environment:
#   B                    build dir (default build): $B/pvhk.elf is the guest
#   XEN_VERSION          4.17 (default, Debian 12) or 4.20 (Debian 13): the
#                        hypervisor and the dom0 userspace and kernel
#   CMDLINE              `run` only: appended to every guest's cmdline
#   TIMEOUT              `run` only: same as DOMU_TIMEOUT
#   QUIET=1 / QUIET=0    keep the serial log in the file only / also show it
#                        live (default: live for `run`, quiet for `test`)
#   DOMU_SCENARIOS       space-separated subset of the scenario names
#   DOMU_GUEST_TIMEOUT   per-guest limit inside dom0 (default 60 s)
#   DOMU_BOOT_TIMEOUT    QEMU start to dom0 toolstack up (default 120 s)
#   DOMU_TIMEOUT         hard limit on the whole QEMU run
#   DOMU_XEN_ARGS        appended to Xen's command line
#   DOMU_CONFIGS         directory of the NAME.cfg files (default configs)
#   DOMU_CACHE           downloads and unpacked packages (default build/domu,
#                        build/domu-4.20 for Xen 4.20)
set -uo pipefail
cd "$(dirname "$0")/.."

MODE=${1:-run}
case "$MODE" in run|test) ;; *) echo "usage: $0 run|test" >&2; exit 2 ;; esac

export XEN_VERSION=${XEN_VERSION:-4.17}
case "$XEN_VERSION" in
4.17) V="" ;;                    # the default: names carry no version
4.20) V=-$XEN_VERSION ;;
*) echo "domu-rig: XEN_VERSION is 4.17 or 4.20, not '$XEN_VERSION'" >&2; exit 2 ;;
esac
B=${B:-build}
ELF=$B/pvhk.elf
CFGDIR=${DOMU_CONFIGS:-configs}
CACHE=${DOMU_CACHE:-build/domu$V}  # downloads and unpacked packages
WORK=$B/domu-$MODE$V               # this run's initramfs staging
LOGDIR=$B/logs
LOG=$LOGDIR/domu-$MODE$V.log
XEN=build/xen/xen-$XEN_VERSION-amd64
XBIN=usr/lib/xen-$XEN_VERSION/bin  # where Debian puts the toolstack's binaries
GUEST_TIMEOUT=${DOMU_GUEST_TIMEOUT:-60}
if [ "$MODE" = run ]; then
    QUIET=${QUIET:-0}
    DOMU_TIMEOUT=${DOMU_TIMEOUT:-${TIMEOUT:-}}
    EXTRA_CMDLINE=${CMDLINE:-}
else
    # The negative scenarios depend on their exact command lines.
    QUIET=${QUIET:-1}
    EXTRA_CMDLINE=
fi

say() { echo "domu-rig: $*" >&2; }

# ---- scenarios -----------------------------------------------------------
# name (= configs/NAME.cfg = xl domain name), how dom0 runs it, per-guest
# limit in seconds, what must be seen, and whether `run` shows it too.
# How: plain (xl create), console (xl create -c), or a control mode for a
# guest that waits for the toolstack after its tests (xenbus.wait=...):
#   balloon:M1,M2   xl mem-set to M1 MiB, then M2 ..., then xl shutdown;
#                   `xl list` must move by the same steps, and pvhk must
#                   log reaching each target
#   vcpu-set:N1,N2  xl vcpu-set to N1 vCPUs, then N2 ..., then xl shutdown;
#                   pvhk must park / restart a vCPU at each step and
#                   xl vcpu-list must show that many online
#   shutdown        xl shutdown: pvhk acknowledges, xl sees a poweroff
#   reboot          xl reboot: the same, xl sees a reboot
#   linux:SCEN      dom0 runs the Linux peer (tests/domu/linux_peer.c) for
#                   scenario SCEN next to the guest; its verdict must be
#                   PASS as well as the guest's
#   pass            KTAP checker passes (verdict PASS, no failing test)
#   fail:TEST       the checker fails the guest and names TEST; the domain
#                   still ends in an orderly poweroff
#   crash:TEXT      the checker reports a broken run (ERROR verdict, panic or
#                   exception) mentioning TEXT, xl saw shutdown reason crash,
#                   and `xl list` showed the preserved domain as crashed
#                   (the config's on_crash = "preserve")
#   timeout         the guest never finishes; dom0 destroys it at the limit
SCENARIOS=(
    "pvhk-mem32         plain    $GUEST_TIMEOUT pass                    run"
    "pvhk-mem256        plain    $GUEST_TIMEOUT pass                    run"
    "pvhk-smp2          plain    $GUEST_TIMEOUT pass                    run"
    "pvhk-smp4          plain    $GUEST_TIMEOUT pass                    test"
    "pvhk-console       console  $GUEST_TIMEOUT pass                    run"
    "pvhk-pod           plain    $GUEST_TIMEOUT pass                    run"
    "pvhk-balloon       balloon:20,32 $GUEST_TIMEOUT pass               run"
    "pvhk-pod-balloon   balloon:64 $GUEST_TIMEOUT pass                  run"
    "pvhk-shutdown      shutdown $GUEST_TIMEOUT pass                    run"
    "pvhk-gnt-granter   pair:pvhk-gnt-mapper $GUEST_TIMEOUT pass        run"
    "pvhk-linux-map     linux:map    $GUEST_TIMEOUT pass                run"
    "pvhk-linux-grant   linux:grant  $GUEST_TIMEOUT pass                run"
    "pvhk-linux-evtchn  linux:evtchn $GUEST_TIMEOUT pass                run"
    "pvhk-linux-fault   linux:fault  $GUEST_TIMEOUT pass                run"
    "pvhk-vcpu-set      vcpu-set:1,2 $GUEST_TIMEOUT pass                run"
    "pvhk-reboot        reboot   $GUEST_TIMEOUT pass                    test"
    "pvhk-selftest-fail plain    $GUEST_TIMEOUT fail:deliberate_failure test"
    "pvhk-panic         plain    $GUEST_TIMEOUT crash:deliberate.panic  test"
    "pvhk-fault         plain    $GUEST_TIMEOUT crash:exception         test"
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

# The Linux peer, built static on the host (make's rule).
PEER=$B/peer/linux-peer
make -s B="$B" "$PEER" >/dev/null || { say "cannot build $PEER"; exit 1; }

KTAP_CHECK=$B/tools/ktap-check
if [ ! -x "$KTAP_CHECK" ]; then
    make -s B="$B" "$KTAP_CHECK" >/dev/null 2>&1 || true
fi

# ---- the dom0 initramfs --------------------------------------------------
ROOT=$CACHE/root
STAGE=$WORK/initrd
rm -rf "$STAGE"
mkdir -p "$STAGE"/{bin,proc,sys,dev,etc/xen/pvhk,boot,rig,lib/modules/xen,$XBIN}

cp "$ROOT/bin/busybox" "$STAGE/bin/busybox"
cp "$PEER" "$STAGE/bin/linux-peer"
XBINS="xl xenstored xenconsoled xenconsole xen-init-dom0 libxl-save-helper"
for b in $XBINS; do cp "$ROOT/$XBIN/$b" "$STAGE/$XBIN/"; done

# Each library at the path the unpacked loader resolved it to, plus
# libgcc_s.so.1, which glibc dlopen()s at run time (ldd never shows it).
LDSO=$ROOT/lib64/ld-linux-x86-64.so.2
LIBPATH="$ROOT/lib/x86_64-linux-gnu:$ROOT/usr/lib/x86_64-linux-gnu:$ROOT/usr/lib/xen-$XEN_VERSION/lib/x86_64-linux-gnu"
libs=$(for b in $XBINS; do
          "$LDSO" --library-path "$LIBPATH" --list "$ROOT/$XBIN/$b"
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
echo "$XEN_VERSION" > "$STAGE/rig/xen-version"
: > "$STAGE/rig/scenarios"
for s in "${selected[@]}"; do
    read -r name how limit expect <<<"$s"
    cfg=$CFGDIR/$name.cfg
    grep -q "^name *= *\"$name\"" "$cfg" ||
        { say "$cfg: its name= must be \"$name\""; exit 1; }
    if [ -n "$EXTRA_CMDLINE" ]; then
        # The appended words land inside the cmdline's quotes.
        EXTRA=$EXTRA_CMDLINE awk '/^cmdline *= *"/ {
                q = match($0, /"[^"]*$/)
                $0 = substr($0, 1, q - 1) " " ENVIRON["EXTRA"] substr($0, q) }
            { print }' "$cfg" > "$STAGE/etc/xen/pvhk/$name.cfg"
    else
        cp "$cfg" "$STAGE/etc/xen/pvhk/"
    fi
    # pair:OTHER: dom0 starts OTHER too (its own config, same cmdline rules).
    case "$how" in pair:*)
        cp "$CFGDIR/${how#pair:}.cfg" "$STAGE/etc/xen/pvhk/" ;;
    esac
    echo "$name /etc/xen/pvhk/$name.cfg $how $limit" >> "$STAGE/rig/scenarios"
done

INITRD=$WORK/dom0.cpio.gz
BUSYBOX=$(realpath "$ROOT/bin/busybox")
(cd "$STAGE" && find . | LC_ALL=C sort | "$BUSYBOX" cpio -o -H newc 2>/dev/null) |
    gzip -1 > "$INITRD" || { say "cannot pack $INITRD"; exit 1; }

# ---- boot ----------------------------------------------------------------
# smap=hvm: QEMU 7.2's TCG mishandles IRET with SMAP and kills a 64-bit PV
# dom0 on its first return to user mode; keeping SMAP for HVM guests only
# avoids it.  dom0 is PV: Linux as a PVH dom0 hangs early here.
XEN_CMD="console=com1 com1=115200,8n1 loglvl=all guest_loglvl=all console_timestamps=boot"
XEN_CMD+=" dom0_mem=1024M,max:1024M dom0_max_vcpus=1 smap=hvm ${DOMU_XEN_ARGS:-}"
# A comma inside a -initrd module's command line must be doubled.
DOM0_CMD="console=hvc0 earlyprintk=xen rdinit=/init loglevel=4"

# Hard limits: dom0 must have its toolstack up within BOOT_LIMIT seconds
# (about 9 s is usual), and the whole run must end within TOTAL.
BOOT_LIMIT=${DOMU_BOOT_TIMEOUT:-120}
total=$((BOOT_LIMIT + 30))
for s in "${selected[@]}"; do read -r _ _ limit _ <<<"$s"; total=$((total + limit + 10)); done
total=${DOMU_TIMEOUT:-$total}

say "booting Xen $XEN_VERSION + Linux $(cat "$KDIR/version") dom0 in QEMU: ${#selected[@]} guest(s), limit ${total}s, log $LOG"
: > "$LOG"
t0=$(date +%s.%N)
timeout -k 5 "$total" qemu-system-x86_64 \
    -machine q35 -cpu max -smp 1 -m 2048 -no-reboot -net none \
    -display none -monitor none -serial "file:$LOG" \
    -kernel "$XEN" -append "$XEN_CMD" \
    -initrd "$KDIR/vmlinuz $DOM0_CMD,$INITRD" </dev/null &
qpid=$!
tpid=
if [ "$QUIET" != 1 ]; then
    tail -n +1 -f --pid=$qpid "$LOG" &
    tpid=$!
fi
boot_hung=0
while kill -0 $qpid 2>/dev/null; do
    sleep 0.5
    if [ $boot_hung = 0 ] && ! grep -q '^RIG: TOOLSTACK-UP' "$LOG" &&
       [ $(( $(date +%s) - ${t0%.*} )) -ge "$BOOT_LIMIT" ]; then
        boot_hung=1
        kill $qpid 2>/dev/null
    fi
done
wait $qpid; qrc=$?
[ -n "$tpid" ] && wait $tpid
t1=$(date +%s.%N)
qsecs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
echo
say "QEMU exited rc=$qrc after ${qsecs}s"
[ $boot_hung = 1 ] && say "dom0 did not bring its toolstack up within ${BOOT_LIMIT}s: killed"

# ---- verdicts ------------------------------------------------------------
CLEAN=$WORK/serial.txt
tr -d '\r' < "$LOG" > "$CLEAN"

# The guest's log lines: "(dN) text", possibly behind "(XEN) " and a
# "[timestamp] " prefix.
# The domid dom0 reported for guest NAME in SECTION. The marker ends in ';'
# because Xen's "(dN) ..." lines share the serial with dom0's and may be glued
# onto the marker's line; xl's own "(domid N)" log line is the fallback.
domid_of() { # NAME SECTION
    local d
    d=$(sed -n "s/^RIG: DOMID $1 \([0-9][0-9]*\);.*/\1/p" "$2" | head -n1)
    [ -n "$d" ] || d=$(sed -n "s/.*Waiting for domain $1 (domid \([0-9][0-9]*\)).*/\1/p" "$2" | head -n1)
    echo "$d"
}

# Guest N's text: what follows the first "(dN) " on a line. Xen prints a
# guest line whole, but dom0's output shares the serial and may be glued in
# front of it ("RIG: DOMID x 3;(d3) [ts] text").
guest_lines() { # FILE DOMID
    sed -n "/(d$2) /{s/(d$2) /\n/;s/^[^\n]*\n//;p}" "$1"
}

# Check one guest's section; prints the checker's words and returns its
# status: 0 PASS, 1 a test failed, 2 no verdict, 3 the run broke (ERROR
# verdict, panic or exception).
check_guest() { # SECTION DOMID
    if [ -x "$KTAP_CHECK" ]; then
        "$KTAP_CHECK" --domain "$2" "$1"
        return
    fi
    # Stand-in for when build/tools/ktap-check cannot be built: the verdict
    # line and the failing tests' names.
    local lines; lines=$(guest_lines "$1" "$2")
    echo "$lines" | sed -n 's/^ *not ok [0-9]* \([^ #]*\).*/FAILED \1/p'
    if echo "$lines" | grep -qE 'pvhk: (PANIC|EXCEPTION|verdict: ERROR)'; then
        echo "CRASH: $(echo "$lines" | grep -m1 -E 'pvhk: (PANIC|EXCEPTION|verdict: ERROR)')"; return 3
    fi
    if ! echo "$lines" | grep -q 'pvhk: verdict: '; then echo "NO VERDICT"; return 2; fi
    echo "$lines" | grep -m1 'pvhk: verdict: '
    echo "$lines" | grep -q 'pvhk: verdict: PASS' &&
        ! echo "$lines" | grep -qE '^ *not ok ' && return 0
    return 1
}

# xl's words for how a domain ended (libxl's SHUTDOWN_* reason codes).
shutdown_reason() { # SECTION
    local code
    code=$(sed -n 's/^RIG: xl-log Domain [0-9]* has shut down, reason code \([0-9]*\) .*/\1/p' "$1" |
           head -n1)
    case "$code" in
        0) echo poweroff ;; 1) echo reboot ;; 2) echo suspend ;; 3) echo crash ;;
        4) echo watchdog ;; 5) echo soft_reset ;; '') echo unknown ;; *) echo "code $code" ;;
    esac
}

# What `xl create -c` printed must be what pvhk wrote to port 0xE9, from
# the line where its PV console came up (earlier lines go to 0xE9 only).
# Compared as one string: Xen splits long 0xE9 lines at its buffer size.
console_matches_serial() { # SECTION DOMID
    local from='pvhk: pv console: ring at' serial console
    serial=$(guest_lines "$1" "$2" | sed 's/^\[[ 0-9.]*\] //' | sed -n "/$from/,\$p" | tr -d '\n')
    console=$(sed -n 's/^RIG: console //p' "$1" | sed -n "/$from/,\$p" | tr -d '\n')
    [ -n "$console" ] || { echo "the PV console shows nothing from \"$from\" on"; return 1; }
    [ "$serial" = "$console" ] && return 0
    echo "xl console differs from the serial log (${#console} vs ${#serial} bytes)"
    return 1
}

# The control modes' own checks; prints why a scenario failed, or nothing.
check_control() { # SECTION NAME HOW DOMID REASON
    local want=poweroff cmd mem0 boot m line
    case "$3" in balloon:*|vcpu-set:*|shutdown) ;; reboot) want=reboot ;; *) return 0 ;; esac
    if grep -q "^RIG: CONTROL $2:" "$1"; then
        echo "the guest never reached its control phase (xenbus.wait)"; return
    fi
    cmd=$( [ "$want" = reboot ] && echo reboot || echo poweroff )
    if ! guest_lines "$1" "$4" | grep -q "pvhk: shutdown: \"$cmd\" requested"; then
        echo "pvhk did not log the \"$cmd\" request"; return
    fi
    [ "$5" = "$want" ] || { echo "xl saw shutdown reason $5, not $want"; return; }
    case "$3" in vcpu-set:*)
        # Each step: xl succeeds, pvhk parks (fewer) or restarts (more)
        # the vCPU, and xl vcpu-list shows that many online.
        local prev n want_word
        prev=$(sed -n 's/^vcpus *= *\([0-9]*\).*/\1/p' "$CFGDIR/$2.cfg")
        for n in $(echo "${3#vcpu-set:}" | tr , ' '); do
            line=$(grep "^RIG: VCPU-SET $2 to=$n " "$1" | head -n 1)
            echo "$line" | grep -q " rc=0 " || { echo "xl vcpu-set $n failed"; return; }
            echo "$line" | grep -q " online=$n$" ||
                { echo "after xl vcpu-set $n, xl vcpu-list shows ${line##*online=} online"; return; }
            want_word=restarted; [ "$n" -lt "$prev" ] && want_word=parked
            line=$(grep "^RIG: HOTPLUG $2 to=$n " "$1" | head -n 1)
            echo "$line" | grep -q ": $want_word" ||
                { echo "pvhk did not log the vCPU $want_word for vcpu-set $n: ${line#RIG: HOTPLUG $2 }"; return; }
            prev=$n
        done
        return 0 ;;
    esac
    case "$3" in balloon:*) ;; *) return 0 ;; esac
    # xl list before any mem-set: M0 MiB for the config's `memory`; after
    # mem-set M it must show M0 + (M - memory) (pvhk keeps its scratch
    # pool's RAM unbacked, so M0 is a little below `memory`).
    local pool kib pages
    pool=$(guest_lines "$1" "$4" | sed -n 's/.*pvhk: balloon: following memory\/target (\([0-9]*\) pages.*/\1/p')
    [ -n "$pool" ] || { echo "the balloon never started"; return; }
    boot=$(sed -n 's/^memory *= *\([0-9]*\).*/\1/p' "$CFGDIR/$2.cfg")
    mem0=$(sed -n "s/^RIG: XL-LIST $2 target=boot mem=\([0-9]*\)$/\1/p" "$1")
    [ -n "$mem0" ] && [ -n "$boot" ] || { echo "no xl list reading before mem-set"; return; }
    for m in $(echo "${3#balloon:}" | tr , ' '); do
        line=$(grep "^RIG: XL-LIST $2 target=$m " "$1")
        echo "$line" | grep -q " rc=0$" || { echo "xl mem-set ${m}m failed"; return; }
        [ "$(echo "$line" | sed -n 's/.* mem=\([0-9]*\) .*/\1/p')" = $((mem0 + m - boot)) ] ||
            { echo "after mem-set ${m}m xl list shows $(echo "$line" | sed 's/.* mem=//') MiB, want $((mem0 + m - boot))"; return; }
        line=$(grep "^RIG: BALLOON $2 " "$1" | grep "target $((m * 1024)) KiB" | tail -n 1)
        echo "$line" | grep -q "reached" && ! echo "$line" | grep -q FAILED ||
            { echo "pvhk did not reach the ${m} MiB target: ${line#RIG: BALLOON $2 }"; return; }
        # The target in pages, less the scratch pool's RAM, is what it keeps.
        pages=$(echo "$line" | sed -n 's/.* reached \([0-9]*\) pages.*/\1/p')
        [ "$pages" = $((m * 256 - pool)) ] ||
            { echo "for ${m} MiB pvhk kept $pages pages, want $((m * 256 - pool))"; return; }
    done
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
    section=$LOGDIR/domu-$MODE$V-$name.log
    awk -v n="$name" '$0 ~ "^RIG: BEGIN " n " " {on = 1}
                      on {print}
                      $0 ~ "^RIG: END " n " " {on = 0}' "$CLEAN" > "$section"
    why=""; skip=""
    domid=$(domid_of "$name" "$section")
    if [ ! -s "$section" ]; then
        why="never started (dom0 or QEMU died first; see $LOG)"
    elif ! grep -q "^RIG: END $name " "$section"; then
        why="never finished: QEMU died or hit its ${total}s limit (see $section)"
    elif [ -z "$domid" ]; then
        why="xl create failed: $(grep -E '^RIG: (create|console) ' "$section" | tail -n 3 |
              sed 's/^RIG: [a-z]* //' | tr '\n' ' ')"
    fi
    timed_out=0; grep -q "^RIG: TIMEOUT $name " "$section" && timed_out=1
    reason=$(shutdown_reason "$section")

    words=""; crc=2
    if [ -n "$domid" ]; then
        words=$(check_guest "$section" "$domid" 2>&1); crc=$?
    fi
    # What went wrong, in one phrase, when the guest did not pass.
    case "$crc" in
        0) bad="" ;;
        1) bad="self-tests failed: $(echo "$words" | sed -n 's/.*FAILED //p' | paste -sd' ')" ;;
        3) bad="crashed: $(echo "$words" | sed -n 's/.*CRASH: //p' | head -n1)" ;;
        *) if [ $timed_out = 1 ]; then bad="hung: no verdict, destroyed after ${limit}s"
           else bad="died without a verdict (xl: shutdown reason $reason)"; fi ;;
    esac
    [ "$reason" = crash ] && [ "$crc" != 3 ] && bad="crashed (xl: shutdown reason crash); $bad"

    # pair:OTHER: the second guest must pass as well.
    case "$how" in pair:*)
        other=${how#pair:}
        odomid=$(domid_of "$other" "$section")
        if [ -z "$why" ] && [ -z "$odomid" ]; then
            why="$other: xl create failed: $(grep -E '^RIG: create ' "$section" | tail -n 3 |
                  sed 's/^RIG: [a-z]* //' | tr '\n' ' ')"
        elif [ -z "$why" ]; then
            owords=$(check_guest "$section" "$odomid" 2>&1) ||
                why="$other: $(echo "$owords" | grep -E 'FAILED|CRASH|NO VERDICT|verdict' |
                      head -n 3 | tr '\n' ' ')"
            [ -n "$owords" ] && words="$words
$(echo "$owords" | sed "s/^/$other: /")"
        fi ;;
    esac
    # linux:SCEN: the Linux peer must pass as well; its failed checks
    # (or how it ended) are named, next to the guest's own trouble.
    case "$how" in linux:*)
        if [ -z "$why" ] && ! grep -q "^RIG: PEER $name verdict: PASS$" "$section"; then
            pw=$(sed -n "s/^RIG: PEER $name FAIL: //p" "$section" | head -n 3 | paste -sd';')
            [ -n "$pw" ] || pw=$(grep -E "^RIG: PEER(-STUCK|-EXIT)? $name " "$section" |
                                 tail -n 2 | sed 's/^RIG: //' | paste -sd';')
            why="Linux peer (${how#linux:}) failed: ${pw:-no verdict}${bad:+; pvhk: $bad}"
        fi ;;
    esac
    if [ -z "$why" ]; then
        case "$expect" in
        pass)
            if [ -n "$bad" ]; then why=$bad
            elif [ $timed_out = 1 ]; then why="passed but never shut down (destroyed after ${limit}s)"
            elif why=$(check_control "$section" "$name" "$how" "$domid" "$reason"); [ -n "$why" ]; then
                :
            elif [ "$how" = console ]; then
                # xl create -c must come back by itself once the guest is
                # gone, and whatever reached the PV console must be whole.
                if grep -q "^RIG: CONSOLE-STUCK" "$section"; then
                    why="xl create -c stayed attached after the guest died"
                elif ! grep -q "^RIG: END $name rc=0 " "$section"; then
                    why="xl create -c failed: $(grep "^RIG: END" "$section")"
                elif ! grep -q '^RIG: console .*pvhk: verdict: PASS' "$section"; then
                    why="the PV console (xl create -c) does not show the PASS verdict"
                elif ! why=$(console_matches_serial "$section" "$domid"); then
                    :
                fi
            fi ;;
        fail:*)
            t=${expect#fail:}
            if [ "$crc" != 1 ]; then why="expected a failing test, got: ${bad:-a PASS}"
            elif ! echo "$words" | grep -q -- "FAILED .*\b$t\b"; then
                why="the failure was not attributed to '$t'"
            elif [ "$reason" != poweroff ]; then
                why="xl saw shutdown reason $reason, not poweroff (a failing test ends the run in order)"
            fi ;;
        crash:*)
            t=${expect#crash:}
            if [ "$crc" != 3 ]; then why="expected a reported crash, got: ${bad:-a PASS}"
            elif ! echo "$words" | grep -qi -- "$t"; then
                why="the crash report does not mention '$t'"
            elif ! echo "$words" | grep -q -- "verdict: ERROR"; then
                why="no ERROR verdict"
            elif [ "$reason" != crash ]; then
                why="xl saw shutdown reason $reason, not crash"
            elif ! grep -qE "^RIG: XL-STATE $name ....c.\$" "$section"; then
                why="xl list never showed the preserved domain as crashed"
            fi ;;
        timeout)
            if [ $timed_out = 1 ]; then :
            elif [ "$crc" = 2 ]; then
                # Not the rig's fault: the guest ended on its own instead of
                # hanging, and that was reported as a death without verdict.
                skip="the guest did not hang: it $bad"
            else why="expected a hang, got: ${bad:-a PASS}"; fi ;;
        esac
    fi
    if [ "$MODE" = run ] && [ -n "$domid" ]; then
        echo "# ---- $name (domain $domid): its log, from Xen's serial"
        guest_lines "$section" "$domid" | sed 's/^\[[ 0-9.]*\] //; s/^/# /'
    elif [ -n "$why" ] && [ "$QUIET" = 1 ]; then
        echo "# ---- $name: the end of its log ($section)"
        if [ -n "$domid" ]; then guest_lines "$section" "$domid"; else cat "$section"; fi |
            tail -n 20 | sed 's/^/# /'
    fi
    [ -n "$words" ] && echo "$words" | sed "s/^/# $name: /"
    if [ -n "$why" ]; then
        failed=$((failed + 1))
        echo "not ok $n domu$V:$name (expect $expect): $why"
    else
        passed=$((passed + 1))
        echo "ok $n domu$V:$name (expect $expect)${skip:+ # SKIP $skip}"
    fi
done
echo "# domU rig, Xen $XEN_VERSION: QEMU ${qsecs}s, log $LOG, per-guest logs $LOGDIR/domu-$MODE$V-*.log"
if [ "$qrc" != 0 ]; then
    if [ $boot_hung = 1 ]; then echo "# dom0 hung: no toolstack after ${BOOT_LIMIT}s"
    else echo "# QEMU exited with status $qrc$([ "$qrc" = 124 ] && echo " (killed at the ${total}s limit)")"; fi
    failed=$((failed + 1))
fi
echo "domu$V: $passed passed, $failed failed"
[ $failed = 0 ]
