//go:build linux && cgo

package nfq_test

import (
	"os"
	"runtime"
	"testing"

	"github.com/nfq-go/nfq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// Capabilities are per thread: this test drops CAP_NET_ADMIN on a locked
// thread that is never unlocked, so the thread dies with its goroutine.
func TestOpenWithoutCapNetAdminSaysWhatIsMissing(t *testing.T) {
	t.Parallel()
	l := newUDPLab(t)
	errc := make(chan error, 1)
	l.ns.Do(t, func() {
		go func() {
			runtime.LockOSThread()
			if err := dropCapability(unix.CAP_NET_ADMIN); err != nil {
				errc <- err
				return
			}
			q, err := nfq.Open(nfq.Config{Queue: l.queue})
			if err == nil {
				q.Close()
			}
			errc <- err
		}()
	})
	err := <-errc
	require.Error(t, err)
	assert.ErrorIs(t, err, nfq.ErrNoPermission)
	assert.ErrorIs(t, err, os.ErrPermission)
	assert.NotErrorIs(t, err, nfq.ErrQueueInUse)
	assert.Contains(t, err.Error(), "CAP_NET_ADMIN")
	assert.Contains(t, err.Error(), "run as root")
}

func dropCapability(c uintptr) error {
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return err
	}
	data[c/32].Effective &^= 1 << (c % 32)
	data[c/32].Permitted &^= 1 << (c % 32)
	return unix.Capset(&hdr, &data[0])
}
