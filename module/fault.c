// SPDX-License-Identifier: GPL-2.0
/*
 * mzswap fault injection, in the spirit of the kernel's fault_attr (which
 * Debian's kernel does not build): per injection point, a probability, an
 * interval and a number of times, set in debugfs under faults/<point>/.
 *
 *   probability   percent of eligible calls that fail (0-100)
 *   interval      only every interval-th call is eligible (>= 1)
 *   times         failures left: -1 unlimited, 0 off (the default)
 *   injected      (read) failures injected so far
 *
 * What each injected failure does is documented with the points in
 * include/mzswap/faults.h; none may lose or corrupt a page silently.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/prandom.h>

#include "internal.h"

struct mz_fault mz_faults[MZ_NR_FAULTS];

/**
 * mz_should_fail - should this call of injection point @id fail?
 * @id: the injection point
 *
 * Cheap when the point is off: one read of @times.
 */
bool mz_should_fail(enum mz_fault_id id)
{
	struct mz_fault *f = &mz_faults[id];
	unsigned int interval, probability;
	u64 n;

	if (likely(!atomic_read(&f->times)))
		return false;
	n = atomic64_inc_return(&f->calls);
	interval = READ_ONCE(f->interval);
	if (interval > 1 && n % interval)
		return false;
	probability = READ_ONCE(f->probability);
	if (probability < 100 && prandom_u32_max(100) >= probability)
		return false;
	/* -1 stays -1; a positive count runs down to 0 and stops. */
	if (atomic_read(&f->times) > 0 && atomic_dec_if_positive(&f->times) < 0)
		return false;
	atomic64_inc(&f->injected);
	return true;
}

void mz_faults_init(void)
{
	int i;

	for (i = 0; i < MZ_NR_FAULTS; i++) {
		mz_faults[i].probability = 100;
		mz_faults[i].interval = 1;
	}
}
