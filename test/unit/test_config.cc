// SPDX-License-Identifier: BSD-3-Clause
// Configuration: defaults, keys, INI files, command-line overrides, errors.
#include <cmath>
#include <cstdio>
#include <dirent.h>
#include <fstream>
#include <string>

#include "harness.h"

namespace {

class Config : public ::testing::Test {
protected:
	void SetUp() override { dtcp_config_defaults(&cfg_); }
	int Set(const char *sec, const char *key, const char *val)
	{
		err_[0] = '\0';
		return dtcp_config_set(&cfg_, sec, key, val, err_, sizeof(err_));
	}
	std::string WriteFile(const std::string &text)
	{
		char path[] = "/tmp/dtcp_cfg_XXXXXX";
		int fd = mkstemp(path);
		EXPECT_GE(fd, 0);
		FILE *f = fdopen(fd, "w");
		fputs(text.c_str(), f);
		fclose(f);
		files_.push_back(path);
		return path;
	}
	void TearDown() override
	{
		for (const auto &f : files_)
			remove(f.c_str());
	}
	struct dtcp_config cfg_;
	char err_[256];
	std::vector<std::string> files_;
};

TEST_F(Config, DefaultsAreValid)
{
	EXPECT_EQ(dtcp_config_validate(&cfg_, err_, sizeof(err_)), 0) << err_;
	EXPECT_EQ(cfg_.mtu, 1500);
	EXPECT_EQ(cfg_.n_addrs, 1u);
	EXPECT_EQ(cfg_.addrs[0].addr, Ip(198, 18, 0, 2));
}

TEST_F(Config, NumbersWithinRangeOnly)
{
	EXPECT_EQ(Set("port", "mtu", "65535"), 0);
	EXPECT_EQ(cfg_.mtu, 65535);
	EXPECT_EQ(Set("port", "mtu", "9000"), 0);
	EXPECT_EQ(cfg_.mtu, 9000);
	EXPECT_EQ(Set("port", "mtu", "65536"), -EINVAL);
	EXPECT_NE(std::string(err_).find("576..65535"), std::string::npos) << err_;
	EXPECT_EQ(Set("port", "mtu", "575"), -EINVAL);
	EXPECT_EQ(Set("port", "mtu", "-1"), -EINVAL);
	EXPECT_EQ(Set("port", "mtu", "15x"), -EINVAL);
	EXPECT_EQ(Set("port", "mtu", ""), -EINVAL);
	EXPECT_EQ(Set("arp", "retries", "0"), -EINVAL);
	EXPECT_EQ(Set("arp", "entries", "0x100"), -EINVAL) << "decimal only";
	EXPECT_EQ(Set("ip", "ttl", "064"), 0);
	EXPECT_EQ(cfg_.ttl, 64) << "a leading zero is not octal";
	EXPECT_EQ(Set("ip", "ttl", "256"), -EINVAL);
	EXPECT_EQ(cfg_.mtu, 9000) << "a refused value leaves the old one";
}

TEST_F(Config, CongestionControlByName)
{
	EXPECT_EQ(cfg_.tcp_cc, DTCP_CC_NEWRENO);
	EXPECT_EQ(Set("tcp", "congestion", "cubic"), 0);
	EXPECT_EQ(cfg_.tcp_cc, DTCP_CC_CUBIC);
	EXPECT_EQ(Set("tcp", "congestion", "NewReno"), 0);
	EXPECT_EQ(cfg_.tcp_cc, DTCP_CC_NEWRENO);
	EXPECT_EQ(Set("tcp", "congestion", "bbr"), -EINVAL);
	EXPECT_EQ(cfg_.tcp_cc, DTCP_CC_NEWRENO);
}

TEST_F(Config, OffloadsAutoOrOff)
{
	EXPECT_EQ(cfg_.offloads, DTCP_OFFLOAD_AUTO);
	EXPECT_EQ(cfg_.tso, DTCP_OFFLOAD_AUTO);
	EXPECT_EQ(cfg_.lro, DTCP_OFFLOAD_AUTO);
	EXPECT_EQ(cfg_.tso_max, (uint32_t)DTCP_TSO_MAX);
	EXPECT_EQ(Set("port", "offloads", "off"), 0);
	EXPECT_EQ(cfg_.offloads, DTCP_OFFLOAD_OFF);
	EXPECT_EQ(Set("port", "tso", "OFF"), 0);
	EXPECT_EQ(cfg_.tso, DTCP_OFFLOAD_OFF);
	EXPECT_EQ(Set("port", "lro", "off"), 0);
	EXPECT_EQ(Set("port", "lro", "auto"), 0);
	EXPECT_EQ(cfg_.lro, DTCP_OFFLOAD_AUTO);
	EXPECT_EQ(Set("port", "tso", "on"), -EINVAL) << "a port cannot be made to offer it";
	EXPECT_NE(std::string(err_).find("[port] tso: 'on' is not auto or off"), std::string::npos)
		<< err_;
	EXPECT_EQ(cfg_.tso, DTCP_OFFLOAD_OFF);
	// The payload of one IPv4 datagram behind 20 bytes of IP and 60 of TCP at most.
	EXPECT_EQ(Set("port", "tso_max", "65455"), 0);
	EXPECT_EQ(Set("port", "tso_max", "65456"), -EINVAL);
	EXPECT_NE(std::string(err_).find("1024..65455"), std::string::npos) << err_;
	EXPECT_EQ(Set("port", "tso_max", "1023"), -EINVAL);
	EXPECT_EQ(Set("port", "tso_max", "16384"), 0);
	EXPECT_EQ(cfg_.tso_max, 16384u);
}

TEST_F(Config, Fault_OffByDefault)
{
	EXPECT_EQ(cfg_.fault_rx_loss, 0.0);
	EXPECT_EQ(cfg_.fault_tx_loss, 0.0);
	EXPECT_EQ(cfg_.fault_seed, 1u);
}

TEST_F(Config, Fault_LossIsAPercentageWithFractions)
{
	EXPECT_EQ(Set("fault", "rx_loss", "1"), 0) << err_;
	EXPECT_EQ(cfg_.fault_rx_loss, 1.0);
	EXPECT_EQ(Set("fault", "tx_loss", "0.5"), 0) << err_;
	EXPECT_EQ(cfg_.fault_tx_loss, 0.5);
	EXPECT_EQ(Set("fault", "tx_loss", "100"), 0) << err_;
	EXPECT_EQ(cfg_.fault_tx_loss, 100.0);
	EXPECT_EQ(Set("fault", "tx_loss", "100.000000"), 0) << err_;
	EXPECT_EQ(Set("fault", "rx_loss", "0"), 0) << err_;
	EXPECT_EQ(cfg_.fault_rx_loss, 0.0);
	EXPECT_EQ(Set("fault", "rx_loss", "12.345678"), 0) << "six decimals: " << err_;
	EXPECT_DOUBLE_EQ(cfg_.fault_rx_loss, 12.345678);
	EXPECT_EQ(Set("fault", "rx_loss", "007.5"), 0) << err_;
	EXPECT_EQ(cfg_.fault_rx_loss, 7.5);
}

TEST_F(Config, Fault_LossOutsideBoundsOrMalformedRefused)
{
	ASSERT_EQ(Set("fault", "rx_loss", "2"), 0);
	for (const char *bad : { "100.000001", "101", "1000", "-1", "-0", "+1", "1e1", "0x10",
				 "", ".", ".5", "1.", "1.0000001", "nan", "inf", " 1", "1 ",
				 "1%", "1,5", "0.5.1" }) {
		SCOPED_TRACE(std::string("'") + bad + "'");
		EXPECT_EQ(Set("fault", "rx_loss", bad), -EINVAL);
		EXPECT_NE(std::string(err_).find("[fault] rx_loss"), std::string::npos) << err_;
		EXPECT_NE(std::string(err_).find("0..100"), std::string::npos) << err_;
	}
	EXPECT_EQ(cfg_.fault_rx_loss, 2.0) << "a refused value leaves the old one";
	EXPECT_EQ(Set("fault", "tx_loss", "200"), -EINVAL);
	EXPECT_NE(std::string(err_).find("[fault] tx_loss"), std::string::npos) << err_;
}

TEST_F(Config, Fault_SeedIsA32BitNumber)
{
	EXPECT_EQ(Set("fault", "seed", "0"), 0) << err_;
	EXPECT_EQ(cfg_.fault_seed, 0u);
	EXPECT_EQ(Set("fault", "seed", "4294967295"), 0) << err_;
	EXPECT_EQ(cfg_.fault_seed, 4294967295u);
	EXPECT_EQ(Set("fault", "seed", "4294967296"), -EINVAL);
	EXPECT_NE(std::string(err_).find("0..4294967295"), std::string::npos) << err_;
	EXPECT_EQ(Set("fault", "seed", "-1"), -EINVAL);
	EXPECT_EQ(Set("fault", "loss", "1"), -EINVAL) << "no such key";
}

// A configuration built by hand is checked too, NaN included.
TEST_F(Config, Fault_ValidateRefusesLossOutsideBounds)
{
	cfg_.fault_rx_loss = 100.5;
	EXPECT_EQ(dtcp_config_validate(&cfg_, err_, sizeof(err_)), -EINVAL);
	EXPECT_NE(std::string(err_).find("[fault] rx_loss"), std::string::npos) << err_;
	cfg_.fault_rx_loss = 0;
	cfg_.fault_tx_loss = -1;
	EXPECT_EQ(dtcp_config_validate(&cfg_, err_, sizeof(err_)), -EINVAL);
	EXPECT_NE(std::string(err_).find("[fault] tx_loss"), std::string::npos) << err_;
	cfg_.fault_tx_loss = std::nan("");
	EXPECT_EQ(dtcp_config_validate(&cfg_, err_, sizeof(err_)), -EINVAL);
	cfg_.fault_tx_loss = 100;
	EXPECT_EQ(dtcp_config_validate(&cfg_, err_, sizeof(err_)), 0) << err_;
}

TEST_F(Config, Fault_LoadedFromAFile)
{
	std::string path = WriteFile("[fault]\nrx_loss = 0.25\ntx_loss = 1\nseed = 42\n");
	ASSERT_EQ(dtcp_config_load(&cfg_, path.c_str(), err_, sizeof(err_)), 0) << err_;
	EXPECT_EQ(cfg_.fault_rx_loss, 0.25);
	EXPECT_EQ(cfg_.fault_tx_loss, 1.0);
	EXPECT_EQ(cfg_.fault_seed, 42u);
	EXPECT_EQ(dtcp_config_validate(&cfg_, err_, sizeof(err_)), 0) << err_;
}

TEST_F(Config, UnknownKeyOrSectionIsAnError)
{
	EXPECT_EQ(Set("port", "mtuu", "1500"), -EINVAL);
	EXPECT_NE(std::string(err_).find("unknown key [port] mtuu"), std::string::npos) << err_;
	EXPECT_EQ(Set("nosuch", "mtu", "1500"), -EINVAL);
}

TEST_F(Config, AddressListReplacesDefaultThenAppends)
{
	EXPECT_EQ(Set("ip", "address", "198.19.0.5/16"), 0);
	ASSERT_EQ(cfg_.n_addrs, 1u);
	EXPECT_EQ(cfg_.addrs[0].addr, Ip(198, 19, 0, 5));
	EXPECT_EQ(cfg_.addrs[0].prefix_len, 16);
	EXPECT_EQ(Set("ip", "address", "198.18.1.2/24, 198.18.2.2/24"), 0);
	ASSERT_EQ(cfg_.n_addrs, 3u);
	EXPECT_EQ(cfg_.addrs[2].addr, Ip(198, 18, 2, 2));
	EXPECT_EQ(Set("ip", "address", "198.18.3.2"), -EINVAL) << "prefix length required";
	EXPECT_EQ(Set("ip", "address", "198.18.3.2/33"), -EINVAL);
	EXPECT_EQ(Set("ip", "address", "198.18.300.2/24"), -EINVAL);
	for (int i = 3; i < DTCP_MAX_ADDRS; i++)
		EXPECT_EQ(Set("ip", "address", "198.18.9.2/24"), 0);
	EXPECT_EQ(Set("ip", "address", "198.18.10.2/24"), -EINVAL) << "list is bounded";
}

TEST_F(Config, ValidateRejectsUnusableAddressesAndOffLinkGateway)
{
	ASSERT_EQ(Set("ip", "address", "198.18.0.0/24"), 0);      // the network itself
	EXPECT_EQ(dtcp_config_validate(&cfg_, err_, sizeof(err_)), -EINVAL);
	dtcp_config_defaults(&cfg_);
	ASSERT_EQ(Set("ip", "address", "198.18.0.255/24"), 0);    // its broadcast
	EXPECT_EQ(dtcp_config_validate(&cfg_, err_, sizeof(err_)), -EINVAL);
	dtcp_config_defaults(&cfg_);
	ASSERT_EQ(Set("ip", "address", "127.0.0.2/8"), 0);
	EXPECT_EQ(dtcp_config_validate(&cfg_, err_, sizeof(err_)), -EINVAL);
	dtcp_config_defaults(&cfg_);
	ASSERT_EQ(Set("ip", "address", "198.18.0.0/31"), 0);      // RFC 3021 point-to-point
	EXPECT_EQ(dtcp_config_validate(&cfg_, err_, sizeof(err_)), 0) << err_;
	dtcp_config_defaults(&cfg_);
	ASSERT_EQ(Set("ip", "gateway", "198.19.0.1"), 0);
	EXPECT_EQ(dtcp_config_validate(&cfg_, err_, sizeof(err_)), -EINVAL);
	EXPECT_NE(std::string(err_).find("gateway"), std::string::npos) << err_;
}

TEST_F(Config, OneQueueUntilArpIsShared)
{
	ASSERT_EQ(Set("port", "queues", "2"), 0);
	EXPECT_EQ(dtcp_config_validate(&cfg_, err_, sizeof(err_)), -EINVAL);
	EXPECT_NE(std::string(err_).find("queues"), std::string::npos) << err_;
}

// What the stack may hold must leave the port mbufs to receive with.
TEST_F(Config, HeldPacketsMustLeaveThePortItsMbufs)
{
	ASSERT_EQ(Set("port", "mbufs", "4095"), 0);
	EXPECT_EQ(dtcp_config_validate(&cfg_, err_, sizeof(err_)), -EINVAL);
	EXPECT_NE(std::string(err_).find("too few"), std::string::npos) << err_;
	ASSERT_EQ(Set("frag", "max_flows", "128"), 0);
	ASSERT_EQ(Set("arp", "pending_max", "256"), 0);
	EXPECT_EQ(dtcp_config_validate(&cfg_, err_, sizeof(err_)), -EINVAL) << "TCP's share counts too";
	ASSERT_EQ(Set("tcp", "mbufs_max", "256"), 0);
	EXPECT_EQ(dtcp_config_validate(&cfg_, err_, sizeof(err_)), 0) << err_;
}

TEST_F(Config, OversizedSectionRefused)
{
	std::string text = "[arp]\n";
	for (int i = 0; i < 65; i++)
		text += "retries = 3\n";
	std::string path = WriteFile(text);
	EXPECT_EQ(dtcp_config_load(&cfg_, path.c_str(), err_, sizeof(err_)), -EINVAL);
	EXPECT_NE(std::string(err_).find("at most 64"), std::string::npos) << err_;
}

TEST_F(Config, MacMustBeUnicast)
{
	EXPECT_EQ(Set("port", "mac", "02:00:00:00:00:09"), 0);
	EXPECT_TRUE(cfg_.mac_set);
	EXPECT_EQ(cfg_.mac.addr_bytes[5], 9);
	EXPECT_EQ(Set("port", "mac", "01:00:5e:00:00:01"), -EINVAL);
	EXPECT_EQ(Set("port", "mac", "00:00:00:00:00:00"), -EINVAL);
	EXPECT_EQ(Set("port", "mac", "zz"), -EINVAL);
}

TEST_F(Config, LoadIniFile)
{
	std::string path = WriteFile("; comment\n[port]\nmtu = 1400\nburst=16\n"
				     "[ip]\naddress = 198.18.5.2/24\ngateway = 198.18.5.1\n"
				     "[arp]\nretries = 5\n");
	ASSERT_EQ(dtcp_config_load(&cfg_, path.c_str(), err_, sizeof(err_)), 0) << err_;
	EXPECT_EQ(cfg_.mtu, 1400);
	EXPECT_EQ(cfg_.burst, 16);
	EXPECT_EQ(cfg_.addrs[0].addr, Ip(198, 18, 5, 2));
	EXPECT_EQ(cfg_.gateway, Ip(198, 18, 5, 1));
	EXPECT_EQ(cfg_.arp_retries, 5u);
	EXPECT_EQ(cfg_.rx_desc, 1024) << "keys not in the file keep their defaults";
	// Command-line style overrides apply on top of the file.
	ASSERT_EQ(Set("port", "mtu", "1280"), 0);
	EXPECT_EQ(cfg_.mtu, 1280);
}

TEST_F(Config, LoadErrorsNameTheFileAndTheKey)
{
	std::string path = WriteFile("[port]\nmtu = 100000\n");
	EXPECT_EQ(dtcp_config_load(&cfg_, path.c_str(), err_, sizeof(err_)), -EINVAL);
	EXPECT_NE(std::string(err_).find(path), std::string::npos) << err_;
	EXPECT_NE(std::string(err_).find("mtu"), std::string::npos) << err_;

	path = WriteFile("[port]\nbogus = 1\n");
	EXPECT_EQ(dtcp_config_load(&cfg_, path.c_str(), err_, sizeof(err_)), -EINVAL);
	EXPECT_EQ(dtcp_config_load(&cfg_, "/nonexistent/dtcp.ini", err_, sizeof(err_)), -EINVAL);
}

TEST_F(Config, DumpReloadsToTheSameConfiguration)
{
	ASSERT_EQ(Set("ip", "address", "198.18.7.2/24,198.18.8.2/24"), 0);
	ASSERT_EQ(Set("ip", "gateway", "198.18.7.1"), 0);
	ASSERT_EQ(Set("port", "mac", "02:00:00:00:00:42"), 0);
	ASSERT_EQ(Set("frag", "timeout_ms", "1234"), 0);
	ASSERT_EQ(Set("fault", "rx_loss", "0.125"), 0);
	ASSERT_EQ(Set("fault", "tx_loss", "12.345678"), 0);
	ASSERT_EQ(Set("fault", "seed", "7"), 0);
	char *buf = nullptr;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	dtcp_config_dump(&cfg_, f);
	fclose(f);
	std::string path = WriteFile(buf);
	free(buf);

	struct dtcp_config again;
	dtcp_config_defaults(&again);
	ASSERT_EQ(dtcp_config_load(&again, path.c_str(), err_, sizeof(err_)), 0) << err_;
	EXPECT_EQ(again.n_addrs, 2u);
	EXPECT_EQ(again.addrs[1].addr, Ip(198, 18, 8, 2));
	EXPECT_EQ(again.gateway, cfg_.gateway);
	EXPECT_TRUE(again.mac_set);
	EXPECT_EQ(again.mac.addr_bytes[5], 0x42);
	EXPECT_EQ(again.frag_timeout_ms, 1234u);
	EXPECT_EQ(again.mtu, cfg_.mtu);
	EXPECT_EQ(again.timer_budget, cfg_.timer_budget);
	EXPECT_EQ(again.fault_rx_loss, cfg_.fault_rx_loss);
	EXPECT_EQ(again.fault_tx_loss, cfg_.fault_tx_loss) << "printed back exactly";
	EXPECT_EQ(again.fault_seed, 7u);
}

// Every example shipped in config/ loads and validates.
TEST_F(Config, ShippedExamplesLoad)
{
	DIR *d = opendir(DTCP_SOURCE_DIR "/config");
	ASSERT_NE(d, nullptr);
	int n = 0;
	for (struct dirent *e; (e = readdir(d)) != nullptr;) {
		std::string name = e->d_name;
		if (name.size() < 5 || name.substr(name.size() - 4) != ".ini")
			continue;
		/* A program's file may hold a section of its own, named after
		 * the file (httpd.ini: [httpd]), which the program reads; the
		 * stack's loader gets the rest. */
		std::string prog = "[" + name.substr(0, name.size() - 4) + "]";
		std::ifstream in(std::string(DTCP_SOURCE_DIR "/config/") + name);
		std::string path = ::testing::TempDir() + "dtcp-config-" + name;
		std::ofstream out(path);
		bool keep = true;
		for (std::string line; std::getline(in, line);) {
			if (!line.empty() && line[0] == '[')
				keep = line.compare(0, prog.size(), prog) != 0;
			if (keep)
				out << line << "\n";
		}
		out.close();
		struct dtcp_config c;
		dtcp_config_defaults(&c);
		EXPECT_EQ(dtcp_config_load(&c, path.c_str(), err_, sizeof(err_)), 0) << err_;
		std::remove(path.c_str());
		EXPECT_EQ(dtcp_config_validate(&c, err_, sizeof(err_)), 0) << name << ": " << err_;
		n++;
	}
	closedir(d);
	EXPECT_GE(n, 2);
}

TEST(ParseIpv4, Forms)
{
	uint32_t a;
	uint8_t p;

	ASSERT_EQ(dtcp_parse_ipv4("198.18.0.1", &a, &p), 0);
	EXPECT_EQ(a, Ip(198, 18, 0, 1));
	EXPECT_EQ(p, 32);
	ASSERT_EQ(dtcp_parse_ipv4("198.18.0.1/15", &a, &p), 0);
	EXPECT_EQ(p, 15);
	EXPECT_EQ(dtcp_parse_ipv4("198.18.0.1/", &a, &p), -EINVAL);
	EXPECT_EQ(dtcp_parse_ipv4("198.18.0.1/24", &a, nullptr), -EINVAL);
	EXPECT_EQ(dtcp_parse_ipv4("1.2.3", &a, &p), -EINVAL);
	EXPECT_EQ(dtcp_parse_ipv4("", &a, &p), -EINVAL);
}

} // namespace
