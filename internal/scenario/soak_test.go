//go:build linux && cgo && soak

package scenario_test

import (
	"bufio"
	"context"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nfq-go/nfq"
	"github.com/nfq-go/nfq/internal/lab"
	"github.com/nfq-go/nfq/internal/leaktest"
	"github.com/nfq-go/nfq/internal/netnstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// TestSoak pushes packets through a queue for minutes (NFQ_SOAK_DURATION,
// default 2m), restarting the consumer every NFQ_SOAK_RESTART (default 10s),
// and checks that nothing is lost and that resident memory stays flat after
// the warm-up (NFQ_SOAK_WARMUP, default 20s). Run it with scripts/soak.sh.
func TestSoak(t *testing.T) {
	duration := envDuration(t, "NFQ_SOAK_DURATION", 2*time.Minute)
	warmup := envDuration(t, "NFQ_SOAK_WARMUP", 20*time.Second)
	restartEvery := envDuration(t, "NFQ_SOAK_RESTART", 10*time.Second)
	require.Greater(t, duration, warmup)

	ns := netnstest.New(t)
	recv := ns.ListenUDP(t, "127.0.0.1:0")
	send := ns.DialUDP(t, recv.LocalAddr().String())
	forceBuffer(t, recv, unix.SO_RCVBUFFORCE, 16<<20)
	forceBuffer(t, send, unix.SO_SNDBUFFORCE, 16<<20)
	queue := lab.QueueNum()
	ns.Exec(t, "iptables", "-A", "OUTPUT", "-p", "udp", "--dport",
		strconv.Itoa(recv.LocalAddr().(*net.UDPAddr).Port), "-j", "NFQUEUE", "--queue-num",
		strconv.Itoa(int(queue)), "--queue-bypass")

	var sent, arrived, verdicts atomic.Uint64
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, err := recv.Read(buf); err != nil {
				return
			}
			arrived.Add(1)
		}
	}()

	// The sender keeps at most window packets in flight, so that the
	// kernel queue (1024) never overflows; it pauses while a queue opens
	// (see TestRestartUnderTrafficLosesNothing).
	const window = 512
	var pause sync.RWMutex
	stop := make(chan struct{})
	senderDone := make(chan struct{})
	go func() {
		defer close(senderDone)
		payload := []byte("soak-packet-0000")
		for {
			select {
			case <-stop:
				return
			default:
			}
			if sent.Load()-arrived.Load() >= window {
				time.Sleep(50 * time.Microsecond)
				continue
			}
			pause.RLock()
			_, err := send.Write(payload)
			pause.RUnlock()
			if err != nil {
				panic(err)
			}
			sent.Add(1)
		}
	}()

	open := func() (*nfq.Queue, chan struct{}) {
		pause.Lock()
		defer pause.Unlock()
		var q *nfq.Queue
		var err error
		ns.Do(t, func() {
			q, err = nfq.Open(nfq.Config{Queue: queue, DefaultVerdict: nfq.Accept, ReadBufferSize: 4 << 20})
		})
		require.NoError(t, err)
		ch, err := q.Packets(context.Background())
		require.NoError(t, err)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for p := range ch {
				if p.Accept() == nil {
					verdicts.Add(1)
				}
			}
		}()
		return q, done
	}

	start := time.Now()
	before := leaktest.Take()
	q, done := open()
	restarts := 0
	var rssWarm, rssMax, sentWarm uint64
	var warmAt time.Time
	for tick := time.NewTicker(time.Second); time.Since(start) < duration; <-tick.C {
		rss := vmRSS(t)
		switch {
		case warmAt.IsZero() && time.Since(start) >= warmup:
			warmAt, rssWarm, rssMax, sentWarm = time.Now(), rss, rss, sent.Load()
		case !warmAt.IsZero() && rss > rssMax:
			rssMax = rss
		}
		if time.Since(start) >= time.Duration(restarts+1)*restartEvery {
			require.NoError(t, q.Close())
			<-done
			q, done = open()
			restarts++
		}
	}
	rssEnd := vmRSS(t)
	close(stop)
	<-senderDone
	require.NoError(t, q.Close())
	<-done
	elapsed := time.Since(start)
	for deadline := time.Now().Add(10 * time.Second); arrived.Load() < sent.Load() && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}

	rate := float64(sent.Load()-sentWarm) / time.Since(warmAt).Seconds()
	t.Logf("soak: %v, %d restarts: %d packets sent, %d arrived, %d verdicts from the consumer, %.0f packets/s after warm-up",
		elapsed.Round(time.Second), restarts, sent.Load(), arrived.Load(), verdicts.Load(), rate)
	t.Logf("soak: resident memory %.1f MiB at warm-up (%v), %.1f MiB at the end, %.1f MiB at most",
		mib(rssWarm), warmup, mib(rssEnd), mib(rssMax))
	assert.Equal(t, sent.Load(), arrived.Load(), "every packet arrived")
	allowed := rssWarm + max(rssWarm/10, 8<<20)
	assert.LessOrEqual(t, rssEnd, allowed, "resident memory grew after the warm-up")
	assert.Empty(t, leaktest.Since(before, 5*time.Second))
}

func envDuration(t *testing.T, name string, def time.Duration) time.Duration {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	require.NoError(t, err, name)
	return d
}

// vmRSS is the process's resident memory in bytes.
func vmRSS(t *testing.T) uint64 {
	f, err := os.Open("/proc/self/status")
	require.NoError(t, err)
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			require.NoError(t, err)
			return kb << 10
		}
	}
	t.Fatal("no VmRSS in /proc/self/status")
	return 0
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }
