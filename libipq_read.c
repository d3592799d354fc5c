/* ipq_read: wait as the timeout says, receive one message straight into the
 * caller's buffer and turn it into ip_queue's layout there. Packets of the
 * other family move on to their handle (or are dropped when it has none),
 * and ipq_read goes on waiting for one of its own. */
#define _GNU_SOURCE /* ppoll */
#include "libipq_impl.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>

/* Message bytes past the end of the caller's buffer land here: the
 * attributes of a message larger than a small buffer, and the last
 * payload bytes when NFQUEUE's header is longer than ip_queue's. */
#define TAIL_LEN 4096
/* Enough of a message to move its packet on. */
#define HEAD_LEN 256
/* Packets moved on from a shared queue per look, so that one reader never
 * loops for ever under a flood. */
#define ROUTE_BUDGET 256
/* A read never asks recvmsg for more than this. */
#define READ_MAX (1u << 30)

#define NFQ_PACKET_TYPE ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET)

/* The outcome of one receive or wait. */
enum {
	RX_NONE = -2,   /* nothing for the caller (yet) */
	RX_FAILED = -3, /* failed: code and err say why */
	RX_INTR = -4,   /* a signal interrupted a wait */
	RX_TIMEOUT = -5,
	RX_READY = -6,
	RX_WOKEN = -7, /* the wake fd fired */
};

struct failure {
	int code;
	int err;
};

static ssize_t failed(struct failure *f, int code, int err)
{
	f->code = code;
	f->err = err;
	return RX_FAILED;
}

/* head is what moving a packet on needs to know. */
struct head {
	int family; /* LIBIPQ_V4, LIBIPQ_V6 or -1 */
	uint16_t num;
	uint32_t id;
};

/* read_head reads the family, queue and id of the packet message in m
 * (its first have bytes). The kernel puts NFQA_PACKET_HDR first. */
static int read_head(const unsigned char *m, size_t have, struct head *hd)
{
	struct nfgenmsg g;
	struct nlattr a;
	struct nfqnl_msg_packet_hdr ph;
	size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(g));

	if (have < off + NLA_HDRLEN + sizeof(ph))
		return -1;
	memcpy(&g, m + NLMSG_HDRLEN, sizeof(g));
	memcpy(&a, m + off, sizeof(a));
	if ((a.nla_type & NLA_TYPE_MASK) != NFQA_PACKET_HDR || a.nla_len < NLA_HDRLEN + sizeof(ph))
		return -1;
	memcpy(&ph, m + off + NLA_HDRLEN, sizeof(ph));
	hd->num = ntohs(g.res_id);
	hd->id = ntohl(ph.packet_id);
	switch (g.nfgen_family) {
	case NFPROTO_IPV4:
		hd->family = LIBIPQ_V4;
		break;
	case NFPROTO_IPV6:
		hd->family = LIBIPQ_V6;
		break;
	default: /* a bridge or other family: by what it carries */
		hd->family = ph.hw_protocol == htons(0x0800) ? LIBIPQ_V4 : ph.hw_protocol == htons(0x86dd) ? LIBIPQ_V6 : -1;
	}
	return 0;
}

/* move_on gives the packet of hd, read from fd, to the handle of its
 * family: NF_QUEUE to that handle's queue, or NF_DROP when there is none,
 * as ip_queue dropped packets nobody listened for. */
static void move_on(const struct libipq_queue *q, int fd, const struct head *hd)
{
	int to = hd->family < 0 ? -1 : __atomic_load_n(&q->fwd[hd->family], __ATOMIC_ACQUIRE);
	uint32_t verdict = to < 0 ? NF_DROP : NF_QUEUE_NR((uint32_t)to);

	libipq_send_verdict(fd, hd->num, hd->id, verdict, NULL, 0, 0);
}

/* route_shared moves on the packets waiting in the shared queue q, and
 * returns how many were the caller's family, or -errno. */
static int route_shared(struct libipq_queue *q, int family)
{
	union {
		struct nlmsghdr nlh;
		unsigned char b[HEAD_LEN];
	} m;
	int own = 0, i;

	for (i = 0; i < ROUTE_BUDGET; i++) {
		struct sockaddr_nl from;
		struct iovec iov = { m.b, sizeof(m.b) };
		struct msghdr msg = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n = recvmsg(q->fd, &msg, MSG_DONTWAIT | MSG_TRUNC);
		struct head hd;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? own : -errno;
		if (from.nl_pid != 0 || (size_t)n < NLMSG_HDRLEN || m.nlh.nlmsg_type != NFQ_PACKET_TYPE)
			continue; /* answers to the library's own requests */
		if (read_head(m.b, (size_t)n < sizeof(m.b) ? (size_t)n : sizeof(m.b), &hd) < 0)
			continue;
		move_on(q, q->fd, &hd);
		if (hd.family == family && __atomic_load_n(&q->fwd[family], __ATOMIC_ACQUIRE) >= 0)
			own++;
	}
	return own;
}

/* packet delivers the packet message rx, received on fd, or moves it on
 * when it is not the caller's. */
static ssize_t packet(const struct libipq_handle *h, int fd, struct libipq_rx *rx, struct failure *f)
{
	int shared = __atomic_load_n(&h->q->shared, __ATOMIC_ACQUIRE);
	unsigned char m[HEAD_LEN];
	struct head hd;
	ssize_t n;

	if (read_head(m, libipq_rx_copy(rx, 0, m, sizeof(m)), &hd) < 0)
		return failed(f, IPQ_ERR_RECV, EBADMSG);
	if (shared && fd != h->own_fd) {
		/* read from the shared queue before it was shared */
		move_on(h->q, fd, &hd);
		return RX_NONE;
	}
	if (hd.family != h->family) {
		hd.family = -1; /* single queue, or someone else's rule: drop */
		move_on(h->q, fd, &hd);
		return RX_NONE;
	}
	rx->id_tag = shared ? LIBIPQ_ID_TAG(h->own_num) : 0;
	n = libipq_legacy_packet(rx, fd);
	if (n < 0)
		return failed(f, IPQ_ERR_RECV, (int)-n);
	if ((size_t)n > rx->len)
		return failed(f, IPQ_ERR_RTRUNC, 0);
	return n;
}

/* receive reads one message from fd into buf and returns its legacy size,
 * or an RX_* outcome. */
static ssize_t receive(const struct libipq_handle *h, int fd, unsigned char *buf, size_t len, int flags,
		       struct failure *f)
{
	unsigned char tail[TAIL_LEN];
	struct sockaddr_nl from;
	struct iovec iov[2] = { { buf, len }, { tail, sizeof(tail) } };
	struct msghdr msg = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = iov, .msg_iovlen = 2 };
	struct libipq_rx rx = { .buf = buf, .len = len, .tail = tail, .tail_len = sizeof(tail) };
	struct nlmsghdr nlh;
	ssize_t n;

	n = recvmsg(fd, &msg, flags | MSG_TRUNC);
	if (n < 0) {
		if (errno == EAGAIN && (flags & MSG_DONTWAIT))
			return RX_NONE;
		if (errno == EINTR)
			return RX_INTR;
		return failed(f, IPQ_ERR_RECV, errno);
	}
	if (msg.msg_namelen != sizeof(from))
		return failed(f, IPQ_ERR_RECV, 0);
	if (from.nl_pid != 0)
		return RX_NONE; /* not from the kernel: the library waking a reader */
	if (n == 0)
		return failed(f, IPQ_ERR_NLEOF, 0);
	if ((size_t)n < sizeof(nlh))
		return failed(f, IPQ_ERR_RECV, EBADMSG);
	rx.size = (size_t)n;
	memcpy(&nlh, buf, sizeof(nlh)); /* len >= 20 */
	switch (nlh.nlmsg_type) {
	case NLMSG_ERROR:
		n = libipq_legacy_error(&rx);
		if (n == 0)
			return RX_NONE;
		if (n < 0)
			return failed(f, IPQ_ERR_RECV, (int)-n);
		if ((size_t)n > len)
			return failed(f, IPQ_ERR_RTRUNC, 0);
		return n;
	case NFQ_PACKET_TYPE:
		return packet(h, fd, &rx, f);
	}
	return RX_NONE;
}

static struct timespec deadline_in(int timeout_us)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += timeout_us / 1000000;
	t.tv_nsec += (long)(timeout_us % 1000000) * 1000;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

/* wait_ready waits until the handle has something to read, up to the
 * deadline (timeout > 0), not at all (timeout < 0) or without limit. It
 * returns an RX_* outcome; RX_FAILED with *err the errno. */
static int wait_ready(const struct libipq_handle *h, int shared, int timeout, const struct timespec *deadline,
		      int wake_fd, int *err)
{
	struct pollfd p[3];
	struct timespec left = { 0, 0 }, *tp = NULL;
	int n = 0, r;

	if (shared) {
		p[n++] = (struct pollfd){ .fd = h->own_fd, .events = POLLIN };
		p[n++] = (struct pollfd){ .fd = h->q->fd, .events = POLLIN };
	} else {
		p[n++] = (struct pollfd){ .fd = h->pub.fd, .events = POLLIN };
	}
	if (wake_fd >= 0)
		p[n++] = (struct pollfd){ .fd = wake_fd, .events = POLLIN };
	if (timeout < 0) {
		tp = &left;
	} else if (timeout > 0) {
		struct timespec now;

		clock_gettime(CLOCK_MONOTONIC, &now);
		left.tv_sec = deadline->tv_sec - now.tv_sec;
		left.tv_nsec = deadline->tv_nsec - now.tv_nsec;
		if (left.tv_nsec < 0) {
			left.tv_sec--;
			left.tv_nsec += 1000000000L;
		}
		if (left.tv_sec < 0)
			return RX_TIMEOUT;
		tp = &left;
	}
	r = ppoll(p, (nfds_t)n, tp, NULL);
	if (r < 0 && errno == EINTR)
		return RX_INTR;
	if (r < 0) {
		*err = errno;
		return RX_FAILED;
	}
	if (r == 0)
		return RX_TIMEOUT;
	if (wake_fd >= 0 && p[n - 1].revents != 0)
		return RX_WOKEN;
	return RX_READY;
}

/* next_message is one step of ipq_read: a message, or an RX_* outcome. */
static ssize_t next_message(const struct libipq_handle *h, unsigned char *buf, size_t len, int timeout,
			    const struct timespec *deadline, int wake_fd, struct failure *f)
{
	int shared = __atomic_load_n(&h->q->shared, __ATOMIC_ACQUIRE);
	ssize_t n;
	int r, err = 0;

	if (!shared && timeout == 0 && wake_fd < 0) {
		/* block in recvmsg, as libipq did: a signal whose handler has
		 * SA_RESTART (a server's SIGCHLD) does not end the read */
		return receive(h, h->pub.fd, buf, len, 0, f);
	}
	n = receive(h, shared ? h->own_fd : h->pub.fd, buf, len, MSG_DONTWAIT, f);
	if (n != RX_NONE)
		return n;
	if (shared) {
		r = route_shared(h->q, h->family);
		if (r < 0)
			return failed(f, IPQ_ERR_RECV, -r);
		if (r > 0)
			return RX_NONE; /* one of ours reached our queue */
	}
	switch (r = wait_ready(h, shared, timeout, deadline, wake_fd, &err)) {
	case RX_READY:
		return RX_NONE;
	case RX_WOKEN:
		return failed(f, IPQ_ERR_RECV, EBADF); /* the handle is being destroyed */
	case RX_FAILED:
		return failed(f, IPQ_ERR_RECV, err);
	}
	return r;
}

ssize_t libipq_read_wake(const struct ipq_handle *pub, unsigned char *buf, size_t len, int timeout, int wake_fd)
{
	const struct libipq_handle *h = (const struct libipq_handle *)pub;
	struct failure f = { 0, 0 };
	struct timespec deadline = { 0, 0 };
	int saved = errno;
	ssize_t n;

	if (h == NULL) {
		libipq_fail(IPQ_ERR_RECV, EBADF);
		return -1;
	}
	if (len < sizeof(struct nlmsgerr)) {
		libipq_fail(IPQ_ERR_RECVBUF, 0);
		return -1;
	}
	if (len > READ_MAX)
		len = READ_MAX;
	if (timeout > 0)
		deadline = deadline_in(timeout);
	for (;;) {
		n = next_message(h, buf, len, timeout, &deadline, wake_fd, &f);
		if (n >= 0) {
			errno = saved;
			return n;
		}
		switch (n) {
		case RX_NONE:
			continue;
		case RX_INTR:
			if (wake_fd >= 0)
				continue;
			errno = EINTR; /* as libipq: 0, the error code untouched */
			return 0;
		case RX_TIMEOUT:
			libipq_fail(IPQ_ERR_TIMEOUT, 0);
			errno = saved;
			return 0;
		}
		libipq_fail(f.code, f.err);
		if (f.err == 0)
			errno = saved;
		return -1;
	}
}

ssize_t ipq_read(const struct ipq_handle *h, unsigned char *buf, size_t len, int timeout)
{
	return libipq_read_wake(h, buf, len, timeout, -1);
}
