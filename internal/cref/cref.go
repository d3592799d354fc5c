//go:build linux && cgo

// Package cref builds verdict messages with libnetfilter_queue's and
// libmnl's own functions, as a C program would, so that tests can compare
// what the nfq package sends byte for byte. It exists because cgo may not be
// used in _test.go files.
package cref

/*
#cgo pkg-config: libnetfilter_queue libmnl
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>

// cref_put appends one verdict message at buf (which must be zeroed) and
// returns its aligned length.
static size_t cref_put(char *buf, uint16_t queue, int batch, uint32_t id, uint32_t verdict,
		       int set_mark, uint32_t mark, int set_ct, uint32_t ct_mark,
		       const void *payload, uint32_t payload_len)
{
	struct nlmsghdr *nlh = nfq_nlmsg_put(buf, batch ? NFQNL_MSG_VERDICT_BATCH : NFQNL_MSG_VERDICT, queue);
	nfq_nlmsg_verdict_put(nlh, (int)id, (int)verdict);
	if (set_mark)
		nfq_nlmsg_verdict_put_mark(nlh, mark);
	if (set_ct) {
		struct nlattr *nest = mnl_attr_nest_start(nlh, NFQA_CT);
		mnl_attr_put_u32(nlh, CTA_MARK, htonl(ct_mark));
		mnl_attr_nest_end(nlh, nest);
	}
	if (payload_len > 0)
		nfq_nlmsg_verdict_put_pkt(nlh, payload, payload_len);
	return MNL_ALIGN(nlh->nlmsg_len);
}

*/
import "C"

import "unsafe"

// Verdict is one verdict message to build.
type Verdict struct {
	Batch       bool   // NFQNL_MSG_VERDICT_BATCH instead of NFQNL_MSG_VERDICT
	ID          uint32 // packet id, host order
	Verdict     uint32 // NF_* verdict, with queue number and bypass bits
	SetMark     bool
	Mark        uint32
	SetConnMark bool
	ConnMark    uint32
	Payload     []byte
}

// Datagram returns the messages for queue, one after another at netlink
// alignment, as one datagram carries them.
func Datagram(queue uint16, msgs ...Verdict) []byte {
	size := 0
	for _, m := range msgs {
		size += 256 + len(m.Payload)
	}
	buf := (*C.char)(C.calloc(1, C.size_t(size)))
	defer C.free(unsafe.Pointer(buf))
	off := 0
	for _, m := range msgs {
		var payload unsafe.Pointer
		if len(m.Payload) > 0 {
			payload = C.CBytes(m.Payload)
		}
		at := (*C.char)(unsafe.Add(unsafe.Pointer(buf), off))
		n := C.cref_put(at, C.uint16_t(queue), cbool(m.Batch), C.uint32_t(m.ID), C.uint32_t(m.Verdict),
			cbool(m.SetMark), C.uint32_t(m.Mark), cbool(m.SetConnMark), C.uint32_t(m.ConnMark),
			payload, C.uint32_t(len(m.Payload)))
		C.free(payload)
		off += int(n)
	}
	return C.GoBytes(unsafe.Pointer(buf), C.int(off))
}

func cbool(b bool) C.int {
	if b {
		return 1
	}
	return 0
}
