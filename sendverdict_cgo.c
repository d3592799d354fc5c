// Sending verdicts: the buffer where verdict messages collect until they
// leave in one sendto (sendverdict.go says when), the batch message that may
// stand for a run of identical ones, and the verdicts sent on their own.
#include "queue_cgo.h"

#include <string.h>
#include <arpa/inet.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

/* later reports whether packet id a came after b (ids wrap). */
static int later(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }

/* take_pending returns the length of what the pending verdicts leave as,
 * and empties the buffer (its bytes stay until the next verdict). undecided
 * and lowest are as for nfqgo_verdict. */
static size_t take_pending(struct nfqgo_queue *q, int undecided, uint32_t lowest)
{
	size_t len = q->vmu.len;

	/* The pending messages all say the same plain thing and no packet with
	 * an id up to the latest of them waits for a verdict: one batch message
	 * (every waiting packet with an id up to max) does it, and costs the
	 * kernel one message, not many. */
	int batch_ok = undecided == 0 || (undecided > 0 && later(lowest, q->vmu.max));
	if (batch_ok && q->vmu.count > 1 && !q->vmu.mixed) {
		struct nlmsghdr *nlh = nfq_nlmsg_put(q->vmu.buf, NFQNL_MSG_VERDICT_BATCH, q->fixed.num);
		nfq_nlmsg_verdict_put(nlh, (int)q->vmu.max, (int)q->vmu.verdict);
		len = nlh->nlmsg_len;
	}
	q->vmu.len = 0;
	q->vmu.count = 0;
	return len;
}

int nfqgo_take_pending(struct nfqgo_queue *q, int undecided, uint32_t lowest, void *dst, int cap)
{
	if (q->vmu.len > (size_t)cap)
		return -ENOSPC;
	size_t len = take_pending(q, undecided, lowest);
	memcpy(dst, q->vmu.buf, len);
	return (int)len;
}

int nfqgo_flush(struct nfqgo_queue *q, int undecided, uint32_t lowest)
{
	size_t len = take_pending(q, undecided, lowest);

	return len > 0 ? nfqgo_send(q->fixed.fd, q->vmu.buf, len) : 0;
}

int nfqgo_verdict(struct nfqgo_queue *q, uint32_t id, uint32_t verdict, int set_mark,
		  uint32_t mark, int set_ct_mark, uint32_t ct_mark, const void *payload,
		  uint32_t payload_len, int flush, int undecided, uint32_t lowest)
{
	/* header, verdict, mark and conntrack attributes, payload attribute */
	size_t need = NLMSG_ALIGN(NLMSG_HDRLEN + sizeof(struct nfgenmsg)) + 64 +
		      MNL_ALIGN(NLA_HDRLEN + payload_len);
	if (q->vmu.len + need > sizeof(q->vmu.buf)) {
		/* this packet is not among them yet: no batch */
		int r = nfqgo_flush(q, -1, 0);
		if (r < 0)
			return r;
	}
	struct nlmsghdr *nlh = nfq_nlmsg_put(q->vmu.buf + q->vmu.len, NFQNL_MSG_VERDICT, q->fixed.num);
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
	q->vmu.len += NLMSG_ALIGN(nlh->nlmsg_len);

	/* Batch messages carry no mark, payload or conntrack attribute. */
	int plain = !set_mark && !set_ct_mark && !(payload != NULL && payload_len > 0);
	if (q->vmu.count == 0) {
		q->vmu.mixed = !plain;
		q->vmu.verdict = verdict;
		q->vmu.max = id;
	} else {
		if (!plain || verdict != q->vmu.verdict)
			q->vmu.mixed = 1;
		if (later(id, q->vmu.max))
			q->vmu.max = id;
	}
	q->vmu.count++;
	if (flush || q->vmu.len >= NFQGO_VERDICT_FLUSH)
		return nfqgo_flush(q, undecided, lowest);
	return q->vmu.count;
}

int nfqgo_verdict_batch(struct nfqgo_queue *q, uint32_t id, uint32_t verdict)
{
	/* Earlier single verdicts first: the batch must not overtake them. */
	int r = nfqgo_flush(q, -1, 0);
	if (r < 0)
		return r;
	return nfqgo_send_alone(q, NFQNL_MSG_VERDICT_BATCH, id, verdict);
}

int nfqgo_send_alone(struct nfqgo_queue *q, uint16_t type, uint32_t id, uint32_t verdict)
{
	char msg[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh = nfq_nlmsg_put(msg, type, q->fixed.num);

	nfq_nlmsg_verdict_put(nlh, (int)id, (int)verdict);
	return nfqgo_send(q->fixed.fd, nlh, nlh->nlmsg_len);
}
