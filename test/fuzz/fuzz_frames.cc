// SPDX-License-Identifier: BSD-3-Clause
// libFuzzer target: frames into one worker on an in-memory port with a fake
// clock, the way test/unit/harness.cc drives it, one frame per poll.
//
// Input: the first byte picks the mode, records follow.
//   byte 0, bit 0   0: each record is a whole frame, from the Ethernet header
//                   1: each record is a TCP header and payload that the
//                      harness wraps in Ethernet and IPv4 from the peer
//                      (198.18.0.1) to us (198.18.0.2) with a correct TCP
//                      checksum; seq is relative to the peer's ISS + 1 and
//                      ack to ours + 1 (unless bit 14 of the record header
//                      is set), so 0/0 is "in order" on connection A
//   record: a 2-byte big-endian header, then its bytes
//     0xf000-0xf7ff   advance the clock by the low 11 bits in ms, and poll
//     0xf800-0xffff   the same in seconds
//     anything else   bits 0-11: length of the record (cut at the input's end)
//                     bit 12: the frame in a pool mbuf instead of an
//                             exact-size malloc'd external buffer (whose end
//                             ASan guards)
//                     bit 13: frame mode, a chain of pool mbufs; TCP mode,
//                             two IPv4 fragments (one poll each)
//                     bit 14: frame mode, IPv4, TCP and ICMP checksums
//                             set right; TCP mode, seq and ack as given
//                             (so values learned from comparisons fit)
//                     bit 15: unused
//
// Every input starts from the same state: a worker at the same clock
// reading that holds a listener on port 7 (echo: DATA sent back, close on
// the peer's FIN; OnData lists the few commands data may carry),
// connection A ESTABLISHED by a passive open from the peer's port 40000
// (timestamps, SACK and window scaling agreed), and connection B in SYN-SENT
// from our port 9 to the peer's port 80. After the input both are aborted.
// When anything else is left (connections, TIME-WAIT records, held mbufs, a
// changed ARP cache, a moved clock), and every DTCP_FUZZ_RESET_EVERY inputs
// (default 1000), the worker and its port are destroyed, checking that no
// mbuf, DPDK heap block or external buffer leaked, and made again before
// the next input: a crash replays from its input file alone. After every
// poll, every frame received must have ended in exactly one DROP or END
// counter. A broken check abort()s.
//
// DTCP_FUZZ_TRACE=1 prints each record with the counters it moved.
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include <dtcp/dtcp.h>

namespace {

constexpr uint32_t kOurIp = 0xc6120002;         // 198.18.0.2
constexpr uint32_t kPeerIp = 0xc6120001;        // 198.18.0.1
constexpr uint8_t kOurMac[6] = { 0x02, 0, 0, 0, 0, 0x02 };
constexpr uint8_t kPeerMac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
constexpr uint16_t kListenPort = 7;
constexpr uint16_t kPeerPortA = 40000;          // connection A: peer:40000 -> us:7
constexpr uint16_t kOurPortB = 9;               // connection B: us:9 -> peer:80
constexpr uint16_t kPeerPortB = 80;
constexpr uint32_t kIss = 0x10000000;           // every ISN of ours
constexpr uint32_t kPeerIss = 0x20000000;
constexpr uint32_t kPeerTsval = 0x30000000;
constexpr uint8_t kPeerWs = 2;
constexpr uint64_t kStartNs = 1000000000ull;
constexpr unsigned kPoolSize = 2047;
constexpr unsigned kPortCapacity = 1024;
constexpr uint16_t kExtHeadroom = RTE_PKTMBUF_HEADROOM;
// Record headers (see the top of the file).
constexpr uint16_t kTimeMask = 0xf000;
constexpr uint16_t kLenMask = 0x0fff;
constexpr uint16_t kPoolBit = 0x1000;
constexpr uint16_t kSplitBit = 0x2000;
constexpr uint16_t kFixBit = 0x4000;
const uint8_t kSecret[16] = { 'd', 't', 'c', 'p', '-', 'f', 'u', 'z',
			      'z', '-', 's', 'e', 'c', 'r', 'e', 't' };

using Bytes = std::vector<uint8_t>;

// Why the worker must be made again after an input.
enum Dirty { kConnections, kMbufsHeld, kArpCache, kClock, kClean };
const char *const kDirtyName[] = { "connections", "mbufs held", "ARP cache", "clock" };

// An external frame buffer: malloc'd so that ASan guards its end, linked
// from a global list so that LeakSanitizer sees it reachable while an mbuf
// in DPDK memory (which LSan does not scan) holds it. The headroom, then
// exactly the frame, follow the struct.
struct ExtBuf {
	ExtBuf *prev, *next;
	struct rte_mbuf_ext_shared_info shinfo;
};

struct State {
	struct rte_mempool *pool = nullptr;
	struct dtcp_config cfg;
	struct dtcp_port *port = nullptr;
	struct dtcp_worker *w = nullptr;
	struct dtcp_conn *listener = nullptr;
	struct dtcp_conn *conn_a = nullptr;
	std::vector<struct dtcp_conn *> conns;   // every handle but the listener
	uint64_t now_ns = kStartNs;
	uint16_t ip_id = 1;
	unsigned inputs = 0;                     // since the worker was made
	uint64_t total_inputs = 0, resets = 0;
	uint64_t reset_reasons[kClean] = {};
	unsigned reset_every = 1000;
	bool trace = false;
	unsigned in_use_base = 0;
	uint64_t heap_base = 0;
	uint64_t arp_mark = 0;                   // ARP cache changes when set up
	std::vector<unsigned> ends;              // DROP and END counters
	ExtBuf ext_head = {};
	uint64_t ext_live = 0;
	std::vector<uint64_t> mark;              // counters before a record
};

State g;

[[noreturn]] __attribute__((format(printf, 1, 2))) void Die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fuzz_frames: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	abort();
}

void Put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void Put32(uint8_t *p, uint32_t v)
{
	Put16(p, (uint16_t)(v >> 16));
	Put16(p + 2, (uint16_t)v);
}

uint16_t Get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

uint32_t Get32(const uint8_t *p)
{
	return (uint32_t)Get16(p) << 16 | Get16(p + 2);
}

// RFC 1071, written here rather than taken from the stack under test.
uint16_t Cksum(const uint8_t *p, size_t n, uint32_t seed)
{
	uint64_t sum = seed;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		sum += (uint32_t)p[n - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

// Blocks allocated from DPDK's heap, which LeakSanitizer does not see.
uint64_t HeapBlocks()
{
	struct rte_malloc_socket_stats st;
	uint64_t n = 0;

	for (unsigned i = 0; i < rte_socket_count(); i++)
		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(i), &st) == 0)
			n += st.alloc_count;
	return n;
}

// --- Frames in and out -------------------------------------------------------------------

void ExtFree(void *, void *opaque)
{
	ExtBuf *e = static_cast<ExtBuf *>(opaque);

	e->prev->next = e->next;
	e->next->prev = e->prev;
	g.ext_live--;
	free(e);
}

struct rte_mbuf *AllocMbuf()
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(g.pool);

	if (m == nullptr)
		Die("mbuf pool empty (%u in use)", rte_mempool_in_use_count(g.pool));
	return m;
}

// The frame in a buffer of its own size, so a read past its end is caught.
struct rte_mbuf *ExtMbuf(const uint8_t *p, size_t len)
{
	struct rte_mbuf *m = AllocMbuf();
	ExtBuf *e = static_cast<ExtBuf *>(malloc(sizeof(ExtBuf) + kExtHeadroom + len));

	if (e == nullptr)
		Die("out of memory");
	e->next = g.ext_head.next;
	e->prev = &g.ext_head;
	e->next->prev = e;
	g.ext_head.next = e;
	g.ext_live++;
	e->shinfo.free_cb = ExtFree;
	e->shinfo.fcb_opaque = e;
	rte_mbuf_ext_refcnt_set(&e->shinfo, 1);
	rte_pktmbuf_attach_extbuf(m, reinterpret_cast<uint8_t *>(e + 1), 0,
				  (uint16_t)(kExtHeadroom + len), &e->shinfo);
	m->data_off = kExtHeadroom;
	if (len > 0)
		memcpy(rte_pktmbuf_append(m, (uint16_t)len), p, len);
	return m;
}

// The frame in pool mbufs of at most seg bytes each (a chain when longer).
struct rte_mbuf *PoolMbuf(const uint8_t *p, size_t len, size_t seg)
{
	struct rte_mbuf *head = nullptr;
	size_t off = 0;

	do {
		struct rte_mbuf *m = AllocMbuf();
		size_t n = len - off < seg ? len - off : seg;

		if (n > rte_pktmbuf_tailroom(m))
			n = rte_pktmbuf_tailroom(m);
		if (n > 0)
			memcpy(rte_pktmbuf_append(m, (uint16_t)n), p + off, n);
		off += n;
		if (head == nullptr)
			head = m;
		else if (rte_pktmbuf_chain(head, m) != 0)
			Die("mbuf chain too long");
	} while (off < len);
	return head;
}

const char *RecordName(int rec)
{
	static char buf[32];

	if (rec < 0)
		return "setup";
	snprintf(buf, sizeof(buf), "record %d", rec);
	return buf;
}

[[noreturn]] void BadTx(int rec, const Bytes &f, const char *why)
{
	fprintf(stderr, "fuzz_frames: %s: we sent a bad frame (%s):", RecordName(rec), why);
	for (size_t i = 0; i < f.size() && i < 128; i++)
		fprintf(stderr, "%s%02x", i % 16 ? " " : "\n  ", f[i]);
	fprintf(stderr, "%s\n", f.size() > 128 ? " ..." : "");
	abort();
}

// What we send must be well formed whatever we received: our MAC and
// address, IPv4 and TCP/ICMP checksums right, lengths that match the frame.
void CheckSent(const Bytes &f, int rec)
{
	if (f.size() < 14 || memcmp(f.data() + 6, kOurMac, 6) != 0)
		BadTx(rec, f, "not from our MAC");
	if (Get16(f.data() + 12) == 0x0806) {
		if (f.size() < 14 + 28)
			BadTx(rec, f, "short ARP");
		return;
	}
	if (Get16(f.data() + 12) != 0x0800)
		BadTx(rec, f, "neither IPv4 nor ARP");
	const uint8_t *ip = f.data() + 14;
	size_t hlen = (ip[0] & 0xfu) * 4u;
	if (f.size() < 14 + 20 || ip[0] >> 4 != 4 || hlen < 20 || 14 + hlen > f.size())
		BadTx(rec, f, "IPv4 header");
	if (Get16(ip + 2) != f.size() - 14)
		BadTx(rec, f, "IPv4 total length is not the frame's");
	if (Cksum(ip, hlen, 0) != 0)
		BadTx(rec, f, "IPv4 header checksum");
	if (Get32(ip + 12) != kOurIp || ip[8] != g.cfg.ttl)
		BadTx(rec, f, "IPv4 source or TTL");
	if ((Get16(ip + 6) & 0x3fff) != 0)
		return;   // a fragment: its checksum covers the whole datagram
	const uint8_t *l4 = ip + hlen;
	size_t n = f.size() - 14 - hlen;
	if (ip[9] == 6) {
		uint32_t dst = Get32(ip + 16);
		uint32_t seed = (kOurIp >> 16) + (kOurIp & 0xffff) + (dst >> 16) + (dst & 0xffff) +
				6 + (uint32_t)n;

		if (n < 20 || (size_t)(l4[12] >> 4) * 4 < 20 || (size_t)(l4[12] >> 4) * 4 > n)
			BadTx(rec, f, "TCP header");
		if (Cksum(l4, n, seed) != 0)
			BadTx(rec, f, "TCP checksum");
	} else if (ip[9] == 1) {
		if (n < 8 || Cksum(l4, n, 0) != 0)
			BadTx(rec, f, "ICMP checksum");
	} else {
		BadTx(rec, f, "neither TCP nor ICMP");
	}
}

// Everything sent since the last call: checked, then freed or kept in out.
void TakeTx(int rec, std::vector<Bytes> *out)
{
	struct rte_mbuf *m[32];
	unsigned n;

	while ((n = dtcp_memport_take(g.port, m, 32)) > 0) {
		for (unsigned i = 0; i < n; i++) {
			Bytes b(m[i]->pkt_len);
			const void *d = rte_pktmbuf_read(m[i], 0, m[i]->pkt_len, b.data());

			if (d == nullptr)
				Die("%s: a frame we sent is shorter than its pkt_len", RecordName(rec));
			if (d != b.data() && !b.empty())
				memcpy(b.data(), d, b.size());
			rte_pktmbuf_free(m[i]);
			CheckSent(b, rec);
			if (out != nullptr)
				out->push_back(std::move(b));
		}
	}
}

// Every frame received ended in exactly one DROP or END counter.
void CheckAccounting(int rec)
{
	const uint64_t *c = dtcp_worker_counters(g.w);
	uint64_t ends = 0;

	for (unsigned i : g.ends)
		ends += c[i];
	if (c[DTCP_CTR_rx_frames] != ends) {
		for (unsigned i = 0; i < DTCP_CTR_MAX; i++)
			if (c[i] != g.mark[i])
				fprintf(stderr, "  %s +%llu\n", dtcp_ctr_name((enum dtcp_ctr)i),
					(unsigned long long)(c[i] - g.mark[i]));
		Die("%s: rx_frames %llu but DROP + END counters %llu", RecordName(rec),
		    (unsigned long long)c[DTCP_CTR_rx_frames], (unsigned long long)ends);
	}
}

void Poll(int rec, std::vector<Bytes> *tx = nullptr)
{
	const uint64_t *c = dtcp_worker_counters(g.w);

	g.mark.assign(c, c + DTCP_CTR_MAX);
	dtcp_worker_poll(g.w, g.now_ns);
	if (dtcp_memport_pending_rx(g.port) != 0)
		Die("%s: the worker left frames in its RX queue", RecordName(rec));
	CheckAccounting(rec);
	size_t before = tx != nullptr ? tx->size() : 0;
	std::vector<Bytes> local;
	TakeTx(rec, tx != nullptr ? tx : g.trace ? &local : nullptr);
	if (g.trace && rec >= 0) {
		fprintf(stderr, "  moved:");
		for (unsigned i = 0; i < DTCP_CTR_MAX; i++)
			if (c[i] != g.mark[i] && i != DTCP_CTR_rx_bytes && i != DTCP_CTR_tx_bytes)
				fprintf(stderr, " %s+%llu", dtcp_ctr_name((enum dtcp_ctr)i),
					(unsigned long long)(c[i] - g.mark[i]));
		fprintf(stderr, "; %zu frame(s) sent\n",
			tx != nullptr ? tx->size() - before : local.size());
	}
}

void Inject(struct rte_mbuf *m, int rec, std::vector<Bytes> *tx = nullptr)
{
	if (dtcp_memport_inject(g.port, m) != 0)
		Die("RX queue full");
	Poll(rec, tx);
}

// --- Frames the peer sends -------------------------------------------------------------------

Bytes EthHeader(uint16_t type)
{
	Bytes b(14);

	memcpy(b.data(), kOurMac, 6);
	memcpy(b.data() + 6, kPeerMac, 6);
	Put16(b.data() + 12, type);
	return b;
}

// Ethernet + IPv4 (peer to us, protocol 6) around l4 bytes; frag is the
// flags and offset field.
Bytes Ipv4Frame(const uint8_t *l4, size_t n, uint16_t id, uint16_t frag)
{
	Bytes b = EthHeader(0x0800);
	uint8_t *ip;

	b.resize(14 + 20 + n);
	ip = b.data() + 14;
	ip[0] = 0x45;
	Put16(ip + 2, (uint16_t)(20 + n));
	Put16(ip + 4, id);
	Put16(ip + 6, frag);
	ip[8] = 64;
	ip[9] = 6;
	Put32(ip + 12, kPeerIp);
	Put32(ip + 16, kOurIp);
	Put16(ip + 10, Cksum(ip, 20, 0));
	if (n > 0)
		memcpy(ip + 20, l4, n);
	return b;
}

// The TCP checksum over the pseudo-header (RFC 9293 §3.1), set in place.
void SetTcpCksum(uint8_t *seg, size_t n)
{
	uint32_t seed = (kPeerIp >> 16) + (kPeerIp & 0xffff) + (kOurIp >> 16) +
			(kOurIp & 0xffff) + 6 + (uint32_t)n;

	if (n < 18)
		return;
	Put16(seg + 16, 0);
	Put16(seg + 16, Cksum(seg, n, seed));
}

struct SegSpec {
	uint16_t sport, dport;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	Bytes opts;                  // a multiple of 4 bytes
};

Bytes TcpSegment(const SegSpec &s)
{
	Bytes b(20);

	Put16(b.data(), s.sport);
	Put16(b.data() + 2, s.dport);
	Put32(b.data() + 4, s.seq);
	Put32(b.data() + 8, s.ack);
	b[12] = (uint8_t)((20 + s.opts.size()) / 4 << 4);
	b[13] = s.flags;
	Put16(b.data() + 14, s.win);
	b.insert(b.end(), s.opts.begin(), s.opts.end());
	SetTcpCksum(b.data(), b.size());
	return b;
}

Bytes TsOption(uint32_t val, uint32_t ecr)
{
	Bytes o = { 1, 1, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0 };

	Put32(o.data() + 4, val);
	Put32(o.data() + 8, ecr);
	return o;
}

// A frame we sent, read as far as setup needs.
struct SentSeg {
	bool ok = false;
	uint16_t sport = 0, dport = 0;
	uint32_t seq = 0, ack = 0, tsval = 0;
	uint8_t flags = 0;
};

SentSeg ReadSeg(const Bytes &f)
{
	SentSeg s;

	if (f.size() < 14 + 20 + 20 || Get16(f.data() + 12) != 0x0800 || f[14 + 9] != 6)
		return s;
	const uint8_t *t = f.data() + 14 + (f[14] & 0xf) * 4;
	size_t hlen = (size_t)(t[12] >> 4) * 4;
	if (t + hlen > f.data() + f.size())
		return s;
	s.ok = true;
	s.sport = Get16(t);
	s.dport = Get16(t + 2);
	s.seq = Get32(t + 4);
	s.ack = Get32(t + 8);
	s.flags = t[13];
	for (size_t i = 20; i < hlen && t[i] != 0;) {
		if (t[i] == 1) {
			i++;
			continue;
		}
		if (i + 1 >= hlen || t[i + 1] < 2)
			break;
		if (t[i] == 8 && t[i + 1] == 10 && i + 10 <= hlen)
			s.tsval = Get32(t + i + 2);
		i += t[i + 1];
	}
	return s;
}

// --- The application: echo -----------------------------------------------------------------

void Forget(struct dtcp_conn *c)
{
	for (size_t i = 0; i < g.conns.size(); i++)
		if (g.conns[i] == c) {
			g.conns[i] = g.conns.back();
			g.conns.pop_back();
			break;
		}
	if (c == g.conn_a)
		g.conn_a = nullptr;
}

// The first byte of the data picks what the application does besides
// echoing: 'Q' shuts down after the echo (our FIN first: FIN-WAIT-1/2,
// CLOSING, TIME-WAIT); instead of echoing, 'C' closes and 'X' aborts the
// connection, 'W' queues more than the send buffer takes (then
// DTCP_EV_WRITABLE), 'K' and 'k' turn keepalive off and on (1 s, 1 s, 2
// probes), 'L' closes the listener (resetting what it has not accepted).
void OnData(struct dtcp_worker *w, struct dtcp_conn *c, struct rte_mbuf *m)
{
	static const uint8_t fill[20000] = {};
	uint8_t first = 0;
	const uint8_t *p = static_cast<const uint8_t *>(rte_pktmbuf_read(m, 0, 1, &first));

	if (p != nullptr)
		first = *p;
	switch (first) {
	case 'C':
		rte_pktmbuf_free(m);
		Forget(c);
		dtcp_tcp_close(w, c);
		return;
	case 'X':
		rte_pktmbuf_free(m);
		Forget(c);
		dtcp_tcp_abort(w, c);
		return;
	case 'W':
		rte_pktmbuf_free(m);
		dtcp_tcp_send_copy(w, c, fill, sizeof(fill));
		return;
	case 'K':
	case 'k':
		rte_pktmbuf_free(m);
		dtcp_conn_set_keepalive(w, c, first == 'k', 1, 1, 2);
		return;
	case 'L':
		rte_pktmbuf_free(m);
		if (g.listener != nullptr) {
			struct dtcp_conn *l = g.listener;

			g.listener = nullptr;
			dtcp_tcp_close(w, l);
		}
		return;
	default:
		break;
	}
	if (dtcp_tcp_send(w, c, m) != 0)
		rte_pktmbuf_free(m);
	if (first == 'Q')
		dtcp_tcp_shutdown(w, c);
}

void OnEvent(struct dtcp_worker *w, const struct dtcp_event *ev)
{
	struct dtcp_conn *c;

	switch (ev->type) {
	case DTCP_EV_ACCEPTABLE:
		while ((c = dtcp_tcp_accept(w, ev->conn, OnEvent, nullptr)) != nullptr)
			g.conns.push_back(c);
		break;
	case DTCP_EV_CONNECTED:
	case DTCP_EV_WRITABLE:
		break;
	case DTCP_EV_DATA:
		OnData(w, ev->conn, ev->data);
		break;
	case DTCP_EV_PEER_CLOSED:
		Forget(ev->conn);
		dtcp_tcp_close(w, ev->conn);
		break;
	case DTCP_EV_CLOSED:
		if (ev->conn == g.listener)
			Die("the listener was closed without our asking");
		Forget(ev->conn);
		break;
	}
}

// --- The known state ----------------------------------------------------------------------

uint32_t FixedIsn(void *, uint32_t, uint16_t, uint32_t, uint16_t)
{
	return kIss;
}

uint64_t ArpChanges()
{
	const uint64_t *c = dtcp_worker_counters(g.w);

	return c[DTCP_CTR_arp_learned] + c[DTCP_CTR_arp_updated] + c[DTCP_CTR_arp_expired] +
	       c[DTCP_CTR_arp_request_tx];
}

void MakeWorker()
{
	struct rte_ether_addr mac;
	char err[256] = "";
	std::vector<Bytes> tx;

	memcpy(mac.addr_bytes, kOurMac, 6);
	g.now_ns = kStartNs;
	g.port = dtcp_memport_create(&mac, 1500, g.pool, kPortCapacity);
	if (g.port == nullptr)
		Die("dtcp_memport_create failed");
	g.w = dtcp_worker_create(&g.cfg, g.port, 0, g.now_ns, err, sizeof(err));
	if (g.w == nullptr)
		Die("dtcp_worker_create: %s", err);
	dtcp_tcp_set_isn_source(g.w, FixedIsn, nullptr);
	if (dtcp_tcp_set_secret(g.w, kSecret) != 0)
		Die("dtcp_tcp_set_secret failed");
	int rc = dtcp_tcp_listen(g.w, 0, kListenPort, nullptr, OnEvent, nullptr, &g.listener);
	if (rc != 0)
		Die("dtcp_tcp_listen: %s", strerror(-rc));

	// The peer asks who we are: we learn its MAC and answer.
	Bytes arp = EthHeader(0x0806);
	arp.resize(14 + 28);
	uint8_t *a = arp.data() + 14;
	memset(arp.data(), 0xff, 6);
	Put16(a, 1);
	Put16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	Put16(a + 6, 1);
	memcpy(a + 8, kPeerMac, 6);
	Put32(a + 14, kPeerIp);
	Put32(a + 24, kOurIp);
	Inject(ExtMbuf(arp.data(), arp.size()), -1, &tx);
	if (tx.size() != 1)
		Die("setup: %zu frames in answer to the peer's ARP request", tx.size());
	g.arp_mark = ArpChanges();
	g.inputs = 0;
}

void DestroyWorker()
{
	dtcp_worker_destroy(g.w);
	g.w = nullptr;
	dtcp_port_destroy(g.port);
	g.port = nullptr;
	g.listener = nullptr;
	g.conn_a = nullptr;
	g.conns.clear();
	if (rte_mempool_in_use_count(g.pool) != g.in_use_base)
		Die("mbuf leak: %u in use after the worker and its port were destroyed, %u before",
		    rte_mempool_in_use_count(g.pool), g.in_use_base);
	if (g.ext_live != 0)
		Die("%llu external frame buffers not freed after the worker was destroyed",
		    (unsigned long long)g.ext_live);
	if (HeapBlocks() != g.heap_base)
		Die("DPDK heap leak: %llu blocks allocated, %llu before the worker",
		    (unsigned long long)HeapBlocks(), (unsigned long long)g.heap_base);
}

// A: the peer's SYN with every option, our SYN-ACK, the peer's ACK, accepted.
// B: our SYN to the peer's port 80, unanswered.
void OpenConnections()
{
	std::vector<Bytes> tx;
	SegSpec s = {};
	Bytes opts = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 3, kPeerWs };

	Put32(opts.data() + 8, kPeerTsval);
	s.sport = kPeerPortA;
	s.dport = kListenPort;
	s.seq = kPeerIss;
	s.flags = 0x02;
	s.win = 65535;
	s.opts = opts;
	Bytes seg = TcpSegment(s);
	Bytes f = Ipv4Frame(seg.data(), seg.size(), 0, 0);
	Inject(ExtMbuf(f.data(), f.size()), -1, &tx);
	SentSeg sa = tx.size() == 1 ? ReadSeg(tx[0]) : SentSeg();
	if (!sa.ok || sa.flags != 0x12 || sa.seq != kIss || sa.ack != kPeerIss + 1 ||
	    sa.sport != kListenPort || sa.dport != kPeerPortA)
		Die("setup: %zu frames in answer to A's SYN, not our SYN-ACK", tx.size());

	s.seq = kPeerIss + 1;
	s.ack = kIss + 1;
	s.flags = 0x10;
	s.opts = TsOption(kPeerTsval, sa.tsval);
	seg = TcpSegment(s);
	f = Ipv4Frame(seg.data(), seg.size(), 0, 0);
	size_t before = g.conns.size();
	tx.clear();
	Inject(ExtMbuf(f.data(), f.size()), -1, &tx);
	if (!tx.empty() || g.conns.size() != before + 1)
		Die("setup: A's ACK: %zu frames sent, %zu connections accepted", tx.size(),
		    g.conns.size() - before);
	g.conn_a = g.conns.back();
	if (dtcp_conn_state(g.conn_a) != DTCP_TCP_ESTABLISHED)
		Die("setup: A is %s", dtcp_tcp_state_name(dtcp_conn_state(g.conn_a)));

	struct dtcp_conn *b = nullptr;
	int rc = dtcp_tcp_connect(g.w, kPeerIp, kPeerPortB, 0, kOurPortB, OnEvent, nullptr, &b);
	if (rc != 0)
		Die("setup: dtcp_tcp_connect: %s", strerror(-rc));
	g.conns.push_back(b);
	tx.clear();
	Poll(-1, &tx);
	SentSeg syn = tx.size() == 1 ? ReadSeg(tx[0]) : SentSeg();
	if (!syn.ok || syn.flags != 0x02 || syn.seq != kIss || syn.sport != kOurPortB)
		Die("setup: %zu frames after connect, not our SYN", tx.size());
}

// Abort what the input left us holding; kClean when the worker holds only
// the listener again, at the clock reading it started from.
Dirty CloseConnections()
{
	uint64_t counts[DTCP_TCP_STATE_MAX];

	while (!g.conns.empty()) {
		struct dtcp_conn *c = g.conns.back();
		struct dtcp_conn_info info;

		g.conns.pop_back();
		dtcp_conn_info(c, &info);
		dtcp_tcp_abort(g.w, c);
	}
	g.conn_a = nullptr;
	Poll(-1);
	dtcp_tcp_state_counts(g.w, counts);
	for (unsigned s = 0; s < DTCP_TCP_STATE_MAX; s++)
		if (counts[s] != (s == DTCP_TCP_LISTEN ? 1u : 0u))
			return kConnections;
	if (rte_mempool_in_use_count(g.pool) != g.in_use_base)
		return kMbufsHeld;
	if (ArpChanges() != g.arp_mark)
		return kArpCache;
	if (g.now_ns != kStartNs)
		return kClock;
	return kClean;
}

// --- One input ---------------------------------------------------------------------------------

void Trace(int rec, const char *what, size_t len, uint16_t h)
{
	if (g.trace)
		fprintf(stderr, "record %d: %s, %zu bytes%s%s%s\n", rec, what, len,
			h & kPoolBit ? ", pool mbuf" : "", h & kSplitBit ? ", split" : "",
			!(h & kFixBit) ? "" : what[0] == 'f' ? ", checksums set" : ", absolute seq/ack");
}

// Set the IPv4 header checksum and, in a datagram that is not a fragment,
// the TCP or ICMP checksum, where the lengths the headers give fit the frame.
void FixChecksums(uint8_t *f, size_t len)
{
	if (len < 14 + 20 || Get16(f + 12) != 0x0800)
		return;
	uint8_t *ip = f + 14;
	size_t hlen = (ip[0] & 0xfu) * 4u, total = Get16(ip + 2);
	if (hlen < 20 || hlen > len - 14)
		return;
	Put16(ip + 10, 0);
	Put16(ip + 10, Cksum(ip, hlen, 0));
	if ((Get16(ip + 6) & 0x3fff) != 0 || total < hlen || total > len - 14)
		return;
	uint8_t *l4 = ip + hlen;
	size_t n = total - hlen;
	if (ip[9] == 6 && n >= 18) {
		uint32_t src = Get32(ip + 12), dst = Get32(ip + 16);

		Put16(l4 + 16, 0);
		Put16(l4 + 16, Cksum(l4, n, (src >> 16) + (src & 0xffff) + (dst >> 16) +
					     (dst & 0xffff) + 6 + (uint32_t)n));
	} else if (ip[9] == 1 && n >= 4) {
		Put16(l4 + 2, 0);
		Put16(l4 + 2, Cksum(l4, n, 0));
	}
}

void FrameRecord(const uint8_t *data, size_t len, uint16_t h, int rec)
{
	Bytes frame(data, data + len);
	const uint8_t *p = frame.data();

	Trace(rec, "frame", len, h);
	if (h & kFixBit)
		FixChecksums(frame.data(), len);
	if (h & kSplitBit)
		Inject(PoolMbuf(p, len, len / 2 > 0 ? len / 2 : 1), rec);
	else if ((h & kPoolBit) && len <= RTE_MBUF_DEFAULT_DATAROOM)
		Inject(PoolMbuf(p, len, len), rec);
	else
		Inject(ExtMbuf(p, len), rec);
}

void SegmentRecord(const uint8_t *p, size_t len, uint16_t h, int rec)
{
	Bytes seg(p, p + len);
	uint16_t id = g.ip_id++;

	Trace(rec, "segment", len, h);
	if (len >= 8 && !(h & kFixBit))
		Put32(seg.data() + 4, Get32(seg.data() + 4) + kPeerIss + 1);
	if (len >= 12 && !(h & kFixBit))
		Put32(seg.data() + 8, Get32(seg.data() + 8) + kIss + 1);
	SetTcpCksum(seg.data(), len);

	// Two fragments, the first one's payload a multiple of 8 bytes.
	size_t cut = (len / 2) & ~(size_t)7;
	if ((h & kSplitBit) && cut > 0) {
		Bytes f1 = Ipv4Frame(seg.data(), cut, id, 0x2000);
		Bytes f2 = Ipv4Frame(seg.data() + cut, len - cut, id, (uint16_t)(cut / 8));
		bool pool = (h & kPoolBit) != 0;

		Inject(pool ? PoolMbuf(f1.data(), f1.size(), f1.size()) : ExtMbuf(f1.data(), f1.size()),
		       rec);
		Inject(pool ? PoolMbuf(f2.data(), f2.size(), f2.size()) : ExtMbuf(f2.data(), f2.size()),
		       rec);
		return;
	}
	Bytes f = Ipv4Frame(seg.data(), len, id, 0);
	if ((h & kPoolBit) && f.size() <= RTE_MBUF_DEFAULT_DATAROOM)
		Inject(PoolMbuf(f.data(), f.size(), f.size()), rec);
	else
		Inject(ExtMbuf(f.data(), f.size()), rec);
}

void RunInput(const uint8_t *data, size_t size)
{
	bool tcp_mode = size > 0 && (data[0] & 1);
	size_t i = 1;
	int rec = 0;

	while (i + 2 <= size) {
		uint16_t h = Get16(data + i);

		i += 2;
		if ((h & kTimeMask) == kTimeMask) {
			uint64_t n = h & 0x7ff;
			bool secs = (h & 0x800) != 0;

			if (g.trace)
				fprintf(stderr, "record %d: advance %llu %s\n", rec,
					(unsigned long long)n, secs ? "s" : "ms");
			g.now_ns += n * (secs ? 1000000000ull : 1000000ull);
			Poll(rec);
			rec++;
			continue;
		}
		size_t len = h & kLenMask;
		if (len > size - i)
			len = size - i;
		if (tcp_mode)
			SegmentRecord(data + i, len, h, rec);
		else
			FrameRecord(data + i, len, h, rec);
		i += len;
		rec++;
	}
}

void Summary()
{
	fprintf(stderr, "fuzz_frames: %llu inputs, %llu worker resets", (unsigned long long)g.total_inputs,
		(unsigned long long)g.resets);
	for (unsigned i = 0; i < kClean; i++)
		fprintf(stderr, ", %llu for %s", (unsigned long long)g.reset_reasons[i], kDirtyName[i]);
	fprintf(stderr, "\n");
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char prog[] = "fuzz_frames";
	static const char *eal_args[] = {
		prog, "--no-huge", "-m", "512", "--no-shconf", "--no-pci", "--no-telemetry",
		"--log-level=lib.*:error", "--log-level=user*:error", "--log-level=RTE*:error",
		"-l", "0",
	};
	const char *env;

	(void)argc;
	(void)argv;
	if (rte_eal_init((int)(sizeof(eal_args) / sizeof(eal_args[0])),
			 const_cast<char **>(eal_args)) < 0)
		Die("EAL init failed: %s", rte_strerror(rte_errno));
	g.pool = rte_pktmbuf_pool_create("fuzz_pool", kPoolSize, 0, 0,
					 RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (g.pool == nullptr)
		Die("mbuf pool: %s", rte_strerror(rte_errno));
	g.in_use_base = rte_mempool_in_use_count(g.pool);
	g.heap_base = HeapBlocks();
	g.ext_head.next = g.ext_head.prev = &g.ext_head;

	// Small tables so that their limits are within an input's reach;
	// SACK and keepalive on so that their code runs too.
	dtcp_config_defaults(&g.cfg);
	g.cfg.addrs[0].addr = kOurIp;
	g.cfg.addrs[0].prefix_len = 24;
	g.cfg.n_addrs = 1;
	g.cfg.gateway = 0xc61200fe;   // 198.18.0.254
	g.cfg.rx_desc = 32;
	g.cfg.tx_desc = 32;
	g.cfg.mbufs = kPoolSize;
	g.cfg.arp_entries = 16;
	g.cfg.arp_pending_per_entry = 4;
	g.cfg.arp_pending_max = 16;
	g.cfg.frag_max_flows = 8;
	g.cfg.tcp_max_conns = 32;
	g.cfg.tcp_timewait_max = 8;
	g.cfg.tcp_listeners_max = 4;
	g.cfg.tcp_syn_backlog = 4;
	g.cfg.tcp_accept_backlog = 4;
	g.cfg.tcp_mbufs_max = 256;
	g.cfg.tcp_sndbuf = 16384;
	g.cfg.tcp_sack = 1;
	g.cfg.tcp_keepalive = 1;
	g.cfg.tcp_keepalive_idle_s = 30;
	g.cfg.tcp_keepalive_intvl_s = 5;
	g.cfg.tcp_keepalive_cnt = 3;
	char err[256] = "";
	if (dtcp_config_validate(&g.cfg, err, sizeof(err)) != 0)
		Die("configuration: %s", err);

	for (unsigned i = 0; i < DTCP_CTR_MAX; i++) {
		enum dtcp_ctr_kind k = dtcp_ctr_kind((enum dtcp_ctr)i);

		if (k == DTCP_CTR_KIND_DROP || k == DTCP_CTR_KIND_END)
			g.ends.push_back(i);
	}
	g.mark.reserve(DTCP_CTR_MAX);
	g.conns.reserve(64);
	if ((env = getenv("DTCP_FUZZ_RESET_EVERY")) != nullptr && atoi(env) > 0)
		g.reset_every = (unsigned)atoi(env);
	g.trace = (env = getenv("DTCP_FUZZ_TRACE")) != nullptr && env[0] == '1';
	atexit(Summary);
	return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (g.w == nullptr)
		MakeWorker();
	g.ip_id = 1;
	OpenConnections();
	RunInput(data, size);
	Dirty dirty = CloseConnections();
	g.total_inputs++;
	if (dirty != kClean || ++g.inputs >= g.reset_every) {
		if (g.trace)
			fprintf(stderr, "worker reset: %s\n",
				dirty != kClean ? kDirtyName[dirty] : "periodic");
		g.resets++;
		if (dirty != kClean)
			g.reset_reasons[dirty]++;
		DestroyWorker();
	}
	return 0;
}
