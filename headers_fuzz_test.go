//go:build linux && cgo

package nfq_test

import (
	"bytes"
	"testing"

	"github.com/nfq-go/nfq"
)

// FuzzParseHeaders checks that ParseHeaders never panics, that its offsets
// and flags agree with each other, and that a packet CheckRewritable passes
// can be rewritten by the C library, which finds the transport header where
// ParseHeaders did.
func FuzzParseHeaders(f *testing.F) {
	for _, k := range packetKinds() {
		f.Add(k.build("hello"))
	}
	f.Add(testPacket(6, nfq.ProtoUDP, "x", nil, ah, routing0, destOpts))
	f.Add(icmpPacket(4))
	f.Add(icmpPacket(6))
	f.Add(fragment(testPacket(4, nfq.ProtoTCP, "x", nil), 8, true))
	f.Fuzz(func(t *testing.T, pkt []byte) {
		h := nfq.ParseHeaders(pkt)
		end := min(h.Length, len(pkt))
		switch {
		case h.Has(nfq.HeaderIP) && h.Version != 4 && h.Version != 6:
			t.Fatalf("HeaderIP with version %d", h.Version)
		case h.Has(nfq.HeaderPorts | nfq.HeaderICMP), h.Has(nfq.HeaderTCP) && !h.Has(nfq.HeaderPorts):
			t.Fatalf("fields of two protocols: %+v", h)
		case h.TransportOffset != 0 && (!h.Has(nfq.HeaderIP) || h.TransportOffset > end || h.FragmentOffset != 0):
			t.Fatalf("transport offset %d of a %d-byte packet: %+v", h.TransportOffset, end, h)
		case h.PayloadOffset != 0 && (h.PayloadOffset <= h.TransportOffset || h.PayloadOffset > end):
			t.Fatalf("payload offset %d, transport %d, end %d", h.PayloadOffset, h.TransportOffset, end)
		case h.Has(nfq.HeaderPorts) && h.Protocol != nfq.ProtoTCP && h.Protocol != nfq.ProtoUDP:
			t.Fatalf("ports for protocol %d", h.Protocol)
		case h.Truncated != nfq.NotTruncated && h.Has(nfq.HeaderIP) && len(pkt) >= h.Length:
			t.Fatalf("%v with all %d bytes there", h.Truncated, h.Length)
		}
		_ = h.Payload(pkt)
		if h.CheckRewritable() != nil {
			return
		}
		if h.Length != len(pkt) || h.PayloadOffset == 0 || h.IsFragment() || h.Malformed || h.Truncated != nfq.NotTruncated {
			t.Fatalf("rewritable, yet %+v", h)
		}
		out, err := nfq.MangleTransport(pkt, 0, 0, []byte("x"))
		if err != nil {
			t.Fatalf("rewritable, yet MangleTransport: %v", err)
		}
		h2 := nfq.ParseHeaders(out)
		if err := h2.CheckRewritable(); err != nil {
			t.Fatalf("the rewritten packet: %v", err)
		}
		if !bytes.Equal(h2.Payload(out), append([]byte("x"), h.Payload(pkt)...)) {
			t.Fatalf("rewritten payload %q, from %q", h2.Payload(out), h.Payload(pkt))
		}
		if err := nfq.FixChecksums(bytes.Clone(pkt)); err != nil {
			t.Fatalf("rewritable, yet FixChecksums: %v", err)
		}
	})
}
