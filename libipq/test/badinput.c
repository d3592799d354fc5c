/*
 * badinput - libipq calls with bad arguments, as buggy legacy programs make
 * them: the original library read into the caller's buffer with recvfrom
 * and sent from it with sendmsg, so a bad pointer or a length past the
 * mapped memory was -1 with EFAULT, never a crash. Prints one line per
 * call; expects the test to send the nine UDP datagrams p1..p9 to the
 * queue once it printed "ready".
 */
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <libipq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

extern int ipq_errno;

static long page;

static void report(const char *what, long ret)
{
	printf("%s ret=%ld err=%s errno=%d\n", what, ret, ret < 0 ? ipq_errstr() : "-", ret < 0 ? errno : 0);
	fflush(stdout);
}

/* guarded returns a page followed by an inaccessible one. */
static unsigned char *guarded(void)
{
	unsigned char *p = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || mprotect(p + page, page, PROT_NONE) < 0) {
		perror("mmap");
		exit(1);
	}
	return p;
}

/* rewrite puts the copy of a UDP datagram's packet in dst with the last
 * payload byte but one upper-cased and the UDP checksum cleared (0: none). */
static void rewrite(unsigned char *dst, const ipq_packet_msg_t *m)
{
	size_t udp = (size_t)(m->payload[0] & 0x0f) * 4;

	memcpy(dst, m->payload, m->data_len);
	dst[udp + 6] = dst[udp + 7] = 0;
	dst[m->data_len - 2] = 'P';
}

/* next reads the next packet into a good buffer. */
static ipq_packet_msg_t *next(struct ipq_handle *h, unsigned char *buf, size_t len)
{
	ssize_t n = ipq_read(h, buf, len, 5000000);

	if (n <= 0 || ipq_message_type(buf) != IPQM_PACKET) {
		report("next", n);
		ipq_perror("badinput");
		exit(1);
	}
	return ipq_get_packet(buf);
}

int main(void)
{
	unsigned char buf[4096], *ro, *edge, copy[16];
	struct ipq_handle *h;
	ipq_packet_msg_t *m;
	unsigned long id;
	int i;

	page = sysconf(_SC_PAGESIZE);
	report("null-read", ipq_read(NULL, buf, sizeof(buf), 0));
	report("null-mode", ipq_set_mode(NULL, IPQ_COPY_PACKET, 0));
	report("null-verdict", ipq_set_verdict(NULL, 1, NF_ACCEPT, 0, NULL));
	report("null-destroy", ipq_destroy_handle(NULL));
	report("null-ctl", ipq_ctl(NULL, 0));

	h = ipq_create_handle(0, PF_INET);
	if (h == NULL || ipq_set_mode(h, IPQ_COPY_PACKET, 0) < 0) {
		ipq_perror("badinput");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);

	/* p1..p4: messages the buffer cannot take are lost, as with
	 * ip_queue; their packets wait in the kernel for a verdict */
	ro = mmap(NULL, page, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	report("read-only-buffer", ipq_read(h, ro, page, 0));
	report("null-buffer", ipq_read(h, NULL, sizeof(buf), 0));
	edge = guarded();
	/* the NFQUEUE message fits, ip_queue's larger one would not */
	report("length-past-mapping", ipq_read(h, edge + page - 100, 4096, 0));
	/* the kernel's own write crosses the end */
	report("length-past-mapping-early", ipq_read(h, edge + page - 40, 4096, 0));
	/* p5: a length past the mapping is fine while the message fits */
	report("length-past-mapping-fits", ipq_read(h, edge + page - 300, 4096, 0));
	m = ipq_get_packet(edge + page - 300);
	id = m->packet_id;
	printf("fits payload=%.*s\n", 2, (char *)m->payload + m->data_len - 2);
	report("accept-p5", ipq_set_verdict(h, id, NF_ACCEPT, 0, NULL));
	for (i = 1; i <= 4; i++) /* ids count up: p1..p4 are id-4..id-1 */
		report("accept-lost", ipq_set_verdict(h, id - (unsigned long)i, NF_ACCEPT, 0, NULL));

	/* p6: a read-only replacement is fine, the kernel only reads it */
	m = next(h, buf, sizeof(buf));
	rewrite(edge, m);
	mprotect(edge, page, PROT_READ);
	report("read-only-payload", ipq_set_verdict(h, m->packet_id, NF_ACCEPT, m->data_len, edge));
	mprotect(edge, page, PROT_READ | PROT_WRITE);

	/* p7: data_len past the mapping: EFAULT, and the packet still waits */
	m = next(h, buf, sizeof(buf));
	memcpy(edge + page - 10, m->payload, 10);
	report("payload-past-mapping", ipq_set_verdict(h, m->packet_id, NF_ACCEPT, m->data_len, edge + page - 10));
	report("null-payload", ipq_set_verdict(h, m->packet_id, NF_ACCEPT, m->data_len, NULL));

	/* p8: a replacement shorter than an IP header leaves the packet as
	 * it was */
	m = next(h, buf, sizeof(buf));
	memset(copy, 'x', 10);
	report("short-payload", ipq_set_verdict(h, m->packet_id, NF_ACCEPT, 10, copy));

	/* p9: NF_STOLEN is refused, as ip_queue refused bad verdicts */
	m = next(h, buf, sizeof(buf));
	id = m->packet_id;
	report("stolen", ipq_set_verdict(h, id, NF_STOLEN, 0, NULL));
	i = (int)ipq_read(h, buf, sizeof(buf), 2000000);
	printf("stolen-answer ret=%d type=%d msgerr=%d\n", i, ipq_message_type(buf), ipq_get_msgerr(buf));
	report("drop-p9", ipq_set_verdict(h, id, NF_DROP, 0, NULL));

	/* the program closed h->fd under the library */
	close(h->fd);
	report("closed-fd-poll", ipq_read(h, buf, sizeof(buf), -1));
	report("closed-fd-read", ipq_read(h, buf, sizeof(buf), 0));
	report("closed-fd-mode", ipq_set_mode(h, IPQ_COPY_META, 0));
	report("closed-fd-verdict", ipq_set_verdict(h, 1, NF_ACCEPT, 0, NULL));
	report("closed-fd-destroy", ipq_destroy_handle(h));
	ipq_errno = 0;
	report("second-destroy", ipq_destroy_handle(h));
	printf("ipq_errno=%d\n", ipq_errno);
	return 0;
}
