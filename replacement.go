package nfq

import "fmt"

// The kernel keeps a replacement payload only if it is at least as long as
// the packet's transport offset, its IP header (nfqnl_mangle); a shorter one
// makes it drop the packet without a word. Such a payload is refused before
// anything is sent.

// checkReplacement refuses a replacement payload the kernel would drop.
func (p *Packet) checkReplacement(payload []byte) error {
	if min := p.minReplacement(payload); len(payload) < min {
		return fmt.Errorf("%w: a replacement of %d bytes is shorter than the packet's %d-byte IP header, and the kernel would drop the packet",
			ErrInvalidVerdict, len(payload), min)
	}
	return nil
}

// minReplacement returns the shortest replacement payload the kernel keeps
// for p, or 0 when it cannot tell.
func (p *Packet) minReplacement(payload []byte) int {
	if len(p.Payload) > 0 {
		return ipHeaderLen(p.Payload)
	}
	// No bytes of the packet (CopyMeta): its version's fixed IP header is
	// the least the kernel keeps.
	version := byte(0)
	switch {
	case p.HWProtocol == 0x0800:
		version = 4
	case p.HWProtocol == 0x86dd:
		version = 6
	case len(payload) > 0:
		version = payload[0] >> 4
	}
	switch version {
	case 4:
		return 20
	case 6:
		return 40
	}
	return 0
}

// ipHeaderLen returns the length of the IP header that b starts with: its
// transport offset as ParseHeaders finds it (past IPv4 options and IPv6
// extension headers). Where ParseHeaders finds none (the copy range cut the
// header chain, a later fragment, a broken header) it is what b shows for
// certain, a lower bound: IHL*4, or IPv6's fixed 40 bytes. It is 0 when b
// starts with no IP header it can read.
func ipHeaderLen(b []byte) int {
	if h := ParseHeaders(b); h.TransportOffset > 0 {
		return h.TransportOffset
	}
	switch {
	case len(b) == 0:
		return 0
	case b[0]>>4 == 4 && b[0]&0x0f >= 5:
		return int(b[0]&0x0f) * 4
	case b[0]>>4 == 6:
		return 40
	}
	return 0
}
