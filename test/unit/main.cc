// SPDX-License-Identifier: BSD-3-Clause
// googletest main for suites that need DPDK: no hugepages, no shared files
// (this DPDK refuses --in-memory with --no-huge), no devices, so suites run
// in parallel and as any user.
#include <gtest/gtest.h>

#include <rte_eal.h>
#include <rte_log.h>

int main(int argc, char **argv)
{
	::testing::InitGoogleTest(&argc, argv);
	const char *eal_args[] = {
		argv[0], "--no-huge", "-m", "256", "--no-shconf", "--no-pci",
		"--no-telemetry", "--log-level=lib.*:error", "--log-level=user1:warning",
		"-l", "0",
	};
	int eal_argc = sizeof(eal_args) / sizeof(eal_args[0]);

	if (rte_eal_init(eal_argc, const_cast<char **>(eal_args)) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return 1;
	}
	int rc = RUN_ALL_TESTS();
	rte_eal_cleanup();
	return rc;
}
