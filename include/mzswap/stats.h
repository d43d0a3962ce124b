/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mzswap global counters, defined once.
 *
 * Each MZ_STAT(name, help) becomes a read-only file
 * /sys/kernel/debug/mzswap/<name> holding a decimal u64. The module builds
 * its counter array and debugfs files from this list (module/debugfs.c);
 * the tests parse the same lines (tests/lib/mzswap.sh) so that a test can
 * only ask for a counter that exists. Keep one entry per line.
 *
 * The names shared with zswap 6.1 mean what they mean there.
 */
#ifndef _MZSWAP_STATS_H
#define _MZSWAP_STATS_H

#define MZ_STATS_LIST							\
	MZ_STAT(stored_pages, "pages currently held in the cache, same-filled included") \
	MZ_STAT(same_filled_pages, "of stored_pages, pages kept as one repeated word, no pool bytes") \
	MZ_STAT(pool_total_size, "bytes of memory the compressed pool occupies now") \
	MZ_STAT(pool_limit_hit, "stores rejected because the pool was at max_pool_percent") \
	MZ_STAT(reject_reclaim_fail, "of reject_cgroup_limit, stores whose writeback of the cgroup's own entries did not make room") \
	MZ_STAT(reject_alloc_fail, "stores rejected because the pool allocation failed") \
	MZ_STAT(reject_kmemcache_fail, "stores rejected because the entry allocation failed") \
	MZ_STAT(reject_compress_poor, "stores rejected because the page compressed worse than max_compressed_percent") \
	MZ_STAT(reject_compress_fail, "stores rejected because the compressor returned an error") \
	MZ_STAT(reject_cgroup_limit, "stores rejected because the owning cgroup was at its compressed limit") \
	MZ_STAT(reject_disabled, "stores sent to the backing device because enabled=N") \
	MZ_STAT(written_back_pages, "entries written back to the backing device") \
	MZ_STAT(writeback_fail, "writebacks that failed and kept their entry") \
	MZ_STAT(writeback_skip_busy, "writebacks skipped because the slot had I/O in flight") \
	MZ_STAT(duplicate_entry, "stores that replaced an entry still held for the same slot") \
	MZ_STAT(stores, "pages written to the device") \
	MZ_STAT(loads, "pages read from the cache") \
	MZ_STAT(invalidations, "entries freed by swap_slot_free_notify, discard or write-zeroes") \
	MZ_STAT(slot_free_notify, "swap_slot_free_notify calls") \
	MZ_STAT(decompress_fail, "loads or writebacks whose decompression failed") \
	MZ_STAT(backing_reads, "pages read from the backing device") \
	MZ_STAT(backing_writes, "pages written to the backing device, writeback and pass-through") \
	MZ_STAT(backing_io_errors, "backing device I/O that completed with an error") \
	MZ_STAT(invalid_io, "requests refused: out of range, misaligned or unsupported") \
	MZ_STAT(shrink_worker_runs, "runs of the global shrink worker") \
	MZ_STAT(shrink_worker_fruitless, "worker runs that gave up after fruitless passes over all cgroups") \
	MZ_STAT(shrinker_scans, "calls of the memcg-aware shrinker's scan") \
	MZ_STAT(shrinker_freed, "entries the shrinker wrote back") \
	MZ_STAT(reparent_passes, "reparenting passes run") \
	MZ_STAT(reparent_records, "records moved to an ancestor by reparenting") \
	MZ_STAT(reparent_last_ns, "duration of the last reparenting pass, ns")

#endif /* _MZSWAP_STATS_H */
