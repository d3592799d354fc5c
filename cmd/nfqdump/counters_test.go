package main

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestStatusLine(t *testing.T) {
	t0 := time.Unix(100, 0)
	prev := sample{at: t0, packets: 100, bytes: 10000}
	cur := sample{at: t0.Add(2 * time.Second), packets: 300, bytes: 2_010_000}
	assert.Equal(t, "300 packets, 2.0 MB, 100 pkt/s, 1.0 MB/s", statusLine(prev, cur))
	assert.Equal(t, "0 packets, 0 B, 0 pkt/s, 0 B/s", statusLine(sample{at: t0}, sample{at: t0}))

	cur.drops = &kernelDrops{known: true, queueFull: 3, socketFull: 40}
	assert.Equal(t, "300 packets, 2.0 MB, 100 pkt/s, 1.0 MB/s; kernel dropped 3 (queue full), 40 (socket full)", statusLine(prev, cur))
	cur.drops = &kernelDrops{why: "the queue is closed"}
	assert.Equal(t, "300 packets, 2.0 MB, 100 pkt/s, 1.0 MB/s; kernel drops unknown (the queue is closed)", statusLine(prev, cur))
}

func TestByteSize(t *testing.T) {
	assert.Equal(t, "999 B", byteSize(999))
	assert.Equal(t, "1.5 kB", byteSize(1500))
	assert.Equal(t, "12.3 GB", byteSize(12.3e9))
}

func TestReportWritesLinesUntilStopped(t *testing.T) {
	c := counters{kernel: func() kernelDrops { return kernelDrops{known: true, socketFull: 7} }}
	var out bytes.Buffer
	w := &lockedWriter{w: &out}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.report(w, false, 10*time.Millisecond, stop)
	}()
	c.add(100)
	c.add(50)
	assert.Eventually(t, func() bool {
		w.mu.Lock()
		defer w.mu.Unlock()
		return strings.Contains(out.String(), "nfqdump: 2 packets, 150 B,") &&
			strings.Contains(out.String(), "; kernel dropped 0 (queue full), 7 (socket full)\n")
	}, 2*time.Second, 5*time.Millisecond)
	close(stop)
	wg.Wait()
	assert.NotContains(t, out.String(), "\r", "no terminal, no rewriting")
}
