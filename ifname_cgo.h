/* Interface names and types by index, asked of the kernel on every call
 * (no cache: renames and deletions show at once). Shared by the Go
 * package (Queue.InterfaceName and the *DevName methods) and the C libipq
 * (indev_name, outdev_name, hw_type of its packet messages). */
#ifndef NFQ_IFNAME_CGO_H
#define NFQ_IFNAME_CGO_H

#include <stdint.h>

#define NFQGO_IFNAMSIZ 16

/* nfqgo_ifname writes the name of interface index into name (NUL
 * terminated) and, when type is not NULL, its ARPHRD_* type into *type.
 * It asks through socket fd, so the answer is for the network namespace
 * the socket was created in, whichever thread calls. Returns 0 or -errno:
 * -ENODEV when the namespace has no such interface. */
int nfqgo_ifname(int fd, uint32_t index, char name[NFQGO_IFNAMSIZ], uint16_t *type);

#endif
