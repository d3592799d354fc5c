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

// ipHeaderLen returns the length of the IP header that b starts with: IHL*4
// for IPv4; for IPv6, 40 and the extension headers. When b is cut short (the
// copy range) the result counts what b shows, a lower bound. It is 0 when b
// starts with no IP header it can read.
func ipHeaderLen(b []byte) int {
	if len(b) == 0 {
		return 0
	}
	switch b[0] >> 4 {
	case 4:
		if n := int(b[0]&0x0f) * 4; n >= 20 {
			return n
		}
		return 0
	case 6:
		if len(b) < 40 {
			return 40
		}
		n, next := 40, b[6]
		for n+2 <= len(b) {
			var size int
			switch next {
			case 0, 43, 60, 135, 139, 140: // hop-by-hop, routing, destination options, mobility, HIP, shim6
				size = (int(b[n+1]) + 1) * 8
			case 44: // fragment
				size = 8
			case 51: // authentication header
				size = (int(b[n+1]) + 2) * 4
			default: // a transport header, ESP or no next header
				return n
			}
			next, n = b[n], n+size
		}
		return n
	}
	return 0
}
