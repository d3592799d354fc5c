/* Queue setup and the result line shared by the two C reference consumers,
 * so that they differ only in how they receive and give verdicts. */
#ifndef BENCH_CONSUMER_H
#define BENCH_CONSUMER_H

#include <errno.h>
#include <stdint.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

#include "common.h"

/* Room for the largest message: a 0xffff-byte payload plus headers. */
#define MSG_BUF_SIZE (0xffff + 4096)

struct consumer_stats {
	uint64_t packets, bytes, overruns, verdict_errors;
	double first, last; /* monotonic time of the first and last packet */
};

static struct consumer_stats stats;

/* count_packet records one packet; the clock read is what the Go consumers
 * pay too, so every consumer measures its own first-to-last window. */
static inline void count_packet(struct nfq_data *nfa)
{
	unsigned char *payload;
	int n = nfq_get_payload(nfa, &payload);

	if (n > 0)
		stats.bytes += (uint64_t)n;
	stats.last = now_s();
	if (stats.packets++ == 0)
		stats.first = stats.last;
}

static inline uint32_t packet_id(struct nfq_data *nfa)
{
	struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);

	return ph ? ntohl(ph->packet_id) : 0;
}

/* open_queue binds queue num in copy-packet mode (whole packet, like the Go
 * consumers) with an rcvbuf-byte receive buffer, or exits. */
static inline struct nfq_q_handle *open_queue(struct nfq_handle **hp, int num, nfq_callback *cb, int rcvbuf)
{
	struct nfq_handle *h = nfq_open();
	struct nfq_q_handle *qh;

	if (!h) {
		perror("nfq_open");
		exit(1);
	}
	qh = nfq_create_queue(h, (uint16_t)num, cb, NULL);
	if (!qh) {
		fprintf(stderr, "nfq_create_queue %d: %s\n", num, strerror(errno));
		exit(1);
	}
	if (nfq_set_mode(qh, NFQNL_COPY_PACKET, 0xffff) < 0) {
		perror("nfq_set_mode");
		exit(1);
	}
	nfnl_rcvbufsiz(nfq_nfnlh(h), (unsigned int)rcvbuf);
	*hp = h;
	return qh;
}

static inline void print_result(const char *name, int queue)
{
	double user, sys;

	cpu_times(&user, &sys);
	printf("{\"consumer\":\"%s\",\"queue\":%d,\"packets\":%llu,\"bytes\":%llu,"
	       "\"active_s\":%.6f,\"user_s\":%.6f,\"sys_s\":%.6f,"
	       "\"overruns\":%llu,\"verdict_errors\":%llu}\n",
	       name, queue, (unsigned long long)stats.packets, (unsigned long long)stats.bytes,
	       stats.last - stats.first, user, sys,
	       (unsigned long long)stats.overruns, (unsigned long long)stats.verdict_errors);
	fflush(stdout);
}

#endif
