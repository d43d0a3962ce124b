// SPDX-License-Identifier: GPL-2.0
/*
 * mzswap pool: where compressed payloads live. Two allocators, chosen at
 * load time with the "allocator" parameter:
 *
 * slab (default): one SLAB_ACCOUNT cache per 64-byte size class. Each
 *	payload is charged to the cgroup that owned the page, like the entry,
 *	so a cgroup's compressed memory counts against its memory.max and
 *	reclaim in that cgroup finds it through the memcg-aware shrinker, as
 *	in mainline zswap. Charges follow the kernel's objcg reparenting.
 *	6.1 exports no way to charge zsmalloc memory (obj_cgroup_charge is
 *	internal), hence this allocator; docs/benchmarks.md has its
 *	density measured against zsmalloc. Caches are created
 *	SLAB_NOLEAKTRACE: compressed data is not worth scanning for
 *	pointers, and it keeps them from merging with kmalloc caches, so
 *	unload would report any payload leaked.
 *
 * zsmalloc: zswap's and zram's allocator: densest, but charged to nobody.
 *	Per-cgroup compressed bytes are still accounted by the module and the
 *	per-cgroup limits enforced from them; memory.max does not see them.
 *
 * The pool size is exact for zsmalloc (its pages); for slab it is the sum
 * of the class sizes of live payloads (slab page overhead not included).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/zsmalloc.h>

#include "internal.h"

/*********************************
 * slab classes
 **********************************/
#define MZ_CLASS_SHIFT		6
#define MZ_CLASS_SIZE		BIT(MZ_CLASS_SHIFT)
#define MZ_NR_CLASSES		(PAGE_SIZE / MZ_CLASS_SIZE)

static struct kmem_cache *mz_class_cache[MZ_NR_CLASSES];
/* Sum of class sizes of live slab payloads. */
static atomic64_t mz_class_bytes;

static unsigned int mz_class_of(size_t size)
{
	return (size - 1) >> MZ_CLASS_SHIFT;
}

/* Bytes a payload of @size takes: the object size of its class. */
static size_t mz_class_bytes_of(size_t size)
{
	return (mz_class_of(size) + 1) * MZ_CLASS_SIZE;
}

static int mz_classes_init(void)
{
	char name[32];
	int i;

	for (i = 0; i < MZ_NR_CLASSES; i++) {
		unsigned int size = (i + 1) * MZ_CLASS_SIZE;

		snprintf(name, sizeof(name), "mzswap-%u", size);
		mz_class_cache[i] = kmem_cache_create(name, size, 8,
						      SLAB_ACCOUNT |
						      SLAB_NOLEAKTRACE, NULL);
		if (!mz_class_cache[i])
			goto fail;
	}
	return 0;
fail:
	while (i--)
		kmem_cache_destroy(mz_class_cache[i]);
	return -ENOMEM;
}

static void mz_classes_exit(void)
{
	int i;

	for (i = 0; i < MZ_NR_CLASSES; i++)
		kmem_cache_destroy(mz_class_cache[i]);
}

/*********************************
 * zsmalloc
 **********************************/
static struct zs_pool *mz_zpool;

/*********************************
 * the pool
 **********************************/
enum mz_allocator mz_allocator = MZ_ALLOC_SLAB;

/*
 * Set when a store found the pool at its limit; cleared once the pool has
 * shrunk below accept_threshold_percent of the limit. Stores are rejected
 * while it is set, as zswap does, so the pool does not flap at the limit.
 */
static bool mz_pool_full;

int mz_pool_init(void)
{
	if (mz_allocator == MZ_ALLOC_SLAB)
		return mz_classes_init();
	mz_zpool = zs_create_pool(KBUILD_MODNAME);
	return mz_zpool ? 0 : -ENOMEM;
}

/* After every payload is freed. */
void mz_pool_exit(void)
{
	if (mz_allocator == MZ_ALLOC_SLAB)
		mz_classes_exit();
	else
		zs_destroy_pool(mz_zpool);
}

/**
 * mz_pool_alloc - room for a payload of @size bytes
 * @size: 1 to PAGE_SIZE
 * @memcg: the cgroup to charge (slab allocator), or NULL for the current
 *	task's
 * @gfp: allocation flags; the store path gives no direct reclaim
 *
 * Returns a handle, or 0 on failure.
 */
unsigned long mz_pool_alloc(size_t size, struct mem_cgroup *memcg, gfp_t gfp)
{
	struct mem_cgroup *old;
	unsigned long handle;
	void *obj;

	if (mz_should_fail(MZ_FAULT_pool_alloc))
		return 0;
	if (mz_allocator == MZ_ALLOC_ZSMALLOC) {
		handle = zs_malloc(mz_zpool, size,
				   gfp | __GFP_HIGHMEM | __GFP_MOVABLE);
		return IS_ERR_VALUE(handle) ? 0 : handle;
	}

	old = set_active_memcg(memcg);
	obj = kmem_cache_alloc(mz_class_cache[mz_class_of(size)], gfp);
	set_active_memcg(old);
	if (!obj)
		return 0;
	atomic64_add(mz_class_bytes_of(size), &mz_class_bytes);
	return (unsigned long)obj;
}

void mz_pool_free(unsigned long handle, size_t size)
{
	if (mz_allocator == MZ_ALLOC_ZSMALLOC) {
		zs_free(mz_zpool, handle);
		return;
	}
	kmem_cache_free(mz_class_cache[mz_class_of(size)], (void *)handle);
	atomic64_sub(mz_class_bytes_of(size), &mz_class_bytes);
}

/* Bytes of its owner's charge a payload of @size holds: none in zsmalloc. */
size_t mz_pool_charge(size_t size)
{
	if (mz_allocator == MZ_ALLOC_ZSMALLOC)
		return 0;
	return mz_class_bytes_of(size);
}

/* The mapping may be per-CPU: no sleeping until mz_pool_unmap(). */
void *mz_pool_map_read(unsigned long handle)
{
	if (mz_allocator == MZ_ALLOC_ZSMALLOC)
		return zs_map_object(mz_zpool, handle, ZS_MM_RO);
	return (void *)handle;
}

void *mz_pool_map_write(unsigned long handle)
{
	if (mz_allocator == MZ_ALLOC_ZSMALLOC)
		return zs_map_object(mz_zpool, handle, ZS_MM_WO);
	return (void *)handle;
}

void mz_pool_unmap(unsigned long handle)
{
	if (mz_allocator == MZ_ALLOC_ZSMALLOC)
		zs_unmap_object(mz_zpool, handle);
}

static unsigned long mz_pool_pages(void)
{
	if (mz_allocator == MZ_ALLOC_ZSMALLOC)
		return zs_get_total_pages(mz_zpool);
	return DIV_ROUND_UP(atomic64_read(&mz_class_bytes), PAGE_SIZE);
}

u64 mz_pool_total_bytes(void)
{
	return (u64)mz_pool_pages() << PAGE_SHIFT;
}

static unsigned long mz_pool_max_pages(void)
{
	return totalram_pages() * READ_ONCE(mz_max_pool_percent) / 100;
}

/*
 * May a store go into the pool? Sets the full state on reaching the limit
 * and clears it below the acceptance threshold (zswap's hysteresis).
 */
bool mz_pool_accepting(void)
{
	unsigned long pages = mz_pool_pages();
	unsigned long max = mz_pool_max_pages();

	if (READ_ONCE(mz_pool_full)) {
		if (pages > max * READ_ONCE(mz_accept_threshold_percent) / 100)
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
	return mz_pool_pages() > mz_pool_max_pages() *
		READ_ONCE(mz_accept_threshold_percent) / 100;
}

void mz_pool_update_stats(void)
{
	mz_stat_set(MZ_STAT_pool_total_size, mz_pool_total_bytes());
}
