# SPDX-License-Identifier: GPL-2.0
#
# Out-of-tree build of mzswap against Debian's 6.1 headers.
#
#   make                 build mzswap.ko for the test kernel (KVER below)
#   make check           set up what is missing, then run the VM test suite
#   make demo            set up what is missing, then show mzswap in a VM
#   make bench           benchmarks against zswap, zram and disk swap
#   make bench-reparent  reparenting pass duration as the cache grows 10x
#   make soak            the soak test (tests/70-soak.sh) for SOAK_SECONDS
#                        (default 1800); "make check" soaks 150 s
#   make sparse          build with C=1 (sparse)
#   make checkpatch      checkpatch.pl --strict over module/ and include/
#   make modules_install install into /lib/modules/$(KVER)/extra + depmod
#
# KVER defaults to the ABI of Debian's linux-image-amd64 meta package, NOT the
# running kernel: the host runs whatever it runs, the VM runs Debian 6.1.

KVER	?= $(shell $(CURDIR)/scripts/kver.sh 2>/dev/null)
KDIR	?= /usr/src/linux-headers-$(KVER)
PWD	:= $(CURDIR)
KSRC	?= /usr/src/linux-source-6.1
CHECKPATCH ?= $(CURDIR)/.cache/linux-source/scripts/checkpatch.pl

export KVER KDIR

.PHONY: all modules clean modules_install check demo bench bench-reparent \
	soak sparse \
	checkpatch setup

all: modules

modules:
	@test -d "$(KDIR)" || { echo "no headers at $(KDIR): run scripts/setup.sh" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(PWD) W=1 modules

clean:
	$(MAKE) -C $(KDIR) M=$(PWD) clean
	$(MAKE) -C tests clean

modules_install: modules
	$(MAKE) -C $(KDIR) M=$(PWD) INSTALL_MOD_DIR=extra modules_install
	depmod -a $(KVER)

setup:
	@scripts/setup.sh

check: setup
	@tests/run.sh $(TESTS)

demo: setup
	@scripts/demo.sh

bench: setup
	@scripts/bench.sh

bench-reparent: setup
	@scripts/bench-reparent.sh
SOAK_SECONDS ?= 1800

soak: setup
	@MZ_SOAK_SECONDS=$(SOAK_SECONDS) tests/run.sh --soak $(or $(TESTS),70-soak)

sparse: setup
	$(MAKE) -C $(KDIR) M=$(PWD) W=1 C=2 modules

checkpatch: setup
	@scripts/checkpatch.sh
