/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mzswap tracepoints: tracepoint:mzswap:<name> in bpftrace.
 *
 * Cgroups are named by cgroup id (what bpftrace's `cgroup` builtin and
 * bpf_get_current_cgroup_id() return; 0 = none), slots by page index.
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM mzswap

#if !defined(_TRACE_MZSWAP_H) || defined(TRACE_HEADER_MULTI_READ)
#define _TRACE_MZSWAP_H

#include <linux/tracepoint.h>

/* A page written to the device: @len compressed bytes, or @reason (a
 * counter index, 0 = stored) for a page sent to the backing device.
 */
TRACE_EVENT(mzswap_store,
	TP_PROTO(u32 slot, u64 cgroup, unsigned int len, int reason),
	TP_ARGS(slot, cgroup, len, reason),
	TP_STRUCT__entry(
		__field(u32, slot)
		__field(u64, cgroup)
		__field(unsigned int, len)
		__field(int, reason)
	),
	TP_fast_assign(
		__entry->slot = slot;
		__entry->cgroup = cgroup;
		__entry->len = len;
		__entry->reason = reason;
	),
	TP_printk("slot=%u cgroup=%llu len=%u reason=%d", __entry->slot,
		  __entry->cgroup, __entry->len, __entry->reason)
);

/* A page read: @backing 1 if it came from the backing device. */
TRACE_EVENT(mzswap_load,
	TP_PROTO(u32 slot, u64 cgroup, int backing),
	TP_ARGS(slot, cgroup, backing),
	TP_STRUCT__entry(
		__field(u32, slot)
		__field(u64, cgroup)
		__field(int, backing)
	),
	TP_fast_assign(
		__entry->slot = slot;
		__entry->cgroup = cgroup;
		__entry->backing = backing;
	),
	TP_printk("slot=%u cgroup=%llu backing=%d", __entry->slot,
		  __entry->cgroup, __entry->backing)
);

TRACE_EVENT(mzswap_invalidate,
	TP_PROTO(u32 slot, u64 cgroup),
	TP_ARGS(slot, cgroup),
	TP_STRUCT__entry(
		__field(u32, slot)
		__field(u64, cgroup)
	),
	TP_fast_assign(
		__entry->slot = slot;
		__entry->cgroup = cgroup;
	),
	TP_printk("slot=%u cgroup=%llu", __entry->slot, __entry->cgroup)
);

/* One entry written back: @err 0 on success. */
TRACE_EVENT(mzswap_writeback,
	TP_PROTO(u32 slot, u64 cgroup, int err),
	TP_ARGS(slot, cgroup, err),
	TP_STRUCT__entry(
		__field(u32, slot)
		__field(u64, cgroup)
		__field(int, err)
	),
	TP_fast_assign(
		__entry->slot = slot;
		__entry->cgroup = cgroup;
		__entry->err = err;
	),
	TP_printk("slot=%u cgroup=%llu err=%d", __entry->slot,
		  __entry->cgroup, __entry->err)
);

/* The shrinker's count for one cgroup on one node. */
TRACE_EVENT(mzswap_shrink_count,
	TP_PROTO(u64 cgroup, int nid, unsigned long count),
	TP_ARGS(cgroup, nid, count),
	TP_STRUCT__entry(
		__field(u64, cgroup)
		__field(int, nid)
		__field(unsigned long, count)
	),
	TP_fast_assign(
		__entry->cgroup = cgroup;
		__entry->nid = nid;
		__entry->count = count;
	),
	TP_printk("cgroup=%llu nid=%d count=%lu", __entry->cgroup,
		  __entry->nid, __entry->count)
);

/* The shrinker's scan: @asked by reclaim, @freed written back. */
TRACE_EVENT(mzswap_shrink_scan,
	TP_PROTO(u64 cgroup, int nid, unsigned long asked, unsigned long freed),
	TP_ARGS(cgroup, nid, asked, freed),
	TP_STRUCT__entry(
		__field(u64, cgroup)
		__field(int, nid)
		__field(unsigned long, asked)
		__field(unsigned long, freed)
	),
	TP_fast_assign(
		__entry->cgroup = cgroup;
		__entry->nid = nid;
		__entry->asked = asked;
		__entry->freed = freed;
	),
	TP_printk("cgroup=%llu nid=%d asked=%lu freed=%lu", __entry->cgroup,
		  __entry->nid, __entry->asked, __entry->freed)
);

/*
 * One step of the round-robin worker: the cgroup under the cursor, whether
 * it is online, and the outcome (entries written, or -ENOENT nothing to
 * write, -EAGAIN none could be written).
 */
TRACE_EVENT(mzswap_worker_step,
	TP_PROTO(u64 cgroup, int online, long outcome),
	TP_ARGS(cgroup, online, outcome),
	TP_STRUCT__entry(
		__field(u64, cgroup)
		__field(int, online)
		__field(long, outcome)
	),
	TP_fast_assign(
		__entry->cgroup = cgroup;
		__entry->online = online;
		__entry->outcome = outcome;
	),
	TP_printk("cgroup=%llu online=%d outcome=%ld", __entry->cgroup,
		  __entry->online, __entry->outcome)
);

/*
 * One visit of a store over a cgroup_max (mz_shrink_limit()): the cgroup
 * whose limit it met, the cgroup under that limit's cursor, and the
 * outcome as mzswap_worker_step's.
 */
TRACE_EVENT(mzswap_limit_step,
	TP_PROTO(u64 limit, u64 cgroup, long outcome),
	TP_ARGS(limit, cgroup, outcome),
	TP_STRUCT__entry(
		__field(u64, limit)
		__field(u64, cgroup)
		__field(long, outcome)
	),
	TP_fast_assign(
		__entry->limit = limit;
		__entry->cgroup = cgroup;
		__entry->outcome = outcome;
	),
	TP_printk("limit=%llu cgroup=%llu outcome=%ld", __entry->limit,
		  __entry->cgroup, __entry->outcome)
);

/* A reparenting pass: @records moved from @from to @to in @ns. */
TRACE_EVENT(mzswap_reparent,
	TP_PROTO(u64 from, u64 to, unsigned long records, u64 ns),
	TP_ARGS(from, to, records, ns),
	TP_STRUCT__entry(
		__field(u64, from)
		__field(u64, to)
		__field(unsigned long, records)
		__field(u64, ns)
	),
	TP_fast_assign(
		__entry->from = from;
		__entry->to = to;
		__entry->records = records;
		__entry->ns = ns;
	),
	TP_printk("from=%llu to=%llu records=%lu ns=%llu", __entry->from,
		  __entry->to, __entry->records, __entry->ns)
);

#endif /* _TRACE_MZSWAP_H */

/* This part must be outside protection */
#undef TRACE_INCLUDE_PATH
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_PATH .
#define TRACE_INCLUDE_FILE mzswap
#include <trace/define_trace.h>
