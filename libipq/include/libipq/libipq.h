/*
 * libipq.h - the libipq API of iptables, reimplemented by nfq on NFQUEUE.
 *
 * Programs written for the ip_queue kernel module (removed in Linux 3.5)
 * build against this header and link with -lipq unchanged. Packets come
 * from NFQUEUE queue 0, which is where `iptables -j QUEUE` sends them; set
 * LIBIPQ_QUEUE (or LIBIPQ_QUEUE_IPV4 / LIBIPQ_QUEUE_IPV6) in the
 * environment to use another queue number.
 *
 * It declares what the original libipq.h declared and includes what it
 * included, nothing more: the error code ipq_errno is a global of the
 * library that programs declare themselves (extern int ipq_errno;), as
 * they always did.
 *
 * The man pages libipq(3), ipq_create_handle(3), ipq_read(3), ... describe
 * every function; README.md next to the library lists the differences.
 */
#ifndef _LIBIPQ_H
#define _LIBIPQ_H

/* The same system headers the original pulled in: legacy programs rely on
 * them for errno, u_int32_t, the netlink macros and struct sockaddr_nl. */
#include <errno.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <asm/types.h>
#include <linux/netlink.h>

/* the original's <linux/netfilter_ipv4/ip_queue.h>, which kernel headers
 * no longer ship */
#include "ip_queue.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef unsigned long ipq_id_t;

#ifndef MSG_TRUNC
#define MSG_TRUNC 0x20
#endif

/*
 * A handle. Callers treat it as opaque except for fd, the netlink socket:
 * select()/poll() report it readable when a message waits for ipq_read.
 * The library allocates more than this; never copy or allocate one.
 */
struct ipq_handle {
	int fd;
	u_int8_t blocking;
	struct sockaddr_nl local;
	struct sockaddr_nl peer;
};

struct ipq_handle *ipq_create_handle(u_int32_t flags, u_int32_t protocol);

int ipq_destroy_handle(struct ipq_handle *h);

ssize_t ipq_read(const struct ipq_handle *h,
		 unsigned char *buf, size_t len, int timeout);

int ipq_set_mode(const struct ipq_handle *h, u_int8_t mode, size_t len);

ipq_packet_msg_t *ipq_get_packet(const unsigned char *buf);

int ipq_message_type(const unsigned char *buf);

int ipq_get_msgerr(const unsigned char *buf);

int ipq_set_verdict(const struct ipq_handle *h,
		    ipq_id_t id,
		    unsigned int verdict,
		    size_t data_len,
		    unsigned char *buf);

int ipq_ctl(const struct ipq_handle *h, int request, ...);

char *ipq_errstr(void);

void ipq_perror(const char *s);

#ifdef __cplusplus
}
#endif

#endif /* _LIBIPQ_H */
