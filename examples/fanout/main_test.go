package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseRange(t *testing.T) {
	for in, want := range map[string][2]uint16{"0:3": {0, 3}, "7": {7, 7}, "10:10": {10, 10}, "0:65535": {0, 65535}} {
		a, b, err := parseRange(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, [2]uint16{a, b}, in)
	}
	for _, bad := range []string{"", "3:1", "1:x", "x", "0:65536", "-1:2", "1:2:3"} {
		_, _, err := parseRange(bad)
		assert.Error(t, err, bad)
	}
}
