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

// The kernel's counters tell what the library cannot see: packets dropped
// before they reached the socket.
func ExampleQueue_Stats() {
	q, err := nfq.Open(nfq.Config{Queue: 9})
	if err != nil {
		log.Fatal(err)
	}
	defer q.Close()
	st := q.Stats()
	if st.Kernel.Present {
		fmt.Printf("%d waiting, %d dropped (queue full), %d dropped (socket buffer full)\n",
			st.Kernel.QueueLen, st.Kernel.Dropped, st.Kernel.UserDropped)
	}
	fmt.Printf("%d accepted, %d dropped by verdict\n", st.ByVerdict.Accept, st.ByVerdict.Drop)
}
