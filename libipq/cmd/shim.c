/* The libipq symbols, with the exact prototypes of libipq.h (the compiler
 * checks them here). Each forwards to the Go code and then does what only
 * C can: set errno and ipq_errno, wait where signals reach the caller,
 * print through stdio. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "shim.h"
#include "_cgo_export.h"

int ipq_errno = IPQ_ERR_NONE;

static uintptr_t go_of(const struct ipq_handle *h)
{
	return h ? ((const struct libipq_handle *)h)->go : 0;
}

static void set_errno(int err)
{
	if (err)
		errno = err;
}

struct ipq_handle *ipq_create_handle(u_int32_t flags, u_int32_t protocol)
{
	struct libipq_handle *p;
	int fd = -1, err = 0;
	uintptr_t go;

	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		ipq_errno = IPQ_ERR_HANDLE;
		errno = ENOMEM;
		return NULL;
	}
	go = libipq_go_create(flags, protocol, &fd, &err, &ipq_errno);
	if (go == 0) {
		free(p);
		set_errno(err);
		return NULL;
	}
	p->go = go;
	p->pub.fd = fd;
	p->pub.local.nl_family = AF_NETLINK;
	p->pub.local.nl_pid = getpid();
	p->pub.peer.nl_family = AF_NETLINK;
	return &p->pub;
}

int ipq_destroy_handle(struct ipq_handle *h)
{
	if (h == NULL)
		return 0;
	libipq_go_destroy(go_of(h));
	free(h);
	return 0;
}

ssize_t ipq_read(const struct ipq_handle *h, unsigned char *buf, size_t len, int timeout)
{
	int err = 0;
	ssize_t n = libipq_go_read(go_of(h), buf, len, timeout, &err, &ipq_errno);

	set_errno(err);
	return n;
}

int ipq_set_mode(const struct ipq_handle *h, u_int8_t mode, size_t len)
{
	int err = 0;
	int n = libipq_go_set_mode(go_of(h), mode, len, &err, &ipq_errno);

	set_errno(err);
	return n;
}

ipq_packet_msg_t *ipq_get_packet(const unsigned char *buf)
{
	return libipq_go_get_packet((unsigned char *)buf);
}

int ipq_message_type(const unsigned char *buf)
{
	return libipq_go_message_type((unsigned char *)buf);
}

int ipq_get_msgerr(const unsigned char *buf)
{
	return libipq_go_get_msgerr((unsigned char *)buf);
}

int ipq_set_verdict(const struct ipq_handle *h, ipq_id_t id, unsigned int verdict,
		    size_t data_len, unsigned char *buf)
{
	int err = 0;
	int n = libipq_go_set_verdict(go_of(h), id, verdict, data_len, buf, &err, &ipq_errno);

	set_errno(err);
	return n;
}

int ipq_ctl(const struct ipq_handle *h, int request, ...)
{
	return libipq_go_ctl(go_of(h), request);
}

char *ipq_errstr(void)
{
	return libipq_go_errstr(ipq_errno);
}

void ipq_perror(const char *s)
{
	int err = errno; /* before anything else can change it */
	char *line = libipq_go_perror_line((char *)s, ipq_errno, err ? strerror(err) : NULL);

	if (line != NULL) {
		fputs(line, stderr);
		free(line);
	}
	errno = err;
}

int libipq_wait(int fd, long long timeout_ns)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct timespec ts, *tp = NULL;
	int r;

	if (timeout_ns >= 0) {
		ts.tv_sec = timeout_ns / 1000000000LL;
		ts.tv_nsec = timeout_ns % 1000000000LL;
		tp = &ts;
	}
	r = ppoll(&p, 1, tp, NULL);
	if (r < 0)
		return -1;
	return r > 0;
}
