// SPDX-License-Identifier: BSD-3-Clause
// Header parse/emit and checksums against known vectors.
#include <cstring>
#include <random>

#include "harness.h"
#include "../../lib/wire/wire.h"

namespace {

// The worked example of RFC 1071 §3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
TEST(Cksum, Rfc1071Example)
{
	const uint8_t data[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };

	// rte_raw_cksum adds native words: its result is the sum as it sits in memory.
	EXPECT_EQ(rte_be_to_cpu_16(rte_raw_cksum(data, sizeof(data))), 0xddf2);
	EXPECT_EQ(RefCksum(data, sizeof(data)), 0x220d);
}

// A well-known UDP datagram's header: 192.168.0.1 -> 192.168.0.199, checksum b861.
const uint8_t kIpv4Vector[20] = {
	0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
	0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
};

TEST(Ipv4Wire, EmitMatchesKnownVector)
{
	uint8_t buf[20];

	dtcp_wire_ipv4_emit((struct rte_ipv4_hdr *)buf, Ip(192, 168, 0, 1), Ip(192, 168, 0, 199),
			    17, 64, 0, 0x73, true);
	EXPECT_EQ(0, memcmp(buf, kIpv4Vector, sizeof(buf)));
}

TEST(Ipv4Wire, ParseKnownVector)
{
	uint8_t pkt[0x73] = {};
	struct dtcp_ipv4_info info;

	memcpy(pkt, kIpv4Vector, sizeof(kIpv4Vector));
	ASSERT_EQ(dtcp_wire_ipv4_parse((struct rte_ipv4_hdr *)pkt, sizeof(pkt), false, &info),
		  DTCP_WIRE_OK);
	EXPECT_EQ(info.src, Ip(192, 168, 0, 1));
	EXPECT_EQ(info.dst, Ip(192, 168, 0, 199));
	EXPECT_EQ(info.proto, 17);
	EXPECT_EQ(info.hlen, 20);
	EXPECT_EQ(info.total_len, 0x73);
	EXPECT_FALSE(info.fragment);
	EXPECT_FALSE(info.options);
}

struct Malformed {
	const char *what;
	Ipv4Opts opts;
	size_t payload;
	int avail_delta;            // bytes removed from the end of the buffer
	enum dtcp_ctr expect;
};

Ipv4Opts O(void (*f)(Ipv4Opts &))
{
	Ipv4Opts o;

	f(o);
	return o;
}

TEST(Ipv4Wire, EachMalformationHasItsOwnReason)
{
	const Malformed cases[] = {
		{ "version 6", O([](Ipv4Opts &o) { o.version = 6; }), 8, 0, DTCP_CTR_ip_bad_version },
		{ "IHL 4", O([](Ipv4Opts &o) { o.ihl = 4; }), 8, 0, DTCP_CTR_ip_bad_ihl },
		{ "bad checksum", O([](Ipv4Opts &o) { o.bad_cksum = true; }), 8, 0, DTCP_CTR_ip_bad_checksum },
		{ "total < header", O([](Ipv4Opts &o) { o.total_len = 19; }), 8, 0, DTCP_CTR_ip_bad_total_len },
		{ "total > frame", O([](Ipv4Opts &o) { o.total_len = 29; }), 8, 0, DTCP_CTR_ip_truncated },
		{ "options past frame", O([](Ipv4Opts &o) { o.ihl = 15; }), 0, 20, DTCP_CTR_ip_hdr_truncated },
		{ "MF, 7 bytes", O([](Ipv4Opts &o) { o.frag = 0x2000; }), 7, 0, DTCP_CTR_ip_frag_bad },
		{ "MF, 0 bytes", O([](Ipv4Opts &o) { o.frag = 0x2000; }), 0, 0, DTCP_CTR_ip_frag_bad },
		{ "past 65535", O([](Ipv4Opts &o) { o.frag = 0x1fff; }), 16, 0, DTCP_CTR_ip_frag_bad },
	};
	for (const Malformed &c : cases) {
		Bytes p = Ipv4Packet(Ip(198, 18, 0, 1), Ip(198, 18, 0, 2), 1, Bytes(c.payload, 0xab),
				     c.opts);
		struct dtcp_ipv4_info info;

		p.resize(p.size() - (size_t)c.avail_delta);
		EXPECT_EQ(dtcp_wire_ipv4_parse((struct rte_ipv4_hdr *)p.data(), (uint32_t)p.size(),
					       false, &info), c.expect)
			<< c.what;
	}
	uint8_t short_buf[19] = { 0x45 };
	struct dtcp_ipv4_info info;
	EXPECT_EQ(dtcp_wire_ipv4_parse((struct rte_ipv4_hdr *)short_buf, sizeof(short_buf), false,
				       &info), DTCP_CTR_ip_too_short);
}

TEST(Ipv4Wire, HardwareVerdictSkipsChecksum)
{
	Ipv4Opts o;
	o.bad_cksum = true;
	Bytes p = Ipv4Packet(Ip(198, 18, 0, 1), Ip(198, 18, 0, 2), 1, Bytes(8, 0), o);
	struct dtcp_ipv4_info info;

	EXPECT_EQ(dtcp_wire_ipv4_parse((struct rte_ipv4_hdr *)p.data(), (uint32_t)p.size(), true,
				       &info), DTCP_WIRE_OK);
}

TEST(Ipv4Wire, LastFragmentMayBeAnyLength)
{
	Ipv4Opts o;
	o.frag = 0x0010;            // offset 128, MF clear
	Bytes p = Ipv4Packet(Ip(198, 18, 0, 1), Ip(198, 18, 0, 2), 1, Bytes(13, 0), o);
	struct dtcp_ipv4_info info;

	ASSERT_EQ(dtcp_wire_ipv4_parse((struct rte_ipv4_hdr *)p.data(), (uint32_t)p.size(), false,
				       &info), DTCP_WIRE_OK);
	EXPECT_TRUE(info.fragment);
}

TEST(Ipv4Wire, MartianSources)
{
	EXPECT_TRUE(dtcp_ipv4_martian(Ip(0, 1, 2, 3)));
	EXPECT_TRUE(dtcp_ipv4_martian(Ip(127, 0, 0, 1)));
	EXPECT_TRUE(dtcp_ipv4_martian(Ip(224, 0, 0, 1)));
	EXPECT_TRUE(dtcp_ipv4_martian(Ip(239, 255, 255, 255)));
	EXPECT_TRUE(dtcp_ipv4_martian(Ip(240, 0, 0, 1)));
	EXPECT_TRUE(dtcp_ipv4_martian(Ip(255, 255, 255, 255)));
	EXPECT_FALSE(dtcp_ipv4_martian(Ip(198, 18, 0, 1)));
	EXPECT_FALSE(dtcp_ipv4_martian(Ip(1, 0, 0, 0)));
	EXPECT_FALSE(dtcp_ipv4_martian(Ip(223, 255, 255, 255)));
	EXPECT_FALSE(dtcp_ipv4_martian(Ip(126, 255, 255, 255)));
}

TEST(Ipv4Wire, PrefixMask)
{
	EXPECT_EQ(dtcp_prefix_mask(0), 0u);
	EXPECT_EQ(dtcp_prefix_mask(1), 0x80000000u);
	EXPECT_EQ(dtcp_prefix_mask(24), 0xffffff00u);
	EXPECT_EQ(dtcp_prefix_mask(32), 0xffffffffu);
}

// A request that Linux's ping would build: id 0x1234, seq 1, 48 bytes 0..47.
TEST(IcmpWire, EchoChecksumKnownVectorAndIncrementalUpdate)
{
	Bytes data;
	for (int i = 0; i < 48; i++)
		data.push_back((uint8_t)i);
	Bytes req = IcmpEcho(8, 0x1234, 1, data);
	EXPECT_EQ(req[2], 0xbb);
	EXPECT_EQ(req[3], 0x88);

	// Type 8 -> 0 changes one word; RFC 1624 gives c388 without a full sum.
	uint16_t old_word, new_word, ck;
	memcpy(&old_word, req.data(), 2);
	req[0] = 0;
	memcpy(&new_word, req.data(), 2);
	memcpy(&ck, req.data() + 2, 2);
	ck = dtcp_cksum_update16(ck, old_word, new_word);
	memcpy(req.data() + 2, &ck, 2);
	EXPECT_EQ(req[2], 0xc3);
	EXPECT_EQ(req[3], 0x88);
	EXPECT_EQ(RefCksum(req.data(), req.size()), 0);
}

TEST(Cksum, IncrementalUpdateMatchesFullSumOnRandomData)
{
	std::mt19937 rng(7);

	for (int round = 0; round < 10000; round++) {
		uint16_t words[16];
		for (auto &w : words)
			w = (uint16_t)rng();
		words[1] = 0;
		uint16_t ck = ~rte_raw_cksum(words, sizeof(words));
		words[1] = ck;
		unsigned i = 2 + rng() % 14;
		uint16_t old_word = words[i];
		words[i] = (uint16_t)rng();
		words[1] = dtcp_cksum_update16(ck, old_word, words[i]);
		ASSERT_EQ(rte_raw_cksum(words, sizeof(words)), 0xffff) << "round " << round;
	}
}

const Mac kA = { { 0x02, 0, 0, 0, 0, 0xa } };
const Mac kB = { { 0x02, 0, 0, 0, 0, 0xb } };

TEST(ArpWire, EmitMatchesBuilderAndParsesBack)
{
	uint8_t buf[28];
	struct rte_ether_addr sha, tha;

	memcpy(sha.addr_bytes, kA.b, 6);
	memcpy(tha.addr_bytes, kB.b, 6);
	dtcp_wire_arp_emit((struct rte_arp_hdr *)buf, 2, &sha, Ip(198, 18, 0, 2), &tha,
			   Ip(198, 18, 0, 1));
	Bytes expect = ArpPacket(2, kA, Ip(198, 18, 0, 2), kB, Ip(198, 18, 0, 1));
	ASSERT_EQ(expect.size(), sizeof(buf));
	EXPECT_EQ(0, memcmp(buf, expect.data(), sizeof(buf)));

	struct dtcp_arp_info ai;
	ASSERT_EQ(dtcp_wire_arp_parse(buf, sizeof(buf), &ai), DTCP_WIRE_OK);
	EXPECT_EQ(ai.op, 2);
	EXPECT_EQ(ai.sip, Ip(198, 18, 0, 2));
	EXPECT_EQ(ai.tip, Ip(198, 18, 0, 1));
	EXPECT_EQ(0, memcmp(ai.sha.addr_bytes, kA.b, 6));
	EXPECT_EQ(0, memcmp(ai.tha.addr_bytes, kB.b, 6));
}

TEST(ArpWire, MalformedAndBadOp)
{
	Bytes good = ArpPacket(1, kA, Ip(198, 18, 0, 2), kB, Ip(198, 18, 0, 1));
	struct dtcp_arp_info ai;

	EXPECT_EQ(dtcp_wire_arp_parse(good.data(), 27, &ai), DTCP_CTR_arp_malformed);
	for (size_t at : { 1u, 3u, 4u, 5u }) {    // htype, ptype, hlen, plen
		Bytes b = good;
		b[at] ^= 0x01;
		EXPECT_EQ(dtcp_wire_arp_parse(b.data(), (uint32_t)b.size(), &ai),
			  DTCP_CTR_arp_malformed) << "byte " << at;
	}
	Bytes b = good;
	b[7] = 3;                               // RARP request
	EXPECT_EQ(dtcp_wire_arp_parse(b.data(), (uint32_t)b.size(), &ai), DTCP_CTR_arp_bad_op);
}

// RFC 1071 the plain way, big-endian words, with a 64-bit total (RefCksum's
// 32-bit one overflows past 128 KiB): the checksum, complemented.
uint16_t RefCksum64(const uint8_t *p, size_t n)
{
	uint64_t sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint64_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint64_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

// dtcp_wire_raw_sum against the reference (which sums big-endian words,
// the raw sum host-order ones: the same sum, bytes swapped), for `len`
// bytes at `p`.
::testing::AssertionResult RawSumMatches(const uint8_t *p, size_t len)
{
	uint16_t got = (uint16_t)~rte_be_to_cpu_16((uint16_t)dtcp_wire_raw_sum(p, len));
	uint16_t want = RefCksum64(p, len);

	if (got == want)
		return ::testing::AssertionSuccess();
	return ::testing::AssertionFailure() << "len " << len << " at address mod 64 "
					     << ((uintptr_t)p & 63) << ": " << std::hex << got
					     << " != " << want;
}

// Every length up to 520 (the vector steps, the 32-, 8-, 4-, 2- and
// 1-byte tails in every combination) at every alignment within 64 bytes.
TEST(RawSum, ShortLengthsEveryAlignment)
{
	std::mt19937 rng(21);
	Bytes buf(520 + 64);

	for (auto &b : buf)
		b = (uint8_t)rng();
	for (size_t align = 0; align < 64; align++)
		for (size_t len = 0; len <= 520; len++)
			ASSERT_TRUE(RawSumMatches(buf.data() + align, len));
}

// Random lengths up to 70000 (past one IPv4 datagram), each at every alignment.
TEST(RawSum, RandomLengthsTo70000EveryAlignment)
{
	std::mt19937 rng(22);
	Bytes buf(70000 + 64);

	for (auto &b : buf)
		b = (uint8_t)rng();
	for (unsigned round = 0; round < 100; round++) {
		size_t len = rng() % 70001;

		for (size_t align = 0; align < 64; align++)
			ASSERT_TRUE(RawSumMatches(buf.data() + align, len)) << "round " << round;
	}
}

// All ones over several vector blocks: a lane that carried out of 32 bits
// between two emptyings would show here (the largest sum a lane can get).
TEST(RawSum, AllOnesAcrossBlocks)
{
	Bytes buf((3u << 20) + 130, 0xff);

	for (size_t len : { (size_t)(1u << 20), (size_t)(1u << 20) + 1, (size_t)(3u << 20) + 129 })
		ASSERT_TRUE(RawSumMatches(buf.data() + 1, len));
	std::fill(buf.begin(), buf.end(), 0);
	EXPECT_EQ(dtcp_wire_raw_sum(buf.data(), buf.size()), 0u);
	EXPECT_EQ(dtcp_wire_raw_sum(buf.data(), 0), 0u);
}

class MbufCksum : public ::testing::Test {
protected:
	void SetUp() override
	{
		// Segments as large as an mbuf's 16-bit data_len allows.
		pool_ = rte_pktmbuf_pool_create("cksum_pool", 63, 0, 0, UINT16_MAX, SOCKET_ID_ANY);
		ASSERT_NE(pool_, nullptr);
	}
	void TearDown() override
	{
		EXPECT_EQ(rte_mempool_in_use_count(pool_), 0u);
		rte_mempool_free(pool_);
	}
	struct rte_mempool *pool_ = nullptr;
};

// A chain with odd-length segments sums as the concatenation does.
TEST_F(MbufCksum, ChainEqualsFlatBuffer)
{
	std::mt19937 rng(11);
	Bytes flat;
	struct rte_mbuf *head = nullptr;

	for (unsigned len : { 7u, 1u, 300u, 33u, 1000u }) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool_);
		ASSERT_NE(m, nullptr);
		uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
		for (unsigned i = 0; i < len; i++) {
			p[i] = (uint8_t)rng();
			flat.push_back(p[i]);
		}
		if (head == nullptr)
			head = m;
		else
			ASSERT_EQ(rte_pktmbuf_chain(head, m), 0);
	}
	for (uint32_t off : { 0u, 1u, 8u, 301u }) {
		uint32_t len = (uint32_t)flat.size() - off;
		EXPECT_EQ(rte_be_to_cpu_16(dtcp_wire_cksum_mbuf(head, off, len)),
			  RefCksum(flat.data() + off, len))
			<< "offset " << off;
	}
	// Past the end answers "bad", never "valid".
	EXPECT_NE(dtcp_wire_cksum_mbuf(head, 0, (uint32_t)flat.size() + 1), 0);
	rte_pktmbuf_free(head);
}

// Random chains: 1 to 6 segments of random lengths (odd and even, up to
// 70000 bytes in all), each starting at a random alignment; the sum from
// random offsets, with and without a pseudo-header's seed, against the
// reference over the concatenation.
TEST_F(MbufCksum, RandomChainsEqualFlatBuffer)
{
	std::mt19937 rng(23);

	for (unsigned round = 0; round < 300; round++) {
		unsigned nseg = 1 + rng() % 6;
		uint32_t budget = 1 + rng() % 70000;
		struct rte_mbuf *head = nullptr;
		Bytes flat;

		for (unsigned i = 0; i < nseg && budget > 0; i++) {
			struct rte_mbuf *m = rte_pktmbuf_alloc(pool_);
			ASSERT_NE(m, nullptr);
			m->data_off = (uint16_t)(rng() % 64);
			uint32_t room = rte_pktmbuf_tailroom(m);
			// Any length the budget and the room allow; a quarter of them one byte.
			uint32_t len = rng() % 4 == 0 ? 1 : 1 + rng() % RTE_MIN(budget, room);
			len = RTE_MIN(len, RTE_MIN(budget, room));
			uint8_t *p = (uint8_t *)rte_pktmbuf_append(m, (uint16_t)len);
			ASSERT_NE(p, nullptr);
			for (uint32_t k = 0; k < len; k++) {
				p[k] = (uint8_t)rng();
				flat.push_back(p[k]);
			}
			budget -= len;
			if (head == nullptr)
				head = m;
			else
				ASSERT_EQ(rte_pktmbuf_chain(head, m), 0);
		}
		uint32_t off = rng() % ((uint32_t)flat.size() + 1);
		uint32_t len = rng() % ((uint32_t)flat.size() - off + 1);
		EXPECT_EQ(rte_be_to_cpu_16(dtcp_wire_cksum_mbuf(head, off, len)),
			  RefCksum(flat.data() + off, len))
			<< "round " << round << " segments " << head->nb_segs << " offset " << off
			<< " length " << len;
		// A pseudo-header's raw sum as the seed: the sum of it and the bytes.
		const uint8_t ph[12] = { 198, 18, 0, 1, 198, 18, 0, 2, 0, 6, 0x12, 0x34 };
		Bytes cat(ph, ph + sizeof(ph));
		cat.insert(cat.end(), flat.begin() + off, flat.begin() + off + len);
		EXPECT_EQ(rte_be_to_cpu_16(dtcp_wire_cksum_mbuf_seed(
				  head, off, len, __rte_raw_cksum(ph, sizeof(ph), 0))),
			  RefCksum(cat.data(), cat.size()))
			<< "round " << round << " (seeded)";
		rte_pktmbuf_free(head);
	}
}

} // namespace

// The IPv4 header sum is five 32-bit adds for a 20-byte header: emitted
// headers must carry rte_ipv4_cksum's value for any field values (carries
// out of every position), and parsing must take exactly the headers whose
// sum is all ones, with or without options.
TEST(Ipv4Wire, HeaderSumMatchesDpdkOnRandomHeaders)
{
	std::mt19937 rng(20);
	for (int i = 0; i < 100000; i++) {
		alignas(8) uint8_t buf[60 + 8];
		auto *ip = (struct rte_ipv4_hdr *)buf;
		uint32_t src = rng(), dst = rng();
		uint16_t id = (uint16_t)rng(), len = (uint16_t)(20 + rng() % 1400);
		if (i % 7 == 0)
			src = dst = 0xffffffff;
		dtcp_wire_ipv4_emit(ip, src, dst, (uint8_t)rng(), (uint8_t)rng(), id, len, i & 1);
		uint16_t got = ip->hdr_checksum;
		ip->hdr_checksum = 0;
		ASSERT_EQ(got, rte_ipv4_cksum(ip)) << i;
		ip->hdr_checksum = got;
		struct dtcp_ipv4_info info;
		ASSERT_EQ(dtcp_wire_ipv4_parse(ip, len, false, &info), DTCP_WIRE_OK) << i;

		// Any header, options or not, with any checksum field: taken iff
		// its sum is all ones.
		unsigned ihl = 5 + (i % 3 == 0 ? rng() % 11 : 0);
		for (unsigned k = 0; k < ihl * 4; k++)
			buf[k] = (uint8_t)rng();
		ip->version_ihl = (uint8_t)(0x40 | ihl);
		ip->total_length = rte_cpu_to_be_16((uint16_t)(ihl * 4));
		ip->fragment_offset = 0;
		if (i & 1) {
			ip->hdr_checksum = 0;
			ip->hdr_checksum = (uint16_t)~rte_raw_cksum(ip, ihl * 4);
		}
		bool good = rte_raw_cksum(ip, ihl * 4) == 0xffff;
		enum dtcp_ctr v = dtcp_wire_ipv4_parse(ip, ihl * 4, false, &info);
		ASSERT_EQ(v == DTCP_CTR_ip_bad_checksum, !good) << i;
	}
}
