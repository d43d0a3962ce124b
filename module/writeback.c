// SPDX-License-Identifier: GPL-2.0
/*
 * mzswap writeback: I/O to the backing device, and moving entries there.
 *
 * Writeback rules. A slot's data lives in exactly one place the device
 * reads from: the entry in the tree if there is one, else the backing
 * device. Writing an entry back must therefore finish the backing write
 * before the entry leaves the tree, and no two writes of one slot may be
 * in flight to the backing device at once, or an older one could land
 * last. The slot bit lock (mz_dev.slot_busy) gives the second; the order
 * of operations the first. Writeback is asynchronous: reclaim submits and
 * returns, the completion finishes the job in process context.
 *
 *  1. Reserve room in flight (mz_wb_inflight below MZ_WB_MAX_INFLIGHT):
 *     reclaim skips when there is none, the worker waits for it and
 *     leaves the last MZ_WB_RECLAIM_ROOM to reclaim.
 *  2. Take the slot bit lock (trylock: nobody waits for it here).
 *  3. Find the entry in the tree by pointer, take a reference.
 *  4. Decompress it into a page. If nobody else holds the entry, free its
 *     compressed copy and let the entry hold the page instead
 *     (mz_entry_unpack()): the owner's charge and compressed_bytes drop
 *     now, so reclaim that watches them (a lowered memory.max, a charge
 *     at the limit, a store at the cgroup's compressed limit) sees the
 *     progress it made. Submit the write (mz_writeback_submit() returns
 *     here). The reference and the bit lock stay held across the write:
 *     they belong to the struct mz_wb_io in flight.
 *  5. The write ends (mz_wb_end_io(), possibly in hard IRQ, where neither
 *     the tree's xa_lock nor the list_lru lock may be taken): the io goes
 *     on mz_wb_done and mz_wb_done_work is queued.
 *  6. In process context (mz_wb_done_workfn()): on success erase the entry
 *     only if it is still the slot's entry, counting it written back only
 *     then; on failure compress its page into the pool again if it holds
 *     one (mz_entry_repack()) and put it back on the LRU if it is still
 *     there. Drop the reference, then the bit lock, then the room in
 *     flight.
 *  7. A writer that may not wait (reclaim: the shrinker's scan, the
 *     store path's cgroup-limit writeback) never submits at step 4
 *     itself: submit_bio() sleeps for a request when the disk's queue is
 *     full, and up to MZ_WB_MAX_INFLIGHT writes are more than a queue's
 *     depth; the shrinker would sleep for the disk under shrinker_rwsem
 *     (33-writeback: a mkdir took 19 s). Inside a ->submit_bio
 *     (current->bio_list set: the store path under synchronous_io=N) it
 *     would even deadlock. A bio submitted there is only issued after that
 *     ->submit_bio returns, and until its write ends its bit lock is held:
 *     a later page of the same bio for one of those slots, passed through
 *     to the backing device, would wait for that bit lock (mz_slot_lock())
 *     forever. Such a writer prepares its writes as usual (steps 1 to 4 up
 *     to the submission) and hands the bios to mz_wb_submit_work on
 *     mz_wb_wq (mz_wb_defer()), which submits them from a worker, where
 *     they may wait for the queue and complete whatever the store does.
 *     Their compressed copies were freed at step 4 all the same. They
 *     are in flight from step 1 on (writeback_inflight), so everything
 *     that waits for writeback I/O waits for them too.
 *
 * A writer holds many bit locks across its writes. They are all taken
 * with trylock, and nothing the writes or their completion wait for needs
 * one, so holding many is no deadlock; a store to one of those slots just
 * waits longer (mz_slot_lock(), which sleeps until step 6).
 *
 * Against each concurrent operation on the slot:
 *  - a load between 3 and 6 finds the entry in the tree and decompresses
 *    it, or copies its page, from memory (our reference keeps either
 *    alive); a load that holds the entry at 4 keeps its compressed copy
 *    (4 and 6 change the payload only while the tree's reference and ours
 *    are the only ones, under the tree lock, where a load takes its own);
 *  - an invalidation between 3 and 6 erases and unlinks the entry; 6
 *    finds another or none and leaves the tree alone, counting nothing;
 *    the stale data written to the backing device belongs to a freed slot;
 *  - a new store kept in the cache replaces the entry; 6 leaves the new
 *    one; a later writeback of the new one fails its trylock until 6 and
 *    is retried later;
 *  - a new store passed through to the backing device takes the bit lock,
 *    waiting for step 6, and erases the entry itself before it submits:
 *    its newer data is the one that lands last;
 *  - swapoff's last close of the disk waits for the ->rw_page I/O still
 *    in flight (mz_release()); a backing change and module exit stop new
 *    writebacks, then wait for every backing I/O whose completion is
 *    module code, then for the completion work, then for an RCU grace
 *    period (mz_writeback_stop()): see "In-flight I/O" below.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bio.h>
#include <linux/blkdev.h>
#include <linux/blk-cgroup.h>
#include <linux/cgroup.h>
#include <linux/highmem.h>
#include <linux/llist.h>
#include <linux/swap.h>
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
 * in-flight I/O
 **********************************/

/*
 * In-flight I/O. Every backing bio whose bi_end_io is module code is
 * counted from before its submission until its completion has finished
 * with module data:
 *  - a pass-through write or a read issued from ->rw_page, and a
 *    pass-through write of a limited cgroup under ->submit_bio: in
 *    mz_io_inflight, dropped as the last thing mz_backing_end_io() or
 *    mz_pass_end_io() does;
 *  - a writeback's write: in the writeback_inflight counter (which is
 *    also the cap, rule 1), dropped as the last thing the completion work
 *    does for it.
 * Any other bio chained to a bio of the swap layer (the ->submit_bio path)
 * completes through bio_chain_endio(), kernel code, and before its
 * parent, which its submitter waits for (the page lock of a read;
 * try_to_unuse() waits for the writeback of every swap cache page).
 *
 * swapoff's last close of the disk (mz_release()) waits for mz_io_inflight
 * to reach zero, so no read issued from ->rw_page outlives swapoff; a
 * backing change and module exit (mz_writeback_stop()) wait for both
 * counters, then for the completion work, then for an RCU grace period.
 *
 * The grace period is for the last instructions of an end_io after its
 * decrement or its queue_work(): each of them runs in an RCU read-side
 * section (rcu_read_lock()) up to rcu_read_unlock(), after which only its
 * return remains. In hard or soft IRQ, where completions normally run,
 * preemption is off through that return, so it is inside what
 * synchronize_rcu() waits for. A completion in task context (bio_endio()
 * from a failed submit_bio(), inside module code that holds the disk open
 * or the writeback side, so exit cannot have started; a loop or dm backing
 * device completing from its worker) could only be preempted between
 * rcu_read_unlock() and its return under preempt=full; Debian's default
 * (voluntary) has no preemption point there. free_module() waits for
 * another grace period before it frees the text.
 */
static atomic_t mz_io_inflight;
static DECLARE_WAIT_QUEUE_HEAD(mz_io_wait);	/* both counters' waiters */

/* Completions of writeback writes, handled in process context (rule 6). */
static struct workqueue_struct *mz_wb_wq;

/* Writeback pages in flight: steps 1 to 6. The counter is the debugfs one. */
#define mz_wb_inflight	(&mz_stats[MZ_STAT_writeback_inflight])

static void mz_io_get(void)
{
	atomic_inc(&mz_io_inflight);
}

/* The last use of module data by a completion: see above. */
static void mz_io_put(void)
{
	rcu_read_lock();
	if (atomic_dec_and_test(&mz_io_inflight))
		wake_up_all(&mz_io_wait);
	rcu_read_unlock();
}

/*
 * Room in flight that writers who may wait (the worker, debugfs requests)
 * leave to reclaim, which may not: without it a busy background writer
 * keeps the cap full and every cgroup's own reclaim finds no room.
 */
#define MZ_WB_RECLAIM_ROOM	(MZ_WB_MAX_INFLIGHT / 4)

static bool mz_wb_tryreserve(s64 max)
{
	s64 old = atomic64_read(mz_wb_inflight);

	do {
		if (old >= max)
			return false;
	} while (!atomic64_try_cmpxchg(mz_wb_inflight, &old, old + 1));
	return true;
}

/*
 * Rule 1: reserve room for one writeback page. Reclaim (!@may_wait) gets
 * false at the cap; the worker sleeps until there is room below the
 * reclaim room. Its own earlier writes are submitted or in its plug,
 * which schedule() flushes, so the room it waits for is made by writes
 * that are on their way.
 */
static bool mz_wb_reserve(bool may_wait)
{
	const s64 max = MZ_WB_MAX_INFLIGHT - MZ_WB_RECLAIM_ROOM;

	if (!may_wait)
		return mz_wb_tryreserve(MZ_WB_MAX_INFLIGHT);
	for (;;) {
		if (mz_wb_tryreserve(max))
			return true;
		wait_event(mz_io_wait, atomic64_read(mz_wb_inflight) < max);
	}
}

static void mz_wb_unreserve(void)
{
	atomic64_dec(mz_wb_inflight);
	if (wq_has_sleeper(&mz_io_wait))
		wake_up_all(&mz_io_wait);
}

/* Reclaim's check before it walks: is there room for one more write? */
bool mz_writeback_full(void)
{
	return atomic64_read(mz_wb_inflight) >= MZ_WB_MAX_INFLIGHT;
}

static bool mz_io_idle(void)
{
	return !atomic_read(&mz_io_inflight) && !atomic64_read(mz_wb_inflight);
}

/*
 * Wait for every backing I/O with a module completion to finish (see
 * "In-flight I/O"); the writeback side must be stopped first, or new
 * writebacks could start. @text: also wait for the completions' last
 * instructions (before the module text or the slot bit map goes).
 */
static void mz_io_drain(bool text)
{
	wait_event(mz_io_wait, mz_io_idle());
	if (!text)
		return;
	flush_workqueue(mz_wb_wq);
	synchronize_rcu();
}

/* swapoff closed the disk: no read issued from ->rw_page may outlive it. */
void mz_io_wait_reads(void)
{
	wait_event(mz_io_wait, !atomic_read(&mz_io_inflight));
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

/*
 * Refuse new writebacks, wait for running ones to submit, and for all
 * backing I/O and its completion handling to finish.
 */
void mz_writeback_stop(void)
{
	down_write(&mz_dev.wb_sem);
	mz_dev.wb_stopped = true;
	up_write(&mz_dev.wb_sem);
	mz_io_drain(true);
}

void mz_writeback_start(void)
{
	down_write(&mz_dev.wb_sem);
	mz_dev.wb_stopped = false;
	up_write(&mz_dev.wb_sem);
}

/*********************************
 * blkcg attribution
 **********************************/

/*
 * The io controller's css of @memcg's cgroup (the nearest ancestor with
 * one), with a reference, or NULL: a bio associated with it is charged to
 * the owner of the data, not to whoever reclaims.
 */
static struct cgroup_subsys_state *mz_memcg_io_css(struct mem_cgroup *memcg)
{
	if (!memcg || mem_cgroup_disabled())
		return NULL;
	return cgroup_get_e_css(memcg->css.cgroup, &io_cgrp_subsys);
}

/* The same for the memcg @page is charged to. */
static struct cgroup_subsys_state *mz_page_io_css(struct page *page)
{
	struct cgroup_subsys_state *css = NULL;
	struct mem_cgroup *memcg;

	if (mem_cgroup_disabled())
		return NULL;
	rcu_read_lock();
	memcg = folio_memcg_rcu(page_folio(page));
	if (memcg && css_tryget(&memcg->css)) {
		css = mz_memcg_io_css(memcg);
		css_put(&memcg->css);
	}
	rcu_read_unlock();
	return css;
}

/*********************************
 * backing device I/O
 **********************************/

/*
 * The front pad of every bio of mz_bioset. A writeback's write uses the
 * first part: one writeback page in flight, from step 4 to step 6, which
 * owns a reference on @e and the bit lock of @slot, one unit of room in
 * flight, and its page unless @e took it (@unpacked). A pass-through write
 * of a limited cgroup uses @pass (memcg.c, "Pass-through writes in
 * flight") and, under ->submit_bio, @parent; every other bio has @pass
 * NULL (mz_backing_bio()).
 */
struct mz_wb_wait;
struct mz_wb_io {
	struct llist_node node;		/* on mz_wb_done once the write ended */
	struct mz_entry *e;
	struct mz_wb_wait *wait;	/* the waiting writer's, or NULL */
	struct mem_cgroup *memcg;	/* referenced: a repack's charge */
	u32 slot;
	bool unpacked;			/* @e holds the page (step 4) */
	unsigned int charge;		/* bytes of charge step 4 freed */
	struct mz_cgroup *pass;		/* referenced: its writes in flight */
	struct bio *parent;		/* the bio served, which this ends */
	struct bio bio;			/* last: mz_bioset's front pad */
};

/*
 * Bios to the backing device: pass-through and ->rw_page reads and
 * writes, and writeback's writes (whose struct mz_wb_io is the front pad).
 * BIOSET_NEED_RESCUER: the pass-through of a bio of many pages allocates
 * one child per page under ->submit_bio, where the children wait on
 * current->bio_list until it returns; bio_alloc_bioset() hands them to the
 * rescuer before it waits for the pool, so one is always freed again.
 */
static struct bio_set mz_bioset;

static void mz_backing_end_io(struct bio *bio)
{
	struct mz_wb_io *io = container_of(bio, struct mz_wb_io, bio);
	mz_bio_done_t done = bio->bi_private;
	struct page *page = bio_first_page_all(bio);
	int err = blk_status_to_errno(bio->bi_status);

	if (err)
		mz_stat_inc(MZ_STAT_backing_io_errors);
	done(page, err);
	mz_pass_end(io->pass);
	put_page(page);		/* mz_backing_rw()'s */
	bio_put(bio);
	mz_io_put();
}

/*
 * A counted pass-through write served under ->submit_bio ended: what
 * bio_chain_endio() does (the first error is the parent's), with the count
 * dropped before the parent ends, so a writer woken for room finds it.
 */
static void mz_pass_end_io(struct bio *bio)
{
	struct mz_wb_io *io = container_of(bio, struct mz_wb_io, bio);
	struct bio *parent = io->parent;

	if (bio->bi_status && !parent->bi_status)
		parent->bi_status = bio->bi_status;
	mz_pass_end(io->pass);
	bio_put(bio);
	bio_endio(parent);
	mz_io_put();
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

/*
 * A bio for @page at @slot of the backing device, counted; not submitted.
 * NULL only if @gfp cannot wait.
 */
static struct bio *mz_backing_bio(struct page *page, u32 slot, blk_opf_t opf,
				  gfp_t gfp)
{
	struct bio *bio;

	bio = bio_alloc_bioset(mz_dev.backing, 1, opf, gfp, &mz_bioset);
	if (!bio)
		return NULL;
	bio->bi_iter.bi_sector = (sector_t)slot << MZ_SECTORS_PER_PAGE_SHIFT;
	__bio_add_page(bio, page, PAGE_SIZE, 0);
	container_of(bio, struct mz_wb_io, bio)->pass = NULL;
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
 *	bio is chained to it, completes it and is charged to its blkcg.
 *	Waiting here would deadlock, since bios submitted under ->submit_bio
 *	are only issued after it returns.
 * @done: otherwise, called on completion (possibly from IRQ). The page is
 *	held until @done has run: its owner may drop its own reference
 *	before that, and @done marks and unlocks it. Counted in
 *	mz_io_inflight until then. A write is charged to the blkcg of the
 *	page's memcg.
 * @pass: from mz_pass_begin() for a pass-through write, or NULL: its
 *	reference is ours, dropped by mz_pass_end() once the I/O ended.
 *
 * With neither @parent nor @done, the I/O is synchronous: submitted and
 * waited for here (submit_bio_wait(), whose completion is kernel code).
 *
 * Returns 1: the I/O completes asynchronously, failed or not; or, when
 * synchronous, 0 or -EIO.
 */
int mz_backing_rw(struct page *page, u32 slot, bool write, struct bio *parent,
		  mz_bio_done_t done, struct mz_cgroup *pass)
{
	struct cgroup_subsys_state *css;
	struct mz_wb_io *io;
	struct bio *bio;
	int err;

	if (mz_backing_should_fail(write)) {
		mz_pass_end(pass);
		if (parent)
			parent->bi_status = BLK_STS_IOERR;
		else if (done)
			done(page, -EIO);
		else
			return -EIO;
		return 1;
	}
	bio = mz_backing_bio(page, slot, write ? REQ_OP_WRITE : REQ_OP_READ,
			     GFP_NOIO);
	io = container_of(bio, struct mz_wb_io, bio);
	if (parent) {
		bio_clone_blkg_association(bio, parent);
		if (!pass) {
			bio_chain(bio, parent);
			submit_bio(bio);
			return 1;
		}
		/* bio_chain(), with a completion that drops the count. */
		io->pass = pass;
		io->parent = parent;
		bio->bi_end_io = mz_pass_end_io;
		bio_inc_remaining(parent);
		mz_io_get();
		submit_bio(bio);
		return 1;
	}
	if (write) {
		css = mz_page_io_css(page);
		if (css) {
			bio_associate_blkg_from_css(bio, css);
			css_put(css);
		}
	}
	if (!done) {
		err = submit_bio_wait(bio);
		mz_pass_end(pass);
		if (err)
			mz_stat_inc(MZ_STAT_backing_io_errors);
		bio_put(bio);
		return err ? -EIO : 0;
	}
	io->pass = pass;
	get_page(page);
	bio->bi_private = done;
	bio->bi_end_io = mz_backing_end_io;
	mz_io_get();
	submit_bio(bio);
	return 1;
}

/*********************************
 * writeback of entries
 **********************************/
static int mz_entry_decompress(struct mz_entry *e, struct page *page)
{
	void *dst;
	int err = 0;

	if (mz_entry_unpacked(e)) {
		copy_highpage(page, mz_entry_page(e));
		return 0;
	}
	dst = kmap_local_page(page);
	if (mz_entry_same_filled(e)) {
		memset_l(dst, e->handle, PAGE_SIZE / sizeof(unsigned long));
	} else {
		struct mz_comp *comp = mz_entry_comp(e);
		struct mz_comp_ctx *ctx = mz_comp_ctx_get(comp);
		void *src = mz_pool_map_read(e->handle);

		err = mz_comp_decompress(ctx, src, e->length, dst);
		mz_pool_unmap(e->handle);
		mz_comp_ctx_put(comp);
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
 * Step 6 on success: erase @e if it is still its slot's entry, and only
 * then count a writeback, globally and in the line of the owner it had
 * when erased. Returns the owner's cgroup id, 0 if none, or -ENOENT if @e
 * had left the tree meanwhile (invalidated or replaced: nothing was
 * written back).
 */
static s64 mz_entry_erase_written(struct mz_entry *e)
{
	struct mz_cgroup *owner;
	s64 id = -ENOENT;

	/* The erase unlinks @e from its owner: read the owner first. */
	rcu_read_lock();
	owner = mz_entry_owner(e);
	if (mz_tree_erase_if(e)) {
		id = 0;
		if (owner) {
			mz_cgroup_count_written(owner);
			id = owner->id;
		}
		mz_stat_inc(MZ_STAT_written_back_pages);
	}
	rcu_read_unlock();
	return id;
}

/*
 * Step 4, once @page holds @e's data: if nobody but the tree and this
 * writeback holds @e, free its compressed copy now and let @e hold @page
 * instead, until the write lands (rule 6 erases @e) or fails (rule 6
 * compresses it again). A load takes its reference under the tree lock,
 * so none can start using the old payload after the check. Returns true
 * if @e took @page; the caller's reference on @e then keeps it alive.
 */
static bool mz_entry_unpack(struct mz_entry *e, struct page *page)
{
	struct mz_payload old;

	/* A fill word costs nothing; a page already is one. */
	if (mz_entry_same_filled(e) || mz_entry_unpacked(e))
		return false;
	xa_lock(&mz_dev.tree);
	if (xa_load(&mz_dev.tree, e->slot) != e ||
	    refcount_read(&e->refs) != 2) {
		xa_unlock(&mz_dev.tree);
		return false;
	}
	old.handle = e->handle;
	old.length = e->length;
	old.comp = e->comp;
	mz_record_set_length(e, 0);
	e->handle = (unsigned long)page;
	WRITE_ONCE(e->comp, MZ_COMP_PAGE);
	xa_unlock(&mz_dev.tree);

	mz_payload_free(&old);
	mz_stat_inc(MZ_STAT_unpacked_pages);
	return true;
}

/*
 * Step 6 on failure, before @e goes back on the LRU: compress the page it
 * holds into the pool again, so that a failing disk does not leave whole
 * pages, charged to nobody, where compressed ones were. The charge to
 * @memcg may go over its limit (__GFP_HIGH): it only takes back what the
 * release at step 4 gave up, and a cgroup at its limit is exactly where
 * writeback runs. If that fails, or a load holds @e meanwhile, @e keeps
 * its page, still counted in unpacked_pages; its next failed writeback
 * tries again. The caller holds a reference on @e and the bit lock of its
 * slot, which keeps every other writeback away from it.
 */
static void mz_entry_repack(struct mz_entry *e, struct mem_cgroup *memcg)
{
	struct page *page = mz_entry_page(e);
	struct mz_payload p;
	void *src;
	int reason;

	src = kmap_local_page(page);
	reason = mz_payload_compress(src, memcg, __GFP_KSWAPD_RECLAIM |
				     __GFP_HIGH | __GFP_NOWARN, &p);
	kunmap_local(src);
	if (reason)
		return;

	xa_lock(&mz_dev.tree);
	if (xa_load(&mz_dev.tree, e->slot) != e ||
	    refcount_read(&e->refs) != 2) {
		xa_unlock(&mz_dev.tree);
		mz_payload_free(&p);
		return;
	}
	e->handle = p.handle;
	WRITE_ONCE(e->comp, p.comp);
	mz_record_set_length(e, p.length);
	xa_unlock(&mz_dev.tree);

	__free_page(page);
	mz_stat_add(MZ_STAT_unpacked_pages, -1);
	mz_stat_inc(MZ_STAT_writeback_repacked);
}

static LLIST_HEAD(mz_wb_done);
/* Prepared by reclaim, waiting for mz_wb_submit_work (rule 7). */
static LLIST_HEAD(mz_wb_deferred);

/* Step 6, for one write that ended. */
static void mz_wb_finish(struct mz_wb_io *io)
{
	struct page *page = bio_first_page_all(&io->bio);
	struct mz_wb_wait *wait = io->wait;
	struct mz_entry *e = io->e;
	s64 owner_id = 0;
	int err;

	err = blk_status_to_errno(io->bio.bi_status);
	if (err)
		mz_stat_inc(MZ_STAT_backing_io_errors);
	else if (mz_backing_should_fail(true))
		err = -EIO;	/* injected: as if the disk had failed it */
	if (err) {
		mz_stat_inc(MZ_STAT_writeback_fail);
		if (mz_entry_unpacked(e))
			mz_entry_repack(e, io->memcg);
		mz_tree_lru_putback(e, io->slot);
	} else {
		owner_id = mz_entry_erase_written(e);
		if (owner_id < 0) {
			err = owner_id;
			owner_id = 0;
		}
	}
	trace_mzswap_writeback(io->slot, owner_id, err);
	/* The bio only points at the page: it may go with @e. */
	if (!io->unpacked)
		__free_page(page);
	mz_entry_put(e);
	mz_slot_unlock(io->slot);
	if (io->memcg)
		css_put(&io->memcg->css);
	bio_put(&io->bio);
	if (wait) {
		if (!err)
			atomic_long_inc(&wait->written);
		if (atomic_dec_and_test(&wait->pending))
			complete(&wait->done);
	}
	mz_wb_unreserve();
}

static void mz_wb_done_workfn(struct work_struct *work)
{
	struct llist_node *list = llist_del_all(&mz_wb_done);
	struct mz_wb_io *io, *next;

	/* Oldest first. */
	list = llist_reverse_order(list);
	llist_for_each_entry_safe(io, next, list, node) {
		mz_wb_finish(io);
		cond_resched();
	}
}

static DECLARE_WORK(mz_wb_done_work, mz_wb_done_workfn);

/* Step 5: may run in hard IRQ. Its tail: see "In-flight I/O". */
static void mz_wb_end_io(struct bio *bio)
{
	struct mz_wb_io *io = container_of(bio, struct mz_wb_io, bio);

	rcu_read_lock();
	if (llist_add(&io->node, &mz_wb_done))
		queue_work(mz_wb_wq, &mz_wb_done_work);
	rcu_read_unlock();
}

/*
 * Rule 7: submit the writes prepared by reclaim, oldest first, from a
 * worker, which may sleep for the disk's queue. A write may end (and
 * reuse @node on mz_wb_done) as soon as it is submitted: the next one is
 * read before.
 */
static void mz_wb_submit_workfn(struct work_struct *work)
{
	struct llist_node *list = llist_del_all(&mz_wb_deferred);
	struct mz_wb_io *io, *next;
	struct blk_plug plug;

	blk_start_plug(&plug);
	list = llist_reverse_order(list);
	llist_for_each_entry_safe(io, next, list, node) {
		submit_bio(&io->bio);
		cond_resched();
	}
	blk_finish_plug(&plug);
}

static DECLARE_WORK(mz_wb_submit_work, mz_wb_submit_workfn);

/* Rule 7: hand a prepared write to mz_wb_submit_work. */
static void mz_wb_defer(struct mz_wb_io *io)
{
	if (llist_add(&io->node, &mz_wb_deferred))
		queue_work(mz_wb_wq, &mz_wb_submit_work);
}

/*
 * Steps 1 to 4 up to the submission. Returns the io to submit, or NULL
 * with nothing held (the entry put back on the LRU if it is still there)
 * and *@err set: -EAGAIN no room in flight, -ENOMEM, -EBUSY (bit lock
 * taken), -ENOENT (gone), or the decompression's or injected error.
 */
static struct mz_wb_io *mz_wb_prepare(struct mz_lru_item *it,
				      struct mz_wb_wait *wait,
				      struct mem_cgroup *memcg,
				      struct cgroup_subsys_state *css,
				      int *err)
{
	gfp_t gfp = (wait ? GFP_NOIO : GFP_NOWAIT) | __GFP_NOWARN;
	struct mz_entry *e = it->e;
	bool putback = true;
	unsigned int length;
	struct mz_wb_io *io;
	struct page *page;
	struct bio *bio;

	/* 1 */
	if (!mz_wb_reserve(wait)) {
		mz_stat_inc(MZ_STAT_writeback_skip_full);
		*err = -EAGAIN;
		goto putback;
	}
	*err = -ENOMEM;
	page = alloc_page(gfp);
	if (!page)
		goto unreserve;
	bio = mz_backing_bio(page, it->slot, REQ_OP_WRITE, gfp);
	if (!bio)
		goto free_page;
	io = container_of(bio, struct mz_wb_io, bio);

	/* 2 */
	if (!mz_slot_trylock(it->slot)) {
		mz_stat_inc(MZ_STAT_writeback_skip_busy);
		*err = -EBUSY;
		goto put_bio;
	}

	/* 3 */
	xa_lock(&mz_dev.tree);
	if (xa_load(&mz_dev.tree, it->slot) != e) {
		xa_unlock(&mz_dev.tree);
		mz_slot_unlock(it->slot);
		*err = -ENOENT;
		putback = false;	/* gone: nothing to put back */
		goto put_bio;
	}
	refcount_inc(&e->refs);
	xa_unlock(&mz_dev.tree);

	/* 4: @e is pinned; the slot's other writers wait for the bit lock. */
	*err = mz_entry_decompress(e, page);
	if (*err) {
		mz_stat_inc(MZ_STAT_writeback_fail);
		mz_tree_lru_putback(e, it->slot);
		trace_mzswap_writeback(it->slot, 0, *err);
		mz_entry_put(e);
		mz_slot_unlock(it->slot);
		putback = false;	/* done above, under our reference */
		goto put_bio;
	}
	if (css)
		bio_associate_blkg_from_css(bio, css);
	/* A miss of its owner's, unless an administrator asked. */
	if (!wait || !wait->forced) {
		struct mz_cgroup *owner;

		/* A reparenting pass may move @e and free its old owner. */
		rcu_read_lock();
		owner = mz_entry_owner(e);
		if (owner)
			mz_cgroup_count_miss(owner);
		rcu_read_unlock();
	}
	length = e->length;
	io->unpacked = mz_entry_unpack(e, page);
	io->charge = io->unpacked ? mz_pool_charge(length) : 0;
	io->e = e;
	io->slot = it->slot;
	io->wait = wait;
	io->memcg = memcg;
	if (memcg)
		css_get(&memcg->css);
	if (wait)
		atomic_inc(&wait->pending);
	bio->bi_end_io = mz_wb_end_io;
	return io;

put_bio:
	bio_put(bio);
free_page:
	__free_page(page);
unreserve:
	mz_wb_unreserve();
putback:
	if (putback)
		mz_tree_lru_putback(e, it->slot);
	return NULL;
}

void mz_wb_wait_init(struct mz_wb_wait *wait, bool forced)
{
	wait->forced = forced;
	atomic_set(&wait->pending, 1);
	atomic_long_set(&wait->written, 0);
	init_completion(&wait->done);
}

/* Wait for every write submitted with @wait; returns how many were erased. */
unsigned long mz_wb_wait_all(struct mz_wb_wait *wait)
{
	if (!atomic_dec_and_test(&wait->pending))
		wait_for_completion_io(&wait->done);
	return atomic_long_read(&wait->written);
}

/*
 * Credit the reclaimer, if any, with @bytes of @memcg's charge that step 4
 * freed. A 6.1 reclaim pass counts what shrinkers free in its
 * reclaim_state's reclaimed_slab, which the slab allocator raises only
 * for whole slab pages freed: a payload gives back its bytes of the
 * owner's charge (pool.c) but seldom a page. memory_max_write() OOM-kills
 * after 16 passes that reclaimed nothing, try_charge_memcg() after
 * MAX_RECLAIM_RETRIES: a cgroup whose memory was mostly compressed met a
 * lowered memory.max, or died, on the race of its writebacks' charge with
 * those passes (tests/36-max-lowered). So the charge counts as reclaimed
 * where it is what binds: under a memory.max it is at (mz_memcg_at_limit());
 * global reclaim, which needs pages, gets no credit. Rounded up: a batch
 * that freed any charge made progress.
 */
static void mz_wb_credit_reclaim(struct mem_cgroup *memcg, unsigned long bytes)
{
	struct reclaim_state *rs = current->reclaim_state;
	unsigned long pages = DIV_ROUND_UP(bytes, PAGE_SIZE);

	if (!rs || !bytes || !mz_memcg_at_limit(memcg))
		return;
	rs->reclaimed_slab += pages;
	mz_stat_add(MZ_STAT_writeback_reclaim_credit, pages);
}

/**
 * mz_writeback_submit - start writing entries back to the backing device
 * @it: the entries and their slots, as isolated from the LRU
 * @nr: how many, at most MZ_WB_BATCH
 * @memcg: the cgroup whose list they came from, whose blkcg the writes are
 *	charged to (the owner's, or its nearest live ancestor's once the
 *	owner went offline and its list was reparented); NULL: none
 * @wait: NULL from reclaim: sleep for nothing, allocate with GFP_NOWAIT,
 *	skip at the cap. Else the writer's (the worker's, a debugfs
 *	request's): may sleep for memory and for room, and mz_wb_wait_all()
 *	waits for the writes later.
 * @err: set to the last reason an entry was not submitted (-EAGAIN: no
 *	room in flight, -ENOMEM; an entry gone meanwhile is no reason)
 *
 * The entries came off the LRU and may be freed already: each is only
 * compared with the tree's entry until a reference is taken (lru.c, rule
 * 1). Their writes are submitted under one plug, or inside a ->submit_bio
 * handed to a worker that submits them (rule 7); each completes on its own
 * (rules 5 and 6). An entry not submitted goes back on the LRU if it is
 * still in the tree. The caller is on the writeback side
 * (mz_writeback_begin()).
 *
 * Returns how many writes were submitted: what this call will free, if
 * the writes succeed and the entries are still there.
 */
unsigned int mz_writeback_submit(struct mz_lru_item *it, unsigned int nr,
				 struct mem_cgroup *memcg,
				 struct mz_wb_wait *wait, int *err)
{
	struct cgroup_subsys_state *css = mz_memcg_io_css(memcg);
	unsigned int i, submitted = 0;
	unsigned long charge = 0;
	struct blk_plug plug;
	struct mz_wb_io *io;
	int ret;

	blk_start_plug(&plug);
	for (i = 0; i < nr; i++) {
		io = mz_wb_prepare(&it[i], wait, memcg, css, &ret);
		if (io) {
			/* Before the submission: the write may end, @io go. */
			charge += io->charge;
			if (!wait || current->bio_list)
				mz_wb_defer(io);	/* rule 7 */
			else
				submit_bio(&io->bio);
			submitted++;
			continue;
		}
		if (ret == -ENOENT || ret == -EBUSY)
			continue;
		*err = ret;
		/* Reclaim gives up at the cap or out of memory: put back. */
		if (!wait && (ret == -EAGAIN || ret == -ENOMEM)) {
			while (++i < nr)
				mz_tree_lru_putback(it[i].e, it[i].slot);
			break;
		}
	}
	blk_finish_plug(&plug);
	if (css)
		css_put(css);
	if (!wait)
		mz_wb_credit_reclaim(memcg, charge);
	return submitted;
}

/*********************************
 * init and exit
 **********************************/
int mz_writeback_init(void)
{
	int err;

	err = bioset_init(&mz_bioset, BIO_POOL_SIZE,
			  offsetof(struct mz_wb_io, bio),
			  BIOSET_NEED_BVECS | BIOSET_NEED_RESCUER);
	if (err)
		return err;
	/* WQ_MEM_RECLAIM: completions free memory; their own rescuer. */
	mz_wb_wq = alloc_workqueue("mzswap_wb", WQ_UNBOUND | WQ_MEM_RECLAIM,
				   0);
	if (!mz_wb_wq) {
		bioset_exit(&mz_bioset);
		return -ENOMEM;
	}
	return 0;
}

/* After the last backing I/O was drained (mz_writeback_stop()). */
void mz_writeback_exit(void)
{
	destroy_workqueue(mz_wb_wq);
	bioset_exit(&mz_bioset);
}
