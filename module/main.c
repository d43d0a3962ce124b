// SPDX-License-Identifier: GPL-2.0
/*
 * mzswap: a memcg-aware compressed swap cache for stock 6.1 kernels.
 *
 * Module parameters (/sys/module/mzswap/parameters/), each validated: a
 * bad value is refused with an errno and changes nothing.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/crypto.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/string.h>
#include <linux/workqueue.h>

#include "internal.h"

atomic64_t mz_stats[MZ_NR_STATS];
struct workqueue_struct *mz_wq;

/* Set once init is done: parameter writes act on the live module. */
static bool mz_initialized;

/*
 * Set first thing in mz_exit(), under kernel_param_lock(THIS_MODULE).
 *
 * On 6.1 ->exit() runs before mod_sysfs_teardown() removes the parameter
 * files, and param_attr_store() takes no module reference: a write can
 * arrive while, or after, the state it acts on is torn down (a backing
 * change on a released disk, a compressor created after mz_comp_exit()).
 * param_attr_store() holds the same lock across ->set(), so:
 *
 *  1. A set() that began before mz_exit() took the lock has returned
 *     before mz_exit() goes on: teardown never overlaps a set().
 *  2. Every set() after that sees mz_going and fails with -ENODEV,
 *     changing nothing.
 *
 * Every set() below calls mz_param_fenced() first. The get()s stay: they
 * read state that exit leaves valid until the files are gone.
 */
static bool mz_going;

static int mz_param_fenced(void)
{
	return mz_going ? -ENODEV : 0;
}

/*********************************
 * parameters
 **********************************/

/*
 * A bool parameter that takes exactly 0, 1, n, y, N or Y (and a newline):
 * the kernel's own bool parameters look at the first character only, so
 * "yes please" or "1x" would pass for true.
 */
static int mz_param_set_bool(const char *s, const struct kernel_param *kp)
{
	size_t n = strcspn(s, "\n");
	int err;

	err = mz_param_fenced();
	if (err)
		return err;
	if (n != 1 || s[n + (s[n] == '\n')])
		return -EINVAL;
	return param_set_bool(s, kp);
}

static const struct kernel_param_ops mz_bool_ops = {
	.flags = KERNEL_PARAM_OPS_FL_NOARG,
	.set = mz_param_set_bool,
	.get = param_get_bool,
};

/* Store new pages in the cache (else everything goes to the backing device). */
bool mz_enabled = true;
module_param_cb(enabled, &mz_bool_ops, &mz_enabled, 0644);
MODULE_PARM_DESC(enabled, "Keep stored pages in the compressed cache");

bool mz_same_filled_pages_enabled = true;
module_param_cb(same_filled_pages_enabled, &mz_bool_ops,
		&mz_same_filled_pages_enabled, 0644);
MODULE_PARM_DESC(same_filled_pages_enabled,
		 "Store pages of one repeated word as that word");

bool mz_shrinker_enabled = true;
module_param_cb(shrinker_enabled, &mz_bool_ops, &mz_shrinker_enabled, 0644);
MODULE_PARM_DESC(shrinker_enabled,
		 "Let memory reclaim write back a cgroup's entries");

/*
 * At load only: the disk's fops are chosen when it is created. N by
 * default: swap-in through the swap cache with readahead, which brings a
 * written-back page's neighbours in with one fault and lets a clean
 * swapped-in page keep its entry (issue 14's benchmark).
 */
bool mz_synchronous_io;
module_param_cb(synchronous_io, &mz_bool_ops, &mz_synchronous_io, 0444);
MODULE_PARM_DESC(synchronous_io,
		 "At load only (default N: bios, swap cache and readahead); Y: ->rw_page, so swap-in skips the swap cache and readahead (zram-like)");

/* A uint parameter that must lie in [min, max]. */
struct mz_uint_range {
	unsigned int *val;
	unsigned int min, max;
};

static int mz_param_set_range(const char *s, const struct kernel_param *kp)
{
	const struct mz_uint_range *r = kp->arg;
	unsigned int v;
	int err;

	err = mz_param_fenced();
	if (err)
		return err;
	err = kstrtouint(s, 10, &v);
	if (err)
		return err;
	if (v < r->min || v > r->max)
		return -EINVAL;
	WRITE_ONCE(*r->val, v);
	return 0;
}

static int mz_param_get_range(char *buf, const struct kernel_param *kp)
{
	const struct mz_uint_range *r = kp->arg;

	return sysfs_emit(buf, "%u\n", READ_ONCE(*r->val));
}

static const struct kernel_param_ops mz_range_ops = {
	.set = mz_param_set_range,
	.get = mz_param_get_range,
};

unsigned int mz_max_pool_percent = 20;
static struct mz_uint_range mz_max_pool_percent_range = {
	.val = &mz_max_pool_percent, .min = 1, .max = 100,
};
module_param_cb(max_pool_percent, &mz_range_ops, &mz_max_pool_percent_range,
		0644);
MODULE_PARM_DESC(max_pool_percent, "Maximum pool size, percent of RAM [1-100]");

unsigned int mz_accept_threshold_percent = 90;
static struct mz_uint_range mz_accept_threshold_percent_range = {
	.val = &mz_accept_threshold_percent, .min = 0, .max = 100,
};
module_param_cb(accept_threshold_percent, &mz_range_ops,
		&mz_accept_threshold_percent_range, 0644);
MODULE_PARM_DESC(accept_threshold_percent,
		 "Accept stores again below this percent of the pool limit [0-100]");

unsigned int mz_max_compressed_percent = 90;
static struct mz_uint_range mz_max_compressed_percent_range = {
	.val = &mz_max_compressed_percent, .min = 1, .max = 100,
};
module_param_cb(max_compressed_percent, &mz_range_ops,
		&mz_max_compressed_percent_range, 0644);
MODULE_PARM_DESC(max_compressed_percent,
		 "Pass pages compressing worse than this percent of a page through [1-100]");

unsigned int mz_incompressible_streak = 32;
static struct mz_uint_range mz_incompressible_streak_range = {
	.val = &mz_incompressible_streak, .min = 0, .max = 1U << 20,
};
module_param_cb(incompressible_streak, &mz_range_ops,
		&mz_incompressible_streak_range, 0644);
MODULE_PARM_DESC(incompressible_streak,
		 "After this many pages of a cgroup in a row compress worse than max_compressed_percent, try one page in 16 until one compresses (0: try every page) [0-1048576]");

unsigned int mz_min_hit_percent = 25;
static struct mz_uint_range mz_min_hit_percent_range = {
	.val = &mz_min_hit_percent, .min = 0, .max = 100,
};
module_param_cb(min_hit_percent, &mz_range_ops, &mz_min_hit_percent_range,
		0644);
MODULE_PARM_DESC(min_hit_percent,
		 "Once fewer than this percent of a cgroup's recent entries were loaded before being written back, try one of its pages in 16 and pass the rest through (0: cache every page) [0-100]");

unsigned int mz_hold_percent = 50;
static struct mz_uint_range mz_hold_percent_range = {
	.val = &mz_hold_percent, .min = 0, .max = 100,
};
module_param_cb(hold_percent, &mz_range_ops, &mz_hold_percent_range, 0644);
MODULE_PARM_DESC(hold_percent,
		 "A cold cgroup (min_hit_percent) under a memory.max whose working set is not short of memory keeps its entries, up to this percent of that memory.max, and passes the rest through (0: never hold) [0-100]");

unsigned int mz_passthrough_inflight_percent = 25;
static struct mz_uint_range mz_passthrough_inflight_percent_range = {
	.val = &mz_passthrough_inflight_percent, .min = 0, .max = 100,
};
module_param_cb(passthrough_inflight_percent, &mz_range_ops,
		&mz_passthrough_inflight_percent_range, 0644);
MODULE_PARM_DESC(passthrough_inflight_percent,
		 "A limited cgroup's writes passed through to the backing device and not yet landed, in percent of its memory.max (at least 32 pages), past which its reclaim waits for them (0: never wait) [0-100]");

/*
 * A new period applies at once: the sweep runs now and re-arms itself with
 * it. Not before init is done (init starts the sweep), and never once exit
 * began: mz_param_set_range() fails then (rule 2 above).
 */
static int mz_param_set_period(const char *s, const struct kernel_param *kp)
{
	int err = mz_param_set_range(s, kp);

	if (!err && mz_initialized)
		mz_sweep_kick();
	return err;
}

static const struct kernel_param_ops mz_period_ops = {
	.set = mz_param_set_period,
	.get = mz_param_get_range,
};

unsigned int mz_reparent_period_ms = 1000;
static struct mz_uint_range mz_reparent_period_ms_range = {
	.val = &mz_reparent_period_ms, .min = 0, .max = 3600000,
};
module_param_cb(reparent_period_ms, &mz_period_ops,
		&mz_reparent_period_ms_range, 0644);
MODULE_PARM_DESC(reparent_period_ms,
		 "Period of the sweep for removed cgroups, ms (0: probe only) [0-3600000]");

/* Copy a string parameter without the trailing newline sysfs writes add. */
static int mz_param_strip(const char *s, char *buf, size_t len)
{
	size_t n = strcspn(s, "\n");

	if (!n || n >= len || s[n + (s[n] == '\n')])
		return -EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return 0;
}

static char mz_compressor[MZ_COMP_NAME_LEN] = "lz4";

static int mz_param_set_compressor(const char *s,
				   const struct kernel_param *kp)
{
	char name[MZ_COMP_NAME_LEN];
	int err;

	err = mz_param_fenced();
	if (err)
		return err;
	err = mz_param_strip(s, name, sizeof(name));
	if (err)
		return err;
	if (!mz_initialized) {
		/* At load: set up (and checked) by mz_init(). */
		strscpy(mz_compressor, name, sizeof(mz_compressor));
		return 0;
	}
	return mz_comp_set(name);	/* -ENOENT: no such compressor */
}

static int mz_param_get_compressor(char *buf, const struct kernel_param *kp)
{
	char name[MZ_COMP_NAME_LEN];

	if (!mz_initialized)
		return sysfs_emit(buf, "%s\n", mz_compressor);
	mz_comp_current_name(name, sizeof(name));
	return sysfs_emit(buf, "%s\n", name);
}

static const struct kernel_param_ops mz_compressor_ops = {
	.set = mz_param_set_compressor,
	.get = mz_param_get_compressor,
};
module_param_cb(compressor, &mz_compressor_ops, NULL, 0644);
MODULE_PARM_DESC(compressor,
		 "Compressor for new stores (lzo, lzo-rle, lz4, lz4hc, zstd, 842, deflate)");

static const char * const mz_allocator_names[] = {
	[MZ_ALLOC_SLAB] = "slab",
	[MZ_ALLOC_ZSMALLOC] = "zsmalloc",
};

static int mz_param_set_allocator(const char *s,
				  const struct kernel_param *kp)
{
	char name[16];
	int i, err;

	if (mz_initialized)
		return -EBUSY;	/* entries would span two allocators */
	err = mz_param_strip(s, name, sizeof(name));
	if (err)
		return err;
	i = match_string(mz_allocator_names, ARRAY_SIZE(mz_allocator_names),
			 name);
	if (i < 0)
		return -EINVAL;
	mz_allocator = i;
	return 0;
}

static int mz_param_get_allocator(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", mz_allocator_names[mz_allocator]);
}

static const struct kernel_param_ops mz_allocator_ops = {
	.set = mz_param_set_allocator,
	.get = mz_param_get_allocator,
};
module_param_cb(allocator, &mz_allocator_ops, NULL, 0444);
MODULE_PARM_DESC(allocator,
		 "Payload allocator, at load only: slab (charged to the cgroup) or zsmalloc (denser, uncharged)");

static char mz_backing_param[64];

static int mz_param_set_backing(const char *s, const struct kernel_param *kp)
{
	char path[sizeof(mz_backing_param)];
	int err;

	err = mz_param_fenced();
	if (err)
		return err;
	err = mz_param_strip(s, path, sizeof(path));
	if (err)
		return err;
	if (!mz_initialized) {
		strscpy(mz_backing_param, path, sizeof(mz_backing_param));
		return 0;
	}
	return mz_backing_set(path);
}

static int mz_param_get_backing(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%s\n", mz_initialized ? mz_backing_get()
				      : mz_backing_param[0] ? mz_backing_param
				      : "none");
}

static const struct kernel_param_ops mz_backing_ops = {
	.set = mz_param_set_backing,
	.get = mz_param_get_backing,
};
module_param_cb(backing_dev, &mz_backing_ops, NULL, 0644);
MODULE_PARM_DESC(backing_dev,
		 "Block device behind /dev/mzswap0 (\"none\" to detach); not while swapped on");

/*********************************
 * init and exit
 **********************************/
static int __init mz_init(void)
{
	int err;

	mz_faults_init();
	mz_wq = alloc_workqueue("mzswap", WQ_UNBOUND | WQ_MEM_RECLAIM, 0);
	if (!mz_wq)
		return -ENOMEM;

	err = mz_pool_init();
	if (err)
		goto pool_fail;
	err = mz_comp_init(mz_compressor);
	if (err) {
		pr_err("compressor %s: %d\n", mz_compressor, err);
		goto comp_fail;
	}
	err = mz_entry_cache_init();
	if (err)
		goto cache_fail;
	err = mz_memcg_init();
	if (err)
		goto memcg_fail;
	err = mz_writeback_init();
	if (err)
		goto writeback_fail;
	err = mz_shrink_init();
	if (err)
		goto shrink_fail;
	err = mz_blkdev_init();
	if (err)
		goto blkdev_fail;
	if (mz_backing_param[0]) {
		err = mz_backing_set(mz_backing_param);
		if (err) {
			pr_err("backing_dev %s: %d\n", mz_backing_param, err);
			goto backing_fail;
		}
	}
	err = mz_debugfs_init();
	if (err)
		goto backing_fail;

	mz_initialized = true;
	pr_info("loaded: %s, %s, backing %s\n", mz_compressor,
		mz_allocator_names[mz_allocator], mz_backing_get());
	return 0;

backing_fail:
	mz_blkdev_exit();
blkdev_fail:
	mz_shrink_exit();
shrink_fail:
	mz_writeback_exit();
writeback_fail:
	mz_memcg_exit();
memcg_fail:
	mz_entry_cache_exit();
cache_fail:
	mz_comp_exit();
comp_fail:
	flush_workqueue(mz_wq);
	mz_pool_exit();
pool_fail:
	destroy_workqueue(mz_wq);
	return err;
}

static void __exit mz_exit(void)
{
	/* Rules 1 and 2 at mz_going: no set() runs from here on. */
	kernel_param_lock(THIS_MODULE);
	mz_going = true;
	kernel_param_unlock(THIS_MODULE);
	pr_info("unloading\n");

	mz_debugfs_exit();
	mz_blkdev_exit();	/* frees every entry, drains backing I/O */
	mz_shrink_exit();
	mz_writeback_exit();
	mz_memcg_exit();
	mz_entry_cache_exit();
	mz_comp_exit();
	flush_workqueue(mz_wq);	/* runs the compressor releases */
	mz_pool_exit();
	destroy_workqueue(mz_wq);
	pr_info("unloaded\n");
}

module_init(mz_init);
module_exit(mz_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("memcg-aware compressed swap cache in front of a swap device");
MODULE_SOFTDEP("pre: lz4 lzo lzo-rle zstd");
