// SPDX-License-Identifier: GPL-2.0
/*
 * mzswap writeback: I/O to the backing device, and moving one entry there.
 *
 * Writeback rules. A slot's data lives in exactly one place the device
 * reads from: the entry in the tree if there is one, else the backing
 * device. Writing an entry back must therefore finish the backing write
 * before the entry leaves the tree, and no two writes of one slot may be
 * in flight to the backing device at once, or an older one could land
 * last. The slot bit lock (mz_dev.slot_busy) gives the second; the order
 * of operations in mz_writeback_batch() the first:
 *
 *  1. Take the slot bit lock (trylock: reclaim does not wait).
 *  2. Find the entry in the tree by pointer, take a reference.
 *  3. Decompress and write it to the backing device, waiting (a batch's
 *     writes are submitted together and waited for together).
 *  4. Erase it from the tree only if it is still the slot's entry.
 *  5. Drop the bit lock.
 *
 * A batch holds several bit locks across its writes. They are all taken
 * with trylock, and nothing the writes wait for needs one, so holding
 * many is no deadlock; a store to one of those slots just waits longer.
 *
 * Against each concurrent operation on the slot:
 *  - a load during 3 finds the entry in the tree and decompresses it from
 *    memory (our reference keeps the payload alive);
 *  - an invalidation during 3 erases and unlinks the entry; 4 finds
 *    another or none and leaves the tree alone; the stale data written to
 *    the backing device belongs to a freed slot;
 *  - a new store kept in the cache replaces the entry; 4 leaves the new
 *    one; a later writeback of the new one waits for our bit lock (it
 *    fails its trylock and is retried later);
 *  - a new store passed through to the backing device takes the bit lock,
 *    waiting for our write to complete, and erases the entry itself before
 *    it submits: its newer data is the one that lands last;
 *  - swapoff and reset stop new writebacks and wait for running ones
 *    (mz_writeback_stop()) before they free anything.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/highmem.h>
#include <linux/wait_bit.h>

#include "internal.h"
#include <trace/events/mzswap.h>

/*********************************
 * slot bit locks
 **********************************/
static unsigned long *mz_slot_word(u32 slot)
{
	return &mz_dev.slot_busy[BIT_WORD(slot)];
}

static bool mz_slot_trylock(u32 slot)
{
	return !test_and_set_bit_lock(slot % BITS_PER_LONG, mz_slot_word(slot));
}

/* May sleep until a writeback of @slot has finished its write. */
void mz_slot_lock(u32 slot)
{
	wait_on_bit_lock_io(mz_slot_word(slot), slot % BITS_PER_LONG,
			    TASK_UNINTERRUPTIBLE);
}

void mz_slot_unlock(u32 slot)
{
	clear_bit_unlock(slot % BITS_PER_LONG, mz_slot_word(slot));
	/* Order the clear before wake_up_bit()'s waitqueue check. */
	smp_mb__after_atomic();
	wake_up_bit(mz_slot_word(slot), slot % BITS_PER_LONG);
}

/*********************************
 * the writeback side
 **********************************/

/*
 * Enter the writeback side. Fails while the device is unconfigured or
 * being reset; the read side of wb_sem is held until mz_writeback_end().
 */
bool mz_writeback_begin(void)
{
	if (!down_read_trylock(&mz_dev.wb_sem))
		return false;
	if (mz_dev.wb_stopped || !mz_dev.backing) {
		up_read(&mz_dev.wb_sem);
		return false;
	}
	return true;
}

void mz_writeback_end(void)
{
	up_read(&mz_dev.wb_sem);
}

/* Refuse new writebacks and wait for running ones. */
void mz_writeback_stop(void)
{
	down_write(&mz_dev.wb_sem);
	mz_dev.wb_stopped = true;
	up_write(&mz_dev.wb_sem);
}

void mz_writeback_start(void)
{
	down_write(&mz_dev.wb_sem);
	mz_dev.wb_stopped = false;
	up_write(&mz_dev.wb_sem);
}

/*********************************
 * backing device I/O
 **********************************/
static void mz_backing_end_io(struct bio *bio)
{
	mz_bio_done_t done = bio->bi_private;
	struct page *page = bio_first_page_all(bio);
	int err = blk_status_to_errno(bio->bi_status);

	if (err)
		mz_stat_inc(MZ_STAT_backing_io_errors);
	done(page, err);
	put_page(page);		/* mz_backing_rw()'s */
	bio_put(bio);
}

/* An injected backing I/O failure, counted as a real one would be. */
static bool mz_backing_should_fail(bool write)
{
	if (!mz_should_fail(write ? MZ_FAULT_backing_write
				  : MZ_FAULT_backing_read))
		return false;
	mz_stat_inc(MZ_STAT_backing_io_errors);
	return true;
}

/* A bio for @page at @slot of the backing device, counted; not submitted. */
static struct bio *mz_backing_bio(struct page *page, u32 slot, blk_opf_t opf)
{
	struct bio *bio = bio_alloc(mz_dev.backing, 1, opf, GFP_NOIO);

	bio->bi_iter.bi_sector = (sector_t)slot << MZ_SECTORS_PER_PAGE_SHIFT;
	__bio_add_page(bio, page, PAGE_SIZE, 0);
	mz_stat_inc(op_is_write(opf) ? MZ_STAT_backing_writes
				     : MZ_STAT_backing_reads);
	return bio;
}

/**
 * mz_backing_rw - read or write one page of @slot on the backing device
 * @page: the data
 * @slot: page index on the device
 * @write: direction
 * @parent: when called from ->submit_bio, the bio being served: the new
 *	bio is chained to it and completes it. Waiting here would deadlock,
 *	since bios submitted under ->submit_bio are only issued after it
 *	returns.
 * @done: otherwise, called on completion (possibly from IRQ). The page is
 *	held until @done has run: its owner may drop its own reference
 *	before that (a swap-in that skips the swap cache does, when its
 *	fault is retried), and @done marks and unlocks it.
 *
 * Returns 1: the I/O completes asynchronously, failed or not. (Writeback
 * builds its own bios, mz_writeback_batch().)
 */
int mz_backing_rw(struct page *page, u32 slot, bool write, struct bio *parent,
		  mz_bio_done_t done)
{
	struct bio *bio;

	if (mz_backing_should_fail(write)) {
		if (parent)
			parent->bi_status = BLK_STS_IOERR;
		else
			done(page, -EIO);
		return 1;
	}
	bio = mz_backing_bio(page, slot, write ? REQ_OP_WRITE : REQ_OP_READ);
	if (parent) {
		bio_chain(bio, parent);
	} else {
		get_page(page);
		bio->bi_private = done;
		bio->bi_end_io = mz_backing_end_io;
	}
	submit_bio(bio);
	return 1;
}

/*********************************
 * writeback of one entry
 **********************************/
static int mz_entry_decompress(struct mz_entry *e, struct page *page)
{
	void *dst = kmap_local_page(page);
	int err = 0;

	if (mz_entry_same_filled(e)) {
		memset_l(dst, e->handle, PAGE_SIZE / sizeof(unsigned long));
	} else {
		struct mz_comp_ctx *ctx = mz_comp_ctx_get(e->comp);
		void *src = mz_pool_map_read(e->handle);

		err = mz_comp_decompress(ctx, src, e->length, dst);
		mz_pool_unmap(e->handle);
		mz_comp_ctx_put(e->comp);
	}
	kunmap_local(dst);
	if (err)
		mz_stat_inc(MZ_STAT_decompress_fail);
	return err;
}

/* Fill @page with the data of @e, on which the caller holds a reference. */
int mz_entry_load(struct mz_entry *e, struct page *page)
{
	return mz_entry_decompress(e, page);
}

/*
 * Step 4: erase @e if it is still its slot's entry, and only then count a
 * writeback, globally and in the line of the owner it had when erased.
 * Returns the owner's cgroup id, 0 if none, or -ENOENT if @e had left the
 * tree meanwhile (invalidated or replaced: nothing was written back).
 */
static s64 mz_entry_erase_written(struct mz_entry *e)
{
	struct mz_cgroup *owner;
	s64 id = -ENOENT;

	/* The erase unlinks @e from its owner: read the owner first. */
	rcu_read_lock();
	owner = READ_ONCE(e->owner);
	if (mz_tree_erase_if(e)) {
		id = 0;
		if (owner) {
			atomic64_inc(&owner->written_back);
			id = owner->id;
		}
		mz_stat_inc(MZ_STAT_written_back_pages);
	}
	rcu_read_unlock();
	return id;
}

/* The writes of one batch in flight. */
struct mz_wb_wait {
	atomic_t pending;	/* writes in flight, plus one for the waiter */
	struct completion done;
};

static void mz_wb_end_io(struct bio *bio)
{
	struct mz_wb_wait *wait = bio->bi_private;

	if (atomic_dec_and_test(&wait->pending))
		complete(&wait->done);
}

/*
 * Steps 1 to 3 up to the submission. Returns the bio to submit, or NULL
 * with nothing held (the entry put back on the LRU if it is still there)
 * and *@err set.
 */
static struct bio *mz_wb_prepare(struct mz_lru_item *it,
				 struct mz_wb_wait *wait, int *err)
{
	struct mz_entry *e = it->e;
	struct page *page;
	struct bio *bio;

	page = alloc_page(GFP_NOIO | __GFP_NOWARN);
	if (!page) {
		*err = -ENOMEM;
		goto putback;
	}

	/* 1 */
	if (!mz_slot_trylock(it->slot)) {
		mz_stat_inc(MZ_STAT_writeback_skip_busy);
		*err = -EBUSY;
		goto free_page;
	}

	/* 2 */
	xa_lock(&mz_dev.tree);
	if (xa_load(&mz_dev.tree, it->slot) != e) {
		xa_unlock(&mz_dev.tree);
		mz_slot_unlock(it->slot);
		__free_page(page);
		*err = -ENOENT;	/* gone: nothing to put back */
		return NULL;
	}
	refcount_inc(&e->refs);
	xa_unlock(&mz_dev.tree);

	/* 3: @e is pinned; the slot's other writers wait for the bit lock. */
	*err = mz_entry_decompress(e, page);
	if (!*err && mz_backing_should_fail(true))
		*err = -EIO;
	if (*err) {
		mz_stat_inc(MZ_STAT_writeback_fail);
		mz_tree_lru_putback(e, it->slot);
		trace_mzswap_writeback(it->slot, 0, *err);
		mz_entry_put(e);
		mz_slot_unlock(it->slot);
		__free_page(page);
		return NULL;
	}
	bio = mz_backing_bio(page, it->slot, REQ_OP_WRITE | REQ_SYNC);
	bio->bi_private = wait;
	bio->bi_end_io = mz_wb_end_io;
	return bio;

free_page:
	__free_page(page);
putback:
	mz_tree_lru_putback(e, it->slot);
	return NULL;
}

/*
 * Steps 4 and 5, once the batch's writes completed. Returns 0 when the
 * entry was written back and erased, -ENOENT when the write landed but
 * the slot had moved on meanwhile (invalidated or stored again: nothing
 * written back counts), or the write's error.
 */
static int mz_wb_finish(struct mz_lru_item *it, struct bio *bio)
{
	struct page *page = bio_first_page_all(bio);
	struct mz_entry *e = it->e;
	s64 owner_id = 0;
	int err;

	err = blk_status_to_errno(bio->bi_status);
	bio_put(bio);
	if (err) {
		mz_stat_inc(MZ_STAT_backing_io_errors);
		mz_stat_inc(MZ_STAT_writeback_fail);
		mz_tree_lru_putback(e, it->slot);
		goto unlock;
	}

	/* 4 */
	owner_id = mz_entry_erase_written(e);
	if (owner_id < 0) {
		err = owner_id;
		owner_id = 0;
	}
unlock:
	/* 5 */
	trace_mzswap_writeback(it->slot, owner_id, err);
	mz_entry_put(e);
	mz_slot_unlock(it->slot);
	__free_page(page);
	return err;
}

/**
 * mz_writeback_batch - write entries back to the backing device together
 * @it: the entries and their slots, as isolated from the LRU
 * @nr: how many, at most MZ_WB_BATCH
 * @written: incremented by the number written back and erased
 *
 * The entries came off the LRU and may be freed already: each is only
 * compared with the tree's entry until a reference is taken (lru.c, rule
 * 1). Their writes are submitted under one plug and waited for together,
 * so a batch costs about one device round trip, not @nr; every bit lock
 * taken in step 1 is held until step 5, after all the writes completed.
 * On failure an entry, if still held, goes back on the LRU. The caller is
 * on the writeback side (mz_writeback_begin()).
 *
 * Returns 0 or the last error (-ENOENT for entries gone meanwhile is no
 * error).
 */
int mz_writeback_batch(struct mz_lru_item *it, unsigned int nr,
		       unsigned long *written)
{
	struct bio *bio[MZ_WB_BATCH];
	struct mz_wb_wait wait;
	struct blk_plug plug;
	unsigned int i;
	int err, ret = 0;

	if (WARN_ON_ONCE(nr > MZ_WB_BATCH))
		nr = MZ_WB_BATCH;
	atomic_set(&wait.pending, 1);
	init_completion(&wait.done);

	for (i = 0; i < nr; i++) {
		bio[i] = mz_wb_prepare(&it[i], &wait, &err);
		if (!bio[i] && err != -ENOENT)
			ret = err;
	}

	blk_start_plug(&plug);
	for (i = 0; i < nr; i++) {
		if (!bio[i])
			continue;
		atomic_inc(&wait.pending);
		submit_bio(bio[i]);
	}
	blk_finish_plug(&plug);
	if (!atomic_dec_and_test(&wait.pending))
		wait_for_completion_io(&wait.done);

	for (i = 0; i < nr; i++) {
		if (!bio[i])
			continue;
		err = mz_wb_finish(&it[i], bio[i]);
		if (!err)
			(*written)++;
		else if (err != -ENOENT)
			ret = err;
	}
	return ret;
}
