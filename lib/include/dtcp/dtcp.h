/* SPDX-License-Identifier: BSD-3-Clause */
/* The public surface of dtcp. */
#ifndef DTCP_H
#define DTCP_H

#include <dtcp/chan.h>
#include <dtcp/config.h>
#include <dtcp/counters.h>
#include <dtcp/port.h>
#include <dtcp/tcp.h>
#include <dtcp/worker.h>

#endif
