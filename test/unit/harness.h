// SPDX-License-Identifier: BSD-3-Clause
// Packet-level test harness: a worker on an in-memory port, a fake clock,
// frames built and checked byte by byte, and after every test a check that
// no mbuf leaked and that every frame received ended in exactly one counter.
#ifndef DTCP_TEST_HARNESS_H
#define DTCP_TEST_HARNESS_H

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include <rte_mbuf.h>

#include <dtcp/dtcp.h>

using Bytes = std::vector<uint8_t>;

// RFC 1071 checksum written for the tests, independent of the stack's.
uint16_t RefCksum(const uint8_t *p, size_t n, uint32_t seed = 0);

// Addresses in host order, as the stack's configuration holds them.
constexpr uint32_t Ip(unsigned a, unsigned b, unsigned c, unsigned d)
{
	return (a << 24) | (b << 16) | (c << 8) | d;
}

struct Mac {
	uint8_t b[6];
	bool operator==(const Mac &o) const { return memcmp(b, o.b, 6) == 0; }
};
std::string ToString(const Mac &m);
extern const Mac kBroadcast;

// Builders: each returns a whole frame starting at the Ethernet header.
Bytes EthFrame(const Mac &dst, const Mac &src, uint16_t type, const Bytes &payload);
Bytes ArpPacket(uint16_t op, const Mac &sha, uint32_t sip, const Mac &tha, uint32_t tip);
struct Ipv4Opts {
	uint8_t ttl = 64;
	uint16_t id = 1;
	uint16_t frag = 0;        // flags and offset field, host order
	uint8_t ihl = 5;          // header words; options are zero-filled (EOL)
	int version = 4;
	int total_len = -1;       // -1: computed
	bool bad_cksum = false;
};
Bytes Ipv4Packet(uint32_t src, uint32_t dst, uint8_t proto, const Bytes &payload,
		 const Ipv4Opts &o = Ipv4Opts());
Bytes IcmpEcho(uint8_t type, uint16_t ident, uint16_t seq, const Bytes &data);

// A captured frame, parsed by the test's own reading of the headers.
struct Parsed {
	Mac dst, src;
	uint16_t ethertype = 0;
	Bytes l3;                 // everything after the Ethernet header
	// IPv4, when ethertype is 0x0800
	uint32_t ip_src = 0, ip_dst = 0;
	uint8_t proto = 0, ttl = 0;
	uint16_t ip_id = 0, frag = 0, total_len = 0;
	bool ip_cksum_ok = false;
	Bytes l4;                 // IPv4 payload
};
Parsed Parse(const Bytes &frame);

class StackTest : public ::testing::Test {
protected:
	static const Mac kOurMac;
	static const Mac kPeerMac;
	static constexpr uint32_t kOurIp = Ip(198, 18, 0, 2);
	static constexpr uint32_t kPeerIp = Ip(198, 18, 0, 1);
	static constexpr uint32_t kGateway = Ip(198, 18, 0, 254);

	void SetUp() override;
	void TearDown() override;
	// Tests change cfg_ before calling Start() (SetUp does not start).
	virtual void Start();

	// Inject one frame and run one loop iteration at the current time.
	void Inject(const Bytes &frame);
	void InjectOnly(const Bytes &frame);
	void Poll();
	// Move the fake clock and run one iteration.
	void Advance(uint64_t ms);
	void AdvanceUs(uint64_t us);
	// Everything the stack sent since the last call, in order.
	std::vector<Bytes> TakeTx();
	// Exactly one frame sent; fails the test otherwise.
	Bytes ExpectOneTx();
	void ExpectNoTx();
	uint64_t Ctr(enum dtcp_ctr c) const;
	// Learn the peer's MAC through an ARP request the peer sends us.
	void TeachPeer(uint32_t ip, const Mac &mac);

	struct dtcp_config cfg_;
	struct rte_mempool *pool_ = nullptr;
	struct dtcp_port *port_ = nullptr;
	struct dtcp_worker *w_ = nullptr;
	uint64_t now_ns_ = 1000000000ull;
	unsigned in_use_before_ = 0;
};

#endif
