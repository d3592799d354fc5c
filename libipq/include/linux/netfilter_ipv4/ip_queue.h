/*
 * Stand-in for the kernel header that Linux 3.5 dropped, for programs that
 * include <linux/netfilter_ipv4/ip_queue.h> themselves. Installed next to
 * libipq.h; the types live in <libipq/ip_queue.h>.
 */
#include "../../libipq/ip_queue.h"
