// SPDX-License-Identifier: GPL-2.0
/*
 * xmcmod - test-only module: cross-modifying code in the test VM.
 *
 * tests/02-xmc.sh loads it to check that the VM executes code that another
 * CPU patches (jump labels, tracepoints, kprobes: text_poke_bp()) as it
 * stands in memory. A kthread bound to CPU spin_cpu (1) goes round a loop over
 * a static branch; a kthread bound to CPU toggle_cpu (0) enables and disables
 * the branch's key "toggles" times. On x86 each toggle is text_poke_bp():
 * an INT3 over the first byte, the tail, the first byte, each followed by
 * an IPI to every CPU. After each toggle the toggler waits for the spinner
 * to go round its loop again.
 *
 * QEMU 7.2's multi-threaded TCG can translate the site while another vCPU
 * rewrites it and keep that translation, INT3 and all, after the byte
 * changed: the spinner then traps, kprobe_int3_handler() finds no INT3 in
 * memory, backs the IP up and returns, for ever (the 2026-12-04 make demo
 * hang; docs/notes/2026-12-05-tcg-cross-modifying-code.md). A spinner that
 * does not move for stall_ms after a toggle, nor for stall_ms more, is
 * stuck: the module logs the site's bytes and the spinner's stack and
 * stops toggling (the next text_poke_bp() could turn the loop into an
 * unhandled INT3, a panic).
 *
 * Loading runs the test and returns once it is over (0 unless it could
 * not start); the results are the read-only parameters below. A stuck
 * spinner keeps the module loaded (rmmod: EBUSY), as it runs its code.
 */
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/jiffies.h>
#include <linux/jump_label.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/sched/debug.h>
#include <linux/sched/task.h>

/*
 * Not CPU 0: a spinner stuck there would also keep poweroff, which moves
 * to CPU 0 first, from ending the VM.
 */
static unsigned int spin_cpu = 1;
module_param(spin_cpu, uint, 0444);
MODULE_PARM_DESC(spin_cpu, "CPU the spinner is bound to (default 1)");

static unsigned int toggle_cpu;
module_param(toggle_cpu, uint, 0444);
MODULE_PARM_DESC(toggle_cpu, "CPU the toggler is bound to (default 0)");

static unsigned int toggles = 4000;
module_param(toggles, uint, 0444);
MODULE_PARM_DESC(toggles, "static key enables plus disables (default 4000)");

static unsigned int stall_ms = 2000;
module_param(stall_ms, uint, 0444);
MODULE_PARM_DESC(stall_ms, "a spinner still for 2 x stall_ms is stuck (default 2000)");

/* Results. */

/* Toggles done. */
static unsigned int toggled;
module_param(toggled, uint, 0444);
MODULE_PARM_DESC(toggled, "result: toggles done");

/* Times the spinner stood still for stall_ms, then moved on by itself. */
static unsigned int slow;
module_param(slow, uint, 0444);
MODULE_PARM_DESC(slow, "result: spinner still for stall_ms, then moved on by itself");

/* 1 if the spinner stood still for 2 x stall_ms after a toggle. */
static unsigned int stuck;
module_param(stuck, uint, 0444);
MODULE_PARM_DESC(stuck, "result: 1 if the spinner got stuck after a toggle");

/* Spinner loops, over the whole run. */
static unsigned long loops;
module_param(loops, ulong, 0444);
MODULE_PARM_DESC(loops, "result: spinner loops");

/* Loops that took the branch (key enabled). */
static unsigned long taken;
module_param(taken, ulong, 0444);
MODULE_PARM_DESC(taken, "result: spinner loops that took the branch");

static DEFINE_STATIC_KEY_FALSE(xmc_key);
static struct task_struct *xmc_spinner;
static DECLARE_COMPLETION(xmc_done);

/* One static branch site: each toggle patches every one of them. */
#define XMC_SITE()						\
	do {							\
		if (static_branch_unlikely(&xmc_key))		\
			WRITE_ONCE(taken, taken + 1);		\
		barrier();					\
	} while (0)

/*
 * 16 sites per loop, 16 chances per toggle to catch a vCPU translating a
 * site while it is rewritten: a few hundred toggles do what thousands
 * over one site did (docs/notes/2026-12-05-tcg-cross-modifying-code.md).
 */
static int xmc_spin_fn(void *unused)
{
	while (!kthread_should_stop()) {
		XMC_SITE(); XMC_SITE(); XMC_SITE(); XMC_SITE();
		XMC_SITE(); XMC_SITE(); XMC_SITE(); XMC_SITE();
		XMC_SITE(); XMC_SITE(); XMC_SITE(); XMC_SITE();
		XMC_SITE(); XMC_SITE(); XMC_SITE(); XMC_SITE();
		WRITE_ONCE(loops, loops + 1);
		cond_resched();
	}
	return 0;
}

static void xmc_toggle(void)
{
	if (static_key_enabled(&xmc_key))
		static_branch_disable(&xmc_key);
	else
		static_branch_enable(&xmc_key);
}

/*
 * xmc_moved: wait up to @ms for the spinner to pass the site after it was
 * at @seen loops: two more loops, as the first may have passed it before.
 */
static bool xmc_moved(unsigned long seen, unsigned int ms)
{
	unsigned long end = jiffies + msecs_to_jiffies(ms);

	while (READ_ONCE(loops) - seen < 2) {
		if (time_after(jiffies, end))
			return false;
		cond_resched();
		cpu_relax();
	}
	return true;
}

/* xmc_report_stuck: the spinner stands still: say where and on what. */
static void xmc_report_stuck(void)
{
	unsigned int i;
	const u8 *site;

	stuck = 1;
	pr_warn("xmcmod: spinner on CPU %u stuck %u ms after toggle %u, key %s; in memory:\n",
		spin_cpu, 2 * stall_ms, toggled,
		static_key_enabled(&xmc_key) ? "on" : "off");
	for (i = 0; i < THIS_MODULE->num_jump_entries; i++) {
		site = (const u8 *)jump_entry_code(&THIS_MODULE->jump_entries[i]);
		pr_warn("xmcmod:   %pS: %5ph\n", site, site);
	}
	sched_show_task(xmc_spinner);
}

static int xmc_toggle_fn(void *unused)
{
	unsigned long seen;

	while (toggled < toggles && !stuck) {
		xmc_toggle();
		toggled++;
		/* The text_poke_bp() is over: the spinner must run the new code. */
		seen = READ_ONCE(loops);
		if (xmc_moved(seen, stall_ms))
			continue;
		/* A vCPU thread the host did not run for a while? */
		if (xmc_moved(seen, stall_ms)) {
			slow++;
			continue;
		}
		xmc_report_stuck();
	}
	if (static_key_enabled(&xmc_key) && !stuck)
		static_branch_disable(&xmc_key);
	complete(&xmc_done);
	return 0;
}

static int __init xmcmod_init(void)
{
	struct task_struct *toggler;

	if (spin_cpu == toggle_cpu || !cpu_online(spin_cpu) ||
	    !cpu_online(toggle_cpu))
		return -EINVAL;

	xmc_spinner = kthread_create(xmc_spin_fn, NULL, "xmc_spin");
	if (IS_ERR(xmc_spinner))
		return PTR_ERR(xmc_spinner);
	kthread_bind(xmc_spinner, spin_cpu);
	get_task_struct(xmc_spinner);
	wake_up_process(xmc_spinner);

	toggler = kthread_create(xmc_toggle_fn, NULL, "xmc_toggle");
	if (IS_ERR(toggler)) {
		kthread_stop(xmc_spinner);
		put_task_struct(xmc_spinner);
		return PTR_ERR(toggler);
	}
	kthread_bind(toggler, toggle_cpu);
	wake_up_process(toggler);
	/* Not one long uninterruptible sleep: the hung task check. */
	while (!wait_for_completion_timeout(&xmc_done, 10 * HZ))
		;

	pr_info("xmcmod: %u toggles, %lu spinner loops (%lu took the branch), %u slow, %u stuck\n",
		toggled, READ_ONCE(loops), READ_ONCE(taken), slow, stuck);
	if (stuck)
		__module_get(THIS_MODULE);
	return 0;
}
module_init(xmcmod_init);

static void __exit xmcmod_exit(void)
{
	kthread_stop(xmc_spinner);
	put_task_struct(xmc_spinner);
}
module_exit(xmcmod_exit);

MODULE_DESCRIPTION("mzswap test harness: cross-modifying code under TCG");
MODULE_LICENSE("GPL");
