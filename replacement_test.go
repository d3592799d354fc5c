package nfq

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ipv6With returns an IPv6 header whose next header is first, followed by
// the given extension headers (each given whole) and 8 bytes of transport.
func ipv6With(first byte, exts ...[]byte) []byte {
	b := make([]byte, 40)
	b[0], b[6] = 0x60, first
	for _, e := range exts {
		b = append(b, e...)
	}
	return append(b, make([]byte, 8)...)
}

// ext returns an extension header of size bytes (a multiple of 8) whose
// length field counts in 8-byte units less one.
func ext(next byte, size int) []byte {
	e := make([]byte, size)
	e[0], e[1] = next, byte(size/8-1)
	return e
}

func TestIPHeaderLen(t *testing.T) {
	v4 := make([]byte, 28)
	v4[0] = 0x45
	withOptions := append([]byte{0x47}, make([]byte, 35)...)
	ah := make([]byte, 24) // authentication header: (len+2)*4 bytes
	ah[0], ah[1] = 17, 4
	frag := []byte{17, 0, 0, 0, 0, 0, 0, 0}
	laterFragment := make([]byte, 32) // IHL 6, fragment offset 8: no transport header in it
	laterFragment[0], laterFragment[3], laterFragment[7], laterFragment[9] = 0x46, 32, 1, 17
	for name, c := range map[string]struct {
		b    []byte
		want int
	}{
		"empty":                   {nil, 0},
		"ipv4":                    {v4, 20},
		"ipv4 with options":       {withOptions, 28},
		"ipv4 cut after one byte": {withOptions[:1], 28},
		"ipv4 bad ihl":            {[]byte{0x43, 0}, 0},
		"not ip":                  {[]byte{0x15, 0}, 0},
		"ipv6":                    {ipv6With(17), 40},
		"ipv6 cut short":          {[]byte{0x60, 0, 0, 0}, 40},
		"ipv6 hop-by-hop and destination options": {ipv6With(0, ext(60, 8), ext(17, 16)), 64},
		"ipv6 routing and fragment":               {ipv6With(43, ext(44, 24), frag), 72},
		"ipv6 authentication header":              {ipv6With(51, ah), 64},
		"ipv6 no next header":                     {ipv6With(59), 40},
		"ipv6 extension cut by the copy range":    {ipv6With(0, ext(17, 16))[:44], 40},
		"ipv4 later fragment with options":        {laterFragment, 24},
	} {
		assert.Equal(t, c.want, ipHeaderLen(c.b), name)
	}
}

func TestMinReplacement(t *testing.T) {
	v4 := make([]byte, 28)
	v4[0] = 0x45
	for name, c := range map[string]struct {
		p       *Packet
		payload []byte
		min     int
	}{
		"copied ipv4":            {&Packet{HWProtocol: 0x0800, Payload: v4}, v4, 20},
		"copied ipv6 with hbh":   {&Packet{HWProtocol: 0x86dd, Payload: ipv6With(0, ext(17, 8))}, nil, 48},
		"meta ipv4":              {&Packet{HWProtocol: 0x0800}, v4, 20},
		"meta ipv6":              {&Packet{HWProtocol: 0x86dd}, v4, 40},
		"meta, protocol unknown": {&Packet{}, ipv6With(17), 40},
		"not ip":                 {&Packet{Payload: []byte{0x15, 1, 2}}, []byte{1}, 0},
	} {
		require.Equal(t, c.min, c.p.minReplacement(c.payload), name)
		if c.min == 0 {
			assert.NoError(t, c.p.checkReplacement([]byte{1}), name)
			continue
		}
		short, enough := make([]byte, c.min-1), make([]byte, c.min)
		copy(short, c.payload)
		copy(enough, c.payload)
		err := c.p.checkReplacement(short)
		assert.ErrorIs(t, err, ErrInvalidVerdict, name)
		assert.Contains(t, err.Error(), "IP header", name)
		assert.NoError(t, c.p.checkReplacement(enough), name)
	}
}
