// The packet message parser; see parse_cgo.h.
#include "parse_cgo.h"

#include <string.h>
#include <endian.h>
#include <arpa/inet.h>
#include <linux/netlink.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "_cgo_export.h"

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

/* parse_packet parses every attribute of the packet message nlh (at least a
 * netlink and an nfgenmsg header, nlmsg_len bytes) into *p, in one pass. It
 * returns 1, or 0 for a message that names no packet (no NFQA_PACKET_HDR):
 * nothing to give a verdict to. It reads nothing but the message and keeps
 * no state: p points into it. */
static int parse_packet(const struct nlmsghdr *nlh, struct nfqgo_packet *p)
{
	const struct nlattr *attr[NFQGO_NFQA_MAX + 1];

	memset(attr, 0, sizeof(attr));
	memset(p, 0, sizeof(*p));
	/* Parse exactly the message's bytes: mnl_attr_parse would round the
	 * length up to 4 and read past a datagram that ends unaligned. */
	size_t attrs_off = mnl_nlmsg_size(sizeof(struct nfgenmsg));
	mnl_attr_parse_payload((const char *)nlh + attrs_off, nlh->nlmsg_len - attrs_off, parse_attr, attr);
	if (attr[NFQA_PACKET_HDR] == NULL)
		return 0; /* not a packet we can name: nothing to give a verdict to */

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
	return 1;
}

int nfqgo_parse_datagram(struct nfqgo_batch *b, const char *buf, size_t len, uint32_t seq,
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
			if (b->n == NFQGO_BATCH_MAX)
				nfqgo_deliver(b);
			b->n += parse_packet(nlh, &b->pkts[b->n]);
		}
		off += NLMSG_ALIGN(msg_len);
		if (off > len)
			break;
	}
	return err;
}

void nfqgo_deliver(struct nfqgo_batch *b)
{
	if (b->n > 0)
		nfqgoPackets(b->handle, b->pkts, b->n);
	b->n = 0;
}
