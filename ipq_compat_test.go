//go:build linux && cgo

package nfq

import (
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Handles refused or gone, without the kernel.

func TestIPQCreateRefusesUnknownProtocolAndBadQueueVariable(t *testing.T) {
	ipqResetErrors()
	defer ipqResetErrors()
	assert.Nil(t, IPQCreateHandle(0, 99))
	assert.Equal(t, IPQErrProtocol, IPQErrno())
	assert.Equal(t, "Invalid protocol specified", IPQErrStr())
	for _, v := range []string{"70000", "-1", "+3", " 3", "3x"} {
		t.Setenv("LIBIPQ_QUEUE", v)
		assert.Nil(t, IPQCreateHandle(0, NFProtoIPv4), v)
		assert.Equal(t, IPQErrHandle, IPQErrno(), v)
		assert.Equal(t, syscall.EINVAL, IPQSyscallErrno(), v)
	}
	t.Setenv("LIBIPQ_QUEUE", "")
	t.Setenv("LIBIPQ_QUEUE_IPV6", "bad")
	assert.Nil(t, IPQCreateHandle(0, NFProtoIPv6), "the family's own variable first")
	assert.Equal(t, IPQErrHandle, IPQErrno())
}

func TestIPQNilAndDestroyedHandles(t *testing.T) {
	ipqResetErrors()
	defer ipqResetErrors()
	assert.Equal(t, 0, IPQDestroyHandle(nil))
	assert.Equal(t, -1, IPQRead(nil, make([]byte, 64), -1))
	assert.Equal(t, IPQErrRecv, IPQErrno())
	assert.Equal(t, -1, IPQSetMode(nil, IPQCopyMeta, 0))
	assert.Equal(t, -1, IPQSetVerdict(nil, 1, Accept, 0, nil))
	assert.Equal(t, IPQErrSend, IPQErrno())
	assert.Equal(t, syscall.EBADF, IPQSyscallErrno())
	assert.Equal(t, 1, IPQCtl(nil, 0))
	var h IPQHandle // never created: as destroyed
	h.closing.Store(true)
	assert.Equal(t, -1, h.Fd())
	assert.Equal(t, -1, IPQRead(&h, make([]byte, 64), 0))
	assert.Equal(t, 0, IPQDestroyHandle(&h))
}
