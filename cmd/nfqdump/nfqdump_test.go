//go:build linux && cgo

package main

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nfq-go/nfq"
	"github.com/nfq-go/nfq/internal/netnstest"
	"github.com/nfq-go/nfq/internal/progtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// udpLab is a namespace where UDP to a receiver on 127.0.0.1 is queued at
// OUTPUT to queue.
type udpLab struct {
	ns    *netnstest.NS
	recv  *net.UDPConn
	send  *net.UDPConn
	port  int
	queue string
}

func newUDPLab(t *testing.T, queue int) *udpLab {
	t.Helper()
	ns := netnstest.New(t)
	l := &udpLab{ns: ns, queue: fmt.Sprint(queue)}
	l.recv = ns.ListenUDP(t, "127.0.0.1:0")
	l.port = l.recv.LocalAddr().(*net.UDPAddr).Port
	l.send = ns.DialUDP(t, l.recv.LocalAddr().String())
	ns.Exec(t, "iptables", "-A", "OUTPUT", "-p", "udp", "--dport", fmt.Sprint(l.port),
		"-j", "NFQUEUE", "--queue-num", l.queue)
	return l
}

func (l *udpLab) send3(t *testing.T) {
	t.Helper()
	for i := range 3 {
		_, err := fmt.Fprintf(l.send, "datagram-%d", i)
		require.NoError(t, err)
	}
}

func (l *udpLab) received(want int) []string {
	var got []string
	for _, b := range netnstest.ReadUDP(l.recv, want, time.Second) {
		got = append(got, string(b))
	}
	return got
}

func lines(s string) []string { return strings.Split(strings.TrimSpace(s), "\n") }

func TestPrintsAndAcceptsRealPackets(t *testing.T) {
	t.Parallel()
	bin := progtest.Build(t, ".")
	l := newUDPLab(t, 21)
	p := progtest.Start(t, l.ns, bin, "-queue", l.queue, "-count", "3")
	p.WaitStderr(t, "listening on queue 21", 10*time.Second)

	l.send3(t)
	require.Equal(t, 0, p.Wait(t, 10*time.Second), p.String())
	assert.Equal(t, []string{"datagram-0", "datagram-1", "datagram-2"}, l.received(3))
	out := lines(p.Stdout())
	require.Len(t, out, 3, p.String())
	for i, line := range out {
		want := fmt.Sprintf(`^\d\d:\d\d:\d\d\.\d{6} q=21 id=%d OUTPUT in=- out=lo UDP 127\.0\.0\.1:\d+ > 127\.0\.0\.1:%d len=38 accept$`, i+1, l.port)
		assert.Regexp(t, want, line)
	}
	assert.Contains(t, p.Stderr(), "nfqdump: 3 packets, 114 bytes; 3 verdicts, 0 failed")
}

func TestLiveCountersAndInterrupt(t *testing.T) {
	t.Parallel()
	bin := progtest.Build(t, ".")
	l := newUDPLab(t, 22)
	p := progtest.Start(t, l.ns, bin, "-queue", l.queue)
	p.WaitStderr(t, "listening on queue 22", 10*time.Second)

	l.send3(t)
	assert.Len(t, l.received(3), 3)
	// Standard output is a pipe, so the counters show on stderr each second.
	p.WaitStderr(t, "nfqdump: 3 packets, 114 B, ", 5*time.Second)
	require.Equal(t, 0, p.Stop(t), p.String())
	assert.Len(t, lines(p.Stdout()), 3)
	assert.Contains(t, p.Stderr(), "nfqdump: 3 packets, 114 bytes; 3 verdicts, 0 failed, 0 default verdicts on close")
}

func TestJSONWithDropVerdict(t *testing.T) {
	t.Parallel()
	bin := progtest.Build(t, ".")
	l := newUDPLab(t, 23)
	p := progtest.Start(t, l.ns, bin, "-queue", l.queue, "-json", "-verdict", "drop", "-count", "3", "-stats=false")
	p.WaitStderr(t, "listening on queue 23", 10*time.Second)

	l.send3(t)
	require.Equal(t, 0, p.Wait(t, 10*time.Second), p.String())
	assert.Empty(t, l.received(3), "dropped packets do not arrive")
	out := lines(p.Stdout())
	require.Len(t, out, 3, p.String())
	for i, line := range out {
		var r map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &r), line)
		assert.Equal(t, float64(23), r["queue"])
		assert.Equal(t, float64(i+1), r["id"])
		assert.Equal(t, "OUTPUT", r["hook"])
		assert.Equal(t, "lo", r["outdev_name"])
		assert.Equal(t, "UDP", r["proto"])
		assert.Equal(t, float64(l.port), r["dport"])
		assert.Equal(t, "drop", r["verdict"])
		assert.NotContains(t, r, "indev", "absent attributes are omitted")
		assert.NotContains(t, r, "mark")
		assert.Contains(t, r["payload"], fmt.Sprintf("%x", fmt.Sprintf("datagram-%d", i)))
	}
}

func TestMarkIsSeenByLaterRules(t *testing.T) {
	t.Parallel()
	bin := progtest.Build(t, ".")
	l := newUDPLab(t, 24)
	// Loopback packets pass INPUT after OUTPUT: count the marked ones there.
	l.ns.Exec(t, "iptables", "-A", "INPUT", "-p", "udp", "--dport", fmt.Sprint(l.port), "-m", "mark", "--mark", "0x2a")
	p := progtest.Start(t, l.ns, bin, "-queue", l.queue, "-mark", "0x2a", "-count", "3")
	p.WaitStderr(t, "listening on queue 24", 10*time.Second)

	l.send3(t)
	require.Equal(t, 0, p.Wait(t, 10*time.Second), p.String())
	assert.Len(t, l.received(3), 3)
	assert.Regexp(t, `(?m)^\s*3\s+\d+\s.*dpt:\d+ mark match 0x2a`, l.ns.Exec(t, "iptables", "-L", "INPUT", "-v", "-x", "-n"))
	assert.Contains(t, p.Stdout(), "accept set-mark=0x2a")
}

func TestExplainsQueueInUse(t *testing.T) {
	t.Parallel()
	bin := progtest.Build(t, ".")
	ns := netnstest.New(t)
	var q *nfq.Queue
	ns.Do(t, func() {
		var err error
		q, err = nfq.Open(nfq.Config{Queue: 25})
		require.NoError(t, err)
	})
	defer q.Close()
	p := progtest.Start(t, ns, bin, "-queue", "25")
	assert.Equal(t, 1, p.Wait(t, 10*time.Second))
	assert.Contains(t, p.Stderr(), "queue 25 is bound by another socket")
	assert.Contains(t, p.Stderr(), fmt.Sprintf("pid %d)", os.Getpid()), "names the process holding it: this test")
}

func TestExplainsMissingPrivileges(t *testing.T) {
	t.Parallel()
	bin := progtest.Build(t, ".")
	ns := netnstest.New(t)
	// Root, but without CAP_NET_ADMIN: drop it from the bounding set.
	p := progtest.Start(t, ns, "setpriv", "--bounding-set", "-net_admin", "--inh-caps", "-all", "--", bin, "-queue", "26")
	assert.Equal(t, 1, p.Wait(t, 10*time.Second))
	assert.Contains(t, p.Stderr(), "CAP_NET_ADMIN")
	assert.Contains(t, p.Stderr(), "setcap cap_net_admin+ep")
}

func TestExplainsAFlagTheKernelRefuses(t *testing.T) {
	t.Parallel()
	bin := progtest.Build(t, ".")
	ns := netnstest.New(t)
	p := progtest.Start(t, ns, bin, "-queue", "27", "-flags", "conntrack")
	require.Eventually(t, func() bool {
		select {
		case <-p.Done():
			return true
		default:
			return strings.Contains(p.Stderr(), "listening on queue 27")
		}
	}, 10*time.Second, 10*time.Millisecond)
	if strings.Contains(p.Stderr(), "listening") {
		// A kernel with conntrack glue takes the flag: nothing to explain.
		assert.Equal(t, 0, p.Stop(t), p.String())
		return
	}
	// This one (no CONFIG_NETFILTER_NETLINK_GLUE_CT) refuses it.
	assert.Equal(t, 1, p.Wait(t, time.Second))
	assert.Regexp(t, `queue flag conntrack.*CONFIG_NETFILTER_NETLINK_GLUE_CT`, p.Stderr())
}

func TestExplainsAFileItCannotWrite(t *testing.T) {
	t.Parallel()
	bin := progtest.Build(t, ".")
	l := newUDPLab(t, 28)
	p := progtest.Start(t, l.ns, bin, "-queue", l.queue, "-w", "/nonexistent/queue.pcap")
	assert.Equal(t, 1, p.Wait(t, 10*time.Second))
	assert.Contains(t, p.Stderr(), "nfqdump: open /nonexistent/queue.pcap: no such file or directory")

	// A full disk shows at the first packet.
	p = progtest.Start(t, l.ns, bin, "-queue", l.queue, "-w", "/dev/full")
	p.WaitStderr(t, "listening on queue 28", 10*time.Second)
	l.send3(t)
	assert.Equal(t, 1, p.Wait(t, 10*time.Second), p.String())
	assert.Contains(t, p.Stderr(), "nfqdump: write /dev/full: no space left on device")
	assert.Regexp(t, `nfqdump: [1-3] packets, \d+ bytes; [1-3] verdicts, 0 failed`, p.Stderr())
	// The verdict comes before the write: the first datagram passed.
	assert.Equal(t, []string{"datagram-0"}, l.received(1))
}
