// A queue's socket: opening and closing it, and the configuration requests,
// whose answers it reads itself. One netlink socket and queue per
// nfqgo_queue, driven through libnetfilter_queue's message API (nfq_nlmsg_*)
// and libmnl. The classic API's configuration calls wait for their answer
// inside libnfnetlink, which drops some packet messages it meets meanwhile
// and mistakes the kernel's answer to an earlier verdict for its own; owning
// the socket lets every message that arrives take the one receive path (the
// parser, parse_cgo.c), configuration answers included.
#define _GNU_SOURCE /* struct mmsghdr, for queue_cgo.h */
#include "queue_cgo.h"

#include <stdlib.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif
#ifndef NETLINK_NO_ENOBUFS
#define NETLINK_NO_ENOBUFS 5
#endif

/* How many times in a row a configuration request may find the socket empty
 * and its answer missing before config gives up (see config). */
#define NFQGO_CONFIG_QUIET_TRIES 3

static struct nfqgo_queue *fail(struct nfqgo_queue *q, int err, int *errp, const char **stage,
				const char *what)
{
	*errp = err > 0 ? err : (errno ? errno : EINVAL);
	*stage = what;
	nfqgo_close(q);
	return NULL;
}

/* config sends a configuration message and reads the socket until the
 * kernel's answer, handing packets that arrive meanwhile to Go. is_bind says
 * the message binds the queue. Returns 0 or -errno.
 *
 * It never waits. The kernel handles the request inside sendto and queues
 * its answer to this socket before sendto returns, behind what the socket
 * already held; when the socket is full, or still congested from an overrun
 * nobody has read past yet, the answer is dropped, with no new ENOBUFS if the
 * overrun was already reported. So once the socket reads empty and the
 * answer was not among what it held, the answer is lost, not late, and the
 * request goes again at once, into a socket just read empty. Every request
 * may be repeated: the ones after BIND set values; a repeated BIND finds the
 * queue bound, to this socket, and answers EBUSY, which then means the first
 * one bound it (a queue of another socket answers EPERM, before EBUSY).
 * Packets that keep arriving meanwhile end when the kernel queue is full,
 * since none of them gets a verdict here; a try that reads nothing at all
 * and still finds no answer cannot happen, and a few in a row end it. */
static int config(struct nfqgo_queue *q, struct nlmsghdr *nlh, int is_bind)
{
	char *buf = q->rx.iovs[0].iov_base;
	int quiet = 0;

	nlh->nlmsg_flags |= NLM_F_ACK;
	for (int tries = 1;; tries++) {
		if (++q->rx.seq == 0)
			++q->rx.seq;
		nlh->nlmsg_seq = q->rx.seq;
		int r = nfqgo_send(q->fixed.fd, nlh, nlh->nlmsg_len);
		if (r < 0)
			return r;
		int read = 0;
		for (;;) {
			struct sockaddr_nl from;
			socklen_t fromlen = sizeof(from);
			ssize_t got = recvfrom(q->fixed.fd, buf, q->rx.bufsize, MSG_DONTWAIT,
					       (struct sockaddr *)&from, &fromlen);
			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
				break; /* read empty: the answer was lost */
			if (got < 0 && errno != ENOBUFS)
				return -errno;
			read++;
			if (got < 0) {
				/* An overrun: report it with the next drain. */
				if (q->rx.deferred_err == 0)
					q->rx.deferred_err = errno;
				continue;
			}
			if (from.nl_pid != 0)
				continue; /* not from the kernel */
			int acked = 0, ack = 0;
			int err = nfqgo_parse_datagram(&q->rx.batch, buf, (size_t)got, q->rx.seq, &acked, &ack);
			nfqgo_deliver(&q->rx.batch); /* buf is read into again */
			if (err != 0 && q->rx.deferred_err == 0)
				q->rx.deferred_err = -err;
			if (acked)
				return is_bind && tries > 1 && ack == -EBUSY ? 0 : ack;
		}
		if (read > 0)
			quiet = 0;
		else if (++quiet == NFQGO_CONFIG_QUIET_TRIES)
			return -ETIMEDOUT;
	}
}

static struct nlmsghdr *config_msg(char *buf, uint16_t num)
{
	return nfq_nlmsg_put(buf, NFQNL_MSG_CONFIG, num);
}

struct nfqgo_queue *nfqgo_new(uint16_t num, uintptr_t handle, uint8_t mode, uint32_t range,
			      uint32_t trunc_verdict)
{
	struct nfqgo_queue *q = calloc(1, sizeof(*q));

	if (q == NULL)
		return NULL;
	q->fixed.fd = -1;
	q->fixed.num = num;
	q->fixed.trunc_verdict = trunc_verdict;
	q->rx.batch.handle = handle;
	if (nfqgo_rx_buffers(&q->rx, mode, range) < 0) {
		nfqgo_close(q);
		return NULL;
	}
	return q;
}

struct nfqgo_queue *nfqgo_open(uint16_t num, uintptr_t handle, uint8_t mode, uint32_t range,
			       uint32_t maxlen, int rcvbuf, int no_enobufs, uint32_t trunc_verdict,
			       int *err, const char **stage)
{
	struct nfqgo_queue *q = nfqgo_new(num, handle, mode, range, trunc_verdict);
	int r;

	*err = 0;
	if (q == NULL) {
		*err = ENOMEM;
		*stage = "allocate receive buffers";
		return NULL;
	}

	errno = 0;
	/* close-on-exec: a program that runs others must not hand them the queue */
	q->fixed.nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (q->fixed.nl == NULL)
		return fail(q, 0, err, stage, "open netlink socket");
	if (mnl_socket_bind(q->fixed.nl, 0, MNL_SOCKET_AUTOPID) < 0)
		return fail(q, 0, err, stage, "bind netlink socket");
	q->fixed.fd = mnl_socket_get_fd(q->fixed.nl);

	int fd = q->fixed.fd;
	if (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) < 0)
		return fail(q, 0, err, stage, "set receive buffer size");
	if (no_enobufs) {
		int one = 1;
		if (setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one)) < 0)
			return fail(q, 0, err, stage, "set NETLINK_NO_ENOBUFS");
	}

	/* The kernel drops every packet while the queue is in COPY_NONE, so
	 * the copy mode travels in the bind request itself: the kernel applies
	 * both in one call, which narrows that window to an instant. */
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = config_msg(buf, num);
	nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_BIND);
	nfq_nlmsg_cfg_put_params(nlh, mode, (int)range);
	if ((r = config(q, nlh, 1)) < 0)
		return fail(q, -r, err, stage, "bind queue");
	if (maxlen > 0 && (r = nfqgo_set_maxlen(q, maxlen)) < 0)
		return fail(q, -r, err, stage, "set queue length");
	return q;
}

int nfqgo_set_mode(struct nfqgo_queue *q, uint8_t mode, uint32_t range)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];

	/* Grow the buffers before the kernel sends bigger messages. */
	if (nfqgo_rx_buffers(&q->rx, mode, range) < 0)
		return -ENOMEM;
	struct nlmsghdr *nlh = config_msg(buf, q->fixed.num);
	nfq_nlmsg_cfg_put_params(nlh, mode, (int)range);
	return config(q, nlh, 0);
}

int nfqgo_set_flags(struct nfqgo_queue *q, uint32_t mask, uint32_t flags)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = config_msg(buf, q->fixed.num);

	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(mask));
	return config(q, nlh, 0);
}

int nfqgo_set_maxlen(struct nfqgo_queue *q, uint32_t maxlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = config_msg(buf, q->fixed.num);

	nfq_nlmsg_cfg_put_qmaxlen(nlh, maxlen);
	return config(q, nlh, 0);
}

int nfqgo_fd(struct nfqgo_queue *q) { return q->fixed.fd; }

void nfqgo_close(struct nfqgo_queue *q)
{
	if (q == NULL)
		return;
	/* Unbind without waiting for an answer: the kernel handles the
	 * request inside sendto, so the queue is gone when it returns (closing
	 * the socket would also unbind it, but later). The kernel drops what
	 * the queue still held. */
	if (q->fixed.nl != NULL) {
		char buf[MNL_SOCKET_BUFFER_SIZE];
		struct nlmsghdr *nlh = config_msg(buf, q->fixed.num);
		nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_UNBIND);
		nfqgo_send(q->fixed.fd, nlh, nlh->nlmsg_len);
		mnl_socket_close(q->fixed.nl);
	}
	nfqgo_rx_free(&q->rx);
	free(q);
}
