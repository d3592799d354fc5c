//go:build linux && cgo

package nfq_test

import (
	"testing"

	"github.com/nfq-go/nfq"
)

func BenchmarkMangleTransport(b *testing.B) {
	pkt := testPacket(4, nfq.ProtoTCP, "GET /index.html HTTP/1.1\r\nHost: example.com\r\n\r\n", nil)
	rep := []byte("/other-page.html")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := nfq.MangleTransport(pkt, 4, 11, rep); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFixChecksums(b *testing.B) {
	pkt := testPacket(6, nfq.ProtoUDP, string(make([]byte, 512)), nil)
	b.ReportAllocs()
	for b.Loop() {
		if err := nfq.FixChecksums(pkt); err != nil {
			b.Fatal(err)
		}
	}
}
