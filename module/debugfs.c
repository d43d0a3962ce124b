// SPDX-License-Identifier: GPL-2.0
/*
 * mzswap debugfs: /sys/kernel/debug/mzswap/
 *
 *   <counter>          one read-only file per counter of stats.h
 *   writeback          write N: write back up to N entries now
 *   cgroups            the per-cgroup table (docs/admin-guide.md, "Per-cgroup table")
 *   cgroup_max         write "<path> <bytes>|max": compressed limit
 *   cgroup_writeback   write "<path> 0|1": writeback switch
 *   reparent           write 1: run a reparenting sweep and pass now
 *   check              read: the records' consistency check
 *   corrupt            test only: write "<path> <delta>" to skew a
 *                      cgroup's record count, which check must report
 *   compressors        read: each live compressor and its entries
 *   faults/<point>/    fault injection (module/fault.c)
 *
 * Paths are cgroup2 paths relative to the cgroup2 mount ("/" is the root).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/debugfs.h>
#include <linux/kernel.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/stringify.h>
#include <linux/uaccess.h>

#include "internal.h"

static struct dentry *mz_debugfs_root;

/* The longest line a knob accepts: a cgroup path and a number. */
#define MZ_KNOB_MAX	(PATH_MAX + 32)

/*********************************
 * counters
 **********************************/
static int mz_stat_get(void *data, u64 *val)
{
	enum mz_stat_item item = (uintptr_t)data;

	if (item == MZ_STAT_pool_total_size)
		mz_pool_update_stats();
	*val = mz_stat_read(item);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(mz_stat_fops, mz_stat_get, NULL, "%llu\n");

static const char * const mz_stat_names[] = {
#define MZ_STAT(name, help) __stringify(name),
#include <mzswap/stats.h>
#undef MZ_STAT
};

/*********************************
 * knobs
 **********************************/

/* Copy a knob's input, without its trailing newline. */
static char *mz_knob_input(const char __user *ubuf, size_t len)
{
	char *buf;

	if (!len || len > MZ_KNOB_MAX)
		return ERR_PTR(-EINVAL);
	buf = memdup_user_nul(ubuf, len);
	if (IS_ERR(buf))
		return buf;
	if (buf[len - 1] == '\n')
		buf[len - 1] = '\0';
	return buf;
}

static ssize_t mz_writeback_write(struct file *file, const char __user *ubuf,
				  size_t len, loff_t *ppos)
{
	unsigned long nr;
	int err;

	err = kstrtoul_from_user(ubuf, len, 10, &nr);
	if (err)
		return err;
	if (!nr)
		return -EINVAL;
	mz_writeback_global(nr);
	return len;
}

static const struct file_operations mz_writeback_fops = {
	.owner = THIS_MODULE,
	.write = mz_writeback_write,
	.llseek = noop_llseek,
};

/*
 * Split "<path> <value>" at the last space. Returns the value part, or an
 * error if either part is missing.
 */
static char *mz_knob_split(char *buf)
{
	char *sp = strrchr(buf, ' ');

	if (!sp || sp == buf || !sp[1])
		return ERR_PTR(-EINVAL);
	*sp = '\0';
	return sp + 1;
}

/*
 * A "<cgroup path> <value>" knob. @set parses the value and applies it to
 * the cgroup; it returns 0 or an errno and changes nothing on error.
 */
struct mz_cg_knob {
	int (*set)(const char *path, const char *val);
};

static int mz_cg_max_set(const char *path, const char *val)
{
	u64 max;
	int err;

	if (!strcmp(val, "max"))
		return mz_cgroup_set_max(path, U64_MAX);
	err = kstrtou64(val, 0, &max);
	if (err)
		return err;
	/* U64_MAX is "max": spelt as a number it is out of range. */
	if (max == U64_MAX)
		return -ERANGE;
	return mz_cgroup_set_max(path, max);
}

static int mz_cg_wb_set(const char *path, const char *val)
{
	if (strcmp(val, "0") && strcmp(val, "1"))
		return -EINVAL;
	return mz_cgroup_set_writeback(path, val[0] == '1');
}

static int mz_corrupt_set(const char *path, const char *val)
{
	s64 delta;
	int err;

	err = kstrtos64(val, 10, &delta);
	if (err)
		return err;
	return delta ? mz_cgroup_corrupt(path, delta) : -EINVAL;
}

static struct mz_cg_knob mz_cg_max_knob = { .set = mz_cg_max_set };
static struct mz_cg_knob mz_cg_wb_knob = { .set = mz_cg_wb_set };
static struct mz_cg_knob mz_corrupt_knob = { .set = mz_corrupt_set };

/* The knob is the file's data (simple_open()). */
static ssize_t mz_cg_knob_write(struct file *file, const char __user *ubuf,
				size_t len, loff_t *ppos)
{
	const struct mz_cg_knob *knob = file->private_data;
	char *buf, *val;
	int err;

	buf = mz_knob_input(ubuf, len);
	if (IS_ERR(buf))
		return PTR_ERR(buf);
	val = mz_knob_split(buf);
	err = IS_ERR(val) ? PTR_ERR(val) : knob->set(buf, val);
	kfree(buf);
	return err ?: len;
}

static const struct file_operations mz_cg_knob_fops = {
	.owner = THIS_MODULE,
	.open = simple_open,
	.write = mz_cg_knob_write,
	.llseek = noop_llseek,
};

static ssize_t mz_reparent_write(struct file *file, const char __user *ubuf,
				 size_t len, loff_t *ppos)
{
	unsigned int v;
	int err;

	err = kstrtouint_from_user(ubuf, len, 10, &v);
	if (err)
		return err;
	if (v != 1)
		return -EINVAL;
	mz_sweep();
	return len;
}

static const struct file_operations mz_reparent_fops = {
	.owner = THIS_MODULE,
	.write = mz_reparent_write,
	.llseek = noop_llseek,
};

/*********************************
 * fault injection
 **********************************/
static const char * const mz_fault_names[] = {
#define MZ_FAULT(name, outcome) __stringify(name),
#include <mzswap/faults.h>
#undef MZ_FAULT
};

static int mz_fault_probability_set(void *data, u64 val)
{
	struct mz_fault *f = data;

	if (val > 100)
		return -EINVAL;
	WRITE_ONCE(f->probability, val);
	return 0;
}

static int mz_fault_probability_get(void *data, u64 *val)
{
	*val = READ_ONCE(((struct mz_fault *)data)->probability);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(mz_fault_probability_fops, mz_fault_probability_get,
			 mz_fault_probability_set, "%llu\n");

static int mz_fault_interval_set(void *data, u64 val)
{
	struct mz_fault *f = data;

	if (!val || val > UINT_MAX)
		return -EINVAL;
	WRITE_ONCE(f->interval, val);
	return 0;
}

static int mz_fault_interval_get(void *data, u64 *val)
{
	*val = READ_ONCE(((struct mz_fault *)data)->interval);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(mz_fault_interval_fops, mz_fault_interval_get,
			 mz_fault_interval_set, "%llu\n");

static int mz_fault_times_set(void *data, u64 val)
{
	struct mz_fault *f = data;
	s64 v = (s64)val;

	if (v < -1 || v > INT_MAX)
		return -EINVAL;
	atomic_set(&f->times, v);
	return 0;
}

static int mz_fault_times_get(void *data, u64 *val)
{
	*val = (s64)atomic_read(&((struct mz_fault *)data)->times);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE_SIGNED(mz_fault_times_fops, mz_fault_times_get,
				mz_fault_times_set, "%lld\n");

static int mz_fault_injected_get(void *data, u64 *val)
{
	*val = atomic64_read(&((struct mz_fault *)data)->injected);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(mz_fault_injected_fops, mz_fault_injected_get, NULL,
			 "%llu\n");

static void mz_debugfs_faults_init(struct dentry *root)
{
	struct dentry *dir = debugfs_create_dir("faults", root);
	int i;

	for (i = 0; i < MZ_NR_FAULTS; i++) {
		struct dentry *d = debugfs_create_dir(mz_fault_names[i], dir);
		struct mz_fault *f = &mz_faults[i];

		debugfs_create_file_unsafe("probability", 0600, d, f,
					   &mz_fault_probability_fops);
		debugfs_create_file_unsafe("interval", 0600, d, f,
					   &mz_fault_interval_fops);
		debugfs_create_file_unsafe("times", 0600, d, f,
					   &mz_fault_times_fops);
		debugfs_create_file_unsafe("injected", 0400, d, f,
					   &mz_fault_injected_fops);
	}
}

/*********************************
 * tables
 **********************************/
static int mz_cgroups_seq_show(struct seq_file *m, void *v)
{
	mz_cgroups_show(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(mz_cgroups_seq);

static int mz_comps_seq_show(struct seq_file *m, void *v)
{
	mz_comps_show(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(mz_comps_seq);

static int mz_check_seq_show(struct seq_file *m, void *v)
{
	mz_records_check(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(mz_check_seq);

/*********************************
 * init and exit
 **********************************/
int mz_debugfs_init(void)
{
	struct dentry *root;
	int i;

	root = debugfs_create_dir(MZ_DEBUGFS_DIR, NULL);
	if (IS_ERR(root))
		return PTR_ERR(root);
	mz_debugfs_root = root;

	for (i = 0; i < MZ_NR_STATS; i++)
		debugfs_create_file_unsafe(mz_stat_names[i], 0444, root,
					   (void *)(uintptr_t)i, &mz_stat_fops);
	debugfs_create_file(MZ_DEBUGFS_WRITEBACK, 0200, root, NULL,
			    &mz_writeback_fops);
	debugfs_create_file(MZ_DEBUGFS_CGROUPS, 0444, root, NULL,
			    &mz_cgroups_seq_fops);
	debugfs_create_file(MZ_DEBUGFS_CG_MAX, 0200, root, &mz_cg_max_knob,
			    &mz_cg_knob_fops);
	debugfs_create_file(MZ_DEBUGFS_CG_WB, 0200, root, &mz_cg_wb_knob,
			    &mz_cg_knob_fops);
	debugfs_create_file(MZ_DEBUGFS_REPARENT, 0200, root, NULL,
			    &mz_reparent_fops);
	debugfs_create_file(MZ_DEBUGFS_CHECK, 0444, root, NULL,
			    &mz_check_seq_fops);
	debugfs_create_file(MZ_DEBUGFS_CORRUPT, 0200, root, &mz_corrupt_knob,
			    &mz_cg_knob_fops);
	debugfs_create_file(MZ_DEBUGFS_COMPRESSORS, 0444, root, NULL,
			    &mz_comps_seq_fops);
	mz_debugfs_faults_init(root);
	return 0;
}

void mz_debugfs_exit(void)
{
	debugfs_remove_recursive(mz_debugfs_root);
}
