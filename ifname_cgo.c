/* Interface name and type of an index through the SIOCGIFNAME and
 * SIOCGIFHWADDR ioctls, which any socket answers for its own network
 * namespace. */
#include "ifname_cgo.h"

#include <errno.h>
#include <string.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

_Static_assert(NFQGO_IFNAMSIZ == IFNAMSIZ, "name buffers are IFNAMSIZ bytes");

int nfqgo_ifname(int fd, uint32_t index, char name[NFQGO_IFNAMSIZ], uint16_t *type)
{
	struct ifreq r;

	name[0] = '\0';
	if (index == 0 || index > 0x7fffffff)
		return -ENODEV;
	memset(&r, 0, sizeof(r));
	r.ifr_ifindex = (int)index;
	if (ioctl(fd, SIOCGIFNAME, &r) < 0)
		return -errno;
	r.ifr_name[IFNAMSIZ - 1] = '\0';
	memcpy(name, r.ifr_name, NFQGO_IFNAMSIZ);
	if (type != NULL) {
		/* by name: renamed in between, the interface is gone for us */
		if (ioctl(fd, SIOCGIFHWADDR, &r) < 0) {
			name[0] = '\0';
			return -errno;
		}
		*type = r.ifr_hwaddr.sa_family;
	}
	return 0;
}
