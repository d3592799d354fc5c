//go:build !linux

package nfq

import "syscall"

// Without Linux there is no NFQUEUE: IPQCreateHandle fails with
// IPQErrHandle.

func newIPQEventfd() (int, error) { return -1, syscall.ENOSYS }

func efdPost(fd int) {}

func efdTake(fd int) {}

type ipqLinks struct{}

func openIPQLinks() (*ipqLinks, error) { return nil, syscall.ENOSYS }

func (l *ipqLinks) close() {}

func (l *ipqLinks) lookup(index uint32) (name string, typ uint16, ok bool) { return "", 0, false }

func efdClose(fd int) {}
