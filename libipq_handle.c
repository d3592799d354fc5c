/* Handles and the queues they bind.
 *
 * A handle is a netlink socket bound to an NFQUEUE queue (0 unless the
 * environment says otherwise): h->fd is that socket, so it polls readable
 * exactly when a message waits, and a forked child shares it. ip_queue had
 * a queue per family where NFQUEUE has one for both, so a process may hold
 * an IPv4 and an IPv6 handle on the same queue. Then the queue is shared:
 * each handle also binds a queue of its own (a free number from 65535
 * down), and whichever handle reads the shared queue moves each packet on
 * to its family's queue with an NF_QUEUE verdict; the kernel holds the
 * packets, the library keeps nothing per packet. */
#define _GNU_SOURCE
#include "libipq_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <linux/netfilter.h>
#include <linux/netlink.h>
#include <linux/sockios.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif
#ifndef NETLINK_CAP_ACK
#define NETLINK_CAP_ACK 10
#endif

/* Queue numbers tried for a handle's own queue when it shares one. */
#define OWN_QUEUE_FIRST 65535
#define OWN_QUEUE_TRIES 256

/* The queues this process bound, guarded by registry_lock; a fork while
 * another thread holds it must not leave it held in the child. */
static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t registry_once = PTHREAD_ONCE_INIT;
static struct libipq_queue *queues;

static void lock_registry(void) { pthread_mutex_lock(&registry_lock); }
static void unlock_registry(void) { pthread_mutex_unlock(&registry_lock); }
static void registry_init(void) { pthread_atfork(lock_registry, unlock_registry, unlock_registry); }

/* open_socket opens a netlink socket for nfnetlink_queue; on failure it
 * returns -errno with *code the libipq error. */
static int open_socket(int *code)
{
	struct sockaddr_nl local = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_NETFILTER);
	int one = 1, err;

	if (fd < 0) {
		*code = IPQ_ERR_SOCKET;
		return -errno;
	}
	if (bind(fd, (struct sockaddr *)&local, sizeof(local)) < 0) {
		err = errno;
		close(fd);
		*code = IPQ_ERR_BIND;
		return -err;
	}
	/* errors without a copy of the refused request: ipq_read's answers
	 * stay small. Older kernels lack it, which only costs room. */
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	return fd;
}

/* netns_of names the network namespace socket fd belongs to. */
static void netns_of(int fd, dev_t *dev, ino_t *ino)
{
	struct stat st;
	int ns = ioctl(fd, SIOCGSKNS);

	*dev = 0;
	*ino = 0;
	if (ns >= 0) {
		if (fstat(ns, &st) == 0) {
			*dev = st.st_dev;
			*ino = st.st_ino;
		}
		close(ns);
	} else if (stat("/proc/thread-self/ns/net", &st) == 0) {
		*dev = st.st_dev;
		*ino = st.st_ino;
	}
}

/* queue_from_env reads the queue number the environment asks for: 0 when
 * it names none, -1 when the value is not a number from 0 to 65535. */
static int queue_from_env(int family)
{
	static const char *const names[] = { "LIBIPQ_QUEUE_IPV4", "LIBIPQ_QUEUE_IPV6" };
	const char *v = getenv(names[family]);
	unsigned long n = 0;
	const char *p;

	if (v == NULL || *v == '\0')
		v = getenv("LIBIPQ_QUEUE");
	if (v == NULL || *v == '\0')
		return 0;
	for (p = v; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || p - v > 5)
			return -1;
		n = n * 10 + (unsigned long)(*p - '0');
	}
	return n > UINT16_MAX ? -1 : (int)n;
}

/* find_queue returns this process's binding of queue num in the namespace,
 * taking over one inherited from a process that has exited (a daemon's
 * parent); a live parent's stays the parent's. */
static struct libipq_queue *find_queue(dev_t dev, ino_t ino, uint16_t num)
{
	struct libipq_queue *q;
	pid_t me = getpid();

	for (q = queues; q != NULL; q = q->next) {
		if (q->ns_dev != dev || q->ns_ino != ino || q->num != num)
			continue;
		if (q->pid != me && kill(q->pid, 0) < 0 && errno == ESRCH)
			q->pid = me;
		if (q->pid == me)
			return q;
	}
	return NULL;
}

/* front_mode is the copy mode a shared queue needs: enough to move packets
 * on (their own queues copy what their handles asked for), or none when no
 * handle takes packets, so that the kernel drops them as ip_queue did. */
static void update_front_mode(struct libipq_queue *q)
{
	uint8_t mode = IPQ_COPY_NONE;
	int i;

	for (i = 0; i < 2; i++) {
		if (q->h[i] != NULL && q->h[i]->mode != IPQ_COPY_NONE)
			mode = IPQ_COPY_META;
	}
	if (q->pid == getpid())
		libipq_send_config(q->fd, q->num, mode, 0, 0);
}

/* bind_own_queue binds a free queue number on fd for a handle of a shared
 * queue. */
static int bind_own_queue(int fd, int *num)
{
	int n, err = -EBUSY;

	for (n = OWN_QUEUE_FIRST; n > OWN_QUEUE_FIRST - OWN_QUEUE_TRIES; n--) {
		err = libipq_bind_queue(fd, (uint16_t)n);
		if (err == 0) {
			*num = n;
			return 0;
		}
		if (err != -EBUSY && err != -EPERM)
			break;
	}
	return err;
}

/* wake_reader sends a no-op message to socket fd, so that a thread blocked
 * reading it looks again at how its handle reads now. */
static void wake_reader(int from_fd, int fd)
{
	struct sockaddr_nl to = { .nl_family = AF_NETLINK };
	socklen_t len = sizeof(to);
	struct nlmsghdr noop = { .nlmsg_len = NLMSG_HDRLEN, .nlmsg_type = NLMSG_NOOP };

	if (getsockname(fd, (struct sockaddr *)&to, &len) == 0)
		sendto(from_fd, &noop, sizeof(noop), MSG_DONTWAIT, (struct sockaddr *)&to, sizeof(to));
}

/* share turns q, read by one handle, into a queue shared by both families:
 * the handle gets a queue of its own, and q keeps a socket of its own. */
static int share(struct libipq_queue *q, int *code)
{
	struct libipq_handle *a = q->h[0] != NULL ? q->h[0] : q->h[1];
	int front, own, num = -1, err;

	front = fcntl(a->pub.fd, F_DUPFD_CLOEXEC, 0);
	if (front < 0) {
		*code = IPQ_ERR_SOCKET;
		return -errno;
	}
	own = open_socket(code);
	if (own < 0) {
		close(front);
		return own;
	}
	err = bind_own_queue(own, &num);
	if (err < 0) {
		close(own);
		close(front);
		*code = IPQ_ERR_BIND;
		return err;
	}
	libipq_send_config(own, (uint16_t)num, a->mode, a->range, 0);
	a->own_fd = own;
	a->own_num = num;
	q->fd = front;
	__atomic_store_n(&q->fwd[a->family], num, __ATOMIC_RELEASE);
	__atomic_store_n(&q->shared, 1, __ATOMIC_RELEASE);
	update_front_mode(q);
	wake_reader(own, a->pub.fd);
	return 0;
}

/* attach binds handle h, with socket fd, to queue num. Called with the
 * registry locked; on failure it returns -errno with *code set. */
static int attach(struct libipq_handle *h, int fd, uint16_t num, int *code)
{
	struct libipq_queue *q;
	dev_t dev;
	ino_t ino;
	int err, own = -1;

	netns_of(fd, &dev, &ino);
	q = find_queue(dev, ino, num);
	if (q == NULL) {
		err = libipq_bind_queue(fd, num);
		if (err < 0) {
			*code = IPQ_ERR_BIND;
			return err;
		}
		q = calloc(1, sizeof(*q));
		if (q == NULL) {
			*code = IPQ_ERR_HANDLE;
			return -ENOMEM;
		}
		q->ns_dev = dev;
		q->ns_ino = ino;
		q->num = num;
		q->pid = getpid();
		q->fd = fd;
		q->fwd[0] = q->fwd[1] = -1;
		q->next = queues;
		queues = q;
	} else {
		if (q->h[h->family] != NULL) {
			*code = IPQ_ERR_BIND; /* one peer per family, as ip_queue */
			return -EBUSY;
		}
		if (!q->shared && (err = share(q, code)) < 0)
			return err;
		if ((err = bind_own_queue(fd, &own)) < 0) {
			*code = IPQ_ERR_BIND;
			return err;
		}
		h->own_fd = fd;
		h->own_num = own;
		__atomic_store_n(&q->fwd[h->family], own, __ATOMIC_RELEASE);
	}
	q->h[h->family] = h;
	h->q = q;
	return 0;
}

struct ipq_handle *libipq_create(u_int32_t protocol, int queue)
{
	struct libipq_handle *h;
	struct sockaddr_nl local = { .nl_family = AF_NETLINK };
	socklen_t len = sizeof(local);
	int saved = errno, family, fd, code = IPQ_ERR_HANDLE, err;

	switch (protocol) {
	case NFPROTO_IPV4:
		family = LIBIPQ_V4;
		break;
	case NFPROTO_IPV6:
		family = LIBIPQ_V6;
		break;
	default:
		libipq_fail(IPQ_ERR_PROTOCOL, 0);
		errno = saved;
		return NULL;
	}
	if (queue < 0 && (queue = queue_from_env(family)) < 0) {
		libipq_fail(IPQ_ERR_HANDLE, EINVAL);
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL) {
		libipq_fail(IPQ_ERR_HANDLE, ENOMEM);
		return NULL;
	}
	h->family = family;
	h->own_fd = -1;
	h->own_num = -1;
	fd = open_socket(&code);
	if (fd < 0) {
		free(h);
		libipq_fail(code, -fd);
		return NULL;
	}
	pthread_once(&registry_once, registry_init);
	lock_registry();
	err = attach(h, fd, (uint16_t)queue, &code);
	unlock_registry();
	if (err < 0) {
		close(fd);
		free(h);
		libipq_fail(code, -err);
		return NULL;
	}
	h->pub.fd = fd;
	getsockname(fd, (struct sockaddr *)&local, &len);
	h->pub.local = local;
	h->pub.peer.nl_family = AF_NETLINK; /* the kernel */
	errno = saved;
	return &h->pub;
}

struct ipq_handle *ipq_create_handle(u_int32_t flags, u_int32_t protocol)
{
	(void)flags; /* unused, as in libipq */
	return libipq_create(protocol, -1);
}

/* queue_of returns the queue live handle h is on, NULL for a pointer that
 * is no live handle (destroyed already). Called with the registry locked. */
static struct libipq_queue *queue_of(const struct libipq_handle *h)
{
	struct libipq_queue *q;

	for (q = queues; q != NULL; q = q->next) {
		if (q->h[0] == h || q->h[1] == h)
			return q;
	}
	return NULL;
}

int ipq_destroy_handle(struct ipq_handle *pub)
{
	struct libipq_handle *h = (struct libipq_handle *)pub;
	struct libipq_queue *q, **p;
	int saved = errno;

	if (h == NULL)
		return 0;
	pthread_once(&registry_once, registry_init);
	lock_registry();
	q = queue_of(h);
	if (q == NULL) {
		/* destroyed before: nothing is left to free */
		unlock_registry();
		return 0;
	}
	q->h[h->family] = NULL;
	__atomic_store_n(&q->fwd[h->family], -1, __ATOMIC_RELEASE);
	/* closing a socket unbinds its queue: the kernel drops the packets
	 * waiting in it, as ip_queue dropped a departed peer's */
	if (h->own_fd >= 0 && h->own_fd != h->pub.fd)
		close(h->own_fd);
	close(h->pub.fd);
	if (q->h[0] == NULL && q->h[1] == NULL) {
		if (q->fd != h->pub.fd)
			close(q->fd);
		for (p = &queues; *p != q; p = &(*p)->next)
			;
		*p = q->next;
		free(q);
	} else {
		update_front_mode(q);
	}
	unlock_registry();
	free(h);
	errno = saved;
	return 0;
}

int libipq_handle_mode(struct libipq_handle *h, uint8_t mode, uint32_t range, uint32_t seq)
{
	int err, fd;
	uint16_t num;

	pthread_once(&registry_once, registry_init);
	lock_registry();
	fd = h->q->shared ? h->own_fd : h->pub.fd;
	num = h->q->shared ? (uint16_t)h->own_num : h->q->num;
	/* ip_queue refused a mode it did not know with EINVAL, which the
	 * next read returned; NFQUEUE would ignore it */
	if (mode > IPQ_COPY_PACKET)
		err = libipq_send_refusal(fd, num, seq);
	else
		err = libipq_send_config(fd, num, mode, range, seq);
	if (err == 0 && mode <= IPQ_COPY_PACKET) {
		h->mode = mode;
		h->range = range;
		if (h->q->shared)
			update_front_mode(h->q);
	}
	unlock_registry();
	return err;
}

int ipq_set_mode(const struct ipq_handle *pub, u_int8_t mode, size_t len)
{
	int saved = errno, err;

	if (pub == NULL) {
		libipq_fail(IPQ_ERR_SEND, EBADF);
		return -1;
	}
	/* ip_queue copied at most 0xffff bytes; NFQUEUE clamps to its own
	 * maximum below that, and takes 0 as the whole packet, as ip_queue */
	err = libipq_handle_mode((struct libipq_handle *)pub, mode, len > UINT16_MAX ? UINT16_MAX : (uint32_t)len,
				 LIBIPQ_SEQ_MODE | LIBIPQ_REQ_LEN);
	if (err < 0) {
		libipq_fail(IPQ_ERR_SEND, -err);
		return -1;
	}
	errno = saved;
	return LIBIPQ_REQ_LEN;
}
