package nfq

import (
	"errors"
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOpErrorNamesOperationQueueAndCause(t *testing.T) {
	err := error(&OpError{Op: "bind queue", Queue: 7, Err: syscall.EPERM, Kind: ErrNoPermission, Hint: "run as root"})
	assert.Equal(t, "nfq: queue 7: bind queue: operation not permitted (run as root)", err.Error())
	assert.ErrorIs(t, err, os.ErrPermission)
	assert.ErrorIs(t, err, syscall.EPERM)
	assert.ErrorIs(t, err, ErrNoPermission)
	var errno syscall.Errno
	require.True(t, errors.As(err, &errno))
	assert.Equal(t, syscall.EPERM, errno)
}
