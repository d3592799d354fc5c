// C glue for nfq: one libnetfilter_queue handle and queue per nfqgo_queue.
#include "nfq_cgo.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <endian.h>
#include <arpa/inet.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <linux/netlink.h>
#include <linux/netfilter.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "_cgo_export.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif
#ifndef NETLINK_NO_ENOBUFS
#define NETLINK_NO_ENOBUFS 5
#endif

/* Large enough for the largest message: a 0xffff-byte payload plus headers
 * and attributes (nfqueue-facts: >= 0xffff + MNL_SOCKET_BUFFER_SIZE/2). */
#define NFQGO_RECV_BUF (0xffff + 16384)

struct nfqgo_queue {
	struct nfq_handle *h;
	struct nfq_q_handle *qh;
	int fd;
	int wakefd;
	uintptr_t handle;
	char buf[NFQGO_RECV_BUF];
};

static uint32_t get_u32(struct nlattr *a) { return ntohl(mnl_attr_get_u32(a)); }

/* on_packet is libnetfilter_queue's per-message callback: it parses every
 * attribute in one pass and hands the result to Go. */
static int on_packet(struct nfq_q_handle *qh, struct nfgenmsg *nfmsg, struct nfq_data *nfad,
		     void *data)
{
	(void)qh;
	(void)nfad;
	/* The classic API hands us the message body; step back to its header
	 * to use the libmnl parser, which also reports absent attributes. */
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)((const char *)nfmsg - NLMSG_HDRLEN);
	struct nlattr *attr[NFQA_MAX + 1];
	struct nfqgo_packet p;

	memset(attr, 0, sizeof(attr));
	memset(&p, 0, sizeof(p));
	if (nfq_nlmsg_parse(nlh, attr) < 0 || attr[NFQA_PACKET_HDR] == NULL)
		return 0; /* not a packet we can name: nothing to give a verdict to */

	const struct nfqnl_msg_packet_hdr *ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	p.id = ntohl(ph->packet_id);
	p.hw_protocol = ntohs(ph->hw_protocol);
	p.hook = ph->hook;

	if (attr[NFQA_MARK]) {
		p.attrs |= NFQGO_ATTR_MARK;
		p.mark = get_u32(attr[NFQA_MARK]);
	}
	if (attr[NFQA_TIMESTAMP]) {
		const struct nfqnl_msg_packet_timestamp *ts = mnl_attr_get_payload(attr[NFQA_TIMESTAMP]);
		p.attrs |= NFQGO_ATTR_TIMESTAMP;
		p.ts_sec = (int64_t)be64toh(ts->sec);
		p.ts_usec = (int64_t)be64toh(ts->usec);
	}
	if (attr[NFQA_IFINDEX_INDEV]) {
		p.attrs |= NFQGO_ATTR_INDEV;
		p.indev = get_u32(attr[NFQA_IFINDEX_INDEV]);
	}
	if (attr[NFQA_IFINDEX_OUTDEV]) {
		p.attrs |= NFQGO_ATTR_OUTDEV;
		p.outdev = get_u32(attr[NFQA_IFINDEX_OUTDEV]);
	}
	if (attr[NFQA_IFINDEX_PHYSINDEV]) {
		p.attrs |= NFQGO_ATTR_PHYSINDEV;
		p.physindev = get_u32(attr[NFQA_IFINDEX_PHYSINDEV]);
	}
	if (attr[NFQA_IFINDEX_PHYSOUTDEV]) {
		p.attrs |= NFQGO_ATTR_PHYSOUTDEV;
		p.physoutdev = get_u32(attr[NFQA_IFINDEX_PHYSOUTDEV]);
	}
	if (attr[NFQA_HWADDR]) {
		const struct nfqnl_msg_packet_hw *hw = mnl_attr_get_payload(attr[NFQA_HWADDR]);
		uint16_t n = ntohs(hw->hw_addrlen);
		if (n > sizeof(p.hwaddr))
			n = sizeof(p.hwaddr);
		p.attrs |= NFQGO_ATTR_HWADDR;
		p.hwaddr_len = (uint8_t)n;
		memcpy(p.hwaddr, hw->hw_addr, n);
	}
	if (attr[NFQA_PAYLOAD]) {
		p.attrs |= NFQGO_ATTR_PAYLOAD;
		p.payload = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
		p.payload_len = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
	}
	if (attr[NFQA_CAP_LEN]) {
		p.attrs |= NFQGO_ATTR_CAPLEN;
		p.cap_len = get_u32(attr[NFQA_CAP_LEN]);
	}
	if (attr[NFQA_SKB_INFO]) {
		p.attrs |= NFQGO_ATTR_SKBINFO;
		p.skbinfo = get_u32(attr[NFQA_SKB_INFO]);
	}
	if (attr[NFQA_UID]) {
		p.attrs |= NFQGO_ATTR_UID;
		p.uid = get_u32(attr[NFQA_UID]);
	}
	if (attr[NFQA_GID]) {
		p.attrs |= NFQGO_ATTR_GID;
		p.gid = get_u32(attr[NFQA_GID]);
	}
	if (attr[NFQA_SECCTX]) {
		p.attrs |= NFQGO_ATTR_SECCTX;
		p.secctx = mnl_attr_get_payload(attr[NFQA_SECCTX]);
		p.secctx_len = mnl_attr_get_payload_len(attr[NFQA_SECCTX]);
		/* the kernel counts the terminating NUL */
		if (p.secctx_len > 0 && p.secctx[p.secctx_len - 1] == '\0')
			p.secctx_len--;
	}
	nfqgoPacket((uintptr_t)data, &p);
	return 0;
}

static struct nfqgo_queue *fail(struct nfqgo_queue *q, int *err, const char **stage,
				const char *what)
{
	*err = errno ? errno : EINVAL;
	*stage = what;
	nfqgo_close(q);
	return NULL;
}

struct nfqgo_queue *nfqgo_open(uint16_t num, uintptr_t handle, uint8_t mode, uint32_t range,
			       uint32_t maxlen, int rcvbuf, int no_enobufs,
			       int *err, const char **stage)
{
	struct nfqgo_queue *q = calloc(1, sizeof(*q));
	*err = 0;
	if (q == NULL) {
		*err = ENOMEM;
		*stage = "allocate";
		return NULL;
	}
	q->fd = -1;
	q->handle = handle;
	q->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->wakefd < 0)
		return fail(q, err, stage, "eventfd");

	errno = 0;
	q->h = nfq_open();
	if (q->h == NULL)
		return fail(q, err, stage, "open netlink socket");
	q->fd = nfq_fd(q->h);

	if (rcvbuf > 0)
		nfnl_rcvbufsiz(nfq_nfnlh(q->h), (unsigned int)rcvbuf);
	if (no_enobufs) {
		int one = 1;
		if (setsockopt(q->fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one)) < 0)
			return fail(q, err, stage, "set NETLINK_NO_ENOBUFS");
	}

	errno = 0;
	q->qh = nfq_create_queue(q->h, num, on_packet, (void *)handle);
	if (q->qh == NULL)
		return fail(q, err, stage, "bind queue");
	/* The kernel drops every packet while the queue is in COPY_NONE, so
	 * the copy mode goes first. */
	errno = 0;
	if (nfq_set_mode(q->qh, mode, range) < 0)
		return fail(q, err, stage, "set copy mode");
	errno = 0;
	if (maxlen > 0 && nfq_set_queue_maxlen(q->qh, maxlen) < 0)
		return fail(q, err, stage, "set queue length");
	return q;
}

int nfqgo_set_mode(struct nfqgo_queue *q, uint8_t mode, uint32_t range, int *err)
{
	errno = 0;
	if (nfq_set_mode(q->qh, mode, range) < 0) {
		*err = errno ? errno : EINVAL;
		return -1;
	}
	return 0;
}

int nfqgo_set_flags(struct nfqgo_queue *q, uint32_t mask, uint32_t flags, int *err)
{
	errno = 0;
	if (nfq_set_queue_flags(q->qh, mask, flags) < 0) {
		*err = errno ? errno : EINVAL;
		return -1;
	}
	return 0;
}

int nfqgo_set_maxlen(struct nfqgo_queue *q, uint32_t maxlen, int *err)
{
	errno = 0;
	if (nfq_set_queue_maxlen(q->qh, maxlen) < 0) {
		*err = errno ? errno : EINVAL;
		return -1;
	}
	return 0;
}

int nfqgo_dispatch(struct nfqgo_queue *q, const void *buf, int len, int *err)
{
	errno = 0;
	/* nfq_handle_packet does not modify the buffer, but is declared
	 * without const. */
	if (nfq_handle_packet(q->h, (char *)buf, len) < 0 && errno != 0) {
		*err = errno;
		return -1;
	}
	return 0;
}

int nfqgo_wait(struct nfqgo_queue *q, int *err)
{
	struct pollfd fds[2] = {
		{.fd = q->fd, .events = POLLIN},
		{.fd = q->wakefd, .events = POLLIN},
	};
	*err = 0;
	while (poll(fds, 2, -1) < 0) {
		if (errno != EINTR) {
			*err = errno;
			return NFQGO_RECV_ERRNO;
		}
	}
	/* The wake stays signalled: it only ever means "closing". */
	if (fds[1].revents & POLLIN)
		return NFQGO_RECV_WOKEN;
	return NFQGO_RECV_OK;
}

int nfqgo_drain(struct nfqgo_queue *q, int budget, int *handled, int *err)
{
	*handled = 0;
	*err = 0;
	while (*handled < budget) {
		ssize_t n = recv(q->fd, q->buf, sizeof(q->buf), MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return NFQGO_RECV_OK;
			*err = errno;
			return NFQGO_RECV_ERRNO;
		}
		if (n == 0)
			return NFQGO_RECV_OK;
		(*handled)++;
		errno = 0;
		if (nfq_handle_packet(q->h, q->buf, (int)n) < 0 && errno != 0) {
			/* An NLMSG_ERROR: the kernel refused an earlier verdict. */
			*err = errno;
			return NFQGO_RECV_ERRNO;
		}
	}
	return NFQGO_RECV_OK;
}

void nfqgo_wake(struct nfqgo_queue *q)
{
	uint64_t one = 1;
	ssize_t r = write(q->wakefd, &one, sizeof(one));
	(void)r;
}

int nfqgo_verdict(struct nfqgo_queue *q, uint32_t id, uint32_t verdict, int set_mark,
		  uint32_t mark, const void *payload, uint32_t payload_len, int *err)
{
	int r;
	errno = 0;
	if (set_mark)
		r = nfq_set_verdict2(q->qh, id, verdict, mark, payload_len, payload);
	else
		r = nfq_set_verdict(q->qh, id, verdict, payload_len, payload);
	if (r < 0) {
		*err = errno ? errno : EIO;
		return -1;
	}
	return 0;
}

int nfqgo_verdict_batch(struct nfqgo_queue *q, uint32_t id, uint32_t verdict, int *err)
{
	errno = 0;
	if (nfq_set_verdict_batch(q->qh, id, verdict) < 0) {
		*err = errno ? errno : EIO;
		return -1;
	}
	return 0;
}

int nfqgo_fd(struct nfqgo_queue *q) { return q->fd; }

void nfqgo_close(struct nfqgo_queue *q)
{
	if (q == NULL)
		return;
	if (q->qh != NULL)
		nfq_destroy_queue(q->qh);
	if (q->h != NULL)
		nfq_close(q->h);
	if (q->wakefd >= 0)
		close(q->wakefd);
	free(q);
}
