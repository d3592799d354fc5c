// Command quickstart logs and accepts every packet of NFQUEUE queue 0 until
// Ctrl-C. It is the program of the README's Usage section.
package main

import (
	"context"
	"errors"
	"log"
	"os"
	"os/signal"
	"syscall"

	"github.com/nfq-go/nfq"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	q, err := nfq.Open(nfq.Config{Queue: 0})
	if err != nil {
		log.Fatal(err) // says what is missing: privileges, kernel support, ...
	}
	defer q.Close() // packets still without a verdict get Drop
	log.Print("queue 0 open; Ctrl-C to stop")

	err = q.Run(ctx, func(p *nfq.Packet) {
		log.Printf("packet %d: hook %s, %d bytes, %s", p.ID, p.Hook, len(p.Payload), p.Attrs())
		if err := p.Accept(); err != nil { // exactly one verdict per packet
			log.Print(err)
		}
	})
	if err != nil && !errors.Is(err, context.Canceled) {
		log.Fatal(err) // the queue failed
	}
	st := q.Stats()
	log.Printf("%d packets, %d accepted", st.Received, st.ByVerdict.Accept)
}
