//go:build linux && cgo

package main

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nfq-go/nfq"
	"github.com/nfq-go/nfq/internal/netnstest"
	"github.com/nfq-go/nfq/internal/progtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// udpCounter reads a counter of the Udp: lines of /proc/net/snmp in ns.
func udpCounter(t *testing.T, ns *netnstest.NS, name string) int {
	t.Helper()
	var header []string
	for _, line := range strings.Split(ns.Exec(t, "cat", "/proc/net/snmp"), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || fields[0] != "Udp:" {
			continue
		}
		if header == nil {
			header = fields
			continue
		}
		for i, h := range header {
			if h == name {
				n, err := strconv.Atoi(fields[i])
				require.NoError(t, err)
				return n
			}
		}
	}
	t.Fatalf("no Udp %s counter in /proc/net/snmp", name)
	return 0
}

// queueAtPrerouting sends UDP to port through queue at PREROUTING: once
// rewritten there, the receiving stack checks the UDP checksum itself.
func queueAtPrerouting(t *testing.T, ns *netnstest.NS, port, queue int) {
	ns.Exec(t, "iptables", "-t", "mangle", "-A", "PREROUTING", "-i", "lo", "-p", "udp",
		"--dport", fmt.Sprint(port), "-j", "NFQUEUE", "--queue-num", fmt.Sprint(queue))
}

func TestRewriterRewritesWithValidChecksums(t *testing.T) {
	bin := progtest.Build(t, ".")
	ns := netnstest.New(t)
	recv := ns.ListenUDP(t, "127.0.0.1:0")
	queueAtPrerouting(t, ns, recv.LocalAddr().(*net.UDPAddr).Port, 41)
	send := ns.DialUDP(t, recv.LocalAddr().String())

	rw := progtest.Start(t, ns, bin, "-queue", "41", "-from", "hello", "-to", "HOWDY-DOODY")
	rw.WaitStderr(t, "rewriter: queue 41", 10*time.Second)
	csumErrors := udpCounter(t, ns, "InCsumErrors")
	for _, m := range []string{"hello world", "no match here", "hello, hello"} {
		_, err := send.Write([]byte(m))
		require.NoError(t, err)
	}
	var got []string
	for _, b := range netnstest.ReadUDP(recv, 3, 2*time.Second) {
		got = append(got, string(b))
	}
	assert.Equal(t, []string{"HOWDY-DOODY world", "no match here", "HOWDY-DOODY, HOWDY-DOODY"}, got)
	assert.Equal(t, csumErrors, udpCounter(t, ns, "InCsumErrors"), "the receiver found no bad checksum")

	require.Equal(t, 0, rw.Stop(t), rw.String())
	assert.Contains(t, rw.Stdout(), "packet 1: 1 replacement(s), 39 -> 45 bytes")
	assert.Contains(t, rw.Stdout(), "packet 3: 2 replacement(s), 40 -> 52 bytes")
	assert.Contains(t, rw.Stdout(), "rewriter: 3 packets, 2 rewritten, 0 verdicts failed")
}

// The test above means something only if a wrong checksum is caught on this
// path: check that a rewrite with a broken checksum is thrown away.
func TestBrokenChecksumIsCaughtOnThisPath(t *testing.T) {
	ns := netnstest.New(t)
	recv := ns.ListenUDP(t, "127.0.0.1:0")
	queueAtPrerouting(t, ns, recv.LocalAddr().(*net.UDPAddr).Port, 42)
	send := ns.DialUDP(t, recv.LocalAddr().String())
	var q *nfq.Queue
	ns.Do(t, func() {
		var err error
		q, err = nfq.Open(nfq.Config{Queue: 42})
		require.NoError(t, err)
	})
	defer q.Close()
	ch, err := q.Packets(context.Background())
	require.NoError(t, err)

	csumErrors := udpCounter(t, ns, "InCsumErrors")
	_, err = send.Write([]byte("hello"))
	require.NoError(t, err)
	p := <-ch
	out, n, err := rewriteUDP(p.Payload, []byte("hello"), []byte("HOWDY"))
	require.NoError(t, err)
	require.Equal(t, 1, n)
	l3 := int(out[0]&0x0f) * 4
	binary.BigEndian.PutUint16(out[l3+6:], binary.BigEndian.Uint16(out[l3+6:])^0x0100)
	require.NoError(t, p.AcceptWithPayload(out))

	assert.Empty(t, netnstest.ReadUDP(recv, 1, 500*time.Millisecond), "a datagram with a bad checksum is dropped")
	assert.Equal(t, csumErrors+1, udpCounter(t, ns, "InCsumErrors"))
}
