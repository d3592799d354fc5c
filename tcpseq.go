package nfq

import (
	"encoding/binary"
	"fmt"
)

// AdjustTCPSeq adds seqDelta to the sequence number and ackDelta to the
// acknowledgment number of the TCP segment pkt (in place, modulo 2^32), then
// fixes its checksums with FixChecksums. The acknowledgment number is left
// alone unless the segment has the ACK flag.
//
// The C library's mangle does not touch sequence numbers, so after
// MangleTransport changes the length of a TCP payload by d bytes (d =
// len(rep) - n), both ends count bytes differently from then on. To keep the
// connection working, the program that queues both directions must, for as
// long as the connection lasts:
//
//   - add d to the sequence number of every later segment in the rewritten
//     direction (those whose sequence number is after the rewritten one's):
//     AdjustTCPSeq(pkt, d, 0);
//   - subtract d from the acknowledgment number of every segment in the
//     other direction that acknowledges bytes past the rewritten segment:
//     AdjustTCPSeq(pkt, 0, -d);
//   - rewrite a retransmission of the rewritten segment the same way, and
//     add up the deltas of successive rewrites by position.
//
// SACK blocks and other options that carry sequence numbers are not
// adjusted; disable SACK (net.ipv4.tcp_sack=0) if segments may be lost.
func AdjustTCPSeq(pkt []byte, seqDelta, ackDelta int32) error {
	const op = "adjust TCP sequence numbers"
	h := ParseHeaders(pkt)
	if err := h.checkRewritable(op); err != nil {
		return err
	}
	if h.Protocol != ProtoTCP {
		return rewriteError(op, ErrUnsupportedProtocol, fmt.Sprintf("IP protocol %d", h.Protocol), "only TCP has sequence numbers")
	}
	if seqDelta == 0 && (ackDelta == 0 || h.TCPFlags&TCPAck == 0) {
		return nil
	}
	t := pkt[h.TransportOffset:]
	binary.BigEndian.PutUint32(t[4:], h.Seq+uint32(seqDelta))
	if h.TCPFlags&TCPAck != 0 {
		binary.BigEndian.PutUint32(t[8:], h.Ack+uint32(ackDelta))
	}
	return FixChecksums(pkt)
}
