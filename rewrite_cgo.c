// C glue for the packet rewrite helpers; see rewrite_cgo.h.
#include "rewrite_cgo.h"

/* pktbuff.h and the protocol helper headers use these types and structs
 * without including their headers. */
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>
#include <netinet/udp.h>
#include <libnetfilter_queue/pktbuff.h>
#include <libnetfilter_queue/libnetfilter_queue_ipv4.h>
#include <libnetfilter_queue/libnetfilter_queue_ipv6.h>
#include <libnetfilter_queue/libnetfilter_queue_tcp.h>
#include <libnetfilter_queue/libnetfilter_queue_udp.h>

/* set_transport points pb's transport header with the library's own
 * helpers (nfq_ip6_set_transport_header walks the extension headers) and
 * checks that it found the header where Go did. */
static int set_transport(struct pkt_buff *pb, uint8_t version, uint8_t proto, uint32_t toff)
{
	if (version == 4) {
		struct iphdr *iph = nfq_ip_get_hdr(pb);
		if (!iph)
			return NFQGO_RW_BADHDR;
		if (nfq_ip_set_transport_header(pb, iph) < 0)
			return NFQGO_RW_NOTRANS;
	} else {
		struct ip6_hdr *ip6h = nfq_ip6_get_hdr(pb);
		if (!ip6h)
			return NFQGO_RW_BADHDR;
		if (toff == sizeof(struct ip6_hdr)) {
			if (!nfq_ip6_set_transport_header(pb, ip6h, proto))
				return NFQGO_RW_NOTRANS;
		} else {
			/* libnetfilter_queue 1.0.5's walk takes an extension
			 * header's length byte as a byte count (it is in 8-byte
			 * units, less one) and loops forever on a 0, which every
			 * 8-byte hop-by-hop header has. Go walked the chain
			 * already: start the library's walk 40 bytes before the
			 * transport header, with that spot's next-header byte
			 * saying "here", so it stops at once. */
			uint8_t *start = pktb_network_header(pb) + toff - sizeof(struct ip6_hdr);
			uint8_t *nxt = start + offsetof(struct ip6_hdr, ip6_nxt);
			uint8_t saved = *nxt;
			*nxt = proto;
			int ok = nfq_ip6_set_transport_header(pb, (struct ip6_hdr *)start, proto);
			*nxt = saved;
			if (!ok)
				return NFQGO_RW_NOTRANS;
		}
	}
	if (pktb_transport_header(pb) - pktb_network_header(pb) != (ptrdiff_t)toff)
		return NFQGO_RW_DISAGREE;
	if (proto == IPPROTO_TCP ? !nfq_tcp_get_hdr(pb) : !nfq_udp_get_hdr(pb))
		return NFQGO_RW_NOTRANS;
	return 0;
}

/* udp_zero applies the UDP rules for checksum 0: over IPv4 it means "no
 * checksum", so a datagram sent without one keeps none; a computed sum of 0
 * is sent as its ones' complement equal 0xffff (RFC 768, RFC 8200 8.1). */
static void udp_zero(struct udphdr *udph, bool keep_none)
{
	if (keep_none)
		udph->check = 0;
	else if (udph->check == 0)
		udph->check = 0xffff;
}

int nfqgo_rw_mangle(uint8_t version, uint8_t proto, const void *pkt, uint32_t len,
		    uint32_t toff, uint32_t off, uint32_t n, const void *rep, uint32_t rep_len,
		    void *out, uint32_t out_cap)
{
	size_t extra = rep_len > n ? rep_len - n : 0;
	struct pkt_buff *pb = pktb_alloc(version == 4 ? AF_INET : AF_INET6, (void *)pkt, len, extra);
	if (!pb)
		return NFQGO_RW_NOMEM;
	int ret = set_transport(pb, version, proto, toff);
	if (ret)
		goto out;

	int ok;
	if (proto == IPPROTO_TCP) {
		ok = version == 4 ? nfq_tcp_mangle_ipv4(pb, off, n, rep, rep_len)
				  : nfq_tcp_mangle_ipv6(pb, off, n, rep, rep_len);
	} else {
		struct udphdr *udph = nfq_udp_get_hdr(pb);
		bool keep_none = version == 4 && udph->check == 0;
		ok = version == 4 ? nfq_udp_mangle_ipv4(pb, off, n, rep, rep_len)
				  : nfq_udp_mangle_ipv6(pb, off, n, rep, rep_len);
		if (ok)
			udp_zero(udph, keep_none);
	}
	if (!ok) {
		ret = NFQGO_RW_MANGLE;
		goto out;
	}
	uint32_t l = pktb_len(pb);
	if (l > out_cap) {
		ret = NFQGO_RW_SHORTOUT;
		goto out;
	}
	memcpy(out, pktb_data(pb), l);
	ret = (int)l;
out:
	pktb_free(pb);
	return ret;
}

int nfqgo_rw_fix(uint8_t version, uint8_t proto, void *pkt, uint32_t len, uint32_t toff)
{
	(void)len; /* Go checked that the headers' lengths fit len */
	uint8_t *th = (uint8_t *)pkt + toff;
	if (version == 4) {
		struct iphdr *iph = pkt;
		nfq_ip_set_checksum(iph);
		if (proto == IPPROTO_TCP) {
			nfq_tcp_compute_checksum_ipv4((struct tcphdr *)th, iph);
		} else {
			struct udphdr *udph = (struct udphdr *)th;
			bool keep_none = udph->check == 0;
			nfq_udp_compute_checksum_ipv4(udph, iph);
			udp_zero(udph, keep_none);
		}
		return 0;
	}
	struct ip6_hdr *ip6h = pkt;
	if (proto == IPPROTO_TCP) {
		nfq_tcp_compute_checksum_ipv6((struct tcphdr *)th, ip6h);
	} else {
		struct udphdr *udph = (struct udphdr *)th;
		nfq_udp_compute_checksum_ipv6(udph, ip6h);
		udp_zero(udph, false);
	}
	return 0;
}
