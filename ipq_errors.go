package nfq

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
