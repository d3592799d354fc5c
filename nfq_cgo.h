/* The C side of a queue, as Go calls it: one netlink socket and queue per
 * struct nfqgo_queue (defined in queue_cgo.h), which Go holds a pointer to;
 * C never holds Go pointers, only the integer value of a runtime/cgo.Handle.
 * The files, one job each: nfq_cgo.c (the socket, opening, closing and
 * configuring it), receive_cgo.c (reading it), parse_cgo.c (the messages
 * read: parse_cgo.h), sendverdict_cgo.c (the verdicts) and threadwait_cgo.c
 * (the receive loop's wait in its thread). */
#ifndef NFQ_CGO_H
#define NFQ_CGO_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>

/* Room for everything in a packet message but the payload: headers and
 * every other attribute, with a wide margin (secctx, conntrack, L2 header). */
#define NFQGO_MSG_OVERHEAD 4096
/* Verdict messages collect in one buffer and leave in one sendto when it
 * holds this much, or when the Go side asks: sendverdict.go says when. */
#define NFQGO_VERDICT_FLUSH (64 * 1024)
#define NFQGO_VERDICT_BUF (NFQGO_VERDICT_FLUSH + 0xffff + NFQGO_MSG_OVERHEAD)

/* Calls that can fail return a negative errno; no out-parameters, so that
 * Go passes no pointers to its stack (they would escape to the heap). */

struct nfqgo_queue;

/* nfq_cgo.c */

/* nfqgo_new makes a queue without a socket: the receive buffers for the
 * copy mode, the parser's batch and the verdict buffer, but nothing to read
 * or send with (sends fail with EBADF). nfqgo_open starts from it; tests of
 * the parser and the verdict encoder use it alone, with no kernel. NULL
 * when out of memory. */
struct nfqgo_queue *nfqgo_new(uint16_t num, uintptr_t handle, uint8_t mode, uint32_t range,
			      uint32_t trunc_verdict);

/* nfqgo_open opens a netlink socket, binds queue num and sets the copy mode
 * and queue length. trunc_verdict is given to a packet whose message did not
 * fit the receive buffer. On failure it returns NULL, with *err the errno
 * and *stage naming the step that failed ("open", "bind queue", ...). */
struct nfqgo_queue *nfqgo_open(uint16_t num, uintptr_t handle, uint8_t mode, uint32_t range,
			       uint32_t maxlen, int rcvbuf, int no_enobufs, uint32_t trunc_verdict,
			       int *err, const char **stage);

/* Configuration calls. They read the kernel's answer from the socket, so
 * the caller must not be receiving concurrently; packets that arrive
 * meanwhile are dispatched as usual. An answer lost to a full socket is
 * noticed once the socket reads empty, and the request sent again: no call
 * waits for the kernel. */
int nfqgo_set_mode(struct nfqgo_queue *q, uint8_t mode, uint32_t range);
int nfqgo_set_flags(struct nfqgo_queue *q, uint32_t mask, uint32_t flags);
int nfqgo_set_maxlen(struct nfqgo_queue *q, uint32_t maxlen);

/* nfqgo_fd is the netlink socket, for readiness polling. */
int nfqgo_fd(struct nfqgo_queue *q);

/* nfqgo_close unbinds the queue, closes the socket and frees q. */
void nfqgo_close(struct nfqgo_queue *q);

/* receive_cgo.c */

/* nfqgo_drain reads (recvmmsg) and dispatches up to budget messages without
 * blocking, and returns how many. -ENOBUFS is an overrun; other errnos come
 * from NLMSG_ERROR replies to earlier verdicts (the messages after one are
 * still dispatched). */
int nfqgo_drain(struct nfqgo_queue *q, int budget);

/* nfqgo_drain_rest reads and dispatches everything the socket holds, for
 * Close: overruns and the kernel's answers to earlier verdicts do not stop
 * it (nobody is left to report them to). Returns how many messages it read. */
int nfqgo_drain_rest(struct nfqgo_queue *q);

/* nfqgo_truncated counts messages that did not fit their buffer. */
uint64_t nfqgo_truncated(struct nfqgo_queue *q);

/* nfqgo_dispatch feeds one netlink datagram through the same parse and
 * dispatch path as received ones (used by tests to inject kernel messages). */
int nfqgo_dispatch(struct nfqgo_queue *q, const void *buf, int len);

/* sendverdict_cgo.c */

/* nfqgo_verdict adds a verdict message to the pending ones and sends them
 * all when flush is set or the buffer is full. It sets the packet mark if
 * set_mark, and the connection mark if set_ct_mark (a nested NFQA_CT holding
 * CTA_MARK). payload may be NULL. undecided and lowest say which packets
 * handed out have no verdict, this one excepted: 0 none, 1 some with lowest
 * the lowest id, -1 unknown. A flush sends a run of identical plain verdicts
 * (no mark, conntrack or payload attribute) as one batch message when no
 * undecided packet is among the ids it would cover. Returns how many verdict
 * messages wait in the buffer afterwards, or -errno. */
int nfqgo_verdict(struct nfqgo_queue *q, uint32_t id, uint32_t verdict, int set_mark,
		  uint32_t mark, int set_ct_mark, uint32_t ct_mark, const void *payload,
		  uint32_t payload_len, int flush, int undecided, uint32_t lowest);

/* nfqgo_take_pending is for tests: it copies into dst (cap bytes) exactly
 * what nfqgo_flush(q, undecided, lowest) would send now, and empties the
 * buffer without sending. Returns the length, or -ENOSPC. */
int nfqgo_take_pending(struct nfqgo_queue *q, int undecided, uint32_t lowest, void *dst, int cap);

/* nfqgo_flush sends the pending verdict messages in one datagram (or one
 * batch message, see nfqgo_verdict). */
int nfqgo_flush(struct nfqgo_queue *q, int undecided, uint32_t lowest);

/* nfqgo_verdict_batch sends the pending verdicts, then gives verdict to
 * every waiting packet with id <= id. */
int nfqgo_verdict_batch(struct nfqgo_queue *q, uint32_t id, uint32_t verdict);

/* threadwait_cgo.c */

/* nfqgo_wait blocks until fd is readable, wake_fd (an eventfd) is signalled
 * or timeout_ns pass, on the calling thread. A signal on wake_fd is consumed.
 * Returns 1 when fd is readable or has an error, 2 when only woken, 0 on
 * timeout or EINTR, or -errno. */
int nfqgo_wait(int fd, int wake_fd, int64_t timeout_ns);

#endif
