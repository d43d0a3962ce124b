// SPDX-License-Identifier: GPL-2.0
/*
 * mzswap shrinking: the memcg-aware shrinker that reclaim calls for a
 * cgroup under pressure, and the global worker that brings the pool back
 * under its limit by visiting cgroups round-robin.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cgroup.h>
#include <linux/memcontrol.h>
#include <linux/nodemask.h>
#include <linux/sched.h>
#include <linux/shrinker.h>

#include "internal.h"
#include <trace/events/mzswap.h>

/* A holding cgroup shows reclaim 1/2^MZ_HOLD_SHIFT of its entries. */
#define MZ_HOLD_SHIFT		8

/* Give up after this many fruitless passes or failed cgroups. */
#define MZ_SHRINK_MAX_FAILURES	16

/* Set once the list_lru exists: the shrinker is registered before it. */
static bool mz_shrinker_ready;

/*********************************
 * the memcg-aware shrinker
 **********************************/
static unsigned long mz_shrinker_count(struct shrinker *shrinker,
				       struct shrink_control *sc)
{
	unsigned long nr_freeable, nr_protected, nr_over;
	u64 stored, bytes, over;

	if (!READ_ONCE(mz_shrinker_enabled))
		return 0;
	/* Pairs with the release in mz_shrink_init(): the list_lru is set. */
	if (!smp_load_acquire(&mz_shrinker_ready))
		return 0;
	/* Writeback issues block I/O. */
	if (!(sc->gfp_mask & __GFP_IO) || !(sc->gfp_mask & __GFP_FS))
		return 0;
	if (!mz_memcg_writeback_enabled(sc->memcg))
		return 0;

	/*
	 * An empty list says so: shrink_slab_memcg() then clears the memcg's
	 * bit for this shrinker, and list_lru_add() sets it again with the
	 * next entry. 0 would keep the memcg on every reclaim's list.
	 */
	nr_freeable = mz_lru_count(sc->nid, sc->memcg);
	if (!nr_freeable) {
		trace_mzswap_shrink_count(mz_memcg_id(sc->memcg), sc->nid, 0);
		return SHRINK_EMPTY;
	}

	/* Keep back as many entries as recently came back from disk. */
	nr_protected = mz_memcg_protected(sc->memcg);
	nr_freeable = nr_freeable > nr_protected ? nr_freeable - nr_protected
						 : 0;

	/*
	 * Scale by the memory an entry frees: the better the cgroup's data
	 * compresses, the less writing it back gains for its I/O.
	 */
	mz_memcg_scale(sc->memcg, &stored, &bytes);
	if (stored)
		nr_freeable = mult_frac(nr_freeable,
					DIV_ROUND_UP_ULL(bytes, PAGE_SIZE),
					stored);
	/*
	 * A cold cgroup keeping its cache (memcg.c, "Holding a cold cache")
	 * shows reclaim what passes its share, and a fraction of the rest:
	 * do_shrink_slab() scans the count shifted right by reclaim's
	 * priority, so reclaim at its usual priorities leaves the entries
	 * alone, and reclaim that struggles (the priority near 0, as before
	 * an OOM kill) still writes them back. The whole count would write
	 * back thousands each time a store took the cgroup past its share.
	 */
	if (nr_freeable && mz_memcg_holding(sc->memcg, &over)) {
		nr_over = 0;
		if (over && bytes)
			nr_over = div64_u64(over * stored + bytes - 1, bytes);
		nr_freeable = min(nr_freeable,
				  nr_over + (nr_freeable >> MZ_HOLD_SHIFT));
	}
	trace_mzswap_shrink_count(mz_memcg_id(sc->memcg), sc->nid,
				  nr_freeable);
	return nr_freeable;
}

/**
 * mz_shrink_node - start writeback of cold entries of @memcg on node @nid
 * @nid: the node
 * @memcg: the cgroup whose list to walk (NULL or root: the root's)
 * @nr_to_scan: look at most at this many entries
 * @nr_to_write: stop after submitting this many writes
 * @wait: NULL from reclaim (never sleeps for I/O, stops at the in-flight
 *	cap); else the waiting writer's (writeback.c, mz_writeback_submit())
 * @submitted: incremented by the number of writes submitted
 *
 * The walk goes chunk by chunk (mz_lru_isolate(): at most MZ_LRU_CHUNK
 * entries per hold of the list's lock, which 6.1 shares among every memcg
 * of the node), each chunk's isolated entries submitted with the lock
 * dropped, and cond_resched() in between: a walk that has to give every
 * entry its second chance first is long, but never under the lock.
 * A chunk none of whose entries could be written ends the walk: one
 * failing entry costs a caller one chunk, not a pass over the list.
 * The caller holds the writeback side (mz_writeback_begin()).
 *
 * Returns how many entries the walk looked at.
 */
static unsigned long mz_shrink_node(int nid, struct mem_cgroup *memcg,
				    unsigned long nr_to_scan,
				    unsigned long nr_to_write,
				    struct mz_wb_wait *wait,
				    unsigned long *submitted)
{
	struct mz_lru_item items[MZ_WB_BATCH];
	unsigned long scanned = 0, chunk, done = 0;
	unsigned int nr, sub;
	int err;

	while (scanned < nr_to_scan && done < nr_to_write) {
		if (!wait && mz_writeback_full())
			break;
		chunk = 0;
		nr = mz_lru_isolate(nid, memcg, nr_to_scan - scanned, items,
				    min_t(unsigned long, MZ_WB_BATCH,
					  nr_to_write - done), &chunk);
		if (!chunk)
			break;		/* the list is empty */
		scanned += chunk;
		if (nr) {
			err = 0;
			sub = mz_writeback_submit(items, nr, memcg, wait, &err);
			done += sub;
			/*
			 * At the cap (reclaim) or out of memory: stop. So too
			 * when no entry of the chunk could be written (its
			 * decompression failed): the walk would otherwise go on
			 * failing entry after entry to the end of the list, and
			 * the round-robin worker repeats it on every visit.
			 */
			if (err == -EAGAIN || err == -ENOMEM || (!sub && err))
				break;
		}
		cond_resched();
	}
	*submitted += done;
	return scanned;
}

/*
 * Reclaim's call. It submits writes and returns: it never waits for I/O,
 * since shrink_slab() holds shrinker_rwsem across it on 6.1 and every
 * memcg creation and shrinker registration waits for that. What it
 * reports freed is what it submitted: entries whose completion will erase
 * and free them (writeback.c, rule 6).
 */
static unsigned long mz_shrinker_scan(struct shrinker *shrinker,
				      struct shrink_control *sc)
{
	unsigned long freed = 0, scanned;

	/*
	 * Pairs with the release in mz_shrink_init(). Reclaim inside some
	 * ->submit_bio may write back: its writes are submitted by a worker
	 * (writeback.c, rule 7).
	 */
	if (!smp_load_acquire(&mz_shrinker_ready) ||
	    mz_writeback_full() || !mz_writeback_begin())
		return SHRINK_STOP;
	/*
	 * Concurrent reclaimers all counted before any scanned: do not let
	 * them eat into the protected area together (mainline's check).
	 */
	if (mz_memcg_protected(sc->memcg) + sc->nr_to_scan >=
	    mz_lru_count(sc->nid, sc->memcg)) {
		mz_writeback_end();
		sc->nr_scanned = 0;
		return SHRINK_STOP;
	}
	mz_stat_inc(MZ_STAT_shrinker_scans);
	scanned = mz_shrink_node(sc->nid, sc->memcg, sc->nr_to_scan,
				 sc->nr_to_scan, NULL, &freed);
	mz_writeback_end();

	sc->nr_scanned = scanned;
	mz_stat_add(MZ_STAT_shrinker_freed, freed);
	trace_mzswap_shrink_scan(mz_memcg_id(sc->memcg), sc->nid,
				 sc->nr_to_scan, freed);
	return freed ?: SHRINK_STOP;
}

static struct shrinker mz_shrinker = {
	.count_objects = mz_shrinker_count,
	.scan_objects = mz_shrinker_scan,
	.seeks = DEFAULT_SEEKS,
	.flags = SHRINKER_NUMA_AWARE | SHRINKER_MEMCG_AWARE,
};

/*
 * Submit writeback of up to @nr entries of @memcg, cold ones first, node
 * by node. The walk may have to pass every entry once to clear its
 * referenced bit (second chance) before it finds one to write: each bit is
 * cleared once per store, so this is paid once per entry, not per call,
 * and in chunks (mz_shrink_node()).
 *
 * Returns -ENOENT if @memcg has nothing to write back (empty, or writeback
 * off), -EAGAIN if it had entries but none could be submitted, else the
 * number submitted. The caller is on the writeback side; @wait as for
 * mz_shrink_node().
 */
static long mz_shrink_memcg_locked(struct mem_cgroup *memcg, unsigned long nr,
				   struct mz_wb_wait *wait)
{
	unsigned long submitted = 0, scanned = 0;
	int nid;

	if (!mz_memcg_writeback_enabled(memcg))
		return -ENOENT;
	for_each_node_state(nid, N_NORMAL_MEMORY) {
		if (submitted >= nr)
			break;
		scanned += mz_shrink_node(nid, memcg,
					  mz_lru_count(nid, memcg) + nr - submitted,
					  nr - submitted, wait, &submitted);
	}
	if (!scanned)
		return -ENOENT;
	return submitted ?: -EAGAIN;
}

/*
 * The same from the store path (a cgroup at its limit), entering the
 * writeback side itself. Submits and returns: a swap write never waits
 * for writeback. Under synchronous_io=N the store runs inside the disk's
 * ->submit_bio, and a worker submits the writes for it (writeback.c,
 * rule 7). Returns the number submitted.
 */
unsigned long mz_shrink_memcg(struct mem_cgroup *memcg, unsigned long nr)
{
	long ret;

	if (mz_writeback_full() || !mz_writeback_begin())
		return 0;
	ret = mz_shrink_memcg_locked(memcg, nr, NULL);
	mz_writeback_end();
	return ret > 0 ? ret : 0;
}

/*********************************
 * the round-robin cursor
 **********************************/

/*
 * The cgroup id of the memcg the global worker visited last, 0 for none
 * (the next walk starts at the root). An id, not a reference: the cursor
 * never keeps a memcg alive, whether its cgroup was removed or its memory
 * controller disabled through the parent's cgroup.subtree_control (no
 * rmdir, no probe), whatever reparent_period_ms is. Under mz_cursor_lock.
 */
static u64 mz_cursor_id;
static DEFINE_MUTEX(mz_cursor_lock);

/* The memcg of cgroup @id if it is live, with a reference, else NULL. */
static struct mem_cgroup *mz_cursor_resume(u64 id)
{
	struct cgroup_subsys_state *css;
	struct cgroup *cgrp;

	/* -ENOENT too for a cgroup outside the caller's cgroup namespace. */
	cgrp = cgroup_get_from_id(id);
	if (IS_ERR(cgrp))
		return NULL;
	/* Its own css if online, else an ancestor's, or the root's. */
	css = cgroup_get_e_css(cgrp, &memory_cgrp_subsys);
	if (css && (css->cgroup != cgrp ||
		    !mz_memcg_live(mem_cgroup_from_css(css)))) {
		css_put(css);
		css = NULL;
	}
	cgroup_put(cgrp);
	return css ? mem_cgroup_from_css(css) : NULL;
}

/*
 * Advance the cursor and return the memcg it now points at with a
 * reference for the caller, or NULL when a walk of the tree has ended.
 * When the memcg visited last is no longer live, its walk ends there and
 * the next starts at the root. Sleeps (mz_memcg_next_live()).
 */
static struct mem_cgroup *mz_cursor_advance(void)
{
	struct mem_cgroup *pos = NULL, *memcg = NULL;

	mutex_lock(&mz_cursor_lock);
	if (mz_cursor_id) {
		pos = mz_cursor_resume(mz_cursor_id);
		if (!pos)
			goto out;
	}
	memcg = mz_memcg_next_live(pos, mz_root_memcg);	/* drops @pos */
out:
	mz_cursor_id = memcg ? mz_memcg_id(memcg) : 0;
	mutex_unlock(&mz_cursor_lock);
	return memcg;
}

/*********************************
 * a limit's round robin
 **********************************/

/*
 * Memcgs a store over a limit asks for entries, and memcgs it looks at to
 * find them, at most.
 */
#define MZ_LIMIT_VISITS		8
#define MZ_LIMIT_LOOKS		1024

/*
 * The memcg of cgroup @id among @memcg and its ancestors, which the
 * caller's reference on @memcg pins (each css holds its parent's), or
 * NULL.
 */
static struct mem_cgroup *mz_memcg_ancestor(struct mem_cgroup *memcg, u64 id)
{
	for (; memcg; memcg = parent_mem_cgroup(memcg))
		if (mz_memcg_id(memcg) == id)
			return memcg;
	return NULL;
}

/* Whether @memcg has entries on the LRU: a cheap look, before a walk. */
static bool mz_memcg_has_entries(struct mem_cgroup *memcg)
{
	int nid;

	for_each_node_state(nid, N_NORMAL_MEMORY)
		if (mz_lru_count(nid, memcg))
			return true;
	return false;
}

/**
 * mz_shrink_limit - make room under a cgroup_max for a store
 * @limit: the cgroup whose limit the store would pass: @memcg's own
 *	mz_cgroup or an ancestor's (mz_cgroup_limit_hit())
 * @memcg: the storing page's memcg, pinned by the caller
 * @nr: entries to write back
 *
 * A limit bounds its subtree, so the room is made in the subtree: the
 * live memcgs under @limit, @limit's own included, are asked in turn for
 * @nr entries, round-robin from where its last store over it stopped
 * (@limit->wb_cursor), until one submits some, or MZ_LIMIT_VISITS or
 * every one of them have none. Writing back only the storing cgroup's
 * entries (mainline's shrink_memcg() of the storing memcg) leaves a
 * sibling's cold entries under the limit for good, while a cgroup with
 * few of its own passes each page through the cache: compressed, stored
 * and written back at its next store. A leaf's limit is its own entries,
 * as before.
 *
 * Memcgs with no entries are passed over without asking, up to
 * MZ_LIMIT_LOOKS of them: the entries under a limit may sit at the
 * bottom of a deep chain (52-memcg-review), and a store that looked at
 * too few memcgs would not reach them and would pass through. A limit
 * over more memcgs without entries than that, between two with, takes
 * more than one store to go round.
 *
 * Submits and returns, as mz_shrink_memcg(): a swap write never waits for
 * writeback. May sleep (mz_memcg_next_live()). Returns the number
 * submitted.
 */
unsigned long mz_shrink_limit(struct mz_cgroup *limit,
			      struct mem_cgroup *memcg, unsigned long nr)
{
	struct mem_cgroup *top, *pos = NULL;
	unsigned int visits = 0, looks = 0;
	bool wrapped = false;
	u64 id, first = 0;
	long ret = 0;

	top = mz_memcg_ancestor(memcg, limit->id);
	if (!top)
		return mz_shrink_memcg(memcg, nr);
	if (mz_writeback_full() || !mz_writeback_begin())
		return 0;
	/*
	 * The cursor's memcg is found under @top (a cgroup stays where it
	 * was created), not by cgroup_get_from_id() as the worker's is: the
	 * worker runs in the root's cgroup namespace, a store in whichever
	 * task reclaims, and a container's would find no cgroup beside its
	 * own and start again at @top at every store. Removed, or too far
	 * down the walk: start again at @top.
	 */
	id = READ_ONCE(limit->wb_cursor);
	if (id)
		pos = mz_memcg_find(top, id, MZ_LIMIT_LOOKS);
	while (visits < MZ_LIMIT_VISITS && looks++ < MZ_LIMIT_LOOKS) {
		cond_resched();
		pos = mz_memcg_next_live(pos, top);	/* drops @pos */
		if (!pos) {
			/* The end of the subtree: once round to its top. */
			if (wrapped)
				break;
			wrapped = true;
			continue;
		}
		/* Round to where it began: a subtree of fewer memcgs. */
		id = mz_memcg_id(pos);
		if (id == first)
			break;
		if (!first)
			first = id;
		if (!mz_memcg_has_entries(pos))
			continue;
		visits++;
		ret = mz_shrink_memcg_locked(pos, nr, NULL);
		trace_mzswap_limit_step(limit->id, id, ret);
		if (ret > 0)
			break;
	}
	WRITE_ONCE(limit->wb_cursor, pos ? mz_memcg_id(pos) : 0);
	if (pos)
		css_put(&pos->css);
	mz_writeback_end();
	return ret > 0 ? ret : 0;
}

/**
 * mz_writeback_rr - write back up to @nr entries, visiting cgroups
 * round-robin from where the last call stopped, one entry per cgroup
 * per visit
 * @nr: how many at most
 * @until_threshold: stop once the pool is below the acceptance threshold
 * @forced: an administrator's request, not the pool's: the entries it
 *	writes back are no misses of their cgroups' (mz_cgroup_admit_cold())
 *
 * Gives up after MZ_SHRINK_MAX_FAILURES failures: a walk of the whole tree
 * without a single candidate, or a candidate cgroup whose writeback
 * failed. The worker may wait: for room in flight while it submits, and
 * for its own writes at the end, so that it returns the number written
 * back and erased (on mz_wq, never under a reclaim lock).
 */
static unsigned long mz_writeback_rr(unsigned long nr, bool until_threshold,
				     bool forced)
{
	unsigned long written = 0;
	int failures = 0, attempts = 0;
	struct mz_wb_wait wait;
	struct mem_cgroup *memcg;
	long ret;

	if (!mz_writeback_begin())
		return 0;
	mz_wb_wait_init(&wait, forced);
	while (written < nr) {
		if (until_threshold && !mz_pool_above_threshold())
			break;
		memcg = mz_cursor_advance();
		if (!memcg) {
			/* A walk ended: fruitless if it found no candidate. */
			if (!attempts && ++failures == MZ_SHRINK_MAX_FAILURES) {
				mz_stat_inc(MZ_STAT_shrink_worker_fruitless);
				break;
			}
			attempts = 0;
			goto resched;
		}

		ret = mz_shrink_memcg_locked(memcg, 1, &wait);
		trace_mzswap_worker_step(mz_memcg_id(memcg),
					 mz_memcg_live(memcg), ret);
		css_put(&memcg->css);

		/* Nothing to write back there: not a failure. */
		if (ret == -ENOENT)
			goto resched;
		attempts++;
		if (ret < 0) {
			if (++failures == MZ_SHRINK_MAX_FAILURES) {
				mz_stat_inc(MZ_STAT_shrink_worker_fruitless);
				break;
			}
		} else {
			written += ret;
		}
resched:
		cond_resched();
	}
	mz_writeback_end();
	/* @written counted submissions; what landed and was erased: */
	return mz_wb_wait_all(&wait);
}

/* Write back @nr entries for an administrator (debugfs writeback). */
unsigned long mz_writeback_global(unsigned long nr)
{
	return mz_writeback_rr(nr, false, true);
}

static void mz_shrink_workfn(struct work_struct *work)
{
	mz_stat_inc(MZ_STAT_shrink_worker_runs);
	mz_writeback_rr(ULONG_MAX, true, false);
}

static DECLARE_WORK(mz_shrink_work, mz_shrink_workfn);

/* The pool hit its limit: bring it down in the background. */
void mz_shrink_kick(void)
{
	queue_work(mz_wq, &mz_shrink_work);
}

/*********************************
 * init and exit
 **********************************/
int mz_shrink_init(void)
{
	int err;

	err = register_shrinker(&mz_shrinker, "mzswap");
	if (err)
		return err;
	/* The memcg-aware list_lru needs the shrinker's id. */
	err = mz_lru_init(&mz_shrinker);
	if (err) {
		unregister_shrinker(&mz_shrinker);
		return err;
	}
	/* The list_lru is ready before the shrinker may use it. */
	smp_store_release(&mz_shrinker_ready, true);
	return 0;
}

/* After every entry is freed. */
void mz_shrink_exit(void)
{
	unregister_shrinker(&mz_shrinker);
	cancel_work_sync(&mz_shrink_work);
	mz_lru_exit();
}
