/* batched: the fast C reference. recvmmsg takes every waiting message at
 * once, and one nfq_set_verdict_batch accepts them all.
 * Usage: batched -q QUEUE [-n PACKETS] [-r RCVBUF] [-b BATCH]. Prints READY
 * once bound, then one JSON line on SIGTERM/SIGINT or after PACKETS packets. */
#define _GNU_SOURCE
#include "consumer.h"

#include <sys/socket.h>

#define MAX_BATCH 256

static uint32_t last_id;
static int have_id;

static int on_packet(struct nfq_q_handle *qh, struct nfgenmsg *msg, struct nfq_data *nfa, void *data)
{
	(void)qh;
	(void)msg;
	(void)data;
	count_packet(nfa);
	last_id = packet_id(nfa); /* ids rise; the batch verdict covers all <= last */
	have_id = 1;
	return 0;
}

int main(int argc, char **argv)
{
	static struct mmsghdr msgs[MAX_BATCH];
	static struct iovec iovs[MAX_BATCH];
	struct nfq_handle *h;
	struct nfq_q_handle *qh;

	check_args(argc, argv, "-q QUEUE [-n PACKETS] [-r RCVBUF] [-b BATCH]");
	int queue = (int)arg_num(argc, argv, "-q", 0);
	uint64_t limit = (uint64_t)arg_num(argc, argv, "-n", 0);
	int batch = (int)arg_num(argc, argv, "-b", 64);
	if (batch < 1 || batch > MAX_BATCH) {
		fprintf(stderr, "batch must be 1..%d\n", MAX_BATCH);
		return 2;
	}
	for (int i = 0; i < batch; i++) {
		iovs[i].iov_base = malloc(MSG_BUF_SIZE);
		iovs[i].iov_len = MSG_BUF_SIZE;
		msgs[i].msg_hdr.msg_iov = &iovs[i];
		msgs[i].msg_hdr.msg_iovlen = 1;
	}

	install_stop_handlers();
	qh = open_queue(&h, queue, on_packet, (int)arg_num(argc, argv, "-r", 8 << 20));
	int fd = nfq_fd(h);
	puts("READY");
	fflush(stdout);

	while (!stop_flag && (limit == 0 || stats.packets < limit)) {
		/* MSG_WAITFORONE: block for the first message only, then take what is there. */
		int n = recvmmsg(fd, msgs, (unsigned int)batch, MSG_WAITFORONE, NULL);
		if (n < 0) {
			if (errno == ENOBUFS) {
				stats.overruns++;
				continue;
			}
			if (errno == EINTR)
				continue;
			perror("recvmmsg");
			return 1;
		}
		have_id = 0;
		for (int i = 0; i < n; i++)
			nfq_handle_packet(h, iovs[i].iov_base, (int)msgs[i].msg_len);
		if (have_id && nfq_set_verdict_batch(qh, last_id, NF_ACCEPT) < 0)
			stats.verdict_errors++;
	}
	print_result("c-batched", queue);
	nfq_destroy_queue(qh);
	nfq_close(h);
	return 0;
}
