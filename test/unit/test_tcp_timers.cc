// SPDX-License-Identifier: BSD-3-Clause
// TCP packet-level tests: timers (being written).
#include "tcp_harness.h"
