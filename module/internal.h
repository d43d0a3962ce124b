/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mzswap - memcg-aware compressed swap cache as a block device.
 *
 * Objects, their lifetimes and their locks. Read this before any .c file.
 *
 * Layers, lowest first (each .c calls only what is above it in this list,
 * which "make layers" checks; a lower layer reaches a higher one only
 * through a callback it is given; the inline helpers below belong to no
 * layer):
 *   fault.c      fault injection points
 *   trace.c      the tracepoints' definitions
 *   compress.c   per-CPU compression contexts, compressor switching
 *   pool.c       zsmalloc storage, pool size and limit
 *   lru.c        the memcg- and NUMA-aware list_lru of entries
 *   memcg.c      per-cgroup state: records, counters, limits, reparenting
 *   entry.c      entry cache, payloads, slot tree, entry refcounts
 *   writeback.c  backing-device I/O and writeback of entries
 *   shrinker.c   memcg shrinker, global round-robin shrink worker
 *   blkdev.c     /dev/mzswap0: store, load, invalidate
 *   debugfs.c    counters and knobs
 *   main.c       module parameters, init and exit
 *
 * Lock order (outer first):
 *   mz_device.config_lock (mutex)
 *     mz_device.wb_sem (rwsem, read side held while writebacks are submitted)
 *       mz_cursor_lock (mutex, shrinker.c; none of ours inside)
 *       slot bit lock (mz_device.slot_busy, held across backing I/O: by a
 *       writeback from before its tree lookup until its completion is
 *       handled in process context; never waited for under a spinlock)
 *         tree xa_lock
 *           list_lru lock
 *           mz_cgroup.lock (a child's before its parent's, reparenting only)
 */
#ifndef _MZSWAP_INTERNAL_H
#define _MZSWAP_INTERNAL_H

#include <linux/bits.h>
#include <linux/sizes.h>
#include <linux/types.h>
#include <linux/completion.h>
#include <linux/list_lru.h>
#include <linux/local_lock.h>
#include <linux/percpu-refcount.h>
#include <linux/refcount.h>
#include <linux/xarray.h>
#include <linux/rwsem.h>
#include <linux/workqueue.h>
#include <linux/shrinker.h>
#include <linux/memcontrol.h>

#include <mzswap/names.h>

struct block_device;
struct gendisk;
struct page;

#define MZ_SECTORS_PER_PAGE_SHIFT	(PAGE_SHIFT - SECTOR_SHIFT)
#define MZ_SECTORS_PER_PAGE		BIT(MZ_SECTORS_PER_PAGE_SHIFT)

/* Smallest backing device we accept: a swap header and a few slots. */
#define MZ_MIN_BACKING_BYTES		SZ_1M

/*********************************
 * counters
 **********************************/
enum mz_stat_item {
#define MZ_STAT(name, help) MZ_STAT_##name,
#include <mzswap/stats.h>
#undef MZ_STAT
	MZ_NR_STATS
};

extern atomic64_t mz_stats[MZ_NR_STATS];

static inline void mz_stat_inc(enum mz_stat_item item)
{
	atomic64_inc(&mz_stats[item]);
}

static inline void mz_stat_add(enum mz_stat_item item, s64 v)
{
	atomic64_add(v, &mz_stats[item]);
}

static inline void mz_stat_set(enum mz_stat_item item, s64 v)
{
	atomic64_set(&mz_stats[item], v);
}

static inline u64 mz_stat_read(enum mz_stat_item item)
{
	return atomic64_read(&mz_stats[item]);
}

/*********************************
 * fault injection (fault.c)
 **********************************/
enum mz_fault_id {
#define MZ_FAULT(name, outcome) MZ_FAULT_##name,
#include <mzswap/faults.h>
#undef MZ_FAULT
	MZ_NR_FAULTS
};

/* One injection point; see fault.c for the semantics of each field. */
struct mz_fault {
	atomic_t times;
	unsigned int probability;
	unsigned int interval;
	atomic64_t calls;
	atomic64_t injected;
};

extern struct mz_fault mz_faults[MZ_NR_FAULTS];

bool mz_should_fail(enum mz_fault_id id);
void mz_faults_init(void);

/*********************************
 * module parameters (main.c)
 **********************************/
extern bool mz_enabled;
extern unsigned int mz_max_pool_percent;
extern unsigned int mz_accept_threshold_percent;
extern bool mz_same_filled_pages_enabled;
extern unsigned int mz_max_compressed_percent;
extern unsigned int mz_incompressible_streak;
extern unsigned int mz_min_hit_percent;
extern unsigned int mz_hold_percent;
extern bool mz_shrinker_enabled;
extern bool mz_synchronous_io;
extern unsigned int mz_reparent_period_ms;
extern unsigned int mz_passthrough_inflight_percent;

/* mzswap's own workqueue: shrink worker, reparenting, compressor release. */
extern struct workqueue_struct *mz_wq;

/*********************************
 * compress.c
 **********************************/
#define MZ_COMP_NAME_LEN	32
/* Compressors alive at once: an entry names its own by a u8 index. */
#define MZ_COMP_MAX		(U8_MAX - 1)
/* Not a compressor: the entry's data is a whole page (mz_entry_unpacked()). */
#define MZ_COMP_PAGE		U8_MAX

/* One CPU's compression context of one compressor. */
struct mz_comp_ctx {
	local_lock_t lock;	/* serialises users of this CPU's context */
	struct crypto_comp *tfm;
	u8 *buf;		/* 2 pages: room for an expanding compression */
};

/*
 * A compressor and its per-CPU contexts.
 *
 * Lifetime (the numbered rules in compress.c): every entry compressed with
 * it holds a percpu reference and its index, and so does mz_comp_current
 * while it is current. When it stops being current the reference is
 * killed; the last entry's put frees it and its index (from a work item,
 * since crypto teardown may sleep).
 */
struct mz_comp {
	struct percpu_ref ref;
	struct mz_comp_ctx __percpu *ctx;
	struct work_struct release_work;
	atomic_long_t nr_entries;	/* entries that use it (debugfs) */
	u8 idx;				/* in mz_comps[], 1..MZ_COMP_MAX */
	char name[MZ_COMP_NAME_LEN];
};

int mz_comp_init(const char *name);
void mz_comp_exit(void);
int mz_comp_set(const char *name);
struct mz_comp *mz_comp_get_current(void);
void mz_comp_put(struct mz_comp *comp);
struct mz_comp *mz_comp_of(u8 idx);
u8 mz_comp_entry_add(struct mz_comp *comp);
void mz_comp_entry_del(u8 idx);
struct seq_file;
void mz_comps_show(struct seq_file *m);
void mz_comp_current_name(char *buf, size_t len);
struct mz_comp_ctx *mz_comp_ctx_get(struct mz_comp *comp);
void mz_comp_ctx_put(struct mz_comp *comp);
int mz_comp_compress(struct mz_comp_ctx *ctx, const void *src,
		     unsigned int *dlen);
int mz_comp_decompress(struct mz_comp_ctx *ctx, const void *src,
		       unsigned int slen, void *dst);

/*********************************
 * pool.c
 **********************************/
enum mz_allocator {
	MZ_ALLOC_SLAB,		/* charged to the page's cgroup */
	MZ_ALLOC_ZSMALLOC,	/* denser, charged to nobody */
};

extern enum mz_allocator mz_allocator;

int mz_pool_init(void);
void mz_pool_exit(void);
unsigned long mz_pool_alloc(size_t size, struct mem_cgroup *memcg, gfp_t gfp);
void mz_pool_free(unsigned long handle, size_t size);
size_t mz_pool_charge(size_t size);
void *mz_pool_map_read(unsigned long handle);
void *mz_pool_map_write(unsigned long handle);
void mz_pool_unmap(unsigned long handle);
u64 mz_pool_total_bytes(void);
bool mz_pool_accepting(void);
bool mz_pool_above_threshold(void);
void mz_pool_update_stats(void);

/*********************************
 * entry.c
 **********************************/
struct mz_cgroup;

/*
 * One stored page.
 *
 * Existence: the slot tree holds one reference (refs); a load or a writeback
 * holds another while it uses the payload. Whoever removes the entry from
 * the tree also removes it from the LRU and from its owner's records, under
 * the rules in entry.c; the last reference frees the payload and the entry.
 * The entry is the slot->cgroup record: @owner and @record below.
 *
 * Payload: the fill word of a same-filled page (@comp 0); a compressed
 * copy in the pool (@comp a compressor index, @handle, @length); or, once
 * a writeback has submitted its write, the write's uncompressed page
 * (@comp MZ_COMP_PAGE, @handle the struct page, @length 0): the
 * compressed copy is freed at submission, not when the write lands
 * (writeback.c, rule 4). @comp, @handle and @length change only under the
 * tree lock while nobody but the tree and the writeback holds a reference,
 * and @length under the owner's lock too.
 */
struct mz_entry {
	struct list_head lru;		/* on mz_lru; list_lru lock */
	struct list_head record;	/* on owner->records; owner->lock */
	unsigned long handle;		/* pool handle, or the fill word */
	/*
	 * The owner's mz_cgroup.idx, 0 for none (mz_entry_owner()): 4 bytes,
	 * not a pointer's 8, keep the entry at 56 bytes. Written under
	 * owner->lock (and the new owner's lock when reparented); see
	 * mz_entry_lock_owner() in memcg.c.
	 */
	u32 owner;
	u32 slot;			/* page index on the device */
	refcount_t refs;
	u16 length;			/* compressed bytes; 0 when same-filled */
	u8 referenced;			/* second chance on the LRU */
	u8 comp;			/* mz_comp_of() index, 0 or MZ_COMP_PAGE */
};

static inline bool mz_entry_same_filled(const struct mz_entry *e)
{
	return !e->comp;
}

/* The data is a page, its compressed copy freed (a writeback's). */
static inline bool mz_entry_unpacked(const struct mz_entry *e)
{
	return e->comp == MZ_COMP_PAGE;
}

static inline struct page *mz_entry_page(const struct mz_entry *e)
{
	return (struct page *)e->handle;
}

/* A compressed copy of a page, before it belongs to an entry. */
struct mz_payload {
	unsigned long handle;
	u16 length;
	u8 comp;			/* mz_comp_of() index */
};

/* The compressor of a compressed entry the caller holds a reference on. */
static inline struct mz_comp *mz_entry_comp(const struct mz_entry *e)
{
	return mz_comp_of(e->comp);
}

int mz_entry_cache_init(void);
void mz_entry_cache_exit(void);
struct mz_entry *mz_entry_alloc(struct mem_cgroup *memcg, gfp_t gfp);
void mz_entry_put(struct mz_entry *e);
int mz_payload_compress(const void *src, struct mem_cgroup *memcg, gfp_t gfp,
			struct mz_payload *p);
void mz_payload_free(const struct mz_payload *p);

/*********************************
 * the device (blkdev.c owns it)
 **********************************/

/*
 * The one device. Its configuration (backing device, size) changes only under
 * config_lock while nobody has the disk open.
 *
 * slot_busy: one bit per slot, set while backing I/O that must not be
 * reordered with another write of the same slot is being issued: a
 * writeback holds it from the tree lookup until its completion has been
 * handled (the write is asynchronous: the bit outlives the call that
 * submitted it); a store that passes through to the backing device holds
 * it while it erases the old entry and submits. See "Writeback rules" in
 * writeback.c.
 */
struct mz_device {
	struct gendisk *disk;
	struct mutex config_lock;	/* serialises configuration changes */
	struct block_device *backing;	/* NULL when unconfigured */
	char backing_path[64];
	unsigned long nr_slots;
	unsigned long *slot_busy;
	struct xarray tree;		/* slot -> struct mz_entry */
	struct rw_semaphore wb_sem;	/* write side: no writeback running */
	bool wb_stopped;		/* under wb_sem: refuse new writebacks */
};

extern struct mz_device mz_dev;

int mz_blkdev_init(void);
void mz_blkdev_exit(void);
int mz_backing_set(const char *path);
const char *mz_backing_get(void);

/* Tree operations (entry.c) */
int mz_tree_insert(struct mz_entry *e);
struct mz_entry *mz_tree_get(u32 slot);
bool mz_tree_invalidate(u32 slot);
bool mz_tree_erase_if(struct mz_entry *e);
void mz_tree_lru_putback(struct mz_entry *e, u32 slot);
void mz_tree_drop_all(void);

/*********************************
 * lru.c
 **********************************/
extern struct list_lru mz_lru;

/* Entries one walk of the LRU looks at under one hold of its lock. */
#define MZ_LRU_CHUNK	32

/*
 * An entry isolated from the LRU (lru.c, rules 1 and 2): @e is not yet
 * known to be alive; @slot was copied while it was.
 */
struct mz_lru_item {
	struct mz_entry *e;
	u32 slot;
};

int mz_lru_init(struct shrinker *shrinker);
void mz_lru_exit(void);
void mz_lru_add(struct mz_entry *e);
void mz_lru_del(struct mz_entry *e);
unsigned long mz_lru_count(int nid, struct mem_cgroup *memcg);
unsigned int mz_lru_isolate(int nid, struct mem_cgroup *memcg,
			    unsigned long nr_to_walk, struct mz_lru_item *items,
			    unsigned int max, unsigned long *scanned);

/*********************************
 * memcg.c
 **********************************/

/*
 * mzswap's state for one cgroup.
 *
 * Keyed by the cgroup id (kernfs id: 64-bit, never reused), found through
 * mz_cgroups under RCU. It holds no reference on the cgroup: nothing here
 * keeps a removed cgroup alive. It is created on a cgroup's first store and
 * dies when a reparenting pass has moved its records to the nearest live
 * ancestor (@dead set), freed after an RCU grace period and after the
 * children that point at it as @parent are gone (@kref).
 */
struct mz_cgroup {
	spinlock_t lock;		/* records, counters below, dead */
	struct list_head records;	/* struct mz_entry.record */
	u64 id;				/* cgroup_id() */
	u32 idx;			/* mz_entry.owner of its records */
	struct mz_cgroup *parent;	/* holds a kref on the parent */
	struct kref kref;
	struct rcu_head rcu;
	struct list_head dead_node;	/* on the reparent queue */
	bool dead;			/* records moved away; no new ones */
	bool queued;			/* on the reparent queue */
	bool wb_disabled;		/* writeback switch (hierarchical) */
	bool marked;			/* under mz_reparent_mutex (memcg.c) */

	/* under @lock */
	u64 nr_stored;			/* entries (records) */
	u64 nr_same_filled;
	u64 compressed_bytes;		/* sum of entry lengths */
	u64 max_bytes;			/* compressed limit, U64_MAX = none */

	/*
	 * Compressed bytes of its own entries and its descendants', which
	 * its cgroup_max and a hold's share bound (memcg.c, "Holding a cold
	 * cache"); not kept for the root. Updated up the tree after @lock
	 * is dropped (mz_cgroup_subtree_add()): a hint while stores and
	 * frees are in flight, exact once they are done.
	 */
	atomic64_t subtree_bytes;
	u64 check_bytes;		/* scratch of mz_records_check() */
	/*
	 * The cgroup id of the memcg under this one that a store over its
	 * limit wrote back from last, 0 for none (shrinker.c,
	 * mz_shrink_limit()): an id, as the worker's cursor, never a
	 * reference. A hint, without a lock.
	 */
	u64 wb_cursor;

	/* event counters, atomic: updated without @lock */
	atomic64_t loads;
	atomic64_t written_back;
	atomic64_t rejects;
	/* Entries the shrinker leaves alone: recent stores and swap-ins. */
	atomic64_t protected;
	/*
	 * Stores in a row that compressed worse than max_compressed_percent,
	 * or skipped for it (mz_cgroup_skip_compress()); a hint, racy.
	 */
	atomic_t poor;
	/*
	 * Its entries' recent departures (mz_cgroup_skip_cold()): loads
	 * (hits) and writebacks (misses), halved together as their sum
	 * passes a window; @probe counts the stores skipped meanwhile.
	 * Hints, racy.
	 */
	atomic_t recent_loads;
	atomic_t recent_written;
	atomic_t probe;
	/*
	 * Holding a cold cache (memcg.c): whether it holds, whether its
	 * refaults found it short of memory lately or of late, the last
	 * sample's time, the counts at the last decision and the window's.
	 * Hints, racy.
	 */
	unsigned int holding;		/* 0 or 1, by cmpxchg */
	bool unsettled;
	unsigned long ws_stamp;		/* jiffies */
	unsigned long ws_refault;	/* WORKINGSET_REFAULT_ANON, local */
	unsigned long ws_activate;	/* WORKINGSET_ACTIVATE_ANON, local */
	unsigned long ws_window_refault;
	unsigned long ws_window_activate;
	/* Reads from the backing device and loads of late (a window). */
	atomic_t disk_reads;
	atomic_t window_loads;
	/*
	 * Pass-through writes of the cgroups this one limits, submitted and
	 * not yet landed, and their writers waiting for room (memcg.c,
	 * "Pass-through writes in flight").
	 */
	atomic_t pass_inflight;
	wait_queue_head_t pass_wait;
};

extern struct mem_cgroup *mz_root_memcg;

int mz_memcg_init(void);
void mz_memcg_exit(void);
struct mz_cgroup *mz_cgroup_of(struct mem_cgroup *memcg);
void mz_cgroup_put(struct mz_cgroup *mzc);
struct mz_cgroup *mz_entry_owner(const struct mz_entry *e);
void mz_record_add(struct mz_entry *e, struct mz_cgroup *mzc);
void mz_record_del(struct mz_entry *e);
void mz_record_set_length(struct mz_entry *e, u16 length);
struct mz_cgroup *mz_cgroup_limit_hit(struct mz_cgroup *mzc,
				      unsigned int more);
struct mz_cgroup *mz_pass_begin(struct mem_cgroup *memcg, bool may_wait);
void mz_pass_end(struct mz_cgroup *pass);
bool mz_cgroup_skip_compress(struct mz_cgroup *mzc);
void mz_cgroup_note_compress(struct mz_cgroup *mzc, bool poor);
int mz_cgroup_admit_cold(struct mz_cgroup *mzc, struct mem_cgroup *memcg);
bool mz_memcg_holding(struct mem_cgroup *memcg, u64 *over);
bool mz_memcg_at_limit(struct mem_cgroup *memcg);
void mz_cgroup_count_load(struct mz_cgroup *mzc);
void mz_cgroup_count_miss(struct mz_cgroup *mzc);
void mz_cgroup_count_written(struct mz_cgroup *mzc);
bool mz_cgroup_writeback_enabled(struct mz_cgroup *mzc);
bool mz_memcg_writeback_enabled(struct mem_cgroup *memcg);
void mz_memcg_note_swapin(struct mem_cgroup *memcg);
unsigned long mz_memcg_protected(struct mem_cgroup *memcg);
void mz_memcg_scale(struct mem_cgroup *memcg, u64 *stored, u64 *bytes);
u64 mz_memcg_id(struct mem_cgroup *memcg);
void mz_reparent_run(void);
void mz_sweep_kick(void);
void mz_sweep(void);
struct mem_cgroup *mz_memcg_next_live(struct mem_cgroup *pos,
				      struct mem_cgroup *root);
struct mem_cgroup *mz_memcg_find(struct mem_cgroup *root, u64 id,
				 unsigned int max);
int mz_cgroup_set_max(const char *path, u64 max);
int mz_cgroup_set_writeback(const char *path, bool on);
int mz_cgroup_corrupt(const char *path, s64 delta);
struct seq_file;
void mz_cgroups_show(struct seq_file *m);
int mz_records_check(struct seq_file *m);

/* Is @memcg usable as an owner: online and not being killed. */
static inline bool mz_memcg_live(struct mem_cgroup *memcg)
{
	return memcg->css.flags & CSS_ONLINE &&
	       !percpu_ref_is_dying(&memcg->css.refcnt);
}

/*********************************
 * writeback.c
 **********************************/
typedef void (*mz_bio_done_t)(struct page *page, int err);

int mz_backing_rw(struct page *page, u32 slot, bool write, struct bio *parent,
		  mz_bio_done_t done, struct mz_cgroup *pass);
/* Entries a writer isolates and submits at a time. */
#define MZ_WB_BATCH	16
/*
 * Writeback pages in flight at most, module-wide (writeback.c, rule 1):
 * 4 MiB of pages charged to nobody. Reclaim never waits for a write, so
 * this is as much as one reclaim can free before the writes land; with
 * 128, a lowered memory.max ran out of reclaim passes (tests/36).
 */
#define MZ_WB_MAX_INFLIGHT	1024

/* A writer that may wait for its writebacks (the worker, debugfs). */
struct mz_wb_wait {
	atomic_t pending;	/* writes in flight, plus one for the waiter */
	atomic_long_t written;	/* of them, written back and erased */
	struct completion done;
	/*
	 * Asked for by an administrator (debugfs writeback): no verdict on
	 * the entries' worth, so their departures are not counted as misses
	 * (mz_cgroup_count_miss()).
	 */
	bool forced;
};

int mz_writeback_init(void);
void mz_writeback_exit(void);
void mz_wb_wait_init(struct mz_wb_wait *wait, bool forced);
unsigned long mz_wb_wait_all(struct mz_wb_wait *wait);
unsigned int mz_writeback_submit(struct mz_lru_item *it, unsigned int nr,
				 struct mem_cgroup *memcg,
				 struct mz_wb_wait *wait, int *err);
bool mz_writeback_full(void);
void mz_io_wait_reads(void);
int mz_entry_load(struct mz_entry *e, struct page *page);
void mz_slot_lock(u32 slot);
void mz_slot_unlock(u32 slot);
bool mz_writeback_begin(void);
void mz_writeback_end(void);
void mz_writeback_stop(void);
void mz_writeback_start(void);

/*********************************
 * shrinker.c
 **********************************/
int mz_shrink_init(void);
void mz_shrink_exit(void);
void mz_shrink_kick(void);
unsigned long mz_shrink_memcg(struct mem_cgroup *memcg, unsigned long nr);
unsigned long mz_shrink_limit(struct mz_cgroup *limit,
			      struct mem_cgroup *memcg, unsigned long nr);
unsigned long mz_writeback_global(unsigned long nr);

/*********************************
 * debugfs.c
 **********************************/
int mz_debugfs_init(void);
void mz_debugfs_exit(void);

#endif /* _MZSWAP_INTERNAL_H */
