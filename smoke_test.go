//go:build linux && cgo

package nfq_test

import (
	"context"
	"testing"
	"time"

	"github.com/nfq-go/nfq"
	"github.com/stretchr/testify/require"
)

func TestSmoke(t *testing.T) {
	l := newUDPLab(t)
	q := l.open(t, nfq.Config{})
	ch, err := q.Packets(context.Background())
	require.NoError(t, err)
	l.sendN(t, 3)
	for i := 0; i < 3; i++ {
		p := recvPacket(t, ch)
		t.Logf("id=%d hook=%s out=%d proto=%#x len=%d payload=%q", p.ID, p.Hook, p.OutDev, p.HWProtocol, len(p.Payload), udpPayload(t, p.Payload))
		require.NoError(t, p.Accept())
	}
	require.Len(t, l.received(3, time.Second), 3)
}
