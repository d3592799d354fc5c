/* The legacy message layout: ip_queue's messages, made from NFQUEUE's in
 * the caller's buffer. The kernel writes the NFQUEUE message there
 * (recvmsg), so a bad buffer is the kernel's EFAULT; the conversion then
 * moves the payload to where ip_queue put it and writes the header in
 * front, after asking the kernel whether the bytes the NFQUEUE message did
 * not cover can be written. */
#include "libipq_impl.h"
#include "ifname_cgo.h"

#include <errno.h>
#include <string.h>
#include <endian.h>
#include <arpa/inet.h>
#include <sys/random.h>
#include <linux/netlink.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>

/* Room for everything in a packet message but the payload. */
#define META_MAX 4096
/* Attribute types this file reads are all below this. */
#define ATTR_MAX 16

/* ip_queue's packet message: header and fixed part, then the payload. */
struct legacy_packet {
	struct nlmsghdr nlh;
	ipq_packet_msg_t m;
};
_Static_assert(sizeof(struct legacy_packet) == LIBIPQ_PKT_HDR_LEN, "ipq_packet_msg_t payload at 112");

/* ip_queue's answer to a refused request. */
struct legacy_error {
	struct nlmsghdr nlh;
	struct nlmsgerr e;
};

static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

/* rx_have is how many bytes of the message recvmsg kept. */
static size_t rx_have(const struct libipq_rx *rx)
{
	return min_size(rx->size, rx->len + rx->tail_len);
}

size_t libipq_rx_copy(const struct libipq_rx *rx, size_t off, void *dst, size_t n)
{
	size_t have = rx_have(rx), in_buf = 0;

	if (off >= have)
		return 0;
	n = min_size(n, have - off);
	if (off < rx->len) {
		in_buf = min_size(n, rx->len - off);
		memcpy(dst, rx->buf + off, in_buf);
	}
	if (in_buf < n)
		memcpy((unsigned char *)dst + in_buf, rx->tail + (off + in_buf - rx->len), n - in_buf);
	return n;
}

/* writable reports whether the n bytes at p can be written. getrandom
 * writes them where a store would crash, and fails with EFAULT instead;
 * the bytes are overwritten later anyway. A kernel without getrandom
 * cannot tell: then they count as writable. */
static int writable(unsigned char *p, size_t n)
{
	while (n > 0) {
		ssize_t r = getrandom(p, n, GRND_NONBLOCK);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return errno != EFAULT;
		p += r;
		n -= (size_t)r;
	}
	return 1;
}

/* put_legacy_ok checks that the first w bytes of the buffer can be written.
 * The kernel wrote the first min(size, len) of them, so the pages those
 * touch are writable (protection is per page, and pages are 4 KiB or
 * larger); only the bytes on later pages need asking. */
static int put_legacy_ok(const struct libipq_rx *rx, size_t w)
{
	size_t k = min_size(rx->size, rx->len);
	uintptr_t next_page;

	if (w <= k)
		return 1;
	if (k > 0) {
		next_page = ((uintptr_t)(rx->buf + k - 1) | 4095) + 1;
		if ((uintptr_t)(rx->buf + w) <= next_page)
			return 1;
		k = next_page - (uintptr_t)rx->buf;
	}
	return writable(rx->buf + k, w - k);
}

/* move_payload moves n payload bytes from message offset from to where the
 * legacy message has them (offset 112); the caller's buffer holds them. */
static void move_payload(const struct libipq_rx *rx, size_t from, size_t n)
{
	unsigned char *dst = rx->buf + LIBIPQ_PKT_HDR_LEN;
	size_t in_buf = from < rx->len ? min_size(n, rx->len - from) : 0;

	memmove(dst, rx->buf + from, in_buf);
	if (in_buf < n)
		memcpy(dst + in_buf, rx->tail + (from + in_buf - rx->len), n - in_buf);
}

/* attr_len is the payload length of attribute a, 0 when absent. */
static size_t attr_len(const struct nlattr *a) { return a != NULL ? a->nla_len - NLA_HDRLEN : 0; }

static const void *attr_data(const struct nlattr *a) { return (const char *)a + NLA_HDRLEN; }

static uint32_t attr_u32(const struct nlattr *a)
{
	uint32_t v;

	memcpy(&v, attr_data(a), sizeof(v));
	return ntohl(v);
}

/* put_dev fills a legacy interface name (and type) from the index in
 * attribute a; an interface gone since leaves it empty. */
static void put_dev(char name[IFNAMSIZ], uint16_t *type, const struct nlattr *a, int ifname_fd)
{
	char n[NFQGO_IFNAMSIZ];

	if (attr_len(a) < 4 || nfqgo_ifname(ifname_fd, attr_u32(a), n, type) < 0)
		return;
	memcpy(name, n, IFNAMSIZ);
}

ssize_t libipq_legacy_packet(const struct libipq_rx *rx, int ifname_fd)
{
	union {
		struct nlmsghdr nlh;
		unsigned char b[META_MAX];
	} meta;
	const struct nlattr *tb[ATTR_MAX] = { 0 };
	struct nfqnl_msg_packet_hdr ph;
	struct legacy_packet out;
	size_t have, end, off, pay_off = 0, pay_len = 0, size, w;

	have = libipq_rx_copy(rx, 0, meta.b, sizeof(meta.b));
	if (have < NLMSG_HDRLEN + sizeof(struct nfgenmsg))
		return -EBADMSG;
	end = min_size(meta.nlh.nlmsg_len, rx->size);
	/* The payload is the last attribute; everything before it fits in
	 * meta. */
	for (off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(struct nfgenmsg)); off + NLA_HDRLEN <= end;) {
		const struct nlattr *a = (const struct nlattr *)(meta.b + off);
		uint16_t type = a->nla_type & NLA_TYPE_MASK;

		if (off + NLA_HDRLEN > have || a->nla_len < NLA_HDRLEN || a->nla_len > end - off)
			return -EBADMSG;
		if (type == NFQA_PAYLOAD) {
			pay_off = off + NLA_HDRLEN;
			pay_len = a->nla_len - NLA_HDRLEN;
			break;
		}
		if (off + a->nla_len > have)
			return -EBADMSG;
		if (type < ATTR_MAX)
			tb[type] = a;
		off += NLA_ALIGN(a->nla_len);
	}
	if (attr_len(tb[NFQA_PACKET_HDR]) < sizeof(ph))
		return -EBADMSG;
	memcpy(&ph, attr_data(tb[NFQA_PACKET_HDR]), sizeof(ph));

	memset(&out, 0, sizeof(out));
	out.m.packet_id = ntohl(ph.packet_id) | rx->id_tag;
	out.m.hook = ph.hook;
	out.m.hw_protocol = ph.hw_protocol; /* network order, as ip_queue */
	if (attr_len(tb[NFQA_MARK]) >= 4)
		out.m.mark = attr_u32(tb[NFQA_MARK]);
	if (attr_len(tb[NFQA_TIMESTAMP]) >= sizeof(struct nfqnl_msg_packet_timestamp)) {
		struct nfqnl_msg_packet_timestamp ts;

		memcpy(&ts, attr_data(tb[NFQA_TIMESTAMP]), sizeof(ts));
		out.m.timestamp_sec = (long)be64toh(ts.sec);
		out.m.timestamp_usec = (long)be64toh(ts.usec);
	}
	put_dev(out.m.indev_name, &out.m.hw_type, tb[NFQA_IFINDEX_INDEV], ifname_fd);
	put_dev(out.m.outdev_name, NULL, tb[NFQA_IFINDEX_OUTDEV], ifname_fd);
	if (attr_len(tb[NFQA_HWADDR]) >= sizeof(struct nfqnl_msg_packet_hw)) {
		struct nfqnl_msg_packet_hw hw;

		memcpy(&hw, attr_data(tb[NFQA_HWADDR]), sizeof(hw));
		out.m.hw_addrlen = (unsigned char)min_size(ntohs(hw.hw_addrlen), sizeof(out.m.hw_addr));
		memcpy(out.m.hw_addr, hw.hw_addr, sizeof(out.m.hw_addr));
	}
	out.m.data_len = pay_len;

	/* ip_queue counted the alignment padding in the message length */
	size = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(out.m) + pay_len);
	out.nlh.nlmsg_len = (uint32_t)size;
	out.nlh.nlmsg_type = IPQM_PACKET;

	w = min_size(size, rx->len);
	if (!put_legacy_ok(rx, w))
		return -EFAULT;
	if (w > LIBIPQ_PKT_HDR_LEN && pay_len > 0) {
		size_t n = min_size(pay_len, w - LIBIPQ_PKT_HDR_LEN);

		if (pay_off + n > rx_have(rx))
			return -EBADMSG; /* attributes larger than META_MAX */
		move_payload(rx, pay_off, n);
	}
	memcpy(rx->buf, &out, min_size(sizeof(out), w));
	if (w > LIBIPQ_PKT_HDR_LEN + pay_len)
		memset(rx->buf + LIBIPQ_PKT_HDR_LEN + pay_len, 0, w - LIBIPQ_PKT_HDR_LEN - pay_len);
	return (ssize_t)size;
}

ssize_t libipq_legacy_error(const struct libipq_rx *rx)
{
	struct legacy_error in, out;
	uint32_t seq;
	size_t w;

	if (libipq_rx_copy(rx, 0, &in, sizeof(in)) < sizeof(in))
		return -EBADMSG;
	seq = in.e.msg.nlmsg_seq;
	if (in.e.error == 0 || seq == 0)
		return 0; /* an acknowledgement, or about the library's own request */
	memset(&out, 0, sizeof(out));
	out.nlh.nlmsg_len = sizeof(out);
	out.nlh.nlmsg_type = NLMSG_ERROR;
	out.e.error = in.e.error;
	out.e.msg.nlmsg_len = seq & ~LIBIPQ_SEQ_MODE;
	out.e.msg.nlmsg_type = (seq & LIBIPQ_SEQ_MODE) ? IPQM_MODE : IPQM_VERDICT;
	out.e.msg.nlmsg_flags = NLM_F_REQUEST;
	w = min_size(sizeof(out), rx->len);
	if (!put_legacy_ok(rx, w))
		return -EFAULT;
	memcpy(rx->buf, &out, w);
	return sizeof(out);
}

ipq_packet_msg_t *ipq_get_packet(const unsigned char *buf)
{
	if (buf == NULL)
		return NULL;
	return NLMSG_DATA((const struct nlmsghdr *)buf);
}

int ipq_message_type(const unsigned char *buf)
{
	if (buf == NULL)
		return 0;
	return ((const struct nlmsghdr *)buf)->nlmsg_type;
}

int ipq_get_msgerr(const unsigned char *buf)
{
	if (buf == NULL)
		return 0;
	return -((const struct nlmsgerr *)NLMSG_DATA((const struct nlmsghdr *)buf))->error;
}

int libipq_ctl(const struct ipq_handle *h, int request)
{
	(void)h;
	(void)request;
	return 1; /* libipq never implemented it */
}

int ipq_ctl(const struct ipq_handle *h, int request, ...)
{
	return libipq_ctl(h, request);
}
