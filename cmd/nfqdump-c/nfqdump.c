/*
 * nfqdump-c: the twin of `nfqdump -json`, written directly on
 * libnetfilter_queue's classic API (nfq_open, nfq_create_queue, the nfq_get_*
 * getters, nfq_set_verdict2). It prints the same JSON line per packet as the
 * Go program, so the two can be run on the same traffic and compared: this
 * is the reference for what the C library sees.
 *
 * Build:
 *   cc -O2 -Wall -o nfqdump-c nfqdump.c \
 *      $(pkg-config --cflags --libs libnetfilter_queue libmnl)
 * Run (root or CAP_NET_ADMIN, in the network namespace of the rule):
 *   nfqdump-c -queue 0 [-count N] [-snaplen N] [-flags gso,uid-gid,...]
 *             [-verdict accept|drop|repeat|queue:N[+bypass]] [-mark N]
 *
 * Unlike nfqdump it has no text output and no default verdict on exit: the
 * kernel drops the packets still waiting when it stops.
 */
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <sys/socket.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

struct opts {
	uint16_t queue;
	unsigned long long count;
	uint32_t snaplen;
	uint32_t flags;
	uint32_t verdict;
	bool set_mark;
	uint32_t mark;
};

static const struct {
	const char *name;
	uint32_t flag;
} flag_names[] = {
	{"fail-open", NFQA_CFG_F_FAIL_OPEN},
	{"conntrack", NFQA_CFG_F_CONNTRACK},
	{"gso", NFQA_CFG_F_GSO},
	{"uid-gid", NFQA_CFG_F_UID_GID},
	{"secctx", NFQA_CFG_F_SECCTX},
};

static volatile sig_atomic_t stopping;
static unsigned long long seen;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static void usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, "nfqdump-c: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nusage: nfqdump-c -queue N [-count N] [-snaplen N] [-flags LIST] "
			"[-verdict accept|drop|repeat|queue:N[+bypass]] [-mark N]\n");
	exit(2);
}

static unsigned long long parse_num(const char *flag, const char *s, unsigned long long max)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || *s == '\0' || *s == '-' || *end != '\0' || v > max)
		usage_error("bad number for %s", flag);
	return v;
}

static uint32_t parse_verdict(const char *s)
{
	if (strcmp(s, "accept") == 0)
		return NF_ACCEPT;
	if (strcmp(s, "drop") == 0)
		return NF_DROP;
	if (strcmp(s, "repeat") == 0)
		return NF_REPEAT;
	if (strncmp(s, "queue:", 6) == 0) {
		char num[16];
		const char *plus = strchr(s, '+');
		size_t n = plus ? (size_t)(plus - s - 6) : strlen(s + 6);
		bool bypass = plus && strcmp(plus, "+bypass") == 0;
		if ((plus && !bypass) || n == 0 || n >= sizeof(num))
			usage_error("bad -verdict %s", s);
		memcpy(num, s + 6, n);
		num[n] = '\0';
		uint32_t v = NF_QUEUE_NR((uint32_t)parse_num("-verdict", num, 65535));
		return bypass ? v | NF_VERDICT_FLAG_QUEUE_BYPASS : v;
	}
	usage_error("bad -verdict %s: want accept, drop, repeat, queue:N or queue:N+bypass", s);
	return 0;
}

static uint32_t parse_flags(char *list)
{
	uint32_t flags = 0;
	for (char *name = strtok(list, ","); name; name = strtok(NULL, ",")) {
		size_t i;
		for (i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
			if (strcmp(name, flag_names[i].name) == 0)
				break;
		if (i == sizeof(flag_names) / sizeof(flag_names[0]))
			usage_error("unknown queue flag %s", name);
		flags |= flag_names[i].flag;
	}
	return flags;
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	bool have_queue = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (a[0] == '-' && a[1] == '-')
			a++; /* -flag and --flag, as Go's flag package */
		if (strcmp(a, "-json") == 0)
			continue; /* JSON is the only output */
		if (i + 1 >= argc)
			usage_error("%s needs a value (or is unknown)", a);
		const char *v = argv[++i];
		if (strcmp(a, "-queue") == 0) {
			o->queue = (uint16_t)parse_num(a, v, 65535);
			have_queue = true;
		} else if (strcmp(a, "-count") == 0) {
			o->count = parse_num(a, v, ~0ULL);
		} else if (strcmp(a, "-snaplen") == 0) {
			o->snaplen = (uint32_t)parse_num(a, v, 0xffff);
		} else if (strcmp(a, "-flags") == 0) {
			o->flags = parse_flags(argv[i]);
		} else if (strcmp(a, "-verdict") == 0) {
			o->verdict = parse_verdict(v);
		} else if (strcmp(a, "-mark") == 0) {
			o->set_mark = true;
			o->mark = (uint32_t)parse_num(a, v, 0xffffffffULL);
		} else {
			usage_error("unknown flag %s", a);
		}
	}
	if (!have_queue)
		usage_error("%s", "-queue is required");
	if (o->verdict == NF_REPEAT && !o->set_mark)
		usage_error("%s", "-verdict repeat needs -mark, or the packet loops back to the queue");
}

/* ---- JSON output, in the key order of nfqdump's record ---- */

static bool first_key;

static void key(const char *k)
{
	printf("%s\"%s\":", first_key ? "" : ",", k);
	first_key = false;
}

/* json_string escapes as Go's encoding/json (with HTML escaping off) does
 * for ASCII text. */
static void json_string(const char *s, size_t n)
{
	putchar('"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		switch (c) {
		case '"': fputs("\\\"", stdout); break;
		case '\\': fputs("\\\\", stdout); break;
		case '\b': fputs("\\b", stdout); break;
		case '\f': fputs("\\f", stdout); break;
		case '\n': fputs("\\n", stdout); break;
		case '\r': fputs("\\r", stdout); break;
		case '\t': fputs("\\t", stdout); break;
		default:
			if (c < 0x20)
				printf("\\u%04x", c);
			else
				putchar(c);
		}
	}
	putchar('"');
}

static void key_str(const char *k, const char *s)
{
	key(k);
	json_string(s, strlen(s));
}

static void key_u64(const char *k, unsigned long long v)
{
	key(k);
	printf("%llu", v);
}

static const char *hook_name(uint8_t hook, char *buf, size_t len)
{
	static const char *names[] = {"PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"};
	if (hook < sizeof(names) / sizeof(names[0]))
		return names[hook];
	snprintf(buf, len, "hook(%u)", hook);
	return buf;
}

static const char *verdict_name(uint32_t v, char *buf, size_t len)
{
	switch (v) {
	case NF_DROP: return "drop";
	case NF_ACCEPT: return "accept";
	case NF_REPEAT: return "repeat";
	case NF_STOP: return "stop";
	}
	if ((v & NF_VERDICT_MASK) == NF_QUEUE) {
		snprintf(buf, len, "queue:%u%s", v >> NF_VERDICT_QBITS,
			 (v & NF_VERDICT_FLAG_QUEUE_BYPASS) ? "+bypass" : "");
		return buf;
	}
	snprintf(buf, len, "verdict(0x%x)", v);
	return buf;
}

static void device(const char *k, const char *kname, uint32_t index)
{
	char name[IF_NAMESIZE];
	if (index == 0)
		return; /* the kernel sends a device attribute only for a device */
	key_u64(k, index);
	if (if_indextoname(index, name))
		key_str(kname, name);
}

/* ---- header decoding: the same rules as nfqdump's decode.go ---- */

struct headers {
	bool ok;
	char proto[16];
	char src[INET6_ADDRSTRLEN], dst[INET6_ADDRSTRLEN];
	bool has_ports, has_flags, has_icmp;
	uint16_t sport, dport;
	uint8_t tcp_flags, icmp_type, icmp_code;
};

static uint16_t be16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* decode follows nfq.ParseHeaders: the datagram ends at its IP length (or
 * where the copy range cut it); the IPv6 hop-by-hop, routing, fragment, AH
 * and destination options headers are skipped; a later fragment, or a
 * chain cut or running past the datagram, has no transport header. */
static struct headers decode(const unsigned char *b, int len)
{
	struct headers h = {0};
	int tot, end, off = 0; /* the IP length, the bytes' end, the transport header */
	uint8_t proto;

	if (len <= 0)
		return h;
	if (b[0] >> 4 == 4) {
		int ihl = (b[0] & 0x0f) * 4;
		if (len < 20 || ihl < 20 || ihl > len)
			return h;
		proto = b[9];
		inet_ntop(AF_INET, b + 12, h.src, sizeof(h.src));
		inet_ntop(AF_INET, b + 16, h.dst, sizeof(h.dst));
		tot = be16(b + 2);
		if (tot == 0) /* a GSO packet may leave it to the skb */
			tot = len;
		end = tot < len ? tot : len;
		if (ihl <= tot && (be16(b + 6) & 0x1fff) == 0)
			off = ihl;
	} else if (b[0] >> 4 == 6) {
		if (len < 40)
			return h;
		inet_ntop(AF_INET6, b + 8, h.src, sizeof(h.src));
		inet_ntop(AF_INET6, b + 24, h.dst, sizeof(h.dst));
		tot = 40 + be16(b + 4);
		if (tot == 40 && len > 40) /* jumbogram or GSO packet */
			tot = len;
		end = tot < len ? tot : len;
		proto = b[6];
		off = 40;
		while (proto == 0 || proto == 43 || proto == 44 || proto == 51 || proto == 60) {
			if (off + 8 > end) {
				off = 0;
				break;
			}
			int n = proto == 44 ? 8 : proto == 51 ? (b[off + 1] + 2) * 4 : (b[off + 1] + 1) * 8;
			if (off + n > end) {
				off = 0;
				break;
			}
			bool later = proto == 44 && (be16(b + off + 2) & 0xfff8) != 0;
			proto = b[off];
			off += n;
			if (later) {
				off = 0;
				break;
			}
		}
	} else {
		return h;
	}
	const unsigned char *l4 = b + off;
	int l4len = off ? end - off : 0;
	h.ok = true;
	switch (proto) {
	case 6:
	case 17:
		strcpy(h.proto, proto == 6 ? "TCP" : "UDP");
		if (l4len >= 4) {
			h.has_ports = true;
			h.sport = be16(l4);
			h.dport = be16(l4 + 2);
		}
		if (proto == 6 && l4len >= 14) {
			h.has_flags = true;
			h.tcp_flags = l4[13];
		}
		break;
	case 1:
	case 58:
		strcpy(h.proto, proto == 1 ? "ICMP" : "ICMPv6");
		if (l4len >= 2) {
			h.has_icmp = true;
			h.icmp_type = l4[0];
			h.icmp_code = l4[1];
		}
		break;
	default:
		snprintf(h.proto, sizeof(h.proto), "proto(%u)", proto);
	}
	return h;
}

static void tcp_flags(uint8_t f, char *out)
{
	static const char letters[] = "FSRPAUEC";
	char *p = out;
	for (int i = 0; i < 8; i++)
		if (f & (1 << i))
			*p++ = letters[i];
	if (p == out)
		strcpy(p, "none");
	else
		*p = '\0';
}

/* cap_len reads NFQA_CAP_LEN, which the classic API has no getter for, from
 * the message the callback's nfgenmsg belongs to. */
static bool cap_len(struct nfgenmsg *nfmsg, uint32_t *v)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)((char *)nfmsg - MNL_NLMSG_HDRLEN);
	const struct nlattr *attr;
	mnl_attr_for_each(attr, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(attr) == NFQA_CAP_LEN &&
		    mnl_attr_validate(attr, MNL_TYPE_U32) == 0) {
			*v = ntohl(mnl_attr_get_u32(attr));
			return true;
		}
	}
	return false;
}

/* raw_attr finds attribute type of the message the callback's nfgenmsg
 * belongs to: for what the classic API has no getter for. */
static const struct nlattr *raw_attr(struct nfgenmsg *nfmsg, uint16_t type)
{
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)((char *)nfmsg - MNL_NLMSG_HDRLEN);
	const struct nlattr *attr;
	mnl_attr_for_each(attr, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(attr) == type)
			return attr;
	}
	return NULL;
}

/* nested finds type inside nest, with exactly len bytes of payload. */
static const struct nlattr *nested(const struct nlattr *nest, uint16_t type, uint16_t len)
{
	const struct nlattr *attr;
	mnl_attr_for_each_nested(attr, nest) {
		if (mnl_attr_get_type(attr) == type && mnl_attr_get_payload_len(attr) == len)
			return attr;
	}
	return NULL;
}

/* ct_state_name spells enum ip_conntrack_info as nfq.ConnState does. */
static const char *ct_state_name(uint32_t s, char *buf, size_t n)
{
	static const char *names[] = {"ESTABLISHED", "RELATED", "NEW", "ESTABLISHED_REPLY", "RELATED_REPLY"};
	if (s < 5)
		return names[s];
	snprintf(buf, n, "connstate(%u)", s);
	return buf;
}

/* conn_and_link prints priority, conntrack, VLAN and L2 header attributes
 * (attribute numbers newer than the library's header are spelled out). */
static void conn_and_link(struct nfgenmsg *nfmsg)
{
	const struct nlattr *a;
	char buf[32];
	if ((a = raw_attr(nfmsg, 21)) && mnl_attr_validate(a, MNL_TYPE_U32) == 0) /* NFQA_PRIORITY */
		key_u64("priority", ntohl(mnl_attr_get_u32(a)));
	if ((a = raw_attr(nfmsg, NFQA_CT_INFO)) && mnl_attr_validate(a, MNL_TYPE_U32) == 0)
		key_str("ct_state", ct_state_name(ntohl(mnl_attr_get_u32(a)), buf, sizeof(buf)));
	if ((a = raw_attr(nfmsg, NFQA_CT))) {
		const struct nlattr *c;
		if ((c = nested(a, CTA_ID, 4)))
			key_u64("ct_id", ntohl(mnl_attr_get_u32(c)));
		if ((c = nested(a, CTA_MARK, 4)))
			key_u64("ct_mark", ntohl(mnl_attr_get_u32(c)));
		if ((c = nested(a, CTA_STATUS, 4)))
			key_u64("ct_status", ntohl(mnl_attr_get_u32(c)));
		if ((c = nested(a, CTA_ZONE, 2)))
			key_u64("ct_zone", ntohs(mnl_attr_get_u16(c)));
	}
	if ((a = raw_attr(nfmsg, 19))) { /* NFQA_VLAN: NFQA_VLAN_PROTO 1, NFQA_VLAN_TCI 2 */
		const struct nlattr *proto = nested(a, 1, 2), *tci = nested(a, 2, 2);
		if (proto && tci) {
			key_u64("vlan_proto", ntohs(mnl_attr_get_u16(proto)));
			key_u64("vlan_tci", ntohs(mnl_attr_get_u16(tci)));
		}
	}
	if ((a = raw_attr(nfmsg, 20))) { /* NFQA_L2HDR */
		const unsigned char *b = mnl_attr_get_payload(a);
		key("l2hdr");
		putchar('"');
		for (uint16_t i = 0; i < mnl_attr_get_payload_len(a); i++)
			printf("%02x", b[i]);
		putchar('"');
	}
}

static int on_packet(struct nfq_q_handle *qh, struct nfgenmsg *nfmsg, struct nfq_data *nfa, void *data)
{
	const struct opts *o = data;
	struct nfqnl_msg_packet_hdr *ph = nfq_get_msg_packet_hdr(nfa);
	char buf[64];
	if (!ph)
		return 0;
	uint32_t id = ntohl(ph->packet_id);

	int rc = o->set_mark ? nfq_set_verdict2(qh, id, o->verdict, o->mark, 0, NULL)
			     : nfq_set_verdict(qh, id, o->verdict, 0, NULL);
	if (rc < 0)
		fprintf(stderr, "nfqdump-c: verdict for packet %u: %s\n", id, strerror(errno));

	first_key = true;
	putchar('{');
	key_u64("queue", o->queue);
	key_u64("id", id);
	key_u64("hw_protocol", ntohs(ph->hw_protocol));
	key_str("hook", hook_name(ph->hook, buf, sizeof(buf)));

	uint32_t mark = nfq_get_nfmark(nfa);
	if (mark) /* the kernel sends a mark only when it is not 0 */
		key_u64("mark", mark);
	struct timeval tv;
	if (nfq_get_timestamp(nfa, &tv) == 0) {
		struct tm tm;
		time_t sec = tv.tv_sec;
		char when[32];
		gmtime_r(&sec, &tm);
		strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(buf, sizeof(buf), "%s.%06ldZ", when, (long)tv.tv_usec);
		key_str("timestamp", buf);
	}
	device("indev", "indev_name", nfq_get_indev(nfa));
	device("outdev", "outdev_name", nfq_get_outdev(nfa));
	device("physindev", "physindev_name", nfq_get_physindev(nfa));
	device("physoutdev", "physoutdev_name", nfq_get_physoutdev(nfa));

	struct nfqnl_msg_packet_hw *hw = nfq_get_packet_hw(nfa);
	if (hw) {
		unsigned n = ntohs(hw->hw_addrlen);
		char *p = buf;
		if (n > sizeof(hw->hw_addr))
			n = sizeof(hw->hw_addr);
		*p = '\0';
		for (unsigned i = 0; i < n; i++)
			p += sprintf(p, i ? ":%02x" : "%02x", hw->hw_addr[i]);
		key_str("hwaddr", buf);
	}
	uint32_t skbinfo = nfq_get_skbinfo(nfa);
	if (skbinfo) /* sent only when a bit is set */
		key_u64("skbinfo", skbinfo);
	uint32_t uid, gid;
	if (nfq_get_uid(nfa, &uid))
		key_u64("uid", uid);
	if (nfq_get_gid(nfa, &gid))
		key_u64("gid", gid);
	unsigned char *secctx;
	int seclen = nfq_get_secctx(nfa, &secctx);
	if (seclen >= 0) {
		key("secctx");
		json_string((const char *)secctx, (size_t)seclen);
	}
	uint32_t caplen;
	if (cap_len(nfmsg, &caplen))
		key_u64("cap_len", caplen);
	conn_and_link(nfmsg);

	unsigned char *payload;
	int plen = nfq_get_payload(nfa, &payload);
	if (plen >= 0) {
		key_u64("payload_len", (unsigned)plen);
		struct headers h = decode(payload, plen);
		if (h.ok) {
			key_str("proto", h.proto);
			key_str("src", h.src);
			key_str("dst", h.dst);
			if (h.has_ports) {
				key_u64("sport", h.sport);
				key_u64("dport", h.dport);
			}
			if (h.has_flags) {
				tcp_flags(h.tcp_flags, buf);
				key_str("tcp_flags", buf);
			}
			if (h.has_icmp) {
				key_u64("icmp_type", h.icmp_type);
				key_u64("icmp_code", h.icmp_code);
			}
		}
	}
	key_str("verdict", verdict_name(o->verdict, buf, sizeof(buf)));
	if (o->set_mark)
		key_u64("verdict_mark", o->mark);
	if (plen >= 0) {
		key("payload");
		putchar('"');
		for (int i = 0; i < plen; i++)
			printf("%02x", payload[i]);
		putchar('"');
	}
	puts("}");
	fflush(stdout);

	if (o->count && ++seen >= o->count)
		stopping = 1;
	return 0;
}

int main(int argc, char **argv)
{
	struct opts o = {.verdict = NF_ACCEPT};
	/* the largest message: a 64 KiB payload plus headers and attributes */
	static char buf[0xffff + 8192] __attribute__((aligned));
	parse_args(argc, argv, &o);

	struct sigaction sa = {.sa_handler = on_signal}; /* no SA_RESTART: recv returns EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	struct nfq_handle *h = nfq_open();
	if (!h) {
		fprintf(stderr, "nfqdump-c: nfq_open: %s\n", strerror(errno));
		return 1;
	}
	struct nfq_q_handle *qh = nfq_create_queue(h, o.queue, on_packet, &o);
	if (!qh) {
		fprintf(stderr, "nfqdump-c: queue %u: bind: %s (another socket holds the queue, or CAP_NET_ADMIN is missing)\n",
			o.queue, strerror(errno));
		nfq_close(h);
		return 1;
	}
	if (nfq_set_mode(qh, NFQNL_COPY_PACKET, o.snaplen ? o.snaplen : 0xffff) < 0) {
		fprintf(stderr, "nfqdump-c: queue %u: set copy mode: %s\n", o.queue, strerror(errno));
		return 1;
	}
	for (size_t i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++) {
		uint32_t f = flag_names[i].flag;
		if ((o.flags & f) && nfq_set_queue_flags(qh, f, f) < 0) {
			fprintf(stderr, "nfqdump-c: queue %u: set queue flag %s: %s\n", o.queue,
				flag_names[i].name, strerror(errno));
			return 1;
		}
	}
	fprintf(stderr, "nfqdump-c: listening on queue %u\n", o.queue);

	int fd = nfq_fd(h), status = 0;
	unsigned long long overruns = 0;
	while (!stopping) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) { /* the kernel dropped packets; keep going */
				overruns++;
				continue;
			}
			fprintf(stderr, "nfqdump-c: recv: %s\n", strerror(errno));
			status = 1;
			break;
		}
		nfq_handle_packet(h, buf, (int)n); /* -1 for a leftover ACK is fine */
	}
	fprintf(stderr, "nfqdump-c: %llu packets, %llu overruns\n", seen, overruns);
	nfq_destroy_queue(qh);
	nfq_close(h);
	return status;
}
