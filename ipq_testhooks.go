//go:build linux && cgo

package nfq

/*
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include "libipq_impl.h"

// ipqgo_legacy feeds msg to the conversion as recvmsg would have left it
// with a buffer of buf_len bytes: the first bytes in buf, the rest in a
// tail. It returns the conversion's result; buf holds the legacy message.
static ssize_t ipqgo_legacy(const void *msg, size_t n, unsigned char *buf, size_t buf_len, int ifname_fd, int error)
{
	unsigned char tail[4096];
	struct libipq_rx rx = { buf, buf_len, tail, sizeof(tail), n, 0 };
	size_t in_buf = n < buf_len ? n : buf_len;

	memcpy(buf, msg, in_buf);
	if (n > in_buf)
		memcpy(tail, (const char *)msg + in_buf, n - in_buf < sizeof(tail) ? n - in_buf : sizeof(tail));
	return error ? libipq_legacy_error(&rx) : libipq_legacy_packet(&rx, ifname_fd);
}

// ipqgo_offsets reports where the C header puts ipq_packet_msg_t's fields.
static void ipqgo_offsets(size_t *o)
{
	o[0] = offsetof(ipq_packet_msg_t, packet_id);
	o[1] = offsetof(ipq_packet_msg_t, mark);
	o[2] = offsetof(ipq_packet_msg_t, timestamp_sec);
	o[3] = offsetof(ipq_packet_msg_t, timestamp_usec);
	o[4] = offsetof(ipq_packet_msg_t, hook);
	o[5] = offsetof(ipq_packet_msg_t, indev_name);
	o[6] = offsetof(ipq_packet_msg_t, outdev_name);
	o[7] = offsetof(ipq_packet_msg_t, hw_protocol);
	o[8] = offsetof(ipq_packet_msg_t, hw_type);
	o[9] = offsetof(ipq_packet_msg_t, hw_addrlen);
	o[10] = offsetof(ipq_packet_msg_t, hw_addr);
	o[11] = offsetof(ipq_packet_msg_t, data_len);
	o[12] = sizeof(ipq_packet_msg_t);
}
*/
import "C"

import "syscall"

// ipqSetErrors sets libipq's error state as a failure would.
func ipqSetErrors(code int, errno syscall.Errno) {
	C.nfqgo_libipq_fail(C.int(code), C.int(errno))
}

// ipqResetErrors clears libipq's error state between tests.
func ipqResetErrors() {
	C.nfqgo_ipq_errno = 0
	C.nfqgo_libipq_sys_errno = 0
}

// ipqLegacy converts the NFQUEUE message msg (a packet, or an NLMSG_ERROR
// when isError) into a buffer of bufLen bytes, resolving interface names
// through ifnameFD, and returns the buffer and the conversion's result
// (the legacy size, or -errno).
func ipqLegacy(msg []byte, bufLen int, ifnameFD int, isError bool) ([]byte, int) {
	buf := C.malloc(C.size_t(bufLen))
	defer C.free(buf)
	cmsg := C.CBytes(msg)
	defer C.free(cmsg)
	e := C.int(0)
	if isError {
		e = 1
	}
	n := C.ipqgo_legacy(cmsg, C.size_t(len(msg)), (*C.uchar)(buf), C.size_t(bufLen), C.int(ifnameFD), e)
	return C.GoBytes(buf, C.int(bufLen)), int(n)
}

// ipqCOffsets returns the offsets of ipq_packet_msg_t's fields in C, in
// the order of the ipqOff* constants, then its size.
func ipqCOffsets() []int {
	var o [13]C.size_t
	C.ipqgo_offsets(&o[0])
	out := make([]int, len(o))
	for i, v := range o {
		out[i] = int(v)
	}
	return out
}
