// SPDX-License-Identifier: BSD-3-Clause
// Packet-level test harness: a worker on an in-memory port, a fake clock,
// frames built and checked byte by byte, and after every test a check that
// no mbuf and no DPDK heap block leaked and that every frame received ended
// in exactly one counter.
#ifndef DTCP_TEST_HARNESS_H
#define DTCP_TEST_HARNESS_H

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <map>
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
// n bytes that differ from one offset to the next and from one seed to another.
Bytes Pattern(size_t n, unsigned seed = 0);
// The IP payload cut into fragments of frag_bytes (a multiple of 8, the last
// one shorter), each a whole IPv4 packet with id and offsets set, in order.
std::vector<Bytes> Ipv4Fragments(uint32_t src, uint32_t dst, uint8_t proto,
				 const Bytes &payload, size_t frag_bytes, uint16_t id);

// A captured frame, parsed by the test's own reading of the headers.
struct Parsed {
	Mac dst{}, src{};
	uint16_t ethertype = 0;
	Bytes l3;                 // everything after the Ethernet header
	// IPv4, when ethertype is 0x0800
	uint32_t ip_src = 0, ip_dst = 0;
	uint8_t proto = 0, ttl = 0;
	uint16_t ip_id = 0, frag = 0, total_len = 0;
	bool ip_cksum_ok = false;
	Bytes l4;                 // IPv4 payload
	// ARP, when ethertype is 0x0806 and the packet is Ethernet/IPv4 ARP
	bool arp = false;
	uint16_t arp_op = 0;
	Mac sha{}, tha{};
	uint32_t spa = 0, tpa = 0;
};
Parsed Parse(const Bytes &frame);

// A port doing what the frame m asks of it (rte_mbuf_core.h TX flags) as a
// NIC does: TSO cuts the frame into segments of tso_segsz bytes (IP total
// length, IP id + i and sequence number each their own; PSH and FIN kept on
// the last only, CWR on the first only); the IPv4 header checksum is
// written; the TCP checksum is summed over the segment from what its field
// holds, the pseudo-header's sum, to which TSO adds each segment's TCP
// length. The frames that go on the wire, in order; m is left as it was.
std::vector<Bytes> NicTransmit(const struct rte_mbuf *m);
// The frame m as bytes, whatever its segments.
Bytes MbufBytes(const struct rte_mbuf *m);

// Counters that moved, by name, with how much; rx_bytes and tx_bytes left out.
using Deltas = std::map<std::string, uint64_t>;
std::string ToString(const Deltas &d);

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
	// Everything the stack sent since the last call, in order, as it goes
	// on the wire: offloads the frames ask of the port done by NicTransmit
	// (which fails the test for one the port does not offer).
	std::vector<Bytes> TakeTx();
	// Exactly one frame sent; fails the test otherwise.
	Bytes ExpectOneTx();
	void ExpectNoTx();
	uint64_t Ctr(enum dtcp_ctr c) const;
	// Frames received that ended in no DROP or END counter (0 when idle and sound).
	int64_t Unaccounted() const;
	// Learn the peer's MAC through an ARP request the peer sends us.
	void TeachPeer(uint32_t ip, const Mac &mac);

	// Counters: Start() marks; Moved() lists what changed since the last Mark().
	void Mark();
	Deltas Moved() const;
	// Inject one frame that must be dropped: true when nothing was sent and
	// the counters that moved are exactly rx_frames (+1) and those in moved.
	::testing::AssertionResult Dropped(const Bytes &frame, Deltas moved);
	// Inject a frame as a mbuf chain of segments cut at the given offsets.
	void InjectChained(const Bytes &frame, const std::vector<size_t> &cuts);

	// Frames a peer sends us.
	static Bytes Ping(uint32_t src, uint16_t seq, const Bytes &data = Bytes(),
			  const Mac &from = kPeerMac, const Ipv4Opts &o = Ipv4Opts());
	static Bytes ArpFrom(uint16_t op, const Mac &sha, uint32_t spa, uint32_t tpa,
			     const Mac &eth_dst = kBroadcast, const Mac &tha = Mac{});
	// The peer answers our ARP request.
	static Bytes ArpReplyFrom(uint32_t ip, const Mac &mac);

	// Field-by-field checks of frames we sent.
	void ExpectArpRequest(const Bytes &frame, uint32_t tpa, uint32_t spa = kOurIp);
	void ExpectEchoReply(const Bytes &frame, const Bytes &request_icmp,
			     uint32_t dst = kPeerIp, const Mac &eth_dst = kPeerMac,
			     uint32_t src = kOurIp);
	// Checks every fragment of an ICMP reply we sent (within the 1500-byte MTU,
	// one id, offsets and MF in order, valid checksums, our TTL) and returns
	// the IP payload they carry together.
	Bytes ReassembleReply(const std::vector<Bytes> &frames, uint32_t dst = kPeerIp,
			      const Mac &eth_dst = kPeerMac, uint32_t src = kOurIp);
	// The ICMP message of an echo reply against its request: type 0, a valid
	// checksum, every other byte the request's.
	static void ExpectEchoBody(const Bytes &reply_icmp, const Bytes &request_icmp);

	struct dtcp_config cfg_;
	// What the in-memory port claims to offload (dtcp_memport_set_offloads),
	// set before Start(): none by default.
	uint64_t port_tx_offloads_ = 0, port_rx_offloads_ = 0;
	uint16_t port_seg_max_ = 0, port_mtu_seg_max_ = 0;
	// The pool SetUp creates; a fixture may change these in its constructor.
	unsigned pool_size_ = 4095;
	uint16_t buf_size_ = RTE_MBUF_DEFAULT_BUF_SIZE;
	// The in-memory port's MTU, set before Start() (the stack's is the
	// smaller of this and cfg_.mtu).
	uint16_t port_mtu_ = 1500;
	struct rte_mempool *pool_ = nullptr;
	struct dtcp_port *port_ = nullptr;
	struct dtcp_worker *w_ = nullptr;
	uint64_t now_ns_ = 1000000000ull;
	unsigned in_use_before_ = 0;
	uint64_t heap_blocks_before_ = 0;
	std::vector<uint64_t> mark_;
};

#endif
