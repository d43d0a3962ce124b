# SPDX-License-Identifier: GPL-2.0
#
# Out-of-tree build of mzswap against Debian's 6.1 headers.
#
#   make                 build mzswap.ko for the test kernel (KVER below)
#   make check           set up what is missing, then run the VM test suite
#   make demo            set up what is missing, then show mzswap in a VM
#   make bench           benchmarks against zswap, zram and disk swap
#   make bench-reparent  reparenting pass duration as the cache grows 10x
#   make mutation        the mutation check (tests/mutations/run.sh): the
#                        module with each planted bug of tests/mutations/,
#                        against the test files that must catch it
#                        (MUTANTS=NAME... for some); not part of make check
#   make soak            the soak test (tests/70-soak.sh) for SOAK_SECONDS
#                        (default 1800); "make check" soaks 150 s
#   make sparse          build with C=1 (sparse)
#   make checkpatch      checkpatch.pl --strict over module/ and include/
#   make shellcheck      shellcheck over the tests' and scripts' shell
#   make layers          each module/*.c calls only the files above it in
#                        module/internal.h's layer list
#   make modules_install install into /lib/modules/$(KVER)/extra + depmod
#   make install         mzswap-setup, its unit and configuration example
#   make debug-kernel    build the debug kernel (scripts/debug-kernel.sh)
#
# KVER defaults to the ABI of Debian's linux-image-amd64 meta package, NOT the
# running kernel: the host runs whatever it runs, the VM runs Debian 6.1.
#
# KERNEL=debug (make, make check, make sparse) uses the debug kernel of
# scripts/debug-kernel.sh instead: "make check KERNEL=debug" builds it if it
# is not built yet, then runs the suite on it. Its objects (mzswap.ko,
# warnmod.ko) are built in .cache/debug-kernel/, in trees of symlinks to the
# sources, never next to those of the Debian build: the two never mix and
# neither rebuilds the other's.

KERNEL	?=
KVER	?= $(shell $(CURDIR)/scripts/kver.sh 2>/dev/null)
KDIR	?= /usr/src/linux-headers-$(KVER)
PWD	:= $(CURDIR)
KSRC	?= /usr/src/linux-source-6.1
CHECKPATCH ?= $(CURDIR)/.cache/linux-source/scripts/checkpatch.pl
# Where the module is built (M=).
MODDIR	:= $(CURDIR)

ifeq ($(KERNEL),debug)
MZ_KERNEL_DIR := $(shell $(CURDIR)/scripts/debug-kernel.sh -p -q 2>/dev/null)
ifneq ($(MZ_KERNEL_DIR),)
override KVER := $(shell cat $(MZ_KERNEL_DIR)/release)
override KDIR := $(MZ_KERNEL_DIR)/build
endif
MODDIR	:= $(CURDIR)/.cache/debug-kernel/mzswap
# For tests/Makefile, tests/run.sh and the tests (in the VM, too).
WARNMOD_DIR := $(CURDIR)/.cache/debug-kernel/warnmod
MZ_KO	:= $(MODDIR)/mzswap.ko
MZ_WARNMOD := $(WARNMOD_DIR)/warnmod.ko
# KASAN and lockdep under TCG: boots and tests take about 3 times longer
# (docs/testing.md, "The debug kernel").
MZ_TIMEOUT_SCALE ?= 4
export MZ_KERNEL_DIR WARNMOD_DIR MZ_KO MZ_WARNMOD MZ_TIMEOUT_SCALE
else ifneq ($(KERNEL),)
$(error KERNEL=$(KERNEL): only KERNEL=debug exists)
endif

export KVER KDIR

.PHONY: all modules clean modules_install install check demo bench bench-reparent \
	soak sparse checkpatch shellcheck layers setup debug-kernel run-check moddir \
	mutation

all: modules

# MODDIR, for KERNEL=debug: a tree of symlinks to the sources, refreshed.
moddir:
ifeq ($(KERNEL),debug)
	@test -n "$(MZ_KERNEL_DIR)" || \
		{ echo "the debug kernel is not built: make debug-kernel" >&2; exit 1; }
	@mkdir -p $(MODDIR)/module
	@# Sources only: module/ also holds the Debian build's objects.
	@cp -rsf $(CURDIR)/Kbuild $(CURDIR)/include $(MODDIR)/
	@cp -sf $(CURDIR)/module/*.[ch] $(MODDIR)/module/
endif

modules: moddir
	@test -d "$(KDIR)" || { echo "no headers at $(KDIR): run scripts/setup.sh" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(MODDIR) W=1 modules

clean:
ifeq ($(KERNEL),debug)
	rm -rf $(CURDIR)/.cache/debug-kernel
else
	$(MAKE) -C $(KDIR) M=$(PWD) clean
	@# DKMS builds from a copy without tests/ (dkms.conf's CLEAN).
	[ ! -d tests ] || $(MAKE) -C tests clean
endif

# INSTALL_MOD_PATH=DIR installs under DIR/lib/modules instead (and runs
# depmod there): tests/90-dkms.sh.
modules_install: modules
	$(MAKE) -C $(KDIR) M=$(MODDIR) INSTALL_MOD_DIR=extra modules_install
	depmod -a $(if $(INSTALL_MOD_PATH),-b $(INSTALL_MOD_PATH)) $(KVER)

# make install: the boot-time set-up (docs/admin-guide.md, "Setting it up
# at boot"): mzswap-setup and mzswap-exporter in $(SBINDIR), the units
# (mzswap.service, mzswap-exporter.service and .timer) in $(UNITDIR), the configuration example in $(DOCDIR) and, if there is none
# yet, as /etc/default/mzswap. DESTDIR=DIR installs under DIR. The module
# itself: make modules_install, or DKMS.
PREFIX	?= /usr/local
SBINDIR	?= $(PREFIX)/sbin
DOCDIR	?= $(PREFIX)/share/doc/mzswap
UNITDIR	?= /etc/systemd/system
install:
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(DOCDIR) \
		$(DESTDIR)/etc/default
	install -m 755 scripts/mzswap-setup scripts/mzswap-exporter $(DESTDIR)$(SBINDIR)/
	for u in mzswap.service mzswap-exporter.service mzswap-exporter.timer; do \
		sed 's|/usr/local/sbin/|$(SBINDIR)/|' packaging/$$u >$(DESTDIR)$(UNITDIR)/$$u && \
		chmod 644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done
	install -m 644 packaging/mzswap.default $(DESTDIR)$(DOCDIR)/mzswap.default
	install -m 644 docs/admin-guide.md $(DESTDIR)$(DOCDIR)/
	[ -e $(DESTDIR)/etc/default/mzswap ] || \
		install -m 644 packaging/mzswap.default $(DESTDIR)/etc/default/mzswap
	@echo "installed; edit /etc/default/mzswap, then: systemctl daemon-reload; systemctl enable --now mzswap"

# The host's set-up is Debian's kernel's, whatever KERNEL says (the debug
# kernel is scripts/debug-kernel.sh's).
setup:
	@KVER= scripts/setup.sh

check: setup
ifeq ($(KERNEL),debug)
	@scripts/debug-kernel.sh >/dev/null
	@# A new make, which finds the kernel built (MZ_KERNEL_DIR).
	@$(MAKE) --no-print-directory KERNEL=debug run-check
else
	@tests/run.sh $(TESTS)
endif

run-check:
	@tests/run.sh $(TESTS)

debug-kernel:
	@scripts/debug-kernel.sh >/dev/null

demo: setup
	@scripts/demo.sh

bench: setup
	@scripts/bench.sh

bench-reparent: setup
	@scripts/bench-reparent.sh

mutation: setup
	@tests/mutations/run.sh $(MUTANTS)

SOAK_SECONDS ?= 1800

soak: setup
	@MZ_SOAK_SECONDS=$(SOAK_SECONDS) tests/run.sh --soak $(or $(TESTS),70-soak)

sparse: setup moddir
	$(MAKE) -C $(KDIR) M=$(MODDIR) W=1 C=2 modules

checkpatch: setup
	@scripts/checkpatch.sh

# What .shellcheckrc leaves out, and why, it says.
SHELL_SOURCES := $(wildcard tests/*.sh tests/lib/*.sh tests/mutations/*.sh scripts/*.sh \
	scripts/bpftrace/*.sh) scripts/lib/vmimage.sh scripts/lib/vm-init \
	scripts/lib/klog-check .ci/run scripts/mzswap-setup scripts/mzswap-exporter
shellcheck: setup
	@shellcheck -x $(SHELL_SOURCES) && echo "shellcheck: clean"

layers:
	@scripts/check-layers.sh
