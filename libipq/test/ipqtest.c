/*
 * ipqtest - drives libipq through the scenarios of nfq's libipq tests
 * (ipq_clib_test.go) and prints what it saw as key=value lines. Built
 * against the installed library exactly like a legacy program.
 *
 *   ipqtest errors               error strings and ipq_perror (stderr)
 *   ipqtest calls                every call and error path on queue 0
 *   ipqtest recv PF MODE RANGE BUFSIZE COUNT ACTION
 *                                read COUNT messages and answer each with
 *                                ACTION: accept, drop or rewrite
 *   ipqtest share COUNT          a thread blocks reading an IPv4 handle
 *                                while the main thread opens an IPv6 one on
 *                                the same queue and reads it; the thread
 *                                accepts COUNT packets, the main thread one
 */
/* glibc's netinet headers before the kernel's, or their types clash */
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/udp.h>
#include <linux/netfilter.h>
#include <libipq.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>

/* libipq.h never declared the error code or its values: programs that
 * look at them declare them, as they always did. */
extern int ipq_errno;
enum { IPQ_ERR_RTRUNC = 10, IPQ_ERR_TIMEOUT = 15 };

static int fd_ready(const struct ipq_handle *h)
{
	fd_set r;
	struct timeval tv = { 0, 0 };

	FD_ZERO(&r);
	FD_SET(h->fd, &r);
	return select(h->fd + 1, &r, NULL, NULL, &tv) == 1 && FD_ISSET(h->fd, &r);
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

static int errors(void)
{
	int code;

	for (code = -1; code <= 17; code++) {
		ipq_errno = code;
		printf("code=%d str=%s\n", code, ipq_errstr());
	}
	/* ipq_perror in every combination; the test compares stderr */
	errno = 0;
	ipq_errno = 0;
	ipq_perror(NULL);
	ipq_perror("s");
	ipq_errno = IPQ_ERR_TIMEOUT;
	ipq_perror("passer");
	errno = EBUSY;
	ipq_perror("passer");
	printf("errno-after=%d\n", errno);
	ipq_errno = 99;
	errno = 0;
	ipq_perror(NULL);
	ipq_errno = 0;
	errno = EPERM;
	ipq_perror("x");
	errno = 0;
	if (ipq_create_handle(0, 99) == NULL)
		ipq_perror("create");
	printf("ipq_errno=%d\n", ipq_errno);
	return 0;
}

static void on_alarm(int sig)
{
	(void)sig;
}

static int calls(void)
{
	unsigned char buf[256];
	struct ipq_handle *h, *h2, *h6;
	struct timespec t0;
	struct sigaction sa;
	struct itimerval it = { { 0, 0 }, { 0, 100000 } };
	ssize_t n;

	h = ipq_create_handle(0, 99);
	printf("badproto null=%d err=%s\n", h == NULL, ipq_errstr());

	h = ipq_create_handle(0, PF_INET);
	if (h == NULL) {
		ipq_perror("create");
		return 1;
	}
	printf("create fd=%d\n", h->fd >= 0);
	printf("ctl=%d\n", ipq_ctl(h, 0));
	printf("setmode ret=%d\n", ipq_set_mode(h, IPQ_COPY_META, 0));

	n = ipq_read(h, buf, 19, -1);
	printf("recvbuf ret=%zd err=%s\n", n, ipq_errstr());

	ipq_errno = 0;
	n = ipq_read(h, buf, sizeof(buf), -1);
	printf("poll ret=%zd err=%s\n", n, ipq_errstr());

	ipq_errno = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	n = ipq_read(h, buf, sizeof(buf), 200000);
	printf("timeout ret=%zd err=%s ms=%ld\n", n, ipq_errstr(), ms_since(&t0));
	printf("fdready=%d\n", fd_ready(h));

	/* refused requests come back as NLMSG_ERROR, as ip_queue acked them */
	printf("verdict-unknown ret=%d\n", ipq_set_verdict(h, 4242, NF_ACCEPT, 0, NULL));
	printf("fdready=%d\n", fd_ready(h));
	n = ipq_read(h, buf, sizeof(buf), 0);
	printf("msg ret=%zd type=%d msgerr=%d\n", n, ipq_message_type(buf), ipq_get_msgerr(buf));
	printf("fdready=%d\n", fd_ready(h));
	printf("badmode ret=%d\n", ipq_set_mode(h, 7, 0));
	n = ipq_read(h, buf, sizeof(buf), 0);
	printf("msg ret=%zd type=%d msgerr=%d\n", n, ipq_message_type(buf), ipq_get_msgerr(buf));

	errno = 0;
	h2 = ipq_create_handle(0, PF_INET);
	printf("second null=%d err=%s errno=%d\n", h2 == NULL, ipq_errstr(), errno);
	h6 = ipq_create_handle(0, PF_INET6);
	printf("ipv6 ok=%d\n", h6 != NULL);
	printf("destroy6=%d\n", ipq_destroy_handle(h6));

	/* a signal interrupts a blocking read: 0, errno EINTR */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	errno = 0;
	n = ipq_read(h, buf, sizeof(buf), 0);
	printf("eintr ret=%zd errno=%d\n", n, errno);

	printf("destroynull=%d\n", ipq_destroy_handle(NULL));
	printf("destroy=%d\n", ipq_destroy_handle(h));
	return 0;
}

/* rewrite upper-cases an IPv4 UDP payload in place; the UDP checksum
 * becomes 0 (none), the IP header is unchanged. */
static void rewrite(unsigned char *p, size_t len)
{
	struct iphdr *ip = (struct iphdr *)p;
	struct udphdr *udp;
	size_t i, off;

	if (len < sizeof(*ip) || ip->version != 4 || ip->protocol != IPPROTO_UDP)
		return;
	off = ip->ihl * 4;
	udp = (struct udphdr *)(p + off);
	udp->check = 0;
	for (i = off + sizeof(*udp); i < len; i++)
		if (p[i] >= 'a' && p[i] <= 'z')
			p[i] -= 'a' - 'A';
}

static int recv_packets(int argc, char **argv)
{
	int pf, mode, count, i;
	size_t range, bufsize;
	const char *action;
	unsigned char *buf;
	struct ipq_handle *h;

	if (argc != 8) {
		fprintf(stderr, "usage: ipqtest recv 4|6 MODE RANGE BUFSIZE COUNT ACTION\n");
		return 2;
	}
	pf = atoi(argv[2]) == 6 ? PF_INET6 : PF_INET;
	mode = atoi(argv[3]);
	range = strtoul(argv[4], NULL, 10);
	bufsize = strtoul(argv[5], NULL, 10);
	count = atoi(argv[6]);
	action = argv[7];
	buf = malloc(bufsize + 8);

	h = ipq_create_handle(0, pf);
	if (h == NULL || ipq_set_mode(h, mode, range) < 0) {
		ipq_perror("ipqtest");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (i = 0; i < count; i++) {
		ipq_packet_msg_t *m;
		ssize_t n;
		size_t j;

		memset(buf, 0xAA, bufsize + 8);
		n = ipq_read(h, buf, bufsize, 5000000);
		if (n < 0 && ipq_errno == IPQ_ERR_RTRUNC) {
			m = ipq_get_packet(buf);
			/* only the bytes that fit were written; the id's low half
			 * is at offset 16 in every message */
			printf("ret=%zd err=%s nlmsg_len=%u id=%lu verdict=%d\n", n, ipq_errstr(),
			       ((struct nlmsghdr *)buf)->nlmsg_len,
			       bufsize >= 24 ? m->packet_id : (unsigned long)*(unsigned int *)m,
			       ipq_set_verdict(h, bufsize >= 24 ? m->packet_id : *(unsigned int *)m,
					       NF_DROP, 0, NULL));
			fflush(stdout);
			continue;
		}
		if (n <= 0) {
			printf("ret=%zd err=%s\n", n, ipq_errstr());
			fflush(stdout);
			continue;
		}
		if (ipq_message_type(buf) != IPQM_PACKET) {
			printf("ret=%zd type=%d msgerr=%d\n", n, ipq_message_type(buf), ipq_get_msgerr(buf));
			fflush(stdout);
			continue;
		}
		m = ipq_get_packet(buf);
		printf("ret=%zd type=%d id=%lu mark=%lu hook=%u indev=%s outdev=%s proto=0x%04x hwtype=%u "
		       "hwaddrlen=%u data_len=%zu ts=%ld.%06ld payload=",
		       n, ipq_message_type(buf), m->packet_id, m->mark, m->hook, m->indev_name,
		       m->outdev_name, ntohs(m->hw_protocol), m->hw_type, m->hw_addrlen, m->data_len,
		       m->timestamp_sec, m->timestamp_usec);
		for (j = 0; j < m->data_len; j++)
			printf("%02x", m->payload[j]);
		if (strcmp(action, "rewrite") == 0) {
			rewrite(m->payload, m->data_len);
			printf(" verdict=%d\n", ipq_set_verdict(h, m->packet_id, NF_ACCEPT, m->data_len, m->payload));
		} else {
			printf(" verdict=%d\n", ipq_set_verdict(h, m->packet_id,
				strcmp(action, "drop") == 0 ? NF_DROP : NF_ACCEPT, 0, NULL));
		}
		fflush(stdout);
	}
	ipq_destroy_handle(h);
	free(buf);
	return 0;
}

struct share {
	struct ipq_handle *h;
	int count, passed;
	volatile long tid;
};

/* syscall_of is the system call thread tid is in, -1 if unknown. */
static long syscall_of(long tid)
{
	char path[64];
	long nr = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%ld/syscall", tid);
	f = fopen(path, "r");
	if (f != NULL) {
		if (fscanf(f, "%ld", &nr) != 1)
			nr = -1;
		fclose(f);
	}
	return nr;
}

static void *share_reader(void *arg)
{
	struct share *s = arg;
	unsigned char buf[2048];

	s->tid = syscall(SYS_gettid);
	while (s->passed < s->count) {
		ssize_t n = ipq_read(s->h, buf, sizeof(buf), 0);

		if (n < 0) {
			ipq_perror("reader");
			break;
		}
		if (n > 0 && ipq_message_type(buf) == IPQM_PACKET) {
			ipq_packet_msg_t *m = ipq_get_packet(buf);

			if (ntohs(m->hw_protocol) == 0x0800 &&
			    ipq_set_verdict(s->h, m->packet_id, NF_ACCEPT, 0, NULL) > 0)
				s->passed++;
		}
	}
	return NULL;
}

static int share(int count)
{
	struct share s = { .count = count };
	struct timespec settle = { 0, 200000000 }, step = { 0, 10000000 };
	unsigned char buf[2048];
	struct ipq_handle *h6;
	pthread_t reader;
	int i, got6 = 0;

	s.h = ipq_create_handle(0, PF_INET);
	if (s.h == NULL || ipq_set_mode(s.h, IPQ_COPY_META, 0) < 0) {
		ipq_perror("ipqtest");
		return 1;
	}
	pthread_create(&reader, NULL, share_reader, &s);
	nanosleep(&settle, NULL); /* the reader is blocked in ipq_read */
	h6 = ipq_create_handle(0, PF_INET6);
	if (h6 == NULL || ipq_set_mode(h6, IPQ_COPY_META, 0) < 0) {
		ipq_perror("ipqtest");
		return 1;
	}
	/* the library woke the reader, which now waits for both queues */
	for (i = 0; i < 200 && syscall_of(s.tid) != SYS_ppoll; i++)
		nanosleep(&step, NULL);
	printf("reader waits in %s\n", syscall_of(s.tid) == SYS_ppoll ? "ppoll" : "its old recvmsg");
	printf("ready\n");
	fflush(stdout);
	/* short reads: each one moves on whatever waits in the shared queue */
	for (i = 0; i < 200 && !got6; i++) {
		if (ipq_read(h6, buf, sizeof(buf), 20000) > 0 && ipq_message_type(buf) == IPQM_PACKET) {
			ipq_packet_msg_t *m = ipq_get_packet(buf);

			got6 = ntohs(m->hw_protocol) == 0x86dd;
			ipq_set_verdict(h6, m->packet_id, NF_ACCEPT, 0, NULL);
		}
	}
	pthread_join(reader, NULL);
	printf("thread passed=%d main got6=%d\n", s.passed, got6);
	ipq_destroy_handle(h6);
	ipq_destroy_handle(s.h);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "errors") == 0)
		return errors();
	if (argc >= 2 && strcmp(argv[1], "calls") == 0)
		return calls();
	if (argc >= 2 && strcmp(argv[1], "recv") == 0)
		return recv_packets(argc, argv);
	if (argc >= 3 && strcmp(argv[1], "share") == 0)
		return share(atoi(argv[2]));
	fprintf(stderr, "usage: ipqtest errors|calls|recv|share ...\n");
	return 2;
}
