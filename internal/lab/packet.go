package lab

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"
)

// Checksum adds b to the ones' complement sum sum and folds it.
func Checksum(b []byte, sum uint32) uint16 {
	for ; len(b) >= 2; b = b[2:] {
		sum += uint32(binary.BigEndian.Uint16(b))
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return uint16(sum)
}

// UDPPayload returns the UDP payload of an IPv4 packet.
func UDPPayload(t testing.TB, ip []byte) []byte {
	t.Helper()
	require.GreaterOrEqual(t, len(ip), 28)
	ihl := int(ip[0]&0x0f) * 4
	return ip[ihl+8:]
}

// RewriteUDPv4 returns a copy of the IPv4/UDP packet ip with its UDP payload
// replaced, lengths and checksums fixed.
func RewriteUDPv4(t testing.TB, ip, payload []byte) []byte {
	t.Helper()
	ihl := int(ip[0]&0x0f) * 4
	require.Equal(t, byte(17), ip[9], "UDP")
	out := append(append([]byte(nil), ip[:ihl+8]...), payload...)
	binary.BigEndian.PutUint16(out[2:], uint16(len(out)))
	binary.BigEndian.PutUint16(out[10:], 0)
	binary.BigEndian.PutUint16(out[10:], ^Checksum(out[:ihl], 0))
	udp := out[ihl:]
	binary.BigEndian.PutUint16(udp[4:], uint16(len(udp)))
	binary.BigEndian.PutUint16(udp[6:], 0)
	var pseudo uint32
	pseudo += uint32(binary.BigEndian.Uint16(out[12:])) + uint32(binary.BigEndian.Uint16(out[14:]))
	pseudo += uint32(binary.BigEndian.Uint16(out[16:])) + uint32(binary.BigEndian.Uint16(out[18:]))
	pseudo += 17 + uint32(len(udp))
	sum := ^Checksum(udp, pseudo)
	if sum == 0 {
		sum = 0xffff
	}
	binary.BigEndian.PutUint16(udp[6:], sum)
	return out
}
