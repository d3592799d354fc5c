//go:build !linux || !cgo

package nfq

// MangleTransport fails in this build: the rewrite is done by
// libnetfilter_queue, which needs Linux and cgo.
func MangleTransport(pkt []byte, off, n int, rep []byte) ([]byte, error) {
	return nil, rewriteError("mangle transport payload", errUnsupported, "", "")
}

// FixChecksums fails in this build: the checksums are computed by
// libnetfilter_queue, which needs Linux and cgo.
func FixChecksums(pkt []byte) error {
	return rewriteError("fix checksums", errUnsupported, "", "")
}
