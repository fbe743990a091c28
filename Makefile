# SPDX-License-Identifier: BSD-2-Clause
# pvhk: a freestanding x86-64 kernel that boots as a Xen PVH guest.
#
#   make            build build/pvhk.elf
#   make run        boot it as PVH dom0 under Xen under QEMU, show the self-tests
#   make run-bare   boot it with no Xen (QEMU's own PVH loader)
#   make run-domu   boot it as an xl-created PVH domU (Linux dom0 inside QEMU)
#   make test       every test: host units, CLIs, fuzz (bounded), boots
#   make tools      host CLIs in build/tools/ (tools-san: with sanitizers)
#   make check-cycles  fail on a dependency cycle between kernel source files
#   make bench      benchmarks, printed as figures
#   make fuzz / make soak   the long versions of the randomized tests
#   make mutate     mutation testing of the pure logic (slow; docs/mutation.md)
#   make PA_IMPL=ref [run|run-bare]   the same kernel on the reference page
#                   allocator, built in build/ref/
#
# Variables for the boot targets (see README): QEMU_MEM QEMU_MACHINE QEMU_SMP
# XEN_ARGS CMDLINE TIMEOUT.

# `make CC=clang` builds everything with clang, host code included.
ifeq ($(origin CC),default)
CC      := gcc
endif
HOSTCC  ?= $(CC)

B       := build
XENINC  := $(B)/xeninc

# Which page allocator the kernel runs (docs/allocator.md): `fast`, the
# buddy allocator of mm/page_{alloc,table,range}.c, or `ref`, the reference allocator of
# mm/page_ref.c (include/pvhk/page_alloc.h then maps every pa_X onto pr_X).
# The kernel builds in $(KB): the reference kernel in its own directory, so
# both images coexist. Host code (tests, tools) holds both allocators and
# does not depend on PA_IMPL.
PA_IMPL ?= fast
ifeq ($(PA_IMPL),fast)
KB      := $(B)
KERNEL_EXCLUDE := mm/page_ref.c
KDEFS   :=
else ifeq ($(PA_IMPL),ref)
KB      := $(B)/ref
KERNEL_EXCLUDE := mm/page_alloc.c mm/page_table.c mm/page_range.c mm/page_check.c mm/page_cpu.c
KDEFS   := -DPA_IMPL_REF
else
$(error PA_IMPL is `fast` or `ref`, not `$(PA_IMPL)`)
endif

# ---- sources -------------------------------------------------------------
# Pure logic: no hypercalls, no port I/O, no globals that need the kernel.
# These build for the kernel and, unchanged, for the host tests and tools.
PURE_SRCS := $(wildcard \
    common/printf.c common/cmdline.c boot/start_info_check.c boot/platform.c boot/madt.c \
    mm/e820.c mm/memblock.c mm/page_alloc.c mm/page_table.c mm/page_range.c mm/page_state.c mm/page_check.c mm/page_cpu.c \
    mm/page_smp.c mm/page_ref.c \
    mm/scratch.c mm/extra_mem.c \
    xen/p2m.c xen/grant_table.c xen/evtchn_2l.c \
    xen/xs_msg.c xen/xs_ring.c xen/xs_events.c xen/xs_conn.c xen/xs_ops.c)

KERNEL_SRCS := $(filter-out $(KERNEL_EXCLUDE), \
    $(sort $(wildcard boot/*.S boot/*.c arch/*.S arch/*.c \
    common/*.c mm/*.c xen/*.c drivers/*.c tests/kernel/*.c)))

# ---- kernel build --------------------------------------------------------
KCFLAGS := -std=gnu11 -O2 -g -Wall -Wextra -Werror \
    -ffreestanding -fno-builtin -nostdinc \
    -isystem $(shell $(CC) -print-file-name=include) \
    -Iinclude -isystem $(XENINC) \
    -D__XEN_INTERFACE_VERSION__=0x00040e00 $(KDEFS) \
    -fno-pic -fno-pie -mcmodel=small -mno-red-zone \
    -mno-mmx -mno-sse -mno-sse2 -mno-3dnow -mno-avx \
    -fno-stack-protector -fno-omit-frame-pointer \
    -fno-asynchronous-unwind-tables -fno-strict-aliasing \
    -fcf-protection=none -ffunction-sections
ifneq ($(findstring clang,$(CC)),)
KCFLAGS += -Wno-unused-command-line-argument
endif
KASFLAGS := $(filter-out -std=gnu11,$(KCFLAGS)) -D__ASSEMBLY__
KLDFLAGS := -nostdlib -static -no-pie -Wl,-T,linker.ld -Wl,--build-id=none \
    -Wl,-z,max-page-size=0x1000 -Wl,-z,noexecstack -Wl,--no-warn-rwx-segments

KOBJS := $(patsubst %,$(KB)/k/%.o,$(basename $(KERNEL_SRCS)))

all: $(KB)/pvhk.elf

$(XENINC)/xen:
	@scripts/deps.sh headers
	@mkdir -p $(XENINC)
	@ln -sfn /usr/include/xen $(XENINC)/xen

$(KB)/k/%.o: %.c | $(XENINC)/xen
	@mkdir -p $(dir $@)
	@echo "  CC      $<"
	@$(CC) $(KCFLAGS) -MMD -MP -c $< -o $@

$(KB)/k/%.o: %.S | $(XENINC)/xen
	@mkdir -p $(dir $@)
	@echo "  AS      $<"
	@$(CC) $(KASFLAGS) -MMD -MP -c $< -o $@

$(KB)/pvhk.elf: $(KOBJS) linker.ld
	@echo "  LD      $@"
	@$(CC) $(KCFLAGS) $(KLDFLAGS) -o $@ $(KOBJS)
	@scripts/check-image.sh $@

-include $(KOBJS:.o=.d)

# ---- host builds: tests, tools, fuzzers, benches --------------------------
HCFLAGS := -std=gnu11 -g -Wall -Wextra -Werror -DPVHK_HOST -Iinclude \
    -D__XEN_INTERFACE_VERSION__=0x00040e00
HSAN    := -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined \
    -fno-omit-frame-pointer
HOPT    := -O2

# Pure objects, three flavours: sanitized (tests), optimized (tools/bench).
HSAN_PURE := $(patsubst %.c,$(B)/hsan/%.o,$(PURE_SRCS))
HOPT_PURE := $(patsubst %.c,$(B)/hopt/%.o,$(PURE_SRCS))

# Host objects also need the Xen public headers: install them first.
$(B)/hsan/%.o: %.c | $(XENINC)/xen
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $< (sanitizers)"
	@$(HOSTCC) $(HCFLAGS) $(HSAN) -MMD -MP -c $< -o $@

$(B)/hopt/%.o: %.c | $(XENINC)/xen
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $<"
	@$(HOSTCC) $(HCFLAGS) $(HOPT) -MMD -MP -c $< -o $@

HOST_TEST_SRCS := $(wildcard tests/host/*.c)
HOST_TEST_OBJS := $(patsubst %.c,$(B)/hsan/%.o,$(HOST_TEST_SRCS))

$(B)/host/hosttests: $(HOST_TEST_OBJS) $(HSAN_PURE)
	@mkdir -p $(dir $@)
	@echo "  HOSTLD  $@"
	@$(HOSTCC) $(HSAN) -o $@ $^ -lm -pthread

# The allocator from several CPUs at once (threads standing in for CPUs)
# under ThreadSanitizer, which reports any access the locks and atomics do
# not order (tests/host/test_page_smp.c).
HTSAN     := -O1 -fsanitize=thread -fno-omit-frame-pointer
TSAN_SRCS := tests/host/main.c tests/host/test_page_smp.c mm/page_alloc.c mm/page_table.c \
    mm/page_range.c mm/page_state.c mm/page_check.c mm/page_cpu.c mm/page_smp.c
TSAN_OBJS := $(patsubst %.c,$(B)/htsan/%.o,$(TSAN_SRCS))

$(B)/htsan/%.o: %.c | $(XENINC)/xen
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $< (thread sanitizer)"
	@$(HOSTCC) $(HCFLAGS) $(HTSAN) -MMD -MP -c $< -o $@

$(B)/host/hosttests-tsan: $(TSAN_OBJS)
	@mkdir -p $(dir $@)
	@echo "  HOSTLD  $@"
	@$(HOSTCC) $(HTSAN) -o $@ $^ -lm -pthread

# The allocator's model tests again (and test_page_small.c's limits that
# depend on the build constants), with 8-frame chunks (PA_MAX_ORDER 3):
# tiny heaps then hold whole chunks, so the paths that only run inside a
# chunk wholly in its range (pa_free's merge, lazy chunk init) are compared
# against the model too, exhaustively included.
O3_DEFS := -DPA_MAX_ORDER=3 -DPA_MAX_CHUNKS=1024
O3_SRCS := tests/host/main.c tests/host/test_page_model.c tests/host/test_page_small.c mm/page_alloc.c \
    mm/page_table.c mm/page_range.c mm/page_state.c mm/page_check.c mm/page_cpu.c mm/page_ref.c
O3_OBJS := $(patsubst %.c,$(B)/hsan-o3/%.o,$(O3_SRCS))

$(B)/hsan-o3/%.o: %.c | $(XENINC)/xen
	@mkdir -p $(dir $@)
	@echo "  HOSTCC  $< (sanitizers, PA_MAX_ORDER=3)"
	@$(HOSTCC) $(HCFLAGS) $(HSAN) $(O3_DEFS) -MMD -MP -c $< -o $@

$(B)/host/hosttests-o3: $(O3_OBJS)
	@mkdir -p $(dir $@)
	@echo "  HOSTLD  $@"
	@$(HOSTCC) $(HSAN) -o $@ $^ -lm

# The host CLIs twice: optimized (make tools: what users and the boot
# scripts run) and with sanitizers (what make test's CLI tests run). Their
# .d files make the headers prerequisites too: only the sources and objects
# go on the command line (clang refuses header inputs next to -o).
TOOL_SRCS := $(wildcard tools/*.c)
TOOLS     := $(patsubst tools/%.c,$(B)/tools/%,$(TOOL_SRCS))
TOOLS_SAN := $(patsubst tools/%.c,$(B)/tools-san/%,$(TOOL_SRCS))

$(B)/tools/%: tools/%.c $(HOPT_PURE)
	@mkdir -p $(dir $@) $(B)/hopt/tools
	@echo "  HOSTLD  $@"
	@$(HOSTCC) $(HCFLAGS) $(HOPT) -MMD -MP -MF $(B)/hopt/tools/$*.d -o $@ $(filter %.c %.o,$^) -lm

$(B)/tools-san/%: tools/%.c $(HSAN_PURE)
	@mkdir -p $(dir $@) $(B)/hsan/tools
	@echo "  HOSTLD  $@ (sanitizers)"
	@$(HOSTCC) $(HCFLAGS) $(HSAN) -MMD -MP -MF $(B)/hsan/tools/$*.d -o $@ $(filter %.c %.o,$^) -lm

BENCH_SRCS := $(wildcard bench/*.c)
BENCHES    := $(patsubst bench/%.c,$(B)/bench/%,$(BENCH_SRCS))

$(B)/bench/%: bench/%.c $(HOPT_PURE)
	@mkdir -p $(dir $@)
	@echo "  HOSTLD  $@"
	@$(HOSTCC) $(HCFLAGS) $(HOPT) -o $@ $^ -lm -pthread

# The domU rig's Linux peer (tests/domu/linux_peer.c), run in the rig's
# dom0: static, on Xen's own libxengnttab/libxenevtchn/libxenstore
# (libxen-dev), so the dom0 image needs none of them.
$(B)/peer/linux-peer: tests/domu/linux_peer.c tests/domu/peer_proto.h | $(XENINC)/xen
	@mkdir -p $(dir $@)
	@echo "  HOSTLD  $@ (static)"
	@$(HOSTCC) -std=gnu11 -O2 -Wall -Wextra -Werror -static -o $@ $< \
	    -lxengnttab -lxenevtchn -lxenstore -lxentoolcore -lxentoollog -lpthread

# libFuzzer targets always build with clang.
FUZZ_SRCS := $(wildcard tests/fuzz/*.c)
FUZZERS   := $(patsubst tests/fuzz/%.c,$(B)/fuzz/%,$(FUZZ_SRCS))
FUZZCC    ?= clang

$(B)/fuzz/%: tests/fuzz/%.c $(PURE_SRCS) | $(XENINC)/xen
	@scripts/deps.sh fuzz
	@mkdir -p $(dir $@)
	@echo "  FUZZ    $@"
	@$(FUZZCC) $(HCFLAGS) -O1 -fsanitize=fuzzer,address,undefined -o $@ $^

-include $(HSAN_PURE:.o=.d) $(HOPT_PURE:.o=.d) $(HOST_TEST_OBJS:.o=.d) $(O3_OBJS:.o=.d) $(TSAN_OBJS:.o=.d) \
    $(patsubst tools/%.c,$(B)/hopt/tools/%.d,$(TOOL_SRCS)) \
    $(patsubst tools/%.c,$(B)/hsan/tools/%.d,$(TOOL_SRCS))

# ---- user-facing targets --------------------------------------------------
tools: $(TOOLS)

tools-san: $(TOOLS_SAN)

hosttests: $(B)/host/hosttests $(B)/host/hosttests-o3 $(B)/host/hosttests-tsan

fuzzers: $(FUZZERS)

benches: $(BENCHES)

test: all tools tools-san hosttests
	@scripts/test.sh

run: all
	@KERNEL=$(KB)/pvhk.elf scripts/run.sh dom0

run-bare: all
	@KERNEL=$(KB)/pvhk.elf scripts/run.sh bare

run-domu: all
	@scripts/domu-rig.sh run

# No dependency cycle between the kernel's source files (scripts/check-cycles.sh).
check-cycles: $(KOBJS) $(B)/tools/depcycles
	@scripts/check-cycles.sh $(KB)/k $(patsubst $(KB)/k/%,%,$(KOBJS))

bench: all tools benches
	@scripts/bench.sh

fuzz: fuzzers
	@scripts/fuzz.sh long

# Not part of `make test`: it builds and tests every mutant (MUTATE_FILES,
# MUTATE_MAX, MUTATE_JOBS, MUTATE_TIMEOUT; see docs/mutation.md).
mutate:
	@scripts/mutate.sh

soak: hosttests
	$(B)/host/hosttests --soak
	$(B)/host/hosttests-o3 --soak

clean:
	rm -rf $(B)/k $(B)/hsan $(B)/hsan-o3 $(B)/htsan $(B)/hopt $(B)/host $(B)/tools $(B)/tools-san \
	    $(B)/bench $(B)/fuzz $(B)/pvhk.elf $(B)/logs $(B)/ref $(B)/mutate

.SECONDARY:

.PHONY: all tools tools-san hosttests fuzzers benches test run run-bare run-domu bench check-cycles \
    fuzz soak mutate clean
