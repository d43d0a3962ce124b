// SPDX-License-Identifier: GPL-2.0
/*
 * mzswap compression: per-CPU contexts of the kernel's compressors, and
 * switching the compressor for new stores while old entries keep the one
 * they were compressed with.
 *
 * An entry names its compressor by a one-byte index into mz_comps[], not
 * by a pointer. Lifetime rules:
 *
 *  1. A compressor takes a free index when it is created and gives it back
 *     in its release work, right before it is freed; both under
 *     mz_comp_lock. An index is never reused while its compressor lives.
 *  2. Every entry compressed with it holds a percpu reference, taken by
 *     mz_comp_get_current() and handed over with mz_comp_entry_add(); so
 *     does mz_comp_current while it is current. A switch kills the
 *     reference of the one it replaces; the last entry's mz_comp_put()
 *     then releases it (from a work item: crypto teardown may sleep).
 *  3. Hence mz_comp_of() of an entry's index needs no lock: the entry's
 *     reference keeps both the compressor and its index (rule 1).
 *  4. Only mz_comp_lock holders walk mz_comps[] (the debugfs listing): the
 *     release work takes it before it frees.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/crypto.h>
#include <linux/mm.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/rcupdate.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "internal.h"

/* The compressor new stores use; entries keep their own mz_comp alive. */
static struct mz_comp __rcu *mz_comp_current;
/* Serialises compressor switches, index allocation and release. */
static DEFINE_MUTEX(mz_comp_lock);
/* Live compressors by index; 0 is no compressor (same-filled entries). */
static struct mz_comp *mz_comps[MZ_COMP_MAX + 1];

/* The compressor of index @idx, which a reference holder keeps (rule 3). */
struct mz_comp *mz_comp_of(u8 idx)
{
	return READ_ONCE(mz_comps[idx]);
}

static void mz_comp_free(struct mz_comp *comp)
{
	int cpu;

	for_each_possible_cpu(cpu) {
		struct mz_comp_ctx *ctx = per_cpu_ptr(comp->ctx, cpu);

		if (!IS_ERR_OR_NULL(ctx->tfm))
			crypto_free_comp(ctx->tfm);
		kfree(ctx->buf);
	}
	free_percpu(comp->ctx);
	percpu_ref_exit(&comp->ref);
	kfree(comp);
}

static void mz_comp_release_workfn(struct work_struct *work)
{
	struct mz_comp *comp = container_of(work, struct mz_comp, release_work);

	pr_debug("compressor %s released\n", comp->name);
	/* Rule 1: the index is free once the compressor is gone. */
	mutex_lock(&mz_comp_lock);
	WRITE_ONCE(mz_comps[comp->idx], NULL);
	mutex_unlock(&mz_comp_lock);
	mz_comp_free(comp);
}

/* The last reference is gone; possibly in RCU callback context. */
static void mz_comp_release(struct percpu_ref *ref)
{
	struct mz_comp *comp = container_of(ref, struct mz_comp, ref);

	queue_work(mz_wq, &comp->release_work);
}

/* A free index, or 0 if every one is taken. Caller holds mz_comp_lock. */
static u8 mz_comp_free_idx(void)
{
	unsigned int i;

	for (i = 1; i <= MZ_COMP_MAX; i++)
		if (!mz_comps[i])
			return i;
	return 0;
}

/* Caller holds mz_comp_lock. */
static struct mz_comp *mz_comp_create(const char *name)
{
	struct mz_comp *comp;
	int cpu, err;
	u8 idx;

	lockdep_assert_held(&mz_comp_lock);
	if (!crypto_has_comp(name, 0, 0))
		return ERR_PTR(-ENOENT);
	/* Every index held by a compressor some entries still use. */
	idx = mz_comp_free_idx();
	if (!idx)
		return ERR_PTR(-EBUSY);

	comp = kzalloc(sizeof(*comp), GFP_KERNEL);
	if (!comp)
		return ERR_PTR(-ENOMEM);
	strscpy(comp->name, name, sizeof(comp->name));
	INIT_WORK(&comp->release_work, mz_comp_release_workfn);

	err = percpu_ref_init(&comp->ref, mz_comp_release, 0, GFP_KERNEL);
	if (err)
		goto free_comp;

	comp->ctx = alloc_percpu(struct mz_comp_ctx);
	if (!comp->ctx) {
		err = -ENOMEM;
		goto exit_ref;
	}

	for_each_possible_cpu(cpu) {
		struct mz_comp_ctx *ctx = per_cpu_ptr(comp->ctx, cpu);

		local_lock_init(&ctx->lock);
		ctx->buf = kmalloc_node(2 * PAGE_SIZE, GFP_KERNEL,
					cpu_to_node(cpu));
		ctx->tfm = crypto_alloc_comp(name, 0, 0);
		if (!ctx->buf || IS_ERR(ctx->tfm)) {
			err = IS_ERR(ctx->tfm) ? PTR_ERR(ctx->tfm) : -ENOMEM;
			goto free_ctx;
		}
	}
	comp->idx = idx;
	WRITE_ONCE(mz_comps[idx], comp);	/* rule 1 */
	return comp;

free_ctx:
	mz_comp_free(comp);
	return ERR_PTR(err);
exit_ref:
	percpu_ref_exit(&comp->ref);
free_comp:
	kfree(comp);
	return ERR_PTR(err);
}

/**
 * mz_comp_get_current - reference the compressor new stores use
 *
 * Returns NULL only while the module is being torn down.
 */
struct mz_comp *mz_comp_get_current(void)
{
	struct mz_comp *comp;

	rcu_read_lock();
	do {
		comp = rcu_dereference(mz_comp_current);
		/*
		 * A switch may have killed this one after we read the
		 * pointer; the new one is already published then.
		 */
	} while (comp && !percpu_ref_tryget_live(&comp->ref));
	rcu_read_unlock();
	return comp;
}

void mz_comp_put(struct mz_comp *comp)
{
	percpu_ref_put(&comp->ref);
}

/* An entry takes over the caller's reference on @comp (rule 2). */
u8 mz_comp_entry_add(struct mz_comp *comp)
{
	atomic_long_inc(&comp->nr_entries);
	return comp->idx;
}

/* An entry of index @idx is freed: drop its reference (rule 2). */
void mz_comp_entry_del(u8 idx)
{
	struct mz_comp *comp = mz_comp_of(idx);

	atomic_long_dec(&comp->nr_entries);
	mz_comp_put(comp);
}

/*
 * One line per live compressor: index, name, entries that use it, and
 * whether new stores use it ("current") or it only lives on for its
 * entries ("retired").
 */
void mz_comps_show(struct seq_file *m)
{
	struct mz_comp *cur;
	unsigned int i;

	seq_puts(m, "# index name entries state\n");
	mutex_lock(&mz_comp_lock);	/* rule 4 */
	cur = rcu_dereference_protected(mz_comp_current,
					lockdep_is_held(&mz_comp_lock));
	for (i = 1; i <= MZ_COMP_MAX; i++) {
		struct mz_comp *comp = mz_comps[i];

		if (comp)
			seq_printf(m, "%u %s %ld %s\n", i, comp->name,
				   atomic_long_read(&comp->nr_entries),
				   comp == cur ? "current" : "retired");
	}
	mutex_unlock(&mz_comp_lock);
}

void mz_comp_current_name(char *buf, size_t len)
{
	struct mz_comp *comp;

	rcu_read_lock();
	comp = rcu_dereference(mz_comp_current);
	strscpy(buf, comp ? comp->name : "", len);
	rcu_read_unlock();
}

/**
 * mz_comp_set - make @name the compressor of new stores
 * @name: a compressor the crypto API knows (lzo, lz4, zstd, ...)
 *
 * Entries compressed with the previous one still decompress with it; it is
 * freed after the last of them. Returns -ENOENT if the kernel has no such
 * compressor, -EBUSY if all MZ_COMP_MAX indexes belong to compressors that
 * entries still use, with nothing changed.
 */
int mz_comp_set(const char *name)
{
	struct mz_comp *new, *old;

	mutex_lock(&mz_comp_lock);
	old = rcu_dereference_protected(mz_comp_current,
					lockdep_is_held(&mz_comp_lock));
	if (old && !strcmp(old->name, name)) {
		mutex_unlock(&mz_comp_lock);
		return 0;
	}
	new = mz_comp_create(name);
	if (IS_ERR(new)) {
		mutex_unlock(&mz_comp_lock);
		return PTR_ERR(new);
	}
	rcu_assign_pointer(mz_comp_current, new);
	mutex_unlock(&mz_comp_lock);

	if (old)
		percpu_ref_kill(&old->ref);
	pr_info("compressor %s\n", name);
	return 0;
}

/*
 * A CPU's context of @comp, with preemption (or, on RT, migration) disabled
 * until mz_comp_ctx_put(). The buffer is the context's own until then.
 */
struct mz_comp_ctx *mz_comp_ctx_get(struct mz_comp *comp)
{
	local_lock(&comp->ctx->lock);
	return this_cpu_ptr(comp->ctx);
}

void mz_comp_ctx_put(struct mz_comp *comp)
{
	local_unlock(&comp->ctx->lock);
}

/* Compress one page at @src into ctx->buf; *dlen is set to the length. */
int mz_comp_compress(struct mz_comp_ctx *ctx, const void *src,
		     unsigned int *dlen)
{
	if (mz_should_fail(MZ_FAULT_compress))
		return -EINVAL;
	*dlen = 2 * PAGE_SIZE;
	return crypto_comp_compress(ctx->tfm, src, PAGE_SIZE, ctx->buf, dlen);
}

/* Decompress @slen bytes at @src into the page at @dst: exactly a page. */
int mz_comp_decompress(struct mz_comp_ctx *ctx, const void *src,
		       unsigned int slen, void *dst)
{
	unsigned int dlen = PAGE_SIZE;
	int err;

	if (mz_should_fail(MZ_FAULT_decompress))
		return -EIO;
	err = crypto_comp_decompress(ctx->tfm, src, slen, dst, &dlen);
	if (!err && dlen != PAGE_SIZE)
		err = -EINVAL;
	return err;
}

int mz_comp_init(const char *name)
{
	return mz_comp_set(name);
}

/* After every entry is gone: drop the current compressor. */
void mz_comp_exit(void)
{
	struct mz_comp *comp;

	mutex_lock(&mz_comp_lock);
	comp = rcu_replace_pointer(mz_comp_current, NULL,
				   lockdep_is_held(&mz_comp_lock));
	mutex_unlock(&mz_comp_lock);
	if (comp)
		percpu_ref_kill(&comp->ref);
	/* The release callbacks run after a grace period; they queue work. */
	rcu_barrier();
}
