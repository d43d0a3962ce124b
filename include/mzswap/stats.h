/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mzswap global counters, defined once.
 *
 * Each MZ_STAT(name, help) becomes a read-only file
 * /sys/kernel/debug/mzswap/<name> holding a decimal u64. A user defines
 * MZ_STAT() and includes this file (no include guard: it is meant to be
 * included once per use); module/internal.h builds the counter enum,
 * module/debugfs.c the file names. The tests parse the same lines
 * (tests/lib/mzswap.sh), so a test can only ask for a counter that exists;
 * docs/admin-guide.md ("Counters") explains each in a line. Keep one
 * entry per line.
 *
 * The names shared with zswap 6.1 mean what they mean there.
 */
MZ_STAT(stored_pages, "pages held in the cache, same-filled included")
MZ_STAT(same_filled_pages, "of stored_pages, kept as one repeated word")
MZ_STAT(pool_total_size, "bytes the compressed pool occupies")
MZ_STAT(pool_limit_hit, "stores rejected: pool at max_pool_percent")
MZ_STAT(reject_reclaim_fail, "of reject_cgroup_limit: own writeback made no room")
MZ_STAT(reject_alloc_fail, "stores rejected: payload or tree allocation failed")
MZ_STAT(reject_kmemcache_fail, "stores rejected: entry allocation failed")
MZ_STAT(reject_compress_poor, "stores rejected: worse than max_compressed_percent")
MZ_STAT(reject_compress_skip, "stores passed through untried: incompressible_streak")
MZ_STAT(reject_low_hits, "stores passed through untried: min_hit_percent")
MZ_STAT(reject_hold_full, "stores passed through untried: owner holds its share (hold_percent)")
MZ_STAT(cold_over_limit, "stores of a cold cgroup tried: owner over its memory.max")
MZ_STAT(hold_enters, "cold cgroups that began to hold their cache")
MZ_STAT(hold_exits, "holding cgroups that let go: short of memory, or reading other pages")
MZ_STAT(reject_compress_fail, "stores rejected: compressor error")
MZ_STAT(reject_cgroup_limit, "stores rejected: owner at its compressed limit")
MZ_STAT(reject_disabled, "stores passed through: enabled=N")
MZ_STAT(header_writes, "writes of page 0, the swap header: always passed through")
MZ_STAT(written_back_pages, "entries written back to the backing device")
MZ_STAT(writeback_reclaim_credit, "pages of charge writeback freed, counted as reclaimed")
MZ_STAT(writeback_fail, "writebacks that failed and kept their entry")
MZ_STAT(writeback_skip_busy, "writebacks skipped: slot I/O in flight")
MZ_STAT(duplicate_entry, "stores that replaced a still held entry")
MZ_STAT(stores, "pages written to the device")
MZ_STAT(loads, "pages read from the cache")
MZ_STAT(invalidations, "entries freed: slot free, discard, pass-through")
MZ_STAT(slot_free_notify, "swap_slot_free_notify calls")
MZ_STAT(decompress_fail, "loads or writebacks that failed to decompress")
MZ_STAT(backing_reads, "pages read from the backing device")
MZ_STAT(backing_writes, "pages written to the backing device")
MZ_STAT(passthrough_inflight, "limited cgroups' pass-through writes not yet landed (now)")
MZ_STAT(passthrough_throttled, "pass-through writes that waited: passthrough_inflight_percent")
MZ_STAT(passthrough_throttle_timeouts, "of passthrough_throttled, gave up waiting after a second")
MZ_STAT(backing_io_errors, "backing device I/O that completed with an error")
MZ_STAT(invalid_io, "requests refused: out of range, misaligned, unsupported")
MZ_STAT(shrink_worker_runs, "runs of the global shrink worker")
MZ_STAT(shrink_worker_fruitless, "worker runs that gave up, no progress")
MZ_STAT(shrinker_scans, "memcg shrinker scans")
MZ_STAT(shrinker_freed, "entries the memcg shrinker wrote back")
MZ_STAT(reparent_passes, "reparenting passes run")
MZ_STAT(reparent_records, "records moved to an ancestor")
MZ_STAT(reparent_last_ns, "duration of the last reparenting pass, ns")
MZ_STAT(writeback_inflight, "writeback writes submitted and not yet completed (now)")
MZ_STAT(writeback_skip_full, "writebacks reclaim skipped: writes in flight at the cap")
MZ_STAT(unpacked_pages, "of stored_pages, held as a whole page: written back, not yet landed (now)")
MZ_STAT(writeback_repacked, "failed writebacks whose page was compressed into the pool again")
