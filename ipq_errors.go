package nfq

import (
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"unicode"
	"unicode/utf8"
)

// libipq error codes (IPQ_ERR_*). libipq keeps the last one in the
// process-wide ipq_errno; IPQErrno reads it here.
const (
	IPQErrNone     = 0  // IPQ_ERR_NONE
	IPQErrImpl     = 1  // IPQ_ERR_IMPL
	IPQErrHandle   = 2  // IPQ_ERR_HANDLE
	IPQErrSocket   = 3  // IPQ_ERR_SOCKET
	IPQErrBind     = 4  // IPQ_ERR_BIND
	IPQErrBuffer   = 5  // IPQ_ERR_BUFFER
	IPQErrRecv     = 6  // IPQ_ERR_RECV
	IPQErrNLEOF    = 7  // IPQ_ERR_NLEOF
	IPQErrAddrLen  = 8  // IPQ_ERR_ADDRLEN
	IPQErrSTrunc   = 9  // IPQ_ERR_STRUNC
	IPQErrRTrunc   = 10 // IPQ_ERR_RTRUNC
	IPQErrNLRecv   = 11 // IPQ_ERR_NLRECV
	IPQErrSend     = 12 // IPQ_ERR_SEND
	IPQErrSupp     = 13 // IPQ_ERR_SUPP
	IPQErrRecvBuf  = 14 // IPQ_ERR_RECVBUF
	IPQErrTimeout  = 15 // IPQ_ERR_TIMEOUT
	IPQErrProtocol = 16 // IPQ_ERR_PROTOCOL
)

// ipqErrStrings are libipq's texts, indexed by code; C programs compare
// them, so they must stay byte for byte.
var ipqErrStrings = [...]string{
	IPQErrNone:     "Unknown error",
	IPQErrImpl:     "Implementation error",
	IPQErrHandle:   "Unable to create netlink handle",
	IPQErrSocket:   "Unable to create netlink socket",
	IPQErrBind:     "Unable to bind netlink socket",
	IPQErrBuffer:   "Unable to allocate buffer",
	IPQErrRecv:     "Failed to receive netlink message",
	IPQErrNLEOF:    "Received EOF on netlink socket",
	IPQErrAddrLen:  "Invalid peer address length",
	IPQErrSTrunc:   "Sent message truncated",
	IPQErrRTrunc:   "Received message truncated",
	IPQErrNLRecv:   "Received error from netlink",
	IPQErrSend:     "Failed to send netlink message",
	IPQErrSupp:     "Operation not supported",
	IPQErrRecvBuf:  "Receive buffer size invalid",
	IPQErrTimeout:  "Timeout",
	IPQErrProtocol: "Invalid protocol specified",
}

// The process-wide error state, as in libipq: the code of the last failure
// and the system error (C's errno) that came with a failure, if any. Both
// are set on failure and never cleared on success.
var (
	ipqErrno    atomic.Int32
	ipqSysErrno atomic.Uint32
	ipqFails    atomic.Uint64 // counts failures, so the C library can tell a call failed
)

// ipqFail records a failure. errno 0 leaves the system error as it was,
// like a libipq failure that made no system call.
func ipqFail(code int, errno syscall.Errno) {
	ipqErrno.Store(int32(code))
	ipqFails.Add(1)
	if errno != 0 {
		ipqSysErrno.Store(uint32(errno))
	}
}

// IPQErrno returns the code of the last libipq failure (IPQErr*), the
// value of C's ipq_errno.
func IPQErrno() int { return int(ipqErrno.Load()) }

// IPQSyscallErrno returns the system error of the last failure that had
// one: the Go counterpart of C's errno, which IPQPerror prints.
func IPQSyscallErrno() syscall.Errno { return syscall.Errno(ipqSysErrno.Load()) }

// IPQErrStr returns the text of the current error code.
//
// It stands for ipq_errstr(3). Modern API: the error values that Open,
// Packets and SetVerdict return (*OpError).
func IPQErrStr() string { return IPQErrString(IPQErrno()) }

// IPQErrString returns the text of libipq error code code; a code out of
// range reads as "Implementation error", as in libipq.
func IPQErrString(code int) string {
	if code < 0 || code >= len(ipqErrStrings) {
		return ipqErrStrings[IPQErrImpl]
	}
	return ipqErrStrings[code]
}

// IPQPerror writes s, the current error text and the current system error
// to standard error, like ipq_perror(3): "s: text: strerror\n", each part
// present only when set. An empty s stands for C's NULL and prints "ERROR".
//
// Modern API: log the error values the package returns.
func IPQPerror(s string) {
	fmt.Fprint(os.Stderr, IPQPerrorText(s, s == "", IPQErrno(), IPQSyscallErrno()))
}

// IPQPerrorText is the line ipq_perror prints for s (null: C's NULL), error
// code code and system error errno (0: none), with the C library's
// strerror texts.
func IPQPerrorText(s string, null bool, code int, errno syscall.Errno) string {
	text := ""
	if errno != 0 {
		text = ipqStrerror(errno)
	}
	return ipqPerrorLine(s, null, code, text)
}

// ipqPerrorLine assembles the line from its parts; the C library passes
// the text of its own strerror.
func ipqPerrorLine(s string, null bool, code int, errnoText string) string {
	if null {
		s = "ERROR"
	}
	if code != IPQErrNone {
		s += ": " + IPQErrString(code)
	}
	if errnoText != "" {
		s += ": " + errnoText
	}
	return s + "\n"
}

// ipqStrerror returns glibc's strerror text for errno. Go's table holds the
// same texts with the first letter lowered, so raising it gives glibc's.
func ipqStrerror(errno syscall.Errno) string {
	s := errno.Error()
	r, n := utf8.DecodeRuneInString(s)
	if unicode.IsLower(r) && !(len(s) > n && unicode.IsUpper(rune(s[n]))) {
		return string(unicode.ToUpper(r)) + s[n:]
	}
	return s
}
