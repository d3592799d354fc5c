/* prober: measures ICMP echo round trips to ADDR at a low fixed rate, one
 * request in flight at a time, and reports percentiles of every reply.
 * Usage: prober [-a ADDR] [-c COUNT] [-i INTERVAL_US] [-t TIMEOUT_MS].
 * Prints one JSON line at the end. */
#include "common.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/icmp.h>

static uint16_t inet_checksum(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t sum = 0;

	for (; len > 1; p += 2, len -= 2)
		sum += (uint32_t)(p[0] << 8 | p[1]);
	if (len)
		sum += (uint32_t)(p[0] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* wait_reply waits until deadline for the echo reply with our id and seq. */
static int wait_reply(int fd, uint16_t id, uint16_t seq, double deadline)
{
	char buf[512];

	for (;;) {
		double left = deadline - now_s();
		if (left <= 0 || stop_flag)
			return 0;
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		if (poll(&pfd, 1, (int)(left * 1000) + 1) <= 0)
			continue;
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n < 20)
			continue;
		size_t ihl = (size_t)(buf[0] & 0x0f) * 4; /* raw sockets return the IP header */
		if ((size_t)n < ihl + sizeof(struct icmphdr))
			continue;
		struct icmphdr *ic = (struct icmphdr *)(buf + ihl);
		if (ic->type == ICMP_ECHOREPLY && ic->un.echo.id == htons(id) &&
		    ic->un.echo.sequence == htons(seq))
			return 1;
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in dst;
	char pkt[64];

	check_args(argc, argv, "[-a ADDR] [-c COUNT] [-i INTERVAL_US] [-t TIMEOUT_MS]");
	const char *addr = "127.0.0.1";
	for (int i = 1; i + 1 < argc; i += 2)
		if (strcmp(argv[i], "-a") == 0)
			addr = argv[i + 1];
	int count = (int)arg_num(argc, argv, "-c", 1000);
	double interval = arg_num(argc, argv, "-i", 2000) / 1e6;
	double timeout = arg_num(argc, argv, "-t", 1000) / 1e3;
	if (count < 1) {
		fprintf(stderr, "prober: count must be positive\n");
		return 2;
	}

	int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	/* Let only echo replies through: the raw socket also sees our own requests. */
	struct icmp_filter filt = {.data = ~(1U << ICMP_ECHOREPLY)};
	if (setsockopt(fd, SOL_RAW, ICMP_FILTER, &filt, sizeof(filt)) < 0)
		perror("ICMP_FILTER");
	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	if (inet_pton(AF_INET, addr, &dst.sin_addr) != 1) {
		fprintf(stderr, "prober: bad address %s\n", addr);
		return 2;
	}

	install_stop_handlers();
	double *rtts = calloc((size_t)count, sizeof(double));
	uint16_t id = (uint16_t)getpid();
	int sent = 0, received = 0;
	double next = now_s();
	for (int seq = 0; seq < count && !stop_flag; seq++) {
		double wait = next - now_s();
		if (wait > 0) {
			struct timespec ts = {.tv_sec = (time_t)wait, .tv_nsec = (long)((wait - (time_t)wait) * 1e9)};
			nanosleep(&ts, NULL);
		}
		next += interval;

		memset(pkt, 0, sizeof(pkt));
		struct icmphdr *ic = (struct icmphdr *)pkt;
		ic->type = ICMP_ECHO;
		ic->un.echo.id = htons(id);
		ic->un.echo.sequence = htons((uint16_t)seq);
		ic->checksum = inet_checksum(pkt, sizeof(pkt));

		double t0 = now_s();
		if (sendto(fd, pkt, sizeof(pkt), 0, (struct sockaddr *)&dst, sizeof(dst)) < 0) {
			perror("sendto");
			continue;
		}
		sent++;
		if (wait_reply(fd, id, (uint16_t)seq, t0 + timeout))
			rtts[received++] = (now_s() - t0) * 1e6;
	}

	qsort(rtts, (size_t)received, sizeof(double), cmp_double);
	double p50 = 0, p99 = 0, max = 0;
	if (received > 0) {
		p50 = rtts[(received - 1) * 50 / 100];
		p99 = rtts[(received - 1) * 99 / 100];
		max = rtts[received - 1];
	}
	printf("{\"sent\":%d,\"received\":%d,\"p50_us\":%.3f,\"p99_us\":%.3f,\"max_us\":%.3f}\n",
	       sent, received, p50, p99, max);
	return 0;
}
