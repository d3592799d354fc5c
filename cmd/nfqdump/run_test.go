package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunRefusesBadFlagsBeforeTouchingTheKernel(t *testing.T) {
	for _, args := range [][]string{
		{"-verdict", "reject"},
		{"-queue", "-1"},
		{"-verdict", "repeat"},
		{"-flags", "nope"},
		{"-nosuchflag"},
		{"-c"},
		{"-s", "many"},
		{"-print"},
		{"icmp"},
	} {
		var stdout, stderr bytes.Buffer
		assert.Equal(t, exitUsage, run(args, &stdout, &stderr), "%v", args)
		// One line that says what is wrong, not the whole help.
		assert.Regexp(t, `^nfqdump: [^\n]+\n$`, stderr.String(), "%v", args)
		assert.Empty(t, stdout.String())
	}
}

func TestRunHintsAtTheHelpForFlagsItDoesNotKnow(t *testing.T) {
	var stdout, stderr bytes.Buffer
	assert.Equal(t, exitUsage, run([]string{"-X"}, &stdout, &stderr))
	assert.Equal(t, "nfqdump: flag provided but not defined: -X (nfqdump -help lists the flags)\n", stderr.String())
}

func TestRunHelp(t *testing.T) {
	for _, flag := range []string{"-help", "-h", "--help"} {
		var stdout, stderr bytes.Buffer
		assert.Equal(t, exitOK, run([]string{flag}, &stdout, &stderr))
		help := stdout.String()
		assert.Empty(t, stderr.String())
		assert.Contains(t, help, "the iptables or nft rule that sends packets\nto the queue is the filter")
		assert.Contains(t, help, "Exit status:\n  0  ")
		assert.Contains(t, help, "\n  2  bad command line\n")
		for _, f := range []string{"-c, -count n", "-s, -snaplen bytes", "-v, -json", "-n, -nn", "-q\n", "-w file", "-print", "-version", "-queue number"} {
			assert.Contains(t, help, "\n  "+f, "the help lists %s", f)
		}
		// The short names are listed with their flag only.
		assert.NotContains(t, help, "\n  -c\n")
		assert.NotContains(t, help, "\n  -nn\n")
	}
}

func TestRunVersion(t *testing.T) {
	var stdout, stderr bytes.Buffer
	require.Equal(t, exitOK, run([]string{"-version"}, &stdout, &stderr))
	line := stdout.String()
	assert.True(t, strings.HasPrefix(line, "nfqdump "), line)
	assert.Contains(t, line, "module github.com/nfq-go/nfq")
	assert.Contains(t, line, ", go1.")
	assert.Equal(t, 1, strings.Count(line, "\n"))
}
