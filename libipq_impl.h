/* The C libipq: iptables' libipq API on NFQUEUE, as plain functions over a
 * netlink socket, with no thread and no per-packet state, so that it works
 * across fork() like the original. libipq/Makefile builds these files into
 * libipq.so.0 and libipq.a; package nfq compiles the same files for its Go
 * compatibility API (ipq_compat.go), with every symbol renamed (below) so
 * that a Go program can also link a real libipq.
 *
 * Files: libipq_handle.c (handles, the queues they bind, copy modes),
 * libipq_read.c (ipq_read), libipq_send.c (requests to the kernel,
 * ipq_set_verdict), libipq_msg.c (the legacy message layout) and
 * libipq_errors.c (ipq_errno, ipq_errstr, ipq_perror). */
#ifndef LIBIPQ_IMPL_H
#define LIBIPQ_IMPL_H

#ifdef NFQ_LIBIPQ_GO
#define ipq_create_handle nfqgo_ipq_create_handle
#define ipq_destroy_handle nfqgo_ipq_destroy_handle
#define ipq_read nfqgo_ipq_read
#define ipq_set_mode nfqgo_ipq_set_mode
#define ipq_get_packet nfqgo_ipq_get_packet
#define ipq_message_type nfqgo_ipq_message_type
#define ipq_get_msgerr nfqgo_ipq_get_msgerr
#define ipq_set_verdict nfqgo_ipq_set_verdict
#define ipq_ctl nfqgo_ipq_ctl
#define ipq_errstr nfqgo_ipq_errstr
#define ipq_perror nfqgo_ipq_perror
#define ipq_errno nfqgo_ipq_errno
#define libipq_sys_errno nfqgo_libipq_sys_errno
#define libipq_create nfqgo_libipq_create
#define libipq_read_wake nfqgo_libipq_read_wake
#define libipq_ctl nfqgo_libipq_ctl
#define libipq_fail nfqgo_libipq_fail
#define libipq_errstr_of nfqgo_libipq_errstr_of
#define libipq_perror_line nfqgo_libipq_perror_line
#define libipq_rx_copy nfqgo_libipq_rx_copy
#define libipq_legacy_packet nfqgo_libipq_legacy_packet
#define libipq_legacy_error nfqgo_libipq_legacy_error
#define libipq_send_verdict nfqgo_libipq_send_verdict
#define libipq_send_config nfqgo_libipq_send_config
#define libipq_send_refusal nfqgo_libipq_send_refusal
#define libipq_bind_queue nfqgo_libipq_bind_queue
#define libipq_handle_mode nfqgo_libipq_handle_mode
#endif

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <libipq.h>

/* Error codes (ipq_errno), as libipq numbered them; libipq.h never
 * declared them. */
enum {
	IPQ_ERR_NONE = 0,
	IPQ_ERR_IMPL,
	IPQ_ERR_HANDLE,
	IPQ_ERR_SOCKET,
	IPQ_ERR_BIND,
	IPQ_ERR_BUFFER,
	IPQ_ERR_RECV,
	IPQ_ERR_NLEOF,
	IPQ_ERR_ADDRLEN,
	IPQ_ERR_STRUNC,
	IPQ_ERR_RTRUNC,
	IPQ_ERR_NLRECV,
	IPQ_ERR_SEND,
	IPQ_ERR_SUPP,
	IPQ_ERR_RECVBUF,
	IPQ_ERR_TIMEOUT,
	IPQ_ERR_PROTOCOL
};
#define IPQ_MAXERR IPQ_ERR_PROTOCOL

extern int ipq_errno;
/* libipq_sys_errno is the errno of the last failure that had one (the Go
 * API's IPQSyscallErrno: Go cannot read C's thread-local errno). */
extern int libipq_sys_errno;

/* libipq_fail records a failure: ipq_errno = code and, when err is not 0,
 * errno = err. */
void libipq_fail(int code, int err);

/* The family of a handle. */
enum { LIBIPQ_V4 = 0, LIBIPQ_V6 = 1 };

/* Sizes of the legacy protocol: a request (struct nlmsghdr and
 * ipq_peer_msg_t), which ipq_set_mode and ipq_set_verdict return, and the
 * header of a packet message. */
#define LIBIPQ_REQ_LEN 40
#define LIBIPQ_PKT_HDR_LEN 112

struct libipq_queue;

/* What ipq_create_handle allocates: the public struct first, so that
 * programs find h->fd where they expect it. */
struct libipq_handle {
	struct ipq_handle pub;
	int family;
	struct libipq_queue *q;
	/* Set while the other family's handle shares the queue: the socket
	 * and number of the queue that brings this handle's packets (for the
	 * second handle that socket is pub.fd). -1 otherwise. */
	int own_fd;
	int own_num;
	/* the copy mode asked for, applied to the queue this handle reads */
	uint8_t mode;
	uint32_t range;
};

/* An NFQUEUE queue bound by this process and the handles on it: one of
 * each family at most. */
struct libipq_queue {
	struct libipq_queue *next;
	dev_t ns_dev; /* the network namespace the queue lives in */
	ino_t ns_ino;
	uint16_t num;
	pid_t pid; /* the process that bound it */
	/* The socket that owns queue num: the first handle's pub.fd, or its
	 * duplicate once the queue is shared, so that it outlives either
	 * handle. */
	int fd;
	int shared; /* both families: packets move on to per-handle queues */
	struct libipq_handle *h[2];
	/* where shared packets of each family go: a queue number, -1 none
	 * (read without the lock, so atomic) */
	int fwd[2];
};

/* A packet read from a handle's own queue (queue shared by both families)
 * carries that queue's number in the upper half of its 64-bit id, so that
 * its verdict goes there. */
#define LIBIPQ_ID_TAG(num) ((uint64_t)(0x10000u | (uint16_t)(num)) << 32)
#define LIBIPQ_ID_TAGGED(id) (((uint64_t)(id) >> 48) == 1)
#define LIBIPQ_ID_QUEUE(id) ((uint16_t)((uint64_t)(id) >> 32))

/* libipq_create is ipq_create_handle on queue number queue (-1: the one the
 * environment names, 0 by default). */
struct ipq_handle *libipq_create(u_int32_t protocol, int queue);

/* libipq_read_wake is ipq_read that also ends when wake_fd (an eventfd,
 * -1 for none) becomes readable, failing with EBADF: the Go API's
 * IPQDestroyHandle uses it to end a read in progress. With a wake_fd a
 * signal never ends the read. */
ssize_t libipq_read_wake(const struct ipq_handle *h, unsigned char *buf, size_t len, int timeout,
			 int wake_fd);

/* libipq_ctl is ipq_ctl without the variable arguments (cgo cannot call a
 * variadic function). */
int libipq_ctl(const struct ipq_handle *h, int request);

/* libipq_errstr_of is the text of error code code. */
const char *libipq_errstr_of(int code);

/* libipq_perror_line writes into dst (cap bytes) the line ipq_perror
 * prints: s ("ERROR" when NULL), ": " and the text of code unless it is 0,
 * ": " and strerror(err) unless err is 0, and a newline. */
void libipq_perror_line(char *dst, size_t cap, const char *s, int code, int err);

/* A message as recvmsg scattered it: the first bytes in the caller's
 * buffer, the ones past its end in tail. */
struct libipq_rx {
	unsigned char *buf;
	size_t len;
	const unsigned char *tail;
	size_t tail_len;
	size_t size; /* the whole message, as the kernel sent it */
	uint64_t id_tag; /* ORed into packet_id: which queue it came from */
};

/* libipq_rx_copy copies up to n bytes of the message from offset off into
 * dst and returns how many there were. */
size_t libipq_rx_copy(const struct libipq_rx *rx, size_t off, void *dst, size_t n);

/* libipq_legacy_packet turns the NFQUEUE packet message in rx into the
 * legacy message (struct nlmsghdr, ipq_packet_msg_t, payload) in rx->buf,
 * as much of it as fits. Names and hardware type come from ifname_fd, a
 * socket of the queue's network namespace. It returns the legacy message's
 * size, or -errno: -EFAULT when part of the buffer cannot be written,
 * -EBADMSG for a malformed message. */
ssize_t libipq_legacy_packet(const struct libipq_rx *rx, int ifname_fd);

/* libipq_legacy_error turns the kernel's NLMSG_ERROR message in rx into the
 * one ip_queue sent for a refused request; it returns 0 (and writes
 * nothing) for one the program did not cause. The request's legacy type and
 * length come back in the sequence number libipq_send_* put in it. */
ssize_t libipq_legacy_error(const struct libipq_rx *rx);

/* Sequence numbers of requests: a program's carry its legacy length (and
 * LIBIPQ_SEQ_MODE for a mode request), so that an error names it as
 * ip_queue's did; the library's own carry 0 and their errors are dropped. */
#define LIBIPQ_SEQ_MODE 0x80000000u

/* libipq_send_verdict sends a verdict for packet id of queue num on fd,
 * with payload (plen bytes, sent from the caller's memory) when not NULL.
 * Returns 0 or -errno. */
int libipq_send_verdict(int fd, uint16_t num, uint32_t id, uint32_t verdict, const void *payload,
			size_t plen, uint32_t seq);

/* libipq_send_config sends a copy mode request for queue num on fd. */
int libipq_send_config(int fd, uint16_t num, uint8_t mode, uint32_t range, uint32_t seq);

/* libipq_send_refusal sends a request for queue num that the kernel
 * refuses with EINVAL: the answer to a request ip_queue refused and
 * NFQUEUE would take silently. */
int libipq_send_refusal(int fd, uint16_t num, uint32_t seq);

/* libipq_bind_queue binds queue num on fd and waits for the kernel's
 * answer. Returns 0 or -errno. */
int libipq_bind_queue(int fd, uint16_t num);

/* libipq_handle_mode applies mode and range to the queue h reads. */
int libipq_handle_mode(struct libipq_handle *h, uint8_t mode, uint32_t range, uint32_t seq);

#endif
