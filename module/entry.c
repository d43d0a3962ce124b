// SPDX-License-Identifier: GPL-2.0
/*
 * mzswap entries and the slot tree.
 *
 * The tree (mz_dev.tree, an xarray) maps a slot to the entry holding its
 * data. Rules, all enforced here:
 *
 *  1. An entry is added to the LRU under the tree lock, after it is in the
 *     tree, and its record is added before it enters the tree. Hence
 *     whoever erases it from the tree (under the same lock) finds it on
 *     both lists, or isolated from the LRU by a writeback that will not
 *     put it back (writeback.c, rules 4 to 6).
 *  2. The one that erases an entry from the tree removes it from the LRU
 *     and from its owner's records, then drops the tree's reference.
 *  3. Nobody dereferences an entry found any other way (an LRU walk)
 *     before finding it again in the tree under the tree lock and taking a
 *     reference there.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sched/mm.h>

#include "internal.h"
#include <trace/events/mzswap.h>

/* SLAB_ACCOUNT: an entry is charged to the cgroup that owned the page. */
static struct kmem_cache *mz_entry_cache;

/*
 * Metadata per stored page (issue 14): was 72 with a compressor pointer,
 * 64 with an owner pointer. At 56 bytes a 4 KiB slab holds 73 entries,
 * whose memcg vector (SLAB_ACCOUNT: 8 bytes an object) is one kmalloc-1k:
 * 70 bytes a page, where 64 and kmalloc-512 made 72, zswap's whole entry.
 */
static_assert(sizeof(struct mz_entry) <= 56);

int mz_entry_cache_init(void)
{
	mz_entry_cache = kmem_cache_create("mzswap_entry",
					   sizeof(struct mz_entry), 0,
					   SLAB_ACCOUNT, NULL);
	return mz_entry_cache ? 0 : -ENOMEM;
}

void mz_entry_cache_exit(void)
{
	kmem_cache_destroy(mz_entry_cache);
}

/**
 * mz_entry_alloc - allocate an entry charged to @memcg
 * @memcg: the owner of the page, or NULL for the current task's cgroup
 * @gfp: allocation flags
 *
 * kmem_cache_alloc_lru() also allocates @memcg's list of mz_lru if it has
 * none yet, so that mz_lru_add() can put the entry on it.
 */
struct mz_entry *mz_entry_alloc(struct mem_cgroup *memcg, gfp_t gfp)
{
	struct mem_cgroup *old;
	struct mz_entry *e;

	if (mz_should_fail(MZ_FAULT_entry_alloc))
		return NULL;
	old = set_active_memcg(memcg);
	e = kmem_cache_alloc_lru(mz_entry_cache, &mz_lru, gfp);
	set_active_memcg(old);
	if (!e)
		return NULL;
	INIT_LIST_HEAD(&e->lru);
	INIT_LIST_HEAD(&e->record);
	e->owner = 0;
	e->comp = 0;
	e->handle = 0;
	e->length = 0;
	e->referenced = 0;
	refcount_set(&e->refs, 1);
	return e;
}

/* Drop a reference; the last one frees the payload and the entry. */
void mz_entry_put(struct mz_entry *e)
{
	if (!refcount_dec_and_test(&e->refs))
		return;
	if (mz_entry_unpacked(e)) {
		__free_page(mz_entry_page(e));
		mz_stat_add(MZ_STAT_unpacked_pages, -1);
	} else if (!mz_entry_same_filled(e)) {
		mz_pool_free(e->handle, e->length);
		mz_comp_entry_del(e->comp);
	}
	kmem_cache_free(mz_entry_cache, e);
}

/*********************************
 * payloads
 **********************************/

/**
 * mz_payload_compress - compress a page into a new payload
 * @src: the page's data, mapped
 * @memcg: the cgroup to charge (slab allocator), or NULL for the current
 *	task's
 * @gfp: flags for the payload; never direct reclaim (a store is most
 *	likely in reclaim already, a repack in a completion worker)
 * @p: filled in on success; holds a reference on the compressor (its
 *	index) until mz_payload_free() or until it becomes an entry's
 *
 * Returns 0, or the counter that says why the page cannot be kept.
 */
int mz_payload_compress(const void *src, struct mem_cgroup *memcg, gfp_t gfp,
			struct mz_payload *p)
{
	unsigned int dlen, max = PAGE_SIZE * mz_max_compressed_percent / 100;
	struct mz_comp_ctx *ctx;
	struct mz_comp *comp;
	unsigned long handle;
	int reason = 0;

	comp = mz_comp_get_current();
	if (!comp)
		return MZ_STAT_reject_compress_fail;

	ctx = mz_comp_ctx_get(comp);
	if (mz_comp_compress(ctx, src, &dlen)) {
		reason = MZ_STAT_reject_compress_fail;
		goto put_ctx;
	}
	if (dlen > max) {
		reason = MZ_STAT_reject_compress_poor;
		goto put_ctx;
	}
	handle = mz_pool_alloc(dlen, memcg, gfp);
	if (!handle) {
		reason = MZ_STAT_reject_alloc_fail;
		goto put_ctx;
	}
	memcpy(mz_pool_map_write(handle), ctx->buf, dlen);
	mz_pool_unmap(handle);
	mz_comp_ctx_put(comp);

	p->comp = mz_comp_entry_add(comp);
	p->handle = handle;
	p->length = dlen;
	return 0;

put_ctx:
	mz_comp_ctx_put(comp);
	mz_comp_put(comp);
	return reason;
}

void mz_payload_free(const struct mz_payload *p)
{
	mz_pool_free(p->handle, p->length);
	mz_comp_entry_del(p->comp);
}

/* Rule 2: @e was just erased from the tree by the caller. */
static void mz_entry_removed(struct mz_entry *e)
{
	mz_lru_del(e);
	mz_record_del(e);
	mz_stat_add(MZ_STAT_stored_pages, -1);
	if (mz_entry_same_filled(e))
		mz_stat_add(MZ_STAT_same_filled_pages, -1);
	mz_entry_put(e);
}

/**
 * mz_tree_insert - make @e the entry of its slot
 * @e: the new entry, filled in
 *
 * @e must already be on its owner's records. Replaces (and frees) an entry
 * still held for the slot: swap_slot_free_notify is best effort upstream.
 * Returns -ENOMEM if the tree could not grow; @e is untouched then.
 */
int mz_tree_insert(struct mz_entry *e)
{
	struct mz_entry *old;

	xa_lock(&mz_dev.tree);
	old = __xa_store(&mz_dev.tree, e->slot, e, GFP_NOWAIT | __GFP_NOWARN);
	if (xa_is_err(old)) {
		xa_unlock(&mz_dev.tree);
		return xa_err(old);
	}
	mz_lru_add(e);	/* rule 1 */
	xa_unlock(&mz_dev.tree);

	mz_stat_inc(MZ_STAT_stored_pages);
	if (mz_entry_same_filled(e))
		mz_stat_inc(MZ_STAT_same_filled_pages);
	if (old) {
		mz_stat_inc(MZ_STAT_duplicate_entry);
		mz_entry_removed(old);
	}
	return 0;
}

/* The entry of @slot with a reference, or NULL. */
struct mz_entry *mz_tree_get(u32 slot)
{
	struct mz_entry *e;

	xa_lock(&mz_dev.tree);
	e = xa_load(&mz_dev.tree, slot);
	if (e)
		refcount_inc(&e->refs);
	xa_unlock(&mz_dev.tree);
	return e;
}

/*
 * Free the entry of @slot, if any. Never sleeps: swap_slot_free_notify
 * calls it under the swap device's spinlock.
 */
bool mz_tree_invalidate(u32 slot)
{
	struct mz_cgroup *owner;
	struct mz_entry *e;

	xa_lock(&mz_dev.tree);
	e = __xa_erase(&mz_dev.tree, slot);
	xa_unlock(&mz_dev.tree);
	if (!e)
		return false;
	/* A reparenting pass may move @e and free its old owner meanwhile. */
	rcu_read_lock();
	owner = mz_entry_owner(e);
	trace_mzswap_invalidate(slot, owner ? owner->id : 0);
	rcu_read_unlock();
	mz_stat_inc(MZ_STAT_invalidations);
	mz_entry_removed(e);
	return true;
}

/*
 * Erase @e if it is still the entry of its slot. The caller holds a
 * reference on @e (it may have been erased and replaced meanwhile).
 */
bool mz_tree_erase_if(struct mz_entry *e)
{
	bool erased = false;

	xa_lock(&mz_dev.tree);
	if (xa_load(&mz_dev.tree, e->slot) == e) {
		__xa_erase(&mz_dev.tree, e->slot);
		erased = true;
	}
	xa_unlock(&mz_dev.tree);
	if (erased)
		mz_entry_removed(e);
	return erased;
}

/*
 * Put @e back on the LRU after a failed writeback, if it is still the entry
 * of @slot. @e may be freed already (rule 3): it is only dereferenced once
 * found in the tree. Under the tree lock, so that an eraser's mz_lru_del()
 * follows (rule 1).
 */
void mz_tree_lru_putback(struct mz_entry *e, u32 slot)
{
	xa_lock(&mz_dev.tree);
	if (xa_load(&mz_dev.tree, slot) == e)
		mz_lru_add(e);
	xa_unlock(&mz_dev.tree);
}

/*
 * Free every entry. No I/O and no writeback may be running. Sleeps: the
 * tree may hold millions of entries (a backing change, rmmod), and
 * xa_for_each() holds no lock between steps, so we may reschedule at each.
 */
void mz_tree_drop_all(void)
{
	unsigned long slot;
	struct mz_entry *e;

	might_sleep();
	xa_for_each(&mz_dev.tree, slot, e) {
		mz_tree_invalidate(slot);
		cond_resched();
	}
}
