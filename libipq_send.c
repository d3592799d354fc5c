/* Requests to the kernel: verdicts (ipq_set_verdict), copy modes and queue
 * binding, built with libnetfilter_queue's message helpers. A verdict's
 * replacement payload is sent straight from the caller's buffer, so a bad
 * one is the kernel's EFAULT, as it was for ip_queue's sendmsg. */
#include "libipq_impl.h"

#include <errno.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

/* How long ipq_create_handle waits for the kernel to answer a bind. */
#define BIND_TIMEOUT_MS 5000

/* A request's header and attributes; payloads travel in their own iovec. */
union request {
	struct nlmsghdr nlh;
	char b[128];
};

static int send_iov(int fd, struct iovec *iov, int n)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct msghdr msg = { .msg_name = &kernel, .msg_namelen = sizeof(kernel), .msg_iov = iov, .msg_iovlen = n };

	while (sendmsg(fd, &msg, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

int libipq_send_verdict(int fd, uint16_t num, uint32_t id, uint32_t verdict, const void *payload,
			size_t plen, uint32_t seq)
{
	static const char pad[NLA_ALIGNTO];
	union request r;
	struct nlmsghdr *nlh = nfq_nlmsg_put(r.b, NFQNL_MSG_VERDICT, num);
	struct iovec iov[3];
	int n = 1;

	nlh->nlmsg_seq = seq;
	nfq_nlmsg_verdict_put(nlh, (int)id, (int)verdict);
	if (payload != NULL) {
		struct nlattr *a = mnl_nlmsg_get_payload_tail(nlh);

		if (plen > UINT16_MAX - NLA_HDRLEN)
			return -EMSGSIZE;
		a->nla_type = NFQA_PAYLOAD;
		a->nla_len = (uint16_t)(NLA_HDRLEN + plen);
		nlh->nlmsg_len += NLA_HDRLEN;
		iov[n++] = (struct iovec){ (void *)payload, plen };
		if (NLA_ALIGN(plen) > plen)
			iov[n++] = (struct iovec){ (void *)pad, NLA_ALIGN(plen) - plen };
	}
	iov[0] = (struct iovec){ nlh, nlh->nlmsg_len };
	if (payload != NULL)
		nlh->nlmsg_len += (uint32_t)NLA_ALIGN(plen);
	return send_iov(fd, iov, n);
}

int libipq_send_config(int fd, uint16_t num, uint8_t mode, uint32_t range, uint32_t seq)
{
	union request r;
	struct nlmsghdr *nlh = nfq_nlmsg_put(r.b, NFQNL_MSG_CONFIG, num);
	struct iovec iov;

	nlh->nlmsg_seq = seq;
	nfq_nlmsg_cfg_put_params(nlh, mode, (int)range);
	iov = (struct iovec){ nlh, nlh->nlmsg_len };
	return send_iov(fd, &iov, 1);
}

int libipq_send_refusal(int fd, uint16_t num, uint32_t seq)
{
	union request r;
	struct nlmsghdr *nlh = nfq_nlmsg_put(r.b, NFQNL_MSG_VERDICT, num);
	struct iovec iov;

	/* a verdict without its verdict attribute: EINVAL */
	nlh->nlmsg_seq = seq;
	iov = (struct iovec){ nlh, nlh->nlmsg_len };
	return send_iov(fd, &iov, 1);
}

/* wait_ack reads fd until the kernel answers the configuration request it
 * was sent, and returns 0 or -errno. Only a socket no queue is bound to
 * yet may be read this way: nothing else arrives on it. */
static int wait_ack(int fd)
{
	union {
		struct nlmsghdr nlh;
		char b[512];
	} m;
	struct pollfd p = { .fd = fd, .events = POLLIN };

	for (;;) {
		struct sockaddr_nl from;
		struct iovec iov = { m.b, sizeof(m.b) };
		struct msghdr msg = { .msg_name = &from, .msg_namelen = sizeof(from), .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n;
		int r = poll(&p, 1, BIND_TIMEOUT_MS);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		n = recvmsg(fd, &msg, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		if (from.nl_pid != 0 || (size_t)n < NLMSG_HDRLEN + sizeof(struct nlmsgerr) ||
		    m.nlh.nlmsg_type != NLMSG_ERROR)
			continue;
		return ((struct nlmsgerr *)NLMSG_DATA(&m.nlh))->error;
	}
}

int libipq_bind_queue(int fd, uint16_t num)
{
	union request r;
	struct nlmsghdr *nlh = nfq_nlmsg_put(r.b, NFQNL_MSG_CONFIG, num);
	struct iovec iov;
	int err;

	nlh->nlmsg_flags |= NLM_F_ACK;
	nfq_nlmsg_cfg_put_cmd(nlh, AF_UNSPEC, NFQNL_CFG_CMD_BIND);
	iov = (struct iovec){ nlh, nlh->nlmsg_len };
	err = send_iov(fd, &iov, 1);
	return err < 0 ? err : wait_ack(fd);
}

/* verdict_route finds the socket and queue the verdict for id goes to. */
static void verdict_route(const struct libipq_handle *h, ipq_id_t id, int *fd, uint16_t *num)
{
	int shared = __atomic_load_n(&h->q->shared, __ATOMIC_ACQUIRE);

	if (shared && LIBIPQ_ID_TAGGED(id)) {
		*fd = h->own_fd;
		*num = LIBIPQ_ID_QUEUE(id);
		return;
	}
	*fd = shared ? h->q->fd : h->pub.fd;
	*num = h->q->num;
}

int ipq_set_verdict(const struct ipq_handle *pub, ipq_id_t id, unsigned int verdict, size_t data_len,
		    unsigned char *buf)
{
	const struct libipq_handle *h = (const struct libipq_handle *)pub;
	int saved = errno, fd, err;
	size_t req = LIBIPQ_REQ_LEN, min_len;
	const void *payload = NULL;
	uint16_t num;

	if (h == NULL) {
		libipq_fail(IPQ_ERR_SEND, EBADF);
		return -1;
	}
	if (data_len != 0 && buf != NULL) {
		if (data_len > UINT16_MAX - NLA_HDRLEN) {
			libipq_fail(IPQ_ERR_SEND, EMSGSIZE);
			return -1;
		}
		req += data_len;
		/* ip_queue ignored a replacement shorter than an IP header and
		 * gave the verdict to the original packet; NFQUEUE would drop
		 * it without a word */
		min_len = h->family == LIBIPQ_V6 ? 40 : 20;
		if (data_len >= min_len)
			payload = buf;
	}
	verdict_route(h, id, &fd, &num);
	err = libipq_send_verdict(fd, num, (uint32_t)id, verdict, payload, payload ? data_len : 0, (uint32_t)req);
	if (err < 0) {
		libipq_fail(IPQ_ERR_SEND, -err);
		return -1;
	}
	errno = saved;
	return (int)req;
}
