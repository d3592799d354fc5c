package main

import (
	"bytes"
	"encoding/binary"
	"errors"
)

const protoUDP = 17

// errTooLarge: the rewritten packet would not fit an IP packet.
var errTooLarge = errors.New("rewritten packet over 65535 bytes")

// rewriteUDP returns a copy of the IPv4 or IPv6 packet b with every from in
// its UDP payload replaced by to, and the lengths and checksums fixed: the
// kernel sends a replaced packet as it is. n is how many replacements were
// made; with n == 0 the packet is to be left alone (not UDP, a fragment,
// cut by the copy range, IPv6 with extension headers, or no match).
func rewriteUDP(b, from, to []byte) (out []byte, n int, err error) {
	l3, ok := udpOffset(b)
	if !ok || len(from) == 0 {
		return nil, 0, nil
	}
	payload := b[l3+8:]
	n = bytes.Count(payload, from)
	if n == 0 {
		return nil, 0, nil
	}
	newPayload := bytes.ReplaceAll(payload, from, to)
	if l3+8+len(newPayload) > 0xffff {
		return nil, 0, errTooLarge
	}
	out = make([]byte, 0, l3+8+len(newPayload))
	out = append(append(out, b[:l3+8]...), newPayload...)
	udp := out[l3:]
	binary.BigEndian.PutUint16(udp[4:], uint16(len(udp)))
	if out[0]>>4 == 4 {
		binary.BigEndian.PutUint16(out[2:], uint16(len(out)))
		binary.BigEndian.PutUint16(out[10:], 0)
		binary.BigEndian.PutUint16(out[10:], ^sum(out[:l3], 0))
		if binary.BigEndian.Uint16(udp[6:]) == 0 {
			return out, n, nil // the sender sent no checksum: none is valid
		}
	} else {
		binary.BigEndian.PutUint16(out[4:], uint16(len(udp)))
	}
	binary.BigEndian.PutUint16(udp[6:], udpChecksum(out, l3))
	return out, n, nil
}

// udpOffset returns where the UDP header starts, if b is a whole,
// unfragmented UDP datagram in IPv4, or in IPv6 without extension headers.
func udpOffset(b []byte) (int, bool) {
	var l3 int
	switch {
	case len(b) >= 20 && b[0]>>4 == 4:
		l3 = int(b[0]&0x0f) * 4
		whole := int(binary.BigEndian.Uint16(b[2:])) == len(b)
		fragment := binary.BigEndian.Uint16(b[6:])&0x3fff != 0 // MF or an offset
		if l3 < 20 || b[9] != protoUDP || !whole || fragment {
			return 0, false
		}
	case len(b) >= 40 && b[0]>>4 == 6:
		l3 = 40
		if b[6] != protoUDP || int(binary.BigEndian.Uint16(b[4:]))+40 != len(b) {
			return 0, false
		}
	default:
		return 0, false
	}
	if len(b) < l3+8 || int(binary.BigEndian.Uint16(b[l3+4:])) != len(b)-l3 {
		return 0, false
	}
	return l3, true
}

// udpChecksum computes the UDP checksum of the datagram at b[l3:], with the
// pseudo-header of its IP version; the checksum field must be zero or is
// ignored.
func udpChecksum(b []byte, l3 int) uint16 {
	udp := b[l3:]
	var pseudo uint32
	if b[0]>>4 == 4 {
		pseudo = uint32(sum(b[12:20], 0))
	} else {
		pseudo = uint32(sum(b[8:40], 0))
	}
	pseudo += protoUDP + uint32(len(udp))
	s := sum(udp[:6], pseudo)
	s = ^sum(udp[8:], uint32(s))
	if s == 0 {
		return 0xffff // 0 means "no checksum" in UDP
	}
	return s
}

// sum is the Internet checksum's ones' complement sum of b, added to acc.
func sum(b []byte, acc uint32) uint16 {
	for ; len(b) >= 2; b = b[2:] {
		acc += uint32(binary.BigEndian.Uint16(b))
	}
	if len(b) == 1 {
		acc += uint32(b[0]) << 8
	}
	for acc>>16 != 0 {
		acc = acc&0xffff + acc>>16
	}
	return uint16(acc)
}
