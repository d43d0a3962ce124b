/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Names shared by the module, its tools and its tests: one place.
 */
#ifndef _MZSWAP_NAMES_H
#define _MZSWAP_NAMES_H

/* The block device is /dev/<MZ_DISK_NAME>. */
#define MZ_DISK_NAME		"mzswap0"

/* debugfs: /sys/kernel/debug/<MZ_DEBUGFS_DIR>/ */
#define MZ_DEBUGFS_DIR		"mzswap"

/*
 * Writing N writes back up to N cold entries now, as the global worker
 * does: cgroups visited round-robin, the coldest entry of each.
 */
#define MZ_DEBUGFS_WRITEBACK	"writeback"
/* One line per cgroup: docs/admin-guide.md, "Per-cgroup table". */
#define MZ_DEBUGFS_CGROUPS	"cgroups"
/* "<cgroup path> <bytes|max>": compressed-memory limit of one cgroup. */
#define MZ_DEBUGFS_CG_MAX	"cgroup_max"
/* "<cgroup path> <0|1>": writeback switch of one cgroup (hierarchical). */
#define MZ_DEBUGFS_CG_WB	"cgroup_writeback"
/* Writing 1 runs a reparenting pass now. */
#define MZ_DEBUGFS_REPARENT	"reparent"
/* Reading walks every record and reports inconsistencies. */
#define MZ_DEBUGFS_CHECK	"check"
/*
 * Test only: "<cgroup path> <delta>" adds delta to the cgroup's record
 * count, an inconsistency for "check" to report; the opposite delta
 * repairs it.
 */
#define MZ_DEBUGFS_CORRUPT	"corrupt"
/* One line per live compressor: index, name, entries using it, state. */
#define MZ_DEBUGFS_COMPRESSORS	"compressors"

#endif /* _MZSWAP_NAMES_H */
