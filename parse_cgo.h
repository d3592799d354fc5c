/* The packet message parser: the datagrams the kernel sends a queue in,
 * the packets they carry out, as struct nfqgo_packet values that Go turns
 * into Packets (onPacket in receive.go). It needs no socket and no queue,
 * only the bytes, so tests and fuzzers reach it without the kernel
 * (parse_test.go, parse_fuzz_test.go). */
#ifndef NFQ_PARSE_CGO_H
#define NFQ_PARSE_CGO_H

#include <stdint.h>
#include <stddef.h>

/* Attribute presence bits; they match the Attr constants in packet.go. */
#define NFQGO_ATTR_MARK        (1u << 0)
#define NFQGO_ATTR_TIMESTAMP   (1u << 1)
#define NFQGO_ATTR_INDEV       (1u << 2)
#define NFQGO_ATTR_OUTDEV      (1u << 3)
#define NFQGO_ATTR_PHYSINDEV   (1u << 4)
#define NFQGO_ATTR_PHYSOUTDEV  (1u << 5)
#define NFQGO_ATTR_HWADDR      (1u << 6)
#define NFQGO_ATTR_PAYLOAD     (1u << 7)
#define NFQGO_ATTR_CAPLEN      (1u << 8)
#define NFQGO_ATTR_SKBINFO     (1u << 9)
#define NFQGO_ATTR_UID         (1u << 10)
#define NFQGO_ATTR_GID         (1u << 11)
#define NFQGO_ATTR_SECCTX      (1u << 12)
#define NFQGO_ATTR_CT          (1u << 13)
#define NFQGO_ATTR_CT_INFO     (1u << 14)
#define NFQGO_ATTR_CT_ID       (1u << 15)
#define NFQGO_ATTR_CT_MARK     (1u << 16)
#define NFQGO_ATTR_CT_STATUS   (1u << 17)
#define NFQGO_ATTR_CT_ZONE     (1u << 18)
#define NFQGO_ATTR_VLAN        (1u << 19)
#define NFQGO_ATTR_L2HDR       (1u << 20)
#define NFQGO_ATTR_PRIORITY    (1u << 21)

/* One parsed packet message, handed to Go by nfqgoPackets with the others of
 * its receive batch. Pointers point into the message (the receive buffer)
 * and are valid only during that call. Numbers are in host order. */
struct nfqgo_packet {
	uint32_t attrs;
	uint32_t id;
	uint16_t hw_protocol;
	uint8_t hook;
	uint8_t hwaddr_len;
	uint32_t mark;
	int64_t ts_sec;
	int64_t ts_usec;
	uint32_t indev, outdev, physindev, physoutdev;
	uint8_t hwaddr[8];
	uint32_t skbinfo;
	uint32_t cap_len;
	uint32_t uid, gid;
	const unsigned char *payload;
	uint32_t payload_len;
	uint32_t secctx_len;
	const char *secctx;
	/* conntrack (NFQA_CT nest, NFQA_CT_INFO), VLAN tag, L2 header and
	 * skb->priority */
	uint32_t ct_info, ct_id, ct_mark, ct_status;
	uint16_t ct_zone;
	uint16_t vlan_proto, vlan_tci;
	uint32_t priority;
	const unsigned char *l2hdr;
	uint32_t l2hdr_len;
};

/* How many parsed packets wait for Go at most: a delivery per receive
 * batch, or more for a batch that carries more. */
#define NFQGO_BATCH_MAX 64

/* Parsed packets not yet handed to Go. They point into the datagrams they
 * came from, so they go before a buffer is read into again. */
struct nfqgo_batch {
	uintptr_t handle; /* the queue's runtime/cgo.Handle, for nfqgoPackets */
	int n;
	struct nfqgo_packet pkts[NFQGO_BATCH_MAX];
};

/* nfqgo_parse_datagram walks the netlink messages of one datagram of len
 * bytes from the kernel. Each packet message is parsed into b (delivered
 * when it fills); one without a packet header names nothing to give a
 * verdict to and is left out. The walk ends at the first message whose
 * length does not fit the datagram. An answer to
 * configuration request seq (0: none awaited) sets *acked and its error (0
 * or -errno) in *ack; the first other error message (the answer to an
 * earlier verdict) is returned as -errno, or 0. */
int nfqgo_parse_datagram(struct nfqgo_batch *b, const char *buf, size_t len, uint32_t seq,
			 int *acked, int *ack);

/* nfqgo_deliver hands b's packets to Go in one call (nfqgoPackets,
 * callback.go) and empties b. */
void nfqgo_deliver(struct nfqgo_batch *b);

#endif
