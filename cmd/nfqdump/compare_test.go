//go:build linux && cgo

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nfq-go/nfq/internal/netnstest"
	"github.com/nfq-go/nfq/internal/progtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// buildCTwin compiles cmd/nfqdump-c with the system's C compiler.
func buildCTwin(t *testing.T) string {
	t.Helper()
	flags, err := exec.Command("pkg-config", "--cflags", "--libs", "libnetfilter_queue", "libmnl").Output()
	require.NoError(t, err, "pkg-config: the -dev packages are needed")
	bin := filepath.Join(t.TempDir(), "nfqdump-c")
	args := append([]string{"-O2", "-Wall", "-Werror", "-o", bin, "../nfqdump-c/nfqdump.c"}, strings.Fields(string(flags))...)
	out, err := exec.Command("cc", args...).CombinedOutput()
	require.NoError(t, err, "cc: %s", out)
	return bin
}

// Queues of the comparison: every packet passes the Go dumper's queue first,
// then, once accepted, the C twin's, at the same hook (raw then mangle at
// PREROUTING, mangle then filter at OUTPUT).
const (
	goQueue = "71"
	cQueue  = "72"
)

// twinLab is two namespaces joined by a veth pair: traffic from the peer
// reaches PREROUTING with an input device and a hardware address, and local
// traffic on lo passes OUTPUT with a socket owner.
type twinLab struct {
	ns, peer *netnstest.NS
}

func newTwinLab(t *testing.T) *twinLab {
	l := &twinLab{ns: netnstest.New(t), peer: netnstest.New(t)}
	l.peer.Exec(t, "ip", "link", "add", "vpeer", "type", "veth", "peer", "name", "vlab", "netns", l.ns.Name)
	l.peer.Exec(t, "ip", "addr", "add", "10.77.0.1/24", "dev", "vpeer")
	l.peer.Exec(t, "ip", "link", "set", "vpeer", "up")
	l.ns.Exec(t, "ip", "addr", "add", "10.77.0.2/24", "dev", "vlab")
	l.ns.Exec(t, "ip", "link", "set", "vlab", "up")

	rules := [][]string{
		// A mark set before the first queue shows in both dumps.
		{"iptables", "-t", "raw", "-A", "PREROUTING", "-i", "vlab", "-p", "udp", "-j", "MARK", "--set-mark", "0x2a"},
		{"iptables", "-t", "raw", "-A", "PREROUTING", "-i", "vlab", "-j", "NFQUEUE", "--queue-num", goQueue},
		{"iptables", "-t", "mangle", "-A", "PREROUTING", "-i", "vlab", "-j", "NFQUEUE", "--queue-num", cQueue},
		{"iptables", "-t", "mangle", "-A", "OUTPUT", "-o", "lo", "-p", "tcp", "-j", "MARK", "--set-mark", "7"},
		{"iptables", "-t", "mangle", "-A", "OUTPUT", "-o", "lo", "-j", "NFQUEUE", "--queue-num", goQueue},
		{"iptables", "-t", "filter", "-A", "OUTPUT", "-o", "lo", "-j", "NFQUEUE", "--queue-num", cQueue},
		{"ip6tables", "-t", "mangle", "-A", "OUTPUT", "-o", "lo", "-j", "NFQUEUE", "--queue-num", goQueue},
		{"ip6tables", "-t", "filter", "-A", "OUTPUT", "-o", "lo", "-j", "NFQUEUE", "--queue-num", cQueue},
	}
	for _, r := range rules {
		l.ns.Exec(t, r...)
	}
	return l
}

// traffic sends the same packets every time: pings and UDP from the peer,
// then on loopback ICMP, UDP (one datagram longer than the copy range),
// a whole TCP connection, ICMPv6 and UDP over IPv6.
// settled is called once both dumps have caught up.
func (l *twinLab) traffic(t *testing.T, settled func()) {
	l.peer.Exec(t, "ping", "-c", "2", "-i", "0.2", "-W", "2", "10.77.0.2")
	udp := l.ns.ListenUDP(t, "10.77.0.2:0")
	c := l.peer.DialUDP(t, udp.LocalAddr().String())
	for _, size := range []int{10, 200} {
		_, err := c.Write(make([]byte, size))
		require.NoError(t, err)
	}
	assert.Len(t, netnstest.ReadUDP(udp, 2, 2*time.Second), 2)

	l.ns.Exec(t, "ping", "-c", "1", "-W", "2", "127.0.0.1")
	lo := l.ns.ListenUDP(t, "127.0.0.1:0")
	loc := l.ns.DialUDP(t, lo.LocalAddr().String())
	// A socket priority makes the kernel send NFQA_PRIORITY.
	raw, err := loc.SyscallConn()
	require.NoError(t, err)
	require.NoError(t, raw.Control(func(fd uintptr) {
		require.NoError(t, syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_PRIORITY, 3))
	}))
	_, err = loc.Write([]byte("over loopback"))
	require.NoError(t, err)
	assert.Len(t, netnstest.ReadUDP(lo, 1, 2*time.Second), 1)

	// Sockets stay open until both dumps saw their packets: a packet meets
	// the two queues one after the other, and a closed socket's packets
	// lose their owner (uid, gid) in between.
	var client, server net.Conn
	l.ns.Do(t, func() {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		defer ln.Close()
		accepted := make(chan net.Conn, 1)
		go func() {
			conn, _ := ln.Accept()
			accepted <- conn
		}()
		client, err = net.Dial("tcp", ln.Addr().String())
		require.NoError(t, err)
		server = <-accepted
	})
	require.NotNil(t, server)
	_, err = client.Write([]byte("hello over tcp"))
	require.NoError(t, err)
	require.NoError(t, client.(*net.TCPConn).CloseWrite())
	got, err := io.ReadAll(server)
	require.NoError(t, err)
	assert.Equal(t, "hello over tcp", string(got))
	require.NoError(t, server.(*net.TCPConn).CloseWrite())
	_, err = io.ReadAll(client) // the server's FIN arrived
	require.NoError(t, err)
	settled()
	client.Close()
	server.Close()

	l.ns.Exec(t, "ping", "-6", "-c", "1", "-W", "2", "::1")
	lo6 := l.ns.ListenUDP(t, "[::1]:0")
	_, err = l.ns.DialUDP(t, lo6.LocalAddr().String()).Write([]byte("over IPv6"))
	require.NoError(t, err)
	assert.Len(t, netnstest.ReadUDP(lo6, 1, 2*time.Second), 1)
}

// settle waits until both dumps have printed the same number of lines and
// nothing more comes for a while.
func settle(t *testing.T, a, b *progtest.Proc) {
	t.Helper()
	count := func(p *progtest.Proc) int { return strings.Count(p.Stdout(), "\n") }
	last, stable := -1, 0
	require.Eventually(t, func() bool {
		n := count(a)
		if n == count(b) && n == last {
			stable++
		} else {
			stable = 0
		}
		last = n
		return stable >= 5
	}, 15*time.Second, 100*time.Millisecond, "the dumps did not settle\nGo:\n%s\nC:\n%s", a.Stdout(), b.Stdout())
}

// records parses JSON lines and takes out what must differ between the two
// dumps: the queue number, and the timestamp. A packet that has none gets
// the time it is queued while any socket on the machine asks for
// timestamps (ping does), so the two queues see different times, or one
// sees a time and the other none. Timestamps are returned apart, parsed.
func records(t *testing.T, out string) (recs []map[string]any, stamps []time.Time) {
	t.Helper()
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var r map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &r), line)
		var ts time.Time
		if s, ok := r["timestamp"].(string); ok {
			var err error
			ts, err = time.Parse(timestampLayout, s)
			require.NoError(t, err)
		}
		delete(r, "queue")
		delete(r, "timestamp")
		recs, stamps = append(recs, r), append(stamps, ts)
	}
	return recs, stamps
}

func TestSameJSONAsTheCLibrary(t *testing.T) {
	t.Parallel()
	goBin, cBin := progtest.Build(t, "."), buildCTwin(t)
	l := newTwinLab(t)
	args := []string{"-json", "-snaplen", "128", "-flags", "uid-gid,gso"}
	goDump := progtest.Start(t, l.ns, goBin, append([]string{"-queue", goQueue, "-stats=false"}, args...)...)
	cDump := progtest.Start(t, l.ns, cBin, append([]string{"-queue", cQueue}, args...)...)
	goDump.WaitStderr(t, "listening on queue "+goQueue, 10*time.Second)
	cDump.WaitStderr(t, "listening on queue "+cQueue, 10*time.Second)

	l.traffic(t, func() { settle(t, goDump, cDump) })
	settle(t, goDump, cDump)
	require.Equal(t, 0, goDump.Stop(t), goDump.String())
	require.Equal(t, 0, cDump.Stop(t), cDump.String())

	goRecs, goStamps := records(t, goDump.Stdout())
	cRecs, cStamps := records(t, cDump.Stdout())
	require.Equal(t, len(cRecs), len(goRecs))
	for i := range goRecs {
		assert.Equal(t, cRecs[i], goRecs[i], "packet %d: C (expected) and Go (actual) differ", i+1)
		if !goStamps[i].IsZero() && !cStamps[i].IsZero() {
			assert.WithinDuration(t, cStamps[i], goStamps[i], time.Second, "packet %d: timestamps", i+1)
		}
	}

	// The comparison covered what this kernel can send.
	seen := map[string]bool{}
	for _, r := range goRecs {
		for k := range r {
			seen[k] = true
		}
		seen[fmt.Sprint(r["hook"], " ", r["proto"])] = true
	}
	for _, want := range []string{"mark", "indev", "indev_name", "outdev", "outdev_name", "hwaddr", "skbinfo",
		"uid", "gid", "cap_len", "priority", "payload_len", "sport", "tcp_flags", "icmp_type", "payload",
		"PREROUTING ICMP", "PREROUTING UDP", "OUTPUT ICMP", "OUTPUT UDP", "OUTPUT TCP", "OUTPUT ICMPv6"} {
		assert.True(t, seen[want], "no packet had %s", want)
	}
	t.Logf("%d packets compared; the first:\n%s", len(goRecs), strings.SplitN(goDump.Stdout(), "\n", 2)[0])
}
