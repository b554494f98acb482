/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A POSIX-like socket layer over the event interface (dtcp/tcp.h), for
 * porting socket programs. The calls have the signatures of their POSIX
 * namesakes, return what those return (-1 with errno set to the value
 * Linux uses), and act on descriptors of their own: small integers that
 * name dtcp sockets only, never kernel files.
 *
 * A context (struct dtcp_posix) holds the descriptors of one worker. The
 * calls act on the context attached to the calling thread, which must be
 * the thread that polls that worker, or hold whatever lock serialises it
 * (the packetdrill interface does so). A thread that serves several
 * workers attaches the right context before each call.
 *
 * Sockets are non-blocking or blocking as in POSIX (SOCK_NONBLOCK,
 * O_NONBLOCK). A blocking call, and poll() or dtcp_epoll_wait() with a
 * timeout, calls the context's wait function while nothing is ready; the
 * default wait polls the worker once at the TSC's time, so a program on
 * the worker's lcore needs no loop of its own.
 *
 * Only AF_INET and SOCK_STREAM (TCP) exist.
 */
#ifndef DTCP_POSIX_H
#define DTCP_POSIX_H

#include <poll.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

#ifdef __cplusplus
extern "C" {
#endif

struct dtcp_worker;
struct dtcp_posix;

/*
 * Descriptors start here and the lowest free one is handed out, as POSIX
 * does: 0, 1 and 2 are never dtcp's, so a mix-up with stdio is EBADF, and
 * a fresh context's first socket is 3 as in a fresh process.
 */
#define DTCP_POSIX_FD_BASE 3

struct dtcp_posix_params {
	struct dtcp_worker *worker;
	unsigned max_fds;             /* sockets and epoll instances at once; 0: 1024 */
	/*
	 * Called by a blocking call that found nothing ready: let the worker
	 * make progress, then return (the caller checks again). deadline_ns
	 * is when the caller gives up, on the now() clock (UINT64_MAX: never).
	 * NULL: dtcp_worker_poll() once at the TSC's time.
	 */
	void (*wait)(void *arg, uint64_t deadline_ns);
	/* The clock of timeouts, in ns, the worker's own; NULL: the TSC. */
	uint64_t (*now)(void *arg);
	void *arg;
};

/* NULL with errno ENOMEM or EINVAL. */
struct dtcp_posix *dtcp_posix_create(const struct dtcp_posix_params *p);
/*
 * Closes every descriptor still open (SO_LINGER {1, 0} and unread data
 * send RST; nothing waits for a linger time), then frees.
 */
void dtcp_posix_destroy(struct dtcp_posix *px);
/* The context of the calling thread's calls from now on (NULL: none, EBADF). */
void dtcp_posix_attach(struct dtcp_posix *px);
struct dtcp_posix *dtcp_posix_current(void);

int dtcp_socket(int domain, int type, int protocol);
int dtcp_bind(int fd, const struct sockaddr *addr, socklen_t addrlen);
int dtcp_listen(int fd, int backlog);
int dtcp_accept(int fd, struct sockaddr *addr, socklen_t *addrlen);
int dtcp_accept4(int fd, struct sockaddr *addr, socklen_t *addrlen, int flags);
int dtcp_connect(int fd, const struct sockaddr *addr, socklen_t addrlen);
int dtcp_getsockname(int fd, struct sockaddr *addr, socklen_t *addrlen);
int dtcp_getpeername(int fd, struct sockaddr *addr, socklen_t *addrlen);
ssize_t dtcp_read(int fd, void *buf, size_t count);
ssize_t dtcp_readv(int fd, const struct iovec *iov, int iovcnt);
ssize_t dtcp_recv(int fd, void *buf, size_t len, int flags);
ssize_t dtcp_write(int fd, const void *buf, size_t count);
ssize_t dtcp_writev(int fd, const struct iovec *iov, int iovcnt);
ssize_t dtcp_send(int fd, const void *buf, size_t len, int flags);
int dtcp_shutdown(int fd, int how);
int dtcp_close(int fd);
int dtcp_getsockopt(int fd, int level, int optname, void *optval, socklen_t *optlen);
int dtcp_setsockopt(int fd, int level, int optname, const void *optval, socklen_t optlen);
/* F_GETFL, F_SETFL (O_NONBLOCK), F_GETFD, F_SETFD; the third argument is an int. */
int dtcp_fcntl(int fd, int cmd, ...);
/* FIONREAD (SIOCINQ), SIOCOUTQ. */
int dtcp_ioctl(int fd, unsigned long request, ...);
int dtcp_poll(struct pollfd *fds, nfds_t nfds, int timeout_ms);

int dtcp_epoll_create(int size);
int dtcp_epoll_create1(int flags);
int dtcp_epoll_ctl(int epfd, int op, int fd, struct epoll_event *event);
int dtcp_epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout_ms);

/*
 * getsockopt(fd, IPPROTO_TCP, DTCP_TCP_INFO, ...) fills this snapshot
 * (Linux's TCP_INFO number, dtcp's own layout). Times in microseconds.
 */
#define DTCP_TCP_INFO 11
struct dtcp_tcp_info {
	uint8_t state;                /* enum dtcp_tcp_state */
	uint8_t snd_wscale, rcv_wscale;
	uint8_t options;              /* DTCP_TCPI_OPT_* */
	uint32_t snd_mss, rcv_mss;
	uint32_t rtt_us, rttvar_us, rto_us;
	uint32_t snd_cwnd, snd_ssthresh; /* bytes */
	uint32_t snd_wnd, rcv_wnd;    /* bytes */
	uint32_t retransmits;         /* timeouts of the current segment */
	uint64_t total_retrans;       /* segments sent again, ever */
	uint32_t unacked;             /* bytes sent, not yet acknowledged */
	uint32_t notsent;             /* bytes queued, not yet sent */
};
#define DTCP_TCPI_OPT_TIMESTAMPS 1
#define DTCP_TCPI_OPT_SACK 2
#define DTCP_TCPI_OPT_WSCALE 4

#ifdef __cplusplus
}
#endif
#endif
