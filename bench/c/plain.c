/* plain: the textbook libnetfilter_queue consumer, one recv and one
 * nfq_set_verdict per packet. The reference the Go consumers are held to.
 * Usage: plain -q QUEUE [-n PACKETS] [-r RCVBUF]. Prints READY once bound,
 * then one JSON line on SIGTERM/SIGINT or after PACKETS packets. */
#include "consumer.h"

#include <sys/socket.h>

static int on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa, void *data)
{
	(void)msg;
	(void)data;
	count_packet(nfa);
	if (nfq_set_verdict(qh, packet_id(nfa), NF_ACCEPT, 0, NULL) < 0)
		stats.verdict_errors++;
	return 0;
}

int main(int argc, char **argv)
{
	static char buf[MSG_BUF_SIZE] __attribute__((aligned));
	struct nfq_handle *h;
	struct nfq_q_handle *qh;

	check_args(argc, argv, "-q QUEUE [-n PACKETS] [-r RCVBUF]");
	int queue = (int)arg_num(argc, argv, "-q", 0);
	uint64_t limit = (uint64_t)arg_num(argc, argv, "-n", 0);

	install_stop_handlers();
	qh = open_queue(&h, queue, on_packet, (int)arg_num(argc, argv, "-r", 8 << 20));
	int fd = nfq_fd(h);
	puts("READY");
	fflush(stdout);

	while (!stop_flag && (limit == 0 || stats.packets < limit)) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == ENOBUFS) { /* the kernel dropped packets for us */
				stats.overruns++;
				continue;
			}
			if (errno == EINTR)
				continue;
			perror("recv");
			return 1;
		}
		nfq_handle_packet(h, buf, (int)n);
	}
	print_result("c-plain", queue);
	nfq_destroy_queue(qh);
	nfq_close(h);
	return 0;
}
