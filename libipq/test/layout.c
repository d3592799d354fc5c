/* Checks from C that the installed headers give the libipq ABI: the offsets
 * and sizes of the contract (LP64) and the constant values. Exits 0 when
 * everything matches, 1 after printing each mismatch. */
#include <stdio.h>
#include <stddef.h>
#include <linux/netfilter.h>
#include <libipq.h>
#include <libipq/libipq.h>
#include <linux/netfilter_ipv4/ip_queue.h>

static int bad;

static void check(const char *what, long got, long want)
{
	if (got != want) {
		printf("%s = %ld, want %ld\n", what, got, want);
		bad = 1;
	}
}

#define OFF(T, f, want) check("offsetof(" #T ", " #f ")", (long)offsetof(T, f), want)
#define SIZE(T, want) check("sizeof(" #T ")", (long)sizeof(T), want)
#define VAL(x, want) check(#x, (long)(x), want)

int main(void)
{
	OFF(ipq_packet_msg_t, packet_id, 0);
	OFF(ipq_packet_msg_t, mark, 8);
	OFF(ipq_packet_msg_t, timestamp_sec, 16);
	OFF(ipq_packet_msg_t, timestamp_usec, 24);
	OFF(ipq_packet_msg_t, hook, 32);
	OFF(ipq_packet_msg_t, indev_name, 36);
	OFF(ipq_packet_msg_t, outdev_name, 52);
	OFF(ipq_packet_msg_t, hw_protocol, 68);
	OFF(ipq_packet_msg_t, hw_type, 70);
	OFF(ipq_packet_msg_t, hw_addrlen, 72);
	OFF(ipq_packet_msg_t, hw_addr, 73);
	OFF(ipq_packet_msg_t, data_len, 88);
	OFF(ipq_packet_msg_t, payload, 96);
	SIZE(ipq_packet_msg_t, 96);
	SIZE(((ipq_packet_msg_t *)0)->indev_name, 16);
	SIZE(((ipq_packet_msg_t *)0)->hw_addr, 8);

	OFF(ipq_mode_msg_t, value, 0);
	OFF(ipq_mode_msg_t, range, 8);
	SIZE(ipq_mode_msg_t, 16);
	OFF(ipq_verdict_msg_t, value, 0);
	OFF(ipq_verdict_msg_t, id, 8);
	OFF(ipq_verdict_msg_t, data_len, 16);
	OFF(ipq_verdict_msg_t, payload, 24);
	SIZE(ipq_verdict_msg_t, 24);
	SIZE(ipq_peer_msg_t, 24);
	SIZE(ipq_id_t, 8);

	OFF(struct ipq_handle, fd, 0);
	SIZE(struct nlmsghdr, 16);
	SIZE(struct nlmsgerr, 20);

	VAL(IPQ_COPY_NONE, 0);
	VAL(IPQ_COPY_META, 1);
	VAL(IPQ_COPY_PACKET, 2);
	VAL(IPQ_COPY_MAX, 2);
	VAL(IPQM_BASE, 0x10);
	VAL(IPQM_MODE, 0x11);
	VAL(IPQM_VERDICT, 0x12);
	VAL(IPQM_PACKET, 0x13);
	VAL(IPQM_MAX, 0x14);
	VAL(NFPROTO_IPV4, 2);
	VAL(NFPROTO_IPV6, 10);

	if (!bad)
		printf("layout ok\n");
	return bad;
}
