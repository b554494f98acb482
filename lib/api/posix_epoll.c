/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * epoll over the POSIX-like layer's sockets. An instance is a descriptor
 * with an interest list of its own, at most one entry per descriptor of
 * the context (so bounded by max_fds), grown as needed.
 *
 * Readiness is computed when asked, as poll() does it; there is no ready
 * list. Edge-triggered entries report a direction again only after an
 * event of that direction reached the socket since the last report (the
 * socket's gen_in / gen_out move with each), or after EPOLL_CTL_ADD/MOD,
 * which report the level once as Linux does.
 */
#include <errno.h>
#include <string.h>

#include <rte_malloc.h>

#include "posix_priv.h"

struct px_epitem {
	int fd;
	uint32_t events;              /* what was asked, EPOLLET and EPOLLONESHOT included */
	epoll_data_t data;
	uint32_t seen_in, seen_out;   /* the socket's gens at the last report */
	bool fresh;                   /* added or modified since the last report */
	bool disabled;                /* EPOLLONESHOT fired; EPOLL_CTL_MOD re-arms */
};

struct px_epoll {
	uint32_t n, cap;
	uint32_t next;                /* where the next scan starts: fairness */
	struct px_epitem *items;
};

#define EP_CAP_FIRST 16u
#define EP_IN (EPOLLIN | EPOLLRDNORM | EPOLLRDHUP | EPOLLPRI)
#define EP_OUT (EPOLLOUT | EPOLLWRNORM)

static int
fail(int err)
{
	errno = err;
	return -1;
}

int
dtcp_epoll_create1(int flags)
{
	struct dtcp_posix *px = dtcp_posix_current();
	struct psock *s;
	struct px_epoll *ep;

	if (px == NULL)
		return fail(EBADF);
	if ((flags & ~EPOLL_CLOEXEC) != 0)
		return fail(EINVAL);
	ep = rte_zmalloc("dtcp_epoll", sizeof(*ep), 0);
	if (ep == NULL)
		return fail(ENOMEM);
	s = px_alloc(px, K_EPOLL);
	if (s == NULL) {
		rte_free(ep);
		return -1;
	}
	s->ep = ep;
	s->cloexec = (flags & EPOLL_CLOEXEC) != 0;
	return px_fd(s);
}

int
dtcp_epoll_create(int size)
{
	if (size <= 0)
		return fail(EINVAL);
	return dtcp_epoll_create1(0);
}

static struct px_epitem *
find(struct px_epoll *ep, int fd)
{
	for (uint32_t i = 0; i < ep->n; i++)
		if (ep->items[i].fd == fd)
			return &ep->items[i];
	return NULL;
}

static void
remove_item(struct dtcp_posix *px, struct px_epoll *ep, struct px_epitem *it)
{
	struct psock *s = &px->socks[it->fd - DTCP_POSIX_FD_BASE];

	if (s->n_epoll > 0)
		s->n_epoll--;
	*it = ep->items[--ep->n];
}

int
dtcp_epoll_ctl(int epfd, int op, int fd, struct epoll_event *event)
{
	struct psock *e = px_get(epfd), *s;
	struct px_epoll *ep;
	struct px_epitem *it;

	if (e == NULL)
		return -1;
	s = px_get(fd);
	if (s == NULL)
		return -1;
	if (e->kind != K_EPOLL || fd == epfd)
		return fail(EINVAL);
	/* Only sockets are watched: nesting instances is not supported. */
	if (s->kind != K_SOCK)
		return fail(EPERM);
	ep = e->ep;
	it = find(ep, fd);
	switch (op) {
	case EPOLL_CTL_ADD:
		if (event == NULL)
			return fail(EFAULT);
		if (it != NULL)
			return fail(EEXIST);
		if (ep->n == ep->cap) {
			uint32_t cap = ep->cap == 0 ? EP_CAP_FIRST : ep->cap * 2;
			struct px_epitem *items;

			cap = RTE_MIN(cap, e->px->n);
			if (cap <= ep->n) {
				ctr_inc(e->px->w, DTCP_CTR_posix_epoll_full);
				return fail(ENOSPC);
			}
			items = rte_realloc(ep->items, cap * sizeof(*items), 0);
			if (items == NULL) {
				ctr_inc(e->px->w, DTCP_CTR_posix_epoll_full);
				return fail(ENOMEM);
			}
			ep->items = items;
			ep->cap = cap;
		}
		it = &ep->items[ep->n++];
		memset(it, 0, sizeof(*it));
		it->fd = fd;
		s->n_epoll++;
		/* fall through - the rest is MOD's */
	case EPOLL_CTL_MOD:
		if (event == NULL)
			return fail(EFAULT);
		if (it == NULL)
			return fail(ENOENT);
		if (op == EPOLL_CTL_MOD && (event->events & EPOLLEXCLUSIVE))
			return fail(EINVAL);
		it->events = event->events;
		it->data = event->data;
		it->fresh = true;
		it->disabled = false;
		return 0;
	case EPOLL_CTL_DEL:
		if (it == NULL)
			return fail(ENOENT);
		remove_item(e->px, ep, it);
		return 0;
	default:
		return fail(EINVAL);
	}
}

/* The events of one entry to report now (0: none); consume marks it reported. */
static uint32_t
item_events(struct dtcp_posix *px, struct px_epitem *it, bool consume)
{
	struct psock *s = &px->socks[it->fd - DTCP_POSIX_FD_BASE];
	uint32_t ev, want;

	if (it->disabled)
		return 0;
	want = it->events & ~(uint32_t)(EPOLLET | EPOLLONESHOT | EPOLLEXCLUSIVE | EPOLLWAKEUP);
	ev = px_sock_events(s) & (want | EPOLLERR | EPOLLHUP);
	if (ev == 0)
		return 0;
	if ((it->events & EPOLLET) && !it->fresh) {
		uint32_t edge = 0;

		if (s->gen_in != it->seen_in)
			edge |= EP_IN | EPOLLERR | EPOLLHUP;
		if (s->gen_out != it->seen_out)
			edge |= EP_OUT | EPOLLERR | EPOLLHUP;
		if ((ev & edge) == 0)
			return 0;
	}
	if (consume) {
		it->seen_in = s->gen_in;
		it->seen_out = s->gen_out;
		it->fresh = false;
		if (it->events & EPOLLONESHOT)
			it->disabled = true;
	}
	return ev;
}

bool
px_epoll_ready(struct psock *e)
{
	for (uint32_t i = 0; i < e->ep->n; i++)
		if (item_events(e->px, &e->ep->items[i], false) != 0)
			return true;
	return false;
}

int
dtcp_epoll_wait(int epfd, struct epoll_event *events, int maxevents, int timeout_ms)
{
	struct psock *e = px_get(epfd);
	struct dtcp_posix *px;
	uint64_t deadline;
	uint32_t opened;

	if (e == NULL)
		return -1;
	opened = e->opened;
	if (e->kind != K_EPOLL || maxevents <= 0)
		return fail(EINVAL);
	if (events == NULL)
		return fail(EFAULT);
	px = e->px;
	deadline = timeout_ms < 0 ? UINT64_MAX : px_now(px) + (uint64_t)timeout_ms * 1000000;
	for (;;) {
		struct px_epoll *ep = e->ep;
		uint32_t n = ep->n, start = n > 0 ? ep->next % n : 0;
		int got = 0;

		for (uint32_t k = 0; k < n && got < maxevents; k++) {
			struct px_epitem *it = &ep->items[(start + k) % n];
			uint32_t ev = item_events(px, it, true);

			if (ev == 0)
				continue;
			events[got].events = ev;
			events[got].data = it->data;
			got++;
			ep->next = (start + k + 1) % n;
		}
		if (got > 0 || timeout_ms == 0 || px_now(px) >= deadline)
			return got;
		px_wait(px, deadline);
		if (px_gone(e, K_EPOLL, opened))
			return fail(EBADF);
	}
}

void
px_epoll_free(struct psock *e)
{
	struct px_epoll *ep = e->ep;

	while (ep->n > 0)
		remove_item(e->px, ep, &ep->items[ep->n - 1]);
	rte_free(ep->items);
	rte_free(ep);
	e->ep = NULL;
}

void
px_epoll_forget(struct dtcp_posix *px, int fd)
{
	for (unsigned i = 0; i < px->n; i++) {
		struct psock *e = &px->socks[i];
		struct px_epitem *it;

		if (e->kind != K_EPOLL)
			continue;
		it = find(e->ep, fd);
		if (it != NULL)
			remove_item(px, e->ep, it);
	}
}
