//go:build linux && cgo

package nfq

import (
	"io"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// libipq's process-wide error state and its texts, without the kernel.

func TestIPQErrStringsAreLibipqs(t *testing.T) {
	want := []string{
		"Unknown error", "Implementation error", "Unable to create netlink handle",
		"Unable to create netlink socket", "Unable to bind netlink socket", "Unable to allocate buffer",
		"Failed to receive netlink message", "Received EOF on netlink socket", "Invalid peer address length",
		"Sent message truncated", "Received message truncated", "Received error from netlink",
		"Failed to send netlink message", "Operation not supported", "Receive buffer size invalid",
		"Timeout", "Invalid protocol specified",
	}
	for code, s := range want {
		assert.Equal(t, s, IPQErrString(code), "code %d", code)
	}
	assert.Equal(t, "Implementation error", IPQErrString(17))
	assert.Equal(t, "Implementation error", IPQErrString(-1))
	assert.Equal(t, "Implementation error", IPQErrString(1<<40))
}

func TestIPQErrorStateIsSetOnFailureOnly(t *testing.T) {
	ipqResetErrors()
	defer ipqResetErrors()
	assert.Equal(t, "Unknown error", IPQErrStr())
	ipqSetErrors(IPQErrBind, syscall.EBUSY)
	ipqSetErrors(IPQErrTimeout, 0) // no system error: errno stays
	assert.Equal(t, IPQErrTimeout, IPQErrno())
	assert.Equal(t, "Timeout", IPQErrStr())
	assert.Equal(t, syscall.EBUSY, IPQSyscallErrno())
	assert.Equal(t, 1, IPQCtl(nil, 0), "a call that cannot fail")
	assert.Equal(t, IPQErrTimeout, IPQErrno(), "success clears nothing")
}

func TestIPQPerrorLine(t *testing.T) {
	cases := []struct {
		s     string
		null  bool
		code  int
		errno syscall.Errno
		want  string
	}{
		{"", true, 0, 0, "ERROR\n"},
		{"s", false, 0, 0, "s\n"},
		{"", false, IPQErrTimeout, 0, ": Timeout\n"},
		{"passer", false, IPQErrTimeout, syscall.EBUSY, "passer: Timeout: Device or resource busy\n"},
		{"", true, 99, 0, "ERROR: Implementation error\n"},
		{"x", false, 0, syscall.EPERM, "x: Operation not permitted\n"},
		{"x", false, 0, syscall.EAGAIN, "x: Resource temporarily unavailable\n"},
		{"x", false, 0, syscall.ENOENT, "x: No such file or directory\n"},
		{strings.Repeat("long", 1000), false, IPQErrSend, syscall.EFAULT, strings.Repeat("long", 1000) + ": Failed to send netlink message: Bad address\n"},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, IPQPerrorText(c.s, c.null, c.code, c.errno))
	}
}

func TestIPQPerrorWritesTheLineToStderr(t *testing.T) {
	ipqResetErrors()
	defer ipqResetErrors()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	saved := os.Stderr
	os.Stderr = w
	IPQPerror("")
	IPQCreateHandle(0, 99)
	IPQPerror("create")
	ipqSetErrors(IPQErrBind, syscall.EBUSY)
	IPQPerror("passer")
	os.Stderr = saved
	w.Close()
	out, err := io.ReadAll(r)
	require.NoError(t, err)
	assert.Equal(t, "ERROR\ncreate: Invalid protocol specified\npasser: Unable to bind netlink socket: Device or resource busy\n", string(out))
}
