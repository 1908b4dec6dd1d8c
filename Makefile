# SPDX-License-Identifier: Apache-2.0
#
# make            build/bin/falco and build/bin/falcoctl
# make quickstart install deps (apt), build, then `build/bin/falcoctl install falco` (as root; FALCOCTL_ARGS=...)
# make test       install deps (apt), build, run unit (cmocka) + end-to-end (pytest) tests, one summary
# make check      the same under ASan+UBSan (build dir build/debug)
# make bench      benchmarks (results go to docs/BENCHMARKS.md by hand, with the command)
# make install    DESTDIR=... PREFIX=...
# make deb / rpm  build/pkg/falco_<version>_<arch>.deb / falco-<version>-1.<arch>.rpm (packaging/)
# make lint       clang-format check + forbidden-function grep
# V=1 shows commands; WERROR=0 lets packagers drop -Werror (CI never does).

.DELETE_ON_ERROR:
.SUFFIXES:
.SECONDARY:
.DEFAULT_GOAL := all
SHELL := /bin/bash

VERSION := 0.1.0
V ?= 0
DEBUG ?= 0
WERROR ?= 1
BUILD ?= $(if $(filter 1,$(DEBUG)),build/debug,build)
PREFIX ?= /usr
SYSCONFDIR ?= /etc
DESTDIR ?=
PYTHON ?= /usr/bin/python3
CLANG ?= clang
BPFTOOL ?= bpftool
LLVM_STRIP ?= llvm-strip
ARCH := $(shell uname -m)
BPF_ARCH := $(subst x86_64,x86,$(subst aarch64,arm64,$(ARCH)))

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-7s %s\n' "$(1)" "$(2)";
endif

PKGS := libbpf libkmod libsystemd libcurl libarchive openssl yaml-0.1 libcjson libpcre2-8 libevent \
	libevent_openssl libevent_pthreads zlib
# Evaluated once, on first use, so `make test` can install the packages before pkg-config is asked.
PKG_CFLAGS = $(eval PKG_CFLAGS := $$(shell pkg-config --cflags $(PKGS)))$(PKG_CFLAGS)
PKG_LIBS = $(eval PKG_LIBS := $$(shell pkg-config --libs $(PKGS)))$(PKG_LIBS)
CMOCKA_LIBS = $(eval CMOCKA_LIBS := $$(shell pkg-config --libs cmocka))$(CMOCKA_LIBS)

WARN := -Wall -Wextra -Wformat=2 -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wundef -Wvla \
	-Wwrite-strings -Wpointer-arith -Wimplicit-fallthrough -Wno-unused-parameter
ifeq ($(WERROR),1)
WARN += -Werror
endif
ifeq ($(DEBUG),1)
OPT := -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
SAN_LDFLAGS := -fsanitize=address,undefined
else
OPT := -O2 -D_FORTIFY_SOURCE=2
SAN_LDFLAGS :=
endif

GIT_REV := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
CPPFLAGS += -I. -I$(BUILD)/gen -D_GNU_SOURCE -DPROJECT_VERSION='"$(VERSION)"' -DGIT_REV='"$(GIT_REV)"' \
	-DSYSCONFDIR='"$(SYSCONFDIR)"' -DPREFIX='"$(PREFIX)"'
CFLAGS += -std=gnu11 -g $(OPT) $(WARN) -fstack-protector-strong -fPIE -MMD -MP
LDFLAGS += -pie -Wl,-z,relro,-z,now $(SAN_LDFLAGS)

COMMON_SRCS := $(sort $(wildcard common/*.c))
FALCO_LIB_SRCS := $(sort $(filter-out falco/main.c,$(shell find falco -name '*.c')))
FALCOCTL_LIB_SRCS := $(sort $(filter-out falcoctl/main.c,$(wildcard falcoctl/*.c)))
UNIT_SRCS := $(sort $(wildcard tests/unit/test_*.c))
UNIT_HELPER_SRCS := $(sort $(filter-out tests/unit/test_%.c,$(wildcard tests/unit/*.c)))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
COMMON_LIB := $(BUILD)/lib/libcommon.a
FALCO_LIB := $(BUILD)/lib/libfalco.a
FALCOCTL_LIB := $(BUILD)/lib/libfalcoctl.a
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))

# driver/driver.mk builds the BPF object and its skeleton header; objects that include it depend on BPF_SKEL.
BPF_SKEL :=
-include driver/driver.mk

.PHONY: all test test-run check bench install lint clean deps help deb rpm quickstart
all: $(BUILD)/bin/falco $(BUILD)/bin/falcoctl

help:
	@sed -n '3,12p' Makefile

deps:
	$(Q)scripts/install-deps.sh

$(BUILD)/obj/%.o: %.c | $(BPF_SKEL)
	$(call msg,CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(PKG_CFLAGS) -c $< -o $@

$(COMMON_LIB): $(call obj,$(COMMON_SRCS))
$(FALCO_LIB): $(call obj,$(FALCO_LIB_SRCS))
$(FALCOCTL_LIB): $(call obj,$(FALCOCTL_LIB_SRCS))
$(COMMON_LIB) $(FALCO_LIB) $(FALCOCTL_LIB):
	$(call msg,AR,$@)
	$(Q)mkdir -p $(@D)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/bin/falco: $(call obj,falco/main.c) $(FALCO_LIB) $(COMMON_LIB)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread -lm

$(BUILD)/bin/falcoctl: $(call obj,falcoctl/main.c) $(FALCOCTL_LIB) $(COMMON_LIB)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) -lpthread -lm

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(call obj,$(UNIT_HELPER_SRCS)) $(FALCOCTL_LIB) $(FALCO_LIB) \
		$(COMMON_LIB)
	$(call msg,LD,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(PKG_LIBS) $(CMOCKA_LIBS) -lpthread -lm

# LD_PRELOAD shims for falcoctl's tests (uname, finit_module/delete_module, /proc/modules, /sys/module).
PRELOAD_LIBS := $(patsubst tests/preload/%.c,$(BUILD)/tests/preload/%.so,$(sort $(wildcard tests/preload/*.c)))
$(BUILD)/tests/preload/%.so: tests/preload/%.c
	$(call msg,CC,$<)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 -g -O2 -Wall -Wextra -Wno-unused-parameter -Werror -fPIC -shared -D_GNU_SOURCE -o $@ $< -ldl
test-run: $(PRELOAD_LIBS)

# `make test` first makes sure every package is there (scripts/install-deps.sh is a no-op when it is), then
# builds and runs everything in a sub-make so pkg-config sees the installed libraries.
test:
	$(Q)scripts/install-deps.sh
	$(Q)$(MAKE) --no-print-directory test-run

test-run: all $(UNIT_BINS)
	$(Q)BUILD=$(BUILD) PYTHON=$(PYTHON) $(PYTHON) tests/run.py --build $(BUILD) $(UNIT_BINS)

check:
	$(Q)$(MAKE) --no-print-directory DEBUG=1 test

# The README's one command on a fresh machine: packages, build (a sub-make, so pkg-config sees what was just
# installed), then falco installed as a service by falcoctl (a supervised daemon where systemd is not PID 1).
quickstart:
	$(Q)scripts/install-deps.sh
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(BUILD)/bin/falcoctl install falco $(FALCOCTL_ARGS)

bench: all
	$(Q)BUILD=$(BUILD) bench/run.sh

install: all
	$(Q)scripts/install.sh "$(BUILD)" "$(DESTDIR)" "$(PREFIX)" "$(SYSCONFDIR)"

# Packages: packaging/build.sh stages with scripts/install.sh, then dpkg-deb / rpmbuild (see packaging/README.md).
deb rpm: all
	$(call msg,PKG,$@)
	$(Q)packaging/build.sh $@ "$(BUILD)" "$(BUILD)/pkg" "$(VERSION)"

lint:
	$(Q)clang-format --dry-run -Werror $$(git ls-files '*.c' '*.h' | grep -v '^driver/vmlinux/')
	$(Q)! git grep -nE '\b(strcpy|strcat|sprintf|gets|atoi|strtok|system)\(' -- '*.c' '*.h' \
		':!driver/vmlinux/' || { echo "lint: forbidden function" >&2; exit 1; }

clean:
	rm -rf build

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
