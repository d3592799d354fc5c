package nfq_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/nfq-go/nfq"
)

// Decide once per connection: the first packet's verdict marks its
// connection, and an iptables rule before the NFQUEUE one
// (-m connmark --mark 1 -j ACCEPT, or 2 -j DROP) handles the rest in the
// kernel. A kernel without conntrack glue refuses FlagConntrack.
func ExampleWithConnMark() {
	q, err := nfq.Open(nfq.Config{Queue: 4, Flags: nfq.FlagConntrack})
	if errors.Is(err, nfq.ErrNotSupported) {
		log.Fatal(err) // names CONFIG_NETFILTER_NETLINK_GLUE_CT
	}
	if err != nil {
		log.Fatal(err)
	}
	defer q.Close()
	err = q.Run(context.Background(), func(p *nfq.Packet) {
		if !p.Has(nfq.AttrConntrack) {
			p.Accept() // untracked: there is no connection to mark
			return
		}
		if p.Has(nfq.AttrConnState) && p.ConnState == nfq.ConnNew {
			fmt.Println("new connection", p.ConnID)
		}
		p.SetVerdict(nfq.Accept, nfq.WithConnMark(1))
	})
	if err != nil {
		log.Fatal(err)
	}
}

// Connection states print as iptables -m conntrack --ctstate spells them.
func ExampleConnState() {
	fmt.Println(nfq.ConnNew, nfq.ConnEstablishedReply, nfq.ConnEstablishedReply.IsReply())
	// Output: NEW ESTABLISHED_REPLY true
}
