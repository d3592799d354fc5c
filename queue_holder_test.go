//go:build linux && cgo

package nfq

import (
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestNetlinkSocketInode(t *testing.T) {
	file := []byte("sk               Eth Pid        Groups   Rmem     Wmem     Dump  Locks    Drops    Inode\n" +
		"00000000a95f71bd 0   4242       00000000 0        0        0     2        0        11\n" +
		"000000003fd806e2 12  0          00000000 0        0        0     2        0        12\n" +
		"00000000d73429e6 12  4242       00000000 0        0        0     2        0        13\n")
	inode, ok := netlinkSocketInode(file, 12, 4242)
	assert.True(t, ok)
	assert.Equal(t, uint64(13), inode, "the netfilter socket, not the route socket with the same port id")
	_, ok = netlinkSocketInode(file, 12, 77)
	assert.False(t, ok)
}

func TestQueueInUseErrorNamesTheHolder(t *testing.T) {
	for want, h := range map[string]queueHolder{
		"queue 5 is bound by another socket (port id 99, process nfqdump pid 1234)":              {portID: 99, pid: 1234, comm: "nfqdump"},
		"queue 5 is bound by another socket (port id 99; no process visible from here holds it)": {portID: 99},
		"queue 5 is bound by another socket":                                                     {},
	} {
		assert.Equal(t, want, (&queueInUseError{queue: 5, holder: h}).Error())
	}
	self := &queueInUseError{queue: 5, holder: queueHolder{portID: 1, pid: os.Getpid(), comm: "me"}}
	assert.Contains(t, self.Error(), "this process")

	err := error(&OpError{Op: "bind queue", Queue: 5, Err: self, Kind: ErrQueueInUse})
	assert.ErrorIs(t, err, syscall.EBUSY)
	assert.NotErrorIs(t, err, os.ErrPermission, "a taken queue is no privilege problem")
	assert.NotErrorIs(t, err, syscall.EPERM)
	assert.ErrorIs(t, err, ErrQueueInUse)
}
