/* sender: blasts UDP datagrams of a fixed payload size to 127.0.0.1:PORT
 * with sendmmsg for DURATION seconds. Queued packets stay charged to its
 * socket's send buffer until their verdict, so a blocking send waits for
 * the consumer: the rate measured is the consumer's, not the sender's.
 * Usage: sender -p PORT -s SIZE -d SECONDS [-b BATCH] [-S SNDBUF].
 * Prints one JSON line at the end. */
#define _GNU_SOURCE
#include "common.h"

#include <errno.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define MAX_BATCH 256
#define MAX_SIZE 65507

int main(int argc, char **argv)
{
	static struct mmsghdr msgs[MAX_BATCH];
	static char payload[MAX_SIZE];
	struct iovec iov;
	struct sockaddr_in dst;

	check_args(argc, argv, "-p PORT -s SIZE -d SECONDS [-b BATCH] [-S SNDBUF]");
	int port = (int)arg_num(argc, argv, "-p", 0);
	int size = (int)arg_num(argc, argv, "-s", 64);
	double duration = arg_num(argc, argv, "-d", 1);
	int batch = (int)arg_num(argc, argv, "-b", 64);
	int sndbuf = (int)arg_num(argc, argv, "-S", 256 << 10);
	if (port <= 0 || size < 0 || size > MAX_SIZE || batch < 1 || batch > MAX_BATCH) {
		fprintf(stderr, "sender: bad arguments\n");
		return 2;
	}

	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	/* A fixed send buffer fixes how many packets can wait in the queue. */
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) < 0)
		perror("SO_SNDBUF");
	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	dst.sin_port = htons((uint16_t)port);
	dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&dst, sizeof(dst)) < 0) {
		perror("connect");
		return 1;
	}
	memset(payload, 'x', sizeof(payload));
	iov.iov_base = payload;
	iov.iov_len = (size_t)size;
	for (int i = 0; i < batch; i++) {
		msgs[i].msg_hdr.msg_iov = &iov;
		msgs[i].msg_hdr.msg_iovlen = 1;
	}

	install_stop_handlers();
	uint64_t sent = 0, errors = 0;
	double start = now_s(), end = start;
	while (!stop_flag && end - start < duration) {
		int n = sendmmsg(fd, msgs, (unsigned int)batch, 0);
		if (n < 0) {
			/* ECONNREFUSED etc. report an earlier ICMP error; keep going. */
			if (errno != EINTR)
				errors++;
		} else {
			sent += (uint64_t)n;
		}
		end = now_s();
	}
	double user, sys;
	cpu_times(&user, &sys);
	printf("{\"sent\":%llu,\"errors\":%llu,\"elapsed_s\":%.6f,\"user_s\":%.6f,\"sys_s\":%.6f}\n",
	       (unsigned long long)sent, (unsigned long long)errors, end - start, user, sys);
	return 0;
}
