package main

import (
	"encoding/binary"
	"io"
	"time"
)

// The classic pcap file format, which tcpdump -r, Wireshark and every
// libpcap program read: a 24-byte file header, then a 16-byte header before
// each packet.
//
// nfqdump writes it itself rather than through a pcap package: the format
// is those two fixed headers and nothing else, and nfqdump lives in the
// library's module, so any package it imports would be required by the
// go.mod of every program that uses nfq. The tests read the files back with
// tcpdump.
const (
	pcapMagic        = 0xa1b2c3d4 // microsecond timestamps, in the writer's byte order
	pcapVersionMajor = 2
	pcapVersionMinor = 4
	// linkTypeRaw is LINKTYPE_RAW: each packet starts with its IPv4 or IPv6
	// header, as NFQUEUE delivers it (the version nibble tells which).
	linkTypeRaw = 101

	pcapFileHeaderLen   = 24
	pcapRecordHeaderLen = 16
)

// pcapWriter writes packets to w as a pcap file. It does not buffer: give it
// a buffered writer.
type pcapWriter struct {
	w       io.Writer
	snaplen uint32
	hdr     [pcapRecordHeaderLen]byte
}

// newPcapWriter writes the file header; snaplen is the most bytes of a
// packet the file holds (the copy range).
func newPcapWriter(w io.Writer, snaplen uint32) (*pcapWriter, error) {
	var h [pcapFileHeaderLen]byte
	le := binary.LittleEndian // readers take the byte order from the magic
	le.PutUint32(h[0:], pcapMagic)
	le.PutUint16(h[4:], pcapVersionMajor)
	le.PutUint16(h[6:], pcapVersionMinor)
	// h[8:16]: time zone offset and timestamp accuracy, always 0.
	le.PutUint32(h[16:], snaplen)
	le.PutUint32(h[20:], linkTypeRaw)
	if _, err := w.Write(h[:]); err != nil {
		return nil, err
	}
	return &pcapWriter{w: w, snaplen: snaplen}, nil
}

// writePacket writes one packet: data is what was captured (from the IP
// header), origLen the length of the whole packet.
func (pw *pcapWriter) writePacket(ts time.Time, data []byte, origLen uint32) error {
	if origLen < uint32(len(data)) {
		origLen = uint32(len(data))
	}
	if uint32(len(data)) > pw.snaplen {
		data = data[:pw.snaplen] // readers refuse records longer than the file's snaplen
	}
	le := binary.LittleEndian
	le.PutUint32(pw.hdr[0:], uint32(ts.Unix()))
	le.PutUint32(pw.hdr[4:], uint32(ts.Nanosecond()/1000))
	le.PutUint32(pw.hdr[8:], uint32(len(data)))
	le.PutUint32(pw.hdr[12:], origLen)
	if _, err := pw.w.Write(pw.hdr[:]); err != nil {
		return err
	}
	_, err := pw.w.Write(data)
	return err
}
