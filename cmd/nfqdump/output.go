package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"syscall"
	"time"

	"github.com/nfq-go/nfq"
)

// output is where the packets go: lines (text, or JSON with -json) on
// standard output, a pcap file (-w), or both (-w FILE -print).
type output struct {
	lines *bufio.Writer // nil when no lines are printed
	enc   *json.Encoder // nil for text lines

	pcap    *pcapWriter // nil without -w
	pcapBuf *bufio.Writer
	file    *os.File // the -w file; nil for "-" and without -w
}

// Write errors are returned as they are: those of files name the file
// (standard output is /dev/stdout).

// openOutput creates the -w file (and writes its header) and sets up the
// lines.
func openOutput(o options, stdout io.Writer) (*output, error) {
	out := &output{}
	if o.write == "" || o.print {
		out.lines = bufio.NewWriter(stdout)
		if o.json {
			out.enc = json.NewEncoder(out.lines)
			out.enc.SetEscapeHTML(false)
		}
	}
	if o.write == "" {
		return out, nil
	}
	w := stdout
	if o.write != "-" {
		f, err := os.Create(o.write)
		if err != nil {
			return nil, err
		}
		w, out.file = f, f
	}
	out.pcapBuf = bufio.NewWriterSize(w, 64<<10)
	snaplen := o.snaplen
	if snaplen == 0 {
		snaplen = nfq.MaxCopyRange
	}
	var err error
	if out.pcap, err = newPcapWriter(out.pcapBuf, snaplen); err != nil {
		out.close()
		return nil, err
	}
	return out, nil
}

// packet writes p, which nfqdump received at the given time and gave the
// policy's verdict.
func (out *output) packet(p *nfq.Packet, pol policy, received time.Time) error {
	if out.pcap != nil {
		ts := received // the kernel stamps packets only when something asks it to
		if p.Has(nfq.AttrTimestamp) {
			ts = p.Timestamp
		}
		if err := out.pcap.writePacket(ts, p.Payload, p.OrigLen); err != nil {
			return err
		}
	}
	if out.lines == nil {
		return nil
	}
	r := newRecord(p, p.Has, pol, queueDevNames)
	if out.enc != nil {
		return out.enc.Encode(r)
	}
	_, err := fmt.Fprintln(out.lines, r.text(received))
	return err
}

// flush writes out what is buffered.
func (out *output) flush() error {
	if out.pcapBuf != nil {
		if err := out.pcapBuf.Flush(); err != nil {
			return err
		}
	}
	if out.lines != nil {
		return out.lines.Flush()
	}
	return nil
}

// close flushes and closes the -w file.
func (out *output) close() error {
	err := out.flush()
	if out.file != nil {
		if cerr := out.file.Close(); err == nil && cerr != nil {
			err = cerr
		}
		out.file = nil
	}
	return err
}

// isBrokenPipe tells whether err is a write to a pipe nobody reads any more
// (nfqdump | head): the reader has all it wants, so nfqdump stops cleanly.
func isBrokenPipe(err error) bool {
	return errors.Is(err, syscall.EPIPE)
}

// wireLen is the length of the whole packet, also when the copy range cut
// its payload.
func wireLen(p *nfq.Packet) int {
	if p.Has(nfq.AttrCapLen) {
		return int(p.OrigLen)
	}
	return len(p.Payload)
}
