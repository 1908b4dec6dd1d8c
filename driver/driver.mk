# SPDX-License-Identifier: Apache-2.0
#
# The CO-RE BPF probe, included by the top Makefile. Produces $(BPF_SKEL) = $(BUILD)/gen/falco.skel.h, which only
# falco/source/evt_bpf.c includes (never committed). Steps:
#   vmlinux.h   bpftool btf dump of the build machine's /sys/kernel/btf/vmlinux, or the checked-in trimmed
#               driver/vmlinux/<arch>/vmlinux.h when that file is missing (VMLINUX_H_FALLBACK=1 forces it)
#   falco.bpf.o clang -target bpf of driver/falco.bpf.c, which includes every program family (driver/*.bpf.c;
#               one unit: libbpf 1.1's static linker cannot link weak kfunc externs), then llvm-strip -g
#   skeleton    bpftool gen skeleton ... name falco_bpf

BPF_GEN := $(BUILD)/gen
BPF_OBJDIR := $(BUILD)/bpf
BPF_SRCS := $(sort $(wildcard driver/*.bpf.c))
BPF_HDRS := $(wildcard driver/*.h)
BPF_LINKED := $(BPF_OBJDIR)/falco.bpf.o
BPF_SKEL := $(BPF_GEN)/falco.skel.h

VMLINUX_BTF ?= /sys/kernel/btf/vmlinux
VMLINUX_H_FALLBACK ?= 0
VMLINUX_FALLBACK := driver/vmlinux/$(ARCH)/vmlinux.h
VMLINUX_H := $(BPF_GEN)/vmlinux.h
KREL := $(shell uname -r)
VMLINUX_KREL := $(BPF_GEN)/vmlinux-$(KREL)$(if $(filter 1,$(VMLINUX_H_FALLBACK)),-fallback).h

BPF_CFLAGS := -g -O2 -Wall -Werror -Werror=undef -target bpf -mcpu=v3 -D__TARGET_ARCH_$(BPF_ARCH) \
	-I$(BPF_GEN) -Idriver

$(VMLINUX_KREL): $(wildcard $(VMLINUX_FALLBACK))
	$(call msg,BTF,$@)
	$(Q)mkdir -p $(@D)
	$(Q)if [ "$(VMLINUX_H_FALLBACK)" != 1 ] && [ -r $(VMLINUX_BTF) ] && \
		$(BPFTOOL) btf dump file $(VMLINUX_BTF) format c > $@.tmp 2>/dev/null; then \
		mv $@.tmp $@; \
	else \
		rm -f $@.tmp; cp $(VMLINUX_FALLBACK) $@; \
	fi

# Copied only when it changed, so a rebuilt stamp does not force a BPF rebuild.
$(VMLINUX_H): $(VMLINUX_KREL)
	$(Q)cmp -s $< $@ || cp $< $@

$(BPF_LINKED): $(BPF_SRCS) $(BPF_HDRS) $(VMLINUX_H)
	$(call msg,BPF,driver/falco.bpf.c)
	$(Q)mkdir -p $(@D)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c driver/falco.bpf.c -o $@.tmp
	$(Q)$(LLVM_STRIP) -g $@.tmp
	$(Q)mv $@.tmp $@

$(BPF_SKEL): $(BPF_LINKED)
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name falco_bpf > $@.tmp
	$(Q)mv $@.tmp $@

# bench/drvbench.c: the driver harness used by bench/driver_*.sh (not part of `all`).
DRVBENCH := $(BUILD)/bin/falco-drvbench
$(DRVBENCH): $(BUILD)/obj/bench/drvbench.o $(FALCO_LIB) $(COMMON_LIB)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread -lm
