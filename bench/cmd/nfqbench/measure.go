package main

import (
	"fmt"
	"strconv"
	"time"

	"github.com/nfq-go/nfq/bench/internal/result"
)

// throughput runs one consumer against a UDP blast of one payload size.
func (b *bench) throughput(round int, name string, size int) (s Sample, err error) {
	s = Sample{Round: round, Kind: kindThroughput, Consumer: name, Size: size,
		Result: new(result.Consumer), Sender: new(result.Sender), Sink: new(result.Sink), Kernel: new(result.QueueCounters)}
	sink, err := b.startSink()
	if err != nil {
		return s, err
	}
	defer sink.kill()
	cons, err := b.startConsumer(name)
	if err != nil {
		return s, err
	}
	defer cons.kill()

	udp0, err := udpCounters()
	if err != nil {
		return s, err
	}
	machine := takeCPUSnapshot()
	if err := b.blast(size, b.opt.duration, s.Sender); err != nil {
		return s, err
	}
	busy := machine.busyCores()
	if *s.Kernel, err = b.drained(); err != nil {
		return s, err
	}
	if err := b.stopConsumer(name, cons, s.Result); err != nil {
		return s, err
	}
	if s.Result.ActiveS == 0 {
		// passer does not time its packets: the sender's blast is the
		// window (slightly longer than the consumer's, so a floor).
		s.Result.ActiveS = s.Sender.ElapsedS
	}
	if s.UDP, err = delivered(udp0, s.Result.Packets); err != nil {
		return s, err
	}
	if err := sink.stop(s.Sink); err != nil {
		return s, err
	}
	if s.Sender.ElapsedS > 0 {
		ours := s.Result.UserS + s.Result.SysS + s.Sender.UserS + s.Sender.SysS + s.Sink.UserS + s.Sink.SysS
		s.OtherCores = max(0, busy-ours/s.Sender.ElapsedS)
	}
	return s, nil
}

// delivered waits until the accepted packets have reached the sink socket or
// stopped arriving, and returns the UDP counters' change since before. On a
// loaded machine the loopback backlog can be drained by ksoftirqd well after
// the verdict; stopping the sink earlier would undercount.
func delivered(before UDPCounters, accepted uint64) (*UDPCounters, error) {
	deadline := time.Now().Add(3 * time.Second)
	var last uint64
	lastMove := time.Now()
	for {
		now, err := udpCounters()
		if err != nil {
			return nil, err
		}
		d := UDPCounters{now.InDatagrams - before.InDatagrams, now.RcvbufErrors - before.RcvbufErrors}
		got := d.InDatagrams + d.RcvbufErrors
		if got != last {
			last, lastMove = got, time.Now()
		}
		// Done when all arrived, or when nothing moved for a while: the rest was lost on the way.
		if got >= accepted || time.Since(lastMove) > 500*time.Millisecond || time.Now().After(deadline) {
			return &d, nil
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// drained waits until no packet waits for a verdict and returns the queue's
// counters; a consumer that stopped giving verdicts fails here.
func (b *bench) drained() (result.QueueCounters, error) {
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := queueCounters(b.opt.queue)
		if err != nil || c.Total == 0 {
			return c, err
		}
		if time.Now().After(deadline) {
			return c, fmt.Errorf("%d packets still wait for a verdict 5s after the sender stopped", c.Total)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// latency runs one consumer while the prober sends ICMP echoes through it.
func (b *bench) latency(round int, name string) (s Sample, err error) {
	s = Sample{Round: round, Kind: kindLatency, Consumer: name, Result: new(result.Consumer), Probe: new(result.Probe)}
	cons, err := b.startConsumer(name)
	if err != nil {
		return s, err
	}
	defer cons.kill()
	if err := b.warmUp(); err != nil {
		return s, err
	}
	if err := b.probe(queuedAddr, s.Probe); err != nil {
		return s, err
	}
	return s, b.stopConsumer(name, cons, s.Result)
}

// warmUp sends a short UDP blast through the running consumer, so that its
// latency is measured warm. A fresh Go process touches new heap pages for
// its first few megabytes of packets (a page fault every dozen packets or
// so, tens of microseconds each on a VM), until its first GC cycle lets it
// reuse memory; a consumer that has been running for a while does not.
func (b *bench) warmUp() error {
	if b.opt.warmup <= 0 {
		return nil
	}
	sink, err := b.startSink()
	if err != nil {
		return err
	}
	defer sink.kill()
	if err := b.blast(64, b.opt.warmup, new(result.Sender)); err != nil {
		return err
	}
	if _, err := b.drained(); err != nil {
		return err
	}
	return sink.stop(new(result.Sink))
}

// startSink starts the UDP sink the blasts go to.
func (b *bench) startSink() (*daemon, error) {
	return startDaemon([]string{b.path("sink"), "-p", strconv.Itoa(b.opt.port)})
}

// blast sends UDP datagrams of size payload bytes through the queue for d
// and decodes the sender's result into out.
func (b *bench) blast(size int, d time.Duration, out *result.Sender) error {
	sender := []string{b.path("sender"), "-p", strconv.Itoa(b.opt.port), "-s", strconv.Itoa(size),
		"-d", strconv.FormatFloat(d.Seconds(), 'f', 3, 64)}
	return runJSON(sender, d+30*time.Second, out)
}

// startConsumer starts a consumer and waits until it is ready. passer says
// so on stderr; the bench's own consumers print READY.
func (b *bench) startConsumer(name string) (*daemon, error) {
	argv, err := b.consumerArgv(name)
	if err != nil {
		return nil, err
	}
	if name == "passer" {
		return startDaemonReadyOn(argv, "passer: queue ")
	}
	return startDaemon(argv)
}

// stopConsumer stops a consumer and fills res from what it printed; for
// passer, from its summary line and the process's rusage.
func (b *bench) stopConsumer(name string, d *daemon, res *result.Consumer) error {
	if name != "passer" {
		return d.stop(res)
	}
	last, err := d.stopLine()
	if err != nil {
		return err
	}
	if err := parsePasserSummary(last, res); err != nil {
		return err
	}
	res.Consumer, res.Queue = name, b.opt.queue
	res.UserS, res.SysS = d.rusage()
	return nil
}

// parsePasserSummary reads the line passer prints when it stops.
func parsePasserSummary(line string, res *result.Consumer) error {
	var seen, verdicts, accepted, failed, defaults, overruns uint64
	_, err := fmt.Sscanf(line, "passer: %d packets seen, %d verdicts given (%d accept, %d failed), %d default verdicts, %d overruns",
		&seen, &verdicts, &accepted, &failed, &defaults, &overruns)
	if err != nil {
		return fmt.Errorf("passer: bad summary line %q: %v", line, err)
	}
	res.Packets, res.VerdictErrors, res.Overruns = accepted, failed, overruns
	return nil
}

// baseline measures the same echoes without the queue: the kernel's share.
func (b *bench) baseline(round int) (Sample, error) {
	s := Sample{Round: round, Kind: kindBaseline, Probe: new(result.Probe)}
	return s, b.probe(unqueuedAddr, s.Probe)
}

func (b *bench) probe(addr string, p *result.Probe) error {
	argv := []string{b.path("prober"), "-a", addr, "-c", strconv.Itoa(b.opt.pings),
		"-i", strconv.Itoa(int(b.opt.pingInterval / time.Microsecond))}
	timeout := time.Duration(b.opt.pings)*b.opt.pingInterval + 30*time.Second
	if err := runJSON(argv, timeout, p); err != nil {
		return err
	}
	if p.Received < p.Sent {
		return fmt.Errorf("prober: %d of %d echoes unanswered", p.Sent-p.Received, p.Sent)
	}
	return nil
}
