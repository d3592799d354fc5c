//go:build linux && cgo

package nfq_test

import (
	"bytes"
	"context"

	"github.com/nfq-go/nfq"
)

// Replace "hello" with "HOWDY-DOODY" in the first UDP payload position where
// it occurs, with lengths and checksums fixed by the C library, and accept
// the packet with its new bytes.
func ExampleMangleTransport() {
	q, err := nfq.Open(nfq.Config{Queue: 7, DefaultVerdict: nfq.Accept})
	if err != nil {
		return
	}
	defer q.Close()
	packets, err := q.Packets(context.Background())
	if err != nil {
		return
	}
	for p := range packets {
		h, err := nfq.ParseHeaders(p.Payload)
		if err != nil || h.Protocol != nfq.ProtoUDP {
			p.Accept() // cannot be rewritten, or not ours to: pass it on
			continue
		}
		i := bytes.Index(h.Payload(p.Payload), []byte("hello"))
		if i < 0 {
			p.Accept()
			continue
		}
		out, err := nfq.MangleTransport(p.Payload, i, 5, []byte("HOWDY-DOODY"))
		if err != nil {
			p.Accept()
			continue
		}
		p.AcceptWithPayload(out)
	}
}
