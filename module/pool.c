// SPDX-License-Identifier: GPL-2.0
/*
 * mzswap pool: compressed payloads in zsmalloc.
 *
 * zsmalloc packs objects of every size class into shared zspages with a few
 * per cent of waste, the density zswap and zram get. Its pages are charged
 * to nobody; the module accounts each cgroup's compressed bytes itself
 * (memcg.c) and enforces the per-cgroup limits from those counts.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/zsmalloc.h>

#include "internal.h"

static struct zs_pool *mz_zpool;

/*
 * Set when a store found the pool at its limit; cleared once the pool has
 * shrunk below accept_threshold_percent of the limit. Stores are rejected
 * while it is set, as zswap does, so the pool does not flap at the limit.
 */
static bool mz_pool_full;

int mz_pool_init(void)
{
	mz_zpool = zs_create_pool(KBUILD_MODNAME);
	return mz_zpool ? 0 : -ENOMEM;
}

void mz_pool_exit(void)
{
	zs_destroy_pool(mz_zpool);
}

/* Returns 0 on failure, as zs_malloc() does. Never enters direct reclaim
 * when @gfp does not allow it.
 */
unsigned long mz_pool_alloc(size_t size, gfp_t gfp)
{
	unsigned long handle = zs_malloc(mz_zpool, size, gfp);

	return IS_ERR_VALUE(handle) ? 0 : handle;
}

void mz_pool_free(unsigned long handle)
{
	zs_free(mz_zpool, handle);
}

/* The mapping is per-CPU: no sleeping until mz_pool_unmap(). */
void *mz_pool_map_read(unsigned long handle)
{
	return zs_map_object(mz_zpool, handle, ZS_MM_RO);
}

void *mz_pool_map_write(unsigned long handle)
{
	return zs_map_object(mz_zpool, handle, ZS_MM_WO);
}

void mz_pool_unmap(unsigned long handle)
{
	zs_unmap_object(mz_zpool, handle);
}

u64 mz_pool_total_bytes(void)
{
	return (u64)zs_get_total_pages(mz_zpool) << PAGE_SHIFT;
}

static unsigned long mz_pool_max_pages(void)
{
	return totalram_pages() * mz_max_pool_percent / 100;
}

/* Is the pool over max_pool_percent of RAM? */
bool mz_pool_over_limit(void)
{
	return zs_get_total_pages(mz_zpool) > mz_pool_max_pages();
}

/*
 * May a store go into the pool? Sets the full state on reaching the limit
 * and clears it below the acceptance threshold (zswap's hysteresis).
 */
bool mz_pool_accepting(void)
{
	unsigned long pages = zs_get_total_pages(mz_zpool);
	unsigned long max = mz_pool_max_pages();

	if (READ_ONCE(mz_pool_full)) {
		if (pages > max * mz_accept_threshold_percent / 100)
			return false;
		WRITE_ONCE(mz_pool_full, false);
	}
	if (pages >= max) {
		WRITE_ONCE(mz_pool_full, true);
		return false;
	}
	return true;
}

/* Is the pool still above the threshold the shrink worker aims for? */
bool mz_pool_above_threshold(void)
{
	return zs_get_total_pages(mz_zpool) >
		mz_pool_max_pages() * mz_accept_threshold_percent / 100;
}

void mz_pool_update_stats(void)
{
	mz_stat_set(MZ_STAT_pool_total_size, mz_pool_total_bytes());
}
