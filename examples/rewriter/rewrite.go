package main

import (
	"bytes"

	"github.com/nfq-go/nfq"
)

// rewriteUDP returns a copy of the IPv4 or IPv6 packet b with every from in
// its UDP payload replaced by to. nfq.MangleTransport (libnetfilter_queue's
// mangle) fixes the lengths and checksums, since the kernel sends a
// replaced packet as it is. n is how many replacements were made; with
// n == 0 the packet is to be left alone (not a whole UDP datagram: another
// protocol, a fragment, cut by the copy range; or no match). err wraps
// nfq.ErrPayloadTooLarge when the result would not fit.
func rewriteUDP(b, from, to []byte) (out []byte, n int, err error) {
	h := nfq.ParseHeaders(b)
	if h.CheckRewritable() != nil || h.Protocol != nfq.ProtoUDP || len(from) == 0 {
		return nil, 0, nil
	}
	payload := h.Payload(b)
	n = bytes.Count(payload, from)
	if n == 0 {
		return nil, 0, nil
	}
	out, err = nfq.MangleTransport(b, 0, len(payload), bytes.ReplaceAll(payload, from, to))
	if err != nil {
		return nil, 0, err
	}
	return out, n, nil
}
