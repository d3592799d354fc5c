package main

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// IP protocol numbers, for building test packets.
const (
	ipprotoHopOpts  = 0
	ipprotoICMP     = 1
	ipprotoTCP      = 6
	ipprotoUDP      = 17
	ipprotoRouting  = 43
	ipprotoFragment = 44
	ipprotoAH       = 51
	ipprotoICMPv6   = 58
	ipprotoDstOpts  = 60
)

// ip4 builds an IPv4 packet: a 20-byte header and l4.
func ip4(proto uint8, src, dst string, frag uint16, l4 []byte) []byte {
	b := make([]byte, 20, 20+len(l4))
	b[0] = 0x45
	binary.BigEndian.PutUint16(b[2:], uint16(20+len(l4)))
	binary.BigEndian.PutUint16(b[6:], frag)
	b[8], b[9] = 64, proto
	s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
	copy(b[12:], s[:])
	copy(b[16:], d[:])
	return append(b, l4...)
}

// ip6 builds an IPv6 packet: the fixed header and rest.
func ip6(next uint8, src, dst string, rest []byte) []byte {
	b := make([]byte, 40, 40+len(rest))
	b[0] = 0x60
	binary.BigEndian.PutUint16(b[4:], uint16(len(rest)))
	b[6], b[7] = next, 64
	s, d := netip.MustParseAddr(src).As16(), netip.MustParseAddr(dst).As16()
	copy(b[8:], s[:])
	copy(b[24:], d[:])
	return append(b, rest...)
}

// tcp builds a 20-byte TCP header.
func tcp(sport, dport uint16, flags uint8) []byte {
	b := make([]byte, 20)
	binary.BigEndian.PutUint16(b[0:], sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	b[12], b[13] = 5<<4, flags
	return b
}

func udp(sport, dport uint16) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint16(b[0:], sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	return b
}

func TestDecode(t *testing.T) {
	hopByHop := append([]byte{ipprotoUDP, 0, 0, 0, 0, 0, 0, 0}, udp(5353, 53)...)
	firstFragment := append([]byte{ipprotoTCP, 0, 0, 0, 0, 0, 0, 7}, tcp(1, 2, 0x02)...)
	laterFragment := []byte{ipprotoUDP, 0, 0x05, 0xa8, 0, 0, 0, 7, 1, 2, 3, 4}
	destOpts16 := append([]byte{ipprotoUDP, 1, 0x1e, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, udp(5353, 53)...)
	authHeader := append([]byte{ipprotoTCP, 4, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		tcp(7, 8, 0x18)...)
	gso := ip4(ipprotoTCP, "1.1.1.1", "2.2.2.2", 0x4000, tcp(1, 2, 0x10))
	gso[2], gso[3] = 0, 0
	tests := []struct {
		name string
		in   []byte
		want headers
	}{
		{"tcp syn+ack", ip4(ipprotoTCP, "10.0.0.1", "10.0.0.2", 0x4000, tcp(443, 50000, 0x12)), headers{
			Proto: "TCP", Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"),
			HasPorts: true, SrcPort: 443, DstPort: 50000, HasFlags: true, TCPFlags: 0x12}},
		{"udp", ip4(ipprotoUDP, "127.0.0.1", "127.0.0.2", 0, udp(40000, 9999)), headers{
			Proto: "UDP", Src: netip.MustParseAddr("127.0.0.1"), Dst: netip.MustParseAddr("127.0.0.2"),
			HasPorts: true, SrcPort: 40000, DstPort: 9999}},
		{"icmp echo", ip4(ipprotoICMP, "1.1.1.1", "2.2.2.2", 0, []byte{8, 0, 0, 0}), headers{
			Proto: "ICMP", Src: netip.MustParseAddr("1.1.1.1"), Dst: netip.MustParseAddr("2.2.2.2"),
			HasICMP: true, ICMPType: 8}},
		{"tcp cut before the flags keeps the ports", ip4(ipprotoTCP, "1.1.1.1", "2.2.2.2", 0, tcp(1, 2, 0x10)[:8]), headers{
			Proto: "TCP", Src: netip.MustParseAddr("1.1.1.1"), Dst: netip.MustParseAddr("2.2.2.2"),
			HasPorts: true, SrcPort: 1, DstPort: 2}},
		{"ipv4 later fragment", ip4(ipprotoUDP, "1.1.1.1", "2.2.2.2", 185, []byte{1, 2, 3, 4}), headers{
			Proto: "UDP", Src: netip.MustParseAddr("1.1.1.1"), Dst: netip.MustParseAddr("2.2.2.2")}},
		{"other protocol", ip4(47, "1.1.1.1", "2.2.2.2", 0, nil), headers{
			Proto: "proto(47)", Src: netip.MustParseAddr("1.1.1.1"), Dst: netip.MustParseAddr("2.2.2.2")}},
		{"icmpv6", ip6(ipprotoICMPv6, "fe80::1", "ff02::1", []byte{128, 0, 0, 0}), headers{
			Proto: "ICMPv6", Src: netip.MustParseAddr("fe80::1"), Dst: netip.MustParseAddr("ff02::1"),
			HasICMP: true, ICMPType: 128}},
		{"ipv6 after hop-by-hop", ip6(ipprotoHopOpts, "::1", "::1", hopByHop), headers{
			Proto: "UDP", Src: netip.MustParseAddr("::1"), Dst: netip.MustParseAddr("::1"),
			HasPorts: true, SrcPort: 5353, DstPort: 53}},
		{"ipv6 first fragment", ip6(ipprotoFragment, "::1", "::2", firstFragment), headers{
			Proto: "TCP", Src: netip.MustParseAddr("::1"), Dst: netip.MustParseAddr("::2"),
			HasPorts: true, SrcPort: 1, DstPort: 2, HasFlags: true, TCPFlags: 0x02}},
		{"ipv6 later fragment", ip6(ipprotoFragment, "::1", "::2", laterFragment), headers{
			Proto: "UDP", Src: netip.MustParseAddr("::1"), Dst: netip.MustParseAddr("::2")}},
		{"ipv6 extension header cut", ip6(ipprotoDstOpts, "::1", "::2", []byte{ipprotoUDP, 1, 0, 0}), headers{
			Proto: "proto(60)", Src: netip.MustParseAddr("::1"), Dst: netip.MustParseAddr("::2")}},
		{"ipv6 after 16 bytes of destination options", ip6(ipprotoDstOpts, "::1", "::2", destOpts16), headers{
			Proto: "UDP", Src: netip.MustParseAddr("::1"), Dst: netip.MustParseAddr("::2"),
			HasPorts: true, SrcPort: 5353, DstPort: 53}},
		{"ipv6 after AH", ip6(ipprotoAH, "::1", "::2", authHeader), headers{
			Proto: "TCP", Src: netip.MustParseAddr("::1"), Dst: netip.MustParseAddr("::2"),
			HasPorts: true, SrcPort: 7, DstPort: 8, HasFlags: true, TCPFlags: 0x18}},
		{"ipv4 length 0 of a GSO packet", gso, headers{
			Proto: "TCP", Src: netip.MustParseAddr("1.1.1.1"), Dst: netip.MustParseAddr("2.2.2.2"),
			HasPorts: true, SrcPort: 1, DstPort: 2, HasFlags: true, TCPFlags: 0x10}},
		{"bytes past the IP length are not the packet's", ip4(ipprotoUDP, "1.1.1.1", "2.2.2.2", 0, nil), headers{
			Proto: "UDP", Src: netip.MustParseAddr("1.1.1.1"), Dst: netip.MustParseAddr("2.2.2.2")}},
	}
	tests[len(tests)-1].in = append(tests[len(tests)-1].in, udp(1, 2)...)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decode(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestDecodeRefusesWhatIsNotIP(t *testing.T) {
	shortIHL := ip4(ipprotoUDP, "1.1.1.1", "2.2.2.2", 0, nil)
	shortIHL[0] = 0x44
	longIHL := ip4(ipprotoUDP, "1.1.1.1", "2.2.2.2", 0, nil)
	longIHL[0] = 0x4f
	for in, want := range map[string]string{
		"":                 "no payload",
		"\x45\x00\x00\x14": "IPv4 header cut at 4 bytes",
		string(shortIHL):   "bad IPv4 header length 16",
		string(longIHL):    "bad IPv4 header length 60",
		string(ip6(ipprotoUDP, "::1", "::1", nil)[:39]): "IPv6 header cut at 39 bytes",
		"\x20\x00\x00\x00": "IP version 2",
	} {
		_, err := decode([]byte(in))
		assert.EqualError(t, err, want)
	}
}

func TestTCPFlags(t *testing.T) {
	assert.Equal(t, "S", tcpFlags(0x02))
	assert.Equal(t, "SA", tcpFlags(0x12))
	assert.Equal(t, "FPA", tcpFlags(0x19))
	assert.Equal(t, "FSRPAUEC", tcpFlags(0xff))
	assert.Equal(t, "none", tcpFlags(0))
}

// decodeHarness runs the C twin's decode on packets read from stdin, one hex
// line each, and prints what it found as decodeLine does.
const decodeHarness = `#define main nfqdump_main
#include "nfqdump.c"
#undef main

int main(void)
{
	static char line[2 * 70000];
	static unsigned char b[70000];
	while (fgets(line, sizeof(line), stdin)) {
		int n = 0;
		for (char *p = line; p[0] && p[0] != '\n'; p += 2)
			sscanf(p, "%2hhx", &b[n++]);
		struct headers h = decode(b, n);
		if (!h.ok) {
			puts("not IP");
			continue;
		}
		printf("%s %s > %s", h.proto, h.src, h.dst);
		if (h.has_ports)
			printf(" ports %u %u", h.sport, h.dport);
		if (h.has_flags)
			printf(" flags %u", h.tcp_flags);
		if (h.has_icmp)
			printf(" icmp %u %u", h.icmp_type, h.icmp_code);
		putchar('\n');
	}
	return 0;
}
`

// decodeLine is decode's result in the harness's words.
func decodeLine(b []byte) string {
	h, err := decode(b)
	if err != nil {
		return "not IP"
	}
	s := fmt.Sprintf("%s %s > %s", h.Proto, h.Src, h.Dst)
	if h.HasPorts {
		s += fmt.Sprintf(" ports %d %d", h.SrcPort, h.DstPort)
	}
	if h.HasFlags {
		s += fmt.Sprintf(" flags %d", h.TCPFlags)
	}
	if h.HasICMP {
		s += fmt.Sprintf(" icmp %d %d", h.ICMPType, h.ICMPCode)
	}
	return s
}

// twinCorpus is packets of every shape decode knows, each cut at every
// length, and copies with random header bytes (the addresses are left
// alone: the two print some rare IPv6 forms differently).
func twinCorpus() [][]byte {
	ext := func(next uint8, l4 []byte, hdrs ...[]byte) []byte {
		var b []byte
		for _, h := range hdrs {
			b = append(b, h...)
		}
		return ip6(next, "2001:db8::1", "2001:db8::2", append(b, l4...))
	}
	hop := []byte{ipprotoDstOpts, 0, 1, 4, 0, 0, 0, 0}
	dst := []byte{ipprotoAH, 1, 0x1e, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	auth := []byte{ipprotoRouting, 4, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	rt := []byte{ipprotoFragment, 0, 4, 0, 0, 0, 0, 0}
	frag := []byte{ipprotoUDP, 0, 0, 1, 0, 0, 0, 9}
	shapes := [][]byte{
		ip4(ipprotoTCP, "10.0.0.1", "10.0.0.2", 0x4000, append(tcp(443, 50000, 0x12), "data"...)),
		ip4(ipprotoUDP, "10.0.0.1", "10.0.0.2", 0, append(udp(1, 53), "query"...)),
		ip4(ipprotoICMP, "10.0.0.1", "10.0.0.2", 0x2000, []byte{8, 0, 0, 0, 0, 1, 0, 1}),
		ip4(47, "10.0.0.1", "10.0.0.2", 0, []byte{0, 0, 8, 0}),
		ext(ipprotoTCP, tcp(1, 2, 0xc2)),
		ext(ipprotoICMPv6, []byte{128, 0, 0, 0, 0, 1, 0, 1}),
		ext(ipprotoHopOpts, append(udp(5353, 53), "q"...), hop, dst, auth, rt, frag),
		ext(ipprotoFragment, []byte{1, 2, 3, 4, 5, 6, 7, 8}, []byte{ipprotoUDP, 0, 0x05, 0xa8, 0, 0, 0, 9}),
		ext(50, []byte{0, 0, 0, 1, 0, 0, 0, 1}),
	}
	var corpus [][]byte
	for _, p := range shapes {
		for n := range len(p) + 1 {
			corpus = append(corpus, p[:n])
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		p := bytes.Clone(shapes[rng.IntN(len(shapes))])
		for range 1 + rng.IntN(3) {
			i := rng.IntN(len(p))
			if p[0]>>4 == 6 && i >= 8 && i < 40 || p[0]>>4 == 4 && i >= 12 && i < 20 {
				continue
			}
			p[i] = byte(rng.Uint32())
		}
		corpus = append(corpus, p[:rng.IntN(len(p)+1)])
	}
	return corpus
}

func TestDecodeSameAsTheCTwin(t *testing.T) {
	flags, err := exec.Command("pkg-config", "--cflags", "--libs", "libnetfilter_queue", "libmnl").Output()
	if err != nil {
		t.Skipf("pkg-config libnetfilter_queue libmnl: %v (the -dev packages build the C twin)", err)
	}
	dir := t.TempDir()
	src, bin := filepath.Join(dir, "harness.c"), filepath.Join(dir, "harness")
	require.NoError(t, os.WriteFile(src, []byte(decodeHarness), 0o644))
	abs, err := filepath.Abs("../nfqdump-c")
	require.NoError(t, err)
	cc := append([]string{"-O1", "-Wall", "-Wno-unused-function", "-I", abs, "-o", bin, src}, strings.Fields(string(flags))...)
	out, err := exec.Command("cc", cc...).CombinedOutput()
	require.NoError(t, err, "cc: %s", out)

	corpus := twinCorpus()
	var in strings.Builder
	for _, p := range corpus {
		in.WriteString(hex.EncodeToString(p) + "\n")
	}
	cmd := exec.Command(bin)
	cmd.Stdin = strings.NewReader(in.String())
	got, err := cmd.Output()
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(string(got), "\n"), "\n")
	require.Len(t, lines, len(corpus))
	differ := 0
	for i, p := range corpus {
		if goLine := decodeLine(p); goLine != lines[i] && differ < 10 {
			differ++
			t.Errorf("packet %x:\nC:  %s\nGo: %s", p, lines[i], goLine)
		}
	}
}
