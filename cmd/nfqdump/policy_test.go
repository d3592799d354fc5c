package main

import (
	"bytes"
	"flag"
	"strings"
	"testing"

	"github.com/nfq-go/nfq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParsePolicy(t *testing.T) {
	tests := []struct {
		verdict, mark string
		want          policy
	}{
		{"accept", "", policy{verdict: nfq.Accept}},
		{"DROP", "", policy{verdict: nfq.Drop}},
		{"accept", "0x10", policy{verdict: nfq.Accept, setMark: true, mark: 16}},
		{"repeat", "7", policy{verdict: nfq.Repeat, setMark: true, mark: 7}},
		{"queue:5", "", policy{verdict: nfq.ToQueue(5, false)}},
		{"queue:65535+bypass", "", policy{verdict: nfq.ToQueue(65535, true)}},
	}
	for _, tt := range tests {
		got, err := parsePolicy(tt.verdict, tt.mark)
		require.NoError(t, err, "%s %s", tt.verdict, tt.mark)
		assert.Equal(t, tt.want, got, "%s %s", tt.verdict, tt.mark)
	}
}

func TestParsePolicyErrorsSayWhatIsWrong(t *testing.T) {
	tests := []struct{ verdict, mark, want string }{
		{"allow", "", "want accept, drop, repeat, queue:N"},
		{"queue:70000", "", "0-65535"},
		{"queue:1+skip", "", "0-65535"},
		{"accept", "-1", "32-bit number"},
		{"accept", "0x100000000", "32-bit number"},
		{"drop", "1", "no effect"},
		{"repeat", "", "needs -mark"},
	}
	for _, tt := range tests {
		_, err := parsePolicy(tt.verdict, tt.mark)
		require.Error(t, err, "%s %s", tt.verdict, tt.mark)
		assert.Contains(t, err.Error(), tt.want)
	}
}

func TestCloseVerdict(t *testing.T) {
	assert.Equal(t, nfq.Drop, policy{verdict: nfq.Drop}.closeVerdict())
	assert.Equal(t, nfq.Accept, policy{verdict: nfq.Repeat, setMark: true}.closeVerdict(),
		"repeat without its mark would loop")
	assert.Equal(t, nfq.ToQueue(3, false), policy{verdict: nfq.ToQueue(3, false)}.closeVerdict())
}

func TestParseFlags(t *testing.T) {
	f, err := parseFlags("gso,uid-gid")
	require.NoError(t, err)
	assert.Equal(t, nfq.FlagGSO|nfq.FlagUIDGID, f)
	f, err = parseFlags("")
	require.NoError(t, err)
	assert.Zero(t, f)
	_, err = parseFlags("gso,fast")
	assert.ErrorContains(t, err, `unknown flag "fast"`)
}

func TestParseOptions(t *testing.T) {
	var out bytes.Buffer
	o, err := parseOptions([]string{"-queue", "7", "-json", "-count", "3", "-stats=false", "-snaplen", "64", "-flags", "gso", "-verdict", "drop"}, &out)
	require.NoError(t, err)
	assert.Equal(t, uint16(7), o.queue)
	assert.True(t, o.json)
	assert.Equal(t, uint64(3), o.count)
	assert.Equal(t, autoBool{set: true, value: false}, o.stats)
	assert.Equal(t, uint32(64), o.snaplen)
	assert.Equal(t, nfq.FlagGSO, o.flags)
	assert.Equal(t, nfq.Drop, o.policy.verdict)

	o, err = parseOptions(nil, &out)
	require.NoError(t, err)
	assert.False(t, o.stats.set, "stats default to auto")
	assert.True(t, o.stats.or(true))
	assert.Equal(t, nfq.Accept, o.policy.verdict)

	_, err = parseOptions([]string{"-stats"}, &out)
	require.NoError(t, err)

	for args, want := range map[string]string{
		"-queue 65536":     "0 to 65535",
		"-snaplen 70000":   "at most 65531",
		"-s 70000":         "at most 65531",
		"-verdict maybe":   "want accept",
		"-nosuchflag":      "not defined",
		"-nv":              "not defined",
		"extra":            "unexpected argument",
		"-print":           "-print goes with -w",
		"-w - -print":      "cannot both go to standard output",
		"-q=maybe":         "want true or false",
		"-c 10 -count -1":  "invalid value",
		"-queue 1 host 10": "the NFQUEUE rule is its filter",
	} {
		_, err := parseOptions(strings.Fields(args), &out)
		assert.ErrorContains(t, err, want, args)
	}

	out.Reset()
	_, err = parseOptions([]string{"-help"}, &out)
	assert.ErrorIs(t, err, flag.ErrHelp)
	assert.Contains(t, out.String(), "-verdict")

	out.Reset()
	_, err = parseOptions([]string{"-nosuchflag"}, &out)
	assert.Error(t, err)
	assert.Empty(t, out.String(), "a bad flag prints no help")
}

func TestParseOptionsTcpdumpSpellings(t *testing.T) {
	var out bytes.Buffer
	o, err := parseOptions([]string{"-c", "10", "-s", "96", "-n", "-nn", "-q", "-v", "-w", "x.pcap", "-print"}, &out)
	require.NoError(t, err)
	assert.Equal(t, uint64(10), o.count)
	assert.Equal(t, uint32(96), o.snaplen)
	assert.Equal(t, autoBool{set: true, value: false}, o.stats, "-q: no live counters")
	assert.True(t, o.json, "-v: every attribute")
	assert.Equal(t, "x.pcap", o.write)
	assert.True(t, o.print)

	// The spellings share their flag's value: the last one given wins.
	o, err = parseOptions([]string{"-snaplen", "64", "-s", "128", "-c", "1", "-count", "2"}, &out)
	require.NoError(t, err)
	assert.Equal(t, uint32(128), o.snaplen)
	assert.Equal(t, uint64(2), o.count)
	o, err = parseOptions([]string{"-q", "-stats"}, &out)
	require.NoError(t, err)
	assert.Equal(t, autoBool{set: true, value: true}, o.stats)

	o, err = parseOptions([]string{"-w", "-"}, &out)
	require.NoError(t, err)
	assert.Equal(t, "-", o.write)
	assert.False(t, o.print)

	o, err = parseOptions([]string{"-version"}, &out)
	require.NoError(t, err)
	assert.True(t, o.version)
}
