// SPDX-License-Identifier: BSD-3-Clause
// The POSIX-like layer (dtcp/posix.h) over the in-memory port and the fake
// clock: each call's result and errno as Linux gives them, what reaches the
// wire (exact flags, sequence numbers, options, windows), readiness as
// poll() and epoll report it, and blocking calls whose wait hook moves the
// clock and plays the peer. The fixture checks that no mbuf or heap block
// leaked.
#include "tcp_harness.h"

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <functional>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string>
#include <sys/ioctl.h>

#include <dtcp/posix.h>

namespace {

class Posix : public TcpTest {
protected:
	void SetUp() override
	{
		TcpTest::SetUp();
		// Plain segments: no timestamps, no window scaling, unless a test asks.
		cfg_.tcp_timestamps = 0;
		cfg_.tcp_window_scale = 0;
	}

	void Start() override
	{
		TcpTest::Start();
		if (HasFatalFailure())
			return;
		struct dtcp_posix_params p = {};
		p.worker = w_;
		p.max_fds = max_fds_;
		p.wait = WaitHook;
		p.now = NowHook;
		p.arg = this;
		px_ = dtcp_posix_create(&p);
		ASSERT_NE(px_, nullptr);
		dtcp_posix_attach(px_);
	}

	void TearDown() override
	{
		if (px_ != nullptr) {
			dtcp_posix_destroy(px_);
			dtcp_posix_attach(nullptr);
			Poll();
			TakeTx();
		}
		TcpTest::TearDown();
	}

	// Blocking calls land here: play the peer (peer_, once per wait) or let
	// 1 ms pass. A call that never returns would stop the test: abort.
	static void WaitHook(void *arg, uint64_t deadline_ns)
	{
		Posix *t = static_cast<Posix *>(arg);

		(void)deadline_ns;
		if (++t->waits_ > kWaitsMax) {
			fprintf(stderr, "a blocking call waited %d times: giving up\n", kWaitsMax);
			abort();
		}
		if (t->peer_)
			t->peer_();
		else
			t->Advance(1);
	}
	static uint64_t NowHook(void *arg) { return static_cast<Posix *>(arg)->now_ns_; }

	static sockaddr_in Sin(uint32_t ip, uint16_t port)
	{
		sockaddr_in a = {};
		a.sin_family = AF_INET;
		a.sin_addr.s_addr = htonl(ip);
		a.sin_port = htons(port);
		return a;
	}
	static const sockaddr *Sa(const sockaddr_in &a) { return (const sockaddr *)&a; }

	// A listening socket on (any, port).
	int ListenFd(uint16_t port = kOurPort, int backlog = 16)
	{
		int fd = dtcp_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		EXPECT_GE(fd, DTCP_POSIX_FD_BASE);
		sockaddr_in a = Sin(0, port);
		EXPECT_EQ(dtcp_bind(fd, Sa(a), sizeof(a)), 0) << strerror(errno);
		EXPECT_EQ(dtcp_listen(fd, backlog), 0) << strerror(errno);
		return fd;
	}

	// The peer's handshake to a listener; the accepted descriptor (non-blocking).
	int AcceptFd(int lfd, const Seg &syn)
	{
		TcpSeg offered = ParseTcp(Frame(syn));
		lport_ = syn.dst_port;
		rport_ = syn.src_port;
		peer_iss_ = syn.seq_no;
		Inject(syn);
		ExpectSynAck(ExpectOneTx(), offered);
		snd_ = rcv_ = 1;
		Inject(PeerAck());
		ExpectNoTx();
		sockaddr_in peer = {};
		socklen_t len = sizeof(peer);
		int fd = dtcp_accept4(lfd, (sockaddr *)&peer, &len, SOCK_NONBLOCK);
		EXPECT_GE(fd, DTCP_POSIX_FD_BASE) << strerror(errno);
		EXPECT_EQ(len, sizeof(peer));
		EXPECT_EQ(ntohl(peer.sin_addr.s_addr), kPeerIp);
		EXPECT_EQ(ntohs(peer.sin_port), syn.src_port);
		return fd;
	}
	int AcceptFd(int lfd) { return AcceptFd(lfd, PeerSyn()); }

	// Non-blocking connect from kOurPort to the peer, SYN out, SYN-ACK in, ACK out.
	int ConnectFd()
	{
		int fd = dtcp_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
		EXPECT_GE(fd, DTCP_POSIX_FD_BASE);
		sockaddr_in me = Sin(0, kOurPort), peer = Sin(kPeerIp, kPeerPort);
		EXPECT_EQ(dtcp_bind(fd, Sa(me), sizeof(me)), 0);
		errno = 0;
		EXPECT_EQ(dtcp_connect(fd, Sa(peer), sizeof(peer)), -1);
		EXPECT_EQ(errno, EINPROGRESS);
		Poll();
		ExpectSyn(ExpectOneTx());
		Inject(Seg().syn().ack().seq(P(0)).ack_(O(1)).win(kPeerWin).mss(kPeerMss));
		ExpectSeg(ExpectOneTx(), "A", O(1), P(1));
		snd_ = rcv_ = 1;
		return fd;
	}

	short Revents(int fd, short events = POLLIN | POLLOUT | POLLRDHUP)
	{
		struct pollfd p = { fd, events, 0 };
		int n = dtcp_poll(&p, 1, 0);
		EXPECT_GE(n, 0);
		return p.revents;
	}

	// The call failed with errno e.
	static ::testing::AssertionResult Err(long rc, int e)
	{
		if (rc == -1 && errno == e)
			return ::testing::AssertionSuccess();
		return ::testing::AssertionFailure() << "rc " << rc << " errno " << errno << " ("
						     << strerror(errno) << "), wanted -1 "
						     << strerror(e);
	}

	static constexpr int kWaitsMax = 100000;
	struct dtcp_posix *px_ = nullptr;
	unsigned max_fds_ = 0;
	std::function<void()> peer_;
	int waits_ = 0;
};

// --- socket(), descriptors ---------------------------------------------------------

TEST_F(Posix, Socket_FirstIsThreeLowestFreeReused_BadArgumentsAsLinux)
{
	Start();
	EXPECT_EQ(dtcp_socket(AF_INET, SOCK_STREAM, 0), 3);
	EXPECT_EQ(dtcp_socket(AF_INET, SOCK_STREAM, IPPROTO_TCP), 4);
	EXPECT_EQ(dtcp_close(3), 0);
	EXPECT_EQ(dtcp_socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), 3) << "lowest free";
	EXPECT_EQ(dtcp_fcntl(3, F_GETFD), FD_CLOEXEC);
	EXPECT_TRUE(Err(dtcp_socket(AF_INET6, SOCK_STREAM, 0), EAFNOSUPPORT));
	EXPECT_TRUE(Err(dtcp_socket(AF_INET, SOCK_DGRAM, 0), EPROTONOSUPPORT));
	EXPECT_TRUE(Err(dtcp_socket(AF_INET, SOCK_STREAM, IPPROTO_UDP), EPROTONOSUPPORT));
	EXPECT_TRUE(Err(dtcp_close(3 + 100), EBADF));
	EXPECT_TRUE(Err(dtcp_close(0), EBADF)) << "stdin is never ours";
	EXPECT_TRUE(Err(dtcp_close(-1), EBADF));
	char b[4];
	EXPECT_TRUE(Err(dtcp_read(7, b, sizeof(b)), EBADF));
	int ep = dtcp_epoll_create1(0);
	ASSERT_GE(ep, 0);
	EXPECT_TRUE(Err(dtcp_read(ep, b, sizeof(b)), ENOTSOCK));
	EXPECT_TRUE(Err(dtcp_listen(ep, 1), ENOTSOCK));
	EXPECT_EQ(dtcp_close(ep), 0);
	EXPECT_EQ(dtcp_close(3), 0);
	EXPECT_EQ(dtcp_close(4), 0);
	EXPECT_TRUE(Err(dtcp_close(4), EBADF)) << "closed twice";
}

TEST_F(Posix, NoContextAttached_EBADF)
{
	Start();
	dtcp_posix_attach(nullptr);
	EXPECT_EQ(dtcp_posix_current(), nullptr);
	EXPECT_TRUE(Err(dtcp_socket(AF_INET, SOCK_STREAM, 0), EBADF));
	dtcp_posix_attach(px_);
	EXPECT_EQ(dtcp_posix_current(), px_);
}

TEST_F(Posix, TableFull_EMFILECounted)
{
	max_fds_ = 2;
	Start();
	EXPECT_EQ(dtcp_socket(AF_INET, SOCK_STREAM, 0), 3);
	EXPECT_EQ(dtcp_socket(AF_INET, SOCK_STREAM, 0), 4);
	uint64_t before = Ctr(DTCP_CTR_posix_fd_table_full);
	EXPECT_TRUE(Err(dtcp_socket(AF_INET, SOCK_STREAM, 0), EMFILE));
	EXPECT_TRUE(Err(dtcp_epoll_create1(0), EMFILE));
	EXPECT_EQ(Ctr(DTCP_CTR_posix_fd_table_full), before + 2);
}

TEST_F(Posix, Fcntl_NonBlockSetAndCleared)
{
	Start();
	int fd = dtcp_socket(AF_INET, SOCK_STREAM, 0);
	EXPECT_EQ(dtcp_fcntl(fd, F_GETFL), O_RDWR);
	EXPECT_EQ(dtcp_fcntl(fd, F_SETFL, O_RDWR | O_NONBLOCK), 0);
	EXPECT_EQ(dtcp_fcntl(fd, F_GETFL), O_RDWR | O_NONBLOCK);
	EXPECT_EQ(dtcp_fcntl(fd, F_SETFL, O_RDWR), 0);
	EXPECT_EQ(dtcp_fcntl(fd, F_GETFL), O_RDWR);
	EXPECT_TRUE(Err(dtcp_fcntl(fd, F_DUPFD, 0), EINVAL));
	EXPECT_TRUE(Err(dtcp_fcntl(99, F_GETFL), EBADF));
}

// --- bind(), listen(), accept() ------------------------------------------------------

TEST_F(Posix, Bind_ErrorsAsLinux)
{
	Start();
	int a = dtcp_socket(AF_INET, SOCK_STREAM, 0), b = dtcp_socket(AF_INET, SOCK_STREAM, 0);
	sockaddr_in any = Sin(0, 80), other = Sin(Ip(198, 18, 9, 9), 80);
	EXPECT_TRUE(Err(dtcp_bind(a, Sa(any), sizeof(any) - 1), EINVAL));
	sockaddr_in six = any;
	six.sin_family = AF_INET6;
	EXPECT_TRUE(Err(dtcp_bind(a, Sa(six), sizeof(six)), EAFNOSUPPORT));
	EXPECT_TRUE(Err(dtcp_bind(a, Sa(other), sizeof(other)), EADDRNOTAVAIL));
	EXPECT_EQ(dtcp_bind(a, Sa(any), sizeof(any)), 0);
	EXPECT_TRUE(Err(dtcp_bind(a, Sa(any), sizeof(any)), EINVAL)) << "bound already";
	EXPECT_TRUE(Err(dtcp_bind(b, Sa(any), sizeof(any)), EADDRINUSE));
	// Port 0: a free port is chosen; getsockname tells which.
	sockaddr_in zero = Sin(kOurIp, 0), got = {};
	socklen_t len = sizeof(got);
	EXPECT_EQ(dtcp_bind(b, Sa(zero), sizeof(zero)), 0);
	EXPECT_EQ(dtcp_getsockname(b, (sockaddr *)&got, &len), 0);
	EXPECT_EQ(ntohl(got.sin_addr.s_addr), kOurIp);
	EXPECT_GE(ntohs(got.sin_port), cfg_.tcp_port_min);
	EXPECT_LE(ntohs(got.sin_port), cfg_.tcp_port_max);
}

TEST_F(Posix, Accept_EmptyEAGAIN_HandshakeMakesListenerReadable_PeerAddress)
{
	Start();
	int lfd = ListenFd();
	EXPECT_TRUE(Err(dtcp_accept(lfd, nullptr, nullptr), EAGAIN));
	EXPECT_EQ(Revents(lfd), 0);
	int a = dtcp_socket(AF_INET, SOCK_STREAM, 0);
	EXPECT_TRUE(Err(dtcp_accept(a, nullptr, nullptr), EINVAL)) << "not listening";
	EXPECT_TRUE(Err(dtcp_read(lfd, &a, 1), ENOTCONN));
	int fd = AcceptFd(lfd);
	ASSERT_GE(fd, 0);
	EXPECT_EQ(Revents(lfd), 0) << "queue empty again";
	EXPECT_EQ(Revents(fd), POLLOUT) << "connected, nothing to read";
	sockaddr_in me = {}, peer = {};
	socklen_t len = sizeof(me);
	EXPECT_EQ(dtcp_getsockname(fd, (sockaddr *)&me, &len), 0);
	EXPECT_EQ(ntohl(me.sin_addr.s_addr), kOurIp);
	EXPECT_EQ(ntohs(me.sin_port), kOurPort);
	len = sizeof(peer);
	EXPECT_EQ(dtcp_getpeername(fd, (sockaddr *)&peer, &len), 0);
	EXPECT_EQ(ntohs(peer.sin_port), kPeerPort);
	EXPECT_TRUE(Err(dtcp_getpeername(lfd, (sockaddr *)&peer, &len), ENOTCONN));
	int on = 0;
	socklen_t ol = sizeof(on);
	EXPECT_EQ(dtcp_getsockopt(lfd, SOL_SOCKET, SO_ACCEPTCONN, &on, &ol), 0);
	EXPECT_EQ(on, 1);
}

// The accept queue holds backlog connections; beyond it the handshake's
// ACK leaves the connection in SYN-RECEIVED and nothing more is queued.
TEST_F(Posix, ListenBacklog_QueueHoldsBacklogMore_NotAccepted)
{
	Start();
	int lfd = ListenFd(kOurPort, 1);
	for (uint16_t k = 0; k < 2; k++) {
		Seg syn = PeerSyn();
		syn.sport((uint16_t)(kPeerPort + k));
		Inject(syn);
		TakeTx();
		Inject(Seg().ack().sport((uint16_t)(kPeerPort + k)).seq(P(1)).ack_(O(1)));
		TakeTx();
	}
	EXPECT_EQ(Revents(lfd), POLLIN);
	int fd = dtcp_accept(lfd, nullptr, nullptr);
	EXPECT_GE(fd, 0);
	EXPECT_TRUE(Err(dtcp_accept(lfd, nullptr, nullptr), EAGAIN));
	EXPECT_EQ(dtcp_close(fd), 0);
	EXPECT_EQ(dtcp_close(lfd), 0);
	Poll();
	TakeTx();
}

// --- read(), write(), close() over a passive open ----------------------------------------

TEST_F(Posix, Passive_ReadExactBytes_WriteGoesOut_PeerFinReadZero_CloseSendsFin)
{
	Start();
	int lfd = ListenFd();
	int fd = AcceptFd(lfd);
	char buf[64];
	EXPECT_TRUE(Err(dtcp_read(fd, buf, sizeof(buf)), EAGAIN));
	Inject(Seg().ack().psh().seq(P(1)).ack_(O(1)).data("hello, world"));
	ExpectSeg(ExpectOneTx(), "A", O(1), P(13));
	rcv_ = 13;
	EXPECT_EQ(Revents(fd), POLLIN | POLLOUT);
	int avail = 0;
	EXPECT_EQ(dtcp_ioctl(fd, FIONREAD, &avail), 0);
	EXPECT_EQ(avail, 12);
	// Peeked, then read in two parts.
	EXPECT_EQ(dtcp_recv(fd, buf, 5, MSG_PEEK), 5);
	EXPECT_EQ(std::string(buf, 5), "hello");
	EXPECT_EQ(dtcp_read(fd, buf, 7), 7);
	EXPECT_EQ(std::string(buf, 7), "hello, ");
	EXPECT_EQ(dtcp_read(fd, buf, sizeof(buf)), 5);
	EXPECT_EQ(std::string(buf, 5), "world");
	EXPECT_TRUE(Err(dtcp_read(fd, buf, sizeof(buf)), EAGAIN));
	// Written bytes leave at the next poll, exactly.
	EXPECT_EQ(dtcp_write(fd, "pong", 4), 4);
	Poll();
	TcpSeg s = ExpectSeg(ExpectOneTx(), "PA", O(1), P(13));
	EXPECT_EQ(std::string(s.payload.begin(), s.payload.end()), "pong");
	Inject(Seg().ack().seq(P(13)).ack_(O(5)));
	snd_ = 5;
	// The peer's FIN: end of file, POLLRDHUP; writing goes on.
	Inject(Seg().ack().fin().seq(P(13)).ack_(O(5)));
	ExpectSeg(ExpectOneTx(), "A", O(5), P(14));
	EXPECT_EQ(Revents(fd), POLLIN | POLLOUT | POLLRDHUP);
	EXPECT_EQ(dtcp_read(fd, buf, sizeof(buf)), 0);
	EXPECT_EQ(dtcp_read(fd, buf, sizeof(buf)), 0);
	EXPECT_EQ(dtcp_write(fd, "x", 1), 1);
	Poll();
	ExpectSeg(ExpectOneTx(), "PA", O(5), P(14));
	// close: FIN after the data.
	EXPECT_EQ(dtcp_close(fd), 0);
	Poll();
	ExpectSeg(ExpectOneTx(), "FA", O(6), P(14));
	Inject(Seg().ack().seq(P(14)).ack_(O(7)));
	ExpectNoTx();
	EXPECT_EQ(dtcp_close(lfd), 0);
}

TEST_F(Posix, Readv_Writev_SpanIovecs)
{
	Start();
	int fd = AcceptFd(ListenFd());
	Inject(Seg().ack().seq(P(1)).ack_(O(1)).data("abcdefghij"));
	TakeTx();
	char x[3], y[4], z[10];
	struct iovec in[3] = { { x, 3 }, { y, 4 }, { z, 10 } };
	EXPECT_EQ(dtcp_readv(fd, in, 3), 10);
	EXPECT_EQ(std::string(x, 3), "abc");
	EXPECT_EQ(std::string(y, 4), "defg");
	EXPECT_EQ(std::string(z, 3), "hij");
	struct iovec out[3] = { { (void *)"12", 2 }, { (void *)"", 0 }, { (void *)"345", 3 } };
	EXPECT_EQ(dtcp_writev(fd, out, 3), 5);
	Poll();
	TcpSeg s = ExpectSeg(ExpectOneTx(), "PA", O(1), P(11));
	EXPECT_EQ(std::string(s.payload.begin(), s.payload.end()), "12345");
	EXPECT_TRUE(Err(dtcp_readv(fd, in, -1), EINVAL));
}

// A blocking read waits through the hook until the peer's data arrives.
TEST_F(Posix, BlockingRead_WokenByData)
{
	Start();
	int fd = AcceptFd(ListenFd());
	EXPECT_EQ(dtcp_fcntl(fd, F_SETFL, 0), 0);
	int calls = 0;
	peer_ = [&] {
		if (++calls == 3)
			Inject(Seg().ack().seq(P(1)).ack_(O(1)).data("late"));
		else
			Advance(10);
	};
	char buf[16];
	EXPECT_EQ(dtcp_read(fd, buf, sizeof(buf)), 4);
	EXPECT_EQ(std::string(buf, 4), "late");
	EXPECT_EQ(calls, 3);
	TakeTx();
}

// SO_RCVTIMEO bounds a blocking read: EAGAIN once the time has passed.
TEST_F(Posix, BlockingRead_RcvTimeo_EAGAIN)
{
	Start();
	int fd = AcceptFd(ListenFd());
	EXPECT_EQ(dtcp_fcntl(fd, F_SETFL, 0), 0);
	struct timeval tv = { 0, 50000 };
	EXPECT_EQ(dtcp_setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	char buf[4];
	uint64_t t0 = now_ns_;
	EXPECT_TRUE(Err(dtcp_read(fd, buf, sizeof(buf)), EAGAIN));
	EXPECT_EQ(now_ns_ - t0, 50000000u) << "1 ms a wait, 50 waits";
}

// --- connect() --------------------------------------------------------------------

TEST_F(Posix, Connect_NonBlocking_InProgressThenWritable_SecondCallReports)
{
	Start();
	int fd = dtcp_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	sockaddr_in me = Sin(0, kOurPort), peer = Sin(kPeerIp, kPeerPort);
	EXPECT_EQ(dtcp_bind(fd, Sa(me), sizeof(me)), 0);
	EXPECT_EQ(Revents(fd), POLLOUT | POLLHUP) << "a fresh socket, as Linux reports it";
	EXPECT_TRUE(Err(dtcp_connect(fd, Sa(peer), sizeof(peer)), EINPROGRESS));
	EXPECT_EQ(Revents(fd), 0) << "SYN-SENT";
	EXPECT_TRUE(Err(dtcp_connect(fd, Sa(peer), sizeof(peer)), EALREADY));
	char b[4];
	EXPECT_TRUE(Err(dtcp_read(fd, b, 4), EAGAIN));
	EXPECT_TRUE(Err(dtcp_write(fd, b, 4), EAGAIN));
	Poll();
	ExpectSyn(ExpectOneTx());
	Inject(Seg().syn().ack().seq(P(0)).ack_(O(1)).win(kPeerWin).mss(kPeerMss));
	ExpectSeg(ExpectOneTx(), "A", O(1), P(1));
	EXPECT_EQ(Revents(fd), POLLOUT);
	int err = -1;
	socklen_t len = sizeof(err);
	EXPECT_EQ(dtcp_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	EXPECT_EQ(err, 0);
	EXPECT_EQ(dtcp_connect(fd, Sa(peer), sizeof(peer)), 0) << "inet_stream_connect's second call";
	EXPECT_TRUE(Err(dtcp_connect(fd, Sa(peer), sizeof(peer)), EISCONN));
}

TEST_F(Posix, Connect_Blocking_ReturnsOnceEstablished)
{
	Start();
	int fd = dtcp_socket(AF_INET, SOCK_STREAM, 0);
	sockaddr_in me = Sin(0, kOurPort), peer = Sin(kPeerIp, kPeerPort);
	EXPECT_EQ(dtcp_bind(fd, Sa(me), sizeof(me)), 0);
	peer_ = [&] {
		Poll();
		std::vector<Bytes> tx = TakeTx();
		if (tx.size() == 1 && ParseTcp(tx[0]).Has(kSyn))
			Inject(Seg().syn().ack().seq(P(0)).ack_(O(1)).win(kPeerWin).mss(kPeerMss));
		else
			Advance(1);
	};
	EXPECT_EQ(dtcp_connect(fd, Sa(peer), sizeof(peer)), 0);
	ExpectSeg(ExpectOneTx(), "A", O(1), P(1));
	snd_ = rcv_ = 1;
	EXPECT_EQ(dtcp_write(fd, "hi", 2), 2);
	Poll();
	ExpectSeg(ExpectOneTx(), "PA", O(1), P(1));
}

TEST_F(Posix, Connect_Refused_ECONNREFUSED_PollErrHup_SoErrorOnce)
{
	Start();
	int fd = dtcp_socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	sockaddr_in peer = Sin(kPeerIp, kPeerPort);
	EXPECT_TRUE(Err(dtcp_connect(fd, Sa(peer), sizeof(peer)), EINPROGRESS));
	Poll();
	TcpSeg syn = ParseTcp(ExpectOneTx());
	ASSERT_TRUE(syn.Has(kSyn));
	Inject(Seg().rst().ack().dport(syn.sport).seq(0).ack_(O(1)));
	EXPECT_EQ(Revents(fd), POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDHUP);
	int err = 0;
	socklen_t len = sizeof(err);
	EXPECT_EQ(dtcp_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	EXPECT_EQ(err, ECONNREFUSED);
	EXPECT_EQ(dtcp_getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len), 0);
	EXPECT_EQ(err, 0) << "read once";
	EXPECT_TRUE(Err(dtcp_connect(fd, Sa(peer), sizeof(peer)), ECONNABORTED))
		<< "the error was taken: Linux's ECONNABORTED";
}

TEST_F(Posix, Connect_BlockingRefused_ECONNREFUSED_ThenAgainWorks)
{
	Start();
	int fd = dtcp_socket(AF_INET, SOCK_STREAM, 0);
	sockaddr_in peer = Sin(kPeerIp, kPeerPort);
	peer_ = [&] {
		Poll();
		for (const Bytes &f : TakeTx()) {
			TcpSeg s = ParseTcp(f);
			if (s.Has(kSyn))
				Inject(Seg().rst().ack().dport(s.sport).seq(0).ack_(s.seq + 1));
		}
	};
	EXPECT_TRUE(Err(dtcp_connect(fd, Sa(peer), sizeof(peer)), ECONNREFUSED));
	EXPECT_TRUE(Err(dtcp_connect(fd, Sa(peer), sizeof(peer)), ECONNREFUSED)) << "tried again";
	EXPECT_TRUE(Err(dtcp_connect(fd, nullptr, 0), EINVAL));
	sockaddr_in six = peer;
	six.sin_family = AF_INET6;
	EXPECT_TRUE(Err(dtcp_connect(fd, Sa(six), sizeof(six)), EAFNOSUPPORT));
}

// --- RST, shutdown, SO_LINGER -----------------------------------------------------------

TEST_F(Posix, PeerRst_ReadECONNRESETOnceThenZero_WriteEPIPE)
{
	Start();
	int fd = AcceptFd(ListenFd());
	Inject(Seg().rst().seq(P(1)));
	EXPECT_EQ(Revents(fd), POLLIN | POLLOUT | POLLERR | POLLHUP | POLLRDHUP);
	char b[4];
	EXPECT_TRUE(Err(dtcp_read(fd, b, sizeof(b)), ECONNRESET));
	EXPECT_EQ(dtcp_read(fd, b, sizeof(b)), 0);
	EXPECT_TRUE(Err(dtcp_write(fd, "x", 1), EPIPE)) << "no SIGPIPE: only EPIPE";
	ExpectNoTx();
}

TEST_F(Posix, PeerRst_WriteFirst_ECONNRESETThenEPIPE)
{
	Start();
	int fd = AcceptFd(ListenFd());
	Inject(Seg().rst().seq(P(1)));
	EXPECT_TRUE(Err(dtcp_write(fd, "x", 1), ECONNRESET));
	EXPECT_TRUE(Err(dtcp_write(fd, "x", 1), EPIPE));
}

TEST_F(Posix, ShutdownWr_FinOnWire_WriteEPIPE_ReadGoesOn)
{
	Start();
	int fd = AcceptFd(ListenFd());
	EXPECT_TRUE(Err(dtcp_shutdown(fd, 7), EINVAL));
	EXPECT_EQ(dtcp_shutdown(fd, SHUT_WR), 0);
	Poll();
	ExpectSeg(ExpectOneTx(), "FA", O(1), P(1));
	EXPECT_TRUE(Err(dtcp_write(fd, "x", 1), EPIPE));
	EXPECT_EQ(Revents(fd), POLLOUT) << "Linux: POLLOUT once SEND_SHUTDOWN";
	Inject(Seg().ack().seq(P(1)).ack_(O(2)).data("more"));
	ExpectSeg(ExpectOneTx(), "A", O(2), P(5));
	char b[8];
	EXPECT_EQ(dtcp_read(fd, b, sizeof(b)), 4);
	Inject(Seg().ack().fin().seq(P(5)).ack_(O(2)));
	TakeTx();
	EXPECT_EQ(Revents(fd), POLLIN | POLLOUT | POLLHUP | POLLRDHUP) << "both directions shut";
	EXPECT_EQ(dtcp_read(fd, b, sizeof(b)), 0);
	int nc = dtcp_socket(AF_INET, SOCK_STREAM, 0);
	EXPECT_TRUE(Err(dtcp_shutdown(nc, SHUT_RDWR), ENOTCONN));
}

TEST_F(Posix, CloseWithLingerZero_RstOnWire)
{
	Start();
	int fd = AcceptFd(ListenFd());
	struct linger l = { 1, 0 };
	EXPECT_EQ(dtcp_setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l)), 0);
	struct linger g = {};
	socklen_t len = sizeof(g);
	EXPECT_EQ(dtcp_getsockopt(fd, SOL_SOCKET, SO_LINGER, &g, &len), 0);
	EXPECT_EQ(g.l_onoff, 1);
	EXPECT_EQ(dtcp_close(fd), 0);
	Poll();
	ExpectRst(ExpectOneTx(), O(1));
}

TEST_F(Posix, CloseWithUnreadData_Rst)
{
	Start();
	int fd = AcceptFd(ListenFd());
	Inject(Seg().ack().seq(P(1)).ack_(O(1)).data("unread"));
	TakeTx();
	EXPECT_EQ(dtcp_close(fd), 0);
	Poll();
	ExpectRst(ExpectOneTx(), O(1));
}

} // namespace
