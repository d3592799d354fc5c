/* libipq's process-wide error state and its texts. */
#define _GNU_SOURCE /* strerror_r returning the text */
#include "libipq_impl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int ipq_errno = IPQ_ERR_NONE;
int libipq_sys_errno;

/* libipq's texts, byte for byte: programs print and compare them. */
static char *const errstrs[] = {
	[IPQ_ERR_NONE] = "Unknown error",
	[IPQ_ERR_IMPL] = "Implementation error",
	[IPQ_ERR_HANDLE] = "Unable to create netlink handle",
	[IPQ_ERR_SOCKET] = "Unable to create netlink socket",
	[IPQ_ERR_BIND] = "Unable to bind netlink socket",
	[IPQ_ERR_BUFFER] = "Unable to allocate buffer",
	[IPQ_ERR_RECV] = "Failed to receive netlink message",
	[IPQ_ERR_NLEOF] = "Received EOF on netlink socket",
	[IPQ_ERR_ADDRLEN] = "Invalid peer address length",
	[IPQ_ERR_STRUNC] = "Sent message truncated",
	[IPQ_ERR_RTRUNC] = "Received message truncated",
	[IPQ_ERR_NLRECV] = "Received error from netlink",
	[IPQ_ERR_SEND] = "Failed to send netlink message",
	[IPQ_ERR_SUPP] = "Operation not supported",
	[IPQ_ERR_RECVBUF] = "Receive buffer size invalid",
	[IPQ_ERR_TIMEOUT] = "Timeout",
	[IPQ_ERR_PROTOCOL] = "Invalid protocol specified",
};

void libipq_fail(int code, int err)
{
	__atomic_store_n(&ipq_errno, code, __ATOMIC_RELAXED);
	if (err != 0) {
		__atomic_store_n(&libipq_sys_errno, err, __ATOMIC_RELAXED);
		errno = err;
	}
}

const char *libipq_errstr_of(int code)
{
	if (code < 0 || code > IPQ_MAXERR)
		return errstrs[IPQ_ERR_IMPL];
	return errstrs[code];
}

char *ipq_errstr(void)
{
	return (char *)libipq_errstr_of(__atomic_load_n(&ipq_errno, __ATOMIC_RELAXED));
}

void libipq_perror_line(char *dst, size_t cap, const char *s, int code, int err)
{
	char text[256];
	const char *etext = "";
	const char *sep = "";

	if (err != 0) {
		etext = strerror_r(err, text, sizeof(text));
		sep = ": ";
	}
	snprintf(dst, cap, "%s%s%s%s%s\n", s != NULL ? s : "ERROR", code != IPQ_ERR_NONE ? ": " : "",
		 code != IPQ_ERR_NONE ? libipq_errstr_of(code) : "", sep, etext);
}

void ipq_perror(const char *s)
{
	int err = errno; /* before stdio can change it */
	int code = __atomic_load_n(&ipq_errno, __ATOMIC_RELAXED);
	char text[256];

	fputs(s != NULL ? s : "ERROR", stderr);
	if (code != IPQ_ERR_NONE) {
		fputs(": ", stderr);
		fputs(libipq_errstr_of(code), stderr);
	}
	if (err != 0) {
		fputs(": ", stderr);
		fputs(strerror_r(err, text, sizeof(text)), stderr);
	}
	fputc('\n', stderr);
	errno = err;
}
