/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mzswap fault injection points, defined once: each MZ_FAULT(name, outcome)
 * is /sys/kernel/debug/mzswap/faults/<name>/ (module/fault.c) and is read by
 * the tests the same way as stats.h. No include guard: a user defines
 * MZ_FAULT() and includes this file.
 *
 * The outcome of one injected failure, which the tests check:
 */
MZ_FAULT(entry_alloc, "store passes through to the backing device")
MZ_FAULT(pool_alloc, "store passes through to the backing device")
MZ_FAULT(compress, "store passes through to the backing device")
MZ_FAULT(decompress, "load fails with EIO (counted); writeback keeps the entry")
MZ_FAULT(backing_read, "load of a written-back page fails with EIO")
MZ_FAULT(backing_write, "writeback keeps the entry; a pass-through page stays dirty")
MZ_FAULT(sweep_race, "no failure: new cgroup state published 10 ms late, sweeps wait 20 ms")
