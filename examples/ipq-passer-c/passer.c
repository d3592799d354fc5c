/*
 * passer - the example program of the libipq(3) man page: it takes the
 * packets that `iptables -j QUEUE` sends to userspace and accepts each one.
 * It is plain legacy libipq code; with nfq's libipq it runs on NFQUEUE
 * without a change:
 *
 *   cc passer.c -I$PREFIX/include -L$PREFIX/lib -lipq -o passer
 *   iptables-legacy -A OUTPUT -p icmp -j QUEUE
 *   ./passer          (./passer -6 takes IPv6 packets, for ip6tables)
 *
 * Stop it and the queued traffic is dropped: nobody listens on queue 0.
 */
#include <linux/netfilter.h>
#include <libipq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUFSIZE 2048

static void die(struct ipq_handle *h)
{
	ipq_perror("passer");
	ipq_destroy_handle(h);
	exit(1);
}

int main(int argc, char **argv)
{
	unsigned char buf[BUFSIZE];
	struct ipq_handle *h;
	int status;
	int pf = PF_INET;

	if (argc > 1 && strcmp(argv[1], "-6") == 0)
		pf = PF_INET6;

	h = ipq_create_handle(0, pf);
	if (!h)
		die(h);

	status = ipq_set_mode(h, IPQ_COPY_PACKET, BUFSIZE);
	if (status < 0)
		die(h);

	for (;;) {
		status = ipq_read(h, buf, BUFSIZE, 0);
		if (status < 0)
			die(h);

		switch (ipq_message_type(buf)) {
		case NLMSG_ERROR:
			fprintf(stderr, "Received error message %d\n", ipq_get_msgerr(buf));
			break;

		case IPQM_PACKET: {
			ipq_packet_msg_t *m = ipq_get_packet(buf);

			status = ipq_set_verdict(h, m->packet_id, NF_ACCEPT, 0, NULL);
			if (status < 0)
				die(h);
			break;
		}

		default:
			fprintf(stderr, "Unknown message type!\n");
			break;
		}
	}

	ipq_destroy_handle(h);
	return 0;
}
