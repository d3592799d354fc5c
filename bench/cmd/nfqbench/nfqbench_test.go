package main

import (
	"bytes"
	"image/png"
	"strings"
	"testing"

	"github.com/nfq-go/nfq/bench/internal/result"
)

func TestParseQueueCounters(t *testing.T) {
	data := "    3  1234     0 2 65531     0     0       10  1\n    7  5678    45 2 65531     2     9   693504  1\n"
	c, err := parseQueueCounters(data, 7)
	if err != nil {
		t.Fatal(err)
	}
	if want := (result.QueueCounters{Total: 45, Dropped: 2, UserDropped: 9}); c != want {
		t.Errorf("got %+v, want %+v", c, want)
	}
	if c, _ := parseQueueCounters(data, 8); c != (result.QueueCounters{}) {
		t.Errorf("absent queue: got %+v, want zeros", c)
	}
}

func TestDecodeLineRejectsDrift(t *testing.T) {
	var c result.Consumer
	if err := decodeLine("x", `{"consumer":"c-plain","packets":3}`, &c); err != nil || c.Packets != 3 {
		t.Fatalf("good line: %v %+v", err, c)
	}
	if err := decodeLine("x", `{"consumer":"c-plain","pakets":3}`, &c); err == nil {
		t.Error("a misspelt field was accepted")
	}
}

func TestParsePasserSummary(t *testing.T) {
	var c result.Consumer
	line := "passer: 1200 packets seen, 1199 verdicts given (1198 accept, 2 failed), 1 default verdicts, 3 overruns"
	if err := parsePasserSummary(line, &c); err != nil {
		t.Fatal(err)
	}
	if c.Packets != 1198 || c.VerdictErrors != 2 || c.Overruns != 3 {
		t.Errorf("parsed %+v", c)
	}
	if err := parsePasserSummary("passer: queue 3 open", &c); err == nil {
		t.Error("a line that is not the summary was accepted")
	}
}

func TestHelpers(t *testing.T) {
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("median odd = %v", m)
	}
	if m := median([]float64{4, 1, 2, 3}); m != 2.5 {
		t.Errorf("median even = %v", m)
	}
	for max, want := range map[float64]float64{310: 50, 8: 1, 0.9: 0.2, 160: 20} {
		if got := niceStep(max); got != want {
			t.Errorf("niceStep(%v) = %v, want %v", max, got, want)
		}
	}
	if s := thousands(1234567.4); s != "1,234,567" {
		t.Errorf("thousands = %q", s)
	}
}

// TestReport renders a made-up run: the table has a row per consumer with
// ratios to c-plain, and the chart is a PNG.
func TestReport(t *testing.T) {
	mallocs := uint64(3000)
	r := &Run{Consumers: []string{"c-plain", "go-run"}, Settings: Settings{Rounds: 1, Sizes: []int{64}, PingIntervalUs: 2000}}
	for i, name := range r.Consumers {
		c := &result.Consumer{Consumer: name, Packets: 1001, ActiveS: float64(i+1) * 0.01, UserS: 0.001, SysS: 0.004}
		if name == "go-run" {
			c.Mallocs = &mallocs
		}
		r.Samples = append(r.Samples,
			Sample{Round: 1, Kind: kindThroughput, Consumer: name, Size: 64, Result: c,
				Sender: &result.Sender{}, Sink: &result.Sink{Received: 1001}, Kernel: &result.QueueCounters{}},
			Sample{Round: 1, Kind: kindLatency, Consumer: name, Probe: &result.Probe{P50us: 20, P99us: 40}})
	}
	r.Samples = append(r.Samples, Sample{Round: 1, Kind: kindBaseline, Probe: &result.Probe{P50us: 8, P99us: 12}})

	s := summarize(r)
	var md bytes.Buffer
	writeMarkdown(&md, r, s)
	for _, want := range []string{"| c-plain | 100,000 | 1.00× |", "| go-run | 50,000 | 0.50× |", "| 3.00 | 100.00% | 0 / 0 |", "| (no queue: kernel only) | 8.0 |"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, md.String())
		}
	}
	var img bytes.Buffer
	if err := writeChart(&img, r, s); err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(&img); err != nil {
		t.Errorf("chart is not a PNG: %v", err)
	}
}

func TestParseUDPCounters(t *testing.T) {
	data := "Icmp: InMsgs\nIcmp: 3\n" +
		"Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors\n" +
		"Udp: 1819776 0 5 1819780 4 0 0 0 0\nUdpLite: InDatagrams\nUdpLite: 0\n"
	c, err := parseUDPCounters(data)
	if err != nil {
		t.Fatal(err)
	}
	if want := (UDPCounters{InDatagrams: 1819776, RcvbufErrors: 4}); c != want {
		t.Errorf("got %+v, want %+v", c, want)
	}
}
