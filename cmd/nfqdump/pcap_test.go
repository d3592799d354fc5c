package main

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestPcapHeadersAreTheClassicLayout(t *testing.T) {
	var b bytes.Buffer
	pw, err := newPcapWriter(&b, 96)
	require.NoError(t, err)
	// The file header: magic, version 2.4, zone and accuracy 0, snaplen,
	// LINKTYPE_RAW, all little-endian.
	assert.Equal(t, []byte{
		0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0,
		0, 0, 0, 0, 0, 0, 0, 0,
		96, 0, 0, 0, 101, 0, 0, 0,
	}, b.Bytes())

	b.Reset()
	ts := time.Unix(1700000000, 123456789)
	require.NoError(t, pw.writePacket(ts, []byte{0x45, 1, 2}, 1500))
	assert.Equal(t, []byte{
		0x00, 0xf1, 0x53, 0x65, // seconds
		0x40, 0xe2, 0x01, 0x00, // 123456 microseconds
		3, 0, 0, 0, // captured
		0xdc, 0x05, 0, 0, // whole packet
		0x45, 1, 2,
	}, b.Bytes())
}

func TestPcapRecordsStayWithinTheSnaplen(t *testing.T) {
	var b bytes.Buffer
	pw, err := newPcapWriter(&b, 4)
	require.NoError(t, err)
	b.Reset()
	require.NoError(t, pw.writePacket(time.Unix(1, 0), []byte{1, 2, 3, 4, 5, 6}, 0))
	le := binary.LittleEndian
	assert.Equal(t, uint32(4), le.Uint32(b.Bytes()[8:]), "cut to the snaplen")
	assert.Equal(t, uint32(6), le.Uint32(b.Bytes()[12:]), "never shorter than what was captured")
	assert.Equal(t, []byte{1, 2, 3, 4}, b.Bytes()[16:])
}

type failingWriter struct{ err error }

func (f failingWriter) Write([]byte) (int, error) { return 0, f.err }

func TestPcapWriterReportsWriteErrors(t *testing.T) {
	boom := errors.New("disk full")
	_, err := newPcapWriter(failingWriter{boom}, 10)
	assert.ErrorIs(t, err, boom)
	pw := &pcapWriter{w: failingWriter{boom}, snaplen: 10}
	assert.ErrorIs(t, pw.writePacket(time.Now(), []byte{1}, 1), boom)
}
