/*
 * forktest - libipq in the fork() patterns of ip_queue-era daemons and
 * servers, built against the installed library like a legacy program.
 *
 *   forktest after-load N   daemon(3) before ipq_create_handle: the child
 *                           creates the handle and passes N packets
 *   forktest daemonize N    create the handle and set the mode, then fork
 *                           and let the parent exit(); the child passes N
 *   forktest children N W   a child per packet gives the verdict on the
 *                           inherited handle and exits, while the parent
 *                           keeps reading; resident memory is sampled
 *                           after W packets and at the end
 *
 * Packets are UDP datagrams whose payload starts with "pkt": a payload
 * starting "pkt-drop" is dropped, any other is accepted with its payload
 * upper-cased (UDP checksum cleared), so that the test sees whose verdict
 * a packet got. Output: "ready threads=T" once packets may come (T: the
 * threads of the process reading them), then a summary line.
 */
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <libipq.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include "tasks.h"

extern int ipq_errno;

#define BUFSIZE 2048

/* rss_kb is the process's resident memory (VmRSS) in KiB. */
static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	}
	fclose(f);
	return kb;
}

static void die(const char *what)
{
	ipq_perror(what);
	exit(1);
}

/* verdict gives packet m the verdict its payload asks for. */
static int verdict(struct ipq_handle *h, ipq_packet_msg_t *m)
{
	unsigned char *p = m->payload;
	size_t udp = (size_t)(p[0] & 0x0f) * 4, i;

	if (m->data_len < udp + 8 + 3 || memcmp(p + udp + 8, "pkt", 3) != 0)
		return ipq_set_verdict(h, m->packet_id, NF_DROP, 0, NULL);
	if (m->data_len >= udp + 16 && memcmp(p + udp + 8, "pkt-drop", 8) == 0)
		return ipq_set_verdict(h, m->packet_id, NF_DROP, 0, NULL);
	p[udp + 6] = p[udp + 7] = 0;
	for (i = udp + 8; i < m->data_len; i++)
		if (p[i] >= 'a' && p[i] <= 'z')
			p[i] -= 'a' - 'A';
	return ipq_set_verdict(h, m->packet_id, NF_ACCEPT, m->data_len, p);
}

/* next reads messages until a packet comes; error messages are counted. */
static ipq_packet_msg_t *next(struct ipq_handle *h, unsigned char *buf, int *errors, int *interrupted)
{
	for (;;) {
		ssize_t n = ipq_read(h, buf, BUFSIZE, 0);

		if (n < 0)
			die("ipq_read");
		if (n == 0) {
			(*interrupted)++;
			continue;
		}
		if (ipq_message_type(buf) == IPQM_PACKET)
			return ipq_get_packet(buf);
		if (ipq_message_type(buf) == NLMSG_ERROR) {
			fprintf(stderr, "error message %d\n", ipq_get_msgerr(buf));
			(*errors)++;
		}
	}
}

static struct ipq_handle *open_handle(void)
{
	struct ipq_handle *h = ipq_create_handle(0, PF_INET);

	if (h == NULL)
		die("ipq_create_handle");
	if (ipq_set_mode(h, IPQ_COPY_PACKET, BUFSIZE) < 0)
		die("ipq_set_mode");
	return h;
}

/* pass gives n packets their verdicts in this process. */
static int pass(struct ipq_handle *h, int n)
{
	unsigned char buf[BUFSIZE];
	int i, errors = 0, interrupted = 0;

	printf("ready threads=%d\n", threads());
	fflush(stdout);
	for (i = 0; i < n; i++) {
		if (verdict(h, next(h, buf, &errors, &interrupted)) < 0)
			die("ipq_set_verdict");
	}
	printf("passed=%d errors=%d interrupted=%d pid=%d\n", n, errors, interrupted, (int)getpid());
	ipq_destroy_handle(h);
	return 0;
}

static volatile sig_atomic_t reaped;
static volatile sig_atomic_t child_failed;

static void on_child(int sig)
{
	int status, saved = errno;

	(void)sig;
	while (waitpid(-1, &status, WNOHANG) > 0) {
		reaped++;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			child_failed++;
	}
	errno = saved;
}

/* children forks a child per packet; the child gives the verdict on the
 * inherited handle and exits. */
static int children(int n, int warm)
{
	struct ipq_handle *h = open_handle();
	unsigned char buf[BUFSIZE];
	struct sigaction sa;
	struct timespec pause = { 0, 10000000 };
	long warm_rss = -1;
	int i, errors = 0, interrupted = 0, waited;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_child;
	sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
	sigaction(SIGCHLD, &sa, NULL);
	printf("ready threads=%d\n", threads());
	fflush(stdout);
	for (i = 0; i < n; i++) {
		ipq_packet_msg_t *m = next(h, buf, &errors, &interrupted);
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (pid == 0)
			exit(verdict(h, m) < 0 ? 2 : 0);
		if (i + 1 == warm)
			warm_rss = rss_kb();
	}
	/* every child has exited and been reaped, or something hangs */
	for (waited = 0; reaped < n && waited < 3000; waited++)
		nanosleep(&pause, NULL);
	printf("packets=%d reaped=%d failed=%d errors=%d interrupted=%d warm_rss_kb=%ld final_rss_kb=%ld\n", n,
	       (int)reaped, (int)child_failed, errors, interrupted, warm_rss, rss_kb());
	ipq_destroy_handle(h);
	return reaped == n && child_failed == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	struct ipq_handle *h;
	pid_t pid;
	int n = argc > 2 ? atoi(argv[2]) : 1;

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 2 && strcmp(argv[1], "after-load") == 0) {
		if (daemon(1, 1) < 0)
			die("daemon");
		return pass(open_handle(), n);
	}
	if (argc > 2 && strcmp(argv[1], "daemonize") == 0) {
		h = open_handle();
		pid = fork();
		if (pid < 0)
			die("fork");
		if (pid > 0)
			exit(0); /* exit(), not _exit(): the library must survive its handlers */
		setsid();
		return pass(h, n);
	}
	if (argc > 3 && strcmp(argv[1], "children") == 0)
		return children(n, atoi(argv[3]));
	fprintf(stderr, "usage: forktest after-load N | daemonize N | children N WARM\n");
	return 2;
}
