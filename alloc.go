//go:build linux && cgo

package nfq

import "unsafe"

// packetAlloc hands out Packets and payload bytes carved from larger
// allocations, so that receiving costs a fraction of an allocation per
// packet. A slab stays alive while any packet carved from it is referenced;
// the package doc's Memory section says what that costs.
type packetAlloc struct {
	packets []Packet
	bytes_  []byte
}

const (
	packetSlab = 64       // Packets per allocation
	byteSlab   = 64 << 10 // payload bytes per allocation
	ownAlloc   = 8 << 10  // payloads from this size get their own allocation
)

func (a *packetAlloc) packet() *Packet {
	if len(a.packets) == 0 {
		a.packets = make([]Packet, packetSlab)
	}
	p := &a.packets[0]
	a.packets = a.packets[1:]
	return p
}

// bytes copies n bytes from C memory at src into Go memory. The result has
// no spare capacity, so appending to it never writes into a neighbour.
func (a *packetAlloc) bytes(src unsafe.Pointer, n int) []byte {
	var b []byte
	switch {
	case n >= ownAlloc:
		b = make([]byte, n)
	default:
		if len(a.bytes_) < n {
			a.bytes_ = make([]byte, byteSlab)
		}
		b = a.bytes_[:n:n]
		a.bytes_ = a.bytes_[n:]
	}
	copy(b, unsafe.Slice((*byte)(src), n))
	return b
}
