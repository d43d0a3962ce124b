// SPDX-License-Identifier: GPL-2.0
/*
 * mzswap LRU: one list_lru, memcg- and NUMA-aware.
 *
 * On 6.1 list_lru_add() files an item under the node of its memory and the
 * cgroup its slab object is charged to; entries come from a SLAB_ACCOUNT
 * cache through kmem_cache_alloc_lru() charged to the page's owner, so
 * each cgroup's entries sit on that cgroup's own lists, and the kernel
 * moves them to the parent's when the cgroup goes offline.
 *
 * Order: entries are added at the tail when stored, so the head is the
 * coldest. A new entry starts referenced: the first walk that meets it
 * clears the bit and rotates it (second chance); the next one writes it
 * back.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/list_lru.h>

#include "internal.h"
#include <trace/events/mzswap.h>

struct list_lru mz_lru;

int mz_lru_init(struct shrinker *shrinker)
{
	return list_lru_init_memcg(&mz_lru, shrinker);
}

void mz_lru_exit(void)
{
	list_lru_destroy(&mz_lru);
}

/* Caller holds the tree lock (entry.c, rule 1). */
void mz_lru_add(struct mz_entry *e)
{
	WRITE_ONCE(e->referenced, 1);
	list_lru_add(&mz_lru, &e->lru);
}

void mz_lru_del(struct mz_entry *e)
{
	list_lru_del(&mz_lru, &e->lru);
}

unsigned long mz_lru_count(int nid, struct mem_cgroup *memcg)
{
	return list_lru_count_one(&mz_lru, nid, memcg);
}

struct mz_lru_walk {
	unsigned long *nr_to_walk;
	unsigned long nr_to_write;
	unsigned long written;
	unsigned int nr;		/* isolated, waiting in batch[] */
	int err;
	struct mz_wb_item batch[MZ_WB_BATCH];
};

/* Write back what the walk isolated. Called without the list's lock. */
static void mz_lru_flush(struct mz_lru_walk *walk)
{
	int err;

	if (!walk->nr)
		return;
	err = mz_writeback_batch(walk->batch, walk->nr, &walk->written);
	walk->nr = 0;
	if (err) {
		walk->err = err;
		/* Out of memory: stop. */
		if (err == -ENOMEM)
			*walk->nr_to_walk = 0;
	}
}

/*
 * Called by list_lru_walk_one() with @lock, the lock of @l, held.
 *
 * Isolated entries wait in the walk's batch; a full batch is written back
 * with @lock dropped, the rest after the walk. Lifetime rules from the
 * moment an entry is isolated:
 *  1. Isolation took the entry off the LRU, but an invalidation, a new
 *     store to the slot, or a reset can still erase and free it: the
 *     entry is not ours. Only its slot is copied out here, and the entry
 *     is not dereferenced again until mz_writeback_batch() finds the same
 *     pointer in the tree under the tree lock and takes a reference.
 *  2. If the writeback fails, mz_writeback_batch() puts the entry back on
 *     the LRU, provided it is still in the tree (under the tree lock).
 *  3. Once @lock was dropped the list may have changed: tell the walker
 *     to restart.
 */
static enum lru_status mz_lru_isolate(struct list_head *item,
				      struct list_lru_one *l,
				      spinlock_t *lock, void *arg)
	__must_hold(lock)
{
	struct mz_entry *e = container_of(item, struct mz_entry, lru);
	struct mz_lru_walk *walk = arg;

	if (READ_ONCE(e->referenced)) {
		WRITE_ONCE(e->referenced, 0);
		return LRU_ROTATE;
	}

	list_lru_isolate(l, item);
	walk->batch[walk->nr].e = e;
	walk->batch[walk->nr].slot = e->slot;
	walk->nr++;
	/* Enough isolated to write the rest: stop the walk. */
	if (walk->written + walk->nr >= walk->nr_to_write)
		*walk->nr_to_walk = 0;
	if (walk->nr < MZ_WB_BATCH)
		return LRU_REMOVED;

	spin_unlock(lock);
	mz_lru_flush(walk);
	spin_lock(lock);
	return LRU_REMOVED_RETRY;
}

/**
 * mz_lru_shrink - write back cold entries of @memcg on node @nid
 * @nid: the node
 * @memcg: the cgroup whose list to walk (NULL or root: the root's)
 * @nr_to_scan: look at most at this many entries
 * @nr_to_write: stop after writing back this many
 * @freed: incremented by the number written back
 *
 * Returns how many entries the walk scanned. The caller holds the writeback
 * side (mz_writeback_begin()).
 */
unsigned long mz_lru_shrink(int nid, struct mem_cgroup *memcg,
			    unsigned long nr_to_scan, unsigned long nr_to_write,
			    unsigned long *freed)
{
	unsigned long nr = nr_to_scan;
	struct mz_lru_walk walk = {
		.nr_to_walk = &nr,
		.nr_to_write = nr_to_write,
	};

	if (!nr_to_write)
		return 0;

	list_lru_walk_one(&mz_lru, nid, memcg, mz_lru_isolate, &walk, &nr);
	mz_lru_flush(&walk);
	*freed += walk.written;
	return nr_to_scan - nr;
}
