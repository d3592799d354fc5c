//go:build linux && cgo

package nfq_test

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"
)

// rewriteUDPv4 returns a copy of the IPv4/UDP packet ip with its UDP payload
// replaced, lengths and checksums fixed.
func rewriteUDPv4(t *testing.T, ip, payload []byte) []byte {
	t.Helper()
	ihl := int(ip[0]&0x0f) * 4
	require.Equal(t, byte(17), ip[9], "UDP")
	out := append(append([]byte(nil), ip[:ihl+8]...), payload...)
	binary.BigEndian.PutUint16(out[2:], uint16(len(out)))
	binary.BigEndian.PutUint16(out[10:], 0)
	binary.BigEndian.PutUint16(out[10:], ^checksum(out[:ihl], 0))
	udp := out[ihl:]
	binary.BigEndian.PutUint16(udp[4:], uint16(len(udp)))
	binary.BigEndian.PutUint16(udp[6:], 0)
	var pseudo uint32
	pseudo += uint32(binary.BigEndian.Uint16(out[12:])) + uint32(binary.BigEndian.Uint16(out[14:]))
	pseudo += uint32(binary.BigEndian.Uint16(out[16:])) + uint32(binary.BigEndian.Uint16(out[18:]))
	pseudo += 17 + uint32(len(udp))
	sum := ^checksum(udp, pseudo)
	if sum == 0 {
		sum = 0xffff
	}
	binary.BigEndian.PutUint16(udp[6:], sum)
	return out
}
