// C glue for nfq: one netlink socket and queue per nfqgo_queue, driven
// through libnetfilter_queue's message API (nfq_nlmsg_*) and libmnl. The
// classic API's configuration calls wait for their answer inside
// libnfnetlink, which drops some packet messages it meets meanwhile and
// mistakes the kernel's answer to an earlier verdict for its own; owning the
// socket lets every message that arrives take the one receive path.
#define _GNU_SOURCE /* recvmmsg, ppoll */
#include "nfq_cgo.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <endian.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <linux/netlink.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "_cgo_export.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif
#ifndef NETLINK_NO_ENOBUFS
#define NETLINK_NO_ENOBUFS 5
#endif

/* Receive memory per queue: recvmmsg takes as many messages per call as fit
 * in this, each buffer big enough for one message at the copy range. */
#define NFQGO_RECV_MEM (1 << 20)
#define NFQGO_RECV_MIN_BATCH 4
#define NFQGO_RECV_MAX_BATCH 64

/* How many times in a row a configuration request may find the socket empty
 * and its answer missing before config gives up (see config). */
#define NFQGO_CONFIG_QUIET_TRIES 3

struct nfqgo_queue {
	struct mnl_socket *nl;
	uint16_t num;
	int fd;
	uint32_t seq;
	uintptr_t handle;
	/* first error reported for an earlier verdict or an overrun, seen
	 * while a configuration call waited; handed to Go by nfqgo_drain */
	int deferred_err;

	/* recvmmsg state: nbufs buffers of bufsize bytes */
	int nbufs;
	size_t bufsize;
	char *bufs;
	struct mmsghdr *msgs;
	struct iovec *iovs;
	struct sockaddr_nl *from; /* sender of each datagram: only the kernel counts */

	/* truncated messages (never expected: buffers fit the copy range) */
	uint64_t truncated;
	uint32_t trunc_verdict;

	/* pending verdict messages: how many, and whether they all give the
	 * same plain verdict (then vverdict, with vmax the latest id) */
	size_t vlen;
	int vcount;
	int vmixed;
	uint32_t vverdict;
	uint32_t vmax;
	char vbuf[NFQGO_VERDICT_BUF];

	/* parsed packets not yet handed to Go: they point into the receive
	 * buffers, so they go before a buffer is read into again */
	int npkts;
	struct nfqgo_packet pkts[NFQGO_RECV_MAX_BATCH];
};

/* deliver hands the parsed packets to Go in one call. */
static void deliver(struct nfqgo_queue *q)
{
	if (q->npkts > 0)
		nfqgoPackets(q->handle, q->pkts, q->npkts);
	q->npkts = 0;
}

static uint32_t get_u32(const struct nlattr *a) { return ntohl(mnl_attr_get_u32(a)); }

/* Attributes newer than the library's copy of the kernel header. */
#define NFQGO_NFQA_VLAN 19
#define NFQGO_NFQA_L2HDR 20
#define NFQGO_NFQA_PRIORITY 21
#define NFQGO_NFQA_MAX NFQGO_NFQA_PRIORITY

/* parse_attr files each attribute of a packet message under its type. It
 * replaces nfq_nlmsg_parse, which knows only the library's older attribute
 * list and, in the versions we link, checks NFQA_SECCTX as a 32-bit integer,
 * failing every message that carries a real security context. A malformed
 * attribute is left out rather than losing the whole packet. */
static int parse_attr(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;
	uint16_t type = mnl_attr_get_type(attr);
	int ok = 1;

	if (type > NFQGO_NFQA_MAX)
		return MNL_CB_OK; /* from a newer kernel */
	switch (type) {
	case NFQA_MARK:
	case NFQA_IFINDEX_INDEV:
	case NFQA_IFINDEX_OUTDEV:
	case NFQA_IFINDEX_PHYSINDEV:
	case NFQA_IFINDEX_PHYSOUTDEV:
	case NFQA_CAP_LEN:
	case NFQA_SKB_INFO:
	case NFQA_UID:
	case NFQA_GID:
	case NFQA_CT_INFO:
	case NFQGO_NFQA_PRIORITY:
		ok = mnl_attr_validate(attr, MNL_TYPE_U32) >= 0;
		break;
	case NFQA_PACKET_HDR:
		ok = mnl_attr_validate2(attr, MNL_TYPE_UNSPEC, sizeof(struct nfqnl_msg_packet_hdr)) >= 0;
		break;
	case NFQA_TIMESTAMP:
		ok = mnl_attr_validate2(attr, MNL_TYPE_UNSPEC, sizeof(struct nfqnl_msg_packet_timestamp)) >= 0;
		break;
	case NFQA_HWADDR:
		ok = mnl_attr_validate2(attr, MNL_TYPE_UNSPEC, sizeof(struct nfqnl_msg_packet_hw)) >= 0;
		break;
	}
	if (ok)
		tb[type] = attr;
	return MNL_CB_OK;
}

/* Inside NFQA_VLAN (newer than the library's header). */
#define NFQGO_NFQA_VLAN_PROTO 1
#define NFQGO_NFQA_VLAN_TCI 2
#define NFQGO_NFQA_VLAN_MAX NFQGO_NFQA_VLAN_TCI

/* parse_nest files the attributes of a nest under their types (those up to
 * max). It returns -1, and the caller leaves the whole nest out, unless the
 * attributes fill the nest exactly: a nest that does not parse says nothing
 * reliable. */
static int parse_nest(const struct nlattr *nest, const struct nlattr **tb, uint16_t max)
{
	const char *p = mnl_attr_get_payload(nest);
	size_t len = mnl_attr_get_payload_len(nest);
	size_t off = 0;

	while (len - off >= NLA_HDRLEN) {
		const struct nlattr *a = (const struct nlattr *)(p + off);
		if (a->nla_len < NLA_HDRLEN || a->nla_len > len - off)
			return -1;
		if (mnl_attr_get_type(a) <= max)
			tb[mnl_attr_get_type(a)] = a;
		off += MNL_ALIGN(a->nla_len);
		if (off > len)
			off = len; /* the last attribute ends the nest unpadded */
	}
	return off == len ? 0 : -1;
}

/* nest_u32 and nest_u16 check the size of a big-endian attribute of a nest. */
static int nest_u32(const struct nlattr *a) { return a != NULL && mnl_attr_get_payload_len(a) == 4; }
static int nest_u16(const struct nlattr *a) { return a != NULL && mnl_attr_get_payload_len(a) == 2; }

/* parse_ct decodes the conntrack entry (NFQA_CT, a nest of CTA_*
 * attributes) that FlagConntrack queues attach; an attribute of the wrong
 * size is left out. */
static void parse_ct(struct nfqgo_packet *p, const struct nlattr *nest)
{
	const struct nlattr *tb[CTA_MAX + 1];

	memset(tb, 0, sizeof(tb));
	if (parse_nest(nest, tb, CTA_MAX) < 0)
		return;
	p->attrs |= NFQGO_ATTR_CT;
	if (nest_u32(tb[CTA_ID])) {
		p->attrs |= NFQGO_ATTR_CT_ID;
		p->ct_id = get_u32(tb[CTA_ID]);
	}
	if (nest_u32(tb[CTA_MARK])) {
		p->attrs |= NFQGO_ATTR_CT_MARK;
		p->ct_mark = get_u32(tb[CTA_MARK]);
	}
	if (nest_u32(tb[CTA_STATUS])) {
		p->attrs |= NFQGO_ATTR_CT_STATUS;
		p->ct_status = get_u32(tb[CTA_STATUS]);
	}
	if (nest_u16(tb[CTA_ZONE])) {
		p->attrs |= NFQGO_ATTR_CT_ZONE;
		p->ct_zone = ntohs(mnl_attr_get_u16(tb[CTA_ZONE]));
	}
}

/* parse_vlan decodes the VLAN tag (NFQA_VLAN); it needs both halves. */
static void parse_vlan(struct nfqgo_packet *p, const struct nlattr *nest)
{
	const struct nlattr *tb[NFQGO_NFQA_VLAN_MAX + 1];

	memset(tb, 0, sizeof(tb));
	if (parse_nest(nest, tb, NFQGO_NFQA_VLAN_MAX) < 0 || !nest_u16(tb[NFQGO_NFQA_VLAN_PROTO]) ||
	    !nest_u16(tb[NFQGO_NFQA_VLAN_TCI]))
		return;
	p->attrs |= NFQGO_ATTR_VLAN;
	p->vlan_proto = ntohs(mnl_attr_get_u16(tb[NFQGO_NFQA_VLAN_PROTO]));
	p->vlan_tci = ntohs(mnl_attr_get_u16(tb[NFQGO_NFQA_VLAN_TCI]));
}

/* on_packet parses every attribute of a packet message in one pass and
 * adds the result to the packets for Go (see deliver). */
static void on_packet(struct nfqgo_queue *q, const struct nlmsghdr *nlh)
{
	const struct nlattr *attr[NFQGO_NFQA_MAX + 1];

	if (q->npkts == NFQGO_RECV_MAX_BATCH)
		deliver(q);
	struct nfqgo_packet *p = &q->pkts[q->npkts];
	memset(attr, 0, sizeof(attr));
	memset(p, 0, sizeof(*p));
	/* Parse exactly the message's bytes: mnl_attr_parse would round the
	 * length up to 4 and read past a datagram that ends unaligned. */
	size_t attrs_off = mnl_nlmsg_size(sizeof(struct nfgenmsg));
	mnl_attr_parse_payload((const char *)nlh + attrs_off, nlh->nlmsg_len - attrs_off, parse_attr, attr);
	if (attr[NFQA_PACKET_HDR] == NULL)
		return; /* not a packet we can name: nothing to give a verdict to */

	const struct nfqnl_msg_packet_hdr *ph = mnl_attr_get_payload(attr[NFQA_PACKET_HDR]);
	p->id = ntohl(ph->packet_id);
	p->hw_protocol = ntohs(ph->hw_protocol);
	p->hook = ph->hook;

	if (attr[NFQA_MARK]) {
		p->attrs |= NFQGO_ATTR_MARK;
		p->mark = get_u32(attr[NFQA_MARK]);
	}
	if (attr[NFQA_TIMESTAMP]) {
		const struct nfqnl_msg_packet_timestamp *ts = mnl_attr_get_payload(attr[NFQA_TIMESTAMP]);
		p->attrs |= NFQGO_ATTR_TIMESTAMP;
		p->ts_sec = (int64_t)be64toh(ts->sec);
		p->ts_usec = (int64_t)be64toh(ts->usec);
	}
	if (attr[NFQA_IFINDEX_INDEV]) {
		p->attrs |= NFQGO_ATTR_INDEV;
		p->indev = get_u32(attr[NFQA_IFINDEX_INDEV]);
	}
	if (attr[NFQA_IFINDEX_OUTDEV]) {
		p->attrs |= NFQGO_ATTR_OUTDEV;
		p->outdev = get_u32(attr[NFQA_IFINDEX_OUTDEV]);
	}
	if (attr[NFQA_IFINDEX_PHYSINDEV]) {
		p->attrs |= NFQGO_ATTR_PHYSINDEV;
		p->physindev = get_u32(attr[NFQA_IFINDEX_PHYSINDEV]);
	}
	if (attr[NFQA_IFINDEX_PHYSOUTDEV]) {
		p->attrs |= NFQGO_ATTR_PHYSOUTDEV;
		p->physoutdev = get_u32(attr[NFQA_IFINDEX_PHYSOUTDEV]);
	}
	if (attr[NFQA_HWADDR]) {
		const struct nfqnl_msg_packet_hw *hw = mnl_attr_get_payload(attr[NFQA_HWADDR]);
		uint16_t n = ntohs(hw->hw_addrlen);
		if (n > sizeof(p->hwaddr))
			n = sizeof(p->hwaddr);
		p->attrs |= NFQGO_ATTR_HWADDR;
		p->hwaddr_len = (uint8_t)n;
		memcpy(p->hwaddr, hw->hw_addr, n);
	}
	if (attr[NFQA_PAYLOAD]) {
		p->attrs |= NFQGO_ATTR_PAYLOAD;
		p->payload = mnl_attr_get_payload(attr[NFQA_PAYLOAD]);
		p->payload_len = mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]);
	}
	if (attr[NFQA_CAP_LEN]) {
		p->attrs |= NFQGO_ATTR_CAPLEN;
		p->cap_len = get_u32(attr[NFQA_CAP_LEN]);
	}
	if (attr[NFQA_SKB_INFO]) {
		p->attrs |= NFQGO_ATTR_SKBINFO;
		p->skbinfo = get_u32(attr[NFQA_SKB_INFO]);
	}
	if (attr[NFQA_UID]) {
		p->attrs |= NFQGO_ATTR_UID;
		p->uid = get_u32(attr[NFQA_UID]);
	}
	if (attr[NFQA_GID]) {
		p->attrs |= NFQGO_ATTR_GID;
		p->gid = get_u32(attr[NFQA_GID]);
	}
	if (attr[NFQA_SECCTX]) {
		p->attrs |= NFQGO_ATTR_SECCTX;
		p->secctx = mnl_attr_get_payload(attr[NFQA_SECCTX]);
		p->secctx_len = mnl_attr_get_payload_len(attr[NFQA_SECCTX]);
		/* the kernel counts the terminating NUL */
		if (p->secctx_len > 0 && p->secctx[p->secctx_len - 1] == '\0')
			p->secctx_len--;
	}
	if (attr[NFQA_CT])
		parse_ct(p, attr[NFQA_CT]);
	if (attr[NFQA_CT_INFO]) {
		p->attrs |= NFQGO_ATTR_CT_INFO;
		p->ct_info = get_u32(attr[NFQA_CT_INFO]);
	}
	if (attr[NFQGO_NFQA_VLAN])
		parse_vlan(p, attr[NFQGO_NFQA_VLAN]);
	if (attr[NFQGO_NFQA_L2HDR]) {
		p->attrs |= NFQGO_ATTR_L2HDR;
		p->l2hdr = mnl_attr_get_payload(attr[NFQGO_NFQA_L2HDR]);
		p->l2hdr_len = mnl_attr_get_payload_len(attr[NFQGO_NFQA_L2HDR]);
	}
	if (attr[NFQGO_NFQA_PRIORITY]) {
		p->attrs |= NFQGO_ATTR_PRIORITY;
		p->priority = get_u32(attr[NFQGO_NFQA_PRIORITY]);
	}
	q->npkts++;
}

/* handle_datagram walks the messages of one datagram from the kernel:
 * packets go to Go; an answer to configuration request seq (if any) is
 * returned in *ack (0 or -errno) and *acked set; other errors (answers to
 * verdicts) are returned as -errno, the first one only. */
static int handle_datagram(struct nfqgo_queue *q, const char *buf, size_t len, uint32_t seq,
			   int *acked, int *ack)
{
	size_t off = 0;
	int err = 0;

	/* Walk with unsigned lengths: a message length of 2 GiB or more must
	 * end the walk, not wrap a signed check around. */
	while (len - off >= NLMSG_HDRLEN) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)(buf + off);
		size_t msg_len = nlh->nlmsg_len;
		if (msg_len < NLMSG_HDRLEN || msg_len > len - off)
			break;
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
			if (msg_len < mnl_nlmsg_size(sizeof(*e)))
				break;
			if (acked != NULL && nlh->nlmsg_seq == seq && seq != 0) {
				*acked = 1;
				*ack = e->error;
			} else if (e->error != 0 && err == 0) {
				err = e->error;
			}
		} else if (nlh->nlmsg_type == ((NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET) &&
			   msg_len >= mnl_nlmsg_size(sizeof(struct nfgenmsg))) {
			on_packet(q, nlh);
		}
		off += NLMSG_ALIGN(msg_len);
		if (off > len)
			break;
	}
	return err;
}

/* size_buffers (re)allocates the recvmmsg buffers for a copy mode. */
static int size_buffers(struct nfqgo_queue *q, uint8_t mode, uint32_t range)
{
	size_t payload = mode == NFQNL_COPY_PACKET ? (range ? range : 0xffff) : 0;
	size_t bufsize = payload + NFQGO_MSG_OVERHEAD;
	int n = (int)(NFQGO_RECV_MEM / bufsize);

	if (n < NFQGO_RECV_MIN_BATCH)
		n = NFQGO_RECV_MIN_BATCH;
	if (n > NFQGO_RECV_MAX_BATCH)
		n = NFQGO_RECV_MAX_BATCH;
	if (q->bufs != NULL && q->bufsize >= bufsize)
		return 0; /* big enough already */
	char *bufs = malloc((size_t)n * bufsize);
	struct mmsghdr *msgs = calloc((size_t)n, sizeof(*msgs));
	struct iovec *iovs = calloc((size_t)n, sizeof(*iovs));
	struct sockaddr_nl *from = calloc((size_t)n, sizeof(*from));
	if (bufs == NULL || msgs == NULL || iovs == NULL || from == NULL) {
		free(bufs);
		free(msgs);
		free(iovs);
		free(from);
		errno = ENOMEM;
		return -1;
	}
	for (int i = 0; i < n; i++) {
		iovs[i].iov_base = bufs + (size_t)i * bufsize;
		iovs[i].iov_len = bufsize;
		msgs[i].msg_hdr.msg_iov = &iovs[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
		msgs[i].msg_hdr.msg_name = &from[i];
		msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
	}
	free(q->bufs);
	free(q->msgs);
	free(q->iovs);
	free(q->from);
	q->bufs = bufs;
	q->msgs = msgs;
	q->iovs = iovs;
	q->from = from;
	q->nbufs = n;
	q->bufsize = bufsize;
	return 0;
}

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
	char *buf = q->iovs[0].iov_base;
	int quiet = 0;

	nlh->nlmsg_flags |= NLM_F_ACK;
	for (int tries = 1;; tries++) {
		if (++q->seq == 0)
			++q->seq;
		nlh->nlmsg_seq = q->seq;
		if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
			return -errno;
		int read = 0;
		for (;;) {
			struct sockaddr_nl from;
			socklen_t fromlen = sizeof(from);
			ssize_t got = recvfrom(q->fd, buf, q->bufsize, MSG_DONTWAIT,
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
				if (q->deferred_err == 0)
					q->deferred_err = errno;
				continue;
			}
			if (from.nl_pid != 0)
				continue; /* not from the kernel */
			int acked = 0, ack = 0;
			int err = handle_datagram(q, buf, (size_t)got, q->seq, &acked, &ack);
			deliver(q); /* buf is read into again */
			if (err != 0 && q->deferred_err == 0)
				q->deferred_err = -err;
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

struct nfqgo_queue *nfqgo_open(uint16_t num, uintptr_t handle, uint8_t mode, uint32_t range,
			       uint32_t maxlen, int rcvbuf, int no_enobufs, uint32_t trunc_verdict,
			       int *err, const char **stage)
{
	struct nfqgo_queue *q = calloc(1, sizeof(*q));
	int r;

	*err = 0;
	if (q == NULL) {
		*err = ENOMEM;
		*stage = "allocate";
		return NULL;
	}
	q->fd = -1;
	q->num = num;
	q->handle = handle;
	q->trunc_verdict = trunc_verdict;
	if (size_buffers(q, mode, range) < 0)
		return fail(q, ENOMEM, err, stage, "allocate receive buffers");

	errno = 0;
	/* close-on-exec: a program that runs others must not hand them the queue */
	q->nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (q->nl == NULL)
		return fail(q, 0, err, stage, "open netlink socket");
	if (mnl_socket_bind(q->nl, 0, MNL_SOCKET_AUTOPID) < 0)
		return fail(q, 0, err, stage, "bind netlink socket");
	q->fd = mnl_socket_get_fd(q->nl);

	if (rcvbuf > 0 && setsockopt(q->fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0 &&
	    setsockopt(q->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)) < 0)
		return fail(q, 0, err, stage, "set receive buffer size");
	if (no_enobufs) {
		int one = 1;
		if (setsockopt(q->fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one)) < 0)
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
	if (size_buffers(q, mode, range) < 0)
		return -ENOMEM;
	struct nlmsghdr *nlh = config_msg(buf, q->num);
	nfq_nlmsg_cfg_put_params(nlh, mode, (int)range);
	return config(q, nlh, 0);
}

int nfqgo_set_flags(struct nfqgo_queue *q, uint32_t mask, uint32_t flags)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = config_msg(buf, q->num);

	mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
	mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(mask));
	return config(q, nlh, 0);
}

int nfqgo_set_maxlen(struct nfqgo_queue *q, uint32_t maxlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = config_msg(buf, q->num);

	nfq_nlmsg_cfg_put_qmaxlen(nlh, maxlen);
	return config(q, nlh, 0);
}

int nfqgo_dispatch(struct nfqgo_queue *q, const void *buf, int len)
{
	int err = handle_datagram(q, buf, (size_t)len, 0, NULL, NULL);
	deliver(q);
	return err;
}

/* truncated gives a message that did not fit its buffer the fallback
 * verdict, so the packet is not left waiting; its id is in the packet header
 * attribute, which the kernel puts first. */
/* send_verdict sends one verdict message of its own (type NFQNL_MSG_VERDICT
 * or NFQNL_MSG_VERDICT_BATCH), outside the Go-locked verdict buffer.
 * Returns 0 or -errno. */
static int send_verdict(struct nfqgo_queue *q, uint16_t type, uint32_t id, uint32_t verdict)
{
	char msg[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nfq_nlmsg_put(msg, type, q->num);

	nfq_nlmsg_verdict_put(nlh, (int)id, (int)verdict);
	if (mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return 0;
}

static void truncated(struct nfqgo_queue *q, const char *buf, size_t len)
{
	const size_t id_off = NLMSG_HDRLEN + sizeof(struct nfgenmsg) + NLA_HDRLEN;
	uint32_t id;

	q->truncated++;
	if (len < id_off + sizeof(id))
		return;
	memcpy(&id, buf + id_off, sizeof(id));
	send_verdict(q, NFQNL_MSG_VERDICT, ntohl(id), q->trunc_verdict);
}

/* handle_batch dispatches the n datagrams recvmmsg just read. It returns the
 * first error the kernel sent back for an earlier verdict (an NLMSG_ERROR),
 * as a positive errno, or 0; the datagrams after one are handled too. */
static int handle_batch(struct nfqgo_queue *q, int n)
{
	int err = 0;

	for (int i = 0; i < n; i++) {
		char *buf = q->iovs[i].iov_base;
		size_t len = q->msgs[i].msg_len;
		q->msgs[i].msg_hdr.msg_namelen = sizeof(q->from[i]);
		if (q->from[i].nl_pid != 0)
			continue; /* not from the kernel: another process's */
		if (q->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
			truncated(q, buf, len);
			continue;
		}
		int e = handle_datagram(q, buf, len, 0, NULL, NULL);
		if (e != 0 && err == 0)
			err = -e;
	}
	deliver(q); /* before the buffers are read into again */
	return err;
}

int nfqgo_drain(struct nfqgo_queue *q, int budget)
{
	int handled = 0, err = q->deferred_err;

	q->deferred_err = 0;
	while (handled < budget) {
		int want = budget - handled;
		if (want > q->nbufs)
			want = q->nbufs;
		int n = recvmmsg(q->fd, q->msgs, (unsigned int)want, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			/* ENOBUFS (an overrun): report one error now, any other
			 * with the next call */
			if (err == 0)
				err = errno;
			else
				q->deferred_err = errno;
			break;
		}
		int e = handle_batch(q, n);
		if (e != 0 && err == 0)
			err = e;
		handled += n;
		if (n < want)
			break; /* the socket is empty */
	}
	return err ? -err : handled;
}

int nfqgo_drain_rest(struct nfqgo_queue *q)
{
	int handled = 0;

	for (;;) {
		int n = recvmmsg(q->fd, q->msgs, (unsigned int)q->nbufs, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EINTR || errno == ENOBUFS)
				continue; /* an overrun ends no read: what is left still counts */
			return handled; /* empty, or nothing more to read */
		}
		handle_batch(q, n);
		handled += n;
	}
}

int nfqgo_wait(int fd, int wake_fd, int64_t timeout_ns)
{
	struct pollfd pfds[2] = {{.fd = fd, .events = POLLIN}, {.fd = wake_fd, .events = POLLIN}};
	struct timespec ts = {.tv_sec = timeout_ns / 1000000000, .tv_nsec = timeout_ns % 1000000000};
	int n = ppoll(pfds, 2, &ts, NULL);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	if (pfds[1].revents & POLLIN) {
		uint64_t count;
		if (read(wake_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
			return -errno;
	}
	/* Any event on the socket (an error, a hang-up) goes to the read,
	 * which reports it; only a quiet socket may be waited on again. */
	if (pfds[0].revents)
		return 1;
	return pfds[1].revents ? 2 : 0;
}

uint64_t nfqgo_truncated(struct nfqgo_queue *q) { return q->truncated; }

/* later reports whether packet id a came after b (ids wrap). */
static int later(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }

/* take_pending returns the length of what the pending verdicts leave as,
 * and empties the buffer (its bytes stay until the next verdict). undecided
 * and lowest are as for nfqgo_verdict. */
static size_t take_pending(struct nfqgo_queue *q, int undecided, uint32_t lowest)
{
	size_t len = q->vlen;

	/* The pending messages all say the same plain thing and no packet with
	 * an id up to the latest of them waits for a verdict: one batch message
	 * (every waiting packet with an id up to vmax) does it, and costs the
	 * kernel one message, not many. */
	int batch_ok = undecided == 0 || (undecided > 0 && later(lowest, q->vmax));
	if (batch_ok && q->vcount > 1 && !q->vmixed) {
		struct nlmsghdr *nlh = nfq_nlmsg_put(q->vbuf, NFQNL_MSG_VERDICT_BATCH, q->num);
		nfq_nlmsg_verdict_put(nlh, (int)q->vmax, (int)q->vverdict);
		len = nlh->nlmsg_len;
	}
	q->vlen = 0;
	q->vcount = 0;
	return len;
}

int nfqgo_take_pending(struct nfqgo_queue *q, int undecided, uint32_t lowest, void *dst, int cap)
{
	if (q->vlen > (size_t)cap)
		return -ENOSPC;
	size_t len = take_pending(q, undecided, lowest);
	memcpy(dst, q->vbuf, len);
	return (int)len;
}

int nfqgo_flush(struct nfqgo_queue *q, int undecided, uint32_t lowest)
{
	static const struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
	size_t len = take_pending(q, undecided, lowest);

	while (len > 0) {
		if (sendto(q->fd, q->vbuf, len, 0, (const struct sockaddr *)&kernel, sizeof(kernel)) >= 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

int nfqgo_verdict(struct nfqgo_queue *q, uint32_t id, uint32_t verdict, int set_mark,
		  uint32_t mark, int set_ct_mark, uint32_t ct_mark, const void *payload,
		  uint32_t payload_len, int flush, int undecided, uint32_t lowest)
{
	/* header, verdict, mark and conntrack attributes, payload attribute */
	size_t need = NLMSG_ALIGN(NLMSG_HDRLEN + sizeof(struct nfgenmsg)) + 64 +
		      MNL_ALIGN(NLA_HDRLEN + payload_len);
	if (q->vlen + need > sizeof(q->vbuf)) {
		/* this packet is not among them yet: no batch */
		int r = nfqgo_flush(q, -1, 0);
		if (r < 0)
			return r;
	}
	struct nlmsghdr *nlh = nfq_nlmsg_put(q->vbuf + q->vlen, NFQNL_MSG_VERDICT, q->num);
	nfq_nlmsg_verdict_put(nlh, (int)id, (int)verdict);
	if (set_mark)
		nfq_nlmsg_verdict_put_mark(nlh, mark);
	if (set_ct_mark) {
		struct nlattr *ct = mnl_attr_nest_start(nlh, NFQA_CT);
		mnl_attr_put_u32(nlh, CTA_MARK, htonl(ct_mark));
		mnl_attr_nest_end(nlh, ct);
	}
	if (payload != NULL && payload_len > 0) {
		/* libmnl leaves the attribute's padding as it finds it: zero
		 * it, or bytes of an earlier verdict go to the kernel. */
		size_t end = nlh->nlmsg_len + NLA_HDRLEN + payload_len;
		nfq_nlmsg_verdict_put_pkt(nlh, payload, payload_len);
		memset((char *)nlh + end, 0, nlh->nlmsg_len - end);
	}
	q->vlen += NLMSG_ALIGN(nlh->nlmsg_len);

	/* Batch messages carry no mark, payload or conntrack attribute. */
	int plain = !set_mark && !set_ct_mark && !(payload != NULL && payload_len > 0);
	if (q->vcount == 0) {
		q->vmixed = !plain;
		q->vverdict = verdict;
		q->vmax = id;
	} else {
		if (!plain || verdict != q->vverdict)
			q->vmixed = 1;
		if (later(id, q->vmax))
			q->vmax = id;
	}
	q->vcount++;
	if (flush || q->vlen >= NFQGO_VERDICT_FLUSH)
		return nfqgo_flush(q, undecided, lowest);
	return q->vcount;
}

int nfqgo_verdict_batch(struct nfqgo_queue *q, uint32_t id, uint32_t verdict)
{
	/* Earlier single verdicts first: the batch must not overtake them. */
	int r = nfqgo_flush(q, -1, 0);
	if (r < 0)
		return r;
	return send_verdict(q, NFQNL_MSG_VERDICT_BATCH, id, verdict);
}

int nfqgo_fd(struct nfqgo_queue *q) { return q->fd; }

void nfqgo_close(struct nfqgo_queue *q)
{
	if (q == NULL)
		return;
	/* Unbind without waiting for an answer: the kernel handles the
	 * request inside sendto, so the queue is gone when it returns (closing
	 * the socket would also unbind it, but later). The kernel drops what
	 * the queue still held. */
	if (q->nl != NULL) {
		char buf[MNL_SOCKET_BUFFER_SIZE];
		struct nlmsghdr *nlh = config_msg(buf, q->num);
		nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_UNBIND);
		mnl_socket_sendto(q->nl, nlh, nlh->nlmsg_len);
	}
	if (q->nl != NULL)
		mnl_socket_close(q->nl);
	free(q->bufs);
	free(q->msgs);
	free(q->iovs);
	free(q->from);
	free(q);
}
