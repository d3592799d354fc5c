package nfq_test

import (
	"context"
	"fmt"
	"log"

	"github.com/nfq-go/nfq"
)

// Serve an iptables --queue-balance 0:3 rule: four queues, one receive loop
// each, all packets on one channel.
func ExampleOpenRange() {
	set, err := nfq.OpenRange(0, 3, nfq.Config{DefaultVerdict: nfq.Accept})
	if err != nil {
		log.Fatal(err)
	}
	defer set.Close()
	packets, err := set.Packets(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for p := range packets {
		p.Accept() // goes back through queue p.Queue
	}
}

// A callback per packet, called from one goroutine per queue.
func ExampleQueueSet_Run() {
	set, err := nfq.OpenRange(4, 7, nfq.Config{})
	if err != nil {
		log.Fatal(err)
	}
	err = set.Run(context.Background(), func(p *nfq.Packet) {
		p.Accept()
	})
	if err != nil {
		log.Fatal(err)
	}
}

// Drop what comes in on one interface, by name.
func ExamplePacket_InDevName() {
	var p *nfq.Packet // from Packets or Run
	if p == nil {
		return
	}
	if in, err := p.InDevName(); err == nil && in == "guest0" {
		p.Drop()
		return
	}
	p.Accept()
}

// The package counts what passes through it.
func ExampleQueue_Stats() {
	q, err := nfq.Open(nfq.Config{Queue: 9})
	if err != nil {
		log.Fatal(err)
	}
	defer q.Close()
	st := q.Stats()
	fmt.Printf("%d received, %d accepted, %d dropped by verdict\n", st.Received, st.ByVerdict.Accept, st.ByVerdict.Drop)
}

// The kernel's counters tell what the library cannot see: packets dropped
// before they reached the socket.
func ExampleQueue_KernelStats() {
	q, err := nfq.Open(nfq.Config{Queue: 9})
	if err != nil {
		log.Fatal(err)
	}
	defer q.Close()
	k, err := q.KernelStats()
	if err != nil {
		log.Print(err) // no /proc, say: the queue works without it
		return
	}
	fmt.Printf("%d waiting, %d dropped (queue full), %d dropped (socket buffer full)\n",
		k.QueueLen, k.Dropped, k.UserDropped)
}

// Counters by queue number.
func ExampleQueueSet_Stats() {
	set, err := nfq.OpenRange(0, 3, nfq.Config{})
	if err != nil {
		log.Fatal(err)
	}
	defer set.Close()
	for n, st := range set.Stats() {
		fmt.Printf("queue %d: %d received\n", n, st.Received)
	}
}
