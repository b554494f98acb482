// SPDX-License-Identifier: BSD-3-Clause
// TCP packet-level tests: sync (being written).
#include "tcp_harness.h"
