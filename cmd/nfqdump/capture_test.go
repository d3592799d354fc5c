//go:build linux && cgo

package main

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nfq-go/nfq"
	"github.com/nfq-go/nfq/internal/netnstest"
	"github.com/nfq-go/nfq/internal/progtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pcapPacket is one packet as tcpdump -r -tt -xx shows it.
type pcapPacket struct {
	ts   time.Time
	line string // tcpdump's description
	data []byte // the captured bytes
}

// tcpdumpRead reads a pcap file with tcpdump, keeping only the packets that
// match the filter expression (none: all). tcpdump's own line about the
// file is returned apart.
func tcpdumpRead(t *testing.T, file string, filter ...string) (header string, pkts []pcapPacket) {
	t.Helper()
	tcpdump, err := exec.LookPath("tcpdump")
	require.NoError(t, err, "tcpdump reads nfqdump's pcap files back: make deps installs it")
	cmd := exec.Command(tcpdump, append([]string{"-r", file, "-nn", "-tt", "-xx"}, filter...)...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	require.NoError(t, err, "tcpdump -r %s: %s", file, stderr.String())
	s := bufio.NewScanner(strings.NewReader(string(out)))
	for s.Scan() {
		line := s.Text()
		if hexPart, ok := strings.CutPrefix(line, "\t0x"); ok {
			_, words, _ := strings.Cut(hexPart, ":")
			b, err := hex.DecodeString(strings.Join(strings.Fields(words), ""))
			require.NoError(t, err, line)
			require.NotEmpty(t, pkts, "hex before any packet: %s", line)
			pkts[len(pkts)-1].data = append(pkts[len(pkts)-1].data, b...)
			continue
		}
		stamp, rest, _ := strings.Cut(line, " ")
		sec, usec, ok := strings.Cut(stamp, ".")
		require.True(t, ok, "not a packet line: %q", line)
		secs, err1 := strconv.ParseInt(sec, 10, 64)
		usecs, err2 := strconv.ParseInt(usec, 10, 64)
		require.True(t, err1 == nil && err2 == nil && len(usec) == 6, "not a packet line: %q", line)
		pkts = append(pkts, pcapPacket{ts: time.Unix(secs, usecs*1000), line: rest})
	}
	return strings.TrimSpace(stderr.String()), pkts
}

// captured is what nfqdump -json printed for a packet.
type captured struct {
	Hook       string `json:"hook"`
	Timestamp  string `json:"timestamp"`
	PayloadLen int    `json:"payload_len"`
	CapLen     int    `json:"cap_len"`
	Payload    string `json:"payload"`
}

// wireLen is the whole packet's length, as the pcap record must hold it.
func (c captured) wireLen() int {
	if c.CapLen > 0 {
		return c.CapLen
	}
	return c.PayloadLen
}

func parseCaptured(t *testing.T, out string) []captured {
	t.Helper()
	var cs []captured
	for _, line := range lines(out) {
		var c captured
		require.NoError(t, json.Unmarshal([]byte(line), &c), line)
		cs = append(cs, c)
	}
	return cs
}

// enableTimestamps makes the stack stamp received packets for as long as
// the test runs: a socket asking for receive timestamps is enough.
func enableTimestamps(t *testing.T) {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	raw, err := c.SyscallConn()
	require.NoError(t, err)
	require.NoError(t, raw.Control(func(fd uintptr) {
		require.NoError(t, syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMP, 1))
	}))
}

func TestPcapFileReadsBackInTcpdumpPacketForPacket(t *testing.T) {
	t.Parallel()
	enableTimestamps(t)
	bin := progtest.Build(t, ".")
	// Packets from a peer over veth reach PREROUTING with the kernel's
	// receive timestamp; local ones on lo reach OUTPUT with none, so the
	// file holds the time nfqdump received them.
	ns, peer := netnstest.New(t), netnstest.New(t)
	peer.Exec(t, "ip", "link", "add", "vpeer", "type", "veth", "peer", "name", "vcap", "netns", ns.Name)
	peer.Exec(t, "ip", "addr", "add", "10.78.0.1/24", "dev", "vpeer")
	peer.Exec(t, "ip", "link", "set", "vpeer", "up")
	ns.Exec(t, "ip", "addr", "add", "10.78.0.2/24", "dev", "vcap")
	ns.Exec(t, "ip", "link", "set", "vcap", "up")
	ns.Exec(t, "iptables", "-t", "raw", "-A", "PREROUTING", "-i", "vcap", "-j", "NFQUEUE", "--queue-num", "31")
	ns.Exec(t, "iptables", "-A", "OUTPUT", "-o", "lo", "-p", "udp", "-j", "NFQUEUE", "--queue-num", "31")
	ns.Exec(t, "ip6tables", "-A", "OUTPUT", "-o", "lo", "-p", "udp", "-j", "NFQUEUE", "--queue-num", "31")

	file := filepath.Join(t.TempDir(), "queue.pcap")
	start := time.Now()
	p := progtest.Start(t, ns, bin, "-queue", "31", "-w", file, "-print", "-v", "-s", "100", "-q")
	p.WaitStderr(t, "listening on queue 31", 10*time.Second)

	peer.Exec(t, "ping", "-c", "2", "-i", "0.2", "-W", "2", "10.78.0.2")
	in := ns.ListenUDP(t, "10.78.0.2:0")
	fromPeer := peer.DialUDP(t, in.LocalAddr().String())
	lo := ns.ListenUDP(t, "127.0.0.1:0")
	toLo := ns.DialUDP(t, lo.LocalAddr().String())
	lo6 := ns.ListenUDP(t, "[::1]:0")
	toLo6 := ns.DialUDP(t, lo6.LocalAddr().String())
	for _, size := range []int{10, 300} { // 300: cut to 100 bytes by -s
		for _, c := range []*net.UDPConn{fromPeer, toLo, toLo6} {
			_, err := c.Write(make([]byte, size))
			require.NoError(t, err)
		}
	}
	for _, c := range []*net.UDPConn{in, lo, lo6} {
		assert.Len(t, netnstest.ReadUDP(c, 2, 2*time.Second), 2)
	}
	require.Equal(t, 0, p.Stop(t), p.String())
	end := time.Now()

	want := parseCaptured(t, p.Stdout())
	require.Len(t, want, 8, "2 echo requests and 6 datagrams\n%s", p.String())
	header, got := tcpdumpRead(t, file)
	assert.Equal(t, "reading from file "+file+", link-type RAW (Raw IP), snapshot length 100", header)
	require.Len(t, got, len(want), "tcpdump reads every packet")
	stamped := 0
	for i, w := range want {
		assert.Equal(t, w.Payload, hex.EncodeToString(got[i].data), "packet %d: the captured bytes", i+1)
		if w.Timestamp != "" {
			stamped++
			ts, err := time.Parse(timestampLayout, w.Timestamp)
			require.NoError(t, err)
			assert.True(t, ts.Equal(got[i].ts), "packet %d: the kernel's timestamp %v, the file's %v", i+1, ts, got[i].ts)
		} else {
			assert.Equal(t, "OUTPUT", w.Hook, "packet %d: only local packets come unstamped", i+1)
			assert.WithinRange(t, got[i].ts, start.Truncate(time.Microsecond), end, "packet %d: the time of receipt", i+1)
		}
	}
	assert.Equal(t, 4, stamped, "the packets from the peer carry the kernel's timestamp")

	// The whole packet's length: tcpdump's filter "len" is the record's
	// original length, so each length selects exactly its packets.
	byLen := map[int][]string{}
	for _, w := range want {
		byLen[w.wireLen()] = append(byLen[w.wireLen()], w.Payload)
	}
	for n, payloads := range byLen {
		_, sel := tcpdumpRead(t, file, fmt.Sprintf("len == %d", n))
		var selected []string
		for _, s := range sel {
			selected = append(selected, hex.EncodeToString(s.data))
		}
		assert.Equal(t, payloads, selected, "packets of %d bytes", n)
	}
	assert.Contains(t, p.Stderr(), "nfqdump: 8 packets, ")
}

func TestPcapToAPipe(t *testing.T) {
	t.Parallel()
	bin := progtest.Build(t, ".")
	l := newUDPLab(t, 32)
	// -w - writes the file to standard output, here read by tcpdump as it
	// comes; nfqdump's exit status is reported after tcpdump's output.
	p := progtest.Start(t, l.ns, "bash", "-c",
		bin+` -queue 32 -c 3 -w - | tcpdump -r - -nn -tt -xx; echo "exit ${PIPESTATUS[*]}" >&2`)
	p.WaitStderr(t, "listening on queue 32", 10*time.Second)
	l.send3(t)
	require.Equal(t, 0, p.Wait(t, 10*time.Second), p.String())
	assert.Equal(t, []string{"datagram-0", "datagram-1", "datagram-2"}, l.received(3))
	assert.Contains(t, p.Stderr(), "exit 0 0")
	assert.Contains(t, p.Stderr(), fmt.Sprintf("reading from file -, link-type RAW (Raw IP), snapshot length %d", nfq.MaxCopyRange))
	out := lines(p.Stdout())
	var datagrams []string
	for _, line := range out {
		if !strings.HasPrefix(line, "\t") {
			assert.Regexp(t, fmt.Sprintf(`^\d+\.\d{6} IP 127\.0\.0\.1\.\d+ > 127\.0\.0\.1\.%d: UDP, length 10$`, l.port), line)
			datagrams = append(datagrams, line)
		}
	}
	assert.Len(t, datagrams, 3, p.String())
	// The hex of the last packet ends with its payload.
	assert.Contains(t, strings.Join(out, "\n"), "6772 616d 2d32", "datagram-2 in the dump")
}
