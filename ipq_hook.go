package nfq

import (
	"syscall"
	"time"

	"github.com/nfq-go/nfq/internal/ipqhook"
)

// The C libipq library (libipq/cmd) calls the compatibility layer through
// ipqhook, so that it needs nothing from nfq's public API beyond it.
func init() {
	ipqhook.Create = func(flags, protocol uint32) (any, int, syscall.Errno) {
		h, errno := ipqCreate(protocol, -1)
		if h == nil {
			return nil, -1, errno
		}
		return h, h.efd, 0
	}
	ipqhook.Destroy = func(h any) int { return IPQDestroyHandle(ipqHandleOf(h)) }
	ipqhook.Read = func(h any, buf []byte, timeout int, wait ipqhook.WaitFunc) (int, syscall.Errno) {
		return ipqHandleOf(h).read(buf, timeout, func(h *IPQHandle, d time.Duration) (ipqWaitResult, syscall.Errno) {
			switch res, errno := wait(h.efd, d); res {
			case ipqhook.Ready:
				return ipqReady, 0
			case ipqhook.TimedOut:
				return ipqTimedOut, 0
			case ipqhook.Interrupted:
				return ipqInterrupted, errno
			default:
				return ipqWaitFailed, errno
			}
		})
	}
	ipqhook.SetMode = func(h any, mode uint8, rng uint64) (int, syscall.Errno) {
		return ipqHandleOf(h).setMode(mode, rng)
	}
	ipqhook.SetVerdict = func(h any, id uint64, verdict uint32, dataLen uint64, payload []byte) (int, syscall.Errno) {
		return ipqHandleOf(h).setVerdict(id, verdict, dataLen, payload)
	}
	ipqhook.Errno = func() (int, uint64) { return IPQErrno(), ipqFails.Load() }
	ipqhook.PerrorLine = ipqPerrorLine
}

// ipqHandleOf returns the handle in h, nil for none.
func ipqHandleOf(h any) *IPQHandle {
	ih, _ := h.(*IPQHandle)
	return ih
}
