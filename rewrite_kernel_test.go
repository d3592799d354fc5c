//go:build linux && cgo

package nfq_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nfq-go/nfq"
	"github.com/nfq-go/nfq/internal/lab"
	"github.com/nfq-go/nfq/internal/netnstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// csumErrors reads the receive checksum error counter of a protocol in ns:
// "Udp", "Udp6" or "Tcp" (TCP counts both IP versions).
func csumErrors(t *testing.T, ns *netnstest.NS, proto string) int {
	t.Helper()
	if proto == "Udp6" {
		for _, line := range strings.Split(ns.Exec(t, "cat", "/proc/net/snmp6"), "\n") {
			if f := strings.Fields(line); len(f) == 2 && f[0] == "Udp6InCsumErrors" {
				n, err := strconv.Atoi(f[1])
				require.NoError(t, err)
				return n
			}
		}
		t.Fatal("no Udp6InCsumErrors in /proc/net/snmp6")
	}
	var header []string
	for _, line := range strings.Split(ns.Exec(t, "cat", "/proc/net/snmp"), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || f[0] != proto+":" {
			continue
		}
		if header == nil {
			header = f
			continue
		}
		for i, h := range header {
			if h == "InCsumErrors" {
				n, err := strconv.Atoi(f[i])
				require.NoError(t, err)
				return n
			}
		}
	}
	t.Fatalf("no %s InCsumErrors in /proc/net/snmp", proto)
	return 0
}

// queueAtPrerouting sends loopback traffic matching match to queue at
// PREROUTING: there the receiving stack verifies the checksums of a
// replaced packet (the kernel marks it CHECKSUM_NONE), so a wrong one is
// dropped and counted.
func queueAtPrerouting(t *testing.T, ns *netnstest.NS, version int, queue uint16, match ...string) {
	t.Helper()
	cmd := map[int]string{4: "iptables", 6: "ip6tables"}[version]
	args := append([]string{cmd, "-t", "mangle", "-A", "PREROUTING", "-i", "lo"}, match...)
	ns.Exec(t, append(args, "-j", "NFQUEUE", "--queue-num", fmt.Sprint(queue))...)
}

// serve gives every packet of q the verdict that handle returns, and
// reports handler errors to the test.
func serve(t *testing.T, q *nfq.Queue, handle func(p *nfq.Packet) ([]byte, error)) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	packets, err := q.Packets(ctx)
	require.NoError(t, err)
	go func() {
		for p := range packets {
			out, err := handle(p)
			if err != nil {
				t.Errorf("packet %d: %v", p.ID, err)
			}
			if out != nil {
				err = p.SetVerdict(nfq.Accept, nfq.WithPayload(out))
			} else {
				err = p.Accept()
			}
			if err != nil && ctx.Err() == nil {
				t.Errorf("verdict for packet %d: %v", p.ID, err)
			}
		}
	}()
}

// setDestOpts makes c send its IPv6 datagrams with an 8-byte destination
// options header (one PadN option), the kind whose length byte is 0.
func setDestOpts(t *testing.T, c *net.UDPConn) {
	raw, err := c.SyscallConn()
	require.NoError(t, err)
	var serr error
	require.NoError(t, raw.Control(func(fd uintptr) {
		serr = unix.SetsockoptString(int(fd), unix.IPPROTO_IPV6, unix.IPV6_DSTOPTS, string([]byte{0, 0, 1, 4, 0, 0, 0, 0}))
	}))
	require.NoError(t, serr)
}

func TestKernelMangleUDP(t *testing.T) {
	for _, tc := range []struct {
		name     string
		version  int
		destOpts bool
	}{{"IPv4", 4, false}, {"IPv6", 6, false}, {"IPv6 destination options", 6, true}} {
		version := tc.version
		t.Run(tc.name, func(t *testing.T) {
			ns := netnstest.New(t)
			addr, counter := "127.0.0.1:0", "Udp"
			if version == 6 {
				addr, counter = "[::1]:0", "Udp6"
			}
			recv := ns.ListenUDP(t, addr)
			port := recv.LocalAddr().(*net.UDPAddr).Port
			queue := lab.QueueNum()
			queueAtPrerouting(t, ns, version, queue, "-p", "udp", "--dport", fmt.Sprint(port))
			send := ns.DialUDP(t, recv.LocalAddr().String())
			wantOffset := map[int]int{4: 20, 6: 40}[version]
			if tc.destOpts {
				setDestOpts(t, send)
				wantOffset += 8
			}
			q := openIn(t, ns, nfq.Config{Queue: queue})
			serve(t, q, func(p *nfq.Packet) ([]byte, error) {
				h := nfq.ParseHeaders(p.Payload)
				if err := h.CheckRewritable(); err != nil {
					return nil, err
				}
				if h.TransportOffset != wantOffset {
					return nil, fmt.Errorf("UDP header at %d, want %d", h.TransportOffset, wantOffset)
				}
				i := bytes.Index(h.Payload(p.Payload), []byte("hello"))
				if i < 0 {
					return nil, nil
				}
				out, err := nfq.MangleTransport(p.Payload, i, 5, []byte("HOWDY-DOODY"))
				if err == nil && bytes.HasPrefix(h.Payload(p.Payload), []byte("corrupt")) {
					out[h.TransportOffset+6] ^= 0x10 // control: a wrong UDP checksum
				}
				return out, err
			})

			before := csumErrors(t, ns, counter)
			for _, m := range []string{"hello world", "untouched", "oh hello", "odd hello!"} {
				_, err := send.Write([]byte(m))
				require.NoError(t, err)
			}
			var got []string
			for _, b := range netnstest.ReadUDP(recv, 4, 2*time.Second) {
				got = append(got, string(b))
			}
			assert.Equal(t, []string{"HOWDY-DOODY world", "untouched", "oh HOWDY-DOODY", "odd HOWDY-DOODY!"}, got)
			assert.Equal(t, before, csumErrors(t, ns, counter), "the receiver found no bad checksum")

			// The check above means something only if this path verifies
			// the checksum of a replaced packet: a wrong one is dropped.
			_, err := send.Write([]byte("corrupt hello"))
			require.NoError(t, err)
			assert.Empty(t, netnstest.ReadUDP(recv, 1, 300*time.Millisecond))
			assert.Equal(t, before+1, csumErrors(t, ns, counter), "the receiver counted the bad checksum")
		})
	}
}

// seqAfter reports whether sequence number a comes after b (modulo 2^32).
func seqAfter(a, b uint32) bool { return int32(a-b) > 0 }

// TestKernelMangleTCPLengthChange rewrites a TCP payload to a longer one
// and keeps the connection working by shifting sequence numbers with
// AdjustTCPSeq, as its doc says a program must: both ends then exchange
// more data in both directions and close cleanly.
func TestKernelMangleTCPLengthChange(t *testing.T) {
	for _, version := range []int{4, 6} {
		t.Run(fmt.Sprintf("IPv%d", version), func(t *testing.T) {
			ns := netnstest.New(t)
			addr := "127.0.0.1:0"
			if version == 6 {
				addr = "[::1]:0"
			}
			var ln net.Listener
			ns.Do(t, func() {
				var err error
				ln, err = net.Listen("tcp", addr)
				require.NoError(t, err)
			})
			defer ln.Close()
			port := uint16(ln.Addr().(*net.TCPAddr).Port)
			queue := lab.QueueNum()
			queueAtPrerouting(t, ns, version, queue, "-p", "tcp", "--dport", fmt.Sprint(port))
			queueAtPrerouting(t, ns, version, queue, "-p", "tcp", "--sport", fmt.Sprint(port))

			const from, to = "hello", "HOWDY-DOODY"
			delta := int32(len(to) - len(from))
			var rewritten atomic.Bool
			var rewrittenSeq uint32
			var adjusted atomic.Int32
			q := openIn(t, ns, nfq.Config{Queue: queue})
			serve(t, q, func(p *nfq.Packet) ([]byte, error) {
				h := nfq.ParseHeaders(p.Payload)
				if err := h.CheckRewritable(); err != nil {
					return nil, err
				}
				switch {
				case h.DstPort == port: // client to server
					i := bytes.Index(h.Payload(p.Payload), []byte(from))
					if i >= 0 && (!rewritten.Load() || h.Seq == rewrittenSeq) {
						rewrittenSeq = h.Seq
						rewritten.Store(true)
						return nfq.MangleTransport(p.Payload, i, len(from), []byte(to))
					}
					if rewritten.Load() && seqAfter(h.Seq, rewrittenSeq) {
						adjusted.Add(1)
						return p.Payload, nfq.AdjustTCPSeq(p.Payload, delta, 0)
					}
				case rewritten.Load() && h.TCPFlags&nfq.TCPAck != 0 && seqAfter(h.Ack, rewrittenSeq): // server to client
					adjusted.Add(1)
					return p.Payload, nfq.AdjustTCPSeq(p.Payload, 0, -delta)
				}
				return nil, nil
			})

			before := csumErrors(t, ns, "Tcp")
			accepted := make(chan net.Conn, 1)
			go func() {
				c, err := ln.Accept()
				if err != nil {
					t.Errorf("accept: %v", err)
					close(accepted)
					return
				}
				accepted <- c
			}()
			var client net.Conn
			ns.Do(t, func() {
				var err error
				client, err = net.DialTimeout("tcp", ln.Addr().String(), 5*time.Second)
				require.NoError(t, err)
			})
			defer client.Close()
			server := <-accepted
			require.NotNil(t, server)
			defer server.Close()
			deadline := time.Now().Add(10 * time.Second)
			require.NoError(t, client.SetDeadline(deadline))
			require.NoError(t, server.SetDeadline(deadline))

			exchange := func(w, r net.Conn, send, want string) {
				t.Helper()
				_, err := w.Write([]byte(send))
				require.NoError(t, err)
				got := make([]byte, len(want))
				_, err = io.ReadFull(r, got)
				require.NoError(t, err)
				require.Equal(t, want, string(got))
			}
			exchange(client, server, from, to)
			exchange(server, client, "reply one", "reply one")
			exchange(client, server, "second message", "second message")
			exchange(server, client, "reply two", "reply two")
			exchange(client, server, "third", "third")

			require.NoError(t, client.(*net.TCPConn).CloseWrite())
			rest, err := io.ReadAll(server)
			require.NoError(t, err, "the server sees the client's FIN")
			assert.Empty(t, rest)
			require.NoError(t, server.Close())
			rest, err = io.ReadAll(client)
			require.NoError(t, err, "the client sees the server's FIN")
			assert.Empty(t, rest)

			assert.True(t, rewritten.Load())
			assert.Positive(t, adjusted.Load(), "later segments had their numbers shifted")
			assert.Equal(t, before, csumErrors(t, ns, "Tcp"), "the receivers found no bad checksum")
		})
	}
}
