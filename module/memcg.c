// SPDX-License-Identifier: GPL-2.0
/*
 * mzswap per-cgroup state: records, counters, limits, writeback switches,
 * and the reparenting pass.
 *
 * Every stored entry is a slot->cgroup record: it points at the
 * struct mz_cgroup of its owner and sits on that mz_cgroup's record list.
 * The kernel reparents an offline cgroup's list_lru items and slab charges
 * itself; it knows nothing of these records, so when a cgroup is removed a
 * pass here moves its records, counters and limit accounting to the
 * nearest live ancestor, in time proportional to the cgroup's own records.
 *
 * Existence guarantees, the question to ask of every pointer here:
 *  - struct mem_cgroup: the store path holds a css reference on the page's
 *    memcg; ancestors are pinned by their children. Nothing here keeps a
 *    css reference beyond one call.
 *  - struct mz_cgroup found in mz_cgroups: valid inside an RCU read section
 *    (freed with kfree_rcu); usable beyond it only with a kref taken by
 *    kref_get_unless_zero() inside that section.
 *  - mz_cgroup.parent: a child holds a kref on its parent until it is
 *    freed, so walking up ->parent from a referenced mz_cgroup is safe.
 *    The chain is as deep as the cgroup tree, which a user can make as
 *    deep as he likes (cgroup.max.depth is "max", and systemd delegates
 *    the memory controller to user sessions): every walk of it, up or
 *    down, is a loop, never a recursion (the store path runs in reclaim,
 *    on the stack of whoever allocated).
 *  - mz_entry.owner, an index in mz_owners (mz_entry_owner()): the owner
 *    cannot be freed while the entry is on its record list, and a
 *    reparenting pass changes the index under both the old and the new
 *    owner's lock before the old one can be freed. Readers outside the
 *    owner's lock use RCU (see mz_entry_lock_owner()): an index read
 *    before a pass moved the entry finds the old owner, dead but not yet
 *    freed, or none once it is freed; it finds another cgroup only if the
 *    index was given out again in between, which mz_owners' cyclic
 *    allocation does only after 2^32 more cgroups.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/blkdev.h>
#include <linux/cgroup.h>
#include <linux/delay.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/swap.h>
#include <linux/kref.h>
#include <linux/ktime.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/tracepoint.h>

#include "internal.h"
#include <trace/events/mzswap.h>

/* cgroup id -> struct mz_cgroup; holds one kref on each. */
static DEFINE_XARRAY(mz_cgroups);
/*
 * mz_cgroup.idx -> struct mz_cgroup, from its allocation to its freeing;
 * holds no reference. IRQ-safe: the last reference may be dropped when a
 * bio completes (mz_pass_end()).
 */
static DEFINE_XARRAY_FLAGS(mz_owners, XA_FLAGS_ALLOC1 | XA_FLAGS_LOCK_IRQ);
static u32 mz_owners_next;
/* The root cgroup's state: never dies, owns records of uncharged pages. */
static struct mz_cgroup *mz_root_cgroup;
/* The root memcg (a reference held for the module's lifetime). */
struct mem_cgroup *mz_root_memcg;

/* mz_cgroups whose cgroup was removed, waiting for a reparenting pass. */
static LIST_HEAD(mz_dead_list);
static DEFINE_SPINLOCK(mz_dead_lock);
/* Serialises reparenting passes (and the sweep that feeds them). */
static DEFINE_MUTEX(mz_reparent_mutex);
static void mz_reparent_workfn(struct work_struct *work);
static DECLARE_WORK(mz_reparent_work, mz_reparent_workfn);
static void mz_sweep_workfn(struct work_struct *work);
static DECLARE_DELAYED_WORK(mz_sweep_work, mz_sweep_workfn);

/*
 * mz_cgroups with a cgroup_max set, live or dead and not yet freed: while
 * there are none, a store looks for no limit (mz_cgroup_limit_hit()).
 */
static atomic_t mz_nr_limits = ATOMIC_INIT(0);

/* Reparent at most this many records per lock hold. */
#define MZ_REPARENT_BATCH	512
/* Visit at most this many memcgs per RCU read section. */
#define MZ_WALK_BATCH		64

u64 mz_memcg_id(struct mem_cgroup *memcg)
{
	return memcg ? cgroup_id(memcg->css.cgroup) : 0;
}

/*********************************
 * lifetime
 **********************************/
static struct mz_cgroup *mz_cgroup_alloc(u64 id, struct mz_cgroup *parent,
					 gfp_t gfp)
{
	struct mz_cgroup *mzc = kzalloc(sizeof(*mzc), gfp);

	if (!mzc)
		return NULL;
	if (xa_alloc_cyclic_irq(&mz_owners, &mzc->idx, mzc, xa_limit_32b,
				&mz_owners_next, gfp) < 0) {
		kfree(mzc);
		return NULL;
	}
	spin_lock_init(&mzc->lock);
	INIT_LIST_HEAD(&mzc->records);
	INIT_LIST_HEAD(&mzc->dead_node);
	kref_init(&mzc->kref);
	init_waitqueue_head(&mzc->pass_wait);
	mzc->id = id;
	mzc->parent = parent;
	mzc->max_bytes = U64_MAX;
	return mzc;
}

/* @mzc's index is free for another; any context. */
static void mz_owners_erase(struct mz_cgroup *mzc)
{
	unsigned long flags;

	xa_lock_irqsave(&mz_owners, flags);
	__xa_erase(&mz_owners, mzc->idx);
	xa_unlock_irqrestore(&mz_owners, flags);
}

/* Free an @mzc that was never published: nobody else can have seen it. */
static void mz_cgroup_free_unseen(struct mz_cgroup *mzc)
{
	mz_owners_erase(mzc);
	kfree(mzc);
}

/* The last reference is gone; the parent's is the caller's to drop. */
static void mz_cgroup_release(struct kref *kref)
{
	struct mz_cgroup *mzc = container_of(kref, struct mz_cgroup, kref);

	WARN_ON_ONCE(!list_empty(&mzc->records));
	if (mzc->max_bytes != U64_MAX)
		atomic_dec(&mz_nr_limits);
	mz_owners_erase(mzc);
	kfree_rcu(mzc, rcu);
}

/*
 * Drop a reference to @mzc. Freeing a child drops its reference to its
 * parent, which may free the parent, and so on up: a loop, not a
 * recursion through the release function.
 */
void mz_cgroup_put(struct mz_cgroup *mzc)
{
	struct mz_cgroup *parent;

	while (mzc) {
		/* Read while we still hold our reference. */
		parent = mzc->parent;
		if (!kref_put(&mzc->kref, mz_cgroup_release))
			return;
		/* The freed child's reference to @parent is ours to drop. */
		mzc = parent;
	}
}

static void mz_cgroup_queue_dead(struct mz_cgroup *mzc)
{
	bool queue = false;

	spin_lock(&mz_dead_lock);
	if (!mzc->queued && mzc != mz_root_cgroup) {
		mzc->queued = true;
		kref_get(&mzc->kref);
		list_add_tail(&mzc->dead_node, &mz_dead_list);
		queue = true;
	}
	spin_unlock(&mz_dead_lock);
	if (queue)
		queue_work(mz_wq, &mz_reparent_work);
}

/*
 * The state of @memcg itself if it has some, with a reference, else NULL.
 * The root always has state.
 */
static struct mz_cgroup *mz_cgroup_tryget(struct mem_cgroup *memcg)
{
	struct mz_cgroup *mzc;

	if (!parent_mem_cgroup(memcg)) {
		kref_get(&mz_root_cgroup->kref);
		return mz_root_cgroup;
	}
	rcu_read_lock();
	mzc = xa_load(&mz_cgroups, mz_memcg_id(memcg));
	if (mzc && !kref_get_unless_zero(&mzc->kref))
		mzc = NULL;	/* erased and being freed: as if absent */
	rcu_read_unlock();
	return mzc;
}

/*
 * Publish @mzc (parent set, holding the reference the caller had on it)
 * in mz_cgroups. Returns the state now in mz_cgroups for its id with a
 * reference for the caller: @mzc, or the one of a creator who won a race
 * (then @mzc is freed). NULL if there is no memory for the tree, or an
 * older state of the id is still being freed; @mzc is freed then too.
 */
static struct mz_cgroup *mz_cgroup_insert(struct mz_cgroup *mzc, gfp_t gfp)
{
	struct mz_cgroup *old;

	/* Window for tests: a sweep running meanwhile must not hurt. */
	if (mz_should_fail(MZ_FAULT_sweep_race))
		mdelay(10);

	/* One reference for mz_cgroups, one for the caller. */
	kref_get(&mzc->kref);
	xa_lock(&mz_cgroups);
	old = __xa_cmpxchg(&mz_cgroups, mzc->id, NULL, mzc, gfp);
	if (!old) {
		xa_unlock(&mz_cgroups);
		return mzc;
	}
	/* Lost a race with another creator: use theirs. */
	if (xa_is_err(old) || !kref_get_unless_zero(&old->kref))
		old = NULL;	/* no memory, or an old one dying: give up */
	xa_unlock(&mz_cgroups);
	/* Never visible: nobody else has a reference. */
	mz_cgroup_put(mzc->parent);
	mz_cgroup_free_unseen(mzc);
	return old;
}

/*
 * The mz_cgroup of @memcg with a reference, created if needed with its
 * missing ancestors. @memcg must be live and pinned by the caller. Returns
 * NULL only if an allocation fails.
 *
 * Iterative, whatever the depth: walk up to the nearest ancestor that has
 * state, allocating one mz_cgroup per level on the way (on @chain, the
 * topmost first), then publish them top down, each the parent of the
 * next. The memcgs need no reference: the caller's pins @memcg, and a
 * css pins its parent.
 */
static struct mz_cgroup *mz_cgroup_get_or_create(struct mem_cgroup *memcg,
						 gfp_t gfp)
{
	struct mz_cgroup *mzc, *parent, *tmp;
	struct mem_cgroup *pos;
	unsigned int levels = 0;
	LIST_HEAD(chain);

	for (pos = memcg;; pos = parent_mem_cgroup(pos)) {
		parent = mz_cgroup_tryget(pos);
		if (parent)
			break;
		mzc = mz_cgroup_alloc(mz_memcg_id(pos), NULL, gfp);
		if (!mzc)
			goto create_fail;
		list_add(&mzc->dead_node, &chain);
		levels++;
	}

	/* @parent: referenced; each level takes over the reference above. */
	list_for_each_entry_safe(mzc, tmp, &chain, dead_node) {
		list_del_init(&mzc->dead_node);
		mzc->parent = parent;
		parent = mz_cgroup_insert(mzc, gfp);
		if (!parent)
			goto create_fail;
	}
	mzc = parent;

	/*
	 * A cgroup may have been removed since the caller found @memcg live,
	 * and its removal probe may have run before we were in mz_cgroups.
	 * Look again now that we are visible: a removal from here on finds
	 * us; one before, we see. An ancestor dies only after @memcg, but
	 * look at each level we created: it costs nothing next to creating.
	 */
	smp_mb();	/* our insertions before the liveness checks */
	for (tmp = mzc, pos = memcg; levels--;
	     tmp = tmp->parent, pos = parent_mem_cgroup(pos))
		if (!mz_memcg_live(pos))
			mz_cgroup_queue_dead(tmp);
	return mzc;

create_fail:
	/* The levels not published yet; no reference is held on them. */
	list_for_each_entry_safe(mzc, tmp, &chain, dead_node)
		mz_cgroup_free_unseen(mzc);
	return NULL;
}

/*
 * The nearest existing mz_cgroup at or above @memcg, or NULL. RCU read
 * section held by the caller; no reference taken.
 */
static struct mz_cgroup *mz_cgroup_lookup_rcu(struct mem_cgroup *memcg)
{
	for (; memcg; memcg = parent_mem_cgroup(memcg)) {
		struct mz_cgroup *mzc;

		if (!parent_mem_cgroup(memcg))
			return mz_root_cgroup;
		mzc = xa_load(&mz_cgroups, mz_memcg_id(memcg));
		if (mzc)
			return mzc;
	}
	return mz_root_cgroup;
}

/**
 * mz_cgroup_of - the mz_cgroup that should own a page of @memcg, referenced
 * @memcg: the page's memcg, pinned by the caller, or NULL
 *
 * The nearest live cgroup at or above @memcg: a page of a removed cgroup
 * is recorded in its nearest live ancestor's. @memcg may be NULL (an
 * uncharged page): the root's.
 */
struct mz_cgroup *mz_cgroup_of(struct mem_cgroup *memcg)
{
	struct mz_cgroup *mzc;

	for (; memcg; memcg = parent_mem_cgroup(memcg)) {
		if (!mz_memcg_live(memcg))
			continue;
		mzc = mz_cgroup_get_or_create(memcg, GFP_NOWAIT | __GFP_NOWARN);
		if (mzc)
			return mzc;
		/*
		 * No memory: the nearest state that exists above. Trying to
		 * create each ancestor in turn would cost depth squared.
		 */
		break;
	}
	rcu_read_lock();
	mzc = memcg ? mz_cgroup_lookup_rcu(memcg) : mz_root_cgroup;
	if (!kref_get_unless_zero(&mzc->kref))
		mzc = NULL;	/* erased and being freed */
	rcu_read_unlock();
	if (!mzc) {
		kref_get(&mz_root_cgroup->kref);
		mzc = mz_root_cgroup;
	}
	return mzc;
}

/*********************************
 * records
 **********************************/

/*
 * A new entry is the likeliest to be loaded soon, and a page read back
 * from the disk says its cgroup works on written-back data: grow the
 * protected area by one, halving it whenever it passes a quarter of the
 * cgroup's entries (mainline zswap's nr_zswap_protected heuristic, from
 * LRU reclaim cost decay). Both halve: a cgroup that only reads back, and
 * stores nothing, would otherwise grow it past all its entries and keep
 * reclaim from every one of them for good. A hint, racy.
 */
static void mz_cgroup_protect(struct mz_cgroup *mzc)
{
	s64 v = atomic64_inc_return(&mzc->protected);

	if (v > READ_ONCE(mzc->nr_stored) / 4)
		atomic64_set(&mzc->protected, v / 2);
}

/*
 * Add @delta to the subtree bytes of @mzc and of each ancestor up to @stop
 * (not included) or the root (never counted). A loop, as deep as the
 * cgroup tree, of atomic adds, as page_counter_charge() is; no lock held.
 * The caller keeps @mzc from being freed (a reference, or an RCU read
 * section in which it was reachable), and with it its ancestors (each
 * pins its parent until it is freed after a grace period).
 *
 * The adds of one entry's store, resize, reparenting and free run in any
 * order against each other: each is the change along its own path, so
 * once all are done every cgroup's count is exact.
 */
static void mz_cgroup_subtree_add(struct mz_cgroup *mzc,
				  struct mz_cgroup *stop, s64 delta)
{
	for (; mzc && mzc != stop && mzc != mz_root_cgroup; mzc = mzc->parent)
		atomic64_add(delta, &mzc->subtree_bytes);
}

/* @mzc's subtree bytes; 0 while deltas in flight have it negative. */
static u64 mz_cgroup_subtree_bytes(struct mz_cgroup *mzc)
{
	s64 v = atomic64_read(&mzc->subtree_bytes);

	return v > 0 ? v : 0;
}

/**
 * mz_entry_owner - the mz_cgroup that records @e, NULL if none
 * @e: an entry the caller holds a reference on
 *
 * Valid inside an RCU read section, or while the owner's lock is held and
 * @e->owner is its index (the existence rules at the top of this file).
 */
struct mz_cgroup *mz_entry_owner(const struct mz_entry *e)
{
	u32 idx = READ_ONCE(e->owner);

	return idx ? xa_load(&mz_owners, idx) : NULL;
}

/**
 * mz_record_add - record @e as owned by @mzc
 * @e: an entry not yet in the tree
 * @mzc: its owner, referenced by the caller
 *
 * If @mzc died meanwhile, the record goes to its nearest live ancestor:
 * a dead mz_cgroup never gains records.
 */
void mz_record_add(struct mz_entry *e, struct mz_cgroup *mzc)
{
	for (;;) {
		spin_lock(&mzc->lock);
		if (!mzc->dead)
			break;
		spin_unlock(&mzc->lock);
		mzc = mzc->parent;	/* pinned by the child's reference */
	}
	list_add_tail(&e->record, &mzc->records);
	WRITE_ONCE(e->owner, mzc->idx);
	mzc->nr_stored++;
	if (mz_entry_same_filled(e))
		mzc->nr_same_filled++;
	mzc->compressed_bytes += e->length;
	mz_cgroup_protect(mzc);
	spin_unlock(&mzc->lock);
	/* @e is in no tree yet: its length is ours. */
	mz_cgroup_subtree_add(mzc, NULL, e->length);
}

/*
 * Lock and return the owner recording @e, NULL if @e is recorded by none.
 * Called inside an RCU read section, which keeps the owner returned alive
 * once it is unlocked.
 *
 * A reparenting pass may move @e between the read of its index and the
 * lock, so the index is compared again under the lock. An index that finds
 * no owner was read before a pass moved @e, and the old owner has been
 * freed since: the pass stored the new index before it could be, so the
 * next read finds it.
 *
 * The lock is the caller's to drop: sparse is told it changes hands here
 * (__release()) and in the caller (__acquire()).
 */
static struct mz_cgroup *mz_entry_lock_owner(struct mz_entry *e)
{
	struct mz_cgroup *mzc;

	for (;;) {
		if (!READ_ONCE(e->owner))
			return NULL;
		mzc = mz_entry_owner(e);
		if (!mzc) {
			cpu_relax();
			continue;
		}
		spin_lock(&mzc->lock);
		if (READ_ONCE(e->owner) == mzc->idx) {
			__release(&mzc->lock);
			return mzc;
		}
		spin_unlock(&mzc->lock);
	}
}

/* Remove @e from its owner's records, if it has one. */
void mz_record_del(struct mz_entry *e)
{
	struct mz_cgroup *mzc;

	rcu_read_lock();
	mzc = mz_entry_lock_owner(e);
	if (!mzc) {
		rcu_read_unlock();
		return;	/* never recorded */
	}
	__acquire(&mzc->lock);
	list_del_init(&e->record);
	mzc->nr_stored--;
	if (mz_entry_same_filled(e))
		mzc->nr_same_filled--;
	mzc->compressed_bytes -= e->length;
	WRITE_ONCE(e->owner, 0);
	spin_unlock(&mzc->lock);
	/*
	 * A pass may move @mzc's other records and free it now; the read
	 * section keeps it and its ancestors until the walk is done. @e is
	 * the caller's: its length stays.
	 */
	mz_cgroup_subtree_add(mzc, NULL, -(s64)e->length);
	rcu_read_unlock();
}

/**
 * mz_record_set_length - @e's payload changed size: now @length bytes
 * @e: a recorded entry; the caller holds the tree lock and @e is in the
 *	tree, so @e stays recorded (an eraser removes the record after it)
 * @length: the new compressed size, 0 for none (struct mz_entry, "Payload")
 *
 * @e->length and its owner's compressed_bytes change together under the
 * owner's lock (mz_entry_lock_owner()), so every sum over the
 * records (check, reparenting) agrees with the counter.
 */
void mz_record_set_length(struct mz_entry *e, u16 length)
{
	struct mz_cgroup *mzc;
	s64 delta;

	rcu_read_lock();
	mzc = mz_entry_lock_owner(e);
	if (WARN_ON_ONCE(!mzc)) {
		/* Not recorded: no count holds its length. */
		e->length = length;
		rcu_read_unlock();
		return;
	}
	__acquire(&mzc->lock);
	delta = (s64)length - e->length;
	mzc->compressed_bytes += delta;
	e->length = length;
	spin_unlock(&mzc->lock);
	/* As in mz_record_del(). */
	mz_cgroup_subtree_add(mzc, NULL, delta);
	rcu_read_unlock();
}

/*********************************
 * limits and switches
 **********************************/
/*
 * The nearest of @mzc and its ancestors whose limit (cgroup_max) @more
 * compressed bytes of @mzc would pass, or NULL: each limit bounds its
 * subtree's bytes, as memory.zswap.max does. A loop, as deep as the cgroup
 * tree, and none while no limit is set; the caller holds a reference on
 * @mzc, which pins its ancestors, the one returned too. Racy as the counts
 * are: stores side by side may each find the room one of them takes.
 */
struct mz_cgroup *mz_cgroup_limit_hit(struct mz_cgroup *mzc,
				      unsigned int more)
{
	u64 max;

	if (!atomic_read(&mz_nr_limits))
		return NULL;
	for (; mzc && mzc != mz_root_cgroup; mzc = mzc->parent) {
		max = READ_ONCE(mzc->max_bytes);
		if (max != U64_MAX && mz_cgroup_subtree_bytes(mzc) + more > max)
			return mzc;
	}
	return NULL;
}

/*
 * Poorly compressing data, as incompressible_streak detects it: once that
 * many stores of @mzc in a row compressed worse than
 * max_compressed_percent, each of its stores goes to the backing device
 * without compression, but one in MZ_POOR_PROBE that tries, and whose
 * success ends the streak (mz_cgroup_note_compress()): a compression that
 * fails is CPU time spent for nothing. @mzc->poor is a hint, read and
 * updated without a lock: a race costs a compression, or skips one.
 */
#define MZ_POOR_PROBE	16

bool mz_cgroup_skip_compress(struct mz_cgroup *mzc)
{
	unsigned int streak = READ_ONCE(mz_incompressible_streak);
	int poor = atomic_read(&mzc->poor);

	if (!streak || poor < streak)
		return false;
	/* Stay clear of the wrap, in the streak. */
	if (poor >= INT_MAX / 2)
		atomic_set(&mzc->poor, streak);
	return atomic_inc_return(&mzc->poor) % MZ_POOR_PROBE;
}

/* A store of @mzc was compressed: @poor if worse than the limit. */
void mz_cgroup_note_compress(struct mz_cgroup *mzc, bool poor)
{
	if (poor)
		atomic_inc(&mzc->poor);
	else if (atomic_read(&mzc->poor))
		atomic_set(&mzc->poor, 0);
}

/*
 * When caching loses, don't cache. An entry leaves the cache loaded (the
 * cache saved a disk write and read for one compression) or written back
 * (it cost a compression and a decompression on top of the disk's write
 * and read, and its memory, charged to the cgroup, squeezed the cgroup's
 * working set meanwhile). Once fewer than min_hit_percent of a cgroup's
 * last MZ_HITS_WINDOW or so departures were loads, its stores go to the
 * backing device untried, but one in MZ_HITS_PROBE: the probes keep the
 * ratio measured, so a cgroup whose entries start being loaded again is
 * cached again. Same-filled pages cost neither and are always kept
 * (mz_store_cache()). The counts are hints, updated without a lock: a
 * race skips or caches a page it should not have.
 */
#define MZ_HITS_WINDOW	256
#define MZ_HITS_MIN	64
#define MZ_HITS_PROBE	16

/* Loads in percent of @mzc's recent departures; -1 while too few to say. */
static int mz_cgroup_hit_percent(struct mz_cgroup *mzc)
{
	int loads = atomic_read(&mzc->recent_loads);
	int n = loads + atomic_read(&mzc->recent_written);

	return n < MZ_HITS_MIN ? -1 : loads * 100 / n;
}

/*
 * The smallest memory.max on @memcg's way up, in pages, and the counter
 * that has it; PAGE_COUNTER_MAX and NULL if none. A loop, as deep as the
 * cgroup tree; the caller pins @memcg, and with it its ancestors.
 */
static struct page_counter *mz_memcg_smallest_max(struct mem_cgroup *memcg,
						  unsigned long *limit)
{
	struct page_counter *c, *smallest = NULL;
	unsigned long max;

	*limit = PAGE_COUNTER_MAX;
	for (c = &memcg->memory; c; c = c->parent) {
		max = READ_ONCE(c->max);
		if (max < *limit) {
			*limit = max;
			smallest = c;
		}
	}
	return smallest;
}

/*
 * Whether @memcg (NULL: none), or a cgroup on its way up, is at its
 * memory.max, within MEMCG_CHARGE_BATCH pages of it or over: reclaim that
 * frees its charge is what that limit waits for. A loop, as deep as the
 * cgroup tree; the caller pins @memcg.
 */
bool mz_memcg_at_limit(struct mem_cgroup *memcg)
{
	struct page_counter *c;
	unsigned long max;

	if (!memcg)
		return false;
	for (c = &memcg->memory; c; c = c->parent) {
		max = READ_ONCE(c->max);
		if (max != PAGE_COUNTER_MAX &&
		    page_counter_read(c) + MEMCG_CHARGE_BATCH >= max)
			return true;
	}
	return false;
}

/*
 * Holding a cold cache. A cgroup found cold above re-reads its data in an
 * order that LRU loses on, as a cyclic scan larger than its memory does:
 * the scan comes back to the entries the cache kept last, long after
 * writeback made room for them with the ones it reaches first. For such a
 * scan a cache does best to keep what it holds and pass the rest through,
 * as memory.zswap.max's static split does: 1.2-1.7x faster than the disk
 * on the bench's patterns, while the same split thrashes a program whose
 * pages come back soon (docs/benchmarks.md). The kernel tells the two
 * apart: an anon page refaulting within its cgroup's working set size is
 * counted in WORKINGSET_ACTIVATE_ANON (with more memory it would have
 * stayed); a scan's pages come back from much further. So a cold cgroup
 * under a memory.max:
 *
 * 1. holds when it is not short of memory, neither in its last refault
 *    sample nor of late (its last MZ_SQUEEZE_WINDOW refaults or so): fewer
 *    than MZ_SQUEEZE_PERCENT of them activated, and hold_percent is set.
 *    A cgroup without refaults is not short of memory;
 * 2. while it holds, its pages are cached until the compressed bytes
 *    under the smallest memory.max on its way up (that cgroup's subtree
 *    bytes: its own entries, its siblings', any cgroup's under that
 *    limit) reach hold_percent of the limit: one share for all the
 *    cgroups under it, not one each. The rest pass through untried, and
 *    reclaim leaves its entries alone below that but when it struggles
 *    (mz_memcg_holding(), and the shrinker's count); the pool limit's
 *    worker and its own cgroup_max write them back as ever. Not while
 *    that limit's cgroup is over it (mz_memcg_hold_bytes());
 * 3. it lets go when one sample finds it short of memory, whatever its
 *    hits: its entries are then the memory its working set lacks, and
 *    reclaim writes them back as usual. Quick to let go, slow to hold
 *    again: a program short of memory has calm spells (a sequential
 *    pass), in which holding would squeeze it again;
 * 4. it lets go, too, when it reads from the backing device and hardly
 *    ever from the cache: of late (its last 4096 + 8 x its entries
 *    reads or so), over 1024 + 2 x its entries reads from the disk and
 *    fewer than one load in MZ_STALE_RATIO of them. What it holds is not
 *    what it reads. The kernel's counters miss this when the pages it
 *    reads are a loop that would fit without the held entries: on 6.1's
 *    LRU an anon refault counts as activated only within the active anon
 *    list's size, which such a loop never fills. It holds again only
 *    once its loads are back over that ratio. A scan that reaches its
 *    held entries after more than the window's reads loses the hold.
 *
 * A sample is taken at most every MZ_SQUEEZE_PERIOD per cgroup while it
 * is cold or holds, of the memcg's own counters on every node, and
 * decides once MZ_SQUEEZE_MIN refaults came since the last decision: a
 * cgroup turning cold is judged on all its refaults since then. Hints,
 * racy: a race samples twice, or holds a page too many.
 */
#define MZ_SQUEEZE_PERIOD	(HZ / 10)
#define MZ_SQUEEZE_MIN		128
#define MZ_SQUEEZE_PERCENT	5
#define MZ_SQUEEZE_WINDOW	512

/*
 * @memcg's own count of @idx on all nodes: lruvec_page_state_local()'s
 * sum, which a module cannot call on 6.1 (its fallback for a kernel
 * without memcg, node_page_state(), is not exported).
 */
static unsigned long mz_memcg_events(struct mem_cgroup *memcg,
				     enum node_stat_item idx)
{
	struct mem_cgroup_per_node *pn;
	long x = 0;
	int nid, cpu;

	for_each_node(nid) {
		pn = memcg->nodeinfo[nid];
		for_each_possible_cpu(cpu)
			x += per_cpu(pn->lruvec_stats_percpu->state[idx], cpu);
	}
	return x < 0 ? 0 : x;
}

/* A page of @mzc was read from the disk: rule 4's window, halved. */
static void mz_cgroup_note_disk_read(struct mz_cgroup *mzc)
{
	unsigned int reads = atomic_inc_return(&mzc->disk_reads);

	if (reads > 8 * READ_ONCE(mzc->nr_stored) + 4096) {
		atomic_set(&mzc->disk_reads, reads / 2);
		atomic_set(&mzc->window_loads,
			   atomic_read(&mzc->window_loads) / 2);
	}
}

/* @mzc holds no more (rules 3 and 4); counted once however many race. */
static void mz_cgroup_let_go(struct mz_cgroup *mzc)
{
	if (READ_ONCE(mzc->holding) && cmpxchg(&mzc->holding, 1, 0) == 1)
		mz_stat_inc(MZ_STAT_hold_exits);
}

/* Sample @memcg's refaults for @mzc, its record keeper (rules 1 and 3). */
static void mz_cgroup_sample(struct mz_cgroup *mzc, struct mem_cgroup *memcg)
{
	unsigned long stamp = READ_ONCE(mzc->ws_stamp);
	unsigned long refault, activate, d_refault, d_activate;
	unsigned long w_refault, w_activate;
	bool squeezed;

	/* Unsigned: jiffies starts 5 minutes short of wrapping. */
	if (jiffies - stamp < MZ_SQUEEZE_PERIOD ||
	    cmpxchg(&mzc->ws_stamp, stamp, jiffies) != stamp)
		return;
	refault = mz_memcg_events(memcg, WORKINGSET_REFAULT_ANON);
	activate = mz_memcg_events(memcg, WORKINGSET_ACTIVATE_ANON);
	d_refault = refault - READ_ONCE(mzc->ws_refault);
	d_activate = activate - READ_ONCE(mzc->ws_activate);
	if (d_refault < MZ_SQUEEZE_MIN)
		return;
	WRITE_ONCE(mzc->ws_refault, refault);
	WRITE_ONCE(mzc->ws_activate, activate);
	squeezed = d_activate * 100 >= d_refault * MZ_SQUEEZE_PERCENT;
	/* Of late: the window's counts, halved together past its size. */
	w_refault = READ_ONCE(mzc->ws_window_refault) + d_refault;
	w_activate = READ_ONCE(mzc->ws_window_activate) + d_activate;
	while (w_refault > MZ_SQUEEZE_WINDOW) {
		w_refault /= 2;
		w_activate /= 2;
	}
	WRITE_ONCE(mzc->ws_window_refault, w_refault);
	WRITE_ONCE(mzc->ws_window_activate, w_activate);
	WRITE_ONCE(mzc->unsettled, squeezed ||
		   w_activate * 100 >= w_refault * MZ_SQUEEZE_PERCENT);
	if (squeezed)
		mz_cgroup_let_go(mzc);
}

#define MZ_STALE_RATIO	64

/* @mzc reads from the disk, hardly ever from the cache (rule 4). */
static bool mz_cgroup_hold_stale(struct mz_cgroup *mzc)
{
	unsigned int reads = atomic_read(&mzc->disk_reads);

	return reads > 2 * READ_ONCE(mzc->nr_stored) + 1024 &&
	       atomic_read(&mzc->window_loads) < reads / MZ_STALE_RATIO;
}

/*
 * The share of the cgroups under @memcg's smallest memory.max (rule 2), in
 * bytes, and in @held what they store now (that limit's cgroup's subtree
 * bytes: its own entries and its descendants', siblings of @memcg's
 * included); 0: none may hold, now. Not while that limit's cgroup is over
 * it (memory.max lowered, or written back after swapoff lifted it):
 * memory_max_write() OOM-kills after 16 reclaim passes short of the
 * limit, and a hold would keep reclaim from the entries (tests/71-soak-
 * sync's swap cycle was killed so once, a 3.6 MB pool of a holding cgroup
 * 3.3 MB over its restored limit). Sets @over (if given) then.
 */
static u64 mz_memcg_hold_bytes(struct mem_cgroup *memcg, bool *over,
			       u64 *held)
{
	unsigned int pct = READ_ONCE(mz_hold_percent);
	struct page_counter *smallest;
	struct mem_cgroup *limiter;
	unsigned long limit;

	smallest = mz_memcg_smallest_max(memcg, &limit);
	if (!smallest)
		return 0;
	if (page_counter_read(smallest) > limit) {
		if (over)
			*over = true;
		return 0;
	}
	if (!pct)
		return 0;
	/*
	 * The limit's memcg is @memcg or an ancestor, pinned with it. Its
	 * mz_cgroup exists once a descendant's does (mz_cgroup_get_or_
	 * create()); if it could not be created, the nearest above stands
	 * in, its count the larger: the share is then held the less.
	 */
	limiter = container_of(smallest, struct mem_cgroup, memory);
	rcu_read_lock();
	*held = mz_cgroup_subtree_bytes(mz_cgroup_lookup_rcu(limiter));
	rcu_read_unlock();
	return div_u64((u64)limit * PAGE_SIZE * pct, 100);
}

/*
 * A cold or holding @mzc's review: its refaults sampled (rules 1 and 3),
 * the share it may hold and what is held of it (rule 2,
 * mz_memcg_hold_bytes(), which sets @over and @held), and rule 4
 * applied. Returns the share.
 */
static u64 mz_cgroup_review(struct mz_cgroup *mzc, struct mem_cgroup *memcg,
			    bool *over, u64 *held)
{
	u64 hold;

	mz_cgroup_sample(mzc, memcg);
	hold = mz_memcg_hold_bytes(memcg, over, held);
	if (hold && mz_cgroup_hold_stale(mzc))
		mz_cgroup_let_go(mzc);
	return hold;
}

/**
 * mz_cgroup_admit_cold - whether to cache a page of a cgroup that may be cold
 * @mzc: the page's record keeper, referenced
 * @memcg: the page's memcg, pinned, or NULL
 *
 * Returns 0 to cache it, else the counter saying why not: its cgroup holds
 * its cache full (rules 1 and 2), or it is cold and this page is no probe.
 *
 * A cold cgroup over its limit caches all the same (memory.max lowered
 * under it, or a charge forced past it): memory_max_write() OOM-kills
 * after 16 reclaim passes that free no page, and a page passed through
 * frees none until its write lands, which reclaim does not wait for,
 * while a page compressed is freed at once. Writeback then takes the
 * entries to the disk. (tests/36-max-lowered: a cold cgroup holding 16M
 * of its 32M was OOM-killed lowered from 16M to 12M, 1 round in 5.)
 */
int mz_cgroup_admit_cold(struct mz_cgroup *mzc, struct mem_cgroup *memcg)
{
	unsigned int pct = READ_ONCE(mz_min_hit_percent);
	bool over = false;
	u64 hold = 0, held = 0;
	int hits = -1;

	if (!pct)
		return 0;
	/*
	 * A warm cgroup pays two loads, not a walk up the tree: its refaults
	 * are sampled once it is cold or holds, a sample's counts being
	 * those since the last decision, however long ago.
	 */
	if (!READ_ONCE(mzc->holding)) {
		hits = mz_cgroup_hit_percent(mzc);
		if (hits < 0 || hits >= pct)
			return 0;
	}
	if (memcg && mzc != mz_root_cgroup) {
		hold = mz_cgroup_review(mzc, memcg, &over, &held);
		if (over) {
			mz_stat_inc(MZ_STAT_cold_over_limit);
			return 0;
		}
	}
	if (!hold || !READ_ONCE(mzc->holding)) {
		/* Cold, or holding but under no limit now. */
		if (hits < 0)
			hits = mz_cgroup_hit_percent(mzc);
		if (hits < 0 || hits >= pct)
			return 0;
		if (!hold || READ_ONCE(mzc->unsettled) ||
		    mz_cgroup_hold_stale(mzc))
			return atomic_inc_return(&mzc->probe) % MZ_HITS_PROBE ?
			       MZ_STAT_reject_low_hits : 0;
		if (cmpxchg(&mzc->holding, 0, 1) == 0) {
			/* A fresh window for rule 4. */
			atomic_set(&mzc->disk_reads, 0);
			atomic_set(&mzc->window_loads, 0);
			mz_stat_inc(MZ_STAT_hold_enters);
		}
	}
	return held >= hold ? MZ_STAT_reject_hold_full : 0;
}

/*
 * Whether @memcg's cgroup holds (rule 2), and by how many bytes the
 * entries under its limit pass their share (@over), at most its own
 * entries' bytes. Called by the shrinker's count for every memcg with
 * entries: one that does not hold costs a lookup; one that does is
 * sampled for rules 3 and 4.
 */
bool mz_memcg_holding(struct mem_cgroup *memcg, u64 *over)
{
	struct mz_cgroup *mzc;
	bool holding = false;
	u64 hold, held = 0;

	*over = 0;
	if (!memcg || !READ_ONCE(mz_min_hit_percent))
		return false;
	rcu_read_lock();
	mzc = mz_cgroup_lookup_rcu(memcg);
	if (mzc == mz_root_cgroup || !READ_ONCE(mzc->holding))
		goto unlock;
	hold = mz_cgroup_review(mzc, memcg, NULL, &held);
	if (!hold)
		goto unlock;
	holding = READ_ONCE(mzc->holding);
	if (held > hold)
		*over = min(held - hold, READ_ONCE(mzc->compressed_bytes));
unlock:
	rcu_read_unlock();
	return holding;
}

/* @count went up by one: halve both counts once they pass the window. */
static void mz_cgroup_note_leave(struct mz_cgroup *mzc, atomic_t *count)
{
	int loads, written;

	atomic_inc(count);
	loads = atomic_read(&mzc->recent_loads);
	written = atomic_read(&mzc->recent_written);
	if (loads + written > MZ_HITS_WINDOW) {
		atomic_set(&mzc->recent_loads, loads / 2);
		atomic_set(&mzc->recent_written, written / 2);
	}
}

/* An entry of @mzc was loaded: a hit. Under RCU or a reference. */
void mz_cgroup_count_load(struct mz_cgroup *mzc)
{
	atomic64_inc(&mzc->loads);
	atomic_inc(&mzc->window_loads);
	mz_cgroup_note_leave(mzc, &mzc->recent_loads);
}

/*
 * The cache gives up an entry of @mzc: its writeback is submitted. A
 * miss, counted now rather than when the write lands, so that a cold
 * cgroup is found before a cap's worth of writes is in flight. Under RCU
 * or a reference.
 */
void mz_cgroup_count_miss(struct mz_cgroup *mzc)
{
	mz_cgroup_note_leave(mzc, &mzc->recent_written);
}

/* An entry of @mzc was written back. Under RCU or a reference. */
void mz_cgroup_count_written(struct mz_cgroup *mzc)
{
	atomic64_inc(&mzc->written_back);
}

/* Writeback is off if it is off for @mzc or any ancestor. */
bool mz_cgroup_writeback_enabled(struct mz_cgroup *mzc)
{
	for (; mzc; mzc = mzc->parent)
		if (READ_ONCE(mzc->wb_disabled))
			return false;
	return true;
}

bool mz_memcg_writeback_enabled(struct mem_cgroup *memcg)
{
	bool on;

	rcu_read_lock();
	on = mz_cgroup_writeback_enabled(mz_cgroup_lookup_rcu(memcg));
	rcu_read_unlock();
	return on;
}

/*
 * A page of @memcg came back from the backing device: its owner is
 * working on its written-back data, so protect that many of its entries
 * from the shrinker for a while (mainline zswap's nr_zswap_protected),
 * and count it against a hold (rule 4 of "Holding a cold cache").
 */
void mz_memcg_note_swapin(struct mem_cgroup *memcg)
{
	struct mz_cgroup *mzc;

	rcu_read_lock();
	mzc = mz_cgroup_lookup_rcu(memcg);
	mz_cgroup_protect(mzc);
	mz_cgroup_note_disk_read(mzc);
	rcu_read_unlock();
}

/* How many of @memcg's entries the shrinker should leave alone. */
unsigned long mz_memcg_protected(struct mem_cgroup *memcg)
{
	s64 v;

	rcu_read_lock();
	v = atomic64_read(&mz_cgroup_lookup_rcu(memcg)->protected);
	rcu_read_unlock();
	return v > 0 ? v : 0;
}

/* @memcg's stored entries and compressed bytes: its own, not its children's. */
void mz_memcg_scale(struct mem_cgroup *memcg, u64 *stored, u64 *bytes)
{
	struct mz_cgroup *mzc;

	rcu_read_lock();
	mzc = mz_cgroup_lookup_rcu(memcg);
	*stored = READ_ONCE(mzc->nr_stored);
	*bytes = READ_ONCE(mzc->compressed_bytes);
	rcu_read_unlock();
}

/*
 * The memcg of the cgroup at @path (on the default hierarchy), with a
 * css reference. -ENOENT if there is no such cgroup (a file, or a cgroup
 * being removed), -EINVAL if the memory controller is not enabled for it.
 */
static struct mem_cgroup *mz_memcg_from_path(const char *path)
{
	struct cgroup_subsys_state *css;
	struct cgroup *cgrp, *parent;
	bool transient;

	cgrp = cgroup_get_from_path(path);
	if (IS_ERR(cgrp))
		/* -ENOTDIR: a file in the cgroup tree, not a cgroup either. */
		return ERR_PTR(PTR_ERR(cgrp) == -ENOTDIR ? -ENOENT
							 : PTR_ERR(cgrp));
	css = cgroup_get_e_css(cgrp, &memory_cgrp_subsys);
	if (css && css->cgroup != cgrp) {
		css_put(css);
		css = NULL;
	}
	/*
	 * Without a css of its own, the cgroup lacks the controller, or it
	 * is being removed or created. Only the errno depends on which:
	 * -ENOENT for a cgroup coming or going, not a misleading -EINVAL.
	 *  1. cgroup_destroy_locked() takes the cgroup offline (under
	 *     cgroup_mutex) before it kills its csses, so a css whose tryget
	 *     failed above belongs to a cgroup found offline here.
	 *  2. cgroup_mkdir() links the cgroup's kernfs node, which a path
	 *     walk finds, before cgroup_apply_control_enable() creates its
	 *     csses; its parent already asks for the controller.
	 */
	transient = !(READ_ONCE(cgrp->self.flags) & CSS_ONLINE);
	parent = cgroup_parent(cgrp);
	if (parent && READ_ONCE(parent->subtree_ss_mask) & BIT(memory_cgrp_id))
		transient = true;
	cgroup_put(cgrp);
	if (!css && transient)
		return ERR_PTR(-ENOENT);
	if (!css) {
		pr_warn_ratelimited("%s: memory controller not enabled\n", path);
		return ERR_PTR(-EINVAL);
	}
	return mem_cgroup_from_css(css);
}

static struct mz_cgroup *mz_cgroup_from_path(const char *path)
{
	struct mem_cgroup *memcg = mz_memcg_from_path(path);
	struct mz_cgroup *mzc;

	if (IS_ERR(memcg))
		return ERR_CAST(memcg);
	if (!mz_memcg_live(memcg))
		mzc = ERR_PTR(-ENOENT);
	else
		mzc = mz_cgroup_get_or_create(memcg, GFP_KERNEL);
	css_put(&memcg->css);
	return mzc ?: ERR_PTR(-ENOMEM);
}

/* Set the compressed-memory limit of the cgroup at @path (U64_MAX: none). */
int mz_cgroup_set_max(const char *path, u64 max)
{
	struct mz_cgroup *mzc = mz_cgroup_from_path(path);

	if (IS_ERR(mzc))
		return PTR_ERR(mzc);
	if (mzc == mz_root_cgroup) {
		mz_cgroup_put(mzc);
		return -EINVAL;	/* the pool limit is the root's */
	}
	spin_lock(&mzc->lock);
	if (mzc->max_bytes == U64_MAX && max != U64_MAX)
		atomic_inc(&mz_nr_limits);
	else if (mzc->max_bytes != U64_MAX && max == U64_MAX)
		atomic_dec(&mz_nr_limits);
	WRITE_ONCE(mzc->max_bytes, max);
	spin_unlock(&mzc->lock);
	mz_cgroup_put(mzc);
	return 0;
}

int mz_cgroup_set_writeback(const char *path, bool on)
{
	struct mz_cgroup *mzc = mz_cgroup_from_path(path);

	if (IS_ERR(mzc))
		return PTR_ERR(mzc);
	WRITE_ONCE(mzc->wb_disabled, !on);
	mz_cgroup_put(mzc);
	return 0;
}

/*
 * Test only (debugfs "corrupt"): add @delta to the record count of the
 * cgroup at @path, so that the consistency check has something to find.
 * Writing the opposite delta repairs it. -ERANGE if the count would go
 * below zero; nothing else reads the count in a way that could fail.
 */
int mz_cgroup_corrupt(const char *path, s64 delta)
{
	struct mz_cgroup *mzc = mz_cgroup_from_path(path);
	int err = 0;

	if (IS_ERR(mzc))
		return PTR_ERR(mzc);
	spin_lock(&mzc->lock);
	if (delta < 0 && mzc->nr_stored < -(u64)delta)
		err = -ERANGE;
	else
		WRITE_ONCE(mzc->nr_stored, mzc->nr_stored + delta);
	spin_unlock(&mzc->lock);
	mz_cgroup_put(mzc);
	return err;
}

/*********************************
 * pass-through writes in flight
 **********************************/

/*
 * On 6.1 a cgroup v2 reclaimer never waits for writeback: it skips pages
 * under writeback, and try_charge_memcg() OOM-kills after
 * MAX_RECLAIM_RETRIES passes that free nothing. A small cgroup whose
 * pages are all on their way to a slow disk is killed though nothing is
 * wrong: 4M cgroups writing 12M to a plain swap disk at 256 pages a
 * second were killed in 2 runs of 3 (cgroup v1 waited in reclaim with
 * wait_on_page_writeback()). So mzswap bounds the pages a limited cgroup
 * has on their way through to the backing device: past
 * passthrough_inflight_percent of the smallest memory.max on its way up
 * (at least MZ_PASS_MIN_INFLIGHT), a writer waits for them to land before
 * it submits another, as a disk's full queue would make it.
 *
 * Rules:
 * 1. The count is kept by the mz_cgroup of the cgroup whose limit is the
 *    smallest, so siblings under a limited parent share it. A write holds
 *    a reference on that mz_cgroup from mz_pass_begin() to mz_pass_end(),
 *    which its completion calls, possibly in IRQ context.
 * 2. Only a writer that may wait does: never kswapd (it frees memory for
 *    everyone and the kernel throttles it on writeback itself), never with
 *    a write of its own not yet issued (a bio's later pages: the earlier
 *    ones wait on current->bio_list until ->submit_bio returns), never
 *    holding a slot lock. Plugged writes are issued by schedule().
 * 3. The wait is killable and gives up after MZ_PASS_WAIT_MAX: a disk that
 *    stops completing makes writers slow, not stuck.
 */
#define MZ_PASS_MIN_INFLIGHT	32
#define MZ_PASS_WAIT_MAX	HZ

/* Sleep until @pass has fewer than @cap writes in flight (rule 3). */
static void mz_pass_wait(struct mz_cgroup *pass, unsigned long cap)
{
	unsigned long deadline = jiffies + MZ_PASS_WAIT_MAX;
	DEFINE_WAIT(wait);

	mz_stat_inc(MZ_STAT_passthrough_throttled);
	for (;;) {
		prepare_to_wait(&pass->pass_wait, &wait, TASK_KILLABLE);
		if (atomic_read(&pass->pass_inflight) < cap ||
		    fatal_signal_pending(current))
			break;
		if (time_after_eq(jiffies, deadline)) {
			mz_stat_inc(MZ_STAT_passthrough_throttle_timeouts);
			break;
		}
		io_schedule_timeout(deadline - jiffies);
	}
	finish_wait(&pass->pass_wait, &wait);
}

/**
 * mz_pass_begin - count a write of @memcg's page passed through
 * @memcg: the page's memcg, pinned by the caller, or NULL
 * @may_wait: the caller may wait for room (rule 2, but kswapd's)
 *
 * Returns the mz_cgroup counting it, referenced, for mz_pass_end(); NULL
 * when nothing limits @memcg or the bound is off.
 */
struct mz_cgroup *mz_pass_begin(struct mem_cgroup *memcg, bool may_wait)
{
	unsigned int percent = READ_ONCE(mz_passthrough_inflight_percent);
	struct page_counter *smallest;
	unsigned long limit, cap;
	struct mz_cgroup *pass;

	if (!memcg || !percent)
		return NULL;
	smallest = mz_memcg_smallest_max(memcg, &limit);
	if (!smallest)
		return NULL;
	pass = mz_cgroup_of(container_of(smallest, struct mem_cgroup, memory));
	cap = max_t(unsigned long, limit * percent / 100, MZ_PASS_MIN_INFLIGHT);
	if (may_wait && !current_is_kswapd() &&
	    atomic_read(&pass->pass_inflight) >= cap)
		mz_pass_wait(pass, cap);
	atomic_inc(&pass->pass_inflight);
	mz_stat_inc(MZ_STAT_passthrough_inflight);
	return pass;
}

/* The write counted in @pass landed; any context (rule 1). */
void mz_pass_end(struct mz_cgroup *pass)
{
	if (!pass)
		return;
	atomic_dec(&pass->pass_inflight);
	mz_stat_add(MZ_STAT_passthrough_inflight, -1);
	/* Orders the decrement before the check, as prepare_to_wait() does. */
	if (wq_has_sleeper(&pass->pass_wait))
		wake_up_all(&pass->pass_wait);
	mz_cgroup_put(pass);
}

/*********************************
 * reparenting
 **********************************/

/*
 * Move up to MZ_REPARENT_BATCH records of @from to @to. Both locked by the
 * caller, @from (the descendant) first. Returns how many were moved; their
 * compressed bytes in @bytes.
 */
static unsigned long mz_records_move(struct mz_cgroup *from,
				     struct mz_cgroup *to, u64 *bytes)
{
	struct mz_entry *e, *tmp;
	unsigned long n = 0;

	*bytes = 0;
	list_for_each_entry_safe(e, tmp, &from->records, record) {
		if (n == MZ_REPARENT_BATCH)
			break;
		WRITE_ONCE(e->owner, to->idx);
		list_move_tail(&e->record, &to->records);
		to->nr_stored++;
		from->nr_stored--;
		if (mz_entry_same_filled(e)) {
			to->nr_same_filled++;
			from->nr_same_filled--;
		}
		to->compressed_bytes += e->length;
		from->compressed_bytes -= e->length;
		*bytes += e->length;
		n++;
	}
	return n;
}

/*
 * One pass: @mzc's cgroup is gone. Move everything it owns to the nearest
 * live ancestor and drop it from mz_cgroups. Time: proportional to its
 * records. Caller holds mz_reparent_mutex.
 */
static void mz_reparent_one(struct mz_cgroup *mzc)
{
	struct mz_cgroup *to;
	unsigned long moved = 0, n;
	ktime_t start = ktime_get();
	u64 ns, bytes;

	/* From here no store adds a record to @mzc (mz_record_add()). */
	spin_lock(&mzc->lock);
	mzc->dead = true;
	spin_unlock(&mzc->lock);

	do {
		/*
		 * Lock @mzc and its nearest live ancestor. Only passes take
		 * two mz_cgroup locks, always descendant first, and they are
		 * serialised by mz_reparent_mutex: no deadlock, and no
		 * ancestor dies (only a pass marks one dead) while we look.
		 */
		for (to = mzc->parent;; to = to->parent) {
			spin_lock(&mzc->lock);
			spin_lock_nested(&to->lock, SINGLE_DEPTH_NESTING);
			if (!to->dead)
				break;
			spin_unlock(&to->lock);
			spin_unlock(&mzc->lock);
		}
		n = mz_records_move(mzc, to, &bytes);
		moved += n;
		if (list_empty(&mzc->records)) {
			/* Event history follows the records. */
			atomic64_add(atomic64_xchg(&mzc->loads, 0), &to->loads);
			atomic64_add(atomic64_xchg(&mzc->written_back, 0),
				     &to->written_back);
			atomic64_add(atomic64_xchg(&mzc->rejects, 0),
				     &to->rejects);
			n = 0;
		}
		spin_unlock(&to->lock);
		spin_unlock(&mzc->lock);
		/*
		 * @to and above keep the bytes; @mzc and the removed cgroups
		 * between lose them. The pass's reference pins @mzc.
		 */
		mz_cgroup_subtree_add(mzc, to, -(s64)bytes);
		cond_resched();
	} while (n);

	xa_erase(&mz_cgroups, mzc->id);
	ns = ktime_to_ns(ktime_sub(ktime_get(), start));
	mz_stat_inc(MZ_STAT_reparent_passes);
	mz_stat_add(MZ_STAT_reparent_records, moved);
	mz_stat_set(MZ_STAT_reparent_last_ns, ns);
	trace_mzswap_reparent(mzc->id, to->id, moved, ns);
	mz_cgroup_put(mzc);	/* mz_cgroups' reference */
}

/* Run the passes queued by removals. */
void mz_reparent_run(void)
{
	struct mz_cgroup *mzc;

	mutex_lock(&mz_reparent_mutex);
	for (;;) {
		spin_lock(&mz_dead_lock);
		mzc = list_first_entry_or_null(&mz_dead_list, struct mz_cgroup,
					       dead_node);
		if (mzc)
			list_del_init(&mzc->dead_node);
		spin_unlock(&mz_dead_lock);
		if (!mzc)
			break;
		if (!mzc->dead)
			mz_reparent_one(mzc);
		mz_cgroup_put(mzc);	/* the queue's reference */
	}
	mutex_unlock(&mz_reparent_mutex);
}

static void mz_reparent_workfn(struct work_struct *work)
{
	mz_reparent_run();
}

/**
 * mz_memcg_next_live - the next live memcg in pre-order, referenced
 * @pos: where to start, referenced (the reference is dropped), in @root's
 *	subtree; NULL: @root, which is returned itself if live
 * @root: the subtree's top (mz_root_memcg: the whole tree), pinned by the
 *	caller
 *
 * Returns the first live memcg after @pos, with a css reference, or NULL
 * at the end of the subtree. Dying memcgs are skipped, and a user can leave
 * any number of them (page cache charged to a removed cgroup keeps its
 * memcg): the walk pins its position and reschedules every
 * MZ_WALK_BATCH memcgs. Rules, where it leaves the RCU read section:
 *  1. css_tryget() works on a dying css, not on one whose last reference
 *     is gone: the walk pins the first memcg it can.
 *  2. A pinned css stays on its parent's list of children (a css leaves
 *     it when released), so css_next_descendant_pre() continues from it.
 * May sleep; the caller holds no spinlock.
 */
struct mem_cgroup *mz_memcg_next_live(struct mem_cgroup *pos,
				      struct mem_cgroup *root)
{
	struct cgroup_subsys_state *css = pos ? &pos->css : NULL;
	struct cgroup_subsys_state *pin = css;
	unsigned int n = 0;

	rcu_read_lock();
	for (;;) {
		css = css_next_descendant_pre(css, &root->css);
		if (!css)
			break;
		if (mz_memcg_live(mem_cgroup_from_css(css)) && css_tryget(css))
			break;
		if (++n < MZ_WALK_BATCH || !css_tryget(css))
			continue;
		rcu_read_unlock();
		if (pin)
			css_put(pin);
		pin = css;
		cond_resched();
		n = 0;
		rcu_read_lock();
	}
	rcu_read_unlock();
	if (pin)
		css_put(pin);
	return css ? mem_cgroup_from_css(css) : NULL;
}

/**
 * mz_memcg_find - the memcg of cgroup @id in @root's subtree, if live,
 * referenced
 * @root: the subtree's top, pinned by the caller
 * @id: a cgroup id
 * @max: memcgs to look at, at most
 *
 * A walk in pre-order under one RCU read section: NULL if @id is not
 * among the first @max memcgs, or not live. Unlike cgroup_get_from_id(),
 * blind to the caller's cgroup namespace: a store runs in whichever task
 * reclaims, a container's with a namespace of its own too, which would
 * see no cgroup outside its own subtree.
 */
struct mem_cgroup *mz_memcg_find(struct mem_cgroup *root, u64 id,
				 unsigned int max)
{
	struct cgroup_subsys_state *css = NULL;
	struct mem_cgroup *memcg = NULL;

	rcu_read_lock();
	while (max--) {
		css = css_next_descendant_pre(css, &root->css);
		if (!css)
			break;
		if (cgroup_id(css->cgroup) != id)
			continue;
		if (mz_memcg_live(mem_cgroup_from_css(css)) && css_tryget(css))
			memcg = mem_cgroup_from_css(css);
		break;
	}
	rcu_read_unlock();
	return memcg;
}

/*
 * Mark every mz_cgroup in mz_cgroups, then unmark those whose memcg a
 * walk finds live. Caller holds mz_reparent_mutex, which keeps every
 * mz_cgroup in mz_cgroups (only a pass, under the mutex, drops that
 * reference) and the marks its own until it unlocks.
 *
 * Rules; the sweep and the check rest on them:
 *  1. A mz_cgroup stays marked only if it was in mz_cgroups before the
 *     walk began and the walk did not find its memcg live. One inserted
 *     later is not marked (it is zeroed at allocation).
 *  2. The walk visits every memcg linked before it began (rule 2 of
 *     mz_memcg_next_live()), and a mz_cgroup is only ever created for a
 *     memcg that was linked and live.
 *  3. A memcg that is not live never becomes live again.
 * So a marked mz_cgroup's memcg is dead, however creations interleave
 * with the walk. (The sweep once marked the live ones first and took
 * every other as dead: a mz_cgroup inserted just behind the walk was
 * reparented while its cgroup lived.)
 */
static void mz_cgroups_mark(void)
{
	struct mem_cgroup *memcg;
	struct mz_cgroup *mzc;
	unsigned long id;

	lockdep_assert_held(&mz_reparent_mutex);
	xa_for_each(&mz_cgroups, id, mzc)
		mzc->marked = true;
	for (memcg = mz_memcg_next_live(NULL, mz_root_memcg); memcg;
	     memcg = mz_memcg_next_live(memcg, mz_root_memcg)) {
		mzc = xa_load(&mz_cgroups, mz_memcg_id(memcg));
		if (mzc)
			mzc->marked = false;
	}
}

/*
 * The periodic sweep: anything a removal probe missed (a removal while the
 * module loaded, the memory controller disabled in a subtree, no probe).
 * Queues every mz_cgroup whose memcg is dead (rules of mz_cgroups_mark()).
 */
void mz_sweep(void)
{
	struct mz_cgroup *mzc;
	unsigned long id;

	mutex_lock(&mz_reparent_mutex);
	mz_cgroups_mark();

	/* Window for tests: new cgroups stored meanwhile must survive. */
	if (mz_should_fail(MZ_FAULT_sweep_race))
		msleep(20);

	xa_for_each(&mz_cgroups, id, mzc) {
		if (mzc->marked && !mzc->dead)
			mz_cgroup_queue_dead(mzc);
	}
	mutex_unlock(&mz_reparent_mutex);
	mz_reparent_run();
}

static void mz_sweep_workfn(struct work_struct *work)
{
	unsigned int period = READ_ONCE(mz_reparent_period_ms);

	mz_sweep();
	if (period)
		queue_delayed_work(mz_wq, &mz_sweep_work,
				   msecs_to_jiffies(period));
}

/*
 * A sweep now, and the periodic ones re-armed with the current period (a
 * change of reparent_period_ms calls this: from 0 or from a long period,
 * the new one applies at once).
 */
void mz_sweep_kick(void)
{
	mod_delayed_work(mz_wq, &mz_sweep_work, 0);
}

/*
 * Probe on the cgroup_rmdir tracepoint: runs in cgroup_rmdir() after the
 * cgroup's csses were killed, under cgroup_mutex and a spinlock with IRQs
 * off. Queues the pass; does not sleep, walks nothing.
 */
static void mz_probe_cgroup_rmdir(void *data, struct cgroup *cgrp,
				  const char *path)
{
	struct mz_cgroup *mzc;

	/* Only the hierarchy the memory controller is on has our ids. */
	if (!rcu_access_pointer(cgrp->subsys[memory_cgrp_id]))
		return;

	rcu_read_lock();
	mzc = xa_load(&mz_cgroups, cgroup_id(cgrp));
	if (mzc && kref_get_unless_zero(&mzc->kref)) {
		mz_cgroup_queue_dead(mzc);
		mz_cgroup_put(mzc);
	}
	rcu_read_unlock();
}

static struct tracepoint *mz_tp_rmdir;

static void mz_find_tracepoint(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "cgroup_rmdir"))
		mz_tp_rmdir = tp;
}

/*********************************
 * debugfs views
 **********************************/
static void mz_cgroup_show_one(struct seq_file *m, const char *path,
			       bool online, struct mz_cgroup *mzc)
{
	u64 max = READ_ONCE(mzc->max_bytes);
	int hits = mz_cgroup_hit_percent(mzc);

	seq_printf(m, "%s %llu %d %llu %llu %llu %lld %lld %lld %d ",
		   path, mzc->id, online,
		   READ_ONCE(mzc->nr_stored),
		   READ_ONCE(mzc->compressed_bytes),
		   READ_ONCE(mzc->nr_same_filled),
		   (s64)atomic64_read(&mzc->loads),
		   (s64)atomic64_read(&mzc->written_back),
		   (s64)atomic64_read(&mzc->rejects),
		   mz_cgroup_writeback_enabled(mzc));
	if (max == U64_MAX)
		seq_puts(m, "max ");
	else
		seq_printf(m, "%llu ", max);
	if (hits < 0)
		seq_puts(m, "- ");
	else
		seq_printf(m, "%d ", hits);
	seq_printf(m, "%u ", READ_ONCE(mzc->holding));
	if (mzc == mz_root_cgroup)
		seq_puts(m, "-\n");	/* not kept */
	else
		seq_printf(m, "%llu\n", mz_cgroup_subtree_bytes(mzc));
}

/*
 * The per-cgroup table: one line per cgroup that has state, live ones in
 * hierarchy order, then removed ones still waiting for their pass. The
 * format is in docs/admin-guide.md ("Per-cgroup table").
 */
void mz_cgroups_show(struct seq_file *m)
{
	struct cgroup_subsys_state *css;
	char *path = kmalloc(PATH_MAX, GFP_KERNEL);
	struct mz_cgroup *mzc;
	unsigned long id;

	if (!path)
		return;
	seq_puts(m, "# path id online stored_pages compressed_bytes same_filled loads written_back rejects writeback max hit_percent hold subtree_bytes\n");

	/*
	 * Live cgroups, under RCU: their mz_cgroups cannot be freed before
	 * the read section ends.
	 */
	rcu_read_lock();
	css_for_each_descendant_pre(css, &mz_root_memcg->css) {
		struct mem_cgroup *memcg = mem_cgroup_from_css(css);

		if (!parent_mem_cgroup(memcg))
			mzc = mz_root_cgroup;
		else
			mzc = xa_load(&mz_cgroups, mz_memcg_id(memcg));
		if (!mzc)
			continue;
		if (kernfs_path_from_node(css->cgroup->kn, NULL, path,
					  PATH_MAX) < 0)
			strscpy(path, "?", PATH_MAX);
		mz_cgroup_show_one(m, path, mz_memcg_live(memcg), mzc);
	}
	rcu_read_unlock();

	/* mz_cgroups whose cgroup is gone, pass pending. */
	rcu_read_lock();
	xa_for_each(&mz_cgroups, id, mzc) {
		if (READ_ONCE(mzc->queued) && !READ_ONCE(mzc->dead))
			mz_cgroup_show_one(m, "(removed)", false, mzc);
	}
	rcu_read_unlock();
	kfree(path);
}

/* Check one mz_cgroup's records against its counters; returns records. */
static u64 mz_records_check_one(struct seq_file *m, struct mz_cgroup *mzc,
				int *bad)
{
	struct mz_entry *e;
	u64 n = 0, bytes = 0, same = 0;

	spin_lock(&mzc->lock);
	list_for_each_entry(e, &mzc->records, record) {
		if (e->owner != mzc->idx) {
			seq_printf(m, "bad owner: slot %u on cgroup %llu\n",
				   e->slot, mzc->id);
			(*bad)++;
		}
		n++;
		bytes += e->length;
		same += mz_entry_same_filled(e);
	}
	/* Marked: its memcg is dead (mz_cgroups_mark()). */
	if (n && (mzc->dead || mzc->marked)) {
		seq_printf(m, "stale: %llu records in removed cgroup %llu\n",
			   n, mzc->id);
		(*bad)++;
	}
	if (n != mzc->nr_stored || bytes != mzc->compressed_bytes ||
	    same != mzc->nr_same_filled) {
		seq_printf(m, "count: cgroup %llu stored %llu/%llu bytes %llu/%llu same %llu/%llu\n",
			   mzc->id, mzc->nr_stored, n, mzc->compressed_bytes,
			   bytes, mzc->nr_same_filled, same);
		(*bad)++;
	}
	spin_unlock(&mzc->lock);
	return n;
}

/*
 * Check every mz_cgroup's subtree bytes: its own bytes and its children's
 * subtree bytes. Three walks of mz_cgroups, @check_bytes the scratch; the
 * caller holds mz_reparent_mutex (no pass moves bytes, and no other
 * check uses the scratch) and the RCU read lock. Returns the problems.
 */
static int mz_subtree_check(struct seq_file *m)
{
	struct mz_cgroup *mzc, *parent;
	unsigned long id;
	int bad = 0;

	xa_for_each(&mz_cgroups, id, mzc)
		mzc->check_bytes = READ_ONCE(mzc->compressed_bytes);
	xa_for_each(&mz_cgroups, id, mzc) {
		parent = mzc->parent;
		if (parent && parent != mz_root_cgroup)
			parent->check_bytes +=
				atomic64_read(&mzc->subtree_bytes);
	}
	xa_for_each(&mz_cgroups, id, mzc) {
		if (mzc->check_bytes == atomic64_read(&mzc->subtree_bytes))
			continue;
		seq_printf(m, "subtree: cgroup %llu bytes %lld/%llu\n",
			   mzc->id, (s64)atomic64_read(&mzc->subtree_bytes),
			   mzc->check_bytes);
		bad++;
	}
	return bad;
}

/*
 * The consistency check: every record points at the mz_cgroup whose list
 * it is on, no cgroup that is not online has records, every mz_cgroup's
 * counters equal what its records add up to, and the records add up to
 * stored_pages.
 * Prints one line per problem, then a summary; returns the problem count.
 * stored_pages and the subtree bytes are compared only while the device
 * is closed (swapped off): a store adds its record before it counts in
 * stored_pages and a free drops the record first, and both change the
 * subtree bytes after the record, so while pages come and go they differ
 * by the stores and frees in flight.
 */
int mz_records_check(struct seq_file *m)
{
	struct mz_cgroup *mzc;
	unsigned long id;
	u64 total, cgroups = 1;
	int bad = 0;

	/* Passes already queued are not problems: run them first. */
	mz_reparent_run();

	/* No pass may move records between two cgroups we look at. */
	mutex_lock(&mz_reparent_mutex);
	mz_cgroups_mark();

	total = mz_records_check_one(m, mz_root_cgroup, &bad);
	rcu_read_lock();
	xa_for_each(&mz_cgroups, id, mzc) {
		total += mz_records_check_one(m, mzc, &bad);
		cgroups++;
	}
	if (!disk_openers(mz_dev.disk))
		bad += mz_subtree_check(m);
	rcu_read_unlock();
	mutex_unlock(&mz_reparent_mutex);

	if (!disk_openers(mz_dev.disk) &&
	    total != mz_stat_read(MZ_STAT_stored_pages)) {
		seq_printf(m, "total: records %llu stored_pages %llu\n", total,
			   mz_stat_read(MZ_STAT_stored_pages));
		bad++;
	}
	seq_printf(m, "cgroups %llu records %llu problems %d\n", cgroups,
		   total, bad);
	return bad;
}

/*********************************
 * init and exit
 **********************************/
int mz_memcg_init(void)
{
	struct cgroup_subsys_state *css;
	struct cgroup *root;
	int err;

	root = cgroup_get_from_path("/");
	if (IS_ERR(root))
		return PTR_ERR(root);
	css = cgroup_get_e_css(root, &memory_cgrp_subsys);
	mz_root_cgroup = mz_cgroup_alloc(cgroup_id(root), NULL, GFP_KERNEL);
	cgroup_put(root);
	if (!css || !mz_root_cgroup) {
		err = css ? -ENOMEM : -ENODEV;
		goto free;
	}
	mz_root_memcg = mem_cgroup_from_css(css);

	for_each_kernel_tracepoint(mz_find_tracepoint, NULL);
	if (mz_tp_rmdir) {
		err = tracepoint_probe_register(mz_tp_rmdir,
						mz_probe_cgroup_rmdir, NULL);
		if (err)
			goto free;
	} else {
		pr_warn("no cgroup_rmdir tracepoint: removals found by the periodic sweep only\n");
	}
	mz_sweep_kick();
	return 0;

free:
	kfree(mz_root_cgroup);
	if (css)
		css_put(css);
	return err;
}

/* After every entry is gone. */
void mz_memcg_exit(void)
{
	struct mz_cgroup *mzc;
	unsigned long id;

	if (mz_tp_rmdir) {
		tracepoint_probe_unregister(mz_tp_rmdir, mz_probe_cgroup_rmdir,
					    NULL);
		tracepoint_synchronize_unregister();
	}
	cancel_delayed_work_sync(&mz_sweep_work);
	cancel_work_sync(&mz_reparent_work);
	mz_reparent_run();	/* drops the queue's references */

	/*
	 * In any order: a parent is freed with its last child's reference
	 * (mz_cgroup_put() walks up in a loop).
	 */
	xa_for_each(&mz_cgroups, id, mzc) {
		xa_erase(&mz_cgroups, id);
		mz_cgroup_put(mzc);
	}
	rcu_barrier();
	mz_cgroup_put(mz_root_cgroup);
	css_put(&mz_root_memcg->css);
	rcu_barrier();	/* kfree_rcu() of the root */
	WARN_ON_ONCE(!xa_empty(&mz_owners));
}
