// SPDX-License-Identifier: GPL-2.0
/*
 * mzswap tracepoint definitions (include/trace/events/mzswap.h).
 */
#define CREATE_TRACE_POINTS
#include <trace/events/mzswap.h>
