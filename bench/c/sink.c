/* sink: receives and counts the UDP datagrams that consumers accepted, to
 * prove they were delivered. Usage: sink -p PORT [-r RCVBUF]. Prints READY
 * once bound, then one JSON line on SIGTERM/SIGINT. */
#define _GNU_SOURCE
#include "common.h"

#include <errno.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define BATCH 64
#define BUF 2048 /* larger datagrams are truncated, still counted */

int main(int argc, char **argv)
{
	static struct mmsghdr msgs[BATCH];
	static struct iovec iovs[BATCH];
	static char bufs[BATCH][BUF];
	struct sockaddr_in addr;

	check_args(argc, argv, "-p PORT [-r RCVBUF]");
	int port = (int)arg_num(argc, argv, "-p", 0);
	int rcvbuf = (int)arg_num(argc, argv, "-r", 128 << 20);

	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0) {
		perror("socket");
		return 1;
	}
	/* FORCE ignores rmem_max (we are root): the sink must not be what drops. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) < 0)
		perror("SO_RCVBUFFORCE");
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		perror("bind");
		return 1;
	}
	for (int i = 0; i < BATCH; i++) {
		iovs[i].iov_base = bufs[i];
		iovs[i].iov_len = BUF;
		msgs[i].msg_hdr.msg_iov = &iovs[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}

	install_stop_handlers();
	puts("READY");
	fflush(stdout);
	uint64_t received = 0;
	while (!stop_flag) {
		int n = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			perror("recvmmsg");
			return 1;
		}
		received += (uint64_t)n;
	}
	/* Count what is already queued before leaving: it was delivered. */
	for (int n; (n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL)) > 0;)
		received += (uint64_t)n;
	double user, sys;
	cpu_times(&user, &sys);
	printf("{\"received\":%llu,\"user_s\":%.6f,\"sys_s\":%.6f}\n", (unsigned long long)received, user, sys);
	return 0;
}
