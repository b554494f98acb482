/* SPDX-License-Identifier: BSD-3-Clause */
/* The library's rte_log type ("dtcp"); control path only, never per packet. */
#ifndef DTCP_LOG_H
#define DTCP_LOG_H

#include <rte_log.h>

extern int dtcp_logtype;

#define DTCP_LOG(level, fmt, ...) \
	rte_log(RTE_LOG_##level, dtcp_logtype, "dtcp: " fmt "\n", ##__VA_ARGS__)

#endif
