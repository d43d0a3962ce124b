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

/* One bounded walk: the state mz_lru_isolate_one() fills. */
struct mz_lru_walk {
	unsigned long nr_to_walk;	/* list_lru_walk_one()'s budget */
	unsigned long scanned;		/* entries looked at */
	struct mz_lru_item *items;
	unsigned int max;		/* room in @items */
	unsigned int nr;		/* isolated into @items */
};

/*
 * Called by list_lru_walk_one() with @lock, the lock of @l, held. It never
 * drops @lock: the walk's whole work under it is bounded by its budget
 * (MZ_LRU_CHUNK at most). Lifetime rules from the moment an entry is
 * isolated:
 *  1. Isolation took the entry off the LRU, but an invalidation, a new
 *     store to the slot, or a reset can still erase and free it: the
 *     entry is not ours. Only its slot is copied out here, and the entry
 *     is not dereferenced again until the caller's consumer
 *     (mz_writeback_submit()) finds the same pointer in the tree under the
 *     tree lock and takes a reference.
 *  2. If the writeback fails or is not even tried, the consumer puts the
 *     entry back on the LRU, provided it is still in the tree (under the
 *     tree lock, mz_tree_lru_putback()).
 */
static enum lru_status mz_lru_isolate_one(struct list_head *item,
					  struct list_lru_one *l,
					  spinlock_t *lock, void *arg)
	__must_hold(lock)
{
	struct mz_entry *e = container_of(item, struct mz_entry, lru);
	struct mz_lru_walk *walk = arg;

	walk->scanned++;
	if (READ_ONCE(e->referenced)) {
		WRITE_ONCE(e->referenced, 0);
		return LRU_ROTATE;
	}

	list_lru_isolate(l, item);
	walk->items[walk->nr].e = e;
	walk->items[walk->nr].slot = e->slot;
	/* Full: stop the walk (list_lru_walk_one() checks before each item). */
	if (++walk->nr == walk->max)
		walk->nr_to_walk = 0;
	return LRU_REMOVED;
}

/**
 * mz_lru_isolate - take up to @max cold entries of @memcg on node @nid
 * @nid: the node
 * @memcg: the cgroup whose list to walk (NULL or root: the root's)
 * @nr_to_walk: look at no more than this many entries (capped at
 *	MZ_LRU_CHUNK: one hold of the list's lock, which 6.1 shares among
 *	every memcg of the node)
 * @items: where to put the isolated entries and their slots
 * @max: room in @items
 * @scanned: incremented by the number of entries looked at, rotated or
 *	isolated (exactly: a walk stopped early counts only what it saw)
 *
 * Referenced entries get their second chance: the bit is cleared and the
 * entry rotated to the tail. Returns how many were isolated; the caller
 * owns them under rules 1 and 2 above. A caller that walks more than one
 * chunk calls again, with cond_resched() in between.
 */
unsigned int mz_lru_isolate(int nid, struct mem_cgroup *memcg,
			    unsigned long nr_to_walk, struct mz_lru_item *items,
			    unsigned int max, unsigned long *scanned)
{
	struct mz_lru_walk walk = {
		.nr_to_walk = min_t(unsigned long, nr_to_walk, MZ_LRU_CHUNK),
		.items = items,
		.max = max,
	};

	if (!max || !walk.nr_to_walk)
		return 0;
	list_lru_walk_one(&mz_lru, nid, memcg, mz_lru_isolate_one, &walk,
			  &walk.nr_to_walk);
	*scanned += walk.scanned;
	return walk.nr;
}
