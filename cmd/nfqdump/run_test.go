package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRunRefusesBadFlagsBeforeTouchingTheKernel(t *testing.T) {
	for _, args := range [][]string{
		{"-verdict", "reject"},
		{"-queue", "-1"},
		{"-verdict", "repeat"},
		{"-flags", "nope"},
	} {
		var stdout, stderr bytes.Buffer
		assert.Equal(t, exitUsage, run(args, &stdout, &stderr), "%v", args)
		assert.Contains(t, stderr.String(), "nfqdump: ", "%v", args)
		assert.Empty(t, stdout.String())
	}
	var stdout, stderr bytes.Buffer
	assert.Equal(t, exitOK, run([]string{"-help"}, &stdout, &stderr))
	assert.Contains(t, stderr.String(), "Send packets to the queue with a rule")
}
