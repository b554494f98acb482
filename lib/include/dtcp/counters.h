/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef DTCP_COUNTERS_H
#define DTCP_COUNTERS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* One enum value per line of counters.def. */
enum dtcp_ctr {
#define DTCP_CTR(name, kind, desc) DTCP_CTR_##name,
#include <dtcp/counters.def>
#undef DTCP_CTR
	DTCP_CTR_MAX
};

enum dtcp_ctr_kind {
	DTCP_CTR_KIND_EVENT,
	DTCP_CTR_KIND_DROP,
	DTCP_CTR_KIND_END,
	DTCP_CTR_KIND_TXDROP,
};

const char *dtcp_ctr_name(enum dtcp_ctr c);
const char *dtcp_ctr_desc(enum dtcp_ctr c);
enum dtcp_ctr_kind dtcp_ctr_kind(enum dtcp_ctr c);

#ifdef __cplusplus
}
#endif
#endif
