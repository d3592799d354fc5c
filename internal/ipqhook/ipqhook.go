// Package ipqhook connects the C libipq library (the main package in
// libipq/cmd) to the libipq compatibility layer of package nfq, without
// making the layer's internals part of nfq's API. Package nfq fills the
// variables in its init; the C library imports nfq for that.
package ipqhook

import (
	"syscall"
	"time"
)

// WaitResult is how a wait for a readable fd ended.
type WaitResult int

const (
	Ready       WaitResult = iota // the fd is readable
	TimedOut                      // the timeout passed
	Interrupted                   // a signal interrupted the wait (EINTR)
	Failed                        // the wait failed; the errno says why
)

// WaitFunc waits until fd is readable, at most timeout (negative: no
// limit). The C library waits in C so that signals interrupt it as they
// interrupted libipq's select().
type WaitFunc func(fd int, timeout time.Duration) (WaitResult, syscall.Errno)

// The compatibility layer's entry points. Each returns the errno that C
// must see after the call (0: leave errno alone). h is a *nfq.IPQHandle.
var (
	Create     func(flags, protocol uint32) (h any, fd int, errno syscall.Errno)
	Destroy    func(h any) int
	Read       func(h any, buf []byte, timeout int, wait WaitFunc) (int, syscall.Errno)
	SetMode    func(h any, mode uint8, rng uint64) (int, syscall.Errno)
	SetVerdict func(h any, id uint64, verdict uint32, dataLen uint64, payload []byte) (int, syscall.Errno)
	// Errno returns the current error code and the number of failures so
	// far: a call failed when the number changed during it.
	Errno func() (code int, fails uint64)
	// PerrorLine is the line ipq_perror prints; errnoText is the C
	// library's strerror text, "" when errno is 0.
	PerrorLine func(s string, null bool, code int, errnoText string) string
)
