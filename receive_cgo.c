// Receiving: the recvmmsg buffers of a queue and the drain that reads them
// and hands what they hold to the parser (parse_cgo.c), under Queue.rx.
#define _GNU_SOURCE /* recvmmsg */
#include "queue_cgo.h"

#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/netfilter/nfnetlink.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

/* Receive memory per queue: recvmmsg takes as many messages per call as fit
 * in this, each buffer big enough for one message at the copy range. */
#define NFQGO_RECV_MEM (1 << 20)
#define NFQGO_RECV_MIN_BATCH 4
#define NFQGO_RECV_MAX_BATCH NFQGO_BATCH_MAX

void nfqgo_rx_free(struct nfqgo_rx_state *rx)
{
	free(rx->bufs);
	free(rx->msgs);
	free(rx->iovs);
	free(rx->from);
}

int nfqgo_rx_buffers(struct nfqgo_rx_state *rx, uint8_t mode, uint32_t range)
{
	size_t payload = mode == NFQNL_COPY_PACKET ? (range ? range : 0xffff) : 0;
	size_t bufsize = payload + NFQGO_MSG_OVERHEAD;
	int n = (int)(NFQGO_RECV_MEM / bufsize);

	if (n < NFQGO_RECV_MIN_BATCH)
		n = NFQGO_RECV_MIN_BATCH;
	if (n > NFQGO_RECV_MAX_BATCH)
		n = NFQGO_RECV_MAX_BATCH;
	if (rx->bufs != NULL && rx->bufsize >= bufsize)
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
	nfqgo_rx_free(rx);
	rx->bufs = bufs;
	rx->msgs = msgs;
	rx->iovs = iovs;
	rx->from = from;
	rx->nbufs = n;
	rx->bufsize = bufsize;
	return 0;
}

/* truncated gives a message that did not fit its buffer the fallback
 * verdict, so the packet is not left waiting; its id is in the packet header
 * attribute, which the kernel puts first. */
static void truncated(struct nfqgo_queue *q, const char *buf, size_t len)
{
	const size_t id_off = NLMSG_HDRLEN + sizeof(struct nfgenmsg) + NLA_HDRLEN;
	uint32_t id;

	__atomic_fetch_add(&q->rx.truncated, 1, __ATOMIC_RELAXED);
	if (len < id_off + sizeof(id))
		return;
	memcpy(&id, buf + id_off, sizeof(id));
	nfqgo_send_alone(q, NFQNL_MSG_VERDICT, ntohl(id), q->fixed.trunc_verdict);
}

/* handle_batch dispatches the n datagrams recvmmsg just read. It returns the
 * first error the kernel sent back for an earlier verdict (an NLMSG_ERROR),
 * as a positive errno, or 0; the datagrams after one are handled too. */
static int handle_batch(struct nfqgo_queue *q, int n)
{
	int err = 0;

	for (int i = 0; i < n; i++) {
		char *buf = q->rx.iovs[i].iov_base;
		size_t len = q->rx.msgs[i].msg_len;
		q->rx.msgs[i].msg_hdr.msg_namelen = sizeof(q->rx.from[i]);
		if (q->rx.from[i].nl_pid != 0)
			continue; /* not from the kernel: another process's */
		if (q->rx.msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
			truncated(q, buf, len);
			continue;
		}
		int e = nfqgo_parse_datagram(&q->rx.batch, buf, len, 0, NULL, NULL);
		if (e != 0 && err == 0)
			err = -e;
	}
	nfqgo_deliver(&q->rx.batch); /* before the buffers are read into again */
	return err;
}

int nfqgo_drain(struct nfqgo_queue *q, int budget)
{
	int handled = 0, err = q->rx.deferred_err;

	q->rx.deferred_err = 0;
	while (handled < budget) {
		int want = budget - handled;
		if (want > q->rx.nbufs)
			want = q->rx.nbufs;
		int n = recvmmsg(q->fixed.fd, q->rx.msgs, (unsigned int)want, MSG_DONTWAIT, NULL);
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
				q->rx.deferred_err = errno;
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
		int n = recvmmsg(q->fixed.fd, q->rx.msgs, (unsigned int)q->rx.nbufs, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EINTR || errno == ENOBUFS)
				continue; /* an overrun ends no read: what is left still counts */
			return handled; /* empty, or nothing more to read */
		}
		handle_batch(q, n);
		handled += n;
	}
}

int nfqgo_dispatch(struct nfqgo_queue *q, const void *buf, int len)
{
	int err = nfqgo_parse_datagram(&q->rx.batch, buf, (size_t)len, 0, NULL, NULL);
	nfqgo_deliver(&q->rx.batch);
	return err;
}

uint64_t nfqgo_truncated(struct nfqgo_queue *q)
{
	return __atomic_load_n(&q->rx.truncated, __ATOMIC_RELAXED);
}
