// SPDX-License-Identifier: GPL-2.0
/*
 * warnmod - test-only module that WARNs when loaded.
 *
 * tests/01-klog-selftest.sh loads it inside the test VM to prove that
 * scripts/vm.sh fails a run whose kernel log holds a warning. With warn=0
 * it loads quietly, the control run.
 */
#include <linux/bug.h>
#include <linux/init.h>
#include <linux/module.h>

static bool warn = true;
module_param(warn, bool, 0444);
MODULE_PARM_DESC(warn, "WARN_ON() in module init (default: true)");

static int __init warnmod_init(void)
{
	WARN_ON(warn);
	return 0;
}
module_init(warnmod_init);

static void __exit warnmod_exit(void)
{
}
module_exit(warnmod_exit);

MODULE_DESCRIPTION("mzswap test harness: planted kernel warning");
MODULE_LICENSE("GPL");
