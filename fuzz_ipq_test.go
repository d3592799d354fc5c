//go:build linux && cgo

package nfq

import (
	"encoding/binary"
	"syscall"
	"testing"
)

// FuzzLegacyPacket feeds arbitrary messages, in buffers of every size
// ipq_read accepts, through the C conversion into ip_queue's layout: it
// must refuse what does not parse, and write no more than the buffer.
func FuzzLegacyPacket(f *testing.F) {
	f.Add(testNFQMessage(), uint16(512), false)
	f.Add(testNFQMessage(), uint16(20), false)
	f.Add(newPacketMsg(0, 9, 0x0800, 3).u32(6, 1).bytes(), uint16(112), false)
	f.Add(nlError(syscall.ENOENT, 40), uint16(36), true)
	f.Fuzz(func(t *testing.T, msg []byte, bufLen uint16, isError bool) {
		n := max(int(bufLen), IPQMinReadLen)
		buf, size := ipqLegacy(msg, n, -1, isError)
		if size < 0 {
			if size != -int(syscall.EBADMSG) {
				t.Fatalf("conversion failed with %v, want EBADMSG", syscall.Errno(-size))
			}
			return
		}
		if size == 0 {
			return // an acknowledgement, not for the program
		}
		if got := int(binary.NativeEndian.Uint32(buf)); got != size {
			t.Fatalf("nlmsg_len %d, conversion said %d", got, size)
		}
		if !isError && size <= n {
			p := IPQGetPacket(buf[:size])
			if want := size - 16 - 96; p.DataLen > uint64(want) || uint64(want)-p.DataLen > 3 {
				t.Fatalf("data_len %d in a message of %d bytes", p.DataLen, size)
			}
		}
	})
}
