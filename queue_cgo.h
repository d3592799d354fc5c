/* struct nfqgo_queue, shared by the C files of a queue (nfq_cgo.c,
 * receive_cgo.c, sendverdict_cgo.c) and by none of the Go ones, which hold
 * only a pointer. C takes no lock: Go serializes the calls with the locks
 * of its Queue (nfq.go), and the struct falls into parts by the Go lock
 * that guards each. A file that includes it defines _GNU_SOURCE first
 * (struct mmsghdr). */
#ifndef NFQ_QUEUE_CGO_H
#define NFQ_QUEUE_CGO_H

#include <errno.h>
#include <stdint.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <linux/netlink.h>

#include "nfq_cgo.h"
#include "parse_cgo.h"

struct mnl_socket;

/* Set when the queue is made, the same until nfqgo_close: read by every
 * call. Queue.life keeps the queue itself alive: read-held around every
 * call, write-held by Close while it frees the queue. */
struct nfqgo_fixed {
	struct mnl_socket *nl; /* NULL on a queue without a socket (nfqgo_new) */
	int fd;                /* the socket; -1 without one, so a send fails with EBADF */
	uint16_t num;
	uint32_t trunc_verdict; /* for a packet whose message did not fit its buffer */
};

/* The socket's reader: guarded by Queue.rx, which the receive loop holds
 * while it drains, a configuration call while it reads its answer, and
 * Close. */
struct nfqgo_rx_state {
	uint32_t seq; /* of the latest configuration request */
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

	/* messages that did not fit their buffer (never expected: buffers fit
	 * the copy range); nfqgo_truncated reads it without rx, so it is
	 * accessed atomically */
	uint64_t truncated;

	struct nfqgo_batch batch; /* parsed packets not yet handed to Go */
};

/* The verdict messages not yet sent: guarded by Queue.vmu. sendverdict.go
 * says when they leave. */
struct nfqgo_verdict_buf {
	size_t len; /* bytes of buf in use */
	int count;  /* messages in buf */
	/* whether they all give the same plain verdict (then verdict, with max
	 * the latest id), so that one batch message may stand for them */
	int mixed;
	uint32_t verdict;
	uint32_t max;
	char buf[NFQGO_VERDICT_BUF];
};

struct nfqgo_queue {
	struct nfqgo_fixed fixed;
	struct nfqgo_rx_state rx;   /* Queue.rx */
	struct nfqgo_verdict_buf vmu; /* Queue.vmu */
};

/* Calls between the queue's C files. */

/* nfqgo_rx_buffers (re)allocates the receive buffers for a copy mode
 * (receive_cgo.c); 0, or -1 with errno ENOMEM. */
int nfqgo_rx_buffers(struct nfqgo_rx_state *rx, uint8_t mode, uint32_t range);

/* nfqgo_rx_free frees the receive buffers (receive_cgo.c). */
void nfqgo_rx_free(struct nfqgo_rx_state *rx);

/* nfqgo_send_alone sends one verdict message of its own, type
 * NFQNL_MSG_VERDICT or NFQNL_MSG_VERDICT_BATCH, outside the verdict buffer
 * (sendverdict_cgo.c). Returns 0 or -errno. */
int nfqgo_send_alone(struct nfqgo_queue *q, uint16_t type, uint32_t id, uint32_t verdict);

/* nfqgo_send sends len bytes of netlink messages to the kernel on fd, in
 * one datagram. Returns 0 or -errno. */
static inline int nfqgo_send(int fd, const void *buf, size_t len)
{
	static const struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};

	while (sendto(fd, buf, len, 0, (const struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return 0;
}

#endif
