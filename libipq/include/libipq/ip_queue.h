/*
 * ip_queue.h - the message types of the Linux ip_queue netlink protocol,
 * which libipq programs use directly.
 *
 * Linux 3.5 removed ip_queue and, with it, <linux/netfilter_ipv4/ip_queue.h>.
 * nfq's libipq runs those programs on NFQUEUE and ships the types itself.
 * The layout is the kernel's, byte for byte (LP64: sizeof(ipq_packet_msg_t)
 * is 96, the payload follows at offset 96).
 *
 * The include guard is the one the kernel header used, so a system that
 * still has the old header never sees the types twice.
 */
#ifndef _IP_QUEUE_H
#define _IP_QUEUE_H

#include <stddef.h>
#include <net/if.h>		/* IFNAMSIZ */
#include <linux/types.h>	/* __be16 */

/* A packet handed to userspace (message type IPQM_PACKET). */
typedef struct ipq_packet_msg {
	unsigned long packet_id;	/* id to pass to ipq_set_verdict */
	unsigned long mark;		/* packet mark */
	long timestamp_sec;		/* arrival time, seconds */
	long timestamp_usec;		/* and microseconds */
	unsigned int hook;		/* netfilter hook, NF_INET_* */
	char indev_name[IFNAMSIZ];	/* input interface, "" if none */
	char outdev_name[IFNAMSIZ];	/* output interface, "" if none */
	__be16 hw_protocol;		/* EtherType, network byte order */
	unsigned short hw_type;		/* ARPHRD_* of the input interface */
	unsigned char hw_addrlen;	/* valid bytes in hw_addr */
	unsigned char hw_addr[8];	/* source hardware address */
	size_t data_len;		/* bytes of payload that follow */
	unsigned char payload[0];	/* the packet from its IP header */
} ipq_packet_msg_t;

/* Copy mode request (IPQM_MODE). */
typedef struct ipq_mode_msg {
	unsigned char value;		/* IPQ_COPY_* */
	size_t range;			/* payload bytes to copy, 0 = all */
} ipq_mode_msg_t;

/* Verdict (IPQM_VERDICT), optionally with a replacement packet. */
typedef struct ipq_verdict_msg {
	unsigned int value;		/* NF_* verdict */
	unsigned long id;		/* packet_id of the packet */
	size_t data_len;		/* bytes of replacement payload */
	unsigned char payload[0];	/* the replacement packet */
} ipq_verdict_msg_t;

/* What userspace sends. */
typedef struct ipq_peer_msg {
	union {
		ipq_verdict_msg_t verdict;
		ipq_mode_msg_t mode;
	} msg;
} ipq_peer_msg_t;

/* Copy modes. */
enum {
	IPQ_COPY_NONE,		/* no packets: the queue drops them */
	IPQ_COPY_META,		/* metadata only */
	IPQ_COPY_PACKET		/* metadata and payload */
};
#define IPQ_COPY_MAX IPQ_COPY_PACKET

/* Message types. */
#define IPQM_BASE	0x10
#define IPQM_MODE	(IPQM_BASE + 1)	/* userspace: set the copy mode */
#define IPQM_VERDICT	(IPQM_BASE + 2)	/* userspace: verdict on a packet */
#define IPQM_PACKET	(IPQM_BASE + 3)	/* kernel: a queued packet */
#define IPQM_MAX	(IPQM_BASE + 4)

#endif /* _IP_QUEUE_H */
