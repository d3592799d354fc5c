/* C side of the packet rewrite helpers (rewrite.go): thin wrappers over
 * libnetfilter_queue's pkt_buff and its IPv4/IPv6/TCP/UDP helpers, which do
 * the mangling, the length updates and the checksums. Go passes its own
 * byte slices for the duration of a call; C keeps no pointer afterwards. */
#ifndef NFQ_REWRITE_CGO_H
#define NFQ_REWRITE_CGO_H

#include <stdint.h>

/* Failures, as negative return values. */
#define NFQGO_RW_NOMEM     (-1) /* pktb_alloc failed */
#define NFQGO_RW_BADHDR    (-2) /* the library refused the IP header */
#define NFQGO_RW_NOTRANS   (-3) /* the library found no transport header */
#define NFQGO_RW_DISAGREE  (-4) /* the library's transport offset differs from Go's */
#define NFQGO_RW_MANGLE    (-5) /* the library's mangle failed */
#define NFQGO_RW_SHORTOUT  (-6) /* the result does not fit the output buffer */

/* nfqgo_rw_mangle copies the IP packet pkt[0:len] into a pkt_buff, replaces
 * n bytes at offset off of its TCP or UDP payload (proto 6 or 17) by
 * rep[0:rep_len] with the library's nfq_{tcp,udp}_mangle_ipv{4,6}, and
 * copies the result to out. toff is where Go found the transport header
 * (behind any IPv6 extension headers); the library must agree. A UDP/IPv4 packet sent without a checksum (0)
 * keeps none; a computed UDP checksum of 0 is sent as 0xffff. Returns the
 * new length, or one of the NFQGO_RW_* failures. */
int nfqgo_rw_mangle(uint8_t version, uint8_t proto, const void *pkt, uint32_t len,
		    uint32_t toff, uint32_t off, uint32_t n, const void *rep, uint32_t rep_len,
		    void *out, uint32_t out_cap);

/* nfqgo_rw_fix recomputes, in place, the IPv4 header checksum (version 4)
 * and the TCP or UDP checksum of the IP packet pkt[0:len] whose transport
 * header starts at toff, with the library's nfq_ip_set_checksum and
 * nfq_{tcp,udp}_compute_checksum_ipv{4,6}. UDP checksum 0 is handled as in
 * nfqgo_rw_mangle. Returns 0. */
int nfqgo_rw_fix(uint8_t version, uint8_t proto, void *pkt, uint32_t len, uint32_t toff);

#endif
