package nfq_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/nfq-go/nfq"
)

// Accept every packet of queue 0 with the channel API.
func Example() {
	q, err := nfq.Open(nfq.Config{Queue: 0})
	if err != nil {
		log.Fatal(err)
	}
	defer q.Close()
	packets, err := q.Packets(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for p := range packets {
		if err := p.Accept(); err != nil {
			log.Print(err)
		}
	}
}

// Drop UDP, accept the rest, with the callback API; the context bounds the
// queue's life.
func ExampleQueue_Run() {
	q, err := nfq.Open(nfq.Config{Queue: 1, DefaultVerdict: nfq.Accept})
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	err = q.Run(ctx, func(p *nfq.Packet) {
		if len(p.Payload) > 9 && p.Payload[0]>>4 == 4 && p.Payload[9] == 17 {
			p.Drop()
			return
		}
		p.Accept()
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		log.Fatal(err) // the socket failed
	}
}

// Serve the queue of a container's network namespace from outside it: pid
// is a process in the container (docker inspect -f '{{.State.Pid}}' NAME),
// and the NFQUEUE rule is in that namespace too. "/run/netns/NAME" names a
// namespace made by ip netns add.
func ExampleConfig_netNS() {
	pid := "4242"
	q, err := nfq.Open(nfq.Config{Queue: 0, NetNS: "/proc/" + pid + "/ns/net"})
	if err != nil {
		log.Fatal(err)
	}
	defer q.Close()
	err = q.Run(context.Background(), func(p *nfq.Packet) { p.Accept() })
	if err != nil {
		log.Fatal(err)
	}
}

// Mark packets for later rules (iptables -m mark --mark 7).
func ExamplePacket_SetVerdict() {
	var p *nfq.Packet // from Packets or Run
	if p == nil {
		return
	}
	p.SetVerdict(nfq.Accept, nfq.WithMark(7))
}

// Send a packet on to queue 9; if nobody listens there, accept it.
func ExampleToQueue() {
	v := nfq.ToQueue(9, true)
	fmt.Println(v)
	n, bypass, _ := v.QueueNum()
	fmt.Println(n, bypass)
	// Output:
	// queue:9+bypass
	// 9 true
}
