// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/mzswap0: the block device the admin swaps on. It has the size of
 * its backing device; a page written to it is kept compressed in the
 * cache when it can be, else written through to the backing device, and
 * a page read comes from the cache or, once written back, from the
 * backing device.
 *
 * By default (synchronous_io=N) the disk has no ->rw_page: the swap layer
 * reads with bios, through the swap cache and with readahead, as it does
 * for zswap's backing disk on 6.1. A swapped-in page keeps its slot (and
 * its entry) while it stays clean, so reclaim drops it again without a
 * store, and the neighbours of a written-back slot come in with one fault.
 *
 * With synchronous_io=Y it implements ->rw_page, like zram, which makes
 * the swap layer treat it as synchronous (SWP_SYNCHRONOUS_IO): swap-in of
 * an unshared page skips the swap cache and readahead, and the slot is
 * freed right after the read.
 *
 * Either way a load never erases the entry (an exclusive load would lose
 * the data if the swap-in failed after it, see mainline 25cd241408a2);
 * swap_slot_free_notify does.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/highmem.h>
#include <linux/pagemap.h>
#include <linux/sched/mm.h>

#include "internal.h"
#include <trace/events/mzswap.h>

struct mz_device mz_dev = {
	.config_lock = __MUTEX_INITIALIZER(mz_dev.config_lock),
	.wb_sem = __RWSEM_INITIALIZER(mz_dev.wb_sem),
	.tree = XARRAY_INIT(mz_dev.tree, 0),
	.wb_stopped = true,
};

static int mz_major;

/* The largest discard or write-zeroes bio: whole pages, bi_size is 32-bit. */
#define MZ_MAX_BIO_SECTORS	(round_down(UINT_MAX, PAGE_SIZE) >> SECTOR_SHIFT)

/* Set while the backing device is being changed: opens are refused. */
static bool mz_claimed;

/*********************************
 * store
 **********************************/
static bool mz_page_same_filled(const void *ptr, unsigned long *value)
{
	const unsigned long *word = ptr;
	unsigned int pos, last = PAGE_SIZE / sizeof(*word) - 1;
	unsigned long val = word[0];

	if (val != word[last])
		return false;
	for (pos = 1; pos < last; pos++)
		if (word[pos] != val)
			return false;
	*value = val;
	return true;
}

/* The memcg that owns @page, with a css reference, or NULL. */
static struct mem_cgroup *mz_page_memcg(struct page *page)
{
	struct mem_cgroup *memcg;

	if (mem_cgroup_disabled())
		return NULL;
	rcu_read_lock();
	memcg = folio_memcg_rcu(page_folio(page));
	if (memcg && !css_tryget(&memcg->css))
		memcg = NULL;
	rcu_read_unlock();
	return memcg;
}

/*
 * Room for @len more bytes in the limits of @mzc and its ancestors: over
 * one, write back entries under it first, the limit's subtree round-robin
 * (mz_shrink_limit(); memory.zswap.max semantics, where mainline writes
 * back the storing memcg's own). The writes are only submitted, never
 * waited for in a swap write, but submitting one frees its entry's
 * compressed copy (writeback.c, rule 4), so the second look sees the room
 * it made: the limit holds, unlike mainline's zswap_store(), which stores
 * once writeback got going. A cgroup whose own writeback is off makes no
 * room in others'.
 */
static bool mz_store_cgroup_room(struct mz_cgroup *mzc,
				 struct mem_cgroup *memcg, unsigned int len)
{
	struct mz_cgroup *limit = mz_cgroup_limit_hit(mzc, len);

	if (!limit)
		return true;
	if (!memcg || !mz_cgroup_writeback_enabled(mzc))
		return false;
	mz_shrink_limit(limit, memcg, MZ_WB_BATCH);
	if (!mz_cgroup_limit_hit(mzc, len))
		return true;
	mz_stat_inc(MZ_STAT_reject_reclaim_fail);
	return false;
}

/*
 * Whether to try to keep a page of @mzc that is not same-filled: 0 if so,
 * else the counter saying why not. Checked before anything is allocated:
 * a rejected store costs a lookup, not an entry charged and uncharged.
 */
static int mz_store_admit(struct mz_cgroup *mzc, struct mem_cgroup *memcg)
{
	if (!mz_pool_accepting()) {
		mz_shrink_kick();
		return MZ_STAT_pool_limit_hit;
	}
	if (mz_cgroup_skip_compress(mzc))
		return MZ_STAT_reject_compress_skip;
	return mz_cgroup_admit_cold(mzc, memcg);
}

/*
 * Try to keep @page for @slot in the cache, charged to @memcg (the page's,
 * pinned by the caller, or NULL). Returns 0 when stored, else the counter
 * saying why not.
 */
static int mz_store_cache(struct page *page, u32 slot,
			  struct mem_cgroup *memcg)
{
	struct mz_payload payload;
	struct mz_cgroup *mzc;
	struct mz_entry *e = NULL;
	unsigned long value;
	bool same;
	void *src;
	int reason;

	/*
	 * Page 0 is the swap header, not swap data (zswap never sees it).
	 * Kept on the backing device, it leaves the cache empty after
	 * swapoff, which never frees slot 0.
	 */
	if (!slot)
		return MZ_STAT_header_writes;
	if (!READ_ONCE(mz_enabled))
		return MZ_STAT_reject_disabled;

	mzc = mz_cgroup_of(memcg);
	src = kmap_local_page(page);
	/* A same-filled page costs neither compression nor pool memory. */
	same = READ_ONCE(mz_same_filled_pages_enabled) &&
	       mz_page_same_filled(src, &value);
	reason = same ? 0 : mz_store_admit(mzc, memcg);
	if (reason)
		goto unmap;

	e = mz_entry_alloc(memcg, GFP_NOWAIT | __GFP_NOWARN);
	if (!e) {
		reason = MZ_STAT_reject_kmemcache_fail;
		goto unmap;
	}
	e->slot = slot;
	if (same) {
		e->handle = value;
		goto unmap;
	}
	/* No direct reclaim: we are most likely in reclaim already. */
	reason = mz_payload_compress(src, memcg, __GFP_KSWAPD_RECLAIM |
				     __GFP_NOWARN, &payload);
	if (reason == MZ_STAT_reject_compress_poor)
		mz_cgroup_note_compress(mzc, true);
	if (!reason) {
		mz_cgroup_note_compress(mzc, false);
		e->comp = payload.comp;
		e->handle = payload.handle;
		e->length = payload.length;
	}
unmap:
	kunmap_local(src);
	if (reason)
		goto put_entry;

	if (!mz_store_cgroup_room(mzc, memcg, e->length)) {
		atomic64_inc(&mzc->rejects);
		reason = MZ_STAT_reject_cgroup_limit;
		goto put_entry;
	}
	mz_record_add(e, mzc);
	if (mz_tree_insert(e)) {
		mz_record_del(e);
		reason = MZ_STAT_reject_alloc_fail;
		goto put_entry;
	}
	trace_mzswap_store(slot, mz_memcg_id(memcg), e->length, 0);
	goto put_mzc;

put_entry:
	if (e)
		mz_entry_put(e);
	trace_mzswap_store(slot, mz_memcg_id(memcg), 0, reason);
put_mzc:
	mz_cgroup_put(mzc);
	return reason;
}

/*
 * Write @page to @slot: into the cache, else through to the backing
 * device, after waiting for room among its cgroup's writes in flight if
 * @may_wait (memcg.c, "Pass-through writes in flight", rule 2). Returns 0
 * when done, 1 when the write completes asynchronously (through @parent
 * or @done), or an error.
 */
static int mz_page_write(struct page *page, u32 slot, struct bio *parent,
			 mz_bio_done_t done, bool may_wait)
{
	struct mem_cgroup *memcg;
	struct mz_cgroup *pass;
	int reason, ret;

	mz_stat_inc(MZ_STAT_stores);
	memcg = mz_page_memcg(page);
	reason = mz_store_cache(page, slot, memcg);
	pass = reason ? mz_pass_begin(memcg, may_wait) : NULL;
	if (memcg)
		css_put(&memcg->css);
	if (!reason)
		return 0;
	mz_stat_inc(reason);

	/*
	 * Through to the backing device. The slot lock waits for a writeback
	 * of an older entry of this slot to finish its write, and our erase
	 * of that entry makes sure no load returns it (writeback.c).
	 */
	mz_slot_lock(slot);
	mz_tree_invalidate(slot);
	ret = mz_backing_rw(page, slot, true, parent, done, pass);
	mz_slot_unlock(slot);
	return ret;
}

/*********************************
 * load
 **********************************/
/*
 * Read @slot into @page: from the cache, else from the backing device,
 * chained to @parent when serving a bio, else synchronously. Returns 0
 * when done, 1 when the read completes through @parent, or an error.
 */
static int mz_page_read(struct page *page, u32 slot, struct bio *parent)
{
	struct mz_cgroup *owner;
	struct mz_entry *e;
	int err;

	e = mz_tree_get(slot);
	if (!e) {
		struct mem_cgroup *memcg = mz_page_memcg(page);

		/* Its owner wants written-back data: protect its entries. */
		mz_memcg_note_swapin(memcg);
		if (memcg)
			css_put(&memcg->css);
		trace_mzswap_load(slot, 0, 1);
		return mz_backing_rw(page, slot, false, parent, NULL, NULL);
	}

	err = mz_entry_load(e, page);
	flush_dcache_page(page);

	rcu_read_lock();
	owner = mz_entry_owner(e);
	if (owner && !err)
		mz_cgroup_count_load(owner);
	trace_mzswap_load(slot, owner ? owner->id : 0, err ? err : 0);
	rcu_read_unlock();

	mz_entry_put(e);
	if (err)
		return -EIO;
	mz_stat_inc(MZ_STAT_loads);
	return 0;
}

/*********************************
 * block device operations
 **********************************/
static bool mz_valid_io(sector_t sector, unsigned int size)
{
	u64 end = sector + (size >> SECTOR_SHIFT);

	if (sector & (MZ_SECTORS_PER_PAGE - 1) || size & (PAGE_SIZE - 1))
		return false;
	return end <= (u64)mz_dev.nr_slots << MZ_SECTORS_PER_PAGE_SHIFT;
}

/*
 * Discard and write-zeroes bios span up to 4 GiB (max_discard_sectors and
 * max_write_zeroes_sectors are unlimited, so one BLKDISCARD of the whole
 * device is one bio of a million pages): both reschedule after each page.
 * They run from ->submit_bio, in the submitter's process context:
 * submit_bio_noacct() starts with might_sleep(), and a REQ_NOWAIT bio
 * never gets here, since the queue does not set QUEUE_FLAG_NOWAIT
 * (submit_bio_noacct() ends it with BLK_STS_NOTSUPP). The write path
 * sleeps already (mz_slot_lock(), the cgroup limit's writeback).
 */
static void mz_discard(struct bio *bio)
{
	u32 slot = bio->bi_iter.bi_sector >> MZ_SECTORS_PER_PAGE_SHIFT;
	u32 n = bio->bi_iter.bi_size >> PAGE_SHIFT;

	while (n--) {
		mz_tree_invalidate(slot++);
		cond_resched();
	}
}

static void mz_write_zeroes(struct bio *bio)
{
	u32 slot = bio->bi_iter.bi_sector >> MZ_SECTORS_PER_PAGE_SHIFT;
	u32 n = bio->bi_iter.bi_size >> PAGE_SHIFT;

	while (n--) {
		if (mz_page_write(ZERO_PAGE(0), slot++, bio, NULL, false) < 0) {
			bio->bi_status = BLK_STS_IOERR;
			break;
		}
		cond_resched();
	}
}

static void mz_rw_bio(struct bio *bio)
{
	u32 slot = bio->bi_iter.bi_sector >> MZ_SECTORS_PER_PAGE_SHIFT;
	bool write = op_is_write(bio_op(bio));
	bool queued = false;	/* a page of @bio waits on current->bio_list */
	struct bvec_iter iter;
	struct bio_vec bv;
	int ret;

	bio_for_each_segment(bv, bio, iter) {
		/* dma_alignment makes every segment a whole page. */
		if (bv.bv_len != PAGE_SIZE || bv.bv_offset) {
			mz_stat_inc(MZ_STAT_invalid_io);
			bio->bi_status = BLK_STS_IOERR;
			return;
		}
		if (write) {
			ret = mz_page_write(bv.bv_page, slot, bio, NULL,
					    !queued);
			queued |= ret == 1;
		} else {
			ret = mz_page_read(bv.bv_page, slot, bio);
		}
		if (ret < 0) {
			bio->bi_status = errno_to_blk_status(ret);
			return;
		}
		slot++;
	}
}

static void mz_submit_bio(struct bio *bio)
{
	unsigned long start;

	if (bio_op(bio) == REQ_OP_FLUSH) {
		bio_endio(bio);
		return;
	}
	if (!mz_valid_io(bio->bi_iter.bi_sector, bio->bi_iter.bi_size)) {
		mz_stat_inc(MZ_STAT_invalid_io);
		bio_io_error(bio);
		return;
	}

	start = bio_start_io_acct(bio);
	switch (bio_op(bio)) {
	case REQ_OP_DISCARD:
		mz_discard(bio);
		break;
	case REQ_OP_WRITE_ZEROES:
		mz_write_zeroes(bio);
		break;
	case REQ_OP_READ:
	case REQ_OP_WRITE:
		mz_rw_bio(bio);
		break;
	default:
		/*
		 * Not reached on 6.1: submit_bio_noacct() ends any other
		 * operation with BLK_STS_NOTSUPP before it gets here
		 * (tests/22-lifecycle: REQ_OP_DRV_IN). Kept against a
		 * kernel that lets one through.
		 */
		mz_stat_inc(MZ_STAT_invalid_io);
		bio->bi_status = BLK_STS_NOTSUPP;
		break;
	}
	bio_end_io_acct(bio, start);
	bio_endio(bio);
}

/*
 * A pass-through write ended. page_endio() would leave a failed page
 * clean, and reclaim would drop the only copy: redirty it instead, as the
 * swap layer's own end_swap_bio_write() does, so it stays in memory.
 */
static void mz_rw_page_write_done(struct page *page, int err)
{
	if (err) {
		SetPageError(page);
		set_page_dirty(page);
		ClearPageReclaim(page);
		pr_alert_ratelimited("write error on %s, page kept dirty\n",
				     mz_dev.backing_path);
	}
	end_page_writeback(page);
}

/*
 * The swap layer's fast path. On success the page is completed with
 * page_endio(), now (a read, after waiting for the backing device if it
 * has to) or when a pass-through write ends; on an error nothing is
 * completed and the swap layer retries with a bio, which reports it.
 */
static int mz_rw_page(struct block_device *bdev, sector_t sector,
		      struct page *page, enum req_op op)
{
	bool write = op_is_write(op);
	u32 slot = sector >> MZ_SECTORS_PER_PAGE_SHIFT;
	int ret;

	if (PageTransHuge(page))
		return -EOPNOTSUPP;
	if (!mz_valid_io(sector, PAGE_SIZE)) {
		mz_stat_inc(MZ_STAT_invalid_io);
		return -EINVAL;
	}

	/*
	 * A read of a written-back page waits for the backing device here.
	 * Returning with it in flight made do_swap_page()'s
	 * folio_lock_or_retry() fail: the fault was retried with a new page
	 * and read the device a second time.
	 */
	if (write)
		ret = mz_page_write(page, slot, NULL, mz_rw_page_write_done,
				    true);
	else
		ret = mz_page_read(page, slot, NULL);
	if (ret < 0)
		return ret;
	if (ret == 0)
		page_endio(page, write, 0);
	return 0;
}

static void mz_slot_free_notify(struct block_device *bdev,
				unsigned long index)
{
	mz_stat_inc(MZ_STAT_slot_free_notify);
	if (index < mz_dev.nr_slots)
		mz_tree_invalidate(index);
}

static int mz_open(struct block_device *bdev, fmode_t mode)
{
	/* Called under disk->open_mutex, as the backing change is. */
	return mz_claimed ? -EBUSY : 0;
}

/*
 * The last close (swapoff): a read issued from ->rw_page for a swap-in
 * that was then abandoned may still be in flight, its completion module
 * code. Wait for it, so that the module can go once swapoff returns.
 */
static void mz_release(struct gendisk *disk, fmode_t mode)
{
	mz_io_wait_reads();
}

static const struct block_device_operations mz_fops = {
	.owner = THIS_MODULE,
	.open = mz_open,
	.release = mz_release,
	.submit_bio = mz_submit_bio,
	.rw_page = mz_rw_page,
	.swap_slot_free_notify = mz_slot_free_notify,
};

/* synchronous_io=N: no ->rw_page, so no SWP_SYNCHRONOUS_IO at swapon. */
static const struct block_device_operations mz_fops_async = {
	.owner = THIS_MODULE,
	.open = mz_open,
	.release = mz_release,
	.submit_bio = mz_submit_bio,
	.swap_slot_free_notify = mz_slot_free_notify,
};

/*********************************
 * configuration
 **********************************/

/* Free all state of the current backing device. config_lock held. */
static void mz_backing_release(void)
{
	if (!mz_dev.backing)
		return;
	mz_writeback_stop();
	mz_tree_drop_all();
	set_capacity_and_notify(mz_dev.disk, 0);
	blkdev_put(mz_dev.backing, FMODE_READ | FMODE_WRITE | FMODE_EXCL);
	mz_dev.backing = NULL;
	mz_dev.backing_path[0] = '\0';
	mz_dev.nr_slots = 0;
	kvfree(mz_dev.slot_busy);
	mz_dev.slot_busy = NULL;
	mz_pool_update_stats();
}

/* A backing device opened and checked, not yet in use. */
struct mz_backing {
	struct block_device *bdev;
	unsigned long nr_slots;
	unsigned long *slot_busy;
};

static int mz_backing_open(const char *path, struct mz_backing *b)
{
	const fmode_t mode = FMODE_READ | FMODE_WRITE | FMODE_EXCL;
	u64 bytes;
	int err;

	b->bdev = blkdev_get_by_path(path, mode, &mz_dev);
	if (IS_ERR(b->bdev))
		return PTR_ERR(b->bdev);  /* -ENOENT, -ENOTBLK, -EBUSY, ... */

	bytes = bdev_nr_bytes(b->bdev);
	if (b->bdev->bd_disk == mz_dev.disk ||
	    bdev_logical_block_size(b->bdev) > PAGE_SIZE) {
		pr_warn_ratelimited("%s cannot back %s\n", path, MZ_DISK_NAME);
		err = -EINVAL;
		goto put;
	}
	if (bytes < MZ_MIN_BACKING_BYTES) {
		pr_warn_ratelimited("%s: %llu bytes, at least %u needed\n",
				    path, bytes, MZ_MIN_BACKING_BYTES);
		err = -ENOSPC;
		goto put;
	}
	b->nr_slots = min_t(u64, bytes >> PAGE_SHIFT, U32_MAX);
	b->slot_busy = kvcalloc(BITS_TO_LONGS(b->nr_slots), sizeof(long),
				GFP_KERNEL);
	if (!b->slot_busy) {
		err = -ENOMEM;
		goto put;
	}
	return 0;

put:
	blkdev_put(b->bdev, mode);
	return err;
}

/* Put @b in use. config_lock held, nobody has the disk open. */
static void mz_backing_install(const char *path, struct mz_backing *b)
{
	mz_dev.backing = b->bdev;
	strscpy(mz_dev.backing_path, path, sizeof(mz_dev.backing_path));
	mz_dev.nr_slots = b->nr_slots;
	mz_dev.slot_busy = b->slot_busy;
	/*
	 * The swap layer chooses slot allocation and readahead by the disk's
	 * rotational flag (SWP_SOLIDSTATE; and 6.1 reads ahead by page
	 * table, not by slot, only while no rotational swap is on). A slot
	 * here is the same slot of the backing device, where every miss of
	 * the cache goes: describe the disk as that device.
	 */
	if (bdev_nonrot(b->bdev))
		blk_queue_flag_set(QUEUE_FLAG_NONROT, mz_dev.disk->queue);
	else
		blk_queue_flag_clear(QUEUE_FLAG_NONROT, mz_dev.disk->queue);
	set_capacity_and_notify(mz_dev.disk,
				(sector_t)b->nr_slots << MZ_SECTORS_PER_PAGE_SHIFT);
	mz_writeback_start();
}

/**
 * mz_backing_set - put /dev/mzswap0 in front of the block device at @path
 * @path: a block device node, or "none"
 *
 * "none" detaches. Refused with -EBUSY while mzswap0 is open (swapped on);
 * otherwise fails with the error of opening @path exclusively (-ENOENT,
 * -ENOTBLK, -EBUSY when it is in use), -ENOSPC if it is too small, -EINVAL
 * if it cannot back mzswap0. On any error the configuration is unchanged.
 * A successful change drops what the cache held for the old device.
 */
int mz_backing_set(const char *path)
{
	struct gendisk *disk = mz_dev.disk;
	struct mz_backing b;
	int err = 0;

	if (!*path)
		return -EINVAL;
	if (strlen(path) >= sizeof(mz_dev.backing_path))
		return -ENAMETOOLONG;

	mutex_lock(&mz_dev.config_lock);
	mutex_lock(&disk->open_mutex);
	if (disk_openers(disk)) {
		mutex_unlock(&disk->open_mutex);
		err = -EBUSY;
		goto unlock;
	}
	mz_claimed = true;
	mutex_unlock(&disk->open_mutex);

	if (!strcmp(path, "none")) {
		mz_backing_release();
	} else if (strcmp(path, mz_dev.backing_path)) {
		/* The new one first: a failure leaves the old one in place. */
		err = mz_backing_open(path, &b);
		if (!err) {
			mz_backing_release();
			mz_backing_install(path, &b);
		}
	}

	mutex_lock(&disk->open_mutex);
	mz_claimed = false;
	mutex_unlock(&disk->open_mutex);
unlock:
	mutex_unlock(&mz_dev.config_lock);
	return err;
}

const char *mz_backing_get(void)
{
	return mz_dev.backing_path[0] ? mz_dev.backing_path : "none";
}

/*********************************
 * init and exit
 **********************************/
int mz_blkdev_init(void)
{
	struct gendisk *disk;
	int err;

	mz_major = register_blkdev(0, "mzswap");
	if (mz_major < 0)
		return mz_major;

	disk = blk_alloc_disk(NUMA_NO_NODE);
	if (!disk) {
		err = -ENOMEM;
		goto unregister;
	}
	disk->major = mz_major;
	disk->first_minor = 0;
	disk->minors = 1;
	disk->flags |= GENHD_FL_NO_PART;
	disk->fops = mz_synchronous_io ? &mz_fops : &mz_fops_async;
	disk->private_data = &mz_dev;
	strscpy(disk->disk_name, MZ_DISK_NAME, DISK_NAME_LEN);
	set_capacity(disk, 0);

	blk_queue_flag_set(QUEUE_FLAG_NONROT, disk->queue);
	blk_queue_flag_clear(QUEUE_FLAG_ADD_RANDOM, disk->queue);
	/* Pages in, pages out: whole, page-aligned pages only. */
	blk_queue_logical_block_size(disk->queue, PAGE_SIZE);
	blk_queue_physical_block_size(disk->queue, PAGE_SIZE);
	blk_queue_io_min(disk->queue, PAGE_SIZE);
	blk_queue_io_opt(disk->queue, PAGE_SIZE);
	blk_queue_dma_alignment(disk->queue, PAGE_SIZE - 1);
	/*
	 * At most the whole pages that fit in a bio's 32-bit bi_size: 6.1's
	 * __blkdev_issue_write_zeroes() shifts the limit into bi_size
	 * unchecked, so UINT_MAX sectors made a BLKZEROOUT of 4 GiB a bio of
	 * 0 bytes (and of 5 GiB one of 1 GiB) that succeeded, zeroing nothing.
	 */
	disk->queue->limits.discard_granularity = PAGE_SIZE;
	blk_queue_max_discard_sectors(disk->queue, MZ_MAX_BIO_SECTORS);
	blk_queue_max_write_zeroes_sectors(disk->queue, MZ_MAX_BIO_SECTORS);
	/* Compression reads the page while it may be redirtied otherwise. */
	blk_queue_flag_set(QUEUE_FLAG_STABLE_WRITES, disk->queue);

	mz_dev.disk = disk;
	err = add_disk(disk);
	if (err)
		goto put_disk;
	return 0;

put_disk:
	put_disk(disk);
	mz_dev.disk = NULL;
unregister:
	unregister_blkdev(mz_major, "mzswap");
	return err;
}

void mz_blkdev_exit(void)
{
	del_gendisk(mz_dev.disk);
	mutex_lock(&mz_dev.config_lock);
	mz_backing_release();
	mutex_unlock(&mz_dev.config_lock);
	put_disk(mz_dev.disk);
	unregister_blkdev(mz_major, "mzswap");
}
