// The receive loop's wait in its own thread (threadwait.go): a ppoll on
// the socket and an eventfd that configuration calls and Close post to.
#define _GNU_SOURCE /* ppoll */
#include "nfq_cgo.h"

#include <errno.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

int nfqgo_wait(int fd, int wake_fd, int64_t timeout_ns)
{
	struct pollfd pfds[2] = {{.fd = fd, .events = POLLIN}, {.fd = wake_fd, .events = POLLIN}};
	struct timespec ts = {.tv_sec = timeout_ns / 1000000000, .tv_nsec = timeout_ns % 1000000000};
	int n = ppoll(pfds, 2, &ts, NULL);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	if (pfds[1].revents & POLLIN) {
		uint64_t count;
		if (read(wake_fd, &count, sizeof(count)) < 0 && errno != EAGAIN)
			return -errno;
	}
	/* Any event on the socket (an error, a hang-up) goes to the read,
	 * which reports it; only a quiet socket may be waited on again. */
	if (pfds[0].revents)
		return 1;
	return pfds[1].revents ? 2 : 0;
}
