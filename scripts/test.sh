#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# `make test`: every test, one stage at a time, with a summary at the end.
# A stage is a command that must succeed; negative stages assert that the
# harness notices a failure, a panic and a hang. Logs: build/logs/.
set -uo pipefail
cd "$(dirname "$0")/.."

passed=0; failed=0; failures=()
t_all=$(date +%s)

stage() {   # stage NAME COMMAND...
    local name=$1; shift
    local t0=$(date +%s)
    echo "=== test: $name"
    if "$@"; then
        passed=$((passed + 1)); echo "=== ok: $name ($(( $(date +%s) - t0 ))s)"
    else
        failed=$((failed + 1)); failures+=("$name"); echo "=== FAILED: $name ($(( $(date +%s) - t0 ))s)"
    fi
}

# A boot that must pass.
boot() {    # boot MODE [VAR=VALUE...]
    local mode=$1; shift
    env QUIET=1 LOG=build/logs/test-$mode-$RANDOM.log "$@" scripts/run.sh "$mode"
}

# A boot that must fail in a given way: expect STATUS TEXT MODE [VAR=VALUE...]
# passes only if run.sh exits with STATUS and its output contains TEXT (each
# line of TEXT, when it has several).
expect_failure() {
    local want=$1 text=$2 mode=$3; shift 3
    local out rc
    out=$(env QUIET=1 LOG=build/logs/test-neg-$mode-$RANDOM.log "$@" scripts/run.sh "$mode" 2>&1)
    rc=$?
    echo "$out" | sed 's/^/    /'
    if [ "$rc" != "$want" ]; then
        echo "    expected status $want, got $rc"; return 1
    fi
    local t
    while IFS= read -r t; do
        grep -qF -- "$t" <<<"$out" || { echo "    expected output to mention: $t"; return 1; }
    done <<<"$text"
}

# Each tests/cli/NAME.sh against build/tools-san/NAME: the CLI built with
# AddressSanitizer (leaks included) and UBSan. A sanitizer's finding exits
# with status 99, which no tool uses, so a test that expects a tool's own
# failure status cannot mistake it for one.
cli_tests() {
    local rc=0
    for t in tests/cli/*.sh; do
        [ -e "$t" ] || continue
        local tool=build/tools-san/$(basename "$t" .sh)
        [ -x "$tool" ] || { echo "    $tool missing (make tools-san)"; rc=1; continue; }
        ASAN_OPTIONS=detect_leaks=1:exitcode=99 UBSAN_OPTIONS=print_stacktrace=1:exitcode=99 \
            bash "$t" "$tool" || rc=1
    done
    return $rc
}

# A boot of the kernel built on the reference page allocator (mm/page_ref.c).
ref_boot() {    # ref_boot MODE [VAR=VALUE...]
    local mode=$1; shift
    make -s PA_IMPL=ref all >/dev/null || return 1
    boot "$mode" KERNEL=build/ref/pvhk.elf "$@"
}

# A command that must exit with STATUS and print TEXT (stdout or stderr).
expect_status() {   # expect_status STATUS TEXT COMMAND...
    local want=$1 text=$2 out rc; shift 2
    out=$("$@" 2>&1); rc=$?
    echo "$out" | tail -n 3 | sed 's/^/    /'
    [ "$rc" = "$want" ] || { echo "    expected status $want, got $rc"; return 1; }
    grep -qF -- "$text" <<<"$out" || { echo "    expected output to mention: $text"; return 1; }
}

# A bare boot with a 3259-byte command line (pvhk keeps 2047 bytes), a
# malformed number in front and the harness's words behind the cut: the run
# must pass, warn with the lengths and about the number, mark the echo as
# truncated, and still honour selftest= and expect.platform= (run.sh puts
# it last).
long_cmdline_boot() {
    local log=build/logs/test-bare-long-cmdline-$RANDOM.log pad="" i
    for i in $(seq 100 299); do pad+="pad.$i=xxxxxxx "; done
    env QUIET=1 LOG="$log" CMDLINE="extra_mem_ratio=abc ${pad}selftest=boot,arch" \
        scripts/run.sh bare || return 1
    local want text
    text=$(tr -d '\r' < "$log")
    for want in "pvhk: WARNING: command line: 3259 bytes given, " \
                "pvhk: WARNING: command line: extra_mem_ratio=abc: not a number; using 10" \
                "pvhk: command line: [TRUNCATED: " \
                "# Subtest: boot" "# Subtest: arch"; do
        grep -aqF -- "$want" <<<"$text" || { echo "    $log lacks: $want"; return 1; }
    done
    grep -aqE '^    ok [0-9]+ platform_detected$' <<<"$text" ||
        { echo "    boot.platform_detected did not run against expect.platform= ($log)"; return 1; }
    grep -aqx '1\.\.2' <<<"$text" || { echo "    selftest=boot,arch was not honoured ($log)"; return 1; }
}

# A dom0 that crashes: pvhk's ERROR verdict, then SCHEDOP_shutdown(crash);
# Xen must say so ("Hardware Dom0 crashed", then its reboot after 5 s,
# which QEMU's -no-reboot turns into an exit), and the run fails with 3.
dom0_crash() {
    local log=build/logs/test-neg-dom0-crash-$RANDOM.log
    expect_failure 3 "verdict: ERROR (aborted in selftest.deliberate_panic: deliberate panic" \
        dom0 CMDLINE=selftest.panic=1 LOG="$log" || return 1
    grep -aq "Hardware Dom0 crashed: rebooting machine" "$log" ||
        { echo "    $log: Xen did not report a crashed dom0"; return 1; }
}

# A secondary CPU that never reports in (smp.hold=1 parks CPU 1 before it
# goes online): the boot CPU must name it after its bound and go on, and
# the smp suite must pass with the others.
smp_hold_boot() {
    local log=build/logs/test-bare-smp-hold-$RANDOM.log
    env QUIET=1 LOG="$log" QEMU_SMP=2 CMDLINE="smp.hold=1 selftest=smp" \
        scripts/run.sh bare || return 1
    grep -aqF "pvhk: smp: CPU 1 did not come up within" "$log" ||
        { echo "    $log: the held CPU was not reported"; return 1; }
    grep -aqF "pvhk: smp: 1 of 2 CPU(s) online" "$log" ||
        { echo "    $log: the boot did not go on with one CPU"; return 1; }
}

# A panic on CPU 1 while CPU 0 runs the test: CPU 1 stops CPU 0 (NMI),
# prints the ERROR verdict naming itself, and the run ends with status 3.
ap_panic() {
    local log=build/logs/test-neg-bare-ap-panic-$RANDOM.log
    expect_failure 3 "CRASH: pvhk: PANIC on CPU 1: deliberate panic on a secondary CPU
verdict: ERROR (aborted in smp.deliberate_ap_panic: deliberate panic on a secondary CPU, on CPU 1)" \
        bare QEMU_SMP=2 CMDLINE="selftest=smp selftest.ap_panic=1" LOG="$log" || return 1
    grep -aqF "pvhk: smp: CPU 1 stopped 1 of 1 other CPU(s)" "$log" ||
        { echo "    $log: CPU 1 did not stop CPU 0 before its verdict"; return 1; }
}

clang_build() {
    scripts/deps.sh fuzz >/dev/null && make -s B=build/clang CC=clang all tools &&
        make -s B=build/clang CC=clang PA_IMPL=ref all
}

stage "host unit tests"         build/host/hosttests
stage "allocator model, 8-frame chunks" build/host/hosttests-o3
stage "allocator on several CPUs, ThreadSanitizer" build/host/hosttests-tsan
stage "host tests: a filter matching nothing fails" \
    expect_status 1 'no test name contains "no_such_test"' build/host/hosttests no_such_test
stage "host CLI tests"          cli_tests
stage "no dependency cycle between kernel source files" make -s check-cycles
stage "README layout names every file" scripts/check-layout.sh
if ls tests/fuzz/*.c >/dev/null 2>&1; then
    stage "fuzz (bounded)"      scripts/fuzz.sh short
fi
stage "clang build (-Werror)"   clang_build
stage "boot bare pc 512M"       boot bare QEMU_MACHINE=pc QEMU_MEM=512M
stage "boot bare q35 4G"        boot bare QEMU_MACHINE=q35 QEMU_MEM=4G
stage "boot dom0 512M"          boot dom0 QEMU_MEM=512M
stage "boot dom0 4G dom0_mem=256M" boot dom0 QEMU_MEM=4G XEN_ARGS=dom0_mem=256M
stage "boot dom0 1G dom0_mem=256M,max:512M" boot dom0 QEMU_MEM=1G XEN_ARGS=dom0_mem=256M,max:512M
stage "boot bare pc 6G (zone policy above 4 GiB)" boot bare QEMU_MACHINE=pc QEMU_MEM=6G
stage "boot dom0 6G dom0_mem=5G (zone policy above 4 GiB)" boot dom0 QEMU_MEM=6G XEN_ARGS=dom0_mem=5G
stage "boot dom0 512M, Xen 4.20"  boot dom0 XEN_VERSION=4.20 QEMU_MEM=512M
stage "boot dom0 4G dom0_mem=256M, Xen 4.20" boot dom0 XEN_VERSION=4.20 QEMU_MEM=4G XEN_ARGS=dom0_mem=256M
stage "boot dom0 1G dom0_mem=256M,max:512M, Xen 4.20" \
    boot dom0 XEN_VERSION=4.20 QEMU_MEM=1G XEN_ARGS=dom0_mem=256M,max:512M
stage "boot bare pc 512M, reference allocator" ref_boot bare QEMU_MACHINE=pc QEMU_MEM=512M
stage "boot dom0 512M, reference allocator" ref_boot dom0 QEMU_MEM=512M
stage "boot dom0 owning all memory (2G, dom0_mem=2G)" boot dom0 QEMU_MEM=2G XEN_ARGS=dom0_mem=2G
stage "boot bare 512M, 4 CPUs"   boot bare QEMU_SMP=4 QEMU_MEM=512M
stage "boot dom0 512M, 2 vCPUs"  boot dom0 QEMU_SMP=2 QEMU_MEM=512M
stage "boot dom0 512M, 4 vCPUs"  boot dom0 QEMU_SMP=4 QEMU_MEM=512M
stage "boot bare, 2 CPUs, one held back (smp.hold=1): reported, boot goes on" smp_hold_boot
stage "boot bare, 3259-byte command line" long_cmdline_boot
stage "run.sh refuses a command line QEMU's PVH loader cannot hold" \
    expect_status 64 "QEMU's PVH loader holds at most 4095" \
    env CMDLINE="$(printf 'x%.0s' $(seq 4100))" scripts/run.sh bare
stage "negative: failing test is named (bare)" \
    expect_failure 1 "FAILED selftest.deliberate_failure" bare CMDLINE=selftest.fail=1
stage "negative: failing test is named (dom0)" \
    expect_failure 1 "FAILED selftest.deliberate_failure" dom0 CMDLINE=selftest.fail=1
stage "negative: panic is reported as the run's ERROR (bare)" \
    expect_failure 3 "verdict: ERROR (aborted in selftest.deliberate_panic: deliberate panic" \
    bare CMDLINE=selftest.panic=1
stage "negative: unexpected exception is reported as the run's ERROR (bare)" \
    expect_failure 3 "CRASH: pvhk: EXCEPTION vector 14
verdict: ERROR (aborted in selftest.deliberate_fault: unexpected exception" \
    bare CMDLINE=selftest.fault=1
stage "negative: a panic on a secondary CPU is the run's ERROR, naming the CPU (bare, 2 CPUs)" \
    ap_panic
stage "negative: a panicking dom0 crashes (Xen reports it)" dom0_crash
stage "negative: hang is killed at the timeout" \
    expect_failure 124 "TIMEOUT" bare CMDLINE=selftest.hang=1 TIMEOUT=10
if [ -x scripts/domu-rig.sh ]; then
    stage "domU rig (xl create under a Linux dom0)" scripts/domu-rig.sh test
    stage "domU rig, Xen 4.20 (Debian 13's dom0: Linux 6.12, xen-utils-4.20)" \
        env XEN_VERSION=4.20 scripts/domu-rig.sh test
fi

echo
echo "test: total $(( $(date +%s) - t_all ))s"
for f in "${failures[@]}"; do echo "test: FAILED stage: $f"; done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
