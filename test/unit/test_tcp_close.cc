// SPDX-License-Identifier: BSD-3-Clause
// TCP packet-level tests: close (being written).
#include "tcp_harness.h"
